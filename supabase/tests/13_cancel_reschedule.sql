-- find_upcoming_appointments, cancel_appointment, reschedule_appointment_atomic: the behaviour
-- behind a verified caller (here: caller ID). Verification itself: 20_caller_verification.sql.
begin;
select plan(34);

insert into public.orgs (id, name, timezone, slot_interval_minutes, min_notice_minutes, booking_horizon_days)
values ('c1300000-0000-4000-8000-000000000001', 'Test Clinic Thirteen', 'America/Chicago', 30, 60, 365);
insert into public.services (org_id, code, name, duration_minutes, buffer_minutes, is_default) values
  ('c1300000-0000-4000-8000-000000000001', 'consult', 'Consultation', 30, 0, true),
  ('c1300000-0000-4000-8000-000000000001', 'long', 'Long Visit', 60, 0, false);
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
select 'c1300000-0000-4000-8000-000000000001', d, '09:00', '17:00' from generate_series(1, 5) d;

create function pg_temp.day(p_offset int, p_dow int) returns date language sql as $$
  select d::date from generate_series((now() at time zone 'America/Chicago')::date + p_offset,
                                      (now() at time zone 'America/Chicago')::date + p_offset + 6, interval '1 day') d
  where extract(dow from d) = p_dow limit 1 $$;
create function pg_temp.at(p_day date, p_time time) returns timestamptz language sql as $$
  select (p_day + p_time) at time zone 'America/Chicago' $$;
create function pg_temp.iso(p_ts timestamptz) returns text language sql as $$
  select to_char(p_ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;
create function pg_temp.book(p_phone text, p_service text, p_at timestamptz) returns json language sql as $$
  select public.book_appointment_atomic_v2(
    p_org_id => 'c1300000-0000-4000-8000-000000000001', p_name => 'Pat ' || p_phone, p_email => null,
    p_phone => p_phone, p_service => p_service, p_scheduled_at => p_at) $$;
create temp table d as select pg_temp.day(14, 2) as tue, pg_temp.day(14, 2) + 1 as wed;
create temp table r (k text primary key, j json);

insert into r values ('a', pg_temp.book('+16125550001', 'consult', pg_temp.at((select tue from d), '10:00')));
insert into r values ('b', pg_temp.book('+16125550001', 'long', pg_temp.at((select wed from d), '09:00')));
insert into r values ('c', pg_temp.book('+16125550002', 'consult', pg_temp.at((select tue from d), '11:00')));
create function pg_temp.id(p_k text) returns uuid language sql as $$ select (j->>'appointmentId')::uuid from r where k = p_k $$;
-- the caller context of a call from this number
create function pg_temp.caller(p_number text) returns jsonb language sql as $$
  select jsonb_build_object('callId', 'call-13-' || p_number, 'callerNumber', p_number, 'source', 'vapi') $$;

-- find_upcoming_appointments ---------------------------------------------------------------------------
insert into r values ('find', public.find_upcoming_appointments(p_org_id => 'c1300000-0000-4000-8000-000000000001', p_caller => pg_temp.caller('+16125550001')));
select is((select json_array_length(j->'appointments') from r where k = 'find'), 2, 'two upcoming appointments for the phone');
select is((select j->'appointments'->0->>'appointmentId' from r where k = 'find'), pg_temp.id('a')::text, 'chronological');
select is((select j->'appointments'->1->'service'->>'code' from r where k = 'find'), 'long', 'service object per appointment');
select is((select j->>'timezone' from r where k = 'find'), 'America/Chicago', 'timezone');
select is((select (j->>'verifiedBy') || '|' || (j->>'searched') from r where k = 'find'), 'caller_id|caller_id',
          'verified by caller ID, searched under the caller''s number');
select is(public.find_upcoming_appointments(p_org_id => 'c1300000-0000-4000-8000-000000000001',
            p_caller => '{"callerNumber": "+16125550001", "phone": "612-555-0001"}')->>'error',
          'invalid_input', 'non-E.164 claimed phone refused');

-- cancel ---------------------------------------------------------------------------------------------
select is(public.cancel_appointment(p_org_id => 'c1300000-0000-4000-8000-000000000001', p_appointment_id => pg_temp.id('a'),
                                    p_caller => pg_temp.caller('+16125559999'))->>'error', 'not_found', 'another number''s appointment → not_found');
select is((select status from public.appointments where id = pg_temp.id('a')), 'pending', 'mismatch leaves it untouched');
select is(public.cancel_appointment(p_org_id => 'c1300000-0000-4000-8000-000000000001', p_appointment_id => gen_random_uuid(),
                                    p_caller => pg_temp.caller('+16125550001'))->>'error',
          'not_found', 'unknown id → not_found');
select is(public.cancel_appointment(p_org_id => 'c1000000-0000-4000-8000-0000000000ff', p_appointment_id => pg_temp.id('a'),
                                    p_caller => pg_temp.caller('+16125550001'))->>'error',
          'unknown_org', 'unknown org');
insert into r values ('cancel', public.cancel_appointment(p_org_id => 'c1300000-0000-4000-8000-000000000001',
                                p_appointment_id => pg_temp.id('a'), p_caller => pg_temp.caller('+16125550001'), p_reason => 'feeling better'));
select is((select (j->>'success') || '|' || (j->>'status') || '|' || (j->>'message') from r where k = 'cancel'),
          'true|cancelled|Appointment cancelled', 'cancel succeeds');
select is((select j->>'scheduledAt' from r where k = 'cancel'), pg_temp.iso(pg_temp.at((select tue from d), '10:00')), 'cancel reply has scheduledAt');
select is((select (j->'service'->>'code') || '|' || (j->>'verifiedBy') || '|' || (j->>'timezone') from r where k = 'cancel'),
          'consult|caller_id|America/Chicago', 'cancel reply has service, verifiedBy and timezone');
select is((select status from public.appointments where id = pg_temp.id('a')), 'cancelled', 'row cancelled');
select is((select payload->>'reason' from public.appointment_events where appointment_id = pg_temp.id('a') and kind = 'cancelled'),
          'feeling better', 'cancelled event written with reason');
select is(public.cancel_appointment(p_org_id => 'c1300000-0000-4000-8000-000000000001', p_appointment_id => pg_temp.id('a'),
                                    p_caller => pg_temp.caller('+16125550001'))->>'error',
          'already_cancelled', 'second cancel → already_cancelled');
select is(pg_temp.book('+16125550003', 'consult', pg_temp.at((select tue from d), '10:00'))->>'success', 'true', 'slot free again after cancel');
select is(json_array_length(public.find_upcoming_appointments(p_org_id => 'c1300000-0000-4000-8000-000000000001', p_caller => pg_temp.caller('+16125550001'))->'appointments'),
          1, 'cancelled appointment no longer upcoming');

-- reschedule -------------------------------------------------------------------------------------------
-- b: long 09:00–10:00 on Wednesday. Move by 30 minutes overlapping its own slot: no self-conflict.
insert into r values ('mv1', public.reschedule_appointment_atomic(p_org_id => 'c1300000-0000-4000-8000-000000000001',
                             p_appointment_id => pg_temp.id('b'), p_new_scheduled_at => pg_temp.at((select wed from d), '09:30'),
                             p_caller => pg_temp.caller('+16125550001')));
select is((select j->>'success' from r where k = 'mv1'), 'true', 'reschedule overlapping its own slot succeeds');
select is((select (j->>'scheduledAt') || '|' || (j->>'previousScheduledAt') || '|' || (j->>'endsAt') from r where k = 'mv1'),
          pg_temp.iso(pg_temp.at((select wed from d), '09:30')) || '|' || pg_temp.iso(pg_temp.at((select wed from d), '09:00'))
          || '|' || pg_temp.iso(pg_temp.at((select wed from d), '10:30')), 'new, previous and end times');
select is((select j->>'appointmentId' from r where k = 'mv1'), pg_temp.id('b')::text, 'same appointment id (moved in place)');
select is((select j->>'verifiedBy' from r where k = 'mv1'), 'caller_id', 'reschedule reply has verifiedBy');
select is((select count(*)::int from public.appointments where org_id = 'c1300000-0000-4000-8000-000000000001' and lead_id =
            (select lead_id from public.appointments where id = pg_temp.id('b'))), 2, 'no new row');
select is((select (payload->>'previousStartsAt') || '|' || (payload->>'startsAt') from public.appointment_events
           where appointment_id = pg_temp.id('b') and kind = 'rescheduled'),
          pg_temp.iso(pg_temp.at((select wed from d), '09:00')) || '|' || pg_temp.iso(pg_temp.at((select wed from d), '09:30')),
          'rescheduled event with old and new times');
select is(pg_temp.book('+16125550004', 'consult', pg_temp.at((select wed from d), '09:00'))->>'success', 'true', 'old slot is free');

-- conflict: move b onto c (Tue 11:00)
insert into r values ('mv2', public.reschedule_appointment_atomic(p_org_id => 'c1300000-0000-4000-8000-000000000001',
                             p_appointment_id => pg_temp.id('b'), p_new_scheduled_at => pg_temp.at((select tue from d), '10:30'),
                             p_caller => pg_temp.caller('+16125550001')));
select is((select j->>'error' from r where k = 'mv2'), 'slot_unavailable', 'moving onto a taken slot refused');
select is((select json_array_length(j->'alternatives') from r where k = 'mv2'), 3, 'with 3 alternatives');
select is((select j->'service'->>'code' from r where k = 'mv2'), 'long', 'for the appointment''s own service');
select is((select starts_at from public.appointments where id = pg_temp.id('b')), pg_temp.at((select wed from d), '09:30'), 'original untouched');
select is((select count(*)::int from public.appointment_events where appointment_id = pg_temp.id('b')), 2, 'no event for the refused move');
select is(public.reschedule_appointment_atomic(p_org_id => 'c1300000-0000-4000-8000-000000000001', p_appointment_id => pg_temp.id('b'),
            p_new_scheduled_at => pg_temp.at((select wed from d), '16:30'), p_caller => pg_temp.caller('+16125550001'))->>'error',
          'ends_after_closing', 'validator shared with booking (an hour-long visit at 16:30 does not fit before 17:00)');
select is(public.reschedule_appointment_atomic(p_org_id => 'c1300000-0000-4000-8000-000000000001', p_appointment_id => pg_temp.id('b'),
            p_new_scheduled_at => pg_temp.at((select wed from d), '14:00'), p_caller => pg_temp.caller('+16125550002'))->>'error',
          'not_found', 'another number''s appointment → not_found');
select is(public.reschedule_appointment_atomic(p_org_id => 'c1300000-0000-4000-8000-000000000001', p_appointment_id => pg_temp.id('a'),
            p_new_scheduled_at => pg_temp.at((select wed from d), '14:00'), p_caller => pg_temp.caller('+16125550001'))->>'error',
          'already_cancelled', 'cancelled cannot be rescheduled');
select is(public.reschedule_appointment_atomic(p_org_id => 'c1300000-0000-4000-8000-000000000001', p_appointment_id => pg_temp.id('b'),
            p_new_scheduled_at => now() - interval '1 hour', p_caller => pg_temp.caller('+16125550001'))->>'error',
          'in_past', 'in_past on reschedule');

select * from finish();
rollback;
