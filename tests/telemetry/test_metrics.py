"""``GET /metrics`` (``--metrics``): counts across gunicorn workers and reloads, the user's own
prometheus_client metrics on the same page."""

from __future__ import annotations

import json
import os
import textwrap

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from ..server._support import free_port, wait_until

pytestmark = pytest.mark.ours

SCRIPT = """\
import os

from prometheus_client import Counter

PREDICTIONS = Counter("my_predictions", "Predictions made by score.py.")
VERSION = "{version}"


def init():
    pass


def run(data):
    PREDICTIONS.inc()
    return {{"pid": os.getpid(), "version": VERSION}}
"""


def samples(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = requests.get(url + "/metrics", timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def score_count(url: str) -> float:
    return samples(url).get(
        ("azmlinfsrv_requests_total", (("method", "POST"), ("route", "/score"), ("status_code", "200"))), 0.0
    )


def fresh_connection_pid(url: str) -> int:
    r = requests.post(url + "/score", data="{}", headers={"Connection": "close"}, timeout=10)
    assert r.status_code == 200
    return r.json()["pid"]


def test_counts_add_up_across_two_workers_with_the_users_counter(server):
    srv = server.start(SCRIPT.format(version="1"), "--metrics", "--worker_count", "2")
    pids: set[int] = set()
    sent = 0

    def both_workers_served() -> bool:
        nonlocal sent
        pids.add(fresh_connection_pid(srv.url))
        sent += 1
        return len(pids) == 2

    wait_until(both_workers_served, 60, "both workers to answer", interval=0)
    page = samples(srv.url)
    assert score_count(srv.url) == sent
    assert page[("my_predictions_total", ())] == sent
    names = {name for name, _ in page}
    for name in (
        "azmlinfsrv_request_duration_seconds_bucket",
        "azmlinfsrv_run_duration_seconds_count",
        "azmlinfsrv_requests_in_progress",
        "azmlinfsrv_init_duration_seconds",
        "azmlinfsrv_worker_restarts_total",
    ):
        assert name in names, (name, sorted(names))
    assert page[("azmlinfsrv_run_duration_seconds_count", ())] == sent


def test_counts_survive_a_reload(server):
    srv = server.start(SCRIPT.format(version="1"), "--metrics", "--reload", "--worker_count", "2")
    for _ in range(3):
        assert srv.score("{}").status_code == 200
    path = srv.app_dir / "score.py"
    before = path.stat().st_mtime
    path.write_text(textwrap.dedent(SCRIPT.format(version="2")), encoding="utf-8")
    os.utime(path, (before + 2, before + 2))
    srv.wait_for_log("Reloaded: workers", timeout=60)
    answered = wait_until(lambda: srv.score("{}").json()["version"] == "2", 30, "the new code to answer")
    assert answered
    # 3 before the reload, then the polls (at least one) after: none lost with the old workers.
    total = score_count(srv.url)
    assert total >= 4
    assert samples(srv.url)[("my_predictions_total", ())] == total
    assert samples(srv.url)[("azmlinfsrv_worker_restarts_total", ())] >= 2


def test_metrics_on_the_separate_health_port(server):
    health = free_port()
    srv = server.start(
        SCRIPT.format(version="1"),
        "--metrics",
        "--health_port",
        str(health),
        env={"SEPERATE_HEALTH_ENDPOINT": "true"},
    )
    assert srv.score("{}").status_code == 200
    assert score_count(f"http://127.0.0.1:{health}") == 1


def test_no_metrics_route_unless_asked(server):
    srv = server.start(SCRIPT.format(version="1"))
    assert srv.get("/metrics").status_code == 404


def test_env_turns_metrics_on(server):
    srv = server.start(SCRIPT.format(version="1"), env={"AZMLINFSRV_METRICS": "true"})
    srv.score(json.dumps({}))
    assert score_count(srv.url) == 1
