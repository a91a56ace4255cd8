-- 11_minimum_notice: alternatives and availability never offer a time inside the clinic's minimum
-- notice (issue 13 §4). The booking check refuses such a time as too_soon, so a caller offered one
-- would be refused right after choosing it. The clinic here is open around the clock with a notice
-- of two days, so every time of day the suite runs has free times inside the notice that a mistake
-- would offer (a clinic with office hours only shows it while the suite runs during them).
begin;
select plan(10);

insert into public.orgs (id, name, timezone, slot_interval_minutes, min_notice_minutes, booking_horizon_days)
values ('c1150000-0000-4000-8000-000000000001', 'Around The Clock Clinic', 'Europe/London', 30, 2880, 30);
insert into public.services (org_id, code, name, duration_minutes, buffer_minutes, is_default)
values ('c1150000-0000-4000-8000-000000000001', 'consult', 'Consultation', 30, 0, true);
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
select 'c1150000-0000-4000-8000-000000000001', d, '00:00', '24:00' from generate_series(0, 6) d;

create function pg_temp.book(p_phone text, p_at timestamptz) returns jsonb language sql as $$
  select public.book_appointment_atomic_v2(
    p_org_id => 'c1150000-0000-4000-8000-000000000001', p_name => 'Patient ' || p_phone, p_email => null,
    p_phone => p_phone, p_service => 'consult', p_scheduled_at => p_at)::jsonb $$;
-- every offered time is at least the notice away (now() is the transaction's start, fixed here)
create function pg_temp.all_after_notice(p_times jsonb) returns boolean language sql as $$
  select jsonb_array_length(p_times) > 0
     and bool_and(t::timestamptz >= now() + interval '2880 minutes')
    from jsonb_array_elements_text(p_times) t $$;
-- the first bookable start: the first half hour at or after now() + notice (London's offsets are
-- whole hours, so the clinic's half-hour grid from midnight is the UTC one)
create function pg_temp.first_bookable() returns timestamptz language sql as $$
  select date_bin('30 minutes', now() + interval '2880 minutes' + interval '30 minutes' - interval '1 microsecond',
                  timestamptz '2000-01-01 00:00Z') $$;
create temp table r (k text primary key, j jsonb);

-- availability from now: the first free time is the first one after the notice
insert into r values ('free', public.check_availability(
  p_org_id => 'c1150000-0000-4000-8000-000000000001', p_service => 'consult', p_from => now(), p_to => null,
  p_limit => 3, p_first_day_only => false)::jsonb);
select is((select j ->> 'success' from r where k = 'free'), 'true', 'check_availability answers');
select ok((select pg_temp.all_after_notice(j -> 'slots') from r where k = 'free'),
          'check_availability from now offers nothing inside the minimum notice');
select is((select (j -> 'slots' ->> 0)::timestamptz from r where k = 'free'), pg_temp.first_bookable(),
          '… and its first time is the first half hour after the notice (the clinic never closes)');
insert into r values ('first_day', public.check_availability(
  p_org_id => 'c1150000-0000-4000-8000-000000000001', p_service => 'consult', p_from => now(), p_to => null,
  p_limit => 3, p_first_day_only => true)::jsonb);
select ok((select pg_temp.all_after_notice(j -> 'slots') from r where k = 'first_day'),
          'check_availability for the first day with free times: none inside the notice either');

-- an hour from now: too_soon, and the alternatives are bookable
insert into r values ('soon', pg_temp.book('+442079460101', now() + interval '1 hour'));
select is((select j ->> 'error' from r where k = 'soon'), 'too_soon', 'an hour from now is too_soon');
select ok((select pg_temp.all_after_notice(j -> 'alternatives') from r where k = 'soon'),
          'too_soon offers alternatives after the notice only');

-- the first bookable time taken: its nearest neighbours before it are inside the notice
select is(pg_temp.book('+442079460102', pg_temp.first_bookable()) ->> 'success', 'true', 'the first bookable time can be booked');
insert into r values ('taken', pg_temp.book('+442079460103', pg_temp.first_bookable()));
select is((select j ->> 'error' from r where k = 'taken'), 'slot_unavailable', 'the same time again is taken');
select ok((select pg_temp.all_after_notice(j -> 'alternatives') from r where k = 'taken'),
          'slot_unavailable offers the nearest times after the notice, never the earlier ones inside it');
select is((select jsonb_array_length(j -> 'alternatives') from r where k = 'taken'), 3, '… three of them');

select * from finish();
rollback;
