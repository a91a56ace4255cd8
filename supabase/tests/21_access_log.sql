-- 21_access_log: public.caller_access_log (20261125000550_callers.sql). One row per call of
-- lookup / finder / cancel / reschedule / book, refusals included; what each row records (and never:
-- the claimed name or date of birth); members read their own clinic's rows; nobody inserts, updates,
-- deletes or truncates it directly — not members, not service_role, not the table owner.
begin;
select plan(47);

insert into auth.users (id, email) values
  ('d2100000-0000-4000-8000-00000000000a', 'staff.a@t21.example'),
  ('d2100000-0000-4000-8000-00000000000b', 'staff.b@t21.example');
insert into public.orgs (id, name, timezone, min_notice_minutes, booking_horizon_days) values
  ('c2100000-0000-4000-8000-00000000000a', 'Log Clinic A', 'Europe/Berlin', 60, 365),
  ('c2100000-0000-4000-8000-00000000000b', 'Log Clinic B', 'Europe/Berlin', 60, 365);
insert into public.org_members (org_id, user_id, role) values
  ('c2100000-0000-4000-8000-00000000000a', 'd2100000-0000-4000-8000-00000000000a', 'staff'),
  ('c2100000-0000-4000-8000-00000000000b', 'd2100000-0000-4000-8000-00000000000b', 'staff');
insert into public.services (org_id, code, name, duration_minutes, is_default)
select o, 'consult', 'Consultation', 30, true
  from unnest(array['c2100000-0000-4000-8000-00000000000a', 'c2100000-0000-4000-8000-00000000000b']::uuid[]) o;
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
select o, d, '08:00', '18:00'
  from unnest(array['c2100000-0000-4000-8000-00000000000a', 'c2100000-0000-4000-8000-00000000000b']::uuid[]) o,
       generate_series(0, 6) d;

create function pg_temp.at(p_days int, p_time time) returns timestamptz language sql as $$
  select ((now() at time zone 'Europe/Berlin')::date + p_days + p_time) at time zone 'Europe/Berlin' $$;
create temp table r (k text primary key, j json);
grant select on r to authenticated, service_role;
create function pg_temp.id(p_k text) returns uuid language sql as $$ select (j ->> 'appointmentId')::uuid from r where k = p_k $$;
create function pg_temp.log_count() returns int language sql as $$
  select count(*)::int from public.caller_access_log where org_id = 'c2100000-0000-4000-8000-00000000000a' $$;
create function pg_temp.last_log() returns public.caller_access_log language sql as $$
  select * from public.caller_access_log where org_id = 'c2100000-0000-4000-8000-00000000000a' order by id desc limit 1 $$;
-- runs one statement; its SQLSTATE, or 'ok'
create function pg_temp.try(p_sql text) returns text language plpgsql as $$
begin
  execute p_sql;
  return 'ok';
exception when others then
  return sqlstate;
end $$;
-- functions start closed (default privileges, 20261125000100_orgs.sql): open the test's own helpers
do $g$ declare f regprocedure; begin
  for f in select p.oid::regprocedure from pg_proc p where p.pronamespace = pg_my_temp_schema() loop
    execute format('grant execute on function %s to public', f);
  end loop;
end $g$;

-- One row per call, refusals included ------------------------------------------------------------------
insert into r values ('book', public.book_appointment(p_org_id => 'c2100000-0000-4000-8000-00000000000a',
  p_name => 'Anna Schmidt', p_email => null, p_phone => '+4915112345678', p_service => null,
  p_scheduled_at => pg_temp.at(10, '10:00'), p_date_of_birth => '1975-04-05',
  p_caller => '{"callId": "call-a1", "callerNumber": "+4915112345678", "source": "vapi"}'));
select is(pg_temp.log_count(), 1, 'book: one row');
select is((select row(l.action, l.outcome, l.verified_by, l.appointment_ids, l.call_id, l.caller_number, l.source)::text
             from pg_temp.last_log() l),
          row('book', 'booked', 'caller_id', array[pg_temp.id('book')], 'call-a1', '+4915112345678', 'vapi')::text,
          'book row: action, outcome, verified_by (own number), appointment, call id, caller number, source');

select public.book_appointment_atomic_v2(p_org_id => 'c2100000-0000-4000-8000-00000000000a', p_name => 'Bodo',
  p_email => null, p_phone => '+4915100000001', p_service => null, p_scheduled_at => pg_temp.at(10, '10:00'));
select is((select row(l.action, l.outcome, l.verified_by, l.appointment_ids, l.call_id, l.source)::text from pg_temp.last_log() l),
          row('book', 'refused', null::text, '{}'::uuid[], null::text, 'api')::text,
          'a refused v2 booking (slot taken) is logged too, without caller context, disclosing nothing');
select is(pg_temp.log_count(), 2, 'v2 wrapper: one row');

select public.find_upcoming_appointments('c2100000-0000-4000-8000-00000000000a', '{"callId": "call-a2", "callerNumber": "+4915112345678"}');
select is((select row(l.action, l.outcome, l.verified_by, l.appointment_ids)::text from pg_temp.last_log() l),
          row('lookup', 'disclosed', 'caller_id', array[pg_temp.id('book')])::text, 'lookup row: what was disclosed');
select public.find_upcoming_appointments('c2100000-0000-4000-8000-00000000000a', '{"callId": "call-a3", "callerNumber": "+4915100000099"}');
select is((select row(l.action, l.outcome, l.verified_by, l.appointment_ids)::text from pg_temp.last_log() l),
          row('lookup', 'not_found', 'caller_id', '{}'::uuid[])::text, 'empty lookup row: not_found');
select public.find_upcoming_appointments('c2100000-0000-4000-8000-00000000000a',
  '{"callId": "call-a4", "callerNumber": "+4930111111", "phone": "+4915112345678"}');
select is((select row(l.action, l.outcome, l.verified_by, l.appointment_ids, l.claimed_phone, l.claimed)::text from pg_temp.last_log() l),
          row('lookup', 'verification_required', null::text, '{}'::uuid[], '+4915112345678', array['phone'])::text,
          'verification_required row: the claimed phone and which parts were claimed');
select public.find_upcoming_appointments('c2100000-0000-4000-8000-00000000000a',
  '{"callId": "call-a4", "callerNumber": "+4930111111", "phone": "+4915112345678", "name": "Anna Schmidt", "dateOfBirth": "1975-04-05"}');
select is((select row(l.outcome, l.verified_by, l.appointment_ids, l.claimed)::text from pg_temp.last_log() l),
          row('disclosed', 'name_dob', array[pg_temp.id('book')], array['phone', 'name', 'dateOfBirth'])::text,
          'name + DOB row: verified_by name_dob');
select ok((select to_jsonb(l)::text not like '%Anna%' and to_jsonb(l)::text not like '%1975%' from pg_temp.last_log() l),
          'the row holds neither the claimed name nor the date of birth');
select is(pg_temp.log_count(), 6, 'four lookups: four rows');

-- three failures in one call: two failed, the third failed-and-locked, then locked
select public.find_upcoming_appointments('c2100000-0000-4000-8000-00000000000a',
  jsonb_build_object('callId', 'call-a5', 'callerNumber', '+4930111111', 'phone', '+4915112345678', 'name', 'Anna Schmidt', 'dateOfBirth', d))
  from unnest(array['1975-04-06', '1975-04-07', '1975-04-08', '1975-04-05']) d;
select is(array(select l.outcome from public.caller_access_log l
                 where l.org_id = 'c2100000-0000-4000-8000-00000000000a' and l.call_id = 'call-a5' order by l.id),
          array['verification_failed', 'verification_failed', 'verification_failed', 'verification_locked'],
          'the attempt that locks the call is recorded as the failure it was; later ones as locked');
select ok(not exists (select 1 from public.caller_access_log l
                       where l.org_id = 'c2100000-0000-4000-8000-00000000000a'
                         and (to_jsonb(l)::text like '%Anna%' or to_jsonb(l)::text like '%1975%')),
          'no row anywhere holds a claimed name or date of birth');

-- finder, cancel, reschedule: one row each, also when refused
insert into r values ('b2', public.book_appointment(p_org_id => 'c2100000-0000-4000-8000-00000000000a',
  p_name => 'Anna Schmidt', p_email => null, p_phone => '+4915112345678', p_service => null,
  p_scheduled_at => pg_temp.at(11, '10:00'), p_date_of_birth => '1975-04-05'));
select public.find_caller_appointment(p_org_id => 'c2100000-0000-4000-8000-00000000000a',
  p_caller => '{"callId": "call-a6", "callerNumber": "+4915112345678"}');
select is((select row(l.action, l.outcome, l.appointment_ids)::text from pg_temp.last_log() l),
          row('lookup', 'ambiguous', (select array_agg(x order by x) from unnest(array[pg_temp.id('book'), pg_temp.id('b2')]) x))::text,
          'finder: ambiguous row lists the candidates it disclosed');
select public.cancel_appointment(p_org_id => 'c2100000-0000-4000-8000-00000000000a',
  p_caller => '{"callId": "call-a6", "callerNumber": "+4915112345678"}', p_appointment_id => pg_temp.id('b2'), p_reason => 'moving away');
select is((select row(l.action, l.outcome, l.verified_by, l.appointment_ids)::text from pg_temp.last_log() l),
          row('cancel', 'changed', 'caller_id', array[pg_temp.id('b2')])::text, 'cancel row: changed');
select public.cancel_appointment(p_org_id => 'c2100000-0000-4000-8000-00000000000a',
  p_caller => '{"callId": "call-a6", "callerNumber": "+4915112345678"}', p_appointment_id => pg_temp.id('b2'));
select is((select row(l.action, l.outcome)::text from pg_temp.last_log() l), row('cancel', 'refused')::text,
          'already_cancelled: cancel row refused');
select public.reschedule_appointment_atomic(p_org_id => 'c2100000-0000-4000-8000-00000000000a',
  p_caller => '{"callId": "call-a6", "callerNumber": "+4915112345678"}', p_new_scheduled_at => pg_temp.at(12, '11:00'));
select is((select row(l.action, l.outcome, l.appointment_ids)::text from pg_temp.last_log() l),
          row('reschedule', 'changed', array[pg_temp.id('book')])::text, 'reschedule row: changed');
select public.reschedule_appointment_atomic(p_org_id => 'c2100000-0000-4000-8000-00000000000a',
  p_caller => '{"callId": "call-a6", "callerNumber": "+4915112345678"}', p_new_scheduled_at => now() - interval '1 day');
select is((select row(l.action, l.outcome, l.appointment_ids)::text from pg_temp.last_log() l),
          row('reschedule', 'refused', '{}'::uuid[])::text, 'slot refusal: reschedule row refused');
select public.cancel_appointment(p_org_id => 'c2100000-0000-4000-8000-00000000000a',
  p_caller => '{"callId": "call-a6", "callerNumber": "+4915112345678"}', p_weekday => 9::smallint);
select is((select row(l.action, l.outcome)::text from pg_temp.last_log() l), row('cancel', 'refused')::text,
          'invalid_input: cancel row refused');
select is(pg_temp.log_count(), 17, 'every call so far left exactly one row');

-- nothing for an org the caller may not act for
select public.cancel_appointment(p_org_id => 'c2100000-0000-4000-8000-0000000000ff',
  p_caller => '{"callId": "call-x", "callerNumber": "+4915112345678"}');
select is((select count(*)::int from public.caller_access_log where org_id = 'c2100000-0000-4000-8000-0000000000ff'), 0,
          'unknown org: no row');

-- a huge call id is clamped
select public.find_upcoming_appointments('c2100000-0000-4000-8000-00000000000a',
  jsonb_build_object('callId', repeat('x', 8192), 'callerNumber', '+4915112345678'));
select is((select length(l.call_id) from pg_temp.last_log() l), 200, 'an 8 KB call id is stored clamped to 200 characters');

-- staff: actor recorded
set local request.jwt.claims = '{"sub": "d2100000-0000-4000-8000-00000000000a", "role": "authenticated"}';
set local role authenticated;
select public.find_caller_appointment(p_org_id => 'c2100000-0000-4000-8000-00000000000a', p_caller => null,
  p_appointment_id => (select (j ->> 'appointmentId')::uuid from r where k = 'book'));
-- members read their clinic's rows (and only those)
create temp table member_view as
  select (select count(*)::int from public.caller_access_log) as seen,
         (select count(*)::int from public.caller_access_log where org_id <> 'c2100000-0000-4000-8000-00000000000a') as foreign_rows,
         (select row(l.outcome, l.verified_by, l.actor_user_id)::text from public.caller_access_log l order by l.id desc limit 1) as last_row;
reset role;
select is((select last_row from member_view),
          row('disclosed', 'staff', 'd2100000-0000-4000-8000-00000000000a'::uuid)::text, 'staff row: verified_by staff, actor recorded');
select is((select seen from member_view), pg_temp.log_count(), 'a member reads every row of their clinic');
select is((select foreign_rows from member_view), 0, 'and none of another clinic');
set local request.jwt.claims = '{"sub": "d2100000-0000-4000-8000-00000000000b", "role": "authenticated"}';
set local role authenticated;
create temp table member_b_view as select count(*)::int as seen from public.caller_access_log;
reset role;
select is((select seen from member_b_view), 0, 'a member of clinic B sees nothing of clinic A''s log');

-- Nobody edits it --------------------------------------------------------------------------------------------
set local request.jwt.claims = '{"sub": "d2100000-0000-4000-8000-00000000000a", "role": "authenticated"}';
set local role authenticated;
create temp table member_try as select
  pg_temp.try($$insert into public.caller_access_log (org_id, action, outcome) values ('c2100000-0000-4000-8000-00000000000a', 'lookup', 'disclosed')$$) as ins,
  pg_temp.try($$update public.caller_access_log set caller_number = null where org_id = 'c2100000-0000-4000-8000-00000000000a'$$) as upd,
  pg_temp.try($$delete from public.caller_access_log where org_id = 'c2100000-0000-4000-8000-00000000000a'$$) as del,
  pg_temp.try($$truncate public.caller_access_log$$) as trunc,
  pg_temp.try($$select nextval('public.caller_access_log_id_seq')$$) as seq;
reset role;
select is((select ins from member_try), '42501', 'member: insert refused (42501)');
select is((select upd from member_try), '42501', 'member: update refused (42501)');
select is((select del from member_try), '42501', 'member: delete refused (42501)');
select is((select trunc from member_try), '42501', 'member: truncate refused (42501)');
select is((select seq from member_try), '42501', 'member: the log''s sequence is out of reach');

set local request.jwt.claims = '{"role": "service_role"}';
set local role service_role;
create temp table service_try as select
  pg_temp.try($$insert into public.caller_access_log (org_id, action, outcome) values ('c2100000-0000-4000-8000-00000000000a', 'lookup', 'disclosed')$$) as ins,
  pg_temp.try($$update public.caller_access_log set outcome = 'refused' where org_id = 'c2100000-0000-4000-8000-00000000000a'$$) as upd,
  pg_temp.try($$delete from public.caller_access_log where org_id = 'c2100000-0000-4000-8000-00000000000a'$$) as del,
  pg_temp.try($$truncate public.caller_access_log$$) as trunc,
  (select count(*)::int from public.caller_access_log where org_id = 'c2100000-0000-4000-8000-00000000000a') as seen;
reset role;
set local request.jwt.claims = '';
select is((select ins from service_try), '42501', 'service_role: insert refused (42501)');
select is((select upd from service_try), '42501', 'service_role: update refused (42501)');
select is((select del from service_try), '42501', 'service_role: delete refused (42501)');
select is((select trunc from service_try), '42501', 'service_role: truncate refused (42501)');
select is((select seen from service_try), pg_temp.log_count(), 'service_role reads the log');

-- the owner (dashboard SQL editor, migrations) is stopped by the trigger
select is(pg_temp.try($$update public.caller_access_log set outcome = 'refused' where org_id = 'c2100000-0000-4000-8000-00000000000a'$$),
          '42501', 'table owner: update refused by the trigger');
select is(pg_temp.try($$delete from public.caller_access_log where org_id = 'c2100000-0000-4000-8000-00000000000a'$$),
          '42501', 'table owner: delete refused by the trigger');
select is(pg_temp.try($$truncate public.caller_access_log$$), '42501', 'table owner: truncate refused by the trigger');
set local clinic.erasure = 'on';  -- what public.erase_patient_data sets for its own transaction
select is(pg_temp.try($$update public.caller_access_log set caller_number = caller_number where org_id = 'c2100000-0000-4000-8000-00000000000a'$$),
          'ok', 'under the erasure flag the personal columns may be redacted');
select is(pg_temp.try($$update public.caller_access_log set outcome = 'refused' where org_id = 'c2100000-0000-4000-8000-00000000000a'$$),
          '42501', 'even under the erasure flag nothing else may change');
select is(pg_temp.try($$delete from public.caller_access_log where org_id = 'c2100000-0000-4000-8000-00000000000a'$$),
          '42501', 'and nothing may be deleted');
set local clinic.erasure = '';
select is(pg_temp.log_count(), 19, 'all rows are still there');

-- Privileges at a glance
select is(array(select p from unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
                 where has_table_privilege('authenticated', 'public.caller_access_log', p)),
          array['SELECT'], 'authenticated: SELECT only (RLS: own clinic)');
select is(array(select p from unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) p
                 where has_table_privilege('anon', 'public.caller_access_log', p)),
          '{}'::text[], 'anon: nothing');
select is(array(select p from unnest(array['USAGE', 'SELECT', 'UPDATE']) p
                 where has_sequence_privilege('anon', 'public.caller_access_log_id_seq', p)
                    or has_sequence_privilege('authenticated', 'public.caller_access_log_id_seq', p)
                    or has_sequence_privilege('service_role', 'public.caller_access_log_id_seq', p)),
          '{}'::text[], 'no API role may touch the log''s sequence');
select ok(not has_table_privilege('authenticated', 'private.caller_verification_failures', 'SELECT')
          and not has_table_privilege('service_role', 'private.caller_verification_failures', 'SELECT'),
          'the failure counter is private');
select ok((select relrowsecurity from pg_class where oid = 'public.caller_access_log'::regclass), 'RLS is on');

select * from finish();
rollback;
