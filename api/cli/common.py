"""What every operator command needs: the app's gateway, and an RPC whose refusal ends the command
with the RPC's own words (a ClickException: one line on stderr, exit code 1, no traceback)."""

from __future__ import annotations

import click

from ..deps import get_deps
from ..gateway import RpcError, RpcGateway

UNREACHABLE = "the database could not be reached"


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
