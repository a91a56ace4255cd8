"""Configuration from the environment (12-factor), with the embedded PostgreSQL as default."""

import os

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:{port}/postgres?sslmode=disable"

# The largest request body read (werkzeug refuses a larger one with 413 before reading it, and stops
# a chunked one at this size). A Vapi tool-calls message carries the whole assistant and the
# conversation so far (~3 KB a minute), an end-of-call-report the transcript and the messages twice
# (~7 KB a minute): 45 / 80 KB at Vapi's default 10-minute call limit, 200 / 420 KB after an hour
# (tests/vapi_fixtures.py). 2 MiB holds a tool call 10 hours into a call and the report of a 5-hour
# one. docs/security-requests.md
DEFAULT_MAX_CONTENT_LENGTH = 2 * 1024 * 1024

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def flag(value: str | None) -> bool | None:
    """An on/off environment value; None when unset or blank (the caller picks the default)."""
    if value is None or not value.strip():
        return None
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"not an on/off value: {value!r} (use 1 or 0)")


def from_environment(env=os.environ) -> dict:
    port = env.get("LOCAL_DB_PORT", "54330")
    return {
        # "development" allows running without a webhook secret (what `make dev` uses);
        # anything else refuses to start without one.
        "APP_ENV": env.get("APP_ENV", "production"),
        "VAPI_SECRET": env.get("VAPI_SECRET") or env.get("VAPI_WEBHOOK_SECRET") or "",
        "DATABASE_URL": env.get("DATABASE_URL") or DEFAULT_DATABASE_URL.format(port=port),
        "SUPABASE_URL": env.get("SUPABASE_URL", ""),
        "SUPABASE_SERVICE_ROLE_KEY": env.get("SUPABASE_SERVICE_ROLE_KEY") or env.get("SUPABASE_SERVICE_KEY", ""),
        "DB_POOL_MAX": int(env.get("DB_POOL_MAX", "10")),
        # Vapi waits 20 s for a tool by default; a database call that takes longer than this is
        # abandoned so the caller still hears an answer.
        "RPC_TIMEOUT_MS": int(env.get("RPC_TIMEOUT_MS", "8000")),
        # All RPCs of one webhook request together (psycopg path): leaves Vapi's 20 s room for the
        # network and for the caller to hear the spoken failure. docs/faults.md
        "WEBHOOK_BUDGET_MS": int(env.get("WEBHOOK_BUDGET_MS", "15000")),
        "PROFILE_CACHE_SECONDS": float(env.get("PROFILE_CACHE_SECONDS", "60")),
        # Flask/werkzeug's own setting: the body limit, enforced before the body is read.
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH") or DEFAULT_MAX_CONTENT_LENGTH),
        # Whether a metadata org id alone (no assistant/phone-number mapping) may decide the clinic on
        # the Vapi webhook. None → create_app decides: on in development and test, off otherwise.
        "ALLOW_METADATA_ORG": flag(env.get("ALLOW_METADATA_ORG")),
        "VAPI_API_URL": env.get("VAPI_API_URL", "https://api.vapi.ai"),
        # Where Vapi reaches this service (https://clinic.example): the server URL written into the
        # transient assistants built on assistant-request (api/calls.py). Unset → the URL the
        # assistant-request itself came to.
        "PUBLIC_BASE_URL": (env.get("PUBLIC_BASE_URL") or "").strip().rstrip("/"),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        # An operator command's (`flask --app api <command>` other than `run`) log level: warnings
        # only, on stderr, so the command's own output on stdout reads clean.
        "CLI_LOG_LEVEL": env.get("CLI_LOG_LEVEL", "WARNING"),
        # Passphrase the service derives its credentials key from (api/credentials.py); it never
        # reaches the database and is never logged.
        "CREDENTIALS_KEY": (env.get("CREDENTIALS_KEY") or "").strip(),
    }
