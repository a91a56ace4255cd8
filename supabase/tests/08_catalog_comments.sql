-- 08_catalog_comments: every function, table and view in schema public carries a catalog comment
-- (`comment on ...`), which is what Supabase Studio and PostgREST's OpenAPI show a clinic's staff
-- and a developer. A new RPC without one fails here, naming it. Private helpers are documented by
-- the why-comment above their definition in the migration instead (docs/conventions.md): they are
-- never shown to an API user, and a second copy of that text would drift.
begin;
select plan(4);

create function pg_temp.uncommented()
returns table (object text)
language sql stable as $$
  select format('function %s', p.oid::regprocedure)
    from pg_proc p
   where p.pronamespace = 'public'::regnamespace
     and coalesce(btrim(obj_description(p.oid, 'pg_proc')), '') = ''
     and not exists (select 1 from pg_depend d
                      where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
  union all
  select format('%s %s', case c.relkind when 'v' then 'view' when 'm' then 'materialized view' else 'table' end,
                c.oid::regclass)
    from pg_class c
   where c.relnamespace = 'public'::regnamespace
     and c.relkind in ('r', 'p', 'v', 'm')
     and coalesce(btrim(obj_description(c.oid, 'pg_class')), '') = ''
     and not exists (select 1 from pg_depend d
                      where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype = 'e')
$$;

select is(
  (select coalesce(array_agg(object order by object), '{}') from pg_temp.uncommented() where object like 'function %'),
  '{}'::text[], 'every function in public has a catalog comment');
select is(
  (select coalesce(array_agg(object order by object), '{}') from pg_temp.uncommented() where object not like 'function %'),
  '{}'::text[], 'every table and view in public has a catalog comment');

-- The check is not vacuous: an RPC added without a comment (or with a blank one) is named.
create function public.tap_uncommented_rpc(p_org_id uuid) returns json language sql as 'select null::json';
create function public.tap_blank_comment_rpc() returns json language sql as 'select null::json';
comment on function public.tap_blank_comment_rpc() is '  ';
select set_eq(
  $$select object from pg_temp.uncommented()$$,
  $$values ('function tap_uncommented_rpc(uuid)'), ('function tap_blank_comment_rpc()')$$,
  'a function without a comment, or with a blank one, is reported');
select ok((select count(*) from pg_proc p where p.pronamespace = 'public'::regnamespace) > 20,
          'the check saw the project''s functions');

select * from finish();
rollback;
