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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psutil

from ..debugging import LISTEN_ENV as DEBUG_LISTEN_ENV
from ..events import ENV_VAR as EVENTS_ENV
from ..parent_watch import ENV_VAR as PARENT_ENV
from .diagnostics import deepest_user_frame

logger = logging.getLogger("azmlinfsrv.daemon")

STOP_GRACE_SECONDS = 5.0
EVENT_POLL_SECONDS = 0.05
DEBUG_SCORING_TIMEOUT_MS = 7 * 24 * 3600 * 1000  # a week: nobody's breakpoint pause is longer


@dataclass(frozen=True)
class StartRequest:
    entry_script: str
    model_dir: str | None = None
    port: int | None = None
    worker_count: int = 1
    env: dict[str, str] = field(default_factory=dict)
    debug: bool = False
    reload: bool = True

    @staticmethod
    def from_json(args: dict[str, Any], reload: bool) -> StartRequest:
        entry = args.get("entryScript")
        if not isinstance(entry, str) or not entry:
            raise ValueError("startServer needs an entryScript (the path of score.py)")
        if not os.path.isfile(entry):
            raise ValueError(f"entryScript {entry!r} is not a file")
        env = args.get("env") or {}
        if not isinstance(env, dict):
            raise ValueError("env must be an object of strings")
        workers = int(args.get("workerCount") or 1)
        if workers < 1:
            raise ValueError("workerCount must be at least 1")
        port = args.get("port")
        return StartRequest(
            entry_script=os.path.abspath(entry),
            model_dir=os.path.abspath(args["modelDir"]) if args.get("modelDir") else None,
            port=int(port) if port else None,
            worker_count=workers,
            env={str(k): str(v) for k, v in env.items()},
            debug=bool(args.get("debug", False)),
            reload=reload,
        )


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


class Supervisor:
    """Owns at most one server process and tracks its state from its events."""

    def __init__(
        self,
        on_change: Callable[[], None],
        on_log: Callable[[str], None],
        on_event: Callable[[dict[str, Any]], None],
    ) -> None:
        self._on_change = on_change
        self._on_log = on_log
        self._on_event = on_event
        self.request: StartRequest | None = None
        self.process: asyncio.subprocess.Process | None = None
        self.state = "stopped"
        self.port: int | None = None
        self.error: str | None = None
        self.error_location: dict[str, Any] | None = None
        self.ready: set[int] = set()  # workers that serve
        self.pending: set[int] = set()  # workers of a reload generation, not yet serving
        self.debug_ports: dict[int, int] = {}
        self.reloading = False
        self._stopping = False
        self._settled: asyncio.Future[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._events_dir: tempfile.TemporaryDirectory[str] | None = None

    # -- status ------------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def worker_pids(self) -> list[int]:
        if self.process is None or self.state in ("stopped",):
            return []
        return sorted(pid for pid in self.ready if pid_alive(pid))

    def debug_targets(self) -> dict[int, int]:
        """Listening workers (serving, or of a reload generation waiting for the debugger)."""
        return {pid: port for pid, port in sorted(self.debug_ports.items()) if pid_alive(pid)}

    def status(self) -> dict[str, Any]:
        request = self.request
        status: dict[str, Any] = {
            "state": self.state,
            "url": f"http://127.0.0.1:{self.port}" if self.port and self.state != "stopped" else None,
            "port": self.port if self.state != "stopped" else None,
            "pid": self.pid if self.state != "stopped" else None,
            "workerPids": self.worker_pids(),
            "entryScript": request.entry_script if request else None,
            "debug": bool(request and request.debug),
        }
        if self.error:
            status["error"] = self.error
        if self.error_location:
            status["errorLocation"] = self.error_location
        return status

    # -- life cycle --------------------------------------------------------------------------
    async def start(self, request: StartRequest) -> None:
        """Spawn the server; returns once it serves, has failed, or was stopped."""
        await self.stop(notify=False)
        self.request = request
        self.port = request.port or free_port()
        self.state = "starting"
        self.error = self.error_location = None
        self.ready, self.pending, self.debug_ports = set(), set(), {}
        self.reloading = False
        self._stopping = False
        self._events_dir = tempfile.TemporaryDirectory(prefix="azmlinfsrv-daemon-")
        events_path = os.path.join(self._events_dir.name, "events.jsonl")
        open(events_path, "a").close()

        env = dict(os.environ)
        env.update(request.env)
        env.update({EVENTS_ENV: events_path, PARENT_ENV: str(os.getpid()), "PYTHONUNBUFFERED": "1"})
        if request.debug:
            env[DEBUG_LISTEN_ENV] = "0"
            # A worker paused at a breakpoint must be neither killed nor timed out.
            env["WORKER_TIMEOUT"] = "0"
            if "SCORING_TIMEOUT_MS" not in request.env:
                env["SCORING_TIMEOUT_MS"] = str(DEBUG_SCORING_TIMEOUT_MS)
        argv = [sys.executable, "-m", "azmlinfsrv", "--entry_script", request.entry_script]
        argv += ["--port", str(self.port), "--host", "127.0.0.1", "--worker_count", str(request.worker_count)]
        if request.model_dir:
            argv += ["--model_dir", request.model_dir]
        if request.reload:
            argv.append("--reload")
        self._on_log(f"$ {' '.join(argv)}")
        self.process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=os.path.dirname(request.entry_script),
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        loop = asyncio.get_running_loop()
        self._settled = loop.create_future()
        process = self.process
        self._tasks = [
            asyncio.create_task(self._relay(process.stdout)),
            asyncio.create_task(self._relay(process.stderr)),
            asyncio.create_task(self._follow_events(events_path, process)),
            asyncio.create_task(self._wait_exit(process)),
        ]
        self._on_change()
        await asyncio.shield(self._settled)

    def _settle(self) -> None:
        if self._settled is not None and not self._settled.done():
            self._settled.set_result(None)

    async def stop(self, notify: bool = True) -> None:
        process = self.process
        if process is not None and process.returncode is None:
            self._stopping = True
            # Graceful (in-flight requests finish), except when debugging: a worker waiting for
            # the debugger or paused at a breakpoint only stops on gunicorn's quick shutdown.
            debugging = self.request is not None and self.request.debug
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGINT if debugging else signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), STOP_GRACE_SECONDS)
            except asyncio.TimeoutError:
                pass
            kill_group(process.pid)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(process.wait(), STOP_GRACE_SECONDS)
        if process is not None:
            kill_group(process.pid)  # workers a dead arbiter left behind
        for task in self._tasks:
            task.cancel()
        self._tasks = []
        if self._events_dir is not None:
            self._events_dir.cleanup()
            self._events_dir = None
        if process is not None or self.state != "stopped":
            self.state = "stopped"
            self.ready, self.pending, self.debug_ports = set(), set(), {}
            self._settle()
            if notify:
                self._on_change()

    def stop_now(self) -> None:
        """Synchronous last resort (daemon exit): kill the whole process group."""
        if self.process is not None and self.process.returncode is None:
            kill_group(self.process.pid)

    # -- following the process ---------------------------------------------------------------
    async def _relay(self, stream: asyncio.StreamReader | None) -> None:
        if stream is None:
            return
        while True:
            line = await stream.readline()
            if not line:
                return
            self._on_log(line.decode("utf-8", "replace").rstrip("\r\n"))

    async def _wait_exit(self, process: asyncio.subprocess.Process) -> None:
        code = await process.wait()
        if process is not self.process:
            return
        if self._stopping:
            return
        self.state = "failed"
        if not self.error:
            self.error = f"azmlinfsrv exited with code {code}"
        self.ready, self.pending = set(), set()
        self._settle()
        self._on_change()

    async def _follow_events(self, path: str, process: asyncio.subprocess.Process) -> None:
        offset = 0
        buffer = b""
        while True:
            try:
                with open(path, "rb") as f:
                    f.seek(offset)
                    chunk = f.read()
            except OSError:
                chunk = b""
            if chunk:
                offset += len(chunk)
                *lines, buffer = (buffer + chunk).split(b"\n")
                for line in lines:
                    try:
                        event = json.loads(line)
                    except ValueError:
                        continue
                    if process is self.process:
                        self._apply(event)
            await asyncio.sleep(EVENT_POLL_SECONDS)

    def _apply(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        pid = int(event.get("pid") or 0)
        request = self.request
        if kind == "debug_listening":
            self.debug_ports[pid] = int(event["port"])
        elif kind == "worker_ready":
            if self.reloading:
                self.pending.add(pid)
            else:
                self.ready.add(pid)
                if self.state in ("starting", "failed") and request and len(self.worker_pids()) >= request.worker_count:
                    self.state = "running"
                    self.error = self.error_location = None
                    self._settle()
        elif kind in ("import_failed", "init_failed"):
            exception = event.get("exception") or {}
            self.error = f"{exception.get('type', 'Error')}: {exception.get('message', '')}"
            self.error_location = _deepest_location(exception, request)
            if self.state == "starting" and not self.ready:
                self.state = "failed"
                self._settle()
        elif kind == "reloading":
            self.reloading = True
            self.pending = set()
            if self.state == "failed":
                self.state = "starting"
        elif kind == "reloaded":
            self.reloading = False
            self.ready = {int(p) for p in event.get("workerPids", [])}
            self.pending = set()
            self.debug_ports = {p: port for p, port in self.debug_ports.items() if p in self.ready}
            self.state = "running"
            self.error = self.error_location = None
            self._settle()
        elif kind == "reload_failed":
            self.reloading = False
            self.pending = set()
        self._on_event(event)
        self._on_change()


def _deepest_location(exception: dict[str, Any], request: StartRequest | None) -> dict[str, Any] | None:
    if request is None:
        return None
    frame = deepest_user_frame(exception.get("frames") or [], os.path.dirname(request.entry_script))
    return {"file": frame["file"], "line": frame["line"]} if frame else None


def kill_group(pid: int) -> None:
    """SIGKILL a process group led by ``pid`` (the server runs in its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
