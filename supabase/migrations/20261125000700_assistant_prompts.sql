-- Assistant prompts: what each mapped Vapi assistant is called and the clinic's own prompt for it.
-- The service wraps that prompt in its enforced system-authority block (api/prompts.py) and pushes
-- the result to Vapi (`flask --app api prompts sync`); the clinic's text is stored here as data.

-- The name the assistant introduces itself with ("Sarah"); NULL = the service falls back to the
-- name Vapi has for the assistant.
alter table public.vapi_assistants
  add column assistant_name text
    constraint vapi_assistants_assistant_name_check
      check (assistant_name is null or (btrim(assistant_name) <> '' and char_length(assistant_name) <= 80));

-- The clinic-provided prompt (persona, tone, clinic facts). NULL = keep what the assistant already
-- has in Vapi (its current system message, unwrapped from any earlier authority block). Bounded so
-- one clinic cannot push an unbounded prompt through the sync.
alter table public.vapi_assistants
  add column custom_prompt text
    constraint vapi_assistants_custom_prompt_check
      check (custom_prompt is null or char_length(custom_prompt) <= 20000);

comment on column public.vapi_assistants.assistant_name is 'Name the assistant speaks as (e.g. Sarah); NULL = the name in Vapi.';
comment on column public.vapi_assistants.custom_prompt is 'Clinic-provided prompt, wrapped by the enforced system-authority block before it reaches Vapi; NULL = keep the prompt Vapi has.';

-- list_org_assistants ---------------------------------------------------------------------------------
-- Every Vapi mapping of one org with its prompt settings, for the prompt sync. Only the service
-- (service_role) calls it: clinic prompts are read by the operator tooling, not by end users, who
-- read their own rows through RLS. Security definer like every public RPC; execute is granted to
-- service_role alone.
create or replace function public.list_org_assistants(p_org_id uuid)
returns json
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if p_org_id is null then
    return private.error_reply('invalid_input', 'Organization id is required');
  end if;
  if not exists (select 1 from public.orgs o where o.id = p_org_id) then
    return private.error_reply('unknown_org');
  end if;
  return json_build_object(
    'success', true,
    'orgId', p_org_id,
    'assistants', coalesce((
      select json_agg(json_build_object(
               'assistantId', va.assistant_id,
               'phoneNumberId', va.phone_number_id,
               'label', va.label,
               'assistantName', va.assistant_name,
               'customPrompt', va.custom_prompt)
             order by va.assistant_id nulls last, va.phone_number_id)
      from public.vapi_assistants va
      where va.org_id = p_org_id), '[]'::json));
end;
$$;
grant execute on function public.list_org_assistants(uuid) to service_role;
comment on function public.list_org_assistants(uuid) is
  'service_role: every Vapi assistant / phone-number mapping of one org with its assistant name and custom prompt, for prompts show/sync and assistants list.';
