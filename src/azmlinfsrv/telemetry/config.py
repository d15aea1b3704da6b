"""What telemetry is on, decided once per process from the environment (no SDK imported).

Three independent parts:

- Application Insights: ``AML_APP_INSIGHTS_ENABLED=true`` with ``AML_APP_INSIGHTS_KEY``
  (what ``--appinsights_instrumentation_key`` sets), or ``APPLICATIONINSIGHTS_CONNECTION_STRING``
  alone. With both, the key wins and the connection string's endpoints are used, as the
  reference's exporter does.
- OTLP: any ``OTEL_EXPORTER_OTLP[_TRACES|_LOGS]_ENDPOINT``, or ``OTEL_TRACES_EXPORTER`` /
  ``OTEL_LOGS_EXPORTER`` naming ``otlp``; ``none`` turns a signal off; ``OTEL_SDK_DISABLED=true``
  turns OTLP off.
- Prometheus: ``AZMLINFSRV_METRICS=true`` (``--metrics``).
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

METRICS_ENV = "AZMLINFSRV_METRICS"
CONNECTION_STRING_ENV = "APPLICATIONINSIGHTS_CONNECTION_STRING"
DEFAULT_INGESTION_ENDPOINT = "https://dc.services.visualstudio.com"

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z", re.I)
_TRUE = ("true", "1", "yes", "on")


class ConnectionStringError(ValueError):
    """A connection string that cannot be parsed (the message never contains it)."""


def parse_connection_string(text: str) -> dict[str, str]:
    """``Key=Value;Key=Value`` as a dict with lower-case keys, as Azure Monitor reads it."""
    result: dict[str, str] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ConnectionStringError("APPLICATIONINSIGHTS_CONNECTION_STRING is not of the form Key=Value;...")
        result[key.strip().lower()] = value.strip()
    return result


def ingestion_endpoint(parts: Mapping[str, str]) -> str:
    """Where envelopes go: IngestionEndpoint, else built from EndpointSuffix (and Location)."""
    if parts.get("ingestionendpoint"):
        return parts["ingestionendpoint"].rstrip("/")
    suffix = parts.get("endpointsuffix")
    if suffix:
        location = parts.get("location")
        return f"https://{location + '.' if location else ''}dc.{suffix}"
    return DEFAULT_INGESTION_ENDPOINT


def app_insights_connection_string(env: Mapping[str, str]) -> str | None:
    """The connection string to export with, or None when Application Insights is off.

    Raises ConnectionStringError for an unusable APPLICATIONINSIGHTS_CONNECTION_STRING."""
    key = env.get("AML_APP_INSIGHTS_KEY", "") if _flag(env.get("AML_APP_INSIGHTS_ENABLED")) else ""
    raw = env.get(CONNECTION_STRING_ENV, "").strip()
    parts = parse_connection_string(raw) if raw else {}
    if parts and not _UUID.match(parts.get("instrumentationkey", "")) and not key:
        raise ConnectionStringError("APPLICATIONINSIGHTS_CONNECTION_STRING has no valid InstrumentationKey")
    if key and _UUID.match(key):
        parts = {**parts, "instrumentationkey": key}
    if not parts:
        return None
    parts["ingestionendpoint"] = ingestion_endpoint(parts)
    names = {"instrumentationkey": "InstrumentationKey", "ingestionendpoint": "IngestionEndpoint"}
    return ";".join(f"{names.get(k, k)}={v}" for k, v in parts.items())


def _flag(value: str | None) -> bool:
    return value is not None and value.strip().lower() in _TRUE


def _exporters(value: str | None) -> set[str] | None:
    """OTEL_*_EXPORTER as a set of names (None when unset)."""
    if value is None or not value.strip():
        return None
    return {name.strip().lower() for name in value.split(",") if name.strip()}


def otlp_signals(env: Mapping[str, str]) -> tuple[bool, bool]:
    """Whether spans and logs go to an OTLP collector."""
    if _flag(env.get("OTEL_SDK_DISABLED")):
        return False, False
    endpoint = bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT"))
    result = []
    for signal in ("TRACES", "LOGS"):
        named = _exporters(env.get(f"OTEL_{signal}_EXPORTER"))
        if named is not None:
            result.append("otlp" in named)
        else:
            result.append(endpoint or bool(env.get(f"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT")))
    return result[0], result[1]


def otlp_protocol(env: Mapping[str, str], signal: str) -> str:
    """``http/protobuf`` (the default), ``http/json`` or ``grpc``, per OTEL_EXPORTER_OTLP_*_PROTOCOL."""
    value = env.get(f"OTEL_EXPORTER_OTLP_{signal}_PROTOCOL") or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
    return (value or "http/protobuf").strip().lower()


@dataclass(frozen=True)
class TelemetryConfig:
    connection_string: str | None = None  # Application Insights; never printed
    otlp_traces: bool = False
    otlp_logs: bool = False
    metrics: bool = False
    service_name: str = "ML service"
    workspace_name: str = ""
    container_id: str = "Unknown"
    log_response: bool = True  # APP_INSIGHTS_LOG_RESPONSE_ENABLED
    model_data_collection: bool = False  # AML_MODEL_DC_STORAGE_ENABLED / AML_MDC_STORAGE_ENABLED
    model_dir: str = ""

    @property
    def tracing(self) -> bool:
        """Whether spans and log records are exported anywhere (the OpenTelemetry SDK is needed)."""
        return self.connection_string is not None or self.otlp_traces or self.otlp_logs

    @property
    def enabled(self) -> bool:
        return self.tracing or self.metrics


def from_environ(env: Mapping[str, str] | None = None) -> TelemetryConfig:
    env = os.environ if env is None else env
    traces, logs = otlp_signals(env)
    log_response = env.get("APP_INSIGHTS_LOG_RESPONSE_ENABLED")
    return TelemetryConfig(
        connection_string=app_insights_connection_string(env),
        otlp_traces=traces,
        otlp_logs=logs,
        metrics=_flag(env.get(METRICS_ENV)),
        service_name=env.get("SERVICE_NAME") or "ML service",
        workspace_name=env.get("WORKSPACE_NAME", ""),
        container_id=env.get("HOSTNAME") or "Unknown",
        log_response=log_response is None or log_response.strip().lower() != "false",
        # The reference documents the first name; its settings read the second.
        model_data_collection=_flag(env.get("AML_MODEL_DC_STORAGE_ENABLED"))
        or _flag(env.get("AML_MDC_STORAGE_ENABLED")),
        model_dir=env.get("AZUREML_MODEL_DIR", ""),
    )


# Which distribution provides what a part needs, for the one line said when it is missing.
_NEEDS = {
    "appinsights": ("azure.monitor.opentelemetry.exporter", "opentelemetry.sdk"),
    "otlp": ("opentelemetry.exporter.otlp.proto.http", "opentelemetry.sdk"),
    "metrics": ("prometheus_client",),
}


def missing_extra(part: str) -> str | None:
    """The pip command that installs what ``part`` needs, or None when it is installed."""
    for module in _NEEDS[part]:
        try:
            found = importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            return f"pip install 'azmlinfsrv[{part}]'"
    return None
