"""Prometheus metrics (``pip install azmlinfsrv[metrics]``), served as ``GET /metrics``.

prometheus-client's multiprocess mode: every process (the gunicorn arbiter and each
worker) writes its values to memory-mapped files in one directory, and ``/metrics``, in
whichever worker answers it, merges them. So counts add up across workers, and survive a
worker's replacement and a reload (a dead worker's counters stay in the sum; its live
gauges are dropped). Metrics that score.py defines with prometheus_client land in the same
files and show on the same page.

The directory must be chosen before prometheus_client is first imported in any process
(the library picks its storage at import): ``prepare_directory`` runs in the server's main
process before workers start.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import tempfile
from typing import Any

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
PREFIX = "azmlinfsrv"
# Request and run() durations, seconds: from a fast model's sub-millisecond answer to a minute.
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
UNMATCHED_ROUTE = "unmatched"


def prepare_directory(env: dict[str, str] | None = None) -> str:
    """The multiprocess directory, made empty: PROMETHEUS_MULTIPROC_DIR when set (its ``*.db``
    files of an earlier run are removed, as prometheus-client requires), else a new temporary
    directory that is removed when this process exits."""
    env = os.environ if env is None else env  # type: ignore[assignment]
    assert env is not None
    path = env.get(MULTIPROC_ENV)
    if path:
        os.makedirs(path, exist_ok=True)
        for stale in glob.glob(os.path.join(path, "*.db")):
            os.remove(stale)
        return path
    path = tempfile.mkdtemp(prefix="azmlinfsrv-metrics-")
    env[MULTIPROC_ENV] = path
    owner = os.getpid()

    def remove() -> None:
        if os.getpid() == owner:  # not in a forked worker that exits
            shutil.rmtree(path, ignore_errors=True)

    atexit.register(remove)
    return path


class ServerMetrics:
    """The server's own metrics, in one worker (one instance per process: ``server_metrics``)."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Gauge, Histogram

        self.requests = Counter(f"{PREFIX}_requests", "HTTP requests answered.", ["route", "method", "status_code"])
        self.request_duration = Histogram(
            f"{PREFIX}_request_duration_seconds",
            "Time from a request's arrival to its answer.",
            ["route", "method"],
            buckets=DURATION_BUCKETS,
        )
        self.run_duration = Histogram(
            f"{PREFIX}_run_duration_seconds", "Time spent in score.py's run().", buckets=DURATION_BUCKETS
        )
        self.in_progress = Gauge(
            f"{PREFIX}_requests_in_progress", "Requests being answered.", multiprocess_mode="livesum"
        )
        self.init_duration = Gauge(
            f"{PREFIX}_init_duration_seconds",
            "Time the last worker to start spent in score.py's init().",
            multiprocess_mode="mostrecent",
        )
        self._requests: dict[tuple[str, str, int], Any] = {}
        self._durations: dict[tuple[str, str], Any] = {}

    def request_started(self) -> None:
        self.in_progress.inc()

    def request_finished(self, route: str | None, method: str, status: int, duration_s: float) -> None:
        route = route or UNMATCHED_ROUTE
        key = (route, method, status)
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = self.requests.labels(route, method, str(status))
        counter.inc()
        histogram = self._durations.get(key[:2])
        if histogram is None:
            histogram = self._durations[key[:2]] = self.request_duration.labels(route, method)
        histogram.observe(duration_s)
        self.in_progress.dec()

    def run_finished(self, duration_s: float) -> None:
        self.run_duration.observe(duration_s)

    def init_finished(self, duration_s: float) -> None:
        self.init_duration.set(duration_s)


class ArbiterMetrics:
    """What the gunicorn arbiter counts: workers started after the first ones (a crash, a
    timeout kill, a reload)."""

    def __init__(self, workers: int) -> None:
        from prometheus_client import Counter

        self.restarts = Counter(f"{PREFIX}_worker_restarts", "Workers started to replace others (crash, kill, reload).")
        self._initial = workers
        self._forked = 0

    def worker_forked(self) -> None:
        self._forked += 1
        if self._forked > self._initial:
            self.restarts.inc()

    @staticmethod
    def worker_exited(pid: int) -> None:
        """Drop the live gauges of a worker that is gone."""
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


_server_metrics: ServerMetrics | None = None
_builtin_collectors: set[Any] | None = None


def server_metrics() -> ServerMetrics:
    """This process's ServerMetrics. One only: prometheus-client refuses a second metric of a
    name, and waitress's reload builds the app again in the same process."""
    global _server_metrics, _builtin_collectors
    if _server_metrics is None:
        from prometheus_client import REGISTRY

        _server_metrics = ServerMetrics()
        _builtin_collectors = set(getattr(REGISTRY, "_collector_to_names", {}))
    return _server_metrics


def forget_user_metrics() -> None:
    """Unregister the metrics score.py defined, before an in-process reload imports it again
    (which would define them a second time). Their values live on in the multiprocess files,
    so the counts carry on."""
    import sys

    if _builtin_collectors is None or "prometheus_client" not in sys.modules:
        return
    from prometheus_client import REGISTRY

    for collector in list(getattr(REGISTRY, "_collector_to_names", {})):
        if collector not in _builtin_collectors:
            REGISTRY.unregister(collector)


def arbiter_metrics(workers: int) -> ArbiterMetrics | None:
    """The gunicorn arbiter's metrics when ``--metrics`` is on (prepare_directory ran)."""
    from .config import METRICS_ENV, _flag

    if not _flag(os.environ.get(METRICS_ENV)) or not os.environ.get(MULTIPROC_ENV):
        return None
    try:
        return ArbiterMetrics(workers)
    except ImportError:
        return None


def render() -> tuple[bytes, str]:
    """The page: every process's values merged, in Prometheus' text format."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE_LATEST
