"""Finding and reading cases: folders, case files, expected answers, sample requests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from azmlinfsrv.cases import CaseError, Tolerance, default_cases_path, load_case, load_cases


def write(folder: Path, files: dict[str, object]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")


def by_name(folder: Path) -> dict:
    return {case.name: case for case in load_cases(folder)}


def test_a_folder_pairs_bodies_and_case_files_with_expected_answers(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "b.json": '{"name": "x"}',
            "b.expected.json": {"message": "Hello, x!"},
            "a.case.json": {"request": {"method": "get", "path": "score?x=1"}},
            "shape.schema.json": {"type": "object"},
            "notes.txt": "not a case",
            ".hidden.json": "{}",
        },
    )
    cases = load_cases(tmp_path)
    assert [c.name for c in cases] == ["a", "b"]
    a, b = cases
    assert a.kind == "case" and a.request.method == "GET" and a.request.path == "/score?x=1" and a.request.body is None
    assert b.kind == "body" and b.error is None
    assert b.request.method == "POST" and b.request.path == "/score"
    assert b.request.headers == {"Content-Type": "application/json"}
    assert b.request.body == b'{"name": "x"}'  # sent as written
    assert b.expect.json is not None and b.expect.json.value == {"message": "Hello, x!"}
    assert b.expect.require_json and b.expected_file == tmp_path / "b.expected.json"


def test_broken_cases_are_reported_on_the_case_not_raised(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "bad.json": "[1",
            "orphan.expected.json": "{}",
            "twice.json": "{}",
            "twice.case.json": "{}",
            "typo.case.json": {"request": {}, "expected": {}},
            "badexp.json": "{}",
            "badexp.expected.json": "nope",
        },
    )
    errors = {name: case.error for name, case in by_name(tmp_path).items()}
    assert errors["bad"].startswith("bad.json is not valid JSON: ")
    assert errors["orphan"] == "orphan.expected.json has no request orphan.json or orphan.case.json"
    assert errors["twice"] == "twice.case.json and twice.json both define case 'twice'; keep one"
    assert errors["typo"] == "typo.case.json: unknown key 'expected' (allowed: description, expect, request)"
    assert errors["badexp"].startswith("badexp.expected.json is not valid JSON")


@pytest.mark.parametrize(
    ("document", "error"),
    [
        (
            {"request": {"json": {}, "body": "x"}},
            "c.case.json: request: give one of json, body and bodyFile, not json and body",
        ),
        ({"request": {"bodyFile": "nope.png"}}, "c.case.json: request.bodyFile: cannot read "),
        ({"request": {"headers": {"X": True}}}, "c.case.json: request.headers['X'] must be a string"),
        ({"request": {"method": 5}}, "c.case.json: request.method must be a string"),
        ({"expect": {"status": 99}}, "c.case.json: expect.status must be an HTTP status code (100-599)"),
        ({"expect": {"maxLatencyMs": 0}}, "c.case.json: expect.maxLatencyMs must be a positive number"),
        ({"expect": {"swaggerSchema": "yes"}}, "c.case.json: expect.swaggerSchema must be a boolean (true or false)"),
        ({"expect": {"headers": {"A": 1}}}, "c.case.json: expect.headers['A'] must be a string (exact value)"),
        ({"expect": {"schema": "missing.schema.json"}}, "c.case.json: expect.schema: cannot read "),
        ({"expect": []}, "c.case.json: expect must be a JSON object"),
    ],
)
def test_case_file_mistakes_say_where(tmp_path: Path, document: object, error: str) -> None:
    write(tmp_path, {"c.case.json": document})
    case = load_case(tmp_path / "c.case.json")
    assert case.error is not None and case.error.startswith(error), case.error


def test_case_file_bodies_and_their_default_content_types(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "img.case.json": {"request": {"bodyFile": "files/cat.png"}},
            "files/cat.png": b"\x89PNG...",
            "text.case.json": {"request": {"body": "héllo", "headers": {"X-Custom": 3}}},
            "json.case.json": {"request": {"json": [1, 2], "headers": {"content-type": "application/x-ndjson"}}},
        },
    )
    cases = by_name(tmp_path)
    assert cases["img"].request.body == b"\x89PNG..." and cases["img"].request.headers == {"Content-Type": "image/png"}
    assert cases["img"].request.body_file == (tmp_path / "files" / "cat.png").resolve()
    assert cases["text"].request.body == "héllo".encode()
    assert cases["text"].request.headers == {"Content-Type": "text/plain; charset=utf-8", "X-Custom": "3"}
    assert cases["json"].request.headers == {"content-type": "application/x-ndjson"}
    assert json.loads(cases["json"].request.body or b"") == [1, 2]


def test_case_file_expectations(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "c.case.json": {
                "expect": {
                    "status": 201,
                    "headers": {"Content-Type": "application/json", "X-Gone": False, "X-Here": True},
                    "jsonSubset": {"a": 1},
                    "schema": "answer.schema.json",
                    "swaggerSchema": True,
                    "maxLatencyMs": 250,
                    "relativeTolerance": 0.01,
                }
            },
            "answer.schema.json": {"type": "object"},
            "inline.case.json": {"expect": {"json": None}},
            "both.case.json": {"expect": {"json": 1}},
            "both.expected.json": "1",
        },
    )
    cases = by_name(tmp_path)
    expect = cases["c"].expect
    assert expect.status == 201 and expect.headers["X-Gone"] is False and expect.has_json_subset
    assert expect.schema == {"type": "object"} and expect.swagger_schema and expect.max_latency_ms == 250
    assert expect.json is None and not expect.require_json
    run = expect.tolerance(Tolerance(1e-6, 0.5))
    assert (run.relative, run.absolute) == (0.01, 0.5)
    inline = cases["inline"]
    assert inline.expect.json is not None and inline.expect.json.value is None and inline.expected_inline
    assert cases["both"].error == "both.case.json: expect.json and both.expected.json both give the answer"


def test_sample_request_json_may_describe_a_binary_request(tmp_path: Path) -> None:
    write(tmp_path, {"sample-request.json": {"bodyFile": "x.png", "headers": {"Content-Type": "image/png"}}})
    write(tmp_path, {"x.png": b"PNG"})
    (case,) = load_cases(tmp_path / "sample-request.json")
    assert (
        case.kind == "sample" and case.request.body == b"PNG" and case.request.headers == {"Content-Type": "image/png"}
    )
    assert not case.expect.require_json  # an image answer passes
    write(tmp_path, {"sample-request.json": {"body": {"a": 1}}})
    (case,) = load_cases(tmp_path / "sample-request.json")
    assert json.loads(case.request.body or b"") == {"a": 1}
    # A real body that merely has a "body" member among others is sent as it is.
    write(tmp_path, {"sample-request.json": {"body": "x", "other": 1}})
    (case,) = load_cases(tmp_path / "sample-request.json")
    assert json.loads(case.request.body or b"") == {"body": "x", "other": 1} and case.expect.require_json
    # Elsewhere the same document is always a plain body.
    write(tmp_path, {"desc.json": {"bodyFile": "x.png"}})
    assert load_case(tmp_path / "desc.json").request.body == b'{"bodyFile": "x.png"}'


def test_missing_paths_and_expected_files_are_not_cases(tmp_path: Path) -> None:
    with pytest.raises(CaseError, match="does not exist"):
        load_cases(tmp_path / "nope")
    write(tmp_path, {"a.expected.json": "{}"})
    with pytest.raises(CaseError, match="is an expected answer"):
        load_cases(tmp_path / "a.expected.json")


def test_default_cases_path_prefers_the_folder_beside_the_entry_script(tmp_path: Path) -> None:
    app, cwd = tmp_path / "app", tmp_path / "cwd"
    write(app, {"score.py": ""})
    write(cwd, {})
    script = app / "score.py"
    assert default_cases_path(script, cwd) is None
    write(cwd, {"sample-request.json": "{}"})
    assert default_cases_path(script, cwd) == cwd / "sample-request.json"
    assert default_cases_path(None, cwd) == cwd / "sample-request.json"
    write(app, {"sample-request.json": "{}"})
    assert default_cases_path(script, cwd) == app / "sample-request.json"
    (app / "sample-requests").mkdir()
    assert default_cases_path(script, cwd) == app / "sample-requests"
