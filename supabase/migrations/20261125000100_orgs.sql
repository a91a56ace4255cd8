-- Orgs (tenants) and their members.
--
-- Every tenant table in this project carries org_id and leads its keys with it; this migration
-- creates the tenant root, the membership table, invitations (the only way an end user joins an
-- org), the helpers every RLS policy and RPC uses, and the default privileges every later object
-- starts with.

-- Extensions ---------------------------------------------------------------------------------------
-- btree_gist lets one GiST exclusion constraint combine equality on org_id (a scalar) with overlap
-- on a range; it is what makes double booking impossible (appointments_no_overlap). `supabase db
-- reset` drops non-platform extensions, so it is (re)created here.
create extension if not exists btree_gist with schema extensions;

-- Schema private: helpers that must never be reachable through the Data API (PostgREST exposes only
-- `public`). Nothing in it is usable by default; usage is granted to the API roles only so RLS
-- policies evaluated as `authenticated` can call the membership helpers.
create schema if not exists private;
revoke all on schema private from public;
grant usage on schema private to authenticated, service_role;

/*
 * Default privileges: every object created from here on starts closed
 * Hosted Supabase (and scripts/platform-shim.sql) grants ALL on every new table, sequence and
 * function in public to anon and authenticated, and PostgreSQL itself grants EXECUTE on every new
 * function to PUBLIC. RLS does not cover sequences (`setval` as anon broke every later booking),
 * TRUNCATE, or functions, so an open default is a hole in every object nobody remembered to close.
 * For the role that runs the migrations (and any object it creates later, e.g. from Studio), new
 * objects grant nothing to anon/authenticated/PUBLIC; each migration grants explicitly what a role
 * needs, and supabase/tests/05_privilege_inventory.sql lists every such grant. service_role keeps
 * the platform default in public (it bypasses RLS anyway and is the service itself); nothing is
 * granted by default in private. So no object needs its own `revoke ... from public, anon,
 * authenticated`: the only per-object revokes left take service_role's default away where it must
 * not have it (docs/conventions.md).
 * The PUBLIC EXECUTE default is global (per-schema default privileges can only add to it), so it is
 * revoked for every schema, and given back in `extensions` only: extension functions (pgcrypto,
 * pgtap, ...) keep PostgreSQL's own default there.
 */
alter default privileges in schema public revoke all on tables from anon, authenticated;
alter default privileges in schema public revoke all on sequences from anon, authenticated;
alter default privileges in schema public revoke all on functions from anon, authenticated;
alter default privileges in schema private revoke all on tables from anon, authenticated;
alter default privileges in schema private revoke all on sequences from anon, authenticated;
alter default privileges in schema private revoke all on functions from anon, authenticated;
alter default privileges revoke execute on functions from public;
alter default privileges in schema extensions grant execute on functions to public;

-- Tables -------------------------------------------------------------------------------------------

-- A clinic. Its IANA time zone is the clinic's wall clock: business hours, closures' days and the
-- booking horizon are all interpreted in it (never UTC, never the session zone).
create table public.orgs (
  id uuid primary key default gen_random_uuid(),
  slug text,
  name text not null,
  timezone text not null default 'America/New_York',
  phone_region text not null default 'US',
  slot_interval_minutes integer not null default 30,
  min_notice_minutes integer not null default 60,
  booking_horizon_days integer not null default 90,
  created_at timestamptz not null default now(),
  constraint orgs_slug_key unique (slug),
  constraint orgs_slug_format check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and char_length(slug) <= 63),
  constraint orgs_name_not_blank check (btrim(name) <> ''),
  constraint orgs_phone_region_format check (phone_region ~ '^[A-Z]{2}$'),
  constraint orgs_slot_interval_range check (slot_interval_minutes between 5 and 240),
  constraint orgs_min_notice_range check (min_notice_minutes >= 0),
  constraint orgs_booking_horizon_range check (booking_horizon_days between 1 and 730)
);
comment on table public.orgs is 'Tenants (clinics). All scheduling is done in the clinic''s own time zone.';
comment on column public.orgs.slug is 'The operator''s name for the clinic (lower-case words joined by hyphens, e.g. harbor-physio): what `flask --app api clinics apply` finds it by. NULL for a clinic never applied from a file.';
comment on column public.orgs.timezone is 'IANA zone of the clinic wall clock (validated against pg_timezone_names), e.g. America/New_York.';
comment on column public.orgs.phone_region is 'ISO 3166 region used by the service to normalise local phone numbers to E.164.';
comment on column public.orgs.slot_interval_minutes is 'Grid of bookable start times, counted from each business-hours opening.';
comment on column public.orgs.min_notice_minutes is 'Earliest bookable start = now() + this many minutes.';
comment on column public.orgs.booking_horizon_days is 'Latest bookable start = clinic-local now + this many days.';

-- Who may manage an org from the dashboard (authenticated users). The webhook uses service_role.
-- Nobody adds a row here from the dashboard: an end user joins by accepting an invitation
-- (public.accept_org_invitation), everything else is service_role's.
create table public.org_members (
  org_id uuid not null references public.orgs (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null default 'staff',
  created_at timestamptz not null default now(),
  primary key (org_id, user_id),
  constraint org_members_role_valid check (role in ('owner', 'staff'))
);
comment on table public.org_members is 'Membership of auth users in orgs; drives RLS and RPC authorisation. Joined only by accepting an invitation (or set by service_role).';
comment on column public.org_members.role is 'owner: may invite, re-role and remove members; staff: may manage the org''s data.';

-- An owner's invitation of an e-mail address into the org. The invited person accepts with the
-- token while signed in with that address; nothing here refers to auth.users, so creating an
-- invitation never reveals whether an account with that address exists. Only a SHA-256 of the
-- token is stored: whoever can read this table cannot accept in someone else's name.
create table public.org_invitations (
  org_id uuid not null references public.orgs (id) on delete cascade,
  id uuid not null default gen_random_uuid(),
  email text not null,
  role text not null default 'staff',
  token_hash bytea not null,
  invited_by uuid,
  expires_at timestamptz not null default now() + interval '7 days',
  accepted_at timestamptz,
  accepted_by uuid,
  created_at timestamptz not null default now(),
  primary key (org_id, id),
  constraint org_invitations_token_hash_key unique (token_hash),
  constraint org_invitations_role_valid check (role in ('owner', 'staff')),
  constraint org_invitations_email_normalised check (email = lower(btrim(email)) and length(email) between 3 and 254),
  constraint org_invitations_accepted_together check ((accepted_at is null) = (accepted_by is null))
);
comment on table public.org_invitations is 'Owner invitations into an org; accepted with public.accept_org_invitation by the user signed in with the invited e-mail.';
comment on column public.org_invitations.email is 'Invited address, lower-case; must equal the accepting JWT''s email claim.';
comment on column public.org_invitations.token_hash is 'sha256 of the token handed to the owner once; the token itself is never stored.';
comment on column public.org_invitations.invited_by is 'auth user id of the inviting owner (NULL when service_role invited). No foreign key: a record, not a reference.';
comment on column public.org_invitations.accepted_by is 'auth user id that accepted (the JWT sub). No foreign key, like invited_by.';

-- Constraints / indexes ----------------------------------------------------------------------------

-- "Which orgs am I in" is the RLS hot path (the PK covers org-first lookups).
create index org_members_user_id_idx on public.org_members (user_id, org_id);
-- One open invitation per address and org: inviting again renews it (new token, new expiry).
create unique index org_invitations_open_email_key on public.org_invitations (org_id, email)
  where accepted_at is null;

-- Helpers (private) --------------------------------------------------------------------------------

-- Rejects zones PostgreSQL does not know: a typo would silently shift every slot otherwise.
-- A trigger (not a CHECK) because pg_timezone_names is not immutable.
create or replace function private.validate_org_timezone()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if new.timezone is null
     or not exists (select 1 from pg_catalog.pg_timezone_names z where z.name = new.timezone) then
    raise exception 'invalid time zone: %', new.timezone
      using errcode = '22023', hint = 'Use an IANA zone name such as America/New_York.';
  end if;
  return new;
end;
$$;

create trigger orgs_validate_timezone
  before insert or update of timezone on public.orgs
  for each row execute function private.validate_org_timezone();

-- Is the current JWT user a member of the org? security definer so RLS policies on org_members do
-- not recurse into themselves. plpgsql, not sql: a function with a SET clause is never inlined, and
-- a non-inlined SQL function is parsed and planned again on every call, while plpgsql keeps its
-- plans for the session (bench/README.md, "What the profiles found").
create or replace function private.is_org_member(p_org_id uuid)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return exists (
    select 1 from public.org_members m
    where m.org_id = p_org_id
      and m.user_id = (select auth.uid())
  );
end;
$$;
-- Only security definer code calls it (as its owner), so no API role needs EXECUTE but service_role.
grant execute on function private.is_org_member(uuid) to service_role;

-- The orgs the current JWT user belongs to (any role / owner role). Policies use them as
-- `org_id in (select private.member_org_ids())`: the uncorrelated sub-select runs once per
-- statement (an initPlan) instead of once per row, which is what keeps RLS cheap on big tables.
create or replace function private.member_org_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select m.org_id from public.org_members m where m.user_id = (select auth.uid());
$$;
grant execute on function private.member_org_ids() to authenticated, service_role;

create or replace function private.owner_org_ids()
returns setof uuid
language sql
stable
security definer
set search_path = ''
as $$
  select m.org_id from public.org_members m where m.user_id = (select auth.uid()) and m.role = 'owner';
$$;
grant execute on function private.owner_org_ids() to authenticated, service_role;

-- Is this session an end user's? An end user is a JWT carrying a `sub`, or a JWT whose role is
-- `authenticated`/`anon`, or a session that did SET ROLE authenticated/anon without claims. Anything
-- else (a service_role JWT, or a direct connection with no claims as a non-API role) is trusted.
-- The one definition behind can_act_for_org, can_manage_members and the audit trigger's actor.
-- Plain expressions, no sub-selects: plpgsql then evaluates them without starting the executor
-- (every booking asks twice; docs/rpc-contract.md, "Performance").
create or replace function private.is_end_user()
returns boolean
language plpgsql
stable
set search_path = ''
as $$
begin
  return auth.uid() is not null
      or coalesce(auth.role(), '') in ('authenticated', 'anon')
      or coalesce(pg_catalog.current_setting('role', true), '') in ('authenticated', 'anon');
end;
$$;
grant execute on function private.is_end_user() to service_role;

-- May the caller act for this org inside a (security definer) RPC?
--  * an end user (private.is_end_user()) → only orgs they are a member of;
--  * service_role JWT, or a trusted direct connection with no JWT claims at all → any org.
-- anon never gets here: no RPC is executable by anon. Only definer code calls it.
-- plpgsql (plans kept per session) because every RPC calls it; see private.is_org_member.
create or replace function private.can_act_for_org(p_org_id uuid)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return case
    when private.is_end_user() then private.is_org_member(p_org_id)
    when auth.role() = 'service_role' then true
    when coalesce(auth.role(), '') = '' then true
    else false
  end;
end;
$$;
grant execute on function private.can_act_for_org(uuid) to service_role;

-- May the caller manage the org's membership (invite)? Like can_act_for_org, but an end user must
-- be an owner of the org.
create or replace function private.can_manage_members(p_org_id uuid)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return case
    when private.is_end_user() then exists (
      select 1 from public.org_members m
       where m.org_id = p_org_id and m.user_id = (select auth.uid()) and m.role = 'owner')
    when (select auth.role()) = 'service_role' then true
    when coalesce((select auth.role()), '') = '' then true
    else false
  end;
end;
$$;
grant execute on function private.can_manage_members(uuid) to service_role;

-- The stored form of an invitation token: its SHA-256. A token is 64 hex characters; anything
-- longer is not one of ours and is not hashed at all.
create or replace function private.invitation_token_hash(p_token text)
returns bytea
language plpgsql
immutable
set search_path = ''
as $$
begin
  if p_token is null or length(btrim(p_token)) not between 16 and 200 then
    return null;
  end if;
  return pg_catalog.sha256(pg_catalog.convert_to(lower(btrim(p_token)), 'UTF8'));
end;
$$;

-- Keeps updated_at honest on every UPDATE, whoever issues it.
create or replace function private.set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;

-- RLS ----------------------------------------------------------------------------------------------
-- Every tenant table's member policy has one form, `org_id in (select private.member_org_ids())`:
-- the sub-select runs once per statement (an InitPlan), not once per row. A table members manage
-- outright gets ONE `for all` policy (which rows), and its grants say which commands
-- (supabase/tests/05_privilege_inventory.sql lists them); tables with narrower rules (orgs,
-- members, invitations, appointments, logs) spell out their policies per command.
alter table public.orgs enable row level security;
alter table public.org_members enable row level security;
alter table public.org_invitations enable row level security;

-- Members see and edit their org; creating/deleting orgs is a platform (service_role) operation.
create policy orgs_select_member on public.orgs
  for select to authenticated
  using (id in (select private.member_org_ids()));
create policy orgs_update_member on public.orgs
  for update to authenticated
  using (id in (select private.member_org_ids()))
  with check (id in (select private.member_org_ids()));

-- Members see the member list; owners change a member's role or remove a member. There is no insert
-- policy (and no INSERT privilege): adding someone takes their acceptance (accept_org_invitation),
-- so no owner can put an arbitrary account into the clinic, and no foreign-key error on user_id
-- can tell a signed-in user whether an account exists. Only `role` is updatable (user_id is not:
-- re-pointing a row would be the same silent adding).
create policy org_members_select_member on public.org_members
  for select to authenticated
  using (org_id in (select private.member_org_ids()));
create policy org_members_update_owner on public.org_members
  for update to authenticated
  using (org_id in (select private.owner_org_ids()))
  with check (org_id in (select private.owner_org_ids()));
create policy org_members_delete_owner on public.org_members
  for delete to authenticated
  using (org_id in (select private.owner_org_ids()));

-- Owners see their org's invitations (never the token) and withdraw them by deleting; they are
-- created only through invite_org_member.
create policy org_invitations_select_owner on public.org_invitations
  for select to authenticated
  using (org_id in (select private.owner_org_ids()));
create policy org_invitations_delete_owner on public.org_invitations
  for delete to authenticated
  using (org_id in (select private.owner_org_ids()));

-- Privileges ---------------------------------------------------------------------------------------
-- New objects start closed (default privileges above); these are the grants RLS-guarded use needs.
-- orgs: no id/created_at updates (an id is what every row of the clinic points at).
grant select on public.orgs to authenticated;
grant update (name, timezone, phone_region, slot_interval_minutes, min_notice_minutes, booking_horizon_days)
  on public.orgs to authenticated;
grant select, delete on public.org_members to authenticated;
grant update (role) on public.org_members to authenticated;
grant select (org_id, id, email, role, invited_by, expires_at, accepted_at, accepted_by, created_at),
      delete on public.org_invitations to authenticated;

-- Public RPCs --------------------------------------------------------------------------------------

-- invite_org_member ---------------------------------------------------------------------------------
-- An owner (or service_role) invites an e-mail address. The reply is the same whatever the address
-- is (an account, no account, already a member): it carries the token once, for the owner to pass
-- on; the database keeps only its hash. Inviting the same address again renews the open invitation.
-- Unknown org and "not an owner of it" are the same unknown_org.
create or replace function public.invite_org_member(
  p_org_id uuid,
  p_email text,
  p_role text default 'staff'
)
returns json
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_email text := lower(btrim(p_email));
  v_role text := coalesce(nullif(lower(btrim(p_role)), ''), 'staff');
  v_token text := pg_catalog.replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
  v_invitation public.org_invitations;
begin
  if p_org_id is null then
    return json_build_object('success', false, 'error', 'invalid_input', 'message', 'Organization id is required');
  end if;
  if not private.is_plausible_email(v_email) then  -- the one rule: 20261125000120_formats.sql
    return json_build_object('success', false, 'error', 'invalid_input', 'message', 'Email address is not plausible');
  end if;
  if v_role not in ('owner', 'staff') then
    return json_build_object('success', false, 'error', 'invalid_input', 'message', 'Role must be owner or staff');
  end if;
  if not exists (select 1 from public.orgs o where o.id = p_org_id) or not private.can_manage_members(p_org_id) then
    return json_build_object('success', false, 'error', 'unknown_org', 'message', 'Unknown organization');
  end if;

  insert into public.org_invitations as i (org_id, email, role, token_hash, invited_by)
  values (p_org_id, v_email, v_role, private.invitation_token_hash(v_token), (select auth.uid()))
  on conflict (org_id, email) where accepted_at is null do update
    set role = excluded.role, token_hash = excluded.token_hash, invited_by = excluded.invited_by,
        expires_at = now() + interval '7 days', created_at = now()
  returning i.* into v_invitation;

  return json_build_object(
    'success', true,
    'invitationId', v_invitation.id,
    'orgId', v_invitation.org_id,
    'email', v_invitation.email,
    'role', v_invitation.role,
    'token', v_token,
    'expiresAt', to_char(v_invitation.expires_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));
end;
$$;
grant execute on function public.invite_org_member(uuid, text, text) to authenticated, service_role;
comment on function public.invite_org_member(uuid, text, text) is
  'Owner (or service_role) invites an e-mail into the org as owner/staff; returns the token once. Same reply whether or not an account exists.';

-- accept_org_invitation ----------------------------------------------------------------------------
-- The signed-in invitee joins: the token must be open, unexpired and issued for the e-mail in the
-- caller's JWT. Every refusal is the same invalid_invitation (wrong token, expired, used, another
-- address, or an account that no longer exists), so the reply tells nothing about other people.
-- An invitation never demotes: an owner accepting a staff invitation stays owner.
create or replace function public.accept_org_invitation(p_token text)
returns json
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  v_user uuid := (select auth.uid());
  v_email text := lower(btrim((select auth.jwt()) ->> 'email'));
  v_hash bytea := private.invitation_token_hash(p_token);
  v_invitation public.org_invitations;
  v_role text;
  v_refusal constant json := json_build_object('success', false, 'error', 'invalid_invitation',
    'message', 'This invitation is not valid for the signed-in account, or it has expired or been used');
begin
  if v_user is null or coalesce(v_email, '') = '' or v_hash is null then
    return v_refusal;
  end if;
  select * into v_invitation from public.org_invitations i
   where i.token_hash = v_hash
   for update;
  if not found or v_invitation.accepted_at is not null or v_invitation.expires_at <= now()
     or v_invitation.email <> v_email then
    return v_refusal;
  end if;

  begin
    insert into public.org_members as m (org_id, user_id, role)
    values (v_invitation.org_id, v_user, v_invitation.role)
    on conflict (org_id, user_id) do update
      set role = case when m.role = 'owner' then 'owner' else excluded.role end
    returning m.role into v_role;
  exception when foreign_key_violation then
    -- the JWT names a user that is not (or no longer) in auth.users
    return v_refusal;
  end;
  update public.org_invitations i
     set accepted_at = now(), accepted_by = v_user
   where i.org_id = v_invitation.org_id and i.id = v_invitation.id;

  return json_build_object('success', true, 'orgId', v_invitation.org_id, 'role', v_role);
end;
$$;
revoke all on function public.accept_org_invitation(text) from service_role;
grant execute on function public.accept_org_invitation(text) to authenticated;
comment on function public.accept_org_invitation(text) is
  'The signed-in user whose JWT e-mail matches an open invitation joins its org; every refusal is invalid_invitation.';
