"""The daemon's reader of the event channel: whole lines only, and a replaced reload
generation's events dropped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("psutil")  # the daemon's extra

from azmlinfsrv.daemon.supervisor import EventReader  # noqa: E402


def append(path: Path, *events: dict[str, object], tail: str = "") -> None:
    with path.open("a") as f:
        f.write("".join(json.dumps(e) + "\n" for e in events) + tail)


def test_a_partial_line_waits_for_its_end(tmp_path: Path) -> None:
    path = tmp_path / "events"
    reader = EventReader(str(path))
    append(path, {"event": "worker_ready", "pid": 1}, tail='{"event": "init_')
    assert [e["event"] for e in reader.read_new()] == ["worker_ready"]
    append(path, tail='failed", "pid": 2}\n')
    assert [e["event"] for e in reader.read_new()] == ["init_failed"]


def test_events_of_a_replaced_generation_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "events"
    reader = EventReader(str(path))
    append(
        path,
        {"event": "worker_ready", "pid": 10, "generation": 1},
        {"event": "reloading", "pid": 9, "generation": 2},
        {"event": "reloading", "pid": 9, "generation": 3},
        {"event": "init_failed", "pid": 11, "generation": 2},  # the stale code's, written late
        {"event": "worker_ready", "pid": 12, "generation": 3},
        {"event": "run_failed", "pid": 13},  # no generation (waitress, or no --reload): kept
    )
    seen = [(e["event"], e.get("generation")) for e in reader.read_new()]
    assert seen == [
        ("worker_ready", 1),
        ("reloading", 2),
        ("reloading", 3),
        ("worker_ready", 3),
        ("run_failed", None),
    ]
    assert reader.generation == 3
