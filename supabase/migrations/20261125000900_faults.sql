-- Failure behaviour of the RPCs the webhook calls (docs/faults.md).
--
-- Vapi gives a tool call 20 s. A booking that meets a conflicting transaction which is still open
-- (an uncommitted insert into the same slot, a long-running edit of the same appointment, a
-- migration holding a table lock) would otherwise wait for it without limit, and the caller would
-- hear silence until Vapi gave up. `lock_timeout` bounds every lock wait inside these functions:
-- after 3 s the call fails with SQLSTATE 55P03, the whole transaction is rolled back (nothing is
-- half-written), and the service answers with a spoken "one moment, let me try again" (`busy`).
--
-- Set on the function rather than by the caller, so both data paths get it: PostgreSQL applies a
-- function's SET clause for the duration of the call, whoever calls it (our psycopg gateway or
-- PostgREST). statement_timeout is deliberately not set here: a SET clause cannot change the timer
-- of the statement already running; the callers set it (RPC_TIMEOUT_MS on the psycopg path, the
-- role's statement_timeout on Supabase).

--
-- The caller-facing RPCs (book_appointment and its v2 wrapper, find_upcoming_appointments,
-- find_caller_appointment, cancel_appointment, reschedule_appointment_atomic, erase_patient_data)
-- carry `set lock_timeout = '3s'` in their own definitions (20261125000500_rpc.sql,
-- 20261125000550_callers.sql); the older readers below get it here.

-- Readers only take share locks, which wait only behind DDL; the same bound keeps a migration
-- running in production from silencing calls.
alter function public.check_availability(uuid, text, timestamptz, timestamptz, integer, boolean)
  set lock_timeout = '3s';
alter function public.get_org_profile(uuid)
  set lock_timeout = '3s';
-- resolve_vapi_org (20261125000500_rpc.sql) and claim_webhook_signature
-- (20261125000650_webhook_replay.sql) carry the same setting in their own definitions.
