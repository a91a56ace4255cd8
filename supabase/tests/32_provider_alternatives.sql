-- 32_provider_alternatives (issue 10): alternatives and availability across providers (who is free
-- when, each offer with its provider), check_availability for any / a named provider, DST on provider
-- hours, and rescheduling with providers (kept, moved to a named one, "anyone", refused with the same
-- time elsewhere unless the caller insists), with the provider in lookup and cancel replies. Own clinic.
begin;
select plan(37);

-- Fixture ------------------------------------------------------------------------------------------
-- Clinic Thirty-Two, New York, open every day 09–17 and Sundays also 00–06 (for the DST nights).
--   Dr. Ada Alpha   Mon–Fri 09–12, Sunday 00–06
--   Dr. Ben Beta    no rows: all clinic hours
--   Dr. Cy Gamma    Mon–Fri 13–17, Sunday 03–05
-- All do consult (30 min); nobody does xray.
insert into public.orgs (id, name, timezone, slot_interval_minutes, min_notice_minutes, booking_horizon_days)
values ('c3200000-0000-4000-8000-000000000001', 'Test Clinic Thirty-Two', 'America/New_York', 30, 60, 730);
insert into public.services (org_id, id, code, name, duration_minutes, buffer_minutes, is_default) values
  ('c3200000-0000-4000-8000-000000000001', 'c3200000-0000-4000-8000-0000000005c1', 'consult', 'Consultation', 30, 0, true),
  ('c3200000-0000-4000-8000-000000000001', 'c3200000-0000-4000-8000-0000000005c2', 'xray', 'X-ray', 20, 0, false);
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
select 'c3200000-0000-4000-8000-000000000001', d, '09:00', '17:00' from generate_series(0, 6) d;
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
values ('c3200000-0000-4000-8000-000000000001', 0, '00:00', '06:00');
delete from public.providers where org_id = 'c3200000-0000-4000-8000-000000000001';
insert into public.providers (org_id, id, display_name, short_names) values
  ('c3200000-0000-4000-8000-000000000001', 'c3200000-0000-4000-8000-0000000000a1', 'Dr. Ada Alpha', '{"Dr. Alpha"}'),
  ('c3200000-0000-4000-8000-000000000001', 'c3200000-0000-4000-8000-0000000000b2', 'Dr. Ben Beta', '{"Dr. Beta"}'),
  ('c3200000-0000-4000-8000-000000000001', 'c3200000-0000-4000-8000-0000000000c3', 'Dr. Cy Gamma', '{"Dr. Gamma"}');
insert into public.provider_services (org_id, provider_id, service_id)
select p.org_id, p.id, 'c3200000-0000-4000-8000-0000000005c1' from public.providers p
 where p.org_id = 'c3200000-0000-4000-8000-000000000001';
insert into public.provider_hours (org_id, provider_id, weekday, opens_at, closes_at)
select 'c3200000-0000-4000-8000-000000000001', v.p::uuid, v.d, v.o::time, v.c::time
from (select 'c3200000-0000-4000-8000-0000000000a1' as p, d, '09:00' as o, '12:00' as c from generate_series(1, 5) d
      union all
      select 'c3200000-0000-4000-8000-0000000000c3', d, '13:00', '17:00' from generate_series(1, 5) d
      union all
      select 'c3200000-0000-4000-8000-0000000000a1', 0, '00:00', '06:00'
      union all
      select 'c3200000-0000-4000-8000-0000000000c3', 0, '03:00', '05:00') as v;

create function pg_temp.day(p_dow int) returns date language sql as $$
  select d::date from generate_series((now() at time zone 'America/New_York')::date + 14,
                                      (now() at time zone 'America/New_York')::date + 20, interval '1 day') d
   where extract(dow from d) = p_dow limit 1 $$;
create function pg_temp.at(p_dow int, p_time time) returns timestamptz language sql as $$
  select (pg_temp.day(p_dow) + p_time) at time zone 'America/New_York' $$;
create function pg_temp.z(p_ts timestamptz) returns text language sql as $$
  select to_char(p_ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;
create function pg_temp.book(p_name text, p_phone text, p_at timestamptz, p_provider text default null, p_service text default 'consult')
returns jsonb language sql as $$
  select public.book_appointment(p_org_id => 'c3200000-0000-4000-8000-000000000001', p_name => p_name, p_email => null,
    p_phone => p_phone, p_service => p_service, p_scheduled_at => p_at, p_provider => p_provider)::jsonb $$;
create function pg_temp.avail(p_from timestamptz, p_to timestamptz, p_provider text default null, p_first boolean default false,
                              p_limit int default 50, p_service text default 'consult') returns jsonb language sql as $$
  select public.check_availability(p_org_id => 'c3200000-0000-4000-8000-000000000001', p_service => p_service, p_from => p_from,
    p_to => p_to, p_limit => p_limit, p_first_day_only => p_first, p_provider => p_provider)::jsonb $$;
create function pg_temp.names(p_list jsonb) returns text[] language sql as $$
  select array(select e ->> 'providerName' from jsonb_array_elements(p_list) with ordinality x(e, n) order by n) $$;
create function pg_temp.times(p_list jsonb) returns text[] language sql as $$
  select array(select e ->> 'scheduledAt' from jsonb_array_elements(p_list) with ordinality x(e, n) order by n) $$;
create function pg_temp.caller(p_number text) returns jsonb language sql as $$
  select jsonb_build_object('callId', 't32-' || p_number, 'callerNumber', p_number) $$;
create function pg_temp.move(p_phone text, p_to timestamptz, p_provider text default null, p_insist boolean default false,
                             p_id uuid default null) returns jsonb language sql as $$
  select public.reschedule_appointment_atomic(p_org_id => 'c3200000-0000-4000-8000-000000000001', p_caller => pg_temp.caller(p_phone),
    p_new_scheduled_at => p_to, p_appointment_id => p_id, p_provider => p_provider, p_insist_provider => p_insist)::jsonb $$;
create temp table r (k text primary key, j jsonb);

-- Alternatives across providers ------------------------------------------------------------------------
insert into r values
  ('a10', pg_temp.book('Amy', '+15550032001', pg_temp.at(1, '10:00'), 'Dr. Alpha')),
  ('b10', pg_temp.book('Bo', '+15550032002', pg_temp.at(1, '10:00'))),
  ('none10', pg_temp.book('Cid', '+15550032003', pg_temp.at(1, '10:00')));
select is((select j -> 'provider' ->> 'name' from r where k = 'b10'), 'Dr. Ben Beta',
          'any at Monday 10:00 with Dr. Alpha taken: Dr. Beta (Dr. Gamma works afternoons)');
select is((select j ->> 'error' from r where k = 'none10'), 'slot_unavailable', 'a third at 10:00: slot_unavailable');
select is((select pg_temp.times(j -> 'alternativeSlots') from r where k = 'none10'),
          array[pg_temp.z(pg_temp.at(1, '09:00')), pg_temp.z(pg_temp.at(1, '09:30')), pg_temp.z(pg_temp.at(1, '10:30'))],
          'alternatives: the nearest times at which someone is free (9:30, 10:30, then 9:00), chronological');
select is((select pg_temp.names(j -> 'alternativeSlots') from r where k = 'none10'),
          array['Dr. Ada Alpha', 'Dr. Ada Alpha', 'Dr. Ada Alpha'],
          'each with the provider the fair rule picks (equal that day and in recency: by name)');

-- check_availability -------------------------------------------------------------------------------------
insert into r values ('avail_any', pg_temp.avail(pg_temp.at(1, '09:00'), pg_temp.at(1, '13:30')));
select is((select j -> 'slots' from r where k = 'avail_any'),
          (select jsonb_agg(pg_temp.z(pg_temp.at(1, t)) order by t) from unnest(array[time '09:00', '09:30', '10:30', '11:00', '11:30',
                                                                                     '12:00', '12:30', '13:00']) t),
          'any provider: every start someone is free (10:00 is full), the afternoon with Dr. Beta and Dr. Gamma');
select is((select pg_temp.names(j -> 'slotProviders') from r where k = 'avail_any'),
          array['Dr. Ada Alpha', 'Dr. Ada Alpha', 'Dr. Ada Alpha', 'Dr. Ada Alpha', 'Dr. Ada Alpha', 'Dr. Ben Beta', 'Dr. Ben Beta',
                'Dr. Cy Gamma'],
          'slotProviders: who would be booked at each (Dr. Alpha until her noon; at 13:00 Dr. Gamma, who has no booking that day)');
select is((select pg_temp.times(j -> 'slotProviders') from r where k = 'avail_any'),
          (select array(select x from jsonb_array_elements_text(j -> 'slots') x) from r where k = 'avail_any'),
          'slotProviders are in the order of slots');
select is((select j -> 'provider' from r where k = 'avail_any'), 'null'::jsonb, 'no provider named: provider null');
insert into r values ('avail_gamma', pg_temp.avail(pg_temp.at(1, '09:00'), null, 'Dr. Gamma', false, 3));
select is((select j -> 'slots' from r where k = 'avail_gamma'),
          jsonb_build_array(pg_temp.z(pg_temp.at(1, '13:00')), pg_temp.z(pg_temp.at(1, '13:30')), pg_temp.z(pg_temp.at(1, '14:00'))),
          'a named provider: only his times (Dr. Gamma from 13:00)');
select is((select (j -> 'provider' ->> 'name') || '|' || array_to_string(pg_temp.names(j -> 'slotProviders'), ',') from r where k = 'avail_gamma'),
          'Dr. Cy Gamma|Dr. Cy Gamma,Dr. Cy Gamma,Dr. Cy Gamma', '... each with him');
select is(jsonb_array_length(pg_temp.avail(pg_temp.at(1, '14:00'), null, 'Dr. Gamma', true) -> 'slots'), 6,
          'first day only, named: the rest of that day with him (14:00-16:30)');
select is(pg_temp.avail(pg_temp.at(1, '09:00'), null, 'Dr. Nobody') ->> 'error', 'unknown_provider', 'an unknown name: unknown_provider');
select is(pg_temp.avail(pg_temp.at(1, '09:00'), null, null, false, 3, 'xray') - 'service' - 'timezone',
          '{"success": false, "error": "provider_not_qualified", "message": "No provider of this clinic performs this service", "provider": null, "providers": []}'::jsonb,
          'a service nobody performs: provider_not_qualified, with nobody to offer');
select is(pg_temp.book('Xen', '+15550032009', pg_temp.at(1, '11:00'), null, 'xray') ->> 'error', 'provider_not_qualified',
          'booking it: provider_not_qualified too');

-- DST on provider hours (America/New_York: spring forward and fall back at 02:00 on Sundays) ----------------
create temp table dst as
select (select d from (select make_date(y, 3, 8) + ((7 - extract(dow from make_date(y, 3, 8))::int) % 7) as d
                         from generate_series(extract(year from now())::int, extract(year from now())::int + 1) y) x
         where d > (now() at time zone 'America/New_York')::date + 2 order by d limit 1) as spring,
       (select d from (select make_date(y, 11, 1) + ((7 - extract(dow from make_date(y, 11, 1))::int) % 7) as d
                         from generate_series(extract(year from now())::int, extract(year from now())::int + 1) y) x
         where d > (now() at time zone 'America/New_York')::date + 2 order by d limit 1) as fall;
create function pg_temp.night(p_day date, p_provider text) returns jsonb language sql as $$
  select pg_temp.avail((p_day + time '00:00') at time zone 'America/New_York', (p_day + time '07:00') at time zone 'America/New_York',
                       p_provider) -> 'slots' $$;
select is(jsonb_array_length(pg_temp.night((select spring from dst), 'Dr. Alpha')), 10,
          'spring forward, Dr. Alpha 00:00-06:00: 12 wall-clock slots minus the skipped 02:00 and 02:30');
select is(pg_temp.night((select spring from dst), 'Dr. Gamma'),
          (select jsonb_agg(to_char((spring + t) at time zone 'America/New_York' at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') order by t)
             from dst, unnest(array[time '03:00', '03:30', '04:00', '04:30']) t),
          'spring forward, Dr. Gamma 03:00-05:00 EDT: 03:00 is 07:00Z, four slots');
select is(pg_temp.night((select spring from dst), 'Dr. Gamma') ->> 0,
          to_char((select spring from dst) + time '07:00', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), '(03:00 EDT = 07:00Z)');
select is(pg_temp.night((select fall from dst), 'Dr. Gamma') ->> 0,
          to_char((select fall from dst) + time '08:00', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
          'fall back, Dr. Gamma 03:00 EST = 08:00Z (the repeated 01:xx hour is not his)');
select is(jsonb_array_length(pg_temp.night((select fall from dst), 'Dr. Alpha')), 12,
          'fall back, Dr. Alpha 00:00-06:00: 12 wall-clock slots, the repeated hour not doubled');
select is(pg_temp.book('Dee', '+15550032010', ((select spring from dst) + time '05:00') at time zone 'America/New_York', 'Dr. Gamma') ->> 'error',
          'provider_unavailable', 'spring forward: Dr. Gamma at 05:00 EDT (his hours end then) is provider_unavailable');
select is(pg_temp.book('Dee', '+15550032010', ((select spring from dst) + time '04:30') at time zone 'America/New_York', 'Dr. Gamma') ->> 'scheduledAt',
          to_char((select spring from dst) + time '08:30', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), '... 04:30 EDT (08:30Z) is his');

-- Rescheduling with providers ------------------------------------------------------------------------------
insert into r values ('rae', pg_temp.book('Rae Mover', '+15550032020', pg_temp.at(1, '14:00'), 'Dr. Gamma'));
insert into r values ('keep', pg_temp.move('+15550032020', pg_temp.at(1, '15:00')));
select is((select (j ->> 'success') || '|' || (j -> 'provider' ->> 'name') || '|' || (j -> 'previousProvider' ->> 'name') from r where k = 'keep'),
          'true|Dr. Cy Gamma|Dr. Cy Gamma', 'no provider asked: the appointment stays with its provider');
insert into r values ('zed', pg_temp.book('Zed', '+15550032021', pg_temp.at(1, '16:00'), 'Dr. Gamma'));
insert into r values ('busy', pg_temp.move('+15550032020', pg_temp.at(1, '16:00')));
select is((select (j ->> 'error') || '|' || (j -> 'provider' ->> 'name') from r where k = 'busy'), 'slot_unavailable|Dr. Cy Gamma',
          'his time is taken: slot_unavailable, naming the provider it stays with');
select is((select pg_temp.times(j -> 'alternativeSlots') from r where k = 'busy'),
          array[pg_temp.z(pg_temp.at(1, '15:00')), pg_temp.z(pg_temp.at(1, '15:30')), pg_temp.z(pg_temp.at(1, '16:30')),
                pg_temp.z(pg_temp.at(1, '16:00'))],
          'his nearest times (her own 15:00 counts as free), then 16:00 with someone else');
select is((select pg_temp.names(j -> 'alternativeSlots') from r where k = 'busy'),
          array['Dr. Cy Gamma', 'Dr. Cy Gamma', 'Dr. Cy Gamma', 'Dr. Ben Beta'], '... Dr. Beta at 16:00');
select is(pg_temp.names(pg_temp.move('+15550032020', pg_temp.at(1, '16:00'), null, true) -> 'alternativeSlots'),
          array['Dr. Cy Gamma', 'Dr. Cy Gamma', 'Dr. Cy Gamma'], 'insisting on her provider: only his times');
select is((select starts_at from public.appointments where id = (select (j ->> 'appointmentId')::uuid from r where k = 'rae')),
          pg_temp.at(1, '15:00'), 'refusals left the appointment where it was');
insert into r values ('to_beta', pg_temp.move('+15550032020', pg_temp.at(1, '16:00'), 'Dr. Beta'));
select is((select (j ->> 'success') || '|' || (j -> 'provider' ->> 'name') || '|' || (j -> 'previousProvider' ->> 'name') from r where k = 'to_beta'),
          'true|Dr. Ben Beta|Dr. Cy Gamma', 'moved to a named provider and another time in one update');
select is((select kind || '|' || (payload ->> 'previousProviderId') || '|' || (payload ->> 'providerId') || '|' || (payload -> 'changed')::text
             from public.appointment_events
            where appointment_id = (select (j ->> 'appointmentId')::uuid from r where k = 'rae') order by id desc limit 1),
          'rescheduled|c3200000-0000-4000-8000-0000000000c3|c3200000-0000-4000-8000-0000000000b2|["starts_at", "ends_at", "provider_id"]',
          'one rescheduled event with the previous provider');
insert into r values ('anyone', pg_temp.move('+15550032020', pg_temp.at(1, '13:30'), 'anyone'));
select is((select j -> 'provider' ->> 'name' from r where k = 'anyone'), 'Dr. Ben Beta',
          '"anyone": the current provider first when free (Dr. Gamma is free at 13:30 too)');
select is(pg_temp.move('+15550032020', pg_temp.at(1, '15:30'), 'Dr. Nobody') - 'service' - 'timezone' - 'providers',
          '{"success": false, "error": "unknown_provider", "message": "No provider of this clinic matches that name"}'::jsonb,
          'an unknown provider: unknown_provider');
select is(pg_temp.move('+15550032020', pg_temp.at(1, '15:30'), 'Dr. Alpha') ->> 'error', 'provider_unavailable',
          'a named provider who does not work then: provider_unavailable');
insert into r values ('rae2', pg_temp.book('Rae Mover', '+15550032020', pg_temp.at(2, '10:00')));
select is((pg_temp.move('+15550032020', pg_temp.at(2, '10:00'), null, false, (select (j ->> 'appointmentId')::uuid from r where k = 'rae')))
            #>> '{appointment,appointmentId}',
          (select j ->> 'appointmentId' from r where k = 'rae2'),
          'moving onto the patient''s other visit: patient_busy, describing it to the verified caller');
update public.providers set active = false where id = 'c3200000-0000-4000-8000-0000000000b2';
select is(pg_temp.move('+15550032020', pg_temp.at(1, '14:30'), null, false, (select (j ->> 'appointmentId')::uuid from r where k = 'rae'))
            -> 'provider' ->> 'name', 'Dr. Cy Gamma', 'her provider left (inactive): a reschedule books whoever does the visit then');
update public.providers set active = true where id = 'c3200000-0000-4000-8000-0000000000b2';

-- Lookup and cancel replies name the provider ----------------------------------------------------------
select is((select bool_and(e -> 'provider' ? 'id' and e -> 'provider' ? 'name')
             from jsonb_array_elements(public.find_upcoming_appointments('c3200000-0000-4000-8000-000000000001',
                                                                         pg_temp.caller('+15550032020'))::jsonb -> 'appointments') e),
          true, 'find_upcoming_appointments: each appointment has provider {id, name}');
select is(public.find_caller_appointment(p_org_id => 'c3200000-0000-4000-8000-000000000001', p_caller => pg_temp.caller('+15550032020'),
            p_appointment_id => (select (j ->> 'appointmentId')::uuid from r where k = 'rae'))::jsonb #>> '{appointment,provider,name}',
          'Dr. Cy Gamma', 'find_caller_appointment: the moved one is with Dr. Gamma');
select is(public.cancel_appointment(p_org_id => 'c3200000-0000-4000-8000-000000000001', p_caller => pg_temp.caller('+15550032020'),
            p_appointment_id => (select (j ->> 'appointmentId')::uuid from r where k = 'rae'))::jsonb -> 'provider' ->> 'name',
          'Dr. Cy Gamma', 'cancel_appointment names the provider');

select * from finish();
rollback;
