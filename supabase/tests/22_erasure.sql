-- 22_erasure: public.erase_patient_data (20261125000550_callers.sql). Erasing one patient of a
-- shared phone, then the whole phone holder: personal data redacted in appointments, the lead, event
-- payloads, the access log and the failure counters; ids, times, statuses and row counts kept;
-- nobody else touched; service_role only.
begin;
select plan(37);

insert into auth.users (id, email) values ('d2200000-0000-4000-8000-00000000000a', 'staff@t22.example');
insert into public.orgs (id, name, timezone, min_notice_minutes, booking_horizon_days)
values ('c2200000-0000-4000-8000-000000000001', 'Erasure Clinic', 'America/Chicago', 60, 365);
insert into public.org_members (org_id, user_id, role) values
  ('c2200000-0000-4000-8000-000000000001', 'd2200000-0000-4000-8000-00000000000a', 'owner');
insert into public.services (org_id, code, name, duration_minutes, is_default)
values ('c2200000-0000-4000-8000-000000000001', 'consult', 'Consultation', 30, true);
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
select 'c2200000-0000-4000-8000-000000000001', d, '08:00', '18:00' from generate_series(0, 6) d;

create function pg_temp.at(p_days int) returns timestamptz language sql as $$
  select ((now() at time zone 'America/Chicago')::date + p_days + time '10:00') at time zone 'America/Chicago' $$;
create function pg_temp.book(p_name text, p_phone text, p_days int, p_dob date, p_email text default null) returns uuid
language sql as $$
  select (public.book_appointment(p_org_id => 'c2200000-0000-4000-8000-000000000001', p_name => p_name, p_email => p_email,
    p_phone => p_phone, p_service => null, p_scheduled_at => pg_temp.at(p_days), p_date_of_birth => p_dob,
    p_caller => jsonb_build_object('callId', 'booking-' || p_days, 'callerNumber', p_phone)) ->> 'appointmentId')::uuid $$;
create function pg_temp.ctx(p_call text, p_number text, p_phone text default null, p_name text default null,
                            p_dob text default null) returns jsonb language sql as $$
  select jsonb_strip_nulls(jsonb_build_object('callId', p_call, 'callerNumber', p_number, 'phone', p_phone,
                                              'name', p_name, 'dateOfBirth', p_dob)) $$;
create function pg_temp.find(p_ctx jsonb) returns json language sql as $$
  select public.find_upcoming_appointments('c2200000-0000-4000-8000-000000000001', p_ctx) $$;
-- the structure erasure must keep: ids, lead, times, statuses of every appointment of the clinic
create function pg_temp.structure() returns text language sql as $$
  select string_agg(row(a.id, a.lead_id, a.starts_at, a.ends_at, a.status)::text, ',' order by a.id)
    from public.appointments a where a.org_id = 'c2200000-0000-4000-8000-000000000001' $$;
create function pg_temp.log_structure() returns text language sql as $$
  select string_agg(row(l.id, l.occurred_at, l.action, l.outcome, l.verified_by, l.appointment_ids, l.call_id, l.claimed)::text, ',' order by l.id)
    from public.caller_access_log l where l.org_id = 'c2200000-0000-4000-8000-000000000001' $$;
-- functions start closed (default privileges, 20261125000100_orgs.sql): open the test's own helpers
do $g$ declare f regprocedure; begin
  for f in select p.oid::regprocedure from pg_proc p where p.pronamespace = pg_my_temp_schema() loop
    execute format('grant execute on function %s to public', f);
  end loop;
end $g$;

create temp table ids as select
  pg_temp.book('Pat Parent', '+13125550100', 5, '1970-01-01', 'pat@example.com') as parent,
  pg_temp.book('Cara Child', '+13125550100', 6, '2012-03-04') as child1,
  pg_temp.book('Cara Child', '+13125550100', 7, '2012-03-04') as child2,
  pg_temp.book('Quinn Keep', '+13125550200', 8, '1980-08-08', 'quinn@example.com') as other;
-- calls that leave personal data in the log and the counters
select pg_temp.find(pg_temp.ctx('e1', '+13125550100'));
select pg_temp.find(pg_temp.ctx('e2', '+13125559999', '+13125550100'));
select pg_temp.find(pg_temp.ctx(null, '+13125550100', '+13125550200', 'Quinn Keep', '1999-01-01'));
select pg_temp.find(pg_temp.ctx('e4', '+13125550200'));
select public.cancel_appointment(p_org_id => 'c2200000-0000-4000-8000-000000000001',
  p_caller => pg_temp.ctx('e5', '+13125550100'), p_appointment_id => (select child2 from ids));
create temp table before as select pg_temp.structure() as s, pg_temp.log_structure() as l,
  (select row(l.*)::text from public.leads l where l.phone = '+13125550200') as quinn_lead,
  (select string_agg(row(g.*)::text, ',' order by g.id) from public.caller_access_log g where g.call_id = 'e4') as quinn_log,
  (select string_agg(row(e.*)::text, ',' order by e.id) from public.appointment_events e
    where e.appointment_id = (select other from ids)) as quinn_events;

-- Refusals and privileges ----------------------------------------------------------------------------------
select is(public.erase_patient_data('c2200000-0000-4000-8000-000000000001', '312-555-0100') ->> 'error', 'invalid_input',
          'a phone not in E.164: invalid_input');
select is(public.erase_patient_data('c2200000-0000-4000-8000-000000000001', '+13125550100', '--') ->> 'error', 'invalid_input',
          'a patient name without letters: invalid_input');
select is(public.erase_patient_data('c2200000-0000-4000-8000-0000000000ff', '+13125550100') ->> 'error', 'unknown_org',
          'unknown org');
set local request.jwt.claims = '{"sub": "d2200000-0000-4000-8000-00000000000a", "role": "authenticated"}';
set local role authenticated;
select throws_ok($$select public.erase_patient_data('c2200000-0000-4000-8000-000000000001', '+13125550100')$$,
                 '42501', null, 'even the clinic''s owner cannot call it (service_role only)');
reset role;
set local request.jwt.claims = '';
select is(pg_temp.structure(), (select s from before), 'refused erasures changed nothing');

-- One patient of a shared phone ---------------------------------------------------------------------------
set local request.jwt.claims = '{"role": "service_role"}';
set local role service_role;
create temp table child_erasure as
  select public.erase_patient_data('c2200000-0000-4000-8000-000000000001', '+13125550100', '  cara CHILD ')::jsonb as j;
reset role;
set local request.jwt.claims = '';
select is((select j - 'timezone' - 'orgId' - 'events' - 'accessLog' from child_erasure),
          '{"success": true, "appointments": 2, "leads": 0, "counters": 0, "calls": 0, "callbackRequests": 0, "phoneErased": false}'::jsonb,
          'service_role erases one patient (lenient name): two appointments, the parent''s lead kept');
select is((select array_agg(patient_name || '|' || coalesce(patient_date_of_birth::text, 'no DOB') order by starts_at)
             from public.appointments where id in ((select child1 from ids), (select child2 from ids))),
          array['[erased]|no DOB', '[erased]|no DOB'], 'the child''s name and date of birth are gone');
select is((select row(patient_name, patient_date_of_birth)::text from public.appointments where id = (select parent from ids)),
          row('Pat Parent', date '1970-01-01')::text, 'the parent''s own appointment is untouched');
select is((select row(name, phone, email, erased_at)::text from public.leads
            where org_id = 'c2200000-0000-4000-8000-000000000001' and phone = '+13125550100'),
          row('Pat Parent', '+13125550100', 'pat@example.com', null::timestamptz)::text,
          'the phone holder (a different person) keeps name, phone and email');
select ok(not exists (select 1 from public.appointment_events e
                       where e.org_id = 'c2200000-0000-4000-8000-000000000001' and e.payload::text like '%Cara%'),
          'no event payload names the child any more');
select is((select array_agg(distinct g.caller_number) from public.caller_access_log g
            where g.org_id = 'c2200000-0000-4000-8000-000000000001'
              and g.appointment_ids && array[(select child1 from ids), (select child2 from ids)]),
          array['[erased]'], 'log rows that disclosed the child''s appointments no longer say who called');
select is(pg_temp.find(pg_temp.ctx('e6', '+13125559999', '+13125550100', 'Cara Child', '2012-03-04')) ->> 'error',
          'verification_failed', 'the erased patient can no longer be verified by name and date of birth');
select is(pg_temp.structure(), (select s from before), 'ids, leads, times and statuses are kept');

-- The whole phone holder ------------------------------------------------------------------------------------
-- ... who also called (the call log) and left a message
insert into public.calls (org_id, vapi_call_id, caller_number, summary, transcript, outcome, status)
values ('c2200000-0000-4000-8000-000000000001', 'call-t22', '+13125550100', 'Asked about Cara', 'Caller: Cara Child...', 'info_only', 'ended');
insert into public.callback_requests (org_id, vapi_call_id, caller_name, callback_number, reason)
values ('c2200000-0000-4000-8000-000000000001', 'call-t22', 'Cara''s parent', '+13125550100', 'Cara''s results');
create temp table log_before as select pg_temp.log_structure() as l;
set local request.jwt.claims = '{"role": "service_role"}';
set local role service_role;
create temp table full_erasure as
  select public.erase_patient_data('c2200000-0000-4000-8000-000000000001', '+13125550100')::jsonb as j;
reset role;
set local request.jwt.claims = '';
select is((select j - 'timezone' - 'orgId' - 'events' - 'accessLog' from full_erasure),
          '{"success": true, "appointments": 3, "leads": 1, "counters": 2, "calls": 1, "callbackRequests": 1, "phoneErased": true}'::jsonb,
          'the whole phone: its appointments, its lead, its failure counters (on the number, and on it as a claimed booking phone: e6)');
select ok((select (j ->> 'accessLog')::int >= 4 from full_erasure), 'and the access-log rows for that phone (count reported)');
select is((select row(caller_number, summary, transcript, outcome)::text from public.calls where vapi_call_id = 'call-t22'),
          row(null::text, null::text, null::text, 'info_only')::text,
          'the call log keeps the call and its outcome, not the number, the summary or the transcript');
select is((select count(*)::int from public.callback_requests where vapi_call_id = 'call-t22'), 0,
          'a call-back request for the number is removed');
select is((select array_agg(distinct patient_name) from public.appointments a
             join public.leads l on l.org_id = a.org_id and l.id = a.lead_id
            where a.org_id = 'c2200000-0000-4000-8000-000000000001' and l.erased_at is not null),
          array['[erased]'], 'every appointment of the erased lead is redacted');
select ok((select bool_and(patient_date_of_birth is null) from public.appointments
            where id in ((select parent from ids), (select child1 from ids), (select child2 from ids))),
          'no date of birth left');
select is((select row(l.name, l.phone, l.email, l.erased_at is not null)::text from public.leads l
            where l.id = (select lead_id from public.appointments where id = (select parent from ids))),
          (select row('[erased]', 'erased:' || a.lead_id::text, null::text, true)::text from public.appointments a
            where a.id = (select parent from ids)),
          'the lead: name [erased], phone erased:<its id>, no email, erased_at set');
select ok(not exists (select 1 from public.leads where phone = '+13125550100'), 'the phone is gone from the clinic''s leads');
select ok(not exists (select 1 from public.appointment_events e
                       where e.org_id = 'c2200000-0000-4000-8000-000000000001'
                         and e.appointment_id <> (select other from ids)
                         and (e.payload::text like '%Pat Parent%' or e.payload::text like '%13125550100%'
                              or e.payload::text like '%pat@example.com%')),
          'no event payload holds the name, phone or email');
select ok(not exists (select 1 from public.caller_access_log g
                       where g.org_id = 'c2200000-0000-4000-8000-000000000001'
                         and (g.caller_number = '+13125550100' or g.claimed_phone = '+13125550100')),
          'no access-log row holds the phone (as caller or as claimed)');
select is((select g.caller_number from public.caller_access_log g where g.call_id = 'e2'), '+13125559999',
          'the number of someone else who asked about it is not theirs to erase');
select ok(not exists (select 1 from private.caller_verification_failures
                       where call_key = 'number:+13125550100'), 'the failure counter keyed on the number is gone');
select is(pg_temp.structure(), (select s from before), 'appointment ids, leads, times and statuses still kept');
select is(pg_temp.log_structure(), (select l from log_before), 'access-log rows kept (ids, times, actions, outcomes, appointments)');
select is((select count(*)::int from public.appointment_events e where e.org_id = 'c2200000-0000-4000-8000-000000000001'),
          5, 'events kept: 4 booked + 1 cancelled');

-- Nobody else touched; life goes on ---------------------------------------------------------------------------
select is((select row(l.*)::text from public.leads l where l.phone = '+13125550200'), (select quinn_lead from before),
          'another patient''s lead is untouched');
select is((select string_agg(row(g.*)::text, ',' order by g.id) from public.caller_access_log g where g.call_id = 'e4'),
          (select quinn_log from before), 'another patient''s log rows are untouched');
select is((select string_agg(row(e.*)::text, ',' order by e.id) from public.appointment_events e
            where e.appointment_id = (select other from ids)), (select quinn_events from before),
          'another patient''s events are untouched');
select is(pg_temp.find(pg_temp.ctx('e7', '+13125550100'))::jsonb -> 'appointments', '[]'::jsonb,
          'calling from the erased number finds nothing');
select ok(pg_temp.book('Pat Parent', '+13125550100', 9, null) is not null, 'the same number can book again (a new lead)');
select is(coalesce(current_setting('clinic.erasure', true), ''), '', 'the erasure flag does not outlive the call');

-- Erasing a number that never booked still clears what the log holds about it
select is((public.erase_patient_data('c2200000-0000-4000-8000-000000000001', '+13125559999')::jsonb - 'timezone' - 'orgId'),
          '{"success": true, "appointments": 0, "leads": 0, "events": 0, "accessLog": 2, "counters": 0, "calls": 0, "callbackRequests": 0, "phoneErased": true}'::jsonb,
          'a caller who never booked: their access-log rows (two calls)');

-- The relaxed phone check is only for erased leads
select throws_ok($$insert into public.leads (org_id, name, phone) values ('c2200000-0000-4000-8000-000000000001', 'X', 'erased:nothing')$$,
                 '23514', null, 'a live lead still needs an E.164 phone');
select throws_ok($$update public.leads set phone = 'erased:' || id::text where phone = '+13125550200'$$,
                 '23514', null, '... and cannot fake an erased one without erased_at');

select * from finish();
rollback;
