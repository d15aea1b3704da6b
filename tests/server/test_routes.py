"""Routes, health endpoint(s), CORS, worker processes, and a busy port."""

from __future__ import annotations

import json
import os
import re
import socket
import threading

import pytest
import requests

from ._support import ECHO_SCRIPT, clean_env, free_port, port_is_free, wait_until, write_files

NOT_FOUND = {
    "message": "The requested URL was not found on the server. If you entered the URL manually please "
    "check your spelling and try again."
}
NOT_ALLOWED = {"message": "The method is not allowed for the requested URL."}


def test_routes_and_error_bodies(server):
    srv = server.start(ECHO_SCRIPT)
    r = srv.get("/")
    assert (r.status_code, r.text) == (200, "Healthy")

    for path in ("/nope", "/score/extra", "/swagger", "/scores"):
        r = srv.get(path)
        assert r.status_code == 404, path
        assert r.headers["Content-Type"] == "application/json"
        assert r.json() == NOT_FOUND, path
    assert srv.post("/nope", data="x").json() == NOT_FOUND

    for method in ("PUT", "DELETE", "PATCH"):
        r = srv.request(method, "/score", data="x")
        assert r.status_code == 405, method
        assert r.headers["Content-Type"] == "application/json"
        assert r.json() == NOT_ALLOWED, method
    r = srv.post("/", data="x")
    assert (r.status_code, r.json()) == (405, NOT_ALLOWED)

    # HEAD /score reaches the score route and is refused there; the body is not sent for HEAD,
    # but its length is announced.
    r = srv.request("HEAD", "/score")
    assert r.status_code == 405
    assert r.headers["Content-Type"] == "application/json"
    assert int(r.headers["Content-Length"]) == len(json.dumps({"message": "Method not allowed"}))
    srv.wait_for_log(re.compile(r"HEAD /score 405 \d+\.\d{3}ms 33$", re.M))

    r = srv.request("OPTIONS", "/score")
    assert (r.status_code, r.content) == (200, b"")

    # GET and POST /score both reach run().
    assert srv.get("/score").status_code == 200
    assert srv.score("{}").status_code == 200


def test_separate_health_port(server):
    health = free_port()
    srv = server.start(ECHO_SCRIPT, "--health_port", str(health), env={"SEPERATE_HEALTH_ENDPOINT": "true"})
    r = requests.get(f"http://127.0.0.1:{health}/", timeout=10)
    assert (r.status_code, r.text) == (200, "Healthy")
    assert srv.get("/").text == "Healthy"
    env = srv.score(json.dumps({"env": ["HEALTH_PORT", "SERVER_PORT"]})).json()["env"]
    assert env == {"HEALTH_PORT": str(health), "SERVER_PORT": str(srv.port)}


def test_separate_health_port_defaults_to_5000(server):
    if not port_is_free(5000):
        pytest.skip("port 5000 (the default health port) is busy on this machine")
    srv = server.start(ECHO_SCRIPT, env={"SEPERATE_HEALTH_ENDPOINT": "true", "HEALTH_PORT": "5999"})
    wait_until(lambda: _healthy("http://127.0.0.1:5000/"), 10, "GET :5000/ to answer", on_fail=srv.describe)
    env = srv.score(json.dumps({"env": ["HEALTH_PORT"]})).json()["env"]
    assert env == {"HEALTH_PORT": "5000"}


def _healthy(url: str) -> bool:
    try:
        r = requests.get(url, timeout=2)
    except requests.RequestException:
        return False
    return r.status_code == 200 and r.text == "Healthy"


def test_health_port_flag_without_separate_endpoint_opens_nothing(server):
    health = free_port()
    srv = server.start(ECHO_SCRIPT, "--health_port", str(health))
    with socket.socket() as s:
        s.settimeout(2)
        assert s.connect_ex(("127.0.0.1", health)) != 0
    env = srv.score(json.dumps({"env": ["HEALTH_PORT"]})).json()["env"]
    assert env == {"HEALTH_PORT": str(srv.port)}


def test_cors_headers_for_allowed_origins(server):
    srv = server.start(ECHO_SCRIPT, "--access_control_allow_origins", "http://a.example, http://b.example")
    r = srv.score("{}", headers={"Origin": "http://b.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "http://b.example"
    r = srv.get("/score", headers={"Origin": "http://a.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "http://a.example"
    r = srv.score("{}", headers={"Origin": "http://evil.example"})
    assert r.status_code == 200
    assert "Access-Control-Allow-Origin" not in r.headers
    # Pre-flight.
    r = srv.request(
        "OPTIONS", "/score", headers={"Origin": "http://a.example", "Access-Control-Request-Method": "POST"}
    )
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "http://a.example"
    assert "POST" in r.headers.get("Access-Control-Allow-Methods", "")


def test_cors_from_environment(server):
    srv = server.start(ECHO_SCRIPT, env={"AML_CORS_ORIGINS": "http://env.example"})
    r = srv.score("{}", headers={"Origin": "http://env.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "http://env.example"


def test_cors_without_flask_cors_says_so_and_serves(server, tmp_path):
    # Make `import flask_cors` fail as if the package were not installed.
    blocker = tmp_path / "no_flask_cors"
    write_files(blocker, {"flask_cors.py": "raise ModuleNotFoundError(\"No module named 'flask_cors'\")\n"})
    pythonpath = os.pathsep.join(p for p in [str(blocker), clean_env().get("PYTHONPATH", "")] if p)
    srv = server.start(
        ECHO_SCRIPT, "--access_control_allow_origins", "http://a.example", env={"PYTHONPATH": pythonpath}
    )
    assert "CORS cannot be enabled because the flask-cors package is not installed" in srv.logs()
    r = srv.score("{}", headers={"Origin": "http://a.example"})
    assert r.status_code == 200
    assert "Access-Control-Allow-Origin" not in r.headers


def test_two_workers_have_distinct_pids(server):
    srv = server.start(ECHO_SCRIPT, "--worker_count", "2")
    srv.wait_for_log(re.compile(r"Worker with pid \d+ ready for serving traffic"), count=2)
    ready = {int(p) for p in re.findall(r"Worker with pid (\d+) ready for serving traffic", srv.logs())}
    assert len(ready) == 2

    # Two requests at once: each sync worker takes one.
    seen: set[int] = set()
    for _attempt in range(3):
        results: list[int] = []

        def call(results: list[int] = results) -> None:
            results.append(srv.score(json.dumps({"pid": 1, "sleep": 1.0})).json()["pid"])

        threads = [threading.Thread(target=call) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        seen.update(results)
        if len(seen) == 2:
            break
    assert seen == ready
    assert srv.pid not in seen  # the workers are not the process we started


def test_port_in_use_exits_non_zero_with_a_clear_message(server):
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        srv = server.start(ECHO_SCRIPT, port=port, wait=False)
        rc = srv.wait_exit(15)
    assert rc != 0, srv.describe()
    logs = srv.logs()
    assert "already in use" in logs, srv.describe()
    assert "Traceback" not in logs, srv.describe()


@pytest.mark.ours
def test_request_body_limit(server):
    srv = server.start(ECHO_SCRIPT, env={"AZMLINFSRV_MAX_REQUEST_BYTES": "1000"})
    r = srv.score("x" * 2000)
    assert r.status_code == 413
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"message": "Request body exceeds the limit of 1000 bytes."}
    assert r.headers["x-ms-run-function-failed"] == "False"
    assert r.headers["x-request-id"]
    # The worker still serves the next request, also one just below the limit.
    assert srv.score("{}").status_code == 200
    assert srv.score(json.dumps({"pad": "y" * 900})).status_code == 200


@pytest.mark.ours
def test_request_body_limit_applies_to_chunked_bodies(server):
    srv = server.start(ECHO_SCRIPT, env={"AZMLINFSRV_MAX_REQUEST_BYTES": "1000"})

    def chunks():
        for _ in range(4):
            yield b"x" * 500

    r = srv.score(chunks())
    assert r.status_code == 413
    assert r.json() == {"message": "Request body exceeds the limit of 1000 bytes."}
    assert srv.score("{}").status_code == 200
