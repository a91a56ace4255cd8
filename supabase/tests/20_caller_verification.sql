-- 20_caller_verification: who may hear and change a booking (20261125000550_callers.sql).
-- Caller ID; phone + name + date of birth (lenient name: case, accents, spacing, punctuation; exact
-- DOB); no DOB on file → the same counted failure; partial claims → verification_required; 3 counted
-- failures lock the call (and only that call; fallback key = caller number); the finder's hints
-- (weekday weeks away, ambiguous, not_found); staff vs service_role; input checks; booking with a
-- date of birth and the v2 wrapper's unchanged reply.
begin;
select plan(104);

-- Fixture: one clinic open every day 08:00–18:00; phone P is a parent's (José, Mary-Ann twice, a
-- child booked without a DOB), phone Q someone else's.
insert into auth.users (id, email) values
  ('d2000000-0000-4000-8000-00000000000a', 'staff@t20.example');
insert into public.orgs (id, name, timezone, slot_interval_minutes, min_notice_minutes, booking_horizon_days)
values ('c2000000-0000-4000-8000-000000000001', 'Test Clinic Twenty', 'America/New_York', 30, 60, 365);
insert into public.org_members (org_id, user_id, role) values
  ('c2000000-0000-4000-8000-000000000001', 'd2000000-0000-4000-8000-00000000000a', 'staff');
insert into public.services (org_id, code, name, duration_minutes, buffer_minutes, is_default) values
  ('c2000000-0000-4000-8000-000000000001', 'consult', 'Consultation', 30, 0, true);
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
select 'c2000000-0000-4000-8000-000000000001', d, '08:00', '18:00' from generate_series(0, 6) d;

create function pg_temp.day(p_offset int, p_dow int) returns date language sql as $$
  select d::date from generate_series((now() at time zone 'America/New_York')::date + p_offset,
                                      (now() at time zone 'America/New_York')::date + p_offset + 6, interval '1 day') d
  where extract(dow from d) = p_dow limit 1 $$;
create function pg_temp.at(p_day date, p_time time) returns timestamptz language sql as $$
  select (p_day + p_time) at time zone 'America/New_York' $$;
create function pg_temp.book(p_name text, p_phone text, p_at timestamptz, p_dob date) returns json language sql as $$
  select public.book_appointment(
    p_org_id => 'c2000000-0000-4000-8000-000000000001', p_name => p_name, p_email => null,
    p_phone => p_phone, p_service => null, p_scheduled_at => p_at, p_date_of_birth => p_dob,
    p_caller => jsonb_build_object('callId', 'booking-call', 'callerNumber', p_phone)) $$;
-- a caller context with only the keys given
create function pg_temp.ctx(p_call text, p_number text, p_phone text default null, p_name text default null,
                            p_dob text default null) returns jsonb language sql as $$
  select jsonb_strip_nulls(jsonb_build_object('callId', p_call, 'callerNumber', p_number, 'phone', p_phone,
                                              'name', p_name, 'dateOfBirth', p_dob, 'source', 'vapi')) $$;
create function pg_temp.find(p_ctx jsonb) returns json language sql as $$
  select public.find_upcoming_appointments(p_org_id => 'c2000000-0000-4000-8000-000000000001', p_caller => p_ctx) $$;
create function pg_temp.ids(p_reply json) returns text[] language sql as $$
  select coalesce(array_agg(e ->> 'appointmentId' order by e ->> 'appointmentId'), '{}')
    from json_array_elements(p_reply -> 'appointments') e $$;
create function pg_temp.failures(p_key text) returns int language sql as $$
  select coalesce((select failures from private.caller_verification_failures
                    where org_id = 'c2000000-0000-4000-8000-000000000001' and call_key = p_key), 0) $$;
-- functions start closed (default privileges, 20261125000100_orgs.sql): open the test's own helpers
do $g$ declare f regprocedure; begin
  for f in select p.oid::regprocedure from pg_proc p where p.pronamespace = pg_my_temp_schema() loop
    execute format('grant execute on function %s to public', f);
  end loop;
end $g$;

create temp table r (k text primary key, j json);
insert into r values
  ('jose', pg_temp.book('José Núñez', '+13055550100', pg_temp.at(pg_temp.day(35, 2), '10:00'), '1980-02-03')),
  ('mary1', pg_temp.book('Mary-Ann O''Brien', '+13055550100', pg_temp.at(pg_temp.day(7, 3), '10:00'), '2015-06-07')),
  ('mary2', pg_temp.book('Mary-Ann O''Brien', '+13055550100', pg_temp.at(pg_temp.day(14, 3), '11:00'), '2015-06-07')),
  ('kid', pg_temp.book('Kid Nodob', '+13055550100', pg_temp.at(pg_temp.day(7, 4), '09:00'), null)),
  ('quinn', pg_temp.book('Quinn Other', '+13055550200', pg_temp.at(pg_temp.day(7, 5), '09:00'), '1970-01-01'));
create function pg_temp.id(p_k text) returns text language sql as $$ select j ->> 'appointmentId' from r where k = p_k $$;
grant select on r to authenticated, service_role;
create function pg_temp.sorted(variadic p_ids text[]) returns text[] language sql as $$
  select array_agg(x order by x) from unnest(p_ids) x $$;
-- functions start closed (default privileges, 20261125000100_orgs.sql): open the test's own helpers
do $g$ declare f regprocedure; begin
  for f in select p.oid::regprocedure from pg_proc p where p.pronamespace = pg_my_temp_schema() loop
    execute format('grant execute on function %s to public', f);
  end loop;
end $g$;

-- Booking with a date of birth ---------------------------------------------------------------------
select is((select count(*)::int from r where (j ->> 'success')::boolean), 5, 'five bookings with and without a DOB');
select is((select patient_date_of_birth from public.appointments where id = pg_temp.id('jose')::uuid), date '1980-02-03',
          'the date of birth is stored with the appointment''s patient');
select is((select patient_date_of_birth from public.appointments where id = pg_temp.id('kid')::uuid), null::date,
          'booked without a DOB: none on file');
select is((select array_agg(k order by k) from json_object_keys((select j from r where k = 'jose')) k),
          array['appointmentId', 'contactId', 'emailDropped', 'endsAt', 'message', 'provider', 'replayed', 'scheduledAt', 'service', 'success', 'timezone'],
          'book_appointment replies with exactly the v2 keys plus emailDropped and provider (no date of birth)');
insert into r values ('v2', public.book_appointment_atomic_v2(p_org_id => 'c2000000-0000-4000-8000-000000000001',
  p_name => 'Vee Two', p_email => 'vee@example.com', p_phone => '+13055550300', p_service => null,
  p_scheduled_at => pg_temp.at(pg_temp.day(7, 6), '09:00'), p_idempotency_key => 't20-v2', p_source => 'vapi'));
select is((select array_agg(k order by k) from json_object_keys((select j from r where k = 'v2')) k),
          array['appointmentId', 'contactId', 'emailDropped', 'endsAt', 'message', 'provider', 'replayed', 'scheduledAt', 'service', 'success', 'timezone'],
          'book_appointment_atomic_v2 (the wrapper) replies with its original keys plus emailDropped and provider (keys are only added)');
select is((select (j ->> 'success') || '|' || (j ->> 'replayed') from r where k = 'v2'), 'true|false', 'v2 wrapper books');
select is((select patient_date_of_birth from public.appointments where id = pg_temp.id('v2')::uuid),
          null::date, 'v2 wrapper stores no date of birth');
select is((select source from public.appointments where id = pg_temp.id('v2')::uuid), 'vapi', 'v2 wrapper passes p_source');
select is(public.book_appointment_atomic_v2(p_org_id => 'c2000000-0000-4000-8000-000000000001',
  p_name => 'Vee Two', p_email => null, p_phone => '+13055550300', p_service => null,
  p_scheduled_at => pg_temp.at(pg_temp.day(7, 6), '09:00'), p_idempotency_key => 't20-v2')::jsonb - 'message',
  (select j::jsonb - 'message' || '{"replayed": true}' from r where k = 'v2'), 'v2 wrapper replays by idempotency key');
select is(pg_temp.book('Future Baby', '+13055550400', pg_temp.at(pg_temp.day(8, 6), '09:00'),
                       (now() at time zone 'America/New_York')::date + 1) ->> 'error', 'invalid_input',
          'a date of birth in the clinic''s future is refused (a birth date is never rolled forward)');
select is(pg_temp.book('Old Timer', '+13055550400', pg_temp.at(pg_temp.day(8, 6), '09:00'), '1900-01-01') ->> 'error',
          'invalid_input', 'a date of birth on or before 1900-01-01 is refused');
select is((select count(*)::int from public.leads where phone = '+13055550400'), 0, 'a refused date of birth books nothing');
select throws_ok($$update public.appointments set patient_date_of_birth = '1899-12-31' where id = (select (j ->> 'appointmentId')::uuid from r where k = 'jose')$$,
                 '23514', null, 'the table refuses an implausible date of birth too');
-- a second booking under the same phone and name with another DOB does not touch the first
insert into r values ('jose_other', pg_temp.book('Jose Nunez', '+13055550100', pg_temp.at(pg_temp.day(35, 2), '15:00'), '1999-09-09'));
select is((select patient_date_of_birth from public.appointments where id = pg_temp.id('jose')::uuid), date '1980-02-03',
          'a later booking never changes the date of birth on file');
update public.appointments set status = 'cancelled' where id = pg_temp.id('jose_other')::uuid;
-- a refused booking never says who holds the slot
insert into r values ('taken', pg_temp.book('Intruder', '+13055550999', pg_temp.at(pg_temp.day(35, 2), '10:00'), null));
select is((select j ->> 'error' from r where k = 'taken'), 'slot_unavailable', 'a taken slot is refused');
select ok((select j::text not like '%José%' and j::text not like '%+1305555010%' and j::text not like '%appointmentId%' from r where k = 'taken'),
          'the refusal names nobody and no appointment');

-- Caller ID ------------------------------------------------------------------------------------------
insert into r values ('cid', pg_temp.find(pg_temp.ctx('call-cid', '+13055550100')));
select is((select pg_temp.ids(j) from r where k = 'cid'),
          pg_temp.sorted(pg_temp.id('jose'), pg_temp.id('mary1'), pg_temp.id('mary2'), pg_temp.id('kid')),
          'caller ID: every upcoming appointment under the calling number (a parent hears all children)');
select is((select (j ->> 'verifiedBy') || '|' || (j ->> 'searched') from r where k = 'cid'), 'caller_id|caller_id',
          'verifiedBy caller_id, searched caller_id');
select is((select array_agg(k order by k) from json_object_keys((select j -> 'appointments' -> 0 from r where k = 'cid')) k),
          array['appointmentId', 'endsAt', 'patientName', 'provider', 'scheduledAt', 'service', 'status'],
          'appointment objects carry no date of birth and no phone (provider: who it is with)');
select ok((select j::text not like '%1980-02-03%' and j::text not like '%2015-06-07%' from r where k = 'cid'),
          'no date of birth anywhere in the reply');
select is(pg_temp.ids(pg_temp.find(pg_temp.ctx('call-q', '+13055550200'))), array[pg_temp.id('quinn')],
          'another caller ID hears only its own');
select is(pg_temp.find(pg_temp.ctx('call-none', '+13055550777'))::jsonb - 'message' - 'timezone',
          '{"success": true, "appointments": [], "verifiedBy": "caller_id", "searched": "caller_id"}'::jsonb,
          'nothing under the calling number: success, empty, searched caller_id');
select is(pg_temp.ids(pg_temp.find(pg_temp.ctx('call-same', '+13055550200', '+13055550200'))), array[pg_temp.id('quinn')],
          'naming one''s own number is caller ID (no questions)');

-- Partial claims: verification_required, nothing disclosed, not counted --------------------------------
select is(pg_temp.find(pg_temp.ctx('call-p', '+12125550000', '+13055550100'))::jsonb,
          '{"success": false, "error": "verification_required", "message": "Verification required: the phone number, full name and date of birth on the booking", "timezone": "America/New_York"}'::jsonb,
          'foreign caller ID naming a phone only: verification_required, nothing else in the reply');
select is(pg_temp.find(pg_temp.ctx('call-p', '+12125550000', '+13055550100', 'José Núñez')) ->> 'error', 'verification_required',
          'phone + name without DOB: verification_required');
select is(pg_temp.find(pg_temp.ctx('call-p', '+12125550000', '+13055550100', null, '1980-02-03')) ->> 'error', 'verification_required',
          'phone + DOB without name: verification_required');
select is(pg_temp.find(pg_temp.ctx('call-p', null)) ->> 'error', 'verification_required',
          'no caller ID and no phone named: verification_required');
select is(pg_temp.find(pg_temp.ctx('call-p', 'anonymous')) ->> 'error', 'verification_required',
          'a withheld caller ID (not E.164) counts as none');
select is(pg_temp.failures('call:call-p'), 0, 'partial claims are not failed attempts');

-- Name + date of birth ----------------------------------------------------------------------------------
insert into r values ('nd', pg_temp.find(pg_temp.ctx('call-nd', '+12125550000', '+13055550100', 'José Núñez', '1980-02-03')));
select is((select pg_temp.ids(j) from r where k = 'nd'), array[pg_temp.id('jose')],
          'phone + name + DOB: only that patient''s appointments (not the siblings'')');
select is((select (j ->> 'verifiedBy') || '|' || (j ->> 'searched') from r where k = 'nd'), 'name_dob|claimed_phone',
          'verifiedBy name_dob, searched claimed_phone');
select is(pg_temp.ids(pg_temp.find(pg_temp.ctx('call-nd', '+12125550000', '+13055550100', '  JOSE   nunez ', '1980-02-03'))),
          array[pg_temp.id('jose')], 'name match ignores case, accents and spacing');
select is(pg_temp.ids(pg_temp.find(pg_temp.ctx('call-nd', '+12125550000', '+13055550100', 'mary ann obrien', '2015-06-07'))),
          pg_temp.sorted(pg_temp.id('mary1'), pg_temp.id('mary2')), 'name match ignores punctuation (Mary-Ann O''Brien)');
select is(pg_temp.ids(pg_temp.find(pg_temp.ctx('call-nd', null, '+13055550100', 'Mary Ann O’Brien', '2015-06-07'))),
          pg_temp.sorted(pg_temp.id('mary1'), pg_temp.id('mary2')), 'no caller ID at all: name + DOB still verifies (typographic apostrophe)');
select is(pg_temp.failures('call:call-nd'), 0, 'successful verifications count nothing');

-- Failures: wrong DOB, wrong name, DOB not on file ---------------------------------------------------------
insert into r values ('wrong_dob', pg_temp.find(pg_temp.ctx('call-f1', '+12125550000', '+13055550100', 'José Núñez', '1980-02-04')));
select is((select j::jsonb from r where k = 'wrong_dob'),
          '{"success": false, "error": "verification_failed", "message": "The details given do not match a booking that can be changed on this call", "timezone": "America/New_York"}'::jsonb,
          'wrong DOB: verification_failed and nothing else');
select is(pg_temp.failures('call:call-f1'), 1, 'a wrong DOB is a counted failure');
select is(pg_temp.find(pg_temp.ctx('call-f2', '+12125550000', '+13055550100', 'Josie Nunez', '1980-02-03')) ->> 'error',
          'verification_failed', 'wrong name: verification_failed');
select is(pg_temp.find(pg_temp.ctx('call-f2', '+12125550000', '+13055550101', 'José Núñez', '1980-02-03')) ->> 'error',
          'verification_failed', 'a phone with no bookings: verification_failed (same reply)');
select is(pg_temp.failures('call:call-f2'), 2, 'each counted');
insert into r values ('nodob', pg_temp.find(pg_temp.ctx('call-f3', '+12125550000', '+13055550100', 'kid nodob', '2016-01-01')));
select is((select j::jsonb from r where k = 'nodob'), (select j::jsonb from r where k = 'wrong_dob'),
          'phone + name of a booking without a DOB on file: the very same verification_failed reply');
select is(pg_temp.failures('call:call-f3'), 1, '... and counted like any failure (else the later lock would disclose that booking)');

-- Lock: 3 counted failures in one call ------------------------------------------------------------------
select is(pg_temp.find(pg_temp.ctx('call-lock', '+12125550000', '+13055550100', 'José Núñez', '1981-01-01')) ->> 'error',
          'verification_failed', 'lock: 1st failure');
select is(public.cancel_appointment(p_org_id => 'c2000000-0000-4000-8000-000000000001',
            p_caller => pg_temp.ctx('call-lock', '+12125550000', '+13055550100', 'José Núñez', '1981-01-02'), p_weekday => 2::smallint) ->> 'error',
          'verification_failed', 'lock: 2nd failure (cancel counts in the same call)');
select is(pg_temp.find(pg_temp.ctx('call-lock', '+12125550000', '+13055550100', 'José Núñez', '1981-01-03'))::jsonb,
          '{"success": false, "error": "verification_locked", "message": "Too many failed verifications in this call", "timezone": "America/New_York"}'::jsonb,
          'lock: the 3rd failure locks the call at once');
select is(pg_temp.find(pg_temp.ctx('call-lock', '+12125550000', '+13055550100', 'José Núñez', '1980-02-03')) ->> 'error',
          'verification_locked', 'locked: even correct details are refused for the rest of the call');
select is(pg_temp.find(pg_temp.ctx('call-lock', '+13055550100')) ->> 'error', 'verification_locked',
          'locked: caller ID too (the call is locked, not a claim)');
select is(public.cancel_appointment(p_org_id => 'c2000000-0000-4000-8000-000000000001',
            p_caller => pg_temp.ctx('call-lock', '+13055550100'), p_appointment_id => pg_temp.id('jose')::uuid) ->> 'error',
          'verification_locked', 'locked: cancel refused');
select is(public.reschedule_appointment_atomic(p_org_id => 'c2000000-0000-4000-8000-000000000001',
            p_caller => pg_temp.ctx('call-lock', '+13055550100'), p_appointment_id => pg_temp.id('jose')::uuid,
            p_new_scheduled_at => pg_temp.at(pg_temp.day(35, 2), '12:00')) ->> 'error',
          'verification_locked', 'locked: reschedule refused');
select is(public.find_caller_appointment(p_org_id => 'c2000000-0000-4000-8000-000000000001',
            p_caller => pg_temp.ctx('call-lock', '+13055550100')) ->> 'error',
          'verification_locked', 'locked: the finder refused');
select is((select status from public.appointments where id = pg_temp.id('jose')::uuid), 'pending', 'nothing changed while locked');
select is(pg_temp.failures('call:call-lock'), 3, 'refusals while locked are not counted again');
select is(pg_temp.ids(pg_temp.find(pg_temp.ctx('call-other', '+12125550000', '+13055550100', 'José Núñez', '1980-02-03'))),
          array[pg_temp.id('jose')], 'another call from the same number is not locked');
select ok((pg_temp.book('Lock Test', '+12125550000', pg_temp.at(pg_temp.day(9, 0), '09:00'), null) ->> 'success')::boolean,
          'booking stays open to a locked call''s number');

-- Fallback key: the caller number when there is no call id -----------------------------------------------
select is(array(select pg_temp.find(pg_temp.ctx(null, '+12125550001', '+13055550100', 'José Núñez', d)) ->> 'error'
                  from unnest(array['1990-01-01', '1990-01-02', '1990-01-03', '1980-02-03']) d),
          array['verification_failed', 'verification_failed', 'verification_locked', 'verification_locked'],
          'no call id: counted on the caller number, locked after 3');
select is(pg_temp.failures('number:+12125550001'), 3, 'the counter key is number:<caller number>');
select is(pg_temp.ids(pg_temp.find(pg_temp.ctx('call-fresh', '+12125550001', '+13055550100', 'José Núñez', '1980-02-03'))),
          array[pg_temp.id('jose')], 'a request with a call id uses its own counter');
update private.caller_verification_failures set last_failed_at = now() - interval '61 minutes'
 where call_key = 'number:+12125550001';
select is(pg_temp.ids(pg_temp.find(pg_temp.ctx(null, '+12125550001', '+13055550100', 'José Núñez', '1980-02-03'))),
          array[pg_temp.id('jose')], 'a number-keyed lock ends an hour after the last failure');
-- the failures above also count on the claimed booking phone + name across calls (10 a day lock it;
-- tests/test_attack_callers.py): start that budget afresh for the rest of this file
delete from private.caller_verification_failures where call_key like 'claim:%';
select is(array(select pg_temp.find(pg_temp.ctx(null, null, '+13055550100', 'José Núñez', d)) ->> 'error'
                  from unnest(array['1990-01-01', '1990-01-02', '1990-01-03', '1990-01-04']) d),
          array['verification_failed', 'verification_failed', 'verification_failed', 'verification_failed'],
          'neither call id nor caller number: no call to count on (v2/API path), no per-call lock');

-- The finder ---------------------------------------------------------------------------------------------
create function pg_temp.cancel(p_ctx jsonb, p_id text default null, p_date date default null, p_weekday int default null,
                               p_time time default null) returns json language sql as $$
  select public.cancel_appointment(p_org_id => 'c2000000-0000-4000-8000-000000000001', p_caller => p_ctx,
    p_appointment_id => p_id::uuid, p_local_date => p_date, p_weekday => p_weekday::smallint, p_local_time => p_time) $$;
create function pg_temp.pick(p_ctx jsonb, p_id text default null, p_date date default null, p_weekday int default null,
                             p_time time default null, p_dom int default null) returns json language sql as $$
  select public.find_caller_appointment(p_org_id => 'c2000000-0000-4000-8000-000000000001', p_caller => p_ctx,
    p_appointment_id => p_id::uuid, p_local_date => p_date, p_weekday => p_weekday::smallint, p_local_time => p_time,
    p_day_of_month => p_dom::smallint) $$;
-- functions start closed (default privileges, 20261125000100_orgs.sql): open the test's own helpers
do $g$ declare f regprocedure; begin
  for f in select p.oid::regprocedure from pg_proc p where p.pronamespace = pg_my_temp_schema() loop
    execute format('grant execute on function %s to public', f);
  end loop;
end $g$;

insert into r values ('tue', pg_temp.pick(pg_temp.ctx('call-find', '+13055550100'), p_weekday => 2));
select is((select j -> 'appointment' ->> 'appointmentId' from r where k = 'tue'), pg_temp.id('jose'),
          '"the Tuesday one": the only Tuesday appointment, five weeks away');
select is((select (j ->> 'success') || '|' || (j ->> 'verifiedBy') from r where k = 'tue'), 'true|caller_id',
          'finder reply: success and verifiedBy');
insert into r values ('wed', pg_temp.pick(pg_temp.ctx('call-find', '+13055550100'), p_weekday => 3));
select is((select j ->> 'error' from r where k = 'wed'), 'ambiguous', 'two Wednesdays: ambiguous');
select is((select pg_temp.ids(j) from r where k = 'wed'), pg_temp.sorted(pg_temp.id('mary1'), pg_temp.id('mary2')),
          'ambiguous lists exactly the candidates');
select is(pg_temp.pick(pg_temp.ctx('call-find', '+13055550100'), p_weekday => 3, p_time => '11:00') -> 'appointment' ->> 'appointmentId',
          pg_temp.id('mary2'), 'weekday + local time picks one');
select is(pg_temp.pick(pg_temp.ctx('call-find', '+13055550100'), p_date => pg_temp.day(7, 3)) -> 'appointment' ->> 'appointmentId',
          pg_temp.id('mary1'), 'clinic-local date picks one');
insert into r values ('sun', pg_temp.pick(pg_temp.ctx('call-find', '+13055550100'), p_weekday => 0));
select is((select j ->> 'error' || '|' || (j ->> 'searched') from r where k = 'sun'), 'not_found|caller_id',
          'no Sunday appointment: not_found, searched caller_id');
select is((select pg_temp.ids(j) from r where k = 'sun'),
          pg_temp.sorted(pg_temp.id('jose'), pg_temp.id('mary1'), pg_temp.id('mary2'), pg_temp.id('kid')),
          'not_found carries the verified caller''s list');
select is(pg_temp.pick(pg_temp.ctx('call-find', '+13055550100')) ->> 'error', 'ambiguous', 'no hint and several: ambiguous');
insert into r values ('foreign_id', pg_temp.pick(pg_temp.ctx('call-find', '+13055550100'), p_id => pg_temp.id('quinn')));
select is((select j ->> 'error' from r where k = 'foreign_id'), 'not_found', 'another number''s appointment id: not_found');
select ok((select not (pg_temp.id('quinn') = any (pg_temp.ids(j))) and j::text not like '%Quinn%' from r where k = 'foreign_id'),
          '... and nothing of it is disclosed');
select is(pg_temp.pick(pg_temp.ctx('call-find', '+13055550100'), p_weekday => 7) ->> 'error', 'invalid_input',
          'weekday outside 0..6: invalid_input');
-- "the one on the <n>th": mary2 (14-20 days out) shares its day of the month with none of the others
-- (mary1 and kid are 1-13 days before it, jose 15-27 days after)
select is(pg_temp.pick(pg_temp.ctx('call-find', '+13055550100'),
                       p_dom => extract(day from pg_temp.day(14, 3))::int) -> 'appointment' ->> 'appointmentId',
          pg_temp.id('mary2'), 'a day of the month alone picks the one appointment on it, whichever month');
select is(pg_temp.pick(pg_temp.ctx('call-find', '+13055550100'), p_weekday => 2,
                       p_dom => extract(day from pg_temp.day(14, 3))::int) ->> 'error',
          'not_found', 'day of the month and weekday must both hold');
select is(pg_temp.pick(pg_temp.ctx('call-find', '+13055550100'), p_dom => 32) ->> 'error', 'invalid_input',
          'day of the month outside 1..31: invalid_input');

-- "Which one" by what it is for or who it is with (p_which, as said): kid's visit becomes a flu shot with Nurse Kim
insert into public.services (org_id, code, name, duration_minutes, buffer_minutes, is_default, aliases) values
  ('c2000000-0000-4000-8000-000000000001', 'vaccination', 'Vaccination', 15, 0, false, '{flu shot}');
insert into public.providers (org_id, id, display_name, short_names) values
  ('c2000000-0000-4000-8000-000000000001', 'c2000000-0000-4000-8000-0000000000e1', 'Nurse Joy Kim', '{Nurse Kim}');
insert into public.provider_services (org_id, provider_id, service_id)
select s.org_id, 'c2000000-0000-4000-8000-0000000000e1', s.id from public.services s
 where s.org_id = 'c2000000-0000-4000-8000-000000000001' and s.code = 'vaccination';
update public.appointments
   set service_id = (select id from public.services where org_id = 'c2000000-0000-4000-8000-000000000001' and code = 'vaccination'),
       provider_id = 'c2000000-0000-4000-8000-0000000000e1'
 where id = pg_temp.id('kid')::uuid;
create function pg_temp.which(p_which text, p_weekday int default null) returns json language sql as $$
  select public.find_caller_appointment(p_org_id => 'c2000000-0000-4000-8000-000000000001',
    p_caller => pg_temp.ctx('call-which', '+13055550100'), p_weekday => p_weekday::smallint, p_which => p_which) $$;
grant execute on function pg_temp.which(text, int) to public;
select is(array(select pg_temp.which(t) -> 'appointment' ->> 'appointmentId'
                  from unnest(array['the flu shot', 'the vaccination', 'flu shots', 'the one with Nurse Kim', 'Nurse Kim''s']) t),
          array_fill(pg_temp.id('kid'), array[5]),
          'p_which: its service ("the flu shot", "the vaccination") or its provider ("the one with Nurse Kim") picks the one');
select is(pg_temp.which('the consultation') ->> 'error', 'ambiguous', 'p_which: three consultations → ambiguous');
select is(pg_temp.which('the consultation', 2) -> 'appointment' ->> 'appointmentId', pg_temp.id('jose'),
          'p_which ANDs with the other hints (the Tuesday consultation)');
select is(pg_temp.which('the vaccination', 2) ->> 'error', 'not_found', 'no Tuesday vaccination: not_found');
select is(pg_temp.which('the MRI') ->> 'error', 'invalid_input', 'words that name no service or provider: invalid_input');
select is(pg_temp.which('the appointment') ->> 'error', 'invalid_input', 'only filler: not the default service, invalid_input');


-- name + DOB verified: acts on that patient only
select is(pg_temp.cancel(pg_temp.ctx('call-nd2', '+12125550000', '+13055550100', 'José Núñez', '1980-02-03'), pg_temp.id('mary1')) ->> 'error',
          'not_found', 'verified for José: a sibling''s appointment is not found');
insert into r values ('nd_cancel', pg_temp.cancel(pg_temp.ctx('call-nd2', '+12125550000', '+13055550100', 'José Núñez', '1980-02-03'), p_weekday => 2));
select is((select (j ->> 'success') || '|' || (j ->> 'appointmentId') || '|' || (j ->> 'verifiedBy') from r where k = 'nd_cancel'),
          'true|' || pg_temp.id('jose') || '|name_dob', 'verified by name + DOB: "cancel the Tuesday one" cancels it');
select is(pg_temp.cancel(pg_temp.ctx('call-nd2', '+12125550000', '+13055550100', 'José Núñez', '1980-02-03'), pg_temp.id('jose')) ->> 'error',
          'already_cancelled', 'its own cancelled appointment by id: already_cancelled');
select is(pg_temp.find(pg_temp.ctx('call-nd2', '+12125550000', '+13055550100', 'José Núñez', '1980-02-03'))::jsonb -> 'appointments',
          '[]'::jsonb, 'verified, nothing upcoming any more: success with an empty list (not a failure)');
select is(pg_temp.failures('call:call-nd2'), 0, 'a verified caller with no upcoming appointment is not a failure');
select is(pg_temp.cancel(pg_temp.ctx('call-cid2', '+13055550777')) ->> 'error' || '|' ||
          (pg_temp.cancel(pg_temp.ctx('call-cid2', '+13055550777')) ->> 'searched'), 'not_found|caller_id',
          'cancel with nothing under the calling number: not_found, searched caller_id');

-- Appointment booked without a DOB: only its own number (or staff) changes it
select is(pg_temp.cancel(pg_temp.ctx('call-kid', '+12125550000', '+13055550100', 'Kid Nodob', '2016-01-01'), pg_temp.id('kid')) ->> 'error',
          'verification_failed', 'no DOB on file: name + any DOB cannot cancel it');
select is(pg_temp.cancel(pg_temp.ctx('call-kid', '+13055550100'), pg_temp.id('kid')) ->> 'status', 'cancelled',
          'no DOB on file: its own number cancels it');

-- Reschedule through the finder
insert into r values ('mv', public.reschedule_appointment_atomic(p_org_id => 'c2000000-0000-4000-8000-000000000001',
  p_caller => pg_temp.ctx('call-mv', '+12125550000', '+13055550100', 'mary-ann o''brien', '2015-06-07'),
  p_new_scheduled_at => pg_temp.at(pg_temp.day(14, 3), '15:00'), p_weekday => 3::smallint, p_local_time => '11:00'));
select is((select (j ->> 'success') || '|' || (j ->> 'appointmentId') || '|' || (j ->> 'verifiedBy') from r where k = 'mv'),
          'true|' || pg_temp.id('mary2') || '|name_dob', 'reschedule: finder + name/DOB verification');
select is(public.reschedule_appointment_atomic(p_org_id => 'c2000000-0000-4000-8000-000000000001',
  p_caller => pg_temp.ctx('call-mv', '+12125550000', '+13055550100', 'mary-ann o''brien', '2015-06-07'),
  p_new_scheduled_at => pg_temp.at(pg_temp.day(7, 5), '09:00'), p_appointment_id => pg_temp.id('mary1')::uuid) ->> 'error',
  'slot_unavailable', 'reschedule onto another number''s slot: slot_unavailable');
select ok(public.reschedule_appointment_atomic(p_org_id => 'c2000000-0000-4000-8000-000000000001',
  p_caller => pg_temp.ctx('call-mv', '+12125550000', '+13055550100', 'mary-ann o''brien', '2015-06-07'),
  p_new_scheduled_at => pg_temp.at(pg_temp.day(7, 5), '09:00'), p_appointment_id => pg_temp.id('mary1')::uuid)::text
  not like '%Quinn%', '... which never says who holds it');

-- Staff, service_role, input ---------------------------------------------------------------------------------
select is(pg_temp.find(null) ->> 'error', 'invalid_input', 'trusted connection without a caller context: invalid_input');
set local role service_role;
set local request.jwt.claims = '{"role": "service_role"}';
select is(array[pg_temp.find(null) ->> 'error', pg_temp.cancel(null, pg_temp.id('quinn')) ->> 'error',
                pg_temp.pick(null, pg_temp.id('quinn')) ->> 'error',
                public.reschedule_appointment_atomic(p_org_id => 'c2000000-0000-4000-8000-000000000001', p_caller => null,
                  p_new_scheduled_at => now() + interval '8 days', p_appointment_id => pg_temp.id('quinn')::uuid) ->> 'error'],
          array['invalid_input', 'invalid_input', 'invalid_input', 'invalid_input'],
          'service_role without a caller context is never staff: invalid_input on lookup, cancel, finder, reschedule');
select is(pg_temp.find(pg_temp.ctx('call-svc', '+13055550200')) ->> 'verifiedBy', 'caller_id', 'service_role with a caller context: verified as any caller');
reset role;
set local request.jwt.claims = '{"sub": "d2000000-0000-4000-8000-00000000000a", "role": "authenticated"}';
set local role authenticated;
create temp table staff_r as
  select pg_temp.find(null) as lookup,
         pg_temp.cancel(null, pg_temp.id('quinn')) as cancel;
reset role;
set local request.jwt.claims = '';
select is((select (lookup ->> 'verifiedBy') || '|' || json_array_length(lookup -> 'appointments') from staff_r), 'staff|5',
          'a member without a caller context is staff and sees the clinic''s upcoming appointments');
select is((select (cancel ->> 'status') || '|' || (cancel ->> 'verifiedBy') from staff_r), 'cancelled|staff',
          'staff cancel any appointment of their clinic');

select is(pg_temp.find('["+13055550100"]') ->> 'error', 'invalid_input', 'a caller context that is not an object: invalid_input');
select is(pg_temp.find(pg_temp.ctx('call-in', '+12125550000', '+13055550100', 'José Núñez', '1980-13-01')) ->> 'error',
          'invalid_input', 'an impossible date of birth: invalid_input');
select is(pg_temp.find(pg_temp.ctx('call-in', '+12125550000', '+13055550100', 'José Núñez', '03/02/1980')) ->> 'error',
          'invalid_input', 'a date of birth not as YYYY-MM-DD: invalid_input');
select is(pg_temp.find(pg_temp.ctx('call-in', '+12125550000', '+13055550100', 'José Núñez',
            ((now() at time zone 'America/New_York')::date + 1)::text)) ->> 'error',
          'invalid_input', 'a date of birth in the future: invalid_input');
select is(pg_temp.find(pg_temp.ctx('call-in', '+12125550000', '(305) 555-0100', 'José Núñez', '1980-02-03')) ->> 'error',
          'invalid_input', 'a claimed phone not in E.164: invalid_input');
select is(pg_temp.failures('call:call-in'), 0, 'invalid input is not a failed verification');
select is(public.find_upcoming_appointments(p_org_id => 'c2000000-0000-4000-8000-0000000000ff',
            p_caller => pg_temp.ctx('call-x', '+13055550100')) ->> 'error', 'unknown_org', 'unknown org');
select is(public.find_upcoming_appointments(p_org_id => null, p_caller => pg_temp.ctx('call-x', '+13055550100')) ->> 'error',
          'invalid_input', 'no org id: invalid_input');

select * from finish();
rollback;
