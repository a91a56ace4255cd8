-- 04_rpc_privileges: every RPC of docs/rpc-contract.md (and the membership / Vapi mapping RPCs)
-- exists with its exact signature, returns json, is security definer with search_path = '', and is
-- executable exactly by the roles it is for: the booking RPCs by authenticated and service_role,
-- resolve_vapi_org and the mapping RPCs by service_role only, the invitation RPCs by the roles that
-- invite / accept; never PUBLIC or anon. Schema private is not usable by anon and its functions are
-- not directly executable except the two membership helpers RLS policies need.
-- Behaviour: anon cannot call; a member of org A acting for org B gets unknown_org and nothing is
-- written; service_role can book for both orgs.
begin;
select plan(266);

-- ---------------------------------------------------------------------------------------------
-- The contract
-- ---------------------------------------------------------------------------------------------
create temp table _rpc (ord int, fn name, args name[], ident text,
                       auth_privs text[] default array['EXECUTE'], svc_privs text[] default array['EXECUTE']) on commit drop;
insert into _rpc (ord, fn, args, ident) values
  (1, 'book_appointment_atomic_v2',
      array['uuid', 'text', 'text', 'text', 'text', 'timestamp with time zone', 'text', 'text'],
      'p_org_id uuid, p_name text, p_email text, p_phone text, p_service text, p_scheduled_at timestamp with time zone, p_idempotency_key text, p_source text'),
  (2, 'check_availability',
      array['uuid', 'text', 'timestamp with time zone', 'timestamp with time zone', 'integer', 'boolean', 'text',
            'date', 'time without time zone', 'time without time zone', 'time without time zone', 'time without time zone', 'text'],
      'p_org_id uuid, p_service text, p_from timestamp with time zone, p_to timestamp with time zone, p_limit integer, p_first_day_only boolean, p_provider text, p_day date, p_after time without time zone, p_before time without time zone, p_near time without time zone, p_at time without time zone, p_exclude_provider text'),
  (3, 'find_upcoming_appointments', array['uuid', 'jsonb'], 'p_org_id uuid, p_caller jsonb'),
  (4, 'cancel_appointment', array['uuid', 'jsonb', 'uuid', 'date', 'smallint', 'time without time zone', 'text', 'smallint', 'text',
            'time without time zone', 'time without time zone', 'smallint'],
      'p_org_id uuid, p_caller jsonb, p_appointment_id uuid, p_local_date date, p_weekday smallint, p_local_time time without time zone, p_reason text, p_day_of_month smallint, p_which text, p_after_time time without time zone, p_before_time time without time zone, p_ordinal smallint'),
  (5, 'reschedule_appointment_atomic',
      array['uuid', 'jsonb', 'timestamp with time zone', 'uuid', 'date', 'smallint', 'time without time zone', 'text', 'boolean', 'text', 'smallint', 'text',
            'time without time zone', 'time without time zone', 'smallint', 'date', 'time without time zone', 'integer', 'boolean', 'integer', 'smallint'],
      'p_org_id uuid, p_caller jsonb, p_new_scheduled_at timestamp with time zone, p_appointment_id uuid, p_local_date date, p_weekday smallint, p_local_time time without time zone, p_provider text, p_insist_provider boolean, p_exclude_provider text, p_day_of_month smallint, p_which text, p_after_time time without time zone, p_before_time time without time zone, p_ordinal smallint, p_new_local_date date, p_new_local_time time without time zone, p_shift_days integer, p_keep_time boolean, p_shift_minutes integer, p_new_weekday smallint'),
  (6, 'get_org_profile', array['uuid'], 'p_org_id uuid'),
  (7, 'resolve_vapi_org', array['text', 'text', 'uuid', 'boolean'],
      'p_assistant_id text, p_phone_number_id text, p_claimed_org_id uuid, p_allow_claim boolean'),
  (8, 'book_appointment',
      array['uuid', 'text', 'text', 'text', 'text', 'timestamp with time zone', 'text', 'text', 'date', 'jsonb', 'text', 'boolean', 'text'],
      'p_org_id uuid, p_name text, p_email text, p_phone text, p_service text, p_scheduled_at timestamp with time zone, p_idempotency_key text, p_source text, p_date_of_birth date, p_caller jsonb, p_provider text, p_insist_provider boolean, p_exclude_provider text'),
  (9, 'find_caller_appointment',
      array['uuid', 'jsonb', 'uuid', 'date', 'smallint', 'time without time zone', 'smallint', 'text',
            'time without time zone', 'time without time zone', 'smallint'],
      'p_org_id uuid, p_caller jsonb, p_appointment_id uuid, p_local_date date, p_weekday smallint, p_local_time time without time zone, p_day_of_month smallint, p_which text, p_after_time time without time zone, p_before_time time without time zone, p_ordinal smallint'),
  (10, 'invite_org_member', array['uuid', 'text', 'text'], 'p_org_id uuid, p_email text, p_role text'),
  (11, 'accept_org_invitation', array['text'], 'p_token text'),
  (12, 'map_vapi_id', array['uuid', 'text', 'text', 'text'],
       'p_org_id uuid, p_assistant_id text, p_phone_number_id text, p_label text'),
  (13, 'unmap_vapi_id', array['uuid', 'text', 'text'], 'p_org_id uuid, p_assistant_id text, p_phone_number_id text'),
  -- the whole call (20261125000750_calls.sql)
  (14, 'resolve_assistant_request', array['text', 'text', 'timestamp with time zone', 'boolean'],
       'p_phone_number_id text, p_assistant_id text, p_at timestamp with time zone, p_with_profile boolean'),
  (15, 'record_call_report', array['uuid', 'jsonb'], 'p_org_id uuid, p_call jsonb'),
  (16, 'mark_call_ended', array['uuid', 'text', 'timestamp with time zone', 'text'],
       'p_org_id uuid, p_call_id text, p_ended_at timestamp with time zone, p_ended_reason text'),
  (17, 'mark_call_hang', array['uuid', 'text', 'timestamp with time zone'],
       'p_org_id uuid, p_call_id text, p_at timestamp with time zone'),
  (18, 'transfer_destination', array['uuid', 'timestamp with time zone'], 'p_org_id uuid, p_at timestamp with time zone'),
  (19, 'take_message', array['uuid', 'jsonb', 'text', 'text', 'text', 'text'],
       'p_org_id uuid, p_caller jsonb, p_name text, p_phone text, p_reason text, p_preferred_time text'),
  (20, 'purge_call_artifacts', array[]::name[], ''),
  -- the operator's clinic apply (20261125000850_clinic_apply.sql)
  (21, 'apply_clinic', array['jsonb', 'boolean'], 'p_spec jsonb, p_dry_run boolean');
-- resolve_vapi_org answers unknown_org vs no_org: an existence oracle for a signed-in user, and only
-- the webhook needs it. The mapping RPCs are the operator's. Only a signed-in invitee accepts.
-- The call RPCs are the webhook's and the operator's: members read calls, call-back requests and
-- settings through RLS, and resolve_assistant_request would tell them which numbers other clinics use.
update _rpc set auth_privs = '{}' where fn in ('resolve_vapi_org', 'map_vapi_id', 'unmap_vapi_id',
  'resolve_assistant_request', 'record_call_report', 'mark_call_ended', 'mark_call_hang', 'transfer_destination', 'take_message',
  'purge_call_artifacts', 'apply_clinic');
update _rpc set svc_privs = '{}' where fn = 'accept_org_invitation';
grant select on _rpc to anon, authenticated, service_role;

create function pg_temp.rpc_oid(p_fn name, p_args name[]) returns regprocedure
language sql stable as $$
  select to_regprocedure(format('public.%I(%s)', p_fn, array_to_string(p_args, ',')))
$$;

-- 21 × 10 = 210
select has_function('public', fn, args, format('public.%s(%s) exists', fn, array_to_string(args, ', ')))
  from _rpc order by ord;
select is(pg_get_function_identity_arguments(pg_temp.rpc_oid(fn, args)), ident,
          format('public.%s has the contract''s argument names (named-argument calls)', fn))
  from _rpc order by ord;
select function_returns('public', fn, args, 'json', format('public.%s returns json', fn))
  from _rpc order by ord;
select is_definer('public', fn, args, format('public.%s is security definer', fn))
  from _rpc order by ord;
select ok((select proconfig @> array['search_path=""'] from pg_proc where oid = pg_temp.rpc_oid(fn, args)),
          format('public.%s has search_path = ''''', fn))
  from _rpc order by ord;
select function_privs_are('public', fn, args, 'anon', array[]::text[], format('anon cannot execute public.%s', fn))
  from _rpc order by ord;
select function_privs_are('public', fn, args, 'authenticated', auth_privs,
                          format('authenticated %s execute public.%s', case when auth_privs = '{}' then 'cannot' else 'can' end, fn))
  from _rpc order by ord;
select function_privs_are('public', fn, args, 'service_role', svc_privs,
                          format('service_role %s execute public.%s', case when svc_privs = '{}' then 'cannot' else 'can' end, fn))
  from _rpc order by ord;
select is(
  (select count(*)::int
     from pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) as a
    where p.oid = pg_temp.rpc_oid(fn, args) and a.grantee = 0 and a.privilege_type = 'EXECUTE'),
  0, format('PUBLIC cannot execute public.%s', fn))
  from _rpc order by ord;
select is((select count(*)::int from pg_proc where pronamespace = 'public'::regnamespace and proname = fn), 1,
          format('public.%s has exactly one overload (unambiguous named-argument calls)', fn))
  from _rpc order by ord;

-- book_appointment_atomic_v2 is callable with exactly 6 arguments (uuid, text, text, text, text, timestamptz)
select is(
  (select array[pronargs - pronargdefaults, pronargs]::int[]
     from pg_proc where oid = pg_temp.rpc_oid('book_appointment_atomic_v2',
       array['uuid', 'text', 'text', 'text', 'text', 'timestamp with time zone', 'text', 'text'])),
  array[6, 8],
  'book_appointment_atomic_v2: 6 required arguments, 2 with defaults');
select is(
  (select (proargtypes::regtype[])[0:5]::text[]
     from pg_proc where pronamespace = 'public'::regnamespace and proname = 'book_appointment_atomic_v2'),
  array['uuid', 'text', 'text', 'text', 'text', 'timestamp with time zone'],
  'book_appointment_atomic_v2 callable signature is (uuid, text, text, text, text, timestamptz)');
select is(
  (select pg_get_expr(proargdefaults, 0)
     from pg_proc where pronamespace = 'public'::regnamespace and proname = 'book_appointment_atomic_v2'),
  'NULL::text, ''api''::text',
  'book_appointment_atomic_v2 defaults: p_idempotency_key null, p_source ''api''');

-- the call RPCs answer Vapi within its deadlines: lock waits bounded in their own definitions
select ok((select proconfig @> array['search_path=""', 'lock_timeout=3s'] from pg_proc where oid = pg_temp.rpc_oid(fn, args)),
          format('public.%s has search_path = '''' and lock_timeout = 3s in its definition', fn))
  from _rpc where ord >= 14 order by ord;

-- erase_patient_data: service_role only (health data erasure is an operator's act, not a member's)
select has_function('public', 'erase_patient_data', array['uuid', 'text', 'text'], 'public.erase_patient_data(uuid, text, text) exists');
select is_definer('public', 'erase_patient_data', array['uuid', 'text', 'text'], 'public.erase_patient_data is security definer');
select ok((select proconfig @> array['search_path=""', 'lock_timeout=3s'] from pg_proc
            where oid = 'public.erase_patient_data(uuid, text, text)'::regprocedure),
          'public.erase_patient_data has search_path = '''' and lock_timeout = 3s');
select is(array(select r from unnest(array['anon', 'authenticated', 'service_role']) r
                 where has_function_privilege(r, 'public.erase_patient_data(uuid, text, text)', 'EXECUTE')),
          array['service_role'], 'only service_role can execute public.erase_patient_data');
select is(
  (select count(*)::int
     from pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) as a
    where p.oid = 'public.erase_patient_data(uuid, text, text)'::regprocedure and a.grantee = 0),
  0, 'PUBLIC cannot execute public.erase_patient_data');

-- nothing else callable in public (PostgREST would expose it)
select is(
  (select coalesce(array_agg(p.proname::text order by p.proname), '{}')
     from pg_proc p
    where p.pronamespace = 'public'::regnamespace
      and not exists (select 1 from pg_depend d
                       where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
      and p.proname not in (select fn from _rpc where auth_privs <> '{}')
      and (has_function_privilege('anon', p.oid, 'EXECUTE')
           or has_function_privilege('authenticated', p.oid, 'EXECUTE'))),
  '{}'::text[],
  'no other function in public is executable by anon or authenticated');

-- ---------------------------------------------------------------------------------------------
-- Schema private
-- ---------------------------------------------------------------------------------------------
select schema_privs_are('private', 'anon', array[]::text[], 'anon has no privileges on schema private');
select is(
  (select count(*)::int from pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) as a
    where n.nspname = 'private' and a.grantee = 0),
  0, 'PUBLIC has no privileges on schema private');
select ok(not has_schema_privilege('authenticated', 'private', 'CREATE'),
          'authenticated cannot create objects in schema private');
select is(
  (select coalesce(array_agg(p.oid::regprocedure::text order by 1), '{}')
     from pg_proc p
    where p.pronamespace = 'private'::regnamespace and has_function_privilege('anon', p.oid, 'EXECUTE')),
  '{}'::text[],
  'anon cannot execute any function in private');
select is(
  (select coalesce(array_agg(p.oid::regprocedure::text order by 1), '{}')
     from pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) as a
    where p.pronamespace = 'private'::regnamespace and a.grantee = 0 and a.privilege_type = 'EXECUTE'),
  '{}'::text[],
  'PUBLIC cannot execute any function in private');
select is(
  (select coalesce(array_agg(p.oid::regprocedure::text order by 1), '{}')
     from pg_proc p
    where p.pronamespace = 'private'::regnamespace
      and has_function_privilege('authenticated', p.oid, 'EXECUTE')
      and p.oid::regprocedure::text not in ('private.member_org_ids()', 'private.owner_org_ids()',
                                            'private.is_e164(text)', 'private.is_plausible_email(text)',
                                            'private.lenient_name(text)', 'private.service_aliases_plausible(text[])',
                                            'private.service_key(text)', 'private.service_keys(text,text,text[])')),
  '{}'::text[],
  'authenticated can execute no private function except the two membership helpers RLS policies use, the three predicates table constraints use (formats, service aliases) and the pure normalisers behind generated columns (appointments.patient_key, services.match_keys)');
select ok(not has_function_privilege('authenticated', 'private.is_org_member(uuid)', 'EXECUTE')
          and not has_function_privilege('authenticated', 'private.can_act_for_org(uuid)', 'EXECUTE'),
          'authenticated cannot execute private.is_org_member / can_act_for_org (only definer code calls them)');
select ok(has_function_privilege('authenticated', 'private.member_org_ids()', 'EXECUTE')
          and has_function_privilege('authenticated', 'private.owner_org_ids()', 'EXECUTE'),
          'authenticated can execute private.member_org_ids / owner_org_ids (RLS policies run as the caller)');

-- ---------------------------------------------------------------------------------------------
-- Fixtures (as postgres): orgs A (New York) and B (Berlin), open every day 09:00-17:00
-- ---------------------------------------------------------------------------------------------
insert into auth.users (id, email) values
  ('a0000000-0000-4000-8000-000000000001', 'owner.a@tap.test'),
  ('b0000000-0000-4000-8000-000000000001', 'owner.b@tap.test');
insert into public.orgs (id, name, timezone) values
  ('00000000-0000-4000-8000-00000000000a', 'TAP Clinic A', 'America/New_York'),
  ('00000000-0000-4000-8000-00000000000b', 'TAP Clinic B', 'Europe/Berlin');
insert into public.org_members (org_id, user_id, role) values
  ('00000000-0000-4000-8000-00000000000a', 'a0000000-0000-4000-8000-000000000001', 'owner'),
  ('00000000-0000-4000-8000-00000000000b', 'b0000000-0000-4000-8000-000000000001', 'owner');
insert into public.services (org_id, code, name, duration_minutes, buffer_minutes, is_default)
select o, 'consult', 'Consultation', 30, 0, true
  from unnest(array['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b']::uuid[]) as o;
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
select o, wd, '09:00', '17:00'
  from unnest(array['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b']::uuid[]) as o,
       generate_series(0, 6) as wd;
insert into public.leads (org_id, id, name, phone) values
  ('00000000-0000-4000-8000-00000000000a', '00000501-0000-4000-8000-00000000000a', 'Lead A', '+15550000001'),
  ('00000000-0000-4000-8000-00000000000b', '00000501-0000-4000-8000-00000000000b', 'Lead B', '+15550000001');
insert into public.appointments (org_id, id, lead_id, service_id, patient_name, starts_at, ends_at, blocked)
select o.id, ('00000601' || substr(o.id::text, 9))::uuid, ('00000501' || substr(o.id::text, 9))::uuid, s.id, 'Patient',
       ((now() at time zone o.timezone)::date + 5 + time '10:00') at time zone o.timezone,
       ((now() at time zone o.timezone)::date + 5 + time '10:30') at time zone o.timezone,
       tstzrange(((now() at time zone o.timezone)::date + 5 + time '10:00') at time zone o.timezone,
                 ((now() at time zone o.timezone)::date + 5 + time '10:30') at time zone o.timezone, '[)')
  from public.orgs o join public.services s on s.org_id = o.id
 where o.id in ('00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b');

-- A bookable instant per org: clinic-local day +3 at 14:00 (or 15:00), inside hours, horizon and notice.
create function pg_temp.slot(p_org uuid, p_hour int) returns timestamptz
language sql stable as $$
  select ((now() at time zone o.timezone)::date + 3 + make_time(p_hour, 0, 0)) at time zone o.timezone
    from public.orgs o where o.id = p_org
$$;
create temp table _slot (org uuid, hour int, at timestamptz) on commit drop;
insert into _slot
select o, h, pg_temp.slot(o, h)
  from unnest(array['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b']::uuid[]) as o,
       unnest(array[14, 15]) as h;
grant select on _slot to anon, authenticated, service_role;

create temp table _writes (phase text, org uuid, leads bigint, appointments bigint, events bigint) on commit drop;
create function pg_temp.count_writes(p_phase text) returns void
language sql as $$
  insert into _writes
  select p_phase, o,
         (select count(*) from public.leads l where l.org_id = o),
         (select count(*) from public.appointments a where a.org_id = o),
         (select count(*) from public.appointment_events e where e.org_id = o)
    from unnest(array['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b']::uuid[]) as o
$$;
select pg_temp.count_writes('before');

-- ---------------------------------------------------------------------------------------------
-- anon: no RPC is callable (42501), named-argument calls as PostgREST makes them
-- ---------------------------------------------------------------------------------------------
set local role anon;
set local request.jwt.claims = '{"role": "anon"}';
select throws_ok(
  $$select public.book_appointment_atomic_v2(p_org_id => '00000000-0000-4000-8000-00000000000a', p_name => 'Anon',
      p_email => null, p_phone => '+15550001111', p_service => 'consult', p_scheduled_at => now() + interval '3 days')$$,
  '42501', null, 'anon calling book_appointment_atomic_v2 is refused (42501)');
select throws_ok(
  $$select public.check_availability(p_org_id => '00000000-0000-4000-8000-00000000000a', p_service => 'consult',
      p_from => now())$$,
  '42501', null, 'anon calling check_availability is refused (42501)');
select throws_ok(
  $$select public.find_upcoming_appointments(p_org_id => '00000000-0000-4000-8000-00000000000a',
      p_caller => '{"callerNumber": "+15550000001"}')$$,
  '42501', null, 'anon calling find_upcoming_appointments is refused (42501)');
select throws_ok(
  $$select public.cancel_appointment(p_org_id => '00000000-0000-4000-8000-00000000000a',
      p_caller => '{"callerNumber": "+15550000001"}', p_appointment_id => '00000601-0000-4000-8000-00000000000a')$$,
  '42501', null, 'anon calling cancel_appointment is refused (42501)');
select throws_ok(
  $$select public.reschedule_appointment_atomic(p_org_id => '00000000-0000-4000-8000-00000000000a',
      p_caller => '{"callerNumber": "+15550000001"}',
      p_appointment_id => '00000601-0000-4000-8000-00000000000a', p_new_scheduled_at => now() + interval '4 days')$$,
  '42501', null, 'anon calling reschedule_appointment_atomic is refused (42501)');
select throws_ok(
  $$select public.book_appointment(p_org_id => '00000000-0000-4000-8000-00000000000a', p_name => 'Anon',
      p_email => null, p_phone => '+15550001111', p_service => 'consult', p_scheduled_at => now() + interval '3 days')$$,
  '42501', null, 'anon calling book_appointment is refused (42501)');
select throws_ok(
  $$select public.find_caller_appointment(p_org_id => '00000000-0000-4000-8000-00000000000a',
      p_caller => '{"callerNumber": "+15550000001"}')$$,
  '42501', null, 'anon calling find_caller_appointment is refused (42501)');
select throws_ok(
  $$select public.get_org_profile(p_org_id => '00000000-0000-4000-8000-00000000000a')$$,
  '42501', null, 'anon calling get_org_profile is refused (42501)');
select throws_ok(
  $$select public.resolve_vapi_org(p_assistant_id => 'tap-asst-a')$$,
  '42501', null, 'anon calling resolve_vapi_org is refused (42501)');
select throws_ok(
  $$select private.is_org_member('00000000-0000-4000-8000-00000000000a')$$,
  '42501', null, 'anon calling private.is_org_member is refused (42501)');
reset role;

-- ---------------------------------------------------------------------------------------------
-- member of A acting for org B: unknown_org, nothing written
-- ---------------------------------------------------------------------------------------------
set local role authenticated;
set local request.jwt.claims = '{"sub": "a0000000-0000-4000-8000-000000000001", "role": "authenticated"}';
select is(
  public.book_appointment_atomic_v2(
    p_org_id => '00000000-0000-4000-8000-00000000000b', p_name => 'Intruder', p_email => 'intruder@example.com',
    p_phone => '+15550002222', p_service => 'consult',
    p_scheduled_at => (select at from _slot where org = '00000000-0000-4000-8000-00000000000b' and hour = 14),
    p_idempotency_key => 'tap-intruder')::jsonb - 'message',
  '{"success": false, "error": "unknown_org"}'::jsonb,
  'member A booking for org B gets {"success":false,"error":"unknown_org"} (and nothing else)');
select is(
  public.book_appointment_atomic_v2('00000000-0000-4000-8000-00000000000b', 'Intruder', null, '+15550002223',
    'consult', (select at from _slot where org = '00000000-0000-4000-8000-00000000000b' and hour = 15))::jsonb ->> 'error',
  'unknown_org',
  'member A booking for org B with the 6-argument positional call also gets unknown_org');
select is(
  public.book_appointment_atomic_v2(
    p_org_id => '00000000-0000-4000-8000-0000000000ff', p_name => 'Ghost', p_email => null,
    p_phone => '+15550002224', p_service => 'consult',
    p_scheduled_at => (select at from _slot where org = '00000000-0000-4000-8000-00000000000b' and hour = 14))::jsonb - 'message',
  '{"success": false, "error": "unknown_org"}'::jsonb,
  'member A booking for a non-existent org gets the same unknown_org reply');
select is(public.get_org_profile(p_org_id => '00000000-0000-4000-8000-00000000000b')::jsonb ->> 'error', 'unknown_org',
          'member A reading org B''s profile gets unknown_org');
select is(public.find_upcoming_appointments(p_org_id => '00000000-0000-4000-8000-00000000000b',
            p_caller => '{"callerNumber": "+15550000001"}')::jsonb ->> 'error', 'unknown_org',
          'member A listing org B''s appointments gets unknown_org');
select is(public.cancel_appointment(p_org_id => '00000000-0000-4000-8000-00000000000b', p_caller => null,
            p_appointment_id => '00000601-0000-4000-8000-00000000000b')::jsonb ->> 'error', 'unknown_org',
          'member A cancelling an org B appointment gets unknown_org');
select is(public.reschedule_appointment_atomic(p_org_id => '00000000-0000-4000-8000-00000000000b', p_caller => null,
            p_appointment_id => '00000601-0000-4000-8000-00000000000b',
            p_new_scheduled_at => (select at from _slot where org = '00000000-0000-4000-8000-00000000000b' and hour = 15))::jsonb ->> 'error',
          'unknown_org', 'member A rescheduling an org B appointment gets unknown_org');
select is(public.find_caller_appointment(p_org_id => '00000000-0000-4000-8000-00000000000b', p_caller => null,
            p_appointment_id => '00000601-0000-4000-8000-00000000000b')::jsonb ->> 'error', 'unknown_org',
          'member A finding an org B appointment gets unknown_org');
select is(public.book_appointment(p_org_id => '00000000-0000-4000-8000-00000000000b', p_name => 'Intruder', p_email => null,
            p_phone => '+15550002225', p_service => 'consult', p_date_of_birth => '1990-01-01',
            p_scheduled_at => (select at from _slot where org = '00000000-0000-4000-8000-00000000000b' and hour = 15))::jsonb ->> 'error',
          'unknown_org', 'member A booking (with a date of birth) for org B gets unknown_org');
select is(public.check_availability(p_org_id => '00000000-0000-4000-8000-00000000000b', p_service => 'consult',
            p_from => now())::jsonb ->> 'error', 'unknown_org',
          'member A checking org B''s availability gets unknown_org');
select is(public.get_org_profile(p_org_id => '00000000-0000-4000-8000-00000000000a')::jsonb ->> 'success', 'true',
          'member A can read org A''s profile');
select is(
  public.book_appointment_atomic_v2(
    p_org_id => '00000000-0000-4000-8000-00000000000a', p_name => 'Member booking', p_email => null,
    p_phone => '+15550003333', p_service => 'consult',
    p_scheduled_at => (select at from _slot where org = '00000000-0000-4000-8000-00000000000a' and hour = 15))::jsonb ->> 'success',
  'true', 'member A can book for org A');
reset role;

select pg_temp.count_writes('after member A');
select is(
  (select row(leads, appointments, events)::text from _writes where phase = 'after member A' and org = '00000000-0000-4000-8000-00000000000b'),
  (select row(leads, appointments, events)::text from _writes where phase = 'before' and org = '00000000-0000-4000-8000-00000000000b'),
  'member A''s refused calls wrote nothing to org B (leads, appointments, events)');
select is((select count(*)::int from public.caller_access_log where org_id = '00000000-0000-4000-8000-00000000000b'), 0,
          'member A''s refused calls left no access-log row in org B');
select is(
  (select status from public.appointments
    where org_id = '00000000-0000-4000-8000-00000000000b' and id = '00000601-0000-4000-8000-00000000000b'),
  'pending', 'org B''s appointment is still pending after member A''s cancel attempt');
select is(
  (select row(leads, appointments, events)::text from _writes where phase = 'after member A' and org = '00000000-0000-4000-8000-00000000000a'),
  (select row(leads + 1, appointments + 1, events + 1)::text from _writes where phase = 'before' and org = '00000000-0000-4000-8000-00000000000a'),
  'member A''s own booking wrote one lead, one appointment and one event in org A');

-- ---------------------------------------------------------------------------------------------
-- service_role can book for both orgs
-- ---------------------------------------------------------------------------------------------
set local role service_role;
set local request.jwt.claims = '{"role": "service_role"}';
select is(
  public.book_appointment_atomic_v2(
    p_org_id => '00000000-0000-4000-8000-00000000000a', p_name => 'Webhook A', p_email => 'webhook.a@example.com',
    p_phone => '+15550004444', p_service => 'consult',
    p_scheduled_at => (select at from _slot where org = '00000000-0000-4000-8000-00000000000a' and hour = 14),
    p_idempotency_key => 'tap-service-a', p_source => 'vapi')::jsonb ->> 'success',
  'true', 'service_role can book for org A');
select is(
  public.book_appointment_atomic_v2(
    p_org_id => '00000000-0000-4000-8000-00000000000b', p_name => 'Webhook B', p_email => null,
    p_phone => '+15550004444', p_service => 'consult',
    p_scheduled_at => (select at from _slot where org = '00000000-0000-4000-8000-00000000000b' and hour = 14),
    p_idempotency_key => 'tap-service-b')::jsonb ->> 'success',
  'true', 'service_role can book for org B');
select is(public.get_org_profile(p_org_id => '00000000-0000-4000-8000-00000000000b')::jsonb ->> 'success', 'true',
          'service_role can read org B''s profile');
reset role;

select pg_temp.count_writes('after service_role');
select is(
  (select array_agg(row(leads, appointments, events)::text order by org) from _writes where phase = 'after service_role'),
  (select array_agg(row(leads + 1, appointments + 1, events + 1)::text order by org) from _writes where phase = 'after member A'),
  'service_role''s bookings wrote one lead, one appointment and one event in each org');
select results_eq(
  $$select org_id, starts_at, status, source from public.appointments
     where idempotency_key in ('tap-service-a', 'tap-service-b') order by org_id$$,
  $$select org, at, 'pending'::text, s from _slot
      join (values ('00000000-0000-4000-8000-00000000000a'::uuid, 'vapi'), ('00000000-0000-4000-8000-00000000000b'::uuid, 'api')) v(o, s)
        on v.o = _slot.org
     where hour = 14 order by org$$,
  'the service_role bookings are stored pending at the requested instants in the right orgs');

select * from finish();
rollback;
