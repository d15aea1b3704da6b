"""Starting and ending the server's whole process tree, on every OS.

Ending uses psutil on every OS (the arbiter, its workers, debug adapters: whatever the tree
holds), so Linux tests run the same path Windows and macOS do. What differs is only how
the tree is set apart at spawn and what keeps it from outliving a killed daemon:
- POSIX: its own session (Ctrl-C of a terminal running the daemon does not reach it), and
  the server's parent watch (``AZMLINFSRV_PARENT_PID``) ends it when the daemon is gone.
- Windows: its own process group (so a console Ctrl+Break can stop it gracefully), and a
  job object that kills every process in it when the daemon's handle closes (the server's
  parent watch does not run there).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import signal
import subprocess
import sys
from collections.abc import Iterable
from typing import Any

import psutil

logger = logging.getLogger("azmlinfsrv.daemon")

CREATE_NEW_PROCESS_GROUP = 0x00000200  # subprocess.CREATE_NEW_PROCESS_GROUP, Windows only
JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x00002000
JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS = 9
PROCESS_SET_QUOTA_AND_TERMINATE = 0x0100 | 0x0001


def on_windows() -> bool:
    return sys.platform == "win32"


def spawn_options() -> dict[str, Any]:
    """Keyword arguments for ``create_subprocess_exec`` that set the server's tree apart."""
    if on_windows():
        return {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", CREATE_NEW_PROCESS_GROUP)}
    return {"start_new_session": True}


def graceful_signal(debugging: bool) -> int:
    """The signal that asks the server to stop: in-flight requests finish.

    When debugging, gunicorn's quick shutdown (SIGINT): a worker waiting for the debugger or
    paused at a breakpoint would never finish a graceful one. Windows: Ctrl+Break to the
    server's process group (waitress stops on it).
    """
    if on_windows():
        return int(getattr(signal, "CTRL_BREAK_EVENT", 1))
    return int(signal.SIGINT if debugging else signal.SIGTERM)


def tree(pid: int, known: Iterable[psutil.Process] = ()) -> list[psutil.Process]:
    """The process and its descendants now, plus ``known`` ones (workers a dead arbiter left)."""
    found: dict[int, psutil.Process] = {p.pid: p for p in known}
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        found[root.pid] = root
        for child in root.children(recursive=True):
            found[child.pid] = child
    return list(found.values())


def kill(processes: Iterable[psutil.Process]) -> None:
    """Kill each process (SIGKILL / TerminateProcess); psutil refuses a pid reused since."""
    for process in processes:
        with contextlib.suppress(psutil.Error):
            process.kill()


def kill_tree(pid: int, known: Iterable[psutil.Process] = (), timeout: float = 5.0) -> None:
    processes = tree(pid, known)
    kill(processes)
    psutil.wait_procs(processes, timeout=timeout)


# -- Windows: a job object that ends the tree with the daemon -----------------------------------
class _BasicLimits(ctypes.Structure):
    _fields_ = [
        ("PerProcessUserTimeLimit", ctypes.c_int64),
        ("PerJobUserTimeLimit", ctypes.c_int64),
        ("LimitFlags", ctypes.c_uint32),
        ("MinimumWorkingSetSize", ctypes.c_size_t),
        ("MaximumWorkingSetSize", ctypes.c_size_t),
        ("ActiveProcessLimit", ctypes.c_uint32),
        ("Affinity", ctypes.c_size_t),
        ("PriorityClass", ctypes.c_uint32),
        ("SchedulingClass", ctypes.c_uint32),
    ]


class _ExtendedLimits(ctypes.Structure):
    _fields_ = [
        ("BasicLimitInformation", _BasicLimits),
        ("IoInfo", ctypes.c_uint64 * 6),
        ("ProcessMemoryLimit", ctypes.c_size_t),
        ("JobMemoryLimit", ctypes.c_size_t),
        ("PeakProcessMemoryUsed", ctypes.c_size_t),
        ("PeakJobMemoryUsed", ctypes.c_size_t),
    ]


class KillOnCloseJob:
    """A Windows job object whose processes die when its last handle closes: the daemon holds
    the only one (not inheritable), so the server's tree ends with the daemon, even killed."""

    def __init__(self) -> None:
        self._kernel32: Any = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        self._handle = self._kernel32.CreateJobObjectW(None, None)
        if not self._handle:
            raise OSError(ctypes.get_last_error(), "CreateJobObjectW failed")  # type: ignore[attr-defined]
        limits = _ExtendedLimits()
        limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
        ok = self._kernel32.SetInformationJobObject(
            self._handle, JOB_OBJECT_EXTENDED_LIMIT_INFORMATION_CLASS, ctypes.byref(limits), ctypes.sizeof(limits)
        )
        if not ok:
            raise OSError(ctypes.get_last_error(), "SetInformationJobObject failed")  # type: ignore[attr-defined]

    def assign(self, pid: int) -> None:
        """Put ``pid`` in the job; the processes it starts from then on are in it too."""
        process = self._kernel32.OpenProcess(PROCESS_SET_QUOTA_AND_TERMINATE, False, pid)
        if not process:
            raise OSError(ctypes.get_last_error(), f"OpenProcess({pid}) failed")  # type: ignore[attr-defined]
        try:
            if not self._kernel32.AssignProcessToJobObject(self._handle, process):
                raise OSError(ctypes.get_last_error(), "AssignProcessToJobObject failed")  # type: ignore[attr-defined]
        finally:
            self._kernel32.CloseHandle(process)


class OrphanGuard:
    """Makes sure a spawned server cannot outlive the daemon, on every OS."""

    def __init__(self) -> None:
        self._job: KillOnCloseJob | None = None

    def adopt(self, pid: int) -> None:
        """POSIX: the server watches the daemon's pid itself. Windows: into the job."""
        if not on_windows():
            return
        try:
            if self._job is None:
                self._job = KillOnCloseJob()
            self._job.assign(pid)
        except OSError as ex:  # still stopped by the daemon; only a killed daemon would orphan it
            logger.warning(f"the server {pid} is not tied to the daemon's life: {ex}")
