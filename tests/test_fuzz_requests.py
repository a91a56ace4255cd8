"""Property-based fuzzing of request bodies against the real app and database.

Whatever arrives: never a 500, always a well-formed answer (401/400 JSON error, `{}` for events,
or a valid results envelope), and invalid input writes nothing.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import AUTH, SUNRISE

json_scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=20)

bad_arguments = st.fixed_dictionaries({}, optional={
    "appointmentDate": json_values | st.sampled_from(["", "yesterday-ish", "2024-02-30", "13/45/2026", "Funday"]),
    "appointmentTime": json_values | st.sampled_from(["", "25:00", "noonish", "-1pm"]),
    "patientName": json_values | st.sampled_from(["", "   ", "x" * 500]),
    "patientPhone": json_values | st.sampled_from(["", "12", "phone", "+999"]),
    "patientEmail": json_values,
    "serviceType": json_values,
})
tool_names = st.sampled_from(["bookClinicAppointment", "checkAvailability", "lookupAppointments",
                              "cancelAppointment", "rescheduleAppointment", "other", ""])


def vapi_envelope(name, args, as_string):
    return {"message": {"type": "tool-calls", "toolCallList": [{"id": "fz", "type": "function", "function": {
        "name": name, "arguments": json.dumps(args) if as_string else args}}],
        "customer": {"metadata": {"org_id": SUNRISE}}}}


def assert_well_formed(response):
    assert response.status_code in (200, 400), response.status_code
    body = response.get_json()
    assert isinstance(body, dict)
    if response.status_code == 400:
        assert body["error"] == "invalid_request"
    elif "results" in body:
        for item in body["results"]:
            assert set(item) == {"toolCallId", "name", "result"}
            assert isinstance(item["result"], str) and "\n" not in item["result"]
            payload = json.loads(item["result"])
            assert isinstance(payload["message"], str) and len(payload["message"]) <= 300
    elif "result" in body:
        assert set(body) == {"toolCallId", "result"}


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(body=json_values)
def test_arbitrary_json_bodies_never_500(client, sql, body):
    for url in ("/api/vapi/webhook", "/api/vapi/tools/bookClinicAppointment"):
        assert_well_formed(client.post(url, json=body, headers=AUTH))
    assert sql("select count(*) from public.appointments")[0][0] == 0


@FUZZ
@given(name=tool_names, args=bad_arguments, as_string=st.booleans())
def test_invalid_tool_arguments_answer_and_write_nothing(client, sql, name, args, as_string):
    # A valid booking needs a name, a phone, a date and a time all at once; generated arguments
    # always lack a well-formed combination, so nothing may be written.
    args = {k: v for k, v in args.items() if k != "patientName"} if name == "bookClinicAppointment" else args
    response = client.post("/api/vapi/webhook", json=vapi_envelope(name, args, as_string), headers=AUTH)
    assert_well_formed(response)
    assert sql("select count(*) from public.appointments")[0][0] == 0
    assert sql("select count(*) from public.leads")[0][0] == 0


@FUZZ
@given(args=bad_arguments)
def test_v2_route_with_bad_arguments(client, sql, args):
    args = {k: v for k, v in args.items() if k != "patientPhone"}
    body = {"toolCallId": "fz", "tool": {"arguments": args}, "customer": {"metadata": {"org_id": SUNRISE}}}
    response = client.post("/api/vapi/tools/bookClinicAppointment", json=body, headers=AUTH)
    assert_well_formed(response)
    assert response.get_json()["result"]["success"] is False
    assert sql("select count(*) from public.appointments")[0][0] == 0


# Raw bytes: broken UTF-8, surrogate escapes, deep or truncated JSON — before and after the secret.
json_fragments = st.sampled_from([b'{"message":', b'{"message":{"type":"tool-calls","toolCallList":[', b"[", b"{",
                                  b'"\\ud800"', b'"\\udc00\\ud800"', b'"\\ud83d\\ude00"', b"\xff", b"\xc3", b"\x00",
                                  b'"\\u0000"', b"1e999", b"-", b"}", b"]", b",", b":", b'"id"', b'"assistant"'])
raw_bodies = st.lists(json_fragments | st.binary(max_size=8), max_size=40).map(b"".join)


@FUZZ
@given(raw=raw_bodies, authenticated=st.booleans())
def test_arbitrary_bytes_never_500(client, sql, raw, authenticated):
    headers = AUTH if authenticated else {"X-Vapi-Secret": "wrong"}
    for url in ("/api/vapi/webhook", "/api/vapi/tools/bookClinicAppointment"):
        response = client.post(url, data=raw, content_type="application/json", headers=headers)
        if not authenticated:
            assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"
        else:
            assert_well_formed(response)
    assert sql("select count(*) from public.appointments")[0][0] == 0
