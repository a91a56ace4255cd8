-- 03_tenancy: per-org uniqueness, composite foreign keys that make cross-org references
-- impossible, org_members role check, globally unique Vapi ids; Vapi mappings written by
-- service_role only (map_vapi_id / unmap_vapi_id); membership only by invitation, with no
-- existence oracle for signed-in users.
-- Self-contained fixtures (as postgres): orgs A and B, a member of each, a service, a lead and an
-- appointment per org.
begin;
select plan(78);

insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner.a@tap.test'),
  ('b0000000-0000-4000-8000-000000000001', 'owner.b@tap.test'),
  ('c0000000-0000-4000-8000-000000000001', 'other@tap.test');
insert into public.orgs (id, name, timezone) values
  ('00000000-0000-4000-8000-00000000000a', 'TAP Clinic A', 'America/New_York'),
  ('00000000-0000-4000-8000-00000000000b', 'TAP Clinic B', 'Europe/Berlin');
insert into public.org_members (org_id, user_id, role) values
  ('00000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-000000000001', 'owner'),
  ('00000000-0000-4000-8000-00000000000b', 'b0000000-0000-4000-8000-000000000001', 'owner');
insert into public.services (org_id, id, code, name, duration_minutes, is_default) values
  ('00000000-0000-4000-8000-00000000000a', '00000101-0000-4000-8000-00000000000a', 'consult', 'Consultation', 30, true),
  ('00000000-0000-4000-8000-00000000000b', '00000101-0000-4000-8000-00000000000b', 'consult', 'Consultation', 30, true);
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
select o, wd, '09:00', '17:00'
  from unnest(array['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b']::uuid[]) as o,
       generate_series(1, 5) as wd;
insert into public.leads (org_id, id, name, phone) values
  ('00000000-0000-4000-8000-00000000000a', '00000501-0000-4000-8000-00000000000a', 'Lead A', '+15550000001'),
  ('00000000-0000-4000-8000-00000000000b', '00000501-0000-4000-8000-00000000000b', 'Lead B', '+15550000002');
insert into public.appointments (org_id, id, lead_id, service_id, patient_name, starts_at, ends_at, blocked, idempotency_key) values
  ('00000000-0000-4000-8000-00000000000a', '00000601-0000-4000-8000-00000000000a',
   '00000501-0000-4000-8000-00000000000a', '00000101-0000-4000-8000-00000000000a', 'Lead A',
   '2027-01-04 15:00Z', '2027-01-04 15:30Z', tstzrange('2027-01-04 15:00Z', '2027-01-04 15:30Z', '[)'), 'key-1'),
  ('00000000-0000-4000-8000-00000000000b', '00000601-0000-4000-8000-00000000000b',
   '00000501-0000-4000-8000-00000000000b', '00000101-0000-4000-8000-00000000000b', 'Lead B',
   '2027-01-04 15:00Z', '2027-01-04 15:30Z', tstzrange('2027-01-04 15:00Z', '2027-01-04 15:30Z', '[)'), null);

-- ---------------------------------------------------------------------------------------------
-- Leads: phone unique per org, not globally
-- ---------------------------------------------------------------------------------------------
select lives_ok(
  $$insert into public.leads (org_id, name, phone) values ('00000000-0000-4000-8000-00000000000a', 'Shared A', '+447700900123')$$,
  'a phone number can be a lead in org A');
select lives_ok(
  $$insert into public.leads (org_id, name, phone) values ('00000000-0000-4000-8000-00000000000b', 'Shared B', '+447700900123')$$,
  'the same phone number can also be a lead in org B');
select throws_ok(
  $$insert into public.leads (org_id, name, phone) values ('00000000-0000-4000-8000-00000000000a', 'Dup A', '+447700900123')$$,
  '23505', null, 'a duplicate phone within org A is refused (23505)');
select throws_ok(
  $$update public.leads set phone = '+15550000001'
     where org_id = '00000000-0000-4000-8000-00000000000a' and phone = '+447700900123'$$,
  '23505', null, 'changing a lead''s phone to one already used in the same org is refused (23505)');
select is(
  (select count(*)::int from public.leads where phone = '+447700900123'),
  2, 'exactly one lead per org holds the shared phone');
select throws_ok(
  $$insert into public.leads (org_id, name, phone, email)
    values ('00000000-0000-4000-8000-00000000000a', 'Placeholder', '+15550000077', 'not-an-email')$$,
  '23514', null, 'an implausible lead e-mail is refused (23514)');

-- ---------------------------------------------------------------------------------------------
-- Composite foreign keys: no reference into another org
-- ---------------------------------------------------------------------------------------------
select throws_ok(
  $$insert into public.appointments (org_id, lead_id, service_id, patient_name, starts_at, ends_at, blocked)
    values ('00000000-0000-4000-8000-00000000000a', '00000501-0000-4000-8000-00000000000b',
            '00000101-0000-4000-8000-00000000000a', 'Cross lead', '2027-01-05 15:00Z', '2027-01-05 15:30Z',
            tstzrange('2027-01-05 15:00Z', '2027-01-05 15:30Z', '[)'))$$,
  '23503', null, 'an appointment in org A referencing org B''s lead is refused (23503)');
select throws_ok(
  $$insert into public.appointments (org_id, lead_id, service_id, patient_name, starts_at, ends_at, blocked)
    values ('00000000-0000-4000-8000-00000000000a', '00000501-0000-4000-8000-00000000000a',
            '00000101-0000-4000-8000-00000000000b', 'Cross service', '2027-01-05 15:00Z', '2027-01-05 15:30Z',
            tstzrange('2027-01-05 15:00Z', '2027-01-05 15:30Z', '[)'))$$,
  '23503', null, 'an appointment in org A referencing org B''s service is refused (23503)');
select lives_ok(
  $$insert into public.appointments (org_id, lead_id, service_id, patient_name, starts_at, ends_at, blocked)
    values ('00000000-0000-4000-8000-00000000000a', '00000501-0000-4000-8000-00000000000a',
            '00000101-0000-4000-8000-00000000000a', 'Same org', '2027-01-05 15:00Z', '2027-01-05 15:30Z',
            tstzrange('2027-01-05 15:00Z', '2027-01-05 15:30Z', '[)'))$$,
  'an appointment in org A referencing org A''s lead and service is accepted');
select throws_ok(
  $$update public.appointments set lead_id = '00000501-0000-4000-8000-00000000000b'
     where org_id = '00000000-0000-4000-8000-00000000000a' and id = '00000601-0000-4000-8000-00000000000a'$$,
  '23503', null, 'pointing an org A appointment at org B''s lead is refused (23503)');
select throws_ok(
  $$update public.appointments set org_id = '00000000-0000-4000-8000-00000000000b'
     where org_id = '00000000-0000-4000-8000-00000000000a' and patient_name = 'Same org'$$,
  '23503', null, 'moving an appointment to org B (keeping org A''s lead/service) is refused (23503)');
select throws_ok(
  $$insert into public.appointment_events (org_id, appointment_id, kind, payload)
    values ('00000000-0000-4000-8000-0000000000ff', '00000601-0000-4000-8000-00000000000a', 'booked', '{}')$$,
  '23503', null, 'an event for an org that does not exist is refused (23503)');
select lives_ok(
  $$insert into public.appointment_events (org_id, appointment_id, kind, payload)
    values ('00000000-0000-4000-8000-00000000000a', '00000601-0000-4000-8000-00000000000a', 'deleted', '{}')$$,
  'an org A event of kind deleted is accepted (the outbox records deletions)');
select throws_ok(
  $$insert into public.appointment_events (org_id, appointment_id, kind, payload)
    values ('00000000-0000-4000-8000-00000000000a', '00000601-0000-4000-8000-00000000000a', 'purged', '{}')$$,
  '23514', null, 'an event kind outside booked/cancelled/rescheduled/updated/deleted is refused (23514)');
select throws_ok(
  $$insert into public.services (org_id, code, name, duration_minutes)
    values ('00000000-0000-4000-8000-0000000000ff', 'ghost', 'Ghost', 30)$$,
  '23503', null, 'a service for a non-existent org is refused (23503)');

-- ---------------------------------------------------------------------------------------------
-- Per-org keys: service code, idempotency key
-- ---------------------------------------------------------------------------------------------
select throws_ok(
  $$insert into public.services (org_id, code, name, duration_minutes)
    values ('00000000-0000-4000-8000-00000000000a', 'consult', 'Consultation 2', 30)$$,
  '23505', null, 'a duplicate service code within org A is refused (23505)');
select throws_ok(
  $$insert into public.services (org_id, code, name, duration_minutes)
    values ('00000000-0000-4000-8000-00000000000a', 'consult-2', 'CONSULTATION', 30)$$,
  '23505', null, 'a service name differing only in case within org A is refused (23505)');
select lives_ok(
  $$insert into public.services (org_id, code, name, duration_minutes)
    values ('00000000-0000-4000-8000-00000000000b', 'checkup', 'Checkup', 20),
           ('00000000-0000-4000-8000-00000000000a', 'checkup', 'Checkup', 20)$$,
  'the same service code and name can exist in two orgs');
select throws_ok(
  $$insert into public.appointments (org_id, lead_id, service_id, patient_name, starts_at, ends_at, blocked, idempotency_key)
    values ('00000000-0000-4000-8000-00000000000a', '00000501-0000-4000-8000-00000000000a',
            '00000101-0000-4000-8000-00000000000a', 'Replay', '2027-01-06 15:00Z', '2027-01-06 15:30Z',
            tstzrange('2027-01-06 15:00Z', '2027-01-06 15:30Z', '[)'), 'key-1')$$,
  '23505', null, 'a duplicate idempotency key within org A is refused (23505)');
select lives_ok(
  $$insert into public.appointments (org_id, lead_id, service_id, patient_name, starts_at, ends_at, blocked, idempotency_key)
    values ('00000000-0000-4000-8000-00000000000b', '00000501-0000-4000-8000-00000000000b',
            '00000101-0000-4000-8000-00000000000b', 'Same key other org', '2027-01-06 15:00Z', '2027-01-06 15:30Z',
            tstzrange('2027-01-06 15:00Z', '2027-01-06 15:30Z', '[)'), 'key-1')$$,
  'the same idempotency key in org B is accepted');
select lives_ok(
  $$insert into public.appointments (org_id, lead_id, service_id, patient_name, starts_at, ends_at, blocked, idempotency_key)
    values ('00000000-0000-4000-8000-00000000000a', '00000501-0000-4000-8000-00000000000a',
            '00000101-0000-4000-8000-00000000000a', 'No key 1', '2027-01-07 15:00Z', '2027-01-07 15:30Z',
            tstzrange('2027-01-07 15:00Z', '2027-01-07 15:30Z', '[)'), null),
           ('00000000-0000-4000-8000-00000000000a', '00000501-0000-4000-8000-00000000000a',
            '00000101-0000-4000-8000-00000000000a', 'No key 2', '2027-01-08 15:00Z', '2027-01-08 15:30Z',
            tstzrange('2027-01-08 15:00Z', '2027-01-08 15:30Z', '[)'), null)$$,
  'several appointments without idempotency key in one org are accepted');

-- ---------------------------------------------------------------------------------------------
-- org_members
-- ---------------------------------------------------------------------------------------------
select throws_ok(
  $$insert into public.org_members (org_id, user_id, role)
    values ('00000000-0000-4000-8000-00000000000a', 'c0000000-0000-4000-8000-000000000001', 'admin')$$,
  '23514', null, 'org_members: role admin is refused (23514)');
select lives_ok(
  $$insert into public.org_members (org_id, user_id, role)
    values ('00000000-0000-4000-8000-00000000000a', 'c0000000-0000-4000-8000-000000000001', 'staff'),
           ('00000000-0000-4000-8000-00000000000b', 'c0000000-0000-4000-8000-000000000001', 'owner')$$,
  'org_members: staff and owner are accepted, and one user may belong to two orgs');
select throws_ok(
  $$insert into public.org_members (org_id, user_id, role)
    values ('00000000-0000-4000-8000-00000000000a', 'c0000000-0000-4000-8000-000000000001', 'owner')$$,
  '23505', null, 'org_members: a user is a member of an org at most once (23505)');
select throws_ok(
  $$insert into public.org_members (org_id, user_id, role)
    values ('00000000-0000-4000-8000-00000000000a', 'd0000000-0000-4000-8000-000000000001', 'staff')$$,
  '23503', null, 'org_members: the user must exist in auth.users (23503)');

-- ---------------------------------------------------------------------------------------------
-- vapi_assistants: ids are global (one id → one org)
-- ---------------------------------------------------------------------------------------------
select lives_ok(
  $$insert into public.vapi_assistants (org_id, assistant_id, phone_number_id, label)
    values ('00000000-0000-4000-8000-00000000000a', 'tap-asst-1', 'tap-pn-1', 'A main')$$,
  'a Vapi assistant/phone-number id can be mapped to org A');
select throws_ok(
  $$insert into public.vapi_assistants (org_id, assistant_id, label)
    values ('00000000-0000-4000-8000-00000000000b', 'tap-asst-1', 'B steals A''s assistant')$$,
  '23505', null, 'the same assistant_id cannot also map to org B (23505)');
select throws_ok(
  $$insert into public.vapi_assistants (org_id, phone_number_id, label)
    values ('00000000-0000-4000-8000-00000000000b', 'tap-pn-1', 'B steals A''s number')$$,
  '23505', null, 'the same phone_number_id cannot also map to org B (23505)');
select throws_ok(
  $$insert into public.vapi_assistants (org_id, assistant_id, label)
    values ('00000000-0000-4000-8000-00000000000a', 'tap-asst-1', 'A twice')$$,
  '23505', null, 'the same assistant_id cannot map twice within org A either (23505)');
select throws_ok(
  $$insert into public.vapi_assistants (org_id, label) values ('00000000-0000-4000-8000-00000000000a', 'no ids')$$,
  '23514', null, 'a Vapi mapping without assistant_id and phone_number_id is refused (23514)');

-- ---------------------------------------------------------------------------------------------
-- Vapi mappings: written by service_role only (attack: staff of A maps B's unmapped number)
-- ---------------------------------------------------------------------------------------------
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000002', 'staff.a@tap.test'),
  ('e0000000-0000-4000-8000-000000000001', 'exists@tap.test'),
  ('e0000000-0000-4000-8000-000000000002', 'invitee@tap.test');
insert into public.org_members (org_id, user_id, role) values
  ('00000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-000000000002', 'staff');
create temp table res (k text primary key, v text) on commit drop;
grant select, insert on res to authenticated, anon, service_role;
create function pg_temp.sqlstate_of(p_sql text) returns text language plpgsql as $f$
begin
  execute p_sql;
  return 'ok';
exception when others then
  return sqlstate;
end $f$;
grant execute on function pg_temp.sqlstate_of(text) to authenticated, anon, service_role;

set local role authenticated;
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-000000000002", "role": "authenticated", "email": "staff.a@tap.test"}';
insert into res values
  ('staff_insert_own', pg_temp.sqlstate_of($q$insert into public.vapi_assistants (org_id, phone_number_id)
                                              values ('00000000-0000-4000-8000-00000000000a', 'tap-pn-b-unmapped')$q$)),
  ('staff_update_own', pg_temp.sqlstate_of($q$update public.vapi_assistants set phone_number_id = 'tap-pn-b-unmapped'
                                              where org_id = '00000000-0000-4000-8000-00000000000a'$q$)),
  ('staff_delete_own', pg_temp.sqlstate_of($q$delete from public.vapi_assistants where org_id = '00000000-0000-4000-8000-00000000000a'$q$)),
  ('staff_map_rpc', pg_temp.sqlstate_of($q$select public.map_vapi_id('00000000-0000-4000-8000-00000000000a', null, 'tap-pn-b-unmapped')$q$)),
  ('staff_unmap_rpc', pg_temp.sqlstate_of($q$select public.unmap_vapi_id('00000000-0000-4000-8000-00000000000a', 'tap-asst-1')$q$)),
  ('staff_sees', (select string_agg(assistant_id, ',' order by assistant_id) from public.vapi_assistants));
reset role;
select is((select v from res where k = 'staff_insert_own'), '42501', 'staff cannot insert a Vapi mapping, even for their own org');
select is((select v from res where k = 'staff_update_own'), '42501', 'staff cannot re-point their own org''s Vapi mapping');
select is((select v from res where k = 'staff_delete_own'), '42501', 'staff cannot delete a Vapi mapping');
select is((select v from res where k = 'staff_map_rpc'), '42501', 'staff cannot call map_vapi_id');
select is((select v from res where k = 'staff_unmap_rpc'), '42501', 'staff cannot call unmap_vapi_id');
select is((select v from res where k = 'staff_sees'), 'tap-asst-1', 'staff reads their own org''s mappings');
select is((select count(*)::int from public.vapi_assistants where phone_number_id = 'tap-pn-b-unmapped'), 0,
          'nothing was mapped by staff');

set local role service_role;
set local request.jwt.claims = '{"role": "service_role"}';
insert into res values
  ('map_new', public.map_vapi_id('00000000-0000-4000-8000-00000000000b', null, 'tap-pn-b-unmapped', 'B main line')::text),
  ('map_again', public.map_vapi_id('00000000-0000-4000-8000-00000000000b', null, 'tap-pn-b-unmapped')::text),
  ('map_relabel', public.map_vapi_id('00000000-0000-4000-8000-00000000000b', null, 'tap-pn-b-unmapped', 'B front desk')::text),
  ('map_other', public.map_vapi_id('00000000-0000-4000-8000-00000000000a', null, 'tap-pn-b-unmapped')::text),
  ('map_both', public.map_vapi_id('00000000-0000-4000-8000-00000000000a', 'x', 'y')::text),
  ('map_none', public.map_vapi_id('00000000-0000-4000-8000-00000000000a', ' ', null)::text),
  ('map_space', public.map_vapi_id('00000000-0000-4000-8000-00000000000a', 'asst with space')::text),
  ('map_long', public.map_vapi_id('00000000-0000-4000-8000-00000000000a', repeat('x', 201))::text),
  ('map_unknown_org', public.map_vapi_id('00000000-0000-4000-8000-0000000000ff', 'tap-asst-ghost')::text),
  ('unmap_none', public.unmap_vapi_id('00000000-0000-4000-8000-00000000000a', 'tap-asst-never')::text),
  ('unmap_other', public.unmap_vapi_id('00000000-0000-4000-8000-00000000000a', null, 'tap-pn-b-unmapped')::text),
  ('unmap_pn', public.unmap_vapi_id('00000000-0000-4000-8000-00000000000a', null, 'tap-pn-1')::text);
reset role;
select is((select (v::jsonb - 'orgId')::text from res where k = 'map_new'),
          '{"label": "B main line", "created": true, "success": true, "assistantId": null, "phoneNumberId": "tap-pn-b-unmapped"}',
          'service_role maps an unmapped phone-number id to org B');
select is((select (v::jsonb ->> 'created') || '|' || (v::jsonb ->> 'label') from res where k = 'map_again'), 'false|B main line',
          'mapping the same id to the same org again is idempotent (created = false, label kept)');
select is((select (v::jsonb ->> 'created') || '|' || (v::jsonb ->> 'label') from res where k = 'map_relabel'), 'false|B front desk',
          'a label given again replaces the old one');
select is((select count(*)::int from public.vapi_assistants where phone_number_id = 'tap-pn-b-unmapped'), 1,
          'one row for the id after three maps');
select is((select v::jsonb ->> 'error' from res where k = 'map_other'), 'mapped_to_other_org',
          'an id mapped to org B cannot be mapped to org A');
select matches((select v::jsonb ->> 'message' from res where k = 'map_other'),
               'phone number id tap-pn-b-unmapped is already mapped to org 00000000-0000-4000-8000-00000000000b \(TAP Clinic B\)',
               'the operator is told precisely where the id is mapped');
select is((select array_agg(v::jsonb ->> 'error' order by k) from res where k in ('map_both', 'map_long', 'map_none', 'map_space')),
          array['invalid_input', 'invalid_input', 'invalid_input', 'invalid_input'],
          'both ids, no id, an id with a space, an id over 200 characters: invalid_input');
select is((select v::jsonb ->> 'error' from res where k = 'map_unknown_org'), 'unknown_org', 'an org that does not exist: unknown_org');
select is((select v::jsonb ->> 'error' from res where k = 'unmap_none'), 'not_mapped', 'unmapping an id mapped nowhere: not_mapped');
select is((select v::jsonb ->> 'error' from res where k = 'unmap_other'), 'mapped_to_other_org',
          'unmapping another org''s id is refused');
select is((select coalesce(assistant_id, '-') || '|' || coalesce(phone_number_id, '-') from public.vapi_assistants
            where assistant_id = 'tap-asst-1'), 'tap-asst-1|-',
          'unmapping the phone number of a shared row keeps the row for the assistant');
select is((public.unmap_vapi_id('00000000-0000-4000-8000-00000000000a', 'tap-asst-1')->>'success'), 'true',
          'unmapping the last id of a row succeeds (as a trusted connection)');
select is((select count(*)::int from public.vapi_assistants where assistant_id = 'tap-asst-1'), 0, 'and removes the row');

-- ---------------------------------------------------------------------------------------------
-- Membership: no silent adding, invitation flow, no existence oracle
-- ---------------------------------------------------------------------------------------------
set local role authenticated;
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-000000000001", "role": "authenticated", "email": "owner.a@tap.test"}';
insert into res values
  ('owner_add_existing', pg_temp.sqlstate_of($q$insert into public.org_members (org_id, user_id, role)
     values ('00000000-0000-4000-8000-00000000000a', 'e0000000-0000-4000-8000-000000000001', 'staff')$q$)),
  ('owner_add_missing', pg_temp.sqlstate_of($q$insert into public.org_members (org_id, user_id, role)
     values ('00000000-0000-4000-8000-00000000000a', 'f0000000-0000-4000-8000-000000000001', 'staff')$q$)),
  ('owner_repoint', pg_temp.sqlstate_of($q$update public.org_members set user_id = 'e0000000-0000-4000-8000-000000000001'
     where org_id = '00000000-0000-4000-8000-00000000000a' and user_id = 'a0000000-0000-4000-8000-000000000002'$q$)),
  ('owner_repoint_missing', pg_temp.sqlstate_of($q$update public.org_members set user_id = 'f0000000-0000-4000-8000-000000000001'
     where org_id = '00000000-0000-4000-8000-00000000000a' and user_id = 'a0000000-0000-4000-8000-000000000002'$q$)),
  ('invite_existing', public.invite_org_member('00000000-0000-4000-8000-00000000000a', 'Exists@TAP.test ', 'staff')::text),
  ('invite_missing', public.invite_org_member('00000000-0000-4000-8000-00000000000a', 'nobody@tap.test', 'staff')::text),
  ('invite_member', public.invite_org_member('00000000-0000-4000-8000-00000000000a', 'staff.a@tap.test', 'staff')::text),
  ('invite_other_org', public.invite_org_member('00000000-0000-4000-8000-00000000000b', 'invitee@tap.test')::text),
  ('invite_no_org', public.invite_org_member('00000000-0000-4000-8000-0000000000ff', 'invitee@tap.test')::text),
  ('invite_bad_email', public.invite_org_member('00000000-0000-4000-8000-00000000000a', 'not-an-email')::text),
  ('invite_bad_role', public.invite_org_member('00000000-0000-4000-8000-00000000000a', 'invitee@tap.test', 'admin')::text),
  ('invite_invitee', public.invite_org_member('00000000-0000-4000-8000-00000000000a', 'invitee@tap.test', 'staff')::text),
  ('invite_owner_self', public.invite_org_member('00000000-0000-4000-8000-00000000000a', 'owner.a@tap.test', 'staff')::text);
insert into res values
  ('owner_sees_invites', (select string_agg(email, ',' order by email) from public.org_invitations)),
  ('owner_reads_hash', pg_temp.sqlstate_of('select token_hash from public.org_invitations'));
reset role;
select is((select v from res where k = 'owner_add_existing'), '42501', 'an owner cannot add an existing account to the org (42501)');
select is((select v from res where k = 'owner_add_missing'), '42501',
          'adding an account that does not exist fails the same way (42501, never the 23503 that would tell)');
select is((select v from res where k = 'owner_repoint') || '|' || (select v from res where k = 'owner_repoint_missing'), '42501|42501',
          'an owner cannot re-point a membership at another account, existing or not');
select is((select v::jsonb - 'invitationId' - 'token' - 'email' from res where k = 'invite_existing'),
          (select v::jsonb - 'invitationId' - 'token' - 'email' from res where k = 'invite_missing'),
          'inviting an address with an account and one without answer alike');
select is((select v::jsonb - 'invitationId' - 'token' - 'email' from res where k = 'invite_member'),
          (select v::jsonb - 'invitationId' - 'token' - 'email' from res where k = 'invite_missing'),
          'inviting a current member answers alike too');
select is((select v::jsonb ->> 'email' from res where k = 'invite_existing'), 'exists@tap.test', 'the address is stored lower-cased and trimmed');
select ok((select v::jsonb ->> 'token' ~ '^[0-9a-f]{64}$' from res where k = 'invite_missing'), 'the reply carries a 64-hex token once');
select is((select v::jsonb - 'message' from res where k = 'invite_other_org'),
          (select v::jsonb - 'message' from res where k = 'invite_no_org'),
          'inviting into another org and into a missing org: the same refusal');
select is((select v::jsonb ->> 'error' from res where k = 'invite_other_org'), 'unknown_org', 'which is unknown_org');
select is((select array_agg(v::jsonb ->> 'error' order by k) from res where k in ('invite_bad_email', 'invite_bad_role')),
          array['invalid_input', 'invalid_input'], 'an implausible address or an unknown role: invalid_input');
select is((select v from res where k = 'owner_sees_invites'),
          'exists@tap.test,invitee@tap.test,nobody@tap.test,owner.a@tap.test,staff.a@tap.test',
          'the owner sees the org''s open invitations');
select is((select v from res where k = 'owner_reads_hash'), '42501', 'nobody but the definer functions reads token hashes');
select is((select count(*)::int from public.org_invitations i, res
            where res.k = 'invite_missing' and i.token_hash = sha256(convert_to(res.v::jsonb ->> 'token', 'UTF8'))), 1,
          'only the token''s SHA-256 is stored');
select is((select count(*)::int from public.org_invitations
            where position((select v::jsonb ->> 'token' from res where k = 'invite_missing') in encode(token_hash, 'escape')) > 0
               or position((select v::jsonb ->> 'token' from res where k = 'invite_missing') in email) > 0), 0,
          'the token itself appears nowhere in the table');

-- staff cannot invite
set local role authenticated;
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-000000000002", "role": "authenticated", "email": "staff.a@tap.test"}';
insert into res values
  ('staff_invite', public.invite_org_member('00000000-0000-4000-8000-00000000000a', 'friend@tap.test', 'owner')::text),
  ('staff_sees_invites', (select count(*) from public.org_invitations)::text);
reset role;
select is((select v::jsonb ->> 'error' from res where k = 'staff_invite'), 'unknown_org', 'staff cannot invite (unknown_org)');
select is((select v from res where k = 'staff_sees_invites'), '0', 'staff do not see invitations');

-- accepting
create temp table tok as select k, v::jsonb ->> 'token' as token from res where k like 'invite_%' and v::jsonb ? 'token';
grant select on tok to authenticated, anon;
set local role authenticated;
set local request.jwt.claims = '{"sub": "e0000000-0000-4000-8000-000000000001", "role": "authenticated", "email": "exists@tap.test"}';
insert into res values
  ('accept_wrong_account', public.accept_org_invitation((select token from tok where k = 'invite_invitee'))::text),
  ('accept_garbage', public.accept_org_invitation('0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef')::text),
  ('accept_null', public.accept_org_invitation(null)::text),
  ('accept_ok', public.accept_org_invitation((select upper(token) from tok where k = 'invite_existing'))::text),
  ('accept_again', public.accept_org_invitation((select token from tok where k = 'invite_existing'))::text);
set local request.jwt.claims = '{"sub": "e0000000-0000-4000-8000-000000000002", "role": "authenticated", "email": "INVITEE@tap.test"}';
insert into res values
  ('accept_invitee', public.accept_org_invitation((select token from tok where k = 'invite_invitee'))::text);
-- a JWT whose user is gone from auth.users, for an address that was invited
set local request.jwt.claims = '{"sub": "f0000000-0000-4000-8000-000000000001", "role": "authenticated", "email": "nobody@tap.test"}';
insert into res values
  ('accept_ghost', public.accept_org_invitation((select token from tok where k = 'invite_missing'))::text);
-- an owner accepting a staff invitation stays owner
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-000000000001", "role": "authenticated", "email": "owner.a@tap.test"}';
insert into res values
  ('accept_owner_self', public.accept_org_invitation((select token from tok where k = 'invite_owner_self'))::text);
reset role;
select is((select v::jsonb from res where k = 'accept_wrong_account'),
          '{"success": false, "error": "invalid_invitation", "message": "This invitation is not valid for the signed-in account, or it has expired or been used"}'::jsonb,
          'another account cannot use someone else''s invitation');
select is((select array_agg(v::jsonb ->> 'error' order by k) from res where k in ('accept_again', 'accept_garbage', 'accept_ghost', 'accept_null')),
          array['invalid_invitation', 'invalid_invitation', 'invalid_invitation', 'invalid_invitation'],
          'a used, unknown, missing token, or a JWT of a deleted account: the same invalid_invitation (no 23503)');
select is((select v::jsonb from res where k = 'accept_ok'),
          '{"success": true, "orgId": "00000000-0000-4000-8000-00000000000a", "role": "staff"}'::jsonb,
          'the invited account accepts (token case-insensitive) and joins as staff');
select is((select role from public.org_members where org_id = '00000000-0000-4000-8000-00000000000a'
            and user_id = 'e0000000-0000-4000-8000-000000000001'), 'staff', 'the membership exists');
select is((select v::jsonb ->> 'success' from res where k = 'accept_invitee'), 'true', 'the e-mail claim matches case-insensitively');
select is((select accepted_by::text from public.org_invitations where email = 'invitee@tap.test'),
          'e0000000-0000-4000-8000-000000000002', 'the invitation records who accepted');
select is((select v::jsonb ->> 'role' from res where k = 'accept_owner_self'), 'owner', 'an invitation never demotes an owner');
select is((select count(*)::int from public.org_members where user_id = 'f0000000-0000-4000-8000-000000000001'), 0,
          'the deleted account joined nothing');

-- renewing replaces the token; an expired invitation is refused
set local role authenticated;
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-000000000001", "role": "authenticated", "email": "owner.a@tap.test"}';
insert into res values ('renew', public.invite_org_member('00000000-0000-4000-8000-00000000000a', 'nobody@tap.test', 'owner')::text);
reset role;
insert into auth.users (id, email) values ('f0000000-0000-4000-8000-000000000002', 'nobody@tap.test');
update public.org_invitations set expires_at = now() - interval '1 second' where email = 'staff.a@tap.test';
set local role authenticated;
set local request.jwt.claims = '{"sub": "f0000000-0000-4000-8000-000000000002", "role": "authenticated", "email": "nobody@tap.test"}';
insert into res values
  ('accept_old_token', public.accept_org_invitation((select token from tok where k = 'invite_missing'))::text),
  ('accept_new_token', public.accept_org_invitation((select v::jsonb ->> 'token' from res where k = 'renew'))::text);
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-000000000002", "role": "authenticated", "email": "staff.a@tap.test"}';
insert into res values ('accept_expired', public.accept_org_invitation((select token from tok where k = 'invite_member'))::text);
reset role;
select is((select v::jsonb ->> 'error' from res where k = 'accept_old_token'), 'invalid_invitation', 'a renewed invitation''s old token is dead');
select is((select v::jsonb ->> 'role' from res where k = 'accept_new_token'), 'owner', 'the new token works, with the renewed role');
select is((select v::jsonb ->> 'error' from res where k = 'accept_expired'), 'invalid_invitation', 'an expired invitation is refused');

-- anon can do none of it
set local role anon;
set local request.jwt.claims = '{"role": "anon"}';
insert into res values
  ('anon_invite', pg_temp.sqlstate_of($q$select public.invite_org_member('00000000-0000-4000-8000-00000000000a', 'x@tap.test')$q$)),
  ('anon_accept', pg_temp.sqlstate_of($q$select public.accept_org_invitation('x')$q$));
reset role;
select is((select v from res where k = 'anon_invite') || '|' || (select v from res where k = 'anon_accept'), '42501|42501',
          'anon cannot invite or accept');

select * from finish();
rollback;
