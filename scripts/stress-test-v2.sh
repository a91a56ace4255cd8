#!/usr/bin/env bash
# The v2 script name, kept for operators: N concurrent bookings of one slot against a running service.
# All logic is in `flask --app api stress-test` (api/cli/operations.py); arguments are passed through,
# e.g. scripts/stress-test-v2.sh --url http://127.0.0.1:3001 -n 50
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# With VAPI_SECRET set (production) the same secret is sent to the service; without it (`make dev`)
# none is sent. Either way the command itself needs none.
exec .venv/bin/flask --app api stress-test "$@"
