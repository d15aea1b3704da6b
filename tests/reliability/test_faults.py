"""Faults against real processes: workers that die or hang in run(), SIGTERM, slow init()."""

from __future__ import annotations

import asyncio
import re
import signal
import threading
from pathlib import Path

import psutil
import pytest
import requests

from ..server._support import ServerFactory, wait_until

FAULTY = """\
import ctypes
import os
import signal
import time


def init():
    pass


def run(data):
    if data == "exit":
        os._exit(1)
    if data == "segfault":
        ctypes.string_at(0)
    if data == "hang":
        time.sleep(60)
    if data == "hang-ignoring-signals":
        # Like native code that blocks signals: SIGALRM cannot interrupt this.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        time.sleep(60)
    if data.startswith("slow:"):
        print("started", data)
        time.sleep(float(data[5:]))
    return {"pid": os.getpid()}
"""


def pid_of(srv) -> int:  # type: ignore[no-untyped-def]
    return int(srv.score("ok").json()["pid"])


def test_run_that_never_returns_answers_the_scoring_timeout_and_the_worker_keeps_serving(
    server: ServerFactory,
) -> None:
    srv = server.start(FAULTY, env={"SCORING_TIMEOUT_MS": "500"})
    worker = pid_of(srv)
    r = srv.score("hang", timeout=30)
    assert r.status_code == 500
    assert r.json() == {"message": "Scoring timeout after 500 ms"}
    assert r.headers["x-ms-run-function-failed"] == "True"
    assert pid_of(srv) == worker


@pytest.mark.ours
def test_hang_in_code_that_blocks_signals_still_answers_and_a_new_worker_serves(server: ServerFactory) -> None:
    srv = server.start(FAULTY, env={"SCORING_TIMEOUT_MS": "500"})
    worker = pid_of(srv)
    r = srv.score("hang-ignoring-signals", timeout=30)
    assert r.status_code == 500
    assert r.json() == {"message": "Scoring timeout after 500 ms"}
    # The stuck worker cannot be trusted again: it is replaced.
    new = wait_until(lambda: _serving_pid(srv, worker), 30, "a new worker")
    assert new != worker


def _serving_pid(srv, old: int) -> int | None:  # type: ignore[no-untyped-def]
    try:
        pid = pid_of(srv)
    except requests.RequestException:
        return None
    return pid if pid != old else None


@pytest.mark.parametrize("fault", ["exit", "segfault"])
def test_worker_dying_inside_run_is_replaced_and_the_next_request_succeeds(server: ServerFactory, fault: str) -> None:
    srv = server.start(FAULTY)
    worker = pid_of(srv)
    try:
        r = srv.score(fault, timeout=30)
    except requests.ConnectionError:
        status = None  # the reference and gunicorn alone: the connection just drops
    else:
        status = r.status_code
    new = wait_until(lambda: _serving_pid(srv, worker), 30, "a replacement worker")
    assert new != worker and not psutil.pid_exists(worker) or psutil.Process(worker).status() == psutil.STATUS_ZOMBIE
    if status is not None:
        assert status >= 500


@pytest.mark.ours
@pytest.mark.parametrize("fault", ["exit", "segfault"])
def test_client_gets_a_5xx_when_the_worker_dies_inside_run(server: ServerFactory, fault: str) -> None:
    srv = server.start(FAULTY)
    r = srv.score(fault, timeout=30)
    assert r.status_code == 502
    assert r.json() == {"message": "The worker running score.py died while handling this request."}
    assert r.headers["x-ms-run-function-failed"] == "True"


def test_sigterm_lets_in_flight_requests_finish_then_exits_0(server: ServerFactory) -> None:
    srv = server.start(FAULTY)
    result: dict[str, requests.Response] = {}
    sender = threading.Thread(target=lambda: result.setdefault("r", srv.score("slow:2", timeout=30)))
    sender.start()
    srv.wait_for_log("started slow:2")
    srv.proc.send_signal(signal.SIGTERM)
    assert srv.wait_exit(30) == 0
    sender.join(30)
    assert result["r"].status_code == 200


@pytest.mark.ours
async def test_a_hanging_init_can_be_cancelled_from_the_editor(tmp_path: Path) -> None:
    """The daemon's start of a server whose init() hangs: cancel the progress, the server stops."""
    import sys

    from lsprotocol import types
    from pytest_lsp import ClientServerConfig, LanguageClient, make_test_lsp_client

    from ..server._support import clean_env

    score = tmp_path / "score.py"
    score.write_text("import time\n\ndef init():\n    time.sleep(600)\n\ndef run(data):\n    return data\n")
    config = ClientServerConfig(server_command=[sys.executable, "-m", "azmlinfsrv.daemon"], server_env=clean_env())
    client: LanguageClient = make_test_lsp_client()
    await client.start_io(*config.server_command, env=config.server_env)
    try:
        await client.initialize_session(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(window=types.WindowClientCapabilities(work_done_progress=True))
            )
        )
        start = asyncio.ensure_future(
            client.workspace_execute_command_async(
                types.ExecuteCommandParams(
                    command="azmlinfsrv.daemon.startServer", arguments=[{"entryScript": str(score)}]
                )
            )
        )
        deadline = asyncio.get_running_loop().time() + 30
        while not client.progress_reports and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        [token] = list(client.progress_reports)
        status = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="azmlinfsrv.daemon.status", arguments=[{}])
        )
        server_pid = status["pid"]
        assert status["state"] == "starting"
        client.protocol.notify(types.WINDOW_WORK_DONE_PROGRESS_CANCEL, types.WorkDoneProgressCancelParams(token=token))
        result = await asyncio.wait_for(start, 30)
        assert result["state"] == "stopped"
        assert not psutil.pid_exists(server_pid) or psutil.Process(server_pid).status() == psutil.STATUS_ZOMBIE
    finally:
        await client.shutdown_session()
        await client.stop()


def test_worker_pid_in_the_log_changes_after_a_crash(server: ServerFactory) -> None:
    srv = server.start(FAULTY)
    first = int(srv.wait_for_log(re.compile(r"Worker with pid (\d+) ready")).group(1))
    try:
        srv.score("exit", timeout=30)
    except requests.ConnectionError:
        pass
    second = int(srv.wait_for_log(re.compile(r"Worker with pid (\d+) ready"), count=2).group(1))
    assert second != first
