"""Python normalizes, SQL decides: one shared list of addresses and numbers, run through both.

`api.normalize.normalize_email` only writes spoken forms out; `private.is_plausible_email` alone
decides whether the address is stored (an implausible one becomes NULL and the booking goes
through with `emailDropped: true`). `normalize_phone` only reads a number with phonenumbers;
`private.is_e164` is the one E.164 rule. The decisions for the named cases are the SQL side's
(CONTRACT-owners.md, supabase/migrations/*_formats.sql); these tests hold the two sides together.
"""

from __future__ import annotations

import pytest

from api.normalize import normalize_email, normalize_phone
from conftest import AUTH, SUNRISE, local_instant, next_open_day
from test_webhook import WEBHOOK, results, vapi_body

# (what the caller gave, what is stored: the address, or None when the database drops it)
ADDRESSES = [
    # Plausible, written or spoken.
    ("john@example.com", "john@example.com"),
    ("  Jane.Doe@Example.COM ", "jane.doe@example.com"),
    ("john_doe@clinic.com", "john_doe@clinic.com"),  # an underscore is fine in the local part
    ("o'brien+clinic@example.co.uk", "o'brien+clinic@example.co.uk"),
    ("x@xn--p1ai.xn--p1ai", "x@xn--p1ai.xn--p1ai"),  # an IDN in its A-label form
    ("jose@xn--bcher-kva.de", "jose@xn--bcher-kva.de"),
    ("a" * 64 + "@example.com", "a" * 64 + "@example.com"),
    ("john underscore smith at example dot com", "john_smith@example.com"),
    ("john dot doe at example dot com", "john.doe@example.com"),
    ("mary dash jane at example dot co dot uk", "mary-jane@example.co.uk"),
    ("j o h n at example dot com", "john@example.com"),
    ("J-O-H-N at gmail dot com", "john@gmail.com"),
    ("jane plus clinic at example dot com", "jane+clinic@example.com"),
    ("my e-mail is john underscore smith at example dot com, thanks", "john_smith@example.com"),
    ("john at the rate example dot com", "john@example.com"),
    ("john at example dotcom.", "john@example.com"),
    ("jane two three at example dot com", "jane23@example.com"),
    ("capital J o h n at example dot com", "john@example.com"),
    ("J. O. H. N. at example dot com", "john@example.com"),
    ("john smith all one word at example dot com", "johnsmith@example.com"),
    # Implausible: stored as NULL, the booking still goes through.
    ("john_doe@my_clinic.com", None),  # no underscore in a host name
    ("josé@example.com", None),  # ASCII only (no SMTPUTF8)
    ("jose@bücher.de", None),
    ("a@-example.com", None),
    ("a@example-.com", None),
    ("a..b@example.com", None),
    (".a@example.com", None),
    ("a.@example.com", None),
    ("a@example", None),
    ("a@example.c", None),
    ("a@example.123", None),
    ("a@example.com.", None),
    ("a@@example.com", None),
    ("a@b@example.com", None),
    ("a@[1.2.3.4]", None),
    ("a" * 65 + "@example.com", None),
    ("john smith at example dot com", None),  # two plain words: never joined into a guess
    ("not an email", None),
    ("john at example", None),
]

# (as said, the clinic's region): every number Python reads is one SQL stores.
NUMBERS = [
    ("(415) 555-0123", "US"), ("4155550123", "us"), ("+1 415 555 0123", "GB"),
    ("020 7946 0958", "GB"), ("+44 20 7946 0958", "US"), ("03-1234-5678", "JP"),
    ("(02) 9374 4000", "AU"), ("030 1234567", "DE"), ("06 12 34 56 78", "FR"),
    ("55 1234 5678", "MX"), ("+683 4002", "US"),
]


def stored_email(sql, given: str) -> str | None:
    written = normalize_email(given)
    assert written, f"Python dropped {given!r}: only SQL decides"
    ((plausible,),) = sql("select private.is_plausible_email(%s)", [written])
    return written if plausible else None


def test_python_and_sql_agree_on_every_address_in_the_shared_list(sql):
    disagreements = [(given, stored_email(sql, given), expected) for given, expected in ADDRESSES
                     if stored_email(sql, given) != expected]
    assert disagreements == []


def test_python_and_sql_agree_on_every_number_in_the_shared_list(sql):
    written = [normalize_phone(text, region) for text, region in NUMBERS]
    assert sql("select bool_and(private.is_e164(n)) from unnest(%s::text[]) n", [written]) == [(True,)]
    # The rule does refuse: a national or shortened form is not stored as a phone number.
    assert sql("select private.is_e164('4155550123'), private.is_e164('+0123456789')") == [(False, False)]


# --- end to end: the webhook books, SQL drops an implausible e-mail ------------------------------

@pytest.mark.parametrize("given, stored", [
    ("josé@example.com", None),
    ("john_doe@my_clinic.com", None),
    ("a@-example.com", None),
    ("john underscore smith at example dot com", "john_smith@example.com"),
])
def test_a_booking_with_an_implausible_email_books_and_stores_none(client, sql, given, stored):
    day = next_open_day()
    arguments = {"patientName": "Email Case", "patientPhone": "(415) 555-0142", "patientEmail": given,
                 "appointmentDate": day.isoformat(), "appointmentTime": "10:00 AM"}
    [reply] = results(client.post(WEBHOOK, json=vapi_body(("tc-email", "bookClinicAppointment", arguments)),
                                  headers=AUTH))
    assert reply["success"] is True, reply
    assert reply["emailDropped"] is (stored is None)
    assert ("e-mail address" in reply["message"]) is (stored is None)
    assert sql("select l.email, a.starts_at from public.appointments a join public.leads l"
               " on l.org_id = a.org_id and l.id = a.lead_id where a.id = %s",
               [reply["appointmentId"]]) == [(stored, local_instant(day, 10))]
    assert sql("select count(*) from public.appointments where org_id = %s", [SUNRISE]) == [(1,)]
