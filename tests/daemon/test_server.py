"""The daemon supervising a real azmlinfsrv: start, status, failures as diagnostics at their
source line, reload on save, sample requests, progress."""

from __future__ import annotations

from pathlib import Path

import psutil
from lsprotocol import types
from pytest_lsp import LanguageClient

from .conftest import execute, open_document, save_document, stop_client, wait_for

START = "azmlinfsrv.daemon.startServer"
STOP = "azmlinfsrv.daemon.stopServer"
STATUS = "azmlinfsrv.daemon.status"
SEND = "azmlinfsrv.daemon.sendRequest"

GOOD = """\
import os

def init():
    pass

def run(data):
    return {"echo": data, "pid": os.getpid()}
"""

BROKEN_INIT = """\
import os
import helpers

def init():
    helpers.load_model()

def run(data):
    return {"echo": data, "pid": os.getpid()}
"""

HELPERS = """\
import json


def load_model():
    return json.loads("{not json")
"""


def write(project: Path, name: str, text: str) -> Path:
    path = project / name
    path.write_text(text)
    return path


async def test_start_status_request_stop(client: LanguageClient, project: Path) -> None:
    score = write(project, "score.py", GOOD)
    status = await execute(client, START, {"entryScript": str(score), "workerCount": 2})
    assert status["state"] == "running", client.logs
    assert status["entryScript"] == str(score)
    assert status["url"] == f"http://127.0.0.1:{status['port']}"
    server = psutil.Process(status["pid"])
    workers = status["workerPids"]
    assert len(workers) == 2
    # The worker pids are the gunicorn workers (children of the spawned process), never the arbiter.
    assert status["pid"] not in workers
    assert sorted(c.pid for c in server.children()) == sorted(workers)

    answer = await execute(client, SEND, {"method": "POST", "path": "/score", "body": '{"x": 1}'})
    assert answer["status"] == 200
    assert answer["isBase64"] is False
    assert answer["headers"]["Content-Type"] == "application/json"
    body = __import__("json").loads(answer["body"])
    assert body["echo"] == '{"x": 1}' and body["pid"] in workers
    assert answer["elapsedMs"] > 0

    assert any(s["state"] == "running" for s in client.statuses)
    assert any("Worker with pid" in line for line in client.logs)

    stopped = await execute(client, STOP)
    assert stopped["state"] == "stopped" and stopped["workerPids"] == []
    await wait_for(lambda: not server.is_running() or server.status() == psutil.STATUS_ZOMBIE, 10, "server gone")
    assert client.statuses[-1]["state"] == "stopped"


async def test_send_request_answers_binary_bodies_as_base64(client: LanguageClient, project: Path) -> None:
    score = write(
        project,
        "score.py",
        "from azureml.contrib.services.aml_request import rawhttp\n"
        "from azureml.contrib.services.aml_response import AMLResponse\n\n"
        "def init():\n    pass\n\n@rawhttp\ndef run(request):\n"
        "    return AMLResponse(bytes(range(256)), 200, {'Content-Type': 'application/octet-stream'})\n",
    )
    assert (await execute(client, START, {"entryScript": str(score)}))["state"] == "running"
    answer = await execute(client, SEND, {"method": "GET", "path": "/score"})
    assert answer["isBase64"] is True
    assert __import__("base64").b64decode(answer["body"]) == bytes(range(256))


async def test_send_request_without_a_server_is_a_clear_error(client: LanguageClient) -> None:
    try:
        await execute(client, SEND, {"method": "GET", "path": "/"})
    except Exception as ex:  # a JSON-RPC error reaches the client as an exception
        assert "not running" in str(ex)
    else:
        raise AssertionError("sendRequest without a server should fail")


async def test_init_failure_then_fix_and_save(client: LanguageClient, project: Path) -> None:
    score = write(project, "score.py", BROKEN_INIT)
    helpers = write(project, "helpers.py", HELPERS)
    score_uri = open_document(client, score)
    status = await execute(client, START, {"entryScript": str(score)})
    assert status["state"] == "failed"
    # Said in words, with the user's line that failed.
    assert status["error"] == (
        "init() failed: JSONDecodeError: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1) (helpers.py:5)"
    )
    # The deepest frame in the user's files is helpers.py line 5, not json's internals.
    assert status["errorLocation"] == {"file": str(helpers), "line": 5}
    helpers_uri = helpers.as_uri()
    [d] = await wait_for(lambda: client.diagnostics.get(helpers_uri), 10, "init failure diagnostic")
    assert d.message.startswith("init() failed: JSONDecodeError: Expecting property name")
    assert d.code == "init-failed"
    assert (d.range.start.line, d.range.start.character) == (4, 4)
    related = {(r.location.uri, r.location.range.start.line) for r in d.related_information}
    assert (score_uri, 4) in related  # score.py's init() called helpers.load_model()

    # Fix the helper and save: the server starts (reloads), the problem disappears.
    save_document(client, helpers, HELPERS.replace('"{not json"', '"{}"'))
    await wait_for(lambda: client.statuses[-1]["state"] == "running", 30, "running after the fix")
    await wait_for(lambda: not client.diagnostics.get(helpers_uri), 10, "diagnostic cleared")
    answer = await execute(client, SEND, {"method": "POST", "path": "/score", "body": "hi"})
    assert answer["status"] == 200


async def test_reload_on_save_gives_new_workers_and_a_failed_reload_keeps_the_old_ones(
    client: LanguageClient, project: Path
) -> None:
    score = write(project, "score.py", GOOD)
    uri = open_document(client, score)
    first = await execute(client, START, {"entryScript": str(score)})
    old_workers = first["workerPids"]

    save_document(client, score, GOOD.replace('"echo"', '"echo2"'))
    await wait_for(
        lambda: client.statuses[-1]["workerPids"] and client.statuses[-1]["workerPids"] != old_workers,
        30,
        "new workers after save",
    )
    new_workers = client.statuses[-1]["workerPids"]
    assert client.statuses[-1]["lastReload"]["ok"] is True and client.statuses[-1]["reloading"] is False
    answer = await execute(client, SEND, {"method": "POST", "path": "/score", "body": "x"})
    assert "echo2" in answer["body"]
    assert not set(new_workers) & set(old_workers)

    broken = GOOD.replace("def init():\n    pass", "def init():\n    raise RuntimeError('model missing')")
    save_document(client, score, broken)
    [d] = await wait_for(
        lambda: [x for x in client.diagnostics.get(uri) or [] if x.code == "init-failed"], 30, "init diagnostic"
    )
    assert d.message == "init() failed: RuntimeError: model missing"
    assert d.range.start.line == 3

    # The arbiter's reload_failed comes a moment after the worker's init_failed (which made the
    # diagnostic): wait for it, then the status says it all at once.
    async def reload_failed() -> dict[str, object] | None:
        status = await execute(client, STATUS)
        return status if status.get("lastReload") and status["lastReload"]["ok"] is False else None

    status = await wait_for(reload_failed, 30, "the failed reload in the status")
    # The last good workers keep serving the last good code.
    assert status["state"] == "running" and status["workerPids"] == new_workers
    # Running, and the last reload failed: the old code answers, and the status says why.
    assert status["lastReload"]["ok"] is False
    assert status["error"] == "init() failed: RuntimeError: model missing (score.py:4)"
    answer = await execute(client, SEND, {"method": "POST", "path": "/score", "body": "x"})
    assert answer["status"] == 200 and "echo2" in answer["body"]


async def test_run_failure_is_a_diagnostic_until_a_request_succeeds(client: LanguageClient, project: Path) -> None:
    score = write(
        project,
        "score.py",
        "def init():\n    pass\n\ndef run(data):\n"
        "    if data == 'boom':\n        raise ValueError('bad input: ' + data)\n    return data\n",
    )
    uri = open_document(client, score)
    await execute(client, START, {"entryScript": str(score)})
    failed = await execute(client, SEND, {"method": "POST", "path": "/score", "body": "boom"})
    assert failed["status"] == 500
    [d] = await wait_for(lambda: client.diagnostics.get(uri), 10, "run diagnostic")
    assert d.message == "run() failed: ValueError: bad input: boom"
    assert d.code == "run-failed"
    assert (d.range.start.line, d.range.start.character) == (5, 8)
    # Typing does not fix the server: the diagnostic stays (the status call orders after didChange).
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=score.read_text() + "# typing\n")],
        )
    )
    await execute(client, STATUS)
    assert [x.code for x in client.diagnostics.get(uri) or []] == ["run-failed"]
    ok = await execute(client, SEND, {"method": "POST", "path": "/score", "body": "fine"})
    assert ok["status"] == 200
    await wait_for(lambda: not client.diagnostics.get(uri), 10, "run diagnostic cleared")


async def test_slow_init_shows_cancellable_progress(client: LanguageClient, project: Path) -> None:
    score = write(
        project, "score.py", "import time\n\ndef init():\n    time.sleep(2.5)\n\ndef run(data):\n    return data\n"
    )
    status = await execute(client, START, {"entryScript": str(score)})
    assert status["state"] == "running"
    [reports] = list(client.progress_reports.values())
    assert reports[0].title == "Starting scoring server" and reports[0].cancellable is True
    assert any("running init()" in (r.message or "") for r in reports[1:-1])
    assert reports[-1].kind == "end"
    # The status said what the start was doing, in order, and stops saying it once running.
    phases = [s.get("phase") for s in client.statuses if s["state"] == "starting" and s.get("phase")]
    assert phases[-1] == "init" and phases[0] in ("importing", "init")
    assert "phase" not in client.statuses[-1]


async def test_a_client_with_its_own_start_progress_gets_none_from_the_daemon(project: Path) -> None:
    """startProgress: false (the VS Code extension shows its own): no workDoneProgress at all."""
    import asyncio
    import sys

    from pytest_lsp import make_test_lsp_client

    from ..server._support import clean_env

    score = write(
        project, "score.py", "import time\n\ndef init():\n    time.sleep(2)\n\ndef run(data):\n    return data\n"
    )
    lsp = make_test_lsp_client()
    await lsp.start_io(sys.executable, "-m", "azmlinfsrv.daemon", env=clean_env())
    try:
        capabilities = types.ClientCapabilities(window=types.WindowClientCapabilities(work_done_progress=True))
        await lsp.initialize_session(
            types.InitializeParams(capabilities=capabilities, initialization_options={"startProgress": False})
        )
        status = await execute(lsp, START, {"entryScript": str(score)})
        assert status["state"] == "running"
        assert not lsp.progress_reports
        await execute(lsp, STOP)
        await asyncio.wait_for(lsp.shutdown_session(), 15)
    finally:
        await stop_client(lsp)


async def test_a_worker_dying_in_run_is_reported_with_its_replacement(client: LanguageClient, project: Path) -> None:
    score = write(
        project,
        "score.py",
        "import os\n\ndef init():\n    pass\n\ndef run(data):\n    if data == 'die':\n"
        "        os._exit(1)\n    return os.getpid()\n",
    )
    status = await execute(client, START, {"entryScript": str(score)})
    [worker] = status["workerPids"]
    try:
        answer = await execute(client, SEND, {"method": "POST", "path": "/score", "body": "die"})
    except Exception as ex:  # no HTTP answer at all: said plainly
        assert "closed the connection without an answer" in str(ex)
    else:
        assert answer["status"] >= 500
    await wait_for(
        lambda: client.statuses[-1]["workerPids"] and client.statuses[-1]["workerPids"] != [worker],
        30,
        "the replacement worker in a status notification",
    )
    [new] = client.statuses[-1]["workerPids"]
    answer = await execute(client, SEND, {"method": "POST", "path": "/score", "body": "ok"})
    assert answer["body"] == str(new)


async def test_an_init_diagnostic_stays_until_the_fixed_code_has_loaded(client: LanguageClient, project: Path) -> None:
    score = write(project, "score.py", GOOD)
    uri = open_document(client, score)
    await execute(client, START, {"entryScript": str(score)})
    save_document(client, score, GOOD.replace("    pass", "    raise RuntimeError('model missing')", 1))
    await wait_for(lambda: client.diagnostics.get(uri), 30, "init diagnostic")
    slow_fix = GOOD.replace(
        "    pass", "    print('fixed init starts', flush=True)\n    import time\n    time.sleep(1.5)", 1
    )
    save_document(client, score, slow_fix)
    await wait_for(lambda: any("fixed init starts" in line for line in client.logs), 30, "the reload's init() running")
    # The old code serves while the new generation runs its init().
    await wait_for(
        lambda: (client.statuses[-1]["state"], client.statuses[-1].get("phase")) == ("running", "init"), 10, "phase"
    )
    assert client.statuses[-1]["reloading"] is True
    # The reload started, the fixed code has not loaded yet: the problem is still the truth.
    assert [d.code for d in client.diagnostics.get(uri) or []] == ["init-failed"]
    await wait_for(lambda: not client.diagnostics.get(uri), 30, "the diagnostic cleared once the fix serves")
    status = await execute(client, STATUS)
    assert status["state"] == "running" and "error" not in status
