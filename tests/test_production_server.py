"""The README's production command really serves, and survives hostile clients:
`gunicorn --config gunicorn.conf.py 'api:create_app()'` (gevent workers, socket timeouts).

Each test starts that command on a free loopback port against the test database (only --bind and
environment variables added), then speaks raw HTTP where a well-behaved client library would not
do what an attacker does: hold a request half-sent, or stream 20 MB at it.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from conftest import SECRET, SUNRISE

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION_COMMAND = [str(ROOT / ".venv" / "bin" / "gunicorn"), "--config", "gunicorn.conf.py", "api:create_app()"]
MB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def production_server(database_url: str, tmp_path: Path, **env: str):
    port = free_port()
    log = tmp_path / f"gunicorn-{port}.log"
    environment = {**os.environ, "VAPI_SECRET": SECRET, "DATABASE_URL": database_url, "APP_ENV": "production", **env}
    with open(log, "wb") as out:
        process = subprocess.Popen([*PRODUCTION_COMMAND, "--bind", f"127.0.0.1:{port}"], cwd=ROOT, env=environment,
                                   stdout=out, stderr=subprocess.STDOUT)
    server = Server(port, process, log)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{server.url}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not start"
            assert process.poll() is None, server.output()
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def head(path: str, headers: dict[str, str], body_length: int | None = None) -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json",
             *(f"{k}: {v}" for k, v in headers.items())]
    lines.append(f"Content-Length: {body_length}" if body_length is not None else "Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_response(sock: socket.socket, timeout: float = 15) -> bytes:
    """Everything the server sends until it has sent a whole response or closes; b"" if nothing."""
    sock.settimeout(timeout)
    data = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
            header_end = data.find(b"\r\n\r\n")
            if header_end >= 0:
                length = next((int(line.split(b":")[1]) for line in data[:header_end].split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                if len(data) >= header_end + 4 + length:
                    break
    except (ConnectionResetError, BrokenPipeError):
        pass
    return data


def send(port: int, request_head: bytes, chunks=()) -> tuple[int, dict | None]:
    """Send a request head, then body chunks until the server answers; (status, JSON body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(request_head)
        for chunk in chunks:
            if select.select([sock], [], [], 0)[0]:
                break  # answered already: an attacker would keep sending, the server has stopped reading
            try:
                sock.sendall(chunk)
            except OSError:
                break
        response = read_response(sock)
    assert response, "no response"
    status = int(response.split(b" ", 2)[1])
    body = response.split(b"\r\n\r\n", 1)[1]
    return status, (json.loads(body) if body.startswith(b"{") else None)


def post(port: int, raw: bytes, headers: dict[str, str], path: str = "/api/vapi/webhook") -> tuple[int, dict | None]:
    return send(port, head(path, headers, len(raw)), [raw[i:i + MB] for i in range(0, len(raw), MB)])


def vm_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} not in /proc/{pid}/status")


AUTH = {"X-Vapi-Secret": SECRET}
WRONG = {"X-Vapi-Secret": "wrong-secret"}


# --- it serves --------------------------------------------------------------------------------------

def test_the_production_command_serves_the_app_factory(database_url, tmp_path):
    with production_server(database_url, tmp_path) as server:
        health = httpx.get(f"{server.url}/health", timeout=5)
        assert health.status_code == 200 and health.json() == {"status": "ok", "database": "ok"}
        unauthenticated = httpx.post(f"{server.url}/api/vapi/webhook", json={"message": {"type": "status-update"}})
        assert unauthenticated.status_code == 401
        event = httpx.post(f"{server.url}/api/vapi/webhook", json={"message": {"type": "status-update"}},
                           headers={"Authorization": f"Bearer {SECRET}"})
        assert event.status_code == 200 and event.json() == {}
        assert len(server.workers()) == 2  # gunicorn.conf.py: WEB_CONCURRENCY defaults to 2
    output = server.output()
    assert "Using worker: SocketTimeoutGeventWorker" in output and "socket timeout 10s" in output
    assert "Traceback" not in output  # incl. at shutdown: the pool is closed in worker_exit
    # Logs are JSON lines: every line our app writes parses.
    app_lines = [line for line in output.splitlines() if line.startswith("{")]
    assert any(json.loads(line)["event"] == "auth.failed" for line in app_lines)


def test_gunicorn_refuses_to_start_without_a_secret(database_url):
    env = {k: v for k, v in os.environ.items() if k not in ("VAPI_SECRET", "VAPI_WEBHOOK_SECRET")}
    env.update(DATABASE_URL=database_url, APP_ENV="production")
    result = subprocess.run([*PRODUCTION_COMMAND, "--bind", f"127.0.0.1:{free_port()}"],
                            cwd=ROOT, env=env, capture_output=True, timeout=60)
    assert result.returncode != 0
    assert b"VAPI_SECRET" in result.stdout + result.stderr


# --- slow clients -----------------------------------------------------------------------------------

def test_two_slow_clients_do_not_stop_health_and_are_cut_off(database_url, tmp_path):
    # One worker, as small as it gets: with sync workers, these two clients would take both
    # /health's chances (the failure this test was written for).
    with production_server(database_url, tmp_path, WEB_CONCURRENCY="1", SOCKET_TIMEOUT_SECONDS="2") as server:
        slow_body = socket.create_connection(("127.0.0.1", server.port))
        slow_body.sendall(head("/api/vapi/webhook", AUTH, 1000) + b'{"message":')  # 11 of 1000 bytes
        slow_head = socket.create_connection(("127.0.0.1", server.port))
        slow_head.sendall(b"POST /api/vapi/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Vapi-Sec")  # headers unfinished
        time.sleep(0.5)  # both are in worker threads now, blocked on their sockets

        for _ in range(3):
            started = time.perf_counter()
            health = httpx.get(f"{server.url}/health", timeout=5)
            elapsed = time.perf_counter() - started
            assert health.status_code == 200 and elapsed < 1.0, f"/health took {elapsed:.2f} s"
        status, body = post(server.port, b'{"message":{"type":"status-update"}}', AUTH)
        assert (status, body) == (200, {})

        # After SOCKET_TIMEOUT_SECONDS without a byte the server lets go of both connections:
        # the half-sent body is answered 400 (the client is gone as far as werkzeug can tell),
        # the half-sent headers get the connection closed.
        started = time.perf_counter()
        assert read_response(slow_body, timeout=10).startswith(b"HTTP/1.1 400")
        assert read_response(slow_head, timeout=10) == b""  # closed (a hanging one raises TimeoutError)
        assert time.perf_counter() - started < 8
        slow_body.close()
        slow_head.close()
        assert server.process.poll() is None and httpx.get(f"{server.url}/health", timeout=5).status_code == 200


# --- one worker, many requests ---------------------------------------------------------------------

def test_a_request_waiting_on_postgresql_does_not_stop_its_worker(database_url, tmp_path):
    # A gevent worker runs one request's Python at a time: it serves others only if the waiting one
    # yields. psycopg does (≥ 3.1.14) when gevent patched `select` before psycopg was imported —
    # which gunicorn's gevent worker does before loading the app, unless someone adds preload_app.
    # Then this request's 3 s lock wait would hold /health for as long.
    tool_call = json.dumps({"message": {
        "type": "tool-calls", "assistant": {"id": "asst_sunrise_sarah"},
        "call": {"id": "call-waits-on-a-lock", "assistantId": "asst_sunrise_sarah"},
        "toolCallList": [{"id": "t1", "type": "function",
                          "function": {"name": "checkAvailability", "arguments": {"date": "tomorrow"}}}],
    }}).encode()
    with production_server(database_url, tmp_path, WEB_CONCURRENCY="1") as server:
        assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200  # the pool is warm
        with psycopg.connect(database_url) as locker, socket.create_connection(("127.0.0.1", server.port)) as waiting:
            locker.execute("lock table public.vapi_assistants in access exclusive mode")  # resolve_vapi_org reads it
            waiting.sendall(head("/api/vapi/webhook", AUTH, len(tool_call)) + tool_call)
            deadline = time.monotonic() + 5
            while not locker.execute("select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
                                     " and application_name = 'clinic-booking-api'").fetchone()[0]:
                assert time.monotonic() < deadline, "the tool call never reached the lock"
                time.sleep(0.05)

            for _ in range(3):  # the same (only) worker answers meanwhile
                started = time.perf_counter()
                health = httpx.get(f"{server.url}/health", timeout=5)
                elapsed = time.perf_counter() - started
                assert health.status_code == 200 and elapsed < 1.0, f"/health took {elapsed:.2f} s"
            locker.rollback()
            answer = read_response(waiting)
        assert answer.startswith(b"HTTP/1.1 200")
        assert b"t1" in answer  # answered, whatever the lock left it to say
    assert "Traceback" not in server.output()


# --- memory -----------------------------------------------------------------------------------------

def test_hostile_bodies_keep_worker_memory_bounded(database_url, tmp_path, sql):
    with production_server(database_url, tmp_path, WEB_CONCURRENCY="1") as server:
        (worker,) = server.workers()
        for _ in range(3):  # warm up: imports, pool, caches
            assert post(server.port, b'{"message":{"type":"status-update"}}', AUTH)[0] == 200
            assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200
        baseline_kb = vm_kb(worker, "VmRSS")

        twenty_mb_of_objects = b"{}" * (10 * MB)
        chunks = [twenty_mb_of_objects[i:i + 64 * 1024] for i in range(0, 20 * MB, 64 * 1024)]
        chunked = [b"%x\r\n%s\r\n" % (len(c), c) for c in chunks] + [b"0\r\n\r\n"]
        too_big = {"error": "request_entity_too_large", "maxBytes": 2 * MB}
        # 20 MB announced: refused from the headers, before a byte of the body is read.
        assert post(server.port, twenty_mb_of_objects, WRONG) == (413, too_big)
        assert post(server.port, twenty_mb_of_objects, AUTH) == (413, too_big)
        # 20 MB streamed without a length: read up to the 2 MB limit, then refused.
        assert send(server.port, head("/api/vapi/webhook", AUTH), chunked) == (413, too_big)
        assert send(server.port, head("/api/vapi/webhook", WRONG), chunked) == (413, too_big)

        # The largest bodies allowed, built to cost the most memory per byte when parsed.
        objects = b"[" + b"{}," * (2 * MB // 3 - 2) + b"{}]"
        arrays = b"[" + b"[]," * (2 * MB // 3 - 2) + b"[]]"
        assert post(server.port, objects, WRONG)[0] == 401  # pre-auth search: pruned parse
        assert post(server.port, arrays, WRONG)[0] == 401  # pre-auth search: not even tried
        assert post(server.port, objects, AUTH) == (400, {"error": "invalid_request", "reason": "body_not_object"})
        deep = b"[" * 100_000 + b"]" * 100_000
        assert post(server.port, deep, AUTH) == (400, {"error": "invalid_request", "reason": "too_deep"})
        assert post(server.port, deep, WRONG)[0] == 401
        surrogate = b'{"message":{"type":"tool-calls","assistant":{"id":"\\ud800"},"toolCallList":[]}}'
        assert post(server.port, surrogate, AUTH) == (400, {"error": "invalid_request", "reason": "invalid_encoding"})
        many = json.dumps({"message": {"type": "tool-calls", "customer": {"metadata": {"org_id": SUNRISE}},
                                       "toolCallList": [{"id": f"t{n}", "function": {"name": "checkAvailability"}}
                                                        for n in range(10_000)]}}).encode()
        status, body = post(server.port, many, AUTH)
        assert status == 200 and len(body["results"]) == 10_000

        peak_kb = vm_kb(worker, "VmHWM")
        assert server.workers() == [worker], "the worker was replaced"
        assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200
    grown_mb = (peak_kb - baseline_kb) / 1024
    print(f"worker {worker}: baseline {baseline_kb / 1024:.0f} MB, peak {peak_kb / 1024:.0f} MB (+{grown_mb:.0f} MB)")
    assert grown_mb < 100
    assert sql("select count(*) from public.appointments")[0][0] == 0
    assert "Traceback" not in server.output()


@pytest.mark.parametrize("framing", ["content-length", "Chunked"])
def test_eighty_hostile_bodies_at_once_keep_worker_memory_bounded(database_url, tmp_path, framing):
    # A gevent worker accepts up to WORKER_CONNECTIONS (1000) connections, each a greenlet of a few
    # kilobytes — but a body is up to 2 MiB. gunicorn.conf.py's BodyRequestLimit lets at most
    # REQUESTS_PER_WORKER (16) requests with a body into the app at once; the others wait unread.
    # Eighty clients send all of a 2 MiB body but its last byte, hold it for a second, then finish
    # (a wrong credential: 401), one worker. Without the bound every body is read and held at once.
    # Streamed as `Transfer-Encoding: Chunked` (gunicorn reads the value case-insensitively) too: the
    # bound must not depend on how the body is framed.
    body = b'{"message":{"type":"status-update","note":"' + b"x" * (2 * MB - 64) + b'"}}'
    assert len(body) <= 2 * MB
    with production_server(database_url, tmp_path, WEB_CONCURRENCY="1") as server:
        (worker,) = server.workers()
        for _ in range(3):  # warm up: imports, pool, caches
            assert post(server.port, b'{"message":{"type":"status-update"}}', AUTH)[0] == 200
        baseline_kb = vm_kb(worker, "VmRSS")
        gate = threading.Barrier(80)

        def hostile(_):
            with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
                if framing == "Chunked":
                    request_head = head("/api/vapi/webhook", WRONG).replace(b"chunked", b"Chunked")
                    start, end = request_head + b"%x\r\n%s\r\n" % (len(body), body), b"0\r\n\r\n"
                else:
                    start, end = head("/api/vapi/webhook", WRONG, len(body)) + body[:-1], body[-1:]
                sock.sendall(start)
                gate.wait(timeout=30)
                time.sleep(1.0)  # all but the end sent: a reading server holds the body
                sock.sendall(end)
                response = read_response(sock)
            return int(response.split(b" ", 2)[1]) if response else None

        with ThreadPoolExecutor(max_workers=80) as pool:
            statuses = list(pool.map(hostile, range(80)))
        assert statuses == [401] * 80
        peak_kb = vm_kb(worker, "VmHWM")
        health = httpx.get(f"{server.url}/health", timeout=5)
        assert health.status_code == 200 and server.workers() == [worker]
    grown_mb = (peak_kb - baseline_kb) / 1024
    print(f"worker {worker}: 80 hostile 2 MiB bodies at once ({framing}), peak +{grown_mb:.0f} MB")
    assert grown_mb < 100
    assert "Traceback" not in server.output()
