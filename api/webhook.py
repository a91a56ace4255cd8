"""Vapi endpoints: one server URL for everything Vapi sends, and the v2 booking route."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, g, jsonify, request

from . import speech
from .auth import AuthResult, verify_request
from .credentials import WebhookSecretCache
from .gateway import RpcBusy, RpcError, request_deadline
from .logs import bound, log_event
from .tools import ToolContext, dispatch
from .vapi import EnvelopeError, ToolResult, VapiRequest, event_reply, parse_request, v2_reply, vapi_reply

bp = Blueprint("vapi", __name__, url_prefix="/api/vapi")


@bp.record_once
def _attach_org_secrets(state):
    app = state.app
    app.extensions["org_webhook_secrets"] = WebhookSecretCache(
        app.extensions["booking"].gateway, app.config["PROFILE_CACHE_SECONDS"],
        app.config.get("CREDENTIALS_KEY"))


@bp.before_request
def authenticate():
    secret = current_app.config["VAPI_SECRET"]
    if not secret:  # only possible in development mode (create_app refuses otherwise)
        return None
    raw_body = request.get_data(cache=True)
    now = time.time()
    result = verify_request(request.headers, raw_body, secret, now=now)
    if result.ok:
        return None
    if result.reason != "missing_credentials":
        result = _verify_with_org_secret(raw_body, now) or result
        if result.ok:
            return None
    log_event("auth.failed", 30, reason=result.reason, path=request.path, remote=request.remote_addr)
    return jsonify(error="unauthorized", reason=result.reason), 401


def _verify_with_org_secret(raw_body: bytes, now: float) -> AuthResult | None:
    """Check the same headers against the webhook secret of the clinic the body's assistant /
    phone-number id is mapped to; None when there is no such secret to check against."""
    try:
        context = parse_request(request.get_json(silent=True, force=True)).context
    except EnvelopeError:
        return None
    found = current_app.extensions["org_webhook_secrets"].get(context.assistant_id, context.phone_number_id)
    if found is None:
        return None
    result = verify_request(request.headers, raw_body, found.secret, now=now)
    if result.ok:
        # Tool calls in this request may act only for the org whose secret authenticated it.
        g.authenticated_org_id = found.org_id
    return result


def _parse() -> VapiRequest:
    body = request.get_json(silent=True, force=True)
    return parse_request(body)


@bp.errorhandler(EnvelopeError)
def invalid_envelope(error: EnvelopeError):
    log_event("vapi.invalid_request", 30, reason=error.reason, path=request.path)
    return jsonify(error="invalid_request", reason=error.reason), 400


def _failure(message: str, error: str) -> dict:
    return {"success": False, "error": error, "message": message}


def _no_answer(error: RpcError) -> dict:
    """A database that was busy (lock/statement timeout, rolled back) is worth retrying at once;
    one that did not answer at all is not."""
    if isinstance(error, RpcBusy):
        return _failure(speech.busy(), "busy")
    return _failure(speech.infrastructure_failure(), "unavailable")


def _resolve_org(booking, vapi_request: VapiRequest) -> str | None:
    context = vapi_request.context
    reply = booking.profiles.resolve(context.assistant_id, context.phone_number_id, context.claimed_org_id)
    if reply.get("success"):
        authenticated_org_id = g.get("authenticated_org_id")
        if authenticated_org_id is None or authenticated_org_id == reply["orgId"]:
            return reply["orgId"]
        log_event("org.refused", 30, reason="not_the_authenticated_org", orgId=reply["orgId"],
                  authenticatedOrgId=authenticated_org_id, callId=context.call_id)
        return None
    log_event("org.refused", 30, reason=reply.get("error"), claimedOrgId=context.claimed_org_id,
              assistantId=context.assistant_id, phoneNumberId=context.phone_number_id, callId=context.call_id)
    return None


def answer_tool_calls(vapi_request: VapiRequest, idempotency_key=None) -> list[ToolResult]:
    budget_s = current_app.config["WEBHOOK_BUDGET_MS"] / 1000
    deadline = request_deadline.set(time.monotonic() + budget_s)
    try:
        with bound(callId=vapi_request.context.call_id):
            return _answer_tool_calls(vapi_request, idempotency_key)
    finally:
        request_deadline.reset(deadline)


def _answer_tool_calls(vapi_request: VapiRequest, idempotency_key) -> list[ToolResult]:
    booking = current_app.extensions["booking"]
    calls = vapi_request.tool_calls
    try:
        org_id = _resolve_org(booking, vapi_request)
        profile = booking.profiles.get(org_id) if org_id else None
    except RpcError as error:
        return [ToolResult(c.id, c.name, _no_answer(error)) for c in calls]
    if profile is None:
        return [ToolResult(c.id, c.name, _failure(speech.generic_failure(), "unknown_org")) for c in calls]

    today = booking.clock().astimezone(profile.timezone).date()
    results = []
    for call in calls:
        key = idempotency_key(call) if idempotency_key else None
        ctx = ToolContext(gateway=booking.gateway, profile=profile, today=today, tool_call_id=call.id,
                          caller_number=vapi_request.context.caller_number,
                          call_id=vapi_request.context.call_id, idempotency_key=key,
                          source="vapi" if vapi_request.shape == "vapi" else "api")
        try:
            with bound(toolCallId=call.id, orgId=profile.org_id):
                payload = dispatch(call.name, ctx, call.arguments)
        except RpcError as error:
            payload = _no_answer(error)
        except Exception as exc:  # a bug must still leave the caller with a calm answer
            log_event("tool.error", 40, tool=call.name, toolCallId=call.id, orgId=profile.org_id,
                      error=type(exc).__name__)
            current_app.logger.exception("tool %s failed", call.name)
            payload = _failure(speech.infrastructure_failure(), "internal_error")
        results.append(ToolResult(call.id, call.name, payload))
    return results


def _vapi_idempotency_key(vapi_request: VapiRequest):
    # Vapi generates a fresh id per tool call, so a repeated id is a retry of the same booking.
    call_id = vapi_request.context.call_id or ""
    return lambda call: f"vapi:{call_id}:{call.id}".replace("\x00", "") if call.id else None


def _answer_vapi(vapi_request: VapiRequest):
    if vapi_request.kind == "event":
        log_event("vapi.event", type=vapi_request.message_type[:60], callId=vapi_request.context.call_id)
        return jsonify(event_reply())
    return jsonify(vapi_reply(answer_tool_calls(vapi_request, _vapi_idempotency_key(vapi_request))))


@bp.post("/webhook")
def webhook():
    return _answer_vapi(_parse())


@bp.post("/tools/bookClinicAppointment")
def book_clinic_appointment():
    vapi_request = _parse()
    if vapi_request.shape == "vapi":
        return _answer_vapi(vapi_request)
    # The v2 contract's toolCallId is chosen by the client and reused by its scripts ("make the
    # same request again" must meet the taken slot), so it is not an idempotency key here;
    # a client that wants replay safety sends an Idempotency-Key header.
    header_key = request.headers.get("Idempotency-Key", "").strip()[:200]
    key = (lambda call: f"v2:{header_key}") if header_key else None
    (result,) = answer_tool_calls(vapi_request, key)
    return jsonify(v2_reply(result))
