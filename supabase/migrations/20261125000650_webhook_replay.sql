-- Replay protection for HMAC-signed webhook requests (docs/security-requests.md).
--
-- A signed request is accepted for 5 minutes around its X-Timestamp; inside that window the same
-- bytes and signature could be sent again by anyone who saw them (a proxy log, a retrying client).
-- The service claims each accepted signature here, once: the first claim wins, any later one within
-- the window is refused (`replayed_signature`). The cache lives in the database, not in process
-- memory, because the service runs as several gunicorn workers and possibly several instances — a
-- replay sent to another worker must meet the same claim.
--
-- A row is kept for twice the acceptance window after the later of its signed time and its arrival,
-- so a clock difference of up to 5 minutes between the service and the database cannot reopen the
-- window; expired rows are deleted a few at a time by later claims (no scheduler needed).

-- Tables ---------------------------------------------------------------------------------------------

create table private.webhook_signatures (
  signature text primary key,
  expires_at timestamptz not null,
  constraint webhook_signatures_signature_length check (length(signature) between 1 and 128)
);
comment on table private.webhook_signatures is
  'HMAC signatures of webhook requests already accepted, kept until expires_at (replay protection). service_role functions only.';

-- The purge walks expired rows oldest first.
create index webhook_signatures_expires_at on private.webhook_signatures (expires_at);

-- RLS ------------------------------------------------------------------------------------------------

-- Nobody reads or writes this table directly; claim_webhook_signature (security definer) does.
alter table private.webhook_signatures enable row level security;

-- Public RPCs ----------------------------------------------------------------------------------------

-- claim_webhook_signature ----------------------------------------------------------------------------
-- Record that a signature was accepted; refuse it if it was already. p_signed_at is the request's
-- X-Timestamp (already checked by the service to be within 5 minutes of its clock).
create or replace function public.claim_webhook_signature(p_signature text, p_signed_at timestamptz)
returns json
language plpgsql
volatile
security definer
set search_path = ''
set lock_timeout = '3s'
as $$
declare
  v_signature text := lower(btrim(p_signature));
begin
  if v_signature is null or length(v_signature) not between 1 and 128 or p_signed_at is null then
    return private.error_reply('invalid_input', 'A signature and its signed time are required');
  end if;

  -- Opportunistic purge: a handful of expired rows per claim keeps the table at about one window's
  -- worth of traffic; SKIP LOCKED keeps concurrent claims from waiting on each other's purge.
  delete from private.webhook_signatures ws
   where ws.signature in (select e.signature from private.webhook_signatures e
                           where e.expires_at < now()
                           order by e.expires_at
                           limit 20
                           for update skip locked);

  insert into private.webhook_signatures (signature, expires_at)
  values (v_signature, greatest(p_signed_at, now()) + interval '10 minutes')
  on conflict (signature) do nothing;
  if not found then
    return private.error_reply('replayed_signature', 'This signature was already used');
  end if;
  return json_build_object('success', true);
end;
$$;
comment on function public.claim_webhook_signature(text, timestamptz) is
  'Claim an accepted webhook HMAC signature once (replay protection): success, or replayed_signature within its window. service_role only.';
grant execute on function public.claim_webhook_signature(text, timestamptz) to service_role;
