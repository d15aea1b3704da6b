"""Fixtures of the image tests: podman (or one skip line saying why not), the image, containers.

The image is built once per session by ``make image`` itself, from a Python base made with
debootstrap (tests/image/base.py), so what is tested is what users build. Every container
a test starts is removed by its ID at teardown, pass or fail.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .base import BUILD_TIMEOUT, ensure_python_base
from .containers import ContainerFactory
from .podman import REPO_ROOT, image_exists, podman, unavailable_reason

IMAGE = "localhost/azmlinfsrv-test/server:test"
BUILD_STAGE_LABEL = "io.github.azmlinfsrv.stage=build"


def _python_version(base: str) -> str:
    """The base image's Python (major.minor): `make image` picks the wheels for it."""
    out = podman("run", "--rm", base, "python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])")
    return out.stdout.strip()


def _image_id(tag: str) -> str | None:
    if not image_exists(tag):
        return None
    return podman("image", "inspect", "--format", "{{.Id}}", tag).stdout.strip()


def _prune_build_stages() -> None:
    """Remove the cached build-stage images of earlier builds (the Dockerfile labels them),
    by ID; the newest stays as the next build's cache."""
    listed = podman("images", "--filter", "dangling=true", "--filter", f"label={BUILD_STAGE_LABEL}", "--format", "json")
    stages = sorted(json.loads(listed.stdout or "[]"), key=lambda image: image["Created"], reverse=True)
    for stale in stages[1:]:
        podman("rmi", stale["Id"], check=False)


@pytest.fixture(scope="session")
def podman_ready() -> None:
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="session")
def image(podman_ready: None) -> str:
    """Our image, built by `make image` FROM the registry-free base; timings on stderr.

    ``--network=none``: the build must need no network (it installs from the wheels).
    """
    started = time.monotonic()
    try:
        base = ensure_python_base()
    except (RuntimeError, subprocess.TimeoutExpired) as ex:
        pytest.fail(f"cannot make the python base image: {ex}")
    based = time.monotonic()
    previous = _image_id(IMAGE)
    build = subprocess.run(
        ["make", "--no-print-directory", "image", f"BASE_IMAGE={base}", f"IMAGE={IMAGE}",
         f"IMAGE_PYTHON={_python_version(base)}", "IMAGE_BUILD_FLAGS=--network=none"],
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )  # fmt: skip
    if build.returncode != 0:
        pytest.fail(f"make image failed ({build.returncode}):\n{build.stdout[-6000:]}\n{build.stderr[-6000:]}")
    current = _image_id(IMAGE)
    if previous and previous != current:
        # Our own previous build, by ID, so reruns do not pile up untagged images.
        podman("rmi", previous, check=False)
    _prune_build_stages()
    done = time.monotonic()
    print(f"\nimage: base {based - started:.1f} s, make image {done - based:.1f} s", file=sys.stderr)
    return IMAGE


@pytest.fixture
def containers(image: str, tmp_path: Path) -> Iterator[ContainerFactory]:
    factory = ContainerFactory(image, tmp_path)
    try:
        yield factory
    finally:
        factory.close()
