-- Scheduling: the ONE slot generator and the ONE validator shared by booking, rescheduling,
-- alternatives and availability, provider-aware: the clinic's grid, hours, closures, notice and
-- horizon first, then per provider who performs the service its own hours (∩ the clinic's), time off
-- and appointments (20261125000250_providers.sql). All wall-clock reasoning happens in the clinic's
-- zone with `local timestamp AT TIME ZONE org.timezone`, so DST days come out right.
-- Everything here is private (not exposed); the public RPCs are security definer and call it.
-- The small helpers are plpgsql even where one SELECT would do: with `set search_path = ''` a SQL
-- function is never inlined, and a non-inlined SQL function called from plpgsql is parsed and
-- planned again on every call, while plpgsql keeps its plans for the session. That was most of a
-- booking's cost (bench/README.md, "What the profiles found").
-- The reply builders it uses (private.iso_array, service_json, refusal_message) live in
-- 20261125000150_replies.sql; the one reply built here is the refusal with alternatives.

-- Latest bookable start: the end of the clinic-local day that is horizon days after today (its last
-- microsecond; a "day" is a clinic day, DST-correct). Whole days, as callers hear it ("we book up to
-- 120 days ahead": the 120th day is bookable all day, at whatever hour the caller rings). It was
-- now + N days at the current clock time, so before opening time the last day had no slot inside
-- the horizon and was called full (issue 11, second probe round).
create or replace function private.horizon_end(p_timezone text, p_days integer)
returns timestamptz
language plpgsql
stable
set search_path = ''
as $$
begin
  return (((now() at time zone p_timezone)::date + p_days + 1)::timestamp at time zone p_timezone)
         - interval '1 microsecond';
end;
$$;

-- Two words that differ only by two neighbouring letters swapped ("physcial" / "physical"): the
-- commonest typing and transcription slip, and the one trigrams score worst (0.38 there: a swap breaks
-- three trigrams of a short word). Only for words of 5+ letters, so "shto" is no "shot" guess.
create or replace function private.one_swap_apart(p_a text, p_b text)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
declare
  i integer := 1;
  n integer := length(p_a);
begin
  if n < 5 or length(p_b) <> n or p_a = p_b then
    return false;
  end if;
  while substr(p_a, i, 1) = substr(p_b, i, 1) loop
    i := i + 1;
  end loop;
  return i < n
     and substr(p_a, i, 1) = substr(p_b, i + 1, 1) and substr(p_a, i + 1, 1) = substr(p_b, i, 1)
     and substr(p_a, i + 2) = substr(p_b, i + 2);
end;
$$;

-- THE service matcher (booking, availability): which active service of the org the caller means.
--   * blank or NULL text, or only filler words ("an appointment", "a regular appointment", "um I
--     think"): the org's default service (NULL if it has none);
--   * the code or name as written, case-insensitive (the common case: what the profile lists);
--   * the code, name or an alias (services.aliases) after private.service_key — case, punctuation,
--     filler words, who it is for ("for my kids") and plurals aside, spaces ignored ("check up" =
--     "checkup"): services.match_keys, keyed when the service is written, so a lookup keys only what
--     the caller said;
--   * else a wildcard alias ("* vaccine", "* shot"): the phrase ends with its key after at least one
--     other word ("shingles vaccine", "hep b shot") — one service only, and not in a phrase that joins
--     two things ("checkup and flu shot": private.services_named asks which);
--   * else a misspelling: pg_trgm similarity of the keys >= 0.45 while the shorter key (without
--     spaces) is more than 3/4 of the longer — an added word or a clipped one makes another service
--     ("physical therapy" and "physio" are no "physical") — and the best service at least 0.1 ahead
--     of the next, so a phrase between two services is asked about, never a coin toss;
--   * else two neighbouring letters swapped (private.one_swap_apart: "physcial"), one service only.
--     The threshold is not lowered for it: at 0.38 "covid test" would become a vaccination.
--     supabase/tests/34_service_matching.sql holds the near misses and false positives these
--     numbers come from.
-- NULL for anything else (unknown_service), and for a phrase whose key belongs to two services.
-- What it deliberately does not do: guess that an unknown phrase is a symptom. A complaint books the
-- clinic's general visit only where the clinic lists it as an alias of that visit (the seed's
-- "sore throat", "toothache"): SQL cannot tell "sore throat" from "MRI scan", the clinic can.
create or replace function private.resolve_service(p_org_id uuid, p_service text)
returns uuid
language plpgsql
stable
set search_path = ''
as $$
declare
  v_text text := nullif(btrim(p_service), '');
  v_key text;
  v_id uuid;
  v_exact uuid[];
  v_wild uuid[];
  v_ids uuid[];
  v_scores real[];
begin
  if v_text is null then
    return (select s.id from public.services s where s.org_id = p_org_id and s.active and s.is_default limit 1);
  end if;

  select s.id into v_id
    from public.services s
   where s.org_id = p_org_id and s.active
     and (lower(s.code) = lower(v_text) or lower(s.name) = lower(v_text))
   order by (lower(s.code) = lower(v_text)) desc
   limit 1;
  if found then
    return v_id;
  end if;

  v_key := private.service_key(v_text);
  if v_key = '' then  -- only filler words ("an appointment"): no service named, as if blank
    return (select s.id from public.services s where s.org_id = p_org_id and s.active and s.is_default limit 1);
  end if;

  -- every code, name and alias of the clinic's active services (keyed on write), in one pass
  select coalesce(array_agg(m.id) filter (where m.exact), '{}'),
         coalesce(array_agg(m.id) filter (where m.wild), '{}'),
         coalesce(array_agg(m.id order by m.score desc, m.id), '{}'),
         coalesce(array_agg(m.score order by m.score desc, m.id), '{}')
    into v_exact, v_wild, v_ids, v_scores
    from (select t.id,
                 bool_or(not t.wild and replace(t.key, ' ', '') = replace(v_key, ' ', '')) as exact,
                 bool_or(t.wild and v_key like '% ' || substr(t.key, 3)) as wild,
                 max(case when not t.wild
                           and least(length(replace(t.key, ' ', '')), length(replace(v_key, ' ', ''))) * 4
                               > greatest(length(replace(t.key, ' ', '')), length(replace(v_key, ' ', ''))) * 3
                          then extensions.similarity(t.key, v_key) else 0 end) as score
            from (select s.id, k.key, k.key like '* %' as wild
                    from public.services s
                    cross join lateral unnest(s.match_keys) as k(key)
                   where s.org_id = p_org_id and s.active) as t
           group by t.id) as m;

  if cardinality(v_exact) > 0 then
    return case when cardinality(v_exact) = 1 then v_exact[1] end;
  end if;
  -- a wildcard only for one thing named: "checkup and flu shot" ends in shot, but names two services
  if cardinality(v_wild) > 0 and v_text !~* '(,|&|\+|;|\m(and|plus|then|also|or)\M)' then
    return case when cardinality(v_wild) = 1 then v_wild[1] end;
  end if;
  if v_scores[1] >= 0.45 and coalesce(v_scores[2], 0) <= v_scores[1] - 0.1 then
    return v_ids[1];
  end if;
  -- two letters swapped: only now (a rare path), and only when one service has such a key
  v_ids := array(select distinct s.id
                   from public.services s
                   cross join lateral unnest(s.match_keys) as k(key)
                  where s.org_id = p_org_id and s.active and k.key not like '* %'
                    and private.one_swap_apart(replace(k.key, ' ', ''), replace(v_key, ' ', '')));
  return case when cardinality(v_ids) = 1 then v_ids[1] end;
end;
$$;

-- Which services a phrase names when it names more than one ("a checkup and a flu shot"): the phrase
-- split at and / & / plus / then / also / commas, each part matched by private.resolve_service (a part
-- of only filler words names none). Two or more distinct services: the unknown_service reply names
-- them (`named`), so the voice asks which to book first instead of "we don't do that here". One or
-- none: NULL (the reply lists the clinic's services as before). Only called on the refusal path.
create or replace function private.services_named(p_org_id uuid, p_service text)
returns uuid[]
language plpgsql
stable
set search_path = ''
as $$
declare
  v_ids uuid[];
begin
  v_ids := array(select f.id
                   from (select distinct on (r.id) r.id, r.n
                           from (select private.resolve_service(p_org_id, t.part) as id, t.n
                                   from regexp_split_to_table(coalesce(p_service, ''),
                                          '\s*(,|&|\+|;|\m(and|plus|then|also|as well as)\M)\s*', 'i')
                                        with ordinality as t(part, n)
                                  where private.service_key(t.part) <> '') as r
                          where r.id is not null
                          order by r.id, r.n) as f
                  order by f.n);
  return case when cardinality(v_ids) >= 2 then v_ids end;
end;
$$;

-- Free, aligned (start, provider) pairs in [p_from, p_to), chronological; `pick` ranks the providers
-- free at one start by the fair rule (1 = the one "any provider" books; see private.rank_providers).
-- Per clinic-local date, per business-hours interval of its weekday:
--   start = (local_date + opens_at) + k * slot_interval   (wall clock, the clinic's grid)
--   kept while start + duration + buffer <= local_date + closes_at,
-- converted with `AT TIME ZONE org.timezone` (wall-clock times skipped by a spring-forward gap are
-- dropped); minus closures, not before now() + min notice, not after the horizon. Then per active
-- provider who performs the service (or only p_provider_id): inside one of its provider_hours
-- intervals of that weekday (no rows = all clinic hours), minus its time off, minus overlap with its
-- active appointments' `blocked` (optionally ignoring one appointment: the one being rescheduled).
-- p_exclude_provider_id: "anyone but Dr. Lee" — that provider is left out of "any provider" (no
-- extra scan: one more condition on the clinic's providers). p_role: "the hygienist" said of a role
-- several providers share — only providers of that role (the same: one condition on providers). Callers keep windows small (see
-- private.nearest_slots) so this stays cheap. The window's closures,
-- and per provider its appointments and time off, are read once as multiranges (one GiST range scan
-- each) and every start is tested against them: probing the index once per start and provider was
-- most of an alternatives request in a clinic with 100k appointments.
create or replace function private.candidate_slots(
  p_org_id uuid,
  p_service_id uuid,
  p_from timestamptz,
  p_to timestamptz,
  p_exclude_appointment_id uuid default null,
  p_provider_id uuid default null,
  p_prefer_provider_id uuid default null,
  p_exclude_provider_id uuid default null,
  p_role text default null
)
returns table (starts_at timestamptz, provider_id uuid, pick integer)
language plpgsql
stable
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
#variable_conflict use_column
declare
  v_tz text;
  v_step_min integer;
  v_total interval;
  v_lo timestamptz;
  v_hi timestamptz;
  v_window tstzrange;
  v_days tstzrange;
  v_closed tstzmultirange;
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

  -- every [start, start + total) below lies inside v_window; v_days: the whole clinic days around it
  v_window := tstzrange(v_lo, v_hi + v_total);
  v_days := tstzrange((v_lo at time zone v_tz)::date::timestamp at time zone v_tz,
                      ((v_hi at time zone v_tz)::date + 1)::timestamp at time zone v_tz);
  select coalesce(range_agg(c.during), '{}')
    into v_closed
    from public.closures c
   where c.org_id = p_org_id
     and c.during && v_window;

  return query
  with prov as (
    select p.id,
           p.display_name,
           exists (select 1 from public.provider_hours h
                    where h.org_id = p_org_id and h.provider_id = p.id) as has_hours,
           coalesce((select range_agg(t.during) from public.provider_time_off t
                      where t.org_id = p_org_id and t.provider_id = p.id and t.during && v_window),
                    '{}'::tstzmultirange) as away,
           (select max(a.created_at) from public.appointments a
             where a.org_id = p_org_id and a.provider_id = p.id) as last_booked
      from public.providers p
      join public.provider_services ps
        on ps.org_id = p.org_id and ps.provider_id = p.id and ps.service_id = p_service_id
     where p.org_id = p_org_id
       and p.active
       and (p_provider_id is null or p.id = p_provider_id)
       and (p_exclude_provider_id is null or p.id <> p_exclude_provider_id)
       and (p_role is null or p.role = p_role)
  ),
  booked as (
    -- the providers' active appointments in the window's whole clinic days, one range scan per
    -- provider, for both questions below (every start's block lies inside those days: a slot ends
    -- inside its business-hours interval)
    select a.provider_id as pid, a.blocked, (a.starts_at at time zone v_tz)::date as d
      from public.appointments a
     where a.org_id = p_org_id and a.status <> 'cancelled'
       and a.provider_id in (select pr.id from prov pr)
       and a.blocked && v_days
       and (p_exclude_appointment_id is null or a.id <> p_exclude_appointment_id)
  ),
  busy as materialized (
    -- what each provider's calendar blocks (materialized: aggregated once, not per start)
    select b.pid, range_agg(b.blocked) as busy from booked b group by b.pid
  ),
  day_load as materialized (
    -- active appointments per provider and clinic-local day (the fair rule: fewest that day)
    select b.pid, b.d, count(*) as n from booked b group by 1, 2
  ),
  grid as (
    select
      d::date as d,
      bh.weekday,
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
  open_starts as materialized (
    -- materialized: computed once, not once per provider of the join below
    select g.d, g.weekday, g.local_start, x.t as t,
           tstzrange(x.t, x.t + v_total) as block,
           (x.t + v_total) at time zone v_tz as local_end
      from grid g
      cross join lateral (select g.local_start at time zone v_tz as t) as x
     where x.t >= v_lo
       and x.t < v_hi
       and x.t > now()
       -- the wall-clock time exists that day (not inside a spring-forward gap)
       and (x.t at time zone v_tz) = g.local_start
       -- visit + buffer ends inside the same clinic interval
       and ((x.t + v_total) at time zone v_tz) <= g.local_close
       and not (v_closed && tstzrange(x.t, x.t + v_total))
  ),
  pairs as (
    select o.t, pr.id as pid, pr.display_name, pr.last_booked, coalesce(dl.n, 0) as n
      from open_starts o
      cross join prov pr
      left join busy bz on bz.pid = pr.id
      left join day_load dl on dl.pid = pr.id and dl.d = o.d
     where not coalesce(bz.busy && o.block, false)
       and not (pr.away && o.block)
       -- inside one of the provider's own intervals of that weekday (none = all clinic hours)
       and (not pr.has_hours or exists (
             select 1 from public.provider_hours h
              where h.org_id = p_org_id and h.provider_id = pr.id and h.weekday = o.weekday
                and o.local_start >= o.d + h.opens_at
                and o.local_end <= o.d + h.closes_at))
  )
  select pa.t,
         pa.pid,
         (row_number() over (partition by pa.t
                             order by (pa.pid = p_prefer_provider_id) is true desc, pa.n,
                                      pa.last_booked nulls first, pa.display_name, pa.pid))::integer
    from pairs pa
   order by 1, 3;
end;
$$;

-- The earliest p_limit free start times from p_from (to p_to / the horizon), each with the provider
-- the fair rule picks then (only p_provider_id's when given), expanding the scanned window
-- progressively (2 → 8 → 32 → 128 → … clinic days) so the common case touches only a few days.
-- p_after / p_before keep only starts whose clinic-local time of day is in [p_after, p_before) (a
-- caller's window on every day: "after 3", "mornings"; NULL = from opening / to closing).
-- p_exclude_provider_id: never that provider (private.candidate_slots).
create or replace function private.earliest_slots(
  p_org_id uuid,
  p_service_id uuid,
  p_from timestamptz,
  p_to timestamptz,
  p_limit integer,
  p_exclude_appointment_id uuid default null,
  p_provider_id uuid default null,
  p_prefer_provider_id uuid default null,
  p_after time default null,
  p_before time default null,
  p_exclude_provider_id uuid default null,
  p_role text default null
)
returns table (starts_at timestamptz, provider_id uuid)
language plpgsql
stable
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_tz text;
  v_end timestamptz;
  v_from timestamptz;
  v_to timestamptz;
  v_days integer := 2;
  v_times timestamptz[];
  v_providers uuid[];
begin
  if p_limit is null or p_limit <= 0 or p_from is null then
    return;
  end if;
  select o.timezone, private.horizon_end(o.timezone, o.booking_horizon_days) + interval '1 microsecond'
    into v_tz, v_end
    from public.orgs o where o.id = p_org_id;
  if not found then
    return;
  end if;
  v_end := least(v_end, coalesce(p_to, 'infinity'::timestamptz));
  v_from := greatest(p_from, now());  -- windows before now hold nothing
  loop
    v_to := least(v_end, (((v_from at time zone v_tz)::date + v_days)::timestamp) at time zone v_tz);
    select coalesce(array_agg(c.starts_at order by c.starts_at), '{}'),
           coalesce(array_agg(c.provider_id order by c.starts_at), '{}')
      into v_times, v_providers
      from (select c.starts_at, c.provider_id
              from private.candidate_slots(p_org_id, p_service_id, v_from, v_to, p_exclude_appointment_id,
                                           p_provider_id, p_prefer_provider_id, p_exclude_provider_id, p_role) as c
             where c.pick = 1
               and (p_after is null or (c.starts_at at time zone v_tz)::time >= p_after)
               and (p_before is null or (c.starts_at at time zone v_tz)::time < p_before)
             order by c.starts_at
             limit p_limit) as c;
    exit when cardinality(v_times) >= p_limit or v_to >= v_end;
    v_days := v_days * 4;
  end loop;
  return query select t.s, t.p from unnest(v_times, v_providers) as t(s, p) order by t.s;
end;
$$;

-- Alternatives for a refused start: the (up to) p_limit free start times nearest to it — the same
-- clinic-local day first (either side, nearest first), then the following days earliest first —
-- each with the provider the fair rule picks then (only p_provider_id's when given). When the
-- request lies beyond the horizon, the latest start times inside the horizon are offered.
-- Returned chronologically. p_exclude_provider_id: never that provider ("anyone but Dr. Lee").
create or replace function private.nearest_slots(
  p_org_id uuid,
  p_service_id uuid,
  p_requested timestamptz,
  p_limit integer default 3,
  p_exclude_appointment_id uuid default null,
  p_provider_id uuid default null,
  p_prefer_provider_id uuid default null,
  p_exclude_provider_id uuid default null,
  p_role text default null
)
returns table (starts_at timestamptz, provider_id uuid)
language plpgsql
stable
set search_path = ''
as $$
#variable_conflict use_column
declare
  v_tz text;
  v_horizon timestamptz;
  v_local_date date;
  v_day_start timestamptz;
  v_next_day timestamptz;
  v_times timestamptz[];
  v_providers uuid[];
  v_more_times timestamptz[] := '{}';
  v_more_providers uuid[] := '{}';
  v_days integer := 2;
  v_from timestamptz;
begin
  select o.timezone, private.horizon_end(o.timezone, o.booking_horizon_days)
    into v_tz, v_horizon
    from public.orgs o where o.id = p_org_id;
  if not found or p_requested is null then
    return;
  end if;

  v_local_date := (p_requested at time zone v_tz)::date;
  v_day_start := v_local_date::timestamp at time zone v_tz;
  v_next_day := (v_local_date + 1)::timestamp at time zone v_tz;

  -- 1. the requested clinic-local day, nearest either side
  select coalesce(array_agg(c.starts_at), '{}'), coalesce(array_agg(c.provider_id), '{}')
    into v_times, v_providers
    from (select c.starts_at, c.provider_id
            from private.candidate_slots(p_org_id, p_service_id, v_day_start, v_next_day, p_exclude_appointment_id,
                                         p_provider_id, p_prefer_provider_id, p_exclude_provider_id, p_role) as c
           where c.pick = 1
           order by abs(extract(epoch from (c.starts_at - p_requested))), c.starts_at
           limit p_limit) as c;

  -- 2. following days, earliest first
  if cardinality(v_times) < p_limit then
    v_from := greatest(v_next_day, now());
    select coalesce(array_agg(e.starts_at), '{}'), coalesce(array_agg(e.provider_id), '{}')
      into v_more_times, v_more_providers
      from private.earliest_slots(p_org_id, p_service_id, v_from, null, p_limit - cardinality(v_times),
                                  p_exclude_appointment_id, p_provider_id, p_prefer_provider_id,
                                  p_exclude_provider_id => p_exclude_provider_id, p_role => p_role) as e;
  end if;

  -- 3. beyond the horizon: the latest start times still inside it
  if cardinality(v_times) + cardinality(v_more_times) = 0 and p_requested > v_horizon then
    loop
      v_from := greatest(now(), (((v_horizon at time zone v_tz)::date - v_days)::timestamp) at time zone v_tz);
      select coalesce(array_agg(c.starts_at), '{}'), coalesce(array_agg(c.provider_id), '{}')
        into v_more_times, v_more_providers
        from (select c.starts_at, c.provider_id
                from private.candidate_slots(p_org_id, p_service_id, v_from, null, p_exclude_appointment_id,
                                             p_provider_id, p_prefer_provider_id, p_exclude_provider_id, p_role) as c
               where c.pick = 1
               order by c.starts_at desc
               limit p_limit) as c;
      exit when cardinality(v_more_times) >= p_limit or v_from <= now();
      v_days := v_days * 4;
    end loop;
  end if;

  return query
    select t.s, t.p from unnest(v_times || v_more_times, v_providers || v_more_providers) as t(s, p) order by t.s;
end;
$$;

-- The clinic's validator: why may p_start not be booked for this service, whoever the provider?
-- NULL = the clinic could take it. Order: in_past, too_soon, too_far_ahead, closed,
-- ends_after_closing (the start is inside an opening interval, but the visit and its buffer do not
-- end by that interval's close: "a 30-minute visit at 4:45 at a clinic closing at 5", or running into
-- lunch), outside_business_hours (the start is in no interval). Whether a provider is free then is
-- private.available_providers' question.
-- One statement for the lookups: every statement plpgsql runs costs an executor start.
create or replace function private.slot_refusal(
  p_org_id uuid,
  p_service_id uuid,
  p_start timestamptz
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
  v_starts_inside boolean;
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

  -- that weekday's intervals in one index scan (weekday compared as smallint, the column's type:
  -- extract() is numeric, and a numeric comparison cannot use the index's weekday column)
  select count(*) > 0,
         coalesce(bool_or(v_local >= v_date + bh.opens_at and v_local_end <= v_date + bh.closes_at), false),
         coalesce(bool_or(v_local >= v_date + bh.opens_at and v_local < v_date + bh.closes_at), false),
         exists (select 1 from public.closures c
                  where c.org_id = p_org_id and c.during && tstzrange(p_start, v_end))
    into v_open_that_day, v_within_hours, v_starts_inside, v_closure
    from public.business_hours bh
   where bh.org_id = p_org_id and bh.weekday = extract(dow from v_date)::smallint;

  if not v_open_that_day then
    return 'closed';
  end if;
  if v_closure then
    return 'closed';
  end if;
  if not v_within_hours then
    return case when v_starts_inside then 'ends_after_closing' else 'outside_business_hours' end;
  end if;
  return null;
end;
$$;

-- Every active provider who performs the service, as seen at p_start (a start the clinic can take,
-- see private.slot_refusal): `works` = inside one of its provider_hours intervals of that weekday
-- (no rows = all clinic hours) and not on time off; `free` = works and holds no active appointment
-- overlapping [p_start, p_start + duration + buffer) (p_exclude_appointment_id ignored: the one being
-- rescheduled). By display name. One statement whatever the number of providers.
create or replace function private.available_providers(
  p_org_id uuid,
  p_service_id uuid,
  p_start timestamptz,
  p_exclude_appointment_id uuid default null
)
returns table (provider_id uuid, works boolean, free boolean)
language plpgsql
stable
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
#variable_conflict use_column
declare
  v_tz text;
  v_total interval;
  v_range tstzrange;
  v_local timestamp;
  v_local_end timestamp;
  v_date date;
  v_dow smallint;
begin
  select o.timezone, make_interval(mins => s.duration_minutes + s.buffer_minutes)
    into v_tz, v_total
    from public.orgs o
    join public.services s on s.org_id = o.id and s.id = p_service_id
   where o.id = p_org_id;
  if not found or p_start is null then
    return;
  end if;
  v_range := tstzrange(p_start, p_start + v_total);
  v_local := p_start at time zone v_tz;
  v_local_end := (p_start + v_total) at time zone v_tz;
  v_date := v_local::date;
  v_dow := extract(dow from v_date)::smallint;

  -- busy and away providers in one range scan each for the whole clinic, not one probe per provider
  return query
  select x.id, x.works, x.works and x.idle
    from (select p.id,
                 p.display_name,
                 -- no provider_hours rows: all clinic hours; else one interval of that weekday must hold it
                 coalesce((select bool_or(h.weekday = v_dow
                                          and v_local >= v_date + h.opens_at
                                          and v_local_end <= v_date + h.closes_at)
                             from public.provider_hours h
                            where h.org_id = p_org_id and h.provider_id = p.id), true)
                 and p.id not in (select t.provider_id from public.provider_time_off t
                                   where t.org_id = p_org_id and t.during && v_range) as works,
                 p.id not in (select a.provider_id from public.appointments a
                               where a.org_id = p_org_id and a.status <> 'cancelled' and a.blocked && v_range
                                 and (p_exclude_appointment_id is null or a.id <> p_exclude_appointment_id)) as idle
            from public.providers p
            join public.provider_services ps
              on ps.org_id = p.org_id and ps.provider_id = p.id and ps.service_id = p_service_id
           where p.org_id = p_org_id and p.active) as x
   order by x.display_name, x.id;
end;
$$;

-- Why a named provider cannot take p_start, or NULL when they can: provider_unavailable (does not
-- perform the service, is inactive, or does not work then: hours, time off), slot_unavailable (works,
-- but holds an overlapping appointment; p_exclude_appointment_id: the one being moved). The one
-- reading of private.available_providers for a named provider, shared by booking and rescheduling.
create or replace function private.named_provider_refusal(
  p_org_id uuid,
  p_service_id uuid,
  p_start timestamptz,
  p_provider_id uuid,
  p_exclude_appointment_id uuid default null
)
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
  v_works boolean;
  v_free boolean;
begin
  select f.works, f.free into v_works, v_free
    from private.available_providers(p_org_id, p_service_id, p_start, p_exclude_appointment_id) as f
   where f.provider_id = p_provider_id;
  return case when not coalesce(v_works, false) then 'provider_unavailable'
              when not v_free then 'slot_unavailable' end;
end;
$$;

-- The providers free at p_start, by display name: what "any provider" chooses among — exactly the
-- `free` rows of private.available_providers (supabase/tests/31_provider_booking.sql compares them),
-- as one statement of its own because it is the booking's hot path (half the cost of filtering that).
-- p_role: only providers of that role ("the hygienist" said of a role several share).
-- force_generic_plan, like its siblings: with a real calendar (the bench's 1.1M appointments) the
-- custom plans' estimates beat the generic plan's, so PostgreSQL kept planning the statement again on
-- every call (range selectivity from the statistics), 0.4-0.9 ms of every booking (bench/README.md).
create or replace function private.free_providers(
  p_org_id uuid,
  p_service_id uuid,
  p_start timestamptz,
  p_exclude_appointment_id uuid default null,
  p_role text default null
)
returns uuid[]
language plpgsql
stable
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
declare
  v_tz text;
  v_total interval;
  v_range tstzrange;
  v_local timestamp;
  v_local_end timestamp;
  v_date date;
  v_dow smallint;
begin
  select o.timezone, make_interval(mins => s.duration_minutes + s.buffer_minutes)
    into v_tz, v_total
    from public.orgs o
    join public.services s on s.org_id = o.id and s.id = p_service_id
   where o.id = p_org_id;
  if not found or p_start is null then
    return '{}';
  end if;
  v_range := tstzrange(p_start, p_start + v_total);
  v_local := p_start at time zone v_tz;
  v_local_end := (p_start + v_total) at time zone v_tz;
  v_date := v_local::date;
  v_dow := extract(dow from v_date)::smallint;
  return array(
    select p.id
      from public.providers p
      join public.provider_services ps
        on ps.org_id = p.org_id and ps.provider_id = p.id and ps.service_id = p_service_id
     where p.org_id = p_org_id and p.active
       and (p_role is null or p.role = p_role)
       and coalesce((select bool_or(h.weekday = v_dow
                                    and v_local >= v_date + h.opens_at
                                    and v_local_end <= v_date + h.closes_at)
                       from public.provider_hours h
                      where h.org_id = p_org_id and h.provider_id = p.id), true)
       -- busy / away: one range scan each for the whole clinic, not one probe per provider
       and p.id not in (select t.provider_id from public.provider_time_off t
                         where t.org_id = p_org_id and t.during && v_range)
       and p.id not in (select a.provider_id from public.appointments a
                         where a.org_id = p_org_id and a.status <> 'cancelled' and a.blocked && v_range
                           and (p_exclude_appointment_id is null or a.id <> p_exclude_appointment_id))
     order by p.display_name, p.id);
end;
$$;

-- THE fair rule, among providers free at p_start (p_candidates), best first (pick 1 = booked by
-- "any provider"):
--   1. p_prefer_provider_id (the patient's previous provider; on a reschedule, the current one),
--   2. fewest active appointments that clinic-local day,
--   3. least recently booked (oldest latest created_at; never booked first),
--   4. display name, then id.
-- private.candidate_slots applies the same order to every start it offers.
create or replace function private.rank_providers(
  p_org_id uuid,
  p_start timestamptz,
  p_candidates uuid[],
  p_prefer_provider_id uuid default null,
  p_exclude_appointment_id uuid default null
)
returns table (provider_id uuid, pick integer)
language plpgsql
stable
set search_path = ''
set plan_cache_mode = force_generic_plan
as $$
#variable_conflict use_column
declare
  v_tz text;
  v_date date;
  v_day tstzrange;
begin
  select o.timezone into v_tz from public.orgs o where o.id = p_org_id;
  v_date := (p_start at time zone v_tz)::date;
  v_day := tstzrange(v_date::timestamp at time zone v_tz, (v_date + 1)::timestamp at time zone v_tz);
  return query
  with day_load as materialized (
    -- the day's active appointments per provider, counted in ONE range scan of the clinic's day
    -- (only the candidates' counts are read below). Naming the candidates here (provider_id =
    -- any(...)) made the index scan once per candidate: ten scans for ten providers.
    select a.provider_id as pid, count(*) as n
      from public.appointments a
     where a.org_id = p_org_id and a.status <> 'cancelled'
       and a.blocked && v_day
       and a.starts_at >= lower(v_day) and a.starts_at < upper(v_day)
       and (p_exclude_appointment_id is null or a.id <> p_exclude_appointment_id)
     group by 1
  )
  select p.id,
         (row_number() over (
            order by (p.id = p_prefer_provider_id) is true desc,
                     coalesce((select dl.n from day_load dl where dl.pid = p.id), 0),
                     -- latest booking of each: one backward index probe per candidate
                     (select max(a.created_at) from public.appointments a
                       where a.org_id = p_org_id and a.provider_id = p.id) nulls first,
                     p.display_name, p.id))::integer as pick
    from public.providers p
   where p.org_id = p_org_id and p.id = any (p_candidates)
   order by 2;
end;
$$;

-- The provider "any provider" books at p_start among p_candidates (free then): the only one, the
-- preferred one when free, else the fair rule's first.
create or replace function private.fairest_provider(
  p_org_id uuid,
  p_start timestamptz,
  p_candidates uuid[],
  p_prefer_provider_id uuid default null,
  p_exclude_appointment_id uuid default null
)
returns uuid
language plpgsql
stable
set search_path = ''
as $$
begin
  if p_prefer_provider_id = any (p_candidates) then
    return p_prefer_provider_id;
  elsif coalesce(cardinality(p_candidates), 0) <= 1 then
    return p_candidates[1];
  end if;
  return (select r.provider_id
            from private.rank_providers(p_org_id, p_start, p_candidates, p_prefer_provider_id, p_exclude_appointment_id) as r
           where r.pick = 1);
end;
$$;

-- A refusal reply with alternatives. `alternatives` (ISO strings, the v2 contract) and
-- `alternativeSlots` ({scheduledAt, providerId, providerName}) list the same offers in the same order:
--   * any provider (p_provider_id NULL): the 3 start times nearest the requested one at which some
--     qualified provider is free (private.nearest_slots), each with the provider the fair rule picks
--     (p_prefer_provider_id first), chronological;
--   * a named provider: that provider's 3 nearest start times first (chronological); then, unless the
--     caller insisted (p_insist), the requested time itself with each other qualified provider free
--     then (up to 3, fair order) when the refusal is about the provider (slot_unavailable,
--     provider_unavailable); and when the named provider has no time at all, anyone's nearest.
-- `provider` is the named provider ({id, name}) or NULL. The real reason, where a code alone does not
-- say it: ends_after_closing adds `closesAt` (clinic-local HH:MI, the close of the opening interval the
-- requested start lies in), too_far_ahead adds `bookingHorizonDays`. p_exclude_provider_id: the
-- provider the caller does not want ("anyone but Dr. Lee") is never offered.
create or replace function private.slot_refusal_reply(
  p_code text,
  p_org_id uuid,
  p_service_id uuid,
  p_requested timestamptz,
  p_exclude_appointment_id uuid default null,
  p_provider_id uuid default null,
  p_insist boolean default false,
  p_prefer_provider_id uuid default null,
  p_message text default null,
  p_exclude_provider_id uuid default null,
  p_role text default null
)
returns json
language plpgsql
stable
set search_path = ''
as $$
declare
  v_times timestamptz[];
  v_providers uuid[];
  v_others_times timestamptz[];
  v_others uuid[];
  v_reply json;
begin
  select coalesce(array_agg(n.starts_at order by n.starts_at), '{}'),
         coalesce(array_agg(n.provider_id order by n.starts_at), '{}')
    into v_times, v_providers
    from private.nearest_slots(p_org_id, p_service_id, p_requested, 3, p_exclude_appointment_id,
                               p_provider_id, p_prefer_provider_id, p_exclude_provider_id, p_role) as n;

  if p_provider_id is not null and not coalesce(p_insist, false) then
    if p_code in ('slot_unavailable', 'provider_unavailable') then
      select coalesce(array_agg(p_requested order by r.pick), '{}'), coalesce(array_agg(r.provider_id order by r.pick), '{}')
        into v_others_times, v_others
        from (select r.provider_id, r.pick
                from private.rank_providers(
                       p_org_id, p_requested,
                       array_remove(private.free_providers(p_org_id, p_service_id, p_requested, p_exclude_appointment_id),
                                    p_provider_id),
                       p_prefer_provider_id, p_exclude_appointment_id) as r
               order by r.pick
               limit 3) as r;
      v_times := v_times || v_others_times;
      v_providers := v_providers || v_others;
    end if;
    if cardinality(v_times) = 0 then
      select coalesce(array_agg(n.starts_at order by n.starts_at), '{}'),
             coalesce(array_agg(n.provider_id order by n.starts_at), '{}')
        into v_times, v_providers
        from private.nearest_slots(p_org_id, p_service_id, p_requested, 3, p_exclude_appointment_id,
                                   null, p_prefer_provider_id, p_exclude_provider_id, p_role) as n;
    end if;
  end if;

  v_reply := json_build_object(
    'success', false,
    'error', p_code,
    'message', coalesce(p_message, private.refusal_message(p_code, cardinality(v_times) > 0)),
    'alternatives', (select coalesce(json_agg(private.iso(t.s) order by t.n), '[]'::json)
                       from unnest(v_times) with ordinality as t(s, n)),
    'alternativeSlots', (select coalesce(json_agg(json_build_object(
                                  'scheduledAt', private.iso(t.s),
                                  'providerId', t.p,
                                  'providerName', pr.display_name) order by t.n), '[]'::json)
                           from unnest(v_times, v_providers) with ordinality as t(s, p, n)
                           left join public.providers pr on pr.org_id = p_org_id and pr.id = t.p),
    'service', private.service_json(p_org_id, p_service_id),
    'provider', private.provider_json(p_org_id, p_provider_id),
    'timezone', (select o.timezone from public.orgs o where o.id = p_org_id));
  if p_code = 'ends_after_closing' then
    return (v_reply::jsonb || jsonb_build_object('closesAt', (
      select to_char(bh.closes_at, 'HH24:MI')
        from public.orgs o
        cross join lateral (select p_requested at time zone o.timezone as t) as l
        join public.business_hours bh
          on bh.org_id = o.id and bh.weekday = extract(dow from l.t)::smallint
         and l.t >= l.t::date + bh.opens_at and l.t < l.t::date + bh.closes_at
       where o.id = p_org_id)))::json;
  elsif p_code = 'too_far_ahead' then
    return (v_reply::jsonb || jsonb_build_object('bookingHorizonDays', (
      select o.booking_horizon_days from public.orgs o where o.id = p_org_id)))::json;
  end if;
  return v_reply;
end;
$$;
