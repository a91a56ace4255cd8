-- Booking: leads (patients/callers), appointments and the appointment outbox.

-- Tables -------------------------------------------------------------------------------------------

-- A caller, identified per org by E.164 phone. Name/email are filled in once, never overwritten by
-- later calls (a voice transcript may mishear them; the first good value wins).
create table public.leads (
  org_id uuid not null references public.orgs (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  name text not null,
  phone text not null,
  email text,
  erased_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (org_id, id),
  constraint leads_org_phone_key unique (org_id, phone),
  constraint leads_name_not_blank check (btrim(name) <> ''),
  -- An erased lead (public.erase_patient_data) keeps its row, but its phone no longer identifies
  -- anyone: `erased:<its own id>`, unique per org like any phone, never E.164.
  constraint leads_phone_e164 check (
    phone ~ '^\+[1-9][0-9]{6,14}$'
    or (erased_at is not null and phone = 'erased:' || id::text)
  ),
  -- A plausible address or nothing: no placeholder addresses are ever generated.
  constraint leads_email_plausible check (
    email is null
    or (email ~* '^[a-z0-9.!#$%&''*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.[a-z]{2,}$'
        and length(email) <= 254)
  )
);
comment on table public.leads is 'Callers/patients per org, unique by E.164 phone.';
comment on column public.leads.phone is 'E.164, e.g. +14155550123 (normalised by the service).';
comment on column public.leads.email is 'Plausible e-mail address or NULL (never a placeholder).';
comment on column public.leads.erased_at is 'Set when the patient''s personal data was erased on request (public.erase_patient_data); name, email and phone are redacted.';

-- An appointment. `blocked` = [starts_at, ends_at + service buffer) is what the calendar reserves;
-- the exclusion constraint below makes overlapping active appointments impossible.
create table public.appointments (
  org_id uuid not null references public.orgs (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  lead_id uuid not null,
  service_id uuid not null,
  patient_name text not null,
  patient_date_of_birth date,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  blocked tstzrange not null,
  status text not null default 'pending',
  source text not null default 'api',
  idempotency_key text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (org_id, id),
  foreign key (org_id, lead_id) references public.leads (org_id, id),
  foreign key (org_id, service_id) references public.services (org_id, id),
  constraint appointments_org_idempotency_key unique (org_id, idempotency_key),
  constraint appointments_ends_after_start check (ends_at > starts_at),
  constraint appointments_blocked_covers check (
    lower(blocked) = starts_at and upper(blocked) >= ends_at
    and lower_inc(blocked) and not upper_inc(blocked)
  ),
  constraint appointments_status_valid check (status in ('pending', 'confirmed', 'cancelled', 'completed', 'no_show')),
  constraint appointments_patient_name_not_blank check (btrim(patient_name) <> ''),
  -- A birth date, not a typo for an appointment date; "not in the future" is checked by the
  -- booking RPC in the clinic's zone (a CHECK cannot depend on today).
  constraint appointments_patient_date_of_birth_plausible check (patient_date_of_birth > date '1900-01-01'),
  constraint appointments_source_not_blank check (btrim(source) <> '')
);
comment on table public.appointments is 'Appointments. Active (non-cancelled) ones can never overlap within an org (appointments_no_overlap).';
comment on column public.appointments.patient_name is 'Name given for this booking (the lead keeps the first name it was created with).';
comment on column public.appointments.patient_date_of_birth is 'Patient''s date of birth as given when booking (optional). Only ever compared for caller verification (name + DOB), never returned by an RPC or filled in later by a caller.';
comment on column public.appointments.blocked is 'Calendar reservation [starts_at, ends_at + buffer); the exclusion constraint runs on it.';
comment on column public.appointments.status is 'pending → confirmed → completed / no_show; cancelled frees the slot.';
comment on column public.appointments.source is 'Channel that created the booking: api, vapi, dashboard, …';
comment on column public.appointments.idempotency_key is 'Client retry key; a replay returns the original booking.';

-- Outbox: one row per change, written in the same transaction, for notifications/calendar sync.
create table public.appointment_events (
  org_id uuid not null,
  id bigint generated always as identity,
  appointment_id uuid not null,
  kind text not null,
  payload jsonb not null,
  created_at timestamptz not null default now(),
  primary key (org_id, id),
  foreign key (org_id, appointment_id) references public.appointments (org_id, id) on delete cascade,
  constraint appointment_events_kind_valid check (kind in ('booked', 'cancelled', 'rescheduled'))
);
comment on table public.appointment_events is 'Transactional outbox of appointment changes (booked / cancelled / rescheduled).';
comment on column public.appointment_events.payload is 'Snapshot: appointmentId, startsAt, endsAt, service, patientName, phone, timezone (+ previous times for rescheduled).';

-- Constraints / indexes ----------------------------------------------------------------------------

-- THE double-booking guard: no two active appointments of one org may overlap (buffer included).
-- Concurrent inserts are decided by the constraint itself (23P01 for the loser), not by locks.
-- Its GiST index also serves every "is this range free" lookup.
alter table public.appointments
  add constraint appointments_no_overlap exclude using gist (
    org_id with =,
    blocked with &&
  ) where (status <> 'cancelled');

create index appointments_org_lead_idx on public.appointments (org_id, lead_id, starts_at);
create index appointments_org_service_idx on public.appointments (org_id, service_id);
create index appointment_events_org_appointment_idx on public.appointment_events (org_id, appointment_id);

create trigger leads_set_updated_at before update on public.leads
  for each row execute function private.set_updated_at();
create trigger appointments_set_updated_at before update on public.appointments
  for each row execute function private.set_updated_at();

-- RLS ----------------------------------------------------------------------------------------------
alter table public.leads enable row level security;
alter table public.appointments enable row level security;
alter table public.appointment_events enable row level security;

create policy leads_member_select on public.leads for select to authenticated
  using (org_id in (select private.member_org_ids()));
create policy leads_member_insert on public.leads for insert to authenticated
  with check (org_id in (select private.member_org_ids()));
create policy leads_member_update on public.leads for update to authenticated
  using (org_id in (select private.member_org_ids())) with check (org_id in (select private.member_org_ids()));
create policy leads_member_delete on public.leads for delete to authenticated
  using (org_id in (select private.member_org_ids()));

create policy appointments_member_select on public.appointments for select to authenticated
  using (org_id in (select private.member_org_ids()));
create policy appointments_member_insert on public.appointments for insert to authenticated
  with check (org_id in (select private.member_org_ids()));
create policy appointments_member_update on public.appointments for update to authenticated
  using (org_id in (select private.member_org_ids())) with check (org_id in (select private.member_org_ids()));
create policy appointments_member_delete on public.appointments for delete to authenticated
  using (org_id in (select private.member_org_ids()));

-- The outbox is append-only history: members read it; writes happen only inside the RPCs.
create policy appointment_events_member_select on public.appointment_events for select to authenticated
  using (org_id in (select private.member_org_ids()));

-- Views --------------------------------------------------------------------------------------------

-- Dashboard list of what is coming up, with the clinic-local start time next to the UTC instant.
-- security_invoker: the caller's RLS applies (members see only their org).
create view public.upcoming_appointments
with (security_invoker = true)
as
select
  a.org_id,
  o.name as clinic_name,
  a.id as appointment_id,
  a.patient_name,
  l.phone as lead_phone,
  l.email as lead_email,
  s.code as service_code,
  s.name as service_name,
  a.status,
  a.starts_at,
  a.ends_at,
  a.starts_at at time zone o.timezone as local_starts_at,
  o.timezone
from public.appointments a
join public.orgs o on o.id = a.org_id
join public.leads l on l.org_id = a.org_id and l.id = a.lead_id
join public.services s on s.org_id = a.org_id and s.id = a.service_id
where a.status in ('pending', 'confirmed')
  and a.starts_at > now();
comment on view public.upcoming_appointments is 'Active future appointments with clinic-local start time (RLS of the caller applies).';

-- The outbox, readable: what happened to which appointment, in the clinic's own time.
create view public.appointment_activity
with (security_invoker = true)
as
select
  e.org_id,
  o.name as clinic_name,
  e.id as event_id,
  e.kind,
  e.appointment_id,
  a.patient_name,
  e.created_at,
  e.created_at at time zone o.timezone as local_created_at,
  a.starts_at at time zone o.timezone as local_starts_at,
  e.payload
from public.appointment_events e
join public.orgs o on o.id = e.org_id
join public.appointments a on a.org_id = e.org_id and a.id = e.appointment_id;
comment on view public.appointment_activity is 'Booked / cancelled / rescheduled events with clinic-local times (RLS of the caller applies).';

-- Opening hours as a clinic operator reads them: weekday names and local times.
create view public.opening_hours
with (security_invoker = true)
as
select
  b.org_id,
  o.name as clinic_name,
  b.weekday,
  trim(to_char(date '2023-01-01' + b.weekday, 'Day')) as weekday_name,  -- 2023-01-01 was a Sunday
  b.opens_at,
  b.closes_at,
  o.timezone
from public.business_hours b
join public.orgs o on o.id = b.org_id;
comment on view public.opening_hours is 'Business hours per clinic with weekday names (RLS of the caller applies).';

/*
 * Table privileges beyond DML
 * Supabase's default privileges grant ALL on new public tables to anon and authenticated. RLS
 * does not apply to TRUNCATE (nor to TRIGGER/REFERENCES), so an API role could otherwise empty a
 * table for every clinic at once; only select/insert/update/delete, filtered by RLS, remain.
 */
revoke truncate, references, trigger on all tables in schema public from anon, authenticated;
