"""The structured events channel (ours): JSON lines appended to AZMLINFSRV_EVENTS / --events."""

from __future__ import annotations

import json
import os
import re

import pytest

from ._support import read_events, wait_for_event, wait_until

pytestmark = pytest.mark.ours

EVENT_SCRIPT = """\
import os


def init():
    pass


def run(data):
    if data == "raise":
        raise KeyError("run-key-boom")
    return {"pid": os.getpid()}
"""


INIT_LESS_RUN = "def run(data):\n    return data\n"


def _check_common(ev: dict) -> None:
    assert isinstance(ev["event"], str)
    assert isinstance(ev["pid"], int) and not isinstance(ev["pid"], bool)
    assert isinstance(ev["time"], float)


def _check_exception(
    exc: dict, type_name: str, message: str | None, script: str, line: int, function: str | None
) -> None:
    assert exc["type"] == type_name, exc
    if message is not None:
        assert exc["message"] == message, exc
    frames = exc["frames"]
    assert isinstance(frames, list) and frames, exc
    for frame in frames:
        assert isinstance(frame["file"], str) and os.path.isabs(frame["file"]), frame
        assert isinstance(frame["line"], int), frame
        assert isinstance(frame["function"], str), frame
    last = frames[-1]
    assert os.path.realpath(last["file"]) == os.path.realpath(script), exc
    assert last["line"] == line, exc
    if function is not None:
        assert last["function"] == function, exc


@pytest.mark.parametrize("how", ["flag", "env"])
def test_worker_ready_event(server, tmp_path, how):
    events = tmp_path / "events.jsonl"
    if how == "flag":
        srv = server.start(EVENT_SCRIPT, "--events", str(events))
    else:
        srv = server.start(EVENT_SCRIPT, env={"AZMLINFSRV_EVENTS": str(events)})
    pid = srv.score("x").json()["pid"]
    ev = wait_for_event(events, lambda e: e.get("event") == "worker_ready", server=srv)
    _check_common(ev)
    assert ev["pid"] == pid
    for line in events.read_text().splitlines():
        _check_common(json.loads(line))


def test_worker_ready_for_each_worker(server, tmp_path):
    events = tmp_path / "events.jsonl"
    srv = server.start(EVENT_SCRIPT, "--worker_count", "2", "--events", str(events))
    ready = srv.wait_for_log(re.compile(r"Worker with pid \d+ ready for serving traffic"), count=2)
    assert ready
    logged = {int(p) for p in re.findall(r"Worker with pid (\d+) ready for serving traffic", srv.logs())}

    def ready_pids():
        pids = {e["pid"] for e in read_events(events) if e["event"] == "worker_ready"}
        return pids if len(pids) == 2 else None

    assert wait_until(ready_pids, 20, "two worker_ready events", on_fail=srv.describe) == logged


def test_a_worker_says_when_it_imports_and_runs_init(server, tmp_path):
    """importing, init_started, worker_ready from one worker, in that order (a slow start's phases)."""
    events = tmp_path / "events.jsonl"
    srv = server.start(EVENT_SCRIPT, "--events", str(events))
    pid = srv.score("x").json()["pid"]
    wait_for_event(events, lambda e: e.get("event") == "worker_ready", server=srv)
    mine = [e["event"] for e in read_events(events) if e["pid"] == pid]
    assert mine[:3] == ["importing", "init_started", "worker_ready"], mine


def test_a_failed_import_never_says_init_started(server, tmp_path):
    events = tmp_path / "events.jsonl"
    srv = server.start("raise ImportError('nope')\n", "--events", str(events), wait=False)
    assert srv.wait_exit(30) == 3, srv.describe()
    wait_for_event(events, lambda e: e.get("event") == "import_failed", server=srv, timeout=5)
    kinds = [e["event"] for e in read_events(events)]
    assert "importing" in kinds and "init_started" not in kinds, kinds
    assert kinds.index("importing") < kinds.index("import_failed")


def test_import_failed_event(server, tmp_path):
    events = tmp_path / "events.jsonl"
    srv = server.start(
        "import os\nx = 1\ny = 1 / 0\n\ndef init():\n    pass\n\ndef run(data):\n    return data\n",
        "--events",
        str(events),
        wait=False,
    )
    assert srv.wait_exit(30) == 3, srv.describe()
    ev = wait_for_event(events, lambda e: e.get("event") == "import_failed", server=srv, timeout=5)
    _check_common(ev)
    _check_exception(ev["exception"], "ZeroDivisionError", "division by zero", srv.app_dir / "score.py", 3, "<module>")


def test_init_failed_event(server, tmp_path):
    events = tmp_path / "events.jsonl"
    source = "import os\n\n\ndef init():\n    value = 1\n    return value / 0\n\n\n" + INIT_LESS_RUN
    srv = server.start(source, "--events", str(events), wait=False)
    assert srv.wait_exit(30) == 3, srv.describe()
    ev = wait_for_event(events, lambda e: e.get("event") == "init_failed", server=srv, timeout=5)
    _check_common(ev)
    _check_exception(ev["exception"], "ZeroDivisionError", "division by zero", srv.app_dir / "score.py", 6, "init")
    assert not [e for e in read_events(events) if e["event"] == "worker_ready"]


@pytest.mark.parametrize(
    "source,line",
    [
        ("def init():\n    pass\n", 1),  # no run(): line 1
        ("import os\n\n\ndef run(data):\n    return data\n", 1),  # no init(): line 1
        ("def init():\n    pass\n\n\ndef run(*args):\n    return 1\n", 5),
        ("def init():\n    pass\n\n\ndef run(data, **kw):\n    return 1\n", 5),
        ("def init():\n    pass\n\n\n\ndef run():\n    return 1\n", 6),
    ],
    ids=["missing-run", "missing-init", "star-args", "kwargs", "no-input"],
)
def test_contract_violation_is_import_failed(server, tmp_path, source, line):
    events = tmp_path / "events.jsonl"
    srv = server.start(source, "--events", str(events), wait=False)
    assert srv.wait_exit(30) == 3, srv.describe()
    ev = wait_for_event(events, lambda e: e.get("event") == "import_failed", server=srv, timeout=5)
    _check_common(ev)
    _check_exception(ev["exception"], "ScriptContractError", None, srv.app_dir / "score.py", line, None)
    assert ev["exception"]["message"]


def test_run_failed_and_recovered_events(server, tmp_path):
    events = tmp_path / "events.jsonl"
    srv = server.start(EVENT_SCRIPT, "--events", str(events))
    pid = srv.score("ok").json()["pid"]
    assert srv.score("raise", headers={"x-request-id": "failing-request-1"}).status_code == 500
    ev = wait_for_event(events, lambda e: e.get("event") == "run_failed", server=srv)
    _check_common(ev)
    assert ev["pid"] == pid
    assert ev["requestId"] == "failing-request-1"
    _check_exception(ev["exception"], "KeyError", None, srv.app_dir / "score.py", 10, "run")
    assert "run-key-boom" in ev["exception"]["message"]
    assert not [e for e in read_events(events) if e["event"] == "run_recovered"]

    assert srv.score("ok").status_code == 200
    assert srv.score("ok").status_code == 200
    ev = wait_for_event(events, lambda e: e.get("event") == "run_recovered", server=srv)
    _check_common(ev)
    assert ev["pid"] == pid
    # Only the first success after a failure is reported; the request above went by too.
    srv.wait_for_log("POST /score 200", count=3)
    assert len([e for e in read_events(events) if e["event"] == "run_recovered"]) == 1

    # A request without x-request-id gets the generated one.
    r = srv.score("raise")
    ev = wait_for_event(
        events,
        lambda e: e.get("event") == "run_failed" and e.get("requestId") == r.headers["x-request-id"],
        server=srv,
    )
    assert ev["requestId"] == r.headers["x-request-id"]
