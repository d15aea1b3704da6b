"""daemon/cases.py in-process: outcomes as runCases results, id selection, and the run()
failures kept from the server's events (the LSP round trip is in test_cases.py)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from azmlinfsrv.cases import Answer, Case, Expectation, ExpectedJson, Outcome, Problem
from azmlinfsrv.daemon.cases import CaseLocation, RunFailures, case_result, select


def answer(status: int = 200, request_id: str = "r1") -> Answer:
    return Answer(status, [("Content-Type", "application/json")], b"{}", 12.34567, request_id)


def test_a_json_difference_is_shown_on_the_expected_file_with_both_texts(tmp_path: Path) -> None:
    expected = ExpectedJson({"a": 1}, tmp_path / "x.expected.json")
    case = Case("x", tmp_path / "x.json", "body", expect=Expectation(json=expected))
    problem = Problem("json", "the answer differs", expected='{"a": 1}', actual='{"a": 2}')
    result = case_result(Outcome(case, answer(), [problem], notes=["a note"]))
    assert (result.verdict, result.expected, result.actual) == ("failed", '{"a": 1}', '{"a": 2}')
    assert result.location == CaseLocation(str(tmp_path / "x.expected.json"), 1)
    assert result.message == "the answer differs\na note"
    assert (result.status, result.elapsed_ms) == (200, 12.346)


def test_other_failures_are_shown_on_the_case_file_and_a_pass_has_no_location(tmp_path: Path) -> None:
    case = Case("x", tmp_path / "x.case.json", "case")
    failed = case_result(Outcome(case, answer(500), [Problem("status", "expected a 2xx status, got 500")]))
    assert failed.location == CaseLocation(str(tmp_path / "x.case.json"), 1)
    assert failed.expected is None and failed.actual is None
    error = case_result(Outcome(case, error="POST /score: no answer within 60 s"))
    assert (error.verdict, error.status, error.message) == ("error", None, "POST /score: no answer within 60 s")
    passed = case_result(Outcome(case, answer()))
    assert (passed.verdict, passed.location, passed.message) == ("passed", None, "")


def test_select_keeps_the_order_asked_and_reports_unknown_ids(tmp_path: Path) -> None:
    cases = [Case(n, tmp_path / f"{n}.json", "body") for n in ("a", "b", "c")]
    chosen, missing = select(cases, ["c", "a", "c", "zz"], tmp_path)
    assert [c.name for c in chosen] == ["c", "a"]
    assert [(m.id, m.verdict) for m in missing] == [("zz", "error")]
    assert "no case 'zz'" in missing[0].message
    assert select(cases, None, tmp_path) == (cases, [])


def test_run_failures_wait_a_moment_for_the_event_of_a_5xx_answer() -> None:
    failures = RunFailures()
    exception = {"type": "ValueError", "message": "boom", "frames": []}
    late = threading.Timer(
        0.2, failures.server_event, [{"event": "run_failed", "requestId": "r1", "exception": exception}]
    )
    late.start()
    assert failures.of(answer(500, "r1")) == exception
    started = time.monotonic()
    assert failures.of(answer(200, "r2")) is None
    assert time.monotonic() - started < 0.1, "a 2xx answer does not wait"
