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
* At most REQUESTS_PER_WORKER (16) requests with a body are inside the app of one worker at once
  (`BodyRequestLimit`, installed in `post_worker_init`); the others wait before a byte of their body
  is read. A greenlet costs kilobytes but a body up to 2 MiB (MAX_CONTENT_LENGTH): without the bound,
  a thousand hostile posts at once would hold 2 GB per worker (tests/test_production_server.py
  posts 80 at once: +26 MB with 8, +44 MB with 16, +186 MB unbounded). 16 = the threads the whole
  server had before, so no connection of a 16-client benchmark ever waits here even when gunicorn
  hands most of them to one worker (with 8 the ceiling app's p99 at c=16 rose from 21–33 to 33–63 ms
  in interleaved runs). GET, HEAD and OPTIONS requests (`/health`) are not counted, nor are connections
  waiting for their headers or their next request. Database work is further bounded by the pool
  (DB_POOL_MAX per worker).
* A reply leaves in one write (`OneWriteResponse`): gunicorn sends the head and the body separately,
  and the client often wakes twice; and each worker freezes what it built before serving
  (`gc.freeze()` in `post_worker_init`), so the collector's rare full passes stop stalling every
  request of the worker for tens of milliseconds (bench/README.md, "Unix socket and one write per
  reply").
* Header limits kept at gunicorn's defaults, explicitly (a request line ≤ 4094 bytes, ≤ 100
  header fields of ≤ 8190 bytes each).

What a single instance cannot do is outlast very many slow clients: each still holds a connection
slot (WORKER_CONNECTIONS per worker) for up to the timeout. In front of it on the internet, put a
proxy or load balancer that buffers whole requests before forwarding them (nginx with its default
`proxy_request_buffering on`, and `client_body_timeout` / `client_header_timeout` of 10 s; most
managed platforms' HTTP load balancers do the same).

Environment: PORT (3001), WEB_CONCURRENCY (workers, 2: one per core), WORKER_CONNECTIONS (open
connections per worker, 1000), REQUESTS_PER_WORKER (requests with a body in the app at once, 16),
SOCKET_TIMEOUT_SECONDS (10). Command-line options override this file.
"""

import gc
import os

from gunicorn.http import wsgi as gunicorn_wsgi
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
REQUESTS_PER_WORKER = int(os.environ.get("REQUESTS_PER_WORKER", "16"))


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


class _Captured:
    """Stands in for the client socket while gunicorn writes: keeps the bytes instead of sending them."""

    def __init__(self, data: bytes = b""):
        self.data = bytearray(data)

    def sendall(self, data) -> None:
        self.data += data


class OneWriteResponse(gunicorn_wsgi.Response):
    """gunicorn's HTTP/1 response, with the head and the body's first part sent in one write.

    gunicorn writes the status line and headers, then each part of the body, each with its own
    send: two per JSON reply, and the second often wakes the client a second time. Here the head is
    built by gunicorn as before but kept, and goes out with the first body part (or at close, when
    there is none); framing (Content-Length or chunked) stays gunicorn's own. Assistant-requests at
    16 clients: 7% less worker CPU and a 10% lower p99 in alternating rounds, within the box's noise
    (bench/README.md, "Unix socket and one write per reply"). Installed for every worker class by
    rebinding the module's Response, which gunicorn.http.wsgi.create instantiates; `_emit_body` is
    gunicorn's hook for a subclass's framing."""

    _head = b""

    def send_headers(self):
        if self.headers_sent:
            return
        self._head = bytes(self._written(super().send_headers, b""))

    def _emit_body(self, data):
        if not self._head:
            return super()._emit_body(data)
        emit = super()._emit_body
        self.sock.sendall(self._written(lambda: emit(data), self._take_head()))

    def close(self):
        if not self.headers_sent:
            self.send_headers()
        if not self._head:
            return super().close()
        self.sock.sendall(self._written(super().close, self._take_head()))

    def can_sendfile(self):
        # sendfile() writes the head and the file straight to the socket: this service serves no
        # files, so a file body goes through write() like any other.
        return False

    def _take_head(self) -> bytes:
        head, self._head = self._head, b""
        return head

    def _written(self, write, prefix: bytes) -> bytearray:
        """`prefix` plus what `write()` would have sent to the client."""
        client, captured = self.sock, _Captured(prefix)
        self.sock = captured
        try:
            write()
        finally:
            self.sock = client
        return captured.data


gunicorn_wsgi.Response = OneWriteResponse


class BodyRequestLimit:
    """WSGI middleware: at most `limit` requests that may carry a body run the app at once; the others
    wait here, their bodies unread. `slots` is gevent's semaphore in a gevent worker (waiting blocks
    only that request's greenlet), threading's under any other worker class."""

    def __init__(self, app, slots):
        self.app = app
        self._slots = slots

    # Counted by method, not by Content-Length / Transfer-Encoding: how a body is framed is the
    # sender's choice (`Transfer-Encoding: Chunked` got past a check of the lower-case word).
    BODILESS = frozenset({"GET", "HEAD", "OPTIONS"})

    def __call__(self, request, start_response):  # request: the WSGI environ (not the process's)
        if request.get("REQUEST_METHOD") in self.BODILESS:
            return self.app(request, start_response)
        with self._slots:  # the reply is produced inside the slot and written to the client after it
            body = self.app(request, start_response)
            try:
                return list(body)
            finally:
                if hasattr(body, "close"):
                    body.close()


def post_worker_init(worker):
    # What exists by now (the imported modules, the app and its pool) lives as long as the worker.
    # gc.freeze() takes it out of the collector's sight, so a full collection walks only what requests
    # left behind: under 16 clients those took 22-62 ms here, a stall of every request in the worker,
    # and 1-10 ms frozen (bench/README.md, "Unix socket and one write per reply").
    gc.freeze()
    if isinstance(worker, GeventWorker):
        from gevent.lock import BoundedSemaphore
    else:  # e.g. GUNICORN_CMD_ARGS="--worker-class gthread" for a comparison
        from threading import BoundedSemaphore
    worker.wsgi = BodyRequestLimit(worker.wsgi, BoundedSemaphore(REQUESTS_PER_WORKER))


def when_ready(server):
    server.log.info("gevent workers, %s connections and %s requests with a body each at once; socket timeout "
                    "%ss on every connection (gunicorn.conf.py)", worker_connections, REQUESTS_PER_WORKER,
                    SOCKET_TIMEOUT_SECONDS)


def worker_exit(server, worker):
    """Close the app's database pool while the worker's event loop still runs: left to the garbage
    collector at interpreter exit, psycopg_pool's finaliser joins its worker greenlets after gevent
    is gone ("greenlet is being finalized")."""
    app = getattr(getattr(worker, "wsgi", None), "app", None)
    extensions = getattr(app, "extensions", None) or {}
    if "deps" in extensions:
        extensions["deps"].gateway.close()
