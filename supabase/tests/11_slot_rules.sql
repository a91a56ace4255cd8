-- Conflicts and alternatives, overlaps of different durations, back-to-back, buffers, closures,
-- business-hour edges, lunch break, closed days, in_past / too_soon / too_far_ahead.
begin;
select plan(43);

insert into public.orgs (id, name, timezone, slot_interval_minutes, min_notice_minutes, booking_horizon_days)
values ('c1100000-0000-4000-8000-000000000001', 'Test Clinic Eleven', 'America/New_York', 30, 60, 365);
insert into public.services (org_id, code, name, duration_minutes, buffer_minutes, is_default) values
  ('c1100000-0000-4000-8000-000000000001', 'consult', 'Consultation', 30, 0, true),
  ('c1100000-0000-4000-8000-000000000001', 'checkup', 'Checkup', 20, 10, false),
  ('c1100000-0000-4000-8000-000000000001', 'long', 'Long Visit', 60, 0, false);
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
select 'c1100000-0000-4000-8000-000000000001', d, t.o, t.c
from generate_series(1, 5) d, (values (time '09:00', time '12:00'), (time '13:00', time '17:00')) t(o, c);
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
values ('c1100000-0000-4000-8000-000000000001', 6, '09:00', '13:00');

create function pg_temp.day(p_offset int, p_dow int) returns date language sql as $$
  select d::date from generate_series((now() at time zone 'America/New_York')::date + p_offset,
                                      (now() at time zone 'America/New_York')::date + p_offset + 6, interval '1 day') d
  where extract(dow from d) = p_dow limit 1 $$;
create function pg_temp.at(p_day date, p_time time) returns timestamptz language sql as $$
  select (p_day + p_time) at time zone 'America/New_York' $$;
create function pg_temp.iso(p_day date, p_time time) returns text language sql as $$
  select to_char(pg_temp.at(p_day, p_time) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;
create function pg_temp.book(p_phone text, p_service text, p_at timestamptz) returns json language sql as $$
  select public.book_appointment_atomic_v2(
    p_org_id => 'c1100000-0000-4000-8000-000000000001', p_name => 'Patient ' || p_phone, p_email => null,
    p_phone => p_phone, p_service => p_service, p_scheduled_at => p_at) $$;

create temp table d as select pg_temp.day(14, 1) as mon, pg_temp.day(14, 2) as tue, pg_temp.day(14, 3) as wed,
                              pg_temp.day(21, 0) as sun, pg_temp.day(14, 4) as thu, pg_temp.day(14, 5) as fri;
create temp table r (k text primary key, j json);

-- Conflict → slot_unavailable with the 3 nearest aligned alternatives, chronological ------------------
select is(pg_temp.book('+12025550101', 'consult', pg_temp.at((select mon from d), '10:00'))->>'success', 'true', 'first booking at 10:00');
insert into r values ('taken', pg_temp.book('+12025550102', 'consult', pg_temp.at((select mon from d), '10:00')));
select is((select j->>'error' from r where k = 'taken'), 'slot_unavailable', 'same slot refused');
select is((select j->>'message' from r where k = 'taken'), 'Slot taken, alternatives available', 'contract message');
select is((select (j->'alternatives')::jsonb from r where k = 'taken'),
          jsonb_build_array(pg_temp.iso((select mon from d), '09:00'), pg_temp.iso((select mon from d), '09:30'), pg_temp.iso((select mon from d), '10:30')),
          'alternatives: 3 nearest the same day (09:30, 10:30, then 09:00 over 11:00), chronological');
select is((select j->'service'->>'code' from r where k = 'taken'), 'consult', 'refusal carries the service');
select is((select j->>'timezone' from r where k = 'taken'), 'America/New_York', 'refusal carries the timezone');

-- Fill the rest of Monday morning; alternatives then come from the afternoon (same day, nearest).
select pg_temp.book('+1202555011' || n, 'consult', pg_temp.at((select mon from d), time '09:00' + n * interval '30 minutes'))
from generate_series(0, 5) n where n <> 2;
select is((pg_temp.book('+12025550199', 'consult', pg_temp.at((select mon from d), '11:00'))->'alternatives')::jsonb,
          jsonb_build_array(pg_temp.iso((select mon from d), '13:00'), pg_temp.iso((select mon from d), '13:30'), pg_temp.iso((select mon from d), '14:00')),
          'full morning → nearest afternoon slots of the same day');

-- Nearest first, not earliest first: a late time taken with the whole morning free offers the
-- afternoon around it (an earliest-first mistake would offer 09:00, 09:30, 10:00; the requests above
-- cannot tell the two apart, their nearest times are also the day's earliest).
select is(pg_temp.book('+12025550150', 'consult', pg_temp.at((select fri from d), '16:00'))->>'success', 'true', 'Friday 16:00 booked');
select is((pg_temp.book('+12025550151', 'consult', pg_temp.at((select fri from d), '16:00'))->'alternatives')::jsonb,
          jsonb_build_array(pg_temp.iso((select fri from d), '15:00'), pg_temp.iso((select fri from d), '15:30'), pg_temp.iso((select fri from d), '16:30')),
          'late time taken, morning free: the 3 nearest (15:30, 16:30, then 15:00 over the free morning), chronological');

-- Different durations: partial overlap refused, back-to-back allowed ---------------------------------
select is(pg_temp.book('+12025550201', 'consult', pg_temp.at((select tue from d), '14:00'))->>'success', 'true', 'consult 14:00–14:30');
select is(pg_temp.book('+12025550202', 'long', pg_temp.at((select tue from d), '13:30'))->>'error', 'slot_unavailable', 'long 13:30–14:30 overlaps it');
select is(pg_temp.book('+12025550203', 'long', pg_temp.at((select tue from d), '14:15'))->>'error', 'slot_unavailable', 'unaligned 14:15 overlapping tail refused');
select is(pg_temp.book('+12025550204', 'long', pg_temp.at((select tue from d), '13:00'))->>'success', 'true', 'long 13:00–14:00 back-to-back before');
select is(pg_temp.book('+12025550205', 'consult', pg_temp.at((select tue from d), '14:30'))->>'success', 'true', 'consult 14:30 back-to-back after');

-- Buffer: checkup 15:00 blocks 15:00–15:30 (20 min + 10 buffer) -------------------------------------
select is(pg_temp.book('+12025550301', 'checkup', pg_temp.at((select tue from d), '15:00'))->>'success', 'true', 'checkup 15:00');
select is(pg_temp.book('+12025550302', 'consult', pg_temp.at((select tue from d), '15:20'))->>'error', 'slot_unavailable', 'start inside the buffer refused');
select is(pg_temp.book('+12025550303', 'checkup', pg_temp.at((select tue from d), '14:40'))->>'error', 'slot_unavailable', 'own buffer overlapping the next booking refused');
select is(pg_temp.book('+12025550304', 'consult', pg_temp.at((select tue from d), '15:30'))->>'success', 'true', 'start right after the buffer ok');
select is((select count(*)::int from public.appointments a1 join public.appointments a2
             on a1.org_id = a2.org_id and a1.id < a2.id and a1.blocked && a2.blocked
           where a1.org_id = 'c1100000-0000-4000-8000-000000000001' and a1.status <> 'cancelled' and a2.status <> 'cancelled'),
          0, 'no overlapping active appointments at all');
select throws_ok(
  format($q$insert into public.appointments (org_id, lead_id, service_id, patient_name, starts_at, ends_at, blocked)
            select a.org_id, a.lead_id, a.service_id, 'Direct', a.starts_at, a.ends_at, a.blocked
            from public.appointments a where a.org_id = %L limit 1$q$, 'c1100000-0000-4000-8000-000000000001'),
  '23P01', null, 'the exclusion constraint refuses a direct double booking');

-- Business-hour edges ------------------------------------------------------------------------------
select is(pg_temp.book('+12025550401', 'consult', pg_temp.at((select wed from d), '09:00'))->>'success', 'true', 'start exactly at opening');
select is(pg_temp.book('+12025550402', 'consult', pg_temp.at((select wed from d), '16:30'))->>'success', 'true', 'end exactly at closing');
insert into r values ('over', pg_temp.book('+12025550403', 'consult', pg_temp.at((select wed from d), '16:31')));
select is((select j->>'error' from r where k = 'over'), 'ends_after_closing', 'one minute over closing: it does not fit before closing');
select is((select json_array_length(j->'alternatives') from r where k = 'over'), 3, 'ends_after_closing has alternatives');
select is((select j->>'closesAt' from r where k = 'over'), '17:00', 'and says when the clinic closes');
select is((select (j->'alternatives')::jsonb from r where k = 'over'),
          jsonb_build_array(pg_temp.iso((select wed from d), '15:00'), pg_temp.iso((select wed from d), '15:30'),
                            pg_temp.iso((select wed from d), '16:00')),
          'the nearest times that fit, that afternoon (16:30 is taken above)');
select is(pg_temp.book('+12025550404', 'consult', pg_temp.at((select wed from d), '08:59'))->>'error', 'outside_business_hours', 'one minute before opening');
insert into r values ('lunch', pg_temp.book('+12025550405', 'consult', pg_temp.at((select wed from d), '11:45')));
select is((select j->>'error' || ' ' || (j->>'closesAt') from r where k = 'lunch'), 'ends_after_closing 12:00', 'runs into the lunch break: ends after that interval closes');
select is(pg_temp.book('+12025550406', 'checkup', pg_temp.at((select wed from d), '12:30'))->>'error', 'outside_business_hours', 'inside the lunch break');
select is(pg_temp.book('+12025550407', 'checkup', pg_temp.at((select wed from d), '11:30'))->>'success', 'true', 'checkup + buffer ends exactly at 12:00');
select is(pg_temp.book('+12025550408', 'long', pg_temp.at((select wed from d), '11:30'))->>'error', 'ends_after_closing', 'longer service does not fit before lunch');
select is(pg_temp.book('+12025550409', 'consult', pg_temp.at((select wed from d), '17:00'))->>'error', 'outside_business_hours', 'a start at closing time is outside the hours, not "does not fit"');

-- Closed days and closures ---------------------------------------------------------------------------
insert into r values ('sun', pg_temp.book('+12025550501', 'consult', pg_temp.at((select sun from d), '10:00')));
select is((select j->>'error' from r where k = 'sun'), 'closed', 'no hours on Sunday → closed');
select is((select (j->'alternatives'->>0) from r where k = 'sun'), pg_temp.iso((select sun from d) + 1, '09:00'), 'closed day → following day earliest first');
insert into public.closures (org_id, during, reason)
values ('c1100000-0000-4000-8000-000000000001',
        tstzrange(pg_temp.at((select thu from d), '00:00'), pg_temp.at((select thu from d) + 1, '00:00')), 'Staff training');
select is(pg_temp.book('+12025550502', 'consult', pg_temp.at((select thu from d), '10:00'))->>'error', 'closed', 'closure day → closed');
insert into public.closures (org_id, during, reason)
values ('c1100000-0000-4000-8000-000000000001',
        tstzrange(pg_temp.at((select tue from d), '16:45'), pg_temp.at((select tue from d), '17:00')), 'Early close');
select is(pg_temp.book('+12025550503', 'consult', pg_temp.at((select tue from d), '16:30'))->>'error', 'closed', 'closure overlapping the slot end → closed');
select is(pg_temp.book('+12025550504', 'consult', pg_temp.at((select tue from d), '16:00'))->>'success', 'true', 'slot before the closure ok');

-- Time rules -----------------------------------------------------------------------------------------
insert into r values ('past', pg_temp.book('+12025550601', 'consult', now() - interval '2 days'));
select is((select j->>'error' from r where k = 'past'), 'in_past', 'in_past');
select ok((select (j->'alternatives'->>0)::timestamptz >= now() + interval '60 minutes' from r where k = 'past'), 'in_past alternatives are bookable future slots');
select is(pg_temp.book('+12025550602', 'consult', now() + interval '30 minutes')->>'error', 'too_soon', 'inside minimum notice → too_soon');
insert into r values ('far', pg_temp.book('+12025550603', 'consult', now() + interval '400 days'));
select is((select j->>'error' from r where k = 'far'), 'too_far_ahead', 'beyond horizon → too_far_ahead');
select is((select (j->>'bookingHorizonDays')::int from r where k = 'far'), 365, 'too_far_ahead says how far ahead the clinic books');
select ok((select json_array_length(j->'alternatives') = 3
                  and (j->'alternatives'->>2)::timestamptz <= now() + interval '366 days'
           from r where k = 'far'), 'too_far_ahead offers the latest slots inside the horizon');

select * from finish();
rollback;
