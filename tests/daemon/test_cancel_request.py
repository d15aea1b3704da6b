"""cancelRequest aborts a pending sendRequest at once (the panel's Cancel button)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from pytest_lsp import LanguageClient

from .conftest import execute

START = "azmlinfsrv.daemon.startServer"
SEND = "azmlinfsrv.daemon.sendRequest"
CANCEL = "azmlinfsrv.daemon.cancelRequest"

SLOW = """\
import time

def init():
    pass

def run(data):
    if "slow" in data:
        time.sleep(30)
    return {"echo": data}
"""


async def test_cancel_request_aborts_the_pending_request(client: LanguageClient, project: Path) -> None:
    score = project / "score.py"
    score.write_text(SLOW)
    assert (await execute(client, START, {"entryScript": str(score)}))["state"] == "running", client.logs
    pending = asyncio.ensure_future(execute(client, SEND, {"body": '"slow"', "requestId": "r1"}))
    await asyncio.sleep(0.5)  # the request is in run() by now (or about to be: both are handled)
    assert not pending.done()
    started = time.monotonic()
    assert await execute(client, CANCEL, {"requestId": "r1"}) == {"cancelled": True}
    try:
        await asyncio.wait_for(pending, 10)
    except Exception as ex:
        assert "cancelled" in str(ex), ex
    else:
        raise AssertionError("a cancelled sendRequest should fail")
    assert time.monotonic() - started < 5  # not the 30 s of run()
    # The same requestId is free again, and an unknown one is simply not found.
    assert await execute(client, CANCEL, {"requestId": "r1"}) == {"cancelled": False}
    answer = await execute(client, SEND, {"body": '"fast"', "requestId": "r1"})
    assert answer["status"] == 200
