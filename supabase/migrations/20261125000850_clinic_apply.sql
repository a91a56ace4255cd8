-- Clinic apply: a whole clinic from one declarative spec, in one transaction (issue 13 §3).
--
-- `flask --app api clinics apply clinic.toml` (api/cli/clinics.py) reads a TOML file, checks its
-- shape (keys and types) and hands it over as JSON, keys as written in the file; everything else is
-- decided here: public.apply_clinic(p_spec) finds the clinic by its slug, checks the spec against
-- the clinic and the other clinics, writes the differences and answers with what changed. Example
-- and rules for the operator: docs/clinic.example.toml.
--
-- The rules, in one place:
--   * A section written in the spec ([clinic] keys, [hours], [[closures]], [[services]],
--     [[providers]], [[assistants]], [front_desk] keys, and a provider's `hours` / `time_off`, the
--     front desk's `hours`) is the whole truth for that part of the clinic: what it lists is created
--     or updated, what it leaves out is removed. A section left out is left as it is.
--   * One entry of a list (a service, a provider, an assistant) is written whole: a key it leaves
--     out takes its default (no buffer, no aliases, no short names, no label, …).
--   * Nothing that a booking points at is deleted: a service or provider left out that has
--     appointments (any status) is deactivated instead, and the reply says so in `notes`.
--   * Every value rule stays with its owner — the tables' constraints and triggers (time zone,
--     ranges, E.164, slugs, overlaps, aliases). Each row is written in its own subtransaction, so
--     one run reports every row that breaks a rule, by the spec's own names; then everything is
--     rolled back. Only rules no table can hold are checked beforehand: what a new clinic needs,
--     duplicates within the file, one default service, provider services that exist, Vapi ids
--     that another clinic holds, and the text of times and dates.
--   * Applying the same spec twice changes nothing the second time (`changes` is empty): the
--     reply's changes are the difference between the clinic's description before and after
--     (private.clinic_description), so they cannot disagree with what was written.
--
-- A running service sees the new facts within PROFILE_CACHE_SECONDS (its profile cache, 60 s), a
-- new Vapi mapping or webhook secret within a second (api/credentials.py).

-- Helpers (private) --------------------------------------------------------------------------------

-- 0 = Sunday … 6 = Saturday (as business_hours.weekday); NULL for anything else.
create or replace function private.spec_weekday(p_name text)
returns smallint
language sql
immutable
set search_path = ''
as $$
  select (array_position(array['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'],
                         lower(btrim(p_name))) - 1)::smallint
$$;

create or replace function private.weekday_name(p_weekday smallint)
returns text
language sql
immutable
set search_path = ''
as $$
  select (array['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'])[p_weekday + 1]
$$;

-- "08:00-12:00" as the spec writes an interval, and back.
create or replace function private.interval_text(p_opens time, p_closes time)
returns text
language sql
immutable
set search_path = ''
as $$
  select to_char(p_opens, 'HH24:MI') || '-' || to_char(p_closes, 'HH24:MI')
$$;

-- One interval of a week table: "08:00-12:00" (also "8:00 - 12:00", "08:00–12:00"; 24:00 closes a
-- day); no row when the text is not one.
create or replace function private.spec_interval(p_text text)
returns table (opens_at time, closes_at time)
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_parts text[] := regexp_match(p_text, '^\s*([0-9]{1,2}:[0-9]{2})\s*(?:-|–|to)\s*([0-9]{1,2}:[0-9]{2})\s*$');
begin
  if v_parts is null then
    return;
  end if;
  begin
    opens_at := v_parts[1]::time;
    closes_at := v_parts[2]::time;
  exception when others then  -- 25:00, 12:75
    return;
  end;
  return next;
end;
$$;

-- A week table ({"monday": ["08:00-12:00", "13:00-17:00"], …}) as rows; a row that cannot be read
-- carries `problem` (prefixed by p_path) instead.
create or replace function private.spec_week(p_path text, p_week jsonb)
returns table (weekday smallint, opens_at time, closes_at time, problem text)
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_day record;
  v_text text;
begin
  if jsonb_typeof(p_week) is distinct from 'object' then
    weekday := null; opens_at := null; closes_at := null;
    problem := format('%s: a table of weekdays, e.g. monday = ["08:00-12:00"]', p_path);
    return next;
    return;
  end if;
  for v_day in select key, value from jsonb_each(p_week) order by key loop
    weekday := private.spec_weekday(v_day.key);
    if weekday is null then
      opens_at := null; closes_at := null;
      problem := format('%s.%s: not a weekday (monday … sunday)', p_path, v_day.key);
      return next;
      continue;
    end if;
    for v_text in select jsonb_array_elements_text(case jsonb_typeof(v_day.value) when 'array' then v_day.value
                                                       else jsonb_build_array(v_day.value) end) loop
      select i.opens_at, i.closes_at into opens_at, closes_at from private.spec_interval(v_text) i;
      if not found then
        opens_at := null; closes_at := null;
        problem := format('%s.%s: %s is not a time range like "08:00-12:00" (clinic-local, 24-hour)',
                          p_path, v_day.key, to_json(v_text));
      else
        problem := null;
      end if;
      return next;
    end loop;
  end loop;
end;
$$;

-- A date or date-time of the spec as an instant: "2026-12-24T12:00:00" (and "2026-12-24", its
-- midnight) on the clinic's wall clock; with an offset ("…Z", "…+01:00") it is that instant. NULL
-- when it is neither.
create or replace function private.spec_instant(p_text text, p_timezone text)
returns timestamptz
language plpgsql
stable
set search_path = ''
as $$
begin
  if p_text ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' then
    return p_text::date::timestamp at time zone p_timezone;
  end if;
  if p_text ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?$' then
    return p_text::timestamp at time zone p_timezone;
  end if;
  if p_text ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)$' then
    return p_text::timestamptz;
  end if;
  return null;
exception when others then
  return null;
end;
$$;

-- Closed periods of the spec ([[closures]], a provider's [[time_off]]): {"date": day} (that whole
-- clinic-local day) or {"from", "to"} ([from, to); a bare date means its midnight), each with an
-- optional reason. A period that cannot be read carries `problem` (prefixed by p_path).
create or replace function private.spec_periods(p_path text, p_periods jsonb, p_timezone text)
returns table (during tstzrange, reason text, problem text)
language plpgsql
stable
set search_path = ''
as $$
declare
  v_item jsonb;
  v_n integer := 0;
  v_from timestamptz;
  v_to timestamptz;
  v_where text;
begin
  for v_item in select value from jsonb_array_elements(p_periods) loop
    v_n := v_n + 1;
    v_where := format('%s[%s]', p_path, v_n);
    during := null;
    reason := nullif(btrim(v_item ->> 'reason'), '');
    if v_item ? 'date' and (v_item ? 'from' or v_item ? 'to') then
      problem := format('%s: give either date or from and to, not both', v_where);
    elsif v_item ? 'date' then
      v_from := private.spec_instant(v_item ->> 'date', p_timezone);
      if v_from is null or (v_item ->> 'date') !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' then
        problem := format('%s.date: %s is not a date like 2026-12-25', v_where, to_json(v_item ->> 'date'));
      else
        during := tstzrange(v_from, ((v_item ->> 'date')::date + 1)::timestamp at time zone p_timezone, '[)');
        problem := null;
      end if;
    elsif not (v_item ? 'from' and v_item ? 'to') then
      problem := format('%s: give date (one whole day) or from and to', v_where);
    else
      v_from := private.spec_instant(v_item ->> 'from', p_timezone);
      v_to := private.spec_instant(v_item ->> 'to', p_timezone);
      if v_from is null then
        problem := format('%s.from: %s is not a date or date-time like 2026-12-24T12:00', v_where, to_json(v_item ->> 'from'));
      elsif v_to is null then
        problem := format('%s.to: %s is not a date or date-time like 2026-12-27T00:00', v_where, to_json(v_item ->> 'to'));
      elsif v_to <= v_from then
        problem := format('%s: to (%s) must be after from (%s)', v_where, v_item ->> 'to', v_item ->> 'from');
      else
        during := tstzrange(v_from, v_to, '[)');
        problem := null;
      end if;
    end if;
    return next;
  end loop;
end;
$$;

-- "2026-12-24 12:00 - 2026-12-27 00:00" on the clinic's wall clock.
create or replace function private.period_text(p_during tstzrange, p_timezone text)
returns text
language sql
stable
set search_path = ''
as $$
  select to_char(lower(p_during) at time zone p_timezone, 'YYYY-MM-DD HH24:MI') || ' - '
      || to_char(upper(p_during) at time zone p_timezone, 'YYYY-MM-DD HH24:MI')
$$;

-- A write that broke a rule, said by the spec's name for the row and the rule's owner: the message,
-- and for a check or exclusion constraint its definition from the catalog.
create or replace function private.spec_write_problem(p_item text, p_message text, p_schema text, p_table text,
                                                      p_constraint text)
returns text
language sql
stable
set search_path = ''
as $$
  select format('%s: %s', p_item, p_message)
      || coalesce(' (' || (select pg_catalog.pg_get_constraintdef(c.oid)
                             from pg_catalog.pg_constraint c
                             join pg_catalog.pg_class t on t.oid = c.conrelid
                             join pg_catalog.pg_namespace n on n.oid = t.relnamespace
                            where n.nspname = p_schema and t.relname = p_table and c.conname = p_constraint
                              and c.contype in ('c', 'x')) || ')', '')
$$;

-- What a clinic is, one line per fact, in the spec's words: (sort, item, value). apply_clinic's
-- changes are the difference of two of these, so whatever the spec can say is described here.
create or replace function private.clinic_description(p_org_id uuid)
returns table (sort text, item text, value text)
language sql
stable
set search_path = ''
as $$
  with o as (select * from public.orgs where id = p_org_id)
  -- [clinic]
  select '10 ' || x.n, 'clinic ' || x.k, x.v
    from o, lateral (values (1, 'slug', o.slug), (2, 'name', o.name), (3, 'timezone', o.timezone),
                            (4, 'phone_region', o.phone_region),
                            (5, 'slot_interval_minutes', o.slot_interval_minutes::text),
                            (6, 'min_notice_minutes', o.min_notice_minutes::text),
                            (7, 'booking_horizon_days', o.booking_horizon_days::text)) as x(n, k, v)
   where x.v is not null
  -- [hours], Monday first
  union all
  select '20 ' || (b.weekday + 6) % 7, 'hours ' || private.weekday_name(b.weekday),
         string_agg(private.interval_text(b.opens_at, b.closes_at), ', ' order by b.opens_at)
    from public.business_hours b where b.org_id = p_org_id group by b.weekday
  -- [[closures]]
  union all
  select '30 ' || lower(c.during), 'closure ' || private.period_text(c.during, o.timezone), coalesce(c.reason, '(no reason)')
    from public.closures c, o where c.org_id = p_org_id
  -- [[services]]
  union all
  select '40 ' || s.code, 'service ' || s.code,
         concat_ws('; ', s.name,
                   s.duration_minutes || ' min' || case when s.buffer_minutes > 0 then ' + ' || s.buffer_minutes || ' min buffer' else '' end,
                   case when s.is_default then 'default' end,
                   case when cardinality(s.aliases) > 0 then 'aliases: ' || array_to_string(s.aliases, ', ') end,
                   case when not s.active then 'inactive' end)
    from public.services s where s.org_id = p_org_id
  -- [[providers]]: the provider, its hours (none = whenever the clinic is open), its time off
  union all
  select '50 ' || lower(p.display_name) || ' 0', 'provider ' || p.display_name,
         concat_ws('; ',
                   case when cardinality(p.short_names) > 0 then 'also ' || array_to_string(p.short_names, ', ') end,
                   'role ' || p.role,
                   'services: ' || coalesce((select string_agg(s.code, ', ' order by s.code)
                                               from public.provider_services ps
                                               join public.services s on s.org_id = ps.org_id and s.id = ps.service_id
                                              where ps.org_id = p.org_id and ps.provider_id = p.id), 'none'),
                   'color ' || p.color,
                   case when not p.active then 'inactive' end)
    from public.providers p where p.org_id = p_org_id
  union all
  select '50 ' || lower(p.display_name) || ' 1 ' || (h.weekday + 6) % 7,
         'provider ' || p.display_name || ' hours ' || private.weekday_name(h.weekday),
         string_agg(private.interval_text(h.opens_at, h.closes_at), ', ' order by h.opens_at)
    from public.provider_hours h join public.providers p on p.org_id = h.org_id and p.id = h.provider_id
   where h.org_id = p_org_id group by p.display_name, h.weekday
  union all
  select '50 ' || lower(p.display_name) || ' 1', 'provider ' || p.display_name || ' hours', 'whenever the clinic is open'
    from public.providers p
   where p.org_id = p_org_id
     and not exists (select 1 from public.provider_hours h where h.org_id = p.org_id and h.provider_id = p.id)
  union all
  select '50 ' || lower(p.display_name) || ' 2 ' || lower(t.during),
         'provider ' || p.display_name || ' time off ' || private.period_text(t.during, o.timezone),
         coalesce(t.reason, '(no reason)')
    from public.provider_time_off t join public.providers p on p.org_id = t.org_id and p.id = t.provider_id, o
   where t.org_id = p_org_id
  -- [[assistants]]
  union all
  select '60 ' || coalesce(va.assistant_id, '') || ' ' || coalesce(va.phone_number_id, ''),
         'vapi ' || concat_ws(' + ', 'assistant ' || va.assistant_id, 'phone number ' || va.phone_number_id),
         coalesce(nullif(concat_ws('; ', 'label ' || to_json(va.label)::text, 'name ' || va.assistant_name,
                                   'prompt ' || char_length(va.custom_prompt) || ' characters (md5 '
                                     || left(md5(va.custom_prompt), 8) || ')'), ''), 'mapped')
    from public.vapi_assistants va where va.org_id = p_org_id
  -- [front_desk]
  union all
  select '70 1', 'front desk number', coalesce(cs.front_desk_number, 'none (no transfers)')
    from o left join public.clinic_call_settings cs on cs.org_id = o.id
  union all
  select '70 2', 'front desk transfer_message', coalesce(cs.transfer_message, '(the service''s line)')
    from o left join public.clinic_call_settings cs on cs.org_id = o.id
  -- [calls]
  union all
  select '75 1', 'calls first_message', coalesce(to_json(cs.first_message)::text, '(the service''s greeting)')
    from o left join public.clinic_call_settings cs on cs.org_id = o.id
  union all
  select '75 2', 'calls transcript_retention_days', coalesce(cs.transcript_retention_days, 30)::text
    from o left join public.clinic_call_settings cs on cs.org_id = o.id
  union all
  select '75 3', 'calls server_credential_id', coalesce(cs.server_credential_id, 'none')
    from o left join public.clinic_call_settings cs on cs.org_id = o.id
  union all
  select '75 4', 'calls voice', coalesce(cs.voice::text, '(Vapi''s default)')
    from o left join public.clinic_call_settings cs on cs.org_id = o.id
  union all
  select '75 5', 'calls model', coalesce(cs.model::text, '(the service''s default)')
    from o left join public.clinic_call_settings cs on cs.org_id = o.id
  union all
  select '80 ' || (t.weekday + 6) % 7, 'transfer hours ' || private.weekday_name(t.weekday),
         string_agg(private.interval_text(t.opens_at, t.closes_at), ', ' order by t.opens_at)
    from public.transfer_hours t where t.org_id = p_org_id group by t.weekday
  union all
  select '80', 'transfer hours', 'the clinic''s opening hours'
    from o where not exists (select 1 from public.transfer_hours t where t.org_id = o.id)
$$;

create or replace function private.clinic_description_json(p_org_id uuid)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select coalesce(jsonb_agg(jsonb_build_object('sort', d.sort, 'item', d.item, 'value', d.value)), '[]')
    from private.clinic_description(p_org_id) d
$$;

-- The difference of two descriptions: [{op: + | - | ~, item, before, after}], in description order.
create or replace function private.description_changes(p_before jsonb, p_after jsonb)
returns jsonb
language sql
immutable
set search_path = ''
as $$
  with b as (select * from jsonb_to_recordset(p_before) as x(sort text, item text, value text)),
       a as (select * from jsonb_to_recordset(p_after) as x(sort text, item text, value text))
  select coalesce(jsonb_agg(jsonb_build_object(
           'op', case when b.item is null then '+' when a.item is null then '-' else '~' end,
           'item', coalesce(a.item, b.item), 'before', b.value, 'after', a.value)
           order by coalesce(a.sort, b.sort), coalesce(a.item, b.item)), '[]')
    from b full join a on a.item = b.item
   where b.value is distinct from a.value
$$;

-- What the spec gets wrong that no table can hold (see the header); '{}' when nothing. p_org is the
-- clinic found by the slug (NULL fields when it is new).
create or replace function private.clinic_spec_problems(p_spec jsonb, p_org public.orgs)
returns text[]
language plpgsql
stable
set search_path = ''
as $$
declare
  v_clinic jsonb := p_spec -> 'clinic';
  v_problems text[] := '{}';
  v_timezone text := coalesce(v_clinic ->> 'timezone', p_org.timezone);
  v_codes text[];
  v_item jsonb;
  v_n integer;
  v_text text;
  v_key text;
  v_other public.orgs;
begin
  if p_org.id is null then
    foreach v_key in array array['name', 'timezone', 'phone_region'] loop
      if not v_clinic ? v_key then
        v_problems := v_problems || format('clinic.%s: required to create the clinic %s', v_key, v_clinic ->> 'slug');
      end if;
    end loop;
  end if;
  -- the zone every clinic-local time of the spec is read in (the orgs trigger owns the rule)
  if v_timezone is not null and not exists (select 1 from pg_catalog.pg_timezone_names z where z.name = v_timezone) then
    v_problems := v_problems || format('clinic.timezone: %s is not a time zone (an IANA name such as Europe/London)',
                                       to_json(v_timezone));
    v_timezone := null;
  end if;

  -- times and dates as text
  if p_spec ? 'hours' then
    v_problems := v_problems || array(select w.problem from private.spec_week('hours', p_spec -> 'hours') w
                                       where w.problem is not null);
  end if;
  if p_spec #> '{front_desk,hours}' is not null then
    v_problems := v_problems || array(select w.problem from private.spec_week('front_desk.hours', p_spec #> '{front_desk,hours}') w
                                       where w.problem is not null);
  end if;
  if p_spec ? 'closures' and v_timezone is not null then
    v_problems := v_problems || array(select c.problem from private.spec_periods('closures', p_spec -> 'closures', v_timezone) c
                                       where c.problem is not null);
  end if;

  -- [[services]]: codes once each, exactly one default
  if p_spec ? 'services' then
    v_codes := array(select s ->> 'code' from jsonb_array_elements(p_spec -> 'services') s);
    v_problems := v_problems || array(
      select format('services: code %s is listed %s times', to_json(c), count(*))
        from unnest(v_codes) c group by c having count(*) > 1 order by c);
    v_problems := v_problems || array(
      select format('services: name %s is listed %s times (names are matched case-insensitively)', to_json(min(s ->> 'name')), count(*))
        from jsonb_array_elements(p_spec -> 'services') s group by lower(s ->> 'name') having count(*) > 1 order by 1);
    v_n := (select count(*) from jsonb_array_elements(p_spec -> 'services') s where (s ->> 'default')::boolean);
    if v_n <> 1 and jsonb_array_length(p_spec -> 'services') > 0 then
      v_problems := v_problems || format('services: exactly one service has default = true (what an unknown or blank service '
                                         'books), %s do', v_n);
    elsif jsonb_array_length(p_spec -> 'services') = 0 then
      v_problems := v_problems || 'services: a clinic books at least one service'::text;
    end if;
  else
    v_codes := array(select s.code from public.services s where s.org_id = p_org.id and s.active);
  end if;

  -- [[providers]]: names once each (leniently), services that exist, readable hours and time off
  if p_spec ? 'providers' then
    if jsonb_array_length(p_spec -> 'providers') = 0 then
      v_problems := v_problems || 'providers: a clinic has at least one provider (leave the section out to keep the one it has)'::text;
    end if;
    v_problems := v_problems || array(
      select format('providers: %s and %s are one name (case, accents, spacing and punctuation do not count)',
                    to_json(min(p ->> 'name')), to_json(max(p ->> 'name')))
        from jsonb_array_elements(p_spec -> 'providers') p
       group by private.lenient_name(p ->> 'name') having count(*) > 1);
    v_n := 0;
    for v_item in select value from jsonb_array_elements(p_spec -> 'providers') loop
      v_n := v_n + 1;
      v_key := format('provider %s', to_json(v_item ->> 'name'));
      if jsonb_array_length(coalesce(v_item -> 'services', '[]')) = 0 then
        v_problems := v_problems || format('%s: services must name at least one service code', v_key);
      end if;
      for v_text in select jsonb_array_elements_text(coalesce(v_item -> 'services', '[]')) loop
        if not v_text = any(v_codes) then
          v_problems := v_problems || format('%s: services: no service with code %s%s', v_key, to_json(v_text),
                                             case when p_spec ? 'services' then ' in [[services]]' else ' in this clinic' end);
        end if;
      end loop;
      if v_item ? 'hours' then
        v_problems := v_problems || array(select w.problem from private.spec_week(v_key || ' hours', v_item -> 'hours') w
                                           where w.problem is not null);
      end if;
      if v_item ? 'time_off' and v_timezone is not null then
        v_problems := v_problems || array(select t.problem from private.spec_periods(v_key || ' time_off', v_item -> 'time_off', v_timezone) t
                                           where t.problem is not null);
      end if;
    end loop;
  end if;

  -- [[assistants]]: each id well-formed (map_vapi_id's rule), once in the file, and not another clinic's
  if p_spec ? 'assistants' then
    v_n := 0;
    for v_item in select value from jsonb_array_elements(p_spec -> 'assistants') loop
      v_n := v_n + 1;
      if v_item ->> 'assistant_id' is null and v_item ->> 'phone_number_id' is null then
        v_problems := v_problems || format('assistants[%s]: give assistant_id, phone_number_id or both', v_n);
        continue;
      end if;
      foreach v_key in array array['assistant_id', 'phone_number_id'] loop
        v_text := btrim(v_item ->> v_key);
        continue when v_text is null;
        if private.vapi_id_input_error(case when v_key = 'assistant_id' then v_text end,
                                       case when v_key = 'phone_number_id' then v_text end) is not null then
          v_problems := v_problems || format('assistants[%s].%s: %s', v_n, v_key,
            private.vapi_id_input_error(case when v_key = 'assistant_id' then v_text end,
                                        case when v_key = 'phone_number_id' then v_text end) ->> 'message');
          continue;
        end if;
        select o.* into v_other
          from public.vapi_assistants va join public.orgs o on o.id = va.org_id
         where (case when v_key = 'assistant_id' then va.assistant_id else va.phone_number_id end) = v_text
           and va.org_id is distinct from p_org.id;
        if found then
          v_problems := v_problems || format('assistants[%s].%s: %s is already mapped to org %s (%s); unmap it there first',
                                             v_n, v_key, v_text, v_other.id, v_other.name);
        end if;
      end loop;
    end loop;
    v_problems := v_problems || array(
      select format('assistants: %s %s is listed %s times', k, v, count(*))
        from jsonb_array_elements(p_spec -> 'assistants') a,
             lateral (values ('assistant_id', btrim(a ->> 'assistant_id')), ('phone_number_id', btrim(a ->> 'phone_number_id'))) as x(k, v)
       where v is not null group by k, v having count(*) > 1 order by k, v);
  end if;
  return v_problems;
end;
$$;

-- Public RPCs (service_role only) -------------------------------------------------------------------

-- apply_clinic ----------------------------------------------------------------------------------------
-- Creates or updates the clinic of p_spec (found by clinic.slug; clinic.id may adopt an existing
-- clinic that has no slug yet) in one transaction, or changes nothing. Replies:
--   {"success": true, "orgId", "slug", "created", "dryRun", "changes": [{op, item, before, after}],
--    "notes": [text], "newVapiIds": [{"kind": "assistant" | "phone number", "id"}]}
--   {"success": false, "error": "invalid_spec", "message", "problems": [text]}  (nothing written)
-- p_dry_run: everything is done and answered, then rolled back (the command's --dry-run, and how it
-- learns which Vapi ids are new before it confirms them with Vapi).
create or replace function public.apply_clinic(p_spec jsonb, p_dry_run boolean default false)
returns json
language plpgsql
volatile
security definer
set search_path = ''
set lock_timeout = '3s'
as $$
declare
  -- SQLSTATE of the deliberate rollback of the whole apply (problems found, or a dry run)
  c_rollback constant text := 'CA001';
  v_clinic jsonb := p_spec -> 'clinic';
  v_slug text := btrim(p_spec #>> '{clinic,slug}');
  v_id uuid;
  v_org public.orgs;
  v_created boolean := false;
  v_before jsonb := '[]';
  v_changes jsonb := '[]';
  v_problems text[] := '{}';
  v_notes text[] := '{}';
  v_new_ids jsonb := '[]';
  v_item text;
  v_msg text;
  v_schema text;
  v_table text;
  v_constraint text;
  v_row record;
  v_spec jsonb;
  v_provider_id uuid;
  v_default text;
  v_rows uuid[];
  v_count integer;
  v_upcoming integer;
  v_kept uuid[] := '{}';
begin
  if jsonb_typeof(p_spec) is distinct from 'object' or jsonb_typeof(v_clinic) is distinct from 'object'
     or v_slug is null or v_slug = '' then
    return json_build_object('success', false, 'error', 'invalid_spec',
      'message', 'The spec needs a [clinic] table with a slug; nothing was changed',
      'problems', json_build_array('clinic.slug: required (the name this clinic is found by, e.g. harbor-physio)'));
  end if;
  -- one apply per clinic at a time
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtext('public.apply_clinic'), pg_catalog.hashtext(v_slug));

  if v_clinic ? 'id' then
    begin
      v_id := (v_clinic ->> 'id')::uuid;
    exception when invalid_text_representation then
      v_problems := v_problems || format('clinic.id: %s is not a UUID', to_json(v_clinic ->> 'id'));
    end;
  end if;
  select * into v_org from public.orgs o where o.slug = v_slug;
  if found and v_id is not null and v_org.id <> v_id then
    v_problems := v_problems || format('clinic.id: the clinic with slug %s is org %s, not %s', v_slug, v_org.id, v_id);
  elsif not found and v_id is not null then
    select * into v_org from public.orgs o where o.id = v_id;
    if found and v_org.slug is not null then
      v_problems := v_problems || format('clinic.id: org %s is the clinic with slug %s, not %s', v_id, v_org.slug, v_slug);
    end if;
  end if;
  if cardinality(v_problems) = 0 then
    v_problems := private.clinic_spec_problems(p_spec, v_org);
  end if;
  if cardinality(v_problems) > 0 then
    return json_build_object('success', false, 'error', 'invalid_spec',
      'message', format('%s problem(s) in the clinic spec; nothing was changed', cardinality(v_problems)),
      'problems', to_json(v_problems));
  end if;
  if v_org.id is not null then
    v_before := private.clinic_description_json(v_org.id);
  end if;

  begin
    -- [clinic] -------------------------------------------------------------------------------------
    v_item := 'clinic';
    begin
      if v_org.id is null then
        insert into public.orgs (id, slug, name, timezone, phone_region)
        values (coalesce(v_id, gen_random_uuid()), v_slug, v_clinic ->> 'name', v_clinic ->> 'timezone',
                v_clinic ->> 'phone_region')
        returning * into v_org;
        v_created := true;
        -- the provider the orgs trigger names after the clinic: the spec's providers replace it
        if p_spec ? 'providers' then
          delete from public.providers p where p.org_id = v_org.id;
        end if;
      end if;
      update public.orgs o
         set slug = v_slug,
             name = coalesce(v_clinic ->> 'name', o.name),
             timezone = coalesce(v_clinic ->> 'timezone', o.timezone),
             phone_region = coalesce(v_clinic ->> 'phone_region', o.phone_region),
             slot_interval_minutes = coalesce((v_clinic ->> 'slot_interval_minutes')::integer, o.slot_interval_minutes),
             min_notice_minutes = coalesce((v_clinic ->> 'min_notice_minutes')::integer, o.min_notice_minutes),
             booking_horizon_days = coalesce((v_clinic ->> 'booking_horizon_days')::integer, o.booking_horizon_days)
       where o.id = v_org.id
         and (o.slug, o.name, o.timezone, o.phone_region, o.slot_interval_minutes, o.min_notice_minutes,
              o.booking_horizon_days) is distinct from
             (v_slug, coalesce(v_clinic ->> 'name', o.name), coalesce(v_clinic ->> 'timezone', o.timezone),
              coalesce(v_clinic ->> 'phone_region', o.phone_region),
              coalesce((v_clinic ->> 'slot_interval_minutes')::integer, o.slot_interval_minutes),
              coalesce((v_clinic ->> 'min_notice_minutes')::integer, o.min_notice_minutes),
              coalesce((v_clinic ->> 'booking_horizon_days')::integer, o.booking_horizon_days));
      select * into v_org from public.orgs o where o.id = v_org.id;
    exception when others then
      get stacked diagnostics v_msg = message_text, v_schema = schema_name, v_table = table_name, v_constraint = constraint_name;
      v_problems := v_problems || private.spec_write_problem(v_item, v_msg, v_schema, v_table, v_constraint);
      raise exception using errcode = c_rollback;  -- nothing else can be written without the clinic
    end;

    -- [hours] ---------------------------------------------------------------------------------------
    if p_spec ? 'hours' then
      delete from public.business_hours b
       where b.org_id = v_org.id
         and not exists (select 1 from private.spec_week('hours', p_spec -> 'hours') w
                          where (w.weekday, w.opens_at, w.closes_at) = (b.weekday, b.opens_at, b.closes_at));
      for v_row in select distinct w.weekday, w.opens_at, w.closes_at from private.spec_week('hours', p_spec -> 'hours') w
                    where w.problem is null and not exists (select 1 from public.business_hours b
                                       where b.org_id = v_org.id and (b.weekday, b.opens_at, b.closes_at) = (w.weekday, w.opens_at, w.closes_at))
                    order by 1, 2 loop
        v_item := format('hours.%s %s', private.weekday_name(v_row.weekday), private.interval_text(v_row.opens_at, v_row.closes_at));
        begin
          insert into public.business_hours (org_id, weekday, opens_at, closes_at)
          values (v_org.id, v_row.weekday, v_row.opens_at, v_row.closes_at);
        exception when others then
          get stacked diagnostics v_msg = message_text, v_schema = schema_name, v_table = table_name, v_constraint = constraint_name;
          v_problems := v_problems || private.spec_write_problem(v_item, v_msg, v_schema, v_table, v_constraint);
        end;
      end loop;
    end if;

    -- [[closures]] ----------------------------------------------------------------------------------
    if p_spec ? 'closures' then
      delete from public.closures c
       where c.org_id = v_org.id
         and not exists (select 1 from private.spec_periods('closures', p_spec -> 'closures', v_org.timezone) w
                          where w.during = c.during);
      update public.closures c set reason = w.reason
        from private.spec_periods('closures', p_spec -> 'closures', v_org.timezone) w
       where c.org_id = v_org.id and c.during = w.during and c.reason is distinct from w.reason;
      for v_row in select w.during, w.reason from private.spec_periods('closures', p_spec -> 'closures', v_org.timezone) w
                    where w.problem is null and not exists (select 1 from public.closures c where c.org_id = v_org.id and c.during = w.during)
                    order by lower(w.during) loop
        v_item := 'closure ' || private.period_text(v_row.during, v_org.timezone);
        begin
          insert into public.closures (org_id, during, reason) values (v_org.id, v_row.during, v_row.reason);
        exception when others then
          get stacked diagnostics v_msg = message_text, v_schema = schema_name, v_table = table_name, v_constraint = constraint_name;
          v_problems := v_problems || private.spec_write_problem(v_item, v_msg, v_schema, v_table, v_constraint);
        end;
      end loop;
    end if;

    -- [[services]] ----------------------------------------------------------------------------------
    if p_spec ? 'services' then
      v_default := (select s ->> 'code' from jsonb_array_elements(p_spec -> 'services') s
                     where (s ->> 'default')::boolean limit 1);
      -- at most one default at any moment (services_one_default_per_org): the old one steps down first
      update public.services s set is_default = false
       where s.org_id = v_org.id and s.is_default and s.code is distinct from v_default;
      for v_spec in select value from jsonb_array_elements(p_spec -> 'services') loop
        v_item := format('service %s', v_spec ->> 'code');
        begin
          insert into public.services as s (org_id, code, name, duration_minutes, buffer_minutes, is_default, aliases, active)
          values (v_org.id, v_spec ->> 'code', v_spec ->> 'name', (v_spec ->> 'duration_minutes')::integer,
                  coalesce((v_spec ->> 'buffer_minutes')::integer, 0), coalesce((v_spec ->> 'default')::boolean, false),
                  array(select jsonb_array_elements_text(coalesce(v_spec -> 'aliases', '[]'))), true)
          on conflict (org_id, code) do update
            set name = excluded.name, duration_minutes = excluded.duration_minutes, buffer_minutes = excluded.buffer_minutes,
                is_default = excluded.is_default, aliases = excluded.aliases, active = true
            where (s.name, s.duration_minutes, s.buffer_minutes, s.is_default, s.aliases, s.active)
                  is distinct from (excluded.name, excluded.duration_minutes, excluded.buffer_minutes, excluded.is_default,
                                    excluded.aliases, true);
        exception when others then
          get stacked diagnostics v_msg = message_text, v_schema = schema_name, v_table = table_name, v_constraint = constraint_name;
          v_problems := v_problems || private.spec_write_problem(v_item, v_msg, v_schema, v_table, v_constraint);
        end;
      end loop;
      -- left out: deleted, or deactivated when an appointment points at it
      for v_row in select s.id, s.code, s.active,
                          (select count(*) from public.appointments a where a.org_id = s.org_id and a.service_id = s.id) as booked
                     from public.services s
                    where s.org_id = v_org.id
                      and s.code <> all (array(select x ->> 'code' from jsonb_array_elements(p_spec -> 'services') x))
                    order by s.code loop
        if v_row.booked = 0 then
          delete from public.services s where s.org_id = v_org.id and s.id = v_row.id;
        elsif v_row.active then
          update public.services s set active = false, is_default = false where s.org_id = v_org.id and s.id = v_row.id;
          v_notes := v_notes || format('service %s has %s appointment(s): deactivated, not deleted', v_row.code, v_row.booked);
        end if;
      end loop;
    end if;

    -- [[providers]] ---------------------------------------------------------------------------------
    if p_spec ? 'providers' then
      for v_spec in select value from jsonb_array_elements(p_spec -> 'providers') loop
        v_item := format('provider %s', v_spec ->> 'name');
        v_provider_id := null;
        begin
          select p.id into v_provider_id from public.providers p
           where p.org_id = v_org.id and private.lenient_name(p.display_name) = private.lenient_name(v_spec ->> 'name');
          if v_provider_id is null then
            insert into public.providers (org_id, display_name, short_names, role, color)
            values (v_org.id, v_spec ->> 'name', array(select jsonb_array_elements_text(coalesce(v_spec -> 'short_names', '[]'))),
                    nullif(lower(btrim(v_spec ->> 'role')), ''), v_spec ->> 'color')
            returning id into v_provider_id;
          else
            update public.providers p
               set display_name = v_spec ->> 'name',
                   short_names = array(select jsonb_array_elements_text(coalesce(v_spec -> 'short_names', '[]'))),
                   role = nullif(lower(btrim(v_spec ->> 'role')), ''), color = v_spec ->> 'color', active = true
             where p.org_id = v_org.id and p.id = v_provider_id
               and (p.display_name, p.short_names, p.role, p.color, p.active) is distinct from
                   (v_spec ->> 'name', array(select jsonb_array_elements_text(coalesce(v_spec -> 'short_names', '[]'))),
                    nullif(lower(btrim(v_spec ->> 'role')), ''), v_spec ->> 'color', true);
          end if;
          v_kept := v_kept || v_provider_id;
        exception when others then
          get stacked diagnostics v_msg = message_text, v_schema = schema_name, v_table = table_name, v_constraint = constraint_name;
          v_problems := v_problems || private.spec_write_problem(v_item, v_msg, v_schema, v_table, v_constraint);
          v_kept := v_kept || v_provider_id;  -- a provider found but not updated is still the spec's
          continue;
        end;

        -- what it does: exactly the listed services (a service that failed above is not there to link)
        delete from public.provider_services ps
         where ps.org_id = v_org.id and ps.provider_id = v_provider_id
           and not exists (select 1 from public.services s
                            where s.org_id = ps.org_id and s.id = ps.service_id
                              and s.code in (select jsonb_array_elements_text(v_spec -> 'services')));
        insert into public.provider_services (org_id, provider_id, service_id)
        select v_org.id, v_provider_id, s.id
          from public.services s
         where s.org_id = v_org.id and s.code in (select jsonb_array_elements_text(v_spec -> 'services'))
        on conflict do nothing;

        if v_spec ? 'hours' then
          delete from public.provider_hours h
           where h.org_id = v_org.id and h.provider_id = v_provider_id
             and not exists (select 1 from private.spec_week(v_item || ' hours', v_spec -> 'hours') w
                              where (w.weekday, w.opens_at, w.closes_at) = (h.weekday, h.opens_at, h.closes_at));
          for v_row in select distinct w.weekday, w.opens_at, w.closes_at from private.spec_week(v_item || ' hours', v_spec -> 'hours') w
                        where w.problem is null and not exists (select 1 from public.provider_hours h
                                           where h.org_id = v_org.id and h.provider_id = v_provider_id
                                             and (h.weekday, h.opens_at, h.closes_at) = (w.weekday, w.opens_at, w.closes_at))
                        order by 1, 2 loop
            begin
              insert into public.provider_hours (org_id, provider_id, weekday, opens_at, closes_at)
              values (v_org.id, v_provider_id, v_row.weekday, v_row.opens_at, v_row.closes_at);
            exception when others then
              get stacked diagnostics v_msg = message_text, v_schema = schema_name, v_table = table_name, v_constraint = constraint_name;
              v_problems := v_problems || private.spec_write_problem(
                format('%s hours.%s %s', v_item, private.weekday_name(v_row.weekday), private.interval_text(v_row.opens_at, v_row.closes_at)),
                v_msg, v_schema, v_table, v_constraint);
            end;
          end loop;
        end if;

        if v_spec ? 'time_off' then
          delete from public.provider_time_off t
           where t.org_id = v_org.id and t.provider_id = v_provider_id
             and not exists (select 1 from private.spec_periods(v_item || ' time_off', v_spec -> 'time_off', v_org.timezone) w
                              where w.during = t.during);
          update public.provider_time_off t set reason = w.reason
            from private.spec_periods(v_item || ' time_off', v_spec -> 'time_off', v_org.timezone) w
           where t.org_id = v_org.id and t.provider_id = v_provider_id and t.during = w.during
             and t.reason is distinct from w.reason;
          for v_row in select w.during, w.reason from private.spec_periods(v_item || ' time_off', v_spec -> 'time_off', v_org.timezone) w
                        where w.problem is null and not exists (select 1 from public.provider_time_off t
                                           where t.org_id = v_org.id and t.provider_id = v_provider_id and t.during = w.during)
                        order by lower(w.during) loop
            begin
              insert into public.provider_time_off (org_id, provider_id, during, reason)
              values (v_org.id, v_provider_id, v_row.during, v_row.reason);
            exception when others then
              get stacked diagnostics v_msg = message_text, v_schema = schema_name, v_table = table_name, v_constraint = constraint_name;
              v_problems := v_problems || private.spec_write_problem(
                format('%s time_off %s', v_item, private.period_text(v_row.during, v_org.timezone)),
                v_msg, v_schema, v_table, v_constraint);
            end;
          end loop;
        end if;
      end loop;

      -- left out: deleted, or deactivated when an appointment points at it (its upcoming ones are then
      -- in public.stranded_appointments for staff to move)
      for v_row in select p.id, p.display_name, p.active,
                          (select count(*) from public.appointments a where a.org_id = p.org_id and a.provider_id = p.id) as booked,
                          (select count(*) from public.appointments a where a.org_id = p.org_id and a.provider_id = p.id
                              and a.status in ('pending', 'confirmed') and a.starts_at > now()) as upcoming
                     from public.providers p
                    where p.org_id = v_org.id and p.id <> all (v_kept)
                    order by p.display_name loop
        if v_row.booked = 0 then
          delete from public.providers p where p.org_id = v_org.id and p.id = v_row.id;
        elsif v_row.active then
          update public.providers p set active = false where p.org_id = v_org.id and p.id = v_row.id;
          v_notes := v_notes || format('provider %s has %s appointment(s): deactivated, not deleted%s', v_row.display_name,
                                       v_row.booked, case when v_row.upcoming > 0
                                         then format(' (%s upcoming: see stranded_appointments)', v_row.upcoming) else '' end);
        end if;
      end loop;
    end if;

    -- [[assistants]] --------------------------------------------------------------------------------
    if p_spec ? 'assistants' then
      v_kept := '{}';
      for v_spec in select value from jsonb_array_elements(p_spec -> 'assistants') loop
        v_item := 'vapi ' || concat_ws(' + ', 'assistant ' || btrim(v_spec ->> 'assistant_id'),
                                       'phone number ' || btrim(v_spec ->> 'phone_number_id'));
        begin
          -- the rows of this clinic holding either id: one row holds both (the phone's calls reach the assistant)
          v_rows := array(select va.id from public.vapi_assistants va
                           where va.org_id = v_org.id
                             and (va.assistant_id = btrim(v_spec ->> 'assistant_id')
                                  or va.phone_number_id = btrim(v_spec ->> 'phone_number_id'))
                           order by va.assistant_id = btrim(v_spec ->> 'assistant_id') desc nulls last, va.id);
          v_new_ids := v_new_ids || coalesce((
            select jsonb_agg(jsonb_build_object('kind', x.kind, 'id', x.id))
              from (values ('assistant', btrim(v_spec ->> 'assistant_id')), ('phone number', btrim(v_spec ->> 'phone_number_id'))) as x(kind, id)
             where x.id is not null
               and not exists (select 1 from public.vapi_assistants va
                                where va.org_id = v_org.id and x.id = case x.kind when 'assistant' then va.assistant_id
                                                                                  else va.phone_number_id end)), '[]');
          if cardinality(v_rows) > 1 then
            delete from public.vapi_assistants va where va.org_id = v_org.id and va.id = any (v_rows[2:]);
          end if;
          if cardinality(v_rows) = 0 then
            insert into public.vapi_assistants (org_id, assistant_id, phone_number_id, label, assistant_name, custom_prompt)
            values (v_org.id, nullif(btrim(v_spec ->> 'assistant_id'), ''), nullif(btrim(v_spec ->> 'phone_number_id'), ''),
                    nullif(btrim(v_spec ->> 'label'), ''), nullif(btrim(v_spec ->> 'name'), ''), v_spec ->> 'prompt')
            returning id into v_provider_id;
            v_kept := v_kept || v_provider_id;
          else
            update public.vapi_assistants va
               set assistant_id = nullif(btrim(v_spec ->> 'assistant_id'), ''),
                   phone_number_id = nullif(btrim(v_spec ->> 'phone_number_id'), ''),
                   label = nullif(btrim(v_spec ->> 'label'), ''),
                   assistant_name = nullif(btrim(v_spec ->> 'name'), ''),
                   custom_prompt = v_spec ->> 'prompt'
             where va.org_id = v_org.id and va.id = v_rows[1]
               and (va.assistant_id, va.phone_number_id, va.label, va.assistant_name, va.custom_prompt) is distinct from
                   (nullif(btrim(v_spec ->> 'assistant_id'), ''), nullif(btrim(v_spec ->> 'phone_number_id'), ''),
                    nullif(btrim(v_spec ->> 'label'), ''), nullif(btrim(v_spec ->> 'name'), ''), v_spec ->> 'prompt');
            v_kept := v_kept || v_rows[1];
          end if;
        exception when others then
          get stacked diagnostics v_msg = message_text, v_schema = schema_name, v_table = table_name, v_constraint = constraint_name;
          v_problems := v_problems || private.spec_write_problem(v_item, v_msg, v_schema, v_table, v_constraint);
        end;
      end loop;
      -- left out: unmapped (calls to those ids no longer reach this clinic)
      delete from public.vapi_assistants va where va.org_id = v_org.id and va.id <> all (v_kept);
    end if;

    -- [front_desk] ----------------------------------------------------------------------------------
    if p_spec ? 'front_desk' then
      v_spec := p_spec -> 'front_desk';
      if v_spec ? 'number' or v_spec ? 'transfer_message' then
        v_item := 'front_desk';
        begin
          insert into public.clinic_call_settings (org_id) values (v_org.id) on conflict (org_id) do nothing;
          update public.clinic_call_settings cs
             set front_desk_number = case when v_spec ? 'number' then nullif(btrim(v_spec ->> 'number'), '') else cs.front_desk_number end,
                 transfer_message = case when v_spec ? 'transfer_message' then nullif(btrim(v_spec ->> 'transfer_message'), '')
                                         else cs.transfer_message end,
                 updated_at = now()
           where cs.org_id = v_org.id
             and (cs.front_desk_number, cs.transfer_message) is distinct from
                 (case when v_spec ? 'number' then nullif(btrim(v_spec ->> 'number'), '') else cs.front_desk_number end,
                  case when v_spec ? 'transfer_message' then nullif(btrim(v_spec ->> 'transfer_message'), '') else cs.transfer_message end);
        exception when others then
          get stacked diagnostics v_msg = message_text, v_schema = schema_name, v_table = table_name, v_constraint = constraint_name;
          v_problems := v_problems || private.spec_write_problem(v_item, v_msg, v_schema, v_table, v_constraint);
        end;
      end if;
      if v_spec ? 'hours' then
        delete from public.transfer_hours t
         where t.org_id = v_org.id
           and not exists (select 1 from private.spec_week('front_desk.hours', v_spec -> 'hours') w
                            where (w.weekday, w.opens_at, w.closes_at) = (t.weekday, t.opens_at, t.closes_at));
        for v_row in select distinct w.weekday, w.opens_at, w.closes_at from private.spec_week('front_desk.hours', v_spec -> 'hours') w
                      where w.problem is null and not exists (select 1 from public.transfer_hours t
                                         where t.org_id = v_org.id and (t.weekday, t.opens_at, t.closes_at) = (w.weekday, w.opens_at, w.closes_at))
                      order by 1, 2 loop
          v_item := format('front_desk.hours.%s %s', private.weekday_name(v_row.weekday), private.interval_text(v_row.opens_at, v_row.closes_at));
          begin
            insert into public.transfer_hours (org_id, weekday, opens_at, closes_at)
            values (v_org.id, v_row.weekday, v_row.opens_at, v_row.closes_at);
          exception when others then
            get stacked diagnostics v_msg = message_text, v_schema = schema_name, v_table = table_name, v_constraint = constraint_name;
            v_problems := v_problems || private.spec_write_problem(v_item, v_msg, v_schema, v_table, v_constraint);
          end;
        end loop;
      end if;
    end if;

    -- [calls] ---------------------------------------------------------------------------------------
    -- the transient assistant's settings and the transcript retention (clinic_call_settings); a key
    -- left out keeps its value, an empty text clears it
    if p_spec ? 'calls' then
      v_spec := p_spec -> 'calls';
      v_item := 'calls';
      begin
        insert into public.clinic_call_settings (org_id) values (v_org.id) on conflict (org_id) do nothing;
        update public.clinic_call_settings cs
           set first_message = case when v_spec ? 'first_message' then nullif(btrim(v_spec ->> 'first_message'), '')
                                    else cs.first_message end,
               transcript_retention_days = coalesce((v_spec ->> 'transcript_retention_days')::integer,
                                                    cs.transcript_retention_days),
               server_credential_id = case when v_spec ? 'server_credential_id'
                                           then nullif(btrim(v_spec ->> 'server_credential_id'), '')
                                           else cs.server_credential_id end,
               voice = case when v_spec ? 'voice' then v_spec -> 'voice' else cs.voice end,
               model = case when v_spec ? 'model' then v_spec -> 'model' else cs.model end
         where cs.org_id = v_org.id;
      exception when others then
        get stacked diagnostics v_msg = message_text, v_schema = schema_name, v_table = table_name, v_constraint = constraint_name;
        v_problems := v_problems || private.spec_write_problem(v_item, v_msg, v_schema, v_table, v_constraint);
      end;
    end if;

    if cardinality(v_problems) > 0 then
      raise exception using errcode = c_rollback;
    end if;

    -- what can no longer be booked, though nothing is wrong with the spec
    v_notes := v_notes || array(
      select format('service %s: no active provider performs it, so it cannot be booked', s.code)
        from public.services s
       where s.org_id = v_org.id and s.active
         and not exists (select 1 from public.provider_services ps join public.providers p
                           on p.org_id = ps.org_id and p.id = ps.provider_id and p.active
                          where ps.org_id = s.org_id and ps.service_id = s.id)
       order by s.code);
    v_changes := private.description_changes(v_before, private.clinic_description_json(v_org.id));
    if p_dry_run then
      raise exception using errcode = c_rollback;
    end if;
  exception when sqlstate 'CA001' then
    null;  -- everything in this block is undone: a problem was found, or it was a dry run
  end;

  if cardinality(v_problems) > 0 then
    return json_build_object('success', false, 'error', 'invalid_spec',
      'message', format('%s problem(s) in the clinic spec; nothing was changed', cardinality(v_problems)),
      'problems', to_json(v_problems));
  end if;
  return json_build_object(
    'success', true,
    'orgId', case when v_created and p_dry_run and v_id is null then null else v_org.id end,
    'slug', v_slug,
    'created', v_created,
    'dryRun', p_dry_run,
    'changes', v_changes,
    'notes', to_json(v_notes),
    'newVapiIds', v_new_ids);
end;
$$;
grant execute on function public.apply_clinic(jsonb, boolean) to service_role;
comment on function public.apply_clinic(jsonb, boolean) is
  'service_role: create or update one clinic (found by clinic.slug) from a declarative spec — settings, hours, closures, services with aliases, providers with hours, services and time off, Vapi mappings, front desk and transfer hours — in one transaction; answers the changes, or every problem with nothing written. Never deletes what an appointment points at (deactivates it). p_dry_run: answer, then roll back. Used by `flask --app api clinics apply`.';
