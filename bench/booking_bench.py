"""`make bench`: latency and throughput figures for the booking path, with ratios.

Absolute milliseconds depend on the machine; the ratios measured in one run are what to compare:
conflict path vs success path (alternatives cost), webhook vs bare RPC (Python overhead), and
throughput with 8 connections vs 1 (how well the exclusion constraint lets bookings run in parallel).
Runs against the database in DATABASE_URL (make bench resets it first).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time as dtime, timedelta
from zoneinfo import ZoneInfo

import psycopg

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

SUNRISE = "11111111-1111-4111-8111-111111111111"
BAYVIEW = "22222222-2222-4222-8222-222222222222"
NEW_YORK = ZoneInfo("America/New_York")
BOOK = ("select public.book_appointment_atomic_v2(p_org_id => %s, p_name => %s, p_email => null,"
        " p_phone => %s, p_service => %s, p_scheduled_at => %s)")
URL = os.environ["DATABASE_URL"]


def open_days(count: int, tz=NEW_YORK):
    day, found = datetime.now(tz).date() + timedelta(days=2), []
    while len(found) < count:
        if day.weekday() < 5 and (day.month, day.day) != (1, 1):
            found.append(day)
        day += timedelta(days=1)
    return found


def connect():
    conn = psycopg.connect(URL, autocommit=True)
    conn.execute("set role service_role")
    return conn


def timed(fn, n):
    samples = []
    for i in range(n):
        t = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - t) * 1000)
    return samples


def summary(name, samples):
    p50 = statistics.median(samples)
    p95 = sorted(samples)[int(len(samples) * 0.95) - 1]
    print(f"  {name:<50} n={len(samples):<5} p50={p50:7.2f} ms  p95={p95:7.2f} ms")
    return p50


def main():
    conn = connect()
    days = open_days(40)
    slots = [datetime.combine(d, dtime(h, m), NEW_YORK) for d in days for h in (9, 10, 11, 13, 14, 15, 16)
             for m in (0, 30)]
    print("booking RPC, one connection (Sunrise Family Clinic, 30-min consultations)")
    # Every other slot booked: a half-full calendar, so a conflict finds neighbours the same day.
    half_full = slots[::2][:200]
    success = summary("success (new lead + appointment + event)",
                      timed(lambda i: conn.execute(BOOK, [SUNRISE, f"B {i}", f"+1415600{i:04d}", "consultation",
                                                          half_full[i]]).fetchone(), 200))
    conflict = summary("conflict, half-full day (3 same-day alternatives)",
                       timed(lambda i: conn.execute(BOOK, [SUNRISE, f"C {i}", f"+1415700{i:04d}", "consultation",
                                                           half_full[i]]).fetchone(), 200))
    for i, slot in enumerate(s for s in slots[1::2] if s.date() in days[:3]):  # fill three days completely
        conn.execute(BOOK, [SUNRISE, f"F {i}", f"+1415750{i:04d}", "consultation", slot])
    summary("conflict, day fully booked (next days)",
            timed(lambda i: conn.execute(BOOK, [SUNRISE, "E", "+14157760000", "consultation",
                                                datetime.combine(days[1], dtime(10), NEW_YORK)]).fetchone(), 100))
    summary("closed day (alternatives on following days)",
            timed(lambda i: conn.execute(BOOK, [SUNRISE, "D", "+14157770000", "consultation",
                                                datetime.combine(days[-1] + timedelta(days=(5 - days[-1].weekday()) % 7 + 1),
                                                                 dtime(10), NEW_YORK)]).fetchone(), 100))
    print(f"  ratio conflict/success p50: {conflict / success:.2f}")

    from api import create_app

    app = create_app({"APP_ENV": "bench", "VAPI_SECRET": "bench", "DATABASE_URL": URL, "LOG_LEVEL": "WARNING"})
    client = app.test_client()
    bench_days = open_days(80)[40:]

    def webhook(i):
        day = bench_days[i // 14]
        hour = [9, 10, 11, 13, 14, 15, 16][(i % 14) // 2]
        body = {"message": {"type": "tool-calls", "toolCallList": [{"id": f"w{i}", "type": "function", "function": {
            "name": "bookClinicAppointment", "arguments": {
                "appointmentDate": day.isoformat(), "appointmentTime": f"{hour}:{'30' if i % 2 else '00'}",
                "patientName": "bench patient", "patientPhone": f"(415) 800-{i:04d}"}}}],
            "customer": {"metadata": {"org_id": SUNRISE}}}}
        response = client.post("/api/vapi/webhook", json=body, headers={"X-Vapi-Secret": "bench"})
        assert response.status_code == 200

    print("\nwebhook end to end (Flask test client → normalize → RPC → speech)")
    hook = summary("bookClinicAppointment via /api/vapi/webhook", timed(webhook, 200))
    print(f"  ratio webhook/bare RPC p50: {hook / success:.2f}")
    app.extensions["booking"].gateway.close()

    print("\nthroughput: 1,000 random booking requests across two clinics (exclusion constraint under contention)")
    import random

    # Two disjoint sets of days with the same request pattern, so both runs face the same contention.
    tp_days = open_days(63)[55:]  # after the webhook's days, inside both clinics' horizons
    day_sets = {1: tp_days[:4], 8: tp_days[4:]}

    def pattern(days):
        rng = random.Random(7)
        return [(rng.choice([SUNRISE, BAYVIEW]), f"T {i}", f"+1416{rng.randint(0, 9_999_999):07d}", "consultation",
                 datetime.combine(days[rng.randrange(len(days))], dtime(rng.randint(9, 15), rng.choice([0, 30])),
                                  NEW_YORK)) for i in range(500)]

    rates = {}
    for workers in (1, 8):
        chunk = pattern(day_sets[workers])
        conns = [connect() for _ in range(workers)]

        def run(indexed):
            i, req = indexed
            return conns[i % workers].execute(BOOK, list(req)).fetchone()[0]["success"]

        start = time.perf_counter()
        if workers == 1:
            ok = sum(run(x) for x in enumerate(chunk))
        else:
            with ThreadPoolExecutor(workers) as pool:
                # one connection per worker thread: partition the requests by worker
                def worker(w):
                    return sum(conns[w].execute(BOOK, list(r)).fetchone()[0]["success"] for r in chunk[w::workers])
                ok = sum(pool.map(worker, range(workers)))
        elapsed = time.perf_counter() - start
        rates[workers] = len(chunk) / elapsed
        print(f"  {workers} connection(s): {rates[workers]:7.1f} requests/s ({ok} booked, {len(chunk) - ok} refused)")
        for c in conns:
            c.close()
    print(f"  ratio 8 connections / 1: {rates[8] / rates[1]:.2f} (2 cores)")
    overlaps = conn.execute("""select count(*) from public.appointments a join public.appointments b
        on a.org_id = b.org_id and a.id < b.id and a.blocked && b.blocked
        where a.status <> 'cancelled' and b.status <> 'cancelled'""").fetchone()[0]
    print(f"\noverlapping active appointments after the run: {overlaps}")


if __name__ == "__main__":
    main()
