"""`make bench`: how close the booking service sits to the ceiling of its own stack, measured in one run.

Phases (each against the `bench` database, rebuilt from the migrations plus bench/sql/setup.sql):
  1. ceiling  pgbench runs one INSERT into an exclusion-constrained table (raw_insert_tps), and
              gunicorn serves bench/ceiling_app.py doing that INSERT per request (wrk, c=1 and c=16)
  2. rpc      pgbench calls book_appointment_atomic_v2 for distinct free slots across 1,000 clinics
  3. webhook  wrk posts real Vapi envelopes for distinct free slots to `gunicorn 'api:create_app()'`
  4. contention  100 concurrent requests for one slot, after one such round on another clinic (its
              p99 is `contention_cold_p99_ms`: each pooled connection's first refusal compiles the
              plpgsql of the alternatives path, which the wrk phases, booking free slots, never run)
  5. scale    booking / alternatives / availability p50 in clinics with 1k vs 100k appointments
  6. providers booking p50 with "any" among 10 providers vs 1 (any_of_10_vs_1); the 3-provider herd
              (100 callers, one slot) 50 times through the webhook, counting exact runs; the seed's
              5-caller stress test (`flask stress-test -n 5 --org <Sunrise>`) 10 times
  7. assistant-request  wrk posts Vapi assistant-request messages (half answered with the clinic's
              own assistant, half with a transient one) to the same gunicorn, c=1 and c=16
Prints a table and writes bench/results/latest.json. Absolute figures depend on the machine; the
ratios (same run, same machine) are what to compare. Targets are printed beside the figures, never
asserted.

`python bench/run.py --only assistant-request` runs phase 7 alone (on a bench database without
the 1.1M appointments, which it does not read), with the ceiling app's c=1 / c=16 right before it
for the p99 ratios, and writes bench/results/assistant_request.json.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import math
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
sys.path.insert(0, str(ROOT))

from api.gateway import PostgresGateway  # noqa: E402
from psycopg.conninfo import conninfo_to_dict  # noqa: E402

PORT = os.environ.get("LOCAL_DB_PORT", "54330")
DB = "bench"


def database_url(db: str) -> str:
    """The URL `make dev` gives the service (scripts/localdb.sh url): the cluster's Unix-domain socket."""
    return subprocess.run([str(ROOT / "scripts" / "localdb.sh"), "url", db], check=True, capture_output=True,
                          text=True).stdout.strip()


URL = database_url(DB)
# pgbench goes in the same way as the service, so its figures stay the service's ceiling.
DB_HOST = conninfo_to_dict(URL).get("host", "127.0.0.1")
PGBENCH = os.environ.get("PGBENCH", "/usr/lib/postgresql/15/bin/pgbench")
DURATION = int(os.environ.get("BENCH_SECONDS", "10"))
CLIENTS = 16
# One gunicorn configuration for the ceiling and the service: gunicorn.conf.py (the README's production
# command: gevent workers), BENCH_WORKERS of them. GUNICORN_CMD_ARGS overrides it for comparisons,
# e.g. "--worker-class gthread --threads 8" (the threaded workers used before, bench/README.md).
WORKERS = os.environ.get("BENCH_WORKERS", "2")
SERVER = f"gunicorn.conf.py, {WORKERS} workers" + (f", {os.environ['GUNICORN_CMD_ARGS']}"
                                                   if os.environ.get("GUNICORN_CMD_ARGS") else "")
SECRET = "bench-secret"
TZ = ZoneInfo("America/New_York")
# Days after the base date each phase books on (bench.load_slot / webhook.lua): never shared.
CONTENTION_DAY, RPC_DAY, WEBHOOK_C1_DAY, WEBHOOK_C16_DAY, WARM_UP_DAY = 48, 50, 90, 130, 170
LOAD_ORGS = 100  # bench.settings.load_orgs
BIG_ORG, SMALL_ORGS = 0, range(1, 201)
ANY10_ORGS, ANY1_ORGS, HERD_ORG = range(2001, 2021), range(2101, 2121), 3001  # bench.provider_orgs
HERD_RUNS = int(os.environ.get("BENCH_HERD_RUNS", "50"))
STRESS_RUNS = int(os.environ.get("BENCH_STRESS_RUNS", "10"))
SUNRISE = "11111111-1111-4111-8111-111111111111"  # the seed's clinic: two physicians and a nurse

TARGETS = {
    "webhook_vs_ceiling_c16": (">=", 0.7),
    "webhook_p50_ms_c1": ("<=", 3.0),
    "webhook_p99_ms_c1": ("<=", 10.0),
    "rpc_vs_raw_insert": (">=", 0.5),
    "alternatives_p50_ms_100k": ("<=", 5.0),
    "contention_p99_ms": ("<", 50.0),
    "contention_successes": ("==", 1),
    "contention_errors": ("==", 0),
    "any_of_10_vs_1": ("<=", 1.5),
    "herd_p99_ms_worst": ("<=", 500.0),
    "herd_errors": ("==", 0),
    "stress5_p99_ms": ("<", 50.0),
    # Vapi allows 7.5 s end to end for assistant-request; this is the service's share, far lower.
    "assistant_request_p99_ms_c1": ("<=", 50.0),
    "assistant_request_p99_ms_c16": ("<=", 50.0),
}
ASSISTANT_NUMBERS = 200  # pn_bench_1..200: 1..100 own assistant, 101..200 transient (bench/sql/setup.sql)


def say(text: str) -> None:
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def org_id(n: int) -> str:
    """bench.org_id(n) of bench/sql/setup.sql: md5('bench-org:<n>') as a uuid (random-looking, as in
    production, which the GiST indexes depend on)."""
    return str(uuid.UUID(hashlib.md5(f"bench-org:{n}".encode()).hexdigest()))


def psql_args(*extra: str) -> list[str]:
    return ["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", PORT, "-U", "postgres",
            "-d", DB, *extra]


def psql(sql: str, *, file: Path | None = None) -> str:
    args = psql_args(*(["-f", str(file)] if file else ["-c", sql]))
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout.strip()


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(pct / 100 * len(ordered)) - 1)]


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "unknown cpu")
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    pg = psql("show server_version").split()[0]
    load = Path("/proc/loadavg").read_text().split()[0]
    return (f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU {cpu}, {round(mem_kb / 1024 / 1024)} GB, "
            f"PostgreSQL {pg}, Python {platform.python_version()}, gunicorn ({SERVER}), "
            f"load average at start {load}")


# -- database -------------------------------------------------------------------------------------------

def build_database(appointments: bool = True) -> date:
    if os.environ.get("BENCH_REUSE_DB"):  # iterating on the bench itself: keep the loaded data,
        psql("delete from public.appointments where patient_name not like 'Bench Patient%';"  # what a run booked
             " truncate bench.ceiling_bookings")
        return date.fromisoformat(psql("select base_date from bench.settings"))
    started = time.monotonic()
    subprocess.run([str(ROOT / "scripts" / "localdb.sh"), "reset", DB], check=True, stdout=subprocess.DEVNULL)
    say("loading 1,001 clinics" + (" and 1.1M appointments (bench/sql/setup.sql, appointments.sql)"
                                   if appointments else " (bench/sql/setup.sql)"))
    psql("", file=BENCH / "sql" / "setup.sql")
    if not appointments:  # phase 7 alone reads clinics, hours and mappings, never the calendar
        psql("analyze")
        say(f"bench database (no appointments) ready in {time.monotonic() - started:.0f} s")
        return date.fromisoformat(psql("select base_date from bench.settings"))
    parts = max(1, min(4, os.cpu_count() or 1))
    loaders = [subprocess.Popen(psql_args("-v", f"part={part}", "-v", f"parts={parts}",
                                          "-f", str(BENCH / "sql" / "appointments.sql")), stdout=subprocess.DEVNULL)
               for part in range(parts)]
    if any(loader.wait() != 0 for loader in loaders):
        raise SystemExit("loading appointments failed")
    psql("analyze")
    say(f"bench database ready in {time.monotonic() - started:.0f} s")
    return date.fromisoformat(psql("select base_date from bench.settings"))


def pgbench(script: str) -> dict:
    out = subprocess.run(
        [PGBENCH, "-n", "-M", "prepared", "-c", str(CLIENTS), "-j", "2", "-T", str(DURATION),
         "-f", str(BENCH / "sql" / script), "-h", DB_HOST, "-p", PORT, "-U", "postgres", DB],
        check=True, capture_output=True, text=True).stdout
    tps = float(re.search(r"tps = ([\d.]+)", out).group(1))
    latency = float(re.search(r"latency average = ([\d.]+) ms", out).group(1))
    failed = int(re.search(r"number of failed transactions: (\d+)", out).group(1))
    return {"tps": tps, "latency_ms": latency, "failed": failed}


# -- HTTP servers and load ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    def __init__(self, app: str, name: str, health: str):
        self.port = free_port()
        self.log = RESULTS / f"{name}.log"
        env = {**os.environ, "DATABASE_URL": URL, "VAPI_SECRET": SECRET, "APP_ENV": "production",
               "PYTHONPATH": str(BENCH)}
        self.process = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py"), "--workers", WORKERS,
             "--bind", f"127.0.0.1:{self.port}", app],
            cwd=ROOT, env=env, stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", health)
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn {app} did not start, see {self.log}")
            time.sleep(0.2)

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)

    def pids(self) -> list[int]:
        """The master and its workers."""
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                except OSError:
                    continue
                if int(stat[stat.rindex(")") + 2:].split()[1]) == self.process.pid:
                    children.append(int(entry.name))
        return [self.process.pid, *children]


def cpu_seconds(pids) -> dict[int, float]:
    """user + system CPU seconds of each process (all its threads) so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    spent = {}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        spent[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return spent


def db_backends(application_name: str) -> list[int]:
    return [int(pid) for pid in psql(f"select pid from pg_stat_activity where application_name = "
                                     f"'{application_name}'").split()]


def with_cpu(server: Gunicorn, application_name: str, run) -> dict:
    """run()'s figures plus the CPU milliseconds per request it cost the server (master and workers)
    and its database backends: unlike latency on a shared machine, what other work runs beside it
    barely moves these."""
    before_app, before_db = cpu_seconds(server.pids()), cpu_seconds(db_backends(application_name))
    figures = run()
    after_app, after_db = cpu_seconds(server.pids()), cpu_seconds(db_backends(application_name))
    app = sum(v - before_app.get(pid, 0.0) for pid, v in after_app.items())
    db = sum(v - before_db.get(pid, 0.0) for pid, v in after_db.items())
    requests = max(figures["requests"], 1)
    return {**figures, "app_cpu_ms": app * 1000 / requests, "db_cpu_ms": db * 1000 / requests}


def wrk(port: int, path: str, connections: int, base: date, first_day: int, tag: str, seconds=DURATION) -> dict:
    threads = 1 if connections == 1 else 2
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
         "-s", str(BENCH / "webhook.lua"), f"http://127.0.0.1:{port}", "--",
         path, SECRET, base.isoformat(), str(first_day), str(threads), tag, str(LOAD_ORGS)],
        check=True, capture_output=True, text=True).stdout
    stats = json.loads(re.search(r"WRK_JSON (\{.*\})", out).group(1))
    seconds = stats["duration_us"] / 1e6
    return {"rps": stats["requests"] / seconds, "requests": stats["requests"],
            "p50_ms": stats["p50_us"] / 1000, "p99_ms": stats["p99_us"] / 1000,
            "errors": stats["socket_errors"] + stats["non_2xx"]}


def booked_by(tag: str) -> int:
    # By the Vapi call id each booking's `booked` event records (the idempotency key's format is the
    # webhook's own business: api/, never parsed elsewhere).
    return int(psql(f"select count(*) from public.appointment_events where kind = 'booked' "
                    f"and payload ->> 'callId' like 'call-{tag}-%'"))


def envelope(i: int, org: int, day: date, at: str, tag: str) -> bytes:
    return json.dumps({"message": {
        "type": "tool-calls",
        "toolCallList": [{"id": f"{tag}-{i}", "type": "function", "function": {
            "name": "bookClinicAppointment",
            "arguments": {"patientName": f"Contention Caller {i}", "patientPhone": f"+1 (415) 700-{i:04d}",
                          "appointmentDate": day.isoformat(), "appointmentTime": at,
                          "serviceType": "consultation"}}}],
        "call": {"id": f"call-{tag}-{i}", "assistantId": f"asst_bench_{org}",
                 "customer": {"number": f"+1415700{i:04d}"}},
        "assistant": {"id": f"asst_bench_{org}"}}}).encode()


def contention(port: int, base: date, callers: int = 100, *, org: int = 1, day_offset: int = CONTENTION_DAY,
               tag: str = "contention") -> dict:
    """`callers` keep-alive connections send the same slot of clinic `org` at the same instant."""
    day = base + timedelta(days=day_offset)
    bodies = [envelope(i, org, day, "12:00", tag) for i in range(callers)]
    connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(callers)]
    for conn in connections:
        conn.connect()
    gate = threading.Barrier(callers)
    results: list[tuple[float, int, dict | None]] = [None] * callers  # type: ignore[list-item]

    def call(i: int):
        gate.wait()
        started = time.perf_counter()
        connections[i].request("POST", "/api/vapi/webhook", bodies[i],
                               {"Content-Type": "application/json", "X-Vapi-Secret": SECRET})
        response = connections[i].getresponse()
        raw = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        try:
            result = json.loads(json.loads(raw)["results"][0]["result"])
        except (ValueError, KeyError, IndexError, TypeError):
            result = None
        results[i] = (elapsed, response.status, result)

    workers = [threading.Thread(target=call, args=(i,)) for i in range(callers)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for conn in connections:
        conn.close()
    latencies = [r[0] for r in results]
    successes = sum(1 for _, status, r in results if status == 200 and r and r.get("success"))
    conflicts = sum(1 for _, status, r in results if status == 200 and r and not r.get("success")
                    and r.get("error") == "slot_unavailable" and r.get("alternatives"))
    in_db = int(psql(f"select count(*) from public.appointments where org_id = '{org_id(org)}' "
                     f"and starts_at = '{datetime.combine(day, datetime.min.time().replace(hour=12), TZ).isoformat()}'"
                     " and status <> 'cancelled'"))
    return {"successes": successes, "conflicts": conflicts, "errors": callers - successes - conflicts,
            "rows_in_db": in_db, "p50_ms": statistics.median(latencies), "p99_ms": percentile(latencies, 99)}


# -- assistant-request ----------------------------------------------------------------------------------

def post_json(port: int, body: dict) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/api/vapi/webhook", json.dumps(body),
                     {"Content-Type": "application/json", "X-Vapi-Secret": SECRET})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def assistant_request_probe(port: int) -> None:
    """The numbers answer as the phase assumes: own assistant, transient assistant, unknown."""
    def ask(number: str) -> dict:
        status, reply = post_json(port, {"message": {"type": "assistant-request", "call": {"id": f"probe-{number}"},
                                                     "phoneNumber": {"id": number}}})
        if status != 200:
            raise SystemExit(f"assistant-request for {number} answered HTTP {status}: {reply}")
        return reply

    own, transient, unknown = ask("pn_bench_1"), ask("pn_bench_101"), ask("pn_bench_nobody")
    if own.get("assistantId") != "asst_bench_1" or "assistant" not in transient or "error" not in unknown:
        raise SystemExit(f"assistant-request probes answered unexpectedly: {own} / {list(transient)} / {unknown}")


def assistant_requests(port: int, connections: int, tag: str, seconds=DURATION) -> dict:
    threads = 1 if connections == 1 else 2
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s",
         "-s", str(BENCH / "assistant_request.lua"), f"http://127.0.0.1:{port}", "--",
         "/api/vapi/webhook", SECRET, str(threads), tag, str(ASSISTANT_NUMBERS)],
        check=True, capture_output=True, text=True).stdout
    stats = json.loads(re.search(r"WRK_JSON (\{.*\})", out).group(1))
    return {"rps": stats["requests"] / (stats["duration_us"] / 1e6), "requests": stats["requests"],
            "p50_ms": stats["p50_us"] / 1000, "p99_ms": stats["p99_us"] / 1000,
            "errors": stats["socket_errors"] + stats["non_2xx"]}


def assistant_request_ratios(r: dict) -> dict:
    """assistant-request p99 over the ceiling app's p99 of the same run (1.0 = no dearer than one
    pooled INSERT through the same gunicorn)."""
    return {f"assistant_request_vs_ceiling_p99_{c}": r[f"assistant_request_p99_ms_{c}"] / r[f"ceiling_p99_ms_{c}"]
            for c in ("c1", "c16")}


def assistant_request_phase(server: Gunicorn) -> dict:
    port = server.port
    assistant_request_probe(port)
    assistant_requests(port, CLIENTS, "ar-warm", seconds=3)  # fill the pools, compile the plans
    c1 = assistant_requests(port, 1, "ar-c1")
    c16 = with_cpu(server, "clinic-booking-api", lambda: assistant_requests(port, CLIENTS, "ar-c16"))
    return {"assistant_request_rps_c1": c1["rps"], "assistant_request_p50_ms_c1": c1["p50_ms"],
            "assistant_request_p99_ms_c1": c1["p99_ms"], "assistant_request_rps_c16": c16["rps"],
            "assistant_request_p50_ms_c16": c16["p50_ms"], "assistant_request_p99_ms_c16": c16["p99_ms"],
            "assistant_request_app_cpu_ms_c16": c16["app_cpu_ms"],
            "assistant_request_db_cpu_ms_c16": c16["db_cpu_ms"],
            "assistant_request_errors": c1["errors"] + c16["errors"]}


# -- scale ----------------------------------------------------------------------------------------------

def scale(base: date) -> dict:
    """p50 of the RPCs the service calls, in the 100k clinic vs 200 of the 1k clinics, interleaved.

    The half-full days base+2..base+41 have every full hour booked and every half hour free: a
    booking takes a :30 slot, an alternatives request asks for a taken full hour (three answers
    the same day), availability asks from a day's opening.
    """
    gateway = PostgresGateway(URL, max_size=1)
    samples: dict[str, list[float]] = {}

    def timed(key: str, name: str, params: dict, expect_success: bool):
        started = time.perf_counter()
        reply = gateway.rpc(name, params)
        samples.setdefault(key, []).append((time.perf_counter() - started) * 1000)
        if bool(reply.get("success")) != expect_success or (not expect_success and len(reply["alternatives"]) != 3):
            raise SystemExit(f"scale probe {name} answered unexpectedly: {reply}")

    def at(day_offset: int, hour: int, minute: int) -> str:
        return datetime.combine(base + timedelta(days=day_offset), datetime.min.time().replace(
            hour=hour, minute=minute), TZ).isoformat()

    for k, small in enumerate(SMALL_ORGS):
        day = 2 + k % 40
        hour = 8 + (k // 40) % 12
        for size, org in (("100k", BIG_ORG), ("1k", small)):
            timed(f"book_{size}", "book_appointment_atomic_v2", {
                "p_org_id": org_id(org), "p_name": "Scale Caller", "p_email": None,
                "p_phone": f"+1416{k:07d}", "p_service": "consultation", "p_scheduled_at": at(day, hour, 30),
                "p_idempotency_key": None, "p_source": "bench"}, True)
            timed(f"alternatives_{size}", "book_appointment_atomic_v2", {
                "p_org_id": org_id(org), "p_name": "Scale Caller", "p_email": None,
                "p_phone": f"+1417{k:07d}", "p_service": "consultation", "p_scheduled_at": at(day, 13, 0),
                "p_idempotency_key": None, "p_source": "bench"}, False)
            timed(f"availability_{size}", "check_availability", {
                "p_org_id": org_id(org), "p_service": "consultation", "p_from": at(day, 8, 0), "p_to": None,
                "p_limit": 3, "p_first_day_only": True}, True)
    gateway.close()
    # the first round warms plans and caches
    return {key: statistics.median(values[10:]) for key, values in samples.items()}


# -- providers ------------------------------------------------------------------------------------------

def any_of_10_vs_1(base: date) -> dict:
    """Booking p50 with "any" provider: clinics of 10 providers vs clinics of 1, same calendar per
    provider (every full hour of days +2..+41 taken), interleaved, one connection. Each booking takes
    a free half hour, so in a 10-provider clinic all ten are candidates and the fair rule must pick."""
    gateway = PostgresGateway(URL, max_size=1)
    samples: dict[str, list[float]] = {"any10": [], "any1": []}
    for k in range(400):
        clinic, m = k % 20, k // 20  # the m-th booking of each clinic: its own day and half hour
        at = datetime.combine(base + timedelta(days=2 + m), datetime.min.time().replace(hour=8 + m % 12, minute=30),
                              TZ).isoformat()
        for kind, orgs in (("any10", ANY10_ORGS), ("any1", ANY1_ORGS)):
            started = time.perf_counter()
            reply = gateway.rpc("book_appointment_atomic_v2", {
                "p_org_id": org_id(orgs[clinic]), "p_name": f"Any Caller {k}", "p_email": None,
                "p_phone": f"+1418{k:07d}", "p_service": "consultation", "p_scheduled_at": at,
                "p_idempotency_key": None, "p_source": "bench"})
            samples[kind].append((time.perf_counter() - started) * 1000)
            if not reply.get("success"):
                raise SystemExit(f"any-provider probe answered unexpectedly: {reply}")
    gateway.close()
    p50 = {kind: statistics.median(values[20:]) for kind, values in samples.items()}  # first round warms plans
    return {"any_p50_ms_1": p50["any1"], "any_p50_ms_10": p50["any10"], "any_of_10_vs_1": p50["any10"] / p50["any1"]}


def herd_loop(port: int, base: date, runs: int = HERD_RUNS) -> dict:
    """The 3-provider herd: 100 callers ask for one slot of the herd clinic at the same instant, `runs`
    times (a new day each run). Exact run = 3 successes, 97 slot_unavailable with alternatives, 0
    errors, 3 rows in the database."""
    outcomes = []
    for run in range(runs):
        outcome = contention(port, base, org=HERD_ORG, day_offset=2 + run, tag=f"herd{run}")
        outcomes.append(outcome)
        if run % 10 == 9:
            say(f"herd: {run + 1} runs, {sum(exact(o) for o in outcomes)} exact")
    p99s = [o["p99_ms"] for o in outcomes]
    return {"herd_runs": runs, "herd_exact_runs": sum(exact(o) for o in outcomes),
            "herd_errors": sum(o["errors"] for o in outcomes),
            "herd_successes_min": min(o["successes"] for o in outcomes),
            "herd_successes_max": max(o["successes"] for o in outcomes),
            "herd_p50_ms_median": statistics.median(o["p50_ms"] for o in outcomes),
            "herd_p99_ms_median": statistics.median(p99s), "herd_p99_ms_worst": max(p99s)}


def exact(outcome: dict) -> bool:
    return (outcome["successes"], outcome["conflicts"], outcome["errors"], outcome["rows_in_db"]) == (3, 97, 0, 3)


def stress5(port: int, runs: int = STRESS_RUNS) -> dict:
    """The seed's 5-caller stress test as an operator runs it (`flask --app api stress-test -n 5
    --org <Sunrise>`, over HTTP, then it removes its bookings), `runs` times: how many passed (1 success,
    4 alternatives, 0 errors, one row) and the p99 each printed."""
    env = {**os.environ, "DATABASE_URL": URL, "VAPI_SECRET": SECRET, "APP_ENV": "production", "LOG_LEVEL": "WARNING"}
    p99s, passed = [], 0
    for _ in range(runs):
        out = subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "--app", "api", "stress-test", "--url",
                              f"http://127.0.0.1:{port}", "-n", "5", "--org", SUNRISE],
                             cwd=ROOT, env=env, capture_output=True, text=True)
        found = re.search(r"latency ms: .*?p99 ([\d.]+)", out.stdout)
        if found:
            p99s.append(float(found.group(1)))
        passed += out.returncode == 0 and "PASS" in out.stdout
    if not p99s:
        raise SystemExit(f"stress-test printed no latency: {out.stdout[-500:]} {out.stderr[-500:]}")
    return {"stress5_runs": runs, "stress5_passed": passed, "stress5_p99_ms": statistics.median(p99s),
            "stress5_p99_ms_worst": max(p99s)}


# -- report ---------------------------------------------------------------------------------------------

def verdict(key: str, value: float) -> str:
    if key not in TARGETS:
        return ""
    op, goal = TARGETS[key]
    met = {">=": value >= goal, "<=": value <= goal, "<": value < goal, "==": value == goal}[op]
    return f"{op} {goal:g}  {'met' if met else 'MISSED'}"


def report(r: dict) -> None:
    rows = [
        ("1. ceiling", None, None),
        ("raw INSERT, pgbench c=16 (tps)", "raw_insert_tps", ""),
        ("ceiling app, gunicorn c=16 (req/s)", "ceiling_rps_c16", ""),
        ("ceiling app, c=1 p50 / p99 (ms)", ("ceiling_p50_ms_c1", "ceiling_p99_ms_c1"), ""),
        ("2. rpc", None, None),
        ("book_appointment_atomic_v2, pgbench c=16 (tps)", "rpc_tps", ""),
        ("  avg latency (ms) rpc / raw INSERT", ("rpc_latency_ms", "raw_insert_latency_ms"), ""),
        ("  ratio rpc / raw INSERT", "rpc_vs_raw_insert", ""),
        ("3. webhook", None, None),
        ("webhook c=16 (req/s)", "webhook_rps_c16", ""),
        ("  ratio webhook / ceiling c=16", "webhook_vs_ceiling_c16", ""),
        ("webhook c=16 p50 / p99 (ms)", ("webhook_p50_ms_c16", "webhook_p99_ms_c16"), ""),
        ("webhook c=1 (req/s)", "webhook_rps_c1", ""),
        ("webhook c=1 p50 (ms)", "webhook_p50_ms_c1", ""),
        ("webhook c=1 p99 (ms)", "webhook_p99_ms_c1", ""),
        ("  ratio webhook / ceiling p50 c=1", "webhook_vs_ceiling_p50_c1", ""),
        ("  booked in DB / answered, c=1 and c=16", ("webhook_booked_c1", "webhook_requests_c1",
                                                    "webhook_booked_c16", "webhook_requests_c16"), ""),
        ("4. contention (100 callers, one slot)", None, None),
        ("successes", "contention_successes", ""),
        ("conflicts with alternatives", "contention_conflicts", ""),
        ("errors", "contention_errors", ""),
        ("p50 / p99 (ms)", ("contention_p50_ms", "contention_p99_ms"), ""),
        ("  p99 of the round before, cold refusal path (ms)", "contention_cold_p99_ms", ""),
        ("5. scale (p50 ms, 1k-appointment clinics vs the 100k clinic)", None, None),
        ("booking 1k / 100k", ("book_p50_ms_1k", "book_p50_ms_100k"), ""),
        ("alternatives 1k / 100k", ("alternatives_p50_ms_1k", "alternatives_p50_ms_100k"), ""),
        ("checkAvailability 1k / 100k", ("availability_p50_ms_1k", "availability_p50_ms_100k"), ""),
        ("6. providers", None, None),
        ("booking p50 with any provider, 1 / 10 providers (ms)", ("any_p50_ms_1", "any_p50_ms_10"), ""),
        ("  ratio any of 10 / any of 1", "any_of_10_vs_1", ""),
        ("3-provider herd: exact runs / runs", ("herd_exact_runs", "herd_runs"), ""),
        ("  successes min / max, errors (all runs)", ("herd_successes_min", "herd_successes_max", "herd_errors"), ""),
        ("  p99 median / worst run (ms)", ("herd_p99_ms_median", "herd_p99_ms_worst"), ""),
        ("seed 5-caller stress test: passed / runs", ("stress5_passed", "stress5_runs"), ""),
        ("  p99 median / worst run (ms)", ("stress5_p99_ms", "stress5_p99_ms_worst"), ""),
    ] + ASSISTANT_REQUEST_ROWS
    if "raw_insert_tps" not in r:  # --only assistant-request
        rows = ASSISTANT_REQUEST_ROWS
    print(f"\nmachine: {r['machine']}\n")
    for label, keys, _ in rows:
        if keys is None:
            print(label)
            continue
        keys = keys if isinstance(keys, tuple) else (keys,)
        values = " / ".join(f"{r[k]:.2f}" if isinstance(r[k], float) else str(r[k]) for k in keys)
        target = "; ".join(v for v in (verdict(k, r[k]) for k in keys) if v)
        print(f"  {label:<52} {values:>24}   {target}")


ASSISTANT_REQUEST_ROWS = [
    ("7. assistant-request (half own assistant, half transient)", None, None),
    ("c=1 (req/s)", "assistant_request_rps_c1", ""),
    ("c=1 p50 / p99 (ms)", ("assistant_request_p50_ms_c1", "assistant_request_p99_ms_c1"), ""),
    ("c=16 (req/s)", "assistant_request_rps_c16", ""),
    ("c=16 p50 / p99 (ms)", ("assistant_request_p50_ms_c16", "assistant_request_p99_ms_c16"), ""),
    ("errors", "assistant_request_errors", ""),
    ("ceiling app c=1 / c=16 p99, same run (ms)", ("ceiling_p99_ms_c1", "ceiling_p99_ms_c16"), ""),
    ("  ratio p99 assistant-request / ceiling, c=1 / c=16",
     ("assistant_request_vs_ceiling_p99_c1", "assistant_request_vs_ceiling_p99_c16"), ""),
    ("CPU ms per request at c=16, gunicorn / PostgreSQL", ("assistant_request_app_cpu_ms_c16",
                                                         "assistant_request_db_cpu_ms_c16"), ""),
    ("  the ceiling app's, same run", ("ceiling_app_cpu_ms_c16", "ceiling_db_cpu_ms_c16"), ""),
]


def only_assistant_request() -> None:
    RESULTS.mkdir(exist_ok=True)
    build_database(appointments=False)
    r: dict = {"machine": machine(), "date": datetime.now().astimezone().isoformat(timespec="seconds"),
               "seconds_per_phase": DURATION, "clients": CLIENTS, "gunicorn": SERVER}
    # The ceiling of the same gunicorn measured right before, so the p99s can be read as ratios of
    # one run (the machine is shared; absolute milliseconds move with whatever else runs).
    base = date.fromisoformat(psql("select base_date from bench.settings"))
    say("ceiling: gunicorn + bench/ceiling_app.py under wrk")
    server = Gunicorn("ceiling_app:create_app()", "ceiling", "/health")
    try:
        wrk(server.port, "/ceiling", CLIENTS, base, 0, "warm-ceiling", seconds=3)
        c1 = wrk(server.port, "/ceiling", 1, base, 0, "ceiling1")
        c16 = with_cpu(server, "bench-ceiling", lambda: wrk(server.port, "/ceiling", CLIENTS, base, 0, "ceiling16"))
    finally:
        server.stop()
    r.update(ceiling_rps_c1=c1["rps"], ceiling_p50_ms_c1=c1["p50_ms"], ceiling_p99_ms_c1=c1["p99_ms"],
             ceiling_rps_c16=c16["rps"], ceiling_p50_ms_c16=c16["p50_ms"], ceiling_p99_ms_c16=c16["p99_ms"],
             ceiling_app_cpu_ms_c16=c16["app_cpu_ms"], ceiling_db_cpu_ms_c16=c16["db_cpu_ms"])
    say("assistant-request: gunicorn 'api:create_app()' under wrk")
    server = Gunicorn("api:create_app()", "assistant_request", "/health")
    try:
        r.update(assistant_request_phase(server))
    finally:
        server.stop()
    r.update(assistant_request_ratios(r))
    r = {k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()}
    (RESULTS / "assistant_request.json").write_text(json.dumps(r, indent=2) + "\n")
    report(r)
    print(f"\nwritten: {(RESULTS / 'assistant_request.json').relative_to(ROOT)}")


def main() -> None:
    if sys.argv[1:] == ["--only", "assistant-request"]:
        return only_assistant_request()
    if sys.argv[1:]:
        raise SystemExit("usage: bench/run.py [--only assistant-request]")
    RESULTS.mkdir(exist_ok=True)
    base = build_database()
    r: dict = {"machine": machine(), "date": datetime.now().astimezone().isoformat(timespec="seconds"),
               "seconds_per_phase": DURATION, "clients": CLIENTS, "gunicorn": SERVER}

    say("ceiling: pgbench raw INSERT")
    raw = pgbench("raw_insert.sql")
    say("rpc: pgbench book_appointment_atomic_v2")
    rpc = pgbench("rpc_book.sql")
    r.update(raw_insert_tps=raw["tps"], raw_insert_latency_ms=raw["latency_ms"], rpc_tps=rpc["tps"],
             rpc_latency_ms=rpc["latency_ms"], rpc_failed=rpc["failed"],
             rpc_booked=int(psql("select count(*) from public.appointments where idempotency_key like 'pgbench:%'")))
    r["rpc_vs_raw_insert"] = r["rpc_tps"] / r["raw_insert_tps"]

    say("ceiling: gunicorn + bench/ceiling_app.py under wrk")
    server = Gunicorn("ceiling_app:create_app()", "ceiling", "/health")
    try:
        wrk(server.port, "/ceiling", CLIENTS, base, 0, "warm-ceiling", seconds=3)  # fill the pools
        c1 = wrk(server.port, "/ceiling", 1, base, 0, "ceiling1")
        c16 = with_cpu(server, "bench-ceiling", lambda: wrk(server.port, "/ceiling", CLIENTS, base, 0, "ceiling16"))
    finally:
        server.stop()
    r.update(ceiling_rps_c1=c1["rps"], ceiling_p50_ms_c1=c1["p50_ms"], ceiling_p99_ms_c1=c1["p99_ms"],
             ceiling_rps_c16=c16["rps"], ceiling_p50_ms_c16=c16["p50_ms"], ceiling_p99_ms_c16=c16["p99_ms"],
             ceiling_app_cpu_ms_c16=c16["app_cpu_ms"], ceiling_db_cpu_ms_c16=c16["db_cpu_ms"],
             ceiling_errors=c1["errors"] + c16["errors"])

    say("webhook: gunicorn 'api:create_app()' under wrk, then contention")
    server = Gunicorn("api:create_app()", "webhook", "/health")
    try:
        # Steady state first: pools filled, each worker's org cache warm for the load clinics.
        wrk(server.port, "/api/vapi/webhook", CLIENTS, base, WARM_UP_DAY, "warm", seconds=3)
        w1 = wrk(server.port, "/api/vapi/webhook", 1, base, WEBHOOK_C1_DAY, "c1")
        w16 = wrk(server.port, "/api/vapi/webhook", CLIENTS, base, WEBHOOK_C16_DAY, "c16")
        # The refusal path warm too: a first round on another clinic (the first refusal on each pooled
        # connection compiles the alternatives' plpgsql, 15-25 ms; reported as the cold figure).
        cold = contention(server.port, base, org=2, tag="contention-cold")
        fight = contention(server.port, base)
        say(f"providers: the 3-provider herd, {HERD_RUNS} runs")
        herd = herd_loop(server.port, base)
        say(f"providers: the seed's 5-caller stress test, {STRESS_RUNS} runs")
        stress = stress5(server.port)
        say("assistant-request: the same gunicorn under wrk")
        r.update(assistant_request_phase(server))
    finally:
        server.stop()
    r.update(webhook_rps_c1=w1["rps"], webhook_p50_ms_c1=w1["p50_ms"], webhook_p99_ms_c1=w1["p99_ms"],
             webhook_requests_c1=w1["requests"], webhook_booked_c1=booked_by("c1"),
             webhook_rps_c16=w16["rps"], webhook_p50_ms_c16=w16["p50_ms"], webhook_p99_ms_c16=w16["p99_ms"],
             webhook_requests_c16=w16["requests"], webhook_booked_c16=booked_by("c16"),
             webhook_errors=w1["errors"] + w16["errors"])
    r["webhook_vs_ceiling_c16"] = r["webhook_rps_c16"] / r["ceiling_rps_c16"]
    r["webhook_vs_ceiling_p50_c1"] = r["webhook_p50_ms_c1"] / r["ceiling_p50_ms_c1"]
    r.update({f"contention_{k}": v for k, v in fight.items()})
    r["contention_cold_p99_ms"] = cold["p99_ms"]
    r.update(herd)
    r.update(stress)

    say("scale: 1k vs 100k appointments")
    for key, value in scale(base).items():
        r[f"{key.rsplit('_', 1)[0]}_p50_ms_{key.rsplit('_', 1)[1]}"] = value
    say("providers: booking with any of 10 providers vs 1")
    r.update(any_of_10_vs_1(base))
    r.update(assistant_request_ratios(r))
    r = {k: round(v, 3) if isinstance(v, float) else v for k, v in r.items()}
    (RESULTS / "latest.json").write_text(json.dumps(r, indent=2) + "\n")
    report(r)
    print(f"\nwritten: {(RESULTS / 'latest.json').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
