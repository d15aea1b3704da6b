"""The debugger's call stack shows the user's frames only, never the server's own
(azmlinfsrv's ``__main__.py``, its runner, gunicorn, flask): a real debugpy session."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pytest_lsp import LanguageClient

from .conftest import execute, wait_for
from .dap import DapClient

START = "azmlinfsrv.daemon.startServer"
SEND = "azmlinfsrv.daemon.sendRequest"

SCORE = """\
import helper

def init():
    helper.load()

def run(data):
    return helper.answer(data)
"""
HELPER = """\
def load():
    return 1          # line 2: breakpoint under init()

def answer(data):
    return {"n": len(data)}   # line 5: breakpoint under run()
"""


async def test_call_stack_has_user_frames_only(client: LanguageClient, project: Path) -> None:
    score = project / "score.py"
    score.write_text(SCORE)
    helper = project / "helper.py"
    helper.write_text(HELPER)
    start = asyncio.ensure_future(execute(client, START, {"entryScript": str(score), "debug": True}))
    [config] = await wait_for(
        lambda: client.statuses and client.statuses[-1].get("debugConfigurations"), 60, "a debug configuration"
    )
    dap = await DapClient.connect(config["connect"]["host"], config["connect"]["port"])
    try:
        await dap.attach_with_breakpoints(config, {str(helper): [2, 5]})
        stopped = await dap.wait_event("stopped", 60)
        frames = (await dap.request("stackTrace", {"threadId": stopped["body"]["threadId"]}))["stackFrames"]

        assert [(f["name"], f["source"]["path"]) for f in frames] == [("load", str(helper)), ("init", str(score))]
        seen = len(dap.events)
        await dap.request("continue", {"threadId": stopped["body"]["threadId"]})
        assert (await asyncio.wait_for(start, 60))["state"] == "running"

        request = asyncio.ensure_future(execute(client, SEND, {"body": "abcd"}))
        stopped = await dap.wait_event("stopped", 60, after=seen)
        frames = (await dap.request("stackTrace", {"threadId": stopped["body"]["threadId"]}))["stackFrames"]

        assert [(f["name"], f["source"]["path"]) for f in frames] == [("answer", str(helper)), ("run", str(score))]
        await dap.request("continue", {"threadId": stopped["body"]["threadId"]})
        assert (await asyncio.wait_for(request, 60))["status"] == 200
    finally:
        await dap.close()
