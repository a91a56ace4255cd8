-- 01_schema: tables, columns, types, keys (org_id first), composite FKs, unique keys, the
-- appointments_no_overlap exclusion constraint (and its behaviour), check constraints,
-- function hygiene (search_path), RLS on every table, security_invoker views.
-- Self-contained: creates its own fixtures (orgs A and B) inside the transaction.
begin;
select plan(221);

-- ---------------------------------------------------------------------------------------------
-- Extensions and schemas
-- ---------------------------------------------------------------------------------------------
select has_schema('private', 'schema private exists');
select has_extension('extensions', 'btree_gist', 'btree_gist is installed in schema extensions');

-- ---------------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------------
select has_table('public', t, format('table public.%s exists', t))
  from unnest(array['orgs', 'org_members', 'org_invitations', 'services', 'business_hours', 'closures',
                    'vapi_assistants', 'leads', 'appointments', 'appointment_events']) as t;

-- ---------------------------------------------------------------------------------------------
-- Columns and types
-- ---------------------------------------------------------------------------------------------
create temp table _cols (t name, c name, ty text, ord serial) on commit drop;
insert into _cols (t, c, ty) values
  ('orgs', 'id', 'uuid'),
  ('orgs', 'name', 'text'),
  ('orgs', 'timezone', 'text'),
  ('orgs', 'phone_region', 'text'),
  ('orgs', 'slot_interval_minutes', 'integer'),
  ('orgs', 'min_notice_minutes', 'integer'),
  ('orgs', 'booking_horizon_days', 'integer'),
  ('orgs', 'created_at', 'timestamp with time zone'),
  ('org_members', 'org_id', 'uuid'),
  ('org_members', 'user_id', 'uuid'),
  ('org_members', 'role', 'text'),
  ('org_members', 'created_at', 'timestamp with time zone'),
  ('services', 'org_id', 'uuid'),
  ('services', 'id', 'uuid'),
  ('services', 'code', 'text'),
  ('services', 'name', 'text'),
  ('services', 'duration_minutes', 'integer'),
  ('services', 'buffer_minutes', 'integer'),
  ('services', 'is_default', 'boolean'),
  ('services', 'active', 'boolean'),
  ('services', 'aliases', 'text[]'),
  ('services', 'match_keys', 'text[]'),
  ('business_hours', 'org_id', 'uuid'),
  ('business_hours', 'id', 'uuid'),
  ('business_hours', 'weekday', 'smallint'),
  ('business_hours', 'opens_at', 'time without time zone'),
  ('business_hours', 'closes_at', 'time without time zone'),
  ('closures', 'org_id', 'uuid'),
  ('closures', 'id', 'uuid'),
  ('closures', 'during', 'tstzrange'),
  ('closures', 'reason', 'text'),
  ('vapi_assistants', 'org_id', 'uuid'),
  ('vapi_assistants', 'id', 'uuid'),
  ('vapi_assistants', 'assistant_id', 'text'),
  ('vapi_assistants', 'phone_number_id', 'text'),
  ('vapi_assistants', 'label', 'text'),
  ('leads', 'org_id', 'uuid'),
  ('leads', 'id', 'uuid'),
  ('leads', 'name', 'text'),
  ('leads', 'phone', 'text'),
  ('leads', 'email', 'text'),
  ('leads', 'created_at', 'timestamp with time zone'),
  ('leads', 'updated_at', 'timestamp with time zone'),
  ('appointments', 'org_id', 'uuid'),
  ('appointments', 'id', 'uuid'),
  ('appointments', 'lead_id', 'uuid'),
  ('appointments', 'service_id', 'uuid'),
  ('appointments', 'patient_name', 'text'),
  ('appointments', 'starts_at', 'timestamp with time zone'),
  ('appointments', 'ends_at', 'timestamp with time zone'),
  ('appointments', 'blocked', 'tstzrange'),
  ('appointments', 'status', 'text'),
  ('appointments', 'source', 'text'),
  ('appointments', 'idempotency_key', 'text'),
  ('appointments', 'created_at', 'timestamp with time zone'),
  ('appointments', 'updated_at', 'timestamp with time zone'),
  ('appointment_events', 'org_id', 'uuid'),
  ('appointment_events', 'id', 'bigint'),
  ('appointment_events', 'appointment_id', 'uuid'),
  ('appointment_events', 'kind', 'text'),
  ('appointment_events', 'payload', 'jsonb'),
  ('appointment_events', 'created_at', 'timestamp with time zone');

-- 60 columns: existence, then type
select has_column('public', t, c, format('public.%s has column %s', t, c)) from _cols order by ord;
select col_type_is('public', t, c, ty, format('public.%s.%s is %s', t, c, ty)) from _cols order by ord;

-- not null / defaults that the design relies on
select col_not_null('public', 'appointments', 'blocked', 'appointments.blocked is not null');
select col_not_null('public', 'leads', 'phone', 'leads.phone is not null');
select col_not_null('public', 'orgs', 'timezone', 'orgs.timezone is not null');
select col_is_null('public', 'appointments', 'idempotency_key', 'appointments.idempotency_key is nullable');
select col_is_null('public', 'leads', 'email', 'leads.email is nullable');
select col_default_is('public', 'orgs', 'timezone', 'America/New_York', 'orgs.timezone defaults to America/New_York');
select col_default_is('public', 'orgs', 'slot_interval_minutes', '30', 'orgs.slot_interval_minutes defaults to 30');
select col_default_is('public', 'appointments', 'status', 'pending', 'appointments.status defaults to pending');
select col_default_is('public', 'services', 'is_default', 'false', 'services.is_default defaults to false');
select col_not_null('public', 'services', 'aliases', 'services.aliases is not null (none = empty)');
select col_default_is('public', 'services', 'aliases', '{}', 'services.aliases defaults to none');
select is((select attgenerated::text from pg_attribute where attrelid = 'public.services'::regclass and attname = 'match_keys'),
          's', 'services.match_keys is a stored generated column');
select is(
  (select attidentity::text from pg_attribute
    where attrelid = 'public.appointment_events'::regclass and attname = 'id'),
  'a', 'appointment_events.id is generated always as identity');

-- ---------------------------------------------------------------------------------------------
-- Primary keys: lead with org_id
-- ---------------------------------------------------------------------------------------------
select col_is_pk('public', 'orgs', array['id']::name[], 'orgs: primary key (id)');
select col_is_pk('public', 'org_members', array['org_id', 'user_id']::name[], 'org_members: primary key (org_id, user_id)');
select col_is_pk('public', t, array['org_id', 'id']::name[], format('%s: primary key (org_id, id)', t))
  from unnest(array['org_invitations', 'services', 'business_hours', 'closures', 'vapi_assistants', 'leads',
                    'appointments', 'appointment_events']) as t;

select is(
  (select coalesce(array_agg(c.relname::text order by c.relname), '{}')
     from pg_class c
     join pg_constraint k on k.conrelid = c.oid and k.contype = 'p'
    where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
      and c.relname <> 'orgs'
      and (select a.attname from pg_attribute a
            where a.attrelid = c.oid and a.attnum = k.conkey[1]) <> 'org_id'),
  '{}'::text[],
  'every public table except orgs has a primary key whose first column is org_id');

-- ---------------------------------------------------------------------------------------------
-- Foreign keys (composite between tenant tables)
-- ---------------------------------------------------------------------------------------------
select fk_ok('public', 'org_members', array['org_id']::name[], 'public', 'orgs', array['id']::name[],
             'org_members(org_id) references orgs(id)');
select fk_ok('public', 'org_members', array['user_id']::name[], 'auth', 'users', array['id']::name[],
             'org_members(user_id) references auth.users(id)');
select fk_ok('public', t, array['org_id']::name[], 'public', 'orgs', array['id']::name[],
             format('%s(org_id) references orgs(id)', t))
  from unnest(array['services', 'business_hours', 'closures', 'vapi_assistants', 'leads']) as t;
select fk_ok('public', 'appointments', array['org_id', 'lead_id']::name[],
             'public', 'leads', array['org_id', 'id']::name[],
             'appointments(org_id, lead_id) references leads(org_id, id)');
select fk_ok('public', 'appointments', array['org_id', 'service_id']::name[],
             'public', 'services', array['org_id', 'id']::name[],
             'appointments(org_id, service_id) references services(org_id, id)');
-- the outbox is an audit trail: its rows survive the appointment, so no foreign key (and no
-- cascade) ties them to it; they go only with their org
select fk_ok('public', 'appointment_events', array['org_id']::name[], 'public', 'orgs', array['id']::name[],
             'appointment_events(org_id) references orgs(id)');
select is(
  (select coalesce(array_agg(k.conname::text), '{}') from pg_constraint k
    where k.conrelid = 'public.appointment_events'::regclass and k.contype = 'f'
      and k.confrelid <> 'public.orgs'::regclass),
  '{}'::text[],
  'appointment_events has no foreign key to appointments (events survive their appointment)');

select is(
  (select array_agg(k.confdeltype::text order by a.attname)
     from pg_constraint k
     join pg_attribute a on a.attrelid = k.conrelid and a.attnum = k.conkey[1]
    where k.conrelid = 'public.org_members'::regclass and k.contype = 'f'),
  array['c', 'c'],
  'org_members foreign keys (org_id, user_id) are on delete cascade');

-- no single-column foreign key into a tenant table (one that has org_id): all carry org_id
select is(
  (select coalesce(array_agg(k.conname::text order by k.conname), '{}')
     from pg_constraint k
    where k.contype = 'f'
      and k.connamespace = 'public'::regnamespace
      and exists (select 1 from pg_attribute a
                   where a.attrelid = k.confrelid and a.attname = 'org_id' and not a.attisdropped)
      and not exists (select 1 from unnest(k.conkey) as ck(n)
                        join pg_attribute a on a.attrelid = k.conrelid and a.attnum = ck.n
                       where a.attname = 'org_id')),
  '{}'::text[],
  'every foreign key into a tenant table includes org_id (composite)');

-- ---------------------------------------------------------------------------------------------
-- Unique keys (constraint or unique index; key columns in this order)
-- ---------------------------------------------------------------------------------------------
create function pg_temp.unique_on(tbl regclass, cols text[], partial boolean default false)
returns boolean language sql stable as $$
  select exists (
    select 1
      from pg_index i
     where i.indrelid = tbl and i.indisunique and i.indexprs is null
       and (i.indpred is not null) = partial
       and array(select a.attname::text
                   from unnest(i.indkey::int2[]) with ordinality as k(n, o)
                   join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.n
                  order by k.o) = cols)
$$;

select ok(pg_temp.unique_on('public.leads', array['org_id', 'phone']), 'leads: unique (org_id, phone)');
select ok(pg_temp.unique_on('public.appointments', array['org_id', 'idempotency_key']),
          'appointments: unique (org_id, idempotency_key)');
select ok(pg_temp.unique_on('public.services', array['org_id', 'code']), 'services: unique (org_id, code)');
select ok(pg_temp.unique_on('public.vapi_assistants', array['assistant_id']),
          'vapi_assistants: assistant_id unique (globally)');
select ok(pg_temp.unique_on('public.vapi_assistants', array['phone_number_id']),
          'vapi_assistants: phone_number_id unique (globally)');
select ok(exists (select 1 from pg_index i
                   where i.indrelid = 'public.services'::regclass and i.indisunique
                     and pg_get_indexdef(i.indexrelid) ~* '\(org_id, lower\(name\)\)'),
          'services: unique index on (org_id, lower(name))');
select ok(exists (select 1 from pg_index i
                   where i.indrelid = 'public.services'::regclass and i.indisunique
                     and i.indpred is not null
                     and pg_get_expr(i.indpred, i.indrelid) ~ 'is_default'
                     and array(select a.attname::text
                                 from unnest(i.indkey::int2[]) as k(n)
                                 join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.n)
                         = array['org_id']),
          'services: partial unique index (org_id) where is_default');

-- ---------------------------------------------------------------------------------------------
-- Exclusion constraints
-- ---------------------------------------------------------------------------------------------
select is(
  (select contype::text from pg_constraint
    where conrelid = 'public.appointments'::regclass and conname = 'appointments_no_overlap'),
  'x', 'appointments_no_overlap exists and is an exclusion constraint');
select matches(
  (select pg_get_constraintdef(oid) from pg_constraint
    where conrelid = 'public.appointments'::regclass and conname = 'appointments_no_overlap'),
  '^EXCLUDE USING gist \(org_id WITH =, provider_id WITH =, blocked WITH &&\) WHERE \(\(?status <> ''cancelled''',
  'appointments_no_overlap = exclude using gist (org_id with =, provider_id with =, blocked with &&) where status <> cancelled (per provider, issue 10)');
select ok(exists (select 1 from pg_constraint
                   where conrelid = 'public.business_hours'::regclass and contype = 'x'),
          'business_hours has an exclusion constraint (no overlapping intervals per weekday)');

-- ---------------------------------------------------------------------------------------------
-- Fixtures (as postgres): org A (New York) and org B (Berlin)
-- ---------------------------------------------------------------------------------------------
insert into public.orgs (id, name, timezone) values
  ('00000000-0000-4000-8000-00000000000a', 'TAP Clinic A', 'America/New_York'),
  ('00000000-0000-4000-8000-00000000000b', 'TAP Clinic B', 'Europe/Berlin');
insert into public.services (org_id, id, code, name, duration_minutes, buffer_minutes, is_default) values
  ('00000000-0000-4000-8000-00000000000a', '00000101-0000-4000-8000-00000000000a', 'consult', 'Consultation', 30, 15, true),
  ('00000000-0000-4000-8000-00000000000b', '00000101-0000-4000-8000-00000000000b', 'consult', 'Consultation', 30, 15, true);
insert into public.leads (org_id, id, name, phone) values
  ('00000000-0000-4000-8000-00000000000a', '00000501-0000-4000-8000-00000000000a', 'Ada A', '+15550000001'),
  ('00000000-0000-4000-8000-00000000000b', '00000501-0000-4000-8000-00000000000b', 'Bea B', '+15550000001');
-- A: [15:00, 15:30) + 15 min buffer -> blocked [15:00, 15:45)
insert into public.appointments (org_id, id, lead_id, service_id, patient_name, starts_at, ends_at, blocked) values
  ('00000000-0000-4000-8000-00000000000a', '00000601-0000-4000-8000-00000000000a',
   '00000501-0000-4000-8000-00000000000a', '00000101-0000-4000-8000-00000000000a', 'Ada A',
   '2027-01-04 15:00Z', '2027-01-04 15:30Z', tstzrange('2027-01-04 15:00Z', '2027-01-04 15:45Z', '[)'));

-- ---------------------------------------------------------------------------------------------
-- appointments_no_overlap behaviour
-- ---------------------------------------------------------------------------------------------
select throws_ok(
  $$insert into public.appointments (org_id, lead_id, service_id, patient_name, starts_at, ends_at, blocked)
    values ('00000000-0000-4000-8000-00000000000a', '00000501-0000-4000-8000-00000000000a',
            '00000101-0000-4000-8000-00000000000a', 'Overlap', '2027-01-04 15:30Z', '2027-01-04 16:00Z',
            tstzrange('2027-01-04 15:30Z', '2027-01-04 16:15Z', '[)'))$$,
  '23P01', null, 'an appointment overlapping an active one (incl. its buffer) in the same org is rejected (23P01)');
select lives_ok(
  $$insert into public.appointments (org_id, id, lead_id, service_id, patient_name, starts_at, ends_at, blocked, status)
    values ('00000000-0000-4000-8000-00000000000a', '00000611-0000-4000-8000-00000000000a',
            '00000501-0000-4000-8000-00000000000a', '00000101-0000-4000-8000-00000000000a', 'Cancelled overlap',
            '2027-01-04 15:00Z', '2027-01-04 15:30Z', tstzrange('2027-01-04 15:00Z', '2027-01-04 15:45Z', '[)'),
            'cancelled')$$,
  'a cancelled appointment overlapping an active one is accepted');
select lives_ok(
  $$insert into public.appointments (org_id, lead_id, service_id, patient_name, starts_at, ends_at, blocked)
    values ('00000000-0000-4000-8000-00000000000a', '00000501-0000-4000-8000-00000000000a',
            '00000101-0000-4000-8000-00000000000a', 'Back to back', '2027-01-04 15:45Z', '2027-01-04 16:15Z',
            tstzrange('2027-01-04 15:45Z', '2027-01-04 16:30Z', '[)'))$$,
  'a back-to-back appointment (starts where the previous blocked range ends) is accepted');
select lives_ok(
  $$insert into public.appointments (org_id, lead_id, service_id, patient_name, starts_at, ends_at, blocked)
    values ('00000000-0000-4000-8000-00000000000b', '00000501-0000-4000-8000-00000000000b',
            '00000101-0000-4000-8000-00000000000b', 'Other org same time', '2027-01-04 15:00Z', '2027-01-04 15:30Z',
            tstzrange('2027-01-04 15:00Z', '2027-01-04 15:45Z', '[)'))$$,
  'an overlapping appointment in ANOTHER org is accepted');
select throws_ok(
  $$update public.appointments set status = 'pending'
     where org_id = '00000000-0000-4000-8000-00000000000a' and id = '00000611-0000-4000-8000-00000000000a'$$,
  '23P01', null, 're-activating the cancelled overlapping appointment is rejected (23P01)');

-- ---------------------------------------------------------------------------------------------
-- Check constraints
-- ---------------------------------------------------------------------------------------------
select throws_ok(
  $$insert into public.appointments (org_id, lead_id, service_id, patient_name, starts_at, ends_at, blocked, status)
    values ('00000000-0000-4000-8000-00000000000a', '00000501-0000-4000-8000-00000000000a',
            '00000101-0000-4000-8000-00000000000a', 'Bad status', '2027-01-05 15:00Z', '2027-01-05 15:30Z',
            tstzrange('2027-01-05 15:00Z', '2027-01-05 15:45Z', '[)'), 'bogus')$$,
  '23514', null, 'appointments: a status outside the allowed set is rejected (23514)');
select throws_ok(
  $$insert into public.appointments (org_id, lead_id, service_id, patient_name, starts_at, ends_at, blocked)
    values ('00000000-0000-4000-8000-00000000000a', '00000501-0000-4000-8000-00000000000a',
            '00000101-0000-4000-8000-00000000000a', 'Zero length', '2027-01-05 15:00Z', '2027-01-05 15:00Z',
            tstzrange('2027-01-05 15:00Z', '2027-01-05 15:15Z', '[)'))$$,
  '23514', null, 'appointments: ends_at = starts_at is rejected (23514)');
select throws_ok(
  $$insert into public.appointments (org_id, lead_id, service_id, patient_name, starts_at, ends_at, blocked)
    values ('00000000-0000-4000-8000-00000000000a', '00000501-0000-4000-8000-00000000000a',
            '00000101-0000-4000-8000-00000000000a', 'Backwards', '2027-01-05 15:00Z', '2027-01-05 14:00Z',
            tstzrange('2027-01-05 15:00Z', '2027-01-05 15:15Z', '[)'))$$,
  '23514', null, 'appointments: ends_at < starts_at is rejected (23514)');
select throws_ok(
  $$insert into public.appointments (org_id, lead_id, service_id, patient_name, starts_at, ends_at, blocked)
    values ('00000000-0000-4000-8000-00000000000a', '00000501-0000-4000-8000-00000000000a',
            '00000101-0000-4000-8000-00000000000a', 'Bad blocked', '2027-01-05 15:00Z', '2027-01-05 15:30Z',
            tstzrange('2027-01-05 15:00Z', '2027-01-05 15:20Z', '[)'))$$,
  '23514', null, 'appointments: blocked not covering [starts_at, ends_at) is rejected (23514)');
select throws_ok(
  $$insert into public.leads (org_id, name, phone)
    values ('00000000-0000-4000-8000-00000000000a', 'No plus', '5551234567')$$,
  '23514', null, 'leads: a phone without + (not E.164) is rejected (23514)');
select throws_ok(
  $$insert into public.leads (org_id, name, phone)
    values ('00000000-0000-4000-8000-00000000000a', 'Formatted', '+1 (555) 123-4567')$$,
  '23514', null, 'leads: a formatted phone (not E.164) is rejected (23514)');
select throws_ok(
  $$insert into public.leads (org_id, name, phone)
    values ('00000000-0000-4000-8000-00000000000a', 'Leading zero', '+05551234567')$$,
  '23514', null, 'leads: a phone with country code 0 is rejected (23514)');
select throws_ok(
  $$insert into public.orgs (name, timezone) values ('Bad tz', 'Mars/Olympus')$$,
  '22023', null, 'orgs: timezone Mars/Olympus is rejected by the validation trigger (22023)');
select throws_ok(
  $$update public.orgs set timezone = 'Mars/Olympus' where id = '00000000-0000-4000-8000-00000000000a'$$,
  '22023', null, 'orgs: updating timezone to Mars/Olympus is rejected by the validation trigger (22023)');
select lives_ok(
  $$insert into public.orgs (name, timezone) values ('Good tz', 'Asia/Kolkata')$$,
  'orgs: a valid IANA timezone is accepted');
select throws_ok(
  $$insert into public.orgs (name, phone_region) values ('Bad region', 'usa')$$,
  '23514', null, 'orgs: phone_region must be 2 upper-case letters (23514)');
select throws_ok(
  $$insert into public.orgs (name, slot_interval_minutes) values ('Bad interval', 1)$$,
  '23514', null, 'orgs: slot_interval_minutes below 5 is rejected (23514)');
select throws_ok(
  $$insert into public.services (org_id, code, name, duration_minutes)
    values ('00000000-0000-4000-8000-00000000000a', 'x-ray', 'X-Ray', 2)$$,
  '23514', null, 'services: duration_minutes below 5 is rejected (23514)');
select throws_ok(
  $$insert into public.business_hours (org_id, weekday, opens_at, closes_at)
    values ('00000000-0000-4000-8000-00000000000a', 7, '09:00', '17:00')$$,
  '23514', null, 'business_hours: weekday 7 is rejected (23514)');
select throws_ok(
  $$insert into public.business_hours (org_id, weekday, opens_at, closes_at)
    values ('00000000-0000-4000-8000-00000000000a', 1, '17:00', '09:00')$$,
  '23514', null, 'business_hours: opens_at >= closes_at is rejected (23514)');
select lives_ok(
  $$insert into public.business_hours (org_id, weekday, opens_at, closes_at)
    values ('00000000-0000-4000-8000-00000000000a', 1, '09:00', '12:00'),
           ('00000000-0000-4000-8000-00000000000a', 1, '13:00', '17:00')$$,
  'business_hours: two disjoint intervals on one weekday are accepted');
select throws_ok(
  $$insert into public.business_hours (org_id, weekday, opens_at, closes_at)
    values ('00000000-0000-4000-8000-00000000000a', 1, '11:00', '14:00')$$,
  '23P01', null, 'business_hours: an overlapping interval on the same weekday is rejected (23P01)');
select throws_ok(
  $$insert into public.closures (org_id, during) values ('00000000-0000-4000-8000-00000000000a', 'empty')$$,
  '23514', null, 'closures: an empty range is rejected (23514)');

-- one default service per org
select throws_ok(
  $$insert into public.services (org_id, code, name, duration_minutes, is_default)
    values ('00000000-0000-4000-8000-00000000000a', 'cleaning', 'Cleaning', 45, true)$$,
  '23505', null, 'services: a second default service in the same org is rejected (23505)');
select lives_ok(
  $$insert into public.services (org_id, code, name, duration_minutes, is_default)
    values ('00000000-0000-4000-8000-00000000000a', 'cleaning', 'Cleaning', 45, false)$$,
  'services: a second non-default service in the same org is accepted');

-- ---------------------------------------------------------------------------------------------
-- Function hygiene
-- ---------------------------------------------------------------------------------------------
select has_function('private', 'is_org_member', array['uuid'], 'private.is_org_member(uuid) exists');
select function_returns('private', 'is_org_member', array['uuid'], 'boolean', 'private.is_org_member returns boolean');
select is_definer('private', 'is_org_member', array['uuid'], 'private.is_org_member is security definer');
select has_function('private', 'can_act_for_org', array['uuid'], 'private.can_act_for_org(uuid) exists');
select function_returns('private', 'can_act_for_org', array['uuid'], 'boolean', 'private.can_act_for_org returns boolean');

select is(
  (select coalesce(array_agg(p.oid::regprocedure::text order by 1), '{}')
     from pg_proc p
    where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
      and p.prokind in ('f', 'p')
      and not exists (select 1 from pg_depend d
                       where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
      and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) as cfg
                       where cfg like 'search_path=%')),
  '{}'::text[],
  'no function in public/private has a mutable search_path (all have search_path set)');

select is(
  (select coalesce(array_agg(p.oid::regprocedure::text || ' ' || coalesce(p.proconfig::text, '{}') order by 1), '{}')
     from pg_proc p
    where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
      and p.prosecdef
      and not exists (select 1 from pg_depend d
                       where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
      and not ('search_path=""' = any (coalesce(p.proconfig, '{}')))),
  '{}'::text[],
  'every security definer function in public/private has search_path = ''''');

-- ---------------------------------------------------------------------------------------------
-- RLS on every table, security_invoker views
-- ---------------------------------------------------------------------------------------------
select cmp_ok(
  (select count(*)::int from pg_class where relnamespace = 'public'::regnamespace and relkind in ('r', 'p')),
  '>=', 9, 'public has at least the 9 documented tables');
select is(
  (select coalesce(array_agg(relname::text order by relname), '{}')
     from pg_class
    where relnamespace = 'public'::regnamespace and relkind in ('r', 'p') and not relrowsecurity),
  '{}'::text[],
  'row level security is enabled on every table in public');

select has_view('public', 'upcoming_appointments', 'view public.upcoming_appointments exists');
select has_column('public', 'upcoming_appointments', 'starts_at', 'upcoming_appointments has starts_at');
select has_column('public', 'upcoming_appointments', 'local_starts_at', 'upcoming_appointments has local_starts_at');
select is(
  (select coalesce(array_agg(c.relname::text order by c.relname), '{}')
     from pg_class c
    where c.relnamespace = 'public'::regnamespace and c.relkind = 'v'
      and not exists (select 1 from pg_options_to_table(c.reloptions) o
                       where o.option_name = 'security_invoker'
                         and lower(o.option_value) in ('true', 'on', '1', 'yes'))),
  '{}'::text[],
  'every view in public has security_invoker = true');

select * from finish();
rollback;
