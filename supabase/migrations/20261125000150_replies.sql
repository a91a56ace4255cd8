-- Replies: the building blocks of every RPC's JSON answer (docs/rpc-contract.md). One place for the
-- timestamp format, the `service` object, the refusal messages and the error shapes, so a reply
-- looks the same whichever domain answers it. Before every migration whose functions build replies.
-- Not here: private.slot_refusal_reply (it computes alternatives: 20261125000400_scheduling.sql) and
-- private.booking_reply (it takes a public.appointments row, which exists only from
-- 20261125000300_booking.sql on; it lives with the booking in 20261125000500_rpc.sql).
-- plpgsql even where one SELECT would do: with `set search_path = ''` a SQL function is never
-- inlined, and a non-inlined SQL function called from plpgsql is parsed and planned again on every
-- call, while plpgsql keeps its plans for the session (bench/README.md, "What the profiles found").
-- The table a builder reads (public.services, public.orgs) is resolved when it runs.

-- Helpers (private) --------------------------------------------------------------------------------

-- ISO-8601 UTC with Z, the only timestamp format in RPC replies.
create or replace function private.iso(p_ts timestamptz)
returns text
language plpgsql
stable
set search_path = ''
as $$
begin
  return to_char(p_ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"');
end;
$$;

-- Array of instants → JSON array of ISO strings, chronological.
create or replace function private.iso_array(p_ts timestamptz[])
returns json
language plpgsql
stable
set search_path = ''
as $$
begin
  return (select coalesce(json_agg(private.iso(t) order by t), '[]'::json)
            from unnest(p_ts) as t);
end;
$$;

-- The reply's `service` object.
create or replace function private.service_json(p_org_id uuid, p_service_id uuid)
returns json
language plpgsql
stable
set search_path = ''
as $$
begin
  return (select json_build_object(
                   'code', s.code,
                   'name', s.name,
                   'durationMinutes', s.duration_minutes,
                   'bufferMinutes', s.buffer_minutes)
            from public.services s
           where s.org_id = p_org_id and s.id = p_service_id);
end;
$$;

-- unknown_service: the caller named something that is none of the clinic's services
-- (private.resolve_service). `services` lists the active ones to offer, the default first, then by name;
-- `named` (only when the phrase named two or more of them, private.services_named: "checkup and flu
-- shot") lists those, in the order said, so the voice asks which to book first.
create or replace function private.unknown_service_reply(p_org public.orgs, p_named uuid[] default null)
returns json
language plpgsql
stable
set search_path = ''
as $$
begin
  return (jsonb_build_object(
    'success', false,
    'error', 'unknown_service',
    'message', case when p_named is null then 'No service of this clinic matches that'
                    else 'Several services named: book one at a time' end,
    'services', coalesce((select jsonb_agg(jsonb_build_object('code', s.code, 'name', s.name)
                                           order by s.is_default desc, s.name)
                            from public.services s
                           where s.org_id = p_org.id and s.active), '[]'::jsonb),
    'timezone', p_org.timezone)
    || case when p_named is null then '{}'::jsonb
            else jsonb_build_object('named', (select jsonb_agg(jsonb_build_object('code', s.code, 'name', s.name)
                                                               order by t.n)
                                                from unnest(p_named) with ordinality as t(id, n)
                                                join public.services s on s.org_id = p_org.id and s.id = t.id))
       end)::json;
end;
$$;

-- Operator-readable message per refusal code.
create or replace function private.refusal_message(p_code text, p_has_alternatives boolean)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
  return case p_code
    when 'slot_unavailable' then
      case when p_has_alternatives then 'Slot taken, alternatives available'
           else 'Slot taken, no alternatives available within the booking horizon' end
    when 'outside_business_hours' then 'Requested time is outside business hours'
    when 'ends_after_closing' then 'The visit would not end before the clinic closes'
    when 'closed' then 'The clinic is closed at the requested time'
    when 'in_past' then 'Requested time is in the past'
    when 'too_soon' then 'Requested time is sooner than the minimum booking notice'
    when 'too_far_ahead' then 'Requested time is beyond the booking horizon'
    when 'unknown_org' then 'Unknown organization'
    when 'not_found' then 'Appointment not found'
    when 'already_cancelled' then 'Appointment is already cancelled'
    else 'Invalid input'
  end;
end;
$$;

-- A plain error reply (no alternatives, no clinic).
create or replace function private.error_reply(p_code text, p_message text default null)
returns json
language plpgsql
immutable
set search_path = ''
as $$
begin
  return json_build_object(
    'success', false,
    'error', p_code,
    'message', coalesce(p_message, private.refusal_message(p_code, false)));
end;
$$;

-- A refusal that concerns a known clinic (with its time zone, like every other reply about one).
create or replace function private.caller_refusal(p_org public.orgs, p_code text, p_message text)
returns json
language plpgsql
stable
set search_path = ''
as $$
begin
  return json_build_object('success', false, 'error', p_code, 'message', p_message, 'timezone', p_org.timezone);
end;
$$;
