"""Start real `azmlinfsrv` processes on free ports and talk HTTP to them.

The server under test is the command in ``AZMLINFSRV_CMD`` (shell-split), by default
``<this python> -m azmlinfsrv`` with the repository's ``server/`` folder on PYTHONPATH.
Every process started here runs in its own session (process group) so that the gunicorn
workers can be reaped with the arbiter; nothing is ever killed by name.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
SERVER_SRC = REPO_ROOT / "src"

# Variables the server reads; a developer's shell must not leak them into a test.
_SCRUB_PREFIXES = ("AML_", "AZUREML_", "WORKER_", "SCORING_", "AZMLINFSRV_", "SERVICE_", "APP_INSIGHTS_")
_SCRUB_NAMES = {
    "SERVER_PORT",
    "HEALTH_PORT",
    "SEPERATE_HEALTH_ENDPOINT",
    "SERVER_VERSION_LOG_RESPONSE_ENABLED",
    "HTTP_X_MS_SERVER_VERSION",
    "GUNICORN_CMD_ARGS",
    "WORKSPACE_NAME",
    "PYTHONSTARTUP",
}

START_TIMEOUT = 30.0  # seconds until GET / answers 200
STOP_TIMEOUT = 5.0  # seconds between SIGTERM and SIGKILL
HTTP_TIMEOUT = 30.0  # default timeout of one HTTP request

# `<UTC yyyy-mm-dd hh:mm:ss,mmm> <level letter> [<pid>] <logger> - <message>`
LOG_LINE_RE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [DIWEC] \[\d+\] azmlinfsrv(\.\w+)? - ")


def server_command() -> list[str]:
    raw = os.environ.get("AZMLINFSRV_CMD")
    if raw:
        return shlex.split(raw)
    return [sys.executable, "-m", "azmlinfsrv"]


def is_reference() -> bool:
    """True when the command under test is Microsoft's reference server.

    ``AZMLINFSRV_REFERENCE=1``/``0`` decides; otherwise look at the console script the
    command names (the reference's imports ``azureml_inference_server_http``).
    """
    flag = os.environ.get("AZMLINFSRV_REFERENCE")
    if flag is not None and flag.strip() != "":
        return flag.strip().lower() in ("1", "true", "yes")
    cmd = server_command()
    if "azureml_inference_server_http" in " ".join(cmd):
        return True
    try:
        head = Path(cmd[0]).read_bytes()[:4096]
    except OSError:
        return False
    return b"azureml_inference_server_http" in head


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUB_PREFIXES) and k not in _SCRUB_NAMES}
    if not os.environ.get("AZMLINFSRV_CMD"):
        # The default command runs the package from this checkout.
        parts = [str(SERVER_SRC)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        env["PYTHONPATH"] = os.pathsep.join(parts)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if extra:
        for k, v in extra.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = str(v)
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # Like the servers do, ignore connections of earlier tests lingering in TIME_WAIT.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("0.0.0.0", port))
        except OSError:
            return False
        return True


def connection_refused(port: int, host: str = "127.0.0.1") -> bool:
    """True once ``port`` refuses TCP connections (a reset, as through podman's port forwarding, is not yet)."""
    try:
        with socket.create_connection((host, port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


def wait_until(
    predicate: Callable[[], Any],
    timeout: float,
    what: str,
    interval: float = 0.05,
    on_fail: Callable[[], str] | None = None,
) -> Any:
    """Poll ``predicate`` until it returns something truthy, at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            detail = on_fail() if on_fail else ""
            raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{detail}")
        time.sleep(interval)


def write_files(root: Path, files: dict[str, str | bytes] | None) -> None:
    for name, content in (files or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")


def kill_group(proc: subprocess.Popen, stop_timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM the process, SIGKILL its group after a bound, and reap it."""
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=stop_timeout)
        except subprocess.TimeoutExpired:
            pass
    # The group may still hold workers (or the leader itself): kill them all by group id.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=stop_timeout)
    except subprocess.TimeoutExpired:  # pragma: no cover - a zombie we cannot reap
        pass


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Server:
    """A running (or exited) server process with its captured output."""

    def __init__(
        self,
        proc: subprocess.Popen,
        port: int | None,
        app_dir: Path,
        model_dir: Path | None,
        out_path: Path,
        err_path: Path,
        argv: list[str],
        env: dict[str, str],
    ):
        self.proc = proc
        self.pid = proc.pid
        self.port = port if port is not None else 5001
        self.app_dir = app_dir
        self.model_dir = model_dir
        self.out_path = out_path
        self.err_path = err_path
        self.argv = argv
        self.env = env
        self.url = f"http://127.0.0.1:{self.port}"

    # -- HTTP --------------------------------------------------------------------------------
    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", HTTP_TIMEOUT)
        url = path if path.startswith("http") else self.url + path
        return requests.request(method, url, **kw)

    def get(self, path: str = "/", **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str = "/score", **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)

    def score(self, data: Any = None, **kw: Any) -> requests.Response:
        """POST /score with ``data`` (str/bytes) or a JSON body (``json=``)."""
        if data is not None:
            kw["data"] = data
        return self.post("/score", **kw)

    # -- output ------------------------------------------------------------------------------
    def stdout(self) -> str:
        return self.out_path.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.err_path.read_text(encoding="utf-8", errors="replace")

    def logs(self) -> str:
        return self.stdout() + self.stderr()

    def log_lines(self) -> list[str]:
        return self.logs().splitlines()

    def describe(self) -> str:
        return (
            f"command: {shlex.join(self.argv)}\nreturncode: {self.proc.poll()}\n"
            f"----- stdout -----\n{self.stdout()}\n----- stderr -----\n{self.stderr()}"
        )

    def wait_for_log(self, pattern: str | re.Pattern[str], timeout: float = 20.0, count: int = 1) -> Any:
        """Wait until ``pattern`` (substring or compiled regex) appears ``count`` times.

        Returns the last regex match (or the substring). Fails early when the process exits
        without having printed it.
        """

        def found() -> Any:
            text = self.logs()
            if isinstance(pattern, re.Pattern):
                matches = list(pattern.finditer(text))
                return matches[-1] if len(matches) >= count else None
            return pattern if text.count(pattern) >= count else None

        def check() -> Any:
            hit = found()
            if hit:
                return hit
            if self.proc.poll() is not None:
                hit = found()
                if hit:
                    return hit
                raise AssertionError(f"server exited before logging {pattern!r}\n{self.describe()}")
            return None

        return wait_until(check, timeout, f"log {pattern!r}", on_fail=self.describe)

    def wait_exit(self, timeout: float = 30.0) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"server did not exit within {timeout}s\n{self.describe()}") from None

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited before answering GET /\n{self.describe()}")
            try:
                return requests.get(self.url + "/", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(ready, timeout, f"GET {self.url}/ to answer 200", on_fail=self.describe)

    def stop(self) -> None:
        kill_group(self.proc)

    # -- script helpers ----------------------------------------------------------------------
    def write(self, name: str, text: str) -> Path:
        path = self.app_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path


class ServerFactory:
    """`start(...)` a server from a score.py source; every server is stopped at teardown."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.servers: list[Server] = []
        self.procs: list[subprocess.Popen] = []
        self._n = 0

    def start(
        self,
        script: str | Path | None = "def init():\n    pass\n\ndef run(data):\n    return data\n",
        *cli_args: str,
        env: dict[str, str | None] | None = None,
        files: dict[str, str | bytes] | None = None,
        model_files: dict[str, str | bytes] | None = None,
        cwd: str | Path | None = None,
        model_dir: bool | str | Path = True,
        entry_script: str | bool = True,
        port: int | bool = True,
        wait: bool = True,
        timeout: float = START_TIMEOUT,
    ) -> Server:
        """Start a server.

        ``script`` is score.py source (dedented) or the path of an existing file; None writes
        no score.py. ``entry_script=True`` passes ``--entry_script score.py`` (relative to the
        app dir, which is the working directory unless ``cwd`` is given), a string passes that
        value, False passes nothing. ``port=True`` picks a free port, an int uses it, False
        passes no ``--port``. ``model_dir=True`` creates a model folder (with ``model_files``).
        ``{app_dir}`` in ``cli_args`` and ``env`` values stands for the app folder's path.
        """
        self._n += 1
        base = self.tmp_path / f"srv{self._n}"
        app_dir = base / "app"
        app_dir.mkdir(parents=True)
        if isinstance(script, str) and "\n" not in script and script.endswith(".py") and os.path.isfile(script):
            script = Path(script)
        if script is not None:
            if isinstance(script, Path):
                (app_dir / "score.py").write_text(script.read_text(encoding="utf-8"), encoding="utf-8")
            else:
                (app_dir / "score.py").write_text(textwrap.dedent(script), encoding="utf-8")
        write_files(app_dir, files)

        def subst(value: str | None) -> str | None:
            return value.replace("{app_dir}", str(app_dir)) if isinstance(value, str) else value

        cli_args = tuple(subst(a) for a in cli_args)  # type: ignore[misc]
        env = {k: subst(v) for k, v in env.items()} if env else env

        argv = list(server_command())
        run_cwd = Path(cwd) if cwd is not None else app_dir
        if entry_script is True:
            argv += ["--entry_script", "score.py" if run_cwd == app_dir else str(app_dir / "score.py")]
        elif entry_script:
            argv += ["--entry_script", str(entry_script)]

        mdir: Path | None = None
        if model_dir is True:
            mdir = base / "model"
            mdir.mkdir()
            write_files(mdir, model_files)
        elif model_dir:
            mdir = Path(model_dir)
        if mdir is not None:
            argv += ["--model_dir", str(mdir)]

        the_port: int | None
        if port is True:
            the_port = free_port()
            argv += ["--port", str(the_port)]
        elif port is False:
            the_port = None
        else:
            the_port = int(port)
            argv += ["--port", str(the_port)]
        argv += list(cli_args)

        full_env = clean_env(env)
        out_path, err_path = base / "stdout.txt", base / "stderr.txt"
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(
                argv,
                cwd=run_cwd,
                env=full_env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
        self.procs.append(proc)
        srv = Server(proc, the_port, app_dir, mdir, out_path, err_path, argv, full_env)
        self.servers.append(srv)
        if wait:
            srv.wait_ready(timeout)
        return srv

    def cli(
        self,
        *args: str,
        env: dict[str, str | None] | None = None,
        cwd: str | Path | None = None,
        files: dict[str, str | bytes] | None = None,
        timeout: float = 30.0,
    ) -> CliResult:
        """Run the CLI to completion (bounded) and return its exit code and output."""
        self._n += 1
        run_dir = Path(cwd) if cwd is not None else self.tmp_path / f"cli{self._n}"
        run_dir.mkdir(parents=True, exist_ok=True)
        write_files(run_dir, files)
        argv = list(server_command()) + list(args)
        proc = subprocess.Popen(
            argv,
            cwd=run_dir,
            env=clean_env(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.procs.append(proc)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            out, err = proc.communicate()
            raise AssertionError(
                f"{shlex.join(argv)} did not finish within {timeout}s\n"
                f"stdout:\n{out.decode(errors='replace')}\nstderr:\n{err.decode(errors='replace')}"
            ) from None
        finally:
            kill_group(proc)
        return CliResult(proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))

    def close(self) -> None:
        for proc in self.procs:
            kill_group(proc)


# -- small helpers used by several modules -------------------------------------------------


def settings_line(text: str, label: str) -> str | None:
    """The value printed after ``<label>: `` in the start-up settings block."""
    for line in text.splitlines():
        if line.startswith(label + ": "):
            return line[len(label) + 2 :]
    return None


def read_events(path: Path) -> list[dict[str, Any]]:
    """Complete JSON lines of an events file (a partial last line is ignored)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    events = []
    for line in text.splitlines(keepends=True):
        if not line.endswith("\n") or not line.strip():
            continue
        events.append(json.loads(line))
    return events


def wait_for_event(
    path: Path,
    predicate: Callable[[dict[str, Any]], bool],
    timeout: float = 20.0,
    server: Server | None = None,
    start: int = 0,
) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        for ev in read_events(path)[start:]:
            if predicate(ev):
                return ev
        return None

    def describe() -> str:
        text = "events:\n" + "\n".join(json.dumps(e) for e in read_events(path))
        return text + ("\n" + server.describe() if server else "")

    return wait_until(find, timeout, f"an event in {path}", on_fail=describe)


def lines_with(text: str, needle: str) -> list[str]:
    return [line for line in text.splitlines() if needle in line]


def contains_all(text: str, needles: Iterable[str]) -> list[str]:
    """The needles missing from ``text``."""
    return [n for n in needles if n not in text]


# A score.py whose run() answers questions about the worker it runs in. The body is JSON:
# {"env": [names]} -> those environment variables; {"pid": 1} -> os.getpid();
# {"sleep": seconds} -> sleeps first; {"syspath": 1} -> sys.path; {"import": "mod"} -> mod.VALUE.
ECHO_SCRIPT = """\
import importlib
import json
import os
import sys
import time


def init():
    pass


def run(data):
    q = json.loads(data) if data else {}
    out = {}
    if "sleep" in q:
        time.sleep(q["sleep"])
    if "env" in q:
        out["env"] = {k: os.environ.get(k) for k in q["env"]}
    if "pid" in q:
        out["pid"] = os.getpid()
    if "syspath" in q:
        out["syspath"] = sys.path
    if "import" in q:
        out["import"] = importlib.import_module(q["import"]).VALUE
    return out
"""


def worker_env(srv: Server, *names: str) -> dict[str, str | None]:
    r = srv.score(json.dumps({"env": list(names)}))
    assert r.status_code == 200, r.text
    return r.json()["env"]
