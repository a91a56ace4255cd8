-- Scheduling: the ONE slot generator and the ONE validator shared by booking, rescheduling,
-- alternatives and availability. All wall-clock reasoning happens in the clinic's zone with
-- `local timestamp AT TIME ZONE org.timezone`, so DST days come out right.
-- Everything here is private (not exposed); the public RPCs are security definer and call it.
-- The small helpers are plpgsql even where one SELECT would do: with `set search_path = ''` a SQL
-- function is never inlined, and a non-inlined SQL function called from plpgsql is parsed and
-- planned again on every call, while plpgsql keeps its plans for the session. That was most of a
-- booking's cost (bench/README.md, "What the profiles found").
-- The reply builders it uses (private.iso_array, service_json, refusal_message) live in
-- 20261125000150_replies.sql; the one reply built here is the refusal with alternatives.

-- Latest bookable start: clinic-local now + horizon days (a "day" is a clinic day, DST-correct).
create or replace function private.horizon_end(p_timezone text, p_days integer)
returns timestamptz
language plpgsql
stable
set search_path = ''
as $$
begin
  return ((now() at time zone p_timezone) + make_interval(days => p_days)) at time zone p_timezone;
end;
$$;
revoke all on function private.horizon_end(text, integer) from public, anon;

-- Service named by the caller: code or name, trimmed, case-insensitive, active only; blank or
-- unknown text falls back to the org's default service (never an error). NULL only if the org
-- has no active default at all.
create or replace function private.resolve_service(p_org_id uuid, p_service text)
returns uuid
language plpgsql
stable
set search_path = ''
as $$
begin
  return coalesce(
    (select s.id
       from public.services s
      where s.org_id = p_org_id
        and s.active
        and nullif(btrim(p_service), '') is not null
        and (lower(s.code) = lower(btrim(p_service)) or lower(s.name) = lower(btrim(p_service)))
      order by (lower(s.code) = lower(btrim(p_service))) desc
      limit 1),
    (select s.id
       from public.services s
      where s.org_id = p_org_id and s.active and s.is_default
      limit 1)
  );
end;
$$;
revoke all on function private.resolve_service(uuid, text) from public, anon;

-- Free, aligned start times in [p_from, p_to), chronological.
-- Per clinic-local date, per business-hours interval of its weekday:
--   start = (local_date + opens_at) + k * slot_interval   (wall clock)
--   kept while start + duration + buffer <= local_date + closes_at,
-- converted with `AT TIME ZONE org.timezone` (wall-clock times skipped by a spring-forward gap are
-- dropped); then minus closures, minus overlap with active appointments' `blocked` (optionally
-- ignoring one appointment: the one being rescheduled), not before now() + min notice, not after
-- the horizon. Callers keep windows small (see private.nearest_slots) so this stays cheap.
-- The window's closures and appointments are read once, as multiranges (one GiST range scan), and
-- each start is tested against them by binary search: probing the GiST index once per start was
-- most of an alternatives request in a clinic with 100k appointments.
create or replace function private.candidate_slots(
  p_org_id uuid,
  p_service_id uuid,
  p_from timestamptz,
  p_to timestamptz,
  p_exclude_appointment_id uuid default null
)
returns setof timestamptz
language plpgsql
stable
set search_path = ''
as $$
declare
  v_tz text;
  v_step_min integer;
  v_total interval;
  v_lo timestamptz;
  v_hi timestamptz;
  v_closed tstzmultirange;
  v_busy tstzmultirange;
begin
  -- scalars first, so the slot query below is a simple cached plan (plpgsql keeps plans)
  select o.timezone,
         o.slot_interval_minutes,
         make_interval(mins => s.duration_minutes + s.buffer_minutes),
         greatest(p_from, now() + make_interval(mins => o.min_notice_minutes)),
         least(coalesce(p_to, 'infinity'::timestamptz),
               private.horizon_end(o.timezone, o.booking_horizon_days) + interval '1 microsecond')
    into v_tz, v_step_min, v_total, v_lo, v_hi
    from public.orgs o
    join public.services s on s.org_id = o.id and s.id = p_service_id
   where o.id = p_org_id;
  if not found or v_lo is null or v_hi is null or v_lo >= v_hi then
    return;
  end if;

  -- every [start, start + total) below lies inside [v_lo, v_hi + total)
  select coalesce(range_agg(c.during), '{}')
    into v_closed
    from public.closures c
   where c.org_id = p_org_id
     and c.during && tstzrange(v_lo, v_hi + v_total);
  select coalesce(range_agg(a.blocked), '{}')
    into v_busy
    from public.appointments a
   where a.org_id = p_org_id
     and a.status <> 'cancelled'
     and a.blocked && tstzrange(v_lo, v_hi + v_total)
     and (p_exclude_appointment_id is null or a.id <> p_exclude_appointment_id);

  return query
  with starts as (
    select
      (d::date + bh.closes_at) as local_close,
      (d::date + bh.opens_at) + make_interval(mins => k * v_step_min) as local_start
    from generate_series((v_lo at time zone v_tz)::date::timestamp,
                         (v_hi at time zone v_tz)::date::timestamp,
                         interval '1 day') as d
    join public.business_hours bh
      on bh.org_id = p_org_id
     and bh.weekday = extract(dow from d)::smallint
    cross join lateral generate_series(
      0, (extract(epoch from (bh.closes_at - bh.opens_at))::integer / 60) / v_step_min) as k
  ),
  instants as (
    select st.local_close, st.local_start, st.local_start at time zone v_tz as starts_at
    from starts st
  )
  select i.starts_at
  from instants i
  where i.starts_at >= v_lo
    and i.starts_at < v_hi
    and i.starts_at > now()
    -- the wall-clock time exists that day (not inside a spring-forward gap)
    and (i.starts_at at time zone v_tz) = i.local_start
    -- visit + buffer ends inside the same interval
    and ((i.starts_at + v_total) at time zone v_tz) <= i.local_close
    and not (v_closed && tstzrange(i.starts_at, i.starts_at + v_total))
    and not (v_busy && tstzrange(i.starts_at, i.starts_at + v_total))
  order by i.starts_at;
end;
$$;
revoke all on function private.candidate_slots(uuid, uuid, timestamptz, timestamptz, uuid) from public, anon;

-- The earliest p_limit free slots from p_from (to p_to / the horizon), expanding the scanned window
-- progressively (2 → 8 → 32 → 128 → … clinic days) so the common case touches only a few days.
create or replace function private.earliest_slots(
  p_org_id uuid,
  p_service_id uuid,
  p_from timestamptz,
  p_to timestamptz,
  p_limit integer,
  p_exclude_appointment_id uuid default null
)
returns timestamptz[]
language plpgsql
stable
set search_path = ''
as $$
declare
  v_tz text;
  v_end timestamptz;
  v_from timestamptz;
  v_to timestamptz;
  v_days integer := 2;
  v_result timestamptz[];
begin
  if p_limit is null or p_limit <= 0 or p_from is null then
    return '{}';
  end if;
  select o.timezone, private.horizon_end(o.timezone, o.booking_horizon_days) + interval '1 microsecond'
    into v_tz, v_end
    from public.orgs o where o.id = p_org_id;
  if not found then
    return '{}';
  end if;
  v_end := least(v_end, coalesce(p_to, 'infinity'::timestamptz));
  v_from := greatest(p_from, now());  -- windows before now hold nothing
  loop
    v_to := least(v_end, (((v_from at time zone v_tz)::date + v_days)::timestamp) at time zone v_tz);
    v_result := array(
      select t from private.candidate_slots(p_org_id, p_service_id, v_from, v_to, p_exclude_appointment_id) as t
      order by t
      limit p_limit);
    exit when cardinality(v_result) >= p_limit or v_to >= v_end;
    v_days := v_days * 4;
  end loop;
  return v_result;
end;
$$;
revoke all on function private.earliest_slots(uuid, uuid, timestamptz, timestamptz, integer, uuid) from public, anon;

-- Alternatives for a refused start: the (up to) p_limit free slots nearest to it — the same
-- clinic-local day first (either side, nearest first), then the following days earliest first.
-- When the request lies beyond the horizon, the latest slots inside the horizon are offered.
-- Returned chronologically.
create or replace function private.nearest_slots(
  p_org_id uuid,
  p_service_id uuid,
  p_requested timestamptz,
  p_limit integer default 3,
  p_exclude_appointment_id uuid default null
)
returns timestamptz[]
language plpgsql
stable
set search_path = ''
as $$
declare
  v_tz text;
  v_horizon timestamptz;
  v_local_date date;
  v_day_start timestamptz;
  v_next_day timestamptz;
  v_same timestamptz[];
  v_more timestamptz[] := '{}';
  v_days integer := 2;
  v_from timestamptz;
begin
  select o.timezone, private.horizon_end(o.timezone, o.booking_horizon_days)
    into v_tz, v_horizon
    from public.orgs o where o.id = p_org_id;
  if not found or p_requested is null then
    return '{}';
  end if;

  v_local_date := (p_requested at time zone v_tz)::date;
  v_day_start := v_local_date::timestamp at time zone v_tz;
  v_next_day := (v_local_date + 1)::timestamp at time zone v_tz;

  -- 1. the requested clinic-local day, nearest either side
  v_same := array(
    select t
    from private.candidate_slots(p_org_id, p_service_id, v_day_start, v_next_day, p_exclude_appointment_id) as t
    order by abs(extract(epoch from (t - p_requested))), t
    limit p_limit);

  -- 2. following days, earliest first
  if cardinality(v_same) < p_limit then
    v_from := greatest(v_next_day, now());
    v_more := private.earliest_slots(p_org_id, p_service_id, v_from, null,
                                     p_limit - cardinality(v_same), p_exclude_appointment_id);
  end if;

  -- 3. beyond the horizon: the latest slots still inside it
  if cardinality(v_same) + cardinality(v_more) = 0 and p_requested > v_horizon then
    loop
      v_from := greatest(now(), (((v_horizon at time zone v_tz)::date - v_days)::timestamp) at time zone v_tz);
      v_more := array(
        select t
        from private.candidate_slots(p_org_id, p_service_id, v_from, null, p_exclude_appointment_id) as t
        order by t desc
        limit p_limit);
      exit when cardinality(v_more) >= p_limit or v_from <= now();
      v_days := v_days * 4;
    end loop;
  end if;

  return array(select t from unnest(v_same || v_more) as t order by t);
end;
$$;
revoke all on function private.nearest_slots(uuid, uuid, timestamptz, integer, uuid) from public, anon;

-- The validator: why may p_start not be booked for this service? NULL = bookable.
-- Order: in_past, too_soon, too_far_ahead, closed, outside_business_hours, slot_unavailable.
-- p_exclude_appointment_id: the appointment being rescheduled does not conflict with itself.
-- Two statements, not one per check: every statement plpgsql runs costs an executor start, and the
-- successful booking needs all four lookups anyway.
create or replace function private.slot_refusal(
  p_org_id uuid,
  p_service_id uuid,
  p_start timestamptz,
  p_exclude_appointment_id uuid default null
)
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
  v_tz text;
  v_min_notice integer;
  v_horizon_days integer;
  v_total interval;
  v_end timestamptz;
  v_local timestamp;
  v_local_end timestamp;
  v_date date;
  v_open_that_day boolean;
  v_closure boolean;
  v_within_hours boolean;
  v_taken boolean;
begin
  select o.timezone, o.min_notice_minutes, o.booking_horizon_days,
         (select make_interval(mins => s.duration_minutes + s.buffer_minutes)
            from public.services s where s.org_id = p_org_id and s.id = p_service_id)
    into v_tz, v_min_notice, v_horizon_days, v_total
    from public.orgs o where o.id = p_org_id;

  if p_start <= now() then
    return 'in_past';
  end if;
  if p_start < now() + make_interval(mins => v_min_notice) then
    return 'too_soon';
  end if;
  if p_start > private.horizon_end(v_tz, v_horizon_days) then
    return 'too_far_ahead';
  end if;

  v_end := p_start + v_total;
  v_local := p_start at time zone v_tz;
  v_local_end := v_end at time zone v_tz;
  v_date := v_local::date;

  select exists (
           select 1 from public.business_hours bh
           where bh.org_id = p_org_id and bh.weekday = extract(dow from v_date)),
         exists (
           select 1 from public.closures c
           where c.org_id = p_org_id and c.during && tstzrange(p_start, v_end)),
         exists (
           select 1 from public.business_hours bh
           where bh.org_id = p_org_id
             and bh.weekday = extract(dow from v_date)
             and v_local >= v_date + bh.opens_at
             and v_local_end <= v_date + bh.closes_at),
         exists (
           select 1 from public.appointments a
           where a.org_id = p_org_id
             and a.status <> 'cancelled'
             and a.blocked && tstzrange(p_start, v_end)
             and (p_exclude_appointment_id is null or a.id <> p_exclude_appointment_id))
    into v_open_that_day, v_closure, v_within_hours, v_taken;

  if not v_open_that_day then
    return 'closed';
  end if;
  if v_closure then
    return 'closed';
  end if;
  if not v_within_hours then
    return 'outside_business_hours';
  end if;
  if v_taken then
    return 'slot_unavailable';
  end if;
  return null;
end;
$$;
revoke all on function private.slot_refusal(uuid, uuid, timestamptz, uuid) from public, anon;

-- A refusal reply with alternatives (nearest free slots to the requested start): the shape of every
-- time refusal (booking, rescheduling), with the service and the clinic's zone.
create or replace function private.slot_refusal_reply(
  p_code text,
  p_org_id uuid,
  p_service_id uuid,
  p_requested timestamptz,
  p_exclude_appointment_id uuid default null
)
returns json
language plpgsql
stable
set search_path = ''
as $$
declare
  v_alts timestamptz[];
begin
  v_alts := private.nearest_slots(p_org_id, p_service_id, p_requested, 3, p_exclude_appointment_id);
  return json_build_object(
    'success', false,
    'error', p_code,
    'message', private.refusal_message(p_code, cardinality(v_alts) > 0),
    'alternatives', private.iso_array(v_alts),
    'service', private.service_json(p_org_id, p_service_id),
    'timezone', (select o.timezone from public.orgs o where o.id = p_org_id));
end;
$$;
revoke all on function private.slot_refusal_reply(text, uuid, uuid, timestamptz, uuid) from public, anon;
