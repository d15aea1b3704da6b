"""One azmlinfsrv process owned by the daemon: spawn, follow, stop.

The server's life is learned from its structured event channel (``--events``), never by
parsing log text; its output is relayed line by line, and only when it ends without an
event saying why are its last stderr lines read for a reason (``failures``). Stopping ends
its whole process tree with psutil on every OS; ``process_tree.OrphanGuard`` and the
server's parent watch make sure it dies with the daemon even after a SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import tempfile
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

import psutil

from ..debugging import LISTEN_ENV as DEBUG_LISTEN_ENV
from ..events import ENV_VAR as EVENTS_ENV
from ..parent_watch import ENV_VAR as PARENT_ENV
from . import ports, process_tree, processes
from .arguments import StartServerArgs
from .failures import ExitReason, exit_reason
from .state import ServerLife, ServerState, ServerStatus

logger = logging.getLogger("azmlinfsrv.daemon")

STOP_GRACE_SECONDS = 5.0
EVENT_POLL_SECONDS = 0.05
STDERR_LINES_KEPT = 60
PORT_ATTEMPTS = 3  # a port taken between our check and the server's bind: the next one
DEBUG_SCORING_TIMEOUT_MS = 7 * 24 * 3600 * 1000  # a week: nobody's breakpoint pause is longer


@dataclass(frozen=True)
class StartRequest:
    """A validated startServer, with the daemon's own settings (reload) and absolute paths."""

    entry_script: str
    model_dir: str | None = None
    port: int | None = None
    worker_count: int = 1
    env: dict[str, str] = field(default_factory=dict)
    debug: bool = False
    reload: bool = True

    @staticmethod
    def of(args: StartServerArgs, reload: bool) -> StartRequest:
        return StartRequest(
            entry_script=os.path.abspath(args.entry_script),
            model_dir=os.path.abspath(args.model_dir) if args.model_dir else None,
            port=args.port,
            worker_count=args.worker_count or 1,
            env=dict(args.env or {}),
            debug=bool(args.debug),
            reload=reload,
        )

    @property
    def folder(self) -> str:
        """The entry script's folder: the app root and the user's code."""
        return os.path.dirname(self.entry_script)


def pid_alive(pid: int) -> bool:
    try:
        process = psutil.Process(pid)
        return bool(process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


class Listener(Protocol):
    """What the supervisor tells its owner (the LSP server)."""

    def status_changed(self) -> None: ...

    def server_log(self, text: str) -> None: ...

    def server_event(self, event: dict[str, Any]) -> None: ...

    def notice(self, text: str) -> None: ...


def server_environment(request: StartRequest, events_path: str) -> dict[str, str]:
    """The daemon's environment, the client's ``env``, and what the daemon needs from the server."""
    env = dict(os.environ)
    env.update(request.env)
    env.update({EVENTS_ENV: events_path, PARENT_ENV: str(os.getpid()), "PYTHONUNBUFFERED": "1"})
    if request.debug:
        env[DEBUG_LISTEN_ENV] = "0"
        # A worker paused at a breakpoint must be neither killed nor timed out.
        env["WORKER_TIMEOUT"] = "0"
        if "SCORING_TIMEOUT_MS" not in request.env:
            env["SCORING_TIMEOUT_MS"] = str(DEBUG_SCORING_TIMEOUT_MS)
    return env


def server_prefix() -> list[str]:
    """How to run the server: through the .vsix's launcher that started this daemon (so the
    server finds the bundled azmlinfsrv and libraries after the user's), or ``python -m
    azmlinfsrv`` (a pip install)."""
    launcher = processes.launcher_path()
    if launcher:
        return [sys.executable, launcher, "server"]
    return [sys.executable, "-m", "azmlinfsrv"]


def server_command(request: StartRequest, port: int) -> list[str]:
    argv = [*server_prefix(), "--entry_script", request.entry_script]
    argv += ["--port", str(port), "--host", ports.HOST, "--worker_count", str(request.worker_count)]
    if request.model_dir:
        argv += ["--model_dir", request.model_dir]
    if request.reload:
        argv.append("--reload")
    return argv


class EventReader:
    """Reads the event file's new complete lines each time it is asked.

    Events of a reload generation that a newer one replaced are dropped: a stale worker's
    init_failed would otherwise put the old code's error on the edited file's lines."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._offset = 0
        self._partial = b""
        self.generation = 0  # the newest reload generation seen (docs/events.md)

    def read_new(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self._offset)
                chunk = f.read()
        except OSError:
            return []
        self._offset += len(chunk)
        *lines, self._partial = (self._partial + chunk).split(b"\n")
        events = []
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if isinstance(event, dict) and self._current(event):
                events.append(event)
        return events

    def _current(self, event: dict[str, Any]) -> bool:
        generation = event.get("generation")
        if not isinstance(generation, int):
            return True
        self.generation = max(self.generation, generation)
        return generation == self.generation


class Supervisor:
    """Owns at most one server process; its state lives in ``life``, moved by the server's events."""

    def __init__(self, listener: Listener) -> None:
        self._listener = listener
        self.request: StartRequest | None = None
        self.port: int | None = None
        self.life = ServerLife()
        self._process: asyncio.subprocess.Process | None = None
        self._ports: dict[int, int] = {}  # port asked (or 5001) -> the one it got: kept for restarts
        self._stderr: deque[str] = deque(maxlen=STDERR_LINES_KEPT)
        self._known: dict[int, psutil.Process] = {}  # the tree's processes seen in events
        self._exit: ExitReason | None = None
        self._stopping = False
        self._settled: asyncio.Future[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._events_dir: tempfile.TemporaryDirectory[str] | None = None
        self._guard = process_tree.OrphanGuard()

    # -- what the LSP server may ask ---------------------------------------------------------
    @property
    def state(self) -> ServerState:
        return self.life.state

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    @property
    def process_alive(self) -> bool:
        """The spawned process has not exited (it may still be starting)."""
        return self._process is not None and self._process.returncode is None

    def owns(self, pid: int) -> bool:
        """``pid`` is the spawned server or one of its debuggable workers."""
        return pid == self.pid or pid in self.life.debug_ports

    def worker_pids(self) -> list[int]:
        if self._process is None or self.state is ServerState.STOPPED:
            return []
        return sorted(pid for pid in self.life.ready if pid_alive(pid))

    def debug_targets(self) -> dict[int, int]:
        """Listening workers (serving, or of a reload generation waiting for the debugger)."""
        return {pid: port for pid, port in sorted(self.life.debug_ports.items()) if pid_alive(pid)}

    def status(self, debug_configurations: list[dict[str, Any]] | None = None) -> ServerStatus:
        request, live = self.request, self.state is not ServerState.STOPPED
        return ServerStatus(
            state=self.state,
            url=f"http://{ports.HOST}:{self.port}" if self.port and live and self._process else None,
            port=self.port if live and self._process else None,
            pid=self.pid if live else None,
            worker_pids=self.worker_pids(),
            entry_script=request.entry_script if request else None,
            debug=bool(request and request.debug),
            error=self.life.error,
            error_location=self.life.error_location,
            phase=self.life.phase if live else None,
            reloading=self.life.reloading and live,
            last_reload=self.life.last_reload if live else None,
            debug_configurations=debug_configurations if request and request.debug else None,
        )

    # -- starting ----------------------------------------------------------------------------
    async def start(self, request: StartRequest) -> None:
        """Spawn the server; returns once it serves, has failed, or was stopped."""
        await self.stop(notify=False)
        self.request = request
        for _ in range(PORT_ATTEMPTS):
            await self._start_once(request)
            if not (self._exit and self._exit.port_in_use) or self._stopping:
                return
            self._release()  # someone took the port between our check and the bind: the next one

    async def _start_once(self, request: StartRequest) -> None:
        self._stopping, self._exit = False, None
        self._settled = asyncio.get_running_loop().create_future()
        self.life.begin(request.worker_count, request.folder)
        wanted = request.port or ports.DEFAULT_PORT
        try:
            choice = ports.choose(wanted, self._ports.get(wanted))
        except ports.PortUnavailable as ex:
            self.life.failed_to_spawn(str(ex))
            self._changed()
            return
        self._ports[wanted] = self.port = choice.port
        if choice.notice:
            self._listener.notice(choice.notice)
        try:
            await self._spawn(request, choice.port)
        except OSError as ex:
            self.life.failed_to_spawn(f"cannot start {sys.executable}: {ex.strerror or ex}")
            self._process = None
            self._changed()
            return
        await asyncio.shield(self._settled)

    async def _spawn(self, request: StartRequest, port: int) -> None:
        self._events_dir = tempfile.TemporaryDirectory(prefix="azmlinfsrv-daemon-")
        events = EventReader(os.path.join(self._events_dir.name, "events.jsonl"))
        open(events.path, "a").close()
        argv = server_command(request, port)
        self._listener.server_log(f"$ {' '.join(argv)}")
        self._stderr.clear()
        self._known = {}
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=request.folder,
            env=server_environment(request, events.path),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            **process_tree.spawn_options(),
        )
        self._process = process
        self._guard.adopt(process.pid)
        relays = [
            asyncio.create_task(self._relay(process.stdout)),
            asyncio.create_task(self._relay(process.stderr, keep=self._stderr)),
        ]
        self._tasks = [*relays, asyncio.create_task(self._follow_events(events, process))]
        self._tasks.append(asyncio.create_task(self._wait_exit(process, events, relays)))
        self._changed()

    def _changed(self) -> None:
        """After every move: a pending start settles once the state leaves starting."""
        if self.life.settled and self._settled is not None and not self._settled.done():
            self._settled.set_result(None)
        self._listener.status_changed()

    # -- stopping ----------------------------------------------------------------------------
    async def stop(self, notify: bool = True) -> None:
        process = self._process
        if process is not None and process.returncode is None:
            self._stopping = True
            await self._terminate(process)
        process_tree.kill(self._known.values())  # workers a dead arbiter left behind
        self._release()
        if process is not None or self.state is not ServerState.STOPPED:
            self.life.stopped()
            if notify:
                self._changed()
            elif self._settled is not None and not self._settled.done():
                self._settled.set_result(None)

    async def _terminate(self, process: asyncio.subprocess.Process) -> None:
        """Ask the tree to stop (in-flight requests finish), then kill what is left of it."""
        tree = process_tree.tree(process.pid, self._known.values())
        debugging = self.request is not None and self.request.debug
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(process_tree.graceful_signal(debugging))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(process.wait(), STOP_GRACE_SECONDS)
        await asyncio.to_thread(process_tree.kill_tree, process.pid, tree)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(process.wait(), STOP_GRACE_SECONDS)

    def _release(self) -> None:
        """Drop what followed the last process (tasks, event file)."""
        for task in self._tasks:
            task.cancel()
        self._tasks = []
        if self._events_dir is not None:
            self._events_dir.cleanup()
            self._events_dir = None

    def stop_now(self) -> None:
        """Synchronous last resort (daemon exit): kill the whole tree."""
        if self.process_alive and self._process is not None:
            process_tree.kill(process_tree.tree(self._process.pid, self._known.values()))

    # -- following the process ---------------------------------------------------------------
    async def _relay(self, stream: asyncio.StreamReader | None, keep: deque[str] | None = None) -> None:
        if stream is None:
            return
        while line := await stream.readline():
            text = line.decode("utf-8", "replace").rstrip("\r\n")
            if keep is not None:
                keep.append(text)
            self._listener.server_log(text)

    async def _wait_exit(
        self, process: asyncio.subprocess.Process, events: EventReader, relays: list[asyncio.Task[None]]
    ) -> None:
        code = await process.wait()
        # Its last words first: the events not read yet (an init_failed says why best), stderr.
        self._apply_events(events.read_new(), process)
        await asyncio.wait(relays, timeout=2.0)
        if process is not self._process or self._stopping:
            return
        self._exit = exit_reason(list(self._stderr), code, self.port)
        self.life.exited(self._exit.text)
        self._changed()

    async def _follow_events(self, events: EventReader, process: asyncio.subprocess.Process) -> None:
        while True:
            self._apply_events(events.read_new(), process)
            await asyncio.sleep(EVENT_POLL_SECONDS)

    def _apply_events(self, events: list[dict[str, Any]], process: asyncio.subprocess.Process) -> None:
        for event in events:
            if process is not self._process:
                return
            self._remember(int(event.get("pid") or 0))
            self.life.apply(event)
            self._listener.server_event(event)
            self._changed()

    def _remember(self, pid: int) -> None:
        """Keep a handle on each process of the tree, to end it even after its parent died."""
        if pid and pid not in self._known:
            with contextlib.suppress(psutil.Error):
                self._known[pid] = psutil.Process(pid)
