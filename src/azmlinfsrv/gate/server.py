"""The server under test: started as ``python -m azmlinfsrv`` with this interpreter in
its own process group, polled until it serves, and always stopped by its PID/group.

Signals: SIGINT, SIGTERM and SIGHUP become :class:`Interrupted` so that ``finally``
blocks stop the server; while it is being stopped, further signals are held back.
If the command itself is killed outright, ``AZMLINFSRV_PARENT_PID`` makes the server
shut itself down (see parent_watch.py).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from ..events import ENV_VAR as EVENTS_ENV
from ..parent_watch import ENV_VAR as PARENT_ENV
from ..script import is_server_frame

HOST = "127.0.0.1"
STOP_GRACE_SECONDS = 5.0
POLL_SECONDS = 0.1
LOG_TAIL_LINES = 30
_SIGNALS = tuple(s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None)
_TRACEBACK_FRAME = re.compile(r'File "([^"]+)", line (\d+)(?:, in (\S+))?')


class Interrupted(BaseException):
    """The command got SIGINT/SIGTERM/SIGHUP; a BaseException so user-level handlers pass it on."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


@contextlib.contextmanager
def interruptible() -> Iterator[None]:
    """Turn the stop signals into :class:`Interrupted` inside the block."""
    previous = {s: signal.signal(s, _raise_interrupted) for s in _SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


@contextlib.contextmanager
def signals_held() -> Iterator[list[int]]:
    """Record stop signals instead of acting on them (a second Ctrl+C must not cut the
    shutdown short); the caller re-raises the first one afterwards."""
    received: list[int] = []
    previous = {s: signal.signal(s, lambda signum, frame: received.append(signum)) for s in _SIGNALS}
    try:
        yield received
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class StartFailure:
    """Why the server did not come up, with the user code's location when known."""

    reason: str
    exit_code: int | None
    exception: dict[str, Any] | None = None
    stage: str = ""
    """init() or loading score.py, from the event channel."""
    location: dict[str, Any] | None = None
    log_tail: list[str] = field(default_factory=list)


class ServerProcess:
    def __init__(
        self,
        argv: list[str],
        env: dict[str, str],
        log_path: Path,
        events_path: Path,
        port: int,
        cwd: Path | None = None,
    ) -> None:
        self.argv = argv
        self.port = port
        self.log_path = log_path
        self.events_path = events_path
        creation: dict[str, Any] = {"start_new_session": True}
        if os.name == "nt":
            creation = {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(
                argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, **creation
            )
        self.pid = self.proc.pid
        self.started = time.monotonic()

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def wait_ready(self, timeout: float) -> StartFailure | None:
        """Poll ``GET /`` until it answers 200 (None), the process exits, or ``timeout``."""
        deadline = time.monotonic() + timeout
        while True:
            code = self.proc.poll()
            if code is not None:
                return self.failure(f"it exited with code {code}", code)
            if self._healthy(min(2.0, max(deadline - time.monotonic(), 0.1))):
                return None
            if time.monotonic() >= deadline:
                return self.failure(f"it did not answer GET / within {timeout:g} s", None)
            time.sleep(POLL_SECONDS)

    def _healthy(self, timeout: float) -> bool:
        connection = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            connection.request("GET", "/")
            return connection.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            connection.close()

    def failure(self, reason: str, exit_code: int | None) -> StartFailure:
        failed = next((e for e in self.events() if e.get("event") in ("import_failed", "init_failed")), None)
        log = self.log_lines()
        result = StartFailure(reason, exit_code, log_tail=log[-LOG_TAIL_LINES:])
        if failed is not None:
            result.exception = failed.get("exception") or {}
            result.stage = "init()" if failed["event"] == "init_failed" else "loading the entry script"
            frames = result.exception.get("frames") or []
            result.location = frames[-1] if frames else None
        else:
            result.location = location_in_log(log)
        return result

    def events(self) -> list[dict[str, Any]]:
        try:
            text = self.events_path.read_text(encoding="utf-8")
        except OSError:
            return []
        out = []
        for line in text.splitlines():
            with contextlib.suppress(ValueError):
                out.append(json.loads(line))
        return out

    def run_failure(self, request_id: str) -> dict[str, Any] | None:
        """The exception ``run()`` raised for that request, from the event channel."""
        for event in self.events():
            if event.get("event") == "run_failed" and event.get("requestId") == request_id:
                exception: dict[str, Any] = event.get("exception") or {}
                return exception
        return None

    def log_lines(self) -> list[str]:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return []

    def stop(self) -> None:
        """SIGTERM, a bounded wait, then SIGKILL of the whole group: nothing survives."""
        with signals_held() as received:
            self.terminate()
        if received:
            raise Interrupted(received[0])

    def terminate(self) -> None:
        """:meth:`stop` without touching signal handlers: callable from any thread (the daemon)."""
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(STOP_GRACE_SECONDS)
        if os.name != "nt":
            # Workers left behind by an arbiter that died are still in its group.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)
        elif self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(STOP_GRACE_SECONDS)


def location_in_log(lines: list[str]) -> dict[str, Any] | None:
    """The innermost traceback frame of user code in the server's output, if any."""
    found = None
    for line in lines:
        match = _TRACEBACK_FRAME.search(line)
        if match and not is_server_frame(match.group(1)) and "site-packages" not in match.group(1):
            found = {"file": match.group(1), "line": int(match.group(2)), "function": match.group(3) or ""}
    return found


def start(
    server_args: list[str], extra_env: dict[str, str], workdir: Path, log_path: Path | None, cwd: Path | None = None
) -> ServerProcess:
    """Start ``python -m azmlinfsrv`` on a free loopback port with the given flags (in ``cwd``,
    the app root; default: this process's working directory, as for serving)."""
    port, health_port = free_port(), free_port()
    events_path = workdir / "events.jsonl"
    argv = [sys.executable, "-m", "azmlinfsrv", *server_args]
    argv += ["--host", HOST, "--port", str(port), "--health_port", str(health_port), "--events", str(events_path)]
    env = {**os.environ, **extra_env, PARENT_ENV: str(os.getpid()), "PYTHONUNBUFFERED": "1"}
    env.pop(EVENTS_ENV, None)
    return ServerProcess(argv, env, log_path or workdir / "server.log", events_path, port, cwd)
