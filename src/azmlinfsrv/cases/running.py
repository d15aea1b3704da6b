"""Running cases against a server that listens on host:port: send each request, judge the
answer, record it when asked. ``azmlinfsrv test`` and the editor daemon both run cases
through here, so a case means the same in CI and in the editor."""

from __future__ import annotations

from collections.abc import Iterable

from .checks import evaluate
from .client import DEFAULT_TIMEOUT_SECONDS, NoAnswer, fetch_swagger, send
from .model import Case, Outcome, Tolerance
from .record import record
from .schema import SwaggerDocument


def needs_swagger(cases: Iterable[Case]) -> bool:
    """Some case checks its answer against the server's own /swagger.json."""
    return any(c.expect.swagger_schema and c.error is None for c in cases)


def swagger_for(cases: Iterable[Case], host: str, port: int, timeout: float) -> SwaggerDocument | None:
    """The server's /swagger.json when a case needs it (fetched once per run), else None."""
    return fetch_swagger(host, port, timeout) if needs_swagger(cases) else None


def run_case(
    case: Case,
    host: str,
    port: int,
    tolerance: Tolerance | None = None,
    swagger: SwaggerDocument | None = None,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    recording: bool = False,
) -> Outcome:
    """One case: a broken case file or no answer is an error; otherwise every check it asks for."""
    if case.error is not None:
        return Outcome(case, error=case.error)
    try:
        answer = send(host, port, case.request, timeout)
    except NoAnswer as ex:
        return Outcome(case, error=f"{case.request.method} {case.request.path}: {ex}")
    outcome = evaluate(case, answer, tolerance, swagger, skip_expected_json=recording)
    if recording:
        record(outcome)
    return outcome
