"""Configuration from the environment (12-factor), with the embedded PostgreSQL as default."""

import os

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:{port}/postgres?sslmode=disable"


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
        "HMAC_TOLERANCE_SECONDS": 300,
        "VAPI_API_URL": env.get("VAPI_API_URL", "https://api.vapi.ai"),
        "LOG_LEVEL": env.get("LOG_LEVEL", "INFO"),
        # Passphrase the service derives its credentials key from (api/credentials.py); it never
        # reaches the database and is never logged.
        "CREDENTIALS_KEY": (env.get("CREDENTIALS_KEY") or "").strip(),
    }
