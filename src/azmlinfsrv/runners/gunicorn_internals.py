"""Every part of gunicorn that is not its documented API and that we depend on, in one place.

Our worker (worker.py) replaces the sync worker's loop, so it calls what gunicorn's own
workers call (the HTTP parser, ``wsgi.create``, the response's writing) and reads a few
private fields; the reloading arbiter (prefork.py) overrides and calls arbiter methods.
A gunicorn release may change any of these without notice: tests/unit/test_gunicorn_internals.py
exercises each one against the installed gunicorn and fails with a message naming it.
pyproject.toml bounds the versions those tests have passed with.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from gunicorn import http, util
from gunicorn.http import wsgi

NoMoreData = http.errors.NoMoreData  # a client that went away mid-request

# What prefork.ServingArbiter and ReloadingArbiter override or call on gunicorn's Arbiter
# (and the ``sock`` of each listener, gunicorn's socket wrapper).
ARBITER_MEMBERS = (
    "WORKERS",
    "LISTENERS",
    "num_workers",
    "spawn_worker",
    "kill_worker",
    "kill_workers",
    "wakeup",
    "manage_workers",
    "start",
    "stop",
)
# What worker.KeepAliveWorker calls or sets on gunicorn's SyncWorker, beyond a worker's
# documented hooks (stand_in.py reads age and pid in the pre_fork/child_exit hooks).
WORKER_MEMBERS = (
    "PIPE",
    "alive",
    "nr",
    "max_requests",
    "notify",
    "is_parent_alive",
    "handle_error",
    "wsgi",
    "age",
    "pid",
    "handle_exit",
    "tmp",
)
# What the worker calls or sets on gunicorn's http.wsgi.Response.
RESPONSE_MEMBERS = ("status", "headers_sent", "chunked", "sock", "force_close", "should_close", "write", "close")


def hold_heartbeat(tmp: Any, seconds: float) -> None:
    """Date a worker's heartbeat file ``seconds`` ahead. The arbiter kills a worker when
    ``time.monotonic() - tmp.last_update()`` (the file's mtime, which ``WorkerTmp.notify``
    sets to ``time.monotonic()``) passes the timeout; a date ahead keeps it quiet that long."""
    ahead = time.monotonic() + seconds
    os.utime(tmp.fileno(), (ahead, ahead))


def request_parser(cfg: Any, sock: socket.socket, addr: Any) -> Any:
    """The parser of the requests of one connection (an iterator of requests)."""
    return http.RequestParser(cfg, sock, addr)


def create_response(req: Any, sock: socket.socket, addr: Any, listener_name: Any, cfg: Any) -> tuple[Any, Any]:
    """gunicorn's (Response, environ) for a parsed request, as its workers make them."""
    return wsgi.create(req, sock, addr, listener_name, cfg)  # type: ignore[no-any-return]


def pending_bytes(parser: Any) -> int:
    """Bytes the parser has read past the last request: the start of a pipelined next one.
    (The parser's ``unreader.buf``, a BytesIO.)"""
    try:
        return int(parser.unreader.buf.getbuffer().nbytes)
    except AttributeError:
        return 0


def body_consumed(req: Any) -> bool:
    """True when the app read the request body to its end (so the connection is positioned
    at the next request); False when unsure. Only a Content-Length body (``LengthReader``,
    whose ``length`` counts down to 0) with nothing left in the body's buffer counts."""
    body = getattr(req, "body", None)
    reader = getattr(body, "reader", None)
    if type(reader).__name__ != "LengthReader" or getattr(reader, "length", None) != 0:
        return False
    buf = getattr(body, "buf", None)
    try:
        return buf is not None and buf.getbuffer().nbytes == 0
    except (AttributeError, ValueError):
        return False


def hold_headers(resp: Any, sock: socket.socket) -> HeldHeaders:
    """Make ``resp`` send its status line and headers with its first body chunk (gunicorn's
    Response writes through ``resp.sock.sendall``). Flush the result after ``resp.close()``."""
    held = HeldHeaders(sock)
    resp.sock = held
    return held


class HeldHeaders:
    """The socket as the gunicorn response sees it: the first ``sendall`` (the status line
    and headers) is held back and sent together with the next one (the first body chunk),
    one send and one TCP segment instead of two. Anything else flushes first."""

    __slots__ = ("_sock", "_held")

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._held: bytes | None = None

    def sendall(self, data: bytes) -> None:
        if self._held is None:
            self._held = bytes(data)
            return
        held, self._held = self._held, b""
        self._sock.sendall(held + data if held else data)

    def flush(self) -> None:
        held, self._held = self._held, b""
        if held:
            self._sock.sendall(held)

    def __getattr__(self, name: str) -> Any:
        self.flush()
        return getattr(self._sock, name)


def close_socket(sock: socket.socket, graceful: bool) -> None:
    """gunicorn's close; graceful (wait briefly for the client's FIN, so unread request
    bytes do not turn into a reset) where this gunicorn has it (``util.close_graceful``)."""
    if graceful and hasattr(util, "close_graceful"):
        util.close_graceful(sock)
    else:
        util.close(sock)


def install_date_cache() -> None:
    """gunicorn formats the Date header anew for every response; it changes once a second.
    Replaces ``gunicorn.util.http_date`` for the whole (worker) process."""
    if not isinstance(getattr(util.http_date, "__self__", None), _DateCache):
        util.http_date = _DateCache(util.http_date).http_date


class _DateCache:
    __slots__ = ("_format", "_second", "_text")

    def __init__(self, format_date: Any) -> None:
        self._format = format_date
        self._second: int | None = None
        self._text = ""

    def http_date(self, timestamp: float | None = None) -> str:
        if timestamp is not None:
            return str(self._format(timestamp))
        now = int(time.time())
        if self._second != now:
            self._second, self._text = now, str(self._format(now))
        return self._text
