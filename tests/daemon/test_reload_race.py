"""Saves that arrive while the previous save's reload is still in init(): the newest code
always ends up serving, and only its diagnostics are shown (issue #10, item 1)."""

from __future__ import annotations

import re
from pathlib import Path

import psutil
from pytest_lsp import LanguageClient

from .conftest import execute, open_document, save_document, wait_for
from .test_server import GOOD, SEND, START, write

# init() announces its pid, then takes long: the next save lands while it is still running.
SLOW = """\
import os
import time

def init():
    print("slow init starts", os.getpid(), flush=True)
    time.sleep(6)
    raise ValueError("stale code failed")

def run(data):
    return {"version": "slow"}
"""

NEWEST = """\
def init():
    pass

def run(data):
    return {"version": "newest"}
"""

NEWEST_BROKEN = """\
import os


def init():
    raise RuntimeError("newest code failed")

def run(data):
    return {"version": "newest"}
"""


async def _save_during_slow_init(client: LanguageClient, score: Path, uri: str) -> int:
    """Serve GOOD, save SLOW, and return the pid of the worker running SLOW's init()."""
    await execute(client, START, {"entryScript": str(score)})
    save_document(client, score, SLOW)
    line = await wait_for(
        lambda: next((x for x in client.logs if "slow init starts" in x), None), 30, "the slow init() running"
    )
    match = re.search(r"slow init starts (\d+)", line)
    assert match, line
    return int(match.group(1))


async def test_a_save_during_a_slow_reload_is_the_code_that_serves(client: LanguageClient, project: Path) -> None:
    score = write(project, "score.py", GOOD)
    uri = open_document(client, score)
    slow_worker = await _save_during_slow_init(client, score, uri)
    save_document(client, score, NEWEST)

    answers: list[str] = []

    async def newest_serves() -> bool:
        answer = await execute(client, SEND, {"method": "POST", "path": "/score", "body": "x"})
        answers.append(str(answer["body"]))
        return '"newest"' in answers[-1]

    # Before the fix the change was dropped: the slow code served and the newest never did.
    await wait_for(newest_serves, 30, "the newest save serving")
    # The stale generation was made to leave, so its init() can never fail later on top of it.
    await wait_for(lambda: not psutil.pid_exists(slow_worker), 15, "the stale worker gone")
    assert not [a for a in answers if '"slow"' in a]
    assert not client.diagnostics.get(uri)
    status = await execute(client, "azmlinfsrv.daemon.status")
    assert status["state"] == "running" and "error" not in status


async def test_only_the_newest_saves_diagnostics_are_shown(client: LanguageClient, project: Path) -> None:
    score = write(project, "score.py", GOOD)
    uri = open_document(client, score)
    slow_worker = await _save_during_slow_init(client, score, uri)
    save_document(client, score, NEWEST_BROKEN)
    [d] = await wait_for(lambda: client.diagnostics.get(uri), 30, "the newest code's init diagnostic")
    assert d.message == "init() failed: RuntimeError: newest code failed"
    assert d.range.start.line == 4  # NEWEST_BROKEN's raise, not SLOW's (line 7)
    await wait_for(lambda: not psutil.pid_exists(slow_worker), 15, "the stale worker gone")
    assert [x.message for x in client.diagnostics.get(uri) or []] == [d.message]
    status = await execute(client, "azmlinfsrv.daemon.status")
    assert status["error"].startswith("init() failed: RuntimeError: newest code failed")
