-- Authorisation inside the RPCs, RLS on every table, grants, search_path hygiene, timezone check.
begin;
select plan(39);

insert into auth.users (id, email) values
  ('d1400000-0000-4000-8000-00000000000a', 'member@t14.example'),
  ('d1400000-0000-4000-8000-00000000000b', 'stranger@t14.example');
insert into public.orgs (id, name, timezone, booking_horizon_days) values
  ('c1400000-0000-4000-8000-000000000001', 'Mine', 'America/Denver', 365),
  ('c1400000-0000-4000-8000-000000000002', 'Theirs', 'America/Denver', 365);
insert into public.org_members (org_id, user_id, role) values
  ('c1400000-0000-4000-8000-000000000001', 'd1400000-0000-4000-8000-00000000000a', 'staff');
insert into public.services (org_id, code, name, duration_minutes, is_default) values
  ('c1400000-0000-4000-8000-000000000001', 'consult', 'Consultation', 30, true),
  ('c1400000-0000-4000-8000-000000000002', 'consult', 'Consultation', 30, true);
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
select o, d, '09:00', '17:00'
from unnest(array['c1400000-0000-4000-8000-000000000001', 'c1400000-0000-4000-8000-000000000002']::uuid[]) o, generate_series(1, 5) d;
insert into public.vapi_assistants (org_id, assistant_id) values ('c1400000-0000-4000-8000-000000000002', 'asst_t14_theirs');

create temp table d as
  select ((((now() at time zone 'America/Denver')::date + 14 + n) + time '10:00') at time zone 'America/Denver') as t
  from generate_series(0, 6) n
  where extract(dow from (now() at time zone 'America/Denver')::date + 14 + n) = 2;
create temp table res (k text primary key, v text);
grant select, insert on res to authenticated, anon, service_role;
create function pg_temp.sqlstate_of(p_sql text) returns text language plpgsql as $f$
begin
  execute p_sql;
  return 'ok';
exception when others then
  return sqlstate;
end $f$;
grant execute on function pg_temp.sqlstate_of(text) to authenticated, anon, service_role;
grant select on d to authenticated, anon, service_role;

-- Theirs has one appointment (booked by the trusted connection)
select is(public.book_appointment_atomic_v2(p_org_id => 'c1400000-0000-4000-8000-000000000002', p_name => 'Other Patient',
          p_email => null, p_phone => '+17205550002', p_service => null, p_scheduled_at => (select t from d))->>'success',
          'true', 'trusted connection (no JWT claims) may act for any org');

-- As the member ---------------------------------------------------------------------------------------
select set_config('request.jwt.claims', '{"sub":"d1400000-0000-4000-8000-00000000000a","role":"authenticated"}', true);
set local role authenticated;
insert into res values
  ('m_book_own', public.book_appointment_atomic_v2(p_org_id => 'c1400000-0000-4000-8000-000000000001', p_name => 'Mine Patient',
     p_email => null, p_phone => '+17205550001', p_service => null, p_scheduled_at => (select t from d))->>'success');
insert into res values
  ('m_book_other', public.book_appointment_atomic_v2(p_org_id => 'c1400000-0000-4000-8000-000000000002', p_name => 'X',
     p_email => null, p_phone => '+17205550003', p_service => null, p_scheduled_at => (select t from d) + interval '1 hour')->>'error'),
  ('m_profile_other', public.get_org_profile('c1400000-0000-4000-8000-000000000002')->>'error'),
  ('m_avail_other', public.check_availability(p_org_id => 'c1400000-0000-4000-8000-000000000002', p_service => null, p_from => now())->>'error'),
  ('m_find_other', public.find_upcoming_appointments(p_org_id => 'c1400000-0000-4000-8000-000000000002', p_caller => null)->>'error'),
  ('m_vapi_other', pg_temp.sqlstate_of($q$select public.resolve_vapi_org(p_assistant_id => 'asst_t14_theirs')$q$)),
  ('m_vapi_claim_other', pg_temp.sqlstate_of($q$select public.resolve_vapi_org(p_claimed_org_id => 'c1400000-0000-4000-8000-000000000002')$q$)),
  ('m_vapi_none', pg_temp.sqlstate_of($q$select public.resolve_vapi_org()$q$)),
  ('m_see_appts', (select count(*) from public.appointments)::text),
  ('m_see_view', (select string_agg(clinic_name, ',') from public.upcoming_appointments)),
  ('m_see_leads', (select string_agg(name, ',') from public.leads)),
  ('m_see_orgs', (select string_agg(name, ',') from public.orgs where id in ('c1400000-0000-4000-8000-000000000001', 'c1400000-0000-4000-8000-000000000002'))),
  ('m_see_events', (select count(*) from public.appointment_events)::text);
with u as (update public.services set name = 'Hacked' where org_id = 'c1400000-0000-4000-8000-000000000002' returning 1)
insert into res select 'm_update_other', count(*)::text from u;
reset role;

select is((select v from res where k = 'm_book_own'), 'true', 'member books in own org');
select is((select v from res where k = 'm_book_other'), 'unknown_org', 'member booking in another org → unknown_org');
select is((select v from res where k = 'm_profile_other'), 'unknown_org', 'get_org_profile of another org → unknown_org');
select is((select v from res where k = 'm_avail_other'), 'unknown_org', 'check_availability of another org → unknown_org');
select is((select v from res where k = 'm_find_other'), 'unknown_org', 'find_upcoming_appointments of another org → unknown_org');
-- resolve_vapi_org is the webhook's: to a member, unknown_org vs no_org would tell which ids exist
select is((select v from res where k = 'm_vapi_other'), '42501', 'a member cannot call resolve_vapi_org for another org''s assistant');
select is((select v from res where k = 'm_vapi_claim_other'), '42501', 'nor with a claimed org id');
select is((select v from res where k = 'm_vapi_none'), '42501', 'nor without ids (no unknown_org / no_org oracle)');
select is((select v from res where k = 'm_see_appts'), '1', 'RLS: member sees only own org''s appointments');
select is((select v from res where k = 'm_see_view'), 'Mine', 'view is security_invoker: only own org');
select is((select v from res where k = 'm_see_leads'), 'Mine Patient', 'RLS: leads of own org only');
select is((select v from res where k = 'm_see_orgs'), 'Mine', 'RLS: own org only');
select is((select v from res where k = 'm_see_events'), '1', 'RLS: own outbox only');
select is((select v from res where k = 'm_update_other'), '0', 'RLS: cannot update another org''s rows');

-- As a stranger (authenticated, no membership) and without claims after SET ROLE ------------------------
select set_config('request.jwt.claims', '{"sub":"d1400000-0000-4000-8000-00000000000b","role":"authenticated"}', true);
set local role authenticated;
insert into res values
  ('s_book', public.book_appointment_atomic_v2(p_org_id => 'c1400000-0000-4000-8000-000000000001', p_name => 'S',
     p_email => null, p_phone => '+17205550009', p_service => null, p_scheduled_at => (select t from d) + interval '2 hours')->>'error'),
  ('s_see', (select count(*) from public.appointments)::text);
select set_config('request.jwt.claims', '', true);
insert into res values
  ('noclaims_book', public.get_org_profile('c1400000-0000-4000-8000-000000000001')->>'error');
reset role;
select is((select v from res where k = 's_book'), 'unknown_org', 'non-member gets unknown_org');
select is((select v from res where k = 's_see'), '0', 'non-member sees no rows');
select is((select v from res where k = 'noclaims_book'), 'unknown_org', 'SET ROLE authenticated without claims is not trusted');

-- service_role JWT ---------------------------------------------------------------------------------------
select set_config('request.jwt.claims', '{"role":"service_role"}', true);
set local role service_role;
insert into res values ('svc_profile', public.get_org_profile('c1400000-0000-4000-8000-000000000001')->>'success');
reset role;
select set_config('request.jwt.claims', '', true);
select is((select v from res where k = 'svc_profile'), 'true', 'service_role may act for any org');

-- anon ---------------------------------------------------------------------------------------------------
select set_config('request.jwt.claims', '{"role":"anon"}', true);
set local role anon;
insert into res values ('anon_leads', pg_temp.sqlstate_of('select count(*) from public.leads'));
reset role;
select set_config('request.jwt.claims', '', true);
select is((select v from res where k = 'anon_leads'), '42501', 'anon cannot even read leads (no privilege, and no policy)');
select ok(not has_function_privilege('anon', 'public.book_appointment_atomic_v2(uuid,text,text,text,text,timestamptz,text,text)', 'execute'),
          'anon cannot execute the booking RPC');
select ok(not exists (
            select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            where n.nspname = 'public' and has_function_privilege('anon', p.oid, 'execute')),
          'anon can execute no public function');
select ok(not has_schema_privilege('anon', 'private', 'usage'), 'private schema not usable by anon');
select ok(not exists (
            select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            where n.nspname = 'private' and has_function_privilege('anon', p.oid, 'execute')),
          'anon can execute no private function');
select ok(has_function_privilege('authenticated', 'public.get_org_profile(uuid)', 'execute')
          and has_function_privilege('service_role', 'public.get_org_profile(uuid)', 'execute'),
          'authenticated and service_role may execute RPCs');

-- Hygiene ----------------------------------------------------------------------------------------------
select is((select array_agg(c.relname::text order by c.relname) from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'public' and c.relkind = 'r' and not c.relrowsecurity), null, 'RLS enabled on every public table');
select is((select array_agg(p.proname::text order by p.proname) from pg_proc p join pg_namespace n on n.oid = p.pronamespace
           where n.nspname in ('public', 'private')
             and not coalesce(p.proconfig @> array['search_path=""'], false)), null,
          'every function has search_path = ''''');
select is((select array_agg(p.proname::text order by p.proname) from pg_proc p join pg_namespace n on n.oid = p.pronamespace
           where n.nspname = 'public' and p.prokind = 'f' and not p.prosecdef), null, 'every public RPC is security definer');
select ok((select reloptions @> array['security_invoker=true'] from pg_class where oid = 'public.upcoming_appointments'::regclass),
          'upcoming_appointments is security_invoker');

select is((select count(*)::int from information_schema.role_table_grants
           where table_schema = 'public' and grantee in ('anon', 'authenticated')
             and privilege_type in ('TRUNCATE', 'REFERENCES', 'TRIGGER')), 0,
          'anon/authenticated cannot truncate (RLS does not cover TRUNCATE), reference or trigger public tables');

select is((select array_agg(c.relname::text order by c.relname) from pg_class c
           where c.relnamespace = 'public'::regnamespace and c.relkind = 'v'
             and coalesce(c.reloptions, '{}') @> array['security_invoker=true']),
          array['appointment_activity', 'call_appointments', 'call_log', 'open_callback_requests', 'opening_hours',
                'provider_day', 'stranded_appointments', 'upcoming_appointments'],
          'every Studio view is security_invoker');
set local role anon;
select throws_ok('select count(*) from public.opening_hours', '42501', null, 'anon cannot read opening_hours');
select throws_ok('select count(*) from public.appointment_activity', '42501', null, 'anon cannot read appointment_activity');
select throws_ok('select count(*) from public.upcoming_appointments', '42501', null, 'anon cannot read upcoming_appointments');
reset role;
select is((select array_agg(weekday_name order by weekday) from public.opening_hours
            where org_id = 'c1400000-0000-4000-8000-000000000001'),
          array['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday'],
          'opening_hours names weekdays 1..5 Monday..Friday');

-- Timezone validation ------------------------------------------------------------------------------------
select throws_ok($$insert into public.orgs (name, timezone) values ('Bad', 'America/Nowhere')$$, '22023', null, 'invalid zone refused on insert');
select throws_ok($$update public.orgs set timezone = 'Mars/Olympus' where id = 'c1400000-0000-4000-8000-000000000001'$$, '22023', null, 'invalid zone refused on update');
select lives_ok($$insert into public.orgs (name, timezone) values ('Good', 'Europe/Berlin')$$, 'valid zone accepted');
select throws_ok($$insert into public.services (org_id, code, name, duration_minutes, is_default)
                   values ('c1400000-0000-4000-8000-000000000001', 'second', 'Second', 30, true)$$, '23505', null, 'one default service per org');

select * from finish();
rollback;
