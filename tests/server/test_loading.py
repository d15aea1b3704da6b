"""Loading score.py: locations, sys.path, driver modules, compat imports, and failures (exit 3)."""

from __future__ import annotations

import json
import os
import time

import pytest

from ._support import ECHO_SCRIPT, worker_env

INIT_RUN = "def init():\n    pass\n\n\ndef run(data):\n    return data\n"


def test_main_py_fallback_without_entry_script(server):
    srv = server.start(
        None,
        "--config_file",
        "config.json",
        entry_script=False,
        files={
            "main.py": "def init():\n    pass\n\ndef run(data):\n    return 'from-main:' + data\n",
            "config.json": "{}",
        },
    )
    assert srv.score("x").json() == "from-main:x"
    assert f"Found user script at {os.path.realpath(srv.app_dir / 'main.py')}" in srv.logs()


def test_entry_script_from_config_is_relative_to_app_root(server):
    srv = server.start(
        None,
        "--config_file",
        "config.json",
        entry_script=False,
        files={
            "sub/entry.py": "def init():\n    pass\n\ndef run(data):\n    return 'entry:' + data\n",
            "config.json": json.dumps({"AZUREML_ENTRY_SCRIPT": "sub/entry.py"}),
        },
    )
    assert srv.score("y").json() == "entry:y"


def test_relative_entry_script_from_environment_is_relative_to_app_root(server, tmp_path):
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    srv = server.start(
        None,
        "--config_file",
        "{app_dir}/config.json",
        entry_script=False,
        cwd=elsewhere,
        files={
            "nested/s.py": "def init():\n    pass\n\ndef run(data):\n    return 'nested:' + data\n",
            "config.json": "{}",
        },
        env={"AML_APP_ROOT": "{app_dir}", "AZUREML_ENTRY_SCRIPT": "nested/s.py"},
    )
    assert srv.score("z").json() == "nested:z"


def test_app_root_defaults_to_cwd_and_is_on_sys_path(server):
    # score.py lives in a sub folder: only the app root makes the helper importable.
    srv = server.start(
        None,
        entry_script="src/score.py",
        files={
            "src/score.py": "import approot_helper\n" + ECHO_SCRIPT,
            "approot_helper.py": "VALUE = 'helper-from-app-root'\n",
        },
    )
    r = srv.score(json.dumps({"import": "approot_helper", "env": ["AML_APP_ROOT"], "syspath": 1}))
    body = r.json()
    assert body["import"] == "helper-from-app-root"
    assert body["env"]["AML_APP_ROOT"] == str(srv.app_dir)
    assert str(srv.app_dir) in body["syspath"]


def test_explicit_app_root_and_source_directory_on_sys_path(server, tmp_path):
    root = tmp_path / "elsewhere"
    (root / "lib").mkdir(parents=True)
    (root / "root_helper.py").write_text("VALUE = 'root-helper'\n")
    (root / "lib" / "src_helper.py").write_text("VALUE = 'source-dir-helper'\n")
    script = "import root_helper\nimport src_helper\n" + ECHO_SCRIPT
    srv = server.start(script, env={"AML_APP_ROOT": str(root), "AZUREML_SOURCE_DIRECTORY": "lib"})
    assert srv.score(json.dumps({"import": "root_helper"})).json()["import"] == "root-helper"
    assert srv.score(json.dumps({"import": "src_helper"})).json()["import"] == "source-dir-helper"
    env = worker_env(srv, "AML_APP_ROOT")
    assert env["AML_APP_ROOT"] == str(root)
    syspath = srv.score(json.dumps({"syspath": 1})).json()["syspath"]
    assert str(root) in syspath
    assert os.path.join(str(root), "lib") in syspath


def test_driver_module_outer_init_inner_run(server):
    srv = server.start(
        """\
        import os
        import driver_impl as driver_module


        def init():
            os.environ["OUTER_INIT_RAN"] = "yes"


        def run(data):
            return "outer-run"
        """,
        files={
            "driver_impl.py": """\
            import os


            def init():
                os.environ["INNER_INIT_RAN"] = "yes"


            def run(data):
                return {"who": "driver", "data": data,
                        "outer_init": os.environ.get("OUTER_INIT_RAN"),
                        "inner_init": os.environ.get("INNER_INIT_RAN")}
            """
        },
    )
    assert srv.score("d").json() == {"who": "driver", "data": "d", "outer_init": "yes", "inner_init": None}
    assert (
        f"Found driver script at {os.path.realpath(srv.app_dir / 'score.py')} and the score script at "
        f"{os.path.realpath(srv.app_dir / 'driver_impl.py')}"
    ) in srv.logs()


COMPAT_SCRIPT = """\
import json

import flask
from azureml.contrib.services.aml_request import AMLRequest, rawhttp
from azureml.contrib.services.aml_response import AMLResponse
from azureml_inference_server_http.api.aml_request import AMLRequest as AMLRequest2
from azureml_inference_server_http.api.aml_request import rawhttp as rawhttp2
from azureml_inference_server_http.api.aml_response import AMLResponse as AMLResponse2
{extra_import}

def init():
    pass


@rawhttp
def run(request):
    info = {{
        "method": request.method,
        "body": request.get_data(as_text=True),
        "is_flask_request": isinstance(request, flask.Request),
        "request_classes": issubclass(AMLRequest, flask.Request) and issubclass(AMLRequest2, flask.Request),
        "response_classes": (issubclass(AMLResponse, flask.Response)
                             and issubclass(AMLResponse2, flask.Response)),
        "rawhttp2": callable(rawhttp2),
        "extra": {extra_value},
    }}
    return AMLResponse2(json.dumps(info), 200, {{"Content-Type": "application/json"}})
"""


def test_azureml_compat_imports_in_user_code(server):
    srv = server.start(COMPAT_SCRIPT.format(extra_import="", extra_value="None"))
    r = srv.score("payload")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {
        "method": "POST",
        "body": "payload",
        "is_flask_request": True,
        "request_classes": True,
        "response_classes": True,
        "rawhttp2": True,
        "extra": None,
    }


def test_compat_imports_do_not_shadow_a_real_azureml_package(server):
    # A real `azureml` namespace package (here a fake one on the app root) stays importable.
    srv = server.start(
        COMPAT_SCRIPT.format(
            extra_import="import azureml.core\nfrom azureml.contrib.services import other",
            extra_value="[azureml.core.VALUE, other.VALUE]",
        ),
        files={
            "azureml/core/__init__.py": "VALUE = 'real-core'\n",
            "azureml/contrib/services/other.py": "VALUE = 'real-other'\n",
        },
    )
    r = srv.score("p")
    assert r.status_code == 200, r.text
    assert r.json()["extra"] == ["real-core", "real-other"]


# (id, score.py source, texts that must be logged, a traceback is expected)
FAILURES = [
    ("import-error", "import no_such_module_qq\n" + INIT_RUN, ["No module named 'no_such_module_qq'"], True),
    ("syntax-error", "def init(:\n    pass\n", ["SyntaxError"], True),
    ("raise-at-import", "x = 1\ny = 1 / 0\n" + INIT_RUN, ["ZeroDivisionError: division by zero"], True),
    (
        "missing-init",
        "def run(data):\n    return data\n",
        ["does not have a init() function defined."],
        False,
    ),
    ("missing-run", "def init():\n    pass\n", ["does not have a run() function defined."], False),
    (
        "star-args",
        "def init():\n    pass\n\ndef run(*args):\n    return 1\n",
        ["run() cannot accept positional-only arguments, *args, or **kwargs."],
        False,
    ),
    (
        "kwargs",
        "def init():\n    pass\n\ndef run(data, **kwargs):\n    return 1\n",
        ["run() cannot accept positional-only arguments, *args, or **kwargs."],
        False,
    ),
    (
        "positional-only",
        "def init():\n    pass\n\ndef run(data, /):\n    return 1\n",
        ["run() cannot accept positional-only arguments, *args, or **kwargs."],
        False,
    ),
    (
        "no-input",
        "def init():\n    pass\n\ndef run():\n    return 1\n",
        ["run() needs to accept an argument for input data."],
        False,
    ),
    (
        "only-request-headers",
        "def init():\n    pass\n\ndef run(request_headers):\n    return 1\n",
        ['run() needs to accept an argument other than "request_headers".'],
        False,
    ),
    (
        "init-raises",
        "def init():\n    raise RuntimeError('init-boom-marker')\n\ndef run(data):\n    return data\n",
        ["User's init function failed", "RuntimeError: init-boom-marker"],
        True,
    ),
    (
        "rawhttp-and-input-schema",
        """\
from azureml.contrib.services.aml_request import rawhttp
from inference_schema.schema_decorators import input_schema
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType


def init():
    pass


@rawhttp
@input_schema("data", StandardPythonParameterType({"a": 1}))
def run(data):
    return data
""",
        ["run() cannot be decorated with both @rawhttp and @input_schema"],
        False,
    ),
]


@pytest.mark.parametrize("source,texts,traceback", [f[1:] for f in FAILURES], ids=[f[0] for f in FAILURES])
def test_script_failures_exit_3(server, source, texts, traceback):
    started = time.monotonic()
    srv = server.start(source, wait=False)
    rc = srv.wait_exit(30)
    logs = srv.logs()
    assert rc == 3, srv.describe()
    for text in texts:
        assert text in logs, (text, srv.describe())
    if traceback:
        assert "Traceback (most recent call last)" in logs, srv.describe()
    assert time.monotonic() - started < 30


def test_init_failure_lists_model_directory(server):
    model_files = {"weights.bin": b"\0", "sub/inner.txt": "x"}
    srv = server.start(
        "def init():\n    raise ValueError('nope')\n\ndef run(data):\n    return data\n",
        wait=False,
        model_files=model_files,
    )
    assert srv.wait_exit(30) == 3, srv.describe()
    logs = srv.logs()
    assert "Model Directory Contents:" in logs
    listing = logs[logs.index("Model Directory Contents:") :]
    for name in ("weights.bin", "sub/", "    inner.txt"):
        assert name in listing, (name, listing)
    assert "Output Truncated" not in logs


def test_init_failure_model_listing_is_truncated_at_200_lines(server):
    model_files = {f"f{i:03d}.txt": "" for i in range(250)}
    srv = server.start(
        "def init():\n    raise ValueError('nope')\n\ndef run(data):\n    return data\n",
        wait=False,
        model_files=model_files,
    )
    assert srv.wait_exit(30) == 3, srv.describe()
    logs = srv.logs()
    assert "Output Truncated. First 200 lines shown." in logs
    listed = [n for n in (f"f{i:03d}.txt" for i in range(250)) if n in logs]
    assert 195 <= len(listed) < 200, len(listed)  # the folder line itself is one of the 200


def test_missing_entry_script_exits_3(server):
    srv = server.start(None, entry_script="missing_score.py", wait=False)
    assert srv.wait_exit(30) == 3, srv.describe()
    assert "missing_score.py" in srv.logs()


def test_no_entry_script_and_no_main_py_exits_3(server):
    srv = server.start(
        None, "--config_file", "config.json", entry_script=False, wait=False, files={"config.json": "{}"}
    )
    assert srv.wait_exit(30) == 3, srv.describe()
    assert "No score script found. Expected score script main.py." in srv.logs()
