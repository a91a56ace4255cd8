-- 33_stranded (issue 10): schedule changes strand booked appointments — the stranded_appointments view
-- lists them with the reason (provider inactive / no longer performs the service, outside the clinic's
-- or the provider's hours, a closure, time off) and nothing is moved or cancelled; the provider_day view
-- and the provider columns of upcoming_appointments; what get_org_profile says about providers; RLS on
-- the views; and the seed's providers. Own clinic for the views (the seed only where named).
begin;
select plan(29);

insert into public.orgs (id, name, timezone, slot_interval_minutes, min_notice_minutes, booking_horizon_days)
values ('c3300000-0000-4000-8000-000000000001', 'Test Clinic Thirty-Three', 'America/Chicago', 30, 0, 365),
       ('c3300000-0000-4000-8000-000000000002', 'Other Clinic Thirty-Three', 'America/Chicago', 30, 0, 365);
insert into public.services (org_id, id, code, name, duration_minutes, buffer_minutes, is_default) values
  ('c3300000-0000-4000-8000-000000000001', 'c3300000-0000-4000-8000-0000000005c1', 'consult', 'Consultation', 30, 10, true),
  ('c3300000-0000-4000-8000-000000000001', 'c3300000-0000-4000-8000-0000000005c2', 'checkup', 'Checkup', 20, 0, false),
  ('c3300000-0000-4000-8000-000000000002', 'c3300000-0000-4000-8000-0000000006c1', 'consult', 'Consultation', 30, 0, true);
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
select o, d, '08:00', '18:00'
  from unnest(array['c3300000-0000-4000-8000-000000000001', 'c3300000-0000-4000-8000-000000000002']::uuid[]) o, generate_series(1, 5) d;
delete from public.providers where org_id = 'c3300000-0000-4000-8000-000000000001';
insert into public.providers (org_id, id, display_name, short_names) values
  ('c3300000-0000-4000-8000-000000000001', 'c3300000-0000-4000-8000-0000000000a1', 'Dr. Ann Able', '{"Dr. Able", "Ann"}'),
  ('c3300000-0000-4000-8000-000000000001', 'c3300000-0000-4000-8000-0000000000b2', 'Dr. Bob Baker', '{"Dr. Baker"}'),
  ('c3300000-0000-4000-8000-000000000001', 'c3300000-0000-4000-8000-0000000000c3', 'Dr. Cat Cole', '{}');
insert into public.provider_services (org_id, provider_id, service_id)
select 'c3300000-0000-4000-8000-000000000001', p::uuid, s::uuid
  from (values ('c3300000-0000-4000-8000-0000000000a1', 'c3300000-0000-4000-8000-0000000005c1'),
               ('c3300000-0000-4000-8000-0000000000a1', 'c3300000-0000-4000-8000-0000000005c2'),
               ('c3300000-0000-4000-8000-0000000000b2', 'c3300000-0000-4000-8000-0000000005c1'),
               ('c3300000-0000-4000-8000-0000000000c3', 'c3300000-0000-4000-8000-0000000005c1')) v(p, s);
-- Dr. Able: Mon/Tue 08-12 and 13-20 (evenings beyond the clinic's 18:00); Dr. Baker: no rows; Dr. Cole: Mon 08-12
insert into public.provider_hours (org_id, provider_id, weekday, opens_at, closes_at)
select 'c3300000-0000-4000-8000-000000000001', v.p::uuid, v.d, v.o::time, v.c::time
  from (values ('c3300000-0000-4000-8000-0000000000a1', 1, '08:00', '12:00'), ('c3300000-0000-4000-8000-0000000000a1', 1, '13:00', '20:00'),
               ('c3300000-0000-4000-8000-0000000000a1', 2, '08:00', '12:00'), ('c3300000-0000-4000-8000-0000000000a1', 2, '13:00', '20:00'),
               ('c3300000-0000-4000-8000-0000000000c3', 1, '08:00', '12:00')) v(p, d, o, c);

create function pg_temp.day(p_dow int) returns date language sql as $$
  select d::date from generate_series((now() at time zone 'America/Chicago')::date + 14,
                                      (now() at time zone 'America/Chicago')::date + 20, interval '1 day') d
   where extract(dow from d) = p_dow limit 1 $$;
create function pg_temp.at(p_dow int, p_time time) returns timestamptz language sql as $$
  select (pg_temp.day(p_dow) + p_time) at time zone 'America/Chicago' $$;
create function pg_temp.book(p_name text, p_at timestamptz, p_provider text, p_service text default 'consult') returns uuid
language sql as $$
  select (public.book_appointment(p_org_id => 'c3300000-0000-4000-8000-000000000001', p_name => p_name, p_email => null,
            p_phone => '+1555003' || lpad((abs(hashtext(p_name)) % 10000)::text, 4, '0'), p_service => p_service, p_scheduled_at => p_at,
            p_provider => p_provider) ->> 'appointmentId')::uuid $$;
create temp table a (k text primary key, id uuid);
insert into a values
  ('able_mon_9', pg_temp.book('Pat Nine', pg_temp.at(1, '09:00'), 'Dr. Able')),
  ('able_mon_14', pg_temp.book('Pat Fourteen', pg_temp.at(1, '14:00'), 'Dr. Able')),
  ('able_checkup', pg_temp.book('Pat Checkup', pg_temp.at(2, '09:00'), 'Dr. Able', 'checkup')),
  ('baker_mon_10', pg_temp.book('Pat Ten', pg_temp.at(1, '10:00'), 'Dr. Baker')),
  ('baker_tue_17', pg_temp.book('Pat Seventeen', pg_temp.at(2, '17:00'), 'Dr. Baker')),
  ('cole_mon_11', pg_temp.book('Pat Eleven', pg_temp.at(1, '11:00'), 'Dr. Cole'));
select is((select count(*)::int from a where id is not null), 6, 'six appointments booked (fixture)');

create function pg_temp.stranded() returns table (k text, reasons text[]) language sql as $$
  select a.k, s.reasons from public.stranded_appointments s join a on a.id = s.appointment_id order by a.k $$;
select is((select count(*)::int from pg_temp.stranded()), 0, 'nothing is stranded while the schedule holds');

-- Schedule changes ----------------------------------------------------------------------------------------
update public.providers set active = false where id = 'c3300000-0000-4000-8000-0000000000c3';          -- Dr. Cole leaves
update public.provider_hours set closes_at = '11:00' where provider_id = 'c3300000-0000-4000-8000-0000000000c3';  -- (and her hours end)
delete from public.provider_services
 where provider_id = 'c3300000-0000-4000-8000-0000000000a1' and service_id = 'c3300000-0000-4000-8000-0000000005c2';  -- Able: no checkups
update public.provider_hours set closes_at = '11:00'                                                    -- Able: Monday mornings end at 11
 where provider_id = 'c3300000-0000-4000-8000-0000000000a1' and weekday = 1 and opens_at = '08:00';
insert into public.provider_time_off (org_id, provider_id, during, reason)                            -- Able: Monday 14-15 off
values ('c3300000-0000-4000-8000-000000000001', 'c3300000-0000-4000-8000-0000000000a1',
        tstzrange(pg_temp.at(1, '14:00'), pg_temp.at(1, '15:00')), 'Dentist');
update public.business_hours set closes_at = '17:00'                                                  -- the clinic closes at 17 on Tuesdays
 where org_id = 'c3300000-0000-4000-8000-000000000001' and weekday = 2;
insert into public.closures (org_id, during, reason)                                                  -- and Monday 10:00-10:30
values ('c3300000-0000-4000-8000-000000000001', tstzrange(pg_temp.at(1, '10:00'), pg_temp.at(1, '10:30')), 'Fire drill');

select is((select array_agg(k || ':' || array_to_string(reasons, ',') order by k) from pg_temp.stranded()),
          array['able_checkup:provider_not_qualified',
                'able_mon_14:provider_time_off',
                'baker_mon_10:closure',
                'baker_tue_17:outside_business_hours',
                'cole_mon_11:provider_inactive,outside_provider_hours'],
          'each stranded appointment with why: not qualified, time off, closure, clinic hours, inactive');
select is((select count(*)::int from pg_temp.stranded() where k = 'able_mon_9'), 0,
          'Dr. Able''s 09:00 still fits her shortened morning (09:00-09:40 with buffer, inside 08-11)');
update public.provider_hours set closes_at = '09:30'
 where provider_id = 'c3300000-0000-4000-8000-0000000000a1' and weekday = 1 and opens_at = '08:00';
select is((select reasons from pg_temp.stranded() where k = 'able_mon_9'), array['outside_provider_hours'],
          'cut to 09:30, the visit and its buffer (09:00-09:40) no longer fit: outside_provider_hours');
select is((select s.provider_name || '|' || s.service_code || '|' || s.patient_name || '|' || s.reason
             from public.stranded_appointments s where s.appointment_id = (select id from a where k = 'cole_mon_11')),
          'Dr. Cat Cole|consult|Pat Eleven|the provider is inactive; outside the provider''s working hours',
          'a row says who, what and why in words (reason) next to the codes (reasons)');
select is((select s.local_starts_at from public.stranded_appointments s where s.appointment_id = (select id from a where k = 'cole_mon_11')),
          pg_temp.day(1) + time '11:00', 'with the clinic-local start');
select is((select count(*)::int from public.appointments where org_id = 'c3300000-0000-4000-8000-000000000001' and status = 'pending'),
          6, 'nothing was moved or cancelled: all six are still booked as they were');
update public.appointments set status = 'cancelled' where id = (select id from a where k = 'baker_mon_10');
select is((select count(*)::int from pg_temp.stranded() where k = 'baker_mon_10'), 0, 'a cancelled appointment is not stranded');

-- provider_day and upcoming_appointments ---------------------------------------------------------------------
select is((select array_agg(local_start_time::text || '-' || local_end_time::text || ' ' || patient_name order by local_start_time)
             from public.provider_day where provider_id = 'c3300000-0000-4000-8000-0000000000a1' and local_date = pg_temp.day(1)),
          array['09:00:00-09:30:00 Pat Nine', '14:00:00-14:30:00 Pat Fourteen'],
          'provider_day: Dr. Able''s Monday, clinic-local times, one row per booked appointment');
select is((select count(*)::int from public.provider_day where appointment_id = (select id from a where k = 'baker_mon_10')), 0,
          'provider_day leaves out cancelled appointments');
select is((select provider_name || '|' || provider_id::text || '|' || service_code from public.provider_day
            where appointment_id = (select id from a where k = 'baker_tue_17')),
          'Dr. Bob Baker|c3300000-0000-4000-8000-0000000000b2|consult', 'provider_day names provider and service');
select is((select provider_id::text || '|' || provider_name from public.upcoming_appointments
            where appointment_id = (select id from a where k = 'cole_mon_11')),
          'c3300000-0000-4000-8000-0000000000c3|Dr. Cat Cole', 'upcoming_appointments has provider_id and provider_name');

-- get_org_profile ----------------------------------------------------------------------------------------------
update public.providers set active = true where id = 'c3300000-0000-4000-8000-0000000000c3';
create temp table prof as select public.get_org_profile('c3300000-0000-4000-8000-000000000001')::jsonb as j;
select is((select (j ->> 'providerCount')::int from prof), 3, 'providerCount: active providers');
select is((select jsonb_agg(p ->> 'name') from prof, jsonb_array_elements(j -> 'providers') p),
          '["Dr. Ann Able", "Dr. Bob Baker", "Dr. Cat Cole"]'::jsonb, 'providers by name');
select is((select p - 'hours' from prof, jsonb_array_elements(j -> 'providers') p where p ->> 'name' = 'Dr. Ann Able'),
          '{"id": "c3300000-0000-4000-8000-0000000000a1", "name": "Dr. Ann Able", "shortNames": ["Dr. Able", "Ann"], "role": null, "services": ["consult"]}'::jsonb,
          'a provider: id, name, short names, role (unset here), the codes of the services it performs');
select is((select p -> 'hours' from prof, jsonb_array_elements(j -> 'providers') p where p ->> 'name' = 'Dr. Ann Able'),
          '[{"weekday": 1, "opensAt": "08:00", "closesAt": "09:30"}, {"weekday": 1, "opensAt": "13:00", "closesAt": "18:00"},
            {"weekday": 2, "opensAt": "08:00", "closesAt": "12:00"}, {"weekday": 2, "opensAt": "13:00", "closesAt": "17:00"}]'::jsonb,
          'hours are effective: her intervals cut to the clinic''s (her evenings end at 18:00, Tuesdays at 17:00)');
select is((select jsonb_array_length(p -> 'hours') from prof, jsonb_array_elements(j -> 'providers') p where p ->> 'name' = 'Dr. Bob Baker'),
          5, 'a provider without hours rows works all clinic hours (Mon-Fri)');
update public.providers set active = false where id = 'c3300000-0000-4000-8000-0000000000c3';
select is((public.get_org_profile('c3300000-0000-4000-8000-000000000001')::jsonb ->> 'providerCount')::int, 2,
          'an inactive provider is not in the profile');
select is((public.get_org_profile('c3300000-0000-4000-8000-000000000002')::jsonb #>> '{providers,0,name}') || '|' ||
          (public.get_org_profile('c3300000-0000-4000-8000-000000000002')::jsonb ->> 'providerCount'),
          'Other Clinic Thirty-Three|1', 'a clinic set up as before has one provider, named after it');

-- RLS on the views (security_invoker) -----------------------------------------------------------------------
insert into auth.users (id, email) values ('c3300000-0000-4000-8000-0000000000f1', 'member.t33@tap.test'),
                                          ('c3300000-0000-4000-8000-0000000000f2', 'other.t33@tap.test');
insert into public.org_members (org_id, user_id, role) values
  ('c3300000-0000-4000-8000-000000000001', 'c3300000-0000-4000-8000-0000000000f1', 'staff'),
  ('c3300000-0000-4000-8000-000000000002', 'c3300000-0000-4000-8000-0000000000f2', 'staff');
set local role authenticated;
set local request.jwt.claims = '{"sub": "c3300000-0000-4000-8000-0000000000f1", "role": "authenticated"}';
select is((select count(*)::int from public.stranded_appointments), 5, 'a member sees their clinic''s stranded appointments');
select is((select count(distinct org_id)::int from public.provider_day), 1, 'and only their clinic''s provider_day');
set local request.jwt.claims = '{"sub": "c3300000-0000-4000-8000-0000000000f2", "role": "authenticated"}';
select is((select count(*)::int from public.stranded_appointments) + (select count(*)::int from public.provider_day)
          + (select count(*)::int from public.providers where org_id = 'c3300000-0000-4000-8000-000000000001'), 0,
          'a member of another clinic sees none of it');
reset role;
set local role anon;
select throws_ok('select count(*) from public.stranded_appointments', '42501', null, 'anon cannot read stranded_appointments');
select throws_ok('select count(*) from public.provider_day', '42501', null, 'anon cannot read provider_day');
reset role;

-- The seed ------------------------------------------------------------------------------------------------------
select is((select array_agg(p.display_name || ':' || array_to_string(array(
             select s.code from public.provider_services ps join public.services s on s.org_id = ps.org_id and s.id = ps.service_id
              where ps.provider_id = p.id order by s.code), ',') order by p.display_name)
             from public.providers p where p.org_id = '11111111-1111-4111-8111-111111111111'),
          array['Dr. Anika Patel:checkup,consultation', 'Dr. Marcus Lee:checkup,consultation', 'Nurse Joy Kim:vaccination'],
          'seed: Sunrise has two physicians and a nurse who vaccinates');
select is((select count(*)::int
             from generate_series(0, 6) d,
                  lateral (select count(*) as n from public.provider_hours ph
                            where ph.org_id = '11111111-1111-4111-8111-111111111111' and ph.weekday = d
                              and ph.provider_id in ('11111111-1111-4111-8111-00000000d001', '11111111-1111-4111-8111-00000000d002')) x
            where x.n <> 1 and exists (select 1 from public.business_hours bh where bh.org_id = '11111111-1111-4111-8111-111111111111'
                                                                            and bh.weekday = d)),
          0, 'seed: on every day Sunrise is open exactly one physician works (any one consultation slot has one physician)');
select is((select array_agg(p.display_name order by p.display_name) from public.providers p
            join public.provider_services ps on ps.org_id = p.org_id and ps.provider_id = p.id
            join public.services s on s.org_id = ps.org_id and s.id = ps.service_id and s.code = 'cleaning'
           where p.org_id = '22222222-2222-4222-8222-222222222222'),
          array['Dana Whitfield', 'Omar Haddad'], 'seed: Bayview''s cleanings are done by two hygienists');
select is((select array_agg(to_char(ph.opens_at, 'HH24:MI') || '-' || to_char(ph.closes_at, 'HH24:MI') || ' ' || p.short_names[1]
                            order by p.display_name, ph.opens_at)
             from public.provider_hours ph join public.providers p on p.org_id = ph.org_id and p.id = ph.provider_id
            where ph.org_id = '22222222-2222-4222-8222-222222222222' and ph.weekday = 2),
          array['08:00-12:00 Dana', '13:00-16:00 Dana', '08:00-13:00 Omar', '14:00-16:00 Omar'],
          'seed: their lunch rotation (Dana 12-13, Omar 13-14): cleanings have capacity 2 except at lunch');

select * from finish();
rollback;
