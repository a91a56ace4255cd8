-- Per-clinic provider credentials (BYOC: bring your own Vapi account), encrypted by the service.
--
-- A clinic's own Vapi private API key (to manage its assistants) and webhook secret (to prove that a
-- webhook call comes from its Vapi account) are encrypted IN THE SERVICE (api/credentials.py:
-- AES-256-GCM under a key derived from its CREDENTIALS_KEY, bound to org id, provider and name), and
-- only the resulting opaque ciphertext `v1:<base64url>` ever reaches the database. So neither the key
-- nor a plaintext can appear in a statement, a bind parameter or the server log, whatever
-- log_statement / log_min_duration_statement say. Where the ciphertext is kept:
--   * Supabase Vault when the `supabase_vault` extension is installed (hosted Supabase): vault.secrets
--     holds the service's ciphertext, which Vault encrypts once more at rest with a key the database
--     manages; this table keeps the vault secret's id;
--   * otherwise this table's `ciphertext` column.
-- SQL decides everything except the cryptography: which credentials exist, validation, refusals, and
-- who may call what (ciphertexts only through service_role functions; members see that a credential
-- exists — provider, name, storage, timestamps — never its ciphertext). What SQL cannot see, it cannot
-- decide: a blank or over-long secret and a missing or weak key are refused by the service.

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

-- The ciphertext formats the service writes: `v1:` + unpadded base64url of nonce ‖ ciphertext ‖ tag
-- (12 + n + 16 bytes). 22,000 characters hold a secret of 4,096 characters even if every character
-- took 4 bytes in UTF-8. One definition for the table's check and the functions' refusals; a later
-- format (v2) is added here.
create or replace function private.ciphertext_format_ok(p_ciphertext text)
returns boolean
language sql
immutable
set search_path = ''
as $$
  select p_ciphertext ~ '^v1:[A-Za-z0-9_-]{39,}$' and length(p_ciphertext) <= 22000;
$$;

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

-- Tables -------------------------------------------------------------------------------------------

create table public.org_credentials (
  org_id uuid not null references public.orgs (id) on delete cascade,
  provider text not null,
  name text not null,
  ciphertext text,
  vault_secret_id uuid,
  storage text not null generated always as (
    case when vault_secret_id is not null then 'vault' else 'table' end) stored,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  primary key (org_id, provider, name),
  constraint org_credentials_known check (name = any (private.credential_names(provider))),
  constraint org_credentials_one_store check (num_nonnulls(ciphertext, vault_secret_id) = 1),
  constraint org_credentials_ciphertext_format check (private.ciphertext_format_ok(ciphertext))
);
comment on table public.org_credentials is 'Per-clinic provider credentials as the service''s ciphertext (or a Vault secret id holding it). Ciphertexts only through service_role functions; members see existence via the non-secret columns.';
comment on column public.org_credentials.ciphertext is 'The service''s AES-256-GCM ciphertext (v1:…), bound to org/provider/name; the key (CREDENTIALS_KEY) never reaches the database. NULL when Vault holds it.';
comment on column public.org_credentials.vault_secret_id is 'vault.secrets id when Supabase Vault holds the service''s ciphertext.';
comment on column public.org_credentials.storage is 'vault or table: where the ciphertext is kept.';
comment on column public.org_credentials.updated_at is 'Last set or re-encrypted; the webhook secret cache re-reads a secret when it changes.';

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

create trigger org_credentials_forget_vault_secret
  after delete on public.org_credentials
  for each row execute function private.forget_vault_secret();

-- Privileges / RLS ---------------------------------------------------------------------------------
-- New tables start closed for anon and authenticated (20261125000100_orgs.sql), but service_role
-- keeps the platform's ALL on new tables in public; here nobody gets more than the non-secret
-- columns. Writes happen only inside the functions below.
alter table public.org_credentials enable row level security;
revoke all on public.org_credentials from service_role;
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

-- The refusal for a ciphertext the service cannot have written; NULL when acceptable.
create or replace function private.ciphertext_error(p_ciphertext text)
returns json
language sql
immutable
set search_path = ''
as $$
  select case
    when p_ciphertext is null or p_ciphertext = '' then
      private.error_reply('invalid_input', 'ciphertext is required (the service encrypts: api/credentials.py)')
    when length(p_ciphertext) > 22000 then
      private.error_reply('invalid_input', 'ciphertext is longer than 22000 characters')
    when not private.ciphertext_format_ok(p_ciphertext) then
      private.error_reply('invalid_input', 'ciphertext is not in a known format (v1:…)')
  end;
$$;

-- What the webhook secret cache compares to notice a changed value: updated_at to the microsecond.
create or replace function private.credential_version(p_updated_at timestamptz)
returns text
language sql
immutable
set search_path = ''
as $$
  select to_char(p_updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
$$;

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

-- The stored ciphertext of one row, wherever it is kept; NULL when its Vault secret is gone (or
-- Vault itself is), which the callers report as decryption_failed.
create or replace function private.stored_ciphertext(p_row public.org_credentials)
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
  v_value text;
begin
  if p_row.vault_secret_id is null then
    return p_row.ciphertext;
  end if;
  if private.vault_available() then
    execute 'select d.decrypted_secret from vault.decrypted_secrets d where d.id = $1'
      into v_value using p_row.vault_secret_id;
  end if;
  return v_value;
end;
$$;

-- Upsert one credential's ciphertext; the reply never carries it.
create or replace function private.store_org_credential(
  p_org_id uuid, p_provider text, p_name text, p_ciphertext text)
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
  -- The ciphertext is bound to the provider and name it was encrypted for; stored under another
  -- spelling it would never decrypt, so only the canonical spelling is accepted here.
  if p_provider is distinct from v_provider or p_name is distinct from v_name then
    return private.error_reply('invalid_input',
      'provider and name must be lower case without surrounding spaces (they are bound into the ciphertext)');
  end if;
  v_refusal := private.ciphertext_error(p_ciphertext);
  if v_refusal is not null then
    return v_refusal;
  end if;
  if not exists (select 1 from public.orgs o where o.id = p_org_id) then
    return private.error_reply('unknown_org');
  end if;

  if private.vault_available() then
    -- One named vault secret per credential: a re-set updates it in place. Vault receives the
    -- service's ciphertext, never the plaintext.
    v_label := format('org_credential/%s/%s/%s', p_org_id, v_provider, v_name);
    select c.vault_secret_id into v_vault_id
      from public.org_credentials c
     where c.org_id = p_org_id and c.provider = v_provider and c.name = v_name;
    if v_vault_id is null then
      execute 'select s.id from vault.secrets s where s.name = $1' into v_vault_id using v_label;
    end if;
    if v_vault_id is null then
      execute 'select vault.create_secret($1, $2, $3)' into v_vault_id
        using p_ciphertext, v_label, 'Clinic credential (service ciphertext), see public.org_credentials';
    else
      execute 'select vault.update_secret($1, $2)' using v_vault_id, p_ciphertext;
    end if;
    insert into public.org_credentials as c (org_id, provider, name, ciphertext, vault_secret_id)
    values (p_org_id, v_provider, v_name, null, v_vault_id)
    on conflict (org_id, provider, name)
      do update set ciphertext = null, vault_secret_id = excluded.vault_secret_id
    returning c.* into v_row;
  else
    insert into public.org_credentials as c (org_id, provider, name, ciphertext, vault_secret_id)
    values (p_org_id, v_provider, v_name, p_ciphertext, null)
    on conflict (org_id, provider, name)
      do update set ciphertext = excluded.ciphertext, vault_secret_id = null
    returning c.* into v_row;
  end if;

  return (private.credential_summary(v_row)
          || jsonb_build_object('success', true, 'message', 'Credential stored'))::json;
end;
$$;

-- One credential's ciphertext for the service to decrypt.
create or replace function private.read_org_credential(p_org_id uuid, p_provider text, p_name text)
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
  v_ciphertext text;
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

  v_ciphertext := private.stored_ciphertext(v_row);
  if v_ciphertext is null then
    return private.error_reply('decryption_failed', 'The Vault secret is missing or cannot be decrypted');
  end if;
  return (private.credential_summary(v_row)
          || jsonb_build_object('success', true, 'version', private.credential_version(v_row.updated_at),
                                'ciphertext', v_ciphertext))::json;
end;
$$;

-- Public entry points (service_role only) -----------------------------------------------------------
-- PostgREST can call only exposed schemas, so these thin wrappers live in public; nobody but
-- service_role may execute them.

-- set_org_credential --------------------------------------------------------------------------------
create or replace function public.set_org_credential(
  p_org_id uuid,
  p_provider text,
  p_name text,
  p_ciphertext text
)
returns json
language sql
volatile
security definer
set search_path = ''
as $$
  select private.store_org_credential(p_org_id, p_provider, p_name, p_ciphertext);
$$;
comment on function public.set_org_credential(uuid, text, text, text) is
  'service_role: store (upsert) the service''s ciphertext of one credential, in Vault when present. Never sees the plaintext or the key.';
grant execute on function public.set_org_credential(uuid, text, text, text) to service_role;

-- get_org_credential --------------------------------------------------------------------------------
-- Also on the webhook path (the clinic's webhook secret), hence the lock bound.
create or replace function public.get_org_credential(
  p_org_id uuid,
  p_provider text,
  p_name text
)
returns json
language sql
stable
security definer
set search_path = ''
set lock_timeout = '3s'
as $$
  select private.read_org_credential(p_org_id, p_provider, p_name);
$$;
comment on function public.get_org_credential(uuid, text, text) is
  'service_role: one credential''s ciphertext (and version) for the service to decrypt; not_found when none is stored.';
grant execute on function public.get_org_credential(uuid, text, text) to service_role;

-- list_org_credentials ------------------------------------------------------------------------------
-- What is stored for an org, never ciphertexts (for the CLI; members read the table's visible columns).
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
comment on function public.list_org_credentials(uuid) is
  'service_role: which credentials an org has (provider, name, storage, updatedAt), never ciphertexts.';
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
comment on function public.delete_org_credential(uuid, text, text) is
  'service_role: remove one credential (and its Vault secret).';
grant execute on function public.delete_org_credential(uuid, text, text) to service_role;

-- vapi_webhook_secret_index -------------------------------------------------------------------------
-- Which Vapi ids can be authenticated by a clinic's own webhook secret: every assistant id and
-- phone-number id mapped to an org that has one, and per such org the version of its secret. The
-- service keeps this in process and asks for a secret only when a request names one of these ids,
-- so made-up ids cost no database call and cannot push real entries out of its cache; it re-reads
-- the index at most once a second, and a changed version makes it re-read that org's secret, so a
-- newly set (or deleted) secret takes effect within a second. No ciphertexts here: a poll every
-- second must not decrypt Vault secrets. `version` (md5 of the reply) lets an unchanged index come
-- back as {"unchanged": true} instead of in full.
create or replace function public.vapi_webhook_secret_index(p_known_version text default null)
returns json
language plpgsql
stable
security definer
set search_path = ''
set lock_timeout = '3s'
as $$
declare
  v_index jsonb;
  v_version text;
begin
  with secrets as (
    select c.org_id, c.updated_at
      from public.org_credentials c
     where c.provider = 'vapi' and c.name = 'webhook_secret'
  )
  select jsonb_build_object(
    'assistants', coalesce((
      select jsonb_object_agg(va.assistant_id, va.org_id)
        from public.vapi_assistants va join secrets s on s.org_id = va.org_id
       where va.assistant_id is not null), '{}'::jsonb),
    'phoneNumbers', coalesce((
      select jsonb_object_agg(va.phone_number_id, va.org_id)
        from public.vapi_assistants va join secrets s on s.org_id = va.org_id
       where va.phone_number_id is not null), '{}'::jsonb),
    'secrets', coalesce((
      select jsonb_object_agg(s.org_id, private.credential_version(s.updated_at)) from secrets s), '{}'::jsonb))
  into v_index;
  v_version := md5(v_index::text);
  if v_version = p_known_version then
    return json_build_object('success', true, 'version', v_version, 'unchanged', true);
  end if;
  return (v_index || jsonb_build_object('success', true, 'version', v_version))::json;
end;
$$;
comment on function public.vapi_webhook_secret_index(text) is
  'service_role: Vapi assistant/phone-number ids mapped to orgs that have a webhook secret, and each secret''s version (no ciphertexts); {"unchanged": true} when p_known_version is current.';
grant execute on function public.vapi_webhook_secret_index(text) to service_role;

-- list_org_credential_ciphertexts -------------------------------------------------------------------
-- Every stored ciphertext, for `flask --app api credentials rekey`, which decrypts them with the old
-- key and writes them back re-encrypted with rekey_org_credentials. A Vault secret that is gone is a
-- refusal naming the credential: a rekey that skipped it would leave it behind.
create or replace function public.list_org_credential_ciphertexts()
returns json
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  v_items jsonb := '[]'::jsonb;
  v_row public.org_credentials;
  v_ciphertext text;
begin
  for v_row in
    select c.* from public.org_credentials c order by c.org_id, c.provider, c.name
  loop
    v_ciphertext := private.stored_ciphertext(v_row);
    if v_ciphertext is null then
      return private.error_reply('decryption_failed', format(
        'The Vault secret of org %s %s/%s is missing or cannot be decrypted', v_row.org_id, v_row.provider, v_row.name));
    end if;
    v_items := v_items || jsonb_build_object('orgId', v_row.org_id, 'provider', v_row.provider,
                                             'name', v_row.name, 'storage', v_row.storage, 'ciphertext', v_ciphertext);
  end loop;
  return json_build_object('success', true, 'credentials', v_items);
end;
$$;
comment on function public.list_org_credential_ciphertexts() is
  'service_role: every credential''s ciphertext (both stores), for the service-side rekey.';
grant execute on function public.list_org_credential_ciphertexts() to service_role;

-- rekey_org_credentials -----------------------------------------------------------------------------
-- The items of a rekey request as rows (a cast error — an org id that is not a uuid — surfaces
-- where the caller first reads them).
create or replace function private.rekey_items(p_ciphertexts jsonb)
returns table (org_id uuid, provider text, name text, old text, new text)
language sql
immutable
set search_path = ''
as $$
  select x."orgId", x.provider, x.name, x.old, x.new
    from jsonb_to_recordset(p_ciphertexts) as x("orgId" uuid, provider text, name text, old text, new text);
$$;

-- Rotating CREDENTIALS_KEY, in one transaction: p_ciphertexts is a JSON array with one
-- {"orgId", "provider", "name", "old", "new"} per stored credential, where `old` is the ciphertext
-- the service read and `new` the same secret encrypted with the new key. All or nothing: the items
-- must name exactly the credentials stored now, each still holding `old` (the table is locked
-- against writes meanwhile), else credentials_changed and nothing is written. Vault-held ciphertexts
-- are replaced in Vault.
create or replace function public.rekey_org_credentials(p_ciphertexts jsonb)
returns json
language plpgsql
volatile
security definer
set search_path = ''
set lock_timeout = '3s'
as $$
declare
  v_items integer;
  v_bad record;
  v_item record;
  v_count integer := 0;
begin
  if p_ciphertexts is null or jsonb_typeof(p_ciphertexts) <> 'array' then
    return private.error_reply('invalid_input',
      'ciphertexts must be a JSON array of {orgId, provider, name, old, new}');
  end if;
  begin
    select count(*) into v_items from private.rekey_items(p_ciphertexts);
  exception when invalid_text_representation or invalid_parameter_value or datatype_mismatch then
    return private.error_reply('invalid_input',
      'ciphertexts must be a JSON array of {orgId, provider, name, old, new} objects with a valid org id');
  end;
  if exists (select 1 from private.rekey_items(p_ciphertexts) i
              where i.org_id is null or i.provider is null or i.name is null or i.old is null or i.new is null) then
    return private.error_reply('invalid_input', 'every item needs orgId, provider, name, old and new');
  end if;
  if v_items <> (select count(*) from (select distinct i.org_id, i.provider, i.name
                                        from private.rekey_items(p_ciphertexts) i) d) then
    return private.error_reply('invalid_input', 'a credential is listed more than once');
  end if;
  select i.org_id, i.provider, i.name into v_bad
    from private.rekey_items(p_ciphertexts) i where not private.ciphertext_format_ok(i.new) limit 1;
  if found then
    return private.error_reply('invalid_input', format(
      'the new ciphertext of org %s %s/%s is not in a known format (v1:…)', v_bad.org_id, v_bad.provider, v_bad.name));
  end if;

  -- No set or delete may slip in between the check and the writes.
  lock table public.org_credentials in share row exclusive mode;
  select coalesce(c.org_id, i.org_id) as org_id, coalesce(c.provider, i.provider) as provider,
         coalesce(c.name, i.name) as name
    into v_bad
    from public.org_credentials c
    full join private.rekey_items(p_ciphertexts) i
      on i.org_id = c.org_id and i.provider = c.provider and i.name = c.name
   where c.org_id is null or i.org_id is null or private.stored_ciphertext(c) is distinct from i.old
   limit 1;
  if found then
    return private.error_reply('credentials_changed', format(
      'org %s %s/%s was set or deleted since the ciphertexts were read; nothing was changed (run rekey again)',
      v_bad.org_id, v_bad.provider, v_bad.name));
  end if;

  for v_item in
    select c.org_id, c.provider, c.name, c.vault_secret_id, i.new
      from public.org_credentials c
      join private.rekey_items(p_ciphertexts) i on i.org_id = c.org_id and i.provider = c.provider and i.name = c.name
  loop
    if v_item.vault_secret_id is not null then
      execute 'select vault.update_secret($1, $2)' using v_item.vault_secret_id, v_item.new;
      -- The row itself changes only in updated_at: the version the webhook secret cache compares.
      update public.org_credentials c set updated_at = now()
       where c.org_id = v_item.org_id and c.provider = v_item.provider and c.name = v_item.name;
    else
      update public.org_credentials c set ciphertext = v_item.new
       where c.org_id = v_item.org_id and c.provider = v_item.provider and c.name = v_item.name;
    end if;
    v_count := v_count + 1;
  end loop;
  return json_build_object('success', true, 'reencrypted', v_count, 'message', 'Credentials re-encrypted');
end;
$$;
comment on function public.rekey_org_credentials(jsonb) is
  'service_role: replace every stored ciphertext by its re-encryption under a new key, all or nothing (credentials_changed when the set or a value moved meanwhile).';
grant execute on function public.rekey_org_credentials(jsonb) to service_role;
