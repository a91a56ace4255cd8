"""Dates callers say, second round (ISSUE-11 §1, probe classes #1 #3 #5 #6 #7): each class checked
over several "todays" (every weekday, month and year ends), expectations computed here by walking
the calendar, independently of how api.normalize reads them.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest

from api.normalize import (
    NormalizationError,
    OpeningHours,
    normalize_availability,
    normalize_date,
    normalize_day_hint,
)

WEEK_OF_TODAYS = [date(2026, 11, 30) + timedelta(days=n) for n in range(7)]  # Mon .. Sun
TODAYS = WEEK_OF_TODAYS + [date(2026, 1, 31), date(2027, 2, 27), date(2028, 2, 29), date(2026, 12, 31),
                           date(2027, 3, 1)]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]  # Python's order
MONTHS = list(calendar.month_name)[1:]
NTH = {1: ["first", "1st"], 2: ["second", "2nd"], 3: ["third", "3rd"], 4: ["fourth", "4th"], 5: ["fifth", "5th"]}
ORDINALS = ["", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
            "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
            "eighteenth", "nineteenth", "twentieth", "twenty-first", "twenty-second", "twenty-third",
            "twenty-fourth", "twenty-fifth", "twenty-sixth", "twenty-seventh", "twenty-eighth", "twenty-ninth",
            "thirtieth", "thirty-first"]
NEW_YORK = ZoneInfo("America/New_York")
HOURS = OpeningHours(intervals=tuple((weekday, 9 * 60, 17 * 60) for weekday in range(1, 6)))  # Mon–Fri 9–5


def suffixed(n: int) -> str:
    return f"{n}{'th' if 11 <= n % 100 <= 13 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def weekdays_of(year: int, month: int, weekday: int) -> list[date]:
    days = [date(year, month, n) for n in range(1, calendar.monthrange(year, month)[1] + 1)]
    return [day for day in days if day.weekday() == weekday]


def nearest_month(today: date, month: int) -> tuple[int, int]:
    """The nearest such month that has not ended: this year's from this month on, else next year's."""
    return (today.year if month >= today.month else today.year + 1), month


def reask(text: str, today: date, **kwargs) -> str:
    with pytest.raises(NormalizationError) as caught:
        normalize_date(text, today, **kwargs)
    return caught.value.reask


def searched(text: str, today: date):
    return normalize_availability(text, None, today, NEW_YORK, hours=HOURS)


# #1 The nth weekday of a month -----------------------------------------------------------------

@pytest.mark.parametrize("today", TODAYS, ids=str)
@pytest.mark.parametrize("month", [1, 2, 3, 6, 11, 12])
def test_the_nth_weekday_of_a_month_counts_the_weekdays(today, month):
    year, month = nearest_month(today, month)
    for weekday in range(7):
        days = weekdays_of(year, month, weekday)
        for n, names in NTH.items():
            for name, joiner in zip(names, ("in", "of")):
                text = f"the {name} {WEEKDAYS[weekday]} {joiner} {MONTHS[month - 1]}"
                if n > len(days):  # February has no fifth Monday (mostly): asked again
                    assert reask(text, today) == "appointment_date_invalid", text
                elif days[n - 1] < today:  # this month's, already gone
                    assert reask(text, today) == "appointment_date_passed", text
                else:
                    assert normalize_date(text, today) == days[n - 1], text
        last = f"last {WEEKDAYS[weekday]} in {MONTHS[month - 1][:3]}"
        if days[-1] >= today:
            assert normalize_date(last, today) == days[-1], last
            assert normalize_date(f"the {last}", today, searching=True) == days[-1], last


@pytest.mark.parametrize("today", TODAYS, ids=str)
def test_the_nth_weekday_of_this_or_next_month(today):
    following = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    for weekday in range(7):
        days = weekdays_of(following.year, following.month, weekday)
        assert normalize_date(f"first {WEEKDAYS[weekday]} of next month", today) == days[0]
        assert normalize_date(f"the 2nd {WEEKDAYS[weekday][:3]} next month", today) == days[1]
        assert normalize_date(f"the last {WEEKDAYS[weekday]} of next month", today) == days[-1]
        this_month = weekdays_of(today.year, today.month, weekday)
        if this_month[-1] >= today:
            assert normalize_date(f"last {WEEKDAYS[weekday]} of this month", today) == this_month[-1]


def test_the_nth_weekday_with_a_year_and_through_the_webhook_helpers():
    today = date(2026, 11, 30)
    assert normalize_date("the second Tuesday in February 2027", today) == date(2027, 2, 9)
    assert normalize_date("third Wednesday of March", today) == date(2027, 3, 17)
    assert reask("the fourth Thursday in November", today) == "appointment_date_passed"  # the 26th: gone
    assert normalize_date("the fourth Thursday in November 2027", today) == date(2027, 11, 25)
    assert reask("fifth Monday in February", today) == "appointment_date_invalid"
    assert searched("second Tuesday in February", today).day == date(2027, 2, 9)
    assert normalize_day_hint("the second Tuesday in February", today).date == date(2027, 2, 9)


# #3 A weekday and a day of the month, for an appointment the caller has -----------------------

@pytest.mark.parametrize("today", TODAYS, ids=str)
def test_a_weekday_and_day_of_the_month_hint_is_the_next_date_with_both(today):
    for day_of_month in (1, 9, 13, 17, 28, 30, 31):
        for weekday in range(7):
            match = next((today + timedelta(days=n) for n in range(0, 190)
                          if (today + timedelta(days=n)).day == day_of_month
                          and (today + timedelta(days=n)).weekday() == weekday), None)
            for text in (f"{WEEKDAYS[weekday]} the {suffixed(day_of_month)}",
                         f"the {WEEKDAYS[weekday].lower()} the {ORDINALS[day_of_month]} one"):
                if match is None:  # none within six months: asked which
                    with pytest.raises(NormalizationError):
                        normalize_day_hint(text, today)
                else:
                    assert normalize_day_hint(text, today) == normalize_day_hint(match.isoformat(), today), text


@pytest.mark.parametrize("today", TODAYS, ids=str)
@pytest.mark.parametrize("text", ["the one on the {s}", "the {o}", "on the {s}", "my appointment on the {o}", "{s}"])
def test_a_bare_day_of_the_month_hint_is_only_a_day_of_the_month(today, text):
    for day_of_month in (1, 9, 20, 31):
        hint = normalize_day_hint(text.format(s=suffixed(day_of_month), o=ORDINALS[day_of_month]), today)
        assert (hint.date, hint.weekday, hint.day_of_month) == (None, None, day_of_month), text


def test_a_day_of_the_month_with_its_month_is_still_a_date():
    today = date(2026, 11, 30)
    assert normalize_day_hint("the 9th of February", today).date == date(2027, 2, 9)
    assert normalize_day_hint("the 3rd of next month", today).date == date(2026, 12, 3)
    with pytest.raises(NormalizationError) as caught:
        normalize_day_hint("the 32nd", today, field="currentDate")
    assert (caught.value.field, caught.value.reask) == ("currentDate", "booked_day_invalid")


# #5 "the first" is the 1st; "first available" is the soonest ----------------------------------

@pytest.mark.parametrize("today", TODAYS, ids=str)
def test_the_first_is_the_1st(today):
    first = today if today.day == 1 else (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    for text in ("the first", "on the first", "the 1st", "first", "on the 1st please"):
        assert normalize_date(text, today) == first, text
        assert searched(text, today).day == first, text
    for text in ("first available", "the first available", "first available day", "earliest", "the earliest",
                 "soonest possible", "as soon as possible", "first thing", "any day"):
        assert searched(text, today).day == today, text
    assert searched("first thing", today).window.part == "first_thing"


# #6 "later this week" ---------------------------------------------------------------------------

@pytest.mark.parametrize("today", WEEK_OF_TODAYS, ids=str)
def test_later_this_week_searches_from_tomorrow(today):
    for text in ("later this week", "later in the week", "later on this week"):
        assert searched(text, today).day == today + timedelta(days=1), text
        assert searched(text, today).window.kind == "day", text


# #7 Other clear days ----------------------------------------------------------------------------

@pytest.mark.parametrize("today", TODAYS, ids=str)
def test_british_weekday_week_and_weekday_coming(today):
    for weekday in range(7):
        name = WEEKDAYS[weekday]
        that_day = today + timedelta(days=(weekday - today.weekday()) % 7)  # "Monday": today when it is one
        coming = today + timedelta(days=(weekday - today.weekday() - 1) % 7 + 1)  # strictly after today
        assert normalize_date(f"{name} week", today) == that_day + timedelta(weeks=1)
        assert normalize_date(f"{name.lower()[:3]} week", today) == that_day + timedelta(weeks=1)
        assert normalize_date(f"{name} coming", today) == coming
        assert normalize_date(f"this {name} coming", today) == coming
    assert normalize_date("tomorrow week", today) == today + timedelta(days=8)
    assert normalize_date("today week", today) == today + timedelta(days=7)


@pytest.mark.parametrize("text,offset", [
    ("uh tomorrow I guess", 1), ("tomorrow, I think", 1), ("Thursday, if possible", None),
    ("Thursday if that's possible", None), ("how about Thursday then", None), ("I'd like Thursday please", None),
    ("Thursday would be great", None), ("Thursday works for me", None), ("can I come in Thursday", None),
    ("um, maybe tomorrow, thanks", 1), ("any time Thursday", None), ("Thursday any time", None),
    ("anytime on Thursday", None), ("tomorrow is fine", 1),
])
@pytest.mark.parametrize("today", WEEK_OF_TODAYS, ids=str)
def test_a_day_wrapped_in_words(today, text, offset):
    thursday = today + timedelta(days=(3 - today.weekday()) % 7)
    expected = thursday if offset is None else today + timedelta(days=offset)
    assert normalize_date(text, today) == expected
    assert searched(text, today).day == expected


@pytest.mark.parametrize("today", TODAYS, ids=str)
def test_month_dash_day_in_the_date_argument_is_a_date(today):
    for month, day in ((1, 14), (2, 4), (12, 3), (6, 30)):
        try:
            expected = normalize_date(f"{month}/{day}", today)  # the slash form, as already read
        except NormalizationError as error:  # passed lately: the dash form too
            assert reask(f"{month}-{day}", today) == error.reask
            continue
        assert normalize_date(f"{month}-{day}", today) == expected
        assert searched(f"{month}-{day}", today).day == expected
        assert searched(f"{month}-{day}", today).window.kind == "day"
    # A time argument "2-4" is still a window, and a dash that is no date stays one.
    request = normalize_availability("tomorrow", "2-4", today, NEW_YORK, hours=HOURS)
    assert (request.window.kind, request.day) == ("between", today + timedelta(days=1))
    assert searched("tomorrow 2-4", today).window.kind == "between"  # with a day, the dash is its window


@pytest.mark.parametrize("today", TODAYS, ids=str)
def test_next_month_searches_from_its_1st_and_is_asked_for_a_day_when_booking(today):
    following = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    for text in ("next month", "early next month", "sometime next month", "the beginning of next month"):
        assert searched(text, today).day == following, text
        assert searched(text, today).window.kind == "day", text
    assert reask("next month", today) == "appointment_date_invalid"
    assert reask("early next month", today) == "appointment_date_week"
    assert searched("this month", today).day == today
    assert searched("end of next month", today).day == following + timedelta(
        days=calendar.monthrange(following.year, following.month)[1] - 7)


@pytest.mark.parametrize("today", TODAYS, ids=str)
def test_a_year_ahead_is_a_day_a_year_ahead(today):
    try:
        a_year = today.replace(year=today.year + 1)
    except ValueError:  # Feb 29: a year on is Feb 28
        a_year = date(today.year + 1, 2, 28)
    for text in ("in a year", "next year", "this time next year", "a year from now", "in one year",
                 "a year from today"):
        assert normalize_date(text, today) == a_year, text
        assert searched(text, today).day == a_year, text
    if (today.month, today.day) != (2, 29):
        assert normalize_date("in two years", today) == today.replace(year=today.year + 2)


def test_any_day_is_the_soonest_only_when_searching():
    today = date(2026, 11, 30)
    assert searched("any day", today).day == today
    assert searched("any day is fine", today).day == today
    assert reask("any day", today) == "appointment_date_invalid"  # a booking needs its day
