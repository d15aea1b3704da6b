"""Ports: 5001 by default, the next free one when taken (with a notice naming both), the same
one for every restart; a port that cannot be bound at all is an error that names it. Also
a server that cannot start says why in words."""

from __future__ import annotations

import contextlib
import errno
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_lsp import LanguageClient

from azmlinfsrv.daemon import ports

from .conftest import execute

START = "azmlinfsrv.daemon.startServer"
STOP = "azmlinfsrv.daemon.stopServer"
GOOD = "def init():\n    pass\n\ndef run(data):\n    return data\n"


@contextlib.contextmanager
def taken(port: int) -> Iterator[None]:
    """Hold ``port`` on 127.0.0.1 for the block (it may already be someone else's: taken anyway)."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with contextlib.suppress(OSError):
            holder.bind(("127.0.0.1", port))
            holder.listen()
        yield
    finally:
        holder.close()


def test_a_taken_port_moves_to_the_next_free_one_with_a_notice() -> None:
    wanted = ports.any_free_port()
    with taken(wanted):
        choice = ports.choose(wanted)
    assert choice.port > wanted
    assert choice.notice == f"Port {wanted} is in use: the scoring server listens on port {choice.port} instead."


def test_the_port_got_last_time_is_kept_while_free() -> None:
    wanted, previous = ports.any_free_port(), ports.any_free_port()
    assert ports.choose(wanted, previous) == ports.PortChoice(previous)
    with taken(previous):
        assert ports.choose(wanted, previous) == ports.PortChoice(wanted)


def _refusing(error: OSError) -> Any:
    class Refusing(socket.socket):
        def bind(self, address: Any) -> None:
            raise error

    return Refusing


def test_a_port_without_rights_is_an_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ports.socket, "socket", _refusing(PermissionError(errno.EACCES, "Permission denied")))
    with pytest.raises(ports.PortUnavailable, match=r"^port 80 cannot be used: permission denied \(ports below 1024"):
        ports.choose(80)


def test_an_address_the_machine_lacks_is_an_error_naming_the_port(monkeypatch: pytest.MonkeyPatch) -> None:
    refusal = OSError(errno.EADDRNOTAVAIL, "Cannot assign requested address")
    monkeypatch.setattr(ports.socket, "socket", _refusing(refusal))
    with pytest.raises(ports.PortUnavailable, match="^port 5001 cannot be used on 127.0.0.1: Cannot assign"):
        ports.choose(5001)


@pytest.mark.parametrize(("platform", "reuse"), [("linux", True), ("darwin", True), ("win32", False)])
def test_the_probe_shares_time_wait_ports_except_on_windows(
    monkeypatch: pytest.MonkeyPatch, platform: str, reuse: bool
) -> None:
    options: list[Any] = []

    class Recording(socket.socket):
        def setsockopt(self, *args: Any) -> None:  # type: ignore[override]
            options.append(args)
            super().setsockopt(*args)

    monkeypatch.setattr(ports.sys, "platform", platform)
    monkeypatch.setattr(ports.socket, "socket", Recording)
    assert ports.is_free(0)
    assert bool(options) is reuse


async def test_5001_taken_gives_another_port_kept_across_restarts(client: LanguageClient, project: Path) -> None:
    score = project / "score.py"
    score.write_text(GOOD)
    with taken(ports.DEFAULT_PORT):
        first = await execute(client, START, {"entryScript": str(score)})
        assert first["state"] == "running", first
        port = first["port"]
        assert port != ports.DEFAULT_PORT and first["url"] == f"http://127.0.0.1:{port}"
        notices = [m.message for m in client.messages]
        assert f"Port 5001 is in use: the scoring server listens on port {port} instead." in notices
        await execute(client, STOP)
        again = await execute(client, START, {"entryScript": str(score)})
        assert again["state"] == "running" and again["port"] == port
        await execute(client, STOP)


async def test_an_invalid_port_is_an_error_naming_it(client: LanguageClient, project: Path) -> None:
    score = project / "score.py"
    score.write_text(GOOD)
    with pytest.raises(Exception, match="port 70000 is not a TCP port"):
        await execute(client, START, {"entryScript": str(score), "port": 70000})


async def test_a_refused_setting_is_the_error_in_words(client: LanguageClient, project: Path) -> None:
    score = project / "score.py"
    score.write_text(GOOD)
    status = await execute(client, START, {"entryScript": str(score), "env": {"WORKER_TIMEOUT": "soon"}})
    assert status["state"] == "failed"
    assert status["error"] == (
        "WORKER_COUNT and WORKER_TIMEOUT must be integers: invalid literal for int() with base 10: 'soon'"
    )


async def test_an_import_error_names_its_file_and_line(client: LanguageClient, project: Path) -> None:
    score = project / "score.py"
    score.write_text("import os\nimport no_such_module_here\n\n" + GOOD)
    status = await execute(client, START, {"entryScript": str(score)})
    assert status["state"] == "failed"
    assert status["error"] == (
        "importing the entry script failed: ModuleNotFoundError: No module named 'no_such_module_here' (score.py:2)"
    )
    assert status["errorLocation"] == {"file": str(score), "line": 2}
