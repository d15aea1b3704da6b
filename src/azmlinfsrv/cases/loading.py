"""Finding and reading cases: a folder of ``NAME.json`` bodies and ``NAME.case.json``
case files (each with an optional ``NAME.expected.json``), or a single file.

A case file that cannot be read becomes a :class:`Case` with ``error`` set, so one typo
fails that case (visibly) instead of hiding the others. The format is documented in
docs/validation.md.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .model import Case, CaseError, CaseRequest, Expectation, ExpectedJson, case_stem, expected_path

CASES_FOLDER = "sample-requests"
SAMPLE_FILE = "sample-request.json"
EXPECTED_SUFFIX = ".expected.json"
CASE_SUFFIX = ".case.json"
SCHEMA_SUFFIX = ".schema.json"

_CASE_KEYS = {"description", "request", "expect"}
_REQUEST_KEYS = {"method", "path", "headers", "json", "body", "bodyFile"}
_EXPECT_KEYS = {
    "status",
    "headers",
    "json",
    "jsonSubset",
    "body",
    "schema",
    "swaggerSchema",
    "maxLatencyMs",
    "relativeTolerance",
    "absoluteTolerance",
}
# The Send Sample Request panel's description of a request (extension/src/sampleRequest.ts).
_SAMPLE_KEYS = {"method", "path", "headers", "body", "bodyFile"}


class _Invalid(Exception):
    """A case file breaks the format; the message says where and how."""


def default_cases_path(entry_script: Path | None, cwd: Path) -> Path | None:
    """``sample-requests/`` beside the entry script, else the ``sample-request.json``
    beside it, else the one in ``cwd``; None when there is none."""
    candidates: list[Path] = []
    if entry_script is not None:
        folder = entry_script.resolve().parent
        candidates += [folder / CASES_FOLDER, folder / SAMPLE_FILE]
    candidates.append(cwd / SAMPLE_FILE)
    for candidate in candidates:
        if candidate.is_dir() or candidate.is_file():
            return candidate
    return None


def load_cases(path: Path) -> list[Case]:
    """The cases in a folder (sorted by name) or in one file.

    Raises CaseError when ``path`` does not exist or names an expected-answer file.
    """
    if path.is_dir():
        return _load_folder(path)
    if not path.exists():
        raise CaseError(f"{path} does not exist")
    if not path.is_file():
        raise CaseError(f"{path} is neither a folder nor a file")
    if path.name.endswith(EXPECTED_SUFFIX):
        raise CaseError(f"{path} is an expected answer; pass the request beside it, or its folder")
    return [load_case(path)]


def _load_folder(folder: Path) -> list[Case]:
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(".json") and p.name[0] != ".")
    requests: dict[str, list[Path]] = {}
    expected: dict[str, Path] = {}
    for file in files:
        if file.name.endswith(EXPECTED_SUFFIX):
            expected[file.name[: -len(EXPECTED_SUFFIX)]] = file
        elif not file.name.endswith(SCHEMA_SUFFIX):
            requests.setdefault(case_stem(file), []).append(file)
    cases: list[Case] = []
    for name in sorted(set(requests) | set(expected)):
        sources = requests.get(name)
        if not sources:
            orphan = expected[name]
            cases.append(_broken(name, orphan, f"{orphan.name} has no request {name}.json or {name}{CASE_SUFFIX}"))
        elif len(sources) > 1:
            names = " and ".join(s.name for s in sources)
            cases.append(_broken(name, sources[0], f"{names} both define case {name!r}; keep one"))
        else:
            cases.append(load_case(sources[0]))
    return cases


def _broken(name: str, source: Path, error: str) -> Case:
    return Case(name=name, source=source, kind="case" if source.name.endswith(CASE_SUFFIX) else "body", error=error)


def load_case(path: Path) -> Case:
    """One case from its file: a case file, a sample request, or a plain request body."""
    name = case_stem(path)
    kind = "case" if path.name.endswith(CASE_SUFFIX) else "sample" if path.name == SAMPLE_FILE else "body"
    try:
        if kind == "case":
            return _case_file(name, path)
        document = _read_json(path)
        expected = _expected_file(path)
        if kind == "sample" and _is_sample_description(document):
            # A described request (often a binary body) may answer anything 2xx, e.g. an image.
            return Case(name, path, "sample", _sample_request(document, path), Expectation(json=expected))
        request = CaseRequest(headers={"Content-Type": "application/json"}, body=path.read_bytes())
        return Case(name, path, "body" if kind == "body" else "sample", request, _plain_expectation(expected))
    except _Invalid as ex:
        return _broken(name, path, str(ex))


def _plain_expectation(expected: ExpectedJson | None) -> Expectation:
    return Expectation(json=expected, require_json=True)


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as ex:
        raise _Invalid(f"cannot read {path.name}: {ex}") from None
    try:
        return json.loads(text)
    except ValueError as ex:
        raise _Invalid(f"{path.name} is not valid JSON: {ex}") from None


def _expected_file(source: Path) -> ExpectedJson | None:
    path = expected_path(source)
    if not path.is_file():
        return None
    return ExpectedJson(_read_json(path), path)


def _is_sample_description(document: Any) -> bool:
    return (
        isinstance(document, dict)
        and ("body" in document or "bodyFile" in document)
        and all(key in _SAMPLE_KEYS for key in document)
    )


def _sample_request(spec: dict[str, Any], path: Path) -> CaseRequest:
    body: Any = spec.get("body")
    if "bodyFile" not in spec and not isinstance(body, str):
        spec = {**spec, "json": body}
        del spec["body"]
    return _request(spec, path, "sample-request.json")


def _case_file(name: str, path: Path) -> Case:
    document = _read_json(path)
    where = path.name
    _check_keys(document, _CASE_KEYS, where)
    request = _request(_object(document.get("request", {}), f"{where}: request"), path, f"{where}: request")
    expect = _expectation(_object(document.get("expect", {}), f"{where}: expect"), path, f"{where}: expect")
    description = document.get("description", "")
    if not isinstance(description, str):
        raise _Invalid(f"{where}: description must be a string")
    return Case(name, path, "case", request, expect, description)


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Invalid(f"{where} must be a JSON object")
    return value


def _check_keys(document: Any, allowed: set[str], where: str) -> None:
    _object(document, where)
    unknown = sorted(set(document) - allowed)
    if unknown:
        raise _Invalid(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(allowed))})")


def _request(spec: dict[str, Any], path: Path, where: str) -> CaseRequest:
    _check_keys(spec, _REQUEST_KEYS, where)
    method = _typed(spec, "method", str, where, "POST").upper()
    url_path = _typed(spec, "path", str, where, "/score")
    headers = _string_map(spec.get("headers", {}), f"{where}.headers")
    given = [key for key in ("json", "body", "bodyFile") if key in spec]
    if len(given) > 1:
        raise _Invalid(f"{where}: give one of json, body and bodyFile, not {' and '.join(given)}")
    body, body_file, content_type = _body(spec, given[0] if given else None, path, where)
    if content_type and not any(k.lower() == "content-type" for k in headers):
        headers = {"Content-Type": content_type, **headers}
    return CaseRequest(method, url_path if url_path.startswith("/") else "/" + url_path, headers, body, body_file)


def _body(spec: dict[str, Any], key: str | None, path: Path, where: str) -> tuple[bytes | None, Path | None, str]:
    if key == "json":
        return json.dumps(spec["json"]).encode("utf-8"), None, "application/json"
    if key == "body":
        return _typed(spec, "body", str, where, "").encode("utf-8"), None, "text/plain; charset=utf-8"
    if key == "bodyFile":
        file = (path.parent / _typed(spec, "bodyFile", str, where, "")).resolve()
        try:
            data = file.read_bytes()
        except OSError as ex:
            raise _Invalid(f"{where}.bodyFile: cannot read {file}: {ex.strerror or ex}") from None
        return data, file, mimetypes.guess_type(file.name)[0] or "application/octet-stream"
    return None, None, ""


def _typed(spec: dict[str, Any], key: str, kind: type, where: str, default: Any) -> Any:
    value = spec.get(key, default)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise _Invalid(f"{where}.{key} must be a {_TYPE_NAMES.get(kind, kind.__name__)}")
    return value


_TYPE_NAMES = {str: "string", bool: "boolean (true or false)", int: "integer"}


def _string_map(value: Any, where: str) -> dict[str, str]:
    _object(value, where)
    out: dict[str, str] = {}
    for name, item in value.items():
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise _Invalid(f"{where}[{name!r}] must be a string")
        out[name] = str(item)
    return out


def _expectation(spec: dict[str, Any], path: Path, where: str) -> Expectation:
    _check_keys(spec, _EXPECT_KEYS, where)
    status = spec.get("status")
    if status is not None and (not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599):
        raise _Invalid(f"{where}.status must be an HTTP status code (100-599)")
    expected = _expected_file(path)
    if "json" in spec:
        if expected is not None:
            raise _Invalid(f"{where}.json and {expected.source.name if expected.source else ''} both give the answer")
        expected = ExpectedJson(spec["json"], None)
    body = spec.get("body")
    if body is not None and not isinstance(body, str):
        raise _Invalid(f"{where}.body must be a string (the exact text of the answer)")
    return Expectation(
        status=status,
        headers=_header_expectations(spec.get("headers", {}), f"{where}.headers"),
        json=expected,
        json_subset=spec.get("jsonSubset"),
        has_json_subset="jsonSubset" in spec,
        body=body,
        schema=_schema(spec.get("schema"), path, f"{where}.schema"),
        swagger_schema=_typed(spec, "swaggerSchema", bool, where, False),
        max_latency_ms=_number(spec, "maxLatencyMs", where, positive=True),
        relative_tolerance=_number(spec, "relativeTolerance", where, positive=False),
        absolute_tolerance=_number(spec, "absoluteTolerance", where, positive=False),
    )


def _header_expectations(value: Any, where: str) -> dict[str, str | bool]:
    _object(value, where)
    out: dict[str, str | bool] = {}
    for name, item in value.items():
        if not isinstance(item, (str, bool)):
            raise _Invalid(f"{where}[{name!r}] must be a string (exact value), true (present) or false (absent)")
        out[name] = item
    return out


def _schema(value: Any, path: Path, where: str) -> dict[str, Any] | bool | None:
    if value is None or isinstance(value, (dict, bool)):
        return value
    if not isinstance(value, str):
        raise _Invalid(f"{where} must be a JSON schema (an object) or the name of a schema file")
    file = path.parent / value
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as ex:
        raise _Invalid(f"{where}: cannot read {file}: {ex.strerror or ex}") from None
    try:
        schema = json.loads(text)
    except ValueError as ex:
        raise _Invalid(f"{where}: {file.name} is not valid JSON: {ex}") from None
    if not isinstance(schema, (dict, bool)):
        raise _Invalid(f"{where}: {file.name} must hold a JSON schema (an object)")
    return schema


def _number(spec: dict[str, Any], key: str, where: str, positive: bool) -> float | None:
    value = spec.get(key)
    if value is None:
        return None
    valid: Callable[[float], bool] = (lambda v: v > 0) if positive else (lambda v: v >= 0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not valid(value):
        raise _Invalid(f"{where}.{key} must be a {'positive' if positive else 'non-negative'} number")
    return float(value)
