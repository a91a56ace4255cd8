"""`flask --app api clinics apply FILE.toml`: docs/clinic.example.toml applied twice (changes, then
none), a modified copy (only the difference), shape problems named by their place in the file with
nothing written, a dry run, Vapi ids confirmed with the clinic's own key, and the applied clinic
booking through the webhook in its own zone and phone region. The SQL side: supabase/tests/50_clinic_apply.sql.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from api.credentials import store_org_secret
from conftest import AUTH, SECRET, SUNRISE
from test_assistants_cli import CREDENTIALS_KEY, SUNRISE_KEY, cli_app, vapi  # noqa: F401 (fixtures)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "docs" / "clinic.example.toml"
LONDON = ZoneInfo("Europe/London")


def apply(app, path, *args):
    return app.test_cli_runner().invoke(args=["clinics", "apply", str(path), *args])


def org_id(sql, slug="harbor-physio"):
    rows = sql("select id::text from public.orgs where slug = %s", [slug])
    return rows[0][0] if rows else None


def counts(sql):
    return sql("select (select count(*) from public.orgs), (select count(*) from public.services),"
               " (select count(*) from public.providers), (select count(*) from public.business_hours),"
               " (select count(*) from public.vapi_assistants), (select count(*) from public.closures)")[0]


def test_the_example_applies_once_then_reports_no_changes(app, sql):
    first = apply(app, EXAMPLE)
    assert first.exit_code == 0, first.output
    org = org_id(sql)
    lines = first.stdout.splitlines()
    assert lines[0] == f"clinic harbor-physio (org {org}): created"
    assert "+ clinic timezone: Europe/London" in lines
    assert "+ hours thursday: 08:00-12:30, 13:30-20:00" in lines
    assert ("+ service assessment: Initial assessment; 60 min + 15 min buffer; default; "
            "aliases: first appointment, new patient, first visit") in lines
    assert "+ provider Tom Becker hours: whenever the clinic is open" in lines
    assert "+ front desk number: +442079460000" in lines  # "+44 20 7946 0000" in the file
    assert "+ calls transcript_retention_days: 30" in lines
    assert "+ calls server_credential_id: cred_harbor_webhook" in lines
    assert lines[-1] == "a running service sees these changes within 60 s (PROFILE_CACHE_SECONDS)"
    # a new clinic has no Vapi key yet: its ids are mapped with a warning on stderr, not on stdout
    assert "is mapped without asking Vapi" in first.stderr and "warning" not in first.stdout

    assert sql("select name, timezone, phone_region, slot_interval_minutes, min_notice_minutes, booking_horizon_days"
               " from public.orgs where id = %s", [org]) == [("Harbor Physiotherapy", "Europe/London", "GB", 15, 120, 60)]
    assert sql("select code, aliases from public.services where org_id = %s and is_default", [org]) == [
        ("assessment", ["first appointment", "new patient", "first visit"])]
    assert sql("select display_name, role from public.providers where org_id = %s order by 1", [org]) == [
        ("Dr. Amelia Shaw", "physician"), ("Tom Becker", "therapist")]
    assert sql("select first_message, transcript_retention_days, server_credential_id, voice, model"
               " from public.clinic_call_settings where org_id = %s", [org]) == [(
        "Hello, Harbor Physiotherapy, this is Sarah. How can I help you today?", 30, "cred_harbor_webhook",
        {"provider": "11labs", "voiceId": "sarah"}, {"provider": "openai", "model": "gpt-4o", "temperature": 0.3})]

    second = apply(app, EXAMPLE)
    assert second.exit_code == 0, second.output
    assert second.stdout == f"clinic harbor-physio (org {org}): no changes\n"
    assert second.stderr == "", "no new Vapi id the second time: nothing to confirm"


def test_a_modified_copy_prints_only_the_difference(app, sql, tmp_path):
    assert apply(app, EXAMPLE).exit_code == 0
    text = EXAMPLE.read_text(encoding="utf-8")
    text = text.replace('duration_minutes = 30\naliases = ["follow up"', 'duration_minutes = 40\naliases = ["follow up"')
    text = text.replace('saturday  = ["09:00-13:00"]\n', "")
    text = text.replace("min_notice_minutes = 120", "min_notice_minutes = 240")
    text = text.replace("transcript_retention_days = 30", "transcript_retention_days = 14")
    text = text.replace('[[closures]]\ndate = 2026-12-25\nreason = "Christmas Day"\n',
                        '[[closures]]\ndate = 2026-12-25\nreason = "Christmas Day"\n\n'
                        '[[closures]]\ndate = 2026-12-26\nreason = "Boxing Day"\n')
    modified = tmp_path / "clinic.toml"
    modified.write_text(text, encoding="utf-8")
    result = apply(app, modified)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:-1] == [
        "~ clinic min_notice_minutes: 120 -> 240",
        "- hours saturday: 09:00-13:00",
        "+ closure 2026-12-26 00:00 - 2026-12-27 00:00: Boxing Day",
        "~ service follow-up: Follow-up session; 30 min; aliases: follow up, treatment, session -> "
        "Follow-up session; 40 min; aliases: follow up, treatment, session",
        "~ calls transcript_retention_days: 30 -> 14",
    ]
    assert apply(app, modified).stdout.endswith(": no changes\n")


def test_a_dry_run_prints_the_changes_and_writes_nothing(app, sql):
    before = counts(sql)
    result = apply(app, EXAMPLE, "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("clinic harbor-physio (a new org): created (dry run: nothing was written)\n")
    assert "+ service sports-massage: Sports massage; 45 min + 15 min buffer; aliases: massage" in result.stdout
    assert counts(sql) == before and org_id(sql) is None


def test_shape_problems_are_named_by_their_place_and_nothing_is_written(app, sql, tmp_path):
    before = counts(sql)
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.read_text(encoding="utf-8")
                   .replace("duration_minutes = 45", "duraton_minutes = 45")
                   .replace("slot_interval_minutes = 15", 'slot_interval_minutes = "15"')
                   .replace("default = true", "default = 1")
                   .replace('monday    = ["08:00-12:30", "13:30-18:00"]\ntuesday', "monday = 8\ntuesday", 1),
                   encoding="utf-8")
    result = apply(app, bad)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"Error: 5 problem(s) in {bad}; nothing was changed:",
        "  clinic.slot_interval_minutes: must be a whole number",
        '  hours.monday: must be a list of time ranges like ["08:00-12:00"]',
        "  services[1].default: must be true or false",
        "  services[3].duraton_minutes: unknown key (known here: code, name, duration_minutes, buffer_minutes, "
        "default, aliases)",
        "  services[3].duration_minutes: required",
    ]
    assert counts(sql) == before


def test_shape_problems_list(app, sql, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[clinic]\nname = "No slug"\ncolour = "blue"\n\n[[services]]\ncode = "x"\nname = "X"\n'
                   'duration_minutes = true\n\n[provider]\nname = "Typo"\n', encoding="utf-8")
    result = apply(app, bad)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"Error: 4 problem(s) in {bad}; nothing was changed:",
        "  clinic.colour: unknown key (known here: slug, id, name, timezone, phone_region, slot_interval_minutes, "
        "min_notice_minutes, booking_horizon_days)",
        "  clinic.slug: required",
        "  services[1].duration_minutes: must be a whole number",
        "  provider: unknown key (known here: clinic, hours, closures, services, providers, assistants, front_desk, calls)",
    ]


def test_value_problems_come_from_sql_all_at_once(app, sql, tmp_path):
    before = counts(sql)
    bad = tmp_path / "bad.toml"
    bad.write_text(EXAMPLE.read_text(encoding="utf-8")
                   .replace('timezone = "Europe/London"', 'timezone = "Europe/Londn"')
                   .replace('friday    = ["08:00-16:00"]', 'friday    = ["08:00-16:60"]')
                   .replace('services = ["follow-up", "sports-massage"]', 'services = ["follow-up", "massage"]'),
                   encoding="utf-8")
    result = apply(app, bad)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: 3 problem(s) in {bad}; nothing was changed:",
        '  clinic.timezone: "Europe/Londn" is not a time zone (an IANA name such as Europe/London)',
        '  hours.friday: "08:00-16:60" is not a time range like "08:00-12:00" (clinic-local, 24-hour)',
        '  provider "Tom Becker": services: no service with code "massage" in [[services]]',
    ]
    assert counts(sql) == before


def test_not_toml_at_all(app, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[clinic\nslug = 1\n", encoding="utf-8")
    result = apply(app, bad)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: 1 problem(s) in {bad}; nothing was changed:\n  not valid TOML: ")
    assert "line 1" in result.stderr


def test_a_number_without_country_code_needs_the_phone_region(app, sql, tmp_path):
    spec = tmp_path / "desk.toml"
    spec.write_text('[clinic]\nslug = "sunrise"\nid = "%s"\n\n[front_desk]\nnumber = "(415) 555-0100"\n' % SUNRISE,
                    encoding="utf-8")
    result = apply(app, spec)
    assert result.exit_code == 1
    assert "front_desk.number: '(415) 555-0100' has no country code; write it as +<country> … or set clinic.phone_region" \
        in result.stderr
    spec.write_text(spec.read_text().replace('id = "', 'phone_region = "US"\nid = "'), encoding="utf-8")
    result = apply(app, spec)
    assert result.exit_code == 0, result.output
    assert "+ clinic slug: sunrise" in result.stdout
    assert "~ front desk number: +12125550142 -> +14155550100" in result.stdout
    assert sql("select front_desk_number from public.clinic_call_settings where org_id = %s", [SUNRISE]) == [("+14155550100",)]


def test_new_vapi_ids_are_confirmed_with_the_clinics_own_key(cli_app, vapi, sql, tmp_path):  # noqa: F811
    spec = tmp_path / "sunrise.toml"
    mapping = ('[clinic]\nslug = "sunrise"\nid = "%s"\n\n'
               '[[assistants]]\nassistant_id = "asst_sunrise_sarah"\nphone_number_id = "pn_sunrise_main"\n'
               'label = "Sarah (Sunrise front desk)"\nname = "Sarah"\nprompt = """%s"""\n\n'
               '[[assistants]]\nassistant_id = "%s"\n')
    prompt = sql("select custom_prompt from public.vapi_assistants where assistant_id = 'asst_sunrise_sarah'")[0][0]
    spec.write_text(mapping % (SUNRISE, prompt, "asst_other_account"), encoding="utf-8")
    before = counts(sql)
    refused = cli_app.test_cli_runner().invoke(args=["clinics", "apply", str(spec)])
    assert refused.exit_code == 1
    assert "Vapi has no assistant asst_other_account in this clinic's Vapi account" in refused.stderr
    assert counts(sql) == before and org_id(sql, "sunrise") is None, "nothing written"
    assert [r["path"] for r in vapi.requests] == ["/assistant/asst_other_account"], "only the new id is asked"

    spec.write_text(mapping % (SUNRISE, prompt, "asst_sunrise_new"), encoding="utf-8")
    applied = cli_app.test_cli_runner().invoke(args=["clinics", "apply", str(spec)])
    assert applied.exit_code == 0, applied.output
    assert applied.stdout.splitlines()[1:-1] == ["+ clinic slug: sunrise", "+ vapi assistant asst_sunrise_new: mapped"]
    assert vapi.requests[-1]["authorization"] == f"Bearer {SUNRISE_KEY}"
    assert sql("select org_id::text from public.vapi_assistants where assistant_id = 'asst_sunrise_new'") == [(SUNRISE,)]


def book_at_harbor(app, client, sql) -> list[tuple]:
    """Apply the example, book a sports massage through the webhook; what was stored."""
    assert apply(app, EXAMPLE).exit_code == 0
    org = org_id(sql)
    day = datetime.now(LONDON).date() + timedelta(days=3)
    while day.weekday() != 1 or (day.month, day.day) in {(12, 25), (12, 31), (1, 1)}:  # a Tuesday, open
        day += timedelta(days=1)
    body = {"message": {
        "type": "tool-calls", "call": {"id": "harbor-1"}, "assistant": {"id": "asst_harbor_ella"},
        "toolCallList": [{"id": "tc-harbor-1", "type": "function", "function": {
            "name": "bookClinicAppointment",
            "arguments": {"appointmentDate": day.isoformat(), "appointmentTime": "10:15", "serviceType": "sports massage",
                          "patientName": "Olivia Grant", "patientPhone": "020 7946 0958"}}}]}}
    response = client.post("/api/vapi/webhook", json=body, headers=AUTH)
    assert response.status_code == 200, response.get_data(as_text=True)
    result = json.loads(response.get_json()["results"][0]["result"])
    assert result["success"] is True, result
    stored = sql("select l.phone, s.code, p.display_name, to_char(a.starts_at at time zone 'Europe/London', 'HH24:MI')"
                 " from public.appointments a join public.leads l on l.org_id = a.org_id and l.id = a.lead_id"
                 " join public.services s on s.org_id = a.org_id and s.id = a.service_id"
                 " join public.providers p on p.org_id = a.org_id and p.id = a.provider_id where a.org_id = %s", [org])
    return stored


def test_the_applied_clinic_books_in_its_own_zone_and_phone_region(app, client, sql):
    # the service by name, the GB phone region, the London wall clock, the one provider who does it
    assert book_at_harbor(app, client, sql) == [("+442079460958", "sports-massage", "Tom Becker", "10:15")]


def test_a_booked_provider_left_out_is_deactivated_and_said_so(app, client, sql, tmp_path):
    assert len(book_at_harbor(app, client, sql)) == 1
    text = EXAMPLE.read_text(encoding="utf-8")
    without_tom = text[:text.index('[[providers]]\nname = "Tom Becker"')] + text[text.index("# Which Vapi"):]
    spec = tmp_path / "no-tom.toml"
    spec.write_text(without_tom, encoding="utf-8")
    result = apply(app, spec)
    assert result.exit_code == 0, result.output
    assert "~ provider Tom Becker: also Tom; role therapist; services: follow-up, sports-massage -> " \
           "also Tom; role therapist; services: follow-up, sports-massage; inactive" in result.stdout
    assert re.search(r"^note: provider Tom Becker has 1 appointment\(s\): deactivated, not deleted "
                     r"\(1 upcoming: see stranded_appointments\)$", result.stdout, re.M)
    assert "note: service sports-massage: no active provider performs it, so it cannot be booked" in result.stdout
    assert sql("select count(*) from public.appointments a join public.orgs o on o.id = a.org_id"
               " where o.slug = 'harbor-physio'") == [(1,)]


@pytest.fixture
def keyed_app(database_url):
    """An app that can read clinics' stored Vapi keys, pointed at no Vapi at all."""
    from api import create_app

    app = create_app({"TESTING": True, "APP_ENV": "test", "VAPI_SECRET": SECRET, "DATABASE_URL": database_url,
                      "DB_POOL_MAX": 2, "CREDENTIALS_KEY": CREDENTIALS_KEY, "VAPI_API_URL": "http://127.0.0.1:9"})
    yield app
    app.extensions["deps"].gateway.close()


def test_vapi_unreachable_refuses_new_ids_for_a_clinic_with_a_key(keyed_app, sql, tmp_path):
    assert store_org_secret(keyed_app.extensions["deps"].gateway, SUNRISE, "vapi", "api_key", SUNRISE_KEY,
                            CREDENTIALS_KEY).get("success")
    spec = tmp_path / "sunrise.toml"
    spec.write_text('[clinic]\nslug = "sunrise"\nid = "%s"\n\n[[assistants]]\nphone_number_id = "pn_sunrise_new"\n' % SUNRISE,
                    encoding="utf-8")
    result = keyed_app.test_cli_runner().invoke(args=["clinics", "apply", str(spec)])
    assert result.exit_code == 1
    assert "could not confirm the phone number with Vapi" in result.stderr and "nothing was mapped" in result.stderr
    assert sql("select count(*) from public.vapi_assistants where org_id = %s", [SUNRISE]) == [(1,)]
