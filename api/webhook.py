"""Vapi endpoints: one server URL for everything Vapi sends, and the v2 booking route.

What a request may cost before it is trusted (docs/security-requests.md), in order:

1. its body is bounded (``MAX_CONTENT_LENGTH``: werkzeug refuses a larger Content-Length with 413
   before reading, and a chunked body is read no further than the limit, then 413);
2. the global secret is checked on the raw bytes (header compare or HMAC) — no parsing;
3. only when that fails and credentials were presented, a pruned parse of the bounded body finds
   the assistant / phone-number ids that choose a clinic's own secret (api.vapi.credential_ids);
4. an accepted HMAC signature is claimed once in the database (a replay is refused);
5. only then is the body parsed (400 for bad JSON, bad encoding, too deep), and at most
   MAX_TOOL_CALLS_PER_REQUEST of its tool calls are answered; the rest get a calm refusal each.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone

from flask import Blueprint, current_app, g, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from . import calls, speech
from .auth import AuthResult, verify_request
from .credentials import WebhookSecretCache
from .deps import get_deps
from .gateway import RpcBusy, RpcError, request_deadline
from .logs import bound, log_event
from .tools import ToolContext, dispatch
from .vapi import (
    MAX_TOOL_CALLS_PER_REQUEST,
    EnvelopeError,
    ToolResult,
    VapiRequest,
    credential_ids,
    decode_body,
    event_reply,
    idempotency_key,
    parse_request,
    v2_idempotency_key,
    v2_reply,
    vapi_reply,
)

bp = Blueprint("vapi", __name__, url_prefix="/api/vapi")


@bp.record_once
def _attach_org_secrets(state):
    app = state.app
    app.extensions["org_webhook_secrets"] = WebhookSecretCache(
        get_deps(app).gateway, app.config["PROFILE_CACHE_SECONDS"],
        app.config.get("CREDENTIALS_KEY"))


def _raw_body() -> bytes:
    """The request body, at most MAX_CONTENT_LENGTH bytes, else 413.

    werkzeug refuses a larger Content-Length before reading. A streamed (chunked) body it reads
    only up to the limit, but then returns what it has as if that were all; one more byte from
    the server's stream tells a body of exactly the limit from a longer one. A body that stalls
    (the socket timeout of gunicorn.conf.py) or breaks off is werkzeug's ClientDisconnected: 400.
    """
    data = request.get_data(cache=True)
    limit = request.max_content_length
    if (request.content_length is None and limit is not None and len(data) >= limit
            and request.environ["wsgi.input"].read(1)):
        raise RequestEntityTooLarge()
    return data


@bp.before_request
def authenticate():
    raw_body = _raw_body()
    secret = current_app.config["VAPI_SECRET"]
    if not secret:  # development mode (create_app refuses to serve without one otherwise)
        if current_app.config["APP_ENV"] == "development":
            return None
        # an app built for an operator command needs no secret, and serves nothing without one
        log_event("auth.failed", logging.WARNING, reason="no_secret_configured", path=request.path)
        return jsonify(error="unauthorized", reason="missing_credentials"), 401
    now = time.time()
    result = verify_request(request.headers, raw_body, secret, now=now)
    if not result.ok and result.reason != "missing_credentials":
        result = _verify_with_org_secret(raw_body, now, result)
    if result.ok and result.method == "hmac":
        result = _claim_signature(result)
    if result.ok:
        return None
    log_event("auth.failed", logging.WARNING, reason=result.reason, path=request.path, remote=request.remote_addr)
    return jsonify(error="unauthorized", reason=result.reason), 401


def _verify_with_org_secret(raw_body: bytes, now: float, global_result: AuthResult) -> AuthResult:
    """Check the same headers against the webhook secret of the clinic the body's assistant /
    phone-number id is mapped to. The body is not trusted yet: only its ids are read, with a pruned
    parse (api.vapi.credential_ids). Returns the result that says the most."""
    assistant_id, phone_number_id = credential_ids(raw_body)
    found = current_app.extensions["org_webhook_secrets"].get(assistant_id, phone_number_id)
    if found is None:
        return global_result
    result = verify_request(request.headers, raw_body, found.secret, now=now)
    if result.ok:
        # Tool calls in this request may act only for the org whose secret authenticated it.
        g.authenticated_org_id = found.org_id
        return result
    # A genuine but old signature (under either secret) is the useful thing to report.
    return global_result if global_result.reason == "stale_timestamp" else result


def _claim_signature(result: AuthResult) -> AuthResult:
    """Accept an HMAC signature once: the claim lives in the database, so a replay to another
    worker or instance within the 5-minute window meets it too (claim_webhook_signature)."""
    deps = get_deps()
    signed_at = datetime.fromtimestamp(result.signed_at, timezone.utc).isoformat()
    try:
        reply = deps.gateway.rpc("claim_webhook_signature",
                                 {"p_signature": result.signature, "p_signed_at": signed_at})
    except RpcError:
        reply = None
    if reply is not None and reply.get("success"):
        return result
    if reply is not None and reply.get("error") == "replayed_signature":
        return AuthResult(ok=False, reason="replayed_signature")
    # Unknown whether this is a replay: the request is authentic but may not act. Its tool calls
    # get the spoken "trouble reaching our booking system" (the database is what failed) and
    # nothing is written; an event is only logged anyway.
    log_event("auth.replay_unchecked", logging.WARNING, path=request.path, error=(reply or {}).get("error", "unavailable"))
    g.replay_unchecked = True
    return result


def _parse() -> VapiRequest:
    return parse_request(decode_body(_raw_body()))


@bp.errorhandler(EnvelopeError)
def invalid_envelope(error: EnvelopeError):
    log_event("vapi.invalid_request", logging.WARNING, reason=error.reason, path=request.path)
    return jsonify(error="invalid_request", reason=error.reason), 400


def _failure(message: str, error: str) -> dict:
    return {"success": False, "error": error, "message": message}


def _no_answer(error: RpcError) -> dict:
    """A database that was busy (lock/statement timeout, rolled back) is worth retrying at once;
    one that did not answer at all is not."""
    if isinstance(error, RpcBusy):
        return _failure(speech.busy(), "busy")
    return _failure(speech.infrastructure_failure(), "unavailable")


def _claims_allowed(v2_route: bool) -> bool:
    """May a metadata org id alone (no assistant / phone-number mapping) pick the clinic?

    On the Vapi webhook only with ALLOW_METADATA_ORG (development, tests): in production the
    metadata is written by whoever configures an assistant, and assistant / phone-number ids are
    global, so a mapping must decide and the metadata only confirms it. The v2 route is the
    original contract for holders of the platform's own secret (and the operator commands), so
    there the metadata still decides — unless a clinic's own secret authenticated the request.
    """
    if current_app.config["ALLOW_METADATA_ORG"]:
        return True
    return v2_route and g.get("authenticated_org_id") is None


def _resolve_org(deps, vapi_request: VapiRequest, allow_claim: bool) -> str | None:
    context = vapi_request.context
    reply = deps.profiles.resolve(context.assistant_id, context.phone_number_id, context.claimed_org_id,
                                  allow_claim)
    if reply.get("success"):
        authenticated_org_id = g.get("authenticated_org_id")
        if authenticated_org_id is None or authenticated_org_id == reply["orgId"]:
            return reply["orgId"]
        log_event("org.refused", logging.WARNING, reason="not_the_authenticated_org", orgId=reply["orgId"],
                  authenticatedOrgId=authenticated_org_id, callId=context.call_id)
        return None
    log_event("org.refused", logging.WARNING, reason=reply.get("error"), claimedOrgId=context.claimed_org_id,
              assistantId=context.assistant_id, phoneNumberId=context.phone_number_id, callId=context.call_id,
              claimsAllowed=allow_claim)
    return None


def answer_tool_calls(vapi_request: VapiRequest, key_for=None, *, allow_claim: bool = False) -> list[ToolResult]:
    """Answer the request's tool calls; ``key_for(call)`` gives each one's idempotency key (or None)."""
    budget_s = current_app.config["WEBHOOK_BUDGET_MS"] / 1000
    deadline = request_deadline.set(time.monotonic() + budget_s)
    try:
        with bound(callId=vapi_request.context.call_id):
            return _answer_tool_calls(vapi_request, key_for, allow_claim)
    finally:
        request_deadline.reset(deadline)


def _answer_tool_calls(vapi_request: VapiRequest, key_for, allow_claim: bool) -> list[ToolResult]:
    calls = vapi_request.tool_calls[:MAX_TOOL_CALLS_PER_REQUEST]
    refused = []
    surplus = vapi_request.tool_calls[MAX_TOOL_CALLS_PER_REQUEST:]
    if surplus:
        log_event("vapi.too_many_tool_calls", logging.WARNING, toolCalls=len(vapi_request.tool_calls),
                  answered=MAX_TOOL_CALLS_PER_REQUEST)
        refusal = _failure(speech.too_many_tool_calls(), "too_many_tool_calls")
        refused = [ToolResult(c.id, c.name, refusal) for c in surplus]
    return _answer_first_calls(vapi_request, calls, key_for, allow_claim) + refused


def _answer_first_calls(vapi_request: VapiRequest, calls, key_for, allow_claim: bool) -> list[ToolResult]:
    if g.get("replay_unchecked"):
        unavailable = _no_answer(RpcError("claim_webhook_signature"))
        return [ToolResult(c.id, c.name, unavailable) for c in calls]
    deps = get_deps()
    try:
        org_id = _resolve_org(deps, vapi_request, allow_claim)
        profile = deps.profiles.get(org_id) if org_id else None
    except RpcError as error:
        return [ToolResult(c.id, c.name, _no_answer(error)) for c in calls]
    if profile is None:
        return [ToolResult(c.id, c.name, _failure(speech.generic_failure(), "unknown_org")) for c in calls]

    today = deps.clock().astimezone(profile.timezone).date()
    results = []
    for call in calls:
        key = key_for(call) if key_for else None
        ctx = ToolContext(gateway=deps.gateway, profile=profile, today=today, tool_call_id=call.ref,
                          caller_number=vapi_request.context.caller_number,
                          call_id=vapi_request.context.call_id, idempotency_key=key,
                          source="vapi" if vapi_request.shape == "vapi" else "api")
        try:
            with bound(toolCallId=call.ref, orgId=profile.org_id):
                payload = dispatch(call.name, ctx, call.arguments)
        except RpcError as error:
            payload = _no_answer(error)
        except Exception as exc:  # a bug must still leave the caller with a calm answer
            log_event("tool.error", logging.ERROR, tool=call.name, toolCallId=call.ref, orgId=profile.org_id,
                      error=type(exc).__name__)
            current_app.logger.exception("tool %s failed", call.name)
            payload = _failure(speech.infrastructure_failure(), "internal_error")
        results.append(ToolResult(call.id, call.name, payload))
    return results


def _vapi_idempotency_key(vapi_request: VapiRequest):
    # A repeated tool-call id is a retry of the same booking (api.vapi.idempotency_key).
    return lambda call: idempotency_key(vapi_request.context.call_id, call.ref)


def _answer_vapi(vapi_request: VapiRequest, *, v2_route: bool = False):
    if vapi_request.kind == "event":
        log_event("vapi.event", type=vapi_request.message_type, callId=vapi_request.context.call_id)
        return jsonify(event_reply())
    return jsonify(vapi_reply(answer_tool_calls(vapi_request, _vapi_idempotency_key(vapi_request),
                                                allow_claim=_claims_allowed(v2_route))))


def _answer_call_message(vapi_request: VapiRequest, message: dict):
    """assistant-request, end-of-call-report, transfer-destination-request, status-update, hang:
    api/calls.py answers them (type and call id are all that is logged here; an assistant-request's
    own line, call.assistant or call.unknown_number, says both)."""
    if vapi_request.message_type != calls.ASSISTANT_REQUEST:
        log_event("vapi.event", type=vapi_request.message_type, callId=vapi_request.context.call_id)
    if g.get("replay_unchecked"):  # authentic, but unknown whether a replay: it may not act
        return jsonify(calls.refused(vapi_request.message_type))
    deps = get_deps()
    env = calls.CallEnv(
        gateway=deps.gateway, profiles=deps.profiles, now=deps.clock(),
        server_url=lambda: (current_app.config.get("PUBLIC_BASE_URL") or request.url_root.rstrip("/")) + calls.WEBHOOK_PATH,
        resolve_org=lambda: _resolve_org(deps, vapi_request, _claims_allowed(v2_route=False)),
        authenticated_org_id=g.get("authenticated_org_id"))
    # The request's budget as for tool calls. assistant-request (Vapi waits 7.5 s) does one RPC:
    # a database that does not answer costs at most the pool wait (5 s), then a spoken line.
    deadline = request_deadline.set(time.monotonic() + current_app.config["WEBHOOK_BUDGET_MS"] / 1000)
    try:
        with bound(callId=vapi_request.context.call_id):
            reply = calls.answer(vapi_request, message, env)
    finally:
        request_deadline.reset(deadline)
    if isinstance(reply, calls.EncodedReply):  # an assistant-request's, encoded once per clinic and day
        return current_app.response_class(reply, mimetype="application/json")
    return jsonify(reply)


@bp.post("/webhook")
def webhook():
    body = decode_body(_raw_body())
    vapi_request = parse_request(body)
    if vapi_request.shape == "vapi" and vapi_request.message_type in calls.MESSAGE_TYPES:
        return _answer_call_message(vapi_request, body["message"])
    return _answer_vapi(vapi_request)


@bp.post("/tools/bookClinicAppointment")
def book_clinic_appointment():
    vapi_request = _parse()
    if vapi_request.shape == "vapi":
        return _answer_vapi(vapi_request, v2_route=True)
    # The v2 contract's toolCallId is chosen by the client and reused by its scripts ("make the
    # same request again" must meet the taken slot), so it is not an idempotency key here;
    # a client that wants replay safety sends an Idempotency-Key header.
    header_key = v2_idempotency_key(request.headers.get("Idempotency-Key"))
    key = (lambda call: header_key) if header_key else None
    (result,) = answer_tool_calls(vapi_request, key, allow_claim=_claims_allowed(v2_route=True))
    return jsonify(v2_reply(result))
