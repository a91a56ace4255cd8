"""What every operator command needs: the app's gateway, and an RPC whose refusal ends the command
with the RPC's own words (a ClickException: one line on stderr, exit code 1, no traceback); and what
the commands that talk to the Vapi API share."""

from __future__ import annotations

import click
import httpx

from ..deps import get_deps
from ..gateway import RpcError, RpcGateway

UNREACHABLE = "the database could not be reached"
VAPI_TIMEOUT_S = 15.0


def gateway() -> RpcGateway:
    return get_deps().gateway


def call(name: str, params: dict) -> dict:
    """``name(params)``'s successful reply; a refusal or an unreachable database ends the command."""
    try:
        reply = gateway().rpc(name, params)
    except RpcError:
        raise click.ClickException(UNREACHABLE) from None
    if not reply.get("success"):
        raise click.ClickException(f"{reply.get('error')}: {reply.get('message', '')}")
    return reply


def vapi_reason(response: httpx.Response) -> str:
    """Vapi's own explanation of an error reply, short (" (…)"), or nothing."""
    try:
        message = response.json().get("message")
    except (ValueError, AttributeError):
        return ""
    if isinstance(message, list):
        message = "; ".join(map(str, message))
    return f" ({str(message)[:200]})" if message else ""
