"""The config JSON: where it is found, what it sets, and configuration errors (exit 3)."""

from __future__ import annotations

import json
import os

import pytest

from ._support import ECHO_SCRIPT, settings_line, worker_env

SLEEP_5 = json.dumps({"sleep": 5})


def test_config_json_in_app_root(server):
    config = {"SCORING_TIMEOUT_MS": 500, "SERVICE_NAME": "cfg-svc", "UNKNOWN_KEY_X": 1}
    srv = server.start(ECHO_SCRIPT, files={"config.json": json.dumps(config)})
    logs = srv.logs()
    assert "Scoring timeout is set to 500" in logs
    # An unknown key warns, it does not fail. (The reference prints this warning for every start,
    # naming aliased environment variables, never the config file's unknown keys: see the `ours`
    # test below.)
    assert "Found extra keys in the config file that are not supported by the server." in logs
    assert srv.get("/swagger.json").json()["info"]["title"] == "cfg-svc"
    r = srv.score(SLEEP_5, timeout=15)
    assert (r.status_code, r.json()) == (500, {"message": "Scoring timeout after 500 ms"})


def test_explicit_config_file_flag(server, tmp_path):
    conf = tmp_path / "conf dir" / "my-config.json"
    conf.parent.mkdir()
    conf.write_text(json.dumps({"SCORING_TIMEOUT_MS": 1234}))
    # A config.json in the app root is not used when one is named explicitly.
    srv = server.start(
        ECHO_SCRIPT,
        "--config_file",
        str(conf),
        files={"config.json": json.dumps({"SCORING_TIMEOUT_MS": 999})},
    )
    assert "Scoring timeout is set to 1234" in srv.logs()
    assert settings_line(srv.logs(), "Config File") == os.path.realpath(conf)
    assert worker_env(srv, "AZUREML_CONFIG_FILE") == {"AZUREML_CONFIG_FILE": os.path.realpath(conf)}


@pytest.mark.ours
def test_unknown_config_keys_are_named_in_a_warning(server):
    srv = server.start(ECHO_SCRIPT, files={"config.json": json.dumps({"SCORING_TIMEOUT_MS": 500, "UNKNOWN_KEY_X": 1})})
    warning = [line for line in srv.log_lines() if "UNKNOWN_KEY_X" in line]
    assert warning, srv.logs()
    assert "SCORING_TIMEOUT_MS" not in " ".join(warning)
    assert "Scoring timeout is set to 500" in srv.logs()


@pytest.mark.ours
def test_cors_origins_from_config_file(server):
    # The reference reads AML_CORS_ORIGINS (and the other un-aliased AML_* settings) only from
    # the environment, never from the config file; the contract lists it as a config key.
    srv = server.start(ECHO_SCRIPT, files={"config.json": json.dumps({"AML_CORS_ORIGINS": "http://cfg.example"})})
    r = srv.score("{}", headers={"Origin": "http://cfg.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "http://cfg.example"


def test_config_file_from_environment(server, tmp_path):
    conf = tmp_path / "env-config.json"
    conf.write_text(json.dumps({"SCORING_TIMEOUT_MS": 4321}))
    srv = server.start(ECHO_SCRIPT, env={"AZUREML_CONFIG_FILE": str(conf)})
    assert "Scoring timeout is set to 4321" in srv.logs()
    assert settings_line(srv.logs(), "Config File") == str(conf)


def test_config_json_in_entry_script_folder(server):
    srv = server.start(
        None,
        entry_script="src/score.py",
        files={"src/score.py": ECHO_SCRIPT, "src/config.json": json.dumps({"SCORING_TIMEOUT_MS": 777})},
    )
    assert "Scoring timeout is set to 777" in srv.logs()


def test_environment_beats_config_file(server):
    srv = server.start(
        ECHO_SCRIPT,
        env={"SCORING_TIMEOUT_MS": "700"},
        files={"config.json": json.dumps({"SCORING_TIMEOUT_MS": 500})},
    )
    assert "Scoring timeout is set to 700" in srv.logs()


@pytest.mark.parametrize(
    "files,env,needles",
    [
        (
            {"config.json": json.dumps({"SCORING_TIMEOUT_MS": "not-a-number"})},
            None,
            ["SCORING_TIMEOUT_MS", "Configuration Error"],
        ),
        ({"config.json": json.dumps({"AZUREML_DEBUG_PORT": "x"})}, None, ["AZUREML_DEBUG_PORT"]),
        (None, {"SCORING_TIMEOUT_MS": "soon"}, ["SCORING_TIMEOUT_MS", "Configuration Error"]),
        ({"config.json": "{ this is not json"}, None, ["config"]),
    ],
    ids=["wrong-type-in-file", "wrong-type-debug-port", "wrong-type-in-env", "invalid-json"],
)
def test_configuration_errors_exit_3(server, files, env, needles):
    srv = server.start(ECHO_SCRIPT, files=files, env=env, wait=False)
    assert srv.wait_exit(30) == 3, srv.describe()
    logs = srv.logs()
    for needle in needles:
        assert needle in logs, (needle, srv.describe())


def test_log_level_and_other_settings_are_accepted(server):
    srv = server.start(
        ECHO_SCRIPT,
        env={
            "AZUREML_LOG_LEVEL": "DEBUG",
            "WORKSPACE_NAME": "ws",
            "SERVICE_NAME": "svc",
            "SERVICE_VERSION": "3.2",
        },
    )
    assert srv.score("{}").status_code == 200
