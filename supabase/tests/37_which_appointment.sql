-- 37_which_appointment (issue 11 §4): which of the verified caller's own bookings is meant, by what
-- the caller calls it — a service ("the flu shot"), a provider ("the one with Nurse Kim"), a part of
-- the day ("the morning one"), an order ("the first one", "the last one") — on find, cancel and
-- reschedule (service / provider: p_which, private.which_hint; words naming neither → invalid_input,
-- before verification, for everyone alike); and a move said relative to the booking ("a week later", "the day after", "same
-- time", "an hour later", "the same time Tuesday"), computed by reschedule_appointment_atomic from the
-- locked row's clinic-local day and time; and the patient named on a shared phone ("cancel Leo's").
-- An unverified caller hears the same whatever the hint. Own clinic; dates relative to now().
begin;
select plan(42);

-- Fixture: New York, open every day 08–18; consult (default, Dr. Lee) and vaccine ("flu shot",
-- Nurse Kim). Caller P holds: a vaccine with Nurse Kim (day A 10:00), a consult with Dr. Lee (day
-- B 14:00), a consult with Dr. Lee (day C 10:00), A < B < C.
insert into public.orgs (id, name, timezone, slot_interval_minutes, min_notice_minutes, booking_horizon_days)
values ('c3700000-0000-4000-8000-000000000001', 'Test Clinic Thirty-Seven', 'America/New_York', 30, 60, 365);
insert into public.services (org_id, id, code, name, duration_minutes, buffer_minutes, is_default, aliases) values
  ('c3700000-0000-4000-8000-000000000001', 'c3700000-0000-4000-8000-0000000005c1', 'consult', 'Consultation', 30, 0, true, '{}'),
  ('c3700000-0000-4000-8000-000000000001', 'c3700000-0000-4000-8000-0000000005c2', 'vaccine', 'Vaccination', 15, 0, false, '{"flu shot"}');
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
select 'c3700000-0000-4000-8000-000000000001', d, '08:00', '18:00' from generate_series(0, 6) d;
delete from public.providers where org_id = 'c3700000-0000-4000-8000-000000000001';
insert into public.providers (org_id, id, display_name, short_names, active) values
  ('c3700000-0000-4000-8000-000000000001', 'c3700000-0000-4000-8000-0000000000d1', 'Dr. Marcus Lee', '{"Dr. Lee"}', true),
  ('c3700000-0000-4000-8000-000000000001', 'c3700000-0000-4000-8000-0000000000d2', 'Nurse Joy Kim', '{"Nurse Kim"}', true);
insert into public.provider_services (org_id, provider_id, service_id) values
  ('c3700000-0000-4000-8000-000000000001', 'c3700000-0000-4000-8000-0000000000d1', 'c3700000-0000-4000-8000-0000000005c1'),
  ('c3700000-0000-4000-8000-000000000001', 'c3700000-0000-4000-8000-0000000000d2', 'c3700000-0000-4000-8000-0000000005c2');

create function pg_temp.day(p_offset int) returns date language sql as $$
  select (now() at time zone 'America/New_York')::date + p_offset $$;
create function pg_temp.at(p_offset int, p_time time) returns timestamptz language sql as $$
  select (pg_temp.day(p_offset) + p_time) at time zone 'America/New_York' $$;
create function pg_temp.z(p_offset int, p_time time) returns text language sql as $$
  select to_char(pg_temp.at(p_offset, p_time) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;
create function pg_temp.ctx(p_number text) returns jsonb language sql as $$
  select jsonb_build_object('callId', 'call-37', 'callerNumber', p_number, 'source', 'vapi') $$;
create function pg_temp.book(p_service text, p_at timestamptz) returns json language sql as $$
  select public.book_appointment(p_org_id => 'c3700000-0000-4000-8000-000000000001', p_name => 'Wren Which',
    p_email => null, p_phone => '+13055553700', p_service => p_service, p_scheduled_at => p_at,
    p_caller => pg_temp.ctx('+13055553700')) $$;
create function pg_temp.find(p_number text, p_service text default null, p_provider text default null,
                             p_after time default null, p_before time default null, p_ordinal int default null,
                             p_weekday int default null)
returns json language sql as $$
  select public.find_caller_appointment(p_org_id => 'c3700000-0000-4000-8000-000000000001',
    p_caller => pg_temp.ctx(p_number), p_weekday => p_weekday::smallint, p_which => coalesce(p_service, p_provider),
    p_after_time => p_after, p_before_time => p_before,
    p_ordinal => p_ordinal::smallint) $$;
do $g$ declare f regprocedure; begin
  for f in select p.oid::regprocedure from pg_proc p where p.pronamespace = pg_my_temp_schema() loop
    execute format('grant execute on function %s to public', f);
  end loop;
end $g$;

create temp table r (k text primary key, j json);
insert into r values
  ('a', pg_temp.book('flu shot', pg_temp.at(20, '10:00'))),
  ('b', pg_temp.book(null, pg_temp.at(22, '14:00'))),
  ('c', pg_temp.book(null, pg_temp.at(27, '10:00')));
create function pg_temp.id(p_k text) returns text language sql as $$ select j ->> 'appointmentId' from r where k = p_k $$;
grant execute on function pg_temp.id(text) to public;

select ok((select bool_and((j ->> 'success')::boolean) from r), 'fixture: three bookings');
select is((select j -> 'provider' ->> 'name' from r where k = 'a'), 'Nurse Joy Kim', 'fixture: the vaccine is with Nurse Kim');

-- by service (the booking matcher: code, name, alias)
select is(pg_temp.find('+13055553700', 'flu shot') -> 'appointment' ->> 'appointmentId', pg_temp.id('a'), 'the flu shot (alias)');
select is(pg_temp.find('+13055553700', 'the vaccination') -> 'appointment' ->> 'appointmentId', pg_temp.id('a'), 'the vaccination (name, filler aside)');
select is(pg_temp.find('+13055553700', 'consultation') ->> 'error', 'ambiguous', 'two consultations: ask which');
select is(json_array_length(pg_temp.find('+13055553700', 'consultation') -> 'appointments'), 2, '... offering both');
select is(pg_temp.find('+13055553700', 'x-ray') ->> 'error', 'invalid_input', 'words naming no service or provider are refused (p_which)');
select is(pg_temp.find('+13055553700', 'x-ray', p_ordinal => -1) ->> 'error', 'invalid_input', '... with an ordinal too');
-- by provider
select is(pg_temp.find('+13055553700', null, 'the one with Nurse Kim') -> 'appointment' ->> 'appointmentId', pg_temp.id('a'), 'the one with Nurse Kim');
select is(pg_temp.find('+13055553700', null, 'Dr. Lee') ->> 'error', 'ambiguous', 'two with Dr. Lee: ask which');
select is(pg_temp.find('+13055553700', 'Nurse Kim') -> 'appointment' ->> 'appointmentId', pg_temp.id('a'), 'a provider said where a service is expected ("the Nurse Kim one")');
select is(pg_temp.find('+13055553700', 'Nurse Kim', p_before => '12:00') -> 'appointment' ->> 'appointmentId', pg_temp.id('a'), 'Nurse Kim''s morning one');
-- by part of the day
select is(pg_temp.find('+13055553700', p_after => '12:00', p_before => '17:00') -> 'appointment' ->> 'appointmentId', pg_temp.id('b'), 'the afternoon one');
select is(pg_temp.find('+13055553700', p_before => '12:00') ->> 'error', 'ambiguous', 'two morning ones: ask which');
-- by order, among what the other hints leave
select is(pg_temp.find('+13055553700', p_ordinal => 1) -> 'appointment' ->> 'appointmentId', pg_temp.id('a'), 'the first one');
select is(pg_temp.find('+13055553700', p_ordinal => -1) -> 'appointment' ->> 'appointmentId', pg_temp.id('c'), 'the last one');
select is(pg_temp.find('+13055553700', p_ordinal => 2) -> 'appointment' ->> 'appointmentId', pg_temp.id('b'), 'the second one');
select is(pg_temp.find('+13055553700', 'consultation', p_ordinal => 1) -> 'appointment' ->> 'appointmentId', pg_temp.id('b'), 'the first consultation');
select is(pg_temp.find('+13055553700', p_ordinal => 4) ->> 'error', 'not_found', 'past the end: none');
select is(pg_temp.find('+13055553700', p_ordinal => 0) ->> 'error', 'invalid_input', 'ordinal 0 is refused');
select is(pg_temp.find('+13055553700', p_after => '12:00', p_before => '09:00') ->> 'error', 'invalid_input', 'an empty part of the day is refused');
-- no oracle: an unverified caller hears the same whatever the hint
select is(pg_temp.find('+13055559999', 'flu shot')::jsonb, pg_temp.find('+13055559999', 'consultation', p_ordinal => 2)::jsonb,
          'a stranger: the same reply for hints that match the holder''s bookings and hints that do not');
select is(pg_temp.find('+13055559999', null, 'Nurse Kim')::jsonb, pg_temp.find('+13055559999', p_ordinal => -1)::jsonb,
          'a stranger: the same reply whatever the hint');

-- cancel by what the caller calls it
select is(public.cancel_appointment(p_org_id => 'c3700000-0000-4000-8000-000000000001', p_caller => pg_temp.ctx('+13055553700'),
            p_which => 'flu shot') ->> 'appointmentId', pg_temp.id('a'), 'cancel the flu shot');

-- reschedule relative to the booking: a week later at the same time; the day after at 11; same time on day 30
select is(public.reschedule_appointment_atomic(p_org_id => 'c3700000-0000-4000-8000-000000000001',
            p_caller => pg_temp.ctx('+13055553700'), p_new_scheduled_at => null, p_ordinal => -1::smallint,
            p_shift_days => 7, p_keep_time => true) ->> 'scheduledAt', pg_temp.z(34, '10:00'),
          'the last one, a week later, same time');
select is(public.reschedule_appointment_atomic(p_org_id => 'c3700000-0000-4000-8000-000000000001',
            p_caller => pg_temp.ctx('+13055553700'), p_new_scheduled_at => null, p_ordinal => 1::smallint,
            p_new_local_date => pg_temp.day(30), p_keep_time => true) ->> 'scheduledAt', pg_temp.z(30, '14:00'),
          'the first one (now day B), to day 30 at the same time');
select is(public.reschedule_appointment_atomic(p_org_id => 'c3700000-0000-4000-8000-000000000001',
            p_caller => pg_temp.ctx('+13055553700'), p_new_scheduled_at => null, p_ordinal => 1::smallint,
            p_shift_days => 1) ->> 'error', 'invalid_input', 'a shift with no time (nor keep the time) is refused');
select is(public.reschedule_appointment_atomic(p_org_id => 'c3700000-0000-4000-8000-000000000001',
            p_caller => pg_temp.ctx('+13055553700'), p_new_scheduled_at => null, p_ordinal => 1::smallint,
            p_shift_days => 4, p_new_local_time => '10:00') ->> 'requestedAt', pg_temp.z(34, '10:00'),
          'a refused relative move (onto the caller''s own other booking) tells back the start it worked out');

-- a move of the booked time by minutes ("an hour later", "30 minutes earlier"), on the booking's own
-- day unless one is said; a weekday with the booked time ("the same time Tuesday"): the first such
-- weekday after the booking's day. The last one (c) is at day 34 10:00.
create function pg_temp.move(p_minutes int, p_shift int default null, p_weekday int default null,
                             p_time time default null) returns jsonb language sql as $$
  select public.reschedule_appointment_atomic(p_org_id => 'c3700000-0000-4000-8000-000000000001',
    p_caller => pg_temp.ctx('+13055553700'), p_new_scheduled_at => null, p_ordinal => -1::smallint,
    p_shift_minutes => p_minutes, p_shift_days => p_shift, p_new_weekday => p_weekday::smallint,
    p_new_local_time => p_time, p_keep_time => p_minutes is null and p_time is null)::jsonb $$;
grant execute on function pg_temp.move(int, int, int, time) to public;
select is(pg_temp.move(60) ->> 'scheduledAt', pg_temp.z(34, '11:00'), 'an hour later: the same day at 11:00');
select is(pg_temp.move(-90) ->> 'scheduledAt', pg_temp.z(34, '09:30'), 'an hour and a half earlier: 9:30');
select is(pg_temp.move(30, 1) ->> 'scheduledAt', pg_temp.z(35, '10:00'), 'the day after, half an hour later');
select is(pg_temp.move(721) ->> 'error', 'invalid_input', 'a shift beyond 12 hours is refused');
select is(pg_temp.move(-600) ->> 'requestedAt', pg_temp.z(35, '00:00'),
          'ten hours earlier lands at midnight (closed): refused, telling back the start it worked out');
select is(pg_temp.move(null, p_weekday => extract(dow from pg_temp.day(38))::int) ->> 'scheduledAt', pg_temp.z(38, '10:00'),
          'the same time on a weekday: the first one after the booking''s day');
select is(pg_temp.move(null, p_weekday => extract(dow from pg_temp.day(38))::int) ->> 'scheduledAt', pg_temp.z(45, '10:00'),
          '... its own weekday: a week on');
select is(pg_temp.move(null, 1, extract(dow from pg_temp.day(38))::int) ->> 'error', 'invalid_input',
          'a shift and a weekday together are refused');

-- the patient named on a shared phone picks among the caller's bookings ("cancel Leo's")
create function pg_temp.named(p_number text, p_name text) returns jsonb language sql as $$
  select public.find_caller_appointment(p_org_id => 'c3700000-0000-4000-8000-000000000001',
    p_caller => pg_temp.ctx(p_number) || jsonb_build_object('name', p_name))::jsonb $$;
grant execute on function pg_temp.named(text, text) to public;
insert into r
select k, public.book_appointment(p_org_id => 'c3700000-0000-4000-8000-000000000001', p_name => n,
    p_email => null, p_phone => '+13055553700', p_service => null, p_scheduled_at => pg_temp.at(50, t),
    p_caller => pg_temp.ctx('+13055553700'))
  from (values ('mia', 'Mia Kid', time '10:00'), ('leo', 'Leo Kid', time '11:00')) v(k, n, t);
select is(pg_temp.named('+13055553700', 'Leo') -> 'appointment' ->> 'appointmentId', pg_temp.id('leo'), 'the first name picks Leo''s');
select is(pg_temp.named('+13055553700', 'mia kid') -> 'appointment' ->> 'appointmentId', pg_temp.id('mia'), 'the whole name, any case, picks Mia''s');
select is(json_array_length((pg_temp.named('+13055553700', 'Wren Which') -> 'appointments')::json), 2,
          'a name on two of them narrows to those two (ambiguous between them)');
select is(json_array_length((pg_temp.named('+13055553700', 'Pat Parent') -> 'appointments')::json), 4,
          'a name on none of them (the parent''s own) narrows nothing');
select is(public.cancel_appointment(p_org_id => 'c3700000-0000-4000-8000-000000000001',
            p_caller => pg_temp.ctx('+13055553700') || '{"name": "Leo"}') ->> 'appointmentId', pg_temp.id('leo'),
          'cancel Leo''s');
select is(pg_temp.named('+13055559999', 'Mia')::jsonb, pg_temp.named('+13055559999', 'Nobody Here')::jsonb,
          'a stranger: the same reply whatever name is said');

select * from finish();
rollback;
