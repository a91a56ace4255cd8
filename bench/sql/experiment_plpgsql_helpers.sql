-- Experiment (not applied by `make bench`): the hot SQL-language helpers rewritten as plpgsql with
-- identical bodies. A SQL function with a SET clause is never inlined and is parsed and planned
-- again on every call from a plpgsql statement; plpgsql keeps its plans for the session.
--   psql -d bench -f bench/sql/experiment_plpgsql_helpers.sql, then rerun the rpc pgbench phase.
create or replace function private.iso(p_ts timestamptz) returns text
language plpgsql stable set search_path = '' as $$
begin
  return to_char(p_ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
end $$;

create or replace function private.horizon_end(p_timezone text, p_days integer) returns timestamptz
language plpgsql stable set search_path = '' as $$
begin
  return ((now() at time zone p_timezone) + make_interval(days => p_days)) at time zone p_timezone;
end $$;

create or replace function private.service_json(p_org_id uuid, p_service_id uuid) returns json
language plpgsql stable set search_path = '' as $$
begin
  return (select json_build_object('code', s.code, 'name', s.name, 'durationMinutes', s.duration_minutes,
                                   'bufferMinutes', s.buffer_minutes)
          from public.services s where s.org_id = p_org_id and s.id = p_service_id);
end $$;

create or replace function private.resolve_service(p_org_id uuid, p_service text) returns uuid
language plpgsql stable set search_path = '' as $$
begin
  return coalesce(
    (select s.id from public.services s
      where s.org_id = p_org_id and s.active and nullif(btrim(p_service), '') is not null
        and (lower(s.code) = lower(btrim(p_service)) or lower(s.name) = lower(btrim(p_service)))
      order by (lower(s.code) = lower(btrim(p_service))) desc limit 1),
    (select s.id from public.services s where s.org_id = p_org_id and s.active and s.is_default limit 1));
end $$;

create or replace function private.can_act_for_org(p_org_id uuid) returns boolean
language plpgsql stable security definer set search_path = '' as $$
begin
  return case
    when (select auth.uid()) is not null
      or coalesce((select auth.role()), '') in ('authenticated', 'anon')
      or coalesce(pg_catalog.current_setting('role', true), '') in ('authenticated', 'anon')
      then private.is_org_member(p_org_id)
    when (select auth.role()) = 'service_role' then true
    when coalesce((select auth.role()), '') = '' then true
    else false
  end;
end $$;
