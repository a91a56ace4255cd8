"""Turn the loose arguments a voice assistant sends into clean booking values.

Everything here is a pure function: the clinic's "today", time zone and phone
region are passed in, so the same input always gives the same output and the
tests never depend on the real clock.

When a value cannot be used, a :class:`NormalizationError` is raised. It names
the Vapi argument (``field``) and carries a re-ask code (``reask``, e.g.
``appointment_time_missing``); api/speech.py owns the sentence the caller hears
for each code. Nothing here decides what the database decides: whether an
e-mail address is plausible, whether a phone number is E.164 enough to store,
or when the clinic is open (the opening hours come from SQL's clinic profile).
"""

from __future__ import annotations

import calendar
import functools
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any

import phonenumbers
from dateutil.relativedelta import relativedelta

logger = logging.getLogger(__name__)

MAX_NAME_LENGTH = 120
MAX_DATE_TEXT_LENGTH = 120



class NormalizationError(ValueError):
    """A caller-supplied value could not be used.

    ``field`` is the Vapi argument name (e.g. ``"patientPhone"``); ``reask`` is
    the re-ask code (e.g. ``"patient_phone_invalid"``) that api.speech.reask
    turns into the question the caller hears. ``choices`` are the readings to
    choose from when the code asks which one is meant (the two clock times of
    ``appointment_time_meridiem``).
    """

    def __init__(self, field: str, reask: str, choices: tuple = ()):
        super().__init__(f"{field}: {reask}")
        self.field = field
        self.reask = reask
        self.choices = tuple(choices)


# --------------------------------------------------------------------------
# Words for numbers, months and weekdays (dates, dates of birth, phone digits)
# --------------------------------------------------------------------------

# Regions whose numeric dates are written month first (03/05/1980 = March 5th): the US and the
# territories that use its conventions. Everywhere else a numeric date is read day first.
MONTH_FIRST_REGIONS = frozenset({"US", "PR", "GU", "VI", "AS", "MP", "UM"})

_MONTH_NAMES = {
    **{calendar.month_name[m].lower(): m for m in range(1, 13)},
    **{calendar.month_abbr[m].lower(): m for m in range(1, 13)},
    "sept": 9,
}
_UNIT_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9,
}
_ZERO_WORDS = {"oh", "o", "zero", "nought", "aught"}
_TEEN_WORDS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS_WORDS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}
_ORDINAL_UNIT_WORDS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5,
    "sixth": 6, "seventh": 7, "eighth": 8, "ninth": 9,
}
_ORDINAL_WORDS = {
    **_ORDINAL_UNIT_WORDS,
    "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
    "nineteenth": 19, "twentieth": 20, "thirtieth": 30,
}
_WEEKDAY_WORDS = {  # PostgreSQL's extract(dow): 0 = Sunday
    "sunday": 0, "sun": 0, "monday": 1, "mon": 1, "tuesday": 2, "tue": 2, "tues": 2,
    "wednesday": 3, "wed": 3, "weds": 3, "wednes": 3, "thursday": 4, "thu": 4, "thur": 4, "thurs": 4,
    "friday": 5, "fri": 5, "saturday": 6, "sat": 6,
}


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------

# A month and day said without a year that fell this recently is a day that has passed (the
# caller is told so), not next year's; an older one is next year's.
RECENTLY_PASSED_DAYS = 30


def normalize_date(
    text: str,
    today: date,
    *,
    region: str = "US",
    hours: OpeningHours | None = None,
    searching: bool = False,
) -> date:
    """Read a day as a caller says it (or a model writes it) into a clinic-local date.

    ``today`` is the clinic's local date, ``region`` its phone region (the order of numeric
    dates), ``hours`` its opening hours (SQL's; only for "end of next week"). The same text,
    ``today``, region and hours always give the same date. The grammar, case and filler words
    ("on", "the", "of", "please", "in the morning") aside:

    * ``today``, ``tonight``, ``this afternoon``, ``tomorrow``, ``the day after tomorrow``.
    * Offsets: ``in two weeks``, ``in 3 days``, ``in a fortnight``, ``in a month``, ``two weeks
      from now``; from another day: ``a week from today / tomorrow / Friday / next Monday / the
      3rd``, ``a week on Friday``, ``two weeks tomorrow``. A weekday *in* an offset's week:
      ``Tuesday in two weeks``, ``in two weeks on Tuesday`` (the Tuesday of the week two weeks
      from today).
    * Weekdays: ``Monday`` / ``this Monday`` / ``on Monday``: today if today is a Monday, else the
      next Monday. ``next Monday`` / ``this coming Monday`` / ``the following Monday``: the first
      Monday strictly after today (said on a Thursday, the coming Monday; said on a Monday, a week
      later). ``Monday after next``: a week after that.
    * Weeks run Monday to Sunday: ``Wednesday next week`` / ``next week Wednesday`` / ``Wednesday
      of next week``, ``Friday this week``, ``Monday the week after next``. ``end of the week`` /
      ``end of next week``: that week's last day the clinic opens from Monday to Friday (Friday
      when the hours say nothing); ``beginning of next week`` its first, ``middle of next week``
      its Wednesday; within this week never before today. ``this weekend``: Saturday (Sunday when
      said on a Sunday); ``next weekend``: next week's Saturday, ``the weekend after next`` the
      one after. A week of a month (``first``…``fourth`` / ``last week of February``, ``early`` /
      ``mid`` / ``end of March``: from the 1st, 8th, 15th, 22nd, 11th or the last seven days of the
      nearest such month not yet over) is read like ``next week``. A week without a day (``next week``) is re-asked
      (``appointment_date_week``, ``choices``: its Monday) unless ``searching``
      (checkAvailability): then it names the week's first day not before today, and ``as soon as
      possible`` / ``first available`` / ``any day`` name today, ``later this week`` tomorrow (when
      booking: this week's last open day, as ``end of this week``), ``next month`` its 1st (when
      booking it is re-asked as ``appointment_date_invalid``: a month is no day).
    * British ``Monday week`` / ``tomorrow week`` (a week on from that day); ``Wednesday coming`` /
      ``this Wednesday coming`` (the coming Wednesday); ``in a year``, ``next year``, ``this time
      next year``, ``in two years`` (a year on from today: SQL says how far ahead the clinic books).
    * The nth or last weekday of a month: ``the second Tuesday in February``, ``third Wednesday of
      March``, ``the last Monday in Feb``, ``first Friday of next month``, ``2nd Tue this month``,
      with or without a year: the weekdays counted, in the nearest such month that has not ended
      (one of its days that has passed is ``appointment_date_passed``); a month without that many
      (a fifth Monday) is ``appointment_date_invalid``.
    * A day of the month: ``the 3rd``, ``the third``, ``the first``, ``the twenty-first`` (up to
      ``thirty-first``): the nearest one from today on. ``the 3rd of next month``.
    * Month and day: ``December third``, ``third of December``, ``Dec. 3rd``, ``Dec 3``, ``3
      December``, with or without a year (``2026``, ``'26``, ``twenty twenty-six``). Numeric:
      ``12/3``, ``12/3/2026``, ``12-3-26``: month first for US clinics (and US territories), day
      first elsewhere; the other order when only it is a date (``25/12`` in the US). ISO
      ``2026-12-03`` and ISO datetimes (date part as written; :func:`normalize_datetime`
      converts instants with an offset).
    * A weekday said with a date (``Thursday the 3rd``, ``Tuesday, January 20th``) must agree
      with it; otherwise the caller is asked which one is meant
      (``appointment_date_weekday_mismatch``, ``choices``: the date, and the nearest such weekday;
      for a day of the month said without a month, also the next date that is both, when there is
      one within HINT_SEARCH_DAYS: "Wednesday the 17th" → a later month's Wednesday the 17th).
    * A time said with the day (``tomorrow at 2pm``, ``Friday 10am``, ``noon tomorrow``) is not
      part of it; :func:`normalize_datetime` uses it when no time argument is given.
    * Words wrapped around the day do not matter: ``uh tomorrow I guess``, ``Thursday, if
      possible``, ``how about Friday``, ``I'd like Thursday please``, ``any time Thursday``.

    Years: a date before today — a model's stale year (``2024-12-03``) or a month/day without a
    year — is its next occurrence from today on (Feb 29 waits for a leap year), *unless* that
    month/day fell within the last 30 days (``November 29th`` said on November 30th,
    ``yesterday``, ``Monday this week`` on a Wednesday): then it has passed and the caller is told
    so (``appointment_date_passed``, ``choices``: the passed date). Anything else is re-asked as
    ``appointment_date_invalid``.
    """
    local_date, _ = _parse_date_and_time(text, today, None, region=region, hours=hours,
                                         searching=searching)
    return local_date


# An offset said (or written) with a minus: "in -3 days", "in minus three days", "-2 weeks", "negative
# one week from today". Without this the sign was dropped ("in -3 days" read as in 3 days); it names
# no day to book or search, so it is re-asked, never turned into a past or another day. A numeric
# date's dashes ("12-3", "2026-12-03") are not a sign: the minus must not follow a digit or letter.
_NEGATIVE_OFFSET = re.compile(
    r"(?<![\w/.\-])(?:[-\u2212\u2013\u2014]\s*(?:\d+|[a-z]+)|(?:minus|negative)\s+\S+)\s*"
    r"(?:days?|weeks?|fortnights?|months?|years?)\b",
    re.IGNORECASE,
)


def _parse_date_and_time(
    text: Any,
    today: date,
    tz: tzinfo | None,
    *,
    region: str = "US",
    hours: OpeningHours | None = None,
    searching: bool = False,
) -> tuple[date, time | str | None]:
    """The clinic-local date and any time said with it: a ``time`` from an ISO datetime, the
    spoken words from ``tomorrow at 2pm`` (read by :func:`normalize_time`), or None.

    With ``tz`` given, an ISO datetime carrying an offset is converted to that zone first; without
    it, the date is taken as written.
    """
    if not isinstance(text, str) or not text.strip():
        raise NormalizationError("appointmentDate", "appointment_date_missing")
    cleaned = " ".join(text.strip().split())
    if len(cleaned) > MAX_DATE_TEXT_LENGTH:  # no spoken date is that long; never tokenize 100 kB
        raise NormalizationError("appointmentDate", "appointment_date_invalid")

    if _NEGATIVE_OFFSET.search(cleaned):  # "in -3 days", "minus two weeks": no day to book or search
        raise NormalizationError("appointmentDate", "appointment_date_invalid")

    reader = _DateReader(today, region, hours, searching)
    iso = _parse_iso(cleaned)
    if isinstance(iso, datetime):
        if iso.tzinfo is not None and tz is not None and not _is_midnight(iso):
            iso = _convert(iso, tz)
        said_time = None if _is_midnight(iso) else iso.time().replace(tzinfo=None)
        reading = _Reading(iso.date(), "calendar", explicit_year=True)
    elif isinstance(iso, date):
        reading, said_time = _Reading(iso, "calendar", explicit_year=True), None
    else:
        day_text, said_time = _split_off_time(cleaned)
        reading = reader.read(_date_tokens(day_text, today))
    if reading is None:
        raise NormalizationError("appointmentDate", "appointment_date_invalid")
    try:
        return reader.finish(reading), said_time
    except OverflowError:  # only at the very ends of the calendar
        raise NormalizationError("appointmentDate", "appointment_date_invalid") from None


def _parse_iso(text: str) -> date | datetime | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _is_midnight(value: datetime) -> bool:
    # Models often write a bare date as "2026-01-20T00:00:00Z". Nobody books a
    # clinic visit at midnight, so treat that as a date-only value (taken as
    # written, not shifted across the date line by the offset).
    return value.time() == time(0, 0)


# "tomorrow at 2pm", "Friday, 10:30 am", "Monday noon": the day, and a time left to normalize_time.
_TIME_AFTER_DAY = re.compile(
    r"^(?P<day>.*?[^\s,]),?\s+(?:(?:at|@)\s+)?"
    r"(?P<time>\d{1,2}(?:[:.]\d{2})?\s*[ap]\.?\s*m\.?|noon|midday)$"
    r"|^(?P<day2>.*?[^\s,]),?\s+(?:at|@)\s+(?P<time2>(?:\d|noon\b|midday\b|half\b|quarter\b|"
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\b).*)$",
    re.IGNORECASE,
)


# "2pm tomorrow", "noon on Friday".
_TIME_BEFORE_DAY = re.compile(
    r"^(?P<time>\d{1,2}(?:[:.]\d{2})?\s*[ap]\.?\s*m\.?|noon|midday),?\s+(?:on\s+)?(?P<day>\S.*)$",
    re.IGNORECASE,
)


def _split_off_time(text: str) -> tuple[str, str | None]:
    match = _TIME_AFTER_DAY.match(text)
    if match is not None:
        return (match["day"] or match["day2"]), (match["time"] or match["time2"])
    match = _TIME_BEFORE_DAY.match(text)
    if match is not None:
        return match["day"], match["time"]
    return text, None


# -- words -> tokens ---------------------------------------------------------------------------
#
# The text is lower-cased and split into words; each word that carries a value becomes a token
# the grammar below matches with regular expressions: "wd4" (a weekday, 0 = Sunday as
# PostgreSQL's extract(dow)), "mo12" (a month), "od3" (an ordinal: 3rd, third, twenty-first),
# "nm2" (a cardinal: 2, two, twenty one), "yr2026" (a year: 2026, '26), "nd12/3" (a numeric
# date). Other words stay as they are; filler words are dropped.

_DATE_WORD = re.compile(
    r"\d{1,4}[/.\-]\d{1,2}(?:[/.\-]\d{1,4})?(?!\d)|'\d{2}(?!\d)|\d+(?:st|nd|rd|th)?|[a-z]+"
)
_DATE_SPELLINGS = {
    "tmrw": "tomorrow", "tmr": "tomorrow", "tomorow": "tomorrow", "tommorow": "tomorrow",
    "tommorrow": "tomorrow", "2morrow": "tomorrow", "wk": "week", "wks": "weeks",
    "midweek": "mid week", "asap": "soonest",
}
# What callers wrap a day in ("uh tomorrow I guess", "Thursday, if possible", "how about Friday"):
# taken off before the words are read (on the lower-cased, space-separated words; "i'd" is "i d").
_DATE_WRAPPING = re.compile(
    r"\b(?:if (?:(?:that|it) s |that is |it is )?(?:possible|ok|okay|alright|all right|you can|you have (?:it|one|anything))"
    r"|i (?:guess|think|suppose|reckon)|would be (?:good|great|best|fine|ideal|nice|perfect)"
    r"|(?:is|s) (?:fine|good|best|better|ideal|ok|okay)|works(?: for me| best| better)?|suits me"
    r"|thanks|thank you|ideally|preferably|probably|hmm|well|ok|okay|so|just|then"
    r"|i d (?:like|prefer)|i would (?:like|prefer)|i (?:want|need|prefer)|what about"
    r"|can i (?:get|come in|do|have)|could i (?:get|come in|do|have)|do you have(?: anything| something)?"
    r"|have you got(?: anything| something)?|any ?time(?: on)?|please)\b"
)
# Phrases rewritten before the words are read (on the lower-cased, space-separated words).
_DATE_PHRASES = (
    (_DATE_WRAPPING, " "),
    (re.compile(r"^\s+|\s+$"), ""),
    (re.compile(r"\s{2,}"), " "),
    # "Monday week", "tomorrow week" (British): a week on from that day.
    (re.compile(r"^(?:this )?(?P<day>monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|weds|"
                r"thu|thur|thurs|fri|sat|sun|tomorrow|today) week$"), r"a week \g<day>"),
    # "Wednesday coming", "this Wednesday coming": the coming Wednesday.
    (re.compile(r"^(?:this )?(?:the )?(?P<day>[a-z]+day|mon|tue|tues|wed|weds|thu|thur|thurs|fri|sat|sun) coming$"),
     r"coming \g<day>"),
    # "this time next year", "next year", "a year from now": a year from today (beyond any horizon).
    (re.compile(r"^(?:(?:this|same) time |around this time )?next year$"), "in a year"),
    (re.compile(r"\b(?:this|today) (?:morning|afternoon|evening|lunchtime)\b|\btonight\b"), "today"),
    (re.compile(r"\b(?:the )?day after tomorrow\b|\bovermorrow\b"), "dayaftertomorrow"),
    (re.compile(r"\b(?:the )?day before yesterday\b"), "daybeforeyesterday"),
    (re.compile(r"^(?:as soon as possible|as early as possible|(?:the )?(?:earliest|soonest)(?: possible| available)?"
                r"(?: day| date| time| opening| appointment| slot)?|(?:the )?(?:first|next) (?:available|possible|open)"
                r"(?: day| date| time| opening| appointment| slot)?|any day(?: is fine)?|whichever day|whenever)$"), "soonest"),
    (re.compile(r"\b(?:in the )?(?:morning|afternoon|evening|night|lunchtime)\b"), ""),
    (re.compile(r"\b(?:weeks?|days?|months?|fortnights?) time\b"), lambda m: m[0].rsplit(" ", 1)[0]),
)
_DATE_FILLER = {
    "on", "the", "of", "for", "by", "at", "um", "uh", "er", "erm", "please", "maybe", "perhaps",
    "around", "about", "sometime", "s", "say", "like", "how", "lets", "let", "date",
}
_DAY_UNITS = {"day": 1, "days": 1, "week": 7, "weeks": 7, "fortnight": 14, "fortnights": 14}
_MONTH_UNITS = {"month": 1, "months": 1, "year": 12, "years": 12}


def _date_tokens(text: str, today: date) -> list[str]:
    words = []
    for word in _DATE_WORD.findall(text.lower().replace("’", "'").replace("‘", "'")):
        words.extend(_DATE_SPELLINGS.get(word, word).split())
    phrase = " ".join(words)
    for pattern, replacement in _DATE_PHRASES:
        phrase = pattern.sub(replacement, phrase)
    words = phrase.split()

    tokens = []
    at = 0
    while at < len(words):
        word = words[at]
        following = words[at + 1] if at + 1 < len(words) else None
        if re.fullmatch(r"\d+[/.\-]\d+(?:[/.\-]\d+)?", word):
            tokens.append(f"nd{word}")
        elif word.startswith("'"):
            tokens.append(f"yr{today.year // 100 * 100 + int(word[1:])}")
        elif len(word) > 12 and word[:13].isdigit():
            # no day, month or year has this many digits (and int() refuses over 4,300): unreadable
            tokens.append("unreadable")
        elif re.fullmatch(r"\d+(?:st|nd|rd|th)", word):
            tokens.append(f"od{int(word[:-2])}")
        elif word.isdigit():
            tokens.append(f"yr{int(word)}" if len(word) == 4 else f"nm{int(word)}")
        elif word in _TENS_WORDS and following in _ORDINAL_UNIT_WORDS:  # twenty-first
            tokens.append(f"od{_TENS_WORDS[word] + _ORDINAL_UNIT_WORDS[following]}")
            at += 1
        elif word in _TENS_WORDS and following in _UNIT_WORDS:  # twenty one
            tokens.append(f"nm{_TENS_WORDS[word] + _UNIT_WORDS[following]}")
            at += 1
        elif word in _ORDINAL_WORDS:
            tokens.append(f"od{_ORDINAL_WORDS[word]}")
        elif word in _UNIT_WORDS or word in _TEEN_WORDS or word in _TENS_WORDS:
            tokens.append(f"nm{_UNIT_WORDS.get(word) or _TEEN_WORDS.get(word) or _TENS_WORDS[word]}")
        elif word in _WEEKDAY_WORDS:
            tokens.append(f"wd{_WEEKDAY_WORDS[word]}")
        elif word in _MONTH_NAMES:
            tokens.append(f"mo{_MONTH_NAMES[word]}")
        else:
            tokens.append(word)
        at += 1
    return tokens


# -- the grammar -------------------------------------------------------------------------------

_COUNT = r"(?P<count>a|an|nm\d+|a couple|couple)"
_UNIT = r"(?P<unit>days?|weeks?|fortnights?|months?|years?)"
_WD = r"wd(?P<weekday>\d)"
_WHICH_WEEK = (r"(?P<week>this coming week|this week|current week|next week|coming week|following week|"
               r"upcoming week|week after next|week)")
_WEEK_PART = r"(?P<part>end|late|later|beginning|start|early|middle|mid)"
_SOON_WORDS = {"today": 0, "now": 0, "tomorrow": 1, "dayaftertomorrow": 2, "yesterday": -1,
               "daybeforeyesterday": -2}
_NEXT_WORDS = {"next", "coming", "following", "upcoming"}


@dataclass(frozen=True)
class _Reading:
    """A day as read, before the rules about the past are applied.

    ``kind``: "calendar" (a month and day, ``explicit_year`` when a year was said: rolled forward
    or found passed), "relative" (computed from today: passed when before it), "week" (``day`` is
    the week's Monday). ``weekday`` is a weekday said alongside, to be checked.
    """

    day: date
    kind: str
    explicit_year: bool = False
    weekday: int | None = None  # 0 = Sunday
    any_month: bool = False  # a day of the month said without a month ("Wednesday the 17th")


class _DateReader:
    def __init__(self, today: date, region: str, hours: OpeningHours | None, searching: bool):
        self.today = today
        self.region = (region or "US").upper()
        self.hours = hours
        self.searching = searching

    # The whole phrase ------------------------------------------------------------------------

    def read(self, tokens: list[str]) -> _Reading | None:
        phrase = " ".join(t for t in tokens if t not in _DATE_FILLER)
        try:
            return self._read(phrase)
        except (ValueError, OverflowError):  # a day that does not exist, or beyond the calendar
            return None

    def _read(self, phrase: str) -> _Reading | None:
        if phrase in _SOON_WORDS:
            return _Reading(self.today + timedelta(days=_SOON_WORDS[phrase]), "relative")
        if phrase == "soonest":
            return _Reading(self.today, "relative") if self.searching else None
        return (self._offset(phrase) or self._week(phrase) or self._weekday(phrase)
                or self._nth_weekday(phrase) or self._calendar(phrase))

    # "in two weeks", "a week from Friday", "Tuesday in two weeks" ----------------------------

    def _offset(self, phrase: str) -> _Reading | None:
        # The Tuesday of the week an offset lands in: "Tuesday in two weeks", "in two weeks on Tuesday".
        match = (re.fullmatch(rf"{_WD} in {_COUNT} {_UNIT}(?: from (?:now|today))?", phrase)
                 or re.fullmatch(rf"in {_COUNT} {_UNIT} {_WD}", phrase))
        if match:
            landed = self._add(self.today, match)
            return _Reading(self._in_week(_monday(landed), int(match["weekday"])), "relative")
        match = re.fullmatch(rf"(?:in )?{_COUNT} {_UNIT}(?: (?:from|after) (?:now|today))?", phrase)
        if match:
            return _Reading(self._add(self.today, match), "relative")
        # From another day: "a week from Friday", "two weeks after the 3rd"; without "from", as
        # "a week on Friday" / "two weeks tomorrow" are said (but "in two weeks Tuesday" is above).
        match = (re.fullmatch(rf"(?:in )?{_COUNT} {_UNIT} (?:from|after) (?P<anchor>.+)", phrase)
                 or re.fullmatch(rf"{_COUNT} {_UNIT} (?P<anchor>.+)", phrase))
        if match:
            anchor = self._read(match["anchor"])
            if anchor is None or anchor.kind in ("week", "month"):
                return None
            return _Reading(self._add(self._anchor_day(anchor), match), "relative")
        return None

    @staticmethod
    def _add(day: date, match: re.Match) -> date:
        count = match["count"]
        number = 1 if count in ("a", "an") else 2 if count.endswith("couple") else int(count[2:])
        unit = match["unit"]
        if unit in _MONTH_UNITS:
            return day + relativedelta(months=number * _MONTH_UNITS[unit])
        return day + timedelta(days=number * _DAY_UNITS[unit])

    def _anchor_day(self, anchor: _Reading) -> date:
        """The day an offset counts from, read as :meth:`finish` reads a day except that it may
        have passed: a week from November 20th, said on the 25th, is the 27th."""
        day = self._past_rules(anchor)
        self._check_weekday(anchor, day)
        return day

    # Weeks: "Wednesday next week", "end of next week", "this weekend", "next week" ----------

    def _week(self, phrase: str) -> _Reading | None:
        if phrase in ("weekend", "this weekend", "this coming weekend", "coming weekend", "the weekend",
                      "upcoming weekend", "this upcoming weekend"):
            saturday = self._in_week(_monday(self.today), 6)
            return _Reading(max(saturday, self.today), "relative")
        weekend = re.fullmatch(r"(?:(?:the )?(?P<next>next|following) )?weekend(?P<after> after next)?", phrase)
        if weekend is not None:  # "next weekend": next week's Saturday (weeks run Monday to Sunday)
            weeks_ahead = 2 if weekend["after"] else 1
            return _Reading(self._in_week(_monday(self.today) + timedelta(weeks=weeks_ahead), 6), "relative")
        if self.searching and re.fullmatch(r"later (?:on )?(?:in )?(?:this|the|current) week|later in week", phrase):
            # From tomorrow to the week's end: searched from tomorrow (a booking takes its last day, below).
            return _Reading(self.today + timedelta(days=1), "relative")
        month_week = self._month_week(phrase)
        if month_week is not None:
            return month_week
        match = (re.fullmatch(rf"(?:{_WEEK_PART} (?:in )?)?{_WHICH_WEEK}", phrase)
                 or re.fullmatch(rf"{_WD} (?:in )?{_WHICH_WEEK}", phrase)
                 or re.fullmatch(rf"{_WHICH_WEEK} {_WD}", phrase))
        if match is None:
            return None
        week = match["week"]
        weeks_ahead = 2 if week == "week after next" else 0 if week in ("week", "this week", "current week") else 1
        monday = _monday(self.today) + timedelta(weeks=weeks_ahead)
        if match.groupdict().get("weekday") is not None:
            return _Reading(self._in_week(monday, int(match["weekday"])), "relative")
        part = match.groupdict().get("part")
        if part is None:
            return _Reading(monday, "week")
        workdays = [monday + timedelta(days=n) for n in range(5)]
        open_days = [day for day in workdays if self._opens_on(day)] or workdays
        if part in ("end", "late", "later"):
            day = open_days[-1]
        elif part in ("beginning", "start", "early"):
            day = open_days[0]
        else:
            day = workdays[2]  # the middle of the week: Wednesday
        return _Reading(max(day, self.today), "relative")

    def _month_week(self, phrase: str) -> _Reading | None:
        """"first week of February", "the last week of March", "early/mid/end of January": a week
        of a month (the nearest such month that has not ended), read like "next week": re-asked
        for a day when booking, its first day not before today when searching."""
        match = re.fullmatch(r"(?:(?:(?P<nth>od[1-4]|last) week|(?P<part>beginning|start|early|middle|mid|end|late))"
                             r" (?:of |in )?)?(?:mo(?P<month>\d{1,2})|(?P<which>this|next|coming|following) month)",
                             phrase)
        if match is None or (match["month"] and not (match["nth"] or match["part"])):
            return None  # a month alone ("March") is no day
        if match["which"]:  # "next month", "early next month", "end of this month"
            start = self.today.replace(day=1) + relativedelta(months=int(match["which"] != "this"))
            month, year = start.month, start.year
        else:
            month = int(match["month"])
            year = self.today.year if (self.today.month, 1) <= (month, 1) else self.today.year + 1
        last = (date(year + (month == 12), month % 12 + 1, 1) - timedelta(days=1)).day
        nth, part = match["nth"], match["part"]
        if nth is None and part is None:  # "next month": searched from its 1st; a booking needs a day
            return _Reading(date(year, month, 1), "month")
        if nth == "last" or part in ("end", "late"):
            first = last - 6
        elif nth is not None:
            first = 1 + 7 * (int(nth[2:]) - 1)
        elif part in ("middle", "mid"):
            first = 11
        else:
            first = 1
        return _Reading(date(year, month, first), "week")

    def _opens_on(self, day: date) -> bool:
        if self.hours is None or not self.hours.intervals:
            return True
        return any(weekday == weekday_of(day) for weekday, _, _ in self.hours.intervals)

    @staticmethod
    def _in_week(monday: date, weekday: int) -> date:
        """The day of the Monday-to-Sunday week starting ``monday`` on ``weekday`` (0 = Sunday)."""
        return monday + timedelta(days=(weekday - 1) % 7)

    # "Monday", "this Monday", "next Monday", "Monday after next" -----------------------------

    def _weekday(self, phrase: str) -> _Reading | None:
        match = re.fullmatch(rf"(?P<said>(?:(?:this|next|coming|following|upcoming) )*){_WD}"
                             rf"(?P<after> after next)?", phrase)
        if match is None:
            return None
        strictly_after = bool(_NEXT_WORDS & set(match["said"].split())) or bool(match["after"])
        start = self.today + timedelta(days=1 if strictly_after else 0)
        day = start + timedelta(days=(int(match["weekday"]) - weekday_of(start)) % 7)
        if match["after"]:
            day += timedelta(weeks=1)
        return _Reading(day, "relative")

    # "the second Tuesday in February", "the last Monday of March", "first Friday of next month" --

    def _nth_weekday(self, phrase: str) -> _Reading | None:
        """The nth (1st…5th, or last) such weekday of a month: of the nearest such month that has
        not ended (a day of it that has passed is said to have passed); a month without that many
        (a fifth Monday it does not have) is no day."""
        match = re.fullmatch(rf"(?P<nth>od[1-5]|last) {_WD} (?:in )?(?:mo(?P<month>\d{{1,2}})(?: (?P<year>yr\d+))?"
                             r"|(?P<which>this|next|coming|following) month)", phrase)
        if match is None:
            return None
        if match["which"]:
            first = self.today.replace(day=1) + relativedelta(months=int(match["which"] != "this"))
        else:
            month = int(match["month"])
            if match["year"]:
                year = int(match["year"][2:])
            else:
                year = self.today.year if month >= self.today.month else self.today.year + 1
            first = date(year, month, 1)
        weekday = int(match["weekday"])
        if match["nth"] == "last":
            last = first + relativedelta(months=1) - timedelta(days=1)
            day = last - timedelta(days=(weekday_of(last) - weekday) % 7)
        else:
            day = first + timedelta(days=(weekday - weekday_of(first)) % 7 + 7 * (int(match["nth"][2:]) - 1))
            if day.month != first.month:
                raise ValueError(f"no {match['nth']} weekday {weekday} in {first:%B %Y}")
        return _Reading(day, "relative", explicit_year=bool(match["year"]))

    # "the 3rd", "Thursday the 3rd", "December third", "12/3", "Dec 3rd 2026" ----------------

    def _calendar(self, phrase: str) -> _Reading | None:
        weekdays = re.findall(r"(?:(?:this|next|coming|following|upcoming) )*wd(\d)", phrase)
        if len(weekdays) > 1:
            return None
        weekday = int(weekdays[0]) if weekdays else None
        rest = re.sub(r"(?:(?:this|next|coming|following|upcoming) )*wd\d", " ", phrase)
        rest = " ".join(word for word in rest.split() if word != "in")  # "the 3rd in December"

        match = re.fullmatch(r"od(?P<day>\d+)(?: (?P<which>this|next) month)?", rest)
        if match:
            day = int(match["day"])
            if match["which"]:
                month_start = self.today.replace(day=1) + relativedelta(months=int(match["which"] == "next"))
                return _Reading(month_start.replace(day=day), "relative", weekday=weekday)
            return _Reading(self._next_day_of_month(day), "relative", weekday=weekday, any_month=True)

        year = r"(?: (?P<year>yr\d+|nm\d+ nm\d+|nm\d+ thousand(?: and)? nm\d+|nm\d+ thousand))?"
        match = (re.fullmatch(rf"mo(?P<month>\d+) (?:od|nm)(?P<day>\d+){year}", rest)
                 or re.fullmatch(rf"(?:od|nm)(?P<day>\d+) mo(?P<month>\d+){year}", rest))
        if match:
            said_year = self._year(match["year"]) if match["year"] else None
            return self._month_day(int(match["month"]), int(match["day"]), said_year, weekday)

        match = re.fullmatch(r"nd(?P<numbers>\S+)", rest)
        if match:
            return self._numeric(match["numbers"], weekday)
        return None

    def _next_day_of_month(self, day: int) -> date:
        if not 1 <= day <= 31:
            raise ValueError(f"no day {day} in any month")
        month_start = self.today.replace(day=1)
        for months in range(4):  # any day 1..31 comes round within three months
            try:
                candidate = (month_start + relativedelta(months=months)).replace(day=day)
            except ValueError:  # the 31st of a 30-day month
                continue
            if candidate >= self.today:
                return candidate
        raise ValueError(f"no day {day} ahead")

    def _year(self, said: str) -> int:
        numbers = [int(n) for n in re.findall(r"\d+", said)]
        if said.startswith("yr"):
            return numbers[0]
        if "thousand" in said:  # two thousand (and) twenty-six
            return numbers[0] * 1000 + (numbers[1] if len(numbers) > 1 else 0)
        high, low = numbers  # twenty twenty-six
        if not 10 <= high <= 99 or low > 99:
            raise ValueError(f"not a year: {said}")
        return high * 100 + low

    def _month_day(self, month: int, day: int, year: int | None, weekday: int | None) -> _Reading:
        if year is not None:
            return _Reading(date(year, month, day), "calendar", explicit_year=True, weekday=weekday)
        # Check the month/day exists (Feb 29 in a leap year stands for itself).
        date(2000, month, day)
        try:
            this_year = date(self.today.year, month, day)
        except ValueError:  # Feb 29 in a common year: the next leap year's
            this_year = _next_occurrence(month, day, self.today)
        return _Reading(this_year, "calendar", weekday=weekday)

    def _numeric(self, numbers: str, weekday: int | None) -> _Reading:
        parts = re.split(r"[/.\-]", numbers)
        if len(parts[0]) == 4:  # 2026/12/03
            if len(parts) != 3:
                raise ValueError(f"no day in {numbers}")
            year, month, day = (int(p) for p in parts)
            return _Reading(date(year, month, day), "calendar", explicit_year=True, weekday=weekday)
        first, second = int(parts[0]), int(parts[1])
        month, day = (first, second) if self.region in MONTH_FIRST_REGIONS else (second, first)
        if not 1 <= month <= 12 and 1 <= day <= 12:  # only the other order is a date: 25/12
            month, day = day, month
        if len(parts) == 2:
            return self._month_day(month, day, None, weekday)
        year = int(parts[2])
        if len(parts[2]) <= 2:
            year += self.today.year // 100 * 100
        elif len(parts[2]) != 4:
            raise ValueError(f"not a year: {parts[2]}")
        return _Reading(date(year, month, day), "calendar", explicit_year=True, weekday=weekday)

    # The rules about the past, and the weekday check -----------------------------------------

    def finish(self, reading: _Reading) -> date:
        """The date a reading names, or the re-ask: a week without a day, a day that has passed,
        a weekday that does not agree with the date."""
        if reading.kind in ("week", "month"):
            if self.searching:
                return max(reading.day, self.today)
            if reading.kind == "month":
                raise NormalizationError("appointmentDate", "appointment_date_invalid")
            raise NormalizationError("appointmentDate", "appointment_date_week", choices=(reading.day,))
        day = self._past_rules(reading)
        if day < self.today:
            raise NormalizationError("appointmentDate", "appointment_date_passed", choices=(day,))
        self._check_weekday(reading, day)
        return day

    def _past_rules(self, reading: _Reading) -> date:
        """A month/day before today is its next occurrence, unless it fell within the last
        RECENTLY_PASSED_DAYS: then that recent day (which has passed). Others are as read. A
        month/day said without a year counts across New Year too: "December 29th" said on January
        3rd has passed (not next December, refused as too far ahead)."""
        day = reading.day
        if reading.kind != "calendar":
            return day
        if day >= self.today:
            if not reading.explicit_year:
                latest = _latest_occurrence(day.month, day.day, self.today)
                if latest is not None and latest < self.today and (self.today - latest).days <= RECENTLY_PASSED_DAYS:
                    return latest
            return day
        latest = _latest_occurrence(day.month, day.day, self.today)
        if latest is not None and (self.today - latest).days <= RECENTLY_PASSED_DAYS:
            return latest
        return _next_occurrence(day.month, day.day, self.today)

    def _check_weekday(self, reading: _Reading, day: date) -> None:
        if reading.weekday is None or weekday_of(day) == reading.weekday:
            return
        if reading.explicit_year and weekday_of(reading.day) == reading.weekday:
            return  # a stale year said with its own weekday: that date, rolled forward
        choices = (day, self._nearest_weekday(day, reading.weekday))
        if reading.any_month:  # "Wednesday the 17th": also the next 17th that is a Wednesday
            both = next((self.today + timedelta(days=n) for n in range(HINT_SEARCH_DAYS)
                         if (self.today + timedelta(days=n)).day == day.day
                         and weekday_of(self.today + timedelta(days=n)) == reading.weekday), None)
            if both is not None and both not in choices:
                choices += (both,)
        raise NormalizationError("appointmentDate", "appointment_date_weekday_mismatch", choices=choices)

    def _nearest_weekday(self, day: date, weekday: int) -> date:
        """The ``weekday`` within three days of ``day``, not before today."""
        nearest = day + timedelta(days=(weekday - weekday_of(day) + 3) % 7 - 3)
        return nearest if nearest >= self.today else nearest + timedelta(weeks=1)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _latest_occurrence(month: int, day: int, today: date) -> date | None:
    """The last month/day on or before today (Feb 29: the last leap year's), None before year 1."""
    for year in range(today.year, max(today.year - 9, 0), -1):
        try:
            candidate = date(year, month, day)
        except ValueError:  # Feb 29 in a common year
            continue
        if candidate <= today:
            return candidate
    return None


def _next_occurrence(month: int, day: int, today: date) -> date:
    """The first month/day on or after today (Feb 29 waits for a leap year)."""
    # Any month/day recurs within 8 years (Feb 29 across a skipped century
    # leap year is the longest wait).
    for year in range(today.year, min(today.year + 9, date.max.year + 1)):
        try:
            candidate = date(year, month, day)
        except ValueError:  # Feb 29 in a common year
            continue
        if candidate >= today:
            return candidate
    raise NormalizationError("appointmentDate", "appointment_date_invalid")


# --------------------------------------------------------------------------
# Times
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class OpeningHours:
    """A clinic's weekly opening intervals, as SQL reports them (get_org_profile's ``hours``).

    Each interval is ``(weekday, opens, closes)``: weekday 0 = Sunday … 6 = Saturday (as
    PostgreSQL's ``extract(dow)``), opening and closing as minutes after local midnight (closing
    may be 24:00). A weekday without intervals is closed. Used only to read an hour said without
    AM/PM; whether a time can be booked is decided by the database.
    """

    intervals: tuple[tuple[int, int, int], ...] = ()

    @classmethod
    def from_profile(cls, rows: Any) -> OpeningHours:
        """From ``[{"weekday": 1, "opensAt": "09:00", "closesAt": "17:00"}, ...]``; a row that
        cannot be read is left out (that day then asks rather than guesses)."""
        intervals = []
        for row in rows if isinstance(rows, list) else ():
            try:
                weekday = row["weekday"]
                opens, closes = _clock_minutes(row["opensAt"]), _clock_minutes(row["closesAt"])
            except (KeyError, TypeError, ValueError):
                continue
            if isinstance(weekday, int) and not isinstance(weekday, bool) and 0 <= weekday <= 6:
                intervals.append((weekday, opens, closes))
        return cls(tuple(intervals))

    def covers(self, weekday: int | None, at: time) -> bool:
        """Whether ``at`` is within the hours on ``weekday`` (None: on any weekday), opening and
        closing time included: a caller naming the clinic's closing hour names its day, not the
        night (whether that time can be booked is still the database's call)."""
        minute = at.hour * 60 + at.minute
        return any(
            opens <= minute <= closes
            for day, opens, closes in self.intervals
            if weekday is None or day == weekday
        )

    def minutes_away(self, weekday: int | None, at: time) -> int:
        """How many minutes ``at`` is from the nearest opening hours on ``weekday`` (None: any day);
        0 within them. Which of two readings of "5:30" is nearer the clinic's day."""
        minute = at.hour * 60 + at.minute
        return min((max(opens - minute, minute - closes, 0) for day, opens, closes in self.intervals
                    if weekday is None or day == weekday), default=24 * 60)


def _clock_minutes(text: str) -> int:
    """``"09:30"`` -> 570; ``"24:00"`` -> 1440. ValueError for anything else."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text) if isinstance(text, str) else None
    if match is None:
        raise ValueError(f"not a clock time: {text!r}")
    return int(match[1]) * 60 + int(match[2])


def weekday_of(day: date) -> int:
    """PostgreSQL's ``extract(dow)`` of a date: 0 = Sunday … 6 = Saturday."""
    return day.isoweekday() % 7


_HOUR_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}
_MINUTE_WORDS = {"fifteen": 15, "thirty": 30, "forty-five": 45, "forty five": 45}
_NAMED_TIMES = {
    "noon": time(12, 0),
    "12 noon": time(12, 0),
    "midday": time(12, 0),
    "midnight": time(0, 0),
}
_TIME_PATTERN = re.compile(
    r"""^(?P<hour>\d{1,2})
        (?:[:.h](?P<minute>\d{2}))?
        (?::(?P<second>\d{2})(?:\.\d+)?)?
        \s*(?:(?P<meridiem>[ap])\.?\s*(?:m\.?)?)?$""",
    re.VERBOSE,
)
# Minutes said before "past" / "to" an hour: "twenty past nine", "ten to four", "half two" (UK: 2:30).
_MINUTES_BEFORE_HOUR = {"a quarter": 15, "quarter": 15, "half": 30, "twenty": 20, "twenty-5": 25, "twenty 5": 25,
                        "5": 5, "10": 10}
_PAST_OR_TO = re.compile(
    r"^(?P<m>a quarter|quarter|half|twenty[- ]5|twenty|\d{1,2})(?: minutes?)? (?P<rel>past|after|to|till|til|of|before)"
    r" (?P<h>\d{1,2})(?!\d)")
# Said around a booking time and meaning nothing for it: "10 sharp", "2:00pm please", "2ish".
# An offered time said back as heard: "let's do two", "I'll take the 2 o'clock", "the 1:30", "1:30 is
# fine", "two works", "the 2pm one" — the words around the time say only that the caller takes it.
_TIME_FILLER_LEAD = re.compile(r"^(?:(?:um|uh|er|erm|so|well|ok|okay|oh|yes|yeah|yep|sure|great|perfect|alright|"
                               r"all right|maybe|say|let'?s say|how about|what about|"
                               r"let'?s (?:do|go with|go for|make it|book|have|take|try)|let'?s|"
                               r"i'?ll (?:take|do|have|go with|go for)|i'?d (?:like|take|prefer|go with|go for)|"
                               r"i (?:want|prefer|would like)|i'?m good with|(?:can|could) (?:i|we) (?:get|have|do|take)|"
                               r"give me|go with|make it|put me (?:down )?(?:for|at)|book (?:me )?(?:for|at|in for|in at)|"
                               r"book(?: me| it| that)?|the|that|at|for|around|about|approximately|roughly|exactly|precisely|"
                               r"right at)\s+)+")
_TIME_FILLER_TAIL = re.compile(r"(?:\s*,?\s*(?:please|thanks|thank you|if possible|if you can|sharp|exactly|precisely|"
                               r"on the dot|or so|-?ish|then|"
                               r"(?:that |it )?works(?: (?:for me|best|great|fine|perfect|well))?|"
                               r"(?:would be|would work|'s|is|sounds|that'?s|that is) ?(?:great|good|fine|perfect|ok|okay|"
                               r"alright|all right|best|lovely)?(?: for me| then| thanks)?))+$")
# An offered time named by its place in the offer ("the first one", "the last one", "the earlier
# one"): the server keeps no record of what was offered, so the caller is asked for the time itself
# (the assistant, told to pass the actual time, resolves these before calling).
_OFFER_POSITIONS = (r"(?:very )?(?:first|1st|second|2nd|third|3rd|fourth|4th|last|final|middle|other|earlier|earliest|"
                    r"later|latest|former|latter)")
_OFFER_NOUNS = r"(?:one|time|option|slot|appointment|spot)"
_OFFER_POSITION = re.compile(rf"^(?:{_OFFER_POSITIONS}(?: {_OFFER_NOUNS})?|{_OFFER_POSITIONS} {_OFFER_NOUNS})$")
# "the 2pm one", "the 1:30 slot": the time named as one of those offered.
_HOUR_WORD = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_TIME_END = rf"(?:\d|[ap]\.?m\.?|o'?clock|noon|midday|thirty|fifteen|forty[- ]five|{_HOUR_WORD})"
_THE_TIME_ONE = re.compile(rf"\bthe (?P<t>(?:\d|noon|midday|{_HOUR_WORD})(?:[^,]*?{_TIME_END})?|(?:half|quarter)[^,]*?{_TIME_END})"
                           rf" {_OFFER_NOUNS}\b")
# A time zone said after the time: (the zone whose wall clock it names, as a representative zone).
_ZONE_WORDS = {
    **dict.fromkeys(("eastern", "est", "edt", "et", "eastern time", "eastern standard time",
                     "eastern daylight time", "new york time"), "America/New_York"),
    **dict.fromkeys(("central", "cst", "cdt", "ct", "central time", "central standard time",
                     "central daylight time", "chicago time"), "America/Chicago"),
    **dict.fromkeys(("mountain", "mst", "mdt", "mt", "mountain time", "mountain standard time",
                     "mountain daylight time", "denver time"), "America/Denver"),
    **dict.fromkeys(("pacific", "pst", "pdt", "pt", "pacific time", "pacific standard time",
                     "pacific daylight time", "california time", "west coast time"), "America/Los_Angeles"),
    **dict.fromkeys(("alaska", "akst", "akdt", "alaska time"), "America/Anchorage"),
    **dict.fromkeys(("hawaii", "hst", "hawaii time", "hawaiian time"), "Pacific/Honolulu"),
    **dict.fromkeys(("gmt", "bst", "uk time", "british time", "london time"), "Europe/London"),
    **dict.fromkeys(("utc", "zulu"), "UTC"),
}
_ZONE_SUFFIX = re.compile(r"\s*\b(?P<zone>" + "|".join(sorted(map(re.escape, _ZONE_WORDS), key=len, reverse=True))
                          + r")$")
_LOCAL_SUFFIX = re.compile(r"\s*\b(?:local(?: time)?|your time|clinic time|the clinic'?s time|(?:in )?the clinic'?s zone)$")


def normalize_time(text: str, hours: OpeningHours | None = None, weekday: int | None = None, *,
                   tz: tzinfo | None = None, day: date | None = None, role: str = "at") -> time:
    """Parse a spoken or machine-written clock time.

    Accepts ``14:00``, ``14:00:00``, ``2pm``, ``2:30 PM``, ``2.30pm``,
    ``2:30 p.m.``, ``noon``, ``midday``, ``midnight`` (00:00; the database
    will refuse it as outside business hours), ``half past two``,
    ``quarter to three``, ``two thirty``, ``3 in the afternoon``; minutes past or
    to an hour (``twenty past nine``, ``ten to four``, ``five past 10``, ``quarter
    after 2``, US ``quarter of 3`` = 2:45), UK ``half two`` (= 2:30), run-together
    or spaced digits (``1400``, ``1030``, ``10 30``: hour and minutes), and filler
    around the time (``at``, ``around``, ``please``, ``sharp``, ``on the dot``,
    ``2ish``: a booking is made at the time itself).

    A time zone said after it (``2 PM EST``, ``2pm Eastern``, ``10 Pacific time``) is
    checked against the clinic's zone ``tz`` on ``day``: the same wall clock there
    (or the same zone family, as Arizona's "mountain") is accepted; another zone is
    re-asked (``appointment_time_zone``) rather than converted — the visit is at the
    clinic, and a caller naming another zone may mean their own clock or the clinic's,
    which only they can say. Without ``tz`` (a window's time) a zone is not checked.

    Without AM/PM, 0 and 12-23 are read as a 24-hour clock (``12`` is noon).
    An hour of 1 to 11 (with or without minutes: ``5`` and ``5:30`` follow one rule)
    could be the morning or the afternoon: the reading within the clinic's opening
    hours (``hours``, SQL's; the closing time included) on ``weekday`` (0 = Sunday;
    None: any day; a closed day: any day's) wins. When both readings are within
    them (a clinic open 7 AM to 8 PM hearing "8") or no hours are given, the caller
    is asked which one is meant (``appointment_time_meridiem``, with both readings
    as ``choices``). When neither is (``5:30``, ``6``, ``8:30`` at a clinic open 9
    to 5), asking is pointless — either answer is refused — so the reading nearer
    the opening hours is taken (5:30 PM, 6 PM, 8:30 AM; a tie goes to the afternoon)
    and the database refuses it as outside hours with the nearest times. ``role``
    (a window's bound) changes only that last choice: for ``after`` the later
    reading ("after 7:15" at a 9–5 clinic: 7:15 PM, we are not open then — 7:15 AM
    would exclude nothing), for ``before`` the earlier one.
    An hour written with a leading zero (``08:00``) is on a 24-hour clock:
    the morning, unless only the afternoon is within the hours (a model's
    ``02:00`` for two o'clock at a clinic open 9 to 5). A machine timestamp (``2026-01-20T08:00:00Z``, ``14:00-05:00``,
    ``08:00:00``) is a 24-hour clock time; its date part and zone are dropped
    and the wall-clock time is used as written: models put a ``Z`` on times
    they mean as local.
    """
    if not isinstance(text, str) or not text.strip():
        raise NormalizationError("appointmentTime", "appointment_time_missing")
    if len(text) > MAX_DATE_TEXT_LENGTH:  # no spoken time is that long; never run the patterns on 100 kB
        raise NormalizationError("appointmentTime", "appointment_time_invalid")
    spoken, timestamp = _rewrite_spoken_time(text)
    spoken, zone = _said_zone(spoken)

    if spoken in _NAMED_TIMES:
        at = _NAMED_TIMES[spoken]
        _check_zone(zone, at, tz, day)
        return at

    # A regular expression rather than dateutil: dateutil can't tell us
    # whether AM/PM was said, and the reading depends on it.
    match = _TIME_PATTERN.match(spoken)
    if match is None:
        raise NormalizationError("appointmentTime", "appointment_time_invalid")
    hour = int(match["hour"])
    minute = int(match["minute"] or 0)
    second = int(match["second"] or 0)
    meridiem = match["meridiem"]
    if hour > 23 or minute > 59 or second > 59:
        raise NormalizationError("appointmentTime", "appointment_time_invalid")

    if meridiem is None:
        if 1 <= hour <= 11 and not timestamp and match["second"] is None:
            at = _reading_in_opening_hours(
                time(hour, minute), time(hour + 12, minute), hours, weekday,
                written_24h=match["hour"].startswith("0"), role=role,
            )
            _check_zone(zone, at, tz, day)
            return at
    elif meridiem == "a":
        if not 1 <= hour <= 12:
            raise NormalizationError("appointmentTime", "appointment_time_invalid")
        hour = 0 if hour == 12 else hour
    elif hour < 12:  # "pm"; a 24-hour "14:00 pm" is tolerated as is
        if hour == 0:
            raise NormalizationError("appointmentTime", "appointment_time_invalid")
        hour += 12
    at = time(hour, minute, second)
    _check_zone(zone, at, tz, day)
    return at


def _said_zone(spoken: str) -> tuple[str, str | None]:
    """("2pm", "America/New_York") from "2pm eastern"; "local time" and the like are the clinic's."""
    spoken = _LOCAL_SUFFIX.sub("", spoken).strip()
    match = _ZONE_SUFFIX.search(spoken)
    if match is None or not match.start():
        return spoken, None
    rest = spoken[:match.start()].strip()
    return re.sub(r"\s+(?:in|on)$", "", _TIME_FILLER_TAIL.sub("", rest)), _ZONE_WORDS[match["zone"]]


def _check_zone(zone: str | None, at: time, tz: tzinfo | None, day: date | None) -> None:
    """A zone said with the time is the clinic's (its wall clock at that moment, or its zone family's
    standard time), else re-asked: see :func:`normalize_time`."""
    if zone is None or tz is None:
        return
    from zoneinfo import ZoneInfo
    said = timezone.utc if zone == "UTC" else ZoneInfo(zone)
    moment = datetime.combine(day or date(2000, 1, 1), at)
    january = datetime(moment.year, 1, 15, 12)
    if (moment.replace(tzinfo=said).utcoffset() == moment.replace(tzinfo=tz).utcoffset()
            or january.replace(tzinfo=said).utcoffset() == january.replace(tzinfo=tz).utcoffset()):
        return
    raise NormalizationError("appointmentTime", "appointment_time_zone")


def _reading_in_opening_hours(
    morning: time,
    afternoon: time,
    hours: OpeningHours | None,
    weekday: int | None,
    *,
    written_24h: bool,
    role: str = "at",
) -> time:
    if hours is not None and weekday is not None and not any(day == weekday for day, _, _ in hours.intervals):
        weekday = None  # a closed day: the clinic's usual hours say what "3" means there (SQL says it is closed)
    inside = [t for t in (morning, afternoon) if hours is not None and hours.covers(weekday, t)]
    if written_24h:  # "08:00" is the morning, unless only the afternoon is within the hours
        return afternoon if inside == [afternoon] else morning
    if not inside and weekday is not None:  # "3" on a Saturday closing at 1: the usual hours say 3 PM
        usual = [t for t in (morning, afternoon) if hours is not None and hours.covers(None, t)]
        inside = usual if len(usual) == 1 else inside
    if len(inside) == 1:
        return inside[0]
    if not inside and hours is not None and hours.intervals:  # neither is open: no question has a good answer
        if role == "after":
            return afternoon
        if role == "before":
            return morning
        away = {t: hours.minutes_away(weekday, t) for t in (morning, afternoon)}
        return morning if away[morning] < away[afternoon] else afternoon
    raise NormalizationError(
        "appointmentTime", "appointment_time_meridiem", choices=(morning, afternoon)
    )


def _rewrite_spoken_time(text: str) -> tuple[str, bool]:
    """Lower-case and turn word forms into digits: "half past two" -> "2:30".

    Also says whether the text was a machine timestamp (a date part or a zone
    was dropped)."""
    spoken = " ".join(text.strip().lower().replace("’", "'").split())
    spoken, with_date = re.subn(r"^\d{4}-\d{2}-\d{2}[t ]", "", spoken)
    spoken, with_zone = re.subn(
        r"^(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(?:z|[+-]\d{2}(?::?\d{2})?)$", r"\1", spoken
    )
    if not (with_date or with_zone):
        spoken = re.sub(r"[,!?]+|\.$", " ", spoken).strip()
        spoken = " ".join(_THE_TIME_ONE.sub(r"\g<t>", spoken).split())
        said_the = re.search(rf"\bthe {_OFFER_POSITIONS}\b", spoken) is not None
        spoken = _TIME_FILLER_TAIL.sub("", _TIME_FILLER_LEAD.sub("", spoken)).strip()
        position = _OFFER_POSITION.match(spoken)
        if position and (said_the or " " in spoken):  # "the first one", "last option": which of the offered
            raise NormalizationError("appointmentTime", "appointment_time_offered")

    meridiem = ""
    for suffix, value in (
        (r"\s*in the morning$", " am"),
        (r"\s*(?:in the afternoon|in the evening|at night)$", " pm"),
    ):
        spoken, count = re.subn(suffix, "", spoken)
        if count:
            meridiem = value

    for word, number in _HOUR_WORDS.items():
        spoken = re.sub(rf"\b{word}\b", str(number), spoken)
    spoken = re.sub(r"\s*o'?clock\b", "", spoken)
    match = _PAST_OR_TO.match(spoken)
    if match and 1 <= int(match["h"]) <= 12 or match and match["rel"] in ("past", "after") and int(match["h"]) <= 23:
        said = match["m"]
        minutes = _MINUTES_BEFORE_HOUR.get(said, int(said) if said.isdigit() else 0)
        hour = int(match["h"])
        if 0 < minutes < 60 and match["rel"] in ("past", "after"):
            spoken = f"{hour}:{minutes:02d}" + spoken[match.end():]
        elif 0 < minutes < 60 and said != "half":  # "ten to four": 3:50 ("half to" is no time)
            spoken = f"{(hour - 2) % 12 + 1}:{60 - minutes:02d}" + spoken[match.end():]
    spoken = re.sub(r"^half (\d{1,2})(?!\d|:)", r"\1:30", spoken)  # UK "half two": 2:30
    for word, minutes in _MINUTE_WORDS.items():
        spoken = re.sub(rf"^(\d{{1,2}}) {word}\b", rf"\1:{minutes:02d}", spoken)
    if not (with_date or with_zone):  # "1400", "1030", "10 30": an hour and its minutes
        spoken = re.sub(r"^(\d{2}) ?([0-5]\d)(?=\s*(?:[ap]\.?\s*m\.?)?$)|^(\d) ?([0-5]\d)(?=\s*(?:[ap]\.?\s*m\.?)?$)",
                        _hour_and_minutes, spoken)
    return spoken + meridiem, bool(with_date or with_zone)


def _hour_and_minutes(match: re.Match) -> str:
    """"1400" / "10 30" -> "14:00" / "10:30"; a three-digit "930" only on a quarter hour ("123" is no
    time anyone books)."""
    if match[1] is not None:
        return f"{match[1]}:{match[2]}"
    return f"{match[3]}:{match[4]}" if match[4] in ("00", "15", "30", "45") or " " in match[0] else match[0]


# --------------------------------------------------------------------------
# Date + time
# --------------------------------------------------------------------------


def normalize_datetime(
    date_text: str,
    time_text: str | None,
    today: date,
    tz: tzinfo,
    *,
    hours: OpeningHours,
    region: str = "US",
    searching: bool = False,
) -> datetime:
    """Combine a date and a time into an aware datetime in the clinic zone.

    ``date_text`` may be a plain date (see :func:`normalize_date`) or an ISO
    datetime. With an offset or ``Z`` the instant is converted to ``tz``
    first, then the stale-year rule is applied to the local date; without an
    offset it is taken as clinic-local. An ISO datetime at exactly midnight
    counts as a date only. A non-blank ``time_text`` overrides any time in
    ``date_text`` (``tomorrow at 2pm``); with no time anywhere the caller is
    asked for one. An hour said without AM/PM is read against ``hours`` on
    that date's weekday (see :func:`normalize_time`). ``region``, ``hours``
    and ``searching`` are passed on to :func:`normalize_date`.

    Daylight saving: a wall-clock time that doesn't exist (the spring-forward
    gap, e.g. 02:30 on the March change in New York) moves forward by the
    length of the gap (03:30), as a wall clock would. A time that happens
    twice (the fall-back hour) means the first occurrence, in daylight time
    (``fold=0``).
    """
    local_date, said_time = _parse_date_and_time(date_text, today, tz, region=region, hours=hours,
                                                 searching=searching)
    if isinstance(time_text, str) and time_text.strip():
        try:
            wall_time = normalize_time(time_text, hours, weekday_of(local_date), tz=tz, day=local_date)
        except NormalizationError as error:
            if error.reask != "appointment_time_invalid":
                raise
            wall_time = _time_with_its_day(time_text, local_date, today, tz, hours=hours, region=region)
            if wall_time is None:
                raise
    elif isinstance(said_time, str):  # "tomorrow at 2pm" with no time argument
        wall_time = normalize_time(said_time, hours, weekday_of(local_date), tz=tz, day=local_date)
    elif said_time is not None:
        wall_time = said_time
    else:
        raise NormalizationError("appointmentTime", "appointment_time_missing")

    naive = datetime.combine(local_date, wall_time)
    # Round-tripping through UTC resolves a time in the spring-forward gap to
    # the real instant it names and gives it its correct offset.
    return _convert(_convert(naive.replace(tzinfo=tz), timezone.utc), tz)


def _time_with_its_day(text: str, day: date, today: date, tz: tzinfo, *, hours: OpeningHours,
                       region: str) -> time | None:
    """The time in a time argument that also names the day ("Tuesday at 1:30", "1:30 on Tuesday",
    "tomorrow at 2pm"), when that day is ``day`` (the date argument's): a weekday alone agrees when
    it is ``day``'s weekday. A day that disagrees is asked about (``appointment_time_day_mismatch``,
    choices: the date argument's day, the time argument's day). None when the text holds no day and
    time."""
    if len(text) > MAX_DATE_TEXT_LENGTH:
        return None
    words = _TIME_FILLER_LEAD.sub("", " ".join(text.lower().replace("’", "'").split()).rstrip(" ,.!?")).split()
    for at in range(1, len(words)):
        for day_words, time_words in ((words[:at], words[at:]), (words[at:], words[:at])):
            said_day = re.sub(r"^(?:on|at|for)\s+|[\s,]+(?:at|on|@)$|,$", "", " ".join(day_words).strip(" ,"))
            said_time = re.sub(r"^(?:at|@|on)\s+|[\s,]+(?:on|at)$", "", " ".join(time_words).strip(" ,"))
            if not said_day or not said_time or not re.search(r"\d|noon|midday|half|quarter|\b(?:one|two|three|four|"
                                                              r"five|six|seven|eight|nine|ten|eleven|twelve)\b",
                                                              said_time):
                continue
            try:
                named, _ = _parse_date_and_time(said_day, today, None, region=region, hours=hours)
            except NormalizationError:
                continue
            try:
                at_time = normalize_time(said_time, hours, weekday_of(day), tz=tz, day=day)
            except NormalizationError as error:
                if error.reask == "appointment_time_invalid":
                    continue
                raise
            weekday_only = [t for t in _date_tokens(said_day, today) if t not in ("this", "coming")]
            agrees = named == day or (len(weekday_only) == 1 and weekday_only[0] == f"wd{weekday_of(day)}")
            if not agrees:
                raise NormalizationError("appointmentDate", "appointment_time_day_mismatch", choices=(day, named))
            return at_time
    return None


def _convert(value: datetime, tz: tzinfo) -> datetime:
    try:
        return value.astimezone(tz)
    except OverflowError:  # only at the very ends of the calendar (year 1 or 9999)
        raise NormalizationError("appointmentDate", "appointment_date_invalid") from None


# --------------------------------------------------------------------------
# Phone numbers
# --------------------------------------------------------------------------


def normalize_phone(text: str, region: str = "US") -> str:
    """Return the number in E.164 form (``+14155550123``).

    ``region`` (the clinic's, e.g. ``"US"``) is used for numbers said without
    a country code; a number with ``+`` and a country code works anywhere.
    Spoken digits are read first (:func:`spoken_phone_digits`): ``two one two,
    five five five, oh one one one``, ``double five``, ``plus four four``.

    Only the number's shape is checked (``is_possible_number``), not whether
    the range is assigned (``is_valid_number``): demos and tests use
    fictional 555 numbers, and a wrong-but-plausible number costs the clinic
    one failed call-back, while refusing it would stall the booking. Numbers
    that can only be dialled locally (7-digit US numbers) are refused, since
    the clinic couldn't call them back.
    """
    if not isinstance(text, str) or not text.strip():
        raise NormalizationError("patientPhone", "patient_phone_missing")
    region = (region or "US").upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        logger.warning("Unknown phone region %r, reading numbers as US", region)
        region = "US"
    e164 = _e164(text.strip(), region)
    if e164 is None:
        raise NormalizationError("patientPhone", "patient_phone_invalid")
    return e164


@functools.lru_cache(maxsize=4096)
def _e164(text: str, region: str) -> str | None:
    """normalize_phone's reading, remembered per process: one request reads the caller ID up to three
    times (the caller context, the patient's number defaulting to it, the access log), and parsing
    was a fifth of a booking's Python time (cProfile, bench/README.md). Pure: the same text and
    region always give the same number (phonenumbers' metadata is fixed for the process)."""
    try:
        number = phonenumbers.parse(spoken_phone_digits(text), region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_PHONE_DIGIT_WORDS = {**{word: str(n) for word, n in _UNIT_WORDS.items()}, "zero": "0", "nought": "0",
                      "nil": "0", "oh": "0", "o": "0"}
_PHONE_REPEATS = {"double": 2, "triple": 3, "treble": 3}
# Words around the digits that carry none ("my number is ...", "area code ...", "... thanks").
_PHONE_FILLER = {
    "my", "number", "numbers", "is", "it", "its", "s", "the", "phone", "cell", "cellphone", "mobile",
    "area", "code", "and", "uh", "um", "er", "erm", "then", "dash", "hyphen", "space", "comma", "dot",
    "point", "period", "thanks", "thank", "you", "please", "okay", "ok", "that", "yes", "yeah", "sure",
    "so", "a", "at", "on", "call", "me", "reach",
}
_PHONE_EXTENSION = {"ext", "extension", "x"}  # E.164 has no extension: what follows is left off
_PHONE_WORD = re.compile(r"\+|\d+|[a-z]+")


def spoken_phone_digits(text: str) -> str:
    """A phone number said in words written as digits: ``two one two, five five five, zero one
    one one`` -> ``2125550111``; ``oh`` and ``o`` are 0 next to other digits, ``double five`` is
    55, ``triple seven`` 777, ``eight hundred`` 800, ``twenty one`` 21, ``plus four four`` +44;
    digits and words mix (``212 five five five 0111``); filler (``my number is``, ``area code``)
    is dropped. Text without letters, or with a word that is neither (``1-800-FLOWERS``), is
    returned as it is, for phonenumbers to read."""
    if not isinstance(text, str) or not re.search(r"[a-z]", text, re.IGNORECASE):
        return text
    words = _PHONE_WORD.findall(text.lower().replace("’", "'"))
    out: list[str] = []
    at = 0
    while at < len(words):
        word = words[at]
        following = words[at + 1] if at + 1 < len(words) else None
        if word in ("+", "plus") and not out:
            out.append("+")
        elif word.isdigit():
            out.append(word)
        elif word in _PHONE_REPEATS and following is not None and (
                following.isdigit() and len(following) == 1 or following in _PHONE_DIGIT_WORDS):
            out.append(_PHONE_DIGIT_WORDS.get(following, following) * _PHONE_REPEATS[word])
            at += 1
        elif word in ("oh", "o") and not (out and out[-1][-1:].isdigit()) and not (
                following is not None and (following.isdigit() or following in _PHONE_DIGIT_WORDS
                                           or following in _PHONE_REPEATS)):
            pass  # "oh, it's ...": not a digit
        elif word in _PHONE_DIGIT_WORDS or word in _TEEN_WORDS or word in _TENS_WORDS:
            digits, at = _spoken_number(words, at)
            out.append(digits)
            continue
        elif word in _PHONE_EXTENSION:
            break
        elif word not in _PHONE_FILLER:
            return text  # a word we cannot read: not ours to guess
        at += 1
    return "".join(out) or text


def _spoken_number(words: list[str], at: int) -> tuple[str, int]:
    """Digits for the number said at ``words[at]`` and the index after it: a digit (``five``), a
    teen (``fifteen``), tens (``twenty``, ``twenty one``), hundreds (``eight hundred``, ``five
    hundred fifty five``) or thousands (``two thousand``)."""
    word = words[at]
    following = words[at + 1] if at + 1 < len(words) else None
    if word in _TEEN_WORDS:
        return str(_TEEN_WORDS[word]), at + 1
    if word in _TENS_WORDS:
        if following in _UNIT_WORDS:
            return str(_TENS_WORDS[word] + _UNIT_WORDS[following]), at + 2
        return str(_TENS_WORDS[word]), at + 1
    digit = int(_PHONE_DIGIT_WORDS[word])
    scale = {"hundred": 100, "thousand": 1000}.get(following)
    if scale is None or digit == 0:
        return str(digit), at + 1
    at += 2
    value = digit * scale
    if scale == 1000 and at + 1 < len(words) and words[at] in _UNIT_WORDS and words[at + 1] == "hundred":
        value += _UNIT_WORDS[words[at]] * 100
        at += 2
    # "five hundred fifty five", "five hundred and five"; but "eight hundred, five five five" is
    # 800 and then its own digits: a single digit after the scale joins only after "and".
    joined = at < len(words) and words[at] == "and"
    rest_at = at + 1 if joined else at
    if rest_at < len(words) and (words[rest_at] in _TEEN_WORDS or words[rest_at] in _TENS_WORDS
                                 or (joined and words[rest_at] in _UNIT_WORDS)):
        rest, after = _spoken_number(words, rest_at)
        if int(rest) < 100:
            value += int(rest)
            at = after
    return str(value).rjust(len(str(scale)), "0"), at


@functools.lru_cache(maxsize=4096)
def mask_phone(e164: str) -> str:
    """Hide all but the country code and last four digits: ``+1******0123``. Remembered per process
    (pure; a log line per request asks it, and the parse is most of a request's phone work)."""
    if not isinstance(e164, str):
        return "***"
    digits = re.sub(r"\D", "", e164)
    if len(digits) <= 4:
        return "*" * len(digits) or "***"
    try:
        country_code = str(phonenumbers.parse(e164, None).country_code)
    except phonenumbers.NumberParseException:
        return "*" * (len(digits) - 4) + digits[-4:]
    hidden = len(digits) - len(country_code) - 4
    return f"+{country_code}{'*' * max(hidden, 0)}{digits[-4:]}"


# --------------------------------------------------------------------------
# Names and e-mail
# --------------------------------------------------------------------------

# Values models put in a name field when the caller never gave a name.
_PLACEHOLDER_NAMES = {
    "unknown", "n/a", "na", "none", "null", "patient", "caller",
    "customer", "anonymous", "not provided", "no name",
}


# Surnames written "Mac" + a capital (MacDonald). Only these: Macy, Mack, Macias, Machado, Mace,
# Mackey or the first name Mackenzie are not, so "Mac" alone is never enough to capitalise.
_MAC_NAMES = frozenset({
    "macadam", "macalister", "macallister", "macarthur", "macaskill", "macaulay", "macbain", "macbean",
    "macbeth", "macbride", "maccallum", "maccormack", "maccormick", "macculloch", "macdermott",
    "macdiarmid", "macdonald", "macdonnell", "macdougall", "macdowell", "macduff", "macewan", "macewen",
    "macfadyen", "macfarlane", "macgillivray", "macgowan", "macgregor", "macinnes", "macintyre", "maciver",
    "mackinnon", "maclachlan", "maclaren", "maclean", "maclennan", "macleod", "macmahon", "macmillan",
    "macnab", "macnamara", "macnaughton", "macneil", "macneill", "macpherson", "macquarrie", "macqueen",
    "macrae", "macritchie", "mactavish", "macvicar",
})


def normalize_name(text: str) -> str:
    """Trim and collapse whitespace; fix the case of ALL-CAPS or all-lower names.

    ``JOHN DOE`` -> ``John Doe``, ``mary o'brien`` -> ``Mary O'Brien``, ``o'neil`` ->
    ``O'Neil``, ``jean-luc picard`` -> ``Jean-Luc Picard``, ``mcdonald`` -> ``McDonald`` (every
    "Mc"), ``macdonald`` -> ``MacDonald`` (only the surnames in ``_MAC_NAMES``: ``macy`` ->
    ``Macy``), ``john smith iii`` -> ``John Smith III`` (II–IV; ``Jr``, ``Sr``), ``pieter van der
    berg`` -> ``Pieter van der Berg`` (van, von, der, den, ter, da, dos… after a first name;
    ``Van Morrison`` keeps the capital of a first word). Mixed case is trusted and kept (``Ronald McDonald``, ``Anna van der Berg``,
    ``Ian Macdonald``). Empty names, names with no letters, placeholders like ``Unknown`` and
    names over 120 characters are refused.
    """
    if not isinstance(text, str):
        raise NormalizationError("patientName", "patient_name_missing")
    name = " ".join(text.split())
    if (
        not name
        or not any(ch.isalpha() for ch in name)
        or name.lower() in _PLACEHOLDER_NAMES
    ):
        raise NormalizationError("patientName", "patient_name_missing")
    if len(name) > MAX_NAME_LENGTH:
        raise NormalizationError("patientName", "patient_name_too_long")
    if name.islower() or name.isupper():
        # str.title() starts a new word after any non-letter, which is what
        # names need: O'Brien, Jean-Luc.
        name = re.sub(r"[^\W\d_]+", _scottish_and_irish_capitals, name.title())
        words = name.split(" ")
        for at, word in enumerate(words):
            if at and word.lower() in _NAME_PARTICLES and at < len(words) - 1:
                words[at] = word.lower()  # Pieter van der Berg; Van Morrison keeps his capital
            elif at and word.lower().rstrip(".,") in _NAME_SUFFIXES:
                words[at] = _NAME_SUFFIXES[word.lower().rstrip(".,")] + word[len(word.rstrip(".,")):]
        name = " ".join(words)
    return name


# Surname particles written lower case after a first name in the usual spelling (Dutch, German,
# Portuguese): Pieter van der Berg, Maria von Trapp, João da Silva. Not the Romance particles that
# English-speaking clinics' records usually capitalise (De La Cruz, Del Toro, Di Maggio, Du Bois,
# Le Blanc, St. John), and never the first word (Van Morrison) or the last (a surname "Van").
_NAME_PARTICLES = frozenset({"van", "von", "der", "den", "ter", "ten", "da", "das", "do", "dos", "zu", "vom", "zum"})
# Generational suffixes after a name: Roman numerals in capitals (John Smith III), Jr / Sr as words.
_NAME_SUFFIXES = {"ii": "II", "iii": "III", "iv": "IV", "jr": "Jr", "sr": "Sr"}


def _scottish_and_irish_capitals(part: re.Match) -> str:
    """One title-cased run of letters: Mcdonald -> McDonald; Macdonald -> MacDonald (listed only)."""
    word = part[0]
    if word.startswith("Mc") and len(word) > 2:
        return "Mc" + word[2].upper() + word[3:]
    if word.lower() in _MAC_NAMES:
        return "Mac" + word[3].upper() + word[4:]
    return word


# Words for the characters of an e-mail address, as a caller says them.
_EMAIL_WORDS = {
    "at": "@", "dot": ".", "period": ".", "point": ".", "dash": "-", "hyphen": "-",
    "minus": "-", "underscore": "_", "plus": "+",
    **{word: str(digit) for word, digit in _UNIT_WORDS.items()}, "zero": "0",
}
_EMAIL_PHRASES = re.compile(
    r"\b(?:at sign|at symbol|at the rate of|at the rate|at rate|under score|full stop)\b"
    r"|\bdot(com|net|org|edu|gov|co|uk|us|ca|io|info|biz|me)\b"
)
_EMAIL_PHRASE_WORDS = {"at sign": "at", "at symbol": "at", "at the rate of": "at", "at the rate": "at",
                       "at rate": "at", "under score": "underscore", "full stop": "dot"}
# Said around an address, not part of it: "my e-mail is ...", "... please"; "capital J" is a j.
_EMAIL_LEAD_IN = re.compile(
    r"^(?:(?:it'?s|it is|that'?s|that is)\s+)?(?:(?:my|the|his|her|their)\s+)?"
    r"(?:(?:e-?mail|email)(?:\s+address)?|address)\s+(?:is\s+)?|^(?:it'?s|it is)\s+"
)
_EMAIL_TAIL = re.compile(r"(?:\s+(?:please|thanks|thank you))+$")
_SENTENCE_END = re.compile(r"[\s.,;:!?]+$")  # a transcript's full stop after "dot com" (a written one is SQL's)
_EMAIL_CASE_WORDS = re.compile(r"\b(?:capital|uppercase|upper case|lowercase|lower case|small)\s+(?=\S\b)")
_EMAIL_ONE_WORD = re.compile(r"\s*\b(?:all one word|one word|all together|no spaces?)\b\s*")
_EMAIL_SYMBOLS = "@.-_+"
# A caller declining to give one ("none", "I don't have one", "not sure"): no address, so nothing is
# dropped and the confirmation does not say it "couldn't use that e-mail address".
_EMAIL_DECLINED = re.compile(
    r"^(?:no|nope|nah|none|nothing|n/?a|not applicable|no thanks|no thank you|not sure|i'?m not sure|"
    r"skip(?: it| that)?|(?:i'?d )?rather not|(?:i )?(?:do not|don'?t) have (?:one|an? (?:e-?mail|email)"
    r"(?: address)?|(?:e-?mail|email)(?: address)?)|no (?:e-?mail|email)(?: address)?)"
    r"(?:,? (?:thanks|thank you|sorry))?[.!]*$")
_SPELLED_OUT = re.compile(r"[a-z0-9](?:-[a-z0-9]){2,}")  # "j-o-h-n", as spelling is transcribed
_SPELLED_WITH_DOTS = re.compile(r"\b(?:[a-z0-9]\.\s+){1,}[a-z0-9]\b\.?")  # "j. o. h. n", transcribed


def normalize_email(text: str | None) -> str | None:
    """Write an e-mail address the way it is typed: trimmed, lower-cased, spoken forms rewritten.

    ``john underscore smith at example dot com`` -> ``john_smith@example.com``; ``at`` (``at
    sign``, ``at the rate of``), ``dot`` (``period``, ``point``, ``full stop``), ``dash`` /
    ``hyphen``, ``underscore``, ``plus`` become their characters, ``dotcom`` is ``.com``, digit
    words are digits (``jane two three`` -> ``jane23``), spelled letters (``j o h n``,
    ``j-o-h-n``, ``j. o. h. n``, ``capital j``) are joined. What is said around the address goes
    (``my e-mail is``, ``please``, a closing full stop). Two plain words in a row keep their
    space (``john smith at example dot com`` could be several addresses): never an invented
    address — unless the caller says ``all one word``. None only for blanks, non-text and a caller
    declining to give one (``none``, ``no e-mail``, ``I don't have one``, ``not sure``).
    Whether the result is a plausible address is decided by the database alone
    (``private.is_plausible_email``): an implausible one is stored as NULL and the booking goes
    through, its reply saying ``emailDropped``.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    said = " ".join(text.strip().lower().replace("’", "'").split())
    spoken = _EMAIL_TAIL.sub("", _EMAIL_LEAD_IN.sub("", said)) or said
    if _EMAIL_DECLINED.match(said) or _EMAIL_DECLINED.match(spoken):
        return None
    if "@" not in spoken:
        spoken = _SENTENCE_END.sub("", spoken) or spoken
    spoken = _EMAIL_CASE_WORDS.sub("", spoken)
    spoken = _SPELLED_WITH_DOTS.sub(lambda m: re.sub(r"[.\s]", "", m[0]), spoken)
    spoken = _EMAIL_PHRASES.sub(lambda m: f"dot {m[1]}" if m[1] else _EMAIL_PHRASE_WORDS[m[0]], spoken)
    one_word = _EMAIL_ONE_WORD.search(spoken) is not None
    spoken = _EMAIL_ONE_WORD.sub(" ", spoken).strip() or spoken
    written_at = "@" in spoken
    tokens = []
    for token in spoken.split(" "):
        if token in _EMAIL_WORDS and not (token == "at" and written_at):
            token = _EMAIL_WORDS[token]
        elif token == "oh" and tokens and tokens[-1].isdigit():  # "one nine eight oh"
            token = "0"
        elif _SPELLED_OUT.fullmatch(token):
            token = token.replace("-", "")
        tokens.append(token)
    email = tokens[0]
    for previous, token in zip(tokens, tokens[1:]):
        email += "" if one_word or _joins(previous, token) else " "
        email += token
    return email


def _joins(previous: str, token: str) -> bool:
    """Whether two spoken pieces of an address are written together: around a symbol, or when
    either is a single spelled character or a run of digits."""
    return (
        previous[-1] in _EMAIL_SYMBOLS
        or token[0] in _EMAIL_SYMBOLS
        or len(previous) == 1
        or len(token) == 1
        or previous.isdigit()
        or token.isdigit()
    )


def mask_email(email: str) -> str:
    """Keep the first character and the domain: ``j***@example.com``. A domain is cut after 40
    characters, so a made-up address cannot make a log line of any size."""
    if not isinstance(email, str) or not email:
        return "***"
    local, at, domain = email.rpartition("@")
    if not at:
        return email[0] + "***"
    return f"{local[:1]}***@{domain[:40]}{'…' if len(domain) > 40 else ''}"


# --------------------------------------------------------------------------
# Dates of birth
# --------------------------------------------------------------------------

MAX_AGE_YEARS = 120
# Words people put around a date of birth that carry no part of it.
_DOB_FILLER_WORDS = {
    "the", "of", "on", "in", "and", "born", "year", "my", "is", "it", "its", "s", "was",
    "date", "birth", "dob", "birthday", "i", "im", "am", "m",
}
_NUMERIC_DATE = re.compile(r"^(\d{1,4})\s*[/.\-\s]\s*(\d{1,2})\s*[/.\-\s]\s*(\d{1,4})$")
_ISO_DATETIME = re.compile(r"^(\d{4}-\d{1,2}-\d{1,2})[t ]\d{1,2}:\d{2}.*$")
_DOB_TOKEN = re.compile(r"'\d{2}\b|\d+(?:st|nd|rd|th)?|[a-z]+")


def normalize_birth_date(text: str, today: date, region: str = "US") -> date:
    """Parse a date of birth as people say or write it; never moved forward like a visit date.

    Accepted: ``1980-03-05``; numeric ``03/05/1980``, ``3-5-80``, ``03.05.1980`` (month first
    for US clinics, day first in every other region — ``region`` is the clinic's phone region —
    and the other order when only that one is a real date, e.g. ``25/12/1980`` in the US);
    ``1980/03/05`` (year first); month names with digits or words in either order:
    ``March 5th, 1980``, ``5 March 1980``, ``Mar 5 '80``, ``the fifth of March nineteen
    eighty``, ``March fifth eighty``, ``March twenty-first, two thousand and five``.

    Years: four digits as said; spoken as ``nineteen eighty(-five)``, ``nineteen oh five``,
    ``twenty twelve``, ``two thousand (and) five``, ``nineteen hundred``. A two-digit year
    (``80``, ``'80``, ``eighty``) is the latest 19xx/20xx date that is not in the future, so the
    person is 0 to 99 years old (``03/05/30`` in 2026 is 1930; ``03/05/20`` is 2020).

    Refused with a re-ask naming ``patientDateOfBirth`` (the text is never repeated back): a
    missing year or day, a date that does not exist, a date after ``today`` (the clinic's
    local date) or more than 120 years before it.
    """
    if not isinstance(text, str) or not text.strip():
        raise NormalizationError("patientDateOfBirth", "date_of_birth_invalid")
    cleaned = " ".join(text.strip().lower().split())
    if len(cleaned) > MAX_DATE_TEXT_LENGTH:
        raise NormalizationError("patientDateOfBirth", "date_of_birth_invalid")
    iso_datetime = _ISO_DATETIME.match(cleaned)
    if iso_datetime:
        cleaned = iso_datetime.group(1)

    numeric = _NUMERIC_DATE.match(cleaned)
    if numeric:
        year, month, day = _numeric_birth_date_parts(*numeric.groups(), region=region)
    else:
        year, month, day = _spoken_birth_date_parts(cleaned)
    if year is None or month is None or day is None:
        raise NormalizationError("patientDateOfBirth", "date_of_birth_invalid")
    born = _birth_date(year, month, day, today)
    if born > today or born < today - relativedelta(years=MAX_AGE_YEARS):
        raise NormalizationError("patientDateOfBirth", "date_of_birth_out_of_range")
    return born


# A year as parsed: (value, two_digit). A two-digit year still needs its century.
_Year = tuple[int, bool]


def _numeric_birth_date_parts(first: str, second: str, third: str, *, region: str):
    if len(first) == 4:  # 1980-03-05, 1980/3/5
        return (int(first), False), int(second), int(third)
    if len(first) > 2 or len(third) not in (2, 4):
        return None, None, None
    year = (int(third), len(third) == 2)
    a, b = int(first), int(second)
    month_first = (region or "US").upper() in MONTH_FIRST_REGIONS
    month, day = (a, b) if month_first else (b, a)
    if not 1 <= month <= 12 and 1 <= day <= 12:  # only the other order is a date: 25/12/1980
        month, day = day, month
    return year, month, day


def _spoken_birth_date_parts(text: str):
    tokens = [t for t in _DOB_TOKEN.findall(text.replace("-", " ")) if t not in _DOB_FILLER_WORDS]
    months = [i for i, token in enumerate(tokens) if token in _MONTH_NAMES]
    if len(months) != 1:
        return None, None, None
    at = months[0]
    month = _MONTH_NAMES[tokens[at]]
    before, after = tokens[:at], tokens[at + 1:]
    if before:  # "5 March 1980", "the fifth of March nineteen eighty"
        day, rest = _day_prefix(before)
        year_tokens = after
        if day is None or rest:  # "1980 March 5th"
            day, rest = _day_prefix(after)
            if rest:
                return None, None, None
            year_tokens = before
    else:  # "March 5th, 1980", "March fifth eighty"
        day, year_tokens = _day_prefix(after)
    return _spoken_year(year_tokens), month, day


def _day_prefix(tokens: list[str]) -> tuple[int | None, list[str]]:
    """The day of the month at the start of `tokens` (5, 5th, fifth, twenty-first, twenty one)."""
    if not tokens:
        return None, tokens
    first, rest = tokens[0], tokens[1:]
    digits = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?", first)
    if digits:
        return int(digits.group(1)), rest
    if first in _TENS_WORDS and rest and (rest[0] in _ORDINAL_UNIT_WORDS or rest[0] in _UNIT_WORDS):
        return _TENS_WORDS[first] + _ORDINAL_UNIT_WORDS.get(rest[0], _UNIT_WORDS.get(rest[0], 0)), rest[1:]
    for words in (_ORDINAL_WORDS, _UNIT_WORDS, _TEEN_WORDS, _TENS_WORDS):
        if first in words:
            return words[first], rest
    return None, tokens


def _number_below_100(tokens: list[str], at: int) -> tuple[int, int] | None:
    """(value, next index) for a spoken 0..99 at `at`: eighty, eighty five, nineteen, oh five."""
    if at >= len(tokens):
        return None
    word = tokens[at]
    following = tokens[at + 1] if at + 1 < len(tokens) else None
    if word in _TEEN_WORDS:
        return _TEEN_WORDS[word], at + 1
    if word in _TENS_WORDS:
        if following in _UNIT_WORDS:
            return _TENS_WORDS[word] + _UNIT_WORDS[following], at + 2
        return _TENS_WORDS[word], at + 1
    if word in _ZERO_WORDS:
        if following in _UNIT_WORDS:
            return _UNIT_WORDS[following], at + 2
        return 0, at + 1
    if word in _UNIT_WORDS:
        return _UNIT_WORDS[word], at + 1
    return None


def _spoken_year(tokens: list[str]) -> _Year | None:
    if not tokens:
        return None
    if len(tokens) == 1:
        token = tokens[0]
        if re.fullmatch(r"\d{4}", token):
            return int(token), False
        if re.fullmatch(r"'?\d{2}", token):
            return int(token.lstrip("'")), True
    head = _number_below_100(tokens, 0)
    if head is None:
        return None
    value, at = head
    if at == len(tokens):  # "eighty", "eighty five": two digits
        return value, True
    if tokens[at] in ("thousand", "hundred"):  # two thousand (and) five, nineteen hundred
        scale = 1000 if tokens[at] == "thousand" else 100
        tail = _number_below_100(tokens, at + 1) if at + 1 < len(tokens) else (0, at + 1)
        if tail is None or tail[1] != len(tokens):
            return None
        return value * scale + tail[0], False
    tail = _number_below_100(tokens, at)  # nineteen eighty (five), twenty twelve, nineteen oh five
    if tail is None or tail[1] != len(tokens) or not 10 <= value <= 29:
        return None
    return value * 100 + tail[0], False


def _birth_date(year: _Year, month: int, day: int, today: date) -> date:
    value, two_digit = year
    try:
        if not two_digit:
            return date(value, month, day)
        # The latest 19xx/20xx (or whatever centuries today sits in) that is not in the future.
        candidate_year = today.year // 100 * 100 + value
        for years in (candidate_year, candidate_year - 100):
            try:
                candidate = date(years, month, day)
            except ValueError:  # Feb 29 in a common year: try the other century
                continue
            if candidate <= today:
                return candidate
        return date(candidate_year - 100, month, day)
    except ValueError:
        raise NormalizationError("patientDateOfBirth", "date_of_birth_invalid") from None


# --------------------------------------------------------------------------
# Loose times for checkAvailability: a day and a window on it
# --------------------------------------------------------------------------

# Parts of the day, clinic-local [after, before) (None: from opening / to closing). The key names the
# part; api/speech.py says it ("in the morning", "after work").
DAY_PARTS: dict[str, tuple[time | None, time | None]] = {
    "morning": (None, time(12)), "early_morning": (None, time(10)), "mid_morning": (time(9, 30), time(11, 30)),
    "late_morning": (time(10), time(12)),
    "afternoon": (time(12), time(17)), "early_afternoon": (time(12), time(15)),
    "mid_afternoon": (time(14), time(16)), "late_afternoon": (time(15), time(17)),
    "evening": (time(17), None), "early_evening": (time(17), time(19)), "late_evening": (time(19), None),
    "lunchtime": (time(11, 30), time(13, 30)), "after_lunch": (time(13), None), "before_lunch": (None, time(12)),
    "after_work": (time(17), None), "after_school": (time(15), None), "before_work": (None, time(9)),
    "late_day": (time(15), None), "first_thing": (None, time(10)), "after_noon": (time(12), None),
}
# What callers say for them, after "in the", "during the", "this", "on", "the", "any time in the" and
# a plural ("mornings") are taken off.
_PART_WORDS = {
    **{f"{mod}{part}": f"{key}{part}" for part in ("morning", "afternoon", "evening")
       for mod, key in (("", ""), ("early ", "early_"), ("late ", "late_"), ("mid ", "mid_"), ("mid", "mid_"),
                        ("middle of the ", "mid_"))},
    "night": "evening", "tonight": "evening", "evening time": "evening", "nighttime": "evening",
    "am": "morning", "a m": "morning", "pm": "after_noon", "p m": "after_noon",
    "lunch": "lunchtime", "lunchtime": "lunchtime", "lunch time": "lunchtime", "lunch hour": "lunchtime",
    "over lunch": "lunchtime", "around lunch": "lunchtime", "around lunchtime": "lunchtime", "at lunch": "lunchtime",
    "at lunchtime": "lunchtime", "midday": None,  # midday is a time: noon (normalize_time)
    "after lunch": "after_lunch", "after lunchtime": "after_lunch", "before lunch": "before_lunch",
    "after work": "after_work", "after school": "after_school", "before work": "before_work",
    "end of the day": "late_day", "end of day": "late_day", "late in the day": "late_day", "late": "late_day",
    "later in the day": "late_day", "last thing": "late_day", "last thing in the day": "late_day",
    "first thing": "first_thing", "first thing in the morning": "first_thing", "early": "first_thing",
    "early in the day": "first_thing", "earliest": None, "early in the morning": "early_morning",
    "late in the morning": "late_morning", "late in the afternoon": "late_afternoon",
    "late in the evening": "late_evening", "early in the afternoon": "early_afternoon",
    "early in the evening": "early_evening",
    # "later in the afternoon", "the last appointment", "close of business", "on my lunch break"
    **{f"{later} {part}": f"late_{part}" for part in ("morning", "afternoon", "evening")
       for later in ("later in the", "later on in the", "later", "towards the end of the", "end of the")},
    **{f"{earlier} {part}": f"early_{part}" for part in ("morning", "afternoon", "evening")
       for earlier in ("earlier in the", "start of the", "beginning of the")},
    **dict.fromkeys(("close of business", "cob", "close of day", "end of business", "end of the business day",
                     "end of business day", "closing", "closing time", "before closing", "just before closing",
                     "before you close", "just before you close", "right before you close", "before close",
                     "last appointment", "last slot", "last one", "last available", "last available slot",
                     "last appointment of the day", "last slot of the day", "last one of the day", "latest",
                     "latest possible", "latest you have", "latest slot", "latest appointment", "latest time",
                     "as late as possible", "late as possible", "as late as you can", "as late as you have",
                     "last thing in the afternoon", "end of the afternoon"), "late_day"),
    **dict.fromkeys(("lunch break", "my lunch break", "my lunch hour", "my lunch", "lunch-time",
                     "my break", "lunch time break"), "lunchtime"),
    **dict.fromkeys(("first thing in the day", "earliest in the morning",
                     "first appointment of the day", "first one of the day", "first slot of the day",
                     "opening", "opening time", "when you open", "as soon as you open", "right when you open",
                     "first thing when you open"), "first_thing"),
}
_PART_WORDS = {words: key for words, key in _PART_WORDS.items() if key is not None}
# Said for "any time that day": the whole day.
_WHOLE_DAY = re.compile(
    r"^(?:any ?time|any|anything|whenever|all day|whole day|the whole day|any time of (?:the )?day|"
    r"(?:at )?any time (?:that|this|of the) day|whatever(?:'?s| is)? (?:free|available|open)|no preference|"
    r"(?:it )?doesn'?t matter|(?:i'?m )?flexible|(?:the )?(?:first|earliest|soonest)(?: available| possible| open)?"
    r"(?: time| slot| opening| appointment)?(?: you have| you've got| there is)?|(?:the )?next (?:available|possible|open)(?: time| slot| opening| appointment)?|"
    r"(?:as )?(?:soon|early) as (?:possible|you can|you have|you'?ve got)|asap|during the day|daytime|"
    r"(?:the )?earliest (?:possible|you have|you can|you'?ve got)|"
    r"business hours|open|when(?:ever)? you(?:'re| are)? open|(?:that|this|the) day|later(?: on)?|)$")
# Taken off the window before it is read: "sometime after 3 if possible" is "after 3".
_WINDOW_LEAD = re.compile(
    r"^(?:(?:um|uh|er|erm|so|well|ok|okay|oh|maybe|ideally|preferably|probably|perhaps|just|like|say|"
    r"please|i'?d (?:like|prefer)|i would (?:like|prefer)|i (?:want|need|prefer)|do you have|have you got|"
    r"what (?:do you have|have you got)|what(?: is|'s) (?:free|open|available)|what about|how about|"
    r"later(?= (?:this|today|on)\b)(?! on (?:in|during) )|"
    r"is there|are there|can i (?:get|come in)|could i (?:get|come in)|(?:something|anything|some ?time|any ?time|"
    r"a time|a slot|an appointment|appointment)s?|(?:free|available|open))\b[ ,]*)+")
_WINDOW_TAIL = re.compile(
    r"(?:[ ,]+(?:please|if possible|if you can|if you have (?:it|one|anything)|would be (?:great|good|best|ideal|nice)|"
    r"is (?:fine|good|best|better|ideal)|works(?: (?:best|better|for me))?|preferably|ideally|thanks|thank you|"
    r"would work|suits me|for me))+$")
_TIME_SUFFIXES = r"(?:\s+(?:o'?clock|in the (?:morning|afternoon|evening)|at night))?"
_BETWEEN = (
    re.compile(r"^(?:(?:some ?time |any ?time |anywhere )?between|from)\s+(?P<a>.+?)\s+(?:and|to|till|til|until|"
               r"through|thru|-|–)\s+(?P<b>.+)$"),
    re.compile(r"^(?P<a>[^ ]+(?: ?[ap]\.?m\.?)?)\s*(?:-|–|to|till|until|through|thru)\s*(?P<b>.+)$"),
)
_AFTER = (
    re.compile(r"^(?:(?:any ?time |some ?time )?(?:after|past)|from|later than|no earlier than|not (?:before|earlier than)|"
               r"starting(?: at| from)?|beginning(?: at| from)?|at or after)\s+(?P<t>.+?)"
               r"(?:\s+(?:on|onwards?|or (?:later|after)|and (?:later|after)|at the earliest))?$"),
    re.compile(r"^(?:at\s+)?(?P<t>.+?)\s+(?:or (?:later|after)|onwards?|on|and (?:later|after)|at the earliest)$"),
)
_BEFORE = (
    (re.compile(r"^(?:(?:any ?time |some ?time )?before|earlier than|prior to)\s+(?P<t>.+)$"), False),
    (re.compile(r"^(?:by|until|till|til|up (?:to|until)|no later than|not later than|not after|at the latest by|"
                r"ending by|done by|finished by)\s+(?P<t>.+)$"), True),
    (re.compile(r"^(?:at\s+)?(?P<t>.+?)\s+(?:or (?:earlier|before)|at the latest|latest)$"), True),
)
_AROUND = (
    re.compile(r"^(?:(?:some ?where |some ?time )?(?:a?round|about)|approximately|approx|roughly|close to|near|nearish|"
               r"circa|round about|roundabout|give or take)\s+(?P<t>.+?)"
               r"(?:\s*(?:-?ish|or so|give or take|more or less))?$"),
    re.compile(r"^(?:at\s+)?(?P<t>.+?)\s*(?:-?ish|or so|give or take|more or less|roughly|approximately)$"),
)
_AT = re.compile(r"^(?:at|@)?\s*(?P<t>.+)$")
_AMPM = re.compile(r"[ap]\.?\s*m\.?$|\b(?:noon|midday|midnight|morning|afternoon|evening|night)$|^\d{2}:")


@dataclass(frozen=True)
class TimeWindow:
    """A caller's window on a day, for checkAvailability (clinic-local times).

    ``kind``: ``day`` (no time: the whole day), ``part`` (``part`` names it, see DAY_PARTS),
    ``after`` (from ``start`` on), ``before`` (starts before ``end``), ``by`` (starts at ``end`` at the
    latest), ``between`` (``start`` to ``end``), ``around`` (``start`` ± 60 minutes: SQL's rule), ``at``
    (a clock time: SQL's p_at — from then on, or, when the clinic is shut then, said so with the
    nearest openings). ``today``: said with its own day ("this afternoon", "tonight").
    """

    kind: str = "day"
    start: time | None = None
    end: time | None = None
    part: str | None = None
    today: bool = False

    def rpc_params(self) -> dict[str, str | None]:
        """check_availability's p_after / p_before / p_near / p_at (HH:MM), for the window's kind."""
        after = before = near = at = None
        if self.kind == "part":
            after, before = DAY_PARTS[self.part]
        elif self.kind == "after":
            after = self.start
        elif self.kind == "at":
            at = self.start
        elif self.kind == "before":
            before = self.end
        elif self.kind == "by":  # the minute itself included: a start at 11:00 is "by 11"
            before = (datetime.combine(date(2000, 1, 1), self.end) + timedelta(minutes=1)).time()
            before = None if before == time(0) else before
        elif self.kind == "between":
            after, before = self.start, self.end
        elif self.kind == "around":
            near = self.start
        return {"p_after": _hhmm(after), "p_before": _hhmm(before), "p_near": _hhmm(near), "p_at": _hhmm(at)}


def _hhmm(value: time | None) -> str | None:
    return None if value is None else f"{value:%H:%M}"


@dataclass(frozen=True)
class AvailabilityRequest:
    day: date  # clinic-local
    window: TimeWindow
    provider: str | None = None  # a provider named inside the question ("is Dr. Patel in on Friday?"), as said


# The caller's whole question passed as the day or time of checkAvailability ("is Dr. Patel in on
# Friday?", "what's your earliest?", "are you open Saturday morning?", "anything thursday pm"): the
# words that only make it a question are taken off; who it asks about ("is Dr. Patel in", "when is
# the nurse in") is kept as the provider, as said (SQL resolves it).
_QUESTION_LEAD = re.compile(
    r"^(?:(?:um|uh|er|so|well|ok|okay|hi|hello|yes|yeah|and|also|hey|just wondering|i was wondering|i wonder)\b[\s,]*|"
    r"(?:are|is) (?:you|the clinic|the office|it|there) open\b(?: on)?|(?:are you|is it) available\b(?: on)?|"
    r"(?:when|what time) (?:are|do) you open\b(?: on)?|"
    r"(?:do|would|will) you have(?: any(?:thing| openings?| appointments?| slots?| times?| availability)?)?|"
    r"have you got(?: any(?:thing)?)?|is there(?: any(?:thing| openings?| availability| room| time)?)?|"
    r"are there(?: any(?: openings?| appointments?| slots?| times?)?)?|"
    r"what(?:'s| is| are) (?:your|the)|what(?: do you have| have you got| is free| is open| is available)|"
    r"what about|how about|when(?:'s| is) (?:your|the) (?=earliest|first|next|soonest)|"
    r"(?:can|could|may) (?:i|we) (?:get|have|book|come in|see someone|be seen)(?: in)?|"
    r"(?:can|could) you (?:fit|squeeze) (?:me|us) in|"
    r"any (?:openings?|availability|appointments?|slots?|times?|room)|anything(?: (?:open|free|available))?|"
    r"something|any ?time)[\s,]*",
    re.IGNORECASE)
_QUESTION_TAIL = re.compile(
    r"(?:[\s,]+(?:for me|for us|please|at all|then))+$|[\s?!.,]+$", re.IGNORECASE)
# "is Dr. Patel in (on Friday)", "when is the nurse in", "when's Dr Lee working", "is the hygienist
# available Friday afternoon", "does Dr. Patel work Fridays", "will Dr. Lee be in on Tuesday"
_WHO_IS_IN = re.compile(
    r"^(?:(?:when|what days?|which days?)(?:'s| is| does| will)|is|does|will)\s+(?P<who>.+?)\s+"
    r"(?:be\s+)?(?:in|available|working|work|there|around|free|seeing (?:patients|people)|on)\b(?:\s+on\b)?"
    r"(?P<rest>(?:\s.*)?)$",
    re.IGNORECASE)
_NOT_A_PROVIDER = re.compile(
    r"^(?:you|it|there|anyone|anybody|someone|somebody|anything|something|the clinic|the office|the practice|he|she|"
    r"they|we)\b", re.IGNORECASE)


def read_question(text: str | None) -> tuple[str, str | None]:
    """(the day or window words, the provider asked about or None) from a question said as the day or
    time: ("on Friday", "Dr. Patel") from "is Dr. Patel in on Friday?", ("earliest", None) from "what's
    your earliest?", ("", "the nurse") from "when is the nurse in?", ("thursday pm", None) from
    "anything thursday pm". Text that is no question comes back as it is (trimmed)."""
    said = " ".join((text or "").replace("’", "'").split())
    if len(said) > MAX_DATE_TEXT_LENGTH:
        return said, None
    provider = None
    for _ in range(4):
        before = said
        said = _QUESTION_LEAD.sub("", _QUESTION_TAIL.sub("", said)).strip(" ,")
        match = _WHO_IS_IN.match(said)
        if match and provider is None:
            who, rest = match["who"].strip(" ,"), match["rest"].strip(" ,")
            if re.search(r"\d|\b(?:today|tomorrow|tonight|morning|afternoon|evening|noon|monday|tuesday|wednesday|"
                         r"thursday|friday|saturday|sunday|mon|tue|wed|thu|fri|sat|sun|week|weekend|month|"
                         r"january|february|march|april|may|june|july|august|september|october|november|december)\b",
                         who, re.IGNORECASE):
                said = f"{who} {rest}".strip()  # "is Friday afternoon free?": the day itself is asked about
            else:  # "is anyone in on Friday?": nobody in particular
                provider, said = (None, rest) if _NOT_A_PROVIDER.match(who) else (who, rest)
                # "does Dr. Patel work Fridays": the weekday
                said = re.sub(r"\b(mon|tues|wednes|thurs|fri|satur|sun)days\b", r"\1day", said, flags=re.IGNORECASE)
        if said == before:
            break
    return said, provider


def normalize_availability(
    date_text: str | None,
    time_text: str | None,
    today: date,
    tz: tzinfo,
    *,
    hours: OpeningHours,
    region: str = "US",
) -> AvailabilityRequest:
    """checkAvailability's day and window, from the ``date`` and ``time`` arguments as said.

    The day is read as :func:`normalize_date` reads it, searching (``next week`` is its first day,
    ``as soon as possible`` today); none means the clinic's today. The window — from ``time``, or
    when there is none, from the day's own words ("tomorrow morning", "Friday after 3", "3pm
    Friday", "this afternoon", "tonight") — is one of the classes of :class:`TimeWindow`:

    * nothing, or ``any time``, ``whenever``, ``first available``, ``all day``: the whole day;
    * a part of the day (:data:`DAY_PARTS`): ``morning(s)``, ``in the early afternoon``,
      ``late morning``, ``mid-afternoon``, ``evening``, ``tonight``, ``lunchtime``, ``after lunch``,
      ``before lunch``, ``after work``, ``after school``, ``first thing``, ``end of the day``,
      ``am`` / ``pm``;
    * ``after 3``, ``from 3 on``, ``3 or later``, ``3pm onwards``, ``no earlier than 3``, ``not before
      3``, ``starting at 3``, ``any time after three thirty``;
    * ``before noon``, ``earlier than 11`` (starts before it); ``by 11``, ``until 11``, ``no later than
      11``, ``11 at the latest``, ``11 or earlier`` (a start at 11 included);
    * ``between 2 and 4``, ``from 2 to 4``, ``2-4``, ``2 till 4pm``, ``between 10 and 2`` (a bare hour
      before a later one with AM/PM is read to come before it when the clinic is open then; else
      the range is read the right way round: ``between 4 and 2`` is 2–4 PM);
    * ``around 2``, ``about 2``, ``2ish``, ``twoish``, ``2 or so``, ``roughly half past two``;
    * a clock time in any form :func:`normalize_time` reads (``2pm``, ``at 2``, ``two thirty``,
      ``noon``, ``midnight``): from then on — SQL says so when the clinic is shut then (``p_at``).

    An hour without AM/PM is read in the clinic's ``hours`` on that day (any day's when it is
    closed); when both readings are open, the one that leaves a window wins ("after 8" at a clinic
    open 7 AM–8 PM is 8 AM), else the caller is asked (``appointment_time_meridiem``). Fillers
    ("sometime", "ideally", "if possible", "o'clock") do not matter. A time argument that is none of
    these is re-asked (``appointment_time_invalid``); a day as :func:`normalize_date` re-asks it.
    """
    day_text, day_asks_for = read_question(date_text if isinstance(date_text, str) else "")
    time_text, time_asks_for = read_question(time_text if isinstance(time_text, str) else "")
    provider = day_asks_for or time_asks_for
    said_time = None
    if time_text:
        window_text = time_text
        if read_window(time_text, hours, None) is None:  # "tomorrow afternoon" said as the time
            time_day, split_window = _split_day_and_window(time_text, today, region, hours)
            if split_window is not None:
                window_text, day_text = split_window, day_text or time_day
        if day_text:
            day_text = _split_day_and_window(day_text, today, region, hours)[0] or day_text
    elif day_text:
        day_text, window_text = _split_day_and_window(day_text, today, region, hours)
    else:
        window_text = None

    if day_text:
        day, said_time = _parse_date_and_time(day_text, today, tz, region=region, hours=hours, searching=True)
    else:
        day = today
    weekday = weekday_of(day)
    if window_text:
        window = read_window(window_text, hours, weekday)
        if window is None:
            raise NormalizationError("appointmentTime", "appointment_time_invalid")
    elif isinstance(said_time, time):  # an ISO datetime: its time
        window = TimeWindow("at", start=said_time.replace(second=0, microsecond=0))
    else:
        window = TimeWindow()
    return AvailabilityRequest(day=day, window=window, provider=provider)


def _split_day_and_window(text: str, today: date, region: str, hours: OpeningHours) -> tuple[str, str | None]:
    """("tomorrow", "morning") from "tomorrow morning"; ("Friday", "3pm") from "3pm Friday"; ("",
    "this afternoon") when it is all window; (text, None) when it has none. A split counts only when
    both halves read: "the day after tomorrow" and "a week from today" stay days. The whole text
    stays the day when the would-be window belongs to it: it reads as another day than its day part
    ("later this week", "the first" — not "first available"), adds nothing (the whole day), is a part
    of a week or month ("early next month"), or is a month-day alone ("1-14")."""
    words = text.split()
    if len(text) > MAX_DATE_TEXT_LENGTH or _parse_iso(text) is not None:  # too long to be a day; a machine
        return text, None                                                    # date(time): its time is read with it

    def is_day(part: list[str]) -> bool:
        try:
            _parse_date_and_time(" ".join(part), today, None, region=region, hours=hours, searching=True)
        except NormalizationError as error:
            if error.reask in ("appointment_date_invalid", "appointment_date_missing"):
                return False
            raise  # a day that reads but cannot be had ("yesterday morning") is re-asked as such
        return True

    def is_window(part: list[str]) -> bool:
        try:  # filler alone ("on", "the") is no window
            return read_window(" ".join(part), hours, None, whole_day=False) is not None
        except NormalizationError:
            return True  # it is a window, only its AM/PM is open: asked once the day is known

    def day_of(part: list[str]) -> date | None:
        try:
            return _parse_date_and_time(" ".join(part), today, None, region=region, hours=hours, searching=True)[0]
        except NormalizationError:
            return None

    def whole_is_the_day(day_words: list[str], window_words: list[str]) -> bool:
        """Whether the words a split would call a window belong to the day: the whole text reads as
        another day than its day part ("later this week", "the first", "1-14"), the window adds
        nothing (the whole day), or it is a part of a week or month ("early next month")."""
        whole = day_of(words)
        if whole is None:
            return False
        said = " ".join(window_words).lower().rstrip(" ,")
        if re.fullmatch(r"(?:the )?(?:early|late|later|end|beginning|start|mid|middle)(?: of| in)?(?: the)?", said):
            return True
        if not day_words and re.fullmatch(r"\d{1,2}-\d{1,2}", said):  # "1-14" alone: a month-day, even today's
            return True
        window = read_window(said, hours, None, whole_day=False)
        return (window is not None and window.kind == "day") or whole != (day_of(day_words) if day_words else today)

    for at in range(1, len(words)):  # the day first: "Friday after 3"
        if is_window(words[at:]) and is_day(words[:at]):
            if whole_is_the_day(words[:at], words[at:]):
                return text, None
            return " ".join(words[:at]).rstrip(" ,"), " ".join(words[at:])
    for at in range(len(words) - 1, 0, -1):  # the window first: "after 3 on Friday"
        if is_window(words[:at]) and is_day(words[at:]):
            if whole_is_the_day(words[at:], words[:at]):
                return text, None
            return " ".join(words[at:]), " ".join(words[:at]).rstrip(" ,")
    if read_window(text, hours, None, whole_day=False) is not None:
        if whole_is_the_day([], words):
            return text, None
        return "", text
    return text, None


def read_window(text: str, hours: OpeningHours, weekday: int | None, *, whole_day: bool = True) -> TimeWindow | None:
    """The :class:`TimeWindow` a phrase names, or None when it names none (see
    :func:`normalize_availability` for the classes). ``whole_day``: whether "any time" and the
    like count (they do as a time argument, not as the words left of a day)."""
    if len(text) > MAX_DATE_TEXT_LENGTH:  # no spoken window is that long; never run the patterns on 100 kB
        return None
    said = " ".join(re.sub(r"[,;!?]+|\.(?=\s|$)", " ", text.lower().replace("’", "'")).split())
    said = _WINDOW_TAIL.sub("", _WINDOW_LEAD.sub("", said)).strip()
    today = bool(re.match(r"^(?:this|today|tonight)\b", said)) or said.endswith(("tonight", "today"))
    said = re.sub(r"^(?:(?:this|today|on|the)\s+)+|(?:\s+today)$|\bo'?clock\b", " ", said)
    said = " ".join(said.split())
    if not said:
        return TimeWindow(today=today) if whole_day else None
    if _WHOLE_DAY.match(said):
        return TimeWindow(today=today)
    if not whole_day and re.fullmatch(r"(?:in |of )?(?:19|20)\d\d", said):  # "14th Jan 2027": a year, not 20:27
        return None
    part = _part(said)
    if part is not None:
        return TimeWindow("part", part=part, today=today or said == "tonight")
    either = re.fullmatch(r"(?P<a>.+?)\s*(?:,\s*)?\b(?:or|and|,)\s+(?:maybe\s+|perhaps\s+)?(?P<b>.+)", said)
    if either and not re.match(r"^(?:between|from)\b", said):  # "morning or early afternoon", "10 or 11"
        first = read_window(either["a"], hours, weekday, whole_day=False)
        second = read_window(either["b"], hours, weekday, whole_day=False)
        if first is not None and second is not None and "day" not in (first.kind, second.kind):
            return _union(first, second, today)
    if hours.intervals and weekday is not None and not any(day == weekday for day, _, _ in hours.intervals):
        weekday = None  # a closed day: read an hour in any day's hours (SQL says it is closed)
    for pattern in _BETWEEN:
        match = pattern.match(said)
        if match:
            window = _between(match["a"], match["b"], hours, weekday)
            if window is not None:
                return TimeWindow("between", start=window[0], end=window[1], today=today)
    for pattern in _AROUND:
        match = pattern.match(said)
        if match and (at := _window_time(match["t"], hours, weekday, "around")) is not None:
            return TimeWindow("around", start=at, today=today)
    for pattern in _AFTER:
        match = pattern.match(said)
        if match and (at := _window_time(match["t"], hours, weekday, "after")) is not None:
            return TimeWindow("after", start=at, today=today)
    for pattern, inclusive in _BEFORE:
        match = pattern.match(said)
        if match and (at := _window_time(match["t"], hours, weekday, "before")) is not None:
            return TimeWindow("by" if inclusive else "before", end=at, today=today)
    match = re.fullmatch(r"(?P<t>[a-z]+|\d{1,2}(?::\d{2})?)-?ish", said)  # "twoish", "2ish"
    if match and (at := _window_time(match["t"], hours, weekday, "around")) is not None:
        return TimeWindow("around", start=at, today=today)
    match = _AT.match(said)
    if match and (at := _window_time(match["t"], hours, weekday, "at")) is not None:
        return TimeWindow("at", start=at, today=today)
    return None


def _union(first: TimeWindow, second: TimeWindow, today: bool) -> TimeWindow:
    """One window that holds both ("morning or early afternoon": before 3 PM)."""
    bounds = []
    for window in (first, second):
        params = window.rpc_params()
        after, before, near, at = (None if value is None else time.fromisoformat(value)
                                   for value in (params["p_after"], params["p_before"], params["p_near"],
                                                 params["p_at"]))
        after = after or at  # an exact time among others: from then on
        if near is not None:  # around: an hour either side
            moment = datetime.combine(date(2000, 1, 1), near)
            after = (moment - timedelta(hours=1)).time() if near >= time(1) else None
            before = (moment + timedelta(hours=1, minutes=1)).time() if near < time(23) else None
        bounds.append((after, before))
    after = None if any(a is None for a, _ in bounds) else min(a for a, _ in bounds)
    before = None if any(b is None for _, b in bounds) else max(b for _, b in bounds)
    if after is None and before is None:
        return TimeWindow(today=today)
    if after is None:
        return TimeWindow("before", end=before, today=today)
    if before is None:
        return TimeWindow("after", start=after, today=today)
    return TimeWindow("between", start=after, end=before, today=today)


def _part(said: str) -> str | None:
    words = re.sub(r"^(?:(?:some ?time|any ?time|any|every|during|in|at|for)\s+)*(?:the\s+)?", "", said)
    words = words.replace("-", " ")
    words = re.sub(r"^(?:my|your|the)\s+", "", words)  # "on my lunch break"
    loose = re.sub(r"\s*(?:ish|or so|sort of time|kind of time|time)$", "", words)  # "afternoon-ish", "morning time"
    for candidate in (said.replace("-", " "), said.replace(".", " ").strip(), words, re.sub(r"s$", "", words),
                      re.sub(r"s\b", "", words), loose, re.sub(r"s$", "", loose)):
        key = _PART_WORDS.get(candidate)
        if key is not None:
            return key
    return None


def _window_time(text: str, hours: OpeningHours, weekday: int | None, role: str) -> time | None:
    """A window's clock time, or None when the text is no time. An hour without AM/PM (``5`` or
    ``5:30`` alike) is read as :func:`normalize_time` reads it, with the window's bound as its
    ``role``: in the day's opening hours, then in any day's (the clinic's usual hours say what "3"
    means there); neither reading open, the one that says something ("after 5:30" / "after 7:15" at
    a 9–5 clinic: PM — SQL answers that it is not open then; "before 8": AM). Both readings open,
    it is the reading that leaves a window (for ``after``: an opening interval closes after it;
    ``before``: one opens before it); still open, the caller is asked (NormalizationError
    ``appointment_time_meridiem``)."""
    text = text.strip()
    if not text or not re.search(r"\d|noon|midday|midnight|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|"
                                 r"eleven|twelve)\b", text):
        return None
    bound = role if role in ("after", "before") else "at"
    try:
        return normalize_time(text, hours, weekday, role=bound)
    except NormalizationError as error:
        if error.reask != "appointment_time_meridiem" or len(error.choices) != 2:
            return None
        if weekday is not None:  # both open that day: the usual hours may settle it
            try:
                return normalize_time(text, hours, None, role=bound)
            except NormalizationError:
                pass
        opens = [o for day, o, _ in hours.intervals if weekday is None or day == weekday]
        closes = [c for day, _, c in hours.intervals if weekday is None or day == weekday]
        minutes = {choice: choice.hour * 60 + choice.minute for choice in error.choices}
        if role == "after":
            fitting = [t for t in error.choices if any(c > minutes[t] for c in closes)]
        elif role == "before":
            fitting = [t for t in error.choices if any(o < minutes[t] for o in opens)]
        else:
            fitting = []
        if len(fitting) == 1:
            return fitting[0]
        raise


def _between(first: str, second: str, hours: OpeningHours, weekday: int | None) -> tuple[time, time] | None:
    """"2 and 4" → (14:00, 16:00). A bare first hour comes before the second ("10 and 2pm": 10 AM)."""
    end = _window_time(second, hours, weekday, "before")
    if end is None:
        return None
    try:
        start = _window_time(first, hours, weekday, "after")
    except NormalizationError as error:  # "between 8 and 11" where 8 could be either
        earlier = [t for t in error.choices if t < end]
        if not earlier:
            raise
        start = max(earlier)
    if start is None:
        return None
    if end <= start and not _AMPM.search(second.strip()) and end.hour < 12:
        end = end.replace(hour=end.hour + 12)  # "between 11 and 1"
    if end <= start and not _AMPM.search(first.strip()) and start.hour >= 12 and start.hour - 12 < end.hour:
        morning = start.replace(hour=start.hour - 12)  # "between 10 and 2" read as 22:00–14:00
        if _open_at(hours, weekday, morning):
            start = morning
        elif end < start and not _AMPM.search(second.strip()):
            start, end = end, start  # "between 4 and 2": 4 AM is shut, so the caller means 2 to 4
    return (start, end) if start < end else None


def _open_at(hours: OpeningHours, weekday: int | None, at: time) -> bool:
    """Whether the clinic is open at ``at`` on that weekday (any day's hours when None); without
    hours, yes (nothing says otherwise)."""
    if not hours.intervals:
        return True
    minutes = at.hour * 60 + at.minute
    return any(opens <= minutes < closes for day, opens, closes in hours.intervals
               if weekday is None or day == weekday)


# --------------------------------------------------------------------------
# Which existing appointment the caller means
# --------------------------------------------------------------------------

_HINT_FILLER_WORDS = {"the", "on", "this", "coming", "one", "my", "appointment", "visit", "that", "s"}


@dataclass(frozen=True)
class DayHint:
    """An existing appointment's day as the caller described it: a date, or only a weekday."""

    date: date | None = None
    weekday: int | None = None  # 0 = Sunday .. 6 = Saturday, as PostgreSQL's extract(dow)
    day_of_month: int | None = None  # "the one on the 9th": whichever month (SQL's p_day_of_month)
    ordinal: int | None = None  # "the first one" 1, "the second one" 2, "the last / later one" -1 (p_ordinal)
    # the words beside an order, as said ("the last flu shot" → "flu shot"): SQL's p_which decides
    # which service or provider they name
    which: str | None = None


# "The first one", "the last one", "the later one" (of two): the nth of the caller's matching
# appointments, chronologically; -1 the last. "The first" alone stays the 1st of a month.
_ORDINAL_HINTS = {"first": 1, "1st": 1, "earliest": 1, "earlier": 1, "sooner": 1, "soonest": 1, "next": 1,
                  "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "fifth": 5, "5th": 5,
                  "last": -1, "latest": -1, "later": -1, "final": -1}
_ORDINAL_HINT = re.compile(r"^(?:the\s+|my\s+|that\s+)?(?P<nth>[a-z0-9]+)\s+(?:one|appointment|visit|booking)"
                           r"(?P<rest>(?:\s+.*)?)$")
_ORDINAL_LEAD = re.compile(r"^(?:the\s+|my\s+|that\s+)?(?P<nth>[a-z0-9]+)(?P<rest>\s+.+)$")  # "the second consultation"
# Words that are no named thing after an order: "next week", "later on" stay a re-ask of the day.
_NOT_WHICH = {"someday", "sometime", "soon", "whenever", "anytime", "any", "time", "day", "date", "week", "month",
               "year", "today", "later", "earlier", "next", "last", "this", "that", "one", "it", "thing", "i",
               "dont", "don't", "know", "remember", "not", "sure", "forget", "forgot", "um", "uh", "er", "on",
               "in", "at", "then", "please", "thanks", "yes", "no", "ok", "okay", "don", "t", "can", "cant", "recall",
               "which", "what", "when", "sure", "m", "am", "ll", "have", "check", "see"}
# The parts of the day a booked time can be said by ("the morning one"): clinic-local [after, before).
_PART_HINTS = {"morning": (None, time(12)), "am": (None, time(12)), "a m": (None, time(12)),
               "early": (None, time(12)), "afternoon": (time(12), time(17)), "pm": (time(12), None),
               "p m": (time(12), None), "evening": (time(17), None), "lunchtime": (time(11, 30), time(14)),
               "lunch": (time(11, 30), time(14)), "late": (time(15), None)}


def _which_words(text: str) -> str:
    """The hint in lower case, wrapping words aside: "the one with Nurse Kim" → "with nurse kim"."""
    words = re.sub(r"[^\w\s/.'’-]", " ", text.lower()).replace("’", "'").split()
    while words and words[0] in ("the", "my", "that", "this", "one", "appointment", "visit", "booking", "for",
                                 "about", "um", "uh", "er", "cancel", "move", "it's", "its", "is"):
        words = words[1:]
    while words and words[-1] in ("one", "appointment", "visit", "booking", "please", "thanks"):
        words = words[:-1]
    text = " ".join(words)
    return re.sub(r"'s$", "", text).strip(" .,")


def read_which_hint(text: str) -> DayHint | None:
    """An order among the caller's appointments, when the words are no day: "the first one", "the
    second one", "the last one", "the later one" (of two), with the words beside it as said ("the
    last flu shot", "the first one with Dr. Lee" → ``which``, for SQL's p_which). None otherwise:
    a service or provider alone ("the flu shot") is sent as said by the tool (p_which), and words
    that are neither are SQL's to refuse."""
    lowered = " ".join(text.lower().replace("’", "'").split())
    match = _ORDINAL_HINT.match(lowered)
    lead = _ORDINAL_LEAD.match(lowered) if match is None else None
    match = match or lead
    if not match or match["nth"] not in _ORDINAL_HINTS:
        return None
    rest = _which_words(match["rest"] or "")
    if rest and (set(re.split(r"[\s.'-]+", rest)) - {""} <= _NOT_WHICH or re.search(r"\d", rest)):
        return None  # "next week", "later on": no order of a named thing
    if lead is not None and not rest:
        return None
    return DayHint(ordinal=_ORDINAL_HINTS[match["nth"]], which=rest or None)


def part_of_day_hint(text: str) -> tuple[time | None, time | None] | None:
    """A booked time said as a part of the day ("the morning one", "the afternoon appointment"):
    the clinic-local range [after, before) the finder matches; None when it is not one."""
    words = _which_words(" ".join(text.lower().replace("’", "'").split()))
    words = re.sub(r"^(?:in the|in|during the|at)\s+", "", words)
    return _PART_HINTS.get(words)


def ordinal_hint(text: str) -> int | None:
    """"The later one", "the first one" said where a time is expected: the ordinal, else None."""
    match = _ORDINAL_HINT.match(" ".join(text.lower().replace("’", "'").split()))
    return _ORDINAL_HINTS.get(match["nth"]) if match and not (match["rest"] or "").strip() else None


# --------------------------------------------------------------------------
# A new day or time said relative to the booking being moved
# --------------------------------------------------------------------------

_SHIFT_COUNTS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                 "eight": 8, "nine": 9, "ten": 10, "couple": 2, "a couple": 2, "a couple of": 2, "couple of": 2,
                 "few": 3, "a few": 3}
_SHIFT = re.compile(
    r"^(?:(?:move|push|put|make)(?: it)?\s+)?(?:(?:to|for|on)\s+)?"
    r"(?:(?P<count>\d{1,3}|a couple of|a couple|couple of|a few|an?|one|two|three|four|five|six|seven|eight|nine|ten)"
    r"\s+(?P<unit>days?|weeks?|fortnights?)\s+(?P<dir>later|after(?:wards)?|on|earlier|before|sooner|back)"
    r"|the\s+(?P<unit2>day|week)\s+(?P<dir2>after|before)"
    r"|the\s+(?P<next>next|following)\s+(?P<unit3>day|week)"
    r"|(?:the\s+)?(?P<same>same)\s+day)"
    r"(?:\s+(?:than|from)\s+(?:that|then|it|now|the\s+appointment))?$")
_KEEP_TIME = re.compile(
    r"^(?:(?:at|for|keep|keeping)\s+)?(?:the\s+)?(?:same|usual|current|original|existing)\s+"
    r"(?:time|hour|slot|time slot)(?:\s+(?:as\s+(?:before|now|it\s+is)|as\s+the\s+original|again))?$"
    r"|^(?:the\s+)?same(?:\s+as\s+(?:before|now))?$|^keep\s+(?:the|my)\s+time$|^(?:same|that)\s+time\s+again$")


def relative_day_shift(text: str | None) -> int | None:
    """A new day said relative to the booking being moved: "a week later" 7, "the day after" 1,
    "two days earlier" -2, "the next day" 1, "the same day" 0; None for anything else. Only SQL
    knows the booking's day: it adds the shift to it (p_shift_days)."""
    if not isinstance(text, str):
        return None
    said = " ".join(re.sub(r"[^\w\s']", " ", text.lower().replace("’", "'")).split())
    said = re.sub(r"^(?:um|uh|er|erm|so|maybe|make it|let's do|lets do|let's say|how about|can we do|could we do)\s+",
                  "", said)
    match = _SHIFT.match(said)
    if match is None:
        return None
    if match["same"]:
        return 0
    if match["count"]:
        count = int(match["count"]) if match["count"].isdigit() else _SHIFT_COUNTS[match["count"]]
        days = count * _DAY_UNITS[match["unit"]]
        return -days if match["dir"] in ("earlier", "before", "sooner", "back") else days
    if match["unit2"]:
        days = _DAY_UNITS[match["unit2"]]
        return -days if match["dir2"] == "before" else days
    return _DAY_UNITS[match["unit3"]]


def keeps_booked_time(text: str | None) -> bool:
    """A new time said as the booking's own: "same time", "the same time", "at the same time",
    "keep the time". SQL reads the booking's clinic-local time (p_keep_time)."""
    if not isinstance(text, str):
        return False
    said = " ".join(re.sub(r"[^\w\s']", " ", text.lower().replace("’", "'")).split())
    said = re.sub(r"^(?:um|uh|er|erm|so|just|and|oh)\s+", "", said)
    said = re.sub(r"\s+(?:please|is fine|works|if possible)$", "", said)
    return _KEEP_TIME.match(said) is not None


_MINUTE_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                   "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
                   "twenty five": 25, "thirty": 30, "forty": 40, "forty five": 45, "fifty": 50, "sixty": 60,
                   "ninety": 90, "a": 1, "an": 1, "a couple of": 2, "a couple": 2, "couple of": 2}
_MINUTE_NUMBER = (r"(?:\d{1,3}|twenty five|forty five|a couple of|a couple|couple of|one|two|three|four|five|six|"
                  r"seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty|ninety|an?)")
_AMOUNT = re.compile(
    rf"^(?:(?P<hours>{_MINUTE_NUMBER})\s+(?:hours?|hrs?)(?:\s+and\s+(?:a\s+)?(?P<half>half)"
    rf"|\s+(?:and\s+)?(?P<mins>{_MINUTE_NUMBER})\s+(?:minutes?|mins?))?"
    rf"|(?P<half_hour>half an hour|a half hour|half hour)"
    rf"|(?P<quarter>(?:a\s+)?quarter of an hour|a quarter hour)"
    rf"|(?P<only_mins>{_MINUTE_NUMBER})\s+(?:minutes?|mins?)"
    rf"|(?P<and_half>an?|one|two|three)\s+and\s+a\s+half\s+hours?)$")
_LATER = {"later", "after", "afterwards", "back", "on", "later on"}
_EARLIER = {"earlier", "sooner", "before", "forward", "up", "ahead"}
_TIME_SHIFT = re.compile(
    r"^(?:(?:can you|could you|can we|could we|please|just|i'd like to|i want to|i need to|let's|lets)\s+)*"
    r"(?:(?P<verb>push|move|put|bump|shift|bring|pull|make|set|slide|have)(?:\s+(?:it|that|this|me|the appointment|"
    r"my appointment|the time|things))?\s+)?"
    r"(?:(?:to|for)\s+)?"
    r"(?:(?P<dir1>back|forward|up|later|earlier|ahead)\s+(?:by\s+)?(?P<amount1>.+?)"
    r"|(?:by\s+)?(?P<amount2>.+?)\s+(?P<dir2>later on|later|earlier|sooner|after(?:wards)?|before|back|forward|"
    r"up|ahead))"
    r"(?:\s+(?:than|from)\s+(?:that|then|it|now|before|the appointment|my appointment|the original|"
    r"what i have|what it is))?(?:\s+(?:please|if possible|instead))?$")


def _shift_amount(text: str) -> int | None:
    """"an hour", "30 minutes", "half an hour", "an hour and a half", "two hours and 15 minutes" →
    minutes; None for anything else."""
    match = _AMOUNT.match(text.strip())
    if match is None:
        return None

    def number(word: str) -> int:
        return int(word) if word.isdigit() else _MINUTE_NUMBERS[word]

    if match["half_hour"]:
        return 30
    if match["quarter"]:
        return 15
    if match["only_mins"]:
        return number(match["only_mins"])
    if match["and_half"]:
        return number(match["and_half"]) * 60 + 30
    minutes = number(match["hours"]) * 60
    if match["half"]:
        minutes += 30
    if match["mins"]:
        minutes += number(match["mins"])
    return minutes


# A move of the booked time by at most this much ("an hour later"); SQL checks the same bound.
MAX_SHIFT_MINUTES = 720


def relative_time_shift(text: str | None) -> int | None:
    """A new time said relative to the booking being moved: "an hour later" 60, "30 minutes
    earlier" -30, "half an hour later" 30, "push it back an hour" 60, "bring it forward 30
    minutes" -30, "an hour and a half later" 90; None for anything else (or beyond 12 hours).
    "Back" / "later" move it later, "forward" / "up" / "earlier" / "sooner" earlier. Only SQL
    knows the booked time: it adds the minutes to it on the clinic's clock (p_shift_minutes)."""
    if not isinstance(text, str):
        return None
    said = " ".join(re.sub(r"[^\w\s']", " ", text.lower().replace("’", "'").replace("-", " ")).split())
    said = re.sub(r"^(?:um|uh|er|erm|so|maybe|actually|oh|and|ok|okay|make it|let's do|lets do|let's say|"
                  r"how about|what about)\s+", "", said)
    match = _TIME_SHIFT.match(said)
    if match is None:
        return None
    direction = match["dir1"] or match["dir2"]
    amount = _shift_amount(match["amount1"] or match["amount2"] or "")
    if amount is None or amount == 0 or amount > MAX_SHIFT_MINUTES:
        return None
    if match["dir1"] and not match["verb"] and direction in ("back", "forward", "up", "ahead"):
        return None  # "back an hour" alone: no verb says which way
    if direction in ("later", "later on") or direction.startswith("after"):
        return amount
    if direction == "back":
        return amount  # "push it back an hour": later
    return -amount


_SAME_TIME_IN_DAY = re.compile(
    r"^(?:(?:at|for)\s+)?(?:the\s+)?same\s+time(?:\s+(?:on|as before|as now))?\s+(?P<after>.+)$"
    r"|^(?P<before>.+?)\s+(?:at\s+)?(?:the\s+)?same\s+time(?:\s+as\s+(?:before|now))?$")


def day_with_same_time(text: str | None) -> str | None:
    """A new day said together with "same time" ("the same time Tuesday", "Tuesday, same time",
    "same time on Friday", "next Monday at the same time"): the day words, for the day readers;
    None when the text is not such a phrase. The time is the booking's own (p_keep_time)."""
    if not isinstance(text, str):
        return None
    said = " ".join(re.sub(r"[^\w\s'/-]", " ", text.lower().replace("’", "'")).split())
    match = _SAME_TIME_IN_DAY.match(said)
    if match is None:
        return None
    day = (match["after"] or match["before"] or "").strip()
    day = re.sub(r"\s+(?:and|but|at)$", "", day).strip()
    return day or None


# A weekday said with a day of the month ("Tuesday the 9th") names the next date that is both, this
# far ahead at most (a booking is never further away than the booking horizon).
HINT_SEARCH_DAYS = 190


def normalize_day_hint(
    text: str, today: date, field: str = "appointmentDate", *, region: str = "US"
) -> DayHint:
    """Which day an appointment the caller already has is on.

    A bare weekday — ``Tuesday``, ``the Tuesday one``, ``on Tue``, ``this Tuesday`` — is only a
    weekday: the caller means the appointment that falls on a Tuesday, whichever week that is. A
    bare day of the month — ``the 9th``, ``the one on the ninth``, ``9th`` — is only that
    (``day_of_month``): the appointment on a 9th, whichever month. A weekday with a day of the
    month — ``Tuesday the 9th``, ``the Wednesday the seventeenth one`` — is the next date that is
    both (searched up to :data:`HINT_SEARCH_DAYS` ahead; none: asked which, as a date is).
    Anything else (``December 8th``, ``tomorrow``, ``next Tuesday``, ``the one in two weeks``,
    ``2026-12-08``) is a date, read by :func:`normalize_date` in the clinic's ``region``. A
    re-ask names ``field``: a weekday that does not agree with the date asks which one is meant;
    anything else that is not one upcoming day (a passed day, a whole week) asks for the day.
    """
    if not isinstance(text, str) or not text.strip():
        raise NormalizationError(field, "booked_day_invalid")
    ordinal = ordinal_hint(text)
    if ordinal is not None:  # "the first one" is an order, "the first" a day of the month
        return DayHint(ordinal=ordinal)
    said = [w for w in re.split(r"[\s,.'’]+", text.strip().lower()) if w]
    # "the one on the 3rd": filler; "in one week": a number.
    words = [w for w, following in zip(said, said[1:] + [""])
             if w not in _HINT_FILLER_WORDS or (w == "one" and following in _DAY_UNITS)]
    if len(words) == 1:
        word = words[0]
        weekday = _WEEKDAY_WORDS.get(word, _WEEKDAY_WORDS.get(word[:-1]) if word.endswith("s") else None)
        if weekday is not None:  # "Tuesdays" too
            return DayHint(weekday=weekday)
    tokens = [t for t in _date_tokens(" ".join(words), today) if t not in _DATE_FILLER]
    match = re.fullmatch(r"(?:wd(?P<weekday>\d) )?od(?P<day>\d+)", " ".join(tokens))
    if match and 1 <= int(match["day"]) <= 31:
        if match["weekday"] is None:
            return DayHint(day_of_month=int(match["day"]))
        both = next((today + timedelta(days=n) for n in range(HINT_SEARCH_DAYS)
                     if (today + timedelta(days=n)).day == int(match["day"])
                     and weekday_of(today + timedelta(days=n)) == int(match["weekday"])), None)
        if both is not None:
            return DayHint(date=both)
    try:
        return DayHint(date=normalize_date(" ".join(words) or text, today, region=region))
    except NormalizationError as error:
        if error.reask == "appointment_date_weekday_mismatch":
            raise NormalizationError(field, error.reask, error.choices) from None
        which = read_which_hint(text)
        if which is not None:  # not a day: an order ("the last one", "the last flu shot")
            return which
        raise NormalizationError(field, "booked_day_invalid") from None


def normalize_time_hint(
    text: str,
    field: str = "appointmentTime",
    *,
    hours: OpeningHours,
    weekday: int | None = None,
) -> time:
    """The time of an appointment the caller already has (see :func:`normalize_time`): an hour
    without AM/PM is read against ``hours`` on ``weekday`` (None: any day), as a new booking is.
    A re-ask names ``field``. Wrapping words are taken off first ("the 2 o'clock one")."""
    try:
        return normalize_time(text, hours, weekday)
    except NormalizationError as error:
        failed = error
    stripped = _which_words(text) if isinstance(text, str) else ""
    if stripped and stripped != " ".join(text.lower().split()):
        try:
            return normalize_time(stripped, hours, weekday)
        except NormalizationError as error:
            failed = error
    if failed.reask == "appointment_time_meridiem":
        raise NormalizationError(field, failed.reask, failed.choices) from None
    raise NormalizationError(field, "booked_time_invalid") from None


# --------------------------------------------------------------------------
# "The number I'm calling from"
# --------------------------------------------------------------------------

# Words for the line the caller is on: "this number", "my cell", "the number I'm calling from",
# "the one I'm on", "same one", "caller ID", "the number that came up".
_OWN_LINE = re.compile(
    r"\b(?:this|same|current|present)\s+(?:(?:phone|cell|cellphone|mobile|telephone)\s+)?"
    r"(?:number|phone|line|one|cell|cellphone|mobile|telephone)\b"
    r"|\bthe\s+same\b|^\W*same\W*$"
    r"|\bmy\s+(?:own\s+)?(?:(?:cell|cellular|mobile)\s+)?(?:phone\s+)?"
    r"(?:number|phone|cell|cellphone|cellular|mobile|line)\b"
    r"|\b(?:calling|called|ringing|rang|phoning|phoned)\s+(?:you\s+|in\s+)?(?:from|on|with)\b"
    r"|\bi(?:'?m|\s+am)\s+(?:calling\s+|ringing\s+|phoning\s+)?(?:on|using|from)\b"
    r"|\bcaller\s*-?\s*id\b"
    r"|\b(?:number|one)\s+(?:that\s+|which\s+)?(?:you\s+)?(?:can\s+)?(?:see|showing|shows|showed|"
    r"came\s+up|comes\s+up|popped\s+up|is\s+showing|displayed|on\s+(?:your|the)\s+screen)\b",
    re.IGNORECASE,
)
# ... unless another line is named: "my work number", "my number at home", "my wife's cell".
_OTHER_LINE = re.compile(
    r"\b(?:home|work|office|business|landline|land\s+line|other|second|another|old|new|wife|husband|"
    r"partner|mom|mum|mother|dad|father|son|daughter|parent|friend|daytime|evening)\b|\w's\b",
    re.IGNORECASE,
)


def names_own_number(text: str | None) -> bool:
    """True when a phone argument is words for the caller's own line rather than a number: "the
    number I'm calling from", "this number", "my number", "my cell", "the one I'm on", "same
    one", "caller ID". The caller ID is meant (the booking and caller-context code both ask this
    one function). Words naming another line ("my work number") or a number said in words
    ("my number is two one two ...") are not."""
    if not isinstance(text, str):
        return False
    text = text.replace("’", "'")
    return (
        sum(ch.isdigit() for ch in spoken_phone_digits(text)) < 3
        and _OWN_LINE.search(text) is not None
        and _OTHER_LINE.search(text) is None
    )


# --------------------------------------------------------------------------
# A provider the caller does not want
# --------------------------------------------------------------------------

# "anyone but Dr. Lee", "someone other than Dr. Lee", "anybody except Lee", "any doctor besides Dr
# Patel", "not Dr. Lee", "I don't want Dr. Lee", "anyone else but Lee", "no Dr. Lee please".
_ANYONE = (r"(?:any\s*(?:one|body)|some\s*(?:one|body)|any(?:\s+other)?\s+(?:doctor|doc|dr|provider|physician|"
           r"nurse|practitioner|clinician|one|person)s?|another\s+(?:doctor|doc|dr|provider|physician|nurse|one|person)|"
           r"whoever(?:'s|\s+is)?(?:\s+(?:free|available))?)")
_BUT = r"(?:but(?:\s+not)?|except(?:\s+for)?|besides|other\s+than|apart\s+from|aside\s+from|excluding|save\s+for)"
_EXCLUSION = re.compile(
    rf"^(?:{_ANYONE}(?:\s+else)?,?\s+(?:{_BUT}|(?:just\s+|but\s+)?not(?:\s+with)?)"
    r"|(?:i'?d\s+)?(?:rather|prefer)\s+not(?:\s+(?:to\s+)?(?:see|have|be\s+with|get))?(?:\s+with)?"
    r"|(?:i\s+)?(?:don'?t|do\s+not)\s+(?:want|like)(?:\s+(?:to\s+(?:see|have|be\s+with)))?(?:\s+with)?"
    r"|(?:anyone|anybody|someone|somebody)\s+(?:who|that)(?:\s+is|'?s)?\s+not"
    r"|(?:anyone|anybody|someone|somebody)\s+(?:who|that)\s+isn'?t"
    r"|(?:just\s+|but\s+)?not(?:\s+with)?|no|avoid|never|anyone\s+but\s+not"
    r")\s+(?P<name>\S.*)$",
    re.IGNORECASE,
)
# What follows "not" / "no" that is no name (its first word): "not sure", "not fussy", "no one in
# particular", "no preference" (the text is then left as said, for SQL to read).
_NOT_A_NAME = frozenset({
    "sure", "fussy", "picky", "bothered", "important", "really", "particular", "preference", "a preference",
    "anyone", "anybody", "one", "body", "matter", "care", "mind", "know", "any", "someone", "somebody", "fussed",
    "too", "that", "one's", "ones", "problem", "worries",
})
_EXCLUSION_TAIL = re.compile(r"(?:[\s,.;:!?]+(?:please|thanks|thank\s+you|if\s+possible|if\s+you\s+can))*[\s,.;:!?]*$",
                             re.IGNORECASE)


def excluded_provider(text: str | None) -> str | None:
    """The provider a caller does not want, from ``providerName`` as said: "anyone but Dr. Lee",
    "someone other than Dr. Lee", "anybody except Lee", "any doctor besides Dr Patel", "not Dr.
    Lee", "I don't want Dr. Lee", "I'd rather not see Dr. Lee" → the name (``Dr. Lee``), as said;
    None when the text names no provider to avoid ("Dr. Lee", "anyone", "not sure"). Which
    provider the name means — or that it means nobody here — is SQL's to decide (it is resolved
    exactly like a provider asked for)."""
    if not isinstance(text, str):
        return None
    said = " ".join(text.replace("’", "'").split())
    match = _EXCLUSION.match(said)
    if match is None:
        return None
    name = _EXCLUSION_TAIL.sub("", match.group("name")).strip(" ,.;:!?")
    if not name or name.lower() in _NOT_A_NAME or name.split()[0].lower() in _NOT_A_NAME or _EXCLUSION.match(name):
        return None
    return name


# --------------------------------------------------------------------------
# A whole booking request
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class BookingRequest:
    # Two people: the patient is who is seen (appointments.patient_name); the lead is who holds the
    # phone the booking is under (public.leads: phone, e-mail), e.g. a parent booking for a child.
    patient_name: str
    phone: str  # the lead's, E.164
    email: str | None  # the lead's
    service: str | None  # what the caller asked for, as said; None if blank
    scheduled_at: datetime  # aware, in the clinic zone
    date_of_birth: date | None = None  # the patient's, if the caller gave it; never spoken back


def normalize_booking(
    arguments: dict,
    *,
    today: date,
    tz: tzinfo,
    region: str,
    hours: OpeningHours,
    caller_phone: str | None = None,
) -> BookingRequest:
    """Validate a bookAppointment tool call's arguments.

    Fields are checked in the order name, phone, date, time, date of birth,
    so the first missing or unusable one is the one the caller is asked about.
    ``patientPhone`` falls back to ``caller_phone`` (the number the call came
    from) when it is missing, blank or words for that number ("the number I'm
    calling from"). ``patientDateOfBirth`` is optional and read as a birth
    date (:func:`normalize_birth_date`). ``patientEmail`` is only written out
    (:func:`normalize_email`): whether it is kept is the database's call, and
    it never stops a booking. An hour without AM/PM is read against ``hours``
    (the clinic's opening hours). Any argument of an unexpected type (a list,
    a dict, a boolean) counts as missing; numbers are read as their digits.
    """
    if not isinstance(arguments, dict):
        arguments = {}

    name = normalize_name(as_text(arguments.get("patientName")) or "")

    phone_text = as_text(arguments.get("patientPhone"))
    if not phone_text or names_own_number(phone_text):
        phone_text = as_text(caller_phone)
    phone = normalize_phone(phone_text or "", region)

    scheduled_at = normalize_datetime(
        as_text(arguments.get("appointmentDate")) or "",
        as_text(arguments.get("appointmentTime")),
        today,
        tz,
        hours=hours,
        region=region,
    )

    birth_text = as_text(arguments.get("patientDateOfBirth"))
    date_of_birth = normalize_birth_date(birth_text, today, region) if birth_text else None

    return BookingRequest(
        patient_name=name,
        phone=phone,
        email=normalize_email(as_text(arguments.get("patientEmail"))),
        service=as_text(arguments.get("serviceType")),
        scheduled_at=scheduled_at,
        date_of_birth=date_of_birth,
    )


def as_text(value: Any) -> str | None:
    """A trimmed string, or None for blanks and values that aren't text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    if isinstance(value, str):
        # JSON may carry U+0000, which PostgreSQL text cannot hold: drop it here rather than let the
        # database call fail and the caller hear that the booking system is unreachable.
        return value.replace("\x00", "").strip() or None
    return None
