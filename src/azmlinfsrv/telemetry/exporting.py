"""Spans and log records through the OpenTelemetry SDK, to Application Insights and/or OTLP.

Imported only when one of them is configured (``pip install azmlinfsrv[appinsights]`` /
``[otlp]``). Exporting happens in the SDK's batch processors' threads: a request only
appends to an in-memory queue (which drops when full), so a collector that is slow, down
or answering errors never delays or fails an answer. Shutdown flushes within a bound.
"""

from __future__ import annotations

import logging
import platform
import threading
import time
import warnings
from collections.abc import Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.resources import SERVICE_INSTANCE_ID, SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from . import records
from .config import TelemetryConfig, otlp_protocol

logger = logging.getLogger("azmlinfsrv")

TRACE_LOGGER = "azmlinfsrv.trace"
PRINT_LOGGER = "azmlinfsrv.print"
INSTRUMENTATION_SCOPE = "azmlinfsrv"
_CHATTY_LOGGERS = ("azure.core.pipeline.policies.http_logging_policy", "azure.monitor.opentelemetry.exporter")


class _EnvironHeaders:
    """W3C trace context headers read straight from a WSGI environ (``traceparent`` is
    ``HTTP_TRACEPARENT``)."""

    @staticmethod
    def get(environ: Mapping[str, Any], key: str) -> list[str] | None:
        value = environ.get("HTTP_" + key.upper().replace("-", "_"))
        return [value] if isinstance(value, str) else None

    @staticmethod
    def keys(environ: Mapping[str, Any]) -> list[str]:
        return [k[5:].lower().replace("_", "-") for k in environ if k.startswith("HTTP_")]


def _app_insights_span_exporter(connection_string: str, provider: TracerProvider) -> Any:
    from azure.monitor.opentelemetry.exporter import AzureMonitorTraceExporter

    class RequestExporter(AzureMonitorTraceExporter):  # type: ignore[misc]
        """Requests with the reference's ``name`` (the path, not "METHOD path") and with the
        standard ``responseCode``/``success`` set from the status (the reference sends
        "0"/true for every request; its properties carry the truth, and still do)."""

        def _span_to_envelope(self, span: Any) -> Any:
            envelope = super()._span_to_envelope(span)
            data = getattr(getattr(envelope, "data", None), "base_data", None)
            attributes = span.attributes or {}
            status = attributes.get("http.response.status_code")
            if span.kind is SpanKind.SERVER and data is not None and isinstance(status, int):
                data.name = span.name
                if envelope.tags is not None:
                    envelope.tags["ai.operation.name"] = span.name
                data.response_code = str(status)
                data.success = status < 400
            return envelope

    return RequestExporter(connection_string=connection_string, tracer_provider=provider)


def _otlp_exporter(signal: str) -> Any:
    """The OTLP exporter for ``signal`` (TRACES or LOGS); it reads OTEL_EXPORTER_OTLP_* itself."""
    import os

    if otlp_protocol(os.environ, signal) == "grpc":
        if signal == "TRACES":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

            return OTLPSpanExporter()
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter

        return OTLPLogExporter()
    if signal == "TRACES":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter

        return HttpSpanExporter()
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogExporter

    return HttpLogExporter()


def _log_exporters(config: TelemetryConfig) -> list[Any]:
    exporters: list[Any] = []
    if config.connection_string is not None:
        from azure.monitor.opentelemetry.exporter import AzureMonitorLogExporter

        exporters.append(AzureMonitorLogExporter(connection_string=config.connection_string))
    if config.otlp_logs:
        exporters.append(_otlp_exporter("LOGS"))
    return exporters


def _http_conventions(method: str, status: int, path: str, url: str, route: str | None) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "http.request.method": method,
        "http.response.status_code": status,
        "url.path": path,
        "url.full": url,
    }
    if route:
        attributes["http.route"] = route
    return attributes


class RequestSpan:
    """One request's span and the context it was made current in."""

    __slots__ = ("span", "token", "environ", "started")

    def __init__(self, span: Any, token: object, environ: dict[str, Any], started: float) -> None:
        self.span, self.token, self.environ, self.started = span, token, environ, started


class Exporting:
    """The SDK's providers, processors and exporters of one worker, and the per-request calls."""

    def __init__(self, config: TelemetryConfig) -> None:
        import os

        self.config = config
        service = os.environ.get("OTEL_SERVICE_NAME") or config.service_name
        # The host as the instance (Application Insights' cloud_RoleInstance), as the
        # reference's records have it. No process detector: the command line holds the key.
        resource = Resource.create({SERVICE_NAME: service, SERVICE_INSTANCE_ID: platform.node()})
        for name in _CHATTY_LOGGERS:  # per-export INFO lines (request headers...), not the user's log
            logging.getLogger(name).setLevel(logging.WARNING)
        # shutdown_on_exit=False: the SDK's own exit hook would wait for a hung collector
        # without a bound; ours (shutdown) has one.
        self.tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False)
        self.logger_provider = LoggerProvider(resource=resource, shutdown_on_exit=False)
        span_exporters = self._span_exporters(config)
        for exporter in span_exporters:
            self.tracer_provider.add_span_processor(BatchSpanProcessor(exporter))
        self.tracer = self.tracer_provider.get_tracer(INSTRUMENTATION_SCOPE)
        self.traced = bool(span_exporters)
        # Spans that score.py makes with OpenTelemetry's API go the same way, as children of
        # the request's (the reference sets its provider globally too).
        trace.set_tracer_provider(self.tracer_provider)
        self.handler = self._log_handler(_log_exporters(config))
        self._propagator = TraceContextTextMapPropagator()
        self._model_ids = records.model_ids(config.model_dir)

    def _span_exporters(self, config: TelemetryConfig) -> list[Any]:
        exporters = []
        if config.connection_string is not None:
            exporters.append(_app_insights_span_exporter(config.connection_string, self.tracer_provider))
        if config.otlp_traces:
            exporters.append(_otlp_exporter("TRACES"))
        return exporters

    def _log_handler(self, exporters: list[Any]) -> logging.Handler | None:
        """The handler that sends the request trace and print() lines to the log exporters."""
        for exporter in exporters:
            self.logger_provider.add_log_record_processor(BatchLogRecordProcessor(exporter))
        if not exporters:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            handler = LoggingHandler(level=logging.INFO, logger_provider=self.logger_provider)
        for name in (TRACE_LOGGER, PRINT_LOGGER):
            logging.getLogger(name).addHandler(handler)
        return handler

    # -- requests ---------------------------------------------------------------------------
    def request_started(self, environ: dict[str, Any]) -> RequestSpan | None:
        """Open the request's span (continuing a client's ``traceparent``) and make it current,
        so that what run() logs or prints is correlated with it."""
        if not self.traced:
            return None
        parent = self._propagator.extract(environ, getter=_EnvironHeaders)  # type: ignore[arg-type]
        span = self.tracer.start_span(environ.get("PATH_INFO") or "/", context=parent, kind=SpanKind.SERVER)
        token = otel_context.attach(trace.set_span_in_context(span, parent))
        return RequestSpan(span, token, environ, time.time())

    def request_finished(
        self,
        request: RequestSpan | None,
        *,
        route: str | None,
        method: str,
        status: int,
        duration_ms: float,
        request_id: str,
        client_request_id: str,
        response_value: str | None,
    ) -> None:
        if request is None:
            return
        environ = request.environ
        path = environ.get("PATH_INFO") or "/"
        url = records.request_url(environ)
        span = request.span
        span.set_attributes(
            records.request_properties(
                container_id=self.config.container_id,
                workspace_name=self.config.workspace_name,
                service_name=self.config.service_name,
                path=path,
                url=url,
                method=method,
                status=status,
                started=request.started,
                duration_ms=duration_ms,
                request_id=request_id,
                client_request_id=client_request_id,
                response=response_value if self.config.log_response else None,
            )
        )
        # OpenTelemetry's HTTP conventions, for OTLP back-ends (and the standard fields).
        span.set_attributes(_http_conventions(method, status, path, url, route))
        if status >= 500:
            span.set_status(Status(StatusCode.ERROR))
        span.end()
        otel_context.detach(request.token)  # type: ignore[arg-type]

    # -- log records --------------------------------------------------------------------------
    def _emit(self, level: int, message: str, attributes: dict[str, Any], exc_info: Any = None) -> None:
        """A record of ``azmlinfsrv.trace`` straight to the exporters: the server's own log
        already has the line (the traceback, the request), so it is not printed again."""
        if self.handler is None:
            return
        record = logging.LogRecord(TRACE_LOGGER, level, __file__, 0, message, None, exc_info)
        record.__dict__.update(attributes)
        self.handler.handle(record)

    def user_exception(self, ex: BaseException, request_id: str, client_request_id: str) -> None:
        wrapped = records.wrap_user_exception(ex)
        values = {
            "Container Id": self.config.container_id,
            "Request Id": request_id,
            "Client Request Id": client_request_id,
        }
        self._emit(
            logging.ERROR, str(wrapped), records.dimensions(values), (type(wrapped), wrapped, wrapped.__traceback__)
        )

    def model_data(self, request_id: str, client_request_id: str, model_input: Any, prediction: Any) -> None:
        if not self.config.model_data_collection:
            return
        values = {
            "Container Id": self.config.container_id,
            "Request Id": request_id,
            "Client Request Id": client_request_id,
            "Workspace Name": self.config.workspace_name,
            "Service Name": self.config.service_name,
            "Models": self._model_ids,
            "Input": records.to_json(model_input),
            "Prediction": records.to_json(prediction),
        }
        self._emit(logging.INFO, "model_data_collection", records.dimensions(values))

    # -- the end ------------------------------------------------------------------------------
    def shutdown(self, timeout: float) -> bool:
        """Flush and stop the exporters, waiting at most ``timeout`` seconds; whether that
        finished in time (a hung collector's records are then lost, not waited for)."""
        if self.handler is not None:
            for name in (TRACE_LOGGER, PRINT_LOGGER):
                logging.getLogger(name).removeHandler(self.handler)

        def stop() -> None:
            millis = int(timeout * 1000)
            self.tracer_provider.force_flush(millis)
            self.logger_provider.force_flush(millis)
            self.tracer_provider.shutdown()
            self.logger_provider.shutdown()

        worker = threading.Thread(target=stop, name="azmlinfsrv-telemetry-flush", daemon=True)
        worker.start()
        worker.join(timeout)
        return not worker.is_alive()
