-- Formats: the one definition of a phone number (E.164) and of a plausible e-mail address.
--
-- Table constraints (leads), the booking RPC, the caller context (callers) and the invitations all
-- ask these two predicates; no other object carries either pattern (supabase/tests/07_formats.sql
-- checks the catalog for copies). Python only turns spoken forms into text ("john at example dot
-- com", "(415) 555-0123" in the clinic's region); whether the result is acceptable is decided here.
-- Before everything that uses them: the constraints of 20261125000300_booking.sql call them at
-- CREATE TABLE time.

-- Helpers (private) --------------------------------------------------------------------------------

-- E.164: '+', a country code that does not start with 0, 7 to 15 digits in all. NULL is not a
-- phone number (false), so `not private.is_e164(x)` also refuses a missing one.
create or replace function private.is_e164(p_phone text)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
  return coalesce(p_phone ~ '^\+[1-9][0-9]{6,14}$', false);
end;
$$;
comment on function private.is_e164(text) is
  'The E.164 rule (^\+[1-9][0-9]{6,14}$); NULL → false. Used by the leads constraint, the booking RPC, the caller context and erasure.';

-- A plausible address: what a clinic's mailer can send to, checked as given (callers trim and
-- lower-case first). ASCII only — no SMTPUTF8: the clinic's mailer cannot be assumed to speak it, and
-- on a voice channel an accent in an address is far more often a transcription artefact than a real
-- internationalised mailbox (an IDN domain is accepted in its A-label form, xn--…). Then:
--   * at most 254 characters, exactly one @;
--   * local part: RFC 5321 dot-atom (atext characters, dots only between them), at most 64;
--   * domain: two or more host-name labels (letters, digits, inner hyphens; no underscore, at most
--     63 each), the last one letters only (≥ 2) or an A-label; no trailing dot, no IP literal.
-- Case-insensitive (Jane@Example.COM is plausible). NULL → false. Case-sensitive character classes
-- with explicit ranges, so the answer does not depend on the database's locale.
create or replace function private.is_plausible_email(p_email text)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
  return coalesce(
    length(p_email) <= 254
    and p_email ~ ('^[A-Za-z0-9!#$%&''*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&''*+/=?^_`{|}~-]+)*'
                   '@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+'
                   '([A-Za-z]{2,63}|[Xx][Nn]--[A-Za-z0-9]([A-Za-z0-9-]{0,57}[A-Za-z0-9])?)$')
    and length(split_part(p_email, '@', 1)) <= 64,
    false);
end;
$$;
comment on function private.is_plausible_email(text) is
  'The e-mail rule: ASCII dot-atom local part (≤ 64) @ host-name labels (no underscore), letter or xn-- TLD, ≤ 254 in all; case-insensitive; NULL → false. Leads constraint, booking (implausible → dropped), invitations.';

-- Domains: the same rules as column and variable types (NULL passes, as for any domain). USAGE on
-- a domain only governs creating objects that depend on it (PostgreSQL's default, PUBLIC, is kept);
-- a value flowing into a domain-typed column runs the CHECK as the inserting role, which therefore
-- needs EXECUTE on the predicate (granted below).
create domain private.e164 as text
  constraint e164_format check (value is null or private.is_e164(value));
comment on domain private.e164 is 'A phone number in E.164 form (private.is_e164).';

create domain private.email_address as text
  constraint email_address_plausible check (value is null or private.is_plausible_email(value));
comment on domain private.email_address is 'A plausible e-mail address (private.is_plausible_email).';

-- Privileges ---------------------------------------------------------------------------------------
-- CHECK constraints run as the role that writes the row: members insert leads through RLS from the
-- dashboard (authenticated), the service as service_role. Pure predicates: nothing to leak.
grant execute on function private.is_e164(text), private.is_plausible_email(text) to authenticated, service_role;
