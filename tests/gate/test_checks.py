"""Judging answers (status, headers, JSON, schemas, latency), recording, and the report/JUnit
rendering of outcomes: in-process, with hand-made answers."""

from __future__ import annotations

import json
import pathlib
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from azmlinfsrv.cases import Answer, Case, Outcome, SwaggerDocument, Tolerance, evaluate, load_case, record
from azmlinfsrv.cases.schema import response_schema
from azmlinfsrv.gate import junit, report


def answer(
    body: Any = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
    ms: float = 5.0,
) -> Answer:
    data = raw if raw is not None else json.dumps(body).encode()
    content_type = {"Content-Type": "application/json"} if raw is None else {}
    return Answer(status, list({**content_type, **(headers or {})}.items()), data, ms, "rid-1")


def case_file(tmp_path: Path, document: dict[str, Any], name: str = "c.case.json") -> Case:
    (tmp_path / name).write_text(json.dumps(document), encoding="utf-8")
    return load_case(tmp_path / name)


def body_case(tmp_path: Path, expected: Any = None) -> Case:
    (tmp_path / "b.json").write_text("{}", encoding="utf-8")
    if expected is not None:
        (tmp_path / "b.expected.json").write_text(json.dumps(expected), encoding="utf-8")
    return load_case(tmp_path / "b.json")


def problems(outcome: Outcome) -> list[str]:
    return report.problem_lines(outcome)


def test_a_plain_body_passes_on_any_2xx_json_answer(tmp_path: Path) -> None:
    case = body_case(tmp_path)
    assert evaluate(case, answer({"x": 1}, status=201)).verdict == "passed"
    assert problems(evaluate(case, answer({"message": "boom"}, status=500))) == ["expected a 2xx status, got 500: boom"]
    assert problems(evaluate(case, answer(raw=b"\x89PNG", headers={"Content-Type": "image/png"}))) == [
        "the answer is not JSON (image/png, 4 bytes)"
    ]


def test_an_expected_answer_is_compared_within_the_tolerance(tmp_path: Path) -> None:
    case = body_case(tmp_path, {"p": [1.0, 2.0]})
    assert evaluate(case, answer({"p": [1.0, 2.0000001]})).verdict == "passed"
    outcome = evaluate(case, answer({"p": [1.0, 2.1]}))
    assert problems(outcome) == [
        "the answer differs from b.expected.json in 1 place(s)",
        "  $.p[1]: expected 2.0, got 2.1 (relative difference 4.8e-02 > tolerance 1e-06)",
    ]
    assert json.loads(outcome.problems[0].expected or "") == {"p": [1.0, 2.0]}
    assert json.loads(outcome.problems[0].actual or "") == {"p": [1.0, 2.1]}
    assert evaluate(case, answer({"p": [1.0, 2.1]}), Tolerance(relative=0.1)).verdict == "passed"


def test_status_headers_text_and_latency(tmp_path: Path) -> None:
    case = case_file(
        tmp_path,
        {
            "expect": {
                "status": 400,
                "headers": {"content-type": "text/plain", "X-Present": True, "X-Absent": False},
                "body": "Healthy",
                "maxLatencyMs": 100,
            }
        },
    )
    good = answer(raw=b"Healthy", status=400, headers={"Content-Type": "text/plain", "x-present": "1"})
    assert evaluate(case, good).verdict == "passed"
    bad = answer(raw=b"Sick", status=200, headers={"Content-Type": "text/html", "X-Absent": "1"}, ms=150)
    assert problems(evaluate(case, bad)) == [
        "expected status 400, got 200",
        "header content-type: expected 'text/plain', got 'text/html'",
        "header X-Present is missing",
        "header X-Absent should be absent, got '1'",
        'expected the text "Healthy", got "Sick"',
        "answered in 150 ms, over the budget of 100 ms",
    ]


def test_subset_and_schema_checks(tmp_path: Path) -> None:
    schema = {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0}}
    case = case_file(tmp_path, {"expect": {"jsonSubset": [{"a": 1}, {}], "schema": schema}})
    assert evaluate(case, answer([{"a": 1, "b": 2}, {"c": 3}])).problems[0].check == "schema"
    outcome = evaluate(case, answer([{"a": 2}, {}]))
    lines = problems(outcome)
    assert lines[:2] == ["the answer does not contain jsonSubset (1 difference(s))", "  $[0].a: expected 1, got 2"]
    assert lines[2] == "the answer does not match the schema"
    assert lines[3].startswith("  $[0]: {'a': 2} is not of type 'number'")
    broken = case_file(tmp_path, {"expect": {"schema": {"type": 12}}}, "broken.case.json")
    assert problems(evaluate(broken, answer([])))[0].startswith("the schema is not valid: ")


SWAGGER2 = {
    "swagger": "2.0",
    "paths": {
        "/api/score": {
            "post": {
                "responses": {
                    "200": {"schema": {"$ref": "#/definitions/ServiceOutput"}},
                    "default": {"schema": {"$ref": "#/definitions/ErrorResponse"}},
                }
            }
        }
    },
    "definitions": {
        "ServiceOutput": {"type": "array", "items": {"type": "number", "format": "double"}},
        "ErrorResponse": {"type": "object", "properties": {"message": {"type": "string"}}},
    },
}


def test_swagger_response_schemas_resolve_their_refs(tmp_path: Path) -> None:
    case = case_file(tmp_path, {"expect": {"swaggerSchema": True}})
    swagger = SwaggerDocument(SWAGGER2)
    assert evaluate(case, answer([1.5, 2]), swagger=swagger).verdict == "passed"
    assert problems(evaluate(case, answer(["x"]), swagger=swagger)) == [
        "the answer does not match the response schema in /swagger.json",
        "  $[0]: 'x' is not of type 'number'",
    ]
    assert problems(evaluate(case, answer({"message": 3}, status=200), swagger=swagger))[1].startswith("  $: {")
    error_case = case_file(tmp_path, {"expect": {"status": 400, "swaggerSchema": True}}, "e.case.json")
    assert evaluate(error_case, answer({"message": "bad"}, status=400), swagger=swagger).verdict == "passed"
    assert problems(evaluate(case, answer([1]), swagger=SwaggerDocument(None, "GET /swagger.json answered 404"))) == [
        "no /swagger.json to check against: GET /swagger.json answered 404"
    ]


def test_openapi_31_schemas_and_missing_operations() -> None:
    doc = {
        "openapi": "3.1.0",
        "paths": {
            "/score": {
                "post": {
                    "responses": {
                        "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Out"}}}}
                    }
                }
            }
        },
        "components": {"schemas": {"Out": {"type": ["number", "null"]}}},
    }
    schema, dialect = response_schema(doc, "POST", "/score?x=1", 200)
    assert dialect == "draft2020-12" and schema["$ref"] == "#/components/schemas/Out" and "components" in schema
    with pytest.raises(LookupError, match="describes no GET /score"):
        response_schema(doc, "GET", "/score", 200)
    with pytest.raises(LookupError, match="describes no path /other"):
        response_schema(doc, "POST", "/other", 200)
    with pytest.raises(LookupError, match="describes no 500 answer"):
        response_schema(doc, "POST", "/score", 500)


def test_record_writes_json_answers_and_says_why_not_otherwise(tmp_path: Path) -> None:
    case = body_case(tmp_path)
    outcome = record(evaluate(case, answer({"b": [1, "é"]}), skip_expected_json=True))
    assert outcome.recorded == tmp_path / "b.expected.json" and outcome.notes == []
    assert (tmp_path / "b.expected.json").read_text(encoding="utf-8") == '{\n  "b": [\n    1,\n    "é"\n  ]\n}\n'
    again = record(evaluate(load_case(tmp_path / "b.json"), answer({"b": [1, "é"]}), skip_expected_json=True))
    assert again.verdict == "passed" and again.notes == ["b.expected.json unchanged"]

    failed = record(evaluate(case, answer({"message": "x"}, status=500), skip_expected_json=True))
    assert failed.recorded is None and failed.notes == ["not recorded: the status is not the expected one"]
    inline = case_file(tmp_path, {"expect": {"json": 1}})
    assert record(evaluate(inline, answer(1), skip_expected_json=True)).notes == [
        "not recorded: the expected answer is inline in c.case.json"
    ]
    shape = case_file(tmp_path, {"expect": {"jsonSubset": {}}}, "s.case.json")
    assert record(evaluate(shape, answer({}), skip_expected_json=True)).notes[0].startswith("not recorded: the case")
    binary = case_file(tmp_path, {"expect": {"status": 200}}, "png.case.json")
    assert record(evaluate(binary, answer(raw=b"\x89PNG"), skip_expected_json=True)).notes == [
        "not recorded: the answer is not JSON"
    ]
    assert not (tmp_path / "png.expected.json").exists()


def test_junit_has_one_testcase_per_case_with_failures_and_errors(tmp_path: Path) -> None:
    good = evaluate(body_case(tmp_path), answer({}))
    bad = evaluate(case_file(tmp_path, {"expect": {"status": 201}}), answer({}))
    (tmp_path / "x.json").write_text("[", encoding="utf-8")
    broken = evaluate(load_case(tmp_path / "x.json"), answer({}))
    path = tmp_path / "out" / "junit.xml"
    junit.write(junit.outcomes_xml([good, bad, broken], "app.sample-requests", 1.5), path)
    root = ET.parse(path).getroot()
    suite = root.find("testsuite")
    assert (
        suite is not None and suite.get("tests") == "3" and suite.get("failures") == "1" and suite.get("errors") == "1"
    )
    cases = {tc.get("name"): tc for tc in suite.iter("testcase")}
    assert list(cases) == ["b", "c", "x"] and cases["b"].get("classname") == "app.sample-requests"
    assert cases["b"].find("failure") is None and cases["b"].find("error") is None
    failure = cases["c"].find("failure")
    assert (
        failure is not None
        and failure.get("message") == "expected status 201, got 200"
        and failure.get("type") == "status"
    )
    error = cases["x"].find("error")
    assert error is not None and (error.get("message") or "").startswith("x.json is not valid JSON")


def test_a_long_diff_is_cut_in_the_report(tmp_path: Path) -> None:
    case = body_case(tmp_path, list(range(50)))
    lines = problems(evaluate(case, answer([-1] * 50)))
    assert len(lines) == 1 + report.MAX_DIFFERENCES + 1 and lines[-1] == "  ... and 30 more"


def test_reports_show_the_users_frames_not_the_libraries() -> None:
    frames = [
        {"file": "/app/score.py", "line": 20, "function": "init"},
        {"file": pathlib.__file__, "line": 1058, "function": "read_text"},
    ]
    exception = {"type": "FileNotFoundError", "message": "greeting.txt", "frames": frames}
    assert report.format_exception(exception) == ["FileNotFoundError: greeting.txt", "  at /app/score.py:20 in init"]
    only_library = {"type": "E", "message": "m", "frames": frames[1:]}
    assert report.format_exception(only_library)[1].endswith(":1058 in read_text")
