"""Contract test of the supabase-py path: SupabaseGateway against a PostgREST stand-in that runs
the real functions on the test database, compared with the embedded PostgresGateway."""

from __future__ import annotations

import pytest

from api.gateway import PostgresGateway, RpcError, SupabaseGateway
from conftest import AUTH, SECRET, SUNRISE, local_instant, next_open_day
from postgrest_standin import PostgrestStandIn, anon_key, service_role_key


@pytest.fixture
def standin(database_url):
    with PostgrestStandIn(database_url) as server:
        yield server


@pytest.fixture
def gateways(database_url, standin):
    embedded = PostgresGateway(database_url, max_size=2)
    yield SupabaseGateway(standin.url, service_role_key()), embedded
    embedded.close()


def without_ids(reply: dict) -> dict:
    return {k: v for k, v in reply.items() if k not in ("appointmentId", "contactId")}


def test_same_replies_on_both_paths(gateways, standin):
    supabase, embedded = gateways
    profile = {"p_org_id": SUNRISE}
    assert supabase.rpc("get_org_profile", profile) == embedded.rpc("get_org_profile", profile)
    day = next_open_day()
    window = {"p_org_id": SUNRISE, "p_service": "consultation",
              "p_from": local_instant(day, 0).isoformat(), "p_to": None, "p_limit": 3, "p_first_day_only": True}
    assert supabase.rpc("check_availability", window) == embedded.rpc("check_availability", window)

    booking = {"p_org_id": SUNRISE, "p_name": "Supa Base", "p_email": None, "p_phone": "+14155550123",
               "p_service": "consultation", "p_scheduled_at": local_instant(day, 14).isoformat()}
    first = supabase.rpc("book_appointment_atomic_v2", booking)
    assert first["success"] is True and first["message"] == "Booking confirmed successfully"
    conflict_supabase = supabase.rpc("book_appointment_atomic_v2", dict(booking, p_phone="+14155550124"))
    conflict_embedded = embedded.rpc("book_appointment_atomic_v2", dict(booking, p_phone="+14155550125"))
    assert conflict_supabase["error"] == "slot_unavailable"
    assert without_ids(conflict_supabase) == without_ids(conflict_embedded)
    assert [name for name, _ in standin.calls][:2] == ["get_org_profile", "check_availability"]


def test_exact_six_argument_call_works_through_postgrest(gateways):
    supabase, _ = gateways
    reply = supabase.rpc("book_appointment_atomic_v2", {
        "p_org_id": SUNRISE, "p_name": "Six Args", "p_email": "six@example.com", "p_phone": "+14155550126",
        "p_service": "unknown thing", "p_scheduled_at": local_instant(next_open_day(), 9).isoformat()})
    assert reply["success"] is True
    assert reply["service"]["code"] == "consultation"  # unknown text → the org's default service


def test_anon_key_cannot_call_the_rpc(standin):
    anon = SupabaseGateway(standin.url, anon_key())
    with pytest.raises(RpcError):
        anon.rpc("get_org_profile", {"p_org_id": SUNRISE})


def test_missing_function_is_an_rpc_error(gateways):
    supabase, _ = gateways
    with pytest.raises(RpcError):
        supabase.rpc("no_such_function", {})


def test_webhook_end_to_end_on_the_supabase_path(database_url, standin, sql):
    from api import create_app

    app = create_app({"APP_ENV": "test", "VAPI_SECRET": SECRET, "SUPABASE_URL": standin.url,
                      "SUPABASE_SERVICE_ROLE_KEY": service_role_key()})
    assert isinstance(app.extensions["deps"].gateway, SupabaseGateway)
    client = app.test_client()
    assert client.get("/health").get_json() == {"status": "ok", "database": "ok"}
    body = {"toolCallId": "sb-1", "tool": {"arguments": {
        "appointmentDate": next_open_day().isoformat(), "appointmentTime": "2pm", "patientName": "Via Supabase",
        "patientPhone": "(415) 555-0127", "serviceType": "consultation"}},
        "customer": {"metadata": {"org_id": SUNRISE}}}
    result = client.post("/api/vapi/tools/bookClinicAppointment", json=body, headers=AUTH).get_json()["result"]
    assert result["success"] is True
    assert sql("select phone from public.leads where org_id = %s", [SUNRISE]) == [("+14155550127",)]
    assert any(name == "book_appointment_atomic_v2" for name, _ in standin.calls)
