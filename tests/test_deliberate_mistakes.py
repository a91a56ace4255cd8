"""Guarantees a deliberate mistake used to slip past (issue 13 §4), checked through the real webhook.

* The clinic's phone region reaches the webhook's normalization: every seed clinic is in the US, so
  a mistake that read every number as a US one passed the suite. A London clinic (region GB) books
  "020 7946 0958" and the lead is stored as +442079460958.
* Spoken alternatives are said in the clinic's zone: only the speech unit test caught a webhook that
  formatted them in another zone. For the Los Angeles seed clinic, the times the message says are
  the clinic-local times of the alternatives the same reply returns.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from api import speech
from conftest import AUTH, BAYVIEW, LOS_ANGELES, next_open_day
from test_webhook import results, vapi_body

WEBHOOK = "/api/vapi/webhook"
LONDON = ZoneInfo("Europe/London")
THAMES = "44444444-4444-4444-8444-444444444444"
SPOKEN_TIME = re.compile(r"\b(?:1[0-2]|[1-9]):[0-5]\d [AP]M\b")


def test_a_clinic_outside_the_us_stores_a_local_number_in_its_own_region(client, sql):
    sql("insert into public.orgs (id, name, timezone, phone_region) values (%s, 'Thames Clinic', 'Europe/London', 'GB')",
        [THAMES])
    sql("insert into public.services (org_id, code, name, duration_minutes, is_default)"
        " values (%s, 'consultation', 'Consultation', 30, true)", [THAMES])
    sql("insert into public.business_hours (org_id, weekday, opens_at, closes_at)"
        " select %s, d, '09:00', '17:00' from generate_series(1, 5) d", [THAMES])
    day = next_open_day(LONDON, min_days=3)
    body = vapi_body(("tc-gb", "bookClinicAppointment", {
        "patientName": "Olivia Brown", "patientPhone": "020 7946 0958",
        "appointmentDate": day.isoformat(), "appointmentTime": "10:00 AM"}),
        org=THAMES, caller="+447700900123", call_id="call-gb")
    (result,) = results(client.post(WEBHOOK, json=body, headers=AUTH))
    assert result["success"] is True, result
    stored = sql("select l.phone, a.starts_at from public.appointments a"
                 " join public.leads l on l.org_id = a.org_id and l.id = a.lead_id where a.org_id = %s", [THAMES])
    assert [(phone, starts_at.astimezone(LONDON).hour) for phone, starts_at in stored] == [("+442079460958", 10)]


def test_spoken_alternatives_are_the_returned_ones_in_the_clinics_zone(client):
    day = next_open_day(LOS_ANGELES, min_days=3, weekdays=(0, 1, 2, 3))  # Bayview: 8 AM to 4 PM Mon-Thu

    def book(n: int) -> dict:
        body = vapi_body((f"tc-la-{n}", "bookClinicAppointment", {
            "patientName": f"Pat Caller {chr(65 + n)}", "patientPhone": f"+1415555{n:04d}", "serviceType": "consultation",
            "appointmentDate": day.isoformat(), "appointmentTime": "10:00 AM"}),
            org=BAYVIEW, caller=f"+1415555{n:04d}", call_id=f"call-la-{n}")
        (result,) = results(client.post(WEBHOOK, json=body, headers=AUTH))
        return result

    assert book(1)["success"] is True  # consultations: Dr. Sofia Reyes alone, so 10:00 AM is now taken
    refused = book(2)
    assert refused["error"] == "slot_unavailable" and len(refused["alternatives"]) == 3, refused
    offered = [datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(LOS_ANGELES)
               for at in refused["alternatives"]]
    assert all(at.date() == day for at in offered)  # the same clinic-local day, so said as bare times
    said = SPOKEN_TIME.findall(refused["message"])
    assert {speech.spoken_time(at) for at in offered} <= set(said), refused["message"]
    assert set(said) <= {speech.spoken_time(at) for at in offered} | {"10:00 AM"}, refused["message"]
