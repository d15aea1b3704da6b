"""The HTTP surface: the route table (``/``, ``/readyz``, ``/score``, ``/swagger.json``) and ``register``,
which wires the views (views.py), the error handlers and the request pipeline
(pipeline.py) into one worker's Flask app.

To add a route, add a ``Route`` to ``route_table``: its view is a callable without
arguments that reads ``flask.request`` (or builds what it needs at start-up, as the views
of views.py do), and ``access_log`` says whether its requests get the request log line.
Everything a request needs is computed at start-up, so a request does no settings lookups.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask, Request, request
from werkzeug.exceptions import HTTPException

from .pipeline import Pipeline, can_skip_flask, record_of
from .script import UserScript
from .settings import Settings
from .swagger import Swagger
from .views import ErrorHandlers, ScoreView, SwaggerView, health, ready


@dataclass(frozen=True)
class Route:
    rule: str
    endpoint: str
    view: Callable[[], Any]
    methods: tuple[str, ...] = ("GET",)
    access_log: bool = True  # the request log line (health probes have none, as in the reference)
    automatic_options: bool | None = None  # Flask's OPTIONS answer; None: Flask's default


def route_table(score: ScoreView, swagger: Swagger) -> list[Route]:
    return [
        Route("/", "health", health, access_log=False),
        Route("/readyz", "ready", ready, access_log=False),
        Route("/swagger.json", "get_swagger", SwaggerView(swagger)),
        # OPTIONS /score is answered by the view (as the reference does), not by Flask.
        Route("/score", "score", score, ("GET", "POST", "OPTIONS"), automatic_options=False),
    ]


def add_route(app: Flask, route: Route) -> None:
    view = _access_logged(route.view) if route.access_log else route.view
    app.add_url_rule(
        route.rule,
        endpoint=route.endpoint,
        view_func=view,
        methods=list(route.methods),
        provide_automatic_options=route.automatic_options,
    )


def _access_logged(view: Callable[[], Any]) -> Callable[[], Any]:
    """``view``, marking its request for the request log line (pipeline.AccessLog)."""

    def logged_view() -> Any:
        req: Request = request._get_current_object()  # type: ignore[attr-defined]
        record_of(req.environ).request = req
        return view()

    return logged_view


def register(app: Flask, settings: Settings, script: UserScript, swagger: Swagger, telemetry: Any = None) -> Pipeline:
    """Routes, error handlers and the pipeline around ``app.wsgi_app``; returns the pipeline
    (for ``Pipeline.add_observer``). ``telemetry``: an active ``azmlinfsrv.telemetry.Telemetry``
    or None."""
    errors = ErrorHandlers(settings.max_request_bytes)
    score = ScoreView(script, settings.scoring_timeout_ms, errors)
    score.telemetry = telemetry
    pipeline = Pipeline(app.wsgi_app, app.request_class, settings)
    if can_skip_flask(settings, script):
        pipeline.direct_score = score.respond_outside_flask
    app.wsgi_app = pipeline.wsgi_app  # type: ignore[method-assign]
    app.before_request(pipeline.before_flask_request)
    for route in route_table(score, swagger):
        add_route(app, route)
    if telemetry is not None:
        from .telemetry import wiring

        if telemetry.metrics is not None:
            # Scraped every few seconds: no request log line, as for the liveness probe.
            add_route(app, Route("/metrics", "metrics", wiring.metrics_view, access_log=False))
        wiring.install(app, pipeline, telemetry)
    app.register_error_handler(HTTPException, errors.http_error)
    app.register_error_handler(Exception, errors.unexpected_error)
    return pipeline
