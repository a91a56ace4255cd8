"""`flask --app api assistants map|list|unmap` against the real database and a local fake Vapi API.

The fake Vapi is a real HTTP server (werkzeug, in a thread), like the one in test_prompt_sync.py:
it knows which assistants and phone numbers each Vapi account (API key) has, answers
GET /assistant/{id} and GET /phone-number/{id} as Vapi does (200 with the object for the key's own
ids, 404 for any other id, 401 for an unknown key) and records every request. The clinic's Vapi key
is stored with api.credentials.store_org_secret (encrypted in the service, then public.set_org_credential); the mapping is written by public.map_vapi_id.
"""

from __future__ import annotations

import json
import threading

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from api.credentials import store_org_secret
from conftest import BAYVIEW, SECRET, SUNRISE

CREDENTIALS_KEY = "test-credentials-passphrase-0123456789"
SUNRISE_KEY = "vapi-key-sunrise-private"
OTHER_ACCOUNT_KEY = "vapi-key-of-another-account"


class FakeVapi:
    """Vapi accounts by API key: {key: {"assistant": {ids}, "phone-number": {ids}}}."""

    def __init__(self):
        self.accounts: dict[str, dict[str, set[str]]] = {}
        self.fail: dict[str, int] = {}  # id -> HTTP status answered whatever the key
        self.requests: list[dict] = []
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        request = Request(environ)
        with self._lock:
            self.requests.append({"method": request.method, "path": request.path,
                                  "authorization": request.headers.get("Authorization")})
            response = self._answer(request)
        return response(environ, start_response)

    @staticmethod
    def _json(body: dict, status: int = 200) -> Response:
        return Response(json.dumps(body), status, content_type="application/json")

    def _answer(self, request: Request) -> Response:
        _, collection, vapi_id = (request.path.split("/", 2) + ["", ""])[:3]
        key = (request.headers.get("Authorization") or "").removeprefix("Bearer ")
        if request.method != "GET" or collection not in ("assistant", "phone-number"):
            return self._json({"message": "Cannot GET", "statusCode": 404}, 404)
        if vapi_id in self.fail:
            return self._json({"message": "Boom", "statusCode": self.fail[vapi_id]}, self.fail[vapi_id])
        account = self.accounts.get(key)
        if account is None:
            return self._json({"message": "Invalid Key. Hot tip, you may be using the private key instead of the "
                                          "public key, or vice versa.", "statusCode": 401}, 401)
        if vapi_id not in account[collection]:
            return self._json({"message": "Not Found", "statusCode": 404}, 404)
        return self._json({"id": vapi_id, "orgId": f"vapi-org-{key[-7:]}", "name": vapi_id})


@pytest.fixture
def vapi():
    fake = FakeVapi()
    fake.accounts[SUNRISE_KEY] = {"assistant": {"asst_sunrise_new", "asst_bayview_marcy"},
                                  "phone-number": {"pn_sunrise_second"}}
    fake.accounts[OTHER_ACCOUNT_KEY] = {"assistant": {"asst_other_account"}, "phone-number": {"pn_other_account"}}
    server = make_server("127.0.0.1", 0, fake, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_port}"
    yield fake
    server.shutdown()
    thread.join(5)


@pytest.fixture
def cli_app(database_url, vapi):
    """Sunrise has its Vapi key stored; Bayview has none."""
    from api import create_app

    app = create_app({"TESTING": True, "APP_ENV": "test", "VAPI_SECRET": SECRET, "DATABASE_URL": database_url,
                      "DB_POOL_MAX": 2, "VAPI_API_URL": vapi.url, "CREDENTIALS_KEY": CREDENTIALS_KEY})
    reply = store_org_secret(app.extensions["deps"].gateway, SUNRISE, "vapi", "api_key", SUNRISE_KEY,
                             CREDENTIALS_KEY)
    assert reply.get("success"), reply
    yield app
    app.extensions["deps"].gateway.close()


def run(app, *args):
    return app.test_cli_runner().invoke(args=["assistants", *args])


def mapping(sql, column: str, vapi_id: str):
    rows = sql(f"select org_id::text, label from public.vapi_assistants where {column} = %s", [vapi_id])
    return rows[0] if rows else None


def assert_clean(result):
    text = result.output + result.stderr
    assert SUNRISE_KEY not in text and CREDENTIALS_KEY not in text
    assert "Traceback" not in text and "select " not in text.lower()


# ---------------------------------------------------------------------------------------------
# map, confirmed with the clinic's own Vapi key
# ---------------------------------------------------------------------------------------------


def test_map_confirms_an_assistant_with_the_clinics_vapi_key(cli_app, vapi, sql):
    result = run(cli_app, "map", "--org", SUNRISE, "--assistant", "asst_sunrise_new", "--label", "Tom, evenings")
    assert result.exit_code == 0, result.output + result.stderr
    assert result.stdout == (f"mapped assistant asst_sunrise_new to org {SUNRISE} "
                             "(confirmed with the clinic's Vapi account)\n")
    assert [(r["method"], r["path"], r["authorization"]) for r in vapi.requests] == [
        ("GET", "/assistant/asst_sunrise_new", f"Bearer {SUNRISE_KEY}")]
    assert mapping(sql, "assistant_id", "asst_sunrise_new") == (SUNRISE, "Tom, evenings")
    assert_clean(result)


def test_map_confirms_a_phone_number_at_its_own_endpoint(cli_app, vapi, sql):
    result = run(cli_app, "map", "--org", SUNRISE, "--phone-number", " pn_sunrise_second ")
    assert result.exit_code == 0, result.output + result.stderr
    assert [r["path"] for r in vapi.requests] == ["/phone-number/pn_sunrise_second"]
    assert mapping(sql, "phone_number_id", "pn_sunrise_second") == (SUNRISE, None)
    # the webhook now routes that number to Sunrise
    reply = cli_app.extensions["deps"].gateway.rpc("resolve_vapi_org", {
        "p_assistant_id": None, "p_phone_number_id": "pn_sunrise_second", "p_claimed_org_id": None})
    assert (reply["orgId"], reply["source"]) == (SUNRISE, "phone_number")


def test_an_id_of_another_vapi_account_is_refused_and_nothing_is_mapped(cli_app, vapi, sql):
    for flag, vapi_id, path in (("--assistant", "asst_other_account", "/assistant/asst_other_account"),
                                ("--phone-number", "pn_other_account", "/phone-number/pn_other_account")):
        result = run(cli_app, "map", "--org", SUNRISE, flag, vapi_id)
        assert result.exit_code == 1
        kind = "assistant" if flag == "--assistant" else "phone number"
        assert (f"Vapi has no {kind} {vapi_id} in this clinic's Vapi account (GET {path}: HTTP 404); "
                "nothing was mapped") in result.stderr
        assert_clean(result)
    assert sql("select count(*) from public.vapi_assistants where assistant_id = 'asst_other_account' "
               "or phone_number_id = 'pn_other_account'") == [(0,)]


def test_a_key_vapi_does_not_accept_is_refused_precisely(cli_app, vapi, sql):
    vapi.accounts.pop(SUNRISE_KEY)  # the stored key was revoked in Vapi
    result = run(cli_app, "map", "--org", SUNRISE, "--assistant", "asst_sunrise_new")
    assert result.exit_code == 1
    assert "Vapi refused the clinic's stored API key (GET /assistant/asst_sunrise_new: HTTP 401 (Invalid Key." in result.stderr
    assert "credentials set --org ORG --provider vapi --name api_key" in result.stderr
    assert mapping(sql, "assistant_id", "asst_sunrise_new") is None
    assert_clean(result)


def test_vapi_failing_or_unreachable_maps_nothing(cli_app, vapi, sql):
    vapi.fail["asst_sunrise_new"] = 503
    failing = run(cli_app, "map", "--org", SUNRISE, "--assistant", "asst_sunrise_new")
    assert failing.exit_code == 1
    assert "could not confirm the assistant with Vapi (GET /assistant/asst_sunrise_new: HTTP 503 (Boom))" in failing.stderr

    cli_app.config["VAPI_API_URL"] = "http://127.0.0.1:1"  # nothing listens there
    unreachable = run(cli_app, "map", "--org", SUNRISE, "--assistant", "asst_sunrise_new")
    assert unreachable.exit_code == 1
    assert "could not confirm the assistant with Vapi (GET /assistant/asst_sunrise_new: ConnectError)" in unreachable.stderr
    assert mapping(sql, "assistant_id", "asst_sunrise_new") is None
    assert_clean(failing)
    assert_clean(unreachable)


def test_a_key_that_cannot_be_decrypted_refuses_instead_of_mapping_unconfirmed(cli_app, vapi, sql):
    cli_app.config["CREDENTIALS_KEY"] = "another-passphrase-0123456789"
    result = run(cli_app, "map", "--org", SUNRISE, "--assistant", "asst_sunrise_new")
    assert result.exit_code == 1
    assert "the clinic's Vapi API key could not be read (decryption_failed:" in result.stderr
    assert "nothing was mapped" in result.stderr
    assert vapi.requests == [] and mapping(sql, "assistant_id", "asst_sunrise_new") is None


# ---------------------------------------------------------------------------------------------
# map without a stored key; idempotency; ids of other clinics
# ---------------------------------------------------------------------------------------------


def test_without_a_stored_key_the_id_is_mapped_with_a_warning(cli_app, vapi, sql):
    result = run(cli_app, "map", "--org", BAYVIEW, "--phone-number", "pn_bayview_main")
    assert result.exit_code == 0, result.output + result.stderr
    assert (f"warning: org {BAYVIEW} has no stored Vapi API key (credential vapi/api_key), so Vapi was not asked "
            "whether phone number pn_bayview_main belongs to this clinic's account") in result.stderr
    assert result.stdout == f"mapped phone number pn_bayview_main to org {BAYVIEW} (NOT confirmed with Vapi)\n"
    assert vapi.requests == []
    assert mapping(sql, "phone_number_id", "pn_bayview_main") == (BAYVIEW, None)


def test_mapping_again_is_idempotent_and_can_relabel(cli_app, sql):
    assert run(cli_app, "map", "--org", SUNRISE, "--assistant", "asst_sunrise_new").exit_code == 0
    again = run(cli_app, "map", "--org", SUNRISE, "--assistant", "asst_sunrise_new")
    assert again.exit_code == 0
    assert again.stdout.startswith(f"assistant asst_sunrise_new was already mapped to org {SUNRISE}; label None")
    relabel = run(cli_app, "map", "--org", SUNRISE, "--assistant", "asst_sunrise_new", "--label", "Tom")
    assert relabel.exit_code == 0 and "label 'Tom'" in relabel.stdout
    assert sql("select count(*), min(label) from public.vapi_assistants where assistant_id = 'asst_sunrise_new'") == [(1, "Tom")]


def test_an_id_mapped_to_another_clinic_is_refused_by_name(cli_app, vapi, sql):
    # Sunrise's Vapi account has this assistant (it passes the Vapi check), but Bayview is mapped to it.
    result = run(cli_app, "map", "--org", SUNRISE, "--assistant", "asst_bayview_marcy")
    assert result.exit_code == 1
    assert (f"mapped_to_other_org: assistant id asst_bayview_marcy is already mapped to org {BAYVIEW} "
            "(Bayview Dental); unmap it there first") in result.stderr
    assert mapping(sql, "assistant_id", "asst_bayview_marcy")[0] == BAYVIEW


# ---------------------------------------------------------------------------------------------
# list, unmap, usage errors
# ---------------------------------------------------------------------------------------------


def test_list_and_unmap(cli_app, sql):
    listed = run(cli_app, "list", "--org", SUNRISE)
    assert listed.exit_code == 0, listed.stderr
    assert listed.stdout == "assistant=asst_sunrise_sarah\tphone-number=pn_sunrise_main\tlabel=Sarah (Sunrise front desk)\n"

    unmapped = run(cli_app, "unmap", "--org", SUNRISE, "--phone-number", "pn_sunrise_main")
    assert unmapped.exit_code == 0 and unmapped.stdout == f"unmapped phone number pn_sunrise_main from org {SUNRISE}\n"
    assert run(cli_app, "list", "--org", SUNRISE).stdout.startswith("assistant=asst_sunrise_sarah\tphone-number=-\t")

    other = run(cli_app, "unmap", "--org", SUNRISE, "--assistant", "asst_bayview_marcy")
    assert other.exit_code == 1 and "mapped_to_other_org: assistant id asst_bayview_marcy is mapped to org" in other.stderr
    nowhere = run(cli_app, "unmap", "--org", SUNRISE, "--assistant", "asst_nowhere")
    assert nowhere.exit_code == 1 and "not_mapped: assistant id asst_nowhere is not mapped to any org" in nowhere.stderr
    assert run(cli_app, "unmap", "--org", SUNRISE, "--assistant", "asst_sunrise_sarah").exit_code == 0
    assert run(cli_app, "list", "--org", SUNRISE).stdout == f"no Vapi ids are mapped to org {SUNRISE}\n"


def test_usage_errors_and_unknown_orgs(cli_app, vapi, sql):
    both = run(cli_app, "map", "--org", SUNRISE, "--assistant", "a", "--phone-number", "p")
    assert both.exit_code == 2 and "exactly one of --assistant ID or --phone-number ID" in both.stderr
    neither = run(cli_app, "unmap", "--org", SUNRISE)
    assert neither.exit_code == 2
    blank = run(cli_app, "map", "--org", SUNRISE, "--assistant", "  ")
    assert blank.exit_code == 2 and "empty" in blank.stderr
    not_uuid = run(cli_app, "map", "--org", "sunrise", "--assistant", "x")
    assert not_uuid.exit_code == 2 and "UUID" in not_uuid.stderr
    ghost = "99999999-9999-4999-8999-999999999999"
    unknown = run(cli_app, "map", "--org", ghost, "--assistant", "asst_sunrise_new")
    assert unknown.exit_code == 1 and f"unknown org {ghost}" in unknown.stderr
    assert run(cli_app, "list", "--org", ghost).exit_code == 1
    spaced = run(cli_app, "map", "--org", BAYVIEW, "--assistant", "asst with space")
    assert spaced.exit_code == 1 and "invalid_input:" in spaced.stderr
    assert vapi.requests == []
    assert sql("select count(*) from public.vapi_assistants") == [(2,)]
