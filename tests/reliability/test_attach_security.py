"""The attach channel's security model (docs/attach.md), against real servers: its listener is
loopback only whatever --host says; another user can neither reach the socket nor, if the
folder's permissions were loosened, be served by it; a runtime folder someone else can enter
is not used at all."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from azmlinfsrv import attach_channel

from ..server._support import ServerFactory, wait_until
from .test_security import listening_addresses

pytestmark = pytest.mark.ours
NOBODY = 65534
SYSTEM_PYTHON = "/usr/bin/python3"  # readable by any user, unlike a venv under /root
ASK = (
    "import socket, sys\n"
    "s = socket.socket(socket.AF_UNIX)\n"
    "s.connect(sys.argv[1])\n"
    "try:\n"
    '    s.sendall(b\'{"command": "listen"}\\n\')\n'
    "except BrokenPipeError:\n"
    "    pass  # refused before the request was read: the answer is there to read\n"
    "print(s.makefile().readline())\n"
)
as_another_user = pytest.mark.skipif(
    os.geteuid() != 0 or not os.path.exists(SYSTEM_PYTHON), reason="needs root to act as another user"
)


@pytest.fixture
def runtime_tmp() -> Iterator[str]:
    """The server's TMPDIR (short: Unix socket paths are limited); any user may enter it, as /tmp."""
    folder = tempfile.mkdtemp(prefix="att-")
    os.chmod(folder, 0o1777)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _worker_socket(pid: int, runtime_tmp: str) -> tuple[int, str]:
    [worker] = psutil.Process(pid).children()
    path = attach_channel.socket_path(attach_channel.runtime_dir({"TMPDIR": runtime_tmp}), worker.pid)
    wait_until(lambda: os.path.exists(path), 30, "the worker's attach socket")
    return worker.pid, path


def test_the_listener_is_loopback_even_when_the_server_listens_everywhere(
    server: ServerFactory, runtime_tmp: str, tmp_path: Path
) -> None:
    events = tmp_path / "events.jsonl"
    score = {"score.py": "def init(): pass\n\ndef run(d): return d\n"}
    srv = server.start(None, "--host", "0.0.0.0", "--events", str(events), env={"TMPDIR": runtime_tmp}, files=score)
    worker, path = _worker_socket(srv.pid, runtime_tmp)
    reply = attach_channel.request_listener(path)
    assert reply["host"] == "127.0.0.1", reply
    port = reply["port"]
    addresses = wait_until(lambda: {a for a in listening_addresses() if a[1] == port}, 15, "the debug listener")
    assert addresses == {("127.0.0.1", port)}
    assert srv.score("still serving").status_code == 200
    # Announced on the event channel and beside the socket; the worker does not wait for a debugger.
    announced = [json.loads(line) for line in events.read_text().splitlines()]
    [event] = [e for e in announced if e["event"] == "debug_listening"]
    assert (event["pid"], event["host"], event["port"], event["waiting"]) == (worker, "127.0.0.1", port, False)
    discovery = json.loads(Path(attach_channel.discovery_path(os.path.dirname(path), worker)).read_text())
    assert discovery == {"pid": worker, "host": "127.0.0.1", "port": port, "server": srv.pid}


@as_another_user
def test_another_user_cannot_ask(server: ServerFactory, runtime_tmp: str) -> None:
    srv = server.start(env={"TMPDIR": runtime_tmp})
    _, path = _worker_socket(srv.pid, runtime_tmp)
    folder = os.path.dirname(path)
    assert (os.stat(folder).st_mode & 0o777, os.stat(path).st_mode & 0o777) == (0o700, 0o600)
    denied = subprocess.run([SYSTEM_PYTHON, "-c", ASK, path], user=NOBODY, capture_output=True, text=True, timeout=30)
    assert denied.returncode != 0 and "PermissionError" in denied.stderr, denied

    # Even with the permissions loosened, the worker checks who is asking (SO_PEERCRED).
    os.chmod(folder, 0o711)
    os.chmod(path, 0o666)
    refused = subprocess.run([SYSTEM_PYTHON, "-c", ASK, path], user=NOBODY, capture_output=True, text=True, timeout=30)
    assert refused.returncode == 0 and "refused: another user" in refused.stdout, refused
    assert not os.path.exists(attach_channel.discovery_path(folder, int(Path(path).stem)))  # nothing opened


def test_a_runtime_folder_others_can_enter_is_not_used(server: ServerFactory, runtime_tmp: str) -> None:
    planted = Path(attach_channel.runtime_dir({"TMPDIR": runtime_tmp}))
    planted.mkdir()
    planted.chmod(0o777)  # made by someone else, or left open: a socket there could be swapped
    srv = server.start(env={"TMPDIR": runtime_tmp})
    srv.wait_for_log("No debugger attach channel")
    assert list(planted.iterdir()) == []
    assert srv.score("x").status_code == 200
