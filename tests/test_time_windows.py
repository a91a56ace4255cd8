"""Loose times for checkAvailability (issue 11 §2), as phrase classes: normalize reads what a caller
says into a day and a window (api.normalize.normalize_availability / read_window); SQL lists what is
free in it (supabase/tests/36_availability_windows.sql). Each class is checked over its spellings —
digits and words, with and without AM/PM, fillers before and after —, every hour the clinic is open,
every weekday and several "todays"; and the day's own words ("Friday after 3") over every weekday.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from api import speech
from api.normalize import (
    DAY_PARTS,
    NormalizationError,
    OpeningHours,
    TimeWindow,
    normalize_availability,
    normalize_date,
    read_window,
)

NEW_YORK = ZoneInfo("America/New_York")
# Sunrise: Mon–Fri 09:00–12:00 and 13:00–17:00, Sat 09:00–13:00 (minutes after midnight).
SUNRISE = OpeningHours(tuple([(d, 540, 720) for d in range(1, 6)] + [(d, 780, 1020) for d in range(1, 6)]
                             + [(6, 540, 780)]))
# A long-hours clinic: 07:00–20:00 every day, where "8" could be either.
LONG = OpeningHours(tuple((d, 420, 1200) for d in range(7)))
TODAYS = [date(2026, 11, 30) + timedelta(days=n) for n in range(7)]  # Monday … Sunday
MONDAY = TODAYS[0]
WEEKDAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
HOUR_WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]


def window(time_text: str | None, date_text: str | None = None, *, today: date = MONDAY,
           hours: OpeningHours = SUNRISE):
    return normalize_availability(date_text, time_text, today, NEW_YORK, hours=hours)


def spellings(hour: int, minute: int = 0) -> list[str]:
    """Ways to say a clock time at Sunrise (9–5): digits, words, with and without AM/PM."""
    twelve = hour % 12 or 12
    meridiem = "am" if hour < 12 else "pm"
    said = [f"{twelve}:{minute:02d} {meridiem.upper()}", f"{twelve}:{minute:02d}{meridiem}",
            f"{hour:02d}:{minute:02d}"]
    if minute == 0:
        said += [f"{twelve}", f"{twelve}{meridiem}", f"{twelve} {meridiem}", f"{HOUR_WORDS[twelve - 1]}",
                 f"{HOUR_WORDS[twelve - 1]} o'clock", f"{twelve} {'p.m.' if hour >= 12 else 'a.m.'}"]
    elif minute == 30:
        said += [f"half past {HOUR_WORDS[twelve - 1]}", f"{HOUR_WORDS[twelve - 1]} thirty", f"{twelve}:30"]
    return said


OPEN_HOURS = [(h, m) for h in range(9, 17) for m in (0, 30) if not (12 <= h < 13)]


# --- the classes ---------------------------------------------------------------------------------

@pytest.mark.parametrize("hour,minute", OPEN_HOURS)
def test_after_a_time_in_every_spelling(hour, minute):
    for said, lead, tail in itertools.product(spellings(hour, minute),
                                              ["after", "from", "any time after", "sometime after", "no earlier than",
                                               "not before", "starting at", "later than"],
                                              ["", " on", " onwards", " or later", " if possible"]):
        if lead in ("later than", "starting at") and tail.strip() in ("on", "onwards", "or later"):
            continue
        got = window(f"{lead} {said}{tail}").window
        assert (got.kind, got.start) == ("after", time(hour, minute)), (lead, said, tail, got)
        assert got.rpc_params() == {"p_after": f"{hour:02d}:{minute:02d}", "p_before": None, "p_near": None, "p_at": None}
    for said in spellings(hour, minute):
        assert window(f"{said} or later").window == TimeWindow("after", start=time(hour, minute))


@pytest.mark.parametrize("hour,minute", OPEN_HOURS)
def test_before_and_by_a_time_in_every_spelling(hour, minute):
    at = time(hour, minute)
    for said in spellings(hour, minute):
        for lead in ("before", "earlier than", "any time before", "prior to"):
            assert window(f"{lead} {said}").window == TimeWindow("before", end=at), (lead, said)
        for lead in ("by", "until", "till", "no later than", "up to"):
            got = window(f"{lead} {said}").window
            assert got == TimeWindow("by", end=at), (lead, said)
            # a start at that minute is included: the window ends a minute later
            assert got.rpc_params()["p_before"] == f"{hour:02d}:{minute + 1:02d}"
        for tail in ("or earlier", "at the latest"):
            assert window(f"{said} {tail}").window == TimeWindow("by", end=at), (said, tail)


@pytest.mark.parametrize("hour,minute", OPEN_HOURS)
def test_around_a_time_in_every_spelling(hour, minute):
    at = time(hour, minute)
    for said in spellings(hour, minute):
        for phrase in (f"around {said}", f"about {said}", f"roughly {said}", f"approximately {said}",
                       f"close to {said}", f"somewhere around {said}", f"{said} or so", f"{said}ish",
                       f"{said}-ish", f"around {said} if possible"):
            got = window(phrase).window
            assert (got.kind, got.start) == ("around", at), (phrase, got)
            assert got.rpc_params() == {"p_after": None, "p_before": None, "p_near": f"{hour:02d}:{minute:02d}", "p_at": None}
    if minute == 0:
        word = HOUR_WORDS[(hour % 12 or 12) - 1]
        assert window(f"{word}ish").window == TimeWindow("around", start=at)


@pytest.mark.parametrize("start,end", [(s, e) for s, e in itertools.combinations(range(9, 18), 2)
                                       if not (12 <= s < 13)])
def test_between_two_times(start, end):
    def says(hour):
        twelve = hour % 12 or 12
        return [f"{twelve}", f"{twelve}{'am' if hour < 12 else 'pm'}", HOUR_WORDS[twelve - 1]]

    for a, b in itertools.product(says(start), says(end)):
        for phrase in (f"between {a} and {b}", f"from {a} to {b}", f"{a} to {b}", f"{a}-{b}", f"{a} till {b}",
                       f"sometime between {a} and {b}", f"anywhere between {a} and {b}"):
            got = window(phrase).window
            assert (got.kind, got.start, got.end) == ("between", time(start), time(end)), (phrase, got)


def test_a_bare_first_hour_comes_before_the_second():
    assert window("between 10 and 2").window == TimeWindow("between", start=time(10), end=time(14))
    assert window("10 till 2pm").window == TimeWindow("between", start=time(10), end=time(14))
    assert window("between 11 and 1").window == TimeWindow("between", start=time(11), end=time(13))
    # at a clinic open 7–20, "8 to 11" is the morning: 8 could be either, 11 PM is closed
    assert window("between 8 and 11", hours=LONG).window == TimeWindow("between", start=time(8), end=time(11))


def test_a_reversed_range_is_the_one_the_clinic_is_open_for():
    # "between 4 and 2": 4 AM is shut, so not 4 AM to 2 PM (the whole morning) but 2 to 4 PM
    assert window("between 4 and 2").window == TimeWindow("between", start=time(14), end=time(16))
    assert window("from 5 to 3").window == TimeWindow("between", start=time(15), end=time(17))
    # the same hour twice is no range: asked again, not read as 2 AM to 2 PM
    with pytest.raises(NormalizationError) as caught:
        window("between 2 and 2")
    assert (caught.value.field, caught.value.reask) == ("appointmentTime", "appointment_time_invalid")


@pytest.mark.parametrize("key", sorted(DAY_PARTS))
def test_every_part_of_the_day_has_its_window(key):
    said = key.replace("_", " ")
    phrases = {
        "mid_morning": ["mid-morning", "midmorning", "in the mid morning"],
        "mid_afternoon": ["mid-afternoon", "midafternoon"], "late_day": ["end of the day", "late in the day"],
        "first_thing": ["first thing", "first thing in the morning"], "after_noon": ["pm", "p.m."],
        "lunchtime": ["lunchtime", "around lunch", "over lunch", "lunch time"],
    }.get(key, [said, f"in the {said}", f"sometime in the {said}", f"any time in the {said}"]
          if key in ("morning", "afternoon", "evening") else [said])
    for phrase in phrases:
        got = window(phrase).window
        assert (got.kind, got.part) == ("part", key), (phrase, got)
        after, before = DAY_PARTS[key]
        assert got.rpc_params() == {"p_after": after and f"{after:%H:%M}", "p_before": before and f"{before:%H:%M}",
                                    "p_near": None, "p_at": None}
        assert speech.window_words(got)  # speech has words for every part


def test_the_issue_s_parts_of_the_day():
    # morning (opening–12:00), afternoon (12:00–17:00), evening (17:00–closing)
    assert DAY_PARTS["morning"] == (None, time(12))
    assert DAY_PARTS["afternoon"] == (time(12), time(17))
    assert DAY_PARTS["evening"] == (time(17), None)
    for said in ("mornings", "the mornings", "in the mornings", "a.m.", "am", "morning please"):
        assert window(said).window.part == "morning", said
    for said in ("tonight", "this evening", "evenings", "at night"):
        assert window(said).window.part == "evening", said


@pytest.mark.parametrize("said", [None, "", "any time", "anytime", "whenever", "any", "all day", "first available",
                                  "the earliest available", "as soon as possible", "asap", "no preference",
                                  "doesn't matter", "I'm flexible", "whatever's free", "any time that day"])
def test_no_time_is_the_whole_day(said):
    got = window(said, "tomorrow")
    assert got.day == MONDAY + timedelta(days=1)
    assert got.window.kind == "day" and got.window.rpc_params() == {"p_after": None, "p_before": None, "p_near": None,
                                                                  "p_at": None}


@pytest.mark.parametrize("hour,minute", OPEN_HOURS)
def test_a_clock_time_is_from_then_on(hour, minute):
    for said in spellings(hour, minute):
        for phrase in (said, f"at {said}"):
            assert window(phrase).window == TimeWindow("at", start=time(hour, minute)), phrase


def test_quarter_past_and_to_are_times_not_ranges():
    assert window("quarter to three").window == TimeWindow("at", start=time(14, 45))
    assert window("around quarter past two").window == TimeWindow("around", start=time(14, 15))
    assert window("after half past three").window == TimeWindow("after", start=time(15, 30))


# --- an hour without AM/PM ---------------------------------------------------------------------------

def test_an_hour_is_read_in_the_opening_hours_and_the_window_decides_what_they_cannot():
    assert window("after 5").window.start == time(17)  # Sunrise closes at 5: after 5 PM (nothing then)
    assert window("before 11").window.end == time(11)
    # 7–20: "8" could be either; after 8 PM leaves nothing, so 8 AM; before 7 AM leaves nothing, so 7 PM
    assert window("after 8", hours=LONG).window.start == time(8)
    assert window("before 7", hours=LONG).window.end == time(19)
    for said in ("around 8", "before 8"):  # both readings leave a window: asked
        with pytest.raises(NormalizationError) as asked:
            window(said, hours=LONG)
        assert asked.value.reask == "appointment_time_meridiem"
        assert asked.value.choices == (time(8), time(20))
    assert window("around 8 in the evening", hours=LONG).window.start == time(20)


@pytest.mark.parametrize("minute", [0, 15, 30, 45])
@pytest.mark.parametrize("hour", [5, 6, 7, 8])
def test_after_an_hour_past_closing_with_or_without_minutes_is_the_evening(hour, minute):
    # Sunrise is 9-5: neither reading of "after 5:30" / "after 7:15" is open; the morning one would exclude
    # nothing, so it is the evening (SQL: "we're not open after …"), as "after 5" already is.
    for said in (f"after {hour}:{minute:02d}", f"after {HOUR_WORDS[hour - 1]}" if not minute else f"from {hour}:{minute:02d} on",
                 f"any time after {hour}:{minute:02d}", f"{hour}:{minute:02d} or later"):
        assert window(said).window == TimeWindow("after", start=time(hour + 12, minute)), said


@pytest.mark.parametrize("said,end", [("before 8", time(8)), ("before 8:30", time(8, 30)), ("by 7:45", time(7, 45)),
                                      ("earlier than half past eight", time(8, 30))])
def test_before_an_hour_ahead_of_opening_is_the_morning(said, end):
    assert window(said).window.end == end


@pytest.mark.parametrize("said,start", [("around 5:30", time(17, 30)), ("6:30", time(18, 30)), ("8:30", time(8, 30)),
                                        ("around 6", time(18)), ("half 5", time(17, 30))])
def test_an_hour_neither_reading_of_which_is_open_is_the_nearer_one_not_a_question(said, start):
    assert window(said).window.start == start


@pytest.mark.parametrize("said,start", [
    ("half two", time(14, 30)), ("half 2", time(14, 30)), ("half three", time(15, 30)), ("half ten", time(10, 30)),
    ("quarter past 2pm", time(14, 15)), ("1400", time(14)), ("1030", time(10, 30)), ("10 30", time(10, 30)),
    ("twenty past two", time(14, 20)), ("quarter after 2", time(14, 15)), ("2pm please", time(14)),
])
def test_clock_phrasings_as_a_window_are_from_then_on(said, start):
    assert window(said).window == TimeWindow("at", start=start)


@pytest.mark.parametrize("said,start", [("around half 10", time(10, 30)), ("about half two", time(14, 30)),
                                        ("half ten-ish", time(10, 30)), ("around 1030", time(10, 30))])
def test_uk_half_hours_around(said, start):
    assert window(said).window == TimeWindow("around", start=start)


@pytest.mark.parametrize("said,part", [
    ("later in the afternoon", "late_afternoon"), ("later on in the afternoon", "late_afternoon"),
    ("later in the morning", "late_morning"), ("earlier in the afternoon", "early_afternoon"),
    ("afternoon-ish", "afternoon"), ("morningish", "morning"), ("evening-ish", "evening"), ("morning time", "morning"),
    ("close of business", "late_day"), ("COB", "late_day"), ("closing time", "late_day"),
    ("just before you close", "late_day"), ("last appointment", "late_day"), ("the last slot", "late_day"),
    ("latest", "late_day"), ("the latest you have", "late_day"), ("as late as possible", "late_day"),
    ("last appointment of the day", "late_day"), ("on my lunch break", "lunchtime"), ("my lunch hour", "lunchtime"),
    ("during my lunch break", "lunchtime"), ("lunch break", "lunchtime"), ("first appointment of the day", "first_thing"),
    ("as soon as you open", "first_thing"), ("first slot of the day", "first_thing"),
])
def test_loose_parts_of_the_day(said, part):
    assert window(said).window == TimeWindow("part", part=part)


@pytest.mark.parametrize("said", ["early as possible", "as early as possible", "soon as possible",
                                  "as early as you can", "the earliest possible", "earliest you have"])
def test_as_early_as_possible_is_the_whole_day_from_its_first_opening(said):
    assert window(said).window == TimeWindow()


def test_a_closed_day_reads_the_hour_in_any_days_hours():
    sunday = MONDAY + timedelta(days=6)
    got = window("after 3", sunday.isoformat())
    assert (got.day, got.window.start) == (sunday, time(15))


# --- the day and its own words --------------------------------------------------------------------

@pytest.mark.parametrize("today", TODAYS)
def test_a_weekday_with_a_window_in_either_order(today):
    for name in WEEKDAY_NAMES:
        day = normalize_date(name, today)
        for date_text, expected in [
            (f"{name} morning", TimeWindow("part", part="morning")),
            (f"{name} afternoon", TimeWindow("part", part="afternoon")),
            (f"{name} after 3", TimeWindow("after", start=time(15))),
            (f"{name}, after 3pm", TimeWindow("after", start=time(15))),
            (f"{name} around 2", TimeWindow("around", start=time(14))),
            (f"{name} between 2 and 4", TimeWindow("between", start=time(14), end=time(16))),
            (f"{name} before noon", TimeWindow("before", end=time(12))),
            (f"{name} at 10am", TimeWindow("at", start=time(10))),
            (f"3pm {name}", TimeWindow("at", start=time(15))),
            (f"after 3 on {name}", TimeWindow("after", start=time(15))),
            (f"the morning of {name}", TimeWindow("part", part="morning")),
            (f"{name} sometime in the late afternoon", TimeWindow("part", part="late_afternoon")),
        ]:
            got = window(None, date_text, today=today)
            assert (got.day, got.window) == (day, expected), (today, date_text, got)


@pytest.mark.parametrize("date_text,days", [
    ("tomorrow morning", 1), ("tomorrow after lunch", 1), ("the day after tomorrow", 2),
    ("the day after tomorrow in the afternoon", 2), ("a week from today", 7), ("a week from today after 3", 7),
    ("in two weeks", 14), ("in two weeks around 10", 14), ("Monday after next", 14),
    ("Monday after next in the morning", 14), ("next week", 7), ("two weeks from tomorrow at 3", 15),
])
def test_relative_days_keep_their_words_and_give_the_rest_to_the_window(date_text, days):
    got = window(None, date_text)
    assert got.day == MONDAY + timedelta(days=days), got
    words = date_text.split()
    has_window = any(w in ("morning", "afternoon", "lunch", "around", "at") for w in words) or (
        "after" in words and words[words.index("after") + 1][0].isdigit())
    assert (got.window.kind != "day") == has_window, got


@pytest.mark.parametrize("date_text,part", [("this morning", "morning"), ("this afternoon", "afternoon"),
                                            ("this evening", "evening"), ("tonight", "evening"),
                                            ("today after 3", None), ("later today", None)])
def test_today_with_a_part_of_the_day(date_text, part):
    got = window(None, date_text, today=MONDAY + timedelta(days=2))
    assert got.day == MONDAY + timedelta(days=2)
    if part:
        assert got.window.part == part


def test_the_time_argument_wins_over_the_days_words():
    got = window("after 3", "Friday morning")
    assert (got.day, got.window) == (MONDAY + timedelta(days=4), TimeWindow("after", start=time(15)))


def test_no_date_is_the_clinics_today_and_a_machine_datetime_keeps_its_time():
    assert window("after 3").day == MONDAY
    got = window(None, "2026-12-08T14:30:00")
    assert (got.day, got.window) == (date(2026, 12, 8), TimeWindow("at", start=time(14, 30)))


@pytest.mark.parametrize("said", ["banana", "after the game", "between lunch and dinner", "around then", "soon-ish",
                                  "after", "before", "25:00", "after 25"])
def test_what_is_no_window_is_asked_again(said):
    with pytest.raises(NormalizationError) as asked:
        window(said)
    assert asked.value.reask in ("appointment_time_invalid", "appointment_time_meridiem")


def test_a_day_that_cannot_be_had_is_asked_about_with_its_window():
    with pytest.raises(NormalizationError) as asked:
        window(None, "yesterday morning", today=MONDAY + timedelta(days=2))
    assert asked.value.reask == "appointment_date_passed"


# --- speech: the window as a sentence, every line one line -----------------------------------------

WINDOWS = st.one_of(
    st.just(TimeWindow()),
    st.sampled_from(sorted(DAY_PARTS)).map(lambda key: TimeWindow("part", part=key)),
    st.builds(lambda h, m, kind: TimeWindow(kind, start=time(h, m)), st.integers(0, 23), st.sampled_from([0, 15, 30, 45]),
              st.sampled_from(["after", "around", "at"])),
    st.builds(lambda h, m, kind: TimeWindow(kind, end=time(h, m)), st.integers(0, 23), st.sampled_from([0, 30]),
              st.sampled_from(["before", "by"])),
    st.builds(lambda a, b: TimeWindow("between", start=time(min(a, b)), end=time(max(a, b) + 1)),
              st.integers(0, 22), st.integers(0, 22)),
)
INSTANTS = st.lists(st.datetimes(min_value=datetime(2026, 12, 1), max_value=datetime(2027, 3, 1)), max_size=6)
NAMES = st.sampled_from([None, "Dr. Anika Patel", "Nurse Joy Kim", "Dr. Maximiliana Featherstonehaugh-Worthington"])


@settings(max_examples=300, deadline=None)
@given(WINDOWS, st.sampled_from(["closed", "outside_hours", "provider_off", "passed", "full", "unknown"]),
       st.dates(date(2026, 12, 1), date(2027, 3, 1)), INSTANTS, NAMES, st.booleans())
def test_every_empty_window_line_passes_the_speech_checks(win, reason, day, instants, provider, with_names):
    slots = [at.replace(tzinfo=NEW_YORK).isoformat() for at in instants]
    pairs = [(slot, provider or "Dr. Marcus Lee") for slot in slots] if with_names else None
    line = speech.window_alternatives(reason, win, day, date(2026, 12, 1), slots, NEW_YORK,
                                      provider_slots=pairs, provider=provider)
    assert line == speech.one_line(line) and len(line) <= speech.MAX_LINE_LENGTH, line
    assert not re.search(r"\d{4}-\d{2}-\d{2}|T\d{2}:\d{2}|\dZ\b", line), line
    assert line.endswith(("?", ".")), line


def test_the_window_words():
    assert speech.window_words(TimeWindow()) == ""
    assert speech.window_words(TimeWindow("after", start=time(17))) == "after 5:00 PM"
    assert speech.window_words(TimeWindow("before", end=time(12))) == "before noon"
    assert speech.window_words(TimeWindow("by", end=time(11))) == "by 11:00 AM"
    assert speech.window_words(TimeWindow("between", start=time(14), end=time(16))) == "between 2:00 PM and 4:00 PM"
    assert speech.window_words(TimeWindow("around", start=time(14))) == "around 2:00 PM"
    assert speech.window_words(TimeWindow("at", start=time(14, 30))) == "from 2:30 PM"
    assert speech.window_words(TimeWindow("part", part="morning")) == "in the morning"


def test_the_issue_s_line():
    line = speech.window_alternatives(
        "full", TimeWindow("after", start=time(17)), date(2026, 12, 8), date(2026, 12, 1),
        ["2026-12-08T14:00:00Z", "2026-12-08T14:30:00Z", "2026-12-09T22:00:00Z"], NEW_YORK)
    assert line == ("I don't have anything after 5:00 PM on Tuesday, December 8th; I do have 9:00 AM or 9:30 AM "
                    "that morning, or Wednesday, December 9th at 5:00 PM — would any of those work?")


@pytest.mark.parametrize("time_text,days,expected", [
    ("tomorrow afternoon", 1, TimeWindow("part", part="afternoon")),
    ("in the afternoon tomorrow", 1, TimeWindow("part", part="afternoon")),
    ("first thing tomorrow", 1, TimeWindow("part", part="first_thing")),
    ("anytime after 2 tomorrow", 1, TimeWindow("after", start=time(14))),
    ("after 3pm on Friday", 4, TimeWindow("after", start=time(15))),
    ("Friday morning", 4, TimeWindow("part", part="morning")),
    ("Thursday between 2 and 4", 3, TimeWindow("between", start=time(14), end=time(16))),
])
def test_a_time_argument_that_carries_its_day(time_text, days, expected):
    # Models put the whole phrase into `time` as often as into `date`.
    got = window(time_text)
    assert (got.day, got.window) == (MONDAY + timedelta(days=days), expected), got


@pytest.mark.parametrize("said,expected", [
    ("morning or early afternoon", TimeWindow("before", end=time(15))),
    ("late morning or early afternoon", TimeWindow("between", start=time(10), end=time(15))),
    ("after lunch or in the evening", TimeWindow("after", start=time(13))),
    ("10 or 11", TimeWindow("after", start=time(10))),
    ("around 10 or around 11", TimeWindow("between", start=time(9), end=time(12, 1))),
    ("mornings or evenings", TimeWindow()),
])
def test_two_windows_said_together_are_one_that_holds_both(said, expected):
    assert window(said).window == expected


@pytest.mark.parametrize("said,expected", [
    ("any morning", TimeWindow("part", part="morning")), ("every afternoon", TimeWindow("part", part="afternoon")),
    ("earliest you have", TimeWindow()), ("what do you have this afternoon", TimeWindow("part", part="afternoon", today=True)),
    ("what's free after 3", TimeWindow("after", start=time(15))), ("later this afternoon", TimeWindow("part", part="afternoon", today=True)),
    ("how about around 2", TimeWindow("around", start=time(14))), ("noonish", TimeWindow("around", start=time(12))),
    ("10:30ish", TimeWindow("around", start=time(10, 30))), ("around midday", TimeWindow("around", start=time(12))),
    ("between 9 and 11 in the morning", TimeWindow("between", start=time(9), end=time(11))),
    ("between 1 and 3 in the afternoon", TimeWindow("between", start=time(13), end=time(15))),
    ("before 11 am", TimeWindow("before", end=time(11))), ("after 4 p.m.", TimeWindow("after", start=time(16))),
])
def test_how_callers_wrap_a_window(said, expected):
    assert window(said).window == expected


def test_any_morning_next_week():
    for date_text, time_text in (("any morning next week", None), ("next week", "any morning")):
        got = window(time_text, date_text)
        assert (got.day, got.window.part) == (MONDAY + timedelta(days=7), "morning")


def test_text_longer_than_any_spoken_window_is_asked_again_at_once():
    for time_text, date_text, code in (("between 2 and 4 " * 5000, None, "appointment_time_invalid"),
                                       (None, "tomorrow or " * 5000, "appointment_date_invalid")):
        with pytest.raises(NormalizationError) as asked:
            window(time_text, date_text)
        assert asked.value.reask == code


@pytest.mark.parametrize("date_text,day", [("14th Jan 2027", date(2027, 1, 14)), ("January 14, 2027", date(2027, 1, 14)),
                                           ("Dec 3 2026", date(2026, 12, 3)), ("3 December 2030", date(2030, 12, 3))])
def test_a_year_after_a_day_is_no_run_together_time(date_text, day):
    got = window(None, date_text)
    assert got.day == day and got.window == TimeWindow(), got


def test_run_together_digits_as_the_time_argument_are_a_time():
    assert window("2030").window == TimeWindow("at", start=time(20, 30))  # the time argument: a clock time
