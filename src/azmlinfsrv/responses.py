"""Responses the server builds itself (errors, JSON results)."""

from __future__ import annotations

import json
import logging
import math
from typing import Any

from flask import Response

RUN_FAILED_MESSAGE = "An unexpected error occurred in scoring script. Check the logs for more info."
INTERNAL_ERROR_MESSAGE = "An unexpected internal error occurred. Check the logs for more info."


logger = logging.getLogger("azmlinfsrv")
_warned_non_finite = False


def _finite(value: Any) -> Any:
    """``value`` with NaN and infinities replaced by None, as JSON has neither."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def encode(payload: Any) -> str:
    """Strict JSON. NaN and infinities (which Python's json writes as the non-JSON tokens
    NaN/Infinity, as the reference sends them) become null, as JavaScript's JSON.stringify
    and orjson do, with one warning per worker."""
    try:
        return json.dumps(payload, allow_nan=False)
    except ValueError as ex:
        if "Out of range float" not in str(ex):
            raise
    global _warned_non_finite
    if not _warned_non_finite:
        _warned_non_finite = True
        logger.warning("run() returned NaN or an infinity, which JSON cannot carry: sent as null")
    return json.dumps(_finite(payload), allow_nan=False)


def json_response(
    payload: Any, status: int = 200, run_function_failed: bool = False, exec_ms: float | None = None
) -> Response:
    """``payload`` JSON-encoded (None → {}), with ``x-ms-run-function-failed`` as on every
    JSON answer of ours, and ``x-ms-run-fn-exec-ms`` when ``exec_ms`` is given. Raises
    TypeError/ValueError when payload cannot be encoded."""
    body = "{}" if payload is None else encode(payload)
    headers = [("x-ms-run-function-failed", "True" if run_function_failed else "False")]
    if exec_ms is not None:
        headers.append(("x-ms-run-fn-exec-ms", f"{exec_ms:.3f}"))
    return Response(body, status=status, headers=headers, mimetype="application/json")


def error_response(status: int, message: str, run_function_failed: bool = False) -> Response:
    return json_response({"message": message}, status, run_function_failed)


def too_large_message(max_bytes: int) -> str:
    """The 413 message for a request body over ``max_bytes`` (AZMLINFSRV_MAX_REQUEST_BYTES)."""
    return f"Request body exceeds the limit of {max_bytes} bytes."
