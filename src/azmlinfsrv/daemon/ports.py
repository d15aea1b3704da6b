"""Which port the server gets: 5001 (the reference server's, the one tutorials use) unless
asked otherwise; the next free one when that is taken; the same one for every restart.

A port that is taken moves on to the next; a port that cannot be bound at all (no rights,
an address the machine does not have) is an error that names it: moving on would hide it.
"""

from __future__ import annotations

import errno
import socket
import sys
from dataclasses import dataclass

DEFAULT_PORT = 5001
HOST = "127.0.0.1"
SEARCH_SPAN = 100  # ports tried after a taken one before asking the OS for any free port
_IN_USE = {errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", errno.EADDRINUSE)}


class PortUnavailable(Exception):
    """The port cannot be bound at all; the text names it and says why."""


@dataclass(frozen=True)
class PortChoice:
    port: int
    notice: str | None = None  # said to the user when the port is not the one asked for


def is_free(port: int, host: str = HOST) -> bool:
    """Whether the server could bind ``port`` now; PortUnavailable when it never could."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if sys.platform != "win32":
            # As gunicorn binds: a port in TIME_WAIT after our own stop counts as free.
            # (On Windows SO_REUSEADDR would let the probe share a port another server holds.)
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except PermissionError:
            raise PortUnavailable(
                f"port {port} cannot be used: permission denied"
                + (" (ports below 1024 need administrator rights)" if port < 1024 else "")
            ) from None
        except OSError as ex:
            if ex.errno in _IN_USE:
                return False
            raise PortUnavailable(f"port {port} cannot be used on {host}: {ex.strerror or ex}") from None
    return True


def any_free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _next_free(taken: int) -> int:
    for port in range(taken + 1, min(taken + SEARCH_SPAN, 65535) + 1):
        try:
            if is_free(port):
                return port
        except PortUnavailable:
            continue
    return any_free_port()


def choose(wanted: int, previous: int | None = None) -> PortChoice:
    """``previous`` (what ``wanted`` got last time) when still free, else ``wanted``, else the next free."""
    if previous is not None and previous != wanted:
        try:
            if is_free(previous):
                return PortChoice(previous)
        except PortUnavailable:
            pass
    if is_free(wanted):
        return PortChoice(wanted)
    port = _next_free(wanted)
    return PortChoice(port, f"Port {wanted} is in use: the scoring server listens on port {port} instead.")
