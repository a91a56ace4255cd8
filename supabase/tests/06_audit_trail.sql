-- 06_audit_trail: the outbox is written by the trigger on appointments, for every change of a tracked
-- column whoever makes it (an RPC, a member through PostgREST, postgres in Studio or psql), records
-- who acted (an end user as the user of their JWT, whatever they claim), the call id and the reason
-- from the transaction's audit context, carries ids and times but no personal data, and survives
-- the appointment. Members cannot delete appointments nor write events.
begin;
select plan(38);

insert into auth.users (id, email) values
  ('a0600000-0000-4000-8000-000000000001', 'member@t06.example'),
  ('b0600000-0000-4000-8000-000000000001', 'other@t06.example');
insert into public.orgs (id, name, timezone, min_notice_minutes) values
  ('c0600000-0000-4000-8000-00000000000a', 'T06 Clinic A', 'America/New_York', 0),
  ('c0600000-0000-4000-8000-00000000000b', 'T06 Clinic B', 'America/New_York', 0);
insert into public.org_members (org_id, user_id, role) values
  ('c0600000-0000-4000-8000-00000000000a', 'a0600000-0000-4000-8000-000000000001', 'staff'),
  ('c0600000-0000-4000-8000-00000000000b', 'b0600000-0000-4000-8000-000000000001', 'owner');
insert into public.services (org_id, id, code, name, duration_minutes, is_default)
select o, s.id, s.code, s.name, 30, s.code = 'consult'
  from unnest(array['c0600000-0000-4000-8000-00000000000a', 'c0600000-0000-4000-8000-00000000000b']::uuid[]) o,
       (values ('00000101-0000-4000-8000-000000000000'::uuid, 'consult', 'Consultation'),
               ('00000102-0000-4000-8000-000000000000'::uuid, 'checkup', 'Checkup')) s(id, code, name);
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
select o, d, '00:00', '24:00'
  from unnest(array['c0600000-0000-4000-8000-00000000000a', 'c0600000-0000-4000-8000-00000000000b']::uuid[]) o,
       generate_series(0, 6) d;
insert into public.leads (org_id, id, name, phone, email) values
  ('c0600000-0000-4000-8000-00000000000a', '00000501-0000-4000-8000-00000000000a', 'Ada Lovelace', '+15550006001', 'ada@t06.example');

create function pg_temp.at(p_days int, p_hour int) returns timestamptz language sql stable as $$
  select date_trunc('day', now()) + make_interval(days => p_days, hours => p_hour) $$;
create function pg_temp.events(p_appointment uuid) returns setof public.appointment_events language sql stable as $$
  select * from public.appointment_events e where e.appointment_id = p_appointment order by e.id $$;
create function pg_temp.last_event(p_appointment uuid) returns public.appointment_events language sql stable as $$
  select * from public.appointment_events e where e.appointment_id = p_appointment order by e.id desc limit 1 $$;
create function pg_temp.sqlstate_of(p_sql text) returns text language plpgsql as $f$
begin
  execute p_sql;
  return 'ok';
exception when others then
  return sqlstate;
end $f$;
create temp table res (k text primary key, v text);
grant select, insert on res to authenticated, anon, service_role;
-- functions created now grant no EXECUTE to PUBLIC (05_privilege_inventory): grant what the roles use
grant execute on function pg_temp.sqlstate_of(text), pg_temp.at(int, int) to authenticated, anon, service_role;

-- ---------------------------------------------------------------------------------------------
-- The trigger
-- ---------------------------------------------------------------------------------------------
select is(
  (select array_agg(t.tgname::text) from pg_trigger t
    where t.tgrelid = 'public.appointments'::regclass and not t.tgisinternal
      and t.tgfoid = 'private.record_appointment_event()'::regprocedure),
  array['appointments_record_event'], 'appointments has the trigger appointments_record_event');
-- tgtype bits: 1 row, 2 before, 4 insert, 8 delete, 16 update
select is(
  (select (tgtype & 1 <> 0) and (tgtype & 2 = 0) and (tgtype & 4 <> 0) and (tgtype & 8 <> 0) and (tgtype & 16 <> 0)
     from pg_trigger where tgrelid = 'public.appointments'::regclass and tgname = 'appointments_record_event'),
  true, 'it fires for each row after insert, delete and update (of any column: the function decides)');
select is_definer('private', 'record_appointment_event', array[]::name[],
                  'the trigger function is security definer (members may not write events themselves)');

-- ---------------------------------------------------------------------------------------------
-- As postgres (Studio, psql): insert, tracked and untracked updates, all recorded
-- ---------------------------------------------------------------------------------------------
insert into public.appointments (org_id, id, lead_id, service_id, patient_name, starts_at, ends_at, blocked) values
  ('c0600000-0000-4000-8000-00000000000a', '00000601-0000-4000-8000-00000000000a', '00000501-0000-4000-8000-00000000000a',
   '00000101-0000-4000-8000-000000000000', 'Ada Lovelace', pg_temp.at(5, 14), pg_temp.at(5, 14) + interval '30 minutes',
   tstzrange(pg_temp.at(5, 14), pg_temp.at(5, 14) + interval '30 minutes'));
select is((select kind || '|' || (payload->>'actor') from pg_temp.last_event('00000601-0000-4000-8000-00000000000a')),
          'booked|role:postgres', 'a direct insert as postgres is a booked event by role:postgres');
select is((select payload - 'actor' from pg_temp.last_event('00000601-0000-4000-8000-00000000000a')),
          jsonb_build_object('appointmentId', '00000601-0000-4000-8000-00000000000a', 'leadId', '00000501-0000-4000-8000-00000000000a',
                             'serviceId', '00000101-0000-4000-8000-000000000000',
                             'providerId', (select p.id from public.providers p where p.org_id = 'c0600000-0000-4000-8000-00000000000a'),
                             'startsAt', to_char(pg_temp.at(5, 14) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                             'endsAt', to_char((pg_temp.at(5, 14) + interval '30 minutes') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                             'status', 'pending', 'source', 'api'),
          'the payload: ids (incl. the provider the one-provider clinic filled in), times, status and source');

update public.appointments set patient_name = 'Ada King' where id = '00000601-0000-4000-8000-00000000000a';
select is((select count(*)::int from pg_temp.events('00000601-0000-4000-8000-00000000000a')), 1,
          'an update of an untracked column (patient_name) is no event');

update public.appointments set status = 'confirmed' where id = '00000601-0000-4000-8000-00000000000a';
select is((select kind || '|' || (payload->>'status') || '|' || (payload->>'previousStatus') || '|' || (payload->'changed')::text
             from pg_temp.last_event('00000601-0000-4000-8000-00000000000a')),
          'updated|confirmed|pending|["status"]', 'a direct status change as postgres is an updated event with the previous status');

update public.appointments
   set starts_at = pg_temp.at(6, 9), ends_at = pg_temp.at(6, 9) + interval '30 minutes',
       blocked = tstzrange(pg_temp.at(6, 9), pg_temp.at(6, 9) + interval '30 minutes')
 where id = '00000601-0000-4000-8000-00000000000a';
select is((select kind || '|' || (payload->>'previousStartsAt') || '|' || (payload->>'startsAt')
             from pg_temp.last_event('00000601-0000-4000-8000-00000000000a')),
          'rescheduled|' || to_char(pg_temp.at(5, 14) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || '|'
                         || to_char(pg_temp.at(6, 9) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
          'a direct time change is a rescheduled event with the previous start');

update public.appointments set service_id = '00000102-0000-4000-8000-000000000000' where id = '00000601-0000-4000-8000-00000000000a';
select is((select kind || '|' || (payload->>'previousServiceId') || '|' || (payload->>'serviceId')
             from pg_temp.last_event('00000601-0000-4000-8000-00000000000a')),
          'updated|00000101-0000-4000-8000-000000000000|00000102-0000-4000-8000-000000000000',
          'a service change is an updated event with the previous service');

-- moving it to another provider (issue 10): provider_id is tracked; a change of provider is a reschedule
insert into public.providers (org_id, id, display_name)
values ('c0600000-0000-4000-8000-00000000000a', '00000801-0000-4000-8000-00000000000a', 'T06 Second Provider');
update public.appointments set provider_id = '00000801-0000-4000-8000-00000000000a'
 where id = '00000601-0000-4000-8000-00000000000a';
select is((select kind || '|' || (payload->>'previousProviderId') || '|' || (payload->>'providerId') || '|' || (payload->'changed')::text
             from pg_temp.last_event('00000601-0000-4000-8000-00000000000a')),
          'rescheduled|' || (select p.id::text from public.providers p
                              where p.org_id = 'c0600000-0000-4000-8000-00000000000a' and p.display_name = 'T06 Clinic A')
                         || '|00000801-0000-4000-8000-00000000000a|["provider_id"]',
          'a provider change is a rescheduled event with the previous provider');

-- an operator's hand-made change with an audit context
select private.set_audit_context('operator:jane', 'call-4711', 'patient asked by e-mail');
update public.appointments set status = 'completed' where id = '00000601-0000-4000-8000-00000000000a';
select is((select (payload->>'actor') || '|' || (payload->>'callId') || '|' || (payload->>'reason')
             from pg_temp.last_event('00000601-0000-4000-8000-00000000000a')),
          'operator:jane|call-4711|patient asked by e-mail', 'the audit context names actor, call and reason');
select private.set_audit_context(null);
update public.appointments set status = 'confirmed' where id = '00000601-0000-4000-8000-00000000000a';
select is((select (payload->>'actor') || '|' || coalesce(payload->>'callId', '-') || '|' || coalesce(payload->>'reason', '-')
             from pg_temp.last_event('00000601-0000-4000-8000-00000000000a')),
          'role:postgres|-|-', 'a cleared context leaves the session''s role and no call or reason');
select private.set_audit_context(repeat('a', 5000), repeat('c', 8192), repeat('r', 5000));
update public.appointments set status = 'pending' where id = '00000601-0000-4000-8000-00000000000a';
select is((select array[length(payload->>'actor'), length(payload->>'callId'), length(payload->>'reason')]
             from pg_temp.last_event('00000601-0000-4000-8000-00000000000a')),
          array[200, 200, 500], 'context values are clamped (an 8 KB call id is stored as 200 characters)');
select private.set_audit_context(null);

-- ---------------------------------------------------------------------------------------------
-- As a member (the dashboard through PostgREST)
-- ---------------------------------------------------------------------------------------------
set local role authenticated;
set local request.jwt.claims = '{"sub": "a0600000-0000-4000-8000-000000000001", "role": "authenticated"}';
update public.appointments set status = 'confirmed' where id = '00000601-0000-4000-8000-00000000000a';
insert into res values ('m_confirm', (select kind || '|' || (payload->>'actor') from public.appointment_events
                                        where appointment_id = '00000601-0000-4000-8000-00000000000a' order by id desc limit 1));
-- claiming to be someone else through the context changes nothing about who is recorded
select set_config('app.audit_actor', 'role:service_role', true), set_config('app.audit_reason', 'member says so', true);
update public.appointments
   set status = 'cancelled' where id = '00000601-0000-4000-8000-00000000000a';
insert into res values ('m_cancel', (select kind || '|' || (payload->>'actor') || '|' || (payload->>'reason')
                                       from public.appointment_events
                                      where appointment_id = '00000601-0000-4000-8000-00000000000a' order by id desc limit 1));
select set_config('app.audit_actor', '', true), set_config('app.audit_reason', '', true);
insert into public.appointments (org_id, id, lead_id, service_id, patient_name, starts_at, ends_at, blocked) values
  ('c0600000-0000-4000-8000-00000000000a', '00000602-0000-4000-8000-00000000000a', '00000501-0000-4000-8000-00000000000a',
   '00000101-0000-4000-8000-000000000000', 'Ada Lovelace', pg_temp.at(7, 10), pg_temp.at(7, 10) + interval '30 minutes',
   tstzrange(pg_temp.at(7, 10), pg_temp.at(7, 10) + interval '30 minutes'));
insert into res values
  ('m_insert', (select kind || '|' || (payload->>'actor') from public.appointment_events
                 where appointment_id = '00000602-0000-4000-8000-00000000000a')),
  ('m_delete_appt', pg_temp.sqlstate_of($q$delete from public.appointments where id = '00000602-0000-4000-8000-00000000000a'$q$)),
  ('m_insert_event', pg_temp.sqlstate_of($q$insert into public.appointment_events (org_id, appointment_id, kind, payload)
                                           values ('c0600000-0000-4000-8000-00000000000a', '00000602-0000-4000-8000-00000000000a', 'cancelled', '{}')$q$)),
  ('m_update_event', pg_temp.sqlstate_of($q$update public.appointment_events set payload = '{}'
                                           where org_id = 'c0600000-0000-4000-8000-00000000000a'$q$)),
  ('m_delete_event', pg_temp.sqlstate_of($q$delete from public.appointment_events where org_id = 'c0600000-0000-4000-8000-00000000000a'$q$)),
  ('m_truncate_event', pg_temp.sqlstate_of('truncate public.appointment_events')),
  ('m_sees_events', (select count(*) from public.appointment_events)::text);
reset role;
select is((select v from res where k = 'm_confirm'), 'updated|user:a0600000-0000-4000-8000-000000000001',
          'a member''s direct status change is recorded with the member''s user id');
select is((select v from res where k = 'm_cancel'), 'cancelled|user:a0600000-0000-4000-8000-000000000001|member says so',
          'a member cannot pass as someone else through the audit context (the reason they give is kept)');
select is((select v from res where k = 'm_insert'), 'booked|user:a0600000-0000-4000-8000-000000000001',
          'a member''s direct insert is a booked event by that member');
select is((select v from res where k = 'm_delete_appt'), '42501', 'a member cannot delete an appointment (cancel instead)');
select ok(exists (select 1 from public.appointments where id = '00000602-0000-4000-8000-00000000000a'), 'the appointment is still there');
select is((select array[v] from res where k = 'm_insert_event') || (select v from res where k = 'm_update_event')
          || (select v from res where k = 'm_delete_event') || (select v from res where k = 'm_truncate_event'),
          array['42501', '42501', '42501', '42501'], 'a member cannot insert, update, delete or truncate events');
select is((select v from res where k = 'm_sees_events')::int,
          (select count(*)::int from public.appointment_events where org_id = 'c0600000-0000-4000-8000-00000000000a'),
          'a member reads their clinic''s events');

-- another clinic's member changes nothing here, and no event appears
set local role authenticated;
set local request.jwt.claims = '{"sub": "b0600000-0000-4000-8000-000000000001", "role": "authenticated"}';
insert into res values
  ('other_update', pg_temp.sqlstate_of($q$update public.appointments set status = 'no_show' where org_id = 'c0600000-0000-4000-8000-00000000000a'$q$)),
  ('other_sees', (select count(*) from public.appointment_events where org_id = 'c0600000-0000-4000-8000-00000000000a')::text);
reset role;
select is((select v from res where k = 'other_update') || '|' || (select v from res where k = 'other_sees'), 'ok|0',
          'another clinic''s member updates no row and sees none of these events');
select is((select count(*)::int from public.appointment_events where org_id = 'c0600000-0000-4000-8000-00000000000a' and payload->>'status' = 'no_show'),
          0, 'so no event was written for it');

-- ---------------------------------------------------------------------------------------------
-- Through the RPCs (the webhook as service_role): the same trigger, with the RPC's reason
-- ---------------------------------------------------------------------------------------------
set local role service_role;
set local request.jwt.claims = '{"role": "service_role"}';
insert into res values ('svc_book', public.book_appointment(
  p_org_id => 'c0600000-0000-4000-8000-00000000000a', p_name => 'Ada Lovelace', p_email => 'ada@t06.example',
  p_phone => '+15550006001', p_service => 'consult', p_scheduled_at => pg_temp.at(8, 11),
  p_idempotency_key => 'vapi:call-t06:1', p_source => 'vapi',
  p_caller => '{"callId": "call-t06", "callerNumber": "+15550006001", "source": "vapi"}')::text);
insert into res values ('svc_cancel', public.cancel_appointment(
  p_org_id => 'c0600000-0000-4000-8000-00000000000a',
  p_caller => '{"callId": "call-t06", "callerNumber": "+15550006001", "source": "vapi"}',
  p_appointment_id => (select (v::json->>'appointmentId')::uuid from res where k = 'svc_book'),
  p_reason => 'caller is travelling')::text);
reset role;
select is((select array_agg(kind || '|' || (payload->>'actor') || '|' || coalesce(payload->>'reason', '-') order by id)
             from public.appointment_events where appointment_id = (select (v::json->>'appointmentId')::uuid from res where k = 'svc_book')),
          array['booked|caller:vapi|-', 'cancelled|caller:caller_id|caller is travelling'],
          'RPC bookings and cancellations are recorded once each, by the trigger, with who acted (how verified) and the cancel reason');
select is((select array_agg(payload->>'callId' order by id)
             from public.appointment_events where appointment_id = (select (v::json->>'appointmentId')::uuid from res where k = 'svc_book')),
          array['call-t06', 'call-t06'], 'both events carry the call id from the caller context');
select is((select count(*)::int from public.appointment_events e
            where e.appointment_id = (select (v::json->>'appointmentId')::uuid from res where k = 'svc_book')
              and e.payload->>'source' = 'vapi'), 2, 'both carry the booking''s source');
select is(current_setting('app.audit_reason', true), '', 'the RPC clears its audit context after writing');

-- ---------------------------------------------------------------------------------------------
-- No personal data in any payload
-- ---------------------------------------------------------------------------------------------
select is((select count(*)::int from public.appointment_events
            where org_id = 'c0600000-0000-4000-8000-00000000000a'
              and (payload ?| array['patientName', 'name', 'phone', 'email']
                   -- whole words: ids are random hex, and 'ada' is hex (a uuid containing it is no name)
                   or payload::text ~* '\mada\M|lovelace|\mking\M|\+1555|t06\.example')), 0,
          'no event payload carries a name, phone number or e-mail address');

-- ---------------------------------------------------------------------------------------------
-- Events survive the appointment; the activity view still shows them
-- ---------------------------------------------------------------------------------------------
set local request.jwt.claims = '';
create temp table before_delete as
  select count(*)::int as n from public.appointment_events where appointment_id = '00000601-0000-4000-8000-00000000000a';
delete from public.appointments where id = '00000601-0000-4000-8000-00000000000a';
select is((select count(*)::int from public.appointment_events where appointment_id = '00000601-0000-4000-8000-00000000000a'),
          (select n + 1 from before_delete), 'deleting an appointment (as postgres) keeps its events and adds one');
select is((select kind || '|' || (payload->>'actor') || '|' || (payload->>'status')
             from pg_temp.last_event('00000601-0000-4000-8000-00000000000a')),
          'deleted|role:postgres|cancelled', 'the deletion is a deleted event with the last state');
set local role authenticated;
set local request.jwt.claims = '{"sub": "a0600000-0000-4000-8000-000000000001", "role": "authenticated"}';
insert into res values ('m_activity', (select count(*) || '|' || count(patient_name) || '|' || count(local_starts_at) || '|'
                                               || count(actor)
                                          from public.appointment_activity
                                         where appointment_id = '00000601-0000-4000-8000-00000000000a'));
reset role;
select is((select v from res where k = 'm_activity'),
          (select n + 1 || '|0|' || n + 1 || '|' || n + 1 from before_delete),
          'a member reads the deleted appointment''s whole history in appointment_activity (no patient name left; times and actor from the events)');

set local role anon;
select throws_ok('select count(*) from public.appointment_events', '42501', null, 'anon cannot read events');
select throws_ok('select count(*) from public.appointment_activity', '42501', null, 'anon cannot read the activity view');
reset role;

-- service_role may touch events (the only role besides the owner that may)
set local role service_role;
set local request.jwt.claims = '{"role": "service_role"}';
select lives_ok($$insert into public.appointment_events (org_id, appointment_id, kind, payload)
                  values ('c0600000-0000-4000-8000-00000000000a', gen_random_uuid(), 'updated', '{"actor": "role:service_role"}')$$,
                'service_role can write an event');
reset role;

-- ---------------------------------------------------------------------------------------------
-- Kinds, and deleting a whole clinic
-- ---------------------------------------------------------------------------------------------
select is((select array_agg(distinct kind order by kind) from public.appointment_events
            where org_id = 'c0600000-0000-4000-8000-00000000000a'),
          array['booked', 'cancelled', 'deleted', 'rescheduled', 'updated'], 'all five kinds were recorded');
update public.appointments
   set status = 'cancelled', starts_at = pg_temp.at(9, 9), ends_at = pg_temp.at(9, 9) + interval '30 minutes',
       blocked = tstzrange(pg_temp.at(9, 9), pg_temp.at(9, 9) + interval '30 minutes')
 where id = '00000602-0000-4000-8000-00000000000a';
select is((select kind || '|' || (payload->'changed')::text from pg_temp.last_event('00000602-0000-4000-8000-00000000000a')),
          'cancelled|["status", "starts_at", "ends_at"]', 'cancelling and moving at once is a cancelled event listing every change');
update public.appointments set status = 'pending' where id = '00000602-0000-4000-8000-00000000000a';
select is((select kind from pg_temp.last_event('00000602-0000-4000-8000-00000000000a')), 'updated',
          'un-cancelling is an updated event');

delete from public.orgs where id = 'c0600000-0000-4000-8000-00000000000b';
insert into public.leads (org_id, id, name, phone) values
  ('c0600000-0000-4000-8000-00000000000a', '00000502-0000-4000-8000-00000000000a', 'Doomed', '+15550006002');
select lives_ok($$delete from public.orgs where id = 'c0600000-0000-4000-8000-00000000000a'$$,
                'a clinic with appointments and events can still be deleted (cascade)');
select is((select count(*)::int from public.appointment_events
            where org_id in ('c0600000-0000-4000-8000-00000000000a', 'c0600000-0000-4000-8000-00000000000b')), 0,
          'its outbox goes with it, and no deleted events are written for a clinic being deleted');

select * from finish();
rollback;
