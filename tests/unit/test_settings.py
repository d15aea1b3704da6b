"""settings.py: the environment merged with config.json, type checks, the serving settings."""

from __future__ import annotations

import json

import pytest

from azmlinfsrv import settings
from azmlinfsrv.settings import ConfigError, ServingConfigError, load


def test_defaults_without_anything():
    conf = load({})
    assert (conf.app_root, conf.scoring_timeout_ms, conf.log_level) == ("/var/azureml-app", 3600 * 1000, "INFO")
    assert (conf.server_port, conf.health_port, conf.worker_count, conf.worker_timeout) == (5001, None, 1, 300)
    assert conf.worker_preload is False
    assert conf.config_file is None and conf.extra_keys == []


def test_config_json_in_the_app_root_and_the_environment_beats_it(tmp_path):
    (tmp_path / "config.json").write_text(
        json.dumps({"SCORING_TIMEOUT_MS": 500, "SERVICE_NAME": "from-file", "UNKNOWN": 1, "AZUREML_LOG_LEVEL": None})
    )
    conf = load({"AML_APP_ROOT": str(tmp_path), "SERVICE_NAME": "from-env"})
    assert conf.config_file == str(tmp_path / "config.json")
    assert (conf.scoring_timeout_ms, conf.service_name, conf.log_level) == (500, "from-env", "INFO")
    assert conf.extra_keys == ["UNKNOWN"]


def test_config_json_beside_the_entry_script(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "config.json").write_text(json.dumps({"SERVICE_VERSION": "2.0"}))
    conf = load({"AML_APP_ROOT": str(tmp_path / "nowhere"), "AZUREML_ENTRY_SCRIPT": str(tmp_path / "app" / "score.py")})
    assert conf.service_version == "2.0"


def test_a_named_config_file_wins_and_an_empty_one_does_not_count(tmp_path):
    named = tmp_path / "named.json"
    named.write_text(json.dumps({"SCORING_TIMEOUT_MS": 7}))
    (tmp_path / "config.json").write_text(json.dumps({"SCORING_TIMEOUT_MS": 8}))
    assert load({"AML_APP_ROOT": str(tmp_path), "AZUREML_CONFIG_FILE": str(named)}).scoring_timeout_ms == 7
    named.write_text("")
    assert load({"AML_APP_ROOT": str(tmp_path), "AZUREML_CONFIG_FILE": str(named)}).scoring_timeout_ms == 8


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        ("12", int, 12),
        (" 12 ", int, 12),
        (12.0, int, 12),
        ("yes", bool, True),
        ("Off", bool, False),
        (1, bool, True),
        (True, bool, True),
        ("text", str, "text"),
    ],
)
def test_lax_coercion(value, kind, expected):
    assert settings._coerce("KEY", value, kind) == expected


@pytest.mark.parametrize(
    ("value", "kind", "message"),
    [
        ("twelve", int, "Input should be a valid integer, unable to parse string as an integer"),
        (True, int, "Input should be a valid integer, unable to parse string as an integer"),
        (12.5, int, "Input should be a valid integer, unable to parse string as an integer"),
        ("maybe", bool, "Input should be a valid boolean, unable to interpret input"),
        (2, bool, "Input should be a valid boolean, unable to interpret input"),
        (5, str, "Input should be a valid string"),
    ],
)
def test_wrong_types_are_config_errors(value, kind, message):
    with pytest.raises(ConfigError) as caught:
        settings._coerce("KEY", value, kind)
    assert (caught.value.key, caught.value.message) == ("KEY", message)


def test_a_wrong_type_in_the_environment_names_its_key():
    with pytest.raises(ConfigError) as caught:
        load({"SCORING_TIMEOUT_MS": "soon"})
    assert caught.value.key == "SCORING_TIMEOUT_MS"


def test_an_unreadable_config_file(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ConfigError) as caught:
        load({"AML_APP_ROOT": str(tmp_path)})
    assert caught.value.key == "AZUREML_CONFIG_FILE"
    (tmp_path / "config.json").write_text("[1]")
    with pytest.raises(ConfigError, match="must hold a JSON object"):
        load({"AML_APP_ROOT": str(tmp_path)})


def test_serving_settings_from_the_environment():
    conf = load(
        {
            "SERVER_PORT": "8001",
            "SEPERATE_HEALTH_ENDPOINT": "true",
            "HEALTH_PORT": "8002",
            "WORKER_COUNT": "3",
            "WORKER_TIMEOUT": "0",
            "WORKER_PRELOAD": "TRUE",
        }
    )
    assert (conf.server_port, conf.health_port, conf.worker_count, conf.worker_timeout) == (8001, 8002, 3, 0)
    assert conf.worker_preload is True


def test_the_health_port_counts_only_with_a_separate_endpoint():
    assert load({"HEALTH_PORT": "8002"}).health_port is None
    assert load({"SEPERATE_HEALTH_ENDPOINT": "true"}).health_port == 5000


@pytest.mark.parametrize("name", ["WORKER_COUNT", "WORKER_TIMEOUT"])
def test_worker_numbers_must_be_integers(name):
    with pytest.raises(ServingConfigError) as caught:
        load({name: "many"})
    assert caught.value.message == (
        "WORKER_COUNT and WORKER_TIMEOUT must be integers: invalid literal for int() with base 10: 'many'"
    )


def test_source_path_is_relative_to_the_app_root():
    assert load({"AML_APP_ROOT": "/app", "AZUREML_SOURCE_DIRECTORY": "src"}).source_path == "/app/src"
    assert load({}).source_path is None


def test_max_request_bytes():
    assert load({"AZMLINFSRV_MAX_REQUEST_BYTES": "10"}).max_request_bytes == 10
    with pytest.raises(ConfigError):
        load({"AZMLINFSRV_MAX_REQUEST_BYTES": "ten"})
