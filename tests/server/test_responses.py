"""What run() returns and how it reaches the client; run() failures and the scoring timeout."""

from __future__ import annotations

import re

import requests

RETURNS_SCRIPT = """\
import time

import flask
from azureml.contrib.services.aml_response import AMLResponse


def init():
    pass


def stream():
    for i in range(5):
        yield f"chunk{i};"


def run(data):
    kind, _, arg = data.partition(":")
    if kind == "none":
        return None
    if kind == "str":
        return "just a string"
    if kind == "dict":
        return {"a": 1, "b": [1, 2, None]}
    if kind == "list":
        return [1, "two", 3.5]
    if kind == "int":
        return 42
    if kind == "flask":
        return flask.Response("flask body", status=int(arg or 201), headers={"X-From-Run": "yes"},
                              mimetype="text/plain")
    if kind == "aml-text":
        return AMLResponse("aml text", 202)
    if kind == "aml-json":
        return AMLResponse({"k": "v"}, 200, json_str=True)
    if kind == "aml-bytes":
        return AMLResponse(bytes(range(256)), 200, {"Content-Type": "application/octet-stream"})
    if kind == "aml-list":
        return AMLResponse(["part1-", "part2"], 200)
    if kind == "aml-none":
        return AMLResponse(None, 200)
    if kind == "aml-headers":
        return AMLResponse("h", 200, {"X-Multi": "a, b,c", "X-Single": "one"})
    if kind == "aml-failed":
        return AMLResponse("bad", 400, run_function_failed=True)
    if kind == "aml-500":
        return AMLResponse("server side", 503)
    if kind == "stream":
        return AMLResponse(stream(), 200, {"Content-Type": "text/plain"})
    if kind == "raise":
        raise ValueError("boom-marker-7")
    if kind == "sleep":
        time.sleep(float(arg))
        return "slept"
    return "unknown"
"""


def test_plain_return_values_are_json(server):
    srv = server.start(RETURNS_SCRIPT)
    for kind, expected in [
        ("none", {}),
        ("str", "just a string"),
        ("dict", {"a": 1, "b": [1, 2, None]}),
        ("list", [1, "two", 3.5]),
        ("int", 42),
    ]:
        r = srv.score(kind)
        assert r.status_code == 200, kind
        assert r.headers["Content-Type"] == "application/json", kind
        assert r.json() == expected, kind
        assert r.headers["x-ms-run-function-failed"] == "False", kind
        assert re.fullmatch(r"\d+\.\d{3}", r.headers["x-ms-run-fn-exec-ms"]), kind
    assert srv.score("none").content == b"{}"
    assert srv.score("str").content == b'"just a string"'


def test_response_objects_go_out_as_is(server):
    srv = server.start(RETURNS_SCRIPT)
    r = srv.score("flask:201")
    assert (r.status_code, r.text, r.headers["X-From-Run"]) == (201, "flask body", "yes")
    assert r.headers["Content-Type"].startswith("text/plain")
    assert "x-ms-run-function-failed" not in r.headers  # a plain flask.Response below 500 is untouched
    assert re.fullmatch(r"\d+\.\d{3}", r.headers["x-ms-run-fn-exec-ms"])

    r = srv.score("flask:503")
    assert r.status_code == 503
    assert r.headers["x-ms-run-function-failed"] == "True"

    r = srv.score("aml-500")
    assert (r.status_code, r.text) == (503, "server side")
    assert r.headers["x-ms-run-function-failed"] == "True"

    r = srv.score("aml-text")
    assert (r.status_code, r.text) == (202, "aml text")
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"  # Flask's default
    assert r.headers["x-ms-run-function-failed"] == "False"

    r = srv.score("aml-json")
    assert r.headers["Content-Type"] == "application/json"
    assert r.content == b'{"k": "v"}'

    r = srv.score("aml-bytes")
    assert r.content == bytes(range(256))
    assert r.raw.headers.getlist("Content-Type") == ["application/octet-stream"]

    r = srv.score("aml-list")
    assert (r.status_code, r.text) == (200, "part1-part2")

    r = srv.score("aml-none")
    assert (r.status_code, r.content, r.headers["Content-Type"]) == (200, b"{}", "application/json")

    r = srv.score("aml-failed")
    assert r.status_code == 400
    assert r.headers["x-ms-run-function-failed"] == "True"


def test_comma_header_values_become_repeated_headers(server):
    srv = server.start(RETURNS_SCRIPT)
    r = srv.score("aml-headers")
    assert r.raw.headers.getlist("X-Multi") == ["a", "b", "c"]
    assert r.raw.headers.getlist("X-Single") == ["one"]


def test_generator_streams_chunked(server):
    srv = server.start(RETURNS_SCRIPT)
    r = srv.score("stream", stream=True)
    assert r.status_code == 200
    assert r.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in r.headers
    assert r.content == b"".join(f"chunk{i};".encode() for i in range(5))
    srv.wait_for_log(re.compile(r"azmlinfsrv - POST /score 200 \d+\.\d{3}ms N/A$", re.M))


def test_exception_in_run_is_500_with_log(server):
    srv = server.start(RETURNS_SCRIPT)
    r = srv.score("raise")
    assert r.status_code == 500
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"message": "An unexpected error occurred in scoring script. Check the logs for more info."}
    assert r.headers["x-ms-run-function-failed"] == "True"
    srv.wait_for_log("ValueError: boom-marker-7")
    logs = srv.logs()
    assert "Traceback (most recent call last)" in logs
    assert "in run\n" in logs
    srv.wait_for_log(re.compile(r"POST /score 500 \d+\.\d{3}ms \d+$", re.M))
    # The worker goes on serving.
    assert srv.score("str").json() == "just a string"


def test_scoring_timeout(server):
    srv = server.start(RETURNS_SCRIPT, env={"SCORING_TIMEOUT_MS": "500"})
    assert "Scoring timeout is set to 500" in srv.logs()
    r = srv.score("sleep:5", timeout=15)
    assert r.status_code == 500
    assert r.json() == {"message": "Scoring timeout after 500 ms"}
    assert r.headers["x-ms-run-function-failed"] == "True"
    assert r.elapsed.total_seconds() < 4
    # A quick run still works after the timeout.
    assert srv.score("sleep:0").json() == "slept"


def test_worker_timeout_kills_a_stuck_worker(server):
    srv = server.start(RETURNS_SCRIPT, env={"WORKER_TIMEOUT": "2"})
    first_pid = int(srv.wait_for_log(re.compile(r"Worker with pid (\d+) ready")).group(1))
    try:
        r = srv.score("sleep:20", timeout=15)
    except requests.ConnectionError:
        pass  # the worker was killed under the request
    else:
        assert r.status_code >= 500, r.text
    # A new worker replaces the killed one and serves again.
    srv.wait_for_log(re.compile(r"Worker with pid (\d+) ready"), count=2, timeout=30)
    assert srv.score("str").json() == "just a string"
    pids = {int(m) for m in re.findall(r"Worker with pid (\d+) ready", srv.logs())}
    assert first_pid in pids and len(pids) == 2
