"""Serving with gunicorn's pre-fork model (POSIX): an arbiter forks ``workers`` sync workers, each of which
loads score.py and calls init() itself, as the reference does.

With ``--reload`` our arbiter replaces workers in generations: on a code change it forks
a full new generation beside the old one, and retires the old workers only once every
new one has reported ready. If a new worker fails to import or init, the new generation
is dropped and the old workers keep serving.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
from typing import Any

from gunicorn import glogging
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.errors import HaltServer

from .. import events, logs, readiness
from ..app import EXIT_STARTUP_FAILURE, StartupFailure, create_app
from ..code_watch import Watcher, watch_roots
from ..telemetry.metrics import arbiter_metrics
from . import DRAIN_SECONDS, RunOptions
from .stand_in import StandIn

logger = logging.getLogger("azmlinfsrv")

# A worker of a reload generation that failed to start exits with this code, which
# (unlike 3) does not make gunicorn halt the whole server.
EXIT_RELOAD_FAILED = 13


class ServerLogger(glogging.Logger):  # type: ignore[misc]
    """gunicorn's own messages in our line format on stderr; no gunicorn access log
    (the app logs each request itself)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        if "gunicorn.error" in logs.configured_loggers:
            # The user's logging.json (e.g. the reference's own) set it up: keep only its handlers.
            self.error_log.handlers = [h for h in self.error_log.handlers if not getattr(h, "_gunicorn", False)]
        else:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(logs.AMLLogFormatter())
            self.error_log.handlers = [handler]
        self.error_log.propagate = False
        self.access_log.handlers = []
        self.access_log.propagate = False


class _ReadyPipe:
    """Workers tell the arbiter ``ready <pid>`` / ``failed <pid>`` through an inherited pipe."""

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()

    def tell(self, word: str) -> None:
        os.write(self.write_fd, f"{word} {os.getpid()}\n".encode())


class ServingArbiter(Arbiter):  # type: ignore[misc]
    """gunicorn's arbiter; a graceful stop (SIGTERM) also turns readiness false and refuses
    new connections at once. Closing the listening sockets in the arbiter, as gunicorn does,
    is not enough: each worker holds a copy until it exits, and the kernel would keep queueing
    connections there that no worker accepts any more. A shutdown of the listening socket ends
    it for every process, while the connections already accepted are served to the end."""

    def stop(self, graceful: bool = True) -> None:
        self.app.stand_in.stopping()
        if graceful:
            for listener in self.LISTENERS:
                try:
                    listener.sock.shutdown(socket.SHUT_RD)
                except OSError:
                    pass  # not a listening socket this platform can shut down: closed below
        try:
            super().stop(graceful)
        except HaltServer:
            # Another worker failed to boot while we stop (score.py fails in every worker):
            # gunicorn's reap raises that again, which would end the server with exit code 1
            # instead of the contract's 3. Stopping already: end the rest now.
            self.kill_workers(signal.SIGKILL)


class ReloadingArbiter(ServingArbiter):
    """gunicorn's arbiter, with workers replaced in generations on code changes."""

    def __init__(self, app: Any, roots: list[str], pipe: _ReadyPipe) -> None:
        super().__init__(app)
        self._roots = roots
        self._pipe = pipe
        self._lock = threading.Lock()
        self._reports: list[tuple[str, int]] = []  # filled by the pipe reader thread
        self._change_pending = True  # the first generation starts like a reload
        self._generation: set[int] | None = None  # pids of the generation being started
        self._generation_ready: set[int] = set()
        self._retiring: set[int] = set()  # workers we asked to stop
        self._superseded: set[int] = set()  # workers of a generation a newer change made stale
        self._generations = 0  # generations spawned so far; the first is the start, later ones reloads
        self._serving = False  # whether some generation started fine
        self._waiting = False  # the code on disk fails: spawn nothing until it changes

    def start(self) -> None:
        super().start()
        threading.Thread(target=self._read_pipe, name="azmlinfsrv-ready", daemon=True).start()
        Watcher(self._roots, self._on_change).start()
        logger.info(f"Reloading on changes to Python files under: {', '.join(self._roots)}")

    def _read_pipe(self) -> None:
        buffer = b""
        while True:
            chunk = os.read(self._pipe.read_fd, 4096)
            if not chunk:
                return
            *lines, buffer = (buffer + chunk).split(b"\n")
            with self._lock:
                for line in lines:
                    word, _, pid = line.decode().partition(" ")
                    self._reports.append((word, int(pid)))
            self.wakeup()

    def _on_change(self, paths: list[str]) -> None:
        logger.info(f"Detected changes in {', '.join(paths)}; reloading")
        with self._lock:
            self._change_pending = True
        self.wakeup()

    def _retire(self, pids: set[int]) -> None:
        for pid in pids:
            self.kill_worker(pid, signal.SIGTERM)
        self._retiring |= pids

    def manage_workers(self) -> None:
        with self._lock:
            reports, self._reports = self._reports, []
            change, self._change_pending = self._change_pending, False
        self._retiring &= set(self.WORKERS)
        failed = {pid for word, pid in reports if word == "failed"} - self._superseded
        self._generation_ready |= {pid for word, pid in reports if word == "ready"}

        if self._generation is not None and change:
            self._supersede_generation()
        if self._generation is not None:
            self._advance_generation(failed)
            if self._generation is not None:
                return  # still starting
        if change:
            self._spawn_generation()
            return
        if failed:
            # A replacement worker could not start the code on disk: no crash loop.
            logger.error("A worker failed to start score.py. Waiting for a change to try again.")
            self._waiting = True
        if self._waiting:
            return
        live = set(self.WORKERS) - self._retiring
        for _ in range(self.num_workers - len(live)):
            self.spawn_worker()

    def _spawn_generation(self) -> None:
        """Fork a full set of workers for the code on disk now."""
        self._waiting = False
        self._generations += 1
        events.set_generation(self._generations)  # inherited by the workers forked below
        if self._generations > 1:
            events.emit("reloading")
        self._generation = {self.spawn_worker() for _ in range(self.num_workers)}
        self._generation_ready = set()

    def _supersede_generation(self) -> None:
        """A change arrived while a generation is still starting: its code is stale already.

        Its workers are told to quit at once (SIGQUIT: gunicorn's worker exits from the signal
        handler, even in the middle of init()), so the newest save starts now instead of after
        a stale init() that may take long, and none of them serves old code for a moment."""
        assert self._generation is not None
        stale = self._generation & set(self.WORKERS)
        logger.info("Changed again while reloading: the workers still starting make way for the newest code")
        for pid in stale:
            self.kill_worker(pid, signal.SIGQUIT)
        self._retiring |= stale
        self._superseded |= self._generation
        self._generation = None

    def _advance_generation(self, failed: set[int]) -> None:
        assert self._generation is not None
        generation = self._generation
        gone = {pid for pid in generation if pid not in self.WORKERS and pid not in self._generation_ready}
        if generation & failed or gone:
            self._generation = None
            self._retire(generation & set(self.WORKERS))
            self._waiting = True
            if self._serving:
                logger.error("Reload failed: the previous workers keep serving. Fix the error and save again.")
                events.emit("reload_failed", workerPids=sorted(set(self.WORKERS) - self._retiring))
            else:
                logger.error("score.py failed to start. Waiting for a change to try again.")
            return
        if generation <= self._generation_ready:
            self._generation = None
            self._retire(set(self.WORKERS) - generation)
            if self._generations > 1:
                logger.info(f"Reloaded: workers {', '.join(map(str, sorted(generation)))} are serving")
                events.emit("reloaded", workerPids=sorted(generation))
            self._serving = True


class _Application(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: RunOptions) -> None:
        self.options = options
        self.pipe = _ReadyPipe() if options.reload else None
        board = readiness.Board()
        readiness.use_board(board)  # before the fork: every worker reads this board
        self.stand_in = StandIn(board)
        self.metrics = arbiter_metrics(options.workers)
        super().__init__()

    def load_config(self) -> None:
        o = self.options
        binds = [f"{'[' + o.host + ']' if ':' in o.host else o.host}:{port}" for port in o.ports]
        preload = o.preload and not o.reload
        for key, value in {
            "bind": binds,
            "workers": o.workers,
            "timeout": o.timeout,
            "graceful_timeout": DRAIN_SECONDS,
            "preload_app": preload,
            # sync semantics (one request at a time per worker, in its main thread), plus
            # HTTP/1.1 keep-alive: see runners/worker.py
            "worker_class": "azmlinfsrv.runners.worker.KeepAliveWorker",
            "logger_class": ServerLogger,
            "accesslog": None,
            "errorlog": "-",
            "proc_name": "azmlinfsrv",
            # gunicorn ≥ 24 opens a control socket at a fixed per-user path, which several
            # servers on one machine would fight over; we do not use it.
            "control_socket_disable": True,
            # Answer for workers that die or hang inside run() (runners/stand_in.py).
            "pre_fork": self._pre_fork,
            "post_fork": self.stand_in.post_fork,
            "child_exit": self._child_exit,
        }.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def _pre_fork(self, arbiter: Any, worker: Any) -> None:
        self.stand_in.pre_fork(arbiter, worker)
        if self.metrics is not None:
            self.metrics.worker_forked()

    def _child_exit(self, arbiter: Any, worker: Any) -> None:
        self.stand_in.child_exit(arbiter, worker)
        if self.metrics is not None:
            self.metrics.worker_exited(worker.pid)

    def load(self) -> Any:
        try:
            app = create_app(self.options.settings)
        except StartupFailure:
            if self.pipe is not None:
                self.pipe.tell("failed")
                sys.exit(EXIT_RELOAD_FAILED)
            sys.exit(EXIT_STARTUP_FAILURE)
        if self.pipe is not None:
            self.pipe.tell("ready")
        return app


def run(options: RunOptions) -> None:
    application = _Application(options)
    if application.pipe is None:
        ServingArbiter(application).run()
        return
    ReloadingArbiter(application, watch_roots(options.settings), application.pipe).run()
