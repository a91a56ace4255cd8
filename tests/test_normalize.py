import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from hypothesis import assume, given, strategies as st

from api import normalize, speech
from api.normalize import (
    BookingRequest,
    NormalizationError,
    OpeningHours,
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


def opening_hours(opens: str, closes: str, weekdays=range(7)) -> OpeningHours:
    """Hours as get_org_profile reports them: the same interval on each of `weekdays` (0 = Sunday)."""
    return OpeningHours.from_profile([{"weekday": day, "opensAt": opens, "closesAt": closes} for day in weekdays])


DAYTIME = opening_hours("08:00", "17:00")  # every day: an hour without AM/PM is read in it


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
        ("Wednesday, January 20th", date(2027, 1, 20)),  # a weekday that agrees with the date
        ("tomorrow", date(2026, 11, 26)),
        ("Tomorrow", date(2026, 11, 26)),
        ("today", date(2026, 11, 25)),
        ("day after tomorrow", date(2026, 11, 27)),
        # Stale years move to the next occurrence that isn't in the past.
        ("2024-12-25", date(2026, 12, 25)),
        ("2024-01-20", date(2027, 1, 20)),
        ("2025-11-25", date(2026, 11, 25)),
        ("2026-10-25", date(2027, 10, 25)),  # 31 days ago: next year's (30 days: passed, below)
        ("11/25", date(2026, 11, 25)),
        ("October 25", date(2027, 10, 25)),
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
        ("next weds", date(2026, 12, 2)),  # as transcribed
        ("Thurs", date(2026, 11, 26)),
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
        ("January 31st", date(2032, 1, 31)),  # 31 days before OTHER_TODAY
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
    assert caught.value.reask in ("appointment_date_missing", "appointment_date_invalid")


NEGATIVE_OFFSETS = ["in -3 days", "in minus three days", "-2 weeks", "in -1 day", "minus 2 days", "in - 3 days",
                    "in \u22123 days", "in negative three days", "-1 week from today", "in -a week", "in minus a fortnight",
                    "Minus Two Weeks", "in -2 months", "-3 days from now"]


@pytest.mark.parametrize("text", NEGATIVE_OFFSETS)
def test_a_negative_offset_is_asked_again_never_read_without_its_sign(text):
    for read in (lambda: normalize_date(text, TODAY), lambda: normalize_date(text, TODAY, searching=True),
                 lambda: normalize_datetime(text, "10am", TODAY, NEW_YORK, hours=DAYTIME),
                 lambda: normalize.normalize_availability(text, None, TODAY, NEW_YORK, hours=DAYTIME)):
        with pytest.raises(NormalizationError) as caught:
            read()
        assert (caught.value.field, caught.value.reask) == ("appointmentDate", "appointment_date_invalid"), text


@pytest.mark.parametrize("text,expected", [("in 3 days", date(2026, 11, 28)), ("12-3", date(2026, 12, 3)),
                                           ("2026-12-03", date(2026, 12, 3)), ("12-3-26", date(2026, 12, 3)),
                                           ("3 - 4 weeks", None)])
def test_dashes_that_are_no_minus_sign_still_read(text, expected):
    if expected is None:  # a range of weeks is no day either way; it is not read as a past one
        with pytest.raises(NormalizationError):
            normalize_date(text, TODAY)
        return
    assert normalize_date(text, TODAY) == expected


def passed_lately(value: date, today: date) -> date | None:
    """The last occurrence of value's month/day on or before today, if within the last 30 days
    (computed here by walking back day by day, not as normalize does)."""
    for back in range(0, 31):
        day = today - timedelta(days=back) if back <= (today - date.min).days else None
        if day is not None and (day.month, day.day) == (value.month, value.day):
            return day
    return None


@given(st.dates(), st.dates())
def test_normalized_date_is_never_in_the_past(value, today):
    # A date before today is its month/day's next occurrence, unless that month/day fell within
    # the last 30 days: then the caller is told it has passed.
    recent = passed_lately(value, today) if value < today else None
    if recent is not None and recent < today:
        with pytest.raises(NormalizationError) as caught:
            normalize_date(value.isoformat(), today)
        assert (caught.value.reask, caught.value.choices) == ("appointment_date_passed", (recent,))
        return
    result = normalize_date(value.isoformat(), today)
    assert result >= today
    assert (result.month, result.day) == (value.month, value.day)
    if value >= today:
        assert result == value


@pytest.mark.parametrize("text, today, passed", [
    ("December 29th", date(2027, 1, 3), date(2026, 12, 29)),  # across New Year: passed, not next December
    ("Dec 15", date(2027, 1, 4), date(2026, 12, 15)),
    ("12/31", date(2027, 1, 1), date(2026, 12, 31)),
    ("November 29th", date(2026, 11, 30), date(2026, 11, 29)),
])
def test_a_month_and_day_that_just_passed_is_passed_across_new_year(text, today, passed):
    with pytest.raises(NormalizationError) as caught:
        normalize_date(text, today)
    assert (caught.value.reask, caught.value.choices) == ("appointment_date_passed", (passed,))


@pytest.mark.parametrize("text, today, expected", [
    ("December 5th", date(2027, 1, 5), date(2027, 12, 5)),  # 31 days ago: next December
    ("2026-12-29", date(2026, 12, 1), date(2026, 12, 29)),  # an explicit year ahead is as said
    ("January 3rd", date(2026, 12, 20), date(2027, 1, 3)),
])
def test_a_month_and_day_not_recently_passed_is_its_next_occurrence(text, today, expected):
    assert normalize_date(text, today) == expected


# --------------------------------------------------------------------------
# normalize_time
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("14:00", time(14, 0)),
        ("14:00:00", time(14, 0)),
        ("09:30 am", time(9, 30)),
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
        ("9am", time(9, 0)),
        ("12", time(12, 0)),  # without AM/PM, 12 is noon as on a 24-hour clock
        ("12:30", time(12, 30)),
        ("0:30", time(0, 30)),
        ("7pm", time(19, 0)),
        ("7 in the morning", time(7, 0)),
        ("8am", time(8, 0)),
        ("half past two pm", time(14, 30)),
        ("quarter to three in the afternoon", time(14, 45)),
        ("3 in the afternoon", time(15, 0)),
        ("at 10am", time(10, 0)),
        ("2026-01-20T14:00:00Z", time(14, 0)),  # wall clock as written
        ("2026-01-20T08:00:00Z", time(8, 0)),  # a machine timestamp is a 24-hour clock time
        ("08:00:00", time(8, 0)),
        ("14:00Z", time(14, 0)),
        # minutes past / to an hour, UK "half two", run-together digits, filler around the time
        ("twenty past two pm", time(14, 20)), ("ten to 4pm", time(15, 50)), ("five past 10 am", time(10, 5)),
        ("twenty-five to three pm", time(14, 35)), ("quarter after 2pm", time(14, 15)),
        ("quarter of 3 pm", time(14, 45)), ("25 past 9am", time(9, 25)), ("10 minutes to 3pm", time(14, 50)),
        ("half two pm", time(14, 30)), ("half 9 am", time(9, 30)), ("1400", time(14, 0)), ("0930", time(9, 30)),
        ("1030am", time(10, 30)), ("10 30 am", time(10, 30)), ("930am", time(9, 30)), ("2:00pm please", time(14, 0)),
        ("10am sharp", time(10, 0)), ("10 am on the dot", time(10, 0)), ("2pm-ish", time(14, 0)),
        ("um, at 2pm, please", time(14, 0)), ("exactly 3pm", time(15, 0)), ("14:00 thanks", time(14, 0)),
        ("2 PM local time", time(14, 0)), ("noon please", time(12, 0)), ("quarter past 2pm", time(14, 15)),
    ],
)
def test_normalize_time(text, expected):
    # None of these needs the opening hours: not even a closed day changes them.
    assert normalize_time(text) == expected
    assert normalize_time(text, DAYTIME, 1) == expected


@pytest.mark.parametrize(
    "text", ["", "  ", "soon", "25:00", "14:75", "13am", "123", "2460", "10 75", "half", "half to 3", "9:75",
             "2 o'clock tomorrow week", None, 14]
)
def test_normalize_time_refuses_garbage(text):
    with pytest.raises(NormalizationError) as caught:
        normalize_time(text, DAYTIME, 1)
    assert caught.value.field == "appointmentTime"
    assert caught.value.reask in ("appointment_time_missing", "appointment_time_invalid")


@given(st.integers(13, 23), st.integers(0, 59))
def test_24_hour_times_are_taken_literally(hour, minute):
    assert normalize_time(f"{hour}:{minute:02d}") == time(hour, minute)


# An hour said without AM/PM is read in that day's opening hours (SQL's, from the clinic profile).
OPEN_8_TO_17 = opening_hours("08:00", "17:00", weekdays=range(1, 6))  # Mon–Fri, closed at weekends
OPEN_7_TO_20 = opening_hours("07:00", "20:00", weekdays=range(1, 6))
SPLIT_DAY = OpeningHours.from_profile([  # Monday 09:00–12:00 and 13:00–17:00, like the seed's Sunrise
    {"weekday": 1, "opensAt": "09:00", "closesAt": "12:00"},
    {"weekday": 1, "opensAt": "13:00", "closesAt": "17:00"}])
MONDAY, SATURDAY = 1, 6


@pytest.mark.parametrize(
    "text, hours, weekday, expected",
    [
        ("2", OPEN_8_TO_17, MONDAY, time(14, 0)),
        ("9", OPEN_8_TO_17, MONDAY, time(9, 0)),
        ("two o'clock", OPEN_8_TO_17, MONDAY, time(14, 0)),
        ("half past two", OPEN_8_TO_17, MONDAY, time(14, 30)),
        ("quarter to three", OPEN_8_TO_17, MONDAY, time(14, 45)),
        ("quarter past nine", OPEN_8_TO_17, MONDAY, time(9, 15)),
        ("ten o'clock", OPEN_8_TO_17, MONDAY, time(10, 0)),
        ("4:30", OPEN_8_TO_17, MONDAY, time(16, 30)),
        ("02:00", OPEN_8_TO_17, MONDAY, time(14, 0)),  # a model's 2 o'clock
        # A leading zero is a 24-hour clock: the morning, unless only the afternoon is in the hours.
        ("08:00", OPEN_7_TO_20, MONDAY, time(8, 0)),
        ("07:30", OPEN_7_TO_20, MONDAY, time(7, 30)),
        ("02:00", OPEN_8_TO_17, SATURDAY, time(14, 0)),  # closed: read in the usual hours (SQL says closed)
        ("2", OPEN_8_TO_17, SATURDAY, time(14, 0)),
        ("half two", OPEN_8_TO_17, SATURDAY, time(14, 30)),
        ("02:00", opening_hours("00:00", "24:00"), MONDAY, time(2, 0)),
        ("5", OPEN_8_TO_17, MONDAY, time(17, 0)),  # the closing hour names the clinic's day
        ("1", SPLIT_DAY, MONDAY, time(13, 0)),
        ("11", SPLIT_DAY, MONDAY, time(11, 0)),
        ("12:30", SPLIT_DAY, MONDAY, time(12, 30)),  # noon, even in the lunch break: not ambiguous
        ("9", SPLIT_DAY, None, time(9, 0)),  # no day (an existing appointment's time): any open day
    ],
)
def test_an_hour_without_am_pm_is_the_reading_inside_that_days_hours(text, hours, weekday, expected):
    assert normalize_time(text, hours, weekday) == expected


@pytest.mark.parametrize(
    "text, hours, weekday, choices",
    [
        ("8", OPEN_7_TO_20, MONDAY, (time(8, 0), time(20, 0))),  # both inside
        ("7:30", OPEN_7_TO_20, MONDAY, (time(7, 30), time(19, 30))),
        ("2", OpeningHours(), None, (time(2, 0), time(14, 0))),  # no hours known
        ("2", None, MONDAY, (time(2, 0), time(14, 0))),
    ],
)
def test_an_hour_the_hours_do_not_settle_is_asked_about(text, hours, weekday, choices):
    with pytest.raises(NormalizationError) as caught:
        normalize_time(text, hours, weekday)
    assert (caught.value.field, caught.value.reask) == ("appointmentTime", "appointment_time_meridiem")
    assert caught.value.choices == choices


OPEN_9_TO_17 = opening_hours("09:00", "17:00")


@pytest.mark.parametrize(
    "text, hours, weekday, expected",
    [  # neither reading is open: the one nearer the hours, "5" and "5:30" alike (a tie: the afternoon)
        ("5:30", OPEN_9_TO_17, MONDAY, time(17, 30)),
        ("5:45", OPEN_9_TO_17, MONDAY, time(17, 45)),
        ("six", OPEN_9_TO_17, MONDAY, time(18, 0)),
        ("6", OPEN_9_TO_17, MONDAY, time(18, 0)),
        ("6:30", OPEN_9_TO_17, MONDAY, time(18, 30)),
        ("8:30", OPEN_9_TO_17, MONDAY, time(8, 30)),
        ("eight", OPEN_9_TO_17, MONDAY, time(8, 0)),
        ("half past eight", OPEN_9_TO_17, MONDAY, time(8, 30)),
        ("7", OPEN_9_TO_17, MONDAY, time(19, 0)),  # 2 hours either side
        ("6", OPEN_8_TO_17, MONDAY, time(18, 0)),
        ("1:30", SPLIT_DAY, MONDAY, time(13, 30)),  # the lunch break is nearer than the night
    ],
)
def test_an_hour_neither_reading_of_which_is_open_is_not_asked_about(text, hours, weekday, expected):
    assert normalize_time(text, hours, weekday) == expected


@pytest.mark.parametrize("role, expected", [("after", time(19, 15)), ("before", time(7, 15)), ("at", time(7, 15))])
def test_a_windows_bound_neither_reading_of_which_is_open_is_the_one_that_says_something(role, expected):
    assert normalize_time("7:15", OPEN_9_TO_17, MONDAY, role=role) == expected


def test_the_day_of_the_appointment_decides_not_today():
    # TODAY is a Wednesday (open 08:00-17:00); the booking is for Saturday, when the clinic is shut.
    # Saturdays are a night clinic (01:00-06:00): "2" on Friday is 2 PM, on Saturday 2 AM.
    hours = OpeningHours(opening_hours("08:00", "17:00", weekdays=range(1, 6)).intervals + ((6, 60, 360),))
    assert normalize_datetime("2026-11-27", "2", TODAY, NEW_YORK, hours=hours) == datetime(
        2026, 11, 27, 14, 0, tzinfo=NEW_YORK)
    assert normalize_datetime("2026-11-28", "2", TODAY, NEW_YORK, hours=hours) == datetime(
        2026, 11, 28, 2, 0, tzinfo=NEW_YORK)


@pytest.mark.parametrize(
    "rows",
    [None, [], "09:00-17:00", [{"weekday": 1}], [{"weekday": "1", "opensAt": "08:00", "closesAt": "17:00"}],
     [{"weekday": 9, "opensAt": "08:00", "closesAt": "17:00"}], [{"weekday": 1, "opensAt": 8, "closesAt": 17}],
     [{"weekday": 1, "opensAt": "8am", "closesAt": "5pm"}]],
)
def test_opening_hours_that_cannot_be_read_are_no_hours(rows):
    assert OpeningHours.from_profile(rows) == OpeningHours()


def test_opening_hours_read_as_the_profile_reports_them():
    hours = OpeningHours.from_profile([{"weekday": 0, "opensAt": "00:00", "closesAt": "24:00"},
                                       {"weekday": 1, "opensAt": "09:00", "closesAt": "12:30"}])
    assert hours.intervals == ((0, 0, 1440), (1, 540, 750))
    assert hours.covers(0, time(23, 59)) and hours.covers(1, time(12, 30)) and not hours.covers(1, time(12, 31))
    assert hours.covers(None, time(10)) and not hours.covers(2, time(10))


# --------------------------------------------------------------------------
# normalize_datetime
# --------------------------------------------------------------------------


def test_datetime_combines_date_and_time_in_the_clinic_zone():
    result = normalize_datetime("2027-01-20", "2pm", TODAY, NEW_YORK, hours=DAYTIME)
    assert result == datetime(2027, 1, 20, 14, 0, tzinfo=NEW_YORK)
    assert result.utcoffset() == timedelta(hours=-5)
    assert result.astimezone(UTC) == datetime(2027, 1, 20, 19, 0, tzinfo=UTC)


def test_iso_with_z_is_converted_to_the_clinic_zone():
    result = normalize_datetime("2027-01-20T19:00:00Z", None, TODAY, NEW_YORK, hours=DAYTIME)
    assert (result.date(), result.time()) == (date(2027, 1, 20), time(14, 0))
    assert result.tzinfo == NEW_YORK


def test_iso_conversion_can_change_the_local_date():
    result = normalize_datetime("2026-12-01T03:00:00Z", None, TODAY, NEW_YORK, hours=DAYTIME)
    assert (result.date(), result.time()) == (date(2026, 11, 30), time(22, 0))


def test_iso_with_offset_is_converted():
    result = normalize_datetime("2027-01-20T14:00:00-08:00", None, TODAY, NEW_YORK, hours=DAYTIME)
    assert (result.date(), result.time()) == (date(2027, 1, 20), time(17, 0))


def test_iso_without_offset_is_clinic_local():
    for text in ("2027-01-20T14:00:00", "2027-01-20 14:00"):
        result = normalize_datetime(text, None, TODAY, NEW_YORK, hours=DAYTIME)
        assert result == datetime(2027, 1, 20, 14, 0, tzinfo=NEW_YORK)


def test_stale_iso_datetime_keeps_its_time_and_moves_year():
    result = normalize_datetime("2024-12-25T15:30:00Z", None, TODAY, NEW_YORK, hours=DAYTIME)
    assert (result.date(), result.time()) == (date(2026, 12, 25), time(10, 30))


def test_time_text_overrides_the_embedded_time():
    result = normalize_datetime("2027-01-20T09:00:00", "3pm", TODAY, NEW_YORK, hours=DAYTIME)
    assert result == datetime(2027, 1, 20, 15, 0, tzinfo=NEW_YORK)


def test_iso_midnight_counts_as_a_date_only():
    result = normalize_datetime("2027-01-20T00:00:00Z", "2pm", TODAY, NEW_YORK, hours=DAYTIME)
    assert result == datetime(2027, 1, 20, 14, 0, tzinfo=NEW_YORK)
    with pytest.raises(NormalizationError) as caught:
        normalize_datetime("2027-01-20T00:00:00Z", None, TODAY, NEW_YORK, hours=DAYTIME)
    assert caught.value.field == "appointmentTime"


def test_weekday_and_time():
    result = normalize_datetime("next Tuesday", "10:30", TODAY, NEW_YORK, hours=DAYTIME)
    assert result == datetime(2026, 12, 1, 10, 30, tzinfo=NEW_YORK)


@pytest.mark.parametrize("time_text", [None, "", "   "])
def test_no_time_anywhere_asks_for_the_time(time_text):
    with pytest.raises(NormalizationError) as caught:
        normalize_datetime("2027-01-20", time_text, TODAY, NEW_YORK, hours=DAYTIME)
    assert (caught.value.field, caught.value.reask) == ("appointmentTime", "appointment_time_missing")


def test_dst_start_day_uses_daylight_offset():
    result = normalize_datetime("2027-03-14", "10:00", TODAY, NEW_YORK, hours=DAYTIME)
    assert result.astimezone(UTC) == datetime(2027, 3, 14, 14, 0, tzinfo=UTC)


def test_day_before_dst_uses_standard_offset():
    result = normalize_datetime("2027-03-13", "10:00", TODAY, NEW_YORK, hours=DAYTIME)
    assert result.astimezone(UTC) == datetime(2027, 3, 13, 15, 0, tzinfo=UTC)


def test_time_in_the_spring_forward_gap_moves_forward():
    result = normalize_datetime("2027-03-14", "2:30 am", TODAY, NEW_YORK, hours=DAYTIME)
    assert (result.date(), result.time()) == (date(2027, 3, 14), time(3, 30))
    assert result.utcoffset() == timedelta(hours=-4)
    assert result.astimezone(UTC) == datetime(2027, 3, 14, 7, 30, tzinfo=UTC)


def test_ambiguous_fall_back_time_is_the_first_occurrence():
    result = normalize_datetime("2027-11-07", "1:30 am", TODAY, NEW_YORK, hours=DAYTIME)
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
    assume(passed_lately(day, TODAY) in (None, TODAY) or day >= TODAY)  # the passed rule: above
    result = normalize_datetime(f"{day.isoformat()}T{wall.isoformat()}", None, TODAY, tz, hours=DAYTIME)
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


def is_canonical_e164(number: str) -> bool:
    """phonenumbers writes the number back unchanged in E.164 (whether SQL stores it is
    private.is_e164's call: test_formats_agree.py)."""
    return phonenumbers.format_number(phonenumbers.parse(number, None), phonenumbers.PhoneNumberFormat.E164) == number


@pytest.mark.parametrize("text", ["12", "555", "555-0123", "hello", "+1 415 555 01234567", "+999 1234567"])
def test_normalize_phone_refuses_impossible_numbers(text):
    with pytest.raises(NormalizationError) as caught:
        normalize_phone(text, "US")
    assert (caught.value.field, caught.value.reask) == ("patientPhone", "patient_phone_invalid")


@pytest.mark.parametrize("text", ["", "   ", None])
def test_missing_phone_asks_again(text):
    with pytest.raises(NormalizationError) as caught:
        normalize_phone(text, "US")
    assert caught.value.field == "patientPhone"
    assert caught.value.reask == "patient_phone_missing"


@given(st.text(max_size=30))
def test_normalize_phone_returns_e164_or_reasks(text):
    try:
        result = normalize_phone(text, "US")
    except NormalizationError as error:
        assert error.field == "patientPhone"
    else:
        assert is_canonical_e164(result)


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


@pytest.mark.parametrize(
    "text, expected",
    [  # generational suffixes keep their capitals; said in mixed case, the caller's own is kept
        ("john smith iii", "John Smith III"), ("ROBERT KING II", "Robert King II"), ("henry ford iv", "Henry Ford IV"),
        ("john smith jr", "John Smith Jr"), ("JOHN SMITH JR.", "John Smith Jr."), ("john smith sr.", "John Smith Sr."),
        ("martin luther king jr", "Martin Luther King Jr"), ("John Smith Iii", "John Smith Iii"),
        # particles after a first name stay lower case; a first word (Van Morrison) or a last one keeps its capital
        ("pieter van der berg", "Pieter van der Berg"), ("PIETER VAN DER BERG", "Pieter van der Berg"),
        ("maria von trapp", "Maria von Trapp"), ("ludwig von trapp", "Ludwig von Trapp"),
        ("joão da silva", "João da Silva"), ("maria da silva", "Maria da Silva"), ("ana dos santos", "Ana dos Santos"),
        ("jan ten boom", "Jan ten Boom"), ("van morrison", "Van Morrison"), ("von miller", "Von Miller"),
        ("mary van", "Mary Van"), ("MARIA DE LA CRUZ", "Maria De La Cruz"), ("maria del toro", "Maria Del Toro"),
        ("pieter van der berg iii", "Pieter van der Berg III"), ("Vincent van Gogh", "Vincent van Gogh"),
    ],
)
def test_name_suffixes_and_particles(text, expected):
    assert normalize_name(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "Unknown", "n/a", "123", None, 42])
def test_missing_name_asks_again(text):
    with pytest.raises(NormalizationError) as caught:
        normalize_name(text)
    assert (caught.value.field, caught.value.reask) == ("patientName", "patient_name_missing")


def test_absurdly_long_name_asks_again():
    with pytest.raises(NormalizationError) as caught:
        normalize_name("Bob " * 40)
    assert (caught.value.field, caught.value.reask) == ("patientName", "patient_name_too_long")


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
        ("john underscore smith at example dot com", "john_smith@example.com"),
        ("John Underscore Smith At Example Dot Com", "john_smith@example.com"),
        ("mary dash jane at example dot co dot uk", "mary-jane@example.co.uk"),
        ("mary hyphen jane at example dot org", "mary-jane@example.org"),
        ("jane plus clinic at example dot com", "jane+clinic@example.com"),
        ("j o h n at example dot com", "john@example.com"),  # spelled out
        ("J-O-H-N at gmail dot com", "john@gmail.com"),  # spelling as transcribed
        ("john 42 at example dot com", "john42@example.com"),
        ("pat at sign example period com", "pat@example.com"),
        ("john @ example.com", "john@example.com"),
        ("john@example dot com", "john@example.com"),
        ("matt@example.com", "matt@example.com"),  # a written "at" inside a word stays
        # Two plain words in a row could be johnsmith, john.smith, ...: the space stays and the
        # database drops the address rather than store an invented one.
        ("john smith at example dot com", "john smith@example.com"),
        # Written addresses are never judged here: the database decides what is stored.
        ("john_doe@my_clinic.com", "john_doe@my_clinic.com"),
        ("josé@example.com", "josé@example.com"),
        ("a@-example.com", "a@-example.com"),
        ("not an email", "not an email"),
        (None, None),
        ("", None),
        ("   ", None),
        (42, None),
        # a caller declining to give one: no address (nothing "dropped", nothing to apologise for)
        ("none", None), ("None.", None), ("no", None), ("no email", None), ("No e-mail, sorry", None),
        ("I don't have one", None), ("i dont have an email address", None), ("not sure", None),
        ("n/a", None), ("my email is none", None), ("nope", None),
        ("noah at example dot com", "noah@example.com"), ("none@example.com", "none@example.com"),
    ],
)
def test_normalize_email_only_writes_out_what_was_said(text, expected):
    assert normalize_email(text) == expected


@given(st.text(min_size=1, max_size=40).filter(str.strip))
def test_normalize_email_never_drops_an_address(text):
    # only blanks and a declined e-mail ("none", "no email") are None: plausibility is SQL's call
    said = " ".join(text.strip().lower().replace("’", "'").split())
    spoken = normalize._EMAIL_TAIL.sub("", normalize._EMAIL_LEAD_IN.sub("", said)) or said
    assert normalize_email(text) or normalize._EMAIL_DECLINED.match(said) or normalize._EMAIL_DECLINED.match(spoken)


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
    options = {"today": TODAY, "tz": NEW_YORK, "region": "US", "hours": DAYTIME} | overrides
    return normalize_booking(arguments, **options)


def test_normalize_booking():
    assert booking(GOOD_ARGUMENTS) == BookingRequest(
        patient_name="John Doe",
        phone="+14155550123",
        email="john@example.com",
        service="Consultation",
        scheduled_at=datetime(2026, 12, 25, 14, 30, tzinfo=NEW_YORK),
    )


def test_booking_request_is_frozen():
    request = booking(GOOD_ARGUMENTS)
    with pytest.raises(AttributeError):
        request.patient_name = "Someone Else"


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


def test_an_email_is_passed_on_for_the_database_to_judge_and_never_blocks_a_booking():
    for email in ("not an email", "john_doe@my_clinic.com", "josé@example.com"):
        assert booking(GOOD_ARGUMENTS | {"patientEmail": email}).email == email


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
    "field, code",
    [
        ("patientName", "patient_name_missing"),
        ("patientPhone", "patient_phone_missing"),
        ("appointmentDate", "appointment_date_missing"),
        ("appointmentTime", "appointment_time_missing"),
    ],
)
def test_reask_names_the_missing_thing(field, code):
    with pytest.raises(NormalizationError) as caught:
        booking(GOOD_ARGUMENTS | {field: None})
    assert (caught.value.field, caught.value.reask) == (field, code)


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
        assert is_canonical_e164(result.phone)


# --------------------------------------------------------------------------
# normalize_birth_date
# --------------------------------------------------------------------------

from api.normalize import (  # noqa: E402
    MAX_AGE_YEARS,
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
        ("November 26th, 2026", "date_of_birth_out_of_range"),  # tomorrow
        ("2030-01-01", "date_of_birth_out_of_range"),
        ("November 24th, 1906", "date_of_birth_out_of_range"),  # 120 years and a day
        ("0980-03-05", "date_of_birth_out_of_range"),
        ("March 5th", "date_of_birth_invalid"),  # no year: never guessed
        ("March 1980", "date_of_birth_invalid"),  # no day
        ("1980", "date_of_birth_invalid"),
        ("February 30, 1980", "date_of_birth_invalid"),
        ("February 29, 1981", "date_of_birth_invalid"),
        ("13/13/1980", "date_of_birth_invalid"),
        ("March 5th 1980 or maybe 1981", "date_of_birth_invalid"),
        ("March April 5 1980", "date_of_birth_invalid"),
        ("last Tuesday", "date_of_birth_invalid"),
        ("", "date_of_birth_invalid"),
        ("   ", "date_of_birth_invalid"),
        (None, "date_of_birth_invalid"),
        ("5" * 500, "date_of_birth_invalid"),
    ],
)
def test_unusable_birth_dates_are_re_asked_by_name_without_repeating_them(text, reask):
    with pytest.raises(NormalizationError) as caught:
        normalize_birth_date(text, TODAY)
    assert caught.value.field == "patientDateOfBirth"
    assert caught.value.reask == reask
    spoken = speech.reask(reask)  # the example in the question is the only year it says
    assert "date of birth" in spoken and not re.search(r"19[0-9]{2}|20[0-9]{2}|0980", spoken.replace("1980", ""))


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
    assert (caught.value.field, caught.value.reask) == ("currentDate", "booked_day_invalid")
    with pytest.raises(NormalizationError) as caught:
        normalize_time_hint("whenever", field="currentTime", hours=DAYTIME)
    assert (caught.value.field, caught.value.reask) == ("currentTime", "booked_time_invalid")
    assert normalize_time_hint("2pm", hours=DAYTIME) == time(14, 0)


def test_a_booked_time_without_am_pm_is_read_in_the_hours_too():
    weekdays_only = opening_hours("08:00", "17:00", weekdays=range(1, 6))
    assert normalize_time_hint("2", field="currentTime", hours=weekdays_only) == time(14, 0)  # any day
    assert normalize_time_hint("2", field="currentTime", hours=weekdays_only, weekday=2) == time(14, 0)
    # Sunday is closed: the usual hours say what "2" means (no appointment is at 2 AM either way)
    assert normalize_time_hint("2", field="currentTime", hours=weekdays_only, weekday=0) == time(14, 0)
    with pytest.raises(NormalizationError) as caught:  # no hours at all: the caller is asked
        normalize_time_hint("2", field="currentTime", hours=OpeningHours(), weekday=0)
    error = caught.value
    assert (error.field, error.reask, error.choices) == ("currentTime", "appointment_time_meridiem",
                                                         (time(2, 0), time(14, 0)))


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


# Weekends and weeks of a month (issue 11 §1's class: what a receptionist offers, not a re-ask)
@pytest.mark.parametrize("text,searching,expected", [
    ("next weekend", False, date(2026, 12, 12)),            # said on Monday 30 Nov: next week's Saturday
    ("the weekend after next", True, date(2026, 12, 19)),
    ("this coming weekend", False, date(2026, 12, 5)),
    ("the weekend", True, date(2026, 12, 5)),
    ("first week of February", True, date(2027, 2, 1)),
    ("the second week of January", True, date(2027, 1, 8)),
    ("last week of January", True, date(2027, 1, 25)),
    ("end of February", True, date(2027, 2, 22)),
    ("early March", True, date(2027, 3, 1)),
    ("mid January", True, date(2027, 1, 11)),
    ("the first week of December", True, date(2026, 12, 1)),
    ("end of November", True, date(2026, 11, 30)),       # the month is not over: from today
])
def test_weekends_and_weeks_of_a_month(text, searching, expected):
    assert normalize_date(text, today=date(2026, 11, 30), searching=searching) == expected


@pytest.mark.parametrize("text", ["first week of February", "end of March", "mid January"])
def test_a_week_of_a_month_is_asked_for_its_day_when_booking(text):
    with pytest.raises(NormalizationError) as caught:
        normalize_date(text, today=date(2026, 11, 30))
    assert caught.value.reask == "appointment_date_week" and caught.value.field == "appointmentDate"


@pytest.mark.parametrize(
    "text, expected",
    [  # a 9-5 day: the reading rule for the hour without AM/PM is the usual one
        ("half two", time(14, 30)), ("half nine", time(9, 30)), ("half three", time(15, 30)),
        ("ten to four", time(15, 50)), ("twenty past nine", time(9, 20)), ("five past 10", time(10, 5)),
        ("quarter after 2", time(14, 15)), ("quarter of 3", time(14, 45)), ("twenty to 11", time(10, 40)),
        ("2ish", time(14)), ("10-ish", time(10)), ("twoish", time(14)), ("two-ish", time(14)), ("about 2ish", time(14)),
        ("10 sharp", time(10)), ("10 on the dot", time(10)), ("10 o'clock sharp", time(10)), ("1030", time(10, 30)),
        ("10 30", time(10, 30)), ("230", time(14, 30)), ("2 45", time(14, 45)), ("1400", time(14)),
        ("3, please", time(15)), ("at 11 please", time(11)),
    ],
)
def test_a_booking_time_said_loosely(text, expected):
    assert normalize_time(text, OPEN_9_TO_17, MONDAY) == expected


@pytest.mark.parametrize(
    "text, tz, day, expected",
    [  # a zone said with the time: the clinic's (its wall clock then, or its zone family) is accepted
        ("2 PM EST", NEW_YORK, date(2027, 1, 20), time(14)),
        ("2 PM EST", NEW_YORK, date(2027, 7, 20), time(14)),  # "EST" said in summer: Eastern all the same
        ("2pm Eastern", NEW_YORK, date(2027, 7, 20), time(14)),
        ("2pm eastern time", NEW_YORK, date(2027, 7, 20), time(14)),
        ("2:30 ET", NEW_YORK, date(2027, 7, 20), time(14, 30)),
        ("10am pacific", ZoneInfo("America/Los_Angeles"), date(2027, 1, 20), time(10)),
        ("10am mountain time", ZoneInfo("America/Phoenix"), date(2027, 7, 20), time(10)),  # Arizona: MST
        ("3pm GMT", ZoneInfo("Europe/London"), date(2027, 1, 20), time(15)),
        ("3pm BST", ZoneInfo("Europe/London"), date(2027, 7, 20), time(15)),
    ],
)
def test_the_clinics_own_zone_said_with_the_time_is_accepted(text, tz, day, expected):
    assert normalize_time(text, OPEN_9_TO_17, MONDAY, tz=tz, day=day) == expected


@pytest.mark.parametrize(
    "text, tz, day",
    [
        ("2pm Pacific", NEW_YORK, date(2027, 1, 20)),
        ("2 PM CST", NEW_YORK, date(2027, 7, 20)),  # CDT's offset is EST's, but not New York's in July
        ("2pm eastern", ZoneInfo("America/Chicago"), date(2027, 7, 20)),
        ("11am GMT", NEW_YORK, date(2027, 1, 20)),
    ],
)
def test_another_zone_said_with_the_time_is_asked_about_not_converted(text, tz, day):
    with pytest.raises(NormalizationError) as caught:
        normalize_time(text, OPEN_9_TO_17, MONDAY, tz=tz, day=day)
    assert (caught.value.field, caught.value.reask) == ("appointmentTime", "appointment_time_zone")


def test_a_zone_said_through_normalize_datetime_is_checked_on_the_days_clock():
    assert normalize_datetime("2027-07-20", "2pm EST", TODAY, NEW_YORK, hours=OPEN_9_TO_17) == datetime(
        2027, 7, 20, 14, tzinfo=NEW_YORK)
    with pytest.raises(NormalizationError) as caught:
        normalize_datetime("2027-07-20", "2pm pacific", TODAY, NEW_YORK, hours=OPEN_9_TO_17)
    assert caught.value.reask == "appointment_time_zone"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("the first one", DayHint(ordinal=1)),
        ("the next one", DayHint(ordinal=1)),
        ("the second one", DayHint(ordinal=2)),
        ("the last one", DayHint(ordinal=-1)),
        ("the later one", DayHint(ordinal=-1)),
        ("the earlier appointment", DayHint(ordinal=1)),
        # the words beside the order go to SQL as said (p_which)
        ("the last flu shot", DayHint(ordinal=-1, which="flu shot")),
        ("the second consultation", DayHint(ordinal=2, which="consultation")),
        ("the first one with Nurse Kim", DayHint(ordinal=1, which="with nurse kim")),
        # days stay days; "the first" alone is the 1st of a month
        ("the first", DayHint(day_of_month=1)),
        ("the Tuesday one", DayHint(weekday=2)),
    ],
)
def test_which_appointment_by_its_order(text, expected):
    assert normalize_day_hint(text, TODAY) == expected


@pytest.mark.parametrize("text", ["someday", "next week", "later on", "the one next week", "I don't remember",
                                  "the flu shot", "the one with Nurse Kim"])  # the tool sends these as p_which
def test_words_that_are_no_day_and_no_order_are_the_days_re_ask(text):
    with pytest.raises(NormalizationError) as caught:
        normalize_day_hint(text, TODAY, field="appointmentDate")
    assert caught.value.reask == "booked_day_invalid"


def test_a_booked_time_said_as_a_part_of_the_day_an_order_or_with_wrapping_words():
    from api.normalize import ordinal_hint, part_of_day_hint
    assert part_of_day_hint("the morning one") == (None, time(12))
    assert part_of_day_hint("the afternoon appointment") == (time(12), time(17))
    assert part_of_day_hint("in the evening") == (time(17), None)
    assert part_of_day_hint("2pm") is None
    assert ordinal_hint("the later one") == -1 and ordinal_hint("the first one") == 1
    assert ordinal_hint("the first") is None and ordinal_hint("2pm") is None
    assert normalize_time_hint("the 2 o'clock one", hours=DAYTIME) == time(14, 0)
    assert normalize_time_hint("my 10:30 appointment", hours=DAYTIME) == time(10, 30)


@pytest.mark.parametrize("text, shift", [
    ("a week later", 7), ("one week later", 7), ("the week after", 7), ("the following week", 7),
    ("the day after", 1), ("the next day", 1), ("a day later", 1), ("two days earlier", -2),
    ("3 days later", 3), ("a couple of days later", 2), ("the day before", -1), ("same day", 0),
    ("Friday", None), ("next week", None), ("in a week", None), ("", None), (None, None),
])
def test_a_new_day_said_relative_to_the_booking(text, shift):
    from api.normalize import relative_day_shift
    assert relative_day_shift(text) == shift


@pytest.mark.parametrize("text, keep", [
    ("same time", True), ("the same time", True), ("at the same time", True), ("keep the time", True),
    ("same time please", True), ("2pm", False), ("the same day", False), ("", False), (None, False),
])
def test_a_new_time_said_as_the_bookings_own(text, keep):
    from api.normalize import keeps_booked_time
    assert keeps_booked_time(text) is keep


@pytest.mark.parametrize("text, minutes", [
    ("an hour later", 60), ("two hours earlier", -120), ("half an hour later", 30), ("15 minutes later", 15),
    ("30 minutes earlier", -30), ("push it back an hour", 60), ("bring it forward 30 minutes", -30),
    ("an hour and a half later", 90), ("move it up 45 minutes", -45), ("push it back by half an hour", 30),
    ("a couple of hours later", 120), ("make it an hour later", 60), ("one hour later than that", 60),
    ("twenty minutes sooner", -20), ("90 minutes later", 90), ("2 hours and 15 minutes later", 135),
    ("a quarter of an hour earlier", -15), ("Could you push it back a half hour?", 30),
    ("Bring it forward an hour, please", -60), ("forty-five minutes later", 45),
    # not a shift of the booked time: a clock time, no amount, no direction, a day, beyond 12 hours
    ("10am", None), ("later", None), ("an hour", None), ("back an hour", None), ("a day later", None),
    ("13 hours later", None), ("0 minutes later", None), ("same time", None), ("", None), (None, None),
])
def test_a_new_time_said_as_a_shift_of_the_booked_time(text, minutes):
    from api.normalize import relative_time_shift
    assert relative_time_shift(text) == minutes


@pytest.mark.parametrize("text, day", [
    ("the same time Tuesday", "tuesday"), ("Tuesday, same time", "tuesday"), ("same time on Friday", "friday"),
    ("next Monday at the same time", "next monday"), ("same time next week", "next week"),
    ("the same time on the 26th", "the 26th"),
    ("same time", None), ("Tuesday", None), ("the same day", None), ("", None), (None, None),
])
def test_a_new_day_said_with_the_booked_time(text, day):
    from api.normalize import day_with_same_time
    assert day_with_same_time(text) == day
