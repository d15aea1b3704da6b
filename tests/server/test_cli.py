"""Command line flags, the environment variables they set, and their failure modes."""

from __future__ import annotations

import os
import re
import socket
import uuid

import psutil
import pytest

from ._support import ECHO_SCRIPT, free_port, port_is_free, settings_line, wait_until, worker_env

ALL_VARS = (
    "AZUREML_ENTRY_SCRIPT",
    "AZUREML_MODEL_DIR",
    "WORKER_COUNT",
    "SERVER_PORT",
    "HEALTH_PORT",
    "AML_APP_INSIGHTS_KEY",
    "AML_APP_INSIGHTS_ENABLED",
    "AML_CORS_ORIGINS",
    "AZUREML_CONFIG_FILE",
    "AML_APP_ROOT",
)

BAD_KEY = "not-a-uuid-secret-4711"


def test_flags_set_environment_variables(server):
    health = free_port()
    srv = server.start(
        ECHO_SCRIPT,
        "--worker_count",
        "1",
        "--health_port",
        str(health),
        "--appinsights_instrumentation_key",
        BAD_KEY,
        "--access_control_allow_origins",
        "http://a.example,http://b.example",
        "--config_file",
        "conf/settings.json",
        files={"conf/settings.json": "{}"},
    )
    env = worker_env(srv, *ALL_VARS)
    app = os.path.realpath(srv.app_dir)
    assert env["AZUREML_ENTRY_SCRIPT"] == os.path.join(app, "score.py")  # realpath of the relative flag
    assert env["AZUREML_MODEL_DIR"] == str(srv.model_dir)
    assert env["WORKER_COUNT"] == "1"
    assert env["SERVER_PORT"] == str(srv.port)
    # Without SEPERATE_HEALTH_ENDPOINT the health probe is served on the scoring port.
    assert env["HEALTH_PORT"] == str(srv.port)
    assert env["AML_APP_INSIGHTS_KEY"] == BAD_KEY
    assert env["AML_APP_INSIGHTS_ENABLED"] == "false"  # not a UUID
    assert env["AML_CORS_ORIGINS"] == "http://a.example,http://b.example"
    assert env["AZUREML_CONFIG_FILE"] == os.path.join(app, "conf", "settings.json")
    assert env["AML_APP_ROOT"] == app  # defaults to the working directory

    logs = srv.logs()
    assert settings_line(logs, "Config File") == os.path.join(app, "conf", "settings.json")
    assert settings_line(logs, "Worker Count") == "1"
    assert settings_line(logs, "Server Port") == str(srv.port)


def test_flags_beat_environment(server, tmp_path):
    other = tmp_path / "env-model"
    other.mkdir()
    srv = server.start(
        ECHO_SCRIPT,
        "--worker_count",
        "1",
        "--access_control_allow_origins",
        "http://flag.example",
        "--appinsights_instrumentation_key",
        "flag-key-0815",
        env={
            "AZUREML_MODEL_DIR": str(other),
            "WORKER_COUNT": "3",
            "AML_CORS_ORIGINS": "http://env.example",
            "AML_APP_INSIGHTS_KEY": "env-key-0815",
            "AZUREML_ENTRY_SCRIPT": str(tmp_path / "does-not-exist.py"),
        },
    )
    env = worker_env(srv, *ALL_VARS)
    assert env["AZUREML_MODEL_DIR"] == str(srv.model_dir)
    assert env["WORKER_COUNT"] == "1"
    assert env["AML_CORS_ORIGINS"] == "http://flag.example"
    assert env["AML_APP_INSIGHTS_KEY"] == "flag-key-0815"
    assert env["AZUREML_ENTRY_SCRIPT"] == os.path.realpath(srv.app_dir / "score.py")
    assert "flag-key-0815" not in srv.logs()
    assert "env-key-0815" not in srv.logs()


def test_environment_used_without_flags(server, tmp_path):
    model = tmp_path / "env-model"
    model.mkdir()
    srv = server.start(
        ECHO_SCRIPT,
        model_dir=False,
        env={"AZUREML_MODEL_DIR": str(model), "WORKER_COUNT": "2", "AML_CORS_ORIGINS": "http://env.example"},
    )
    srv.wait_for_log(re.compile(r"Worker with pid \d+ ready for serving traffic"), count=2)
    env = worker_env(srv, *ALL_VARS)
    assert env["AZUREML_MODEL_DIR"] == str(model)
    assert env["WORKER_COUNT"] == "2"
    assert env["AML_CORS_ORIGINS"] == "http://env.example"
    logs = srv.logs()
    assert settings_line(logs, "Worker Count") == "2"
    assert settings_line(logs, "Model Directory") == str(model)
    assert "Use the --model_dir command line argument to set it." not in logs


def test_model_dir_hint_when_unset(server):
    srv = server.start(ECHO_SCRIPT, model_dir=False)
    logs = srv.logs()
    assert "The environment variable 'AZUREML_MODEL_DIR' has not been set." in logs
    assert "Use the --model_dir command line argument to set it." in logs
    assert worker_env(srv, "AZUREML_MODEL_DIR") == {"AZUREML_MODEL_DIR": None}


def test_server_port_from_environment_is_ignored(server):
    if not port_is_free(5001):
        pytest.skip("port 5001 (the default) is busy on this machine")
    decoy = free_port()
    srv = server.start(ECHO_SCRIPT, port=False, env={"SERVER_PORT": str(decoy)})
    assert srv.port == 5001
    env = worker_env(srv, "SERVER_PORT", "HEALTH_PORT")
    assert env == {"SERVER_PORT": "5001", "HEALTH_PORT": "5001"}
    with socket.socket() as s:
        s.settimeout(2)
        assert s.connect_ex(("127.0.0.1", decoy)) != 0, "something listens on SERVER_PORT from the environment"


@pytest.mark.parametrize(
    "args",
    [
        ["--port", "0"],
        ["--port", "65536"],
        ["--port", "abc"],
        ["--health_port", "70000"],
        ["--worker_count", "0"],
        ["--worker_count", "-2"],
        ["--no_such_flag"],
    ],
    ids=["port0", "port65536", "port-abc", "health70000", "workers0", "workers-2", "unknown-flag"],
)
def test_bad_arguments_print_help_and_exit_1(server, args):
    res = server.cli(
        "--entry_script", "score.py", *args, files={"score.py": "def init(): pass\ndef run(d): return d\n"}
    )
    assert res.returncode == 1, res.output
    # The help text lists every flag.
    for flag in (
        "--entry_script",
        "--model_dir",
        "--port",
        "--health_port",
        "--worker_count",
        "--appinsights_instrumentation_key",
        "--access_control_allow_origins",
        "--config_file",
    ):
        assert flag in res.output, (flag, res.output)


def test_neither_entry_script_nor_config_file_exits_1(server):
    res = server.cli("--port", str(free_port()))
    assert res.returncode == 1, res.output
    assert (
        "Either provide an entry_script using --entry_script or provide a path to the configuration "
        "file using --config_file"
    ) in res.output


def test_app_insights_invalid_key_is_disabled_and_never_printed(server):
    srv = server.start(ECHO_SCRIPT, "--appinsights_instrumentation_key", BAD_KEY)
    logs = srv.logs()
    assert "Invalid Application Insights instrumentation key provided." in logs
    assert "Application Insights has been disabled." in logs
    assert settings_line(logs, "Application Insights Key") == "AppInsights key provided"
    assert worker_env(srv, "AML_APP_INSIGHTS_ENABLED", "AML_APP_INSIGHTS_KEY") == {
        "AML_APP_INSIGHTS_ENABLED": "false",
        "AML_APP_INSIGHTS_KEY": BAD_KEY,
    }
    srv.score("{}")
    srv.wait_for_log("POST /score 200")
    assert BAD_KEY not in srv.logs()


def test_app_insights_valid_key_enabled_and_never_printed(server):
    key = str(uuid.uuid4())
    srv = server.start(ECHO_SCRIPT, "--appinsights_instrumentation_key", key)
    assert "Valid Application Insights instrumentation key provided." in srv.logs()
    assert settings_line(srv.logs(), "Application Insights Key") == "AppInsights key provided"
    assert worker_env(srv, "AML_APP_INSIGHTS_ENABLED")["AML_APP_INSIGHTS_ENABLED"] == "true"
    srv.wait_for_log("POST /score 200")
    assert key not in srv.logs()


def test_app_insights_key_from_environment_needs_enabled_flag(server):
    key = str(uuid.uuid4())
    srv = server.start(ECHO_SCRIPT, env={"AML_APP_INSIGHTS_KEY": key})
    assert settings_line(srv.logs(), "Application Insights Enabled") == "false"
    assert worker_env(srv, "AML_APP_INSIGHTS_ENABLED")["AML_APP_INSIGHTS_ENABLED"] == "false"
    assert key not in srv.logs()


@pytest.mark.ours
def test_banner_says_app_insights_is_on_when_a_connection_string_alone_turns_it_on(server):
    key = str(uuid.uuid4())
    endpoint = "http://127.0.0.1:9"  # nothing listens: export fails quietly, serving goes on
    env = {
        "APPLICATIONINSIGHTS_CONNECTION_STRING": f"InstrumentationKey={key};IngestionEndpoint={endpoint}",
        "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
    }
    srv = server.start(ECHO_SCRIPT, env=env)
    assert settings_line(srv.logs(), "Application Insights Enabled") == "true"
    assert key not in srv.logs()


def test_default_host_listens_on_all_interfaces(server):
    srv = server.start(ECHO_SCRIPT)
    addrs = _listen_addresses(srv.port)
    assert addrs and all(ip in ("0.0.0.0", "::") for ip in addrs), addrs


def _listen_addresses(port: int) -> set[str]:
    return {
        c.laddr.ip
        for c in psutil.net_connections(kind="tcp")
        if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
    }


@pytest.mark.ours
def test_version_flag(server):
    res = server.cli("--version")
    assert res.returncode == 0, res.output
    assert any(line.startswith("azmlinfsrv ") for line in res.stdout.splitlines()), res.output


@pytest.mark.ours
def test_host_flag_binds_loopback_only(server):
    srv = server.start(ECHO_SCRIPT, "--host", "127.0.0.1")
    assert _listen_addresses(srv.port) == {"127.0.0.1"}
    assert srv.get("/").text == "Healthy"


def test_debug_port_connects_to_a_listening_debugger_first(server):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(0.1)
        port = listener.getsockname()[1]
        srv = server.start(ECHO_SCRIPT, env={"AZUREML_DEBUG_PORT": str(port)}, wait=False)
        conn = None

        def connected():
            nonlocal conn
            logs = srv.logs()
            if "debugpy is not installed" in logs:
                return "no-debugpy"
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                if srv.proc.poll() is not None:
                    raise AssertionError(srv.describe()) from None
                return None
            return "connected"

        outcome = wait_until(connected, 30, "a connection to the debugger port", on_fail=srv.describe)
        try:
            if outcome == "no-debugpy":
                pytest.skip("debugpy is not installed in the server's environment")
            logs = srv.logs()
            assert "Starting the inference server in DEBUGGING mode because AZUREML_DEBUG_PORT is set." in logs
            assert f"Connecting to debugger at port {port}" in logs
            # The script is not loaded while the debugger has not answered.
            assert "Invoking user's init function" not in logs
        finally:
            if conn is not None:
                conn.close()
