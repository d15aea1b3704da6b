"""Letting a debugger into a worker before score.py loads, so breakpoints in init() hit.

Two ways in: ``AZUREML_DEBUG_PORT`` (the reference's: connect out to a debugger that
listens there) and ``AZMLINFSRV_DEBUG_LISTEN_PORT`` (ours, used by the editor daemon: each
worker listens on 127.0.0.1 — never another address — on that port, 0 for a free one,
announces it on the event channel, and waits for the debugger).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from . import events

logger = logging.getLogger("azmlinfsrv")

LISTEN_ENV = "AZMLINFSRV_DEBUG_LISTEN_PORT"
LOOPBACK = "127.0.0.1"


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


def connect(port: int) -> None:
    print("!! Starting the inference server in DEBUGGING mode because AZUREML_DEBUG_PORT is set.")
    print("!! This environment variable should not be set in a production environment.")
    debugpy = _debugpy()
    print(f"** Connecting to debugger at port {port}...")
    debugpy.connect((LOOPBACK, port))
    debugpy.wait_for_client()


def listen(port: int) -> None:
    debugpy = _debugpy()
    host, bound = debugpy.listen((LOOPBACK, port))
    logger.info(f"Waiting for a debugger to attach at {host}:{bound} (pid {os.getpid()})")
    events.emit("debug_listening", host=host, port=bound)
    debugpy.wait_for_client()
    logger.info("Debugger attached")


def attach_from_settings(connect_port: int | None) -> None:
    if connect_port:
        connect(connect_port)
    value = os.environ.get(LISTEN_ENV)
    if value is not None:
        listen(int(value or 0))
