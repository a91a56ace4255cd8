"""The phrase classes of issue 11, checked as classes: dates, phone numbers, names and e-mail
addresses the way callers say them.

Expected values are computed here by walking the calendar day by day (or spelling digits out),
independently of how api.normalize reads them, over every weekday, every day of the month, every
month and several "todays"; the lists in the issue are examples of these classes.
"""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from api import speech
from api.normalize import (
    NormalizationError,
    OpeningHours,
    names_own_number,
    normalize_date,
    normalize_datetime,
    normalize_day_hint,
    normalize_email,
    normalize_name,
    normalize_phone,
    spoken_phone_digits,
)

TODAY = date(2026, 11, 25)  # a Wednesday
# One "today" on each weekday (Mon 2026-11-30 .. Sun 2026-12-06), plus month and year ends.
WEEK_OF_TODAYS = [date(2026, 11, 30) + timedelta(days=n) for n in range(7)]
TODAYS = WEEK_OF_TODAYS + [date(2026, 1, 31), date(2027, 2, 27), date(2028, 2, 29), date(2026, 12, 31)]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]  # Python's order
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
NEW_YORK = ZoneInfo("America/New_York")

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
         "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = {20: "twenty", 30: "thirty", 40: "forty", 50: "fifty", 60: "sixty"}
_ORDINAL_ONES = ["", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
                 "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
                 "seventeenth", "eighteenth", "nineteenth"]


def words(n: int) -> str:
    """2 -> two, 21 -> twenty-one (for 0..69)."""
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens * 10] + (f"-{_ONES[ones]}" if ones else "")


def ordinal_words(n: int) -> str:
    """3 -> third, 21 -> twenty-first, 30 -> thirtieth."""
    if n < 20:
        return _ORDINAL_ONES[n]
    tens, ones = divmod(n, 10)
    return (_TENS[tens * 10] + f"-{_ORDINAL_ONES[ones]}") if ones else _TENS[tens * 10][:-1] + "ieth"


def ordinal_digits(n: int) -> str:
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def days_from(today: date, count: int = 800):
    return (today + timedelta(days=n) for n in range(count))


def first_on_or_after(today: date, keep) -> date:
    return next(day for day in days_from(today) if keep(day))


def reask_of(text: str, today: date = TODAY, **kwargs) -> NormalizationError:
    with pytest.raises(NormalizationError) as caught:
        normalize_date(text, today, **kwargs)
    assert caught.value.field == "appointmentDate"
    return caught.value


# --------------------------------------------------------------------------
# Dates: the examples, said on Wednesday, November 25th, 2026
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("in two weeks", date(2026, 12, 9)),
        ("in 3 days", date(2026, 11, 28)),
        ("a week from today", date(2026, 12, 2)),
        ("a week from tomorrow", date(2026, 12, 3)),
        ("a week from Friday", date(2026, 12, 4)),
        ("the day after tomorrow", date(2026, 11, 27)),
        ("tomorrow", date(2026, 11, 26)),
        ("today", date(2026, 11, 25)),
        ("next week Wednesday", date(2026, 12, 2)),
        ("Wednesday next week", date(2026, 12, 2)),
        ("this coming Monday", date(2026, 11, 30)),
        ("this Monday", date(2026, 11, 30)),
        ("next Monday", date(2026, 11, 30)),
        ("end of next week", date(2026, 12, 4)),  # Friday: no hours given
        ("end of the week", date(2026, 11, 27)),
        ("the 3rd", date(2026, 12, 3)),
        ("the third", date(2026, 12, 3)),
        ("Thursday the 3rd", date(2026, 12, 3)),
        ("December third", date(2026, 12, 3)),
        ("third of December", date(2026, 12, 3)),
        ("Dec. 3rd", date(2026, 12, 3)),
        ("the thirty-first", date(2026, 12, 31)),
        ("12/3", date(2026, 12, 3)),
        ("2026-12-03", date(2026, 12, 3)),
        ("2024-12-03", date(2026, 12, 3)),  # an explicit stale year still rolls forward
        ("November 29th", date(2026, 11, 29)),
        # More of the same classes.
        ("in a fortnight", date(2026, 12, 9)),
        ("in two weeks' time", date(2026, 12, 9)),
        ("two weeks from now", date(2026, 12, 9)),
        ("a couple of weeks from today", date(2026, 12, 9)),
        ("in a month", date(2026, 12, 25)),
        ("a week on Friday", date(2026, 12, 4)),
        ("Friday week", date(2026, 12, 4)),  # British: a week on Friday
        ("two weeks tomorrow", date(2026, 12, 10)),
        ("a week from next Monday", date(2026, 12, 7)),
        ("a week from the 3rd", date(2026, 12, 10)),
        ("a week after December 3rd", date(2026, 12, 10)),
        ("a week from November 20th", date(2026, 11, 27)),  # an anchor may have passed
        ("Tuesday in two weeks", date(2026, 12, 8)),  # the Tuesday of the week two weeks from today
        ("in two weeks on Tuesday", date(2026, 12, 8)),
        ("Monday after next", date(2026, 12, 7)),
        ("the Monday after next", date(2026, 12, 7)),
        ("Monday the week after next", date(2026, 12, 7)),
        ("Friday this week", date(2026, 11, 27)),
        ("next week on Thursday", date(2026, 12, 3)),
        ("Thursday of next week", date(2026, 12, 3)),
        ("the end of this week", date(2026, 11, 27)),
        ("beginning of next week", date(2026, 11, 30)),
        ("early next week", date(2026, 11, 30)),
        ("middle of next week", date(2026, 12, 2)),
        ("midweek", date(2026, 11, 25)),  # this week's Wednesday is today
        ("later this week", date(2026, 11, 27)),
        ("this weekend", date(2026, 11, 28)),
        ("tonight", date(2026, 11, 25)),
        ("this afternoon", date(2026, 11, 25)),
        ("tomorrow morning", date(2026, 11, 26)),
        ("Monday afternoon", date(2026, 11, 30)),
        ("tmrw", date(2026, 11, 26)),
        ("on the 3rd", date(2026, 12, 3)),
        ("the 3rd of next month", date(2026, 12, 3)),
        ("the 25th", date(2026, 11, 25)),  # today is the 25th
        ("the 24th", date(2026, 12, 24)),
        ("the twenty-first", date(2026, 12, 21)),
        ("Thursday, the third", date(2026, 12, 3)),
        ("Thu 3rd", date(2026, 12, 3)),
        ("Thursday December 3rd", date(2026, 12, 3)),
        ("Thursday, 3 December 2026", date(2026, 12, 3)),
        ("December the third", date(2026, 12, 3)),
        ("the third of December", date(2026, 12, 3)),
        ("3 Dec", date(2026, 12, 3)),
        ("Dec 3", date(2026, 12, 3)),
        ("December 3rd, 2026", date(2026, 12, 3)),
        ("December third twenty twenty-six", date(2026, 12, 3)),
        ("December third, two thousand twenty-six", date(2026, 12, 3)),
        ("Dec 3 '26", date(2026, 12, 3)),
        ("12/3/2026", date(2026, 12, 3)),
        ("12/3/26", date(2026, 12, 3)),
        ("12-3", date(2026, 12, 3)),
        ("January twentieth", date(2027, 1, 20)),
        ("Sept 1st", date(2027, 9, 1)),
        ("tomorrow at 2pm", date(2026, 11, 26)),
        ("Friday, 10:30 am", date(2026, 11, 27)),
        ("December 3rd at 10", date(2026, 12, 3)),
        ("  THE DAY AFTER TOMORROW  ", date(2026, 11, 27)),
    ],
)
def test_dates_callers_say(text, expected):
    assert normalize_date(text, TODAY) == expected


@pytest.mark.parametrize(
    "text",
    ["", "banana", "next", "January", "20", "2027", "2pm", "Feb 30", "April 31st", "13/45/2027", "the 32nd",
     "a few days from now", "in a week or two", "sometime", "Thursday Friday",
     "the 3rd the 4th", "December", "in two", "weeks", "2027-02-29", "the 0th", "as soon as possible"],
)
def test_what_is_not_one_day_is_re_asked(text):
    assert reask_of(text).reask in ("appointment_date_missing", "appointment_date_invalid")


# --------------------------------------------------------------------------
# Offsets: "in N days / weeks", "N weeks from <day>"
# --------------------------------------------------------------------------


@pytest.mark.parametrize("today", TODAYS)
@pytest.mark.parametrize("count", [1, 2, 3, 5, 7, 10, 13, 14, 20, 21, 30, 45, 60])
def test_in_n_days_in_digits_and_words(today, count):
    expected = today + timedelta(days=count)
    for said in (f"in {count} days", f"in {words(count)} days", f"{words(count)} days from now",
                 f"{count} days from today", f"In {words(count).title()} Days"):
        assert normalize_date(said, today) == expected, said


@pytest.mark.parametrize("today", TODAYS)
@pytest.mark.parametrize("count", range(1, 13))
def test_in_n_weeks(today, count):
    expected = today + timedelta(weeks=count)
    for said in (f"in {count} weeks", f"in {words(count)} weeks", f"{words(count)} weeks from today",
                 f"in {words(count)} weeks' time"):
        assert normalize_date(said, today) == expected, said


@pytest.mark.parametrize("today", WEEK_OF_TODAYS)
@pytest.mark.parametrize("weekday", range(7))
def test_a_week_from_a_weekday(today, weekday):
    name = WEEKDAYS[weekday]
    anchor = first_on_or_after(today, lambda d: d.weekday() == weekday)  # "Friday": today if a Friday
    assert normalize_date(f"a week from {name}", today) == anchor + timedelta(weeks=1)
    assert normalize_date(f"two weeks from {name}", today) == anchor + timedelta(weeks=2)
    assert normalize_date(f"a week on {name}", today) == anchor + timedelta(weeks=1)
    # The weekday of the week that an offset lands in.
    landed = today + timedelta(weeks=2)
    in_that_week = landed - timedelta(days=landed.weekday()) + timedelta(days=weekday)
    assert normalize_date(f"{name} in two weeks", today) == in_that_week


# --------------------------------------------------------------------------
# Weekdays, and weeks that run Monday to Sunday
# --------------------------------------------------------------------------


@pytest.mark.parametrize("today", WEEK_OF_TODAYS)
@pytest.mark.parametrize("weekday", range(7))
def test_weekday_phrases_on_every_day_of_the_week(today, weekday):
    name = WEEKDAYS[weekday]
    on_or_after = first_on_or_after(today, lambda d: d.weekday() == weekday)
    strictly_after = first_on_or_after(today + timedelta(days=1), lambda d: d.weekday() == weekday)
    for said in (name, f"this {name}", f"on {name}", name.lower(), name[:3], f"{name} morning"):
        assert normalize_date(said, today) == on_or_after, said
    # "next Monday" said on a Thursday is the coming Monday; said on a Monday, a week later.
    for said in (f"next {name}", f"this coming {name}", f"coming {name}", f"the following {name}"):
        assert normalize_date(said, today) == strictly_after, said
    assert normalize_date(f"{name} after next", today) == strictly_after + timedelta(weeks=1)

    next_monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1)
    in_next_week = next_monday + timedelta(days=weekday)
    for said in (f"{name} next week", f"next week {name}", f"{name} of next week", f"next week on {name}",
                 f"on {name} next week"):
        assert normalize_date(said, today) == in_next_week, said
    assert normalize_date(f"{name} the week after next", today) == in_next_week + timedelta(weeks=1)

    in_this_week = next_monday - timedelta(weeks=1) + timedelta(days=weekday)
    if in_this_week >= today:
        assert normalize_date(f"{name} this week", today) == in_this_week
    else:
        error = reask_of(f"{name} this week", today)
        assert (error.reask, error.choices) == ("appointment_date_passed", (in_this_week,))


def sunrise_like(weekdays) -> OpeningHours:
    """Open 09:00-17:00 on `weekdays` (0 = Sunday, as get_org_profile reports them)."""
    return OpeningHours.from_profile([{"weekday": d, "opensAt": "09:00", "closesAt": "17:00"} for d in weekdays])


@pytest.mark.parametrize(
    "hours, end, beginning",
    [
        (None, 4, 0),  # no hours: Friday, Monday
        (sunrise_like([1, 2, 3, 4, 5, 6]), 4, 0),  # open Saturday too: the end of the week is still Friday
        (sunrise_like([1, 2, 3, 4]), 3, 0),  # closed on Fridays: Thursday
        (sunrise_like([2, 3, 4, 5]), 4, 1),  # closed on Mondays: the week begins on Tuesday
        (sunrise_like([0, 6]), 4, 0),  # weekends only: nothing Monday-Friday, so Friday and Monday
    ],
)
def test_the_end_of_next_week_is_the_clinics_last_open_workday(hours, end, beginning):
    for today in WEEK_OF_TODAYS:
        next_monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1)
        assert normalize_date("end of next week", today, hours=hours) == next_monday + timedelta(days=end)
        assert normalize_date("by the end of next week", today, hours=hours) == next_monday + timedelta(days=end)
        assert normalize_date("beginning of next week", today, hours=hours) == next_monday + timedelta(days=beginning)
        this_end = next_monday - timedelta(weeks=1) + timedelta(days=end)
        assert normalize_date("end of the week", today, hours=hours) == max(this_end, today)  # never before today


@pytest.mark.parametrize("today", WEEK_OF_TODAYS)
@pytest.mark.parametrize("said, weeks_ahead", [("next week", 1), ("the week after next", 2),
                                                ("this week", 0), ("sometime next week", 1)])
def test_a_week_without_a_day_is_asked_about_or_searched_from_its_first_day(today, said, weeks_ahead):
    monday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks_ahead)
    error = reask_of(said, today)
    assert (error.reask, error.choices) == ("appointment_date_week", (monday,))
    assert normalize_date(said, today, searching=True) == max(monday, today)
    assert normalize_date("as soon as possible", today, searching=True) == today
    assert normalize_date("first available", today, searching=True) == today


# --------------------------------------------------------------------------
# A day of the month, with or without its weekday
# --------------------------------------------------------------------------


@pytest.mark.parametrize("today", TODAYS)
@pytest.mark.parametrize("day", range(1, 32))
def test_the_nth_is_the_nearest_such_day_from_today(today, day):
    expected = first_on_or_after(today, lambda d: d.day == day)
    for said in (f"the {ordinal_digits(day)}", f"the {ordinal_words(day)}", f"on the {ordinal_digits(day)}",
                 ordinal_words(day).replace("-", " "), f"The {ordinal_words(day).title()}"):
        assert normalize_date(said, today) == expected, said


@pytest.mark.parametrize("today", [TODAY, date(2027, 2, 27), date(2026, 12, 31)])
@pytest.mark.parametrize("day", [1, 2, 3, 13, 21, 28, 30, 31])
@pytest.mark.parametrize("weekday", range(7))
def test_a_weekday_said_with_the_nth_must_agree(today, day, weekday):
    numbered = first_on_or_after(today, lambda d: d.day == day)
    said = f"{WEEKDAYS[weekday]} the {ordinal_digits(day)}"
    if numbered.weekday() == weekday:
        assert normalize_date(said, today) == numbered
        return
    error = reask_of(said, today)
    near = [numbered + timedelta(days=n) for n in range(-3, 4) if (numbered + timedelta(days=n)).weekday() == weekday]
    alternative = near[0] if near[0] >= today else near[0] + timedelta(weeks=1)
    assert (error.reask, error.choices) == ("appointment_date_weekday_mismatch", (numbered, alternative))
    line = speech.reask(error.reask, error.choices)
    assert f"is a {numbered:%A}" in line and f"{alternative:%A}" in line
    assert_spoken(line)


def test_a_weekday_against_a_full_date_is_checked_too():
    error = reask_of("Tuesday, January 20th")  # January 20th, 2027 is a Wednesday
    assert (error.reask, error.choices) == ("appointment_date_weekday_mismatch",
                                            (date(2027, 1, 20), date(2027, 1, 19)))
    assert speech.reask(error.reask, error.choices) == (
        "January 20th is a Wednesday — did you mean Wednesday, January 20th, or Tuesday, January 19th?")
    assert normalize_date("Wednesday, January 20th", TODAY) == date(2027, 1, 20)
    # A stale year said with the weekday it had then is that date, rolled forward.
    assert normalize_date("Tuesday, December 3rd, 2024", TODAY) == date(2026, 12, 3)
    assert reask_of("Friday, December 3rd, 2026").reask == "appointment_date_weekday_mismatch"


# --------------------------------------------------------------------------
# Month and day, without a year: passed lately, or next year's
# --------------------------------------------------------------------------


def spoken_month_days(month: int, day: int) -> list[str]:
    name = MONTHS[month - 1]
    return [f"{name} {day}", f"{name} {ordinal_digits(day)}", f"{name[:3]}. {ordinal_digits(day)}",
            f"{name} {ordinal_words(day)}", f"{ordinal_words(day)} of {name}", f"the {ordinal_digits(day)} of {name}",
            f"{day} {name}", f"{name} the {ordinal_words(day)}", f"{name.upper()} {ordinal_words(day).upper()}"]


def expected_month_day(month: int, day: int, today: date) -> date | tuple[str, date]:
    # the latest occurrence on or before today — last year's too, across New Year — if within 30 days
    latest = date(today.year, month, day)
    if latest > today:
        latest = date(today.year - 1, month, day)
    if latest < today and (today - latest).days <= 30:
        return ("passed", latest)
    this_year = date(today.year, month, day)
    return this_year if this_year >= today else date(today.year + 1, month, day)


@pytest.mark.parametrize("today", [TODAY, date(2026, 1, 5), date(2026, 3, 1), date(2026, 7, 31)])
@pytest.mark.parametrize("month", range(1, 13))
@pytest.mark.parametrize("day", [1, 3, 12, 22, 28, 30])
def test_month_and_day_in_every_spoken_form(today, month, day):
    if month == 2 and day == 30:
        return
    expected = expected_month_day(month, day, today)
    for said in spoken_month_days(month, day):
        if isinstance(expected, tuple):
            error = reask_of(said, today)
            assert (error.reask, error.choices) == ("appointment_date_passed", (expected[1],)), said
        else:
            assert normalize_date(said, today) == expected, said


@pytest.mark.parametrize("back", range(1, 46))
def test_a_day_that_passed_within_30_days_is_said_to_have_passed(back):
    today = date(2026, 11, 30)
    day = today - timedelta(days=back)
    for said in (f"{day:%B} {ordinal_digits(day.day)}", day.isoformat(), day.replace(year=2024).isoformat(),
                 f"{day.month}/{day.day}"):
        if back <= 30:
            error = reask_of(said, today)
            assert (error.reask, error.choices) == ("appointment_date_passed", (day,)), said
        else:  # older: next year's
            assert normalize_date(said, today) == day.replace(year=2027), said


def test_the_passed_line_names_the_day_and_offers_the_next_one():
    error = reask_of("November 29th", date(2026, 11, 30))
    assert speech.reask(error.reask, error.choices) == (
        "November 29th has already passed — would you like the next available day?")
    assert reask_of("yesterday").choices == (date(2026, 11, 24),)
    assert reask_of("the day before yesterday").choices == (date(2026, 11, 23),)


def test_february_29th_waits_for_a_leap_year_unless_it_just_passed():
    assert normalize_date("Feb 29", TODAY) == date(2028, 2, 29)
    assert normalize_date("February twenty-ninth", date(2028, 2, 1)) == date(2028, 2, 29)
    assert reask_of("February 29th", date(2028, 3, 10)).choices == (date(2028, 2, 29),)
    assert normalize_date("February 29th", date(2028, 4, 10)) == date(2032, 2, 29)


# --------------------------------------------------------------------------
# Numeric dates: month first in the US, day first elsewhere
# --------------------------------------------------------------------------


@pytest.mark.parametrize("first", range(1, 13))
@pytest.mark.parametrize("second", [1, 5, 12, 13, 25, 31])
def test_numeric_dates_follow_the_clinics_region(first, second):
    today = date(2026, 1, 1)

    def reading(month, day):
        try:
            return date(2026, month, day)
        except ValueError:
            return None

    us = reading(first, second) or reading(second, first)
    gb = reading(second, first) or reading(first, second)
    for said, region, expected in ((f"{first}/{second}", "US", us), (f"{first}/{second}", "GB", gb),
                                   (f"{first}-{second}-2026", "US", us), (f"{first}.{second}.2026", "DE", gb),
                                   (f"{first}/{second}/26", "AU", gb)):
        if expected is None:
            assert reask_of(said, today, region=region).reask == "appointment_date_invalid"
        elif "/" in said and said.count("/") == 1 and expected.month == 12 and expected.day >= 2:
            # no year said: December passed within the last 30 days (on January 1st) has passed
            error = reask_of(said, today, region=region)
            assert (error.reask, error.choices) == ("appointment_date_passed", (expected.replace(year=2025),)), said
        else:
            assert normalize_date(said, today, region=region) == expected, (said, region)


def test_only_numeric_dates_depend_on_the_region():
    for said in ("in two weeks", "December third", "the 3rd", "next Monday", "2026-12-03"):
        assert normalize_date(said, TODAY, region="GB") == normalize_date(said, TODAY, region="US")
    assert normalize_date("3/12", TODAY, region="GB") == date(2026, 12, 3)
    assert normalize_date("12/3", TODAY, region="US") == date(2026, 12, 3)


# --------------------------------------------------------------------------
# A time said with the day; which appointment; anything at all
# --------------------------------------------------------------------------


@pytest.mark.parametrize("said, expected", [("tomorrow at 2pm", time(14)), ("Friday at 10:30 am", time(10, 30)),
                                            ("December 3rd, 9am", time(9)), ("in two weeks at noon", time(12)),
                                            ("next Monday at 2", time(14)), ("2pm tomorrow", time(14)),
                                            ("noon on Friday", time(12))])
def test_a_time_said_with_the_day_is_used_when_no_time_is_given(said, expected):
    hours = sunrise_like(range(7))
    at = normalize_datetime(said, None, TODAY, NEW_YORK, hours=hours)
    assert at.time() == expected and at.date() == normalize_date(said, TODAY)
    assert normalize_datetime(said, "4pm", TODAY, NEW_YORK, hours=hours).time() == time(16)  # the argument wins


def test_which_appointment_reads_the_same_phrases():
    assert normalize_day_hint("the one in two weeks", TODAY).date == date(2026, 12, 9)
    assert normalize_day_hint("Wednesday next week", TODAY).date == date(2026, 12, 2)
    assert normalize_day_hint("the Tuesday one", TODAY).weekday == 2
    assert normalize_day_hint("3/12", TODAY, region="GB").date == date(2026, 12, 3)
    with pytest.raises(NormalizationError) as caught:
        normalize_day_hint("Friday the 3rd", TODAY, field="currentDate")
    assert (caught.value.field, caught.value.reask) == ("currentDate", "appointment_date_weekday_mismatch")
    with pytest.raises(NormalizationError) as caught:
        normalize_day_hint("next week", TODAY, field="currentDate")
    assert (caught.value.field, caught.value.reask) == ("currentDate", "booked_day_invalid")


DATE_WORDS = ["in", "a", "two", "3", "3rd", "third", "twenty", "first", "weeks", "days", "week", "from", "after",
              "next", "this", "coming", "the", "of", "end", "Monday", "Thu", "December", "Feb", "tomorrow", "today",
              "yesterday", "12/3", "2024", "'26", "at", "2pm", "on", "month", "weekend", "fortnight", "-", ",", "."]


@settings(max_examples=300)
@given(st.lists(st.sampled_from(DATE_WORDS), min_size=1, max_size=7), st.dates(), st.sampled_from(["US", "GB"]),
       st.booleans())
def test_any_phrase_is_a_date_from_today_on_or_a_re_ask(said, today, region, searching):
    text = " ".join(said)
    try:
        result = normalize_date(text, today, region=region, searching=searching)
    except NormalizationError as error:
        assert error.field == "appointmentDate"
        assert error.reask in ("appointment_date_invalid", "appointment_date_passed",
                               "appointment_date_weekday_mismatch", "appointment_date_week")
        assert_spoken(speech.reask(error.reask, error.choices))
    else:
        assert result >= today
        assert normalize_date(text, today, region=region, searching=searching) == result  # deterministic


# --------------------------------------------------------------------------
# The lines these re-asks speak
# --------------------------------------------------------------------------

ISO = re.compile(r"\d{4}-\d{2}-\d{2}|T\d{2}:\d{2}")


def assert_spoken(line: str) -> None:
    assert line and line == speech.one_line(line) and len(line) <= speech.MAX_LINE_LENGTH
    assert not ISO.search(line) and all(ch.isascii() or ch == "—" for ch in line), line
    assert line.endswith("?")


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)), st.integers(-3, 3))
def test_every_day_re_ask_is_one_clean_spoken_line(day, shift):
    other = day + timedelta(days=shift)
    for code, choices in (("appointment_date_passed", (day,)), ("appointment_date_weekday_mismatch", (day, other)),
                          ("appointment_date_week", (day,))):
        line = speech.reask(code, choices)
        assert_spoken(line)
        assert f"{day:%B}" in line
        assert_spoken(speech.reask(code))  # without its dates: the plain question


# --------------------------------------------------------------------------
# Phone numbers said in words
# --------------------------------------------------------------------------

DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def say_digits(digits: str, draw_style) -> str:
    """Digits as a caller says them: a word each, "oh" for some zeros, "double"/"triple" for runs."""
    out, at = [], 0
    while at < len(digits):
        run = len(re.match(r"(\d)\1*", digits[at:])[0])
        word = "oh" if digits[at] == "0" and draw_style("oh") else DIGIT_WORDS[int(digits[at])]
        if run >= 3 and draw_style("triple"):
            out.append(f"triple {word}")
            at += 3
        elif run >= 2 and draw_style("double"):
            out.append(f"double {word}")
            at += 2
        else:
            out.append(word)
            at += 1
    return " ".join(out)


@settings(max_examples=200)
@given(st.from_regex(r"[2-9][0-9]{2}[2-9][0-9]{6}", fullmatch=True), st.randoms(use_true_random=False),
       st.sampled_from([", ", " ", " - ", ". "]), st.sampled_from(["", "my number is ", "it's ", "area code "]))
def test_us_numbers_said_digit_by_digit(number, rng, separator, lead):
    def style(_):
        return rng.random() < 0.5

    groups = [number[:3], number[3:6], number[6:]]
    said = lead + separator.join(say_digits(group, style) for group in groups)
    assert normalize_phone(said, "US") == f"+1{number}", said
    mixed = f"{groups[0]} {say_digits(groups[1], style)} {groups[2]}"  # digits and words mixed
    assert normalize_phone(mixed, "US") == f"+1{number}", mixed


@pytest.mark.parametrize(
    "said, region, expected",
    [
        ("two one two, five five five, zero one one one", "US", "+12125550111"),
        ("two one two five five five oh one one one", "US", "+12125550111"),
        ("Two One Two. Five Five Five. Oh One One One.", "US", "+12125550111"),
        ("four one five, five five five, double oh one two", "US", "+14155550012"),
        ("four one five triple five oh one two three", "US", "+14155550123"),
        ("212 five five five 0111", "US", "+12125550111"),
        ("two-one-two-five-five-five-zero-one-one-one", "US", "+12125550111"),
        ("one, four one five, five five five, zero one two three", "US", "+14155550123"),
        ("plus one four one five five five five zero one two three", "GB", "+14155550123"),
        ("plus four four, two oh, seven nine four six, oh nine five eight", "US", "+442079460958"),
        ("oh two oh, seven nine four six, oh nine five eight", "GB", "+442079460958"),
        ("one eight hundred, five five five, one two one two", "US", "+18005551212"),
        ("area code four one five, five five five, twenty one twenty three", "US", "+14155552123"),
        ("four one five, five five five, oh one, twenty three", "US", "+14155550123"),
        ("my number is four one five five five five zero one two three, thanks", "US", "+14155550123"),
        ("oh, it's four one five five five five oh one two three", "US", "+14155550123"),
        ("(415) 555-0123 is my cell", "US", "+14155550123"),
        ("415-555-0123 extension 12", "US", "+14155550123"),
        ("1-800-FLOWERS", "US", "+18003569377"),  # letters that are not number words: phonenumbers' reading
    ],
)
def test_spoken_phone_numbers(said, region, expected):
    assert normalize_phone(said, region) == expected


@pytest.mark.parametrize("said", ["five five five", "double five", "two one two five five five", "call me maybe",
                                  "four one five five five five zero one two three four five six"])
def test_spoken_numbers_that_are_no_phone_number_are_re_asked(said):
    with pytest.raises(NormalizationError) as caught:
        normalize_phone(said, "US")
    assert (caught.value.field, caught.value.reask) == ("patientPhone", "patient_phone_invalid")


def test_spoken_digits_leave_written_numbers_alone():
    for written in ("(415) 555-0123", "+44 20 7946 0958", "4155550123", ""):
        assert spoken_phone_digits(written) == written


@pytest.mark.parametrize(
    "said",
    ["the number I'm calling from", "the number I am calling from", "the one I'm calling on", "the number I called from",
     "this number", "this phone number", "this phone", "this cell", "this line", "this one", "current number",
     "same number", "the same", "same", "same one", "same as this one", "my number", "my phone", "my phone number",
     "my cell", "my cell phone", "my cellphone", "my cell number", "my mobile", "my mobile number", "my own number",
     "the one I'm on", "the phone I'm using", "I'm calling from it", "use my caller ID", "caller id", "caller-ID",
     "the number that came up", "the number you can see", "the one showing on your screen", "Same number.",
     "THIS NUMBER", "the number I’m calling from"],
)
def test_words_for_the_callers_own_line(said):
    assert names_own_number(said) is True


@pytest.mark.parametrize(
    "said",
    ["(415) 555-0123", "my number is 415 555 0123", "my number is four one five five five five zero one two three",
     "my work number", "my home phone", "my number at work", "my wife's cell", "my husband's number",
     "my other number", "my landline", "my office line", "my new number", "", "yes", "no", "I don't know", None, 42],
)
def test_what_is_not_the_callers_own_line(said):
    assert names_own_number(said) is False


# --------------------------------------------------------------------------
# Names: Mc, Mac, O' and hyphens, when the caller's text was all one case
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "said, written",
    [
        ("mcdonald", "McDonald"), ("ronald mcdonald", "Ronald McDonald"), ("RONALD MCDONALD", "Ronald McDonald"),
        ("mcintosh", "McIntosh"), ("sarah mcgee", "Sarah McGee"), ("mckenzie", "McKenzie"),
        ("macdonald", "MacDonald"), ("douglas macarthur", "Douglas MacArthur"), ("ewan macgregor", "Ewan MacGregor"),
        ("MACLEOD", "MacLeod"), ("james macmillan", "James MacMillan"), ("macintyre", "MacIntyre"),
        ("macy gray", "Macy Gray"), ("mack smith", "Mack Smith"), ("MACIAS", "Macias"), ("tom mace", "Tom Mace"),
        ("machado", "Machado"), ("mackenzie scott", "Mackenzie Scott"), ("macey", "Macey"), ("mackey", "Mackey"),
        ("o'neil", "O'Neil"), ("shaquille o'neal", "Shaquille O'Neal"), ("MARY O'BRIEN", "Mary O'Brien"),
        ("o’connor", "O’Connor"), ("d'angelo", "D'Angelo"),
        ("mary-kate o'connor-mcdonald", "Mary-Kate O'Connor-McDonald"), ("anna mcgregor-macleod", "Anna McGregor-MacLeod"),
        ("JEAN-LUC PICARD", "Jean-Luc Picard"), ("seán mcdonagh", "Seán McDonagh"),
        # Mixed case is the caller's (or the model's) own spelling: kept.
        ("Ian Macdonald", "Ian Macdonald"), ("Ronald Mcdonald", "Ronald Mcdonald"), ("Mary Macarthur", "Mary Macarthur"),
        ("DeShawn McDaniels", "DeShawn McDaniels"), ("Anna van der Berg", "Anna van der Berg"),
        ("mc", "Mc"), ("Mc", "Mc"),
    ],
)
def test_name_capitals(said, written):
    assert normalize_name(said) == written


# --------------------------------------------------------------------------
# E-mail addresses as callers say them
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "said, written",
    [
        ("john underscore smith at example dot com", "john_smith@example.com"),
        ("John Underscore Smith at Example dot com", "john_smith@example.com"),
        ("john under score smith at example dot com", "john_smith@example.com"),
        ("my e-mail is john underscore smith at example dot com", "john_smith@example.com"),
        ("my email address is john underscore smith at example dot com please", "john_smith@example.com"),
        ("it's john underscore smith at example dot com.", "john_smith@example.com"),
        ("john dot smith at g mail dot com", "john.smith@gmail.com"),
        ("john period smith at example period com", "john.smith@example.com"),
        ("john full stop smith at example full stop co full stop uk", "john.smith@example.co.uk"),
        ("mary hyphen jane at example dot org", "mary-jane@example.org"),
        ("jane plus clinic at example dot com", "jane+clinic@example.com"),
        ("john at sign example dot com", "john@example.com"),
        ("john at the rate of example dot com", "john@example.com"),
        ("john at example dotcom", "john@example.com"),
        ("john at example dotnet", "john@example.net"),
        ("j o h n at example dot com", "john@example.com"),
        ("J-O-H-N at example dot com", "john@example.com"),
        ("J. O. H. N. at example dot com", "john@example.com"),
        ("capital j o h n at example dot com", "john@example.com"),
        ("jane two three at example dot com", "jane23@example.com"),
        ("jane 23 at example dot com", "jane23@example.com"),
        ("john smith one nine eight oh at example dot com", "john smith1980@example.com"),
        ("john smith all one word at example dot com", "johnsmith@example.com"),
        ("john at hotmail dot c o dot u k", "john@hotmail.co.uk"),
        ("john smith at example dot com", "john smith@example.com"),  # two plain words: never a guess
        ("a@example.com.", "a@example.com."),  # written: the database judges it
    ],
)
def test_spoken_email_addresses(said, written):
    assert normalize_email(said) == written
