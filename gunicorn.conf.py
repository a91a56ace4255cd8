"""The production server's settings: `gunicorn --config gunicorn.conf.py 'api:create_app()'`.

Why these (docs/security-requests.md, bench/README.md):

* gevent workers (`SocketTimeoutGeventWorker` below): every connection is a greenlet, so a request
  that is slow to arrive or to answer holds a few kilobytes, not a thread or a worker, and two — or
  two hundred — slow clients cannot stop `/health` or other callers (sync workers could). A worker
  runs one request's Python at a time and switches while any request waits on its socket or on
  PostgreSQL (psycopg ≥ 3.1.14 waits cooperatively once gevent has patched `select`, which the
  worker does before the app is imported: never add `preload_app`). Against the threaded workers
  used before (2 × 8 gthread), in interleaved runs on this project's 2-core box, a 16-client
  assistant-request's p99 went from 54–88 ms to 36–47 ms with less CPU per request (bench/README.md,
  "gevent workers"): no GIL handed between 8 threads, no thread wake-ups per request.
  What a worker cannot do is run two requests' Python at once: a request that computes for long
  without waiting delays that worker's other requests by as much (the heaviest allowed, a 2 MiB
  body from an authenticated sender fully parsed, took 150–280 ms here; the body limit and the
  10-tool-call limit bound it, and the other worker keeps accepting).
* Every accepted connection gets a timeout of SOCKET_TIMEOUT_SECONDS on each read and write (a
  gevent socket timeout; gunicorn's gevent worker would otherwise leave it blocking for ever), so a
  client that stops sending its headers or body, or stops reading the answer, is let go. gunicorn
  itself bounds only the wait for the next request on a kept-alive connection (`keepalive`);
  werkzeug bounds the body's size (MAX_CONTENT_LENGTH), not its pace.
* Database work is bounded by the connection pool (DB_POOL_MAX per worker, api/config.py), not by
  a thread count: more concurrent requests than connections wait for one (at most the pool's
  timeout or the request's budget), as they waited for a thread before.
* Header limits kept at gunicorn's defaults, explicitly (a request line ≤ 4094 bytes, ≤ 100
  header fields of ≤ 8190 bytes each).

What a single instance cannot do is outlast very many slow clients: each still holds a connection
slot (WORKER_CONNECTIONS per worker) for up to the timeout. In front of it on the internet, put a
proxy or load balancer that buffers whole requests before forwarding them (nginx with its default
`proxy_request_buffering on`, and `client_body_timeout` / `client_header_timeout` of 10 s; most
managed platforms' HTTP load balancers do the same).

Environment: PORT (3001), WEB_CONCURRENCY (workers, 2: one per core), WORKER_CONNECTIONS (open
connections per worker, 1000), SOCKET_TIMEOUT_SECONDS (10). Command-line options override this file.
"""

import os

from gunicorn.workers.ggevent import GeventWorker
from gunicorn.workers.base_async import AsyncWorker

bind = f"0.0.0.0:{os.environ.get('PORT', '3001')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "1000"))

# A request may take Vapi's whole 20 s tool budget; the app answers within WEBHOOK_BUDGET_MS (15 s).
timeout = 30
graceful_timeout = 20
keepalive = 5

limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

SOCKET_TIMEOUT_SECONDS = int(os.environ.get("SOCKET_TIMEOUT_SECONDS", "10"))


class SocketTimeoutGeventWorker(GeventWorker):
    """gunicorn's gevent worker, with a read/write timeout on every accepted connection.

    GeventWorker.handle puts each accepted socket in blocking mode without a timeout (and socket
    options such as SO_RCVTIMEO do nothing to gevent's non-blocking sockets), so a client that
    stalls mid-request would hold its connection until it hangs up. A gevent socket timeout ends
    such a read or write with `TimeoutError`: a stalled body reaches werkzeug as a disconnected
    client (400), stalled headers end the connection."""

    def handle(self, listener, client, addr):
        client.settimeout(SOCKET_TIMEOUT_SECONDS)
        AsyncWorker.handle(self, listener, client, addr)


worker_class = SocketTimeoutGeventWorker


def when_ready(server):
    server.log.info("gevent workers, %s connections each; socket timeout %ss on every connection "
                    "(gunicorn.conf.py)", worker_connections, SOCKET_TIMEOUT_SECONDS)


def worker_exit(server, worker):
    """Close the app's database pool while the worker's event loop still runs: left to the garbage
    collector at interpreter exit, psycopg_pool's finaliser joins its worker greenlets after gevent
    is gone ("greenlet is being finalized")."""
    extensions = getattr(getattr(worker, "wsgi", None), "extensions", None) or {}
    if "deps" in extensions:
        extensions["deps"].gateway.close()
