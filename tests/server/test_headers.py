"""Request-id headers, TraceId, server version, and x-ms-run-function-failed."""

from __future__ import annotations

import re
import uuid

import pytest

from ._support import ECHO_SCRIPT, settings_line

TOO_LONG_REQUEST_ID = {"message": "x-request-id must not exceed 100 characters"}
TOO_LONG_CLIENT_ID = {"message": "x-ms-request-id and x-ms-client-request-id must not exceed 100 characters"}
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def test_request_id_headers(server):
    srv = server.start(ECHO_SCRIPT)

    # Nothing sent: a new UUID, also used as the legacy id; no client id.
    r = srv.score("{}")
    rid = r.headers["x-request-id"]
    assert UUID_RE.match(rid), rid
    assert r.headers["x-ms-request-id"] == rid
    assert "x-ms-client-request-id" not in r.headers
    assert srv.score("{}").headers["x-request-id"] != rid  # new per request

    # x-request-id is echoed, and is the fallback of the legacy id.
    r = srv.score("{}", headers={"x-request-id": "my-request-1"})
    assert r.headers["x-request-id"] == "my-request-1"
    assert r.headers["x-ms-request-id"] == "my-request-1"
    assert "x-ms-client-request-id" not in r.headers

    # A client id: echoed, and the legacy id falls back to it.
    r = srv.score("{}", headers={"x-request-id": "rid", "x-ms-client-request-id": "client-2"})
    assert r.headers["x-request-id"] == "rid"
    assert r.headers["x-ms-client-request-id"] == "client-2"
    assert r.headers["x-ms-request-id"] == "client-2"

    # A legacy id sent alone is echoed as both.
    r = srv.score("{}", headers={"x-ms-request-id": "legacy-3"})
    assert r.headers["x-ms-request-id"] == "legacy-3"
    assert r.headers["x-ms-client-request-id"] == "legacy-3"
    assert UUID_RE.match(r.headers["x-request-id"])
    srv.wait_for_log("x-ms-request-id header has been deprecated")

    # Both: each echoed as sent.
    r = srv.score("{}", headers={"x-ms-request-id": "legacy-4", "x-ms-client-request-id": "client-4"})
    assert r.headers["x-ms-request-id"] == "legacy-4"
    assert r.headers["x-ms-client-request-id"] == "client-4"

    # Exactly 100 characters is fine.
    r = srv.score("{}", headers={"x-request-id": "r" * 100, "x-ms-client-request-id": "c" * 100})
    assert r.status_code == 200
    assert r.headers["x-request-id"] == "r" * 100

    # The health probe carries them too.
    r = srv.get("/", headers={"x-request-id": "health-5"})
    assert r.headers["x-request-id"] == "health-5"


def test_request_id_too_long_is_431(server):
    srv = server.start(ECHO_SCRIPT)
    for path, method in (("/score", "POST"), ("/score", "GET"), ("/", "GET"), ("/swagger.json", "GET")):
        r = srv.request(method, path, headers={"x-request-id": "r" * 101})
        assert r.status_code == 431, (method, path)
        assert r.headers["Content-Type"] == "application/json"
        assert r.json() == TOO_LONG_REQUEST_ID
        assert r.headers["x-ms-run-function-failed"] == "False"
    for header in ("x-ms-client-request-id", "x-ms-request-id"):
        r = srv.score("{}", headers={header: "c" * 101})
        assert r.status_code == 431, header
        assert r.json() == TOO_LONG_CLIENT_ID, header


def test_trace_id_and_server_version(server):
    srv = server.start(ECHO_SCRIPT)
    version = settings_line(srv.logs(), "Inferencing HTTP server version")
    assert re.fullmatch(r"azmlinfsrv/\d+\.\d+\.\d+\S*", version or ""), srv.logs()
    r = srv.score("{}", headers={"TraceId": "trace-abc"})
    assert r.headers["TraceId"] == "trace-abc"
    assert r.headers["x-ms-server-version"] == version
    assert srv.get("/").headers["x-ms-server-version"] == version
    assert "TraceId" not in srv.score("{}").headers
    assert re.fullmatch(r"\d+\.\d{3}", r.headers["x-ms-run-fn-exec-ms"])
    assert "x-ms-run-fn-exec-ms" not in srv.get("/").headers


@pytest.mark.parametrize("value,sent", [("false", False), ("no", False), ("TRUE", True), ("true", True)])
def test_server_version_header_switch(server, value, sent):
    srv = server.start(ECHO_SCRIPT, env={"SERVER_VERSION_LOG_RESPONSE_ENABLED": value})
    r = srv.score("{}")
    assert r.status_code == 200
    assert ("x-ms-server-version" in r.headers) is sent
    if sent:
        assert r.headers["x-ms-server-version"].startswith("azmlinfsrv/")


def test_run_function_failed_on_every_json_answer(server):
    srv = server.start(ECHO_SCRIPT)
    answers = {
        "score": srv.score("{}"),
        "swagger": srv.get("/swagger.json"),
        "swagger-404": srv.get("/swagger.json?version=9"),
        "404": srv.get("/nowhere"),
        "405": srv.request("PUT", "/score"),
        "431": srv.score("{}", headers={"x-request-id": "x" * 101}),
        "options": srv.request("OPTIONS", "/score"),
        "400": srv.score(b"\xff"),
    }
    for name, r in answers.items():
        assert r.headers.get("x-ms-run-function-failed") == "False", (name, r.status_code, dict(r.headers))


def test_run_function_failed_on_415(server):
    srv = server.start("""\
        from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
        from inference_schema.schema_decorators import input_schema


        def init():
            pass


        @input_schema("x", StandardPythonParameterType(1))
        def run(x):
            return x
        """)
    r = srv.score("1", headers={"Content-Type": "text/plain"})
    assert r.status_code == 415
    assert r.headers["x-ms-run-function-failed"] == "False"


@pytest.mark.ours
def test_headers_on_routing_errors(server):
    srv = server.start(ECHO_SCRIPT)
    for r in (
        srv.get("/nowhere", headers={"x-request-id": "rid-404", "TraceId": "t"}),
        srv.request("DELETE", "/score", headers={"x-request-id": "rid-404", "TraceId": "t"}),
    ):
        assert r.status_code in (404, 405)
        assert r.headers["x-request-id"] == "rid-404"
        assert r.headers["x-ms-request-id"] == "rid-404"
        assert r.headers["TraceId"] == "t"
        assert r.headers["x-ms-server-version"].startswith("azmlinfsrv/")
        assert r.headers["x-ms-run-function-failed"] == "False"
    r = srv.get("/nowhere")
    assert UUID_RE.match(r.headers["x-request-id"])
    assert r.headers["x-ms-request-id"] == r.headers["x-request-id"]
    uuid.UUID(r.headers["x-request-id"])
