-- 07_formats: the one definition of an E.164 phone number and of a plausible e-mail address
-- (20261125000120_formats.sql). Each rule answers the listed cases (the e-mail list is the one the
-- Python side agrees with, tests/ of api), lives in exactly one function (no other function body or
-- constraint carries a copy of the pattern), and is what the leads constraints, the domains and the
-- invitations use. A signed-in member still inserts leads from the dashboard: table CHECKs run the
-- predicates as the inserting role.
begin;
select plan(56);

-- The e-mail rule ------------------------------------------------------------------------------------
create temp table _email (address text, plausible boolean, why text) on commit drop;
insert into _email values
  ('jane@example.com', true, 'plain'),
  ('Jane.Doe@Example.COM', true, 'case-insensitive'),
  ('john_doe@clinic.com', true, 'underscore in the local part'),
  ('o''brien+clinic@example.co.uk', true, 'apostrophe, plus, sub-domain'),
  ('a!#$%&''*+/=?^_`{|}~-z@example.org', true, 'every atext character'),
  ('x@xn--p1ai.xn--p1ai', true, 'A-label TLD'),
  ('jose@xn--bcher-kva.de', true, 'IDN domain in A-label form'),
  ('a@b.co', true, 'shortest domain'),
  ('a@1.example.com', true, 'digit label'),
  ('a@ex-ample.com', true, 'inner hyphen'),
  (repeat('a', 64) || '@example.com', true, 'local part of 64'),
  ('a@' || repeat('b', 63) || '.com', true, 'label of 63'),
  ('a@' || repeat('b.', 125) || 'co', true, '254 in all'),
  ('john_doe@my_clinic.com', false, 'underscore in the domain'),
  ('josé@example.com', false, 'non-ASCII local part (no SMTPUTF8)'),
  ('jose@bücher.de', false, 'non-ASCII domain'),
  ('a@-example.com', false, 'label starts with a hyphen'),
  ('a@example-.com', false, 'label ends with a hyphen'),
  ('a..b@example.com', false, 'double dot'),
  ('.a@example.com', false, 'leading dot'),
  ('a.@example.com', false, 'trailing dot in the local part'),
  ('a@example', false, 'no TLD'),
  ('a@example.c', false, 'one-letter TLD'),
  ('a@example.123', false, 'numeric TLD'),
  ('a@example.com.', false, 'trailing dot'),
  ('a@example..com', false, 'empty label'),
  ('a b@example.com', false, 'space'),
  (' a@example.com', false, 'leading space (callers trim)'),
  ('a@@example.com', false, 'two @'),
  ('a@b@example.com', false, 'two @ apart'),
  ('@example.com', false, 'no local part'),
  ('a@', false, 'no domain'),
  ('not-an-email', false, 'no @'),
  ('"a b"@example.com', false, 'quoted local part'),
  ('a@[192.0.2.1]', false, 'IP literal'),
  (repeat('a', 65) || '@example.com', false, 'local part of 65'),
  ('a@' || repeat('b', 64) || '.com', false, 'label of 64'),
  ('a@' || repeat('b.', 126) || 'com', false, 'longer than 254'),
  ('', false, 'empty'),
  (null, false, 'NULL');

select is(private.is_plausible_email(address), plausible,
          format('%s is %s (%s)', coalesce(quote_literal(address), 'NULL'),
                 case when plausible then 'plausible' else 'implausible' end, why))
  from _email order by plausible desc, why;

-- The E.164 rule -------------------------------------------------------------------------------------
select is(array_agg(private.is_e164(p) order by n),
          array[true, true, true, true, false, false, false, false, false, false, false, false, false],
          'E.164: + and 7 to 15 digits, the first not 0; nothing else')
  from (values (1, '+14155550123'), (2, '+442079460958'), (3, '+1234567'), (4, '+123456789012345'),
               (5, '+123456'), (6, '+1234567890123456'), (7, '+04155550123'), (8, '14155550123'),
               (9, '+1 415 555 0123'), (10, ' +14155550123'), (11, '+1415555012a'), (12, ''), (13, null)) v(n, p);

-- One place each --------------------------------------------------------------------------------------
select is((select array_agg(p.oid::regprocedure::text order by 1) from pg_proc p
            where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
              and strpos(p.prosrc, '{6,14}') > 0),
          array['private.is_e164(text)'], 'the E.164 pattern lives in private.is_e164 only');
select is((select array_agg(p.oid::regprocedure::text order by 1) from pg_proc p
            where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace)
              and strpos(p.prosrc, '!#$%&') > 0),
          array['private.is_plausible_email(text)'], 'the e-mail pattern lives in private.is_plausible_email only');
select is((select array_agg(c.conname::text order by 1) from pg_constraint c
            where c.connamespace in ('public'::regnamespace, 'private'::regnamespace) and c.contype = 'c'
              and (strpos(pg_get_constraintdef(c.oid), '{6,14}') > 0 or strpos(pg_get_constraintdef(c.oid), '!#$%&') > 0)),
          null, 'no table or domain constraint carries a copy of either pattern');
select ok((select pg_get_constraintdef(c.oid) from pg_constraint c
            where c.conrelid = 'public.leads'::regclass and c.conname = 'leads_phone_e164') like '%private.is_e164(phone)%',
          'leads.phone is checked with private.is_e164');
select ok((select pg_get_constraintdef(c.oid) from pg_constraint c
            where c.conrelid = 'public.leads'::regclass and c.conname = 'leads_email_plausible') like '%private.is_plausible_email(email)%',
          'leads.email is checked with private.is_plausible_email');
select is((select array_agg(p.provolatile::text order by p.proname) from pg_proc p
            where p.oid in ('private.is_e164(text)'::regprocedure, 'private.is_plausible_email(text)'::regprocedure)),
          array['i', 'i'], 'both predicates are immutable (usable in constraints and indexes)');

-- Domains -----------------------------------------------------------------------------------------------
select lives_ok($$select '+14155550123'::private.e164, null::private.e164, 'jane@example.com'::private.email_address,
                         null::private.email_address$$,
                'the domains take a valid value, and NULL');
select throws_ok($$select '(415) 555-0123'::private.e164$$, '23514', null, 'private.e164 refuses a formatted number');
select throws_ok($$select 'john_doe@my_clinic.com'::private.email_address$$, '23514', null,
                 'private.email_address refuses an implausible address');

-- The table: leads ----------------------------------------------------------------------------------------
insert into auth.users (id, email) values ('a0700000-0000-4000-8000-000000000001', 'member@t07.example');
insert into public.orgs (id, name, timezone) values ('c0700000-0000-4000-8000-00000000000a', 'TAP Clinic 07', 'America/New_York');
insert into public.org_members (org_id, user_id, role) values
  ('c0700000-0000-4000-8000-00000000000a', 'a0700000-0000-4000-8000-000000000001', 'owner');

select throws_ok($$insert into public.leads (org_id, name, phone, email)
                   values ('c0700000-0000-4000-8000-00000000000a', 'Under Score', '+15550007001', 'john_doe@my_clinic.com')$$,
                 '23514', null, 'the leads table refuses an implausible e-mail (the one rule)');
select throws_ok($$insert into public.leads (org_id, name, phone) values ('c0700000-0000-4000-8000-00000000000a', 'No Plus', '15550007001')$$,
                 '23514', null, 'and a phone that is not E.164');

-- a signed-in member inserting through RLS (the dashboard): the CHECKs run as authenticated
set local request.jwt.claims = '{"sub": "a0700000-0000-4000-8000-000000000001", "role": "authenticated"}';
set local role authenticated;
select lives_ok($$insert into public.leads (org_id, name, phone, email)
                  values ('c0700000-0000-4000-8000-00000000000a', 'Dash Board', '+15550007002', 'Dash@Example.com')$$,
                'a member inserts a lead with a phone and an e-mail from the dashboard');
select throws_ok($$insert into public.leads (org_id, name, phone, email)
                   values ('c0700000-0000-4000-8000-00000000000a', 'Dash Bad', '+15550007003', 'a@-example.com')$$,
                 '23514', null, 'an implausible e-mail is a constraint violation for the member too (not a permission error)');
select throws_ok($$insert into public.leads (org_id, name, phone) values ('c0700000-0000-4000-8000-00000000000a', 'Dash Bad', '+0555')$$,
                 '23514', null, 'and so is a phone that is not E.164');
reset role;
reset request.jwt.claims;

-- Invitations use the same rule ---------------------------------------------------------------------------
select is(array[public.invite_org_member('c0700000-0000-4000-8000-00000000000a', 'john_doe@my_clinic.com') ->> 'error',
                public.invite_org_member('c0700000-0000-4000-8000-00000000000a', 'josé@example.com') ->> 'error',
                public.invite_org_member('c0700000-0000-4000-8000-00000000000a', ' New.Staff@Example.com ') ->> 'email'],
          array['invalid_input', 'invalid_input', 'new.staff@example.com'],
          'invite_org_member refuses what the rule refuses, and takes a plausible address trimmed and lower-cased');

select * from finish();
rollback;
