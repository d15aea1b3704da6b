"""Log format, the default logging setup, logging.json overrides and the print() redirect.

Lines look like ``2024-01-02 03:04:05,678 I [1234] azmlinfsrv - message`` (UTC), the
format users of the reference grep for.
"""

from __future__ import annotations

import builtins
import functools
import json
import logging
import logging.config
import os
import sys
import time
from typing import Any

LOG_FORMAT = "%(asctime)s %(levelname).1s [%(process)d] %(name)s - %(message)s"

logger = logging.getLogger("azmlinfsrv")


class AMLLogFormatter(logging.Formatter):
    """The azmlinfsrv line format, with UTC timestamps."""

    converter = staticmethod(time.gmtime)  # type: ignore[assignment]

    def __init__(self, fmt: str = LOG_FORMAT, datefmt: str | None = None, style: Any = "%") -> None:
        super().__init__(fmt=fmt, datefmt=datefmt, style=style)
        self._second = -1
        self._second_text = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
        """As logging's default ("%Y-%m-%d %H:%M:%S,mmm"), with the strftime of the current
        second cached: every request logs a line."""
        if datefmt:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if second != self._second:
            self._second_text = time.strftime(self.default_time_format, self.converter(second))
            self._second = second
        return f"{self._second_text},{int(record.msecs):03d}"


def _stream_handler(stream: Any) -> logging.Handler:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(AMLLogFormatter())
    return handler


def log_fast(target: logging.Logger, level: int, message: str) -> None:
    """Log ``message`` as ``target.log`` would, without looking up the caller's file and line
    in the stack (which our line format never shows): for the per-request log line."""
    if target.isEnabledFor(level):
        target.handle(target.makeRecord(target.name, level, "(unknown file)", 0, message, (), None))


def setup_default(level: str = "INFO") -> None:
    """Our loggers to stdout; the root logger too, so that records user code logs at
    INFO appear (the reference drops them)."""
    stdout = _stream_handler(sys.stdout)
    ours = logging.getLogger("azmlinfsrv")
    ours.handlers[:] = [stdout]
    ours.setLevel(_level(level))
    ours.propagate = False
    root = logging.getLogger()
    root.handlers[:] = [stdout]
    root.setLevel(_level(level))


def _level(name: str) -> int:
    value = logging.getLevelName(name.upper())
    return value if isinstance(value, int) else logging.INFO


# The reference's classes, as its own logging.json and its users' files name them, and ours.
# Mapped when a file is loaded, rather than shipped under the reference's package name, which
# would clash with an environment that has the reference installed too.
REFERENCE_CLASSES = {
    "azureml_inference_server_http.log_config.AMLLogFormatter": f"{__name__}.AMLLogFormatter",
    "azureml_inference_server_http.log_config.RootAccessFilter": f"{__name__}.RootAccessFilter",
}

# Loggers that the user's logging.json configured (gunicorn's logger then leaves them alone).
configured_loggers: set[str] = set()


def map_reference_classes(config: Any) -> Any:
    """``config`` (a dictConfig dict) with the reference's formatter/filter classes replaced by ours."""
    if not isinstance(config, dict):
        return config
    for section in ("formatters", "filters", "handlers"):
        entries = config.get(section)
        if not isinstance(entries, dict):
            continue
        for entry in entries.values():
            if isinstance(entry, dict):
                for key in ("class", "()"):
                    if isinstance(entry.get(key), str) and entry[key] in REFERENCE_CLASSES:
                        entry[key] = REFERENCE_CLASSES[entry[key]]
    return config


def load_user_config(*dirs: str | None) -> str | None:
    """Apply the first ``logging.json`` (dictConfig) found in ``dirs``; return its path."""
    for directory in dirs:
        if not directory or not os.path.isdir(directory):
            continue
        path = os.path.join(directory, "logging.json")
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                config = map_reference_classes(json.load(f))
            logging.config.dictConfig(config)
            if isinstance(config, dict) and isinstance(config.get("loggers"), dict):
                configured_loggers.update(config["loggers"])
            logger.info(f"Loaded logging config from {path}")
            return path
    return None


_print = builtins.print
_print_logger = logging.getLogger("azmlinfsrv.print")


@functools.wraps(_print)
def _print_to_log(
    *objects: Any, sep: str | None = " ", end: str | None = "\n", file: Any = None, flush: bool = False
) -> None:
    target = file if file is not None else sys.stdout
    if target is sys.stdout:
        _print_logger.info((" " if sep is None else sep).join(map(str, objects)))
    else:
        _print(*objects, sep=sep, end=end, file=file, flush=flush)


def redirect_print() -> None:
    """print() to stdout becomes one INFO record of ``azmlinfsrv.print``."""
    builtins.print = _print_to_log


class RootAccessFilter(logging.Filter):
    """Drops access-log records of health probes (named by the reference's logging.json)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "GET / HTTP/1.1" not in record.getMessage()
