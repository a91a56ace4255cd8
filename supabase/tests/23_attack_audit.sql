-- 23_attack_audit: red-team findings against the audit trail, as a signed-in member of a clinic.
--   1. A member may call the caller-facing RPCs with a caller context of their choosing: with the
--      patient's number as `callerNumber` and any `callId`, the access log recorded a phone call
--      "verified by caller ID" and no trace of the member (actor_user_id NULL).
--   2. A member could UPDATE any column of an appointment: re-keying it (`id`) detached its history
--      from it without any event, and re-pointing it at another lead (`lead_id`, i.e. another phone
--      that then hears it by caller ID) wrote no event either.
begin;
select plan(7);

insert into auth.users (id, email) values ('a2300000-0000-4000-8000-000000000001', 'staff@t23.example');
insert into public.orgs (id, name, timezone, min_notice_minutes) values
  ('c2300000-0000-4000-8000-00000000000a', 'T23 Clinic', 'America/New_York', 0);
insert into public.org_members (org_id, user_id, role) values
  ('c2300000-0000-4000-8000-00000000000a', 'a2300000-0000-4000-8000-000000000001', 'staff');
insert into public.services (org_id, id, code, name, duration_minutes, is_default) values
  ('c2300000-0000-4000-8000-00000000000a', '00000101-0000-4000-8000-000000000023', 'consult', 'Consultation', 30, true);
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
select 'c2300000-0000-4000-8000-00000000000a', d, '00:00', '24:00' from generate_series(0, 6) d;
insert into public.leads (org_id, id, name, phone) values
  ('c2300000-0000-4000-8000-00000000000a', '00000501-0000-4000-8000-000000000023', 'Ada Patient', '+15550023001'),
  ('c2300000-0000-4000-8000-00000000000a', '00000502-0000-4000-8000-000000000023', 'Eve Other', '+15550023002');
insert into public.appointments (org_id, id, lead_id, service_id, patient_name, starts_at, ends_at, blocked)
select 'c2300000-0000-4000-8000-00000000000a', x.id, '00000501-0000-4000-8000-000000000023',
       '00000101-0000-4000-8000-000000000023', 'Ada Patient', x.t, x.t + interval '30 minutes',
       tstzrange(x.t, x.t + interval '30 minutes')
  from (values ('00000601-0000-4000-8000-000000000023'::uuid, date_trunc('day', now()) + interval '5 days 14 hours'),
               ('00000602-0000-4000-8000-000000000023'::uuid, date_trunc('day', now()) + interval '6 days 14 hours'),
               ('00000603-0000-4000-8000-000000000023'::uuid, date_trunc('day', now()) + interval '7 days 14 hours')) x(id, t);

create function pg_temp.sqlstate_of(p_sql text) returns text language plpgsql as $f$
begin
  execute p_sql;
  return 'ok';
exception when others then
  return sqlstate;
end $f$;
grant execute on function pg_temp.sqlstate_of(text) to authenticated;
create temp table res (k text primary key, v text);
grant select, insert on res to authenticated;

-- ---------------------------------------------------------------------------------------------
-- 1. A member posing as the patient's phone call
-- ---------------------------------------------------------------------------------------------
set local request.jwt.claims = '{"sub": "a2300000-0000-4000-8000-000000000001", "role": "authenticated"}';
set local role authenticated;
insert into res values ('cancel', public.cancel_appointment(
  p_org_id => 'c2300000-0000-4000-8000-00000000000a',
  p_caller => '{"callId": "the-patients-call", "callerNumber": "+15550023001", "source": "vapi"}',
  p_appointment_id => '00000601-0000-4000-8000-000000000023') ->> 'status');
reset role;
set local request.jwt.claims = '';

select is((select v from res where k = 'cancel'), 'cancelled', 'the member''s cancel with a made-up caller context went through');
select is((select l.actor_user_id from public.caller_access_log l
            where l.org_id = 'c2300000-0000-4000-8000-00000000000a' order by l.id desc limit 1),
          'a2300000-0000-4000-8000-000000000001'::uuid,
          'the access log names the signed-in member who made the call, whatever caller context they passed');

-- ---------------------------------------------------------------------------------------------
-- 2. A member rewriting an appointment's identity
-- ---------------------------------------------------------------------------------------------
set local request.jwt.claims = '{"sub": "a2300000-0000-4000-8000-000000000001", "role": "authenticated"}';
set local role authenticated;
insert into res values
  ('rekey', pg_temp.sqlstate_of($$update public.appointments set id = '00000699-0000-4000-8000-000000000023'
                                   where id = '00000602-0000-4000-8000-000000000023'$$)),
  ('created', pg_temp.sqlstate_of($$update public.appointments set created_at = '2000-01-01'
                                     where id = '00000602-0000-4000-8000-000000000023'$$)),
  ('idempotency', pg_temp.sqlstate_of($$update public.appointments set idempotency_key = 'vapi:health-check-x'
                                         where id = '00000602-0000-4000-8000-000000000023'$$)),
  ('repoint', pg_temp.sqlstate_of($$update public.appointments set lead_id = '00000502-0000-4000-8000-000000000023'
                                     where id = '00000603-0000-4000-8000-000000000023'$$));
reset role;
set local request.jwt.claims = '';

select is((select v from res where k = 'rekey'), '42501', 'a member cannot change an appointment''s id (its history would be detached)');
select is((select v from res where k = 'created'), '42501', 'a member cannot back-date an appointment''s created_at');
select is((select v from res where k = 'idempotency'), '42501', 'a member cannot rewrite an appointment''s idempotency key');
select is((select v from res where k = 'repoint'), 'ok', 'a member may move an appointment to another patient of the clinic');
select is((select e.kind || '|' || (e.payload ->> 'previousLeadId') || '|' || (e.payload -> 'changed')::text
             from public.appointment_events e
            where e.appointment_id = '00000603-0000-4000-8000-000000000023' order by e.id desc limit 1),
          'updated|00000501-0000-4000-8000-000000000023|["lead_id"]',
          '... and that move (another phone now hears it by caller ID) is an event naming the previous lead');

select * from finish();
rollback;
