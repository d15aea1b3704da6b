"""Responses the server builds itself (errors, JSON results)."""

from __future__ import annotations

import json
from typing import Any

from flask import Response

RUN_FAILED_MESSAGE = "An unexpected error occurred in scoring script. Check the logs for more info."
INTERNAL_ERROR_MESSAGE = "An unexpected internal error occurred. Check the logs for more info."


def json_response(
    payload: Any, status: int = 200, run_function_failed: bool = False, exec_ms: float | None = None
) -> Response:
    """``payload`` JSON-encoded (None → {}), with ``x-ms-run-function-failed`` as on every
    JSON answer of ours, and ``x-ms-run-fn-exec-ms`` when ``exec_ms`` is given. Raises
    TypeError/ValueError when payload cannot be encoded."""
    body = "{}" if payload is None else json.dumps(payload)
    headers = [("x-ms-run-function-failed", "True" if run_function_failed else "False")]
    if exec_ms is not None:
        headers.append(("x-ms-run-fn-exec-ms", f"{exec_ms:.3f}"))
    return Response(body, status=status, headers=headers, mimetype="application/json")


def error_response(status: int, message: str, run_function_failed: bool = False) -> Response:
    return json_response({"message": message}, status, run_function_failed)
