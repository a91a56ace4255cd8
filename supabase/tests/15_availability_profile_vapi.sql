-- check_availability (window, limit, first_day_only), get_org_profile, resolve_vapi_org.
begin;
select plan(24);

insert into public.orgs (id, name, timezone, phone_region, slot_interval_minutes, min_notice_minutes, booking_horizon_days)
values ('c1500000-0000-4000-8000-000000000001', 'Test Clinic Fifteen', 'America/Los_Angeles', 'US', 30, 60, 365),
       ('c1500000-0000-4000-8000-000000000002', 'Unmapped Clinic', 'America/Los_Angeles', 'US', 30, 60, 365);
insert into public.services (org_id, code, name, duration_minutes, buffer_minutes, is_default) values
  ('c1500000-0000-4000-8000-000000000001', 'cleaning', 'Cleaning', 45, 15, true),
  ('c1500000-0000-4000-8000-000000000001', 'whitening', 'Whitening', 60, 0, false);
-- Mon–Thu 08:00–16:00, Fri 08:00–12:00
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
select 'c1500000-0000-4000-8000-000000000001', d, '08:00', case when d = 5 then time '12:00' else time '16:00' end
from generate_series(1, 5) d;
insert into public.vapi_assistants (org_id, assistant_id, phone_number_id) values
  ('c1500000-0000-4000-8000-000000000001', 'asst_t15', 'pn_t15'),
  ('c1500000-0000-4000-8000-000000000002', 'asst_t15_b', null);

create function pg_temp.day(p_offset int, p_dow int) returns date language sql as $$
  select d::date from generate_series((now() at time zone 'America/Los_Angeles')::date + p_offset,
                                      (now() at time zone 'America/Los_Angeles')::date + p_offset + 6, interval '1 day') d
  where extract(dow from d) = p_dow limit 1 $$;
create function pg_temp.at(p_day date, p_time time) returns timestamptz language sql as $$
  select (p_day + p_time) at time zone 'America/Los_Angeles' $$;
create function pg_temp.iso(p_day date, p_time time) returns text language sql as $$
  select to_char(pg_temp.at(p_day, p_time) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;
create temp table d as select pg_temp.day(14, 5) as fri;
create temp table r (k text primary key, j json);

-- check_availability --------------------------------------------------------------------------------
insert into r values ('win', public.check_availability(p_org_id => 'c1500000-0000-4000-8000-000000000001', p_service => 'whitening',
  p_from => pg_temp.at((select fri from d), '09:00'), p_to => pg_temp.at((select fri from d), '11:00'), p_limit => 10));
select is((select (j->'slots')::jsonb from r where k = 'win'),
          jsonb_build_array(pg_temp.iso((select fri from d), '09:00'), pg_temp.iso((select fri from d), '09:30'), pg_temp.iso((select fri from d), '10:00'),
                            pg_temp.iso((select fri from d), '10:30')),
          'window [from, to): aligned starts, whitening fits until 11:00 start excluded');
select is((select j->'service'->>'code' || '|' || (j->>'timezone') from r where k = 'win'), 'whitening|America/Los_Angeles', 'service and timezone');
select is(json_array_length(public.check_availability(p_org_id => 'c1500000-0000-4000-8000-000000000001', p_service => null,
  p_from => pg_temp.at((select fri from d), '08:00'))->'slots'), 3, 'default limit 3');
-- Friday closes 12:00: cleaning (45+15) last start 11:00; first_day_only from Fri 11:00 → Fri 11:00 only
select is((public.check_availability(p_org_id => 'c1500000-0000-4000-8000-000000000001', p_service => 'cleaning',
  p_from => pg_temp.at((select fri from d), '11:00'), p_limit => 10, p_first_day_only => true)->'slots')::jsonb,
  jsonb_build_array(pg_temp.iso((select fri from d), '11:00')), 'first_day_only keeps to that day');
-- from Fri 11:30 nothing fits on Friday; weekend closed → Monday 08:00.. (first day only)
insert into r values ('roll', public.check_availability(p_org_id => 'c1500000-0000-4000-8000-000000000001', p_service => 'cleaning',
  p_from => pg_temp.at((select fri from d), '11:30'), p_limit => 50, p_first_day_only => true));
select is((select j->'slots'->>0 from r where k = 'roll'), pg_temp.iso((select fri from d) + 3, '08:00'), 'first_day_only rolls to the next open day');
select is((select json_array_length(j->'slots') from r where k = 'roll'), 15, 'all Monday slots 08:00..15:00, none from Tuesday');
select is(public.check_availability(p_org_id => 'c1500000-0000-4000-8000-000000000001', p_service => null,
  p_from => now(), p_to => now() - interval '1 day')->>'error', 'invalid_input', 'bad window');
select is(public.check_availability(p_org_id => 'c1500000-0000-4000-8000-000000000001', p_service => null,
  p_from => now(), p_limit => 51)->>'error', 'invalid_input', 'limit above 50');
select is(public.check_availability(p_org_id => 'c1500000-0000-4000-8000-0000000000ff', p_service => null,
  p_from => now())->>'error', 'unknown_org', 'unknown org');
select ok((public.check_availability(p_org_id => 'c1500000-0000-4000-8000-000000000001', p_service => null,
  p_from => now() - interval '1 day')->'slots'->>0)::timestamptz >= now() + interval '60 minutes',
  'never offers slots inside the minimum notice');

-- get_org_profile ------------------------------------------------------------------------------------
insert into r values ('prof', public.get_org_profile('c1500000-0000-4000-8000-000000000001'));
select is((select (j->'org')::jsonb from r where k = 'prof'),
          '{"id":"c1500000-0000-4000-8000-000000000001","name":"Test Clinic Fifteen","timezone":"America/Los_Angeles","phoneRegion":"US","slotIntervalMinutes":30,"minNoticeMinutes":60,"bookingHorizonDays":365}'::jsonb,
          'org object');
select is((select (j->'services'->0)::jsonb from r where k = 'prof'),
          '{"code":"cleaning","name":"Cleaning","durationMinutes":45,"bufferMinutes":15,"isDefault":true}'::jsonb, 'services with isDefault');
select is((select (j->'hours'->4)::jsonb from r where k = 'prof'), '{"weekday":5,"opensAt":"08:00","closesAt":"12:00"}'::jsonb, 'hours as HH:MI, weekday 0 = Sunday');
select is(public.get_org_profile('c1500000-0000-4000-8000-0000000000ff')->>'error', 'unknown_org', 'unknown org');

-- resolve_vapi_org -----------------------------------------------------------------------------------
select is((public.resolve_vapi_org(p_assistant_id => 'asst_t15')::jsonb - 'timezone'),
          '{"success":true,"orgId":"c1500000-0000-4000-8000-000000000001","source":"assistant"}'::jsonb, 'assistant mapping');
select is(public.resolve_vapi_org(p_assistant_id => 'asst_unknown', p_phone_number_id => 'pn_t15')->>'source', 'phone_number', 'phone-number mapping when the assistant is unmapped');
select is(public.resolve_vapi_org(p_assistant_id => 'asst_t15', p_claimed_org_id => 'c1500000-0000-4000-8000-000000000001')->>'source',
          'assistant', 'matching claim accepted; mapping wins');
select is(public.resolve_vapi_org(p_assistant_id => 'asst_t15', p_claimed_org_id => 'c1500000-0000-4000-8000-000000000002')->>'error',
          'org_mismatch', 'claim contradicting the mapping refused');
select is(public.resolve_vapi_org(p_claimed_org_id => 'c1500000-0000-4000-8000-000000000002', p_allow_claim => true)->>'orgId' || '|' ||
          (public.resolve_vapi_org(p_claimed_org_id => 'c1500000-0000-4000-8000-000000000002', p_allow_claim => true)->>'source'),
          'c1500000-0000-4000-8000-000000000002|claim', 'claim only, claims allowed: accepted when the org exists');
select is(public.resolve_vapi_org(p_claimed_org_id => 'c1500000-0000-4000-8000-0000000000ff', p_allow_claim => true)->>'error' || '|' ||
          (public.resolve_vapi_org()->>'error'), 'unknown_org|no_org', 'unknown claimed org; nothing to go on');
-- By default a claim only confirms a mapping: alone it is not enough (production webhook).
select is(public.resolve_vapi_org(p_claimed_org_id => 'c1500000-0000-4000-8000-000000000002')->>'error', 'no_org',
          'claim only, claims not allowed: refused although the org exists');
select is(public.resolve_vapi_org(p_claimed_org_id => 'c1500000-0000-4000-8000-000000000002', p_allow_claim => false)::jsonb,
          public.resolve_vapi_org(p_claimed_org_id => 'c1500000-0000-4000-8000-0000000000ff', p_allow_claim => false)::jsonb,
          'claims not allowed: the claimed org is not even looked at (same reply for a missing org)');
select is(public.resolve_vapi_org(p_assistant_id => 'asst_t15', p_claimed_org_id => 'c1500000-0000-4000-8000-000000000001', p_allow_claim => false)->>'source',
          'assistant', 'claims not allowed: a claim that confirms the mapping is fine');
select is(public.resolve_vapi_org(p_phone_number_id => 'pn_t15', p_allow_claim => null)->>'orgId',
          'c1500000-0000-4000-8000-000000000001', 'a null p_allow_claim is false, mappings unaffected');

select * from finish();
rollback;
