-- 16_credentials: per-clinic credentials (org_credentials) as the service's ciphertext.
-- Privileges: only service_role executes the credential functions; no function takes a key or a
-- plaintext any more; nobody selects ciphertext or writes the table directly; a member sees that
-- their own org's credentials exist, not others'.
-- Behaviour (the table path, which this cluster has): the ciphertext round trip is exact, refusals
-- are precise and write nothing, the webhook-secret index lists only ids of clinics with a secret,
-- rekey is all or nothing. The cryptography itself is the service's (tests/test_credentials.py).
-- Vault branch: this cluster has no supabase_vault package, so a minimal stand-in `vault` schema
-- with Vault's function signatures (create_secret, update_secret, decrypted_secrets) is created
-- inside this rolled-back transaction and detection is switched on; what is verified is OUR side
-- of the Vault calls (dynamic SQL, names, update-in-place, rekey, delete cascade), not Vault itself.
begin;
select plan(138);

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
  ('c1600000-0000-4000-8000-00000000000b', 'asst_t16_b', 'pn_t16_b');
-- The seed's credentials (none today) must not disturb the counts below.
delete from public.org_credentials;

-- Ciphertexts as the service writes them (the database cannot tell them from real ones).
create temp table ct (k text primary key, v text);
insert into ct values
  ('a1', 'v1:' || repeat('A', 60)),
  ('a2', 'v1:' || repeat('B', 60)),
  ('wa', 'v1:' || repeat('C', 60)),
  ('b1', 'v1:' || repeat('D', 60)),
  ('wb', 'v1:' || repeat('E', 60)),
  ('wb2', 'v1:' || repeat('F', 60));
grant select on ct to anon, authenticated, service_role;
create function pg_temp.ct(p_k text) returns text language sql as $$ select v from ct where k = p_k $$;
-- functions start closed (20261125000100_orgs.sql default privileges): the roles below need it granted
grant execute on function pg_temp.ct(text) to anon, authenticated, service_role;

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
select col_type_is('public', 'org_credentials', 'ciphertext', 'text', 'ciphertext is the service''s text (v1:…)');

create temp table _fn (ord int, sig text, lock_bound boolean);
insert into _fn values
  (1, 'public.set_org_credential(uuid,text,text,text)', false),
  (2, 'public.get_org_credential(uuid,text,text)', true),
  (3, 'public.list_org_credentials(uuid)', false),
  (4, 'public.delete_org_credential(uuid,text,text)', false),
  (5, 'public.vapi_webhook_secret_index(text)', true),
  (6, 'public.list_org_credential_ciphertexts()', false),
  (7, 'public.rekey_org_credentials(jsonb)', true);
-- 7 × 6 = 42
select ok(to_regprocedure(sig) is not null and (select prosecdef from pg_proc where oid = to_regprocedure(sig)),
          format('%s exists and is security definer', sig)) from _fn order by ord;
select is((select proconfig from pg_proc where oid = to_regprocedure(sig)),
          case when lock_bound then array['search_path=""', 'lock_timeout=3s'] else array['search_path=""'] end,
          format('%s has search_path = ''''%s', sig, case when lock_bound then ' and lock_timeout = 3s' else '' end))
  from _fn order by ord;
select ok(obj_description(to_regprocedure(sig), 'pg_proc') is not null, format('%s is commented', sig)) from _fn order by ord;
select ok(not has_function_privilege('anon', sig, 'execute'), format('anon cannot execute %s', sig)) from _fn order by ord;
select ok(not has_function_privilege('authenticated', sig, 'execute'), format('authenticated cannot execute %s', sig))
  from _fn order by ord;
select ok(has_function_privilege('service_role', sig, 'execute'), format('service_role can execute %s', sig))
  from _fn order by ord;

-- The key and the plaintext never reach SQL: the old key-taking signatures are gone, and no
-- function in public or private takes an encryption key or a secret.
select ok(to_regprocedure(sig) is null, format('%s no longer exists', sig))
  from unnest(array['public.set_org_credential(uuid,text,text,text,text)',
                    'public.get_org_credential(uuid,text,text,text)',
                    'public.resolve_vapi_webhook_secret(text,text,text)',
                    'public.rekey_org_credentials(text,text)']) sig;
select is((select count(*)::int from pg_proc p join pg_namespace n on n.oid = p.pronamespace
            where n.nspname in ('public', 'private')
              and p.proargnames && array['p_encryption_key', 'p_secret', 'p_old_key', 'p_new_key']),
          0, 'no function takes an encryption key or a plaintext secret');

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
-- service_role: ciphertext round trip and refusals (table path)
-- ---------------------------------------------------------------------------------------------
select is(private.vault_available(), false, 'no supabase_vault here: the table path is used');

select set_config('request.jwt.claims', '{"role":"service_role"}', true);
set local role service_role;
insert into res values ('set_a', public.set_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key', pg_temp.ct('a1'))::text);
insert into res values ('set_a2', public.set_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key', pg_temp.ct('a2'))::text);
insert into res values ('get_a', public.get_org_credential('c1600000-0000-4000-8000-00000000000a', ' VAPI ', 'API_KEY')::text);
insert into res values ('set_wh_a', public.set_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'webhook_secret', pg_temp.ct('wa'))->>'success');
insert into res values ('set_b', public.set_org_credential('c1600000-0000-4000-8000-00000000000b', 'vapi', 'api_key', pg_temp.ct('b1'))->>'success');
insert into res values ('set_padded', public.set_org_credential('c1600000-0000-4000-8000-00000000000a', ' VAPI ', 'api_key', pg_temp.ct('b1'))::text);
insert into res values ('set_null', public.set_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key', null)::text);
insert into res values ('set_plain', public.set_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key', 'sk-live-plaintext-123')::text);
insert into res values ('set_v2', public.set_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key', 'v2:' || repeat('A', 60))->>'error');
insert into res values ('set_short', public.set_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key', 'v1:AAAA')->>'error');
insert into res values ('set_long', public.set_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key', 'v1:' || repeat('A', 22000))::text);
insert into res values ('set_provider', public.set_org_credential('c1600000-0000-4000-8000-00000000000a', 'twilio', 'api_key', pg_temp.ct('b1'))::text);
insert into res values ('set_name', public.set_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'password', pg_temp.ct('b1'))::text);
insert into res values ('set_org', public.set_org_credential('c16000ff-0000-4000-8000-00000000000a', 'vapi', 'api_key', pg_temp.ct('b1'))->>'error');
insert into res values ('set_null_org', public.set_org_credential(null, 'vapi', 'api_key', pg_temp.ct('b1'))->>'error');
insert into res values ('get_missing', public.get_org_credential('c1600000-0000-4000-8000-00000000000b', 'vapi', 'webhook_secret')::text);
insert into res values ('get_org', public.get_org_credential('c16000ff-0000-4000-8000-00000000000a', 'vapi', 'api_key')->>'error');
insert into res values ('get_name', public.get_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'password')->>'error');
insert into res values ('list_a', public.list_org_credentials('c1600000-0000-4000-8000-00000000000a')::text);
insert into res values ('svc_select', tap_cred.sqlstate_of('select org_id, provider, name, storage, updated_at from public.org_credentials'));
insert into res values ('svc_ciphertext', tap_cred.sqlstate_of('select ciphertext from public.org_credentials'));
reset role;
select set_config('request.jwt.claims', '', true);

select is((select v::json->>'success' || '|' || (v::json->>'storage') from res where k = 'set_a'), 'true|table',
          'service_role stores a ciphertext in the table');
select ok((select v::json->>'ciphertext' is null and v not like '%' || pg_temp.ct('a1') || '%' from res where k = 'set_a'),
          'the set reply never carries the ciphertext');
select is((select v::json->>'ciphertext' from res where k = 'get_a'), pg_temp.ct('a2'),
          'round trip: get returns the latest ciphertext byte for byte (looked up with a padded, upper-case provider and name)');
select is((select v::json->>'version' from res where k = 'get_a'),
          (select private.credential_version(updated_at) from public.org_credentials
            where org_id = 'c1600000-0000-4000-8000-00000000000a' and name = 'api_key'),
          'get carries the version (updated_at to the microsecond) the webhook cache compares');
select is((select count(*)::int from public.org_credentials
            where org_id = 'c1600000-0000-4000-8000-00000000000a' and provider = 'vapi' and name = 'api_key'),
          1, 'a second set replaces the ciphertext, one row');
select is((select v::json->>'error' || ': ' || (v::json->>'message') from res where k = 'set_padded'),
          'invalid_input: provider and name must be lower case without surrounding spaces (they are bound into the ciphertext)',
          'a set under a non-canonical spelling is refused (the ciphertext is bound to the spelling)');
select is((select v::json->>'error' || ': ' || (v::json->>'message') from res where k = 'set_null'),
          'invalid_input: ciphertext is required (the service encrypts: api/credentials.py)', 'null ciphertext refused');
select is((select v::json->>'error' || ': ' || (v::json->>'message') from res where k = 'set_plain'),
          'invalid_input: ciphertext is not in a known format (v1:…)', 'a plaintext is refused: only v1 ciphertext is stored');
select is((select v from res where k = 'set_v2'), 'invalid_input', 'an unknown format version is refused');
select is((select v from res where k = 'set_short'), 'invalid_input', 'a ciphertext too short to hold nonce and tag is refused');
select is((select v::json->>'message' from res where k = 'set_long'), 'ciphertext is longer than 22000 characters',
          'an over-long ciphertext is refused');
select is((select v::json->>'message' from res where k = 'set_provider'), 'unknown provider ''twilio'' (known: vapi)',
          'unknown provider refused, naming the known ones');
select is((select v::json->>'message' from res where k = 'set_name'),
          'unknown credential ''password'' for vapi (known: api_key, webhook_secret)',
          'unknown credential name refused, naming the known ones');
select is((select v from res where k = 'set_org'), 'unknown_org', 'unknown org refused');
select is((select v from res where k = 'set_null_org'), 'invalid_input', 'null org refused');
select is((select ciphertext from public.org_credentials
            where org_id = 'c1600000-0000-4000-8000-00000000000a' and name = 'api_key'),
          pg_temp.ct('a2'), 'refused sets wrote nothing: the stored ciphertext is unchanged');
select is((select count(*)::int from public.org_credentials), 3, 'refused sets added no row (3: A api_key, A webhook_secret, B api_key)');
select is((select v::json->>'error' from res where k = 'get_missing'), 'not_found', 'nothing stored → not_found');
select is((select v from res where k = 'get_org'), 'unknown_org', 'get for an unknown org → unknown_org');
select is((select v from res where k = 'get_name'), 'invalid_input', 'get of an unknown credential → invalid_input');
select is((select array_agg(x->>'name' order by x->>'name') from res, json_array_elements(v::json->'credentials') x
            where k = 'list_a'), array['api_key', 'webhook_secret'], 'list names what is stored');
select ok((select v not like '%v1:%' and v not like '%ciphertext%' from res where k = 'list_a'),
          'list carries no ciphertext');
select is((select v from res where k = 'svc_select'), 'ok', 'service_role may read the non-secret columns');
select is((select v from res where k = 'svc_ciphertext'), '42501', 'service_role cannot select ciphertext directly');

select throws_ok($$insert into public.org_credentials (org_id, provider, name, ciphertext)
                   values ('c1600000-0000-4000-8000-00000000000b', 'vapi', 'password', 'v1:$$ || repeat('A', 60) || $$')$$,
                 '23514', null, 'the table itself refuses unknown credential names');
select throws_ok($$insert into public.org_credentials (org_id, provider, name, ciphertext)
                   values ('c1600000-0000-4000-8000-00000000000b', 'vapi', 'webhook_secret', 'whsec-plaintext')$$,
                 '23514', null, 'the table itself refuses anything but a v1 ciphertext (even from a superuser)');

-- ---------------------------------------------------------------------------------------------
-- The webhook-secret index
-- ---------------------------------------------------------------------------------------------
set local role service_role;
insert into res values ('idx', public.vapi_webhook_secret_index()::text);
insert into res values ('idx_same', public.vapi_webhook_secret_index((select v::json->>'version' from res where k = 'idx'))::text);
insert into res values ('idx_stale', public.vapi_webhook_secret_index('not-the-version')::text);
reset role;

select is((select v::jsonb - 'version' from res where k = 'idx'),
          jsonb_build_object(
            'success', true,
            'assistants', jsonb_build_object('asst_t16_a', 'c1600000-0000-4000-8000-00000000000a'),
            'phoneNumbers', jsonb_build_object('pn_t16_a', 'c1600000-0000-4000-8000-00000000000a'),
            'secrets', jsonb_build_object('c1600000-0000-4000-8000-00000000000a',
              (select private.credential_version(updated_at) from public.org_credentials
                where org_id = 'c1600000-0000-4000-8000-00000000000a' and name = 'webhook_secret'))),
          'the index lists exactly the ids of clinics with a webhook secret (A), and that secret''s version; B (api key only) is absent');
select ok((select v not like '%v1:%' from res where k = 'idx'), 'the index carries no ciphertext');
select is((select v::jsonb from res where k = 'idx_same'),
          jsonb_build_object('success', true, 'version', (select v::json->>'version' from res where k = 'idx'), 'unchanged', true),
          'asked with the current version, the index answers only "unchanged"');
select is((select v::jsonb - 'version' from res where k = 'idx_stale'), (select v::jsonb - 'version' from res where k = 'idx'),
          'asked with another version, the index comes in full');

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
insert into res values ('m_get', tap_cred.sqlstate_of($q$select public.get_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key')$q$));
insert into res values ('m_set', tap_cred.sqlstate_of($q$select public.set_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key', 'v1:$q$ || repeat('A', 60) || $q$')$q$));
insert into res values ('m_index', tap_cred.sqlstate_of($q$select public.vapi_webhook_secret_index()$q$));
insert into res values ('m_all', tap_cred.sqlstate_of($q$select public.list_org_credential_ciphertexts()$q$));
insert into res values ('m_rekey', tap_cred.sqlstate_of($q$select public.rekey_org_credentials('[]')$q$));
insert into res values ('m_update', tap_cred.sqlstate_of($q$update public.org_credentials set provider = 'vapi'$q$));
insert into res values ('m_delete', tap_cred.sqlstate_of($q$delete from public.org_credentials$q$));
insert into res values ('m_read_private', tap_cred.sqlstate_of($q$select private.read_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key')$q$));
reset role;
select set_config('request.jwt.claims', '{"role":"anon"}', true);
set local role anon;
insert into res values ('anon_select', tap_cred.sqlstate_of('select org_id from public.org_credentials'));
insert into res values ('anon_get', tap_cred.sqlstate_of($q$select public.get_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key')$q$));
reset role;
select set_config('request.jwt.claims', '', true);

select is((select v from res where k = 'm_rows'), 'Clinic A:api_key:table,Clinic A:webhook_secret:table',
          'a member sees that their own org''s credentials exist');
select is((select v from res where k = 'm_other'), '0', 'a member sees nothing of another org''s credentials');
select is((select v from res where k = 'm_ciphertext'), '42501', 'a member cannot select ciphertext');
select is((select v from res where k = 'm_star'), '42501', 'select * is refused for members (ciphertext column)');
select is((select v from res where k = 'm_get'), '42501', 'a member cannot call get_org_credential');
select is((select v from res where k = 'm_set'), '42501', 'a member cannot call set_org_credential');
select is((select v from res where k = 'm_index'), '42501', 'a member cannot call vapi_webhook_secret_index');
select is((select v from res where k = 'm_all'), '42501', 'a member cannot call list_org_credential_ciphertexts');
select is((select v from res where k = 'm_rekey'), '42501', 'a member cannot call rekey_org_credentials');
select is((select v from res where k = 'm_update'), '42501', 'a member cannot update the table');
select is((select v from res where k = 'm_delete'), '42501', 'a member cannot delete from the table');
select is((select v from res where k = 'm_read_private'), '42501', 'a member cannot call the private reader');
select is((select v from res where k = 'anon_select'), '42501', 'anon cannot select the table');
select is((select v from res where k = 'anon_get'), '42501', 'anon cannot call get_org_credential');

-- ---------------------------------------------------------------------------------------------
-- Key rotation: read every ciphertext, write all back in one call (all or nothing)
-- ---------------------------------------------------------------------------------------------
set local role service_role;
insert into res values ('all', public.list_org_credential_ciphertexts()::text);
reset role;
select is((select jsonb_agg(x - 'storage' order by x->>'orgId', x->>'name') from res, jsonb_array_elements(v::jsonb->'credentials') x where k = 'all'),
          jsonb_build_array(
            jsonb_build_object('orgId', 'c1600000-0000-4000-8000-00000000000a', 'provider', 'vapi', 'name', 'api_key', 'ciphertext', pg_temp.ct('a2')),
            jsonb_build_object('orgId', 'c1600000-0000-4000-8000-00000000000a', 'provider', 'vapi', 'name', 'webhook_secret', 'ciphertext', pg_temp.ct('wa')),
            jsonb_build_object('orgId', 'c1600000-0000-4000-8000-00000000000b', 'provider', 'vapi', 'name', 'api_key', 'ciphertext', pg_temp.ct('b1'))),
          'list_org_credential_ciphertexts returns every stored ciphertext');

-- The rekey request the service would send: each stored ciphertext ('old') and its re-encryption ('new').
create temp table rk as
  select x->>'orgId' as org, x->>'provider' as provider, x->>'name' as name, x->>'ciphertext' as old,
         'v1:' || repeat('R', 50) || md5(x->>'ciphertext') as new
    from res, jsonb_array_elements(v::jsonb->'credentials') x where k = 'all';
create function pg_temp.rekey_request(p_where text default 'true') returns jsonb language plpgsql as $$
declare v jsonb;
begin
  execute format('select coalesce(jsonb_agg(jsonb_build_object(''orgId'', org, ''provider'', provider, ''name'', name,
                                                       ''old'', old, ''new'', new)), ''[]'') from rk where %s', p_where) into v;
  return v;
end;
$$;
grant execute on function pg_temp.rekey_request(text) to service_role;
create temp table before_rekey as select org_id, name, ciphertext from public.org_credentials;
grant select on rk, before_rekey to service_role;

set local role service_role;
insert into res values ('rk_object', public.rekey_org_credentials('{}')::text);
insert into res values ('rk_uuid', public.rekey_org_credentials('[{"orgId": "clinic-a", "provider": "vapi", "name": "api_key", "old": "x", "new": "y"}]')->>'error');
insert into res values ('rk_scalar', public.rekey_org_credentials('[1]')->>'error');
insert into res values ('rk_field', public.rekey_org_credentials(pg_temp.rekey_request() || '[{"orgId": "c1600000-0000-4000-8000-00000000000a", "provider": "vapi"}]')::text);
insert into res values ('rk_twice', public.rekey_org_credentials(pg_temp.rekey_request() || pg_temp.rekey_request('name = ''api_key'''))::text);
insert into res values ('rk_format', public.rekey_org_credentials(
  (select jsonb_agg(case when e->>'name' = 'webhook_secret' then e || '{"new": "whsec-plaintext"}' else e end)
     from jsonb_array_elements(pg_temp.rekey_request()) e))::text);
insert into res values ('rk_missing', public.rekey_org_credentials(pg_temp.rekey_request('name = ''api_key'''))::text);
insert into res values ('rk_extra', public.rekey_org_credentials(pg_temp.rekey_request() || jsonb_build_array(jsonb_build_object(
  'orgId', 'c1600000-0000-4000-8000-00000000000b', 'provider', 'vapi', 'name', 'webhook_secret',
  'old', pg_temp.ct('wb'), 'new', pg_temp.ct('wb2'))))::text);
insert into res values ('rk_moved', public.rekey_org_credentials(
  (select jsonb_agg(case when e->>'name' = 'webhook_secret' then e || jsonb_build_object('old', pg_temp.ct('wb')) else e end)
     from jsonb_array_elements(pg_temp.rekey_request()) e))::text);
reset role;
insert into res values ('rk_unchanged', (select count(*) from public.org_credentials c join before_rekey b using (org_id, name)
                                          where c.ciphertext = b.ciphertext)::text);
set local role service_role;
insert into res values ('rk_ok', public.rekey_org_credentials(pg_temp.rekey_request())::text);
reset role;

select is((select v::json->>'error' || ': ' || (v::json->>'message') from res where k = 'rk_object'),
          'invalid_input: ciphertexts must be a JSON array of {orgId, provider, name, old, new}', 'rekey: not an array → invalid_input');
select is((select v from res where k = 'rk_uuid'), 'invalid_input', 'rekey: an org id that is not a uuid → invalid_input');
select is((select v from res where k = 'rk_scalar'), 'invalid_input', 'rekey: an item that is not an object → invalid_input');
select is((select v::json->>'message' from res where k = 'rk_field'), 'every item needs orgId, provider, name, old and new',
          'rekey: an incomplete item → invalid_input');
select is((select v::json->>'message' from res where k = 'rk_twice'), 'a credential is listed more than once',
          'rekey: a credential twice → invalid_input');
select is((select v::json->>'message' from res where k = 'rk_format'),
          'the new ciphertext of org c1600000-0000-4000-8000-00000000000a vapi/webhook_secret is not in a known format (v1:…)',
          'rekey: a new value that is not a ciphertext → invalid_input naming the credential');
select is((select v::json->>'error' || ': ' || (v::json->>'message') from res where k = 'rk_missing'),
          'credentials_changed: org c1600000-0000-4000-8000-00000000000a vapi/webhook_secret was set or deleted since the ciphertexts were read; nothing was changed (run rekey again)',
          'rekey: a stored credential left out → credentials_changed, naming it');
select is((select v::json->>'error' from res where k = 'rk_extra'), 'credentials_changed', 'rekey: a credential that is not stored → credentials_changed');
select is((select v::json->>'error' from res where k = 'rk_moved'), 'credentials_changed',
          'rekey: a ciphertext that changed since it was read → credentials_changed');
select is((select v from res where k = 'rk_unchanged'), '3', 'the refused rekeys changed nothing');
select is((select v::json->>'reencrypted' from res where k = 'rk_ok'), '3', 'rekey replaces every stored ciphertext');
select is((select count(*)::int from public.org_credentials c join rk on rk.org = c.org_id::text and rk.name = c.name
            where c.ciphertext = rk.new), 3, '… with the new ciphertexts');

-- ---------------------------------------------------------------------------------------------
-- Delete
-- ---------------------------------------------------------------------------------------------
select is(public.delete_org_credential('c1600000-0000-4000-8000-00000000000b', 'vapi', 'api_key')->>'success', 'true',
          'delete removes a credential');
select is(public.delete_org_credential('c1600000-0000-4000-8000-00000000000b', 'vapi', 'api_key')->>'error', 'not_found',
          'deleting it again → not_found');

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
  values (encode(convert_to(new_secret, 'UTF8'), 'base64'), new_name, new_description)
  returning id;
$$;
create function vault.update_secret(secret_id uuid, new_secret text default null, new_name text default null,
                                    new_description text default null, new_key_id uuid default null) returns void
language sql as $$
  update vault.secrets
     set secret = coalesce(encode(convert_to(new_secret, 'UTF8'), 'base64'), secret),
         name = coalesce(new_name, name), description = coalesce(new_description, description), updated_at = now()
   where id = secret_id;
$$;
create view vault.decrypted_secrets as
  select s.*, convert_from(decode(s.secret, 'base64'), 'UTF8') as decrypted_secret
    from vault.secrets s;
create or replace function private.vault_available() returns boolean
language sql stable set search_path = '' as $$ select true $$;

select set_config('request.jwt.claims', '{"role":"service_role"}', true);
set local role service_role;
insert into res values ('v_set', public.set_org_credential('c1600000-0000-4000-8000-00000000000b', 'vapi', 'webhook_secret', pg_temp.ct('wb'))::text);
insert into res values ('v_get', public.get_org_credential('c1600000-0000-4000-8000-00000000000b', 'vapi', 'webhook_secret')->>'ciphertext');
reset role;
insert into res select 'v_holds', string_agg(decrypted_secret, ',') from vault.decrypted_secrets
  where name = 'org_credential/c1600000-0000-4000-8000-00000000000b/vapi/webhook_secret';
set local role service_role;
insert into res values ('v_set2', public.set_org_credential('c1600000-0000-4000-8000-00000000000b', 'vapi', 'webhook_secret', pg_temp.ct('wb2'))->>'success');
insert into res values ('v_get2', public.get_org_credential('c1600000-0000-4000-8000-00000000000b', 'vapi', 'webhook_secret')->>'ciphertext');
insert into res values ('v_index', public.vapi_webhook_secret_index()::text);
insert into res values ('v_old_table', public.get_org_credential('c1600000-0000-4000-8000-00000000000a', 'vapi', 'api_key')->>'ciphertext');
insert into res values ('v_list', public.list_org_credentials('c1600000-0000-4000-8000-00000000000b')::text);
insert into res values ('v_all', public.list_org_credential_ciphertexts()::text);
insert into res values ('v_rekey', public.rekey_org_credentials(
  (select jsonb_agg(jsonb_build_object('orgId', x->>'orgId', 'provider', x->>'provider', 'name', x->>'name',
                                       'old', x->>'ciphertext', 'new', 'v1:' || repeat('V', 50) || md5(x->>'ciphertext')))
     from res, jsonb_array_elements(v::jsonb->'credentials') x where k = 'v_all'))::text);
insert into res values ('v_get3', public.get_org_credential('c1600000-0000-4000-8000-00000000000b', 'vapi', 'webhook_secret')->>'ciphertext');
reset role;
select set_config('request.jwt.claims', '', true);

select is((select v::json->>'storage' from res where k = 'v_set'), 'vault', 'with Vault present a set stores in Vault');
select ok((select ciphertext is null and vault_secret_id is not null from public.org_credentials
            where org_id = 'c1600000-0000-4000-8000-00000000000b' and name = 'webhook_secret'),
          'the row keeps only the Vault secret id');
select is((select v from res where k = 'v_holds'), pg_temp.ct('wb'),
          'what Vault holds is the service''s ciphertext, one named secret per credential');
select is((select v from res where k = 'v_get'), pg_temp.ct('wb'), 'Vault round trip');
select is((select v from res where k = 'v_get2'), pg_temp.ct('wb2'), 'a second set updates the Vault secret …');
select is((select count(*)::int from vault.secrets), 1, '… in place (update_secret, no second secret)');
select is((select v::jsonb->'assistants'->>'asst_t16_b' from res where k = 'v_index'), 'c1600000-0000-4000-8000-00000000000b',
          'a Vault-held webhook secret puts its clinic''s ids in the index');
select is((select v from res where k = 'v_old_table'), (select new from rk where org = 'c1600000-0000-4000-8000-00000000000a' and name = 'api_key'),
          'rows stored in the table before Vault appeared stay readable');
select ok((select v like '%"storage": "vault"%' or v like '%"storage" : "vault"%' from res where k = 'v_list'), 'list shows the Vault storage');
select is((select v::json->>'reencrypted' from res where k = 'v_rekey'), '3', 'rekey covers the table and Vault alike');
select is((select v from res where k = 'v_get3'), 'v1:' || repeat('V', 50) || md5(pg_temp.ct('wb2')),
          '… and replaced the ciphertext inside Vault');

delete from vault.secrets;
set local role service_role;
insert into res values ('v_gone', public.get_org_credential('c1600000-0000-4000-8000-00000000000b', 'vapi', 'webhook_secret')::text);
insert into res values ('v_gone_all', public.list_org_credential_ciphertexts()::text);
reset role;
select is((select v::json->>'error' from res where k = 'v_gone'), 'decryption_failed', 'a Vault secret that is gone → decryption_failed');
select is((select v::json->>'message' from res where k = 'v_gone_all'),
          'The Vault secret of org c1600000-0000-4000-8000-00000000000b vapi/webhook_secret is missing or cannot be decrypted',
          'a rekey cannot start while a Vault secret is gone (named)');
select lives_ok($$select vault.create_secret('v1:' || repeat('Z', 60), 'org_credential/other', '')$$, 'a spare Vault secret');
select is(public.delete_org_credential('c1600000-0000-4000-8000-00000000000b', 'vapi', 'webhook_secret')->>'success', 'true',
          'delete of a Vault-backed credential');
select is((select count(*)::int from vault.secrets), 1, 'deleting the credential deletes only its own Vault secret');

select * from finish();
rollback;
