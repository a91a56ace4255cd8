-- Public RPCs (docs/rpc-contract.md). Each is security definer with an empty search_path and
-- fully qualified names, authorises the caller with private.can_act_for_org(), and answers JSON:
-- business refusals are replies, never exceptions.
--
-- Failure behaviour (docs/faults.md). Vapi gives a tool call 20 s. A booking that meets a
-- conflicting transaction which is still open (an uncommitted insert into the same slot, a
-- long-running edit of the same appointment, a migration holding a table lock) would otherwise wait
-- for it without limit, and the caller would hear silence until Vapi gave up. So every function the
-- webhook calls carries `set lock_timeout = '3s'` in its own definition (here and in the callers,
-- credentials and webhook-replay migrations; readers too: they take share locks, which wait only
-- behind DDL, and the same bound keeps a migration running in production from silencing calls):
-- after 3 s the call fails with SQLSTATE 55P03, the whole transaction is rolled back (nothing is
-- half-written), and the service answers with a spoken "one moment, let me try again" (`busy`).
-- In the definition, not in a later `alter function`: any
-- `create or replace` would silently drop a setting added from outside (supabase/tests/19_faults.sql
-- checks every webhook RPC). On the function rather than by the caller, so both data paths get it:
-- PostgreSQL applies a function's SET clause for the duration of the call, whoever calls it (our
-- psycopg gateway or PostgREST). statement_timeout is deliberately not set here: a SET clause cannot
-- change the timer of the statement already running; the callers set it (RPC_TIMEOUT_MS on the
-- psycopg path, the role's statement_timeout on Supabase).

-- Helpers (private) --------------------------------------------------------------------------------

-- The booking success reply (also what a replay returns, with replayed = true). emailDropped: this
-- call's e-mail was given but not plausible, so the booking went ahead without it.
create or replace function private.booking_reply(
  p_appt public.appointments,
  p_replayed boolean,
  p_email_dropped boolean default false
)
returns json
language plpgsql
stable
set search_path = ''
as $$
begin
  return (select json_build_object(
    'success', true,
    'appointmentId', p_appt.id,
    'contactId', p_appt.lead_id,
    'message', 'Booking confirmed successfully',
    'scheduledAt', private.iso(p_appt.starts_at),
    'endsAt', private.iso(p_appt.ends_at),
    'service', private.service_json(p_appt.org_id, p_appt.service_id),
    'timezone', o.timezone,
    'replayed', p_replayed,
    'emailDropped', coalesce(p_email_dropped, false),
    'provider', json_build_object('id', p.id, 'name', p.display_name))
    from public.orgs o
    join public.providers p on p.org_id = o.id and p.id = p_appt.provider_id
    where o.id = p_appt.org_id);
end;
$$;

-- The original success for an idempotency key the org has already booked (replayed = true), or
-- null. Asked again wherever a concurrent attempt of the same call may just have committed. The key
-- is opaque here: its format belongs to whoever sends it (the service). emailDropped is this call's
-- (a retry sends the same e-mail, so it says what the original said). plpgsql, not SQL: a SQL
-- function with a SET clause is parsed and planned again on every call (it was a tenth of a
-- booking's database time, called twice per booking; docs/rpc-contract.md, "Performance").
create or replace function private.replayed_booking(p_org_id uuid, p_key text, p_email_dropped boolean default false)
returns json
language plpgsql
stable
set search_path = ''
as $$
declare
  v_appt public.appointments;
begin
  if p_key is null then
    return null;  -- no key, nothing to replay
  end if;
  select a.* into v_appt
    from public.appointments a
   where a.org_id = p_org_id and a.idempotency_key = p_key;
  if not found then
    return null;
  end if;
  return private.booking_reply(v_appt, true, p_email_dropped);
end;
$$;

-- unknown_provider: the name matched nobody (`providers` = the active providers who perform the
-- service, else all active ones, to offer) or several (`providers` = those).
create or replace function private.unknown_provider_reply(
  p_org public.orgs,
  p_service_id uuid,
  p_kind text,
  p_names text[]
)
returns json
language plpgsql
stable
set search_path = ''
as $$
declare
  v_names text[] := p_names;
begin
  if p_kind <> 'ambiguous' then
    v_names := array(
      select p.display_name from public.providers p
        join public.provider_services ps on ps.org_id = p.org_id and ps.provider_id = p.id and ps.service_id = p_service_id
       where p.org_id = p_org.id and p.active
       order by p.display_name);
    if cardinality(v_names) = 0 then
      v_names := coalesce(p_names, '{}');
    end if;
  end if;
  return json_build_object(
    'success', false,
    'error', 'unknown_provider',
    'message', case when p_kind = 'ambiguous' then 'Several providers match that name'
                    else 'No provider of this clinic matches that name' end,
    'providers', to_json(coalesce(v_names, '{}')),
    'service', private.service_json(p_org.id, p_service_id),
    'timezone', p_org.timezone);
end;
$$;

-- provider_not_qualified, or NULL: the named provider does not perform the service, or (any provider)
-- no active provider does — or, with p_exclude_provider_id ("anyone but Dr. Lee"), none but the
-- excluded one does: then `excludedProvider` ({id, name}) says who that is. `providers` names those
-- who do, to offer.
create or replace function private.qualification_refusal(
  p_org public.orgs,
  p_service_id uuid,
  p_provider_id uuid,
  p_exclude_provider_id uuid default null,
  p_role text default null
)
returns json
language plpgsql
stable
set search_path = ''
as $$
declare
  v_qualified text[];
begin
  if exists (select 1 from public.provider_services ps
               join public.providers p on p.org_id = ps.org_id and p.id = ps.provider_id
              where ps.org_id = p_org.id and ps.service_id = p_service_id
                and (ps.provider_id = p_provider_id or (p_provider_id is null and p.active))
                and (p_exclude_provider_id is null or ps.provider_id <> p_exclude_provider_id)
                and (p_role is null or p.role = p_role)) then
    return null;
  end if;
  v_qualified := array(
    select p.display_name from public.providers p
      join public.provider_services ps on ps.org_id = p.org_id and ps.provider_id = p.id and ps.service_id = p_service_id
     where p.org_id = p_org.id and p.active
     order by p.display_name);
  return (jsonb_build_object(
    'success', false,
    'error', 'provider_not_qualified',
    'message', case when p_provider_id is not null
                      then format('%s does not perform this service',
                                  (select p.display_name from public.providers p where p.org_id = p_org.id and p.id = p_provider_id))
                    when p_exclude_provider_id is not null and cardinality(v_qualified) > 0
                      then 'No provider of this clinic but the excluded one performs this service'
                    when p_role is not null and cardinality(v_qualified) > 0
                      then format('No %s of this clinic performs this service', p_role)
                    else 'No provider of this clinic performs this service' end,
    'provider', private.provider_json(p_org.id, p_provider_id),
    'providers', to_json(v_qualified),
    'service', private.service_json(p_org.id, p_service_id),
    'timezone', p_org.timezone)
    || case when p_exclude_provider_id is not null
            then jsonb_build_object('excludedProvider', private.provider_json(p_org.id, p_exclude_provider_id))
            else '{}'::jsonb end
    || case when p_role is not null then jsonb_build_object('role', p_role) else '{}'::jsonb end)::json;
end;
$$;

-- The patient's previous provider (fair rule, step 1): the provider of the latest active appointment
-- of this phone's patient with this name (lenient), or NULL for a new patient.
create or replace function private.previous_provider(p_org_id uuid, p_phone text, p_name text)
returns uuid
language plpgsql
stable
set search_path = ''
as $$
begin
  return (select a.provider_id
            from public.leads l
            join public.appointments a on a.org_id = l.org_id and a.lead_id = l.id
           where l.org_id = p_org_id and l.phone = p_phone
             and a.patient_key = private.lenient_name(p_name)
             and a.status <> 'cancelled'
           order by a.starts_at desc
           limit 1);
end;
$$;

-- No patient in two places: the active appointment of this lead's patient (patient_key) whose visit
-- overlaps [p_start, p_end), or NULL (p_exclude_appointment_id: the one being rescheduled). The same
-- question appointments_patient_no_overlap answers: asked before a refusal (patient_busy outranks it)
-- and after that constraint's 23P01, to say which appointment it is and whether it is this call's.
-- The lead is p_lead_id, or (NULL) the clinic's lead with phone p_phone, found in the same statement.
create or replace function private.patient_conflict(
  p_org_id uuid,
  p_lead_id uuid,
  p_patient_key text,
  p_start timestamptz,
  p_end timestamptz,
  p_exclude_appointment_id uuid default null,
  p_phone text default null
)
returns public.appointments
language plpgsql
stable
set search_path = ''
as $$
declare
  v_appt public.appointments;
begin
  if (p_lead_id is null and p_phone is null) or p_patient_key is null then
    return null;
  end if;
  select a.* into v_appt
    from public.appointments a
   where a.org_id = p_org_id
     and a.lead_id = coalesce(p_lead_id, (select l.id from public.leads l where l.org_id = p_org_id and l.phone = p_phone))
     and a.patient_key = p_patient_key
     and a.status <> 'cancelled'
     and tstzrange(a.starts_at, a.ends_at, '[)') && tstzrange(p_start, p_end, '[)')
     and (p_exclude_appointment_id is null or a.id <> p_exclude_appointment_id)
   order by a.starts_at, a.id
   limit 1;
  return v_appt;
end;
$$;

-- Two identical booking calls of one turn (a model's parallel tool calls: one Vapi call id, two
-- tool-call ids, so two idempotency keys): is p_appt — the patient's appointment that overlaps the
-- requested one (private.patient_conflict: same lead, same patient) — exactly what this call asks
-- for, booked earlier in this same call by this same caller? Same service, same start, the provider
-- asked for (or any), active, and the access-log row of its booking (public.caller_access_log,
-- 20261125000550_callers.sql, written by public.book_appointment in the booking's own transaction)
-- carries this call's id (the audit context public.book_appointment sets) and p_caller_number, the
-- caller ID of this request (NULL = withheld, which matches a booking made without one). The call id
-- alone is not enough: a request with the victim's call id but another caller number would be told
-- "you're all set" with the victim's appointment. The access log is the one record of the caller
-- number a booking was made for (the lead's phone is the patient's, the idempotency key and the
-- `booked` event carry no number, and events hold no personal data); an erased caller number never
-- matches. Then the later call is answered with that booking as a replay, never "that time is taken".
-- No call id (the v2 contract, staff, Studio) never matches. Asked only when the patient already holds
-- an overlapping appointment, never on the ordinary booking path; one index probe
-- (caller_access_log_org_call_idx).
create or replace function private.booked_by_this_call(
  p_appt public.appointments,
  p_service_id uuid,
  p_start timestamptz,
  p_provider_id uuid,
  p_caller_number text
)
returns boolean
language plpgsql
stable
set search_path = ''
as $$
declare
  v_call_id text := nullif(pg_catalog.current_setting('app.audit_call_id', true), '');
begin
  return v_call_id is not null
     and p_appt.id is not null
     and p_appt.status in ('pending', 'confirmed')
     and p_appt.service_id = p_service_id
     and p_appt.starts_at = p_start
     and (p_provider_id is null or p_appt.provider_id = p_provider_id)
     and exists (select 1 from public.caller_access_log g
                  where g.org_id = p_appt.org_id and g.call_id = v_call_id
                    and g.action = 'book' and g.outcome = 'booked'
                    and p_appt.id = any (g.appointment_ids)
                    and g.caller_number is not distinct from p_caller_number);
end;
$$;

-- patient_busy: the patient already holds an overlapping appointment. The existing one is described
-- (`appointment`, as lookups show it) only when p_disclose: a caller verified for it (caller ID =
-- its phone) or staff; everyone else hears a plain refusal that names no time and no one.
create or replace function private.patient_busy_reply(
  p_org public.orgs,
  p_service_id uuid,
  p_existing public.appointments,
  p_disclose boolean,
  p_start timestamptz default null
)
returns json
language plpgsql
stable
set search_path = ''
as $$
begin
  if coalesce(p_disclose, false) and p_existing.id is not null then
    return json_build_object(
      'success', false,
      'error', 'patient_busy',
      'message', 'The patient already has an appointment at an overlapping time',
      'appointment', private.caller_appointment_json(p_existing),
      -- the very visit asked for (same patient, service and start): "You're already booked for that"
      'alreadyBooked', p_start is not null and p_existing.starts_at = p_start
                       and p_existing.service_id = p_service_id,
      'service', private.service_json(p_org.id, p_service_id),
      'timezone', p_org.timezone);
  end if;
  return json_build_object(
    'success', false,
    'error', 'patient_busy',
    'message', 'The patient already has an appointment at an overlapping time',
    'service', private.service_json(p_org.id, p_service_id),
    'timezone', p_org.timezone);
end;
$$;

-- Public RPCs --------------------------------------------------------------------------------------
-- The service and provider a caller asked for, read together (check_availability and the booking
-- core; the v2 contract keeps booking the default service for text that names none, so it never
-- gets here with such text). Two things a receptionist hears that the fields alone miss:
--   * a provider said as the service ("Dr. Patel", "the nurse" in p_service, no p_provider): when the
--     text names no service (private.resolve_service, and not two services: private.services_named)
--     but names a provider of the clinic as written — a name or a role, no misspelling or sound-alike
--     (private.resolve_provider with p_fuzzy false; named, a role several share, or ambiguous) — it is the
--     provider, and the service is as if none was said;
--   * no service said and a named provider who does not perform the clinic's default service
--     ("Nurse Kim", who only vaccinates): the provider's own service — the only one they perform, else
--     the first of theirs by name — instead of refusing the default as provider_not_qualified; for a
--     role several share, the same over all active providers of that role.
-- Anything else: private.resolve_service as is (NULL: unknown_service, or no default service), and
-- the provider text unchanged.
create or replace function private.resolve_service_provider(
  p_org_id uuid,
  p_service text,
  p_provider text,
  out service_id uuid,
  out provider text
)
language plpgsql
stable
set search_path = ''
as $$
declare
  -- the caller named a service (not only filler words): asked only when it matters, never on the
  -- booking's hot path (a service that resolves and no provider said)
  v_said boolean;
  v_choice record;
begin
  provider := p_provider;
  service_id := private.resolve_service(p_org_id, p_service);
  if service_id is null and nullif(btrim(p_provider), '') is null
     and nullif(btrim(p_service), '') is not null and private.service_key(p_service) <> ''
     and private.services_named(p_org_id, p_service) is null then
    select * into v_choice from private.resolve_provider(p_org_id, p_service, false);
    if v_choice.kind in ('named', 'ambiguous', 'role') then
      provider := p_service;
      v_said := false;
      service_id := private.resolve_service(p_org_id, null);
    end if;
  end if;
  if nullif(btrim(provider), '') is not null
     and not coalesce(v_said, nullif(btrim(p_service), '') is not null and private.service_key(p_service) <> '') then
    select * into v_choice from private.resolve_provider(p_org_id, provider);
    if v_choice.kind = 'named'
       and not exists (select 1 from public.provider_services ps
                        where ps.org_id = p_org_id and ps.provider_id = v_choice.provider_id
                          and ps.service_id = resolve_service_provider.service_id) then
      service_id := coalesce((select s.id
                                from public.provider_services ps
                                join public.services s on s.org_id = ps.org_id and s.id = ps.service_id
                               where ps.org_id = p_org_id and ps.provider_id = v_choice.provider_id and s.active
                               order by s.name, s.id
                               limit 1), resolve_service_provider.service_id);
    elsif v_choice.kind = 'role'
       and not exists (select 1 from public.provider_services ps
                        join public.providers p on p.org_id = ps.org_id and p.id = ps.provider_id
                        where ps.org_id = p_org_id and p.active and p.role = v_choice.role
                          and ps.service_id = resolve_service_provider.service_id) then
      -- a role several share ("the nurse"): the service those providers perform, as for one
      service_id := coalesce((select s.id
                                from public.provider_services ps
                                join public.providers p on p.org_id = ps.org_id and p.id = ps.provider_id
                                join public.services s on s.org_id = ps.org_id and s.id = ps.service_id
                               where ps.org_id = p_org_id and p.active and p.role = v_choice.role and s.active
                               order by s.name, s.id
                               limit 1), resolve_service_provider.service_id);
    end if;
  end if;
end;
$$;

-- book_appointment -----------------------------------------------------------------------------------
-- Books one appointment with one provider: a named one (p_provider: id or a name as said) or any who
-- performs the service and is free (the fair rule, private.rank_providers). Double booking is
-- prevented by the exclusion constraints; before choosing, the call queues for the clinic-local day
-- (private.queue_clinic_days), so concurrent bookings that could overlap decide one after the other
-- on fresh data instead of deadlocking in the constraint's index — 100 simultaneous requests for one
-- slot with 3 free providers give exactly 3 bookings and 97 slot_unavailable (docs/rpc-contract.md,
-- "Concurrency"). A winner holds the day until commit; a loser leaves the queue first. A writer that does not take the lock (Studio) still meets the constraint: 23P01 is
-- answered as slot_unavailable / patient_busy. Checks before the lock only need the clinic's rules.
-- Lead upsert, appointment insert and outbox event run in ONE block, so a refused booking writes
-- nothing (not even the lead). Lock order: clinic day → lead → appointment → event.
-- The e-mail is optional: an implausible one (private.is_plausible_email) is stored as NULL and the
-- booking goes ahead, reporting emailDropped = true; it is never a reason to refuse.
-- This is the body of public.book_appointment (20261125000550_callers.sql), which adds the caller
-- context and the access-log row around it; private so nothing can book without leaving that row.
-- p_org is the clinic's row as that caller read and authorised it (NULL when the clinic is unknown
-- or the caller may not act for it), so the booking reads and checks it once. p_caller_number: the
-- caller ID of the request (caller context), which a same-call replay must share with the first
-- booking (private.booked_by_this_call).
-- p_prefer_previous: the fair rule may start with the patient's previous provider — only for a caller
-- verified for the phone or a trusted context (staff, the v2 contract): for anyone else the provider
-- chosen, or the one alternatives lead with, would tell a stranger whose patient someone is.
-- p_exclude_provider: "anyone but Dr. Lee" (an id or a name as said, resolved as p_provider is) —
-- any provider but that one; with a named p_provider it is invalid_input. NULL keeps the path as it
-- was: one plpgsql test more, no query.
create or replace function private.book_appointment_core(
  p_org_id uuid,
  p_org public.orgs,
  p_name text,
  p_email text,
  p_phone text,
  p_service text,
  p_scheduled_at timestamptz,
  p_idempotency_key text,
  p_source text,
  p_date_of_birth date,
  p_provider text default null,
  p_insist_provider boolean default false,
  p_disclose_existing boolean default false,
  p_caller_number text default null,
  p_exclude_provider text default null,
  p_prefer_previous boolean default false
)
returns json
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_name text := nullif(btrim(p_name), '');
  v_phone text := btrim(p_phone);
  v_email_given text := nullif(lower(btrim(p_email)), '');
  v_email text;
  v_email_dropped boolean;
  v_key text := nullif(btrim(p_idempotency_key), '');
  v_source text := coalesce(nullif(btrim(p_source), ''), 'api');
  v_insist boolean := coalesce(p_insist_provider, false);
  v_org public.orgs;
  v_service public.services;
  v_code text;
  v_lead_id uuid;
  v_appt public.appointments;
  v_existing public.appointments;
  v_replay json;
  v_refusal json;
  v_constraint text;
  v_attempt integer := 0;
  v_choice record;
  v_named uuid;
  v_exclude uuid;
  v_role text;
  v_prefer uuid;
  v_provider_id uuid;
  v_free_ids uuid[];
  v_days integer[];
  v_ends_at timestamptz;
  v_service_id uuid;
  v_provider text;
begin
  -- 1. input
  if v_name is null or length(v_name) > 200 then
    return private.error_reply('invalid_input', 'Patient name is required');
  end if;
  if not private.is_e164(v_phone) then
    return private.error_reply('invalid_input', 'Phone must be in E.164 format, e.g. +14155550123');
  end if;
  v_email := case when private.is_plausible_email(v_email_given) then v_email_given end;
  v_email_dropped := v_email_given is not null and v_email is null;
  if p_scheduled_at is null then
    return private.error_reply('invalid_input', 'Appointment time is required');
  end if;
  if p_org_id is null then
    return private.error_reply('invalid_input', 'Organization id is required');
  end if;

  -- 2. org + authorisation (unknown and forbidden look the same; the caller checked both: p_org)
  v_org := p_org;
  if v_org.id is distinct from p_org_id then
    return private.error_reply('unknown_org');
  end if;
  -- a birth date, never one in the clinic's future (it is not rolled forward like a visit date)
  if p_date_of_birth is not null
     and (p_date_of_birth <= date '1900-01-01' or p_date_of_birth > (now() at time zone v_org.timezone)::date) then
    return json_build_object('success', false, 'error', 'invalid_input',
      'message', 'Date of birth must be a past date after 1900-01-01', 'timezone', v_org.timezone);
  end if;

  -- 3. idempotent replay: the original success, whatever time it is now
  v_replay := private.replayed_booking(p_org_id, v_key, v_email_dropped);
  if v_replay is not null then
    return v_replay;
  end if;

  -- 4. service: the one the caller named (leniently: private.resolve_service), the default for none —
  --    or a provider said as the service, or a named provider's own service when none was said
  --    (private.resolve_service_provider)
  select r.service_id, r.provider into v_service_id, v_provider
    from private.resolve_service_provider(p_org_id, p_service, p_provider) as r;
  select * into v_service from public.services s
   where s.org_id = p_org_id and s.id = v_service_id;
  if not found then
    if nullif(btrim(p_service), '') is not null then
      return private.unknown_service_reply(v_org, private.services_named(p_org_id, p_service));
    end if;
    return json_build_object('success', false, 'error', 'invalid_input',
      'message', 'The clinic has no bookable default service', 'timezone', v_org.timezone);
  end if;

  -- 5. provider: named (id or name as said), or any; then: does the named one / anyone do the service?
  if nullif(btrim(v_provider), '') is not null then
    select * into v_choice from private.resolve_provider(p_org_id, v_provider);
    if v_choice.kind in ('unknown', 'ambiguous') then
      return private.unknown_provider_reply(v_org, v_service.id, v_choice.kind, v_choice.names);
    end if;
    v_named := v_choice.provider_id;
    v_role := v_choice.role;  -- "the hygienist" of several: any provider of that role
  end if;
  -- "anyone but Dr. Lee": any provider but that one ("anyone but anyone" excludes nobody)
  if nullif(btrim(p_exclude_provider), '') is not null then
    select * into v_choice from private.resolve_provider(p_org_id, p_exclude_provider);
    if v_choice.kind in ('unknown', 'ambiguous') then
      return private.unknown_provider_reply(v_org, v_service.id, v_choice.kind, v_choice.names);
    end if;
    v_exclude := v_choice.provider_id;
    if v_exclude is not null and v_named is not null then
      return private.caller_refusal(v_org, 'invalid_input', 'Name a provider to book or one to avoid, not both');
    end if;
    -- nobody but the excluded one does the service: said before anything else (no time would help)
    v_refusal := private.qualification_refusal(v_org, v_service.id, null, v_exclude);
    if v_refusal is not null then
      return v_refusal;
    end if;
  end if;
  -- a role none of whose providers performs the service: said before anything else, naming who does
  if v_role is not null then
    v_refusal := private.qualification_refusal(v_org, v_service.id, null, v_exclude, v_role);
    if v_refusal is not null then
      return v_refusal;
    end if;
  end if;
  -- provider_not_qualified outranks every later refusal, and a booking implies it is not the case
  -- (only providers who perform the service are ever chosen), so it is asked only before refusing

  -- 6. time, by the clinic's rules (no lock needed: nothing here depends on other bookings)
  v_code := private.slot_refusal(p_org_id, v_service.id, p_scheduled_at);
  if v_code is not null then
    -- the slot may be taken by this very call's first attempt, committed since step 3
    v_replay := private.replayed_booking(p_org_id, v_key, v_email_dropped);
    if v_replay is not null then
      return v_replay;
    end if;
    if v_named is null and p_prefer_previous then
      v_prefer := nullif(private.previous_provider(p_org_id, v_phone, v_name), v_exclude);
    end if;
    return coalesce(private.qualification_refusal(v_org, v_service.id, v_named),
                    private.slot_refusal_reply(v_code, p_org_id, v_service.id, p_scheduled_at, null,
                                               v_named, v_insist, v_prefer, null, v_exclude, v_role));
  end if;

  -- 7. queue for the clinic-local day, then decide on what has committed meanwhile (a winner keeps
  --    the day locked until commit; everyone else leaves the queue before building a reply).
  --    A first attempt of this very call that committed meanwhile is found as a conflict (the same
  --    patient and time) and answered as its replay below, or, if it differs, meets the idempotency
  --    key's unique constraint when writing (step 8): the free path asks no replay question.
  v_ends_at := p_scheduled_at + make_interval(mins => v_service.duration_minutes);
  v_days := private.queue_clinic_days(p_org_id, v_org.timezone, p_scheduled_at);
  begin
    if v_named is not null then
      v_code := private.named_provider_refusal(p_org_id, v_service.id, p_scheduled_at, v_named);
      if v_code is null then
        v_provider_id := v_named;
      end if;
    else
      v_free_ids := private.free_providers(p_org_id, v_service.id, p_scheduled_at, null, v_role);
      if v_exclude is not null then
        v_free_ids := array_remove(v_free_ids, v_exclude);
      end if;
      if cardinality(v_free_ids) > 1 and p_prefer_previous then
        v_prefer := private.previous_provider(p_org_id, v_phone, v_name);
      end if;
      v_provider_id := private.fairest_provider(p_org_id, p_scheduled_at, v_free_ids, v_prefer);
      v_code := case when v_provider_id is null then 'slot_unavailable' end;
    end if;
  exception when others or query_canceled then
    perform private.leave_clinic_days(p_org_id, v_days);
    raise;
  end;
  perform private.leave_clinic_days(p_org_id, v_days, v_provider_id is not null);

  -- No patient in two places, asked only on the way to a refusal (where it outranks the refusal) and
  -- out of the queue (a loser holds the clinic day no longer than it takes to know it lost; what it
  -- reads has committed, the first attempt of this very call included, which held the day until then).
  -- On the way to a booking appointments_patient_no_overlap asks it as the row is written (step 8
  -- answers its 23P01 the same way), so the ordinary booking pays one question less.
  if v_code is not null then
    v_existing := private.patient_conflict(p_org_id, null, private.lenient_name(v_name), p_scheduled_at, v_ends_at,
                                           p_phone => v_phone);
    -- the same booking asked twice in one call (parallel tool calls): one booking, two successes
    if v_existing.id is not null and v_existing.provider_id is distinct from v_exclude
       and private.booked_by_this_call(v_existing, v_service.id, p_scheduled_at, v_named, p_caller_number) then
      v_replay := private.booking_reply(v_existing, true, v_email_dropped);
      v_existing := null;
    end if;
  end if;

  if v_replay is not null then
    return v_replay;
  end if;
  if v_existing.id is not null or v_code is not null then
    -- the conflict may be this very call's first attempt, committed since step 3
    v_replay := private.replayed_booking(p_org_id, v_key, v_email_dropped);
    if v_replay is not null then
      return v_replay;
    end if;
    v_refusal := private.qualification_refusal(v_org, v_service.id, v_named);
    if v_refusal is not null then
      return v_refusal;
    elsif v_existing.id is not null then
      return private.patient_busy_reply(v_org, v_service.id, v_existing, p_disclose_existing, p_scheduled_at);
    elsif v_code = 'provider_unavailable' then
      return private.slot_refusal_reply('provider_unavailable', p_org_id, v_service.id, p_scheduled_at, null,
        v_named, v_insist, null,
        format('%s does not work at the requested time',
               (select p.display_name from public.providers p where p.org_id = p_org_id and p.id = v_named)));
    end if;
    if v_named is null and p_prefer_previous then
      v_prefer := nullif(private.previous_provider(p_org_id, v_phone, v_name), v_exclude);
    end if;
    return private.slot_refusal_reply('slot_unavailable', p_org_id, v_service.id, p_scheduled_at, null,
                                      v_named, v_insist, v_prefer, null, v_exclude, v_role);
  end if;

  -- 8. write: lead → appointment → event, all or nothing
  loop
    v_attempt := v_attempt + 1;
    begin
      insert into public.leads as l (org_id, name, phone, email)
      values (p_org_id, v_name, v_phone, v_email)
      on conflict (org_id, phone) do update
        set name = case when btrim(l.name) = '' then excluded.name else l.name end,
            email = coalesce(l.email, excluded.email)
      returning l.id into v_lead_id;

      -- (who acted and the call id reach the outbox trigger from the caller's audit context,
      -- set by public.book_appointment; v2 and Studio fall back to the role)
      insert into public.appointments as a (
        org_id, lead_id, service_id, provider_id, provider_requested, patient_name, patient_date_of_birth,
        starts_at, ends_at, blocked, status, source, idempotency_key)
      values (
        p_org_id, v_lead_id, v_service.id, v_provider_id, v_named is not null, v_name, p_date_of_birth,
        p_scheduled_at, v_ends_at,
        tstzrange(p_scheduled_at,
                  p_scheduled_at + make_interval(mins => v_service.duration_minutes + v_service.buffer_minutes),
                  '[)'),
        'pending', v_source, v_key)
      returning * into v_appt;

      return private.booking_reply(v_appt, false, v_email_dropped);
    exception
      when exclusion_violation then
        -- a writer that does not queue (Studio, plain SQL) won; an identical replay counts as a replay
        get stacked diagnostics v_constraint = constraint_name;
        v_replay := private.replayed_booking(p_org_id, v_key, v_email_dropped);
        if v_replay is not null then
          return v_replay;
        end if;
        if v_constraint = 'appointments_patient_no_overlap' then
          v_existing := private.patient_conflict(p_org_id, v_lead_id, private.lenient_name(v_name),
                                                 p_scheduled_at, v_ends_at);
          -- the same booking asked twice in one call (parallel tool calls): one booking, two successes
          if v_existing.id is not null and v_existing.provider_id is distinct from v_exclude
             and private.booked_by_this_call(v_existing, v_service.id, p_scheduled_at, v_named, p_caller_number) then
            return private.booking_reply(v_existing, true, v_email_dropped);
          end if;
          return private.patient_busy_reply(v_org, v_service.id, v_existing, p_disclose_existing, p_scheduled_at);
        end if;
        return private.slot_refusal_reply('slot_unavailable', p_org_id, v_service.id, p_scheduled_at, null,
                                          v_named, v_insist, v_prefer, null, v_exclude, v_role);
      when unique_violation then
        get stacked diagnostics v_constraint = constraint_name;
        if v_constraint = 'appointments_org_idempotency_key' then
          v_replay := private.replayed_booking(p_org_id, v_key, v_email_dropped);
          if v_replay is not null then
            return v_replay;
          end if;
        end if;
        raise;
      when deadlock_detected then
        -- only against writers that do not queue; retry so the loser gets a clean 23P01
        if v_attempt >= 3 then
          return private.slot_refusal_reply('slot_unavailable', p_org_id, v_service.id, p_scheduled_at, null,
                                            v_named, v_insist, v_prefer, null, v_exclude, v_role);
        end if;
    end;
  end loop;
end;
$$;

-- book_appointment_atomic_v2 ------------------------------------------------------------------------
-- The original booking contract, kept for the v2 route and the operator commands: the same booking
-- without a date of birth, caller context or provider (any provider who performs the service:
-- public.book_appointment, 20261125000550_callers.sql; plpgsql resolves that name at call time).
-- Signature and reply keys unchanged (keys are only added: provider, alternativeSlots). Never give it
-- a parameter: that takes a DROP, and a re-created function starts with EXECUTE for PUBLIC.
create or replace function public.book_appointment_atomic_v2(
  p_org_id uuid,
  p_name text,
  p_email text,
  p_phone text,
  p_service text,
  p_scheduled_at timestamptz,
  p_idempotency_key text default null,
  p_source text default 'api'
)
returns json
language plpgsql
volatile
security definer
set search_path = ''
set lock_timeout = '3s'
as $$
declare
  v_reply json;
  v_service text := p_service;
begin
  -- The original contract books the clinic's default service for text that names none of its
  -- services (the Vapi route refuses it as unknown_service); aliases and misspellings still match.
  if nullif(btrim(p_service), '') is not null and private.resolve_service(p_org_id, p_service) is null then
    v_service := null;
  end if;
  v_reply := public.book_appointment(
    p_org_id => p_org_id, p_name => p_name, p_email => p_email, p_phone => p_phone,
    p_service => v_service, p_scheduled_at => p_scheduled_at, p_idempotency_key => p_idempotency_key,
    p_source => p_source, p_date_of_birth => null, p_caller => null, p_provider => null);
  -- The original contract knows one refusal for a time that cannot be had: the same request again
  -- (the patient already holds that time) is slot_unavailable with alternatives, as it was before
  -- patient_busy existed.
  if v_reply ->> 'error' = 'patient_busy' then
    return private.slot_refusal_reply('slot_unavailable', p_org_id,
                                      private.resolve_service(p_org_id, v_service), p_scheduled_at);
  end if;
  return v_reply;
end;
$$;
comment on function public.book_appointment_atomic_v2(uuid, text, text, text, text, timestamptz, text, text) is
  'Original booking contract (v2 route, operator commands): public.book_appointment without date of birth, caller context or provider (any qualified provider); service text that names no service books the default one, and a patient already booked then is slot_unavailable with alternatives, as the contract says.';
grant execute on function public.book_appointment_atomic_v2(uuid, text, text, text, text, timestamptz, text, text) to authenticated, service_role;

-- check_availability --------------------------------------------------------------------------------

-- A caller's window on one day ("Tuesday after 3", "tomorrow morning", "around 2", no time at all):
-- check_availability's answer when it is given a day instead of an instant (issue 11 §2). The window
-- is clinic-local [p_after, p_before) on p_day (NULL bounds: from opening / to closing); p_near is
-- "around": p_near ± 60 minutes, both ends included, nearest first. Up to p_limit free starts in it
-- (chronological) — or, when it holds none, why (`windowEmpty`: closed that day, outside_hours — the
-- window meets none of the day's opening intervals —, provider_off — the named provider's own hours
-- do not meet it that day —, passed — all of it is over today —, or full)
-- and the nearest other openings instead: the same day's closest to the window first, then the next
-- day with openings in the window (for a whole day: the next open day), p_limit in all, at least one
-- of the next day when there is one ("Nothing after 5 on Tuesday; I do have 9:00 or 9:30 that
-- morning, or Wednesday at 5:00"). A day beyond the booking horizon is too_far_ahead (with the
-- latest times inside it and bookingHorizonDays), a past one in_past, as for booking.
-- p_at is an exact time ("at 7am", "noon", "at 12:30"): listed as from then on (as p_after), except
-- when it lies in none of the day's opening intervals (business hours, minus closures covering it;
-- for a named provider with hours of its own, theirs: provider_off) — then the reply says so
-- (windowEmpty outside_hours, or closed for a day closed throughout) and offers that day's openings
-- nearest to it, then the next day's from that time on, as for an empty window; it never answers
-- "free at 1:00 PM" to "at 12:30" as if nothing were odd.
create or replace function private.availability_window(
  p_org public.orgs,
  p_service_id uuid,
  p_provider_id uuid,
  p_day date,
  p_after time,
  p_before time,
  p_near time,
  p_limit integer,
  p_at time default null,
  p_exclude_provider_id uuid default null,
  p_role text default null
)
returns json
language plpgsql
stable
set search_path = ''
as $$
declare
  v_tz text := p_org.timezone;
  v_today date := (now() at time zone p_org.timezone)::date;
  v_after time := p_after;
  v_before time := p_before;
  v_day_start timestamptz := p_day::timestamp at time zone p_org.timezone;
  v_next_day timestamptz := (p_day + 1)::timestamp at time zone p_org.timezone;
  v_hours json;
  v_empty text;
  v_times timestamptz[] := '{}';
  v_providers uuid[] := '{}';
  v_same_times timestamptz[] := '{}';
  v_same_providers uuid[] := '{}';
  v_next_times timestamptz[] := '{}';
  v_next_providers uuid[] := '{}';
  v_same integer;
  v_at_shut text;
begin
  if p_at is not null then
    v_after := p_at;  -- listed from then on, unless the clinic (or the provider) is shut then
  end if;
  if p_near is not null then
    -- ± 60 minutes, both ends included; `time` wraps at midnight, so the edges are clamped
    v_after := case when p_near >= time '01:00' then p_near - interval '60 minutes' end;
    v_before := case when p_near < time '23:00' then p_near + interval '60 minutes 1 microsecond' end;
  end if;
  if v_after is not null and v_before is not null and v_before <= v_after then
    return private.caller_refusal(p_org, 'invalid_input', 'Window end must be after its start');
  end if;

  -- a day the clinic cannot book at all: as booking answers it
  if (p_day + coalesce(v_after, time '00:00')) at time zone v_tz > private.horizon_end(v_tz, p_org.booking_horizon_days) then
    return private.slot_refusal_reply('too_far_ahead', p_org.id, p_service_id,
                                      (p_day + coalesce(v_after, time '00:00')) at time zone v_tz, null, p_provider_id,
                                      p_exclude_provider_id => p_exclude_provider_id, p_role => p_role);
  elsif p_day < v_today then
    return private.slot_refusal_reply('in_past', p_org.id, p_service_id, v_day_start, null, p_provider_id,
                                      p_exclude_provider_id => p_exclude_provider_id, p_role => p_role);
  end if;

  v_hours := coalesce((select json_agg(json_build_object('opensAt', to_char(bh.opens_at, 'HH24:MI'),
                                                         'closesAt', to_char(bh.closes_at, 'HH24:MI'))
                                       order by bh.opens_at)
                         from public.business_hours bh
                        where bh.org_id = p_org.id and bh.weekday = extract(dow from p_day)::smallint), '[]'::json);

  -- an exact time when the clinic is shut: in no opening interval of the day (closures included),
  -- or outside the named provider's own hours. Nothing is then inside the window, and the day's
  -- openings are offered nearest to it.
  if p_at is not null then
    v_at_shut := case
      when not exists (select 1 from public.business_hours bh
                        where bh.org_id = p_org.id and bh.weekday = extract(dow from p_day)::smallint
                          and p_at >= bh.opens_at and p_at < bh.closes_at)
           or exists (select 1 from public.closures c
                       where c.org_id = p_org.id and c.during @> ((p_day + p_at) at time zone v_tz))
        then 'outside_hours'
      when p_provider_id is not null
           and exists (select 1 from public.provider_hours ph
                        where ph.org_id = p_org.id and ph.provider_id = p_provider_id)
           and not exists (select 1 from public.provider_hours ph
                            where ph.org_id = p_org.id and ph.provider_id = p_provider_id
                              and ph.weekday = extract(dow from p_day)::smallint
                              and p_at >= ph.opens_at and p_at < ph.closes_at)
        then 'provider_off' end;
  end if;

  -- the day's free starts (the fair rule's provider each): those in the window (nearest p_near first,
  -- else earliest), and the rest by their distance to the window
  with day as (
    select c.starts_at as t, c.provider_id as p, (c.starts_at at time zone v_tz)::time as local_time,
           v_at_shut is null
             and (v_after is null or (c.starts_at at time zone v_tz)::time >= v_after)
             and (v_before is null or (c.starts_at at time zone v_tz)::time < v_before) as inside
      from private.candidate_slots(p_org.id, p_service_id, v_day_start, v_next_day, null, p_provider_id, null,
                                   p_exclude_provider_id, p_role) as c
     where c.pick = 1
  ), inside as (
    select d.t, d.p from day d
     where d.inside
     order by case when p_near is not null then abs(extract(epoch from d.local_time - p_near)) end, d.t
     limit p_limit
  ), outside as (
    select d.t, d.p,
           case when v_at_shut is not null then make_interval(secs => abs(extract(epoch from d.local_time - p_at)))
                when d.local_time < v_after then v_after - d.local_time else d.local_time - v_before end as distance
      from day d
     where not d.inside
     order by 3, d.t
     limit p_limit
  )
  select coalesce((select array_agg(i.t order by i.t) from inside i), '{}'),
         coalesce((select array_agg(i.p order by i.t) from inside i), '{}'),
         coalesce((select array_agg(o.t order by o.distance, o.t) from outside o), '{}'),
         coalesce((select array_agg(o.p order by o.distance, o.t) from outside o), '{}')
    into v_times, v_providers, v_same_times, v_same_providers;

  if cardinality(v_times) = 0 then
    v_empty := case
      when not exists (select 1 from public.business_hours bh
                        where bh.org_id = p_org.id and bh.weekday = extract(dow from p_day)::smallint
                          and not exists (select 1 from public.closures c
                                           where c.org_id = p_org.id
                                             and c.during @> tstzrange((p_day + bh.opens_at) at time zone v_tz,
                                                                       (p_day + bh.closes_at) at time zone v_tz)))
        then 'closed'
      when v_at_shut is not null then v_at_shut
      when not exists (select 1 from public.business_hours bh
                        where bh.org_id = p_org.id and bh.weekday = extract(dow from p_day)::smallint
                          and bh.opens_at < coalesce(v_before, time '24:00')
                          and bh.closes_at > coalesce(v_after, time '00:00'))
        then 'outside_hours'
      when p_provider_id is not null
           and exists (select 1 from public.provider_hours ph
                        where ph.org_id = p_org.id and ph.provider_id = p_provider_id)
           and not exists (select 1 from public.provider_hours ph
                            where ph.org_id = p_org.id and ph.provider_id = p_provider_id
                              and ph.weekday = extract(dow from p_day)::smallint
                              and ph.opens_at < coalesce(v_before, time '24:00')
                              and ph.closes_at > coalesce(v_after, time '00:00'))
        then 'provider_off'
      when p_day = v_today
           and (p_day + least(coalesce(v_before, time '24:00'),
                              (select max(bh.closes_at) from public.business_hours bh
                                where bh.org_id = p_org.id and bh.weekday = extract(dow from p_day)::smallint))) at time zone v_tz
               <= now() + make_interval(mins => p_org.min_notice_minutes)
        then 'passed'
      else 'full' end;

    -- the next day with openings in the window, unless the window meets the clinic's hours on no day
    if exists (select 1 from public.business_hours bh
                where bh.org_id = p_org.id
                  and bh.opens_at < coalesce(v_before, time '24:00')
                  and bh.closes_at > coalesce(v_after, time '00:00')) then
      select coalesce(array_agg(e.starts_at order by e.starts_at), '{}'),
             coalesce(array_agg(e.provider_id order by e.starts_at), '{}')
        into v_next_times, v_next_providers
        from private.earliest_slots(p_org.id, p_service_id, v_next_day, null, p_limit, null, p_provider_id, null,
                                    v_after, v_before, p_exclude_provider_id, p_role) as e;
      -- that day only
      select coalesce(array_agg(t.s order by t.s), '{}'), coalesce(array_agg(t.p order by t.s), '{}')
        into v_next_times, v_next_providers
        from unnest(v_next_times, v_next_providers) as t(s, p)
       where (t.s at time zone v_tz)::date = (v_next_times[1] at time zone v_tz)::date;
    end if;

    -- the same day's nearest first, at least one of the next day when there is one; chronological
    v_same := least(cardinality(v_same_times), p_limit - case when cardinality(v_next_times) > 0 then 1 else 0 end);
    select coalesce(array_agg(t.s order by t.s), '{}'), coalesce(array_agg(t.p order by t.s), '{}')
      into v_times, v_providers
      from (select x.s, x.p from unnest(v_same_times[1:v_same], v_same_providers[1:v_same]) as x(s, p)
            union all
            select x.s, x.p from unnest(v_next_times[1:p_limit - v_same], v_next_providers[1:p_limit - v_same]) as x(s, p)
           ) as t;
  end if;

  return json_build_object(
    'success', true,
    'slots', (select coalesce(json_agg(private.iso(t.s) order by t.n), '[]'::json)
                from unnest(v_times) with ordinality as t(s, n)),
    'slotProviders', (select coalesce(json_agg(json_build_object(
                               'scheduledAt', private.iso(t.s),
                               'providerId', t.p,
                               'providerName', pr.display_name) order by t.n), '[]'::json)
                        from unnest(v_times, v_providers) with ordinality as t(s, p, n)
                        join public.providers pr on pr.org_id = p_org.id and pr.id = t.p),
    'window', json_build_object('date', p_day,
                                'from', to_char(v_after, 'HH24:MI'),
                                'to', to_char(case when p_near is null or v_before is null then v_before
                                                   else p_near + interval '60 minutes' end, 'HH24:MI'),
                                'near', to_char(p_near, 'HH24:MI'),
                                'at', to_char(p_at, 'HH24:MI')),
    'windowEmpty', v_empty,
    'dayHours', v_hours,
    'service', private.service_json(p_org.id, p_service_id),
    'provider', private.provider_json(p_org.id, p_provider_id),
    'timezone', p_org.timezone);
end;
$$;

-- Free start times for a service, same rules as alternatives: for any provider, the times at which
-- some provider who performs the service is free; for a named one (p_provider), that provider's;
-- with p_exclude_provider ("anyone but Dr. Lee", resolved as p_provider is), any provider but that
-- one — provider_not_qualified with excludedProvider when nobody else performs the service.
-- Two ways to ask:
--   * a caller's window on a day (p_from NULL: the voice's way): p_day (NULL = the clinic's today) and
--     p_after / p_before / p_near, or an exact time p_at (its own window, like p_near), answered by
--     private.availability_window above;
--   * the original contract, an instant window [p_from, p_to or horizon); with p_first_day_only only
--     the first clinic-local day in it that has any free time.
-- `slotProviders` says, per slot in the same order, who would be booked: the named provider, or the
-- one the fair rule picks (without a caller, no previous provider counts).
create or replace function public.check_availability(
  p_org_id uuid,
  p_service text,
  p_from timestamptz default null,
  p_to timestamptz default null,
  p_limit integer default 3,
  p_first_day_only boolean default false,
  p_provider text default null,
  p_day date default null,
  p_after time default null,
  p_before time default null,
  p_near time default null,
  p_at time default null,
  p_exclude_provider text default null
)
returns json
language plpgsql
stable
security definer
set search_path = ''
set lock_timeout = '3s'
as $$
declare
  v_org public.orgs;
  v_service_id uuid;
  v_provider text;
  v_choice record;
  v_named uuid;
  v_exclude uuid;
  v_role text;
  v_refusal json;
  v_times timestamptz[];
  v_providers uuid[];
  v_first timestamptz;
  v_local_date date;
begin
  if p_org_id is null then
    return private.error_reply('invalid_input', 'Organization id is required');
  end if;
  if p_from is not null and num_nonnulls(p_day, p_after, p_before, p_near, p_at) > 0 then
    return private.error_reply('invalid_input', 'Give a window start (p_from) or a day and times, not both');
  end if;
  if p_near is not null and num_nonnulls(p_after, p_before) > 0 then
    return private.error_reply('invalid_input', 'A time to be near (p_near) is its own window');
  end if;
  if p_at is not null and num_nonnulls(p_after, p_before, p_near) > 0 then
    return private.error_reply('invalid_input', 'An exact time (p_at) is its own window');
  end if;
  if p_to is not null and p_to <= p_from then
    return private.error_reply('invalid_input', 'Window end must be after its start');
  end if;
  if p_limit is null or p_limit not between 1 and 50 then
    return private.error_reply('invalid_input', 'Limit must be between 1 and 50');
  end if;

  select * into v_org from public.orgs o where o.id = p_org_id;
  if not found or not private.can_act_for_org(p_org_id) then
    return private.error_reply('unknown_org');
  end if;

  -- the service named, or a provider said as the service, or a named provider's own service when
  -- none was said (private.resolve_service_provider)
  select r.service_id, r.provider into v_service_id, v_provider
    from private.resolve_service_provider(p_org_id, p_service, p_provider) as r;
  if v_service_id is null then
    if nullif(btrim(p_service), '') is not null then
      return private.unknown_service_reply(v_org, private.services_named(p_org_id, p_service));
    end if;
    return json_build_object('success', false, 'error', 'invalid_input',
      'message', 'The clinic has no bookable default service', 'timezone', v_org.timezone);
  end if;

  select * into v_choice from private.resolve_provider(p_org_id, v_provider);
  if v_choice.kind in ('unknown', 'ambiguous') then
    return private.unknown_provider_reply(v_org, v_service_id, v_choice.kind, v_choice.names);
  end if;
  v_named := v_choice.provider_id;
  v_role := v_choice.role;  -- "the hygienist" of several: any provider of that role
  -- "anyone but Dr. Lee": resolved as p_provider is; never together with a named provider
  if nullif(btrim(p_exclude_provider), '') is not null then
    select * into v_choice from private.resolve_provider(p_org_id, p_exclude_provider);
    if v_choice.kind in ('unknown', 'ambiguous') then
      return private.unknown_provider_reply(v_org, v_service_id, v_choice.kind, v_choice.names);
    end if;
    v_exclude := v_choice.provider_id;
    if v_exclude is not null and v_named is not null then
      return private.caller_refusal(v_org, 'invalid_input', 'Name a provider to book or one to avoid, not both');
    end if;
  end if;
  v_refusal := private.qualification_refusal(v_org, v_service_id, v_named, v_exclude, v_role);
  if v_refusal is not null then
    return v_refusal;
  end if;

  if p_from is null then
    return private.availability_window(v_org, v_service_id, v_named,
                                       coalesce(p_day, (now() at time zone v_org.timezone)::date),
                                       p_after, p_before, p_near, p_limit, p_at, v_exclude, v_role);
  end if;

  if coalesce(p_first_day_only, false) then
    select e.starts_at into v_first
      from private.earliest_slots(p_org_id, v_service_id, p_from, p_to, 1, null, v_named,
                                  p_exclude_provider_id => v_exclude, p_role => v_role) as e;
    if v_first is not null then
      v_local_date := (v_first at time zone v_org.timezone)::date;
      select coalesce(array_agg(c.starts_at order by c.starts_at), '{}'),
             coalesce(array_agg(c.provider_id order by c.starts_at), '{}')
        into v_times, v_providers
        from (select c.starts_at, c.provider_id
                from private.candidate_slots(
                       p_org_id, v_service_id, v_first,
                       least(coalesce(p_to, 'infinity'::timestamptz),
                             (v_local_date + 1)::timestamp at time zone v_org.timezone),
                       null, v_named, null, v_exclude, v_role) as c
               where c.pick = 1
               order by c.starts_at
               limit p_limit) as c;
    end if;
  else
    select coalesce(array_agg(e.starts_at order by e.starts_at), '{}'),
           coalesce(array_agg(e.provider_id order by e.starts_at), '{}')
      into v_times, v_providers
      from private.earliest_slots(p_org_id, v_service_id, p_from, p_to, p_limit, null, v_named,
                                  p_exclude_provider_id => v_exclude, p_role => v_role) as e;
  end if;
  v_times := coalesce(v_times, '{}');
  v_providers := coalesce(v_providers, '{}');

  return json_build_object(
    'success', true,
    'slots', private.iso_array(v_times),
    'slotProviders', (select coalesce(json_agg(json_build_object(
                               'scheduledAt', private.iso(t.s),
                               'providerId', t.p,
                               'providerName', pr.display_name) order by t.s), '[]'::json)
                        from unnest(v_times, v_providers) as t(s, p)
                        join public.providers pr on pr.org_id = p_org_id and pr.id = t.p),
    'service', private.service_json(p_org_id, v_service_id),
    'provider', private.provider_json(p_org_id, v_named),
    'timezone', v_org.timezone);
end;
$$;
comment on function public.check_availability(uuid, text, timestamptz, timestamptz, integer, boolean, text, date, time, time, time, time, text) is
  'Free start times for a service (any provider who performs it, or the named p_provider) with who would be booked per slot (slotProviders): in a caller''s window on a day (p_day, p_after, p_before, p_near, or an exact time p_at; the nearest other openings when it is empty or the clinic is shut at p_at, with windowEmpty saying why), or from an instant p_from (the original contract). p_exclude_provider: any provider but that one ("anyone but Dr. Lee").';
grant execute on function public.check_availability(uuid, text, timestamptz, timestamptz, integer, boolean, text, date, time, time, time, time, text) to authenticated, service_role;

-- get_org_profile -------------------------------------------------------------------------------------
-- What the assistant needs to talk about a clinic: settings, active services, weekly hours, and who
-- works there (active providers, what each does and when: provider hours ∩ clinic hours).
create or replace function public.get_org_profile(p_org_id uuid)
returns json
language plpgsql
stable
security definer
set search_path = ''
set lock_timeout = '3s'
as $$
declare
  v_org public.orgs;
begin
  if p_org_id is null then
    return private.error_reply('invalid_input', 'Organization id is required');
  end if;
  select * into v_org from public.orgs o where o.id = p_org_id;
  if not found or not private.can_act_for_org(p_org_id) then
    return private.error_reply('unknown_org');
  end if;

  return json_build_object(
    'success', true,
    'org', json_build_object(
      'id', v_org.id,
      'name', v_org.name,
      'timezone', v_org.timezone,
      'phoneRegion', v_org.phone_region,
      'slotIntervalMinutes', v_org.slot_interval_minutes,
      'minNoticeMinutes', v_org.min_notice_minutes,
      'bookingHorizonDays', v_org.booking_horizon_days),
    'services', coalesce((
      select json_agg(json_build_object(
               'code', s.code,
               'name', s.name,
               'durationMinutes', s.duration_minutes,
               'bufferMinutes', s.buffer_minutes,
               'isDefault', s.is_default)
             order by s.is_default desc, s.name)
      from public.services s
      where s.org_id = p_org_id and s.active), '[]'::json),
    'hours', coalesce((
      select json_agg(json_build_object(
               'weekday', bh.weekday,
               'opensAt', to_char(bh.opens_at, 'HH24:MI'),
               'closesAt', to_char(bh.closes_at, 'HH24:MI'))
             order by bh.weekday, bh.opens_at)
      from public.business_hours bh
      where bh.org_id = p_org_id), '[]'::json),
    'providers', coalesce((
      select json_agg(json_build_object(
               'id', p.id,
               'name', p.display_name,
               'shortNames', to_json(p.short_names),
               'role', p.role,
               'services', coalesce((
                 select json_agg(s.code order by s.is_default desc, s.name)
                   from public.provider_services ps
                   join public.services s on s.org_id = ps.org_id and s.id = ps.service_id
                  where ps.org_id = p.org_id and ps.provider_id = p.id and s.active), '[]'::json),
               'hours', coalesce((
                 select json_agg(json_build_object(
                          'weekday', w.weekday,
                          'opensAt', to_char(w.opens_at, 'HH24:MI'),
                          'closesAt', to_char(w.closes_at, 'HH24:MI'))
                        order by w.weekday, w.opens_at)
                   from (
                     -- effective hours: the clinic's, cut to the provider's own intervals if it has any
                     select bh.weekday, greatest(bh.opens_at, ph.opens_at) as opens_at,
                            least(bh.closes_at, ph.closes_at) as closes_at
                       from public.business_hours bh
                       join public.provider_hours ph
                         on ph.org_id = bh.org_id and ph.provider_id = p.id and ph.weekday = bh.weekday
                      where bh.org_id = p.org_id
                        and greatest(bh.opens_at, ph.opens_at) < least(bh.closes_at, ph.closes_at)
                     union all
                     select bh.weekday, bh.opens_at, bh.closes_at
                       from public.business_hours bh
                      where bh.org_id = p.org_id
                        and not exists (select 1 from public.provider_hours ph
                                         where ph.org_id = p.org_id and ph.provider_id = p.id)
                   ) as w), '[]'::json))
             order by p.display_name, p.id)
      from public.providers p
      where p.org_id = p_org_id and p.active), '[]'::json),
    'providerCount', (select count(*) from public.providers p where p.org_id = p_org_id and p.active),
    'timezone', v_org.timezone);
end;
$$;
comment on function public.get_org_profile(uuid) is
  'The clinic as the assistant describes it: settings, active services, weekly hours, active providers with their services and effective hours, providerCount.';
grant execute on function public.get_org_profile(uuid) to authenticated, service_role;

-- resolve_vapi_org ------------------------------------------------------------------------------------
-- Which org is a Vapi call for? A stored mapping (assistant id first, then phone-number id) decides;
-- an org id claimed in the call metadata only confirms it (a claim that contradicts it is refused).
-- Assistant and phone-number ids are global and the metadata is written by whoever configures the
-- assistant, so a claim alone is trusted only when the caller says so (p_allow_claim): the v2 route
-- and the operator commands, which hold the platform's own secret, and development/test setups
-- (ALLOW_METADATA_ORG). Then the claimed org must exist and the caller must be able to act for it.
-- A mapping to an org the caller cannot act for (a signed-in member of another clinic) is treated
-- exactly like no mapping, and a refused claim is checked for nothing else, so a signed-in user learns
-- neither which ids other clinics use nor which org ids exist.
create or replace function public.resolve_vapi_org(
  p_assistant_id text default null,
  p_phone_number_id text default null,
  p_claimed_org_id uuid default null,
  p_allow_claim boolean default false
)
returns json
language plpgsql
stable
security definer
set search_path = ''
set lock_timeout = '3s'
as $$
declare
  v_assistant text := nullif(btrim(p_assistant_id), '');
  v_phone_number text := nullif(btrim(p_phone_number_id), '');
  v_org_id uuid;
  v_source text;
begin
  if v_assistant is not null then
    select va.org_id into v_org_id from public.vapi_assistants va where va.assistant_id = v_assistant;
    if v_org_id is not null and private.can_act_for_org(v_org_id) then
      v_source := 'assistant';
    else
      v_org_id := null;
    end if;
  end if;
  if v_org_id is null and v_phone_number is not null then
    select va.org_id into v_org_id from public.vapi_assistants va where va.phone_number_id = v_phone_number;
    if v_org_id is not null and private.can_act_for_org(v_org_id) then
      v_source := 'phone_number';
    else
      v_org_id := null;
    end if;
  end if;

  if v_org_id is not null then
    if p_claimed_org_id is not null and p_claimed_org_id <> v_org_id then
      return private.error_reply('org_mismatch',
        'The org id in the call metadata does not match the org this assistant is mapped to');
    end if;
  elsif p_claimed_org_id is null then
    return private.error_reply('no_org', 'No assistant or phone-number mapping and no org id in the call metadata');
  elsif not coalesce(p_allow_claim, false) then
    return private.error_reply('no_org',
      'No assistant or phone-number mapping for this call; an org id in the call metadata only confirms a mapping');
  elsif not exists (select 1 from public.orgs o where o.id = p_claimed_org_id)
        or not private.can_act_for_org(p_claimed_org_id) then
    return private.error_reply('unknown_org');
  else
    v_org_id := p_claimed_org_id;
    v_source := 'claim';
  end if;

  return json_build_object(
    'success', true,
    'orgId', v_org_id,
    'source', v_source,
    'timezone', (select o.timezone from public.orgs o where o.id = v_org_id));
end;
$$;
comment on function public.resolve_vapi_org(text, text, uuid, boolean) is
  'The org a Vapi call is for: mapping (assistant, then phone number) decides, a metadata org id only confirms it unless p_allow_claim. Refusals: org_mismatch, no_org, unknown_org.';
-- The webhook's (service_role's) alone: to a signed-in user, unknown_org vs no_org would say which
-- Vapi ids and org ids exist elsewhere, and members read their own mappings from vapi_assistants.
grant execute on function public.resolve_vapi_org(text, text, uuid, boolean) to service_role;
