"""Times said back as heard, and availability asked as a question (issue 11, probe round 3 classes A, C, G).

A. After "Dr. Lee is free at 1:00 PM, 1:30 PM, or 2:00 PM" callers answer "the 1:30", "let's do two",
   "I'll take the 2 o'clock", "the 2pm one", "1:30 is fine", "Tuesday at 1:30": the words around the time
   only say that the caller takes it (api.normalize.normalize_time); a day inside the time must agree with
   the date argument (else appointment_time_day_mismatch). "The first one" / "the last one" name a place in
   an offer the server never keeps: appointment_time_offered asks for the time itself.
C. The whole question in checkAvailability's date or time ("is Dr. Patel in on Friday?", "what's your
   earliest?", "are you open Saturday morning?"): the question words go, the day and window are read
   (api.normalize.read_question / normalize_availability), and a provider asked about is passed on as
   p_provider when providerName is empty (SQL resolves it).
G. "Anyone but X" for the rest of the call is the assistant's to repeat (api/prompts.py rule).
"""

from __future__ import annotations

from datetime import date, time
from zoneinfo import ZoneInfo

import pytest

from api import speech
from api.normalize import NormalizationError, OpeningHours, normalize_availability, normalize_datetime, \
    normalize_time, read_question
from api.prompts import Clinic, enforced_prompt
from api.tools import dispatch
from test_provider_voice import MULTI, ctx, spoken_ok
from test_caller_verification import RecordingGateway

NEW_YORK = ZoneInfo("America/New_York")
# Sunrise: Mon–Fri 09:00–12:00 and 13:00–17:00, Sat 09:00–13:00
SUNRISE = OpeningHours(tuple([(d, 540, 720) for d in range(1, 6)] + [(d, 780, 1020) for d in range(1, 6)]
                             + [(6, 540, 780)]))
MONDAY = date(2027, 1, 4)
TUESDAY = date(2027, 1, 19)  # two weeks on: "Tuesday" alone reads as Jan 5, the weekday still agrees


def at(text: str, weekday: int = 2) -> time:
    return normalize_time(text, SUNRISE, weekday)


def reask_of(call) -> NormalizationError:
    with pytest.raises(NormalizationError) as caught:
        call()
    return caught.value


# ---------------------------------------------------------------------------------------------
# A. An offered time said back as heard
# ---------------------------------------------------------------------------------------------

TIMES = [("1:30", time(13, 30)), ("two", time(14)), ("2 o'clock", time(14)), ("2pm", time(14)),
         ("half past one", time(13, 30)), ("one thirty", time(13, 30)), ("10", time(10)), ("noon", time(12))]
WRAPPERS = ["the {}", "let's do {}", "let's go with {}", "I'll take {}", "I'll take the {}", "I'd like the {}",
            "{} works", "{} works for me", "{} is fine", "{} sounds good", "{} would be great", "the {} one",
            "the {} slot", "yes, {} please", "ok {} then", "can I get the {}", "make it {}", "{}'s good",
            "perfect, the {} works", "how about the {}"]


@pytest.mark.parametrize("wrapper", WRAPPERS)
@pytest.mark.parametrize("said,expected", TIMES)
def test_a_time_wrapped_in_words_that_take_it_is_the_time(wrapper, said, expected):
    assert at(wrapper.format(said)) == expected


@pytest.mark.parametrize("text,expected", [
    ("half one", time(13, 30)), ("at one", time(13)), ("one", time(13)), ("the half one", time(13, 30)),
    ("ten to four", time(15, 50)), ("10 sharp", time(10)), ("2ish", time(14)),
])
def test_the_wrappers_leave_one_and_half_one_alone(text, expected):
    assert at(text) == expected


@pytest.mark.parametrize("text", [
    "the first one", "the last one", "the earlier one", "the later one", "the second one", "the middle one",
    "the first", "the last", "I'll take the first one", "let's do the last one", "the first one works",
    "first one", "last option", "the earliest one", "the latter",
])
def test_a_time_named_by_its_place_in_the_offer_asks_for_the_time_itself(text):
    error = reask_of(lambda: at(text))
    assert (error.field, error.reask) == ("appointmentTime", "appointment_time_offered")
    assert speech.reask(error.reask) == "Which time would you like? Please tell me the time itself."


@pytest.mark.parametrize("text", ["sounds good", "that works", "first", "later", "whenever", "the blue one"])
def test_words_with_no_time_and_no_place_are_still_no_time(text):
    assert reask_of(lambda: at(text)).reask == "appointment_time_invalid"


@pytest.mark.parametrize("time_text", [
    "Tuesday at 1:30", "1:30 on Tuesday", "Tuesday 1:30", "on Tuesday, the 1:30", "let's do Tuesday at 1:30",
    "Tuesday the 19th at 1:30", "the 19th at 1:30", "January 19th at 1:30", "Tues at half past one",
])
def test_a_day_in_the_time_that_agrees_with_the_date_is_read(time_text):
    start = normalize_datetime("January 19th", time_text, MONDAY, NEW_YORK, hours=SUNRISE)
    assert (start.date(), start.time()) == (TUESDAY, time(13, 30))


def test_tomorrow_in_both_is_tomorrow():
    start = normalize_datetime("tomorrow", "tomorrow at 2", MONDAY, NEW_YORK, hours=SUNRISE)
    assert (start.date(), start.time()) == (date(2027, 1, 5), time(14))


@pytest.mark.parametrize("time_text,named", [
    ("Wednesday at 1:30", date(2027, 1, 6)), ("1:30 on Thursday", date(2027, 1, 7)),
    ("the 20th at 1:30", date(2027, 1, 20)), ("tomorrow at 1:30", date(2027, 1, 5)),
])
def test_a_day_in_the_time_that_disagrees_with_the_date_is_asked_about(time_text, named):
    error = reask_of(lambda: normalize_datetime("January 19th", time_text, MONDAY, NEW_YORK, hours=SUNRISE))
    assert (error.field, error.reask, error.choices) == ("appointmentDate", "appointment_time_day_mismatch",
                                                         (TUESDAY, named))
    line = speech.reask(error.reask, error.choices)
    spoken_ok(line)
    assert speech.spoken_date(TUESDAY) in line and speech.spoken_date(named) in line, line
    spoken_ok(speech.reask(error.reask))  # without its days


# ---------------------------------------------------------------------------------------------
# C. The whole question in date or time
# ---------------------------------------------------------------------------------------------

FRIDAY, SATURDAY, THURSDAY = date(2027, 1, 8), date(2027, 1, 9), date(2027, 1, 7)
QUESTIONS = [  # date, time → day, window kind, part, provider
    ("is Dr. Patel in on Friday?", None, FRIDAY, "day", None, "Dr. Patel"),
    ("is Dr. Patel in Friday", None, FRIDAY, "day", None, "Dr. Patel"),
    ("Friday", "is Dr. Patel in?", FRIDAY, "day", None, "Dr. Patel"),
    ("will Dr. Lee be in on Friday?", None, FRIDAY, "day", None, "Dr. Lee"),
    ("is Dr. Patel available Friday afternoon?", None, FRIDAY, "part", "afternoon", "Dr. Patel"),
    ("does Dr. Patel work Fridays?", None, FRIDAY, "day", None, "Dr. Patel"),
    ("when's Dr Lee working next week?", None, date(2027, 1, 11), "day", None, "Dr Lee"),
    ("when is the nurse in?", None, MONDAY, "day", None, "the nurse"),
    ("is the hygienist in Friday afternoon?", None, FRIDAY, "part", "afternoon", "the hygienist"),
    ("what's your earliest?", None, MONDAY, "day", None, None),
    (None, "what's your earliest appointment", MONDAY, "day", None, None),
    ("what is the next available?", None, MONDAY, "day", None, None),
    ("anything thursday pm", None, THURSDAY, "part", "after_noon", None),
    ("anything Thursday afternoon?", None, THURSDAY, "part", "afternoon", None),
    ("can I get something Thursday morning?", None, THURSDAY, "part", "morning", None),
    ("could I come in Thursday after 3", None, THURSDAY, "after", None, None),
    ("any openings Friday?", None, FRIDAY, "day", None, None),
    ("is there anything on Friday", None, FRIDAY, "day", None, None),
    ("what do you have Friday morning?", None, FRIDAY, "part", "morning", None),
    ("Saturday", "are you open Saturday morning?", SATURDAY, "part", "morning", None),
    ("are you open on Saturday?", None, SATURDAY, "day", None, None),
    ("is Friday afternoon free?", None, FRIDAY, "part", "afternoon", None),
    ("do you have anything Thursday afternoon?", None, THURSDAY, "part", "afternoon", None),
]


@pytest.mark.parametrize("date_text,time_text,day,kind,part,provider", QUESTIONS)
def test_a_question_in_date_or_time_is_read(date_text, time_text, day, kind, part, provider):
    request = normalize_availability(date_text, time_text, MONDAY, NEW_YORK, hours=SUNRISE)
    assert (request.day, request.window.kind, request.provider) == (day, kind, provider)
    if part is not None:
        assert request.window.part == part


@pytest.mark.parametrize("text,expected", [
    ("is Dr. Patel in on Friday?", ("Friday", "Dr. Patel")),
    ("when is the nurse in?", ("", "the nurse")),
    ("is anyone in on Friday?", ("Friday", None)),  # nobody in particular: no provider
    ("is somebody available tomorrow", ("tomorrow", None)),
    ("is it open Friday", ("Friday", None)),
    ("what's your earliest?", ("earliest", None)),
    ("anything thursday pm", ("thursday pm", None)),
    ("Friday", ("Friday", None)),
    ("whenever you're open", ("whenever you're open", None)),
])
def test_read_question(text, expected):
    assert read_question(text) == expected


@pytest.mark.parametrize("date_text,day", [("is anyone in on Friday?", FRIDAY), ("whenever you're open", MONDAY),
                                           ("is somebody available Thursday", THURSDAY)])
def test_not_every_is_in_names_a_provider(date_text, day):
    request = normalize_availability(date_text, None, MONDAY, NEW_YORK, hours=SUNRISE)
    assert (request.day, request.provider) == (day, None)


AVAILABLE = {"success": True, "slots": [], "slotProviders": [], "timezone": "America/New_York"}


@pytest.mark.parametrize("arguments,provider", [
    ({"date": "is Dr. Patel in on Friday?"}, "Dr. Patel"),
    ({"date": "Friday", "time": "is Dr. Lee in?"}, "Dr. Lee"),
    ({"date": "when is the nurse in?"}, "the nurse"),
])
def test_the_provider_asked_about_goes_to_sql_as_said(arguments, provider):
    gateway = RecordingGateway(AVAILABLE)
    dispatch("checkAvailability", ctx(gateway), arguments)
    ((name, params),) = gateway.calls
    assert name == "check_availability" and params["p_provider"] == provider


def test_a_provider_argument_wins_over_the_one_in_the_question():
    gateway = RecordingGateway(AVAILABLE)
    dispatch("checkAvailability", ctx(gateway), {"date": "is Dr. Patel in on Friday?", "providerName": "Dr. Lee"})
    ((_, params),) = gateway.calls
    assert params["p_provider"] == "Dr. Lee"


def test_a_question_naming_nobody_sends_no_provider():
    gateway = RecordingGateway(AVAILABLE)
    dispatch("checkAvailability", ctx(gateway), {"date": "what's your earliest?"})
    ((_, params),) = gateway.calls
    assert "p_provider" not in params and "p_exclude_provider" not in params


# ---------------------------------------------------------------------------------------------
# A/G. The prompt
# ---------------------------------------------------------------------------------------------


def test_the_prompt_says_to_pass_the_actual_time_and_to_repeat_the_provider():
    prompt = " ".join(enforced_prompt(None, Clinic.from_profile(MULTI), None,
                                      now=__import__("datetime").datetime(2027, 1, 4, 13, tzinfo=NEW_YORK)).split())
    assert "always pass the actual time as appointmentTime or newTime" in prompt
    assert "never its place in the list" in prompt
    assert ("pass that same providerName, as they said it, on every later checkAvailability, "
            "bookClinicAppointment and rescheduleAppointment in this call, unless the caller changes their mind"
            in prompt)
