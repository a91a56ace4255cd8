-- Per-clinic provider credentials (BYOC: bring your own Vapi account), encrypted at rest.
--
-- A clinic's own Vapi private API key (to manage its assistants) and webhook secret (to prove that a
-- webhook call comes from its Vapi account) are stored as ciphertext only:
--   * Supabase Vault when the `supabase_vault` extension is installed (hosted Supabase): the value
--     lives in vault.secrets, encrypted with a key the database never exposes; this table keeps the
--     vault secret's id;
--   * otherwise pgcrypto `pgp_sym_encrypt` with a key the service passes in on every call (its
--     CREDENTIALS_KEY environment variable); the key is never stored in the database.
-- Values are reachable only through service_role functions; members can see that a credential exists
-- (provider, name, storage, timestamps) and never its ciphertext or value.

create extension if not exists pgcrypto with schema extensions;

-- Helpers (private) --------------------------------------------------------------------------------

-- The credentials the service knows how to use, per provider. One list: the table's check, the
-- functions' validation and their error messages all read it.
create or replace function private.credential_names(p_provider text)
returns text[]
language sql
immutable
set search_path = ''
as $$
  select case p_provider
    when 'vapi' then array['api_key', 'webhook_secret']
  end;
$$;
revoke all on function private.credential_names(text) from public, anon, authenticated;

-- Vault is used when the platform provides it. Its objects are reached through dynamic SQL only, so
-- this migration also applies where the `vault` schema does not exist.
create or replace function private.vault_available()
returns boolean
language sql
stable
set search_path = ''
as $$
  select exists (select 1 from pg_catalog.pg_extension e where e.extname = 'supabase_vault');
$$;
revoke all on function private.vault_available() from public, anon, authenticated;

-- Tables -------------------------------------------------------------------------------------------

create table public.org_credentials (
  org_id uuid not null references public.orgs (id) on delete cascade,
  provider text not null,
  name text not null,
  ciphertext bytea,
  vault_secret_id uuid,
  storage text not null generated always as (
    case when vault_secret_id is not null then 'vault' else 'pgcrypto' end) stored,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (org_id, provider, name),
  constraint org_credentials_known check (name = any (private.credential_names(provider))),
  constraint org_credentials_one_store check (num_nonnulls(ciphertext, vault_secret_id) = 1)
);
comment on table public.org_credentials is 'Per-clinic provider credentials (ciphertext or a Vault secret id only). Values only through service_role functions; members see existence via the non-secret columns.';
comment on column public.org_credentials.ciphertext is 'pgp_sym_encrypt(secret, key) when Vault is absent; the key comes from the service (CREDENTIALS_KEY), never from the database.';
comment on column public.org_credentials.vault_secret_id is 'vault.secrets id when stored in Supabase Vault.';
comment on column public.org_credentials.storage is 'vault or pgcrypto: where the value lives.';

create trigger org_credentials_set_updated_at
  before update on public.org_credentials
  for each row execute function private.set_updated_at();

-- A deleted credential (also by cascade from its org) takes its Vault secret with it.
create or replace function private.forget_vault_secret()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if old.vault_secret_id is not null and private.vault_available() then
    execute 'delete from vault.secrets where id = $1' using old.vault_secret_id;
  end if;
  return old;
end;
$$;
revoke all on function private.forget_vault_secret() from public, anon, authenticated;

create trigger org_credentials_forget_vault_secret
  after delete on public.org_credentials
  for each row execute function private.forget_vault_secret();

-- Privileges / RLS ---------------------------------------------------------------------------------
-- Supabase's default privileges grant everything on new public tables to the API roles; here nobody
-- gets more than the non-secret columns. Writes happen only inside the functions below.
alter table public.org_credentials enable row level security;
revoke all on public.org_credentials from public, anon, authenticated, service_role;
grant select (org_id, provider, name, storage, created_at, updated_at)
  on public.org_credentials to authenticated, service_role;

create policy org_credentials_member_select on public.org_credentials for select to authenticated
  using (org_id in (select private.member_org_ids()));

-- Implementation (private) -------------------------------------------------------------------------

-- The refusal for a missing org id or an unknown (provider, name); NULL when the arguments name a
-- credential the service knows. The same first check of every credential function.
create or replace function private.credential_input_error(p_org_id uuid, p_provider text, p_name text)
returns json
language sql
immutable
set search_path = ''
as $$
  select case
    when p_org_id is null then
      private.error_reply('invalid_input', 'org id is required')
    when p_provider is null or p_provider = '' then
      private.error_reply('invalid_input', 'provider is required (known: vapi)')
    when private.credential_names(p_provider) is null then
      private.error_reply('invalid_input', format('unknown provider %L (known: vapi)', p_provider))
    when p_name is null or p_name = '' then
      private.error_reply('invalid_input', format('credential name is required (known for %s: %s)',
        p_provider, array_to_string(private.credential_names(p_provider), ', ')))
    when not (p_name = any (private.credential_names(p_provider))) then
      private.error_reply('invalid_input', format('unknown credential %L for %s (known: %s)',
        p_name, p_provider, array_to_string(private.credential_names(p_provider), ', ')))
  end;
$$;
revoke all on function private.credential_input_error(uuid, text, text) from public, anon, authenticated;

-- A pgcrypto passphrase must be supplied and not trivially guessable. NULL when acceptable.
create or replace function private.encryption_key_error(p_key text)
returns json
language sql
immutable
set search_path = ''
as $$
  select case
    when p_key is null or p_key !~ '[^[:space:]]' then
      private.error_reply('encryption_key_required',
        'No encryption key was supplied and Supabase Vault is not installed (set CREDENTIALS_KEY)')
    when length(p_key) < 16 then
      private.error_reply('weak_encryption_key', 'The encryption key must be at least 16 characters')
  end;
$$;
revoke all on function private.encryption_key_error(text) from public, anon, authenticated;

create or replace function private.credential_summary(p_row public.org_credentials)
returns jsonb
language sql
stable
set search_path = ''
as $$
  select jsonb_build_object(
    'orgId', p_row.org_id,
    'provider', p_row.provider,
    'name', p_row.name,
    'storage', p_row.storage,
    'updatedAt', private.iso(p_row.updated_at));
$$;
revoke all on function private.credential_summary(public.org_credentials) from public, anon, authenticated;

-- Encrypt and upsert one credential; the reply never carries the value.
create or replace function private.store_org_credential(
  p_org_id uuid, p_provider text, p_name text, p_secret text, p_encryption_key text)
returns json
language plpgsql
volatile
set search_path = ''
as $$
declare
  v_provider text := lower(btrim(p_provider));
  v_name text := lower(btrim(p_name));
  v_refusal json;
  v_vault_id uuid;
  v_label text;
  v_row public.org_credentials;
begin
  v_refusal := private.credential_input_error(p_org_id, v_provider, v_name);
  if v_refusal is not null then
    return v_refusal;
  end if;
  if p_secret is null or p_secret !~ '[^[:space:]]' then
    return private.error_reply('invalid_input', 'secret is blank');
  end if;
  if length(p_secret) > 4096 then
    return private.error_reply('invalid_input', 'secret is longer than 4096 characters');
  end if;
  if not exists (select 1 from public.orgs o where o.id = p_org_id) then
    return private.error_reply('unknown_org');
  end if;

  if private.vault_available() then
    -- One named vault secret per credential: a re-set updates it in place.
    v_label := format('org_credential/%s/%s/%s', p_org_id, v_provider, v_name);
    select c.vault_secret_id into v_vault_id
      from public.org_credentials c
     where c.org_id = p_org_id and c.provider = v_provider and c.name = v_name;
    if v_vault_id is null then
      execute 'select s.id from vault.secrets s where s.name = $1' into v_vault_id using v_label;
    end if;
    if v_vault_id is null then
      execute 'select vault.create_secret($1, $2, $3)' into v_vault_id
        using p_secret, v_label, 'Clinic credential, see public.org_credentials';
    else
      execute 'select vault.update_secret($1, $2)' using v_vault_id, p_secret;
    end if;
    insert into public.org_credentials as c (org_id, provider, name, ciphertext, vault_secret_id)
    values (p_org_id, v_provider, v_name, null, v_vault_id)
    on conflict (org_id, provider, name)
      do update set ciphertext = null, vault_secret_id = excluded.vault_secret_id
    returning c.* into v_row;
  else
    v_refusal := private.encryption_key_error(p_encryption_key);
    if v_refusal is not null then
      return v_refusal;
    end if;
    insert into public.org_credentials as c (org_id, provider, name, ciphertext, vault_secret_id)
    values (p_org_id, v_provider, v_name,
            extensions.pgp_sym_encrypt(p_secret, p_encryption_key, 'cipher-algo=aes256'), null)
    on conflict (org_id, provider, name)
      do update set ciphertext = excluded.ciphertext, vault_secret_id = null
    returning c.* into v_row;
  end if;

  return (private.credential_summary(v_row)
          || jsonb_build_object('success', true, 'message', 'Credential stored'))::json;
end;
$$;
revoke all on function private.store_org_credential(uuid, text, text, text, text) from public, anon, authenticated;

-- Decrypt one credential. Wrong key or corrupt data is a refusal (decryption_failed), not an error.
create or replace function private.read_org_credential(
  p_org_id uuid, p_provider text, p_name text, p_encryption_key text)
returns json
language plpgsql
stable
set search_path = ''
as $$
declare
  v_provider text := lower(btrim(p_provider));
  v_name text := lower(btrim(p_name));
  v_refusal json;
  v_row public.org_credentials;
  v_value text;
begin
  v_refusal := private.credential_input_error(p_org_id, v_provider, v_name);
  if v_refusal is not null then
    return v_refusal;
  end if;
  if not exists (select 1 from public.orgs o where o.id = p_org_id) then
    return private.error_reply('unknown_org');
  end if;

  select c.* into v_row
    from public.org_credentials c
   where c.org_id = p_org_id and c.provider = v_provider and c.name = v_name;
  if not found then
    return private.error_reply('not_found', format('No %s %s is stored for this org', v_provider, v_name));
  end if;

  if v_row.vault_secret_id is not null then
    if private.vault_available() then
      execute 'select d.decrypted_secret from vault.decrypted_secrets d where d.id = $1'
        into v_value using v_row.vault_secret_id;
    end if;
    if v_value is null then
      return private.error_reply('decryption_failed', 'The Vault secret is missing or cannot be decrypted');
    end if;
  else
    v_refusal := private.encryption_key_error(p_encryption_key);
    if v_refusal is not null and v_refusal->>'error' = 'encryption_key_required' then
      return v_refusal;
    end if;
    begin
      v_value := extensions.pgp_sym_decrypt(v_row.ciphertext, p_encryption_key);
    exception when external_routine_invocation_exception then  -- "Wrong key or corrupt data"
      return private.error_reply('decryption_failed',
        'The credential cannot be decrypted with the supplied key (wrong CREDENTIALS_KEY?)');
    end;
  end if;

  return (private.credential_summary(v_row)
          || jsonb_build_object('success', true, 'value', v_value))::json;
end;
$$;
revoke all on function private.read_org_credential(uuid, text, text, text) from public, anon, authenticated;

-- Public entry points (service_role only) -----------------------------------------------------------
-- PostgREST can call only exposed schemas, so these thin wrappers live in public; nobody but
-- service_role may execute them.

-- set_org_credential --------------------------------------------------------------------------------
create or replace function public.set_org_credential(
  p_org_id uuid,
  p_provider text,
  p_name text,
  p_secret text,
  p_encryption_key text default null
)
returns json
language sql
volatile
security definer
set search_path = ''
as $$
  select private.store_org_credential(p_org_id, p_provider, p_name, p_secret, p_encryption_key);
$$;
revoke execute on function public.set_org_credential(uuid, text, text, text, text) from public, anon, authenticated;
grant execute on function public.set_org_credential(uuid, text, text, text, text) to service_role;

-- get_org_credential --------------------------------------------------------------------------------
create or replace function public.get_org_credential(
  p_org_id uuid,
  p_provider text,
  p_name text,
  p_encryption_key text default null
)
returns json
language sql
stable
security definer
set search_path = ''
as $$
  select private.read_org_credential(p_org_id, p_provider, p_name, p_encryption_key);
$$;
revoke execute on function public.get_org_credential(uuid, text, text, text) from public, anon, authenticated;
grant execute on function public.get_org_credential(uuid, text, text, text) to service_role;

-- list_org_credentials ------------------------------------------------------------------------------
-- What is stored for an org, never values (for the CLI; members read the table's visible columns).
create or replace function public.list_org_credentials(p_org_id uuid)
returns json
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if p_org_id is null then
    return private.error_reply('invalid_input', 'org id is required');
  end if;
  if not exists (select 1 from public.orgs o where o.id = p_org_id) then
    return private.error_reply('unknown_org');
  end if;
  return json_build_object(
    'success', true,
    'orgId', p_org_id,
    'credentials', coalesce((
      select json_agg(private.credential_summary(c) order by c.provider, c.name)
        from public.org_credentials c
       where c.org_id = p_org_id), '[]'::json));
end;
$$;
revoke execute on function public.list_org_credentials(uuid) from public, anon, authenticated;
grant execute on function public.list_org_credentials(uuid) to service_role;

-- delete_org_credential -----------------------------------------------------------------------------
create or replace function public.delete_org_credential(p_org_id uuid, p_provider text, p_name text)
returns json
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_provider text := lower(btrim(p_provider));
  v_name text := lower(btrim(p_name));
  v_refusal json;
begin
  v_refusal := private.credential_input_error(p_org_id, v_provider, v_name);
  if v_refusal is not null then
    return v_refusal;
  end if;
  delete from public.org_credentials c
   where c.org_id = p_org_id and c.provider = v_provider and c.name = v_name;
  if not found then
    return private.error_reply('not_found', format('No %s %s is stored for this org', v_provider, v_name));
  end if;
  return json_build_object('success', true, 'orgId', p_org_id, 'provider', v_provider, 'name', v_name,
                           'message', 'Credential deleted');
end;
$$;
revoke execute on function public.delete_org_credential(uuid, text, text) from public, anon, authenticated;
grant execute on function public.delete_org_credential(uuid, text, text) to service_role;

-- resolve_vapi_webhook_secret -----------------------------------------------------------------------
-- The webhook secret of the org a Vapi request is for, found the way resolve_vapi_org finds the org
-- from a stored mapping (assistant id first, then phone-number id). A claimed org id in call metadata
-- is never used here: a claim is not a mapping, so claims alone authenticate only with the global secret.
create or replace function public.resolve_vapi_webhook_secret(
  p_assistant_id text default null,
  p_phone_number_id text default null,
  p_encryption_key text default null
)
returns json
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_org json := public.resolve_vapi_org(p_assistant_id, p_phone_number_id, null);
  v_reply json;
begin
  if (v_org->>'success')::boolean is not true then
    return private.error_reply('no_org', 'No assistant or phone-number mapping for this request');
  end if;
  v_reply := private.read_org_credential((v_org->>'orgId')::uuid, 'vapi', 'webhook_secret', p_encryption_key);
  return (v_reply::jsonb || jsonb_build_object('orgId', v_org->>'orgId', 'source', v_org->>'source'))::json;
end;
$$;
revoke execute on function public.resolve_vapi_webhook_secret(text, text, text) from public, anon, authenticated;
grant execute on function public.resolve_vapi_webhook_secret(text, text, text) to service_role;

-- rekey_org_credentials -----------------------------------------------------------------------------
-- Rotating CREDENTIALS_KEY: re-encrypt every pgcrypto-stored credential from the old key to the new
-- one in one statement. If any row does not decrypt with the old key, nothing changes. Vault-stored
-- rows are untouched (Vault manages its own key).
create or replace function public.rekey_org_credentials(p_old_key text, p_new_key text)
returns json
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_refusal json;
  v_count integer;
begin
  if p_old_key is null or p_old_key !~ '[^[:space:]]' then
    return private.error_reply('encryption_key_required', 'The current (old) encryption key is required');
  end if;
  v_refusal := private.encryption_key_error(p_new_key);
  if v_refusal is not null then
    return v_refusal;
  end if;
  if p_new_key = p_old_key then
    return private.error_reply('invalid_input', 'The new key is the same as the old key');
  end if;
  begin
    update public.org_credentials c
       set ciphertext = extensions.pgp_sym_encrypt(
             extensions.pgp_sym_decrypt(c.ciphertext, p_old_key), p_new_key, 'cipher-algo=aes256')
     where c.ciphertext is not null;
    get diagnostics v_count = row_count;
  exception when external_routine_invocation_exception then  -- "Wrong key or corrupt data"
    return private.error_reply('decryption_failed',
      'At least one credential does not decrypt with the old key; nothing was changed');
  end;
  return json_build_object('success', true, 'reencrypted', v_count, 'message', 'Credentials re-encrypted');
end;
$$;
revoke execute on function public.rekey_org_credentials(text, text) from public, anon, authenticated;
grant execute on function public.rekey_org_credentials(text, text) to service_role;
