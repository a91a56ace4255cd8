"""Per-clinic provider credentials (BYOC): read them for the service, manage them from the CLI.

SQL decides everything (supabase/migrations/20261125000600_credentials.sql): which credentials
exist, where they are stored (Supabase Vault, else pgcrypto with our key), validation, decryption.
This module passes the encryption key (config ``CREDENTIALS_KEY``) along with each call; neither
the key nor a value is ever logged or printed (the gateway logs RPC names and timings only), and
webhook secrets are cached in process memory only.

    flask --app api credentials set --org ORG --provider vapi [--name api_key|webhook_secret] < secret.txt
    flask --app api credentials list --org ORG
    flask --app api credentials delete --org ORG --provider vapi --name webhook_secret
    flask --app api credentials rekey < new-key.txt      (old key: CREDENTIALS_KEY)
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass

import click
from cachetools import TTLCache
from flask import current_app
from flask.cli import with_appcontext

from .gateway import RpcError, RpcGateway
from .logs import log_event
from .vapi import first_uuid


class CredentialError(Exception):
    """The database refused to store or reveal a credential (``code`` as in the RPC reply)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def org_secret(gateway: RpcGateway, org_id: str, provider: str, name: str,
               encryption_key: str | None) -> str | None:
    """The org's decrypted credential, or None when none is stored.

    Raises CredentialError for any other refusal (wrong or missing key, unknown org/provider/name)
    so a misconfiguration is never mistaken for "not set", and RpcError when the database is
    unreachable.
    """
    reply = gateway.rpc("get_org_credential", {
        "p_org_id": org_id, "p_provider": provider, "p_name": name,
        "p_encryption_key": encryption_key or None,
    })
    if reply.get("success"):
        return reply["value"]
    if reply.get("error") == "not_found":
        return None
    raise CredentialError(str(reply.get("error")), str(reply.get("message", "")))


@dataclass(frozen=True)
class OrgWebhookSecret:
    org_id: str
    secret: str


class WebhookSecretCache:
    """Per-org webhook secrets by (assistant id, phone-number id), kept briefly like profiles.

    Misses are cached too (bounded), so repeated requests naming an assistant without a stored
    secret do not reach the database every time.
    """

    def __init__(self, gateway: RpcGateway, ttl_seconds: float, encryption_key: str | None,
                 maxsize: int = 4096, timer=time.monotonic):
        self._gateway = gateway
        self._key = encryption_key or None
        self._entries: TTLCache = TTLCache(maxsize=maxsize, ttl=max(ttl_seconds, 0.001), timer=timer)
        self._lock = threading.Lock()

    def get(self, assistant_id: str | None, phone_number_id: str | None) -> OrgWebhookSecret | None:
        """The secret of the org mapped to these ids, or None when there is none to use.

        Never raises: a database or key problem makes the per-org path unavailable (logged without
        values), it must not turn an authentication check into a server error.
        """
        if not assistant_id and not phone_number_id:
            return None
        cache_key = (assistant_id, phone_number_id)
        with self._lock:
            if cache_key in self._entries:
                return self._entries[cache_key]
        try:
            reply = self._gateway.rpc("resolve_vapi_webhook_secret", {
                "p_assistant_id": assistant_id, "p_phone_number_id": phone_number_id,
                "p_encryption_key": self._key,
            })
        except RpcError:
            return None  # not cached: the next request tries again
        found = None
        if reply.get("success"):
            found = OrgWebhookSecret(org_id=reply["orgId"], secret=reply["value"])
        elif reply.get("error") not in ("no_org", "not_found"):
            log_event("credentials.unavailable", 30, error=reply.get("error"), orgId=reply.get("orgId"))
        with self._lock:
            self._entries[cache_key] = found
        return found

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------

@click.group("credentials")
def cli() -> None:
    """Per-clinic provider credentials (values are never printed)."""


def _org_id(ctx, param, value: str) -> str:
    org_id = first_uuid(value)
    if org_id is None:
        raise click.BadParameter("must be an org id (a UUID)")
    return org_id


def _gateway() -> RpcGateway:
    return current_app.extensions["booking"].gateway


def _call(name: str, params: dict) -> dict:
    try:
        reply = _gateway().rpc(name, params)
    except RpcError as exc:
        raise click.ClickException(f"database unavailable ({exc})") from None
    if not reply.get("success"):
        raise click.ClickException(f"{reply.get('error')}: {reply.get('message', '')}")
    return reply


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
    if "\x00" in text:  # PostgreSQL text cannot hold NUL; say so instead of failing in the driver
        raise click.ClickException("invalid_input: the value contains a NUL character")
    return text


@cli.command("set")
@click.option("--org", "org_id", required=True, callback=_org_id, help="Org (clinic) id.")
@click.option("--provider", default="vapi", show_default=True, help="Credential provider.")
@click.option("--name", default="api_key", show_default=True, help="api_key or webhook_secret.")
@with_appcontext
def set_command(org_id: str, provider: str, name: str) -> None:
    """Store a credential read from stdin (one trailing newline is dropped)."""
    secret = _read_secret()
    reply = _call("set_org_credential", {
        "p_org_id": org_id, "p_provider": provider, "p_name": name, "p_secret": secret,
        "p_encryption_key": current_app.config.get("CREDENTIALS_KEY") or None,
    })
    click.echo(f"stored {reply['provider']}/{reply['name']} for org {reply['orgId']} "
               f"({reply['storage']}, updated {reply['updatedAt']})")


@cli.command("list")
@click.option("--org", "org_id", required=True, callback=_org_id, help="Org (clinic) id.")
@with_appcontext
def list_command(org_id: str) -> None:
    """Which credentials an org has (provider, name, storage, last update; never values)."""
    reply = _call("list_org_credentials", {"p_org_id": org_id})
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
    reply = _call("delete_org_credential", {"p_org_id": org_id, "p_provider": provider, "p_name": name})
    click.echo(f"deleted {reply['provider']}/{reply['name']} for org {reply['orgId']}")


@cli.command("rekey")
@with_appcontext
def rekey_command() -> None:
    """Re-encrypt all pgcrypto-stored credentials from CREDENTIALS_KEY to a new key read from stdin.

    All or nothing. Afterwards set CREDENTIALS_KEY to the new key and restart the service; until
    then it cannot decrypt (per-clinic webhook secrets fall back to the global secret only).
    """
    new_key = _read_secret("New key")
    reply = _call("rekey_org_credentials", {
        "p_old_key": current_app.config.get("CREDENTIALS_KEY") or None, "p_new_key": new_key,
    })
    click.echo(f"re-encrypted {reply['reencrypted']} credential(s); now set CREDENTIALS_KEY to the new key "
               "and restart the service")
