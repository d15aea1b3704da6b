"""Building the Flask app of one worker: load score.py, call init(), prepare the routes.

A failure here is a start-up failure: it is logged with the user's traceback (and, for
init(), a listing of the model directory), reported on the event channel, and raised as
``StartupFailure`` so the runner can exit with code 3, as the reference does.
"""

from __future__ import annotations

import io
import itertools
import logging
import os
import sys
import time
from collections.abc import Iterator
from typing import Any

from flask import Flask

from . import compat, debugging, events, logs, routes, script, telemetry
from .settings import Settings
from .swagger import Swagger

logger = logging.getLogger("azmlinfsrv")

MODEL_DIR_LISTING_LIMIT = 200
EXIT_STARTUP_FAILURE = 3


class StartupFailure(Exception):
    """score.py could not be loaded or its init() failed (already logged)."""


def walk(path: str, depth: int = 0) -> Iterator[str]:
    """An indented listing of ``path``, directories first by name, as the reference prints it."""
    path = os.path.normpath(path)
    indent = " " * 4 * depth
    name = os.path.basename(path.rstrip(os.sep))
    if os.path.isdir(path):
        yield f"{indent}{name}{os.sep}"
        try:
            children = sorted(os.listdir(path))
        except OSError:
            return
        for child in children:
            yield from walk(os.path.join(path, child), depth + 1)
    else:
        yield f"{indent}{name}"


def _add_sys_paths(settings: Settings) -> None:
    for path in (settings.app_root, settings.source_path):
        if path is not None and path not in sys.path:
            sys.path.append(path)


def load_script(settings: Settings) -> script.UserScript:
    events.emit("importing")  # a supervisor shows what a slow start is doing
    try:
        module = script.import_script(settings.entry_script, settings.app_root)
    except BaseException as ex:
        if isinstance(ex, KeyboardInterrupt):
            raise
        if isinstance(ex, ModuleNotFoundError) and ex.name == "main" and not settings.entry_script:
            logger.error("No score script found. Expected score script main.py.")
            logger.error(f"Expected script to be found in PYTHONPATH: {sys.path}")
            if os.path.isdir(settings.app_root):
                logger.error(f"Current contents of AML_APP_ROOT: {os.listdir(settings.app_root)}")
            else:
                logger.error(f"The directory {settings.app_root} not an accessible directory in the container.")
        elif isinstance(ex, script.ScriptNotFound):
            logger.error("No such file or directory.")
            logger.error(f"FileNotFoundError: {ex}")
        else:
            logger.error(
                "Failed to import user script because it raised an unhandled exception\n"
                + script.format_user_traceback(ex)
            )
        events.emit("import_failed", exception=events.describe_exception(ex))
        raise StartupFailure(str(ex)) from ex
    try:
        return script.analyze(module)
    except script.ScriptContractError as ex:
        logger.error(f"{ex} ({ex.location['file']}, line {ex.location['line']})")
        events.emit(
            "import_failed",
            exception={"type": "ScriptContractError", "message": str(ex), "frames": [ex.location]},
        )
        raise StartupFailure(str(ex)) from ex


def call_init(user: script.UserScript, settings: Settings, hooks: telemetry.Telemetry | None = None) -> None:
    logger.info("Invoking user's init function")
    events.emit("init_started")
    started = time.perf_counter()
    try:
        user.init()
    except BaseException as ex:
        if isinstance(ex, KeyboardInterrupt):
            raise
        if hooks is not None:
            hooks.user_exception(ex)  # sent before the worker exits (flushed within a bound)
        logger.error("User's init function failed")
        logger.error(f"Encountered Exception {script.format_user_traceback(ex)}")
        events.emit("init_failed", exception=events.describe_exception(ex))
        model_dir = settings.model_dir
        if model_dir and os.path.exists(model_dir):
            logger.info("Model Directory Contents:")
            tree = walk(model_dir)
            for line in itertools.islice(tree, MODEL_DIR_LISTING_LIMIT):
                logger.info(line)
            if next(tree, None) is not None:
                logger.info(f"Output Truncated. First {MODEL_DIR_LISTING_LIMIT} lines shown.")
        raise StartupFailure(str(ex)) from ex
    if hooks is not None:
        hooks.init_finished(time.perf_counter() - started)
    logger.info("Users's init has completed successfully")


def _enable_cors(app: Flask, origins_setting: str) -> None:
    try:
        import flask_cors
    except ModuleNotFoundError:
        logger.info(
            "CORS cannot be enabled because the flask-cors package is not installed. The issue can be"
            " resolved by adding flask-cors to your pip dependencies."
        )
        return
    origins = [origin.strip() for origin in origins_setting.split(",")]
    flask_cors.CORS(app, methods=["GET", "POST"], origins=origins)
    logger.info(f"Enabling CORS for the following origins: {', '.join(origins)}")


def limit_chunked_bodies(wsgi_app: Any, max_bytes: int) -> Any:
    """Give chunked request bodies a Content-Length, reading at most one byte past the
    limit, so the body limit holds for them too (werkzeug would silently truncate)."""

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        if not environ.get("CONTENT_LENGTH") and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            data = environ["wsgi.input"].read(max_bytes + 1)
            environ["wsgi.input"] = io.BytesIO(data)
            environ["CONTENT_LENGTH"] = str(len(data))
            # Now a body of known length: werkzeug ignores Content-Length on chunked requests.
            environ.pop("HTTP_TRANSFER_ENCODING", None)
            environ.pop("wsgi.input_terminated", None)
        return wsgi_app(environ, start_response)

    return app


def create_app(settings: Settings) -> Flask:
    """The app of one worker; raises StartupFailure when score.py cannot serve."""
    compat.install()
    logs.redirect_print()
    configured = telemetry.setup()
    hooks = configured if configured.active else None  # nothing on: no hook runs on any request
    _add_sys_paths(settings)
    try:
        debugging.attach_from_settings(settings.debug_port)
    except debugging.DebuggerUnavailable as ex:
        logger.error(str(ex))
        raise StartupFailure(str(ex)) from None

    app = Flask("azmlinfsrv")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.wsgi_app = limit_chunked_bodies(app.wsgi_app, settings.max_request_bytes)  # type: ignore[method-assign]
    if settings.cors_origins:
        _enable_cors(app, settings.cors_origins)

    user = load_script(settings)
    call_init(user, settings, hooks)
    swagger = Swagger(settings, user.run)
    routes.register(app, settings, user, swagger, hooks)

    logger.info(f"Scoring timeout is set to {settings.scoring_timeout_ms}")
    logger.info(f"Worker with pid {os.getpid()} ready for serving traffic")
    events.emit("worker_ready")
    return app
