"""Acceptance, literally against the issue texts: one short test per concrete example or requirement
sentence that ISSUE-11, ISSUE-10 ("Voice") and ISSUE-12 state about what a caller, Vapi or a clinic
owner sees, through the real webhook onto a database of this module's own, asserting the database
outcome and the spoken line. Many are covered in depth elsewhere (tests/test_probe_calls*.py,
tests/test_calls_webhook.py, tests/test_provider_voice.py); this file is the checklist.

Harness: tests/test_probe_calls.py (clinic "today" ``M`` = a Monday 08:00 in New York, ``d()``,
``said()``, ``tool()``, ``send()`` which grades every spoken line). Days d(0)–d(20) are booked by hand
here, one test a day; ``slot()`` hands out d(21) on.
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

import pytest

from api import create_app, speech
from conftest import AUTH, BAYVIEW, NEW_YORK, SECRET, SUNRISE
from test_probe_calls import (M, app, client, d, db, local, ordinal, probe_db,  # noqa: F401 (fixtures)
                              said, send, slot, spoken_time, stored, tool)
from test_webhook import V2_URL, WEBHOOK, post_at_once, v2_body
from vapi_fixtures import assistant_request, end_of_call_report, transfer_destination_request

PROBE_DATABASE = "accept_issues"  # test_probe_calls.probe_db: this module's own database

_WORDS = ["", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
          "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth",
          "nineteenth", "twentieth", "twenty-first", "twenty-second", "twenty-third", "twenty-fourth", "twenty-fifth",
          "twenty-sixth", "twenty-seventh", "twenty-eighth", "twenty-ninth", "thirtieth", "thirty-first"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
SUNRISE_OFFER = ("I'm not sure we do that here. We offer consultations, checkups, and vaccinations — "
                 "which would you like?")
HC = "00000000-0000-4000-8000-00000000c4ec"  # the one-provider health-check clinic
_n = iter(range(10**6))


def caller() -> str:
    return f"+1415556{next(_n):04d}"


def count(db, where: str, params=()) -> int:
    return db(f"select count(*) from public.appointments a where {where}", list(params))[0][0]


def available(client, date_text, time_text=None, *, org=SUNRISE, **extra) -> dict:
    arguments = {"date": date_text, **extra} if date_text is not None else dict(extra)
    if time_text is not None:
        arguments["time"] = time_text
    return tool(client, "checkAvailability", arguments, org=org)


def assert_day(reply: dict, day) -> None:
    assert reply["success"] is True, reply
    assert reply["message"].startswith(f"On {speech.spoken_date(day)}"), reply["message"]
    assert {local(s).date() for s in reply["slots"]} == {day}, reply["slots"]


def book_at(client, day, at: str, *, who=None, org=SUNRISE, call=None, tc=None, **arguments) -> dict:
    arguments = {"patientName": "Accept Caller", "appointmentDate": said(day), "appointmentTime": at, **arguments}
    return tool(client, "bookClinicAppointment", arguments, caller=who or caller(), org=org, call=call, tc=tc)


# ---------------------------------------------------------------------------------------------
# ISSUE-11 §1 Dates callers actually say (checkAvailability: the day spoken is the day understood)
# ---------------------------------------------------------------------------------------------

def test_i11_in_two_weeks(client):
    assert_day(available(client, "in two weeks"), d(14))


def test_i11_a_week_from_today(client):
    assert_day(available(client, "a week from today"), d(7))


def test_i11_the_3rd(client):  # "the 3rd": the day of the month, the next one that comes
    assert_day(available(client, f"the {ordinal(d(3))}"), d(3))


def test_i11_thursday_the_3rd_weekday_agrees(client):
    assert_day(available(client, f"{d(3):%A} the {ordinal(d(3))}"), d(3))


def test_i11_thursday_the_3rd_weekday_disagrees_is_asked(client, db):
    wrong = WEEKDAYS[(d(3).weekday() + 1) % 7]
    before = count(db, "true")
    reply = book_at(client, d(3), "10am", appointmentDate=f"{wrong} the {ordinal(d(3))}")
    assert (reply["error"], reply["reask"]) == ("invalid_input", "appointment_date_weekday_mismatch"), reply
    assert "did you mean" in reply["message"], reply["message"]
    assert count(db, "true") == before


def test_i11_december_third_in_words(client):
    assert_day(available(client, f"{d(3):%B} {_WORDS[d(3).day]}"), d(3))


def test_i11_wednesday_next_week(client):
    assert_day(available(client, "Wednesday next week"), d(9))


def test_i11_the_day_after_tomorrow(client):
    assert_day(available(client, "the day after tomorrow"), d(2))


def test_i11_this_coming_monday(client):  # said on a Monday: the next one
    assert_day(available(client, "this coming Monday"), d(7))


def test_i11_end_of_next_week_is_friday(client):  # "→ ask, or Friday — say which": Friday, and the day is spoken
    reply = available(client, "end of next week")
    assert_day(reply, d(11))
    assert speech.spoken_date(d(11)).startswith("Friday")


def test_i11_a_month_day_passed_within_30_days_is_passed_not_next_year(client, db):
    text = said(d(-1))  # "November 29th" said on November 30th
    before = count(db, "true")
    for name, arguments in (("checkAvailability", {"date": text}),
                            ("bookClinicAppointment", {"patientName": "Late Caller", "appointmentDate": text,
                                                       "appointmentTime": "10am"})):
        reply = tool(client, name, arguments)
        assert (reply["error"], reply["reask"]) == ("invalid_input", "appointment_date_passed"), reply
        assert reply["message"] == f"{text} has already passed — would you like the next available day?"
        assert "too far" not in reply["message"] and "120 days" not in reply["message"]
    assert count(db, "true") == before


def test_i11_an_explicit_stale_year_rolls_forward(client, db):
    day, _ = d(3), None
    text = f"{day.year - 2}-{day:%m-%d}"  # "2024-12-03"
    assert_day(available(client, text), day)
    reply = book_at(client, day, "10:00 AM", appointmentDate=text, patientName="Stale Year")
    assert reply["success"] is True, reply
    ((starts_at,),) = db("select starts_at from public.appointments where id = %s", [reply["appointmentId"]])
    assert starts_at.astimezone(NEW_YORK) == datetime.combine(day, time(10), NEW_YORK)


# ---------------------------------------------------------------------------------------------
# ISSUE-11 §2 Loose times in availability (Wednesday d(2): Dr. Patel 9–12, 13–17)
# ---------------------------------------------------------------------------------------------

def _window(client, text, lo: time, hi_end: time, day=None):
    day = day or d(2)
    reply = available(client, said(day), text)
    assert reply["success"] is True and "windowEmpty" not in reply, reply
    got = [local(s) for s in reply["slots"]]
    # every start inside the window, and the 30-minute visit ends by its end
    assert got and all(at.date() == day and lo <= at.time()
                       and (datetime.combine(day, at.time()) + timedelta(minutes=30)).time() <= hi_end
                       for at in got), (text, got)
    assert reply["message"].startswith(f"On {speech.spoken_date(day)}"), reply["message"]
    return [at.time() for at in got]


def test_i11_morning_is_opening_to_noon(client):
    assert _window(client, "morning", time(9), time(12))[0] == time(9)


def test_i11_afternoon_is_noon_to_five(client):
    assert _window(client, "afternoon", time(12), time(17))[0] == time(13)  # lunch 12–1 at Sunrise


def test_i11_evening_is_five_to_closing_and_sunrise_closes_at_five(client):
    reply = available(client, said(d(2)), "evening")
    assert reply["windowEmpty"] == "outside_hours", reply
    assert reply["message"].startswith(f"We're not open in the evening on {speech.spoken_date(d(2))}; I do have ")
    assert all(local(s).date() == d(2) for s in reply["slots"])


def test_i11_evening_at_a_clinic_open_after_five(client, db):
    db("update public.business_hours set closes_at = '19:00' where org_id = %s and weekday = 1 and closes_at = '17:00'",
       [SUNRISE])
    db("update public.provider_hours set closes_at = '19:00' where org_id = %s and weekday = 1 and closes_at = '17:00'",
       [SUNRISE])
    try:
        times = _window(client, "evening", time(17), time(19), day=d(35))  # a Monday
        assert times[0] == time(17)
    finally:
        db("update public.business_hours set closes_at = '17:00' where org_id = %s and weekday = 1 and closes_at = '19:00'",
           [SUNRISE])
        db("update public.provider_hours set closes_at = '17:00' where org_id = %s and weekday = 1 and closes_at = '19:00'",
           [SUNRISE])


def test_i11_after_3(client):
    assert _window(client, "after 3", time(15), time(17))[0] == time(15)


def test_i11_before_noon(client):
    assert _window(client, "before noon", time(9), time(12))[0] == time(9)


def test_i11_around_2_is_within_an_hour(client):
    times = _window(client, "around 2", time(13), time(15, 30))
    assert time(14) in times and all(time(13) <= t <= time(15) for t in times)


def test_i11_no_time_is_the_whole_day(client):
    assert _window(client, None, time(9), time(17))[0] == time(9)


def test_i11_no_date_is_today(client):
    reply = available(client, None)
    assert reply["success"] is True, reply
    assert {local(s).date() for s in reply["slots"]} == {M}, reply
    assert speech.spoken_date(M) in reply["message"] or reply["message"].startswith("Today"), reply["message"]


def test_i11_a_full_window_says_so_and_offers_that_days_other_openings_first(client, db):
    day = d(4)  # Friday: Dr. Patel alone for consultations
    for at in ("3:00 PM", "3:30 PM", "4:00 PM", "4:30 PM"):
        assert book_at(client, day, at, patientName=f"Full Window {at[:1]}{at[2:4]}")["success"] is True
    reply = available(client, said(day), "after 3")
    assert reply["windowEmpty"] == "full", reply
    assert reply["message"].startswith(f"I don't have anything after 3:00 PM on {speech.spoken_date(day)}; I do have ")
    got = [local(s) for s in reply["slots"]]
    assert got[0].date() == day and got[0].time() < time(15), got  # the same day's other openings first
    assert count(db, "a.patient_name like 'Full Window%%'") == 4


# ---------------------------------------------------------------------------------------------
# ISSUE-11 §3 Services by what callers call them
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text,code", [("flu shot", "vaccination"), ("check-up", "checkup"),
                                       ("annual physical", "checkup"), ("", "consultation")])
def test_i11_a_service_by_what_callers_call_it(client, db, text, code):
    day, at = slot()
    reply = book_at(client, day, spoken_time(at), serviceType=text, patientName="Service Caller")
    assert reply["success"] is True and reply["service"] == code, reply
    assert stored(db, reply["appointmentId"])["service"] == code
    assert reply["message"].startswith(f"You're all set: a {code} with "), reply["message"]


@pytest.mark.parametrize("text", ["MRI scan"])
def test_i11_an_unknown_service_is_refused_with_the_services_spoken(client, db, text):
    before = count(db, "true")
    day, at = slot()
    reply = book_at(client, day, spoken_time(at), serviceType=text)
    assert (reply["error"], reply["message"]) == ("unknown_service", SUNRISE_OFFER), reply
    assert count(db, "true") == before


# ---------------------------------------------------------------------------------------------
# ISSUE-11 §4 The caller's own bookings
# ---------------------------------------------------------------------------------------------

def test_i11_verified_caller_asking_again_hears_already_booked(client, db):
    own = caller()
    arguments = dict(patientName="Jane Again", serviceType="checkup", patientPhone="this number")
    first = book_at(client, d(16), "2pm", who=own, **arguments)
    assert first["success"] is True, first
    again = book_at(client, d(16), "2pm", who=own, **arguments)
    assert again["message"].startswith("You're already booked for that: "), again["message"]
    assert "no longer available" not in again["message"]
    other = book_at(client, d(16), "2pm", patientName="Jane Again", serviceType="checkup")  # another caller
    assert other["success"] is False and "already booked" not in other["message"], other
    assert count(db, "a.patient_name = 'Jane Again' and a.status <> 'cancelled'") == 1


def test_i11_v2_route_same_request_again_is_slot_unavailable(client, db):
    day = d(17)
    first = client.post(V2_URL, json=v2_body(day, "10:00", name="Vee Two"), headers=AUTH).get_json()["result"]
    assert first["success"] is True, first
    again = client.post(V2_URL, json=v2_body(day, "10:00", name="Vee Two", call_id="test-2"),
                        headers=AUTH).get_json()["result"]
    assert again["success"] is False and again["error"] == "slot_unavailable", again
    assert count(db, "a.patient_name = 'Vee Two'") == 1


def test_i11_two_identical_parallel_booking_calls_give_one_booking_two_successes(client, db):
    day, at = slot()
    arguments = {"patientName": "Twin Accept", "appointmentDate": said(day), "appointmentTime": spoken_time(at)}
    first, second = send(client, ("tc-acc-a", "bookClinicAppointment", arguments),
                         ("tc-acc-b", "bookClinicAppointment", arguments), caller=caller(), call="call-acc-twins")
    assert first["success"] is True and second["success"] is True, (first, second)
    assert first["appointmentId"] == second["appointmentId"]
    assert "taken" not in second["message"] and second["message"].startswith("You're all set")
    assert count(db, "a.patient_name = 'Twin Accept'") == 1


def test_i11_cancel_the_tuesday_one_weeks_away(client, db):
    own = caller()
    tuesday = book_at(client, d(15), "4:30 PM", who=own, patientName="Tue Accept", patientPhone="this number")
    thursday = book_at(client, d(17), "4:30 PM", who=own, patientName="Tue Accept", patientPhone="this number")
    assert tuesday["success"] and thursday["success"], (tuesday, thursday)
    reply = tool(client, "cancelAppointment", {"appointmentDate": "the Tuesday one"}, caller=own)
    assert reply["success"] is True and reply["appointmentId"] == tuesday["appointmentId"], reply
    assert speech.spoken_date(d(15)) in reply["message"], reply["message"]
    assert stored(db, tuesday["appointmentId"])["status"] == "cancelled"
    assert stored(db, thursday["appointmentId"])["status"] != "cancelled"


def test_i11_cancel_the_tuesday_one_asks_only_when_two_match(client, db):
    own = caller()
    for day in (d(8), d(15)):
        assert book_at(client, day, "4:00 PM", who=own, patientName="Two Tue Accept", patientPhone="this number")["success"]
    reply = tool(client, "cancelAppointment", {"appointmentDate": "the Tuesday one"}, caller=own)
    assert reply["error"] == "ambiguous" and reply["message"].endswith("Which one do you mean?"), reply
    assert count(db, "a.patient_name = 'Two Tue Accept' and a.status = 'cancelled'") == 0


@pytest.mark.parametrize("text,e164", [("two one two, five five five, zero one one one", "+12125550111"),
                                       ("the number I'm calling from", "CALLER"), ("this number", "CALLER")])
def test_i11_phone_as_said(client, db, text, e164):
    own = caller()
    day, at = slot()
    reply = book_at(client, day, spoken_time(at), who=own, patientPhone=text, patientName="Phone Accept")
    assert reply["success"] is True, reply
    assert stored(db, reply["appointmentId"])["phone"] == (own if e164 == "CALLER" else e164)


# ---------------------------------------------------------------------------------------------
# ISSUE-11 §5 Say the real reason
# ---------------------------------------------------------------------------------------------

def test_i11_445_at_a_clinic_closing_at_5_does_not_fit_and_offers_times_that_fit(client, db):
    before = count(db, "true")
    reply = book_at(client, d(1), "4:45 PM")
    assert reply["error"] == "ends_after_closing", reply
    assert reply["message"].startswith("A 30-minute consultation at 4:45 PM doesn't fit before we close at 5:00 PM. ")
    assert "not open" not in reply["message"]
    got = [local(s) for s in reply["alternatives"]]
    assert got and got[0].date() == d(1) and all(t.time() <= time(16, 30) for t in got), got
    assert time(16, 30) in [t.time() for t in got if t.date() == d(1)]  # the nearest that fits
    assert count(db, "true") == before


@pytest.mark.parametrize("name", ["bookClinicAppointment", "checkAvailability"])
def test_i11_beyond_the_horizon_says_how_far_ahead_and_the_latest(client, name):
    text = said(d(130))
    arguments = ({"date": text} if name == "checkAvailability" else
                 {"patientName": "Far Accept", "appointmentDate": text, "appointmentTime": "10am"})
    reply = tool(client, name, arguments)
    assert reply["error"] == "too_far_ahead", reply
    # the issue: "We book up to 120 days ahead — the latest I can offer is …" (said as two sentences)
    assert reply["message"].startswith("We book up to 120 days ahead. The latest I can offer is "), reply["message"]
    latest = max(local(s).date() for s in reply["alternatives"])
    assert latest <= M + timedelta(days=120) and speech.spoken_date(latest) in reply["message"]


def test_i11_a_lookup_list_does_not_ask_which_one(client):
    own = caller()
    for day in (d(10), d(12)):
        assert book_at(client, day, "11:00 AM", who=own, patientName="List Accept", patientPhone="this number")["success"]
    looked = tool(client, "lookupAppointments", {}, caller=own)
    assert looked["success"] is True and len(looked["appointments"]) == 2, looked
    assert speech.spoken_date(d(10)) in looked["message"] and "Which one" not in looked["message"], looked["message"]


def test_i11_not_found_asks_for_another_phone_number(client):
    reply = tool(client, "lookupAppointments", {}, caller=caller())
    assert reply["appointments"] == [], reply
    assert reply["message"] == ("I don't see anything under the number you're calling from — "
                                "is it booked under another number?")
    cancel = tool(client, "cancelAppointment", {}, caller=caller())
    assert "another number" in cancel["message"] and "day" not in cancel["message"].lower(), cancel["message"]


def test_i11_email_underscore_spoken(client, db):
    day, at = slot()
    reply = book_at(client, day, spoken_time(at), patientEmail="john underscore smith at example dot com")
    assert reply["success"] is True, reply
    assert stored(db, reply["appointmentId"])["email"] == "john_smith@example.com"


def test_i11_an_accented_email_never_blocks(client, db):
    day, at = slot()
    reply = book_at(client, day, spoken_time(at), patientEmail="josé@exámple.com")
    assert reply["success"] is True and reply["emailDropped"] is True, reply
    assert stored(db, reply["appointmentId"])["email"] is None
    assert reply["message"].startswith("You're all set") and "I couldn't use that e-mail address" in reply["message"]


@pytest.mark.parametrize("text,name", [("mcdonald", "McDonald"), ("MACDONALD", "MacDonald"), ("macy", "Macy")])
def test_i11_mc_and_mac_names(client, db, text, name):
    day, at = slot()
    reply = book_at(client, day, spoken_time(at), patientName=text)
    assert reply["success"] is True, reply
    assert stored(db, reply["appointmentId"])["name"] == name


def test_i11_docs_have_the_accepts_table():
    text = (Path(__file__).resolve().parents[1] / "docs" / "vapi-tools.md").read_text()
    assert "## What each argument accepts" in text
    section = text.split("## What each argument accepts", 1)[1]
    for argument in ("appointmentDate", "appointmentTime", "serviceType", "patientPhone", "patientEmail", "patientName"):
        assert f"`{argument}`" in section, argument


# ---------------------------------------------------------------------------------------------
# ISSUE-10 Voice
# ---------------------------------------------------------------------------------------------

def test_i10_a_clinic_with_several_providers_names_the_provider_on_booking(client, db):
    reply = book_at(client, d(8), "2:00 PM", patientName="Prov Accept")  # Tuesday: Dr. Lee
    assert reply["success"] is True, reply
    assert reply["message"] == (f"You're all set: a consultation with Dr. Marcus Lee on {speech.spoken_date(d(8))} "
                                "at 2:00 PM."), reply["message"]
    ((provider,),) = db("select p.display_name from public.appointments a join public.providers p"
                        " on p.id = a.provider_id where a.id = %s", [reply["appointmentId"]])
    assert provider == "Dr. Marcus Lee"


def test_i10_a_conflict_says_who_is_free(client, db):
    day = d(9)  # Wednesday at Bayview: two hygienists for cleanings
    first = book_at(client, day, "10:00 AM", org=BAYVIEW, serviceType="cleaning", providerName="Dana")
    assert first["success"] is True and first["provider"]["name"] == "Dana Whitfield", first
    again = book_at(client, day, "10:00 AM", org=BAYVIEW, serviceType="cleaning", providerName="Dana",
                    patientName="Second Cleaner")
    assert again["error"] == "slot_unavailable", again
    assert again["message"].startswith("Dana Whitfield is booked then"), again["message"]
    assert "Omar Haddad is free at 10:00 AM" in again["message"], again["message"]  # the same time, with the other
    assert count(db, "a.patient_name = 'Second Cleaner'") == 0


def test_i10_a_one_provider_clinic_never_says_a_provider_name(client, db):
    db("select public.ensure_health_check_org()")
    ((provider,),) = db("select display_name from public.providers where org_id = %s and active", [HC])
    check = available(client, said(d(3)), "around 3am", org=HC)
    booked = book_at(client, d(3), "3:00 AM", org=HC, patientName="Hank Accept")
    assert check["success"] and booked["success"], (check, booked)
    for reply in (check, booked):
        assert provider not in reply["message"] and " with " not in reply["message"], reply["message"]


# ---------------------------------------------------------------------------------------------
# ISSUE-12 The whole call (an app of its own with a clock to set)
# ---------------------------------------------------------------------------------------------

class Clock:
    at = datetime(2026, 3, 10, 15, 0, tzinfo=timezone.utc)  # Tuesday 11:00 AM in New York

    def __call__(self):
        return self.at


@pytest.fixture(scope="module")
def call_app(probe_db):
    clock = Clock()
    app = create_app({"TESTING": True, "APP_ENV": "test", "VAPI_SECRET": SECRET, "DATABASE_URL": probe_db,
                      "DB_POOL_MAX": 4, "PUBLIC_BASE_URL": "https://api.clinic.example"}, clock=clock)
    app.clock_for_tests = clock
    yield app
    app.extensions["deps"].gateway.close()


def post(app, body, at=None) -> dict:
    if at:
        app.clock_for_tests.at = datetime.fromisoformat(at.replace("Z", "+00:00"))
    response = app.test_client().post(WEBHOOK, json=body, headers=AUTH)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_i12_assistant_request_for_a_mapped_number_has_variables_in_the_clinics_zone(call_app):
    reply = post(call_app, assistant_request("pn_sunrise_main"), at="2026-03-11T03:30:00Z")  # 11:30 PM Tue in NY
    assert reply["assistantId"] == "asst_sunrise_sarah", reply
    variables = reply["assistantOverrides"]["variableValues"]
    assert (variables["today"], variables["localTime"], variables["clinicName"]) == (
        "Tuesday, March 10, 2026", "11:30 PM", "Sunrise Family Clinic")
    assert variables["outsideHours"] is True  # still answered outside hours, and says so


def test_i12_a_clinic_without_its_own_assistant_gets_a_transient_one(call_app, db):
    db("delete from public.vapi_assistants where org_id = %s", [BAYVIEW])
    db("insert into public.vapi_assistants (org_id, phone_number_id, label) values (%s, 'pn_bayview_acc', 'main')",
       [BAYVIEW])
    db("insert into public.clinic_call_settings (org_id, server_credential_id) values (%s, 'cred-bay-acc')"
       " on conflict (org_id) do update set server_credential_id = excluded.server_credential_id", [BAYVIEW])
    reply = post(call_app, assistant_request("pn_bayview_acc"), at="2026-03-10T17:00:00Z")
    assistant = reply["assistant"]
    assert SECRET not in json.dumps(reply)
    tools = json.loads((Path(__file__).resolve().parents[1] / "docs" / "vapi-tools.json").read_text())
    names = {t.get("function", {}).get("name") or t.get("type") for t in assistant["model"]["tools"]}
    assert {t.get("function", {}).get("name") or t.get("type") for t in tools} <= names
    assert "cred-bay-acc" in json.dumps(assistant)


def test_i12_an_unknown_number_is_an_error_with_a_calm_line(call_app):
    assert post(call_app, assistant_request("pn_nobody_acc")) == {"error": speech.unknown_number()}


@pytest.mark.parametrize("at,transferred", [("2026-03-10T15:00:00Z", True),    # Tuesday 11:00 AM
                                            ("2026-03-10T23:00:00Z", False)])  # Tuesday 7:00 PM
def test_i12_transfer_in_and_out_of_hours(call_app, at, transferred):
    reply = post(call_app, transfer_destination_request(), at=at)
    if transferred:
        assert reply["destination"]["type"] == "number" and reply["destination"]["number"].startswith("+"), reply
        assert reply["destination"]["message"] == speech.transfer_connecting()
    else:
        assert reply == {"error": speech.transfer_unavailable("closed")}
        assert "message" in reply["error"]


def test_i12_take_message_is_stored_for_the_clinic(client, db):
    own = caller()
    reply = tool(client, "takeMessage", {"callerName": "pat doe", "reason": "a billing question"}, caller=own,
                 call="call-acc-msg")
    assert reply["success"] is True and reply["message"] == speech.message_taken(own_number=True), reply
    assert db("select caller_name, callback_number, reason, status from public.callback_requests"
              " where vapi_call_id = 'call-acc-msg'") == [("Pat Doe", own, "a billing question", "open")]


def test_i12_end_of_call_report_sent_three_times_is_stored_once(call_app, db):
    body = end_of_call_report(3, call_id="call-acc-eocr")
    answers = post_at_once(call_app, body, 3)
    assert [(r.status_code, r.get_json()) for r in answers] == [(200, {})] * 3
    assert db("select count(*) from public.calls where vapi_call_id = 'call-acc-eocr'") == [(1,)]
    assert db("select outcome from public.call_log where call_id = 'call-acc-eocr'") == [("info_only",)]
