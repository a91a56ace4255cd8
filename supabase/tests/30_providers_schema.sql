-- 30_providers_schema (issue 10): the provider tables, the two exclusion constraints on appointments
-- (no provider and no patient in two places) and how they behave, the one-provider compatibility
-- triggers (a clinic's first provider, services linked while there is one, a missing provider_id
-- filled in), name rules, the clinic-day queue's key, and function hygiene of the new objects.
-- Self-contained: its own orgs, inside the transaction.
begin;
select plan(63);

-- ---------------------------------------------------------------------------------------------
-- Tables, keys, RLS
-- ---------------------------------------------------------------------------------------------
select has_table('public', t, format('table public.%s exists', t))
  from unnest(array['providers', 'provider_services', 'provider_hours', 'provider_time_off']) as t;
select col_is_pk('public', 'providers', array['org_id', 'id']::name[], 'providers: primary key (org_id, id)');
select col_is_pk('public', 'provider_services', array['org_id', 'provider_id', 'service_id']::name[],
                 'provider_services: primary key (org_id, provider_id, service_id)');
select col_is_pk('public', 'provider_hours', array['org_id', 'id']::name[], 'provider_hours: primary key (org_id, id)');
select col_is_pk('public', 'provider_time_off', array['org_id', 'id']::name[], 'provider_time_off: primary key (org_id, id)');
select fk_ok('public', 'provider_services', array['org_id', 'provider_id']::name[], 'public', 'providers', array['org_id', 'id']::name[],
             'provider_services(org_id, provider_id) references providers');
select fk_ok('public', 'provider_services', array['org_id', 'service_id']::name[], 'public', 'services', array['org_id', 'id']::name[],
             'provider_services(org_id, service_id) references services');
select fk_ok('public', 'provider_hours', array['org_id', 'provider_id']::name[], 'public', 'providers', array['org_id', 'id']::name[],
             'provider_hours(org_id, provider_id) references providers');
select fk_ok('public', 'provider_time_off', array['org_id', 'provider_id']::name[], 'public', 'providers', array['org_id', 'id']::name[],
             'provider_time_off(org_id, provider_id) references providers');
select fk_ok('public', 'appointments', array['org_id', 'provider_id']::name[], 'public', 'providers', array['org_id', 'id']::name[],
             'appointments(org_id, provider_id) references providers (composite: never another clinic''s provider)');
select col_not_null('public', 'appointments', 'provider_id', 'appointments.provider_id is not null');
select is((select attgenerated::text from pg_attribute
            where attrelid = 'public.appointments'::regclass and attname = 'patient_key'), 's',
          'appointments.patient_key is a stored generated column');
select is((select coalesce(array_agg(c.relname::text order by c.relname), '{}') from pg_class c
            where c.relname in ('providers', 'provider_services', 'provider_hours', 'provider_time_off')
              and c.relnamespace = 'public'::regnamespace and not c.relrowsecurity),
          '{}'::text[], 'row level security is on for every provider table');
select is((select count(distinct (p.tablename, c))::int
              from pg_policies p,
                   unnest(case when p.cmd = 'ALL' then array['DELETE', 'INSERT', 'SELECT', 'UPDATE'] else array[p.cmd] end) as c
             where p.schemaname = 'public' and p.tablename in ('providers', 'provider_services', 'provider_hours', 'provider_time_off')),
          16, 'members have select/insert/update/delete policies on the four provider tables (02_rls_matrix runs them)');

-- ---------------------------------------------------------------------------------------------
-- Exclusion constraints: definitions
-- ---------------------------------------------------------------------------------------------
select matches(
  (select pg_get_constraintdef(oid) from pg_constraint
    where conrelid = 'public.appointments'::regclass and conname = 'appointments_patient_no_overlap'),
  '^EXCLUDE USING gist \(org_id WITH =, lead_id WITH =, patient_key WITH =, tstzrange\(starts_at, ends_at, ''\[\)''::text\) WITH &&\) WHERE \(\(?status <> ''cancelled''',
  'appointments_patient_no_overlap = (org, lead, patient key, visit [starts_at, ends_at)) for active appointments');
select ok(exists (select 1 from pg_constraint where conrelid = 'public.provider_hours'::regclass
                   and conname = 'provider_hours_no_overlap' and contype = 'x'),
          'provider_hours_no_overlap: one provider''s intervals of one weekday do not overlap');

-- ---------------------------------------------------------------------------------------------
-- Compatibility: a new clinic has one provider named after it; services follow it
-- ---------------------------------------------------------------------------------------------
insert into public.orgs (id, name, timezone) values
  ('c3000000-0000-4000-8000-00000000000a', 'TAP Thirty Clinic', 'America/New_York'),
  ('c3000000-0000-4000-8000-00000000000b', 'TAP Thirty Other', 'Europe/Berlin');
select is((select array_agg(display_name || '|' || active::text) from public.providers
            where org_id = 'c3000000-0000-4000-8000-00000000000a'),
          array['TAP Thirty Clinic|true'], 'a new clinic gets one active provider named after the clinic');
insert into public.services (org_id, id, code, name, duration_minutes, buffer_minutes, is_default) values
  ('c3000000-0000-4000-8000-00000000000a', '00000101-0000-4000-8000-00000000003a', 'consult', 'Consultation', 30, 15, true),
  ('c3000000-0000-4000-8000-00000000000b', '00000101-0000-4000-8000-00000000003b', 'consult', 'Consultation', 30, 15, true);
select is((select count(*)::int from public.provider_services where org_id = 'c3000000-0000-4000-8000-00000000000a'), 1,
          'a service of a one-provider clinic is linked to that provider');
insert into public.leads (org_id, id, name, phone) values
  ('c3000000-0000-4000-8000-00000000000a', '00000501-0000-4000-8000-00000000003a', 'Ada Parent', '+15550003001'),
  ('c3000000-0000-4000-8000-00000000000b', '00000501-0000-4000-8000-00000000003b', 'Bea Parent', '+15550003001');

-- a direct insert without provider_id (Studio, fixtures) gets the clinic's provider
insert into public.appointments (org_id, id, lead_id, service_id, patient_name, starts_at, ends_at, blocked) values
  ('c3000000-0000-4000-8000-00000000000a', '00000601-0000-4000-8000-00000000003a', '00000501-0000-4000-8000-00000000003a',
   '00000101-0000-4000-8000-00000000003a', 'Ada Child', '2027-01-04 15:00Z', '2027-01-04 15:30Z',
   tstzrange('2027-01-04 15:00Z', '2027-01-04 15:45Z', '[)'));
select is((select a.provider_id from public.appointments a where a.id = '00000601-0000-4000-8000-00000000003a'),
          (select p.id from public.providers p where p.org_id = 'c3000000-0000-4000-8000-00000000000a'),
          'an appointment inserted without provider_id gets the clinic''s only provider');
select is((select patient_key from public.appointments where id = '00000601-0000-4000-8000-00000000003a'), 'adachild',
          'patient_key is the lenient patient name');

-- two more providers: new services are no longer linked; a missing provider_id is ambiguous
insert into public.providers (org_id, id, display_name, short_names) values
  ('c3000000-0000-4000-8000-00000000000a', '000008d1-0000-4000-8000-00000000003a', 'Dr. Anika Patel', '{"Dr. Patel", "Anika"}'),
  ('c3000000-0000-4000-8000-00000000000a', '000008d2-0000-4000-8000-00000000003a', 'Dr. Marcus Lee', '{"Dr. Lee"}');
insert into public.services (org_id, id, code, name, duration_minutes, is_default) values
  ('c3000000-0000-4000-8000-00000000000a', '00000102-0000-4000-8000-00000000003a', 'vaccine', 'Vaccination', 15, false);
select is((select count(*)::int from public.provider_services where org_id = 'c3000000-0000-4000-8000-00000000000a'
              and service_id = '00000102-0000-4000-8000-00000000003a'), 0,
          'with several providers a new service is linked to nobody (staff decide)');
insert into public.provider_services (org_id, provider_id, service_id) values
  ('c3000000-0000-4000-8000-00000000000a', '000008d1-0000-4000-8000-00000000003a', '00000101-0000-4000-8000-00000000003a'),
  ('c3000000-0000-4000-8000-00000000000a', '000008d2-0000-4000-8000-00000000003a', '00000101-0000-4000-8000-00000000003a'),
  ('c3000000-0000-4000-8000-00000000000a', '000008d2-0000-4000-8000-00000000003a', '00000102-0000-4000-8000-00000000003a');
select throws_ok(
  $$insert into public.appointments (org_id, lead_id, service_id, patient_name, starts_at, ends_at, blocked)
    values ('c3000000-0000-4000-8000-00000000000a', '00000501-0000-4000-8000-00000000003a', '00000101-0000-4000-8000-00000000003a',
            'Ada Child', '2027-01-05 15:00Z', '2027-01-05 15:30Z', tstzrange('2027-01-05 15:00Z', '2027-01-05 15:45Z', '[)'))$$,
  '23502', 'appointments.provider_id is required: more than one provider of this clinic could hold this appointment',
  'without provider_id, several providers for the service is a clear error');
insert into public.appointments (org_id, lead_id, service_id, patient_name, starts_at, ends_at, blocked) values
  ('c3000000-0000-4000-8000-00000000000a', '00000501-0000-4000-8000-00000000003a', '00000102-0000-4000-8000-00000000003a',
   'Ada Sibling', '2027-01-06 15:00Z', '2027-01-06 15:15Z', tstzrange('2027-01-06 15:00Z', '2027-01-06 15:15Z', '[)'));
select is((select p.display_name from public.appointments a join public.providers p on p.org_id = a.org_id and p.id = a.provider_id
            where a.patient_name = 'Ada Sibling'), 'Dr. Marcus Lee',
          'without provider_id, the only provider who performs the service is filled in');

-- ---------------------------------------------------------------------------------------------
-- appointments_no_overlap is per provider
-- ---------------------------------------------------------------------------------------------
insert into public.providers (org_id, id, display_name) values
  ('c3000000-0000-4000-8000-00000000000a', '000008d3-0000-4000-8000-00000000003a', 'Dr. Extra Third');
create function pg_temp.clinic_provider() returns text language sql stable as $$
  select p.id::text from public.providers p
   where p.org_id = 'c3000000-0000-4000-8000-00000000000a' and p.display_name = 'TAP Thirty Clinic' $$;
-- one appointment (consult 30 + 15 buffer) of lead A (or p_lead): 'ok' or the SQLSTATE and constraint
create function pg_temp.appt(p_provider text, p_name text, p_from text, p_to text, p_status text default 'pending',
                             p_lead text default '00000501-0000-4000-8000-00000000003a') returns text
language plpgsql as $$
declare v_constraint text;
begin
  insert into public.appointments (org_id, lead_id, service_id, provider_id, patient_name, starts_at, ends_at, blocked, status)
  values ('c3000000-0000-4000-8000-00000000000a', p_lead::uuid, '00000101-0000-4000-8000-00000000003a', p_provider::uuid,
          p_name, p_from::timestamptz, p_to::timestamptz, tstzrange(p_from::timestamptz, p_to::timestamptz + interval '15 minutes', '[)'),
          p_status);
  return 'ok';
exception when others then
  get stacked diagnostics v_constraint = constraint_name;
  return sqlstate || ' ' || coalesce(v_constraint, '');
end $$;
insert into public.leads (org_id, id, name, phone) values
  ('c3000000-0000-4000-8000-00000000000a', '00000502-0000-4000-8000-00000000003a', 'Cy Other', '+15550003002');

select is(pg_temp.appt('000008d1-0000-4000-8000-00000000003a', 'Patient One', '2027-02-01 15:00Z', '2027-02-01 15:30Z'), 'ok',
          'Dr. Patel at 15:00');
select is(pg_temp.appt('000008d2-0000-4000-8000-00000000003a', 'Patient Two', '2027-02-01 15:00Z', '2027-02-01 15:30Z'), 'ok',
          'Dr. Lee at the same time (another provider, another patient): accepted');
select is(pg_temp.appt('000008d1-0000-4000-8000-00000000003a', 'Patient Three', '2027-02-01 15:30Z', '2027-02-01 16:00Z',
                       'pending', '00000502-0000-4000-8000-00000000003a'),
          '23P01 appointments_no_overlap', 'Dr. Patel again inside the first one''s buffer: appointments_no_overlap (23P01)');
select is(pg_temp.appt('000008d1-0000-4000-8000-00000000003a', 'Patient Three', '2027-02-01 15:45Z', '2027-02-01 16:15Z',
                       'pending', '00000502-0000-4000-8000-00000000003a'),
          'ok', 'Dr. Patel back to back after the buffer: accepted');
select is(pg_temp.appt('000008d1-0000-4000-8000-00000000003a', 'Patient Four', '2027-02-01 15:00Z', '2027-02-01 15:30Z', 'cancelled',
                       '00000502-0000-4000-8000-00000000003a'),
          'ok', 'a cancelled appointment overlapping an active one of the same provider is accepted');

-- ---------------------------------------------------------------------------------------------
-- appointments_patient_no_overlap: no patient in two places
-- ---------------------------------------------------------------------------------------------
select is(pg_temp.appt(pg_temp.clinic_provider(), '  PATIENT  one ', '2027-02-01 15:15Z', '2027-02-01 15:45Z'),
          '23P01 appointments_patient_no_overlap',
          'the same lead''s patient (lenient name) with a free provider at an overlapping time: 23P01');
select is(pg_temp.appt(pg_temp.clinic_provider(), 'Patient Sibling', '2027-02-01 15:10Z', '2027-02-01 15:40Z'), 'ok',
          'a sibling on the same phone (another name) at an overlapping time: accepted');
select is(pg_temp.appt('000008d3-0000-4000-8000-00000000003a', 'Patient One', '2027-02-01 15:30Z', '2027-02-01 16:00Z'), 'ok',
          'the patient right when the visit ends: accepted (the buffer is the provider''s clean-up, not the patient''s time)');
select is(pg_temp.appt('000008d2-0000-4000-8000-00000000003a', 'Patient One', '2027-02-01 15:45Z', '2027-02-01 16:15Z'),
          '23P01 appointments_patient_no_overlap', 'but not while the patient is in the next visit');
select is(pg_temp.appt('000008d2-0000-4000-8000-00000000003a', 'Patient One', '2027-02-01 15:45Z', '2027-02-01 16:15Z', 'pending',
                       '00000502-0000-4000-8000-00000000003a'),
          'ok', 'the same name under another phone (another family) is another patient');
select is(pg_temp.appt('000008d2-0000-4000-8000-00000000003a', 'Patient One', '2027-02-01 16:30Z', '2027-02-01 17:00Z', 'cancelled'),
          'ok', 'a cancelled visit never conflicts');
-- erasure: '[erased]' is nobody (patient_key NULL), so erasing overlapping siblings never collides
select lives_ok($$update public.appointments set patient_name = '[erased]'
                   where org_id = 'c3000000-0000-4000-8000-00000000000a' and patient_name in ('Patient One', 'Patient Sibling')
                     and lead_id = '00000501-0000-4000-8000-00000000003a'$$,
                'erasing overlapping appointments of one phone (siblings) raises nothing');
select is((select count(*)::int from public.appointments
            where org_id = 'c3000000-0000-4000-8000-00000000000a' and patient_name = '[erased]' and patient_key is not null), 0,
          'erased appointments have no patient key');

-- a provider of another clinic can never be named
select throws_ok(
  $$insert into public.appointments (org_id, lead_id, service_id, provider_id, patient_name, starts_at, ends_at, blocked)
    values ('c3000000-0000-4000-8000-00000000000b', '00000501-0000-4000-8000-00000000003b', '00000101-0000-4000-8000-00000000003b',
            '000008d1-0000-4000-8000-00000000003a', 'Cross', '2027-03-01 15:00Z', '2027-03-01 15:30Z',
            tstzrange('2027-03-01 15:00Z', '2027-03-01 15:45Z', '[)'))$$,
  '23503', null, 'an appointment of clinic B with clinic A''s provider violates the composite foreign key (23503)');
select throws_ok(
  $$delete from public.providers where id = '000008d1-0000-4000-8000-00000000003a'$$,
  '23503', null, 'a provider with appointments cannot be deleted (deactivate it)');

-- ---------------------------------------------------------------------------------------------
-- Provider rules: names, hours, time off
-- ---------------------------------------------------------------------------------------------
select throws_ok(
  $$insert into public.providers (org_id, display_name) values ('c3000000-0000-4000-8000-00000000000a', 'dr  ANIKA patel')$$,
  '23505', null, 'a display name equal to another one leniently (case, spaces, punctuation) is refused');
select lives_ok(
  $$insert into public.providers (org_id, display_name) values ('c3000000-0000-4000-8000-00000000000b', 'Dr. Anika Patel')$$,
  'the same name in another clinic is fine');
select throws_ok(
  $$insert into public.providers (org_id, display_name) values ('c3000000-0000-4000-8000-00000000000a', '   ')$$,
  '23514', null, 'a blank display name is refused');
select throws_ok(
  $$insert into public.providers (org_id, display_name, short_names) values ('c3000000-0000-4000-8000-00000000000a', 'Dr. Blank', '{"Dr. B", " . "}')$$,
  '23514', null, 'a short name without letters or digits is refused');
select throws_ok(
  $$insert into public.providers (org_id, display_name, short_names) values ('c3000000-0000-4000-8000-00000000000a', 'Dr. Null', array['Dr. N', null])$$,
  '23514', null, 'a NULL short name is refused');
select throws_ok(
  format($$insert into public.providers (org_id, display_name, short_names) values ('c3000000-0000-4000-8000-00000000000a', 'Dr. Long', '{"%s"}')$$,
         repeat('x', 81)),
  '23514', null, 'a short name longer than 80 characters is refused');
select lives_ok(
  $$insert into public.providers (org_id, display_name, short_names, color) values ('c3000000-0000-4000-8000-00000000000a', 'Dr. Fine', '{"Dr. F", "Fine"}', '#A1B2C3')$$,
  'short names with letters and a #RRGGBB colour are accepted');
select throws_ok(
  $$insert into public.providers (org_id, display_name, color) values ('c3000000-0000-4000-8000-00000000000a', 'Dr. Red', 'red')$$,
  '23514', null, 'a colour that is not #RRGGBB is refused');
select throws_ok($$update public.providers set role = 'Nurse' where org_id = 'c3000000-0000-4000-8000-00000000000a' and display_name = 'Dr. Fine'$$,
  '23514', null, 'a role is one lower-case word (clinics apply lower-cases it): "Nurse" is refused');
select lives_ok($$update public.providers set role = 'therapist' where org_id = 'c3000000-0000-4000-8000-00000000000a' and display_name = 'Dr. Fine'$$,
  'a clinic''s own role word is accepted');
select lives_ok(
  $$insert into public.provider_hours (org_id, provider_id, weekday, opens_at, closes_at) values
      ('c3000000-0000-4000-8000-00000000000a', '000008d1-0000-4000-8000-00000000003a', 1, '09:00', '12:00'),
      ('c3000000-0000-4000-8000-00000000000a', '000008d1-0000-4000-8000-00000000003a', 1, '13:00', '24:00'),
      ('c3000000-0000-4000-8000-00000000000a', '000008d2-0000-4000-8000-00000000003a', 1, '10:00', '14:00')$$,
  'provider hours: disjoint intervals of one provider, and overlapping ones of two providers, are accepted');
select throws_ok(
  $$insert into public.provider_hours (org_id, provider_id, weekday, opens_at, closes_at)
    values ('c3000000-0000-4000-8000-00000000000a', '000008d1-0000-4000-8000-00000000003a', 1, '11:00', '14:00')$$,
  '23P01', null, 'provider hours: an overlapping interval of the same provider and weekday is refused (23P01)');
select throws_ok(
  $$insert into public.provider_hours (org_id, provider_id, weekday, opens_at, closes_at)
    values ('c3000000-0000-4000-8000-00000000000a', '000008d1-0000-4000-8000-00000000003a', 2, '17:00', '09:00')$$,
  '23514', null, 'provider hours: opens_at >= closes_at is refused');
select throws_ok(
  $$insert into public.provider_hours (org_id, provider_id, weekday, opens_at, closes_at)
    values ('c3000000-0000-4000-8000-00000000000a', '000008d1-0000-4000-8000-00000000003a', 7, '09:00', '10:00')$$,
  '23514', null, 'provider hours: weekday 7 is refused');
select throws_ok(
  $$insert into public.provider_time_off (org_id, provider_id, during)
    values ('c3000000-0000-4000-8000-00000000000a', '000008d1-0000-4000-8000-00000000003a', tstzrange('2027-03-01', null))$$,
  '23514', null, 'provider time off must have both bounds');

-- ---------------------------------------------------------------------------------------------
-- The clinic-day queue's key: the clinic-local date, whatever the session's zone
-- ---------------------------------------------------------------------------------------------
set local timezone = 'Pacific/Kiritimati';
select is(private.queue_clinic_days('c3000000-0000-4000-8000-00000000000a', 'America/New_York', '2027-03-01 04:30Z'),
          array[date '2027-02-28' - date '2000-01-01'],
          'queue: 23:30 in New York on Feb 28 (04:30Z on Mar 1, Mar 1 in the session''s zone) is the clinic day Feb 28');
select is((select count(*)::int from pg_locks
            where locktype = 'advisory' and pid = pg_backend_pid() and objsubid = 2
              and objid = (date '2027-02-28' - date '2000-01-01')::oid),
          1, 'queued: this session holds the day''s advisory lock (two-key form)');
select private.leave_clinic_days('c3000000-0000-4000-8000-00000000000a', array[date '2027-02-28' - date '2000-01-01']);
select is((select count(*)::int from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()), 0,
          'left: no advisory lock remains (session-level locks do not wait for the transaction)');
select is(private.queue_clinic_days('c3000000-0000-4000-8000-00000000000a', 'America/New_York', '2027-03-03 15:00Z', '2027-03-01 15:00Z'),
          array[date '2027-03-01' - date '2000-01-01', date '2027-03-03' - date '2000-01-01'],
          'two days (a reschedule) are queued for in ascending order');
select private.leave_clinic_days('c3000000-0000-4000-8000-00000000000a',
                                 array[date '2027-03-01' - date '2000-01-01', date '2027-03-03' - date '2000-01-01'], true);
select is((select count(*)::int from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()), 2,
          'a winner''s hold (p_hold) keeps both days locked until commit');
reset timezone;

-- ---------------------------------------------------------------------------------------------
-- Hygiene of the new functions
-- ---------------------------------------------------------------------------------------------
select is(
  (select coalesce(array_agg(p.oid::regprocedure::text order by 1), '{}') from pg_proc p
    where p.pronamespace = 'private'::regnamespace
      and p.proname in ('lenient_name', 'provider_name_words', 'provider_titles', 'provider_roles_said', 'provider_json', 'resolve_provider',
                        'clinic_lock_key', 'queue_clinic_days', 'leave_clinic_days', 'create_clinic_provider',
                        'link_service_to_sole_provider', 'fill_appointment_provider', 'available_providers',
                        'free_providers', 'rank_providers', 'fairest_provider', 'unknown_provider_reply',
                        'qualification_refusal', 'previous_provider', 'patient_conflict', 'patient_busy_reply')
      and (has_function_privilege('anon', p.oid, 'EXECUTE')
           or (has_function_privilege('authenticated', p.oid, 'EXECUTE') and p.proname <> 'lenient_name'))),
  '{}'::text[], 'the provider helpers are not executable by anon, nor by authenticated (but lenient_name)');
select is((select count(*)::int from pg_proc
            where pronamespace = 'private'::regnamespace
              and proname in ('lenient_name', 'provider_name_words', 'provider_titles', 'provider_roles_said', 'provider_json', 'resolve_provider',
                              'clinic_lock_key', 'queue_clinic_days', 'leave_clinic_days', 'create_clinic_provider',
                              'link_service_to_sole_provider', 'fill_appointment_provider', 'available_providers',
                              'free_providers', 'rank_providers', 'fairest_provider', 'unknown_provider_reply',
                              'qualification_refusal', 'previous_provider', 'patient_conflict', 'patient_busy_reply')),
          21, 'all 21 provider helpers exist (once each)');

select * from finish();
rollback;
