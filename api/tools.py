"""Tool handlers: normalize the arguments, call one RPC, turn its JSON into one spoken line.

Every handler returns the payload of a ToolResult: the facts from SQL (success, error,
alternatives, ids) plus `message`, the line the assistant speaks. Python never decides
availability, conflicts, limits, which appointment a caller means or whether the caller may hear
about it: lookup, cancel and reschedule pass the caller context (`p_caller`, see
docs/rpc-contract.md) and the caller's description of the appointment (hints) to one RPC, and SQL
finds the appointment and verifies the caller. Log events carry the toolCallId and orgId the
webhook binds around each call (api.logs.bound).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
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
    normalize_date,
    normalize_datetime,
    normalize_day_hint,
    normalize_name,
    normalize_phone,
    normalize_time_hint,
    weekday_of,
)
from .orgs import OrgProfile
from .vapi import first_uuid

# SQL clamps callId to this length too; cutting it here keeps an oversized id out of the RPC.
MAX_CALL_ID_LENGTH = 200


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


def _refusal(ctx: ToolContext, reply: dict, requested_at: datetime | None) -> dict:
    """A `success: false` reply from SQL, spoken. Only what SQL chose to disclose is passed on."""
    code = reply.get("error") or "unknown"
    payload = {"success": False, "error": code}
    tz = ctx.profile.timezone
    if "alternatives" in reply:  # SQL attaches alternatives to every refusal that has them
        alternatives = reply["alternatives"] or []
        payload["alternatives"] = alternatives
        message = speech.alternatives_offer(code, alternatives, tz, requested_at=requested_at)
        log_event("booking.slot_unavailable" if code == "slot_unavailable" else "booking.rejected",
                  reason=code, alternatives=len(alternatives))
    elif code in ("not_found", "ambiguous"):
        # Both come only to a verified caller; `appointments` are theirs (the candidates, or their
        # upcoming list when nothing matched the description).
        appointments = _appointments(reply)
        if appointments:
            payload["appointments"] = appointments
        if code == "ambiguous":
            message = speech.appointments_list(appointments, tz, asking=True)
        else:
            message = speech.no_matching_appointment(appointments, tz, searched=reply.get("searched"))
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


def _appointment_hints(ctx: ToolContext, arguments: dict, date_keys: tuple[str, ...],
                       time_keys: tuple[str, ...]) -> dict:
    """Which appointment the caller means, as the finder's parameters: its id if a reply gave
    one; its clinic-local date, or only a weekday ("the Tuesday one"); its local time."""
    hints: dict[str, Any] = {"p_appointment_id": first_uuid(arguments.get("appointmentId")),
                             "p_local_date": None, "p_weekday": None, "p_local_time": None}
    weekday = None  # of the described day, to read an hour said without AM/PM in its opening hours
    day_text = _text(arguments, *date_keys)
    if day_text:
        day = normalize_day_hint(day_text, ctx.today, field=date_keys[0], region=ctx.profile.phone_region)
        hints["p_local_date"] = day.date.isoformat() if day.date else None
        hints["p_weekday"] = day.weekday
        weekday = day.weekday if day.date is None else weekday_of(day.date)
    time_text = _text(arguments, *time_keys)
    if time_text:
        hints["p_local_time"] = normalize_time_hint(time_text, field=time_keys[0], hours=ctx.profile.hours,
                                                    weekday=weekday).isoformat()
    return hints


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
        p_name=request.name,
        p_email=request.email,
        p_phone=request.phone,
        p_service=request.service,
        p_scheduled_at=request.scheduled_at.isoformat(),
        p_idempotency_key=ctx.idempotency_key,
        p_source=ctx.source,
    )
    if ctx.source == "vapi":
        reply = ctx.rpc("book_appointment", **params, p_caller=caller_context(ctx),
                        p_date_of_birth=request.date_of_birth.isoformat() if request.date_of_birth else None)
    else:  # the v2 route's own contract: its function, no date of birth, no caller
        reply = ctx.rpc("book_appointment_atomic_v2", **params)
    if not reply.get("success"):
        return _refusal(ctx, reply, request.scheduled_at)
    email_dropped = reply.get("emailDropped") is True  # SQL found the e-mail implausible and booked without it
    if email_dropped:
        log_event("booking.email_dropped", email=mask_email(request.email))
    log_event("booking.confirmed", appointmentId=reply.get("appointmentId"), replayed=bool(reply.get("replayed")))
    return {
        "success": True,
        "appointmentId": reply.get("appointmentId"),
        "contactId": reply.get("contactId"),
        "scheduledAt": reply.get("scheduledAt"),
        "service": (reply.get("service") or {}).get("code"),
        "emailDropped": email_dropped,
        "message": speech.booking_confirmed(reply["scheduledAt"], ctx.profile.timezone, _service_name(reply),
                                            email_dropped=email_dropped),
    }


def check_availability(ctx: ToolContext, arguments: dict) -> dict:
    date_text = _text(arguments, "date", "appointmentDate", "day")
    time_text = _text(arguments, "time", "appointmentTime")
    try:
        # searching: "next week" / "as soon as possible" look from that week's first day on
        clinic = dict(hours=ctx.profile.hours, region=ctx.profile.phone_region, searching=True)
        if time_text:
            start = normalize_datetime(date_text or "", time_text, ctx.today, ctx.profile.timezone, **clinic)
            day = start.date()
        else:
            day = normalize_date(date_text, ctx.today, **clinic) if date_text else ctx.today
            start = datetime.combine(day, time(0), ctx.profile.timezone)
    except NormalizationError as error:
        return _reask(error)
    reply = ctx.rpc("check_availability", p_service=_text(arguments, "serviceType", "service"),
                    p_from=start.isoformat(), p_to=None, p_limit=3, p_first_day_only=True)
    if not reply.get("success"):
        return _refusal(ctx, reply, None)
    slots = reply.get("slots") or []
    return {"success": True, "slots": slots,
            "message": speech.available_times(slots, ctx.profile.timezone, requested_day=day)}


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
            "message": speech.appointments_list(appointments, ctx.profile.timezone)
            if appointments else speech.no_upcoming(reply.get("searched"))}


def cancel_appointment(ctx: ToolContext, arguments: dict) -> dict:
    try:
        caller = caller_context(ctx, arguments)
        hints = _appointment_hints(ctx, arguments, ("appointmentDate", "date"), ("appointmentTime", "time"))
    except NormalizationError as error:
        return _reask(error)
    result = ctx.rpc("cancel_appointment", p_caller=caller, **hints, p_reason=_text(arguments, "reason"))
    if not result.get("success"):
        return _refusal(ctx, result, None)
    log_event("booking.cancelled", appointmentId=result.get("appointmentId"), verifiedBy=result.get("verifiedBy"))
    return {"success": True, "appointmentId": result.get("appointmentId"), "status": "cancelled",
            "verifiedBy": result.get("verifiedBy"),
            "message": speech.cancelled(result["scheduledAt"], ctx.profile.timezone, _service_name(result))}


def reschedule_appointment(ctx: ToolContext, arguments: dict) -> dict:
    try:
        caller = caller_context(ctx, arguments)
        new_date = _text(arguments, "newDate", "newAppointmentDate", "appointmentDate", "date")
        new_time = _text(arguments, "newTime", "newAppointmentTime", "appointmentTime", "time")
        new_start = normalize_datetime(new_date or "", new_time, ctx.today, ctx.profile.timezone,
                                       hours=ctx.profile.hours, region=ctx.profile.phone_region)
        hints = _appointment_hints(ctx, arguments, ("currentDate", "originalDate"), ("currentTime", "originalTime"))
    except NormalizationError as error:
        return _reask(error)
    result = ctx.rpc("reschedule_appointment_atomic", p_caller=caller, p_new_scheduled_at=new_start.isoformat(),
                     **hints)
    if not result.get("success"):
        return _refusal(ctx, result, new_start)
    log_event("booking.rescheduled", appointmentId=result.get("appointmentId"), verifiedBy=result.get("verifiedBy"))
    return {"success": True, "appointmentId": result.get("appointmentId"), "scheduledAt": result.get("scheduledAt"),
            "previousScheduledAt": result.get("previousScheduledAt"), "verifiedBy": result.get("verifiedBy"),
            "message": speech.rescheduled(result["scheduledAt"], ctx.profile.timezone, _service_name(result))}


HANDLERS: dict[str, Callable[[ToolContext, dict], dict]] = {
    "bookClinicAppointment": book,
    "checkAvailability": check_availability,
    "lookupAppointments": lookup_appointments,
    "cancelAppointment": cancel_appointment,
    "rescheduleAppointment": reschedule_appointment,
}


def dispatch(name: str, ctx: ToolContext, arguments: dict) -> dict:
    handler = HANDLERS.get(name)
    if handler is None:
        log_event("tool.unknown", tool=name[:80])
        return {"success": False, "error": "unknown_tool", "message": speech.unknown_tool()}
    return handler(ctx, arguments)
