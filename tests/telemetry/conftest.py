"""Fixtures: the local ingestion stub and OTLP receiver (tests/telemetry/receivers.py); ``server`` is
tests/conftest.py's."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .receivers import IngestionStub, OtlpReceiver

KEY = "11111111-2222-3333-4444-555555555555"


@pytest.fixture
def stub() -> Iterator[IngestionStub]:
    receiver = IngestionStub().start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture
def otlp() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver().start()
    try:
        yield receiver
    finally:
        receiver.stop()


def app_insights_env(stub: IngestionStub, **extra: str) -> dict[str, str]:
    """A server's environment that sends to ``stub`` quickly, without statsbeat."""
    return {
        "APPLICATIONINSIGHTS_CONNECTION_STRING": f"InstrumentationKey={KEY};IngestionEndpoint={stub.url}",
        "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
        "OTEL_BLRP_SCHEDULE_DELAY": "200",
        **extra,
    }
