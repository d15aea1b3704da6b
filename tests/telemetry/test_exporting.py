"""The exporters in process (no HTTP server of ours): what reaches the stub and the OTLP
receiver, and that a broken collector never blocks the calls a request makes."""

from __future__ import annotations

import logging
import tempfile
import time

import pytest

from azmlinfsrv.telemetry import Telemetry, config

from .conftest import KEY, app_insights_env
from .receivers import attributes, trace_id_hex

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def environ(path: str = "/score", **headers: str) -> dict[str, str]:
    env = {"PATH_INFO": path, "REQUEST_METHOD": "POST", "HTTP_HOST": "127.0.0.1:5001", "wsgi.url_scheme": "http"}
    env.update({"HTTP_" + k.upper(): v for k, v in headers.items()})
    return env


@pytest.fixture
def make(monkeypatch, tmp_path):
    """Telemetry built from ``env``; the exporter's offline storage (where it keeps what it
    could not send, to resend later) in this test's folder; print()'s logger at INFO as in
    a worker."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(logging.getLogger("azmlinfsrv"), "level", logging.INFO)
    made: list[Telemetry] = []

    def build(env: dict[str, str]) -> Telemetry:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        telemetry = Telemetry(config.from_environ())
        made.append(telemetry)
        return telemetry

    yield build
    for telemetry in made:
        telemetry.shutdown(2)


def one_request(telemetry: Telemetry, status: int = 200, **headers: str) -> None:
    started = telemetry.request_started(environ(**headers))
    logging.getLogger("azmlinfsrv.print").info("printed in run")
    telemetry.request_finished(started, "/score", "POST", status, 3.0, "rid", "crid", '{"a": 1}')


def test_request_message_and_exception_reach_app_insights(stub, make):
    telemetry = make(app_insights_env(stub, SERVICE_NAME="svc", HOSTNAME="box"))
    one_request(telemetry, 500, traceparent=TRACEPARENT)
    try:
        raise ValueError("boom")
    except ValueError as ex:
        telemetry.user_exception(ex, "rid", "crid")
    request = stub.wait_for_request("/score")[0]
    assert (request["responseCode"], request["success"]) == ("500", False)
    assert request["properties"]["Request Id"] == "rid" and request["properties"]["resultCode"] == "500"
    assert request["url"] == "http://127.0.0.1:5001/score"
    stub.wait_for_message("printed in run")
    failure = stub.wait_for(stub.exceptions, 20, "an Exception")[0]
    assert failure["exceptions"][0]["typeName"] == "UserScriptException"
    assert "ValueError: boom" in failure["exceptions"][0]["stack"]
    assert failure["properties"]["Request Id"] == "rid"
    envelopes = stub.of_type("RequestData")
    assert envelopes[0]["tags"]["ai.operation.id"] == TRACEPARENT.split("-")[1]
    assert envelopes[0]["iKey"] == KEY


def test_otlp_gets_the_span_in_the_clients_trace(otlp, make):
    telemetry = make(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": otlp.url, "OTEL_BSP_SCHEDULE_DELAY": "200", "OTEL_BLRP_SCHEDULE_DELAY": "200"}
    )
    one_request(telemetry, traceparent=TRACEPARENT)
    span = otlp.wait_for(lambda: otlp.spans, 20, "a span")[0]
    assert trace_id_hex(span) == TRACEPARENT.split("-")[1]
    assert attributes(span)["Request Id"] == "rid" and attributes(span)["http.route"] == "/score"
    log = otlp.wait_for(lambda: otlp.logs, 20, "a log record")[0]
    assert trace_id_hex(log) == TRACEPARENT.split("-")[1]  # print() in run() belongs to the request


@pytest.mark.parametrize("mode", ["error", "hang"])
def test_broken_collector_blocks_no_call_and_shutdown_is_bounded(stub, make, mode):
    stub.mode = mode
    telemetry = make(app_insights_env(stub, OTEL_BSP_MAX_EXPORT_BATCH_SIZE="1"))
    slowest = 0.0
    for _ in range(50):
        begin = time.perf_counter()
        one_request(telemetry)
        slowest = max(slowest, time.perf_counter() - begin)
    stub.wait_for(lambda: stub.requests, 20, "an export attempt")
    # A call that waited on the collector would take the exporter's timeout (seconds); the 50 ms
    # bound on /score answers is checked against a baseline server in
    # test_app_insights.py::test_a_broken_collector_delays_no_answer.
    assert slowest < 1.0, slowest
    begin = time.monotonic()
    exporting = telemetry.exporting
    telemetry.exporting = None
    exporting.shutdown(1.0)
    assert time.monotonic() - begin < 3
