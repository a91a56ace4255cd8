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
    'emailDropped', coalesce(p_email_dropped, false))
    from public.orgs o
    where o.id = p_appt.org_id);
end;
$$;
revoke all on function private.booking_reply(public.appointments, boolean, boolean) from public, anon;

-- The original success for an idempotency key the org has already booked (replayed = true), or
-- null. Asked again wherever a concurrent attempt of the same call may just have committed. The key
-- is opaque here: its format belongs to whoever sends it (the service). emailDropped is this call's
-- (a retry sends the same e-mail, so it says what the original said).
create or replace function private.replayed_booking(p_org_id uuid, p_key text, p_email_dropped boolean default false)
returns json
language sql
stable
set search_path = ''
as $$
  select private.booking_reply(a, true, p_email_dropped)
  from public.appointments a
  where a.org_id = p_org_id and a.idempotency_key = p_key;
$$;
revoke all on function private.replayed_booking(uuid, text, boolean) from public, anon;

-- Public RPCs --------------------------------------------------------------------------------------

-- book_appointment -----------------------------------------------------------------------------------
-- Books one appointment. Double booking is prevented by appointments_no_overlap, not by locks: the
-- pre-check (private.slot_refusal) only produces a friendly reply early; a concurrent winner that
-- slips in between surfaces as 23P01 and is answered as slot_unavailable. Lead upsert, appointment
-- insert and outbox event run in ONE block, so a refused booking writes nothing (not even the lead).
-- Lock order is always lead → appointment → event.
-- The e-mail is optional: an implausible one (private.is_plausible_email) is stored as NULL and the
-- booking goes ahead, reporting emailDropped = true; it is never a reason to refuse.
-- This is the body of public.book_appointment (20261125000550_callers.sql), which adds the caller
-- context and the access-log row around it; private so nothing can book without leaving that row.
create or replace function private.book_appointment_core(
  p_org_id uuid,
  p_name text,
  p_email text,
  p_phone text,
  p_service text,
  p_scheduled_at timestamptz,
  p_idempotency_key text,
  p_source text,
  p_date_of_birth date
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
  v_org public.orgs;
  v_service public.services;
  v_code text;
  v_lead_id uuid;
  v_appt public.appointments;
  v_replay json;
  v_constraint text;
  v_attempt integer := 0;
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

  -- 2. org + authorisation (unknown and forbidden look the same)
  select * into v_org from public.orgs o where o.id = p_org_id;
  if not found or not private.can_act_for_org(p_org_id) then
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

  -- 4. service (unknown/blank → default)
  select * into v_service from public.services s
   where s.org_id = p_org_id and s.id = private.resolve_service(p_org_id, p_service);
  if not found then
    return json_build_object('success', false, 'error', 'invalid_input',
      'message', 'The clinic has no bookable default service', 'timezone', v_org.timezone);
  end if;

  -- 5. time
  v_code := private.slot_refusal(p_org_id, v_service.id, p_scheduled_at);
  if v_code is not null then
    -- the slot may be taken by this very call's first attempt, committed since step 3
    return coalesce(private.replayed_booking(p_org_id, v_key, v_email_dropped),
                    private.slot_refusal_reply(v_code, p_org_id, v_service.id, p_scheduled_at));
  end if;

  -- 6. write: lead → appointment → event, all or nothing
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
        org_id, lead_id, service_id, patient_name, patient_date_of_birth, starts_at, ends_at, blocked,
        status, source, idempotency_key)
      values (
        p_org_id, v_lead_id, v_service.id, v_name, p_date_of_birth, p_scheduled_at,
        p_scheduled_at + make_interval(mins => v_service.duration_minutes),
        tstzrange(p_scheduled_at,
                  p_scheduled_at + make_interval(mins => v_service.duration_minutes + v_service.buffer_minutes),
                  '[)'),
        'pending', v_source, v_key)
      returning * into v_appt;

      return private.booking_reply(v_appt, false, v_email_dropped);
    exception
      when exclusion_violation then
        -- a concurrent booking won the slot (an identical replay racing us counts as a replay)
        return coalesce(private.replayed_booking(p_org_id, v_key, v_email_dropped),
                        private.slot_refusal_reply('slot_unavailable', p_org_id, v_service.id, p_scheduled_at));
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
        -- two conflicting inserts saw each other; retry once more so the loser gets a clean 23P01
        if v_attempt >= 3 then
          return private.slot_refusal_reply('slot_unavailable', p_org_id, v_service.id, p_scheduled_at);
        end if;
    end;
  end loop;
end;
$$;
revoke all on function private.book_appointment_core(uuid, text, text, text, text, timestamptz, text, text, date)
  from public, anon, authenticated, service_role;

-- book_appointment_atomic_v2 ------------------------------------------------------------------------
-- The original booking contract, kept for the v2 route and the operator commands: the same booking
-- without a date of birth or caller context (public.book_appointment, 20261125000550_callers.sql;
-- plpgsql resolves that name at call time). Signature and reply keys unchanged.
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
begin
  return public.book_appointment(
    p_org_id => p_org_id, p_name => p_name, p_email => p_email, p_phone => p_phone,
    p_service => p_service, p_scheduled_at => p_scheduled_at, p_idempotency_key => p_idempotency_key,
    p_source => p_source, p_date_of_birth => null, p_caller => null);
end;
$$;
comment on function public.book_appointment_atomic_v2(uuid, text, text, text, text, timestamptz, text, text) is
  'Original booking contract (v2 route, operator commands): public.book_appointment without date of birth or caller context.';
revoke execute on function public.book_appointment_atomic_v2(uuid, text, text, text, text, timestamptz, text, text) from public, anon;
grant execute on function public.book_appointment_atomic_v2(uuid, text, text, text, text, timestamptz, text, text) to authenticated, service_role;

-- check_availability --------------------------------------------------------------------------------
-- Free start times for a service in [p_from, p_to or horizon), same rules as alternatives. With
-- p_first_day_only: only the first clinic-local day in the window that has any free time.
create or replace function public.check_availability(
  p_org_id uuid,
  p_service text,
  p_from timestamptz,
  p_to timestamptz default null,
  p_limit integer default 3,
  p_first_day_only boolean default false
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
  v_slots timestamptz[];
  v_first timestamptz;
  v_local_date date;
begin
  if p_org_id is null or p_from is null then
    return private.error_reply('invalid_input', 'Organization id and window start are required');
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

  v_service_id := private.resolve_service(p_org_id, p_service);
  if v_service_id is null then
    return json_build_object('success', false, 'error', 'invalid_input',
      'message', 'The clinic has no bookable default service', 'timezone', v_org.timezone);
  end if;

  if coalesce(p_first_day_only, false) then
    v_first := (private.earliest_slots(p_org_id, v_service_id, p_from, p_to, 1))[1];
    if v_first is null then
      v_slots := '{}';
    else
      v_local_date := (v_first at time zone v_org.timezone)::date;
      v_slots := array(
        select t from private.candidate_slots(
          p_org_id, v_service_id,
          v_first,
          least(coalesce(p_to, 'infinity'::timestamptz),
                (v_local_date + 1)::timestamp at time zone v_org.timezone)) as t
        order by t
        limit p_limit);
    end if;
  else
    v_slots := private.earliest_slots(p_org_id, v_service_id, p_from, p_to, p_limit);
  end if;

  return json_build_object(
    'success', true,
    'slots', private.iso_array(v_slots),
    'service', private.service_json(p_org_id, v_service_id),
    'timezone', v_org.timezone);
end;
$$;
revoke execute on function public.check_availability(uuid, text, timestamptz, timestamptz, integer, boolean) from public, anon;
grant execute on function public.check_availability(uuid, text, timestamptz, timestamptz, integer, boolean) to authenticated, service_role;

-- get_org_profile -------------------------------------------------------------------------------------
-- What the assistant needs to talk about a clinic: settings, active services, weekly hours.
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
    'timezone', v_org.timezone);
end;
$$;
revoke execute on function public.get_org_profile(uuid) from public, anon;
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
revoke execute on function public.resolve_vapi_org(text, text, uuid, boolean) from public, anon, authenticated;
grant execute on function public.resolve_vapi_org(text, text, uuid, boolean) to service_role;
