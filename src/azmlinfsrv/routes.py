"""The HTTP surface: ``/``, ``/score``, ``/swagger.json``, request-id headers, request logs.

Everything a request needs is computed at start-up (the parser for run()'s input mode,
swagger documents, header values), so a request does no settings lookups.
"""

from __future__ import annotations

import inspect
import logging
import os
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

from flask import Flask, Request, Response, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.local import LocalProxy
from werkzeug.wsgi import get_content_length

from . import events
from .inputs import InputError, UnsupportedMethod, parser_for
from .logs import log_fast
from .responses import INTERNAL_ERROR_MESSAGE, RUN_FAILED_MESSAGE, error_response, json_response
from .script import UserScript, format_user_traceback, modules_under
from .settings import Settings
from .swagger import Swagger, SwaggerNotFound
from .timeouts import ScoringTimeout, call_with_deadline

logger = logging.getLogger("azmlinfsrv")

HEADER_LIMIT = 100
REQUEST_ID_TOO_LONG = f"x-request-id must not exceed {HEADER_LIMIT} characters"
CLIENT_ID_TOO_LONG = f"x-ms-request-id and x-ms-client-request-id must not exceed {HEADER_LIMIT} characters"


_STATE = "azmlinfsrv.request"  # the environ key of a request's _RequestState
_OUR_HEADERS = frozenset({"x-request-id", "x-ms-request-id", "x-ms-client-request-id"})
_LEGACY_ID_WARNING = (
    "x-ms-request-id header has been deprecated and will be removed from future versions of the "
    "server. Please use x-ms-client-request-id."
)


class _RequestState:
    """What the server keeps about one request, in its WSGI environ (cheaper than flask.g)."""

    __slots__ = ("started", "request_id", "legacy_request_id", "client_request_id", "reject", "logged")

    def __init__(self, started: float) -> None:
        self.started = started
        self.request_id = self.legacy_request_id = self.client_request_id = ""
        self.reject: tuple[int, str] | None = None  # answered instead of routing
        self.logged: Request | None = None  # set by the views whose requests are logged


def _uses_flask(script: UserScript, roots: list[str | None]) -> bool:
    """Whether score.py, its driver module or a helper module of the user's refers to Flask:
    the module, a request/g/current_app proxy, or anything defined by Flask (jsonify,
    Response...). Such a run() may expect a Flask request context around it."""
    namespaces = [vars(script.module), *(vars(m) for _, m in modules_under(roots))]
    run_globals = getattr(inspect.unwrap(script.run), "__globals__", None)
    if isinstance(run_globals, dict):
        namespaces.append(run_globals)
    for namespace in namespaces:
        for value in list(namespace.values()):
            if isinstance(value, LocalProxy):
                return True
            if isinstance(value, ModuleType):
                name = value.__name__
            else:
                name = getattr(value, "__module__", None) or ""
                if not isinstance(name, str):
                    continue
            if name == "flask" or name.startswith("flask.") or name == "flask_cors" or name.startswith("flask_cors."):
                return True
    return False


def _code_roots(settings: Settings, script: UserScript) -> list[str | None]:
    return [os.path.dirname(script.path), settings.app_root, settings.source_path]


def _current_state() -> _RequestState:
    state: _RequestState = request.environ[_STATE]
    return state


def register(app: Flask, settings: Settings, script: UserScript, swagger: Swagger) -> None:
    """The routes, and around the Flask app a WSGI layer that reads the request-id headers
    from the environ and adds ours to every response, with the request log line.

    Doing that at the WSGI level instead of in before/after_request hooks spares each
    request about twenty ``flask.g``/``flask.request`` proxy lookups and werkzeug header
    validations (see docs/benchmarks.md). Rejections (431, 413) still go through Flask, so
    that e.g. CORS headers are added to them as to any response.
    """
    parse = parser_for(script)
    timeout_ms = settings.scoring_timeout_ms
    server_version = settings.server_version_header
    max_bytes = settings.max_request_bytes
    too_large = f"Request body exceeds the limit of {max_bytes} bytes."
    run_failures = {"pending": False}
    flask_app = app.wsgi_app
    perf_counter = time.perf_counter
    request_class = app.request_class
    # POST/GET /score can skip Flask's request context, routing and hooks: nothing of Flask
    # is needed to answer them unless run() gets the request (@rawhttp), an extension
    # hooks every request (CORS), or the user's code uses Flask itself.
    direct = (
        script.mode != "raw" and not settings.cors_origins and not _uses_flask(script, _code_roots(settings, script))
    )

    def request_ids(environ: dict[str, Any]) -> _RequestState:
        state = _RequestState(perf_counter())
        request_id = environ.get("HTTP_X_REQUEST_ID") or str(uuid.uuid4())
        if len(request_id) > HEADER_LIMIT:
            state.reject = (431, REQUEST_ID_TOO_LONG)
            return state
        state.request_id = request_id
        legacy = environ.get("HTTP_X_MS_REQUEST_ID", "")
        client = environ.get("HTTP_X_MS_CLIENT_REQUEST_ID", "")
        if legacy:
            logger.warning(_LEGACY_ID_WARNING)
            client = client or legacy
        else:
            legacy = client or request_id
        if len(legacy) > HEADER_LIMIT or len(client) > HEADER_LIMIT:
            state.reject = (431, CLIENT_ID_TOO_LONG)
            return state
        state.legacy_request_id, state.client_request_id = legacy, client
        length = get_content_length(environ)
        if length is not None and length > max_bytes:
            state.reject = (413, too_large)
        return state

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        state = environ[_STATE] = request_ids(environ)

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            ours: list[tuple[str, str]] = []
            if server_version:
                ours.append(("x-ms-server-version", server_version))
            if state.request_id:
                ours.append(("x-request-id", state.request_id))
            if state.legacy_request_id:
                ours.append(("x-ms-request-id", state.legacy_request_id))
            if state.client_request_id:
                ours.append(("x-ms-client-request-id", state.client_request_id))
            if any(name.lower() in _OUR_HEADERS for name, _ in headers):  # a user's response set one
                replaced = {name for name, _ in ours}
                headers[:] = [(name, value) for name, value in headers if name.lower() not in replaced]
            headers += ours
            trace_id = environ.get("HTTP_TRACEID")
            if trace_id is not None:
                headers.append(("TraceId", trace_id))
            req = state.logged
            if req is not None:
                elapsed_ms = (perf_counter() - state.started) * 1000
                path = req.path
                if req.query_string:
                    path += "?" + req.query_string.decode("utf-8", "replace")
                length = next((value for name, value in headers if name.lower() == "content-length"), "N/A")
                log_fast(logger, logging.INFO, f"{req.method} {path} {status[:3]} {elapsed_ms:.3f}ms {length}")
            return start_response(status, headers, exc_info)

        if (
            direct
            and environ.get("PATH_INFO") == "/score"
            and environ.get("REQUEST_METHOD") in ("POST", "GET")
            and state.reject is None
            and "HTTP_TRANSFER_ENCODING" not in environ
        ):
            req = request_class(environ)
            state.logged = req
            try:
                response = score_response(req, state)
            except HTTPException as ex:
                response = http_error(ex)
            except Exception as ex:
                response = unexpected_error(ex)
            return response(environ, respond)  # type: ignore[no-any-return]
        return flask_app(environ, respond)  # type: ignore[no-any-return]

    app.wsgi_app = serve  # type: ignore[method-assign]

    @app.before_request
    def reject_request() -> Response | None:
        reject = _current_state().reject
        return None if reject is None else error_response(*reject)

    @app.route("/", methods=["GET"])
    def health() -> str:
        return "Healthy"

    @app.route("/swagger.json", methods=["GET"])
    def get_swagger() -> Response:
        req: Request = request._get_current_object()  # type: ignore[attr-defined]
        req.environ[_STATE].logged = req
        try:
            document = swagger.get(req.args.get("version", "2"))
        except SwaggerNotFound as ex:
            return error_response(404, ex.message)
        response = Response(document, status=200, mimetype="application/json")
        response.headers["x-ms-run-function-failed"] = "False"
        return response

    @app.route("/score", methods=["GET", "POST", "OPTIONS"], provide_automatic_options=False)
    def score() -> Response:
        req: Request = request._get_current_object()  # type: ignore[attr-defined]
        state: _RequestState = req.environ[_STATE]
        state.logged = req
        return score_response(req, state)

    def score_response(req: Request, state: _RequestState) -> Response:
        """What /score answers (the view, and the direct path that skips Flask)."""
        try:
            kwargs = parse(req)
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

        started = perf_counter()
        try:
            output = call_with_deadline(lambda: script.call_run(kwargs, lambda: dict(req.headers)), timeout_ms)
        except ScoringTimeout as ex:
            logger.error(f"Scoring timeout after {timeout_ms} ms. {format_user_traceback(ex)}")
            events.emit(
                "run_failed",
                requestId=state.request_id,
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
        except Exception as ex:
            logger.error(f"Encountered Exception: {format_user_traceback(ex)}")
            if events.enabled():
                events.emit("run_failed", requestId=state.request_id, exception=events.describe_exception(ex))
            run_failures["pending"] = True
            return error_response(500, RUN_FAILED_MESSAGE, run_function_failed=True)
        elapsed_ms = (perf_counter() - started) * 1000

        if isinstance(output, Response):
            logger.info("run() output is HTTP Response")
            if output.status_code >= 500:
                output.headers["x-ms-run-function-failed"] = "True"
            output.headers.add("x-ms-run-fn-exec-ms", f"{elapsed_ms:.3f}")
            response = output
        else:
            try:
                response = json_response(output, exec_ms=elapsed_ms)
            except (TypeError, ValueError, RecursionError) as ex:
                logger.error(f"run() returned a value that cannot be encoded as JSON: {type(ex).__name__}: {ex}")
                return error_response(500, RUN_FAILED_MESSAGE, run_function_failed=True)
        if run_failures["pending"]:
            run_failures["pending"] = False
            events.emit("run_recovered", requestId=state.request_id)
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
