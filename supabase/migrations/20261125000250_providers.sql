-- Providers: the people whose calendars a clinic books (issue 10).
--
-- A clinic is many calendars: a family practice with two physicians and a nurse, a dental office
-- with a dentist and two hygienists. Each provider performs some of the clinic's services, works
-- some of its hours and takes time off; appointments belong to one provider, and the exclusion
-- constraint on appointments (20261125000300_booking.sql) is per provider. This migration creates
-- the provider tables, the lenient name matching callers use ("Dr. Patel", "Anika"), the triggers
-- that keep a one-provider clinic working exactly as before, and the clinic-day queue every booking
-- writer takes before it chooses a provider (why: docs/rpc-contract.md, "Concurrency").
--
-- Effective working time of a provider = its provider_hours ∩ the clinic's business_hours (a
-- provider with no provider_hours rows works all clinic hours), minus its provider_time_off and the
-- clinic's closures. There is no per-provider service duration: a service's duration + buffer is the
-- calendar block for everyone who performs it (add a provider_services column if a clinic needs it).

-- Extensions ---------------------------------------------------------------------------------------
-- fuzzystrmatch: double metaphone, so a provider's name said as it sounds and transcribed another way
-- ("Dr. Leigh", "Dr. Li" for Dr. Lee; private.provider_word_like). A Supabase-supported contrib
-- extension (in the PostgreSQL 17 build .ci uses too), created beside what uses it, like pg_trgm.
create extension if not exists fuzzystrmatch with schema extensions;

-- Tables -------------------------------------------------------------------------------------------

-- A person (or a chair/room later, see below) whose calendar is booked. `display_name` is spoken as
-- is ("Dr. Anika Patel"); `short_names` are what a caller may say instead ("Dr. Patel", "Anika").
-- A provider who leaves is deactivated, never deleted: appointments keep pointing at it.
create table public.providers (
  org_id uuid not null references public.orgs (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  display_name text not null,
  short_names text[] not null default '{}',
  role text,
  active boolean not null default true,
  color text,
  notes text,
  created_at timestamptz not null default now(),
  primary key (org_id, id),
  constraint providers_display_name_valid check (btrim(display_name) <> '' and char_length(display_name) <= 120),
  constraint providers_role_word check (role is null or role ~ '^[a-z]{2,40}$'),
  constraint providers_color_format check (color is null or color ~ '^#[0-9A-Fa-f]{6}$'),
  constraint providers_notes_length check (notes is null or char_length(notes) <= 2000)
);

-- Who performs which service. The calendar block is the service's duration + buffer for everyone.
create table public.provider_services (
  org_id uuid not null references public.orgs (id) on delete cascade,
  provider_id uuid not null,
  service_id uuid not null,
  created_at timestamptz not null default now(),
  primary key (org_id, provider_id, service_id),
  foreign key (org_id, provider_id) references public.providers (org_id, id) on delete cascade,
  foreign key (org_id, service_id) references public.services (org_id, id) on delete cascade
);

-- Weekly working intervals of a provider in clinic-local wall-clock time, like business_hours. They
-- are intersected with the clinic's hours: a slot must fit one clinic interval AND one provider
-- interval. No rows at all = the provider works whenever the clinic is open.
create table public.provider_hours (
  org_id uuid not null references public.orgs (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  provider_id uuid not null,
  weekday smallint not null,
  opens_at time not null,
  closes_at time not null,
  primary key (org_id, id),
  foreign key (org_id, provider_id) references public.providers (org_id, id) on delete cascade,
  constraint provider_hours_weekday_range check (weekday between 0 and 6),
  constraint provider_hours_open_before_close check (opens_at < closes_at)
);

-- A provider's absences (vacation, a half day) as absolute ranges, like closures: build them from the
-- clinic's wall clock with AT TIME ZONE.
create table public.provider_time_off (
  org_id uuid not null references public.orgs (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  provider_id uuid not null,
  during tstzrange not null,
  reason text,
  created_at timestamptz not null default now(),
  primary key (org_id, id),
  foreign key (org_id, provider_id) references public.providers (org_id, id) on delete cascade,
  constraint provider_time_off_during_not_empty check (not isempty(during) and not lower_inf(during) and not upper_inf(during))
);

comment on table public.providers is 'People whose calendars a clinic books. Appointments belong to one provider; no provider holds two overlapping active appointments (appointments_no_overlap). Deactivate, do not delete.';
comment on column public.providers.display_name is 'Name as spoken, e.g. Dr. Anika Patel; unique per clinic (case, accents, spacing and punctuation ignored).';
comment on column public.providers.short_names is 'Other names a caller may use, e.g. {Dr. Patel, Anika}; matched leniently (titles like Dr./Doctor/Nurse optional).';
comment on column public.providers.role is 'What the provider is, one lower-case word: physician, dentist, nurse, hygienist (or the clinic''s own, e.g. therapist). A caller may ask by role ("the nurse", "a hygienist", "the doctor" = physician or dentist): one active provider of that role is that provider, several are asked about (private.resolve_provider). NULL: asked for by name only.';
comment on column public.providers.active is 'Inactive providers are not booked, not offered and not matched by name; their booked appointments show up in stranded_appointments.';
comment on column public.providers.color is 'Optional dashboard colour, #RRGGBB.';
comment on table public.provider_services is 'Which provider performs which service. No per-provider duration: duration + buffer of the service is everyone''s calendar block.';
comment on table public.provider_hours is 'Weekly working intervals per provider in clinic-local time, intersected with business_hours; a provider without rows works all clinic hours.';
comment on column public.provider_hours.weekday is '0 = Sunday … 6 = Saturday (as extract(dow)).';
comment on table public.provider_time_off is 'Absences of one provider as absolute instants [from, to), like closures.';

-- Helpers (private) --------------------------------------------------------------------------------

-- Names compared the way a receptionist would: case, accents (NFKD, combining marks dropped),
-- spacing and punctuation do not matter. "José  O'Neil-Smith" = "jose oneil smith". Immutable: it is
-- the generated appointments.patient_key ("no patient in two places") and caller verification uses
-- it (20261125000550_callers.sql); provider names use it for uniqueness.
create or replace function private.lenient_name(p_name text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  -- ASCII text (the usual name; one byte per character) is its own NFKD form, has no combining
  -- marks and none of the extra non-ASCII separators below: the same result, without normalize().
  if octet_length(p_name) = length(p_name) then
    return regexp_replace(lower(p_name), '[[:space:][:punct:]]+', '', 'g');
  end if;
  return regexp_replace(
           lower(regexp_replace(
             normalize(p_name, NFKD),
             '[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]', '', 'g')),
           '[[:space:][:punct:]\u00b4\u02bc\u2010-\u2015\u2018\u2019\u201c\u201d\u00b7]+', '', 'g');
end;
$$;
-- A generated column's expression runs as whoever writes the row: members (dashboard) and
-- service_role insert and update appointments directly. A pure function of its argument.
grant execute on function private.lenient_name(text) to authenticated, service_role;

-- A spoken provider name as words: lower case, accents and punctuation dropped, "doctor"/"doc"
-- spelled "dr". "Doctor Anika Patel" → {dr, anika, patel}; "Dr. Patel" → {dr, patel}.
create or replace function private.provider_name_words(p_name text)
returns text[]
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_plain text;
begin
  v_plain := btrim(regexp_replace(
    lower(regexp_replace(normalize(coalesce(p_name, ''), NFKD),
                         '[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]', '', 'g')),
    '[^[:alnum:]]+', ' ', 'g'));
  if v_plain = '' then
    return '{}';
  end if;
  return array(
    select case when w in ('doctor', 'doc') then 'dr' else w end
      from unnest(string_to_array(v_plain, ' ')) with ordinality as t(w, n)
     order by n);
end;
$$;

-- Titles a caller may add or leave out ("Dr. Patel" = "Patel"; "Nurse Kim" = "Kim").
create or replace function private.provider_titles()
returns text[]
language plpgsql
immutable
set search_path = ''
as $$
begin
  return array['dr', 'nurse', 'mr', 'mrs', 'ms', 'miss', 'mx', 'prof', 'professor', 'hygienist',
               'dentist', 'dds', 'dmd', 'md', 'np', 'rn', 'pa'];
end;
$$;

-- Words a caller wraps a provider's name in, never a name in themselves: courtesy, requests, hedges
-- ("dr. patel please", "with Dr. Patel", "Dr. Patel if possible", "i'd like to see dr patel"), and the
-- words of a question about a provider ("is Dr. Patel in on Friday?": is, in, on, weekdays, today,
-- tomorrow, available, free, working).
-- Dropped only when the name as said matched nobody (a provider really called "Will" still matches).
create or replace function private.provider_fillers()
returns text[]
language plpgsql
immutable
set search_path = ''
as $$
begin
  return array['please', 'pls', 'thanks', 'thank', 'you', 'with', 'see', 'seeing', 'i', 'id', 'im', 'would',
               'like', 'love', 'want', 'wanna', 'need', 'prefer', 'preferably', 'ideally', 'rather', 'to', 'the',
               'a', 'an', 'my', 'our', 'usual', 'regular', 'if', 'possible', 'can', 'could', 'may', 'maybe',
               'get', 'book', 'me', 'in', 'appointment', 'again', 'hopefully', 'um', 'uh', 'er', 'just', 'only',
               'same', 'as', 'last', 'time', 'one', 'is', 'available', 'free', 'able', 'be', 'go', 'ok', 'okay', 'yes', 'yeah', 'so', 'well', 'that', 'd', 's', 'll', 'm',
               -- a question about a provider said as the name ("is Dr. Patel in on Friday?", "is the nurse
               -- working tomorrow", "when is Dr. Lee available this week"): the question's words and days
               'are', 'there', 'do', 'does', 'have', 'has', 'on', 'at', 'around', 'when', 'what', 'whats', 'will',
               'work', 'works', 'working', 'today', 'tomorrow', 'tonight', 'morning', 'afternoon',
               'evening', 'this', 'next', 'week', 'day', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday',
               'saturday', 'sunday', 'mondays', 'tuesdays', 'wednesdays', 'thursdays', 'fridays', 'saturdays',
               'sundays', 'office', 'clinic', 'here'];
end;
$$;

-- Does a word as said stand for a word of a provider's name? The same word; or a misspelling — pg_trgm
-- similarity >= 0.55 ("patell" 0.63, "pattel" 0.63 against patel; "parker" 0.50 against park, "pat"
-- 0.43, "patterson" 0.29 are other names); or the same sound — double metaphone codes equal and the same first letter ("leigh", "li" =
-- "lee": L; "annika" = "anika": ANK; "lewis" LS and "leeds" LTS are not). Words of 2+ letters only.
-- A sound-alike shared by two providers ("Lee" and "Lu") makes the name ambiguous: asked, not guessed.
create or replace function private.provider_word_like(p_said text, p_name text)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
  return p_said = p_name
      or (length(p_said) >= 2 and length(p_name) >= 2
          and (extensions.similarity(p_said, p_name) >= 0.55
               or (left(p_said, 1) = left(p_name, 1)
                   and extensions.dmetaphone(p_said) <> ''
                   and extensions.dmetaphone(p_said) = extensions.dmetaphone(p_name))));
end;
$$;

-- The reply's `provider` object: {id, name}.
create or replace function private.provider_json(p_org_id uuid, p_provider_id uuid)
returns json
language plpgsql
stable
set search_path = ''
as $$
begin
  if p_provider_id is null then
    -- without this, the NULL calls' custom plans look cheaper than the generic one and the query
    -- would be planned again on every call
    return null;
  end if;
  return (select json_build_object('id', p.id, 'name', p.display_name)
            from public.providers p
           where p.org_id = p_org_id and p.id = p_provider_id);
end;
$$;

-- The roles a word said for a provider stands for (providers.role): "doctor"/"dr" is a physician or a
-- dentist, "physician", "dentist", "nurse", "hygienist" themselves; any other word (singular, a trailing
-- s dropped) is a clinic's own role ("therapist"). Words of 1 letter stand for nothing.
create or replace function private.provider_roles_said(p_word text)
returns text[]
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_word is null or length(p_word) < 2 then
    return '{}';
  elsif p_word in ('dr', 'drs', 'doctors', 'docs') then
    return array['physician', 'dentist'];
  elsif p_word in ('gp', 'md', 'physician', 'physicians') then
    return array['physician'];
  end if;
  return array_remove(array[p_word, case when p_word ~ '[^s]s$' then left(p_word, -1) end], null);
end;
$$;

-- Which provider did the caller mean? p_text is a provider id, a name as said ("Doctor Patel",
-- "dr patel", "Anika", "Dr. Patel"), or a way of saying "anyone" (NULL and blank too). Only active
-- providers are matched. Two passes: the words as said with titles (so "Nurse Kim" beats "Dr. Kim"),
-- then without titles against display names, short names and each word of the display name.
-- When neither finds anyone, a third, lenient pass: the words as said without fillers and courtesy
-- ("dr. patel please", "i'd like to see dr patel": private.provider_fillers) and titles, each word
-- standing for a word of the provider's display or short names as said or misspelt or sounding alike
-- ("Dr. Patell", "Dr Pattel", "Dr. Leigh", "Dr. Li": private.provider_word_like). And "Patel or Lee"
-- (two names joined by or / and): each part resolved alone; two or more providers → ambiguous with
-- their names (the voice asks which; it never books someone the caller did not name).
-- A role said instead of a name ("the nurse", "a hygienist", "the doctor": only role words left once
-- fillers are dropped; private.provider_roles_said): one active provider of that role → named, several
-- → kind `role` with that role (out role) and their names: any of them — a receptionist asked for "the
-- hygienist" books whichever hygienist is free (check_availability, booking and reschedule filter "any
-- provider" by the role); none → unknown. A NAME several share ("Dr. Kim" for two Kims, "Patel or Lee")
-- stays ambiguous (asked which).
-- p_fuzzy false (text said in another field, e.g. a provider named as the service) skips the
-- misspelt / sound-alike words of pass 3: only a name or role as written resolves.
-- kind: any | named | role | unknown | ambiguous; names: for unknown, every active provider's display name
-- (to offer); for ambiguous, the matching ones. In a clinic with one active provider a name that
-- matches nothing is `any`: there is one calendar, nobody else can be meant (an unknown id is not).
create or replace function private.resolve_provider(
  p_org_id uuid,
  p_text text,
  p_fuzzy boolean default true,
  out kind text,
  out provider_id uuid,
  out names text[],
  out role text
)
language plpgsql
stable
set search_path = ''
as $$
declare
  v_text text := nullif(btrim(p_text), '');
  v_words text[];
  v_titled text;
  v_plain text;
  v_ids uuid[];
  v_lenient text[];
  v_role text[];
  v_role_found boolean := false;
  v_part record;
begin
  v_words := private.provider_name_words(v_text);
  v_titled := array_to_string(v_words, '');
  if v_text is null or v_titled = ''
     or v_titled in ('any', 'anyone', 'anybody', 'whoever', 'whoeverisfree', 'whoeversfree', 'whoeverisavailable',
                     'whoeversavailable', 'someone', 'somebody', 'either', 'eitherone', 'nopreference', 'nopref',
                     'none', 'noone', 'nobodyinparticular', 'doesntmatter', 'itdoesntmatter', 'dontcare', 'idontcare',
                     'firstavailable', 'anyprovider', 'anydr', 'anyavailable', 'whoeverisfirst') then
    kind := 'any';
    return;
  end if;

  if v_text ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
    select p.id into provider_id from public.providers p
     where p.org_id = p_org_id and p.id = v_text::uuid and p.active;
  else
    v_plain := array_to_string(array(select w from unnest(v_words) as w
                                      where w <> all (private.provider_titles())), '');
    -- 1. as said, titles included
    v_ids := array(
      select p.id from public.providers p
       where p.org_id = p_org_id and p.active
         and exists (select 1 from unnest(p.display_name || p.short_names) as n
                      where array_to_string(private.provider_name_words(n), '') = v_titled)
       order by p.display_name, p.id);
    -- 2. without titles: a full name, a short name or one word of the display name
    if cardinality(v_ids) = 0 and v_plain <> '' then
      v_ids := array(
        select p.id from public.providers p
         where p.org_id = p_org_id and p.active
           and (exists (select 1 from unnest(p.display_name || p.short_names) as n
                         where array_to_string(array(select w from unnest(private.provider_name_words(n)) as w
                                                      where w <> all (private.provider_titles())), '') = v_plain)
                or v_plain = any (private.provider_name_words(p.display_name)))
         order by p.display_name, p.id);
    end if;
    -- 3. leniently: fillers and titles dropped, each word said standing for a word of the name
    --    (as said, misspelt or sounding alike)
    if cardinality(v_ids) = 0 then
      v_lenient := array(select w from unnest(v_words) with ordinality as t(w, n)
                          where w <> all (private.provider_fillers())
                          order by n);
      if cardinality(v_lenient) > 0 and array_to_string(v_lenient, '') <> v_titled
         and not (v_lenient && array['or', 'and', 'either', 'both']) then
        -- the name as said again without the fillers, titles kept ("Nurse Kim please" is no Dr. Kim):
        -- passes 1 and 2 (the call has no fillers left, so it recurses once at most)
        select r.kind, r.provider_id, r.names, r.role into v_part
          from private.resolve_provider(p_org_id, array_to_string(v_lenient, ' '), p_fuzzy) as r;
        if v_part.kind in ('named', 'ambiguous', 'any', 'role') then
          kind := v_part.kind; provider_id := v_part.provider_id; names := v_part.names; role := v_part.role;
          return;
        end if;
      end if;
      -- a role instead of a name: "the nurse", "a hygienist", "your dentist", "any nurse"
      v_role := array(select w from unnest(v_lenient) as w where w not in ('any', 'some', 'your', 'yours', 'his', 'her', 'one', 'of'));
      if cardinality(v_role) = 1 and not (v_lenient && array['or', 'and', 'either', 'both', 'but', 'not', 'except']) then
        v_ids := array(
          select p.id from public.providers p
           where p.org_id = p_org_id and p.active and p.role = any (private.provider_roles_said(v_role[1]))
             -- "the doctor": physicians before dentists, where a clinic has both
             and (p.role = (select min(q.role) filter (where q.role = 'physician') from public.providers q
                             where q.org_id = p_org_id and q.active
                               and q.role = any (private.provider_roles_said(v_role[1])))) is not false
           order by p.display_name, p.id);
        v_role_found := cardinality(v_ids) > 1
          and (select count(distinct p.role) from public.providers p where p.org_id = p_org_id and p.id = any (v_ids)) = 1;
      end if;
      v_lenient := array(select w from unnest(v_lenient) with ordinality as t(w, n)
                          where w <> all (private.provider_titles()) order by n);
      if cardinality(v_ids) > 1 and v_role_found then
        -- a role several share: any of them (names: theirs, for the reply to say who)
        select min(p.role), array_agg(p.display_name order by p.display_name) into role, names
          from public.providers p where p.org_id = p_org_id and p.id = any (v_ids);
        kind := 'role';
        return;
      elsif cardinality(v_ids) > 0 then
        null;  -- found by role
      elsif not coalesce(p_fuzzy, true) then
        null;  -- as written only
      elsif cardinality(v_lenient) between 1 and 3 and not (v_lenient && array['or', 'and', 'either', 'both']) then
        v_ids := array(
          select p.id from public.providers p
           where p.org_id = p_org_id and p.active
             and (select bool_and(exists (
                          select 1
                            from unnest(p.display_name || p.short_names) as n
                            cross join lateral unnest(private.provider_name_words(n)) as nw
                           where nw <> all (private.provider_titles())
                             and private.provider_word_like(w, nw)))
                    from unnest(v_lenient) as w)
           order by p.display_name, p.id);
      elsif v_lenient && array['or', 'and'] then
        -- "Patel or Lee", "either Dr. Patel or Dr. Lee": each part alone; several providers → asked
        v_ids := array(
          select distinct r.provider_id
            from regexp_split_to_table(array_to_string(v_lenient, ' '), '\m(or|and|either|both)\M') as part
            cross join lateral private.resolve_provider(p_org_id, part, p_fuzzy) as r
           where btrim(part) <> '' and r.kind = 'named');
      end if;
    end if;
    if cardinality(v_ids) = 1 then
      provider_id := v_ids[1];
    elsif cardinality(v_ids) > 1 then
      kind := 'ambiguous';
      names := array(select p.display_name from public.providers p
                      where p.org_id = p_org_id and p.id = any (v_ids) order by p.display_name);
      return;
    end if;
  end if;

  if provider_id is null and v_text !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
     and (select count(*) from public.providers p where p.org_id = p_org_id and p.active) = 1 then
    -- one calendar: nobody else can be meant, and the voice never names it (the clinic books as before)
    kind := 'any';
  elsif provider_id is null then
    kind := 'unknown';
    names := array(select p.display_name from public.providers p
                    where p.org_id = p_org_id and p.active order by p.display_name);
  else
    kind := 'named';
  end if;
end;
$$;

-- The key of a clinic's advisory locks (first argument of pg_advisory_lock(int, int)): the uuid's
-- built-in 32-bit hash. Two clinics sharing a key only wait for each other, they never decide wrongly.
create or replace function private.clinic_lock_key(p_org_id uuid)
returns integer
language plpgsql
immutable
set search_path = ''
as $$
begin
  return pg_catalog.uuid_hash(p_org_id);
end;
$$;

-- The herd queue (docs/rpc-contract.md, "Concurrency"). Every writer that chooses a provider or a
-- time (book, reschedule) queues on an advisory lock per clinic and clinic-local DAY of each instant
-- it writes, and decides who is free only once it holds it. Every appointment lies inside one
-- clinic-local day (a slot fits one business-hours interval), so any two bookings that could overlap —
-- whatever their start times — wait for each other here instead of inside the exclusion constraint's
-- index, where concurrent conflicting inserts wait on each other and deadlock. The day is the
-- clinic-local date as a number (days since 2000-01-01), never a timestamptz rendered in the
-- session's time zone; two days (a reschedule) are taken in ascending order. The exclusion
-- constraints stay the judge; a second resource (a room) would queue on the same lock.
--   1. private.queue_clinic_days: wait for the day(s) (session-level lock; lock_timeout bounds it);
--   2. decide on fresh data (each statement after the wait sees every earlier winner's commit);
--   3. private.leave_clinic_days; a winner first takes the same lock at transaction level (p_hold),
--      held until its row is committed, so the next one sees it.
-- A loser thus leaves the queue as soon as it knows it lost and computes its alternatives outside it.
-- Callers wrap steps 2–3 in an exception block that leaves the queue before re-raising (also on
-- query_canceled), so a session lock never outlives the call.

-- Waits for the clinic day(s) of p_first (and p_second) in ascending order; returns the day numbers.
create or replace function private.queue_clinic_days(
  p_org_id uuid,
  p_timezone text,
  p_first timestamptz,
  p_second timestamptz default null
)
returns integer[]
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_key integer := private.clinic_lock_key(p_org_id);
  v_a integer := (p_first at time zone p_timezone)::date - date '2000-01-01';
  v_b integer := coalesce((p_second at time zone p_timezone)::date - date '2000-01-01', v_a);
  v_days integer[];
  v_held integer := 0;
begin
  if v_a = v_b then  -- one day (every booking): nothing is held if the wait fails
    perform pg_catalog.pg_advisory_lock(v_key, v_a);
    return array[v_a];
  end if;
  v_days := array[least(v_a, v_b), greatest(v_a, v_b)];
  begin  -- two days: a failure waiting for the second must release the first
    perform pg_catalog.pg_advisory_lock(v_key, v_days[1]);
    v_held := 1;
    perform pg_catalog.pg_advisory_lock(v_key, v_days[2]);
  exception when others or query_canceled then
    if v_held = 1 then
      perform pg_catalog.pg_advisory_unlock(v_key, v_days[1]);
    end if;
    raise;
  end;
  return v_days;
end;
$$;

-- Leaves the queue (the session-level locks of queue_clinic_days). A winner passes p_hold: it first
-- takes the same locks at transaction level (granted at once: this session holds them), which stay
-- until its row is committed.
create or replace function private.leave_clinic_days(p_org_id uuid, p_days integer[], p_hold boolean default false)
returns void
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_key integer := private.clinic_lock_key(p_org_id);
  v_day integer;
begin
  if p_hold then
    foreach v_day in array p_days loop
      perform pg_catalog.pg_advisory_xact_lock(v_key, v_day);
    end loop;
  end if;
  foreach v_day in array coalesce(p_days, '{}') loop
    perform pg_catalog.pg_advisory_unlock(v_key, v_day);
  end loop;
end;
$$;

-- Constraints / indexes ----------------------------------------------------------------------------

-- short_names: at most 10, no NULL, each at most 80 characters with a letter or digit. Built-in
-- functions only (a CHECK runs as the writing member): the names are joined with U+0001 and no
-- element may be empty of letters/digits or longer than 80.
alter table public.providers
  add constraint providers_short_names_valid check (
    cardinality(short_names) <= 10
    and array_position(short_names, null) is null
    and (cardinality(short_names) = 0
         or (array_to_string(short_names, chr(1))
               !~ ('(^|' || chr(1) || ')[^[:alnum:]' || chr(1) || ']*(' || chr(1) || '|$)')
             and array_to_string(short_names, chr(1)) !~ ('[^' || chr(1) || ']{81}'))));
-- One spoken name per provider and clinic (lenient: "Dr. Patel" and "dr patel" are one name).
create unique index providers_org_display_name_key on public.providers (org_id, private.lenient_name(display_name));
-- "Who performs service S?" — the booking's first question.
create index provider_services_org_service_idx on public.provider_services (org_id, service_id, provider_id);
create index provider_hours_org_provider_idx on public.provider_hours (org_id, provider_id, weekday);
-- Two intervals of one provider on one weekday must not overlap (a slot must fit inside ONE).
alter table public.provider_hours
  add constraint provider_hours_no_overlap exclude using gist (
    org_id with =,
    provider_id with =,
    weekday with =,
    tsrange(date '2000-01-02' + opens_at, date '2000-01-02' + closes_at) with &&
  );
create index provider_time_off_org_provider_during_idx on public.provider_time_off using gist (org_id, provider_id, during);

-- One-provider compatibility (triggers) ----------------------------------------------------------
-- Every clinic has at least one provider, so a clinic set up as before (orgs, services, hours) books
-- exactly as before: a new org gets a provider named after the clinic; while a clinic has exactly one
-- provider, each new service is linked to it; an appointment inserted without provider_id (Studio,
-- fixtures) gets the org's only active provider for its service (20261125000300_booking.sql).

-- A new clinic's first provider, named after the clinic. Security definer: whoever may create an org
-- (service_role, an operator) gets its provider too, whatever RLS says about providers.
create or replace function private.create_clinic_provider()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.providers (org_id, display_name)
  values (new.id, left(new.name, 120));
  return null;
end;
$$;

create trigger orgs_create_provider
  after insert on public.orgs
  for each row execute function private.create_clinic_provider();

-- A new service of a one-provider clinic is that provider's. Runs as the inserting role (a member
-- inserts their own clinic's link under RLS); with several providers nothing is linked: staff decide.
create or replace function private.link_service_to_sole_provider()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_ids uuid[];
begin
  v_ids := array(select p.id from public.providers p where p.org_id = new.org_id limit 2);
  if cardinality(v_ids) = 1 then
    insert into public.provider_services (org_id, provider_id, service_id)
    values (new.org_id, v_ids[1], new.id)
    on conflict do nothing;
  end if;
  return null;
end;
$$;

create trigger services_link_sole_provider
  after insert on public.services
  for each row execute function private.link_service_to_sole_provider();

-- RLS ----------------------------------------------------------------------------------------------
alter table public.providers enable row level security;
alter table public.provider_services enable row level security;
alter table public.provider_hours enable row level security;
alter table public.provider_time_off enable row level security;

-- Members manage their clinic's providers like the rest of its catalog (one `for all` policy per
-- table; the grants below say which commands); anon has no policy.
create policy providers_member on public.providers for all to authenticated
  using (org_id in (select private.member_org_ids())) with check (org_id in (select private.member_org_ids()));

create policy provider_services_member on public.provider_services for all to authenticated
  using (org_id in (select private.member_org_ids())) with check (org_id in (select private.member_org_ids()));

create policy provider_hours_member on public.provider_hours for all to authenticated
  using (org_id in (select private.member_org_ids())) with check (org_id in (select private.member_org_ids()));

create policy provider_time_off_member on public.provider_time_off for all to authenticated
  using (org_id in (select private.member_org_ids())) with check (org_id in (select private.member_org_ids()));

-- Privileges ---------------------------------------------------------------------------------------
-- New objects start closed (20261125000100_orgs.sql); members manage providers under RLS (listed in
-- supabase/tests/05_privilege_inventory.sql). A provider with appointments cannot be deleted (the
-- appointments' foreign key): deactivate it.
grant select, insert, update, delete
  on public.providers, public.provider_services, public.provider_hours, public.provider_time_off
  to authenticated;
