-- 18_operations: the service_role-only functions behind `flask health-check` / `stress-test`.
-- The health-check clinic is set up idempotently and books at any hour; inspect reads back what was
-- stored; clear_health_check_org() empties only that clinic (its outbox too); clear_health_check_bookings()
-- removes only health-check bookings (by id, in the given org; a health-check booking is one whose
-- call id, recorded in its `booked` event, starts with `health-check-` — the idempotency key is opaque
-- to SQL) and only the leads they created, so a
-- real clinic's patients and appointments survive, and its outbox keeps every row and records each
-- removal as a `deleted` event (events are purged in the health-check clinic only). Nobody but
-- service_role may call them.
begin;
select plan(51);

create temp table _fn (fn name, args name[]) on commit drop;
insert into _fn values
  ('ensure_health_check_org', array[]::name[]),
  ('health_check_inspect', array['uuid', 'uuid', 'timestamp with time zone']),
  ('clear_health_check_org', array[]::name[]),
  ('clear_health_check_bookings', array['uuid', 'uuid[]']);

-- 4 × 5 = 20
select has_function('public', fn, args, format('public.%s exists', fn)) from _fn;
select is_definer('public', fn, args, format('public.%s is security definer', fn)) from _fn;
select function_privs_are('public', fn, args, 'anon', array[]::text[], format('anon cannot execute public.%s', fn)) from _fn;
select function_privs_are('public', fn, args, 'authenticated', array[]::text[],
                          format('authenticated cannot execute public.%s', fn)) from _fn;
select function_privs_are('public', fn, args, 'service_role', array['EXECUTE'],
                          format('service_role can execute public.%s', fn)) from _fn;

-- Setup is idempotent ------------------------------------------------------------------------------
select public.ensure_health_check_org();
select is((public.ensure_health_check_org())->>'orgId', '00000000-0000-4000-8000-00000000c4ec',
          'ensure_health_check_org answers the fixed health-check org');
select is((select count(*)::int from public.business_hours where org_id = private.health_check_org_id()
             and opens_at = '00:00' and closes_at = '24:00'), 7, 'open 00:00-24:00 on all 7 weekdays, once each');
select is((select count(*)::int from public.services where org_id = private.health_check_org_id() and is_default), 1,
          'one default service');
select is(public.resolve_vapi_org('asst_health_check')->>'orgId', '00000000-0000-4000-8000-00000000c4ec',
          'asst_health_check resolves to the health-check org');
select is((select count(*)::int from public.orgs where name like 'Health check%'), 1, 'exactly one health-check org');

-- Any hour is bookable -----------------------------------------------------------------------------
create function pg_temp.hc_at(p_days int, p_time time) returns timestamptz language sql stable as $$
  select ((now() at time zone 'America/New_York')::date + p_days + p_time) at time zone 'America/New_York' $$;
-- as the webhook books: the Vapi call id in the caller context (null: no caller context, as the v2 route)
create function pg_temp.book(p_org uuid, p_phone text, p_at timestamptz, p_call text) returns json
language sql as $$
  select public.book_appointment(p_org_id => p_org, p_name => 'Health Check', p_email => null,
    p_phone => p_phone, p_service => null, p_scheduled_at => p_at, p_idempotency_key => 'key:' || p_call,
    p_source => 'vapi', p_caller => case when p_call is not null then jsonb_build_object('callId', p_call, 'source', 'vapi') end) $$;
create temp table r (k text primary key, j json) on commit drop;
insert into r values
  ('hc_night', pg_temp.book(private.health_check_org_id(), '+14155550100', pg_temp.hc_at(3, '03:00'), 'health-check-a-1')),
  ('hc_late', pg_temp.book(private.health_check_org_id(), '+14155550100', pg_temp.hc_at(3, '23:30'), 'health-check-a-2'));
select ok((select (j->>'success')::boolean from r where k = 'hc_night'), 'the health-check clinic books at 03:00');
select ok((select (j->>'success')::boolean from r where k = 'hc_late'), 'and at 23:30 (ending at midnight)');

select is(public.health_check_inspect(private.health_check_org_id(), (select (j->>'appointmentId')::uuid from r where k = 'hc_night'))
            ->'appointment'->>'phone', '+14155550100', 'inspect reads back the stored phone');
select is(public.health_check_inspect(private.health_check_org_id(), (select (j->>'appointmentId')::uuid from r where k = 'hc_night'))
            ->'appointment'->>'scheduledAt', (select j->>'scheduledAt' from r where k = 'hc_night'),
          'inspect reads back the stored start');
select is((public.health_check_inspect(private.health_check_org_id(), null, pg_temp.hc_at(3, '03:00'))->>'rowsAtSlot')::int, 1,
          'inspect counts the rows at a slot');
select is(public.health_check_inspect('00000000-0000-4000-8000-0000000000ff')->>'error', 'unknown_org',
          'inspect of an unknown org is unknown_org');

-- A real clinic (seed: Sunrise) with a real patient and booking, plus two health-check bookings there
create function pg_temp.weekday(p_days int) returns date language sql stable as $$
  select d::date from generate_series((now() at time zone 'America/New_York')::date + p_days,
                                      (now() at time zone 'America/New_York')::date + p_days + 7, interval '1 day') d
   where extract(dow from d) between 1 and 5 and to_char(d, 'MM-DD') <> '01-01' limit 1 $$;
create function pg_temp.sunrise_at(p_time time) returns timestamptz language sql stable as $$
  select (pg_temp.weekday(3) + p_time) at time zone 'America/New_York' $$;
insert into r values
  ('real', pg_temp.book('11111111-1111-4111-8111-111111111111', '+14155550123', pg_temp.sunrise_at('09:00'), 'real-call-1')),
  -- a key shaped like the webhook's for a health-check call, but no such call: the key is not read
  ('real_lookalike', public.book_appointment_atomic_v2(p_org_id => '11111111-1111-4111-8111-111111111111',
     p_name => 'Look Alike', p_email => null, p_phone => '+14155550124', p_service => null,
     p_scheduled_at => pg_temp.sunrise_at('09:30'), p_idempotency_key => 'vapi:health-check-x:1'));
-- the real patient existed before the checks ran (in this one test transaction everything shares now())
update public.leads set created_at = now() - interval '1 day'
 where id = (select (j->>'contactId')::uuid from r where k = 'real');
insert into r values
  ('hc_new_lead', pg_temp.book('11111111-1111-4111-8111-111111111111', '+14155550100', pg_temp.sunrise_at('10:00'), 'health-check-b-1')),
  ('hc_real_lead', pg_temp.book('11111111-1111-4111-8111-111111111111', '+14155550123', pg_temp.sunrise_at('11:00'), 'health-check-b-2'));
select ok((select bool_and((j->>'success')::boolean) from r where k in ('real', 'real_lookalike', 'hc_new_lead', 'hc_real_lead')),
          'fixture bookings in the real clinic succeed');

create temp table _counts (phase text, org uuid, leads int, appointments int, events int) on commit drop;
create function pg_temp.snapshot(p_phase text) returns void language sql as $$
  insert into _counts
  select p_phase, o.id,
         (select count(*) from public.leads l where l.org_id = o.id),
         (select count(*) from public.appointments a where a.org_id = o.id),
         (select count(*) from public.appointment_events e where e.org_id = o.id)
    from public.orgs o $$;

-- clear_health_check_org: only the health-check clinic --------------------------------------------
select pg_temp.snapshot('before');
select is((public.clear_health_check_org()->>'appointments')::int, 2, 'clear_health_check_org removes its 2 appointments');
select pg_temp.snapshot('after');
select is((select (leads, appointments, events)::text from _counts where phase = 'after' and org = private.health_check_org_id()),
          '(0,0,0)', 'the health-check clinic is empty (leads, appointments, outbox)');
select is((select array_agg((org, leads, appointments, events)::text order by org) from _counts
            where phase = 'after' and org <> private.health_check_org_id()),
          (select array_agg((org, leads, appointments, events)::text order by org) from _counts
            where phase = 'before' and org <> private.health_check_org_id()),
          'every other org keeps all its leads, appointments and outbox rows');

-- clear_health_check_bookings: by id, only health-check bookings, only in the given org ------------
select is((public.clear_health_check_bookings('22222222-2222-4222-8222-222222222222',
             array(select (j->>'appointmentId')::uuid from r where k in ('real', 'hc_new_lead', 'hc_real_lead')))
           ->>'appointments')::int, 0, 'ids of another org remove nothing');
select is((public.clear_health_check_bookings('11111111-1111-4111-8111-111111111111',
             array[(select (j->>'appointmentId')::uuid from r where k = 'real')])->>'appointments')::int, 0,
          'a real booking is never removed, even when its id is passed');
select is((public.clear_health_check_bookings('11111111-1111-4111-8111-111111111111',
             array[(select (j->>'appointmentId')::uuid from r where k = 'real_lookalike')])->>'appointments')::int, 0,
          'nor one whose idempotency key looks like a health check''s (the key is opaque; the call id decides)');
insert into r values ('clear_real', public.clear_health_check_bookings('11111111-1111-4111-8111-111111111111',
             array(select (j->>'appointmentId')::uuid from r where k in ('real', 'hc_new_lead', 'hc_real_lead'))));
select is((select (j->>'leads')::int from r where k = 'clear_real'), 1, 'only the lead a health check created is removed');
select is((select count(*)::int from public.appointments where org_id = '11111111-1111-4111-8111-111111111111'), 2,
          'the real clinic is left with exactly its real appointments (the real one, the look-alike)');
select ok(exists (select 1 from public.appointments where id = (select (j->>'appointmentId')::uuid from r where k = 'real')),
          'the real appointment survives');
select ok(exists (select 1 from public.leads where id = (select (j->>'contactId')::uuid from r where k = 'real')),
          'the real patient survives (a health check booked with their phone)');
select ok(not exists (select 1 from public.leads where id = (select (j->>'contactId')::uuid from r where k = 'hc_new_lead')),
          'the lead the health check created is gone');
select is((select (j->>'appointments')::int || '|' || (j->>'events') from r where k = 'clear_real'), '2|0',
          'two health-check bookings removed from the real clinic, none of its events purged');
select results_eq(
  $$select kind, count(*)::int from public.appointment_events
     where org_id = '11111111-1111-4111-8111-111111111111' group by kind order by kind$$,
  $$values ('booked', 4), ('deleted', 2)$$,
  'the real clinic''s outbox keeps all four booked events and records the two removals');
select set_eq(
  $$select appointment_id, payload->>'actor' as actor, payload->>'reason' as reason from public.appointment_events
     where org_id = '11111111-1111-4111-8111-111111111111' and kind = 'deleted'$$,
  $$select (j->>'appointmentId')::uuid as appointment_id, 'operator:health-check' as actor, 'health-check cleanup' as reason
      from r where k in ('hc_new_lead', 'hc_real_lead')$$,
  'each removal is recorded for the removed booking, by operator:health-check with the cleanup as reason');

-- in the health-check clinic itself, removing bookings purges their events
insert into r values
  ('hc_again', pg_temp.book(private.health_check_org_id(), '+14155550100', pg_temp.hc_at(4, '03:00'), 'health-check-c-1'));
insert into r values ('clear_hc', public.clear_health_check_bookings(private.health_check_org_id(),
                                    array[(select (j->>'appointmentId')::uuid from r where k = 'hc_again')]));
select is((select (j->>'appointments')::int || '|' || (j->>'events') from r where k = 'clear_hc'), '1|2',
          'in the health-check clinic the booking and its events (booked, deleted) are purged');
select is((select count(*)::int from public.appointment_events where org_id = private.health_check_org_id()), 0,
          'the health-check clinic''s outbox is empty again');
select is(public.clear_health_check_bookings('00000000-0000-4000-8000-0000000000ff', array[]::uuid[])->>'error', 'unknown_org',
          'an unknown org is unknown_org');

-- Only service_role ---------------------------------------------------------------------------------
set local role authenticated;
select throws_ok('select public.clear_health_check_org()', '42501', null, 'authenticated cannot clear');
reset role;
set local role anon;
select throws_ok($$select public.clear_health_check_bookings('11111111-1111-4111-8111-111111111111', '{}')$$, '42501', null,
                 'anon cannot clear');
reset role;

select * from finish();
rollback;
