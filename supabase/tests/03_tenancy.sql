-- 03_tenancy: per-org uniqueness, composite foreign keys that make cross-org references
-- impossible, org_members role check, globally unique Vapi ids.
-- Self-contained fixtures (as postgres): orgs A and B, a member of each, a service, a lead and an
-- appointment per org.
begin;
select plan(30);

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
    values ('00000000-0000-4000-8000-00000000000a', '00000601-0000-4000-8000-00000000000b', 'booked', '{}')$$,
  '23503', null, 'an org A event referencing org B''s appointment is refused (23503)');
select lives_ok(
  $$insert into public.appointment_events (org_id, appointment_id, kind, payload)
    values ('00000000-0000-4000-8000-00000000000a', '00000601-0000-4000-8000-00000000000a', 'booked', '{}')$$,
  'an org A event referencing org A''s appointment is accepted');
select throws_ok(
  $$insert into public.appointment_events (org_id, appointment_id, kind, payload)
    values ('00000000-0000-4000-8000-00000000000a', '00000601-0000-4000-8000-00000000000a', 'deleted', '{}')$$,
  '23514', null, 'an event kind outside booked/cancelled/rescheduled is refused (23514)');
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

select * from finish();
rollback;
