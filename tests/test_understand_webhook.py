"""Issue 11's phrase classes through the webhook, against the seed's Sunrise clinic (New York; open
Mon-Fri 09:00-12:00 and 13:00-17:00, Sat 09:00-13:00; closed on New Year's Day).

Relative days need a known "today": these tests set the service's clock (the clinic's today) to a
chosen day ahead of now, so every day booked is still ahead of the database's real clock.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

import pytest

from api import create_app, speech
from api.normalize import HINT_SEARCH_DAYS
from conftest import AUTH, NEW_YORK, SECRET, local_instant, next_open_day
from test_webhook import WEBHOOK, results, vapi_body

CALLER = "+14155550199"  # vapi_body's caller ID
CLOSED = {(1, 1)}  # Sunrise's seed closure (month, day); Sundays are closed too
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def opens(day: date) -> bool:
    return day.weekday() < 5 and (day.month, day.day) not in CLOSED


def assert_spoken(line: str) -> None:
    assert line and line == speech.one_line(line) and len(line) <= speech.MAX_LINE_LENGTH, line
    assert not re.search(r"\d{4}-\d{2}-\d{2}|T\d{2}:\d{2}", line), line


@pytest.fixture
def clinic_on(database_url):
    """make(day): a test client whose clinic today is `day` (08:00 in New York)."""
    apps = []

    def make(day: date):
        instant = datetime.combine(day, time(8), NEW_YORK)
        app = create_app({"TESTING": True, "APP_ENV": "test", "VAPI_SECRET": SECRET,
                          "DATABASE_URL": database_url, "DB_POOL_MAX": 2}, clock=lambda: instant)
        apps.append(app)
        return app.test_client()

    yield make
    for app in apps:
        app.extensions["deps"].gateway.close()


def tool(client, name: str, arguments: dict, call_id: str = "tc-1") -> dict:
    [reply] = results(client.post(WEBHOOK, json=vapi_body((call_id, name, arguments)), headers=AUTH))
    assert_spoken(reply["message"])
    return reply


def appointments(sql):
    return sql("select a.starts_at, a.patient_name, l.phone, l.email from public.appointments a"
               " join public.leads l on l.org_id = a.org_id and l.id = a.lead_id order by a.starts_at")


def first_today(keep) -> date:
    """The first clinic today from tomorrow on (New York) for which keep(today) holds."""
    today = datetime.now(NEW_YORK).date() + timedelta(days=1)
    while not keep(today):
        today += timedelta(days=1)
    return today


def test_booking_in_two_weeks_with_spoken_digits_name_and_email(clinic_on, sql):
    today = first_today(lambda day: opens(day + timedelta(weeks=2)))
    client = clinic_on(today)
    booked = tool(client, "bookClinicAppointment", {
        "patientName": "ann mcdonald", "appointmentDate": "in two weeks", "appointmentTime": "10am",
        "patientPhone": "four one five, five five five, oh one two three",
        "patientEmail": "ann underscore mcdonald at example dot com"})
    assert booked["success"] is True, booked
    day = today + timedelta(weeks=2)
    assert speech.spoken_date(day) in booked["message"]
    assert appointments(sql) == [(local_instant(day, 10), "Ann McDonald", "+14155550123", "ann_mcdonald@example.com")]


def test_the_one_in_two_weeks_is_cancelled_by_the_caller_who_spelled_out_their_own_number(clinic_on, sql):
    today = first_today(lambda day: opens(day + timedelta(weeks=2)) and opens(day + timedelta(weeks=3)))
    client = clinic_on(today)
    for call_id, when in (("tc-1", "in two weeks"), ("tc-2", "in three weeks")):
        booked = tool(client, "bookClinicAppointment", {
            "patientName": "Own Digits", "appointmentDate": when, "appointmentTime": "3pm",
            "patientPhone": "four one five, five five five, oh one double nine"}, call_id)  # the caller ID
        assert booked["success"] is True, booked
    assert {row[2] for row in appointments(sql)} == {CALLER}
    cancelled = tool(client, "cancelAppointment", {"appointmentDate": "the one in two weeks"}, "tc-3")
    assert cancelled["success"] is True, cancelled
    ((status,),) = sql("select status from public.appointments where id = %s", [cancelled["appointmentId"]])
    assert status == "cancelled"
    ((starts_at,),) = sql("select starts_at from public.appointments where id = %s", [cancelled["appointmentId"]])
    assert starts_at == local_instant(today + timedelta(weeks=2), 15)


def test_thursday_the_3rd_is_checked_against_the_calendar(clinic_on, sql):
    month = (date.today().replace(day=1) + timedelta(days=32)).replace(day=1)  # next month
    while not opens(month.replace(day=3)):
        month = (month + timedelta(days=32)).replace(day=1)
    third = month.replace(day=3)
    client = clinic_on(month)  # said on the 1st: the 3rd is two days away
    wrong = WEEKDAYS[(third.weekday() + 1) % 7]
    asked = tool(client, "bookClinicAppointment", {"patientName": "Third Case", "appointmentDate": f"{wrong} the 3rd",
                                                   "appointmentTime": "2pm"})
    nearest = next(third + timedelta(days=n) for n in range(-3, 4)
                   if (third + timedelta(days=n)).strftime("%A") == wrong)
    # "the 3rd" without a month: also the next 3rd that is that weekday, when one is near enough
    # (api.normalize, HINT_SEARCH_DAYS from the caller's today, the 1st); e.g. said on 1 February
    # 2027, "Thursday the 3rd" is also Thursday, June 3rd
    both = [month + timedelta(days=n) for n in range(HINT_SEARCH_DAYS)
            if (month + timedelta(days=n)).day == 3 and (month + timedelta(days=n)).strftime("%A") == wrong][:1]
    said = [speech.spoken_date(day) for day in (third, nearest, *both)]
    assert asked == {"success": False, "error": "invalid_input", "field": "appointmentDate",
                     "reask": "appointment_date_weekday_mismatch",
                     "message": f"{third:%B} 3rd is a {third:%A} — did you mean {', '.join(said[:-1])}, "
                                f"or {said[-1]}?"}
    assert appointments(sql) == []

    right = tool(client, "bookClinicAppointment", {"patientName": "Third Case", "appointmentDate": f"{third:%A} the third",
                                                   "appointmentTime": "2pm"}, "tc-2")
    assert right["success"] is True, right
    assert [row[0] for row in appointments(sql)] == [local_instant(third, 14)]


def test_a_month_and_day_that_just_passed_is_said_to_have_passed(client, sql):
    yesterday = datetime.now(NEW_YORK).date() - timedelta(days=1)
    said = f"{yesterday:%B} {speech._ordinal(yesterday.day)}"
    expected = {"success": False, "error": "invalid_input", "field": "appointmentDate",
                "reask": "appointment_date_passed",
                "message": f"{said} has already passed — would you like the next available day?"}
    booking = tool(client, "bookClinicAppointment", {"patientName": "Late Caller", "appointmentDate": said,
                                                     "appointmentTime": "10am"})
    assert booking == expected
    availability = tool(client, "checkAvailability", {"date": said}, "tc-2")
    assert availability == expected
    assert appointments(sql) == []


def test_words_for_the_callers_own_line_book_and_look_up_under_the_caller_id(client, sql):
    day = next_open_day()
    booked = tool(client, "bookClinicAppointment", {"patientName": "Own Line", "patientPhone": "my cell",
                                                    "appointmentDate": day.isoformat(), "appointmentTime": "9am"})
    assert booked["success"] is True, booked
    assert [row[2] for row in appointments(sql)] == [CALLER]
    looked_up = tool(client, "lookupAppointments", {"patientPhone": "the number I'm calling from"}, "tc-2")
    assert looked_up["success"] is True and looked_up["verifiedBy"] == "caller_id", looked_up
    assert len(looked_up["appointments"]) == 1


def test_a_week_is_searched_from_its_first_day_and_asked_about_when_booking(clinic_on, sql):
    today = first_today(lambda day: opens(day - timedelta(days=day.weekday()) + timedelta(weeks=1, days=2)))
    client = clinic_on(today)
    next_monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1)
    free = tool(client, "checkAvailability", {"date": "next week"})
    assert free["success"] is True and free["slots"], free
    first = min(datetime.fromisoformat(slot.replace("Z", "+00:00")) for slot in free["slots"]).astimezone(NEW_YORK)
    assert first.date() >= next_monday and first.date() < next_monday + timedelta(days=4)

    asked = tool(client, "bookClinicAppointment", {"patientName": "Week Case", "appointmentDate": "next week",
                                                   "appointmentTime": "10am"}, "tc-2")
    assert (asked["reask"], asked["message"]) == (
        "appointment_date_week", f"Which day in the week of {speech.spoken_date(next_monday)} would suit you?")
    moved_on = tool(client, "bookClinicAppointment", {"patientName": "Week Case", "appointmentDate": "Wednesday next week",
                                                      "appointmentTime": "10am"}, "tc-3")
    assert moved_on["success"] is True, moved_on
    assert [row[0] for row in appointments(sql)] == [local_instant(next_monday + timedelta(days=2), 10)]


def test_end_of_next_week_is_the_clinics_last_open_weekday(clinic_on, sql):
    today = first_today(lambda day: opens(day - timedelta(days=day.weekday()) + timedelta(weeks=1, days=4)))
    friday = today - timedelta(days=today.weekday()) + timedelta(weeks=1, days=4)
    client = clinic_on(today)
    booked = tool(client, "bookClinicAppointment", {"patientName": "Friday Case", "appointmentDate": "end of next week",
                                                    "appointmentTime": "11am"})
    assert booked["success"] is True, booked
    assert [row[0] for row in appointments(sql)] == [local_instant(friday, 11)]
