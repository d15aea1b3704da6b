"""The gunicorn internals we depend on (runners/gunicorn_internals.py), exercised against the
installed gunicorn. A failure here means a gunicorn release changed one of them: adapt
gunicorn_internals.py (and bound the version in pyproject.toml) before anything else."""

from __future__ import annotations

import inspect
import os
import signal
import socket
import time
from collections.abc import Iterator

import gunicorn
import pytest
from gunicorn import glogging, util
from gunicorn.arbiter import Arbiter
from gunicorn.config import Config
from gunicorn.workers.sync import SyncWorker

from azmlinfsrv.runners import gunicorn_internals as internals

PIPELINED = b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
CHUNKED = b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"


def changed(what: str) -> str:
    return f"gunicorn {gunicorn.__version__} changed {what}: see runners/gunicorn_internals.py"


@pytest.fixture
def connection() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, client = socket.socketpair()
    try:
        yield ours, client
    finally:
        ours.close()
        client.close()


def parser_over(sock: socket.socket, client: socket.socket, data: bytes):
    client.sendall(data)
    return internals.request_parser(Config(), sock, ("127.0.0.1", 1))


def test_the_parser_keeps_a_pipelined_request_in_its_buffer(connection):
    parser = parser_over(*connection, PIPELINED)
    first = next(parser)
    assert first.path == "/a", changed("http.RequestParser")
    assert first.body.read() == b"abc"
    assert internals.pending_bytes(parser) > 0, changed("the parser's unreader.buf")
    second = next(parser)
    assert second.path == "/b"
    assert internals.pending_bytes(parser) == 0


def test_body_consumed_tells_a_read_length_body_from_an_unread_one(connection):
    parser = parser_over(*connection, PIPELINED)
    req = next(parser)
    assert not internals.body_consumed(req)
    req.body.read()
    assert internals.body_consumed(req), changed("the request body's LengthReader (reader.length, body.buf)")


def test_body_consumed_is_false_for_a_chunked_body(connection):
    req = next(parser_over(*connection, CHUNKED))
    assert req.body.read() == b"abc"
    assert type(req.body.reader).__name__ == "ChunkedReader", changed("the chunked body reader")
    assert not internals.body_consumed(req)


class Spy:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def sendall(self, data: bytes) -> None:
        self.sent.append(bytes(data))


def test_a_response_writes_through_its_sock_and_held_headers_go_with_the_body(connection):
    ours, client = connection
    req = next(parser_over(ours, client, PIPELINED))
    req.body.read()
    resp, environ = internals.create_response(req, ours, ("127.0.0.1", 1), ("127.0.0.1", 5001), Config())
    assert environ["PATH_INFO"] == "/a", changed("http.wsgi.create")
    for member in internals.RESPONSE_MEMBERS:
        assert hasattr(resp, member), changed(f"Response.{member}")
    resp.start_response("200 OK", [("Content-Length", "2")])
    assert resp.status is not None and not resp.headers_sent and not resp.chunked
    spy = Spy()
    held = internals.hold_headers(resp, spy)  # type: ignore[arg-type]
    resp.write(b"ok")
    resp.close()
    held.flush()
    assert len(spy.sent) == 1, changed("how Response writes (through sock.sendall)")
    assert spy.sent[0].startswith(b"HTTP/1.1 200 OK\r\n") and spy.sent[0].endswith(b"\r\n\r\nok")
    assert resp.headers_sent and not resp.should_close()
    resp.force_close()
    assert resp.should_close()


def test_the_date_cache_replaces_http_date_once(monkeypatch):
    monkeypatch.setattr(util, "http_date", util.http_date)  # restored after the test
    original = util.http_date
    internals.install_date_cache()
    cached = util.http_date
    assert cached is not original
    assert cached() == original()
    assert cached(0) == original(0) == "Thu, 01 Jan 1970 00:00:00 GMT"
    internals.install_date_cache()
    assert util.http_date == cached  # not wrapped twice
    from gunicorn.http import wsgi

    assert "http_date" in wsgi.Response.default_headers.__code__.co_names, changed("where the Date header comes from")


@pytest.mark.parametrize("graceful", [False, True])
def test_close_socket(connection, graceful):
    ours, client = connection
    internals.close_socket(ours, graceful)
    assert ours.fileno() == -1
    assert client.recv(1) == b""


def test_the_arbiter_members_we_use():
    for member in internals.ARBITER_MEMBERS:
        assert hasattr(Arbiter, member), changed(f"Arbiter.{member}")
    assert isinstance(Arbiter.WORKERS, dict), changed("Arbiter.WORKERS")
    assert Arbiter.SIG_NAMES.get(signal.SIGHUP) == "hup", changed("Arbiter.SIG_NAMES")


def test_the_worker_members_we_use(tmp_path):
    cfg = Config()
    worker = SyncWorker(1, os.getppid(), [], None, 30, cfg, glogging.Logger(cfg))
    try:
        made_in_the_fork = inspect.getsource(SyncWorker.init_process) + inspect.getsource(SyncWorker.load_wsgi)
        for member in internals.WORKER_MEMBERS:
            if member in ("PIPE", "wsgi"):  # made by init_process, in the forked worker
                assert f"self.{member} =" in made_in_the_fork, changed(f"SyncWorker.{member}")
            else:
                assert hasattr(worker, member), changed(f"SyncWorker.{member}")
    finally:
        worker.tmp.close()


def test_a_held_heartbeat_keeps_the_arbiters_timeout_quiet():
    """hold_heartbeat dates WorkerTmp ahead on the clock the arbiter's murder_workers reads."""
    cfg = Config()
    worker = SyncWorker(1, os.getppid(), [], None, 30, cfg, glogging.Logger(cfg))
    try:
        assert "time.monotonic() - worker.tmp.last_update()" in inspect.getsource(Arbiter.murder_workers), changed(
            "Arbiter.murder_workers' timeout check"
        )
        worker.tmp.notify()
        assert abs(time.monotonic() - worker.tmp.last_update()) < 5, changed("WorkerTmp's clock")
        internals.hold_heartbeat(worker.tmp, 3600)
        assert time.monotonic() - worker.tmp.last_update() < -3500
        worker.tmp.notify()  # a detached debugger: the real heartbeat again
        assert abs(time.monotonic() - worker.tmp.last_update()) < 5
    finally:
        worker.tmp.close()


def test_the_logger_members_we_use():
    log = glogging.Logger(Config())
    assert hasattr(log, "error_log") and hasattr(log, "access_log"), changed("glogging.Logger's loggers")
