"""JUnit XML for CI systems (GitHub Actions reporters, Azure Pipelines' PublishTestResults):
one ``<testcase>`` per case, ``<failure>`` for a failed check, ``<error>`` for a case
that could not run; a server that did not start is one ``<testcase>`` with an ``<error>``."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

from ..cases import Outcome
from .report import problem_lines, startup_lines
from .server import StartFailure

SUITE = "azmlinfsrv test"


def _suite(tests: int, failures: int, errors: int, seconds: float) -> tuple[ET.Element, ET.Element]:
    counts = {"tests": str(tests), "failures": str(failures), "errors": str(errors), "time": f"{seconds:.3f}"}
    root = ET.Element("testsuites", {"name": SUITE, **counts})
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    suite = ET.SubElement(root, "testsuite", {"name": SUITE, **counts, "skipped": "0", "timestamp": stamp})
    return root, suite


def outcomes_xml(outcomes: list[Outcome], classname: str, seconds: float) -> ET.ElementTree:
    failures = sum(o.verdict == "failed" for o in outcomes)
    errors = sum(o.verdict == "error" for o in outcomes)
    root, suite = _suite(len(outcomes), failures, errors, seconds)
    for outcome in outcomes:
        elapsed = outcome.answer.elapsed_ms / 1000 if outcome.answer is not None else 0.0
        attributes = {"classname": classname, "name": outcome.case.name, "time": f"{elapsed:.3f}"}
        attributes["file"] = str(outcome.case.source)
        testcase = ET.SubElement(suite, "testcase", attributes)
        if outcome.verdict != "passed":
            lines = problem_lines(outcome)
            tag = "error" if outcome.verdict == "error" else "failure"
            kind = outcome.problems[0].check if outcome.problems and tag == "failure" else "CaseError"
            element = ET.SubElement(testcase, tag, {"message": lines[0] if lines else tag, "type": kind})
            element.text = "\n".join(lines + outcome.notes)
        elif outcome.notes:
            ET.SubElement(testcase, "system-out").text = "\n".join(outcome.notes)
    return ET.ElementTree(root)


def startup_xml(failure: StartFailure, seconds: float) -> ET.ElementTree:
    root, suite = _suite(1, 0, 1, seconds)
    testcase = ET.SubElement(suite, "testcase", {"classname": "azmlinfsrv", "name": "server start", "time": "0"})
    lines = startup_lines(failure)
    detail = lines[1] if len(lines) > 1 else lines[0]
    element = ET.SubElement(testcase, "error", {"message": f"{lines[0]}: {detail}", "type": "StartupFailure"})
    element.text = "\n".join(lines)
    return ET.ElementTree(root)


def write(tree: ET.ElementTree, path: Path) -> None:
    ET.indent(tree)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree.write(path, encoding="utf-8", xml_declaration=True)
