-- 20_webhook_replay: claim_webhook_signature accepts a signature once within its window, purges
-- expired claims, and is reachable by service_role only; the table behind it by nobody.
begin;
select plan(16);

select has_table('private', 'webhook_signatures', 'private.webhook_signatures exists');
select ok((select relrowsecurity from pg_class where oid = 'private.webhook_signatures'::regclass), 'RLS is on');
select is((select count(*)::int from information_schema.role_table_grants
            where table_schema = 'private' and table_name = 'webhook_signatures'
              and grantee in ('anon', 'authenticated', 'service_role', 'PUBLIC')), 0,
          'no role holds a privilege on the table (only the function touches it)');
select function_privs_are('public', 'claim_webhook_signature', array['text', 'timestamp with time zone'], 'anon', array[]::text[],
                          'anon cannot claim');
select function_privs_are('public', 'claim_webhook_signature', array['text', 'timestamp with time zone'], 'authenticated', array[]::text[],
                          'authenticated cannot claim');
select function_privs_are('public', 'claim_webhook_signature', array['text', 'timestamp with time zone'], 'service_role', array['EXECUTE'],
                          'service_role can claim');
select is_definer('public', 'claim_webhook_signature', array['text', 'timestamp with time zone'], 'security definer');

create temp table r (k text primary key, j json);
grant all on r to service_role;
select set_config('request.jwt.claims', '{"role":"service_role"}', true);
set local role service_role;
insert into r values
  ('first', public.claim_webhook_signature(repeat('ab', 32), now())),
  ('again', public.claim_webhook_signature(repeat('ab', 32), now())),
  ('upper', public.claim_webhook_signature(upper(repeat('ab', 32)), now())),
  ('other', public.claim_webhook_signature(repeat('cd', 32), now() - interval '4 minutes')),
  ('blank', public.claim_webhook_signature('  ', now())),
  ('long', public.claim_webhook_signature(repeat('a', 129), now())),
  ('no_time', public.claim_webhook_signature(repeat('ef', 32), null));
reset role;
select set_config('request.jwt.claims', '', true);

select is((select j->>'success' from r where k = 'first'), 'true', 'the first claim of a signature succeeds');
select is((select j->>'error' from r where k = 'again'), 'replayed_signature', 'the same signature again is a replay');
select is((select j->>'error' from r where k = 'upper'), 'replayed_signature', 'hex case does not make a new signature');
select is((select j->>'success' from r where k = 'other'), 'true', 'another signature is claimed independently');
select is((select string_agg(j->>'error', ',' order by k) from r where k in ('blank', 'long', 'no_time')),
          'invalid_input,invalid_input,invalid_input', 'blank, over-long or untimed claims are invalid_input');
select ok((select expires_at between now() + interval '9 minutes' and now() + interval '11 minutes'
             from private.webhook_signatures where signature = repeat('cd', 32)),
          'kept for twice the 5-minute window from its arrival when signed earlier');
select is((select count(*)::int from private.webhook_signatures), 2, 'nothing written for refused claims');

-- Expired claims are purged by later claims, and an expired one no longer blocks its signature.
insert into private.webhook_signatures (signature, expires_at)
select 'old' || n, now() - interval '1 minute' from generate_series(1, 5) n;
select is(public.claim_webhook_signature('old1', now())->>'success', 'true', 'an expired claim is purged, not a replay');
select is((select count(*)::int from private.webhook_signatures where expires_at < now()), 0,
          'a claim purges expired rows');

select * from finish();
rollback;
