"""The scoring timeout (``SCORING_TIMEOUT_MS``) around run().

In the gunicorn sync worker run() executes in the main thread, so SIGALRM interrupts it
in place. Where signals cannot be used (waitress's threads, Windows), run() executes in a
helper thread that the request waits for at most the timeout; past it the client gets the
timeout answer and the late result is dropped, so the server keeps serving.
"""

from __future__ import annotations

import contextvars
import os
import signal
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from . import debugging

T = TypeVar("T")


class ScoringTimeout(BaseException):
    """run() ran past the scoring timeout. A BaseException so that user code's
    ``except Exception`` cannot swallow it."""


def _raise_timeout(signum: int, frame: Any) -> None:
    raise ScoringTimeout()


def _signals_usable() -> bool:
    return os.name != "nt" and threading.current_thread() is threading.main_thread()


def call_with_deadline(function: Callable[[], T], timeout_ms: int) -> T:
    """``function()``, or ScoringTimeout once ``timeout_ms`` has passed. Not while a debugger
    is attached: run() may be paused at a breakpoint for as long as its user likes."""
    if debugging.attached():
        return function()
    if _signals_usable():
        # The handler stays installed between requests (re-installed only if user code
        # replaced it): a request costs the two timer calls only.
        if signal.getsignal(signal.SIGALRM) is not _raise_timeout:
            signal.signal(signal.SIGALRM, _raise_timeout)
        signal.setitimer(signal.ITIMER_REAL, timeout_ms / 1000)
        try:
            return function()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    outcome: dict[str, Any] = {}
    context = contextvars.copy_context()  # Flask's request context lives in contextvars

    def target() -> None:
        try:
            outcome["value"] = context.run(function)
        except BaseException as ex:  # handed to the waiting request thread
            outcome["error"] = ex

    worker = threading.Thread(target=target, name="azmlinfsrv-run", daemon=True)
    worker.start()
    worker.join(timeout_ms / 1000)
    if worker.is_alive():
        raise ScoringTimeout()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]
