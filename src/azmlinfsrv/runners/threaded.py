"""Serving from threads of one process, with waitress: ``workers`` threads (the reference's Windows
front, selectable everywhere with ``--server waitress``).

``--reload`` rebuilds the app in the same process: user modules are forgotten and
re-imported, init() runs again, and the new app replaces the old one only if that
succeeded; otherwise the old app keeps serving.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

import waitress

from .. import attach_channel, events
from ..app import EXIT_STARTUP_FAILURE, StartupFailure, create_app
from ..code_watch import Watcher, watch_roots
from ..script import modules_under
from ..telemetry import metrics
from . import RunOptions

logger = logging.getLogger("azmlinfsrv")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class SwappableApp:
    """A WSGI app that forwards to the current app, replaced atomically on reload."""

    def __init__(self, app: WSGIApp) -> None:
        self.current = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        return self.current(environ, start_response)


def run(options: RunOptions) -> None:
    settings = options.settings
    try:
        app = SwappableApp(create_app(settings))
    except StartupFailure:
        sys.exit(EXIT_STARTUP_FAILURE)

    if options.reload:
        roots = watch_roots(settings)
        lock = threading.Lock()

        def rebuild(paths: list[str]) -> None:
            with lock:
                logger.info(f"Detected changes in {', '.join(paths)}; reloading")
                events.emit("reloading")
                # Forget the user's modules, so the next import reads them afresh.
                for name, _ in modules_under(roots):
                    del sys.modules[name]
                metrics.forget_user_metrics()  # score.py defines them again
                for name in ("azmlinfsrv.api.aml_request",):
                    module = sys.modules.get(name)
                    if module is not None:
                        module._rawHttpRequested = False  # type: ignore[attr-defined]
                try:
                    app.current = create_app(settings)
                except StartupFailure:
                    logger.error("Reload failed: the previous app keeps serving. Fix the error and save again.")
                    events.emit("reload_failed", workerPids=[os.getpid()])
                    return
                logger.info("Reloaded")
                events.emit("reloaded", workerPids=[os.getpid()])

        Watcher(roots, rebuild).start()
        logger.info(f"Reloading on changes to Python files under: {', '.join(roots)}")

    attach_channel.open_channel()  # one process serves: it is the one a debugger attaches to
    listen = " ".join(f"{'[' + options.host + ']' if ':' in options.host else options.host}:{p}" for p in options.ports)
    waitress.serve(app, listen=listen, threads=options.workers, ident="azmlinfsrv")
