"""How ``debugConfigurations {pid}`` chooses for a server it did not start (in-process, with
the process lookups replaced): the attach channel first, PID injection as the fallback, and
one error that says why when neither works."""

from __future__ import annotations

import os
import socket
from typing import Any

import psutil
import pytest

from azmlinfsrv.daemon import attach, processes

SERVER = {"pid": 10, "workerPids": [11, 12], "port": 5001, "entryScript": "/app/score.py"}
NO_GDB = "Attaching to a process by PID needs gdb, which is not installed"
PID_CONFIGS = {"configurations": [{"type": "debugpy", "request": "attach", "processId": 11}]}


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setattr(processes, "server_of", lambda pid: SERVER if pid in (10, 11, 12) else None)
    monkeypatch.setattr(processes, "attach_configurations", lambda pid: {"configurations": [], "error": NO_GDB})
    return SERVER


def _channels(monkeypatch: pytest.MonkeyPatch, answers: dict[int, tuple[int | None, str | None] | None]) -> None:
    """Worker -> (port, problem) from its channel, or None for a worker without one."""
    monkeypatch.setattr(attach, "channel_of", lambda worker: f"/run/{worker}.sock" if answers[worker] else None)
    monkeypatch.setattr(attach, "ask_worker", lambda worker, path, folder: answers[worker])


def test_connect_configurations_from_the_channel(server: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    _channels(monkeypatch, {11: (4011, None), 12: (4012, None)})
    answer = attach.configurations_for(10)
    assert [(c["workerPid"], c["connect"]) for c in answer["configurations"]] == [
        (11, {"host": "127.0.0.1", "port": 4011}),
        (12, {"host": "127.0.0.1", "port": 4012}),
    ]
    assert answer["configurations"][0]["pathMappings"] == [{"localRoot": "/app", "remoteRoot": "/app"}]
    assert "error" not in answer


def test_a_worker_that_cannot_listen_does_not_hide_the_others(
    server: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    _channels(monkeypatch, {11: (None, "debugpy is not installed"), 12: (4012, None)})
    assert [c["workerPid"] for c in attach.configurations_for(12)["configurations"]] == [12]


def test_no_channel_falls_back_to_pid_injection(server: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    _channels(monkeypatch, {11: None, 12: None})
    monkeypatch.setattr(processes, "attach_configurations", lambda pid: PID_CONFIGS)
    assert attach.configurations_for(10) == PID_CONFIGS


def test_neither_way_says_both_reasons(server: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    _channels(monkeypatch, {11: None, 12: None})
    error = attach.configurations_for(10)["error"]
    assert error.startswith("The server's workers have no attach channel") and NO_GDB in error
    _channels(monkeypatch, {11: (None, "debugpy is not installed"), 12: (None, "debugpy is not installed")})
    error = attach.configurations_for(10)["error"]
    assert "could not open a debug listener: debugpy is not installed" in error and NO_GDB in error


def test_an_unknown_pid(server: dict[str, Any]) -> None:
    assert attach.configurations_for(999) == {"configurations": [], "error": "No azmlinfsrv server runs with pid 999."}


def test_a_listener_must_be_loopback_and_the_workers_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(attach.attach_channel, "request_listener", lambda path, folder: {"host": "0.0.0.0", "port": 5})
    assert attach.ask_worker(11, "/run/11.sock", None) == (None, "worker 11 answered without a loopback port")
    monkeypatch.setattr(
        attach.attach_channel, "request_listener", lambda path, folder: {"host": "127.0.0.1", "port": 5}
    )
    monkeypatch.setattr(attach, "listener_serves", lambda worker, port: False)
    port, problem = attach.ask_worker(11, "/run/11.sock", None)
    assert port is None and "its own debug adapter does not listen" in str(problem)


class _Adapter:
    """What psutil.process_iter yields for this process, dressed as a debugpy adapter."""

    pid = os.getpid()
    info = {"cmdline": ["python", "-m", "debugpy.adapter"]}


@pytest.mark.parametrize("table", ["machine-wide", "denied (macOS without root)"])
def test_the_listener_must_hold_the_workers_connection(monkeypatch: pytest.MonkeyPatch, table: str) -> None:
    """This process plays both the worker and its adapter: a real listener and connection."""
    if table != "machine-wide":

        def denied(kind: str = "inet") -> list[Any]:
            raise psutil.AccessDenied()

        monkeypatch.setattr(attach.psutil, "net_connections", denied)
        monkeypatch.setattr(attach.psutil, "process_iter", lambda attrs=None: [_Adapter()])
    with socket.create_server(("127.0.0.1", 0)) as listener, socket.socket() as worker_side:
        port = listener.getsockname()[1]
        assert not attach.listener_serves(os.getpid(), port)  # nothing of the worker's reaches it
        worker_side.connect(("127.0.0.1", port))
        accepted, _ = listener.accept()
        with accepted:
            assert attach.listener_serves(os.getpid(), port)


def test_the_bundles_launcher_is_hidden_from_the_call_stack_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(processes.BUNDLE_ENV, raising=False)
    plain = attach.connect_configuration(7, 5678, None)["rules"]
    assert {"module": "azmlinfsrv", "include": False} in plain
    monkeypatch.setenv(processes.BUNDLE_ENV, "/ext/bundled")
    bundled = attach.connect_configuration(7, 5678, None)["rules"]
    assert bundled == [*plain, {"path": os.path.join("/ext/bundled", "tool", "**"), "include": False}]
