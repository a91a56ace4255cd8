"""Turn booking facts into the one line the voice assistant says next.

Every public function returns a single line of at most 300 characters, with
no emoji and no machine timestamps: times are spoken in the clinic's zone
("Tuesday, January 20th at 2:00 PM"). Timestamps may be aware datetimes or
the ISO strings the database returns (``2026-03-20T14:30:00Z``). ``tz`` may be
a ``ZoneInfo`` or the IANA name the database replies carry.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import date, datetime, time as dt_time, timezone, tzinfo
from zoneinfo import ZoneInfo

MAX_LINE_LENGTH = 300

# How many times to read out before summarising the rest.
MAX_SPOKEN_ALTERNATIVES = 5
MAX_SPOKEN_SLOTS = 6
MAX_SPOKEN_APPOINTMENTS = 3

_OPENINGS = {
    "slot_unavailable": "That time is no longer available.",
    "outside_business_hours": "We're not open at that time.",
    "closed": "The clinic is closed then.",
    "in_past": "That time has already passed.",
    "too_soon": "That's a little too soon for us to book.",
    "too_far_ahead": "We can't book that far ahead yet.",
}
_DEFAULT_OPENING = "That time isn't available."


# --------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------


def parse_instant(value: datetime | str) -> datetime:
    """Return an aware datetime for a datetime or an ISO-8601 string.

    Naive values are taken as UTC, the zone the database speaks. Raises
    ValueError for anything else.
    """
    if isinstance(value, str):
        value = datetime.fromisoformat(value.strip())
    if not isinstance(value, datetime):
        raise ValueError(f"not a timestamp: {value!r}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value


def spoken_date(dt_local: date) -> str:
    """``Tuesday, January 20th``."""
    return f"{dt_local:%A}, {dt_local:%B} {_ordinal(dt_local.day)}"


def spoken_time(dt_local: datetime) -> str:
    """``2:00 PM``, ``12:00 PM`` at noon, ``9:30 AM``."""
    return f"{dt_local:%I:%M %p}".lstrip("0")


def _ordinal(day: int) -> str:
    if 11 <= day % 100 <= 13:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _zone(tz: tzinfo | str) -> tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def _local(value: datetime | str, tz: tzinfo | str) -> datetime:
    return parse_instant(value).astimezone(_zone(tz))


def _local_instants(values: Iterable, tz: tzinfo | str) -> list[datetime]:
    """Parse a list of timestamps, skipping any that can't be read."""
    instants = []
    for value in values or []:
        try:
            instants.append(_local(value, tz))
        except (ValueError, TypeError, OverflowError):
            continue
    return instants


def _when(dt_local: datetime) -> str:
    return f"{spoken_date(dt_local)} at {spoken_time(dt_local)}"


def _service_words(service_name: str | None) -> str:
    """The service as it sits mid-sentence: "consultation", "MRI scan".

    Plainly capitalised words are lower-cased ("General Check-up" ->
    "general check-up"); words with other capitals (acronyms like MRI or
    X-ray, names like McKenzie) are kept so text-to-speech reads them right.
    """
    words = (service_name or "").split()
    if not words:
        return "appointment"
    return " ".join(
        word.lower() if word[1:2].isalpha() and word[1:] == word[1:].lower() else word
        for word in words
    )


def _with_article(noun_phrase: str) -> str:
    first_word = noun_phrase.split()[0]
    leading_letters = re.match(r"[A-Za-z]*", first_word).group()
    if leading_letters.isupper() and len(first_word) > 1:
        # Capitals are spelled out letter by letter: "an MRI scan",
        # "an X-ray", "a CT scan".
        vowel_sound = first_word[0] in "AEFHILMNORSX"
    else:
        vowel_sound = first_word[0].lower() in "aeiou"
    return f"{'an' if vowel_sound else 'a'} {noun_phrase}"


def _join(items: list[str], conjunction: str = "or", *, pair_comma: bool = False) -> str:
    """``A``, ``A or B``, ``A, B, or C``.

    With ``pair_comma``, two items get a comma too when one already contains
    one ("Wednesday, January 21st at 9:00 AM, or 9:30 AM"), so the listener
    hears that the second time belongs to the same day.
    """
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        has_comma = pair_comma and any("," in item for item in items)
        separator = ", " if has_comma else " "
        return f"{items[0]}{separator}{conjunction} {items[1]}"
    return f"{', '.join(items[:-1])}, {conjunction} {items[-1]}"


def _times_by_day(
    instants: list[datetime], plain_day: date | None
) -> list[str]:
    """Spoken items, naming each day once: the first time of a day carries
    the day ("Wednesday, January 21st at 9:00 AM"), later ones only the time.
    Times on ``plain_day`` are never prefixed with their day."""
    items = []
    current_day = plain_day
    for instant in instants:
        if instant.date() == current_day:
            items.append(spoken_time(instant))
        else:
            items.append(_when(instant))
            current_day = instant.date()
    return items


# --------------------------------------------------------------------------
# Lines
# --------------------------------------------------------------------------


def booking_confirmed(
    scheduled_at: datetime | str,
    tz: tzinfo | str,
    service_name: str | None,
    *,
    email_dropped: bool = False,
) -> str:
    """``You're all set: a consultation on Tuesday, January 20th at 2:00 PM.``

    With ``email_dropped`` (the database could not use the e-mail address given and booked
    without it) the caller is told the address was not kept.
    """
    when = _when(_local(scheduled_at, tz))
    service = _with_article(_service_words(service_name))
    line = f"You're all set: {service} on {when}."
    if email_dropped:
        line += " I couldn't use that e-mail address, so I've left it off the booking."
    return one_line(line)


def alternatives_offer(
    reason: str,
    alternatives: list,
    tz: tzinfo | str,
    requested_at: datetime | str | None = None,
) -> str:
    """Explain a refusal (a database error code) and offer the alternatives.

    Alternatives on the requested clinic-local day are read as bare times;
    others name their day once. Without ``requested_at`` every day is named,
    since the caller can't know which day is meant otherwise.
    """
    opening = _OPENINGS.get(reason, _DEFAULT_OPENING)
    instants = sorted(_local_instants(alternatives, tz))[:MAX_SPOKEN_ALTERNATIVES]
    if not instants:
        return one_line(f"{opening} Is there another day or time that would suit you?")

    requested_day = None
    if requested_at is not None:
        try:
            requested_day = _local(requested_at, tz).date()
        except (ValueError, TypeError, OverflowError):
            requested_day = None
    offer = _join(_times_by_day(instants, requested_day), pair_comma=True)
    question = "would that work?" if len(instants) == 1 else "would any of those work?"
    return one_line(f"{opening} I do have {offer} — {question}")


def available_times(
    slots: list,
    tz: tzinfo | str,
    requested_day: date | datetime | str | None = None,
) -> str:
    """Read out free start times from check_availability.

    ``On Tuesday, January 20th I have 9:00 AM, 9:30 AM, or 10:00 AM
    available.`` When the slots fall on another day than ``requested_day``
    (a date, or a timestamp whose clinic-local day is meant), that is said
    first.
    """
    instants = sorted(_local_instants(slots, tz))
    if not instants:
        return one_line(
            "I don't see any openings around then. Is there another day that would work?"
        )

    wanted_day = _clinic_day(requested_day, tz)
    spoken, rest = instants[:MAX_SPOKEN_SLOTS], len(instants) - MAX_SPOKEN_SLOTS
    days = {instant.date() for instant in spoken}
    if len(days) == 1:
        day = spoken[0]
        times = _join([spoken_time(instant) for instant in spoken])
        sentence = f"On {spoken_date(day)} I have {times} available"
    else:
        sentence = f"I have {_join(_times_by_day(spoken, None), pair_comma=True)} available"
    if rest > 0:
        sentence += f", and {rest} more later"
    sentence += "."

    if wanted_day is not None and wanted_day not in days:
        sentence = f"I don't have anything on {spoken_date(wanted_day)}. {sentence}"
    return one_line(sentence)


def _clinic_day(value: date | datetime | str | None, tz: tzinfo | str) -> date | None:
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return _local(value, tz).date()
    except (ValueError, TypeError, OverflowError):
        return None


def appointments_list(appointments: list[dict], tz: tzinfo | str, *, asking: bool = False) -> str:
    """Read back a caller's upcoming appointments, in the order given.

    The order is kept (not re-sorted) so "the second one" means the second
    item of the list the caller was read. With ``asking`` (the caller wants to
    change one and has not said which) several appointments end with "Which
    one do you mean?"; a plain lookup only reads them. When the appointments
    are for different patients (one phone, several children), each names its
    patient's first name.
    """
    appointments = [item for item in appointments or [] if isinstance(item, dict)]
    if not appointments:
        return one_line("I couldn't find any upcoming appointments for that number.")

    with_names = len({_first_name(item) for item in appointments}) > 1
    described = [_describe_appointment(item, tz, with_name=with_names) for item in appointments]
    if len(described) == 1:
        return one_line(f"I see {described[0]}.")

    question = " Which one do you mean?" if asking else ""
    # Read as many as fit in one line, then summarise the rest.
    for shown in range(min(len(described), MAX_SPOKEN_APPOINTMENTS), 0, -1):
        items = described[:shown]
        if shown < len(described):
            items = items + [f"{len(described) - shown} more"]
        sentence = f"I see {len(described)} appointments: {_join(items, 'and')}.{question}"
        if len(sentence) <= MAX_LINE_LENGTH:
            return one_line(sentence)
    if asking:
        return one_line(f"I see {len(described)} appointments. Which day is the one you mean?")
    return one_line(f"I see {len(described)} appointments; the first is {described[0]}.")


def _first_name(item: dict) -> str | None:
    name = item.get("patientName")
    words = name.split() if isinstance(name, str) else []
    return words[0] if words else None


def _describe_appointment(item: dict, tz: tzinfo | str, *, with_name: bool = False) -> str:
    service = item.get("service")
    name = service.get("name") if isinstance(service, dict) else None
    phrase = _with_article(_service_words(name if isinstance(name, str) else None))
    first_name = _first_name(item) if with_name else None
    if first_name:
        phrase = f"{phrase} for {first_name}"
    try:
        return f"{phrase} on {_when(_local(item.get('scheduledAt'), tz))}"
    except (ValueError, TypeError, OverflowError):
        return phrase


def no_upcoming(searched: str | None) -> str:
    """A verified lookup that found nothing. Under the caller's own number (``searched`` is
    ``caller_id``) that may be said plainly; it discloses nothing about any other number."""
    if searched == "caller_id":
        return one_line(
            "I don't see anything under the number you're calling from — "
            "is it booked under another number?"
        )
    return one_line("I don't see any upcoming appointments on that booking.")


def no_matching_appointment(
    appointments: list[dict], tz: tzinfo | str, *, searched: str | None = None
) -> str:
    """Nothing the verified caller has matches the day or time they described: read what they
    do have and ask which one, or say there is nothing."""
    appointments = [item for item in appointments or [] if isinstance(item, dict)]
    if not appointments:
        return no_upcoming(searched) if searched == "caller_id" else not_found()
    if len(appointments) == 1:
        only = _describe_appointment(appointments[0], tz)
        return one_line(f"I don't see an appointment then, but I do see {only}. Is that the one?")
    listed = appointments_list(appointments, tz, asking=True)
    return one_line(f"I don't see an appointment then. {listed}")


def verification_required() -> str:
    """The caller asked about a booking under a number other than the one they call from."""
    return one_line(
        "For your privacy, can you tell me the phone number, full name and date of birth "
        "on the booking?"
    )


def verification_failed() -> str:
    """The details did not verify the caller for any booking (or the booking has no date of
    birth on file). One line for both, so it tells the caller nothing about which it was."""
    return one_line(
        "I'm sorry, I can't verify that booking with those details. I can transfer you to the "
        "front desk, or you can call us back from the number on the booking — which would "
        "you prefer?"
    )


def verification_locked() -> str:
    """Too many failed verifications on this call: no more lookups or changes."""
    return one_line(
        "For your privacy, I can't look up or change bookings on this call any more. I can "
        "transfer you to the front desk, or you can call us back from the number on file — "
        "which would you prefer?"
    )


def cancelled(
    scheduled_at: datetime | str, tz: tzinfo | str, service_name: str | None
) -> str:
    """``Done — your consultation on Tuesday, January 20th at 2:00 PM is cancelled.``"""
    when = _when(_local(scheduled_at, tz))
    return one_line(f"Done — your {_service_words(service_name)} on {when} is cancelled.")


def rescheduled(
    new_at: datetime | str, tz: tzinfo | str, service_name: str | None
) -> str:
    """``All set — I've moved your consultation to Wednesday, January 21st at 10:00 AM.``"""
    when = _when(_local(new_at, tz))
    return one_line(f"All set — I've moved your {_service_words(service_name)} to {when}.")


# What the caller is asked when a value could not be used, by the re-ask code a
# NormalizationError carries (api/normalize.py raises them; the codes are listed in
# docs/vapi-tools.md).
REASKS = {
    "patient_name_missing": "I didn't catch your name — could you tell me your full name?",
    "patient_name_too_long": (
        "That name is a bit long for me to take down — could you give me just your first and "
        "last name?"
    ),
    "patient_phone_missing": "I didn't catch the phone number — could you say it again?",
    "patient_phone_invalid": (
        "That phone number doesn't sound quite right — could you say it again, digit by digit?"
    ),
    "appointment_date_missing": "I didn't catch the date — which day would you like to come in?",
    "appointment_date_invalid": "I didn't quite get the date — which day would you like to come in?",
    "appointment_time_missing": "I didn't catch the time — what time would work for you?",
    "appointment_time_invalid": (
        "I didn't quite get the time — what time would you like, for example 10 AM or 2:30 PM?"
    ),
    "date_of_birth_invalid": (
        "I didn't quite get the date of birth — could you say it again, with the year, for "
        "example March 5th, 1980?"
    ),
    "date_of_birth_out_of_range": (
        "That date of birth doesn't sound right — could you say the date of birth again, with "
        "the year?"
    ),
    "booked_day_invalid": (
        "I didn't quite get the day of that appointment — which day is it booked for?"
    ),
    "booked_time_invalid": (
        "I didn't quite get the time of that appointment — what time is it booked for?"
    ),
    # Asked with the day(s) in `choices` when normalize gives them (see _which_day); these are
    # the questions without them.
    "appointment_date_passed": "That day has already passed — which day would you like instead?",
    "appointment_date_weekday_mismatch": (
        "That weekday and that date don't fall on the same day — which day did you mean?"
    ),
    "appointment_date_week": "Which day that week would suit you?",
}
_REASK_FALLBACK = "Sorry, could you say that again?"


def reask(code: str, choices: Iterable = ()) -> str:
    """The question for a re-ask code (``NormalizationError.reask``).

    ``appointment_time_meridiem`` (an hour said without AM/PM that the clinic's hours do not
    settle) asks which of ``choices``, its two readings, is meant: ``Is that 2 in the afternoon
    or in the morning?``. The day codes (``appointment_date_passed``,
    ``appointment_date_weekday_mismatch``, ``appointment_date_week``) name their dates from
    ``choices`` (see :func:`_which_day`). An unknown code gets a plain "say that again".
    """
    if code == "appointment_time_meridiem":
        return _which_half_of_the_day(choices)
    return _which_day(code, choices) or one_line(REASKS.get(code, "")) or _REASK_FALLBACK


def _which_day(code: str, choices: Iterable) -> str | None:
    """A day the caller named that cannot be booked as said, asked about with its date(s):
    ``November 29th has already passed — would you like the next available day?``; ``December
    3rd is a Thursday — did you mean Thursday, December 3rd, or Friday, December 4th?``; ``Which
    day in the week of Monday, November 30th would suit you?``. None without the dates."""
    days = [value for value in choices if isinstance(value, date) and not isinstance(value, datetime)]
    if code == "appointment_date_passed" and len(days) == 1:
        return one_line(f"{_month_day(days[0])} has already passed — would you like the next available day?")
    if code == "appointment_date_weekday_mismatch" and len(days) == 2:
        numbered, weekday = days
        return one_line(f"{_month_day(numbered)} is a {numbered:%A} — did you mean "
                        f"{spoken_date(numbered)}, or {spoken_date(weekday)}?")
    if code == "appointment_date_week" and len(days) == 1:
        return one_line(f"Which day in the week of {spoken_date(days[0])} would suit you?")
    return None


def _month_day(day: date) -> str:
    """``November 29th``."""
    return f"{day:%B} {_ordinal(day.day)}"


def _which_half_of_the_day(choices: Iterable) -> str:
    readings = sorted(value for value in choices if isinstance(value, dt_time))
    if len(readings) != 2:
        return one_line(REASKS["appointment_time_invalid"])
    morning, later = readings
    said = f"{later:%I}".lstrip("0") + (f":{later:%M}" if later.minute else "")
    part = "evening" if later.hour >= 18 else "afternoon"
    return one_line(f"Is that {said} in the {part} or in the morning?")


def details_again() -> str:
    """The database refused the request's values (invalid_input) and named none we can ask for."""
    return one_line("I'm sorry, I didn't get all of that — could you give me the details again?")


def unknown_tool() -> str:
    """The assistant called a tool this service does not serve."""
    return one_line("I'm sorry, I can't help with that here. Is there something else I can do for you?")


def infrastructure_failure() -> str:
    return one_line(
        "I'm sorry, I'm having trouble reaching our booking system right now. "
        "Could I take a message and have the clinic call you back?"
    )


def busy() -> str:
    """The database gave up waiting for a lock or a slow statement; nothing was written."""
    return one_line(
        "One moment, please — our booking system is busy with that right this second. "
        "Let me try that again in a few seconds."
    )


def generic_failure() -> str:
    return one_line(
        "I'm sorry, I can't complete that booking right now. "
        "Could I take a message and have the clinic call you back?"
    )


def too_many_tool_calls() -> str:
    """One request asked for more than the webhook answers at once; this one was not carried out."""
    return one_line(
        "Let's take these one at a time — I haven't done this one yet. "
        "Shall we finish the first request and then come back to it?"
    )


def not_found() -> str:
    return one_line(
        "I couldn't find that appointment under this phone number. "
        "Could you tell me the day it's booked for?"
    )


def already_cancelled() -> str:
    return one_line(
        "That appointment has already been cancelled. Would you like to book a new one?"
    )


# --------------------------------------------------------------------------
# The guard every line goes through
# --------------------------------------------------------------------------

# Markup a model might leak into text that a voice would read out literally.
_MARKUP = re.compile(r"[*_#`~|<>\[\]{}\\]")
# Unicode categories that are never spoken: symbols (emoji are "So", skin
# tones "Sk"), control, format (zero-width joiners), private use, unassigned.
_UNSPOKEN_CATEGORIES = {"So", "Sk", "Cc", "Cf", "Co", "Cs", "Cn"}
# Emoji presentation selectors and the keycap mark ride along with emoji.
_EMOJI_MARKS = {"\ufe0e", "\ufe0f", "\u20e3"}


def one_line(text: str, limit: int = MAX_LINE_LENGTH) -> str:
    """Make text safe to speak: one line, no emoji or markup, at most ``limit``
    characters (cut at a word boundary and closed with a full stop)."""
    if not isinstance(text, str):
        return ""
    kept = []
    for ch in text:
        if ch.isspace() or unicodedata.category(ch) == "Cc":
            kept.append(" ")
        elif unicodedata.category(ch) in _UNSPOKEN_CATEGORIES or ch in _EMOJI_MARKS:
            continue
        else:
            kept.append(ch)
    line = _MARKUP.sub("", "".join(kept))
    line = " ".join(line.split())
    if len(line) <= limit:
        return line

    cut = line[: limit - 1]
    if line[limit - 1] != " " and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    cut = cut.rstrip(" ,;:—-")
    return cut if cut.endswith((".", "?", "!")) else cut + "."
