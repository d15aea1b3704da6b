"""Judging an answer against a case: status, headers, JSON (equal within a tolerance, or
a subset), exact text, a JSON schema or the server's swagger, and a latency budget."""

from __future__ import annotations

import json
from typing import Any

from . import schema as schemas
from .compare import compare, show
from .model import Answer, Case, Outcome, Problem, Tolerance

_NOT_JSON = object()


def evaluate(
    case: Case,
    answer: Answer,
    tolerance: Tolerance | None = None,
    swagger: schemas.SwaggerDocument | None = None,
    skip_expected_json: bool = False,
) -> Outcome:
    """Every check the case asks for, on the answer it got.

    ``swagger`` is needed by cases with ``swaggerSchema`` (fetch it once per run);
    ``skip_expected_json`` leaves out the expected answer (``--record`` replaces it).
    """
    outcome = Outcome(case, answer)
    if case.error is not None:
        outcome.error = case.error
        return outcome
    expect = case.expect
    problems = outcome.problems
    _check_status(case, answer, problems)
    _check_headers(expect.headers, answer, problems)
    if expect.body is not None:
        _check_text(expect.body, answer, problems)
    value = _json_of(answer)
    wants_json = bool(
        expect.require_json
        or (expect.json is not None and not skip_expected_json)
        or expect.has_json_subset
        or expect.schema is not None
        or expect.swagger_schema
    )
    if value is _NOT_JSON:
        if wants_json:
            problems.append(Problem("answer", f"the answer is not JSON ({_describe_body(answer)})"))
    else:
        _check_json(case, value, tolerance or Tolerance(), skip_expected_json, problems)
        _check_schemas(case, answer, value, swagger, problems)
    budget = expect.max_latency_ms
    if budget is not None and answer.elapsed_ms > budget:
        problems.append(Problem("latency", f"answered in {answer.elapsed_ms:.0f} ms, over the budget of {budget:g} ms"))
    return outcome


def _check_status(case: Case, answer: Answer, problems: list[Problem]) -> None:
    wanted = case.expect.status
    if wanted is None and not 200 <= answer.status <= 299:
        problems.append(Problem("status", f"expected a 2xx status, got {answer.status}{_message_of(answer)}"))
    elif wanted is not None and answer.status != wanted:
        problems.append(Problem("status", f"expected status {wanted}, got {answer.status}{_message_of(answer)}"))


def _message_of(answer: Answer) -> str:
    """The server's ``{"message": ...}`` of an error answer, which usually says why."""
    value = _json_of(answer)
    if isinstance(value, dict) and isinstance(value.get("message"), str):
        return f": {value['message']}"
    return ""


def _check_headers(wanted: dict[str, str | bool], answer: Answer, problems: list[Problem]) -> None:
    for name, value in wanted.items():
        got = answer.header(name)
        if value is True and got is None:
            problems.append(Problem("headers", f"header {name} is missing"))
        elif value is False and got is not None:
            problems.append(Problem("headers", f"header {name} should be absent, got {got!r}"))
        elif isinstance(value, str) and got != value:
            shown = "missing" if got is None else repr(got)
            problems.append(Problem("headers", f"header {name}: expected {value!r}, got {shown}"))


def _check_text(wanted: str, answer: Answer, problems: list[Problem]) -> None:
    text = answer.body.decode("utf-8", "replace")
    if text != wanted:
        problems.append(
            Problem("body", f"expected the text {show(wanted)}, got {show(text)}", expected=wanted, actual=text)
        )


def _json_of(answer: Answer) -> Any:
    try:
        return answer.json()
    except ValueError:  # UnicodeDecodeError is a ValueError too
        return _NOT_JSON


def _describe_body(answer: Answer) -> str:
    content_type = answer.header("Content-Type") or "no Content-Type"
    return f"{content_type}, {len(answer.body)} bytes"


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)


def _check_json(case: Case, value: Any, tolerance: Tolerance, skip_expected: bool, problems: list[Problem]) -> None:
    expect = case.expect
    tol = expect.tolerance(tolerance)
    if expect.json is not None and not skip_expected:
        differences = compare(expect.json.value, value, tol)
        if differences:
            source = expect.json.source.name if expect.json.source else "the expected answer"
            problems.append(
                Problem(
                    "json",
                    f"the answer differs from {source} in {len(differences)} place(s)",
                    differences,
                    pretty(expect.json.value),
                    pretty(value),
                )
            )
    if expect.has_json_subset:
        differences = compare(expect.json_subset, value, tol, subset=True)
        if differences:
            problems.append(
                Problem(
                    "jsonSubset",
                    f"the answer does not contain jsonSubset ({len(differences)} difference(s))",
                    differences,
                    pretty(expect.json_subset),
                    pretty(value),
                )
            )


def _check_schemas(
    case: Case, answer: Answer, value: Any, swagger: schemas.SwaggerDocument | None, problems: list[Problem]
) -> None:
    expect = case.expect
    if expect.schema is not None:
        _schema_problem("schema", "the answer does not match the schema", value, expect.schema, None, problems)
    if not expect.swagger_schema:
        return
    if swagger is None or swagger.document is None:
        reason = swagger.error if swagger is not None else "it was not fetched"
        problems.append(Problem("swaggerSchema", f"no /swagger.json to check against: {reason}"))
        return
    try:
        schema, dialect = schemas.response_schema(
            swagger.document, case.request.method, case.request.path, answer.status
        )
    except LookupError as ex:
        problems.append(Problem("swaggerSchema", str(ex)))
        return
    message = "the answer does not match the response schema in /swagger.json"
    _schema_problem("swaggerSchema", message, value, schema, dialect, problems)


def _schema_problem(
    check: str, message: str, value: Any, schema: Any, dialect: str | None, problems: list[Problem]
) -> None:
    try:
        differences = schemas.validate(value, schema, dialect)
    except schemas.SchemaUnavailable as ex:
        problems.append(Problem(check, str(ex)))
        return
    if differences:
        problems.append(Problem(check, message, differences))
