"""The language daemon: LSP features and ``azmlinfsrv.daemon.*`` commands over stdio.

It owns one azmlinfsrv server (``Supervisor``), publishes static diagnostics for open
scoring scripts and runtime ones from the server's events, relays status and log lines
as notifications, and hands out debugger attach configurations.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import uuid
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from .. import __version__
from . import diagnostics, processes, requests
from .supervisor import StartRequest, Supervisor

logger = logging.getLogger("azmlinfsrv.daemon")

CMD_START = "azmlinfsrv.daemon.startServer"
CMD_STOP = "azmlinfsrv.daemon.stopServer"
CMD_STATUS = "azmlinfsrv.daemon.status"
CMD_DEBUG_CONFIGURATIONS = "azmlinfsrv.daemon.debugConfigurations"
CMD_FIND_SERVERS = "azmlinfsrv.daemon.findServers"
CMD_SEND_REQUEST = "azmlinfsrv.daemon.sendRequest"
NOTIFY_STATUS = "azmlinfsrv/status"
NOTIFY_LOG = "azmlinfsrv/log"

PROGRESS_AFTER_SECONDS = 1.0


class Daemon(LanguageServer):
    def __init__(self) -> None:
        super().__init__("azmlinfsrv-daemon", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full)
        self.reload_on_save = True
        self.entry_script: str | None = None
        self.supervisor = Supervisor(self._status_changed, self._log, self._server_event)
        self._last_status: dict[str, Any] | None = None
        # Diagnostics by file path and kind ("static", "load", "run"), published merged.
        self._diagnostics: dict[str, dict[str, list[types.Diagnostic]]] = {}
        self._start_lock = asyncio.Lock()
        atexit.register(self.supervisor.stop_now)

    # -- notifications -----------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        status = self.supervisor.status()
        if status["debug"]:
            status["debugConfigurations"] = self.debug_configurations()
        return status

    def _status_changed(self) -> None:
        status = self.status()
        if status != self._last_status:
            self._last_status = status
            self.protocol.notify(NOTIFY_STATUS, status)

    def _log(self, text: str) -> None:
        self.protocol.notify(NOTIFY_LOG, {"text": text})

    # -- diagnostics -------------------------------------------------------------------------
    def set_diagnostics(self, path: str, kind: str, items: list[types.Diagnostic]) -> None:
        path = os.path.abspath(path)
        by_kind = self._diagnostics.setdefault(path, {})
        if not items and not by_kind.get(kind):
            return
        by_kind[kind] = items
        merged = [d for k in ("static", "load", "run") for d in by_kind.get(k, [])]
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=_uri(path), diagnostics=merged))

    def clear_kind(self, kind: str, path: str | None = None) -> None:
        for file in list(self._diagnostics):
            if path is None or file == os.path.abspath(path):
                self.set_diagnostics(file, kind, [])

    def _user_root(self) -> str | None:
        request = self.supervisor.request
        return os.path.dirname(request.entry_script) if request else None

    def _server_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        root = self._user_root()
        if kind in ("import_failed", "init_failed") and root:
            self.clear_kind("load")
            found = diagnostics.runtime_diagnostic(event.get("exception") or {}, root, kind.replace("_", "-"))
            if found:
                self.set_diagnostics(found[0], "load", [found[1]])
        elif kind in ("reloading",):
            self.clear_kind("load")
        elif kind in ("worker_ready", "reloaded") and self.supervisor.state == "running":
            self.clear_kind("load")
        elif kind == "run_failed" and root:
            found = diagnostics.runtime_diagnostic(
                event.get("exception") or {}, root, "run-failed", prefix="run() failed: "
            )
            if found:
                self.clear_kind("run")
                self.set_diagnostics(found[0], "run", [found[1]])
        elif kind == "run_recovered":
            self.clear_kind("run")

    def check_document(self, uri: str) -> None:
        document = self.workspace.get_text_document(uri)
        path = to_fs_path(uri)
        if not path:
            return
        if diagnostics.is_scoring_script(path, document.source, self.entry_script):
            self.set_diagnostics(path, "static", diagnostics.static_diagnostics(document.source, path))
        else:
            self.set_diagnostics(path, "static", [])

    # -- debugging ---------------------------------------------------------------------------
    def debug_configurations(self) -> list[dict[str, Any]]:
        request = self.supervisor.request
        folder = os.path.dirname(request.entry_script) if request else None
        return [
            {
                "type": "debugpy",
                "request": "attach",
                "name": f"azmlinfsrv worker {pid}",
                "connect": {"host": "127.0.0.1", "port": port},
                "justMyCode": True,
                # The server's own frames stay out of stepping even when it is installed
                # editable (justMyCode alone only skips site-packages).
                "rules": [{"module": "azmlinfsrv", "include": False}],
                "workerPid": pid,
                **({"pathMappings": [{"localRoot": folder, "remoteRoot": folder}]} if folder else {}),
            }
            for pid, port in self.supervisor.debug_targets().items()
        ]

    # -- start with progress -----------------------------------------------------------------
    async def start_server(self, request: StartRequest) -> dict[str, Any]:
        async with self._start_lock:
            self.clear_kind("load")
            self.clear_kind("run")
            start = asyncio.create_task(self.supervisor.start(request))
            done, _ = await asyncio.wait({start}, timeout=PROGRESS_AFTER_SECONDS)
            if not done:
                await self._progress_until(start, request)
            await start
            return self.status()

    async def _progress_until(self, start: asyncio.Task[None], request: StartRequest) -> None:
        """A cancellable progress for a slow start (a long init(), or waiting for the debugger)."""
        token = str(uuid.uuid4())
        try:
            await self.work_done_progress.create_async(token)
        except Exception:  # the client does not support server-initiated progress
            await asyncio.wait({start})
            return
        title = "Starting scoring server"
        self.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(title=title, message=os.path.basename(request.entry_script), cancellable=True),
        )
        cancelled = self.work_done_progress.tokens[token]
        loop = asyncio.get_running_loop()
        started = loop.time()
        while not start.done():
            if cancelled.cancelled():
                await self.supervisor.stop()
                break
            elapsed = loop.time() - started + PROGRESS_AFTER_SECONDS
            waiting = "waiting for the debugger" if request.debug and not self.supervisor.ready else "init() running"
            self.work_done_progress.report(token, types.WorkDoneProgressReport(message=f"{waiting}: {elapsed:.0f} s"))
            await asyncio.wait({start}, timeout=1.0)
        self.work_done_progress.end(token, types.WorkDoneProgressEnd(message=self.supervisor.state))


def _uri(path: str) -> str:
    return from_fs_path(path) or path


def _args(args: tuple[Any, ...]) -> dict[str, Any]:
    """Commands take one JSON object argument (or none)."""
    if not args or args[0] is None:
        return {}
    if not isinstance(args[0], dict):
        raise ValueError("The command's argument must be a JSON object")
    return args[0]


def create() -> Daemon:
    daemon = Daemon()

    @daemon.feature(types.INITIALIZED)
    def initialized(ls: Daemon, params: types.InitializedParams) -> None:
        pass

    @daemon.feature(types.INITIALIZE)
    def initialize(ls: Daemon, params: types.InitializeParams) -> None:
        options = params.initialization_options or {}
        if isinstance(options, dict):
            ls.reload_on_save = bool(options.get("reloadOnSave", True))
            entry = options.get("entryScript")
            ls.entry_script = os.path.abspath(entry) if entry else None

    @daemon.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: Daemon, params: types.DidOpenTextDocumentParams) -> None:
        ls.check_document(params.text_document.uri)

    @daemon.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: Daemon, params: types.DidChangeTextDocumentParams) -> None:
        ls.check_document(params.text_document.uri)
        path = to_fs_path(params.text_document.uri)
        if path:
            ls.clear_kind("run", path)

    @daemon.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: Daemon, params: types.DidSaveTextDocumentParams) -> None:
        ls.check_document(params.text_document.uri)
        path = to_fs_path(params.text_document.uri)
        request = ls.supervisor.request
        if not (path and request and ls.reload_on_save):
            return
        folder = os.path.join(os.path.dirname(request.entry_script), "")
        if not os.path.abspath(path).startswith(folder):
            return
        ls.clear_kind("run", path)
        process = ls.supervisor.process
        if process is None or process.returncode is not None:
            # The server is gone (it failed to start, or crashed): saving starts it again.
            if ls.supervisor.state == "failed":
                asyncio.ensure_future(ls.start_server(request))
        # Otherwise the server's own --reload watcher picks the change up.

    @daemon.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: Daemon, params: types.DidCloseTextDocumentParams) -> None:
        path = to_fs_path(params.text_document.uri)
        if path:
            ls.set_diagnostics(path, "static", [])

    @daemon.feature(types.SHUTDOWN)
    async def shutdown(ls: Daemon, params: None) -> None:
        await ls.supervisor.stop()
        # A startServer still pending (e.g. waiting for a debugger) now settles: let it answer
        # before pygls cancels what is left (cancelling it there breaks pygls' shutdown).
        async with ls._start_lock:
            pass

    @daemon.command(CMD_START)
    async def start_server(ls: Daemon, *args: Any) -> dict[str, Any]:
        request = StartRequest.from_json(_args(args), reload=ls.reload_on_save)
        return await ls.start_server(request)

    @daemon.command(CMD_STOP)
    async def stop_server(ls: Daemon, *args: Any) -> dict[str, Any]:
        await ls.supervisor.stop()
        return ls.status()

    @daemon.command(CMD_STATUS)
    def status(ls: Daemon, *args: Any) -> dict[str, Any]:
        return ls.status()

    @daemon.command(CMD_DEBUG_CONFIGURATIONS)
    async def debug_configurations(ls: Daemon, *args: Any) -> dict[str, Any]:
        pid = _args(args).get("pid")
        if pid and int(pid) not in {ls.supervisor.pid, *ls.supervisor.debug_ports}:
            return await asyncio.to_thread(processes.attach_configurations, int(pid))
        return {"configurations": ls.debug_configurations()}

    @daemon.command(CMD_FIND_SERVERS)
    async def find_servers(ls: Daemon, *args: Any) -> dict[str, Any]:
        return {"servers": await asyncio.to_thread(processes.find_servers)}

    @daemon.command(CMD_SEND_REQUEST)
    async def send_request(ls: Daemon, *args: Any) -> dict[str, Any]:
        status = ls.supervisor.status()
        if status["state"] not in ("running",) or not status["url"]:
            raise ValueError(f"The scoring server is not running (state: {status['state']}). Start it first.")
        return await asyncio.to_thread(requests.send, status["url"], _args(args))

    return daemon
