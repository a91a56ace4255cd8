#!/usr/bin/env bash
# The v2 script name, kept for operators: the four health-check scenarios against a running service.
# All logic is in `flask --app api health-check` (api/cli/operations.py); arguments are passed through,
# e.g. scripts/final-health-check.sh --url https://booking.example.com --org <uuid>
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# With VAPI_SECRET set (production) the same secret is sent to the service; without it (`make dev`)
# none is sent. Either way the command itself needs none.
exec .venv/bin/flask --app api health-check "$@"
