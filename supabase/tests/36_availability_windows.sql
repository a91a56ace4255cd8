-- Loose times in availability (issue 11 §2): check_availability with a day and a window (p_day,
-- p_after, p_before, p_near) instead of an instant — what is free in the window, or why nothing is
-- (windowEmpty) and the nearest other openings, the same day's first; an exact time (p_at) when the
-- clinic is shut says so (outside_hours) and offers that day's nearest. The original contract (p_from)
-- is 15_availability_profile_vapi.sql's.
begin;
select plan(48);

-- Mon–Fri 09:00–12:00 and 13:00–17:00, Sat 09:00–13:00; 30-minute grid, 60 minutes' notice, 60 days ahead.
insert into public.orgs (id, name, timezone, slot_interval_minutes, min_notice_minutes, booking_horizon_days)
values ('c3600000-0000-4000-8000-000000000001', 'Window Clinic', 'America/New_York', 30, 60, 60),
       ('c3600000-0000-4000-8000-000000000002', 'Always Open', 'America/New_York', 30, 60, 60);
insert into public.services (org_id, code, name, duration_minutes, buffer_minutes, is_default) values
  ('c3600000-0000-4000-8000-000000000001', 'consult', 'Consultation', 30, 0, true),
  ('c3600000-0000-4000-8000-000000000002', 'consult', 'Consultation', 30, 0, true);
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
select 'c3600000-0000-4000-8000-000000000001'::uuid, d, t.o, t.c
  from generate_series(1, 5) d, (values (time '09:00', time '12:00'), (time '13:00', time '17:00')) t(o, c)
union all select 'c3600000-0000-4000-8000-000000000001', 6, '09:00', '13:00'
union all select 'c3600000-0000-4000-8000-000000000002', d, '00:00', '24:00' from generate_series(0, 6) d;

create function pg_temp.day(p_offset int, p_dow int) returns date language sql as $$
  select d::date from generate_series((now() at time zone 'America/New_York')::date + p_offset,
                                      (now() at time zone 'America/New_York')::date + p_offset + 6, interval '1 day') d
  where extract(dow from d) = p_dow limit 1 $$;
create function pg_temp.iso(p_day date, p_time time) returns text language sql as $$
  select to_char(((p_day + p_time) at time zone 'America/New_York') at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;
create function pg_temp.isos(p_day date, variadic p_times time[]) returns jsonb language sql as $$
  select coalesce(jsonb_agg(pg_temp.iso(p_day, t) order by n), '[]') from unnest(p_times) with ordinality as x(t, n) $$;
create function pg_temp.avail(p_day date, p_after time default null, p_before time default null,
                              p_near time default null, p_limit int default 3, p_provider text default null,
                              p_at time default null)
returns json language sql as $$
  select public.check_availability(p_org_id => 'c3600000-0000-4000-8000-000000000001', p_service => null,
    p_day => p_day, p_after => p_after, p_before => p_before, p_near => p_near, p_limit => p_limit,
    p_provider => p_provider, p_at => p_at) $$;
create function pg_temp.take(p_day date, variadic p_times time[]) returns void language sql as $$
  select count(public.book_appointment_atomic_v2(
    p_org_id => 'c3600000-0000-4000-8000-000000000001', p_name => 'Taken ' || t, p_email => null,
    p_phone => '+1415555' || lpad((3600 + n)::text, 4, '0'), p_service => 'consult',
    p_scheduled_at => (p_day + t) at time zone 'America/New_York'))
    from unnest(p_times) with ordinality as x(t, n) $$;
create temp table d as select pg_temp.day(14, 3) as wed, pg_temp.day(14, 0) as sun, pg_temp.day(21, 3) as wed2;
create temp table r (k text primary key, j json);

-- Parts of the day, after / before / between ---------------------------------------------------------
select is((pg_temp.avail((select wed from d), p_before => '12:00')->'slots')::jsonb,
          pg_temp.isos((select wed from d), '09:00', '09:30', '10:00'), 'morning (opening–12:00): from opening');
select is((pg_temp.avail((select wed from d), '12:00', '17:00')->'slots')::jsonb,
          pg_temp.isos((select wed from d), '13:00', '13:30', '14:00'), 'afternoon (12:00–17:00): after the lunch break');
select is((pg_temp.avail((select wed from d), '15:00')->'slots')::jsonb,
          pg_temp.isos((select wed from d), '15:00', '15:30', '16:00'), 'after 3: from 15:00, included');
select is((pg_temp.avail((select wed from d), '14:00', '16:00', p_limit => 10)->'slots')::jsonb,
          pg_temp.isos((select wed from d), '14:00', '14:30', '15:00', '15:30'), 'between 2 and 4: 16:00 is not between');
insert into r values ('win', pg_temp.avail((select wed from d), '15:00'));
select is((select (j->'window')::jsonb from r where k = 'win'),
          jsonb_build_object('date', (select wed from d), 'from', '15:00', 'to', null, 'near', null, 'at', null), 'the window is echoed');
select is((select j->>'windowEmpty' from r where k = 'win'), null, 'windowEmpty is null when the slots are in the window');
select is((select (j->'dayHours')::jsonb from r where k = 'win'),
          '[{"opensAt": "09:00", "closesAt": "12:00"}, {"opensAt": "13:00", "closesAt": "17:00"}]'::jsonb, 'the day''s hours');
select is(public.check_availability(p_org_id => 'c3600000-0000-4000-8000-000000000001', p_service => null,
            p_day => (select wed from d))->'slots'->>0, pg_temp.iso((select wed from d), '09:00'), 'no time at all: the whole day');

-- Around: ± 60 minutes, both ends included, nearest first ------------------------------------------
select is((pg_temp.avail((select wed from d), p_near => '14:00')->'slots')::jsonb,
          pg_temp.isos((select wed from d), '13:30', '14:00', '14:30'), 'around 2: the nearest three, chronological');
select is((pg_temp.avail((select wed from d), p_near => '12:30')->'slots')::jsonb,
          pg_temp.isos((select wed from d), '11:30', '13:00', '13:30'), 'around 12:30 (lunch): either side of the break');
select pg_temp.take((select wed from d), '14:30', '15:00', '15:30', '16:00');
select is((pg_temp.avail((select wed from d), p_near => '15:30')->'slots')::jsonb,
          pg_temp.isos((select wed from d), '16:30'), 'around 3:30 with 14:30–16:00 taken: 16:30 (+60, included)');

-- A full window: said for that window, the same day's other openings first, then the next day -----
select pg_temp.take((select wed from d), '16:30');
insert into r values ('full', pg_temp.avail((select wed from d), '15:00'));
select is((select j->>'windowEmpty' from r where k = 'full'), 'full', 'nothing after 3 that day: full');
select is((select (j->'slots')::jsonb from r where k = 'full'),
          pg_temp.isos((select wed from d), '13:30', '14:00') || pg_temp.isos((select wed from d) + 1, '15:00'),
          'the same day''s two nearest (13:30, 14:00), then the next day''s first after 3');
select is((select json_array_length(j->'slotProviders') from r where k = 'full'), 3, 'with who would be booked');
insert into r values ('evening', pg_temp.avail((select wed2 from d), '17:00'));
select is((select j->>'windowEmpty' from r where k = 'evening'), 'outside_hours', 'after 5 at a clinic closing at 5: outside_hours');
select is((select (j->'slots')::jsonb from r where k = 'evening'),
          pg_temp.isos((select wed2 from d), '15:30', '16:00', '16:30'),
          'the same day''s latest, and no other day (the window meets the hours on none)');
select is((pg_temp.avail((select sun from d))->>'windowEmpty'), 'closed', 'a closed day');
select is((pg_temp.avail((select sun from d))->'slots')::jsonb,
          pg_temp.isos((select sun from d) + 1, '09:00', '09:30', '10:00'), 'a closed day offers the next open day');
select is((pg_temp.avail((select sun from d) - 1, p_after => '12:00')->'slots')::jsonb,
          pg_temp.isos((select sun from d) - 1, '12:00', '12:30'), 'Saturday after noon (open 9–1): 12:00 and 12:30 still fit');
select is((pg_temp.avail((select sun from d) - 1, p_after => '13:00')->>'windowEmpty'), 'outside_hours',
          'Saturday after 1 (open 9–1): outside_hours');
insert into public.closures (org_id, during, reason)
values ('c3600000-0000-4000-8000-000000000001',
        tstzrange(((select wed2 from d) + 1)::timestamp at time zone 'America/New_York',
                  ((select wed2 from d) + 2)::timestamp at time zone 'America/New_York'), 'Training');
select is((pg_temp.avail((select wed2 from d) + 1, p_before => '12:00')->>'windowEmpty'), 'closed', 'a closure day is closed');

-- An exact time: from then on when the clinic is open then; else said, with the nearest openings ----
insert into r values ('at7', pg_temp.avail((select wed from d) + 1, p_at => '07:00'));
select is((select j->>'windowEmpty' from r where k = 'at7'), 'outside_hours', 'at 7 AM (opens at 9): outside_hours');
select is((select (j->'slots')::jsonb from r where k = 'at7'),
          pg_temp.isos((select wed from d) + 1, '09:00', '09:30') || pg_temp.isos((select wed from d) + 2, '09:00'),
          'the same day''s nearest two, then the next day''s first from then on');
select is((select (j->'window'->>'at') from r where k = 'at7'), '07:00', 'the exact time is echoed');
insert into r values ('lunch', pg_temp.avail((select wed from d) + 1, p_at => '12:30'));
select is((select j->>'windowEmpty' from r where k = 'lunch'), 'outside_hours', 'at 12:30 (shut for lunch): outside_hours');
select is((select (j->'slots')::jsonb from r where k = 'lunch'),
          pg_temp.isos((select wed from d) + 1, '11:30', '13:00') || pg_temp.isos((select wed from d) + 2, '13:00'),
          'either side of the break, nearest first (13:00, then 11:30 before 13:30), then the next day');
select is(pg_temp.avail((select wed from d) + 1, p_at => '00:00')->>'windowEmpty', 'outside_hours', 'at midnight: outside_hours');
select is(pg_temp.avail((select wed from d) + 1, p_at => '17:00')->>'windowEmpty', 'outside_hours',
          'at 5 PM (closes at 5): outside_hours');
insert into r values ('at10', pg_temp.avail((select wed from d) + 1, p_at => '10:00'));
select is((select (j->'slots')::jsonb || coalesce(to_jsonb(j->>'windowEmpty'), 'null'::jsonb) from r where k = 'at10'),
          pg_temp.isos((select wed from d) + 1, '10:00', '10:30', '11:00') || 'null'::jsonb,
          'at 10 when open: from then on, the time itself first, nothing odd');
select is(pg_temp.avail((select sun from d), p_at => '10:00')->>'windowEmpty', 'closed', 'at 10 on a closed day: closed');
select is(pg_temp.avail((select wed from d), '09:00', p_at => '10:00')->>'error', 'invalid_input',
          'an exact time is its own window');

-- A provider's own hours -------------------------------------------------------------------------
update public.providers set display_name = 'Dr. Window' where org_id = 'c3600000-0000-4000-8000-000000000001';
insert into public.providers (org_id, id, display_name) values
  ('c3600000-0000-4000-8000-000000000001', 'c3600000-0000-4000-8000-0000000000d2', 'Dr. Tuesday');
insert into public.provider_services (org_id, provider_id, service_id)
select 'c3600000-0000-4000-8000-000000000001', 'c3600000-0000-4000-8000-0000000000d2', s.id
  from public.services s where s.org_id = 'c3600000-0000-4000-8000-000000000001';
insert into public.provider_hours (org_id, provider_id, weekday, opens_at, closes_at)
values ('c3600000-0000-4000-8000-000000000001', 'c3600000-0000-4000-8000-0000000000d2', 2, '09:00', '17:00');
insert into r values ('tue', pg_temp.avail((select wed2 from d), '15:00', p_provider => 'Dr. Tuesday'));
select is((select j->>'windowEmpty' from r where k = 'tue'), 'provider_off', 'a named provider who does not work that day');
select is((select (j->'slots')::jsonb from r where k = 'tue'),
          pg_temp.isos((select wed2 from d) + 6, '15:00', '15:30', '16:00'), 'offers their next day, in the window');
select is((select j->'provider'->>'name' from r where k = 'tue'), 'Dr. Tuesday', 'and says whose');
select is(pg_temp.avail((select wed2 from d), p_at => '10:00', p_provider => 'Dr. Tuesday')->>'windowEmpty',
          'provider_off', 'an exact time on a day the named provider does not work: provider_off');
select is((pg_temp.avail((select wed2 from d) - 1, '15:00', p_provider => 'Dr. Tuesday')->'slots')::jsonb,
          pg_temp.isos((select wed2 from d) - 1, '15:00', '15:30', '16:00'), 'on their day, their times in the window');

-- Beyond the horizon, in the past, today, bad windows ---------------------------------------------
insert into r values ('far', pg_temp.avail((now() at time zone 'America/New_York')::date + 90, '15:00'));
select is((select j->>'error' || ' ' || (j->>'bookingHorizonDays') from r where k = 'far'), 'too_far_ahead 60',
          'a day beyond the horizon: too_far_ahead, saying how far ahead the clinic books');
select ok((select json_array_length(j->'alternatives') > 0
                  and (j->'alternatives'->>0)::timestamptz <= now() + interval '61 days' from r where k = 'far'),
          'with the latest times inside the horizon');
-- The horizon is whole clinic-local days: the 60th day is bookable all day whatever the hour now; the 61st is not
select is(private.horizon_end('America/New_York', 60),
          (((now() at time zone 'America/New_York')::date + 61)::timestamp at time zone 'America/New_York') - interval '1 microsecond',
          'horizon_end: the last microsecond of the clinic-local day 60 days after today');
select is(json_array_length(pg_temp.avail((now() at time zone 'America/New_York')::date + 60, '00:00', p_limit => 48)->'slots'),
          case extract(dow from (now() at time zone 'America/New_York')::date + 60)::int when 0 then 0 when 6 then 8 else 14 end,
          'the last day of the horizon: every opening of the clinic''s day is listed (14 on a weekday, 8 on Saturday), at any hour of asking');
select is(pg_temp.avail((now() at time zone 'America/New_York')::date + 61)->>'error', 'too_far_ahead',
          'the day after it: too_far_ahead');
select is(public.check_availability(p_org_id => 'c3600000-0000-4000-8000-000000000002', p_service => null,
            p_day => (now() at time zone 'America/New_York')::date + 60, p_after => '23:30')->'slots'->>0,
          pg_temp.iso((now() at time zone 'America/New_York')::date + 60, '23:30'),
          'a 24-hour clinic: the last day''s 23:30 is inside the horizon');
select is(pg_temp.avail((now() at time zone 'America/New_York')::date - 1)->>'error', 'in_past', 'a past day: in_past');
select is(public.check_availability(p_org_id => 'c3600000-0000-4000-8000-000000000001', p_service => null)->'window'->>'date',
          ((now() at time zone 'America/New_York')::date)::text, 'no day and no instant: the clinic''s today');
select is(public.check_availability(p_org_id => 'c3600000-0000-4000-8000-000000000002', p_service => null,
            p_day => (now() at time zone 'America/New_York')::date, p_before => '00:30')->>'windowEmpty', 'passed',
          'a window that is over today: passed');
select is(public.check_availability(p_org_id => 'c3600000-0000-4000-8000-000000000001', p_service => null,
            p_from => now(), p_day => (select wed from d))->>'error', 'invalid_input', 'an instant and a day: invalid_input');
select is(pg_temp.avail((select wed from d), '14:00', p_near => '15:00')->>'error', 'invalid_input', 'around is its own window');
select is(pg_temp.avail((select wed from d), '16:00', '14:00')->>'error', 'invalid_input', 'a window ending before it starts');

select * from finish();
rollback;
