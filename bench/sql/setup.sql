-- Bench data, loaded into the separate `bench` database after `scripts/localdb.sh reset bench`
-- (migrations + seed). Never part of the migrations or the test template.
--
-- 1,000 clinics with 1,000 appointments each and one clinic with 100,000, generated set-based (the
-- appointments themselves by bench/sql/appointments.sql, in parallel sessions).
-- Every clinic: America/New_York, open every day 08:00-20:00 (24 half-hour slots), one default
-- 30-minute service, a Vapi assistant mapping `asst_bench_<n>`. Each clinic's calendar:
--   * days base+2 .. base+41: every other slot booked (a half-full calendar, 480 appointments),
--     which is where the scale probes book free slots and ask for alternatives;
--   * the remainder as completed history, every slot of the days before base (the 100k clinic
--     thus has ~11 years of history);
--   * from base+48 on: empty, the load phases book there (see bench.load_slot).
-- Ids are deterministic (md5 of the clinic number) so pgbench and Python derive them without a lookup.
--
-- Providers (issue 10): every scale clinic has one provider (as every clinic set up the old way
-- does); the bulk load skips triggers, so the org trigger that would create it is replaced by the
-- INSERTs below. Two more sets of clinics for the provider figures:
--   * any-of-10 (n = 2001..2020, ten providers each) and any-of-1 (n = 2101..2120, one provider),
--     every provider with the same calendar: days base+2..base+41 every full hour 08:00-19:00 booked
--     (480 appointments each), the half hours free. `any_of_10_vs_1` books free half hours with "any".
--   * the herd clinic (n = 3001, three providers, assistant asst_bench_3001), empty: 100 callers ask
--     for one slot, 50 times on 50 days.

create schema bench;

-- Bulk load: the generated rows satisfy the composite foreign keys by construction, so their
-- per-row FK triggers are skipped (superuser only); constraints and unique indexes still apply.
set session_replication_role = replica;

-- The run's reference date (clinic-local today), fixed once so a run crossing midnight still agrees.
create table bench.settings as
select (now() at time zone 'America/New_York')::date as base_date,
       'America/New_York'::text as timezone,
       100 as load_orgs;

-- Clinic n: n = 0 is the 100k clinic, 1..1000 the 1k clinics.
-- Ids look random, as gen_random_uuid() ones do in production, yet are derived from n (md5), so
-- Python computes the same (bench/run.py org_id). Not '00000000-0000-4000-8000-<n in hex>': btree_gist
-- ranks uuids by a double made of all 16 bytes, which cannot tell ids that differ only in their last
-- bytes apart, so the exclusion constraints' GiST indexes were organised by time alone and every
-- "this clinic's appointments then" lookup read 5–40 times the pages it does with random ids
-- (28 vs 4 index pages for one clinic's day in a controlled test; bench/README.md).
-- `n::text`, not `|| n`: text || integer is only stable, which would keep these immutable SQL
-- functions from being inlined (planned on every call: harness time in every pgbench transaction).
create function bench.org_id(n integer) returns uuid
language sql immutable as $$
  select md5('bench-org:' || n::text)::uuid;
$$;

create function bench.lead_id(n integer) returns uuid
language sql immutable as $$
  select md5('bench-lead:' || n::text)::uuid;
$$;

create function bench.service_id() returns uuid
language sql immutable as $$ select '00000000-0000-4000-9000-000000000001'::uuid $$;

-- Provider k (0-based) of clinic n.
create function bench.provider_id(n integer, k integer default 0) returns uuid
language sql immutable as $$
  select md5('bench-provider:' || n::text || ':' || k::text)::uuid;
$$;

-- The n-th distinct free slot of a load phase: clinic 1 + n % 100, then slot, then day, starting
-- at base + p_first_day (each phase gets its own 30 days, so phases never meet). 100 clinics, not
-- 1,000: a clinic's profile and assistant mapping are cached per worker for 60 s, and with 1,000
-- clinics a 10-second phase would be mostly first requests, which production at this rate is not.
-- A set-returning SQL function of one row, so a query's FROM inlines it (a scalar-record one is
-- parsed and planned on every call: ~50 µs of harness per pgbench transaction).
create function bench.load_slot(p_first_day integer, n bigint)
returns table (org_id uuid, starts_at timestamptz)
language sql stable rows 1 as $$
  select bench.org_id(1 + (n % s.load_orgs)::integer),
         ((s.base_date + p_first_day + (n / (s.load_orgs * 24))::integer)::timestamp
           + time '08:00' + make_interval(mins => ((n / s.load_orgs) % 24)::integer * 30)) at time zone s.timezone
  from bench.settings s;
$$;

create sequence bench.load_seq;
create sequence bench.ceiling_seq;

create table bench.scale_orgs as
select n, bench.org_id(n) as id, case when n = 0 then 100000 else 1000 end as appointments,
       case when n = 0 then 25000 else 250 end as leads
from generate_series(0, 1000) as n;

insert into public.orgs (id, name, timezone, phone_region, slot_interval_minutes, min_notice_minutes, booking_horizon_days)
select o.id, 'Bench Clinic ' || o.n, 'America/New_York', 'US', 30, 60, 365
from bench.scale_orgs o;

insert into public.services (org_id, id, code, name, duration_minutes, buffer_minutes, is_default)
select o.id, bench.service_id(), 'consultation', 'Consultation', 30, 0, true
from bench.scale_orgs o;

insert into public.business_hours (org_id, weekday, opens_at, closes_at)
select o.id, d, '08:00', '20:00'
from bench.scale_orgs o, generate_series(0, 6) as d;

insert into public.providers (org_id, id, display_name)
select o.id, bench.provider_id(o.n), 'Bench Clinic ' || o.n
from bench.scale_orgs o;

insert into public.provider_services (org_id, provider_id, service_id)
select o.id, bench.provider_id(o.n), bench.service_id()
from bench.scale_orgs o;

-- The provider figures' clinics (see the header): any-of-10, any-of-1, the herd clinic.
create table bench.provider_orgs as
select n, bench.org_id(n) as id, providers, kind
from (select n, 10 as providers, 'any10' as kind from generate_series(2001, 2020) as n
      union all select n, 1, 'any1' from generate_series(2101, 2120) as n
      union all select 3001, 3, 'herd') as o;

insert into public.orgs (id, name, timezone, phone_region, slot_interval_minutes, min_notice_minutes, booking_horizon_days)
select o.id, 'Bench Clinic ' || o.n, 'America/New_York', 'US', 30, 60, 365
from bench.provider_orgs o;

insert into public.services (org_id, id, code, name, duration_minutes, buffer_minutes, is_default)
select o.id, bench.service_id(), 'consultation', 'Consultation', 30, 0, true
from bench.provider_orgs o;

insert into public.business_hours (org_id, weekday, opens_at, closes_at)
select o.id, d, '08:00', '20:00'
from bench.provider_orgs o, generate_series(0, 6) as d;

insert into public.providers (org_id, id, display_name)
select o.id, bench.provider_id(o.n, k), 'Bench Provider ' || o.n || '-' || k
from bench.provider_orgs o, generate_series(0, o.providers - 1) as k;

insert into public.provider_services (org_id, provider_id, service_id)
select o.id, bench.provider_id(o.n, k), bench.service_id()
from bench.provider_orgs o, generate_series(0, o.providers - 1) as k;

insert into public.vapi_assistants (org_id, assistant_id, label)
select o.id, 'asst_bench_' || o.n, 'Bench Sarah ' || o.n
from bench.provider_orgs o where o.kind = 'herd';

insert into public.leads (org_id, id, name, phone)
select o.id, bench.lead_id(k), 'Bench Patient ' || k, '+1' || (2000000000 + k)::text
from bench.provider_orgs o, generate_series(0, 99) as k
where o.kind <> 'herd';

insert into public.vapi_assistants (org_id, assistant_id, label)
select o.id, 'asst_bench_' || o.n, 'Bench Sarah ' || o.n
from bench.scale_orgs o;

-- assistant-request (bench/run.py, phase 6; bench/assistant_request.lua): calls to `pn_bench_<n>`.
-- Clinics 1..100 answer with their own assistant (the mapping above, now also by phone number);
-- clinics 101..200 have no assistant of their own, only the number with a clinic prompt, so each
-- call gets a transient assistant built for it (enforced prompt, tools, a Vapi credential id).
update public.vapi_assistants va
   set phone_number_id = 'pn_bench_' || o.n
  from bench.scale_orgs o
 where va.org_id = o.id and o.n between 1 and 100;
update public.vapi_assistants va
   set assistant_id = null, phone_number_id = 'pn_bench_' || o.n, assistant_name = 'Sarah',
       custom_prompt = repeat('You are Sarah, the warm and brief receptionist of this clinic. ', 16)
  from bench.scale_orgs o
 where va.org_id = o.id and o.n between 101 and 200;
insert into public.clinic_call_settings (org_id, server_credential_id)
select o.id, 'cred-bench-' || o.n
from bench.scale_orgs o
where o.n between 101 and 200;

insert into public.leads (org_id, id, name, phone)
select o.id, bench.lead_id(k), 'Bench Patient ' || k, '+1' || (2000000000 + k)::text
from bench.scale_orgs o, generate_series(0, o.leads - 1) as k;

-- The ceiling's table: the cheapest write a booking can be, one row into a GiST exclusion
-- constraint of the same shape as appointments_no_overlap (per provider).
create table bench.ceiling_bookings (
  org_id uuid not null,
  id bigint generated always as identity,
  blocked tstzrange not null,
  primary key (org_id, id),
  provider_id uuid not null,
  constraint ceiling_bookings_no_overlap exclude using gist (org_id with =, provider_id with =, blocked with &&)
);

grant usage on schema bench to service_role;
grant execute on all functions in schema bench to service_role;
grant usage, select on all sequences in schema bench to service_role;
grant select on bench.settings to service_role;
grant select, insert on bench.ceiling_bookings to service_role;

reset session_replication_role;
