#!/usr/bin/env bash
# The v2 script name, kept for operators: the four health-check scenarios against a running service.
# All logic is in `flask --app api health-check` (api/cli/operations.py); arguments are passed through,
# e.g. scripts/final-health-check.sh --url https://booking.example.com --org <uuid>
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# Without a secret the app only loads in development mode, which is what `make dev` serves; with
# VAPI_SECRET set (production) the same secret is sent to the service.
[ -n "${VAPI_SECRET:-}" ] || export APP_ENV="${APP_ENV:-development}"
exec .venv/bin/flask --app api health-check "$@"
