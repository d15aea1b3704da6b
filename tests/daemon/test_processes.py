"""Processes: no orphan survives the daemon; hand-started servers are found with their workers."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path

import psutil
import pytest

from ..server._support import ServerFactory, wait_until
from .conftest import execute
from .stdio import StdioDaemon

GOOD = "import os\n\ndef init():\n    pass\n\ndef run(data):\n    return os.getpid()\n"


def test_sigkill_of_the_daemon_leaves_no_server_behind(tmp_path: Path) -> None:
    score = tmp_path / "score.py"
    score.write_text(GOOD)
    daemon = StdioDaemon()
    tree: list[psutil.Process] = []
    try:
        status = daemon.command("azmlinfsrv.daemon.startServer", {"entryScript": str(score), "workerCount": 2})
        assert status["state"] == "running"
        server = psutil.Process(status["pid"])
        tree = [server, *server.children(recursive=True)]
        assert len(tree) >= 3

        daemon.process.send_signal(signal.SIGKILL)
        daemon.process.wait(10)
        killed_at = time.monotonic()

        def all_gone() -> bool:
            return not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in tree)

        wait_until(all_gone, 5.0, "every azmlinfsrv process of the daemon to exit")
        assert time.monotonic() - killed_at <= 5.0
    finally:
        daemon.stop()
        for process in tree:
            try:
                process.kill()
            except psutil.Error:
                pass


async def test_find_servers_reports_workers_of_a_hand_started_server(client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    factory = ServerFactory(tmp_path)
    try:
        srv = await asyncio.to_thread(factory.start, GOOD, "--worker_count", "2")
        arbiter = psutil.Process(srv.pid)
        # GET / answers as soon as one worker serves; the second may still be booting.
        await asyncio.to_thread(wait_until, lambda: len(arbiter.children()) == 2, 30, "two workers")
        await asyncio.to_thread(srv.wait_for_log, "ready for serving traffic", 30, 2)
        children = {c.pid for c in arbiter.children()}
        worker_pids = {int(srv.post("/score", data="x").text) for _ in range(6)}

        found = await execute(client, "azmlinfsrv.daemon.findServers")
        [mine] = [s for s in found["servers"] if s["pid"] == srv.pid]
        assert sorted(mine["workerPids"]) == sorted(children)
        assert srv.pid not in mine["workerPids"]
        assert worker_pids <= set(mine["workerPids"])
        assert mine["port"] == srv.port
        assert mine["entryScript"] == str(srv.app_dir / "score.py")

        # Its workers open loopback debug listeners through their attach channel (no gdb, no ptrace).
        answer = await execute(client, "azmlinfsrv.daemon.debugConfigurations", {"pid": srv.pid})
        assert "error" not in answer, answer
        assert sorted(c["workerPid"] for c in answer["configurations"]) == sorted(children)
        assert all(c["connect"]["host"] == "127.0.0.1" for c in answer["configurations"])
    finally:
        await asyncio.to_thread(factory.close)


@pytest.mark.skipif(sys.platform != "linux", reason="PID attach needs gdb on Linux")
def test_pid_attach_problem_names_a_missing_gdb(monkeypatch: pytest.MonkeyPatch) -> None:
    from azmlinfsrv.daemon import processes

    monkeypatch.setattr(processes.shutil, "which", lambda name: None)
    assert "needs gdb" in (processes.pid_attach_problem() or "")
