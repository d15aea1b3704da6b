"""Telemetry wired into one worker's app: the pipeline observer that reports every request,
the ``/metrics`` view, and the hand-over of responses whose body is sent as ``Response Value``.

Used by app.py only when ``Telemetry.active``; nothing here runs otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Request, Response

from ..pipeline import Pipeline, RequestObserver, RequestRecord
from . import Telemetry, response_value

TOKEN_KEY = "azmlinfsrv.telemetry"  # environ: what Telemetry.request_started returned
RESPONSE_KEY = "azmlinfsrv.response"  # environ: the response, when its body is sent


class TelemetryObserver(RequestObserver):
    """Every request's begin and end to ``Telemetry`` (both the direct /score path and Flask's)."""

    def __init__(self, telemetry: Telemetry) -> None:
        self.telemetry = telemetry

    def request_started(self, record: RequestRecord) -> None:
        environ = record.environ
        environ[TOKEN_KEY] = self.telemetry.request_started(environ)

    def request_finished(self, record: RequestRecord, headers: list[tuple[str, str]]) -> None:
        environ = record.environ
        value = None
        if self.telemetry.wants_response_value:
            response: Response | None = environ.get(RESPONSE_KEY)
            value = response_value(response.get_data() if response is not None and response.is_sequence else None)
        self.telemetry.request_finished(
            environ.get(TOKEN_KEY),
            record.route,
            record.method,
            record.status,
            record.duration_ms,
            record.request_id,
            record.client_request_id,
            value,
        )


def _keep_response(response: Response, environ: dict[str, Any]) -> Response:
    environ[RESPONSE_KEY] = response
    return response


def install(app: Flask, pipeline: Pipeline, telemetry: Telemetry) -> None:
    """The observer, and when the body is wanted, responses kept for it (Flask's and /score's
    outside Flask)."""
    pipeline.add_observer(TelemetryObserver(telemetry))
    if not telemetry.wants_response_value:
        return
    from flask import request

    app.after_request(lambda response: _keep_response(response, request.environ))
    direct = pipeline.direct_score
    if direct is not None:

        def kept(req: Request, request_id: str, answer: Callable[[Request, str], Response] = direct) -> Response:
            return _keep_response(answer(req, request_id), req.environ)

        pipeline.direct_score = kept


def metrics_view() -> Response:
    """GET /metrics: every process's values, in Prometheus' text format."""
    from .metrics import render

    body, content_type = render()
    return Response(body, status=200, content_type=content_type)
