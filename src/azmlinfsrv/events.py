"""The structured event channel: JSON lines that tell a supervisor (the editor daemon)
what happened, so it never has to scrape human log text.

Enabled by ``--events PATH`` or ``AZMLINFSRV_EVENTS=PATH``. Every process (arbiter and
workers) appends whole lines with a single ``write()`` on an ``O_APPEND`` descriptor, so
lines from several workers never interleave. See docs/events.md for the schema.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from types import TracebackType
from typing import Any

from .script import is_server_frame

ENV_VAR = "AZMLINFSRV_EVENTS"

_fd: int | None = None
_fd_pid: int | None = None
# The reload generation this process belongs to (``--reload`` under gunicorn): set in the
# arbiter before it forks a generation, so each worker's events carry the one it was born in.
_generation: int | None = None


def set_generation(number: int) -> None:
    """Stamp this process's later events (and those of workers it forks) with ``generation``."""
    global _generation
    _generation = number


def enabled() -> bool:
    return bool(os.environ.get(ENV_VAR))


def emit(event: str, **fields: Any) -> None:
    """Append one event; a no-op when the channel is off. Never raises."""
    path = os.environ.get(ENV_VAR)
    if not path:
        return
    global _fd, _fd_pid
    try:
        if _fd is None or _fd_pid != os.getpid():
            # A forked worker opens its own descriptor: offsets are per open file.
            _fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            _fd_pid = os.getpid()
        record = {"event": event, "pid": os.getpid(), "time": time.time(), **fields}
        if _generation is not None:
            record.setdefault("generation", _generation)
        os.write(_fd, (json.dumps(record, default=str) + "\n").encode("utf-8"))
    except OSError:
        pass


def describe_exception(ex: BaseException, tb: TracebackType | None = None) -> dict[str, Any]:
    """Type, message and frames (file, line, function) of an exception, innermost last.

    A SyntaxError's own location (file and line of the bad code) is appended as the
    innermost frame, since the traceback only reaches the import machinery.
    """
    frames = [
        {"file": os.path.abspath(f.filename), "line": f.lineno, "function": f.name}
        for f in traceback.extract_tb(tb if tb is not None else ex.__traceback__)
        if not is_server_frame(f.filename)
    ]
    if isinstance(ex, SyntaxError) and ex.filename and ex.lineno:
        frame: dict[str, Any] = {
            "file": os.path.abspath(ex.filename),
            "line": ex.lineno,
            "function": "<module>",
        }
        if ex.offset:
            frame["column"] = ex.offset
        frames.append(frame)
    location = getattr(ex, "location", None)
    if isinstance(location, dict):
        frames.append(location)
    message = ex.msg if isinstance(ex, SyntaxError) and ex.msg else str(ex)
    return {"type": type(ex).__name__, "message": message, "frames": frames}
