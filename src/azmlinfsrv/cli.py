"""The ``azmlinfsrv`` command line: flags → environment variables → settings → a runner.

Flags set the environment variables user code reads (as the reference does), so the
same score.py sees the same ``AZUREML_MODEL_DIR``, ``SERVER_PORT``... here and there.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from typing import NoReturn

from . import __version__, debugging, events, logs, parent_watch, settings, telemetry
from .runners import PortInUse, RunOptions, check_ports_free
from .settings import DEFAULT_HEALTH_PORT, DEFAULT_PORT, DEFAULT_WORKER_COUNT

logger = logging.getLogger("azmlinfsrv")

DEFAULT_HOST = "0.0.0.0"

EXIT_BAD_ARGUMENTS = 1
EXIT_CONFIG_ERROR = 3

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z", re.I)


def _port(value: str) -> int:
    port = int(value)
    if not 1 <= port <= 65535:
        raise ValueError(
            f"Specified port '{port}' is invalid. Please specify a port within range the [1, 65535] range."
        )
    return port


def _worker_count(value: str) -> int:
    count = int(value)
    if count <= 0:
        raise ValueError(
            f"Specified worker count '{count}' is invalid. Please specify a worker count greater than zero."
        )
    return count


def _default_server() -> str:
    return "waitress" if sys.platform == "win32" else "gunicorn"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="azmlinfsrv",
        description=f"Azure ML Inferencing HTTP server v{__version__} (azmlinfsrv, open implementation)",
    )
    _add_reference_flags(parser)
    _add_own_flags(parser)
    parser.add_argument("--version", action="version", version=f"azmlinfsrv {__version__}")
    return parser


def _add_reference_flags(parser: argparse.ArgumentParser) -> None:
    """The reference server's flags, with its help texts and defaults."""
    add = parser.add_argument
    add("--entry_script", help="The relative or absolute path to the scoring script.")
    add(
        "--model_dir",
        help="The relative or absolute path to the model directory, exposed to the script as AZUREML_MODEL_DIR.",
    )
    add("--appinsights_instrumentation_key", help="The Application Insights instrumentation key.")
    add("--port", type=_port, help=f"The serving port of the server. Default is {DEFAULT_PORT}.")
    add("--health_port", type=_port, help=f"The health port of the server. Default is {DEFAULT_HEALTH_PORT}.")
    add("--worker_count", type=_worker_count, help="The number of worker processes. Default is 1.")
    add(
        "--access_control_allow_origins",
        help='Enable CORS for the specified origins, separated by ",". Example: "microsoft.com, bing.com"',
    )
    add("--config_file", help="The relative or absolute path to the configuration file.")
    add("--rest", action="store_true", help=argparse.SUPPRESS)


def _add_own_flags(parser: argparse.ArgumentParser) -> None:
    """Flags beyond the reference; each keeps the reference's behaviour when absent."""
    add = parser.add_argument
    add(
        "--host",
        default=DEFAULT_HOST,
        help=f"The address to listen on. Default is {DEFAULT_HOST} (as the reference); 127.0.0.1 keeps the "
        "server off the network.",
    )
    add(
        "--server",
        choices=["gunicorn", "waitress"],
        default=_default_server(),
        help="The HTTP front: gunicorn (default on POSIX) or waitress (default on Windows).",
    )
    add(
        "--reload",
        action="store_true",
        help="Restart the workers when Python files under the entry script's folder or the source directory "
        "change; if the new code fails, the previous workers keep serving.",
    )
    add(
        "--events",
        metavar="PATH",
        help=f"Append structured JSON-line events to PATH (or set {events.ENV_VAR}).",
    )
    add(
        "--metrics",
        action="store_true",
        help="Serve Prometheus metrics at GET /metrics (or set AZMLINFSRV_METRICS=true); needs azmlinfsrv[metrics].",
    )


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = build_parser()
    try:
        return parser.parse_args(argv)
    except SystemExit as ex:
        if ex.code == 0:  # --help, --version
            raise
        print()
        parser.usage = argparse.SUPPRESS
        parser.print_help()
        sys.exit(EXIT_BAD_ARGUMENTS)


def _set(name: str, value: object, default: object = None) -> None:
    """A flag beats the environment, which beats the default."""
    if value is not None:
        os.environ[name] = str(value)
    elif name not in os.environ and default is not None:
        os.environ[name] = str(default)


def merge_into_environment(args: argparse.Namespace) -> None:
    env = os.environ
    env.setdefault("AML_APP_ROOT", os.getcwd())
    if args.entry_script:
        env["AZUREML_ENTRY_SCRIPT"] = os.path.realpath(args.entry_script)
    _set("TRANSPORT_PROTOCOL", "rest" if args.rest else "grpc")
    _set("AZUREML_MODEL_DIR", args.model_dir)
    _set("WORKER_COUNT", args.worker_count, DEFAULT_WORKER_COUNT)
    flag = env.get("SERVER_VERSION_LOG_RESPONSE_ENABLED")
    if flag is None or flag.lower() == "true":
        _set("HTTP_X_MS_SERVER_VERSION", f"azmlinfsrv/{__version__}")
    # SERVER_PORT from the environment is ignored, as in the reference.
    env["SERVER_PORT"] = str(args.port or DEFAULT_PORT)
    if env.get("SEPERATE_HEALTH_ENDPOINT") == "true":
        env["HEALTH_PORT"] = str(args.health_port or DEFAULT_HEALTH_PORT)
    else:
        _set("HEALTH_PORT", args.port, DEFAULT_PORT)
    if args.appinsights_instrumentation_key is not None:
        env["AML_APP_INSIGHTS_ENABLED"] = "true"
    _set("AML_APP_INSIGHTS_KEY", args.appinsights_instrumentation_key)
    if args.access_control_allow_origins is not None:
        env["AML_CORS_ORIGINS"] = args.access_control_allow_origins
    if args.config_file:
        env["AZUREML_CONFIG_FILE"] = os.path.realpath(args.config_file)
    if args.events:
        env[events.ENV_VAR] = os.path.abspath(args.events)
    if args.metrics:
        env["AZMLINFSRV_METRICS"] = "true"


def validate_environment() -> None:
    env = os.environ
    if "AZUREML_MODEL_DIR" not in env:
        print("The environment variable 'AZUREML_MODEL_DIR' has not been set.")
        print("Use the --model_dir command line argument to set it.")
    if env.get("AML_APP_INSIGHTS_ENABLED") == "true" and "AML_APP_INSIGHTS_KEY" in env:
        if _UUID.match(env["AML_APP_INSIGHTS_KEY"]):
            print("Valid Application Insights instrumentation key provided.")
        else:
            env["AML_APP_INSIGHTS_ENABLED"] = "false"
            print("Invalid Application Insights instrumentation key provided.")
            print("Application Insights has been disabled.")
    else:
        env["AML_APP_INSIGHTS_ENABLED"] = "false"


# The banner's settings: label, and the environment variable whose value it shows.
BANNER_SETTINGS = [
    ("Entry Script Name", "AZUREML_ENTRY_SCRIPT"),
    ("Model Directory", "AZUREML_MODEL_DIR"),
    ("Config File", "AZUREML_CONFIG_FILE"),
    ("Worker Count", "WORKER_COUNT"),
    ("Worker Timeout (seconds)", "WORKER_TIMEOUT"),
    ("Server Port", "SERVER_PORT"),
    ("Health Port", "HEALTH_PORT"),
    ("Application Insights Enabled", "AML_APP_INSIGHTS_ENABLED"),
    ("Application Insights Key", "AML_APP_INSIGHTS_KEY"),
    ("Inferencing HTTP server version", "HTTP_X_MS_SERVER_VERSION"),
    ("CORS for the specified origins", "AML_CORS_ORIGINS"),
    ("Create dedicated endpoint for health", "SEPERATE_HEALTH_ENDPOINT"),
]


def banner_value(name: str, app_insights: bool) -> str | None:
    """A setting as the banner shows it: never the key itself."""
    value = os.environ.get(name)
    if name == "AML_APP_INSIGHTS_ENABLED" and app_insights:
        return "true"
    if name == "AML_APP_INSIGHTS_KEY" and value is not None:
        return "AppInsights key provided"
    if name == "AML_CORS_ORIGINS" and value is not None:
        return f"Enabling CORS for {value}"
    return value


def print_banner(port: int, health_port: int | None, app_insights: bool = False) -> None:
    """The settings as the environment holds them (WORKER_TIMEOUT: None when unset, as the
    reference prints it), and the routes. ``app_insights``: export is on, which a connection
    string alone also does (beyond the reference), so the banner says true then."""
    print()
    print(f"Azure ML Inferencing HTTP server v{__version__} (azmlinfsrv, open implementation)")
    print("\n")
    print("Server Settings")
    print("---------------")
    for label, name in BANNER_SETTINGS:
        print(f"{label}: {banner_value(name, app_insights)}")
    print("\n")
    print("Server Routes")
    print("---------------")
    print(f"Liveness Probe: GET   127.0.0.1:{health_port or port}/")
    print(f"Score:          POST  127.0.0.1:{port}/score")
    print()


def fail(message: str, code: int) -> NoReturn:
    print(f"azmlinfsrv: error: {message}", file=sys.stderr)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["test"]:  # the validation gate, docs/validation.md
        from .gate.command import main as test_main

        sys.exit(test_main(argv[1:]))
    args = parse_arguments(argv)
    logs.setup_default()
    if not (args.entry_script or args.config_file):
        logger.error("Error!")
        logger.error(
            "Either provide an entry_script using --entry_script or "
            "provide a path to the configuration file using --config_file"
        )
        sys.exit(EXIT_BAD_ARGUMENTS)
    merge_into_environment(args)
    validate_environment()
    conf = load_settings()
    # Said once here rather than by every worker: what is configured but cannot be used.
    telemetry_config = telemetry.check()
    print_banner(conf.server_port, conf.health_port, telemetry_config.connection_string is not None)
    sys.path.append(conf.app_root)
    options = RunOptions(settings=conf, host=args.host, reload=args.reload)
    check_listening(options)
    telemetry.prepare_server(telemetry_config)
    sys.stdout.flush()
    sys.stderr.flush()
    parent_watch.watch_parent_from_environment()
    serve(args.server, options)


def load_settings() -> settings.Settings:
    """Settings from the merged environment and config file, and the user's logging.json; exits on errors."""
    try:
        conf = settings.load()
    except settings.ServingConfigError as ex:
        fail(ex.message, EXIT_CONFIG_ERROR)
    except settings.ConfigError as ex:
        settings.log_config_error(ex)
        sys.exit(EXIT_CONFIG_ERROR)
    logs.setup_default(conf.log_level)
    entry_dir = os.path.dirname(os.path.realpath(conf.entry_script)) if conf.entry_script else None
    try:
        logs.load_user_config(conf.app_root, entry_dir)
    except (ValueError, TypeError, AttributeError, ImportError, OSError) as ex:
        logger.critical(f"Invalid logging.json: {ex}")
        sys.exit(EXIT_CONFIG_ERROR)
    if conf.extra_keys:
        logger.warning(
            f"Found extra keys in the config file that are not supported by the server.\nExtra keys = {conf.extra_keys}"
        )
    return conf


def check_listening(options: RunOptions) -> None:
    """A taken port is a one-line error before any worker starts; all-interfaces listening is said aloud."""
    try:
        check_ports_free(options.host, options.ports)
    except PortInUse as ex:
        fail(f"{ex}. Stop the other server or choose another port with --port.", EXIT_BAD_ARGUMENTS)
    if options.host not in ("0.0.0.0", "::"):
        return
    logger.info("Listening on all interfaces; use --host 127.0.0.1 to keep the server off the network.")
    if options.settings.debug_port or debugging.LISTEN_ENV in os.environ:
        logger.warning(
            "Debugging is on while the server listens on all interfaces: anyone who can reach this machine can "
            "send requests to code paused in a debugger. Debug listeners stay on 127.0.0.1; consider "
            "--host 127.0.0.1 for the server too."
        )


def serve(server: str, options: RunOptions) -> None:
    """Hands over to the runner; only the chosen one is imported (waitress need not be installed on POSIX)."""
    if server == "waitress":
        from .runners import threaded as runner
    else:
        from .runners import prefork as runner  # type: ignore[no-redef]
    runner.run(options)


if __name__ == "__main__":
    main()
