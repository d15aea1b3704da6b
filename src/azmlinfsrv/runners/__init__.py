"""The HTTP fronts that serve the app: prefork.py (gunicorn, the default on POSIX) and
threaded.py (waitress, the default on Windows, and on request everywhere); worker.py is
prefork's worker, stand_in.py answers for its workers that die inside run()."""

from __future__ import annotations

import errno
import socket
import sys
from dataclasses import dataclass

from ..settings import Settings

EXIT_PORT_IN_USE = 1


@dataclass(frozen=True)
class RunOptions:
    host: str
    port: int
    health_port: int | None  # a second listener, when SEPERATE_HEALTH_ENDPOINT=true
    workers: int
    timeout: int  # seconds; 0 disables gunicorn's worker timeout
    preload: bool
    reload: bool
    settings: Settings

    @property
    def ports(self) -> list[int]:
        return [self.port] + ([self.health_port] if self.health_port and self.health_port != self.port else [])


class PortInUse(Exception):
    pass


def check_ports_free(host: str, ports: list[int]) -> None:
    """Fail early with one clear line instead of a server retrying to bind."""
    for port in ports:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            if sys.platform != "win32":
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as ex:
                if ex.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)):
                    raise PortInUse(f"port {port} on {host} is already in use") from None
                raise PortInUse(f"cannot listen on {host}:{port}: {ex.strerror or ex}") from None
