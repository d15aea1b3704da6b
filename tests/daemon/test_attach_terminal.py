"""Attaching to a server started by hand in a terminal, without gdb or ptrace: the daemon
asks the workers through their attach channel, a real DAP session stops in run(), and after
an edit reloads the server, asking again attaches to the new worker."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
import pytest_lsp
import requests
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from ..server._support import clean_env, free_port, kill_group, wait_until
from .conftest import execute
from .dap import DapClient

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="attach channels are Unix sockets")

FIND = "azmlinfsrv.daemon.findServers"
CONFIGS = "azmlinfsrv.daemon.debugConfigurations"
# Only the venv's scripts: no gdb for the server, the daemon or debugpy to find.
GDBLESS_PATH = os.path.dirname(sys.executable)
WORKER_TIMEOUT = 2  # seconds: a paused worker outlives it several times below

SCORE = """\
import os

def init():
    pass

def run(data):
    reply = {"pid": os.getpid(), "version": 1}
    return reply          # line 8: the breakpoint
"""
RUN_LINE = 8


@pytest_lsp.fixture(
    config=ClientServerConfig(
        server_command=[sys.executable, "-m", "azmlinfsrv.daemon"], server_env=clean_env({"PATH": GDBLESS_PATH})
    ),
)
async def daemon(lsp_client: LanguageClient) -> AsyncIterator[None]:
    await lsp_client.initialize_session(types.InitializeParams(capabilities=types.ClientCapabilities()))
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def runtime_tmp() -> Iterator[str]:
    """The terminal's own TMPDIR (short: Unix socket paths are limited), not the daemon's."""
    folder = tempfile.mkdtemp(prefix="att-")
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def terminal_server(tmp_path: Path, runtime_tmp: str) -> Iterator[tuple[subprocess.Popen[bytes], Path, int]]:
    """``azmlinfsrv --entry_script score.py --reload`` as a user types it, gdb absent from PATH."""
    assert shutil.which("gdb", path=GDBLESS_PATH) is None
    project = tmp_path / "project"
    project.mkdir()
    (project / "score.py").write_text(SCORE)
    port = free_port()
    env = clean_env({"PATH": GDBLESS_PATH, "TMPDIR": runtime_tmp, "WORKER_TIMEOUT": str(WORKER_TIMEOUT)})
    env["SCORING_TIMEOUT_MS"] = "1000"
    argv = ["azmlinfsrv", "--entry_script", "score.py", "--reload", "--port", str(port), "--host", "127.0.0.1"]
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [shutil.which(argv[0], path=GDBLESS_PATH) or argv[0], *argv[1:]],
        cwd=project,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until(lambda: _answers(port), 60, "the server to answer")
        yield process, project, port
    finally:
        kill_group(process)
        log.close()


def _answers(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200
    except requests.RequestException:
        return False


async def _workers(client: LanguageClient, pid: int) -> list[int]:
    found = await execute(client, FIND)
    [server] = [s for s in found["servers"] if s["pid"] == pid]
    return list(server["workerPids"])


async def _stop_in_run(config: dict[str, Any], score: Path, port: int) -> dict[str, Any]:
    """Attach, send a request, see it stop at the breakpoint in run(), hold it there past the
    worker and scoring timeouts, continue; the answer."""
    dap = await DapClient.connect(config["connect"]["host"], config["connect"]["port"])
    try:
        await dap.attach_with_breakpoints(config, {str(score): [RUN_LINE]})
        post = asyncio.ensure_future(
            asyncio.to_thread(requests.post, f"http://127.0.0.1:{port}/score", data="x", timeout=120)
        )
        stopped = await dap.wait_event("stopped", 60)
        assert stopped["body"]["reason"] == "breakpoint"
        thread = stopped["body"]["threadId"]
        [top, *_] = (await dap.request("stackTrace", {"threadId": thread}))["stackFrames"]
        assert (top["source"]["path"], top["line"], top["name"]) == (str(score), RUN_LINE, "run")
        # Paused longer than WORKER_TIMEOUT and SCORING_TIMEOUT_MS: neither kills nor times out.
        await asyncio.sleep(WORKER_TIMEOUT * 2)
        assert psutil.pid_exists(config["workerPid"]) and not post.done()
        await dap.request("continue", {"threadId": thread})
        answer = await asyncio.wait_for(post, 60)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())
    finally:
        await dap.close()


async def test_attach_to_a_terminal_server_without_gdb_and_again_after_a_reload(
    daemon: LanguageClient, terminal_server: tuple[subprocess.Popen[bytes], Path, int]
) -> None:
    process, project, port = terminal_server
    score = project / "score.py"
    [first] = await _workers(daemon, process.pid)

    answer = await execute(daemon, CONFIGS, {"pid": process.pid})
    assert "error" not in answer, answer
    [config] = answer["configurations"]
    assert config["connect"]["host"] == "127.0.0.1" and config["workerPid"] == first
    assert "processId" not in config  # no PID injection
    assert await _stop_in_run(config, score, port) == {"pid": first, "version": 1}

    score.write_text(SCORE.replace('"version": 1', '"version": 2'))  # the edit: --reload starts a new worker

    async def reloaded() -> list[int]:
        workers = await _workers(daemon, process.pid)
        return workers if first not in workers and workers else []

    [second] = await _poll(reloaded, 60, "the reload's new worker to replace the old one")
    answer = await execute(daemon, CONFIGS, {"pid": process.pid})
    [config] = answer["configurations"]
    assert config["workerPid"] == second
    assert await _stop_in_run(config, score, port) == {"pid": second, "version": 2}


async def _poll(probe: Any, timeout: float, what: str) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (value := await probe()):
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.2)
    return value
