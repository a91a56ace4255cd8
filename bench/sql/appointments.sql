-- The 1.1M appointments of bench/sql/setup.sql, loaded by several sessions at once (run.py starts
-- one psql per part with -v part=<i> -v parts=<n>): GiST inserts are CPU-bound, so this scales with
-- the cores. The generated rows satisfy the composite foreign keys by construction, so their per-row
-- FK triggers are skipped (superuser only); the exclusion constraint and unique indexes still apply.
set session_replication_role = replica;

-- j < 480: the half-full future (12 of 24 slots on days base+2..base+41);
-- j >= 480: history, every slot, going back day by day from base-1.
insert into public.appointments (org_id, lead_id, service_id, provider_id, patient_name, starts_at, ends_at,
                                 blocked, status, source)
select o.id, bench.lead_id(j % o.leads), bench.service_id(), bench.provider_id(o.n), 'Bench Patient', t.starts_at,
       t.starts_at + interval '30 minutes', tstzrange(t.starts_at, t.starts_at + interval '30 minutes'),
       case when j < 480 then 'confirmed' else 'completed' end, 'bench'
from bench.scale_orgs o
cross join bench.settings s
cross join lateral generate_series(0, o.appointments - 1) as j
cross join lateral (
  select case
    when j < 480 then ((s.base_date + 2 + j / 12)::timestamp + time '08:00'
                       + make_interval(mins => (j % 12) * 60)) at time zone s.timezone
    else ((s.base_date - 1 - (j - 480) / 24)::timestamp + time '08:00'
          + make_interval(mins => ((j - 480) % 24) * 30)) at time zone s.timezone
  end as starts_at
) as t
where o.n % :parts = :part;

-- The provider figures' clinics (bench/sql/setup.sql): every provider of the any-of-10 and any-of-1
-- clinics has every full hour 08:00-19:00 of days base+2..base+41 booked (480 each), split over the
-- parts by clinic. Patient names differ per provider so one patient is never in two places.
insert into public.appointments (org_id, lead_id, service_id, provider_id, patient_name, starts_at, ends_at,
                                 blocked, status, source)
select o.id, bench.lead_id(j % 100), bench.service_id(), bench.provider_id(o.n, k), 'Bench Patient ' || k,
       t.starts_at, t.starts_at + interval '30 minutes', tstzrange(t.starts_at, t.starts_at + interval '30 minutes'),
       'confirmed', 'bench'
from bench.provider_orgs o
cross join bench.settings s
cross join lateral generate_series(0, o.providers - 1) as k
cross join lateral generate_series(0, 479) as j
cross join lateral (
  select ((s.base_date + 2 + j / 12)::timestamp + time '08:00' + make_interval(mins => (j % 12) * 60))
           at time zone s.timezone as starts_at
) as t
where o.kind <> 'herd' and o.n % :parts = :part;
