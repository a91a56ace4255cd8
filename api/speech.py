"""Turn booking facts into the one line the voice assistant says next.

Every public function returns a single line of at most 300 characters, with
no emoji and no machine timestamps: times are spoken in the clinic's zone
("Tuesday, January 20th at 2:00 PM"). Timestamps may be aware datetimes or
the ISO strings the database returns (``2026-03-20T14:30:00Z``). ``tz`` may be
a ``ZoneInfo`` or the IANA name the database replies carry.

Providers (the people who keep calendars at a clinic) are named only when the tool handler passes
their names, which it does only for a clinic with more than one provider: every line of a
one-provider clinic is exactly what it was before providers existed. A provider is named again
rather than referred to by a pronoun the service cannot know.
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
    "ends_after_closing": "That visit wouldn't be finished before we close.",
    # A plain refusal: it must not tell a caller who is not verified for the patient's other booking
    # that one exists (the verified caller hears it described, see patient_busy_opening).
    "patient_busy": "I can't book that time for this patient.",
    "provider_unavailable": "That provider isn't in at that time.",
    "provider_not_qualified": "That provider doesn't do that kind of visit.",
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


def _with_the(noun_phrase: str) -> str:
    return f"the {noun_phrase}"


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
    provider: str | None = None,
    *,
    email_dropped: bool = False,
) -> str:
    """``You're all set: a consultation on Tuesday, January 20th at 2:00 PM.``

    With ``provider``: ``You're all set: a consultation with Dr. Anika Patel on Tuesday, …``. With
    ``email_dropped`` (the database could not use the e-mail address given and booked without it)
    the caller is told the address was not kept.
    """
    when = _when(_local(scheduled_at, tz))
    service = _with_article(_service_words(service_name))
    line = f"You're all set: {service}{_with_provider(provider)} on {when}."
    if email_dropped:
        line += " I couldn't use that e-mail address, so I've left it off the booking."
    return one_line(line)


def alternatives_offer(
    reason: str,
    alternatives: list,
    tz: tzinfo | str,
    requested_at: datetime | str | None = None,
    *,
    slots: list | None = None,
    requested_provider: str | None = None,
    service_name: str | None = None,
    opening: str | None = None,
) -> str:
    """Explain a refusal (a database error code) and offer the alternatives.

    Alternatives on the requested clinic-local day are read as bare times;
    others name their day once. Without ``requested_at`` every day is named,
    since the caller can't know which day is meant otherwise.

    ``slots`` (a clinic with several providers): the alternatives as
    ``(timestamp, provider name)`` pairs in the database's order; each
    provider's times are read together ("Dr. Anika Patel is booked then but
    free at 2:30 PM or 3:00 PM, or Dr. Marcus Lee is free at 2:00 PM").
    ``requested_provider`` is the one the caller asked for, if the reply
    said who that is; ``service_name`` words a ``provider_not_qualified``.
    ``opening`` replaces the code's usual first sentence (patient_busy_opening).
    """
    if slots is not None:
        return _provider_offer(reason, slots, tz, requested_at, requested_provider, service_name, opening)
    opening = opening or _OPENINGS.get(reason, _DEFAULT_OPENING)
    instants = sorted(_local_instants(alternatives, tz))[:MAX_SPOKEN_ALTERNATIVES]
    if not instants:
        return one_line(f"{opening} Is there another day or time that would suit you?")

    requested_day = _clinic_day(requested_at, tz)
    offer = _join(_times_by_day(instants, requested_day), pair_comma=True)
    question = "would that work?" if len(instants) == 1 else "would any of those work?"
    if reason == "too_far_ahead":  # the offers are the latest inside the horizon
        return one_line(f"{opening} The latest I can offer is {offer} — {question}")
    return one_line(f"{opening} I do have {offer} — {question}")


def ends_after_closing(service: dict | None, requested_at: datetime | str | None, closes_at: str | None,
                       tz: tzinfo | str) -> str | None:
    """The real reason a start inside the opening hours is refused (SQL's ``ends_after_closing``):
    ``A 30-minute consultation at 4:45 PM doesn't fit before we close at 5:00 PM.`` None when the
    reply lacks a fact it needs (the generic opening is said then)."""
    try:
        at = _local(requested_at, tz)
        closes = _clock(closes_at)
        minutes = int(service["durationMinutes"]) if isinstance(service, dict) else None
    except (ValueError, TypeError, KeyError, OverflowError):
        return None
    if closes is None:
        return None
    name = service.get("name") if isinstance(service, dict) else None
    visit = _service_words(name if isinstance(name, str) else None)
    length = f"{minutes}-minute " if minutes and minutes > 0 else ""
    phrase = _with_article(f"{length}{visit}") if length else _with_article(visit)
    if length and re.match(r"(8|11|18)(\d)?-|8\d-", length):  # "an 8-minute", "an 11-minute", "an 80-minute"
        phrase = "an " + phrase.split(" ", 1)[1]
    return one_line(f"{phrase[0].upper()}{phrase[1:]} at {spoken_time(at)} doesn't fit before we close at "
                    f"{_clock_words(closes)}.")


def too_far_ahead(horizon_days) -> str | None:
    """How far ahead the clinic books (SQL's ``bookingHorizonDays`` on ``too_far_ahead``): ``We book up
    to 120 days ahead.`` None without the number."""
    if isinstance(horizon_days, bool) or not isinstance(horizon_days, int) or horizon_days <= 0:
        return None
    unit = "day" if horizon_days == 1 else "days"
    return one_line(f"We book up to {horizon_days} {unit} ahead.")


def _clock_words(at: dt_time) -> str:
    """A clock time on its own: ``noon``, ``midnight``, else ``5:00 PM``."""
    if at == dt_time(12, 0):
        return "noon"
    if at == dt_time(0, 0):
        return "midnight"
    return spoken_time(datetime.combine(date(2000, 1, 1), at))


def _clock(text: str | None) -> dt_time | None:
    """``"17:00"`` (a reply's clinic-local HH:MI) as a time; ``"24:00"`` is midnight's end, said as
    midnight. None for anything else."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text) if isinstance(text, str) else None
    if match is None or int(match[1]) > 24 or int(match[2]) > 59:
        return None
    return dt_time(int(match[1]) % 24, int(match[2]))


def available_times(
    slots: list,
    tz: tzinfo | str,
    requested_day: date | datetime | str | None = None,
    *,
    provider_slots: list | None = None,
) -> str:
    """Read out free start times from check_availability.

    ``On Tuesday, January 20th I have 9:00 AM, 9:30 AM, or 10:00 AM
    available.`` When the slots fall on another day than ``requested_day``
    (a date, or a timestamp whose clinic-local day is meant), that is said
    first.

    ``provider_slots`` (a clinic with several providers): the slots as
    ``(timestamp, provider name)`` pairs; each provider's times are read
    together ("On Tuesday, January 20th, Dr. Marcus Lee is free at 9:00 AM or
    10:00 AM, and Nurse Joy Kim is free at 9:30 AM.").
    """
    if provider_slots is not None:
        return _provider_times(provider_slots, tz, requested_day)
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


# A caller's window (api.normalize.TimeWindow) as it sits in a sentence.
_PART_PHRASES = {
    "morning": "in the morning", "early_morning": "early in the morning", "mid_morning": "mid-morning",
    "late_morning": "late in the morning", "afternoon": "in the afternoon",
    "early_afternoon": "in the early afternoon", "mid_afternoon": "mid-afternoon",
    "late_afternoon": "late in the afternoon", "evening": "in the evening", "early_evening": "in the early evening",
    "late_evening": "late in the evening", "lunchtime": "around lunchtime", "after_lunch": "after lunch",
    "before_lunch": "before lunch", "after_work": "after work", "after_school": "after school",
    "before_work": "before work", "late_day": "late in the day", "first_thing": "first thing in the morning",
    "after_noon": "after noon",
}


def window_words(window) -> str:
    """``after 3:00 PM``, ``before noon``, ``by 11:00 AM``, ``between 2:00 PM and 4:00 PM``,
    ``around 2:00 PM``, ``from 2:00 PM``, ``in the morning``; "" for the whole day."""
    kind = getattr(window, "kind", "day")
    start, end = getattr(window, "start", None), getattr(window, "end", None)
    if kind == "part":
        return _PART_PHRASES.get(getattr(window, "part", None), "then")
    words = {"after": ("after", start), "at": ("from", start), "around": ("around", start),
             "before": ("before", end), "by": ("by", end)}
    if kind in words and isinstance(words[kind][1], dt_time):
        return f"{words[kind][0]} {_clock_words(words[kind][1])}"
    if kind == "between" and isinstance(start, dt_time) and isinstance(end, dt_time):
        return f"between {_clock_words(start)} and {_clock_words(end)}"
    return ""


def _part_of_day(instants: list[datetime]) -> str:
    parts = {"morning" if at.hour < 12 else "afternoon" if at.hour < 17 else "evening" for at in instants}
    return parts.pop() if len(parts) == 1 else "day"


def window_alternatives(
    reason: str | None,
    window,
    day: date,
    today: date,
    slots: list,
    tz: tzinfo | str,
    *,
    provider_slots: list | None = None,
    provider: str | None = None,
) -> str:
    """Nothing is free in the caller's window (SQL's ``windowEmpty``: ``closed``, ``outside_hours``,
    ``provider_off``, ``passed``, ``full``): say so for that window, then the openings SQL offers instead — the same
    day's first, then another day's. ``I don't have anything after 5:00 PM on Tuesday, December 8th;
    I do have 4:00 PM or 4:30 PM that afternoon, or Wednesday, December 9th at 5:00 PM — would any
    of those work?`` ``provider_slots`` (a clinic with several providers): ``(timestamp, name)``
    pairs, each name said with its times; ``provider``: the one the caller asked for."""
    words = window_words(window)
    if reason in ("outside_hours", "provider_off") and getattr(window, "kind", None) == "at" \
            and isinstance(getattr(window, "start", None), dt_time):
        words = f"at {_clock_words(window.start)}"  # an exact time: "We're not open at 7:00 AM on …"
    when = "today" if day == today else f"on {spoken_date(day)}"
    within = f"{words} {when}" if words else when
    who = provider_name(provider)
    if reason == "closed":
        head = "We're closed today" if day == today else f"We're closed on {spoken_date(day)}"
    elif reason == "outside_hours" and words:
        head = f"We're not open {within}"
    elif reason == "passed":
        part = getattr(window, "part", None) if getattr(window, "kind", None) == "part" else None
        head = (f"There's nothing left this {part}" if part in ("morning", "afternoon", "evening")
                else f"There's nothing left {words} today" if words else "There's nothing left today")
    elif reason == "provider_off" and who:
        head = f"{who} isn't in {within}"
    elif who:
        head = f"{who} doesn't have anything {within}"
    else:
        head = f"I don't have anything {within}"

    if provider_slots is not None:
        pairs = sorted(_provider_pairs(provider_slots, tz), key=lambda pair: pair[0])
    else:
        pairs = [(instant, None) for instant in sorted(_local_instants(slots, tz))]
    pairs = pairs[:MAX_SPOKEN_ALTERNATIVES]
    for count in range(len(pairs), -1, -1):
        line = one_line(_window_offer_line(head, pairs[:count], day, today, name_each=who is None),
                        limit=10 * MAX_LINE_LENGTH)
        if len(line) <= MAX_LINE_LENGTH:
            return line
    return one_line(line)


def _window_offer_line(head: str, pairs: list, day: date, today: date, *, name_each: bool) -> str:
    if not pairs:
        return f"{head}. Is there another day or time that would suit you?"
    same = [pair for pair in pairs if pair[0].date() == day]
    other = [pair for pair in pairs if pair[0].date() != day]
    phrases = []
    if same:
        part = _part_of_day([at for at, _ in same])
        when = "later today" if day == today and part == "day" else f"{'this' if day == today else 'that'} {part}"
        phrases.append(_offered_times(same, day, name_each, when))
    if other:
        phrases.append(_offered_times(other, None, name_each))
    question = "would that work?" if len(pairs) == 1 else "would any of those work?"
    return f"{head}; I do have {', or '.join(phrases)} — {question}"


def _offered_times(pairs: list, plain_day: date | None, name_each: bool, when: str = "") -> str:
    """Times of one stretch, each provider's together: ``9:00 AM or 9:30 AM that morning with Dr.
    Anika Patel``; ``when`` ("that morning") follows the times, or the whole stretch when it names
    several providers."""
    groups = _by_provider(pairs) if name_each else [(None, [at for at, _ in pairs])]
    spoken = []
    for name, instants in groups:
        times = _join(_times_by_day(instants, plain_day), pair_comma=True)
        if when and len(groups) == 1:
            times = f"{times} {when}"
        spoken.append(f"{times} with {name}" if name else times)
    if len(spoken) == 1:
        return spoken[0]
    return f"{_join(spoken)} {when}" if when else _join(spoken)


def _clinic_day(value: date | datetime | str | None, tz: tzinfo | str) -> date | None:
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return _local(value, tz).date()
    except (ValueError, TypeError, OverflowError):
        return None


def appointments_list(appointments: list[dict], tz: tzinfo | str, *, asking: bool = False,
                      with_providers: bool = False) -> str:
    """Read back a caller's upcoming appointments, in the order given.

    The order is kept (not re-sorted) so "the second one" means the second
    item of the list the caller was read. With ``asking`` (the caller wants to
    change one and has not said which) several appointments end with "Which
    one do you mean?"; a plain lookup only reads them. When the appointments
    are for different patients (one phone, several children), each names its
    patient's first name. With ``with_providers`` (a clinic with several
    providers) each names its provider.
    """
    appointments = [item for item in appointments or [] if isinstance(item, dict)]
    if not appointments:
        return one_line("I couldn't find any upcoming appointments for that number.")

    with_names = len({_first_name(item) for item in appointments}) > 1
    described = [_describe_appointment(item, tz, with_name=with_names, with_provider=with_providers)
                 for item in appointments]
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


def _describe_appointment(item: dict, tz: tzinfo | str, *, with_name: bool = False,
                          with_provider: bool = False) -> str:
    service = item.get("service")
    name = service.get("name") if isinstance(service, dict) else None
    phrase = _with_article(_service_words(name if isinstance(name, str) else None))
    first_name = _first_name(item) if with_name else None
    if first_name:
        phrase = f"{phrase} for {first_name}"
    if with_provider:
        phrase += _with_provider(provider_name(item.get("provider")))
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
    appointments: list[dict], tz: tzinfo | str, *, searched: str | None = None,
    with_providers: bool = False,
) -> str:
    """Nothing the verified caller has matches the day or time they described: read what they
    do have and ask which one, or say there is nothing."""
    appointments = [item for item in appointments or [] if isinstance(item, dict)]
    if not appointments:
        return no_upcoming(searched) if searched == "caller_id" else not_found()
    if len(appointments) == 1:
        only = _describe_appointment(appointments[0], tz, with_provider=with_providers)
        return one_line(f"I don't see an appointment then, but I do see {only}. Is that the one?")
    listed = appointments_list(appointments, tz, asking=True, with_providers=with_providers)
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
        "transfer you to the front desk, or take a message so the clinic calls you back at the "
        "number on file — which would you prefer?"
    )


def cancelled(
    scheduled_at: datetime | str, tz: tzinfo | str, service_name: str | None,
    provider: str | None = None,
) -> str:
    """``Done — your consultation on Tuesday, January 20th at 2:00 PM is cancelled.``
    (``your consultation with Dr. Anika Patel on …`` with ``provider``)."""
    when = _when(_local(scheduled_at, tz))
    return one_line(
        f"Done — your {_service_words(service_name)}{_with_provider(provider)} on {when} is cancelled."
    )


def rescheduled(
    new_at: datetime | str, tz: tzinfo | str, service_name: str | None,
    provider: str | None = None, previous_provider: str | None = None,
) -> str:
    """``All set — I've moved your consultation to Wednesday, January 21st at 10:00 AM.``

    With ``provider`` (the one the appointment is with now, whether or not it changed):
    ``… to Wednesday, January 21st at 10:00 AM with Dr. Marcus Lee.``, and ``… instead of Dr.
    Anika Patel.`` when ``previous_provider`` is someone else."""
    when = _when(_local(new_at, tz))
    name, previous = provider_name(provider), provider_name(previous_provider)
    instead = f" instead of {previous}" if name and previous and previous != name else ""
    return one_line(
        f"All set — I've moved your {_service_words(service_name)} to {when}{_with_provider(name)}{instead}."
    )


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
    "appointment_time_zone": (
        "We book in the clinic's own local time — what time would that be at the clinic?"
    ),
    # "the first one", "the last one": which of the times offered — the booking system keeps no
    # list of what was offered, so the caller is asked for the time itself
    "appointment_time_offered": "Which time would you like? Please tell me the time itself.",
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
    # takeMessage (api/tools.py take_message), by argument
    "message_name_missing": "Of course — who should the clinic ask for when they call you back?",
    "message_reason_missing": "Sure — what would you like me to pass on to the clinic?",
    "message_number_invalid": (
        "I didn't catch the number — which phone number should the clinic call you back on?"
    ),
    # Asked with the day(s) in `choices` when normalize gives them (see _which_day); these are
    # the questions without them.
    "appointment_date_passed": "That day has already passed — which day would you like instead?",
    "appointment_date_weekday_mismatch": (
        "That weekday and that date don't fall on the same day — which day did you mean?"
    ),
    "appointment_date_week": "Which day that week would suit you?",
    # the time argument named another day than the date argument ("Tuesday at 1:30" for a Wednesday)
    "appointment_time_day_mismatch": "Just to check the day for that time — which day did you mean?",
}
_REASK_FALLBACK = "Sorry, could you say that again?"


def reask(code: str, choices: Iterable = ()) -> str:
    """The question for a re-ask code (``NormalizationError.reask``).

    ``appointment_time_meridiem`` (an hour said without AM/PM that the clinic's hours do not
    settle) asks which of ``choices``, its two readings, is meant: ``Is that 2 in the afternoon
    or in the morning?``. The day codes (``appointment_date_passed``,
    ``appointment_date_weekday_mismatch``, ``appointment_date_week``,
    ``appointment_time_day_mismatch``) name their dates from ``choices`` (see :func:`_which_day`). An unknown code gets a plain "say that again".
    """
    if code == "appointment_time_meridiem":
        return _which_half_of_the_day(choices)
    return _which_day(code, choices) or one_line(REASKS.get(code, "")) or _REASK_FALLBACK


def _which_day(code: str, choices: Iterable) -> str | None:
    """A day the caller named that cannot be booked as said, asked about with its date(s):
    ``November 29th has already passed — would you like the next available day?``; ``December
    3rd is a Thursday — did you mean Thursday, December 3rd, or Friday, December 4th?`` (a third
    date, when normalize found one: the next month where the day and weekday agree); ``Which
    day in the week of Monday, November 30th would suit you?``. None without the dates."""
    days = [value for value in choices if isinstance(value, date) and not isinstance(value, datetime)]
    if code == "appointment_date_passed" and len(days) == 1:
        return one_line(f"{_month_day(days[0])} has already passed — would you like the next available day?")
    if code == "appointment_date_weekday_mismatch" and len(days) == 2:
        numbered, weekday = days
        return one_line(f"{_month_day(numbered)} is a {numbered:%A} — did you mean "
                        f"{spoken_date(numbered)}, or {spoken_date(weekday)}?")
    if code == "appointment_date_weekday_mismatch" and len(days) == 3:
        # "Wednesday the 17th" with no month: this month's 17th, the nearest Wednesday, and the
        # next month whose 17th is a Wednesday
        numbered, weekday, both = days
        return one_line(f"{_month_day(numbered)} is a {numbered:%A} — did you mean "
                        f"{spoken_date(numbered)}, {spoken_date(weekday)}, or {spoken_date(both)}?")
    if code == "appointment_time_day_mismatch" and len(days) == 2 and days[0] != days[1]:
        return one_line(f"Just to check the day — did you mean {spoken_date(days[0])}, or {spoken_date(days[1])}?")
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


# --------------------------------------------------------------------------
# The whole call: greeting, unknown number, transfer, messages (api/calls.py, api/tools.py)
# --------------------------------------------------------------------------



def greeting(clinic_name: str | None, assistant_name: str | None) -> str:
    """The first message of a transient assistant when the clinic set none:
    ``Thank you for calling Sunrise Family Clinic, this is Sarah. How can I help you today?``"""
    clinic = " ".join((clinic_name or "").split()) or "the clinic"
    speaker = " ".join((assistant_name or "").split())
    who = f", this is {speaker}" if speaker else ""
    return one_line(f"Thank you for calling {clinic}{who}. How can I help you today?")


def unknown_number() -> str:
    """Vapi speaks this and ends the call when the called number belongs to no clinic (or the
    booking system cannot say which): nothing about clinics, numbers or systems."""
    return one_line(
        "I'm sorry, this line can't take calls right now. Please try again a little later."
    )


def transfer_connecting() -> str:
    """Said by Vapi right before it connects the caller to the front desk."""
    return one_line("Of course — I'm connecting you to the front desk now, one moment please.")


def transfer_unavailable(reason: str | None = None) -> str:
    """No transfer now: outside the front desk's hours (``closed``), or no front-desk number, or
    the booking system did not answer. Every variant offers a message and a call back."""
    if reason == "closed":
        return one_line(
            "The front desk isn't available right now, but I can take a message and have "
            "someone call you back, or help you with a booking myself. Which would you prefer?"
        )
    return one_line(
        "I'm not able to transfer the call right now, but I can take a message and have "
        "someone call you back, or help you with a booking myself. Which would you prefer?"
    )


def message_taken(own_number: bool) -> str:
    """takeMessage stored the call-back request. Names no number (it was just given, or is the
    caller's own line)."""
    where = " at the number you're calling from" if own_number else ""
    return one_line(
        f"Thank you — I've passed your message on, and the clinic will call you back{where}. "
        "Is there anything else I can help with?"
    )


def not_found() -> str:
    return one_line(
        "I couldn't find that appointment under this phone number — "
        "could it be booked under another number?"
    )


def already_cancelled() -> str:
    return one_line(
        "That appointment has already been cancelled. Would you like to book a new one?"
    )


# --------------------------------------------------------------------------
# Providers (clinics with more than one calendar)
# --------------------------------------------------------------------------

# A name longer than this is not a name a receptionist says; it is cut at a word.
MAX_PROVIDER_NAME_LENGTH = 60


def provider_name(value) -> str | None:
    """The spoken name of a provider: a reply's ``{"id", "name"}`` object or the name itself,
    made safe to speak (one_line) and cut at a word after MAX_PROVIDER_NAME_LENGTH characters."""
    if isinstance(value, dict):
        value = value.get("name")
    if not isinstance(value, str):
        return None
    name = one_line(value, limit=10 * MAX_LINE_LENGTH)
    if len(name) > MAX_PROVIDER_NAME_LENGTH:
        name = name[:MAX_PROVIDER_NAME_LENGTH].rsplit(" ", 1)[0].rstrip(" ,;:—-")
    return name or None


def _with_provider(provider: str | None) -> str:
    name = provider_name(provider)
    return f" with {name}" if name else ""


def _provider_pairs(slots: list, tz: tzinfo | str) -> list[tuple[datetime, str | None]]:
    """``(timestamp, name)`` pairs read into clinic-local instants; unreadable ones are skipped."""
    pairs = []
    for item in slots or []:
        try:
            value, name = item
            pairs.append((_local(value, tz), provider_name(name)))
        except (ValueError, TypeError, OverflowError):
            continue
    return pairs


def _by_provider(pairs: list[tuple[datetime, str | None]], first: str | None = None
                 ) -> list[tuple[str | None, list[datetime]]]:
    """Times grouped by provider, providers in order of first appearance (``first`` leading),
    each provider's times in chronological order."""
    groups: dict[str | None, list[datetime]] = {}
    if first is not None and any(name == first for _, name in pairs):
        groups[first] = []
    for instant, name in pairs:
        groups.setdefault(name, []).append(instant)
    return [(name, sorted(instants)) for name, instants in groups.items()]


def _free_at(name: str | None, instants: list[datetime], plain_day: date | None) -> str:
    """``Dr. Marcus Lee is free at 2:00 PM or 2:30 PM`` (``on Wednesday, …`` for another day)."""
    items = _join(_times_by_day(instants, plain_day), pair_comma=True)
    preposition = "at" if instants[0].date() == plain_day else "on"
    return f"{name} is free {preposition} {items}" if name else f"I have {items}"


def _provider_state(reason: str, requested: str | None, service_name: str | None) -> str | None:
    """What is wrong with the provider the caller asked for, or None when the refusal is about
    the clinic (closed, too soon, ...) or no provider was asked for."""
    if reason == "provider_not_qualified":
        visit = f"{_service_words(service_name)} appointments" if service_name else "that kind of visit"
        return f"{requested or 'That provider'} doesn't do {visit}"
    if requested is None:
        return None
    return {"slot_unavailable": f"{requested} is booked then",
            "provider_unavailable": f"{requested} isn't in at that time"}.get(reason)


def _provider_offer_line(reason, pairs, requested, requested_day, service_name, opening) -> str:
    state = _provider_state(reason, requested, service_name)
    if state is None:
        opening = opening or _OPENINGS.get(reason, _DEFAULT_OPENING)
    if not pairs:
        head = f"{state}." if state else opening
        return f"{head} Is there another day or time that would suit you?"
    groups = _by_provider(pairs, first=requested)
    # Each offer names its day unless it is the day last said (the caller's day, at first): after
    # "free on Tuesday, February 23rd at 9:00 AM", Friday's 10:00 is "on Friday, … at 10:00 AM".
    phrases, said_day = [], requested_day
    for name, instants in groups:
        phrases.append(_free_at(name, instants, said_day))
        said_day = instants[-1].date()
    question = "would that work?" if len(pairs) == 1 else "would any of those work?"
    if state and reason != "provider_not_qualified" and groups[0][0] == requested:
        # "Dr. Anika Patel is booked then but free at 2:30 PM or 3:00 PM, or Dr. Marcus Lee is …"
        own = phrases[0].split(" is free ", 1)[1]
        offer = ", or ".join([f"{state} but free {own}", *phrases[1:]])
    elif state:
        offer = f"{state}; " + ", or ".join(phrases)
    elif reason == "too_far_ahead":  # the offers are the latest inside the horizon, as alternatives_offer says
        latest, said_day = [], requested_day
        for name, instants in groups:
            items = _join(_times_by_day(instants, said_day), pair_comma=True)
            latest.append(f"{items} with {name}" if name else items)
            said_day = instants[-1].date()
        offer = f"{opening} The latest I can offer is " + ", or ".join(latest)
    else:
        offer = f"{opening} " + ", or ".join(phrases)
    return f"{offer} — {question}"


def _provider_offer(reason, slots, tz, requested_at, requested_provider, service_name, opening) -> str:
    pairs = _provider_pairs(slots, tz)[:MAX_SPOKEN_ALTERNATIVES]
    requested = provider_name(requested_provider)
    requested_day = _clinic_day(requested_at, tz)
    # Fewer alternatives rather than a line cut mid-sentence.
    for count in range(len(pairs), -1, -1):
        line = one_line(_provider_offer_line(reason, pairs[:count], requested, requested_day,
                                             service_name, opening), limit=10 * MAX_LINE_LENGTH)
        if len(line) <= MAX_LINE_LENGTH:
            return line
    return one_line(line)


def _provider_times(provider_slots: list, tz: tzinfo | str,
                    requested_day: date | datetime | str | None) -> str:
    pairs = sorted(_provider_pairs(provider_slots, tz), key=lambda pair: pair[0])
    if not pairs:
        return available_times([], tz, requested_day)
    wanted_day = _clinic_day(requested_day, tz)
    for shown in range(min(len(pairs), MAX_SPOKEN_SLOTS), 0, -1):
        spoken, rest = pairs[:shown], len(pairs) - shown
        days = {instant.date() for instant, _ in spoken}
        plain_day = next(iter(days)) if len(days) == 1 else None
        phrases = [_free_at(name, instants, plain_day) for name, instants in _by_provider(spoken)]
        listed = phrases[0] if len(phrases) == 1 else ", ".join(phrases[:-1]) + ", and " + phrases[-1]
        sentence = f"On {spoken_date(plain_day)}, {listed}" if plain_day else listed
        if rest > 0:
            sentence += f", and {rest} more later"
        sentence += "."
        if wanted_day is not None and wanted_day not in days:
            sentence = f"I don't have anything on {spoken_date(wanted_day)}. {sentence}"
        line = one_line(sentence, limit=10 * MAX_LINE_LENGTH)
        if len(line) <= MAX_LINE_LENGTH:
            return line
    return one_line(line)


def _fitting(build, names: list[str], conjunction: str = "or") -> str | None:
    """The first line ``build(listed)`` that fits, listing as many of ``names`` as possible
    ("A, B, or 3 others"; "A, B, and one other")."""
    for shown in range(len(names), 0, -1):
        left = len(names) - shown
        extra = ["one other" if left == 1 else f"{left} others"] if left else []
        line = one_line(build(_join(names[:shown] + extra, conjunction)), limit=10 * MAX_LINE_LENGTH)
        if len(line) <= MAX_LINE_LENGTH:
            return line
    return None


def unknown_provider(names: list | None, *, ambiguous: bool = False) -> str:
    """The caller asked for someone the clinic does not have (say who does work here), or a name
    that fits several providers (``ambiguous``: say which ones)."""
    offered = [name for name in map(provider_name, names or []) if name]
    if ambiguous:
        line = _fitting(lambda listed: f"That could be {listed} — "
                                       "which one would you like?", offered)
        return line or one_line("That name fits more than one of our providers — could you give me their full name?")
    line = _fitting(lambda listed: f"I don't have anyone by that name here. I can book you with {listed} — "
                                   "who would you like, or is anyone fine?", offered)
    return line or one_line("I don't have anyone by that name here. Shall I book whoever is free?")


def provider_not_qualified(requested: str | None, service_name: str | None, qualified: list | None,
                           role: str | None = None) -> str:
    """The named provider does not do the visit (or, with no name, nobody here does): say who does.

    ``Nurse Joy Kim doesn't do consultation appointments, but Dr. Anika Patel or Dr. Marcus Lee
    can — who would you like?``; for a role several share (SQL's ``role``): ``None of our
    physicians do vaccination appointments, but Nurse Joy Kim does — shall I book with Nurse Joy Kim?``"""
    visit = f"{_service_words(service_name)} appointments" if service_name else "that kind of visit"
    offered = [name for name in map(provider_name, qualified or []) if name and name != requested]
    who = provider_name(requested)
    # the role is clinic data (one word, staff's): only its letters are said
    role_word = re.sub(r"[^a-z]", "", role.lower())[:30] if isinstance(role, str) else ""
    if who is None and not offered:
        return one_line(f"I'm sorry, no one here does {visit} at the moment. Is there something else I can "
                        "book for you?")
    head = (f"None of our {role_word}s do {visit}" if role_word and who is None
            else f"{who or 'That provider'} doesn't do {visit}")
    if not offered:
        return one_line(f"{head}. Is there something else I can book for you?")
    if len(offered) == 1:
        line = _fitting(lambda listed: f"{head}, but {listed} does — shall I book with {listed}?", offered)
    else:
        line = _fitting(lambda listed: f"{head}, but {listed} can — who would you like?", offered)
    return line or one_line(f"{head}. Is there someone else you'd like to see?")


def only_excluded_qualified(excluded: str | None, service_name: str | None, qualified: list | None) -> str:
    """The caller wants anyone but one provider, and only that provider does the visit (SQL's
    provider_not_qualified with ``excludedProvider``): say so and offer them.

    ``I'm afraid no one else here does vaccination appointments — only Nurse Joy Kim does. Would
    you like to see Nurse Joy Kim, or is there something else I can help with?``"""
    visit = f"{_service_words(service_name)} appointments" if service_name else "that kind of visit"
    who = provider_name(excluded)
    offered = [name for name in map(provider_name, qualified or []) if name]
    if who is None and len(offered) == 1:
        who = offered[0]
    if who is None:
        return one_line(f"I'm afraid no one else here does {visit}. Is there something else I can help with?")
    line = one_line(f"I'm afraid no one else here does {visit} — only {who} does. Would you like to see {who}, "
                    "or is there something else I can help with?", limit=10 * MAX_LINE_LENGTH)
    if len(line) <= MAX_LINE_LENGTH:
        return line
    return one_line(f"I'm afraid no one else here does {visit}. Is there something else I can help with?")


# --------------------------------------------------------------------------
# Services
# --------------------------------------------------------------------------


def _plural(noun_phrase: str) -> str:
    """The services as a clinic offers them: "consultations", "flu shots", "MRI scans", "therapies";
    a service named by its activity stays as it is ("cleaning", "teeth whitening"), as does one
    that is plural already ("braces")."""
    head, _, last = noun_phrase.rpartition(" ")
    lower = last.lower()
    if lower.endswith(("ing", "s")) or not lower[-1:].isalpha():
        plural = last
    elif lower.endswith(("x", "z", "ch", "sh")):
        plural = last + "es"
    elif lower.endswith("y") and lower[-2:-1] not in tuple("aeiou"):
        plural = last[:-1] + "ies"
    else:
        plural = last + "s"
    return f"{head} {plural}" if head else plural


def unknown_service(names: list | None, named: list | None = None) -> str:
    """The caller asked for a visit the clinic does not offer (SQL's ``unknown_service``): say what
    it does offer. ``I'm not sure we do that here. We offer consultations, checkups, and
    vaccinations — which would you like?`` When SQL found two or more of its services in what was
    said (``named``: "checkup and flu shot"), the clinic does do them: ask which to book first.
    ``I can book one visit at a time — shall we start with the checkup or the vaccination?``"""
    asked = [_with_the(_service_words(one_line(name))) for name in named or []
             if isinstance(name, str) and one_line(name)]
    if len(asked) >= 2:
        line = _fitting(lambda listed: f"I can book one visit at a time — shall we start with {listed}?", asked)
        if line:
            return line
    offered = [_plural(_service_words(one_line(name))) for name in names or []
               if isinstance(name, str) and one_line(name)]
    line = _fitting(lambda listed: f"I'm not sure we do that here. We offer {listed} — which would you like?",
                    offered, "and")
    return line or one_line("I'm not sure we do that here — what is the visit for?")


def _existing_visit(appointment: dict | None, tz: tzinfo | str, *, with_provider: bool,
                   possessive: bool) -> tuple[str, str, str | None] | None:
    """An existing appointment SQL described, as (visit, when, first name): "a consultation with
    Dr. Lee" (or "Ann's consultation…" when ``possessive``), "Tuesday, January 20th at 2:00 PM".
    None when it cannot be described."""
    if not isinstance(appointment, dict):
        return None
    try:
        when = _when(_local(appointment.get("scheduledAt"), tz))
    except (ValueError, TypeError, OverflowError):
        return None
    service = appointment.get("service")
    words = _service_words(service.get("name") if isinstance(service, dict) and isinstance(service.get("name"), str)
                           else None)
    who = _first_name(appointment)
    visit = f"{who}'s {words}" if possessive and who else _with_article(words)
    if with_provider:
        visit += _with_provider(provider_name(appointment.get("provider")))
    return visit, when, who


def patient_busy_opening(appointment: dict | None, tz: tzinfo | str, *,
                         with_provider: bool = False) -> str | None:
    """The patient already has an appointment overlapping the requested time. Described only
    when SQL gave it (the caller is verified for it by caller ID): "Ann already has a consultation
    on Tuesday, January 20th at 2:00 PM, so I can't book that time too." Otherwise None: the plain
    refusal of _OPENINGS, which does not say that a booking exists."""
    described = _existing_visit(appointment, tz, with_provider=with_provider, possessive=False)
    if described is None:
        return None
    visit, when, who = described
    return one_line(f"{who or 'This patient'} already has {visit} on {when}, so I can't book that time too.")


def already_booked(appointment: dict | None, tz: tzinfo | str, *, with_provider: bool = False) -> str | None:
    """The caller (verified for it) asked for the very visit the patient already holds — same
    patient, service and time (SQL's ``alreadyBooked``): not a refusal, a reminder. "You're already
    booked for that: Ann's consultation on Tuesday, January 20th at 2:00 PM. Is there anything else
    I can help with?" None when the appointment cannot be described."""
    described = _existing_visit(appointment, tz, with_provider=with_provider, possessive=True)
    if described is None:
        return None
    visit, when, _ = described
    return one_line(f"You're already booked for that: {visit} on {when}. Is there anything else I can help with?")


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
