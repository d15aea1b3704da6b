"""POST/GET /score answered without Flask's request context (pipeline.py's direct path) must
look exactly like the Flask path; and a score.py that uses Flask itself keeps getting a
request context around run()."""

from __future__ import annotations

import json
import re

ECHO = """\
def init():
    pass


def run(data):
    return data
"""

USES_FLASK_REQUEST = """\
from flask import request


def init():
    pass


def run(data):
    return {"path": request.path, "agent": request.headers.get("X-Probe")}
"""

USES_FLASK_MODULE = """\
import flask


def init():
    pass


def run(data):
    return flask.jsonify(got=data)
"""


def test_direct_path_answers_like_the_flask_path(server):
    srv = server.start(ECHO)
    r = srv.post("/score", data=b'{"a": 1}', headers={"Content-Type": "application/json", "TraceId": "t-1"})
    assert r.status_code == 200
    assert r.json() == '{"a": 1}'
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["x-ms-run-function-failed"] == "False"
    assert re.fullmatch(r"\d+\.\d{3}", r.headers["x-ms-run-fn-exec-ms"])
    assert r.headers["TraceId"] == "t-1"
    assert r.headers["x-request-id"] == r.headers["x-ms-request-id"]
    r = srv.get("/score?a=1&b=x&b=y")
    assert r.status_code == 200
    assert json.loads(r.json()) == {"a": 1, "b": ["x", "y"]}
    r = srv.post("/score", data=b"\xff\xfe", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert r.json()["message"].startswith("Input cannot be decoded as UTF-8")
    assert r.headers["x-ms-run-function-failed"] == "False"
    srv.wait_for_log(re.compile(r"POST /score 200 \d+\.\d{3}ms 12$", re.M))
    srv.wait_for_log(re.compile(r"GET /score\?a=1&b=x&b=y 200 \d+\.\d{3}ms \d+$", re.M))


def test_run_that_uses_flask_request_gets_a_request_context(server):
    srv = server.start(USES_FLASK_REQUEST)
    r = srv.post("/score", data=b"{}", headers={"Content-Type": "application/json", "X-Probe": "p-1"})
    assert r.status_code == 200, r.text
    assert r.json() == {"path": "/score", "agent": "p-1"}


def test_run_that_uses_the_flask_module_gets_an_app_context(server):
    srv = server.start(USES_FLASK_MODULE)
    r = srv.post("/score", data=b"hi", headers={"Content-Type": "text/plain"})
    assert r.status_code == 200, r.text
    assert r.json() == {"got": "hi"}


def test_run_that_reaches_flask_request_through_a_helper_module_gets_a_request_context(server):
    # score.py itself never mentions Flask; its helper module does.
    srv = server.start(
        "import probe\n\ndef init():\n    pass\n\ndef run(data):\n    return probe.header()\n",
        files={"probe.py": "from flask import request\n\n\ndef header():\n    return request.headers.get('X-Probe')\n"},
    )
    r = srv.post("/score", data=b"{}", headers={"X-Probe": "via-helper"})
    assert r.status_code == 200, r.text
    assert r.json() == "via-helper"
