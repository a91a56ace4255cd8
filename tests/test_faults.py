"""Faults with a real HTTP server, real clients in threads and real Vapi envelopes.

* PostgreSQL restarted (`pg_ctl restart -m fast`) while 8 clients are booking;
* the same tool call sent 20 times at once;
* a slot whose lock is held longer than the webhook may wait (lock_timeout, docs/faults.md).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx
import psycopg
import pytest
from werkzeug.serving import make_server

from api import create_app, speech
from api.vapi import idempotency_key
from conftest import AUTH, NEW_YORK, ROOT, SECRET, SUNRISE, local_instant, next_open_day

WEBHOOK = "/api/vapi/webhook"
# What a caller may hear instead of a booking while the database is away or busy.
FAILURE_CODES = {"unavailable": speech.infrastructure_failure(), "busy": speech.busy()}
# Vapi waits 20 s for a tool; every answer must come well before that.
VAPI_TIMEOUT_S = 20.0


@contextmanager
def live_server(database_url: str, pool_max: int, **config):
    """The app on a real threaded HTTP server on a free port."""
    app = create_app({"APP_ENV": "test", "VAPI_SECRET": SECRET, "DATABASE_URL": database_url,
                      "DB_POOL_MAX": pool_max, **config})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        app.extensions["deps"].gateway.close()


def booking_body(tool_call_id: str, day: date, time_text: str, phone: str, *, call_id: str = "call-faults",
                 name: str = "Fault Test") -> dict:
    args = {"appointmentDate": day.isoformat(), "appointmentTime": time_text, "patientName": name,
            "patientPhone": phone, "serviceType": "consultation"}
    return {"message": {
        "type": "tool-calls",
        "toolCallList": [{"id": tool_call_id, "type": "function",
                          "function": {"name": "bookClinicAppointment", "arguments": json.dumps(args)}}],
        "call": {"id": call_id, "customer": {"number": phone}},
        "customer": {"number": phone, "metadata": {"org_id": SUNRISE}},
    }}


def tool_result(response: httpx.Response, tool_call_id: str) -> tuple[str, dict]:
    """The raw result string and its decoded payload; fails unless the reply is a valid envelope."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == ["results"] and len(body["results"]) == 1, body
    (item,) = body["results"]
    assert item["toolCallId"] == tool_call_id and item["name"] == "bookClinicAppointment"
    assert isinstance(item["result"], str) and "\n" not in item["result"]
    payload = json.loads(item["result"])
    assert isinstance(payload["success"], bool)
    assert isinstance(payload["message"], str) and 0 < len(payload["message"]) <= 300
    return item["result"], payload


def open_slots(count: int) -> list[tuple[date, str]]:
    """`count` distinct bookable Sunrise slots (weekdays 09:00-11:30 and 13:00-16:30 New York)."""
    times = [f"{h:02d}:{m:02d}" for h in (9, 10, 11, 13, 14, 15, 16) for m in (0, 30)]
    slots, day = [], next_open_day()
    while len(slots) < count:
        if day.weekday() < 5 and (day.month, day.day) not in {(1, 1), (12, 24), (12, 25), (12, 26)}:
            slots.extend((day, t) for t in times)
        day += timedelta(days=1)
    return slots[:count]


def appointments(database_url: str) -> dict[str, object]:
    """id -> starts_at of every Sunrise appointment, read on a fresh connection."""
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("select id::text, starts_at from public.appointments where org_id = %s",
                            [SUNRISE]).fetchall()
    return dict(rows)


def localdb(command: str) -> None:
    env = {**os.environ, "LOCAL_DB_PORT": os.environ.get("LOCAL_DB_PORT", "54330")}
    subprocess.run([str(ROOT / "scripts" / "localdb.sh"), command], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# --- restart under load ---------------------------------------------------------------------------

@dataclass
class Attempt:
    slot: tuple[date, str]
    started: float
    finished: float = 0.0
    payload: dict = field(default_factory=dict)


def restart() -> None:
    localdb("restart")


def outage() -> None:
    """Down for longer than a request waits for a connection, so callers must hear the failure,
    and long enough (~10 s) that psycopg_pool's own reconnect backoff (attempts 1, 3, 7, 15 s after
    the first failure) would leave the service idle for seconds after the database is back."""
    localdb("stop")
    time.sleep(POOL_WAIT_S + 4)
    localdb("start")


POOL_WAIT_S = 5.0  # PostgresGateway's wait for a pooled connection


@pytest.mark.parametrize("fault", [restart, outage])
def test_database_fault_while_eight_clients_book(database_url, fault):
    slots = iter(open_slots(1000))  # ~110 days of Sunrise weekdays, inside its 120-day horizon
    slots_lock = threading.Lock()
    attempts: list[Attempt] = []
    errors: list[str] = []
    stop = threading.Event()

    def client_loop(index: int, base_url: str):
        with httpx.Client(base_url=base_url, headers=AUTH, timeout=VAPI_TIMEOUT_S) as http:
            n = 0
            while not stop.is_set():
                with slots_lock:
                    slot = next(slots, None)
                if slot is None:
                    return
                n += 1
                tool_call_id = f"restart-{index}-{n}"
                phone = f"+1415{index:03d}{n:04d}"
                attempt = Attempt(slot, time.monotonic())
                try:
                    response = http.post(WEBHOOK, json=booking_body(tool_call_id, *slot, phone))
                    attempt.finished = time.monotonic()
                    _, attempt.payload = tool_result(response, tool_call_id)
                except Exception as exc:  # recorded and asserted on below, with the thread's context
                    errors.append(f"{tool_call_id}: {type(exc).__name__}: {exc}")
                    return
                attempts.append(attempt)
                time.sleep(0.1)  # ~10 bookings/s per client: the slots last through a long fault

    with live_server(database_url, pool_max=8) as base_url:
        with ThreadPoolExecutor(max_workers=8) as clients:
            try:
                for i in range(8):
                    clients.submit(client_loop, i, base_url)
                time.sleep(1.5)
                restart_began = time.monotonic()
                fault()
                restart_done = time.monotonic()
                # Traffic runs on until the service has booked again, then a little longer.
                deadline = restart_done + 15
                while time.monotonic() < deadline and not any(
                        a.started > restart_done and a.payload.get("success") for a in list(attempts)):
                    time.sleep(0.1)
                time.sleep(1.0)
            finally:
                stop.set()
        health = httpx.get(f"{base_url}/health", timeout=10)

    assert not errors, errors[:5]
    assert next(slots, None) is not None, "ran out of slots before the clients were stopped"
    confirmed = {a.payload["appointmentId"]: a for a in attempts if a.payload["success"]}
    failed = [a for a in attempts if not a.payload["success"]]
    recovered = [a for a in attempts if a.started > restart_done and a.payload["success"]]
    during = [a for a in attempts if a.started < restart_done and a.finished > restart_began]
    slowest = max(a.finished - a.started for a in attempts)
    back_after = min((a.finished for a in recovered), default=float("inf")) - restart_done
    print(f"\n{fault.__name__}: {len(attempts)} requests, {len(confirmed)} confirmed, {len(failed)} failed, "
          f"fault lasted {restart_done - restart_began:.1f} s, slowest reply {slowest:.1f} s, "
          f"booking again {back_after:.1f} s after the database was back")

    # The fault really met traffic, and every request got a well-formed reply (tool_result checked it).
    assert during, "no request overlapped the fault"
    assert slowest < VAPI_TIMEOUT_S * 0.75
    # Failures are the calm spoken line, never a refusal the caller would act on, and come once the
    # wait for a connection is over, not when Vapi gives up.
    if fault is outage:
        assert failed, "nobody heard that the database was away"
    for attempt in failed:
        assert FAILURE_CODES.get(attempt.payload["error"]) == attempt.payload["message"], attempt.payload
        assert attempt.finished - attempt.started < POOL_WAIT_S * 2
    # The pool reconnected by itself: bookings succeed again within seconds, health is back.
    assert back_after < 2.5, "no booking succeeded soon after the database was back"
    assert health.status_code == 200 and health.json()["database"] == "ok"
    # No acknowledged booking lost, no booking written that was answered as failed.
    stored = appointments(database_url)
    assert set(stored) == set(confirmed)
    for appointment_id, attempt in confirmed.items():
        assert stored[appointment_id] == local_instant(attempt.slot[0], *map(int, attempt.slot[1].split(":")))
    failed_starts = {local_instant(a.slot[0], *map(int, a.slot[1].split(":"))) for a in failed}
    assert not failed_starts & set(stored.values())


# --- idempotency under concurrent retries ----------------------------------------------------------

def test_same_tool_call_twenty_times_at_once_books_once(database_url, sql):
    body = booking_body("retry-storm", next_open_day(), "10:30", "+14155550177", call_id="call-storm")
    barrier = threading.Barrier(20)

    with live_server(database_url, pool_max=20) as base_url:
        def send(_):
            with httpx.Client(base_url=base_url, headers=AUTH, timeout=VAPI_TIMEOUT_S) as http:
                barrier.wait()
                return http.post(WEBHOOK, json=body)

        with ThreadPoolExecutor(max_workers=20) as pool:
            responses = list(pool.map(send, range(20)))

    raw = [tool_result(response, "retry-storm")[0] for response in responses]
    payload = json.loads(raw[0])
    assert payload["success"] is True, payload
    assert len(set(raw)) == 1, set(raw)  # byte-identical result strings
    assert len({response.content for response in responses}) == 1
    assert sql("select id::text from public.appointments where org_id = %s", [SUNRISE]) == [(payload["appointmentId"],)]
    assert sql("select idempotency_key from public.appointments") == [(idempotency_key("call-storm", "retry-storm"),)]
    assert sql("select count(*) from public.leads where org_id = %s", [SUNRISE]) == [(1,)]
    assert sql("select count(*) from public.appointment_events where org_id = %s", [SUNRISE]) == [(1,)]


# --- a slot locked longer than the webhook may wait -------------------------------------------------

LOCK_TIMEOUT_S = 3.0  # supabase/migrations/20261125000900_faults.sql


@contextmanager
def uncommitted_booking(database_url: str, day: date, hour: int, minute: int = 0):
    """Another transaction has inserted a booking of the slot and neither commits nor rolls back."""
    conn = psycopg.connect(database_url)
    try:
        conn.execute("select set_config('role', 'service_role', true)")
        reply = conn.execute(
            "select public.book_appointment_atomic_v2(p_org_id => %s, p_name => 'Holder', p_email => null,"
            " p_phone => '+14155550100', p_service => 'consultation', p_scheduled_at => %s)",
            [SUNRISE, local_instant(day, hour, minute)]).fetchone()[0]
        assert reply["success"] is True, reply
        yield
    finally:
        conn.rollback()
        conn.close()


def rpc_errors(caplog) -> list[tuple[str, str | None]]:
    return [(r.event_fields["rpc"], r.event_fields["sqlstate"]) for r in caplog.records
            if getattr(r, "event_fields", {}).get("event") == "rpc.error"]


def test_locked_slot_answers_busy_within_budget_then_books(database_url, sql, caplog):
    caplog.set_level(logging.INFO)
    day = next_open_day()
    body = booking_body("locked-1", day, "11:00", "+14155550188")

    with live_server(database_url, pool_max=4) as base_url, \
            httpx.Client(base_url=base_url, headers=AUTH, timeout=VAPI_TIMEOUT_S) as http:
        with uncommitted_booking(database_url, day, 11):
            started = time.monotonic()
            response = http.post(WEBHOOK, json=body)
            waited = time.monotonic() - started
            _, busy = tool_result(response, "locked-1")
            # Nothing of the refused call was written, not even its lead.
            assert sql("select count(*) from public.leads where phone = '+14155550188'") == [(0,)]
        print(f"\nbusy reply after {waited:.1f} s")
        assert busy == {"success": False, "error": "busy", "message": speech.busy()}
        assert rpc_errors(caplog) == [("book_appointment", "55P03")]  # the lock_timeout ended it
        assert LOCK_TIMEOUT_S <= waited < LOCK_TIMEOUT_S + 5 < VAPI_TIMEOUT_S

        # The holder rolled back: the retry the caller was promised books the slot.
        _, retried = tool_result(http.post(WEBHOOK, json=body), "locked-1")
    assert retried["success"] is True, retried
    assert sql("select count(*) from public.appointments where org_id = %s", [SUNRISE]) == [(1,)]


def test_request_budget_caps_the_wait_below_the_lock_timeout(database_url, caplog):
    # With a 1.5 s budget the booking's statement_timeout is what is left of it (57014), not the
    # function's 3 s lock_timeout (55P03): several RPCs can never add up past the budget.
    caplog.set_level(logging.INFO)
    day = next_open_day()
    body = booking_body("budget-1", day, "13:30", "+14155550166")
    with live_server(database_url, pool_max=2, WEBHOOK_BUDGET_MS=1500) as base_url, \
            httpx.Client(base_url=base_url, headers=AUTH, timeout=VAPI_TIMEOUT_S) as http, \
            uncommitted_booking(database_url, day, 13, 30):
        _, busy = tool_result(http.post(WEBHOOK, json=body), "budget-1")
    assert busy["error"] == "busy" and busy["message"] == speech.busy()
    assert rpc_errors(caplog) == [("book_appointment", "57014")]


def test_locked_slot_is_busy_on_the_supabase_path_too(database_url):
    from api.gateway import RpcBusy, SupabaseGateway
    from postgrest_standin import PostgrestStandIn, service_role_key

    day = next_open_day()
    with PostgrestStandIn(database_url) as standin, uncommitted_booking(database_url, day, 9):
        gateway = SupabaseGateway(standin.url, service_role_key(), timeout_s=10)
        try:
            with pytest.raises(RpcBusy):
                gateway.rpc("book_appointment_atomic_v2", {
                    "p_org_id": SUNRISE, "p_name": "Other Caller", "p_email": None, "p_phone": "+14155550199",
                    "p_service": "consultation", "p_scheduled_at": local_instant(day, 9).isoformat()})
        finally:
            gateway.close()


def _rpcs_a_webhook_request_calls() -> set[str]:
    """The RPC names (string literals passed to `.rpc(...)`) in the request path: the tools, the
    webhook, the org cache and the runtime webhook-secret cache (not the credentials CLI)."""
    import ast

    def called(tree) -> set[str]:
        return {node.args[0].value for node in ast.walk(tree)
                if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "rpc"
                and node.args and isinstance(node.args[0], ast.Constant)}

    names: set[str] = set()
    for module in ("tools.py", "webhook.py", "orgs.py"):
        names |= called(ast.parse((ROOT / "api" / module).read_text()))
    credentials = ast.parse((ROOT / "api" / "credentials.py").read_text())
    (cache,) = [node for node in credentials.body if isinstance(node, ast.ClassDef) and node.name == "WebhookSecretCache"]
    return names | called(cache)


def test_every_rpc_a_webhook_request_calls_bounds_its_lock_waits_in_its_own_definition(sql):
    names = _rpcs_a_webhook_request_calls()
    assert {"book_appointment", "book_appointment_atomic_v2", "get_org_profile", "claim_webhook_signature",
            "vapi_webhook_secret_index"} <= names  # the scan sees the calls
    rows = sql("select p.proname, coalesce(p.proconfig, '{}') from pg_proc p"
               " join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public' and p.proname = any(%s)",
               [sorted(names)])
    assert {name for name, _ in rows} == names
    unbounded = sorted(name for name, config in rows
                       if not {"lock_timeout=3s", 'search_path=""'} <= set(config))
    assert unbounded == [], "add set lock_timeout = '3s' and set search_path = '' to these functions"
