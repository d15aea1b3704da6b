"""Sample requests as test cases: finding them, sending them, judging the answers.

One implementation for ``azmlinfsrv test`` (the CI gate) and the editor daemon. Nothing
here prints: callers turn :class:`Outcome` objects into a report, JUnit XML or editor
test results. The case format is documented in docs/validation.md.

Typical use::

    cases = load_cases(path)                      # or default_cases_path(entry, cwd)
    swagger = swagger_for(cases, host, port, timeout)   # /swagger.json, when a case checks against it
    for case in cases:
        outcome = run_case(case, host, port, Tolerance(1e-6), swagger, timeout, recording)

``run_case`` is the whole of running one case: a broken case file is an error; otherwise
``send`` (``NoAnswer`` is an error), ``evaluate``, and ``record`` when recording.
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
from .running import needs_swagger, run_case, swagger_for
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
    "needs_swagger",
    "record",
    "run_case",
    "send",
    "swagger_for",
]
