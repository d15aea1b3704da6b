"""Fast in-process tests of the pure parts: configuration, record contents, logging.json mapping."""

from __future__ import annotations

import logging
import logging.config
import os

import pytest

from azmlinfsrv import logs
from azmlinfsrv.telemetry import config, records

KEY = "11111111-2222-3333-4444-555555555555"
OTHER_KEY = "99999999-8888-7777-6666-555555555555"


# -- configuration -------------------------------------------------------------------------------


def test_everything_off_by_default():
    conf = config.from_environ({})
    assert not conf.enabled and not conf.tracing
    assert conf.connection_string is None


def test_instrumentation_key_alone_goes_to_the_default_endpoint():
    conf = config.from_environ({"AML_APP_INSIGHTS_ENABLED": "true", "AML_APP_INSIGHTS_KEY": KEY})
    assert conf.connection_string == f"InstrumentationKey={KEY};IngestionEndpoint={config.DEFAULT_INGESTION_ENDPOINT}"


def test_key_without_enabled_flag_is_off():
    assert config.from_environ({"AML_APP_INSIGHTS_KEY": KEY}).connection_string is None


def test_connection_string_alone_enables_app_insights_with_its_endpoint():
    env = {config.CONNECTION_STRING_ENV: f"InstrumentationKey={KEY};IngestionEndpoint=http://127.0.0.1:9/"}
    assert (
        config.from_environ(env).connection_string == f"InstrumentationKey={KEY};IngestionEndpoint=http://127.0.0.1:9"
    )


def test_key_wins_over_connection_string_whose_endpoint_is_kept():
    env = {
        "AML_APP_INSIGHTS_ENABLED": "true",
        "AML_APP_INSIGHTS_KEY": KEY,
        config.CONNECTION_STRING_ENV: f"InstrumentationKey={OTHER_KEY};IngestionEndpoint=https://x.example",
    }
    parts = config.parse_connection_string(config.from_environ(env).connection_string or "")
    assert parts["instrumentationkey"] == KEY
    assert parts["ingestionendpoint"] == "https://x.example"


def test_endpoint_suffix_and_location_build_the_endpoint():
    parts = config.parse_connection_string(
        f"InstrumentationKey={KEY};EndpointSuffix=applicationinsights.us;Location=usgov"
    )
    assert config.ingestion_endpoint(parts) == "https://usgov.dc.applicationinsights.us"


@pytest.mark.parametrize("bad", ["garbage", f"IngestionEndpoint=http://x;InstrumentationKey=not-a-uuid-{KEY[:4]}"])
def test_bad_connection_string_is_an_error_that_does_not_quote_it(bad):
    with pytest.raises(config.ConnectionStringError) as info:
        config.from_environ({config.CONNECTION_STRING_ENV: bad})
    assert bad not in str(info.value)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, (False, False)),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, (True, True)),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, (True, False)),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_LOGS_EXPORTER": "none"}, (True, False)),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, (True, False)),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, (False, False)),
    ],
)
def test_otlp_signals(env, expected):
    assert config.otlp_signals(env) == expected


def test_metrics_flag_and_reference_settings():
    conf = config.from_environ(
        {
            "AZMLINFSRV_METRICS": "true",
            "APP_INSIGHTS_LOG_RESPONSE_ENABLED": "false",
            "AML_MDC_STORAGE_ENABLED": "true",
            "SERVICE_NAME": "svc",
            "WORKSPACE_NAME": "ws",
            "HOSTNAME": "host",
        }
    )
    assert conf.metrics and not conf.tracing
    assert not conf.log_response and conf.model_data_collection
    assert (conf.service_name, conf.workspace_name, conf.container_id) == ("svc", "ws", "host")
    assert config.from_environ({"AML_MODEL_DC_STORAGE_ENABLED": "true"}).model_data_collection


def test_missing_extra_names_the_pip_command(monkeypatch):
    assert config.missing_extra("metrics") is None  # the dev install has every extra
    monkeypatch.setitem(config._NEEDS, "metrics", ("no_such_module_azmlinfsrv",))
    assert config.missing_extra("metrics") == "pip install 'azmlinfsrv[metrics]'"


# -- records -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ms", "text"),
    [(0, "00:00:00.000"), (3.9, "00:00:00.003"), (61_001, "00:01:01.001"), (90_000_000, "1.01:00:00.000")],
)
def test_duration_as_the_reference_writes_it(ms, text):
    assert records.format_duration(ms) == text


def test_start_time_is_utc_iso_with_z():
    assert records.format_start_time(0.25) == "1970-01-01T00:00:00.250000Z"


def test_request_properties_carry_the_reference_names():
    props = records.request_properties(
        container_id="c",
        workspace_name="w",
        service_name="s",
        path="/score",
        url="http://h/score",
        method="POST",
        status=500,
        started=0,
        duration_ms=2,
        request_id="r",
        client_request_id="cr",
        response='{"a": 1}',
    )
    assert list(props) == [
        "Container Id",
        "Request Id",
        "Client Request Id",
        "Response Value",
        "name",
        "url",
        "start_time",
        "duration",
        "resultCode",
        "success",
        "http_method",
        "Workspace Name",
        "Service Name",
    ]
    assert props["resultCode"] == "500" and props["success"] is False


def test_request_url_from_environ():
    environ = {"wsgi.url_scheme": "http", "HTTP_HOST": "h:1", "PATH_INFO": "/swagger.json", "QUERY_STRING": "version=3"}
    assert records.request_url(environ) == "http://h:1/swagger.json?version=3"


def test_response_value_of_binary_is_the_placeholder():
    assert records.response_value(b'{"a": 1}') == '{"a": 1}'
    assert records.response_value(b"\xff\xfe") == records.NOT_TEXT_RESPONSE
    assert records.response_value(None) == records.NOT_TEXT_RESPONSE


def test_user_exception_chains_the_users():
    wrapped = records.wrap_user_exception(KeyError("k"))
    assert isinstance(wrapped.__cause__, KeyError)
    assert str(wrapped) == records.USER_EXCEPTION_MESSAGE and wrapped.__traceback__ is not None


def test_dimensions_flat_and_as_the_reference_string():
    dims = records.dimensions({"Request Id": "r", "Models": ("m:1",)})
    assert dims == {
        "custom_dimensions": "{'Request Id': 'r', 'Models': ('m:1',)}",
        "Request Id": "r",
        "Models": "('m:1',)",
    }


def test_model_ids(tmp_path):
    (tmp_path / "a" / "1").mkdir(parents=True)
    (tmp_path / "a" / "2").mkdir()
    (tmp_path / "b" / "7").mkdir(parents=True)
    (tmp_path / "b" / "notes").mkdir()
    assert records.model_ids(str(tmp_path)) == ("a:1", "a:2", "b:7")
    assert records.model_ids(str(tmp_path / "a" / "2")) == ("a:2",)
    assert records.model_ids(str(tmp_path / "missing")) == ()


def test_to_json_never_fails():
    assert records.to_json({"a": 1}) == '{"a": 1}'
    assert records.to_json({"a": {1, 2}}).startswith('{"a": "')


# -- logging.json naming the reference's classes -------------------------------------------------


def test_reference_class_paths_map_to_ours(tmp_path):
    cfg = {
        "version": 1,
        "formatters": {
            "f": {"class": "azureml_inference_server_http.log_config.AMLLogFormatter", "format": "X %(message)s"},
            "g": {"()": "azureml_inference_server_http.log_config.AMLLogFormatter"},
        },
        "filters": {"RootAccessFilter": {"()": "azureml_inference_server_http.log_config.RootAccessFilter"}},
    }
    mapped = logs.map_reference_classes(cfg)
    assert mapped["formatters"]["f"]["class"] == "azmlinfsrv.logs.AMLLogFormatter"
    assert mapped["formatters"]["g"]["()"] == "azmlinfsrv.logs.AMLLogFormatter"
    assert mapped["filters"]["RootAccessFilter"]["()"] == "azmlinfsrv.logs.RootAccessFilter"
    assert logs.map_reference_classes([1]) == [1]


def test_alternate_logging_json_configures_in_process(tmp_path, capsys):
    (tmp_path / "logging.json").write_text(
        """{"version": 1, "disable_existing_loggers": false,
        "handlers": {"h": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "f"}},
        "formatters": {"f": {"class": "azureml_inference_server_http.log_config.AMLLogFormatter",
                             "format": "[%(levelname)s] %(name)s | %(message)s"}},
        "loggers": {"azmlinfsrv.unit": {"level": "INFO", "handlers": ["h"], "propagate": false}}}"""
    )
    try:
        assert logs.load_user_config(str(tmp_path)) == os.path.join(tmp_path, "logging.json")
        logging.getLogger("azmlinfsrv.unit").info("hello")
        assert "[INFO] azmlinfsrv.unit | hello" in capsys.readouterr().out
        assert "azmlinfsrv.unit" in logs.configured_loggers
    finally:
        logging.getLogger("azmlinfsrv.unit").handlers.clear()
        logs.configured_loggers.discard("azmlinfsrv.unit")
