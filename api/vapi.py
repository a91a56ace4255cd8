"""The Vapi envelope contract: parse webhook bodies into tool calls, shape replies.

Pure functions over already-decoded JSON; no Flask, no database. Two request shapes:

* ``vapi``: the server-URL body ``{"message": {"type": ..., ...}}``. ``tool-calls`` (and the
  legacy ``function-call``) carry tool calls to answer with :func:`vapi_reply`; every other
  message type is an *event* the webhook only logs and answers with :func:`event_reply`.
* ``v2``: the older route contract ``{"toolCallId", "tool": {"arguments"}, "customer"}``,
  always the ``bookClinicAppointment`` tool, answered with :func:`v2_reply`.

:func:`parse_request` raises only :class:`EnvelopeError`, whatever it is given;
:func:`decode_body` turns raw request bytes into the JSON value it parses (400 on anything
else), and :func:`credential_ids` reads, from a body not yet authenticated, only the ids a
clinic's own webhook secret is chosen by. Every id and short text taken from a body is clamped
here (:func:`clamp_id`) before it can reach an idempotency key, SQL or a log line.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

TOOL_CALLS_TYPE = "tool-calls"
LEGACY_FUNCTION_CALL_TYPE = "function-call"
V2_TOOL_NAME = "bookClinicAppointment"

_UUID_RE = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE | re.ASCII
)

# v2 failure payloads without an "error" code still need one in the reply.
V2_FALLBACK_ERROR = "internal_error"

# Limits on what one request may make the service do (docs/security-requests.md).
# Vapi sends the tool calls of one model turn together, rarely more than two or three.
MAX_TOOL_CALLS_PER_REQUEST = 10
# Real ids are short (Vapi: UUIDs; tool-call ids: ~30 characters). A longer one is replaced by
# "sha256:<hex>" (71 characters): still answered, still distinct for idempotency, never logged
# in full and never beyond PostgreSQL's btree key limit (200 characters are at most 800 bytes).
MAX_ID_LENGTH = 200
MAX_NAME_LENGTH = 100  # tool names (OpenAI caps them at 64)
MAX_PHONE_LENGTH = 64  # longer is not a phone number: treated as absent
MAX_TYPE_LENGTH = 64  # message types, as logged
# A body not yet authenticated is searched for ids with a pruned parse; one that opens more arrays
# than this (each costs ~64 bytes however small: `[[],[],...]`) is not searched at all.
PREAUTH_MAX_ARRAYS = 10_000
_ID_PATH_KEYS = frozenset({"message", "assistant", "call", "phoneNumber", "id", "assistantId", "phoneNumberId"})
# Vapi call types whose `customer.number` comes from the phone network (not webCall, vapi.websocketCall).
PHONE_CALL_TYPES = frozenset({"inboundPhoneCall", "outboundPhoneCall"})
# A \uD800-\uDFFF escape: only then can decoded text hold a lone surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class EnvelopeError(ValueError):
    """The body is not something we can answer; ``reason`` is short and operator-readable."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ToolCall:
    # As sent: echoed in the reply (Vapi matches results by it), never used in keys or logs.
    id: str
    name: str
    # {} when arguments were absent, or arrived as something other than a JSON object.
    arguments: dict[str, Any]

    @property
    def ref(self) -> str:
        """The id as it may appear in idempotency keys and logs (:func:`clamp_id`), "" if none."""
        return clamp_id(self.id) or ""


@dataclass(frozen=True)
class CallContext:
    # Every field is clamped: ids by clamp_id, the caller number to MAX_PHONE_LENGTH.
    # A *claim* from the request body, canonical lowercase UUID text; resolve it server-side.
    claimed_org_id: str | None = None
    assistant_id: str | None = None
    phone_number_id: str | None = None
    caller_number: str | None = None
    call_id: str | None = None


@dataclass(frozen=True)
class VapiRequest:
    kind: Literal["tool-calls", "event"]
    message_type: str
    shape: Literal["vapi", "v2"]
    tool_calls: tuple[ToolCall, ...]
    context: CallContext


@dataclass(frozen=True)
class ToolResult:
    tool_call_id: str
    name: str
    # The facts (success, error, message, alternatives, appointmentId, ...); "message" is the
    # one line the assistant speaks.
    payload: dict[str, Any]


# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------


def decode_body(raw: bytes) -> object:
    """The JSON value of a request body (UTF-8, an optional BOM). Raises :class:`EnvelopeError`:
    ``invalid_encoding`` (not UTF-8, or a lone surrogate such as ``"\\ud800"`` anywhere — text that
    cannot be stored, logged or compared), ``invalid_json``, ``too_deep`` (nesting beyond the
    interpreter's recursion limit, e.g. 100,000 ``[``)."""
    try:
        text = bytes(raw).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise EnvelopeError("invalid_encoding") from None
    try:
        body = json.loads(text)
    except RecursionError:
        raise EnvelopeError("too_deep") from None
    except ValueError:  # JSONDecodeError, and integers beyond the int-digit limit
        raise EnvelopeError("invalid_json") from None
    if _SURROGATE_ESCAPE.search(text):
        # Rare (JSON.stringify writes paired surrogates as UTF-8): check the decoded value.
        try:
            json.dumps(body, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise EnvelopeError("invalid_encoding") from None
        except RecursionError:
            raise EnvelopeError("too_deep") from None
    return body


def credential_ids(raw: bytes) -> tuple[str | None, str | None]:
    """(assistant id, phone-number id) of a body that is NOT yet authenticated — what a clinic's own
    webhook secret is chosen by — found exactly as :func:`parse_request` finds them.

    Bounded: the body is already limited in size; objects are pruned while parsing to the few keys
    on the way to those ids (a body of ``{}``s costs almost nothing), a body opening more than
    :data:`PREAUTH_MAX_ARRAYS` arrays is not searched, and nothing here raises: anything unusable
    is simply (None, None).
    """
    if raw.count(b"[") > PREAUTH_MAX_ARRAYS:
        return None, None
    try:
        body = json.loads(bytes(raw).decode("utf-8-sig"), object_pairs_hook=_only_id_paths)
    except (ValueError, RecursionError):
        return None, None
    message = body.get("message") if isinstance(body, dict) else None
    return _assistant_id(message), _phone_number_id(message)


def _only_id_paths(pairs: list[tuple[str, Any]]) -> dict[str, Any] | None:
    kept = {key: value for key, value in pairs if key in _ID_PATH_KEYS}
    return kept or None


def clamp_id(value: Any) -> str | None:
    """An id as it may reach keys, SQL and logs: NULs dropped (PostgreSQL text cannot hold them),
    trimmed; None when blank or not valid Unicode text (a lone surrogate); longer than
    :data:`MAX_ID_LENGTH` → ``"sha256:" + hex digest`` (distinct ids stay distinct)."""
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    if not value:
        return None
    try:
        encoded = value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    if len(value) > MAX_ID_LENGTH:
        return "sha256:" + hashlib.sha256(encoded).hexdigest()
    return value


def idempotency_key(call_id: str | None, tool_call_id: str | None) -> str | None:
    """The idempotency key of one Vapi tool call: ``vapi:<call id>:<tool call id>``, both clamped
    (:func:`clamp_id`); None without a tool-call id. The only place the format is written: the
    webhook keys bookings with it, tests compare against it, SQL treats the key as opaque text.

    Vapi generates a fresh id per tool call, so a repeated one is a retry of the same booking.
    """
    tool_call_ref = clamp_id(tool_call_id)
    if not tool_call_ref:
        return None
    return f"vapi:{clamp_id(call_id) or ''}:{tool_call_ref}"


def v2_idempotency_key(header_value: str | None) -> str | None:
    """The v2 route's key, from the client's ``Idempotency-Key`` header (clamped); None without one."""
    header_key = clamp_id(header_value)
    return f"v2:{header_key}" if header_key else None


def parse_request(body: object) -> VapiRequest:
    """Classify and normalise a decoded webhook body. Raises only :class:`EnvelopeError`."""
    if not isinstance(body, dict):
        raise EnvelopeError("body_not_object")

    if "message" in body:
        message = body["message"]
        if not isinstance(message, dict):
            raise EnvelopeError("message_not_object")
        return _parse_vapi_message(body, message)

    if "tool" in body or "toolCallId" in body:
        return _parse_v2(body)

    raise EnvelopeError("unrecognized_body")


def _parse_vapi_message(body: dict[str, Any], message: dict[str, Any]) -> VapiRequest:
    message_type = message.get("type")
    if not isinstance(message_type, str) or not message_type:
        raise EnvelopeError("message_type_missing")
    message_type = message_type[:MAX_TYPE_LENGTH]

    context = _context(body, message)

    if message_type == TOOL_CALLS_TYPE:
        # Calls beyond the limit are refused unanswered: their arguments are not even decoded.
        tool_calls = tuple(_tool_call_from_item(item, decode=index < MAX_TOOL_CALLS_PER_REQUEST)
                           for index, item in enumerate(_tool_call_items(message)))
    elif message_type == LEGACY_FUNCTION_CALL_TYPE:
        tool_calls = (_legacy_function_call(message, context),)
    else:
        return VapiRequest(
            kind="event", message_type=message_type, shape="vapi", tool_calls=(), context=context
        )

    return VapiRequest(
        kind="tool-calls",
        message_type=message_type,
        shape="vapi",
        tool_calls=tool_calls,
        context=context,
    )


def _tool_call_items(message: dict[str, Any]) -> list[Any]:
    """The list of tool-call items: ``toolCallList``, else ``toolCalls``, else the ``toolCall``
    of each ``toolWithToolCallList`` entry. The first key present and not null decides."""
    for key in ("toolCallList", "toolCalls"):
        items = message.get(key)
        if items is not None:
            if not isinstance(items, list):
                raise EnvelopeError(f"{key}_not_list")
            return items

    with_tools = message.get("toolWithToolCallList")
    if with_tools is not None:
        if not isinstance(with_tools, list):
            raise EnvelopeError("toolWithToolCallList_not_list")
        return [entry.get("toolCall") if isinstance(entry, dict) else entry for entry in with_tools]

    raise EnvelopeError("tool_calls_missing")


def _tool_call_from_item(item: Any, decode: bool = True) -> ToolCall:
    # A call we cannot even attribute an id to cannot be answered; refuse the whole body
    # rather than silently dropping it.
    if not isinstance(item, dict):
        raise EnvelopeError("tool_call_not_object")

    function = item.get("function")
    if isinstance(function, dict):
        name = _first_str(function.get("name"), item.get("name"))
        raw_arguments = function.get("arguments", item.get("arguments"))
    else:  # flattened item: {"id", "name", "arguments"}
        name = _first_str(item.get("name"))
        raw_arguments = item.get("arguments")

    arguments = _decode_arguments(raw_arguments) if decode else {}
    return ToolCall(id=_coerce_id(item.get("id")), name=name, arguments=arguments)


def _legacy_function_call(message: dict[str, Any], context: CallContext) -> ToolCall:
    function_call = message.get("functionCall")
    if not isinstance(function_call, dict):
        raise EnvelopeError("functionCall_not_object")

    # The legacy shape has no tool-call id; the call id is the best stable stand-in, "" if none.
    call_id = _coerce_id(function_call.get("id")) or (context.call_id or "")
    raw_arguments = function_call.get("parameters", function_call.get("arguments"))
    return ToolCall(id=call_id, name=_first_str(function_call.get("name")),
                    arguments=_decode_arguments(raw_arguments))


def _parse_v2(body: dict[str, Any]) -> VapiRequest:
    tool = body.get("tool")
    if not isinstance(tool, dict):
        raise EnvelopeError("v2_tool_not_object")

    function = tool.get("function")
    function = function if isinstance(function, dict) else {}
    name = _first_str(tool.get("name"), function.get("name")) or V2_TOOL_NAME
    raw_arguments = tool["arguments"] if "arguments" in tool else function.get("arguments")
    call = ToolCall(id=_coerce_id(body.get("toolCallId")), name=name,
                    arguments=_decode_arguments(raw_arguments))
    return VapiRequest(
        kind="tool-calls",
        message_type=TOOL_CALLS_TYPE,
        shape="v2",
        tool_calls=(call,),
        context=_context(body, {}),
    )


def _decode_arguments(raw: Any) -> dict[str, Any]:
    """Arguments as an object or a JSON string of one; anything else (absent, "", not JSON, not an
    object) is ``{}``, so every required argument is re-asked."""
    if isinstance(raw, dict):
        return dict(raw)
    if isinstance(raw, str) and raw.strip():
        try:
            decoded = json.loads(raw)
        # RecursionError: deeply nested "[[[[..." strings; ValueError covers JSONDecodeError
        # and the int-digit limit.
        except (ValueError, RecursionError):
            return {}
        if isinstance(decoded, dict):
            return decoded
    return {}


def _context(body: dict[str, Any], message: dict[str, Any]) -> CallContext:
    claim_sources = (
        _dig(message, "customer", "metadata"),
        _dig(body, "customer", "metadata"),  # v2 shape
        _dig(message, "assistant", "metadata"),
        _dig(message, "call", "assistantOverrides", "metadata"),
    )
    claimed_org_id = None
    for metadata in claim_sources:
        if isinstance(metadata, dict):
            claimed_org_id = first_uuid(metadata.get("org_id"), metadata.get("orgId"))
            if claimed_org_id is not None:
                break

    # A caller ID only where the phone network gave it: a web chat (`message.chat`, started with the
    # clinic's public key) or a web / websocket call carries a `customer.number` its client chose.
    caller_number = _first_nonblank(
        _dig(message, "call", "customer", "number"), _dig(message, "customer", "number")
    ) if _phone_call(message) else None
    return CallContext(
        claimed_org_id=claimed_org_id,
        assistant_id=_assistant_id(message),
        phone_number_id=_phone_number_id(message),
        caller_number=caller_number if caller_number and len(caller_number) <= MAX_PHONE_LENGTH else None,
        call_id=clamp_id(_first_nonblank(_dig(message, "call", "id"))),
    )


def _phone_call(message: dict[str, Any]) -> bool:
    """Is this message from a phone call (so `customer.number` is the network's caller ID)? Vapi
    always sends `call.type`; a message without one (tests, the operator commands) counts as a
    phone call, one with a chat or any other type does not."""
    if message.get("chat") is not None:
        return False
    call_type = _dig(message, "call", "type")
    return call_type is None or (isinstance(call_type, str) and call_type in PHONE_CALL_TYPES)


# The clinic's ids, read the same way from a parsed and from a pruned (pre-auth) message.
def _assistant_id(message: Any) -> str | None:
    return clamp_id(_first_nonblank(_dig(message, "assistant", "id"), _dig(message, "call", "assistantId")))


def _phone_number_id(message: Any) -> str | None:
    return clamp_id(_first_nonblank(_dig(message, "phoneNumber", "id"), _dig(message, "call", "phoneNumberId")))


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _coerce_id(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return str(value)
        except ValueError:  # beyond sys.get_int_max_str_digits()
            return ""
    return ""


def _first_str(*values: Any) -> str:
    """The first non-empty string (tool names: clamped to MAX_NAME_LENGTH), "" if none."""
    for value in values:
        if isinstance(value, str) and value:
            return value[:MAX_NAME_LENGTH]
    return ""


def _first_nonblank(*values: Any) -> str | None:
    for value in values:
        if isinstance(value, str) and value.replace("\x00", "").strip():
            return value.replace("\x00", "").strip()  # PostgreSQL text cannot hold U+0000
    return None


def first_uuid(*values: Any) -> str | None:
    """The first value that is a UUID, canonical lower-case; None if there is none.

    Ids are passed to uuid-typed SQL parameters; a malformed one is treated as absent so it
    cannot turn into a database error.
    """
    for value in values:
        if isinstance(value, str) and _UUID_RE.fullmatch(value.strip()):
            return value.strip().lower()
    return None


# ---------------------------------------------------------------------------------------------
# Replies
# ---------------------------------------------------------------------------------------------


def event_reply() -> dict[str, Any]:
    """Reply to an event (status-update, end-of-call-report, ...): an empty object."""
    return {}


def vapi_reply(results: list[ToolResult]) -> dict[str, Any]:
    """``{"results": [{"toolCallId", "name", "result"}]}`` in the given (call) order.

    ``result`` is the payload as compact single-line JSON. Raises TypeError/ValueError for a
    payload that is not plain JSON (e.g. datetime, NaN): that is a programming error.
    """
    return {
        "results": [
            {"toolCallId": r.tool_call_id, "name": r.name, "result": single_line_json(r.payload)}
            for r in results
        ]
    }


def single_line_json(payload: Any) -> str:
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    # json.dumps escapes control characters, but with ensure_ascii=False it leaves NEL and the
    # Unicode line/paragraph separators raw; str.splitlines() (and some TTS/log pipelines) break
    # on them. They can only occur inside string literals, where the escape decodes identically.
    return text.replace("\x85", "\\u0085").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def v2_reply(result: ToolResult) -> dict[str, Any]:
    """``{"toolCallId", "result": {...}}`` for the v2 route, documented keys only, stable order:
    success, appointmentId (success), error (failure), message, alternatives (failure)."""
    payload = result.payload
    success = payload.get("success") is True
    shaped: dict[str, Any] = {"success": success}
    if success:
        shaped["appointmentId"] = payload.get("appointmentId")
    else:
        error = payload.get("error")
        shaped["error"] = error if isinstance(error, str) and error else V2_FALLBACK_ERROR
    message = payload.get("message")
    shaped["message"] = message if isinstance(message, str) else ""
    if not success:
        alternatives = payload.get("alternatives")
        is_list = isinstance(alternatives, (list, tuple))
        shaped["alternatives"] = list(alternatives) if is_list else []
    return {"toolCallId": result.tool_call_id, "result": shaped}
