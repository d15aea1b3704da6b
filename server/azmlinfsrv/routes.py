"""The HTTP surface: ``/``, ``/score``, ``/swagger.json``, request-id headers, request logs.

Everything a request needs is computed at start-up (the parser for run()'s input mode,
swagger documents, header values), so a request does no settings lookups.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from . import events
from .inputs import InputError, UnsupportedMethod, parser_for
from .responses import INTERNAL_ERROR_MESSAGE, RUN_FAILED_MESSAGE, error_response, json_response
from .script import UserScript, user_frames_only
from .settings import Settings
from .swagger import Swagger, SwaggerNotFound

logger = logging.getLogger("azmlinfsrv")

HEADER_LIMIT = 100
REQUEST_ID_TOO_LONG = f"x-request-id must not exceed {HEADER_LIMIT} characters"
CLIENT_ID_TOO_LONG = f"x-ms-request-id and x-ms-client-request-id must not exceed {HEADER_LIMIT} characters"


class ScoringTimeout(BaseException):
    """Raised in run() by the scoring timer. A BaseException so that user code's
    ``except Exception`` cannot swallow it."""


def _raise_timeout(signum: int, frame: Any) -> None:
    raise ScoringTimeout()


@contextmanager
def scoring_deadline(timeout_ms: int) -> Iterator[None]:
    """Interrupt run() after ``timeout_ms`` with SIGALRM, where signals can be used
    (POSIX, main thread: the gunicorn sync worker). Elsewhere run() is not interrupted."""
    if os.name == "nt" or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _raise_timeout)
    signal.setitimer(signal.ITIMER_REAL, timeout_ms / 1000)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _log_user_exception(prefix: str) -> None:
    """Log the current exception with the frames of the user's code (not ours)."""
    import sys

    exc_type, exc, tb = sys.exc_info()
    frames = user_frames_only(traceback.extract_tb(tb))
    text = "".join(traceback.format_list(frames)) + "".join(traceback.format_exception_only(exc_type, exc))
    logger.error(f"{prefix}Traceback (most recent call last):\n{text.rstrip()}")


def register(app: Flask, settings: Settings, script: UserScript, swagger: Swagger) -> None:
    parse = parser_for(script)
    timeout_ms = settings.scoring_timeout_ms
    server_version = settings.server_version_header
    max_bytes = settings.max_request_bytes
    too_large = f"Request body exceeds the limit of {max_bytes} bytes."
    run_failures = {"pending": False}

    @app.before_request
    def start_request() -> Response | None:
        g.api_name = None
        g.started = time.perf_counter()
        g.request_id = g.client_request_id = g.legacy_request_id = ""
        headers = request.headers
        request_id = headers.get("x-request-id") or str(uuid.uuid4())
        if len(request_id) > HEADER_LIMIT:
            return error_response(431, REQUEST_ID_TOO_LONG)
        g.request_id = request_id
        legacy = headers.get("x-ms-request-id", "")
        client = headers.get("x-ms-client-request-id", "")
        if legacy:
            logger.warning(
                "x-ms-request-id header has been deprecated and will be removed from future versions of the "
                "server. Please use x-ms-client-request-id."
            )
            client = client or legacy
        else:
            legacy = client or request_id
        if len(legacy) > HEADER_LIMIT or len(client) > HEADER_LIMIT:
            return error_response(431, CLIENT_ID_TOO_LONG)
        g.legacy_request_id, g.client_request_id = legacy, client
        length = request.content_length
        if length is not None and length > max_bytes:
            return error_response(413, too_large)
        return None

    @app.after_request
    def finish_request(response: Response) -> Response:
        headers = response.headers
        if server_version:
            headers.add("x-ms-server-version", server_version)
        if g.get("request_id"):
            headers["x-request-id"] = g.request_id
        if g.get("legacy_request_id"):
            headers["x-ms-request-id"] = g.legacy_request_id
        if g.get("client_request_id"):
            headers["x-ms-client-request-id"] = g.client_request_id
        trace_id = request.headers.get("TraceId")
        if trace_id is not None:
            headers.add("TraceId", trace_id)
        if g.get("api_name"):
            elapsed_ms = (time.perf_counter() - g.started) * 1000
            path = request.path
            if request.query_string:
                path += "?" + request.query_string.decode("utf-8", "replace")
            length = "N/A" if response.is_streamed else response.calculate_content_length()
            logger.info(f"{request.method} {path} {response.status_code} {elapsed_ms:.3f}ms {length}")
        return response

    @app.route("/", methods=["GET"])
    def health() -> str:
        return "Healthy"

    @app.route("/swagger.json", methods=["GET"])
    def get_swagger() -> Response:
        g.api_name = "/swagger.json"
        try:
            document = swagger.get(request.args.get("version", "2"))
        except SwaggerNotFound as ex:
            return error_response(404, ex.message)
        response = Response(document, status=200, mimetype="application/json")
        response.headers["x-ms-run-function-failed"] = "False"
        return response

    @app.route("/score", methods=["GET", "POST", "OPTIONS"], provide_automatic_options=False)
    def score() -> Response:
        g.api_name = "/score"
        try:
            kwargs = parse(request)
        except UnsupportedMethod as ex:
            if ex.method == "OPTIONS":
                response = Response("", status=200)
                response.headers["x-ms-run-function-failed"] = "False"
                return response
            return error_response(405, ex.message)
        except InputError as ex:
            return error_response(ex.status, ex.message)
        except RequestEntityTooLarge:
            return error_response(413, too_large)

        started = time.perf_counter()
        try:
            with scoring_deadline(timeout_ms):
                output = script.call_run(kwargs, lambda: dict(request.headers))
        except ScoringTimeout:
            _log_user_exception(f"Scoring timeout after {timeout_ms} ms. ")
            events.emit(
                "run_failed",
                requestId=g.request_id,
                exception={
                    "type": "ScoringTimeout",
                    "message": f"Scoring timeout after {timeout_ms} ms",
                    "frames": [],
                },
            )
            run_failures["pending"] = True
            return error_response(500, f"Scoring timeout after {timeout_ms} ms", run_function_failed=True)
        except RequestEntityTooLarge:
            return error_response(413, too_large)
        except (Exception, SystemExit) as ex:
            _log_user_exception("Encountered Exception: ")
            if events.enabled():
                events.emit("run_failed", requestId=g.request_id, exception=events.describe_exception(ex))
            run_failures["pending"] = True
            return error_response(500, RUN_FAILED_MESSAGE, run_function_failed=True)
        elapsed_ms = (time.perf_counter() - started) * 1000

        if isinstance(output, Response):
            logger.info("run() output is HTTP Response")
            if output.status_code >= 500:
                output.headers["x-ms-run-function-failed"] = "True"
            response = output
        else:
            try:
                response = json_response(output)
            except (TypeError, ValueError) as ex:
                logger.error(f"run() returned a value that cannot be encoded as JSON: {type(ex).__name__}: {ex}")
                return error_response(500, RUN_FAILED_MESSAGE, run_function_failed=True)
        response.headers.add("x-ms-run-fn-exec-ms", f"{elapsed_ms:.3f}")
        if run_failures["pending"]:
            run_failures["pending"] = False
            events.emit("run_recovered", requestId=g.request_id)
        return response

    @app.errorhandler(HTTPException)
    def http_error(ex: HTTPException) -> Response:
        if isinstance(ex, RequestEntityTooLarge):
            return error_response(413, too_large)
        return error_response(ex.code or 500, ex.description or "")

    @app.errorhandler(Exception)
    def unexpected_error(ex: Exception) -> Response:
        logger.error(f"Encountered Exception: {traceback.format_exc()}")
        return error_response(500, INTERNAL_ERROR_MESSAGE)
