"""The language daemon: LSP features and ``azmlinfsrv.daemon.*`` commands over stdio.

It owns one azmlinfsrv server (``Supervisor``), publishes static diagnostics for open
scoring scripts and runtime ones from the server's events, relays status and log lines
as notifications, and hands out debugger attach configurations.

The handlers are module-level functions (``create`` registers them), as in pygls' examples;
command arguments are typed classes (``arguments``) that pygls converts from the handlers'
annotations, so a bad argument is answered as an InvalidParams error before a handler runs.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import uuid
from collections.abc import Callable
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from .. import __version__
from . import attach, cases, diagnostics, processes, requests
from .arguments import (
    DEFAULT_REQUEST,
    NO_ARGS,
    OWN_WORKERS,
    CancelRequestArgs,
    DebugConfigurationsArgs,
    ListCasesArgs,
    NoArgs,
    RunCasesArgs,
    SendRequestArgs,
    StartServerArgs,
    make_converter,
)
from .state import ServerState
from .supervisor import StartRequest, Supervisor

logger = logging.getLogger("azmlinfsrv.daemon")

CMD_START = "azmlinfsrv.daemon.startServer"
CMD_STOP = "azmlinfsrv.daemon.stopServer"
CMD_STATUS = "azmlinfsrv.daemon.status"
CMD_DEBUG_CONFIGURATIONS = "azmlinfsrv.daemon.debugConfigurations"
CMD_FIND_SERVERS = "azmlinfsrv.daemon.findServers"
CMD_SEND_REQUEST = "azmlinfsrv.daemon.sendRequest"
CMD_CANCEL_REQUEST = "azmlinfsrv.daemon.cancelRequest"
CMD_LIST_CASES = "azmlinfsrv.daemon.listCases"
CMD_RUN_CASES = "azmlinfsrv.daemon.runCases"
NOTIFY_STATUS = "azmlinfsrv/status"
NOTIFY_LOG = "azmlinfsrv/log"

PROGRESS_AFTER_SECONDS = 1.0
DIAGNOSTIC_KINDS = ("static", "load", "run")  # published merged, in this order
LOAD_PREFIXES = {"init_failed": "init() failed: ", "import_failed": "importing the entry script failed: "}


class Daemon(LanguageServer):
    """The LSP server's state: the supervisor, the client's options, diagnostics by file."""

    def __init__(self) -> None:
        super().__init__(
            "azmlinfsrv-daemon",
            __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Full,
            converter_factory=make_converter,
        )
        self.reload_on_save = True
        self.start_progress = True  # a client with its own start progress turns ours off
        self.entry_script: str | None = None
        self.supervisor = Supervisor(self)
        self._last_status: dict[str, Any] | None = None
        self._diagnostics: dict[str, dict[str, list[types.Diagnostic]]] = {}
        self._start_lock = asyncio.Lock()
        self.exchanges: dict[str, requests.Exchange] = {}  # pending sendRequests by requestId
        self.case_runs = cases.CaseRuns(self.supervisor)
        atexit.register(self.supervisor.stop_now)
        atexit.register(self.case_runs.stop_now)

    # -- status and log (the supervisor's Listener) ------------------------------------------
    def status(self) -> dict[str, Any]:
        return self.supervisor.status(self.debug_configurations()).to_json()

    def status_changed(self) -> None:
        status = self.status()
        if status != self._last_status:
            self._last_status = status
            self.protocol.notify(NOTIFY_STATUS, status)

    def server_log(self, text: str) -> None:
        self.protocol.notify(NOTIFY_LOG, {"text": text})

    def notice(self, text: str) -> None:
        """One line the user should see (e.g. the port moved): a message, and in the log."""
        self.window_show_message(types.ShowMessageParams(type=types.MessageType.Info, message=text))
        self.server_log(f"azmlinfsrv daemon: {text}")

    def server_event(self, event: dict[str, Any]) -> None:
        """Runtime diagnostics from the server's events (docs/events.md).

        A load failure stays until new code has loaded (a reload that *starts* proves
        nothing); a run() failure until a request succeeds or the file is saved.
        """
        kind = event.get("event")
        request = self.supervisor.request
        self.case_runs.run_failures.server_event(event)
        if kind in ("import_failed", "init_failed") and request:
            self._publish_failure("load", event, str(kind).replace("_", "-"), LOAD_PREFIXES[str(kind)])
        elif kind == "reloaded" or (kind == "worker_ready" and self._new_code_serves()):
            self.clear_kind("load")
        elif kind == "run_failed" and request:
            self._publish_failure("run", event, "run-failed", "run() failed: ")
        elif kind == "run_recovered":
            self.clear_kind("run")

    def _new_code_serves(self) -> bool:
        return self.supervisor.state.serving and not self.supervisor.life.reloading

    def _publish_failure(self, kind: str, event: dict[str, Any], code: str, prefix: str) -> None:
        request = self.supervisor.request
        if request is None:
            return
        found = diagnostics.runtime_diagnostic(event.get("exception") or {}, request.folder, code, prefix=prefix)
        if found:
            self.clear_kind(kind)
            self.set_diagnostics(found[0], kind, [found[1]])

    # -- diagnostics -------------------------------------------------------------------------
    def set_diagnostics(self, path: str, kind: str, items: list[types.Diagnostic]) -> None:
        path = os.path.abspath(path)
        by_kind = self._diagnostics.setdefault(path, {})
        if not items and not by_kind.get(kind):
            return
        by_kind[kind] = items
        merged = [d for k in DIAGNOSTIC_KINDS for d in by_kind.get(k, [])]
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=_uri(path), diagnostics=merged))

    def clear_kind(self, kind: str, path: str | None = None) -> None:
        for file in list(self._diagnostics):
            if path is None or file == os.path.abspath(path):
                self.set_diagnostics(file, kind, [])

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
        return [_attach_configuration(pid, port, request) for pid, port in self.supervisor.debug_targets().items()]

    # -- start and stop ----------------------------------------------------------------------
    async def start_server(self, request: StartRequest) -> dict[str, Any]:
        """Start (one start at a time), with a cancellable progress when it takes a while."""
        async with self._start_lock:
            self.clear_kind("run")  # new code; a load failure stays until the new code has loaded
            start = asyncio.create_task(self.supervisor.start(request))
            done, _ = await asyncio.wait({start}, timeout=PROGRESS_AFTER_SECONDS)
            if not done and self.start_progress:
                await self._progress_until(start, request)
            await start
            return self.status()

    async def stop_server(self) -> None:
        """Stop the server; a start still pending (e.g. waiting for a debugger) settles first."""
        await self.supervisor.stop()
        async with self._start_lock:
            pass

    async def _progress_until(self, start: asyncio.Task[None], request: StartRequest) -> None:
        """A cancellable progress for a slow start (a long init(), or waiting for the debugger)."""
        token = str(uuid.uuid4())
        try:
            await self.work_done_progress.create_async(token)
        except Exception:  # the client does not support server-initiated progress
            await asyncio.wait({start})
            return
        begin = types.WorkDoneProgressBegin(
            title="Starting scoring server", message=os.path.basename(request.entry_script), cancellable=True
        )
        self.work_done_progress.begin(token, begin)
        cancelled = self.work_done_progress.tokens[token]
        loop = asyncio.get_running_loop()
        started = loop.time() - PROGRESS_AFTER_SECONDS
        while not start.done():
            if cancelled.cancelled():
                await self.supervisor.stop()
                break
            phase = self.supervisor.life.phase
            doing = phase.words if phase else "starting the server"
            message = f"{doing}: {loop.time() - started:.0f} s"
            self.work_done_progress.report(token, types.WorkDoneProgressReport(message=message))
            await asyncio.wait({start}, timeout=1.0)
        self.work_done_progress.end(token, types.WorkDoneProgressEnd(message=self.supervisor.state.value))


def _uri(path: str) -> str:
    return from_fs_path(path) or path


def _attach_configuration(pid: int, port: int, request: StartRequest | None) -> dict[str, Any]:
    """A debugpy attach configuration for one worker's listener."""
    return attach.connect_configuration(pid, port, request.folder if request else None)


# -- LSP features ---------------------------------------------------------------------------
def initialize(ls: Daemon, params: types.InitializeParams) -> None:
    """Reads the client's options: reloadOnSave, entryScript, startProgress."""
    options = params.initialization_options or {}
    if isinstance(options, dict):
        ls.reload_on_save = bool(options.get("reloadOnSave", True))
        ls.start_progress = bool(options.get("startProgress", True))
        entry = options.get("entryScript")
        ls.entry_script = os.path.abspath(entry) if entry else None


def did_open(ls: Daemon, params: types.DidOpenTextDocumentParams) -> None:
    """Checks an opened scoring script statically."""
    ls.check_document(params.text_document.uri)


def did_change(ls: Daemon, params: types.DidChangeTextDocumentParams) -> None:
    """Re-checks the edited file (a run() failure stays: typing does not fix the server)."""
    ls.check_document(params.text_document.uri)


def did_save(ls: Daemon, params: types.DidSaveTextDocumentParams) -> None:
    """Re-checks the file; a save of the app's code restarts a server that is gone."""
    ls.check_document(params.text_document.uri)
    path = to_fs_path(params.text_document.uri)
    request = ls.supervisor.request
    if not (path and request and ls.reload_on_save):
        return
    if not os.path.abspath(path).startswith(os.path.join(request.folder, "")):
        return
    ls.clear_kind("run", path)
    # A live server's own --reload watcher picks the change up; a failed one is started again.
    if not ls.supervisor.process_alive and ls.supervisor.state is ServerState.FAILED:
        asyncio.ensure_future(ls.start_server(request))


def did_close(ls: Daemon, params: types.DidCloseTextDocumentParams) -> None:
    """Drops the closed file's static diagnostics."""
    path = to_fs_path(params.text_document.uri)
    if path:
        ls.set_diagnostics(path, "static", [])


async def shutdown(ls: Daemon, params: None) -> None:
    """Stops the server before pygls cancels what is left (a pending start answers first)."""
    await ls.stop_server()
    await ls.case_runs.stop_all()


# -- commands -------------------------------------------------------------------------------
async def start_server(ls: Daemon, args: StartServerArgs) -> dict[str, Any]:
    """Starts the server; answers once it serves or has failed."""
    return await ls.start_server(StartRequest.of(args, reload=ls.reload_on_save))


async def stop_server(ls: Daemon, args: NoArgs = NO_ARGS) -> dict[str, Any]:
    """Stops the server and its workers."""
    await ls.supervisor.stop()
    return ls.status()


def status(ls: Daemon, args: NoArgs = NO_ARGS) -> dict[str, Any]:
    """The current status."""
    return ls.status()


async def debug_configurations(ls: Daemon, args: DebugConfigurationsArgs = OWN_WORKERS) -> dict[str, Any]:
    """Attach configurations: the daemon's workers, or those of the server ``pid`` belongs to."""
    # The daemon's own server (its workers too) never goes through the attach channel: its
    # listeners are the debug start's, and its event channel tells the daemon about them.
    if args.pid and not ls.supervisor.owns(args.pid) and args.pid not in ls.supervisor.worker_pids():
        return await asyncio.to_thread(attach.configurations_for, args.pid)
    return {"configurations": ls.debug_configurations()}


async def find_servers(ls: Daemon, args: NoArgs = NO_ARGS) -> dict[str, Any]:
    """Every azmlinfsrv server on the machine, with its workers."""
    return {"servers": await asyncio.to_thread(processes.find_servers)}


async def send_request(ls: Daemon, args: SendRequestArgs = DEFAULT_REQUEST) -> dict[str, Any]:
    """One HTTP request to the running server."""
    current = ls.supervisor.status()
    if current.state is not ServerState.RUNNING or not current.url:
        raise ValueError(f"The scoring server is not running (state: {current.state.value}). Start it first.")
    exchange = requests.Exchange(current.url, args)
    if args.request_id:
        ls.exchanges[args.request_id] = exchange
    try:
        return await asyncio.to_thread(exchange.send)
    finally:
        if args.request_id and ls.exchanges.get(args.request_id) is exchange:
            del ls.exchanges[args.request_id]


def cancel_request(ls: Daemon, args: CancelRequestArgs) -> dict[str, Any]:
    """Aborts a pending sendRequest: it answers with a "cancelled" error at once.

    (pygls does not pass LSP's $/cancelRequest on to a running command, hence a command.)
    """
    exchange = ls.exchanges.get(args.request_id)
    if exchange:
        exchange.abort()
    return {"cancelled": exchange is not None}


async def list_cases(ls: Daemon, args: ListCasesArgs) -> dict[str, Any]:
    """The sample-request cases of an entry script (docs/validation.md)."""
    return await asyncio.to_thread(cases.list_cases, args)


async def run_cases(ls: Daemon, args: RunCasesArgs) -> dict[str, Any]:
    """Runs cases against the daemon's server for that script, else one started for the run."""
    return await ls.case_runs.run(args)


FEATURES: dict[str, Callable[..., Any]] = {
    types.INITIALIZE: initialize,
    types.TEXT_DOCUMENT_DID_OPEN: did_open,
    types.TEXT_DOCUMENT_DID_CHANGE: did_change,
    types.TEXT_DOCUMENT_DID_SAVE: did_save,
    types.TEXT_DOCUMENT_DID_CLOSE: did_close,
    types.SHUTDOWN: shutdown,
}
COMMANDS: dict[str, Callable[..., Any]] = {
    CMD_START: start_server,
    CMD_STOP: stop_server,
    CMD_STATUS: status,
    CMD_DEBUG_CONFIGURATIONS: debug_configurations,
    CMD_FIND_SERVERS: find_servers,
    CMD_SEND_REQUEST: send_request,
    CMD_CANCEL_REQUEST: cancel_request,
    CMD_LIST_CASES: list_cases,
    CMD_RUN_CASES: run_cases,
}


def create() -> Daemon:
    """A daemon with every feature and command registered."""
    daemon = Daemon()
    for method, handler in FEATURES.items():
        daemon.feature(method)(handler)
    for name, handler in COMMANDS.items():
        daemon.command(name)(handler)
    return daemon
