"""Same-moment A/B of the booking path: this tree against another git ref, interleaved.

    python bench/ab.py --ref 93066a7            # LOCAL_DB_PORT of a running cluster (make db)

On a shared, loaded machine absolute figures move by 2-4x within minutes (other jobs, load 2-30), so
"is this figure no worse than before?" can only be answered by measuring before and after at the same
moment. This script checks the ref out into a temporary worktree, builds one small bench database per
side (each side's migrations, seed and bench/sql/setup.sql; `--full` adds each side's 1.1M-appointment
load, ~5 minutes a side), starts one gunicorn per side (same command and venv as `make bench`) and then
alternates between them:

  webhook   wrk c=1 (p50, p99) and c=16 (req/s), `--rounds` times, the order flipped every round;
  cpu       sequential booking requests on one keep-alive connection to a 1-worker gunicorn per side,
            CPU per request from /proc/<pid>/schedstat: the worker (Python) and its database backends
            (SQL). CPU time is far less sensitive to the machine's load than latency;
  sql       backend CPU per booking RPC called as the gateway calls it (psycopg, prepared, autocommit,
            role service_role): the webhook's `book_appointment` (success, and a refusal with
            alternatives) and `book_appointment_atomic_v2`.

Every side books its own free slots on its own database (days far from the phases of `make bench`).
Prints medians per side and the ratio this tree / ref; writes bench/results/ab.json. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "bench"))

import run  # noqa: E402  (wrk, free_port, SECRET: the same load as make bench)

PORT = os.environ.get("LOCAL_DB_PORT", "54330")
TZ = ZoneInfo("America/New_York")
VENV = ROOT / ".venv" / "bin"


def say(text: str) -> None:
    print(f"[ab] {text}", file=sys.stderr, flush=True)


def psql(db: str, *args: str) -> str:
    return subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", PORT,
                           "-U", "postgres", "-d", db, *args], check=True, capture_output=True, text=True).stdout.strip()


def cpu_ns(pid: int) -> int:
    """CPU time of every thread of a process so far (ns)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            total += int(Path(f"/proc/{pid}/task/{task}/schedstat").read_text().split()[0])
        except OSError:
            pass
    return total


class Side:
    def __init__(self, name: str, code: Path, db: str):
        self.name, self.code, self.db = name, code, db
        self.servers: list[subprocess.Popen] = []

    def build(self, full: bool) -> None:
        env = {**os.environ, "LOCAL_DB_PORT": PORT}
        subprocess.run([str(self.code / "scripts" / "localdb.sh"), "reset", self.db], check=True, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        psql(self.db, "-f", str(self.code / "bench" / "sql" / "setup.sql"))
        if full:
            loaders = [subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", PORT,
                                         "-U", "postgres", "-d", self.db, "-v", f"part={part}", "-v", "parts=2",
                                         "-f", str(self.code / "bench" / "sql" / "appointments.sql")],
                                        stdout=subprocess.DEVNULL) for part in range(2)]
            if any(loader.wait() for loader in loaders):
                raise SystemExit(f"loading {self.db} failed")
        psql(self.db, "-c", "analyze")
        self.base = date.fromisoformat(psql(self.db, "-c", "select base_date from bench.settings"))
        # each side's own bench.org_id (the id scheme of bench/sql/setup.sql changed over time)
        self.orgs = dict(line.split("|") for line in psql(
            self.db, "-c", "select n, bench.org_id(n) from generate_series(1, 100) n").splitlines())

    def serve(self, workers: int) -> int:
        port = run.free_port()
        env = {**os.environ, "DATABASE_URL": run.database_url(self.db), "VAPI_SECRET": run.SECRET, "APP_ENV": "production",
               "PYTHONPATH": f"{self.code}:{self.code / 'bench'}"}
        log = (RESULTS / f"ab_{self.name}_{workers}.log").open("w")
        server = subprocess.Popen([str(VENV / "gunicorn"), "--workers", str(workers), "--threads", run.THREADS,
                                   "--bind", f"127.0.0.1:{port}", "api:create_app()"],
                                  cwd=self.code, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.servers.append(server)
        deadline = time.monotonic() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    return port
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{self.name}: gunicorn did not start, see {log.name}")
            time.sleep(0.2)

    def stop(self) -> None:
        for server in self.servers:
            server.terminate()
            server.wait(timeout=30)
        self.servers = []


def webhook_rounds(sides: list[Side], rounds: int, seconds: int) -> dict:
    ports = {side.name: side.serve(int(run.WORKERS)) for side in sides}
    out: dict = {side.name: {"c1_p50": [], "c1_p99": [], "c16_rps": []} for side in sides}
    try:
        for side in sides:  # pools filled, profiles cached, plans compiled
            run.wrk(ports[side.name], "/api/vapi/webhook", run.CLIENTS, side.base, 60, f"abw{side.name}", seconds=3)
        for r in range(rounds):
            for side in (sides if r % 2 == 0 else sides[::-1]):
                day = 62 + 4 * r
                c1 = run.wrk(ports[side.name], "/api/vapi/webhook", 1, side.base, day, f"ab1{side.name}{r}", seconds=seconds)
                c16 = run.wrk(ports[side.name], "/api/vapi/webhook", run.CLIENTS, side.base, day + 2,
                              f"ab16{side.name}{r}", seconds=seconds)
                if c1["errors"] or c16["errors"]:
                    raise SystemExit(f"{side.name}: {c1['errors'] + c16['errors']} failed requests")
                out[side.name]["c1_p50"].append(c1["p50_ms"])
                out[side.name]["c1_p99"].append(c1["p99_ms"])
                out[side.name]["c16_rps"].append(c16["rps"])
                say(f"round {r} {side.name}: c=1 p50 {c1['p50_ms']:.2f} p99 {c1['p99_ms']:.2f} ms, c=16 {c16['rps']:.0f} req/s")
    finally:
        for side in sides:
            side.stop()
    return out


def envelope(tag: str, i: int, org: int, day: date, at: str) -> str:
    return json.dumps({"message": {
        "type": "tool-calls",
        "toolCallList": [{"id": f"{tag}-{i}", "type": "function", "function": {
            "name": "bookClinicAppointment",
            "arguments": {"patientName": f"AB Caller {i}", "patientPhone": f"+1 (415) 6{i // 10000 % 100:02d}-{i % 10000:04d}",
                          "appointmentDate": day.isoformat(), "appointmentTime": at, "serviceType": "consultation"}}}],
        "call": {"id": f"call-{tag}-{i}", "assistantId": f"asst_bench_{org}", "customer": {"number": "+14155550100"}},
        "assistant": {"id": f"asst_bench_{org}"}}})


def cpu_per_request(sides: list[Side], blocks: int, per_block: int) -> dict:
    """Sequential webhook bookings against a 1-worker gunicorn per side; CPU per request."""
    state = {}
    for side in sides:
        port = side.serve(1)
        worker = int(subprocess.run(["pgrep", "-P", str(side.servers[-1].pid)], capture_output=True,
                                    text=True).stdout.split()[0])
        state[side.name] = {"port": port, "worker": worker, "conn": http.client.HTTPConnection("127.0.0.1", port, timeout=30),
                            "i": 0, "python": [], "sql": []}

    def request(side: Side) -> None:
        s = state[side.name]
        i, s["i"] = s["i"], s["i"] + 1
        org, slot = 1 + i % 100, (i // 100) % 24
        body = envelope(f"abcpu{side.name}", i, org, side.base + timedelta(days=200 + i // 2400),
                        f"{8 + slot // 2:02d}:{(slot % 2) * 30:02d}")
        for attempt in range(2):  # an idle keep-alive connection may have been closed by the server
            try:
                s["conn"].request("POST", "/api/vapi/webhook", body, {"Content-Type": "application/json",
                                                                      "X-Vapi-Secret": run.SECRET})
                reply = s["conn"].getresponse().read()
                break
            except (OSError, http.client.HTTPException):
                s["conn"].close()
                s["conn"] = http.client.HTTPConnection("127.0.0.1", s["port"], timeout=30)
        result = json.loads(json.loads(reply)["results"][0]["result"])
        if not result.get("success"):
            raise SystemExit(f"{side.name}: booking refused: {result}")

    try:
        for side in sides:
            for _ in range(200):  # warm: profile cache, plans, prepared statements
                request(side)
        for b in range(blocks):
            for side in (sides if b % 2 == 0 else sides[::-1]):
                s = state[side.name]
                backends = [int(p) for p in psql(side.db, "-c", "select pid from pg_stat_activity where application_name"
                                                 " = 'clinic-booking-api' and datname = current_database()").split()]
                python0, sql0 = cpu_ns(s["worker"]), sum(cpu_ns(p) for p in backends)
                for _ in range(per_block):
                    request(side)
                s["python"].append((cpu_ns(s["worker"]) - python0) / per_block / 1e6)
                s["sql"].append((sum(cpu_ns(p) for p in backends) - sql0) / per_block / 1e6)
    finally:
        for side in sides:
            side.stop()
    return {name: {"python_ms": s["python"], "sql_ms": s["sql"]} for name, s in state.items()}


BOOK = ("select public.book_appointment(p_org_id => %s, p_name => %s, p_email => %s, p_phone => %s, p_service => %s,"
        " p_scheduled_at => %s, p_idempotency_key => %s, p_source => %s, p_caller => %s, p_date_of_birth => %s)")
BOOK_V2 = ("select public.book_appointment_atomic_v2(p_org_id => %s, p_name => %s, p_email => %s, p_phone => %s,"
           " p_service => %s, p_scheduled_at => %s, p_idempotency_key => %s, p_source => %s)")


def sql_cpu(sides: list[Side], blocks: int, per_block: int) -> dict:
    """Backend CPU per booking RPC, one connection per side, interleaved blocks."""
    out: dict = {}
    for kind, first_day in (("book", 300), ("v2", 310), ("alternatives", 320)):
        conns = {}
        for side in sides:
            conn = psycopg.connect(run.database_url(side.db), autocommit=True)
            conn.execute("select set_config('role', 'service_role', false), set_config('request.jwt.claims', %s, false)",
                         ['{"role":"service_role"}'])
            conns[side.name] = {"conn": conn, "pid": conn.info.backend_pid, "k": 0, "cpu": []}

        def call(side: Side) -> int:
            c = conns[side.name]
            k, c["k"] = c["k"], c["k"] + 1
            org, slot = 1 + k % 100, (k // 100) % 24
            at = datetime.combine(side.base + timedelta(days=first_day + k // 2400),
                                  datetime.min.time().replace(hour=8 + slot // 2, minute=(slot % 2) * 30), TZ).isoformat()
            org_id = side.orgs[str(org)]
            if kind == "v2":
                statement, args = BOOK_V2, [org_id, f"AB SQL {k}", None, f"+1415{7000000 + k:07d}", "consultation", at,
                                            f"absql-{kind}-{k}", "bench"]
            else:
                statement, args = BOOK, [org_id, f"AB SQL {k}", None, f"+1415{7000000 + k:07d}", "consultation", at,
                                         f"absql-{kind}-{k}", "vapi",
                                         json.dumps({"callId": f"absql-{kind}-{k}", "source": "vapi",
                                                     "callerNumber": "+14155550100"}), None]
            if kind == "alternatives":  # the slot taken first, then asked for by another patient
                c["conn"].execute(statement, args, prepare=True)
                args = [*args[:1], f"AB Other {k}", None, f"+1416{7000000 + k:07d}", *args[4:6], f"absql-{kind}-{k}-b",
                        *args[7:8], json.dumps({"callId": f"absql-{kind}-{k}-b", "source": "vapi"}), None]
            before = cpu_ns(c["pid"])
            reply = c["conn"].execute(statement, args, prepare=True).fetchone()[0]
            spent = cpu_ns(c["pid"]) - before
            if bool(reply.get("success")) == (kind == "alternatives"):
                raise SystemExit(f"{side.name} {kind}: unexpected reply {reply}")
            return spent

        for side in sides:
            for _ in range(100):
                call(side)
        for b in range(blocks):
            for side in (sides if b % 2 == 0 else sides[::-1]):
                conns[side.name]["cpu"].append(sum(call(side) for _ in range(per_block)) / per_block / 1e6)
        for side in sides:
            conns[side.name]["conn"].close()
            out.setdefault(side.name, {})[f"{kind}_ms"] = conns[side.name]["cpu"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ref", required=True, help="git ref to compare against (e.g. the commit before a change)")
    parser.add_argument("--rounds", type=int, default=6, help="webhook rounds per side (wrk c=1 and c=16 each)")
    parser.add_argument("--seconds", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--blocks", type=int, default=12, help="interleaved blocks of the CPU measurements")
    parser.add_argument("--full", action="store_true", help="load 1.1M appointments into both databases")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    sha = subprocess.run(["git", "rev-parse", "--short", args.ref], cwd=ROOT, check=True, capture_output=True,
                         text=True).stdout.strip()
    tree = RESULTS / f"ab-ref-{sha}"
    if not tree.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), sha], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not (tree / "node_modules").exists():
        (tree / "node_modules").symlink_to(ROOT / "node_modules")
    (tree / ".localdb").mkdir(exist_ok=True)
    sides = [Side("ref", tree, "ab_ref"), Side("cur", ROOT, "ab_cur")]
    try:
        for side in sides:
            say(f"building {side.db} from {side.code}" + (" with 1.1M appointments" if args.full else ""))
            side.build(args.full)
        load = Path("/proc/loadavg").read_text().split()[0]
        say(f"webhook: {args.rounds} rounds of wrk c=1 and c=16, {args.seconds} s each (load average {load})")
        web = webhook_rounds(sides, args.rounds, args.seconds)
        say("cpu per webhook request (1 worker, sequential)")
        cpu = cpu_per_request(sides, args.blocks, 50)
        say("backend cpu per booking RPC")
        sql = sql_cpu(sides, args.blocks, 25)
    finally:
        for side in sides:
            side.stop()
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)
        shutil.rmtree(tree, ignore_errors=True)
    rows = [("webhook c=1 p50 (ms)", web, "c1_p50"), ("webhook c=1 p99 (ms)", web, "c1_p99"),
            ("webhook c=16 (req/s)", web, "c16_rps"), ("CPU per request, Python (ms)", cpu, "python_ms"),
            ("CPU per request, SQL (ms)", cpu, "sql_ms"), ("book_appointment success, SQL CPU (ms)", sql, "book_ms"),
            ("book_appointment_atomic_v2 success, SQL CPU (ms)", sql, "v2_ms"),
            ("refusal with alternatives, SQL CPU (ms)", sql, "alternatives_ms")]
    result = {"ref": sha, "date": datetime.now().astimezone().isoformat(timespec="seconds"), "full": args.full,
              "load_average_at_end": Path("/proc/loadavg").read_text().split()[0], "figures": {}}
    print(f"\nA/B: this tree (cur) vs {sha} (ref), medians, same minutes\n")
    print(f"  {'':52} {'ref':>9} {'cur':>9} {'cur/ref':>8}")
    for label, source, key in rows:
        ref, cur = statistics.median(source["ref"][key]), statistics.median(source["cur"][key])
        result["figures"][key] = {"ref": round(ref, 3), "cur": round(cur, 3), "ratio": round(cur / ref, 3)}
        print(f"  {label:52} {ref:9.2f} {cur:9.2f} {cur / ref:8.2f}")
    (RESULTS / "ab.json").write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten: {(RESULTS / 'ab.json').relative_to(ROOT)}")


if __name__ == "__main__":
    main()
