"""The production server's settings: `gunicorn --config gunicorn.conf.py 'api:create_app()'`.

Why these (docs/security-requests.md):

* gthread workers: a request that is slow to arrive or to answer holds one thread, not a whole
  worker, so two slow clients cannot stop `/health` or other callers (sync workers could).
* A socket timeout on every accepted connection (SO_RCVTIMEO / SO_SNDTIMEO, set on the listening
  sockets, which accepted sockets inherit): a client that stops sending its headers or body, or
  stops reading the answer, frees its thread after SOCKET_TIMEOUT_SECONDS instead of never.
  gunicorn itself bounds only the wait for a request's first byte; werkzeug bounds the body's
  size (MAX_CONTENT_LENGTH), not its pace.
* Header limits kept at gunicorn's defaults, explicitly (a request line ≤ 4094 bytes, ≤ 100
  header fields of ≤ 8190 bytes each).

What a single instance cannot do is outlast many slow clients: each one still holds a thread for
up to the timeout. In front of it on the internet, put a proxy or load balancer that buffers whole
requests before forwarding them (nginx with its default `proxy_request_buffering on`, and
`client_body_timeout` / `client_header_timeout` of 10 s; most managed platforms' HTTP load balancers
do the same).

Environment: PORT (3001), WEB_CONCURRENCY (workers, 2), GUNICORN_THREADS (threads per worker, 8),
SOCKET_TIMEOUT_SECONDS (10). Command-line options override this file.
"""

import os
import socket
import struct

bind = f"0.0.0.0:{os.environ.get('PORT', '3001')}"
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))

# A request may take Vapi's whole 20 s tool budget; the app answers within WEBHOOK_BUDGET_MS (15 s).
timeout = 30
graceful_timeout = 20
keepalive = 5

limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190

SOCKET_TIMEOUT_SECONDS = int(os.environ.get("SOCKET_TIMEOUT_SECONDS", "10"))


def _timeval(seconds: int) -> bytes:
    return struct.pack("ll", seconds, 0)


def when_ready(server):
    """Before any worker is forked: every socket accepted from now on blocks at most
    SOCKET_TIMEOUT_SECONDS per read or write (the kernel copies these options to accepted sockets)."""
    for listener in server.LISTENERS:
        sock = listener.sock
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, _timeval(SOCKET_TIMEOUT_SECONDS))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, _timeval(SOCKET_TIMEOUT_SECONDS))
    server.log.info("socket timeout %ss on every connection (gunicorn.conf.py)", SOCKET_TIMEOUT_SECONDS)
