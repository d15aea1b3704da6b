"""listCases and runCases through a real LSP session: the real examples/hello, a run() that
answers differently, a run() that raises, and a server that cannot start. Each run either
uses the daemon's own server or starts (and stops) one; no process is left either way."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import psutil
import pytest
from pytest_lsp import LanguageClient

from .conftest import execute, wait_for
from .dap import DapClient

LIST = "azmlinfsrv.daemon.listCases"
RUN = "azmlinfsrv.daemon.runCases"
START = "azmlinfsrv.daemon.startServer"
STOP = "azmlinfsrv.daemon.stopServer"

HELLO = Path(__file__).resolve().parents[2] / "examples" / "hello"

SHOUTING = """\
import json

def init():
    pass

def run(raw_data):
    data = json.loads(raw_data)
    if data.get("name") == "crash":
        raise ValueError("no crashing allowed")
    return {"message": f"HELLO, {data['name'].upper()}!"}
"""

BROKEN_INIT = """\
def init():
    raise ValueError("model file missing")

def run(raw_data):
    return {}
"""


def by_id(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in result["results"]}


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def shouting_project(project: Path) -> Path:
    """A copy of examples/hello whose run() shouts, so the expected answers no longer match."""
    shutil.copytree(HELLO / "sample-requests", project / "sample-requests")
    (project / "sample-requests" / "crash.json").write_text('{"name": "crash"}')
    score = project / "score.py"
    score.write_text(SHOUTING)
    return score


async def test_list_cases_of_hello(client: LanguageClient) -> None:
    listed = await execute(client, LIST, {"entryScript": str(HELLO / "score.py")})
    assert listed["casesPath"] == str(HELLO / "sample-requests")
    cases = {c["id"]: c for c in listed["cases"]}
    assert sorted(cases) == ["azure", "greet-by-query", "health", "world"]
    assert cases["world"]["file"] == str(HELLO / "sample-requests" / "world.json")
    assert cases["world"]["expectedFile"] == str(HELLO / "sample-requests" / "world.expected.json")
    assert cases["world"]["line"] == 1 and cases["world"]["kind"] == "body"
    assert (cases["health"]["method"], cases["health"]["path"]) == ("GET", "/")
    assert cases["health"]["description"] == "The liveness probe"
    assert not any("error" in c for c in cases.values())


async def test_run_hello_with_a_server_started_for_the_run(client: LanguageClient) -> None:
    result = await execute(client, RUN, {"entryScript": str(HELLO / "score.py")})
    assert result["server"]["source"] == "started"
    results = by_id(result)
    assert {k: r["verdict"] for k, r in results.items()} == dict.fromkeys(
        ["azure", "greet-by-query", "health", "world"], "passed"
    ), result
    assert results["world"]["status"] == 200 and results["world"]["elapsedMs"] > 0
    assert results["world"]["message"] == ""
    assert gone(result["server"]["pid"]), "the server started for the run is stopped"
    status = await execute(client, "azmlinfsrv.daemon.status")
    assert status["state"] == "stopped", "the daemon's own server was not started"


async def test_run_against_the_running_server_shows_the_diff(client: LanguageClient, project: Path) -> None:
    score = shouting_project(project)
    status = await execute(client, START, {"entryScript": str(score)})
    assert status["state"] == "running", status
    result = await execute(client, RUN, {"entryScript": str(score), "ids": ["world", "crash", "health", "gone"]})
    assert result["server"] == {"source": "running", "url": status["url"], "pid": status["pid"]}
    results = by_id(result)
    assert list(results) == ["world", "crash", "health", "gone"]

    world = results["world"]
    assert world["verdict"] == "failed"
    assert "the answer differs from world.expected.json in 1 place(s)" in world["message"]
    assert '$.message: expected "Hello, world!", got "HELLO, WORLD!"' in world["message"]
    assert json.loads(world["expected"]) == {"message": "Hello, world!"}
    assert json.loads(world["actual"]) == {"message": "HELLO, WORLD!"}
    assert world["location"] == {"file": str(project / "sample-requests" / "world.expected.json"), "line": 1}
    assert world["status"] == 200

    crash = results["crash"]  # run() raised: 500, and the exception from the server's events
    assert crash["verdict"] == "failed" and crash["status"] == 500
    assert "run() raised ValueError: no crashing allowed" in crash["message"]
    assert "score.py:9 in run" in crash["message"]

    assert results["health"]["verdict"] == "passed"
    assert results["gone"]["verdict"] == "error" and "no case 'gone'" in results["gone"]["message"]
    assert (await execute(client, "azmlinfsrv.daemon.status"))["pid"] == status["pid"], "the server kept serving"
    await execute(client, STOP)


async def test_a_server_that_cannot_start_is_an_error_of_each_case(client: LanguageClient, project: Path) -> None:
    shutil.copytree(HELLO / "sample-requests", project / "sample-requests")
    score = project / "score.py"
    score.write_text(BROKEN_INIT)
    result = await execute(client, RUN, {"entryScript": str(score), "ids": ["world", "azure"]})
    assert result["server"]["source"] == "started"
    error = result["serverError"]
    assert "the server did not start" in error["message"]
    assert "init() failed with ValueError: model file missing" in error["message"]
    assert error["location"] == {"file": str(score), "line": 2}
    results = by_id(result)
    assert [r["verdict"] for r in results.values()] == ["error", "error"]
    assert all("ValueError: model file missing" in r["message"] for r in results.values())
    assert results["world"]["location"] == {"file": str(score), "line": 2}
    assert gone(result["server"]["pid"])


async def test_bad_arguments_name_the_field(client: LanguageClient, project: Path) -> None:
    score = project / "score.py"
    score.write_text(SHOUTING)
    for args, text in [
        ({"entryScript": str(score), "ids": "world"}, "ids: "),
        ({"entryScript": str(score), "cases": "nowhere"}, "cases 'nowhere' does not exist"),
        ({"entryScript": str(score), "record": True}, "unknown field record"),
    ]:
        with pytest.raises(Exception) as raised:
            await execute(client, RUN, args)
        assert text in str(raised.value) and getattr(raised.value, "code", None) == -32602, args
    listed = await execute(client, LIST, {"entryScript": str(score)})
    assert listed["cases"] == [] and listed["casesPath"] is None and "no cases" in listed["message"]


DEBUGGED = """\
import json

def init():
    pass

def run(raw_data):
    name = json.loads(raw_data)["name"]   # line 7: breakpoint
    return {"message": f"Hello, {name}!"}
"""


async def test_a_case_run_on_the_debug_server_stops_at_a_breakpoint(client: LanguageClient, project: Path) -> None:
    """What the editor's Debug profile does: a debug server runs, a debugger is attached, the
    case is sent to it and waits at the breakpoint in run() (the 60 s default is 600 s here)."""
    shutil.copytree(HELLO / "sample-requests", project / "sample-requests")
    score = project / "score.py"
    score.write_text(DEBUGGED)
    start = asyncio.ensure_future(execute(client, START, {"entryScript": str(score), "debug": True}))
    configs = await wait_for(lambda: client.statuses and client.statuses[-1].get("debugConfigurations"), 60, "a config")
    dap = await DapClient.connect(configs[0]["connect"]["host"], configs[0]["connect"]["port"])
    try:
        await dap.attach_with_breakpoints(configs[0], {str(score): [7]})
        assert (await asyncio.wait_for(start, 60))["state"] == "running"
        run = asyncio.ensure_future(execute(client, RUN, {"entryScript": str(score), "ids": ["world"]}))
        stopped = await dap.wait_event("stopped", 60)
        frames = (await dap.request("stackTrace", {"threadId": stopped["body"]["threadId"]}))["stackFrames"]
        assert (frames[0]["source"]["path"], frames[0]["line"], frames[0]["name"]) == (str(score), 7, "run")
        assert not run.done()  # the case waits while run() is paused
        await dap.request("continue", {"threadId": stopped["body"]["threadId"]})
        result = await asyncio.wait_for(run, 60)
    finally:
        await dap.close()
    assert result["server"]["source"] == "running"
    assert by_id(result)["world"]["verdict"] == "passed", result
    await execute(client, STOP)
