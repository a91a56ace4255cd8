"""Clinic booking webhook for Vapi: parse, normalize, call one RPC, answer in one spoken line.

Run in development: `flask --app api run` (see README). Production:
`gunicorn --config gunicorn.conf.py 'api:create_app()'` (threaded workers with socket timeouts).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

import click
from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from .config import from_environment
from .gateway import PostgresGateway, RpcGateway, SupabaseGateway, probe
from .logs import configure_logging, log_event
from .orgs import ProfileCache
from .prompt_sync import prompts_cli


@dataclass
class Booking:
    """What the request handlers share: the RPC gateway, the profile cache and the clock."""

    gateway: RpcGateway
    profiles: ProfileCache
    clock: Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def build_gateway(config) -> RpcGateway:
    if config["SUPABASE_URL"] and config["SUPABASE_SERVICE_ROLE_KEY"]:
        return SupabaseGateway(config["SUPABASE_URL"], config["SUPABASE_SERVICE_ROLE_KEY"],
                               timeout_s=config["RPC_TIMEOUT_MS"] / 1000)
    return PostgresGateway(config["DATABASE_URL"], max_size=config["DB_POOL_MAX"],
                           statement_timeout_ms=config["RPC_TIMEOUT_MS"])


def create_app(test_config: dict | None = None, *, gateway: RpcGateway | None = None,
               clock: Callable[[], datetime] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(from_environment())
    if test_config:
        app.config.update(test_config)
    configure_logging(app.config["LOG_LEVEL"])
    app.json.sort_keys = False  # the v2 contract's key order is part of what clients read

    app.config["VAPI_SECRET"] = (app.config["VAPI_SECRET"] or "").strip()
    if not app.config["VAPI_SECRET"]:
        if app.config["APP_ENV"] != "development":
            raise RuntimeError("VAPI_SECRET is not set: refusing to serve an unauthenticated webhook "
                               "(set APP_ENV=development for local work only)")
        log_event("auth.disabled", 30, reason="development mode without VAPI_SECRET")

    # A metadata org id alone may pick the clinic only where nobody else can write that metadata.
    if app.config.get("ALLOW_METADATA_ORG") is None:
        app.config["ALLOW_METADATA_ORG"] = app.config["APP_ENV"] in ("development", "test")
    elif app.config["ALLOW_METADATA_ORG"] and app.config["APP_ENV"] not in ("development", "test"):
        log_event("org.metadata_allowed", 30, reason="ALLOW_METADATA_ORG is on outside development: "
                  "a metadata org id alone picks the clinic on the Vapi webhook")

    gateway = gateway or build_gateway(app.config)
    app.extensions["booking"] = Booking(
        gateway=gateway,
        profiles=ProfileCache(gateway, app.config["PROFILE_CACHE_SECONDS"]),
        clock=clock or utc_now,
    )

    from . import health, webhook

    app.register_blueprint(health.bp)
    app.register_blueprint(webhook.bp)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        # JSON for every HTTP error: not_found, method_not_allowed, bad_request (e.g. the client went
        # away mid-body), request_timeout (a stalled body), request_entity_too_large (the body limit).
        name = (error.name or "error").lower().replace(" ", "_")
        response = jsonify(error=name)
        if error.code == 413:
            response = jsonify(error=name, maxBytes=app.config["MAX_CONTENT_LENGTH"])
        return response, error.code

    @app.errorhandler(500)
    def internal_error(_):
        return jsonify(error="internal_error"), 500

    from .assistants import assistants_cli
    from .calls import calls_cli
    from .credentials import cli as credentials_cli
    from .operations import health_check, stress_test

    for command in (assistants_cli, calls_cli, credentials_cli, prompts_cli, health_check, stress_test):
        app.cli.add_command(command)

    @app.cli.command("check-db")
    def check_db():
        """Call a harmless RPC and report whether the database path works."""
        ok = probe(app.extensions["booking"].gateway)
        click.echo("database: ok" if ok else "database: unreachable")
        raise SystemExit(0 if ok else 1)

    @app.cli.command("sign")
    @click.argument("body_file", type=click.File("rb"))
    def sign_body(body_file):
        """Print x-timestamp and x-signature headers for a request body (for curl tests)."""
        from .auth import sign

        if not app.config["VAPI_SECRET"]:
            raise click.UsageError("VAPI_SECRET is not set")
        timestamp = int(time.time())
        signature = sign(app.config["VAPI_SECRET"], body_file.read(), timestamp)
        click.echo(json.dumps({"x-timestamp": str(timestamp), "x-signature": signature}))

    return app
