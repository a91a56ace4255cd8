"""Issue 11 §2, §3, §5 on the voice side without a database: what the tools send SQL and the lines
they speak for unknown_service, ends_after_closing, too_far_ahead and an empty window. Every line
passes the speech checks (one line, at most 300 characters, no ISO, no emoji)."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings, strategies as st

from api import speech
from api.tools import dispatch
from test_caller_verification import PROFILE, TODAY, RecordingGateway, context

NEW_YORK = ZoneInfo("America/New_York")
ISO = re.compile(r"\d{4}-\d{2}-\d{2}|T\d{2}:\d{2}|\dZ\b")


def spoken(line: str) -> str:
    assert line == speech.one_line(line) and len(line) <= speech.MAX_LINE_LENGTH and not ISO.search(line), line
    return line


# --- §3 unknown_service -----------------------------------------------------------------------------

@pytest.mark.parametrize("names,offered", [
    (["Consultation", "Checkup", "Vaccination"], "consultations, checkups, and vaccinations"),
    (["Cleaning", "Consultation", "Whitening"], "cleaning, consultations, and whitening"),
    (["MRI Scan", "X-ray"], "MRI scans and X-rays"),
    (["Physical Therapy", "Flu Shot", "Braces"], "physical therapies, flu shots, and braces"),
    (["Teeth Whitening", "Dental Exam", "Crown Fitting"], "teeth whitening, dental exams, and crown fitting"),
    (["Massage"], "massages"),
    (["Annual Physical", "Pap Smear", "Blood Draw"], "annual physicals, pap smears, and blood draws"),
])
def test_unknown_service_names_what_the_clinic_offers(names, offered):
    assert spoken(speech.unknown_service(names)) == (
        f"I'm not sure we do that here. We offer {offered} — which would you like?")


def test_services_that_do_not_fit_are_counted_in_words_a_person_says():
    long = "Whitening " + "extra " * 60
    assert spoken(speech.unknown_service(["Cleaning", "Consultation", long])) == (
        "I'm not sure we do that here. We offer cleaning, consultations, and one other — which would you like?")
    assert "and 2 others" in speech.unknown_service(["Cleaning", long, long + "x"])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=80), max_size=30))
def test_unknown_service_lines_stay_one_short_line(names):
    # a clinic's own service name that looks like an ISO stamp ("0Z:") is its text, not our formatting
    assume(not any(ISO.search(name) for name in names))
    line = spoken(speech.unknown_service(names))
    assert line.startswith("I'm not sure we do that here")


def test_the_unknown_service_refusal_carries_the_field_and_the_services():
    reply = {"success": False, "error": "unknown_service", "message": "No service of this clinic matches that",
             "services": [{"code": "consultation", "name": "Consultation"}, {"code": "checkup", "name": "Checkup"}],
             "timezone": "America/New_York"}
    payload = dispatch("checkAvailability", context(RecordingGateway(reply)), {"serviceType": "MRI scan"})
    assert payload == {"success": False, "error": "unknown_service", "field": "serviceType",
                       "services": ["Consultation", "Checkup"],
                       "message": "I'm not sure we do that here. We offer consultations and checkups — which would you like?"}



def test_two_services_named_in_one_phrase_are_asked_which_first():
    reply = {"success": False, "error": "unknown_service", "message": "Several services named: book one at a time",
             "services": [{"code": "consultation", "name": "Consultation"}, {"code": "checkup", "name": "Checkup"},
                          {"code": "vaccination", "name": "Vaccination"}],
             "named": [{"code": "checkup", "name": "Checkup"}, {"code": "vaccination", "name": "Vaccination"}],
             "timezone": "America/New_York"}
    payload = dispatch("checkAvailability", context(RecordingGateway(reply)), {"serviceType": "checkup and flu shot"})
    assert payload == {"success": False, "error": "unknown_service", "field": "serviceType",
                       "services": ["Consultation", "Checkup", "Vaccination"], "named": ["Checkup", "Vaccination"],
                       "message": "I can book one visit at a time — shall we start with the checkup or the vaccination?"}
    # one name alone is no choice: the plain refusal
    assert speech.unknown_service(["Consultation"], ["Checkup"]).startswith("I'm not sure we do that here")
    long = "Very Long Service Name " * 3
    assert len(spoken(speech.unknown_service([long] * 6, [long] * 6))) <= 300


# --- §5 the real reason --------------------------------------------------------------------------

CONSULTATION = {"code": "consultation", "name": "Consultation", "durationMinutes": 30, "bufferMinutes": 0}


@pytest.mark.parametrize("minutes,name,at,closes,expected", [
    (30, "Consultation", "2026-12-08T21:45:00Z", "17:00",
     "A 30-minute consultation at 4:45 PM doesn't fit before we close at 5:00 PM."),
    (20, "Checkup", "2026-12-08T16:45:00Z", "12:00", "A 20-minute checkup at 11:45 AM doesn't fit before we close at noon."),
    (8, "Flu Shot", "2026-12-08T21:55:00Z", "17:00", "An 8-minute flu shot at 4:55 PM doesn't fit before we close at 5:00 PM."),
    (11, "Check", "2026-12-08T21:55:00Z", "17:00", "An 11-minute check at 4:55 PM doesn't fit before we close at 5:00 PM."),
    (60, "MRI Scan", "2026-12-09T04:30:00Z", "24:00", "A 60-minute MRI scan at 11:30 PM doesn't fit before we close at midnight."),
])
def test_a_visit_that_does_not_fit_before_closing(minutes, name, at, closes, expected):
    service = dict(CONSULTATION, durationMinutes=minutes, name=name)
    assert spoken(speech.ends_after_closing(service, at, closes, NEW_YORK)) == expected


@pytest.mark.parametrize("service,at,closes", [(CONSULTATION, None, "17:00"), (CONSULTATION, "2026-12-08T21:45:00Z", None),
                                               (CONSULTATION, "2026-12-08T21:45:00Z", "5pm"), ({}, "x", "17:00")])
def test_without_its_facts_the_closing_line_leaves_it_to_the_generic_opening(service, at, closes):
    assert speech.ends_after_closing(service, at, closes, NEW_YORK) is None


def test_without_a_service_the_closing_line_says_appointment():
    assert speech.ends_after_closing(None, "2026-12-08T21:45:00Z", "17:00", NEW_YORK) == (
        "An appointment at 4:45 PM doesn't fit before we close at 5:00 PM.")


def test_the_closing_refusal_is_spoken_with_the_nearest_times_that_fit():
    reply = {"success": False, "error": "ends_after_closing", "closesAt": "17:00",
             "alternatives": ["2026-12-08T21:00:00Z", "2026-12-08T21:30:00Z"], "service": CONSULTATION,
             "timezone": "America/New_York"}
    payload = dispatch("bookClinicAppointment", context(RecordingGateway(reply)), {
        "patientName": "Late Visit", "appointmentDate": "2026-12-08", "appointmentTime": "4:45 PM",
        "patientPhone": "+14155550100"})
    assert payload["error"] == "ends_after_closing" and payload["closesAt"] == "17:00"
    assert payload["message"] == ("A 30-minute consultation at 4:45 PM doesn't fit before we close at 5:00 PM. "
                                  "I do have 4:00 PM or 4:30 PM — would any of those work?")


def test_beyond_the_horizon_says_how_far_ahead_and_offers_the_latest():
    reply = {"success": False, "error": "too_far_ahead", "bookingHorizonDays": 120,
             "alternatives": ["2027-03-29T19:30:00Z", "2027-03-29T20:00:00Z"], "service": CONSULTATION,
             "timezone": "America/New_York"}
    payload = dispatch("checkAvailability", context(RecordingGateway(reply)), {"date": "2027-06-01"})
    assert payload["bookingHorizonDays"] == 120
    assert spoken(payload["message"]) == ("We book up to 120 days ahead. The latest I can offer is Monday, March 29th "
                                          "at 3:30 PM, or 4:00 PM — would any of those work?")
    assert speech.too_far_ahead(1) == "We book up to 1 day ahead."
    assert speech.too_far_ahead(None) is None and speech.too_far_ahead(True) is None


# --- §2 what the tool asks SQL ---------------------------------------------------------------------

WINDOW_REPLY = {"success": True, "slots": [], "slotProviders": [], "windowEmpty": None, "timezone": "America/New_York"}


@pytest.mark.parametrize("arguments,params", [
    ({}, {"p_day": TODAY.isoformat()}),
    ({"time": "morning"}, {"p_day": TODAY.isoformat(), "p_before": "12:00"}),
    ({"date": "tomorrow", "time": "after 3"}, {"p_day": (TODAY + timedelta(days=1)).isoformat(), "p_after": "15:00"}),
    ({"date": "tomorrow around 2"}, {"p_day": (TODAY + timedelta(days=1)).isoformat(), "p_near": "14:00"}),
    ({"time": "between 2 and 4"}, {"p_day": TODAY.isoformat(), "p_after": "14:00", "p_before": "16:00"}),
    ({"time": "2pm"}, {"p_day": TODAY.isoformat(), "p_at": "14:00"}),  # an exact time: SQL says when it is shut
    ({"time": "at 7am"}, {"p_day": TODAY.isoformat(), "p_at": "07:00"}),
    ({"time": "noon"}, {"p_day": TODAY.isoformat(), "p_at": "12:00"}),
])
def test_the_window_goes_to_sql_as_a_day_and_times(arguments, params):
    gateway = RecordingGateway(WINDOW_REPLY)
    dispatch("checkAvailability", context(gateway), arguments)
    ((name, sent),) = gateway.calls
    assert name == "check_availability" and "p_from" not in sent
    assert {key: value for key, value in sent.items() if key in ("p_day", "p_after", "p_before", "p_near", "p_at")} == params


def test_an_empty_window_is_spoken_for_that_window():
    day = TODAY + timedelta(days=1)
    reply = dict(WINDOW_REPLY, windowEmpty="full",
                 slots=[datetime.combine(day, time(9), NEW_YORK).isoformat(),
                        datetime.combine(day + timedelta(days=1), time(17), NEW_YORK).isoformat()])
    payload = dispatch("checkAvailability", context(RecordingGateway(reply)), {"date": "tomorrow", "time": "after 5"})
    assert payload["windowEmpty"] == "full"
    assert spoken(payload["message"]) == (
        f"I don't have anything after 5:00 PM on {speech.spoken_date(day)}; I do have 9:00 AM that morning, "
        f"or {speech.spoken_date(day + timedelta(days=1))} at 5:00 PM — would any of those work?")
    assert PROFILE.timezone.key == "America/New_York"
