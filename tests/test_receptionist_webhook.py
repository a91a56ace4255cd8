"""Issue 11 §2–§5 through the webhook against the seed clinics: loose times in checkAvailability,
services by what callers call them, two identical booking calls of one turn, and refusals that say
the real reason. Sunrise (New York): Mon–Fri 09:00–12:00 and 13:00–17:00, Sat 09:00–13:00, books 120
days ahead; consultation 30 min, checkup 20 + 10, vaccination 15 + 15; Dr. Patel Mon/Wed/Fri/Sat,
Dr. Lee Tue/Thu, Nurse Kim vaccinations. Bayview (Los Angeles): Mon–Thu 08:00–16:00, Fri 08:00–12:00.

Every line spoken passes the speech checks (one line, at most 300 characters, no ISO, no emoji).
"""

from __future__ import annotations

import re
import threading
from datetime import date, datetime, time, timedelta

import pytest

from api import create_app, speech
from conftest import AUTH, BAYVIEW, LOS_ANGELES, NEW_YORK, SECRET, SUNRISE, local_instant, next_open_day
from test_webhook import V2_URL, WEBHOOK, results, v2_body, vapi_body

CALLER = "+14155550199"  # vapi_body's caller ID


def assert_spoken(line: str) -> None:
    assert line and line == speech.one_line(line) and len(line) <= speech.MAX_LINE_LENGTH, line
    assert not re.search(r"\d{4}-\d{2}-\d{2}|T\d{2}:\d{2}|Z\b", line), line


def tool(client, name: str, arguments: dict, call_id: str = "tc-1", *, org=SUNRISE, call="call-1",
         caller=CALLER) -> dict:
    body = vapi_body((call_id, name, arguments), org=org, call_id=call, caller=caller)
    [reply] = results(client.post(WEBHOOK, json=body, headers=AUTH))
    assert_spoken(reply["message"])
    return reply


def booked(sql, org=SUNRISE):
    return sql("select a.starts_at, s.code, a.patient_name from public.appointments a"
               " join public.services s on s.org_id = a.org_id and s.id = a.service_id"
               " where a.org_id = %s and a.status <> 'cancelled' order by a.starts_at, a.created_at", [org])


def local(slot: str, tz=NEW_YORK) -> datetime:
    return datetime.fromisoformat(slot.replace("Z", "+00:00")).astimezone(tz)


# ---------------------------------------------------------------------------------------------
# §3 Services by what callers call them
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("said,code", [
    ("flu shot", "vaccination"), ("a flu jab", "vaccination"), ("Flu Shots", "vaccination"),
    ("vacination", "vaccination"), ("check-up", "checkup"), ("annual physical", "checkup"),
    ("physical", "checkup"), ("chekup", "checkup"), ("consultations", "consultation"),
])
def test_a_service_is_booked_by_what_callers_call_it(client, sql, said, code):
    day = next_open_day(min_days=3)
    reply = tool(client, "bookClinicAppointment", {
        "patientName": "Service Words", "appointmentDate": day.isoformat(), "appointmentTime": "10am",
        "serviceType": said})
    assert reply["success"] is True, reply
    assert reply["service"] == code
    assert [(row[0], row[1]) for row in booked(sql)] == [(local_instant(day, 10), code)]


def test_an_unknown_service_is_refused_naming_the_clinics_services(client, sql):
    day = next_open_day(min_days=3)
    reply = tool(client, "bookClinicAppointment", {
        "patientName": "Mri Caller", "appointmentDate": day.isoformat(), "appointmentTime": "10am",
        "serviceType": "MRI scan"})
    assert reply == {
        "success": False, "error": "unknown_service", "field": "serviceType",
        "services": ["Consultation", "Checkup", "Vaccination"],
        "message": "I'm not sure we do that here. We offer consultations, checkups, and vaccinations — "
                   "which would you like?"}
    assert booked(sql) == []
    dental = tool(client, "checkAvailability", {"date": day.isoformat(), "serviceType": "flu shot"}, org=BAYVIEW)
    assert dental["error"] == "unknown_service"
    assert dental["message"] == ("I'm not sure we do that here. We offer cleaning, consultations, and whitening — "
                                 "which would you like?")


def test_only_an_empty_service_books_the_default(client, sql):
    day = next_open_day(min_days=3)
    for call_id, (service, hour) in enumerate([(None, 9), ("", 10), ("an appointment", 11)]):
        arguments = {"patientName": f"Default {call_id}", "appointmentDate": day.isoformat(),
                     "appointmentTime": f"{hour}am"}
        if service is not None:
            arguments["serviceType"] = service
        reply = tool(client, "bookClinicAppointment", arguments, f"tc-{call_id}")
        assert reply["success"] is True and reply["service"] == "consultation", reply


def test_the_v2_route_keeps_booking_the_default_for_text_it_does_not_know(client, sql):
    # The original contract (docs/rpc-contract.md, book_appointment_atomic_v2): unknown → default.
    day = next_open_day(min_days=3)
    reply = client.post(V2_URL, json=v2_body(day, "10:00", service="MRI scan"), headers=AUTH).get_json()["result"]
    assert reply["success"] is True, reply
    alias = client.post(V2_URL, json=v2_body(day, "11:00", service="annual physical", phone="(415) 555-0124",
                                             call_id="test-2"), headers=AUTH).get_json()["result"]
    assert alias["success"] is True, alias
    assert [row[1] for row in booked(sql)] == ["consultation", "checkup"]


# ---------------------------------------------------------------------------------------------
# §5 Say the real reason
# ---------------------------------------------------------------------------------------------

def test_a_visit_that_does_not_fit_before_closing_says_so_with_the_nearest_times_that_fit(client, sql):
    day = next_open_day(min_days=3)
    reply = tool(client, "bookClinicAppointment", {
        "patientName": "Late Visit", "appointmentDate": day.isoformat(), "appointmentTime": "4:45 PM"})
    assert reply["success"] is False and reply["error"] == "ends_after_closing", reply
    assert reply["closesAt"] == "17:00"
    assert reply["message"].startswith(
        "A 30-minute consultation at 4:45 PM doesn't fit before we close at 5:00 PM. "), reply["message"]
    offered = [local(slot) for slot in reply["alternatives"]]
    assert offered and all(at.date() == day and at.time() <= time(16, 30) for at in offered), offered
    assert "4:30 PM" in reply["message"]
    assert booked(sql) == []

    # into the lunch break: the morning interval closes at noon; a checkup (20 + 10) at 11:45
    lunch = tool(client, "bookClinicAppointment", {
        "patientName": "Late Visit", "appointmentDate": day.isoformat(), "appointmentTime": "11:45 AM",
        "serviceType": "checkup"}, "tc-2")
    assert lunch["error"] == "ends_after_closing" and lunch["message"].startswith(
        "A 20-minute checkup at 11:45 AM doesn't fit before we close at noon. "), lunch["message"]

    closed = tool(client, "bookClinicAppointment", {
        "patientName": "Late Visit", "appointmentDate": day.isoformat(), "appointmentTime": "5:30 PM"}, "tc-3")
    assert closed["error"] == "outside_business_hours", closed  # after closing: not open, a different reason


def test_a_day_beyond_the_horizon_says_how_far_ahead_the_clinic_books(client, sql):
    far = next_open_day(min_days=130)
    reply = tool(client, "bookClinicAppointment", {
        "patientName": "Far Ahead", "appointmentDate": far.isoformat(), "appointmentTime": "10am"})
    assert reply["error"] == "too_far_ahead" and reply["bookingHorizonDays"] == 120, reply
    assert reply["message"].startswith("We book up to 120 days ahead. "), reply["message"]
    latest = max(local(slot) for slot in reply["alternatives"])
    horizon = datetime.now(NEW_YORK).date() + timedelta(days=120)
    assert horizon - timedelta(days=7) <= latest.date() <= horizon
    assert speech.spoken_date(latest.date()) in reply["message"]
    assert booked(sql) == []


def test_a_not_found_asks_for_another_number_not_the_day():
    assert "another number" in speech.not_found() and "day" not in speech.not_found()


# ---------------------------------------------------------------------------------------------
# §4 Two identical booking calls from one caller in one turn
# ---------------------------------------------------------------------------------------------

SAME_BOOKING = {"patientName": "Twin Call", "appointmentTime": "2pm", "serviceType": "checkup"}


def test_two_identical_parallel_tool_calls_give_one_booking_and_two_confirmations(client, sql, app):
    # The model sends the same booking twice in one turn: one Vapi call id, two tool-call ids, here as
    # two requests released together (Vapi may also put both in one request: the next test).
    day = next_open_day(min_days=3)
    arguments = dict(SAME_BOOKING, appointmentDate=day.isoformat())
    gate = threading.Barrier(2)
    replies: dict[str, dict] = {}

    def one(tool_call_id: str) -> None:
        body = vapi_body((tool_call_id, "bookClinicAppointment", arguments), call_id="call-twin")
        own = app.test_client()
        gate.wait()
        [replies[tool_call_id]] = results(own.post(WEBHOOK, json=body, headers=AUTH))

    threads = [threading.Thread(target=one, args=(f"tc-twin-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    first, second = replies["tc-twin-1"], replies["tc-twin-2"]
    assert first["success"] is True and second["success"] is True, (first, second)
    assert first["appointmentId"] == second["appointmentId"]
    for reply in (first, second):
        assert_spoken(reply["message"])
        assert reply["message"].startswith("You're all set: a checkup"), reply["message"]
    assert [(row[0], row[1]) for row in booked(sql)] == [(local_instant(day, 14), "checkup")]


def test_two_identical_tool_calls_in_one_request_and_a_real_conflict_after_them(client, sql):
    day = next_open_day(min_days=3)
    arguments = dict(SAME_BOOKING, appointmentDate=day.isoformat())
    body = vapi_body(("tc-a", "bookClinicAppointment", arguments), ("tc-b", "bookClinicAppointment", arguments),
                     call_id="call-pair")
    first, second = results(client.post(WEBHOOK, json=body, headers=AUTH))
    assert first["success"] is True and second["success"] is True, (first, second)
    assert first["appointmentId"] == second["appointmentId"]
    assert len(booked(sql)) == 1
    # the same booking from another call is no duplicate tool call: the patient already holds it
    again = tool(client, "bookClinicAppointment", arguments, "tc-c", call="call-later")
    assert again["success"] is False and again["error"] == "patient_busy", again
    # and another caller still meets the conflict (what health-check and stress-test rely on)
    other = tool(client, "bookClinicAppointment", dict(arguments, patientName="Someone Else"), "tc-d",
                 call="call-other", caller="+14155550177")
    assert other["success"] is False and other["error"] == "slot_unavailable", other
    assert len(booked(sql)) == 1


# ---------------------------------------------------------------------------------------------
# §2 Loose times in checkAvailability
# ---------------------------------------------------------------------------------------------

def free(client, arguments: dict, call_id: str = "tc-1", org=SUNRISE) -> dict:
    reply = tool(client, "checkAvailability", arguments, call_id, org=org)
    assert reply["success"] is True, reply
    return reply


def times(reply: dict, tz=NEW_YORK) -> list[datetime]:
    return [local(slot, tz) for slot in reply["slots"]]


@pytest.mark.parametrize("arguments,first,last_before", [
    ({"time": "morning"}, time(9), time(12)),
    ({"time": "in the afternoon"}, time(13), time(17)),
    ({"time": "after 3"}, time(15), time(17)),
    ({"time": "3pm or later"}, time(15), time(17)),
    ({"time": "before noon"}, time(9), time(12)),
    ({"time": "around 2"}, time(13, 30), time(15, 1)),
    ({"time": "2ish"}, time(13, 30), time(15, 1)),
    ({"time": "between 2 and 4"}, time(14), time(16)),
    ({"time": "late afternoon"}, time(15), time(17)),
    ({"time": "after lunch"}, time(13), time(17)),
    ({}, time(9), time(17)),
])
def test_a_window_lists_what_is_free_in_it(client, arguments, first, last_before):
    day = next_open_day(min_days=3)
    reply = free(client, {"date": day.isoformat(), **arguments})
    got = times(reply)
    assert got and got[0].time() == first and all(at.date() == day and at.time() < last_before for at in got), got
    assert "windowEmpty" not in reply
    assert reply["message"].startswith(f"On {speech.spoken_date(day)}"), reply["message"]


@pytest.mark.parametrize("date_text", ["{day} morning", "{day} in the morning", "the morning of {day}",
                                       "{day}, before noon", "morning on {day}"])
def test_the_days_own_words_carry_the_window(client, date_text):
    day = next_open_day(min_days=3)
    said = date_text.format(day=f"{day:%B} {day.day}")
    reply = free(client, {"date": said})
    assert [at.time() for at in times(reply)] == [time(9), time(9, 30), time(10)], (said, reply)


def test_no_date_means_the_clinics_today(client):
    reply = tool(client, "checkAvailability", {"time": "after 3"})
    assert reply["success"] is True
    today = datetime.now(NEW_YORK).date()
    for at in times(reply):
        # today's openings after 3, or — nothing left today — the nearest others (never an earlier day)
        assert at.date() >= today
    if reply.get("windowEmpty") is None:
        assert all(at.date() == today and at.time() >= time(15) for at in times(reply))


def test_a_full_window_says_so_for_that_window_and_offers_the_same_day_first(client, sql):
    day = next_open_day(min_days=3)  # Sunrise: one physician that weekday for consultations
    for n, at in enumerate(("3:00 PM", "3:30 PM", "4:00 PM", "4:30 PM")):
        phone = f"+1415555{2100 + n}"
        reply = tool(client, "bookClinicAppointment", {
            "patientName": f"Late Taker {n}", "patientPhone": phone, "appointmentDate": day.isoformat(),
            "appointmentTime": at}, f"tc-take-{n}", call=f"call-take-{n}", caller=phone)
        assert reply["success"] is True, reply
    reply = free(client, {"date": day.isoformat(), "time": "after 3"})
    assert reply["windowEmpty"] == "full"
    got = times(reply)
    same, later = [at for at in got if at.date() == day], [at for at in got if at.date() != day]
    assert [at.time() for at in same] == [time(14), time(14, 30)], got
    assert len(later) == 1 and later[0].date() > day and later[0].time() >= time(15), got
    message = reply["message"]
    assert message.startswith(f"I don't have anything after 3:00 PM on {speech.spoken_date(day)}; I do have "), message
    assert "2:00 PM" in message and "2:30 PM" in message and "that afternoon" in message
    assert speech.spoken_date(later[0].date()) in message and message.endswith("would any of those work?")


def test_an_evening_at_a_clinic_that_closes_at_five_says_it_is_not_open_then(client):
    day = next_open_day(min_days=3)
    reply = free(client, {"date": day.isoformat(), "time": "in the evening"})
    assert reply["windowEmpty"] == "outside_hours"
    assert reply["message"].startswith(f"We're not open in the evening on {speech.spoken_date(day)}; I do have "), reply
    assert all(at.date() == day for at in times(reply))  # the same day's latest; no other day opens then


def test_a_closed_day_offers_the_next_open_day(client):
    sunday = next_open_day(min_days=3, weekdays=(6,))
    reply = free(client, {"date": sunday.isoformat(), "time": "morning"})
    assert reply["windowEmpty"] == "closed"
    assert reply["message"].startswith(f"We're closed on {speech.spoken_date(sunday)}; I do have "), reply["message"]
    assert [at.time() for at in times(reply)] == [time(9), time(9, 30), time(10)]
    assert times(reply)[0].date() == sunday + timedelta(days=1)


def test_windows_work_with_a_named_provider(client):
    tuesday = next_open_day(min_days=3, weekdays=(1,))
    lee = free(client, {"date": tuesday.isoformat(), "time": "after 3", "providerName": "Dr. Lee"})
    assert [at.time() for at in times(lee)] == [time(15), time(15, 30), time(16)]
    assert {slot["providerName"] for slot in lee["slotProviders"]} == {"Dr. Marcus Lee"}
    patel = free(client, {"date": tuesday.isoformat(), "time": "after 3", "providerName": "Dr. Patel"})
    assert patel["windowEmpty"] == "provider_off"
    assert patel["message"].startswith(f"Dr. Anika Patel isn't in after 3:00 PM on {speech.spoken_date(tuesday)}"), patel
    assert all(at.date() > tuesday and at.time() >= time(15) for at in times(patel))


def test_availability_beyond_the_horizon_says_how_far_ahead_the_clinic_books(client):
    far = next_open_day(min_days=130)
    reply = tool(client, "checkAvailability", {"date": far.isoformat(), "time": "morning"})
    assert reply["success"] is False and reply["error"] == "too_far_ahead" and reply["bookingHorizonDays"] == 120
    assert reply["message"].startswith("We book up to 120 days ahead. "), reply["message"]
    assert reply["alternatives"]


def test_bayview_windows_in_its_own_zone(client):
    day = next_open_day(LOS_ANGELES, min_days=3, weekdays=(0, 1, 2, 3))
    reply = free(client, {"date": day.isoformat(), "time": "early morning", "serviceType": "teeth cleaning"}, org=BAYVIEW)
    assert [at.time() for at in times(reply, LOS_ANGELES)] == [time(8), time(8, 30), time(9)]
