-- The floor of any booking: one INSERT into a GiST exclusion-constrained table, a fresh range per
-- row. pgbench runs this file as is; the ceiling endpoint (bench/ceiling_app.py) runs the same text.
insert into bench.ceiling_bookings (org_id, provider_id, blocked)
select bench.org_id(1 + (n % 1000)::integer), bench.provider_id(1 + (n % 1000)::integer),
       tstzrange(timestamptz '2030-01-01' + make_interval(mins => (n / 1000)::integer * 30),
                 timestamptz '2030-01-01' + make_interval(mins => (n / 1000)::integer * 30 + 30))
from nextval('bench.ceiling_seq') as n;
