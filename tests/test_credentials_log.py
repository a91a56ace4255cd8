"""Neither CREDENTIALS_KEY nor a credential's plaintext reaches PostgreSQL's log (issue 9, point 6).

The test turns on the most verbose statement logging PostgreSQL has — every statement, every
duration, every bind parameter in full, also on errors — for its own (throwaway) database, runs
every credentials path through the real service (CLI set/list/delete/rekey, org_secret, the webhook
authenticated by a clinic's secret, a refused webhook with made-up ids, the supabase-py path through
the PostgREST stand-in, a refused member), then reads what the server wrote to its log and finds
neither the key, nor the key derived from it, nor any secret. The same holds for the service's
own logs and the CLI's output. A marker sent as a bind parameter, and the ciphertexts themselves,
must appear in the server log: proof that the log really captured the parameters.
"""

from __future__ import annotations

import base64
import json
import logging
import time
import uuid
from pathlib import Path

import jwt
import pytest
from psycopg import sql as pgsql

from api.credentials import _derive_key, org_secret, rekey_credentials, store_org_secret
from api.gateway import RpcError, SupabaseGateway
from conftest import SECRET, SUNRISE
from postgrest_standin import JWT_SECRET, PostgrestStandIn, service_role_key
from test_credentials import WEBHOOK, cli, make_app, result_of, tool_call_body

KEY = "log-test-credentials-key-7f3a9c2e"
NEW_KEY = "log-test-rotated-key-51b8d04a"
API_KEY = "sk-log-test-api-key-8c1e4f"
HOOK_SECRET = "whsec-log-test-2d7b90"
SUPABASE_SECRET = "sk-log-test-through-postgrest-66e1"

VERBOSE = {
    "log_statement": "all",
    "log_min_duration_statement": "0",
    "log_parameter_max_length": "-1",
    "log_parameter_max_length_on_error": "-1",
    "log_min_error_statement": "error",
}


def server_log_path(sql) -> Path:
    """Where scripts/localdb.sh sends the server's stderr: <state>/postgres.log next to <state>/data
    (.localdb/ or /var/lib/postgresql/clinic-booking-<hash>/, see its STATE logic)."""
    current = sql("select pg_current_logfile()")[0][0]  # only when logging_collector is on
    if current:
        return Path(sql("select current_setting('data_directory')")[0][0]) / current
    return Path(sql("select current_setting('data_directory')")[0][0]).parent / "postgres.log"


@pytest.fixture
def verbose_server_log(postgresql, sql):
    """Statement logging at its most verbose for this test's database only; reset afterwards (the
    database is dropped after the test anyway, so no other test is slowed). Yields a function that
    returns what the server logged since the fixture began."""
    dbname = postgresql.info.dbname
    for name, value in VERBOSE.items():
        sql(pgsql.SQL("alter database {} set {} = {}").format(
            pgsql.Identifier(dbname), pgsql.Identifier(name), pgsql.Literal(value)))
    path = server_log_path(sql)
    assert path.is_file(), f"the local cluster's server log is not at {path} (scripts/localdb.sh)"
    start = path.stat().st_size

    def logged_since(marker: str) -> str:
        deadline = time.monotonic() + 5
        while True:
            with path.open("rb") as log:
                log.seek(start)
                text = log.read().decode("utf-8", "replace")
            if marker in text or time.monotonic() > deadline:
                return text
            time.sleep(0.05)

    try:
        yield logged_since
    finally:
        sql(pgsql.SQL("alter database {} reset all").format(pgsql.Identifier(dbname)))


def test_neither_the_key_nor_a_secret_reaches_the_server_log(verbose_server_log, database_url, sql, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    app = make_app(database_url, CREDENTIALS_KEY=KEY)
    gateway = app.extensions["deps"].gateway
    outputs = []
    try:
        # set (CLI), list, get
        outputs.append(cli(app, "set", "--org", SUNRISE, "--name", "api_key", input=API_KEY + "\n").output)
        outputs.append(cli(app, "set", "--org", SUNRISE, "--name", "webhook_secret", input=HOOK_SECRET + "\n").output)
        outputs.append(cli(app, "list", "--org", SUNRISE).output)
        assert org_secret(gateway, SUNRISE, "vapi", "api_key", KEY) == API_KEY

        # the webhook authenticated by the clinic's own secret (header and HMAC), and refused
        client = app.test_client()
        assert result_of(client.post(WEBHOOK, json=tool_call_body("asst_sunrise_sarah", tool="checkAvailability"),
                                     headers={"X-Vapi-Secret": HOOK_SECRET}))["success"] is True
        from api.auth import sign

        raw = json.dumps(tool_call_body("asst_sunrise_sarah", tool="checkAvailability", call_id="h")).encode()
        now = int(time.time())
        assert client.post(WEBHOOK, data=raw, content_type="application/json",
                           headers={"x-timestamp": str(now), "x-signature": sign(HOOK_SECRET, raw, now)}).status_code == 200
        assert client.post(WEBHOOK, json=tool_call_body("asst_made_up", phone_number_id="pn_made_up"),
                           headers={"X-Vapi-Secret": HOOK_SECRET + "-wrong"}).status_code == 401

        # rekey (CLI) to the new key, then everything again under it, and delete
        outputs.append(cli(app, "rekey", input=NEW_KEY + "\n").output)
        assert "re-encrypted 2 credential(s)" in outputs[-1]
        assert org_secret(gateway, SUNRISE, "vapi", "webhook_secret", NEW_KEY) == HOOK_SECRET
        app.config["CREDENTIALS_KEY"] = NEW_KEY
        outputs.append(cli(app, "rekey", input=KEY + "\n").output)  # and back, so the old key is a parameter twice
        app.config["CREDENTIALS_KEY"] = KEY
        outputs.append(cli(app, "delete", "--org", SUNRISE, "--name", "api_key").output)

        # the supabase-py path (PostgREST passes the arguments as one JSON parameter), and a refused member
        with PostgrestStandIn(database_url) as standin:
            service = SupabaseGateway(standin.url, service_role_key())
            store_org_secret(service, SUNRISE, "vapi", "api_key", SUPABASE_SECRET, KEY)
            assert org_secret(service, SUNRISE, "vapi", "api_key", KEY) == SUPABASE_SECRET
            assert rekey_credentials(service, KEY, NEW_KEY) == 2
            member = jwt.encode({"role": "authenticated", "sub": "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
                                 "exp": 4102444800}, JWT_SECRET, "HS256")
            with pytest.raises(RpcError):
                org_secret(SupabaseGateway(standin.url, member), SUNRISE, "vapi", "api_key", NEW_KEY)

        marker = str(uuid.uuid4())  # a bind parameter the log must show, sent last
        gateway.rpc("get_org_profile", {"p_org_id": marker})
    finally:
        gateway.close()

    server_log = verbose_server_log(marker)
    ciphertexts = [row[0] for row in sql("select ciphertext from public.org_credentials")]

    # The log really holds our statements and their parameters ...
    assert marker in server_log, "the server log did not capture bind parameters"
    for statement in ("set_org_credential", "get_org_credential", "list_org_credentials", "delete_org_credential",
                      "vapi_webhook_secret_index", "list_org_credential_ciphertexts", "rekey_org_credentials",
                      "json_to_record"):
        assert statement in server_log, statement
    assert ciphertexts and all(c in server_log for c in ciphertexts), "ciphertexts are what crosses, and they are logged"
    # ... and none of these.
    derived = [_derive_key(KEY), _derive_key(NEW_KEY)]
    forbidden = [KEY, NEW_KEY, API_KEY, HOOK_SECRET, SUPABASE_SECRET,
                 *(d.hex() for d in derived), *(base64.b64encode(d).decode() for d in derived)]
    for value in forbidden:
        assert value not in server_log, "a key or a secret reached the server log"

    # Nor do they reach the service's own logs or the CLI's output.
    captured = capfd.readouterr()
    service_log = "\n".join([*(r.getMessage() + repr(r.args) + repr(getattr(r, "event_fields", None))
                               for r in caplog.records), captured.out, captured.err, *outputs])
    assert "rpc.call" in service_log
    for value in forbidden:
        assert value not in service_log, "a key or a secret reached the service's log or output"


def test_the_log_check_would_see_a_key_sent_as_a_parameter(verbose_server_log, database_url):
    """The control for the test above: had the service sent the key as a bind parameter (as the
    pgcrypto design did, `p_encryption_key`), the same reading of the log would have found it."""
    app = make_app(database_url, CREDENTIALS_KEY=KEY)
    gateway = app.extensions["deps"].gateway
    try:
        with pytest.raises(RpcError):  # no such argument any more: the call fails, and is logged
            gateway.rpc("get_org_credential", {"p_org_id": SUNRISE, "p_provider": "vapi", "p_name": "api_key",
                                               "p_encryption_key": KEY})
        gateway.rpc("get_org_credential", {"p_org_id": SUNRISE, "p_provider": "vapi", "p_name": KEY})
    finally:
        gateway.close()
    assert KEY in verbose_server_log(KEY)
