"""Which clinic a request is for, and what the service needs to know about it.

SQL decides (resolve_vapi_org, get_org_profile); this module only caches profiles briefly so a
call with several tool calls, or a busy clinic, does not fetch the same profile every time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from .gateway import RpcGateway


@dataclass(frozen=True)
class OrgProfile:
    org_id: str
    name: str
    timezone: ZoneInfo
    phone_region: str
    services: tuple[dict, ...]

    @classmethod
    def from_rpc(cls, reply: dict) -> "OrgProfile":
        org = reply["org"]
        return cls(
            org_id=org["id"],
            name=org["name"],
            timezone=ZoneInfo(org["timezone"]),
            phone_region=org.get("phoneRegion") or "US",
            services=tuple(reply.get("services") or ()),
        )


class ProfileCache:
    def __init__(self, gateway: RpcGateway, ttl_seconds: float, monotonic=time.monotonic):
        self._gateway = gateway
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._entries: dict[str, tuple[float, OrgProfile | None]] = {}
        self._lock = threading.Lock()

    def get(self, org_id: str) -> OrgProfile | None:
        """The org's profile, or None when the org does not exist (RpcError propagates)."""
        now = self._monotonic()
        with self._lock:
            cached = self._entries.get(org_id)
        if cached and now - cached[0] < self._ttl:
            return cached[1]
        reply = self._gateway.rpc("get_org_profile", {"p_org_id": org_id})
        profile = OrgProfile.from_rpc(reply) if reply.get("success") else None
        with self._lock:
            self._entries[org_id] = (now, profile)
        return profile

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
