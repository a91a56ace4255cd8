-- 50_clinic_apply: public.apply_clinic(p_spec, p_dry_run), the SQL behind `flask --app api clinics apply`.
-- A spec creates a clinic; the same spec again changes nothing; a modified spec changes exactly the
-- difference; a spec with problems names every one and writes nothing; a dry run writes nothing;
-- what an appointment points at is deactivated, never deleted; an existing clinic is adopted by id;
-- Vapi ids are one row per entry, another clinic's ids are refused. Only service_role may call it.
begin;
select plan(50);

-- The function ----------------------------------------------------------------------------------------
select has_function('public', 'apply_clinic', array['jsonb', 'boolean'], 'public.apply_clinic(jsonb, boolean) exists');
select is_definer('public', 'apply_clinic', array['jsonb', 'boolean'], 'public.apply_clinic is security definer');
select ok((select proconfig @> array['search_path=""', 'lock_timeout=3s'] from pg_proc
            where oid = 'public.apply_clinic(jsonb, boolean)'::regprocedure),
          'public.apply_clinic has search_path = '''' and lock_timeout = 3s in its definition');
select is(array(select r from unnest(array['anon', 'authenticated', 'service_role']) r
                 where has_function_privilege(r, 'public.apply_clinic(jsonb, boolean)', 'EXECUTE')),
          array['service_role'], 'only service_role can execute public.apply_clinic');
select isnt(obj_description('public.apply_clinic(jsonb, boolean)'::regprocedure, 'pg_proc'), null,
            'public.apply_clinic has a catalog comment');

-- The spec of a new clinic ------------------------------------------------------------------------------
create temp table _spec (name text primary key, spec jsonb) on commit drop;
insert into _spec values ('v1', $${
  "clinic": {"slug": "tap-harbor", "name": "TAP Harbor Physio", "timezone": "Europe/London", "phone_region": "GB",
             "slot_interval_minutes": 15, "min_notice_minutes": 120, "booking_horizon_days": 60},
  "hours": {"monday": ["08:00-12:00", "13:00-18:00"], "tuesday": ["08:00-18:00"], "saturday": ["09:00-13:00"]},
  "closures": [{"date": "2030-12-25", "reason": "Christmas Day"},
               {"from": "2030-12-31T13:00:00", "to": "2031-01-02", "reason": "New Year"}],
  "services": [{"code": "assessment", "name": "Initial assessment", "duration_minutes": 60, "buffer_minutes": 10,
                "default": true, "aliases": ["first visit", "new patient"]},
               {"code": "follow-up", "name": "Follow-up", "duration_minutes": 30}],
  "providers": [{"name": "Dr. Amelia Shaw", "short_names": ["Dr. Shaw", "Amelia"], "role": "Physician",
                 "services": ["assessment", "follow-up"],
                 "hours": {"monday": ["08:00-12:00"], "tuesday": ["08:00-18:00"]},
                 "time_off": [{"from": "2030-08-05", "to": "2030-08-17", "reason": "Holiday"}]},
                {"name": "Tom Becker", "services": ["follow-up"]}],
  "assistants": [{"assistant_id": "asst_tap_harbor", "phone_number_id": "pn_tap_harbor", "label": "Ella", "name": "Ella",
                  "prompt": "You are Ella."}],
  "front_desk": {"number": "+442079460000", "transfer_message": "Putting you through now.",
                 "hours": {"monday": ["09:00-17:00"], "tuesday": ["09:00-17:00"]}}
}$$);
create temp table _reply (step text primary key, reply jsonb) on commit drop;
create function pg_temp.apply(p_step text, p_spec jsonb, p_dry_run boolean default false) returns jsonb
language sql as $$
  insert into _reply values (p_step, public.apply_clinic(p_spec, p_dry_run)::jsonb) returning reply
$$;
create function pg_temp.org() returns uuid language sql as $$ select id from public.orgs where slug = 'tap-harbor' $$;
create function pg_temp.changes(p_step text) returns text[] language sql as $$
  select coalesce(array_agg(c ->> 'op' || ' ' || (c ->> 'item') order by ord), '{}')
    from _reply r, jsonb_array_elements(r.reply -> 'changes') with ordinality as x(c, ord) where r.step = p_step
$$;
create function pg_temp.rows() returns bigint[] language sql as $$
  select array[(select count(*) from public.orgs), (select count(*) from public.services), (select count(*) from public.providers),
               (select count(*) from public.business_hours), (select count(*) from public.closures),
               (select count(*) from public.provider_hours), (select count(*) from public.provider_time_off),
               (select count(*) from public.provider_services), (select count(*) from public.vapi_assistants),
               (select count(*) from public.transfer_hours), (select count(*) from public.clinic_call_settings)]
$$;

-- A dry run answers and writes nothing ------------------------------------------------------------------
select pg_temp.apply('dry', (select spec from _spec where name = 'v1'), true);
select is((select reply ->> 'success' from _reply where step = 'dry'), 'true', 'a dry run of a new clinic succeeds');
select ok(cardinality(pg_temp.changes('dry')) > 20, 'and lists what it would create');
select is(pg_temp.org(), null, 'a dry run creates no clinic');

-- Created --------------------------------------------------------------------------------------------
select pg_temp.apply('create', (select spec from _spec where name = 'v1'));
select is((select array[reply ->> 'success', reply ->> 'created', reply ->> 'orgId'] from _reply where step = 'create'),
          array['true', 'true', pg_temp.org()::text], 'the spec creates the clinic and names its org id');
select is((select (name, timezone, phone_region, slot_interval_minutes, min_notice_minutes, booking_horizon_days)::text
             from public.orgs where id = pg_temp.org()),
          '("TAP Harbor Physio",Europe/London,GB,15,120,60)', 'the clinic settings');
select is(array(select private.weekday_name(weekday) || ' ' || private.interval_text(opens_at, closes_at)
                  from public.business_hours where org_id = pg_temp.org() order by weekday, opens_at),
          array['monday 08:00-12:00', 'monday 13:00-18:00', 'tuesday 08:00-18:00', 'saturday 09:00-13:00'], 'the hours');
select is(array(select private.period_text(during, 'Europe/London') from public.closures where org_id = pg_temp.org() order by during),
          array['2030-12-25 00:00 - 2030-12-26 00:00', '2030-12-31 13:00 - 2031-01-02 00:00'],
          'closures on the clinic''s wall clock: a date is that whole day, a bare `to` date its midnight');
select is(array(select (code, duration_minutes, buffer_minutes, is_default, aliases)::text from public.services
                 where org_id = pg_temp.org() order by code),
          array['(assessment,60,10,t,"{""first visit"",""new patient""}")', '(follow-up,30,0,f,{})'],
          'the services with their aliases; left-out keys take their defaults');
select is(array(select display_name from public.providers where org_id = pg_temp.org() order by display_name),
          array['Dr. Amelia Shaw', 'Tom Becker'], 'the spec''s providers replace the one the clinic got at creation');
select is(array(select p.display_name || ':' || s.code from public.provider_services ps
                  join public.providers p on p.org_id = ps.org_id and p.id = ps.provider_id
                  join public.services s on s.org_id = ps.org_id and s.id = ps.service_id
                 where ps.org_id = pg_temp.org() order by 1),
          array['Dr. Amelia Shaw:assessment', 'Dr. Amelia Shaw:follow-up', 'Tom Becker:follow-up'], 'who does what');
select is(array(select display_name || ':' || coalesce(role, '-') from public.providers where org_id = pg_temp.org() order by 1),
          array['Dr. Amelia Shaw:physician', 'Tom Becker:-'], 'a provider''s role, lower-cased; none where the spec gives none');
select is((private.resolve_provider(pg_temp.org(), 'the doctor')).kind, 'named', 'callers may ask for "the doctor" (the role)');
select is((select count(*)::int from public.provider_hours where org_id = pg_temp.org()), 2, 'Dr. Shaw''s hours');
select is((select count(*)::int from public.provider_time_off where org_id = pg_temp.org()), 1, 'Dr. Shaw''s time off');
select is((select (assistant_id, phone_number_id, label, assistant_name, custom_prompt)::text from public.vapi_assistants
            where org_id = pg_temp.org()),
          '(asst_tap_harbor,pn_tap_harbor,Ella,Ella,"You are Ella.")', 'one mapping row holds the assistant and its number');
select is(public.resolve_vapi_org('asst_tap_harbor') ->> 'orgId', pg_temp.org()::text, 'the assistant resolves to the clinic');
select is((select reply -> 'newVapiIds' from _reply where step = 'create'),
          '[{"id": "asst_tap_harbor", "kind": "assistant"}, {"id": "pn_tap_harbor", "kind": "phone number"}]'::jsonb,
          'the reply names the Vapi ids that are new to the clinic (the command confirms them with Vapi)');
select is((select array[front_desk_number, transfer_message] from public.clinic_call_settings where org_id = pg_temp.org()),
          array['+442079460000', 'Putting you through now.'], 'front desk number and transfer message');
select is((select count(*)::int from public.transfer_hours where org_id = pg_temp.org()), 2, 'transfer hours');
select is((public.transfer_destination(pg_temp.org(), '2030-06-03 10:00+01') ->> 'number'), '+442079460000',
          'a transfer on a Monday morning reaches the front desk');

-- The same spec again: no changes ---------------------------------------------------------------------
select pg_temp.apply('again', (select spec from _spec where name = 'v1'));
select is((select jsonb_build_array(reply -> 'success', reply -> 'created', reply -> 'changes', reply -> 'newVapiIds') from _reply where step = 'again'),
          '[true, false, [], []]'::jsonb, 'the same spec again changes nothing');

-- A modified spec: exactly the difference ---------------------------------------------------------------
insert into _spec select 'v2', jsonb_set(jsonb_set(jsonb_set(spec,
  '{services,1}', '{"code": "follow-up", "name": "Follow-up", "duration_minutes": 45, "buffer_minutes": 5}'),
  '{hours}', '{"monday": ["08:00-12:00", "13:00-18:00"], "tuesday": ["08:00-18:00"], "friday": ["08:00-16:00"]}'),
  '{clinic,min_notice_minutes}', '240')
  from _spec where name = 'v1';
select pg_temp.apply('v2', (select spec from _spec where name = 'v2'));
select is(pg_temp.changes('v2'),
          array['~ clinic min_notice_minutes', '+ hours friday', '- hours saturday', '~ service follow-up'],
          'a modified spec changes exactly the difference');
select is((select reply -> 'changes' -> 3 from _reply where step = 'v2'),
          '{"op": "~", "item": "service follow-up", "before": "Follow-up; 30 min", "after": "Follow-up; 45 min + 5 min buffer"}'::jsonb,
          'a change says before and after');

-- A spec with problems: every one named, nothing written --------------------------------------------------
create temp table _before on commit drop as select pg_temp.rows() as counts, private.clinic_description_json(pg_temp.org()) as description;
insert into _spec values ('bad', $${
  "clinic": {"slug": "tap-harbor", "timezone": "Europe/Londn"},
  "hours": {"mondy": ["08:00-12:00"], "tuesday": ["08:00-25:00"]},
  "services": [{"code": "a", "name": "Same", "duration_minutes": 30, "default": true},
               {"code": "b", "name": "same", "duration_minutes": 30, "default": true}],
  "providers": [{"name": "Dr. Amelia Shaw", "services": ["massage"]}, {"name": "dr amelia shaw", "services": []}],
  "assistants": [{"assistant_id": "asst_sunrise_sarah"}, {"label": "no id"}]
}$$);
select pg_temp.apply('bad', (select spec from _spec where name = 'bad'));
select is((select reply ->> 'error' from _reply where step = 'bad'), 'invalid_spec', 'a spec with problems is refused');
select is((select array(select jsonb_array_elements_text(reply -> 'problems')) from _reply where step = 'bad'),
          array['clinic.timezone: "Europe/Londn" is not a time zone (an IANA name such as Europe/London)',
                'hours.mondy: not a weekday (monday … sunday)',
                'hours.tuesday: "08:00-25:00" is not a time range like "08:00-12:00" (clinic-local, 24-hour)',
                'services: name "Same" is listed 2 times (names are matched case-insensitively)',
                'services: exactly one service has default = true (what an unknown or blank service books), 2 do',
                'providers: "Dr. Amelia Shaw" and "dr amelia shaw" are one name (case, accents, spacing and punctuation do not count)',
                'provider "Dr. Amelia Shaw": services: no service with code "massage" in [[services]]',
                'provider "dr amelia shaw": services must name at least one service code',
                'assistants[1].assistant_id: asst_sunrise_sarah is already mapped to org 11111111-1111-4111-8111-111111111111 (Sunrise Family Clinic); unmap it there first',
                'assistants[2]: give assistant_id, phone_number_id or both'],
          'every problem the tables cannot hold is named, in the spec''s words');
insert into _spec values ('constraints', $${
  "clinic": {"slug": "tap-harbor"},
  "hours": {"tuesday": ["08:00-12:00", "11:00-14:00", "15:00-14:00"]},
  "services": [{"code": "Assessment", "name": "Initial assessment", "duration_minutes": 60, "default": true},
               {"code": "follow-up", "name": "Follow-up", "duration_minutes": 1000}],
  "front_desk": {"number": "020 7946 0000"}
}$$);
select pg_temp.apply('constraints', (select spec from _spec where name = 'constraints'));
select is((select array(select split_part(jsonb_array_elements_text(reply -> 'problems'), ' (', 1)) from _reply where step = 'constraints'),
          array['hours.tuesday 11:00-14:00: conflicting key value violates exclusion constraint "business_hours_no_overlap"',
                'hours.tuesday 15:00-14:00: new row for relation "business_hours" violates check constraint "business_hours_open_before_close"',
                'service Assessment: new row for relation "services" violates check constraint "services_code_slug"',
                'service follow-up: new row for relation "services" violates check constraint "services_duration_range"',
                'front_desk: new row for relation "clinic_call_settings" violates check constraint "clinic_call_settings_front_desk_e164"'],
          'the rules the tables hold are reported row by row, all of them in one run, by their owner''s name');
select matches((select reply -> 'problems' ->> 3 from _reply where step = 'constraints'),
               '\(CHECK \(\(\(duration_minutes >= 5\) AND \(duration_minutes <= 480\)\)\)\)$',
               'with the rule itself, from the catalog');
select is(pg_temp.rows(), (select counts from _before), 'nothing was written by either refused spec');
select is(private.clinic_description_json(pg_temp.org()), (select description from _before), 'the clinic is as it was');
select is((public.apply_clinic('{"clinic": {"name": "no slug"}}') ->> 'error'), 'invalid_spec', 'a spec without a slug is refused');

-- Never delete what a booking points at ------------------------------------------------------------------
insert into public.leads (org_id, id, name, phone) values (pg_temp.org(), '00000850-0000-4000-8000-000000000001', 'Ann Lee', '+442079460001');
insert into public.appointments (org_id, lead_id, service_id, provider_id, patient_name, starts_at, ends_at, blocked)
select pg_temp.org(), '00000850-0000-4000-8000-000000000001', s.id, p.id, 'Ann Lee', now() + interval '30 days',
       now() + interval '30 days 45 minutes', tstzrange(now() + interval '30 days', now() + interval '30 days 50 minutes', '[)')
  from public.services s, public.providers p
 where s.org_id = pg_temp.org() and s.code = 'follow-up' and p.org_id = pg_temp.org() and p.display_name = 'Tom Becker';
insert into _spec select 'v3', jsonb_set(jsonb_set(spec, '{services}', spec -> 'services' -> 0 || '[]'::jsonb),
                                        '{providers}', jsonb_build_array(jsonb_set(spec -> 'providers' -> 0, '{services}', '["assessment"]')))
  from _spec where name = 'v2';
select pg_temp.apply('v3', (select spec from _spec where name = 'v3'));
select is((select reply ->> 'success' from _reply where step = 'v3'), 'true', 'a spec leaving out a booked service and provider applies');
select is((select array[active, is_default] from public.services where org_id = pg_temp.org() and code = 'follow-up'), array[false, false],
          'the booked service is deactivated, not deleted');
select is((select active from public.providers where org_id = pg_temp.org() and display_name = 'Tom Becker'), false,
          'the booked provider is deactivated, not deleted');
select is((select count(*)::int from public.appointments where org_id = pg_temp.org()), 1, 'the booking is still there');
select is((select array(select jsonb_array_elements_text(reply -> 'notes')) from _reply where step = 'v3'),
          array['service follow-up has 1 appointment(s): deactivated, not deleted',
                'provider Tom Becker has 1 appointment(s): deactivated, not deleted (1 upcoming: see stranded_appointments)'],
          'the reply says which were deactivated and why');
select is(pg_temp.changes('v3'),
          array['~ service follow-up', '~ provider Dr. Amelia Shaw', '~ provider Tom Becker'], 'and shows them changed, not removed');
select pg_temp.apply('v2 again', (select spec from _spec where name = 'v2'));
select is((select active from public.providers where org_id = pg_temp.org() and display_name = 'Tom Becker'), true,
          'written again, a deactivated provider is active again');
insert into _spec select 'no tom', jsonb_set(spec, '{providers}', jsonb_build_array(spec -> 'providers' -> 0)) from _spec where name = 'v2';
delete from public.appointments where org_id = pg_temp.org();
select pg_temp.apply('no tom', (select spec from _spec where name = 'no tom'));
select is((select count(*)::int from public.providers where org_id = pg_temp.org() and display_name = 'Tom Becker'), 0,
          'a provider left out that nothing points at is deleted');

-- Vapi ids: left out is unmapped; a new one is reported -----------------------------------------------------
insert into _spec select 'new number', jsonb_set(spec, '{assistants}',
  '[{"assistant_id": "asst_tap_harbor", "label": "Ella", "name": "Ella", "prompt": "You are Ella."}, {"phone_number_id": "pn_tap_second"}]')
  from _spec where name = 'no tom';
select pg_temp.apply('new number', (select spec from _spec where name = 'new number'));
select is(array(select concat_ws('+', assistant_id, phone_number_id) from public.vapi_assistants where org_id = pg_temp.org() order by 1),
          array['asst_tap_harbor', 'pn_tap_second'], 'the old number is unmapped, the new one mapped in its own row');
select is((select reply -> 'newVapiIds' from _reply where step = 'new number'),
          '[{"id": "pn_tap_second", "kind": "phone number"}]'::jsonb, 'only the new id is reported');

-- Adopting an existing clinic by id ---------------------------------------------------------------------------
select is((public.apply_clinic('{"clinic": {"slug": "sunrise", "id": "11111111-1111-4111-8111-111111111111"}}')::jsonb
           -> 'changes'), '[{"op": "+", "item": "clinic slug", "after": "sunrise", "before": null}]'::jsonb,
          'a clinic without a slug is adopted by its id: only the slug is new');
select is((public.apply_clinic('{"clinic": {"slug": "sunrise"}}')::jsonb -> 'changes'), '[]'::jsonb,
          'then found by its slug, a spec of just the slug changes nothing');
select is((public.apply_clinic('{"clinic": {"slug": "sunrise-2", "id": "11111111-1111-4111-8111-111111111111"}}')::jsonb -> 'problems'),
          '["clinic.id: org 11111111-1111-4111-8111-111111111111 is the clinic with slug sunrise, not sunrise-2"]'::jsonb,
          'an id whose clinic has another slug is refused');
select is((public.apply_clinic('{"clinic": {"slug": "tap-new", "name": "TAP New"}}')::jsonb -> 'problems'),
          '["clinic.timezone: required to create the clinic tap-new", "clinic.phone_region: required to create the clinic tap-new"]'::jsonb,
          'a new clinic needs its zone and phone region');
select is((public.apply_clinic('{"clinic": {"slug": "Not A Slug", "name": "X", "timezone": "UTC", "phone_region": "US"}}')::jsonb ->> 'problems'),
          '["clinic: new row for relation \"orgs\" violates check constraint \"orgs_slug_format\" (CHECK (((slug ~ ''^[a-z0-9]+(-[a-z0-9]+)*$''::text) AND (char_length(slug) <= 63))))"]',
          'a slug is lower-case words joined by hyphens');

select * from finish();
rollback;
