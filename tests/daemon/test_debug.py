"""A real DAP session with debugpy from the daemon's debugConfigurations."""

from __future__ import annotations

import asyncio
from pathlib import Path

import psutil
from pytest_lsp import LanguageClient

from .conftest import execute, stop_client, wait_for
from .dap import DapClient

START = "azmlinfsrv.daemon.startServer"
CONFIGS = "azmlinfsrv.daemon.debugConfigurations"
SEND = "azmlinfsrv.daemon.sendRequest"

SCORE = """\
import os

def init():
    global factor
    factor = 3          # line 5: breakpoint in init()

def run(data):
    result = len(data) * factor   # line 8: breakpoint in run()
    return {"result": result}
"""


async def test_breakpoints_in_init_and_run_hit(client: LanguageClient, project: Path) -> None:
    score = project / "score.py"
    score.write_text(SCORE)
    start = asyncio.ensure_future(execute(client, START, {"entryScript": str(score), "debug": True}))

    # startServer is pending until init() ran; meanwhile the configurations are there.
    configs = await wait_for(
        lambda: client.statuses and client.statuses[-1].get("debugConfigurations"), 60, "a debug configuration"
    )
    answer = await execute(client, CONFIGS)
    assert answer["configurations"] == configs
    [config] = configs
    assert config["type"] == "debugpy" and config["request"] == "attach"
    assert config["connect"]["host"] == "127.0.0.1"
    status = await execute(client, "azmlinfsrv.daemon.status")
    assert status["state"] == "starting" and not start.done()
    assert status["phase"] == "waitingForDebugger"

    dap = await DapClient.connect(config["connect"]["host"], config["connect"]["port"])
    try:
        await dap.attach_with_breakpoints(config, {str(score): [5, 8]})
        stopped = await dap.wait_event("stopped", 60)
        frames = (await dap.request("stackTrace", {"threadId": stopped["body"]["threadId"]}))["stackFrames"]
        assert (frames[0]["source"]["path"], frames[0]["line"]) == (str(score), 5)
        assert frames[0]["name"] == "init"
        # Paused in init(): the worker is past the wait, in its init phase (the editor says paused).
        status = await execute(client, "azmlinfsrv.daemon.status")
        assert (status["state"], status["phase"]) == ("starting", "init")
        seen = len(dap.events)
        await dap.request("continue", {"threadId": stopped["body"]["threadId"]})

        status = await asyncio.wait_for(start, 60)
        assert status["state"] == "running" and "phase" not in status
        assert status["workerPids"] == [config["workerPid"]]

        request = asyncio.ensure_future(execute(client, SEND, {"method": "POST", "path": "/score", "body": "abcd"}))
        stopped = await dap.wait_event("stopped", 60, after=seen)
        assert stopped["body"]["reason"] == "breakpoint"
        frames = (await dap.request("stackTrace", {"threadId": stopped["body"]["threadId"]}))["stackFrames"]
        assert (frames[0]["source"]["path"], frames[0]["line"], frames[0]["name"]) == (str(score), 8, "run")
        assert not request.done()  # the request waits while run() is paused
        await dap.request("continue", {"threadId": stopped["body"]["threadId"]})
        answer = await asyncio.wait_for(request, 60)
        assert answer["status"] == 200
        assert answer["body"] == '{"result": 12}'
    finally:
        await dap.close()


async def test_stop_while_workers_wait_for_the_debugger(client: LanguageClient, project: Path) -> None:
    score = project / "score.py"
    score.write_text(SCORE)
    start = asyncio.ensure_future(execute(client, START, {"entryScript": str(score), "debug": True}))
    await wait_for(lambda: client.statuses and client.statuses[-1].get("debugConfigurations"), 60, "a waiting worker")
    pid = client.statuses[-1]["pid"]
    stopped = await asyncio.wait_for(execute(client, "azmlinfsrv.daemon.stopServer"), 15)
    assert stopped["state"] == "stopped"
    assert (await asyncio.wait_for(start, 15))["state"] == "stopped"
    await wait_for(
        lambda: not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE,
        10,
        "the server gone",
    )


async def test_shutdown_while_a_debug_start_is_pending_answers_cleanly(tmp_path: Path) -> None:
    """The editor closing while workers wait for the debugger: shutdown succeeds (pygls used to
    fail it, cancelling the pending startServer) and that start answers "stopped"."""
    import sys

    from lsprotocol import types
    from pytest_lsp import make_test_lsp_client

    from ..server._support import clean_env

    score = tmp_path / "score.py"
    score.write_text(SCORE)
    lsp = make_test_lsp_client()
    await lsp.start_io(sys.executable, "-m", "azmlinfsrv.daemon", env=clean_env())
    try:
        await lsp.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities()))
        start = asyncio.ensure_future(execute(lsp, START, {"entryScript": str(score), "debug": True}))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while not (await execute(lsp, CONFIGS))["configurations"]:  # poll, bounded
            assert loop.time() < deadline, "no worker waiting for the debugger within 60 s"
            await asyncio.sleep(0.05)
        await asyncio.wait_for(lsp.shutdown_session(), 15)
        assert (await asyncio.wait_for(start, 15))["state"] == "stopped"
    finally:
        await stop_client(lsp)
