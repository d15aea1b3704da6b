"""`azmlinfsrv test` as a user runs it: a real command that starts a real server.

Each test runs the command to completion (bounded) and checks its exit code, its report
and, where it matters, that the server it started (PIDs from the report or written by
score.py) is gone afterwards.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import psutil
import pytest

from ..server._support import REPO_ROOT, ServerFactory, clean_env, kill_group, wait_until

EXAMPLES = REPO_ROOT / "examples"

pytestmark = pytest.mark.ours  # a command of ours; the reference has no `test`


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def server_pid(stdout: str) -> int:
    match = re.search(r"^server: http://127\.0\.0\.1:\d+ \(pid (\d+)\)", stdout, re.M)
    assert match, stdout
    return int(match.group(1))


def gate(server: ServerFactory, *args: str, cwd: Path = REPO_ROOT, timeout: float = 90.0):
    result = server.cli("test", *args, cwd=cwd, timeout=timeout)
    return result


def write_app(root: Path, score: str, cases: dict[str, object]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "score.py").write_text(textwrap.dedent(score), encoding="utf-8")
    folder = root / "sample-requests"
    folder.mkdir()
    for name, content in cases.items():
        text = content if isinstance(content, str) else json.dumps(content)
        (folder / name).write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize(("example", "count"), [("hello", 4), ("schema", 4), ("rawhttp-image", 3)])
def test_each_example_passes_its_cases(server: ServerFactory, example: str, count: int) -> None:
    result = gate(server, "--entry_script", f"examples/{example}/score.py", "--model_dir", f"examples/{example}/model")
    assert result.returncode == 0, result.output
    assert f"{count} cases from examples/{example}/sample-requests" in result.stdout
    assert f"{count} passed, 0 failed in " in result.stdout
    assert gone(server_pid(result.stdout))


def test_the_binary_case_posts_the_png_and_gets_a_png(server: ServerFactory) -> None:
    result = gate(
        server,
        "--entry_script",
        "examples/rawhttp-image/score.py",
        "--cases",
        "examples/rawhttp-image/sample-requests/grayscale-png.case.json",
    )
    assert result.returncode == 0, result.output
    assert re.search(r"^PASS  grayscale-png  POST /score -> 200 in \d+ ms$", result.stdout, re.M), result.stdout
    # The editor's sample-request.json, which names the PNG as its body file, passes too.
    result = gate(
        server,
        "--entry_script",
        "examples/rawhttp-image/score.py",
        "--cases",
        "examples/rawhttp-image/sample-request.json",
    )
    assert result.returncode == 0, result.output


def test_sklearn_example_passes_with_its_model_trained(server: ServerFactory, tmp_path: Path) -> None:
    model = tmp_path / "model"
    subprocess.run([sys.executable, str(EXAMPLES / "sklearn" / "train.py"), str(model)], check=True, timeout=120)
    result = gate(server, "--entry_script", "examples/sklearn/score.py", "--model_dir", str(model))
    assert result.returncode == 0, result.output
    assert "2 passed, 0 failed" in result.stdout


def test_an_init_that_raises_exits_3_with_the_error_and_its_line(server: ServerFactory, tmp_path: Path) -> None:
    app = write_app(
        tmp_path / "app",
        """\
        def init():
            settings = {}
            raise RuntimeError("model.pkl not found in the model folder")

        def run(data):
            return data
        """,
        {"a.json": "{}"},
    )
    junit_path = tmp_path / "junit.xml"
    result = gate(server, "--entry_script", "score.py", "--junit-xml", str(junit_path), cwd=app)
    assert result.returncode == 3, result.output
    lines = result.stdout.splitlines()
    assert "the server did not start: it exited with code 3" in lines
    assert "init() failed with RuntimeError: model.pkl not found in the model folder" in lines
    assert "  at score.py:3 in init" in lines
    error = ET.parse(junit_path).getroot().find("testsuite/testcase/error")
    assert error is not None and "RuntimeError: model.pkl not found" in (error.get("message") or "")


def test_a_changed_answer_fails_with_a_diff_and_junit(server: ServerFactory, tmp_path: Path) -> None:
    app = tmp_path / "hello"
    shutil.copytree(EXAMPLES / "hello", app)
    score = app / "score.py"
    score.write_text(
        score.read_text().replace(
            'return {"message": greeting.format(name=name)}', 'return {"message": f"Hi, {name}!"}'
        )
    )
    junit_path = tmp_path / "results" / "junit.xml"
    result = gate(server, "--entry_script", "score.py", "--model_dir", "model", "--junit-xml", str(junit_path), cwd=app)
    assert result.returncode == 1, result.output
    out = result.stdout
    assert re.search(r"^FAIL  world +POST /score -> 200 in \d+ ms$", out, re.M), out
    assert "      the answer differs from world.expected.json in 1 place(s)" in out
    assert '        $.message: expected "Hello, world!", got "Hi, world!"' in out
    assert re.search(r"^PASS  health ", out, re.M)
    assert "1 passed, 3 failed in " in out
    suite = ET.parse(junit_path).getroot().find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "3", "0")
    testcases = {tc.get("name"): tc for tc in suite.iter("testcase")}
    assert sorted(testcases) == sorted(
        p.name.split(".")[0] for p in (app / "sample-requests").glob("*.json") if not p.name.endswith(".expected.json")
    )
    assert testcases["health"].find("failure") is None
    failure = testcases["world"].find("failure")
    assert failure is not None and '$.message: expected "Hello, world!", got "Hi, world!"' in (failure.text or "")
    assert gone(server_pid(out))


def test_a_run_that_raises_names_the_exception_and_line(server: ServerFactory, tmp_path: Path) -> None:
    app = write_app(
        tmp_path / "app",
        """\
        import json

        def init():
            pass

        def run(data):
            return {"ratio": 1 / json.loads(data)["d"]}
        """,
        {"one.json": {"d": 1}, "zero.json": {"d": 0}},
    )
    result = gate(server, "--entry_script", "score.py", cwd=app)
    assert result.returncode == 1, result.output
    out = result.stdout
    assert re.search(r"^PASS  one ", out, re.M) and re.search(r"^FAIL  zero +POST /score -> 500 ", out, re.M), out
    assert "      expected a 2xx status, got 500: An unexpected error occurred in scoring script." in out
    assert "      run() raised ZeroDivisionError: division by zero" in out
    assert "        at score.py:7 in run" in out


def test_record_then_a_clean_rerun(server: ServerFactory, tmp_path: Path) -> None:
    app = write_app(
        tmp_path / "app",
        """\
        import json
        import os

        def init():
            pass

        def run(data):
            n = json.loads(data)["n"]
            return {"n": n, "squares": [i * i / 3 for i in range(n)], "unit": os.environ["UNIT"]}
        """,
        {"three.json": {"n": 3}, "five.json": {"n": 5}},
    )
    first = gate(server, "--entry_script", "score.py", "--env", "UNIT=m2", "--record", cwd=app)
    assert first.returncode == 0, first.output
    assert (
        "wrote sample-requests/three.expected.json" in first.stdout and "2 passed, 0 failed, 2 recorded" in first.stdout
    )
    recorded = json.loads((app / "sample-requests" / "five.expected.json").read_text())
    assert recorded == {"n": 5, "squares": [0.0, 1 / 3, 4 / 3, 3.0, 16 / 3], "unit": "m2"}
    second = gate(server, "--entry_script", "score.py", "--env", "UNIT=m2", cwd=app)
    assert second.returncode == 0, second.output
    assert "2 passed, 0 failed in " in second.stdout and "recorded" not in second.stdout
    changed = gate(server, "--entry_script", "score.py", "--env", "UNIT=ft2", cwd=app)
    assert changed.returncode == 1 and '$.unit: expected "m2", got "ft2"' in changed.stdout


@pytest.mark.parametrize(("signum", "name"), [(signal.SIGINT, "SIGINT"), (signal.SIGTERM, "SIGTERM")])
def test_a_signal_during_a_run_stops_the_server(tmp_path: Path, signum: int, name: str) -> None:
    app = write_app(
        tmp_path / "app",
        f"""\
        import json, os, time
        from pathlib import Path

        def init():
            Path({str(tmp_path / "pids.json")!r}).write_text(json.dumps([os.getpid(), os.getppid()]))

        def run(data):
            Path({str(tmp_path / "running")!r}).write_text("1")
            time.sleep(120)
            return {{}}
        """,
        {"slow.json": "{}"},
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "azmlinfsrv", "test", "--entry_script", "score.py"],
        cwd=app,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    pids: list[int] = []
    try:
        wait_until(lambda: (tmp_path / "running").exists() or proc.poll() is not None, 60, "run() to start")
        assert proc.poll() is None, proc.communicate()
        pids = json.loads((tmp_path / "pids.json").read_text())  # the worker and its arbiter
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 128 + signum, (out, err)
        assert f"azmlinfsrv test: stopped by {name}; the server was stopped" in err.decode()
        assert all(gone(pid) for pid in pids), [psutil.Process(p).cmdline() for p in pids if not gone(p)]
    finally:
        kill_group(proc)
        for pid in pids:  # only if the test failed: never leave the server behind
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)


def test_usage_errors_exit_2(server: ServerFactory, tmp_path: Path) -> None:
    (tmp_path / "score.py").write_text("def init():\n    pass\n\ndef run(d):\n    return d\n")
    no_cases = gate(server, "--entry_script", "score.py", cwd=tmp_path)
    assert no_cases.returncode == 2
    assert "azmlinfsrv test: error: no cases: create sample-requests/NAME.json" in no_cases.stderr
    missing = gate(server, "--entry_script", "score.py", "--cases", "nope", cwd=tmp_path)
    assert missing.returncode == 2 and "azmlinfsrv test: error: nope does not exist" in missing.stderr
    (tmp_path / "sample-requests").mkdir()
    empty = gate(server, "--entry_script", "score.py", cwd=tmp_path)
    assert empty.returncode == 2 and "no cases in sample-requests" in empty.stderr
    bad_flag = gate(server, "--entry_script", "score.py", "--tolerance", "-1", cwd=tmp_path)
    assert bad_flag.returncode == 2 and "--tolerance" in bad_flag.stderr
    nothing = gate(server, cwd=tmp_path)
    assert nothing.returncode == 2 and "give --entry_script (or --config_file)" in nothing.stderr


def test_a_server_that_never_serves_is_stopped_after_the_start_timeout(server: ServerFactory, tmp_path: Path) -> None:
    app = write_app(
        tmp_path / "app",
        f"""\
        import json, os, time
        from pathlib import Path

        def init():
            Path({str(tmp_path / "pids.json")!r}).write_text(json.dumps([os.getpid(), os.getppid()]))
            time.sleep(120)

        def run(data):
            return data
        """,
        {"a.json": "{}"},
    )
    result = gate(server, "--entry_script", "score.py", "--start-timeout", "3", cwd=app)
    assert result.returncode == 3, result.output
    assert "the server did not start: it did not answer GET / within 3 s" in result.stdout.splitlines()
    pids = json.loads((tmp_path / "pids.json").read_text())
    assert all(gone(pid) for pid in pids)
