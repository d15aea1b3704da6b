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
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gunicorn.workers.sync import SyncWorker

from .. import attach_channel, debugging, readiness
from ..settings import DEFAULT_SCORING_TIMEOUT_MS
from . import gunicorn_internals as internals
from .stand_in import WorkerSide

_PIPE = object()  # selector data of the worker's wake-up pipe
_NOTIFY_INTERVAL_MAX = 1.0  # seconds between heartbeats to the arbiter, at most
_FRESH_SECONDS = 0.05  # how long an accepted connection without a request keeps us from accepting
_SWEEP_SECONDS = 0.5  # between checks for idle connections and for the arbiter being gone


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
        self.registered = False  # in the poller; a connection served at once never is

    def buffered(self) -> bool:
        """Whether the parser already holds bytes of a next (pipelined) request."""
        return internals.pending_bytes(self.parser) > 0


class _Connections:
    """The worker's open connections, its listeners, and the poller that tells which is ready.

    A connection accepted before its request arrived is "fresh" for a moment: while any is,
    the listeners are not polled (see ``listen``)."""

    def __init__(self, listeners: list[Any], shutdown_on_close: bool) -> None:
        self.poller = _Poller()
        self.listeners = listeners
        self.listener_names = {listener: listener.getsockname() for listener in listeners}
        self.open: dict[int, _Connection] = {}  # by file descriptor
        self.fresh: dict[_Connection, float] = {}  # -> until when it counts as fresh
        self.listening = False
        self.shutdown_on_close = shutdown_on_close

    def listen(self, on: bool) -> None:
        """Poll the listeners or not. A worker that has just accepted a connection whose
        request has not arrived yet leaves the next connections to the other workers for a
        moment: clients that open several connections at once (a load balancer, a pool)
        get them spread over the workers rather than all on the first that woke."""
        if on == self.listening:
            return
        for listener in self.listeners:
            if on:
                self.poller.register(listener, listener, exclusive=True)
            else:
                self.poller.unregister(listener)
        self.listening = on

    def drop_listeners(self) -> None:
        """Listen no more (the listening sockets were shut down)."""
        self.listen(False)
        self.listeners = []

    def add(self, conn: _Connection) -> None:
        self.open[conn.sock.fileno()] = conn

    def await_first_request(self, conn: _Connection) -> None:
        self.wait_for(conn)
        self.fresh[conn] = time.monotonic() + _FRESH_SECONDS
        self.listen(False)

    def expire_fresh(self, now: float) -> None:
        for conn, until in list(self.fresh.items()):
            if until <= now:
                del self.fresh[conn]
        if not self.fresh:
            self.listen(True)

    def wait_for(self, conn: _Connection) -> None:
        if not conn.registered:
            self.poller.register(conn.sock, conn)
            conn.registered = True

    def close(self, conn: _Connection, graceful: bool = False) -> None:
        self.fresh.pop(conn, None)
        if self.open.pop(conn.sock.fileno(), None) is None:
            return
        if conn.registered:
            try:
                self.poller.unregister(conn.sock)
            except (KeyError, ValueError, OSError):
                pass
        if self.shutdown_on_close:
            # The arbiter holds a copy of the socket (runners/stand_in.py): the client must
            # see the close now, not when that copy goes.
            try:
                conn.sock.shutdown(socket.SHUT_RDWR if not graceful else socket.SHUT_WR)
            except OSError:
                pass
        internals.close_socket(conn.sock, graceful)

    def close_idle(self, now: float, keepalive: float) -> None:
        limit = now - keepalive
        for conn in list(self.open.values()):
            if conn.idle_since < limit:
                self.close(conn)

    def close_all(self) -> None:
        for conn in list(self.open.values()):
            self.close(conn)
        self.poller.close()


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


@dataclass(frozen=True)
class _Limits:
    keepalive: float  # seconds an idle connection stays open; 0 closes after each response
    max_connections: int  # beyond this many open connections, each response closes its own
    scoring_timeout_ms: int  # for the arbiter's answer to a request whose worker hung
    notify_interval: float  # seconds between heartbeats to the arbiter


class KeepAliveWorker(SyncWorker):  # type: ignore[misc]
    """gunicorn's sync worker, with HTTP/1.1 keep-alive (see the module's docstring)."""

    def init_process(self) -> None:
        internals.install_date_cache()
        attach_channel.open_channel()  # before score.py loads: a long init() can be attached to
        super().init_process()

    def handle_quit(self, sig: int, frame: Any) -> None:
        """SIGQUIT/SIGINT. While score.py is still loading (a reload generation made stale by a
        newer save, or Ctrl+C during init()), leave at once: gunicorn's own handler raises
        SystemExit inside init(), which would be reported as init() failing."""
        if not self.booted:
            os._exit(0)
        super().handle_quit(sig, frame)

    def notify(self) -> None:
        """The heartbeat the arbiter's worker timeout watches. While a debugger is attached
        it is dated ahead, so a worker paused at a breakpoint is not killed as hung."""
        if debugging.attached():
            internals.hold_heartbeat(self.tmp, debugging.HOLD_SECONDS)
        else:
            super().notify()

    def handle_exit(self, sig: int, frame: Any) -> None:
        """SIGTERM: finish what has arrived, answer GET /readyz with 503 meanwhile."""
        readiness.start_draining()
        super().handle_exit(sig, frame)

    def run(self) -> None:
        if self.cfg.is_ssl:
            super().run()
            return
        self._prepare()
        ready: deque[_Connection] = deque()
        try:
            while self.alive:
                if not self._keep_in_touch(time.monotonic()):
                    return  # the arbiter is gone
                try:
                    events = self._conns.poller.select(self._poll_timeout(ready))
                except InterruptedError:
                    continue
                self._take(events, ready)
                self._serve_ready(ready)
                if self._conns.fresh or not self._conns.listening:
                    self._conns.expire_fresh(time.monotonic())
            self._serve_arrived()
        finally:
            self._conns.close_all()

    def _prepare(self) -> None:
        for listener in self.sockets:
            listener.setblocking(False)
        self._reporting = WorkerSide.active()  # the arbiter answers for us if we die in run()
        self._conns = _Connections(self.sockets, shutdown_on_close=self._reporting)
        self._conns.listen(True)
        self._conns.poller.register(self.PIPE[0], _PIPE)
        self._http_cfg = _SettledConfig(self.cfg)
        settings = getattr(getattr(self.app, "options", None), "settings", None)
        self._limits = _Limits(
            keepalive=float(self.cfg.keepalive or 0),
            max_connections=max(int(self.cfg.worker_connections or 1), 1),
            scoring_timeout_ms=getattr(settings, "scoring_timeout_ms", DEFAULT_SCORING_TIMEOUT_MS),
            notify_interval=min(_NOTIFY_INTERVAL_MAX, (self.timeout or 1) / 20),
        )
        self._next_notify = self._next_sweep = 0.0
        if self._reporting:
            WorkerSide.ready()  # the app (init()) is loaded: this worker counts for GET /readyz

    # ------------------------------------------------------------ the loop's steps

    def _keep_in_touch(self, now: float) -> bool:
        """Heartbeat to the arbiter; now and then, close idle connections. False when the
        arbiter is gone."""
        if now >= self._next_notify:
            self.notify()
            self._next_notify = now + self._limits.notify_interval
        if now >= self._next_sweep:
            if not self.is_parent_alive():
                return False
            self._conns.close_idle(now, self._limits.keepalive)
            self._next_sweep = now + _SWEEP_SECONDS
        return True

    def _poll_timeout(self, ready: deque[_Connection]) -> float:
        if ready:
            return 0
        return _FRESH_SECONDS if self._conns.fresh else min(self._limits.notify_interval, _SWEEP_SECONDS)

    def _take(self, events: list[Any], ready: deque[_Connection]) -> None:
        """Ready connections join ``ready``; a ready listener is accepted from."""
        for data in events:
            if isinstance(data, _Connection):
                if data not in ready:
                    ready.append(data)
            elif data is _PIPE:
                try:
                    os.read(self.PIPE[0], 4096)
                except OSError:
                    pass
            else:
                self._accept(data, ready)

    def _serve_ready(self, ready: deque[_Connection]) -> None:
        """One request per ready connection, in turn (once the worker is told to stop, those
        requests are still answered, with Connection: close)."""
        for _ in range(len(ready)):
            conn = ready.popleft()
            self._conns.fresh.pop(conn, None)
            if self._serve(conn):
                if conn.buffered():
                    ready.append(conn)
                else:
                    self._conns.wait_for(conn)

    def _serve_arrived(self) -> None:
        """Stopping: a request that has already arrived on an idle connection is answered
        (closing), rather than dropped with the connection."""
        for data in self._conns.poller.select(0):
            if isinstance(data, _Connection):
                self._serve(data)

    def _accept(self, listener: socket.socket, ready: deque[_Connection]) -> None:
        try:
            client, addr = listener.accept()
        except OSError as ex:
            if ex.errno in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                return
            if ex.errno == errno.EINVAL:
                self._conns.drop_listeners()  # the arbiter shut the listeners down: the server stops
                return
            raise
        # Python's accepted sockets are already close-on-exec, and blocking unless a
        # default timeout was set (by user code, say).
        if client.gettimeout() is not None:
            client.setblocking(True)
        parser = internals.request_parser(self._http_cfg, client, addr)
        conn = _Connection(client, addr, self._conns.listener_names[listener], parser)
        self._conns.add(conn)
        if self._reporting:
            WorkerSide.connection_opened(client)
        try:
            client.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            self._conns.await_first_request(conn)  # no request yet: the poller tells when there is
            return
        except OSError:
            pass
        ready.append(conn)  # a request (or EOF, or an error) to handle now

    # ------------------------------------------------------------ requests

    def _serve(self, conn: _Connection) -> bool:
        """Serve one request of ``conn``; whether the connection stays open."""
        req = None
        try:
            req = next(conn.parser)
            if not req:
                self._conns.close(conn)
                return False
            keep = self._handle(conn, req)
        except internals.NoMoreData as ex:
            self.log.debug("Ignored premature client disconnection. %s", ex)
            keep = False
        except StopIteration as ex:
            self.log.debug("Closing connection. %s", ex)
            keep = False
        except ssl.SSLError as ex:
            self.handle_error(req, conn.sock, conn.addr, ex)
            keep = False
        except OSError as ex:
            if ex.errno not in (errno.EPIPE, errno.ECONNRESET, errno.ENOTCONN):
                self.log.exception("Socket error processing request.")
            keep = False
        except BaseException as ex:
            self.handle_error(req, conn.sock, conn.addr, ex)
            keep = False
        if keep:
            conn.idle_since = time.monotonic()
            return True
        consumed = req is not None and internals.body_consumed(req) and not conn.buffered()
        self._conns.close(conn, graceful=not consumed)
        return False

    def _handle(self, conn: _Connection, req: Any) -> bool:
        """Run the app for ``req`` and write its response; whether to keep the connection."""
        environ: dict[str, Any] = {}
        resp = None
        try:
            self._http_cfg.pre_request(self, req)
            request_start = datetime.now()
            resp, environ = internals.create_response(req, conn.sock, conn.addr, conn.listener_name, self._http_cfg)
            self._before_app(resp)
            respiter = self.wsgi(environ, resp.start_response)
            if self._reporting:
                WorkerSide.response_started()  # past this point a crash cannot be answered cleanly
            try:
                self._write(conn, req, resp, environ, respiter)
            finally:
                self.log.access(resp, req, environ, datetime.now() - request_start)
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
            self._after_request(req, environ, resp)

    def _before_app(self, resp: Any) -> None:
        self.nr += 1
        if self.nr >= self.max_requests:
            self.log.info("Autorestarting worker after current request.")
            self.alive = False
        if not self._limits.keepalive or len(self._conns.open) > self._limits.max_connections:
            resp.force_close()
        if self._reporting:
            # A debugger attached: run() may pause at a breakpoint; the arbiter must not kill it.
            hold = debugging.attached()
            WorkerSide.request_started(debugging.HOLD_SECONDS * 1000 if hold else self._limits.scoring_timeout_ms)

    def _write(self, conn: _Connection, req: Any, resp: Any, environ: dict[str, Any], respiter: Any) -> None:
        if not self.alive or not internals.body_consumed(req):
            resp.force_close()
        held = None
        if resp.status is not None and not resp.headers_sent and not resp.chunked:
            # a body of known length: status line and headers go with it (a streamed body
            # keeps sending its headers as soon as it starts)
            held = internals.hold_headers(resp, conn.sock)
        if isinstance(respiter, environ["wsgi.file_wrapper"]):
            resp.write_file(respiter)
        else:
            for item in respiter:
                resp.write(item)
        resp.close()
        if held is not None:
            held.flush()

    def _after_request(self, req: Any, environ: dict[str, Any], resp: Any) -> None:
        if self._reporting:
            WorkerSide.request_finished()
        try:
            self._http_cfg.post_request(self, req, environ, resp)
        except Exception:
            self.log.exception("Exception in post_request hook")
