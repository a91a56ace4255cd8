"""Operator commands as an operator runs them: `flask --app api <command>` in a fresh process.

Only serving the webhook needs VAPI_SECRET; a command prints its result on stdout and nothing else
there (its log lines go to stderr, warnings only); `flask` is on PATH once the venv is activated,
as the README says.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
from pathlib import Path

import pytest

from conftest import SUNRISE
from test_production_server import free_port

ROOT = Path(__file__).resolve().parents[1]
FLASK = str(ROOT / ".venv" / "bin" / "flask")


def operator_env(database_url: str, **extra: str) -> dict:
    """The environment of an operator's shell: production, no webhook secret."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VAPI_SECRET", "VAPI_WEBHOOK_SECRET", "APP_ENV", "SUPABASE_URL", "LOG_LEVEL",
                        "CLI_LOG_LEVEL", "CREDENTIALS_KEY")}
    return {**env, "DATABASE_URL": database_url, **extra}


def flask(database_url: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([FLASK, "--app", "api", *args], cwd=ROOT, env=operator_env(database_url, **env),
                          capture_output=True, text=True, timeout=120)


READ_ONLY = [
    ("prompts", "show", "--org", SUNRISE),
    ("credentials", "list", "--org", SUNRISE),
    ("assistants", "list", "--org", SUNRISE),
    ("check-db",),
    ("clinics", "apply", "--dry-run", "docs/clinic.example.toml"),
]


@pytest.mark.parametrize("args", READ_ONLY, ids=lambda a: " ".join(a[:2]))
def test_read_only_commands_need_no_webhook_secret_and_print_no_log_lines(database_url, args):
    # LOG_LEVEL=DEBUG is the server's setting; a command logs warnings only (CLI_LOG_LEVEL).
    result = flask(database_url, *args, LOG_LEVEL="DEBUG")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "VAPI_SECRET" not in result.stderr
    assert result.stdout.strip()
    assert '"event"' not in result.stdout, "no JSON log line on stdout"
    assert result.stderr == "", "an ordinary command logs nothing (rpc.call is INFO)"


def test_prompts_show_prints_the_prompt_alone(database_url):
    result = flask(database_url, "prompts", "show", "--org", SUNRISE)
    assert result.returncode == 0, result.stderr
    assert "Sunrise Family Clinic" in result.stdout
    assert not any(line.startswith('{"ts"') for line in result.stdout.splitlines())


def test_warnings_of_a_command_go_to_stderr_as_json_and_stdout_stays_clean(database_url):
    # A weak CREDENTIALS_KEY is a warning (credentials.unavailable) when the app is built.
    result = flask(database_url, "assistants", "list", "--org", SUNRISE, CREDENTIALS_KEY="short")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("assistant=asst_sunrise_sarah")
    logged = [json.loads(line) for line in result.stderr.splitlines()]
    assert [(e["level"], e["event"], e["error"]) for e in logged] == [
        ("warning", "credentials.unavailable", "weak_encryption_key")]


def test_a_refusal_is_one_line_on_stderr_without_a_traceback(database_url):
    result = flask(database_url, "credentials", "list", "--org", "00000000-0000-4000-8000-000000000000")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("Error: unknown_org")


def test_serving_still_refuses_to_start_without_the_secret(database_url):
    port = free_port()
    result = subprocess.run([FLASK, "--app", "api", "run", "--port", str(port)], cwd=ROOT,
                            env=operator_env(database_url), capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "VAPI_SECRET is not set: refusing to serve an unauthenticated webhook" in result.stderr


def test_an_app_built_for_a_command_answers_no_webhook_request(database_url):
    from api import create_app

    level = logging.getLogger().level  # the command's app sets the process's log level (WARNING)
    app = create_app({"OPERATOR_COMMAND": True, "APP_ENV": "production", "VAPI_SECRET": "",
                      "DATABASE_URL": database_url})
    try:
        assert logging.getLogger().level == logging.WARNING
        response = app.test_client().post("/api/vapi/webhook", json={"message": {"type": "status-update"}})
    finally:
        app.extensions["deps"].gateway.close()
        logging.getLogger().setLevel(level)
    assert response.status_code == 401


def test_flask_is_on_path_once_the_venv_is_activated(database_url):
    """README: after `make dev` (or `make deps`), `source .venv/bin/activate` puts `flask` on PATH."""
    env = operator_env(database_url)
    env["PATH"] = "/usr/bin:/bin"  # a fresh shell: no venv on PATH
    assert subprocess.run(["bash", "-c", "command -v flask"], env=env, capture_output=True).returncode != 0
    result = subprocess.run(["bash", "-c", "source .venv/bin/activate && flask --app api --help"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for group in ("assistants", "calls", "clinics", "credentials", "prompts", "health-check", "stress-test"):
        assert f"  {group} " in result.stdout

