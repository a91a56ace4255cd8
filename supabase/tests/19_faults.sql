-- 19_faults: every RPC the webhook calls bounds its lock waits (lock_timeout = 3s) and runs with an
-- empty search_path, both set in the function's own definition (docs/faults.md), so a held lock ends
-- in SQLSTATE 55P03 and a spoken "busy" instead of a silent caller; the setting applies only inside
-- the call and does not leak into the caller's session. The list is every RPC api/ calls while
-- answering a webhook request: the tools, the clinic lookup, the replay claim and the clinic
-- webhook-secret index and fetch (plus erase_patient_data, which changes the same rows). A function
-- added to the webhook's path belongs in it.
begin;
select plan(16);

create temp table _webhook_rpc (fn regprocedure) on commit drop;
insert into _webhook_rpc values
  ('public.book_appointment_atomic_v2(uuid, text, text, text, text, timestamptz, text, text)'),
  ('public.book_appointment(uuid, text, text, text, text, timestamptz, text, text, date, jsonb, text, boolean, text)'),
  ('public.cancel_appointment(uuid, jsonb, uuid, date, smallint, time, text, smallint, text, time, time, smallint)'),
  ('public.reschedule_appointment_atomic(uuid, jsonb, timestamptz, uuid, date, smallint, time, text, boolean, text, smallint, text, time, time, smallint, date, time, integer, boolean, integer, smallint)'),
  ('public.find_caller_appointment(uuid, jsonb, uuid, date, smallint, time, smallint, text, time, time, smallint)'),
  ('public.erase_patient_data(uuid, text, text)'),
  ('public.check_availability(uuid, text, timestamptz, timestamptz, integer, boolean, text, date, time, time, time, time, text)'),
  ('public.find_upcoming_appointments(uuid, jsonb)'),
  ('public.get_org_profile(uuid)'),
  ('public.resolve_vapi_org(text, text, uuid, boolean)'),
  ('public.claim_webhook_signature(text, timestamptz)'),
  ('public.vapi_webhook_secret_index(text)'),
  ('public.get_org_credential(uuid, text, text)');

select ok((select proconfig @> array['lock_timeout=3s', 'search_path=""'] from pg_proc where oid = fn),
          format('%s waits at most 3 s for a lock, with an empty search_path', fn))
  from _webhook_rpc order by fn::text;

-- Inside the call the bound is in force whatever the session says ...
create function pg_temp.lock_timeout_inside() returns text language sql
  set lock_timeout = '3s' as $$ select current_setting('lock_timeout') $$;
set local lock_timeout = 0;
select is(pg_temp.lock_timeout_inside(), '3s', 'a function''s lock_timeout applies during the call');

-- ... and the caller's own setting is back afterwards.
set local role service_role;
select ok((public.get_org_profile('11111111-1111-4111-8111-111111111111') ->> 'success')::boolean,
          'service_role calls an RPC with the bound');
reset role;
select is(current_setting('lock_timeout'), '0', 'the caller''s lock_timeout is unchanged after an RPC');

select * from finish();
rollback;
