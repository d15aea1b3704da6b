"""Core behaviour under each HTTP front: the default, and our `--server gunicorn|waitress`.

The reference has no `--server` flag, so against it only the default variant runs.
"""

from __future__ import annotations

import json
import re
import socket

import pytest

from ._support import LOG_LINE_RE, lines_with

RUNNERS = [
    pytest.param([], id="default"),
    pytest.param(["--server", "gunicorn"], id="gunicorn", marks=pytest.mark.ours),
    pytest.param(["--server", "waitress"], id="waitress", marks=pytest.mark.ours),
]

CORE_SCRIPT = """\
import os
import time


def init():
    print("core-init-print")


def run(data):
    if data == "raise":
        raise RuntimeError("core-run-boom")
    if data.startswith("sleep:"):
        time.sleep(float(data[6:]))
    return {"data": data, "pid": os.getpid()}
"""


@pytest.fixture(params=RUNNERS)
def runner_args(request) -> list[str]:
    return request.param


def test_core_behaviour(server, runner_args):
    srv = server.start(CORE_SCRIPT, *runner_args)
    r = srv.get("/")
    assert (r.status_code, r.text) == (200, "Healthy")

    r = srv.score("hello", headers={"x-request-id": "core-rid", "x-ms-client-request-id": "core-client"})
    assert r.status_code == 200
    assert r.json()["data"] == "hello"
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["x-request-id"] == "core-rid"
    assert r.headers["x-ms-request-id"] == "core-client"
    assert r.headers["x-ms-client-request-id"] == "core-client"
    assert r.headers["x-ms-run-function-failed"] == "False"
    assert r.headers["x-ms-server-version"].startswith("azmlinfsrv/")
    assert re.fullmatch(r"\d+\.\d{3}", r.headers["x-ms-run-fn-exec-ms"])
    pid = r.json()["pid"]
    srv.wait_for_log(
        re.compile(rf"^.* I \[{pid}\] azmlinfsrv - POST /score 200 \d+\.\d{{3}}ms {len(r.content)}$", re.M)
    )

    r = srv.get("/score?a=1&a=2")
    assert r.json()["data"] == json.dumps({"a": [1, 2]})
    assert re.match(r"^[0-9a-f-]{36}$", r.headers["x-request-id"])

    r = srv.get("/not-here")
    assert r.status_code == 404
    assert r.json()["message"].startswith("The requested URL was not found on the server.")
    assert srv.request("DELETE", "/score").status_code == 405
    assert srv.score("x", headers={"x-request-id": "y" * 101}).status_code == 431

    r = srv.score("raise")
    assert r.status_code == 500
    assert r.json() == {"message": "An unexpected error occurred in scoring script. Check the logs for more info."}
    assert r.headers["x-ms-run-function-failed"] == "True"
    srv.wait_for_log("RuntimeError: core-run-boom")
    assert srv.score("again").json()["data"] == "again"

    logs = srv.logs()
    printed = lines_with(logs, "core-init-print")
    assert len(printed) == 1 and LOG_LINE_RE.match(printed[0]), logs
    assert f"Worker with pid {pid} ready for serving traffic" in logs


def test_scoring_timeout(server, runner_args):
    srv = server.start(CORE_SCRIPT, *runner_args, env={"SCORING_TIMEOUT_MS": "500"})
    r = srv.score("sleep:5", timeout=15)
    assert (r.status_code, r.json()) == (500, {"message": "Scoring timeout after 500 ms"})
    assert r.headers["x-ms-run-function-failed"] == "True"
    assert srv.score("sleep:0").status_code == 200


@pytest.mark.parametrize("failure", ["import", "init"])
def test_start_failure_exits_3(server, runner_args, failure):
    source = (
        "raise ImportError('core-import-boom')\n"
        if failure == "import"
        else "def init():\n    raise RuntimeError('core-init-boom')\n\ndef run(data):\n    return data\n"
    )
    srv = server.start(source, *runner_args, wait=False)
    assert srv.wait_exit(30) == 3, srv.describe()
    assert f"core-{failure}-boom" in srv.logs()


def test_stops_on_sigterm(server, runner_args):
    srv = server.start(CORE_SCRIPT, *runner_args)
    srv.proc.terminate()
    srv.wait_exit(15)
    with socket.socket() as s:
        s.settimeout(2)
        assert s.connect_ex(("127.0.0.1", srv.port)) != 0
