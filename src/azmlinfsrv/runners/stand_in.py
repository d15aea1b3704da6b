"""The arbiter stands in for a worker that cannot answer: crashes and hangs inside run().

A worker that dies inside run() (``os._exit``, a segfault in native code, gunicorn's
timeout kill) takes its client socket with it, and the client would only see the
connection drop. A run() stuck in code that blocks signals never sees the SIGALRM of the
scoring timeout, and would hold the client until it returns by itself.

So the gunicorn arbiter keeps a duplicate of each worker's current client socket, passed
over a Unix socket pair (SCM_RIGHTS) once per connection, and shared memory that says what
the worker is doing (idle, in run(), already answering, past its deadline) and until when
its run() may take. When it reaps a worker that died mid-request, it writes the answer
itself: 502 for a crash, the contract's scoring-timeout 500 for a hang. The arbiter, not the
worker, watches the deadlines: a run() stuck in native code that holds the GIL stops every
thread of its worker, so only another process can see it outlive the scoring timeout (plus
a grace period); the arbiter then kills that worker, answers 500, and a new worker takes over.

The same shared memory carries each worker's "init() done" flag, from which the arbiter
publishes whether every worker is ready (readiness.py, ``GET /readyz``).
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

from ..readiness import Board

logger = logging.getLogger("azmlinfsrv")

IDLE, IN_RUN, ANSWERING, TIMED_OUT = 0, 1, 2, 3
CRASH_MESSAGE = "The worker running score.py died while handling this request."
WATCHDOG_GRACE_SECONDS = 1.0  # past the scoring deadline before the arbiter kills the worker
DRAIN_SECONDS = 0.02  # between the arbiter's passes over the workers' messages and deadlines
# The worker's shared memory: byte 0 its state, byte 1 its init() done, bytes 8-16 the scoring
# timeout in ms (for the message), bytes 16-24 the deadline of its run() (time.monotonic(),
# one clock for every process of the machine).
_STATE, _READY, _TIMEOUT_AT, _DEADLINE_AT, _SHARED_BYTES = 0, 1, 8, 16, 24
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

    __slots__ = ("channel", "worker_end", "state", "held", "worker", "suspect")

    def __init__(self, worker: Any) -> None:
        self.channel, self.worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.channel.setblocking(False)
        self.state = mmap.mmap(-1, _SHARED_BYTES)
        self.held: int | None = None
        self.worker = worker  # gunicorn's Worker: its pid is set once forked
        self.suspect: float | None = None  # a passed deadline seen once, to be confirmed

    def past_deadline(self, now: float) -> bool:
        """In run() past its deadline (plus grace), seen on two passes in a row: a worker's
        writes of a new deadline and of its state may reach this process out of order."""
        if self.state[_STATE] != IN_RUN:
            self.suspect = None
            return False
        deadline: float = struct.unpack_from("<d", self.state, _DEADLINE_AT)[0]
        if now < deadline + WATCHDOG_GRACE_SECONDS:
            self.suspect = None
            return False
        confirmed = self.suspect == deadline
        self.suspect = deadline
        return confirmed

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

    def __init__(self, board: Board) -> None:
        self._slots: dict[int, _Slot] = {}  # by worker age (known before the fork)
        self._lock = threading.Lock()
        self._reader: threading.Thread | None = None
        self._board = board
        self._arbiter: Any = None
        self._stopping = False

    def stopping(self) -> None:
        """The server drains: not ready any more, whatever the workers say."""
        self._stopping = True
        self._board.publish(False)

    # -- gunicorn hooks ----------------------------------------------------------------------
    def pre_fork(self, arbiter: Any, worker: Any) -> None:
        slot = _Slot(worker)
        with self._lock:
            self._slots[worker.age] = slot
            self._arbiter = arbiter
        worker.azmlinfsrv_stand_in = slot
        if self._reader is None:
            self._reader = threading.Thread(target=self._watch, name="azmlinfsrv-stand-in", daemon=True)
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
        self._publish_readiness()
        slot.take_messages()
        state = slot.state[_STATE]
        if slot.held is not None and state in (IN_RUN, TIMED_OUT):
            if state == TIMED_OUT:
                timeout_ms = struct.unpack_from("<q", slot.state, _TIMEOUT_AT)[0]
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
    def _watch(self) -> None:
        """Take the workers' messages in batches, not one wake-up per connection: that would
        cost the arbiter CPU time that the workers need. A dying worker's messages are taken
        by child_exit itself before it decides. Each pass also checks the deadlines of the
        workers in run() and publishes readiness."""
        while True:
            time.sleep(DRAIN_SECONDS)
            now = time.monotonic()
            with self._lock:
                for slot in self._slots.values():
                    slot.take_messages()
                    if slot.past_deadline(now):
                        self._kill_hung(slot)
            self._publish_readiness()

    def _kill_hung(self, slot: _Slot) -> None:
        slot.state[_STATE] = TIMED_OUT
        pid = slot.worker.pid
        logger.error(
            "run() did not stop at the scoring timeout (it blocks signals or holds the GIL, e.g. in native code); "
            f"worker {pid} is replaced and the request answered with the timeout"
        )
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass  # gone already: child_exit answers

    def _publish_readiness(self) -> None:
        with self._lock:
            arbiter = self._arbiter
            done = sum(1 for slot in self._slots.values() if slot.state[_READY])
        wanted = arbiter.num_workers if arbiter is not None else 1
        self._board.publish(not self._stopping and done >= wanted)


class WorkerSide:
    """The worker's side: report each connection, what the worker is doing and until when,
    and that its init() is done. A request costs a few writes to shared memory and no system
    call; a connection costs one ``sendmsg``."""

    _channel: socket.socket | None = None
    _state: mmap.mmap | None = None

    @classmethod
    def install(cls, channel: socket.socket, state: mmap.mmap) -> None:
        cls._channel, cls._state = channel, state

    @classmethod
    def ready(cls) -> None:
        """init() is done and the worker serves (its readiness counts for GET /readyz)."""
        if cls._state is not None:
            cls._state[_READY] = 1

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
            struct.pack_into("<qd", state, _TIMEOUT_AT, timeout_ms, time.monotonic() + timeout_ms / 1000)
            state[_STATE] = IN_RUN

    @classmethod
    def response_started(cls) -> None:
        if cls._state is not None:
            cls._state[_STATE] = ANSWERING

    @classmethod
    def request_finished(cls) -> None:
        if cls._state is not None:
            cls._state[_STATE] = IDLE
