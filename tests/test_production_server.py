"""The documented production command really serves: gunicorn 'api:create_app()'."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from pathlib import Path

import httpx

from conftest import SECRET

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_serves_the_app_factory(database_url):
    port = free_port()
    env = {**os.environ, "VAPI_SECRET": SECRET, "DATABASE_URL": database_url, "APP_ENV": "production"}
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--workers", "1", "--threads", "4",
         "--bind", f"127.0.0.1:{port}", "api:create_app()"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                assert server.poll() is None, server.stdout.read().decode()
                time.sleep(0.2)
        assert health.status_code == 200 and health.json() == {"status": "ok", "database": "ok"}
        unauthenticated = httpx.post(f"http://127.0.0.1:{port}/api/vapi/webhook",
                                     json={"message": {"type": "status-update"}})
        assert unauthenticated.status_code == 401
        event = httpx.post(f"http://127.0.0.1:{port}/api/vapi/webhook", json={"message": {"type": "status-update"}},
                           headers={"Authorization": f"Bearer {SECRET}"})
        assert event.status_code == 200 and event.json() == {}
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0].decode()
    # Logs are JSON lines: every line our app writes parses.
    app_lines = [line for line in output.splitlines() if line.startswith("{")]
    assert any(json.loads(line)["event"] == "auth.failed" for line in app_lines)


def test_gunicorn_refuses_to_start_without_a_secret(database_url):
    env = {k: v for k, v in os.environ.items() if k not in ("VAPI_SECRET", "VAPI_WEBHOOK_SECRET")}
    env.update(DATABASE_URL=database_url, APP_ENV="production")
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{free_port()}", "api:create_app()"],
        cwd=ROOT, env=env, capture_output=True, timeout=60)
    assert result.returncode != 0
    assert b"VAPI_SECRET" in result.stdout + result.stderr
