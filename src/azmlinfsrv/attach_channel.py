"""The attach channel: how a local tool (the editor daemon) asks a running worker to open a
debugpy listener, with no gdb and no ptrace.

Each worker (each gunicorn worker; waitress's one process) listens on a Unix socket
``<runtime dir>/<pid>.sock``. The runtime dir is per user — ``$XDG_RUNTIME_DIR/azmlinfsrv``,
else ``<tmp>/azmlinfsrv-<uid>`` — created 0700 and refused when someone else owns it or can
enter it; the socket is 0600, and on Linux the asking peer's uid is checked as well. So only
the user who runs the server can ask. A request is one JSON line, ``{"command": "listen"}``
(optionally ``"debugpy": <folder holding the tool's debugpy>``, used only when the server's
environment has none); the answer is one JSON line, ``{"pid", "host": "127.0.0.1", "port"}``
or ``{"error": ...}``. The worker then writes ``<pid>.json`` (the same answer) beside the
socket and emits ``debug_listening`` on the event channel. debugpy is imported only then.

``AZMLINFSRV_ATTACH=off`` turns the channel off (our container image does). Windows has no
Unix sockets here: there the channel is off and tools attach by PID, which needs no gdb.
This module is stdlib only: the daemon imports it to find and ask the sockets.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import socket
import stat
import struct
import tempfile
import threading
from collections.abc import Mapping
from typing import Any

from . import debugging

logger = logging.getLogger("azmlinfsrv")

ENV_VAR = "AZMLINFSRV_ATTACH"
OFF_VALUES = ("0", "off", "false", "no")
REQUEST_LIMIT = 4096  # bytes of one request line
REQUEST_SECONDS = 5.0  # for a client to send its line


class UnsafeDirectory(Exception):
    """The runtime dir exists but is not private to this user."""


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return hasattr(socket, "AF_UNIX") and env.get(ENV_VAR, "on").strip().lower() not in OFF_VALUES


def runtime_dir(environ: Mapping[str, str] | None = None) -> str:
    """This user's folder for attach sockets, as a process with ``environ`` computes it."""
    env = os.environ if environ is None else environ
    xdg = env.get("XDG_RUNTIME_DIR")
    if xdg and os.path.isabs(xdg):
        return os.path.join(xdg, "azmlinfsrv")
    tmp = env.get("TMPDIR") or env.get("TMP") or env.get("TEMP") or tempfile.gettempdir()
    return os.path.join(tmp, f"azmlinfsrv-{os.geteuid()}")


def check_private(path: str) -> None:
    """Raise UnsafeDirectory unless ``path`` is a real directory of ours that only we can enter."""
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
        raise UnsafeDirectory(
            f"{path} is not a private directory of user {os.geteuid()} (owner {info.st_uid}, "
            f"mode {stat.filemode(info.st_mode)}); the attach channel stays off"
        )


def private_dir(environ: Mapping[str, str] | None = None) -> str:
    path = runtime_dir(environ)
    os.makedirs(path, mode=0o700, exist_ok=True)
    check_private(path)
    return path


def socket_path(folder: str, pid: int) -> str:
    return os.path.join(folder, f"{pid}.sock")


def discovery_path(folder: str, pid: int) -> str:
    return os.path.join(folder, f"{pid}.json")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(folder: str) -> None:
    """Drop the files of workers that are gone (killed before they could clean up)."""
    for name in os.listdir(folder):
        stem, _, ext = name.partition(".")
        if ext in ("sock", "json") and stem.isdigit() and not _pid_alive(int(stem)):
            try:
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass


def peer_is_us(conn: socket.socket) -> bool:
    """The connecting process runs as our user (Linux: SO_PEERCRED; elsewhere the 0700
    folder and the 0600 socket are the check)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return True
    creds = conn.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return bool(uid == os.geteuid())


def answer(request: Any) -> dict[str, Any]:
    """The answer to one request (already parsed JSON)."""
    if not isinstance(request, dict) or request.get("command") != "listen":
        return {"error": 'unknown request: expected {"command": "listen"}'}
    offered = request.get("debugpy")
    try:
        host, port = debugging.listen_now(offered if isinstance(offered, str) else None)
    except debugging.DebuggerUnavailable as ex:
        return {"error": str(ex)}
    except Exception as ex:  # debugpy's own refusal: said to the tool, the worker serves on
        return {"error": f"debugpy could not listen: {type(ex).__name__}: {ex}"}
    return {"pid": os.getpid(), "host": host, "port": port}


class Channel:
    """This process's attach socket and the daemon thread that answers on it."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.pid = os.getpid()
        self.path = socket_path(folder, self.pid)
        if os.path.lexists(self.path):
            os.unlink(self.path)  # a dead process's, with our pid
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o600)
        self.sock.listen(4)
        self.thread = threading.Thread(target=self._serve, name="azmlinfsrv-attach", daemon=True)
        # debugpy leaves this thread running while it pauses the others at a breakpoint.
        self.thread.pydev_do_not_trace = True  # type: ignore[attr-defined]
        self.thread.is_pydev_daemon_thread = True  # type: ignore[attr-defined]
        self.thread.start()
        atexit.register(self.close)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return  # closed
            with conn:
                try:
                    self._handle(conn)
                except OSError:
                    pass  # the client went away

    def _handle(self, conn: socket.socket) -> None:
        if not peer_is_us(conn):
            conn.sendall(b'{"error": "refused: another user"}\n')
            return
        conn.settimeout(REQUEST_SECONDS)
        line = conn.makefile("rb").readline(REQUEST_LIMIT)
        try:
            request = json.loads(line)
        except ValueError:
            request = None
        reply = answer(request)
        if "port" in reply:
            self._announce(reply)
        conn.sendall(json.dumps(reply).encode() + b"\n")

    def _announce(self, reply: dict[str, Any]) -> None:
        """``<pid>.json`` beside the socket: the open listener, for whoever looks."""
        path = discovery_path(self.folder, self.pid)
        partial = f"{path}.{threading.get_ident()}.tmp"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({**reply, "server": os.getppid()}, f)
        os.replace(partial, path)

    def close(self) -> None:
        if os.getpid() != self.pid:
            return  # a fork of this process (user code's multiprocessing): not its files
        try:
            self.sock.close()
        except OSError:
            pass
        for path in (self.path, discovery_path(self.folder, self.pid)):
            try:
                os.unlink(path)
            except OSError:
                pass


_channel: Channel | None = None


def open_channel() -> Channel | None:
    """Open this process's attach channel (once); None when it is off or cannot be made."""
    global _channel
    if _channel is not None and _channel.pid == os.getpid():
        return _channel
    if not enabled():
        return None
    try:
        folder = private_dir()
        sweep_stale(folder)
        _channel = Channel(folder)
    except (OSError, UnsafeDirectory) as ex:
        logger.info(f"No debugger attach channel: {ex}")  # a debugging aid: not worth a warning
        return None
    return _channel


def request_listener(path: str, debugpy_folder: str | None = None, timeout: float = 30.0) -> dict[str, Any]:
    """Ask the worker behind ``path`` to listen; its answer (``{"error"}`` on failure)."""
    request: dict[str, Any] = {"command": "listen"}
    if debugpy_folder:
        request["debugpy"] = debugpy_folder
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(json.dumps(request).encode() + b"\n")
            line = sock.makefile("rb").readline(REQUEST_LIMIT)
    except OSError as ex:
        return {"error": f"the worker's attach channel did not answer ({ex.strerror or ex})"}
    try:
        reply = json.loads(line)
    except ValueError:
        return {"error": "the worker's attach channel answered something that is not JSON"}
    return reply if isinstance(reply, dict) else {"error": "the worker's attach channel answered no object"}
