-- Orgs (tenants) and their members.
--
-- Every tenant table in this project carries org_id and leads its keys with it; this migration
-- creates the tenant root, the membership table and the two helpers every RLS policy and RPC uses.

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

-- Tables -------------------------------------------------------------------------------------------

-- A clinic. Its IANA time zone is the clinic's wall clock: business hours, closures' days and the
-- booking horizon are all interpreted in it (never UTC, never the session zone).
create table public.orgs (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  timezone text not null default 'America/New_York',
  phone_region text not null default 'US',
  slot_interval_minutes integer not null default 30,
  min_notice_minutes integer not null default 60,
  booking_horizon_days integer not null default 90,
  created_at timestamptz not null default now(),
  constraint orgs_name_not_blank check (btrim(name) <> ''),
  constraint orgs_phone_region_format check (phone_region ~ '^[A-Z]{2}$'),
  constraint orgs_slot_interval_range check (slot_interval_minutes between 5 and 240),
  constraint orgs_min_notice_range check (min_notice_minutes >= 0),
  constraint orgs_booking_horizon_range check (booking_horizon_days between 1 and 730)
);
comment on table public.orgs is 'Tenants (clinics). All scheduling is done in the clinic''s own time zone.';
comment on column public.orgs.timezone is 'IANA zone of the clinic wall clock (validated against pg_timezone_names), e.g. America/New_York.';
comment on column public.orgs.phone_region is 'ISO 3166 region used by the service to normalise local phone numbers to E.164.';
comment on column public.orgs.slot_interval_minutes is 'Grid of bookable start times, counted from each business-hours opening.';
comment on column public.orgs.min_notice_minutes is 'Earliest bookable start = now() + this many minutes.';
comment on column public.orgs.booking_horizon_days is 'Latest bookable start = clinic-local now + this many days.';

-- Who may manage an org from the dashboard (authenticated users). The webhook uses service_role.
create table public.org_members (
  org_id uuid not null references public.orgs (id) on delete cascade,
  user_id uuid not null references auth.users (id) on delete cascade,
  role text not null default 'staff',
  created_at timestamptz not null default now(),
  primary key (org_id, user_id),
  constraint org_members_role_valid check (role in ('owner', 'staff'))
);
comment on table public.org_members is 'Membership of auth users in orgs; drives RLS and RPC authorisation.';
comment on column public.org_members.role is 'owner: may manage members; staff: may manage the org''s data.';

-- Constraints / indexes ----------------------------------------------------------------------------

-- "Which orgs am I in" is the RLS hot path (the PK covers org-first lookups).
create index org_members_user_id_idx on public.org_members (user_id, org_id);

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
revoke all on function private.validate_org_timezone() from public;

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
revoke all on function private.is_org_member(uuid) from public, anon;
grant execute on function private.is_org_member(uuid) to authenticated, service_role;

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
revoke all on function private.member_org_ids() from public, anon;
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
revoke all on function private.owner_org_ids() from public, anon;
grant execute on function private.owner_org_ids() to authenticated, service_role;

-- May the caller act for this org inside a (security definer) RPC?
--  * an end user (JWT role `authenticated`, or any JWT carrying a `sub`, or a session that did
--    SET ROLE authenticated/anon without claims) → only orgs they are a member of;
--  * service_role JWT, or a trusted direct connection with no JWT claims at all → any org.
-- anon never gets here: no RPC is executable by anon.
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
    when (select auth.uid()) is not null
      or coalesce((select auth.role()), '') in ('authenticated', 'anon')
      or coalesce(pg_catalog.current_setting('role', true), '') in ('authenticated', 'anon')
      then private.is_org_member(p_org_id)
    when (select auth.role()) = 'service_role' then true
    when coalesce((select auth.role()), '') = '' then true
    else false
  end;
end;
$$;
revoke all on function private.can_act_for_org(uuid) from public, anon;
grant execute on function private.can_act_for_org(uuid) to authenticated, service_role;

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
revoke all on function private.set_updated_at() from public;

-- RLS ----------------------------------------------------------------------------------------------
alter table public.orgs enable row level security;
alter table public.org_members enable row level security;

-- Members see and edit their org; creating/deleting orgs is a platform (service_role) operation.
create policy orgs_select_member on public.orgs
  for select to authenticated
  using (id in (select private.member_org_ids()));
create policy orgs_update_member on public.orgs
  for update to authenticated
  using (id in (select private.member_org_ids()))
  with check (id in (select private.member_org_ids()));

-- Members see the member list; only owners change it.
create policy org_members_select_member on public.org_members
  for select to authenticated
  using (org_id in (select private.member_org_ids()));
create policy org_members_insert_owner on public.org_members
  for insert to authenticated
  with check (org_id in (select private.owner_org_ids()));
create policy org_members_update_owner on public.org_members
  for update to authenticated
  using (org_id in (select private.owner_org_ids()))
  with check (org_id in (select private.owner_org_ids()));
create policy org_members_delete_owner on public.org_members
  for delete to authenticated
  using (org_id in (select private.owner_org_ids()));
