"""The provider herd at the database level (issue 10): 100 simultaneous bookings of ONE slot in a clinic
with 3 providers who all perform the service must give exactly 3 bookings, 97 slot_unavailable with
alternatives and 0 errors — every run.

No HTTP in front: 100 connections are opened first (as the webhook's pool would hold them), then
released together by a barrier, each calling public.book_appointment as service_role in one autocommit
statement (the psycopg gateway's shape). Without the clinic-day queue (private.queue_clinic_days) the
losers would all insert into the next free provider together and wait on each other inside the
exclusion constraint's index (deadlocks, lock timeouts); with it they decide one after the other on
fresh data. Three runs in `make test`; `HERD_DB_RUNS=20 pytest tests/test_provider_herd_db.py -s`
repeats it (the figures docs/rpc-contract.md quotes, "Concurrency"); the 50-run loop through the
webhook is `make bench`'s.
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg

HERD = "44444444-4444-4444-8444-444444444444"
CHICAGO = ZoneInfo("America/Chicago")
CALLERS = 100
PROVIDERS = ("Dr. Ada Brooks", "Dr. Ben Ortiz", "Dr. Chen Wu")
# Runs of the herd (each on its own slot: 3 a day from 09:00, on as many days as needed).
RUNS = int(os.environ.get("HERD_DB_RUNS", "3"))

BOOK = ("select public.book_appointment(p_org_id => %s, p_name => %s, p_email => null, p_phone => %s,"
        " p_service => 'visit', p_scheduled_at => %s, p_idempotency_key => %s, p_source => 'herd')")


def herd_clinic(sql) -> None:
    """A clinic open every day 07:00–19:00 with one 30-minute service done by exactly 3 providers."""
    sql("insert into public.orgs (id, name, timezone, slot_interval_minutes, min_notice_minutes, booking_horizon_days)"
        " values (%s, 'Herd Clinic', 'America/Chicago', 30, 0, 60)", [HERD])
    sql("insert into public.services (org_id, code, name, duration_minutes, buffer_minutes, is_default)"
        " values (%s, 'visit', 'Visit', 30, 0, true)", [HERD])
    sql("insert into public.business_hours (org_id, weekday, opens_at, closes_at)"
        " select %s, d, '07:00', '19:00' from generate_series(0, 6) d", [HERD])
    # the clinic's first provider (orgs trigger) goes; three real ones perform the service
    sql("delete from public.providers where org_id = %s", [HERD])
    for name in PROVIDERS:
        sql("with p as (insert into public.providers (org_id, display_name) values (%s, %s) returning org_id, id)"
            " insert into public.provider_services (org_id, provider_id, service_id)"
            " select p.org_id, p.id, s.id from p join public.services s on s.org_id = p.org_id and s.code = 'visit'",
            [HERD, name])


def one_herd(database_url: str, slot: datetime, warm_slot: datetime, run: int) -> tuple[list, list[float], float]:
    """CALLERS connections, opened and warmed first, released at once; returns (outcomes, latencies in
    s, wall s). Warm = each has made one refused booking (the webhook's pool connections have: a new
    backend's first call also compiles every function it touches)."""
    barrier = threading.Barrier(CALLERS)
    connections = []
    for i in range(CALLERS):
        conn = psycopg.connect(database_url, autocommit=True)
        conn.execute("set role service_role")
        conn.execute("""set request.jwt.claims = '{"role": "service_role"}'""")
        warm = conn.execute(BOOK, [HERD, f"Warm {run}-{i}", f"+1773555{run:01d}{i:03d}", warm_slot, None]).fetchone()[0]
        assert warm["error"] == "slot_unavailable"
        connections.append(conn)

    def attempt(i: int):
        conn = connections[i]
        barrier.wait(timeout=60)
        began = time.perf_counter()
        try:
            value = conn.execute(BOOK, [HERD, f"Herd Patient {run}-{i}", f"+1312555{run:01d}{i:03d}", slot,
                                        f"herd:{run}:{i}"]).fetchone()[0]
            outcome = value if isinstance(value, dict) else json.loads(value)
        except psycopg.Error as exc:  # an error reaching the caller is exactly what must not happen
            outcome = {"exception": f"{exc.sqlstate}: {exc}"}
        return outcome, time.perf_counter() - began

    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=CALLERS) as pool:
            results = list(pool.map(attempt, range(CALLERS)))
    finally:
        for conn in connections:
            conn.close()
    wall = time.perf_counter() - started
    return [r for r, _ in results], [t for _, t in results], wall


def test_hundred_bookings_of_one_slot_with_three_providers_give_exactly_three(database_url, sql):
    herd_clinic(sql)
    day = datetime.now(CHICAGO).date() + timedelta(days=7)
    # the warm-up slot, on another day: full with all three providers
    warm_slot = datetime(day.year, day.month, day.day, 8, 0, tzinfo=CHICAGO) - timedelta(days=1)
    for i in range(3):
        sql(BOOK.replace("select", "select 1 from (select", 1) + ") b",
            [HERD, f"Warm Holder {i}", f"+1773555900{i}", warm_slot, None])
    figures = []
    for run in range(RUNS):
        slot = datetime(day.year, day.month, day.day, 9 + 2 * (run % 3), 0, tzinfo=CHICAGO) + timedelta(days=run // 3)
        outcomes, latencies, wall = one_herd(database_url, slot, warm_slot, run)

        errors = [o for o in outcomes if "exception" in o]
        winners = [o for o in outcomes if o.get("success")]
        losers = [o for o in outcomes if o.get("success") is False]
        assert errors == [], f"run {run}: {len(errors)} errors reached callers, e.g. {errors[:3]}"
        assert len(winners) == 3, f"run {run}: {len(winners)} bookings"
        assert len(losers) == CALLERS - 3
        assert {o["error"] for o in losers} == {"slot_unavailable"}
        # alternatives: nearest free times at which someone is free (the slot itself is full)
        assert all(len(o["alternatives"]) == 3 and len(o["alternativeSlots"]) == 3 for o in losers)
        assert all(slot.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ") not in o["alternatives"]
                   for o in losers)
        # one booking per provider, and the database agrees with the replies
        assert sorted(o["provider"]["name"] for o in winners) == sorted(PROVIDERS)
        rows = sql("select p.display_name from public.appointments a"
                   " join public.providers p on p.org_id = a.org_id and p.id = a.provider_id"
                   " where a.org_id = %s and a.starts_at = %s and a.status <> 'cancelled' order by 1", [HERD, slot])
        assert [r[0] for r in rows] == sorted(PROVIDERS)
        assert sql("select count(*) from public.caller_access_log where org_id = %s and action = 'book'"
                   " and outcome = 'booked'", [HERD]) == [(3 * (run + 2),)]

        latencies.sort()
        figures.append({"run": run, "wall_s": round(wall, 3),
                        "p50_ms": round(statistics.median(latencies) * 1000, 1),
                        "p99_ms": round(latencies[int(0.99 * (len(latencies) - 1))] * 1000, 1),
                        "max_ms": round(latencies[-1] * 1000, 1)})
    print("\nprovider herd (DB level, 100 callers, 3 providers):", figures)
    print(f"exact runs: {len(figures)} of {RUNS}; p99 median {statistics.median(f['p99_ms'] for f in figures)} ms,"
          f" max {max(f['p99_ms'] for f in figures)} ms")
    assert sql("select count(*) from public.appointments where org_id = %s", [HERD]) == [(3 * RUNS + 3,)]
    assert sql("select count(*) from public.leads where org_id = %s", [HERD]) == [(3 * RUNS + 3,)]
