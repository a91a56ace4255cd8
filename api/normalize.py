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
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any

import phonenumbers
from dateutil import parser as date_parser
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
# Dates
# --------------------------------------------------------------------------

_RELATIVE_DAYS = {
    "today": 0,
    "tonight": 0,
    "tomorrow": 1,
    "day after tomorrow": 2,
}
_FILLER_WORDS = {"on", "this", "coming", "the"}


def normalize_date(text: str, today: date) -> date:
    """Parse a spoken or machine-written date into a clinic-local date.

    ``today`` is the clinic's local date. Accepted forms include ISO dates
    (``2026-01-20``), US month/day (``01/20/2026``, ``1/20``), month names
    (``January 20th``, ``Jan 20``, ``20 January 2027``), ``today``,
    ``tomorrow``, weekday names and ISO datetimes (the date part is used as
    written; :func:`normalize_datetime` converts instants with an offset).

    Rules:

    * A date before ``today`` (a model's stale year, e.g. ``2024-12-25``)
      moves to the next occurrence of the same month and day that is not in
      the past. A date without a year gets the same treatment. ``today``
      itself is kept. February 29th moves to the next leap year's.
    * ``Tuesday`` / ``this Tuesday`` / ``on Tuesday``: today if today is a
      Tuesday, otherwise the first Tuesday after today.
    * ``next Tuesday``: the first Tuesday strictly after today (so it only
      differs from ``Tuesday`` when today is a Tuesday: then it is a week out).
    * A weekday written next to a full date (``Tuesday, January 20th``) is
      ignored; the date wins.
    """
    local_date, _ = _parse_date_and_time(text, today, tz=None)
    return local_date


def _parse_date_and_time(
    text: Any, today: date, tz: tzinfo | None
) -> tuple[date, time | None]:
    """Return the clinic-local date (stale years fixed) and any embedded time.

    With ``tz`` given, an ISO datetime carrying an offset is converted to that
    zone first; without it, the date is taken as written.
    """
    if not isinstance(text, str) or not text.strip():
        raise NormalizationError("appointmentDate", "appointment_date_missing")
    cleaned = " ".join(text.strip().split())
    if len(cleaned) > MAX_DATE_TEXT_LENGTH:
        # dateutil's tokenizer needs seconds for a 100 kB string; no spoken date is that long.
        raise NormalizationError("appointmentDate", "appointment_date_invalid")

    iso = _parse_iso(cleaned)
    if isinstance(iso, datetime):
        if iso.tzinfo is not None and tz is not None and not _is_midnight(iso):
            iso = _convert(iso, tz)
        embedded_time = None if _is_midnight(iso) else iso.time().replace(tzinfo=None)
        return _not_in_past(iso.date(), today), embedded_time
    if isinstance(iso, date):
        return _not_in_past(iso, today), None

    spoken = _parse_spoken_day(cleaned, today)
    if spoken is not None:
        return spoken, None

    return _parse_free_text_date(cleaned, today), None


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


def _parse_spoken_day(text: str, today: date) -> date | None:
    """Handle "today", "tomorrow", "Tuesday", "this Tuesday", "next Tuesday"."""
    words = [w for w in re.split(r"[\s,.]+", text.lower()) if w]
    is_next = "next" in words
    words = [w for w in words if w not in _FILLER_WORDS and w != "next"]
    phrase = " ".join(words)

    if phrase in _RELATIVE_DAYS and not is_next:
        return today + timedelta(days=_RELATIVE_DAYS[phrase])

    if len(words) != 1:
        return None
    weekday = date_parser.parserinfo().weekday(words[0])
    if weekday is None:
        return None
    start = today + timedelta(days=1) if is_next else today
    return start + relativedelta(weekday=weekday)


def _parse_free_text_date(text: str, today: date) -> date:
    # dateutil fills anything missing from `default` and cannot tell us what
    # was actually written. Parsing twice with defaults that differ in year,
    # month and day reveals it: a part that changes with the default was not
    # in the text. Both default years are leap years so "Feb 29" parses.
    first_leap, second_leap = _two_leap_years_from(today.year)
    defaults = (datetime(first_leap, 1, 1), datetime(second_leap, 3, 2))
    text = re.sub(r"\bthe\b", " ", text, flags=re.IGNORECASE)
    try:
        first, second = (
            date_parser.parse(text, default=d, dayfirst=False, ignoretz=True)
            for d in defaults
        )
    except (ValueError, OverflowError):
        raise NormalizationError("appointmentDate", "appointment_date_invalid") from None

    if first.month != second.month or first.day != second.day:
        raise NormalizationError("appointmentDate", "appointment_date_invalid")
    if first.year != second.year:
        return _next_occurrence(first.month, first.day, today)
    return _not_in_past(first.date(), today)


def _two_leap_years_from(year: int) -> tuple[int, int]:
    # Near the end of the calendar, look backwards instead; the stale-year
    # rule then moves the result forward anyway.
    start = min(year, date.max.year - 12)
    leaps = [y for y in range(start, start + 12) if calendar.isleap(y)]
    return leaps[0], leaps[1]


def _not_in_past(value: date, today: date) -> date:
    if value >= today:
        return value
    return _next_occurrence(value.month, value.day, today)


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


def normalize_time(text: str, hours: OpeningHours | None = None, weekday: int | None = None) -> time:
    """Parse a spoken or machine-written clock time.

    Accepts ``14:00``, ``14:00:00``, ``2pm``, ``2:30 PM``, ``2.30pm``,
    ``2:30 p.m.``, ``noon``, ``midday``, ``midnight`` (00:00; the database
    will refuse it as outside business hours), ``half past two``,
    ``quarter to three``, ``two thirty``, ``3 in the afternoon``.

    Without AM/PM, 0 and 12-23 are read as a 24-hour clock (``12`` is noon).
    An hour of 1 to 11 could be the morning or the afternoon: the reading
    within the clinic's opening hours (``hours``, SQL's) on ``weekday``
    (0 = Sunday; None: any day) wins. When both readings or neither are
    within them (a clinic open 7 AM to 8 PM hearing "8", a closed day, no
    hours given), the caller is asked which one is meant
    (``appointment_time_meridiem``, with both readings as ``choices``).
    An hour written with a leading zero (``08:00``) is on a 24-hour clock:
    the morning, unless only the afternoon is within the hours (a model's
    ``02:00`` for two o'clock at a clinic open 9 to 5). A machine timestamp (``2026-01-20T08:00:00Z``, ``14:00-05:00``,
    ``08:00:00``) is a 24-hour clock time; its date part and zone are dropped
    and the wall-clock time is used as written: models put a ``Z`` on times
    they mean as local.
    """
    if not isinstance(text, str) or not text.strip():
        raise NormalizationError("appointmentTime", "appointment_time_missing")
    spoken, timestamp = _rewrite_spoken_time(text)

    if spoken in _NAMED_TIMES:
        return _NAMED_TIMES[spoken]

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
            return _reading_in_opening_hours(
                time(hour, minute), time(hour + 12, minute), hours, weekday,
                written_24h=match["hour"].startswith("0"),
            )
    elif meridiem == "a":
        if not 1 <= hour <= 12:
            raise NormalizationError("appointmentTime", "appointment_time_invalid")
        hour = 0 if hour == 12 else hour
    elif hour < 12:  # "pm"; a 24-hour "14:00 pm" is tolerated as is
        if hour == 0:
            raise NormalizationError("appointmentTime", "appointment_time_invalid")
        hour += 12
    return time(hour, minute, second)


def _reading_in_opening_hours(
    morning: time,
    afternoon: time,
    hours: OpeningHours | None,
    weekday: int | None,
    *,
    written_24h: bool,
) -> time:
    inside = [t for t in (morning, afternoon) if hours is not None and hours.covers(weekday, t)]
    if written_24h:  # "08:00" is the morning, unless only the afternoon is within the hours
        return afternoon if inside == [afternoon] else morning
    if len(inside) == 1:
        return inside[0]
    raise NormalizationError(
        "appointmentTime", "appointment_time_meridiem", choices=(morning, afternoon)
    )


def _rewrite_spoken_time(text: str) -> tuple[str, bool]:
    """Lower-case and turn word forms into digits: "half past two" -> "2:30".

    Also says whether the text was a machine timestamp (a date part or a zone
    was dropped)."""
    spoken = " ".join(text.strip().lower().split())
    spoken, with_date = re.subn(r"^\d{4}-\d{2}-\d{2}[t ]", "", spoken)
    spoken, with_zone = re.subn(
        r"^(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(?:z|[+-]\d{2}(?::?\d{2})?)$", r"\1", spoken
    )
    spoken = re.sub(r"^(?:at|around|about)\s+", "", spoken)

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
    spoken = re.sub(r"^half past (\d{1,2})\b", r"\1:30", spoken)
    spoken = re.sub(r"^quarter past (\d{1,2})\b", r"\1:15", spoken)
    spoken = re.sub(
        r"^quarter to (\d{1,2})\b",
        lambda m: f"{(int(m[1]) - 2) % 12 + 1}:45",
        spoken,
    )
    for word, minutes in _MINUTE_WORDS.items():
        spoken = re.sub(rf"^(\d{{1,2}}) {word}\b", rf"\1:{minutes:02d}", spoken)
    return spoken + meridiem, bool(with_date or with_zone)


# --------------------------------------------------------------------------
# Date + time
# --------------------------------------------------------------------------


def normalize_datetime(
    date_text: str, time_text: str | None, today: date, tz: tzinfo, *, hours: OpeningHours
) -> datetime:
    """Combine a date and a time into an aware datetime in the clinic zone.

    ``date_text`` may be a plain date (see :func:`normalize_date`) or an ISO
    datetime. With an offset or ``Z`` the instant is converted to ``tz``
    first, then the stale-year rule is applied to the local date; without an
    offset it is taken as clinic-local. An ISO datetime at exactly midnight
    counts as a date only. A non-blank ``time_text`` overrides any time in
    ``date_text``; with no time anywhere the caller is asked for one. An hour
    said without AM/PM is read against ``hours`` on that date's weekday (see
    :func:`normalize_time`).

    Daylight saving: a wall-clock time that doesn't exist (the spring-forward
    gap, e.g. 02:30 on the March change in New York) moves forward by the
    length of the gap (03:30), as a wall clock would. A time that happens
    twice (the fall-back hour) means the first occurrence, in daylight time
    (``fold=0``).
    """
    local_date, embedded_time = _parse_date_and_time(date_text, today, tz)
    if isinstance(time_text, str) and time_text.strip():
        wall_time = normalize_time(time_text, hours, weekday_of(local_date))
    elif embedded_time is not None:
        wall_time = embedded_time
    else:
        raise NormalizationError("appointmentTime", "appointment_time_missing")

    naive = datetime.combine(local_date, wall_time)
    # Round-tripping through UTC resolves a time in the spring-forward gap to
    # the real instant it names and gives it its correct offset.
    return _convert(_convert(naive.replace(tzinfo=tz), timezone.utc), tz)


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

    try:
        number = phonenumbers.parse(text.strip(), region)
    except phonenumbers.NumberParseException:
        raise NormalizationError("patientPhone", "patient_phone_invalid") from None
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise NormalizationError("patientPhone", "patient_phone_invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask_phone(e164: str) -> str:
    """Hide all but the country code and last four digits: ``+1******0123``."""
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


def normalize_name(text: str) -> str:
    """Trim and collapse whitespace; fix the case of ALL-CAPS or all-lower names.

    ``JOHN DOE`` -> ``John Doe``, ``mary o'brien`` -> ``Mary O'Brien``,
    ``jean-luc picard`` -> ``Jean-Luc Picard``. Mixed case is trusted and kept
    (``Ronald McDonald``, ``Anna van der Berg``). Empty names, names with no
    letters, placeholders like ``Unknown`` and names over 120 characters are
    refused.
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
        name = name.title()
    return name


# Words for the characters of an e-mail address, as a caller says them.
_EMAIL_WORDS = {
    "at": "@", "dot": ".", "period": ".", "point": ".", "dash": "-", "hyphen": "-",
    "minus": "-", "underscore": "_", "plus": "+",
}
_EMAIL_PHRASES = re.compile(r"\b(?:at sign|at symbol|under score|full stop)\b")
_EMAIL_PHRASE_WORDS = {"at sign": "at", "at symbol": "at", "under score": "underscore", "full stop": "dot"}
_EMAIL_SYMBOLS = "@.-_+"
_SPELLED_OUT = re.compile(r"[a-z0-9](?:-[a-z0-9]){2,}")  # "j-o-h-n", as spelling is transcribed


def normalize_email(text: str | None) -> str | None:
    """Write an e-mail address the way it is typed: trimmed, lower-cased, spoken forms rewritten.

    ``john underscore smith at example dot com`` -> ``john_smith@example.com``; ``at``, ``dot``,
    ``dash`` / ``hyphen``, ``underscore``, ``plus`` become their characters, spelled letters
    (``j o h n``, ``j-o-h-n``) and digits are joined. Two plain words in a row keep their space
    (``john smith at example dot com`` could be several addresses): never an invented address.
    None only for blanks and non-text. Whether the result is a plausible address is decided by
    the database alone (``private.is_plausible_email``): an implausible one is stored as NULL and
    the booking goes through, its reply saying ``emailDropped``.
    """
    if not isinstance(text, str) or not text.strip():
        return None
    spoken = " ".join(text.strip().lower().split())
    spoken = _EMAIL_PHRASES.sub(lambda m: _EMAIL_PHRASE_WORDS[m[0]], spoken)
    written_at = "@" in spoken
    tokens = []
    for token in spoken.split(" "):
        if token in _EMAIL_WORDS and not (token == "at" and written_at):
            token = _EMAIL_WORDS[token]
        elif _SPELLED_OUT.fullmatch(token):
            token = token.replace("-", "")
        tokens.append(token)
    email = tokens[0]
    for previous, token in zip(tokens, tokens[1:]):
        email += "" if _joins(previous, token) else " "
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
# Which existing appointment the caller means
# --------------------------------------------------------------------------

_WEEKDAY_WORDS = {  # PostgreSQL's extract(dow): 0 = Sunday
    "sunday": 0, "sun": 0, "monday": 1, "mon": 1, "tuesday": 2, "tue": 2, "tues": 2,
    "wednesday": 3, "wed": 3, "thursday": 4, "thu": 4, "thur": 4, "thurs": 4,
    "friday": 5, "fri": 5, "saturday": 6, "sat": 6,
}
_HINT_FILLER_WORDS = {"the", "on", "this", "coming", "one", "my", "appointment", "visit", "that", "s"}


@dataclass(frozen=True)
class DayHint:
    """An existing appointment's day as the caller described it: a date, or only a weekday."""

    date: date | None = None
    weekday: int | None = None  # 0 = Sunday .. 6 = Saturday, as PostgreSQL's extract(dow)


def normalize_day_hint(text: str, today: date, field: str = "appointmentDate") -> DayHint:
    """Which day an appointment the caller already has is on.

    A bare weekday — ``Tuesday``, ``the Tuesday one``, ``on Tue``, ``this Tuesday`` — is only a
    weekday: the caller means the appointment that falls on a Tuesday, whichever week that is.
    Anything else (``December 8th``, ``tomorrow``, ``next Tuesday``, ``2026-12-08``) is a date,
    read by :func:`normalize_date` (a date without a year is its next occurrence, as an upcoming
    appointment is). A re-ask names ``field``.
    """
    if not isinstance(text, str) or not text.strip():
        raise NormalizationError(field, "booked_day_invalid")
    words = [w for w in re.split(r"[\s,.'’]+", text.strip().lower()) if w]
    words = [w for w in words if w not in _HINT_FILLER_WORDS]
    if len(words) == 1:
        word = words[0]
        weekday = _WEEKDAY_WORDS.get(word, _WEEKDAY_WORDS.get(word[:-1]) if word.endswith("s") else None)
        if weekday is not None:  # "Tuesdays" too
            return DayHint(weekday=weekday)
    try:
        return DayHint(date=normalize_date(text, today))
    except NormalizationError:
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
    A re-ask names ``field``."""
    try:
        return normalize_time(text, hours, weekday)
    except NormalizationError as error:
        if error.reask == "appointment_time_meridiem":
            raise NormalizationError(field, error.reask, error.choices) from None
        raise NormalizationError(field, "booked_time_invalid") from None


# --------------------------------------------------------------------------
# "The number I'm calling from"
# --------------------------------------------------------------------------

_OWN_NUMBER = re.compile(
    r"\b(?:this|same|current|my(?:\s+own)?)\s+(?:phone\s+|cell\s+|mobile\s+)?(?:number|phone|line|one)\b"
    r"|\bcalling\s+(?:from|on|with)\b|\bcaller\s*id\b",
    re.IGNORECASE,
)


def names_own_number(text: str | None) -> bool:
    """True when a phone argument is words for the caller's own line ("the number I'm calling
    from", "this number", "my number") rather than a number: the caller ID is meant."""
    return (
        isinstance(text, str)
        and sum(ch.isdigit() for ch in text) < 3
        and _OWN_NUMBER.search(text) is not None
    )


# --------------------------------------------------------------------------
# A whole booking request
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class BookingRequest:
    name: str
    phone: str  # E.164
    email: str | None
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
    )

    birth_text = as_text(arguments.get("patientDateOfBirth"))
    date_of_birth = normalize_birth_date(birth_text, today, region) if birth_text else None

    return BookingRequest(
        name=name,
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
