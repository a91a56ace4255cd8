import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, strategies as st

from api import speech
from api.speech import (
    alternatives_offer,
    appointments_list,
    available_times,
    booking_confirmed,
    cancelled,
    generic_failure,
    infrastructure_failure,
    one_line,
    parse_instant,
    reask,
    rescheduled,
    spoken_date,
    spoken_time,
)

NEW_YORK = ZoneInfo("America/New_York")
UTC = timezone.utc
ISO_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}|T\d{2}:\d{2}|\d{2}:\d{2}:\d{2}|\dZ\b")

# 2026-01-20 is a Tuesday; New York is UTC-5 in January.
TUESDAY_2PM = "2026-01-20T19:00:00Z"


def at(day: int, hour: int, minute: int = 0, month: int = 1) -> datetime:
    """A clinic-local (New York) time in January 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=NEW_YORK)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2026-03-20T14:30:00Z", datetime(2026, 3, 20, 14, 30, tzinfo=UTC)),
        ("2026-03-20T10:30:00-04:00", datetime(2026, 3, 20, 14, 30, tzinfo=UTC)),
        ("2026-03-20 14:30:00+00", datetime(2026, 3, 20, 14, 30, tzinfo=UTC)),
        ("2026-03-20T14:30:00", datetime(2026, 3, 20, 14, 30, tzinfo=UTC)),
        (datetime(2026, 3, 20, 14, 30, tzinfo=UTC), datetime(2026, 3, 20, 14, 30, tzinfo=UTC)),
        (datetime(2026, 3, 20, 14, 30), datetime(2026, 3, 20, 14, 30, tzinfo=UTC)),
    ],
)
def test_parse_instant(value, expected):
    result = parse_instant(value)
    assert result == expected
    assert result.tzinfo is not None


@pytest.mark.parametrize("value", ["soon", "", None, 12])
def test_parse_instant_refuses_garbage(value):
    with pytest.raises(ValueError):
        parse_instant(value)


@pytest.mark.parametrize(
    "day, expected",
    [
        (1, "Thursday, January 1st"),
        (2, "Friday, January 2nd"),
        (3, "Saturday, January 3rd"),
        (4, "Sunday, January 4th"),
        (11, "Sunday, January 11th"),
        (12, "Monday, January 12th"),
        (13, "Tuesday, January 13th"),
        (20, "Tuesday, January 20th"),
        (21, "Wednesday, January 21st"),
        (22, "Thursday, January 22nd"),
        (23, "Friday, January 23rd"),
        (24, "Saturday, January 24th"),
        (30, "Friday, January 30th"),
        (31, "Saturday, January 31st"),
    ],
)
def test_spoken_date_ordinals(day, expected):
    assert spoken_date(at(day, 9)) == expected


def test_spoken_date_accepts_a_plain_date():
    assert spoken_date(date(2031, 3, 3)) == "Monday, March 3rd"


@pytest.mark.parametrize(
    "hour, minute, expected",
    [
        (14, 0, "2:00 PM"),
        (12, 0, "12:00 PM"),
        (0, 0, "12:00 AM"),
        (9, 30, "9:30 AM"),
        (10, 5, "10:05 AM"),
        (23, 45, "11:45 PM"),
    ],
)
def test_spoken_time(hour, minute, expected):
    assert spoken_time(at(20, hour, minute)) == expected


# --------------------------------------------------------------------------
# Confirmations
# --------------------------------------------------------------------------


def test_booking_confirmed():
    assert (
        booking_confirmed(TUESDAY_2PM, NEW_YORK, "Consultation")
        == "You're all set: a consultation on Tuesday, January 20th at 2:00 PM."
    )


def test_booking_confirmed_accepts_datetimes_and_zone_names():
    assert (
        booking_confirmed(at(20, 14), "America/New_York", "consultation")
        == "You're all set: a consultation on Tuesday, January 20th at 2:00 PM."
    )


@pytest.mark.parametrize(
    "service, phrase",
    [
        ("MRI scan", "an MRI scan"),
        ("CT scan", "a CT scan"),
        ("X-ray", "an X-ray"),
        ("Eye Exam", "an eye exam"),
        ("General Check-up", "a general check-up"),
        ("Invisalign Consultation", "an invisalign consultation"),
        ("McKenzie Method Session", "a McKenzie method session"),
        ("", "an appointment"),
        (None, "an appointment"),
    ],
)
def test_booking_confirmed_service_names(service, phrase):
    assert (
        booking_confirmed(TUESDAY_2PM, NEW_YORK, service)
        == f"You're all set: {phrase} on Tuesday, January 20th at 2:00 PM."
    )


def test_booking_confirmed_speaks_clinic_local_time_across_dst():
    # 14:00 UTC is 10:00 AM on the first day of daylight time in New York.
    assert booking_confirmed("2027-03-14T14:00:00Z", NEW_YORK, "Cleaning") == (
        "You're all set: a cleaning on Sunday, March 14th at 10:00 AM."
    )
    assert booking_confirmed("2027-03-13T15:00:00Z", NEW_YORK, "Cleaning") == (
        "You're all set: a cleaning on Saturday, March 13th at 10:00 AM."
    )


def test_booking_confirmed_at_noon():
    assert booking_confirmed("2026-01-20T17:00:00Z", NEW_YORK, "Cleaning") == (
        "You're all set: a cleaning on Tuesday, January 20th at 12:00 PM."
    )


def test_cancelled():
    assert (
        cancelled(TUESDAY_2PM, NEW_YORK, "Consultation")
        == "Done — your consultation on Tuesday, January 20th at 2:00 PM is cancelled."
    )


def test_rescheduled():
    assert (
        rescheduled("2026-01-21T15:00:00Z", NEW_YORK, "Consultation")
        == "All set — I've moved your consultation to Wednesday, January 21st at 10:00 AM."
    )


def test_cancelled_without_a_service_name():
    assert (
        cancelled(TUESDAY_2PM, NEW_YORK, None)
        == "Done — your appointment on Tuesday, January 20th at 2:00 PM is cancelled."
    )


# --------------------------------------------------------------------------
# Alternatives
# --------------------------------------------------------------------------


def test_same_day_alternatives_are_bare_times():
    alternatives = [iso(at(20, 14, 30)), iso(at(20, 15)), iso(at(20, 15, 30))]
    assert alternatives_offer("slot_unavailable", alternatives, NEW_YORK, TUESDAY_2PM) == (
        "That time is no longer available. "
        "I do have 2:30 PM, 3:00 PM, or 3:30 PM — would any of those work?"
    )


def test_other_day_alternatives_name_the_day_once():
    alternatives = [iso(at(21, 9)), iso(at(21, 9, 30))]
    assert alternatives_offer("closed", alternatives, NEW_YORK, TUESDAY_2PM) == (
        "The clinic is closed then. "
        "I do have Wednesday, January 21st at 9:00 AM, or 9:30 AM — would any of those work?"
    )


def test_alternatives_across_days():
    alternatives = [iso(at(20, 16, 30)), iso(at(21, 9)), iso(at(21, 9, 30))]
    assert alternatives_offer("slot_unavailable", alternatives, NEW_YORK, at(20, 14)) == (
        "That time is no longer available. "
        "I do have 4:30 PM, Wednesday, January 21st at 9:00 AM, or 9:30 AM"
        " — would any of those work?"
    )


def test_alternatives_over_several_other_days():
    alternatives = [iso(at(21, 9)), iso(at(22, 9))]
    assert alternatives_offer("closed", alternatives, NEW_YORK, TUESDAY_2PM) == (
        "The clinic is closed then. I do have Wednesday, January 21st at 9:00 AM, "
        "or Thursday, January 22nd at 9:00 AM — would any of those work?"
    )


def test_a_single_alternative():
    assert alternatives_offer("too_soon", [iso(at(20, 16))], NEW_YORK, TUESDAY_2PM) == (
        "That's a little too soon for us to book. I do have 4:00 PM — would that work?"
    )


def test_alternatives_without_a_requested_time_name_the_day():
    assert alternatives_offer("in_past", [iso(at(20, 16)), iso(at(20, 16, 30))], NEW_YORK) == (
        "That time has already passed. "
        "I do have Tuesday, January 20th at 4:00 PM, or 4:30 PM — would any of those work?"
    )


def test_alternatives_are_grouped_in_clinic_local_days():
    # 03:00Z on the 21st is still 10 PM on the 20th in New York.
    alternatives = ["2026-01-21T03:00:00Z"]
    assert alternatives_offer("slot_unavailable", alternatives, NEW_YORK, TUESDAY_2PM) == (
        "That time is no longer available. I do have 10:00 PM — would that work?"
    )


@pytest.mark.parametrize(
    "reason, opening",
    [
        ("slot_unavailable", "That time is no longer available."),
        ("outside_business_hours", "We're not open at that time."),
        ("closed", "The clinic is closed then."),
        ("in_past", "That time has already passed."),
        ("too_soon", "That's a little too soon for us to book."),
        ("too_far_ahead", "We can't book that far ahead yet."),
        ("something_new", "That time isn't available."),
    ],
)
def test_no_alternatives(reason, opening):
    assert alternatives_offer(reason, [], NEW_YORK, TUESDAY_2PM) == (
        f"{opening} Is there another day or time that would suit you?"
    )


def test_unreadable_alternatives_are_skipped():
    assert alternatives_offer("closed", ["garbage", None, iso(at(20, 15))], NEW_YORK, TUESDAY_2PM) == (
        "The clinic is closed then. I do have 3:00 PM — would that work?"
    )


# --------------------------------------------------------------------------
# Availability
# --------------------------------------------------------------------------


def test_available_times_on_one_day():
    slots = [iso(at(20, 9)), iso(at(20, 9, 30)), iso(at(20, 10))]
    assert available_times(slots, NEW_YORK) == (
        "On Tuesday, January 20th I have 9:00 AM, 9:30 AM, or 10:00 AM available."
    )


def test_available_times_on_the_requested_day():
    slots = [iso(at(20, 9)), iso(at(20, 9, 30))]
    assert available_times(slots, NEW_YORK, requested_day=date(2026, 1, 20)) == (
        "On Tuesday, January 20th I have 9:00 AM or 9:30 AM available."
    )


def test_available_times_on_another_day_than_requested():
    slots = [iso(at(21, 9))]
    assert available_times(slots, NEW_YORK, requested_day=TUESDAY_2PM) == (
        "I don't have anything on Tuesday, January 20th. "
        "On Wednesday, January 21st I have 9:00 AM available."
    )


def test_available_times_over_several_days():
    slots = [iso(at(20, 16)), iso(at(21, 9)), iso(at(21, 9, 30))]
    assert available_times(slots, NEW_YORK) == (
        "I have Tuesday, January 20th at 4:00 PM, Wednesday, January 21st at 9:00 AM, "
        "or 9:30 AM available."
    )


def test_available_times_summarises_a_long_list():
    slots = [iso(at(20, 9) + timedelta(minutes=30 * i)) for i in range(10)]
    assert available_times(slots, NEW_YORK) == (
        "On Tuesday, January 20th I have 9:00 AM, 9:30 AM, 10:00 AM, 10:30 AM, "
        "11:00 AM, or 11:30 AM available, and 4 more later."
    )


def test_no_available_times():
    assert available_times([], NEW_YORK) == (
        "I don't see any openings around then. Is there another day that would work?"
    )


# --------------------------------------------------------------------------
# Appointment lists
# --------------------------------------------------------------------------


def appointment(when: datetime, service: str, name: str = "John Doe") -> dict:
    return {"scheduledAt": iso(when), "service": {"name": service}, "patientName": name}


def test_no_appointments():
    assert appointments_list([], NEW_YORK) == (
        "I couldn't find any upcoming appointments for that number."
    )


def test_one_appointment():
    assert appointments_list([appointment(at(20, 14), "Consultation")], NEW_YORK) == (
        "I see a consultation on Tuesday, January 20th at 2:00 PM."
    )


def test_two_appointments_are_read_without_a_question_on_a_lookup():
    items = [appointment(at(20, 14), "Consultation"), appointment(at(21, 9), "Cleaning")]
    assert appointments_list(items, NEW_YORK) == (
        "I see 2 appointments: a consultation on Tuesday, January 20th at 2:00 PM "
        "and a cleaning on Wednesday, January 21st at 9:00 AM."
    )


def test_two_appointments_end_with_which_one_when_the_caller_is_changing_one():
    items = [appointment(at(20, 14), "Consultation"), appointment(at(21, 9), "Cleaning")]
    assert appointments_list(items, NEW_YORK, asking=True) == (
        "I see 2 appointments: a consultation on Tuesday, January 20th at 2:00 PM "
        "and a cleaning on Wednesday, January 21st at 9:00 AM. Which one do you mean?"
    )


def test_many_appointments_are_summarised_in_order():
    items = [appointment(at(20 + i, 9), "Cleaning" if i % 2 else "Consultation") for i in range(6)]
    result = appointments_list(items, NEW_YORK, asking=True)
    assert result == (
        "I see 6 appointments: a consultation on Tuesday, January 20th at 9:00 AM, "
        "a cleaning on Wednesday, January 21st at 9:00 AM, "
        "a consultation on Thursday, January 22nd at 9:00 AM, and 3 more. "
        "Which one do you mean?"
    )
    assert len(result) <= 300
    assert appointments_list(items, NEW_YORK) == result.removesuffix(" Which one do you mean?")


def test_appointments_with_long_service_names_stay_short():
    items = [appointment(at(20 + i, 9), "Extended " + "Comprehensive " * 4 + "Review") for i in range(4)]
    result = appointments_list(items, NEW_YORK, asking=True)
    assert len(result) <= 300
    assert result.startswith("I see 4 appointments: an extended comprehensive")
    assert result.endswith("January 21st at 9:00 AM, and 2 more. Which one do you mean?")
    plain = appointments_list(items, NEW_YORK)
    assert len(plain) <= 300 and not plain.endswith("?")


def test_appointments_of_several_patients_name_each_patient():
    # One parent's phone books several children: the first names tell the bookings apart.
    items = [appointment(at(20, 14), "Checkup", "Anna Lee"), appointment(at(20, 15), "Checkup", "Ben Lee")]
    assert appointments_list(items, NEW_YORK) == (
        "I see 2 appointments: a checkup for Anna on Tuesday, January 20th at 2:00 PM "
        "and a checkup for Ben on Tuesday, January 20th at 3:00 PM."
    )
    same_patient = [appointment(at(20, 14), "Checkup", "Anna Lee"), appointment(at(21, 9), "Checkup", "Anna Lee")]
    assert "Anna" not in appointments_list(same_patient, NEW_YORK)


# --------------------------------------------------------------------------
# Caller verification
# --------------------------------------------------------------------------


def test_verification_required_asks_for_the_three_details():
    assert speech.verification_required() == (
        "For your privacy, can you tell me the phone number, full name and date of birth on the booking?"
    )


def test_verification_failed_and_locked_offer_a_transfer_or_a_call_back():
    failed, locked = speech.verification_failed(), speech.verification_locked()
    assert "transfer you to the front desk" in failed and "call us back from the number on the booking" in failed
    assert "transfer you to the front desk" in locked and "number on file" in locked
    assert failed != locked
    for line in (failed, locked, speech.verification_required()):
        assert_speakable(line)
        assert not re.search(r"\d", line)  # names no number, date or count


def test_nothing_under_the_callers_own_number_may_be_said_plainly():
    assert speech.no_upcoming("caller_id") == (
        "I don't see anything under the number you're calling from — is it booked under another number?"
    )
    assert "calling from" not in speech.no_upcoming("claimed_phone")


def test_no_match_reads_what_the_verified_caller_has_and_asks():
    one = [appointment(at(20, 14), "Consultation")]
    assert speech.no_matching_appointment(one, NEW_YORK) == (
        "I don't see an appointment then, but I do see a consultation on Tuesday, January 20th at 2:00 PM. "
        "Is that the one?"
    )
    two = one + [appointment(at(21, 9), "Cleaning")]
    line = speech.no_matching_appointment(two, NEW_YORK)
    assert line.startswith("I don't see an appointment then. I see 2 appointments:")
    assert line.endswith("Which one do you mean?")
    assert speech.no_matching_appointment([], NEW_YORK, searched="caller_id") == speech.no_upcoming("caller_id")
    assert speech.no_matching_appointment([], NEW_YORK) == speech.not_found()


# --------------------------------------------------------------------------
# Failures and re-asks
# --------------------------------------------------------------------------


def test_infrastructure_failure():
    assert infrastructure_failure() == (
        "I'm sorry, I'm having trouble reaching our booking system right now. "
        "Could I take a message and have the clinic call you back?"
    )


def test_generic_failure():
    assert generic_failure() == (
        "I'm sorry, I can't complete that booking right now. "
        "Could I take a message and have the clinic call you back?"
    )


@pytest.mark.parametrize(
    "code, words",
    [
        ("patient_name_missing", "your name"),
        ("patient_name_too_long", "first and last name"),
        ("patient_phone_missing", "phone number"),
        ("patient_phone_invalid", "digit by digit"),
        ("appointment_date_missing", "which day"),
        ("appointment_date_invalid", "the date"),
        ("appointment_time_missing", "what time"),
        ("appointment_time_invalid", "10 AM or 2:30 PM"),
        ("date_of_birth_invalid", "date of birth"),
        ("date_of_birth_out_of_range", "date of birth"),
        ("booked_day_invalid", "which day is it booked for"),
        ("booked_time_invalid", "what time is it booked for"),
    ],
)
def test_each_reask_code_is_one_question_about_its_value(code, words):
    line = reask(code)
    assert words in line and line.endswith("?") and line == one_line(line)
    assert all(ch.isascii() or ch == "—" for ch in line)


def test_every_reask_code_has_its_question_and_an_unknown_one_a_plain_one():
    assert set(speech.REASKS) >= {"patient_name_missing", "appointment_time_invalid", "booked_time_invalid"}
    assert len(set(speech.REASKS.values())) == len(speech.REASKS)  # no two codes ask the same
    assert reask("no_such_code") == "Sorry, could you say that again?"


@pytest.mark.parametrize(
    "choices, question",
    [
        ((time(2, 0), time(14, 0)), "Is that 2 in the afternoon or in the morning?"),
        ((time(14, 30), time(2, 30)), "Is that 2:30 in the afternoon or in the morning?"),
        ((time(8, 0), time(20, 0)), "Is that 8 in the evening or in the morning?"),
        ((time(11, 45), time(23, 45)), "Is that 11:45 in the evening or in the morning?"),
        ((time(5, 0), time(17, 0)), "Is that 5 in the afternoon or in the morning?"),
    ],
)
def test_an_hour_without_am_pm_is_asked_about_in_words(choices, question):
    assert reask("appointment_time_meridiem", choices) == question


def test_a_meridiem_question_without_its_two_readings_asks_for_the_time():
    assert reask("appointment_time_meridiem") == reask("appointment_time_invalid")


def test_booking_confirmed_says_when_the_email_was_not_kept():
    line = booking_confirmed(TUESDAY_2PM, NEW_YORK, "Consultation", email_dropped=True)
    assert line == ("You're all set: a consultation on Tuesday, January 20th at 2:00 PM. "
                    "I couldn't use that e-mail address, so I've left it off the booking.")
    assert booking_confirmed(TUESDAY_2PM, NEW_YORK, "Consultation", email_dropped=False) == (
        booking_confirmed(TUESDAY_2PM, NEW_YORK, "Consultation"))


def test_the_lines_for_what_the_service_cannot_do():
    assert speech.unknown_tool() == "I'm sorry, I can't help with that here. Is there something else I can do for you?"
    assert speech.details_again() == (
        "I'm sorry, I didn't get all of that — could you give me the details again?")


# --------------------------------------------------------------------------
# The line guard
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Hello\nthere", "Hello there"),
        ("  lots   of\t\tspace  ", "lots of space"),
        ("Great 👍🏽 see you!", "Great see you!"),
        ("Booked ✅", "Booked"),
        ("Keycap 1️⃣ gone", "Keycap 1 gone"),
        ("Family 👨‍👩‍👧 emoji", "Family emoji"),
        ("Seán O'Brien — 2:00 PM", "Seán O'Brien — 2:00 PM"),
        ("## Heading *bold* `code`", "Heading bold code"),
        (None, ""),
    ],
)
def test_one_line(text, expected):
    assert one_line(text) == expected


def test_one_line_cuts_at_a_word_boundary():
    text = "word " * 100
    result = one_line(text)
    assert len(result) <= 300
    assert result.endswith("word.")
    assert "wor." not in result


def test_one_line_cuts_a_single_huge_word():
    result = one_line("x" * 500)
    assert result == "x" * 299 + "."


# --------------------------------------------------------------------------
# Properties: every line is one spoken line
# --------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
zones = st.sampled_from(["America/New_York", "Europe/London", "Asia/Kolkata", "Pacific/Auckland"])
# No digits: a service name is the clinic's own text, and digits in it would
# trip the ISO-timestamp check below.
service_names = st.none() | st.text(
    alphabet=st.characters(blacklist_categories=("Nd", "No", "Cs")), max_size=60
)
reasons = st.sampled_from(list(speech._OPENINGS) + ["unknown_reason"])


def assert_speakable(line: str) -> None:
    assert isinstance(line, str)
    assert len(line) <= 300
    assert "\n" not in line and "\r" not in line
    assert line == line.strip()
    assert not ISO_PATTERN.search(line), line


@given(reasons, st.lists(instants, max_size=12), zones, st.none() | instants)
def test_alternatives_offer_is_one_line(reason, alternatives, zone, requested):
    assert_speakable(alternatives_offer(reason, [iso(a) for a in alternatives], zone, requested))
    assert_speakable(alternatives_offer(reason, alternatives, zone, requested))


@given(st.lists(instants, max_size=50), zones, st.none() | instants)
def test_available_times_is_one_line(slots, zone, requested):
    assert_speakable(available_times([iso(s) for s in slots], zone, requested))


@given(st.lists(st.tuples(instants, service_names), max_size=10), zones)
def test_appointments_list_is_one_line(items, zone):
    appointments = [
        {"scheduledAt": iso(when), "service": {"name": name}, "patientName": "Ann"}
        for when, name in items
    ]
    assert_speakable(appointments_list(appointments, zone))
    assert_speakable(appointments_list(appointments, zone, asking=True))
    assert_speakable(speech.no_matching_appointment(appointments, zone))
    assert not appointments_list(appointments, zone).endswith("Which one do you mean?")


@given(instants, zones, service_names)
def test_confirmations_are_one_line(when, zone, service):
    for line in (
        booking_confirmed(when, zone, service),
        cancelled(iso(when), zone, service),
        rescheduled(iso(when), zone, service),
    ):
        assert_speakable(line)


@given(st.text())
def test_one_line_property(text):
    line = one_line(text)
    assert len(line) <= 300
    assert "\n" not in line
    assert not any(ch.isspace() and ch != " " for ch in line)


# Issue 11 §2, §3, §5: the lines for an empty availability window, an unknown service, a visit that
# does not fit before closing and the booking horizon (their wording: tests/test_receptionist_speech.py
# and tests/test_time_windows.py).
empty_reasons = st.sampled_from(["closed", "outside_hours", "provider_off", "passed", "full", None])
clock_times = st.times().map(lambda t: t.replace(second=0, microsecond=0))


@given(empty_reasons, clock_times, clock_times, st.sampled_from(["day", "part", "after", "before", "by", "between",
                                                                  "around", "at"]),
       st.dates(min_value=date(2001, 1, 1), max_value=date(2099, 1, 1)), st.lists(instants, max_size=8), zones,
       st.none() | st.text(max_size=80))
def test_empty_window_lines_are_one_line(reason, start, end, kind, day, slots, zone, provider):
    from api.normalize import DAY_PARTS, TimeWindow

    window = TimeWindow(kind, start=start, end=end, part=sorted(DAY_PARTS)[start.hour % len(DAY_PARTS)])
    line = speech.window_alternatives(reason, window, day, day - timedelta(days=1), [iso(s) for s in slots], zone,
                                      provider=provider)
    assert_speakable(line)
    assert_speakable(speech.window_alternatives(reason, window, day, day, [iso(s) for s in slots], zone,
                                                provider_slots=[(iso(s), provider) for s in slots]))


@given(st.lists(st.none() | st.text(max_size=120), max_size=40))
def test_unknown_service_is_one_line(names):
    assert_speakable(speech.unknown_service(names))


@given(service_names, st.integers(-5, 600), instants, zones, st.sampled_from(["17:00", "12:00", "24:00", "08:30", "x"]),
       st.none() | st.integers(-1, 3650))
def test_real_reason_openings_are_one_line(name, minutes, when, zone, closes, horizon):
    opening = speech.ends_after_closing({"name": name, "durationMinutes": minutes}, iso(when), closes, zone)
    assert opening is None or assert_speakable(opening) is None
    far = speech.too_far_ahead(horizon)
    assert far is None or assert_speakable(far) is None
    assert_speakable(alternatives_offer("too_far_ahead", [iso(when)], zone, None, opening=far))
    assert_speakable(alternatives_offer("ends_after_closing", [iso(when)], zone, when, opening=opening))


def test_beyond_the_horizon_with_providers_still_says_the_latest_i_can_offer():
    """ISSUE-11 §5: "We book up to 120 days ahead — the latest I can offer is …" also in a clinic with
    several providers (the offers name who each is with), as the one-provider line says it."""
    slots = [("2027-03-30T19:30:00Z", "Dr. Marcus Lee"), ("2027-03-30T20:00:00Z", "Dr. Marcus Lee"),
             ("2027-03-31T14:00:00Z", "Dr. Anika Patel")]
    line = speech.alternatives_offer("too_far_ahead", [s for s, _ in slots], "America/New_York", "2027-06-01T14:00:00Z",
                                     slots=slots, opening=speech.too_far_ahead(120))
    assert line == ("We book up to 120 days ahead. The latest I can offer is Tuesday, March 30th at 3:30 PM, or "
                    "4:00 PM with Dr. Marcus Lee, or Wednesday, March 31st at 10:00 AM with Dr. Anika Patel — "
                    "would any of those work?"), line


def test_provider_not_qualified_for_a_role_names_the_role_and_who_does():
    line = speech.provider_not_qualified(None, "Vaccination", [{"name": "Nurse Joy Kim"}], role="physician")
    assert line == ("None of our physicians do vaccination appointments, but Nurse Joy Kim does — shall I book "
                    "with Nurse Joy Kim?")
    # the role is clinic data: only its letters are said
    odd = speech.provider_not_qualified(None, "Vaccination", [{"name": "Kim"}], role="<b>nurse</b>!")
    assert "<" not in odd and "!" not in odd.split(",")[0]
