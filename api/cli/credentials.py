"""`flask --app api credentials set|list|delete|rekey`: per-clinic provider credentials (BYOC).

The encryption, the store/read/rekey functions and the webhook's secret cache are api/credentials.py;
this module only reads the operator's input and prints the outcome (never a value).

    flask --app api credentials set --org ORG --provider vapi [--name api_key|webhook_secret] < secret.txt
    flask --app api credentials list --org ORG
    flask --app api credentials delete --org ORG --provider vapi --name webhook_secret
    flask --app api credentials rekey < new-key.txt      (old key: CREDENTIALS_KEY)

A running service notices a set, changed or deleted webhook secret by itself, within a second: this
command runs in another process and cannot clear the service's cache, so the service re-reads SQL's
index of clinic secrets (its version) at most once a second (api.credentials.WebhookSecretCache).
"""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from ..credentials import CredentialError, rekey_credentials, store_org_secret
from ..gateway import RpcError
from ..vapi import first_uuid
from .common import call, gateway


@click.group("credentials")
def cli() -> None:
    """Per-clinic provider credentials (values are never printed)."""


def init_app(app: Flask) -> None:
    app.cli.add_command(cli)


def _org_id(ctx, param, value: str) -> str:
    org_id = first_uuid(value)
    if org_id is None:
        raise click.BadParameter("must be an org id (a UUID)")
    return org_id


def _key() -> str | None:
    return current_app.config.get("CREDENTIALS_KEY") or None


def _run(action, *args):
    try:
        return action(*args)
    except CredentialError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from None
    except RpcError as exc:
        raise click.ClickException(f"database unavailable ({exc})") from None


def _read_secret(prompt: str = "Secret") -> str:
    stdin = sys.stdin
    if stdin.isatty():
        text = click.prompt(prompt, hide_input=True, default="", show_default=False)
    else:
        text = stdin.read()
        # One trailing newline is how `echo` and editors end the line; anything else is the secret's.
        if text.endswith("\r\n"):
            text = text[:-2]
        elif text.endswith("\n"):
            text = text[:-1]
    if "\x00" in text:
        raise click.ClickException("invalid_input: the value contains a NUL character")
    return text


@cli.command("set")
@click.option("--org", "org_id", required=True, callback=_org_id, help="Org (clinic) id.")
@click.option("--provider", default="vapi", show_default=True, help="Credential provider.")
@click.option("--name", default="api_key", show_default=True, help="api_key or webhook_secret.")
@with_appcontext
def set_command(org_id: str, provider: str, name: str) -> None:
    """Encrypt and store a credential read from stdin (one trailing newline is dropped)."""
    secret = _read_secret()
    reply = _run(store_org_secret, gateway(), org_id, provider, name, secret, _key())
    click.echo(f"stored {reply['provider']}/{reply['name']} for org {reply['orgId']} "
               f"({reply['storage']}, updated {reply['updatedAt']})")


@cli.command("list")
@click.option("--org", "org_id", required=True, callback=_org_id, help="Org (clinic) id.")
@with_appcontext
def list_command(org_id: str) -> None:
    """Which credentials an org has (provider, name, storage, last update; never values)."""
    reply = call("list_org_credentials", {"p_org_id": org_id})
    if not reply["credentials"]:
        click.echo(f"no credentials stored for org {reply['orgId']}")
    for item in reply["credentials"]:
        click.echo(f"{item['provider']}\t{item['name']}\t{item['storage']}\t{item['updatedAt']}")


@cli.command("delete")
@click.option("--org", "org_id", required=True, callback=_org_id, help="Org (clinic) id.")
@click.option("--provider", default="vapi", show_default=True)
@click.option("--name", required=True, help="api_key or webhook_secret.")
@with_appcontext
def delete_command(org_id: str, provider: str, name: str) -> None:
    """Remove a stored credential."""
    reply = call("delete_org_credential", {"p_org_id": org_id, "p_provider": provider, "p_name": name})
    click.echo(f"deleted {reply['provider']}/{reply['name']} for org {reply['orgId']}")


@cli.command("rekey")
@with_appcontext
def rekey_command() -> None:
    """Re-encrypt every stored credential from CREDENTIALS_KEY to a new key read from stdin.

    All or nothing, in one transaction. Afterwards set CREDENTIALS_KEY to the new key and restart
    the service at once; until then it cannot decrypt (per-clinic webhook secrets are refused and
    the global secret still works).
    """
    new_key = _read_secret("New key")
    count = _run(rekey_credentials, gateway(), _key(), new_key)
    click.echo(f"re-encrypted {count} credential(s); now set CREDENTIALS_KEY to the new key "
               "and restart the service")
