-- 40_calls: the call log (20261125000750_calls.sql). record_call_report stores one row per call id
-- however often the report comes (values it carries replace, values it lacks stay); the outcome of
-- each case and the documented precedence (what the call did beats how it ended); the links to the
-- appointments the call booked / moved / cancelled, read from the access log under the call id;
-- mark_call_ended before and after a report; mark_call_hang (Vapi's `hang`: the assistant was
-- delayed) creates the row, counts, never ends the call nor changes an outcome, and a report later
-- fills everything; purge_call_artifacts respects each clinic's retention; members read only their
-- clinic's calls (and hangs) in call_log.
begin;
select plan(103);

insert into auth.users (id, email) values
  ('d4000000-0000-4000-8000-00000000000a', 'staff.a@t40.example'),
  ('d4000000-0000-4000-8000-00000000000b', 'staff.b@t40.example');
insert into public.orgs (id, name, timezone, min_notice_minutes, booking_horizon_days) values
  ('c4000000-0000-4000-8000-00000000000a', 'Call Clinic A', 'America/New_York', 60, 365),
  ('c4000000-0000-4000-8000-00000000000b', 'Call Clinic B', 'Europe/Berlin', 60, 365);
insert into public.org_members (org_id, user_id, role) values
  ('c4000000-0000-4000-8000-00000000000a', 'd4000000-0000-4000-8000-00000000000a', 'staff'),
  ('c4000000-0000-4000-8000-00000000000b', 'd4000000-0000-4000-8000-00000000000b', 'staff');
insert into public.services (org_id, code, name, duration_minutes, is_default)
select o, 'consult', 'Consultation', 30, true
  from unnest(array['c4000000-0000-4000-8000-00000000000a', 'c4000000-0000-4000-8000-00000000000b']::uuid[]) o;
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
select o, d, '08:00', '18:00'
  from unnest(array['c4000000-0000-4000-8000-00000000000a', 'c4000000-0000-4000-8000-00000000000b']::uuid[]) o,
       generate_series(0, 6) d;

create temp table r (k text primary key, j jsonb);
grant select on r to authenticated, service_role;
-- a bookable instant in org A: clinic-local day +p_days at p_time
create function pg_temp.at(p_days int, p_time time) returns timestamptz language sql as $$
  select ((now() at time zone 'America/New_York')::date + p_days + p_time) at time zone 'America/New_York' $$;
create function pg_temp.book(p_key text, p_call text, p_phone text, p_at timestamptz) returns jsonb language sql as $$
  select public.book_appointment(p_org_id => 'c4000000-0000-4000-8000-00000000000a', p_name => 'Pat ' || p_key,
    p_email => null, p_phone => p_phone, p_service => null, p_scheduled_at => p_at, p_idempotency_key => 'vapi:' || p_call || ':' || p_key,
    p_source => 'vapi', p_caller => jsonb_build_object('callId', p_call, 'callerNumber', p_phone, 'source', 'vapi'))::jsonb $$;
create function pg_temp.report(p_call text, p_extra jsonb default '{}', p_org uuid default 'c4000000-0000-4000-8000-00000000000a')
returns jsonb language sql as $$
  select public.record_call_report(p_org, jsonb_build_object('callId', p_call) || p_extra)::jsonb $$;
create function pg_temp.outcome(p_call text, p_extra jsonb default '{}') returns text language sql as $$
  select pg_temp.report(p_call, p_extra) ->> 'outcome' $$;
create function pg_temp.call(p_call text) returns public.calls language sql as $$
  select * from public.calls where org_id = 'c4000000-0000-4000-8000-00000000000a' and vapi_call_id = p_call $$;
create function pg_temp.id(p_k text) returns uuid language sql as $$ select (j ->> 'appointmentId')::uuid from r where k = p_k $$;
-- a Vapi messages array with p_user caller turns
create function pg_temp.msgs(p_user int) returns jsonb language sql as $$
  select jsonb_build_array(jsonb_build_object('role', 'bot', 'message', 'Hello, how can I help?'))
         || coalesce((select jsonb_agg(jsonb_build_object('role', 'user', 'message', 'question ' || n)) from generate_series(1, p_user) n), '[]') $$;
do $g$ declare f regprocedure; begin
  for f in select p.oid::regprocedure from pg_proc p where p.pronamespace = pg_my_temp_schema() loop
    execute format('grant execute on function %s to public', f);
  end loop;
end $g$;

-- ---------------------------------------------------------------------------------------------
-- One row per call id: the same report three times, then a fourth with other values
-- ---------------------------------------------------------------------------------------------
insert into r values ('full', jsonb_build_object(
  'callId', 'call-idem', 'assistantId', 'asst-a', 'phoneNumberId', 'pn-a', 'callerNumber', '+12125550101',
  'startedAt', '2026-11-02T15:00:00.000Z', 'endedAt', '2026-11-02T15:03:20.000Z', 'durationSeconds', 200,
  'endedReason', 'assistant-ended-call', 'cost', 0.1234, 'summary', 'Asked about parking.',
  'successEvaluation', 'true', 'recordingUrl', 'https://storage.vapi.ai/call-idem.wav',
  'transcript', 'AI: Hello. User: Where do I park?', 'messages', pg_temp.msgs(2)));
insert into r values ('idem1', public.record_call_report('c4000000-0000-4000-8000-00000000000a', (select j from r where k = 'full'))::jsonb);
insert into r values ('idem2', public.record_call_report('c4000000-0000-4000-8000-00000000000a', (select j from r where k = 'full'))::jsonb);
insert into r values ('idem3', public.record_call_report('c4000000-0000-4000-8000-00000000000a', (select j from r where k = 'full'))::jsonb);
select is((select count(*)::int from public.calls where org_id = 'c4000000-0000-4000-8000-00000000000a' and vapi_call_id = 'call-idem'),
          1, 'the same report three times: one row');
select is((select j - 'timezone' from r where k = 'idem1'),
          '{"success": true, "callId": "call-idem", "outcome": "info_only", "status": "ended", "reported": true,
            "linkedAppointments": [], "callbackRequestIds": []}'::jsonb,
          'reply: success, call id, outcome, status ended, reported, no links');
select is((select j from r where k = 'idem3'), (select j from r where k = 'idem1'), 'the third reply equals the first');
select is((select row(c.assistant_id, c.phone_number_id, c.caller_number, c.started_at, c.ended_at, c.duration_seconds,
                      c.ended_reason, c.cost, c.summary, c.success_evaluation, c.recording_url, c.transcript,
                      jsonb_array_length(c.messages), c.status)::text from pg_temp.call('call-idem') c),
          row('asst-a', 'pn-a', '+12125550101', '2026-11-02 15:00:00+00'::timestamptz, '2026-11-02 15:03:20+00'::timestamptz,
              200::numeric, 'assistant-ended-call', 0.1234::numeric, 'Asked about parking.', 'true',
              'https://storage.vapi.ai/call-idem.wav', 'AI: Hello. User: Where do I park?', 3, 'ended')::text,
          'every field of the report is stored');
select ok((select reported_at is not null and artifacts_purged_at is null from pg_temp.call('call-idem')), 'reported_at set, not purged');
select pg_temp.report('call-idem', '{"summary": "Asked about parking and hours.", "durationSeconds": 210}');
select is((select row(c.summary, c.duration_seconds, c.ended_reason, c.transcript, c.recording_url)::text from pg_temp.call('call-idem') c),
          row('Asked about parking and hours.', 210::numeric, 'assistant-ended-call', 'AI: Hello. User: Where do I park?',
              'https://storage.vapi.ai/call-idem.wav')::text,
          'a later report replaces what it carries and keeps what it lacks');
select is((select count(*)::int from public.calls where vapi_call_id = 'call-idem'), 1, 'still one row after four reports');

-- the same call id in another clinic is another call (and sees nothing of clinic A's)
select is(pg_temp.report('call-idem', '{}', 'c4000000-0000-4000-8000-00000000000b') ->> 'outcome', 'info_only',
          'the same call id reported for clinic B is clinic B''s own row');
select is((select count(*)::int from public.calls where vapi_call_id = 'call-idem'), 2, 'one row per clinic and call id');

-- ---------------------------------------------------------------------------------------------
-- Input
-- ---------------------------------------------------------------------------------------------
select is(public.record_call_report(null, '{"callId": "x"}')::jsonb ->> 'error', 'invalid_input', 'no org id: invalid_input');
select is(public.record_call_report('c4000000-0000-4000-8000-0000000000ff', '{"callId": "x"}')::jsonb ->> 'error', 'unknown_org',
          'unknown org: unknown_org');
select is(public.record_call_report('c4000000-0000-4000-8000-00000000000a', '[1]')::jsonb - 'message' - 'timezone',
          '{"success": false, "error": "invalid_input", "field": "call"}'::jsonb, 'a report that is not an object: invalid_input naming call');
select is(public.record_call_report('c4000000-0000-4000-8000-00000000000a', '{"callId": "  "}')::jsonb ->> 'field', 'callId',
          'a blank call id: invalid_input naming callId');
select is(pg_temp.report('call-lenient', '{"startedAt": "2026-11-02T10:00:00Z", "endedAt": "2026-11-02T10:01:30Z",
                                           "callerNumber": "anonymous", "recordingUrl": "javascript:alert(1)",
                                           "messages": {"not": "an array"}, "cost": "free", "durationSeconds": -5}') ->> 'success',
          'true', 'odd field values do not refuse the report');
select is((select row(c.duration_seconds, c.caller_number, c.recording_url, c.messages, c.cost)::text from pg_temp.call('call-lenient') c),
          row(90::numeric, null::text, null::text, null::jsonb, null::numeric)::text,
          'duration from endedAt - startedAt; non-E.164 caller, non-http URL, non-array messages, non-numeric cost → NULL');
select is(pg_temp.report('call-bad-time', '{"startedAt": "yesterday-ish", "endedAt": 12}') ->> 'success', 'true',
          'unparseable timestamps do not refuse the report');
select is((select row(c.started_at, c.ended_at, c.duration_seconds)::text from pg_temp.call('call-bad-time') c),
          row(null::timestamptz, null::timestamptz, null::numeric)::text, 'unparseable timestamps are stored as NULL');

-- ---------------------------------------------------------------------------------------------
-- Outcome, case by case
-- ---------------------------------------------------------------------------------------------
-- booked: a booking under the call id, linked
insert into r values ('b1', pg_temp.book('b1', 'call-book', '+12125550111', pg_temp.at(5, '09:00')));
select is(pg_temp.outcome('call-book', '{"endedReason": "customer-ended-call", "durationSeconds": 95}'), 'booked',
          'booked: the call booked an appointment');
select is((pg_temp.report('call-book') -> 'linkedAppointments'),
          jsonb_build_array(jsonb_build_object('appointmentId', pg_temp.id('b1'), 'kind', 'booked')),
          'the booked appointment is linked with kind booked');
-- a retried tool call (same idempotency key: replayed) does not add a second link
select pg_temp.book('b1', 'call-book', '+12125550111', pg_temp.at(5, '09:00'));
select is(jsonb_array_length(pg_temp.report('call-book') -> 'linkedAppointments'), 1, 'a replayed booking is still one link');

-- rescheduled: the caller moves an appointment booked in an earlier call
insert into r values ('b2', pg_temp.book('b2', 'call-earlier', '+12125550112', pg_temp.at(6, '09:00')));
select public.reschedule_appointment_atomic(p_org_id => 'c4000000-0000-4000-8000-00000000000a',
  p_caller => '{"callId": "call-resched", "callerNumber": "+12125550112"}', p_new_scheduled_at => pg_temp.at(6, '11:00'));
select is(pg_temp.outcome('call-resched', '{"endedReason": "customer-ended-call", "durationSeconds": 80}'), 'rescheduled',
          'rescheduled: the call moved an appointment');
select is(pg_temp.report('call-resched') -> 'linkedAppointments',
          jsonb_build_array(jsonb_build_object('appointmentId', pg_temp.id('b2'), 'kind', 'rescheduled')),
          'the moved appointment is linked with kind rescheduled');

-- cancelled
select public.cancel_appointment(p_org_id => 'c4000000-0000-4000-8000-00000000000a',
  p_caller => '{"callId": "call-cancel", "callerNumber": "+12125550112"}', p_appointment_id => pg_temp.id('b2'));
select is(pg_temp.outcome('call-cancel', '{"endedReason": "assistant-ended-call", "durationSeconds": 60}'), 'cancelled',
          'cancelled: the call cancelled an appointment');

-- a refused change and a mere lookup link nothing
select public.cancel_appointment(p_org_id => 'c4000000-0000-4000-8000-00000000000a',
  p_caller => '{"callId": "call-refused", "callerNumber": "+12125550112"}', p_appointment_id => pg_temp.id('b2'));
select public.find_upcoming_appointments('c4000000-0000-4000-8000-00000000000a', '{"callId": "call-refused", "callerNumber": "+12125550111"}');
select pg_temp.book('b-taken', 'call-refused', '+12125550113', pg_temp.at(5, '09:00'));  -- slot taken by b1
select is(pg_temp.report('call-refused', jsonb_build_object('endedReason', 'customer-ended-call', 'durationSeconds', 120, 'messages', pg_temp.msgs(3)))
            - 'timezone' - 'callId' - 'reported' - 'status',
          '{"success": true, "outcome": "info_only", "linkedAppointments": [], "callbackRequestIds": []}'::jsonb,
          'info_only: an already-cancelled refusal, a lookup and a refused booking link nothing');

-- message_taken
select public.take_message('c4000000-0000-4000-8000-00000000000a', '{"callId": "call-msg", "callerNumber": "+12125550114"}',
                           'Sam Caller', null, 'Question about a bill', 'tomorrow morning');
select is(pg_temp.outcome('call-msg', '{"endedReason": "customer-ended-call", "durationSeconds": 12}'), 'message_taken',
          'message_taken: a call-back request under the call id (beats a short hang-up)');
select is(jsonb_array_length(pg_temp.report('call-msg') -> 'callbackRequestIds'), 1, 'the call-back request is linked');

-- transferred / failed / abandoned / info_only by endedReason
select is(pg_temp.outcome('call-transfer', '{"endedReason": "assistant-forwarded-call", "durationSeconds": 40}'), 'transferred',
          'transferred: assistant-forwarded-call');
select is(pg_temp.outcome('call-hook', '{"endedReason": "call.ringing.hook-executed-transfer"}'), 'transferred',
          'transferred: a transfer hook');
select is(pg_temp.outcome('call-llm', '{"endedReason": "pipeline-error-openai-llm-failed", "durationSeconds": 30}'), 'failed',
          'failed: a pipeline error');
select is(pg_temp.outcome('call-worker', '{"endedReason": "call.in-progress.error-vapifault-worker-died", "durationSeconds": 300}'), 'failed',
          'failed: a Vapi fault');
select is(pg_temp.outcome('call-start', '{"endedReason": "assistant-request-returned-error"}'), 'failed',
          'failed: our assistant-request answered an error');
select is(pg_temp.outcome('call-short', '{"endedReason": "customer-ended-call", "durationSeconds": 8}'), 'abandoned',
          'abandoned: the caller hung up within 30 seconds with nothing done');
select is(pg_temp.outcome('call-mute', jsonb_build_object('endedReason', 'customer-ended-call', 'durationSeconds', 75, 'messages', pg_temp.msgs(0))),
          'abandoned', 'abandoned: the caller hung up without ever speaking');
select is(pg_temp.outcome('call-silent', '{"endedReason": "silence-timed-out", "durationSeconds": 20}'), 'abandoned',
          'abandoned: silence timed out early');
select is(pg_temp.outcome('call-info', jsonb_build_object('endedReason', 'customer-ended-call', 'durationSeconds', 95, 'messages', pg_temp.msgs(4))),
          'info_only', 'info_only: the caller talked, hung up, nothing changed');
select is(pg_temp.outcome('call-unknown-length', '{"endedReason": "customer-ended-call"}'), 'info_only',
          'info_only: a hang-up without any evidence that it was early');
select is(pg_temp.outcome('call-bye', '{"endedReason": "assistant-ended-call", "durationSeconds": 10}'), 'info_only',
          'info_only: the assistant ended a short call');
select is(pg_temp.outcome('call-max', '{"endedReason": "exceeded-max-duration", "durationSeconds": 600}'), 'info_only',
          'info_only: max duration is no failure');

-- precedence: what the call did beats how it ended; booked beats the other changes
insert into r values ('b3', pg_temp.book('b3', 'call-busy', '+12125550115', pg_temp.at(7, '09:00')));
select is(pg_temp.outcome('call-busy', '{"endedReason": "assistant-forwarded-call"}'), 'booked', 'booked beats transferred');
select is(pg_temp.outcome('call-busy', '{"endedReason": "pipeline-error-openai-llm-failed"}'), 'booked', 'booked beats failed');
select public.cancel_appointment(p_org_id => 'c4000000-0000-4000-8000-00000000000a',
  p_caller => '{"callId": "call-busy", "callerNumber": "+12125550115"}', p_appointment_id => pg_temp.id('b3'));
select public.take_message('c4000000-0000-4000-8000-00000000000a', '{"callId": "call-busy", "callerNumber": "+12125550115"}',
                           'Busy Caller', null, 'Wants a call back', null);
select is(pg_temp.report('call-busy') ->> 'outcome', 'message_taken',
          'a booking cancelled in the same call nets to nothing: the message taken decides');
select is(pg_temp.report('call-busy') -> 'linkedAppointments',
          jsonb_build_array(jsonb_build_object('appointmentId', pg_temp.id('b3'), 'kind', 'booked'),
                            jsonb_build_object('appointmentId', pg_temp.id('b3'), 'kind', 'cancelled')),
          'both links are kept, in the order the call made them');
-- net effect per appointment: booked + cancelled in one call (nothing else) = info_only; booked +
-- moved = booked; booked in one call + another appointment cancelled = booked
insert into r values ('b7', pg_temp.book('b7', 'call-undo', '+12125550129', pg_temp.at(11, '12:00')));
select public.cancel_appointment(p_org_id => 'c4000000-0000-4000-8000-00000000000a',
  p_caller => '{"callId": "call-undo", "callerNumber": "+12125550129"}', p_appointment_id => pg_temp.id('b7'));
select is(pg_temp.outcome('call-undo', jsonb_build_object('endedReason', 'customer-ended-call', 'durationSeconds', 90, 'messages', pg_temp.msgs(4))),
          'info_only', 'booked then cancelled in the same call: neither booked nor cancelled (info_only)');
select is(jsonb_array_length(pg_temp.report('call-undo') -> 'linkedAppointments'), 2, 'both steps stay linked');
insert into r values ('b8', pg_temp.book('b8', 'call-book-move', '+12125550130', pg_temp.at(12, '09:00')));
select public.reschedule_appointment_atomic(p_org_id => 'c4000000-0000-4000-8000-00000000000a',
  p_caller => '{"callId": "call-book-move", "callerNumber": "+12125550130"}', p_appointment_id => pg_temp.id('b8'),
  p_new_scheduled_at => pg_temp.at(12, '10:00'));
select is(pg_temp.outcome('call-book-move', '{"endedReason": "customer-ended-call", "durationSeconds": 90}'), 'booked',
          'booked then moved in the same call: booked');
insert into r values ('b9', pg_temp.book('b9', 'call-earlier-4', '+12125550131', pg_temp.at(13, '09:00')));
insert into r values ('b10', pg_temp.book('b10', 'call-swap', '+12125550131', pg_temp.at(13, '11:00')));
select public.cancel_appointment(p_org_id => 'c4000000-0000-4000-8000-00000000000a',
  p_caller => '{"callId": "call-swap", "callerNumber": "+12125550131"}', p_appointment_id => pg_temp.id('b9'));
select is(pg_temp.outcome('call-swap', '{"endedReason": "customer-ended-call", "durationSeconds": 90}'), 'booked',
          'a new booking plus cancelling an older one: booked');
insert into r values ('b4', pg_temp.book('b4', 'call-earlier-2', '+12125550116', pg_temp.at(8, '09:00')));
insert into r values ('b5', pg_temp.book('b5', 'call-earlier-3', '+12125550116', pg_temp.at(9, '09:00')));
select public.reschedule_appointment_atomic(p_org_id => 'c4000000-0000-4000-8000-00000000000a',
  p_caller => '{"callId": "call-two", "callerNumber": "+12125550116"}', p_appointment_id => pg_temp.id('b4'),
  p_new_scheduled_at => pg_temp.at(8, '10:00'));
select public.cancel_appointment(p_org_id => 'c4000000-0000-4000-8000-00000000000a',
  p_caller => '{"callId": "call-two", "callerNumber": "+12125550116"}', p_appointment_id => pg_temp.id('b5'));
select is(pg_temp.outcome('call-two', '{"endedReason": "customer-ended-call", "durationSeconds": 5}'), 'rescheduled',
          'rescheduled beats cancelled (and a short hang-up)');
select public.take_message('c4000000-0000-4000-8000-00000000000a', '{"callId": "call-fwd-msg", "callerNumber": "+12125550117"}',
                           'Fwd Caller', null, 'Call me', null);
select is(pg_temp.outcome('call-fwd-msg', '{"endedReason": "assistant-forwarded-call"}'), 'message_taken', 'message_taken beats transferred');
select is(pg_temp.outcome('call-fwd-err', '{"endedReason": "assistant-forwarded-call"}'), 'transferred',
          'transferred (a forward is no error)');

-- the call id is clamped to 200 characters everywhere, so an over-long id still links
insert into r values ('b6', pg_temp.book('b6', repeat('L', 250), '+12125550118', pg_temp.at(10, '09:00')));
select is(pg_temp.outcome(repeat('L', 250)), 'booked', 'a 250-character call id (clamped to 200 like the caller context) links the booking');
select is((select char_length(vapi_call_id) from public.calls where vapi_call_id like 'LLLL%'), 200, 'stored clamped to 200 characters');

-- a booking in clinic A under a call id is no link for clinic B's call of the same id
select is(pg_temp.report('call-book', '{}', 'c4000000-0000-4000-8000-00000000000b') - 'timezone' - 'reported' - 'status',
          '{"success": true, "callId": "call-book", "outcome": "info_only", "linkedAppointments": [], "callbackRequestIds": []}'::jsonb,
          'links never cross clinics');

-- something linked after the report: the outcome follows
select pg_temp.report('call-late', '{"endedReason": "customer-ended-call", "durationSeconds": 6}');
select is((pg_temp.call('call-late')).outcome, 'abandoned', 'before the late message: abandoned');
select public.take_message('c4000000-0000-4000-8000-00000000000a', '{"callId": "call-late", "callerNumber": "+12125550119"}',
                           'Late Caller', null, 'Please call back', null);
select is((pg_temp.call('call-late')).outcome, 'message_taken', 'a call-back request taken after the report updates the outcome');

-- ---------------------------------------------------------------------------------------------
-- mark_call_ended: the report may never come
-- ---------------------------------------------------------------------------------------------
insert into r values ('m1', public.mark_call_ended('c4000000-0000-4000-8000-00000000000a', 'call-mark', '2026-11-02T16:00:00Z', 'customer-ended-call')::jsonb);
select is((select j - 'timezone' from r where k = 'm1'),
          '{"success": true, "callId": "call-mark", "outcome": "info_only", "status": "ended", "reported": false,
            "linkedAppointments": [], "callbackRequestIds": []}'::jsonb,
          'mark_call_ended without a report: a row, ended, not reported, outcome from what is known');
select is((select row(c.ended_at, c.ended_reason, c.started_at)::text from pg_temp.call('call-mark') c),
          row('2026-11-02 16:00:00+00'::timestamptz, 'customer-ended-call', null::timestamptz)::text, 'its end is stored');
select public.mark_call_ended('c4000000-0000-4000-8000-00000000000a', 'call-mark', '2026-11-02T16:05:00Z', 'silence-timed-out');
select is((select row(c.ended_at, c.ended_reason)::text from pg_temp.call('call-mark') c),
          row('2026-11-02 16:00:00+00'::timestamptz, 'customer-ended-call')::text, 'a second status update keeps the first end');
select pg_temp.report('call-mark', '{"startedAt": "2026-11-02T15:58:00Z", "endedAt": "2026-11-02T16:00:30Z", "endedReason": "assistant-forwarded-call"}');
select is((select row(c.ended_at, c.ended_reason, c.duration_seconds, c.outcome, c.reported_at is not null)::text from pg_temp.call('call-mark') c),
          row('2026-11-02 16:00:30+00'::timestamptz, 'assistant-forwarded-call', 150::numeric, 'transferred', true)::text,
          'the report that comes later replaces what the status update wrote');
select is(public.mark_call_ended('c4000000-0000-4000-8000-00000000000a', 'call-mark', now(), 'customer-ended-call')::jsonb ->> 'outcome',
          'transferred', 'mark_call_ended after a report changes nothing');
select is((select row(c.ended_at, c.ended_reason)::text from pg_temp.call('call-mark') c),
          row('2026-11-02 16:00:30+00'::timestamptz, 'assistant-forwarded-call')::text, 'the reported end stands');
select is(public.mark_call_ended('c4000000-0000-4000-8000-00000000000a', '')::jsonb ->> 'field', 'callId', 'mark_call_ended: a call id is required');
select is(public.mark_call_ended('c4000000-0000-4000-8000-0000000000ff', 'x')::jsonb ->> 'error', 'unknown_org', 'mark_call_ended: unknown_org');

-- ---------------------------------------------------------------------------------------------
-- mark_call_hang: the assistant was delayed; the call goes on
-- ---------------------------------------------------------------------------------------------
create function pg_temp.hang(p_call text, p_at timestamptz default now(), p_org uuid default 'c4000000-0000-4000-8000-00000000000a')
returns jsonb language sql as $$ select public.mark_call_hang(p_org, p_call, p_at)::jsonb $$;
grant execute on function pg_temp.hang(text, timestamptz, uuid) to public;
insert into r values ('h1', pg_temp.hang('call-hang', now() - interval '3 minutes'));
select is((select j - 'timezone' - 'lastHangAt' from r where k = 'h1'),
          '{"success": true, "callId": "call-hang", "outcome": "info_only", "status": "in_progress", "reported": false,
            "linkedAppointments": [], "callbackRequestIds": [], "hangCount": 1}'::jsonb,
          'a hang before any report: a row, in progress, not reported, counted once');
select is((select j ->> 'lastHangAt' from r where k = 'h1'), private.iso(now() - interval '3 minutes'),
          'the reply says when (ISO, UTC)');
select is((select row(c.hang_count, c.last_hang_at, c.status, c.ended_at, c.ended_reason, c.reported_at)::text from pg_temp.call('call-hang') c),
          row(1, now() - interval '3 minutes', 'in_progress', null::timestamptz, null::text, null::timestamptz)::text,
          'the row: one hang at its time, no end, no reason, no report');
select pg_temp.hang('call-hang', now() - interval '1 minute');
select pg_temp.hang('call-hang', now() - interval '2 minutes');  -- out of order: the latest stays
select is((select row(c.hang_count, c.last_hang_at)::text from pg_temp.call('call-hang') c),
          row(3, now() - interval '1 minute')::text, 'every hang counts; last_hang_at is the latest one');
select is((select count(*)::int from public.calls where vapi_call_id = 'call-hang'), 1, 'hang after hang: still one row');
select is((select row(c.status, c.ended_at, c.outcome)::text from pg_temp.call('call-hang') c),
          row('in_progress', null::timestamptz, 'info_only')::text, 'hangs never end the call');
select is(pg_temp.hang('call-hang', null) ->> 'hangCount', '4', 'no time given: now()');
select is((pg_temp.call('call-hang')).last_hang_at, now(), 'stored as now()');
select is((select l.hang_count from public.call_log l
            where l.org_id = 'c4000000-0000-4000-8000-00000000000a' and l.call_id = 'call-hang'), 4,
          'call_log shows the hangs');
-- the report that comes later fills everything, and keeps the count
select pg_temp.report('call-hang', jsonb_build_object('startedAt', private.iso(now() - interval '5 minutes'),
  'endedAt', private.iso(now()), 'endedReason', 'assistant-forwarded-call', 'summary', 'Slow, then transferred.'));
select is((select row(c.status, c.ended_reason, c.duration_seconds, c.summary, c.outcome, c.reported_at is not null, c.hang_count)::text
             from pg_temp.call('call-hang') c),
          row('ended', 'assistant-forwarded-call', 300::numeric, 'Slow, then transferred.', 'transferred', true, 4)::text,
          'a report after the hangs fills the row (end, reason, duration, summary, outcome) and keeps the hang count');
-- a hang after the outcome is decided changes neither the end nor the outcome
select pg_temp.hang('call-hang');
select is((select row(c.status, c.ended_reason, c.outcome, c.reported_at is not null, c.hang_count)::text from pg_temp.call('call-hang') c),
          row('ended', 'assistant-forwarded-call', 'transferred', true, 5)::text,
          'a late hang after the report: counted, the reported end and outcome stand');
insert into r values ('hb', pg_temp.book('hb', 'call-hang-booked', '+12125550120', pg_temp.at(11, '09:00')));
select pg_temp.report('call-hang-booked', '{"endedReason": "customer-ended-call", "durationSeconds": 12}');
select is(pg_temp.hang('call-hang-booked') ->> 'outcome', 'booked', 'a hang on a booked call: still booked');
select is((select row(c.status, c.ended_reason, c.outcome)::text from pg_temp.call('call-hang-booked') c),
          row('ended', 'customer-ended-call', 'booked')::text, 'and its end is unchanged');
-- a hang, then an ended status update (no report): the update ends it, the count stays
select pg_temp.hang('call-hang-end', now() - interval '1 minute');
select is(public.mark_call_ended('c4000000-0000-4000-8000-00000000000a', 'call-hang-end', now(), 'silence-timed-out')::jsonb ->> 'status',
          'ended', 'an ended status update after a hang ends the call');
select is((select row(c.hang_count, c.ended_reason, c.reported_at)::text from pg_temp.call('call-hang-end') c),
          row(1, 'silence-timed-out', null::timestamptz)::text, 'with its reason, the hang still counted');
select pg_temp.hang('call-hang-end');
select is((select row(c.status, c.ended_reason, c.hang_count)::text from pg_temp.call('call-hang-end') c),
          row('ended', 'silence-timed-out', 2)::text, 'a hang after the status update does not reopen it');
-- the same call id in another clinic is that clinic's own call
select is(pg_temp.hang('call-hang', now(), 'c4000000-0000-4000-8000-00000000000b') ->> 'hangCount', '1',
          'clinic B''s hang of the same call id is counted on clinic B''s row');
select is((pg_temp.call('call-hang')).hang_count, 5, 'clinic A''s row is untouched');
-- input
select is(public.mark_call_hang('c4000000-0000-4000-8000-00000000000a', '  ')::jsonb ->> 'field', 'callId',
          'mark_call_hang: a call id is required');
select is(public.mark_call_hang('c4000000-0000-4000-8000-0000000000ff', 'x')::jsonb ->> 'error', 'unknown_org',
          'mark_call_hang: unknown_org');
select is(public.mark_call_hang(null, 'x')::jsonb ->> 'error', 'invalid_input', 'mark_call_hang: no org id');

-- ---------------------------------------------------------------------------------------------
-- purge_call_artifacts: each clinic's retention (A: default 30 days, B: 7 days)
-- ---------------------------------------------------------------------------------------------
insert into public.clinic_call_settings (org_id, transcript_retention_days)
values ('c4000000-0000-4000-8000-00000000000b', 7);
insert into public.calls (org_id, vapi_call_id, started_at, ended_at, transcript, messages, recording_url, summary, outcome, status)
select o::uuid, k, e - interval '5 minutes', e, 'transcript ' || k, '[{"role": "user", "message": "hi"}]', 'https://rec.example/' || k,
       'summary ' || k, 'booked', 'ended'
  from (values ('c4000000-0000-4000-8000-00000000000a', 'purge-a-31', now() - interval '31 days'),
               ('c4000000-0000-4000-8000-00000000000a', 'purge-a-29', now() - interval '29 days'),
               ('c4000000-0000-4000-8000-00000000000b', 'purge-b-8', now() - interval '8 days'),
               ('c4000000-0000-4000-8000-00000000000b', 'purge-b-6', now() - interval '6 days')) v(o, k, e);
-- no end known: the start counts (then the time it was stored)
insert into public.calls (org_id, vapi_call_id, started_at, transcript, outcome, status)
values ('c4000000-0000-4000-8000-00000000000a', 'purge-a-start-40', now() - interval '40 days', 'old', 'info_only', 'in_progress');
insert into r values ('p1', public.purge_call_artifacts()::jsonb);
select is((select j from r where k = 'p1'), '{"success": true, "purged": 3}'::jsonb,
          'purge: three calls past their clinic''s retention');
select is(array(select c.vapi_call_id from public.calls c where c.artifacts_purged_at is not null order by 1),
          array['purge-a-31', 'purge-a-start-40', 'purge-b-8'],
          'A past 30 days (also by its start), B past 7 days; A at 29 and B at 6 days kept');
select is((select row(c.transcript, c.messages, c.recording_url, c.summary, c.outcome)::text
             from public.calls c where c.vapi_call_id = 'purge-a-31'),
          row(null::text, null::jsonb, null::text, 'summary purge-a-31', 'booked')::text,
          'a purged call keeps its row, summary and outcome; transcript, messages and recording are gone');
select is((select count(*)::int from public.calls c where c.vapi_call_id in ('purge-a-29', 'purge-b-6')
            and c.transcript is not null and c.messages is not null and c.recording_url is not null), 2,
          'calls inside their retention keep their artifacts');
select is(public.purge_call_artifacts()::jsonb, '{"success": true, "purged": 0}'::jsonb, 'a second purge has nothing to do');
select pg_temp.report('purge-a-31', '{"transcript": "resent transcript", "recordingUrl": "https://rec.example/again", "summary": "resent"}');
select is((select row(c.transcript, c.recording_url, c.summary)::text from public.calls c where c.vapi_call_id = 'purge-a-31'),
          row(null::text, null::text, 'resent')::text, 'a report arriving after the purge does not bring the artifacts back');
select throws_ok($$update public.calls set transcript = 'x' where vapi_call_id = 'purge-a-31'$$, '23514', null,
                 'a purged call cannot hold a transcript again (check constraint)');
update public.clinic_call_settings set transcript_retention_days = 5 where org_id = 'c4000000-0000-4000-8000-00000000000b';
select is(public.purge_call_artifacts()::jsonb ->> 'purged', '1', 'a shorter retention purges at the next run');

-- ---------------------------------------------------------------------------------------------
-- call_log, call_appointments: members read their clinic only
-- ---------------------------------------------------------------------------------------------
select is((select row(l.outcome, l.appointments, l.appointment_ids, l.has_transcript)::text from public.call_log l
            where l.org_id = 'c4000000-0000-4000-8000-00000000000a' and l.call_id = 'call-book'),
          row('booked', jsonb_build_array(jsonb_build_object('appointmentId', pg_temp.id('b1'), 'kind', 'booked')),
              array[pg_temp.id('b1')], false)::text,
          'call_log: one line with the outcome and the linked appointment');
select is((select l.local_started_at from public.call_log l where l.org_id = 'c4000000-0000-4000-8000-00000000000a' and l.call_id = 'call-idem'),
          '2026-11-02 10:00:00'::timestamp, 'call_log: the start in the clinic''s zone (15:00Z = 10:00 EST)');
select is((select cardinality(l.callback_request_ids) from public.call_log l
            where l.org_id = 'c4000000-0000-4000-8000-00000000000a' and l.call_id = 'call-msg'), 1,
          'call_log: the call-back request ids');
set local role authenticated;
set local request.jwt.claims = '{"sub": "d4000000-0000-4000-8000-00000000000b", "role": "authenticated"}';
select is((select array_agg(distinct l.org_id) from public.call_log l), array['c4000000-0000-4000-8000-00000000000b'::uuid],
          'member of B: call_log holds only clinic B''s calls');
select is((select count(*)::int from public.calls c where c.org_id = 'c4000000-0000-4000-8000-00000000000a'), 0,
          'member of B sees none of clinic A''s calls');
select is((select count(*)::int from public.call_appointments), 0, 'member of B sees no call links of clinic A');
select is((select array_agg(l.hang_count) from public.call_log l where l.call_id = 'call-hang'), array[1],
          'member of B: only clinic B''s hang of call-hang, none of clinic A''s');
select throws_ok($$select public.mark_call_hang('c4000000-0000-4000-8000-00000000000b', 'call-x')$$, '42501', null,
                 'a member cannot call mark_call_hang');
select throws_ok($$update public.calls set outcome = 'booked'$$, '42501', null, 'a member cannot write calls');
reset role;
set local role authenticated;
set local request.jwt.claims = '{"sub": "d4000000-0000-4000-8000-00000000000a", "role": "authenticated"}';
select is((select l.appointments from public.call_log l where l.call_id = 'call-busy'),
          jsonb_build_array(jsonb_build_object('appointmentId', pg_temp.id('b3'), 'kind', 'booked'),
                            jsonb_build_object('appointmentId', pg_temp.id('b3'), 'kind', 'cancelled')),
          'member of A: call_log shows the call''s links');
select is((select count(*)::int from public.call_log l where l.org_id <> 'c4000000-0000-4000-8000-00000000000a'), 0,
          'member of A: nothing of another clinic');
select is((select row(l.hang_count, l.status)::text from public.call_log l where l.call_id = 'call-hang'), row(5, 'ended')::text,
          'member of A: the hangs of its own call');
reset role;

select * from finish();
rollback;
