-- 16_credentials: per-clinic credentials (org_credentials).
-- Privileges: only service_role executes the credential functions; nobody selects ciphertext or
-- writes the table directly; a member sees that their own org's credentials exist, not others'.
-- Behaviour (pgcrypto, the path this cluster has): round trip, overwrite, wrong/missing/weak key,
-- refusals write nothing, ciphertext is not the plaintext, webhook-secret resolution by mapping.
-- Vault branch: this cluster has no supabase_vault package, so a minimal stand-in `vault` schema
-- with Vault's function signatures (create_secret, update_secret, decrypted_secrets) is created
-- inside this rolled-back transaction and detection is switched on; what is verified is OUR side
-- of the Vault calls (dynamic SQL, names, update-in-place, delete cascade), not Vault itself.
begin;
select plan(108);

-- Fixtures ---------------------------------------------------------------------------------------------
insert into auth.users (id, email) values
  ('d1600000-0000-4000-8000-00000000000a', 'member.a@t16.example'),
  ('d1600000-0000-4000-8000-00000000000b', 'member.b@t16.example');
insert into public.orgs (id, name) values
  ('c1600000-0000-4000-8000-00000000000a', 'Clinic A'),
  ('c1600000-0000-4000-8000-00000000000b', 'Clinic B');
insert into public.org_members (org_id, user_id) values
  ('c1600000-0000-4000-8000-00000000000a', 'd1600000-0000-4000-8000-00000000000a'),
  ('c1600000-0000-4000-8000-00000000000b', 'd1600000-0000-4000-8000-00000000000b');
insert into public.vapi_assistants (org_id, assistant_id, phone_number_id) values
  ('c1600000-0000-4000-8000-00000000000a', 'asst_t16_a', 'pn_t16_a'),
  ('c1600000-0000-4000-8000-00000000000b', 'asst_t16_b', null);

-- Results recorded under other roles, asserted as postgres (pgTAP's own state is postgres's).
create temp table res (k text primary key, v text);
grant select, insert on res to anon, authenticated, service_role;

-- SQLSTATE of a statement run as the current role ('ok' when it succeeds).
create schema tap_cred;
create function tap_cred.sqlstate_of(p_sql text) returns text
language plpgsql as $$
begin
  execute p_sql;
  return 'ok';
exception when others then
  return sqlstate;
end;
$$;
grant usage on schema tap_cred to anon, authenticated, service_role;
grant execute on function tap_cred.sqlstate_of(text) to anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Shape and privileges
-- ---------------------------------------------------------------------------------------------
select has_table('public', 'org_credentials', 'public.org_credentials exists');
select col_is_pk('public', 'org_credentials', array['org_id', 'provider', 'name']::name[],
                 'org_credentials: primary key (org_id, provider, name)');
select ok((select relrowsecurity from pg_class where oid = 'public.org_credentials'::regclass), 'RLS is enabled');

create temp table _fn (ord int, sig text);
insert into _fn values
  (1, 'public.set_org_credential(uuid,text,text,text,text)'),
  (2, 'public.get_org_credential(uuid,text,text,text)'),
  (3, 'public.list_org_credentials(uuid)'),
  (4, 'public.delete_org_credential(uuid,text,text)'),
  (5, 'public.resolve_vapi_webhook_secret(text,text,text)'),
  (6, 'public.rekey_org_credentials(text,text)');
-- 6 × 5 = 30
select ok(to_regprocedure(sig) is not null and (select prosecdef from pg_proc where oid = to_regprocedure(sig)),
          format('%s exists and is security definer', sig)) from _fn order by ord;
select is((select proconfig from pg_proc where oid = to_regprocedure(sig)), array['search_path=""'],
          format('%s has search_path = ''''', sig)) from _fn order by ord;
select ok(not has_function_privilege('anon', sig, 'execute'), format('anon cannot execute %s', sig)) from _fn order by ord;
select ok(not has_function_privilege('authenticated', sig, 'execute'), format('authenticated cannot execute %s', sig))
  from _fn order by ord;
select ok(has_function_privilege('service_role', sig, 'execute'), format('service_role can execute %s', sig))
  from _fn order by ord;

select ok(not has_column_privilege(r, 'public.org_credentials', c, 'select'),
          format('%s cannot select org_credentials.%s', r, c))
  from unnest(array['anon', 'authenticated', 'service_role']) r, unnest(array['ciphertext', 'vault_secret_id']) c;
select ok(not has_table_privilege(r, 'public.org_credentials', 'insert, update, delete, truncate'),
          format('%s cannot write org_credentials directly', r))
  from unnest(array['anon', 'authenticated', 'service_role']) r;
select ok(not has_any_column_privilege('anon', 'public.org_credentials', 'select'), 'anon cannot select any column');
select ok(has_column_privilege('authenticated', 'public.org_credentials', 'updated_at', 'select'),
          'authenticated may select the non-secret columns (RLS decides the rows)');

-- ---------------------------------------------------------------------------------------------
-- service_role: round trip and refusals (pgcrypto)
-- ---------------------------------------------------------------------------------------------
select is(private.vault_available(), false, 'no supabase_vault here: the pgcrypto path is used');

select set_config('request.jwt.claims', '{"role":"service_role"}', true);
set local role service_role;
insert into res values ('set_a', public.set_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key',
                                      'sk-a-first', 'test-key-0123456789')::text);
insert into res values ('set_a2', public.set_org_credential('c1600000-0000-4000-8000-00000000000a', ' VAPI ', 'api_key',
                                       'sk-a-second', 'test-key-0123456789')::text);
insert into res values ('get_a', public.get_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key',
                                      'test-key-0123456789')::text);
insert into res values ('set_wh_a', public.set_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'webhook_secret',
                                         'whsec-a', 'test-key-0123456789')->>'success');
insert into res values ('set_b', public.set_org_credential('c1600000-0000-4000-8000-00000000000b', 'vapi', 'api_key',
                                      'sk-a-second', 'test-key-0123456789')->>'success');
insert into res values ('wrong_key', public.get_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key',
                                          'another-key-0123456789')::text);
insert into res values ('get_no_key', public.get_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key', null)->>'error');
insert into res values ('set_no_key', public.set_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key', 'sk-x', '  ')->>'error');
insert into res values ('set_weak_key', public.set_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key', 'sk-x', 'short')->>'error');
insert into res values ('set_blank', public.set_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key', E' \n', 'test-key-0123456789')::text);
insert into res values ('set_null', public.set_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key', null, 'test-key-0123456789')->>'error');
insert into res values ('set_long', public.set_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key', repeat('x', 4097), 'test-key-0123456789')->>'error');
insert into res values ('set_provider', public.set_org_credential('c1600000-0000-4000-8000-00000000000a', 'twilio', 'api_key', 'sk-x', 'test-key-0123456789')::text);
insert into res values ('set_name', public.set_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'password', 'sk-x', 'test-key-0123456789')::text);
insert into res values ('set_org', public.set_org_credential('c16000ff-0000-4000-8000-00000000000a', 'vapi', 'api_key', 'sk-x', 'test-key-0123456789')->>'error');
insert into res values ('set_null_org', public.set_org_credential(null, 'vapi', 'api_key', 'sk-x', 'test-key-0123456789')->>'error');
insert into res values ('get_missing', public.get_org_credential('c1600000-0000-4000-8000-00000000000b', 'vapi', 'webhook_secret', 'test-key-0123456789')::text);
insert into res values ('get_org', public.get_org_credential('c16000ff-0000-4000-8000-00000000000a', 'vapi', 'api_key', 'test-key-0123456789')->>'error');
insert into res values ('list_a', public.list_org_credentials('c1600000-0000-4000-8000-00000000000a')::text);
insert into res values ('wh_a', public.resolve_vapi_webhook_secret('asst_t16_a', null, 'test-key-0123456789')::text);
insert into res values ('wh_a_phone', public.resolve_vapi_webhook_secret(null, 'pn_t16_a', 'test-key-0123456789')->>'value');
insert into res values ('wh_b', public.resolve_vapi_webhook_secret('asst_t16_b', null, 'test-key-0123456789')::text);
insert into res values ('wh_none', public.resolve_vapi_webhook_secret('asst_t16_unknown', null, 'test-key-0123456789')->>'error');
insert into res values ('wh_wrong_key', public.resolve_vapi_webhook_secret('asst_t16_a', null, 'another-key-0123456789')::text);
insert into res values ('svc_select', tap_cred.sqlstate_of('select org_id, provider, name, storage, updated_at from public.org_credentials'));
insert into res values ('svc_ciphertext', tap_cred.sqlstate_of('select ciphertext from public.org_credentials'));
reset role;
select set_config('request.jwt.claims', '', true);

select is((select v::json->>'success' from res where k = 'set_a'), 'true', 'service_role stores a credential');
select is((select v::json->>'storage' from res where k = 'set_a'), 'pgcrypto', '… with pgcrypto');
select ok((select v::json->>'value' is null and v not like '%sk-a-first%' from res where k = 'set_a'),
          'the set reply never carries the value');
select is((select v::json->>'value' from res where k = 'get_a'), 'sk-a-second',
          'round trip: get returns the latest value (set again with a padded, upper-case provider)');
select is((select count(*)::int from public.org_credentials
            where org_id = 'c1600000-0000-4000-8000-00000000000a' and provider = 'vapi' and name = 'api_key'),
          1, 'a second set replaces the value, one row');
select is((select v::json->>'error' from res where k = 'wrong_key'), 'decryption_failed', 'wrong key → decryption_failed');
select ok((select v not like '%sk-a-%' and v::json->>'value' is null from res where k = 'wrong_key'),
          'wrong key reveals nothing');
select is((select v from res where k = 'get_no_key'), 'encryption_key_required', 'get without key → encryption_key_required');
select is((select v from res where k = 'set_no_key'), 'encryption_key_required', 'set with a blank key → encryption_key_required');
select is((select v from res where k = 'set_weak_key'), 'weak_encryption_key', 'set with a short key → weak_encryption_key');
select is((select v::json->>'error' || ': ' || (v::json->>'message') from res where k = 'set_blank'),
          'invalid_input: secret is blank', 'blank secret refused');
select is((select v from res where k = 'set_null'), 'invalid_input', 'null secret refused');
select is((select v from res where k = 'set_long'), 'invalid_input', 'over-long secret refused');
select is((select v::json->>'message' from res where k = 'set_provider'), 'unknown provider ''twilio'' (known: vapi)',
          'unknown provider refused, naming the known ones');
select is((select v::json->>'message' from res where k = 'set_name'),
          'unknown credential ''password'' for vapi (known: api_key, webhook_secret)',
          'unknown credential name refused, naming the known ones');
select is((select v from res where k = 'set_org'), 'unknown_org', 'unknown org refused');
select is((select v from res where k = 'set_null_org'), 'invalid_input', 'null org refused');
select is((select extensions.pgp_sym_decrypt(ciphertext, 'test-key-0123456789') from public.org_credentials
            where org_id = 'c1600000-0000-4000-8000-00000000000a' and name = 'api_key'),
          'sk-a-second', 'refused sets wrote nothing: the stored value is unchanged');
select is((select count(*)::int from public.org_credentials where org_id = 'c16000ff-0000-4000-8000-00000000000a'), 0,
          'nothing stored for the unknown org');
select is((select v::json->>'error' from res where k = 'get_missing'), 'not_found', 'nothing stored → not_found');
select is((select v from res where k = 'get_org'), 'unknown_org', 'get for an unknown org → unknown_org');
select is((select array_agg(x->>'name' order by x->>'name') from res, json_array_elements(v::json->'credentials') x
            where k = 'list_a'), array['api_key', 'webhook_secret'], 'list names what is stored');
select ok((select v not like '%sk-a-%' and v not like '%whsec%' and v not like '%ciphertext%' from res where k = 'list_a'),
          'list carries no values or ciphertext');
select is((select v::json->>'value' || '|' || (v::json->>'orgId') || '|' || (v::json->>'source') from res where k = 'wh_a'),
          'whsec-a|c1600000-0000-4000-8000-00000000000a|assistant', 'webhook secret resolved from the assistant mapping');
select is((select v from res where k = 'wh_a_phone'), 'whsec-a', '… and from the phone-number mapping');
select is((select (v::json->>'error') || '|' || (v::json->>'orgId') from res where k = 'wh_b'),
          'not_found|c1600000-0000-4000-8000-00000000000b', 'clinic B has no webhook secret: not_found, never A''s');
select is((select v from res where k = 'wh_none'), 'no_org', 'unmapped assistant → no_org');
select ok((select v::json->>'error' = 'decryption_failed' and v not like '%whsec%' from res where k = 'wh_wrong_key'),
          'webhook secret with the wrong key → decryption_failed, nothing revealed');
select is((select v from res where k = 'svc_select'), 'ok', 'service_role may read the non-secret columns');
select is((select v from res where k = 'svc_ciphertext'), '42501', 'service_role cannot select ciphertext directly');

-- Ciphertext at rest ---------------------------------------------------------------------------------------
select ok((select position(convert_to('sk-a-second', 'UTF8') in ciphertext) = 0
             and position(convert_to('whsec-a', 'UTF8') in ciphertext) = 0
             and ciphertext is not null and vault_secret_id is null
             from public.org_credentials where org_id = 'c1600000-0000-4000-8000-00000000000a' and name = 'api_key'),
          'ciphertext does not contain the plaintext');
select isnt((select ciphertext from public.org_credentials where org_id = 'c1600000-0000-4000-8000-00000000000a' and name = 'api_key'),
            (select ciphertext from public.org_credentials where org_id = 'c1600000-0000-4000-8000-00000000000b' and name = 'api_key'),
            'the same secret in two orgs gives different ciphertexts (salted)');
select throws_ok($$insert into public.org_credentials (org_id, provider, name, ciphertext)
                   values ('c1600000-0000-4000-8000-00000000000b', 'vapi', 'password', '\x00')$$,
                 '23514', null, 'the table itself refuses unknown credential names');

-- ---------------------------------------------------------------------------------------------
-- Members and anon
-- ---------------------------------------------------------------------------------------------
select set_config('request.jwt.claims', '{"sub":"d1600000-0000-4000-8000-00000000000a","role":"authenticated"}', true);
set local role authenticated;
insert into res values ('m_rows', (select string_agg(o.name || ':' || c.name || ':' || c.storage, ',' order by c.name)
                from public.org_credentials c join public.orgs o on o.id = c.org_id));
insert into res values ('m_other', (select count(*) from public.org_credentials where org_id = 'c1600000-0000-4000-8000-00000000000b')::text);
insert into res values ('m_ciphertext', tap_cred.sqlstate_of('select ciphertext from public.org_credentials'));
insert into res values ('m_star', tap_cred.sqlstate_of('select * from public.org_credentials'));
insert into res values ('m_get', tap_cred.sqlstate_of($q$select public.get_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key', 'test-key-0123456789')$q$));
insert into res values ('m_set', tap_cred.sqlstate_of($q$select public.set_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key', 'mine', 'test-key-0123456789')$q$));
insert into res values ('m_resolve', tap_cred.sqlstate_of($q$select public.resolve_vapi_webhook_secret('asst_t16_a', null, 'test-key-0123456789')$q$));
insert into res values ('m_update', tap_cred.sqlstate_of($q$update public.org_credentials set provider = 'vapi'$q$));
insert into res values ('m_delete', tap_cred.sqlstate_of($q$delete from public.org_credentials$q$));
insert into res values ('m_decrypt_private', tap_cred.sqlstate_of($q$select private.read_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key', 'test-key-0123456789')$q$));
reset role;
select set_config('request.jwt.claims', '{"role":"anon"}', true);
set local role anon;
insert into res values ('anon_select', tap_cred.sqlstate_of('select org_id from public.org_credentials'));
insert into res values ('anon_get', tap_cred.sqlstate_of($q$select public.get_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key', 'test-key-0123456789')$q$));
reset role;
select set_config('request.jwt.claims', '', true);

select is((select v from res where k = 'm_rows'), 'Clinic A:api_key:pgcrypto,Clinic A:webhook_secret:pgcrypto',
          'a member sees that their own org''s credentials exist');
select is((select v from res where k = 'm_other'), '0', 'a member sees nothing of another org''s credentials');
select is((select v from res where k = 'm_ciphertext'), '42501', 'a member cannot select ciphertext');
select is((select v from res where k = 'm_star'), '42501', 'select * is refused for members (ciphertext column)');
select is((select v from res where k = 'm_get'), '42501', 'a member cannot call get_org_credential');
select is((select v from res where k = 'm_set'), '42501', 'a member cannot call set_org_credential');
select is((select v from res where k = 'm_resolve'), '42501', 'a member cannot call resolve_vapi_webhook_secret');
select is((select v from res where k = 'm_update'), '42501', 'a member cannot update the table');
select is((select v from res where k = 'm_delete'), '42501', 'a member cannot delete from the table');
select is((select v from res where k = 'm_decrypt_private'), '42501', 'a member cannot call the private decryptor');
select is((select v from res where k = 'anon_select'), '42501', 'anon cannot select the table');
select is((select v from res where k = 'anon_get'), '42501', 'anon cannot call get_org_credential');

-- ---------------------------------------------------------------------------------------------
-- Delete
-- ---------------------------------------------------------------------------------------------
select is(public.delete_org_credential('c1600000-0000-4000-8000-00000000000b', 'vapi', 'api_key')->>'success', 'true',
          'delete removes a credential');
select is(public.delete_org_credential('c1600000-0000-4000-8000-00000000000b', 'vapi', 'api_key')->>'error', 'not_found',
          'deleting it again → not_found');

-- ---------------------------------------------------------------------------------------------
-- Key rotation (all or nothing)
-- ---------------------------------------------------------------------------------------------
select is(public.rekey_org_credentials('another-key-0123456789', 'rotated-key-0123456789')->>'error', 'decryption_failed',
          'rekey with a wrong old key → decryption_failed');
select is(public.get_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key', 'test-key-0123456789')->>'value',
          'sk-a-second', '… and nothing changed');
select is(public.rekey_org_credentials('test-key-0123456789', 'short')->>'error', 'weak_encryption_key', 'rekey to a weak key refused');
select is(public.rekey_org_credentials('test-key-0123456789', 'rotated-key-0123456789')->>'reencrypted', '2',
          'rekey re-encrypts every pgcrypto credential');
select is(public.get_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key', 'rotated-key-0123456789')->>'value'
          || '|' || (public.get_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key', 'test-key-0123456789')->>'error'),
          'sk-a-second|decryption_failed', 'after rekey the new key decrypts and the old one does not');

-- ---------------------------------------------------------------------------------------------
-- Vault branch against a stand-in `vault` schema (see header)
-- ---------------------------------------------------------------------------------------------
create schema vault;
create table vault.secrets (
  id uuid primary key default gen_random_uuid(),
  name text,
  description text not null default '',
  secret text not null,
  key_id uuid,
  nonce bytea,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index on vault.secrets (name) where name is not null;
create function vault.create_secret(new_secret text, new_name text default null, new_description text default '',
                                    new_key_id uuid default null) returns uuid
language sql as $$
  insert into vault.secrets (secret, name, description)
  values (encode(extensions.pgp_sym_encrypt(new_secret, 'stand-in-vault-key'), 'base64'), new_name, new_description)
  returning id;
$$;
create function vault.update_secret(secret_id uuid, new_secret text default null, new_name text default null,
                                    new_description text default null, new_key_id uuid default null) returns void
language sql as $$
  update vault.secrets
     set secret = coalesce(encode(extensions.pgp_sym_encrypt(new_secret, 'stand-in-vault-key'), 'base64'), secret),
         name = coalesce(new_name, name), description = coalesce(new_description, description), updated_at = now()
   where id = secret_id;
$$;
create view vault.decrypted_secrets as
  select s.*, extensions.pgp_sym_decrypt(decode(s.secret, 'base64'), 'stand-in-vault-key') as decrypted_secret
    from vault.secrets s;
create or replace function private.vault_available() returns boolean
language sql stable set search_path = '' as $$ select true $$;

select set_config('request.jwt.claims', '{"role":"service_role"}', true);
set local role service_role;
insert into res values ('v_set', public.set_org_credential('c1600000-0000-4000-8000-00000000000b', 'vapi', 'webhook_secret', 'whsec-b-vault', null)::text);
insert into res values ('v_get', public.get_org_credential('c1600000-0000-4000-8000-00000000000b', 'vapi', 'webhook_secret', null)->>'value');
insert into res values ('v_set2', public.set_org_credential('c1600000-0000-4000-8000-00000000000b', 'vapi', 'webhook_secret', 'whsec-b-rotated', null)->>'success');
insert into res values ('v_get2', public.get_org_credential('c1600000-0000-4000-8000-00000000000b', 'vapi', 'webhook_secret', null)->>'value');
insert into res values ('v_resolve', public.resolve_vapi_webhook_secret('asst_t16_b', null, null)->>'value');
insert into res values ('v_old_pgcrypto', public.get_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key', 'rotated-key-0123456789')->>'value');
insert into res values ('v_list', public.list_org_credentials('c1600000-0000-4000-8000-00000000000b')::text);
reset role;
select set_config('request.jwt.claims', '', true);

select is((select v::json->>'storage' from res where k = 'v_set'), 'vault', 'with Vault present a set stores in Vault, no key needed');
select ok((select ciphertext is null and vault_secret_id is not null from public.org_credentials
            where org_id = 'c1600000-0000-4000-8000-00000000000b' and name = 'webhook_secret'),
          'the row keeps only the Vault secret id');
select is((select count(*)::int from vault.secrets
            where name = 'org_credential/c1600000-0000-4000-8000-00000000000b/vapi/webhook_secret'), 1,
          'one named Vault secret per credential');
select is((select v from res where k = 'v_get'), 'whsec-b-vault', 'Vault round trip');
select is((select v from res where k = 'v_get2'), 'whsec-b-rotated', 'a second set updates the Vault secret …');
select is((select count(*)::int from vault.secrets), 1, '… in place (update_secret, no second secret)');
select is((select v from res where k = 'v_resolve'), 'whsec-b-rotated', 'webhook secret resolved from Vault');
select is((select v from res where k = 'v_old_pgcrypto'), 'sk-a-second', 'rows stored with pgcrypto before Vault stay readable with the key');
select ok((select v like '%"storage": "vault"%' or v like '%"storage" : "vault"%' from res where k = 'v_list'), 'list shows the Vault storage');
select is(public.delete_org_credential('c1600000-0000-4000-8000-00000000000b', 'vapi', 'webhook_secret')->>'success', 'true',
          'delete of a Vault-backed credential');
select is((select count(*)::int from vault.secrets), 0, 'deleting the credential deletes its Vault secret');

select * from finish();
rollback;
