"""Finding azmlinfsrv processes on the machine (psutil), and what attaching to them needs.

The worker processes (children of the gunicorn arbiter) are what a debugger must attach to.
A server started by hand is asked through its workers' attach channels first (``attach.py``);
without those (the reference server), debugpy's PID injection is what remains, which on
Linux needs gdb and ptrace rights: ``pid_attach_problem`` says when it cannot work.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

import psutil

SERVER_MODULES = ("azmlinfsrv", "azureml_inference_server_http")
# The .vsix's launcher (bundled/tool/launch.py) runs the server as ``<python> launch.py server``,
# and runs the daemon with BUNDLE_ENV set to its bundle folder.
LAUNCHER = os.path.join("bundled", "tool", "launch.py")
BUNDLE_ENV = "AZMLINFSRV_BUNDLE"


def launcher_path() -> str | None:
    """The launcher that started this daemon, when the .vsix's bundle did."""
    bundle = os.environ.get(BUNDLE_ENV)
    return os.path.join(bundle, "tool", "launch.py") if bundle else None


def is_server_command(cmdline: list[str]) -> bool:
    """An azmlinfsrv (ours or the reference) server command line, not the daemon's."""
    for i, arg in enumerate(cmdline[:4]):
        following = cmdline[i + 1] if i + 1 < len(cmdline) else None
        if os.path.basename(arg) in ("azmlinfsrv", "azmlinfsrv.exe"):
            return True
        if arg == "-m" and following in SERVER_MODULES:
            return True
        if os.path.normpath(arg).endswith(LAUNCHER) and following == "server":
            return True
    return False


def _cmdline(process: psutil.Process) -> list[str]:
    try:
        return list(process.cmdline())
    except psutil.Error:
        return []


def _flag(cmdline: list[str], name: str) -> str | None:
    for i, arg in enumerate(cmdline):
        if arg == name and i + 1 < len(cmdline):
            return cmdline[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def _port(process: psutil.Process, cmdline: list[str]) -> int | None:
    try:
        listening = sorted(c.laddr.port for c in process.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN)
    except psutil.Error:
        listening = []
    flag = _flag(cmdline, "--port")
    if flag and flag.isdigit():
        return int(flag)
    return listening[0] if listening else None


def _entry_script(process: psutil.Process, cmdline: list[str]) -> str | None:
    try:
        environ = process.environ()
    except psutil.Error:
        environ = {}
    if environ.get("AZUREML_ENTRY_SCRIPT"):
        return str(environ["AZUREML_ENTRY_SCRIPT"])
    flag = _flag(cmdline, "--entry_script")
    if flag is None:
        return None
    try:
        return os.path.join(process.cwd(), flag)
    except psutil.Error:
        return flag


def describe(process: psutil.Process) -> dict[str, Any]:
    cmdline = _cmdline(process)
    try:
        children = [c for c in process.children() if is_server_command(_cmdline(c))]
    except psutil.Error:
        children = []
    return {
        "pid": process.pid,
        # gunicorn: the arbiter's children run score.py; waitress: the process itself does.
        "workerPids": sorted(c.pid for c in children) or [process.pid],
        "port": _port(process, cmdline),
        "entryScript": _entry_script(process, cmdline),
    }


def find_servers(exclude: set[int] | None = None) -> list[dict[str, Any]]:
    """Every azmlinfsrv server on the machine: the top process of each, with its workers."""
    servers = []
    for process in psutil.process_iter():
        if not is_server_command(_cmdline(process)):
            continue
        try:
            parent = process.parent()
        except psutil.Error:
            parent = None
        if parent is not None and is_server_command(_cmdline(parent)):
            continue  # a worker: reported under its arbiter
        if exclude and process.pid in exclude:
            continue
        servers.append(describe(process))
    return sorted(servers, key=lambda s: s["pid"])


def server_of(pid: int) -> dict[str, Any] | None:
    """The server a pid belongs to (its arbiter or one of its workers)."""
    try:
        process = psutil.Process(pid)
        parent = process.parent()
    except psutil.Error:
        return None
    if parent is not None and is_server_command(_cmdline(parent)):
        process = parent
    if not is_server_command(_cmdline(process)):
        return None
    return describe(process)


def pid_attach_problem() -> str | None:
    """Why debugpy's attach-by-PID cannot work here, or None when it can."""
    if sys.platform.startswith("linux"):
        if shutil.which("gdb") is None:
            return (
                "Attaching to a process by PID needs gdb, which is not installed (e.g. sudo apt-get install gdb). "
                "Servers started from the editor need neither: use Debug Scoring Server."
            )
        try:
            with open("/proc/sys/kernel/yama/ptrace_scope") as f:
                scope = f.read().strip()
        except OSError:
            scope = "0"
        if scope == "3":
            return "ptrace is disabled on this machine (kernel.yama.ptrace_scope=3), so attaching by PID cannot work."
        if scope in ("1", "2") and os.geteuid() != 0:
            return (
                f"kernel.yama.ptrace_scope={scope} forbids attaching to a process that is not a child of the "
                "debugger. Run `sudo sysctl kernel.yama.ptrace_scope=0`, or start the server from the editor."
            )
    elif sys.platform == "darwin" and shutil.which("lldb") is None:
        return "Attaching to a process by PID needs lldb (xcode-select --install)."
    return None


def attach_configurations(pid: int) -> dict[str, Any]:
    """debugpy processId configurations for the workers of the server that ``pid`` belongs to."""
    server = server_of(pid)
    if server is None:
        return {"configurations": [], "error": f"No azmlinfsrv server runs with pid {pid}."}
    problem = pid_attach_problem()
    if problem:
        return {"configurations": [], "error": problem}
    return {
        "configurations": [
            {
                "type": "debugpy",
                "request": "attach",
                "name": f"azmlinfsrv worker {worker} (pid attach)",
                "processId": worker,
                "justMyCode": True,
            }
            for worker in server["workerPids"]
        ]
    }
