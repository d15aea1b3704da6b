"""ServerLife in-process: every transition the server's events make, and the status JSON."""

from __future__ import annotations

from typing import Any

import pytest

from azmlinfsrv.daemon.state import (
    TRANSITIONS,
    ErrorLocation,
    LastReload,
    Phase,
    ServerLife,
    ServerState,
    ServerStatus,
)

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
        "reloading": False,
    }
    failed = ServerStatus(state=ServerState.FAILED, error="x", error_location=ErrorLocation("/a.py", 2))
    assert failed.to_json()["errorLocation"] == {"file": "/a.py", "line": 2}


def test_a_start_says_what_it_is_doing_least_advanced_worker_first() -> None:
    life = started(workers=2)
    assert life.phase is None  # spawned, no worker has said anything yet
    life.apply(event("debug_listening", 11, port=4000))
    life.apply(event("debug_listening", 12, port=4001))
    assert life.phase is Phase.WAITING_FOR_DEBUGGER
    life.apply(event("importing", 11))
    assert life.phase is Phase.WAITING_FOR_DEBUGGER  # worker 12 still waits
    life.apply(event("importing", 12))
    life.apply(event("init_started", 12))
    assert life.phase is Phase.IMPORTING
    life.apply(event("init_started", 11))
    assert life.phase is Phase.INIT and Phase.INIT.words == "running init()"
    life.apply(event("worker_ready", 11))
    life.apply(event("worker_ready", 12))
    assert life.state is ServerState.RUNNING and life.phase is None


def test_a_failed_start_has_no_phase() -> None:
    life = started()
    life.apply(event("importing", 10))
    life.apply(failure("init_failed"))
    assert life.state is ServerState.FAILED and life.phase is None


def test_a_reload_has_phases_while_the_old_code_serves_and_records_how_it_ended() -> None:
    life = started()
    life.apply(event("worker_ready", 11))
    life.apply(event("importing", 11))  # a restarted worker of the serving generation: no phase shown
    assert life.phase is None and life.last_reload is None
    life.apply(event("worker_ready", 11))
    life.apply(event("reloading", 1))
    assert life.reloading and life.phase is None
    life.apply(event("importing", 12))
    life.apply(event("init_started", 12))
    assert life.state is ServerState.RUNNING and life.phase is Phase.INIT
    life.apply(failure("init_failed") | {"pid": 12})
    life.apply({**event("reload_failed", 1, workerPids=[11]), "time": 5.0})
    assert life.state is ServerState.RUNNING and life.phase is None and not life.reloading
    assert life.last_reload == LastReload(ok=False, time=5.0) and life.error
    life.apply(event("reloading", 1))
    life.apply(event("worker_ready", 13))
    life.apply({**event("reloaded", 1, workerPids=[13]), "time": 9.0})
    assert life.last_reload == LastReload(ok=True, time=9.0) and life.error is None


def test_a_new_process_forgets_the_last_reload() -> None:
    life = started()
    life.apply(event("worker_ready", 11))
    life.apply(event("reloading", 1))
    life.apply(event("reloaded", 1, workerPids=[12]))
    life.stopped()
    life.begin(1, ROOT)
    assert life.last_reload is None and not life.reloading and life.phase is None


def test_status_json_of_a_reload() -> None:
    status = ServerStatus(
        state=ServerState.RUNNING, phase=Phase.INIT, reloading=True, last_reload=LastReload(ok=False, time=1.5)
    )
    out = status.to_json()
    assert (out["phase"], out["reloading"], out["lastReload"]) == ("init", True, {"ok": False, "time": 1.5})
