-- 31_provider_booking (issue 10): booking with providers. Names as callers say them, named vs any,
-- provider hours ∩ clinic hours, time off, qualification, the fair rule (previous provider, fewest that
-- day, least recently booked), patient_busy (plain, or described to a caller verified by caller ID),
-- the refusal codes and their order, excluding a provider ("anyone but Dr. Lee"), the clinic-day
-- queue leaving nothing behind, and a one-provider
-- clinic's replies unchanged. Own clinic (not the seed); dates relative to now().
begin;
select plan(110);

-- Fixture ------------------------------------------------------------------------------------------
-- Test Clinic Thirty-One, New York, Mon–Fri 09–12 and 13–17, 30-minute grid, 60 min notice.
--   Dr. Anika Patel  {Dr. Patel, Anika}  consult          Mon/Wed/Fri 09–17 (the clinic's lunch still holds)
--   Dr. Marcus Lee   {Dr. Lee, Marcus}   consult          Tue/Thu 09–17, Mon and Wed 13–17
--   Dr. Kim Park                          consult          Mon 08–12 (before opening: never bookable then)
--   Nurse Joy Kim    {Nurse Kim, Joy}    vaccine          all clinic hours (no rows)
--   Dr. Retired Jones (inactive)          consult
-- Roles: the three active doctors physician (Dr. Kim Park: therapist, a clinic's own word), the nurse nurse.
insert into public.orgs (id, name, timezone, slot_interval_minutes, min_notice_minutes, booking_horizon_days)
values ('c3100000-0000-4000-8000-000000000001', 'Test Clinic Thirty-One', 'America/New_York', 30, 60, 365);
insert into public.services (org_id, id, code, name, duration_minutes, buffer_minutes, is_default) values
  ('c3100000-0000-4000-8000-000000000001', 'c3100000-0000-4000-8000-0000000005c1', 'consult', 'Consultation', 30, 0, true),
  ('c3100000-0000-4000-8000-000000000001', 'c3100000-0000-4000-8000-0000000005c2', 'vaccine', 'Vaccination', 15, 15, false);
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
select 'c3100000-0000-4000-8000-000000000001', d, t.o, t.c
from generate_series(1, 5) d, (values (time '09:00', time '12:00'), (time '13:00', time '17:00')) t(o, c);
delete from public.providers where org_id = 'c3100000-0000-4000-8000-000000000001';  -- the clinic's first provider
insert into public.providers (org_id, id, display_name, short_names, active) values
  ('c3100000-0000-4000-8000-000000000001', 'c3100000-0000-4000-8000-0000000000d1', 'Dr. Anika Patel', '{"Dr. Patel", "Anika"}', true),
  ('c3100000-0000-4000-8000-000000000001', 'c3100000-0000-4000-8000-0000000000d2', 'Dr. Marcus Lee', '{"Dr. Lee", "Marcus"}', true),
  ('c3100000-0000-4000-8000-000000000001', 'c3100000-0000-4000-8000-0000000000d3', 'Nurse Joy Kim', '{"Nurse Kim", "Joy"}', true),
  ('c3100000-0000-4000-8000-000000000001', 'c3100000-0000-4000-8000-0000000000d4', 'Dr. Kim Park', '{}', true),
  ('c3100000-0000-4000-8000-000000000001', 'c3100000-0000-4000-8000-0000000000d5', 'Dr. Retired Jones', '{}', false);
update public.providers set role = case display_name when 'Nurse Joy Kim' then 'nurse' when 'Dr. Kim Park' then 'therapist'
                                                      else 'physician' end
 where org_id = 'c3100000-0000-4000-8000-000000000001';
insert into public.provider_services (org_id, provider_id, service_id) values
  ('c3100000-0000-4000-8000-000000000001', 'c3100000-0000-4000-8000-0000000000d1', 'c3100000-0000-4000-8000-0000000005c1'),
  ('c3100000-0000-4000-8000-000000000001', 'c3100000-0000-4000-8000-0000000000d2', 'c3100000-0000-4000-8000-0000000005c1'),
  ('c3100000-0000-4000-8000-000000000001', 'c3100000-0000-4000-8000-0000000000d3', 'c3100000-0000-4000-8000-0000000005c2'),
  ('c3100000-0000-4000-8000-000000000001', 'c3100000-0000-4000-8000-0000000000d4', 'c3100000-0000-4000-8000-0000000005c1'),
  ('c3100000-0000-4000-8000-000000000001', 'c3100000-0000-4000-8000-0000000000d5', 'c3100000-0000-4000-8000-0000000005c1');
insert into public.provider_hours (org_id, provider_id, weekday, opens_at, closes_at)
select 'c3100000-0000-4000-8000-000000000001', v.p::uuid, v.d, v.o::time, v.c::time
from (values
  ('c3100000-0000-4000-8000-0000000000d1', 1, '09:00', '17:00'), ('c3100000-0000-4000-8000-0000000000d1', 3, '09:00', '17:00'),
  ('c3100000-0000-4000-8000-0000000000d1', 5, '09:00', '17:00'),
  ('c3100000-0000-4000-8000-0000000000d2', 2, '09:00', '17:00'), ('c3100000-0000-4000-8000-0000000000d2', 4, '09:00', '17:00'),
  ('c3100000-0000-4000-8000-0000000000d2', 1, '13:00', '17:00'), ('c3100000-0000-4000-8000-0000000000d2', 3, '13:00', '17:00'),
  ('c3100000-0000-4000-8000-0000000000d4', 1, '08:00', '12:00')
) as v(p, d, o, c);

-- clinic-local dates of one week at least 14 days ahead, and local wall clock → instant
create function pg_temp.day(p_dow int) returns date language sql as $$
  select d::date from generate_series((now() at time zone 'America/New_York')::date + 14,
                                      (now() at time zone 'America/New_York')::date + 20, interval '1 day') d
   where extract(dow from d) = p_dow limit 1 $$;
create function pg_temp.at(p_dow int, p_time time) returns timestamptz language sql as $$
  select (pg_temp.day(p_dow) + p_time) at time zone 'America/New_York' $$;
create function pg_temp.z(p_dow int, p_time time) returns text language sql as $$
  select to_char(pg_temp.at(p_dow, p_time) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') $$;
create function pg_temp.book(p_name text, p_phone text, p_service text, p_at timestamptz, p_provider text default null,
                             p_insist boolean default false, p_caller jsonb default null) returns jsonb
language sql as $$
  select public.book_appointment(p_org_id => 'c3100000-0000-4000-8000-000000000001', p_name => p_name, p_email => null,
    p_phone => p_phone, p_service => p_service, p_scheduled_at => p_at, p_caller => p_caller, p_provider => p_provider,
    p_insist_provider => p_insist)::jsonb $$;
create function pg_temp.resolved(p_text text) returns text language sql as $$
  select r.kind || ':' || coalesce((select p.display_name from public.providers p where p.id = r.provider_id),
                                   array_to_string(r.names, ','), '')
    from private.resolve_provider('c3100000-0000-4000-8000-000000000001', p_text) r $$;
create function pg_temp.names(p_reply jsonb) returns text[] language sql as $$
  select array(select e ->> 'providerName' from jsonb_array_elements(p_reply -> 'alternativeSlots') with ordinality x(e, n) order by n) $$;
create temp table r (k text primary key, j jsonb);

-- Names as callers say them ----------------------------------------------------------------------
select is(pg_temp.resolved('Doctor Patel'), 'named:Dr. Anika Patel', '"Doctor Patel" is Dr. Anika Patel');
select is(pg_temp.resolved('dr patel'), 'named:Dr. Anika Patel', '"dr patel"');
select is(pg_temp.resolved('Dr. Patel'), 'named:Dr. Anika Patel', '"Dr. Patel"');
select is(pg_temp.resolved('Anika'), 'named:Dr. Anika Patel', '"Anika"');
select is(pg_temp.resolved('  DOCTOR   anika PATEL '), 'named:Dr. Anika Patel', 'the full name, any case and spacing, "doctor" spelled out');
select is(pg_temp.resolved('Patel'), 'named:Dr. Anika Patel', 'the family name alone (a word of the display name)');
select is(pg_temp.resolved('c3100000-0000-4000-8000-0000000000d2'), 'named:Dr. Marcus Lee', 'a provider id');
select is(pg_temp.resolved('Nurse Kim'), 'named:Nurse Joy Kim', '"Nurse Kim": the title tells her from Dr. Kim Park');
select is(pg_temp.resolved('Kim'), 'ambiguous:Dr. Kim Park,Nurse Joy Kim', '"Kim" alone matches two providers: ambiguous, both named');
select is(pg_temp.resolved('Dr. Smith'), 'unknown:Dr. Anika Patel,Dr. Kim Park,Dr. Marcus Lee,Nurse Joy Kim',
          'an unknown name: unknown, with every active provider');
select is(pg_temp.resolved('Dr. Retired Jones'), 'unknown:Dr. Anika Patel,Dr. Kim Park,Dr. Marcus Lee,Nurse Joy Kim',
          'an inactive provider is not matched');
select is(pg_temp.resolved('c3100000-0000-4000-8000-0000000000d5'), 'unknown:Dr. Anika Patel,Dr. Kim Park,Dr. Marcus Lee,Nurse Joy Kim',
          'nor by id');
-- The lenient pass (issue 11, second probe round): fillers and courtesy, misspellings, sound-alikes,
-- "X or Y" — and what it must not guess
select is(array(select pg_temp.resolved(t) from unnest(array['dr. patel please', 'with Dr. Patel', 'Dr. Patel if possible',
                  'i''d like to see dr patel', 'Dr. Patell', 'Dr Pattel', 'Annika Patel', 'doctor anika patell please']) t),
          array_fill('named:Dr. Anika Patel'::text, array[8]),
          'fillers and courtesy around the name, a doubled or swapped letter (trigram >= 0.55): Dr. Anika Patel');
select is(array(select pg_temp.resolved(t) from unnest(array['Dr. Leigh', 'Dr. Li', 'dr lee please', 'Marcus Leigh']) t),
          array_fill('named:Dr. Marcus Lee'::text, array[4]), 'a name that sounds alike (double metaphone, same first letter): Dr. Marcus Lee');
select is(array(select pg_temp.resolved(t) from unnest(array['Nurse Kim please', 'Kim please', 'anyone please', 'whoever is free please']) t),
          array['named:Nurse Joy Kim', 'ambiguous:Dr. Kim Park,Nurse Joy Kim', 'any:', 'any:'],
          'fillers dropped, titles kept: "Nurse Kim please" is still not Dr. Kim Park, "Kim please" still asked, "anyone please" anyone');
select is(array(select pg_temp.resolved(t) from unnest(array['Patel or Lee', 'either Dr. Patel or Dr. Lee', 'Patel and Lee']) t),
          array_fill('ambiguous:Dr. Anika Patel,Dr. Marcus Lee'::text, array[3]),
          '"Patel or Lee": both named, asked which (never someone the caller did not name)');
select is(array(select split_part(pg_temp.resolved(t), ':', 1) from unnest(array['Dr. Patterson', 'Dr. Pat', 'Dr. Lewis', 'Dr. Leeds',
                  'not Dr. Lee', 'I don''t want Dr. Lee', 'Dr. Parker', 'please', 'Dr. Kimball']) t),
          array_fill('unknown'::text, array[9]),
          'no guess: Patterson (0.29), Pat (0.43), Parker (0.50 against Park), Lewis/Leeds (other sounds), "not Dr. Lee", Kimball, a filler alone');
select is(pg_temp.resolved('Dr. Retired Jnoes'), 'unknown:Dr. Anika Patel,Dr. Kim Park,Dr. Marcus Lee,Nurse Joy Kim',
          'an inactive provider is not matched leniently either');
select is(array[pg_temp.resolved(null), pg_temp.resolved(''), pg_temp.resolved('anyone'), pg_temp.resolved('No preference'),
                pg_temp.resolved('whoever is free'), pg_temp.resolved('any doctor')],
          array['any:', 'any:', 'any:', 'any:', 'any:', 'any:'], 'null, blank, "anyone", "No preference", "whoever is free", "any doctor": any provider');
-- A question said as the name (probe 3, class D): its words and days are dropped, never a guess
select is(array(select pg_temp.resolved(t) from unnest(array['is Dr. Patel in on Friday?', 'is dr patel available tomorrow',
                  'when is Dr. Patel working this week?', 'Is Doctor Patel free on Mondays', 'does Dr. Patel work Saturday morning']) t),
          array_fill('named:Dr. Anika Patel'::text, array[5]), 'question words around the name (is, in, on, weekdays, tomorrow, available, free, working): Dr. Anika Patel');
select is(array(select split_part(pg_temp.resolved(t), ':', 1) from unnest(array['is Dr. Smith in on Friday?',
                  'is Dr. Patterson available tomorrow', 'are you open on Friday?', 'is the dentist in today?', 'Friday',
                  'is the hygienist working tomorrow', 'is Dr. Pat in on Monday', 'anything on Friday?']) t),
          array_fill('unknown'::text, array[8]),
          'false positives: an unknown name, a role nobody has, a question naming nobody stay unknown (the names are offered)');
select is(pg_temp.resolved('is anyone in on Friday?'), 'any:', '"is anyone in on Friday?": any provider');
-- A role said instead of a name (probe 3, class E; providers.role)
select is(array(select pg_temp.resolved(t) from unnest(array['the nurse', 'a nurse', 'nurse', 'your nurse', 'the Nurse please',
                  'is the nurse in on Friday?', 'any nurse']) t),
          array_fill('named:Nurse Joy Kim'::text, array[7]), 'one provider of the role: that provider');
select is(array(select pg_temp.resolved(t) from unnest(array['the doctor', 'a doctor', 'the physician', 'a physician', 'doctors']) t),
          array_fill('role:Dr. Anika Patel,Dr. Marcus Lee'::text, array[5]),
          'several active providers of the role: kind role (any of them), they are named (the inactive one is not; "doctor" is physician before dentist)');
select is(array(select (private.resolve_provider('c3100000-0000-4000-8000-000000000001', t)).role
                  from unnest(array['the doctor', 'one of the physicians', 'is the doctor in on Monday?', 'Dr. Patel', 'Kim']) t),
          array['physician', 'physician', 'physician', null, null], 'the role is returned for kind role only (a name, or an ambiguous name, has none)');
select is(array[pg_temp.resolved('the therapist'), pg_temp.resolved('therapists'), pg_temp.resolved('any doctor')],
          array['named:Dr. Kim Park', 'named:Dr. Kim Park', 'any:'], 'a clinic''s own role word (plural too); "any doctor" stays any provider');
select is(array[(private.resolve_provider('c3100000-0000-4000-8000-000000000001', 'Dr. Patell', false)).kind,
                (private.resolve_provider('c3100000-0000-4000-8000-000000000001', 'Dr. Patel', false)).kind,
                (private.resolve_provider('c3100000-0000-4000-8000-000000000001', 'the nurse', false)).kind],
          array['unknown', 'named', 'named'], 'p_fuzzy false: a misspelt name is not guessed, a name or role as written is');
-- The service and provider read together (private.resolve_service_provider)
select is(array(select coalesce(s.code, '-') || '|' || coalesce(r.provider, '-')
                  from (values (1, 'Dr. Patel', null), (2, 'the nurse', null), (3, null, 'Nurse Kim'), (4, 'an appointment', 'Joy'),
                               (5, 'consult', 'Nurse Kim'), (6, 'MRI scan', null), (7, 'Dr. Patell', null), (8, 'Dr. Patel', 'Dr. Lee'),
                               (9, null, 'Dr. Lee'), (10, 'the doctor', null)) v(n, svc, prov)
                  cross join lateral private.resolve_service_provider('c3100000-0000-4000-8000-000000000001', v.svc, v.prov) r
                  left join public.services s on s.id = r.service_id
                 order by v.n),
          array['consult|Dr. Patel', 'vaccine|the nurse', 'vaccine|Nurse Kim', 'vaccine|Joy', 'consult|Nurse Kim', '-|-', '-|-',
                '-|Dr. Lee', 'consult|Dr. Lee', 'consult|the doctor'],
          'a provider said as the service is the provider (default service); no service + the nurse: her vaccination; a said service is kept; an unknown or misspelt text, or one beside a provider, stays unknown');
insert into r values ('nurse-no-service', pg_temp.book('Nia Role', '+15550031090', null, pg_temp.at(2, '11:00'), 'the nurse'));
select is((select (j ->> 'success') || '|' || (j -> 'provider' ->> 'name') || '|' || (j -> 'service' ->> 'code') from r where k = 'nurse-no-service'),
          'true|Nurse Joy Kim|vaccine', 'booking "the nurse" without a service: her vaccination, not a refused consultation');
select is((select (j ->> 'success') || '|' || (j -> 'provider' ->> 'name')
             from (select pg_temp.book('Sam Role', '+15550031091', 'Dr. Lee', pg_temp.at(2, '11:00'))::jsonb as j) x),
          'true|Dr. Marcus Lee', 'booking with the provider said as the service: that provider');
select is((select (j ->> 'success') || '|' || (j -> 'service' ->> 'code')
             from (select public.book_appointment_atomic_v2('c3100000-0000-4000-8000-000000000001', 'Val Two', null,
                            '+15550031092', 'the nurse', pg_temp.at(4, '11:00'))::jsonb as j) x),
          'true|consult', 'the v2 contract keeps its own rule: text that names no service books the default service');

-- Named provider ---------------------------------------------------------------------------------
insert into r values ('jane', pg_temp.book('Jane Doe', '+15550031001', 'consult', pg_temp.at(1, '10:00'), 'Doctor Patel'));
select is((select (j ->> 'success') || '|' || (j -> 'provider' ->> 'name') || '|' || (j -> 'provider' ->> 'id') from r where k = 'jane'),
          'true|Dr. Anika Patel|c3100000-0000-4000-8000-0000000000d1', 'named booking: success with provider {id, name}');
select is((select p.display_name from public.appointments a join public.providers p on p.org_id = a.org_id and p.id = a.provider_id
            where a.id = (select (j ->> 'appointmentId')::uuid from r where k = 'jane')), 'Dr. Anika Patel',
          'the row holds the named provider');

insert into r values ('tue', pg_temp.book('Tom Tue', '+15550031002', 'consult', pg_temp.at(2, '10:00'), 'dr patel'));
select is((select j ->> 'error' || '|' || (j ->> 'message') || '|' || (j -> 'provider' ->> 'name') from r where k = 'tue'),
          'provider_unavailable|Dr. Anika Patel does not work at the requested time|Dr. Anika Patel',
          'named provider who does not work that day: provider_unavailable, naming her');
select is((select pg_temp.names(j) from r where k = 'tue'),
          array['Dr. Anika Patel', 'Dr. Anika Patel', 'Dr. Anika Patel', 'Dr. Marcus Lee'],
          'alternatives: her nearest times first, then the requested time with another provider');
select is((select j -> 'alternatives' from r where k = 'tue'),
          jsonb_build_array(pg_temp.z(3, '09:00'), pg_temp.z(3, '09:30'), pg_temp.z(3, '10:00'), pg_temp.z(2, '10:00')),
          'her Wednesday 9:00, 9:30, 10:00, then Tuesday 10:00 (the time asked) with Dr. Lee');
select is((select array(select e ->> 'scheduledAt' from jsonb_array_elements(j -> 'alternativeSlots') e) from r where k = 'tue'),
          (select array(select x from jsonb_array_elements_text(j -> 'alternatives') x) from r where k = 'tue'),
          'alternativeSlots list the same times in the same order as alternatives');
insert into r values ('tue_insist', pg_temp.book('Tom Tue', '+15550031002', 'consult', pg_temp.at(2, '10:00'), 'dr patel', true));
select is((select pg_temp.names(j) from r where k = 'tue_insist'), array['Dr. Anika Patel', 'Dr. Anika Patel', 'Dr. Anika Patel'],
          'a caller who insists on her hears only her times');

insert into r values ('taken', pg_temp.book('Max Taken', '+15550031003', 'consult', pg_temp.at(1, '10:00'), 'Anika'));
select is((select j ->> 'error' from r where k = 'taken'), 'slot_unavailable', 'named provider booked then: slot_unavailable');
select is((select j -> 'alternatives' from r where k = 'taken'),
          jsonb_build_array(pg_temp.z(1, '09:00'), pg_temp.z(1, '09:30'), pg_temp.z(1, '10:30'), pg_temp.z(1, '10:00')),
          'her nearest times that day (9:00, 9:30, 10:30), then 10:00 with whoever is free then');
select is((select pg_temp.names(j) from r where k = 'taken'),
          array['Dr. Anika Patel', 'Dr. Anika Patel', 'Dr. Anika Patel', 'Dr. Kim Park'],
          '... and Dr. Park is free at 10:00 (Dr. Lee works Monday afternoons only)');

insert into r values ('nurse_consult', pg_temp.book('Ned', '+15550031004', 'consult', pg_temp.at(1, '11:00'), 'Nurse Kim'));
select is((select j - 'service' - 'timezone' from r where k = 'nurse_consult'),
          jsonb_build_object('success', false, 'error', 'provider_not_qualified',
            'message', 'Nurse Joy Kim does not perform this service',
            'provider', jsonb_build_object('id', 'c3100000-0000-4000-8000-0000000000d3', 'name', 'Nurse Joy Kim'),
            'providers', jsonb_build_array('Dr. Anika Patel', 'Dr. Kim Park', 'Dr. Marcus Lee')),
          'a named provider who does not perform the service: provider_not_qualified, offering those who do');
select is((select j ->> 'error' from r where k = 'nurse_consult') || '|' ||
          (pg_temp.book('Ned', '+15550031004', 'consult', pg_temp.at(1, '11:00') - interval '30 days', 'Nurse Kim') ->> 'error'),
          'provider_not_qualified|provider_not_qualified', 'provider_not_qualified comes before the time checks (in_past)');
select is(pg_temp.book('Ned', '+15550031004', 'consult', pg_temp.at(1, '11:00'), 'Dr. Smith') - 'service' - 'timezone',
          jsonb_build_object('success', false, 'error', 'unknown_provider', 'message', 'No provider of this clinic matches that name',
                             'providers', jsonb_build_array('Dr. Anika Patel', 'Dr. Kim Park', 'Dr. Marcus Lee')),
          'an unknown name: unknown_provider offering those who perform the service');
select is(pg_temp.book('Ned', '+15550031004', 'vaccine', pg_temp.at(1, '11:00'), 'Kim') - 'service' - 'timezone',
          jsonb_build_object('success', false, 'error', 'unknown_provider', 'message', 'Several providers match that name',
                             'providers', jsonb_build_array('Dr. Kim Park', 'Nurse Joy Kim')),
          'an ambiguous name: unknown_provider naming the ones it matches');

-- Provider hours ∩ clinic hours -----------------------------------------------------------------------
select is(pg_temp.book('Pia', '+15550031005', 'consult', pg_temp.at(1, '08:30'), 'Dr. Kim Park') ->> 'error', 'outside_business_hours',
          'Dr. Park''s hours start at 08:00 but the clinic opens at 09:00: outside_business_hours');
select is(pg_temp.book('Pia', '+15550031005', 'consult', pg_temp.at(1, '12:00'), 'Dr. Patel') ->> 'error', 'outside_business_hours',
          'Dr. Patel works 09-17 but the clinic''s lunch (12-13) still holds');
select is(pg_temp.book('Pia', '+15550031005', 'consult', pg_temp.at(1, '13:30'), 'Dr. Kim Park') ->> 'error', 'provider_unavailable',
          'the clinic is open at 13:30 Monday, Dr. Park is not: provider_unavailable');
select is(pg_temp.book('Pia', '+15550031005', 'consult', pg_temp.at(1, '11:30'), 'Dr. Patel') ->> 'success', 'true',
          'Dr. Patel at 11:30 (ends 12:00 with the clinic''s morning)');

-- Time off -------------------------------------------------------------------------------------------
insert into public.provider_time_off (org_id, provider_id, during, reason)
values ('c3100000-0000-4000-8000-000000000001', 'c3100000-0000-4000-8000-0000000000d1',
        tstzrange(pg_temp.at(5, '09:00'), pg_temp.at(5, '12:00')), 'Friday morning off');
select is(pg_temp.book('Fay', '+15550031006', 'consult', pg_temp.at(5, '10:00'), 'Dr. Patel') ->> 'error', 'provider_unavailable',
          'named provider on time off: provider_unavailable');
insert into r values ('fri_any', pg_temp.book('Fay', '+15550031006', 'consult', pg_temp.at(5, '10:00')));
select is((select j ->> 'error' || '|' || (j -> 'alternatives' ->> 0) from r where k = 'fri_any'),
          'slot_unavailable|' || pg_temp.z(5, '13:00'),
          'any provider, nobody free (she is the Friday physician): slot_unavailable, first alternative when she is back');
select is(pg_temp.book('Fay', '+15550031006', 'consult', pg_temp.at(5, '13:00'), 'Dr. Patel') ->> 'success', 'true',
          'after the time off she is bookable');

-- Any provider: the fair rule -----------------------------------------------------------------------------
insert into r values ('mon_a', pg_temp.book('Ann Any', '+15550031007', 'consult', pg_temp.at(1, '14:00')));
select is((select j -> 'provider' ->> 'name' from r where k = 'mon_a'), 'Dr. Marcus Lee',
          'any provider Monday 14:00: Dr. Lee (no booking that day) before Dr. Patel (two)');
insert into r values ('mon_b', pg_temp.book('Bob Any', '+15550031008', 'consult', pg_temp.at(1, '14:00')));
select is((select j -> 'provider' ->> 'name' from r where k = 'mon_b'), 'Dr. Anika Patel', 'the next one at 14:00: Dr. Patel');
insert into r values ('mon_c', pg_temp.book('Cy Any', '+15550031009', 'consult', pg_temp.at(1, '14:00')));
select is((select j ->> 'error' || '|' || coalesce(j ->> 'provider', 'null') from r where k = 'mon_c'), 'slot_unavailable|null',
          'a third at 14:00: slot_unavailable (provider null: no one was named)');
select is((select j -> 'alternatives' from r where k = 'mon_c'),
          jsonb_build_array(pg_temp.z(1, '13:00'), pg_temp.z(1, '13:30'), pg_temp.z(1, '14:30')),
          'alternatives: the nearest times someone is free, chronological');
select is((select pg_temp.names(j) from r where k = 'mon_c'), array['Dr. Marcus Lee', 'Dr. Marcus Lee', 'Dr. Marcus Lee'],
          'each with the provider the fair rule would book (Dr. Lee has fewer that day)');
insert into r values ('jane_again', pg_temp.book('jane  DOE', '+15550031001', 'consult', pg_temp.at(1, '15:00')));
select is((select j -> 'provider' ->> 'name' from r where k = 'jane_again'), 'Dr. Anika Patel',
          'the patient''s previous provider comes first (Jane saw Dr. Patel), even with more bookings that day');
-- least recently booked: Wednesday afternoon both work and both have no booking that day
update public.appointments set created_at = created_at - interval '1 day'
 where org_id = 'c3100000-0000-4000-8000-000000000001' and provider_id = 'c3100000-0000-4000-8000-0000000000d2';
select is(pg_temp.book('Wes Wed', '+15550031010', 'consult', pg_temp.at(3, '14:00')) -> 'provider' ->> 'name', 'Dr. Marcus Lee',
          'equal that day: the least recently booked (Dr. Lee''s latest booking is older)');
select is(pg_temp.book('Wyn Wed', '+15550031011', 'consult', pg_temp.at(3, '15:00')) -> 'provider' ->> 'name', 'Dr. Anika Patel',
          'then Dr. Patel (now fewer that day)');

-- patient_busy: no patient in two places ------------------------------------------------------------------
insert into r values ('busy_plain', pg_temp.book('JANE  doe', '+15550031001', 'vaccine', pg_temp.at(1, '10:15')));
select is((select j - 'service' - 'timezone' from r where k = 'busy_plain'),
          '{"success": false, "error": "patient_busy", "message": "The patient already has an appointment at an overlapping time"}'::jsonb,
          'the same patient (lenient name, same phone) at an overlapping time: patient_busy, nothing described');
insert into r values ('busy_told', pg_temp.book('Jane Doe', '+15550031001', 'vaccine', pg_temp.at(1, '10:15'), null, false,
                                                '{"callId": "t31-busy", "callerNumber": "+15550031001"}'));
select is((select (j -> 'appointment' ->> 'appointmentId') || '|' || (j -> 'appointment' -> 'provider' ->> 'name') from r where k = 'busy_told'),
          (select j ->> 'appointmentId' from r where k = 'jane') || '|Dr. Anika Patel',
          'to a caller verified by caller ID the existing booking is described');
select is((select outcome || '|' || coalesce(verified_by, '-') || '|' || cardinality(appointment_ids) from public.caller_access_log
            where org_id = 'c3100000-0000-4000-8000-000000000001' and call_id = 't31-busy'),
          'refused|caller_id|1', 'the access log records the refusal and the appointment it disclosed');
select is(public.book_appointment_atomic_v2(p_org_id => 'c3100000-0000-4000-8000-000000000001', p_name => 'Jane Doe', p_email => null,
            p_phone => '+15550031001', p_service => 'vaccine', p_scheduled_at => pg_temp.at(1, '10:15'))::jsonb ? 'appointment',
          false, 'v2 (no caller context) never describes it');
select is(pg_temp.book('John Doe', '+15550031001', 'vaccine', pg_temp.at(1, '10:15')) ->> 'success', 'true',
          'a sibling on the same phone at the same time: booked');
select is(pg_temp.book('Jane Doe', '+15550031001', 'vaccine', pg_temp.at(1, '09:50')) ->> 'error', 'patient_busy',
          'a visit running into hers (09:50-10:05) is refused too');
select is(pg_temp.book('Jane Doe', '+15550031001', 'consult', pg_temp.at(1, '10:30'), 'Dr. Kim Park') ->> 'success', 'true',
          'right after her visit ends: booked (with Dr. Park)');

-- Refusal order and replay ------------------------------------------------------------------------------
select is(pg_temp.book('Late', '+15550031012', 'consult', pg_temp.at(1, '11:00') - interval '30 days', 'Dr. Smith') ->> 'error',
          'unknown_provider', 'unknown_provider is answered before the time checks');
select is(pg_temp.book('Pia', '+15550031005', 'consult', pg_temp.at(1, '12:30'), 'Dr. Kim Park') ->> 'error',
          'outside_business_hours', 'the clinic''s rules come before the provider''s (12:30: the clinic''s lunch, not provider_unavailable)');
select is(pg_temp.book('Jane Doe', '+15550031001', 'consult', pg_temp.at(1, '10:00'), 'Dr. Lee') ->> 'error',
          'patient_busy', 'patient_busy comes before provider_unavailable (Jane is with Dr. Patel then; Dr. Lee is off)');
insert into r values ('keyed', jsonb_build_object('r',
  public.book_appointment(p_org_id => 'c3100000-0000-4000-8000-000000000001', p_name => 'Kay Keyed', p_email => null,
    p_phone => '+15550031013', p_service => 'consult', p_scheduled_at => pg_temp.at(4, '09:00'), p_idempotency_key => 't31-key',
    p_provider => 'Dr. Lee')));
select is(public.book_appointment(p_org_id => 'c3100000-0000-4000-8000-000000000001', p_name => 'Kay Keyed', p_email => null,
            p_phone => '+15550031013', p_service => 'consult', p_scheduled_at => pg_temp.at(4, '09:00'), p_idempotency_key => 't31-key',
            p_provider => 'Dr. Patel')::jsonb - 'replayed',
          (select j -> 'r' from r where k = 'keyed') - 'replayed',
          'a replay returns the original booking (its provider), whatever provider is asked the second time');

-- Excluding a provider: "anyone but Dr. Lee" ------------------------------------------------------------
create function pg_temp.book_but(p_name text, p_phone text, p_service text, p_at timestamptz, p_exclude text,
                                 p_provider text default null) returns jsonb
language sql as $$
  select public.book_appointment(p_org_id => 'c3100000-0000-4000-8000-000000000001', p_name => p_name, p_email => null,
    p_phone => p_phone, p_service => p_service, p_scheduled_at => p_at, p_provider => p_provider,
    p_exclude_provider => p_exclude)::jsonb $$;
create function pg_temp.avail_but(p_dow int, p_exclude text, p_service text default 'consult') returns jsonb
language sql as $$
  select public.check_availability(p_org_id => 'c3100000-0000-4000-8000-000000000001', p_service => p_service,
    p_day => pg_temp.day(p_dow), p_limit => 10, p_exclude_provider => p_exclude)::jsonb $$;
select is(pg_temp.book('Ivy Fair', '+15550031020', 'consult', pg_temp.at(1, '16:30')) -> 'provider' ->> 'name',
          'Dr. Marcus Lee', 'any provider Monday 16:30: the fair rule picks Dr. Lee (fewer that day)');
select is(pg_temp.book_but('Ian Notlee', '+15550031021', 'consult', pg_temp.at(1, '16:00'), 'anyone but Dr. Lee') ->> 'error',
          'unknown_provider', 'the phrase itself is not a name (the service parses it): unknown_provider');
select is(pg_temp.book_but('Ian Notlee', '+15550031021', 'consult', pg_temp.at(1, '16:00'), 'Dr. Lee') -> 'provider' ->> 'name',
          'Dr. Anika Patel', 'any provider but Dr. Lee at Monday 16:00 (where the fair rule would pick him): Dr. Patel');
insert into r values ('but_tue', pg_temp.book_but('Tia Notlee', '+15550031022', 'consult', pg_temp.at(2, '10:00'), 'lee'));
select is((select j ->> 'error' from r where k = 'but_tue'), 'slot_unavailable',
          'Tuesday (Dr. Lee''s day alone) but Dr. Lee: nobody free, slot_unavailable');
select ok((select cardinality(pg_temp.names(j)) > 0 and not ('Dr. Marcus Lee' = any (pg_temp.names(j))) from r where k = 'but_tue'),
          'its alternatives are with someone else, never Dr. Lee');
select ok((select bool_and(e ->> 'providerName' <> 'Dr. Marcus Lee') and count(*) > 0
             from jsonb_array_elements(pg_temp.avail_but(1, 'Dr. Lee') -> 'slotProviders') e),
          'availability on Monday but Dr. Lee: slots, none of them his');
select is(pg_temp.book_but('Val Notkim', '+15550031023', 'vaccine', pg_temp.at(1, '16:00'), 'Nurse Kim')
            - 'service' - 'timezone',
          jsonb_build_object('success', false, 'error', 'provider_not_qualified',
            'message', 'No provider of this clinic but the excluded one performs this service', 'provider', null,
            'providers', jsonb_build_array('Nurse Joy Kim'),
            'excludedProvider', jsonb_build_object('id', 'c3100000-0000-4000-8000-0000000000d3', 'name', 'Nurse Joy Kim')),
          'the excluded one is the only one who does the service: provider_not_qualified, excludedProvider says who');
select is(pg_temp.avail_but(1, 'Joy', 'vaccine') ->> 'error', 'provider_not_qualified', 'the same for availability');
select is(pg_temp.book_but('Ian Notlee', '+15550031021', 'consult', pg_temp.at(1, '16:00'), 'Dr. Lee', 'Dr. Patel') ->> 'error',
          'invalid_input', 'a provider to book and one to avoid at once: invalid_input');

-- The clinic-day queue leaves nothing behind -----------------------------------------------------------
set local client_min_messages = error;  -- pg_advisory_unlock warns when there is nothing to release
select is(pg_advisory_unlock(private.clinic_lock_key('c3100000-0000-4000-8000-000000000001'),
                             pg_temp.day(1) - date '2000-01-01'), false,
          'after refusals and bookings, no session-level queue lock is left for the day');
select ok(exists (select 1 from pg_locks where locktype = 'advisory' and pid = pg_backend_pid() and objsubid = 2
                   and objid = (pg_temp.day(1) - date '2000-01-01')::oid),
          'the winners'' transaction-level hold stays until commit');
reset client_min_messages;

-- free_providers agrees with available_providers ------------------------------------------------------
select is(
  (select array_agg(x order by x) from (
     select private.free_providers('c3100000-0000-4000-8000-000000000001', s.id, t) = array(
              select f.provider_id from private.available_providers('c3100000-0000-4000-8000-000000000001', s.id, t) f where f.free) as x
       from public.services s, unnest(array[pg_temp.at(1, '09:00'), pg_temp.at(1, '10:00'), pg_temp.at(1, '14:00'),
                                            pg_temp.at(1, '15:30'), pg_temp.at(2, '10:00'), pg_temp.at(3, '14:00'),
                                            pg_temp.at(5, '10:00'), pg_temp.at(5, '13:00')]) t
      where s.org_id = 'c3100000-0000-4000-8000-000000000001') y),
  array_fill(true, array[16]), 'free_providers (the booking''s fast path) = the free rows of available_providers, at 8 instants × 2 services');

-- One-provider clinic: replies as before -----------------------------------------------------------------
insert into public.orgs (id, name, timezone, slot_interval_minutes, min_notice_minutes, booking_horizon_days)
values ('c3100000-0000-4000-8000-000000000002', 'Solo Practice', 'America/New_York', 30, 60, 365);
insert into public.services (org_id, code, name, duration_minutes, buffer_minutes, is_default)
values ('c3100000-0000-4000-8000-000000000002', 'consult', 'Consultation', 30, 0, true);
insert into public.business_hours (org_id, weekday, opens_at, closes_at)
select 'c3100000-0000-4000-8000-000000000002', d, '09:00', '17:00' from generate_series(1, 5) d;
insert into r values
  ('solo', public.book_appointment_atomic_v2(p_org_id => 'c3100000-0000-4000-8000-000000000002', p_name => 'Sol One', p_email => null,
     p_phone => '+15550031101', p_service => 'consult', p_scheduled_at => pg_temp.at(1, '10:00'))::jsonb),
  ('solo_taken', public.book_appointment_atomic_v2(p_org_id => 'c3100000-0000-4000-8000-000000000002', p_name => 'Sol Two', p_email => null,
     p_phone => '+15550031102', p_service => 'consult', p_scheduled_at => pg_temp.at(1, '10:00'))::jsonb);
select is((select j - 'appointmentId' - 'contactId' - 'provider' from r where k = 'solo'),
          jsonb_build_object('success', true, 'message', 'Booking confirmed successfully', 'scheduledAt', pg_temp.z(1, '10:00'),
            'endsAt', pg_temp.z(1, '10:30'), 'timezone', 'America/New_York', 'replayed', false, 'emailDropped', false,
            'service', '{"code": "consult", "name": "Consultation", "durationMinutes": 30, "bufferMinutes": 0}'::jsonb),
          'one-provider clinic: the success reply is today''s (plus provider and emailDropped)');
select is((select j -> 'provider' ->> 'name' from r where k = 'solo'), 'Solo Practice', '... with the provider named after the clinic');
select is((select j - 'alternativeSlots' - 'provider' from r where k = 'solo_taken'),
          jsonb_build_object('success', false, 'error', 'slot_unavailable', 'message', 'Slot taken, alternatives available',
            'alternatives', jsonb_build_array(pg_temp.z(1, '09:00'), pg_temp.z(1, '09:30'), pg_temp.z(1, '10:30')),
            'timezone', 'America/New_York',
            'service', '{"code": "consult", "name": "Consultation", "durationMinutes": 30, "bufferMinutes": 0}'::jsonb),
          'one-provider clinic: the refusal is today''s (plus alternativeSlots and provider)');
select is((select (j -> 'provider') = 'null'::jsonb and pg_temp.names(j) = array_fill('Solo Practice'::text, array[3])
             from r where k = 'solo_taken'), true, '... provider null, every alternative with the clinic''s provider');
select is(public.book_appointment(p_org_id => 'c3100000-0000-4000-8000-000000000002', p_name => 'Sol Three', p_email => null,
            p_phone => '+15550031103', p_service => 'consult', p_scheduled_at => pg_temp.at(1, '11:00'), p_provider => 'Dr. Whoever')::jsonb
            ->> 'success', 'true', 'one calendar: a name that matches nobody books the clinic''s provider');

-- A move keeps only a provider the caller chose (appointments.provider_requested) -----------------
-- next week (21–27 days ahead) so nothing above is in the way: Wed 10:00 is Dr. Patel's alone,
-- Thu 10:00 Dr. Lee's alone
create function pg_temp.at2(p_dow int, p_time time) returns timestamptz language sql as $$
  select (pg_temp.day(p_dow) + 7 + p_time) at time zone 'America/New_York' $$;
create function pg_temp.move(p_key text, p_phone text, p_at timestamptz, p_provider text default null) returns jsonb
language sql as $$
  select public.reschedule_appointment_atomic(p_org_id => 'c3100000-0000-4000-8000-000000000001',
    p_caller => jsonb_build_object('callerNumber', p_phone, 'source', 'vapi'), p_new_scheduled_at => p_at,
    p_appointment_id => (select (j ->> 'appointmentId')::uuid from r where k = p_key), p_provider => p_provider)::jsonb $$;
create function pg_temp.requested(p_key text) returns boolean language sql as $$
  select a.provider_requested from public.appointments a where a.id = (select (j ->> 'appointmentId')::uuid from r where k = p_key) $$;
insert into r values
  ('f_plain', pg_temp.book('Fay Plain', '+12125553191', 'consult', pg_temp.at2(3, '10:00'))),
  ('f_any', pg_temp.book('Fay Any', '+12125553192', 'consult', pg_temp.at2(3, '10:30'), 'anyone')),
  ('f_named', pg_temp.book('Fay Named', '+12125553193', 'consult', pg_temp.at2(3, '11:00'), 'Dr. Patel'));
select is((select array_agg(j -> 'provider' ->> 'name' order by k) from r where k like 'f\_%'),
          array['Dr. Anika Patel', 'Dr. Anika Patel', 'Dr. Anika Patel'], 'fixture: three Wednesday bookings with Dr. Patel');
select is(array[pg_temp.requested('f_plain'), pg_temp.requested('f_any'), pg_temp.requested('f_named')], array[false, false, true],
          'provider_requested: only the booking that named Dr. Patel');
select is((select j ->> 'provider' from (select pg_temp.move('f_plain', '+12125553191', pg_temp.at2(4, '10:00')) j) x)::jsonb ->> 'name',
          'Dr. Marcus Lee', 'no provider ever said: moved to Thursday with whoever is in then (Dr. Lee)');
select is(pg_temp.move('f_any', '+12125553192', pg_temp.at2(4, '10:30')) -> 'provider' ->> 'name', 'Dr. Marcus Lee',
          '"anyone": moved to Thursday with Dr. Lee');
select is(pg_temp.requested('f_any'), false, '... and still not a provider the caller chose');
select is(pg_temp.move('f_named', '+12125553193', pg_temp.at2(4, '11:00')) ->> 'error', 'provider_unavailable',
          'Dr. Patel named: a move to a day she is off is refused, naming her');
select is(pg_temp.move('f_named', '+12125553193', pg_temp.at2(4, '11:00'), 'Dr. Lee') -> 'provider' ->> 'name', 'Dr. Marcus Lee',
          'a new provider named on the move: moved to him');
select is(pg_temp.move('f_named', '+12125553193', pg_temp.at2(3, '11:00')) ->> 'error', 'provider_unavailable',
          '... who is kept from then on (Wednesday morning he is off)');
select is(pg_temp.move('f_plain', '+12125553191', pg_temp.at2(3, '10:00')) -> 'provider' ->> 'name', 'Dr. Anika Patel',
          'never chosen: back to Wednesday with Dr. Patel');
select is(pg_temp.move('f_plain', '+12125553191', pg_temp.at2(1, '13:00')) -> 'provider' ->> 'name', 'Dr. Anika Patel',
          'never chosen, and the current provider is free at the new time: kept (the current one first)');

-- A role several share ("the doctor" = Dr. Patel or Dr. Lee): any provider of that role --------------
-- a third week (28–34 days ahead). Monday 10:00: Dr. Patel and Dr. Kim Park (therapist) work, Dr. Lee
-- does not; Monday 14:00: Dr. Patel and Dr. Lee (Dr. Kim Park works mornings only).
create function pg_temp.at3(p_dow int, p_time time) returns timestamptz language sql as $$
  select (pg_temp.day(p_dow) + 14 + p_time) at time zone 'America/New_York' $$;
create function pg_temp.avail_role(p_provider text, p_from timestamptz, p_to timestamptz, p_service text default null)
returns jsonb language sql as $$
  select public.check_availability(p_org_id => 'c3100000-0000-4000-8000-000000000001', p_service => p_service,
    p_from => p_from, p_to => p_to, p_limit => 50, p_provider => p_provider)::jsonb $$;
insert into r values
  ('role1', pg_temp.book('Rae Role', '+15550031301', null, pg_temp.at3(1, '10:00'), 'the doctor')),
  ('role2', pg_temp.book('Rex Role', '+15550031302', null, pg_temp.at3(1, '10:00'), 'a doctor'));
select is((select j -> 'provider' ->> 'name' from r where k = 'role1'), 'Dr. Anika Patel',
          '"the doctor" Monday 10:00 (no service said: the default, which physicians do): the one physician free, Dr. Patel');
select is((select a.provider_requested from public.appointments a
            where a.id = (select (j ->> 'appointmentId')::uuid from r where k = 'role1')), false,
          '... a role is not a provider the caller chose (a move may go to another physician)');
select is((select j ->> 'error' from r where k = 'role2'), 'slot_unavailable',
          '"a doctor" again at 10:00: no physician free — slot_unavailable, though Dr. Kim Park (therapist) is free');
select ok((select cardinality(pg_temp.names(j)) > 0
                  and pg_temp.names(j) <@ array['Dr. Anika Patel', 'Dr. Marcus Lee'] and j -> 'provider' = 'null'::jsonb
             from r where k = 'role2'),
          '... its alternatives are with physicians only, and no provider is named as asked for');
select is(pg_temp.book('Ann Yone', '+15550031303', 'consult', pg_temp.at3(1, '10:00'), 'anyone') -> 'provider' ->> 'name',
          'Dr. Kim Park', '"anyone" at 10:00 still books the therapist (the role filters only when said)');
insert into r
select 'herd' || n, pg_temp.book('Herd Role ' || n, '+1555003131' || n, 'consult', pg_temp.at3(1, '14:00'), 'one of the physicians')
  from generate_series(1, 3) n;
select is((select array_agg(coalesce(j -> 'provider' ->> 'name', j ->> 'error') order by j -> 'provider' ->> 'name' nulls last)
             from r where k like 'herd%'),
          array['Dr. Anika Patel', 'Dr. Marcus Lee', 'slot_unavailable'],
          'three bookings of Monday 14:00 with "one of the physicians": exactly the two free physicians, then slot_unavailable');
select is((select count(*)::int from public.appointments a
            where a.org_id = 'c3100000-0000-4000-8000-000000000001' and a.status <> 'cancelled'
              and a.starts_at = pg_temp.at3(1, '14:00')), 2, '... two appointments at that time, one per physician');
select is((select array_agg(distinct e ->> 'providerName' order by e ->> 'providerName')
             from jsonb_array_elements(pg_temp.avail_role('the doctor', pg_temp.at3(1, '08:00'), pg_temp.at3(3, '00:00'))
                                       -> 'slotProviders') e),
          array['Dr. Anika Patel', 'Dr. Marcus Lee'],
          'availability for "the doctor" Monday–Tuesday: both physicians, never the therapist');
select is(pg_temp.book('Vic Role', '+15550031304', 'vaccine', pg_temp.at3(1, '11:00'), 'the doctor')
            - 'service' - 'timezone',
          jsonb_build_object('success', false, 'error', 'provider_not_qualified',
            'message', 'No physician of this clinic performs this service', 'provider', null,
            'providers', jsonb_build_array('Nurse Joy Kim'), 'role', 'physician'),
          'a role none of whose providers does the visit: provider_not_qualified naming who does');
select is(pg_temp.avail_role('physicians', pg_temp.at3(1, '08:00'), null, 'vaccine') ->> 'error', 'provider_not_qualified',
          '... availability too');
insert into r values ('role_mv', pg_temp.book('Moe Role', '+15550031305', 'consult', pg_temp.at3(1, '09:00'), 'Dr. Kim Park'));
select is(pg_temp.move('role_mv', '+15550031305', pg_temp.at3(1, '09:30'), 'the doctor') -> 'provider' ->> 'name',
          'Dr. Anika Patel', 'a move with "the doctor": from the therapist to the physician free then');
select is(pg_temp.move('role_mv', '+15550031305', pg_temp.at3(2, '09:30'), 'a physician') -> 'provider' ->> 'name',
          'Dr. Marcus Lee', '... and on to Tuesday, where the physician in is Dr. Lee');

select * from finish();
rollback;
