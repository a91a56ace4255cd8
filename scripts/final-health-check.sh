#!/usr/bin/env bash
# The v2 script name, kept for operators: the four health-check scenarios against a running service.
# All logic is in `flask --app api health-check` (api/operations.py); arguments are passed through,
# e.g. scripts/final-health-check.sh --url https://booking.example.com --org <uuid>
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec .venv/bin/flask --app api health-check "$@"
