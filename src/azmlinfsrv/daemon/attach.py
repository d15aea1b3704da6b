"""Attach configurations for a server the daemon did not start (one found by ``findServers``).

First through the workers' attach channels (``azmlinfsrv.attach_channel``): each worker opens
a debugpy listener on 127.0.0.1 and the configuration connects to it — no gdb, no ptrace.
A server without channels (the reference server, ``AZMLINFSRV_ATTACH=off``, Windows) falls
back to debugpy's PID injection (``processes.attach_configurations``), which needs gdb and
ptrace rights on Linux; when neither way works, ``error`` says why.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import stat
from typing import Any

import psutil

from .. import attach_channel
from . import processes

LOOPBACK = "127.0.0.1"
# ``python -m azmlinfsrv`` runs the server's __main__.py as module ``__main__``, which the module
# rule does not match: hide the package's files by path too, so the call stack is the user's.
SERVER_FRAMES_RULE = {
    "path": os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "**"),
    "include": False,
}


def server_frame_rules() -> list[dict[str, Any]]:
    """debugpy rules that keep the server's own frames out of the call stack and of stepping:
    the package, and the launcher that starts it when the extension's bundle runs it."""
    rules = [{"module": "azmlinfsrv", "include": False}, SERVER_FRAMES_RULE]
    launcher = processes.launcher_path()
    if launcher:
        rules.append({"path": os.path.join(os.path.dirname(launcher), "**"), "include": False})
    return rules


def connect_configuration(pid: int, port: int, folder: str | None) -> dict[str, Any]:
    """A debugpy attach configuration for one worker's listener on 127.0.0.1."""
    return {
        "type": "debugpy",
        "request": "attach",
        "name": f"azmlinfsrv worker {pid}",
        "connect": {"host": LOOPBACK, "port": port},
        "justMyCode": True,
        # The server's own frames stay out of stepping even when it is installed editable
        # (justMyCode alone only skips site-packages).
        "rules": server_frame_rules(),
        "workerPid": pid,
        **({"pathMappings": [{"localRoot": folder, "remoteRoot": folder}]} if folder else {}),
    }


def own_debugpy_folder() -> str | None:
    """The folder holding the daemon's debugpy, offered to a worker whose environment has none
    (found without importing it)."""
    spec = importlib.util.find_spec("debugpy")
    if spec is None or not spec.origin:
        return None
    return os.path.dirname(os.path.dirname(spec.origin))


def channel_of(worker: int) -> str | None:
    """The worker's attach socket, when it has one that is ours to trust: in a private
    folder of this user, owned by this user. (Computed from the worker's environment, which
    may differ from the daemon's: a terminal's TMPDIR.)"""
    if not hasattr(socket, "AF_UNIX"):
        return None  # Windows: no attach channels
    try:
        environ: dict[str, str] = psutil.Process(worker).environ()
    except psutil.Error:
        environ = dict(os.environ)
    for folder in dict.fromkeys([attach_channel.runtime_dir(environ), attach_channel.runtime_dir()]):
        path = attach_channel.socket_path(folder, worker)
        try:
            attach_channel.check_private(folder)
            info = os.lstat(path)
        except (OSError, attach_channel.UnsafeDirectory):
            continue
        if stat.S_ISSOCK(info.st_mode) and info.st_uid == os.geteuid():
            return path
    return None


def _tcp(process: psutil.Process) -> list[Any]:
    try:
        return list(process.net_connections(kind="tcp4"))
    except psutil.Error:
        return []


def _listener_pids(port: int) -> list[int]:
    """The processes listening on 127.0.0.1:``port``. The machine-wide table needs root on
    macOS; there, this user's debugpy adapters are looked at one by one instead."""
    try:
        table = psutil.net_connections(kind="tcp4")
        candidates = [c.pid for c in table if c.status == psutil.CONN_LISTEN and c.laddr == (LOOPBACK, port) and c.pid]
    except psutil.AccessDenied:
        candidates = [p.pid for p in psutil.process_iter(["cmdline"]) if "debugpy" in " ".join(p.info["cmdline"] or [])]
    return [
        pid
        for pid in candidates
        if any(c.status == psutil.CONN_LISTEN and c.laddr == (LOOPBACK, port) for c in _tcp(psutil.Process(pid)))
    ]


def listener_serves(worker: int, port: int) -> bool:
    """The process listening on 127.0.0.1:``port`` is the worker's own debug adapter: it runs
    as this user and holds the other end of one of the worker's connections (debugpy's
    adapter daemonizes, so it is no child of the worker). A port named by a worker is never
    a stranger's listener."""
    try:
        worker_ends = {c.laddr for c in _tcp(psutil.Process(worker)) if c.raddr}
        for pid in _listener_pids(port):
            adapter = psutil.Process(pid)
            if adapter.uids().real != os.geteuid():
                return False
            return any(a.raddr and a.raddr in worker_ends for a in _tcp(adapter))
    except psutil.Error:
        return False
    return False


def ask_worker(worker: int, path: str, debugpy_folder: str | None) -> tuple[int | None, str | None]:
    """(port, None) when the worker listens, else (None, why not)."""
    reply = attach_channel.request_listener(path, debugpy_folder)
    port = reply.get("port")
    if reply.get("host") != LOOPBACK or not isinstance(port, int):
        return None, str(reply.get("error") or f"worker {worker} answered without a loopback port")
    if not listener_serves(worker, port):
        return None, f"worker {worker} named port {port}, on which its own debug adapter does not listen"
    return port, None


def channel_configurations(server: dict[str, Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """(configurations, problems) for the server's workers that have an attach channel."""
    entry = server.get("entryScript")
    folder = os.path.dirname(entry) if entry else None
    debugpy_folder = own_debugpy_folder()
    configurations, problems = [], []
    for worker in server["workerPids"]:
        path = channel_of(worker)
        if path is None:
            continue
        port, problem = ask_worker(worker, path, debugpy_folder)
        if port is not None:
            configurations.append(connect_configuration(worker, port, folder))
        elif problem:
            problems.append(problem)
    return configurations, problems


def configurations_for(pid: int) -> dict[str, Any]:
    """``debugConfigurations {pid}`` for a server the daemon did not start."""
    server = processes.server_of(pid)
    if server is None:
        return {"configurations": [], "error": f"No azmlinfsrv server runs with pid {pid}."}
    configurations, problems = channel_configurations(server)
    if configurations:
        return {"configurations": configurations}
    fallback = processes.attach_configurations(pid)
    if fallback["configurations"]:
        return fallback
    if problems:
        why = f"The server's workers could not open a debug listener: {'; '.join(problems)}"
    else:
        why = "The server's workers have no attach channel (the reference server, or AZMLINFSRV_ATTACH=off)"
    return {"configurations": [], "error": f"{why}. Attaching by PID instead: {fallback['error']}"}
