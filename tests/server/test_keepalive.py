"""HTTP/1.1 keep-alive of our gunicorn worker (runners/worker.py): connections stay open
between requests, while run() still runs one request at a time per worker. The reference's
sync worker closes every connection, so these tests are ours only."""

from __future__ import annotations

import re
import socket
import time

import pytest

pytestmark = pytest.mark.ours

ECHO_SCRIPT = """\
def init():
    pass


def run(data):
    return data
"""

SLOW_SCRIPT = """\
import time


def init():
    pass


def run(data):
    time.sleep(0.3)
    return data
"""


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    return sock


def _read_response(sock: socket.socket, buffer: bytearray) -> tuple[bytes, bytes]:
    """One response (head, body) read off ``sock``; extra bytes stay in ``buffer``."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed after {bytes(buffer)!r}")
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the body")
        rest += chunk
    buffer[:] = rest[length:]
    return head, rest[:length]


def _closed_by_server(sock: socket.socket, timeout: float) -> bool:
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def _post(body: bytes, extra: bytes = b"") -> bytes:
    return (
        b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + extra
        + b"Content-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


def test_requests_share_one_connection(server):
    srv = server.start(ECHO_SCRIPT)
    with _connect(srv.port) as sock:
        buffer = bytearray()
        for i in range(3):
            sock.sendall(_post(b'{"n": %d}' % i, b"x-request-id: keep-%d\r\n" % i))
            head, body = _read_response(sock, buffer)
            assert head.startswith(b"HTTP/1.1 200"), head
            assert b"Connection: keep-alive" in head
            assert b"x-request-id: keep-%d" % i in head
            assert b'\\"n\\": %d' % i in body
    srv.wait_for_log(re.compile(r"POST /score 200 [\d.]+ms \d+"), count=3)


def test_pipelined_requests_are_answered_in_order(server):
    srv = server.start(ECHO_SCRIPT)
    with _connect(srv.port) as sock:
        sock.sendall(
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" + _post(b'{"second": 2}') + b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        buffer = bytearray()
        answers = [_read_response(sock, buffer) for _ in range(3)]
    assert [body for _, body in answers][0::2] == [b"Healthy", b"Healthy"]
    assert b"second" in answers[1][1]


def test_close_when_the_client_asks_or_speaks_http_1_0(server):
    srv = server.start(ECHO_SCRIPT)
    for request in (
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.0\r\n\r\n",
    ):
        with _connect(srv.port) as sock:
            sock.sendall(request)
            head, body = _read_response(sock, bytearray())
            assert body == b"Healthy"
            assert b"Connection: close" in head
            assert _closed_by_server(sock, 5)


def test_unread_request_body_closes_the_connection(server):
    # 405 before the body is read: the next request's start is unknown, so close.
    srv = server.start(ECHO_SCRIPT)
    with _connect(srv.port) as sock:
        sock.sendall(b"PUT /score HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        head, _ = _read_response(sock, bytearray())
        assert head.startswith(b"HTTP/1.1 405")
        assert b"Connection: close" in head
        assert _closed_by_server(sock, 5)


def test_idle_connection_is_closed_and_does_not_block_others(server):
    srv = server.start(ECHO_SCRIPT)
    with _connect(srv.port) as idle, _connect(srv.port) as other:
        idle.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _read_response(idle, bytearray())[1] == b"Healthy"
        # one worker, one idle keep-alive connection: another client is still served
        started = time.monotonic()
        other.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _read_response(other, bytearray())[1] == b"Healthy"
        assert time.monotonic() - started < 1.0
        assert _closed_by_server(idle, 10)  # after the keep-alive timeout (2 s)


def test_one_request_at_a_time_per_worker(server):
    # Two connections sending at once to one worker: run() calls do not overlap.
    srv = server.start(SLOW_SCRIPT)
    with _connect(srv.port) as first, _connect(srv.port) as second:
        started = time.monotonic()
        first.sendall(_post(b'"a"'))
        second.sendall(_post(b'"b"'))
        assert _read_response(first, bytearray())[0].startswith(b"HTTP/1.1 200")
        assert _read_response(second, bytearray())[0].startswith(b"HTTP/1.1 200")
        assert time.monotonic() - started >= 0.55
