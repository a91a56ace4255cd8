-- 17_assistant_prompts: vapi_assistants carries the assistant's name and the clinic's own prompt
-- (bounded, blank names refused); list_org_assistants lists one org's mappings with them, for
-- service_role only, and answers invalid_input / unknown_org without revealing anything.
begin;
select plan(19);

-- Columns and their checks --------------------------------------------------------------------------
select has_column('public', 'vapi_assistants', 'assistant_name', 'vapi_assistants.assistant_name exists');
select col_type_is('public', 'vapi_assistants', 'assistant_name', 'text', 'assistant_name is text');
select has_column('public', 'vapi_assistants', 'custom_prompt', 'vapi_assistants.custom_prompt exists');
select col_type_is('public', 'vapi_assistants', 'custom_prompt', 'text', 'custom_prompt is text');

insert into public.orgs (id, name, timezone) values
  ('c1700000-0000-4000-8000-000000000001', 'Prompt Clinic', 'America/Chicago'),
  ('c1700000-0000-4000-8000-000000000002', 'Other Clinic', 'Europe/Berlin');

select throws_ok(
  $$insert into public.vapi_assistants (org_id, assistant_id, assistant_name)
    values ('c1700000-0000-4000-8000-000000000001', 'asst_t17_blank', '   ')$$,
  '23514', null, 'a blank assistant name is refused');
select throws_ok(
  $$insert into public.vapi_assistants (org_id, assistant_id, custom_prompt)
    values ('c1700000-0000-4000-8000-000000000001', 'asst_t17_long', repeat('x', 20001))$$,
  '23514', null, 'a clinic prompt over 20,000 characters is refused');

insert into public.vapi_assistants (org_id, assistant_id, phone_number_id, label, assistant_name, custom_prompt) values
  ('c1700000-0000-4000-8000-000000000001', 'asst_t17_b', null, 'second', null, null),
  ('c1700000-0000-4000-8000-000000000001', 'asst_t17_a', 'pn_t17', 'first', 'Ava', 'Be kind.'),
  ('c1700000-0000-4000-8000-000000000001', null, 'pn_t17_only', 'phone only', null, null),
  ('c1700000-0000-4000-8000-000000000002', 'asst_t17_other', null, 'other org', 'Otto', 'Secret prompt.');

-- Privileges ----------------------------------------------------------------------------------------
select function_returns('public', 'list_org_assistants', array['uuid'], 'json', 'list_org_assistants returns json');
select function_privs_are('public', 'list_org_assistants', array['uuid'], 'service_role', array['EXECUTE'],
                          'service_role can execute list_org_assistants');
select function_privs_are('public', 'list_org_assistants', array['uuid'], 'authenticated', array[]::text[],
                          'authenticated cannot execute list_org_assistants');
select function_privs_are('public', 'list_org_assistants', array['uuid'], 'anon', array[]::text[],
                          'anon cannot execute list_org_assistants');
select is(
  (select count(*)::int
     from pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) as a
    where p.oid = 'public.list_org_assistants(uuid)'::regprocedure and a.grantee = 0),
  0, 'PUBLIC cannot execute list_org_assistants');
select is((select proconfig from pg_proc where oid = 'public.list_org_assistants(uuid)'::regprocedure),
          array['search_path=""'], 'list_org_assistants has search_path = ''''');
select is_definer('public', 'list_org_assistants', array['uuid'], 'list_org_assistants is security definer (like every RPC)');

-- Behaviour as service_role (as the service calls it) -----------------------------------------------
set local role service_role;
set local request.jwt.claims = '{"role":"service_role"}';

select is(
  public.list_org_assistants('c1700000-0000-4000-8000-000000000001')::jsonb,
  jsonb_build_object('success', true, 'orgId', 'c1700000-0000-4000-8000-000000000001', 'assistants', jsonb_build_array(
    jsonb_build_object('assistantId', 'asst_t17_a', 'phoneNumberId', 'pn_t17', 'label', 'first',
                       'assistantName', 'Ava', 'customPrompt', 'Be kind.'),
    jsonb_build_object('assistantId', 'asst_t17_b', 'phoneNumberId', null, 'label', 'second',
                       'assistantName', null, 'customPrompt', null),
    jsonb_build_object('assistantId', null, 'phoneNumberId', 'pn_t17_only', 'label', 'phone only',
                       'assistantName', null, 'customPrompt', null))),
  'one org''s mappings with name and prompt, assistants by id, phone-only rows last');
select ok(
  public.list_org_assistants('c1700000-0000-4000-8000-000000000001')::text not like '%Secret prompt%',
  'another org''s prompt never appears');
select is((public.list_org_assistants('c1700000-0000-4000-8000-0000000000ff')->>'error'), 'unknown_org',
          'an org that does not exist: unknown_org');
select is((public.list_org_assistants(null)->>'error'), 'invalid_input', 'no org id: invalid_input');

-- The seed gives Sarah and Marcy their clinics' prompts.
select is(
  (select string_agg(va.assistant_name, ',' order by va.assistant_name) from public.vapi_assistants va
    where va.assistant_id in ('asst_sunrise_sarah', 'asst_bayview_marcy') and va.custom_prompt like 'You are %'),
  'Marcy,Sarah', 'seed: Sarah (Sunrise) and Marcy (Bayview) have names and prompts');
reset role;

-- Behaviour as an end user: not callable at all.
set local role authenticated;
set local request.jwt.claims = '{"role":"authenticated","sub":"bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"}';
select throws_ok($$select public.list_org_assistants('22222222-2222-4222-8222-222222222222')$$,
                 '42501', null, 'an authenticated member cannot call list_org_assistants');
reset role;

select * from finish();
rollback;
