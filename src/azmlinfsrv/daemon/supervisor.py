"""One azmlinfsrv process owned by the daemon: spawn, follow, stop.

The server's life is learned from its structured event channel (``--events``), never by
parsing log text; its output is only relayed line by line. The process runs in its own
process group so that stopping it reaps every worker, and it watches the daemon's pid
(``AZMLINFSRV_PARENT_PID``) so that it dies with the daemon even after a SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Any, Protocol

import psutil

from ..debugging import LISTEN_ENV as DEBUG_LISTEN_ENV
from ..events import ENV_VAR as EVENTS_ENV
from ..parent_watch import ENV_VAR as PARENT_ENV
from .arguments import StartServerArgs
from .state import ServerLife, ServerState, ServerStatus

logger = logging.getLogger("azmlinfsrv.daemon")

STOP_GRACE_SECONDS = 5.0
EVENT_POLL_SECONDS = 0.05
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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


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


def server_command(request: StartRequest, port: int) -> list[str]:
    argv = [sys.executable, "-m", "azmlinfsrv", "--entry_script", request.entry_script]
    argv += ["--port", str(port), "--host", "127.0.0.1", "--worker_count", str(request.worker_count)]
    if request.model_dir:
        argv += ["--model_dir", request.model_dir]
    if request.reload:
        argv.append("--reload")
    return argv


class Supervisor:
    """Owns at most one server process; its state lives in ``life``, moved by the server's events."""

    def __init__(self, listener: Listener) -> None:
        self._listener = listener
        self.request: StartRequest | None = None
        self.port: int | None = None
        self.life = ServerLife()
        self._process: asyncio.subprocess.Process | None = None
        self._stopping = False
        self._settled: asyncio.Future[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._events_dir: tempfile.TemporaryDirectory[str] | None = None

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

    @property
    def waiting_for_debugger(self) -> bool:
        """Debugging, and no worker serves yet: each waits for a debugger before init()."""
        return bool(self.request and self.request.debug and not self.life.ready)

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
            url=f"http://127.0.0.1:{self.port}" if self.port and live else None,
            port=self.port if live else None,
            pid=self.pid if live else None,
            worker_pids=self.worker_pids(),
            entry_script=request.entry_script if request else None,
            debug=bool(request and request.debug),
            error=self.life.error,
            error_location=self.life.error_location,
            debug_configurations=debug_configurations if request and request.debug else None,
        )

    # -- life cycle --------------------------------------------------------------------------
    async def start(self, request: StartRequest) -> None:
        """Spawn the server; returns once it serves, has failed, or was stopped."""
        await self.stop(notify=False)
        self.request, self._stopping = request, False
        self.port = request.port or free_port()
        self.life.begin(request.worker_count, request.folder)
        self._events_dir = tempfile.TemporaryDirectory(prefix="azmlinfsrv-daemon-")
        events_path = os.path.join(self._events_dir.name, "events.jsonl")
        open(events_path, "a").close()
        argv = server_command(request, self.port)
        self._listener.server_log(f"$ {' '.join(argv)}")
        self._process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=request.folder,
            env=server_environment(request, events_path),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        self._settled = asyncio.get_running_loop().create_future()
        self._follow(self._process, events_path)
        self._listener.status_changed()
        await asyncio.shield(self._settled)

    def _follow(self, process: asyncio.subprocess.Process, events_path: str) -> None:
        self._tasks = [
            asyncio.create_task(self._relay(process.stdout)),
            asyncio.create_task(self._relay(process.stderr)),
            asyncio.create_task(self._follow_events(events_path, process)),
            asyncio.create_task(self._wait_exit(process)),
        ]

    def _changed(self) -> None:
        """After every move: a pending start settles once the state leaves starting."""
        if self.life.settled and self._settled is not None and not self._settled.done():
            self._settled.set_result(None)
        self._listener.status_changed()

    async def stop(self, notify: bool = True) -> None:
        process = self._process
        if process is not None and process.returncode is None:
            self._stopping = True
            await self._terminate(process)
        if process is not None:
            kill_group(process.pid)  # workers a dead arbiter left behind
        for task in self._tasks:
            task.cancel()
        self._tasks = []
        if self._events_dir is not None:
            self._events_dir.cleanup()
            self._events_dir = None
        if process is not None or self.state is not ServerState.STOPPED:
            self.life.stopped()
            if notify:
                self._changed()
            elif self._settled is not None and not self._settled.done():
                self._settled.set_result(None)

    async def _terminate(self, process: asyncio.subprocess.Process) -> None:
        # Graceful (in-flight requests finish), except when debugging: a worker waiting for
        # the debugger or paused at a breakpoint only stops on gunicorn's quick shutdown.
        debugging = self.request is not None and self.request.debug
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGINT if debugging else signal.SIGTERM)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(process.wait(), STOP_GRACE_SECONDS)
        kill_group(process.pid)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(process.wait(), STOP_GRACE_SECONDS)

    def stop_now(self) -> None:
        """Synchronous last resort (daemon exit): kill the whole process group."""
        if self.process_alive and self._process is not None:
            kill_group(self._process.pid)

    # -- following the process ---------------------------------------------------------------
    async def _relay(self, stream: asyncio.StreamReader | None) -> None:
        if stream is None:
            return
        while line := await stream.readline():
            self._listener.server_log(line.decode("utf-8", "replace").rstrip("\r\n"))

    async def _wait_exit(self, process: asyncio.subprocess.Process) -> None:
        code = await process.wait()
        if process is not self._process or self._stopping:
            return
        self.life.exited(f"azmlinfsrv exited with code {code}")
        self._changed()

    async def _follow_events(self, path: str, process: asyncio.subprocess.Process) -> None:
        offset, buffer = 0, b""
        while True:
            try:
                with open(path, "rb") as f:
                    f.seek(offset)
                    chunk = f.read()
            except OSError:
                chunk = b""
            offset += len(chunk)
            *lines, buffer = (buffer + chunk).split(b"\n")
            for line in lines:
                with contextlib.suppress(ValueError):
                    event = json.loads(line)
                    if process is self._process and isinstance(event, dict):
                        self.life.apply(event)
                        self._listener.server_event(event)
                        self._changed()
            await asyncio.sleep(EVENT_POLL_SECONDS)


def kill_group(pid: int) -> None:
    """SIGKILL a process group led by ``pid`` (the server runs in its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
