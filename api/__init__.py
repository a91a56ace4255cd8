"""Clinic booking webhook for Vapi: parse, normalize, call one RPC, answer in one spoken line.

Two parts. The request path, in the order a request meets it: api/webhook.py (the endpoints) →
vapi.py (the envelope) → auth.py (who sent it) → normalize.py (what the caller said, as values)
→ tools.py (one RPC per tool call) / calls.py (the call's other messages) → gateway.py (the
database) → speech.py (the one line the caller hears). The operator commands are api/cli/
(`flask --app api <command>`), registered below through ``cli.init_app``. Both use deps.py (the
gateway, the profile cache, the clock), config.py and logs.py.

Run in development: `make dev`, or `flask --app api run` (see README). Production:
`gunicorn --config gunicorn.conf.py 'api:create_app()'` (gevent workers with socket timeouts).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable

import click
from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from . import cli, deps
from .config import from_environment
from .gateway import RpcGateway
from .logs import configure_logging, log_event


def _for_operator_command() -> bool:
    """Is `flask --app api <command>` building this app for a command other than `run`?

    Flask's CLI loads the app inside a click context: the `run` command's own when serving, the
    `flask` group's while it looks up any other command. gunicorn and tests build it outside one.
    """
    ctx = click.get_current_context(silent=True)
    return ctx is not None and ctx.command.name != "run"


def create_app(test_config: dict | None = None, *, gateway: RpcGateway | None = None,
               clock: Callable[[], datetime] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(from_environment())
    if test_config:
        app.config.update(test_config)
    if app.config.get("OPERATOR_COMMAND") is None:
        app.config["OPERATOR_COMMAND"] = _for_operator_command()
    operator_command = bool(app.config["OPERATOR_COMMAND"])
    # An operator command prints its result on stdout; log lines go to stderr, warnings only.
    configure_logging(app.config["CLI_LOG_LEVEL"] if operator_command else app.config["LOG_LEVEL"])
    app.json.sort_keys = False  # the v2 contract's key order is part of what clients read

    app.config["VAPI_SECRET"] = (app.config["VAPI_SECRET"] or "").strip()
    # Only serving the webhook needs the secret: an operator command's app serves nothing (and were
    # it asked to, the webhook refuses every request without a secret outside development).
    if not app.config["VAPI_SECRET"] and not operator_command:
        if app.config["APP_ENV"] != "development":
            raise RuntimeError("VAPI_SECRET is not set: refusing to serve an unauthenticated webhook "
                               "(set APP_ENV=development for local work only)")
        log_event("auth.disabled", logging.WARNING, reason="development mode without VAPI_SECRET")

    # A metadata org id alone may pick the clinic only where nobody else can write that metadata.
    if app.config.get("ALLOW_METADATA_ORG") is None:
        app.config["ALLOW_METADATA_ORG"] = app.config["APP_ENV"] in ("development", "test")
    elif (app.config["ALLOW_METADATA_ORG"] and app.config["APP_ENV"] not in ("development", "test")
          and not operator_command):
        log_event("org.metadata_allowed", logging.WARNING, reason="ALLOW_METADATA_ORG is on outside development: "
                  "a metadata org id alone picks the clinic on the Vapi webhook")

    deps.init_app(app, gateway=gateway, clock=clock)

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

    cli.init_app(app)
    return app
