"""``--record``: write the current answers as ``NAME.expected.json`` files, for review
(the diff in version control is the review)."""

from __future__ import annotations

import json

from .model import Outcome


def expected_text(value: object) -> str:
    """How an expected file is written: stable, readable, diff-friendly."""
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def record(outcome: Outcome) -> Outcome:
    """Write the outcome's JSON answer beside its case, unless it should not be kept: a
    case that did not run or got the wrong status, a non-JSON answer, an expectation
    written inline in the case file, or a case file that deliberately checks only the
    shape (jsonSubset, schema) and has no expected file yet. Sets ``recorded`` or adds a
    note saying why not."""
    case, answer = outcome.case, outcome.answer
    if outcome.error is not None or answer is None:
        return outcome
    if any(p.check == "status" for p in outcome.problems):
        outcome.notes.append("not recorded: the status is not the expected one")
        return outcome
    if case.expected_inline:
        outcome.notes.append(f"not recorded: the expected answer is inline in {case.source.name}")
        return outcome
    expect = case.expect
    if expect.json is None and (expect.has_json_subset or expect.schema is not None or expect.swagger_schema):
        outcome.notes.append("not recorded: the case checks the answer's shape (jsonSubset/schema), not its value")
        return outcome
    try:
        value = answer.json()
    except ValueError:
        outcome.notes.append("not recorded: the answer is not JSON")
        return outcome
    path = case.expected_file
    text = expected_text(value)
    try:
        unchanged = path.is_file() and path.read_text(encoding="utf-8") == text
        if not unchanged:
            path.write_text(text, encoding="utf-8")
    except OSError as ex:
        outcome.error = f"cannot write {path}: {ex.strerror or ex}"
        return outcome
    outcome.recorded = path
    if unchanged:
        outcome.notes.append(f"{path.name} unchanged")
    return outcome
