import logging
import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, strategies as st

from api.normalize import (
    BookingRequest,
    NormalizationError,
    mask_email,
    mask_phone,
    normalize_booking,
    normalize_date,
    normalize_datetime,
    normalize_email,
    normalize_name,
    normalize_phone,
    normalize_time,
)

TODAY = date(2026, 11, 25)  # a Wednesday
OTHER_TODAY = date(2031, 3, 3)  # a Monday, to prove no year is baked in
NEW_YORK = ZoneInfo("America/New_York")
UTC = timezone.utc


# --------------------------------------------------------------------------
# normalize_date
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-12-20", date(2026, 12, 20)),
        ("2027-01-20", date(2027, 1, 20)),
        ("01/20/2027", date(2027, 1, 20)),
        ("12/01/2026", date(2026, 12, 1)),  # US month/day
        ("1/20", date(2027, 1, 20)),
        ("12/20", date(2026, 12, 20)),
        ("January 20th", date(2027, 1, 20)),
        ("Jan 20", date(2027, 1, 20)),
        ("December 1st", date(2026, 12, 1)),
        ("20 January 2027", date(2027, 1, 20)),
        ("the 20th of January", date(2027, 1, 20)),
        ("Tuesday, January 20th", date(2027, 1, 20)),  # weekday next to a date is ignored
        ("tomorrow", date(2026, 11, 26)),
        ("Tomorrow", date(2026, 11, 26)),
        ("today", date(2026, 11, 25)),
        ("day after tomorrow", date(2026, 11, 27)),
        # Stale years move to the next occurrence that isn't in the past.
        ("2024-12-25", date(2026, 12, 25)),
        ("2024-01-20", date(2027, 1, 20)),
        ("2025-11-25", date(2026, 11, 25)),
        ("2026-11-24", date(2027, 11, 24)),
        ("11/25", date(2026, 11, 25)),
        ("November 24", date(2027, 11, 24)),
        ("Feb 29", date(2028, 2, 29)),
        ("2024-02-29", date(2028, 2, 29)),
        # Combined ISO datetimes: the date part, as written.
        ("2026-01-20T14:00:00", date(2027, 1, 20)),
        ("2027-01-20T14:00:00", date(2027, 1, 20)),
        ("2027-01-20T14:00:00Z", date(2027, 1, 20)),
        ("2027-01-20 14:00", date(2027, 1, 20)),
        ("2027-01-20T14:00:00-05:00", date(2027, 1, 20)),
        ("  2027-01-20  ", date(2027, 1, 20)),
    ],
)
def test_normalize_date(text, expected):
    assert normalize_date(text, TODAY) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        # TODAY is a Wednesday.
        ("Wednesday", date(2026, 11, 25)),
        ("this Wednesday", date(2026, 11, 25)),
        ("next Wednesday", date(2026, 12, 2)),
        ("Thursday", date(2026, 11, 26)),
        ("this Thursday", date(2026, 11, 26)),
        ("next Thursday", date(2026, 11, 26)),
        ("on Thursday", date(2026, 11, 26)),
        ("Tuesday", date(2026, 12, 1)),
        ("this Tuesday", date(2026, 12, 1)),
        ("next Tuesday", date(2026, 12, 1)),
        ("next tuesday", date(2026, 12, 1)),
        ("Tue", date(2026, 12, 1)),
        ("this coming Monday", date(2026, 11, 30)),
    ],
)
def test_weekday_rules(text, expected):
    assert normalize_date(text, TODAY) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        # OTHER_TODAY is Monday 2031-03-03.
        ("2024-12-25", date(2031, 12, 25)),
        ("2024-01-20", date(2032, 1, 20)),
        ("2030-03-03", date(2031, 3, 3)),
        ("March 2nd", date(2032, 3, 2)),
        ("Feb 29", date(2032, 2, 29)),
        ("1/20", date(2032, 1, 20)),
        ("tomorrow", date(2031, 3, 4)),
        ("Monday", date(2031, 3, 3)),
        ("next Monday", date(2031, 3, 10)),
        ("Friday", date(2031, 3, 7)),
        ("2031-03-10T09:00:00", date(2031, 3, 10)),
    ],
)
def test_normalize_date_with_another_today(text, expected):
    assert normalize_date(text, OTHER_TODAY) == expected


@pytest.mark.parametrize(
    "text",
    ["", "   ", "banana", "next", "January", "20", "2027", "2pm", "Feb 30", "13/45/2027", None, 20, ["2027-01-20"]],
)
def test_normalize_date_refuses_garbage(text):
    with pytest.raises(NormalizationError) as caught:
        normalize_date(text, TODAY)
    assert caught.value.field == "appointmentDate"
    assert "date" in caught.value.reask


@given(st.dates(), st.dates())
def test_normalized_date_is_never_in_the_past(value, today):
    result = normalize_date(value.isoformat(), today)
    assert result >= today
    assert (result.month, result.day) == (value.month, value.day)
    if value >= today:
        assert result == value


# --------------------------------------------------------------------------
# normalize_time
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("14:00", time(14, 0)),
        ("14:00:00", time(14, 0)),
        ("09:30", time(9, 30)),
        ("2pm", time(14, 0)),
        ("2 pm", time(14, 0)),
        ("2PM", time(14, 0)),
        ("2:30 PM", time(14, 30)),
        ("2.30pm", time(14, 30)),
        ("2:30 p.m.", time(14, 30)),
        ("10:15 a.m.", time(10, 15)),
        ("12pm", time(12, 0)),
        ("12 am", time(0, 0)),
        ("noon", time(12, 0)),
        ("Noon", time(12, 0)),
        ("midday", time(12, 0)),
        ("midnight", time(0, 0)),
        ("9", time(9, 0)),
        ("9am", time(9, 0)),
        ("11", time(11, 0)),
        ("12", time(12, 0)),
        ("2", time(14, 0)),
        ("6", time(18, 0)),
        ("7", time(7, 0)),
        ("4:30", time(16, 30)),
        ("8am", time(8, 0)),
        ("half past two", time(14, 30)),
        ("quarter past nine", time(9, 15)),
        ("quarter to three", time(14, 45)),
        ("two thirty", time(14, 30)),
        ("ten o'clock", time(10, 0)),
        ("3 in the afternoon", time(15, 0)),
        ("at 10am", time(10, 0)),
        ("2026-01-20T14:00:00Z", time(14, 0)),  # wall clock as written
        ("14:00Z", time(14, 0)),
    ],
)
def test_normalize_time(text, expected):
    assert normalize_time(text) == expected


@pytest.mark.parametrize(
    "text", ["", "  ", "soon", "25:00", "14:75", "13am", "123", "two-ish", None, 14]
)
def test_normalize_time_refuses_garbage(text):
    with pytest.raises(NormalizationError) as caught:
        normalize_time(text)
    assert caught.value.field == "appointmentTime"
    assert "time" in caught.value.reask


@given(st.integers(13, 23), st.integers(0, 59))
def test_24_hour_times_are_taken_literally(hour, minute):
    assert normalize_time(f"{hour}:{minute:02d}") == time(hour, minute)


# --------------------------------------------------------------------------
# normalize_datetime
# --------------------------------------------------------------------------


def test_datetime_combines_date_and_time_in_the_clinic_zone():
    result = normalize_datetime("2027-01-20", "2pm", TODAY, NEW_YORK)
    assert result == datetime(2027, 1, 20, 14, 0, tzinfo=NEW_YORK)
    assert result.utcoffset() == timedelta(hours=-5)
    assert result.astimezone(UTC) == datetime(2027, 1, 20, 19, 0, tzinfo=UTC)


def test_iso_with_z_is_converted_to_the_clinic_zone():
    result = normalize_datetime("2027-01-20T19:00:00Z", None, TODAY, NEW_YORK)
    assert (result.date(), result.time()) == (date(2027, 1, 20), time(14, 0))
    assert result.tzinfo == NEW_YORK


def test_iso_conversion_can_change_the_local_date():
    result = normalize_datetime("2026-12-01T03:00:00Z", None, TODAY, NEW_YORK)
    assert (result.date(), result.time()) == (date(2026, 11, 30), time(22, 0))


def test_iso_with_offset_is_converted():
    result = normalize_datetime("2027-01-20T14:00:00-08:00", None, TODAY, NEW_YORK)
    assert (result.date(), result.time()) == (date(2027, 1, 20), time(17, 0))


def test_iso_without_offset_is_clinic_local():
    for text in ("2027-01-20T14:00:00", "2027-01-20 14:00"):
        result = normalize_datetime(text, None, TODAY, NEW_YORK)
        assert result == datetime(2027, 1, 20, 14, 0, tzinfo=NEW_YORK)


def test_stale_iso_datetime_keeps_its_time_and_moves_year():
    result = normalize_datetime("2024-12-25T15:30:00Z", None, TODAY, NEW_YORK)
    assert (result.date(), result.time()) == (date(2026, 12, 25), time(10, 30))


def test_time_text_overrides_the_embedded_time():
    result = normalize_datetime("2027-01-20T09:00:00", "3pm", TODAY, NEW_YORK)
    assert result == datetime(2027, 1, 20, 15, 0, tzinfo=NEW_YORK)


def test_iso_midnight_counts_as_a_date_only():
    result = normalize_datetime("2027-01-20T00:00:00Z", "2pm", TODAY, NEW_YORK)
    assert result == datetime(2027, 1, 20, 14, 0, tzinfo=NEW_YORK)
    with pytest.raises(NormalizationError) as caught:
        normalize_datetime("2027-01-20T00:00:00Z", None, TODAY, NEW_YORK)
    assert caught.value.field == "appointmentTime"


def test_weekday_and_time():
    result = normalize_datetime("next Tuesday", "10:30", TODAY, NEW_YORK)
    assert result == datetime(2026, 12, 1, 10, 30, tzinfo=NEW_YORK)


@pytest.mark.parametrize("time_text", [None, "", "   "])
def test_no_time_anywhere_asks_for_the_time(time_text):
    with pytest.raises(NormalizationError) as caught:
        normalize_datetime("2027-01-20", time_text, TODAY, NEW_YORK)
    assert caught.value.field == "appointmentTime"
    assert "time" in caught.value.reask


def test_dst_start_day_uses_daylight_offset():
    result = normalize_datetime("2027-03-14", "10:00", TODAY, NEW_YORK)
    assert result.astimezone(UTC) == datetime(2027, 3, 14, 14, 0, tzinfo=UTC)


def test_day_before_dst_uses_standard_offset():
    result = normalize_datetime("2027-03-13", "10:00", TODAY, NEW_YORK)
    assert result.astimezone(UTC) == datetime(2027, 3, 13, 15, 0, tzinfo=UTC)


def test_time_in_the_spring_forward_gap_moves_forward():
    result = normalize_datetime("2027-03-14", "2:30 am", TODAY, NEW_YORK)
    assert (result.date(), result.time()) == (date(2027, 3, 14), time(3, 30))
    assert result.utcoffset() == timedelta(hours=-4)
    assert result.astimezone(UTC) == datetime(2027, 3, 14, 7, 30, tzinfo=UTC)


def test_ambiguous_fall_back_time_is_the_first_occurrence():
    result = normalize_datetime("2027-11-07", "1:30 am", TODAY, NEW_YORK)
    assert result.utcoffset() == timedelta(hours=-4)
    assert result.astimezone(UTC) == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
    st.times(),
    st.sampled_from(["America/New_York", "Europe/London", "Australia/Sydney", "UTC"]),
)
def test_normalized_datetime_is_aware_and_not_before_today(day, wall, zone_name):
    tz = ZoneInfo(zone_name)
    wall = wall.replace(microsecond=0)
    assume(wall != time(0, 0))  # midnight counts as "no time given"
    result = normalize_datetime(f"{day.isoformat()}T{wall.isoformat()}", None, TODAY, tz)
    assert result.tzinfo is tz
    assert result.date() >= TODAY
    if result.time() != wall:  # only a spring-forward gap moves the wall clock
        assert result.dst() and timedelta(0) < datetime.combine(result.date(), result.time()) - datetime.combine(result.date(), wall) <= timedelta(hours=1)


# --------------------------------------------------------------------------
# normalize_phone
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, region, expected",
    [
        ("(415) 555-0123", "US", "+14155550123"),
        ("415.555.0123", "US", "+14155550123"),
        ("415 555 0123", "US", "+14155550123"),
        ("1-415-555-0123", "US", "+14155550123"),
        ("+1 415 555 0123", "US", "+14155550123"),
        ("+14155550123", "US", "+14155550123"),
        ("(555) 123-4567", "US", "+15551234567"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("4155550123", "us", "+14155550123"),
        ("4155550123", "", "+14155550123"),
    ],
)
def test_normalize_phone(text, region, expected):
    assert normalize_phone(text, region) == expected


def test_normalize_phone_defaults_to_us():
    assert normalize_phone("(415) 555-0123") == "+14155550123"


@pytest.mark.parametrize("text", ["12", "555", "555-0123", "hello", "+1 415 555 01234567", "+999 1234567"])
def test_normalize_phone_refuses_impossible_numbers(text):
    with pytest.raises(NormalizationError) as caught:
        normalize_phone(text, "US")
    assert caught.value.field == "patientPhone"
    assert "phone number" in caught.value.reask


@pytest.mark.parametrize("text", ["", "   ", None])
def test_missing_phone_asks_again(text):
    with pytest.raises(NormalizationError) as caught:
        normalize_phone(text, "US")
    assert caught.value.field == "patientPhone"
    assert caught.value.reask == "I didn't catch the phone number — could you say it again?"


@given(st.text(max_size=30))
def test_normalize_phone_returns_e164_or_reasks(text):
    try:
        result = normalize_phone(text, "US")
    except NormalizationError as error:
        assert error.field == "patientPhone"
    else:
        assert re.fullmatch(r"\+[1-9][0-9]{6,14}", result)


@pytest.mark.parametrize(
    "e164, expected",
    [
        ("+14155550123", "+1******0123"),
        ("+442079460958", "+44******0958"),
        ("123", "***"),
        ("", "***"),
        (None, "***"),
    ],
)
def test_mask_phone(e164, expected):
    assert mask_phone(e164) == expected


# --------------------------------------------------------------------------
# normalize_name
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("John Doe", "John Doe"),
        ("  John   Doe ", "John Doe"),
        ("JOHN DOE", "John Doe"),
        ("john doe", "John Doe"),
        ("mary o'brien", "Mary O'Brien"),
        ("MARY O'BRIEN", "Mary O'Brien"),
        ("jean-luc picard", "Jean-Luc Picard"),
        ("Ronald McDonald", "Ronald McDonald"),
        ("Anna van der Berg", "Anna van der Berg"),
        ("Seán O'Brien", "Seán O'Brien"),
        ("SEÁN O'BRIEN", "Seán O'Brien"),
        ("Cher", "Cher"),
        ("x" * 120, "X" * 1 + "x" * 119),
    ],
)
def test_normalize_name(text, expected):
    assert normalize_name(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "Unknown", "n/a", "123", None, 42])
def test_missing_name_asks_again(text):
    with pytest.raises(NormalizationError) as caught:
        normalize_name(text)
    assert caught.value.field == "patientName"
    assert "name" in caught.value.reask


def test_absurdly_long_name_asks_again():
    with pytest.raises(NormalizationError) as caught:
        normalize_name("Bob " * 40)
    assert caught.value.field == "patientName"
    assert "name" in caught.value.reask


# --------------------------------------------------------------------------
# normalize_email
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("john@example.com", "john@example.com"),
        ("  John.Doe@Example.COM ", "john.doe@example.com"),
        ("jane+clinic@mail.example.co.uk", "jane+clinic@mail.example.co.uk"),
        ("john at example dot com", "john@example.com"),
        ("john dot doe at example dot com", "john.doe@example.com"),
        (None, None),
        ("", None),
        ("   ", None),
        (42, None),
    ],
)
def test_normalize_email(text, expected):
    assert normalize_email(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "johnexample.com",
        "john@example",
        "john@@example.com",
        "jo hn@example.com",
        "john@exa mple.com",
        "john@.com",
        "john@example..com",
        ".john@example.com",
        "john@",
    ],
)
def test_invalid_email_is_dropped_with_a_masked_warning(text, caplog):
    with caplog.at_level(logging.WARNING, logger="api.normalize"):
        assert normalize_email(text) is None
    assert len(caplog.records) == 1
    assert caplog.records[0].levelno == logging.WARNING
    assert text.lower() not in caplog.text
    assert "***" in caplog.text


def test_email_warning_keeps_the_domain_only(caplog):
    with caplog.at_level(logging.WARNING, logger="api.normalize"):
        normalize_email("johnsmith@example")
    assert "j***@example" in caplog.text
    assert "johnsmith" not in caplog.text


@pytest.mark.parametrize(
    "email, expected",
    [
        ("john@example.com", "j***@example.com"),
        ("j@example.com", "j***@example.com"),
        ("nodomain", "n***"),
        ("", "***"),
    ],
)
def test_mask_email(email, expected):
    assert mask_email(email) == expected


# --------------------------------------------------------------------------
# normalize_booking
# --------------------------------------------------------------------------

GOOD_ARGUMENTS = {
    "patientName": "JOHN DOE",
    "patientPhone": "(415) 555-0123",
    "patientEmail": "John@Example.com",
    "serviceType": "  Consultation ",
    "appointmentDate": "2024-12-25",
    "appointmentTime": "2:30 PM",
}


def booking(arguments, **overrides):
    options = {"today": TODAY, "tz": NEW_YORK, "region": "US"} | overrides
    return normalize_booking(arguments, **options)


def test_normalize_booking():
    assert booking(GOOD_ARGUMENTS) == BookingRequest(
        name="John Doe",
        phone="+14155550123",
        email="john@example.com",
        service="Consultation",
        scheduled_at=datetime(2026, 12, 25, 14, 30, tzinfo=NEW_YORK),
    )


def test_booking_request_is_frozen():
    request = booking(GOOD_ARGUMENTS)
    with pytest.raises(AttributeError):
        request.name = "Someone Else"


def test_booking_with_only_required_fields():
    arguments = {
        "patientName": "Ana",
        "patientPhone": "+44 20 7946 0958",
        "appointmentDate": "2027-01-20T14:00:00Z",
    }
    result = booking(arguments)
    assert result.email is None
    assert result.service is None
    assert result.phone == "+442079460958"
    assert result.scheduled_at == datetime(2027, 1, 20, 9, 0, tzinfo=NEW_YORK)


@pytest.mark.parametrize("spoken_phone", ["", "  ", None, []])
def test_booking_falls_back_to_the_caller_phone(spoken_phone):
    arguments = GOOD_ARGUMENTS | {"patientPhone": spoken_phone}
    assert booking(arguments, caller_phone="+1 415 555 9999").phone == "+14155559999"


def test_booking_falls_back_to_the_caller_phone_when_the_key_is_absent():
    arguments = {k: v for k, v in GOOD_ARGUMENTS.items() if k != "patientPhone"}
    assert booking(arguments, caller_phone="+14155559999").phone == "+14155559999"


def test_booking_prefers_the_spoken_phone_over_the_caller_phone():
    result = booking(GOOD_ARGUMENTS, caller_phone="+14155559999")
    assert result.phone == "+14155550123"


def test_booking_accepts_numbers_for_text_fields():
    result = booking(GOOD_ARGUMENTS | {"patientPhone": 4155550123, "appointmentTime": 9})
    assert result.phone == "+14155550123"
    assert result.scheduled_at == datetime(2026, 12, 25, 9, 0, tzinfo=NEW_YORK)


def test_invalid_email_does_not_block_a_booking():
    assert booking(GOOD_ARGUMENTS | {"patientEmail": "not an email"}).email is None


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"patientName": None, "patientPhone": None, "appointmentDate": None}, "patientName"),
        ({"patientName": ""}, "patientName"),
        ({"patientName": ["John"]}, "patientName"),
        ({"patientPhone": None, "appointmentDate": None}, "patientPhone"),
        ({"patientPhone": "12"}, "patientPhone"),
        ({"patientPhone": True}, "patientPhone"),
        ({"appointmentDate": None, "appointmentTime": None}, "appointmentDate"),
        ({"appointmentDate": "someday"}, "appointmentDate"),
        ({"appointmentDate": {"day": 20}}, "appointmentDate"),
        ({"appointmentTime": None}, "appointmentTime"),
        ({"appointmentTime": "whenever"}, "appointmentTime"),
        ({"appointmentTime": [14]}, "appointmentTime"),
    ],
)
def test_booking_reasks_the_first_bad_field(changes, field):
    with pytest.raises(NormalizationError) as caught:
        booking(GOOD_ARGUMENTS | changes)
    assert caught.value.field == field


@pytest.mark.parametrize("arguments", [{}, None, [], "patientName=John"])
def test_empty_arguments_ask_for_the_name_first(arguments):
    with pytest.raises(NormalizationError) as caught:
        booking(arguments)
    assert caught.value.field == "patientName"


@pytest.mark.parametrize(
    "field, words",
    [
        ("patientName", "name"),
        ("patientPhone", "phone number"),
        ("appointmentDate", "date"),
        ("appointmentTime", "time"),
    ],
)
def test_reask_names_the_missing_thing(field, words):
    with pytest.raises(NormalizationError) as caught:
        booking(GOOD_ARGUMENTS | {field: None})
    error = caught.value
    assert error.field == field
    assert words in error.reask
    assert "\n" not in error.reask
    assert all(ch.isascii() or ch == "—" for ch in error.reask)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)
argument_names = st.sampled_from(
    ["appointmentDate", "appointmentTime", "patientName", "patientPhone", "patientEmail", "serviceType",
     "patientDateOfBirth"]
)


@given(st.dictionaries(argument_names, json_values), st.none() | st.text(max_size=20))
def test_booking_only_ever_raises_normalization_error(arguments, caller_phone):
    try:
        result = booking(arguments, caller_phone=caller_phone)
    except NormalizationError as error:
        assert error.field in {"patientName", "patientPhone", "appointmentDate", "appointmentTime",
                               "patientDateOfBirth"}
        assert error.reask
    else:
        assert result.scheduled_at.tzinfo is NEW_YORK
        assert result.scheduled_at.date() >= TODAY
        assert re.fullmatch(r"\+[1-9][0-9]{6,14}", result.phone)


# --------------------------------------------------------------------------
# normalize_birth_date
# --------------------------------------------------------------------------

from api.normalize import (  # noqa: E402
    MAX_AGE_YEARS,
    REASK_DOB_INVALID,
    REASK_DOB_OUT_OF_RANGE,
    DayHint,
    names_own_number,
    normalize_birth_date,
    normalize_day_hint,
    normalize_time_hint,
)


@pytest.mark.parametrize(
    "text",
    [
        "March 5th, 1980",
        "march 5 1980",
        "Mar 5, '80",
        "5 March 1980",
        "5th of March, 1980",
        "the fifth of March nineteen eighty",
        "March fifth eighty",
        "March the fifth, nineteen eighty",
        "march five nineteen eighty",
        "03/05/1980",  # US: month first
        "3-5-80",
        "03.05.1980",
        "1980-03-05",
        "1980/3/5",
        "1980-03-05T00:00:00Z",
        "1980 March 5th",
        "born on the 5th of March 1980",
        "  MARCH   5TH ,  1980 ",
    ],
)
def test_birth_date_in_the_ways_people_say_it(text):
    assert normalize_birth_date(text, TODAY, "US") == date(1980, 3, 5)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("March twenty-first, two thousand and five", date(2005, 3, 21)),
        ("March 21st two thousand five", date(2005, 3, 21)),
        ("July 4th, twenty twelve", date(2012, 7, 4)),
        ("December 24th, nineteen oh nine", date(1909, 12, 24)),
        ("the thirtieth of June nineteen ninety-nine", date(1999, 6, 30)),
        ("June thirty, nineteen ninety nine", date(1999, 6, 30)),
        ("January first nineteen hundred and ten", date(1910, 1, 1)),
        ("Sept 9 1999", date(1999, 9, 9)),
        ("February 29, 2000", date(2000, 2, 29)),
        ("25/12/1980", date(1980, 12, 25)),  # only day first is a date, even in the US
    ],
)
def test_birth_date_spoken_years_and_ordinals(text, expected):
    assert normalize_birth_date(text, TODAY, "US") == expected


def test_numeric_birth_dates_are_day_first_outside_the_us():
    assert normalize_birth_date("03/05/1980", TODAY, "GB") == date(1980, 5, 3)
    assert normalize_birth_date("03/05/1980", TODAY, "DE") == date(1980, 5, 3)
    assert normalize_birth_date("03/05/1980", TODAY, "US") == date(1980, 3, 5)
    assert normalize_birth_date("12/25/1980", TODAY, "GB") == date(1980, 12, 25)  # only one reading
    # Spelled-out months and ISO dates mean the same everywhere.
    assert normalize_birth_date("5 March 1980", TODAY, "GB") == date(1980, 3, 5)
    assert normalize_birth_date("1980-03-05", TODAY, "AU") == date(1980, 3, 5)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("03/05/80", date(1980, 3, 5)),
        ("3/5/26", date(2026, 3, 5)),  # earlier this year: a baby
        ("12/24/26", date(1926, 12, 24)),  # later this year is the future: a century ago
        ("3/5/30", date(1930, 3, 5)),
        ("3/5/00", date(2000, 3, 5)),
        ("March fifth twenty", date(2020, 3, 5)),
        ("March 5 '99", date(1999, 3, 5)),
    ],
)
def test_two_digit_years_are_the_latest_past_date(text, expected):
    # TODAY is 2026-11-25: a two-digit year never makes the person older than 99 or unborn.
    assert normalize_birth_date(text, TODAY, "US") == expected


def test_a_birth_date_is_never_rolled_forward():
    # An appointment date before today moves to next year; a birth date stays where it is.
    assert normalize_birth_date("November 24th, 2026", TODAY) == date(2026, 11, 24)
    assert normalize_birth_date("November 25th, 2026", TODAY) == TODAY  # born today
    assert normalize_birth_date("1990-11-26", TODAY) == date(1990, 11, 26)


@pytest.mark.parametrize(
    "text, reask",
    [
        ("November 26th, 2026", REASK_DOB_OUT_OF_RANGE),  # tomorrow
        ("2030-01-01", REASK_DOB_OUT_OF_RANGE),
        ("November 24th, 1906", REASK_DOB_OUT_OF_RANGE),  # 120 years and a day
        ("0980-03-05", REASK_DOB_OUT_OF_RANGE),
        ("March 5th", REASK_DOB_INVALID),  # no year: never guessed
        ("March 1980", REASK_DOB_INVALID),  # no day
        ("1980", REASK_DOB_INVALID),
        ("February 30, 1980", REASK_DOB_INVALID),
        ("February 29, 1981", REASK_DOB_INVALID),
        ("13/13/1980", REASK_DOB_INVALID),
        ("March 5th 1980 or maybe 1981", REASK_DOB_INVALID),
        ("March April 5 1980", REASK_DOB_INVALID),
        ("last Tuesday", REASK_DOB_INVALID),
        ("", REASK_DOB_INVALID),
        ("   ", REASK_DOB_INVALID),
        (None, REASK_DOB_INVALID),
        ("5" * 500, REASK_DOB_INVALID),
    ],
)
def test_unusable_birth_dates_are_re_asked_by_name_without_repeating_them(text, reask):
    with pytest.raises(NormalizationError) as caught:
        normalize_birth_date(text, TODAY)
    assert caught.value.field == "patientDateOfBirth"
    assert caught.value.reask == reask
    assert "date of birth" in reask and not re.search(r"19[0-9]{2}|20[0-9]{2}|0980", reask.replace("1980", ""))


def test_the_oldest_birth_date_accepted_is_120_years_ago_today():
    oldest = date(TODAY.year - MAX_AGE_YEARS, TODAY.month, TODAY.day)
    assert normalize_birth_date(oldest.isoformat(), TODAY) == oldest


@given(st.text(max_size=60), st.sampled_from(["US", "GB", "XX"]), st.dates(date(2000, 1, 1), date(2100, 1, 1)))
def test_birth_date_only_ever_raises_normalization_error(text, region, today):
    try:
        born = normalize_birth_date(text, today, region)
    except NormalizationError as error:
        assert error.field == "patientDateOfBirth"
    else:
        assert date(today.year - MAX_AGE_YEARS, 1, 1) <= born <= today


@given(st.dates(date(1907, 1, 1), TODAY), st.sampled_from(["%B %d, %Y", "%d %B %Y", "%Y-%m-%d", "%b %d %Y"]))
def test_any_written_birth_date_round_trips(born, fmt):
    assert normalize_birth_date(born.strftime(fmt), TODAY, "US") == born


def test_booking_takes_an_optional_birth_date():
    assert booking(GOOD_ARGUMENTS).date_of_birth is None
    assert booking(GOOD_ARGUMENTS | {"patientDateOfBirth": "March 5th, 1980"}).date_of_birth == date(1980, 3, 5)
    assert booking(GOOD_ARGUMENTS | {"patientDateOfBirth": "  "}).date_of_birth is None
    with pytest.raises(NormalizationError) as caught:
        booking(GOOD_ARGUMENTS | {"patientDateOfBirth": "next year"})
    assert caught.value.field == "patientDateOfBirth"


# --------------------------------------------------------------------------
# Which appointment, and "the number I'm calling from"
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("the Tuesday one", DayHint(weekday=2)),  # TODAY is a Wednesday: 0 = Sunday
        ("Tuesday", DayHint(weekday=2)),
        ("on tues", DayHint(weekday=2)),
        ("the Sunday appointment", DayHint(weekday=0)),
        ("Saturdays", DayHint(weekday=6)),
        ("December 8th", DayHint(date=date(2026, 12, 8))),
        ("next Tuesday", DayHint(date=date(2026, 12, 1))),
        ("tomorrow", DayHint(date=date(2026, 11, 26))),
        ("2026-12-08", DayHint(date=date(2026, 12, 8))),
    ],
)
def test_day_hints_keep_a_bare_weekday_as_a_weekday(text, expected):
    assert normalize_day_hint(text, TODAY) == expected


def test_hints_that_cannot_be_read_are_re_asked_under_their_own_argument():
    with pytest.raises(NormalizationError) as caught:
        normalize_day_hint("someday", TODAY, field="currentDate")
    assert caught.value.field == "currentDate" and "booked for" in caught.value.reask
    with pytest.raises(NormalizationError) as caught:
        normalize_time_hint("whenever", field="currentTime")
    assert caught.value.field == "currentTime" and "booked for" in caught.value.reask
    assert normalize_time_hint("2pm") == time(14, 0)


@pytest.mark.parametrize(
    "text, own",
    [
        ("the number I'm calling from", True),
        ("this number", True),
        ("this phone number", True),
        ("same number", True),
        ("my number", True),
        ("my cell phone", True),
        ("use my caller ID", True),
        ("(415) 555-0123", False),
        ("my number is 415 555 0123", False),
        ("", False),
        (None, False),
    ],
)
def test_words_for_the_callers_own_number(text, own):
    assert names_own_number(text) is own


def test_booking_with_words_for_the_callers_own_number_uses_the_caller_id():
    arguments = GOOD_ARGUMENTS | {"patientPhone": "the number I'm calling from"}
    assert booking(arguments, caller_phone="+14155559999").phone == "+14155559999"
