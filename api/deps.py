"""What the webhook's handlers and the operator commands share: one RPC gateway, the profile cache,
the clock. Built once by create_app (``init_app``) and kept in ``app.extensions["deps"]``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from flask import Flask, current_app

from .gateway import PostgresGateway, RpcGateway, SupabaseGateway
from .orgs import ProfileCache


@dataclass
class Dependencies:
    """The app's service container: the RPC gateway, the clinic profile cache and the clock."""

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


def init_app(app: Flask, *, gateway: RpcGateway | None = None,
             clock: Callable[[], datetime] | None = None) -> Dependencies:
    gateway = gateway or build_gateway(app.config)
    deps = Dependencies(gateway=gateway, profiles=ProfileCache(gateway, app.config["PROFILE_CACHE_SECONDS"]),
                        clock=clock or utc_now)
    app.extensions["deps"] = deps
    return deps


def get_deps(app: Flask | None = None) -> Dependencies:
    """The Dependencies of `app`, by default the current one."""
    return (app or current_app).extensions["deps"]
