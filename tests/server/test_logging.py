"""Start-up output, the log line format, request logs, print() capture, logging.json."""

from __future__ import annotations

import datetime
import json
import os
import re

import psutil
import pytest

from ._support import ECHO_SCRIPT, LOG_LINE_RE, free_port, lines_with, settings_line

SETTINGS_LABELS = (
    "Entry Script Name",
    "Model Directory",
    "Config File",
    "Worker Count",
    "Worker Timeout (seconds)",
    "Server Port",
    "Health Port",
    "Application Insights Enabled",
    "Application Insights Key",
    "Inferencing HTTP server version",
    "CORS for the specified origins",
    "Create dedicated endpoint for health",
)

PRINTING_SCRIPT = """\
import os
import sys


def init():
    print("marker-init-print")
    print("marker-to-stderr", file=sys.stderr)


def run(data):
    print("marker-run-print", data)
    return {"pid": os.getpid()}
"""


def test_startup_banner_settings_and_routes(server):
    srv = server.start(ECHO_SCRIPT)
    out = srv.logs()
    lines = out.splitlines()

    banner = [line for line in lines if re.search(r"HTTP server v\d+\.\d+", line)]
    assert banner, out

    assert "Server Settings" in lines
    start = lines.index("Server Settings")
    assert lines[start + 1] == "---------------"
    for label in SETTINGS_LABELS:
        assert settings_line(out, label) is not None, (label, out)

    assert settings_line(out, "Entry Script Name") == os.path.realpath(srv.app_dir / "score.py")
    assert settings_line(out, "Model Directory") == str(srv.model_dir)
    assert settings_line(out, "Config File") == "None"
    assert settings_line(out, "Worker Count") == "1"
    # The reference prints the WORKER_TIMEOUT variable as is (None when unset); 300 is the value in use.
    assert settings_line(out, "Worker Timeout (seconds)") in ("None", "300")
    assert settings_line(out, "Server Port") == str(srv.port)
    assert settings_line(out, "Health Port") == str(srv.port)
    assert settings_line(out, "Application Insights Enabled") == "false"
    assert settings_line(out, "Application Insights Key") == "None"
    assert re.fullmatch(r"azmlinfsrv/\d+\.\d+\.\d+\S*", settings_line(out, "Inferencing HTTP server version"))
    assert settings_line(out, "CORS for the specified origins") == "None"
    assert settings_line(out, "Create dedicated endpoint for health") in ("None", "false")

    assert "Server Routes" in lines
    routes = lines.index("Server Routes")
    assert routes > start
    assert lines[routes + 1] == "---------------"
    block = "\n".join(lines[routes : routes + 5])
    assert re.search(rf"^Liveness Probe: GET\s+127\.0\.0\.1:{srv.port}/$", block, re.M), block
    assert re.search(rf"^Score:\s+POST\s+127\.0\.0\.1:{srv.port}/score$", block, re.M), block


def test_settings_show_worker_timeout_cors_and_health(server):
    health = free_port()
    srv = server.start(
        ECHO_SCRIPT,
        "--access_control_allow_origins",
        "http://a.example, http://b.example",
        "--health_port",
        str(health),
        env={"WORKER_TIMEOUT": "123", "SEPERATE_HEALTH_ENDPOINT": "true"},
    )
    out = srv.logs()
    assert settings_line(out, "Worker Timeout (seconds)") == "123"
    assert (
        settings_line(out, "CORS for the specified origins") == "Enabling CORS for http://a.example, http://b.example"
    )
    assert settings_line(out, "Create dedicated endpoint for health") == "true"
    assert settings_line(out, "Health Port") == str(health)
    assert settings_line(out, "Server Port") == str(srv.port)
    assert re.search(rf"^Liveness Probe: GET\s+127\.0\.0\.1:{health}/$", out, re.M), out
    assert "Enabling CORS for the following origins: http://a.example, http://b.example" in out


def test_user_script_lifecycle_lines(server):
    srv = server.start(ECHO_SCRIPT)
    r = srv.score(json.dumps({"pid": 1}))
    pid = r.json()["pid"]
    logs = srv.logs()
    script = os.path.realpath(srv.app_dir / "score.py")
    expected_in_order = [
        f"Found user script at {script}",
        "run() is not decorated. Server will invoke it with the input in JSON string.",
        "Invoking user's init function",
        "Users's init has completed successfully",
        "Scoring timeout is set to 3600000",
        f"Worker with pid {pid} ready for serving traffic",
    ]
    positions = []
    for text in expected_in_order:
        found = [line for line in logs.splitlines() if text in line]
        assert len(found) == 1, (text, logs)
        assert LOG_LINE_RE.match(found[0]), found[0]
        assert f"[{pid}]" in found[0], found[0]
        positions.append(logs.index(text))
    assert positions == sorted(positions), logs
    assert re.search(r"\] azmlinfsrv\.user_script - Found user script at ", logs)
    assert re.search(r"\] azmlinfsrv - Worker with pid \d+ ready for serving traffic", logs)


def test_log_line_format_and_request_lines(server):
    srv = server.start(ECHO_SCRIPT)
    body = json.dumps({"env": ["NO_SUCH_VARIABLE_X"]})
    r = srv.score(body)
    assert r.status_code == 200
    length = len(r.content)
    line = srv.wait_for_log(re.compile(rf"^.* POST /score 200 \d+\.\d{{3}}ms {length}$", re.M)).group(0)
    assert LOG_LINE_RE.match(line), line
    assert re.search(r" I \[\d+\] azmlinfsrv - POST /score 200 ", line), line

    # The time stamp is UTC.
    stamp = datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").replace(tzinfo=datetime.timezone.utc)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - stamp).total_seconds()) < 120, (line, now)

    r = srv.get("/score?a=1&b=x")
    assert r.status_code == 200
    srv.wait_for_log(re.compile(rf"azmlinfsrv - GET /score\?a=1&b=x 200 \d+\.\d{{3}}ms {len(r.content)}$", re.M))

    # Every line of an azmlinfsrv logger follows the format.
    for text in srv.log_lines():
        if re.match(r"^\d{4}-\d\d-\d\d .*\] azmlinfsrv", text):
            assert LOG_LINE_RE.match(text), text


def test_print_becomes_one_info_line(server):
    srv = server.start(PRINTING_SCRIPT)
    r = srv.score("hello-body")
    assert r.status_code == 200
    pid = r.json()["pid"]
    srv.wait_for_log("marker-run-print hello-body")
    logs = srv.logs()
    for marker in ("marker-init-print", "marker-run-print hello-body"):
        found = lines_with(logs, marker)
        assert len(found) == 1, (marker, logs)
        assert LOG_LINE_RE.match(found[0]), found[0]
        assert f" I [{pid}] azmlinfsrv.print - {marker}" in found[0], found[0]
    # print() to another file than stdout is left alone.
    assert "marker-to-stderr" in srv.stderr().splitlines()


LOGGING_JSON = json.dumps(
    {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"custom": {"format": "CUSTOMFMT %(name)s | %(message)s"}},
        "handlers": {"out": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "custom"}},
        "loggers": {"azmlinfsrv": {"level": "INFO", "handlers": ["out"], "propagate": False}},
    }
)


@pytest.mark.parametrize("where", ["app_root", "script_folder"])
def test_logging_json_replaces_logging_setup(server, where):
    if where == "app_root":
        srv = server.start(ECHO_SCRIPT, files={"logging.json": LOGGING_JSON})
    else:
        srv = server.start(
            None,
            entry_script="src/score.py",
            files={"src/score.py": ECHO_SCRIPT, "src/logging.json": LOGGING_JSON},
        )
    srv.wait_for_log(re.compile(r"^CUSTOMFMT azmlinfsrv \| Worker with pid \d+ ready for serving traffic$", re.M))
    srv.score("{}")
    srv.wait_for_log(re.compile(r"^CUSTOMFMT azmlinfsrv \| POST /score 200 \d+\.\d{3}ms \d+$", re.M))
    # The default format is no longer used for those lines.
    assert not re.search(r"\] azmlinfsrv - Worker with pid", srv.logs())


def test_worker_preload_runs_init_before_fork(server):
    srv = server.start(ECHO_SCRIPT, env={"WORKER_PRELOAD": "true"})
    run_pid = srv.score(json.dumps({"pid": 1})).json()["pid"]
    ready = srv.wait_for_log(re.compile(r"Worker with pid (\d+) ready for serving traffic"))
    init_pid = int(ready.group(1))
    assert init_pid != run_pid
    assert psutil.Process(run_pid).ppid() == init_pid


@pytest.mark.ours
def test_user_logging_records_are_shown(server):
    srv = server.start("""\
        import logging

        def init():
            logging.getLogger("mymodel").info("hello from user init")

        def run(data):
            logging.getLogger("mymodel").info("hello from user run")
            return "ok"
        """)
    assert srv.score("x").status_code == 200
    srv.wait_for_log("hello from user run")
    assert len(lines_with(srv.logs(), "hello from user init")) == 1
    assert len(lines_with(srv.logs(), "hello from user run")) == 1
