"""`--reload` (ours): new workers serve an edited score.py; a broken edit keeps the old ones."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from ._support import read_events, wait_for_event, wait_until

pytestmark = pytest.mark.ours

VERSIONED = """\
import os


def init():
    pass


def run(data):
    return {{"version": "{version}", "pid": os.getpid()}}
"""

BROKEN = """\
import os


def init():
    raise RuntimeError("broken-edit-marker")


def run(data):
    return {"version": "broken", "pid": os.getpid()}
"""
BROKEN_LINE = 5


def _rewrite(path: Path, text: str) -> None:
    """Replace score.py and move its mtime clearly forward, as an editor's save does."""
    before = path.stat().st_mtime
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    stamp = max(before + 2, path.stat().st_mtime)
    os.utime(path, (stamp, stamp))


def _answer(srv) -> dict | None:
    try:
        r = srv.score("x", timeout=10)
    except Exception:  # a worker being replaced may drop one connection
        return None
    return r.json() if r.status_code == 200 else None


def _wait_version(srv, version: str, timeout: float = 30) -> dict:
    return wait_until(
        lambda: (lambda a: a if a and a["version"] == version else None)(_answer(srv)),
        timeout,
        f"run() to answer version {version}",
        interval=0.2,
        on_fail=srv.describe,
    )


@pytest.mark.parametrize("workers", ["1", "2"])
def test_reload_on_edit_keeps_old_workers_on_broken_edit(server, tmp_path, workers):
    events = tmp_path / "events.jsonl"
    srv = server.start(VERSIONED.format(version="v1"), "--reload", "--worker_count", workers, "--events", str(events))
    first = srv.score("x").json()
    assert first["version"] == "v1"
    script = srv.app_dir / "score.py"

    # 1. A good edit: new workers with the new code.
    _rewrite(script, VERSIONED.format(version="v2"))
    second = _wait_version(srv, "v2")
    assert second["pid"] != first["pid"]
    reloaded = wait_for_event(
        events,
        lambda e: e.get("event") == "reloaded" and second["pid"] in e.get("workerPids", []),
        server=srv,
    )
    assert isinstance(reloaded["workerPids"], list)
    assert len(reloaded["workerPids"]) == int(workers)
    assert first["pid"] not in reloaded["workerPids"]

    # 2. A broken edit: the error is logged with file and line, init_failed is emitted,
    #    and the running workers keep serving the last good code.
    seen = len(read_events(events))
    _rewrite(script, BROKEN)
    failed = wait_for_event(events, lambda e: e.get("event") == "init_failed", server=srv, start=seen)
    assert failed["exception"]["type"] == "RuntimeError"
    assert failed["exception"]["message"] == "broken-edit-marker"
    last = failed["exception"]["frames"][-1]
    assert os.path.realpath(last["file"]) == os.path.realpath(script)
    assert last["line"] == BROKEN_LINE
    srv.wait_for_log("broken-edit-marker")
    logs = srv.logs()
    assert str(script) in logs or os.path.realpath(script) in logs
    assert f"line {BROKEN_LINE}" in logs
    for _ in range(5):
        r = srv.score("x")
        assert r.status_code == 200, r.text
        assert r.json()["version"] == "v2"
    assert srv.proc.poll() is None
    assert srv.get("/").text == "Healthy"

    # 3. Fixed again: reloads successfully.
    seen = len(read_events(events))
    _rewrite(script, VERSIONED.format(version="v3"))
    third = _wait_version(srv, "v3")
    wait_for_event(
        events,
        lambda e: e.get("event") == "reloaded" and third["pid"] in e.get("workerPids", []),
        server=srv,
        start=seen,
    )
    assert third["pid"] not in (first["pid"], second["pid"])


def test_waitress_reload_rebuilds_the_app_in_process_and_rereads_helper_modules(server):
    # waitress: one process, so the reload re-imports the user's modules (score.py's helper
    # too) and swaps the app; a broken edit keeps the previous app serving.
    srv = server.start(
        "import helper\n\ndef init():\n    pass\n\ndef run(data):\n    return helper.VERSION\n",
        "--reload",
        "--server",
        "waitress",
        files={"helper.py": 'VERSION = "h1"\n'},
    )
    assert srv.score("x").json() == "h1"
    helper = srv.app_dir / "helper.py"
    _rewrite(helper, 'VERSION = "h2"\n')
    wait_until(lambda: _score_json(srv) == "h2", 30, "the edited helper to be served", interval=0.2)
    _rewrite(helper, 'raise RuntimeError("broken helper")\n')
    srv.wait_for_log("Reload failed: the previous app keeps serving")
    assert srv.score("x").json() == "h2"


def _score_json(srv):
    r = srv.score("x", timeout=10)
    return r.json() if r.status_code == 200 else None
