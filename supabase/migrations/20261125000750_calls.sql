-- Calls: the whole call, not only its tool calls (issue 12).
--
-- Vapi sends more than tool calls to the webhook; these of its messages need the database:
--   * `assistant-request` — which assistant answers a call to one of our numbers, with today's
--     facts of the clinic (date, time, hours in its own zone) as variables
--     (public.resolve_assistant_request);
--   * `end-of-call-report` — one row per call in public.calls, idempotent on the Vapi call id,
--     linked to what the call did and given an outcome decided here (public.record_call_report;
--     public.mark_call_ended when only a status update says the call ended; public.mark_call_hang
--     counts Vapi's `hang` notices — the assistant was delayed — on the row without ending the call).
--     A call's row is born in one place, private.ensure_call, whichever of them comes first
--     (status-update and hang messages come from the same call over its whole length);
--   * `transfer-destination-request` — the clinic's front desk during its transfer hours
--     (public.transfer_destination).
-- And one tool: `takeMessage` stores a call-back request (public.take_message), which staff mark
-- done. Transcripts, messages and recordings are health information: public.purge_call_artifacts()
-- drops them past each clinic's retention and keeps the outcome row.
--
-- How a call is linked to what it did: every booking, reschedule and cancellation made for a caller
-- leaves a caller_access_log row carrying the Vapi call id (20261125000550_callers.sql); the view
-- public.call_appointments reads them. Call-back requests carry the call id themselves.
--
-- Outcome of a call (private.call_outcome), first match wins — what the call did beats how it ended.
-- What an appointment counts as is its NET effect within the call: booked then cancelled in the same
-- call counts as nothing (the clinic never had it), booked then moved as booked, moved then
-- cancelled as cancelled. The links (call_appointments) keep every step.
--   1. booked        an appointment was booked under the call id (and is not cancelled in it)
--   2. rescheduled   one was moved
--   3. cancelled     one (that existed before the call) was cancelled
--   4. message_taken a call-back request was stored under the call id
--   5. transferred   endedReason says the call was forwarded (assistant-forwarded-call, …)
--   6. failed        endedReason is an error / fault / failed start (private.ended_reason_class)
--   7. abandoned     the caller ended the call (hang-up, silence, no audio) and there is evidence
--                    it was early: shorter than 30 s, or the caller never spoke (no `user` message)
--   8. info_only     anything else: the caller was answered and nothing was changed
-- All RPCs here are service_role only (the webhook and the operator commands); members read the
-- tables and views through RLS.

-- Tables -------------------------------------------------------------------------------------------

-- Per-clinic call settings; no row = every default (private.call_settings documents them).
-- One row per clinic, managed by its members from the dashboard.
create table public.clinic_call_settings (
  org_id uuid primary key references public.orgs (id) on delete cascade,
  front_desk_number text,
  transcript_retention_days integer not null default 30,
  first_message text,
  voice jsonb,
  model jsonb,
  server_credential_id text,
  transfer_message text,
  updated_at timestamptz not null default now(),
  constraint clinic_call_settings_front_desk_e164 check (front_desk_number is null or private.is_e164(front_desk_number)),
  constraint clinic_call_settings_retention_range check (transcript_retention_days between 1 and 3650),
  constraint clinic_call_settings_first_message_length check (btrim(first_message) <> '' and char_length(first_message) <= 1000),
  constraint clinic_call_settings_transfer_message_length check (btrim(transfer_message) <> '' and char_length(transfer_message) <= 500),
  constraint clinic_call_settings_voice_object check (jsonb_typeof(voice) = 'object' and octet_length(voice::text) <= 4000),
  -- The transient assistant's model block: only these keys. Never messages/tools/toolIds: the
  -- enforced system prompt and the tool list are the service's, a clinic setting cannot replace them.
  constraint clinic_call_settings_model_keys check (
    jsonb_typeof(model) = 'object'
    and model - array['provider', 'model', 'temperature', 'maxTokens', 'emotionRecognitionEnabled', 'numFastTurns'] = '{}'::jsonb
    and octet_length(model::text) <= 2000),
  constraint clinic_call_settings_credential_id_format check (
    char_length(server_credential_id) between 1 and 200 and server_credential_id !~ '[[:space:][:cntrl:]/]')
);
comment on table public.clinic_call_settings is 'Per-clinic call settings (front desk number, transcript retention, transient assistant settings); no row = the defaults of private.call_settings. Members manage their clinic''s row.';
comment on column public.clinic_call_settings.front_desk_number is 'E.164 number calls are transferred to during transfer hours; NULL = no transfers.';
comment on column public.clinic_call_settings.transcript_retention_days is 'Days after a call ends before purge_call_artifacts() drops its transcript, messages and recording URL (1..3650, default 30).';
comment on column public.clinic_call_settings.first_message is 'First sentence of the transient assistant; NULL = "Thank you for calling <clinic>. How can I help you today?".';
comment on column public.clinic_call_settings.voice is 'Vapi voice object of the transient assistant; NULL = {"provider": "vapi", "voiceId": "Elliot"}.';
comment on column public.clinic_call_settings.model is 'Vapi model settings of the transient assistant (provider, model, temperature, maxTokens, emotionRecognitionEnabled, numFastTurns only); NULL = {"provider": "openai", "model": "gpt-4o", "temperature": 0.3}.';
comment on column public.clinic_call_settings.server_credential_id is 'Vapi credentialId (in the clinic''s own Vapi account) the transient assistant authenticates to our webhook with; referenced, never a secret.';
comment on column public.clinic_call_settings.transfer_message is 'What the assistant says before transferring to the front desk; NULL = the service''s default line.';

-- When a caller may be put through to the front desk, in clinic-local wall-clock time, several
-- intervals per weekday allowed. A clinic without rows transfers during its business hours.
create table public.transfer_hours (
  org_id uuid not null references public.orgs (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  weekday smallint not null,
  opens_at time not null,
  closes_at time not null,
  primary key (org_id, id),
  constraint transfer_hours_weekday_range check (weekday between 0 and 6),
  constraint transfer_hours_open_before_close check (opens_at < closes_at)
);
comment on table public.transfer_hours is 'Weekly intervals (clinic-local) in which calls may be transferred to the front desk; a clinic without rows uses its business hours. Closures apply either way.';
comment on column public.transfer_hours.weekday is '0 = Sunday … 6 = Saturday (as extract(dow)).';

-- One row per call, from Vapi's end-of-call-report (or a status update that says it ended, or a
-- `hang` notice during the call).
-- Written only by the service (service_role); members read their clinic's calls.
create table public.calls (
  org_id uuid not null references public.orgs (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  vapi_call_id text not null,
  assistant_id text,
  phone_number_id text,
  caller_number text,
  started_at timestamptz,
  ended_at timestamptz,
  duration_seconds numeric,
  ended_reason text,
  cost numeric,
  summary text,
  success_evaluation text,
  recording_url text,
  transcript text,
  messages jsonb,
  outcome text not null,
  status text not null default 'in_progress',
  hang_count integer not null default 0,
  last_hang_at timestamptz,
  reported_at timestamptz,
  artifacts_purged_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (org_id, id),
  constraint calls_org_vapi_call_id_key unique (org_id, vapi_call_id),
  constraint calls_vapi_call_id_length check (char_length(vapi_call_id) between 1 and 200),
  constraint calls_ids_length check (char_length(assistant_id) <= 200 and char_length(phone_number_id) <= 200),
  constraint calls_caller_number_e164 check (caller_number is null or private.is_e164(caller_number)),
  constraint calls_duration_nonnegative check (duration_seconds >= 0),
  constraint calls_cost_nonnegative check (cost >= 0),
  constraint calls_text_lengths check (
    char_length(ended_reason) <= 200 and char_length(summary) <= 20000
    and char_length(success_evaluation) <= 2000 and char_length(transcript) <= 500000),
  constraint calls_recording_url_http check (recording_url ~* '^https?://' and char_length(recording_url) <= 2000),
  constraint calls_messages_array check (jsonb_typeof(messages) = 'array'),
  constraint calls_outcome_valid check (outcome in (
    'booked', 'rescheduled', 'cancelled', 'message_taken', 'info_only', 'transferred', 'abandoned', 'failed')),
  constraint calls_status_valid check (status in ('in_progress', 'ended')),
  constraint calls_hang_count_nonnegative check (hang_count >= 0),
  constraint calls_hangs_together check ((hang_count = 0) = (last_hang_at is null)),
  constraint calls_purged_means_empty check (
    artifacts_purged_at is null or (transcript is null and messages is null and recording_url is null))
);
comment on table public.calls is 'One row per Vapi call (end-of-call-report, idempotent on the call id), with the outcome decided in SQL. Transcript, messages and recording URL are health information, dropped by purge_call_artifacts() past the clinic''s retention. Written by service_role only; members read theirs.';
comment on column public.calls.vapi_call_id is 'Vapi call.id (clamped to 200 characters, as in every caller context); unique per clinic.';
comment on column public.calls.caller_number is 'E.164 caller ID from the phone network, or NULL (withheld / not a phone call).';
comment on column public.calls.outcome is 'booked > rescheduled > cancelled > message_taken > transferred > failed > abandoned > info_only: the first that applies (20261125000750_calls.sql).';
comment on column public.calls.status is 'in_progress until an end-of-call-report or an ended status update arrives (a hang notice never ends a call).';
comment on column public.calls.hang_count is 'How many times Vapi said the assistant was delayed (`hang`: a slow model, voice or tool) during the call; 0 = never.';
comment on column public.calls.last_hang_at is 'When the latest `hang` notice was sent (Vapi''s timestamp, else when it arrived); NULL = never.';
comment on column public.calls.reported_at is 'When the last end-of-call-report was stored; NULL = only an ended status update was seen.';
comment on column public.calls.artifacts_purged_at is 'When transcript, messages and recording URL were dropped (retention); the row and its outcome stay.';

-- A caller's request to be called back (the takeMessage tool), for staff to work through.
create table public.callback_requests (
  org_id uuid not null references public.orgs (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  vapi_call_id text,
  caller_name text not null,
  callback_number text not null,
  reason text not null,
  preferred_time text,
  status text not null default 'open',
  done_at timestamptz,
  done_by uuid,
  created_at timestamptz not null default now(),
  primary key (org_id, id),
  constraint callback_requests_vapi_call_id_length check (char_length(vapi_call_id) between 1 and 200),
  constraint callback_requests_caller_name_length check (btrim(caller_name) <> '' and char_length(caller_name) <= 200),
  constraint callback_requests_callback_number_e164 check (private.is_e164(callback_number)),
  constraint callback_requests_reason_length check (btrim(reason) <> '' and char_length(reason) <= 1000),
  constraint callback_requests_preferred_time_length check (char_length(preferred_time) <= 200),
  constraint callback_requests_status_valid check (status in ('open', 'done')),
  constraint callback_requests_done_together check ((status = 'done') = (done_at is not null))
);
comment on table public.callback_requests is 'Call-back requests taken by the assistant (takeMessage), linked to the call by its Vapi call id. Members read them and mark them done (status only).';
comment on column public.callback_requests.preferred_time is 'When the caller would like to be called back, as they said it (free text).';
comment on column public.callback_requests.done_by is 'auth user id of the member who marked it done (NULL when the service did). No foreign key: a record, not a reference.';

-- Constraints / indexes ----------------------------------------------------------------------------

-- Two transfer intervals of one weekday must not overlap (as business_hours).
alter table public.transfer_hours
  add constraint transfer_hours_no_overlap exclude using gist (
    org_id with =,
    weekday with =,
    tsrange(date '2000-01-02' + opens_at, date '2000-01-02' + closes_at) with &&
  );

-- A clinic's transfer hours of one weekday (open_ranges); the GiST exclusion index is slower to read.
create index transfer_hours_org_weekday_idx on public.transfer_hours (org_id, weekday);
-- call_log lists a clinic's calls newest first.
create index calls_org_started_idx on public.calls (org_id, started_at desc);
-- The purge reads only rows that still hold something to drop.
create index calls_artifacts_idx on public.calls (ended_at)
  where artifacts_purged_at is null and (transcript is not null or messages is not null or recording_url is not null);
-- A call's call-back requests, and the open list.
create index callback_requests_org_call_idx on public.callback_requests (org_id, vapi_call_id);
create index callback_requests_open_idx on public.callback_requests (org_id, created_at) where status = 'open';
-- A retried takeMessage (same call, number and reason) finds the open request instead of adding one.
create unique index callback_requests_open_dedup_key
  on public.callback_requests (org_id, vapi_call_id, callback_number, md5(reason))
  where vapi_call_id is not null and status = 'open';

create trigger clinic_call_settings_set_updated_at before update on public.clinic_call_settings
  for each row execute function private.set_updated_at();
create trigger calls_set_updated_at before update on public.calls
  for each row execute function private.set_updated_at();

-- Helpers (private) --------------------------------------------------------------------------------

-- Marking a call-back request done (or open again) records when and by whom; members may update
-- only `status`, so these two follow from it and cannot be forged.
create or replace function private.callback_request_status()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.status is distinct from old.status then
    if new.status = 'done' then
      new.done_at := now();
      new.done_by := (select auth.uid());
    else
      new.done_at := null;
      new.done_by := null;
    end if;
  end if;
  return new;
end;
$$;

create trigger callback_requests_status before update on public.callback_requests
  for each row execute function private.callback_request_status();

-- The clinic's effective call settings: its row where set, the documented defaults elsewhere.
create or replace function private.call_settings(p_org public.orgs)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  v_row public.clinic_call_settings;
begin
  select * into v_row from public.clinic_call_settings s where s.org_id = p_org.id;
  return jsonb_build_object(
    'frontDeskNumber', v_row.front_desk_number,
    'transcriptRetentionDays', coalesce(v_row.transcript_retention_days, 30),
    'firstMessage', coalesce(v_row.first_message,
                             format('Thank you for calling %s. How can I help you today?', p_org.name)),
    'voice', coalesce(v_row.voice, '{"provider": "vapi", "voiceId": "Elliot"}'::jsonb),
    'model', coalesce(v_row.model, '{"provider": "openai", "model": "gpt-4o", "temperature": 0.3}'::jsonb),
    'serverCredentialId', v_row.server_credential_id,
    'transferMessage', v_row.transfer_message);
end;
$$;

-- When the clinic is open (p_transfer = false: business hours) or transfers calls (p_transfer:
-- transfer_hours, or business hours when it has none) on one clinic-local day, as instants, minus
-- closures. Wall clock → instant with AT TIME ZONE, so DST days come out right; intervals never
-- cross midnight (closes_at <= 24:00), so the local day is all there is to read. The weekday is
-- compared as smallint (extract returns numeric, which would keep the (org_id, weekday) indexes unused).
create or replace function private.open_ranges(p_org_id uuid, p_timezone text, p_day date, p_transfer boolean)
returns tstzmultirange
language plpgsql
stable
set search_path = ''
as $$
declare
  v_use_transfer boolean := p_transfer
    and exists (select 1 from public.transfer_hours t where t.org_id = p_org_id);
  v_open tstzmultirange;
  v_closed tstzmultirange;
begin
  select coalesce(range_agg(tstzrange(h.lo, greatest(h.lo, h.hi), '[)')), '{}')
    into v_open
    from (select (p_day + t.opens_at) at time zone p_timezone as lo, (p_day + t.closes_at) at time zone p_timezone as hi
            from public.transfer_hours t
           where v_use_transfer and t.org_id = p_org_id and t.weekday = extract(dow from p_day)::smallint
          union all
          select (p_day + b.opens_at) at time zone p_timezone, (p_day + b.closes_at) at time zone p_timezone
            from public.business_hours b
           where not v_use_transfer and b.org_id = p_org_id and b.weekday = extract(dow from p_day)::smallint) h;
  if isempty(v_open) then
    return v_open;
  end if;
  select coalesce(range_agg(c.during), '{}')
    into v_closed
    from public.closures c
   where c.org_id = p_org_id and c.during && range_merge(v_open);
  return v_open - v_closed;
end;
$$;

-- A clinic-local time as the assistant says it: "2:05 PM", "midnight".
create or replace function private.spoken_time(p_at timestamptz, p_timezone text)
returns text
language plpgsql
stable
set search_path = ''
as $$
begin
  if (p_at at time zone p_timezone)::time = time '00:00' then
    return 'midnight';
  end if;
  return to_char(p_at at time zone p_timezone, 'FMHH12:MI AM');
end;
$$;

-- One day's open ranges as the assistant says them: "9:00 AM to 12:00 PM and 1:00 PM to 5:00 PM",
-- "open 24 hours" or "closed".
create or replace function private.spoken_ranges(p_ranges tstzmultirange, p_timezone text, p_day date)
returns text
language plpgsql
stable
set search_path = ''
as $$
begin
  if p_ranges is null or isempty(p_ranges) then
    return 'closed';
  end if;
  if p_ranges = tstzmultirange(tstzrange(p_day::timestamp at time zone p_timezone,
                                         (p_day + 1)::timestamp at time zone p_timezone, '[)')) then
    return 'open 24 hours';
  end if;
  return (select string_agg(private.spoken_time(lower(r), p_timezone) || ' to ' || private.spoken_time(upper(r), p_timezone),
                            ' and ' order by lower(r))
            from unnest(p_ranges) r);
end;
$$;

-- Who works at the clinic on a clinic-local day, for the assistant's variables: [{"name", "hours"}]
-- by name, "hours" said like hoursToday. p_open: the clinic's open ranges that day (open_ranges,
-- closures already out). A provider's working time is its provider_hours of that weekday within them
-- (all of them when it has no provider_hours rows at all), minus its time off; a provider with
-- nothing left is not listed. A clinic with one active provider lists nobody: it never names its
-- provider, as get_org_profile's providerCount tells the prompt (a one-provider clinic sounds exactly
-- as before providers existed).
create or replace function private.providers_on_day(p_org_id uuid, p_timezone text, p_day date, p_open tstzmultirange)
returns json
language plpgsql
stable
set search_path = ''
as $$
begin
  if p_open is null or isempty(p_open)
     or not exists (select 1 from public.providers p where p.org_id = p_org_id and p.active offset 1) then
    return '[]'::json;
  end if;
  return coalesce((
    select json_agg(json_build_object('name', w.display_name,
                                      'hours', private.spoken_ranges(w.working, p_timezone, p_day))
                    order by w.display_name, w.id)
      from (select p.id, p.display_name,
                   case when exists (select 1 from public.provider_hours h
                                      where h.org_id = p.org_id and h.provider_id = p.id)
                        then p_open * coalesce((
                               select range_agg(tstzrange(x.lo, greatest(x.lo, x.hi), '[)'))
                                 from (select (p_day + h.opens_at) at time zone p_timezone as lo,
                                              (p_day + h.closes_at) at time zone p_timezone as hi
                                         from public.provider_hours h
                                        where h.org_id = p.org_id and h.provider_id = p.id
                                          and h.weekday = extract(dow from p_day)::smallint) x), '{}')
                        else p_open
                   end
                   - coalesce((select range_agg(t.during) from public.provider_time_off t
                                where t.org_id = p.org_id and t.provider_id = p.id
                                  and t.during && range_merge(p_open)), '{}') as working
              from public.providers p
             where p.org_id = p_org_id and p.active) w
     where not isempty(w.working)), '[]'::json);
end;
$$;

-- How a Vapi endedReason ended the call (docs.vapi.ai/calls/call-ended-reason):
--   transferred  — forwarded to a number (the assistant's transfer, a transfer hook);
--   caller_ended — the caller hung up, went silent, sent no audio, or the line closed from their side;
--   failed       — an error, a provider fault, a failed start or assistant request;
--   ended        — any other normal end (the assistant ended it, max duration, …); NULL for none.
create or replace function private.ended_reason_class(p_reason text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
  v text := lower(btrim(p_reason));
begin
  if v is null or v = '' then
    return null;
  end if;
  if v in ('assistant-forwarded-call', 'assistant-request-returned-forwarding-phone-number')
     or v like '%hook-executed-transfer' then
    return 'transferred';
  end if;
  if v in ('customer-ended-call', 'customer-ended-call-before-warm-transfer',
           'customer-ended-call-after-warm-transfer-attempt', 'customer-ended-call-during-transfer',
           'silence-timed-out', 'customer-did-not-give-microphone-permission',
           'call.in-progress.error-assistant-did-not-receive-customer-audio',
           'call.ringing.sip-inbound-caller-hungup-before-call-connect',
           'customer-busy', 'customer-did-not-answer', 'voicemail',
           'call.in-progress.twilio-completed-call', 'call.in-progress.sip-completed-call',
           'vonage-completed', 'vonage-disconnected') then
    return 'caller_ended';
  end if;
  if v ~ '(error|fault|failed|died|not-found|not-valid|not-provided|not-invalid|join-timed-out|rejected|misdialed|shutdown|closed-websocket|never-connected|no-server-available|license-check|not-available|^pipeline-|^call\.start\.|^call-start-|^assistant-request-)' then
    return 'failed';
  end if;
  return 'ended';
end;
$$;

-- The outcome of one call (precedence in the header of this file). p_messages: the call's messages
-- (NULL when unknown or purged); p_duration in seconds (NULL when unknown). "Abandoned" needs
-- evidence that the call was early: a known duration under 30 s, or known messages without a
-- single `user` turn.
create or replace function private.call_outcome(
  p_org_id uuid,
  p_call_id text,
  p_ended_reason text,
  p_duration numeric,
  p_messages jsonb
)
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
  v_kinds text[];
  v_class text := private.ended_reason_class(p_ended_reason);
  v_user_turns integer;
begin
  -- the net effect per appointment: booked and cancelled in this call = nothing (it never existed
  -- for the clinic); booked (and maybe moved) = booked; moved then cancelled = cancelled
  v_kinds := array(
    select distinct case
             when bool_or(a.kind = 'booked') and bool_or(a.kind = 'cancelled') then null
             when bool_or(a.kind = 'booked') then 'booked'
             when bool_or(a.kind = 'cancelled') then 'cancelled'
             else 'rescheduled' end
      from public.call_appointments a
     where a.org_id = p_org_id and a.vapi_call_id = p_call_id
     group by a.appointment_id);
  if 'booked' = any (v_kinds) then
    return 'booked';
  elsif 'rescheduled' = any (v_kinds) then
    return 'rescheduled';
  elsif 'cancelled' = any (v_kinds) then
    return 'cancelled';
  end if;
  if exists (select 1 from public.callback_requests r where r.org_id = p_org_id and r.vapi_call_id = p_call_id) then
    return 'message_taken';
  end if;
  if v_class = 'transferred' then
    return 'transferred';
  elsif v_class = 'failed' then
    return 'failed';
  elsif v_class = 'caller_ended' then
    if jsonb_typeof(p_messages) = 'array' then
      select count(*) into v_user_turns from jsonb_array_elements(p_messages) m where m ->> 'role' = 'user';
    end if;
    if p_duration < 30 or v_user_turns = 0 then
      return 'abandoned';
    end if;
  end if;
  return 'info_only';
end;
$$;

-- Recomputes a stored call's outcome (after something was linked to it later); NULL = no such row.
create or replace function private.refresh_call_outcome(p_org_id uuid, p_call_id text)
returns text
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_outcome text;
begin
  update public.calls c
     set outcome = private.call_outcome(c.org_id, c.vapi_call_id, c.ended_reason, c.duration_seconds, c.messages)
   where c.org_id = p_org_id and c.vapi_call_id = p_call_id
  returning c.outcome into v_outcome;
  return v_outcome;
end;
$$;

-- Lenient readers for report fields: a value Vapi did not send as expected becomes NULL, and the
-- rest of the report is still stored.
create or replace function private.jsonb_timestamptz(p_value jsonb)
returns timestamptz
language plpgsql
stable
set search_path = ''
as $$
begin
  if jsonb_typeof(p_value) <> 'string' or char_length(p_value #>> '{}') > 64 then
    return null;
  end if;
  return (p_value #>> '{}')::timestamptz;
exception when others then
  return null;
end;
$$;

create or replace function private.jsonb_numeric(p_value jsonb)
returns numeric
language plpgsql
immutable
set search_path = ''
as $$
declare
  v numeric;
begin
  if jsonb_typeof(p_value) not in ('number', 'string') or char_length(p_value #>> '{}') > 40 then
    return null;
  end if;
  v := (p_value #>> '{}')::numeric;
  return case when v = 'NaN'::numeric or v < 0 or v > 1e12 then null else v end;
exception when others then
  return null;
end;
$$;

-- A call's duration in seconds from its start and end (NULL when either is unknown or the end is
-- before the start): one definition for a report without durationSeconds and an ended status update.
create or replace function private.call_duration_seconds(p_started timestamptz, p_ended timestamptz)
returns numeric
language plpgsql
immutable
set search_path = ''
as $$
begin
  return case when p_ended >= p_started then trim_scale(extract(epoch from p_ended - p_started)) end;
end;
$$;

-- The id of the clinic's row for a call, created bare (in_progress, nothing known yet, an outcome
-- from what the call did so far) when there is none: the one place a calls row is born, for
-- record_call_report, mark_call_ended and mark_call_hang alike, which then update it. Race-safe: two
-- first messages of one call (a report and a status update, hang after hang) insert the same
-- (org_id, vapi_call_id); ON CONFLICT DO NOTHING waits for the other insert to commit and this finds
-- its row, and the callers' UPDATEs serialise on the row lock, each applied to the latest version.
-- p_call_id is already clamped (left(btrim(…), 200), as every caller context).
create or replace function private.ensure_call(p_org_id uuid, p_call_id text)
returns uuid
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_id uuid;
begin
  insert into public.calls (org_id, vapi_call_id, outcome)
  values (p_org_id, p_call_id, private.call_outcome(p_org_id, p_call_id, null, null, null))
  on conflict (org_id, vapi_call_id) do nothing
  returning id into v_id;
  if v_id is null then
    select c.id into v_id from public.calls c where c.org_id = p_org_id and c.vapi_call_id = p_call_id;
  end if;
  return v_id;
end;
$$;

-- A call message's row (mark_call_ended, mark_call_hang): the clinic authorised first, the Vapi call
-- id clamped as every caller context (left(btrim(…), 200)), the row found or born
-- (private.ensure_call) — or the refusal reply (no clinic id, a clinic the caller may not act for, no
-- call id). One owner of that preamble, so the two messages cannot drift apart.
create or replace function private.call_row_of(p_org_id uuid, p_call_id text, out call_row_id uuid, out refusal json)
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_org public.orgs;
  v_call_id text := left(nullif(btrim(p_call_id), ''), 200);
begin
  if p_org_id is null then
    refusal := private.error_reply('invalid_input', 'Organization id is required');
    return;
  end if;
  select * into v_org from public.orgs o where o.id = p_org_id;
  if not found or not private.can_act_for_org(p_org_id) then
    refusal := private.error_reply('unknown_org');
    return;
  end if;
  if v_call_id is null then
    refusal := private.field_refusal(v_org, 'callId', 'The call id is required');
    return;
  end if;
  call_row_id := private.ensure_call(p_org_id, v_call_id);
end;
$$;

-- The reply of record_call_report / mark_call_ended / mark_call_hang for one stored call.
create or replace function private.call_reply(p_call public.calls)
returns json
language plpgsql
stable
set search_path = ''
as $$
begin
  return json_build_object(
    'success', true,
    'callId', p_call.vapi_call_id,
    'outcome', p_call.outcome,
    'status', p_call.status,
    'reported', p_call.reported_at is not null,
    'linkedAppointments', coalesce((
      select json_agg(json_build_object('appointmentId', a.appointment_id, 'kind', a.kind)
                      order by a.first_at, a.appointment_id, a.kind)
        from public.call_appointments a
       where a.org_id = p_call.org_id and a.vapi_call_id = p_call.vapi_call_id), '[]'::json),
    'callbackRequestIds', coalesce((
      select json_agg(r.id order by r.created_at, r.id)
        from public.callback_requests r
       where r.org_id = p_call.org_id and r.vapi_call_id = p_call.vapi_call_id), '[]'::json),
    'timezone', (select o.timezone from public.orgs o where o.id = p_call.org_id));
end;
$$;

-- An invalid_input refusal naming the argument at fault.
create or replace function private.field_refusal(p_org public.orgs, p_field text, p_message text)
returns json
language plpgsql
stable
set search_path = ''
as $$
begin
  return json_build_object('success', false, 'error', 'invalid_input', 'field', p_field,
                           'message', p_message, 'timezone', p_org.timezone);
end;
$$;

-- RLS ----------------------------------------------------------------------------------------------
alter table public.clinic_call_settings enable row level security;
alter table public.transfer_hours enable row level security;
alter table public.calls enable row level security;
alter table public.callback_requests enable row level security;

-- Members manage their clinic's call settings and transfer hours (one `for all` policy per table;
-- the grants below say which commands).
create policy clinic_call_settings_member on public.clinic_call_settings for all to authenticated
  using (org_id in (select private.member_org_ids())) with check (org_id in (select private.member_org_ids()));

create policy transfer_hours_member on public.transfer_hours for all to authenticated
  using (org_id in (select private.member_org_ids())) with check (org_id in (select private.member_org_ids()));

-- Calls are the service's record: members read them, nobody but service_role writes.
create policy calls_member_select on public.calls for select to authenticated
  using (org_id in (select private.member_org_ids()));

-- Call-back requests: members read them and mark them done (the status column only).
create policy callback_requests_member_select on public.callback_requests for select to authenticated
  using (org_id in (select private.member_org_ids()));
create policy callback_requests_member_update on public.callback_requests for update to authenticated
  using (org_id in (select private.member_org_ids())) with check (org_id in (select private.member_org_ids()));

-- Views --------------------------------------------------------------------------------------------

-- Which appointments each call booked, rescheduled or cancelled: read from the access log, which
-- every booking / change made for a caller writes with the call id (refusals and lookups are not
-- links). One row per (call, appointment, kind); first_at = when the call first did it.
create view public.call_appointments
with (security_invoker = true)
as
select
  g.org_id,
  g.call_id as vapi_call_id,
  x.appointment_id,
  case g.action when 'book' then 'booked' when 'reschedule' then 'rescheduled' else 'cancelled' end as kind,
  min(g.occurred_at) as first_at
from public.caller_access_log g
cross join lateral unnest(g.appointment_ids) as x(appointment_id)
where g.call_id is not null
  and ((g.action = 'book' and g.outcome = 'booked')
       or (g.action in ('reschedule', 'cancel') and g.outcome = 'changed'))
group by g.org_id, g.call_id, x.appointment_id, g.action;
comment on view public.call_appointments is 'Appointments booked / rescheduled / cancelled under each Vapi call id (from caller_access_log). RLS of the caller applies.';

-- The call log a clinic reads in Studio: one line per call, clinic-local start, what it did.
create view public.call_log
with (security_invoker = true)
as
select
  c.org_id,
  o.name as clinic_name,
  c.vapi_call_id as call_id,
  c.started_at at time zone o.timezone as local_started_at,
  c.started_at,
  c.ended_at,
  c.caller_number,
  c.duration_seconds,
  c.outcome,
  c.status,
  c.ended_reason,
  c.hang_count,
  c.last_hang_at,
  c.summary,
  c.success_evaluation,
  c.cost,
  coalesce(l.appointments, '[]'::jsonb) as appointments,
  coalesce(l.appointment_ids, '{}'::uuid[]) as appointment_ids,
  coalesce(r.callback_request_ids, '{}'::uuid[]) as callback_request_ids,
  c.transcript is not null as has_transcript,
  c.recording_url,
  c.artifacts_purged_at,
  o.timezone
from public.calls c
join public.orgs o on o.id = c.org_id
left join lateral (
  select jsonb_agg(jsonb_build_object('appointmentId', a.appointment_id, 'kind', a.kind)
                   order by a.first_at, a.appointment_id, a.kind) as appointments,
         array_agg(distinct a.appointment_id) as appointment_ids
    from public.call_appointments a
   where a.org_id = c.org_id and a.vapi_call_id = c.vapi_call_id) l on true
left join lateral (
  select array_agg(cr.id order by cr.created_at, cr.id) as callback_request_ids
    from public.callback_requests cr
   where cr.org_id = c.org_id and cr.vapi_call_id = c.vapi_call_id) r on true;
comment on view public.call_log is 'One line per call: clinic-local start, caller, duration, outcome, how often the assistant was delayed (hang_count, last_hang_at), summary, linked appointments (id + kind) and call-back requests. RLS of the caller applies.';

-- The call-back requests still to be done, oldest first when ordered by created_at.
create view public.open_callback_requests
with (security_invoker = true)
as
select
  r.org_id,
  o.name as clinic_name,
  r.id,
  r.created_at,
  r.created_at at time zone o.timezone as local_created_at,
  r.caller_name,
  r.callback_number,
  r.reason,
  r.preferred_time,
  r.vapi_call_id as call_id,
  o.timezone
from public.callback_requests r
join public.orgs o on o.id = r.org_id
where r.status = 'open';
comment on view public.open_callback_requests is 'Open call-back requests with the clinic-local time they were taken; mark one done by updating callback_requests.status. RLS of the caller applies.';

-- Privileges ---------------------------------------------------------------------------------------
-- New objects start closed (20261125000100_orgs.sql). Members: settings and transfer hours under
-- RLS; calls read only; call-back requests read, and `status` updatable (mark done); the views read
-- only. service_role keeps the platform default (it is the service).
grant select, insert, update, delete on public.clinic_call_settings, public.transfer_hours to authenticated;
grant select on public.calls to authenticated;
grant select on public.callback_requests to authenticated;
grant update (status) on public.callback_requests to authenticated;
grant select on public.call_appointments, public.call_log, public.open_callback_requests to authenticated;

-- Public RPCs (service_role only) ------------------------------------------------------------------

-- resolve_assistant_request ------------------------------------------------------------------------
-- Vapi's assistant-request: which assistant answers a call to this number, with the clinic's facts
-- of the moment as variables (so the prompt is right on every call without a sync). The phone-number
-- id decides (then an assistant id, if the request names one). assistantId: the assistant on the
-- phone number's own mapping row, else the clinic's earliest-mapped assistant, else NULL — the
-- service then builds a transient assistant from `settings`, and with p_with_profile (the service
-- holds no profile of this clinic) `profile` is get_org_profile's reply, so the prompt's providers,
-- services and hours never cost a second round trip. Must be fast (Vapi allows 7.5 s end to end):
-- one read of the mapping (and the speaking row), the org, its settings and today's hours.
-- p_at: the instant to answer for (NULL = now(); tests).
create or replace function public.resolve_assistant_request(
  p_phone_number_id text,
  p_assistant_id text default null,
  p_at timestamptz default null,
  p_with_profile boolean default false
)
returns json
language plpgsql
stable
security definer
set search_path = ''
set lock_timeout = '3s'
as $$
declare
  v_phone text := left(nullif(btrim(p_phone_number_id), ''), 200);
  v_assistant text := left(nullif(btrim(p_assistant_id), ''), 200);
  v_at timestamptz := coalesce(p_at, now());
  v_org_id uuid;
  v_phone_id text;
  v_assistant_id text;
  v_name text;
  v_prompt text;
  v_speaking record;
  v_org public.orgs;
  v_local timestamp;
  v_day date;
  v_open tstzmultirange;
  v_open_now boolean;
  v_settings jsonb;
begin
  -- the number's mapping row, else the assistant's (two index lookups: cheaper to run than one
  -- statement that tries both)
  if v_phone is not null then
    select va.org_id, va.phone_number_id, va.assistant_id, va.assistant_name, va.custom_prompt
      into v_org_id, v_phone_id, v_assistant_id, v_name, v_prompt
      from public.vapi_assistants va where va.phone_number_id = v_phone;
  end if;
  if v_org_id is null and v_assistant is not null then
    select va.org_id, va.phone_number_id, va.assistant_id, va.assistant_name, va.custom_prompt
      into v_org_id, v_phone_id, v_assistant_id, v_name, v_prompt
      from public.vapi_assistants va where va.assistant_id = v_assistant;
  end if;
  if v_org_id is null or not private.can_act_for_org(v_org_id) then
    return private.error_reply('unknown_number', 'No clinic is mapped to this phone number');
  end if;
  -- who speaks: the row's own assistant, else the clinic's earliest-mapped one (its name and prompt
  -- too), else the row itself (transient: assistantId null)
  if v_assistant_id is null then
    select va.assistant_id, va.assistant_name, va.custom_prompt
      into v_speaking
      from public.vapi_assistants va
     where va.org_id = v_org_id and va.assistant_id is not null
     order by va.created_at, va.assistant_id
     limit 1;
    if found then
      v_assistant_id := v_speaking.assistant_id;
      v_name := v_speaking.assistant_name;
      v_prompt := v_speaking.custom_prompt;
    end if;
  end if;
  select * into v_org from public.orgs o where o.id = v_org_id;

  v_local := v_at at time zone v_org.timezone;
  v_day := v_local::date;
  v_open := private.open_ranges(v_org.id, v_org.timezone, v_day, false);
  v_open_now := v_open @> v_at;
  v_settings := private.call_settings(v_org);

  return json_build_object(
    'success', true,
    'orgId', v_org.id,
    'phoneNumberId', v_phone_id,
    'assistantId', v_assistant_id,
    'variables', json_build_object(
      'clinicName', v_org.name,
      'timezone', v_org.timezone,
      'today', to_char(v_local, 'FMDay, FMMonth FMDD, YYYY'),
      'todayIso', to_char(v_local, 'YYYY-MM-DD'),
      'weekday', to_char(v_local, 'FMDay'),
      'localTime', to_char(v_local, 'FMHH12:MI AM'),
      'openNow', v_open_now,
      'hoursToday', private.spoken_ranges(v_open, v_org.timezone, v_day),
      'outsideHours', not v_open_now,
      'providersToday', private.providers_on_day(v_org.id, v_org.timezone, v_day, v_open),
      'assistantName', v_name),
    'settings', json_build_object(
      'firstMessage', v_settings ->> 'firstMessage',
      'voice', v_settings -> 'voice',
      'model', v_settings -> 'model',
      'serverCredentialId', v_settings ->> 'serverCredentialId',
      'transferMessage', v_settings ->> 'transferMessage',
      'assistantName', v_name,
      'customPrompt', v_prompt),
    'profile', case when p_with_profile and v_assistant_id is null then public.get_org_profile(v_org.id) end,
    'timezone', v_org.timezone);
end;
$$;
comment on function public.resolve_assistant_request(text, text, timestamptz, boolean) is
  'service_role: Vapi assistant-request — the clinic of a phone-number id (then assistant id), its own assistant id or NULL (transient), today''s variables in the clinic''s zone (hours, who works today), the transient assistant settings, and with p_with_profile the clinic''s profile for a transient assistant; unknown_number otherwise.';
grant execute on function public.resolve_assistant_request(text, text, timestamptz, boolean) to service_role;

-- record_call_report -----------------------------------------------------------------------------
-- Vapi's end-of-call-report: one row per (clinic, call id). A repeated report — also three sent at
-- once — updates that row (private.ensure_call, then one UPDATE: concurrent reports serialise on it):
-- values it carries replace the stored ones, values it lacks keep them; artifacts already purged
-- stay purged. The outcome is decided here from what the call did (header of this file).
create or replace function public.record_call_report(p_org_id uuid, p_call jsonb)
returns json
language plpgsql
volatile
security definer
set search_path = ''
set lock_timeout = '3s'
as $$
declare
  v_org public.orgs;
  v_call_id text;
  v_started timestamptz;
  v_ended timestamptz;
  v_duration numeric;
  v_reason text;
  v_caller text;
  v_recording text;
  v_messages jsonb;
  v_assistant text;
  v_phone_number text;
  v_cost numeric;
  v_summary text;
  v_evaluation text;
  v_transcript text;
  v_id uuid;
  v_row public.calls;
begin
  if p_org_id is null then
    return private.error_reply('invalid_input', 'Organization id is required');
  end if;
  select * into v_org from public.orgs o where o.id = p_org_id;
  if not found or not private.can_act_for_org(p_org_id) then
    return private.error_reply('unknown_org');
  end if;
  if p_call is null or jsonb_typeof(p_call) <> 'object' then
    return private.field_refusal(v_org, 'call', 'The call report must be a JSON object');
  end if;
  v_call_id := left(nullif(btrim(p_call ->> 'callId'), ''), 200);
  if v_call_id is null then
    return private.field_refusal(v_org, 'callId', 'The call id is required');
  end if;

  v_started := private.jsonb_timestamptz(p_call -> 'startedAt');
  v_ended := private.jsonb_timestamptz(p_call -> 'endedAt');
  v_duration := coalesce(private.jsonb_numeric(p_call -> 'durationSeconds'),
                         private.call_duration_seconds(v_started, v_ended));
  v_reason := left(nullif(btrim(p_call ->> 'endedReason'), ''), 200);
  v_caller := nullif(btrim(p_call ->> 'callerNumber'), '');
  if not private.is_e164(v_caller) then
    v_caller := null;
  end if;
  v_recording := nullif(btrim(p_call ->> 'recordingUrl'), '');
  if v_recording !~* '^https?://' or char_length(v_recording) > 2000 then
    v_recording := null;
  end if;
  v_messages := case when jsonb_typeof(p_call -> 'messages') = 'array'
                          and octet_length((p_call -> 'messages')::text) <= 2000000
                     then p_call -> 'messages' end;

  v_assistant := left(nullif(btrim(p_call ->> 'assistantId'), ''), 200);
  v_phone_number := left(nullif(btrim(p_call ->> 'phoneNumberId'), ''), 200);
  v_cost := private.jsonb_numeric(p_call -> 'cost');
  v_summary := left(nullif(btrim(p_call ->> 'summary'), ''), 20000);
  v_evaluation := left(nullif(btrim(p_call ->> 'successEvaluation'), ''), 2000);
  v_transcript := left(nullif(p_call ->> 'transcript', ''), 500000);

  v_id := private.ensure_call(p_org_id, v_call_id);
  update public.calls c
     set assistant_id = coalesce(v_assistant, c.assistant_id),
         phone_number_id = coalesce(v_phone_number, c.phone_number_id),
         caller_number = coalesce(v_caller, c.caller_number),
         started_at = coalesce(v_started, c.started_at),
         ended_at = coalesce(v_ended, c.ended_at),
         duration_seconds = coalesce(v_duration, c.duration_seconds),
         ended_reason = coalesce(v_reason, c.ended_reason),
         cost = coalesce(v_cost, c.cost),
         summary = coalesce(v_summary, c.summary),
         success_evaluation = coalesce(v_evaluation, c.success_evaluation),
         recording_url = case when c.artifacts_purged_at is null then coalesce(v_recording, c.recording_url) end,
         transcript = case when c.artifacts_purged_at is null then coalesce(v_transcript, c.transcript) end,
         messages = case when c.artifacts_purged_at is null then coalesce(v_messages, c.messages) end,
         outcome = private.call_outcome(c.org_id, c.vapi_call_id,
                     coalesce(v_reason, c.ended_reason),
                     coalesce(v_duration, c.duration_seconds),
                     case when c.artifacts_purged_at is null then coalesce(v_messages, c.messages) end),
         status = 'ended',
         reported_at = now()
   where c.org_id = p_org_id and c.id = v_id
  returning c.* into v_row;

  return private.call_reply(v_row);
end;
$$;
comment on function public.record_call_report(uuid, jsonb) is
  'service_role: store Vapi''s end-of-call-report (p_call: callId, assistantId, phoneNumberId, callerNumber, startedAt, endedAt, durationSeconds, endedReason, cost, summary, successEvaluation, recordingUrl, transcript, messages) once per call id; decides the outcome; returns it with the linked appointments.';
grant execute on function public.record_call_report(uuid, jsonb) to service_role;

-- mark_call_ended --------------------------------------------------------------------------------
-- A status update says the call ended, and the report may never come: the call gets its row (or
-- its row its end) with an outcome from what is known. Once a report is stored it is authoritative
-- and this changes nothing; a report arriving later replaces what this wrote.
create or replace function public.mark_call_ended(
  p_org_id uuid,
  p_call_id text,
  p_ended_at timestamptz default now(),
  p_ended_reason text default null
)
returns json
language plpgsql
volatile
security definer
set search_path = ''
set lock_timeout = '3s'
as $$
declare
  v_refusal json;
  v_reason text := left(nullif(btrim(p_ended_reason), ''), 200);
  v_ended timestamptz := coalesce(p_ended_at, now());
  v_id uuid;
  v_row public.calls;
begin
  select r.call_row_id, r.refusal into v_id, v_refusal from private.call_row_of(p_org_id, p_call_id) as r;
  if v_refusal is not null then
    return v_refusal;
  end if;
  update public.calls c
     set ended_at = coalesce(c.ended_at, v_ended),
         ended_reason = coalesce(c.ended_reason, v_reason),
         duration_seconds = coalesce(c.duration_seconds,
                                     private.call_duration_seconds(c.started_at, coalesce(c.ended_at, v_ended))),
         outcome = private.call_outcome(c.org_id, c.vapi_call_id, coalesce(c.ended_reason, v_reason),
                     coalesce(c.duration_seconds,
                              private.call_duration_seconds(c.started_at, coalesce(c.ended_at, v_ended))),
                     c.messages),
         status = 'ended'
   where c.org_id = p_org_id and c.id = v_id and c.reported_at is null
  returning c.* into v_row;
  if v_row.id is null then  -- a report is stored: it stands
    select * into v_row from public.calls c where c.org_id = p_org_id and c.id = v_id;
  end if;
  return private.call_reply(v_row);
end;
$$;
comment on function public.mark_call_ended(uuid, text, timestamptz, text) is
  'service_role: a status update says the call ended — store its end and an outcome unless an end-of-call-report is already stored (a later report replaces it).';
grant execute on function public.mark_call_ended(uuid, text, timestamptz, text) to service_role;

-- mark_call_hang ---------------------------------------------------------------------------------
-- Vapi's `hang`: the assistant is delayed (a slow model, voice or tool) — the call goes on. Not an
-- end: the call gets its row if it has none (private.ensure_call, so the call is on the log even if
-- no report ever comes), its hang_count goes up by one and last_hang_at moves to the latest notice;
-- ended_at, ended_reason, status and the outcome are never touched, and a report or an ended status
-- update later fills them as for any call. Hang after hang of one call: each UPDATE waits for the
-- previous one's row lock and counts on top of it. A late notice after the report still counts (it
-- happened). p_at: when Vapi sent it (NULL = now()).
create or replace function public.mark_call_hang(
  p_org_id uuid,
  p_call_id text,
  p_at timestamptz default now()
)
returns json
language plpgsql
volatile
security definer
set search_path = ''
set lock_timeout = '3s'
as $$
declare
  v_refusal json;
  v_at timestamptz := coalesce(p_at, now());
  v_id uuid;
  v_row public.calls;
begin
  select r.call_row_id, r.refusal into v_id, v_refusal from private.call_row_of(p_org_id, p_call_id) as r;
  if v_refusal is not null then
    return v_refusal;
  end if;
  update public.calls c
     set hang_count = c.hang_count + 1,
         last_hang_at = greatest(c.last_hang_at, v_at)
   where c.org_id = p_org_id and c.id = v_id
  returning c.* into v_row;
  return (private.call_reply(v_row)::jsonb
          || jsonb_build_object('hangCount', v_row.hang_count, 'lastHangAt', private.iso(v_row.last_hang_at)))::json;
end;
$$;
comment on function public.mark_call_hang(uuid, text, timestamptz) is
  'service_role: Vapi''s hang notice (the assistant was delayed; the call goes on) — create the call''s row if missing, count the hang and keep the latest time; never ends the call or changes its outcome.';
grant execute on function public.mark_call_hang(uuid, text, timestamptz) to service_role;

-- transfer_destination ---------------------------------------------------------------------------
-- Vapi's transfer-destination-request: the front desk number during transfer hours (clinic-local,
-- transfer_hours or else business hours, minus closures), else why not and when it opens again.
-- p_at: the instant to answer for (NULL = now(); tests).
create or replace function public.transfer_destination(p_org_id uuid, p_at timestamptz default null)
returns json
language plpgsql
stable
security definer
set search_path = ''
set lock_timeout = '3s'
as $$
declare
  v_at timestamptz := coalesce(p_at, now());
  v_org public.orgs;
  v_settings jsonb;
  v_day date;
  v_next timestamptz;
begin
  if p_org_id is null then
    return private.error_reply('invalid_input', 'Organization id is required');
  end if;
  select * into v_org from public.orgs o where o.id = p_org_id;
  if not found or not private.can_act_for_org(p_org_id) then
    return private.error_reply('unknown_org');
  end if;
  v_settings := private.call_settings(v_org);
  if v_settings ->> 'frontDeskNumber' is null then
    return json_build_object('success', false, 'error', 'transfer_unavailable', 'reason', 'no_number',
      'message', 'The clinic has no front desk number', 'nextTransferAt', null, 'timezone', v_org.timezone);
  end if;

  v_day := (v_at at time zone v_org.timezone)::date;
  if private.open_ranges(p_org_id, v_org.timezone, v_day, true) @> v_at then
    return json_build_object('success', true, 'available', true,
      'number', v_settings ->> 'frontDeskNumber',
      'message', v_settings ->> 'transferMessage',
      'timezone', v_org.timezone);
  end if;

  -- the next start of transfer hours within 8 clinic days
  select min(lower(r)) into v_next
    from generate_series(0, 8) as d,
         unnest(private.open_ranges(p_org_id, v_org.timezone, v_day + d, true)) as r
   where lower(r) > v_at;
  return json_build_object('success', false, 'error', 'transfer_unavailable', 'reason', 'closed',
    'message', 'The front desk does not take transfers at this time',
    'nextTransferAt', private.iso(v_next), 'timezone', v_org.timezone);
end;
$$;
comment on function public.transfer_destination(uuid, timestamptz) is
  'service_role: Vapi transfer-destination-request — the clinic''s front desk number during transfer hours (clinic-local, closures excluded), else transfer_unavailable with reason closed (and nextTransferAt) or no_number.';
grant execute on function public.transfer_destination(uuid, timestamptz) to service_role;

-- take_message -----------------------------------------------------------------------------------
-- The takeMessage tool: a call-back request for staff, linked to the call. The number defaults to
-- the caller ID (p_caller.callerNumber, parsed like every caller context); a retried request (same
-- call, number and reason, still open) returns the stored one instead of a second.
create or replace function public.take_message(
  p_org_id uuid,
  p_caller jsonb,
  p_name text,
  p_phone text,
  p_reason text,
  p_preferred_time text default null
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
  v_parsed record;
  v_name text := btrim(p_name);
  v_phone text := nullif(btrim(p_phone), '');
  v_source text := 'given';
  v_reason text := btrim(p_reason);
  v_preferred text := nullif(btrim(p_preferred_time), '');
  v_id uuid;
  v_replayed boolean := false;
begin
  if p_org_id is null then
    return private.error_reply('invalid_input', 'Organization id is required');
  end if;
  select * into v_org from public.orgs o where o.id = p_org_id;
  if not found or not private.can_act_for_org(p_org_id) then
    return private.error_reply('unknown_org');
  end if;
  select * into v_parsed from private.parse_caller(v_org, p_caller, true);
  if v_parsed.refusal is not null then
    return (v_parsed.refusal::jsonb || jsonb_build_object('field', 'caller'))::json;
  end if;

  if v_name is null or v_name = '' or private.lenient_name(v_name) = '' then
    return private.field_refusal(v_org, 'name', 'The caller''s name is required');
  end if;
  if char_length(v_name) > 200 then
    return private.field_refusal(v_org, 'name', 'The name has at most 200 characters');
  end if;
  if v_phone is null then
    v_phone := (v_parsed.ctx).caller_number;
    v_source := 'caller_id';
    if v_phone is null then
      return private.field_refusal(v_org, 'phone', 'A call-back number is required (there is no caller ID)');
    end if;
  elsif not private.is_e164(v_phone) then
    return private.field_refusal(v_org, 'phone', 'Phone must be in E.164 format, e.g. +14155550123');
  end if;
  if v_reason is null or v_reason = '' then
    return private.field_refusal(v_org, 'reason', 'The reason for the call-back is required');
  end if;
  if char_length(v_reason) > 1000 then
    return private.field_refusal(v_org, 'reason', 'The reason has at most 1000 characters');
  end if;
  if char_length(v_preferred) > 200 then
    return private.field_refusal(v_org, 'preferredTime', 'The preferred time has at most 200 characters');
  end if;

  insert into public.callback_requests (org_id, vapi_call_id, caller_name, callback_number, reason, preferred_time)
  values (p_org_id, (v_parsed.ctx).call_id, v_name, v_phone, v_reason, v_preferred)
  on conflict (org_id, vapi_call_id, callback_number, md5(reason))
    where vapi_call_id is not null and status = 'open'
    do nothing
  returning id into v_id;
  if v_id is null then
    select r.id into v_id from public.callback_requests r
     where r.org_id = p_org_id and r.vapi_call_id = (v_parsed.ctx).call_id and r.status = 'open'
       and r.callback_number = v_phone and md5(r.reason) = md5(v_reason);
    v_replayed := true;
  end if;
  -- the call's row, if its report came first, now counts the message
  if (v_parsed.ctx).call_id is not null then
    perform private.refresh_call_outcome(p_org_id, (v_parsed.ctx).call_id);
  end if;

  return json_build_object('success', true, 'callbackRequestId', v_id, 'callbackNumber', v_phone,
                           'numberSource', v_source, 'replayed', v_replayed, 'timezone', v_org.timezone);
end;
$$;
comment on function public.take_message(uuid, jsonb, text, text, text, text) is
  'service_role: the takeMessage tool — store a call-back request (name, number defaulting to the caller ID, reason, preferred time) linked to the call; invalid_input names the field.';
grant execute on function public.take_message(uuid, jsonb, text, text, text, text) to service_role;

-- purge_call_artifacts ---------------------------------------------------------------------------
-- Retention of health information: transcript, messages and recording URL of every call that ended
-- (or, without an end, started / was stored) more than its clinic's transcript_retention_days ago
-- are set to NULL; the row, its outcome and summary stay. Run by `flask --app api calls purge`, or
-- on Supabase by pg_cron, e.g. daily at 03:17 UTC:
--   select cron.schedule('purge-call-artifacts', '17 3 * * *', 'select public.purge_call_artifacts()');
create or replace function public.purge_call_artifacts()
returns json
language plpgsql
volatile
security definer
set search_path = ''
set lock_timeout = '3s'
as $$
declare
  v_purged integer;
begin
  update public.calls c
     set transcript = null, messages = null, recording_url = null, artifacts_purged_at = now()
    from public.orgs o
    left join public.clinic_call_settings s on s.org_id = o.id
   where o.id = c.org_id
     and c.artifacts_purged_at is null
     and (c.transcript is not null or c.messages is not null or c.recording_url is not null)
     and coalesce(c.ended_at, c.started_at, c.created_at)
         < now() - make_interval(days => coalesce(s.transcript_retention_days, 30));
  get diagnostics v_purged = row_count;
  return json_build_object('success', true, 'purged', v_purged);
end;
$$;
comment on function public.purge_call_artifacts() is
  'service_role (and pg_cron): drop transcript, messages and recording URL of calls older than their clinic''s transcript_retention_days (default 30); keeps the rows and outcomes. Returns how many calls were purged.';
grant execute on function public.purge_call_artifacts() to service_role;
