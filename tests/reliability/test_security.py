"""Security defaults: loopback binds, debug listeners on 127.0.0.1 only, no tracebacks or
paths in responses, no path traversal, the Application Insights key never printed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import psutil
import pytest

from ..server._support import ServerFactory, wait_until

pytestmark = pytest.mark.ours

LEAKY = """\
import os

SECRET_DIR = os.path.dirname(os.path.abspath(__file__))

def init():
    pass

def run(data):
    raise RuntimeError(f"cannot open {SECRET_DIR}/weights.bin: permission denied")
"""


def listening_addresses(pids: set[int] | None = None) -> set[tuple[str, int]]:
    """Listening (address, port) pairs, of ``pids`` or of any process."""
    found = set()
    for c in psutil.net_connections(kind="inet"):
        if c.status == psutil.CONN_LISTEN and (pids is None or c.pid in pids):
            found.add((c.laddr.ip, c.laddr.port))
    return found


def tree(pid: int) -> set[int]:
    process = psutil.Process(pid)
    return {process.pid, *(c.pid for c in process.children(recursive=True))}


def test_errors_carry_no_traceback_and_no_file_path(server: ServerFactory) -> None:
    srv = server.start(LEAKY)
    r = srv.score("x")
    assert r.status_code == 500
    assert r.json() == {"message": "An unexpected error occurred in scoring script. Check the logs for more info."}
    assert str(srv.app_dir) not in r.text and "Traceback" not in r.text
    for path in ("/nope", "/score?x=" + "y" * 10):
        assert "Traceback" not in srv.get(path).text
    # The details are in the log, for the person who runs the server.
    srv.wait_for_log("weights.bin: permission denied")


def test_swagger_is_served_only_from_fixed_names_in_the_app_root(server: ServerFactory, tmp_path: Path) -> None:
    outside = tmp_path / "secret.json"
    outside.write_text('{"secret": true}')
    srv = server.start(files={"swagger.json": '{"mine": 1}'})
    assert srv.get("/swagger.json").json() == {"mine": 1}
    for version in ("../secret", "../../secret.json", "/etc/passwd", "2/../../secret", "%2e%2e%2fsecret"):
        r = srv.get("/swagger.json", params={"version": version})
        assert r.status_code == 404
        assert "secret" not in json.dumps(r.json()).replace(version, "")
    for path in ("/../secret.json", "/static/../../secret.json", "/swagger.json/../secret.json"):
        assert srv.get(path).status_code == 404


def test_application_insights_key_is_never_printed(server: ServerFactory) -> None:
    key = "0f4a7d2c-1b3e-4c5d-8e9f-a0b1c2d3e4f5"
    srv = server.start(
        None, "--appinsights_instrumentation_key", key, files={"score.py": "def init(): pass\n\ndef run(d): return d\n"}
    )
    assert "AppInsights key provided" in srv.logs()
    assert key not in srv.logs()
    bad = server.cli("--entry_script", "missing.py", "--appinsights_instrumentation_key", "not-a-uuid-secret")
    assert "not-a-uuid-secret" not in bad.output
    assert "Invalid Application Insights instrumentation key provided." in bad.output


def test_debug_listener_binds_loopback_even_when_the_server_listens_everywhere(
    server: ServerFactory, tmp_path: Path
) -> None:
    events = tmp_path / "events.jsonl"
    srv = server.start(
        "def init():\n    pass\n\ndef run(data):\n    return data\n",
        "--host",
        "0.0.0.0",
        "--events",
        str(events),
        env={"AZMLINFSRV_DEBUG_LISTEN_PORT": "0"},
        wait=False,
    )

    def listening_event() -> dict | None:
        if not events.exists():
            return None
        for line in events.read_text().splitlines():
            event = json.loads(line)
            if event["event"] == "debug_listening":
                return event
        return None

    event = wait_until(listening_event, 30, "debug_listening event", on_fail=srv.describe)
    assert event["host"] == "127.0.0.1"
    port = event["port"]
    # debugpy's adapter process owns the socket (it may live outside the server's process tree).
    addresses = wait_until(lambda: {a for a in listening_addresses() if a[1] == port}, 15, "the debug listener socket")
    assert addresses == {("127.0.0.1", port)}
    # The server itself listens on every interface, as asked, and says debugging makes that risky.
    assert ("0.0.0.0", srv.port) in listening_addresses(tree(srv.pid))
    srv.wait_for_log(re.compile(r"W \[\d+\] azmlinfsrv - Debugging is on while the server listens on all interfaces"))


def test_daemon_started_server_listens_on_loopback_only(tmp_path: Path) -> None:
    """The daemon's server: checked through the same real daemon the editor uses."""
    from ..daemon.stdio import StdioDaemon

    score = tmp_path / "score.py"
    score.write_text("def init():\n    pass\n\ndef run(data):\n    return data\n")
    daemon = StdioDaemon()
    try:
        status = daemon.command("azmlinfsrv.daemon.startServer", {"entryScript": str(score)})
        assert status["state"] == "running"
        assert listening_addresses(tree(status["pid"])) == {("127.0.0.1", status["port"])}
        daemon.command("azmlinfsrv.daemon.stopServer")
    finally:
        daemon.stop()
