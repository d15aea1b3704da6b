"""Attaching to a server started by hand in a terminal, without gdb or ptrace: the daemon
asks the workers through their attach channel, a real DAP session stops in run(), and after
an edit reloads the server, asking again attaches to the new worker."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import sysconfig
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

from ..server._support import REPO_ROOT, clean_env, free_port, kill_group, wait_until
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


@contextlib.contextmanager
def by_hand(
    tmp_path: Path, runtime_tmp: str, *flags: str, command: list[str] | None = None, **env: str
) -> Iterator[tuple[subprocess.Popen[bytes], Path, int]]:
    """``azmlinfsrv --entry_script score.py --reload`` as a user types it (or ``command`` instead
    of ``azmlinfsrv``), gdb absent from PATH; stopped by its pid (its process group) whatever happens."""
    assert shutil.which("gdb", path=GDBLESS_PATH) is None
    project = tmp_path / "project"
    project.mkdir()
    (project / "score.py").write_text(SCORE)
    port = free_port()
    environ = clean_env({"PATH": GDBLESS_PATH, "TMPDIR": runtime_tmp, "WORKER_TIMEOUT": str(WORKER_TIMEOUT)})
    environ.update({"SCORING_TIMEOUT_MS": "1000", **env})
    argv = ["--entry_script", "score.py", "--reload", "--port", str(port), "--host", "127.0.0.1", *flags]
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [*(command or [os.path.join(GDBLESS_PATH, "azmlinfsrv")]), *argv],
        cwd=project,
        env=environ,
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


@pytest.fixture
def terminal_server(tmp_path: Path, runtime_tmp: str) -> Iterator[tuple[subprocess.Popen[bytes], Path, int]]:
    with by_hand(tmp_path, runtime_tmp) as server:
        yield server


def _answers(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200
    except requests.RequestException:
        return False


async def _workers(client: LanguageClient, pid: int) -> list[int]:
    found = await execute(client, FIND)
    [server] = [s for s in found["servers"] if s["pid"] == pid]
    return list(server["workerPids"])


async def _stop_in_run(config: dict[str, Any], score: Path, port: int, dap: DapClient | None = None) -> dict[str, Any]:
    """Attach (unless ``dap`` is attached already), send a request, see it stop at the
    breakpoint in run(), hold it there past the worker and scoring timeouts, continue; the answer."""
    session = dap or await DapClient.connect(config["connect"]["host"], config["connect"]["port"])
    try:
        if dap is None:
            await session.attach_with_breakpoints(config, {str(score): [RUN_LINE]})
        seen = len(session.events)
        post = asyncio.ensure_future(
            asyncio.to_thread(requests.post, f"http://127.0.0.1:{port}/score", data="x", timeout=120)
        )
        stopped = await session.wait_event("stopped", 60, after=seen)
        assert stopped["body"]["reason"] == "breakpoint"
        thread = stopped["body"]["threadId"]
        [top, *_] = (await session.request("stackTrace", {"threadId": thread}))["stackFrames"]
        assert (top["source"]["path"], top["line"], top["name"]) == (str(score), RUN_LINE, "run")
        # Paused longer than WORKER_TIMEOUT and SCORING_TIMEOUT_MS: neither kills nor times out.
        await asyncio.sleep(WORKER_TIMEOUT * 2)
        assert psutil.pid_exists(config["workerPid"]) and not post.done()
        await session.request("continue", {"threadId": thread})
        answer = await asyncio.wait_for(post, 60)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())
    finally:
        if dap is None:
            await session.close()


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


async def test_under_waitress_the_one_process_listens_and_stays_attached_across_reloads(
    daemon: LanguageClient, tmp_path: Path, runtime_tmp: str
) -> None:
    """waitress serves from threads of one process: that process is the worker; a reload
    re-imports score.py in it, so the listener and the debugger's session stay."""
    with by_hand(tmp_path, runtime_tmp, "--server", "waitress") as (process, project, port):
        score = project / "score.py"
        answer = await execute(daemon, CONFIGS, {"pid": process.pid})
        [config] = answer["configurations"]
        assert config["workerPid"] == process.pid
        dap = await DapClient.connect(config["connect"]["host"], config["connect"]["port"])
        try:
            await dap.attach_with_breakpoints(config, {str(score): [RUN_LINE]})
            assert await _stop_in_run(config, score, port, dap) == {"pid": process.pid, "version": 1}
            score.write_text(SCORE.replace('"version": 1', '"version": 2'))
            log = tmp_path / "server.log"
            await _poll(lambda: _logged(log, "Reloaded"), 60, "the reload")
            assert await _stop_in_run(config, score, port, dap) == {"pid": process.pid, "version": 2}
        finally:
            await dap.close()


async def _logged(log: Path, text: str) -> bool:
    return text in log.read_text()


async def test_without_an_attach_channel_pid_injection_is_the_fallback_and_says_why(
    daemon: LanguageClient, tmp_path: Path, runtime_tmp: str
) -> None:
    """AZMLINFSRV_ATTACH=off (as for the reference server): no channel; the daemon, with no gdb
    on its PATH, says both."""
    with by_hand(tmp_path, runtime_tmp, AZMLINFSRV_ATTACH="off") as (process, _project, _port):
        assert not os.listdir(runtime_tmp)  # no runtime dir, no socket
        answer = await execute(daemon, CONFIGS, {"pid": process.pid})
        assert answer["configurations"] == []
        assert "no attach channel" in answer["error"] and "gdb" in answer["error"], answer


@pytest.fixture
def site_without_debugpy(tmp_path: Path) -> Path:
    """The venv's packages minus debugpy, as links: an environment like a production one."""
    packages = Path(sysconfig.get_paths()["purelib"])
    site = tmp_path / "site-without-debugpy"
    site.mkdir()
    for entry in packages.iterdir():
        if not entry.name.startswith("debugpy") and entry.suffix != ".pth":
            (site / entry.name).symlink_to(entry)
    return site


async def test_a_server_without_debugpy_gets_the_daemons_own(
    daemon: LanguageClient, tmp_path: Path, runtime_tmp: str, site_without_debugpy: Path
) -> None:
    """Nothing is installed into the server's environment: the worker imports the daemon's
    debugpy alone, from the folder the daemon offers, and breakpoints hit."""
    python = [sys.executable, "-S", "-m", "azmlinfsrv"]  # -S: no site-packages but these links
    pythonpath = os.pathsep.join([str(REPO_ROOT / "src"), str(site_without_debugpy)])
    with by_hand(tmp_path, runtime_tmp, command=python, PYTHONPATH=pythonpath) as (process, project, port):
        [worker] = await _workers(daemon, process.pid)
        probe = [sys.executable, "-S", "-c", "import debugpy"]
        missing = subprocess.run(probe, env={"PYTHONPATH": pythonpath}, capture_output=True, text=True)
        assert "No module named 'debugpy'" in missing.stderr  # the server's environment has none
        answer = await execute(daemon, CONFIGS, {"pid": process.pid})
        assert "error" not in answer, answer
        [config] = answer["configurations"]
        assert await _stop_in_run(config, project / "score.py", port) == {"pid": worker, "version": 1}
        assert "debugpy" not in "".join(os.listdir(site_without_debugpy))
