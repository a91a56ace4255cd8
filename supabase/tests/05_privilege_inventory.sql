-- 05_privilege_inventory: EVERY privilege anon and authenticated hold in this database, read from the
-- catalogs, compared with the list below. Each line of the expected lists is a decision; a new
-- object that grants anything to anon/authenticated (or a grant that goes missing) fails here until
-- the list says so. Also: objects created later start closed (default privileges), the `setval`
-- attack on the outbox sequence fails, and service_role keeps what the webhook needs.
--
-- What is enumerated (effective privileges, i.e. including what PUBLIC holds; anon and
-- authenticated are NOINHERIT members of nothing):
--   schemas     USAGE / CREATE on every schema except pg_catalog, information_schema, pg_toast, temp;
--   relations   SELECT INSERT UPDATE DELETE TRUNCATE REFERENCES TRIGGER (+ MAINTAIN from PostgreSQL 17,
--               which adds it to ALL) on tables, views, materialized views and foreign tables;
--   columns     column-level grants beyond the table-level ones;
--   sequences   USAGE / SELECT / UPDATE;
--   functions   EXECUTE on every function and procedure;
--   database    CONNECT / TEMPORARY / CREATE on this database.
-- Objects that belong to an extension (pgcrypto, uuid-ossp, btree_gist, pgtap: PostgreSQL's own
-- EXECUTE-to-PUBLIC default, no security definer code) are left out; see the last check for why
-- that is safe.
begin;
select plan(14);

create function pg_temp.privileges(p_role name)
returns table (privilege text)
language sql stable as $$
  with schemas as (
    select n.oid, n.nspname from pg_namespace n
     where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
       and n.nspname !~ '^pg_(toast_)?temp_'
  ),
  rel_privs as (
    -- PostgreSQL 17 adds MAINTAIN (VACUUM/ANALYZE/REINDEX/...) to the table privileges and to ALL
    select unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']
                  || case when current_setting('server_version_num')::int >= 170000
                          then array['MAINTAIN'] else '{}'::text[] end) as p
  ),
  own_relations as (
    select c.* from pg_class c join schemas s on s.oid = c.relnamespace
     where not exists (select 1 from pg_depend d
                        where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
  )
  select format('schema %s %s', s.nspname, p)
    from schemas s, unnest(array['USAGE', 'CREATE']) as p
   where has_schema_privilege(p_role, s.oid, p)
  union all
  select format('%s %s.%s %s',
                case c.relkind when 'v' then 'view' when 'm' then 'materialized view'
                               when 'f' then 'foreign table' else 'table' end,
                c.relnamespace::regnamespace, c.relname, r.p)
    from own_relations c, rel_privs r
   where c.relkind in ('r', 'p', 'v', 'm', 'f') and has_table_privilege(p_role, c.oid, r.p)
  union all
  select format('column %s.%s.%s %s', c.relnamespace::regnamespace, c.relname, a.attname, acl.privilege_type)
    from own_relations c
    join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attacl is not null,
         aclexplode(a.attacl) as acl
   where acl.grantee in (0, p_role::regrole::oid)
     and not has_table_privilege(p_role, c.oid, acl.privilege_type)
  union all
  select format('sequence %s.%s %s', c.relnamespace::regnamespace, c.relname, p)
    from own_relations c, unnest(array['USAGE', 'SELECT', 'UPDATE']) as p
   where c.relkind = 'S' and has_sequence_privilege(p_role, c.oid, p)
  union all
  select format('function %s.%s(%s) EXECUTE', s.nspname, f.proname, oidvectortypes(f.proargtypes))
    from pg_proc f join schemas s on s.oid = f.pronamespace
   where not exists (select 1 from pg_depend d
                      where d.classid = 'pg_proc'::regclass and d.objid = f.oid and d.deptype = 'e')
     and has_function_privilege(p_role, f.oid, 'EXECUTE')
  union all
  select format('database %s', p)
    from unnest(array['CONNECT', 'TEMPORARY', 'CREATE']) as p
   where has_database_privilege(p_role, current_database(), p)
$$;

-- ---------------------------------------------------------------------------------------------
-- What both API roles hold: the platform's (scripts/platform-shim.sql, as on hosted Supabase).
-- ---------------------------------------------------------------------------------------------
create temp table _platform (privilege text) on commit drop;
insert into _platform values
  -- PUBLIC's defaults on every database; PostgREST issues no DDL, temp tables hold no one else's data
  ('database CONNECT'),
  ('database TEMPORARY'),
  -- resolving names; USAGE alone opens no object in them
  ('schema public USAGE'),
  ('schema extensions USAGE'),
  ('schema auth USAGE'),
  -- the platform's claim readers: they read the caller's own JWT claims, nothing else
  ('function auth.uid() EXECUTE'),
  ('function auth.role() EXECUTE'),
  ('function auth.email() EXECUTE'),
  ('function auth.jwt() EXECUTE');

-- ---------------------------------------------------------------------------------------------
-- anon: nothing of ours. No table, view, sequence, column or function; the webhook is not anon.
-- ---------------------------------------------------------------------------------------------
select set_eq(
  $$select privilege from pg_temp.privileges('anon')$$,
  $$select privilege from _platform$$,
  'anon holds exactly the platform''s privileges and nothing of this project (PostgreSQL '
  || current_setting('server_version_num')::int / 10000 || ')');

-- ---------------------------------------------------------------------------------------------
-- authenticated: a signed-in clinic member, every table filtered by RLS (02_rls_matrix).
-- ---------------------------------------------------------------------------------------------
create temp table _authenticated (privilege text) on commit drop;
insert into _authenticated select privilege from _platform;
insert into _authenticated values
  -- RLS policies call the membership helpers as the caller
  ('schema private USAGE'),
  ('function private.member_org_ids() EXECUTE'),
  ('function private.owner_org_ids() EXECUTE'),
  -- CHECK constraints on leads run the format predicates as the member who writes the row
  ('function private.is_e164(text) EXECUTE'),
  ('function private.is_plausible_email(text) EXECUTE'),
  -- … and the one on services.aliases, and services.match_keys is generated, as the member who
  -- edits a service (pure functions)
  ('function private.service_aliases_plausible(text[]) EXECUTE'),
  ('function private.service_key(text) EXECUTE'),
  ('function private.service_keys(text, text, text[]) EXECUTE'),
  -- appointments.patient_key is generated from it when a member writes an appointment (pure function)
  ('function private.lenient_name(text) EXECUTE'),
  -- orgs: members read and edit their clinic's settings; id and created_at never change
  ('table public.orgs SELECT'),
  ('column public.orgs.name UPDATE'),
  ('column public.orgs.timezone UPDATE'),
  ('column public.orgs.phone_region UPDATE'),
  ('column public.orgs.slot_interval_minutes UPDATE'),
  ('column public.orgs.min_notice_minutes UPDATE'),
  ('column public.orgs.booking_horizon_days UPDATE'),
  -- org_members: no INSERT (joining takes an accepted invitation); owners re-role and remove
  ('table public.org_members SELECT'),
  ('table public.org_members DELETE'),
  ('column public.org_members.role UPDATE'),
  -- org_invitations: owners read (never the token hash) and withdraw; created by invite_org_member
  ('column public.org_invitations.org_id SELECT'),
  ('column public.org_invitations.id SELECT'),
  ('column public.org_invitations.email SELECT'),
  ('column public.org_invitations.role SELECT'),
  ('column public.org_invitations.invited_by SELECT'),
  ('column public.org_invitations.expires_at SELECT'),
  ('column public.org_invitations.accepted_at SELECT'),
  ('column public.org_invitations.accepted_by SELECT'),
  ('column public.org_invitations.created_at SELECT'),
  ('table public.org_invitations DELETE'),
  -- the clinic's catalog, managed by its members
  ('table public.services SELECT'), ('table public.services INSERT'), ('table public.services UPDATE'), ('table public.services DELETE'),
  ('table public.business_hours SELECT'), ('table public.business_hours INSERT'),
  ('table public.business_hours UPDATE'), ('table public.business_hours DELETE'),
  ('table public.closures SELECT'), ('table public.closures INSERT'), ('table public.closures UPDATE'), ('table public.closures DELETE'),
  -- providers (issue 10): who works there, what each does, when, and their time off — the catalog
  ('table public.providers SELECT'), ('table public.providers INSERT'), ('table public.providers UPDATE'), ('table public.providers DELETE'),
  ('table public.provider_services SELECT'), ('table public.provider_services INSERT'),
  ('table public.provider_services UPDATE'), ('table public.provider_services DELETE'),
  ('table public.provider_hours SELECT'), ('table public.provider_hours INSERT'),
  ('table public.provider_hours UPDATE'), ('table public.provider_hours DELETE'),
  ('table public.provider_time_off SELECT'), ('table public.provider_time_off INSERT'),
  ('table public.provider_time_off UPDATE'), ('table public.provider_time_off DELETE'),
  -- Vapi routing: read only (service_role maps, after confirming the id with Vapi)
  ('table public.vapi_assistants SELECT'),
  -- patients and their appointments; appointments are cancelled, never deleted
  ('table public.leads SELECT'), ('table public.leads INSERT'), ('table public.leads UPDATE'), ('table public.leads DELETE'),
  ('table public.appointments SELECT'), ('table public.appointments INSERT'),
  -- ... and updated in everything but what identifies the row and its history (id, org_id, created_at,
  -- idempotency_key, updated_at)
  ('column public.appointments.lead_id UPDATE'), ('column public.appointments.service_id UPDATE'),
  ('column public.appointments.patient_name UPDATE'), ('column public.appointments.patient_date_of_birth UPDATE'),
  ('column public.appointments.starts_at UPDATE'), ('column public.appointments.ends_at UPDATE'),
  ('column public.appointments.blocked UPDATE'), ('column public.appointments.status UPDATE'),
  ('column public.appointments.source UPDATE'),
  -- the audit trail: read only (ids, times, who acted; written by the appointments trigger)
  ('table public.appointment_events SELECT'),
  -- who was told or changed what (caller verification): read only, append-only by trigger
  ('table public.caller_access_log SELECT'),
  -- credentials: that one exists, never its value
  ('column public.org_credentials.org_id SELECT'),
  ('column public.org_credentials.provider SELECT'),
  ('column public.org_credentials.name SELECT'),
  ('column public.org_credentials.storage SELECT'),
  ('column public.org_credentials.created_at SELECT'),
  ('column public.org_credentials.updated_at SELECT'),
  -- calls (20261125000750_calls.sql): members manage their call settings and transfer hours, read
  -- the call log (written by the service only) and mark call-back requests done (status only)
  ('table public.clinic_call_settings SELECT'), ('table public.clinic_call_settings INSERT'),
  ('table public.clinic_call_settings UPDATE'), ('table public.clinic_call_settings DELETE'),
  ('table public.transfer_hours SELECT'), ('table public.transfer_hours INSERT'),
  ('table public.transfer_hours UPDATE'), ('table public.transfer_hours DELETE'),
  ('table public.calls SELECT'),
  ('table public.callback_requests SELECT'),
  ('column public.callback_requests.status UPDATE'),
  -- the dashboard's views (security_invoker: the caller's RLS applies)
  ('view public.upcoming_appointments SELECT'),
  ('view public.appointment_activity SELECT'),
  ('view public.opening_hours SELECT'),
  ('view public.provider_day SELECT'),
  ('view public.stranded_appointments SELECT'),
  ('view public.call_appointments SELECT'),
  ('view public.call_log SELECT'),
  ('view public.open_callback_requests SELECT'),
  -- RPCs that act for the caller's own orgs only (private.can_act_for_org / can_manage_members)
  ('function public.book_appointment_atomic_v2(uuid, text, text, text, text, timestamp with time zone, text, text) EXECUTE'),
  ('function public.check_availability(uuid, text, timestamp with time zone, timestamp with time zone, integer, boolean, text, date, time without time zone, time without time zone, time without time zone, time without time zone, text) EXECUTE'),
  ('function public.book_appointment(uuid, text, text, text, text, timestamp with time zone, text, text, date, jsonb, text, boolean, text) EXECUTE'),
  -- the caller-facing finders and changes: staff act as `staff` (p_caller null, membership checked)
  ('function public.find_upcoming_appointments(uuid, jsonb) EXECUTE'),
  ('function public.find_caller_appointment(uuid, jsonb, uuid, date, smallint, time without time zone, smallint, text, time without time zone, time without time zone, smallint) EXECUTE'),
  ('function public.cancel_appointment(uuid, jsonb, uuid, date, smallint, time without time zone, text, smallint, text, time without time zone, time without time zone, smallint) EXECUTE'),
  ('function public.reschedule_appointment_atomic(uuid, jsonb, timestamp with time zone, uuid, date, smallint, time without time zone, text, boolean, text, smallint, text, time without time zone, time without time zone, smallint, date, time without time zone, integer, boolean, integer, smallint) EXECUTE'),
  ('function public.get_org_profile(uuid) EXECUTE'),
  ('function public.invite_org_member(uuid, text, text) EXECUTE'),
  ('function public.accept_org_invitation(text) EXECUTE');

select set_eq(
  $$select privilege from pg_temp.privileges('authenticated')$$,
  $$select privilege from _authenticated$$,
  'authenticated holds exactly the listed privileges (PostgreSQL ' || current_setting('server_version_num')::int / 10000 || ')');

-- The classes that must stay empty, said on their own so a failure names the class.
select is((select count(*)::int from (select privilege from pg_temp.privileges('anon')
                                      union all select privilege from pg_temp.privileges('authenticated')) p
            where p.privilege like 'sequence %'), 0,
          'anon and authenticated hold no privilege on any sequence');
select is((select count(*)::int from (select privilege from pg_temp.privileges('anon')
                                      union all select privilege from pg_temp.privileges('authenticated')) p
            where p.privilege ~ ' (TRUNCATE|REFERENCES|TRIGGER|MAINTAIN)$'), 0,
          'anon and authenticated cannot truncate (RLS does not cover it), reference, trigger or maintain anything');

-- ---------------------------------------------------------------------------------------------
-- The setval attack (issue 9, point 3): a direct session as anon / authenticated.
-- ---------------------------------------------------------------------------------------------
set local role anon;
select throws_ok($$select setval('public.appointment_events_id_seq', 9223372036854775807)$$, '42501', null,
                 'anon cannot setval the outbox sequence');
select throws_ok($$select nextval('public.appointment_events_id_seq')$$, '42501', null, 'anon cannot nextval it either');
reset role;
set local role authenticated;
select throws_ok($$select setval('public.appointment_events_id_seq', 9223372036854775807)$$, '42501', null,
                 'authenticated cannot setval the outbox sequence');
reset role;

-- ---------------------------------------------------------------------------------------------
-- Objects created from now on start closed (the migration role's default privileges), including
-- PUBLIC's EXECUTE on functions; service_role keeps the platform default.
-- ---------------------------------------------------------------------------------------------
create table public.tap_probe (id bigint generated always as identity primary key, note text);
create view public.tap_probe_view with (security_invoker = true) as select id from public.tap_probe;
create function public.tap_probe_fn() returns integer language sql as 'select 1';
create function private.tap_probe_private_fn() returns integer language sql as 'select 1';
select is(
  (select array_agg(privilege order by privilege) from (
     select privilege from pg_temp.privileges('anon') union all select privilege from pg_temp.privileges('authenticated')) p
    where privilege like '%tap_probe%'),
  null, 'a new table, its identity sequence, a view and functions grant nothing to anon or authenticated');
select is(
  (select count(*)::int from pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
    where p.proname in ('tap_probe_fn', 'tap_probe_private_fn') and a.grantee = 0),
  0, 'a new function grants no EXECUTE to PUBLIC (public or private schema)');
select ok(has_table_privilege('service_role', 'public.tap_probe', 'SELECT, INSERT, UPDATE, DELETE')
          and has_function_privilege('service_role', 'public.tap_probe_fn()', 'EXECUTE'),
          'service_role keeps the platform default on new objects in public');

-- Extension functions keep PostgreSQL's default (EXECUTE to PUBLIC) in schema extensions; that is
-- safe because none of them is security definer, and no extension object lives in public/private.
select is(
  (select coalesce(array_agg(p.oid::regprocedure::text order by 1), '{}') from pg_proc p
    where p.prosecdef and has_function_privilege('anon', p.oid, 'EXECUTE')
      and p.pronamespace not in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)),
  '{}'::text[], 'anon can execute no security definer function anywhere');
select is(
  (select coalesce(array_agg(distinct n.nspname::text), '{}') from pg_depend d
     join pg_proc p on d.classid = 'pg_proc'::regclass and d.objid = p.oid
     join pg_namespace n on n.oid = p.pronamespace
    where d.deptype = 'e' and n.nspname in ('public', 'private')),
  '{}'::text[], 'no extension function lives in public or private');

-- ---------------------------------------------------------------------------------------------
-- service_role keeps what the webhook and the operator commands need.
-- ---------------------------------------------------------------------------------------------
select set_has(
  $$select privilege from pg_temp.privileges('service_role')$$,
  $$values ('schema public USAGE'),
      ('function public.book_appointment_atomic_v2(uuid, text, text, text, text, timestamp with time zone, text, text) EXECUTE'),
      ('function public.check_availability(uuid, text, timestamp with time zone, timestamp with time zone, integer, boolean, text, date, time without time zone, time without time zone, time without time zone, time without time zone, text) EXECUTE'),
      ('function public.book_appointment(uuid, text, text, text, text, timestamp with time zone, text, text, date, jsonb, text, boolean, text) EXECUTE'),
      ('function public.find_upcoming_appointments(uuid, jsonb) EXECUTE'),
      ('function public.find_caller_appointment(uuid, jsonb, uuid, date, smallint, time without time zone, smallint, text, time without time zone, time without time zone, smallint) EXECUTE'),
      ('function public.cancel_appointment(uuid, jsonb, uuid, date, smallint, time without time zone, text, smallint, text, time without time zone, time without time zone, smallint) EXECUTE'),
      ('function public.reschedule_appointment_atomic(uuid, jsonb, timestamp with time zone, uuid, date, smallint, time without time zone, text, boolean, text, smallint, text, time without time zone, time without time zone, smallint, date, time without time zone, integer, boolean, integer, smallint) EXECUTE'),
      ('function public.erase_patient_data(uuid, text, text) EXECUTE'),
      ('function public.get_org_profile(uuid) EXECUTE'),
      ('function public.resolve_vapi_org(text, text, uuid, boolean) EXECUTE'),
      ('function public.claim_webhook_signature(text, timestamp with time zone) EXECUTE'),
      ('function public.vapi_webhook_secret_index(text) EXECUTE'),
      ('function public.get_org_credential(uuid, text, text) EXECUTE'),
      ('function public.set_org_credential(uuid, text, text, text) EXECUTE'),
      ('function public.list_org_credentials(uuid) EXECUTE'),
      ('function public.list_org_credential_ciphertexts() EXECUTE'),
      ('function public.delete_org_credential(uuid, text, text) EXECUTE'),
      ('function public.rekey_org_credentials(jsonb) EXECUTE'),
      ('function public.list_org_assistants(uuid) EXECUTE'),
      ('function public.map_vapi_id(uuid, text, text, text) EXECUTE'),
      ('function public.unmap_vapi_id(uuid, text, text) EXECUTE'),
      ('function public.invite_org_member(uuid, text, text) EXECUTE'),
      ('function public.ensure_health_check_org() EXECUTE'),
      ('function public.health_check_inspect(uuid, uuid, timestamp with time zone) EXECUTE'),
      ('function public.clear_health_check_org() EXECUTE'),
      ('function public.clear_health_check_bookings(uuid, uuid[]) EXECUTE'),
      ('function public.resolve_assistant_request(text, text, timestamp with time zone, boolean) EXECUTE'),
      ('function public.record_call_report(uuid, jsonb) EXECUTE'),
      ('function public.mark_call_ended(uuid, text, timestamp with time zone, text) EXECUTE'),
      ('function public.mark_call_hang(uuid, text, timestamp with time zone) EXECUTE'),
      ('function public.transfer_destination(uuid, timestamp with time zone) EXECUTE'),
      ('function public.take_message(uuid, jsonb, text, text, text, text) EXECUTE'),
      ('function public.purge_call_artifacts() EXECUTE'),
      ('function public.apply_clinic(jsonb, boolean) EXECUTE')$$,
  'service_role can execute every RPC the webhook and the operator commands call');
-- the platform's ALL on tables: what ALL means depends on the major version
select set_eq(
  $$select privilege from pg_temp.privileges('service_role') where privilege like 'table public.appointment_events %'$$,
  $$select 'table public.appointment_events ' || p
      from unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']
                  || case when current_setting('server_version_num')::int >= 170000
                          then array['MAINTAIN'] else '{}'::text[] end) as p$$,
  'service_role holds ALL on the outbox (the platform default; ALL includes MAINTAIN from PostgreSQL 17)');

select * from finish();
rollback;
