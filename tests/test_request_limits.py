"""What one request may cost before and after it is trusted (docs/security-requests.md): the body
limit, nesting and encoding errors, the tool-call limit and clamped ids — each answered with its
documented status, never a 500, and nothing written."""

from __future__ import annotations

import io
import json
import logging
import time

import pytest

from api.config import DEFAULT_MAX_CONTENT_LENGTH
from api.vapi import MAX_TOOL_CALLS_PER_REQUEST, idempotency_key, v2_idempotency_key
from conftest import AUTH, SECRET, SUNRISE, next_open_day
from vapi_fixtures import end_of_call_report, size, tool_calls_message

WEBHOOK = "/api/vapi/webhook"
V2_URL = "/api/vapi/tools/bookClinicAppointment"
LIMIT = DEFAULT_MAX_CONTENT_LENGTH
WRONG = {"X-Vapi-Secret": "not-the-secret"}
TABLES = ("appointments", "leads", "appointment_events")


def written(sql) -> dict:
    return {table: sql(f"select count(*) from public.{table}")[0][0] for table in TABLES}


NOTHING = dict.fromkeys(TABLES, 0)


def post_raw(client, raw: bytes, headers=AUTH, url=WEBHOOK):
    return client.post(url, data=raw, content_type="application/json", headers=headers)


def booking_args(hour: str = "10:00", name: str = "Limit Tester") -> dict:
    return {"appointmentDate": next_open_day().isoformat(), "appointmentTime": hour, "patientName": name,
            "patientPhone": "4155550166"}


def tool_item(call_id: str, name: str = "bookClinicAppointment", arguments=None) -> dict:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments or {}}}


# --- body size ------------------------------------------------------------------------------------

def test_the_limit_is_sized_from_realistic_vapi_messages(client, sql):
    # Vapi's default maximum call is 10 minutes; an hour-long call is far beyond a clinic booking.
    assert size(tool_calls_message(10, tool_item("x"))) < 64 * 1024
    hour = tool_calls_message(60, tool_item("call_hour_1", arguments=booking_args()))
    report = end_of_call_report(60)
    assert size(hour) < LIMIT / 8 and size(report) < LIMIT / 4
    # ... and both are answered as usual.
    (reply,) = client.post(WEBHOOK, json=hour, headers=AUTH).get_json()["results"]
    assert json.loads(reply["result"])["success"] is True
    assert client.post(WEBHOOK, json=report, headers=AUTH).get_json() == {}
    assert written(sql)["appointments"] == 1


class Unreadable(io.RawIOBase):
    """A request body that fails the test if anything reads it."""

    def readable(self):
        return True

    def readinto(self, buffer):
        raise AssertionError("the body was read")


def test_an_oversized_body_is_413_before_it_is_read(client, sql):
    for url in (WEBHOOK, V2_URL):
        for headers in (AUTH, WRONG, {}):  # the size is checked before the credentials
            response = client.post(url, content_type="application/json", headers=headers, environ_overrides={
                "wsgi.input": Unreadable(), "CONTENT_LENGTH": str(20 * 1024 * 1024)})
            assert response.status_code == 413, (url, headers)
            assert response.get_json() == {"error": "request_entity_too_large", "maxBytes": LIMIT}
    assert written(sql) == NOTHING


def test_a_body_of_exactly_the_limit_is_read_one_byte_more_is_not(client, sql):
    head = b'{"message":{"type":"status-update"}}'
    at_limit = head + b" " * (LIMIT - len(head))
    assert post_raw(client, at_limit).status_code == 200
    assert post_raw(client, at_limit + b" ").status_code == 413
    # Streamed (Transfer-Encoding: chunked, no Content-Length), as gunicorn hands it over: werkzeug
    # reads at most the limit, and one more byte tells an exact fit from a longer body.
    for extra, status in ((0, 200), (1, 413), (3 * LIMIT, 413)):
        body = io.BytesIO(at_limit + b" " * extra)
        response = client.post(WEBHOOK, headers={**AUTH, "Content-Type": "application/json",
                                                 "Transfer-Encoding": "chunked"},
                               environ_overrides={"wsgi.input": body, "wsgi.input_terminated": True})
        assert response.status_code == status, extra
        assert body.tell() <= LIMIT + 1  # never read further than the limit and that one byte
    assert response.get_json()["error"] == "request_entity_too_large"
    assert written(sql) == NOTHING


# --- nesting and encoding -------------------------------------------------------------------------

DEEP_BODIES = {
    "arrays": b"[" * 100_000 + b"]" * 100_000,
    "objects": b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    "inside_message": b'{"message":{"type":"tool-calls","toolCallList":' + b"[" * 100_000 + b"]" * 100_000 + b"}}",
}


def test_deep_json_is_400_too_deep_or_401_without_the_secret(client, sql):
    for name, raw in DEEP_BODIES.items():
        response = post_raw(client, raw)
        assert response.status_code == 400, name
        assert response.get_json() == {"error": "invalid_request", "reason": "too_deep"}
        refused = post_raw(client, raw, headers=WRONG)  # the pre-auth id search gives up quietly
        assert refused.status_code == 401 and refused.get_json()["reason"] == "bad_secret", name
    assert written(sql) == NOTHING


def test_deep_json_in_development_mode_is_400(database_url):
    from api import create_app

    app = create_app({"APP_ENV": "development", "VAPI_SECRET": "", "DATABASE_URL": database_url})
    try:
        response = post_raw(app.test_client(), DEEP_BODIES["arrays"], headers={})
        assert response.status_code == 400 and response.get_json()["reason"] == "too_deep"
    finally:
        app.extensions["deps"].gateway.close()


def _vapi_with_assistant(assistant_id: str) -> bytes:
    # Written by hand: json.dumps cannot produce a lone surrogate escape from a valid str.
    return (b'{"message":{"type":"tool-calls","assistant":{"id":"' + assistant_id.encode() + b'"},'
            b'"customer":{"metadata":{"org_id":"' + SUNRISE.encode() + b'"}},'
            b'"toolCallList":[{"id":"s1","function":{"name":"checkAvailability","arguments":{}}}]}}')


ENCODING_ERRORS = [
    (_vapi_with_assistant("\\ud800"), "invalid_encoding"),  # lone high surrogate in assistant.id
    (_vapi_with_assistant("asst\\udfff"), "invalid_encoding"),  # lone low surrogate
    (b'{"message":{"type":"tool-calls","toolCallList":[{"id":"s2","function":{"name":"bookClinicAppointment",'
     b'"arguments":{"patientName":"Ann \\ud83d"}}}]}}', "invalid_encoding"),  # in an argument
    (b'{"message":{"type":"status-update","\\udc00":1}}', "invalid_encoding"),  # in a key
    (b'{"message":{"type":"status-update","note":"caf\xe9"}}', "invalid_encoding"),  # Latin-1, not UTF-8
    (b'\xff\xfe{\x00}\x00', "invalid_encoding"),  # UTF-16
    (b'{"message":', "invalid_json"),
    (b"", "invalid_json"),
    (b'{"n":' + b"9" * 5000 + b"}", "invalid_json"),  # beyond the int-digit limit
]


def test_encoding_errors_are_400(client, sql):
    for raw, reason in ENCODING_ERRORS:
        response = post_raw(client, raw)
        assert response.status_code == 400, raw[:60]
        assert response.get_json() == {"error": "invalid_request", "reason": reason}, raw[:60]
        assert post_raw(client, raw, headers=WRONG).status_code == 401, raw[:60]  # credentials first
    # A valid surrogate pair (an emoji, as Python's json.dumps writes it) and a literal "\\ud800" text.
    raw = b'{"message":{"type":"status-update","emoji":"\\ud83d\\ude00","text":"\\\\ud800"}}'
    assert post_raw(client, raw).status_code == 200
    assert written(sql) == NOTHING


# --- tool-call limit ------------------------------------------------------------------------------

def test_ten_thousand_tool_calls_answer_ten_and_refuse_the_rest_calmly(client, sql, caplog):
    caplog.set_level(logging.INFO)
    args = booking_args("11:00")
    items = [{"id": f"tc-{n}", "function": {"name": "bookClinicAppointment",
                                            "arguments": dict(args, patientName=f"Caller {n}")}}
             for n in range(10_000)]
    raw = json.dumps({"message": {"type": "tool-calls", "toolCallList": items, "call": {"id": "call-many"},
                                  "customer": {"metadata": {"org_id": SUNRISE}}}}, separators=(",", ":")).encode()
    assert len(raw) < LIMIT  # 10,000 bookings fit in one allowed body
    started = time.perf_counter()
    response = post_raw(client, raw)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    raw = response.get_json()["results"]
    assert [r["toolCallId"] for r in raw] == [f"tc-{n}" for n in range(10_000)]
    payloads = [json.loads(r["result"]) for r in raw]
    answered, refused = payloads[:MAX_TOOL_CALLS_PER_REQUEST], payloads[MAX_TOOL_CALLS_PER_REQUEST:]
    assert answered[0]["success"] is True
    assert {p["error"] for p in answered[1:]} == {"slot_unavailable"}  # the same slot: answered by SQL
    assert len(refused) == 9_990 and all(p == refused[0] for p in refused)
    assert refused[0]["success"] is False and refused[0]["error"] == "too_many_tool_calls"
    assert "one at a time" in refused[0]["message"]
    rpcs = [r.event_fields["rpc"] for r in caplog.records if getattr(r, "event_fields", {}).get("event") == "rpc.call"]
    assert rpcs.count("book_appointment") == MAX_TOOL_CALLS_PER_REQUEST and len(rpcs) <= 12
    assert written(sql)["appointments"] == 1
    assert elapsed < 10, f"{elapsed:.1f} s"


def test_calls_beyond_the_limit_are_refused_even_when_the_org_is_unknown(client):
    items = [tool_item(f"u-{n}", "checkAvailability") for n in range(12)]
    body = {"message": {"type": "tool-calls", "toolCallList": items}}  # no org at all
    errors = [json.loads(r["result"])["error"] for r in client.post(WEBHOOK, json=body, headers=AUTH).get_json()["results"]]
    assert errors == ["unknown_org"] * 10 + ["too_many_tool_calls"] * 2


# --- clamped ids ----------------------------------------------------------------------------------

def test_eight_kilobyte_ids_are_hashed_into_keys_and_never_logged(client, sql, caplog):
    caplog.set_level(logging.INFO)
    long_call = "c" * 8192
    long_tool = "t" * 8191 + "1"
    body = {"message": {"type": "tool-calls", "call": {"id": long_call, "customer": {"number": "+14155550166"}},
                        "assistant": {"id": "a" * 8192}, "phoneNumber": {"id": "p" * 8192},
                        "customer": {"metadata": {"org_id": SUNRISE}},
                        "toolCallList": [tool_item(long_tool, arguments=booking_args("13:00"))]}}
    (first,) = client.post(WEBHOOK, json=body, headers=AUTH).get_json()["results"]
    assert first["toolCallId"] == long_tool  # echoed as sent: Vapi matches results by it
    booked = json.loads(first["result"])
    assert booked["success"] is True, booked
    (key,), = sql("select idempotency_key from public.appointments where id = %s", [booked["appointmentId"]])
    assert key == idempotency_key(long_call, long_tool) and len(key) < 200 and "cccc" not in key

    # A retry with the same ids is the same booking; ids that differ only at the very end are not.
    (again,) = client.post(WEBHOOK, json=body, headers=AUTH).get_json()["results"]
    assert json.loads(again["result"])["appointmentId"] == booked["appointmentId"]
    body["message"]["toolCallList"] = [tool_item("t" * 8191 + "2", arguments=booking_args("13:00", "Someone Else"))]
    (other,) = client.post(WEBHOOK, json=body, headers=AUTH).get_json()["results"]
    assert json.loads(other["result"])["error"] == "slot_unavailable"
    assert written(sql)["appointments"] == 1

    lines = [json.dumps(r.event_fields, default=str) for r in caplog.records if hasattr(r, "event_fields")]
    lines += [r.getMessage() for r in caplog.records]
    assert lines and max(len(line) for line in lines) < 2000
    assert not any("c" * 300 in line or "t" * 300 in line or "a" * 300 in line for line in lines)


def test_a_long_idempotency_key_header_is_hashed_not_truncated(client, sql):
    from conftest import SUNRISE as org

    def v2(name, key):
        body = {"toolCallId": "v2-long", "tool": {"arguments": booking_args("14:30", name)},
                "customer": {"metadata": {"org_id": org}}}
        return client.post(V2_URL, json=body, headers={**AUTH, "Idempotency-Key": key}).get_json()["result"]

    first = v2("Key One", "k" * 4000 + "1")
    assert first["success"] is True
    assert v2("Key One", "k" * 4000 + "1")["appointmentId"] == first["appointmentId"]  # replay
    assert v2("Key Two", "k" * 4000 + "2")["error"] == "slot_unavailable"  # a different key (truncation would merge)
    (key,), = sql("select idempotency_key from public.appointments")
    assert key == v2_idempotency_key("k" * 4000 + "1") and "kkkk" not in key


def test_an_over_long_caller_number_is_no_number(client, sql):
    body = {"message": {"type": "tool-calls", "call": {"id": "call-phone", "customer": {"number": "4" * 5000}},
                        "customer": {"metadata": {"org_id": SUNRISE}},
                        "toolCallList": [tool_item("p1", arguments={k: v for k, v in booking_args().items()
                                                                    if k != "patientPhone"})]}}
    (reply,) = client.post(WEBHOOK, json=body, headers=AUTH).get_json()["results"]
    payload = json.loads(reply["result"])
    assert payload["success"] is False and payload["error"] == "invalid_input" and payload["field"] == "patientPhone"
    assert written(sql) == NOTHING


def test_secret_checked_without_parsing_the_body(app, client, monkeypatch):
    """The global secret is checked on the raw bytes; the body is parsed only afterwards, and the
    clinic-secret lookup is not even tried when the global secret is right or nothing was presented."""
    calls = []
    cache = app.extensions["org_webhook_secrets"]
    monkeypatch.setattr(cache, "get", lambda *ids: calls.append(ids))
    assert post_raw(client, b"not json at all").status_code == 400  # authenticated first, then parsed
    assert post_raw(client, b"not json at all", headers={}).status_code == 401
    assert calls == []
    assert post_raw(client, _vapi_with_assistant("asst_x"), headers=WRONG).status_code == 401
    assert calls == [("asst_x", None)]
    assert SECRET not in json.dumps(calls)
