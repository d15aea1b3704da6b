"""How fast the editor loop answers: the daemon driven over LSP as an editor drives it.

Usage: ``.venv/bin/python bench/editor.py [--runs 5] [--doc docs/benchmarks.md]`` (run by
``make bench``). For a trivial score.py and for examples/sklearn, each measured ``--runs``
times, median reported:

- **start → running**: ``startServer`` sent until it answers ``running`` (spawn, import,
  init(), the first worker ready);
- **save → new code serving**: the file written and ``didSave`` sent until ``/score``
  answers with the new code (polled every 20 ms through ``sendRequest``);
- **save (broken init()) → diagnostic**: until ``publishDiagnostics`` carries the new
  init() error;
- **debug start → breakpoint in init()**: ``startServer {debug: true}`` sent until a real
  DAP session (debugpy) reports ``stopped`` at a breakpoint in init().

Loopback only; the daemon and every server it started are stopped before it returns.
The figures replace the ``section:editor-loop`` of ``--doc`` (bench.py keeps it when it rewrites the page).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.client import LanguageClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.daemon.dap import DapClient  # noqa: E402  (the tests' DAP client and helpers, reused)
from tests.daemon.lsp_values import plain, wait_for  # noqa: E402

START = "azmlinfsrv.daemon.startServer"
STOP = "azmlinfsrv.daemon.stopServer"
SEND = "azmlinfsrv.daemon.sendRequest"
BEGIN, END = "<!-- section:editor-loop -->", "<!-- /section:editor-loop -->"
BOUND_SECONDS = 120.0  # no single step waits longer: a hang fails the benchmark, it does not stall it

TRIVIAL = """\
def init():
    global factor
    factor = 2

def run(data):
    return {"length": len(data) * factor}
"""

# Appended to score.py: run() answers which save it comes from; init() of a save fails.
NEW_RUN = '\n\n_run_{n} = run\n\n\ndef run(raw_data):\n    return {{"save": {n}, "answer": _run_{n}(raw_data)}}\n'
BROKEN_INIT = '\n\ndef init():\n    raise RuntimeError("broken by save {n}")\n'


class Daemon:
    """``python -m azmlinfsrv.daemon`` and the notifications an editor listens to."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.client = LanguageClient("bench-editor", "1")
        self.statuses: list[dict[str, Any]] = []
        self.diagnostics: dict[str, list[types.Diagnostic]] = {}
        self._versions: dict[str, int] = {}

        @self.client.feature("azmlinfsrv/status")
        def on_status(params: Any) -> None:
            self.statuses.append(plain(params))

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
            self.diagnostics[params.uri] = list(params.diagnostics)

        @self.client.feature("azmlinfsrv/log")
        def on_log(params: Any) -> None:
            pass

        @self.client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
        def on_progress_create(params: types.WorkDoneProgressCreateParams) -> None:
            pass  # the start progress of a slow init(): accepted, not shown

        @self.client.feature(types.PROGRESS)
        def on_progress(params: types.ProgressParams) -> None:
            pass

    async def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AZUREML_", "AML_", "AZMLINFSRV_"))}
        await self.client.start_io(sys.executable, "-m", "azmlinfsrv.daemon", env=env)
        await self.client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                root_uri=self.folder.as_uri(),
                initialization_options={"reloadOnSave": True},
            )
        )
        self.client.initialized(types.InitializedParams())

    async def command(self, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        params = types.ExecuteCommandParams(command=name, arguments=[args or {}])
        result = await asyncio.wait_for(self.client.workspace_execute_command_async(params), BOUND_SECONDS)
        return dict(plain(result))

    def save(self, path: Path, text: str) -> None:
        """As an editor saves: didChange, the file on disk, didSave."""
        uri = path.as_uri()
        version = self._versions.get(uri, 0) + 1
        self._versions[uri] = version
        if version == 1:
            item = types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)
            self.client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=item))
        else:
            self.client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                    content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
                )
            )
        path.write_text(text)
        self.client.text_document_did_save(
            types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.command(STOP), 30)
            await asyncio.wait_for(self.client.shutdown_async(None), 10)
            self.client.exit(None)
        finally:
            await self.client.stop()


async def until(predicate: Callable[[], Awaitable[bool] | bool], what: str) -> None:
    """Poll ``predicate`` every 20 ms until true, at most BOUND_SECONDS."""
    await wait_for(predicate, BOUND_SECONDS, what, every=0.02)


class Project:
    """A scoring project in a temporary folder: its score.py, model dir and request body."""

    def __init__(self, name: str, folder: Path, score: str, model_dir: Path | None, body: str) -> None:
        self.name, self.folder, self.base, self.model_dir, self.body = name, folder, score, model_dir, body
        self.score = folder / "score.py"

    def start_args(self, debug: bool = False) -> dict[str, Any]:
        args: dict[str, Any] = {"entryScript": str(self.score), "debug": debug}
        if self.model_dir is not None:
            args["modelDir"] = str(self.model_dir)
        return args

    def init_line(self) -> int:
        """The 1-based line of init()'s first statement (after a one-line docstring and
        ``global``): where the debug run's breakpoint goes."""
        lines = self.base.splitlines()
        at = next(i for i, line in enumerate(lines) if line.startswith("def init("))
        skipped = ('"""', "global", "#")
        return (
            next(i for i in range(at + 1, len(lines)) if lines[i].strip() and not lines[i].strip().startswith(skipped))
            + 1
        )


def trivial_project(tmp: Path) -> Project:
    folder = tmp / "trivial"
    folder.mkdir()
    return Project("trivial score.py", folder, TRIVIAL, None, '"abc"')


def sklearn_project(tmp: Path) -> Project:
    folder = tmp / "sklearn"
    shutil.copytree(ROOT / "examples" / "sklearn", folder, ignore=shutil.ignore_patterns("model", "sample-requests"))
    model = folder / "model"
    subprocess.run([sys.executable, str(folder / "train.py"), str(model)], check=True, capture_output=True)
    body = (folder / "sample-request.json").read_text()
    return Project("examples/sklearn", folder, (folder / "score.py").read_text(), model, body)


async def time_start(daemon: Daemon, project: Project) -> float:
    project.score.write_text(project.base)
    began = time.perf_counter()
    status = await daemon.command(START, project.start_args())
    if status["state"] != "running":
        raise RuntimeError(f"{project.name}: the server did not start: {status.get('error')}")
    return time.perf_counter() - began


async def time_reload(daemon: Daemon, project: Project, n: int) -> float:
    async def new_code_serves() -> bool:
        answer = await daemon.command(SEND, {"method": "POST", "path": "/score", "body": project.body})
        return f'"save": {n}' in str(answer["body"])

    began = time.perf_counter()
    daemon.save(project.score, project.base + NEW_RUN.format(n=n))
    await until(new_code_serves, "answer from the saved code")
    return time.perf_counter() - began


async def time_diagnostic(daemon: Daemon, project: Project, n: int) -> float:
    uri = project.score.as_uri()

    def diagnosed() -> bool:
        return any(f"broken by save {n}" in d.message for d in daemon.diagnostics.get(uri, []))

    began = time.perf_counter()
    daemon.save(project.score, project.base + BROKEN_INIT.format(n=n))
    await until(diagnosed, "init() diagnostic")
    return time.perf_counter() - began


async def time_breakpoint(daemon: Daemon, project: Project) -> float:
    project.score.write_text(project.base)
    before = len(daemon.statuses)
    began = time.perf_counter()
    start = asyncio.ensure_future(daemon.command(START, project.start_args(debug=True)))
    await until(lambda: any(s.get("debugConfigurations") for s in daemon.statuses[before:]), "debug configuration")
    [config] = next(s["debugConfigurations"] for s in daemon.statuses[before:] if s.get("debugConfigurations"))
    dap = await DapClient.connect(config["connect"]["host"], config["connect"]["port"])
    try:
        await dap.attach_with_breakpoints(config, {str(project.score): [project.init_line()]})
        stopped = await dap.wait_event("stopped", BOUND_SECONDS)
        elapsed = time.perf_counter() - began
        await dap.request("continue", {"threadId": stopped["body"]["threadId"]})
        await asyncio.wait_for(start, BOUND_SECONDS)
    finally:
        await dap.close()
    return elapsed


async def measure(project: Project, runs: int) -> dict[str, list[float]]:
    daemon = Daemon(project.folder)
    await daemon.start()
    figures: dict[str, list[float]] = {"start": [], "reload": [], "diagnostic": [], "breakpoint": []}
    try:
        for n in range(runs):
            figures["start"].append(await time_start(daemon, project))
            figures["reload"].append(await time_reload(daemon, project, n))
            figures["diagnostic"].append(await time_diagnostic(daemon, project, n))
            await daemon.command(STOP)
            figures["breakpoint"].append(await time_breakpoint(daemon, project))
            await daemon.command(STOP)
    finally:
        await daemon.stop()
    return figures


ROWS = [
    ("start", "start → running", None),
    ("reload", "save → the new code serving", 1.0),
    ("diagnostic", "save with a broken init() → its diagnostic", 1.0),
    ("breakpoint", "debug start → breakpoint in init() hit", None),
]

BOUNDS = """\
What bounds each figure:
- **start**: a Python process for the server, importing Flask and gunicorn (~0.3 s), forking a
  worker, importing score.py and its libraries, init(); the daemon sees `worker_ready` within
  its 50 ms event poll. For examples/sklearn most of it is init(): unpickling the model imports
  scikit-learn (~0.8 s here), and every reload pays it again in the new worker, since the
  arbiter does not import the user's libraries.
- **save → serving**: the server's polling watcher (every 0.3 s: 0.15 s on average), forking a
  new worker from the arbiter (Flask and gunicorn are already imported), importing score.py,
  init(), then the old worker is retired; plus this benchmark's 20 ms request poll.
- **save → diagnostic**: the same watcher and fork, import, init() raising, the `init_failed`
  event (50 ms poll), the diagnostic.
- **debug start → breakpoint**: as start, plus importing debugpy in the worker, a DAP
  `initialize`/`attach`/`setBreakpoints`/`configurationDone` round, and debugpy's tracing of
  init().
"""


def table(results: dict[str, dict[str, list[float]]], runs: int) -> str:
    names = list(results)
    lines = [
        f"| step | {' | '.join(names)} | target |",
        f"|---|{'---:|' * len(names)}---|",
    ]
    for key, label, target in ROWS:
        cells = [f"{statistics.median(results[n][key]) * 1000:.0f} ms" for n in names]
        goal = f"< {target:.0f} s (trivial init())" if target else "—"
        if target:
            met = statistics.median(results[names[0]][key]) < target
            goal += " — met" if met else " — **missed**"
        lines.append(f"| {label} | {' | '.join(cells)} | {goal} |")
    return "\n".join(lines)


def section(results: dict[str, dict[str, list[float]]], runs: int) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return (
        f"{BEGIN}\n## The editor loop (`bench/editor.py`)\n\n"
        f"The daemon driven over LSP as an editor drives it, from {stamp}: median of {runs} runs "
        f"each, on this 2-core machine.\n\n{table(results, runs)}\n\n{BOUNDS}{END}\n"
    )


def write_doc(doc: Path, text: str) -> None:
    current = doc.read_text() if doc.exists() else ""
    if BEGIN in current and END in current:
        head, _, rest = current.partition(BEGIN)
        _, _, tail = rest.partition(END)
        current = head.rstrip("\n") + "\n\n" + text + tail.lstrip("\n")
    else:
        current = current.rstrip("\n") + "\n\n" + text
    doc.write_text(current)


async def main_async(runs: int, doc: Path | None) -> None:
    with tempfile.TemporaryDirectory(prefix="azmlinfsrv-bench-editor-") as tmp:
        results = {}
        for project in (trivial_project(Path(tmp)), sklearn_project(Path(tmp))):
            print(f"bench/editor.py: {project.name}, {runs} runs", flush=True)
            results[project.name] = await measure(project, runs)
    text = section(results, runs)
    print(text)
    if doc is not None:
        write_doc(doc, text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--doc", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--no-doc", action="store_true", help="print only")
    args = parser.parse_args()
    asyncio.run(main_async(args.runs, None if args.no_doc else args.doc))


if __name__ == "__main__":
    main()
