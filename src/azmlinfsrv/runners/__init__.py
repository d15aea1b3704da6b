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
# On SIGTERM, the requests in flight get this long to finish before their workers are killed.
# deploy/'s grace periods (terminationGracePeriodSeconds) are built on this number.
DRAIN_SECONDS = 30


@dataclass(frozen=True)
class RunOptions:
    """How to serve: the settings (ports, workers...) and the two choices made by CLI flags only."""

    settings: Settings
    host: str
    reload: bool

    @property
    def ports(self) -> list[int]:
        port, health_port = self.settings.server_port, self.settings.health_port
        return [port] + ([health_port] if health_port and health_port != port else [])

    @property
    def workers(self) -> int:
        return self.settings.worker_count

    @property
    def timeout(self) -> int:
        return self.settings.worker_timeout

    @property
    def preload(self) -> bool:
        return self.settings.worker_preload


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
