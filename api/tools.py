"""Tool handlers: normalize the arguments, call one RPC, turn its JSON into one spoken line.

Every handler returns the payload of a ToolResult: the facts from SQL (success, error,
alternatives, ids) plus `message`, the line the assistant speaks. Python never decides
availability, conflicts, limits, which appointment a caller means or whether the caller may hear
about it: lookup, cancel and reschedule pass the caller context (`p_caller`, see
docs/rpc-contract.md) and the caller's description of the appointment (hints) to one RPC, and SQL
finds the appointment and verifies the caller. Log events carry the toolCallId and orgId the
webhook binds around each call (api.logs.bound).

Providers: `providerName` (what the caller said: "Dr. Patel", "Anika", "anyone") goes to SQL as
`p_provider` unchanged but for a leading "only"/"just", which, like `onlyThisProvider: true`, sets
`p_insist_provider` (no other provider offered at the requested time), and but for a provider the
caller does not want ("anyone but Dr. Lee", "not Dr. Lee": api.normalize.excluded_provider), sent
as `p_exclude_provider` instead (any provider but that one). SQL matches the name and
picks the provider; replies name providers only in a clinic with more than one (the profile's
providerCount), so a one-provider clinic sounds exactly as before.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable

from . import speech
from .gateway import RpcGateway
from .logs import log_event
from .normalize import (
    NormalizationError,
    as_text,
    mask_email,
    mask_phone,
    names_own_number,
    normalize_birth_date,
    normalize_booking,
    normalize_availability,
    normalize_date,
    normalize_datetime,
    normalize_day_hint,
    normalize_name,
    normalize_phone,
    normalize_time,
    normalize_time_hint,
    keeps_booked_time,
    ordinal_hint,
    part_of_day_hint,
    relative_day_shift,
    relative_time_shift,
    day_with_same_time,
    excluded_provider,
    weekday_of,
)
from .orgs import OrgProfile
from .vapi import first_uuid

# SQL clamps callId to this length too; cutting it here keeps an oversized id out of the RPC.
MAX_CALL_ID_LENGTH = 200
# A provider name as a caller says it is short; longer text is not a name (cut, SQL finds no match).
MAX_PROVIDER_TEXT_LENGTH = 100
# "only Dr. Patel", "just with Anika": the caller insists on that provider.
_INSISTING = re.compile(r"^(?:only|just)\s+(?:with\s+)?(?=\S)", re.IGNORECASE)
# Refusal codes that concern the requested time and are spoken with what is free instead, whether
# or not SQL attached alternatives to them.
_OFFER_CODES = frozenset({"provider_unavailable", "provider_not_qualified", "patient_busy"})
# Refusals in which `provider` is the provider the caller asked for.
_REQUESTED_PROVIDER_CODES = frozenset({"slot_unavailable", "provider_unavailable", "provider_not_qualified"})


@dataclass(frozen=True)
class ToolContext:
    gateway: RpcGateway
    profile: OrgProfile
    today: date  # the clinic's local date
    tool_call_id: str
    caller_number: str | None = None  # call.customer.number as Vapi sent it (the phone network's)
    call_id: str | None = None  # Vapi's call.id
    idempotency_key: str | None = None
    source: str = "vapi"  # 'vapi' (the webhook's Vapi envelope) or 'api' (the v2 route)

    def rpc(self, name: str, **params: Any) -> dict:
        return self.gateway.rpc(name, {"p_org_id": self.profile.org_id, **params})


def _text(arguments: dict, *names: str) -> str | None:
    """The first of the named arguments that holds text (numbers read as their digits)."""
    return next((text for text in map(as_text, map(arguments.get, names)) if text), None)


def _reask(error: NormalizationError) -> dict:
    """A value the caller gave could not be used: name it (``field``, the re-ask code) and ask again."""
    log_event("booking.rejected", reason="invalid_input", field=error.field, reask=error.reask)
    return {"success": False, "error": "invalid_input", "field": error.field, "reask": error.reask,
            "message": speech.reask(error.reask, error.choices)}


def _service_name(reply: dict) -> str | None:
    service = reply.get("service")
    return service.get("name") if isinstance(service, dict) else None


def _appointments(reply: dict) -> list[dict]:
    return [item for item in reply.get("appointments") or [] if isinstance(item, dict)]


def _provider(reply: dict) -> dict | None:
    """The `provider` object ({id, name}) of a reply or of its appointment, if any."""
    provider = reply.get("provider")
    if not isinstance(provider, dict):
        appointment = reply.get("appointment")
        provider = appointment.get("provider") if isinstance(appointment, dict) else None
    return provider if isinstance(provider, dict) else None


def _spoken_provider(ctx: ToolContext, reply: dict) -> str | None:
    """The provider's name for a line: only in a clinic with more than one provider."""
    return speech.provider_name(_provider(reply)) if ctx.profile.names_providers else None


def _provider_slots(reply: dict, key: str) -> list[dict] | None:
    """`alternativeSlots` / `slotProviders`: [{scheduledAt, providerId, providerName}], or None."""
    items = reply.get(key)
    if not isinstance(items, list):
        return None
    return [item for item in items if isinstance(item, dict) and isinstance(item.get("scheduledAt"), str)]


def provider_request(arguments: dict) -> tuple[str | None, bool]:
    """`providerName` as said (None: any provider, or on reschedule the appointment's own) and whether
    the caller insists on that provider (`onlyThisProvider` true, or "only Dr. Patel"). Which
    provider the text means, and whether it means anyone ("whoever is free"), is SQL's to decide."""
    text = _text(arguments, "providerName")
    insist = arguments.get("onlyThisProvider")
    insist = insist is True or (isinstance(insist, str) and insist.strip().lower() in ("true", "yes"))
    if text is not None:
        text = " ".join(unicodedata.normalize("NFKC", text).split())
        if _INSISTING.match(text):
            text, insist = _INSISTING.sub("", text), True
        text = text[:MAX_PROVIDER_TEXT_LENGTH].strip() or None
    return text, insist


def _provider_params(arguments: dict) -> dict:
    """p_provider / p_insist_provider, only when the caller named a provider or insisted: a call
    without either is the call a one-provider clinic has always made. A provider the caller does
    not want ("anyone but Dr. Lee") is p_exclude_provider alone: any provider but that one."""
    provider, insist = provider_request(arguments)
    params: dict[str, Any] = {}
    avoided = excluded_provider(provider)
    if avoided is not None:
        params["p_exclude_provider"] = avoided
        return params
    if provider is not None:
        params["p_provider"] = provider
    if insist:
        params["p_insist_provider"] = True
    return params


def _name_key(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", unicodedata.normalize("NFKC", text).casefold()).split())


def _requested_provider(ctx: ToolContext, reply: dict, asked: str | None) -> str | None:
    """The name of the provider the caller asked for (or, on reschedule, the one the appointment
    stays with), to say what is wrong with them ("Dr. Anika Patel is booked then"): the reply's
    `provider`, which SQL sets only then; failing that, the profile's provider whose id or one of
    whose names is exactly what was said (punctuation and case aside). Never a guess."""
    if reply.get("error") not in _REQUESTED_PROVIDER_CODES:
        return None
    named = speech.provider_name(_provider(reply))
    if named or asked is None:
        return named
    key = _name_key(asked)
    for provider in ctx.profile.providers:
        if asked == provider.id or key in {_name_key(n) for n in (provider.name, *provider.short_names)}:
            return speech.provider_name(provider.name)
    return None


def _refusal(ctx: ToolContext, reply: dict, requested_at: datetime | str | None, asked_provider: str | None = None) -> dict:
    """A `success: false` reply from SQL, spoken. Only what SQL chose to disclose is passed on."""
    code = reply.get("error") or "unknown"
    payload = {"success": False, "error": code}
    tz = ctx.profile.timezone
    names = ctx.profile.names_providers
    if code == "provider_not_qualified" and isinstance(reply.get("excludedProvider"), dict):
        # "Anyone but Dr. Lee", and only Dr. Lee does this visit: say so, and offer them.
        excluded = speech.provider_name(reply["excludedProvider"])
        offered = [name for name in map(speech.provider_name, reply.get("providers") or []) if name]
        payload.update(alternatives=[], providers=offered, excludedProvider=reply["excludedProvider"])
        message = speech.only_excluded_qualified(excluded, _service_name(reply), offered)
        log_event("booking.rejected", reason=code, providers=len(offered), excluded=True)
    elif code == "provider_not_qualified" and not reply.get("alternatives"):
        # No times to offer, only who does this visit (`providers`).
        offered = [name for name in map(speech.provider_name, reply.get("providers") or []) if name]
        payload["alternatives"], payload["providers"] = [], offered
        role = reply.get("role") if isinstance(reply.get("role"), str) else None
        message = speech.provider_not_qualified(None if role else _requested_provider(ctx, reply, asked_provider),
                                                _service_name(reply), offered, role=role)
        log_event("booking.rejected", reason=code, providers=len(offered))
    elif code == "patient_busy" and reply.get("alreadyBooked") is True and \
            speech.already_booked(reply.get("appointment"), tz, with_provider=names):
        # The verified caller asked again for the visit they hold (SQL decides): a reminder, no offers.
        payload.update(alreadyBooked=True, appointment=reply["appointment"])
        message = speech.already_booked(reply["appointment"], tz, with_provider=names)
        log_event("booking.rejected", reason=code, already_booked=True)
    elif "alternatives" in reply or code in _OFFER_CODES:  # SQL attaches alternatives to every refusal that has them
        alternatives = reply.get("alternatives") or []
        payload["alternatives"] = alternatives
        slots = None
        if names:  # who each alternative is with; an older reply without alternativeSlots names nobody
            slots = _provider_slots(reply, "alternativeSlots")
            if slots is not None:
                payload["alternativeSlots"] = slots
            else:
                slots = [{"scheduledAt": at} for at in alternatives if isinstance(at, str)]
        opening = None
        if code == "ends_after_closing":  # the real reason: how long the visit is and when the clinic closes
            opening = speech.ends_after_closing(reply.get("service"), requested_at, reply.get("closesAt"), tz)
            if isinstance(reply.get("closesAt"), str):
                payload["closesAt"] = reply["closesAt"]
        elif code == "too_far_ahead":  # how far ahead the clinic books; the offers are the latest inside
            opening = speech.too_far_ahead(reply.get("bookingHorizonDays"))
            if isinstance(reply.get("bookingHorizonDays"), int):
                payload["bookingHorizonDays"] = reply["bookingHorizonDays"]
        elif code == "patient_busy":
            # `appointment` is there only for a caller verified for it (SQL decides).
            opening = speech.patient_busy_opening(reply.get("appointment"), tz, with_provider=names)
            if isinstance(reply.get("appointment"), dict):
                payload["appointment"] = reply["appointment"]
        message = speech.alternatives_offer(
            code, alternatives, tz, requested_at=requested_at,
            slots=None if slots is None else [(item["scheduledAt"], item.get("providerName")) for item in slots],
            requested_provider=_requested_provider(ctx, reply, asked_provider) if names else None,
            service_name=_service_name(reply), opening=opening)
        log_event("booking.slot_unavailable" if code == "slot_unavailable" else "booking.rejected",
                  reason=code, alternatives=len(alternatives))
    elif code == "unknown_service":
        # The caller named no service of this clinic (SQL's lenient match found none): say what it offers.
        offered = [item.get("name") for item in reply.get("services") or []
                   if isinstance(item, dict) and isinstance(item.get("name"), str)]
        # Two or more of its services in one phrase ("checkup and flu shot"): SQL names them (`named`).
        named = [item.get("name") for item in reply.get("named") or []
                 if isinstance(item, dict) and isinstance(item.get("name"), str)]
        payload.update(field="serviceType", services=offered)
        if len(named) >= 2:
            payload["named"] = named
        message = speech.unknown_service(offered, named)
        log_event("booking.rejected", reason=code, services=len(offered))
    elif code == "unknown_provider":
        offered = [name for name in map(speech.provider_name, reply.get("providers") or []) if name]
        payload["providers"] = offered
        # Several providers fit the name ("Dr. Kim"): SQL says so with `ambiguous` (its message as a
        # fallback for replies without the key).
        ambiguous = reply.get("ambiguous") is True or str(reply.get("message") or "").startswith("Several")
        message = speech.unknown_provider(offered, ambiguous=ambiguous)
        log_event("booking.rejected", reason=code, providers=len(offered))
    elif code in ("not_found", "ambiguous"):
        # Both come only to a verified caller; `appointments` are theirs (the candidates, or their
        # upcoming list when nothing matched the description).
        appointments = _appointments(reply)
        if appointments:
            payload["appointments"] = appointments
        if code == "ambiguous":
            message = speech.appointments_list(appointments, tz, asking=True, with_providers=names)
        else:
            message = speech.no_matching_appointment(appointments, tz, searched=reply.get("searched"),
                                                     with_providers=names)
        log_event("booking.rejected", reason=code, appointments=len(appointments))
    else:
        spoken = {
            "already_cancelled": speech.already_cancelled,
            "verification_required": speech.verification_required,
            "verification_failed": speech.verification_failed,
            "verification_locked": speech.verification_locked,
            "invalid_input": speech.details_again,
        }
        # unknown_org and anything unexpected: nothing the caller can fix
        message = spoken.get(code, speech.generic_failure)()
        log_event("booking.rejected", reason=code, detail=reply.get("message"))
    payload["message"] = message
    return payload


# ---------------------------------------------------------------------------------------------
# Who is asking: the caller context (p_caller)
# ---------------------------------------------------------------------------------------------


def _network_number(ctx: ToolContext) -> str | None:
    """The caller ID in E.164, or None when there is none or it cannot be read (a withheld or
    malformed number is no caller ID, not an error to speak)."""
    if not ctx.caller_number:
        return None
    try:
        return normalize_phone(ctx.caller_number, ctx.profile.phone_region)
    except NormalizationError:
        return None


def caller_context(ctx: ToolContext, arguments: dict | None = None) -> dict:
    """The `p_caller` argument: who is calling (from the call) and what they claim (from the words).

    callerNumber comes from the phone network only (never from the arguments); phone, name and
    dateOfBirth are the caller's claims about the booking (`patientPhone`, `patientName`,
    `patientDateOfBirth`), normalized here and verified by SQL. A claimed phone that is words
    for the caller's own line ("the number I'm calling from") or equal to the caller ID is no
    claim: the caller ID is what is meant. Raises NormalizationError for a claimed phone or date
    of birth that cannot be read, so the caller is asked again.
    """
    caller: dict[str, str] = {"source": ctx.source}
    if ctx.call_id:
        caller["callId"] = ctx.call_id[:MAX_CALL_ID_LENGTH]
    network_number = _network_number(ctx)
    if network_number:
        caller["callerNumber"] = network_number
    if arguments is None:
        return caller

    region = ctx.profile.phone_region
    phone_text = _text(arguments, "patientPhone", "phone")
    if phone_text and not names_own_number(phone_text):
        phone = normalize_phone(phone_text, region)
        if phone != network_number:
            caller["phone"] = phone
    name_text = _text(arguments, "patientName")
    if name_text:
        try:
            caller["name"] = normalize_name(name_text)
        except NormalizationError:  # "unknown", no letters, too long: no name was given
            pass
    birth_text = _text(arguments, "patientDateOfBirth")
    if birth_text:
        caller["dateOfBirth"] = normalize_birth_date(birth_text, ctx.today, region).isoformat()
    return caller


# "Which one" said by what it is for or who it is with: at most this long, else re-asked as a day.
MAX_WHICH_TEXT = 100


def _which_refused(error: NormalizationError | None, result: dict) -> dict | None:
    """SQL found no service or provider in p_which: the day's re-ask, as before p_which existed."""
    if error is not None and result.get("error") == "invalid_input":
        return _reask(error)
    return None


def _appointment_hints(ctx: ToolContext, arguments: dict, date_keys: tuple[str, ...],
                       time_keys: tuple[str, ...]) -> tuple[dict, NormalizationError | None]:
    """Which appointment the caller means, as the finder's parameters: its id if a reply gave
    one; its clinic-local date, or only a weekday ("the Tuesday one") or only a day of the month
    ("the one on the 9th": p_day_of_month, sent only when said); its local time. A day argument
    that is no day may say what the visit is for or who it is with ("the flu shot", "the one with
    Nurse Kim"): sent as said (p_which) for SQL to match to a service or provider; the re-ask the
    day would have had is returned beside the hints, for when SQL finds neither (invalid_input). An
    order ("the first one", "the last one", "the later one"; "the last flu shot" with p_which) is
    p_ordinal. The time argument may be a part of the day ("the morning one": p_after_time /
    p_before_time), an order ("the later one") or a time with wrapping words ("the 2 o'clock one")."""
    hints: dict[str, Any] = {"p_appointment_id": first_uuid(arguments.get("appointmentId")),
                             "p_local_date": None, "p_weekday": None, "p_local_time": None}
    which_reask = None  # the day's re-ask, said if SQL finds no service or provider in p_which
    weekday = None  # of the described day, to read an hour said without AM/PM in its opening hours
    day_text = _text(arguments, *date_keys)
    if day_text:
        try:
            day = normalize_day_hint(day_text, ctx.today, field=date_keys[0], region=ctx.profile.phone_region)
        except NormalizationError as error:
            if not any(ch.isalpha() for ch in day_text) or len(day_text) > MAX_WHICH_TEXT:
                raise
            hints["p_which"] = day_text
            which_reask = error
        else:
            hints["p_local_date"] = day.date.isoformat() if day.date else None
            hints["p_weekday"] = day.weekday
            if day.day_of_month is not None:
                hints["p_day_of_month"] = day.day_of_month
            if day.ordinal is not None:  # "the last one", "the first flu shot": SQL picks the nth
                hints["p_ordinal"] = day.ordinal
            if day.which is not None:  # the words beside the order ("flu shot"), as said
                hints["p_which"] = day.which[:MAX_WHICH_TEXT]
                which_reask = NormalizationError(date_keys[0], "booked_day_invalid")
            weekday = day.weekday if day.date is None else weekday_of(day.date)
    time_text = _text(arguments, *time_keys)
    if time_text:
        part = part_of_day_hint(time_text)  # "the morning one": a clinic-local range, not one time
        ordinal = ordinal_hint(time_text) if part is None else None  # "the later one"
        if part is not None:
            hints.update({key: at.isoformat() for key, at in zip(("p_after_time", "p_before_time"), part)
                          if at is not None})
        elif ordinal is not None:
            hints.setdefault("p_ordinal", ordinal)
        else:
            hints["p_local_time"] = normalize_time_hint(time_text, field=time_keys[0], hours=ctx.profile.hours,
                                                        weekday=weekday).isoformat()
    return hints, which_reask


# ---------------------------------------------------------------------------------------------
# The tools
# ---------------------------------------------------------------------------------------------


def book(ctx: ToolContext, arguments: dict) -> dict:
    if ctx.source != "vapi":
        # The v2 route keeps its original contract, which has no date of birth (stored as NULL).
        arguments = {key: value for key, value in arguments.items() if key != "patientDateOfBirth"}
    try:
        request = normalize_booking(arguments, today=ctx.today, tz=ctx.profile.timezone,
                                    region=ctx.profile.phone_region, hours=ctx.profile.hours,
                                    caller_phone=ctx.caller_number)
    except NormalizationError as error:
        return _reask(error)
    log_event("booking.normalized", phone=mask_phone(request.phone), scheduledAt=request.scheduled_at.isoformat(),
              service=request.service, hasEmail=request.email is not None,
              hasDateOfBirth=request.date_of_birth is not None)
    params = dict(
        p_name=request.patient_name,
        p_email=request.email,
        p_phone=request.phone,
        p_service=request.service,
        p_scheduled_at=request.scheduled_at.isoformat(),
        p_idempotency_key=ctx.idempotency_key,
        p_source=ctx.source,
    )
    asked = None
    if ctx.source == "vapi":
        provider_params = _provider_params(arguments)
        asked = provider_params.get("p_provider")
        reply = ctx.rpc("book_appointment", **params, p_caller=caller_context(ctx),
                        p_date_of_birth=request.date_of_birth.isoformat() if request.date_of_birth else None,
                        **provider_params)
    else:  # the v2 route's own contract: its function, no date of birth, no caller, no provider
        reply = ctx.rpc("book_appointment_atomic_v2", **params)
    if not reply.get("success"):
        return _refusal(ctx, reply, request.scheduled_at, asked)
    email_dropped = reply.get("emailDropped") is True  # SQL found the e-mail implausible and booked without it
    if email_dropped:
        log_event("booking.email_dropped", email=mask_email(request.email))
    log_event("booking.confirmed", appointmentId=reply.get("appointmentId"), replayed=bool(reply.get("replayed")),
              providerId=(_provider(reply) or {}).get("id"))
    payload = {
        "success": True,
        "appointmentId": reply.get("appointmentId"),
        "contactId": reply.get("contactId"),
        "scheduledAt": reply.get("scheduledAt"),
        "service": (reply.get("service") or {}).get("code"),
        "emailDropped": email_dropped,
        "message": speech.booking_confirmed(reply["scheduledAt"], ctx.profile.timezone, _service_name(reply),
                                            _spoken_provider(ctx, reply), email_dropped=email_dropped),
    }
    if ctx.profile.names_providers and _provider(reply):
        payload["provider"] = _provider(reply)
    return payload


def check_availability(ctx: ToolContext, arguments: dict) -> dict:
    """What is free on a day, in the caller's window ("tomorrow morning", "after 3", "around 2"; no
    time: the whole day; no day: the clinic's today): normalize reads the phrase into a day and a
    window, SQL lists what is free in it — or, when nothing is, says why (`windowEmpty`) and what it
    offers instead (the same day's other openings first)."""
    # a day or time given as something other than text (a list, an object, true) is no "no day" (today)
    # or "no time" (the whole day): ask for it rather than answer for something the caller never said
    for field, reask, names in (("appointmentDate", "appointment_date_invalid", ("date", "appointmentDate", "day")),
                                ("appointmentTime", "appointment_time_invalid", ("time", "appointmentTime"))):
        if any(arguments.get(name) is not None and isinstance(arguments.get(name), (bool, list, dict))
               for name in names):
            return _reask(NormalizationError(field, reask))
    try:
        request = normalize_availability(_text(arguments, "date", "appointmentDate", "day"),
                                         _text(arguments, "time", "appointmentTime"), ctx.today,
                                         ctx.profile.timezone, hours=ctx.profile.hours,
                                         region=ctx.profile.phone_region)
    except NormalizationError as error:
        return _reask(error)
    if request.provider is not None and _text(arguments, "providerName") is None:
        # the provider asked about inside the day or time ("is Dr. Patel in on Friday?"), as said: SQL resolves it
        arguments = {**arguments, "providerName": request.provider}
    provider_params = _provider_params(arguments)
    provider_params.pop("p_insist_provider", None)  # availability only ever lists the named provider
    window = {key: value for key, value in request.window.rpc_params().items() if value is not None}
    reply = ctx.rpc("check_availability", p_service=_text(arguments, "serviceType", "service"),
                    p_day=request.day.isoformat(), **window, p_limit=3, **provider_params)
    if not reply.get("success"):
        return _refusal(ctx, reply, None, provider_params.get("p_provider"))
    slots = reply.get("slots") or []
    payload = {"success": True, "slots": slots}
    provider_slots = _provider_slots(reply, "slotProviders") if ctx.profile.names_providers else None
    pairs = None
    if provider_slots is not None:
        payload["slotProviders"] = provider_slots
        by_time = {item["scheduledAt"]: item.get("providerName") for item in provider_slots}
        pairs = [(slot, by_time.get(slot)) for slot in slots]
    empty = reply.get("windowEmpty")
    if isinstance(empty, str):  # nothing in the window: the slots are the nearest other openings
        payload["windowEmpty"] = empty
        asked = _spoken_provider(ctx, reply) if provider_params.get("p_provider") else None
        payload["message"] = speech.window_alternatives(empty, request.window, request.day, ctx.today, slots,
                                                        ctx.profile.timezone, provider_slots=pairs, provider=asked)
    else:
        payload["message"] = speech.available_times(slots, ctx.profile.timezone, requested_day=request.day,
                                                    provider_slots=pairs)
    log_event("availability.listed", slots=len(slots), window=request.window.kind, windowEmpty=empty)
    return payload


def lookup_appointments(ctx: ToolContext, arguments: dict) -> dict:
    try:
        caller = caller_context(ctx, arguments)
    except NormalizationError as error:
        return _reask(error)
    reply = ctx.rpc("find_upcoming_appointments", p_caller=caller)
    if not reply.get("success"):
        return _refusal(ctx, reply, None)
    appointments = _appointments(reply)
    log_event("booking.looked_up", appointments=len(appointments), verifiedBy=reply.get("verifiedBy"))
    return {"success": True, "appointments": appointments, "verifiedBy": reply.get("verifiedBy"),
            "message": speech.appointments_list(appointments, ctx.profile.timezone,
                                                with_providers=ctx.profile.names_providers)
            if appointments else speech.no_upcoming(reply.get("searched"))}


def cancel_appointment(ctx: ToolContext, arguments: dict) -> dict:
    try:
        caller = caller_context(ctx, arguments)
        hints, which_reask = _appointment_hints(ctx, arguments, ("appointmentDate", "date"),
                                                ("appointmentTime", "time"))
    except NormalizationError as error:
        return _reask(error)
    result = ctx.rpc("cancel_appointment", p_caller=caller, **hints, p_reason=_text(arguments, "reason"))
    if not result.get("success"):
        return _which_refused(which_reask, result) or _refusal(ctx, result, None)
    log_event("booking.cancelled", appointmentId=result.get("appointmentId"), verifiedBy=result.get("verifiedBy"))
    payload = {"success": True, "appointmentId": result.get("appointmentId"), "status": "cancelled",
               "verifiedBy": result.get("verifiedBy"),
               "message": speech.cancelled(result["scheduledAt"], ctx.profile.timezone, _service_name(result),
                                           _spoken_provider(ctx, result))}
    if ctx.profile.names_providers and _provider(result):
        payload["provider"] = _provider(result)
    return payload


def _bare_weekday(ctx: ToolContext, text: str | None) -> int | None:
    """A day said only as a weekday ("Tuesday", "on Tue"): 0 = Sunday .. 6; else None."""
    if not (text or "").strip():
        return None
    try:
        hint = normalize_day_hint(text, ctx.today, "newDate", region=ctx.profile.phone_region)
    except NormalizationError:
        return None
    if hint.weekday is None or hint.date or hint.day_of_month or hint.ordinal or hint.which:
        return None
    return hint.weekday


def _relative_move(ctx: ToolContext, new_date: str | None, new_time: str | None) -> dict | None:
    """A new day or time said relative to the booking ("a week later", "the day after", "same
    time", "an hour later", "the same time Tuesday"), as reschedule_appointment_atomic's
    clinic-local parameters: the day as a shift of the booking's (p_shift_days) or a date
    (p_new_local_date), the time as the booking's own (p_keep_time; also when only a shift is
    said: "a week later" keeps the hour; with the booked time, a bare weekday is the first one after
    the booking's day: p_new_weekday), the booking's own moved by minutes (p_shift_minutes:
    "30 minutes earlier"; no day said = the booking's day) or one said (p_new_local_time). Only
    SQL knows the booking, so it computes the start. None: neither is relative, the usual
    p_new_scheduled_at applies."""
    minutes = relative_time_shift(new_time)
    if minutes is None and not (new_time or "").strip() and relative_time_shift(new_date) is not None:
        minutes, new_date = relative_time_shift(new_date), None  # "an hour later" put in newDate
    day_words = day_with_same_time(new_date)  # "the same time Tuesday": a day and the booked time
    keep = keeps_booked_time(new_time) or day_words is not None
    if day_words is not None:
        new_date = day_words
    shift = 7 if day_words == "next week" else relative_day_shift(new_date)  # "same time next week"
    if shift is None and not keep and minutes is None:
        return None
    params: dict[str, Any] = {"p_new_scheduled_at": None}
    weekday = None
    bare_weekday = _bare_weekday(ctx, new_date) if shift is None and (keep or minutes is not None) else None
    if shift is not None:
        params["p_shift_days"] = shift
    elif bare_weekday is not None:  # "Tuesday, same time": the first Tuesday after the booking's day
        params["p_new_weekday"] = bare_weekday
    elif (new_date or "").strip() or minutes is None:
        day = normalize_date(new_date or "", ctx.today, region=ctx.profile.phone_region)
        params["p_new_local_date"] = day.isoformat()
        weekday = weekday_of(day)
    if minutes is not None:
        params["p_shift_minutes"] = minutes
    elif keep or not (new_time or "").strip():
        params["p_keep_time"] = True
    else:
        params["p_new_local_time"] = normalize_time(new_time, ctx.profile.hours, weekday).isoformat()
    return params


def reschedule_appointment(ctx: ToolContext, arguments: dict) -> dict:
    try:
        caller = caller_context(ctx, arguments)
        new_date = _text(arguments, "newDate", "newAppointmentDate", "appointmentDate", "date")
        new_time = _text(arguments, "newTime", "newAppointmentTime", "appointmentTime", "time")
        moved = _relative_move(ctx, new_date, new_time)
        new_start = None
        if moved is None:
            new_start = normalize_datetime(new_date or "", new_time, ctx.today, ctx.profile.timezone,
                                           hours=ctx.profile.hours, region=ctx.profile.phone_region)
            moved = {"p_new_scheduled_at": new_start.isoformat()}
        hints, which_reask = _appointment_hints(ctx, arguments, ("currentDate", "originalDate"),
                                                ("currentTime", "originalTime"))
    except NormalizationError as error:
        return _reask(error)
    provider_params = _provider_params(arguments)
    result = ctx.rpc("reschedule_appointment_atomic", p_caller=caller, **moved, **hints, **provider_params)
    if not result.get("success"):
        # a move said relative to the booking: SQL computed the start it refused (requestedAt)
        asked = new_start or (result.get("requestedAt") if isinstance(result.get("requestedAt"), str) else None)
        return (_which_refused(which_reask, result)
                or _refusal(ctx, result, asked, provider_params.get("p_provider")))
    log_event("booking.rescheduled", appointmentId=result.get("appointmentId"), verifiedBy=result.get("verifiedBy"),
              providerId=(_provider(result) or {}).get("id"))
    payload = {"success": True, "appointmentId": result.get("appointmentId"), "scheduledAt": result.get("scheduledAt"),
               "previousScheduledAt": result.get("previousScheduledAt"), "verifiedBy": result.get("verifiedBy"),
               "message": speech.rescheduled(result["scheduledAt"], ctx.profile.timezone, _service_name(result),
                                             _spoken_provider(ctx, result),
                                             _spoken_provider(ctx, {"provider": result.get("previousProvider")}))}
    if ctx.profile.names_providers and _provider(result):
        payload["provider"] = _provider(result)
        if isinstance(result.get("previousProvider"), dict):
            payload["previousProvider"] = result["previousProvider"]
    return payload


# What a call-back request may carry; longer text is cut here (SQL checks the same bounds).
MAX_MESSAGE_REASON = 1000
MAX_PREFERRED_TIME = 200
# take_message's invalid_input `field` → the argument and the re-ask that gets it again.
def _message_reask(field: str) -> dict:
    """take_message's `field` (SQL's, or what is missing here) → the argument and its re-ask."""
    return _reask({
        "name": NormalizationError("callerName", "message_name_missing"),
        "phone": NormalizationError("callbackNumber", "message_number_invalid"),
        "reason": NormalizationError("reason", "message_reason_missing"),
    }[field])


def take_message(ctx: ToolContext, arguments: dict) -> dict:
    """A call-back request for the clinic's staff: who, on which number (the caller ID unless
    another is given), why, and when suits. Stored per clinic and linked to the call, so the
    call's outcome is `message_taken`. The reason is never logged."""
    name_text = _text(arguments, "callerName", "patientName")
    try:
        name = normalize_name(name_text) if name_text else None
    except NormalizationError as error:
        if error.reask == "patient_name_too_long":
            return _reask(NormalizationError("callerName", error.reask))
        name = None
    if name is None:
        return _message_reask("name")
    reason = _text(arguments, "reason")
    if not reason:
        return _message_reask("reason")

    network_number = _network_number(ctx)
    phone = None
    phone_text = _text(arguments, "callbackNumber", "patientPhone")
    if phone_text and not names_own_number(phone_text):
        try:
            phone = normalize_phone(phone_text, ctx.profile.phone_region)
        except NormalizationError:
            return _message_reask("phone")
        if phone == network_number:
            phone = None  # the caller's own line: SQL takes it from p_caller
    if phone is None and network_number is None:
        return _message_reask("phone")  # no caller ID to call back on

    preferred = _text(arguments, "preferredTime")
    reply = ctx.rpc("take_message", p_caller=caller_context(ctx), p_name=name, p_phone=phone,
                    p_reason=reason[:MAX_MESSAGE_REASON],
                    p_preferred_time=preferred[:MAX_PREFERRED_TIME] if preferred else None)
    if not reply.get("success"):
        if reply.get("error") == "invalid_input" and reply.get("field") in ("name", "phone", "reason"):
            return _message_reask(reply["field"])
        return _refusal(ctx, reply, None)
    log_event("message.taken", callbackRequestId=reply.get("callbackRequestId"), ownNumber=phone is None,
              hasPreferredTime=preferred is not None)
    return {"success": True, "callbackRequestId": reply.get("callbackRequestId"),
            "message": speech.message_taken(own_number=phone is None)}


HANDLERS: dict[str, Callable[[ToolContext, dict], dict]] = {
    "bookClinicAppointment": book,
    "checkAvailability": check_availability,
    "lookupAppointments": lookup_appointments,
    "cancelAppointment": cancel_appointment,
    "rescheduleAppointment": reschedule_appointment,
    "takeMessage": take_message,
}


def dispatch(name: str, ctx: ToolContext, arguments: dict) -> dict:
    handler = HANDLERS.get(name)
    if handler is None:
        log_event("tool.unknown", tool=name[:80])
        return {"success": False, "error": "unknown_tool", "message": speech.unknown_tool()}
    return handler(ctx, arguments)
