"""The whole call on the one Vapi server URL: which assistant answers, what came of the call, and a
hand-off to the front desk.

Vapi message types served here (tool calls are api/tools.py's):

* ``assistant-request`` (a call reached a phone number whose server URL is ours; Vapi waits at
  most 7.5 s end to end) → ``resolve_assistant_request`` decides the clinic by the called
  phone-number id, in SQL, and hands back today's facts in the clinic's zone. Reply:
  ``{"assistantId", "assistantOverrides": {"variableValues"}}`` when the clinic has its own Vapi
  assistant; otherwise a transient ``assistant`` (the enforced prompt of api/prompts.py, the tools
  of docs/vapi-tools.json pointed at this service, the clinic's first message, voice and model)
  plus the same variables; an unknown number → ``{"error": <a calm line Vapi speaks>}``. One round
  trip, always (the clinic's profile comes with it when this worker holds none); the transient
  assistant is encoded once per process for exactly its inputs (``transient_assistant_json``).
* ``end-of-call-report`` → ``record_call_report`` (one row per call; a repeated report updates
  it; SQL links the call's bookings and decides the outcome) → ``{}``.
* ``transfer-destination-request`` (the assistant called Vapi's transferCall tool) →
  ``transfer_destination`` → ``{"destination": {"type": "number", "number", "message"}}`` during
  the front desk's hours, else ``{"error": <a line offering a message or a call back>}``.
* ``status-update`` with ``status: "ended"`` → ``mark_call_ended`` (the call row exists even if
  no report ever comes) → ``{}``.
* ``hang`` → ``mark_call_hang`` → ``{}``. A hang is *not* the end of a call — Vapi sends it when
  the assistant is delayed (a slow model, voice or tool), possibly many times per call — so it
  marks the call row without ending it: the row is created if missing (the call is on the log even
  if no report ever comes), ``hang_count`` goes up and ``last_hang_at`` moves on; the end, the
  reason and the outcome are left to the report or an ended status update. Logged as a warning
  (``call.hang``).

Every message but the two that Vapi speaks from (assistant-request, transfer-destination-request)
is answered ``{}`` whatever happens: an unknown number or clinic, no call id, a refusal or no answer
from the database.

The builders (:func:`assistant_request_reply`, :func:`transient_assistant`, :func:`call_report`,
:func:`transfer_reply`) are pure functions: an RPC reply and settings in, a Vapi reply out.
Transcripts, messages and recording URLs go to the database only; no log line carries them.

The transient assistant's server credential is *referenced*: ``server.credentialId``, a Vapi
credential the clinic created in its own Vapi account (``clinic_call_settings.server_credential_id``).
The platform's ``VAPI_SECRET`` never goes into an assistant. Without a credential id the
assistant and its tools carry no ``server`` at all, so Vapi sends their requests to the phone
number's server URL with the phone number's credential — the one this assistant-request was just
authenticated with.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import math
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any, Callable, Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import speech
from .gateway import RpcError, RpcGateway
from .logs import log_event
from .normalize import NormalizationError, normalize_phone
from .orgs import ProfileCache
from .prompts import Clinic, enforced_prompt
from .vapi import MAX_ID_LENGTH, VapiRequest, clamp_id

ASSISTANT_REQUEST = "assistant-request"
END_OF_CALL_REPORT = "end-of-call-report"
TRANSFER_DESTINATION_REQUEST = "transfer-destination-request"
STATUS_UPDATE = "status-update"
HANG = "hang"
# The message types answered here; every other one stays a logged event answered {} (api/webhook.py).
MESSAGE_TYPES = frozenset({ASSISTANT_REQUEST, END_OF_CALL_REPORT, TRANSFER_DESTINATION_REQUEST,
                           STATUS_UPDATE, HANG})

WEBHOOK_PATH = "/api/vapi/webhook"
TOOLS_PATH = Path(__file__).resolve().parents[1] / "docs" / "vapi-tools.json"

# SQL fills the clinic's unset call settings with the documented defaults (private.call_settings);
# these are the same values, used only should a reply lack them. Vapi's own voice needs no provider
# key in the clinic's Vapi account.
DEFAULT_MODEL = {"provider": "openai", "model": "gpt-4o", "temperature": 0.3}
DEFAULT_VOICE = {"provider": "vapi", "voiceId": "Elliot"}
# What Vapi sends a transient assistant's server: the messages this module and the tools answer.
SERVER_MESSAGES = (END_OF_CALL_REPORT, "status-update", "tool-calls", TRANSFER_DESTINATION_REQUEST, HANG)
# A clinic's model setting may choose provider, model, temperature, …; the prompt and the tools
# are the service's.
_SERVICE_MODEL_KEYS = frozenset({"messages", "tools", "toolIds", "functions"})
MAX_ASSISTANT_NAME = 40  # Vapi's limit on assistant names
MAX_URL_LENGTH = 2048
MAX_TEXT_ID = MAX_ID_LENGTH  # endedReason, successEvaluation: short codes, clamped like ids


# ---------------------------------------------------------------------------------------------
# assistant-request
# ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _tool_definitions(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


@functools.lru_cache(maxsize=4)
def _static_tools(path: str) -> tuple[dict, ...]:
    return tuple(json.loads(_tool_definitions(path)))


def tool_definitions(path: Path = TOOLS_PATH) -> list[dict]:
    """docs/vapi-tools.json, read once per process (a fresh copy each call)."""
    return json.loads(_tool_definitions(str(path)))


def static_tools() -> tuple[dict, ...]:
    """docs/vapi-tools.json parsed once per process: the same objects every time, never mutated
    (with_server copies what it changes). Read at start-up; a changed file needs a restart, as code does."""
    return _static_tools(str(TOOLS_PATH))


def with_server(tools: Sequence[dict], server: dict | None) -> list[dict]:
    """The tool definitions with every ``server`` replaced by ours, or removed (``server`` None).
    New top-level dicts; the rest is shared with `tools` (a deep copy per call cost 2 ms)."""
    result = []
    for tool in tools:
        tool = dict(tool)
        if "server" in tool:
            if server is None:
                del tool["server"]
            else:
                tool["server"] = dict(server)
        result.append(tool)
    return result


def server_for(server_url: str, credential_id: str | None) -> dict | None:
    """The ``server`` of a transient assistant and its tools: our URL and the clinic's Vapi
    credential id, or None without a credential (Vapi then uses the phone number's server)."""
    credential_id = clamp_id(credential_id)
    return {"url": server_url, "credentialId": credential_id} if credential_id else None


def variable_values(resolved: dict) -> dict:
    """``assistantOverrides.variableValues``: the facts SQL gave, as Vapi's Liquid variables."""
    variables = resolved.get("variables")
    return dict(variables) if isinstance(variables, dict) else {}


def _settings(resolved: dict) -> dict:
    settings = resolved.get("settings")
    return settings if isinstance(settings, dict) else {}


def _first_text(*values: Any) -> str | None:
    return next((v for v in values if isinstance(v, str) and v.strip()), None)


def clinic_of(resolved: dict) -> Clinic:
    """The clinic the enforced prompt speaks for: its name and zone from the resolved variables."""
    variables = variable_values(resolved)
    try:
        zone = ZoneInfo(str(variables.get("timezone")))
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return Clinic(name=_first_text(variables.get("clinicName")) or "", timezone=zone)


def prompt_inputs(resolved: dict) -> tuple[str | None, str | None]:
    """(clinic prompt, assistant name) of the mapping that matched, wherever the reply carries them."""
    settings = _settings(resolved)
    custom = _first_text(settings.get("customPrompt"), resolved.get("customPrompt"))
    name = _first_text(settings.get("assistantName"), resolved.get("assistantName"))
    return custom, name


def clinic_prompt(custom: str | None, clinic: Clinic, name: str | None, *, now: datetime) -> str:
    """enforced_prompt(custom, clinic, name, now=now), byte for byte (what `prompts show` prints).
    enforced_prompt depends on `now` only through the clinic-local date: composed for that day's noon."""
    local_day = now.astimezone(clinic.timezone).date()
    return enforced_prompt(custom, clinic, name, now=datetime.combine(local_day, time(12), clinic.timezone))


def transient_assistant(resolved: dict, *, now: datetime, tools: Sequence[dict], server_url: str,
                        profile=None) -> dict:
    """The assistant Vapi runs for a clinic without one of its own (CreateAssistantDTO). With the
    clinic's profile (api.orgs.OrgProfile) its prompt lists the providers as `prompts show` does."""
    settings = _settings(resolved)
    clinic = Clinic.from_profile(profile) if profile is not None else clinic_of(resolved)
    custom, name = prompt_inputs(resolved)
    server = server_for(server_url, settings.get("serverCredentialId"))

    model = settings.get("model") if isinstance(settings.get("model"), dict) and settings.get("model") else DEFAULT_MODEL
    model = {key: value for key, value in copy.deepcopy(model).items() if key not in _SERVICE_MODEL_KEYS}
    model["messages"] = [{"role": "system", "content": clinic_prompt(custom, clinic, name, now=now)}]
    model["tools"] = with_server(tools, server)
    voice = settings.get("voice") if isinstance(settings.get("voice"), dict) and settings.get("voice") else DEFAULT_VOICE

    first_message = speech.one_line(_first_text(settings.get("firstMessage")) or "")
    assistant = {
        "name": (" ".join((name or clinic.name or "Receptionist").split()))[:MAX_ASSISTANT_NAME].strip(),
        "firstMessage": first_message or speech.greeting(clinic.name, name),
        "model": model,
        "voice": copy.deepcopy(voice),
        "serverMessages": list(SERVER_MESSAGES),
    }
    if server is not None:
        assistant["server"] = dict(server)
    return assistant


def assistant_request_reply(resolved: dict, *, now: datetime, tools: Sequence[dict], server_url: str,
                            profile=None) -> dict:
    """Vapi's answer to assistant-request, from resolve_assistant_request's reply."""
    if not resolved.get("success") or not resolved.get("orgId"):
        return {"error": speech.unknown_number()}
    overrides = {"variableValues": variable_values(resolved)}
    assistant_id = clamp_id(resolved.get("assistantId"))
    if assistant_id:
        return {"assistantId": assistant_id, "assistantOverrides": overrides}
    return {"assistant": transient_assistant(resolved, now=now, tools=tools, server_url=server_url,
                                             profile=profile),
            "assistantOverrides": overrides}


class EncodedReply(str):
    """A reply already encoded as JSON text; the webhook sends it as it is."""


def encode(value: Any) -> str:
    """JSON as the webhook's jsonify writes it (compact, ASCII)."""
    return json.dumps(value, separators=(",", ":"))


# Transient assistants, encoded, per process: building one (the enforced prompt, 7 tool definitions,
# ~20 KB of JSON) cost more than the rest of an assistant-request. An entry is used only for exactly
# the inputs it was built from:
#   * everything resolve_assistant_request answered for this call that the assistant shows (clinic,
#     settings, the assistant's name and clinic prompt) — part of the key, so a change in SQL is on
#     the very next call;
#   * the clinic's profile (providers, services, hours for the prompt): the key holds the profile
#     object itself (compared by identity), which the profile cache replaces when it expires
#     (PROFILE_CACHE_SECONDS, as every tool call sees the clinic) or when SQL sends a fresh one;
#   * the clinic-local date the prompt states ("Today is …"): part of the key, so the first call
#     after the clinic's midnight builds the new day's assistant;
#   * our server URL and the tool definitions (read once per process).
# The variables (time of day, open now, hours today, who works today) are never cached: SQL computes
# them for every call and they travel beside the assistant in assistantOverrides.
_ASSISTANTS: dict[tuple, tuple[Any, Any, str]] = {}
_MAX_ASSISTANTS = 512


def transient_assistant_json(resolved: dict, *, now: datetime, tools: Sequence[dict], server_url: str,
                             profile=None) -> str:
    """encode(transient_assistant(...)), built once per process for each set of its inputs (above)."""
    variables = variable_values(resolved)
    zone = profile.timezone if profile is not None else clinic_of(resolved).timezone
    facts = json.dumps([resolved.get("orgId"), _settings(resolved), resolved.get("customPrompt"),
                        resolved.get("assistantName"), variables.get("clinicName"), variables.get("timezone")],
                       sort_keys=True, separators=(",", ":"), default=str)
    key = (facts, id(profile), id(tools), now.astimezone(zone).date(), server_url)
    entry = _ASSISTANTS.get(key)
    if entry is not None and entry[0] is profile and entry[1] is tools:
        return entry[2]
    text = encode(transient_assistant(resolved, now=now, tools=tools, server_url=server_url, profile=profile))
    if len(_ASSISTANTS) >= _MAX_ASSISTANTS:
        _ASSISTANTS.clear()  # many clinics, a new day, refreshed profiles: start over rather than grow
    _ASSISTANTS[key] = (profile, tools, text)
    return text


def assistant_request_json(resolved: dict, *, now: datetime, tools: Sequence[dict], server_url: str,
                           profile=None) -> EncodedReply:
    """assistant_request_reply(...) encoded as JSON, with the transient assistant from the
    per-process cache (equal to encoding assistant_request_reply's answer)."""
    if not resolved.get("success") or not resolved.get("orgId"):
        return EncodedReply(encode({"error": speech.unknown_number()}))
    overrides = encode({"variableValues": variable_values(resolved)})
    assistant_id = clamp_id(resolved.get("assistantId"))
    if assistant_id:
        return EncodedReply(f'{{"assistantId":{encode(assistant_id)},"assistantOverrides":{overrides}}}')
    assistant = transient_assistant_json(resolved, now=now, tools=tools, server_url=server_url, profile=profile)
    return EncodedReply(f'{{"assistant":{assistant},"assistantOverrides":{overrides}}}')


# ---------------------------------------------------------------------------------------------
# end-of-call-report
# ---------------------------------------------------------------------------------------------


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _without_nul(value: Any) -> Any:
    """PostgreSQL text and jsonb cannot hold U+0000: dropped everywhere, keys included."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {str(key).replace("\x00", ""): _without_nul(item) for key, item in value.items()}
    return value


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value or None


def _short(value: Any) -> str | None:
    """A code-like value (endedReason, successEvaluation) as short text; booleans and numbers too."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)) and (not isinstance(value, float) or math.isfinite(value)):
        return str(value)
    text = _text(value)
    return text[:MAX_TEXT_ID] if text else None


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _instant(value: Any) -> datetime | None:
    text = _text(value)
    if not text:
        return None
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        return None
    return instant if instant.tzinfo else instant.replace(tzinfo=timezone.utc)


def _url(value: Any) -> str | None:
    text = _text(value)
    if text and len(text) <= MAX_URL_LENGTH and text.lower().startswith(("https://", "http://")):
        return text
    return None


def caller_e164(number: str | None, region: str) -> str | None:
    """The caller ID in E.164, or None (withheld, malformed)."""
    if not number:
        return None
    try:
        return normalize_phone(number, region)
    except NormalizationError:
        return None


def call_report(message: dict, request: VapiRequest, *, region: str = "US") -> dict:
    """record_call_report's ``p_call`` from an end-of-call-report message (Vapi's
    ServerMessageEndOfCallReport: the artifact first, the older top-level fields as fallback)."""
    call = message.get("call") if isinstance(message.get("call"), dict) else {}
    artifact = message.get("artifact") if isinstance(message.get("artifact"), dict) else {}
    analysis = message.get("analysis") if isinstance(message.get("analysis"), dict) else {}
    context = request.context

    started = _instant(message.get("startedAt")) or _instant(call.get("startedAt"))
    ended = _instant(message.get("endedAt")) or _instant(call.get("endedAt"))
    duration = _number(message.get("durationSeconds"))
    if duration is None and _number(message.get("durationMs")) is not None:
        duration = message["durationMs"] / 1000
    if duration is None and started and ended and ended >= started:
        duration = (ended - started).total_seconds()

    messages = artifact.get("messages") if isinstance(artifact.get("messages"), list) else message.get("messages")
    recording = artifact.get("recording") if isinstance(artifact.get("recording"), dict) else {}
    return {
        "callId": context.call_id,
        "assistantId": context.assistant_id,
        "phoneNumberId": context.phone_number_id,
        "callerNumber": caller_e164(context.caller_number, region),
        "startedAt": started.isoformat() if started else None,
        "endedAt": ended.isoformat() if ended else None,
        "durationSeconds": duration,
        "endedReason": _short(message.get("endedReason")) or _short(call.get("endedReason")),
        "cost": _number(message.get("cost")) if _number(message.get("cost")) is not None else _number(call.get("cost")),
        "summary": _text(analysis.get("summary")) or _text(message.get("summary")),
        "successEvaluation": _short(analysis.get("successEvaluation")),
        "recordingUrl": (_url(artifact.get("recordingUrl")) or _url(_dig(recording, "mono", "combinedUrl"))
                         or _url(message.get("recordingUrl")) or _url(artifact.get("stereoRecordingUrl"))
                         or _url(recording.get("stereoUrl")) or _url(message.get("stereoRecordingUrl"))),
        "transcript": _text(artifact.get("transcript")) or _text(message.get("transcript")),
        "messages": _without_nul(messages) if isinstance(messages, list) else None,
    }


# ---------------------------------------------------------------------------------------------
# transfer-destination-request
# ---------------------------------------------------------------------------------------------


def transfer_reply(reply: dict) -> dict:
    """Vapi's answer to transfer-destination-request, from transfer_destination's reply. The line
    said before connecting is the clinic's own (``message``, its transfer_message) or ours."""
    number = _text(reply.get("number"))
    if reply.get("success") and reply.get("available", True) and number:
        said = speech.one_line(_text(reply.get("message")) or "") or speech.transfer_connecting()
        return {"destination": {"type": "number", "number": number, "message": said}}
    return {"error": speech.transfer_unavailable(reply.get("reason"))}


# ---------------------------------------------------------------------------------------------
# Handlers (the webhook's glue calls answer())
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallEnv:
    """What answering one call message needs from the service."""

    gateway: RpcGateway
    profiles: ProfileCache
    now: datetime  # the app's clock: the instant SQL answers for (today, open now, transfer hours)
    # where Vapi reaches this webhook (PUBLIC_BASE_URL, else this request's URL); asked for only by a
    # transient assistant (working out the request's URL is a measurable share of a cheap request)
    server_url: Callable[[], str]
    resolve_org: Callable[[], str | None]  # the clinic by assistant / phone-number id, as for tool calls
    authenticated_org_id: str | None = None  # set when a clinic's own webhook secret authenticated
    tools: Callable[[], Sequence[dict]] = static_tools


def _assistant_request(request: VapiRequest, message: dict, env: CallEnv) -> EncodedReply:
    """One RPC: resolve_assistant_request answers the number, today's variables and the settings,
    and, when this worker holds no profile of the number's clinic, the profile a transient
    assistant's prompt needs (p_with_profile), so that is never a second round trip."""
    context = request.context
    if not context.phone_number_id and not context.assistant_id:
        log_event("call.unknown_number", logging.WARNING, reason="no_phone_number_id")
        return EncodedReply(encode({"error": speech.unknown_number()}))
    known_org = env.profiles.org_of_number(context.phone_number_id)
    resolved = env.gateway.rpc("resolve_assistant_request", {
        "p_phone_number_id": context.phone_number_id, "p_assistant_id": context.assistant_id,
        "p_at": env.now.isoformat(),
        "p_with_profile": known_org is None or env.profiles.cached(known_org) is None})
    if not resolved.get("success"):
        log_event("call.unknown_number", logging.WARNING, reason=resolved.get("error"), phoneNumberId=context.phone_number_id)
        return EncodedReply(encode({"error": speech.unknown_number()}))
    org_id = resolved.get("orgId")
    if env.authenticated_org_id is not None and env.authenticated_org_id != org_id:
        log_event("org.refused", logging.WARNING, reason="not_the_authenticated_org", orgId=org_id,
                  authenticatedOrgId=env.authenticated_org_id)
        return EncodedReply(encode({"error": speech.unknown_number()}))
    env.profiles.note_number(context.phone_number_id, org_id)
    own = bool(clamp_id(resolved.get("assistantId")))
    profile = None
    if not own:
        # a transient assistant's prompt lists who works at the clinic: the profile SQL just sent, else
        # the one this worker holds (as tool calls use it), else (it expired since) one more RPC
        profile = (env.profiles.keep(org_id, resolved["profile"]) if resolved.get("profile") else None) \
            or env.profiles.cached(org_id) or env.profiles.get(org_id)
    reply = assistant_request_json(resolved, now=env.now, tools=env.tools(),
                                   server_url="" if own else env.server_url(), profile=profile)
    log_event("call.assistant", orgId=org_id, assistant="own" if own else "transient",
              credential=None if own else bool(clamp_id(_settings(resolved).get("serverCredentialId"))),
              outsideHours=variable_values(resolved).get("outsideHours"))
    return reply


def _end_of_call_report(request: VapiRequest, message: dict, env: CallEnv) -> dict:
    org_id = env.resolve_org()
    if org_id is None:
        return {}
    if not request.context.call_id:
        log_event("call.report_refused", logging.WARNING, orgId=org_id, reason="no_call_id")
        return {}
    profile = env.profiles.get(org_id)
    p_call = call_report(message, request, region=profile.phone_region if profile else "US")
    reply = env.gateway.rpc("record_call_report", {"p_org_id": org_id, "p_call": p_call})
    if not reply.get("success"):
        log_event("call.report_refused", logging.WARNING, orgId=org_id, reason=reply.get("error"), field=reply.get("field"))
        return {}
    log_event("call.report", orgId=org_id, outcome=reply.get("outcome"),
              linkedAppointments=len(reply.get("linkedAppointments") or []),
              endedReason=p_call["endedReason"], hasTranscript=p_call["transcript"] is not None,
              hasRecording=p_call["recordingUrl"] is not None)
    return {}


def _status_update(request: VapiRequest, message: dict, env: CallEnv) -> dict:
    if message.get("status") != "ended":
        return {}
    org_id = env.resolve_org()
    if org_id is None or not request.context.call_id:
        return {}
    call = message.get("call") if isinstance(message.get("call"), dict) else {}
    params: dict[str, Any] = {"p_org_id": org_id, "p_call_id": request.context.call_id}
    ended = _instant(call.get("endedAt")) or _message_instant(message)
    if ended is not None:  # else the function's default, now()
        params["p_ended_at"] = ended.isoformat()
    reason = _short(message.get("endedReason")) or _short(call.get("endedReason"))
    if reason is not None:
        params["p_ended_reason"] = reason
    reply = env.gateway.rpc("mark_call_ended", params)
    log_event("call.ended", orgId=org_id, success=bool(reply.get("success")), endedReason=reason)
    return {}


def _message_instant(message: dict) -> datetime | None:
    """When Vapi sent a message: its ``timestamp`` (epoch milliseconds), or None."""
    if _number(message.get("timestamp")) is None:
        return None
    try:
        return datetime.fromtimestamp(message["timestamp"] / 1000, timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _hang(request: VapiRequest, message: dict, env: CallEnv) -> dict:
    # Vapi: "hang" is sent when the assistant is hanging due to a delay (model, voice or a tool
    # still waiting for its server). Worth a warning and a mark on the call's row; the call goes on.
    org_id = env.resolve_org()
    if org_id is None or not request.context.call_id:
        log_event("call.hang", logging.WARNING, orgId=org_id, recorded=False)
        return {}
    params: dict[str, Any] = {"p_org_id": org_id, "p_call_id": request.context.call_id}
    at = _message_instant(message)
    if at is not None:  # else the function's default, now()
        params["p_at"] = at.isoformat()
    reply = env.gateway.rpc("mark_call_hang", params)
    log_event("call.hang", logging.WARNING, orgId=org_id, recorded=bool(reply.get("success")),
              hangCount=reply.get("hangCount"))
    return {}


def _transfer_destination_request(request: VapiRequest, message: dict, env: CallEnv) -> dict:
    org_id = env.resolve_org()
    if org_id is None:
        return {"error": speech.transfer_unavailable()}
    reply = env.gateway.rpc("transfer_destination", {"p_org_id": org_id, "p_at": env.now.isoformat()})
    answer = transfer_reply(reply)
    log_event("call.transfer", orgId=org_id, transferred="destination" in answer,
              reason=None if "destination" in answer else (reply.get("reason") or reply.get("error")))
    return answer


_HANDLERS: dict[str, Callable[[VapiRequest, dict, CallEnv], dict | EncodedReply]] = {
    ASSISTANT_REQUEST: _assistant_request,
    END_OF_CALL_REPORT: _end_of_call_report,
    TRANSFER_DESTINATION_REQUEST: _transfer_destination_request,
    STATUS_UPDATE: _status_update,
    HANG: _hang,
}


def refused(message_type: str) -> dict:
    """The answer when nothing may be done (the database did not answer, a bug): Vapi speaks the
    error of an assistant-request or a transfer request; every other message just gets ``{}``."""
    if message_type == ASSISTANT_REQUEST:
        return {"error": speech.unknown_number()}
    if message_type == TRANSFER_DESTINATION_REQUEST:
        return {"error": speech.transfer_unavailable()}
    return {}


def answer(request: VapiRequest, message: dict, env: CallEnv) -> dict | EncodedReply:
    """The reply to one of MESSAGE_TYPES (an assistant-request's already encoded). Never raises: no
    answer from the database, or a bug, still gives Vapi something it can speak (or ``{}``)."""
    try:
        return _HANDLERS[request.message_type](request, message, env)
    except RpcError as error:
        log_event("call.unanswered", logging.ERROR, type=request.message_type, error=type(error).__name__)
        return refused(request.message_type)
    except Exception as exc:  # a bug must still leave the caller with a calm answer
        log_event("call.error", logging.ERROR, type=request.message_type, error=type(exc).__name__)
        return refused(request.message_type)

