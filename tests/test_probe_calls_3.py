"""Probe calls, third round: whole CALLS, not single tool calls — the sequences a Vapi assistant makes
in one call (same call id, same caller ID): check availability → book one of the offered times (said
the way the caller heard it) → look up → reschedule → cancel, with a named provider, with "anyone",
with "anyone but X", at Sunrise (family), Bayview (dental) and the one-provider health-check clinic;
siblings on one parent's phone and a second caller trying to see or change them; a verified caller
on a withheld caller ID; availability QUESTIONS as an LLM fills checkAvailability's arguments (the
whole question in ``date``, in ``time``, in both, the provider in ``serviceType``); takeMessage,
transfer in and out of the front desk's hours, and the end-of-call-report linking what the call did.

The harness is test_probe_calls.py's (``M``, ``d()``, ``said()``, ``send()``,
``local()``; ``row()`` here reads provider and phone too); every reply's ``message`` is graded by ``send()`` (one line, ≤ 300
characters, no ISO timestamps, no emoji, no SQL or traces, never a 500). On top, here: every offered
time is checked FREE in the database for the provider it is offered with, and every confirmation is
checked against the stored row (day, time, provider, service, patient). This module has its own
database (``probe_calls_3``); each sequence uses days of its own, so the probes are order-independent.
M is a Monday (08:00 in New York): d(1) Tuesday (Dr. Lee), d(2) Wednesday (Dr. Patel), …

Passing probes are plain tests; each miss is ``xfail(strict=True)`` with the exact input, what
happened and what a receptionist would do.
"""

from __future__ import annotations

import itertools
import json
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from api import create_app, prompts, speech
from conftest import AUTH, BAYVIEW, NEW_YORK, SECRET, SUNRISE
from test_probe_calls import M, assert_spoken, d, db, local, probe_db, said, send  # noqa: F401 (db, probe_db: fixtures)
from test_webhook import WEBHOOK, vapi_body
from vapi_fixtures import end_of_call_report, transfer_destination_request

LOS_ANGELES = ZoneInfo("America/Los_Angeles")
HC = "00000000-0000-4000-8000-00000000c4ec"  # the health-check clinic (private.health_check_org_id)
PATEL, LEE, KIM = ("11111111-1111-4111-8111-00000000d001", "11111111-1111-4111-8111-00000000d002",
                   "11111111-1111-4111-8111-00000000e001")
REYES, DANA, OMAR = ("22222222-2222-4222-8222-00000000d001", "22222222-2222-4222-8222-00000000c001",
                     "22222222-2222-4222-8222-00000000c002")
ZONES = {SUNRISE: NEW_YORK, BAYVIEW: LOS_ANGELES, HC: NEW_YORK}

# ---------------------------------------------------------------------------------------------
# Fixtures: as test_probe_calls.py, on a database of this module's own
# ---------------------------------------------------------------------------------------------


PROBE_DATABASE = "probe_calls_3"  # test_probe_calls.probe_db: this module's own database


@pytest.fixture(scope="module")
def health_check_org(db):
    """The one-provider health-check clinic exists before any app of this module is built."""
    db("select public.ensure_health_check_org()")


def _app(probe_db, at: time):
    instant = datetime.combine(M, at, NEW_YORK)
    return create_app({"TESTING": True, "APP_ENV": "test", "VAPI_SECRET": SECRET, "DATABASE_URL": probe_db,
                       "DB_POOL_MAX": 2}, clock=lambda: instant)


@pytest.fixture(scope="module")
def app(probe_db, health_check_org):
    app = _app(probe_db, time(8))  # Monday 08:00 in New York: before the front desk opens
    yield app
    app.extensions["deps"].gateway.close()


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


@pytest.fixture(scope="module")
def client_in_hours(probe_db, health_check_org):
    app = _app(probe_db, time(10, 30))  # Monday 10:30 in New York: the front desk takes transfers
    yield app.test_client()
    app.extensions["deps"].gateway.close()


# ---------------------------------------------------------------------------------------------
# One call: the same call id and caller for every tool call; the database as the judge
# ---------------------------------------------------------------------------------------------

_calls = itertools.count()


class Call:
    """One phone call: every tool call carries the same call id and caller ID (None: withheld)."""

    def __init__(self, client, *, org=SUNRISE, caller: str | None = "+14155551000", name: str | None = None):
        self.client, self.org, self.caller = client, org, caller
        self.id = name or f"call-p3-{next(_calls)}"
        self.replies: list[dict] = []
        self._tc = itertools.count()

    def __call__(self, tool_name: str, arguments) -> dict:
        tc = f"{self.id}-tc{next(self._tc)}"
        if self.caller is None:
            body = vapi_body((tc, tool_name, arguments), org=self.org, call_id=self.id, caller="x")
            body["message"]["customer"].pop("number")
            body["message"]["call"].pop("customer")
            response = self.client.post(WEBHOOK, json=body, headers=AUTH)
            assert response.status_code == 200, response.get_data(as_text=True)[:500]
            [reply] = [json.loads(item["result"]) for item in response.get_json()["results"]]
            assert_spoken(reply["message"])
        else:
            [reply] = send(self.client, (tc, tool_name, arguments), org=self.org, caller=self.caller, call=self.id)
        self.replies.append(reply)
        return reply


def offered(reply: dict, zone: ZoneInfo = NEW_YORK) -> list[tuple[datetime, str | None]]:
    """(clinic-local instant, provider id) of every time a reply offers (slots or alternatives)."""
    def at(text: str) -> datetime:
        return local(text).astimezone(zone)
    items = reply.get("slotProviders") or reply.get("alternativeSlots")
    if items:
        return [(at(item["scheduledAt"]), item.get("providerId")) for item in items]
    return [(at(s), None) for s in (reply.get("slots") or reply.get("alternatives") or [])]


def assert_offers_are_free(db, org: str, reply: dict) -> None:
    """Every time offered is free in the database for the provider it is offered with (for any
    provider of the clinic when the reply names none) — no active appointment overlaps its start."""
    for at, provider in offered(reply):
        busy = db("select count(*) from public.appointments a where a.org_id = %s and a.status <> 'cancelled'"
                  " and a.blocked && tstzrange(%s, %s + interval '15 minutes') and (%s::uuid is null or a.provider_id = %s::uuid)",
                  [org, at, at, provider, provider])
        if provider is not None or org == HC:
            assert busy == [(0,)], ("offered a busy time", at, provider, reply["message"])


def row(db, appointment_id: str) -> dict:
    ((name, starts_at, status, provider, service, phone, org),) = db(
        "select a.patient_name, a.starts_at, a.status, p.display_name, s.name, l.phone, a.org_id"
        " from public.appointments a join public.providers p on p.org_id = a.org_id and p.id = a.provider_id"
        " join public.services s on s.org_id = a.org_id and s.id = a.service_id"
        " join public.leads l on l.org_id = a.org_id and l.id = a.lead_id where a.id = %s", [appointment_id])
    zone = ZONES[str(org)]
    return {"name": name, "at": starts_at.astimezone(zone), "status": status, "provider": provider,
            "service": service, "phone": phone}


def spoken_at(at: datetime) -> str:
    return speech.spoken_time(at)


def assert_confirms(db, reply: dict, *, name: str, provider: str | None, service: str) -> dict:
    """The confirmation says the stored day, time, provider and service; the stored patient is ``name``."""
    assert reply["success"] is True, reply
    stored_row = row(db, reply["appointmentId"])
    message = reply["message"]
    assert stored_row["status"] != "cancelled" and stored_row["name"] == name, stored_row
    assert speech.spoken_date(stored_row["at"].date()) in message, (stored_row, message)
    assert spoken_at(stored_row["at"]) in message, (stored_row, message)
    assert service.lower() in message.lower() and stored_row["service"] == service, (stored_row, message)
    if provider is not None:
        assert stored_row["provider"] == provider and provider in message, (stored_row, message)
    else:
        assert stored_row["provider"] not in message or stored_row["provider"] == "Health check", message
    return stored_row


def active(db, where: str, params) -> int:
    return db(f"select count(*) from public.appointments a where a.status <> 'cancelled' and {where}", params)[0][0]


def miss(reason: str):
    """A known miss: strict, so it fails the day it is fixed (then the mark goes)."""
    return pytest.mark.xfail(strict=True, reason=reason)


def ny(offset: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(d(offset), time(hour, minute), NEW_YORK)


# ---------------------------------------------------------------------------------------------
# 1. A whole call with a named provider (Sunrise, Dr. Lee on Tuesday d(8)): the spine passes
# ---------------------------------------------------------------------------------------------


def test_named_provider_check_book_lookup_move_cancel(client, db):
    call = Call(client, caller="+14155551101")
    check = call("checkAvailability", {"date": said(d(8)), "time": "afternoon", "providerName": "Dr. Lee"})
    assert check["success"] and {p for _, p in offered(check)} == {LEE}, check
    assert_offers_are_free(db, SUNRISE, check)
    second = offered(check)[1][0]  # the caller picks the second time heard
    booked = call("bookClinicAppointment", {"patientName": "Nora Named", "appointmentDate": said(d(8)),
                                            "appointmentTime": spoken_at(second), "providerName": "Dr. Lee"})
    stored_row = assert_confirms(db, booked, name="Nora Named", provider="Dr. Marcus Lee", service="Consultation")
    assert stored_row["at"] == second and stored_row["phone"] == "+14155551101"
    looked = call("lookupAppointments", {})
    assert looked["success"] and [a["appointmentId"] for a in looked["appointments"]] == [booked["appointmentId"]]
    assert speech.spoken_date(d(8)) in looked["message"] and spoken_at(second) in looked["message"]
    assert "Dr. Marcus Lee" in looked["message"], looked["message"]
    later = second + timedelta(hours=1)
    moved = call("rescheduleAppointment", {"currentDate": said(d(8)), "newDate": said(d(8)),
                                           "newTime": spoken_at(later)})
    assert moved["success"] is True, moved
    assert row(db, booked["appointmentId"])["at"] == later and row(db, booked["appointmentId"])["provider"] == "Dr. Marcus Lee"
    assert spoken_at(later) in moved["message"] and "Dr. Marcus Lee" in moved["message"], moved["message"]
    cancelled = call("cancelAppointment", {"appointmentDate": said(d(8))})
    assert cancelled["success"] is True and row(db, booked["appointmentId"])["status"] == "cancelled", cancelled
    assert spoken_at(later) in cancelled["message"], cancelled["message"]
    assert call("lookupAppointments", {})["appointments"] == []


# The caller heard "Dr. Marcus Lee is free at 1:00 PM, 1:30 PM, or 2:00 PM" and answers with one of
# them the way people do; the LLM passes the words on as appointmentTime (often with the day).
HEARD = [
    ("2:00", time(14), "no meridiem: the clinic's open reading"),
    ("the 1:30", time(13, 30), "'the 1:30' (the offered one)"),
    ("Tuesday at 1:30", time(13, 30), "day and time in appointmentTime (the day agrees with appointmentDate)"),
    ("1:30 on Tuesday", time(13, 30), "time then day in appointmentTime"),
    ("1:30 works", time(13, 30), "time plus filler"),
    ("let's do two", time(14), "'let's do two'"),
    ("two works", time(14), "'two works'"),
    ("1:30 is fine", time(13, 30), "'1:30 is fine'"),
    ("I'll take the 2 o'clock", time(14), "'I'll take the 2 o'clock'"),
    ("the 2pm one", time(14), "'the 2pm one'"),
    ("1:30 sounds good", time(13, 30), "'1:30 sounds good'"),
    ("half one", time(13, 30), "UK 'half one' = 1:30"),
]
# Said by its place in the offer: the server keeps no record of what checkAvailability offered in the
# call, so it cannot know which time "the first one" is. The prompt and the appointmentTime description
# tell the assistant to pass the time itself; when such a phrase arrives anyway, the caller is asked
# for the time itself (appointment_time_offered) — never "I didn't quite get the time", never a guess.
HEARD_BY_POSITION = ["the first one", "the last one", "the earlier one", "the second option", "I'll take the last one"]


_heard_callers = itertools.count(1200)


@pytest.mark.parametrize("text,expected,why", HEARD)
def test_booking_an_offered_time_said_as_heard(client, db, text, expected, why):
    call = Call(client, caller=f"+1415555{next(_heard_callers):04d}")
    day = d(15)  # Tuesday: Dr. Lee
    check = call("checkAvailability", {"date": said(day), "time": "afternoon", "providerName": "Dr. Lee"})
    assert [at.time() for at, _ in offered(check)][:3] == [time(13), time(13, 30), time(14)], check["message"]
    booked = call("bookClinicAppointment", {"patientName": "Hugh Heard", "appointmentDate": said(day),
                                            "appointmentTime": text, "providerName": "Dr. Lee"})
    try:
        assert booked["success"] is True, (text, booked["message"])
        assert row(db, booked["appointmentId"])["at"] == datetime.combine(day, expected, NEW_YORK)
    finally:
        if booked.get("appointmentId"):
            db("update public.appointments set status = 'cancelled' where id = %s", [booked["appointmentId"]])


@pytest.mark.parametrize("text", HEARD_BY_POSITION)
def test_an_offered_time_said_by_its_place_asks_for_the_time_itself(client, db, text):
    call = Call(client, caller=f"+1415555{next(_heard_callers):04d}")
    day = d(15)
    call("checkAvailability", {"date": said(day), "time": "afternoon", "providerName": "Dr. Lee"})
    booked = call("bookClinicAppointment", {"patientName": "Hugh Heard", "appointmentDate": said(day),
                                            "appointmentTime": text, "providerName": "Dr. Lee"})
    assert booked["success"] is False and booked.get("reask") == "appointment_time_offered", booked
    assert booked["message"] == "Which time would you like? Please tell me the time itself.", booked
    assert active(db, "a.patient_name = %s", ["Hugh Heard"]) == 0


def test_a_day_in_the_time_that_disagrees_with_the_date_is_asked_about(client, db):
    call = Call(client, caller=f"+1415555{next(_heard_callers):04d}")
    day = d(15)  # a Tuesday; "Wednesday at 1:30" names another day
    booked = call("bookClinicAppointment", {"patientName": "Hugh Heard", "appointmentDate": said(day),
                                            "appointmentTime": "Wednesday at 1:30", "providerName": "Dr. Lee"})
    assert booked["success"] is False and booked.get("reask") == "appointment_time_day_mismatch", booked
    assert speech.spoken_date(day) in booked["message"] and speech.spoken_date(d(2)) in booked["message"], booked
    assert active(db, "a.patient_name = %s", ["Hugh Heard"]) == 0


# Moving a booking relative to itself, in one call (Dr. Lee, Thursday d(17) 10:00).
RELATIVE_MOVES = [
    ({"newTime": "an hour later"}, 17, time(11), "'an hour later' with no newDate"),
    ({"newDate": said(d(17)), "newTime": "an hour later"}, 17, time(11), "'an hour later' with the same day"),
    ({"newDate": "the same day", "newTime": "11am"}, 17, time(11), "'the same day'"),
    ({"newDate": "Tuesday", "newTime": "the same time"}, 22, time(10), "'the same time' on Tuesday"),
    ({"newDate": "the same time Tuesday"}, 22, time(10), "the whole phrase in newDate"),
    ({"newDate": "a week later", "newTime": "same time"}, 24, time(10), "'a week later, same time'"),
    ({"newDate": said(d(17)), "newTime": "30 minutes earlier"}, 17, time(9, 30), "'30 minutes earlier'"),
    ({"newTime": "push it back an hour"}, 17, time(11), "'push it back an hour'"),
    ({"newTime": "half an hour later"}, 17, time(10, 30), "'half an hour later'"),
    ({"newDate": "an hour later"}, 17, time(11), "'an hour later' put in newDate"),
    ({"newDate": "Tuesday, same time"}, 22, time(10), "'Tuesday, same time'"),
    ({"newDate": "same time next week"}, 24, time(10), "'same time next week'"),
    ({"newDate": "the same day", "newTime": "bring it forward 30 minutes"}, 17, time(9, 30), "'bring it forward 30 minutes'"),
]


@pytest.mark.parametrize("new,offset,at,why", RELATIVE_MOVES, ids=[m[3] for m in RELATIVE_MOVES])
def test_moving_a_booking_relative_to_itself(client, db, new, offset, at, why):
    call = Call(client, caller=f"+1415555{1300 + [m[3] for m in RELATIVE_MOVES].index(why):04d}")
    booked = call("bookClinicAppointment", {"patientName": "Rel Mover", "appointmentDate": said(d(17)),
                                            "appointmentTime": "10am", "providerName": "Dr. Lee"})
    assert booked["success"], booked
    try:
        moved = call("rescheduleAppointment", new)
        assert moved["success"] is True, (new, moved["message"])
        assert row(db, booked["appointmentId"])["at"] == ny(offset, at.hour, at.minute)
    finally:
        db("update public.appointments set status = 'cancelled' where id = %s", [booked["appointmentId"]])


def test_the_same_time_thursday_keeps_the_provider_who_works_thursday(client, db):
    # booked Tuesday d(29) 3 PM with Dr. Lee; moved to Thursday d(31) 3 PM: still Dr. Lee, said so
    call = Call(client, caller="+14155551350")
    booked = call("bookClinicAppointment", {"patientName": "Thu Mover", "appointmentDate": said(d(29)),
                                            "appointmentTime": "3pm", "providerName": "Dr. Lee"})
    moved = call("rescheduleAppointment", {"currentDate": said(d(29)), "newDate": said(d(31)), "newTime": "3pm"})
    assert moved["success"] is True, moved
    assert row(db, booked["appointmentId"])["provider"] == "Dr. Marcus Lee"
    assert "Dr. Marcus Lee" in moved["message"] and speech.spoken_date(d(31)) in moved["message"], moved["message"]


def test_moving_a_dr_lee_booking_to_a_day_he_is_off_says_so_and_offers_free_times(client, db):
    call = Call(client, caller="+14155551351")
    booked = call("bookClinicAppointment", {"patientName": "Off Day", "appointmentDate": said(d(36)),
                                            "appointmentTime": "9am", "providerName": "Dr. Lee"})
    assert booked["success"], booked
    moved = call("rescheduleAppointment", {"currentDate": said(d(36)), "newDate": said(d(37)), "newTime": "9am"})
    # Wednesday: Dr. Lee is off. Keep-the-provider (ISSUE-10): refuse naming him, or move to Dr. Patel saying so
    if moved["success"]:
        now = row(db, booked["appointmentId"])
        assert now["provider"] in moved["message"], moved["message"]
    else:
        assert moved["error"] in ("provider_unavailable", "slot_unavailable"), moved
        assert_offers_are_free(db, SUNRISE, moved)
        assert row(db, booked["appointmentId"])["at"] == ny(36, 9)


# ---------------------------------------------------------------------------------------------
# 2. "Anyone" and "anyone but X"
# ---------------------------------------------------------------------------------------------


def test_bayview_anyone_fills_both_hygienists_then_offers_free_times(client, db):
    day, caller_base = d(9), 1400  # a Wednesday: Dana and Omar both clean at 10:00
    seen = set()
    for n, name in enumerate(("Ada Clean", "Ben Clean")):
        call = Call(client, org=BAYVIEW, caller=f"+1415555{caller_base + n:04d}")
        booked = call("bookClinicAppointment", {"patientName": name, "appointmentDate": said(day),
                                                "appointmentTime": "10am", "serviceType": "cleaning",
                                                "providerName": "anyone"})
        stored_row = assert_confirms(db, booked, name=name, provider=booked["provider"]["name"],
                                     service="Cleaning")
        seen.add(stored_row["provider"])
    assert seen == {"Dana Whitfield", "Omar Haddad"}
    third = Call(client, org=BAYVIEW, caller=f"+1415555{caller_base + 9:04d}")
    refused = third("bookClinicAppointment", {"patientName": "Cy Clean", "appointmentDate": said(day),
                                              "appointmentTime": "10am", "serviceType": "cleaning"})
    assert refused["error"] == "slot_unavailable" and offered(refused), refused
    assert_offers_are_free(db, BAYVIEW, refused)
    assert "Ada" not in json.dumps(refused) and "Ben" not in json.dumps(refused)
    # the caller takes the first offered time, said as heard
    at, provider = offered(refused, LOS_ANGELES)[0]
    booked = third("bookClinicAppointment", {"patientName": "Cy Clean", "appointmentDate": said(at.date()),
                                             "appointmentTime": spoken_at(at), "serviceType": "cleaning"})
    assert booked["success"] and row(db, booked["appointmentId"])["at"] == at, booked


def _omar_by_exclusion(client, db, caller: str, offset: int):
    call = Call(client, org=BAYVIEW, caller=caller)
    check = call("checkAvailability", {"date": said(d(offset)), "time": "morning", "serviceType": "cleaning",
                                       "providerName": "anyone but Dana"})
    assert check["success"] and {p for _, p in offered(check)} == {OMAR}, check
    assert "Dana" not in check["message"]
    assert_offers_are_free(db, BAYVIEW, check)
    at = offered(check, LOS_ANGELES)[0][0]
    booked = call("bookClinicAppointment", {"patientName": "Otto Pref", "appointmentDate": said(d(offset)),
                                            "appointmentTime": spoken_at(at), "serviceType": "cleaning",
                                            "providerName": "anyone but Dana"})
    stored_row = assert_confirms(db, booked, name="Otto Pref", provider="Omar Haddad", service="Cleaning")
    assert stored_row["at"] == at
    return call, booked


def test_bayview_anyone_but_dana_books_omar_and_a_move_repeating_it_never_offers_dana(client, db):
    call, booked = _omar_by_exclusion(client, db, "+14155551420", 10)
    # 1:30 PM is Omar's lunch (13:00–14:00); the assistant repeats the caller's exclusion
    moved = call("rescheduleAppointment", {"currentDate": said(d(10)), "newDate": said(d(10)), "newTime": "1:30 PM",
                                           "providerName": "anyone but Dana"})
    assert moved["success"] is False and "Dana" not in moved["message"], moved["message"]
    assert {p for _, p in offered(moved)} <= {OMAR}, moved
    assert_offers_are_free(db, BAYVIEW, moved)
    assert row(db, booked["appointmentId"])["provider"] == "Omar Haddad"


def test_bayview_a_move_in_the_same_call_remembers_anyone_but_dana(client, db):
    """In ONE call the caller said 'anyone but Dana' (check + book went to Omar Haddad); later they move
    it to 1:30 PM (Omar's lunch). Nothing stored says the caller excluded Dana (the appointment keeps only
    its provider; the server keeps no memory of a call's earlier arguments), so remembering it is the
    assistant's: the enforced prompt tells it to pass the same providerName — "anyone but Dana" included —
    on every later checkAvailability / book / reschedule in the call. This is the call that prompt makes
    (a move WITHOUT providerName would still offer Dana: by design, the server cannot know)."""
    rule = ("pass that same providerName, as they said it, on every later checkAvailability, "
            "bookClinicAppointment and rescheduleAppointment in this call")
    prompt = " ".join(prompts.enforced_prompt(None, prompts.Clinic("Bayview Dental", LOS_ANGELES), None,
                                              now=ny(0, 8)).split())
    assert rule in prompt and "anyone but Dr. Lee" in prompt
    call, booked = _omar_by_exclusion(client, db, "+14155551421", 17)
    moved = call("rescheduleAppointment", {"currentDate": said(d(17)), "newDate": said(d(17)), "newTime": "1:30 PM",
                                           "providerName": "anyone but Dana"})
    assert moved["success"] is False and "Dana" not in moved["message"], moved["message"]
    assert {p for _, p in offered(moved)} <= {OMAR}, moved
    assert row(db, booked["appointmentId"])["provider"] == "Omar Haddad"


def test_sunrise_anyone_booking_moved_to_the_other_doctors_day(client, db):
    call = Call(client, caller="+14155551440")
    booked = call("bookClinicAppointment", {"patientName": "Any Mover", "appointmentDate": said(d(30)),
                                            "appointmentTime": "10am", "providerName": "anyone"})
    assert_confirms(db, booked, name="Any Mover", provider="Dr. Anika Patel", service="Consultation")
    moved = call("rescheduleAppointment", {"currentDate": said(d(30)), "newDate": said(d(31)), "newTime": "10am"})
    assert moved["success"] is True, moved["message"]
    assert row(db, booked["appointmentId"])["provider"] == "Dr. Marcus Lee" and "Dr. Marcus Lee" in moved["message"]


def test_sunrise_no_provider_said_booking_moved_to_the_other_doctors_day(client, db):
    # the same with no providerName at all on either call (what most assistants send)
    call = Call(client, caller="+14155551441")
    booked = call("bookClinicAppointment", {"patientName": "Plain Mover", "appointmentDate": said(d(30)),
                                            "appointmentTime": "11am"})
    assert booked["success"], booked
    moved = call("rescheduleAppointment", {"currentDate": said(d(30)), "newDate": said(d(31)), "newTime": "11am"})
    if not moved["success"]:
        assert_offers_are_free(db, SUNRISE, moved)
    assert moved["success"] is True, moved["message"]


def test_health_check_clinic_whole_call_names_no_provider(client, db):
    call = Call(client, org=HC, caller="+14155551430")
    check = call("checkAvailability", {"date": said(d(3)), "time": "around 3am"})
    assert check["success"] and offered(check), check
    assert "Health check is free" not in check["message"], check["message"]  # the provider is never spoken
    assert_offers_are_free(db, HC, check)
    at = offered(check)[0][0]
    booked = call("bookClinicAppointment", {"patientName": "Hank Check", "appointmentDate": said(d(3)),
                                            "appointmentTime": spoken_at(at), "providerName": "anyone"})
    assert_confirms(db, booked, name="Hank Check", provider=None, service="Health check")
    moved = call("rescheduleAppointment", {"newDate": said(d(3)), "newTime": spoken_at(at + timedelta(hours=1))})
    assert moved["success"] and row(db, booked["appointmentId"])["at"] == at + timedelta(hours=1), moved
    other = Call(client, org=HC, caller="+14155551431")
    taken = other("bookClinicAppointment", {"patientName": "Other Check", "appointmentDate": said(d(3)),
                                            "appointmentTime": spoken_at(at + timedelta(hours=1))})
    assert taken["error"] == "slot_unavailable" and "Hank" not in json.dumps(taken), taken
    assert_offers_are_free(db, HC, taken)
    cancelled = call("cancelAppointment", {})
    assert cancelled["success"] and row(db, booked["appointmentId"])["status"] == "cancelled", cancelled


def test_health_check_clinic_unknown_doctor_does_not_name_the_placeholder(client):
    reply = Call(client, org=HC, caller="+14155551432")("checkAvailability", {"date": said(d(3)), "providerName": "Dr. Smith"})
    assert "Health check" not in reply["message"], reply["message"]


# ---------------------------------------------------------------------------------------------
# 3. Siblings on one parent's phone; a second caller; a withheld caller ID
# ---------------------------------------------------------------------------------------------

PARENT, OTHER = "+14155551500", "+14155551599"


@pytest.fixture(scope="module")
def siblings(client, db):
    """Mia and Leo Sibling, both cleanings at Bayview on Thursday d(10) at 2 PM (two hygienists),
    booked in ONE call on their parent's phone."""
    call = Call(client, org=BAYVIEW, caller=PARENT, name="call-parent")
    mia = call("bookClinicAppointment", {"patientName": "Mia Sibling", "appointmentDate": said(d(10)),
                                         "appointmentTime": "2pm", "serviceType": "cleaning",
                                         "patientDateOfBirth": "2015-04-02"})
    leo = call("bookClinicAppointment", {"patientName": "Leo Sibling", "appointmentDate": said(d(10)),
                                         "appointmentTime": "2pm", "serviceType": "cleaning",
                                         "patientDateOfBirth": "2017-09-12"})
    assert mia["success"] and leo["success"], (mia, leo)
    assert {row(db, mia["appointmentId"])["provider"], row(db, leo["appointmentId"])["provider"]} == {
        "Dana Whitfield", "Omar Haddad"}
    return mia, leo


def sibling_states(db):
    return db("select id, status, starts_at, provider_id from public.appointments where patient_name like '%% Sibling'"
              " order by 1")


def test_the_parent_sees_both_children(client, siblings):
    looked = Call(client, org=BAYVIEW, caller=PARENT)("lookupAppointments", {})
    assert looked["success"] and len(looked["appointments"]) == 2, looked
    assert "Mia" in looked["message"] and "Leo" in looked["message"], looked["message"]


def test_the_parent_cancels_one_child_by_name(client, db, siblings):
    mia, leo = siblings
    call = Call(client, org=BAYVIEW, caller=PARENT)
    reply = call("cancelAppointment", {"patientName": "Leo"})
    try:
        assert reply["success"] is True and reply["appointmentId"] == leo["appointmentId"], reply
        assert row(db, mia["appointmentId"])["status"] != "cancelled"
    finally:
        db("update public.appointments set status = 'pending' where id = %s", [leo["appointmentId"]])


def test_the_parent_moves_one_child_by_full_name(client, db, siblings):
    mia, leo = siblings
    call = Call(client, org=BAYVIEW, caller=PARENT)
    before = row(db, leo["appointmentId"])["at"]
    reply = call("rescheduleAppointment", {"patientName": "Mia Sibling", "newDate": said(d(10)), "newTime": "3pm"})
    try:
        assert reply["success"] is True and reply["appointmentId"] == mia["appointmentId"], reply
        assert "Mia" in reply["message"] or row(db, mia["appointmentId"])["at"].hour == 15, reply["message"]
        assert row(db, leo["appointmentId"])["at"] == before
    finally:
        db("update public.appointments set starts_at = %s, ends_at = %s + interval '45 minutes', "
           "blocked = tstzrange(%s, %s + interval '60 minutes') where id = %s",
           [before, before, before, before, mia["appointmentId"]])


def test_moving_one_child_onto_the_others_time_is_fine_but_not_onto_itself_twice(client, db, siblings):
    # a third child booked at the same time is refused as slot_unavailable (both hygienists busy), never patient_busy
    reply = Call(client, org=BAYVIEW, caller=PARENT)("bookClinicAppointment", {
        "patientName": "Zoe Sibling", "appointmentDate": said(d(10)), "appointmentTime": "2pm", "serviceType": "cleaning"})
    assert reply["error"] == "slot_unavailable", reply
    assert_offers_are_free(db, BAYVIEW, reply)


def test_the_same_child_twice_at_overlapping_times_is_patient_busy_spoken_to_the_parent(client, db, siblings):
    # Mia already has a cleaning at 2 PM; a consultation with Dr. Reyes at 2:30 PM overlaps it
    reply = Call(client, org=BAYVIEW, caller=PARENT)("bookClinicAppointment", {
        "patientName": "Mia Sibling", "appointmentDate": said(d(10)), "appointmentTime": "2:30pm",
        "serviceType": "consultation"})
    assert reply["error"] == "patient_busy", reply
    assert "2:00 PM" in reply["message"], reply["message"]  # verified by caller ID: her booking is said back


STRANGER_TRIES = [
    ("lookupAppointments", {}),
    ("lookupAppointments", {"patientPhone": "415-555-1500"}),
    ("lookupAppointments", {"patientPhone": "415-555-1500", "patientName": "Mia Sibling"}),
    ("cancelAppointment", {"patientPhone": "415-555-1500", "patientName": "Leo Sibling"}),
    ("cancelAppointment", {"patientPhone": "415-555-1500", "appointmentDate": said(d(10))}),
    ("rescheduleAppointment", {"patientPhone": "415-555-1500", "patientName": "Mia Sibling",
                               "newDate": said(d(11)), "newTime": "9am"}),
    ("rescheduleAppointment", {"patientPhone": "415-555-1500", "currentDate": said(d(10)),
                               "newDate": said(d(11)), "newTime": "9am"}),
    ("bookClinicAppointment", {"patientName": "Mia Sibling", "patientPhone": "415-555-1500",
                               "appointmentDate": said(d(10)), "appointmentTime": "2pm", "serviceType": "cleaning"}),
]


@pytest.mark.parametrize("name,arguments", STRANGER_TRIES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(STRANGER_TRIES)])
def test_a_second_caller_sees_and_changes_nothing_of_the_children(client, db, siblings, name, arguments):
    mia, leo = siblings
    before = sibling_states(db)
    reply = Call(client, org=BAYVIEW, caller=OTHER)(name, arguments)
    text = json.dumps(reply)
    for secret in ("Mia", "Leo", "Sibling", "2015", "2017", mia["appointmentId"], leo["appointmentId"],
                   "2:00 PM", "Dana", "Omar"):
        assert secret not in text or (name == "bookClinicAppointment" and secret in ("Mia", "Sibling")
                                      and secret not in reply["message"]), (secret, reply)
    assert reply.get("appointments", []) == []
    assert sibling_states(db) == before
    db("delete from private.caller_verification_failures where org_id = %s", [BAYVIEW])


def test_a_second_caller_who_knows_the_childs_birthday_is_verified(client, db, siblings):
    mia, _ = siblings
    reply = Call(client, org=BAYVIEW, caller=OTHER)("lookupAppointments", {
        "patientPhone": "four one five, five five five, one five zero zero", "patientName": "mia sibling",
        "patientDateOfBirth": "April 2nd, 2015"})
    assert reply["success"] and [a["appointmentId"] for a in reply["appointments"]] == [mia["appointmentId"]], reply
    assert "Leo" not in json.dumps(reply), reply  # only the verified child
    db("delete from private.caller_verification_failures where org_id = %s", [BAYVIEW])


WITHHELD_VERIFY = {"patientPhone": "(415) 555-1600", "patientName": "Wendy Withheld", "patientDateOfBirth": "1975-06-15"}


@pytest.fixture(scope="module")
def withheld_booking(client, db):
    call = Call(client, caller="+14155551600")
    booked = call("bookClinicAppointment", {"patientName": "Wendy Withheld", "appointmentDate": said(d(23)),
                                            "appointmentTime": "11am", "patientDateOfBirth": "June 15th, 1975"})
    assert booked["success"], booked
    return booked


def test_a_withheld_caller_id_hears_nothing_without_verification(client, db, withheld_booking):
    call = Call(client, caller=None)
    looked = call("lookupAppointments", {})
    assert looked["success"] is False or looked.get("appointments") == [], looked
    assert "Wendy" not in json.dumps(looked)
    no_dob = call("lookupAppointments", {"patientPhone": "(415) 555-1600", "patientName": "Wendy Withheld"})
    assert no_dob["success"] is False and no_dob["error"] == "verification_required", no_dob


def test_a_withheld_caller_id_verified_looks_up_moves_and_cancels(client, db, withheld_booking):
    call = Call(client, caller=None)
    looked = call("lookupAppointments", WITHHELD_VERIFY)
    assert looked["success"] and [a["appointmentId"] for a in looked["appointments"]] == [withheld_booking["appointmentId"]]
    moved = call("rescheduleAppointment", {**WITHHELD_VERIFY, "newDate": said(d(23)), "newTime": "2pm"})
    assert moved["success"] is True, moved
    assert row(db, withheld_booking["appointmentId"])["at"] == ny(23, 14)
    cancelled = call("cancelAppointment", {**WITHHELD_VERIFY, "appointmentDate": said(d(23))})
    assert cancelled["success"] is True and row(db, withheld_booking["appointmentId"])["status"] == "cancelled"


def test_a_withheld_callers_report_links_the_cancellation(client, db):
    call = Call(client, caller="+14155551620")
    booked = call("bookClinicAppointment", {"patientName": "Rita Report", "appointmentDate": said(d(37)),
                                            "appointmentTime": "10am", "patientDateOfBirth": "1988-02-02"})
    assert booked["success"], booked
    anon = Call(client, caller=None)
    cancelled = anon("cancelAppointment", {"patientPhone": "415 555 1620", "patientName": "Rita Report",
                                           "patientDateOfBirth": "February 2nd, 1988"})
    assert cancelled["success"] is True, cancelled
    report(client, anon.id, caller=None)
    outcome, appointments, _ = call_log(db, anon.id)
    assert outcome == "cancelled" and appointments == [{"appointmentId": booked["appointmentId"], "kind": "cancelled"}]


def test_a_withheld_caller_id_books_with_a_spoken_number(client, db):
    call = Call(client, caller=None)
    booked = call("bookClinicAppointment", {"patientName": "Nico Nonumber", "appointmentDate": said(d(24)),
                                            "appointmentTime": "10am", "patientPhone": "four one five, five five five, one six one one"})
    stored_row = assert_confirms(db, booked, name="Nico Nonumber", provider="Dr. Marcus Lee", service="Consultation")
    assert stored_row["phone"] == "+14155551611"


def test_a_withheld_caller_id_saying_this_number_is_asked_for_the_number(client, db):
    reply = Call(client, caller=None)("bookClinicAppointment", {
        "patientName": "Nico Thisnumber", "appointmentDate": said(d(24)), "appointmentTime": "11am",
        "patientPhone": "this number"})
    assert reply["success"] is False and reply.get("field") == "patientPhone", reply
    assert db("select count(*) from public.appointments where patient_name = 'Nico Thisnumber'") == [(0,)]


# ---------------------------------------------------------------------------------------------
# 4. Availability QUESTIONS as an LLM fills checkAvailability (right and wrong fields)
# ---------------------------------------------------------------------------------------------

THURSDAY_AFTERNOON = [
    {"date": "do you have anything Thursday afternoon?"},
    {"date": "Thursday", "time": "do you have anything Thursday afternoon?"},
    {"date": "do you have anything Thursday afternoon?", "time": "do you have anything Thursday afternoon?"},
    {"date": "Thursday afternoon"},
    {"date": "Thursday afternoon", "time": "afternoon"},
    {"time": "Thursday afternoon"},
    {"date": "anything thursday pm"},
    {"date": "anything Thursday afternoon?"},
    {"date": "can I get something thursday afternoon?"},
]


@pytest.mark.parametrize("arguments", THURSDAY_AFTERNOON, ids=json.dumps)
def test_anything_thursday_afternoon(client, db, arguments):
    reply = Call(client, caller="+14155551700")("checkAvailability", arguments)
    assert reply["success"] is True and offered(reply), (arguments, reply["message"])
    assert all(at.date() == d(3) and time(12) <= at.time() <= time(16, 30) for at, _ in offered(reply)), reply["message"]
    assert reply["message"].startswith(f"On {speech.spoken_date(d(3))}"), reply["message"]
    assert_offers_are_free(db, SUNRISE, reply)


QUESTIONS = [  # arguments, the day (offset) the answer must be about, the provider it must name, why
    ({"date": "Friday", "providerName": "Dr. Patel"}, 4, "Dr. Anika Patel", "the right fields"),
    ({"date": "is Dr. Patel in on Friday?"}, 4, "Dr. Anika Patel", "the whole question in date"),
    ({"date": "Friday", "time": "is Dr. Patel in?"}, 4, "Dr. Anika Patel", "the provider question in time"),
    # a provider said as the service: SQL reads it as the provider (private.resolve_service_provider)
    ({"date": "Friday", "serviceType": "Dr. Patel"}, 4, "Dr. Anika Patel", "the provider in serviceType"),
    # question words around the name are dropped by private.resolve_provider's lenient pass
    ({"date": "Friday", "providerName": "is Dr. Patel in on Friday?"}, 4, "Dr. Anika Patel",
     "the question in providerName"),
    ({"date": "what's your earliest?"}, 0, None, "'what's your earliest?' in date"),
    ({"date": "earliest", "time": "earliest"}, 0, None, "'earliest' in both"),
    ({"time": "what's your earliest appointment"}, 0, None, "the question in time"),
    # the who-question in date: normalize reads it (today) and passes "the nurse" on as p_provider; SQL
    # resolves the role word
    ({"date": "when is the nurse in?"}, 0, "Nurse Joy Kim", "'when is the nurse in?' in date"),
    # a role said instead of a name (providers.role), and a named provider's own service when none is said
    ({"providerName": "the nurse"}, 0, "Nurse Joy Kim", "'the nurse' as providerName"),
    ({"providerName": "Nurse Kim"}, 0, "Nurse Joy Kim", "the nurse by name, no service"),
    ({"serviceType": "nurse"}, 0, "Nurse Joy Kim", "'nurse' as serviceType"),
    ({"date": "next week", "providerName": "Dr. Lee"}, 8, "Dr. Marcus Lee", "'next week' with a provider"),
    ({"date": "do you have anything next week?"}, 7, None, "the question in date"),
    ({"date": "Saturday", "time": "are you open Saturday morning?"}, 5, "Dr. Anika Patel",
                 "Saturday question in time"),
]


@pytest.mark.parametrize("arguments,offset,provider,why", QUESTIONS)
def test_an_availability_question_as_an_llm_fills_it(client, db, arguments, offset, provider, why):
    reply = Call(client, caller="+14155551701")("checkAvailability", arguments)
    assert reply["success"] is True and offered(reply), (arguments, reply["message"])
    assert offered(reply)[0][0].date() == d(offset), (arguments, reply["message"])
    if provider:
        assert provider in reply["message"], (arguments, reply["message"])
    assert_offers_are_free(db, SUNRISE, reply)


def test_the_nurse_by_name_without_a_service_lists_her_vaccination_times(client):
    # asked without a service, the nurse is "not qualified" for the default consultation; a receptionist
    # says when she is in (for vaccinations) rather than refusing
    reply = Call(client, caller="+14155551702")("checkAvailability", {"date": said(d(2)), "providerName": "Nurse Kim"})
    assert reply["success"] is True and "Nurse Joy Kim" in reply["message"], reply


@pytest.mark.parametrize("arguments", [{"providerName": "the nurse"}, {"providerName": "Nurse Kim"},
                                       {"serviceType": "a nurse"}], ids=json.dumps)
def test_booking_the_nurse_without_a_service_books_her_vaccination(client, db, arguments):
    # no service said, the provider (by role, by name, or said as the service) performs only vaccinations
    call = Call(client, caller="+14155551703")
    reply = call("bookClinicAppointment", {"patientName": "Vera Shot", "appointmentDate": said(d(2)),
                                           "appointmentTime": "11am", **arguments})
    stored = assert_confirms(db, reply, name="Vera Shot", provider="Nurse Joy Kim", service="Vaccination")
    assert stored["at"] == ny(2, 11)
    assert call("cancelAppointment", {"appointmentDate": said(d(2))})["success"] is True


def test_a_doctor_s_name_as_the_service_books_their_default_visit(client, db):
    reply = Call(client, caller="+14155551704")("bookClinicAppointment", {
        "patientName": "Drew Field", "appointmentDate": said(d(4)), "appointmentTime": "3pm", "serviceType": "Dr. Patel"})
    assert_confirms(db, reply, name="Drew Field", provider="Dr. Anika Patel", service="Consultation")


BAYVIEW_QUESTIONS = [
    ({"date": "Friday", "time": "afternoon", "serviceType": "cleaning"}, "closed Friday afternoon"),
    ({"date": "is the hygienist in Friday afternoon?"}, "the whole question: any hygienist"),
    ({"date": "Saturday", "serviceType": "cleaning"}, "closed Saturdays"),
]


@pytest.mark.parametrize("arguments,why", BAYVIEW_QUESTIONS)
def test_bayview_friday_afternoon_and_saturday_say_closed_and_offer_real_times(client, db, arguments, why):
    reply = Call(client, org=BAYVIEW, caller="+14155551710")("checkAvailability", arguments)
    assert reply["success"] is True and reply.get("windowEmpty") in ("outside_hours", "closed"), (arguments, reply)
    assert "not open" in reply["message"] or "closed" in reply["message"], reply["message"]
    assert offered(reply) and all(
        at.astimezone(LOS_ANGELES).time() < time(16) for at, _ in offered(reply)), reply["message"]
    assert_offers_are_free(db, BAYVIEW, reply)


def test_bayview_times_are_spoken_in_los_angeles(client, db):
    reply = Call(client, org=BAYVIEW, caller="+14155551711")("checkAvailability", {"date": said(d(9)), "time": "8am",
                                                                                   "serviceType": "cleaning"})
    assert reply["message"].startswith(f"On {speech.spoken_date(d(9))}") and "8:00 AM" in reply["message"], reply
    assert "11:00 AM" not in reply["message"]  # New York's clock never leaks
    at, _ = offered(reply)[0]
    assert at.astimezone(LOS_ANGELES).time() == time(8)


# ---------------------------------------------------------------------------------------------
# 5. takeMessage, transfer, and the end-of-call-report afterwards
# ---------------------------------------------------------------------------------------------


def report(client, call_id: str, *, caller: str, org=SUNRISE, minutes=3, **options) -> dict:
    kwargs = {"call_id": call_id, "caller": caller, **options}
    if org == BAYVIEW:
        kwargs.update(phone_number_id=None, assistant_id="asst_bayview_marcy")
    body = end_of_call_report(minutes, **kwargs)
    response = client.post(WEBHOOK, json=body, headers=AUTH)
    assert response.status_code == 200 and response.get_json() == {}, response.get_data(as_text=True)[:300]
    return body


def call_log(db, call_id: str):
    rows = db("select outcome, appointments, callback_request_ids from public.call_log where call_id = %s", [call_id])
    return rows[0] if rows else None


def test_a_booking_call_is_logged_as_booked_with_its_appointment(client, db):
    call = Call(client, caller="+14155551800")
    booked = call("bookClinicAppointment", {"patientName": "Log Booked", "appointmentDate": said(d(25)),
                                            "appointmentTime": "10am"})
    assert booked["success"], booked
    report(client, call.id, caller=call.caller)
    outcome, appointments, _ = call_log(db, call.id)
    assert outcome == "booked" and appointments == [{"appointmentId": booked["appointmentId"], "kind": "booked"}]


def test_a_call_that_books_then_moves_the_same_booking_is_booked(client, db):
    call = Call(client, caller="+14155551801")
    booked = call("bookClinicAppointment", {"patientName": "Log Moved", "appointmentDate": said(d(25)),
                                            "appointmentTime": "11am"})
    moved = call("rescheduleAppointment", {"newDate": said(d(25)), "newTime": "2pm"})
    assert booked["success"] and moved["success"], (booked, moved)
    report(client, call.id, caller=call.caller)
    outcome, appointments, _ = call_log(db, call.id)
    assert outcome == "booked", (outcome, appointments)  # the caller leaves with a (new) booking
    assert {a["appointmentId"] for a in appointments} == {booked["appointmentId"]}, appointments


def test_a_call_that_books_then_cancels_it_is_not_logged_as_booked(client, db):
    call = Call(client, caller="+14155551802")
    booked = call("bookClinicAppointment", {"patientName": "Log Undone", "appointmentDate": said(d(25)),
                                            "appointmentTime": "3pm"})
    cancelled = call("cancelAppointment", {})
    assert booked["success"] and cancelled["success"], (booked, cancelled)
    report(client, call.id, caller=call.caller)
    outcome, appointments, _ = call_log(db, call.id)
    assert outcome != "booked", ("a call that left nothing booked is logged as booked", appointments)


def test_a_message_after_a_failed_booking_is_logged_as_message_taken(client, db):
    call = Call(client, caller="+14155551803")
    refused = call("bookClinicAppointment", {"patientName": "Log Msg", "appointmentDate": said(d(6)),
                                             "appointmentTime": "10am"})  # a Sunday
    assert refused["error"] == "closed", refused
    taken = call("takeMessage", {"callerName": "Log Msg", "reason": "wants a Sunday appointment",
                                 "preferredTime": "weekday mornings"})
    assert taken["success"] and "the number you're calling from" in taken["message"], taken
    report(client, call.id, caller=call.caller)
    outcome, _, callbacks = call_log(db, call.id)
    assert outcome == "message_taken" and [str(c) for c in callbacks] == [taken["callbackRequestId"]]


def test_a_message_and_a_booking_in_one_call_keeps_both(client, db):
    call = Call(client, caller="+14155551804")
    booked = call("bookClinicAppointment", {"patientName": "Log Both", "appointmentDate": said(d(25)),
                                            "appointmentTime": "4pm"})
    taken = call("takeMessage", {"callerName": "Log Both", "reason": "question about a bill"})
    assert booked["success"] and taken["success"]
    report(client, call.id, caller=call.caller)
    outcome, appointments, callbacks = call_log(db, call.id)
    assert outcome in ("booked", "message_taken")
    assert [a["appointmentId"] for a in appointments] == [booked["appointmentId"]]
    assert [str(c) for c in callbacks] == [taken["callbackRequestId"]]


def test_a_withheld_caller_takes_a_message_and_is_asked_for_a_number(client, db):
    reply = Call(client, caller=None)("takeMessage", {"callerName": "Anon Caller", "reason": "prescription refill"})
    assert reply["success"] is False and reply.get("field") == "callbackNumber", reply
    assert "number" in reply["message"]


def test_transfer_out_of_hours_offers_a_message_and_the_message_is_logged(client, db):
    call = Call(client, caller="+14155551805")
    response = client.post(WEBHOOK, json=transfer_destination_request(call_id=call.id), headers=AUTH)
    answer = response.get_json()
    assert response.status_code == 200 and "destination" not in answer and answer.get("error"), answer
    assert_spoken(answer["error"])
    assert "message" in answer["error"].lower() or "call you back" in answer["error"].lower(), answer["error"]
    taken = call("takeMessage", {"callerName": "Tran Sfer", "reason": "wants to speak to billing"})
    assert taken["success"], taken
    report(client, call.id, caller=call.caller)
    assert call_log(db, call.id)[0] == "message_taken"


def test_transfer_in_hours_connects_and_the_call_is_logged_as_transferred(client_in_hours, db):
    call = Call(client_in_hours, caller="+14155551806")
    check = call("checkAvailability", {"date": "tomorrow"})
    assert check["success"], check
    response = client_in_hours.post(WEBHOOK, json=transfer_destination_request(call_id=call.id), headers=AUTH)
    answer = response.get_json()
    assert answer["destination"]["number"] == "+12125550142", answer
    assert_spoken(answer["destination"]["message"])
    report(client_in_hours, call.id, caller=call.caller, ended_reason="assistant-forwarded-call")
    assert call_log(db, call.id)[0] == "transferred"


def test_a_booking_then_a_transfer_is_logged_with_its_booking(client_in_hours, db):
    call = Call(client_in_hours, caller="+14155551807")
    booked = call("bookClinicAppointment", {"patientName": "Book Transfer", "appointmentDate": said(d(26)),
                                            "appointmentTime": "10am"})
    assert booked["success"], booked
    client_in_hours.post(WEBHOOK, json=transfer_destination_request(call_id=call.id), headers=AUTH)
    report(client_in_hours, call.id, caller=call.caller, ended_reason="assistant-forwarded-call")
    outcome, appointments, _ = call_log(db, call.id)
    assert [a["appointmentId"] for a in appointments] == [booked["appointmentId"]], appointments
    assert outcome in ("booked", "transferred"), outcome


def test_bayview_transfer_has_no_front_desk_and_offers_a_message(client, db):
    body = transfer_destination_request(assistant_id="asst_bayview_marcy", phone_number_id=None)
    answer = client.post(WEBHOOK, json=body, headers=AUTH).get_json()
    assert "destination" not in answer and answer.get("error"), answer
    assert_spoken(answer["error"])


def test_bayview_call_report_links_its_booking(client, db):
    call = Call(client, org=BAYVIEW, caller="+14155551808")
    booked = call("bookClinicAppointment", {"patientName": "Bay Logged", "appointmentDate": said(d(16)),
                                            "appointmentTime": "9am", "serviceType": "cleaning"})
    assert booked["success"], booked
    report(client, call.id, caller=call.caller, org=BAYVIEW)
    outcome, appointments, _ = call_log(db, call.id)
    assert outcome == "booked" and [a["appointmentId"] for a in appointments] == [booked["appointmentId"]]


def test_a_report_of_another_clinics_call_does_not_link_this_clinics_booking(client, db):
    # the same Vapi call id used at Sunrise (booking) and reported through Bayview's assistant
    call = Call(client, caller="+14155551809")
    booked = call("bookClinicAppointment", {"patientName": "Cross Linked", "appointmentDate": said(d(26)),
                                            "appointmentTime": "11am"})
    assert booked["success"], booked
    report(client, call.id, caller=call.caller, org=BAYVIEW)
    rows = db("select org_id, outcome, appointment_ids from public.call_log where call_id = %s", [call.id])
    for org, outcome, ids in rows:
        if str(org) == BAYVIEW:
            assert not ids and outcome != "booked", rows


# ---------------------------------------------------------------------------------------------
# 6. More whole calls: Bayview with a named dentist; a full window with a named doctor; the call
#    from its assistant-request to its report
# ---------------------------------------------------------------------------------------------


def test_bayview_named_dentist_whitening_book_lookup_move_cancel(client, db):
    call = Call(client, org=BAYVIEW, caller="+14155551900")
    check = call("checkAvailability", {"date": said(d(15)), "time": "after 1", "serviceType": "teeth whitening",
                                       "providerName": "Dr. Reyes"})
    assert check["success"] and {p for _, p in offered(check)} == {REYES}, check
    assert_offers_are_free(db, BAYVIEW, check)
    first = offered(check, LOS_ANGELES)[0][0]
    assert first.time() >= time(13), check["message"]
    booked = call("bookClinicAppointment", {"patientName": "Wren White", "appointmentDate": said(d(15)),
                                            "appointmentTime": spoken_at(first), "serviceType": "whitening",
                                            "providerName": "Dr. Reyes"})
    stored_row = assert_confirms(db, booked, name="Wren White", provider="Dr. Sofia Reyes", service="Whitening")
    assert stored_row["at"] == first
    looked = call("lookupAppointments", {})
    assert [a["appointmentId"] for a in looked["appointments"]] == [booked["appointmentId"]], looked
    assert "Dr. Sofia Reyes" in looked["message"] and spoken_at(first) in looked["message"], looked["message"]
    # "the same time Thursday", filled by the LLM as the explicit day and the time it already heard
    moved = call("rescheduleAppointment", {"currentDate": said(d(15)), "newDate": said(d(17)),
                                           "newTime": spoken_at(first)})
    assert moved["success"] is True, moved
    after = row(db, booked["appointmentId"])
    assert after["at"] == datetime.combine(d(17), first.time(), LOS_ANGELES) and after["provider"] == "Dr. Sofia Reyes"
    assert speech.spoken_date(d(17)) in moved["message"] and spoken_at(first) in moved["message"], moved["message"]
    cancelled = call("cancelAppointment", {"appointmentDate": "the Thursday one"})
    assert cancelled["success"] and row(db, booked["appointmentId"])["status"] == "cancelled", cancelled


def test_a_full_afternoon_with_a_named_doctor_offers_only_free_times_and_leaks_nobody(client, db):
    day = 38  # a Tuesday: Dr. Lee
    for n, at in enumerate(("1pm", "1:30pm", "2pm", "2:30pm", "3pm", "3:30pm", "4pm", "4:30pm")):
        booked = Call(client, caller=f"+1415555{1950 + n:04d}")("bookClinicAppointment", {
            "patientName": f"Busy Afternoon{'abcdefgh'[n]}", "appointmentDate": said(d(day)), "appointmentTime": at,
            "providerName": "Dr. Lee"})
        assert booked["success"], booked
    call = Call(client, caller="+14155551960")
    check = call("checkAvailability", {"date": said(d(day)), "time": "afternoon", "providerName": "Dr. Lee"})
    assert check.get("windowEmpty") == "full" and offered(check), check
    assert_offers_are_free(db, SUNRISE, check)
    assert "Busy" not in json.dumps(check) and "Afternoon" not in json.dumps(check)
    at, provider = offered(check)[0]
    assert at.date() == d(day) and at.time() < time(12), check["message"]  # the same day's morning first
    booked = call("bookClinicAppointment", {"patientName": "Late Comer", "appointmentDate": said(at.date()),
                                            "appointmentTime": spoken_at(at), "providerName": "Dr. Lee"})
    assert_confirms(db, booked, name="Late Comer", provider="Dr. Marcus Lee", service="Consultation")
    refused = call("bookClinicAppointment", {"patientName": "Late Comer Two", "appointmentDate": said(d(day)),
                                             "appointmentTime": "2pm", "providerName": "Dr. Lee"})
    assert refused["error"] == "slot_unavailable", refused
    assert_offers_are_free(db, SUNRISE, refused)
    assert "Busy" not in json.dumps(refused)


def test_a_call_from_assistant_request_to_report(client, db):
    from vapi_fixtures import assistant_request
    call_id = "call-p3-whole"
    answer = client.post(WEBHOOK, json=assistant_request("pn_sunrise_main", call_id=call_id,
                                                         caller="+14155551970"), headers=AUTH).get_json()
    variables = answer["assistantOverrides"]["variableValues"]
    assert variables["weekday"] == "Monday" and variables["localTime"] == "8:00 AM", variables
    assert variables["outsideHours"] is True and variables["openNow"] is False, variables
    assert [p["name"] for p in variables["providersToday"]] == ["Dr. Anika Patel", "Nurse Joy Kim"], variables
    call = Call(client, caller="+14155551970", name=call_id)
    check = call("checkAvailability", {"date": "today", "serviceType": "flu shot"})
    assert check["success"] and {p for _, p in offered(check)} == {KIM}, check
    assert all(at.date() == M and at.time() >= time(9) for at, _ in offered(check)), check["message"]
    at = offered(check)[0][0]
    booked = call("bookClinicAppointment", {"patientName": "Flo Today", "appointmentDate": "today",
                                            "appointmentTime": spoken_at(at), "serviceType": "flu shot"})
    assert_confirms(db, booked, name="Flo Today", provider="Nurse Joy Kim", service="Vaccination")
    report(client, call_id, caller="+14155551970")
    outcome, appointments, _ = call_log(db, call_id)
    assert outcome == "booked" and [a["appointmentId"] for a in appointments] == [booked["appointmentId"]]
