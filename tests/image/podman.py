"""Running podman for the image tests: our containers.conf, one-line reasons when it cannot run.

Every podman call goes through :func:`podman` so that ``CONTAINERS_CONF`` points at the
repository's ``deploy/containers.conf`` (runc, cgroupfs, pinned ulimits: see that file).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CONTAINERS_CONF = REPO_ROOT / "deploy" / "containers.conf"
PROBE_TIMEOUT = 60.0  # seconds for `podman run` of a trivial container on a cold cache


def podman_env() -> dict[str, str]:
    env = dict(os.environ)
    env["CONTAINERS_CONF"] = str(CONTAINERS_CONF)
    return env


def podman(*args: str, timeout: float = 120.0, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``podman ARGS`` to completion (bounded), with our containers.conf."""
    proc = subprocess.run(
        ["podman", *args],
        env=podman_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def unavailable_reason() -> str | None:
    """None when podman can build and run here; otherwise why not, in one line."""
    if shutil.which("podman") is None:
        return "podman is not installed (make test-image installs it with apt-get)"
    if os.geteuid() != 0:
        return "the image tests need rootful podman (run as root)"
    try:
        info = podman("info", "--format", "{{.Host.OCIRuntime.Name}}", timeout=PROBE_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        return "podman info did not answer within 60 s"
    if info.returncode != 0:
        return "podman cannot run here: " + (info.stderr.strip().splitlines() or ["podman info failed"])[-1]
    return None


def image_exists(tag: str) -> bool:
    return podman("image", "exists", tag, check=False).returncode == 0
