-- Booking: leads (patients/callers), appointments and the appointment outbox (the audit trail of
-- every change of an appointment, written by a trigger whoever makes the change).

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
  -- The formats are defined once (20261125000120_formats.sql). An erased lead
  -- (public.erase_patient_data) keeps its row, but its phone no longer identifies anyone:
  -- `erased:<its own id>`, unique per org like any phone, never E.164.
  constraint leads_phone_e164 check (
    private.is_e164(phone)
    or (erased_at is not null and phone = 'erased:' || id::text)
  ),
  -- A plausible address or nothing: no placeholder addresses are ever generated, and the booking
  -- stores an implausible one as NULL rather than refusing.
  constraint leads_email_plausible check (email is null or private.is_plausible_email(email))
);
comment on table public.leads is 'Callers/patients per org, unique by E.164 phone.';
comment on column public.leads.phone is 'E.164, e.g. +14155550123 (normalised by the service).';
comment on column public.leads.email is 'Plausible e-mail address or NULL (never a placeholder).';
comment on column public.leads.erased_at is 'Set when the patient''s personal data was erased on request (public.erase_patient_data); name, email and phone are redacted.';

-- An appointment with one provider. `blocked` = [starts_at, ends_at + service buffer) is what the
-- provider's calendar reserves; the exclusion constraints below make overlapping active appointments
-- of one provider, and of one patient, impossible. `patient_key` is the patient as the second
-- constraint compares them: the lenient name (siblings booked on one parent's phone differ by name);
-- NULL once erased ('[erased]' is nobody, and erasing must never collide).
create table public.appointments (
  org_id uuid not null references public.orgs (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  lead_id uuid not null,
  service_id uuid not null,
  provider_id uuid not null,
  -- the caller chose this provider (named or insisted on one): a move keeps them; otherwise a move
  -- may go to any qualified provider free at the new time (reschedule_appointment_atomic)
  provider_requested boolean not null default false,
  patient_name text not null,
  patient_key text generated always as (
    case when patient_name = '[erased]' then null else private.lenient_name(patient_name) end) stored,
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
  -- no cascade: a provider with appointments is deactivated, not deleted
  foreign key (org_id, provider_id) references public.providers (org_id, id),
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
comment on table public.appointments is 'Appointments, each with one provider. Active (non-cancelled) ones never overlap for one provider (appointments_no_overlap) nor for one patient (appointments_patient_no_overlap).';
comment on column public.appointments.provider_id is 'The provider whose calendar holds it. Filled with the clinic''s only active provider for the service when an INSERT names none (appointments_fill_provider).';
comment on column public.appointments.provider_requested is 'The caller chose the provider (named one when booking or moving). A move keeps a requested provider; otherwise it books any qualified provider free at the new time (the current one first).';
comment on column public.appointments.patient_key is 'Generated: private.lenient_name(patient_name), NULL once erased. With lead_id it identifies the patient for appointments_patient_no_overlap.';
comment on column public.appointments.patient_name is 'Name given for this booking (the lead keeps the first name it was created with).';
comment on column public.appointments.patient_date_of_birth is 'Patient''s date of birth as given when booking (optional). Only ever compared for caller verification (name + DOB), never returned by an RPC or filled in later by a caller.';
comment on column public.appointments.blocked is 'Calendar reservation [starts_at, ends_at + buffer) of the provider; appointments_no_overlap runs on it.';
comment on column public.appointments.status is 'pending → confirmed → completed / no_show; cancelled frees the slot.';
comment on column public.appointments.source is 'Channel that created the booking: api, vapi, dashboard, …';
comment on column public.appointments.idempotency_key is 'Client retry key; a replay returns the original booking.';

-- Outbox and audit trail: one row per change of an appointment, written by the trigger
-- appointments_record_event in the same transaction as the change — whether it came from an RPC,
-- the dashboard (PostgREST), Studio or plain SQL. Rows outlive their appointment (no foreign key to
-- it: a deleted appointment's history stays). Only service_role and definer code write here.
-- Payloads carry ids, times, status and who acted, never a name, phone number or e-mail address.
create table public.appointment_events (
  org_id uuid not null references public.orgs (id) on delete cascade,
  id bigint generated always as identity,
  appointment_id uuid not null,
  kind text not null,
  payload jsonb not null,
  created_at timestamptz not null default now(),
  primary key (org_id, id),
  constraint appointment_events_kind_valid check (kind in ('booked', 'cancelled', 'rescheduled', 'updated', 'deleted'))
);
comment on table public.appointment_events is 'Outbox and audit trail of appointment changes (booked / cancelled / rescheduled / updated / deleted), written by trigger; survives the appointment.';
comment on column public.appointment_events.appointment_id is 'The appointment the event is about; deliberately no foreign key, so the history survives a deletion.';
comment on column public.appointment_events.payload is 'appointmentId, leadId, serviceId, providerId, startsAt, endsAt, status, source; previousStatus/previousStartsAt/previousEndsAt/previousServiceId/previousProviderId/previousLeadId and changed[] on updates; actor, callId, reason. No names, phones or e-mails.';

-- Constraints / indexes ----------------------------------------------------------------------------

-- THE double-booking guard: no two active appointments of one provider may overlap (buffer
-- included). It stays the judge whatever writes (RPC, dashboard, Studio): a loser gets 23P01. The
-- RPCs additionally queue per clinic-local day before choosing a provider (private.queue_clinic_days),
-- because concurrent inserts that conflict in this index wait on each other and can deadlock.
-- Its GiST index also serves every "is this provider free" lookup. A second resource (a room or a
-- chair) would get its own constraint of this form on its own column, under the same lock.
alter table public.appointments
  add constraint appointments_no_overlap exclude using gist (
    org_id with =,
    provider_id with =,
    blocked with &&
  ) where (status <> 'cancelled');

-- No patient in two places: one lead's patient (lenient name) cannot hold two overlapping active
-- visits, with whichever providers (the buffer is the provider's clean-up, not the patient's time).
-- Siblings booked on one parent's phone differ by name and may overlap. Refused as patient_busy.
alter table public.appointments
  add constraint appointments_patient_no_overlap exclude using gist (
    org_id with =,
    lead_id with =,
    patient_key with =,
    tstzrange(starts_at, ends_at, '[)') with &&
  ) where (status <> 'cancelled');

create index appointments_org_lead_idx on public.appointments (org_id, lead_id, starts_at);
create index appointments_org_service_idx on public.appointments (org_id, service_id);
-- "least recently booked" (the fair rule) and a provider's history
create index appointments_org_provider_created_idx on public.appointments (org_id, provider_id, created_at);
create index appointment_events_org_appointment_idx on public.appointment_events (org_id, appointment_id);

create trigger leads_set_updated_at before update on public.leads
  for each row execute function private.set_updated_at();
create trigger appointments_set_updated_at before update on public.appointments
  for each row execute function private.set_updated_at();

-- One-provider compatibility: an INSERT that names no provider (Studio, fixtures, a dashboard written
-- before providers) gets the clinic's only active provider who performs the service — or, when none
-- does, the clinic's only active provider at all (one calendar: everything is theirs; the stranded
-- view shows it). Runs as the inserting role, so a member sees only their own clinic's providers:
-- with none visible the row is left alone (RLS, or NOT NULL, refuses it); with several candidates,
-- the error says to name one.
create or replace function private.fill_appointment_provider()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_ids uuid[];
begin
  v_ids := array(
    select p.id
      from public.providers p
      join public.provider_services ps
        on ps.org_id = p.org_id and ps.provider_id = p.id and ps.service_id = new.service_id
     where p.org_id = new.org_id and p.active
     limit 2);
  if cardinality(v_ids) = 0 then
    v_ids := array(select p.id from public.providers p where p.org_id = new.org_id and p.active limit 2);
  end if;
  if cardinality(v_ids) = 1 then
    new.provider_id := v_ids[1];
  elsif cardinality(v_ids) > 1 then
    raise exception 'appointments.provider_id is required: more than one provider of this clinic could hold this appointment'
      using errcode = '23502', hint = 'Name the provider (provider_id); see public.providers and public.provider_services.';
  end if;
  return new;
end;
$$;

create trigger appointments_fill_provider
  before insert on public.appointments
  for each row when (new.provider_id is null) execute function private.fill_appointment_provider();

-- Audit trail (private) ----------------------------------------------------------------------------

-- Who acted, the call and the reason, for the changes the rest of this transaction makes. RPCs call
-- it right before they write an appointment (and clear it after); an operator can call it before a
-- hand-made change in SQL. Transaction-local (set_config(..., true)): it never outlives the
-- transaction. Values are clamped, so an 8 KB call id cannot bloat every event.
-- The actor given here is used only for trusted sessions: an end user is always recorded as the
-- user of their JWT, whatever they set (custom settings can be set by anyone with set_config).
create or replace function private.set_audit_context(
  p_actor text,
  p_call_id text default null,
  p_reason text default null
)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  -- one statement (every booking sets and clears the context: statements are what it costs)
  perform pg_catalog.set_config('app.audit_actor', coalesce(left(btrim(p_actor), 200), ''), true),
          pg_catalog.set_config('app.audit_call_id', coalesce(left(btrim(p_call_id), 200), ''), true),
          pg_catalog.set_config('app.audit_reason', coalesce(left(btrim(p_reason), 500), ''), true);
end;
$$;

-- Who is acting, as recorded in an event: `user:<auth uid>` for an end user (from the JWT, never
-- from the audit context); otherwise the audit context's actor, else the JWT role (service_role) or
-- the session's role (e.g. postgres in Studio or psql), as `role:<name>`.
create or replace function private.audit_actor()
returns text
language plpgsql
stable
set search_path = ''
as $$
begin
  if private.is_end_user() then
    return coalesce('user:' || auth.uid()::text,
                    'role:' || coalesce(nullif(pg_catalog.current_setting('role', true), 'none'),
                                        nullif(auth.role(), ''), 'anon'));
  end if;
  return coalesce(nullif(pg_catalog.current_setting('app.audit_actor', true), ''),
                  'role:' || coalesce(nullif(auth.role(), ''),
                                      nullif(pg_catalog.current_setting('role', true), 'none'),
                                      session_user::text));
end;
$$;

-- The trigger behind the outbox. Security definer: an end user who may update an appointment may
-- not write events, yet their change must be recorded. An update is an event only when one of the
-- tracked columns changes; the list is the one place to extend. Kinds: a change to cancelled is
-- `cancelled`, a change of time and/or provider of an active appointment `rescheduled`, anything else
-- tracked `updated`; insert is `booked`, delete `deleted`.
create or replace function private.record_appointment_event()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_tracked constant text[] := array['status', 'starts_at', 'ends_at', 'service_id', 'provider_id', 'lead_id'];
  v_row public.appointments;
  v_kind text;
  v_changed text[];
  v_previous jsonb := '{}';
  v_old jsonb;
  v_new jsonb;
begin
  if tg_op = 'INSERT' then
    v_row := new;
    v_kind := 'booked';
  elsif tg_op = 'DELETE' then
    -- the org itself is being deleted (cascade): its outbox goes with it, nothing to record
    if not exists (select 1 from public.orgs o where o.id = old.org_id) then
      return null;
    end if;
    v_row := old;
    v_kind := 'deleted';
  else
    v_old := to_jsonb(old);
    v_new := to_jsonb(new);
    select coalesce(array_agg(t.col order by t.ord), '{}') into v_changed
      from unnest(v_tracked) with ordinality as t(col, ord)
     where v_old -> t.col is distinct from v_new -> t.col;
    if cardinality(v_changed) = 0 then
      return null;
    end if;
    v_row := new;
    v_kind := case
      when new.status = 'cancelled' and old.status <> 'cancelled' then 'cancelled'
      when new.status = old.status and new.status <> 'cancelled'
           and v_changed <@ array['starts_at', 'ends_at', 'provider_id'] then 'rescheduled'
      else 'updated'
    end;
    v_previous := jsonb_build_object('changed', to_jsonb(v_changed));
    if 'status' = any (v_changed) then
      v_previous := v_previous || jsonb_build_object('previousStatus', old.status);
    end if;
    if v_changed && array['starts_at', 'ends_at'] then
      v_previous := v_previous || jsonb_build_object('previousStartsAt', private.iso(old.starts_at),
                                                     'previousEndsAt', private.iso(old.ends_at));
    end if;
    if 'service_id' = any (v_changed) then
      v_previous := v_previous || jsonb_build_object('previousServiceId', old.service_id);
    end if;
    if 'provider_id' = any (v_changed) then
      v_previous := v_previous || jsonb_build_object('previousProviderId', old.provider_id);
    end if;
    -- another lead is another phone: the one that now hears this appointment by caller ID
    if 'lead_id' = any (v_changed) then
      v_previous := v_previous || jsonb_build_object('previousLeadId', old.lead_id);
    end if;
  end if;

  insert into public.appointment_events (org_id, appointment_id, kind, payload)
  values (v_row.org_id, v_row.id, v_kind, jsonb_strip_nulls(
    jsonb_build_object(
      'appointmentId', v_row.id,
      'leadId', v_row.lead_id,
      'serviceId', v_row.service_id,
      'providerId', v_row.provider_id,
      'startsAt', private.iso(v_row.starts_at),
      'endsAt', private.iso(v_row.ends_at),
      'status', v_row.status,
      'source', v_row.source,
      'actor', private.audit_actor(),
      'callId', nullif(pg_catalog.current_setting('app.audit_call_id', true), ''),
      'reason', nullif(pg_catalog.current_setting('app.audit_reason', true), ''))
    || v_previous));
  return null;
end;
$$;

create trigger appointments_record_event
  after insert or update or delete on public.appointments
  for each row execute function private.record_appointment_event();

-- RLS ----------------------------------------------------------------------------------------------
alter table public.leads enable row level security;
alter table public.appointments enable row level security;
alter table public.appointment_events enable row level security;

-- Members manage their clinic's patients (one `for all` policy; the grants below say which commands).
create policy leads_member on public.leads for all to authenticated
  using (org_id in (select private.member_org_ids())) with check (org_id in (select private.member_org_ids()));

create policy appointments_member_select on public.appointments for select to authenticated
  using (org_id in (select private.member_org_ids()));
create policy appointments_member_insert on public.appointments for insert to authenticated
  with check (org_id in (select private.member_org_ids()));
create policy appointments_member_update on public.appointments for update to authenticated
  using (org_id in (select private.member_org_ids())) with check (org_id in (select private.member_org_ids()));
-- No delete policy (and no DELETE privilege): members cancel. A deleted appointment takes the
-- calendar's record of it away; cancelling keeps it, and both are in the outbox either way.

-- The outbox is append-only history: members read their org's events (ids, times, who acted — no
-- personal data; appointment_activity shows them with clinic-local times); nobody but service_role
-- and the trigger writes, updates or deletes them.
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
  o.timezone,
  a.provider_id,
  p.display_name as provider_name
from public.appointments a
join public.orgs o on o.id = a.org_id
join public.leads l on l.org_id = a.org_id and l.id = a.lead_id
join public.services s on s.org_id = a.org_id and s.id = a.service_id
join public.providers p on p.org_id = a.org_id and p.id = a.provider_id
where a.status in ('pending', 'confirmed')
  and a.starts_at > now();
comment on view public.upcoming_appointments is 'Active future appointments with clinic-local start time and provider (RLS of the caller applies).';

-- A provider's day sheet: one row per provider per booked (not cancelled) appointment, with the
-- clinic-local date and times staff plan by.
create view public.provider_day
with (security_invoker = true)
as
select
  a.org_id,
  o.name as clinic_name,
  a.provider_id,
  p.display_name as provider_name,
  (a.starts_at at time zone o.timezone)::date as local_date,
  (a.starts_at at time zone o.timezone)::time as local_start_time,
  (a.ends_at at time zone o.timezone)::time as local_end_time,
  a.id as appointment_id,
  a.patient_name,
  s.code as service_code,
  s.name as service_name,
  a.status,
  a.starts_at,
  a.ends_at,
  o.timezone
from public.appointments a
join public.orgs o on o.id = a.org_id
join public.providers p on p.org_id = a.org_id and p.id = a.provider_id
join public.services s on s.org_id = a.org_id and s.id = a.service_id
where a.status <> 'cancelled';
comment on view public.provider_day is 'One row per provider per booked (not cancelled) appointment with clinic-local date and times (RLS of the caller applies).';

-- Booked appointments a schedule change has stranded: active, future, and no longer fitting because
-- the provider was deactivated or no longer performs the service, the clinic's or the provider's
-- hours changed, or a closure or time off was entered over it. Staff move them (reschedule); nothing
-- is moved or cancelled automatically. `reasons` are codes, `reason` the same in words.
create view public.stranded_appointments
with (security_invoker = true)
as
select
  x.org_id,
  x.clinic_name,
  x.appointment_id,
  x.provider_id,
  x.provider_name,
  x.patient_name,
  x.service_code,
  x.status,
  x.starts_at,
  x.local_starts_at,
  x.timezone,
  x.reasons,
  array_to_string(array(
    select case r
             when 'provider_inactive' then 'the provider is inactive'
             when 'provider_not_qualified' then 'the provider no longer performs this service'
             when 'outside_business_hours' then 'outside the clinic''s opening hours'
             when 'outside_provider_hours' then 'outside the provider''s working hours'
             when 'closure' then 'the clinic is closed then'
             when 'provider_time_off' then 'the provider is off then'
           end
      from unnest(x.reasons) with ordinality as t(r, n) order by n), '; ') as reason
from (
  select
    a.org_id,
    o.name as clinic_name,
    a.id as appointment_id,
    a.provider_id,
    p.display_name as provider_name,
    a.patient_name,
    s.code as service_code,
    a.status,
    a.starts_at,
    a.starts_at at time zone o.timezone as local_starts_at,
    o.timezone,
    array_remove(array[
      case when not p.active then 'provider_inactive' end,
      case when not exists (select 1 from public.provider_services ps
                             where ps.org_id = a.org_id and ps.provider_id = a.provider_id and ps.service_id = a.service_id)
           then 'provider_not_qualified' end,
      case when not exists (select 1 from public.business_hours bh
                             where bh.org_id = a.org_id
                               and bh.weekday = extract(dow from l.local_start)
                               and l.local_start >= l.local_start::date + bh.opens_at
                               and l.local_end <= l.local_start::date + bh.closes_at)
           then 'outside_business_hours' end,
      case when exists (select 1 from public.provider_hours ph
                         where ph.org_id = a.org_id and ph.provider_id = a.provider_id)
            and not exists (select 1 from public.provider_hours ph
                             where ph.org_id = a.org_id and ph.provider_id = a.provider_id
                               and ph.weekday = extract(dow from l.local_start)
                               and l.local_start >= l.local_start::date + ph.opens_at
                               and l.local_end <= l.local_start::date + ph.closes_at)
           then 'outside_provider_hours' end,
      case when exists (select 1 from public.closures c where c.org_id = a.org_id and c.during && a.blocked)
           then 'closure' end,
      case when exists (select 1 from public.provider_time_off t
                         where t.org_id = a.org_id and t.provider_id = a.provider_id and t.during && a.blocked)
           then 'provider_time_off' end
    ], null) as reasons
  from public.appointments a
  join public.orgs o on o.id = a.org_id
  join public.providers p on p.org_id = a.org_id and p.id = a.provider_id
  join public.services s on s.org_id = a.org_id and s.id = a.service_id
  cross join lateral (select a.starts_at at time zone o.timezone as local_start,
                             upper(a.blocked) at time zone o.timezone as local_end) as l
  where a.status in ('pending', 'confirmed')
    and a.starts_at > now()
) x
where cardinality(x.reasons) > 0;
comment on view public.stranded_appointments is 'Active future appointments that no longer fit (provider inactive or not qualified, outside clinic or provider hours, closure, time off), with reasons; nothing is moved automatically (RLS of the caller applies).';

-- The outbox, readable: what happened to which appointment, in the clinic's own time (the start as
-- of that event). A left join: the history of a deleted appointment stays readable.
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
  (e.payload ->> 'startsAt')::timestamptz at time zone o.timezone as local_starts_at,
  e.payload ->> 'actor' as actor,
  e.payload
from public.appointment_events e
join public.orgs o on o.id = e.org_id
left join public.appointments a on a.org_id = e.org_id and a.id = e.appointment_id;
comment on view public.appointment_activity is 'Outbox events with clinic-local times and who acted; patient_name is the appointment''s current one (NULL once the appointment is deleted). RLS of the caller applies.';

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

-- Privileges ---------------------------------------------------------------------------------------
-- New objects start closed (20261125000100_orgs.sql). Members: leads under RLS; appointments
-- without delete; the outbox and the views read-only. No sequence privilege for anyone but the
-- owner and service_role (the identity column needs none). anon: nothing.
grant select, insert, update, delete on public.leads to authenticated;
-- appointments: no update of what identifies a row or its history (id, org_id, created_at,
-- idempotency_key; updated_at is the trigger's): a re-keyed row would leave its events behind.
grant select, insert on public.appointments to authenticated;
grant update (lead_id, service_id, patient_name, patient_date_of_birth, starts_at, ends_at, blocked, status, source)
  on public.appointments to authenticated;
grant select on public.appointment_events to authenticated;
grant select on public.upcoming_appointments, public.appointment_activity, public.opening_hours,
                 public.provider_day, public.stranded_appointments to authenticated;
