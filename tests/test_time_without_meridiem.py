"""An hour said without AM/PM, through the webhook: read in that day's opening hours from SQL.

The seed's Sunrise clinic is open Mon–Fri 09:00–12:00 and 13:00–17:00, Sat 09:00–13:00, closed on
Sunday. Nothing in Python knows those hours: they reach normalization through get_org_profile.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from api.speech import parse_instant
from conftest import AUTH, NEW_YORK, SUNRISE, local_instant, next_open_day
from test_webhook import WEBHOOK, results, vapi_body


def tool(client, name: str, arguments: dict, call_id: str = "tc-1") -> dict:
    [reply] = results(client.post(WEBHOOK, json=vapi_body((call_id, name, arguments)), headers=AUTH))
    return reply


def book(client, day: date, said: str, phone: str = "(415) 555-0161", call_id: str = "tc-1") -> dict:
    return tool(client, "bookClinicAppointment", {"patientName": "Hour Case", "patientPhone": phone,
                                                  "appointmentDate": day.isoformat(), "appointmentTime": said},
                call_id)


def starts(sql, appointment_id: str):
    return sql("select starts_at from public.appointments where id = %s", [appointment_id])[0][0]


def next_weekday(weekday: int, min_days: int = 2) -> date:
    """The first date at least `min_days` ahead on `weekday` (Mon=0), clear of the seed's closures."""
    return next_open_day(NEW_YORK, min_days=min_days, weekdays=(weekday,))


def test_the_reading_inside_the_hours_is_booked(client, sql):
    day = next_open_day()
    two = book(client, day, "2", call_id="tc-two")
    assert two["success"] is True, two
    assert starts(sql, two["appointmentId"]) == local_instant(day, 14)
    ten = book(client, day, "ten o'clock", phone="(415) 555-0162", call_id="tc-ten")
    assert ten["success"] is True, ten
    assert starts(sql, ten["appointmentId"]) == local_instant(day, 10)


def test_a_closed_day_reads_the_hour_in_the_usual_hours_and_says_closed(client, sql):
    # Neither reading is open on a closed day: asking "morning or afternoon?" only leads to a refusal,
    # so the usual hours read it (2 PM) and SQL says the clinic is closed, with the next times.
    sunday = next_weekday(6)
    reply = book(client, sunday, "2")
    assert (reply["success"], reply["error"]) == (False, "closed"), reply
    assert "morning" not in reply["message"] and reply["alternativeSlots"], reply
    assert sql("select count(*) from public.appointments") == [(0,)]


@pytest.mark.parametrize("text", ["5:30", "6", "8:30", "half past five", "6:15"])
def test_an_hour_neither_reading_of_which_is_open_is_refused_as_outside_hours(client, sql, text):
    reply = book(client, next_open_day(), text)
    assert (reply["success"], reply["error"]) == (False, "outside_business_hours"), reply
    assert "morning" not in reply["message"], reply
    assert sql("select count(*) from public.appointments") == [(0,)]


def test_when_both_readings_are_inside_the_hours_the_caller_is_asked(client, sql):
    # Sunrise open 07:00–20:00 on weekdays: 8 could be either.
    sql("delete from public.business_hours where org_id = %s", [SUNRISE])
    sql("delete from public.provider_hours where org_id = %s", [SUNRISE])  # providers: all clinic hours
    sql("insert into public.business_hours (org_id, weekday, opens_at, closes_at)"
        " select %s, d, '07:00', '20:00' from generate_series(1, 5) d", [SUNRISE])
    day = next_open_day()
    asked = book(client, day, "8")
    assert (asked["error"], asked["reask"]) == ("invalid_input", "appointment_time_meridiem")
    assert asked["message"] == "Is that 8 in the evening or in the morning?"
    assert sql("select count(*) from public.appointments") == [(0,)]
    answered = book(client, day, "8 in the morning", call_id="tc-2")
    assert answered["success"] is True, answered
    assert starts(sql, answered["appointmentId"]) == local_instant(day, 8)


def test_check_availability_reads_the_hour_in_the_hours_too(client):
    day = next_open_day(min_days=3)
    reply = tool(client, "checkAvailability", {"date": day.isoformat(), "time": "2"})
    assert reply["success"] is True and reply["slots"], reply
    assert parse_instant(min(reply["slots"])).astimezone(NEW_YORK) == local_instant(day, 14)
    # A closed day: the hour is read in the clinic's hours on any day (2 PM), and SQL says it is
    # closed and offers the next day from 2 PM on (issue 11 §2) rather than asking AM or PM.
    sunday = tool(client, "checkAvailability", {"date": next_weekday(6).isoformat(), "time": "2"})
    assert sunday["success"] is True and sunday["windowEmpty"] == "closed", sunday
    assert parse_instant(min(sunday["slots"])).astimezone(NEW_YORK) == local_instant(next_weekday(6) + timedelta(days=1), 14)


def test_reschedule_reads_the_new_and_the_booked_hour_in_the_hours(client, sql):
    day = next_open_day()
    booked = book(client, day, "10", phone="+14155550199")  # the caller's own number: no verification
    assert booked["success"] is True, booked
    moved = tool(client, "rescheduleAppointment", {"newDate": day.isoformat(), "newTime": "3",
                                                   "currentDate": day.isoformat(), "currentTime": "10"}, "tc-2")
    assert moved["success"] is True, moved
    assert starts(sql, booked["appointmentId"]) == local_instant(day, 15)
    closed = tool(client, "rescheduleAppointment", {"newDate": next_weekday(6).isoformat(), "newTime": "3"}, "tc-3")
    assert (closed["success"], closed["error"]) == (False, "closed"), closed  # 3 PM, read in the usual hours
    assert starts(sql, booked["appointmentId"]) == local_instant(day, 15)
