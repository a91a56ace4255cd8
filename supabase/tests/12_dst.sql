-- DST in America/New_York: the next spring-forward Sunday (2027-03-14 when written) and the next
-- fall-back Sunday (2027-11-07). Local wall-clock → instant must follow the zone's offset that day,
-- and generated slots must be the right local times (gap skipped, repeated hour not doubled).
begin;
select plan(13);

insert into public.orgs (id, name, timezone, slot_interval_minutes, min_notice_minutes, booking_horizon_days)
values ('c1200000-0000-4000-8000-000000000001', 'Test DST Clinic', 'America/New_York', 30, 60, 730);
insert into public.services (org_id, code, name, duration_minutes, buffer_minutes, is_default)
values ('c1200000-0000-4000-8000-000000000001', 'consult', 'Consultation', 30, 0, true);
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
select 'c1200000-0000-4000-8000-000000000001', d, '09:00', '17:00' from generate_series(0, 6) d;
-- an overnight Sunday interval spanning the 02:00 transitions
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
values ('c1200000-0000-4000-8000-000000000001', 0, '00:00', '06:00');

-- next transition Sundays (US rules): 2nd Sunday of March, 1st Sunday of November
create function pg_temp.next_sunday_on_or_after(p_month int, p_day int) returns date language sql as $$
  select d from (
    select make_date(y, p_month, p_day) + ((7 - extract(dow from make_date(y, p_month, p_day))::int) % 7) as d
    from generate_series(extract(year from now())::int, extract(year from now())::int + 1) y) x
  where d > (now() at time zone 'America/New_York')::date + 2
  order by d limit 1 $$;
create temp table d as select pg_temp.next_sunday_on_or_after(3, 8) as spring, pg_temp.next_sunday_on_or_after(11, 1) as fall;
create function pg_temp.book(p_phone text, p_local timestamp) returns json language sql as $$
  select public.book_appointment_atomic_v2(
    p_org_id => 'c1200000-0000-4000-8000-000000000001', p_name => 'DST Patient', p_email => null,
    p_phone => p_phone, p_service => 'consult', p_scheduled_at => p_local at time zone 'America/New_York') $$;
create function pg_temp.z(p_day date, p_utc time) returns text language sql as $$
  select to_char(p_day + p_utc, 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;
create function pg_temp.avail(p_from timestamp, p_to timestamp, p_first boolean default false) returns jsonb language sql as $$
  select (public.check_availability(p_org_id => 'c1200000-0000-4000-8000-000000000001', p_service => 'consult',
          p_from => p_from at time zone 'America/New_York', p_to => p_to at time zone 'America/New_York',
          p_limit => 50, p_first_day_only => p_first)->'slots')::jsonb $$;

select ok(extract(dow from (select spring from d)) = 0 and extract(dow from (select fall from d)) = 0, 'transition days are Sundays');

-- Local 10:00 ↔ UTC ------------------------------------------------------------------------------------
select is(pg_temp.book('+13055550001', (select spring from d) + time '10:00')->>'scheduledAt',
          pg_temp.z((select spring from d), '14:00'), 'spring-forward day: 10:00 EDT = 14:00Z');
select is(pg_temp.book('+13055550002', (select spring from d) - 1 + time '10:00')->>'scheduledAt',
          pg_temp.z((select spring from d) - 1, '15:00'), 'day before: 10:00 EST = 15:00Z');
select is(pg_temp.book('+13055550003', (select fall from d) + time '10:00')->>'scheduledAt',
          pg_temp.z((select fall from d), '15:00'), 'fall-back day: 10:00 EST = 15:00Z');
select is(pg_temp.book('+13055550004', (select fall from d) - 1 + time '10:00')->>'scheduledAt',
          pg_temp.z((select fall from d) - 1, '14:00'), 'day before: 10:00 EDT = 14:00Z');

-- Alternatives on the transition day are EDT wall-clock slots -------------------------------------------
select is((pg_temp.book('+13055550005', (select spring from d) + time '10:00')->'alternatives')::jsonb,
          jsonb_build_array(pg_temp.z((select spring from d), '13:00'), pg_temp.z((select spring from d), '13:30'),
                            pg_temp.z((select spring from d), '14:30')),
          'spring day alternatives = 09:00, 09:30, 10:30 EDT');
select is((pg_temp.book('+13055550006', (select fall from d) + time '10:00')->'alternatives')::jsonb,
          jsonb_build_array(pg_temp.z((select fall from d), '14:00'), pg_temp.z((select fall from d), '14:30'),
                            pg_temp.z((select fall from d), '15:30')),
          'fall day alternatives = 09:00, 09:30, 10:30 EST');

-- Overnight interval across the transition ---------------------------------------------------------------
select is(jsonb_array_length(pg_temp.avail((select spring from d) + time '00:00', (select spring from d) + time '07:00')),
          10, 'spring day 00:00–06:00: 12 wall-clock slots minus the skipped 02:00 and 02:30');
select is(pg_temp.avail((select spring from d) + time '00:00', (select spring from d) + time '07:00') -> 4,
          to_jsonb(pg_temp.z((select spring from d), '07:00')), 'after 01:30 EST comes 03:00 EDT (07:00Z)');
select ok(not exists (
            select 1 from jsonb_array_elements_text(pg_temp.avail((select spring from d) + time '00:00', (select spring from d) + time '07:00')) s
            where extract(hour from (s::timestamptz at time zone 'America/New_York')) = 2),
          'no slot in the nonexistent 02:xx hour');
select is(jsonb_array_length(pg_temp.avail((select fall from d) + time '00:00', (select fall from d) + time '06:00')),
          12, 'fall day 00:00–06:00: 12 wall-clock slots, repeated hour not doubled');
select is(pg_temp.avail((select fall from d) + time '00:00', (select fall from d) + time '06:00') -> -1,
          to_jsonb(pg_temp.z((select fall from d), '10:30')), 'last overnight slot 05:30 EST = 10:30Z');

-- first_day_only from the morning after the overnight block: 09:00 EDT is the first slot
select is(pg_temp.avail((select spring from d) + time '07:00', null, true) -> 0,
          to_jsonb(pg_temp.z((select spring from d), '13:00')), 'first slot on the spring day after 07:00 is 09:00 EDT');

select * from finish();
rollback;
