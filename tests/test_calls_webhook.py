"""The whole call end to end: Vapi's sample bodies (tests/vapi_fixtures.py) through the real webhook
onto a freshly seeded database (supabase/migrations/20261125000750_calls.sql).

assistant-request for a mapped number (variables in the clinic's zone across midnight and on DST
days, from the app's injectable clock), for a clinic without an assistant of its own (a transient
assistant whose prompt is what `prompts show` prints and whose tools are docs/vapi-tools.json),
and for an unknown number; end-of-call-report stored once when sent three times at once, linked
to the call's booking, with the outcome of each case; status-update ended; hang (the assistant was
delayed: the call's row is marked, never ended, also when many arrive at once); the purge command
and retention; transfers in and out of the front desk's hours; takeMessage.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from api import calls, speech
from conftest import AUTH, BAYVIEW, SECRET, SUNRISE, next_open_day
from test_webhook import WEBHOOK, post_at_once, results, vapi_body
from vapi_fixtures import CALLER, assistant_request, end_of_call_report, hang, status_update, transfer_destination_request

UTC = timezone.utc
SUNRISE_HOURS = "9:00 AM to 12:00 PM and 1:00 PM to 5:00 PM"
BAYVIEW_PROMPT = "You are Marcy at Bayview Dental. Be upbeat and efficient."


class Clock:
    """The app's clock (create_app(clock=...)); None = the real time."""

    def __init__(self):
        self.at: datetime | None = None

    def __call__(self) -> datetime:
        return self.at or datetime.now(UTC)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def app(database_url, clock):
    from api import create_app

    app = create_app({"TESTING": True, "APP_ENV": "test", "VAPI_SECRET": SECRET, "DATABASE_URL": database_url,
                      "DB_POOL_MAX": 6, "PUBLIC_BASE_URL": "https://api.clinic.example"}, clock=clock)
    yield app
    app.extensions["deps"].gateway.close()


def post(client, body) -> dict:
    response = client.post(WEBHOOK, json=body, headers=AUTH)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


# ---------------------------------------------------------------------------------------------
# assistant-request
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("at,today,weekday,local_time,hours,open_now", [
    # across midnight in New York (EDT since Sunday, March 8th)
    ("2026-03-11T03:59:00Z", "Tuesday, March 10, 2026", "Tuesday", "11:59 PM", SUNRISE_HOURS, False),
    ("2026-03-11T04:00:00Z", "Wednesday, March 11, 2026", "Wednesday", "12:00 AM", SUNRISE_HOURS, False),
    ("2026-03-10T15:00:00Z", "Tuesday, March 10, 2026", "Tuesday", "11:00 AM", SUNRISE_HOURS, True),
    ("2026-03-10T16:30:00Z", "Tuesday, March 10, 2026", "Tuesday", "12:30 PM", SUNRISE_HOURS, False),  # lunch
    # DST starts (2:00 → 3:00): the same Sunday before and after the jump
    ("2026-03-08T06:30:00Z", "Sunday, March 8, 2026", "Sunday", "1:30 AM", "closed", False),
    ("2026-03-08T07:30:00Z", "Sunday, March 8, 2026", "Sunday", "3:30 AM", "closed", False),
    # DST ends (2:00 → 1:00): 1:30 AM twice; a Saturday, open 9 to 1
    ("2026-10-31T13:30:00Z", "Saturday, October 31, 2026", "Saturday", "9:30 AM", "9:00 AM to 1:00 PM", True),
    ("2026-11-01T05:30:00Z", "Sunday, November 1, 2026", "Sunday", "1:30 AM", "closed", False),
    ("2026-11-01T06:30:00Z", "Sunday, November 1, 2026", "Sunday", "1:30 AM", "closed", False),
])
def test_a_mapped_number_gets_its_assistant_and_todays_variables_in_the_clinics_zone(
        client, clock, at, today, weekday, local_time, hours, open_now):
    clock.at = datetime.fromisoformat(at.replace("Z", "+00:00"))
    reply = post(client, assistant_request("pn_sunrise_main"))
    assert list(reply) == ["assistantId", "assistantOverrides"]
    assert reply["assistantId"] == "asst_sunrise_sarah"
    variables = reply["assistantOverrides"]["variableValues"]
    local = clock.at.astimezone(ZoneInfo("America/New_York"))
    assert variables | {"providersToday": None, "assistantName": None} == {
        "clinicName": "Sunrise Family Clinic", "timezone": "America/New_York", "today": today,
        "todayIso": local.date().isoformat(), "weekday": weekday, "localTime": local_time,
        "openNow": open_now, "hoursToday": hours, "outsideHours": not open_now,
        "providersToday": None, "assistantName": None}
    # who works that day (the seed: Dr. Patel Mon/Wed/Fri/Sat, Dr. Lee Tue/Thu, Nurse Kim whenever open)
    working = {"Tuesday": ["Dr. Marcus Lee", "Nurse Joy Kim"], "Wednesday": ["Dr. Anika Patel", "Nurse Joy Kim"],
               "Saturday": ["Dr. Anika Patel", "Nurse Joy Kim"], "Sunday": []}[weekday]
    assert variables["providersToday"] == [{"name": name, "hours": hours} for name in working]


def test_the_same_instant_is_another_day_for_a_clinic_three_zones_west(client, clock, sql):
    sql("update public.vapi_assistants set phone_number_id = 'pn_bayview_main' where assistant_id = 'asst_bayview_marcy'")
    clock.at = datetime(2026, 3, 11, 5, 30, tzinfo=UTC)  # 01:30 Wednesday in New York
    sunrise = post(client, assistant_request("pn_sunrise_main"))["assistantOverrides"]["variableValues"]
    bayview = post(client, assistant_request("pn_bayview_main"))
    assert bayview["assistantId"] == "asst_bayview_marcy"
    bayview = bayview["assistantOverrides"]["variableValues"]
    assert (sunrise["weekday"], sunrise["localTime"]) == ("Wednesday", "1:30 AM")
    assert (bayview["weekday"], bayview["localTime"], bayview["today"]) == ("Tuesday", "10:30 PM",
                                                                            "Tuesday, March 10, 2026")
    assert bayview["hoursToday"] == "8:00 AM to 4:00 PM" and bayview["outsideHours"] is True


@pytest.fixture
def bayview_without_assistant(sql):
    """Bayview answers its number with a transient assistant: only a phone-number mapping (with the
    clinic's prompt and the assistant's name) and a Vapi credential id in its call settings."""
    sql("delete from public.vapi_assistants where org_id = %s", [BAYVIEW])
    sql("insert into public.vapi_assistants (org_id, phone_number_id, label, assistant_name, custom_prompt)"
        " values (%s, 'pn_bayview_main', 'Bayview main line', 'Marcy', %s)", [BAYVIEW, BAYVIEW_PROMPT])
    sql("insert into public.clinic_call_settings (org_id, server_credential_id) values (%s, 'cred-bayview-7')",
        [BAYVIEW])


def test_a_clinic_without_its_own_assistant_gets_a_transient_one(app, client, clock, bayview_without_assistant):
    clock.at = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)  # 10:00 AM Tuesday in Los Angeles
    reply = post(client, assistant_request("pn_bayview_main"))
    assert list(reply) == ["assistant", "assistantOverrides"]
    assistant = reply["assistant"]

    shown = app.test_cli_runner().invoke(args=["prompts", "show", "--org", BAYVIEW])
    assert shown.exit_code == 0, shown.output
    assert assistant["model"]["messages"] == [{"role": "system", "content": shown.stdout}]
    assert "Today is Tuesday, March 10, 2026 in the clinic's time zone (America/Los_Angeles)." in shown.stdout
    assert BAYVIEW_PROMPT in shown.stdout and "You are Marcy, the voice receptionist of Bayview Dental." in shown.stdout

    server = {"url": "https://api.clinic.example/api/vapi/webhook", "credentialId": "cred-bayview-7"}
    expected_tools = json.loads((calls.TOOLS_PATH).read_text())
    for tool in expected_tools:
        tool["server"] = server
    assert assistant["model"]["tools"] == expected_tools
    assert assistant["server"] == server
    assert SECRET not in json.dumps(reply)
    # the defaults of private.call_settings, and the variables as for any clinic
    assert assistant["voice"] == calls.DEFAULT_VOICE
    assert {k: assistant["model"][k] for k in ("provider", "model", "temperature")} == calls.DEFAULT_MODEL
    assert assistant["firstMessage"] == "Thank you for calling Bayview Dental. How can I help you today?"
    assert assistant["name"] == "Marcy"
    variables = reply["assistantOverrides"]["variableValues"]
    assert (variables["clinicName"], variables["localTime"], variables["openNow"]) == ("Bayview Dental", "10:00 AM", True)


def test_a_transient_assistant_from_clinic_settings(client, clock, sql, bayview_without_assistant):
    sql("update public.clinic_call_settings set first_message = %s, voice = %s, model = %s where org_id = %s",
        ["Bayview Dental, Marcy speaking!", json.dumps({"provider": "11labs", "voiceId": "marcy"}),
         json.dumps({"provider": "anthropic", "model": "claude-3-5-sonnet-20241022", "temperature": 0.1}), BAYVIEW])
    assistant = post(client, assistant_request("pn_bayview_main"))["assistant"]
    assert assistant["firstMessage"] == "Bayview Dental, Marcy speaking!"
    assert assistant["voice"] == {"provider": "11labs", "voiceId": "marcy"}
    assert assistant["model"]["provider"] == "anthropic" and assistant["model"]["temperature"] == 0.1
    sql("update public.clinic_call_settings set server_credential_id = null where org_id = %s", [BAYVIEW])
    assistant = post(client, assistant_request("pn_bayview_main"))["assistant"]
    assert "server" not in assistant and all("server" not in tool for tool in assistant["model"]["tools"])


def rpcs(caplog) -> list[str]:
    return [r.event_fields["rpc"] for r in caplog.records if getattr(r, "event_fields", {}).get("event") == "rpc.call"]


def test_a_transient_assistant_is_one_rpc_and_its_prompt_follows_the_clinics_providers(
        app, client, clock, sql, caplog, bayview_without_assistant):
    """One round trip on the first call too (the profile comes with resolve_assistant_request);
    the prompt lists who works at the clinic as the worker's profile says, refreshed when that
    profile expires (PROFILE_CACHE_SECONDS, as for tool calls): never a stale cached assistant."""
    caplog.set_level(logging.INFO)
    clock.at = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)

    def prompt() -> str:
        return post(client, assistant_request("pn_bayview_main"))["assistant"]["model"]["messages"][0]["content"]

    first = prompt()
    assert "Dr. Sofia Reyes" in first and rpcs(caplog) == ["resolve_assistant_request"]
    caplog.clear()
    assert prompt() == first and rpcs(caplog) == ["resolve_assistant_request"]
    sql("update public.providers set display_name = 'Dr. Sofia Reyes-Ortiz' where org_id = %s"
        " and display_name = 'Dr. Sofia Reyes'", [BAYVIEW])
    app.extensions["deps"].profiles.clear()  # what PROFILE_CACHE_SECONDS does to every entry
    caplog.clear()
    renamed = prompt()
    assert "Dr. Sofia Reyes-Ortiz" in renamed and rpcs(caplog) == ["resolve_assistant_request"]
    shown = app.test_cli_runner().invoke(args=["prompts", "show", "--org", BAYVIEW])
    assert renamed == shown.stdout
    # the next clinic-local day: a new date in the prompt, from the same held profile
    clock.at = datetime(2026, 3, 11, 7, 0, tzinfo=UTC)  # 00:00 Wednesday in Los Angeles
    assert "Today is Wednesday, March 11, 2026 in the clinic's time zone" in prompt()


@pytest.mark.parametrize("phone_number_id", ["pn_nobody", "x" * 500, None])
def test_an_unknown_number_is_answered_with_a_calm_line(client, phone_number_id):
    assert post(client, assistant_request(phone_number_id)) == {"error": speech.unknown_number()}


def test_a_database_that_does_not_answer_still_gets_a_line_spoken(unreachable_app):
    response = unreachable_app.test_client().post(WEBHOOK, json=assistant_request(), headers=AUTH)
    assert response.status_code == 200 and response.get_json() == {"error": speech.unknown_number()}
    for body in (end_of_call_report(1), status_update("ended"), hang()):
        assert unreachable_app.test_client().post(WEBHOOK, json=body, headers=AUTH).get_json() == {}
    reply = unreachable_app.test_client().post(WEBHOOK, json=transfer_destination_request(), headers=AUTH)
    assert reply.status_code == 200 and reply.get_json() == {"error": speech.transfer_unavailable()}


# ---------------------------------------------------------------------------------------------
# end-of-call-report
# ---------------------------------------------------------------------------------------------


def book(client, call_id, *, day=None, at="10:00 AM", name="Call Log Patient") -> str:
    day = day or next_open_day(min_days=3)
    body = vapi_body(("tc-book", "bookClinicAppointment", {
        "appointmentDate": day.isoformat(), "appointmentTime": at, "patientName": name}),
        caller=CALLER, call_id=call_id)
    (result,) = results(client.post(WEBHOOK, json=body, headers=AUTH))
    assert result["success"] is True, result
    return result["appointmentId"]


def call_row(sql, call_id, org=SUNRISE):
    rows = sql("select outcome, status, caller_number, ended_reason, transcript is not null, messages is not null,"
               " recording_url, duration_seconds from public.calls where org_id = %s and vapi_call_id = %s",
               [org, call_id])
    return rows[0] if rows else None


def test_a_report_sent_three_times_at_once_is_stored_once_and_linked_to_the_calls_booking(app, client, sql):
    appointment_id = book(client, "call-log-1")
    body = end_of_call_report(4, call_id="call-log-1")
    answers = post_at_once(app, body, 3)
    assert [(r.status_code, r.get_json()) for r in answers] == [(200, {})] * 3
    assert sql("select count(*) from public.calls where vapi_call_id = 'call-log-1'") == [(1,)]
    outcome, status, caller, reason, has_transcript, has_messages, recording, duration = call_row(sql, "call-log-1")
    assert (outcome, status, caller, reason) == ("booked", "ended", CALLER, "customer-ended-call")
    assert has_transcript and has_messages and recording.startswith("https://storage.vapi.ai/") and duration == 240
    (line,) = sql("select outcome, appointment_ids, appointments, summary, caller_number from public.call_log"
                  " where call_id = 'call-log-1'")
    assert line[0] == "booked" and [str(a) for a in line[1]] == [appointment_id]
    assert line[2] == [{"appointmentId": appointment_id, "kind": "booked"}]
    assert line[3] == "Booked a cleaning." and line[4] == CALLER


def test_outcomes(client, sql):
    day = next_open_day(min_days=4)
    # rescheduled and cancelled: a booking from an earlier call, changed on these calls
    book(client, "call-earlier-1", day=day, at="9:00 AM", name="Moved Patient")
    moved = vapi_body(("tc-move", "rescheduleAppointment", {"newDate": day.isoformat(), "newTime": "3:00 PM"}),
                      caller=CALLER, call_id="call-rescheduled")
    assert results(client.post(WEBHOOK, json=moved, headers=AUTH))[0]["success"] is True
    cancelled = vapi_body(("tc-cancel", "cancelAppointment", {}), caller=CALLER, call_id="call-cancelled")
    assert results(client.post(WEBHOOK, json=cancelled, headers=AUTH))[0]["success"] is True
    message = vapi_body(("tc-msg", "takeMessage", {"callerName": "Jordan Avery", "reason": "billing question"}),
                        caller=CALLER, call_id="call-message")
    (taken,) = results(client.post(WEBHOOK, json=message, headers=AUTH))
    assert taken == {"success": True, "callbackRequestId": taken["callbackRequestId"],
                     "message": speech.message_taken(own_number=True)}

    cases = {
        "call-rescheduled": ({}, "rescheduled"),
        "call-cancelled": ({}, "cancelled"),
        "call-message": ({}, "message_taken"),
        "call-transferred": ({"ended_reason": "assistant-forwarded-call"}, "transferred"),
        "call-failed": ({"ended_reason": "pipeline-error-openai-llm-failed"}, "failed"),
        "call-info": ({}, "info_only"),
    }
    for call_id, (options, outcome) in cases.items():
        assert post(client, end_of_call_report(3, call_id=call_id, **options)) == {}
        assert call_row(sql, call_id)[0] == outcome, call_id
    # abandoned: the caller hung up within seconds
    short = end_of_call_report(1, call_id="call-abandoned")
    short["message"]["endedAt"] = "2026-03-20T14:00:12.000Z"
    short["message"]["artifact"]["messages"] = short["message"]["artifact"]["messages"][:1]
    assert post(client, short) == {}
    assert call_row(sql, "call-abandoned")[0] == "abandoned"
    (ids,) = sql("select callback_request_ids from public.call_log where call_id = 'call-message'")[0]
    assert [str(i) for i in ids] == [taken["callbackRequestId"]]
    assert sql("select caller_name, callback_number, reason, call_id from public.open_callback_requests") == [
        ("Jordan Avery", CALLER, "billing question", "call-message")]


def test_the_newer_recording_object_and_a_report_without_caller_id(client, sql):
    assert post(client, end_of_call_report(2, call_id="call-rec", recording="object", caller=None)) == {}
    _, _, caller, _, _, _, recording, _ = call_row(sql, "call-rec")
    assert caller is None and recording == "https://storage.vapi.ai/recordings/call-rec.wav"


def test_status_update_ended_marks_the_call_until_the_report_comes_and_hang_does_not_end_it(client, sql):
    for status in ("ringing", "in-progress"):
        assert post(client, status_update(status, call_id="call-status")) == {}
    assert call_row(sql, "call-status") is None
    assert post(client, hang(call_id="call-status")) == {}
    outcome, status, *_ = call_row(sql, "call-status")
    assert (outcome, status) == ("info_only", "in_progress")  # marked, not ended
    assert post(client, status_update("ended", call_id="call-status", ended_reason="assistant-forwarded-call")) == {}
    outcome, status, *_ = call_row(sql, "call-status")
    assert (outcome, status) == ("transferred", "ended")
    assert post(client, end_of_call_report(2, call_id="call-status")) == {}  # the report replaces it
    outcome, status, _, reason, has_transcript, *_ = call_row(sql, "call-status")
    assert (outcome, reason, has_transcript) == ("info_only", "customer-ended-call", True)
    assert post(client, status_update("ended", call_id="call-status", ended_reason="silence-timed-out")) == {}
    assert call_row(sql, "call-status")[3] == "customer-ended-call"  # a stored report stands
    assert sql("select count(*) from public.calls") == [(1,)]
    assert sql("select hang_count from public.calls where vapi_call_id = 'call-status'") == [(1,)]


def hang_row(sql, call_id):
    rows = sql("select hang_count, last_hang_at, status, ended_at, ended_reason, reported_at, outcome"
               " from public.calls where org_id = %s and vapi_call_id = %s", [SUNRISE, call_id])
    return rows[0] if rows else None


def test_hangs_sent_at_once_mark_one_row_never_end_it_and_the_report_fills_it(app, client, sql, caplog):
    """Vapi's hang (the assistant is delayed) can come many times per call, several at once: one row
    (created by the first), every hang counted, nothing ended; the report later fills the row."""
    caplog.set_level(logging.INFO)
    body = hang(call_id="call-hang")
    sent_at = datetime.fromtimestamp(body["message"]["timestamp"] / 1000, UTC)
    answers = post_at_once(app, body, 5)
    assert [(r.status_code, r.get_json()) for r in answers] == [(200, {})] * 5
    assert hang_row(sql, "call-hang") == (5, sent_at, "in_progress", None, None, None, "info_only")
    assert sql("select hang_count, last_hang_at, status, ended_at from public.call_log where call_id = 'call-hang'") == [
        (5, sent_at, "in_progress", None)]
    counts = sorted(r.event_fields["hangCount"] for r in caplog.records
                    if getattr(r, "event_fields", {}).get("event") == "call.hang")
    assert counts == [1, 2, 3, 4, 5]

    assert post(client, end_of_call_report(3, call_id="call-hang")) == {}
    hangs, last, status, ended_at, reason, reported_at, outcome = hang_row(sql, "call-hang")
    assert (hangs, last, status, reason, outcome) == (5, sent_at, "ended", "customer-ended-call", "info_only")
    assert ended_at is not None and reported_at is not None
    _, _, caller, _, has_transcript, has_messages, _, duration = call_row(sql, "call-hang")
    assert (caller, has_transcript, has_messages, duration) == (CALLER, True, True, 180)
    assert sql("select count(*) from public.calls") == [(1,)]


def test_a_hang_on_a_booked_call_keeps_its_outcome(client, sql):
    book(client, "call-hang-booked")
    assert post(client, end_of_call_report(2, call_id="call-hang-booked")) == {}
    assert post(client, hang(call_id="call-hang-booked")) == {}
    hangs, _, status, _, reason, _, outcome = hang_row(sql, "call-hang-booked")
    assert (hangs, status, reason, outcome) == (1, "ended", "customer-ended-call", "booked")


def test_a_hang_for_an_unmapped_number_or_without_a_call_id_stores_nothing(client, sql):
    assert post(client, hang(call_id="call-stranger-hang", phone_number_id="pn_nobody")) == {}
    body = hang(call_id="call-no-id")
    del body["message"]["call"]["id"]
    assert post(client, body) == {}
    assert sql("select count(*) from public.calls") == [(0,)]


def test_a_report_for_an_unmapped_number_stores_nothing(client, sql):
    body = end_of_call_report(2, call_id="call-stranger", phone_number_id="pn_nobody")
    assert post(client, body) == {}
    assert sql("select count(*) from public.calls") == [(0,)]


# ---------------------------------------------------------------------------------------------
# Retention: flask --app api calls purge
# ---------------------------------------------------------------------------------------------


def test_purge_drops_artifacts_past_each_clinics_retention_and_keeps_the_rows(app, client, sql):
    sql("update public.vapi_assistants set phone_number_id = 'pn_bayview_main' where assistant_id = 'asst_bayview_marcy'")
    sql("insert into public.clinic_call_settings (org_id, transcript_retention_days) values (%s, 7)", [BAYVIEW])
    now = datetime.now(UTC)
    for org_phone, days, call_id in (("pn_sunrise_main", 10, "sun-10"), ("pn_sunrise_main", 40, "sun-40"),
                                     ("pn_bayview_main", 3, "bay-3"), ("pn_bayview_main", 10, "bay-10")):
        started = (now - timedelta(days=days)).strftime("%Y-%m-%dT%H:00:00.000Z")
        body = end_of_call_report(2, call_id=call_id, phone_number_id=org_phone, started_at=started)
        assert post(client, body) == {}
    result = app.test_cli_runner().invoke(args=["calls", "purge"])
    assert result.exit_code == 0, result.output
    assert result.stdout == "purged the transcripts, messages and recordings of 2 calls\n"
    kept = sql("select vapi_call_id, transcript is null, messages is null, recording_url is null,"
               " artifacts_purged_at is not null, outcome, summary from public.calls order by vapi_call_id")
    assert kept == [("bay-10", True, True, True, True, "info_only", "Booked a cleaning."),
                    ("bay-3", False, False, False, False, "info_only", "Booked a cleaning."),
                    ("sun-10", False, False, False, False, "info_only", "Booked a cleaning."),
                    ("sun-40", True, True, True, True, "info_only", "Booked a cleaning.")]
    again = app.test_cli_runner().invoke(args=["calls", "purge"])
    assert again.stdout == "purged the transcripts, messages and recordings of 0 calls\n"
    # a late repeat of a purged call's report does not bring its transcript back
    started = (now - timedelta(days=40)).strftime("%Y-%m-%dT%H:00:00.000Z")
    assert post(client, end_of_call_report(2, call_id="sun-40", started_at=started)) == {}
    assert sql("select transcript is null from public.calls where vapi_call_id = 'sun-40'") == [(True,)]


# ---------------------------------------------------------------------------------------------
# transfer-destination-request
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("at,transferred,reason", [
    ("2026-03-10T16:30:00Z", True, None),       # Tuesday 12:30 PM: lunch, but the front desk takes transfers
    ("2026-03-10T13:30:00Z", True, None),       # Tuesday 9:30 AM (EDT)
    ("2026-03-10T12:30:00Z", False, "closed"),  # Tuesday 8:30 AM
    ("2026-03-10T21:30:00Z", False, "closed"),  # Tuesday 5:30 PM
    ("2026-03-14T15:00:00Z", False, "closed"),  # Saturday 11:00 AM: open for bookings, no transfers
    ("2026-03-09T13:30:00Z", True, None),       # Monday after the DST jump, 9:30 AM EDT
    ("2026-03-09T12:30:00Z", False, "closed"),  # 8:30 AM EDT (it would be 9:30 AM in EST)
])
def test_transfer_during_the_front_desks_hours_only(client, clock, at, transferred, reason):
    clock.at = datetime.fromisoformat(at.replace("Z", "+00:00"))
    reply = post(client, transfer_destination_request())
    if transferred:
        assert reply == {"destination": {"type": "number", "number": "+12125550142",
                                         "message": speech.transfer_connecting()}}
    else:
        assert reply == {"error": speech.transfer_unavailable(reason)}


def test_a_clinic_without_a_front_desk_number_offers_a_message(client, clock, sql):
    sql("update public.vapi_assistants set phone_number_id = 'pn_bayview_main' where assistant_id = 'asst_bayview_marcy'")
    clock.at = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)  # Bayview open
    body = transfer_destination_request(assistant_id="asst_bayview_marcy", phone_number_id="pn_bayview_main")
    assert post(client, body) == {"error": speech.transfer_unavailable("no_number")}
    sql("update public.clinic_call_settings set transfer_message = 'Putting you through to Dana now.'"
        " where org_id = %s", [SUNRISE])
    clock.at = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
    assert post(client, transfer_destination_request())["destination"]["message"] == "Putting you through to Dana now."


# ---------------------------------------------------------------------------------------------
# takeMessage
# ---------------------------------------------------------------------------------------------


def test_take_message_on_another_number_with_a_preferred_time(client, sql):
    body = vapi_body(("tc-m", "takeMessage", {"callerName": "sam lee", "reason": "Results from last week",
                                              "callbackNumber": "(415) 555-0177", "preferredTime": "after 3pm"}),
                     caller=CALLER, call_id="call-m2")
    (reply,) = results(client.post(WEBHOOK, json=body, headers=AUTH))
    assert reply["success"] is True and reply["message"] == speech.message_taken(own_number=False)
    assert sql("select caller_name, callback_number, reason, preferred_time, vapi_call_id, status"
               " from public.callback_requests") == [
        ("Sam Lee", "+14155550177", "Results from last week", "after 3pm", "call-m2", "open")]
    # the same tool call retried by Vapi does not leave a second request
    (again,) = results(client.post(WEBHOOK, json=body, headers=AUTH))
    assert again["callbackRequestId"] == reply["callbackRequestId"]
    assert sql("select count(*) from public.callback_requests") == [(1,)]


def test_a_clinics_own_webhook_secret_gets_only_its_own_numbers_assistant(database_url, sql):
    from test_credentials import make_app, store

    sql("update public.vapi_assistants set phone_number_id = 'pn_bayview_main' where assistant_id = 'asst_bayview_marcy'")
    app = make_app(database_url)
    try:
        store(app, BAYVIEW, "webhook_secret", "bayview-hook-secret")
        client, bayview_secret = app.test_client(), {"X-Vapi-Secret": "bayview-hook-secret"}
        own = client.post(WEBHOOK, json=assistant_request("pn_bayview_main"), headers=bayview_secret)
        assert own.status_code == 200 and own.get_json()["assistantId"] == "asst_bayview_marcy"
        # Bayview's assistant id picks Bayview's secret, but the number called is Sunrise's: SQL
        # resolves Sunrise (phone number first), which is not the clinic that authenticated.
        body = assistant_request("pn_sunrise_main")
        body["message"]["assistant"] = {"id": "asst_bayview_marcy"}
        crossed = client.post(WEBHOOK, json=body, headers=bayview_secret)
        assert crossed.status_code == 200 and crossed.get_json() == {"error": speech.unknown_number()}
        assert client.post(WEBHOOK, json=assistant_request("pn_sunrise_main"), headers=bayview_secret).status_code == 401
    finally:
        app.extensions["deps"].gateway.close()
