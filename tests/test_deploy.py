"""The deployment the README describes really starts: deploy/clinic-booking.service with .env.example.

The unit is read as systemd reads it (Environment= defaults, then EnvironmentFile= overriding them,
${VAR} expanded in ExecStart), with its install prefix /opt/clinic-booking mapped to this checkout
and an environment file made of .env.example plus what a deployment fills in (here: the test
database, a secret, a free port). The command must serve /health on 127.0.0.1 only and stop cleanly
on systemd's stop signal. `systemd-analyze verify` checks the unit's syntax. And .env.example lists
every environment variable the code reads.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from conftest import SECRET
from test_production_server import free_port

ROOT = Path(__file__).resolve().parents[1]
UNIT = ROOT / "deploy" / "clinic-booking.service"
ENV_EXAMPLE = ROOT / ".env.example"
PREFIX = "/opt/clinic-booking"
# What systemd gives a service before its own Environment= lines.
SYSTEMD_BASE_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}


def unit_service_settings() -> list[tuple[str, str]]:
    """(key, value) pairs of the [Service] section, in order (keys may repeat)."""
    settings, section = [], None
    for raw in UNIT.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]":
            key, _, value = line.partition("=")
            settings.append((key.strip(), value.strip()))
    return settings


def parse_environment_file(text: str) -> dict[str, str]:
    """systemd's EnvironmentFile= syntax: KEY=VALUE lines, # or ; comments, optional quotes."""
    env = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        key, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key), f"not KEY=value: {raw!r}"
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        env[key] = value
    return env


def expand(command: str, env: dict[str, str]) -> list[str]:
    """ExecStart: ${VAR} expands inside a word, $VAR as whole words; then split like systemd."""
    command = re.sub(r"\$\{(\w+)\}", lambda m: env.get(m.group(1), ""), command)
    return [env.get(word[1:], "") if re.fullmatch(r"\$\w+", word) else word for word in shlex.split(command)]


def service_environment(env_file: Path) -> dict[str, str]:
    env = dict(SYSTEMD_BASE_ENV)
    settings = unit_service_settings()
    for key, value in settings:  # Environment= first ...
        if key == "Environment":
            for assignment in shlex.split(value):
                name, _, val = assignment.partition("=")
                env[name] = val
    for key, value in settings:  # ... then EnvironmentFile= overrides it
        if key == "EnvironmentFile":
            assert value == "/etc/clinic-booking/env", value
            env.update(parse_environment_file(env_file.read_text()))
    return env


def test_env_example_lists_every_variable_the_code_reads():
    read = set()
    for path in [*ROOT.glob("api/**/*.py"), ROOT / "gunicorn.conf.py"]:
        read |= set(re.findall(r"""(?:(?:env|environ)\.get|getenv|environ\[)\(?\s*["']([A-Z][A-Z0-9_]+)["']""", path.read_text()))
    listed = set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.MULTILINE))
    assert len(read) > 15
    assert read - listed == set(), "variables read by the code but missing from .env.example"
    parse_environment_file(ENV_EXAMPLE.read_text())  # and it is valid EnvironmentFile syntax


def test_systemd_unit_starts_the_service_with_the_environment_file(database_url, tmp_path):
    port = free_port()
    env_file = tmp_path / "env"
    # .env.example as shipped, then what an operator fills in (later lines win, as in systemd)
    env_file.write_text(ENV_EXAMPLE.read_text() + "\n".join([
        "# filled in for this test",
        "SUPABASE_URL=",
        "SUPABASE_SERVICE_ROLE_KEY=",
        f"DATABASE_URL={database_url}",
        f"VAPI_SECRET={SECRET}",
        f"PORT={port}",
        "PUBLIC_BASE_URL=https://booking.example.com", ""]))
    env = service_environment(env_file)
    assert env["APP_ENV"] == "production" and env["PORT"] == str(port)

    settings = dict(unit_service_settings())
    assert settings["WorkingDirectory"] == PREFIX
    command = expand(settings["ExecStart"].replace(PREFIX, str(ROOT)), env)
    assert command[0] == str(ROOT / ".venv" / "bin" / "gunicorn") and "gunicorn.conf.py" in command
    assert f"127.0.0.1:{port}" in command, "the unit must listen on loopback only, behind the TLS proxy"

    log = tmp_path / "service.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                if response.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "the unit's command did not serve /health"
            time.sleep(0.3)
        assert response.json() == {"status": "ok", "database": "ok"}
        # the secret from the environment file is in force: an unauthenticated tool call is refused
        assert httpx.post(f"http://127.0.0.1:{port}/api/vapi/webhook", json={"message": {"type": "tool-calls"}},
                          timeout=5).status_code == 401
    finally:
        process.send_signal(getattr(signal, settings.get("KillSignal", "SIGTERM")))
        try:
            code = process.wait(timeout=int(settings.get("TimeoutStopSec", "90")))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
    assert code == 0, log.read_text(errors="replace")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verifies_the_unit(tmp_path):
    # The same unit with its install paths pointing at this checkout and an existing user: verify
    # then checks the syntax and that ExecStart's program exists.
    user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    group = subprocess.run(["id", "-gn"], capture_output=True, text=True, check=True).stdout.strip()
    env_file = tmp_path / "env"
    env_file.write_text(ENV_EXAMPLE.read_text())
    text = (UNIT.read_text().replace("/etc/clinic-booking/env", str(env_file)).replace(PREFIX, str(ROOT))
            .replace("User=clinic-booking", f"User={user}").replace("Group=clinic-booking", f"Group={group}"))
    unit = tmp_path / UNIT.name
    unit.write_text(text)
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "clinic-booking.service" not in result.stderr, result.stderr
