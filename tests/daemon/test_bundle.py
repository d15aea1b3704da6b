"""The .vsix's Python side (bundled/): the daemon and the server run with an interpreter that
holds none of our packages, the user's packages win over the bundled ones, a user version we
cannot work with is one clear line, and an installed azmlinfsrv or reference server does not
get in the way. Each test runs the real launcher with the interpreter of a fresh venv."""

from __future__ import annotations

import json
import os
import runpy
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO, Any

import pytest
import pytest_asyncio
import requests
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from ..server._support import REPO_ROOT, clean_env, free_port, kill_group, wait_until
from .conftest import _plain, execute

BUNDLED = REPO_ROOT / "bundled"
LAUNCH = BUNDLED / "tool" / "launch.py"
REPORT_SCORE = """\
import importlib.metadata, os

def init():
    pass

def run(data):
    import azmlinfsrv, flask
    return {"flask": flask.__file__, "flask_version": importlib.metadata.version("flask"),
            "azmlinfsrv": azmlinfsrv.__file__, "pid": os.getpid()}
"""
# A package of the user's that must never be imported by our tools (it would fail loudly).
POISON = "raise ImportError('the environment\\'s {name} was imported instead of the bundled one')\n"


def _build_bundle() -> None:
    """bundled/libs for this machine when missing (`make vsix` builds them too; pip caches the wheels),
    and bundled/app always afresh: the tests run today's src/azmlinfsrv."""
    build = runpy.run_path(str(BUNDLED / "build.py"))
    target = build["host_target"]()
    stamp = BUNDLED / "target.txt"
    if not (stamp.exists() and stamp.read_text().strip() == target and (BUNDLED / "libs").is_dir()):
        subprocess.run([sys.executable, str(BUNDLED / "build.py"), "build", "--target", target], check=True)
    else:
        build["copy_app"]()


def make_venv(where: Path) -> tuple[Path, Path]:
    """A venv without pip or anything else: (its python, its site-packages)."""
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    return python, Path(site)


def pip_into(site: Path, *packages: str, deps: bool = False) -> None:
    """Install into the venv's site-packages with the test interpreter's pip (the venv has none)."""
    args = [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(site), *packages]
    subprocess.run(args if deps else [*args, "--no-deps"], check=True, capture_output=True)


def poison(site: Path, name: str, version: str) -> None:
    """An installed package `name` (with its metadata) that fails when imported."""
    (site / name).mkdir()
    (site / name / "__init__.py").write_text(POISON.format(name=name))
    info = site / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nRequires-Dist: flask<1\n")


@pytest.fixture(scope="module")
def bundle() -> Path:
    _build_bundle()
    return BUNDLED


@pytest.fixture
def venv(tmp_path: Path, bundle: Path) -> tuple[Path, Path]:
    return make_venv(tmp_path / "venv")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "score.py").write_text(REPORT_SCORE)
    return folder


def launch_server(python: Path, project: Path, port: int) -> subprocess.Popen[str]:
    argv = [str(python), str(LAUNCH), "server", "--entry_script", "score.py", "--port", str(port)]
    return subprocess.Popen(
        [*argv, "--host", "127.0.0.1"],
        cwd=project,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


@pytest.fixture
def serve(venv: tuple[Path, Path], project: Path) -> Iterator[object]:
    """serve() starts the launcher's server with the venv's python; answers run()'s report."""
    started: list[subprocess.Popen[str]] = []

    def start() -> dict[str, str]:
        port = free_port()
        proc = launch_server(venv[0], project, port)
        started.append(proc)
        url = f"http://127.0.0.1:{port}/score"

        def answer() -> requests.Response | None:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                return requests.post(url, json={}, timeout=5)
            except requests.ConnectionError:
                return None

        response = wait_until(answer, 60, "the bundled server to answer")
        assert response.status_code == 200, response.text
        return dict(response.json())

    yield start
    for proc in started:
        kill_group(proc)


def run_to_exit(python: Path, project: Path) -> subprocess.CompletedProcess[str]:
    argv = [str(python), str(LAUNCH), "server", "--entry_script", "score.py", "--port", str(free_port())]
    return subprocess.run(argv, cwd=project, env=clean_env(), capture_output=True, text=True, timeout=60)


def test_an_empty_venv_serves_with_the_bundled_packages(serve, venv) -> None:
    report = serve()
    assert report["flask"].startswith(str(BUNDLED / "libs")), report
    assert report["azmlinfsrv"].startswith(str(BUNDLED / "app")), report
    assert not any(venv[1].iterdir()), "nothing was installed into the venv"


def test_the_users_flask_wins_over_the_bundled_one(serve, venv) -> None:
    pip_into(venv[1], "flask==3.0.3")
    report = serve()
    assert report["flask_version"] == "3.0.3"
    assert report["flask"].startswith(str(venv[1])), report


def test_a_flask_too_old_is_one_line_naming_it_and_the_version_needed(venv, project) -> None:
    pip_into(venv[1], "flask==2.2.5")
    done = run_to_exit(venv[0], project)
    assert done.returncode == 3
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"azmlinfsrv: error: flask 2.2.5 (in {venv[1]}) does not fit: azmlinfsrv needs flask")
    assert ">=2.3" in done.stderr and "<4" in done.stderr


def test_a_users_old_werkzeug_under_the_bundled_flask_is_named(venv, project) -> None:
    pip_into(venv[1], "werkzeug==2.2.3")
    done = run_to_exit(venv[0], project)
    assert done.returncode == 3
    assert "werkzeug 2.2.3" in done.stderr and "flask 3.1.3 needs werkzeug>=3.1" in done.stderr, done.stderr


def test_an_installed_azmlinfsrv_does_not_replace_the_bundled_one(serve, venv) -> None:
    """The bundled azmlinfsrv runs: the daemon and its server must speak the same protocol."""
    poison(venv[1], "azmlinfsrv", "0.0.1")
    report = serve()
    assert report["azmlinfsrv"].startswith(str(BUNDLED / "app")), report


REFERENCE_SCORE = """\
import flask
import azmlinfsrv
from azureml_inference_server_http.api.aml_request import rawhttp
import azureml_inference_server_http.api.aml_request as aml

def init():
    pass

@rawhttp
def run(request):
    return {"flask": flask.__file__, "azmlinfsrv": azmlinfsrv.__file__, "aml_request": aml.__file__,
            "got": type(request).__name__}
"""


def test_the_reference_server_installed_beside_still_serves(serve, venv, project) -> None:
    """azureml-inference-server-http and its dependencies in the venv: our server runs, with the
    environment's flask, and score.py's @rawhttp from the reference is the reference's."""
    pip_into(venv[1], "azureml-inference-server-http==1.5.1", deps=True)
    (project / "score.py").write_text(REFERENCE_SCORE)
    report = serve()
    assert report["flask"].startswith(str(venv[1])), report
    assert report["azmlinfsrv"].startswith(str(BUNDLED / "app")), report
    assert report["aml_request"].startswith(str(venv[1])), report
    assert report["got"] == "Request", report


def test_python_older_than_310_is_told_so(venv) -> None:
    code = (
        "import runpy, sys; sys.version_info = (3, 9, 18, 'final', 0); "
        f"sys.argv = [{str(LAUNCH)!r}, 'daemon']; runpy.run_path({str(LAUNCH)!r}, run_name='__main__')"
    )
    done = subprocess.run([str(venv[0]), "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3
    assert done.stderr == f"azmlinfsrv: error: azmlinfsrv needs Python 3.10 or newer; {venv[0]} is Python 3.9\n"


# -- the daemon through the launcher, in a venv whose pygls and azmlinfsrv would fail ------------------
@pytest_asyncio.fixture
async def bundled_client(tmp_path: Path, bundle: Path, project: Path) -> AsyncIterator[LanguageClient]:
    """pytest-lsp's client against `<venv python> launch.py daemon` (made by hand: the venv comes first)."""
    python, site = make_venv(tmp_path / "daemon-venv")
    for name in ("azmlinfsrv", "pygls", "lsprotocol"):
        poison(site, name, "0.0.1")
    config = ClientServerConfig(server_command=[str(python), str(LAUNCH), "daemon"], server_env=clean_env())
    client = await config.start()
    client.logs: list[str] = []  # type: ignore[attr-defined]
    client.site = site  # type: ignore[attr-defined]

    @client.feature("azmlinfsrv/log")
    def on_log(params: Any) -> None:  # (not `object`: pygls would pass itself first)
        client.logs.append(_plain(params)["text"])  # type: ignore[attr-defined]

    await client.initialize_session(
        types.InitializeParams(capabilities=types.ClientCapabilities(), root_uri=project.as_uri())
    )
    try:
        yield client
        await client.shutdown_session()
    finally:
        await client.stop()


@pytest.mark.skipif(os.name == "nt", reason="the venv layout above is POSIX's")
async def test_the_daemon_runs_from_the_bundle_and_starts_its_server_through_the_launcher(
    bundled_client: LanguageClient, project: Path
) -> None:
    status = await execute(bundled_client, "azmlinfsrv.daemon.startServer", {"entryScript": str(project / "score.py")})
    assert status["state"] == "running", bundled_client.logs
    try:
        assert any(f"{LAUNCH} server" in line for line in bundled_client.logs), bundled_client.logs[:3]
        answer = await execute(bundled_client, "azmlinfsrv.daemon.sendRequest", {"method": "POST", "path": "/score"})
        assert answer["status"] == 200, answer
        assert json.loads(answer["body"])["azmlinfsrv"].startswith(str(BUNDLED / "app"))
    finally:
        await execute(bundled_client, "azmlinfsrv.daemon.stopServer")


@pytest.mark.skipif(os.name == "nt", reason="the venv layout above is POSIX's")
async def test_a_users_flask_too_old_is_the_status_error_in_one_sentence(
    bundled_client: LanguageClient, project: Path
) -> None:
    pip_into(bundled_client.site, "flask==2.2.5")  # type: ignore[attr-defined]
    status = await execute(bundled_client, "azmlinfsrv.daemon.startServer", {"entryScript": str(project / "score.py")})
    assert status["state"] == "failed", status
    assert status["error"].startswith("flask 2.2.5 (in "), status["error"]
    assert "azmlinfsrv needs flask>=2.3,<4" in status["error"]


def _dap_messages(stream: IO[bytes]) -> Iterator[dict[str, Any]]:
    while header := stream.readline():
        length = int(header.split(b":")[1])
        stream.readline()  # the blank line after the header
        yield json.loads(stream.read(length))


def test_debugpys_adapter_runs_from_the_bundle_in_an_empty_venv(venv) -> None:
    """`launch.py adapter`: debugpy.adapter over stdio answers DAP's initialize."""
    body = json.dumps({"seq": 1, "type": "request", "command": "initialize", "arguments": {"adapterID": "debugpy"}})
    argv = [str(venv[0]), str(LAUNCH), "adapter"]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True)
    watchdog = threading.Timer(60, proc.kill)  # a silent adapter must not hang the test
    watchdog.start()
    try:
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(f"Content-Length: {len(body)}\r\n\r\n{body}".encode())
        proc.stdin.flush()
        answer = next((m for m in _dap_messages(proc.stdout) if m.get("command") == "initialize"), None)
    finally:
        watchdog.cancel()
        kill_group(proc)
    assert answer is not None and answer["success"] is True, answer
