"""App-level pieces: the org profile cache and the `flask --app api` commands."""

from __future__ import annotations

import json
from datetime import time

from api.auth import verify_request
from api.gateway import PostgresGateway
from api.orgs import ProfileCache
from conftest import BAYVIEW, NEW_YORK, SECRET, SUNRISE


class CountingGateway(PostgresGateway):
    """The real embedded gateway, counting the RPCs it sends."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls: list[str] = []

    def rpc(self, name, params):
        self.calls.append(name)
        return super().rpc(name, params)


def test_profiles_are_cached_briefly(database_url):
    gateway = CountingGateway(database_url, max_size=1)
    clock = [0.0]
    cache = ProfileCache(gateway, ttl_seconds=60, monotonic=lambda: clock[0])
    try:
        first = cache.get(SUNRISE)
        assert first.name == "Sunrise Family Clinic" and first.timezone == NEW_YORK and first.phone_region == "US"
        # Seed: Mon–Fri 09:00–12:00 and 13:00–17:00, Sat 09:00–13:00, closed on Sunday.
        assert first.hours.covers(1, time(9)) and first.hours.covers(6, time(12, 59))
        assert not first.hours.covers(1, time(12, 30)) and not first.hours.covers(0, time(10))
        clock[0] = 59
        assert cache.get(SUNRISE) is first
        assert gateway.calls == ["get_org_profile"]
        clock[0] = 61
        assert cache.get(SUNRISE) == first
        assert gateway.calls == ["get_org_profile"] * 2
        assert cache.get("00000000-0000-4000-8000-000000000000") is None  # unknown org
    finally:
        gateway.close()


def test_org_resolutions_are_cached_briefly_and_refusals_not_at_all(database_url):
    gateway = CountingGateway(database_url, max_size=1)
    clock = [0.0]
    cache = ProfileCache(gateway, ttl_seconds=60, monotonic=lambda: clock[0])
    try:
        first = cache.resolve("asst_sunrise_sarah", None, None)
        assert first["success"] and first["orgId"] == SUNRISE and first["source"] == "assistant"
        clock[0] = 59
        assert cache.resolve("asst_sunrise_sarah", None, None) is first
        assert cache.resolve("asst_sunrise_sarah", None, SUNRISE)["orgId"] == SUNRISE  # another question
        assert gateway.calls == ["resolve_vapi_org"] * 2
        clock[0] = 61
        assert cache.resolve("asst_sunrise_sarah", None, None) == first
        assert gateway.calls == ["resolve_vapi_org"] * 3
        # a refusal (claim contradicting the mapping) is asked again every time
        for _ in range(2):
            assert cache.resolve("asst_sunrise_sarah", None, BAYVIEW)["error"] == "org_mismatch"
        assert gateway.calls == ["resolve_vapi_org"] * 5
    finally:
        gateway.close()


def test_check_db_command(app):
    result = app.test_cli_runner().invoke(args=["check-db"])
    assert result.exit_code == 0 and "database: ok" in result.output


def test_check_db_command_when_unreachable(unreachable_app):
    result = unreachable_app.test_cli_runner().invoke(args=["check-db"])
    assert result.exit_code == 1 and "unreachable" in result.output


def test_sign_command_produces_headers_the_webhook_accepts(app, tmp_path):
    body = tmp_path / "body.json"
    body.write_bytes(b'{"message":{"type":"status-update"}}')
    result = app.test_cli_runner().invoke(args=["sign", str(body)])
    headers = json.loads(result.output)
    now = float(headers["x-timestamp"])
    assert verify_request(headers, body.read_bytes(), SECRET, now=now).ok
    response = app.test_client().post("/api/vapi/webhook", data=body.read_bytes(),
                                      content_type="application/json", headers=headers)
    assert response.status_code == 200 and response.get_json() == {}
