-- Callers: who may hear and change a booking (issue 9, "Caller verification, decided in SQL").
--
-- A lead is a phone holder, not a patient (one parent's phone books several children), so a caller
-- is verified per appointment:
--   * caller_id — the network's caller number (`call.customer.number`) is the appointment's phone;
--   * name_dob  — the caller names the phone the booking is under AND the patient's full name
--                 (lenient: case, accents, spacing, punctuation) AND the exact date of birth on file;
--   * staff     — a signed-in member of the clinic (dashboard), without a caller context.
-- lookup, cancel and reschedule act only on appointments the caller is verified for; anything else
-- is answered as if it did not exist, and a refusal never names anyone. Three failed name + DOB
-- attempts in one call lock these tools for the rest of the call (the count lives here, keyed on the
-- call id, so it holds across requests and workers). Every call of lookup/cancel/reschedule/book —
-- refusals too — leaves one row in an append-only access log that members read and nobody edits;
-- only public.erase_patient_data may redact it, as it redacts the patient everywhere else.
--
-- Every caller-facing RPC takes one jsonb caller context (docs/rpc-contract.md):
--   {callId, callerNumber, phone, name, dateOfBirth, source}
-- parsed and clamped here (private.parse_caller), never trusted as given.

-- Types --------------------------------------------------------------------------------------------

-- The parsed caller context. `staff`: a signed-in member acting without a caller context.
-- `claimed`: which of phone / name / dateOfBirth the caller gave (the access log keeps this list,
-- never the name or the birth date themselves).
create type private.caller_context as (
  call_id text,
  caller_number text,
  phone text,
  name text,
  date_of_birth date,
  source text,
  staff boolean,
  claimed text[]
);

-- Tables -------------------------------------------------------------------------------------------

-- Failed name + DOB verifications per call. Keyed on `call:<call id>`, or `number:<caller number>`
-- when the request carries no call id; and, across calls, per booking phone and patient name claimed
-- (`claim:<phone>:<md5 of the lenient name>`: a new call is a new call id, so the per-call lock alone
-- would let a caller who knows phone and name guess the birth date three times per call, forever).
-- Private (never exposed), written only by the RPCs below.
create table private.caller_verification_failures (
  org_id uuid not null references public.orgs (id) on delete cascade,
  call_key text not null,
  failures integer not null default 1,
  first_failed_at timestamptz not null default now(),
  last_failed_at timestamptz not null default now(),
  primary key (org_id, call_key),
  constraint caller_verification_failures_positive check (failures > 0),
  constraint caller_verification_failures_key check (call_key ~ '^(call|number|claim):' and length(call_key) <= 210)
);
comment on table private.caller_verification_failures is 'Failed caller verifications (name + DOB) per call (3 lock lookup/cancel/reschedule for that call) and per claimed booking phone + name (10 in 24 hours lock name + DOB verification for them).';

-- The access log: who asked what about which appointments, and what they were told or changed.
-- No foreign keys on purpose: the audit trail outlives the appointments (and the clinic) it names.
create table public.caller_access_log (
  org_id uuid not null,
  id bigint generated always as identity,
  occurred_at timestamptz not null default now(),
  action text not null,
  outcome text not null,
  verified_by text,
  appointment_ids uuid[] not null default '{}',
  call_id text,
  caller_number text,
  claimed_phone text,
  claimed text[] not null default '{}',
  source text,
  actor_user_id uuid,
  primary key (org_id, id),
  constraint caller_access_log_action_valid check (action in ('lookup', 'cancel', 'reschedule', 'book')),
  constraint caller_access_log_outcome_valid check (outcome in (
    'disclosed', 'changed', 'booked', 'not_found', 'ambiguous',
    'verification_required', 'verification_failed', 'verification_locked', 'refused')),
  constraint caller_access_log_verified_by_valid check (verified_by in ('caller_id', 'name_dob', 'staff')),
  constraint caller_access_log_claimed_valid check (claimed <@ array['phone', 'name', 'dateOfBirth']),
  constraint caller_access_log_call_id_length check (length(call_id) <= 200),
  constraint caller_access_log_source_length check (length(source) <= 40)
);
comment on table public.caller_access_log is 'Append-only: one row per lookup/cancel/reschedule/book call (refusals too). Members read their clinic''s rows; nobody updates or deletes (only public.erase_patient_data redacts). Never holds a claimed name or date of birth.';
comment on column public.caller_access_log.appointment_ids is 'Appointments disclosed or changed by this call (empty when nothing was).';
comment on column public.caller_access_log.verified_by is 'How the caller was verified: caller_id, name_dob or staff; NULL when not verified.';
comment on column public.caller_access_log.caller_number is 'E.164 from the phone network (call.customer.number), if any; ''[erased]'' after erasure.';
comment on column public.caller_access_log.claimed_phone is 'E.164 the caller said the booking is under, if any; ''[erased]'' after erasure.';
comment on column public.caller_access_log.claimed is 'Which of phone / name / dateOfBirth the caller gave (never their values).';
comment on column public.caller_access_log.actor_user_id is 'The signed-in member who made the call: staff (verified_by = staff), or a member who passed a caller context of their own.';

-- Constraints / indexes ----------------------------------------------------------------------------

create index caller_access_log_org_time_idx on public.caller_access_log (org_id, occurred_at);
-- What one call did (public.call_appointments, 20261125000750_calls.sql): rows by call id.
create index caller_access_log_org_call_idx on public.caller_access_log (org_id, call_id) where call_id is not null;

-- Helpers (private) --------------------------------------------------------------------------------

-- Names are compared with private.lenient_name (20261125000250_providers.sql: case, accents, spacing
-- and punctuation ignored), the same function behind appointments.patient_key.

-- Refusals about a known clinic (with its zone) are private.caller_refusal (20261125000150_replies.sql).

-- p_caller → private.caller_context, or the invalid_input reply. Without a caller context a signed-in
-- member is staff; anyone else (service_role, a trusted connection) must say who is calling, except
-- where p_allow_none (booking: open to any caller, and the v2 contract has no context).
-- callerNumber that is not E.164 counts as absent (withheld caller IDs are normal); a claimed phone
-- or birth date that does not parse is invalid_input (the service normalises both first).
create or replace function private.parse_caller(
  p_org public.orgs,
  p_caller jsonb,
  p_allow_none boolean,
  out ctx private.caller_context,
  out refusal json
)
language plpgsql
stable
set search_path = ''
as $$
declare
  v_dob_text text;
begin
  ctx.claimed := '{}';
  ctx.staff := false;
  if p_caller is null or jsonb_typeof(p_caller) = 'null' then
    if (select auth.uid()) is not null then
      ctx.staff := true;  -- can_act_for_org already required membership of this org
    elsif not p_allow_none then
      refusal := private.caller_refusal(p_org, 'invalid_input', 'Caller context is required');
    end if;
    return;
  end if;
  if jsonb_typeof(p_caller) <> 'object' then
    refusal := private.caller_refusal(p_org, 'invalid_input', 'Caller context must be a JSON object');
    return;
  end if;

  ctx.call_id := left(nullif(btrim(p_caller ->> 'callId'), ''), 200);
  ctx.caller_number := nullif(btrim(p_caller ->> 'callerNumber'), '');
  if not private.is_e164(ctx.caller_number) then
    ctx.caller_number := null;
  end if;
  ctx.source := left(nullif(btrim(p_caller ->> 'source'), ''), 40);
  ctx.name := left(nullif(btrim(p_caller ->> 'name'), ''), 200);
  if ctx.name is not null and private.lenient_name(ctx.name) = '' then
    ctx.name := null;  -- only punctuation: no name at all
  end if;

  ctx.phone := nullif(btrim(p_caller ->> 'phone'), '');
  if ctx.phone is not null and not private.is_e164(ctx.phone) then
    refusal := private.caller_refusal(p_org, 'invalid_input', 'Phone must be in E.164 format, e.g. +14155550123');
    return;
  end if;

  v_dob_text := nullif(btrim(p_caller ->> 'dateOfBirth'), '');
  if v_dob_text is not null then
    if v_dob_text !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' then
      refusal := private.caller_refusal(p_org, 'invalid_input', 'Date of birth must be YYYY-MM-DD');
      return;
    end if;
    begin
      ctx.date_of_birth := v_dob_text::date;
    exception when others then
      refusal := private.caller_refusal(p_org, 'invalid_input', 'Date of birth must be YYYY-MM-DD');
      return;
    end;
    if ctx.date_of_birth <= date '1900-01-01' or ctx.date_of_birth > (now() at time zone p_org.timezone)::date then
      refusal := private.caller_refusal(p_org, 'invalid_input', 'Date of birth must be a past date after 1900-01-01');
      return;
    end if;
  end if;

  ctx.claimed := array_remove(array[
    case when ctx.phone is not null then 'phone' end,
    case when ctx.name is not null then 'name' end,
    case when ctx.date_of_birth is not null then 'dateOfBirth' end], null);
end;
$$;

-- The key the failure counter uses for this call (NULL: nothing to count on).
create or replace function private.caller_call_key(p_ctx private.caller_context)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  return case
    when p_ctx.call_id is not null then 'call:' || p_ctx.call_id
    when p_ctx.caller_number is not null then 'number:' || p_ctx.caller_number
  end;
end;
$$;

-- The counter key of a claimed booking phone + patient name (lookups by name + DOB and bookings by
-- unverified callers count on it): one owner of its format; erase_patient_data matches its prefix.
create or replace function private.caller_claim_key(p_phone text, p_name text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  return 'claim:' || btrim(p_phone) || ':' || pg_catalog.md5(private.lenient_name(p_name));
end;
$$;

-- How long a counter counts: a call id is one call (for ever); a caller number stands for "a call"
-- only for an hour after its last failure; a claimed booking phone + name for a day.
create or replace function private.caller_failure_window(p_key text)
returns interval
language plpgsql
immutable
set search_path = ''
as $$
begin
  return case
    when p_key like 'number:%' then interval '1 hour'
    when p_key like 'claim:%' then interval '24 hours'
  end;
end;
$$;

-- Failed verifications counted on this key so far (within its window).
create or replace function private.caller_failures(p_org_id uuid, p_key text)
returns integer
language plpgsql
stable
set search_path = ''
as $$
begin
  return coalesce((
    select f.failures
      from private.caller_verification_failures f
     where f.org_id = p_org_id and f.call_key = p_key
       and (private.caller_failure_window(f.call_key) is null
            or f.last_failed_at > now() - private.caller_failure_window(f.call_key))), 0);
end;
$$;

-- Counts one failed verification and returns the new total. One upsert: concurrent failures of the
-- same call serialise on the row, so none is lost.
create or replace function private.note_caller_failure(p_org_id uuid, p_key text)
returns integer
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_failures integer;
begin
  if p_key is null then
    return 0;
  end if;
  insert into private.caller_verification_failures as f (org_id, call_key)
  values (p_org_id, p_key)
  on conflict (org_id, call_key) do update
    set failures = case when f.last_failed_at <= now() - private.caller_failure_window(f.call_key)
                        then 1 else f.failures + 1 end,
        first_failed_at = case when f.last_failed_at <= now() - private.caller_failure_window(f.call_key)
                               then now() else f.first_failed_at end,
        last_failed_at = now()
  returning f.failures into v_failures;
  return v_failures;
end;
$$;

-- How is this caller verified, before anything is read for them? Returns verified_by and what was
-- searched ('caller_id' | 'claimed_phone'; NULL for staff), or the refusal reply. Order: lock,
-- then the claimed phone (needs phone + name + DOB), then the caller ID. p_outcome is what the access
-- log records when it differs from the reply (the attempt that locks the call failed verification).
create or replace function private.verify_caller(
  p_org public.orgs,
  p_ctx private.caller_context,
  out verified_by text,
  out searched text,
  out refusal json,
  out outcome text
)
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_key text := private.caller_call_key(p_ctx);
  v_name text;
  v_claim_key text;
begin
  if p_ctx.staff then
    verified_by := 'staff';
    return;
  end if;
  if v_key is not null and private.caller_failures(p_org.id, v_key) >= 3 then
    refusal := private.caller_refusal(p_org, 'verification_locked', 'Too many failed verifications in this call');
    return;
  end if;

  if p_ctx.phone is not null and p_ctx.phone is distinct from p_ctx.caller_number then
    if p_ctx.name is null or p_ctx.date_of_birth is null then
      refusal := private.caller_refusal(p_org, 'verification_required',
        'Verification required: the phone number, full name and date of birth on the booking');
      return;
    end if;
    v_name := private.lenient_name(p_ctx.name);
    -- 10 failed attempts on this booking phone + name in a day, from any calls: no more guessing
    -- (the patient's own line and staff still work; checked before the details are)
    v_claim_key := private.caller_claim_key(p_ctx.phone, p_ctx.name);
    if private.caller_failures(p_org.id, v_claim_key) >= 10 then
      refusal := private.caller_refusal(p_org, 'verification_locked', 'Too many failed verifications for this booking');
      return;
    end if;
    -- any appointment (any status, any time) under that phone for that patient proves who they are
    if exists (
         select 1
           from public.leads l
           join public.appointments a on a.org_id = l.org_id and a.lead_id = l.id
          where l.org_id = p_org.id and l.phone = p_ctx.phone
            and a.patient_date_of_birth = p_ctx.date_of_birth
            and private.lenient_name(a.patient_name) = v_name) then
      verified_by := 'name_dob';
      searched := 'claimed_phone';
      return;
    end if;
    refusal := private.caller_refusal(p_org, 'verification_failed',
      'The details given do not match a booking that can be changed on this call');
    outcome := 'verification_failed';
    -- Counted even when phone and name match a booking that has no date of birth on file (the
    -- caller hears the same offer of a transfer): if that case were not counted, the lock would
    -- arrive one attempt later exactly when such a booking exists, and that would disclose it.
    perform private.note_caller_failure(p_org.id, v_claim_key);
    if private.note_caller_failure(p_org.id, v_key) >= 3 then
      refusal := private.caller_refusal(p_org, 'verification_locked', 'Too many failed verifications in this call');
    end if;
    return;
  end if;

  if p_ctx.caller_number is null then
    refusal := private.caller_refusal(p_org, 'verification_required',
      'Verification required: the phone number, full name and date of birth on the booking');
    return;
  end if;
  verified_by := 'caller_id';
  searched := 'caller_id';
end;
$$;

-- The appointments a verified caller may hear about: active future ones (plus, by id, one of theirs
-- in any state, so "that one is already cancelled" can be said), chronological.
create or replace function private.caller_pool(
  p_org_id uuid,
  p_verified_by text,
  p_ctx private.caller_context,
  p_appointment_id uuid default null
)
returns setof public.appointments
language plpgsql
stable
set search_path = ''
as $$
begin
  if p_verified_by = 'staff' then
    return query
      select a.* from public.appointments a
       where a.org_id = p_org_id
         and ((a.status in ('pending', 'confirmed') and a.starts_at > now()) or a.id = p_appointment_id)
       order by a.starts_at, a.id;
  elsif p_verified_by = 'caller_id' then
    return query
      select a.* from public.leads l
        join public.appointments a on a.org_id = l.org_id and a.lead_id = l.id
       where l.org_id = p_org_id and l.phone = p_ctx.caller_number
         and ((a.status in ('pending', 'confirmed') and a.starts_at > now()) or a.id = p_appointment_id)
       order by a.starts_at, a.id;
  elsif p_verified_by = 'name_dob' then
    return query
      select a.* from public.leads l
        join public.appointments a on a.org_id = l.org_id and a.lead_id = l.id
       where l.org_id = p_org_id and l.phone = p_ctx.phone
         and a.patient_date_of_birth = p_ctx.date_of_birth
         and private.lenient_name(a.patient_name) = private.lenient_name(p_ctx.name)
         and ((a.status in ('pending', 'confirmed') and a.starts_at > now()) or a.id = p_appointment_id)
       order by a.starts_at, a.id;
  end if;
end;
$$;

-- One appointment as replies show it (never the date of birth, never the phone).
create or replace function private.caller_appointment_json(p_appt public.appointments)
returns json
language plpgsql
stable
set search_path = ''
as $$
begin
  return json_build_object(
    'appointmentId', p_appt.id,
    'scheduledAt', private.iso(p_appt.starts_at),
    'endsAt', private.iso(p_appt.ends_at),
    'status', p_appt.status,
    'patientName', p_appt.patient_name,
    'service', private.service_json(p_appt.org_id, p_appt.service_id),
    'provider', private.provider_json(p_appt.org_id, p_appt.provider_id));
end;
$$;

-- The verified caller's upcoming list (at most 50), as a JSON array.
create or replace function private.caller_list(p_org_id uuid, p_verified_by text, p_ctx private.caller_context)
returns json
language plpgsql
stable
set search_path = ''
as $$
begin
  return coalesce((
    select json_agg(x.j order by x.starts_at, x.id)
      from (select private.caller_appointment_json(p) as j, p.starts_at, p.id
              from private.caller_pool(p_org_id, p_verified_by, p_ctx) p
             order by p.starts_at, p.id
             limit 50) x), '[]'::json);
end;
$$;

-- Does a name the caller said ("Leo", "Mia Sibling", "mia sibling") name this appointment's patient?
-- The whole name or the first name, compared as private.lenient_name compares them (the owner of
-- "same name": patient_key is its value for the whole name).
create or replace function private.names_patient(p_appt public.appointments, p_said_key text)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
  return p_said_key is not null and p_said_key <> ''
     and (p_appt.patient_key = p_said_key
          or private.lenient_name(split_part(btrim(p_appt.patient_name), ' ', 1)) = p_said_key);
end;
$$;

-- Which of the verified caller's appointments is meant? Hints (each optional, all must hold): the
-- id, the clinic-local date, the clinic-local weekday (0 = Sunday), the clinic-local start time and
-- the clinic-local day of the month. "Cancel the Tuesday one" finds the only Tuesday appointment
-- however many weeks away it is; "the one on the 9th" the only one on a 9th, whichever month.
-- p_which_service / p_which_provider (from p_which, private.which_hint: "the flu shot", "the one with
-- Nurse Kim"): its service or its provider (either, when the words name both). A part of the day as
-- a clinic-local range (p_after inclusive, p_before exclusive: "the morning one"), and p_ordinal, the
-- nth of the appointments the other hints leave, chronologically (1 = "the first one", -1 = "the
-- last one" / "the later one" of two; past the end: none). The patient name the caller gave
-- (p_ctx.name: "cancel Leo's", a parent's phone holding two children's bookings) narrows what the
-- other hints leave to that patient's (whole or first name, private.names_patient) when it names
-- some but not all of them; naming none of them (the parent said their own name) changes nothing.
-- It runs only here, after verification, so an unverified caller hears the same whatever the name.
-- Returns the appointment, or the not_found / ambiguous reply (with what the caller may hear).
create or replace function private.find_in_pool(
  p_org public.orgs,
  p_ctx private.caller_context,
  p_verified_by text,
  p_searched text,
  p_appointment_id uuid,
  p_local_date date,
  p_weekday smallint,
  p_local_time time,
  p_day_of_month smallint,
  p_which_service uuid default null,
  p_which_provider uuid default null,
  p_after time default null,
  p_before time default null,
  p_ordinal smallint default null,
  out appointment public.appointments,
  out refusal json
)
language plpgsql
stable
set search_path = ''
as $$
declare
  v_matches public.appointments[];
  v_named public.appointments[];
  v_name_key text := private.lenient_name(p_ctx.name);
begin
  v_matches := array(
    select p
      from private.caller_pool(p_org.id, p_verified_by, p_ctx, p_appointment_id) p
     where (p_appointment_id is null or p.id = p_appointment_id)
       and (p_local_date is null or (p.starts_at at time zone p_org.timezone)::date = p_local_date)
       and (p_weekday is null or extract(dow from p.starts_at at time zone p_org.timezone) = p_weekday)
       and (p_local_time is null
            or to_char(p.starts_at at time zone p_org.timezone, 'HH24:MI') = to_char(p_local_time, 'HH24:MI'))
       and (p_day_of_month is null or extract(day from p.starts_at at time zone p_org.timezone) = p_day_of_month)
       and ((p_which_service is null and p_which_provider is null)
            or p.service_id = p_which_service or p.provider_id = p_which_provider)
       and (p_after is null or (p.starts_at at time zone p_org.timezone)::time >= p_after)
       and (p_before is null or (p.starts_at at time zone p_org.timezone)::time < p_before)
     order by p.starts_at, p.id
     limit case when p_ordinal is null then 51 end);
  if cardinality(v_matches) > 1 and nullif(v_name_key, '') is not null then
    v_named := array(select m from unnest(v_matches) m where private.names_patient(m, v_name_key));
    if cardinality(v_named) between 1 and cardinality(v_matches) - 1 then
      v_matches := v_named;
    end if;
  end if;
  if p_ordinal is not null then  -- "the last one": the nth of what the other hints leave
    v_matches := case
      when p_ordinal > 0 and p_ordinal <= cardinality(v_matches) then array[v_matches[p_ordinal]]
      when p_ordinal = -1 and cardinality(v_matches) > 0 then array[v_matches[cardinality(v_matches)]]
      else '{}'::public.appointments[] end;
  end if;

  if cardinality(v_matches) = 1 then
    appointment := v_matches[1];
  elsif cardinality(v_matches) > 1 then
    refusal := json_build_object(
      'success', false, 'error', 'ambiguous',
      'message', 'Several appointments match; ask which one is meant',
      'appointments', (select json_agg(private.caller_appointment_json(m) order by m.starts_at, m.id)
                         from unnest(v_matches[1:50]) m),
      'verifiedBy', p_verified_by, 'searched', p_searched, 'timezone', p_org.timezone);
  else
    refusal := json_build_object(
      'success', false, 'error', 'not_found',
      'message', 'Appointment not found',
      'appointments', private.caller_list(p_org.id, p_verified_by, p_ctx),
      'verifiedBy', p_verified_by, 'searched', p_searched, 'timezone', p_org.timezone);
  end if;
end;
$$;

-- Lock the found appointment against a concurrent change and refuse when it is no longer active.
create or replace function private.lock_caller_appointment(
  p_org public.orgs,
  p_appointment_id uuid,
  p_action text,
  out appointment public.appointments,
  out refusal json
)
language plpgsql
volatile
set search_path = ''
as $$
begin
  select a.* into appointment
    from public.appointments a
   where a.org_id = p_org.id and a.id = p_appointment_id
   for no key update of a;
  if not found then
    refusal := private.caller_refusal(p_org, 'not_found', 'Appointment not found');
  elsif appointment.status = 'cancelled' then
    refusal := json_build_object('success', false, 'error', 'already_cancelled',
      'message', 'Appointment is already cancelled', 'appointmentId', appointment.id,
      'scheduledAt', private.iso(appointment.starts_at), 'timezone', p_org.timezone);
  elsif appointment.status not in ('pending', 'confirmed') then
    refusal := private.caller_refusal(p_org, 'invalid_input',
      format('Appointment is %s and can no longer be %s', appointment.status, p_action));
  end if;
  if refusal is not null then
    appointment := null;
  end if;
end;
$$;

-- "Which one" said by what it is for or who it is with (p_which, as said: "the flu shot", "the
-- vaccination", "the one with Nurse Kim"): the service private.resolve_service finds in it (not the
-- default for only filler words) and the provider private.resolve_provider names (kind named only).
-- Both NULL: the words name neither, and the hint is refused (invalid_input) before verification.
create or replace function private.which_hint(p_org_id uuid, p_which text, out service_id uuid, out provider_id uuid)
language plpgsql
stable
set search_path = ''
as $$
declare
  v_choice record;
begin
  if nullif(btrim(p_which), '') is null then
    return;
  end if;
  if private.service_key(p_which) <> '' then
    service_id := private.resolve_service(p_org_id, p_which);
  end if;
  select * into v_choice from private.resolve_provider(p_org_id, p_which);
  if v_choice.kind = 'named' then
    provider_id := v_choice.provider_id;
  end if;
end;
$$;

-- Hints that cannot mean anything are refused before verification (so they are never counted).
create or replace function private.hint_refusal(p_org public.orgs, p_weekday smallint,
                                                p_day_of_month smallint default null,
                                                p_after time default null, p_before time default null,
                                                p_ordinal smallint default null)
returns json
language plpgsql
stable
set search_path = ''
as $$
begin
  if p_weekday is not null and p_weekday not between 0 and 6 then
    return private.caller_refusal(p_org, 'invalid_input', 'Weekday must be 0 (Sunday) to 6 (Saturday)');
  end if;
  if p_day_of_month is not null and p_day_of_month not between 1 and 31 then
    return private.caller_refusal(p_org, 'invalid_input', 'Day of the month must be 1 to 31');
  end if;
  if p_after is not null and p_before is not null and p_after >= p_before then
    return private.caller_refusal(p_org, 'invalid_input', 'The part of the day must start before it ends');
  end if;
  if p_ordinal is not null and p_ordinal not between 1 and 50 and p_ordinal <> -1 then
    return private.caller_refusal(p_org, 'invalid_input', 'Ordinal must be 1 to 50, or -1 for the last');
  end if;
  return null;
end;
$$;

-- Appends the access-log row for one call and returns its reply unchanged. What was disclosed or
-- changed is read from the reply itself (appointmentId, appointment, appointments), so the log
-- cannot disagree with what the caller was told. p_outcome overrides the outcome derived from it.
create or replace function private.log_caller_access(
  p_org_id uuid,
  p_ctx private.caller_context,
  p_action text,
  p_verified_by text,
  p_reply json,
  p_outcome text default null
)
returns json
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_reply jsonb := p_reply::jsonb;
  v_outcome text;
  v_ids uuid[];
  v_one uuid;
  v_other uuid;
begin
  v_outcome := coalesce(p_outcome, case
    when (v_reply ->> 'success')::boolean then
      case p_action
        when 'book' then 'booked'
        when 'lookup' then
          case when jsonb_typeof(v_reply -> 'appointments') = 'array'
                    and jsonb_array_length(v_reply -> 'appointments') = 0 then 'not_found'
               else 'disclosed' end
        else 'changed'
      end
    when v_reply ->> 'error' in ('not_found', 'ambiguous', 'verification_required',
                                 'verification_failed', 'verification_locked') then v_reply ->> 'error'
    else 'refused'
  end);
  if jsonb_typeof(v_reply -> 'appointments') is distinct from 'array' then
    -- a booking, cancel or reschedule names at most these two (no query: plain expressions)
    v_one := (v_reply ->> 'appointmentId')::uuid;
    v_other := (v_reply -> 'appointment' ->> 'appointmentId')::uuid;
    v_ids := case when v_one is null and v_other is null then '{}'
                  when v_other is null or v_one = v_other then array[v_one]
                  when v_one is null then array[v_other]
                  else array[least(v_one, v_other), greatest(v_one, v_other)] end;
  else
    v_ids := array(
      select distinct x.id::uuid from (
        select v_reply ->> 'appointmentId' as id
        union all
        select v_reply -> 'appointment' ->> 'appointmentId'
        union all
        select e ->> 'appointmentId'
          from jsonb_array_elements(v_reply -> 'appointments') e
      ) x
      where x.id is not null
      order by 1);
  end if;

  insert into public.caller_access_log (
    org_id, action, outcome, verified_by, appointment_ids, call_id, caller_number,
    claimed_phone, claimed, source, actor_user_id)
  values (
    p_org_id, p_action, v_outcome, p_verified_by, v_ids, p_ctx.call_id, p_ctx.caller_number,
    p_ctx.phone, coalesce(p_ctx.claimed, '{}'), p_ctx.source,
    auth.uid());  -- a member passing a caller context is still that member
  return p_reply;
end;
$$;

-- The access log is append-only for everyone, the table owner included: UPDATE only inside
-- public.erase_patient_data (which sets the transaction-local flag `clinic.erasure`) and only of the
-- personal columns; DELETE and TRUNCATE never. Privileges already keep the API roles out; this
-- guards against the dashboard's SQL editor and migrations.
create or replace function private.caller_access_log_guard()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and coalesce(current_setting('clinic.erasure', true), '') = 'on' then
    if (new.org_id, new.id, new.occurred_at, new.action, new.outcome, new.verified_by,
        new.appointment_ids, new.call_id, new.claimed, new.source, new.actor_user_id)
       is distinct from
       (old.org_id, old.id, old.occurred_at, old.action, old.outcome, old.verified_by,
        old.appointment_ids, old.call_id, old.claimed, old.source, old.actor_user_id) then
      raise exception 'caller_access_log: erasure may only redact caller_number and claimed_phone'
        using errcode = '42501';
    end if;
    return new;
  end if;
  raise exception 'caller_access_log is append-only (% refused)', tg_op
    using errcode = '42501', hint = 'Personal data is redacted with public.erase_patient_data.';
end;
$$;

create trigger caller_access_log_append_only
  before update or delete on public.caller_access_log
  for each row execute function private.caller_access_log_guard();
create trigger caller_access_log_no_truncate
  before truncate on public.caller_access_log
  for each statement execute function private.caller_access_log_guard();

-- RLS ----------------------------------------------------------------------------------------------
alter table public.caller_access_log enable row level security;

-- Members read their clinic's log; nobody writes it directly (the RPCs write as the owner).
create policy caller_access_log_member_select on public.caller_access_log for select to authenticated
  using (org_id in (select private.member_org_ids()));

-- New objects start closed for anon and authenticated (20261125000100_orgs.sql), but service_role
-- keeps the platform's ALL on new tables and sequences in public; the log is append-only for it too
-- (service_role bypasses RLS, so it must lose the write privileges).
revoke all on table public.caller_access_log from service_role;
grant select on table public.caller_access_log to authenticated, service_role;
revoke all on sequence public.caller_access_log_id_seq from service_role;

-- Public RPCs --------------------------------------------------------------------------------------

-- book_appointment -------------------------------------------------------------------------------
-- The booking (private.book_appointment_core, 20261125000500_rpc.sql) with the patient's optional
-- date of birth, the provider asked for (p_provider: an id or a name as said; NULL/"anyone" = any
-- who performs the service; p_insist_provider: offer no other provider) and the caller context,
-- plus its access-log row. Open to any caller: booking for a relative is normal, so nothing is
-- verified; verified_by is recorded when the caller books under their own number (caller_id) or a
-- member books from the dashboard (staff) — and only then does a patient_busy refusal describe the
-- patient's existing appointment. p_exclude_provider: "anyone but Dr. Lee" — any provider who
-- performs the service but that one (resolved as p_provider is; see private.book_appointment_core).
create or replace function public.book_appointment(
  p_org_id uuid,
  p_name text,
  p_email text,
  p_phone text,
  p_service text,
  p_scheduled_at timestamptz,
  p_idempotency_key text default null,
  p_source text default 'api',
  p_date_of_birth date default null,
  p_caller jsonb default null,
  p_provider text default null,
  p_insist_provider boolean default false,
  p_exclude_provider text default null
)
returns json
language plpgsql
volatile
security definer
set search_path = ''
set lock_timeout = '3s'
as $$
declare
  v_org public.orgs;
  v_may_act boolean := false;
  v_parsed record;
  v_ctx private.caller_context;
  v_verified_by text;
  v_reply json;
  v_call_key text;
  v_claim_key text;
begin
  select * into v_org from public.orgs o where o.id = p_org_id;
  v_may_act := found and private.can_act_for_org(p_org_id);
  if v_may_act then
    v_parsed := private.parse_caller(v_org, p_caller, true);  -- an expression: no executor start
    v_ctx := v_parsed.ctx;
    if v_parsed.refusal is not null then
      return private.log_caller_access(p_org_id, v_ctx, 'book', null, v_parsed.refusal);
    end if;
    v_verified_by := case when v_ctx.staff then 'staff'
                          when v_ctx.caller_number = btrim(p_phone) then 'caller_id' end;
    -- An unverified caller's patient_busy says "this patient is booked then": an oracle for someone
    -- else's schedule. Each one counts as a failed verification on the call and on the claimed phone +
    -- name (the counters lookups use); once locked, no booking under that phone + name is taken from
    -- this call (3) or from anyone unverified for a day (10), so probing stops after a few guesses.
    if v_verified_by is null then
      v_call_key := private.caller_call_key(v_ctx);
      v_claim_key := private.caller_claim_key(p_phone, p_name);
      if (v_call_key is not null and private.caller_failures(p_org_id, v_call_key) >= 3)
         or (v_claim_key is not null and private.caller_failures(p_org_id, v_claim_key) >= 10) then
        return private.log_caller_access(p_org_id, v_ctx, 'book', null,
          private.caller_refusal(v_org, 'verification_locked', 'Too many failed verifications for this booking'));
      end if;
    end if;
  end if;

  -- who acted and the call id, for the outbox row the appointments trigger writes
  perform private.set_audit_context('caller:' || coalesce(v_ctx.source, 'api'), v_ctx.call_id, null);
  v_reply := private.book_appointment_core(p_org_id, case when v_may_act then v_org end,
                                           p_name, p_email, p_phone, p_service, p_scheduled_at,
                                           p_idempotency_key, p_source, p_date_of_birth,
                                           p_provider, p_insist_provider, v_verified_by is not null,
                                           v_ctx.caller_number, p_exclude_provider,
                                           -- no caller context: staff or a trusted backend (v2)
                                           v_verified_by is not null or p_caller is null
                                             or jsonb_typeof(p_caller) = 'null');
  perform private.set_audit_context(null);
  if not v_may_act or v_reply ->> 'error' = 'unknown_org' then
    return v_reply;  -- nothing to log for a clinic the caller may not act for
  end if;
  if v_verified_by is null and v_reply ->> 'error' = 'patient_busy' then
    perform private.note_caller_failure(p_org_id, v_claim_key);
    perform private.note_caller_failure(p_org_id, v_call_key);
  end if;
  v_ctx.source := coalesce(v_ctx.source, left(coalesce(nullif(btrim(p_source), ''), 'api'), 40));
  return private.log_caller_access(p_org_id, v_ctx, 'book', v_verified_by, v_reply);
end;
$$;
comment on function public.book_appointment(uuid, text, text, text, text, timestamptz, text, text, date, jsonb, text, boolean, text) is
  'Books one appointment with a named provider (p_provider: id or name as said) or any who performs the service (NULL/"anyone"; p_exclude_provider: any but that one), with optional patient date of birth and caller context; logs the call in caller_access_log. Reply as book_appointment_atomic_v2 plus provider; refusals add unknown_provider, provider_not_qualified, provider_unavailable, patient_busy.';
grant execute on function public.book_appointment(uuid, text, text, text, text, timestamptz, text, text, date, jsonb, text, boolean, text) to authenticated, service_role;

-- find_upcoming_appointments ---------------------------------------------------------------------
-- "When is my appointment?": the active future appointments the caller is verified for.
create or replace function public.find_upcoming_appointments(p_org_id uuid, p_caller jsonb)
returns json
language plpgsql
volatile
security definer
set search_path = ''
set lock_timeout = '3s'
as $$
declare
  v_org public.orgs;
  v_parsed record;
  v_verified record;
begin
  if p_org_id is null then
    return private.error_reply('invalid_input', 'Organization id is required');
  end if;
  select * into v_org from public.orgs o where o.id = p_org_id;
  if not found or not private.can_act_for_org(p_org_id) then
    return private.error_reply('unknown_org');
  end if;
  select * into v_parsed from private.parse_caller(v_org, p_caller, false);
  if v_parsed.refusal is not null then
    return private.log_caller_access(p_org_id, v_parsed.ctx, 'lookup', null, v_parsed.refusal);
  end if;
  select * into v_verified from private.verify_caller(v_org, v_parsed.ctx);
  if v_verified.refusal is not null then
    return private.log_caller_access(p_org_id, v_parsed.ctx, 'lookup', null, v_verified.refusal, v_verified.outcome);
  end if;

  return private.log_caller_access(p_org_id, v_parsed.ctx, 'lookup', v_verified.verified_by,
    json_build_object(
      'success', true,
      'appointments', private.caller_list(p_org_id, v_verified.verified_by, v_parsed.ctx),
      'verifiedBy', v_verified.verified_by,
      'searched', v_verified.searched,
      'timezone', v_org.timezone));
end;
$$;
comment on function public.find_upcoming_appointments(uuid, jsonb) is
  'Active future appointments the caller (p_caller) is verified for: caller ID, or claimed phone + name + date of birth; staff without p_caller. Logged in caller_access_log.';
grant execute on function public.find_upcoming_appointments(uuid, jsonb) to authenticated, service_role;

-- The shared first half of find_caller_appointment, cancel_appointment and reschedule: check the
-- org and the caller's right to act for it, read the caller context and the hints (plus one more
-- input problem the RPC found, p_input_problem), verify the caller, and find the one appointment the
-- hints mean among those the caller is verified for. `reply` is set when the RPC must answer with it
-- (every refusal after the org check is already in caller_access_log under p_action).
create or replace function private.find_verified_appointment(
  p_org_id uuid,
  p_caller jsonb,
  p_action text,
  p_appointment_id uuid,
  p_local_date date,
  p_weekday smallint,
  p_local_time time,
  p_input_problem text default null,
  p_day_of_month smallint default null,
  p_which text default null,
  p_after time default null,
  p_before time default null,
  p_ordinal smallint default null,
  out org public.orgs,
  out ctx private.caller_context,
  out verified_by text,
  out searched text,
  out appointment public.appointments,
  out reply json
)
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_parsed record;
  v_verified record;
  v_found record;
  v_refusal json;
  v_which record;
begin
  if p_org_id is null then
    reply := private.error_reply('invalid_input', 'Organization id is required');
    return;
  end if;
  select * into org from public.orgs o where o.id = p_org_id;
  if not found or not private.can_act_for_org(p_org_id) then
    reply := private.error_reply('unknown_org');
    return;
  end if;
  select * into v_parsed from private.parse_caller(org, p_caller, false);
  ctx := v_parsed.ctx;
  v_refusal := coalesce(v_parsed.refusal, private.hint_refusal(org, p_weekday, p_day_of_month,
                                                                    p_after, p_before, p_ordinal));
  select * into v_which from private.which_hint(p_org_id, p_which);
  if v_refusal is null and nullif(btrim(p_which), '') is not null
     and v_which.service_id is null and v_which.provider_id is null then
    v_refusal := private.caller_refusal(org, 'invalid_input', 'Which appointment names no service or provider of this clinic');
  end if;
  if v_refusal is null and p_input_problem is not null then
    v_refusal := private.caller_refusal(org, 'invalid_input', p_input_problem);
  end if;
  if v_refusal is not null then
    reply := private.log_caller_access(p_org_id, ctx, p_action, null, v_refusal);
    return;
  end if;
  select * into v_verified from private.verify_caller(org, ctx);
  if v_verified.refusal is not null then
    reply := private.log_caller_access(p_org_id, ctx, p_action, null, v_verified.refusal, v_verified.outcome);
    return;
  end if;
  verified_by := v_verified.verified_by;
  searched := v_verified.searched;
  select * into v_found from private.find_in_pool(org, ctx, verified_by, searched,
                                                  p_appointment_id, p_local_date, p_weekday, p_local_time,
                                                  p_day_of_month, v_which.service_id, v_which.provider_id,
                                                  p_after, p_before, p_ordinal);
  if v_found.refusal is not null then
    reply := private.log_caller_access(p_org_id, ctx, p_action, verified_by, v_found.refusal);
    return;
  end if;
  appointment := v_found.appointment;
end;
$$;

-- find_caller_appointment ------------------------------------------------------------------------
-- The finder cancel and reschedule use, callable alone ("which appointment do you mean?").
create or replace function public.find_caller_appointment(
  p_org_id uuid,
  p_caller jsonb,
  p_appointment_id uuid default null,
  p_local_date date default null,
  p_weekday smallint default null,
  p_local_time time default null,
  p_day_of_month smallint default null,
  p_which text default null,
  p_after_time time default null,
  p_before_time time default null,
  p_ordinal smallint default null
)
returns json
language plpgsql
volatile
security definer
set search_path = ''
set lock_timeout = '3s'
as $$
declare
  v_found record;
begin
  select * into v_found from private.find_verified_appointment(
    p_org_id, p_caller, 'lookup', p_appointment_id, p_local_date, p_weekday, p_local_time,
    p_day_of_month => p_day_of_month, p_which => p_which,
    p_after => p_after_time, p_before => p_before_time, p_ordinal => p_ordinal);
  if v_found.reply is not null then
    return v_found.reply;
  end if;
  return private.log_caller_access(p_org_id, v_found.ctx, 'lookup', v_found.verified_by,
    json_build_object(
      'success', true,
      'appointment', private.caller_appointment_json(v_found.appointment),
      'verifiedBy', v_found.verified_by,
      'searched', v_found.searched,
      'timezone', (v_found.org).timezone));
end;
$$;
comment on function public.find_caller_appointment(uuid, jsonb, uuid, date, smallint, time, smallint, text, time, time, smallint) is
  'The one appointment of the verified caller matching the hints (id, clinic-local date, weekday 0=Sunday, local time, day of the month 1-31, p_which: its service or provider as said, e.g. "the flu shot", "the one with Nurse Kim"; clinic-local part of the day [p_after_time, p_before_time); p_ordinal 1-50 or -1 = last among the other matches), or not_found / ambiguous with what the caller may hear. Logged as a lookup.';
grant execute on function public.find_caller_appointment(uuid, jsonb, uuid, date, smallint, time, smallint, text, time, time, smallint) to authenticated, service_role;

-- cancel_appointment ----------------------------------------------------------------------------
-- Find (as find_caller_appointment), verify, cancel: one RPC. Cancelling frees the slot (the
-- exclusion constraint ignores cancelled rows) and writes an event.
create or replace function public.cancel_appointment(
  p_org_id uuid,
  p_caller jsonb,
  p_appointment_id uuid default null,
  p_local_date date default null,
  p_weekday smallint default null,
  p_local_time time default null,
  p_reason text default null,
  p_day_of_month smallint default null,
  p_which text default null,
  p_after_time time default null,
  p_before_time time default null,
  p_ordinal smallint default null
)
returns json
language plpgsql
volatile
security definer
set search_path = ''
set lock_timeout = '3s'
as $$
declare
  v_org public.orgs;
  v_found record;
  v_locked record;
  v_appt public.appointments;
begin
  select * into v_found from private.find_verified_appointment(
    p_org_id, p_caller, 'cancel', p_appointment_id, p_local_date, p_weekday, p_local_time,
    p_day_of_month => p_day_of_month, p_which => p_which,
    p_after => p_after_time, p_before => p_before_time, p_ordinal => p_ordinal);
  if v_found.reply is not null then
    return v_found.reply;
  end if;
  v_org := v_found.org;
  select * into v_locked from private.lock_caller_appointment(v_org, (v_found.appointment).id, 'cancelled');
  if v_locked.refusal is not null then
    return private.log_caller_access(p_org_id, v_found.ctx, 'cancel', v_found.verified_by, v_locked.refusal);
  end if;
  v_appt := v_locked.appointment;

  -- who acted (and how verified), the call id and the reason reach the outbox trigger
  perform private.set_audit_context('caller:' || v_found.verified_by, (v_found.ctx).call_id,
                                    nullif(btrim(p_reason), ''));
  update public.appointments a
     set status = 'cancelled'
   where a.org_id = p_org_id and a.id = v_appt.id
  returning a.* into v_appt;
  perform private.set_audit_context(null);

  return private.log_caller_access(p_org_id, v_found.ctx, 'cancel', v_found.verified_by,
    json_build_object(
      'success', true,
      'appointmentId', v_appt.id,
      'scheduledAt', private.iso(v_appt.starts_at),
      'status', 'cancelled',
      'service', private.service_json(p_org_id, v_appt.service_id),
      'provider', private.provider_json(p_org_id, v_appt.provider_id),
      'verifiedBy', v_found.verified_by,
      'message', 'Appointment cancelled',
      'timezone', v_org.timezone));
end;
$$;
comment on function public.cancel_appointment(uuid, jsonb, uuid, date, smallint, time, text, smallint, text, time, time, smallint) is
  'Cancels the verified caller''s appointment matching the hints (see find_caller_appointment); frees the slot (the outbox trigger records a cancelled event), logs the call.';
grant execute on function public.cancel_appointment(uuid, jsonb, uuid, date, smallint, time, text, smallint, text, time, time, smallint) to authenticated, service_role;

-- A refusal of a move said relative to the booking ("a week later", "same time") tells back the
-- start SQL computed (requestedAt), so the reply can say what was asked for; unchanged without one.
create or replace function private.with_requested_at(p_reply json, p_at timestamptz)
returns json
language plpgsql
stable
set search_path = ''
as $$
begin
  if p_at is null or p_reply is null then
    return p_reply;
  end if;
  return (p_reply::jsonb || jsonb_build_object('requestedAt', private.iso(p_at)))::json;
end;
$$;

-- reschedule_appointment_atomic -----------------------------------------------------------------
-- Find, verify, then move the same row (same id, lead, service) in one statement; its current slot
-- does not conflict with itself. A provider the caller chose (appointments.provider_requested) stays
-- unless another is asked for (p_provider: an id or a name as said; "anyone" = any who performs the
-- service, the current one first); one the caller never chose is "anyone" (the current one first, then
-- the booking's fair rule: private.fairest_provider under the same day queue); moving to
-- another provider is the same one-row update. Before choosing, the call queues for the clinic-local
-- days it touches (source and target, ascending: private.queue_clinic_days), after locking the row.
-- With the provider kept and busy (or off) then, the refusal offers that provider's nearest times
-- and, unless p_insist_provider, the same time with another provider. Refusals (incl. a concurrent
-- writer's 23P01) leave the appointment untouched. p_exclude_provider ("anyone but Dr. Lee",
-- resolved as p_provider is): any provider but that one, the current one first unless it is that one.
create or replace function public.reschedule_appointment_atomic(
  p_org_id uuid,
  p_caller jsonb,
  p_new_scheduled_at timestamptz,
  p_appointment_id uuid default null,
  p_local_date date default null,
  p_weekday smallint default null,
  p_local_time time default null,
  p_provider text default null,
  p_insist_provider boolean default false,
  p_exclude_provider text default null,
  p_day_of_month smallint default null,
  p_which text default null,
  p_after_time time default null,
  p_before_time time default null,
  p_ordinal smallint default null,
  p_new_local_date date default null,
  p_new_local_time time default null,
  p_shift_days integer default null,
  p_keep_time boolean default false,
  p_shift_minutes integer default null,
  p_new_weekday smallint default null
)
returns json
language plpgsql
volatile
security definer
set search_path = ''
set lock_timeout = '3s'
as $$
declare
  v_org public.orgs;
  v_found record;
  v_locked record;
  v_refusal json;
  v_appt public.appointments;
  v_service public.services;
  v_prev_start timestamptz;
  v_prev_provider uuid;
  v_code text;
  v_reply json;
  v_choice record;
  v_named uuid;
  v_exclude uuid;
  v_role text;
  v_prefer uuid;
  v_insist boolean := coalesce(p_insist_provider, false);
  v_provider_id uuid;
  v_existing public.appointments;
  v_constraint text;
  v_days integer[];
  -- "an hour later" (p_shift_minutes alone) moves the booking's own time, on its own day
  v_keep boolean := coalesce(p_keep_time, false) or (p_shift_minutes is not null and p_new_local_time is null);
  v_local boolean := p_new_local_date is not null or p_new_local_time is not null or p_shift_days is not null
                     or coalesce(p_keep_time, false) or p_shift_minutes is not null or p_new_weekday is not null;
  v_new_start timestamptz := p_new_scheduled_at;
  v_asked timestamptz;  -- the computed new start, told back on a refusal of a relative move
begin
  select * into v_found from private.find_verified_appointment(
    p_org_id, p_caller, 'reschedule', p_appointment_id, p_local_date, p_weekday, p_local_time,
    case when p_new_scheduled_at is not null and v_local then
              'Give the new time as an instant or as a clinic-local day and time, not both'
         when p_new_scheduled_at is null and p_new_local_date is null and p_shift_days is null
              and p_shift_minutes is null and p_new_weekday is null then
              'The new time is required'
         when num_nonnulls(p_new_local_date, p_shift_days, p_new_weekday) > 1 then
              'Give one of a new date, a shift or a weekday'
         when p_new_weekday not between 0 and 6 then 'The weekday must be 0 (Sunday) to 6'
         when p_shift_days not between -366 and 366 then 'The shift must be within a year'
         when p_shift_minutes not between -720 and 720 then 'The time shift must be within 12 hours'
         when p_new_scheduled_at is null and p_new_local_time is null and not v_keep then 'The new time is required'
         when p_new_local_time is not null and v_keep then 'Give a new time or keep the time, not both'
    end, p_day_of_month, p_which,
    p_after => p_after_time, p_before => p_before_time, p_ordinal => p_ordinal);
  if v_found.reply is not null then
    return v_found.reply;
  end if;
  v_org := v_found.org;
  select * into v_locked from private.lock_caller_appointment(v_org, (v_found.appointment).id, 'rescheduled');
  if v_locked.refusal is not null then
    return private.log_caller_access(p_org_id, v_found.ctx, 'reschedule', v_found.verified_by, v_locked.refusal);
  end if;
  v_appt := v_locked.appointment;
  v_prev_start := v_appt.starts_at;
  v_prev_provider := v_appt.provider_id;
  if v_local then
    -- "a week later", "the day after", "same time", "an hour later": from the booking's clinic-local
    -- day and time, read now that the row is locked; the wall clock in the clinic zone (DST-correct:
    -- "an hour later" is an hour later on the clinic's clock). No day said = the booking's day.
    -- p_new_weekday ("the same time Tuesday"): the first such weekday after the booking's day
    v_new_start := (coalesce(p_new_local_date,
                             (v_appt.starts_at at time zone v_org.timezone)::date
                             + coalesce(p_shift_days,
                                        7 - (extract(dow from v_appt.starts_at at time zone v_org.timezone)::integer
                                             - p_new_weekday + 7) % 7,
                                        0))
                    + case when v_keep then (v_appt.starts_at at time zone v_org.timezone)::time
                           else p_new_local_time end
                    + make_interval(mins => coalesce(p_shift_minutes, 0))) at time zone v_org.timezone;
    v_asked := v_new_start;
  end if;

  select * into v_service from public.services s
   where s.org_id = p_org_id and s.id = v_appt.service_id;

  -- which provider: none said = the current one when the caller chose them (provider_requested),
  -- else anyone who does the service (the current one first); "anyone" (the current one first); or
  -- the one named (requested from now on)
  if nullif(btrim(p_provider), '') is null then
    if v_appt.provider_requested and exists (select 1 from public.providers p
                 join public.provider_services ps on ps.org_id = p.org_id and ps.provider_id = p.id
                                                 and ps.service_id = v_service.id
                where p.org_id = p_org_id and p.id = v_appt.provider_id and p.active) then
      v_named := v_appt.provider_id;
    else
      v_prefer := v_appt.provider_id;  -- the current provider left or stopped: anyone who does it
    end if;
  else
    select * into v_choice from private.resolve_provider(p_org_id, p_provider);
    if v_choice.kind in ('unknown', 'ambiguous') then
      return private.log_caller_access(p_org_id, v_found.ctx, 'reschedule', v_found.verified_by,
        private.unknown_provider_reply(v_org, v_service.id, v_choice.kind, v_choice.names));
    end if;
    v_named := v_choice.provider_id;
    v_role := v_choice.role;  -- "the hygienist" of several: any provider of that role
    if v_named is null then
      v_prefer := v_appt.provider_id;
    end if;
  end if;
  -- "anyone but Dr. Lee": any provider but that one (the current one first unless it is that one)
  if nullif(btrim(p_exclude_provider), '') is not null then
    select * into v_choice from private.resolve_provider(p_org_id, p_exclude_provider);
    if v_choice.kind in ('unknown', 'ambiguous') then
      return private.log_caller_access(p_org_id, v_found.ctx, 'reschedule', v_found.verified_by,
        private.unknown_provider_reply(v_org, v_service.id, v_choice.kind, v_choice.names));
    end if;
    v_exclude := v_choice.provider_id;
    if v_exclude is not null then
      if nullif(btrim(p_provider), '') is not null and v_named is not null then
        return private.log_caller_access(p_org_id, v_found.ctx, 'reschedule', v_found.verified_by,
          private.caller_refusal(v_org, 'invalid_input', 'Name a provider to book or one to avoid, not both'));
      end if;
      v_named := null;
      v_prefer := nullif(v_appt.provider_id, v_exclude);
    end if;
  end if;
  v_refusal := private.qualification_refusal(v_org, v_service.id, v_named, v_exclude, v_role);
  if v_refusal is not null then
    return private.log_caller_access(p_org_id, v_found.ctx, 'reschedule', v_found.verified_by, v_refusal);
  end if;

  v_code := private.slot_refusal(p_org_id, v_service.id, v_new_start);
  if v_code is null then
    -- queue for both clinic days (ascending), then decide on what has committed meanwhile; the move
    -- keeps them until commit, a refusal leaves the queue before building its reply
    v_days := private.queue_clinic_days(p_org_id, v_org.timezone, v_prev_start, v_new_start);
    begin
      v_existing := private.patient_conflict(p_org_id, v_appt.lead_id, v_appt.patient_key, v_new_start,
                                             v_new_start + make_interval(mins => v_service.duration_minutes),
                                             v_appt.id);
      if v_existing.id is null then
        if v_named is not null then
          v_code := private.named_provider_refusal(p_org_id, v_service.id, v_new_start, v_named, v_appt.id);
          if v_code is null then
            v_provider_id := v_named;
          end if;
        else
          v_provider_id := private.fairest_provider(
            p_org_id, v_new_start,
            array_remove(private.free_providers(p_org_id, v_service.id, v_new_start, v_appt.id, v_role), v_exclude),
            v_prefer, v_appt.id);
          v_code := case when v_provider_id is null then 'slot_unavailable' end;
        end if;
      end if;
    exception when others or query_canceled then
      perform private.leave_clinic_days(p_org_id, v_days);
      raise;
    end;
    perform private.leave_clinic_days(p_org_id, v_days, v_provider_id is not null);
    if v_existing.id is not null then
      return private.log_caller_access(p_org_id, v_found.ctx, 'reschedule', v_found.verified_by,
        private.with_requested_at(private.patient_busy_reply(v_org, v_service.id, v_existing, true), v_asked));
    end if;
  end if;
  if v_code is not null then
    return private.log_caller_access(p_org_id, v_found.ctx, 'reschedule', v_found.verified_by,
      private.with_requested_at(private.slot_refusal_reply(v_code, p_org_id, v_service.id, v_new_start, v_appt.id,
        v_named, v_insist, v_prefer,
        case when v_code = 'provider_unavailable' then
          format('%s does not work at the requested time',
                 (select p.display_name from public.providers p where p.org_id = p_org_id and p.id = v_named)) end,
        v_exclude, v_role), v_asked));
  end if;

  begin
    perform private.set_audit_context('caller:' || v_found.verified_by, (v_found.ctx).call_id, null);
    update public.appointments a
       set starts_at = v_new_start,
           ends_at = v_new_start + make_interval(mins => v_service.duration_minutes),
           blocked = tstzrange(v_new_start,
                               v_new_start + make_interval(mins => v_service.duration_minutes + v_service.buffer_minutes),
                               '[)'),
           provider_id = v_provider_id,
           -- named now, or kept because it was named before; anyone / anyone-but: not chosen
           provider_requested = v_named is not null and (nullif(btrim(p_provider), '') is not null
                                                         or v_appt.provider_requested)
     where a.org_id = p_org_id and a.id = v_appt.id
    returning a.* into v_appt;
    perform private.set_audit_context(null);
  exception
    when exclusion_violation or deadlock_detected then
      -- a writer that does not queue (Studio, plain SQL) got there first
      get stacked diagnostics v_constraint = constraint_name;
      if v_constraint = 'appointments_patient_no_overlap' then
        v_reply := private.patient_busy_reply(v_org, v_service.id,
          private.patient_conflict(p_org_id, v_appt.lead_id, v_appt.patient_key, v_new_start,
                                   v_new_start + make_interval(mins => v_service.duration_minutes), v_appt.id),
          true);
      else
        v_reply := private.slot_refusal_reply('slot_unavailable', p_org_id, v_service.id, v_new_start, v_appt.id,
                                              v_named, v_insist, v_prefer, null, v_exclude);
      end if;
  end;
  if v_reply is not null then
    return private.log_caller_access(p_org_id, v_found.ctx, 'reschedule', v_found.verified_by,
                                     private.with_requested_at(v_reply, v_asked));
  end if;

  return private.log_caller_access(p_org_id, v_found.ctx, 'reschedule', v_found.verified_by,
    json_build_object(
      'success', true,
      'appointmentId', v_appt.id,
      'scheduledAt', private.iso(v_appt.starts_at),
      'previousScheduledAt', private.iso(v_prev_start),
      'endsAt', private.iso(v_appt.ends_at),
      'service', private.service_json(p_org_id, v_service.id),
      'provider', private.provider_json(p_org_id, v_appt.provider_id),
      'previousProvider', private.provider_json(p_org_id, v_prev_provider),
      'verifiedBy', v_found.verified_by,
      'message', 'Appointment rescheduled',
      'timezone', v_org.timezone));
end;
$$;
comment on function public.reschedule_appointment_atomic(uuid, jsonb, timestamptz, uuid, date, smallint, time, text, boolean, text, smallint, text, time, time, smallint, date, time, integer, boolean, integer, smallint) is
  'Moves the verified caller''s appointment matching the hints (see find_caller_appointment) to p_new_scheduled_at, or to a clinic-local day (p_new_local_date, or the booking''s day shifted by p_shift_days) and time (p_new_local_time, or the booking''s own with p_keep_time), or the first p_new_weekday (0 = Sunday) after the booking''s day, shifted by p_shift_minutes (±720, "an hour later"; alone: the booking''s own day and time); a relative move''s refusals carry requestedAt, same rules as booking; keeps a provider the caller chose (provider_requested) unless p_provider names another (or "anyone"), or p_exclude_provider names one to avoid (any but that one); one never chosen goes to any qualified provider free then (the current one first). Refusals carry alternatives. Logged.';
grant execute on function public.reschedule_appointment_atomic(uuid, jsonb, timestamptz, uuid, date, smallint, time, text, boolean, text, smallint, text, time, time, smallint, date, time, integer, boolean, integer, smallint) to authenticated, service_role;

-- erase_patient_data ----------------------------------------------------------------------------
-- Erasure on request: health data must be erasable even where the audit trail is immutable. Redacts
-- one patient's personal data everywhere and keeps the structure (ids, times, statuses, counts):
--   * appointments under p_phone (only the named patient's when p_patient_name is given):
--     patient_name → '[erased]', date of birth → NULL;
--   * their outbox events: payload keys patientName / phone / email → '[erased]' (when present);
--   * the lead (when no name is given, or it is the named patient): name → '[erased]', email → NULL;
--     its phone → `erased:<lead id>` once none of its appointments still names a patient;
--   * the access log: caller_number / claimed_phone → '[erased]' on rows naming an erased
--     appointment, and on every row for the phone once the phone is erased;
--   * the failure counters of that caller number and of that phone claimed as a booking phone.
-- service_role only.
create or replace function public.erase_patient_data(
  p_org_id uuid,
  p_phone text,
  p_patient_name text default null
)
returns json
language plpgsql
volatile
security definer
set search_path = ''
set lock_timeout = '3s'
as $$
declare
  v_phone text := btrim(p_phone);
  v_name text := private.lenient_name(nullif(btrim(p_patient_name), ''));
  v_lead public.leads;
  v_ids uuid[] := '{}';
  v_phone_erased boolean := false;
  v_appointments integer := 0;
  v_leads integer := 0;
  v_events integer := 0;
  v_log integer := 0;
  v_counters integer := 0;
  v_calls integer := 0;
  v_callbacks integer := 0;
begin
  if p_org_id is null or not private.is_e164(v_phone) then
    return private.error_reply('invalid_input', 'Organization id and an E.164 phone are required');
  end if;
  if v_name = '' then
    return private.error_reply('invalid_input', 'Patient name must contain letters');
  end if;
  if not exists (select 1 from public.orgs o where o.id = p_org_id) or not private.can_act_for_org(p_org_id) then
    return private.error_reply('unknown_org');
  end if;

  perform set_config('clinic.erasure', 'on', true);

  select * into v_lead from public.leads l where l.org_id = p_org_id and l.phone = v_phone for update;
  if found then
    with erased as (
      update public.appointments a
         set patient_name = '[erased]', patient_date_of_birth = null
       where a.org_id = p_org_id and a.lead_id = v_lead.id
         and (v_name is null or private.lenient_name(a.patient_name) = v_name)
      returning a.id)
    select coalesce(array_agg(e.id), '{}') into v_ids from erased e;
    v_appointments := cardinality(v_ids);

    if v_name is null or private.lenient_name(v_lead.name) = v_name then
      v_phone_erased := not exists (
        select 1 from public.appointments a
         where a.org_id = p_org_id and a.lead_id = v_lead.id and a.patient_name <> '[erased]');
      update public.leads l
         set name = '[erased]', email = null,
             phone = case when v_phone_erased then 'erased:' || l.id::text else l.phone end,
             erased_at = case when v_phone_erased then now() else l.erased_at end
       where l.org_id = p_org_id and l.id = v_lead.id;
      get diagnostics v_leads = row_count;
    end if;
  elsif v_name is null then
    v_phone_erased := true;  -- no lead: still erase what the log and counters hold for the number
  end if;

  update public.appointment_events e
     set payload = e.payload || (select jsonb_object_agg(k, '[erased]'::text)
                                   from unnest(array['patientName', 'phone', 'email', 'reason']) k
                                  where e.payload ? k)
   where e.org_id = p_org_id
     and e.payload ?| array['patientName', 'phone', 'email', 'reason']
     and (e.appointment_id = any (v_ids)
          or (e.payload ->> 'phone' = v_phone
              and (v_name is null or private.lenient_name(e.payload ->> 'patientName') = v_name)));
  get diagnostics v_events = row_count;

  update public.caller_access_log g
     set caller_number = case when g.caller_number = v_phone
                                   or (g.caller_number is not null and g.appointment_ids && v_ids)
                              then '[erased]' else g.caller_number end,
         claimed_phone = case when g.claimed_phone = v_phone
                                   or (g.claimed_phone is not null and g.appointment_ids && v_ids)
                              then '[erased]' else g.claimed_phone end
   where g.org_id = p_org_id
     and (g.appointment_ids && v_ids
          or (v_phone_erased and (g.caller_number = v_phone or g.claimed_phone = v_phone)));
  get diagnostics v_log = row_count;

  if v_phone_erased then
    delete from private.caller_verification_failures f
     where f.org_id = p_org_id
       and (f.call_key = 'number:' || v_phone or f.call_key like 'claim:' || v_phone || ':%');
    get diagnostics v_counters = row_count;
    -- the call log (20261125000750_calls.sql): the number and what was said go, the outcome row
    -- stays; a call-back request is a to-do for staff, not a record: it goes entirely
    update public.calls c
       set caller_number = null, transcript = null, messages = null, recording_url = null, summary = null
     where c.org_id = p_org_id and c.caller_number = v_phone;
    get diagnostics v_calls = row_count;
    delete from public.callback_requests r
     where r.org_id = p_org_id and r.callback_number = v_phone;
    get diagnostics v_callbacks = row_count;
  end if;

  perform set_config('clinic.erasure', '', true);
  return json_build_object(
    'success', true,
    'orgId', p_org_id,
    'appointments', v_appointments,
    'leads', v_leads,
    'events', v_events,
    'accessLog', v_log,
    'counters', v_counters,
    'calls', v_calls,
    'callbackRequests', v_callbacks,
    'phoneErased', v_phone_erased,
    'timezone', (select o.timezone from public.orgs o where o.id = p_org_id));
end;
$$;
comment on function public.erase_patient_data(uuid, text, text) is
  'service_role only: redacts one patient''s personal data (appointments, lead, event payloads, access log, counters, the call log''s number and transcript; call-back requests for the number are deleted) keeping ids, times and statuses. Returns the counts.';
grant execute on function public.erase_patient_data(uuid, text, text) to service_role;
