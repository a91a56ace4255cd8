"""Caller verification (issue 9): who may hear about or change a booking.

First the Python side alone, with a recording gateway: what the tools send as the caller context
(`p_caller`) and hints, that each tool is one RPC, and that refusals are spoken without passing on
anything SQL did not mean to disclose. Then end to end through the real webhook on a fresh
database: the attack of issue 9 point 1 (a foreign caller ID naming a patient's phone), the same
with name and date of birth, the caller-ID match, the lock after three failures, the access log,
and the date of birth at booking.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from api import speech
from api.gateway import RpcError
from api.normalize import OpeningHours
from api.orgs import OrgProfile
from api.tools import HANDLERS, ToolContext, caller_context, dispatch
from conftest import AUTH, NEW_YORK, SUNRISE, local_instant, next_open_day
from test_webhook import WEBHOOK, results

# --------------------------------------------------------------------------------------------------
# The Python side alone
# --------------------------------------------------------------------------------------------------

TODAY = date(2026, 11, 25)  # a Wednesday
# The seed's Sunrise hours: Mon–Fri 09:00–12:00 and 13:00–17:00, Sat 09:00–13:00, closed on Sunday.
SUNRISE_HOURS = OpeningHours.from_profile(
    [{"weekday": day, "opensAt": "09:00", "closesAt": "12:00"} for day in range(1, 6)]
    + [{"weekday": day, "opensAt": "13:00", "closesAt": "17:00"} for day in range(1, 6)]
    + [{"weekday": 6, "opensAt": "09:00", "closesAt": "13:00"}])
PROFILE = OrgProfile(org_id=SUNRISE, name="Sunrise Family Clinic", timezone=ZoneInfo("America/New_York"),
                     phone_region="US", hours=SUNRISE_HOURS)
VICTIM = "+14155559876"
ATTACKER = "+12125550000"


class RecordingGateway:
    """Answers every RPC with `reply` (or raises it) and records what was asked."""

    def __init__(self, reply: dict | Exception | None = None):
        self.reply = reply if reply is not None else {"success": True, "appointments": [], "searched": "caller_id"}
        self.calls: list[tuple[str, dict]] = []

    def rpc(self, name: str, params: dict) -> dict:
        self.calls.append((name, params))
        json.dumps(params)  # what both data paths send must be plain JSON
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply

    def close(self) -> None:
        pass


def context(gateway, *, caller_number=ATTACKER, call_id="call-unit", source="vapi") -> ToolContext:
    return ToolContext(gateway=gateway, profile=PROFILE, today=TODAY, tool_call_id="tc-unit",
                       caller_number=caller_number, call_id=call_id, source=source)


def only_call(gateway) -> tuple[str, dict]:
    assert len(gateway.calls) == 1, gateway.calls
    return gateway.calls[0]


def test_a_spoken_phone_is_a_claim_next_to_the_caller_id_never_instead_of_it():
    # Issue 9 point 1: the spoken patientPhone used to replace call.customer.number.
    gateway = RecordingGateway()
    dispatch("lookupAppointments", context(gateway), {"patientPhone": "(415) 555-9876"})
    name, params = only_call(gateway)
    assert name == "find_upcoming_appointments"
    assert params == {"p_org_id": SUNRISE, "p_caller": {
        "source": "vapi", "callId": "call-unit", "callerNumber": ATTACKER, "phone": VICTIM}}


def test_the_caller_context_carries_the_three_claims_normalized():
    ctx = context(RecordingGateway(), caller_number="+1 (212) 555-0000")
    caller = caller_context(ctx, {"patientPhone": "415.555.9876", "patientName": "  JANE   DOE ",
                                  "patientDateOfBirth": "March 5th, 1980"})
    assert caller == {"source": "vapi", "callId": "call-unit", "callerNumber": ATTACKER, "phone": VICTIM,
                      "name": "Jane Doe", "dateOfBirth": "1980-03-05"}


@pytest.mark.parametrize("spoken", ["the number I'm calling from", "this number", "my number", ATTACKER,
                                    "(212) 555-0000", "", None])
def test_words_for_the_own_line_or_the_caller_id_itself_are_no_phone_claim(spoken):
    caller = caller_context(context(RecordingGateway()), {"patientPhone": spoken})
    assert "phone" not in caller and caller["callerNumber"] == ATTACKER


@pytest.mark.parametrize("network_number", [None, "", "anonymous", "Restricted", "12", "+999"])
def test_a_missing_or_unreadable_caller_id_is_left_out(network_number):
    caller = caller_context(context(RecordingGateway(), caller_number=network_number), {})
    assert caller == {"source": "vapi", "callId": "call-unit"}


def test_placeholder_names_are_no_name_and_the_call_id_is_clamped():
    ctx = context(RecordingGateway(), call_id="c" * 5000)
    caller = caller_context(ctx, {"patientName": "unknown"})
    assert "name" not in caller and caller["callId"] == "c" * 200


@pytest.mark.parametrize("tool", ["lookupAppointments", "cancelAppointment", "rescheduleAppointment"])
@pytest.mark.parametrize("argument, value, field", [
    ("patientDateOfBirth", "next Friday", "patientDateOfBirth"),
    ("patientDateOfBirth", "2030-01-01", "patientDateOfBirth"),
    ("patientPhone", "12", "patientPhone"),
])
def test_an_unreadable_claim_is_re_asked_and_nothing_is_called(tool, argument, value, field):
    gateway = RecordingGateway()
    arguments = {argument: value, "newDate": "December 9th", "newTime": "10am"}
    reply = dispatch(tool, context(gateway), arguments)
    assert reply["success"] is False and reply["error"] == "invalid_input" and reply["field"] == field
    assert value not in reply["message"] and "2030" not in reply["message"]  # never repeated back
    assert gateway.calls == []


@pytest.mark.parametrize("arguments, hints", [
    ({}, dict(p_appointment_id=None, p_local_date=None, p_weekday=None, p_local_time=None)),
    ({"appointmentDate": "the Tuesday one"}, dict(p_appointment_id=None, p_local_date=None, p_weekday=2, p_local_time=None)),
    ({"appointmentDate": "December 8th"}, dict(p_appointment_id=None, p_local_date="2026-12-08", p_weekday=None, p_local_time=None)),
    ({"appointmentTime": "2pm"}, dict(p_appointment_id=None, p_local_date=None, p_weekday=None, p_local_time="14:00:00")),
    ({"appointmentDate": "Saturday", "appointmentTime": "half past nine"},
     dict(p_appointment_id=None, p_local_date=None, p_weekday=6, p_local_time="09:30:00")),
    ({"appointmentTime": "two"}, dict(p_appointment_id=None, p_local_date=None, p_weekday=None, p_local_time="14:00:00")),
    ({"appointmentId": " 0D7A3F9C-1B2E-4C5D-8E9F-0A1B2C3D4E5F "},
     dict(p_appointment_id="0d7a3f9c-1b2e-4c5d-8e9f-0a1b2c3d4e5f", p_local_date=None, p_weekday=None, p_local_time=None)),
    ({"appointmentId": "the second one"}, dict(p_appointment_id=None, p_local_date=None, p_weekday=None, p_local_time=None)),
    ({"appointmentDate": "the one on the 9th"},  # a day of the month, whichever month: SQL matches it
     dict(p_appointment_id=None, p_local_date=None, p_weekday=None, p_local_time=None, p_day_of_month=9)),
    ({"appointmentDate": "the flu shot"},  # no day: what it is for or who it is with, SQL matches it (p_which)
     dict(p_appointment_id=None, p_local_date=None, p_weekday=None, p_local_time=None, p_which="the flu shot")),
    ({"appointmentDate": "the last one"},  # an order among the matches: SQL picks the last
     dict(p_appointment_id=None, p_local_date=None, p_weekday=None, p_local_time=None, p_ordinal=-1)),
    ({"appointmentDate": "the first flu shot"},  # an order with the words beside it as p_which
     dict(p_appointment_id=None, p_local_date=None, p_weekday=None, p_local_time=None, p_ordinal=1,
          p_which="flu shot")),
    ({"appointmentTime": "the morning one"},  # a part of the day: a clinic-local range
     dict(p_appointment_id=None, p_local_date=None, p_weekday=None, p_local_time=None, p_before_time="12:00:00")),
    ({"appointmentTime": "the 2 o'clock one"},
     dict(p_appointment_id=None, p_local_date=None, p_weekday=None, p_local_time="14:00:00")),
])
def test_cancel_is_one_rpc_with_the_callers_description_as_hints(arguments, hints):
    gateway = RecordingGateway({"success": False, "error": "not_found", "appointments": [], "searched": "caller_id"})
    dispatch("cancelAppointment", context(gateway), dict(arguments, reason="feeling better"))
    name, params = only_call(gateway)
    assert name == "cancel_appointment"
    assert params == {"p_org_id": SUNRISE, "p_caller": {"source": "vapi", "callId": "call-unit", "callerNumber": ATTACKER},
                      **hints, "p_reason": "feeling better"}


@pytest.mark.parametrize("tool, arguments, at", [
    # Sunrise is closed on Sundays: neither reading is inside that day's hours, so its usual hours read the
    # hour (9:30 AM, 2 PM) — asking "morning or evening?" would only lead to "we're closed then".
    ("cancelAppointment", {"appointmentDate": "Sunday", "appointmentTime": "half past nine"}, "09:30:00"),
    ("rescheduleAppointment", {"newDate": "December 13th", "newTime": "9:30"},
     datetime(2026, 12, 13, 9, 30, tzinfo=NEW_YORK)),
    ("rescheduleAppointment", {"newDate": "December 9th", "newTime": "10am", "currentDate": "Sunday",
                               "currentTime": "2"}, "14:00:00"),
])
def test_an_hour_on_a_closed_day_is_read_in_the_usual_hours_and_sql_is_asked(tool, arguments, at):
    gateway = RecordingGateway({"success": False, "error": "verification_required"})
    reply = dispatch(tool, context(gateway), arguments)
    assert reply.get("reask") != "appointment_time_meridiem", reply
    said = at if isinstance(at, str) else at.isoformat()  # a booked time's hint, or a new instant
    assert said in only_call(gateway)[1].values(), only_call(gateway)


@pytest.mark.parametrize("tool, arguments, field, question", [
    # Open 7 AM to 8 PM: both readings of "8" are inside the hours, so the caller is asked.
    ("rescheduleAppointment", {"newDate": "December 9th", "newTime": "8"}, "appointmentTime",
     "Is that 8 in the evening or in the morning?"),
])
def test_an_hour_the_opening_hours_do_not_settle_is_asked_about_and_nothing_is_called(tool, arguments, field,
                                                                                        question):
    gateway = RecordingGateway()
    long_days = dataclasses.replace(PROFILE, hours=OpeningHours(tuple((d, 420, 1200) for d in range(1, 6))))
    reply = dispatch(tool, dataclasses.replace(context(gateway), profile=long_days), arguments)
    assert reply == {"success": False, "error": "invalid_input", "field": field,
                     "reask": "appointment_time_meridiem", "message": question}
    assert gateway.calls == []


def test_a_new_time_without_am_pm_is_read_in_that_days_opening_hours():
    gateway = RecordingGateway({"success": False, "error": "verification_required"})
    dispatch("rescheduleAppointment", context(gateway), {"newDate": "December 12th", "newTime": "9:30"})  # Saturday
    assert only_call(gateway)[1]["p_new_scheduled_at"] == datetime(2026, 12, 12, 9, 30, tzinfo=NEW_YORK).isoformat()
    dispatch("rescheduleAppointment", context(gateway), {"newDate": "December 9th", "newTime": "4:30"})  # Wednesday
    assert gateway.calls[-1][1]["p_new_scheduled_at"] == datetime(2026, 12, 9, 16, 30, tzinfo=NEW_YORK).isoformat()


def test_reschedule_is_one_rpc_with_the_new_time_and_the_hints():
    gateway = RecordingGateway({"success": False, "error": "verification_required"})
    dispatch("rescheduleAppointment", context(gateway), {
        "newDate": "December 9th", "newTime": "10am", "currentDate": "tue", "currentTime": "3pm",
        "patientPhone": "415 555 9876", "patientName": "Jane Doe", "patientDateOfBirth": "5 March 1980"})
    name, params = only_call(gateway)
    assert name == "reschedule_appointment_atomic"
    assert params == {
        "p_org_id": SUNRISE,
        "p_caller": {"source": "vapi", "callId": "call-unit", "callerNumber": ATTACKER, "phone": VICTIM,
                     "name": "Jane Doe", "dateOfBirth": "1980-03-05"},
        "p_new_scheduled_at": datetime(2026, 12, 9, 10, tzinfo=NEW_YORK).isoformat(),
        "p_appointment_id": None, "p_local_date": None, "p_weekday": 2, "p_local_time": "15:00:00"}


SECRET_DETAILS = {"appointments": [{"appointmentId": "a1", "scheduledAt": "2026-12-08T19:00:00Z",
                                    "patientName": "Jane Doe", "service": {"name": "Consultation"}}],
                  "patientName": "Jane Doe", "scheduledAt": "2026-12-08T19:00:00Z", "verifiedBy": "caller_id"}


@pytest.mark.parametrize("tool", ["lookupAppointments", "cancelAppointment", "rescheduleAppointment"])
@pytest.mark.parametrize("code, line", [
    ("verification_required", speech.verification_required()),
    ("verification_failed", speech.verification_failed()),
    ("verification_locked", speech.verification_locked()),
])
def test_verification_refusals_are_spoken_and_pass_nothing_else_on(tool, code, line):
    # Even if a reply carried details by mistake, a refusal tells the assistant only its code and line.
    gateway = RecordingGateway({"success": False, "error": code, "message": "operator text", **SECRET_DETAILS})
    reply = dispatch(tool, context(gateway), {"newDate": "December 9th", "newTime": "10am"})
    assert reply == {"success": False, "error": code, "message": line}


def test_an_rpc_failure_is_never_spoken_as_no_appointments():
    with pytest.raises(RpcError):  # the webhook turns it into the busy / unavailable line
        dispatch("lookupAppointments", context(RecordingGateway(RpcError("down"))), {})
    reply = dispatch("lookupAppointments", context(RecordingGateway({"success": False, "error": "unknown_org"})), {})
    assert reply["success"] is False and reply["message"] == speech.generic_failure()


def test_lookup_reads_the_list_without_asking_which_and_ambiguous_asks():
    two = [{"appointmentId": f"a{i}", "scheduledAt": f"2026-12-0{i}T15:00:00Z", "patientName": "Pat Lee",
            "service": {"name": "Consultation"}} for i in (8, 9)]
    listed = dispatch("lookupAppointments", context(RecordingGateway(
        {"success": True, "appointments": two, "verifiedBy": "caller_id", "searched": "caller_id"})), {})
    assert listed["message"].startswith("I see 2 appointments") and not listed["message"].endswith("?")
    assert listed["verifiedBy"] == "caller_id"
    ambiguous = dispatch("cancelAppointment", context(RecordingGateway(
        {"success": False, "error": "ambiguous", "appointments": two})), {})
    assert ambiguous["message"].endswith("Which one do you mean?") and ambiguous["appointments"] == two
    nothing = dispatch("lookupAppointments", context(RecordingGateway(
        {"success": True, "appointments": [], "verifiedBy": "caller_id", "searched": "caller_id"})), {})
    assert nothing["message"] == speech.no_upcoming("caller_id")


def test_booking_passes_the_birth_date_and_the_caller_but_never_speaks_the_date():
    gateway = RecordingGateway({"success": True, "appointmentId": "a1", "scheduledAt": "2026-12-08T19:00:00Z",
                                "service": {"code": "consultation", "name": "Consultation"}})
    reply = dispatch("bookClinicAppointment", context(gateway), {
        "appointmentDate": "December 8th", "appointmentTime": "2pm", "patientName": "Kid Lee",
        "patientDateOfBirth": "the fifth of March twenty twenty"})
    name, params = only_call(gateway)
    assert name == "book_appointment"
    assert params["p_date_of_birth"] == "2020-03-05" and params["p_phone"] == ATTACKER
    assert params["p_caller"] == {"source": "vapi", "callId": "call-unit", "callerNumber": ATTACKER}
    assert "2020" not in json.dumps(reply) and "March" not in reply["message"]


def test_the_v2_route_keeps_its_function_and_ignores_a_birth_date():
    gateway = RecordingGateway({"success": True, "appointmentId": "a1", "scheduledAt": "2026-12-08T19:00:00Z"})
    dispatch("bookClinicAppointment", context(gateway, caller_number=None, call_id=None, source="api"), {
        "appointmentDate": "December 8th", "appointmentTime": "2pm", "patientName": "Kid Lee",
        "patientPhone": "415 555 0100", "patientDateOfBirth": "not even a date"})
    name, params = only_call(gateway)
    assert name == "book_appointment_atomic_v2"
    assert "p_date_of_birth" not in params and "p_caller" not in params


def test_every_tool_is_one_rpc():
    for tool in HANDLERS:
        gateway = RecordingGateway({"success": False, "error": "not_found"})
        dispatch(tool, context(gateway), {"appointmentDate": "December 8th", "appointmentTime": "2pm",
                                          "patientName": "One Call", "newDate": "December 9th", "newTime": "10am",
                                          "reason": "a question"})
        assert len(gateway.calls) == 1, (tool, gateway.calls)


# --------------------------------------------------------------------------------------------------
# End to end through the webhook
# --------------------------------------------------------------------------------------------------

PATIENT_PHONE = "+14155550321"
PATIENT = {"patientName": "Jane O'Neil", "patientDateOfBirth": "March 5th, 1980"}
STRANGER = "+12125550000"


def call(client, tool: str, arguments: dict, *, caller: str | None = STRANGER, call_id: str = "call-stranger",
         tool_call_id: str = "tc-1") -> dict:
    message = {"type": "tool-calls",
               "toolCallList": [{"id": tool_call_id, "type": "function",
                                 "function": {"name": tool, "arguments": arguments}}],
               "call": {"id": call_id, **({"customer": {"number": caller}} if caller else {})},
               "customer": {"metadata": {"org_id": SUNRISE}, **({"number": caller} if caller else {})}}
    (result,) = results(client.post(WEBHOOK, json={"message": message}, headers=AUTH))
    return result


def book(client, day: date, hour: str = "14:00", *, phone: str = PATIENT_PHONE, details: dict = PATIENT,
         tool_call_id: str = "tc-book") -> dict:
    arguments = {"appointmentDate": day.isoformat(), "appointmentTime": hour, "serviceType": "consultation",
                 **details}
    result = call(client, "bookClinicAppointment", arguments, caller=phone, call_id="call-booking",
                  tool_call_id=tool_call_id)
    assert result["success"] is True, result
    return result


def appointment_rows(sql):
    return sql("select id::text, status, starts_at from public.appointments where org_id = %s order by starts_at",
               [SUNRISE])


def access_log(sql, call_id: str):
    return sql("select action, outcome, verified_by, cardinality(appointment_ids), caller_number, claimed"
               " from public.caller_access_log where org_id = %s and call_id = %s order by id", [SUNRISE, call_id])


def discloses_nothing(result: dict, day: date) -> None:
    text = json.dumps(result)
    for secret in ("Jane", "O'Neil", "Neil", "consultation", "Consultation", "2:00 PM", "14:00", day.isoformat(),
                   f"{day:%B}", "1980", "appointmentId", "appointments", "scheduledAt"):
        assert secret not in text, (secret, result)
    assert set(result) == {"success", "error", "message"}


@pytest.mark.parametrize("tool, extra", [
    ("lookupAppointments", {}),
    ("cancelAppointment", {}),
    ("rescheduleAppointment", {"newDate": "__DAY__", "newTime": "10:30"}),
])
def test_a_foreign_caller_naming_the_patients_phone_hears_and_changes_nothing(client, sql, tool, extra):
    # Issue 9 point 1, as reported: calling from +12125550000, "my number is (415) 555-0321".
    day = next_open_day()
    book(client, day)
    before = appointment_rows(sql)
    extra = {k: (day.isoformat() if v == "__DAY__" else v) for k, v in extra.items()}

    claimed = call(client, tool, {"patientPhone": "(415) 555-0321", **extra})
    assert claimed["error"] == "verification_required"
    assert claimed["message"] == speech.verification_required()
    discloses_nothing(claimed, day)

    with_name_only = call(client, tool, {"patientPhone": "(415) 555-0321", "patientName": "Jane O'Neil", **extra})
    assert with_name_only["error"] == "verification_required"
    discloses_nothing(with_name_only, day)

    wrong_birth_date = call(client, tool, {"patientPhone": "(415) 555-0321", "patientName": "Jane O'Neil",
                                           "patientDateOfBirth": "March 6th, 1980", **extra})
    assert wrong_birth_date["error"] == "verification_failed"
    assert wrong_birth_date["message"] == speech.verification_failed()
    discloses_nothing(wrong_birth_date, day)

    own_line = call(client, tool, dict(extra))  # the stranger's own number has nothing
    assert own_line.get("appointments") in (None, [])
    if tool == "lookupAppointments":
        assert own_line["success"] is True
        assert own_line["message"] == speech.no_upcoming("caller_id")
    else:
        assert own_line["success"] is False and own_line["error"] == "not_found"
    assert "Jane" not in json.dumps(own_line)

    assert appointment_rows(sql) == before
    assert len(access_log(sql, "call-stranger")) == 4


def test_name_and_date_of_birth_verify_a_foreign_caller(client, sql):
    day = next_open_day()
    booked = book(client, day, "9:00")
    book(client, day, "15:00", tool_call_id="tc-book-2")
    # Lenient name (case, accents, spacing, punctuation), exact birth date in another phrasing.
    claim = {"patientPhone": "415-555-0321", "patientName": "jane  oneil", "patientDateOfBirth": "03/05/1980"}

    listed = call(client, "lookupAppointments", claim)
    assert listed["success"] is True and listed["verifiedBy"] == "name_dob"
    assert len(listed["appointments"]) == 2 and "9:00 AM" in listed["message"]
    assert "1980" not in json.dumps(listed) and "Which one" not in listed["message"]

    cancelled = call(client, "cancelAppointment", dict(claim, appointmentTime="9am"))
    assert cancelled["success"] is True and cancelled["verifiedBy"] == "name_dob"
    assert cancelled["appointmentId"] == booked["appointmentId"] and "cancelled" in cancelled["message"]

    moved = call(client, "rescheduleAppointment", dict(claim, newDate=day.isoformat(), newTime="11:30"))
    assert moved["success"] is True and "11:30 AM" in moved["message"]
    rows = appointment_rows(sql)
    assert [(status, starts_at) for _, status, starts_at in rows] == [
        ("cancelled", local_instant(day, 9)), ("pending", local_instant(day, 11, 30))]
    assert "1980" not in json.dumps([listed, cancelled, moved])


def test_the_caller_id_match_needs_no_questions(client, sql):
    day = next_open_day()
    book(client, day, "10:00")
    listed = call(client, "lookupAppointments", {}, caller=PATIENT_PHONE, call_id="call-patient")
    assert listed["success"] is True and listed["verifiedBy"] == "caller_id"
    assert "10:00 AM" in listed["message"]
    moved = call(client, "rescheduleAppointment", {"newDate": day.isoformat(), "newTime": "1pm"},
                 caller=PATIENT_PHONE, call_id="call-patient")
    assert moved["success"] is True and moved["verifiedBy"] == "caller_id"
    cancelled = call(client, "cancelAppointment", {"patientPhone": "the number I'm calling from"},
                     caller=PATIENT_PHONE, call_id="call-patient")
    assert cancelled["success"] is True and "1:00 PM" in cancelled["message"]
    assert [status for _, status, _ in appointment_rows(sql)] == ["cancelled"]


def test_the_tuesday_one_finds_the_appointment_on_that_weekday(client, sql):
    monday = next_open_day(weekdays=(0,))
    thursday = next_open_day(weekdays=(3,))
    book(client, monday, "10:00", tool_call_id="tc-mon")
    book(client, thursday, "10:00", tool_call_id="tc-thu")
    ambiguous = call(client, "cancelAppointment", {"appointmentTime": "10am"}, caller=PATIENT_PHONE,
                     call_id="call-patient")
    assert ambiguous["error"] == "ambiguous" and ambiguous["message"].endswith("Which one do you mean?")
    cancelled = call(client, "cancelAppointment", {"appointmentDate": "the Thursday one"}, caller=PATIENT_PHONE,
                     call_id="call-patient")
    assert cancelled["success"] is True and "Thursday" in cancelled["message"]
    statuses = {starts_at.astimezone(NEW_YORK).date(): status for _, status, starts_at in appointment_rows(sql)}
    assert statuses == {monday: "pending", thursday: "cancelled"}


def test_three_failures_lock_the_tools_for_that_call_only(client, sql):
    day = next_open_day()
    book(client, day)
    wrong = {"patientPhone": PATIENT_PHONE, "patientName": "Jane O'Neil", "patientDateOfBirth": "1981-03-05"}
    right = {"patientPhone": PATIENT_PHONE, **PATIENT}

    replies = [call(client, tool, wrong, call_id="call-guessing", tool_call_id=f"guess-{i}")
               for i, tool in enumerate(["lookupAppointments", "cancelAppointment", "lookupAppointments"])]
    assert [r["error"] for r in replies] == ["verification_failed", "verification_failed", "verification_locked"]
    assert replies[2]["message"] == speech.verification_locked()

    # The right details no longer help on this call, for any of the three tools.
    for tool in ("lookupAppointments", "cancelAppointment", "rescheduleAppointment"):
        locked = call(client, tool, dict(right, newDate=day.isoformat(), newTime="11:00"), call_id="call-guessing")
        assert locked["error"] == "verification_locked"
        discloses_nothing(locked, day)
    assert [status for _, status, _ in appointment_rows(sql)] == ["pending"]

    # The lock is that call's: another call from the same number may verify.
    other_call = call(client, "lookupAppointments", right, call_id="call-next")
    assert other_call["success"] is True and other_call["verifiedBy"] == "name_dob"


def test_the_access_log_has_one_row_per_attempt(client, sql):
    day = next_open_day()
    booked = book(client, day)
    claim = {"patientPhone": PATIENT_PHONE, **PATIENT}
    call(client, "lookupAppointments", {"patientPhone": PATIENT_PHONE}, call_id="call-audit", tool_call_id="a1")
    call(client, "lookupAppointments", claim, call_id="call-audit", tool_call_id="a2")
    call(client, "cancelAppointment", dict(claim, patientDateOfBirth="1990-01-01"), call_id="call-audit",
         tool_call_id="a3")
    call(client, "rescheduleAppointment", dict(claim, newDate=day.isoformat(), newTime="16:00"),
         call_id="call-audit", tool_call_id="a4")
    call(client, "cancelAppointment", claim, call_id="call-audit", tool_call_id="a5")

    rows = access_log(sql, "call-audit")
    assert [(action, outcome, verified_by) for action, outcome, verified_by, *_ in rows] == [
        ("lookup", "verification_required", None),
        ("lookup", "disclosed", "name_dob"),
        ("cancel", "verification_failed", None),
        ("reschedule", "changed", "name_dob"),
        ("cancel", "changed", "name_dob"),
    ]
    assert [count for _, _, _, count, _, _ in rows] == [0, 1, 0, 1, 1]
    assert {number for *_, number, _ in rows} == {STRANGER}
    assert rows[0][5] == ["phone"] and rows[1][5] == ["phone", "name", "dateOfBirth"]
    # The booking itself is logged too (under its own call), and no row holds the name or birth date.
    assert sql("select action, outcome, appointment_ids = array[%s::uuid] from public.caller_access_log"
               " where call_id = 'call-booking'", [booked["appointmentId"]]) == [("book", "booked", True)]
    dump = json.dumps(sql("select row_to_json(l) from public.caller_access_log l"), default=str)
    assert "Neil" not in dump and "1980" not in dump


def test_booking_stores_the_birth_date_and_never_speaks_it(client, sql):
    day = next_open_day()
    result = book(client, day, details={"patientName": "Kid O'Neil", "patientDateOfBirth": "the fifth of March twenty twenty"})
    assert sql("select patient_date_of_birth from public.appointments where id = %s",
               [result["appointmentId"]]) == [(date(2020, 3, 5),)]
    for reply in (result, call(client, "lookupAppointments", {}, caller=PATIENT_PHONE, call_id="call-patient")):
        text = json.dumps(reply)
        assert "2020-03-05" not in text and "March 5" not in text and "dateOfBirth" not in text


def test_an_unusable_birth_date_at_booking_is_re_asked_and_nothing_is_written(client, sql):
    result = call(client, "bookClinicAppointment", {
        "appointmentDate": next_open_day().isoformat(), "appointmentTime": "10:00", "patientName": "Too Young",
        "patientDateOfBirth": "next year"}, caller=PATIENT_PHONE)
    assert result["error"] == "invalid_input" and result["field"] == "patientDateOfBirth"
    assert "date of birth" in result["message"]
    assert sql("select count(*) from public.appointments")[0][0] == 0


def test_a_booking_without_a_birth_date_is_changed_only_from_its_own_number(client, sql):
    day = next_open_day()
    book(client, day, details={"patientName": "No Birthday"})
    claim = {"patientPhone": PATIENT_PHONE, "patientName": "No Birthday", "patientDateOfBirth": "1970-01-01"}
    for attempt in range(2):  # counted like any failure: the 3rd locks (tests/test_attack_callers.py)
        refused = call(client, "cancelAppointment", claim, call_id="call-no-dob", tool_call_id=f"nd-{attempt}")
        assert refused["error"] == "verification_failed"
        assert refused["message"] == speech.verification_failed()
        assert "transfer" in refused["message"]
        discloses_nothing(refused, day)
    assert [status for _, status, _ in appointment_rows(sql)] == ["pending"]
    # From its own number it can be changed.
    own = call(client, "cancelAppointment", {}, caller=PATIENT_PHONE, call_id="call-patient")
    assert own["success"] is True


@pytest.mark.parametrize("tool, arguments", [
    ("cancelAppointment", {"appointmentDate": "the blue one"}),
    ("rescheduleAppointment", {"currentDate": "the blue one", "newDate": "2026-12-10", "newTime": "10am"}),
])
def test_which_words_sql_finds_nothing_in_are_reasked_as_the_day(tool, arguments):
    # SQL: p_which names no service or provider → invalid_input; the caller hears the day's re-ask
    gateway = RecordingGateway({"success": False, "error": "invalid_input",
                                "message": "Which appointment names no service or provider of this clinic"})
    reply = dispatch(tool, context(gateway), arguments)
    name, params = only_call(gateway)
    assert params["p_which"] == "the blue one" and "_which_reask" not in params
    assert reply["success"] is False and reply["error"] == "invalid_input" and reply.get("reask") == "booked_day_invalid", reply


@pytest.mark.parametrize("arguments, sent", [
    ({"newDate": "a week later"}, dict(p_new_scheduled_at=None, p_shift_days=7, p_keep_time=True)),
    ({"newDate": "the day after", "newTime": "11am"},
     dict(p_new_scheduled_at=None, p_shift_days=1, p_new_local_time="11:00:00")),
    ({"newDate": "2026-12-10", "newTime": "same time"},
     dict(p_new_scheduled_at=None, p_new_local_date="2026-12-10", p_keep_time=True)),
])
def test_a_move_relative_to_the_booking_is_sqls_to_compute(arguments, sent):
    # only SQL knows the booking's day and time: the shift / keep-the-time go to it as they are
    gateway = RecordingGateway({"success": False, "error": "not_found", "appointments": [], "searched": "caller_id"})
    dispatch("rescheduleAppointment", context(gateway), arguments)
    name, params = only_call(gateway)
    assert name == "reschedule_appointment_atomic"
    assert {key: params.get(key) for key in sent} == sent, params
    assert not {"p_new_local_date", "p_new_local_time", "p_shift_days", "p_keep_time"} - set(sent) & set(params)
