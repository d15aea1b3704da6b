"""``@rawhttp`` and ``AMLRequest`` for score.py scripts that want the raw HTTP request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Request

F = TypeVar("F", bound=Callable[..., Any])

# Module-level flag, as in the reference: some driver modules check it.
_rawHttpRequested = False


def rawhttp(func: F) -> F:
    """Mark run() to receive the Flask request object itself, for any HTTP method."""
    global _rawHttpRequested
    _rawHttpRequested = True
    try:
        func.__azmlinfsrv_rawhttp__ = True  # type: ignore[attr-defined]
    except (AttributeError, TypeError):
        pass
    return func


class AMLRequest(Request):
    """The type of the request run() receives under @rawhttp (a Flask request)."""
