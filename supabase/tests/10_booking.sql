-- Booking happy path, JSON shape, rows written, idempotency, lead upsert, input validation (an
-- implausible optional e-mail is dropped, never refused), service resolution. Uses its own org (not
-- the seed); dates are relative to now().
begin;
select plan(52);

-- Fixture ------------------------------------------------------------------------------------------
insert into public.orgs (id, name, timezone, slot_interval_minutes, min_notice_minutes, booking_horizon_days)
values ('c1000000-0000-4000-8000-000000000001', 'Test Clinic Ten', 'America/New_York', 30, 60, 730);
insert into public.services (org_id, code, name, duration_minutes, buffer_minutes, is_default) values
  ('c1000000-0000-4000-8000-000000000001', 'consult', 'General Consultation', 30, 0, true),
  ('c1000000-0000-4000-8000-000000000001', 'checkup', 'Annual Checkup', 20, 10, false),
  ('c1000000-0000-4000-8000-000000000001', 'long-visit', 'Long Visit', 60, 0, false);
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
select 'c1000000-0000-4000-8000-000000000001', d, t.o, t.c
from generate_series(1, 5) d, (values (time '09:00', time '12:00'), (time '13:00', time '17:00')) t(o, c);

-- first clinic-local date >= today + offset with the given weekday, and local wall clock → instant
create function pg_temp.day(p_offset int, p_dow int) returns date language sql as $$
  select d::date from generate_series((now() at time zone 'America/New_York')::date + p_offset,
                                      (now() at time zone 'America/New_York')::date + p_offset + 6, interval '1 day') d
  where extract(dow from d) = p_dow limit 1 $$;
create function pg_temp.at(p_day date, p_time time) returns timestamptz language sql as $$
  select (p_day + p_time) at time zone 'America/New_York' $$;
create function pg_temp.book(p_name text, p_phone text, p_service text, p_at timestamptz,
                             p_key text default null, p_email text default null)
returns json language sql as $$
  select public.book_appointment_atomic_v2(
    p_org_id => 'c1000000-0000-4000-8000-000000000001', p_name => p_name, p_email => p_email,
    p_phone => p_phone, p_service => p_service, p_scheduled_at => p_at, p_idempotency_key => p_key) $$;

create temp table r (k text primary key, j json);

-- Success ------------------------------------------------------------------------------------------
insert into r values ('ok', pg_temp.book('Jane Doe', '+14155550123', 'consult', pg_temp.at(pg_temp.day(14, 1), '10:00'), 'key-1', 'Jane@Example.com'));

select is((select (j->>'success')::boolean from r where k = 'ok'), true, 'booking succeeds');
select is((select j->>'message' from r where k = 'ok'), 'Booking confirmed successfully', 'success message');
select is((select j->>'scheduledAt' from r where k = 'ok'),
          to_char(pg_temp.at(pg_temp.day(14, 1), '10:00') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
          'scheduledAt is ISO UTC with Z');
select is((select j->>'endsAt' from r where k = 'ok'),
          to_char(pg_temp.at(pg_temp.day(14, 1), '10:30') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
          'endsAt = start + duration');
select is((select (j->'service')::jsonb from r where k = 'ok'),
          '{"code":"consult","name":"General Consultation","durationMinutes":30,"bufferMinutes":0}'::jsonb,
          'service object');
select is((select j->>'timezone' from r where k = 'ok'), 'America/New_York', 'timezone in reply');
select is((select (j->>'replayed')::boolean from r where k = 'ok'), false, 'not a replay');
select is((select (j->>'emailDropped')::boolean from r where k = 'ok'), false, 'a plausible e-mail is kept: emailDropped false');
select ok((select (j->>'appointmentId')::uuid is not null and (j->>'contactId')::uuid is not null from r where k = 'ok'),
          'appointmentId and contactId are uuids');

select is((select count(*)::int from public.appointments where org_id = 'c1000000-0000-4000-8000-000000000001'), 1, 'one appointment row');
select is((select status from public.appointments where id = (select (j->>'appointmentId')::uuid from r where k = 'ok')),
          'pending', 'status pending');
select is((select phone from public.leads where id = (select (j->>'contactId')::uuid from r where k = 'ok')),
          '+14155550123', 'lead stores the E.164 phone');
select is((select email from public.leads where id = (select (j->>'contactId')::uuid from r where k = 'ok')),
          'jane@example.com', 'email stored (lower-cased)');
select is((select blocked from public.appointments where id = (select (j->>'appointmentId')::uuid from r where k = 'ok')),
          tstzrange(pg_temp.at(pg_temp.day(14, 1), '10:00'), pg_temp.at(pg_temp.day(14, 1), '10:30')),
          'blocked = [start, end + buffer)');
select is((select count(*)::int from public.appointment_events e
           where e.appointment_id = (select (j->>'appointmentId')::uuid from r where k = 'ok') and e.kind = 'booked'),
          1, 'booked event written');
select is((select (payload->>'serviceId') || '|' || (payload->>'startsAt') || '|' || (payload->>'leadId')
                  || '|' || (payload ?| array['patientName', 'phone', 'email'])::text
           from public.appointment_events e where e.appointment_id = (select (j->>'appointmentId')::uuid from r where k = 'ok')),
          (select a.service_id::text || '|' || (select j->>'scheduledAt' from r where k = 'ok') || '|' || a.lead_id::text || '|false'
             from public.appointments a where a.id = (select (j->>'appointmentId')::uuid from r where k = 'ok')),
          'event payload carries service, start and lead ids, and no name, phone or e-mail');

-- Idempotency --------------------------------------------------------------------------------------
insert into r values ('replay', pg_temp.book('Jane Doe', '+14155550123', 'consult', pg_temp.at(pg_temp.day(14, 1), '10:00'), 'key-1'));
select is((select (j->>'success')::boolean from r where k = 'replay'), true, 'replay succeeds');
select is((select (j->>'replayed')::boolean from r where k = 'replay'), true, 'replay flagged');
select is((select j->>'appointmentId' from r where k = 'replay'), (select j->>'appointmentId' from r where k = 'ok'), 'replay returns the same id');
insert into r values ('replay2', pg_temp.book('Jane Doe', '+14155550123', 'checkup', pg_temp.at(pg_temp.day(14, 2), '15:00'), 'key-1'));
select is((select j->>'appointmentId' from r where k = 'replay2'), (select j->>'appointmentId' from r where k = 'ok'),
          'same key with different payload still returns the original');
select is((select count(*)::int from public.appointments where org_id = 'c1000000-0000-4000-8000-000000000001'), 1, 'still one row after replays');
select is((select count(*)::int from public.appointment_events where org_id = 'c1000000-0000-4000-8000-000000000001'), 1, 'still one event after replays');

-- Lead upsert: existing name/email kept, appointment keeps this call's name ----------------------------
insert into r values ('second', pg_temp.book('Janet D.', '+14155550123', 'consult', pg_temp.at(pg_temp.day(14, 1), '11:00'), null, 'other@example.org'));
select is((select (j->>'success')::boolean from r where k = 'second'), true, 'second booking same phone succeeds');
select is((select j->>'contactId' from r where k = 'second'), (select j->>'contactId' from r where k = 'ok'), 'same lead reused');
select is((select name || '|' || email from public.leads where id = (select (j->>'contactId')::uuid from r where k = 'ok')),
          'Jane Doe|jane@example.com', 'lead name/email not overwritten');
select is((select patient_name from public.appointments where id = (select (j->>'appointmentId')::uuid from r where k = 'second')),
          'Janet D.', 'appointment keeps the patient name of its own call');
insert into r values ('noemail', pg_temp.book('Max', '+14155550999', 'consult', pg_temp.at(pg_temp.day(14, 1), '13:00')));
insert into r values ('fillemail', pg_temp.book('Max Other', '+14155550999', 'consult', pg_temp.at(pg_temp.day(14, 1), '13:30'), null, 'max@example.com'));
select is((select name || '|' || coalesce(email, '∅') from public.leads where phone = '+14155550999'),
          'Max|max@example.com', 'empty email filled in later, name kept');

-- Input validation -----------------------------------------------------------------------------------
select is(pg_temp.book('  ', '+14155550123', 'consult', pg_temp.at(pg_temp.day(14, 3), '10:00'))->>'error', 'invalid_input', 'blank name');
select is(pg_temp.book(null, '+14155550123', 'consult', pg_temp.at(pg_temp.day(14, 3), '10:00'))->>'error', 'invalid_input', 'null name');
select is(pg_temp.book('A', '(415) 555-0123', 'consult', pg_temp.at(pg_temp.day(14, 3), '10:00'))->>'error', 'invalid_input', 'non-E.164 phone');
select is(pg_temp.book('A', '+0415550123', 'consult', pg_temp.at(pg_temp.day(14, 3), '10:00'))->>'error', 'invalid_input', 'E.164 must not start with 0');
select is(pg_temp.book('A', '+14155550123', 'consult', null)->>'error', 'invalid_input', 'null time');
select is(pg_temp.book('A', '(415) 555-0123', 'consult', now() - interval '1 day')->>'error', 'invalid_input', 'invalid_input checked before in_past');
select is(public.book_appointment_atomic_v2(p_org_id => 'c1000000-0000-4000-8000-0000000000ff', p_name => 'A', p_email => null,
            p_phone => '+14155550123', p_service => 'consult', p_scheduled_at => now() - interval '1 day')->>'error',
          'unknown_org', 'unknown org (checked before time validation)');
insert into r values ('blank_email', pg_temp.book('A', '+14155550124', 'consult', pg_temp.at(pg_temp.day(14, 3), '10:00'), null, '  '));
select is((select (j->>'success')::boolean || '|' || (j->>'emailDropped') from r where k = 'blank_email'), 'true|false',
          'a blank e-mail is none: booked, nothing dropped');

-- An implausible optional e-mail never blocks the booking: stored as NULL, reported as emailDropped --
insert into r values ('dropped', pg_temp.book('Dee Dropped', '+14155550125', 'consult',
                                              pg_temp.at(pg_temp.day(14, 3), '11:00'), 'key-drop', 'John_Doe@My_Clinic.com'));
select is((select (j->>'success')::boolean from r where k = 'dropped'), true,
          'an implausible e-mail (underscore in the domain) does not refuse the booking');
select is((select (j->>'emailDropped')::boolean from r where k = 'dropped'), true, 'the reply says the e-mail was dropped');
select is((select count(*)::int from public.leads
            where id = (select (j->>'contactId')::uuid from r where k = 'dropped') and email is null), 1,
          'the lead is stored without it');
insert into r values ('dropped_replay', pg_temp.book('Dee Dropped', '+14155550125', 'consult',
                                                     pg_temp.at(pg_temp.day(14, 3), '11:00'), 'key-drop', 'John_Doe@My_Clinic.com'));
select is((select (j->>'replayed')::boolean || '|' || (j->>'emailDropped') || '|' || (j->>'appointmentId') from r where k = 'dropped_replay'),
          (select 'true|true|' || (j->>'appointmentId') from r where k = 'dropped'),
          'a retry of that call replays the original, again saying emailDropped');
select is(
  (select array_agg(coalesce(j->>'error', j->>'emailDropped') order by k) from (
     select k, pg_temp.book('Ee ' || k, '+1415555' || (2000 + n)::text, 'consult',
                            pg_temp.at(pg_temp.day(14, 3), '13:00') + make_interval(mins => 30 * n), null, e) as j
       from (values ('a', 1, 'josé@example.com'), ('b', 2, 'a@-example.com'), ('c', 3, 'a..b@example.com'),
                    ('d', 4, 'not-an-email'), ('e', 5, 'ok.person+tag@example.co.uk')) v(k, n, e)) x),
  array['true', 'true', 'true', 'true', 'false'],
  'non-ASCII, a leading hyphen in the domain, a double dot, no @: each dropped and booked; a plausible one kept');
select is((select email from public.leads where phone = '+14155552005'), 'ok.person+tag@example.co.uk',
          'the plausible one is stored');
insert into r values ('fill_later', pg_temp.book('Dee Dropped', '+14155550125', 'consult',
                                                 pg_temp.at(pg_temp.day(14, 3), '16:00'), null, 'dee@example.com'));
select is((select email from public.leads where id = (select (j->>'contactId')::uuid from r where k = 'dropped')),
          'dee@example.com', 'a later booking with a plausible e-mail fills in the empty one');
select is(pg_temp.book('Ff', '+14155552010', 'consult', pg_temp.at(pg_temp.day(14, 3), '11:00'), null, 'x@@example')->>'error',
          'slot_unavailable', 'a dropped e-mail does not change the slot rules (taken slot still refused)');

-- Service resolution ---------------------------------------------------------------------------------
select is(pg_temp.book('S1', '+14155551001', '  CHECKUP ', pg_temp.at(pg_temp.day(14, 4), '09:00'))->'service'->>'code', 'checkup', 'service by code, trimmed, case-insensitive');
select is(pg_temp.book('S2', '+14155551002', 'annual checkup', pg_temp.at(pg_temp.day(14, 4), '10:00'))->'service'->>'code', 'checkup', 'service by name, case-insensitive');
select is(pg_temp.book('S3', '+14155551003', 'Long-Visit', pg_temp.at(pg_temp.day(14, 4), '13:00'))->'service'->>'code', 'long-visit', 'service by code with hyphen');
select is(pg_temp.book('S4', '+14155551004', 'teeth whitening', pg_temp.at(pg_temp.day(14, 4), '14:00'))->'service'->>'code', 'consult', 'unknown service → default');
select is(pg_temp.book('S5', '+14155551005', '', pg_temp.at(pg_temp.day(14, 4), '15:00'))->'service'->>'code', 'consult', 'blank service → default');
select is(pg_temp.book('S6', '+14155551006', null, pg_temp.at(pg_temp.day(14, 4), '16:00'))->'service'->>'code', 'consult', 'null service → default');
select is((select ends_at - starts_at from public.appointments a join public.leads l on l.org_id = a.org_id and l.id = a.lead_id where l.phone = '+14155551003'),
          interval '60 minutes', 'booked duration follows the resolved service');

-- A refusal writes nothing ---------------------------------------------------------------------------
select is(pg_temp.book('Nobody', '+14155559999', 'consult', pg_temp.at(pg_temp.day(14, 1), '10:00'))->>'error', 'slot_unavailable', 'taken slot refused');
select is((select count(*)::int from public.leads where phone = '+14155559999'), 0, 'refused booking creates no lead');

select * from finish();
rollback;
