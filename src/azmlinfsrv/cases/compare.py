"""Comparing JSON answers: equality with a numeric tolerance, and subset matching.

Both walk the two values side by side and return every :class:`Difference` with its
path (``$.data[0].score``), so a report can say exactly what differs instead of
printing two large documents.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .model import Difference, Tolerance

MAX_VALUE_CHARS = 80
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def child_path(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _IDENTIFIER.match(key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def show(value: Any) -> str:
    """A short JSON rendering of a value for a report line."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=False, default=str)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 3] + "..."


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def numbers_close(expected: float, actual: float, tolerance: Tolerance) -> bool:
    if expected == actual:
        return True
    if isinstance(expected, float) and isinstance(actual, float) and math.isnan(expected) and math.isnan(actual):
        return True
    return math.isclose(expected, actual, rel_tol=tolerance.relative, abs_tol=tolerance.absolute)


def _number_difference(path: str, expected: float, actual: float, tolerance: Tolerance) -> Difference:
    if isinstance(expected, int) and isinstance(actual, int):
        return Difference(path, f"expected {expected}, got {actual}")
    scale = max(abs(expected), abs(actual))
    relative = abs(expected - actual) / scale if scale else 0.0
    return Difference(
        path,
        f"expected {show(expected)}, got {show(actual)} "
        f"(relative difference {relative:.1e} > tolerance {tolerance.relative:.0e})",
    )


def compare(expected: Any, actual: Any, tolerance: Tolerance | None = None, subset: bool = False) -> list[Difference]:
    """Every difference between ``expected`` and ``actual``; empty when they match.

    ``subset``: objects in ``actual`` may have members that ``expected`` does not name
    (arrays must still have the same length, each item matched as a subset).
    """
    out: list[Difference] = []
    _walk("$", expected, actual, tolerance or Tolerance(), subset, out)
    return out


def _walk(path: str, expected: Any, actual: Any, tolerance: Tolerance, subset: bool, out: list[Difference]) -> None:
    kind, actual_kind = _kind(expected), _kind(actual)
    if kind != actual_kind:
        out.append(Difference(path, f"expected {kind} {show(expected)}, got {actual_kind} {show(actual)}"))
    elif kind == "number":
        if not numbers_close(expected, actual, tolerance):
            out.append(_number_difference(path, expected, actual, tolerance))
    elif kind == "object":
        _walk_object(path, expected, actual, tolerance, subset, out)
    elif kind == "array":
        _walk_array(path, expected, actual, tolerance, subset, out)
    elif expected != actual:
        out.append(Difference(path, f"expected {show(expected)}, got {show(actual)}"))


def _walk_object(
    path: str,
    expected: dict[str, Any],
    actual: dict[str, Any],
    tolerance: Tolerance,
    subset: bool,
    out: list[Difference],
) -> None:
    for key, value in expected.items():
        if key not in actual:
            out.append(Difference(child_path(path, key), f"missing (expected {show(value)})"))
        else:
            _walk(child_path(path, key), value, actual[key], tolerance, subset, out)
    if not subset:
        for key, value in actual.items():
            if key not in expected:
                out.append(Difference(child_path(path, key), f"unexpected member {show(value)}"))


def _walk_array(
    path: str, expected: list[Any], actual: list[Any], tolerance: Tolerance, subset: bool, out: list[Difference]
) -> None:
    if len(expected) != len(actual):
        out.append(Difference(path, f"expected {len(expected)} items, got {len(actual)}"))
    for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
        _walk(child_path(path, index), want, got, tolerance, subset, out)
    for index in range(len(actual), len(expected)):
        out.append(Difference(child_path(path, index), f"missing item (expected {show(expected[index])})"))
    for index in range(len(expected), len(actual)):
        out.append(Difference(child_path(path, index), f"unexpected item {show(actual[index])}"))
