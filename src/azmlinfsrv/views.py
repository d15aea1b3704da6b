"""What each route answers (``/``, ``/swagger.json``, ``/score``) and the error handlers.

Each view is built from what it needs (no settings lookups per request) and can be called
without a running server: ``ScoreView.respond(request, request_id)`` and
``SwaggerView.respond(request)`` take a werkzeug request; their ``__call__`` is the Flask
view, which reads ``flask.request``.
"""

from __future__ import annotations

import logging
import time
import traceback
from typing import Any

from flask import Request, Response, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from . import events, readiness
from .inputs import InputError, UnsupportedMethod, parser_for
from .pipeline import record_of
from .responses import (
    INTERNAL_ERROR_MESSAGE,
    RUN_FAILED_MESSAGE,
    error_response,
    json_response,
    too_large_message,
)
from .script import UserScript, format_user_traceback
from .swagger import Swagger, SwaggerNotFound
from .timeouts import ScoringTimeout, call_with_deadline

logger = logging.getLogger("azmlinfsrv")


def health() -> str:
    """GET /: the liveness probe."""
    return "Healthy"


def ready() -> Response:
    """GET /readyz: the readiness probe (readiness.py says when it is 503)."""
    reason = readiness.not_ready_reason()
    if reason is not None:
        return error_response(503, reason)
    return json_response(readiness.READY_BODY)


class ErrorHandlers:
    """The answers to exceptions that reach Flask (or the direct /score path)."""

    def __init__(self, max_request_bytes: int) -> None:
        self.too_large = too_large_message(max_request_bytes)

    def body_too_large(self) -> Response:
        return error_response(413, self.too_large)

    def http_error(self, ex: HTTPException) -> Response:
        """A werkzeug HTTP error (404, 405, 413...) as our JSON error body."""
        if isinstance(ex, RequestEntityTooLarge):
            return self.body_too_large()
        return error_response(ex.code or 500, ex.description or "")

    def unexpected_error(self, ex: Exception) -> Response:
        """A bug of ours: logged with its traceback, never shown to the client."""
        logger.error(f"Encountered Exception: {traceback.format_exc()}")
        return error_response(500, INTERNAL_ERROR_MESSAGE)


class SwaggerView:
    """GET /swagger.json[?version=2|3]."""

    def __init__(self, swagger: Swagger) -> None:
        self.swagger = swagger

    def __call__(self) -> Response:
        return self.respond(request._get_current_object())  # type: ignore[attr-defined]

    def respond(self, req: Request) -> Response:
        try:
            document = self.swagger.get(req.args.get("version", "2"))
        except SwaggerNotFound as ex:
            return error_response(404, ex.message)
        response = Response(document, status=200, mimetype="application/json")
        response.headers["x-ms-run-function-failed"] = "False"
        return response


class ScoreView:
    """GET/POST/OPTIONS /score: parse the input, call run() under the scoring timeout, encode
    its output. Reports ``run_failed`` events, and ``run_recovered`` on the first success
    after a failure."""

    def __init__(self, script: UserScript, timeout_ms: int, errors: ErrorHandlers) -> None:
        self.script = script
        self.parse = parser_for(script)
        self.timeout_ms = timeout_ms
        self.errors = errors
        self.run_failed_last = False  # the last run() failed: the next success is a recovery
        # Telemetry's hooks (azmlinfsrv.telemetry.Telemetry), set only when some is on.
        self.telemetry: Any = None

    def __call__(self) -> Response:
        req: Request = request._get_current_object()  # type: ignore[attr-defined]
        return self.respond(req, record_of(req.environ).request_id)

    def respond_outside_flask(self, req: Request, request_id: str) -> Response:
        """``respond``, with the exceptions Flask would hand to the error handlers handled."""
        try:
            return self.respond(req, request_id)
        except HTTPException as ex:
            return self.errors.http_error(ex)
        except Exception as ex:
            return self.errors.unexpected_error(ex)

    def respond(self, req: Request, request_id: str) -> Response:
        try:
            kwargs = self.parse(req)
        except UnsupportedMethod as ex:
            return _options_response() if ex.method == "OPTIONS" else error_response(405, ex.message)
        except InputError as ex:
            return error_response(ex.status, ex.message)
        except RequestEntityTooLarge:
            return self.errors.body_too_large()

        script = self.script
        started = time.perf_counter()
        try:
            output = call_with_deadline(lambda: script.call_run(kwargs, lambda: dict(req.headers)), self.timeout_ms)
        except ScoringTimeout as ex:
            self._report_failure(ex, req, request_id)
            return self._timed_out(ex, request_id)
        except RequestEntityTooLarge:
            return self.errors.body_too_large()
        except Exception as ex:
            self._report_failure(ex, req, request_id)
            return self._run_failed(ex, request_id)
        exec_ms = (time.perf_counter() - started) * 1000
        if self.telemetry is not None:
            self._report_run(kwargs, output, exec_ms, req, request_id)
        response = self._output_response(output, exec_ms)
        if response is not None and self.run_failed_last:
            self.run_failed_last = False
            events.emit("run_recovered", requestId=request_id)
        return response or error_response(500, RUN_FAILED_MESSAGE, run_function_failed=True)

    def _report_run(self, kwargs: dict[str, Any], output: Any, exec_ms: float, req: Request, request_id: str) -> None:
        """run()'s duration, and its input and output for model data collection (the input as
        the reference records it: the one argument of a plain or @rawhttp run(), else all)."""
        telemetry = self.telemetry
        telemetry.run_finished(exec_ms)
        if telemetry.wants_model_data:
            model_input = next(iter(kwargs.values()), None) if self.script.mode in ("plain", "raw") else kwargs
            telemetry.model_data(request_id, record_of(req.environ).client_request_id, model_input, output)

    def _report_failure(self, ex: BaseException, req: Request, request_id: str) -> None:
        if self.telemetry is not None:
            self.telemetry.user_exception(ex, request_id, record_of(req.environ).client_request_id)

    def _timed_out(self, ex: ScoringTimeout, request_id: str) -> Response:
        message = f"Scoring timeout after {self.timeout_ms} ms"
        logger.error(f"{message}. {format_user_traceback(ex)}")
        events.emit(
            "run_failed",
            requestId=request_id,
            exception={"type": "ScoringTimeout", "message": message, "frames": []},
        )
        self.run_failed_last = True
        return error_response(500, message, run_function_failed=True)

    def _run_failed(self, ex: Exception, request_id: str) -> Response:
        logger.error(f"Encountered Exception: {format_user_traceback(ex)}")
        if events.enabled():
            events.emit("run_failed", requestId=request_id, exception=events.describe_exception(ex))
        self.run_failed_last = True
        return error_response(500, RUN_FAILED_MESSAGE, run_function_failed=True)

    @staticmethod
    def _output_response(output: Any, exec_ms: float) -> Response | None:
        """run()'s output as the response; None when it cannot be encoded as JSON (logged)."""
        if isinstance(output, Response):
            logger.info("run() output is HTTP Response")
            if output.status_code >= 500:
                output.headers["x-ms-run-function-failed"] = "True"
            output.headers.add("x-ms-run-fn-exec-ms", f"{exec_ms:.3f}")
            return output
        try:
            return json_response(output, exec_ms=exec_ms)
        except (TypeError, ValueError, RecursionError) as ex:
            logger.error(f"run() returned a value that cannot be encoded as JSON: {type(ex).__name__}: {ex}")
            return None


def _options_response() -> Response:
    response = Response("", status=200)
    response.headers["x-ms-run-function-failed"] = "False"
    return response
