"""docs/vapi-tools.json matches what the webhook serves.

Every function tool defined there is served (api.tools.HANDLERS) and vice versa; its `required`
list is exactly what normalization needs: leave one required argument out and the reply re-asks
for it, send only the required ones (on a phone call, so the caller's number is known) and nothing
is re-asked. Calls go through the real webhook on a real database. The file also holds Vapi's own
`transferCall` tool, which Vapi carries out itself (asking this webhook only for the destination,
transfer-destination-request): it is no function we serve.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from api import speech
from api.tools import HANDLERS
from conftest import AUTH, SUNRISE, next_open_day
from test_webhook import results, vapi_body

ROOT = Path(__file__).resolve().parents[1]
FLAGS = {"onlyThisProvider"}
TOOLS = json.loads((ROOT / "docs" / "vapi-tools.json").read_text())
BY_NAME = {tool["function"]["name"]: tool for tool in TOOLS if tool["type"] == "function"}
VAPI_TOOLS = [tool for tool in TOOLS if tool["type"] != "function"]  # carried out by Vapi itself

# The re-ask code (what the caller is asked) when a required argument is missing, by argument.
REASK_WHEN_MISSING = {
    "patientName": "patient_name_missing",
    "appointmentDate": "appointment_date_missing",
    "appointmentTime": "appointment_time_missing",
    "newDate": "appointment_date_missing",
    "newTime": "appointment_time_missing",
    "callerName": "message_name_missing",
    "reason": "message_reason_missing",
}
DAY = next_open_day(min_days=3).isoformat()
SAMPLE = {"patientName": "Tool Definition", "appointmentDate": DAY, "appointmentTime": "10:00 AM",
          "newDate": DAY, "newTime": "11:00 AM", "callerName": "Tool Definition", "reason": "a question"}


def required(name: str) -> list[str]:
    return BY_NAME[name]["function"]["parameters"]["required"]


def call(client, name: str, arguments: dict) -> dict:
    response = client.post("/api/vapi/webhook", json=vapi_body(("tc-1", name, arguments), org=SUNRISE), headers=AUTH)
    (result,) = results(response)
    return result


def test_every_defined_tool_is_served_and_every_served_tool_is_defined():
    assert len(BY_NAME) + len(VAPI_TOOLS) == len(TOOLS), "function tool names are unique"
    assert sorted(BY_NAME) == sorted(HANDLERS)
    assert [tool["type"] for tool in VAPI_TOOLS] == ["transferCall"]  # nothing else slips in unserved


def test_transfer_tool_is_vapis_own_and_asks_this_webhook_for_the_destination():
    (tool,) = VAPI_TOOLS
    # No destinations: Vapi sends transfer-destination-request to the tool's server, and
    # api/calls.py answers with the clinic's front desk (or a spoken refusal outside its hours).
    assert tool["destinations"] == []
    assert tool["server"]["url"].endswith("/api/vapi/webhook")
    assert tool["function"]["name"] not in HANDLERS
    assert tool["function"]["parameters"] == {"type": "object", "properties": {}, "required": []}
    # Vapi's default "Transferring the call now" would be said before we know the desk is open.
    assert tool["messages"] == [{"type": "request-start", "content": ""}]
    description = tool["function"]["description"]
    for when in ("ask for a person", "emergency", "billing", "locked"):
        assert when in description
    assert "takeMessage" in description


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_definition_is_a_vapi_function_tool_for_the_webhook(name):
    tool = BY_NAME[name]
    assert tool["type"] == "function" and tool["async"] is False
    assert tool["server"]["url"].endswith("/api/vapi/webhook")
    function = tool["function"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,40}", function["name"])  # Vapi's limit on tool names
    assert "returned message" in function["description"]  # the prompt contract: speak `message` as is
    parameters = function["parameters"]
    assert parameters["type"] == "object"
    assert set(parameters["required"]) <= set(parameters["properties"])
    handler_source = (ROOT / "api" / "tools.py").read_text() + (ROOT / "api" / "normalize.py").read_text()
    for argument, schema in parameters["properties"].items():
        # Everything the caller says is text; the one flag the assistant sets itself is a boolean.
        assert schema["type"] == ("boolean" if argument in FLAGS else "string"), argument
        assert schema["description"].strip()
        assert f'"{argument}"' in handler_source, f"{name}.{argument} is never read by the webhook"


@pytest.mark.parametrize("name,missing", [(n, field) for n in sorted(BY_NAME) for field in required(n)])
def test_leaving_out_a_required_argument_re_asks_for_it(client, sql, name, missing):
    arguments = {field: SAMPLE[field] for field in required(name) if field != missing}
    result = call(client, name, arguments)
    assert result["success"] is False and result["error"] == "invalid_input"
    assert result["reask"] == REASK_WHEN_MISSING[missing]
    assert result["message"] == speech.reask(REASK_WHEN_MISSING[missing])
    assert sql("select count(*) from public.appointments")[0][0] == 0


@pytest.mark.parametrize("name", sorted(BY_NAME))
def test_the_required_arguments_alone_are_enough(client, name):
    result = call(client, name, {field: SAMPLE[field] for field in required(name)})
    assert result.get("error") not in ("invalid_input", "unknown_tool"), result
    if name in ("bookClinicAppointment", "takeMessage"):
        assert result["success"] is True


# Every argument a definition offers, with a value the tools can read.
ARGUMENT_SAMPLES = {
    **SAMPLE,
    "patientPhone": "(415) 555-0188", "patientEmail": "tool@example.com", "serviceType": "checkup",
    "patientDateOfBirth": "March 5th, 1980", "date": DAY, "time": "2pm", "reason": "feeling better",
    "appointmentId": "0d7a3f9c-1b2e-4c5d-8e9f-0a1b2c3d4e5f", "currentDate": "the Tuesday one", "currentTime": "3pm",
    "providerName": "Dr. Patel", "onlyThisProvider": True,
    "callbackNumber": "(415) 555-0177", "preferredTime": "tomorrow morning",
}
VERIFICATION_ARGUMENTS = ("patientPhone", "patientName", "patientDateOfBirth")


def _rpc_params(name: str, arguments: dict) -> dict:
    from test_caller_verification import RecordingGateway, context
    from api.tools import dispatch

    gateway = RecordingGateway({"success": False, "error": "not_found"})
    dispatch(name, context(gateway, caller_number="+12125550000"), arguments)
    ((_, params),) = gateway.calls
    return params


# A second value for an argument the call already has (required ones, and checkAvailability's date).
OTHER_VALUES = {"patientName": "Someone Else", "callerName": "Someone Else", "reason": "another question",
                "appointmentDate": next_open_day(min_days=4).isoformat(),
                "appointmentTime": "11:00 AM", "newDate": next_open_day(min_days=4).isoformat(), "newTime": "9:00 AM",
                "date": next_open_day(min_days=4).isoformat()}


@pytest.mark.parametrize("name,argument", [(n, a) for n in sorted(BY_NAME)
                                           for a in BY_NAME[n]["function"]["parameters"]["properties"]])
def test_every_defined_argument_reaches_the_rpc(name, argument):
    # The JSON and the code read the same arguments: giving one (or another value for it) changes
    # what SQL is asked.
    base = {field: SAMPLE[field] for field in required(name)}
    if name == "checkAvailability":
        base["date"] = DAY  # a time is read on a day
    if argument in base:
        changed = dict(base, **{argument: OTHER_VALUES[argument]})
    else:
        changed = dict(base, **{argument: ARGUMENT_SAMPLES[argument]})
    assert _rpc_params(name, changed) != _rpc_params(name, base), argument


def test_the_verification_arguments_are_offered_where_a_booking_is_read_or_changed():
    for name in ("lookupAppointments", "cancelAppointment", "rescheduleAppointment"):
        properties = BY_NAME[name]["function"]["parameters"]["properties"]
        assert set(VERIFICATION_ARGUMENTS) <= set(properties), name
        assert not set(VERIFICATION_ARGUMENTS) & set(required(name))  # the caller ID needs none of them
        for argument in VERIFICATION_ARGUMENTS:
            assert "another number" in properties[argument]["description"]
        assert "Never read it back" in properties["patientDateOfBirth"]["description"]
    book = BY_NAME["bookClinicAppointment"]["function"]["parameters"]
    assert "patientDateOfBirth" in book["properties"] and "patientDateOfBirth" not in book["required"]
    assert "Never read it back" in book["properties"]["patientDateOfBirth"]["description"]


def test_provider_arguments_are_offered_where_a_time_is_chosen():
    # providerName on book, checkAvailability and reschedule; the insist flag where a booking is made.
    for name in ("bookClinicAppointment", "checkAvailability", "rescheduleAppointment"):
        properties = BY_NAME[name]["function"]["parameters"]["properties"]
        assert "providerName" in properties and "providerName" not in required(name), name
    for name in ("bookClinicAppointment", "rescheduleAppointment"):
        assert BY_NAME[name]["function"]["parameters"]["properties"]["onlyThisProvider"]["type"] == "boolean"
    assert "onlyThisProvider" not in BY_NAME["checkAvailability"]["function"]["parameters"]["properties"]
    for name in ("lookupAppointments", "cancelAppointment"):
        assert "provider" in BY_NAME[name]["function"]["description"]  # their replies name the provider


def test_the_examples_in_the_descriptions_are_understood():
    # Issue 11: the tool descriptions and the code agree. Every example the model is shown for
    # checkAvailability's time and date is read by normalize into a window (never re-asked), and the
    # serviceType examples are services of the seed clinics (SQL's matcher, tests/test_receptionist_webhook.py).
    from datetime import date
    from zoneinfo import ZoneInfo

    from api.normalize import OpeningHours, normalize_availability

    hours = OpeningHours(tuple((d, 540, 1020) for d in range(1, 6)))
    properties = BY_NAME["checkAvailability"]["function"]["parameters"]["properties"]
    for said in ("morning", "afternoon", "evening", "after 3", "before noon", "by 11", "around 2", "2ish",
                 "between 2 and 4", "after lunch", "2pm"):
        assert said in properties["time"]["description"], said
        assert normalize_availability(None, said, date(2026, 11, 30), ZoneInfo("America/New_York"),
                                      hours=hours).window.kind != "day", said
    for said in ("tomorrow", "Friday", "Thursday the 3rd", "next week", "tomorrow morning", "Friday after 3"):
        assert said in properties["date"]["description"], said
        normalize_availability(said, None, date(2026, 11, 30), ZoneInfo("America/New_York"), hours=hours)
    service = BY_NAME["bookClinicAppointment"]["function"]["parameters"]["properties"]["serviceType"]["description"]
    for said in ("a checkup", "a flu shot", "an annual physical", "a cleaning"):
        assert said in service, said


def test_the_provider_to_avoid_examples_in_the_descriptions_are_understood():
    # The providerName descriptions show the model how to pass a provider the caller does not want;
    # every such example is read by normalize as that provider's name (sent as p_exclude_provider).
    from api.normalize import excluded_provider

    for name in ("bookClinicAppointment", "checkAvailability", "rescheduleAppointment"):
        description = BY_NAME[name]["function"]["parameters"]["properties"]["providerName"]["description"]
        assert "anyone but Dr. Lee" in description, name
    for said in ("anyone but Dr. Lee", "not Dr. Lee", "someone other than Dr. Lee"):
        assert excluded_provider(said) == "Dr. Lee", said
