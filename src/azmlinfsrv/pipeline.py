"""The request pipeline: what happens to every HTTP request between the WSGI server and a view.

Like Flask's own ``wsgi_app`` → ``full_dispatch_request`` → ``finalize_request``, a request
goes through named steps of ``Pipeline``:

1. ``begin_request``: a ``RequestRecord`` is made (start time, method, request ids from
   request_ids.py, a 431/413 rejection if due) and kept in the WSGI environ;
2. dispatch: POST/GET ``/score`` is answered by ``dispatch_direct`` without Flask's request
   context, routing and hooks when nothing needs them (see ``can_skip_flask``: about half of
   the app's time per request, docs/benchmarks.md); everything else goes to the Flask app,
   whose ``before_flask_request`` hook records the route and answers a rejection;
3. ``finalize_request``, when the response starts: our headers (request ids, server version,
   TraceId) are added, the record gets its status, headers and duration.

Working at the WSGI level rather than in Flask's before/after_request hooks spares each
request about twenty ``flask.g``/``flask.request`` lookups and werkzeug header validations.
Rejections still go through Flask, so that e.g. CORS headers are added to them too.

Extension points:

- **A request begins and ends** in one place for both paths: subclass ``RequestObserver``
  and ``Pipeline.add_observer`` it. ``request_started(record)`` runs in ``begin_request``;
  ``request_finished(record, headers)`` runs in ``finalize_request`` with ``record.route``
  (the URL rule, None when nothing matched), ``record.method``, ``record.status``,
  ``record.duration_ms`` (to the start of the response), ``record.request_id`` and
  ``record.client_request_id`` set, and the response headers; ``record.environ`` is the
  request's WSGI environ. The request log line (``AccessLog``) and telemetry
  (telemetry/wiring.py) are such observers. Observers run on every request: keep them cheap, and let them not raise.
- **Another route**: add a ``Route`` to ``routes.route_table`` (routes.py).
"""

from __future__ import annotations

import inspect
import logging
import os
import time
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import Any

from flask import Request, Response, request
from werkzeug.local import LocalProxy
from werkzeug.wsgi import get_content_length

from .logs import log_fast
from .request_ids import NO_IDS, RequestIds, RequestIdTooLong, add_response_headers, read_request_ids
from .responses import error_response, too_large_message
from .script import UserScript, modules_under
from .settings import Settings

logger = logging.getLogger("azmlinfsrv")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
DirectScore = Callable[[Request, str], Response]  # what /score answers outside Flask: (request, request id)

RECORD_KEY = "azmlinfsrv.request"  # the environ key of a request's RequestRecord
_DIRECT_METHODS = ("POST", "GET")


class RequestRecord:
    """What the server keeps about one request, in its WSGI environ (cheaper than flask.g)."""

    __slots__ = (
        "environ",
        "started",
        "method",
        "ids",
        "reject",
        "route",
        "request",
        "status",
        "duration_ms",
    )

    def __init__(self, started: float, method: str, environ: dict[str, Any] | None = None) -> None:
        self.environ: dict[str, Any] = {} if environ is None else environ  # the request's WSGI environ
        self.started = started  # time.perf_counter()
        self.method = method
        self.ids: RequestIds = NO_IDS
        self.reject: tuple[int, str] | None = None  # answered instead of routing
        self.route: str | None = None  # the URL rule that matched
        self.request: Request | None = None  # set by the views whose requests are logged
        self.status = 0
        self.duration_ms = 0.0

    @property
    def request_id(self) -> str:
        return self.ids[0]

    @property
    def client_request_id(self) -> str:
        """The client's own id (x-ms-client-request-id, or the legacy x-ms-request-id); "" if none."""
        return self.ids[2]


def record_of(environ: dict[str, Any]) -> RequestRecord:
    """The record ``begin_request`` made for the request of ``environ``."""
    record: RequestRecord = environ[RECORD_KEY]
    return record


class RequestObserver:
    """Told when each request begins and ends; override either method."""

    def request_started(self, record: RequestRecord) -> None:
        pass

    def request_finished(self, record: RequestRecord, headers: list[tuple[str, str]]) -> None:
        """``headers``: the response's, as sent (read them, do not keep them)."""


class AccessLog(RequestObserver):
    """The request log line (``POST /score 200 1.234ms 17``) of the views that ask for it."""

    def request_finished(self, record: RequestRecord, headers: list[tuple[str, str]]) -> None:
        req = record.request
        if req is None:
            return
        path = req.path
        if req.query_string:
            path += "?" + req.query_string.decode("utf-8", "replace")
        length = next((value for name, value in headers if name.lower() == "content-length"), "N/A")
        log_fast(logger, logging.INFO, f"{req.method} {path} {record.status} {record.duration_ms:.3f}ms {length}")


class Pipeline:
    """The steps of a request around the Flask app's ``wsgi_app`` (see the module docstring)."""

    def __init__(self, flask_app: WSGIApp, request_class: type[Request], settings: Settings) -> None:
        self.flask_app = flask_app
        self.request_class = request_class
        self.server_version = settings.server_version_header
        self.max_bytes = settings.max_request_bytes
        self.too_large = too_large_message(settings.max_request_bytes)
        self.direct_score: DirectScore | None = None  # set by routes.register when Flask can be skipped
        self.observers: list[RequestObserver] = []
        # The observers' methods that do something (a call that does nothing costs too).
        self._on_start: list[Callable[[RequestRecord], None]] = []
        self._on_finish: list[Callable[[RequestRecord, list[tuple[str, str]]], None]] = []
        self.add_observer(AccessLog())

    def add_observer(self, observer: RequestObserver) -> None:
        self.observers.append(observer)
        kind = type(observer)
        if kind.request_started is not RequestObserver.request_started:
            self._on_start.append(observer.request_started)
        if kind.request_finished is not RequestObserver.request_finished:
            self._on_finish.append(observer.request_finished)

    def wsgi_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The app's WSGI callable (it replaces Flask's ``wsgi_app``, which it calls): begin,
        dispatch, finalize when the response starts."""
        record = environ[RECORD_KEY] = self.begin_request(environ)

        def respond(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            self.finalize_request(environ, record, status, headers)
            return start_response(status, headers, exc_info)

        if (
            self.direct_score is not None
            and environ.get("PATH_INFO") == "/score"
            and record.method in _DIRECT_METHODS
            and record.reject is None
            and "HTTP_TRANSFER_ENCODING" not in environ
        ):
            return self.dispatch_direct(environ, record, respond)
        return self.flask_app(environ, respond)

    def begin_request(self, environ: dict[str, Any]) -> RequestRecord:
        record = RequestRecord(time.perf_counter(), environ.get("REQUEST_METHOD", ""), environ)
        try:
            record.ids = read_request_ids(environ)
        except RequestIdTooLong as ex:
            record.ids = ex.ids
            record.reject = (431, ex.message)
        else:
            length = get_content_length(environ)
            if length is not None and length > self.max_bytes:
                record.reject = (413, self.too_large)
        for started in self._on_start:
            started(record)
        return record

    def dispatch_direct(
        self, environ: dict[str, Any], record: RequestRecord, respond: Callable[..., Any]
    ) -> Iterable[bytes]:
        """/score without Flask: the request object, the view, the response."""
        assert self.direct_score is not None
        req = self.request_class(environ)
        record.route = "/score"
        record.request = req
        response = self.direct_score(req, record.ids[0])
        return response(environ, respond)  # type: ignore[no-any-return]

    def before_flask_request(self) -> Response | None:
        """Flask's before_request hook: the route for the record; the rejection, if any."""
        req: Request = request._get_current_object()  # type: ignore[attr-defined]
        record = record_of(req.environ)
        rule = req.url_rule
        record.route = rule.rule if rule is not None else None
        return None if record.reject is None else error_response(*record.reject)

    def finalize_request(
        self, environ: dict[str, Any], record: RequestRecord, status: str, headers: list[tuple[str, str]]
    ) -> None:
        """Our headers on the response; the record completed; observers told."""
        add_response_headers(headers, record.ids, self.server_version)
        trace_id = environ.get("HTTP_TRACEID")
        if trace_id is not None:
            headers.append(("TraceId", trace_id))
        record.status = int(status[:3])
        record.duration_ms = (time.perf_counter() - record.started) * 1000
        for finished in self._on_finish:
            finished(record, headers)


def can_skip_flask(settings: Settings, script: UserScript) -> bool:
    """Whether /score can be answered outside Flask: nothing of Flask is needed unless run()
    gets the request (@rawhttp), an extension hooks every request (CORS), or the user's code
    uses Flask itself."""
    if script.mode == "raw" or settings.cors_origins:
        return False
    return not uses_flask(script, [os.path.dirname(script.path), settings.app_root, settings.source_path])


def uses_flask(script: UserScript, roots: list[str | None]) -> bool:
    """Whether score.py, its driver module or a helper module of the user's refers to Flask:
    the module, a request/g/current_app proxy, or anything defined by Flask (jsonify,
    Response...). Such a run() may expect a Flask request context around it."""
    namespaces = [vars(script.module), *(vars(m) for _, m in modules_under(roots))]
    run_globals = getattr(inspect.unwrap(script.run), "__globals__", None)
    if isinstance(run_globals, dict):
        namespaces.append(run_globals)
    return any(_is_flask_thing(value) for namespace in namespaces for value in list(namespace.values()))


def _is_flask_thing(value: Any) -> bool:
    if isinstance(value, LocalProxy):
        return True
    name = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", None)
    if not isinstance(name, str):
        return False
    return name == "flask" or name.startswith("flask.") or name == "flask_cors" or name.startswith("flask_cors.")
