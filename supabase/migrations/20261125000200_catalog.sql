-- Catalog: what a clinic offers and when it is open, plus which Vapi assistant speaks for it.

-- Tables -------------------------------------------------------------------------------------------

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
  created_at timestamptz not null default now(),
  primary key (org_id, id),
  constraint services_org_code_key unique (org_id, code),
  constraint services_code_slug check (code ~ '^[a-z0-9]+(?:[_-][a-z0-9]+)*$'),
  constraint services_name_not_blank check (btrim(name) <> ''),
  constraint services_duration_range check (duration_minutes between 5 and 480),
  constraint services_buffer_range check (buffer_minutes between 0 and 240)
);
comment on table public.services is 'Services a clinic books. Callers may name a service by code or name (case-insensitive); unknown → the default service.';
comment on column public.services.code is 'Stable lower-case slug, e.g. consultation.';
comment on column public.services.buffer_minutes is 'Clean-up time after the appointment; blocked on the calendar but not part of the visit.';
comment on column public.services.is_default is 'Service used when the caller''s service text is blank or unknown (one per org).';

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
comment on table public.vapi_assistants is 'Maps Vapi assistant ids and phone-number ids to the org they speak for; a mapping beats any org id claimed in call metadata.';

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

-- RLS ----------------------------------------------------------------------------------------------
alter table public.services enable row level security;
alter table public.business_hours enable row level security;
alter table public.closures enable row level security;
alter table public.vapi_assistants enable row level security;

-- Authenticated members manage their own org's catalog; anon has no policy (sees nothing);
-- service_role bypasses RLS.
create policy services_member_select on public.services for select to authenticated
  using (org_id in (select private.member_org_ids()));
create policy services_member_insert on public.services for insert to authenticated
  with check (org_id in (select private.member_org_ids()));
create policy services_member_update on public.services for update to authenticated
  using (org_id in (select private.member_org_ids())) with check (org_id in (select private.member_org_ids()));
create policy services_member_delete on public.services for delete to authenticated
  using (org_id in (select private.member_org_ids()));

create policy business_hours_member_select on public.business_hours for select to authenticated
  using (org_id in (select private.member_org_ids()));
create policy business_hours_member_insert on public.business_hours for insert to authenticated
  with check (org_id in (select private.member_org_ids()));
create policy business_hours_member_update on public.business_hours for update to authenticated
  using (org_id in (select private.member_org_ids())) with check (org_id in (select private.member_org_ids()));
create policy business_hours_member_delete on public.business_hours for delete to authenticated
  using (org_id in (select private.member_org_ids()));

create policy closures_member_select on public.closures for select to authenticated
  using (org_id in (select private.member_org_ids()));
create policy closures_member_insert on public.closures for insert to authenticated
  with check (org_id in (select private.member_org_ids()));
create policy closures_member_update on public.closures for update to authenticated
  using (org_id in (select private.member_org_ids())) with check (org_id in (select private.member_org_ids()));
create policy closures_member_delete on public.closures for delete to authenticated
  using (org_id in (select private.member_org_ids()));

create policy vapi_assistants_member_select on public.vapi_assistants for select to authenticated
  using (org_id in (select private.member_org_ids()));
create policy vapi_assistants_member_insert on public.vapi_assistants for insert to authenticated
  with check (org_id in (select private.member_org_ids()));
create policy vapi_assistants_member_update on public.vapi_assistants for update to authenticated
  using (org_id in (select private.member_org_ids())) with check (org_id in (select private.member_org_ids()));
create policy vapi_assistants_member_delete on public.vapi_assistants for delete to authenticated
  using (org_id in (select private.member_org_ids()));
