"""The readable report of ``azmlinfsrv test``: one line per case as it finishes, the
differences of a failing one (paths into the JSON, expected vs actual), and a summary."""

from __future__ import annotations

import os
import sysconfig
from pathlib import Path
from typing import Any, TextIO

from ..cases import Outcome
from .server import StartFailure

MAX_DIFFERENCES = 20
_LABELS = {"passed": "PASS ", "failed": "FAIL ", "error": "ERROR"}


def shown_path(path: Path | str) -> str:
    """A path relative to the working directory when it is inside it."""
    text = str(path)
    try:
        relative = os.path.relpath(text)
    except ValueError:  # another drive on Windows
        return text
    return text if relative.startswith("..") else relative


def problem_lines(outcome: Outcome) -> list[str]:
    """Why a case failed, one item per line (also the body of a JUnit failure)."""
    lines: list[str] = []
    if outcome.error is not None:
        lines.append(outcome.error)
    for problem in outcome.problems:
        lines.append(problem.message)
        for difference in problem.differences[:MAX_DIFFERENCES]:
            lines.append(f"  {difference}")
        hidden = len(problem.differences) - MAX_DIFFERENCES
        if hidden > 0:
            lines.append(f"  ... and {hidden} more")
    return lines


def _library_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    return tuple(os.path.join(os.path.realpath(paths[k]), "") for k in ("stdlib", "platstdlib", "purelib", "platlib"))


def own_frames(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The frames of the user's code: the standard library's and installed packages' are
    noise in a report (the event channel already dropped the server's own)."""
    libraries = _library_dirs()
    own = [f for f in frames if not os.path.realpath(str(f.get("file", ""))).startswith(libraries)]
    return own or frames


def format_exception(exception: dict[str, Any]) -> list[str]:
    """``ValueError: boom`` and its user frames as ``file:line in function``, innermost last."""
    lines = [f"{exception.get('type', 'Exception')}: {exception.get('message', '')}"]
    for frame in own_frames(exception.get("frames") or []):
        lines.append(
            f"  at {shown_path(frame.get('file', '?'))}:{frame.get('line', '?')} in {frame.get('function', '?')}"
        )
    return lines


def run_failure_lines(exception: dict[str, Any] | None) -> list[str]:
    """``run() raised ValueError: boom`` and its user frames, for a case whose run() failed."""
    if exception is None:
        return []
    lines = format_exception(exception)
    return ["run() raised " + lines[0], *lines[1:]]


def print_header(out: TextIO, count: int, source: Path, recording: bool) -> None:
    mode = " (recording expected answers)" if recording else ""
    print(f"azmlinfsrv test: {count} case{'s' if count != 1 else ''} from {shown_path(source)}{mode}", file=out)


def print_ready(out: TextIO, url: str, pid: int, seconds: float) -> None:
    print(f"server: {url} (pid {pid}), serving after {seconds:.1f} s", file=out)
    print(file=out)


def print_outcome(out: TextIO, outcome: Outcome, width: int = 0) -> None:
    case, answer = outcome.case, outcome.answer
    label = "REC  " if outcome.recorded is not None and outcome.verdict == "passed" else _LABELS[outcome.verdict]
    line = f"{label} {case.name.ljust(width)}"
    if answer is not None:
        line += f"  {case.request.method} {case.request.path} -> {answer.status} in {answer.elapsed_ms:.0f} ms"
    print(line, file=out)
    if outcome.recorded is not None and not any(n.endswith("unchanged") for n in outcome.notes):
        print(f"      wrote {shown_path(outcome.recorded)}", file=out)
    for text in problem_lines(outcome) + outcome.notes:
        print(f"      {text}", file=out)
    out.flush()


def print_summary(out: TextIO, outcomes: list[Outcome], seconds: float) -> None:
    counts = {verdict: sum(o.verdict == verdict for o in outcomes) for verdict in ("passed", "failed", "error")}
    parts = [f"{counts['passed']} passed", f"{counts['failed']} failed"]
    if counts["error"]:
        parts.append(f"{counts['error']} error{'s' if counts['error'] != 1 else ''}")
    recorded = sum(o.recorded is not None for o in outcomes)
    if recorded:
        parts.append(f"{recorded} recorded")
    print(file=out)
    print(f"{', '.join(parts)} in {seconds:.1f} s", file=out)


def startup_lines(failure: StartFailure) -> list[str]:
    lines = [f"the server did not start: {failure.reason}"]
    if failure.exception is not None:
        lines.append(f"{failure.stage} failed with " + format_exception(failure.exception)[0])
        lines += format_exception(failure.exception)[1:]
    elif failure.location is not None:
        loc = failure.location
        lines.append(f"  at {shown_path(loc['file'])}:{loc['line']} in {loc.get('function') or '?'}")
    if failure.log_tail:
        lines.append("last lines of the server's output:")
        lines += [f"  | {line}" for line in failure.log_tail]
    return lines


def print_startup_failure(out: TextIO, failure: StartFailure) -> None:
    for line in startup_lines(failure):
        print(line, file=out)
