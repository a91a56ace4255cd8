"""Which clinic a request is for, and what the service needs to know about it.

SQL decides (resolve_vapi_org, get_org_profile); this module only caches the answers briefly so a
call with several tool calls, or a busy clinic, does not ask the same question every time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from cachetools import TTLCache

from .gateway import RpcGateway
from .normalize import OpeningHours


@dataclass(frozen=True)
class Provider:
    """One person who keeps a calendar at the clinic, as get_org_profile lists them: the name as
    spoken ("Dr. Anika Patel"), the short names a caller may use, the service codes they perform and
    their weekly hours (empty: all the clinic's hours), and their role (callers ask for "the nurse")."""

    id: str
    name: str
    short_names: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    hours: tuple[dict, ...] = ()
    role: str = ""  # one word, as staff set it in Studio ("nurse", "hygienist"); "" when unset

    @classmethod
    def from_rpc(cls, item: dict) -> "Provider":
        return cls(
            id=str(item.get("id") or ""),
            name=str(item.get("name") or ""),
            short_names=tuple(str(n) for n in item.get("shortNames") or () if n),
            services=tuple(str(code) for code in item.get("services") or () if code),
            hours=tuple(h for h in item.get("hours") or () if isinstance(h, dict)),
            role=str(item.get("role") or ""),
        )


@dataclass(frozen=True)
class OrgProfile:
    org_id: str
    name: str
    timezone: ZoneInfo
    phone_region: str
    # The weekly opening hours (SQL's), only to read an hour said without AM/PM (api.normalize).
    hours: OpeningHours = OpeningHours()
    # The same hours as SQL lists them ({weekday 0 = Sunday, opensAt, closesAt}), for the prompt's
    # provider lines ("works whenever we are open").
    hour_rows: tuple[dict, ...] = ()
    services: tuple[dict, ...] = ()
    providers: tuple[Provider, ...] = ()
    # How many providers the clinic has (get_org_profile's providerCount). Only a clinic with more
    # than one hears provider names: a one-provider clinic sounds exactly as before providers existed.
    provider_count: int = 1

    @property
    def names_providers(self) -> bool:
        return self.provider_count > 1

    @classmethod
    def from_rpc(cls, reply: dict) -> "OrgProfile":
        org = reply["org"]
        providers = tuple(Provider.from_rpc(item) for item in reply.get("providers") or ()
                          if isinstance(item, dict))
        count = reply.get("providerCount")
        return cls(
            org_id=org["id"],
            name=org["name"],
            timezone=ZoneInfo(org["timezone"]),
            phone_region=org.get("phoneRegion") or "US",
            hours=OpeningHours.from_profile(reply.get("hours")),
            hour_rows=tuple(h for h in reply.get("hours") or () if isinstance(h, dict)),
            services=tuple(reply.get("services") or ()),
            providers=providers,
            provider_count=count if isinstance(count, int) and not isinstance(count, bool)
            else max(len(providers), 1),
        )


class ProfileCache:
    """Org facts from SQL, kept for `ttl_seconds` per process: profiles, and which org a Vapi
    assistant / phone number speaks for (mappings change rarely; a voice call asks many times)."""

    def __init__(self, gateway: RpcGateway, ttl_seconds: float, monotonic=time.monotonic,
                 maxsize: int = 4096):
        self._gateway = gateway
        # Bounded like the webhook-secret cache: ids come from requests, so unbounded would grow.
        self._entries: TTLCache = TTLCache(maxsize=maxsize, ttl=max(ttl_seconds, 0.001), timer=monotonic)
        self._lock = threading.Lock()

    def _cached(self, key, fetch, keep=lambda value: True):
        with self._lock:
            if key in self._entries:
                return self._entries[key]
        value = fetch()
        if keep(value):
            with self._lock:
                self._entries[key] = value
        return value

    def get(self, org_id: str) -> OrgProfile | None:
        """The org's profile, or None when the org does not exist (RpcError propagates)."""
        def fetch():
            reply = self._gateway.rpc("get_org_profile", {"p_org_id": org_id})
            return OrgProfile.from_rpc(reply) if reply.get("success") else None

        return self._cached(("profile", org_id), fetch)

    def cached(self, org_id: str) -> OrgProfile | None:
        """The org's profile if one is held (and not expired), without asking SQL."""
        with self._lock:
            return self._entries.get(("profile", org_id))

    def keep(self, org_id: str, reply: dict) -> OrgProfile | None:
        """Hold a get_org_profile reply SQL gave inside another answer (resolve_assistant_request
        includes one when asked); it expires like a fetched one. None for a refusal."""
        if not isinstance(reply, dict) or not reply.get("success"):
            return None
        profile = OrgProfile.from_rpc(reply)
        with self._lock:
            self._entries[("profile", org_id)] = profile
        return profile

    def org_of_number(self, phone_number_id: str | None) -> str | None:
        """The org a phone-number id last resolved to (note_number), while it is held."""
        if not phone_number_id:
            return None
        with self._lock:
            return self._entries.get(("number", phone_number_id))

    def note_number(self, phone_number_id: str | None, org_id: str) -> None:
        if phone_number_id:
            with self._lock:
                self._entries[("number", phone_number_id)] = org_id

    def resolve(self, assistant_id: str | None, phone_number_id: str | None, claimed_org_id: str | None,
                allow_claim: bool = False) -> dict:
        """resolve_vapi_org's reply: a mapping decides; the claimed org alone only when `allow_claim`
        (the v2 route, ALLOW_METADATA_ORG). Only successes are kept, so a refused call is re-checked
        at once when its mapping is fixed (RpcError propagates)."""
        allow_claim = bool(allow_claim)
        params = {"p_assistant_id": assistant_id, "p_phone_number_id": phone_number_id,
                  "p_claimed_org_id": claimed_org_id, "p_allow_claim": allow_claim}
        return self._cached(("resolve", assistant_id, phone_number_id, claimed_org_id, allow_claim),
                            lambda: self._gateway.rpc("resolve_vapi_org", params),
                            keep=lambda reply: bool(reply.get("success")))

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
