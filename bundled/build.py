"""Builds the Python side the .vsix carries: bundled/app (azmlinfsrv) and bundled/libs (its dependencies).

    python bundled/build.py pin                   # after changing pyproject ranges: rewrite requirements.txt
    python bundled/build.py build --target linux-x64

The ranges live in pyproject.toml (the server's dependencies and the `daemon` and `bundle`
extras); ``pin`` resolves them for every target platform and Python version we ship and
writes the exact versions, with the sha256 of every wheel used, to bundled/requirements.txt,
the one place pins live. ``build`` downloads those wheels for one target (pip's own cache
and build/bundle/wheels keep repeated builds offline-fast) and unpacks them into
bundled/libs, one set per Python version merged into one folder: pure files are the same
in every set, and compiled modules carry their Python version in their file name.
Only binary wheels are taken (``--only-binary :all:``), so a build never compiles anything.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: pip carries a copy of tomli
    from pip._vendor import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "bundled"
REQUIREMENTS = BUNDLED / "requirements.txt"
APP = BUNDLED / "app"
LIBS = BUNDLED / "libs"
WHEELS = ROOT / "build" / "bundle" / "wheels"
PYTHON_VERSIONS = ["3.10", "3.11", "3.12", "3.13", "3.14"]
# vsce's target names -> pip's platform tags. Linux: glibc 2.28, VS Code's own floor; macOS 11.
# pip widens each tag to the older compatible ones (manylinux2014, macosx_10_9, universal2).
TARGETS = {
    "linux-x64": ["manylinux_2_28_x86_64", "manylinux2014_x86_64"],
    "linux-arm64": ["manylinux_2_28_aarch64", "manylinux2014_aarch64"],
    "darwin-x64": ["macosx_11_0_x86_64"],
    "darwin-arm64": ["macosx_11_0_arm64"],
    "win32-x64": ["win_amd64"],
    "win32-arm64": ["win_arm64"],
}
EXTRAS = ["daemon", "bundle"]


def host_target() -> str:
    system = {"linux": "linux", "darwin": "darwin", "win32": "win32"}.get(sys.platform, sys.platform)
    machine = os.uname().machine if hasattr(os, "uname") else os.environ.get("PROCESSOR_ARCHITECTURE", "")
    arch = "arm64" if machine.lower() in ("arm64", "aarch64") else "x64"
    return f"{system}-{arch}"


def roots() -> list[str]:
    """The ranges from pyproject.toml: what the server, the daemon and the launcher import."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return list(project["dependencies"]) + [r for e in EXTRAS for r in project["optional-dependencies"][e]]


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args], check=True)


def platform_args(target: str, version: str) -> list[str]:
    args = ["--only-binary", ":all:", "--python-version", version, "--implementation", "cp"]
    for tag in TARGETS[target]:
        args += ["--platform", tag]
    return args


MACHINES = {
    "linux": ("Linux", "x86_64", "aarch64"),
    "darwin": ("Darwin", "x86_64", "arm64"),
    "win32": ("Windows", "AMD64", "ARM64"),
}


def marker_environment(target: str, version: str) -> dict[str, str]:
    """What PEP 508 markers see on the target (pip sees this machine's, whatever --platform says)."""
    system, arch = target.split("-")
    name, x64, arm64 = MACHINES[system]
    return {
        "python_version": version, "python_full_version": f"{version}.0", "sys_platform": system,
        "platform_system": name, "os_name": "nt" if system == "win32" else "posix",
        "platform_machine": arm64 if arch == "arm64" else x64, "implementation_name": "cpython",
        "platform_python_implementation": "CPython", "extra": "",
    }  # fmt: skip


def resolve(target: str, version: str, requirements: list[str]) -> dict[str, dict]:
    """{name: pip's report entry} for the requirements, wheels of this target and Python."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        pip("install", "--quiet", "--dry-run", "--ignore-installed", "--report", str(report), "--target", tmp,
            *platform_args(target, version), *requirements)  # fmt: skip
        installs = json.loads(report.read_text())["install"]
    return {canonical(item["metadata"]["name"]): item for item in installs}


def reachable(target: str, version: str, held: list[str]) -> dict[str, tuple[str, str]]:
    """{name: (version, sha256)} of what the target imports, its markers evaluated for it.

    pip resolves with this machine's markers, so a requirement only the target has
    (exceptiongroup on 3.10, colorama on Windows) is added as a root and resolved again.
    """
    from packaging.requirements import Requirement

    env = marker_environment(target, version)
    extra = list(held)
    while True:
        resolved = resolve(target, version, roots() + extra)
        queue = [Requirement(r) for r in roots()]
        found: dict[str, tuple[str, str]] = {}
        missing = []
        while queue:
            req = queue.pop()
            name = canonical(req.name)
            if name in found or (req.marker is not None and not req.marker.evaluate(env)):
                continue
            if name not in resolved:
                missing.append(f"{req.name}{req.specifier}")
                continue
            item = resolved[name]
            found[name] = (item["metadata"]["version"], item["download_info"]["archive_info"]["hashes"]["sha256"])
            queue += [Requirement(r) for r in item["metadata"].get("requires_dist", [])]
        if not missing:
            return found
        extra += missing


def resolve_everywhere(held: list[str]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    versions: dict[str, set[str]] = {}
    hashes: dict[str, set[str]] = {}
    for target in TARGETS:
        for version in PYTHON_VERSIONS:
            for name, (v, sha) in reachable(target, version, held).items():
                versions.setdefault(name, set()).add(v)
                hashes.setdefault(name, set()).add(sha)
    return versions, hashes


def pin() -> None:
    """One version of each package for every target and Python (libs/ is one folder for all of them)."""
    held: list[str] = []
    versions, hashes = resolve_everywhere(held)
    split = {
        n: sorted(v, key=lambda x: [int(p) if p.isdigit() else 0 for p in x.split(".")])
        for n, v in versions.items()
        if len(v) > 1
    }
    if split:  # e.g. python-dateutil 4 needs Python 3.11: hold everyone at the oldest choice
        held = [f"{n}=={v[0]}" for n, v in split.items()]
        print(f"held back for one version everywhere: {held}")
        versions, hashes = resolve_everywhere(held)
        if any(len(v) > 1 for v in versions.values()):
            sys.exit(f"still split after holding {held}: {versions}")
    lines = [
        "# Generated by `python bundled/build.py pin` from pyproject.toml's ranges: do not edit.",
        f"# Targets: {', '.join(TARGETS)}; Python {', '.join(PYTHON_VERSIONS)}.",
        "# Every target's libs get all of these (one a target does not need is never imported there).",
    ]
    for name in sorted(versions):
        lines.append(f"{name}=={next(iter(versions[name]))} \\")
        lines.append(" \\\n".join(f"    --hash=sha256:{h}" for h in sorted(hashes[name])))
    REQUIREMENTS.write_text("\n".join(lines) + "\n")
    print(f"wrote {REQUIREMENTS.relative_to(ROOT)}: {len(versions)} packages")


def pins() -> dict[str, str]:
    return {canonical(m[1]): m[2] for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)", REQUIREMENTS.read_text(), re.M)}


def download(target: str, version: str) -> Path:
    folder = WHEELS / target / version
    folder.mkdir(parents=True, exist_ok=True)
    pip("download", "--quiet", "--no-deps", "--require-hashes", "-r", str(REQUIREMENTS), "-d", str(folder),
        *platform_args(target, version))  # fmt: skip
    return folder


def wheel_files(folder: Path, pinned: dict[str, str]) -> list[Path]:
    """The wheels of the pinned versions (older downloads may lie beside them)."""
    chosen = []
    for wheel in sorted(folder.glob("*.whl")):
        name, version = wheel.name.split("-")[:2]
        if pinned.get(canonical(name)) == version:
            chosen.append(wheel)
    return chosen


def _lf(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n")


def unpack(wheel: Path, into: Path) -> None:
    """A wheel install without pip: its files, with .data/purelib|platlib moved to the top."""
    with zipfile.ZipFile(wheel) as z:
        for member in z.infolist():
            if member.is_dir():
                continue
            parts = member.filename.split("/")
            if parts[0].endswith(".data"):
                if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                    continue  # scripts, headers: nothing the bundle runs
                parts = parts[2:]
            path = into.joinpath(*parts)
            data = z.read(member)
            if path.exists():
                # Sources must agree across the per-version wheels of one release; metadata (tags)
                # and separately built helpers (debugpy's attach DLLs on Windows) may differ: first wins.
                if path.suffix == ".py" and _lf(path.read_bytes()) != _lf(data):  # Windows wheels: CRLF
                    sys.exit(f"{wheel.name}: {member.filename} differs from another Python version's copy")
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


def copy_app() -> None:
    """Our package and its metadata (importlib.metadata finds this azmlinfsrv first: bundle.py)."""
    shutil.rmtree(APP, ignore_errors=True)
    shutil.copytree(
        ROOT / "src" / "azmlinfsrv", APP / "azmlinfsrv", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    version = re.search(r'__version__ = "([^"]+)"', (ROOT / "src" / "azmlinfsrv" / "__init__.py").read_text())
    assert version, "src/azmlinfsrv/__init__.py has no __version__"
    info = APP / f"azmlinfsrv-{version[1]}.dist-info"
    info.mkdir()
    lines = ["Metadata-Version: 2.1", "Name: azmlinfsrv", f"Version: {version[1]}"]
    lines.append(f"Requires-Python: {project['requires-python']}")
    lines += [f"Requires-Dist: {r}" for r in project["dependencies"]]
    for extra, reqs in project["optional-dependencies"].items():
        lines += [f"Provides-Extra: {extra}"] + [f"Requires-Dist: {_with_extra(r, extra)}" for r in reqs]
    (info / "METADATA").write_text("\n".join(lines) + "\n")
    (info / "INSTALLER").write_text("azmlinfsrv bundled/build.py\n")


def _with_extra(requirement: str, extra: str) -> str:
    spec, _, marker = requirement.partition(";")
    condition = f'extra == "{extra}"'
    return f"{spec.strip()}; ({marker.strip()}) and {condition}" if marker.strip() else f"{spec.strip()}; {condition}"


def build(target: str) -> None:
    pinned = pins()
    shutil.rmtree(LIBS, ignore_errors=True)
    LIBS.mkdir(parents=True)
    for version in PYTHON_VERSIONS:
        for wheel in wheel_files(download(target, version), pinned):
            unpack(wheel, LIBS)
    copy_app()
    (BUNDLED / "target.txt").write_text(target + "\n")
    print(f"bundled/libs for {target}, Python {', '.join(PYTHON_VERSIONS)}: {len(pinned)} packages")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("pin", help="resolve pyproject's ranges for every target; write bundled/requirements.txt")
    b = sub.add_parser("build", help="fill bundled/libs and bundled/app for one target")
    b.add_argument("--target", choices=sorted(TARGETS), default=host_target())
    args = parser.parse_args()
    pin() if args.command == "pin" else build(args.target)


if __name__ == "__main__":
    main()
