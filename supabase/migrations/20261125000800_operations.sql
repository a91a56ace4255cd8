-- Operations: what `flask --app api health-check` / `stress-test` need from the database.
--
-- The checks book through the real webhook, so they need a clinic whose calendar they may fill and
-- empty at will (the health-check org), a way to read back what was stored (the webhook's replies do
-- not show the stored phone or row counts), and a cleanup that can never reach a real clinic's data.
-- Every function here is for service_role only: nothing in it is reachable by anon or authenticated.

-- Helpers (private) --------------------------------------------------------------------------------

-- The one org the health checks own. A fixed id so every deployment (and every cleanup) agrees on
-- which org it is; nothing else ever gets this id.
create or replace function private.health_check_org_id()
returns uuid
language sql
immutable
set search_path = ''
as $$
  select '00000000-0000-4000-8000-00000000c4ec'::uuid;
$$;

-- Was this appointment booked by a health check? The checks call the webhook as Vapi does, with
-- call ids starting with `health-check-` (api/cli/operations.py, CALL_ID_PREFIX), and the booking records
-- the call id in the appointment's `booked` event (payload callId, from the caller context). Cleanup
-- in a real clinic deletes nothing without it. The idempotency key is not read: its format is the
-- service's, opaque here.
create or replace function private.is_health_check_booking(p_org_id uuid, p_appointment_id uuid)
returns boolean
language plpgsql
stable
set search_path = ''
as $$
begin
  return exists (
    select 1 from public.appointment_events e
     where e.org_id = p_org_id and e.appointment_id = p_appointment_id
       and e.kind = 'booked'
       and starts_with(e.payload ->> 'callId', 'health-check-'));
end;
$$;

-- RPCs (service_role only) -------------------------------------------------------------------------

-- Creates (or repairs) the health-check clinic: open every day 00:00–24:00 with no closures and no
-- minimum notice, so any future date and time the checks pick is bookable; one default service done
-- by its active provider(s); the assistant mapping `asst_health_check`. Idempotent; never touches
-- another org.
create or replace function public.ensure_health_check_org()
returns json
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_org_id constant uuid := private.health_check_org_id();
  v_assistant_org uuid;
begin
  insert into public.orgs as o (id, name, timezone, phone_region, slot_interval_minutes,
                                min_notice_minutes, booking_horizon_days)
  values (v_org_id, 'Health check (automated test clinic, not a real clinic)', 'America/New_York', 'US',
          30, 0, 730)
  on conflict (id) do update
    set name = excluded.name, timezone = excluded.timezone, phone_region = excluded.phone_region,
        slot_interval_minutes = excluded.slot_interval_minutes,
        min_notice_minutes = excluded.min_notice_minutes,
        booking_horizon_days = excluded.booking_horizon_days;

  insert into public.services as s (org_id, code, name, duration_minutes, buffer_minutes, is_default, active)
  values (v_org_id, 'health-check', 'Health check', 30, 0, true, true)
  on conflict (org_id, code) do update
    set name = excluded.name, duration_minutes = excluded.duration_minutes,
        buffer_minutes = excluded.buffer_minutes, is_default = true, active = true;

  -- one provider (the orgs trigger created it with the org; repaired if it went) doing the service
  insert into public.providers (org_id, display_name)
  select v_org_id, 'Health check'
   where not exists (select 1 from public.providers p where p.org_id = v_org_id and p.active);
  insert into public.provider_services (org_id, provider_id, service_id)
  select v_org_id, p.id, s.id
    from public.providers p
    join public.services s on s.org_id = p.org_id and s.code = 'health-check'
   where p.org_id = v_org_id and p.active
  on conflict do nothing;

  delete from public.closures c where c.org_id = v_org_id;
  delete from public.business_hours bh
   where bh.org_id = v_org_id and (bh.opens_at <> time '00:00' or bh.closes_at <> time '24:00');
  insert into public.business_hours (org_id, weekday, opens_at, closes_at)
  select v_org_id, d, time '00:00', time '24:00'
    from generate_series(0, 6) as d
   where not exists (select 1 from public.business_hours bh where bh.org_id = v_org_id and bh.weekday = d);

  insert into public.vapi_assistants (org_id, assistant_id, label)
  values (v_org_id, 'asst_health_check', 'flask health-check / stress-test')
  on conflict (assistant_id) do nothing;
  select va.org_id into v_assistant_org from public.vapi_assistants va where va.assistant_id = 'asst_health_check';

  return json_build_object(
    'success', true,
    'orgId', v_org_id,
    -- null when the id is already mapped to a real clinic: then the checks claim the org instead
    'assistantId', case when v_assistant_org = v_org_id then 'asst_health_check' end,
    'timezone', (select o.timezone from public.orgs o where o.id = v_org_id));
end;
$$;
grant execute on function public.ensure_health_check_org() to service_role;
comment on function public.ensure_health_check_org() is
  'service_role (health-check / stress-test): create or repair the dedicated health-check clinic (open around the clock, no notice, assistant asst_health_check); idempotent, never touches another org.';

-- What the checks cannot see in the webhook's replies: the stored start and phone of one
-- appointment, and how many rows (any status / active) start at one instant.
create or replace function public.health_check_inspect(
  p_org_id uuid,
  p_appointment_id uuid default null,
  p_scheduled_at timestamptz default null
)
returns json
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_org public.orgs;
begin
  select * into v_org from public.orgs o where o.id = p_org_id;
  if not found or not private.can_act_for_org(p_org_id) then
    return private.error_reply('unknown_org');
  end if;
  return json_build_object(
    'success', true,
    'appointment', (
      select json_build_object(
        'appointmentId', a.id,
        'scheduledAt', private.iso(a.starts_at),
        'status', a.status,
        'patientName', a.patient_name,
        'phone', l.phone,
        'source', a.source)
        from public.appointments a
        join public.leads l on l.org_id = a.org_id and l.id = a.lead_id
       where a.org_id = p_org_id and a.id = p_appointment_id),
    'rowsAtSlot', (select count(*) from public.appointments a
                    where a.org_id = p_org_id and a.starts_at = p_scheduled_at),
    'activeRowsAtSlot', (select count(*) from public.appointments a
                          where a.org_id = p_org_id and a.starts_at = p_scheduled_at
                            and a.status <> 'cancelled'),
    'timezone', v_org.timezone);
end;
$$;
grant execute on function public.health_check_inspect(uuid, uuid, timestamptz) to service_role;
comment on function public.health_check_inspect(uuid, uuid, timestamptz) is
  'service_role (health-check / stress-test): what the webhook replies do not show: one appointment''s stored start and phone, and how many rows (any / active) start at one instant.';

-- Empties the health-check clinic's calendar: its appointments and leads, and its outbox (the one
-- clinic whose audit trail may be purged: it is the checks' own scratch space, and the deletions'
-- own `deleted` events go with it). Takes no org id on purpose: it cannot be pointed at a real clinic.
create or replace function public.clear_health_check_org()
returns json
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_org_id constant uuid := private.health_check_org_id();
  v_events integer;
  v_appointments integer;
  v_leads integer;
begin
  perform private.set_audit_context('operator:health-check', null, 'health-check cleanup');
  delete from public.appointments a where a.org_id = v_org_id;
  get diagnostics v_appointments = row_count;
  delete from public.appointment_events e where e.org_id = v_org_id;
  get diagnostics v_events = row_count;
  delete from public.leads l where l.org_id = v_org_id;
  get diagnostics v_leads = row_count;
  perform private.set_audit_context(null);
  return json_build_object('success', true, 'orgId', v_org_id, 'appointments', v_appointments,
                           'leads', v_leads, 'events', v_events);
end;
$$;
grant execute on function public.clear_health_check_org() to service_role;
comment on function public.clear_health_check_org() is
  'service_role (health-check / stress-test): empty the health-check clinic''s calendar, leads and outbox; takes no org id, so it cannot be pointed at a real clinic.';

-- Removes exactly what a health check created in a given (possibly real) clinic: the listed
-- appointments, and only if they were booked by a health check (the call id); then the leads
-- those bookings created (created in the same transaction as one of them, i.e. same created_at) and
-- that no other appointment uses. A patient who already existed keeps their lead. A real clinic's
-- outbox keeps the checks' `booked` events and gains a `deleted` event per removed booking (actor
-- operator:health-check): its audit trail is never purged. Only in the health-check clinic itself
-- are the removed bookings' events purged too.
create or replace function public.clear_health_check_bookings(p_org_id uuid, p_appointment_ids uuid[])
returns json
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_events integer;
  v_appointments integer;
  v_leads integer;
  v_removed_ids uuid[];
  v_lead_ids uuid[];
  v_created timestamptz[];
begin
  if p_org_id is null or not exists (select 1 from public.orgs o where o.id = p_org_id)
     or not private.can_act_for_org(p_org_id) then
    return private.error_reply('unknown_org');
  end if;

  perform private.set_audit_context('operator:health-check', null, 'health-check cleanup');
  with removed as (
    delete from public.appointments a
     where a.org_id = p_org_id
       and a.id = any (coalesce(p_appointment_ids, '{}'))
       and private.is_health_check_booking(a.org_id, a.id)
    returning a.id, a.lead_id, a.created_at
  )
  select count(*), coalesce(array_agg(r.id), '{}'), coalesce(array_agg(r.lead_id), '{}'),
         coalesce(array_agg(r.created_at), '{}')
    into v_appointments, v_removed_ids, v_lead_ids, v_created
    from removed r;
  perform private.set_audit_context(null);

  v_events := 0;
  if p_org_id = private.health_check_org_id() then
    delete from public.appointment_events e
     where e.org_id = p_org_id and e.appointment_id = any (v_removed_ids);
    get diagnostics v_events = row_count;
  end if;

  delete from public.leads l
   where l.org_id = p_org_id
     and exists (select 1 from unnest(v_lead_ids, v_created) as r(lead_id, created_at)
                  where r.lead_id = l.id and r.created_at = l.created_at)
     and not exists (select 1 from public.appointments a where a.org_id = p_org_id and a.lead_id = l.id);
  get diagnostics v_leads = row_count;

  return json_build_object('success', true, 'orgId', p_org_id, 'appointments', v_appointments,
                           'leads', v_leads, 'events', v_events);
end;
$$;
grant execute on function public.clear_health_check_bookings(uuid, uuid[]) to service_role;
comment on function public.clear_health_check_bookings(uuid, uuid[]) is
  'service_role (health-check / stress-test with --org): remove exactly the listed bookings a health check made (by call id) and the leads they created; a real clinic keeps its audit trail.';
