"""``listCases`` and ``runCases``: a scoring script's sample-request cases, for an editor's
test view.

Finding, sending and judging cases is ``azmlinfsrv.cases`` (the code ``azmlinfsrv test``
runs); this module only picks the server a run goes to and turns outcomes into JSON. A
run uses the daemon's own server when it serves that entry script (with the debugger, if
it was started with it); otherwise it starts one for the run, as ``azmlinfsrv test`` does,
and stops it afterwards. The result says which (``server.source``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import tempfile
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from ..cases import Answer, Case, CaseError, Outcome, default_cases_path, load_cases, run_case, swagger_for
from ..gate import report
from ..gate.server import HOST, ServerProcess, StartFailure, start
from .arguments import ListCasesArgs, RunCasesArgs, camel
from .state import ServerState
from .supervisor import Supervisor

REQUEST_TIMEOUT_SECONDS = 60.0  # azmlinfsrv test's default
DEBUG_REQUEST_TIMEOUT_SECONDS = 600.0  # run() may sit at a breakpoint
START_TIMEOUT_SECONDS = 120.0
RUN_FAILURES_KEPT = 200
NO_CASES = "no cases: add sample-requests/NAME.json (a request body) beside the entry script"

RUN_FAILED_EVENT_WAIT_SECONDS = 1.0  # the event may be read a moment after the answer came
RunFailure = Callable[[Answer], "dict[str, Any] | None"]


def _json(value: Any) -> dict[str, Any]:
    """A result dataclass as JSON: camelCase names, None fields left out."""
    return {
        camel(f.name): _json(v) if dataclasses.is_dataclass(v) else v
        for f in dataclasses.fields(value)
        if (v := getattr(value, f.name)) is not None
    }


@dataclasses.dataclass(frozen=True)
class CaseLocation:
    file: str
    line: int  # 1-based


@dataclasses.dataclass(frozen=True)
class CaseInfo:
    """One case as ``listCases`` lists it."""

    id: str  # the case's name: unique within its folder
    name: str
    file: str  # the file that defines it
    line: int
    kind: str  # body, case or sample (azmlinfsrv.cases.model.CaseKind)
    method: str
    path: str
    description: str | None = None
    expected_file: str | None = None
    error: str | None = None  # the case file cannot be read; running it is an error


@dataclasses.dataclass(frozen=True)
class CaseResult:
    """One case as ``runCases`` answers it."""

    id: str
    name: str
    file: str
    verdict: Literal["passed", "failed", "error"]
    message: str  # why it failed (empty when it passed), notes after it
    expected: str | None = None  # pretty JSON or text, for a diff view
    actual: str | None = None
    location: CaseLocation | None = None  # where to show the failure: the expected file, else the case
    elapsed_ms: float | None = None
    status: int | None = None  # the HTTP status of the answer


def result_fields() -> dict[str, list[str]]:
    """The JSON field names, as extension/src/protocol.ts must spell them."""
    return {cls.__name__: [camel(f.name) for f in dataclasses.fields(cls)] for cls in (CaseInfo, CaseResult)}


def cases_source(entry_script: str, cases: str | None) -> Path | None:
    """``cases`` (relative to the script's folder), else azmlinfsrv test's default for the script."""
    folder = Path(entry_script).resolve().parent
    if cases is not None:
        return folder / cases
    return default_cases_path(Path(entry_script), folder)


def _load(source: Path | None) -> list[Case]:
    if source is None:
        return []
    try:
        return load_cases(source)
    except CaseError as ex:
        raise ValueError(str(ex)) from None


def case_info(case: Case) -> CaseInfo:
    expected = case.expect.json.source if case.expect.json is not None else None
    return CaseInfo(
        id=case.name,
        name=case.name,
        file=str(case.source),
        line=1,
        kind=case.kind,
        method=case.request.method,
        path=case.request.path,
        description=case.description or None,
        expected_file=str(expected) if expected else None,
        error=case.error,
    )


def list_cases(args: ListCasesArgs) -> dict[str, Any]:
    """The cases of the entry script, with where they were found."""
    source = cases_source(args.entry_script, args.cases)
    cases = _load(source)
    out: dict[str, Any] = {
        "entryScript": os.path.abspath(args.entry_script),
        "casesPath": str(source) if source else None,
        "cases": [_json(case_info(c)) for c in cases],
    }
    if not cases:
        out["message"] = NO_CASES if source is None else f"no cases in {source}"
    return out


def _message(outcome: Outcome) -> str:
    return "\n".join(report.problem_lines(outcome) + outcome.notes)


def _location(outcome: Outcome) -> CaseLocation:
    """A JSON difference is shown on the expected file; anything else on the case's own file."""
    for problem in outcome.problems:
        expected = outcome.case.expect.json
        if problem.check == "json" and expected is not None and expected.source is not None:
            return CaseLocation(str(expected.source), 1)
    return CaseLocation(str(outcome.case.source), 1)


def case_result(outcome: Outcome) -> CaseResult:
    case, answer = outcome.case, outcome.answer
    diff = next((p for p in outcome.problems if p.expected is not None and p.actual is not None), None)
    return CaseResult(
        id=case.name,
        name=case.name,
        file=str(case.source),
        verdict=outcome.verdict,
        message=_message(outcome),
        expected=diff.expected if diff else None,
        actual=diff.actual if diff else None,
        location=_location(outcome) if outcome.verdict != "passed" else None,
        elapsed_ms=round(answer.elapsed_ms, 3) if answer else None,
        status=answer.status if answer else None,
    )


def _error_result(case_id: str, file: str, message: str, location: CaseLocation | None = None) -> CaseResult:
    where = location or (CaseLocation(file, 1) if file else None)
    return CaseResult(case_id, case_id, file, "error", message, location=where)


def select(cases: list[Case], ids: list[str] | None, source: Path | None) -> tuple[list[Case], list[CaseResult]]:
    """The cases asked for, and an error result for each id that names none (deleted since listed)."""
    if ids is None:
        return cases, []
    by_id = {c.name: c for c in cases}
    missing = [
        _error_result(i, str(source or ""), f"no case {i!r} in {source or 'the entry script folder'}")
        for i in ids
        if i not in by_id
    ]
    return [by_id[i] for i in dict.fromkeys(ids) if i in by_id], missing


def run_all(cases: list[Case], port: int, timeout: float, run_failure: RunFailure) -> list[CaseResult]:
    """Blocking: every case against 127.0.0.1:port, with run()'s exception for a failed one."""
    swagger = swagger_for(cases, HOST, port, timeout)
    results = []
    for case in cases:
        outcome = run_case(case, HOST, port, None, swagger, timeout)
        if outcome.answer is not None and outcome.verdict != "passed":
            outcome.notes += report.run_failure_lines(run_failure(outcome.answer))
        results.append(case_result(outcome))
    return results


class RunFailures:
    """run() exceptions of the daemon's server by request id, from its ``run_failed`` events."""

    def __init__(self) -> None:
        self._by_request: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def server_event(self, event: dict[str, Any]) -> None:
        if event.get("event") == "run_failed" and event.get("requestId"):
            self._by_request[str(event["requestId"])] = event.get("exception") or {}
            while len(self._by_request) > RUN_FAILURES_KEPT:
                self._by_request.popitem(last=False)

    def of(self, answer: Answer) -> dict[str, Any] | None:
        """Blocking (called from a run's thread): a 5xx answer waits a moment for its event."""
        deadline = time.monotonic() + (RUN_FAILED_EVENT_WAIT_SECONDS if answer.status >= 500 else 0)
        while (found := self._by_request.get(answer.request_id)) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        return found


def startup_failure(failure: StartFailure) -> dict[str, Any]:
    """Why the server started for the run did not serve, in words, with the user's line."""
    out: dict[str, Any] = {"message": "\n".join(report.startup_lines(failure))}
    location = failure.location
    if location and location.get("file"):
        out["location"] = {"file": str(location["file"]), "line": int(location.get("line") or 1)}
    return out


class CaseRuns:
    """Runs cases for the daemon; owns the servers it starts for runs, and stops them."""

    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor
        self.run_failures = RunFailures()
        self._started: set[ServerProcess] = set()

    async def _running_port(self, entry_script: str) -> int | None:
        """The daemon's server port when it serves ``entry_script`` (after a start in progress settles)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + START_TIMEOUT_SECONDS
        while True:
            request, state = self.supervisor.request, self.supervisor.state
            if request is None or os.path.realpath(request.entry_script) != os.path.realpath(entry_script):
                return None
            if state is not ServerState.STARTING or loop.time() > deadline:
                return self.supervisor.port if state is ServerState.RUNNING else None
            await asyncio.sleep(0.1)

    async def run(self, args: RunCasesArgs) -> dict[str, Any]:
        source = cases_source(args.entry_script, args.cases)
        chosen, missing = select(_load(source), args.ids, source)
        out: dict[str, Any] = {"entryScript": os.path.abspath(args.entry_script), "casesPath": str(source or "")}
        port = await self._running_port(args.entry_script)
        if port is not None:
            debug = bool(self.supervisor.request and self.supervisor.request.debug)
            default = DEBUG_REQUEST_TIMEOUT_SECONDS if debug else REQUEST_TIMEOUT_SECONDS
            timeout = args.timeout_ms / 1000 if args.timeout_ms else default
            out["server"] = {"source": "running", "url": f"http://{HOST}:{port}", "pid": self.supervisor.pid}
            results = await asyncio.to_thread(run_all, chosen, port, timeout, self.run_failures.of)
        elif chosen:
            results = await self._run_started(args, chosen, out)
        else:
            results = []
        out["results"] = [_json(r) for r in results + missing]
        return out

    async def _run_started(self, args: RunCasesArgs, cases: list[Case], out: dict[str, Any]) -> list[CaseResult]:
        """Start a server for the run (as azmlinfsrv test does), run, stop it."""
        folder = Path(args.entry_script).resolve().parent
        timeout = args.timeout_ms / 1000 if args.timeout_ms else REQUEST_TIMEOUT_SECONDS
        with tempfile.TemporaryDirectory(prefix="azmlinfsrv-cases-") as workdir:
            server = start(_server_args(args), dict(args.env or {}), Path(workdir), None, cwd=folder)
            self._started.add(server)
            try:
                out["server"] = {"source": "started", "url": server.url, "pid": server.pid}
                failure = await asyncio.to_thread(server.wait_ready, START_TIMEOUT_SECONDS)
                if failure is not None:
                    out["serverError"] = startup_failure(failure)
                    return [_not_run(c, out["serverError"]) for c in cases]
                return await asyncio.to_thread(
                    run_all, cases, server.port, timeout, lambda a: server.run_failure(a.request_id)
                )
            finally:
                await asyncio.to_thread(server.terminate)
                self._started.discard(server)

    async def stop_all(self) -> None:
        """Stops the servers of runs in progress (the daemon shuts down)."""
        await asyncio.gather(*(asyncio.to_thread(s.terminate) for s in list(self._started)))

    def stop_now(self) -> None:
        for server in list(self._started):
            server.terminate()


def _not_run(case: Case, server_error: dict[str, Any]) -> CaseResult:
    where = server_error.get("location")
    location = CaseLocation(where["file"], where["line"]) if where else None
    return _error_result(case.name, str(case.source), server_error["message"], location)


def _server_args(args: RunCasesArgs) -> list[str]:
    out = ["--entry_script", os.path.abspath(args.entry_script), "--worker_count", str(args.worker_count or 1)]
    if args.model_dir:
        out += ["--model_dir", os.path.abspath(args.model_dir)]
    return out
