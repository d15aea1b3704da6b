"""What a case is, what the server answered, and what the checks found: plain data.

Shared by ``azmlinfsrv test`` and the editor daemon, so nothing here prints or knows
about a transport: a caller sends :class:`CaseRequest` however it likes and hands back
an :class:`Answer`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

DEFAULT_RELATIVE_TOLERANCE = 1e-6
DEFAULT_ABSOLUTE_TOLERANCE = 0.0

CaseKind = Literal["body", "case", "sample"]
"""``body``: a plain ``NAME.json`` request body; ``case``: a ``NAME.case.json`` case file;
``sample``: an editor ``sample-request.json`` (a body, or a ``{"bodyFile": ...}`` description)."""


class CaseError(Exception):
    """The cases cannot be found or read (a missing folder); a single bad case file is
    reported on its :class:`Case` instead, so that the other cases still run."""


@dataclass(frozen=True)
class Tolerance:
    """Numbers a and b are equal when ``|a - b| <= max(relative * max(|a|, |b|), absolute)``."""

    relative: float = DEFAULT_RELATIVE_TOLERANCE
    absolute: float = DEFAULT_ABSOLUTE_TOLERANCE


@dataclass(frozen=True)
class CaseRequest:
    method: str = "POST"
    path: str = "/score"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    body_file: Path | None = None
    """Where ``body`` was read from, for reports (binary payloads)."""


@dataclass(frozen=True)
class ExpectedJson:
    value: Any
    source: Path | None
    """The ``NAME.expected.json`` it came from; None when inline in a case file."""


@dataclass(frozen=True)
class Expectation:
    status: int | None = None
    """None: any 2xx."""
    headers: dict[str, str | bool] = field(default_factory=dict)
    """Name (any case) -> exact value, True (present) or False (absent)."""
    json: ExpectedJson | None = None
    json_subset: Any = None
    has_json_subset: bool = False
    body: str | None = None
    schema: dict[str, Any] | bool | None = None
    swagger_schema: bool = False
    max_latency_ms: float | None = None
    relative_tolerance: float | None = None
    """Overrides the run's tolerance for this case (None: the run's)."""
    absolute_tolerance: float | None = None
    require_json: bool = False
    """The answer must be JSON even without a JSON expectation (plain bodies)."""

    def tolerance(self, run: Tolerance) -> Tolerance:
        """The run's tolerance with this case's overrides."""
        return Tolerance(
            run.relative if self.relative_tolerance is None else self.relative_tolerance,
            run.absolute if self.absolute_tolerance is None else self.absolute_tolerance,
        )


@dataclass(frozen=True)
class Case:
    name: str
    source: Path
    """The file that defines the case (the request body, case file or sample request)."""
    kind: CaseKind
    request: CaseRequest = field(default_factory=CaseRequest)
    expect: Expectation = field(default_factory=Expectation)
    description: str = ""
    error: str | None = None
    """Why the case could not be loaded; such a case is reported as an error, never sent."""

    @property
    def expected_file(self) -> Path:
        """Where ``--record`` writes (or would write) this case's expected answer."""
        return expected_path(self.source)

    @property
    def expected_inline(self) -> bool:
        return self.expect.json is not None and self.expect.json.source is None


def case_stem(path: Path) -> str:
    """``a.case.json`` and ``a.json`` are both case ``a``."""
    name = path.name
    for suffix in (".case.json", ".json"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def expected_path(source: Path) -> Path:
    return source.with_name(case_stem(source) + ".expected.json")


@dataclass(frozen=True)
class Answer:
    """What the server answered to a case's request."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    elapsed_ms: float
    request_id: str = ""

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        values = [v for k, v in self.headers if k.lower() == lowered]
        return ", ".join(values) if values else None

    def json(self) -> Any:
        """The body parsed as JSON; raises ValueError when it is not JSON."""
        return json.loads(self.body.decode("utf-8"))


@dataclass(frozen=True)
class Difference:
    """One place where the answer differs: ``path`` is a JSONPath-like ``$.a[0].b``."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class Problem:
    """One failed check of a case."""

    check: str
    """status, headers, json, jsonSubset, body, schema, swaggerSchema, latency, answer, record."""
    message: str
    differences: list[Difference] = field(default_factory=list)
    expected: str | None = None
    """Pretty JSON or text of what was expected, for side-by-side diff views."""
    actual: str | None = None


Verdict = Literal["passed", "failed", "error"]


@dataclass
class Outcome:
    case: Case
    answer: Answer | None = None
    problems: list[Problem] = field(default_factory=list)
    recorded: Path | None = None
    """``--record`` wrote this expected file."""
    notes: list[str] = field(default_factory=list)
    """Information that is not a failure (e.g. why a case was not recorded)."""
    error: str | None = None
    """The case could not be run (bad case file, no answer from the server)."""

    @property
    def verdict(self) -> Verdict:
        if self.error is not None:
            return "error"
        return "failed" if self.problems else "passed"
