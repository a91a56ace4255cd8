"""The operator commands run against `make dev` (a spawned server on a free port), so they cannot rot.

`make dev` resets this cluster's `postgres` database and serves it; the commands run as
`flask --app api ...` subprocesses pointed at the same database, with a webhook secret on both sides.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from conftest import DB_PORT, SECRET, SUNRISE, local_instant, next_open_day
from test_production_server import free_port

ROOT = Path(__file__).resolve().parents[1]
DEV_DATABASE_URL = f"postgresql://postgres@127.0.0.1:{DB_PORT}/postgres?sslmode=disable"
HEALTH_CHECK_ORG = "00000000-0000-4000-8000-00000000c4ec"


def _env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("VAPI_SECRET", "VAPI_WEBHOOK_SECRET", "SUPABASE_URL")}
    return {**env, "DATABASE_URL": DEV_DATABASE_URL, "VAPI_SECRET": SECRET,
            "APP_ENV": "development", **extra}


@pytest.fixture(scope="module")
def dev_server():
    port = free_port()
    log = open(ROOT / ".localdb" / f"make-dev-{port}.log", "wb") if (ROOT / ".localdb").is_dir() else subprocess.DEVNULL
    server = subprocess.Popen(["make", "--no-print-directory", "dev", f"PORT={port}"],
                              cwd=ROOT, env=_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, "make dev exited"
            assert time.monotonic() < deadline, "make dev did not serve /health"
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        if log is not subprocess.DEVNULL:
            log.close()


def flask(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(ROOT / ".venv" / "bin" / "flask"), "--app", "api", *args], cwd=ROOT,
                          env=_env(**env), capture_output=True, text=True, timeout=180)


def wrapper(script: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    """The v2 script names (thin wrappers around the same commands)."""
    return subprocess.run([str(ROOT / "scripts" / script), *args], cwd=ROOT, env=_env(**env),
                          capture_output=True, text=True, timeout=180)


def query(sql: str, params=None) -> list[tuple]:
    with psycopg.connect(DEV_DATABASE_URL, autocommit=True) as conn:
        cursor = conn.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def calendar_snapshot() -> list[tuple]:
    """Every appointment and lead of every org, as (kind, org, id)."""
    return query("select 'appointment', org_id::text, id::text from public.appointments"
                 " union all select 'lead', org_id::text, id::text from public.leads order by 1, 2, 3")


def test_health_check_passes_and_leaves_no_trace(dev_server):
    before = calendar_snapshot()
    result = flask("health-check", "--url", dev_server)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(" ", 2)[:2] for line in lines if re.match(r"(PASS|FAIL) \d", line)] == [
        ["PASS", "1"], ["PASS", "2"], ["PASS", "3"], ["PASS", "4"]]
    assert "slot_unavailable with 3 alternative(s)" in result.stdout
    assert "stored as +14155550123" in result.stdout
    assert "cleanup: removed 3 appointment(s), 2 lead(s)" in result.stdout
    assert lines[-1] == "ALL HEALTH CHECKS PASSED"
    assert calendar_snapshot() == before
    # the dedicated clinic exists, clearly marked, and never shows up in a real clinic's calendar
    assert query("select name from public.orgs where id = %s", [HEALTH_CHECK_ORG]) == [
        ("Health check (automated test clinic, not a real clinic)",)]


def test_health_check_on_a_real_clinic_removes_exactly_what_it_booked(dev_server):
    # A real patient with the scenario-4 phone and a real booking at the time the check would try first.
    day = next_open_day(min_days=7)
    (reply,) = query("select public.book_appointment_atomic_v2(p_org_id => %s, p_name => 'Real Patient',"
                     " p_email => null, p_phone => '+14155550123', p_service => null, p_scheduled_at => %s)",
                     [SUNRISE, local_instant(day, 9)])[0]
    assert reply["success"], reply
    before = calendar_snapshot()
    try:
        result = flask("health-check", "--url", dev_server, "--org", SUNRISE)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.count("\nPASS ") == 4 and "FAIL" not in result.stdout
        # the real patient's lead was reused by scenario 4, so only scenario 1's new lead goes
        assert "cleanup: removed 3 appointment(s), 1 lead(s)" in result.stdout
        assert calendar_snapshot() == before
    finally:
        query("delete from public.appointments where id = %s", [reply["appointmentId"]])
        query("delete from public.leads where id = %s", [reply["contactId"]])


def test_stress_test_one_winner_and_the_rest_offered_alternatives(dev_server):
    before = calendar_snapshot()
    result = flask("stress-test", "--url", dev_server, "-n", "50")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for line in ("successes: 1", "conflicts (slot_unavailable with alternatives): 49", "errors: 0",
                 "rows in the database for the slot: 1", "cleanup: removed 1 appointment(s), 1 lead(s)",
                 "PASS: exactly one booking won the slot"):
        assert line in out.splitlines(), out
    assert re.search(r"^latency ms: p50 [\d.]+  p95 [\d.]+  p99 [\d.]+  max [\d.]+$", out, re.MULTILINE), out
    assert calendar_snapshot() == before


def test_commands_fail_when_the_service_refuses_their_secret(dev_server):
    result = wrapper("stress-test-v2.sh", "--url", dev_server, "-n", "3", VAPI_SECRET="not-the-secret")
    assert result.returncode == 1
    assert "FAIL:" in result.stdout and "HTTP 401" in result.stdout
    # without --url the commands go where PORT says (as `make dev` and gunicorn.conf.py serve)
    health = flask("health-check", VAPI_SECRET="not-the-secret", PORT=dev_server.rsplit(":", 1)[1])
    assert health.returncode == 1
    assert health.stdout.count("FAIL ") == 4 and "PASS" not in health.stdout


def test_health_check_fails_fast_when_nothing_listens():
    started = time.monotonic()
    port = free_port()
    result = wrapper("final-health-check.sh", "--timeout", "2", PORT=str(port))  # no --url: PORT decides
    assert result.returncode == 1
    fails = [line for line in result.stdout.splitlines() if line.startswith("FAIL ")]
    assert len(fails) == 4 and all(f"service unreachable at http://127.0.0.1:{port}" in line for line in fails), \
        result.stdout
    assert result.stdout.splitlines()[-1] == "HEALTH CHECK FAILED"
    assert time.monotonic() - started < 30  # generous: the point is "no hang", not a latency figure


def test_make_dev_reaches_the_cluster_through_its_unix_socket(dev_server):
    """The URL `make dev` hands the service (scripts/localdb.sh url) is the cluster's Unix-domain
    socket, not loopback TCP (bench/README.md, "Unix socket and one write per reply"); the Supabase
    CLI gets the TCP one."""
    localdb = lambda *args: subprocess.run([str(ROOT / "scripts" / "localdb.sh"), *args], check=True,
                                           capture_output=True, text=True).stdout.strip()
    assert httpx.get(f"{dev_server}/health", timeout=5).json() == {"status": "ok", "database": "ok"}
    with psycopg.connect(localdb("url", "postgres")) as conn:
        assert conn.info.host.startswith("/") and conn.info.port == int(localdb("port"))
        assert conn.execute("select inet_server_addr()").fetchone()[0] is None  # no server address: a socket
        # the dev server's own connections: a socket has no client address
        served = conn.execute("select client_addr is null from pg_stat_activity"
                              " where application_name = 'clinic-booking-api' and datname = 'postgres'").fetchall()
        assert served and all(row[0] for row in served)
    assert localdb("tcp-url", "postgres").startswith(f"postgresql://postgres@127.0.0.1:{localdb('port')}/")
