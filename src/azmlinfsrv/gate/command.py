"""``azmlinfsrv test``: flags, the run, and the exit code.

Exit codes: 0 every case passed; 1 a case failed (or could not run); 2 the command was
used wrongly (bad flag, no cases); 3 the server did not start; 128+N when stopped by
signal N (130 for Ctrl+C) — the server is stopped in every case.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TextIO

from ..cases import (
    Case,
    CaseError,
    Outcome,
    SwaggerDocument,
    Tolerance,
    default_cases_path,
    load_cases,
    run_case,
    swagger_for,
)
from ..cases.model import DEFAULT_ABSOLUTE_TOLERANCE, DEFAULT_RELATIVE_TOLERANCE
from . import junit, report
from .server import HOST, Interrupted, ServerProcess, interruptible, signals_held, start

EXIT_PASSED = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_SERVER_FAILED = 3

# Serving flags passed through to `python -m azmlinfsrv` unchanged.
_PASSED_THROUGH = (
    "entry_script",
    "model_dir",
    "config_file",
    "worker_count",
    "appinsights_instrumentation_key",
    "access_control_allow_origins",
    "server",
)


def _positive(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise ValueError(value)
    return number


def _non_negative(value: str) -> float:
    number = float(value)
    if not number >= 0:
        raise ValueError(value)
    return number


def _env_pair(value: str) -> tuple[str, str]:
    name, sep, rest = value.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {value!r}")
    return name, rest


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="azmlinfsrv test",
        description="Start the server on a free loopback port, send every sample-request case to it, compare "
        "the answers, stop the server. Exit 0: all passed, 1: a case failed, 2: usage error, 3: the server "
        "did not start. See docs/validation.md.",
    )
    _add_serving_flags(parser)
    _add_case_flags(parser)
    return parser


def _add_serving_flags(parser: argparse.ArgumentParser) -> None:
    """The serving flags the gate passes on to the server it starts."""
    add = parser.add_argument
    add("--entry_script", help="The scoring script, as for serving.")
    add("--model_dir", help="The model directory (AZUREML_MODEL_DIR), as for serving.")
    add("--config_file", help="The configuration file, as for serving.")
    add("--worker_count", type=int, help="The number of worker processes, as for serving.")
    add("--appinsights_instrumentation_key", help=argparse.SUPPRESS)
    add("--access_control_allow_origins", help="CORS origins, as for serving.")
    add("--server", choices=["gunicorn", "waitress"], help="The HTTP front, as for serving.")
    add(
        "--env",
        metavar="NAME=VALUE",
        action="append",
        type=_env_pair,
        default=[],
        help="An environment "
        "variable for the server (repeatable); the server also inherits this command's environment.",
    )


def _add_case_flags(parser: argparse.ArgumentParser) -> None:
    """Which cases run, how answers are compared, and how long things may take."""
    add = parser.add_argument
    add(
        "--cases",
        metavar="PATH",
        help="A folder of cases or one case file. Default: sample-requests/ beside "
        "the entry script, else the sample-request.json beside it or in the working directory.",
    )
    add("--junit-xml", metavar="FILE", help="Also write the results as JUnit XML to FILE.")
    add(
        "--tolerance",
        metavar="REL",
        type=_non_negative,
        default=DEFAULT_RELATIVE_TOLERANCE,
        help=f"Relative tolerance for numbers in expected answers. Default {DEFAULT_RELATIVE_TOLERANCE:g}.",
    )
    add(
        "--abs-tolerance",
        metavar="ABS",
        type=_non_negative,
        default=DEFAULT_ABSOLUTE_TOLERANCE,
        help="Absolute tolerance for numbers (for values near zero). Default 0.",
    )
    add(
        "--record",
        action="store_true",
        help="Write the current answers as NAME.expected.json for review, instead of comparing with them.",
    )
    add(
        "--start-timeout",
        metavar="SECONDS",
        type=_positive,
        default=120.0,
        help="How long the server may take to answer GET /. Default 120.",
    )
    add(
        "--request-timeout",
        metavar="SECONDS",
        type=_positive,
        default=60.0,
        help="How long one case may wait for its answer. Default 60.",
    )
    add("--server-log", metavar="FILE", help="Keep the server's output in FILE (it is shown on a start failure).")


def _entry_script(args: argparse.Namespace) -> Path | None:
    """The entry script from the flag, else the environment or the config file."""
    if args.entry_script:
        return Path(args.entry_script)
    named = dict(args.env).get("AZUREML_ENTRY_SCRIPT") or os.environ.get("AZUREML_ENTRY_SCRIPT")
    if not named and args.config_file:
        try:
            with open(args.config_file, encoding="utf-8") as f:
                value = json.load(f).get("AZUREML_ENTRY_SCRIPT")
            named = value if isinstance(value, str) else None
        except (OSError, ValueError, AttributeError):
            named = None
    if not named:
        return None
    root = dict(args.env).get("AML_APP_ROOT") or os.environ.get("AML_APP_ROOT") or os.getcwd()
    return Path(root) / named


def _server_args(args: argparse.Namespace) -> list[str]:
    out: list[str] = []
    for name in _PASSED_THROUGH:
        value = getattr(args, name)
        if value is not None:
            out += [f"--{name}", str(value)]
    return out


def _usage_error(parser: argparse.ArgumentParser, message: str) -> int:
    parser.print_usage(sys.stderr)
    print(f"azmlinfsrv test: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on a bad flag
    if not (args.entry_script or args.config_file):
        return _usage_error(parser, "give --entry_script (or --config_file), as for serving")
    if args.worker_count is not None and args.worker_count < 1:
        return _usage_error(parser, "--worker_count must be at least 1")
    source = Path(args.cases) if args.cases else default_cases_path(_entry_script(args), Path.cwd())
    if source is None:
        return _usage_error(
            parser, "no cases: create sample-requests/NAME.json beside the entry script, or pass --cases PATH"
        )
    try:
        cases = load_cases(source)
    except CaseError as ex:
        return _usage_error(parser, str(ex))
    if not cases:
        return _usage_error(
            parser, f"no cases in {report.shown_path(source)}: add NAME.json request bodies or NAME.case.json files"
        )
    try:
        with interruptible():
            return _run(args, source, cases, sys.stdout)
    except _ServerLogUnwritable as ex:
        return _usage_error(parser, f"--server-log: cannot write {ex.args[0]}: {ex.args[1]}")
    except BrokenPipeError:  # `azmlinfsrv test ... | head`: the server is stopped all the same
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except Interrupted as ex:
        print(f"azmlinfsrv test: stopped by {signal_name(ex.signum)}; the server was stopped", file=sys.stderr)
        return 128 + ex.signum


def signal_name(signum: int) -> str:
    return signal.Signals(signum).name


class _ServerLogUnwritable(Exception):
    """--server-log names a file that cannot be created (path, reason)."""


def _server_log(args: argparse.Namespace) -> Path | None:
    if not args.server_log:
        return None
    path = Path(args.server_log).resolve()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError as ex:
        raise _ServerLogUnwritable(args.server_log, ex.strerror or str(ex)) from None
    return path


def _run(args: argparse.Namespace, source: Path, cases: list[Case], out: TextIO) -> int:
    started = time.monotonic()
    log = _server_log(args)
    report.print_header(out, len(cases), source, args.record)
    with tempfile.TemporaryDirectory(prefix="azmlinfsrv-test-") as workdir:
        with signals_held() as received:  # a Ctrl+C now must not lose the PID of a started server
            server = start(_server_args(args), dict(args.env), Path(workdir), log)
        try:
            if received:
                raise Interrupted(received[0])
            failure = server.wait_ready(args.start_timeout)
            if failure is not None:
                report.print_startup_failure(out, failure)
                if args.junit_xml:
                    _write_junit(junit.startup_xml(failure, time.monotonic() - started), args.junit_xml)
                return EXIT_SERVER_FAILED
            report.print_ready(out, server.url, server.pid, time.monotonic() - server.started)
            outcomes = run_cases(cases, server, args, out)
        finally:
            server.stop()
    seconds = time.monotonic() - started
    report.print_summary(out, outcomes, seconds)
    if args.junit_xml and not _write_junit(junit.outcomes_xml(outcomes, _classname(source), seconds), args.junit_xml):
        return EXIT_USAGE
    return EXIT_PASSED if all(o.verdict == "passed" for o in outcomes) else EXIT_FAILED


def _write_junit(tree: ET.ElementTree, path: str) -> bool:
    try:
        junit.write(tree, Path(path))
    except OSError as ex:
        print(f"azmlinfsrv test: error: --junit-xml: cannot write {path}: {ex.strerror or ex}", file=sys.stderr)
        return False
    return True


def _classname(source: Path) -> str:
    """``hello.sample-requests``: which project's cases, when one CI run gates several."""
    source = source.resolve()
    return f"{source.parent.name}.{source.name}" if source.is_dir() else source.parent.name


def run_cases(cases: list[Case], server: ServerProcess, args: argparse.Namespace, out: TextIO) -> list[Outcome]:
    tolerance = Tolerance(args.tolerance, args.abs_tolerance)
    swagger = swagger_for(cases, HOST, server.port, args.request_timeout)
    outcomes = []
    width = max(len(c.name) for c in cases)
    for case in cases:
        outcome = _run_case(case, server, tolerance, swagger, args)
        report.print_outcome(out, outcome, width)
        outcomes.append(outcome)
    return outcomes


def _run_case(
    case: Case, server: ServerProcess, tolerance: Tolerance, swagger: SwaggerDocument | None, args: argparse.Namespace
) -> Outcome:
    """The shared run_case, plus what only this server can tell: its exit, run()'s exception."""
    outcome = run_case(case, HOST, server.port, tolerance, swagger, args.request_timeout, args.record)
    if case.error is None and outcome.answer is None and server.proc.poll() is not None:
        outcome.notes.append(f"the server exited with code {server.proc.returncode}")
    if outcome.answer is not None and outcome.verdict != "passed":
        outcome.notes += report.run_failure_lines(server.run_failure(outcome.answer.request_id))
    return outcome
