-- Two identical booking calls from one caller in one turn (issue 11 §4): a model's parallel tool calls
-- carry one Vapi call id and two tool-call ids (two idempotency keys). The later one is answered with
-- the booking the first made (replayed), never "that time is taken" after a confirmation; anything
-- that differs (another call, service, time, provider, patient) is still refused, and the v2 contract
-- still meets its conflict. The replay also needs the same caller: a request carrying the call id of
-- someone else's booking but another caller number is refused like any other (the first booking's
-- caller number is the one its access-log row recorded). The concurrent case runs through the webhook
-- (tests/test_receptionist_webhook.py).
begin;
select plan(29);

insert into public.orgs (id, name, timezone, slot_interval_minutes, min_notice_minutes, booking_horizon_days)
values ('c3500000-0000-4000-8000-000000000001', 'Same Call Clinic', 'America/New_York', 30, 60, 365);
insert into public.services (org_id, code, name, duration_minutes, buffer_minutes, is_default) values
  ('c3500000-0000-4000-8000-000000000001', 'consult', 'Consultation', 30, 0, true),
  ('c3500000-0000-4000-8000-000000000001', 'checkup', 'Checkup', 20, 10, false);
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
select 'c3500000-0000-4000-8000-000000000001', d, '09:00', '17:00' from generate_series(1, 5) d;

create function pg_temp.at(p_time time) returns timestamptz language sql as $$
  select ((select d::date from generate_series((now() at time zone 'America/New_York')::date + 14,
                                               (now() at time zone 'America/New_York')::date + 20, interval '1 day') d
            where extract(dow from d) = 3 limit 1) + p_time) at time zone 'America/New_York' $$;
create function pg_temp.book(p_key text, p_call text, p_name text, p_service text, p_time time,
                             p_phone text default '+14155553501',
                             p_caller_number text default '+14155553501') returns json language sql as $$
  select public.book_appointment(
    p_org_id => 'c3500000-0000-4000-8000-000000000001', p_name => p_name, p_email => null, p_phone => p_phone,
    p_service => p_service, p_scheduled_at => pg_temp.at(p_time), p_idempotency_key => p_key, p_source => 'vapi',
    p_caller => case when p_call is null then null
                     else jsonb_build_object('callId', p_call, 'callerNumber', p_caller_number, 'source', 'vapi') end) $$;
create temp table r (k text primary key, j json);

-- one call, two tool calls asking for the same booking ---------------------------------------------
insert into r values ('first', pg_temp.book('vapi:call-a:tool-1', 'call-a', 'Ann Same', 'consult', '10:00'));
insert into r values ('second', pg_temp.book('vapi:call-a:tool-2', 'call-a', 'ann same', 'Consultation', '10:00'));
select is((select (j->>'success')::boolean from r where k = 'first'), true, 'the first tool call books');
select is((select (j->>'success')::boolean from r where k = 'second'), true, 'the identical second tool call succeeds too');
select is((select j->>'appointmentId' from r where k = 'second'), (select j->>'appointmentId' from r where k = 'first'),
          'with the same appointment');
select is((select (j->>'replayed')::boolean from r where k = 'second'), true, 'answered as a replay of it');
select is((select count(*)::int from public.appointments where org_id = 'c3500000-0000-4000-8000-000000000001'), 1,
          'one booking');
select is((select count(*)::int from public.appointment_events
            where org_id = 'c3500000-0000-4000-8000-000000000001' and kind = 'booked'), 1, 'one booked event');
select is((select array_agg(outcome order by id) from public.caller_access_log where call_id = 'call-a'),
          array['booked', 'booked'], 'both tool calls are logged as the booking');

-- the same call id from another caller is no replay (a spoofed call id) --------------------------------
insert into r values ('spoof', pg_temp.book('vapi:call-a:tool-s1', 'call-a', 'Ann Same', 'consult', '10:00',
                                             p_caller_number => '+14155553666'));
select is((select j->>'error' from r where k = 'spoof'), 'patient_busy',
          'same call id, same request, another caller number: refused, not replayed');
select ok((select (j::jsonb ? 'appointmentId') is false and (j::jsonb ? 'appointment') is false from r where k = 'spoof'),
          'and the refusal names no appointment');
select is(pg_temp.book('vapi:call-a:tool-s2', 'call-a', 'Ann Same', 'consult', '10:00', p_caller_number => null)->>'error',
          'patient_busy', 'same call id with the caller ID withheld, when the booking had one: refused');

-- a withheld caller ID on both tool calls is still the same caller
insert into r values ('w1', pg_temp.book('vapi:call-w:tool-1', 'call-w', 'Wes Withheld', 'consult', '14:00',
                                          '+14155553502', null));
insert into r values ('w2', pg_temp.book('vapi:call-w:tool-2', 'call-w', 'Wes Withheld', 'consult', '14:00',
                                          '+14155553502', null));
select is((select (j->>'replayed')::boolean from r where k = 'w2'), true,
          'no caller ID on either parallel tool call: the second is a replay');
select is((select j->>'appointmentId' from r where k = 'w2'), (select j->>'appointmentId' from r where k = 'w1'),
          'of the same appointment');
select is(pg_temp.book('vapi:call-w:tool-3', 'call-w', 'Wes Withheld', 'consult', '14:00', '+14155553502',
                       '+14155553502')->>'error', 'patient_busy',
          'a caller ID on a request replaying a booking made without one: refused');
select is((select count(*)::int from public.appointments
            where org_id = 'c3500000-0000-4000-8000-000000000001' and status <> 'cancelled'), 2,
          'the spoofs booked nothing');

-- what is not the same request is still refused ----------------------------------------------------
select is(pg_temp.book('vapi:call-b:tool-1', 'call-b', 'Ann Same', 'consult', '10:00')->>'error', 'patient_busy',
          'the same request in another call: patient_busy (the patient already holds it)');
select is(pg_temp.book('vapi:call-a:tool-3', 'call-a', 'Ann Same', 'checkup', '10:00')->>'error', 'patient_busy',
          'same call, another service: patient_busy');
select is(pg_temp.book('vapi:call-a:tool-4', 'call-a', 'Ann Same', 'consult', '10:15')->>'error', 'patient_busy',
          'same call, an overlapping other time: patient_busy');
select is(pg_temp.book('vapi:call-a:tool-5', 'call-a', 'Bob Other', 'consult', '10:00')->>'error', 'slot_unavailable',
          'same call, another patient (a sibling on the phone): the slot is taken');
select is(pg_temp.book('vapi:call-a:tool-6', 'call-a', 'Ann Same', 'consult', '10:00', '+14155553599')->>'error',
          'slot_unavailable', 'same call and name, another phone (another lead): the slot is taken');
select is(pg_temp.book(null, null, 'Ann Same', 'consult', '10:00')->>'error', 'patient_busy',
          'no call id (staff, scripts): never taken for the same call');
select is(public.book_appointment_atomic_v2(
            p_org_id => 'c3500000-0000-4000-8000-000000000001', p_name => 'Ann Same', p_email => null,
            p_phone => '+14155553501', p_service => 'consult', p_scheduled_at => pg_temp.at('10:00'))->>'error',
          'slot_unavailable', 'the v2 contract: the same request again is slot_unavailable');

-- a cancelled first booking is no booking to replay
update public.appointments set status = 'cancelled' where org_id = 'c3500000-0000-4000-8000-000000000001';
insert into r values ('again', pg_temp.book('vapi:call-a:tool-7', 'call-a', 'Ann Same', 'consult', '10:00'));
select is((select (j->>'replayed')::boolean from r where k = 'again'), false, 'after a cancellation the same call books anew');
select isnt((select j->>'appointmentId' from r where k = 'again'), (select j->>'appointmentId' from r where k = 'first'),
            'a new appointment');

-- with a second provider free then, the booking path is taken and the patient's constraint answers as
-- the row is written (book_appointment_core, step 8): the same replies as above
insert into public.providers (org_id, id, display_name)
values ('c3500000-0000-4000-8000-000000000001', 'c3500000-0000-4000-8000-0000000000b2', 'Dr. Second');
insert into public.provider_services (org_id, provider_id, service_id)
select org_id, 'c3500000-0000-4000-8000-0000000000b2', id from public.services
 where org_id = 'c3500000-0000-4000-8000-000000000001';
insert into r values ('two1', pg_temp.book('vapi:call-c:tool-1', 'call-c', 'Cy Twice', 'consult', '11:00'));
insert into r values ('two2', pg_temp.book('vapi:call-c:tool-2', 'call-c', 'cy twice', 'consult', '11:00'));
select is((select (j->>'replayed')::boolean from r where k = 'two2'), true,
          'two providers: the identical second tool call is a replay, not a booking with the other provider');
select is((select j->>'appointmentId' from r where k = 'two2'), (select j->>'appointmentId' from r where k = 'two1'),
          'of the same appointment');
select is(pg_temp.book('vapi:call-c:tool-s', 'call-c', 'Cy Twice', 'consult', '11:00',
                       p_caller_number => '+14155553666')->>'error', 'patient_busy',
          'two providers: same call id from another caller number is refused');
select is(pg_temp.book('vapi:call-d:tool-1', 'call-d', 'Cy Twice', 'consult', '11:00')->>'error', 'patient_busy',
          'two providers: the same request in another call is patient_busy');
select is((select count(*)::int from public.appointments
            where org_id = 'c3500000-0000-4000-8000-000000000001' and status <> 'cancelled'
              and starts_at = pg_temp.at('11:00')), 1,
          'one booking at that time, the other provider still free');
select is(pg_temp.book('vapi:call-e:tool-1', 'call-e', 'Dee Other', 'consult', '11:00')->>'success', 'true',
          'and another patient books the other provider then');

select * from finish();
rollback;
