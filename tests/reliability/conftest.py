"""One real server per example script, shared by the tests of a module, and the checks every
response of the bad-input tests must pass.

The server is the command in ``AZMLINFSRV_CMD`` (see tests/server/_support.py); run the same
tests against the reference with ``AZMLINFSRV_CMD=/path/to/reference/azmlinfsrv`` (tests marked
``ours`` are then skipped).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import requests

from ..server._support import REPO_ROOT, Server, ServerFactory, is_reference

EXAMPLES = ("hello", "schema", "rawhttp-image", "sklearn")
BODY_LIMIT = 256 * 1024  # AZMLINFSRV_MAX_REQUEST_BYTES of the servers started here (ours only)
READY_RE = re.compile(r"Worker with pid (\d+) ready for serving traffic")
REFERENCE = is_reference()


@dataclass
class Target:
    """A running example server and the pid of its (single) worker."""

    name: str
    server: Server
    worker_pid: int

    @property
    def port(self) -> int:
        return self.server.port

    def assert_alive(self) -> None:
        """The worker that was ready at start is still the one serving, and GET / answers 200."""
        assert self.server.proc.poll() is None, f"server exited\n{self.server.describe()}"
        try:
            status = psutil.Process(self.worker_pid).status()
        except psutil.NoSuchProcess:
            status = "gone"
        assert status not in ("gone", psutil.STATUS_ZOMBIE), f"worker {self.worker_pid} died\n{self.server.describe()}"
        assert requests.get(self.server.url + "/", timeout=10).status_code == 200

    def assert_never_replaced(self) -> None:
        self.assert_alive()
        pids = READY_RE.findall(self.server.logs())
        assert pids == [str(self.worker_pid)], f"workers that became ready: {pids}"


def start_example(
    factory: ServerFactory, name: str, model_root: Path, env: dict[str, str | None] | None = None
) -> Target:
    """Start ``examples/<name>`` (sklearn: trained into ``model_root`` first) with one worker."""
    example = REPO_ROOT / "examples" / name
    model_dir = example / "model"
    if name == "sklearn":
        model_dir = model_root / "sklearn-model"
        subprocess.run([sys.executable, str(example / "train.py"), str(model_dir)], check=True, capture_output=True)
    srv = factory.start(example / "score.py", model_dir=model_dir, env=env)
    match = srv.wait_for_log(READY_RE)
    return Target(name, srv, int(match.group(1)))


@pytest.fixture(scope="module", params=EXAMPLES)
def example_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    """One server per example for the whole module; stopped by pid (group) even on failure."""
    tmp = tmp_path_factory.mktemp(f"srv-{request.param}")
    factory = ServerFactory(tmp)
    try:
        yield start_example(factory, request.param, tmp, env={"AZMLINFSRV_MAX_REQUEST_BYTES": str(BODY_LIMIT)})
    finally:
        factory.close()


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def check_response(status: int, headers: Mapping[str, str], body: bytes, method: str = "GET") -> None:
    """What every answer must satisfy, whatever was sent.

    - no 5xx from the server's own code: a 5xx must carry ``x-ms-run-function-failed: True``
      (run() itself failed);
    - a body that says ``application/json`` is strict JSON (RFC 8259: no NaN/Infinity);
    - the server's own JSON errors (``x-ms-run-function-failed: False``) are ``{"message": str}``.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    failed = lower.get("x-ms-run-function-failed")
    detail = f"{status} {dict(headers)} {body[:300]!r}"
    if status >= 500:
        assert failed == "True", f"5xx not from run(): {detail}"
    ctype = lower.get("content-type", "")
    if ctype.split(";")[0].strip().lower() == "application/json" and method != "HEAD":
        try:
            doc = json.loads(body, parse_constant=_no_constant)
        except ValueError as ex:
            raise AssertionError(f"malformed JSON ({ex}): {detail}") from None
        if status >= 400 and failed == "False":
            assert isinstance(doc, dict) and isinstance(doc.get("message"), str), f"error without message: {detail}"
