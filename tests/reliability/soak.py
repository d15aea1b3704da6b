"""Load: a bounded soak of one real server with a mix of good and bad requests.

    python tests/reliability/soak.py --duration 60 --connections 8

starts ``azmlinfsrv`` (the command in ``AZMLINFSRV_CMD``, default this checkout's) on a free
loopback port with a small score.py, runs ``--connections`` client threads that each keep one
HTTP/1.1 connection (reopened only when the server says ``Connection: close``) and send
requests of every kind in ``KINDS`` in a shuffled round until ``--duration`` seconds or
``--max-requests`` have passed, then stops the server by its pid. Nothing listens beyond
127.0.0.1 on the client side and nothing outlives the run.

It reports, and fails (exit 1) unless all hold:
- zero dropped connections: every request got a complete answer (no reset, no close without
  an answer, no timeout);
- zero malformed answers: every answer parses as HTTP, has the status expected for its kind,
  JSON bodies are strict JSON, a 5xx only when run() itself failed (``x-ms-run-function-failed:
  True``);
- the RSS of the server's whole process tree (arbiter + workers, psutil) at the end is at most
  ``--max-rss-growth-mib`` MiB (default 32) above its value after the warm-up.

``--json`` prints the report as one JSON object. ``run_soak()`` is the same for tests.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import shlex
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.server._support import ServerFactory, is_reference, server_command  # noqa: E402

BODY_LIMIT = 64 * 1024  # AZMLINFSRV_MAX_REQUEST_BYTES of the soaked server (ours; the reference has none)
DEFAULT_RSS_GROWTH_MIB = 32.0
WARMUP_ROUNDS = 20  # rounds of every kind per connection before the first RSS reading

SOAK_SCRIPT = """\
import json


def init():
    pass


def run(raw_data):
    data = json.loads(raw_data) if raw_data else {}
    if isinstance(data, dict) and data.get("fail"):
        raise ValueError("asked to fail")
    return {"echo": data}
"""


@dataclass(frozen=True)
class Kind:
    name: str
    method: str
    path: str
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()
    statuses: frozenset[int] = frozenset({200})
    chunked: bool = False
    good: bool = True


_431 = frozenset({431})


def kinds(reference: bool) -> list[Kind]:
    json_ct = (("Content-Type", "application/json"),)
    return [
        Kind("score", "POST", "/score", b'{"name": "soak", "values": [1, 2.5, null]}', json_ct),
        Kind("score-get", "GET", "/score?name=soak&n=1&n=2"),
        Kind("score-chunked", "POST", "/score", b'{"chunked": true}', json_ct, chunked=True),
        Kind("health", "GET", "/"),
        Kind("health-head", "HEAD", "/"),
        Kind("swagger", "GET", "/swagger.json"),
        Kind("options", "OPTIONS", "/score"),
        Kind("run-fails", "POST", "/score", b'{"fail": true}', json_ct, frozenset({500}), good=False),
        Kind("bad-json", "POST", "/score", b'{"unterminated', json_ct, frozenset({500}), good=False),
        Kind("invalid-utf8", "POST", "/score", b'{"name": "\xff\xfe"}', json_ct, frozenset({400}), good=False),
        Kind("not-found", "GET", "/no/such/route", statuses=frozenset({404}), good=False),
        Kind("wrong-method", "PUT", "/score", b"{}", statuses=frozenset({405}), good=False),
        Kind("long-request-id", "GET", "/score", headers=(("x-request-id", "r" * 101),), statuses=_431, good=False),
        Kind("long-client-id", "POST", "/score", b"{}", (("x-ms-client-request-id", "c" * 150),), _431, good=False),
        Kind(
            "over-limit",
            "POST",
            "/score",
            b'"' + b"o" * BODY_LIMIT + b'"',
            json_ct,
            frozenset({200} if reference else {413}),
            good=False,
        ),
    ]  # fmt: skip


@dataclass
class Report:
    server: str
    duration_s: float
    connections: int
    requests: int = 0
    requests_per_s: float = 0.0
    by_kind: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    connections_opened: int = 0
    dropped: int = 0
    malformed: int = 0
    problems: list[str] = field(default_factory=list)  # the first few, for the reader
    rss_start_mib: float = 0.0
    rss_end_mib: float = 0.0
    rss_peak_mib: float = 0.0
    rss_growth_mib: float = 0.0
    rss_growth_limit_mib: float = DEFAULT_RSS_GROWTH_MIB
    processes: int = 0
    ok: bool = False

    def lines(self) -> list[str]:
        verdict = "PASS" if self.ok else "FAIL"
        out = [
            f"soak {verdict}: {self.server}",
            f"  {self.requests} requests in {self.duration_s:.1f} s ({self.requests_per_s:.0f}/s) "
            f"on {self.connections} connections ({self.connections_opened} opened)",
            f"  dropped connections: {self.dropped}   malformed answers: {self.malformed}",
            f"  RSS of the server's {self.processes} processes: {self.rss_start_mib:.1f} MiB after warm-up, "
            f"{self.rss_end_mib:.1f} MiB at the end (peak {self.rss_peak_mib:.1f}), growth "
            f"{self.rss_growth_mib:+.1f} MiB (limit {self.rss_growth_limit_mib:.0f})",
            "  statuses: " + ", ".join(f"{k}: {v}" for k, v in sorted(self.by_status.items())),
        ]
        out += [f"  problem: {p}" for p in self.problems]
        return out


def tree_rss(pid: int) -> tuple[int, int]:
    """Summed RSS (bytes) of ``pid`` and all its descendants, and how many processes that is."""
    root = psutil.Process(pid)
    total, count = 0, 0
    for proc in [root, *root.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
            count += 1
        except psutil.NoSuchProcess:
            pass
    return total, count


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


class _Client(threading.Thread):
    """One connection's worth of load; counts instead of raising."""

    def __init__(self, port: int, kinds: list[Kind], seed: int, state: _Shared) -> None:
        super().__init__(daemon=True)
        self.port, self.kinds, self.state = port, kinds, state
        self.rng = random.Random(seed)
        self.conn: http.client.HTTPConnection | None = None
        self.count: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.opened = self.dropped = self.malformed = self.sent = 0
        self.problems: list[str] = []
        self.warm = threading.Event()

    def problem(self, text: str) -> None:
        if len(self.problems) < 5:
            self.problems.append(text)

    def one(self, kind: Kind) -> None:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.opened += 1
        conn = self.conn
        try:
            body: Any = kind.body
            if kind.chunked and body is not None:
                body = iter([body[: len(body) // 2], body[len(body) // 2 :]])
            conn.request(kind.method, kind.path, body=body, headers=dict(kind.headers), encode_chunked=kind.chunked)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as ex:
            # No complete answer: reset, closed without an answer, a timeout, or an answer that is not HTTP.
            if isinstance(ex, (http.client.BadStatusLine, http.client.IncompleteRead, http.client.LineTooLong)):
                if not isinstance(ex, http.client.RemoteDisconnected):
                    self.malformed += 1
                    self.problem(f"{kind.name}: malformed answer {ex!r}")
                    self._reset()
                    return
            self.dropped += 1
            self.problem(f"{kind.name}: no answer ({ex!r}) on a connection used for {self.sent} requests")
            self._reset()
            return
        finally:
            self.sent += 1
            self.count[kind.name] += 1
        self.statuses[str(resp.status)] += 1
        error = self.check(kind, resp, data)
        if error:
            self.malformed += 1
            self.problem(f"{kind.name}: {error}")
        if resp.will_close:
            self._reset()

    @staticmethod
    def check(kind: Kind, resp: http.client.HTTPResponse, data: bytes) -> str | None:
        if resp.status not in kind.statuses:
            return f"status {resp.status}, expected {sorted(kind.statuses)}: {data[:200]!r}"
        failed = resp.getheader("x-ms-run-function-failed")
        if resp.status >= 500 and failed != "True":
            return f"{resp.status} not from run() (x-ms-run-function-failed: {failed}): {data[:200]!r}"
        ctype = (resp.getheader("Content-Type") or "").split(";")[0].strip().lower()
        if ctype == "application/json" and kind.method != "HEAD":
            try:
                json.loads(data, parse_constant=_no_constant)
            except ValueError as ex:
                return f"invalid JSON ({ex}): {data[:200]!r}"
        return None

    def _reset(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None

    def run(self) -> None:
        try:
            for _ in range(WARMUP_ROUNDS):
                for kind in self.rng.sample(self.kinds, len(self.kinds)):
                    self.one(kind)
            self.warm.set()
            self.state.go.wait()
            while not self.state.stop.is_set():
                for kind in self.rng.sample(self.kinds, len(self.kinds)):
                    if self.state.stop.is_set() or not self.state.take():
                        return
                    self.one(kind)
        finally:
            self.warm.set()
            self._reset()


class _Shared:
    def __init__(self, max_requests: int) -> None:
        self.go = threading.Event()
        self.stop = threading.Event()
        self._left = max_requests
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self._left <= 0:
                self.stop.set()
                return False
            self._left -= 1
            return True


def run_soak(
    duration: float,
    connections: int = 8,
    max_requests: int = 10_000_000,
    max_rss_growth_mib: float = DEFAULT_RSS_GROWTH_MIB,
    workdir: Path | None = None,
) -> Report:
    """Start a server, soak it, stop it (by pid, whatever happens) and return the report."""
    reference = is_reference()
    kind_list = kinds(reference)
    with tempfile.TemporaryDirectory(prefix="azmlinfsrv-soak-", dir=workdir) as tmp:
        factory = ServerFactory(Path(tmp))
        try:
            srv = factory.start(SOAK_SCRIPT, env={"AZMLINFSRV_MAX_REQUEST_BYTES": str(BODY_LIMIT)})
            report = Report(
                server=shlex.join(server_command()) + (" (reference)" if reference else ""),
                duration_s=0.0,
                connections=connections,
                rss_growth_limit_mib=max_rss_growth_mib,
            )
            state = _Shared(max_requests)
            clients = [_Client(srv.port, kind_list, seed, state) for seed in range(connections)]
            for client in clients:
                client.start()
            for client in clients:
                client.warm.wait(timeout=120)
            start_rss, report.processes = tree_rss(srv.pid)
            peak = start_rss
            started = time.monotonic()
            state.go.set()
            deadline = started + duration
            # Sample the RSS about once a second while the clients run; stop at the deadline.
            while not state.stop.wait(timeout=max(0.0, min(1.0, deadline - time.monotonic()))):
                peak = max(peak, tree_rss(srv.pid)[0])
                if time.monotonic() >= deadline:
                    state.stop.set()
            for client in clients:
                client.join(timeout=60)
            report.duration_s = time.monotonic() - started
            end_rss, _ = tree_rss(srv.pid)
            if srv.proc.poll() is not None:
                report.problems.append(f"server exited with {srv.proc.returncode}")
        finally:
            factory.close()

    mib = 1024 * 1024
    by_kind: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    for client in clients:
        by_kind.update(client.count)
        by_status.update(client.statuses)
        report.dropped += client.dropped
        report.malformed += client.malformed
        report.connections_opened += client.opened
        report.problems += client.problems[: max(0, 10 - len(report.problems))]
    report.requests = sum(by_kind.values())
    report.by_kind, report.by_status = dict(by_kind), dict(by_status)
    report.requests_per_s = report.requests / report.duration_s if report.duration_s else 0.0
    report.rss_start_mib, report.rss_end_mib = start_rss / mib, end_rss / mib
    report.rss_peak_mib = max(peak, end_rss) / mib
    report.rss_growth_mib = (end_rss - start_rss) / mib
    report.ok = (
        report.dropped == 0
        and report.malformed == 0
        and report.rss_growth_mib <= max_rss_growth_mib
        and not any(p.startswith("server exited") for p in report.problems)
        and all(not c.is_alive() for c in clients)
    )
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load after the warm-up (default 60)")
    parser.add_argument("--connections", type=int, default=8, help="client connections (default 8)")
    parser.add_argument("--max-requests", type=int, default=10_000_000, help="stop after this many requests")
    parser.add_argument(
        "--max-rss-growth-mib", type=float, default=DEFAULT_RSS_GROWTH_MIB, help="allowed RSS growth (default 32)"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args(argv)
    if not 0 < args.duration <= 3600 or not 1 <= args.connections <= 256:
        parser.error("--duration must be in (0, 3600] and --connections in [1, 256]")
    report = run_soak(args.duration, args.connections, args.max_requests, args.max_rss_growth_mib)
    print(json.dumps(asdict(report), indent=2) if args.json else "\n".join(report.lines()))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
