"""Letting a debugger into a worker before score.py loads, so breakpoints in init() hit.

Two ways in: ``AZUREML_DEBUG_PORT`` (the reference's: connect out to a debugger that
listens there) and ``AZMLINFSRV_DEBUG_LISTEN_PORT`` (ours, used by the editor daemon: each
worker listens on 127.0.0.1 — never another address — on that port, 0 for a free one,
announces it on the event channel, and waits for the debugger).

A third, later way in: a worker that is already serving opens a listener when a local tool
asks through its attach channel (``attach_channel.py``); ``listen_now`` does that without
waiting. While a debugger is attached, ``attached()`` is true and the worker's timeouts
(gunicorn's heartbeat, the scoring deadline) hold off: run() may be paused at a breakpoint.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import threading
from typing import Any

from . import events

logger = logging.getLogger("azmlinfsrv")

LISTEN_ENV = "AZMLINFSRV_DEBUG_LISTEN_PORT"
LOOPBACK = "127.0.0.1"
# How far a worker's timeouts are pushed while a debugger is attached: nobody pauses longer.
HOLD_SECONDS = 7 * 24 * 3600

_listener: tuple[str, int] | None = None  # this process's debugpy listener, once opened
_debugpy_module: Any = None  # imported only once a listener is asked for
_lock = threading.Lock()


class DebuggerUnavailable(Exception):
    pass


def _debugpy() -> Any:
    try:
        import debugpy
    except ModuleNotFoundError:
        raise DebuggerUnavailable(
            "Cannot attach a debugger because debugpy is not installed (pip install debugpy)."
        ) from None
    return debugpy


def _debugpy_from(offered: str | None) -> Any:
    """This environment's debugpy; without one, the copy in ``offered`` (the folder that holds
    the asking tool's debugpy package), imported alone: the folder leaves sys.path again, so
    user code never imports anything else from it."""
    try:
        return importlib.import_module("debugpy")
    except ModuleNotFoundError:
        if not offered or not os.path.isfile(os.path.join(offered, "debugpy", "__init__.py")):
            raise DebuggerUnavailable(
                f"debugpy is not installed in this server's environment ({sys.executable}): "
                "pip install debugpy there, or attach with a tool that offers its own."
            ) from None
    sys.path.append(offered)
    try:
        return importlib.import_module("debugpy")
    finally:
        sys.path.remove(offered)


def listen_now(offered_debugpy: str | None = None) -> tuple[str, int]:
    """Open this process's debugpy listener on 127.0.0.1 and a free port (once: later calls
    answer the same one), announce it, and return at once; breakpoints hit once a debugger
    attaches. Raises DebuggerUnavailable when there is no debugpy."""
    global _listener, _debugpy_module
    with _lock:
        if _listener is None:
            debugpy = _debugpy_from(offered_debugpy)
            host, port = debugpy.listen((LOOPBACK, 0))
            _debugpy_module, _listener = debugpy, (str(host), int(port))
            logger.info(f"A debugger can attach at {host}:{port} (pid {os.getpid()})")
            events.emit("debug_listening", host=host, port=port, waiting=False)
        return _listener


def attached() -> bool:
    """A debugger is attached to this process (through any of the ways in). Cheap when none
    ever listened: the request path asks it for every request."""
    return _debugpy_module is not None and bool(_debugpy_module.is_client_connected())


def connect(port: int) -> None:
    print("!! Starting the inference server in DEBUGGING mode because AZUREML_DEBUG_PORT is set.")
    print("!! This environment variable should not be set in a production environment.")
    global _debugpy_module
    debugpy = _debugpy()
    print(f"** Connecting to debugger at port {port}...")
    debugpy.connect((LOOPBACK, port))
    _debugpy_module = debugpy
    debugpy.wait_for_client()


def listen(port: int) -> None:
    global _listener, _debugpy_module
    debugpy = _debugpy()
    host, bound = debugpy.listen((LOOPBACK, port))
    _debugpy_module, _listener = debugpy, (str(host), int(bound))
    logger.info(f"Waiting for a debugger to attach at {host}:{bound} (pid {os.getpid()})")
    events.emit("debug_listening", host=host, port=bound, waiting=True)
    debugpy.wait_for_client()
    logger.info("Debugger attached")


def attach_from_settings(connect_port: int | None) -> None:
    if connect_port:
        connect(connect_port)
    value = os.environ.get(LISTEN_ENV)
    if value is not None:
        listen(int(value or 0))
