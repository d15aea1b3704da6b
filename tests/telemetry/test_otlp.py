"""OTLP from a real server: spans and logs reach an OTLP/HTTP receiver; a client's W3C
``traceparent`` continues its trace; the ``TraceId`` header is still echoed."""

from __future__ import annotations

import json

import pytest

from .receivers import attributes, trace_id_hex

pytestmark = pytest.mark.ours

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"

SCRIPT = """\
def init():
    pass


def run(data):
    print("otlp-run-print", data)
    return {"ok": True}
"""


def test_spans_and_logs_go_to_the_collector_in_the_clients_trace(server, otlp):
    srv = server.start(
        SCRIPT,
        env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp.url,
            "OTEL_SERVICE_NAME": "otlp-svc",
            "OTEL_BSP_SCHEDULE_DELAY": "200",
            "OTEL_BLRP_SCHEDULE_DELAY": "200",
        },
    )
    r = srv.score(
        json.dumps({"x": 1}), headers={"traceparent": TRACEPARENT, "TraceId": "office-1", "x-request-id": "rid-o"}
    )
    assert r.status_code == 200
    assert r.headers["TraceId"] == "office-1"
    span = otlp.wait_for(lambda: [s for s in otlp.spans if s["name"] == "/score"], 30, "the /score span")[0]
    assert trace_id_hex(span) == TRACE_ID
    assert span["kind"] == "SPAN_KIND_SERVER"
    attrs = attributes(span)
    assert attrs["Request Id"] == "rid-o" and attrs["http.request.method"] == "POST"
    assert int(attrs["http.response.status_code"]) == 200
    assert span["resource"]["service.name"] == "otlp-svc"
    log = otlp.wait_for(
        lambda: [entry for entry in otlp.logs if "otlp-run-print" in json.dumps(entry.get("body"))], 30, "the print()"
    )[0]
    assert trace_id_hex(log) == TRACE_ID


def test_a_request_without_traceparent_starts_its_own_trace(server, otlp):
    srv = server.start(
        SCRIPT, env={"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{otlp.url}/v1/traces", "OTEL_BSP_SCHEDULE_DELAY": "200"}
    )
    assert srv.score("{}").status_code == 200
    span = otlp.wait_for(lambda: otlp.spans, 30, "a span")[0]
    assert trace_id_hex(span) != TRACE_ID and "parent_span_id" not in span
    assert not otlp.logs  # logs were not asked for
