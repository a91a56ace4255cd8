-- Catalog: what a clinic offers and when it is open, plus which Vapi assistant speaks for it.

-- Extensions ---------------------------------------------------------------------------------------
-- pg_trgm: trigram similarity, so a misspelt service ("vacination") still finds its service
-- (private.resolve_service, 20261125000400_scheduling.sql). `supabase db reset` drops extensions no
-- migration creates, so it is (re)created here, beside the table it serves.
create extension if not exists pg_trgm with schema extensions;

-- Tables -------------------------------------------------------------------------------------------

-- What callers say, not a document: at most 50 aliases, each 1–100 characters and not blank.
create or replace function private.service_aliases_plausible(p_aliases text[])
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
  -- a wildcard alias ("* vaccine": any words, then vaccine) needs a word after its '*'
  return cardinality(p_aliases) <= 50
     and not exists (select 1 from unnest(p_aliases) as a
                      where a is null or btrim(a) = '' or length(a) > 100 or a ~ '^\s*\*[^[:alnum:]]*$');
end;
$$;
-- the CHECK below runs it as the role that writes the row: members edit their services (authenticated)
grant execute on function private.service_aliases_plausible(text[]) to authenticated, service_role;

-- A service as callers say it, reduced to what the matcher compares: lower case, apostrophes dropped
-- ("doctor's" = "doctors"), other punctuation as spaces ("check-up" = "check up"), who the visit is
-- for dropped ("flu shots for my kids" = "flu shot"), filler words dropped
-- ("I'd like to get a flu shot appointment, please" = "flu shot"; "um a checkup I think" = "checkup";
-- "general checkup" = "checkup"; "not sure", "any kind of visit", "a regular appointment" = nothing,
-- so the default service), each word singular
-- ("vaccinations" = "vaccination", "x-rays" = "x ray", "glasses" = "glass"). Applied alike to what the
-- caller said (private.resolve_service) and to every code, name and alias (services.match_keys), so
-- both sides agree.
create or replace function private.service_key(p_text text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  -- one expression, plpgsql's fast path (a loop over the words cost ~45 µs a phrase)
  return btrim(regexp_replace(
    regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
      regexp_replace(translate(lower(p_text), '''’`', ''), '[^[:alnum:]]+', ' ', 'g'),
      -- who it is for ("for my kids", "for me and my son"): the visit is the same
      '\mfor( (my|our|the|his|her|their|me|and|both|of|us))* (kids?|child|children|sons?|daughters?|wife|'
      'husband|partner|family|mom|dad|mother|father|babies|baby|grandkids?|grandchildren|me|him|her|them|us|'
      'myself|twins)\M',
      ' ', 'g'),
      -- fillers, before and after a plural ("appointments"); spoken hesitations and hedges ("um",
      -- "I think", "if possible"); "general"/"regular" add nothing to a visit's kind
      '\m(a|an|the|my|our|some|for|please|just|i|id|im|to|like|would|need|want|get|have|book|schedule|'
      'appointments?|appts?|visits?|services?|kind|type|of|not|sure|unsure|dont|know|idk|any|anything|'
      'something|whatever|um+|uh+|uhm|erm?|hmm+|think|guess|maybe|probably|possibly|if|possible|general|'
      'regular)\M',
      ' ', 'g'),
      '\m(\w{2,})ies\M', '\1y', 'g'),                     -- therapies → therapy
      '\m(\w+(ss|ch|sh|x|z))es\M', '\1', 'g'),            -- glasses → glass, boxes → box
      '\m(\w+[^\Wsui])s\M', '\1', 'g'),                   -- shots → shot; not "ss", "us", "is"
    '\s+', ' ', 'g'));
end;
$$;

-- The keys services.match_keys holds: code, name and every alias, keyed, without blanks or repeats.
-- A wildcard alias ("* vaccine") keeps its '*' in front of its key ("* vaccine"): private.resolve_service
-- matches it to any phrase that ends with that key after at least one other word ("shingles vaccine",
-- "hep b shot") — the kind of a service is said in its last word, what it is against in the ones before.
create or replace function private.service_keys(p_code text, p_name text, p_aliases text[])
returns text[]
language plpgsql
immutable
set search_path = ''
as $$
begin
  return array(select distinct k.key
                 from unnest(array[p_code, p_name] || coalesce(p_aliases, '{}')) as t(term)
                 cross join lateral (
                   select case when t.term ~ '^\s*\*'
                               then nullif('* ' || private.service_key(regexp_replace(t.term, '^\s*\*', '')), '* ')
                               else private.service_key(t.term) end as key) as k
                where k.key <> ''
                order by 1);
end;
$$;
-- services.match_keys is generated with them as the role that writes the row (members edit services)
grant execute on function private.service_key(text), private.service_keys(text, text, text[]) to authenticated, service_role;

-- Bookable services. duration + buffer is what a booking blocks on the calendar.
create table public.services (
  org_id uuid not null references public.orgs (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  code text not null,
  name text not null,
  duration_minutes integer not null,
  buffer_minutes integer not null default 0,
  is_default boolean not null default false,
  active boolean not null default true,
  aliases text[] not null default '{}',
  match_keys text[] generated always as (private.service_keys(code, name, aliases)) stored,
  created_at timestamptz not null default now(),
  primary key (org_id, id),
  constraint services_org_code_key unique (org_id, code),
  constraint services_code_slug check (code ~ '^[a-z0-9]+(?:[_-][a-z0-9]+)*$'),
  constraint services_name_not_blank check (btrim(name) <> ''),
  -- spoken inside one line of at most 300 characters ("You're all set: a <name> with <provider> on
  -- <day> at <time>."): a longer name would crowd out the day and time; control characters are unsayable
  constraint services_name_speakable check (char_length(name) <= 80 and name !~ '[[:cntrl:]]'),
  constraint services_duration_range check (duration_minutes between 5 and 480),
  constraint services_buffer_range check (buffer_minutes between 0 and 240),
  constraint services_aliases_plausible check (private.service_aliases_plausible(aliases))
);
comment on table public.services is 'Services a clinic books. A caller names one by code, name or alias, leniently (case, punctuation, plural, a misspelling: private.resolve_service); a blank service is the default one; anything else is refused as unknown_service naming the clinic''s services (the v2 contract alone books the default for it).';
comment on column public.services.code is 'Stable lower-case slug, e.g. consultation.';
comment on column public.services.buffer_minutes is 'Clean-up time after the appointment; blocked on the calendar but not part of the visit.';
comment on column public.services.is_default is 'Service used when the caller names none (blank service text), one per org; on the v2 contract also for text that matches no service.';
comment on column public.services.match_keys is 'Generated: code, name and aliases as private.resolve_service compares them (private.service_key: lower case, no punctuation, fillers or plurals); never written.';
comment on column public.services.aliases is 'What callers call this service, per clinic (e.g. {"flu shot", "flu jab"} for a vaccination): matched like code and name — case, punctuation, plural and filler words ignored, a misspelling or two swapped letters tolerated (private.resolve_service). A leading "* " makes a wildcard: "* vaccine" matches any phrase ending in vaccine ("shingles vaccine"). Edit in Studio.';

-- Weekly opening intervals in clinic-local wall-clock time. Several per weekday (lunch breaks).
create table public.business_hours (
  org_id uuid not null references public.orgs (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  weekday smallint not null,
  opens_at time not null,
  closes_at time not null,
  primary key (org_id, id),
  constraint business_hours_weekday_range check (weekday between 0 and 6),
  constraint business_hours_open_before_close check (opens_at < closes_at)
);
comment on table public.business_hours is 'Weekly opening intervals in the clinic''s local time; a weekday without rows is closed.';
comment on column public.business_hours.weekday is '0 = Sunday … 6 = Saturday (as extract(dow)).';
comment on column public.business_hours.opens_at is 'Local opening time; slots are aligned from here.';
comment on column public.business_hours.closes_at is 'Local closing time; an appointment plus its buffer must end by then (24:00 allowed).';

-- One-off closures (holidays, training days) as absolute time ranges.
create table public.closures (
  org_id uuid not null references public.orgs (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  during tstzrange not null,
  reason text,
  created_at timestamptz not null default now(),
  primary key (org_id, id),
  constraint closures_during_not_empty check (not isempty(during) and not lower_inf(during) and not upper_inf(during))
);
comment on table public.closures is 'Periods in which nothing can be booked (holidays etc.), as absolute instants.';
comment on column public.closures.during is 'Closed period [from, to); build it from clinic-local wall clock with AT TIME ZONE.';

-- Vapi assistant / phone-number ids → org. Vapi ids are global, so each maps to one org only.
-- Written only by service_role (the operator command `flask --app api assistants map`, through
-- public.map_vapi_id): a mapping decides which clinic a call books into, and a member of clinic A
-- who could map clinic B's not-yet-mapped phone number would take B's callers. Members read theirs.
create table public.vapi_assistants (
  org_id uuid not null references public.orgs (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  assistant_id text unique,
  phone_number_id text unique,
  label text,
  created_at timestamptz not null default now(),
  primary key (org_id, id),
  constraint vapi_assistants_has_id check (assistant_id is not null or phone_number_id is not null)
);
comment on table public.vapi_assistants is 'Maps Vapi assistant ids and phone-number ids to the org they speak for; a mapping beats any org id claimed in call metadata. Written by service_role only (public.map_vapi_id / unmap_vapi_id); members read their org''s rows.';

-- Constraints / indexes ----------------------------------------------------------------------------

-- Names resolve case-insensitively, so they must be unique case-insensitively.
create unique index services_org_lower_name_key on public.services (org_id, lower(name));
-- Exactly one fallback per org.
create unique index services_one_default_per_org on public.services (org_id) where is_default;

-- Two intervals of the same weekday must not overlap (a slot must fit inside ONE interval).
alter table public.business_hours
  add constraint business_hours_no_overlap exclude using gist (
    org_id with =,
    weekday with =,
    tsrange(date '2000-01-02' + opens_at, date '2000-01-02' + closes_at) with &&
  );

-- Overlap lookups of closures against a candidate slot.
create index closures_org_during_idx on public.closures using gist (org_id, during);
-- A clinic's hours of one weekday (every slot check, the assistant's hours today). Without it the
-- planner reads them through the GiST exclusion index above: ~50 µs more per lookup (bench/README.md).
create index business_hours_org_weekday_idx on public.business_hours (org_id, weekday);

-- RLS ----------------------------------------------------------------------------------------------
alter table public.services enable row level security;
alter table public.business_hours enable row level security;
alter table public.closures enable row level security;
alter table public.vapi_assistants enable row level security;

-- Authenticated members manage their own org's catalog (one `for all` policy per table: which rows;
-- the grants below: which commands); anon has no policy (sees nothing); service_role bypasses RLS.
create policy services_member on public.services for all to authenticated
  using (org_id in (select private.member_org_ids())) with check (org_id in (select private.member_org_ids()));

create policy business_hours_member on public.business_hours for all to authenticated
  using (org_id in (select private.member_org_ids())) with check (org_id in (select private.member_org_ids()));

create policy closures_member on public.closures for all to authenticated
  using (org_id in (select private.member_org_ids())) with check (org_id in (select private.member_org_ids()));

create policy vapi_assistants_member_select on public.vapi_assistants for select to authenticated
  using (org_id in (select private.member_org_ids()));

-- Privileges ---------------------------------------------------------------------------------------
-- New objects start closed (20261125000100_orgs.sql); members manage their catalog under RLS, and
-- only read their Vapi mappings (no insert/update/delete policy, no privilege either).
grant select, insert, update, delete on public.services, public.business_hours, public.closures to authenticated;
grant select on public.vapi_assistants to authenticated;

-- Public RPCs (service_role only) ------------------------------------------------------------------

-- The refusal for a Vapi id argument pair, or NULL: exactly one id, no blanks or control characters,
-- at most 200 characters (Vapi ids are UUIDs; seeds and tests use readable slugs).
create or replace function private.vapi_id_input_error(p_assistant_id text, p_phone_number_id text)
returns json
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_id text := coalesce(p_assistant_id, p_phone_number_id);
begin
  if num_nonnulls(p_assistant_id, p_phone_number_id) <> 1 then
    return json_build_object('success', false, 'error', 'invalid_input',
      'message', 'Give exactly one of an assistant id or a phone-number id');
  end if;
  if length(v_id) > 200 or v_id ~ '[[:space:][:cntrl:]/]' then
    return json_build_object('success', false, 'error', 'invalid_input',
      'message', 'A Vapi id has at most 200 characters and no spaces, slashes or control characters');
  end if;
  return null;
end;
$$;

-- map_vapi_id ----------------------------------------------------------------------------------------
-- Maps one Vapi assistant id or phone-number id to an org. Idempotent: mapping an id again to the same
-- org succeeds (created = false; a given label replaces the old one). An id mapped to another org is
-- refused with that org named — the caller is the operator (service_role), not a clinic's staff, so
-- this is no oracle. Whether the id belongs to the clinic's Vapi account is checked by the command
-- before it calls this (api/cli/assistants.py).
create or replace function public.map_vapi_id(
  p_org_id uuid,
  p_assistant_id text default null,
  p_phone_number_id text default null,
  p_label text default null
)
returns json
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_assistant text := nullif(btrim(p_assistant_id), '');
  v_phone text := nullif(btrim(p_phone_number_id), '');
  v_label text := nullif(btrim(p_label), '');
  v_kind text := case when nullif(btrim(p_assistant_id), '') is not null then 'assistant' else 'phone number' end;
  v_refusal json;
  v_row public.vapi_assistants;
  v_other public.orgs;
  v_created boolean := false;
begin
  if p_org_id is null then
    return json_build_object('success', false, 'error', 'invalid_input', 'message', 'Organization id is required');
  end if;
  v_refusal := private.vapi_id_input_error(v_assistant, v_phone);
  if v_refusal is not null then
    return v_refusal;
  end if;
  if length(v_label) > 200 then
    return json_build_object('success', false, 'error', 'invalid_input', 'message', 'A label has at most 200 characters');
  end if;
  if not exists (select 1 from public.orgs o where o.id = p_org_id) then
    return json_build_object('success', false, 'error', 'unknown_org',
      'message', format('No org %s', p_org_id));
  end if;

  for v_attempt in 1..3 loop
    select * into v_row from public.vapi_assistants va
     where (v_assistant is not null and va.assistant_id = v_assistant)
        or (v_phone is not null and va.phone_number_id = v_phone)
     for update;
    exit when found;
    begin
      insert into public.vapi_assistants (org_id, assistant_id, phone_number_id, label)
      values (p_org_id, v_assistant, v_phone, v_label)
      returning * into v_row;
      v_created := true;
      exit;
    exception when unique_violation then
      -- a concurrent call mapped the same id first: read it and answer as for a second call
      null;
    end;
  end loop;

  if v_row.id is null then  -- mapped and unmapped concurrently, three times over
    return json_build_object('success', false, 'error', 'busy', 'message', 'The mapping is changing; try again');
  end if;
  if v_row.org_id <> p_org_id then
    select * into v_other from public.orgs o where o.id = v_row.org_id;
    return json_build_object('success', false, 'error', 'mapped_to_other_org',
      'message', format('%s id %s is already mapped to org %s (%s); unmap it there first',
                        v_kind, coalesce(v_assistant, v_phone), v_other.id, v_other.name),
      'orgId', v_row.org_id);
  end if;
  if not v_created and v_label is not null and v_label is distinct from v_row.label then
    update public.vapi_assistants va set label = v_label
     where va.org_id = v_row.org_id and va.id = v_row.id
    returning * into v_row;
  end if;

  return json_build_object(
    'success', true,
    'created', v_created,
    'orgId', v_row.org_id,
    'assistantId', v_row.assistant_id,
    'phoneNumberId', v_row.phone_number_id,
    'label', v_row.label);
end;
$$;
grant execute on function public.map_vapi_id(uuid, text, text, text) to service_role;
comment on function public.map_vapi_id(uuid, text, text, text) is
  'service_role: map one Vapi assistant id or phone-number id to an org (idempotent; refuses an id mapped to another org).';

-- unmap_vapi_id --------------------------------------------------------------------------------------
-- Removes one id from the org's mappings: the row goes when it held only that id, otherwise only that
-- id is cleared (an assistant and its phone number may share a row). An id that is not mapped to
-- this org is refused, naming where it is mapped.
create or replace function public.unmap_vapi_id(
  p_org_id uuid,
  p_assistant_id text default null,
  p_phone_number_id text default null
)
returns json
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_assistant text := nullif(btrim(p_assistant_id), '');
  v_phone text := nullif(btrim(p_phone_number_id), '');
  v_kind text := case when nullif(btrim(p_assistant_id), '') is not null then 'assistant' else 'phone number' end;
  v_refusal json;
  v_row public.vapi_assistants;
begin
  if p_org_id is null then
    return json_build_object('success', false, 'error', 'invalid_input', 'message', 'Organization id is required');
  end if;
  v_refusal := private.vapi_id_input_error(v_assistant, v_phone);
  if v_refusal is not null then
    return v_refusal;
  end if;

  select * into v_row from public.vapi_assistants va
   where (v_assistant is not null and va.assistant_id = v_assistant)
      or (v_phone is not null and va.phone_number_id = v_phone)
   for update;
  if not found then
    return json_build_object('success', false, 'error', 'not_mapped',
      'message', format('%s id %s is not mapped to any org', v_kind, coalesce(v_assistant, v_phone)));
  end if;
  if v_row.org_id <> p_org_id then
    return json_build_object('success', false, 'error', 'mapped_to_other_org',
      'message', format('%s id %s is mapped to org %s, not to %s', v_kind, coalesce(v_assistant, v_phone),
                        v_row.org_id, p_org_id),
      'orgId', v_row.org_id);
  end if;

  if num_nonnulls(v_row.assistant_id, v_row.phone_number_id) = 1 then
    delete from public.vapi_assistants va where va.org_id = v_row.org_id and va.id = v_row.id;
  elsif v_assistant is not null then
    update public.vapi_assistants va set assistant_id = null where va.org_id = v_row.org_id and va.id = v_row.id;
  else
    update public.vapi_assistants va set phone_number_id = null where va.org_id = v_row.org_id and va.id = v_row.id;
  end if;

  return json_build_object('success', true, 'orgId', p_org_id,
    'assistantId', v_assistant, 'phoneNumberId', v_phone);
end;
$$;
grant execute on function public.unmap_vapi_id(uuid, text, text) to service_role;
comment on function public.unmap_vapi_id(uuid, text, text) is
  'service_role: remove one Vapi assistant id or phone-number id from an org''s mappings.';
