"""Red-team findings against caller verification, end to end through the webhook.

Each test is an attack that worked (or works) against the merged issue-9 code:

* a caller ID that is not the phone network's — Vapi web chats (`message.chat`, started with the
  clinic's *public* key, `customer.number` chosen by the client) and web calls — was trusted like
  `call.customer.number` of a phone call;
* a booking made without a date of birth was given away by the failure counter: "phone + name
  match a booking without a date of birth" was not counted, so a third probe in one call answered
  `verification_failed` instead of `verification_locked` exactly when that patient is booked under
  that phone;
* the three-failure lock is per call id, and every new call is a new id: the birth date could be
  guessed three times per call, for as many calls as the attacker likes.
"""

from __future__ import annotations

import json

import pytest

from conftest import AUTH, SUNRISE, next_open_day
from test_caller_verification import PATIENT, PATIENT_PHONE, appointment_rows, book, call, discloses_nothing
from test_webhook import WEBHOOK, results


def post_message(client, message: dict) -> dict:
    (result,) = results(client.post(WEBHOOK, json={"message": message}, headers=AUTH))
    return result


def tool_calls(tool: str, arguments: dict, **envelope) -> dict:
    return {"type": "tool-calls",
            "toolCallList": [{"id": "tc-attack", "type": "function",
                              "function": {"name": tool, "arguments": arguments}}],
            **envelope}


# A web chat (POST /chat/web with the public key): the client writes `customer`, there is no call.
WEB_CHAT = {"chat": {"id": "chat-attack", "orgId": "vapi-org"},
            "customer": {"number": PATIENT_PHONE, "metadata": {"org_id": SUNRISE}}}
# A web call: Vapi's call type says there is no phone network behind `customer.number`.
WEB_CALL = {"call": {"id": "call-web", "type": "webCall", "customer": {"number": PATIENT_PHONE}},
            "customer": {"number": PATIENT_PHONE, "metadata": {"org_id": SUNRISE}}}
WEBSOCKET_CALL = {"call": {"id": "call-ws", "type": "vapi.websocketCall", "customer": {"number": PATIENT_PHONE}},
                  "customer": {"number": PATIENT_PHONE, "metadata": {"org_id": SUNRISE}}}


@pytest.mark.parametrize("channel", [WEB_CHAT, WEB_CALL, WEBSOCKET_CALL], ids=["web-chat", "web-call", "websocket-call"])
@pytest.mark.parametrize("tool", ["lookupAppointments", "cancelAppointment"])
def test_attack_a_customer_number_outside_a_phone_call_is_no_caller_id(client, sql, channel, tool):
    day = next_open_day()
    book(client, day)
    before = appointment_rows(sql)

    reply = post_message(client, tool_calls(tool, {}, **channel))

    assert reply["success"] is False and reply["error"] == "verification_required", reply
    discloses_nothing(reply, day)
    assert appointment_rows(sql) == before


def test_attack_a_phone_call_keeps_its_caller_id(client, sql):
    # The control: the same message as an inbound phone call is verified by caller ID.
    day = next_open_day()
    book(client, day)
    reply = post_message(client, tool_calls("lookupAppointments", {}, **{
        "call": {"id": "call-phone", "type": "inboundPhoneCall", "customer": {"number": PATIENT_PHONE}},
        "customer": {"number": PATIENT_PHONE, "metadata": {"org_id": SUNRISE}}}))
    assert reply["success"] is True and reply["verifiedBy"] == "caller_id"


def _third_probe(client, call_id: str, name: str) -> dict:
    junk = {"patientPhone": PATIENT_PHONE, "patientName": "Nobody Atall", "patientDateOfBirth": "1970-01-01"}
    for i in range(2):
        assert call(client, "lookupAppointments", junk, call_id=call_id, tool_call_id=f"{call_id}-{i}")["error"] \
            == "verification_failed"
    return call(client, "lookupAppointments", dict(junk, patientName=name), call_id=call_id,
                tool_call_id=f"{call_id}-probe")


def test_attack_the_failure_counter_does_not_tell_who_is_booked_without_a_birth_date(client):
    day = next_open_day()
    book(client, day, details={"patientName": "Kid O'Neil"})  # booked without a date of birth

    booked = _third_probe(client, "call-probe-booked", "Kid O'Neil")
    not_booked = _third_probe(client, "call-probe-nobody", "Someone Else")

    # Whether "Kid O'Neil" has a booking under that phone must not change what the caller hears.
    assert booked == not_booked, (booked, not_booked)


def test_attack_birth_date_guessing_is_bounded_across_calls(client, sql):
    day = next_open_day()
    book(client, day)  # Jane O'Neil, born 1980-03-05
    # A stranger who knows the phone and the name, guessing the day of birth in a known year:
    # three guesses per call (then that call is locked), a new call id each time.
    guesses = iter(f"1980-01-{d:02d}" for d in range(1, 32))
    for n in range(4):
        for i in range(3):
            call(client, "lookupAppointments",
                 {"patientPhone": PATIENT_PHONE, "patientName": "Jane O'Neil", "patientDateOfBirth": next(guesses)},
                 call_id=f"call-guess-{n}", tool_call_id=f"g{n}-{i}")

    # Twelve failed guesses later, a fifth call with the right date must not open the booking.
    right = call(client, "lookupAppointments", {"patientPhone": PATIENT_PHONE, **PATIENT}, call_id="call-guess-hit")
    assert right["success"] is False and right["error"] == "verification_locked", right
    discloses_nothing(right, day)

    # The patient is not locked out: their own line still works, and so does another booking phone.
    own = call(client, "lookupAppointments", {}, caller=PATIENT_PHONE, call_id="call-patient-own")
    assert own["success"] is True and own["verifiedBy"] == "caller_id" and len(own["appointments"]) == 1
    other_phone = call(client, "lookupAppointments",
                       {"patientPhone": "+14155550999", "patientName": "Jane O'Neil", "patientDateOfBirth": "1980-03-05"},
                       call_id="call-guess-other")
    assert other_phone["error"] == "verification_failed"
    assert "Jane" not in json.dumps([right, other_phone])
