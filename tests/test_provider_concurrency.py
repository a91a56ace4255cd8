"""Providers under concurrency (issue 10), through the service: the herd and a mixed random load.

* The herd: 100 callers ask for the same slot of a clinic with 3 qualified providers at the same
  instant, through the webhook (Flask, normalization, the app's pool of 100 warm connections):
  exactly 3 bookings, one per provider, 97 `slot_unavailable` with alternatives, 0 errors — in each
  of 3 runs here (`make bench` repeats it 50 times).
* 2,000 random bookings across three multi-provider clinics through the app's gateway, named
  providers and "any", families sharing a phone: no provider and no patient is ever in two places.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from api import create_app
from api.gateway import PostgresGateway
from conftest import AUTH, BAYVIEW, LOS_ANGELES, NEW_YORK, SECRET, SUNRISE, local_instant, next_open_day
from test_webhook import WEBHOOK, vapi_body

HERD = "44444444-4444-4444-8444-444444444444"
HERD_PROVIDERS = ("Dr. Herd One", "Dr. Herd Two", "Dr. Herd Three")


def add_herd_clinic(sql) -> None:
    """A clinic with three providers who all do consultations, open every day 08:00-18:00. Set up as a
    clinic would be: the org's own provider (created with it, holding the service) renamed, then two more."""
    sql("insert into public.orgs (id, name, timezone, slot_interval_minutes, min_notice_minutes, booking_horizon_days)"
        " values (%s, 'Herd Clinic', 'America/New_York', 30, 60, 90)", [HERD])
    sql("insert into public.services (org_id, code, name, duration_minutes, buffer_minutes, is_default)"
        " values (%s, 'consultation', 'Consultation', 30, 0, true)", [HERD])
    sql("insert into public.business_hours (org_id, weekday, opens_at, closes_at)"
        " select %s, d, '08:00', '18:00' from generate_series(0, 6) d", [HERD])
    sql("update public.providers set display_name = %s where org_id = %s", [HERD_PROVIDERS[0], HERD])
    sql("insert into public.providers (org_id, display_name) values (%s, %s), (%s, %s)",
        [HERD, HERD_PROVIDERS[1], HERD, HERD_PROVIDERS[2]])
    sql("insert into public.provider_services (org_id, provider_id, service_id)"
        " select p.org_id, p.id, s.id from public.providers p join public.services s on s.org_id = p.org_id"
        " where p.org_id = %s on conflict do nothing", [HERD])
    assert sql("select count(*) from public.provider_services where org_id = %s", [HERD]) == [(3,)]


def herd_run(app, day, at: str, tag: str, callers: int = 100) -> dict:
    """`callers` webhook requests for one slot, released together; what they got back."""
    gate = threading.Barrier(callers)

    def one(i: int):
        phone = f"+1415{700 + i // 10000:03d}{i % 10000:04d}"
        body = vapi_body((f"{tag}-tool-{i}", "bookClinicAppointment", {
            "appointmentDate": day.isoformat(), "appointmentTime": at, "patientName": f"Herd Caller {i}",
            "patientPhone": phone, "serviceType": "consultation"}), org=HERD, caller=phone, call_id=f"{tag}-call-{i}")
        client = app.test_client()
        gate.wait()
        started = time.perf_counter()
        response = client.post(WEBHOOK, json=body, headers=AUTH)
        elapsed_ms = (time.perf_counter() - started) * 1000
        result = json.loads(response.get_json()["results"][0]["result"]) if response.status_code == 200 else {}
        return response.status_code, result, elapsed_ms

    with ThreadPoolExecutor(max_workers=callers) as pool:
        outcomes = list(pool.map(one, range(callers)))
    successes = [r for status, r, _ in outcomes if status == 200 and r.get("success")]
    conflicts = [r for status, r, _ in outcomes if status == 200 and r.get("error") == "slot_unavailable"
                 and r.get("alternatives")]
    latencies = sorted(ms for _, _, ms in outcomes)
    return {"successes": successes, "conflicts": conflicts, "errors": callers - len(successes) - len(conflicts),
            "other": Counter(r.get("error") for status, r, _ in outcomes
                             if not r.get("success") and r not in conflicts),
            "p50_ms": latencies[len(latencies) // 2], "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)],
            "max_ms": latencies[-1]}


WARM_UP = ("select public.book_appointment(p_org_id => %s, p_name => %s, p_email => null, p_phone => %s,"
           " p_service => 'consultation', p_scheduled_at => %s)")


def warm_connections(gateway: PostgresGateway, sql, connections: int = 100) -> None:
    """Every pooled connection books once, losing with alternatives, as the connections of a service
    that has been answering calls have: PL/pgSQL plans are per session, and a session's first booking
    costs ~10x a later one (on a loaded 2-core box 50-100 ms, which a herd would queue for).
    Ten days with their three providers taken; ten connections per day, all at once."""
    days = sorted({next_open_day(min_days=20 + i, weekdays=range(7)) for i in range(20)})[:10]  # ten distinct days
    for day in days:
        for i in range(3):
            assert gateway.rpc("book_appointment", {"p_org_id": HERD, "p_name": f"Warm {i}", "p_email": None,
                                                    "p_phone": f"+1415690{i:04d}", "p_service": "consultation",
                                                    "p_scheduled_at": local_instant(day, 9).isoformat()})["success"]
    held = threading.Barrier(connections)

    def warm(i: int) -> None:
        with gateway._pool.connection() as conn:
            held.wait()  # every thread holds its own connection
            conn.execute(WARM_UP, [HERD, f"Warm Loser {i}", f"+1415691{i:04d}",
                                   local_instant(days[i % len(days)], 9)]).fetchone()
            held.wait()

    with ThreadPoolExecutor(max_workers=connections) as pool:
        list(pool.map(warm, range(connections)))


@pytest.mark.slow
def test_the_three_provider_herd_through_the_webhook(database_url, sql):
    add_herd_clinic(sql)
    gateway = PostgresGateway(database_url, min_size=100, max_size=100)
    try:
        gateway._pool.wait(timeout=60)
        warm_connections(gateway, sql)  # 100 warm connections, as a busy service has
        app = create_app({"TESTING": True, "APP_ENV": "test", "VAPI_SECRET": SECRET, "DATABASE_URL": database_url},
                         gateway=gateway)
        # the org's profile and mapping are cached before the herd, as in a running service
        warm = app.test_client().post(WEBHOOK, json=vapi_body(("warm", "checkAvailability", {}), org=HERD), headers=AUTH)
        assert warm.status_code == 200
        for run in range(3):
            day = next_open_day(min_days=3 + run)
            start = local_instant(day, 10)
            outcome = herd_run(app, day, "10:00", f"herd{run}")
            assert outcome["errors"] == 0, (outcome["other"], outcome["p50_ms"], outcome["max_ms"])
            assert len(outcome["successes"]) == 3 and len(outcome["conflicts"]) == 97
            assert {r["provider"]["name"] for r in outcome["successes"]} == set(HERD_PROVIDERS)
            assert all(r["message"].startswith("That time is no longer available.") for r in outcome["conflicts"])
            rows = sql("select count(distinct provider_id), count(*) from public.appointments"
                       " where org_id = %s and starts_at = %s and status <> 'cancelled'", [HERD, start])
            assert rows == [(3, 3)]
            print(f"herd run {run}: 3 booked, 97 alternatives, 0 errors, p99 {outcome['p99_ms']:.0f} ms")
    finally:
        gateway.close()


# --- 2,000 random mixed bookings --------------------------------------------------------------------

CLINICS = {
    SUNRISE: (NEW_YORK, {"consultation": ["Dr. Patel", "dr anika patel", "Marcus", "Dr. Lee"],
                         "checkup": ["Anika", "doctor lee"], "vaccination": ["Nurse Kim", "Joy"]}),
    BAYVIEW: (LOS_ANGELES, {"cleaning": ["Dana", "Omar Haddad", "dana whitfield"],
                            "consultation": ["Dr. Reyes"], "whitening": ["Sofia"]}),
    HERD: (NEW_YORK, {"consultation": list(HERD_PROVIDERS)}),
}
ALLOWED = {"slot_unavailable", "outside_business_hours", "ends_after_closing", "closed", "too_soon", "provider_unavailable",
           "provider_not_qualified", "patient_busy"}


def random_requests(count: int, seed: int = 20261130) -> list[dict]:
    rng = random.Random(seed)
    days = sorted({next_open_day(min_days=2 + i, weekdays=(0, 1, 2, 3)) for i in range(10)})
    # 300 families: one phone, one to three patients (siblings may overlap, one patient may not)
    families = [(f"+1415{rng.randint(0, 9_999_999):07d}", [f"Kid{k} Family{f}" for k in range(rng.randint(1, 3))])
                for f in range(300)]
    requests = []
    for _ in range(count):
        org = rng.choice(list(CLINICS))
        tz, services = CLINICS[org]
        service = rng.choice(list(services))
        phone, kids = rng.choice(families)
        start = local_instant(rng.choice(days), rng.randint(8, 15), rng.choice([0, 10, 15, 20, 30, 40, 45, 50]), tz)
        params = {"p_org_id": org, "p_name": rng.choice(kids), "p_email": None, "p_phone": phone,
                  "p_service": service, "p_scheduled_at": start.isoformat(), "p_idempotency_key": None,
                  "p_source": "api", "p_date_of_birth": None, "p_caller": None}
        pick = rng.random()
        if pick < 0.4:
            params["p_provider"] = rng.choice(services[service])  # a provider who does it, said loosely
            if rng.random() < 0.3:
                params["p_insist_provider"] = True
        elif pick < 0.5:
            params["p_provider"] = "anyone"
        elif pick < 0.55:  # someone who does not do this visit
            other = [n for s, names in services.items() if s != service for n in names]
            if other:
                params["p_provider"] = rng.choice(other)
        requests.append(params)
    return requests


@pytest.mark.slow
def test_two_thousand_random_bookings_across_providers(database_url, sql):
    add_herd_clinic(sql)
    requests = random_requests(2000)
    gateway = PostgresGateway(database_url, min_size=16, max_size=16)
    try:
        gateway._pool.wait(timeout=30)
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=16) as pool:
            replies = list(pool.map(lambda params: gateway.rpc("book_appointment", params), requests))
        seconds = time.monotonic() - started
    finally:
        gateway.close()

    outcomes = Counter("success" if r.get("success") else r.get("error") for r in replies)
    print(f"2,000 mixed bookings in {seconds:.1f} s: {dict(outcomes)}")
    successes = outcomes["success"]
    assert set(outcomes) - {"success"} <= ALLOWED, outcomes
    assert successes > 300 and outcomes["patient_busy"] > 0 and outcomes["slot_unavailable"] > 0
    assert outcomes["provider_not_qualified"] > 0 and outcomes["provider_unavailable"] > 0
    assert sql("select count(*) from public.appointments where status <> 'cancelled'") == [(successes,)]

    # no provider in two places
    assert sql("""
        select count(*) from public.appointments a join public.appointments b
          on a.org_id = b.org_id and a.provider_id = b.provider_id and a.id < b.id and a.blocked && b.blocked
        where a.status <> 'cancelled' and b.status <> 'cancelled'""") == [(0,)]
    # no patient in two places (same phone, same name as a person says it; the visit itself, not the
    # provider's clean-up buffer)
    assert sql("""
        select count(*) from public.appointments a join public.appointments b
          on a.org_id = b.org_id and a.lead_id = b.lead_id and a.patient_key = b.patient_key and a.id < b.id
             and tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
        where a.status <> 'cancelled' and b.status <> 'cancelled'""") == [(0,)]
    # ... while siblings on one phone did overlap, and clinics did book several providers at once
    assert sql("""
        select count(*) from public.appointments a join public.appointments b
          on a.org_id = b.org_id and a.lead_id = b.lead_id and a.patient_key <> b.patient_key and a.id < b.id
             and tstzrange(a.starts_at, a.ends_at) && tstzrange(b.starts_at, b.ends_at)
        where a.status <> 'cancelled' and b.status <> 'cancelled'""")[0][0] > 0
    assert sql("""
        select count(*) from public.appointments a join public.appointments b
          on a.org_id = b.org_id and a.provider_id <> b.provider_id and a.id < b.id and a.blocked && b.blocked
        where a.status <> 'cancelled' and b.status <> 'cancelled'""")[0][0] > 0
    # every booking is with a provider who does that visit, at a time that provider works
    assert sql("""
        select count(*) from public.appointments a
        where not exists (select 1 from public.provider_services ps
                          where ps.org_id = a.org_id and ps.provider_id = a.provider_id and ps.service_id = a.service_id)""") == [(0,)]
    assert sql("select count(*) from public.stranded_appointments") == [(0,)]
    # a named provider who was booked is the one named
    named = [(params, reply) for params, reply in zip(requests, replies)
             if reply.get("success") and params.get("p_provider") not in (None, "anyone")]
    assert named
    for params, reply in named:
        said = params["p_provider"].lower().replace("doctor", "dr").replace(".", "")
        assert set(said.split()) - {"dr", "nurse"} <= set(reply["provider"]["name"].lower().replace(".", "").split())
    assert seconds < 30
