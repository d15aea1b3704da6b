"""The serving image, built with podman from a registry-free base and run as deploy/ runs it.

Skipped, with one line saying why, where podman cannot run (``make test-image`` installs it).
"""

from __future__ import annotations

import json
import threading

import pytest
import requests

from ..server._support import connection_refused, wait_until
from . import serving
from .podman import podman

SCORE_PY = """
    import json
    import os
    import time
    from pathlib import Path

    greeting = None


    def init():
        global greeting
        greeting = (Path(os.environ["AZUREML_MODEL_DIR"]) / "greeting.txt").read_text().strip()


    def _writable(folder):
        probe = os.path.join(folder, ".azmlinfsrv-probe")
        try:
            with open(probe, "w"):
                pass
        except OSError:
            return False
        os.remove(probe)
        return True


    def run(raw_data):
        data = json.loads(raw_data or "{}")
        if "sleep" in data:
            print("scoring started", flush=True)
            time.sleep(data["sleep"])
        with open("/proc/1/cmdline", "rb") as f:
            pid1 = [part.decode() for part in f.read().split(b"\\0") if part]
        folders = ["/", "/tmp", "/var/tmp", "/run", "/var/azureml-app", "/opt/azmlinfsrv"]
        folders.append(os.environ["AZUREML_MODEL_DIR"])
        return {
            "greeting": greeting,
            "uid": os.getuid(),
            "gid": os.getgid(),
            "pid1": pid1,
            "writable": {folder: _writable(folder) for folder in folders},
        }
"""
MODEL = {"greeting.txt": "Hello from the model folder\n"}
IN_FLIGHT_SECONDS = 3.0  # how long the request that SIGTERM interrupts still has to run

pytestmark = pytest.mark.usefixtures("podman_ready")


def test_serves_as_non_root_on_a_read_only_root(containers):
    box = containers.start(SCORE_PY, MODEL)
    live = box.request("GET", serving.LIVENESS_PATH)
    assert (live.status_code, live.text) == (200, "Healthy")

    scored = box.request("POST", serving.SCORING_PATH, data="{}")
    assert scored.status_code == 200, box.describe()
    body = scored.json()
    assert body["greeting"] == "Hello from the model folder"
    assert (body["uid"], body["gid"]) == (1000, 1000)
    writable = {folder for folder, ok in body["writable"].items() if ok}
    assert writable == {"/tmp"}, body["writable"]
    # PID 1 is the server itself (the shell of the default command exec'd it), so SIGTERM
    # reaches gunicorn's arbiter directly.
    assert "azmlinfsrv" in " ".join(body["pid1"]) and not body["pid1"][0].endswith("sh"), body["pid1"]

    health = podman("healthcheck", "run", box.cid, check=False)
    assert health.returncode == 0, f"HEALTHCHECK failed: {health.stdout}{health.stderr}\n{box.describe()}"


def test_sigterm_refuses_new_connections_lets_the_request_in_flight_finish_and_exits_0(containers):
    box = containers.start(SCORE_PY, MODEL)
    answers: list[requests.Response | BaseException] = []
    stopped: list[tuple[float, int]] = []

    def score() -> None:
        try:
            answers.append(box.request("POST", serving.SCORING_PATH, data=json.dumps({"sleep": IN_FLIGHT_SECONDS})))
        except BaseException as ex:  # reported below, in the test's thread
            answers.append(ex)

    client = threading.Thread(target=score)
    stopper = threading.Thread(target=lambda: stopped.append(box.stop(serving.TERMINATION_GRACE_SECONDS)))
    client.start()
    try:
        box.wait_for_log("scoring started")
        stopper.start()
        wait_until(
            lambda: connection_refused(box.port),
            IN_FLIGHT_SECONDS,
            "new connections to be refused",
            on_fail=box.describe,
        )
        assert client.is_alive(), "the request in flight should still be running"
    finally:
        client.join(timeout=serving.TERMINATION_GRACE_SECONDS + 30)
        if stopper.is_alive() or stopper.ident is not None:
            stopper.join(timeout=serving.TERMINATION_GRACE_SECONDS + 60)
    ((elapsed, exit_code),) = stopped
    print(f"\npodman stop with a request in flight: {elapsed:.1f} s, exit code {exit_code}")

    assert answers and isinstance(answers[0], requests.Response), answers
    assert answers[0].status_code == 200, answers[0].text
    assert answers[0].json()["greeting"] == "Hello from the model folder"
    assert exit_code == 0, box.describe()
    assert elapsed < serving.TERMINATION_GRACE_SECONDS, box.describe()


# Two workers: the first to start passes init() at once, the other waits for /tmp/release,
# which the test creates with `podman exec` (the root file system is read-only; /tmp is not).
GATED_INIT = """
    import os
    import time


    def init():
        try:
            os.close(os.open("/tmp/first", os.O_CREAT | os.O_EXCL))
            return
        except FileExistsError:
            pass
        print("second worker waits in init()", flush=True)
        while not os.path.exists("/tmp/release"):
            time.sleep(0.05)


    def run(data):
        return {"ok": True}
"""


def test_readiness_is_false_during_a_slow_init_and_true_after(containers):
    box = containers.start(GATED_INIT, env={"WORKER_COUNT": "2"})  # returns once GET / answers
    box.wait_for_log("second worker waits in init()")
    not_yet = box.request("GET", serving.READINESS_PATH)
    assert not_yet.status_code == 503, box.describe()
    assert box.request("GET", serving.LIVENESS_PATH).status_code == 200

    podman("exec", box.cid, "touch", "/tmp/release")

    def ready() -> bool:
        return box.request("GET", serving.READINESS_PATH).status_code == 200

    wait_until(ready, 30, "GET /readyz to answer 200", interval=0.2, on_fail=box.describe)
    assert box.request("GET", serving.READINESS_PATH).json() == {"ready": True}


def test_an_init_failure_exits_3_without_hanging(containers):
    failing = "def init():\n    raise RuntimeError('no model')\n\ndef run(data):\n    return data\n"
    box = containers.start(failing, wait=False)

    wait_until(box.exited, 60, "the container to exit", interval=0.2, on_fail=box.describe)
    assert box.state() == {"status": "exited", "exit_code": "3"}, box.describe()
    assert "no model" in box.logs()


def test_image_metadata(image):
    inspected = json.loads(podman("image", "inspect", image).stdout)[0]
    config = inspected["Config"]
    assert config["User"] == "1000:1000"
    assert f"{serving.PORT}/tcp" in config["ExposedPorts"]
    assert config["WorkingDir"] == "/var/azureml-app"
    assert "AML_APP_ROOT=/var/azureml-app" in config["Env"]
    assert config["StopSignal"] == "SIGTERM"
    assert inspected["Healthcheck"]["Test"][-1] == "/opt/azmlinfsrv/healthcheck.py"
    assert f"--port {serving.PORT}" in " ".join(config["Cmd"])
