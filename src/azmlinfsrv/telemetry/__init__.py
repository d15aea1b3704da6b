"""Telemetry: Application Insights (as the reference sends it), OTLP, Prometheus metrics.

The request pipeline holds one ``Telemetry`` per worker (``setup()``) and calls its hooks:
``request_started(environ)`` when a request arrives, ``request_finished(...)`` when its
answer starts, ``run_finished``, ``user_exception`` and ``model_data`` around run(). With
everything off, ``active`` is False, the pipeline calls none of them, and neither the
OpenTelemetry SDK nor prometheus-client is imported.
"""

from __future__ import annotations

import atexit
import dataclasses
import logging
import os
from collections.abc import Mapping
from typing import Any

from .config import ConnectionStringError, TelemetryConfig, from_environ, missing_extra
from .records import NO_REQUEST_ID, UserScriptException, response_value

__all__ = [
    "NO_REQUEST_ID",
    "Telemetry",
    "TelemetryConfig",
    "UserScriptException",
    "check",
    "prepare_server",
    "response_value",
    "setup",
]

logger = logging.getLogger("azmlinfsrv")

FLUSH_SECONDS = 5.0  # at most this long to send what is queued when a worker stops
# Requests the reference does not send to Application Insights (the liveness probe), and ours.
UNTRACED_PATHS = frozenset({"/", "/metrics"})


def _config(env: Mapping[str, str]) -> tuple[TelemetryConfig, list[str]]:
    """The configuration, with what cannot be used of it turned off, and why (one line each)."""
    problems = []
    try:
        config = from_environ(env)
    except ConnectionStringError as ex:
        problems.append(f"{ex}; Application Insights is off.")
        config = from_environ({k: v for k, v in env.items() if k != "APPLICATIONINSIGHTS_CONNECTION_STRING"})
    changes: dict[str, Any] = {}
    wanted: list[tuple[str, str, bool, dict[str, Any]]] = [
        ("appinsights", "Application Insights", config.connection_string is not None, {"connection_string": None}),
        ("otlp", "OTLP export", config.otlp_traces or config.otlp_logs, {"otlp_traces": False, "otlp_logs": False}),
        ("metrics", "Prometheus metrics", config.metrics, {"metrics": False}),
    ]
    for part, label, on, off in wanted:
        install = missing_extra(part) if on else None
        if install:
            problems.append(f"{label} is configured but its packages are not installed: {install}")
            changes.update(off)
    if changes:
        config = dataclasses.replace(config, **changes)
    return config, problems


def check(env: Mapping[str, str] | None = None) -> TelemetryConfig:
    """In the server's main process: say once (a line each) what is configured but cannot
    be used, and return what will be."""
    config, problems = _config(os.environ if env is None else env)
    for problem in problems:
        logger.warning(problem)
    return config


def prepare_server(config: TelemetryConfig) -> None:
    """In the server's main process, before workers start: the metrics directory."""
    if config.metrics:
        from . import metrics

        metrics.prepare_directory()


class Telemetry:
    """The hooks of one worker. Inert (``active`` False) when nothing is configured."""

    def __init__(self, config: TelemetryConfig) -> None:
        self.config = config
        self.exporting: Any = None
        self.metrics: Any = None
        if config.tracing:
            try:
                from .exporting import Exporting

                self.exporting = Exporting(config)
            except Exception as ex:  # e.g. an exporter refusing its configuration
                logger.error(f"Telemetry export is off: {type(ex).__name__}: {ex}")
        if config.metrics:
            from .metrics import server_metrics

            self.metrics = server_metrics()
        self.active = self.exporting is not None or self.metrics is not None
        # What the pipeline needs to compute only when something uses it.
        self.wants_response_value = self.exporting is not None and config.log_response
        self.wants_model_data = self.exporting is not None and config.model_data_collection

    def request_started(self, environ: dict[str, Any]) -> Any:
        """Call when a request arrives; pass what it returns to ``request_finished``."""
        if self.metrics is not None:
            self.metrics.request_started()
        if self.exporting is not None and environ.get("PATH_INFO") not in UNTRACED_PATHS:
            return self.exporting.request_started(environ)
        return None

    def request_finished(
        self,
        started: Any,
        route: str | None,
        method: str,
        status: int,
        duration_ms: float,
        request_id: str,
        client_request_id: str,
        response_value: str | None = None,
    ) -> None:
        """Call once per request_started, when the answer's status is known. ``route`` is the
        route that matched (None for none: a 404), ``response_value`` the body as
        ``response_value()`` makes it (only needed when ``wants_response_value``)."""
        if self.metrics is not None:
            self.metrics.request_finished(route, method, status, duration_ms / 1000)
        if started is not None:
            self.exporting.request_finished(
                started,
                route=route,
                method=method,
                status=status,
                duration_ms=duration_ms,
                request_id=request_id,
                client_request_id=client_request_id,
                response_value=response_value,
            )

    def run_finished(self, duration_ms: float) -> None:
        if self.metrics is not None:
            self.metrics.run_finished(duration_ms / 1000)

    def init_finished(self, duration_s: float) -> None:
        if self.metrics is not None:
            self.metrics.init_finished(duration_s)

    def user_exception(self, ex: BaseException, request_id: str = NO_REQUEST_ID, client_request_id: str = "") -> None:
        """An exception of init() (no request id) or run(): sent as ``UserScriptException``."""
        if self.exporting is not None:
            self.exporting.user_exception(ex, request_id, client_request_id)

    def model_data(self, request_id: str, client_request_id: str, model_input: Any, prediction: Any) -> None:
        """A successful run()'s input and output, when model data collection is on."""
        if self.wants_model_data:
            self.exporting.model_data(request_id, client_request_id, model_input, prediction)

    def shutdown(self, timeout: float = FLUSH_SECONDS) -> None:
        if self.exporting is not None:
            exporting, self.exporting = self.exporting, None
            if not exporting.shutdown(timeout):
                logger.warning(f"Telemetry not sent within {timeout:g} s of stopping was dropped")


_current: Telemetry | None = None


def setup(env: Mapping[str, str] | None = None) -> Telemetry:
    """This process's telemetry (built once: an in-process reload keeps it), flushed within
    a bound when the process exits. Logs the reference's start-up line; problems were said
    by ``check`` in the main process."""
    global _current
    logger.info("Starting up app insights client")
    if _current is None:
        config, _ = _config(os.environ if env is None else env)
        _current = Telemetry(config)
        if _current.exporting is not None:
            atexit.register(_current.shutdown)
    return _current
