"""Operator commands: `flask --app api health-check` and `flask --app api stress-test`.

Both talk to a *running* service over HTTP with the real Vapi envelope (POST /api/vapi/webhook;
with `--org`, the v2 route, where a metadata org id is the org source), exactly as Vapi would, and use the app's RPC gateway only for what HTTP cannot do: set up the
dedicated health-check clinic, read back what was stored, and clean up afterwards (SQL functions
in supabase/migrations/20261125000800_operations.sql). By default they book in the health-check
clinic (never a real calendar); `--org` aims them at a given clinic, and then exactly the bookings
they made are removed again.

Free times are found through the service's own `checkAvailability` tool, so the commands work for
any clinic's hours and never depend on a slot being free by luck.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo

import click
import httpx
from flask import Flask, current_app
from flask.cli import with_appcontext

from ..gateway import RpcError, RpcGateway
from ..speech import parse_instant, spoken_date, spoken_time
from .common import gateway as app_gateway


def default_url() -> str:
    """Where `make dev` and gunicorn.conf.py serve by default: 127.0.0.1 on $PORT (3001)."""
    return f"http://127.0.0.1:{os.environ.get('PORT') or '3001'}"


# Bookings whose Vapi call id (the `booked` event's callId, from the caller context) starts with
# this are the only ones the SQL cleanup may delete (private.is_health_check_booking(uuid, uuid));
# keep the two in step.
CALL_ID_PREFIX = "health-check-"
CHECK_PHONE = "+1 415 555 0100"  # 555-01xx: reserved for fiction in the NANP
SCENARIO_4_PHONE = "(415) 555-0123"
SCENARIO_4_E164 = "+14155550123"
STRESS_PHONE = "+1 415 555 0199"
PREFERRED_START = "9:00 AM"  # ask for daytime slots, as a caller would


def init_app(app: Flask) -> None:
    app.cli.add_command(health_check)
    app.cli.add_command(stress_test)


class CheckFailure(Exception):
    """A scenario could not be carried out or its outcome was wrong; the text says why."""


@dataclass
class Target:
    org_id: str
    timezone: ZoneInfo
    dedicated: bool
    assistant_id: str | None = None
    created: list[str] = field(default_factory=list)  # appointment ids to clean up

    @property
    def label(self) -> str:
        kind = "the health-check clinic" if self.dedicated else "org"
        return f"{kind} {self.org_id} ({self.timezone.key})"

    def today(self) -> date:
        return datetime.now(self.timezone).date()

    def local(self, instant: str) -> datetime:
        return parse_instant(instant).astimezone(self.timezone)


class WebhookClient:
    """An HTTP client of the running service's webhook that speaks to it as Vapi does."""

    def __init__(self, url: str, secret: str, target: Target, run_id: str, *, timeout: float = 15.0,
                 connections: int = 10):
        headers = {"X-Vapi-Secret": secret} if secret else {}
        self._http = httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=timeout,
                                  limits=httpx.Limits(max_connections=connections))
        self._target = target
        # A clinic given by --org has no assistant of ours, only its org id in the metadata; outside
        # development only the v2 route (the platform's own secret) takes metadata as the org source.
        self._path = "/api/vapi/webhook" if target.assistant_id else "/api/vapi/tools/bookClinicAppointment"
        self._run_id = run_id
        self._calls = 0
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    def tool(self, name: str, arguments: dict[str, Any]) -> tuple[dict, float]:
        """Call one tool through the webhook; the tool's result object and the round trip in ms."""
        with self._lock:
            self._calls += 1
            number = self._calls
        call_id = f"{CALL_ID_PREFIX}{self._run_id}-{number}"
        org_claim = {"org_id": self._target.org_id}
        assistant = ({"id": self._target.assistant_id, "metadata": org_claim} if self._target.assistant_id
                     else {"metadata": org_claim})
        body = {"message": {
            "type": "tool-calls",
            "call": {"id": call_id},
            "assistant": assistant,
            "toolCallList": [{"id": f"{call_id}-tool", "type": "function",
                              "function": {"name": name, "arguments": arguments}}],
        }}
        started = time.perf_counter()
        try:
            response = self._http.post(self._path, json=body)
        except httpx.HTTPError as exc:
            raise CheckFailure(f"{name}: no answer from {self._http.base_url} ({type(exc).__name__})") from None
        elapsed_ms = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise CheckFailure(f"{name}: HTTP {response.status_code}: {response.text[:200]}")
        try:
            (result,) = response.json()["results"]
            payload = json.loads(result["result"])
        except (ValueError, KeyError, TypeError):
            raise CheckFailure(f"{name}: not a Vapi tool result: {response.text[:200]}") from None
        return payload, elapsed_ms

    def free_slot(self, day: date, *, skip_feb_29: bool = False) -> str:
        """The first free start (ISO UTC) from 9 AM on `day`, or on the clinic's next open day."""
        for _ in range(8):
            reply, _ = self.tool("checkAvailability", {"date": day.isoformat(), "time": PREFERRED_START})
            slots = reply.get("slots") or []
            if not reply.get("success") or not slots:
                raise CheckFailure(f"checkAvailability found no free time from {day}: {reply.get('message')}")
            local = self._target.local(slots[0]).date()
            if not (skip_feb_29 and (local.month, local.day) == (2, 29)):
                return slots[0]
            day = local + timedelta(days=1)
        raise CheckFailure(f"no usable free time after {day}")

    def book(self, instant: str, *, date_text: str | None = None, phone: str = CHECK_PHONE,
             name: str = "Health Check") -> tuple[dict, float]:
        local = self._target.local(instant)
        return self.tool("bookClinicAppointment", {
            "appointmentDate": date_text or local.date().isoformat(),
            "appointmentTime": f"{local:%I:%M %p}",
            "patientName": name,
            "patientPhone": phone,
        })


def check_reachable(url: str, timeout: float) -> None:
    """GET /health: when nothing answers, say so at once instead of setting anything up."""
    try:
        response = httpx.get(url.rstrip("/") + "/health", timeout=timeout)
    except httpx.HTTPError as exc:
        raise CheckFailure(f"service unreachable at {url}: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise CheckFailure(f"GET {url}/health answered {response.status_code}: {response.text[:200]}")


# ---------------------------------------------------------------------------------------------
# Database side: setup, inspection, cleanup (service_role RPCs)
# ---------------------------------------------------------------------------------------------


def prepare_target(gateway: RpcGateway, org_id: str | None) -> Target:
    if org_id is None:
        reply = gateway.rpc("ensure_health_check_org", {})
        if not reply.get("success"):
            raise CheckFailure(f"could not set up the health-check clinic: {reply.get('message')}")
        return Target(reply["orgId"], ZoneInfo(reply["timezone"]), dedicated=True,
                      assistant_id=reply.get("assistantId"))
    reply = gateway.rpc("get_org_profile", {"p_org_id": org_id})
    if not reply.get("success"):
        raise CheckFailure(f"unknown org {org_id}")
    return Target(reply["org"]["id"], ZoneInfo(reply["timezone"]), dedicated=False)


def inspect(gateway: RpcGateway, target: Target, *, appointment_id: str | None = None,
            scheduled_at: str | None = None) -> dict:
    reply = gateway.rpc("health_check_inspect", {"p_org_id": target.org_id, "p_appointment_id": appointment_id,
                                                 "p_scheduled_at": scheduled_at})
    if not reply.get("success"):
        raise CheckFailure(f"could not read back the booking: {reply.get('error')}")
    return reply


def stored_appointment(gateway: RpcGateway, target: Target, appointment_id: str) -> dict:
    appointment = inspect(gateway, target, appointment_id=appointment_id).get("appointment")
    if not appointment:
        raise CheckFailure(f"appointment {appointment_id} is not in the database")
    return appointment


def clean_up(gateway: RpcGateway, target: Target) -> str:
    """Remove what this run booked; a line saying what was removed."""
    if target.dedicated:
        reply = gateway.rpc("clear_health_check_org", {})
    else:
        reply = gateway.rpc("clear_health_check_bookings", {"p_org_id": target.org_id,
                                                            "p_appointment_ids": "{" + ",".join(target.created) + "}"})
    if not reply.get("success"):
        raise CheckFailure(f"cleanup refused: {reply.get('error')}")
    return f"cleanup: removed {reply['appointments']} appointment(s), {reply['leads']} lead(s)"


def _booked(target: Target, reply: dict) -> str:
    """The appointment id of a successful booking reply (remembered for cleanup)."""
    if not reply.get("success") or not reply.get("appointmentId"):
        raise CheckFailure(f"booking refused: {reply.get('error')}: {reply.get('message')}")
    target.created.append(reply["appointmentId"])
    return reply["appointmentId"]


def _spoken(target: Target, instant: str) -> str:
    local = target.local(instant)
    return f"{spoken_date(local)} at {spoken_time(local)}"


# ---------------------------------------------------------------------------------------------
# health-check
# ---------------------------------------------------------------------------------------------


SCENARIO_TITLES = ("booking succeeds", "same slot again -> slot_unavailable with alternatives",
                   "stale year two years back rolled forward", "phone (415) 555-0123 stored as E.164")


def _health_scenarios(webhook: WebhookClient, gateway: RpcGateway, target: Target) -> tuple[Callable[[], str], ...]:
    """The four scenarios, in SCENARIO_TITLES order; each returns what it saw or raises CheckFailure."""
    first: dict[str, str] = {}

    def booking_succeeds() -> str:
        slot = webhook.free_slot(target.today() + timedelta(days=7))
        reply, _ = webhook.book(slot)
        appointment_id = _booked(target, reply)
        stored = stored_appointment(gateway, target, appointment_id)
        if stored["scheduledAt"] != slot:
            raise CheckFailure(f"booked {slot} but {stored['scheduledAt']} was stored")
        first["slot"] = slot
        return f"{_spoken(target, slot)} booked (appointment {appointment_id})"

    def same_slot_pivots() -> str:
        if "slot" not in first:
            raise CheckFailure("needs the booking of scenario 1")
        reply, _ = webhook.book(first["slot"], name="Health Check Second Caller")
        if reply.get("success"):
            _booked(target, reply)
            raise CheckFailure("the same slot was booked twice")
        alternatives = reply.get("alternatives") or []
        if reply.get("error") != "slot_unavailable" or not alternatives:
            raise CheckFailure(f"expected slot_unavailable with alternatives, got {reply.get('error')} "
                               f"with {len(alternatives)} alternative(s)")
        rows = inspect(gateway, target, scheduled_at=first["slot"])["activeRowsAtSlot"]
        if rows != 1:
            raise CheckFailure(f"{rows} active rows for the slot, expected 1")
        return f"slot_unavailable with {len(alternatives)} alternative(s): {reply.get('message')}"

    def stale_year_rolls_forward() -> str:
        slot = webhook.free_slot(target.today() + timedelta(days=14), skip_feb_29=True)
        local = target.local(slot)
        stale = local.date().replace(year=local.year - 2)
        reply, _ = webhook.book(slot, date_text=stale.isoformat())
        appointment_id = _booked(target, reply)
        stored = stored_appointment(gateway, target, appointment_id)["scheduledAt"]
        stored_local = target.local(stored)
        if stored_local <= datetime.now(timezone.utc):
            raise CheckFailure(f"{stale} was stored in the past ({stored})")
        if stored != slot:
            raise CheckFailure(f"{stale} was stored as {stored}, expected {slot} (year {local.year})")
        return f"{stale} was booked as {stored_local.date()} ({stored}, in the future)"

    def phone_is_e164() -> str:
        slot = webhook.free_slot(target.today() + timedelta(days=7))
        reply, _ = webhook.book(slot, phone=SCENARIO_4_PHONE, name="Health Check Phone")
        appointment_id = _booked(target, reply)
        phone = stored_appointment(gateway, target, appointment_id)["phone"]
        if phone != SCENARIO_4_E164:
            raise CheckFailure(f"{SCENARIO_4_PHONE} was stored as {phone}")
        return f"{SCENARIO_4_PHONE} stored as {phone}"

    return booking_succeeds, same_slot_pivots, stale_year_rolls_forward, phone_is_e164


def _report(number: int, title: str, passed: bool, detail: str) -> None:
    click.echo(f"{'PASS' if passed else 'FAIL'} {number} {title}: {detail}")


@click.command("health-check")
@click.option("--url", default=default_url, show_default="http://127.0.0.1:$PORT, PORT=3001",
              help="Base URL of the running service.")
@click.option("--org", "org_id", type=click.UUID, default=None,
              help="Check this clinic instead of the dedicated health-check clinic "
                   "(only the bookings the check makes are removed afterwards).")
@click.option("--timeout", default=15.0, show_default=True, help="Seconds to wait for each HTTP answer.")
@with_appcontext
def health_check(url: str, org_id: uuid.UUID | None, timeout: float) -> None:
    """The four v2 scenarios against a running service; exit code 0 only if all pass."""
    passed = _run_health_check(url, str(org_id) if org_id else None, timeout)
    click.echo("ALL HEALTH CHECKS PASSED" if passed else "HEALTH CHECK FAILED")
    raise SystemExit(0 if passed else 1)


def _set_up(url: str, org_id: str | None, timeout: float) -> tuple[RpcGateway, Target]:
    """The gateway and the clinic to work in, once the service answers. Raises CheckFailure/RpcError."""
    check_reachable(url, timeout)
    gateway = app_gateway()
    return gateway, prepare_target(gateway, org_id)


def _run_health_check(url: str, org_id: str | None, timeout: float) -> bool:
    try:
        gateway, target = _set_up(url, org_id, timeout)
    except (CheckFailure, RpcError) as failure:
        for number, title in enumerate(SCENARIO_TITLES, start=1):
            _report(number, title, False, str(failure))
        return False

    click.echo(f"health-check: {url} -> {target.label}")
    webhook = WebhookClient(url, current_app.config["VAPI_SECRET"], target, uuid.uuid4().hex[:12], timeout=timeout)
    results = []
    try:
        scenarios = zip(SCENARIO_TITLES, _health_scenarios(webhook, gateway, target))
        for number, (title, scenario) in enumerate(scenarios, start=1):
            try:
                detail, passed = scenario(), True
            except (CheckFailure, RpcError) as failure:
                detail, passed = str(failure), False
            _report(number, title, passed, detail)
            results.append(passed)
    finally:
        webhook.close()
        results.append(_clean_up_and_report(gateway, target))
    return all(results)


def _clean_up_and_report(gateway: RpcGateway, target: Target) -> bool:
    try:
        click.echo(clean_up(gateway, target))
        return True
    except (CheckFailure, RpcError) as failure:
        click.echo(f"FAIL cleanup: {failure}")
        return False


# ---------------------------------------------------------------------------------------------
# stress-test
# ---------------------------------------------------------------------------------------------


@dataclass
class Attempt:
    outcome: str  # "success", "conflict" (slot_unavailable with alternatives), or what went wrong
    latency_ms: float | None
    appointment_id: str | None = None


def _attempt(webhook: WebhookClient, slot: str, index: int, start: threading.Barrier) -> Attempt:
    try:
        start.wait()
    except threading.BrokenBarrierError:
        return Attempt("error: the requests could not be started together", None)
    try:
        reply, latency = webhook.book(slot, phone=STRESS_PHONE, name=f"Stress Test {index}")
    except CheckFailure as failure:
        return Attempt(f"error: {failure}", None)
    if reply.get("success"):
        return Attempt("success", latency, reply.get("appointmentId"))
    if reply.get("error") == "slot_unavailable" and reply.get("alternatives"):
        return Attempt("conflict", latency)
    if reply.get("error") == "slot_unavailable":
        return Attempt("slot_unavailable without alternatives", latency)
    return Attempt(f"error: {reply.get('error')}", latency)


def percentiles(values: list[float]) -> dict[str, float]:
    """p50/p95/p99 (inclusive method: they never exceed the maximum) and max, in the values' unit."""
    if not values:
        return {}
    if len(values) == 1:
        return {"p50": values[0], "p95": values[0], "p99": values[0], "max": values[0]}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "max": max(values)}


@click.command("stress-test")
@click.option("--url", default=default_url, show_default="http://127.0.0.1:$PORT, PORT=3001",
              help="Base URL of the running service.")
@click.option("-n", "--requests", "count", type=click.IntRange(2, 500), default=50, show_default=True,
              help="Concurrent bookings of the same slot.")
@click.option("--org", "org_id", type=click.UUID, default=None,
              help="Race in this clinic instead of the dedicated health-check clinic.")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds to wait for each HTTP answer.")
@with_appcontext
def stress_test(url: str, count: int, org_id: uuid.UUID | None, timeout: float) -> None:
    """N concurrent bookings of one slot: passes with exactly 1 success, N-1 slot_unavailable with
    alternatives, no errors and exactly one row for the slot."""
    problems = _run_stress_test(url, count, str(org_id) if org_id else None, timeout)
    click.echo("PASS: exactly one booking won the slot" if not problems else "FAIL: " + "; ".join(problems))
    raise SystemExit(0 if not problems else 1)


def _run_stress_test(url: str, count: int, org_id: str | None, timeout: float) -> list[str]:
    try:
        gateway, target = _set_up(url, org_id, timeout)
    except (CheckFailure, RpcError) as failure:
        return [f"setup: {failure}"]
    webhook = WebhookClient(url, current_app.config["VAPI_SECRET"], target, uuid.uuid4().hex[:12], timeout=timeout,
                      connections=count)
    problems: list[str] = []
    try:
        slot = webhook.free_slot(target.today() + timedelta(days=3))
        click.echo(f"stress-test: {count} concurrent bookings of {_spoken(target, slot)} ({slot}) "
                   f"at {url} -> {target.label}")
        start = threading.Barrier(count, timeout=60)  # all requests leave at once
        with ThreadPoolExecutor(max_workers=count) as pool:
            attempts = list(pool.map(lambda i: _attempt(webhook, slot, i, start), range(1, count + 1)))
        target.created.extend(a.appointment_id for a in attempts if a.appointment_id)

        successes = sum(a.outcome == "success" for a in attempts)
        conflicts = sum(a.outcome == "conflict" for a in attempts)
        others = [a.outcome for a in attempts if a.outcome not in ("success", "conflict")]
        rows = inspect(gateway, target, scheduled_at=slot)["rowsAtSlot"]
        click.echo(f"successes: {successes}")
        click.echo(f"conflicts (slot_unavailable with alternatives): {conflicts}")
        click.echo(f"errors: {len(others)}")
        for outcome in sorted(set(others)):
            click.echo(f"  {others.count(outcome)} x {outcome}")
        click.echo(f"rows in the database for the slot: {rows}")
        figures = percentiles([a.latency_ms for a in attempts if a.latency_ms is not None])
        if figures:
            click.echo("latency ms: " + "  ".join(f"{k} {v:.1f}" for k, v in figures.items()))

        if successes != 1:
            problems.append(f"{successes} successes, expected exactly 1")
        if conflicts != count - 1:
            problems.append(f"{conflicts} conflicts with alternatives, expected {count - 1}")
        if others:
            problems.append(f"{len(others)} errors")
        if rows != 1:
            problems.append(f"{rows} rows for the slot, expected exactly 1")
    except (CheckFailure, RpcError) as failure:
        problems.append(str(failure))
    finally:
        webhook.close()
        if not _clean_up_and_report(gateway, target):
            problems.append("cleanup failed")
    return problems
