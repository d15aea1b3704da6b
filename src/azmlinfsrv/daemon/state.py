"""The supervised server's state: its values, the status object sent to clients, and every
transition between states, in one place.

``ServerState`` and ``ServerStatus`` are the client's ``ServerState`` and ``ServerStatus`` in
extension/src/protocol.ts; tests/daemon/test_protocol.py fails when the two drift apart.
``ServerLife`` is a plain object (no processes, no asyncio) that the supervisor feeds with
the server's events, so every transition is unit-tested in-process.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import os
from typing import Any

from .arguments import camel
from .diagnostics import deepest_user_frame

logger = logging.getLogger("azmlinfsrv.daemon")


class ServerState(str, enum.Enum):
    STOPPED = "stopped"
    STARTING = "starting"
    RUNNING = "running"
    FAILED = "failed"

    @property
    def serving(self) -> bool:
        return self is ServerState.RUNNING


# The only moves there are. failed -> starting: a save reloads a server whose code failed;
# failed -> running: a worker that gunicorn restarted now serves.
TRANSITIONS: dict[ServerState, frozenset[ServerState]] = {
    ServerState.STOPPED: frozenset({ServerState.STARTING}),
    ServerState.STARTING: frozenset({ServerState.RUNNING, ServerState.FAILED, ServerState.STOPPED}),
    ServerState.RUNNING: frozenset({ServerState.FAILED, ServerState.STOPPED}),
    ServerState.FAILED: frozenset({ServerState.STARTING, ServerState.RUNNING, ServerState.STOPPED}),
}


class Phase(str, enum.Enum):
    """What a starting server (or a reload's new workers) is doing, least advanced first."""

    WAITING_FOR_DEBUGGER = "waitingForDebugger"
    IMPORTING = "importing"
    INIT = "init"

    @property
    def words(self) -> str:
        return PHASE_WORDS[self]


PHASE_WORDS = {
    Phase.WAITING_FOR_DEBUGGER: "waiting for the debugger",
    Phase.IMPORTING: "importing the entry script",
    Phase.INIT: "running init()",
}
# The server's events that say a worker entered a phase (docs/events.md).
PHASE_EVENTS = {"debug_listening": Phase.WAITING_FOR_DEBUGGER, "importing": Phase.IMPORTING, "init_started": Phase.INIT}
_PHASE_ORDER = list(Phase)


@dataclasses.dataclass(frozen=True)
class ErrorLocation:
    file: str
    line: int  # 1-based, as Python tracebacks count


@dataclasses.dataclass(frozen=True)
class LastReload:
    """How the last reload of this server process ended; ``error`` says why when it failed."""

    ok: bool
    time: float  # the server's event time (Unix seconds): tells one reload from the next


@dataclasses.dataclass(frozen=True)
class ServerStatus:
    """What ``status`` answers and ``azmlinfsrv/status`` carries (docs/daemon.md)."""

    state: ServerState
    url: str | None = None
    port: int | None = None
    pid: int | None = None  # the process the daemon spawned
    worker_pids: list[int] = dataclasses.field(default_factory=list)  # the processes that run score.py
    entry_script: str | None = None
    debug: bool = False
    error: str | None = None  # why it failed, or why the last reload failed
    error_location: ErrorLocation | None = None
    phase: Phase | None = None  # while starting, or while a reload's new workers load
    reloading: bool = False  # a reload's new workers are loading; the old ones serve
    last_reload: LastReload | None = None
    debug_configurations: list[dict[str, Any]] | None = None  # with debug: true

    # Left out of the JSON when None.
    OPTIONAL = ("error", "error_location", "phase", "last_reload", "debug_configurations")

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None and f.name in self.OPTIONAL:
                continue
            if isinstance(value, (ErrorLocation, LastReload)):
                value = dataclasses.asdict(value)
            out[camel(f.name)] = value.value if isinstance(value, enum.Enum) else value
        return out


def status_fields() -> dict[str, list[str]]:
    """The JSON field names of the status types, as protocol.ts must spell them."""
    return {
        "ServerStatus": [camel(f.name) for f in dataclasses.fields(ServerStatus)],
        "ErrorLocation": [camel(f.name) for f in dataclasses.fields(ErrorLocation)],
        "LastReload": [camel(f.name) for f in dataclasses.fields(LastReload)],
    }


def load_failure_text(kind: str, exception: dict[str, Any], location: ErrorLocation | None) -> str:
    """``init() failed: ValueError: boom (score.py:7)`` for an import_failed/init_failed event."""
    what = "init()" if kind == "init_failed" else "importing the entry script"
    where = f" ({os.path.basename(location.file)}:{location.line})" if location else ""
    return f"{what} failed: {exception.get('type', 'Error')}: {exception.get('message', '')}{where}"


class ServerLife:
    """The state of one server and the worker sets behind it, moved only by the methods below."""

    def __init__(self) -> None:
        self.state = ServerState.STOPPED
        self.error: str | None = None
        self.error_location: ErrorLocation | None = None
        self.ready: set[int] = set()  # workers that serve
        self.pending: set[int] = set()  # workers of a reload generation, not yet serving
        self.debug_ports: dict[int, int] = {}  # worker pid -> its debugpy listener
        self.reloading = False
        self.phases: dict[int, Phase] = {}  # workers still loading -> what each is doing
        self.last_reload: LastReload | None = None
        self.expected_workers = 1
        self.user_root: str | None = None

    @property
    def settled(self) -> bool:
        """A start is over: serving, failed or stopped."""
        return self.state is not ServerState.STARTING

    @property
    def phase(self) -> Phase | None:
        """The least advanced loading worker's phase, while starting or reloading."""
        if not self.phases or not (self.state is ServerState.STARTING or self.reloading):
            return None
        return min(self.phases.values(), key=_PHASE_ORDER.index)

    def _move(self, to: ServerState) -> None:
        if to is self.state:
            return
        if to not in TRANSITIONS[self.state]:
            logger.warning(f"ignored a move of the server's state from {self.state.value} to {to.value}")
            return
        logger.info(f"scoring server: {self.state.value} -> {to.value}")
        self.state = to

    def _clear_error(self) -> None:
        self.error = self.error_location = None

    # -- moves from the daemon -----------------------------------------------------------------
    def begin(self, expected_workers: int, user_root: str) -> None:
        """A new server process is being spawned."""
        self._move(ServerState.STARTING)
        self._clear_error()
        self.ready, self.pending, self.debug_ports = set(), set(), {}
        self.reloading, self.phases, self.last_reload = False, {}, None
        self.expected_workers, self.user_root = expected_workers, user_root

    def exited(self, reason: str) -> None:
        """The process ended by itself; ``reason`` is used unless an event already said why."""
        self._move(ServerState.FAILED)
        self.error = self.error or reason
        self.ready, self.pending = set(), set()

    def failed_to_spawn(self, reason: str) -> None:
        self._move(ServerState.FAILED)
        self.error = reason

    def stopped(self) -> None:
        self._move(ServerState.STOPPED)
        self.ready, self.pending, self.debug_ports = set(), set(), {}
        self.reloading, self.phases = False, {}

    # -- moves from the server's events (docs/events.md) ----------------------------------------
    def apply(self, event: dict[str, Any]) -> None:
        """Dispatch an event by name to ``_on_<event>``; unknown events change nothing."""
        kind, pid = str(event.get("event")), int(event.get("pid") or 0)
        if kind in PHASE_EVENTS:
            self.phases[pid] = PHASE_EVENTS[kind]
        handler = getattr(self, f"_on_{kind}", None)
        if handler is not None:
            handler(event, pid)

    def _on_debug_listening(self, event: dict[str, Any], pid: int) -> None:
        self.debug_ports[pid] = int(event["port"])

    def _on_worker_ready(self, event: dict[str, Any], pid: int) -> None:
        self.phases.pop(pid, None)
        if self.reloading:
            self.pending.add(pid)
            return
        self.ready.add(pid)
        if self.state is not ServerState.RUNNING and len(self.ready) >= self.expected_workers:
            self._move(ServerState.RUNNING)
            self._clear_error()

    def _on_import_failed(self, event: dict[str, Any], pid: int) -> None:
        self.phases.pop(pid, None)
        exception = event.get("exception") or {}
        frame = deepest_user_frame(exception.get("frames") or [], self.user_root) if self.user_root else None
        self.error_location = ErrorLocation(str(frame["file"]), int(frame["line"])) if frame else None
        self.error = load_failure_text(str(event.get("event")), exception, self.error_location)
        if self.state is ServerState.STARTING and not self.ready:
            self._move(ServerState.FAILED)

    _on_init_failed = _on_import_failed

    def _on_reloading(self, event: dict[str, Any], pid: int) -> None:
        self.reloading = True
        self.pending, self.phases = set(), {}
        if self.state is ServerState.FAILED:
            self._move(ServerState.STARTING)

    def _on_reloaded(self, event: dict[str, Any], pid: int) -> None:
        self.reloading, self.phases = False, {}
        self.last_reload = LastReload(ok=True, time=float(event.get("time") or 0.0))
        logger.info("reloaded: the saved code serves")
        self.ready = {int(p) for p in event.get("workerPids", [])}
        self.pending = set()
        self.debug_ports = {p: port for p, port in self.debug_ports.items() if p in self.ready}
        self._move(ServerState.RUNNING)
        self._clear_error()

    def _on_reload_failed(self, event: dict[str, Any], pid: int) -> None:
        self.reloading, self.phases = False, {}
        self.last_reload = LastReload(ok=False, time=float(event.get("time") or 0.0))
        self.pending = set()
        logger.warning(f"reload failed, the previous code still serves: {self.error}")
