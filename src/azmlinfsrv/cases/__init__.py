"""Sample requests as test cases: finding them, sending them, judging the answers.

One implementation for ``azmlinfsrv test`` (the CI gate) and the editor daemon. Nothing
here prints: callers turn :class:`Outcome` objects into a report, JUnit XML or editor
test results. The case format is documented in docs/validation.md.

Typical use::

    cases = load_cases(path)                      # or default_cases_path(entry, cwd)
    swagger = fetch_swagger(host, port) if any(c.expect.swagger_schema for c in cases) else None
    for case in cases:
        if case.error:
            outcome = Outcome(case, error=case.error)
        else:
            answer = send(host, port, case.request)      # NoAnswer when none came
            outcome = evaluate(case, answer, Tolerance(1e-6), swagger, skip_expected_json=recording)
            if recording:
                record(outcome)
"""

from .checks import evaluate
from .client import NoAnswer, fetch_swagger, send
from .compare import compare
from .loading import CASES_FOLDER, SAMPLE_FILE, default_cases_path, load_case, load_cases
from .model import (
    Answer,
    Case,
    CaseError,
    CaseRequest,
    Difference,
    Expectation,
    ExpectedJson,
    Outcome,
    Problem,
    Tolerance,
)
from .record import record
from .schema import SchemaUnavailable, SwaggerDocument

__all__ = [
    "CASES_FOLDER",
    "SAMPLE_FILE",
    "Answer",
    "Case",
    "CaseError",
    "CaseRequest",
    "Difference",
    "Expectation",
    "ExpectedJson",
    "NoAnswer",
    "Outcome",
    "Problem",
    "SchemaUnavailable",
    "SwaggerDocument",
    "Tolerance",
    "compare",
    "default_cases_path",
    "evaluate",
    "fetch_swagger",
    "load_case",
    "load_cases",
    "record",
    "send",
]
