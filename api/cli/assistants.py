"""`flask --app api assistants map|list|unmap`: which Vapi assistant or phone number speaks for a clinic.

A mapping decides which clinic a call books into, so only the operator writes it (public.map_vapi_id,
executable by service_role alone; clinic members can only read their own mappings). Before mapping,
when the clinic has a stored Vapi private API key (credential vapi/api_key), the command asks Vapi
with that key — `GET /assistant/{id}` or `GET /phone-number/{id}` — and maps only an id the clinic's
own Vapi account has: Vapi answers 404 for an id of another account and 401 for a key it does not
accept, and either refuses the mapping. Without a stored key the id is mapped with a warning that it
was not confirmed. Whether the id is free, already the clinic's, or another clinic's is SQL's answer.

    flask --app api assistants map --org ORG (--assistant ID | --phone-number ID) [--label TEXT]
    flask --app api assistants list --org ORG
    flask --app api assistants unmap --org ORG (--assistant ID | --phone-number ID)
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

import click
import httpx
from flask import Flask, current_app
from flask.cli import AppGroup

from ..credentials import CredentialError, org_secret
from ..gateway import RpcError
from .common import UNREACHABLE, VAPI_TIMEOUT_S, call, gateway, vapi_reason


@dataclass(frozen=True)
class VapiId:
    """One Vapi id as the command was given it: which kind, the id, and the RPC argument it is."""

    kind: str  # "assistant" or "phone number"
    path: str  # the Vapi API collection: "assistant" or "phone-number"
    param: str  # "p_assistant_id" or "p_phone_number_id"
    value: str

    def rpc_params(self) -> dict:
        return {"p_assistant_id": None, "p_phone_number_id": None, self.param: self.value}

    @classmethod
    def of(cls, kind: str, value: str) -> "VapiId":
        """The id of `kind` ("assistant" or "phone number", as SQL replies name them)."""
        if kind == "assistant":
            return cls("assistant", "assistant", "p_assistant_id", value)
        return cls("phone number", "phone-number", "p_phone_number_id", value)


def _vapi_id(assistant_id: str | None, phone_number_id: str | None) -> VapiId:
    given = [v for v in (assistant_id, phone_number_id) if v is not None]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --assistant ID or --phone-number ID")
    value = given[0].strip()
    if not value:
        raise click.UsageError("the Vapi id is empty")
    return VapiId.of("assistant" if assistant_id is not None else "phone number", value)


def confirm_with_vapi(base_url: str, api_key: str, vapi_id: VapiId, *, timeout_s: float = VAPI_TIMEOUT_S) -> None:
    """Return when Vapi, asked with the clinic's own key, has this id; otherwise raise a
    ClickException that says precisely why nothing was mapped (the key itself is never shown)."""
    path = f"/{vapi_id.path}/{quote(vapi_id.value, safe='')}"
    request = f"GET {path}"
    try:
        with httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s,
                          headers={"Authorization": f"Bearer {api_key}"}) as http:
            response = http.get(path)
    except httpx.HTTPError as exc:
        raise click.ClickException(
            f"could not confirm the {vapi_id.kind} with Vapi ({request}: {type(exc).__name__}); nothing was mapped. "
            "Try again when Vapi is reachable") from None
    status = response.status_code
    if status == 404:
        raise click.ClickException(
            f"Vapi has no {vapi_id.kind} {vapi_id.value} in this clinic's Vapi account ({request}: HTTP 404); "
            "nothing was mapped. Check the id, and that the clinic's stored Vapi API key (credential vapi/api_key) "
            "belongs to the Vapi account that owns it")
    if status in (401, 403):
        raise click.ClickException(
            f"Vapi refused the clinic's stored API key ({request}: HTTP {status}{vapi_reason(response)}); nothing was "
            "mapped. Store the clinic's Vapi private API key with "
            "`flask --app api credentials set --org ORG --provider vapi --name api_key`")
    if response.is_error:
        raise click.ClickException(
            f"could not confirm the {vapi_id.kind} with Vapi ({request}: HTTP {status}{vapi_reason(response)}); "
            "nothing was mapped. Try again later")
    try:
        body = response.json()
    except ValueError:
        raise click.ClickException(f"Vapi's reply to {request} is not JSON; nothing was mapped") from None
    if not isinstance(body, dict) or body.get("id") != vapi_id.value:
        raise click.ClickException(f"Vapi's reply to {request} is not that {vapi_id.kind}; nothing was mapped")


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------

assistants_cli = AppGroup("assistants", help="Map Vapi assistant and phone-number ids to clinics (operator only).")


def init_app(app: Flask) -> None:
    app.cli.add_command(assistants_cli)


def clinic_vapi_key(org_id: str) -> str | None:
    """The clinic's stored Vapi private API key, None when it has none; refusals end the command."""
    try:
        return org_secret(gateway(), org_id, "vapi", "api_key", current_app.config.get("CREDENTIALS_KEY"))
    except RpcError:
        raise click.ClickException(UNREACHABLE) from None
    except CredentialError as exc:
        if exc.code == "unknown_org":
            raise click.ClickException(f"unknown org {org_id}") from None
        raise click.ClickException(
            f"the clinic's Vapi API key could not be read ({exc.code}: {exc.message}), so the id cannot be "
            "confirmed with Vapi; nothing was mapped") from None


def _id_options(command):
    command = click.option("--phone-number", "phone_number_id", metavar="ID", help="A Vapi phone-number id.")(command)
    command = click.option("--assistant", "assistant_id", metavar="ID", help="A Vapi assistant id.")(command)
    return click.option("--org", "org_id", type=click.UUID, required=True, help="The org (clinic) id.")(command)


@assistants_cli.command("map")
@_id_options
@click.option("--label", help="A note for people (e.g. 'Sarah, front desk').")
def map_command(org_id, assistant_id, phone_number_id, label):
    """Map one Vapi assistant or phone-number id to the clinic, confirmed with the clinic's Vapi key."""
    org_id = str(org_id)
    vapi_id = _vapi_id(assistant_id, phone_number_id)
    api_key = clinic_vapi_key(org_id)
    if api_key:
        confirm_with_vapi(current_app.config["VAPI_API_URL"], api_key, vapi_id)
        checked = "confirmed with the clinic's Vapi account"
    else:
        click.echo(f"warning: org {org_id} has no stored Vapi API key (credential vapi/api_key), so Vapi was not "
                   f"asked whether {vapi_id.kind} {vapi_id.value} belongs to this clinic's account", err=True)
        checked = "NOT confirmed with Vapi"
    reply = call("map_vapi_id", {"p_org_id": org_id, **vapi_id.rpc_params(), "p_label": label})
    if reply.get("created"):
        click.echo(f"mapped {vapi_id.kind} {vapi_id.value} to org {org_id} ({checked})")
    else:
        click.echo(f"{vapi_id.kind} {vapi_id.value} was already mapped to org {org_id}; "
                   f"label {reply.get('label')!r} ({checked})")


@assistants_cli.command("list")
@click.option("--org", "org_id", type=click.UUID, required=True, help="The org (clinic) id.")
def list_command(org_id):
    """The clinic's mappings: assistant id, phone-number id, label."""
    reply = call("list_org_assistants", {"p_org_id": str(org_id)})
    rows = reply.get("assistants") or []
    if not rows:
        click.echo(f"no Vapi ids are mapped to org {org_id}")
    for row in rows:
        click.echo("\t".join([f"assistant={row.get('assistantId') or '-'}",
                              f"phone-number={row.get('phoneNumberId') or '-'}",
                              f"label={row.get('label') or ''}"]))


@assistants_cli.command("unmap")
@_id_options
def unmap_command(org_id, assistant_id, phone_number_id):
    """Remove one Vapi id from the clinic's mappings (calls to it no longer reach this clinic)."""
    vapi_id = _vapi_id(assistant_id, phone_number_id)
    call("unmap_vapi_id", {"p_org_id": str(org_id), **vapi_id.rpc_params()})
    click.echo(f"unmapped {vapi_id.kind} {vapi_id.value} from org {org_id}")
