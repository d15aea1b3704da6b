"""The attach channel's pure pieces: where its sockets live and who may use that folder, what
it answers, and the debugger hooks it relies on (debugpy only from where it is allowed, no
scoring deadline while a debugger is attached). The socket round trip itself is tested with
real servers in tests/daemon/test_attach_terminal.py."""

from __future__ import annotations

import importlib.machinery
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from azmlinfsrv import attach_channel, debugging, timeouts

DEAD_PID = 4194305  # above Linux's largest pid_max: no process has it


def test_the_runtime_dir_is_per_user() -> None:
    assert attach_channel.runtime_dir({"XDG_RUNTIME_DIR": "/run/user/1000"}) == "/run/user/1000/azmlinfsrv"
    assert attach_channel.runtime_dir({"TMPDIR": "/scratch"}) == f"/scratch/azmlinfsrv-{os.geteuid()}"
    assert attach_channel.runtime_dir({"XDG_RUNTIME_DIR": "relative", "TMPDIR": "/t"}).startswith("/t/")


def test_it_is_on_unless_turned_off() -> None:
    assert attach_channel.enabled({})
    for off in ("off", "0", "false", "No"):
        assert not attach_channel.enabled({attach_channel.ENV_VAR: off})


def test_only_a_private_folder_of_ours_is_used(tmp_path: Path) -> None:
    made = attach_channel.private_dir({"TMPDIR": str(tmp_path)})
    assert oct(os.stat(made).st_mode & 0o777) == oct(0o700)
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    with pytest.raises(attach_channel.UnsafeDirectory, match="not a private directory"):
        attach_channel.check_private(str(shared))
    link = tmp_path / "link"
    link.symlink_to(made)
    with pytest.raises(attach_channel.UnsafeDirectory):
        attach_channel.check_private(str(link))  # a symlink planted in /tmp is not our folder


def test_stale_files_of_gone_workers_are_swept(tmp_path: Path) -> None:
    for name in (f"{DEAD_PID}.sock", f"{DEAD_PID}.json", f"{os.getpid()}.sock", "notes.txt"):
        (tmp_path / name).write_text("")
    attach_channel.sweep_stale(str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([f"{os.getpid()}.sock", "notes.txt"])


def test_it_answers_listen_only(monkeypatch: pytest.MonkeyPatch) -> None:
    assert "unknown request" in attach_channel.answer({"command": "exec"})["error"]
    assert "unknown request" in attach_channel.answer(None)["error"]
    monkeypatch.setattr(debugging, "listen_now", lambda offered=None: ("127.0.0.1", 4321))
    assert attach_channel.answer({"command": "listen"}) == {"pid": os.getpid(), "host": "127.0.0.1", "port": 4321}


def test_it_says_why_no_listener_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(offered: str | None = None) -> tuple[str, int]:
        raise debugging.DebuggerUnavailable("debugpy is not installed in this server's environment")

    monkeypatch.setattr(debugging, "listen_now", missing)
    assert attach_channel.answer({"command": "listen"}) == {
        "error": "debugpy is not installed in this server's environment"
    }

    def refused(offered: str | None = None) -> tuple[str, int]:
        raise RuntimeError("already listening elsewhere")

    monkeypatch.setattr(debugging, "listen_now", refused)
    assert "RuntimeError: already listening elsewhere" in attach_channel.answer({"command": "listen"})["error"]


class _NoDebugpyHere:
    """A meta path finder for an environment without debugpy: ``import debugpy`` finds only the
    copy in ``allowed``, and only while that folder is on sys.path."""

    def __init__(self, allowed: str) -> None:
        self.allowed = allowed

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "debugpy":
            return None
        if self.allowed not in sys.path:
            raise ModuleNotFoundError("No module named 'debugpy'", name="debugpy")
        return importlib.machinery.PathFinder.find_spec(name, [self.allowed])


@pytest.fixture
def no_debugpy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This environment without debugpy; ``tmp_path/offered`` holds a stand-in debugpy package."""
    offered = tmp_path / "offered"
    (offered / "debugpy").mkdir(parents=True)
    (offered / "debugpy" / "__init__.py").write_text("STAND_IN = True\n")
    saved = sys.modules.pop("debugpy", None)
    monkeypatch.setattr(sys, "meta_path", [_NoDebugpyHere(str(offered)), *sys.meta_path])
    try:
        yield offered
    finally:
        sys.modules.pop("debugpy", None)
        if saved is not None:
            sys.modules["debugpy"] = saved


def test_without_debugpy_the_message_names_the_interpreter(no_debugpy: Path) -> None:
    with pytest.raises(debugging.DebuggerUnavailable, match="not installed in this server's environment") as caught:
        debugging._debugpy_from(None)
    assert sys.executable in str(caught.value)
    with pytest.raises(debugging.DebuggerUnavailable):
        debugging._debugpy_from(str(no_debugpy.parent))  # a folder without debugpy in it


def test_an_offered_debugpy_is_imported_alone(no_debugpy: Path) -> None:
    path_before = list(sys.path)
    module = debugging._debugpy_from(str(no_debugpy))
    assert module.STAND_IN is True
    assert sys.path == path_before  # the folder left sys.path again: user code imports nothing from it


def test_no_scoring_deadline_while_a_debugger_is_attached(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not debugging.attached()  # nothing listens in this process
    with pytest.raises(timeouts.ScoringTimeout):
        timeouts.call_with_deadline(lambda: time.sleep(0.5), 50)
    monkeypatch.setattr(debugging, "attached", lambda: True)
    assert timeouts.call_with_deadline(lambda: time.sleep(0.2) or "paused, then done", 50) == "paused, then done"


def test_without_unix_sockets_there_is_no_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows (no AF_UNIX for Python there): the server opens none, the daemon looks for none
    and falls back to attaching by PID."""
    import socket

    from azmlinfsrv.daemon import attach

    monkeypatch.delattr(socket, "AF_UNIX")
    assert not attach_channel.enabled({})
    assert attach_channel.open_channel() is None
    assert attach.channel_of(os.getpid()) is None
