"""`flask --app api calls purge`: call-log housekeeping (the calls themselves are api/calls.py's)."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from ..gateway import RpcError
from .common import UNREACHABLE, gateway

calls_cli = AppGroup("calls", help="Call log housekeeping.")


def init_app(app: Flask) -> None:
    app.cli.add_command(calls_cli)


@calls_cli.command("purge")
def purge():
    """Null transcripts, messages and recording URLs of calls past their clinic's retention
    (transcript_retention_days); the call rows and outcomes stay. Safe to run at any time."""
    try:
        reply = gateway().rpc("purge_call_artifacts", {})
    except RpcError:
        raise click.ClickException(UNREACHABLE) from None
    if not reply.get("success"):
        raise click.ClickException(f"purge refused: {reply.get('error', 'unknown error')}")
    purged = int(reply.get("purged") or 0)
    click.echo(f"purged the transcripts, messages and recordings of {purged} call{'s' if purged != 1 else ''}")
