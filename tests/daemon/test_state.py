"""ServerLife in-process: every transition the server's events make, and the status JSON."""

from __future__ import annotations

from typing import Any

import pytest

from azmlinfsrv.daemon.state import TRANSITIONS, ErrorLocation, ServerLife, ServerState, ServerStatus

ROOT = "/app"


def event(kind: str, pid: int = 10, **fields: Any) -> dict[str, Any]:
    return {"event": kind, "pid": pid, "time": 0.0, **fields}


def failure(kind: str, line: int = 7) -> dict[str, Any]:
    exception = {"type": "ValueError", "message": "boom", "frames": [{"file": "/app/score.py", "line": line}]}
    return event(kind, exception=exception)


def started(workers: int = 1) -> ServerLife:
    life = ServerLife()
    life.begin(workers, ROOT)
    return life


def test_starting_until_every_worker_is_ready() -> None:
    life = started(workers=2)
    assert life.state is ServerState.STARTING and not life.settled
    life.apply(event("worker_ready", 11))
    assert life.state is ServerState.STARTING
    life.apply(event("worker_ready", 12))
    assert life.state is ServerState.RUNNING and life.ready == {11, 12} and life.settled


def test_an_init_failure_at_start_fails_with_its_words_and_line() -> None:
    life = started()
    life.apply(failure("init_failed"))
    assert life.state is ServerState.FAILED
    assert life.error == "init() failed: ValueError: boom (score.py:7)"
    assert life.error_location == ErrorLocation("/app/score.py", 7)


def test_an_import_failure_is_named_so() -> None:
    life = started()
    life.apply(failure("import_failed", line=2))
    assert life.error == "importing the entry script failed: ValueError: boom (score.py:2)"


def test_a_failed_reload_keeps_running_with_the_error_and_a_good_one_clears_it() -> None:
    life = started()
    life.apply(event("worker_ready", 11))
    life.apply(event("reloading", 1))
    life.apply(failure("init_failed"))
    life.apply(event("reload_failed", 1, workerPids=[11]))
    assert life.state is ServerState.RUNNING and life.ready == {11}
    assert life.error and life.error.startswith("init() failed:")
    life.apply(event("reloading", 1))
    life.apply(event("worker_ready", 12))
    assert life.pending == {12} and life.ready == {11}  # the new generation is not serving yet
    life.apply(event("reloaded", 1, workerPids=[12]))
    assert life.state is ServerState.RUNNING and life.ready == {12} and life.error is None


def test_a_save_after_a_failed_start_starts_again() -> None:
    life = started()
    life.apply(failure("init_failed"))
    life.apply(event("reloading", 1))
    assert life.state is ServerState.STARTING
    life.apply(event("worker_ready", 12))
    life.apply(event("reloaded", 1, workerPids=[12]))
    assert life.state is ServerState.RUNNING and life.error is None


def test_exit_keeps_an_event_s_reason_over_the_exit_code() -> None:
    life = started()
    life.apply(failure("init_failed"))
    life.exited("azmlinfsrv exited with code 3")
    assert life.error and life.error.startswith("init() failed:")
    other = started()
    other.exited("port 5001 is already in use")
    assert other.state is ServerState.FAILED and other.error == "port 5001 is already in use"


def test_debug_listeners_follow_the_generation() -> None:
    life = started()
    life.apply(event("debug_listening", 11, port=4000))
    life.apply(event("worker_ready", 11))
    life.apply(event("reloading", 1))
    life.apply(event("debug_listening", 12, port=4001))
    assert life.debug_ports == {11: 4000, 12: 4001}
    life.apply(event("worker_ready", 12))
    life.apply(event("reloaded", 1, workerPids=[12]))
    assert life.debug_ports == {12: 4001}


def test_stop_clears_the_workers() -> None:
    life = started()
    life.apply(event("worker_ready", 11))
    life.stopped()
    assert life.state is ServerState.STOPPED and not life.ready and life.settled


def test_a_move_outside_the_table_is_ignored(caplog: pytest.LogCaptureFixture) -> None:
    life = ServerLife()
    life.apply(event("reloaded", 1, workerPids=[3]))  # stopped -> running is not a move
    assert life.state is ServerState.STOPPED
    assert "ignored a move" in caplog.text


def test_every_state_has_its_moves() -> None:
    assert set(TRANSITIONS) == set(ServerState)


def test_status_json_spells_fields_as_the_client_does() -> None:
    status = ServerStatus(state=ServerState.RUNNING, url="http://127.0.0.1:5001", port=5001, pid=3, worker_pids=[4])
    assert status.to_json() == {
        "state": "running",
        "url": "http://127.0.0.1:5001",
        "port": 5001,
        "pid": 3,
        "workerPids": [4],
        "entryScript": None,
        "debug": False,
    }
    failed = ServerStatus(state=ServerState.FAILED, error="x", error_location=ErrorLocation("/a.py", 2))
    assert failed.to_json()["errorLocation"] == {"file": "/a.py", "line": 2}
