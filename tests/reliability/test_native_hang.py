"""A run() stuck in native code that holds the GIL past SCORING_TIMEOUT_MS: no thread of its
worker can run, so the arbiter (which holds a copy of the client's socket and the deadline)
answers the contract's 500, not a 502, and a new worker takes over."""

from __future__ import annotations

import pytest
import requests

from ..server._support import ServerFactory, wait_until

NATIVE = """\
import ctypes
import os
import signal
import threading
import time

beats = []


def _beat():
    while True:
        beats.append(time.monotonic())
        time.sleep(0.01)


def init():
    threading.Thread(target=_beat, daemon=True).start()


def run(data):
    if data == "native-hang":
        # libc's sleep through PyDLL keeps the GIL for the whole call; SIGALRM blocked, as
        # native code may do, so the scoring timeout's signal cannot cut it short either.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        print("hanging in native code", flush=True)
        ctypes.PyDLL(None).sleep(120)
    if data == "gil-check":
        # The GIL held for 0.3 s: the heartbeat thread (a beat every 10 ms) gets none in between.
        before = len(beats)
        ctypes.PyDLL(None).usleep(300000)
        return {"beats_while_held": len(beats) - before}
    return {"pid": os.getpid()}
"""


@pytest.mark.ours
def test_a_native_hang_holding_the_gil_answers_the_scoring_timeout(server: ServerFactory) -> None:
    srv = server.start(NATIVE, env={"SCORING_TIMEOUT_MS": "500"})
    # The hang of this test holds the GIL indeed: nothing else in the worker runs meanwhile.
    check = srv.score("gil-check")
    assert check.json().get("beats_while_held", 99) <= 1, (check.text, srv.describe())
    worker = srv.score("ok").json()["pid"]

    # WORKER_TIMEOUT (300 s) would end it with a 502 long after this request's timeout.
    r = srv.score("native-hang", timeout=30)
    assert r.status_code == 500
    assert r.json() == {"message": "Scoring timeout after 500 ms"}
    assert r.headers["x-ms-run-function-failed"] == "True"

    def new_worker() -> int | None:
        try:
            pid = srv.score("ok", timeout=5).json()["pid"]
        except requests.RequestException:
            return None
        return int(pid) if pid != worker else None

    wait_until(new_worker, 30, "a new worker to serve", on_fail=srv.describe)
