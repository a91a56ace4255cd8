"""`flask --app api check-db` and `flask --app api sign BODY_FILE`: is the database path working,
and the headers a signed request needs (for curl tests)."""

from __future__ import annotations

import json
import time

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from ..auth import sign
from ..gateway import probe
from .common import gateway


@click.command("check-db")
@with_appcontext
def check_db():
    """Call a harmless RPC and report whether the database path works."""
    ok = probe(gateway())
    click.echo("database: ok" if ok else "database: unreachable")
    raise SystemExit(0 if ok else 1)


@click.command("sign")
@click.argument("body_file", type=click.File("rb"))
@with_appcontext
def sign_body(body_file):
    """Print x-timestamp and x-signature headers for a request body (for curl tests)."""
    if not current_app.config["VAPI_SECRET"]:
        raise click.UsageError("VAPI_SECRET is not set")
    timestamp = int(time.time())
    signature = sign(current_app.config["VAPI_SECRET"], body_file.read(), timestamp)
    click.echo(json.dumps({"x-timestamp": str(timestamp), "x-signature": signature}))


def init_app(app: Flask) -> None:
    app.cli.add_command(check_db)
    app.cli.add_command(sign_body)
