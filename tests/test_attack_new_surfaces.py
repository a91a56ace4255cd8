"""Red team against the surfaces that landed together: "anyone but Dr. Lee" (p_exclude_provider), an
exact time in checkAvailability (p_at), the finder's day-of-the-month hint (p_day_of_month), Vapi's
`hang` notice (public.mark_call_hang) and the same-call replay that needs the same caller number
(private.booked_by_this_call).

Two attackers: a stranger on the phone (tool calls through the real webhook, POST /api/vapi/webhook)
and a signed-in member of the other clinic (SQL as `authenticated` with a JWT claim). Each test is
an attack; passing means the defence held. An attack that worked is `xfail(strict=True)` with the
reproduction in its reason.
"""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta

import psycopg
import pytest

from api import speech
from conftest import AUTH, BAYVIEW, SUNRISE, local_instant, next_open_day
from test_caller_verification import PATIENT, PATIENT_PHONE, STRANGER, appointment_rows, book, call, discloses_nothing
from test_webhook import WEBHOOK, results

BAYVIEW_NAMES = ("Sofia", "Reyes", "Dana", "Whitfield", "Omar", "Haddad")
BAYVIEW_REYES = "22222222-2222-4222-8222-00000000d001"
SUNRISE_PATIENT_ID = "11111111-1111-4111-8111-00000000d001"  # Dr. Anika Patel
SUNRISE_LEE_ID = "11111111-1111-4111-8111-00000000d002"  # Dr. Marcus Lee
SUNRISE_STAFF = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"
BAYVIEW_OWNER = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"


def no_bayview(reply) -> None:
    text = json.dumps(reply)
    for name in BAYVIEW_NAMES + (BAYVIEW_REYES, "22222222-2222-4222-8222-00000000c00"):
        assert name not in text, (name, reply)


def no_internals(reply) -> None:
    text = json.dumps(reply)
    for leak in ("Traceback", "psycopg", "SQLSTATE", "ERROR:", "syntax", "invalid input syntax", "violates",
                 "function public.", "private.", "p_exclude", "p_day_of_month", "p_at", "\\u0000"):
        assert leak not in text, (leak, reply)


def _weekday(day: date, weekday: int) -> date:
    """The first `weekday` (Mon=0) on or after `day`, avoiding the seed closures."""
    while day.weekday() != weekday or (day.month, day.day) in {(1, 1), (12, 24), (12, 25), (12, 26)}:
        day += timedelta(days=1)
    return day


# ---------------------------------------------------------------------------------------------
# 1. p_exclude_provider: "anyone but Dr. Lee"
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("said", ["anyone but Dr. Reyes", "anyone but Sofia", "not Dr. Sofia Reyes",
                                  f"anyone but {BAYVIEW_REYES}", "anyone but Dana Whitfield",
                                  "I don't want Omar"])
@pytest.mark.parametrize("tool", ["checkAvailability", "bookClinicAppointment"])
def test_attack_excluding_another_clinics_provider_names_nobody_of_that_clinic(client, sql, said, tool):
    day = _weekday(next_open_day(), 0)  # Monday: Dr. Patel works
    before = appointment_rows(sql)
    arguments = {"date": day.isoformat(), "providerName": said}
    if tool == "bookClinicAppointment":
        arguments = {"appointmentDate": day.isoformat(), "appointmentTime": "10:00", "patientName": "Probe Person",
                     "providerName": said}
    reply = call(client, tool, arguments, caller="+14155550777", call_id=f"call-x-{tool}")
    no_bayview(reply)
    no_internals(reply)
    # a name of no provider here is the unknown_provider re-ask (naming this clinic's providers only)
    if reply["success"] is False:
        assert reply["error"] in ("unknown_provider",), reply
    if tool == "bookClinicAppointment":
        assert appointment_rows(sql) == before


def test_attack_excluding_another_clinics_provider_by_id_in_sql_is_unknown(sql):
    # Straight at the RPC, as the service would call it: the Bayview id resolves to nothing in Sunrise.
    day = _weekday(next_open_day(), 0)
    (reply,) = sql("select public.check_availability(%s::uuid, null, p_day => %s, p_exclude_provider => %s::text)::text",
                   [SUNRISE, day, BAYVIEW_REYES])[0]
    reply = json.loads(reply)
    assert reply["success"] is False and reply["error"] == "unknown_provider", reply
    no_bayview(reply)
    (reply,) = sql("select public.book_appointment(%s::uuid, 'Probe Person', null, '+14155550778', null, %s,"
                   " p_exclude_provider => %s)::text", [SUNRISE, local_instant(day, 10), BAYVIEW_REYES])[0]
    reply = json.loads(reply)
    assert reply["success"] is False and reply["error"] == "unknown_provider", reply
    no_bayview(reply)


def test_attack_anyone_but_a_patients_provider_tells_a_stranger_nothing_of_their_booking(client, sql):
    # The victim (Jane O'Neil, +14155550321) is booked with Dr. Patel at 14:00 on a Monday. A stranger
    # who knows phone and name asks to book the same patient "anyone but Dr. Patel" at the same time
    # and at a free time: the refusal must be the plain patient_busy (no time, no provider).
    day = _weekday(next_open_day(), 0)
    book(client, day)
    before = appointment_rows(sql)
    busy = call(client, "bookClinicAppointment",
                {"appointmentDate": day.isoformat(), "appointmentTime": "14:00", "patientName": "Jane O'Neil",
                 "patientPhone": PATIENT_PHONE, "providerName": "anyone but Dr. Patel"}, call_id="call-excl-busy")
    assert busy["success"] is False and busy["error"] == "patient_busy", busy
    discloses_nothing({k: v for k, v in busy.items() if k in ("success", "error", "message")}, day)
    text = json.dumps(busy)
    for secret in ("Patel", "Anika", "2:00 PM", "appointmentId", "scheduledAt", "appointment\""):
        assert secret not in text, (secret, busy)
    assert not busy.get("alternatives"), busy
    assert appointment_rows(sql) == before


@pytest.mark.parametrize("provider", [None, "anyone but Nurse Kim"])
def test_attack_refusal_alternatives_do_not_reveal_a_patients_previous_provider(client, sql, provider):
    sql("insert into public.provider_hours (org_id, provider_id, weekday, opens_at, closes_at) values"
        " (%s, %s, 1, '09:00', '12:00'), (%s, %s, 1, '13:00', '17:00')", [SUNRISE, SUNRISE_LEE_ID] * 2)
    tuesday = _weekday(next_open_day(min_days=3), 1)
    assert book(client, tuesday)["provider"]["id"] == SUNRISE_LEE_ID  # Jane O'Neil with Dr. Lee
    monday = tuesday + timedelta(days=6)
    before = appointment_rows(sql)
    seen = {}
    for name in ("Jane O'Neil", "Other Person"):
        arguments = {"appointmentDate": monday.isoformat(), "appointmentTime": "07:00", "patientName": name,
                     "patientPhone": PATIENT_PHONE}
        if provider:
            arguments["providerName"] = provider
        reply = call(client, "bookClinicAppointment", arguments, call_id=f"call-prev-{name}")
        assert reply["success"] is False and reply["error"] == "outside_business_hours", reply
        seen[name] = (reply.get("alternativeSlots"), reply["message"])
    assert appointment_rows(sql) == before
    # whether the patient was ever seen by someone must not change what a stranger hears
    assert seen["Jane O'Neil"] == seen["Other Person"], seen


def _book_sql(url, org, name, phone, at, **kwargs):
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("set role service_role")
        args = ", ".join(f"{k} => %({k})s" for k in kwargs)
        query = (f"select public.book_appointment(%(org)s::uuid, %(name)s, null, %(phone)s, null, %(at)s"
                 f"{', ' + args if args else ''})::text")
        return json.loads(conn.execute(query, dict(org=org, name=name, phone=phone, at=at, **kwargs)).fetchone()[0])


def test_attack_racing_anyone_but_bookings_never_overlap_a_provider_or_a_patient(database_url, sql):
    # Race: 12 concurrent bookings of one Monday 10:00 consultation, each "anyone but Dr. Lee" (Lee
    # does not work Mondays; Patel does) or "anyone but Dr. Patel", for 6 different patients plus the
    # same patient 6 times. The constraints must hold: at most one active appointment per provider at
    # that time and at most one for the repeated patient.
    day = _weekday(next_open_day(min_days=3), 0)
    at = local_instant(day, 10)
    jobs = []
    for i in range(6):
        jobs.append(dict(name=f"Racer {chr(65 + i)}", phone=f"+1415555{1100 + i}",
                         p_exclude_provider="Dr. Lee" if i % 2 else "Dr. Patel"))
        jobs.append(dict(name="Same Patient", phone="+14155551200",
                         p_exclude_provider="Dr. Patel" if i % 2 else "Dr. Lee"))
    replies: list[dict] = []
    barrier = threading.Barrier(len(jobs))

    def run(job):
        barrier.wait()
        job = dict(job)
        replies.append(_book_sql(database_url, SUNRISE, job.pop("name"), job.pop("phone"), at, **job))

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for reply in replies:
        no_internals(reply)
        assert reply["success"] is True or reply["error"] in (
            "slot_unavailable", "patient_busy", "provider_not_qualified", "provider_unavailable"), reply
    rows = sql("select provider_id::text, patient_name from public.appointments"
               " where org_id = %s and status <> 'cancelled' and starts_at = %s", [SUNRISE, at])
    providers = [p for p, _ in rows]
    assert len(providers) == len(set(providers)), rows
    assert sum(1 for _, n in rows if n == "Same Patient") <= 1, rows
    # nobody was booked with the provider they excluded
    for job, reply in zip(jobs, replies):
        if reply["success"]:
            assert reply["provider"]["id"], reply


def test_attack_reschedule_anyone_but_cannot_double_book_the_target_provider(client, sql):
    # Two patients on the phone, each verified by caller ID, move their Monday appointments to one
    # Wednesday 10:00 "anyone but Dr. Lee" (Dr. Patel only works Wednesday): one wins, one is refused.
    monday = _weekday(next_open_day(min_days=3), 0)
    wednesday = monday + timedelta(days=2)
    book(client, monday, "10:00", phone="+14155551301", details={"patientName": "Mover One"}, tool_call_id="tc-m1")
    book(client, monday, "11:00", phone="+14155551302", details={"patientName": "Mover Two"}, tool_call_id="tc-m2")
    first = call(client, "rescheduleAppointment", {"newDate": wednesday.isoformat(), "newTime": "10:00",
                                                   "providerName": "anyone but Dr. Lee"},
                 caller="+14155551301", call_id="call-move-1")
    second = call(client, "rescheduleAppointment", {"newDate": wednesday.isoformat(), "newTime": "10:00",
                                                    "providerName": "anyone but Dr. Lee"},
                  caller="+14155551302", call_id="call-move-2")
    assert [first["success"], second["success"]].count(True) <= 1, (first, second)
    rows = sql("select provider_id from public.appointments where org_id = %s and status <> 'cancelled'"
               " and starts_at = %s", [SUNRISE, local_instant(wednesday, 10)])
    assert len(rows) == len({r[0] for r in rows}), rows
    assert all(str(r[0]) != SUNRISE_LEE_ID for r in rows), rows


@pytest.mark.parametrize("said", ["anyone but " + "Lee " * 3000, "anyone but Dr. Lee\x00", "not Dr. \x00",
                                  "anyone but Dr. Ł̷̛ee 🦷", "anyone but ' or 1=1 --", "anyone but %s %(x)s",
                                  "anyone but " + "\u202e" * 50, "anyone but anyone but Dr. Lee"])
@pytest.mark.parametrize("tool", ["checkAvailability", "bookClinicAppointment", "rescheduleAppointment"])
def test_attack_malformed_excluded_provider_is_never_a_500_nor_sql_text(client, said, tool):
    day = _weekday(next_open_day(), 1)
    arguments = {"checkAvailability": {"date": day.isoformat(), "providerName": said},
                 "bookClinicAppointment": {"appointmentDate": day.isoformat(), "appointmentTime": "10:00",
                                           "patientName": "Odd Name", "providerName": said},
                 "rescheduleAppointment": {"newDate": day.isoformat(), "newTime": "10:00",
                                           "providerName": said}}[tool]
    reply = call(client, tool, arguments, caller="+14155550779", call_id="call-odd-excl")
    no_internals(reply)
    assert reply.get("error") != "internal_error", reply
    assert isinstance(reply["message"], str) and len(reply["message"]) <= 300 and "\n" not in reply["message"]


# As a member of the other clinic (SQL, authenticated with a JWT claim)

def _as_member(url, user_id, query, params):
    with psycopg.connect(url, autocommit=False) as conn:
        conn.execute("set local role authenticated")
        conn.execute("select set_config('request.jwt.claims', %s, true)",
                     [json.dumps({"sub": user_id, "role": "authenticated"})])
        try:
            row = conn.execute(query, params).fetchone()
            conn.commit()
            return row[0]
        except psycopg.Error as error:
            conn.rollback()
            return error


def test_attack_bayview_member_excluding_in_sunrise_learns_and_books_nothing(database_url, sql):
    day = _weekday(next_open_day(), 0)
    before = appointment_rows(sql)
    for query, params in (
        ("select public.check_availability(%s::uuid, null, p_day => %s, p_exclude_provider => 'Dr. Lee'::text)::text", [SUNRISE, day]),
        ("select public.check_availability(%s::uuid, null, p_day => %s, p_at => '10:00'::time, p_exclude_provider => 'Dr. Lee')::text",
         [SUNRISE, day]),
        ("select public.book_appointment(%s::uuid, 'Cross Member', null, '+14155550780', null, %s,"
         " p_exclude_provider => 'Dr. Lee')::text", [SUNRISE, local_instant(day, 10)]),
        ("select public.reschedule_appointment_atomic(%s::uuid, '{}'::jsonb, %s, p_exclude_provider => 'Dr. Lee',"
         " p_day_of_month => 9::smallint)::text", [SUNRISE, local_instant(day, 10)]),
        ("select public.find_caller_appointment(%s::uuid, '{}'::jsonb, p_day_of_month => 9::smallint)::text", [SUNRISE]),
        ("select public.cancel_appointment(%s::uuid, '{}'::jsonb, p_day_of_month => 9::smallint)::text", [SUNRISE]),
    ):
        reply = _as_member(database_url, BAYVIEW_OWNER, query, params)
        assert not isinstance(reply, Exception), (query, reply)
        reply = json.loads(reply)
        assert reply["success"] is False and reply["error"] == "unknown_org", (query, reply)
        assert "Patel" not in json.dumps(reply) and "Lee" not in json.dumps(reply)
    assert appointment_rows(sql) == before


def test_attack_a_member_cannot_mark_hangs_on_any_call(database_url, sql):
    for user in (SUNRISE_STAFF, BAYVIEW_OWNER):
        reply = _as_member(database_url, user, "select public.mark_call_hang(%s::uuid, 'call-member')::text", [SUNRISE])
        assert isinstance(reply, psycopg.errors.InsufficientPrivilege), reply
    assert sql("select count(*) from public.calls where vapi_call_id = 'call-member'") == [(0,)]


# ---------------------------------------------------------------------------------------------
# 2. p_at: an exact time in checkAvailability
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("said", ["24:00", "25:61", "at 25:61", "at 24:00", "at -1", "at 99999999999999999999",
                                  "at 7am" * 2000, "at 10\x00am", "at １０:００", "at 10:00 ⏰", "at noon\u0000",
                                  "at 12:60", "at 00:00", "at midnight", "at 23:59", "at 0:00am", "at 13pm",
                                  "at " + "9" * 5000])
def test_attack_odd_exact_times_are_asked_about_never_a_500(client, said):
    day = _weekday(next_open_day(), 2)
    reply = call(client, "checkAvailability", {"date": day.isoformat(), "time": said}, caller="+14155550781",
                 call_id="call-at")
    no_internals(reply)
    assert reply.get("error") != "internal_error", (said, reply)
    assert len(reply["message"]) <= 300 and "\n" not in reply["message"]


@pytest.mark.parametrize("at", ["24:00", "23:59:59.999999", "00:00", "allballs"])
def test_attack_p_at_edges_in_sql_answer_without_error(sql, at):
    day = _weekday(next_open_day(), 2)
    try:
        (reply,) = sql("select public.check_availability(%s::uuid, null, p_day => %s, p_at => %s::time)::text",
                       [SUNRISE, day, at])[0]
    except psycopg.errors.InvalidDatetimeFormat:
        pytest.skip("not a time PostgreSQL reads")
    reply = json.loads(reply)
    no_internals(reply)
    assert reply["success"] in (True, False)


def test_attack_p_at_with_a_window_or_from_is_refused_cleanly(sql):
    day = _weekday(next_open_day(), 2)
    (reply,) = sql("select public.check_availability(%s::uuid, null, p_day => %s, p_at => '10:00'::time, p_after => '09:00'::time)::text",
                   [SUNRISE, day])[0]
    assert json.loads(reply)["error"] == "invalid_input"


# ---------------------------------------------------------------------------------------------
# 3. p_day_of_month: "the one on the 9th" — an oracle for an unverified caller?
# ---------------------------------------------------------------------------------------------

def _stranger_views(client, day: date, tag: str) -> dict:
    """Everything an unverified stranger who knows the victim's phone and name (and guesses the day)
    hears, for each of the day hints, with and without a (wrong) date of birth."""
    seen = {}
    hints = [f"the {speech._ordinal(day.day)}", f"the one on the {speech._ordinal(day.day)}",
             f"{day:%A} the {speech._ordinal(day.day)}", f"{day:%B} {speech._ordinal(day.day)}", day.isoformat()]
    claims = [{"patientPhone": PATIENT_PHONE}, {"patientPhone": PATIENT_PHONE, "patientName": "Jane O'Neil"},
              {"patientPhone": PATIENT_PHONE, "patientName": "Jane O'Neil", "patientDateOfBirth": "1980-03-06"}]
    n = 0
    for tool in ("lookupAppointments", "cancelAppointment", "rescheduleAppointment"):
        for h, hint in enumerate(hints):
            for i, claim in enumerate(claims):
                n += 1
                args = dict(claim, appointmentDate=hint)
                if tool == "rescheduleAppointment":
                    args = dict(claim, currentDate=hint, newDate=(day + timedelta(days=7)).isoformat(), newTime="11:00")
                # a new call each time, so the 3-per-call lock does not blur the comparison
                seen[(tool, h, i)] = call(
                    client, tool, args, call_id=f"call-oracle-{tag}-{n}", tool_call_id=f"tc-{n}")
    return seen


def test_attack_day_of_month_hint_is_no_oracle_for_a_stranger(client, sql):
    day = _weekday(next_open_day(min_days=3), 0)
    other = day + timedelta(days=1)  # a day the victim holds nothing on
    book(client, day)  # Jane O'Neil, +14155550321, born 1980-03-05, 14:00 on `day`
    before = appointment_rows(sql)

    # The claim counter (10 a day per phone + name) is shared by both runs: each run starts from zero,
    # so the comparison is hint for hint, not "before the lock" against "after".
    sql("delete from private.caller_verification_failures")
    on_booked_day = _stranger_views(client, day, "booked")
    sql("delete from private.caller_verification_failures")
    on_free_day = _stranger_views(client, other, "free")
    for key, reply in on_booked_day.items():
        assert reply["success"] is False, (key, reply)
        assert reply["error"] in ("verification_required", "verification_failed", "verification_locked"), (key, reply)
        discloses_nothing(reply, day)
    # Booked vs not booked: the same error codes and lines, hint for hint
    assert {k: (v["error"], v["message"]) for k, v in on_booked_day.items()} == \
           {k: (v["error"], v["message"]) for k, v in on_free_day.items()}
    assert appointment_rows(sql) == before


def test_attack_day_of_month_with_no_caller_id_and_victims_phone(client, sql):
    # Withheld caller ID + the victim's phone + name + the hint: nothing but verification_required.
    day = _weekday(next_open_day(min_days=3), 0)
    book(client, day)
    before = appointment_rows(sql)
    for tool in ("lookupAppointments", "cancelAppointment"):
        reply = call(client, tool, {"patientPhone": PATIENT_PHONE, "patientName": "Jane O'Neil",
                                    "appointmentDate": f"the {speech._ordinal(day.day)}"},
                     caller=None, call_id=f"call-withheld-{tool}")
        assert reply["error"] == "verification_required", reply
        discloses_nothing(reply, day)
    assert appointment_rows(sql) == before


@pytest.mark.parametrize("day_of_month", [0, -1, 32, 255, -32768, 32767])
def test_attack_out_of_range_day_of_month_is_the_same_refusal_booked_or_not(sql, day_of_month):
    # The range check comes before verification, so it cannot tell booked from free; never an error.
    caller = json.dumps({"source": "vapi", "callId": "call-range", "callerNumber": STRANGER,
                         "phone": PATIENT_PHONE, "name": "Jane O'Neil", "dateOfBirth": "1980-03-05"})
    replies = []
    for fn in ("find_caller_appointment", "cancel_appointment"):
        (reply,) = sql(f"select public.{fn}(%s::uuid, %s::jsonb, p_day_of_month => %s::smallint)::text",
                       [SUNRISE, caller, day_of_month])[0]
        reply = json.loads(reply)
        assert reply["success"] is False and reply["error"] == "invalid_input", reply
        replies.append(reply)
    (reply,) = sql("select public.reschedule_appointment_atomic(%s::uuid, %s::jsonb, now() + interval '7 days',"
                   " p_day_of_month => %s::smallint)::text", [SUNRISE, caller, day_of_month])[0]
    assert json.loads(reply)["error"] == "invalid_input"


def test_attack_day_of_month_out_of_range_does_not_bypass_the_lock_or_count(client, sql):
    # Three bad guesses lock the call; a later out-of-range hint must not reopen anything.
    day = _weekday(next_open_day(min_days=3), 0)
    book(client, day)
    wrong = {"patientPhone": PATIENT_PHONE, "patientName": "Jane O'Neil", "patientDateOfBirth": "1980-03-06"}
    for i in range(3):
        call(client, "lookupAppointments", wrong, call_id="call-lock-dom", tool_call_id=f"tc-l{i}")
    right = dict(wrong, patientDateOfBirth="1980-03-05", appointmentDate=f"the {speech._ordinal(day.day)}")
    reply = call(client, "cancelAppointment", right, call_id="call-lock-dom", tool_call_id="tc-l9")
    assert reply["error"] == "verification_locked", reply
    assert appointment_rows(sql)[0][1] != "cancelled"


@pytest.mark.parametrize("said", ["the 0th", "the 32nd", "the -1st", "the 99th", "the ninth\x00", "the 9th 🦷",
                                  "Tuesday the 31st", "Friday the 13th" * 500, "the ٩th", "the 9ᵗʰ",
                                  "the " + "1" * 4300 + "th", "1" * 4300])
@pytest.mark.parametrize("tool", ["lookupAppointments", "cancelAppointment", "rescheduleAppointment"])
def test_attack_odd_day_of_month_hints_are_re_asked_never_a_500(client, tool, said):
    day = _weekday(next_open_day(), 0)
    arguments = {"appointmentDate": said, "currentDate": said, "newDate": day.isoformat(), "newTime": "10:00"}
    reply = call(client, tool, arguments, caller="+14155550782", call_id="call-odd-dom")
    no_internals(reply)
    assert reply.get("error") != "internal_error", (said, reply)


@pytest.mark.parametrize("tool", ["cancelAppointment", "rescheduleAppointment"])
def test_attack_a_day_hint_of_thousands_of_digits_is_re_asked(client, tool):
    said = "the " + "1" * 5000 + "th"
    reply = call(client, tool, {"appointmentDate": said, "currentDate": said,
                                "newDate": next_open_day().isoformat(), "newTime": "10:00"},
                 caller="+14155550783", call_id="call-digits")
    assert reply["success"] is False and reply["error"] == "invalid_input", reply


# ---------------------------------------------------------------------------------------------
# 4. mark_call_hang and the `hang` message
# ---------------------------------------------------------------------------------------------

def hang(client, call_id, *, org=SUNRISE, timestamp=None, extra=None):
    message = {"type": "hang", "call": {"id": call_id, "customer": {"number": "+14155550790"}},
               "customer": {"number": "+14155550790", "metadata": {"org_id": org}}, **(extra or {})}
    if timestamp is not None:
        message["timestamp"] = timestamp
    response = client.post(WEBHOOK, json={"message": message}, headers=AUTH)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "psycopg" not in body
    return response.get_json()


def _calls(sql, call_id):
    return sql("select org_id::text, hang_count, status, outcome from public.calls where vapi_call_id = %s"
               " order by org_id", [call_id])


def test_attack_a_hang_from_clinic_a_never_touches_clinic_bs_call_row(client, sql):
    # Clinic B (Bayview) has a call; clinic A's caller/assistant sends hangs with the same call id.
    assert hang(client, "call-shared", org=BAYVIEW) == {}
    assert _calls(sql, "call-shared") == [(BAYVIEW, 1, "in_progress", "info_only")]
    for _ in range(5):
        assert hang(client, "call-shared", org=SUNRISE) == {}
    rows = dict((org, (n, status, outcome)) for org, n, status, outcome in _calls(sql, "call-shared"))
    assert rows[BAYVIEW] == (1, "in_progress", "info_only"), rows
    assert rows[SUNRISE][0] == 5, rows


def test_attack_a_hang_with_a_clinic_secret_for_another_clinic_is_refused(app, client, sql):
    # The hang is answered only for the clinic the request authenticated as (g.authenticated_org_id):
    # a metadata claim of the other clinic alone must not create a row there when ALLOW_METADATA_ORG
    # is off.
    app.config["ALLOW_METADATA_ORG"] = False
    try:
        assert hang(client, "call-claim", org=BAYVIEW) == {}
    finally:
        app.config["ALLOW_METADATA_ORG"] = True
    assert _calls(sql, "call-claim") == []


@pytest.mark.parametrize("timestamp", [10**20, -10**20, "soon", None, 1.5e308, float("nan") if False else 0, -1,
                                       253402300800000, 8210266876799999, True, [], {}])
def test_attack_odd_hang_timestamps_never_500(client, sql, timestamp):
    extra = {"timestamp": timestamp} if timestamp is not None else {}
    assert hang(client, "call-ts", extra=extra) == {}
    rows = _calls(sql, "call-ts")
    assert len(rows) == 1 and rows[0][1] == 1 and rows[0][2] == "in_progress", rows


@pytest.mark.parametrize("call_id", ["x" * 5000, "call\x00nul", "  ", "", "📞" * 300, "call-ü\u202e", 12345,
                                     None, ["a"], {"a": 1}])
def test_attack_odd_hang_call_ids_never_500(client, sql, call_id):
    before = sql("select count(*) from public.calls")[0][0]
    assert hang(client, call_id) == {}
    after = sql("select count(*) from public.calls")[0][0]
    assert after - before <= 1
    assert sql("select max(char_length(vapi_call_id)) from public.calls")[0][0] in (None,) or \
        sql("select max(char_length(vapi_call_id)) from public.calls")[0][0] <= 200


def test_attack_a_hang_does_not_end_or_reopen_a_call_or_change_its_outcome(client, sql):
    day = _weekday(next_open_day(), 0)
    # the call books, then is reported ended; a late hang must not reopen it or change what it did
    reply = call(client, "bookClinicAppointment", {"appointmentDate": day.isoformat(), "appointmentTime": "09:30",
                                                   "patientName": "Hang Person"},
                 caller="+14155550791", call_id="call-hang-booked")
    assert reply["success"] is True, reply
    response = client.post(WEBHOOK, json={"message": {
        "type": "status-update", "status": "ended", "endedReason": "customer-ended-call",
        "call": {"id": "call-hang-booked", "customer": {"number": "+14155550791"}},
        "customer": {"number": "+14155550791", "metadata": {"org_id": SUNRISE}}}}, headers=AUTH)
    assert response.status_code == 200
    before = _calls(sql, "call-hang-booked")
    assert before and before[0][2] == "ended" and before[0][3] == "booked", before
    for _ in range(3):
        hang(client, "call-hang-booked", timestamp=0)
    after = _calls(sql, "call-hang-booked")
    assert after[0][2:] == before[0][2:] and after[0][1] == before[0][1] + 3, (before, after)


# ---------------------------------------------------------------------------------------------
# 5. Same-call replay needs the same caller number
# ---------------------------------------------------------------------------------------------

def _victim_booking(client, day):
    # The victim books from their own line in call "call-victim" (tool call tc-victim).
    return call(client, "bookClinicAppointment",
                {"appointmentDate": day.isoformat(), "appointmentTime": "15:00", "patientName": "Jane O'Neil",
                 "serviceType": "consultation"}, caller=PATIENT_PHONE, call_id="call-victim", tool_call_id="tc-victim")


@pytest.mark.parametrize("attacker", [STRANGER, None, "+14155550322", "anonymous"])
@pytest.mark.parametrize("provider", [None, "anyone", "anyone but Dr. Lee", "Dr. Patel"])
def test_attack_same_call_replay_from_another_number_is_no_youre_all_set(client, sql, attacker, provider):
    day = _weekday(next_open_day(), 0)
    first = _victim_booking(client, day)
    assert first["success"] is True, first
    arguments = {"appointmentDate": day.isoformat(), "appointmentTime": "15:00", "patientName": "Jane O'Neil",
                 "patientPhone": PATIENT_PHONE, "serviceType": "consultation"}
    if provider:
        arguments["providerName"] = provider
    # the victim's call id, another tool-call id, another (or no) caller number
    reply = call(client, "bookClinicAppointment", arguments, caller=attacker, call_id="call-victim",
                 tool_call_id="tc-attacker")
    assert reply["success"] is False, reply
    assert first["appointmentId"] not in json.dumps(reply)
    assert "all set" not in reply["message"]
    discloses_nothing({k: reply[k] for k in ("success", "error", "message")}, day)
    assert sql("select count(*) from public.appointments where org_id = %s and status <> 'cancelled'",
               [SUNRISE]) == [(1,)]


@pytest.mark.parametrize("tool_call_id", ["tc-b", "tc-victim"])  # tc-victim: the idempotency key too
def test_attack_same_call_replay_from_another_clinic_with_the_same_call_id(client, sql, tool_call_id):
    day = _weekday(next_open_day(), 0)
    assert _victim_booking(client, day)["success"] is True
    message = {"type": "tool-calls",
               "toolCallList": [{"id": tool_call_id, "type": "function", "function": {
                   "name": "bookClinicAppointment",
                   "arguments": {"appointmentDate": day.isoformat(), "appointmentTime": "15:00",
                                 "patientName": "Jane O'Neil", "patientPhone": PATIENT_PHONE}}}],
               "call": {"id": "call-victim", "customer": {"number": PATIENT_PHONE}},
               "customer": {"number": PATIENT_PHONE, "metadata": {"org_id": BAYVIEW}}}
    (reply,) = results(client.post(WEBHOOK, json={"message": message}, headers=AUTH))
    # Bayview's own booking (or refusal) — never Sunrise's appointment replayed
    sunrise_ids = [r[0] for r in appointment_rows(sql)]
    assert not any(i in json.dumps(reply) for i in sunrise_ids), reply


def test_same_call_replay_from_the_same_number_is_still_one_booking(client, sql):
    # The control: the defence is not "refuse everything" — the victim's own parallel duplicate replays.
    day = _weekday(next_open_day(), 0)
    first = _victim_booking(client, day)
    again = call(client, "bookClinicAppointment",
                 {"appointmentDate": day.isoformat(), "appointmentTime": "15:00", "patientName": "Jane O'Neil",
                  "serviceType": "consultation"}, caller=PATIENT_PHONE, call_id="call-victim", tool_call_id="tc-dup")
    assert again["success"] is True and again["appointmentId"] == first["appointmentId"], again


def test_same_call_replay_answers_anyone_but_dr_x_with_dr_x(client, sql):
    # Correctness, not a leak (same caller, same call): "book with Dr. Patel" then, in the same call,
    # the same visit "anyone but Dr. Patel" — the second must not be "you're all set with Dr. Patel".
    day = _weekday(next_open_day(), 0)
    first = call(client, "bookClinicAppointment",
                 {"appointmentDate": day.isoformat(), "appointmentTime": "15:00", "patientName": "Jane O'Neil",
                  "serviceType": "consultation", "providerName": "Dr. Patel"},
                 caller=PATIENT_PHONE, call_id="call-self", tool_call_id="tc-s1")
    assert first["success"] is True, first
    second = call(client, "bookClinicAppointment",
                  {"appointmentDate": day.isoformat(), "appointmentTime": "15:00", "patientName": "Jane O'Neil",
                   "serviceType": "consultation", "providerName": "anyone but Dr. Patel"},
                  caller=PATIENT_PHONE, call_id="call-self", tool_call_id="tc-s2")
    assert not (second["success"] is True and "Patel" in json.dumps(second.get("provider"))), second
