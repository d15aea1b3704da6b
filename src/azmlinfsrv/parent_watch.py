"""Dying with the supervisor: a server started by an editor daemon must never outlive it.

``AZMLINFSRV_PARENT_PID`` names the supervising process. A watchdog thread in the server's
main process (the gunicorn arbiter, or the waitress process) notices when that parent is
gone, shuts the server down gracefully, and after a short grace period kills its whole
process group (workers, debug adapters) if it is the group's leader.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

logger = logging.getLogger("azmlinfsrv")

ENV_VAR = "AZMLINFSRV_PARENT_PID"
POLL_SECONDS = 0.25
GRACE_SECONDS = 3.0


def _parent_alive(pid: int) -> bool:
    # When the parent dies, the process is re-parented (to init or a subreaper).
    return os.getppid() == pid


def _shut_down(pid: int) -> None:
    logger.warning(f"The supervising process {pid} is gone; shutting down")
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(GRACE_SECONDS)  # graceful shutdown gets this long before the hard stop
    if os.getpgid(0) == os.getpid():
        os.killpg(os.getpid(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)


def watch_parent_from_environment() -> None:
    value = os.environ.get(ENV_VAR)
    if not value or os.name == "nt":
        return
    pid = int(value)

    def watch() -> None:
        while _parent_alive(pid):
            time.sleep(POLL_SECONDS)
        _shut_down(pid)

    threading.Thread(target=watch, name="azmlinfsrv-parent-watch", daemon=True).start()
