"""GET /readyz against real servers: 503 until every worker finished init(), 200 after, 503
while draining; SIGTERM: the request in flight finishes, new connections are refused.
"""

from __future__ import annotations

import http.client
import signal
import threading

import pytest
import requests

from azmlinfsrv import readiness
from azmlinfsrv.runners import DRAIN_SECONDS

from ._support import ServerFactory, connection_refused, free_port, wait_until

pytestmark = pytest.mark.ours

# The first worker to start passes init() at once; every other one waits for the file
# "release" in the app folder, so the test decides when the last init() is done.
GATED_INIT = """
import os
import time
from pathlib import Path

HERE = Path(__file__).parent


def init():
    try:
        os.close(os.open(HERE / "first", os.O_CREAT | os.O_EXCL))
        return
    except FileExistsError:
        pass
    while not (HERE / "release").exists():
        time.sleep(0.05)


def run(data):
    if data.startswith("slow:"):
        print("started", data)
        time.sleep(float(data[5:]))
    return {"pid": os.getpid()}
"""


def ready(url: str) -> requests.Response:
    return requests.get(url + "/readyz", timeout=10)


def test_readyz_is_503_until_every_worker_finished_init_then_200(server: ServerFactory) -> None:
    srv = server.start(GATED_INIT, "--worker_count", "2")  # returns once GET / answers: one worker is up
    not_yet = ready(srv.url)
    assert not_yet.status_code == 503
    assert not_yet.json() == {"message": readiness.STARTING_MESSAGE}
    assert not_yet.headers["x-ms-run-function-failed"] == "False"
    assert srv.get("/").text == "Healthy"  # liveness keeps the reference's behaviour

    (srv.app_dir / "release").touch()
    wait_until(lambda: ready(srv.url).status_code == 200, 30, "GET /readyz to answer 200", on_fail=srv.describe)
    assert ready(srv.url).json() == {"ready": True}


def test_readyz_on_the_separate_health_port(server: ServerFactory) -> None:
    health = free_port()
    srv = server.start(GATED_INIT, "--health_port", str(health), env={"SEPERATE_HEALTH_ENDPOINT": "true"}, wait=False)
    (srv.app_dir / "release").touch()
    url = f"http://127.0.0.1:{health}"

    def answered() -> bool:
        try:
            return ready(url).status_code == 200
        except requests.ConnectionError:
            return False

    wait_until(answered, 30, "GET /readyz on the health port", on_fail=srv.describe)


def test_sigterm_finishes_the_request_in_flight_refuses_new_connections_and_reports_draining(
    server: ServerFactory,
) -> None:
    srv = server.start(GATED_INIT)
    # The arbiter publishes readiness every few milliseconds: poll for the first 200.
    wait_until(lambda: ready(srv.url).status_code == 200, 10, "GET /readyz to answer 200", on_fail=srv.describe)
    idle = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)  # a keep-alive connection
    idle.request("GET", "/readyz")
    assert idle.getresponse().read() == b'{"ready": true}'

    result: dict[str, requests.Response] = {}
    sender = threading.Thread(target=lambda: result.setdefault("r", srv.score("slow:3", timeout=30)))
    sender.start()
    try:
        srv.wait_for_log("started slow:3")
        idle.request("GET", "/readyz")  # arrives while the only worker is busy
        srv.proc.send_signal(signal.SIGTERM)
        wait_until(lambda: connection_refused(srv.port), 2.5, "new connections to be refused", on_fail=srv.describe)
        assert sender.is_alive(), "the request in flight should still be running"
        draining = idle.getresponse()
        assert (draining.status, draining.read()) == (503, b'{"message": "%s"}' % readiness.DRAINING_MESSAGE.encode())
    finally:
        sender.join(30)
        idle.close()
    assert result["r"].status_code == 200
    assert srv.wait_exit(DRAIN_SECONDS) == 0


def test_init_failing_in_every_worker_exits_3(server: ServerFactory) -> None:
    """Several workers failing to boot at once: the contract's exit code, not 1 (gunicorn
    raises the boot error again while it stops)."""
    for _ in range(3):  # the workers' exits race with the arbiter's stop: try a few times
        srv = server.start("def init():\n    raise RuntimeError('no model')\n\ndef run(data):\n    return data\n",
                           "--worker_count", "4", wait=False)  # fmt: skip
        assert srv.wait_exit(30) == 3, srv.describe()
