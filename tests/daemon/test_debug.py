"""A real DAP session with debugpy from the daemon's debugConfigurations."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pytest_lsp import LanguageClient

from .conftest import execute, wait_for
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

    dap = await DapClient.connect(config["connect"]["host"], config["connect"]["port"])
    try:
        await dap.attach_with_breakpoints(config, {str(score): [5, 8]})
        stopped = await dap.wait_event("stopped", 60)
        frames = (await dap.request("stackTrace", {"threadId": stopped["body"]["threadId"]}))["stackFrames"]
        assert (frames[0]["source"]["path"], frames[0]["line"]) == (str(score), 5)
        assert frames[0]["name"] == "init"
        seen = len(dap.events)
        await dap.request("continue", {"threadId": stopped["body"]["threadId"]})

        status = await asyncio.wait_for(start, 60)
        assert status["state"] == "running"
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
