"""The Vapi envelope contract: api/vapi.py."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.vapi import (
    CallContext,
    EnvelopeError,
    ToolCall,
    ToolResult,
    VapiRequest,
    event_reply,
    parse_request,
    single_line_json,
    v2_reply,
    vapi_reply,
)

BOOK = "bookClinicAppointment"
ORG_A = "11111111-1111-4111-8111-111111111111"
ORG_B = "22222222-2222-4222-8222-222222222222"
ORG_C = "33333333-3333-4333-8333-333333333333"
ORG_D = "44444444-4444-4444-8444-444444444444"

BOOKING_ARGS = {
    "appointmentDate": "2026-03-20",
    "appointmentTime": "14:30",
    "patientName": "Ada Lovelace",
    "patientPhone": "+14155550123",
    "serviceType": "cleaning",
}


def tool_calls_body(*items: Any, **message_extra: Any) -> dict[str, Any]:
    return {"message": {"type": "tool-calls", "toolCallList": list(items), **message_extra}}


def function_item(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def full_vapi_body() -> dict[str, Any]:
    item = function_item("call_abc", "bookClinicAppointment", BOOKING_ARGS)
    return {
        "message": {
            "type": "tool-calls",
            "toolCallList": [item],
            "toolWithToolCallList": [
                {"type": "function", "function": {"name": "bookClinicAppointment"}, "toolCall": item}
            ],
            "call": {
                "id": "vapi-call-1",
                "customer": {"number": "+14155550123"},
                "assistantId": "asst-from-call",
                "phoneNumberId": "pn-from-call",
                "assistantOverrides": {"metadata": {"org_id": ORG_D}},
            },
            "assistant": {"id": "asst-1", "metadata": {"org_id": ORG_C}},
            "phoneNumber": {"id": "pn-1", "number": "+18005550100"},
            "customer": {"number": "+14155550999", "metadata": {"org_id": ORG_A}},
        }
    }


def v2_body(arguments: Any = None, **extra: Any) -> dict[str, Any]:
    return {
        "toolCallId": "call-123",
        "tool": {"arguments": BOOKING_ARGS if arguments is None else arguments},
        "customer": {"metadata": {"org_id": ORG_A}},
        **extra,
    }


# --------------------------------------------------------------------------------------------
# tool-calls
# --------------------------------------------------------------------------------------------


def test_full_tool_calls_body() -> None:
    request = parse_request(full_vapi_body())
    assert request == VapiRequest(
        kind="tool-calls",
        message_type="tool-calls",
        shape="vapi",
        tool_calls=(ToolCall("call_abc", "bookClinicAppointment", BOOKING_ARGS),),
        context=CallContext(
            claimed_org_id=ORG_A,
            assistant_id="asst-1",
            phone_number_id="pn-1",
            caller_number="+14155550123",
            call_id="vapi-call-1",
        ),
    )


def test_tool_calls_keep_call_order() -> None:
    body = tool_calls_body(
        function_item("c1", "checkAvailability", {"date": "2026-03-20"}),
        function_item("c2", "bookClinicAppointment", "{}"),
        function_item("c3", "cancelAppointment", {"appointmentId": "x"}),
    )
    request = parse_request(body)
    assert [(c.id, c.name) for c in request.tool_calls] == [
        ("c1", "checkAvailability"),
        ("c2", "bookClinicAppointment"),
        ("c3", "cancelAppointment"),
    ]


@pytest.mark.parametrize(
    ("raw_arguments", "expected_arguments"),
    [
        (BOOKING_ARGS, BOOKING_ARGS),
        (json.dumps(BOOKING_ARGS), BOOKING_ARGS),
        ('{"a": 1}', {"a": 1}),
        ("", {}),
        ("   ", {}),
        (None, {}),
        ({}, {}),
        ("{not json", {}),
        ("[1, 2]", {}),
        ('"just a string"', {}),
        ("42", {}),
        ("null", {}),
        ("[" * 100_000, {}),  # deep nesting: RecursionError inside json
        (["a"], {}),
        (7, {}),
        (True, {}),
    ],
)
def test_arguments_decoding(raw_arguments: Any, expected_arguments: dict) -> None:
    (call,) = parse_request(tool_calls_body(function_item("c1", "f", raw_arguments))).tool_calls
    assert call.arguments == expected_arguments


def test_missing_arguments_key_is_empty() -> None:
    body = tool_calls_body({"id": "c1", "type": "function", "function": {"name": "f"}})
    assert parse_request(body).tool_calls == (ToolCall("c1", "f", {}),)


def test_arguments_dict_is_copied() -> None:
    arguments = {"a": 1}
    (call,) = parse_request(tool_calls_body(function_item("c1", "f", arguments))).tool_calls
    arguments["a"] = 2
    assert call.arguments == {"a": 1}


@pytest.mark.parametrize(
    ("raw_id", "expected_id"),
    [("call_abc", "call_abc"), (12, "12"), (0, "0"), (None, ""), (True, ""), (1.5, ""), ({}, ""), ("", "")],
)
def test_tool_call_id_coercion(raw_id: Any, expected_id: str) -> None:
    (call,) = parse_request(tool_calls_body(function_item(raw_id, "f", {}))).tool_calls
    assert call.id == expected_id


@pytest.mark.parametrize(("raw_name", "expected_name"), [("f", "f"), (None, ""), (3, ""), (["f"], "")])
def test_tool_name_coercion(raw_name: Any, expected_name: str) -> None:
    (call,) = parse_request(tool_calls_body(function_item("c1", raw_name, {}))).tool_calls
    assert call.name == expected_name


def test_missing_id_and_name() -> None:
    body = tool_calls_body({"function": {"arguments": {"x": 1}}})
    assert parse_request(body).tool_calls == (ToolCall("", "", {"x": 1}),)


def test_tool_calls_key_variant() -> None:
    body = {"message": {"type": "tool-calls", "toolCalls": [function_item("c1", "f", '{"a":1}')]}}
    assert parse_request(body).tool_calls == (ToolCall("c1", "f", {"a": 1}),)


def test_tool_call_list_wins_over_tool_calls() -> None:
    body = tool_calls_body(function_item("c1", "f", {}), toolCalls=[function_item("c2", "g", {})])
    assert [c.id for c in parse_request(body).tool_calls] == ["c1"]


def test_tool_with_tool_call_list_fallback() -> None:
    body = {
        "message": {
            "type": "tool-calls",
            "toolWithToolCallList": [
                {"type": "function", "toolCall": function_item("c9", "f", '{"b": 2}')}
            ],
        }
    }
    assert parse_request(body).tool_calls == (ToolCall("c9", "f", {"b": 2}),)


@pytest.mark.parametrize(
    "item",
    [
        {"id": "c1", "name": "f", "arguments": {"a": 1}},
        {"id": "c1", "name": "f", "arguments": '{"a": 1}'},
        {"id": "c1", "type": "function", "name": "f", "arguments": '{"a":1}'},
        {"id": "c1", "function": {"arguments": {"a": 1}}, "name": "f"},  # name only at item level
        {"id": "c1", "function": {"name": "f"}, "arguments": {"a": 1}},  # args only at item level
    ],
)
def test_flattened_items(item: dict[str, Any]) -> None:
    assert parse_request(tool_calls_body(item)).tool_calls == (ToolCall("c1", "f", {"a": 1}),)


def test_empty_tool_call_list_is_answerable() -> None:
    request = parse_request(tool_calls_body())
    assert request.kind == "tool-calls"
    assert request.tool_calls == ()
    assert vapi_reply([]) == {"results": []}


# --------------------------------------------------------------------------------------------
# legacy function-call
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("function_call", "call", "expected"),
    [
        (
            {"name": "bookClinicAppointment", "parameters": BOOKING_ARGS},
            {"id": "vapi-call-7"},
            ToolCall("vapi-call-7", "bookClinicAppointment", BOOKING_ARGS),
        ),
        (
            {"name": "f", "parameters": '{"a": 1}'},
            None,
            ToolCall("", "f", {"a": 1}),
        ),
        (
            {"name": "f", "parameters": "oops"},
            {"id": "vapi-call-7"},
            ToolCall("vapi-call-7", "f", {}),
        ),
        (
            {"id": "fc-1", "name": "f", "arguments": {"a": 1}},
            {"id": "vapi-call-7"},
            ToolCall("fc-1", "f", {"a": 1}),
        ),
    ],
)
def test_legacy_function_call(function_call: dict, call: dict | None, expected: ToolCall) -> None:
    message: dict[str, Any] = {"type": "function-call", "functionCall": function_call}
    if call is not None:
        message["call"] = call
    request = parse_request({"message": message})
    assert request.kind == "tool-calls"
    assert request.message_type == "function-call"
    assert request.shape == "vapi"
    assert request.tool_calls == (expected,)


# --------------------------------------------------------------------------------------------
# events
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message_type",
    [
        "status-update",
        "end-of-call-report",
        "conversation-update",
        "speech-update",
        "hang",
        "transcript",
        "assistant-request",
        "something-new-from-vapi",
    ],
)
def test_events(message_type: str) -> None:
    body = {"message": {"type": message_type, "call": {"id": "vapi-call-1"}, "toolCallList": "junk"}}
    request = parse_request(body)
    assert request == VapiRequest(
        kind="event",
        message_type=message_type,
        shape="vapi",
        tool_calls=(),
        context=CallContext(call_id="vapi-call-1"),
    )
    assert event_reply() == {}


def test_event_reply_is_fresh() -> None:
    reply = event_reply()
    reply["x"] = 1
    assert event_reply() == {}


# --------------------------------------------------------------------------------------------
# v2 route
# --------------------------------------------------------------------------------------------


def test_v2_body() -> None:
    assert parse_request(v2_body()) == VapiRequest(
        kind="tool-calls",
        message_type="tool-calls",
        shape="v2",
        tool_calls=(ToolCall("call-123", "bookClinicAppointment", BOOKING_ARGS),),
        context=CallContext(claimed_org_id=ORG_A),
    )


@pytest.mark.parametrize(
    ("tool", "expected"),
    [
        ({"arguments": json.dumps(BOOKING_ARGS)}, ToolCall("call-123", BOOK, BOOKING_ARGS)),
        ({"arguments": "nope"}, ToolCall("call-123", BOOK, {})),
        ({"name": BOOK, "arguments": {}}, ToolCall("call-123", BOOK, {})),
        ({"function": {"name": "other", "arguments": {"a": 1}}}, ToolCall("call-123", "other", {"a": 1})),
        ({}, ToolCall("call-123", BOOK, {})),
    ],
)
def test_v2_tool_variants(tool: dict, expected: ToolCall) -> None:
    body = {"toolCallId": "call-123", "tool": tool}
    assert parse_request(body).tool_calls == (expected,)


def test_v2_int_tool_call_id() -> None:
    assert parse_request({"toolCallId": 5, "tool": {}}).tool_calls[0].id == "5"


# --------------------------------------------------------------------------------------------
# envelope errors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (None, "body_not_object"),
        ([], "body_not_object"),
        ("tool-calls", "body_not_object"),
        (42, "body_not_object"),
        ({}, "unrecognized_body"),
        ({"foo": 1}, "unrecognized_body"),
        ({"message": None}, "message_not_object"),
        ({"message": "hi"}, "message_not_object"),
        ({"message": {}}, "message_type_missing"),
        ({"message": {"type": 3}}, "message_type_missing"),
        ({"message": {"type": ""}}, "message_type_missing"),
        ({"message": {"type": "tool-calls"}}, "tool_calls_missing"),
        ({"message": {"type": "tool-calls", "toolCallList": None}}, "tool_calls_missing"),
        ({"message": {"type": "tool-calls", "toolCallList": {"id": "c1"}}}, "toolCallList_not_list"),
        ({"message": {"type": "tool-calls", "toolCalls": "x"}}, "toolCalls_not_list"),
        ({"message": {"type": "tool-calls", "toolWithToolCallList": 1}}, "toolWithToolCallList_not_list"),
        ({"message": {"type": "tool-calls", "toolCallList": ["c1"]}}, "tool_call_not_object"),
        ({"message": {"type": "tool-calls", "toolWithToolCallList": [{}]}}, "tool_call_not_object"),
        ({"message": {"type": "function-call"}}, "functionCall_not_object"),
        ({"toolCallId": "call-123"}, "v2_tool_not_object"),
        ({"toolCallId": "call-123", "tool": "book"}, "v2_tool_not_object"),
    ],
)
def test_envelope_errors(body: Any, reason: str) -> None:
    with pytest.raises(EnvelopeError) as excinfo:
        parse_request(body)
    assert excinfo.value.reason == reason
    assert isinstance(excinfo.value, ValueError)


# --------------------------------------------------------------------------------------------
# context
# --------------------------------------------------------------------------------------------


def _with_claims(
    customer: Any = None, v2_customer: Any = None, assistant: Any = None, overrides: Any = None
) -> dict[str, Any]:
    body = tool_calls_body()
    message = body["message"]
    if customer is not None:
        message["customer"] = {"metadata": customer}
    if assistant is not None:
        message["assistant"] = {"metadata": assistant}
    if overrides is not None:
        message["call"] = {"assistantOverrides": {"metadata": overrides}}
    if v2_customer is not None:
        body["customer"] = {"metadata": v2_customer}
    return body


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        (
            dict(
                customer={"org_id": ORG_A},
                v2_customer={"org_id": ORG_B},
                assistant={"org_id": ORG_C},
                overrides={"org_id": ORG_D},
            ),
            ORG_A,
        ),
        (dict(v2_customer={"org_id": ORG_B}, assistant={"org_id": ORG_C}, overrides={"org_id": ORG_D}), ORG_B),
        (dict(assistant={"org_id": ORG_C}, overrides={"org_id": ORG_D}), ORG_C),
        (dict(overrides={"org_id": ORG_D}), ORG_D),
        (dict(overrides={"orgId": ORG_D}), ORG_D),
        (dict(customer={"org_id": ORG_A, "orgId": ORG_B}), ORG_A),
        (dict(customer={"org_id": 7, "orgId": ORG_B}), ORG_B),
        # Present but unusable claims are skipped, not fatal.
        (dict(customer={"org_id": 123}, assistant={"org_id": ORG_C}), ORG_C),
        (dict(customer={"org_id": "not-a-uuid"}, assistant={"org_id": ORG_C}), ORG_C),
        (dict(customer={"org_id": ""}, overrides={"org_id": ORG_D}), ORG_D),
        (dict(customer="metadata-as-string", overrides={"org_id": ORG_D}), ORG_D),
        (dict(customer={"org_id": f"  {ORG_A.upper()} "}), ORG_A),
        (dict(customer={"org_id": "{" + ORG_A + "}"}), None),
        (dict(customer={"org_id": None}), None),
        ({}, None),
    ],
)
def test_claimed_org_precedence(claims: dict[str, Any], expected: str | None) -> None:
    assert parse_request(_with_claims(**claims)).context.claimed_org_id == expected


@pytest.mark.parametrize(
    ("message_extra", "expected"),
    [
        (
            {
                "assistant": {"id": "asst-1"},
                "phoneNumber": {"id": "pn-1"},
                "customer": {"number": "+14155550999"},
                "call": {
                    "id": "call-1",
                    "assistantId": "asst-2",
                    "phoneNumberId": "pn-2",
                    "customer": {"number": "+14155550123"},
                },
            },
            CallContext(None, "asst-1", "pn-1", "+14155550123", "call-1"),
        ),
        (
            {
                "customer": {"number": "+14155550999"},
                "call": {"assistantId": "asst-2", "phoneNumberId": "pn-2"},
            },
            CallContext(None, "asst-2", "pn-2", "+14155550999", None),
        ),
        (
            {"assistant": {"id": 5}, "phoneNumber": {"id": ""}, "call": {"id": ["x"], "customer": None}},
            CallContext(),
        ),
        ({"assistant": "asst", "phoneNumber": [], "call": "call-1", "customer": 1}, CallContext()),
    ],
)
def test_context_fields(message_extra: dict[str, Any], expected: CallContext) -> None:
    assert parse_request(tool_calls_body(**message_extra)).context == expected


# --------------------------------------------------------------------------------------------
# replies
# --------------------------------------------------------------------------------------------


def test_vapi_reply_shape_and_order() -> None:
    results = [
        ToolResult("c2", "bookClinicAppointment", {"success": True, "appointmentId": "a1", "message": "Booked."}),
        ToolResult("c1", "checkAvailability", {"success": True, "slots": [], "message": "Nothing free."}),
    ]
    assert vapi_reply(results) == {
        "results": [
            {
                "toolCallId": "c2",
                "name": "bookClinicAppointment",
                "result": '{"success":true,"appointmentId":"a1","message":"Booked."}',
            },
            {
                "toolCallId": "c1",
                "name": "checkAvailability",
                "result": '{"success":true,"slots":[],"message":"Nothing free."}',
            },
        ]
    }


@pytest.mark.parametrize(
    "message",
    [
        "line one\nline two",
        "carriage\r\nreturn",
        "tab\there",
        "nel\x85x",
        "ls\u2028ps\u2029",
        "vt\x0bff\x0c",
        "fs\x1cgs\x1drs\x1e",
    ],
)
def test_vapi_reply_result_is_single_line(message: str) -> None:
    payload = {"success": False, "error": "slot_unavailable", "message": message, "alternatives": []}
    (entry,) = vapi_reply([ToolResult("c1", "f", payload)])["results"]
    assert "\n" not in entry["result"] and "\r" not in entry["result"]
    assert entry["result"].splitlines() == [entry["result"]]
    assert json.loads(entry["result"]) == payload


def test_vapi_reply_keeps_non_ascii_readable() -> None:
    assert single_line_json({"message": "Café à 14h"}) == '{"message":"Café à 14h"}'


@pytest.mark.parametrize("payload", [{"when": float("nan")}, {"when": object()}])
def test_vapi_reply_rejects_non_json_payloads(payload: dict) -> None:
    with pytest.raises((TypeError, ValueError)):
        vapi_reply([ToolResult("c1", "f", payload)])


@pytest.mark.parametrize(
    ("payload", "expected_result"),
    [
        (
            {
                "success": True,
                "appointmentId": "apt-1",
                "contactId": "lead-1",
                "message": "Booking confirmed successfully",
                "scheduledAt": "2026-03-20T14:30:00Z",
                "replayed": False,
            },
            {"success": True, "appointmentId": "apt-1", "message": "Booking confirmed successfully"},
        ),
        (
            {
                "success": False,
                "error": "slot_unavailable",
                "alternatives": ["2026-03-20T15:00:00Z"],
                "message": "Slot taken, alternatives available",
                "timezone": "America/New_York",
            },
            {
                "success": False,
                "error": "slot_unavailable",
                "message": "Slot taken, alternatives available",
                "alternatives": ["2026-03-20T15:00:00Z"],
            },
        ),
        (
            {"success": False, "error": "invalid_input", "message": "Phone is not valid"},
            {"success": False, "error": "invalid_input", "message": "Phone is not valid", "alternatives": []},
        ),
        ({"success": False}, {"success": False, "error": "internal_error", "message": "", "alternatives": []}),
        (
            {"success": "yes", "message": 5},
            {"success": False, "error": "internal_error", "message": "", "alternatives": []},
        ),
        ({"success": True, "message": "ok"}, {"success": True, "appointmentId": None, "message": "ok"}),
    ],
)
def test_v2_reply(payload: dict[str, Any], expected_result: dict[str, Any]) -> None:
    reply = v2_reply(ToolResult("call-123", "bookClinicAppointment", payload))
    assert reply == {"toolCallId": "call-123", "result": expected_result}
    assert list(reply) == ["toolCallId", "result"]
    assert list(reply["result"]) == list(expected_result)  # stable key order


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=25,
)
# Keys the parser looks at, so random dictionaries hit interesting branches.
interesting_keys = st.sampled_from(
    [
        "message", "type", "toolCallList", "toolCalls", "toolWithToolCallList", "toolCall", "function",
        "functionCall", "name", "arguments", "parameters", "id", "call", "customer", "metadata", "org_id",
        "orgId", "assistant", "assistantOverrides", "assistantId", "phoneNumber", "phoneNumberId", "number",
        "tool", "toolCallId",
    ]
)
interesting_strings = st.sampled_from(
    ["tool-calls", "function-call", "status-update", "{", "{}", '{"a":1}', "", ORG_A]
)
tricky_values = st.recursive(
    json_scalars | interesting_strings,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(interesting_keys | st.text(max_size=5), children, max_size=5),
    max_leaves=30,
)


def _assert_well_formed(request: VapiRequest) -> None:
    assert request.kind in ("tool-calls", "event")
    assert request.shape in ("vapi", "v2")
    assert isinstance(request.message_type, str) and request.message_type
    for call in request.tool_calls:
        assert isinstance(call.id, str)
        assert isinstance(call.name, str)
        assert isinstance(call.arguments, dict)
    context = request.context
    for value in (
        context.claimed_org_id,
        context.assistant_id,
        context.phone_number_id,
        context.caller_number,
        context.call_id,
    ):
        assert value is None or (isinstance(value, str) and value)
    if request.kind == "event":
        assert request.tool_calls == ()


def _parse_or_envelope_error(body: Any) -> VapiRequest | None:
    try:
        request = parse_request(body)
    except EnvelopeError as error:
        assert isinstance(error.reason, str) and error.reason
        return None
    _assert_well_formed(request)
    return request


@settings(max_examples=400)
@given(json_values)
def test_parse_arbitrary_json_raises_only_envelope_error(body: Any) -> None:
    _parse_or_envelope_error(body)


@settings(max_examples=400)
@given(tricky_values)
def test_parse_tricky_json_raises_only_envelope_error(body: Any) -> None:
    _parse_or_envelope_error(body)
    _parse_or_envelope_error({"message": body})
    _parse_or_envelope_error({"message": {"type": "tool-calls", "toolCallList": body}})
    _parse_or_envelope_error({"tool": body, "toolCallId": body, "customer": body})


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    paths = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            paths.extend(_paths(child, prefix + (key,)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            paths.extend(_paths(child, prefix + (index,)))
    return paths


def _perturb(body: Any, path: tuple, replacement: Any, delete: bool) -> Any:
    if not path:
        return replacement
    body = copy.deepcopy(body)
    parent = body
    for step in path[:-1]:
        parent = parent[step]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    return body


valid_envelopes = st.sampled_from(
    [
        full_vapi_body(),
        v2_body(),
        tool_calls_body({"id": "c1", "name": "f", "arguments": '{"a": 1}'}),
        {"message": {"type": "function-call", "functionCall": {"name": "f", "parameters": {}}, "call": {"id": "x"}}},
        {"message": {"type": "status-update", "status": "ended", "call": {"id": "x"}}},
    ]
)


@settings(max_examples=500)
@given(valid_envelopes, st.data())
def test_parse_perturbed_envelopes_raises_only_envelope_error(body: dict, data: st.DataObject) -> None:
    for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
        path = data.draw(st.sampled_from(_paths(body)))
        replacement = data.draw(tricky_values)
        body = _perturb(body, path, replacement, delete=data.draw(st.booleans()))
    _parse_or_envelope_error(body)


@given(st.dictionaries(st.text(max_size=12), json_values, max_size=6), json_values)
def test_arguments_as_dict_or_json_string_are_equivalent(arguments: dict, call_id: Any) -> None:
    as_dict = parse_request(tool_calls_body(function_item(call_id, "f", arguments)))
    as_string = parse_request(tool_calls_body(function_item(call_id, "f", json.dumps(arguments))))
    assert as_dict == as_string
    assert as_dict.tool_calls[0].arguments == arguments


@given(st.text())
def test_an_arguments_string_is_used_only_when_it_is_a_json_object(text: str) -> None:
    (call,) = parse_request(tool_calls_body(function_item("c1", "f", text))).tool_calls
    try:
        decoded = json.loads(text)
    except ValueError:
        decoded = None
    assert call.arguments == (decoded if isinstance(decoded, dict) else {})


json_payloads = st.dictionaries(st.text(), json_values, max_size=6)


@given(st.lists(st.tuples(st.text(), st.text(), json_payloads), max_size=5))
def test_vapi_reply_single_line_round_trip_in_order(entries: list[tuple[str, str, dict]]) -> None:
    results = [ToolResult(call_id, name, payload) for call_id, name, payload in entries]
    reply = vapi_reply(results)
    assert [(r["toolCallId"], r["name"]) for r in reply["results"]] == [(i, n) for i, n, _ in entries]
    for rendered, (_, _, payload) in zip(reply["results"], entries):
        assert rendered["result"].splitlines() == [rendered["result"]]
        assert json.loads(rendered["result"]) == payload


# --------------------------------------------------------------------------------------------
# Raw bodies, pre-auth ids, clamping (docs/security-requests.md)
# --------------------------------------------------------------------------------------------

from api.vapi import (  # noqa: E402
    MAX_ID_LENGTH,
    MAX_TOOL_CALLS_PER_REQUEST,
    PREAUTH_MAX_ARRAYS,
    clamp_id,
    credential_ids,
    decode_body,
)


@pytest.mark.parametrize(("value", "expected"), [
    ("asst-1", "asst-1"),
    ("  asst-1 \x00", "asst-1"),
    ("", None), ("   ", None), ("\x00", None), (None, None), (5, None),
    ("\ud800", None),  # not valid Unicode text: nothing to look up, store or log
    ("x" * MAX_ID_LENGTH, "x" * MAX_ID_LENGTH),
])
def test_clamp_id(value: Any, expected: str | None) -> None:
    assert clamp_id(value) == expected


def test_clamp_id_hashes_long_ids_keeping_them_distinct() -> None:
    a, b = clamp_id("x" * 8191 + "a"), clamp_id("x" * 8191 + "b")
    assert a.startswith("sha256:") and len(a) == 71 and a != b
    assert clamp_id("x" * 8191 + "a") == a


def test_context_ids_are_clamped() -> None:
    body = tool_calls_body(function_item("t" * 300, "f", {}), call={"id": "c" * 300, "customer": {"number": "1" * 65}},
                           assistant={"id": "a" * 201}, phoneNumber={"id": "p" * 200})
    request = parse_request(body)
    assert request.context.call_id.startswith("sha256:") and request.context.assistant_id.startswith("sha256:")
    assert request.context.phone_number_id == "p" * 200 and request.context.caller_number is None
    assert request.tool_calls[0].id == "t" * 300  # echoed as sent
    assert request.tool_calls[0].ref.startswith("sha256:")


def test_arguments_beyond_the_tool_call_limit_are_not_decoded() -> None:
    items = [function_item(f"c{n}", "f", '{"n": %d}' % n) for n in range(MAX_TOOL_CALLS_PER_REQUEST + 2)]
    calls = parse_request(tool_calls_body(*items)).tool_calls
    assert [c.arguments for c in calls] == [{"n": n} for n in range(MAX_TOOL_CALLS_PER_REQUEST)] + [{}, {}]


def test_long_names_and_types_are_clamped() -> None:
    request = parse_request(tool_calls_body(function_item("c1", "n" * 5000, {})))
    assert request.tool_calls[0].name == "n" * 100
    assert parse_request({"message": {"type": "e" * 5000}}).message_type == "e" * 64


def test_credential_ids_match_the_parsed_context() -> None:
    raw = json.dumps(full_vapi_body()).encode()
    context = parse_request(decode_body(raw)).context
    assert credential_ids(raw) == (context.assistant_id, context.phone_number_id) == ("asst-1", "pn-1")
    only_call = json.dumps(tool_calls_body(call={"assistantId": "a-2", "phoneNumberId": "p-2"})).encode()
    assert credential_ids(only_call) == ("a-2", "p-2")


@pytest.mark.parametrize("raw", [
    b"", b"not json", b"[" * 100_000, b"\xff", b'{"message": []}', b"[]",
    b'{"message":{"assistant":{"id":"\\ud800"}}}',  # a lone surrogate is no id
    b"[" + b"[]," * PREAUTH_MAX_ARRAYS + b'{"message":{"assistant":{"id":"a"}}}]',
])
def test_credential_ids_of_unusable_bodies_are_none(raw: bytes) -> None:
    assert credential_ids(raw) == (None, None)


def test_credential_ids_give_up_on_bodies_of_many_arrays() -> None:
    def body(arrays: int) -> bytes:
        return b'{"message":{"assistant":{"id":"a"},"x":[' + b"[]," * (arrays - 2) + b"[]]}}"

    assert body(PREAUTH_MAX_ARRAYS).count(b"[") == PREAUTH_MAX_ARRAYS
    assert credential_ids(body(PREAUTH_MAX_ARRAYS)) == ("a", None)
    assert credential_ids(body(PREAUTH_MAX_ARRAYS + 1)) == (None, None)


@settings(max_examples=200, deadline=None)
@given(body=st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["message", "assistant", "call", "phoneNumber", "id", "assistantId", "phoneNumberId",
                         "type", "other"]), inner, max_size=4),
    max_leaves=25))
def test_credential_ids_always_agree_with_the_full_parse(body: Any) -> None:
    raw = json.dumps(body).encode()
    try:
        context = parse_request(decode_body(raw)).context
    except EnvelopeError:
        return
    assert credential_ids(raw) == (context.assistant_id, context.phone_number_id)


@pytest.mark.parametrize(("raw", "reason"), [
    (b"[" * 100_000, "too_deep"),
    (b'{"a":"\\ud800"}', "invalid_encoding"),
    (b"\xc3\x28", "invalid_encoding"),
    (b"{", "invalid_json"),
])
def test_decode_body_errors(raw: bytes, reason: str) -> None:
    with pytest.raises(EnvelopeError) as error:
        decode_body(raw)
    assert error.value.reason == reason


def test_decode_body_accepts_a_bom_and_escaped_pairs() -> None:
    assert decode_body(b'\xef\xbb\xbf{"a":"\\ud83d\\ude00"}') == {"a": "\U0001F600"}
