"""Realistic Vapi server messages, sized like the real thing: what MAX_CONTENT_LENGTH is chosen from,
and the sample bodies the call tests send (tests/test_calls.py, tests/test_calls_webhook.py).

Vapi's tool-calls message carries the call, the whole active assistant (model, system prompt, tools),
the phone number, the customer and the live `artifact` (the conversation so far, once as Vapi
messages and once in OpenAI format); the end-of-call-report carries the transcript, the messages and
the artifact again (fields as in Vapi's server-message schema: ServerMessageToolCalls,
ServerMessageEndOfCallReport, Artifact). The conversation is modelled at 150 spoken words a minute,
8 turns a minute, with a tool call and its result every 2 minutes.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from zoneinfo import ZoneInfo

from api.prompts import Clinic, enforced_prompt_template

ROOT = Path(__file__).resolve().parents[1]
TOOLS = json.loads((ROOT / "docs" / "vapi-tools.json").read_text())
WORDS = ("I'd like to book a cleaning next Tuesday morning if you have anything around nine or ten "
         "my name is Jordan Avery and my number is the one I'm calling from thank you so much").split()
CALL_START_MS = 1_774_000_000_000


def _sentence(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def _assistant(custom_prompt_chars: int) -> dict:
    prompt = enforced_prompt_template("Be warm and brief. " * (custom_prompt_chars // 19),
                                      Clinic("Sunrise Family Clinic", ZoneInfo("America/New_York")), "Sarah")
    return {
        "id": "0b4f9c1e-6a43-4a8e-9c55-3f1e2d7a9b10",
        "name": "Sarah",
        "firstMessage": "Thank you for calling Sunrise Family Clinic, this is Sarah. How can I help?",
        "voice": {"provider": "11labs", "voiceId": "sarah", "stability": 0.5, "similarityBoost": 0.75},
        "transcriber": {"provider": "deepgram", "model": "nova-2", "language": "en-US"},
        "model": {"provider": "openai", "model": "gpt-4o", "temperature": 0.3,
                  "messages": [{"role": "system", "content": prompt}], "tools": TOOLS,
                  "toolIds": ["5b0c3a9e-1d2f-4e6a-8b7c-9d0e1f2a3b4c"]},
        "serverMessages": ["tool-calls", "end-of-call-report", "status-update"],
        "server": {"url": "https://clinic.example/api/vapi/webhook", "timeoutSeconds": 20},
        "maxDurationSeconds": 3600,
        "metadata": {},
    }


def _conversation(minutes: int, rng: random.Random) -> tuple[list, list, str]:
    messages, openai, lines = [], [], []
    turns = minutes * 8
    for turn in range(turns):
        seconds = turn * 7.5
        role = "bot" if turn % 2 == 0 else "user"
        text = _sentence(rng, 19)  # 150 words a minute over 8 turns
        messages.append({"role": role, "message": text, "time": CALL_START_MS + int(seconds * 1000),
                         "endTime": CALL_START_MS + int((seconds + 6) * 1000), "secondsFromStart": seconds,
                         "duration": 6000, "source": ""})
        openai.append({"role": "assistant" if role == "bot" else "user", "content": text})
        lines.append(f"{'AI' if role == 'bot' else 'User'}: {text}")
        if turn % 16 == 15:  # a tool call and its result every 2 minutes
            call = {"id": f"call_{turn:04d}Xb2lQmT9sPq4vRw8", "type": "function",
                    "function": {"name": "checkAvailability", "arguments": json.dumps({"date": "next Tuesday"})}}
            result = json.dumps({"success": True, "slots": ["2026-03-24T13:00:00Z", "2026-03-24T13:30:00Z"],
                                 "message": "I have 9:00 AM or 9:30 AM on Tuesday, March 24th — which works?"})
            messages.append({"role": "tool_calls", "toolCalls": [call], "message": "", "time": CALL_START_MS,
                             "secondsFromStart": seconds + 6})
            messages.append({"role": "tool_call_result", "toolCallId": call["id"], "name": "checkAvailability",
                             "result": result, "time": CALL_START_MS, "secondsFromStart": seconds + 7})
            openai.append({"role": "assistant", "tool_calls": [call]})
            openai.append({"role": "tool", "tool_call_id": call["id"], "content": result})
    return messages, openai, "\n".join(lines)


def _call(call_id: str) -> dict:
    return {"id": call_id, "orgId": "6c7a1f0e-2b3d-4c5e-8f9a-0b1c2d3e4f5a", "type": "inboundPhoneCall",
            "status": "in-progress", "createdAt": "2026-03-20T14:00:00.000Z", "updatedAt": "2026-03-20T14:00:01.000Z",
            "assistantId": "0b4f9c1e-6a43-4a8e-9c55-3f1e2d7a9b10", "phoneNumberId": "pn_sunrise_main",
            "customer": {"number": "+14155550142"}, "phoneCallProvider": "twilio", "phoneCallTransport": "pstn",
            "phoneCallProviderId": "CA" + "0f" * 16,
            "monitor": {"listenUrl": "wss://phone-call-websocket.aws-us-west-2-backend-production1.vapi.ai/x/listen",
                        "controlUrl": "https://phone-call-websocket.aws-us-west-2-backend-production1.vapi.ai/x/control"}}


def tool_calls_message(minutes: int, tool_call: dict, *, call_id: str = "4a7d2f3b-9e1c-4d5a-8b6f-1c2d3e4f5a6b",
                       assistant_id: str | None = None, custom_prompt_chars: int = 2000, seed: int = 7) -> dict:
    """A tool-calls message `minutes` into a call, asking `tool_call` ({"id", "function": {...}})."""
    messages, openai, _ = _conversation(minutes, random.Random(seed))
    assistant = _assistant(custom_prompt_chars)
    if assistant_id:
        assistant["id"] = assistant_id
    call = _call(call_id)
    call["assistantId"] = assistant["id"]
    return {"message": {
        "timestamp": CALL_START_MS + minutes * 60_000,
        "type": "tool-calls",
        "toolCallList": [tool_call],
        "toolWithToolCallList": [{**next(t for t in TOOLS if t["function"]["name"] == tool_call["function"]["name"]),
                                  "toolCall": tool_call}],
        "artifact": {"messages": messages, "messagesOpenAIFormatted": openai},
        "call": call,
        "assistant": assistant,
        "phoneNumber": {"id": "pn_sunrise_main", "number": "+12125550100", "provider": "twilio"},
        "customer": {"number": "+14155550142"},
    }}


CALL_ID = "4a7d2f3b-9e1c-4d5a-8b6f-1c2d3e4f5a6b"
CALLER = "+14155550142"


def end_of_call_report(minutes: int, *, seed: int = 7, call_id: str = CALL_ID,
                       ended_reason: str = "customer-ended-call", caller: str | None = CALLER,
                       phone_number_id: str | None = "pn_sunrise_main", assistant_id: str | None = None,
                       recording: str = "url", started_at: str = "2026-03-20T14:00:00.000Z") -> dict:
    """ServerMessageEndOfCallReport. `recording`: "url" (artifact.recordingUrl and the older
    top-level fields) or "object" (only artifact.recording.mono.combinedUrl / stereoUrl, the newer
    Recording object). `assistant_id` None: the fixture assistant's own (unmapped) id."""
    messages, openai, transcript = _conversation(minutes, random.Random(seed))
    call = _call(call_id)
    call["status"] = "ended"
    call["endedReason"] = ended_reason
    if caller is None:
        call.pop("customer")
    else:
        call["customer"] = {"number": caller}
    call["phoneNumberId"] = phone_number_id
    assistant = _assistant(2000)
    if assistant_id:
        assistant["id"] = call["assistantId"] = assistant_id
    url = f"https://storage.vapi.ai/recordings/{call_id[:8]}.wav"
    artifact = {"messages": messages, "messagesOpenAIFormatted": openai, "transcript": transcript}
    message = {
        "timestamp": CALL_START_MS + minutes * 60_000,
        "type": "end-of-call-report",
        "endedReason": ended_reason,
        "cost": 0.12 * minutes,
        "costs": [{"type": kind, "cost": 0.01 * minutes} for kind in ("transcriber", "model", "voice", "vapi")],
        "analysis": {"summary": "Booked a cleaning.", "successEvaluation": "true"},
        "artifact": artifact,
        "call": call,
        "assistant": assistant,
        "startedAt": started_at,
        "endedAt": started_at[:14] + "%02d:00.000Z" % min(minutes, 59),
    }
    if recording == "url":
        artifact["recordingUrl"] = url
        message.update(transcript=transcript, summary="The caller booked a cleaning for next Tuesday at 9:00 AM.",
                       messages=messages, recordingUrl=url, stereoRecordingUrl=url.replace(".wav", "-stereo.wav"))
    else:
        artifact["recording"] = {"stereoUrl": url.replace(".wav", "-stereo.wav"),
                                 "mono": {"combinedUrl": url, "assistantUrl": url.replace(".wav", "-a.wav"),
                                          "customerUrl": url.replace(".wav", "-c.wav")}}
    if phone_number_id:
        message["phoneNumber"] = {"id": phone_number_id, "number": "+12125550100"}
    if caller:
        message["customer"] = {"number": caller}
    return {"message": message}


def assistant_request(phone_number_id: str | None = "pn_sunrise_main", *, call_id: str = CALL_ID,
                      caller: str | None = CALLER, timestamp_ms: int = CALL_START_MS) -> dict:
    """ServerMessageAssistantRequest: an inbound call is ringing on a number without an assistant;
    no assistant yet, the phone number and the caller."""
    call = _call(call_id)
    call.update(status="ringing")
    call.pop("assistantId")
    call.pop("monitor")
    if phone_number_id is None:
        call.pop("phoneNumberId")
    else:
        call["phoneNumberId"] = phone_number_id
    if caller is None:
        call.pop("customer")
    else:
        call["customer"] = {"number": caller}
    message = {"timestamp": timestamp_ms, "type": "assistant-request", "call": call}
    if phone_number_id is not None:
        message["phoneNumber"] = {"id": phone_number_id, "orgId": call["orgId"], "number": "+12125550100",
                                  "provider": "twilio", "name": "Main line", "status": "active",
                                  "server": {"url": "https://clinic.example/api/vapi/webhook"}}
    if caller is not None:
        message["customer"] = {"number": caller}
    return {"message": message}


def _live_message(kind: str, call_id: str, assistant_id: str | None, phone_number_id: str | None,
                  **fields) -> dict:
    call = _call(call_id)
    call["phoneNumberId"] = phone_number_id
    assistant = _assistant(200)
    if assistant_id:
        assistant["id"] = call["assistantId"] = assistant_id
    message = {"timestamp": CALL_START_MS + 120_000, "type": kind, **fields, "call": call,
               "assistant": assistant, "customer": {"number": call["customer"]["number"]}}
    if phone_number_id:
        message["phoneNumber"] = {"id": phone_number_id, "number": "+12125550100"}
    return {"message": message}


def status_update(status: str = "ended", *, call_id: str = CALL_ID, ended_reason: str | None = "customer-ended-call",
                  assistant_id: str | None = None, phone_number_id: str | None = "pn_sunrise_main") -> dict:
    """ServerMessageStatusUpdate (scheduled, queued, ringing, in-progress, forwarding, ended)."""
    fields = {"status": status}
    if status == "ended" and ended_reason:
        fields["endedReason"] = ended_reason
    body = _live_message("status-update", call_id, assistant_id, phone_number_id, **fields)
    body["message"]["call"]["status"] = status
    return body


def hang(*, call_id: str = CALL_ID, phone_number_id: str | None = "pn_sunrise_main") -> dict:
    """ServerMessageHang: the assistant is delayed (slow model, voice or tool); the call goes on."""
    return _live_message("hang", call_id, None, phone_number_id)


def transfer_destination_request(*, call_id: str = CALL_ID, assistant_id: str | None = None,
                                 phone_number_id: str | None = "pn_sunrise_main", minutes: int = 2) -> dict:
    """ServerMessageTransferDestinationRequest: the model called transferCall (no destinations)."""
    messages, openai, transcript = _conversation(minutes, random.Random(3))
    return _live_message("transfer-destination-request", call_id, assistant_id, phone_number_id,
                         artifact={"messages": messages, "messagesOpenAIFormatted": openai, "transcript": transcript})


def size(body: dict) -> int:
    return len(json.dumps(body, separators=(",", ":")).encode())
