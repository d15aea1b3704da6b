"""Application Insights from real servers: the real Azure Monitor exporter sends to a local
ingestion stub (``IngestionEndpoint=http://127.0.0.1:PORT``), and the envelopes it receives
are the reference's: a Request per call, Messages for print(), Exceptions for failures,
model data records."""

from __future__ import annotations

import json
import textwrap

import pytest
import requests

from ..server._support import wait_until
from .conftest import KEY, app_insights_env

pytestmark = pytest.mark.ours

SCRIPT = """\
import json


def init():
    print("init-print-marker")


def run(data):
    q = json.loads(data)
    print("run-print-marker", q.get("n"))
    if q.get("fail"):
        raise ValueError("boom-from-run")
    return {"echo": q}
"""


def start(server, stub, tmp_path, *args, script=SCRIPT, **env):
    """A server sending to ``stub``; the exporter's offline storage in the test's folder."""
    return server.start(
        script,
        "--appinsights_instrumentation_key",
        KEY,
        *args,
        env=app_insights_env(
            stub, TMPDIR=str(tmp_path), HOSTNAME="box-1", WORKSPACE_NAME="ws-1", SERVICE_NAME="svc-1", **env
        ),
    )


def test_requests_messages_and_exceptions_as_the_reference_sends_them(server, stub, tmp_path):
    srv = start(server, stub, tmp_path)
    ok = srv.score(json.dumps({"n": 1}), headers={"x-request-id": "rid-ok", "x-ms-client-request-id": "cid-ok"})
    failed = srv.score(json.dumps({"fail": 1}), headers={"x-request-id": "rid-fail"})
    assert (ok.status_code, failed.status_code) == (200, 500)
    assert srv.get("/swagger.json", params={"version": "9"}).status_code == 404

    by_id = {r["properties"]["Request Id"]: r for r in stub.wait_for_request("/score", count=2)}
    request = by_id["rid-ok"]
    assert request["properties"] == {
        "Container Id": "box-1",
        "Request Id": "rid-ok",
        "Client Request Id": "cid-ok",
        "Response Value": ok.text,
        "name": "/score",
        "url": f"{srv.url}/score",
        "start_time": request["properties"]["start_time"],
        "duration": request["properties"]["duration"],
        "resultCode": "200",
        "success": "True",
        "http_method": "POST",
        "Workspace Name": "ws-1",
        "Service Name": "svc-1",
    }
    assert request["properties"]["start_time"].endswith("Z")
    assert (request["responseCode"], request["success"]) == ("200", True)
    failure = by_id["rid-fail"]
    assert (failure["properties"]["resultCode"], failure["properties"]["success"]) == ("500", "False")
    assert (failure["responseCode"], failure["success"]) == ("500", False)  # the reference sends "0"/true
    swagger = stub.wait_for_request("/swagger.json")[0]
    assert (swagger["responseCode"], swagger["success"]) == ("404", False)
    assert not stub.requests_named("/")  # the liveness probe is not sent, as on the reference

    stub.wait_for_message("init-print-marker")
    assert stub.wait_for_message("run-print-marker 1")["severityLevel"] in (1, "1")
    exception = stub.wait_for(stub.exceptions, 30, "an Exception")[0]
    detail = exception["exceptions"][0]
    assert detail["typeName"] == "UserScriptException"
    assert "ValueError: boom-from-run" in detail["stack"]
    assert "The above exception was the direct cause" in detail["stack"]
    assert exception["properties"]["Request Id"] == "rid-fail"
    assert "'Request Id': 'rid-fail'" in exception["properties"]["custom_dimensions"]

    logs = srv.logs()
    assert "Starting up app insights client" in logs
    assert KEY not in logs
    assert all(e["iKey"] == KEY for e in stub.envelopes)


def test_model_data_collection_records(server, stub, tmp_path):
    srv = start(server, stub, tmp_path, AML_MODEL_DC_STORAGE_ENABLED="true")
    assert srv.score(json.dumps({"n": 7}), headers={"x-request-id": "rid-mdc"}).status_code == 200
    record = stub.wait_for_message("model_data_collection")
    props = record["properties"]
    assert props["Request Id"] == "rid-mdc"
    assert json.loads(props["Input"]) == json.dumps({"n": 7})  # the raw body, JSON-encoded as the reference does
    assert json.loads(props["Prediction"]) == {"echo": {"n": 7}}
    assert "'Request Id': 'rid-mdc'" in props["custom_dimensions"]


def test_no_model_data_unless_enabled_and_no_response_value_when_disabled(server, stub, tmp_path):
    srv = start(server, stub, tmp_path, APP_INSIGHTS_LOG_RESPONSE_ENABLED="false")
    assert srv.score(json.dumps({"n": 2}), headers={"x-request-id": "rid-2"}).status_code == 200
    request = stub.wait_for_request("/score")[0]
    assert "Response Value" not in request["properties"]
    stub.wait_for_message("run-print-marker 2")
    assert not [m for m in stub.messages() if m["message"] == "model_data_collection"]


def test_init_failure_is_sent_before_the_worker_exits(server, stub, tmp_path):
    script = "def init():\n    raise RuntimeError('init-broke')\n\n\ndef run(data):\n    return data\n"
    srv = server.start(
        script,
        "--appinsights_instrumentation_key",
        KEY,
        env=app_insights_env(stub, TMPDIR=str(tmp_path)),
        wait=False,
    )
    assert srv.wait_exit(60) == 3
    exception = stub.wait_for(stub.exceptions, 10, "an Exception")[0]
    assert exception["exceptions"][0]["typeName"] == "UserScriptException"
    assert "RuntimeError: init-broke" in exception["exceptions"][0]["stack"]
    assert exception["properties"]["Request Id"] == "Unknown"


def test_connection_string_alone_and_never_printed(server, stub, tmp_path):
    env = app_insights_env(stub, TMPDIR=str(tmp_path))
    srv = server.start(SCRIPT, env=env)
    assert srv.score(json.dumps({"n": 3})).status_code == 200
    stub.wait_for_request("/score")
    assert KEY not in srv.logs() and stub.url not in srv.logs()


def test_a_key_without_the_extra_installed_says_what_to_install(server, tmp_path):
    # Hide the exporter from the server's Python, as if azmlinfsrv[appinsights] were not installed.
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        textwrap.dedent("""\
        import sys

        class _Hide:
            def find_spec(self, name, path=None, target=None):
                if name == "azure.monitor" or name.startswith("azure.monitor."):
                    raise ModuleNotFoundError(name)
                return None

        sys.meta_path.insert(0, _Hide())
        """)
    )
    from ..server._support import SERVER_SRC

    srv = server.start(
        SCRIPT,
        "--appinsights_instrumentation_key",
        KEY,
        "--worker_count",
        "2",
        env={"PYTHONPATH": f"{SERVER_SRC}:{blocker}"},
    )
    assert srv.score(json.dumps({"n": 1})).status_code == 200
    lines = [line for line in srv.log_lines() if "azmlinfsrv[appinsights]" in line]
    assert len(lines) == 1, srv.logs()
    assert "pip install 'azmlinfsrv[appinsights]'" in lines[0]


def _latencies(url: str, count: int) -> list[float]:
    import time

    times = []
    with requests.Session() as session:
        for i in range(count):
            begin = time.perf_counter()
            r = session.post(url + "/score", data=json.dumps({"n": i}), timeout=30)
            times.append(time.perf_counter() - begin)
            assert r.status_code == 200
    return times


@pytest.mark.parametrize("mode", ["error", "hang"])
def test_a_broken_collector_delays_no_answer(server, stub, tmp_path, mode):
    """Interleaved rounds against a server without telemetry and one whose collector answers
    500 or never answers: the broken one's answers are no slower, quantile by quantile,
    beyond 50 ms (interleaving makes both see the same machine load)."""
    stub.mode = mode
    plain = server.start(SCRIPT)
    broken = start(server, stub, tmp_path, OTEL_BSP_MAX_EXPORT_BATCH_SIZE="1", OTEL_BLRP_MAX_EXPORT_BATCH_SIZE="1")
    baseline, observed = [], []
    for _ in range(8):
        baseline += _latencies(plain.url, 10)
        observed += _latencies(broken.url, 10)
    wait_until(lambda: stub.requests, 20, "the exporter to try sending")
    baseline.sort()
    observed.sort()
    worst = max(o - b for o, b in zip(observed, baseline, strict=True))
    assert worst < 0.05, (worst, observed[-5:], baseline[-5:])
    if mode == "hang":
        import signal
        import time

        begin = time.monotonic()
        broken.proc.send_signal(signal.SIGTERM)
        broken.wait_exit(20)
        assert time.monotonic() - begin < 12  # the flush gives up after its bound (5 s)
