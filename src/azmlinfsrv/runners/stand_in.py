"""The arbiter stands in for a worker that cannot answer: crashes and hangs inside run().

A worker that dies inside run() (``os._exit``, a segfault in native code, gunicorn's
timeout kill) takes its client socket with it, and the client would only see the
connection drop. A run() stuck in code that blocks signals never sees the SIGALRM of the
scoring timeout, and would hold the client until it returns by itself.

So the gunicorn arbiter keeps a duplicate of each worker's current client socket, passed
over a Unix socket pair (SCM_RIGHTS) once per connection, and a shared byte that says what
the worker is doing (idle, in run(), already answering, past its deadline). When it reaps a
worker that died mid-request, it writes the answer itself: 502 for a crash, the contract's
scoring-timeout 500 for a hang. A watchdog thread in each worker turns a run() that outlives
the scoring timeout (plus a grace period) into such a death, so a new worker takes over.
"""

from __future__ import annotations

import json
import logging
import mmap
import os
import signal
import socket
import struct
import threading
import time
from typing import Any

logger = logging.getLogger("azmlinfsrv")

IDLE, IN_RUN, ANSWERING, TIMED_OUT = 0, 1, 2, 3
CRASH_MESSAGE = "The worker running score.py died while handling this request."
WATCHDOG_GRACE_SECONDS = 1.0
WATCHDOG_POLL_SECONDS = 0.25
DRAIN_SECONDS = 0.02
_OPENED = b"O"
_INT_SIZE = struct.calcsize("i")


def _answer(status: int, reason: str, message: str) -> bytes:
    body = json.dumps({"message": message}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "x-ms-run-function-failed: True\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class _Slot:
    """What the arbiter knows of one worker: its channel, shared state and held socket."""

    __slots__ = ("channel", "worker_end", "state", "held")

    def __init__(self) -> None:
        self.channel, self.worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.channel.setblocking(False)
        # byte 0: the worker's state; bytes 8-16: its scoring timeout in ms (for the message).
        self.state = mmap.mmap(-1, 16)
        self.held: int | None = None

    def take_messages(self) -> None:
        """Apply every pending message: each carries the socket of a new connection."""
        while True:
            try:
                # (socket.recv_fds ignores its flags before Python 3.12: recvmsg directly.)
                _, ancillary, _, _ = self.channel.recvmsg(1, socket.CMSG_SPACE(_INT_SIZE))
            except OSError:  # BlockingIOError: nothing more
                return
            for level, kind, data in ancillary:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS and len(data) >= _INT_SIZE:
                    self.drop_held()
                    self.held = struct.unpack_from("i", data)[0]

    def drop_held(self) -> None:
        if self.held is not None:
            os.close(self.held)
            self.held = None

    def close(self) -> None:
        self.drop_held()
        self.channel.close()
        self.worker_end.close()
        self.state.close()


class StandIn:
    """The arbiter's side, wired in as gunicorn's pre_fork / post_fork / child_exit hooks."""

    def __init__(self) -> None:
        self._slots: dict[int, _Slot] = {}  # by worker age (known before the fork)
        self._lock = threading.Lock()
        self._reader: threading.Thread | None = None

    # -- gunicorn hooks ----------------------------------------------------------------------
    def pre_fork(self, arbiter: Any, worker: Any) -> None:
        slot = _Slot()
        with self._lock:
            self._slots[worker.age] = slot
        worker.azmlinfsrv_stand_in = slot
        if self._reader is None:
            self._reader = threading.Thread(target=self._drain, name="azmlinfsrv-stand-in", daemon=True)
            self._reader.start()

    def post_fork(self, arbiter: Any, worker: Any) -> None:
        """In the new worker: keep only its own end; drop the arbiter's copies of other
        workers' channels and client sockets, which a fork duplicated."""
        own: _Slot = worker.azmlinfsrv_stand_in
        for slot in self._slots.values():
            if slot is not own:
                slot.drop_held()
                slot.channel.close()
                slot.worker_end.close()
        own.channel.close()
        WorkerSide.install(own.worker_end, own.state)

    def child_exit(self, arbiter: Any, worker: Any) -> None:
        with self._lock:
            slot = self._slots.pop(worker.age, None)
        if slot is None:
            return
        slot.take_messages()
        state = slot.state[0]
        if slot.held is not None and state in (IN_RUN, TIMED_OUT):
            if state == TIMED_OUT:
                timeout_ms = struct.unpack_from("<q", slot.state, 8)[0]
                answer = _answer(500, "Internal Server Error", f"Scoring timeout after {timeout_ms} ms")
            else:
                answer = _answer(502, "Bad Gateway", CRASH_MESSAGE)
            try:
                with socket.socket(fileno=os.dup(slot.held)) as client:
                    client.settimeout(2)
                    client.sendall(answer)
                    client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # the client went away too
            logger.error(
                f"Worker {worker.pid} died inside run(); answered its request with {answer.split()[1].decode()}"
            )
        slot.close()

    # -- the reader thread -------------------------------------------------------------------
    def _drain(self) -> None:
        """Take the workers' messages in batches, not one wake-up per connection: that would
        cost the arbiter CPU time that the workers need. A dying worker's messages are taken
        by child_exit itself before it decides."""
        while True:
            time.sleep(DRAIN_SECONDS)
            with self._lock:
                for slot in self._slots.values():
                    slot.take_messages()


class WorkerSide:
    """The worker's side: report each connection and what the worker is doing; the watchdog
    for a request that outlives the scoring timeout. A request costs two writes to shared
    memory and no system call; a connection costs one ``sendmsg``."""

    _channel: socket.socket | None = None
    _state: mmap.mmap | None = None
    _deadline = 0.0

    @classmethod
    def install(cls, channel: socket.socket, state: mmap.mmap) -> None:
        cls._channel, cls._state = channel, state
        watchdog = threading.Thread(target=cls._watch, name="azmlinfsrv-watchdog", daemon=True)
        # Not user code: debugpy neither traces it nor lists it beside the user's threads.
        watchdog.is_pydev_daemon_thread = True  # type: ignore[attr-defined]
        watchdog.pydev_do_not_trace = True  # type: ignore[attr-defined]
        watchdog.start()

    @classmethod
    def active(cls) -> bool:
        return cls._channel is not None

    @classmethod
    def connection_opened(cls, sock: socket.socket) -> None:
        if cls._channel is not None:
            try:
                # (socket.send_fds ignores its flags before Python 3.12: sendmsg directly.)
                cls._channel.sendmsg(
                    [_OPENED],
                    [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", sock.fileno()))],
                    socket.MSG_DONTWAIT,
                )
            except OSError:
                pass  # the arbiter is behind: this connection goes without a stand-in rather than wait

    @classmethod
    def request_started(cls, timeout_ms: int) -> None:
        state = cls._state
        if state is not None:
            struct.pack_into("<q", state, 8, timeout_ms)
            cls._deadline = time.monotonic() + timeout_ms / 1000 + WATCHDOG_GRACE_SECONDS
            state[0] = IN_RUN

    @classmethod
    def response_started(cls) -> None:
        if cls._state is not None:
            cls._state[0] = ANSWERING

    @classmethod
    def request_finished(cls) -> None:
        if cls._state is not None:
            cls._state[0] = IDLE

    @classmethod
    def _watch(cls) -> None:
        # Polls rather than being woken per request: no thread switch on the request path.
        while True:
            time.sleep(WATCHDOG_POLL_SECONDS)
            state = cls._state
            if state is None or state[0] != IN_RUN or time.monotonic() < cls._deadline:
                continue
            state[0] = TIMED_OUT
            logger.error(
                "run() did not stop at the scoring timeout (it blocks signals, e.g. in native code); "
                f"this worker (pid {os.getpid()}) is replaced and the request answered with the timeout"
            )
            for handler in logging.getLogger().handlers + logger.handlers:
                handler.flush()
            os.kill(os.getpid(), signal.SIGKILL)
