"""Server settings: environment variables merged with an optional config.json.

The reference reads each setting from the environment first and falls back to a
config.json; a value of the wrong type is a configuration error (exit code 3). This
module does the same without pydantic, once per process, into a frozen dataclass so
the request path never touches ``os.environ``. The serving settings (ports, workers) come
from the environment only, where the CLI has put its flags (cli.merge_into_environment).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger("azmlinfsrv")

DEFAULT_APP_ROOT = "/var/azureml-app"
DEFAULT_SCORING_TIMEOUT_MS = 3600 * 1000
DEFAULT_MAX_REQUEST_BYTES = 100 * 1024 * 1024
DEFAULT_PORT = 5001
DEFAULT_HEALTH_PORT = 5000
DEFAULT_WORKER_COUNT = 1
DEFAULT_WORKER_TIMEOUT = 300  # seconds

# Every key a config.json may carry, with the type it must have there. Environment
# values are strings and are converted; config.json values must already be of the
# type (a string is accepted where it parses, as pydantic's lax mode does).
_KEYS: dict[str, type] = {
    "AML_APP_ROOT": str,
    "AZUREML_SOURCE_DIRECTORY": str,
    "AZUREML_ENTRY_SCRIPT": str,
    "SERVICE_NAME": str,
    "WORKSPACE_NAME": str,
    "SERVICE_PATH_PREFIX": str,
    "SERVICE_VERSION": str,
    "SCORING_TIMEOUT_MS": int,
    "AZUREML_LOG_LEVEL": str,
    "AML_APP_INSIGHTS_ENABLED": bool,
    "AML_APP_INSIGHTS_KEY": str,
    "AML_MODEL_DC_STORAGE_ENABLED": bool,
    "APP_INSIGHTS_LOG_RESPONSE_ENABLED": bool,
    "AML_CORS_ORIGINS": str,
    "AZUREML_MODEL_DIR": str,
    "HOSTNAME": str,
    "AZUREML_DEBUG_PORT": int,
}


class ConfigError(Exception):
    """A setting has a value of the wrong type, or the config file cannot be read."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


class ServingConfigError(ConfigError):
    """WORKER_COUNT or WORKER_TIMEOUT is not an integer (reported as one CLI error line)."""


@dataclass(frozen=True)
class Settings:
    app_root: str = DEFAULT_APP_ROOT
    source_dir: str | None = None
    entry_script: str | None = None
    service_name: str = "ML service"
    service_path_prefix: str = ""
    service_version: str = "1.0"
    scoring_timeout_ms: int = DEFAULT_SCORING_TIMEOUT_MS
    log_level: str = "INFO"
    cors_origins: str | None = None
    model_dir: str = ""
    debug_port: int | None = None
    config_file: str | None = None
    server_version_header: str = ""
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    extra_keys: list[str] = field(default_factory=list)
    # Serving: from the environment only.
    server_port: int = DEFAULT_PORT
    health_port: int | None = None  # a second listener, when SEPERATE_HEALTH_ENDPOINT=true
    worker_count: int = DEFAULT_WORKER_COUNT
    worker_timeout: int = DEFAULT_WORKER_TIMEOUT  # seconds; 0 disables gunicorn's worker timeout
    worker_preload: bool = False

    @property
    def source_path(self) -> str | None:
        """AZUREML_SOURCE_DIRECTORY as a path (it is relative to the app root)."""
        return os.path.join(self.app_root, self.source_dir) if self.source_dir else None


def find_config_file(env: dict[str, str]) -> str | None:
    """The config file named by AZUREML_CONFIG_FILE, else config.json in the app root or
    the entry script's folder; empty files do not count."""
    named = env.get("AZUREML_CONFIG_FILE")
    if _usable(named):
        return named
    roots = [env.get("AML_APP_ROOT", DEFAULT_APP_ROOT)]
    if env.get("AZUREML_ENTRY_SCRIPT"):
        roots.append(os.path.dirname(os.path.abspath(env["AZUREML_ENTRY_SCRIPT"])))
    for root in roots:
        candidate = os.path.join(root, "config.json")
        if root and os.path.isdir(root) and _usable(candidate):
            return candidate
    return None


def _usable(path: str | None) -> bool:
    return bool(path) and os.path.isfile(path) and os.path.getsize(path) > 0  # type: ignore[arg-type]


def read_config_file(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as ex:
        raise ConfigError("AZUREML_CONFIG_FILE", f"cannot read {path}: {ex}") from None
    if not isinstance(data, dict):
        raise ConfigError("AZUREML_CONFIG_FILE", f"{path} must hold a JSON object")
    return data


def _coerce(key: str, value: Any, kind: type) -> Any:
    """Convert a value to ``kind`` the way a lax validator would, or raise ConfigError."""
    if kind is str:
        if isinstance(value, str):
            return value
        raise ConfigError(key, "Input should be a valid string")
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise ConfigError(key, "Input should be a valid integer, unable to parse string as an integer")
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in (
        "true",
        "1",
        "yes",
        "on",
        "false",
        "0",
        "no",
        "off",
    ):
        return value.strip().lower() in ("true", "1", "yes", "on")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ConfigError(key, "Input should be a valid boolean, unable to interpret input")


def load(env: dict[str, str] | None = None) -> Settings:
    """Read settings from ``env`` (default ``os.environ``) and the config file it names."""
    env = dict(os.environ if env is None else env)
    values: dict[str, Any] = {}
    config_file = find_config_file(env)
    extra: list[str] = []
    if config_file:
        data = read_config_file(config_file)
        extra = [k for k in data if k not in _KEYS]
        for key, kind in _KEYS.items():
            if data.get(key) is not None:
                values[key] = _coerce(key, data[key], kind)
    # The environment beats the file.
    for key, kind in _KEYS.items():
        if key in env:
            values[key] = _coerce(key, env[key], kind)

    max_bytes = env.get("AZMLINFSRV_MAX_REQUEST_BYTES")
    return Settings(
        **_serving(env),
        app_root=values.get("AML_APP_ROOT", DEFAULT_APP_ROOT),
        source_dir=values.get("AZUREML_SOURCE_DIRECTORY"),
        entry_script=values.get("AZUREML_ENTRY_SCRIPT"),
        service_name=values.get("SERVICE_NAME", "ML service"),
        service_path_prefix=values.get("SERVICE_PATH_PREFIX", ""),
        service_version=values.get("SERVICE_VERSION", "1.0"),
        scoring_timeout_ms=values.get("SCORING_TIMEOUT_MS", DEFAULT_SCORING_TIMEOUT_MS),
        log_level=values.get("AZUREML_LOG_LEVEL", "INFO"),
        cors_origins=values.get("AML_CORS_ORIGINS"),
        model_dir=values.get("AZUREML_MODEL_DIR", ""),
        debug_port=values.get("AZUREML_DEBUG_PORT"),
        config_file=config_file,
        server_version_header=env.get("HTTP_X_MS_SERVER_VERSION", ""),
        max_request_bytes=(
            _coerce("AZMLINFSRV_MAX_REQUEST_BYTES", max_bytes, int) if max_bytes else DEFAULT_MAX_REQUEST_BYTES
        ),
        extra_keys=extra,
    )


def _serving(env: dict[str, str]) -> dict[str, Any]:
    """Ports and workers, as the environment (where the CLI put its flags) says."""
    try:
        worker_count = int(env.get("WORKER_COUNT", DEFAULT_WORKER_COUNT))
        worker_timeout = int(env.get("WORKER_TIMEOUT", DEFAULT_WORKER_TIMEOUT))
    except ValueError as ex:
        raise ServingConfigError("WORKER_COUNT", f"WORKER_COUNT and WORKER_TIMEOUT must be integers: {ex}") from None
    separate_health = env.get("SEPERATE_HEALTH_ENDPOINT") == "true"
    return {
        "server_port": _coerce("SERVER_PORT", env.get("SERVER_PORT", DEFAULT_PORT), int),
        "health_port": (
            _coerce("HEALTH_PORT", env.get("HEALTH_PORT", DEFAULT_HEALTH_PORT), int) if separate_health else None
        ),
        "worker_count": worker_count,
        "worker_timeout": worker_timeout,
        "worker_preload": env.get("WORKER_PRELOAD", "false").lower() == "true",
    }


def log_config_error(ex: ConfigError) -> None:
    """Log a configuration error in the reference's framed format."""
    logger.critical(
        "\n===============Configuration Error=================\n"
        f"{ex.key}: {ex.message} (environment variable: {ex.key})"
        "\n==================================================="
    )
