"""Containers of the image under test: started as the deploy/ manifests run it, removed by ID.

Each container runs as uid 1000 with a read-only root file system and nothing writable but a
tmpfs on /tmp (``--read-only-tmpfs=false``: podman would otherwise add /run and /var/tmp),
its model folder mounted read-only where Azure ML mounts a registered model, and its port
published on a free 127.0.0.1 port.
"""

from __future__ import annotations

import textwrap
import time
from pathlib import Path
from typing import Any

import requests

from ..server._support import free_port, wait_until
from . import serving
from .podman import podman

START_TIMEOUT = 60.0  # seconds from `podman run` to GET / answering 200
HTTP_TIMEOUT = 30.0


def write_tree(root: Path, files: dict[str, str]) -> None:
    """Files readable by the container's uid 1000 (pytest's tmp folders are root-only)."""
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.parent.chmod(0o755)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        path.chmod(0o644)


class Container:
    def __init__(self, cid: str, port: int) -> None:
        self.cid = cid
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", HTTP_TIMEOUT)
        return requests.request(method, self.url + path, **kw)

    def logs(self) -> str:
        out = podman("logs", self.cid, check=False)
        return out.stdout + out.stderr

    def state(self) -> dict[str, str]:
        fmt = "{{.State.Status}} {{.State.ExitCode}}"
        status, _, code = podman("inspect", "--format", fmt, self.cid).stdout.strip().partition(" ")
        return {"status": status, "exit_code": code}

    def running(self) -> bool:
        return self.state()["status"] == "running"

    def exited(self) -> bool:
        """Its process ended and podman cleaned up after it ("stopped" comes first, for a moment
        that a loaded machine can stretch)."""
        return self.state()["status"] == "exited"

    def describe(self) -> str:
        return f"container {self.cid[:12]} {self.state()}\n----- logs -----\n{self.logs()}"

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        def ready() -> bool:
            if not self.running():
                raise AssertionError(f"container exited before answering GET /\n{self.describe()}")
            try:
                return requests.get(self.url + serving.LIVENESS_PATH, timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(ready, timeout, f"GET {self.url}/ to answer 200", interval=0.2, on_fail=self.describe)

    def wait_for_log(self, text: str, timeout: float = 30.0) -> None:
        wait_until(lambda: text in self.logs(), timeout, f"log {text!r}", interval=0.1, on_fail=self.describe)

    def stop(self, grace_seconds: int) -> tuple[float, int]:
        """`podman stop -t GRACE` (SIGTERM, SIGKILL after GRACE): seconds taken and exit code."""
        started = time.monotonic()
        podman("stop", "-t", str(grace_seconds), self.cid, timeout=grace_seconds + 60)
        return time.monotonic() - started, int(self.state()["exit_code"])


class ContainerFactory:
    """``start(score_py)``: a container serving that score.py; all removed at teardown."""

    def __init__(self, image: str, tmp_path: Path) -> None:
        self.image = image
        self.tmp_path = tmp_path
        self.cids: list[str] = []

    def start(
        self,
        score_py: str,
        model_files: dict[str, str] | None = None,
        env: dict[str, str] | None = None,
        wait: bool = True,
    ) -> Container:
        # The layout of deploy/: the registered model folder holds score.py beside model/.
        folder = self.tmp_path / f"model{len(self.cids)}"
        write_tree(folder, {"score.py": score_py, **{f"model/{k}": v for k, v in (model_files or {}).items()}})
        (folder / "model").mkdir(exist_ok=True)
        (folder / "model").chmod(0o755)
        port = free_port()
        settings = {
            "AZUREML_ENTRY_SCRIPT": serving.ENTRY_SCRIPT,
            "AZUREML_MODEL_DIR": serving.MODEL_DIR,
            "WORKER_COUNT": str(serving.WORKER_COUNT),
            **(env or {}),
        }
        argv = ["run", "--detach", "--user", "1000:1000", "--read-only", "--read-only-tmpfs=false"]
        argv += ["--tmpfs", "/tmp", "--health-interval", "disable", "--label", "azmlinfsrv-test=image"]
        argv += ["--publish", f"127.0.0.1:{port}:{serving.PORT}"]
        argv += ["--volume", f"{folder}:{serving.MODEL_MOUNT_PATH}:ro"]
        for key, value in settings.items():
            argv += ["--env", f"{key}={value}"]
        # --cidfile: the ID is known (and removed at teardown) even when the start fails.
        cidfile = folder.with_suffix(".cid")
        proc = podman(*argv, "--cidfile", str(cidfile), self.image, check=False)
        cid = cidfile.read_text().strip() if cidfile.exists() else ""
        if cid:
            self.cids.append(cid)
        if proc.returncode != 0 or not cid:
            raise AssertionError(f"podman run failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        container = Container(cid, port)
        if wait:
            container.wait_ready()
        return container

    def close(self) -> None:
        for cid in self.cids:
            podman("rm", "--force", "--time", "0", cid, check=False)
        self.cids.clear()
