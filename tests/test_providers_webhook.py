"""Providers end to end (issue 10): the webhook on a fresh database seeded with several providers.

Sunrise Family Clinic: Dr. Anika Patel (Mon/Wed/Fri, Saturday mornings) and Dr. Marcus Lee
(Tue/Thu) for consultations and checkups, Nurse Joy Kim for vaccinations whenever the clinic is
open. Bayview Dental: Dr. Sofia Reyes (consultation, whitening), hygienists Dana Whitfield (lunch
12-13) and Omar Haddad (lunch 13-14) for cleanings. A clinic set up without providers (direct
INSERTs, like every clinic before issue 10) has one provider and sounds exactly as before.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from api.orgs import OrgProfile
from api.speech import spoken_date
from api.prompts import Clinic, enforced_prompt
from conftest import AUTH, BAYVIEW, LOS_ANGELES, SUNRISE, local_instant, next_open_day
from test_webhook import WEBHOOK, results, vapi_body

PATEL, LEE, KIM = "Dr. Anika Patel", "Dr. Marcus Lee", "Nurse Joy Kim"
REYES, DANA, OMAR = "Dr. Sofia Reyes", "Dana Whitfield", "Omar Haddad"
ISO = re.compile(r"\d{4}-\d{2}-\d{2}|T\d{2}:\d{2}")
MONDAY, TUESDAY, WEDNESDAY = (0,), (1,), (2,)


def call(client, name, arguments, *, caller="+14155550199", org=SUNRISE, call_id="call-1", tool_id="t1"):
    (result,) = results(client.post(WEBHOOK, json=vapi_body((tool_id, name, arguments), org=org, caller=caller,
                                                            call_id=call_id), headers=AUTH))
    assert len(result["message"]) <= 300 and not ISO.search(result["message"]), result["message"]
    return result


def book(client, day, at, name="Ann Lee", phone="+14155550123", *, service="consultation", provider=None,
         only=None, caller=None, org=SUNRISE, tool_id=None, call_id="call-1"):
    arguments = {"appointmentDate": day.isoformat(), "appointmentTime": at, "patientName": name,
                 "patientPhone": phone, "serviceType": service}
    if provider is not None:
        arguments["providerName"] = provider
    if only is not None:
        arguments["onlyThisProvider"] = only
    return call(client, "bookClinicAppointment", arguments, caller=caller or phone, org=org, call_id=call_id,
                tool_id=tool_id or f"b-{name}-{day}-{at}-{provider}")


def provider_of(sql, appointment_id) -> str:
    return sql("select p.display_name from public.appointments a join public.providers p"
               " on p.org_id = a.org_id and p.id = a.provider_id where a.id = %s", [appointment_id])[0][0]


def names_in(result) -> list[str]:
    return [slot["providerName"] for slot in result.get("alternativeSlots") or []]


# --- booking ------------------------------------------------------------------------------------

def test_any_provider_books_the_physician_of_that_day_and_names_them(client, sql):
    tuesday, wednesday = next_open_day(weekdays=TUESDAY), next_open_day(weekdays=WEDNESDAY)
    on_tuesday = book(client, tuesday, "10:00")
    assert on_tuesday["success"] and on_tuesday["provider"]["name"] == LEE
    assert on_tuesday["message"].startswith("You're all set: a consultation with Dr. Marcus Lee on Tuesday")
    assert provider_of(sql, on_tuesday["appointmentId"]) == LEE
    on_wednesday = book(client, wednesday, "10:00", name="Bo Ng", phone="+14155550124")
    assert on_wednesday["provider"]["name"] == PATEL
    vaccination = book(client, tuesday, "10:00", name="Cy Ray", phone="+14155550125", service="vaccination")
    assert vaccination["success"] and vaccination["provider"]["name"] == KIM  # another calendar, same time


def test_a_named_provider_is_booked_however_the_caller_says_the_name(client, sql):
    monday = next_open_day(weekdays=MONDAY)
    for i, (said, at) in enumerate([("Dr. Patel", "9:00"), ("doctor patel", "9:30"), ("Anika", "10:00"),
                                    ("dr anika patel", "10:30")]):
        result = book(client, monday, at, name=f"Pat {i}", phone=f"+1415555013{i}", provider=said)
        assert result["success"], (said, result)
        assert provider_of(sql, result["appointmentId"]) == PATEL
        assert "with Dr. Anika Patel" in result["message"]


def test_the_named_physician_booked_says_her_own_next_times(client):
    monday = next_open_day(weekdays=MONDAY)
    assert book(client, monday, "14:00", provider="Dr. Patel")["success"]
    taken = book(client, monday, "14:00", name="Bo Ng", phone="+14155550124", provider="Dr. Patel")
    assert taken["error"] == "slot_unavailable"
    # Monday has one physician: nobody else to offer at 2 PM, so only her nearest times
    assert set(names_in(taken)) == {PATEL} and len(taken["alternatives"]) == 3
    assert taken["alternatives"] == [slot["scheduledAt"] for slot in taken["alternativeSlots"]]
    assert taken["message"].startswith("Dr. Anika Patel is booked then but free at ")
    assert taken["message"].endswith("— would any of those work?")


def test_a_physician_who_is_not_in_offers_her_days_and_who_is_in(client):
    tuesday = next_open_day(weekdays=TUESDAY)
    result = book(client, tuesday, "14:00", provider="Dr. Patel")
    assert result["success"] is False and result["error"] == "provider_unavailable"
    assert names_in(result)[-1] == LEE and PATEL in names_in(result)  # hers first, then Dr. Lee at 2 PM
    assert result["message"].startswith("Dr. Anika Patel isn't in at that time but free on ")
    # her offers named another day last, so Dr. Lee's 2 PM (on the Tuesday asked for) names its day
    assert f"Dr. Marcus Lee is free on {spoken_date(tuesday)} at 2:00 PM" in result["message"]

    insisted = book(client, tuesday, "14:00", provider="Dr. Patel", only=True, tool_id="insist")
    assert insisted["error"] == "provider_unavailable" and set(names_in(insisted)) == {PATEL}
    assert "Dr. Marcus Lee" not in insisted["message"]
    said_only = book(client, tuesday, "14:00", provider="only Dr. Patel", tool_id="only")
    assert set(names_in(said_only)) == {PATEL}


def test_not_qualified_and_unknown_providers(client, sql):
    tuesday = next_open_day(weekdays=TUESDAY)
    nurse = book(client, tuesday, "10:00", provider="Nurse Kim")
    assert nurse["success"] is False and nurse["error"] == "provider_not_qualified"
    assert nurse["message"].startswith("Nurse Joy Kim doesn't do consultation appointments")
    assert LEE in nurse["message"] or LEE in names_in(nurse)
    unknown = book(client, tuesday, "10:00", provider="Dr. Smith")
    assert unknown["error"] == "unknown_provider"
    assert set(unknown["providers"]) >= {PATEL, LEE}  # who does consultations
    assert unknown["message"].startswith("I don't have anyone by that name here. I can book you with Dr.")
    assert sql("select count(*) from public.appointments") == [(0,)]


def test_a_role_whose_providers_do_not_do_the_visit_says_so_and_who_does(client, sql):
    # "the physician" is a role two providers share (any of them); neither gives vaccinations
    tuesday = next_open_day(weekdays=TUESDAY)
    reply = book(client, tuesday, "10:00", service="flu shot", provider="the physician")
    assert reply["success"] is False and reply["error"] == "provider_not_qualified", reply
    assert reply["message"].startswith("None of our physicians do vaccination appointments, but Nurse Joy Kim does"), reply
    assert sql("select count(*) from public.appointments") == [(0,)]


def test_whoever_is_free_means_any_provider(client, sql):
    tuesday = next_open_day(weekdays=TUESDAY)
    result = book(client, tuesday, "11:00", provider="whoever is free")
    assert result["success"] and result["provider"]["name"] == LEE


# --- one patient, one place ----------------------------------------------------------------------

def test_asking_again_for_the_visit_you_hold_is_a_reminder_not_a_refusal(client, sql):
    """Issue 11 §4: the caller (verified by caller ID) asks in a later call for the very slot they
    hold — same patient, service and time: "You're already booked for that", no offers; anyone else
    hears the plain refusal that discloses nothing."""
    tuesday = next_open_day(weekdays=TUESDAY)
    parent = "+14155550141"
    first = book(client, tuesday, "10:00", name="Ann Lee", phone=parent, call_id="call-a")
    assert first["success"]
    again = book(client, tuesday, "10:00", name="ann lee", phone=parent, call_id="call-b", tool_id="again")
    assert again["success"] is False and again["error"] == "patient_busy" and again["alreadyBooked"] is True
    assert again["message"].startswith("You're already booked for that: Ann's consultation with Dr. Marcus Lee"
                                       " on Tuesday")
    assert "alternatives" not in again and "can't" not in again["message"]
    # the same time but another service is a different visit: the described refusal, with offers
    other_visit = book(client, tuesday, "10:00", name="Ann Lee", phone=parent, service="vaccination",
                       call_id="call-c", tool_id="other-visit")
    assert "alreadyBooked" not in other_visit
    assert other_visit["message"].startswith("Ann already has a consultation")
    # a stranger asking for the same: nothing disclosed
    stranger = book(client, tuesday, "10:00", name="Ann Lee", phone=parent, caller="+12125550000",
                    call_id="call-d", tool_id="stranger")
    assert stranger["error"] == "patient_busy" and "appointment" not in stranger
    assert "alreadyBooked" not in stranger and "already" not in stranger["message"]
    assert sql("select count(*) from public.appointments where status <> 'cancelled'") == [(1,)]


def test_one_patient_cannot_be_in_two_places_but_siblings_can(client, sql):
    tuesday = next_open_day(weekdays=TUESDAY)
    parent = "+14155550140"
    assert book(client, tuesday, "10:00", name="Ann Lee", phone=parent)["success"]  # with Dr. Lee
    # the same child, same phone, a vaccination with the nurse at the same time: refused
    own = book(client, tuesday, "10:00", name="ann  LEE", phone=parent, service="vaccination")
    assert own["success"] is False and own["error"] == "patient_busy"
    # the caller ID is the booking's phone: the existing booking is described
    assert own["message"].startswith("Ann already has a consultation with Dr. Marcus Lee on Tuesday")
    assert own["appointment"]["provider"]["name"] == LEE
    # someone else saying that phone: a plain refusal that tells nothing
    other = book(client, tuesday, "10:00", name="Ann Lee", phone=parent, service="vaccination",
                 caller="+12125550000", tool_id="other")
    assert other["error"] == "patient_busy" and "appointment" not in other
    assert other["message"].startswith("I can't book that time for this patient.")
    assert "Dr." not in other["message"] and "consultation" not in other["message"]
    # a sibling on the same phone at the same time is fine
    sibling = book(client, tuesday, "10:00", name="Ben Lee", phone=parent, service="vaccination")
    assert sibling["success"] and sibling["provider"]["name"] == KIM
    assert sql("select count(*) from public.appointments where status <> 'cancelled'") == [(2,)]


# --- availability, lookup, cancel, reschedule ------------------------------------------------------

def test_availability_names_who_is_free_and_follows_a_named_provider(client):
    tuesday = next_open_day(weekdays=TUESDAY)
    result = call(client, "checkAvailability", {"date": tuesday.isoformat(), "time": "9am"})
    assert result["success"] and len(result["slots"]) == 3
    assert [slot["providerName"] for slot in result["slotProviders"]] == [LEE] * 3
    assert result["message"] == f"On {spoken_date(tuesday)}, Dr. Marcus Lee is free at 9:00 AM, 9:30 AM, or 10:00 AM."
    named = call(client, "checkAvailability", {"date": tuesday.isoformat(), "providerName": "Dr. Patel"})
    assert {slot["providerName"] for slot in named["slotProviders"]} == {PATEL}
    assert named["message"].startswith("Dr. Anika Patel isn't in on Tuesday")  # her own hours (issue 11 §2)
    assert "; I do have " in named["message"] and "at 9:00 AM" in named["message"]


def test_lookup_and_cancel_name_the_provider(client):
    tuesday, wednesday = next_open_day(weekdays=TUESDAY), next_open_day(weekdays=WEDNESDAY)
    phone = "+14155550150"
    assert book(client, tuesday, "9:00", name="Eve Doe", phone=phone)["success"]
    assert book(client, wednesday, "9:00", name="Eve Doe", phone=phone, service="checkup")["success"]
    listed = call(client, "lookupAppointments", {}, caller=phone)
    expected = [LEE, PATEL] if tuesday < wednesday else [PATEL, LEE]
    assert [a["provider"]["name"] for a in listed["appointments"]] == expected
    assert "a consultation with Dr. Marcus Lee on Tuesday" in listed["message"]
    assert "a checkup with Dr. Anika Patel on Wednesday" in listed["message"]
    cancelled = call(client, "cancelAppointment", {"appointmentDate": "Tuesday"}, caller=phone)
    assert cancelled["success"] and cancelled["message"].startswith(
        "Done — your consultation with Dr. Marcus Lee on Tuesday")


def test_reschedule_keeps_the_provider_unless_another_is_asked_for(client, sql):
    tuesday = next_open_day(weekdays=TUESDAY)
    while (tuesday + timedelta(days=2)).timetuple()[1:3] == (1, 1) or (tuesday + timedelta(days=1)).timetuple()[1:3] == (1, 1):
        tuesday += timedelta(days=7)  # New Year's Day is a closure
    wednesday, thursday = tuesday + timedelta(days=1), tuesday + timedelta(days=2)
    phone = "+14155550160"
    first = book(client, tuesday, "9:00", name="Fay Wu", phone=phone, provider="Dr. Lee")  # the caller chose him
    assert first["provider"]["name"] == LEE
    # Thursday: still Dr. Lee's day, the appointment stays his
    moved = call(client, "rescheduleAppointment", {"newDate": thursday.isoformat(), "newTime": "9:00"}, caller=phone,
                 tool_id="r1")
    assert moved["success"] and moved["message"].endswith(" at 9:00 AM with Dr. Marcus Lee.")
    # Wednesday: Dr. Lee is not in; the appointment stays where it was
    refused = call(client, "rescheduleAppointment", {"newDate": wednesday.isoformat(), "newTime": "9:00"},
                   caller=phone, tool_id="r2")
    assert refused["success"] is False and refused["error"] == "provider_unavailable"
    assert refused["message"].startswith("Dr. Marcus Lee isn't in at that time")
    assert sql("select starts_at from public.appointments where id = %s", [first["appointmentId"]]) == [
        (local_instant(thursday, 9),)]
    # asking for Dr. Patel moves it to her, in the same row
    to_patel = call(client, "rescheduleAppointment", {"newDate": wednesday.isoformat(), "newTime": "9:00",
                                                      "providerName": "Dr. Patel"}, caller=phone, tool_id="r3")
    assert to_patel["success"] and to_patel["appointmentId"] == first["appointmentId"]
    assert to_patel["message"].endswith(" at 9:00 AM with Dr. Anika Patel instead of Dr. Marcus Lee.")
    assert provider_of(sql, first["appointmentId"]) == PATEL


def test_reschedule_of_a_provider_never_chosen_goes_to_whoever_is_in(client, sql):
    """Booked with no provider said (Dr. Lee's Tuesday), moved to Wednesday 9:00 (Dr. Patel's):
    moved to her, and the confirmation says so; back to Thursday: Dr. Lee again."""
    tuesday = next_open_day(weekdays=TUESDAY) + timedelta(days=7)
    while (tuesday + timedelta(days=2)).timetuple()[1:3] == (1, 1) or (tuesday + timedelta(days=1)).timetuple()[1:3] == (1, 1):
        tuesday += timedelta(days=7)  # New Year's Day is a closure
    wednesday, thursday = tuesday + timedelta(days=1), tuesday + timedelta(days=2)
    phone = "+14155550161"
    first = book(client, tuesday, "9:30", name="Gus Any", phone=phone)
    assert first["provider"]["name"] == LEE
    moved = call(client, "rescheduleAppointment", {"newDate": wednesday.isoformat(), "newTime": "9:30"}, caller=phone,
                 tool_id="r1")
    assert moved["success"] and moved["message"].endswith(" at 9:30 AM with Dr. Anika Patel instead of Dr. Marcus Lee."), moved
    assert provider_of(sql, first["appointmentId"]) == PATEL
    back = call(client, "rescheduleAppointment", {"newDate": thursday.isoformat(), "newTime": "9:30"}, caller=phone,
                tool_id="r2")
    assert back["success"] and provider_of(sql, first["appointmentId"]) == LEE, back


# --- Bayview: two hygienists, a lunch rotation ------------------------------------------------------

def test_bayview_cleanings_have_capacity_two_except_at_lunch(client, sql):
    day = next_open_day(LOS_ANGELES, weekdays=(0, 1, 2, 3))
    kwargs = dict(service="cleaning", org=BAYVIEW)
    first = book(client, day, "10:00", name="Al One", phone="+14155550171", **kwargs)
    second = book(client, day, "10:00", name="Bea Two", phone="+14155550172", **kwargs)
    third = book(client, day, "10:00", name="Cal Three", phone="+14155550173", **kwargs)
    assert first["success"] and second["success"] and third["error"] == "slot_unavailable"
    assert {first["provider"]["name"], second["provider"]["name"]} == {DANA, OMAR}
    assert third["message"].startswith("That time is no longer available.")
    noon = [book(client, day, "12:00", name=f"Noon {i}", phone=f"+1415555018{i}", **kwargs) for i in range(2)]
    assert noon[0]["success"] and noon[0]["provider"]["name"] == OMAR  # Dana is at lunch
    assert noon[1]["error"] == "slot_unavailable"
    one_pm = book(client, day, "13:00", name="Late One", phone="+14155550190", **kwargs)
    assert one_pm["provider"]["name"] == DANA  # Omar is at lunch
    exam = book(client, day, "10:00", name="Dee Exam", phone="+14155550191", service="consultation", org=BAYVIEW)
    assert exam["success"] and exam["provider"]["name"] == REYES


# --- a one-provider clinic sounds as before --------------------------------------------------------

HARBOR = "33333333-3333-4333-8333-333333333333"


def test_a_clinic_set_up_without_providers_books_and_speaks_as_before(client, sql):
    from test_concurrency import add_third_clinic

    add_third_clinic(sql)
    assert sql("select count(*) from public.providers where org_id = %s", [HARBOR]) == [(1,)]
    day = next_open_day(weekdays=(1, 2, 3))
    kwargs = dict(service="assessment", org=HARBOR)
    booked = book(client, day, "10:00", **kwargs)
    assert booked["success"] and "provider" not in booked
    assert re.fullmatch(r"You're all set: an assessment on \w+, \w+ \d+\w\w at 10:00 AM\.", booked["message"])
    taken = book(client, day, "10:00", name="Bo Ng", phone="+14155550124", **kwargs)
    assert taken["message"].startswith("That time is no longer available. I do have ")
    assert "alternativeSlots" not in taken
    # a provider name in a one-calendar clinic is not a reason to refuse
    named = book(client, day, "14:00", name="Cy Ray", phone="+14155550125", provider="Dr. Nobody", **kwargs)
    assert named["success"] and "Dr." not in named["message"]
    listed = call(client, "lookupAppointments", {}, caller="+14155550123", org=HARBOR)
    assert "with" not in listed["message"]


def test_the_same_patient_again_in_a_one_provider_clinic(client, sql):
    # The decision (docs/rpc-contract.md): on the Vapi route the patient already holds that time, so
    # the reply is patient_busy — described only to a caller verified by caller ID for it (here the
    # caller's own number: "you already have that time"). The v2 route keeps the original contract:
    # the same request again → slot_unavailable with alternatives. Asked again in a later call: within
    # one call, the same booking twice is one turn's parallel tool calls (issue 11 §4, both succeed).
    from test_concurrency import add_third_clinic

    add_third_clinic(sql)
    day = next_open_day(weekdays=(1, 2, 3))
    first = book(client, day, "10:00", service="assessment", org=HARBOR)
    assert first["success"]
    again = book(client, day, "10:00", service="assessment", org=HARBOR, tool_id="again", call_id="call-2")
    assert again["error"] == "patient_busy" and again["success"] is False
    at = sql("select starts_at from public.appointments where id = %s", [first["appointmentId"]])[0][0]
    (v2,) = sql("select public.book_appointment_atomic_v2(%s, 'Ann Lee', null, '+14155550123', 'assessment', %s)",
                [HARBOR, at])[0]
    assert v2["error"] == "slot_unavailable" and len(v2["alternatives"]) == 3
    assert sql("select count(*) from public.appointments where org_id = %s", [HARBOR]) == [(1,)]


# --- the profile and the prompt -----------------------------------------------------------------

def test_the_profile_and_prompt_list_sunrise_providers(app):
    profile = OrgProfile.from_rpc(app.extensions["deps"].gateway.rpc("get_org_profile", {"p_org_id": SUNRISE}))
    assert profile.provider_count == 3 and [p.name for p in profile.providers] == [PATEL, LEE, KIM]
    from datetime import datetime, timezone
    text = enforced_prompt(None, Clinic.from_profile(profile), "Sarah", now=datetime.now(timezone.utc))
    assert ('- Dr. Anika Patel (the physician; callers may say "Dr. Patel", "Anika"): Consultation, Checkup; works Monday, '
            'Wednesday, Friday and Saturday.') in text
    assert '- Dr. Marcus Lee (the physician; callers may say "Dr. Lee", "Marcus"): Consultation, Checkup; works Tuesday and Thursday.' in text
    assert '- Nurse Joy Kim (the nurse; callers may say "Nurse Kim", "Joy"): Vaccination; works whenever the clinic is open.' in text
    bayview = OrgProfile.from_rpc(app.extensions["deps"].gateway.rpc("get_org_profile", {"p_org_id": BAYVIEW}))
    assert {p.name for p in bayview.providers} == {REYES, DANA, OMAR}
