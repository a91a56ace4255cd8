"""`flask --app api prompts show|sync`: print the enforced prompt, or push it to an org's assistants.

`sync` reads every Vapi assistant mapped to the org (list_org_assistants), fetches it from the Vapi
API with the org's own API key (`GET /assistant/{id}`) and sends back its whole `model` object with
the first system message replaced by the enforced prompt (`PATCH /assistant/{id}`): Vapi replaces
`model` as a whole, so provider, model, tools and toolIds must travel with it. The pushed variant
carries LiquidJS date expressions, so Vapi states today's date in the clinic's zone on every call
and the same inputs always produce the same PATCH body.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from urllib.parse import quote

import click
import httpx
from flask import Flask, current_app
from flask.cli import AppGroup

from ..credentials import CredentialError, org_secret
from ..deps import get_deps
from ..gateway import RpcError, RpcGateway
from ..prompts import Clinic, enforced_prompt, enforced_prompt_template, unwrap
from .common import VAPI_TIMEOUT_S, vapi_reason


class VapiError(Exception):
    """The Vapi API refused or could not be reached; the message is safe to print."""


class VapiClient:
    def __init__(self, base_url: str, api_key: str, *, timeout_s: float = VAPI_TIMEOUT_S):
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s,
                                  headers={"Authorization": f"Bearer {api_key}"})

    def _call(self, method: str, assistant_id: str, body: dict | None = None) -> dict:
        path = f"/assistant/{quote(assistant_id, safe='')}"
        try:
            response = self._http.request(method, path, json=body)
        except httpx.HTTPError as exc:
            raise VapiError(f"{method} {path}: {type(exc).__name__}") from exc
        if response.is_error:
            raise VapiError(f"{method} {path}: HTTP {response.status_code}{vapi_reason(response)}")
        try:
            return response.json()
        except ValueError as exc:
            raise VapiError(f"{method} {path}: the reply is not JSON") from exc

    def get_assistant(self, assistant_id: str) -> dict:
        return self._call("GET", assistant_id)

    def update_assistant(self, assistant_id: str, body: dict) -> dict:
        return self._call("PATCH", assistant_id, body)

    def close(self) -> None:
        self._http.close()


def system_message(model: dict) -> str | None:
    for message in model.get("messages") or []:
        if isinstance(message, dict) and message.get("role") == "system":
            return message.get("content") if isinstance(message.get("content"), str) else None
    return None


def with_system_message(model: dict, content: str) -> dict:
    """A copy of `model` whose first system message says `content` (inserted first if it had none)."""
    model = copy.deepcopy(model)
    messages = [m for m in model.get("messages") or []]
    for index, message in enumerate(messages):
        if isinstance(message, dict) and message.get("role") == "system":
            messages[index] = {**message, "content": content}
            break
    else:
        messages.insert(0, {"role": "system", "content": content})
    model["messages"] = messages
    return model


@dataclass(frozen=True)
class SyncResult:
    assistant_id: str
    ok: bool
    detail: str


def sync_assistant(client: VapiClient, row: dict, clinic: Clinic, *, dry_run: bool) -> SyncResult:
    assistant_id = row["assistantId"]
    try:
        assistant = client.get_assistant(assistant_id)
        model = assistant.get("model") if isinstance(assistant, dict) else None
        if not isinstance(model, dict) or not model.get("provider") or not model.get("model"):
            return SyncResult(assistant_id, False, "the assistant has no model (provider and model) to update")
        current = system_message(model)
        # The clinic prompt stored with the mapping wins; without one, keep what the assistant
        # already says (unwrapped from an earlier block, so a second sync sends the same body).
        custom = row.get("customPrompt")
        if custom is None:
            custom = unwrap(current)
        name = row.get("assistantName") or assistant.get("name")
        prompt = enforced_prompt_template(custom, clinic, name)
        body = {"model": with_system_message(model, prompt)}
        tools = len(model.get("tools") or []) + len(model.get("toolIds") or [])
        state = "unchanged" if current == prompt else "changed"
        if dry_run:
            return SyncResult(assistant_id, True, f"would update ({state}, {tools} tools kept)")
        client.update_assistant(assistant_id, body)
        return SyncResult(assistant_id, True, f"updated ({state}, {tools} tools kept)")
    except VapiError as exc:
        return SyncResult(assistant_id, False, str(exc))


def sync_org(gateway: RpcGateway, clinic: Clinic, org_id: str, client: VapiClient, *,
             dry_run: bool = False) -> list[SyncResult]:
    """Push the enforced prompt to every assistant mapped to the org; one failure stops no other."""
    results = []
    for row in _assistants(gateway, org_id):
        if row.get("assistantId"):
            results.append(sync_assistant(client, row, clinic, dry_run=dry_run))
        else:
            click.echo(f"phone number {row.get('phoneNumberId')}: skipped, mapped without an assistant id "
                       "(map the assistant id in vapi_assistants to sync its prompt)")
    return results


def _assistants(gateway: RpcGateway, org_id: str) -> list[dict]:
    reply = gateway.rpc("list_org_assistants", {"p_org_id": org_id})
    if not reply.get("success"):
        raise click.ClickException(f"org {org_id}: {reply.get('error', 'unknown_org')}")
    return reply.get("assistants") or []


def org_vapi_api_key(app, org_id: str) -> str | None:
    """The org's own Vapi API key, from the encrypted per-org credentials (api/credentials.py)."""
    return org_secret(get_deps(app).gateway, org_id, "vapi", "api_key",
                      app.config.get("CREDENTIALS_KEY"))


# ---------------------------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------------------------

prompts_cli = AppGroup("prompts", help="The enforced assistant system prompt: show it, or sync it to Vapi.")


def init_app(app: Flask) -> None:
    app.cli.add_command(prompts_cli)


def _clinic(org_id: str) -> Clinic:
    try:
        profile = get_deps().profiles.get(org_id)
    except RpcError as exc:
        raise click.ClickException("the database could not be reached") from exc
    if profile is None:
        raise click.ClickException(f"unknown org {org_id}")
    return Clinic.from_profile(profile)


def _pick(rows: list[dict], wanted: str | None) -> dict:
    if wanted:
        key = wanted.strip().casefold()
        for row in rows:
            if key in {(row.get("assistantName") or "").casefold(), (row.get("assistantId") or "").casefold(),
                       (row.get("phoneNumberId") or "").casefold()}:
                return row
        known = ", ".join(r.get("assistantName") or r.get("assistantId") or r.get("phoneNumberId") for r in rows)
        raise click.ClickException(f"no assistant {wanted!r} is mapped to this org (mapped: {known or 'none'})")
    named = [r for r in rows if r.get("assistantId")]
    if len(named) > 1:
        known = ", ".join(r.get("assistantName") or r["assistantId"] for r in named)
        raise click.ClickException(f"several assistants are mapped to this org ({known}); choose one with --assistant")
    if named:
        return named[0]
    # No assistant of its own: calls to its number get the transient assistant (api/calls.py),
    # whose prompt comes from that phone number's mapping row.
    if len(rows) > 1:
        known = ", ".join(r.get("phoneNumberId") or "?" for r in rows)
        raise click.ClickException(f"several phone numbers are mapped to this org ({known}); choose one with --assistant")
    return rows[0] if rows else {}


@prompts_cli.command("show")
@click.option("--org", "org_id", type=click.UUID, required=True, help="The org (clinic) id.")
@click.option("--assistant", "assistant",
              help="Assistant name, Vapi assistant id, or phone-number id (needed when several are mapped).")
@click.option("--template", is_flag=True,
              help="Print the variant `sync` pushes (LiquidJS dates Vapi renders per call) instead of today's concrete dates.")
def show(org_id, assistant, template):
    """Print the enforced system prompt for one of the org's assistants."""
    org_id = str(org_id)
    deps = get_deps()
    clinic = _clinic(org_id)
    try:
        row = _pick(_assistants(deps.gateway, org_id), assistant)
    except RpcError as exc:
        raise click.ClickException("the database could not be reached") from exc
    custom, name = row.get("customPrompt"), row.get("assistantName")
    if template:
        click.echo(enforced_prompt_template(custom, clinic, name), nl=False)
    else:
        click.echo(enforced_prompt(custom, clinic, name, now=deps.clock()), nl=False)


@prompts_cli.command("sync")
@click.option("--org", "org_id", type=click.UUID, required=True, help="The org (clinic) id.")
@click.option("--dry-run", is_flag=True, help="Fetch and compose, but send no PATCH.")
def sync(org_id, dry_run):
    """Push the enforced prompt to every Vapi assistant mapped to the org (exit 1 if any failed)."""
    org_id = str(org_id)
    app = current_app._get_current_object()
    clinic = _clinic(org_id)
    try:
        api_key = org_vapi_api_key(app, org_id)
    except RpcError as exc:
        raise click.ClickException("the database could not be reached") from exc
    except CredentialError as exc:
        raise click.ClickException(f"the org's Vapi API key could not be read ({exc.code}: {exc.message})") from exc
    if not api_key:
        raise click.ClickException(f"no Vapi API key is stored for org {org_id} (credential vapi/api_key)")
    client = VapiClient(app.config["VAPI_API_URL"], api_key)
    try:
        results = sync_org(get_deps(app).gateway, clinic, org_id, client, dry_run=dry_run)
    except RpcError as exc:
        raise click.ClickException("the database could not be reached") from exc
    finally:
        client.close()
    for result in results:
        click.echo(f"{result.assistant_id}: {result.detail}" if result.ok else f"{result.assistant_id}: FAILED {result.detail}")
    failed = sum(not r.ok for r in results)
    click.echo(f"{len(results) - failed} of {len(results)} assistants {'checked' if dry_run else 'synced'}"
               + (f", {failed} failed" if failed else ""))
    if failed:
        raise SystemExit(1)
