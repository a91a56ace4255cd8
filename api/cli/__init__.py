"""Operator commands: `flask --app api <command>`, one module per command group.

None of them serves a request: they run on an operator's machine (or a one-off container) against
the same database as the webhook, through the app's RPC gateway, and print what happened. The
request path (api/webhook.py and what it calls) does not import anything from here. Each module
registers its commands with ``init_app(app)``, called once from ``create_app``.

An app built for one of these needs no VAPI_SECRET and logs warnings only, on stderr, so a
command's own output (stdout) is never interleaved with log lines (api.create_app).

    assistants   map | list | unmap            which Vapi assistant / phone number speaks for a clinic
    calls        purge                         drop call transcripts past each clinic's retention
    clinics      apply FILE.toml [--dry-run]   create or update a clinic from one file
    credentials  set | list | delete | rekey   per-clinic provider credentials (values never printed)
    prompts      show | sync                   the enforced system prompt, printed or pushed to Vapi
    health-check, stress-test                  a running service, spoken to over HTTP as Vapi does
    check-db, sign                             diagnostics
"""

from __future__ import annotations

from flask import Flask

from . import assistants, calls, clinics, credentials, diagnostics, operations, prompts

GROUPS = (assistants, calls, clinics, credentials, diagnostics, operations, prompts)


def init_app(app: Flask) -> None:
    for group in GROUPS:
        group.init_app(app)
