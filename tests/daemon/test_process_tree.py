"""Ending the server's tree with psutil (the path every OS runs, run here for real), and the
OS-specific branches (spawn options, stop signal, the Windows job object) with the
platform faked."""

from __future__ import annotations

import ctypes
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import psutil
import pytest

from azmlinfsrv.daemon import process_tree

from ..server._support import wait_until

DAEMON_SOURCES = Path(process_tree.__file__).parent


def _gone(process: psutil.Process) -> bool:
    try:
        return not process.is_running() or process.status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True


def _spawn_tree(tmp_path: Path, parent_exits: bool = False) -> tuple[subprocess.Popen[bytes], psutil.Process]:
    """A parent python with one child python (the child's pid in a file)."""
    pid_file = tmp_path / "child.pid"
    child = "import time; time.sleep(120)"
    code = (
        "import subprocess, sys, time\n"
        f"c = subprocess.Popen([sys.executable, '-c', {child!r}])\n"
        f"open({str(pid_file)!r}, 'w').write(str(c.pid))\n" + ("" if parent_exits else "time.sleep(120)\n")
    )
    parent = subprocess.Popen([sys.executable, "-c", code], **process_tree.spawn_options())
    wait_until(lambda: pid_file.exists() and pid_file.read_text(), 10, "the child's pid")
    return parent, psutil.Process(int(pid_file.read_text()))


def test_kill_tree_ends_the_process_and_its_descendants(tmp_path: Path) -> None:
    parent, child = _spawn_tree(tmp_path)
    try:
        process_tree.kill_tree(parent.pid)
        parent.wait(10)
        wait_until(lambda: _gone(child), 10, "the child gone")
    finally:
        for pid in (parent.pid, child.pid):
            if psutil.pid_exists(pid):
                process_tree.kill([psutil.Process(pid)])
        parent.wait(10)


def test_known_processes_of_a_dead_parent_are_ended_too(tmp_path: Path) -> None:
    parent, child = _spawn_tree(tmp_path, parent_exits=True)
    try:
        parent.wait(10)  # the child is an orphan now: not among anyone's children we know
        process_tree.kill_tree(parent.pid, known=[child])
        wait_until(lambda: _gone(child), 10, "the orphaned child gone")
    finally:
        process_tree.kill([child])


@pytest.mark.parametrize(
    ("platform", "options"),
    [
        ("linux", {"start_new_session": True}),
        ("darwin", {"start_new_session": True}),
        ("win32", {"creationflags": 0x00000200}),
    ],
)
def test_spawn_options(monkeypatch: pytest.MonkeyPatch, platform: str, options: dict[str, Any]) -> None:
    monkeypatch.setattr(process_tree.sys, "platform", platform)
    assert process_tree.spawn_options() == options


def test_stop_signals(monkeypatch: pytest.MonkeyPatch) -> None:
    assert process_tree.graceful_signal(debugging=False) == signal.SIGTERM
    assert process_tree.graceful_signal(debugging=True) == signal.SIGINT
    monkeypatch.setattr(process_tree.sys, "platform", "win32")
    assert process_tree.graceful_signal(debugging=False) == 1  # CTRL_BREAK_EVENT
    assert process_tree.graceful_signal(debugging=True) == 1


class FakeKernel32:
    """Records the job-object calls the way kernel32 would take them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.limit_flags: int | None = None

    def CreateJobObjectW(self, attributes: Any, name: Any) -> int:  # noqa: N802 (the Win32 name)
        self.calls.append(("CreateJobObjectW", name))
        return 7

    def SetInformationJobObject(self, job: int, info_class: int, info: Any, size: int) -> int:  # noqa: N802
        limits = ctypes.cast(info, ctypes.POINTER(process_tree._ExtendedLimits)).contents
        self.limit_flags = limits.BasicLimitInformation.LimitFlags
        self.calls.append(("SetInformationJobObject", (job, info_class, size)))
        return 1

    def OpenProcess(self, access: int, inherit: bool, pid: int) -> int:  # noqa: N802
        self.calls.append(("OpenProcess", (access, inherit, pid)))
        return 99

    def AssignProcessToJobObject(self, job: int, process: int) -> int:  # noqa: N802
        self.calls.append(("AssignProcessToJobObject", (job, process)))
        return 1

    def CloseHandle(self, handle: int) -> int:  # noqa: N802
        self.calls.append(("CloseHandle", handle))
        return 1


def test_on_windows_the_server_joins_a_job_that_dies_with_the_daemon(monkeypatch: pytest.MonkeyPatch) -> None:
    kernel32 = FakeKernel32()
    monkeypatch.setattr(process_tree.sys, "platform", "win32")
    monkeypatch.setattr(ctypes, "WinDLL", lambda name, use_last_error=False: kernel32, raising=False)
    monkeypatch.setattr(ctypes, "get_last_error", lambda: 0, raising=False)
    guard = process_tree.OrphanGuard()
    guard.adopt(4242)
    guard.adopt(4343)  # one job for the daemon's life
    assert kernel32.limit_flags == process_tree.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
    names = [name for name, _ in kernel32.calls]
    assert names.count("CreateJobObjectW") == 1
    assert ("OpenProcess", (0x0101, False, 4242)) in kernel32.calls
    assert ("AssignProcessToJobObject", (7, 99)) in kernel32.calls
    assert names.count("CloseHandle") == 2  # each process handle, never the job's


def test_a_failing_job_object_is_a_warning_not_a_crash(monkeypatch: pytest.MonkeyPatch, caplog: Any) -> None:
    kernel32 = FakeKernel32()
    kernel32.OpenProcess = lambda access, inherit, pid: 0  # type: ignore[method-assign]
    monkeypatch.setattr(process_tree.sys, "platform", "win32")
    monkeypatch.setattr(ctypes, "WinDLL", lambda name, use_last_error=False: kernel32, raising=False)
    monkeypatch.setattr(ctypes, "get_last_error", lambda: 5, raising=False)
    process_tree.OrphanGuard().adopt(4242)
    assert "not tied to the daemon's life" in caplog.text


def test_elsewhere_the_server_s_parent_watch_is_the_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ctypes, "WinDLL", lambda *a, **k: pytest.fail("no job object off Windows"), raising=False)
    for platform in ("linux", "darwin"):
        monkeypatch.setattr(process_tree.sys, "platform", platform)
        process_tree.OrphanGuard().adopt(4242)


def test_no_posix_only_call_outside_the_posix_branches() -> None:
    """killpg, SIGKILL, setsid, getpgid: none on the daemon's path (psutil ends trees)."""
    for source in DAEMON_SOURCES.glob("*.py"):
        text = source.read_text()
        assert not re.search(r"os\.(killpg|setsid|getpgid|setpgrp)|signal\.SIGKILL", text), source.name
        if source.name != "process_tree.py":
            assert "start_new_session" not in text, source.name
