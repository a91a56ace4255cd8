"""`flask --app api prompts show|sync` against the real database and a local fake Vapi API.

The fake Vapi is a real HTTP server (werkzeug, in a thread) that keeps assistants in memory,
answers GET/PATCH /assistant/{id} the way Vapi does (PATCH replaces the fields it is given, so
`model` is replaced as a whole) and records every request: method, path, Authorization, body.
The org's Vapi API key is stored with the real public.set_org_credential (api.credentials.store_org_secret).
"""

from __future__ import annotations

import copy
import json
import threading
from datetime import datetime, timezone

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from api.credentials import store_org_secret
from api.prompts import AUTHORITY_BEGIN, Clinic, enforced_prompt, enforced_prompt_template, unwrap

from conftest import BAYVIEW, SECRET, SUNRISE

CLOCK = datetime(2026, 3, 10, 6, 0, tzinfo=timezone.utc)  # Tuesday in New York, Monday in Los Angeles
CREDENTIALS_KEY = "test-credentials-passphrase-0123456789"
SUNRISE_KEY = "vapi-key-sunrise-secret"
BAYVIEW_KEY = "vapi-key-bayview-secret"
def sunrise_clinic(app) -> Clinic:
    """Sunrise as get_org_profile describes it: since issue 10 the seed gives it three providers, and
    the enforced prompt lists them (a one-provider clinic's prompt has no provider list)."""
    from api.orgs import OrgProfile

    reply = app.extensions["deps"].gateway.rpc("get_org_profile", {"p_org_id": SUNRISE})
    clinic = Clinic.from_profile(OrgProfile.from_rpc(reply))
    assert [p.name for p in clinic.providers] == ["Dr. Anika Patel", "Dr. Marcus Lee", "Nurse Joy Kim"]
    return clinic
OLD_PROMPT = "You are Sarah. Old prompt from the dashboard."


def vapi_assistant(assistant_id: str, name: str, system: str | None = OLD_PROMPT) -> dict:
    messages = [{"role": "system", "content": system}] if system is not None else []
    messages.append({"role": "assistant", "content": "Hi, how can I help?"})
    return {
        "id": assistant_id, "orgId": "vapi-org-1", "name": name,
        "firstMessage": "Thanks for calling!",
        "voice": {"provider": "11labs", "voiceId": "sarah"},
        "model": {
            "provider": "openai", "model": "gpt-4o", "temperature": 0.3,
            "messages": messages,
            "tools": [{"type": "function", "function": {"name": "bookClinicAppointment", "parameters": {"type": "object"}},
                       "server": {"url": "https://clinic.example/api/vapi/webhook"}}],
            "toolIds": ["tool-check-availability", "tool-cancel"],
        },
    }


class FakeVapi:
    """GET/PATCH /assistant/{id}; `fail` maps an id to the HTTP status it answers with."""

    def __init__(self):
        self.assistants: dict[str, dict] = {}
        self.fail: dict[str, int] = {}
        self.requests: list[dict] = []
        self._lock = threading.Lock()

    def __call__(self, environ, start_response):
        request = Request(environ)
        body = request.get_json(silent=True)
        with self._lock:
            self.requests.append({"method": request.method, "path": request.path,
                                  "authorization": request.headers.get("Authorization"), "body": body})
            response = self._answer(request.method, request.path, body)
        return response(environ, start_response)

    def _answer(self, method, path, body):
        prefix = "/assistant/"
        assistant_id = path[len(prefix):] if path.startswith(prefix) else None
        if assistant_id in self.fail:
            status = self.fail[assistant_id]
            return Response(json.dumps({"message": "Boom" if status >= 500 else "Not Found", "statusCode": status}),
                            status, content_type="application/json")
        if assistant_id not in self.assistants:
            return Response(json.dumps({"message": "Not Found", "statusCode": 404}), 404, content_type="application/json")
        if method == "GET":
            return Response(json.dumps(self.assistants[assistant_id]), content_type="application/json")
        if method == "PATCH" and isinstance(body, dict):
            self.assistants[assistant_id].update(copy.deepcopy(body))
            return Response(json.dumps(self.assistants[assistant_id]), content_type="application/json")
        return Response("{}", 400, content_type="application/json")

    def patches(self):
        return [r for r in self.requests if r["method"] == "PATCH"]


@pytest.fixture
def vapi():
    fake = FakeVapi()
    fake.assistants["asst_sunrise_sarah"] = vapi_assistant("asst_sunrise_sarah", "Sarah (dashboard)")
    fake.assistants["asst_bayview_marcy"] = vapi_assistant("asst_bayview_marcy", "Marcy")
    server = make_server("127.0.0.1", 0, fake, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_port}"
    yield fake
    server.shutdown()
    thread.join(5)


@pytest.fixture
def prompts_app(database_url, vapi, sql):
    from api import create_app

    app = create_app({"TESTING": True, "APP_ENV": "test", "VAPI_SECRET": SECRET, "DATABASE_URL": database_url,
                      "DB_POOL_MAX": 2, "VAPI_API_URL": vapi.url, "CREDENTIALS_KEY": CREDENTIALS_KEY},
                     clock=lambda: CLOCK)
    for org, key in ((SUNRISE, SUNRISE_KEY), (BAYVIEW, BAYVIEW_KEY)):
        reply = store_org_secret(app.extensions["deps"].gateway, org, "vapi", "api_key", key, CREDENTIALS_KEY)
        assert reply.get("success"), reply
    yield app
    app.extensions["deps"].gateway.close()


def run(app, *args):
    return app.test_cli_runner().invoke(args=["prompts", *args])


def seed_prompt(sql, assistant_id="asst_sunrise_sarah") -> str:
    return sql("select custom_prompt from public.vapi_assistants where assistant_id = %s", [assistant_id])[0][0]


# ---------------------------------------------------------------------------------------------
# show
# ---------------------------------------------------------------------------------------------


def test_show_prints_the_enforced_prompt_with_the_clinic_local_date(prompts_app, sql):
    result = run(prompts_app, "show", "--org", SUNRISE)
    assert result.exit_code == 0, result.output + result.stderr
    assert result.stdout == enforced_prompt(seed_prompt(sql), sunrise_clinic(prompts_app), "Sarah", now=CLOCK)
    assert "\nProviders (who works at the clinic" in result.stdout
    assert "- Today is Tuesday, March 10, 2026 in the clinic's time zone (America/New_York)." in result.output

    marcy = run(prompts_app, "show", "--org", BAYVIEW, "--assistant", "marcy")
    assert marcy.exit_code == 0, marcy.stderr
    assert "Today is Monday, March 09, 2026" in marcy.output  # same instant, Los Angeles
    assert "You are Marcy, the voice receptionist of Bayview Dental." in marcy.output

    template = run(prompts_app, "show", "--org", SUNRISE, "--template")
    assert template.stdout == enforced_prompt_template(seed_prompt(sql), sunrise_clinic(prompts_app), "Sarah")


def test_show_refuses_unknown_orgs_and_assistants_clearly(prompts_app, sql):
    unknown = run(prompts_app, "show", "--org", "99999999-9999-4999-8999-999999999999")
    assert unknown.exit_code == 1 and "unknown org" in unknown.stderr
    not_uuid = run(prompts_app, "show", "--org", "sunrise")
    assert not_uuid.exit_code == 2 and "UUID" in not_uuid.stderr
    nobody = run(prompts_app, "show", "--org", SUNRISE, "--assistant", "Marcy")
    assert nobody.exit_code == 1 and "no assistant 'Marcy'" in nobody.stderr and "Sarah" in nobody.stderr
    sql("insert into public.vapi_assistants (org_id, assistant_id, assistant_name) values (%s, 'asst_sunrise_tom', 'Tom')",
        [SUNRISE])
    several = run(prompts_app, "show", "--org", SUNRISE)
    assert several.exit_code == 1 and "--assistant" in several.stderr
    for text in (unknown.stderr, nobody.stderr, several.stderr):
        assert "select" not in text.lower() and "Traceback" not in text


# ---------------------------------------------------------------------------------------------
# sync
# ---------------------------------------------------------------------------------------------


def test_sync_replaces_the_system_message_and_keeps_the_whole_model(prompts_app, vapi, sql):
    before = copy.deepcopy(vapi.assistants["asst_sunrise_sarah"]["model"])
    result = run(prompts_app, "sync", "--org", SUNRISE)
    assert result.exit_code == 0, result.output + result.stderr
    assert "asst_sunrise_sarah: updated (changed, 3 tools kept)" in result.output

    assert [(r["method"], r["path"]) for r in vapi.requests] == [
        ("GET", "/assistant/asst_sunrise_sarah"), ("PATCH", "/assistant/asst_sunrise_sarah")]
    assert {r["authorization"] for r in vapi.requests} == {f"Bearer {SUNRISE_KEY}"}  # the org's own key
    (patch,) = vapi.patches()
    assert list(patch["body"]) == ["model"]
    model = patch["body"]["model"]
    expected = enforced_prompt_template(seed_prompt(sql), sunrise_clinic(prompts_app), "Sarah")
    assert model["messages"][0] == {"role": "system", "content": expected}
    assert model["messages"][1:] == before["messages"][1:]
    assert {k: v for k, v in model.items() if k != "messages"} == {k: v for k, v in before.items() if k != "messages"}
    assert model["tools"] == before["tools"] and model["toolIds"] == before["toolIds"]
    assert vapi.assistants["asst_sunrise_sarah"]["voice"] == {"provider": "11labs", "voiceId": "sarah"}
    assert vapi.assistants["asst_bayview_marcy"]["model"]["messages"][0]["content"] == OLD_PROMPT  # other org untouched
    assert SUNRISE_KEY not in result.output + result.stderr


def test_dry_run_sends_no_patch(prompts_app, vapi):
    result = run(prompts_app, "sync", "--org", SUNRISE, "--dry-run")
    assert result.exit_code == 0, result.output + result.stderr
    assert "asst_sunrise_sarah: would update (changed, 3 tools kept)" in result.output
    assert [r["method"] for r in vapi.requests] == ["GET"]
    assert vapi.assistants["asst_sunrise_sarah"]["model"]["messages"][0]["content"] == OLD_PROMPT


def test_one_failing_assistant_does_not_stop_the_others(prompts_app, vapi, sql):
    sql("""insert into public.vapi_assistants (org_id, assistant_id, assistant_name) values
           (%(org)s, 'asst_sunrise_gone', 'Gone'), (%(org)s, 'asst_sunrise_broken', 'Broken'),
           (%(org)s, 'asst_sunrise_zed', 'Zed'), (%(org)s, 'asst_sunrise_bare', 'Bare')""", {"org": SUNRISE})
    sql("insert into public.vapi_assistants (org_id, phone_number_id) values (%s, 'pn_sunrise_second')", [SUNRISE])
    vapi.fail["asst_sunrise_broken"] = 500
    vapi.assistants["asst_sunrise_zed"] = vapi_assistant("asst_sunrise_zed", "Zed", system=None)
    vapi.assistants["asst_sunrise_bare"] = {"id": "asst_sunrise_bare", "name": "Bare"}  # no model at all

    result = run(prompts_app, "sync", "--org", SUNRISE)
    assert result.exit_code == 1
    assert "asst_sunrise_broken: FAILED GET /assistant/asst_sunrise_broken: HTTP 500 (Boom)" in result.output
    assert "asst_sunrise_gone: FAILED GET /assistant/asst_sunrise_gone: HTTP 404 (Not Found)" in result.output
    assert "asst_sunrise_bare: FAILED the assistant has no model (provider and model) to update" in result.output
    assert "2 of 5 assistants synced, 3 failed" in result.output
    assert "phone number pn_sunrise_second: skipped, mapped without an assistant id" in result.output
    assert sorted(r["path"] for r in vapi.patches()) == ["/assistant/asst_sunrise_sarah", "/assistant/asst_sunrise_zed"]
    # An assistant without a system message gets one, first, and keeps the rest.
    zed = vapi.assistants["asst_sunrise_zed"]["model"]
    assert zed["messages"][0]["role"] == "system" and "You are Zed, the voice receptionist" in zed["messages"][0]["content"]
    assert zed["messages"][1] == {"role": "assistant", "content": "Hi, how can I help?"}


def test_sync_is_idempotent_also_when_falling_back_to_the_prompt_vapi_has(prompts_app, vapi, sql):
    assert run(prompts_app, "sync", "--org", SUNRISE).exit_code == 0
    assert run(prompts_app, "sync", "--org", SUNRISE).exit_code == 0
    first, second = vapi.patches()
    assert first["body"] == second["body"]

    # Without a stored clinic prompt, the assistant's own system message is the clinic prompt,
    # unwrapped on the next run instead of being wrapped twice.
    sql("update public.vapi_assistants set custom_prompt = null, assistant_name = null where assistant_id = 'asst_bayview_marcy'")
    assert run(prompts_app, "sync", "--org", BAYVIEW).exit_code == 0
    result = run(prompts_app, "sync", "--org", BAYVIEW)
    assert "updated (unchanged" in result.output
    third, fourth = vapi.patches()[2:]
    assert third["body"] == fourth["body"] and third["authorization"] == f"Bearer {BAYVIEW_KEY}"
    content = fourth["body"]["model"]["messages"][0]["content"]
    assert content.count(AUTHORITY_BEGIN) == 1 and unwrap(content) == OLD_PROMPT
    assert "You are Marcy, the voice receptionist of Bayview Dental." in content  # the name Vapi has


def test_sync_without_a_stored_key_or_with_a_wrong_passphrase_fails_clearly(prompts_app, vapi, sql):
    prompts_app.extensions["deps"].gateway.rpc("delete_org_credential", {
        "p_org_id": SUNRISE, "p_provider": "vapi", "p_name": "api_key"})
    missing = run(prompts_app, "sync", "--org", SUNRISE)
    assert missing.exit_code == 1 and "no Vapi API key is stored" in missing.stderr

    prompts_app.config["CREDENTIALS_KEY"] = "not-the-passphrase-at-all-0000"
    wrong = run(prompts_app, "sync", "--org", BAYVIEW)
    assert wrong.exit_code == 1 and "Vapi API key could not be read" in wrong.stderr
    assert vapi.requests == []


def test_unreachable_vapi_is_reported_per_assistant(prompts_app, vapi):
    prompts_app.config["VAPI_API_URL"] = "http://127.0.0.1:1"
    result = run(prompts_app, "sync", "--org", SUNRISE)
    assert result.exit_code == 1
    assert "asst_sunrise_sarah: FAILED GET /assistant/asst_sunrise_sarah: ConnectError" in result.output
