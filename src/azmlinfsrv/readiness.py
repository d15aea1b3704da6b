"""``GET /readyz``: ready once every worker has finished init(); not ready while any has not,
and not while the server drains after SIGTERM.

A worker that answers has finished its own init() (gunicorn's workers accept only after
loading the app), but it cannot see the others; the arbiter can. So the arbiter publishes
one byte in memory it shares with every worker it forks (``Board``), and each worker also
knows when it has been told to stop. Without a board (waitress: one process, which serves
only after init()) readiness is the drain alone.
"""

from __future__ import annotations

import mmap

READY_BODY = {"ready": True}
STARTING_MESSAGE = "Not ready: not every worker has finished init() yet."
DRAINING_MESSAGE = "Not ready: the server is stopping."


class Board:
    """One byte of anonymous shared memory (inherited across fork): 1 when ready."""

    def __init__(self) -> None:
        self._memory = mmap.mmap(-1, 1)

    def publish(self, ready: bool) -> None:
        self._memory[0] = 1 if ready else 0

    def ready(self) -> bool:
        return self._memory[0] == 1


_board: Board | None = None
_draining = False


def use_board(board: Board | None) -> None:
    """The board this process reads (set in the arbiter before it forks its workers)."""
    global _board
    _board = board


def start_draining() -> None:
    """This process was told to stop: from now on it is not ready (set from a signal handler)."""
    global _draining
    _draining = True


def not_ready_reason() -> str | None:
    """None when ready; otherwise the short message of the 503."""
    if _draining:
        return DRAINING_MESSAGE
    if _board is not None and not _board.ready():
        return STARTING_MESSAGE
    return None
