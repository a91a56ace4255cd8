-- pgbench: book_appointment_atomic_v2 for the next distinct free slot of the `rpc` phase (days
-- base+50..), the load clinics round-robin; a new caller (phone) per booking.
select public.book_appointment_atomic_v2(
  p_org_id => s.org_id, p_name => 'Bench Caller', p_email => null,
  p_phone => '+1' || (3000000000 + n)::text, p_service => 'consultation',
  p_scheduled_at => s.starts_at, p_idempotency_key => 'pgbench:' || n, p_source => 'bench')
from nextval('bench.load_seq') as n, bench.load_slot(50, n) as s;
