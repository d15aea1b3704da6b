"""A gunicorn worker that keeps HTTP/1.1 connections alive, while still running the app
one request at a time, in the worker's main thread.

The sync worker that the reference uses closes every connection after one response, so a
client pays a TCP handshake (and the worker an accept and a graceful close) per request.
This worker keeps the contract's concurrency — one run() at a time per worker, in the main
thread so that the SIGALRM scoring deadline works — and serves any number of idle
keep-alive connections from one selector:

- a listener that is readable is accepted from; a new connection whose request is already
  there is served at once, otherwise it waits in the selector like an idle one;
- a readable connection gets exactly one request served, then goes back to the selector
  (connections take turns, none can monopolise the worker);
- a connection idle for ``keepalive`` seconds (gunicorn's setting, default 2) is closed;
  so is one whose request body the app did not read to the end, and every connection once
  the worker stops (on SIGTERM, requests that have already arrived are answered first,
  with ``Connection: close``);
- the status line and headers go out in the same send as the first body chunk.

TLS (never configured by azmlinfsrv) falls back to the sync worker's loop.
"""

from __future__ import annotations

import errno
import os
import select
import selectors
import socket
import ssl
import time
from collections import deque
from datetime import datetime
from typing import Any

from gunicorn import http, util
from gunicorn.http import wsgi
from gunicorn.workers.sync import SyncWorker

from ..settings import DEFAULT_SCORING_TIMEOUT_MS
from .guard import WorkerSide

_PIPE = object()  # selector data of the worker's wake-up pipe
_NOTIFY_INTERVAL_MAX = 1.0  # seconds between heartbeats to the arbiter, at most
_FRESH_SECONDS = 0.05  # how long an accepted connection without a request keeps us from accepting


class _Poller:
    """Readiness of the listeners, the wake-up pipe and idle connections; ``select``
    returns the data registered with each ready file.

    On Linux the listeners are registered with EPOLLEXCLUSIVE: a new connection wakes one
    worker that is waiting, not all of them, and not one that is busy serving. So workers
    do not all race for every connection (which costs a sync-like server its scaling), and
    a burst of keep-alive connections spreads over the idle workers instead of landing on
    whichever woke first. Elsewhere: the selectors module, without that refinement.
    """

    def __init__(self) -> None:
        self._epoll = select.epoll() if hasattr(select, "epoll") and hasattr(select, "EPOLLEXCLUSIVE") else None
        self._selector = selectors.DefaultSelector() if self._epoll is None else None
        self._data: dict[int, Any] = {}

    def register(self, fileobj: Any, data: Any, exclusive: bool = False) -> None:
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        if self._epoll is not None:
            self._epoll.register(fd, select.EPOLLIN | (select.EPOLLEXCLUSIVE if exclusive else 0))
        else:
            assert self._selector is not None
            self._selector.register(fd, selectors.EVENT_READ)
        self._data[fd] = data

    def unregister(self, fileobj: Any) -> None:
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        if self._data.pop(fd, None) is None:
            return
        if self._epoll is not None:
            self._epoll.unregister(fd)
        else:
            assert self._selector is not None
            self._selector.unregister(fd)

    def select(self, timeout: float) -> list[Any]:
        if self._epoll is not None:
            ready = [fd for fd, _ in self._epoll.poll(timeout, max(len(self._data), 1))]
        else:
            assert self._selector is not None
            ready = [key.fd for key, _ in self._selector.select(timeout)]
        return [self._data[fd] for fd in ready if fd in self._data]

    def close(self) -> None:
        if self._epoll is not None:
            self._epoll.close()
        if self._selector is not None:
            self._selector.close()


class _Connection:
    __slots__ = ("sock", "addr", "listener_name", "parser", "idle_since", "registered")

    def __init__(self, sock: socket.socket, addr: Any, listener_name: Any, parser: Any) -> None:
        self.sock = sock
        self.addr = addr
        self.listener_name = listener_name
        self.parser = parser
        self.idle_since = time.monotonic()
        self.registered = False  # in the selector; a connection served at once never is

    def buffered(self) -> bool:
        """Whether the parser already holds bytes of a next (pipelined) request."""
        try:
            return bool(self.parser.unreader.buf.getbuffer().nbytes)
        except AttributeError:
            return False


class _HeldHeaders:
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


class _SettledConfig:
    """gunicorn's config as the HTTP parser and response read it, 15-20 times a request: each
    read of the real one looks a setting up and validates nothing new, since a worker's
    settings never change (a reload forks new workers). Values are kept after the first read."""

    def __init__(self, cfg: Any) -> None:
        self._cfg = cfg

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._cfg, name)
        setattr(self, name, value)
        return value


def _body_consumed(req: Any) -> bool:
    """True when the app read the request body to its end (so the connection is positioned
    at the next request); False when unsure."""
    body = getattr(req, "body", None)
    reader = getattr(body, "reader", None)
    if type(reader).__name__ != "LengthReader" or getattr(reader, "length", None) != 0:
        return False
    buf = getattr(body, "buf", None)
    try:
        return buf is not None and buf.getbuffer().nbytes == 0
    except (AttributeError, ValueError):
        return False


def _install_date_cache() -> None:
    """gunicorn formats the Date header anew for every response; it changes once a second."""
    original = util.http_date
    cache: list[Any] = [None, ""]

    def http_date(timestamp: float | None = None) -> str:
        if timestamp is not None:
            return str(original(timestamp))
        now = int(time.time())
        if cache[0] != now:
            cache[0], cache[1] = now, original(now)
        return str(cache[1])

    util.http_date = http_date


class KeepAliveWorker(SyncWorker):  # type: ignore[misc]
    """gunicorn's sync worker, with HTTP/1.1 keep-alive (see the module's docstring)."""

    def init_process(self) -> None:
        _install_date_cache()
        super().init_process()

    def run(self) -> None:
        if self.cfg.is_ssl:
            super().run()
            return
        for listener in self.sockets:
            listener.setblocking(False)
        self._connections: dict[int, _Connection] = {}
        self._listener_names = {listener: listener.getsockname() for listener in self.sockets}
        self._poller = _Poller()
        self._listening = False
        self._fresh: dict[_Connection, float] = {}  # accepted, no request yet -> until when it counts
        self._listen(True)
        self._poller.register(self.PIPE[0], _PIPE)
        self._http_cfg = _SettledConfig(self.cfg)
        self._keepalive = float(self.cfg.keepalive or 0)
        self._max_connections = max(int(self.cfg.worker_connections or 1), 1)
        settings = getattr(getattr(self.app, "options", None), "settings", None)
        self._scoring_timeout_ms = getattr(settings, "scoring_timeout_ms", DEFAULT_SCORING_TIMEOUT_MS)
        self._guarded = WorkerSide.active()
        interval = min(_NOTIFY_INTERVAL_MAX, (self.timeout or 1) / 20)
        ready: deque[_Connection] = deque()
        next_notify = next_sweep = 0.0
        try:
            while self.alive:
                now = time.monotonic()
                if now >= next_notify:
                    self.notify()
                    next_notify = now + interval
                if now >= next_sweep:
                    if not self.is_parent_alive():
                        return
                    self._close_idle(now)
                    next_sweep = now + 0.5
                try:
                    timeout = 0 if ready else _FRESH_SECONDS if self._fresh else min(interval, 0.5)
                    events = self._poller.select(timeout)
                except InterruptedError:
                    continue
                for data in events:
                    if isinstance(data, _Connection):
                        if data not in ready:
                            ready.append(data)
                    elif data is _PIPE:
                        try:
                            os.read(self.PIPE[0], 4096)
                        except OSError:
                            pass
                    else:  # a listener
                        self._accept(data, ready)
                # one request per ready connection, in turn (once the worker is told to
                # stop, those requests are still answered, with Connection: close)
                for _ in range(len(ready)):
                    conn = ready.popleft()
                    self._fresh.pop(conn, None)
                    if self._serve(conn):
                        if conn.buffered():
                            ready.append(conn)
                        else:
                            self._wait_for(conn)
                if self._fresh or not self._listening:
                    self._unfresh(time.monotonic())
            # Stopping: a request that has already arrived on an idle connection is answered
            # (closing), rather than dropped with the connection.
            for data in self._poller.select(0):
                if isinstance(data, _Connection):
                    self._serve(data)
        finally:
            for conn in list(self._connections.values()):
                self._close(conn)
            self._poller.close()

    # ------------------------------------------------------------ connections

    def _accept(self, listener: socket.socket, ready: deque[_Connection]) -> None:
        try:
            client, addr = listener.accept()
        except OSError as ex:
            if ex.errno in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                return
            raise
        # Python's accepted sockets are already close-on-exec, and blocking unless a
        # default timeout was set (by user code, say).
        if client.gettimeout() is not None:
            client.setblocking(True)
        conn = _Connection(
            client, addr, self._listener_names[listener], http.RequestParser(self._http_cfg, client, addr)
        )
        self._connections[client.fileno()] = conn
        if self._guarded:
            WorkerSide.connection_opened(client)
        try:
            client.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            self._wait_for(conn)  # no request yet: the selector tells when there is
            self._fresh[conn] = time.monotonic() + _FRESH_SECONDS
            self._listen(False)
            return
        except OSError:
            pass
        ready.append(conn)  # a request (or EOF, or an error) to handle now

    def _listen(self, on: bool) -> None:
        """Poll the listeners or not. A worker that has just accepted a connection whose
        request has not arrived yet leaves the next connections to the other workers for a
        moment: clients that open several connections at once (a load balancer, a pool)
        get them spread over the workers rather than all on the first that woke."""
        if on == self._listening:
            return
        for listener in self.sockets:
            if on:
                self._poller.register(listener, listener, exclusive=True)
            else:
                self._poller.unregister(listener)
        self._listening = on

    def _unfresh(self, now: float) -> None:
        for conn, until in list(self._fresh.items()):
            if until <= now:
                del self._fresh[conn]
        if not self._fresh:
            self._listen(True)

    def _wait_for(self, conn: _Connection) -> None:
        if not conn.registered:
            self._poller.register(conn.sock, conn)
            conn.registered = True

    def _close(self, conn: _Connection, graceful: bool = False) -> None:
        self._fresh.pop(conn, None)
        if self._connections.pop(conn.sock.fileno(), None) is None:
            return
        if conn.registered:
            try:
                self._poller.unregister(conn.sock)
            except (KeyError, ValueError, OSError):
                pass
        if self._guarded:
            # The arbiter holds a copy of the socket (runners/guard.py): the client must
            # see the close now, not when that copy goes.
            try:
                conn.sock.shutdown(socket.SHUT_RDWR if not graceful else socket.SHUT_WR)
            except OSError:
                pass
        if graceful and hasattr(util, "close_graceful"):
            util.close_graceful(conn.sock)
        else:
            util.close(conn.sock)

    def _close_idle(self, now: float) -> None:
        if not self._connections:
            return
        limit = now - self._keepalive
        for conn in list(self._connections.values()):
            if conn.idle_since < limit:
                self._close(conn)

    # ------------------------------------------------------------ requests

    def _serve(self, conn: _Connection) -> bool:
        """Serve one request of ``conn``; whether the connection stays open."""
        req = None
        client = conn.sock
        try:
            req = next(conn.parser)
            if not req:
                self._close(conn)
                return False
            keep = self._handle(conn, req)
        except http.errors.NoMoreData as ex:
            self.log.debug("Ignored premature client disconnection. %s", ex)
            keep = False
        except StopIteration as ex:
            self.log.debug("Closing connection. %s", ex)
            keep = False
        except ssl.SSLError as ex:
            self.handle_error(req, client, conn.addr, ex)
            keep = False
        except OSError as ex:
            if ex.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                self.log.exception("Socket error processing request.")
            keep = False
        except BaseException as ex:
            self.handle_error(req, client, conn.addr, ex)
            keep = False
        if keep:
            conn.idle_since = time.monotonic()
            return True
        self._close(conn, graceful=not (req is not None and _body_consumed(req) and not conn.buffered()))
        return False

    def _handle(self, conn: _Connection, req: Any) -> bool:
        """Run the app for ``req`` and write its response; whether to keep the connection."""
        environ: dict[str, Any] = {}
        resp = None
        try:
            self._http_cfg.pre_request(self, req)
            request_start = datetime.now()
            resp, environ = wsgi.create(req, conn.sock, conn.addr, conn.listener_name, self._http_cfg)
            self.nr += 1
            if self.nr >= self.max_requests:
                self.log.info("Autorestarting worker after current request.")
                self.alive = False
            if not self._keepalive or len(self._connections) > self._max_connections:
                resp.force_close()
            if self._guarded:
                WorkerSide.request_started(self._scoring_timeout_ms)
            respiter = self.wsgi(environ, resp.start_response)
            if self._guarded:
                WorkerSide.response_started()  # past this point a crash cannot be answered cleanly
            held = None
            try:
                if not self.alive or not _body_consumed(req):
                    resp.force_close()
                if resp.status is not None and not resp.headers_sent and not resp.chunked:
                    # a body of known length: status line and headers go with it (a
                    # streamed body keeps sending its headers as soon as it starts)
                    resp.sock = held = _HeldHeaders(conn.sock)
                if isinstance(respiter, environ["wsgi.file_wrapper"]):
                    resp.write_file(respiter)
                else:
                    for item in respiter:
                        resp.write(item)
                resp.close()
                if held is not None:
                    held.flush()
            finally:
                request_time = datetime.now() - request_start
                self.log.access(resp, req, environ, request_time)
                if hasattr(respiter, "close"):
                    respiter.close()
            return not resp.should_close()
        except OSError:
            raise
        except (Exception, SystemExit):
            if resp is not None and resp.headers_sent:
                # The response has begun: a 500 now would corrupt it. Close the connection.
                self.log.exception("Error handling request")
                raise StopIteration() from None
            raise
        finally:
            if self._guarded:
                WorkerSide.request_finished()
            try:
                self._http_cfg.post_request(self, req, environ, resp)
            except Exception:
                self.log.exception("Exception in post_request hook")
