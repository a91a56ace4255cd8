"""Per-clinic credentials end to end: the service-side cipher, the CLI, org_secret, rekey and the
per-org webhook secrets, on a real database (table path; the Vault branch of the SQL is covered by
supabase/tests/16_credentials.sql). What reaches the server log: tests/test_credentials_log.py."""

from __future__ import annotations

import json
import logging
import time

import pytest

from api.auth import sign
from api.credentials import (CredentialCipher, CredentialError, WebhookSecretCache, org_secret,
                             rekey_credentials, store_org_secret)
from api.gateway import RpcError
from conftest import BAYVIEW, SECRET, SUNRISE, next_open_day

WEBHOOK = "/api/vapi/webhook"
KEY = "test-credentials-key-0123456789"
SUNRISE_HOOK_SECRET = "whsec-sunrise-6f1d2c"
BAYVIEW_HOOK_SECRET = "whsec-bayview-93ab07"


def make_app(database_url, **config):
    from api import create_app

    return create_app({"TESTING": True, "APP_ENV": "test", "VAPI_SECRET": SECRET, "DATABASE_URL": database_url,
                       "DB_POOL_MAX": 4, "CREDENTIALS_KEY": KEY, **config})


@pytest.fixture
def cred_app(database_url):
    app = make_app(database_url)
    yield app
    app.extensions["deps"].gateway.close()


def cli(app, *args, input=None):
    return app.test_cli_runner().invoke(args=["credentials", *args], input=input)


def gateway(app):
    return app.extensions["deps"].gateway


def store(app, org, name, secret, key=KEY):
    assert store_org_secret(gateway(app), org, "vapi", name, secret, key)["success"] is True


def stored_ciphertext(sql, org, name):
    return sql("select ciphertext from public.org_credentials where org_id = %s and name = %s", [org, name])[0][0]


class SpyGateway:
    """The real gateway, counting calls by RPC name; `failing` makes every call an RpcError."""

    def __init__(self, inner):
        self.inner = inner
        self.calls: list[str] = []
        self.replies: list[dict] = []
        self.failing = False

    def rpc(self, name, params):
        self.calls.append(name)
        if self.failing:
            raise RpcError(f"{name} failed: test")
        reply = self.inner.rpc(name, params)
        self.replies.append(reply)
        return reply

    def count(self, name):
        return self.calls.count(name)

    def close(self):
        self.inner.close()


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


# --- the cipher ------------------------------------------------------------------------------------

def test_cipher_round_trip_is_randomized_versioned_and_bound_to_its_row():
    cipher = CredentialCipher(KEY)
    one = cipher.encrypt(SUNRISE, "vapi", "api_key", "sk-ü-secret")
    two = cipher.encrypt(SUNRISE, "vapi", "api_key", "sk-ü-secret")
    assert one.startswith("v1:") and two.startswith("v1:") and one != two  # random nonce per encryption
    assert "sk-" not in one and KEY not in one
    assert cipher.decrypt(SUNRISE, "vapi", "api_key", one) == "sk-ü-secret"
    assert CredentialCipher(KEY).decrypt(SUNRISE, "vapi", "api_key", two) == "sk-ü-secret"  # same key, new object
    # Associated data: the same ciphertext under another org, provider or name does not decrypt.
    for org, provider, name in ((BAYVIEW, "vapi", "api_key"), (SUNRISE, "vapi", "webhook_secret"),
                                (SUNRISE, "twilio", "api_key")):
        with pytest.raises(CredentialError) as swapped:
            cipher.decrypt(org, provider, name, one)
        assert swapped.value.code == "decryption_failed"
    # Wrong key, a flipped bit, a truncated or unknown format: decryption_failed, never an exception leak.
    flipped = one[:-2] + ("A" if one[-2] != "A" else "B") + one[-1]
    for key, text in ((KEY[::-1], one), (KEY, flipped), (KEY, one[:20]), (KEY, "v2:" + one[3:]), (KEY, "sk-plain")):
        with pytest.raises(CredentialError) as failed:
            CredentialCipher(key).decrypt(SUNRISE, "vapi", "api_key", text)
        assert failed.value.code == "decryption_failed"
    assert KEY not in repr(cipher) and KEY not in repr(cipher.__dict__)


@pytest.mark.parametrize("key, code", [(None, "encryption_key_required"), ("   ", "encryption_key_required"),
                                       ("short-key", "weak_encryption_key")])
def test_cipher_refuses_a_missing_or_weak_key(key, code):
    with pytest.raises(CredentialError) as refused:
        CredentialCipher(key)
    assert refused.value.code == code


# --- CLI -----------------------------------------------------------------------------------------

def test_set_reads_stdin_strips_one_newline_and_never_prints_the_value(cred_app, sql):
    result = cli(cred_app, "set", "--org", SUNRISE, "--provider", "vapi", input="sk-live-abc\n")
    assert result.exit_code == 0, result.output
    assert "stored vapi/api_key" in result.output and "(table," in result.output
    assert "sk-live-abc" not in result.output
    assert org_secret(gateway(cred_app), SUNRISE, "vapi", "api_key", KEY) == "sk-live-abc"
    ciphertext = stored_ciphertext(sql, SUNRISE, "api_key")
    assert ciphertext.startswith("v1:") and "sk-live-abc" not in ciphertext

    # Only one trailing newline is the line ending; a second is part of the secret. CRLF too.
    assert cli(cred_app, "set", "--org", SUNRISE, "--name", "webhook_secret", input="two\n\n").exit_code == 0
    assert org_secret(gateway(cred_app), SUNRISE, "vapi", "webhook_secret", KEY) == "two\n"
    assert cli(cred_app, "set", "--org", SUNRISE, "--name", "webhook_secret", input="crlf\r\n").exit_code == 0
    assert org_secret(gateway(cred_app), SUNRISE, "vapi", "webhook_secret", KEY) == "crlf"
    # A padded, upper-case provider/name is stored (and bound) under its canonical spelling.
    assert cli(cred_app, "set", "--org", SUNRISE, "--provider", " VAPI ", "--name", "API_KEY", input="sk-2\n").exit_code == 0
    assert org_secret(gateway(cred_app), SUNRISE, "vapi", "api_key", KEY) == "sk-2"


@pytest.mark.parametrize("stdin, expected", [("", "invalid_input: secret is blank"), ("\n", "invalid_input: secret is blank"),
                                             ("   \n", "invalid_input: secret is blank"),
                                             ("x" * 4097, "invalid_input: secret is longer than 4096 characters")])
def test_set_refuses_an_empty_or_overlong_secret_and_writes_nothing(cred_app, sql, stdin, expected):
    result = cli(cred_app, "set", "--org", SUNRISE, "--provider", "vapi", input=stdin)
    assert result.exit_code == 1
    assert expected in result.output
    assert sql("select count(*) from public.org_credentials")[0][0] == 0


def test_a_4096_character_secret_fits(cred_app):
    secret = "é" * 4096  # 8 KB in UTF-8: the SQL bound on the ciphertext leaves room for it
    assert cli(cred_app, "set", "--org", SUNRISE, input=secret).exit_code == 0
    assert org_secret(gateway(cred_app), SUNRISE, "vapi", "api_key", KEY) == secret


@pytest.mark.parametrize("args, expected", [
    (["--org", SUNRISE, "--provider", "twilio"], "unknown provider 'twilio' (known: vapi)"),
    (["--org", SUNRISE, "--name", "password"], "unknown credential 'password' for vapi (known: api_key, webhook_secret)"),
    (["--org", "99999999-9999-4999-8999-999999999999"], "unknown_org"),
])
def test_set_refusals_are_precise_and_write_nothing(cred_app, sql, args, expected):
    result = cli(cred_app, "set", *args, input="sk-x\n")
    assert result.exit_code == 1 and expected in result.output
    assert sql("select count(*) from public.org_credentials")[0][0] == 0


def test_set_with_a_malformed_org_id_is_a_usage_error(cred_app):
    result = cli(cred_app, "set", "--org", "sunrise", input="sk-x\n")
    assert result.exit_code == 2 and "must be an org id" in result.output


@pytest.mark.parametrize("key, expected", [("", "encryption_key_required"), ("short", "weak_encryption_key")])
def test_without_a_usable_credentials_key_set_is_refused_clearly(database_url, sql, key, expected):
    app = make_app(database_url, CREDENTIALS_KEY=key)
    try:
        result = cli(app, "set", "--org", SUNRISE, input="sk-x\n")
    finally:
        gateway(app).close()
    assert result.exit_code == 1 and expected in result.output
    if not key:
        assert "CREDENTIALS_KEY" in result.output
    assert sql("select count(*) from public.org_credentials")[0][0] == 0


def test_list_shows_existence_never_values_and_delete_removes(cred_app, sql):
    assert "no credentials stored" in cli(cred_app, "list", "--org", BAYVIEW).output
    store(cred_app, BAYVIEW, "api_key", "sk-bayview-secret")
    store(cred_app, BAYVIEW, "webhook_secret", BAYVIEW_HOOK_SECRET)
    listed = cli(cred_app, "list", "--org", BAYVIEW)
    assert listed.exit_code == 0
    lines = [line.split("\t")[:3] for line in listed.output.splitlines()]
    assert lines == [["vapi", "api_key", "table"], ["vapi", "webhook_secret", "table"]]
    assert "sk-bayview-secret" not in listed.output and BAYVIEW_HOOK_SECRET not in listed.output
    assert "v1:" not in listed.output

    deleted = cli(cred_app, "delete", "--org", BAYVIEW, "--name", "api_key")
    assert deleted.exit_code == 0 and "deleted vapi/api_key" in deleted.output
    assert cli(cred_app, "delete", "--org", BAYVIEW, "--name", "api_key").exit_code == 1
    assert org_secret(gateway(cred_app), BAYVIEW, "vapi", "api_key", KEY) is None


def test_a_nul_character_is_refused_before_the_database(cred_app, sql):
    result = cli(cred_app, "set", "--org", SUNRISE, input="sk-\x00-x\n")
    assert result.exit_code == 1 and "NUL character" in result.output
    assert sql("select count(*) from public.org_credentials")[0][0] == 0
    with pytest.raises(CredentialError, match="NUL"):
        store_org_secret(gateway(cred_app), SUNRISE, "vapi", "api_key", "a\x00b", KEY)


# --- org_secret ------------------------------------------------------------------------------------

def test_org_secret_round_trip_absent_wrong_key_and_swapped_rows(cred_app, sql):
    assert org_secret(gateway(cred_app), SUNRISE, "vapi", "api_key", KEY) is None
    assert org_secret(gateway(cred_app), SUNRISE, "vapi", "api_key", None) is None  # nothing to decrypt
    store(cred_app, SUNRISE, "api_key", "sk-sunrise-1")
    assert org_secret(gateway(cred_app), SUNRISE, "vapi", "api_key", KEY) == "sk-sunrise-1"
    assert org_secret(gateway(cred_app), BAYVIEW, "vapi", "api_key", KEY) is None  # per org
    with pytest.raises(CredentialError) as wrong:
        org_secret(gateway(cred_app), SUNRISE, "vapi", "api_key", "another-key-0123456789")
    assert wrong.value.code == "decryption_failed"
    with pytest.raises(CredentialError) as missing:
        org_secret(gateway(cred_app), SUNRISE, "vapi", "api_key", None)
    assert missing.value.code == "encryption_key_required"

    # Someone with write access to the table copies Sunrise's ciphertext into Bayview's row, or
    # into Sunrise's webhook secret: it is bound to its own row and does not decrypt there.
    store(cred_app, BAYVIEW, "api_key", "sk-bayview-1")
    store(cred_app, SUNRISE, "webhook_secret", SUNRISE_HOOK_SECRET)
    sql("update public.org_credentials set ciphertext = %s where org_id = %s and name = 'api_key'",
        [stored_ciphertext(sql, SUNRISE, "api_key"), BAYVIEW])
    sql("update public.org_credentials set ciphertext = %s where org_id = %s and name = 'webhook_secret'",
        [stored_ciphertext(sql, SUNRISE, "api_key"), SUNRISE])
    for org, name in ((BAYVIEW, "api_key"), (SUNRISE, "webhook_secret")):
        with pytest.raises(CredentialError) as swapped:
            org_secret(gateway(cred_app), org, "vapi", name, KEY)
        assert swapped.value.code == "decryption_failed"


# --- rekey -----------------------------------------------------------------------------------------

def test_rekey_rotates_the_key_all_or_nothing(cred_app, sql):
    store(cred_app, SUNRISE, "api_key", "sk-sunrise-rotate")
    store(cred_app, BAYVIEW, "api_key", "sk-bayview-rotate")
    before = sql("select org_id, ciphertext from public.org_credentials order by org_id")
    new_key = "rotated-key-abcdef0123456789"
    for stdin, expected in (("short\n", "weak_encryption_key: The new key must be at least 16 characters"),
                            ("\n", "encryption_key_required: No new key was given on stdin"),
                            (KEY + "\n", "invalid_input: The new key is the same as the old key")):
        refused = cli(cred_app, "rekey", input=stdin)
        assert refused.exit_code == 1 and expected in refused.output, refused.output
    assert sql("select org_id, ciphertext from public.org_credentials order by org_id") == before

    rotated = cli(cred_app, "rekey", input=new_key + "\n")
    assert rotated.exit_code == 0 and "re-encrypted 2 credential(s)" in rotated.output
    assert new_key not in rotated.output
    after = sql("select org_id, ciphertext from public.org_credentials order by org_id")
    assert all(a[1] != b[1] and a[1].startswith("v1:") for a, b in zip(after, before))
    assert org_secret(gateway(cred_app), BAYVIEW, "vapi", "api_key", new_key) == "sk-bayview-rotate"
    with pytest.raises(CredentialError):
        org_secret(gateway(cred_app), BAYVIEW, "vapi", "api_key", KEY)

    # The service still configured with the old key cannot rekey again: nothing decrypts with it.
    again = cli(cred_app, "rekey", input="yet-another-key-0123456789\n")
    assert again.exit_code == 1 and "decryption_failed" in again.output and "nothing was changed" in again.output
    assert sql("select org_id, ciphertext from public.org_credentials order by org_id") == after
    assert org_secret(gateway(cred_app), SUNRISE, "vapi", "api_key", new_key) == "sk-sunrise-rotate"


def test_rekey_stops_at_the_first_row_that_does_not_decrypt_and_names_it(cred_app, sql):
    store(cred_app, SUNRISE, "api_key", "sk-sunrise")
    store(cred_app, BAYVIEW, "api_key", "sk-bayview", key="a-different-key-0123456789")
    before = sql("select org_id, ciphertext, updated_at from public.org_credentials order by org_id")
    result = cli(cred_app, "rekey", input="rotated-key-abcdef0123456789\n")
    assert result.exit_code == 1
    assert (f"decryption_failed: org {BAYVIEW} vapi/api_key does not decrypt with the current key "
            "(CREDENTIALS_KEY); nothing was changed") in result.output
    assert sql("select org_id, ciphertext, updated_at from public.org_credentials order by org_id") == before


def test_rekey_refuses_when_a_credential_changes_meanwhile(cred_app, sql):
    store(cred_app, SUNRISE, "api_key", "sk-sunrise")
    spy = SpyGateway(gateway(cred_app))
    inner_rpc = spy.rpc

    def rpc(name, params):
        if name == "rekey_org_credentials":  # someone sets a credential between the read and the write
            store(cred_app, BAYVIEW, "webhook_secret", BAYVIEW_HOOK_SECRET)
        return inner_rpc(name, params)

    spy.rpc = rpc
    with pytest.raises(CredentialError) as changed:
        rekey_credentials(spy, KEY, "rotated-key-abcdef0123456789")
    assert changed.value.code == "credentials_changed" and BAYVIEW in changed.value.message
    assert org_secret(gateway(cred_app), SUNRISE, "vapi", "api_key", KEY) == "sk-sunrise"
    assert spy.calls == ["list_org_credential_ciphertexts", "rekey_org_credentials"]  # one read, one write


def test_rekey_with_nothing_stored(cred_app):
    result = cli(cred_app, "rekey", input="rotated-key-abcdef0123456789\n")
    assert result.exit_code == 0 and "re-encrypted 0 credential(s)" in result.output


# --- webhook: per-org secrets ------------------------------------------------------------------------

def tool_call_body(assistant_id, *, claim=None, tool="bookClinicAppointment", time_text="10:00", call_id="c-1",
                   phone_number_id=None):
    arguments = {"appointmentDate": next_open_day().isoformat(), "appointmentTime": time_text,
                 "patientName": "Per Org", "patientPhone": "+14155550142"}
    message = {
        "type": "tool-calls",
        "toolCallList": [{"id": f"tc-{call_id}", "type": "function",
                          "function": {"name": tool, "arguments": arguments}}],
        "call": {"id": call_id, "customer": {"number": "+14155550142"}},
        "assistant": {"id": assistant_id},
    }
    if phone_number_id:
        message["call"]["phoneNumberId"] = phone_number_id
    if claim:
        message["customer"] = {"number": "+14155550142", "metadata": {"org_id": claim}}
    return {"message": message}


def appointments(sql, org):
    return sql("select count(*) from public.appointments where org_id = %s", [org])[0][0]


def result_of(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_json()["results"][0]["result"])


def test_clinic_secret_is_accepted_for_its_own_assistant_only(cred_app, sql):
    store(cred_app, SUNRISE, "webhook_secret", SUNRISE_HOOK_SECRET)
    client = cred_app.test_client()

    own = client.post(WEBHOOK, json=tool_call_body("asst_sunrise_sarah"), headers={"X-Vapi-Secret": SUNRISE_HOOK_SECRET})
    assert result_of(own)["success"] is True
    assert appointments(sql, SUNRISE) == 1

    other = client.post(WEBHOOK, json=tool_call_body("asst_bayview_marcy", call_id="c-2"),
                        headers={"X-Vapi-Secret": SUNRISE_HOOK_SECRET})
    assert other.status_code == 401 and other.get_json()["error"] == "unauthorized"
    assert appointments(sql, BAYVIEW) == 0

    # A claim is not a mapping: without an assistant id the clinic secret proves nothing.
    claim_only = client.post(WEBHOOK, json=tool_call_body(None, claim=SUNRISE, call_id="c-3", time_text="11:00"),
                             headers={"X-Vapi-Secret": SUNRISE_HOOK_SECRET})
    assert claim_only.status_code == 401
    assert appointments(sql, SUNRISE) == 1


def test_clinic_secret_works_as_bearer_and_hmac_and_the_global_secret_still_works(cred_app, sql):
    store(cred_app, SUNRISE, "webhook_secret", SUNRISE_HOOK_SECRET)
    client = cred_app.test_client()
    bearer = client.post(WEBHOOK, json=tool_call_body("asst_sunrise_sarah", call_id="b", time_text="10:00"),
                         headers={"Authorization": f"Bearer {SUNRISE_HOOK_SECRET}"})
    assert result_of(bearer)["success"] is True

    raw = json.dumps(tool_call_body("asst_sunrise_sarah", call_id="h", time_text="11:00")).encode()
    now = int(time.time())
    signed = client.post(WEBHOOK, data=raw, content_type="application/json",
                         headers={"x-timestamp": str(now), "x-signature": sign(SUNRISE_HOOK_SECRET, raw, now)})
    assert result_of(signed)["success"] is True

    global_secret = client.post(WEBHOOK, json=tool_call_body("asst_bayview_marcy", call_id="g"),
                                headers={"X-Vapi-Secret": SECRET})
    assert result_of(global_secret)["success"] is True
    assert (appointments(sql, SUNRISE), appointments(sql, BAYVIEW)) == (2, 1)


@pytest.mark.parametrize("key", ["", "short", "another-key-0123456789"])
def test_without_the_right_credentials_key_the_per_org_path_is_unavailable_not_an_error(database_url, cred_app, sql,
                                                                                          key):
    store(cred_app, SUNRISE, "webhook_secret", SUNRISE_HOOK_SECRET)
    app = make_app(database_url, CREDENTIALS_KEY=key)
    try:
        client = app.test_client()
        refused = client.post(WEBHOOK, json=tool_call_body("asst_sunrise_sarah"),
                              headers={"X-Vapi-Secret": SUNRISE_HOOK_SECRET})
        assert refused.status_code == 401
        accepted = client.post(WEBHOOK, json=tool_call_body("asst_sunrise_sarah"), headers={"X-Vapi-Secret": SECRET})
        assert result_of(accepted)["success"] is True
    finally:
        gateway(app).close()
    assert appointments(sql, SUNRISE) == 1


def test_database_down_means_401_not_500():
    from api import create_app

    app = create_app({"APP_ENV": "test", "VAPI_SECRET": SECRET, "RPC_TIMEOUT_MS": 1000, "CREDENTIALS_KEY": KEY,
                      "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/postgres?connect_timeout=1"})
    app.extensions["deps"].gateway._pool.timeout = 1.0
    try:
        response = app.test_client().post(
            WEBHOOK, json=tool_call_body("asst_sunrise_sarah"), headers={"X-Vapi-Secret": SUNRISE_HOOK_SECRET})
    finally:
        gateway(app).close()
    assert response.status_code == 401


def test_tool_calls_act_only_for_the_org_whose_secret_authenticated_the_request(cred_app, sql):
    store(cred_app, SUNRISE, "webhook_secret", SUNRISE_HOOK_SECRET)
    clock = Clock()
    cred_app.extensions["org_webhook_secrets"] = WebhookSecretCache(gateway(cred_app), 60, KEY, timer=clock)
    client = cred_app.test_client()
    first = client.post(WEBHOOK, json=tool_call_body("asst_sunrise_sarah", tool="checkAvailability"),
                        headers={"X-Vapi-Secret": SUNRISE_HOOK_SECRET})
    assert result_of(first)["success"] is True  # Sunrise's secret is now cached for this assistant
    # The assistant is re-mapped to Bayview while the secret index (for up to a second) still says Sunrise.
    sql("update public.vapi_assistants set org_id = %s where assistant_id = 'asst_sunrise_sarah'", [BAYVIEW])
    cred_app.extensions["deps"].profiles.clear()
    moved = client.post(WEBHOOK, json=tool_call_body("asst_sunrise_sarah", call_id="c-9"),
                        headers={"X-Vapi-Secret": SUNRISE_HOOK_SECRET})
    assert result_of(moved)["error"] == "unknown_org"
    clock.now += 1.0  # a second later the index knows: Bayview has no secret, Sunrise's proves nothing
    later = client.post(WEBHOOK, json=tool_call_body("asst_sunrise_sarah", call_id="c-10"),
                        headers={"X-Vapi-Secret": SUNRISE_HOOK_SECRET})
    assert later.status_code == 401
    assert appointments(sql, BAYVIEW) == 0 and appointments(sql, SUNRISE) == 0


# --- the webhook secret cache: no database call per unknown id, changes within a second ------------

@pytest.fixture
def spied(cred_app):
    """cred_app whose webhook secret cache runs on a spy gateway and a hand-moved clock."""
    spy, clock = SpyGateway(gateway(cred_app)), Clock()
    cache = WebhookSecretCache(spy, 60, KEY, timer=clock)
    cred_app.extensions["org_webhook_secrets"] = cache
    return cred_app, spy, clock, cache


def test_junk_ids_cost_no_database_call_and_cannot_flush_the_cache(spied, sql):
    app, spy, clock, cache = spied
    store(app, SUNRISE, "webhook_secret", SUNRISE_HOOK_SECRET)
    store(app, BAYVIEW, "webhook_secret", BAYVIEW_HOOK_SECRET)
    client = app.test_client()
    assert result_of(client.post(WEBHOOK, json=tool_call_body("asst_sunrise_sarah", tool="checkAvailability"),
                                 headers={"X-Vapi-Secret": SUNRISE_HOOK_SECRET}))["success"] is True
    assert (spy.count("vapi_webhook_secret_index"), spy.count("get_org_credential")) == (1, 1)

    # Made-up ids with a wrong credential through the webhook, then 5,000 more straight at the cache
    # (more than its bound of 4,096), over five seconds.
    for n in range(200):
        junk = client.post(WEBHOOK, json=tool_call_body(f"asst_junk_{n}", phone_number_id=f"pn_junk_{n}"),
                           headers={"X-Vapi-Secret": "guess"})
        assert junk.status_code == 401
    for n in range(5000):
        if n % 1000 == 0:
            clock.now += 1.0  # the index may be re-read once a second: no more often
        assert cache.get(f"asst_junk_{n}", f"pn_junk_{n}") is None
    assert spy.count("get_org_credential") == 1, "no secret lookup for ids that are not mapped"
    assert spy.count("vapi_webhook_secret_index") == 1 + 5, "at most one index read per second, whatever the ids"
    assert all(r.get("unchanged") for r in spy.replies[2:]), "an unchanged index comes back as a short reply"

    # Sunrise's secret was not pushed out: the next real request needs no lookup.
    again = client.post(WEBHOOK, json=tool_call_body("asst_sunrise_sarah", tool="checkAvailability", call_id="c-2"),
                        headers={"X-Vapi-Secret": SUNRISE_HOOK_SECRET})
    assert result_of(again)["success"] is True
    assert spy.count("get_org_credential") == 1
    # A mapped id of a clinic WITHOUT a secret costs nothing either.
    sql("delete from public.org_credentials where org_id = %s", [BAYVIEW])
    clock.now += 1.0
    calls = len(spy.calls)
    for n in range(50):
        assert client.post(WEBHOOK, json=tool_call_body("asst_bayview_marcy", call_id=f"b-{n}"),
                           headers={"X-Vapi-Secret": BAYVIEW_HOOK_SECRET}).status_code == 401
    assert spy.calls[calls:] == ["vapi_webhook_secret_index"]


def test_a_new_secret_takes_effect_within_a_second_not_after_the_ttl(spied):
    app, spy, clock, cache = spied
    store(app, SUNRISE, "webhook_secret", "whsec-old-000000")
    client = app.test_client()

    def status(secret, call_id):
        return client.post(WEBHOOK, json=tool_call_body("asst_sunrise_sarah", tool="checkAvailability", call_id=call_id),
                           headers={"X-Vapi-Secret": secret}).status_code

    assert status("whsec-old-000000", "a") == 200
    assert cli(app, "set", "--org", SUNRISE, "--name", "webhook_secret", input="whsec-new-111111\n").exit_code == 0
    clock.now += 1.0  # not the 60 s TTL
    assert status("whsec-new-111111", "b") == 200
    assert status("whsec-old-000000", "c") == 401  # the old one stops working at the same moment
    assert spy.count("get_org_credential") == 2  # read once per version

    # A deleted secret stops working as quickly.
    assert cli(app, "delete", "--org", SUNRISE, "--name", "webhook_secret").exit_code == 0
    clock.now += 1.0
    assert status("whsec-new-111111", "d") == 401



def test_a_new_mapping_takes_effect_within_a_second(spied, sql):
    app, spy, clock, cache = spied
    store(app, BAYVIEW, "webhook_secret", BAYVIEW_HOOK_SECRET)
    client = app.test_client()
    body = tool_call_body("asst_bayview_second", tool="checkAvailability")
    assert client.post(WEBHOOK, json=body, headers={"X-Vapi-Secret": BAYVIEW_HOOK_SECRET}).status_code == 401
    sql("insert into public.vapi_assistants (org_id, assistant_id) values (%s, 'asst_bayview_second')", [BAYVIEW])
    app.extensions["deps"].profiles.clear()
    clock.now += 1.0
    assert result_of(client.post(WEBHOOK, json=body, headers={"X-Vapi-Secret": BAYVIEW_HOOK_SECRET}))["success"] is True


def test_the_phone_number_id_finds_the_clinic_when_the_assistant_is_unknown(spied):
    app, spy, clock, cache = spied
    store(app, SUNRISE, "webhook_secret", SUNRISE_HOOK_SECRET)
    found = cache.get("asst_transient_123", " pn_sunrise_main ")
    assert found is not None and found.org_id == SUNRISE and found.secret == SUNRISE_HOOK_SECRET
    assert cache.get("asst_sunrise_sarah", "pn_junk").org_id == SUNRISE
    assert cache.get(None, None) is None and cache.get("", "  ") is None
    assert spy.count("get_org_credential") == 1


def test_database_trouble_uses_the_last_index_for_the_ttl_then_none_and_never_raises(cred_app):
    store(cred_app, SUNRISE, "webhook_secret", SUNRISE_HOOK_SECRET)
    spy, clock = SpyGateway(gateway(cred_app)), Clock()
    cache = WebhookSecretCache(spy, 5, KEY, timer=clock)
    assert cache.get("asst_sunrise_sarah", None).secret == SUNRISE_HOOK_SECRET
    spy.failing = True
    clock.now += 2.0
    assert cache.get("asst_sunrise_sarah", None).secret == SUNRISE_HOOK_SECRET  # the last good index, 2 s old
    clock.now += 4.0
    assert cache.get("asst_sunrise_sarah", None) is None  # 6 s > ttl: no longer trusted
    spy.failing = False
    clock.now += 1.0
    assert cache.get("asst_sunrise_sarah", None).secret == SUNRISE_HOOK_SECRET


def test_a_secret_that_does_not_decrypt_is_logged_once_per_version(cred_app, sql, caplog):
    store(cred_app, SUNRISE, "webhook_secret", SUNRISE_HOOK_SECRET, key="a-different-key-0123456789")
    spy, clock = SpyGateway(gateway(cred_app)), Clock()
    cache = WebhookSecretCache(spy, 60, KEY, timer=clock)
    caplog.set_level(logging.INFO)
    for _ in range(20):
        assert cache.get("asst_sunrise_sarah", None) is None
    assert spy.count("get_org_credential") == 1
    unavailable = [r.event_fields for r in caplog.records if getattr(r, "event_fields", {}).get("event") == "credentials.unavailable"]
    assert unavailable == [{"event": "credentials.unavailable", "error": "decryption_failed", "orgId": SUNRISE}]


def test_without_a_key_the_cache_asks_nothing(cred_app):
    spy = SpyGateway(gateway(cred_app))
    cache = WebhookSecretCache(spy, 60, None)
    assert cache.get("asst_sunrise_sarah", "pn_sunrise_main") is None
    assert spy.calls == []


# --- nothing secret in logs or output ----------------------------------------------------------------

def test_secrets_and_the_key_never_reach_logs(cred_app, sql, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    api_key = "sk-never-logged-5d2e"
    new_key = "rotated-never-logged-0123456789"
    outputs = [cli(cred_app, "set", "--org", SUNRISE, input=api_key + "\n").output,
               cli(cred_app, "set", "--org", SUNRISE, "--name", "webhook_secret", input=SUNRISE_HOOK_SECRET).output,
               cli(cred_app, "set", "--org", SUNRISE, "--name", "nope", input=api_key).output,
               cli(cred_app, "list", "--org", SUNRISE).output]
    assert org_secret(gateway(cred_app), SUNRISE, "vapi", "api_key", KEY) == api_key
    with pytest.raises(CredentialError):
        org_secret(gateway(cred_app), SUNRISE, "vapi", "api_key", KEY[::-1])
    client = cred_app.test_client()
    assert client.post(WEBHOOK, json=tool_call_body("asst_sunrise_sarah"),
                       headers={"X-Vapi-Secret": SUNRISE_HOOK_SECRET}).status_code == 200
    assert client.post(WEBHOOK, json=tool_call_body("asst_bayview_marcy"),
                       headers={"X-Vapi-Secret": SUNRISE_HOOK_SECRET}).status_code == 401
    outputs.append(cli(cred_app, "rekey", input=new_key + "\n").output)
    cred_app.config["CREDENTIALS_KEY"] = new_key
    outputs.append(cli(cred_app, "rekey", input=KEY[::-1] + "\n").output)  # and back: the key appears in neither

    events = {getattr(r, "event_fields", {}).get("event") for r in caplog.records}
    assert {"rpc.call", "auth.failed"} <= events  # the capture did see the gateway and the webhook
    captured = capfd.readouterr()
    logged = "\n".join([*(r.getMessage() + repr(r.args) + repr(getattr(r, "event_fields", None))
                          for r in caplog.records), captured.out, captured.err, *outputs])
    for secret in (api_key, SUNRISE_HOOK_SECRET, KEY, KEY[::-1], new_key):
        assert secret not in logged


def test_the_supabase_path_reaches_credentials_as_service_role_only(database_url, sql):
    import jwt

    from api.gateway import SupabaseGateway
    from postgrest_standin import JWT_SECRET, PostgrestStandIn, anon_key, service_role_key

    member_key = jwt.encode({"role": "authenticated", "sub": "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
                             "exp": 4102444800}, JWT_SECRET, "HS256")
    with PostgrestStandIn(database_url) as standin:
        service = SupabaseGateway(standin.url, service_role_key())
        stored = store_org_secret(service, SUNRISE, "vapi", "api_key", "sk-through-postgrest", KEY)
        assert stored["success"] is True and "ciphertext" not in stored
        assert org_secret(service, SUNRISE, "vapi", "api_key", KEY) == "sk-through-postgrest"
        store_org_secret(service, SUNRISE, "vapi", "webhook_secret", SUNRISE_HOOK_SECRET, KEY)
        assert WebhookSecretCache(service, 60, KEY).get("asst_sunrise_sarah", None).secret == SUNRISE_HOOK_SECRET
        assert rekey_credentials(service, KEY, "rotated-key-abcdef0123456789") == 2
        assert org_secret(service, SUNRISE, "vapi", "api_key", "rotated-key-abcdef0123456789") == "sk-through-postgrest"
        for key in (member_key, anon_key()):  # the Sunrise staff member, then anon
            with pytest.raises(RpcError):
                org_secret(SupabaseGateway(standin.url, key), SUNRISE, "vapi", "api_key", KEY)
            with pytest.raises(RpcError):
                SupabaseGateway(standin.url, key).rpc("vapi_webhook_secret_index", {})
