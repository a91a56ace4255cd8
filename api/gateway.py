"""The one way the service reaches the database: `rpc(name, params) -> dict`.

Two implementations of the same contract, selected by configuration:

* SupabaseGateway: supabase-py through PostgREST (`SUPABASE_URL` + `SUPABASE_SERVICE_ROLE_KEY`).
* PostgresGateway: the embedded default, psycopg 3 + psycopg_pool against a local PostgreSQL,
  calling the function the way PostgREST does: as role service_role with `request.jwt.claims`
  saying so, named arguments, one statement (its own transaction), the JSON value back.

Params are JSON-compatible values only (str, int, bool, None), exactly what PostgREST receives, so
both paths see the same input. Any failure to get an answer is an RpcError; refusals are not
errors, they are JSON replies with `success: false`.
"""

from __future__ import annotations

import functools
import json
import logging
import time
import weakref
from contextvars import ContextVar
from typing import Any, Protocol

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from .logs import log_event

# get_org_profile for the nil UUID: cheap, touches the RPC path end to end, writes nothing.
HEALTH_PROBE = ("get_org_profile", {"p_org_id": "00000000-0000-0000-0000-000000000000"})


class RpcError(Exception):
    """The RPC path could not produce an answer (unreachable, timeout, server error)."""


class RpcBusy(RpcError):
    """The database gave up waiting (lock_timeout or statement_timeout): the transaction was rolled
    back, nothing was written, and the same call can simply be tried again in a moment."""


# lock_not_available (the functions' `set lock_timeout`) and query_canceled (statement_timeout).
BUSY_SQLSTATES = frozenset({"55P03", "57014"})


# When the current webhook request must have its answer (time.monotonic()), set by api.webhook.
# The psycopg path shortens its pool wait and statement_timeout to what is left, so several RPCs
# in one request can never add up to more than the request's budget.
request_deadline: ContextVar[float | None] = ContextVar("request_deadline", default=None)


def _failure(name: str, exc: Exception, sqlstate: str | None) -> RpcError:
    error = RpcBusy if str(sqlstate) in BUSY_SQLSTATES else RpcError
    return error(f"{name} failed: {type(exc).__name__}")


class RpcGateway(Protocol):
    def rpc(self, name: str, params: dict[str, Any]) -> dict: ...

    def close(self) -> None: ...


def _checked_reply(name: str, value: Any) -> dict:
    if isinstance(value, str):  # a json value may come back still encoded on some paths
        value = json.loads(value)
    if not isinstance(value, dict):
        raise RpcError(f"{name} returned {type(value).__name__}, expected a JSON object")
    return value


@functools.lru_cache(maxsize=256)
def _call_statement(name: str, keys: tuple[str, ...]) -> str:
    """`select public.<name>(<key> => %s, …)`, composed once per function and argument list
    (composing it on every call was a measurable share of a booking request)."""
    return sql.SQL("select {}.{}({})").format(
        sql.Identifier("public"),
        sql.Identifier(name),
        sql.SQL(", ").join(sql.SQL("{} => {}").format(sql.Identifier(key), sql.Placeholder()) for key in keys),
    ).as_string(None)


class PostgresGateway:
    def __init__(self, conninfo: str, *, min_size: int = 1, max_size: int = 10,
                 statement_timeout_ms: int = 8000, connect_timeout_s: float = 5.0):
        self._statement_timeout_ms = statement_timeout_ms
        self._returned_at: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._pool = ConnectionPool(
            conninfo,
            min_size=min_size,
            max_size=max_size,
            timeout=connect_timeout_s,
            open=False,
            kwargs={"connect_timeout": max(1, int(connect_timeout_s)), "application_name": "clinic-booking-api"},
            configure=self._act_as_service_role,
            check=self._check_unless_just_returned,
            # No `reset` callback: with one, psycopg_pool hands every returned connection to a
            # background worker thread (a queue put and a thread switch per RPC, and the connection
            # is back in the pool only once that thread ran); without, it is returned inline.
            # psycopg_pool retries a failed reconnect with doubling delays (1, 2, 4, 8 s, ...), so
            # after a longer outage the pool could sit idle for as long again once the database is
            # back. Giving each attempt series up after 2 s makes the next waiting request start a
            # fresh one, so a restarted database is used again within about a second.
            reconnect_timeout=2.0,
        )
        # Opening without waiting lets the app start (and report 503 on /health) while the
        # database is still down.
        self._pool.open(wait=False)

    # A connection handed back to the pool this recently was working then; checking it again would
    # cost a round trip per RPC (a quarter of a booking request under load, see bench/README.md).
    # Connections idle for longer, e.g. across a database restart, are still checked.
    CHECK_AFTER_IDLE_S = 1.0

    def _act_as_service_role(self, conn: psycopg.Connection) -> None:
        # PostgREST sets role, claims and timeout per transaction; this pool serves service_role
        # alone, so they are set once per connection and an RPC is one autocommit statement: one
        # round trip instead of four (BEGIN, settings, call, COMMIT). See bench/README.md.
        conn.autocommit = True
        conn.execute("select set_config('role', 'service_role', false),"
                     " set_config('request.jwt.claims', %s, false),"
                     " set_config('statement_timeout', %s, false)",
                     ['{"role":"service_role"}', str(self._statement_timeout_ms)])

    def _check_unless_just_returned(self, conn: psycopg.Connection) -> None:
        if time.monotonic() - self._returned_at.get(conn, float("-inf")) > self.CHECK_AFTER_IDLE_S:
            ConnectionPool.check_connection(conn)

    def rpc(self, name: str, params: dict[str, Any]) -> dict:
        call = _call_statement(name, tuple(params))
        # Strings go out untyped, so PostgreSQL casts them to each parameter's declared type,
        # as PostgREST does with JSON input; other scalars travel as text for the same reason.
        values = [None if v is None else (v if isinstance(v, str) else json.dumps(v)) for v in params.values()]
        statement_timeout_ms, pool_wait_s = self._statement_timeout_ms, self._pool.timeout
        deadline = request_deadline.get()
        if deadline is not None:
            left_s = deadline - time.monotonic()
            if left_s < 0.05:
                log_event("rpc.error", logging.ERROR, rpc=name, path="postgres", error="BudgetSpent", sqlstate=None)
                raise RpcBusy(f"{name} not called: the request's time budget is spent")
            statement_timeout_ms = min(statement_timeout_ms, int(left_s * 1000))
            pool_wait_s = min(pool_wait_s, left_s)
        started = time.perf_counter()
        try:
            with self._pool.connection(timeout=pool_wait_s) as conn:
                if statement_timeout_ms == self._statement_timeout_ms:
                    row = conn.execute(call, values).fetchone()
                else:  # what is left of the request's budget is shorter: only for this call
                    with conn.transaction():
                        conn.execute("select set_config('statement_timeout', %s, true)", [str(statement_timeout_ms)])
                        row = conn.execute(call, values).fetchone()
                # It answered: noted here, not in a pool `reset` callback, which would hand every
                # returned connection to the pool's worker thread (a thread switch per RPC).
                self._returned_at[conn] = time.monotonic()
        except (psycopg.Error, PoolTimeout) as exc:
            sqlstate = getattr(exc, "sqlstate", None)
            log_event("rpc.error", logging.ERROR, rpc=name, path="postgres", error=type(exc).__name__, sqlstate=sqlstate)
            raise _failure(name, exc, sqlstate) from exc
        finally:
            log_event("rpc.call", rpc=name, path="postgres",
                      duration_ms=round((time.perf_counter() - started) * 1000, 2))
        return _checked_reply(name, row[0] if row else None)

    def close(self) -> None:
        self._pool.close()


class SupabaseGateway:
    def __init__(self, url: str, service_role_key: str, *, timeout_s: float = 8.0):
        import httpx
        from supabase import ClientOptions, create_client

        # No client-side retries: a retried booking whose first attempt did commit would come back
        # as slot_unavailable; replay safety comes from the idempotency key instead.
        self._http = httpx.Client(timeout=timeout_s)
        self._client = create_client(url, service_role_key, options=ClientOptions(
            httpx_client=self._http, postgrest_client_retry=False))

    def rpc(self, name: str, params: dict[str, Any]) -> dict:
        started = time.perf_counter()
        try:
            response = self._client.rpc(name, params).execute()
        except Exception as exc:  # postgrest.APIError, httpx errors, JSON decoding: all "no answer"
            sqlstate = getattr(exc, "code", None)  # PostgREST passes the SQLSTATE through as `code`
            log_event("rpc.error", logging.ERROR, rpc=name, path="supabase", error=type(exc).__name__, sqlstate=sqlstate)
            raise _failure(name, exc, sqlstate) from exc
        finally:
            log_event("rpc.call", rpc=name, path="supabase",
                      duration_ms=round((time.perf_counter() - started) * 1000, 2))
        return _checked_reply(name, response.data)

    def close(self) -> None:
        self._http.close()


def probe(gateway: RpcGateway) -> bool:
    """True when a harmless RPC round-trips."""
    try:
        gateway.rpc(*HEALTH_PROBE)
    except RpcError:
        return False
    return True
