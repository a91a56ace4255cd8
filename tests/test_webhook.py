"""The webhook end to end: Flask test client → normalization → real RPCs on a fresh database."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid

import pytest

from api.auth import sign
from api.vapi import idempotency_key
from conftest import AUTH, BAYVIEW, NEW_YORK, SECRET, SUNRISE, local_instant, next_open_day

V2_URL = "/api/vapi/tools/bookClinicAppointment"
WEBHOOK = "/api/vapi/webhook"


def post_at_once(app, body: dict, times: int) -> list:
    """The same webhook body posted ``times`` times at the same instant (one test client per thread,
    released by a barrier), as Vapi retries or repeats a message: the responses, in arrival order."""
    gate = threading.Barrier(times)
    answers = []

    def send():
        local = app.test_client()
        gate.wait()
        answers.append(local.post(WEBHOOK, json=body, headers=AUTH))

    threads = [threading.Thread(target=send) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def v2_body(day, time_text="14:00", *, phone="(415) 555-0123", name="Test Patient", org=SUNRISE,
            service="consultation", call_id="test-1", email="test@clinic.local"):
    return {
        "toolCallId": call_id,
        "tool": {"arguments": {
            "appointmentDate": day if isinstance(day, str) else day.isoformat(),
            "appointmentTime": time_text, "patientName": name, "patientPhone": phone,
            "patientEmail": email, "serviceType": service}},
        "customer": {"metadata": {"org_id": org}},
    }


def vapi_body(*calls, org=SUNRISE, assistant_id=None, caller="+14155550199", call_id="call-1"):
    message = {
        "type": "tool-calls",
        "toolCallList": [
            {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
            for cid, name, args in calls
        ],
        "call": {"id": call_id, "customer": {"number": caller}},
    }
    if org:
        message["customer"] = {"number": caller, "metadata": {"org_id": org}}
    if assistant_id:
        message["assistant"] = {"id": assistant_id}
    return {"message": message}


def results(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    items = response.get_json()["results"]
    for item in items:
        assert "\n" not in item["result"]
    return [json.loads(item["result"]) for item in items]


def count(sql, table, org=SUNRISE):
    return sql(f"select count(*) from public.{table} where org_id = %s", [org])[0][0]


# --- the v2 contract's four health-check scenarios -------------------------------------------

def test_v2_primary_booking(client, sql):
    day = next_open_day()
    response = client.post(V2_URL, json=v2_body(day), headers=AUTH)
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["toolCallId", "result"]
    assert body["toolCallId"] == "test-1"
    result = body["result"]
    assert result["success"] is True
    assert uuid.UUID(result["appointmentId"])
    assert "all set" in result["message"] and "2:00 PM" in result["message"]
    (starts_at, status, name), = sql(
        "select starts_at, status, patient_name from public.appointments where id = %s", [result["appointmentId"]])
    assert starts_at == local_instant(day, 14)
    assert (status, name) == ("pending", "Test Patient")


def test_v2_double_booking_pivots_to_alternatives(client, sql):
    day = next_open_day()
    assert client.post(V2_URL, json=v2_body(day), headers=AUTH).get_json()["result"]["success"]
    again = client.post(V2_URL, json=v2_body(day, name="Other Person", phone="415-555-0177"), headers=AUTH)
    result = again.get_json()["result"]
    assert result["success"] is False
    assert result["error"] == "slot_unavailable"
    assert len(result["alternatives"]) == 3
    assert result["message"].startswith("That time is no longer available.")
    assert "would any of those work" in result["message"]
    assert not re.search(r"\d{4}-\d{2}-\d{2}T", result["message"])
    assert count(sql, "appointments") == 1


def test_v2_stale_year_is_moved_forward(client, sql):
    day = next_open_day()
    stale = f"{day.year - 2}-{day.month:02d}-{day.day:02d}"
    result = client.post(V2_URL, json=v2_body(stale, "10:30"), headers=AUTH).get_json()["result"]
    assert result["success"] is True, result
    (starts_at,), = sql("select starts_at from public.appointments where id = %s", [result["appointmentId"]])
    assert starts_at == local_instant(day, 10, 30)


def test_v2_phone_is_stored_in_e164(client, sql):
    result = client.post(V2_URL, json=v2_body(next_open_day(), phone="(415) 555-0123"), headers=AUTH).get_json()
    assert result["result"]["success"]
    assert sql("select phone from public.leads where org_id = %s", [SUNRISE]) == [("+14155550123",)]


def test_v2_same_path_answers_the_real_vapi_envelope(client):
    day = next_open_day()
    body = vapi_body(("tc-1", "bookClinicAppointment", {
        "appointmentDate": day.isoformat(), "appointmentTime": "9am", "patientName": "ann lee",
        "serviceType": "checkup"}))
    (result,) = results(client.post(V2_URL, json=body, headers=AUTH))
    assert result["success"] is True
    assert "checkup" in result["message"] and "9:00 AM" in result["message"]


def test_v2_invalid_input_reasks_and_writes_nothing(client, sql):
    body = v2_body(next_open_day(), phone="12")
    result = client.post(V2_URL, json=body, headers=AUTH).get_json()["result"]
    assert result["success"] is False and result["error"] == "invalid_input"
    assert "phone number" in result["message"]
    assert count(sql, "appointments") == 0 and count(sql, "leads") == 0


# --- the Vapi envelope ------------------------------------------------------------------------

def test_arguments_as_object_or_string_and_results_in_call_order(client, sql):
    day = next_open_day()
    args_a = {"appointmentDate": day.isoformat(), "appointmentTime": "10:00", "patientName": "A One",
              "patientPhone": "+1 415 555 0101"}
    args_b = dict(args_a, appointmentTime="11:00", patientName="B Two", patientPhone="415 555 0102")
    body = vapi_body(("first", "bookClinicAppointment", args_a),
                     ("second", "bookClinicAppointment", json.dumps(args_b)))
    response = client.post(WEBHOOK, json=body, headers=AUTH)
    raw = response.get_json()["results"]
    assert [r["toolCallId"] for r in raw] == ["first", "second"]
    assert [r["name"] for r in raw] == ["bookClinicAppointment"] * 2
    first, second = results(response)
    assert first["success"] and second["success"]
    assert "10:00 AM" in first["message"] and "11:00 AM" in second["message"]
    assert count(sql, "appointments") == 2


def test_tool_calls_variants_and_legacy_function_call(client, sql):
    day = next_open_day()
    args = {"appointmentDate": day.isoformat(), "appointmentTime": "13:30", "patientName": "Flat Item",
            "patientPhone": "4155550103"}
    flattened = {"message": {"type": "tool-calls", "toolCalls": [{"id": "flat-1", "name": "bookClinicAppointment",
                 "arguments": json.dumps(args)}], "customer": {"metadata": {"org_id": SUNRISE}}}}
    (result,) = results(client.post(WEBHOOK, json=flattened, headers=AUTH))
    assert result["success"] is True
    legacy = {"message": {"type": "function-call", "functionCall": {"name": "checkAvailability",
              "parameters": {"date": day.isoformat()}}, "customer": {"metadata": {"org_id": SUNRISE}}}}
    (result,) = results(client.post(WEBHOOK, json=legacy, headers=AUTH))
    assert result["success"] is True and result["slots"]


@pytest.mark.parametrize("kind", ["status-update", "end-of-call-report", "conversation-update", "hang"])
def test_other_message_types_are_logged_and_answered_empty(client, kind, caplog):
    caplog.set_level(logging.INFO)
    response = client.post(WEBHOOK, json={"message": {"type": kind, "call": {"id": "c-9"}}}, headers=AUTH)
    assert response.status_code == 200 and response.get_json() == {}
    assert any('"event":"vapi.event"' in r.getMessage() or getattr(r, "event_fields", {}).get("event") == "vapi.event"
               for r in caplog.records)


def test_not_a_vapi_body_is_a_clear_400(client):
    response = client.post(WEBHOOK, data="not json", headers={**AUTH, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"


def test_unknown_tool_gets_a_spoken_answer(client):
    (result,) = results(client.post(WEBHOOK, json=vapi_body(("x1", "orderPizza", {})), headers=AUTH))
    assert result["success"] is False and result["error"] == "unknown_tool"


def test_patient_phone_falls_back_to_the_caller_number(client, sql):
    args = {"appointmentDate": next_open_day().isoformat(), "appointmentTime": "3pm", "patientName": "Caller Only"}
    (result,) = results(client.post(WEBHOOK, json=vapi_body(("c1", "bookClinicAppointment", args),
                                                              caller="+1 (212) 555-0142"), headers=AUTH))
    assert result["success"] is True
    assert sql("select phone from public.leads where org_id = %s", [SUNRISE]) == [("+12125550142",)]


def test_same_tool_call_id_is_an_idempotent_replay(client, sql):
    args = {"appointmentDate": next_open_day().isoformat(), "appointmentTime": "4pm", "patientName": "Re Try",
            "patientPhone": "4155550104"}
    body = vapi_body(("retry-1", "bookClinicAppointment", args))
    (first,) = results(client.post(WEBHOOK, json=body, headers=AUTH))
    (second,) = results(client.post(WEBHOOK, json=body, headers=AUTH))
    assert first["success"] and second["success"]
    assert first["appointmentId"] == second["appointmentId"]
    assert count(sql, "appointments") == 1


# --- the other tools --------------------------------------------------------------------------

def test_check_availability_that_day_or_next_open_day(client):
    day = next_open_day(weekdays=(6,))  # a Sunday: Sunrise is closed, so the next open day answers
    (result,) = results(client.post(WEBHOOK, json=vapi_body(("a1", "checkAvailability", {"date": day.isoformat()})),
                                    headers=AUTH))
    assert result["success"] is True and len(result["slots"]) == 3
    from api.speech import parse_instant
    first = parse_instant(result["slots"][0]).astimezone(NEW_YORK)
    assert first.date() > day
    assert "9:00 AM" in result["message"]


def test_lookup_cancel_and_reschedule_by_phone(client, sql):
    day = next_open_day()
    phone = "+14155550105"
    for cid, hour in (("b1", "9:00"), ("b2", "15:00")):
        args = {"appointmentDate": day.isoformat(), "appointmentTime": hour, "patientName": "Pat Two",
                "patientPhone": phone}
        assert results(client.post(WEBHOOK, json=vapi_body((cid, "bookClinicAppointment", args)), headers=AUTH))[0]["success"]

    (listed,) = results(client.post(WEBHOOK, json=vapi_body(("l1", "lookupAppointments", {}), caller=phone), headers=AUTH))
    assert len(listed["appointments"]) == 2 and listed["verifiedBy"] == "caller_id"
    assert "Which one" not in listed["message"]  # a lookup reads them; only a change asks which

    (ambiguous,) = results(client.post(WEBHOOK, json=vapi_body(("c1", "cancelAppointment", {}), caller=phone), headers=AUTH))
    assert ambiguous["success"] is False and ambiguous["error"] == "ambiguous"
    assert ambiguous["message"].endswith("Which one do you mean?") and len(ambiguous["appointments"]) == 2
    assert count(sql, "appointments") == 2

    (cancelled,) = results(client.post(WEBHOOK, json=vapi_body(
        ("c2", "cancelAppointment", {"appointmentTime": "3pm"}), caller=phone), headers=AUTH))
    assert cancelled["success"] is True and "cancelled" in cancelled["message"]

    (moved,) = results(client.post(WEBHOOK, json=vapi_body(
        ("r1", "rescheduleAppointment", {"newDate": day.isoformat(), "newTime": "10:30"}), caller=phone), headers=AUTH))
    assert moved["success"] is True and "10:30 AM" in moved["message"]
    rows = sql("select status, starts_at from public.appointments where org_id = %s order by starts_at", [SUNRISE])
    assert [r[0] for r in rows] == ["pending", "cancelled"]
    assert rows[0][1] == local_instant(day, 10, 30)
    kinds = sql("select kind from public.appointment_events where org_id = %s order by id", [SUNRISE])
    assert [k for (k,) in kinds] == ["booked", "booked", "cancelled", "rescheduled"]


def test_reschedule_into_a_taken_slot_keeps_the_original(client, sql):
    day = next_open_day()
    for cid, hour, phone in (("d1", "9:00", "+14155550106"), ("d2", "11:00", "+14155550107")):
        args = {"appointmentDate": day.isoformat(), "appointmentTime": hour, "patientName": "Pat",
                "patientPhone": phone}
        results(client.post(WEBHOOK, json=vapi_body((cid, "bookClinicAppointment", args)), headers=AUTH))
    (refused,) = results(client.post(WEBHOOK, json=vapi_body(
        ("r2", "rescheduleAppointment", {"newDate": day.isoformat(), "newTime": "11:00"}),
        caller="+14155550106"), headers=AUTH))
    assert refused["success"] is False and refused["error"] == "slot_unavailable" and refused["alternatives"]
    starts = sql("select starts_at from public.appointments where org_id = %s order by starts_at", [SUNRISE])
    assert [s for (s,) in starts] == [local_instant(day, 9), local_instant(day, 11)]


# --- which clinic -----------------------------------------------------------------------------

def _book_args(hour="10:00"):
    return {"appointmentDate": next_open_day().isoformat(), "appointmentTime": hour, "patientName": "Org Test",
            "patientPhone": "4155550108"}


def test_assistant_mapping_resolves_the_org_without_metadata(client, sql):
    body = vapi_body(("m1", "bookClinicAppointment", _book_args()), org=None, assistant_id="asst_bayview_marcy")
    (result,) = results(client.post(WEBHOOK, json=body, headers=AUTH))
    assert result["success"] is True
    assert count(sql, "appointments", BAYVIEW) == 1 and count(sql, "appointments", SUNRISE) == 0


def test_claim_contradicting_the_mapping_is_refused(client, sql, caplog):
    caplog.set_level(logging.INFO)
    body = vapi_body(("m2", "bookClinicAppointment", _book_args()), org=BAYVIEW, assistant_id="asst_sunrise_sarah")
    (result,) = results(client.post(WEBHOOK, json=body, headers=AUTH))
    assert result["success"] is False
    assert "take a message" in result["message"]
    assert count(sql, "appointments", BAYVIEW) == 0 and count(sql, "appointments", SUNRISE) == 0
    assert any(getattr(r, "event_fields", {}).get("event") == "org.refused" for r in caplog.records)


@pytest.mark.parametrize("org", [None, str(uuid.uuid4()), "not-a-uuid"])
def test_no_or_unknown_org_is_a_generic_failure(client, sql, org):
    body = vapi_body(("m3", "bookClinicAppointment", _book_args()), org=org)
    (result,) = results(client.post(WEBHOOK, json=body, headers=AUTH))
    assert result["success"] is False and "take a message" in result["message"]
    assert sql("select count(*) from public.appointments")[0][0] == 0


# --- authentication ---------------------------------------------------------------------------

def _raw(body) -> bytes:
    return json.dumps(body).encode()


@pytest.mark.parametrize("headers", [
    {"X-Vapi-Secret": SECRET},
    {"Authorization": f"Bearer {SECRET}"},
])
def test_secret_and_bearer_are_accepted(client, headers):
    body = vapi_body(("h1", "checkAvailability", {"date": next_open_day().isoformat()}))
    assert client.post(WEBHOOK, json=body, headers=headers).status_code == 200


def test_hmac_signature_is_accepted_and_a_stale_one_refused(client, sql):
    raw = _raw(v2_body(next_open_day()))
    now = int(time.time())
    ok = client.post(V2_URL, data=raw, content_type="application/json",
                     headers={"x-timestamp": str(now), "x-signature": sign(SECRET, raw, now)})
    assert ok.status_code == 200 and ok.get_json()["result"]["success"]
    stale_ts = now - 6 * 60
    stale = client.post(V2_URL, data=raw, content_type="application/json",
                        headers={"x-timestamp": str(stale_ts), "x-signature": sign(SECRET, raw, stale_ts)})
    assert stale.status_code == 401 and stale.get_json() == {"error": "unauthorized", "reason": "stale_timestamp"}
    assert count(sql, "appointments") == 1


def _signed(raw: bytes, secret: str = SECRET, at: int | None = None) -> dict:
    at = int(time.time()) if at is None else at
    return {"x-timestamp": str(at), "x-signature": sign(secret, raw, at)}


def test_a_replayed_hmac_signature_is_refused_by_every_instance(client, sql, database_url):
    raw = _raw(v2_body(next_open_day(), call_id="replay-1"))
    headers = _signed(raw)
    first = client.post(V2_URL, data=raw, content_type="application/json", headers=headers)
    assert first.status_code == 200 and first.get_json()["result"]["success"] is True
    again = client.post(V2_URL, data=raw, content_type="application/json", headers=headers)
    assert again.status_code == 401 and again.get_json() == {"error": "unauthorized", "reason": "replayed_signature"}

    # Another gunicorn worker or instance is another process with its own memory: the claim is in
    # the database, so it refuses the replay too.
    from api import create_app

    other = create_app({"TESTING": True, "APP_ENV": "test", "VAPI_SECRET": SECRET, "DATABASE_URL": database_url})
    try:
        replay = other.test_client().post(V2_URL, data=raw, content_type="application/json", headers=headers)
        assert replay.status_code == 401 and replay.get_json()["reason"] == "replayed_signature"
    finally:
        other.extensions["deps"].gateway.close()
    assert count(sql, "appointments") == 1

    # A freshly signed request is a new request (the v2 contract: the same slot is now taken). Another
    # caller asks: the same patient again is `patient_busy` since issue 10 (an open contract question,
    # see tests/test_providers_webhook.py::test_the_same_patient_again_in_a_one_provider_clinic).
    raw = _raw(v2_body(next_open_day(), call_id="replay-1", name="Other Caller", phone="(415) 555-0177"))
    fresh = client.post(V2_URL, data=raw, content_type="application/json", headers=_signed(raw, at=int(time.time()) + 1))
    assert fresh.status_code == 200 and fresh.get_json()["result"]["error"] == "slot_unavailable"
    # An event can be replayed no more than a tool call.
    event = b'{"message":{"type":"status-update"}}'
    headers = _signed(event)
    assert client.post(WEBHOOK, data=event, content_type="application/json", headers=headers).status_code == 200
    assert client.post(WEBHOOK, data=event, content_type="application/json", headers=headers).status_code == 401
    assert count(sql, "appointments") == 1


def test_when_the_replay_check_cannot_run_a_signed_request_acts_on_nothing(unreachable_app):
    client = unreachable_app.test_client()
    raw = _raw(vapi_body(("u1", "bookClinicAppointment", _book_args())))
    response = client.post(WEBHOOK, data=raw, content_type="application/json", headers=_signed(raw))
    (result,) = results(response)
    assert result["success"] is False and result["error"] == "unavailable" and "trouble" in result["message"]
    event = b'{"message":{"type":"status-update"}}'
    assert client.post(WEBHOOK, data=event, content_type="application/json", headers=_signed(event)).get_json() == {}


class ClinicSecrets:
    """Stands in for app.extensions["org_webhook_secrets"]: Sunrise's own secret for its assistant."""

    def __init__(self, secret="clinic-own-secret", mapped=("asst_sunrise_sarah",)):
        self.secret, self.mapped, self.asked = secret, mapped, []

    def get(self, assistant_id, phone_number_id):
        from api.credentials import OrgWebhookSecret

        self.asked.append((assistant_id, phone_number_id))
        return OrgWebhookSecret(SUNRISE, self.secret) if assistant_id in self.mapped else None


def test_clinic_secret_hmac_reasons_stale_replayed_and_bad(app, client, sql):
    secrets = app.extensions["org_webhook_secrets"] = ClinicSecrets()
    raw = _raw(vapi_body(("cs-1", "bookClinicAppointment", _book_args()), org=None, assistant_id="asst_sunrise_sarah"))
    post = lambda headers: client.post(WEBHOOK, data=raw, content_type="application/json", headers=headers)  # noqa: E731

    stale = post(_signed(raw, "clinic-own-secret", at=int(time.time()) - 6 * 60))
    assert stale.status_code == 401 and stale.get_json()["reason"] == "stale_timestamp"
    wrong = post(_signed(raw, "not-the-clinic-secret"))
    assert wrong.status_code == 401 and wrong.get_json()["reason"] == "bad_signature"
    assert count(sql, "appointments") == 0

    headers = _signed(raw, "clinic-own-secret")
    (booked,) = results(post(headers))
    assert booked["success"] is True
    replay = post(headers)
    assert replay.status_code == 401 and replay.get_json()["reason"] == "replayed_signature"
    assert count(sql, "appointments") == 1
    assert set(secrets.asked) == {("asst_sunrise_sarah", None)}


@pytest.mark.parametrize("headers", [{}, {"X-Vapi-Secret": "wrong"}, {"Authorization": "Bearer wrong"},
                                     {"x-timestamp": "1", "x-signature": "00"}])
def test_bad_or_missing_credentials_are_401_and_write_nothing(client, sql, headers, caplog):
    caplog.set_level(logging.INFO)
    response = client.post(V2_URL, json=v2_body(next_open_day()), headers=headers)
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"
    assert sql("select count(*) from public.appointments")[0][0] == 0
    assert any(getattr(r, "event_fields", {}).get("event") == "auth.failed" for r in caplog.records)


# --- which clinic, in production ---------------------------------------------------------------

@pytest.fixture
def production_client(database_url):
    from api import create_app

    app = create_app({"APP_ENV": "production", "VAPI_SECRET": SECRET, "DATABASE_URL": database_url, "DB_POOL_MAX": 4})
    yield app.test_client()
    app.extensions["deps"].gateway.close()


def test_in_production_metadata_alone_does_not_pick_the_clinic(production_client, sql, caplog):
    caplog.set_level(logging.INFO)
    body = vapi_body(("p1", "bookClinicAppointment", _book_args("9:00")), org=SUNRISE)  # metadata, no mapping
    (refused,) = results(production_client.post(WEBHOOK, json=body, headers=AUTH))
    assert refused["success"] is False and refused["error"] == "unknown_org" and "take a message" in refused["message"]
    assert count(sql, "appointments") == 0 and count(sql, "leads") == 0
    event = next(r.event_fields for r in caplog.records if getattr(r, "event_fields", {}).get("event") == "org.refused")
    assert event["reason"] == "no_org" and event["claimedOrgId"] == SUNRISE and event["claimsAllowed"] is False

    # A mapping decides; metadata that agrees with it is fine.
    mapped = vapi_body(("p2", "bookClinicAppointment", _book_args("9:00")), org=SUNRISE, assistant_id="asst_sunrise_sarah")
    assert results(production_client.post(WEBHOOK, json=mapped, headers=AUTH))[0]["success"] is True
    # The v2 route (the platform's own secret) keeps metadata as the org source, in both body shapes:
    v2 = production_client.post(V2_URL, json=v2_body(next_open_day(), "10:00"), headers=AUTH).get_json()["result"]
    assert v2["success"] is True
    envelope = vapi_body(("p3", "bookClinicAppointment", _book_args("11:00")), org=SUNRISE)  # what --org operator commands send
    assert results(production_client.post(V2_URL, json=envelope, headers=AUTH))[0]["success"] is True
    assert count(sql, "appointments") == 3


def test_allow_metadata_org_defaults_on_only_in_development_and_test(database_url, sql):
    from api import create_app
    from api.config import from_environment

    assert from_environment({})["ALLOW_METADATA_ORG"] is None
    assert from_environment({"ALLOW_METADATA_ORG": "1"})["ALLOW_METADATA_ORG"] is True
    assert from_environment({"ALLOW_METADATA_ORG": "off"})["ALLOW_METADATA_ORG"] is False
    with pytest.raises(ValueError):
        from_environment({"ALLOW_METADATA_ORG": "maybe"})
    base = {"VAPI_SECRET": SECRET, "DATABASE_URL": database_url, "DB_POOL_MAX": 2}
    for config, allowed in (({"APP_ENV": "production"}, False), ({"APP_ENV": "staging"}, False),
                            ({"APP_ENV": "test"}, True), ({"APP_ENV": "development"}, True),
                            ({"APP_ENV": "production", "ALLOW_METADATA_ORG": True}, True),
                            ({"APP_ENV": "test", "ALLOW_METADATA_ORG": False}, False)):
        app = create_app({**base, **config})
        try:
            assert app.config["ALLOW_METADATA_ORG"] is allowed, config
            if config == {"APP_ENV": "production", "ALLOW_METADATA_ORG": True}:
                body = vapi_body(("a1", "bookClinicAppointment", _book_args("15:00")), org=SUNRISE)
                assert results(app.test_client().post(WEBHOOK, json=body, headers=AUTH))[0]["success"] is True
        finally:
            app.extensions["deps"].gateway.close()
    assert count(sql, "appointments") == 1


def test_a_clinic_secret_request_never_picks_its_clinic_by_metadata(database_url, sql):
    from api import create_app

    app = create_app({"APP_ENV": "production", "VAPI_SECRET": SECRET, "DATABASE_URL": database_url, "DB_POOL_MAX": 2})
    app.extensions["org_webhook_secrets"] = ClinicSecrets(mapped=("asst_not_in_vapi_assistants",))
    try:
        raw = _raw(vapi_body(("cm-1", "bookClinicAppointment", _book_args()), org=SUNRISE,
                             assistant_id="asst_not_in_vapi_assistants"))
        for url in (WEBHOOK, V2_URL):
            response = app.test_client().post(url, data=raw, content_type="application/json",
                                              headers=_signed(raw, "clinic-own-secret", at=int(time.time()) + len(url)))
            (result,) = results(response)
            assert result["error"] == "unknown_org", url
    finally:
        app.extensions["deps"].gateway.close()
    assert count(sql, "appointments") == 0


def test_app_refuses_to_start_without_a_secret_outside_development(database_url):
    from api import create_app

    with pytest.raises(RuntimeError, match="VAPI_SECRET"):
        create_app({"APP_ENV": "production", "VAPI_SECRET": "", "DATABASE_URL": database_url})
    dev = create_app({"APP_ENV": "development", "VAPI_SECRET": "", "DATABASE_URL": database_url})
    assert dev.test_client().post(WEBHOOK, json={"message": {"type": "status-update"}}).status_code == 200
    dev.extensions["deps"].gateway.close()


# --- health and failure -----------------------------------------------------------------------

def test_health_ok(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_database_down_gives_503_health_and_a_calm_spoken_failure(unreachable_app):
    client = unreachable_app.test_client()
    health = client.get("/health")
    assert health.status_code == 503 and health.get_json()["database"] == "unreachable"
    (result,) = results(client.post(WEBHOOK, json=vapi_body(("d1", "bookClinicAppointment", _book_args())), headers=AUTH))
    assert result["success"] is False
    assert "trouble" in result["message"] and "message" in result["message"]
    assert not re.search(r"psycopg|sql|select|table|Traceback", result["message"], re.IGNORECASE)
    v2 = client.post(V2_URL, json=v2_body(next_open_day()), headers=AUTH)
    assert v2.status_code == 200 and v2.get_json()["result"]["success"] is False


# --- logging ----------------------------------------------------------------------------------

def test_structured_logs_mask_phone_and_email(client, caplog):
    caplog.set_level(logging.INFO)
    client.post(V2_URL, json=v2_body(next_open_day(), phone="(415) 555-0123", email="jane.doe@example.com"),
                headers=AUTH)
    events = [r.event_fields for r in caplog.records if hasattr(r, "event_fields")]
    names = [e["event"] for e in events]
    assert {"booking.normalized", "rpc.call", "booking.confirmed"} <= set(names)
    confirmed = next(e for e in events if e["event"] == "booking.confirmed")
    assert confirmed["toolCallId"] == "test-1" and confirmed["orgId"] == SUNRISE
    booking_call = next(e for e in events if e["event"] == "rpc.call" and e["rpc"] == "book_appointment_atomic_v2")
    assert booking_call["toolCallId"] == "test-1" and booking_call["orgId"] == SUNRISE
    assert booking_call["duration_ms"] >= 0
    text = " ".join(json.dumps(e, default=str) for e in events) + " ".join(r.getMessage() for r in caplog.records)
    assert "4155550123" not in text and "jane.doe@example.com" not in text


def test_nul_characters_are_dropped_not_turned_into_a_database_failure(client, sql):
    # JSON may carry U+0000; PostgreSQL text cannot. Without dropping it the call failed in the
    # driver and the caller heard "trouble reaching our booking system".
    day = next_open_day()
    arguments = {"appointmentDate": day.isoformat(), "appointmentTime": "10:00",
                 "patientName": "Ann\u0000 Lee", "serviceType": "consult\u0000ation"}
    body = vapi_body(("tc\u0000-nul", "bookClinicAppointment", arguments), org=None,
                     assistant_id="asst_sunrise_\u0000sarah", call_id="call\u0000-nul")
    [reply] = results(client.post(WEBHOOK, json=body, headers=AUTH))
    assert reply["success"] is True, reply
    assert sql("select l.name, a.idempotency_key from public.appointments a"
               " join public.leads l on l.org_id = a.org_id and l.id = a.lead_id where a.id = %s",
               [reply["appointmentId"]]) == [("Ann Lee", idempotency_key("call\u0000-nul", "tc\u0000-nul"))]
    assert idempotency_key("call\u0000-nul", "tc\u0000-nul") == idempotency_key("call-nul", "tc-nul")
