"""gunicorn.conf.py's own pieces: OneWriteResponse (a reply's head and its body's first part leave in
one write, and what reaches the client is byte for byte what gunicorn's own Response would have sent)
and post_worker_init (the body-request limit, gc.freeze).

Driven through gunicorn's real request parser and `gunicorn.http.wsgi.create` (what every worker
calls), with a socket that records each write. The production command itself is exercised by
tests/test_production_server.py."""

from __future__ import annotations

import importlib.util
import io
import socket
from pathlib import Path

import pytest
from gunicorn.config import Config
from gunicorn.http import wsgi
from gunicorn.http.parser import RequestParser

ROOT = Path(__file__).resolve().parents[1]


def load_conf():
    spec = importlib.util.spec_from_file_location("gunicorn_conf_under_test", ROOT / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


CONF = load_conf()
PLAIN = CONF.OneWriteResponse.__bases__[0]  # gunicorn's own Response


class RecordingSocket:
    def __init__(self, incoming: bytes):
        self._incoming = io.BytesIO(incoming)
        self.writes: list[bytes] = []

    def recv(self, size: int) -> bytes:
        return self._incoming.read(size)

    def sendall(self, data) -> None:
        self.writes.append(bytes(data))


def response(request: bytes, response_class=None):
    """(response, environ, socket) as a worker builds them for `request`: gunicorn's parser, then
    `wsgi.create` (the module's Response unless `response_class` is given)."""
    sock = RecordingSocket(request)
    cfg = Config()
    req = next(iter(RequestParser(cfg, sock, ("127.0.0.1", 40000))))
    resp, environ = wsgi.create(req, sock, ("127.0.0.1", 40000), ("127.0.0.1", 3001), cfg,
                                response_class=response_class)
    return resp, environ, sock


def respond(response_class, request: bytes, status: str, headers: list, parts: list[bytes]) -> list[bytes]:
    """The writes `response_class` makes answering `request` with `parts` as the WSGI body."""
    resp, _, sock = response(request, response_class)
    resp.start_response(status, headers)
    for part in parts:
        resp.write(part)
    resp.close()
    return sock.writes


GET = b"GET /health HTTP/1.1\r\nHost: a\r\n\r\n"
HEAD = b"HEAD /health HTTP/1.1\r\nHost: a\r\n\r\n"
JSON = [("Content-Type", "application/json")]

CASES = {
    # (request, status, headers, body parts, writes: gunicorn's own, OneWriteResponse's)
    "json reply": (GET, "200 OK", [*JSON, ("Content-Length", "11")], [b'{"ok":true}'], (2, 1)),
    "two parts": (GET, "200 OK", [*JSON, ("Content-Length", "4")], [b"ab", b"cd"], (3, 2)),
    "no body": (GET, "204 No Content", [], [], (1, 1)),
    "head": (HEAD, "200 OK", [*JSON, ("Content-Length", "11")], [b'{"ok":true}'], (1, 1)),
    "chunked": (GET, "200 OK", JSON, [b"ab", b"cd"], (4, 3)),
    "chunked, empty": (GET, "200 OK", JSON, [], (2, 1)),
}


@pytest.mark.parametrize("case", CASES)
def test_the_client_receives_what_gunicorn_would_send_in_fewer_writes(case):
    request, status, headers, parts, writes = CASES[case]
    ours = respond(CONF.OneWriteResponse, request, status, headers, parts)
    theirs = respond(PLAIN, request, status, headers, parts)
    # the Date header may tick between the two: compare without it
    strip = lambda data: b"\r\n".join(line for line in data.split(b"\r\n") if not line.startswith(b"Date: "))
    assert strip(b"".join(ours)) == strip(b"".join(theirs))
    assert (len(theirs), len(ours)) == writes
    if parts and request is GET:
        assert ours[0].startswith(b"HTTP/1.1 ") and parts[0] in ours[0]  # head and first part together


def test_every_worker_builds_the_one_write_response():
    # gunicorn.http.wsgi.create looks the class up when called: rebinding the module's name is enough
    assert wsgi.Response is CONF.OneWriteResponse
    assert isinstance(response(GET)[0], CONF.OneWriteResponse)


def test_a_file_body_goes_through_write_not_sendfile(tmp_path):
    # sendfile() would put the file on the socket before the kept head
    path = tmp_path / "f.json"
    path.write_bytes(b'{"file":1}')
    resp, environ, sock = response(GET, CONF.OneWriteResponse)
    resp.start_response("200 OK", [*JSON, ("Content-Length", "10")])
    with path.open("rb") as f:
        resp.write_file(environ["wsgi.file_wrapper"](f))
    resp.close()
    assert len(sock.writes) == 1 and sock.writes[0].endswith(b'\r\n\r\n{"file":1}')


def whole(data: bytes) -> bool:
    head, separator, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), None)
    return bool(separator) and length is not None and len(body) >= length


def test_the_production_server_answers_in_one_segment(database_url, tmp_path):
    """Through the real command: each /health reply is whole in the first read. With two writes the
    client's read often comes between them (checked: 32 to 150 of the 300 came split with the
    rebinding removed)."""
    from test_production_server import production_server

    split = 0
    with production_server(database_url, tmp_path) as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            for _ in range(300):
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                reply = sock.recv(65536)
                assert reply.startswith(b"HTTP/1.1 200"), reply
                if not whole(reply):
                    split += 1
                    while not whole(reply):  # the rest, so the next request starts in step
                        reply += sock.recv(65536)
    assert split == 0


def test_a_worker_freezes_what_it_built_before_serving():
    """post_worker_init hides the worker's long-lived objects from full collections (gc.freeze)."""
    import gc

    class Worker:  # what post_worker_init reads of gunicorn's worker: its WSGI app
        wsgi = staticmethod(lambda environ, start_response: [])

    gc.unfreeze()
    try:
        worker = Worker()
        CONF.post_worker_init(worker)
        assert gc.get_freeze_count() > 0
        assert isinstance(worker.wsgi, CONF.BodyRequestLimit)
    finally:
        gc.unfreeze()
