"""A Python base image made without any image registry, cached across runs.

No registry can be reached from the machines this project is tested on, so the image tests
make their own ``BASE_IMAGE``: ``debootstrap --variant=minbase`` of this machine's Debian
release from the mirror apt already uses, imported into podman, plus Debian's python3 and
python3-venv. The root filesystem tarball and the finished image (``podman save``) are
cached under ``~/.cache/azmlinfsrv-image/``, so a rerun costs a ``podman load`` at most.

Run ``python -m tests.image.base`` to build (or find) it and print its tag.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .podman import REPO_ROOT, image_exists, podman

CONTAINERFILE = Path(__file__).with_name("python-base.Containerfile")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
BUILD_TIMEOUT = 900.0  # seconds: debootstrap or apt-get over a slow mirror


def cache_dir() -> Path:
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = Path(root) / "azmlinfsrv-image"
    path.mkdir(parents=True, exist_ok=True)
    return path


def debian_suite() -> str:
    """This machine's Debian codename (the release its mirror certainly serves)."""
    try:
        text = Path("/etc/os-release").read_text(encoding="utf-8")
    except OSError:
        return "bookworm"
    found = re.search(r"^VERSION_CODENAME=\"?(\w+)", text, re.M)
    return found.group(1) if found else "bookworm"


def apt_mirror(suite: str) -> str:
    """The http(s) URI apt uses for ``suite``'s main archive, from sources.list(.d)."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in sources:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        if path.suffix == ".sources":  # deb822 stanzas
            for stanza in re.split(r"\n\s*\n", text):
                uris = re.search(r"^URIs:\s*(\S+)", stanza, re.M)
                suites = re.search(r"^Suites:\s*(.+)$", stanza, re.M)
                if uris and suites and suite in suites.group(1).split():
                    return uris.group(1)
        else:
            for line in text.splitlines():
                parts = line.split()
                if len(parts) >= 3 and parts[0] == "deb" and parts[-2] == suite:
                    return parts[-3]
    return DEFAULT_MIRROR


def _run(argv: list[str], timeout: float = BUILD_TIMEOUT) -> None:
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        output = f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}):\n{output}")


def rootfs_tarball(suite: str, mirror: str) -> Path:
    """``debootstrap --variant=minbase`` once; later runs take the cached tarball."""
    key = hashlib.sha256(f"{suite} {mirror}".encode()).hexdigest()[:12]
    tarball = cache_dir() / f"debian-{suite}-minbase-{key}.tar.gz"
    if tarball.exists():
        return tarball
    if shutil.which("debootstrap") is None:
        raise RuntimeError("debootstrap is not installed (make test-image installs it with apt-get)")
    with tempfile.TemporaryDirectory(prefix="azmlinfsrv-rootfs-", dir=cache_dir()) as work:
        rootfs = Path(work) / "rootfs"
        _run(["debootstrap", "--variant=minbase", suite, str(rootfs), mirror])
        partial = Path(work) / "rootfs.tar.gz"
        _run(["tar", "--numeric-owner", "-C", str(rootfs), "-czf", str(partial), "."])
        partial.replace(tarball)  # same file system: the cache never holds half a tarball
    return tarball


def python_base_tag(suite: str) -> str:
    """The tag names the recipe it was built from, so a changed Containerfile rebuilds."""
    digest = hashlib.sha256(CONTAINERFILE.read_bytes()).hexdigest()[:12]
    return f"localhost/azmlinfsrv-test/python-base:{suite}-{digest}"


def ensure_python_base() -> str:
    """The tag of a local Python base image, built from Debian's packages when missing."""
    suite = debian_suite()
    tag = python_base_tag(suite)
    if image_exists(tag):
        return tag
    saved = cache_dir() / (tag.rsplit("/", 1)[-1].replace(":", "-") + ".tar")
    if saved.exists():
        podman("load", "-i", str(saved), timeout=BUILD_TIMEOUT)
        if image_exists(tag):
            return tag
    mirror = apt_mirror(suite)
    debian = f"localhost/azmlinfsrv-test/debian:{suite}-minbase"
    if not image_exists(debian):
        podman("import", str(rootfs_tarball(suite, mirror)), debian, timeout=BUILD_TIMEOUT)
    podman(
        "build",
        "--build-arg",
        f"DEBIAN_IMAGE={debian}",
        "-f",
        str(CONTAINERFILE),
        "-t",
        tag,
        str(CONTAINERFILE.parent),
        timeout=BUILD_TIMEOUT,
    )
    partial = saved.with_suffix(".partial")
    podman("save", "-o", str(partial), tag, timeout=BUILD_TIMEOUT)
    partial.replace(saved)
    return tag


if __name__ == "__main__":
    os.chdir(REPO_ROOT)
    try:
        print(ensure_python_base())
    except (RuntimeError, subprocess.TimeoutExpired) as ex:
        sys.exit(f"cannot make the python base image: {ex}")
