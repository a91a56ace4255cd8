"""Per-clinic credentials end to end: the CLI, org_secret, and per-org webhook secrets, on a real
database (pgcrypto path; the Vault branch is covered by supabase/tests/16_credentials.sql)."""

from __future__ import annotations

import json
import logging
import time

import pytest

from api.auth import sign
from api.credentials import CredentialError, org_secret
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
    app.extensions["booking"].gateway.close()


def cli(app, *args, input=None):
    return app.test_cli_runner().invoke(args=["credentials", *args], input=input)


def store(sql, org, name, secret, key=KEY):
    reply = sql("select public.set_org_credential(%s, 'vapi', %s, %s, %s)", [org, name, secret, key])[0][0]
    assert reply["success"] is True, reply


def gateway(app):
    return app.extensions["booking"].gateway


# --- CLI -----------------------------------------------------------------------------------------

def test_set_reads_stdin_strips_one_newline_and_never_prints_the_value(cred_app):
    result = cli(cred_app, "set", "--org", SUNRISE, "--provider", "vapi", input="sk-live-abc\n")
    assert result.exit_code == 0, result.output
    assert "stored vapi/api_key" in result.output and "pgcrypto" in result.output
    assert "sk-live-abc" not in result.output
    assert org_secret(gateway(cred_app), SUNRISE, "vapi", "api_key", KEY) == "sk-live-abc"

    # Only one trailing newline is the line ending; a second is part of the secret. CRLF too.
    assert cli(cred_app, "set", "--org", SUNRISE, "--name", "webhook_secret", input="two\n\n").exit_code == 0
    assert org_secret(gateway(cred_app), SUNRISE, "vapi", "webhook_secret", KEY) == "two\n"
    assert cli(cred_app, "set", "--org", SUNRISE, "--name", "webhook_secret", input="crlf\r\n").exit_code == 0
    assert org_secret(gateway(cred_app), SUNRISE, "vapi", "webhook_secret", KEY) == "crlf"


@pytest.mark.parametrize("stdin", ["", "\n", "   \n"])
def test_set_refuses_an_empty_secret_and_writes_nothing(cred_app, sql, stdin):
    result = cli(cred_app, "set", "--org", SUNRISE, "--provider", "vapi", input=stdin)
    assert result.exit_code == 1
    assert "invalid_input: secret is blank" in result.output
    assert sql("select count(*) from public.org_credentials")[0][0] == 0


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


def test_without_credentials_key_set_is_refused_clearly(database_url, sql):
    app = make_app(database_url, CREDENTIALS_KEY="")
    try:
        result = cli(app, "set", "--org", SUNRISE, input="sk-x\n")
    finally:
        gateway(app).close()
    assert result.exit_code == 1 and "encryption_key_required" in result.output and "CREDENTIALS_KEY" in result.output
    assert sql("select count(*) from public.org_credentials")[0][0] == 0


def test_list_shows_existence_never_values_and_delete_removes(cred_app, sql):
    assert "no credentials stored" in cli(cred_app, "list", "--org", BAYVIEW).output
    store(sql, BAYVIEW, "api_key", "sk-bayview-secret")
    store(sql, BAYVIEW, "webhook_secret", BAYVIEW_HOOK_SECRET)
    listed = cli(cred_app, "list", "--org", BAYVIEW)
    assert listed.exit_code == 0
    lines = [line.split("\t")[:3] for line in listed.output.splitlines()]
    assert lines == [["vapi", "api_key", "pgcrypto"], ["vapi", "webhook_secret", "pgcrypto"]]
    assert "sk-bayview-secret" not in listed.output and BAYVIEW_HOOK_SECRET not in listed.output

    deleted = cli(cred_app, "delete", "--org", BAYVIEW, "--name", "api_key")
    assert deleted.exit_code == 0 and "deleted vapi/api_key" in deleted.output
    assert cli(cred_app, "delete", "--org", BAYVIEW, "--name", "api_key").exit_code == 1
    assert org_secret(gateway(cred_app), BAYVIEW, "vapi", "api_key", KEY) is None


# --- org_secret ------------------------------------------------------------------------------------

def test_org_secret_round_trip_absent_and_wrong_key(cred_app, sql):
    assert org_secret(gateway(cred_app), SUNRISE, "vapi", "api_key", KEY) is None
    store(sql, SUNRISE, "api_key", "sk-sunrise-1")
    assert org_secret(gateway(cred_app), SUNRISE, "vapi", "api_key", KEY) == "sk-sunrise-1"
    assert org_secret(gateway(cred_app), BAYVIEW, "vapi", "api_key", KEY) is None  # per org
    with pytest.raises(CredentialError) as wrong:
        org_secret(gateway(cred_app), SUNRISE, "vapi", "api_key", "another-key-0123456789")
    assert wrong.value.code == "decryption_failed"
    with pytest.raises(CredentialError) as missing:
        org_secret(gateway(cred_app), SUNRISE, "vapi", "api_key", None)
    assert missing.value.code == "encryption_key_required"
    (ciphertext,) = sql("select ciphertext from public.org_credentials where org_id = %s", [SUNRISE])[0]
    assert b"sk-sunrise-1" not in bytes(ciphertext)


# --- webhook: per-org secrets ------------------------------------------------------------------------

def tool_call_body(assistant_id, *, claim=None, tool="bookClinicAppointment", time_text="10:00", call_id="c-1"):
    arguments = {"appointmentDate": next_open_day().isoformat(), "appointmentTime": time_text,
                 "patientName": "Per Org", "patientPhone": "+14155550142"}
    message = {
        "type": "tool-calls",
        "toolCallList": [{"id": f"tc-{call_id}", "type": "function",
                          "function": {"name": tool, "arguments": arguments}}],
        "call": {"id": call_id, "customer": {"number": "+14155550142"}},
        "assistant": {"id": assistant_id},
    }
    if claim:
        message["customer"] = {"number": "+14155550142", "metadata": {"org_id": claim}}
    return {"message": message}


def appointments(sql, org):
    return sql("select count(*) from public.appointments where org_id = %s", [org])[0][0]


def result_of(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_json()["results"][0]["result"])


def test_clinic_secret_is_accepted_for_its_own_assistant_only(cred_app, sql):
    store(sql, SUNRISE, "webhook_secret", SUNRISE_HOOK_SECRET)
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
    store(sql, SUNRISE, "webhook_secret", SUNRISE_HOOK_SECRET)
    client = cred_app.test_client()
    bearer = client.post(WEBHOOK, json=tool_call_body("asst_sunrise_sarah", call_id="b", time_text="10:00"),
                         headers={"Authorization": f"Bearer {SUNRISE_HOOK_SECRET}"})
    assert result_of(bearer)["success"] is True

    raw = json.dumps(tool_call_body("asst_sunrise_sarah", call_id="h", time_text="11:00")).encode()
    now = int(time.time())
    signed = client.post(WEBHOOK, data=raw, content_type="application/json",
                         headers={"x-timestamp": str(now), "x-signature": sign(SUNRISE_HOOK_SECRET, raw, now)})
    assert result_of(signed)["success"] is True
    stale = now - 600
    replayed = client.post(WEBHOOK, data=raw, content_type="application/json",
                           headers={"x-timestamp": str(stale), "x-signature": sign(SUNRISE_HOOK_SECRET, raw, stale)})
    assert replayed.status_code == 401 and replayed.get_json()["reason"] == "stale_timestamp"

    global_secret = client.post(WEBHOOK, json=tool_call_body("asst_bayview_marcy", call_id="g"),
                                headers={"X-Vapi-Secret": SECRET})
    assert result_of(global_secret)["success"] is True
    assert (appointments(sql, SUNRISE), appointments(sql, BAYVIEW)) == (2, 1)


@pytest.mark.parametrize("key", ["", "another-key-0123456789"])
def test_without_the_right_credentials_key_the_per_org_path_is_unavailable_not_an_error(database_url, sql, key):
    store(sql, SUNRISE, "webhook_secret", SUNRISE_HOOK_SECRET)
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


def test_database_down_means_401_not_500(unreachable_app):
    response = unreachable_app.test_client().post(
        WEBHOOK, json=tool_call_body("asst_sunrise_sarah"), headers={"X-Vapi-Secret": SUNRISE_HOOK_SECRET})
    assert response.status_code == 401


def test_tool_calls_act_only_for_the_org_whose_secret_authenticated_the_request(cred_app, sql):
    store(sql, SUNRISE, "webhook_secret", SUNRISE_HOOK_SECRET)
    client = cred_app.test_client()
    first = client.post(WEBHOOK, json=tool_call_body("asst_sunrise_sarah", tool="checkAvailability"),
                        headers={"X-Vapi-Secret": SUNRISE_HOOK_SECRET})
    assert result_of(first)["success"] is True  # Sunrise's secret is now cached for this assistant
    # The assistant is re-mapped to Bayview while the cached secret is still Sunrise's.
    sql("update public.vapi_assistants set org_id = %s where assistant_id = 'asst_sunrise_sarah'", [BAYVIEW])
    # The assistant->clinic mapping is cached like the profiles; its expiry is what lets the new
    # mapping meet the old secret.
    cred_app.extensions["booking"].profiles.clear()
    moved = client.post(WEBHOOK, json=tool_call_body("asst_sunrise_sarah", call_id="c-9"),
                        headers={"X-Vapi-Secret": SUNRISE_HOOK_SECRET})
    assert result_of(moved)["error"] == "unknown_org"
    assert appointments(sql, BAYVIEW) == 0 and appointments(sql, SUNRISE) == 0


# --- nothing secret in logs or output ----------------------------------------------------------------

def test_secrets_and_the_key_never_reach_logs(cred_app, sql, caplog, capfd):
    caplog.set_level(logging.DEBUG)
    api_key = "sk-never-logged-5d2e"
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

    events = {getattr(r, "event_fields", {}).get("event") for r in caplog.records}
    assert {"rpc.call", "auth.failed"} <= events  # the capture did see the gateway and the webhook
    captured = capfd.readouterr()
    logged = "\n".join([*(r.getMessage() + repr(r.args) + repr(getattr(r, "event_fields", None))
                          for r in caplog.records), captured.out, captured.err, *outputs])
    for secret in (api_key, SUNRISE_HOOK_SECRET, KEY, KEY[::-1]):
        assert secret not in logged


def test_rekey_rotates_the_key_all_or_nothing(cred_app, sql):
    store(sql, SUNRISE, "api_key", "sk-sunrise-rotate")
    store(sql, BAYVIEW, "api_key", "sk-bayview-rotate")
    new_key = "rotated-key-abcdef0123456789"
    weak = cli(cred_app, "rekey", input="short\n")
    assert weak.exit_code == 1 and "weak_encryption_key" in weak.output

    rotated = cli(cred_app, "rekey", input=new_key + "\n")
    assert rotated.exit_code == 0 and "re-encrypted 2 credential(s)" in rotated.output
    assert new_key not in rotated.output
    assert org_secret(gateway(cred_app), BAYVIEW, "vapi", "api_key", new_key) == "sk-bayview-rotate"
    with pytest.raises(CredentialError):
        org_secret(gateway(cred_app), BAYVIEW, "vapi", "api_key", KEY)

    # The service still configured with the old key cannot rekey again: nothing decrypts with it.
    again = cli(cred_app, "rekey", input="yet-another-key-0123456789\n")
    assert again.exit_code == 1 and "decryption_failed" in again.output
    assert org_secret(gateway(cred_app), SUNRISE, "vapi", "api_key", new_key) == "sk-sunrise-rotate"


def test_a_nul_character_is_refused_before_the_database(cred_app, sql):
    result = cli(cred_app, "set", "--org", SUNRISE, input="sk-\x00-x\n")
    assert result.exit_code == 1 and "NUL character" in result.output
    assert sql("select count(*) from public.org_credentials")[0][0] == 0


def test_the_supabase_path_reaches_credentials_as_service_role_only(database_url, sql):
    import jwt

    from api.gateway import RpcError, SupabaseGateway
    from postgrest_standin import JWT_SECRET, PostgrestStandIn, anon_key, service_role_key

    member_key = jwt.encode({"role": "authenticated", "sub": "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
                             "exp": 4102444800}, JWT_SECRET, "HS256")
    with PostgrestStandIn(database_url) as standin:
        service = SupabaseGateway(standin.url, service_role_key())
        stored = service.rpc("set_org_credential", {"p_org_id": SUNRISE, "p_provider": "vapi", "p_name": "api_key",
                                                    "p_secret": "sk-through-postgrest", "p_encryption_key": KEY})
        assert stored["success"] is True and "value" not in stored
        assert org_secret(service, SUNRISE, "vapi", "api_key", KEY) == "sk-through-postgrest"
        for key in (member_key, anon_key()):  # the Sunrise staff member, then anon
            with pytest.raises(RpcError):
                org_secret(SupabaseGateway(standin.url, key), SUNRISE, "vapi", "api_key", KEY)
