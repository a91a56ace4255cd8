"""Tool handlers: normalize the arguments, call one RPC, turn its JSON into one spoken line.

Every handler returns the payload of a ToolResult: the facts from SQL (success, error,
alternatives, ids) plus `message`, the line the assistant speaks. Python never decides
availability, conflicts or limits; it only picks which of the caller's own appointments a
cancel/reschedule refers to when the caller described it by day and time. Log events carry the
toolCallId and orgId the webhook binds around each call (api.logs.bound).
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
    mask_phone,
    normalize_booking,
    normalize_date,
    normalize_datetime,
    normalize_phone,
    normalize_time,
)
from .orgs import OrgProfile
from .vapi import first_uuid



@dataclass(frozen=True)
class ToolContext:
    gateway: RpcGateway
    profile: OrgProfile
    today: date  # the clinic's local date
    tool_call_id: str
    caller_number: str | None = None
    idempotency_key: str | None = None
    source: str = "vapi"

    def rpc(self, name: str, **params: Any) -> dict:
        return self.gateway.rpc(name, {"p_org_id": self.profile.org_id, **params})


def _text(arguments: dict, *names: str) -> str | None:
    """The first of the named arguments that holds text (numbers read as their digits)."""
    return next((text for text in map(as_text, map(arguments.get, names)) if text), None)


def _reask(ctx: ToolContext, error: NormalizationError) -> dict:
    log_event("booking.rejected", reason="invalid_input", field=error.field)
    return {"success": False, "error": "invalid_input", "field": error.field, "message": speech.reask(error.reask)}


def _service_name(reply: dict) -> str | None:
    service = reply.get("service")
    return service.get("name") if isinstance(service, dict) else None


def _refusal(ctx: ToolContext, reply: dict, requested_at: datetime | None) -> dict:
    """A `success: false` reply from SQL, spoken."""
    code = reply.get("error") or "unknown"
    payload = {"success": False, "error": code}
    if "alternatives" in reply:  # SQL attaches alternatives to every refusal that has them
        alternatives = reply["alternatives"] or []
        payload["alternatives"] = alternatives
        message = speech.alternatives_offer(code, alternatives, ctx.profile.timezone, requested_at=requested_at)
        log_event("booking.slot_unavailable" if code == "slot_unavailable" else "booking.rejected",
                  reason=code, alternatives=len(alternatives))
    else:
        spoken = {
            "not_found": speech.not_found,
            "already_cancelled": speech.already_cancelled,
            "invalid_input": lambda: speech.reask(
                "I'm sorry, I didn't get all of that — could you give me the details again?"),
        }
        # unknown_org and anything unexpected: nothing the caller can fix
        message = spoken.get(code, speech.generic_failure)()
        log_event("booking.rejected", reason=code, detail=reply.get("message"))
    payload["message"] = message
    return payload


def book(ctx: ToolContext, arguments: dict) -> dict:
    try:
        request = normalize_booking(arguments, today=ctx.today, tz=ctx.profile.timezone,
                                    region=ctx.profile.phone_region, caller_phone=ctx.caller_number)
    except NormalizationError as error:
        return _reask(ctx, error)
    log_event("booking.normalized", phone=mask_phone(request.phone), scheduledAt=request.scheduled_at.isoformat(),
            service=request.service, hasEmail=request.email is not None)
    reply = ctx.rpc(
        "book_appointment_atomic_v2",
        p_name=request.name,
        p_email=request.email,
        p_phone=request.phone,
        p_service=request.service,
        p_scheduled_at=request.scheduled_at.isoformat(),
        p_idempotency_key=ctx.idempotency_key,
        p_source=ctx.source,
    )
    if not reply.get("success"):
        return _refusal(ctx, reply, request.scheduled_at)
    log_event("booking.confirmed", appointmentId=reply.get("appointmentId"), replayed=bool(reply.get("replayed")))
    return {
        "success": True,
        "appointmentId": reply.get("appointmentId"),
        "contactId": reply.get("contactId"),
        "scheduledAt": reply.get("scheduledAt"),
        "service": (reply.get("service") or {}).get("code"),
        "message": speech.booking_confirmed(reply["scheduledAt"], ctx.profile.timezone, _service_name(reply)),
    }


def check_availability(ctx: ToolContext, arguments: dict) -> dict:
    date_text = _text(arguments, "date", "appointmentDate", "day")
    time_text = _text(arguments, "time", "appointmentTime")
    try:
        if time_text:
            start = normalize_datetime(date_text or "", time_text, ctx.today, ctx.profile.timezone)
            day = start.date()
        else:
            day = normalize_date(date_text or "", ctx.today) if date_text else ctx.today
            start = datetime.combine(day, time(0), ctx.profile.timezone)
    except NormalizationError as error:
        return _reask(ctx, error)
    reply = ctx.rpc("check_availability", p_service=_text(arguments, "serviceType", "service"),
                    p_from=start.isoformat(), p_to=None, p_limit=3, p_first_day_only=True)
    if not reply.get("success"):
        return _refusal(ctx, reply, None)
    slots = reply.get("slots") or []
    return {"success": True, "slots": slots,
            "message": speech.available_times(slots, ctx.profile.timezone, requested_day=day)}


def _caller_phone(ctx: ToolContext, arguments: dict) -> str:
    return normalize_phone(_text(arguments, "patientPhone", "phone") or ctx.caller_number or "",
                           ctx.profile.phone_region)


def _upcoming(ctx: ToolContext, phone: str) -> list[dict]:
    reply = ctx.rpc("find_upcoming_appointments", p_phone=phone)
    return reply.get("appointments") or [] if reply.get("success") else []


def lookup_appointments(ctx: ToolContext, arguments: dict) -> dict:
    try:
        phone = _caller_phone(ctx, arguments)
    except NormalizationError as error:
        return _reask(ctx, error)
    appointments = _upcoming(ctx, phone)
    return {"success": True, "appointments": appointments,
            "message": speech.appointments_list(appointments, ctx.profile.timezone)}


def _matches(appointment: dict, ctx: ToolContext, day: date | None, at: time | None) -> bool:
    local = speech.parse_instant(appointment["scheduledAt"]).astimezone(ctx.profile.timezone)
    return (day is None or local.date() == day) and (at is None or local.time().replace(second=0) == at)


def _pick_appointment(ctx: ToolContext, arguments: dict, phone: str, date_keys: tuple, time_keys: tuple):
    """(appointment, None) when exactly one of the caller's appointments is meant, else (None, reply)."""
    appointment_id = first_uuid(arguments.get("appointmentId"))
    if appointment_id:
        return {"appointmentId": appointment_id}, None
    day_text, time_text = _text(arguments, *date_keys), _text(arguments, *time_keys)
    day = normalize_date(day_text, ctx.today) if day_text else None
    at = normalize_time(time_text) if time_text else None
    upcoming = _upcoming(ctx, phone)
    candidates = [a for a in upcoming if _matches(a, ctx, day, at)] or ([] if (day or at) else upcoming)
    if len(candidates) == 1:
        return candidates[0], None
    if not candidates:
        log_event("booking.rejected", reason="not_found")
        return None, {"success": False, "error": "not_found", "appointments": upcoming,
                      "message": speech.appointments_list(upcoming, ctx.profile.timezone) if upcoming
                      else speech.not_found()}
    return None, {"success": False, "error": "ambiguous", "appointments": candidates,
                  "message": speech.appointments_list(candidates, ctx.profile.timezone)}


def cancel_appointment(ctx: ToolContext, arguments: dict) -> dict:
    try:
        phone = _caller_phone(ctx, arguments)
        appointment, reply = _pick_appointment(ctx, arguments, phone, ("appointmentDate", "date"),
                                               ("appointmentTime", "time"))
    except NormalizationError as error:
        return _reask(ctx, error)
    if reply:
        return reply
    result = ctx.rpc("cancel_appointment", p_appointment_id=appointment["appointmentId"], p_phone=phone,
                     p_reason=_text(arguments, "reason"))
    if not result.get("success"):
        return _refusal(ctx, result, None)
    log_event("booking.cancelled", appointmentId=result.get("appointmentId"))
    service = _service_name(result) or _service_name(appointment)
    return {"success": True, "appointmentId": result.get("appointmentId"), "status": "cancelled",
            "message": speech.cancelled(result["scheduledAt"], ctx.profile.timezone, service)}


def reschedule_appointment(ctx: ToolContext, arguments: dict) -> dict:
    try:
        phone = _caller_phone(ctx, arguments)
        new_date = _text(arguments, "newDate", "newAppointmentDate", "appointmentDate", "date")
        new_time = _text(arguments, "newTime", "newAppointmentTime", "appointmentTime", "time")
        new_start = normalize_datetime(new_date or "", new_time, ctx.today, ctx.profile.timezone)
        appointment, reply = _pick_appointment(ctx, arguments, phone, ("currentDate", "originalDate"),
                                               ("currentTime", "originalTime"))
    except NormalizationError as error:
        return _reask(ctx, error)
    if reply:
        return reply
    result = ctx.rpc("reschedule_appointment_atomic", p_appointment_id=appointment["appointmentId"],
                     p_new_scheduled_at=new_start.isoformat(), p_phone=phone)
    if not result.get("success"):
        return _refusal(ctx, result, new_start)
    log_event("booking.rescheduled", appointmentId=result.get("appointmentId"))
    return {"success": True, "appointmentId": result.get("appointmentId"), "scheduledAt": result.get("scheduledAt"),
            "previousScheduledAt": result.get("previousScheduledAt"),
            "message": speech.rescheduled(result["scheduledAt"], ctx.profile.timezone,
                                          _service_name(result) or _service_name(appointment))}


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
        return {"success": False, "error": "unknown_tool",
                "message": speech.reask("I'm sorry, I can't help with that here. Is there something else I can do for you?")}
    return handler(ctx, arguments)
