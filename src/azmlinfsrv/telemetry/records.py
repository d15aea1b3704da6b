"""What is sent about a request, a failure or a prediction, as plain data (no SDK needed).

The names are the reference's: Application Insights users query ``customDimensions``
by them (``Request Id``, ``Response Value``...). Kept apart from the exporters so that
they are tested as pure functions.
"""

from __future__ import annotations

import datetime
import json
import os
from typing import Any

NOT_TEXT_RESPONSE = json.dumps("Scoring request response payload is a non serializable object or raw binary")
USER_EXCEPTION_MESSAGE = "Caught an unhandled exception from the user script"
NO_REQUEST_ID = "Unknown"  # the request id of an init() failure, as the reference sends it


class UserScriptException(Exception):
    """An exception of score.py's init() or run(), as Application Insights shows it: this
    type, with the user's exception chained as its cause."""

    def __init__(self, user_exception: BaseException) -> None:
        super().__init__(USER_EXCEPTION_MESSAGE)
        self.user_exception = user_exception


def wrap_user_exception(ex: BaseException) -> UserScriptException:
    """``UserScriptException`` raised from ``ex``, so that its traceback shows the chain."""
    try:
        raise UserScriptException(ex) from ex
    except UserScriptException as wrapped:
        return wrapped


def format_duration(ms: float) -> str:
    """``[d.]hh:mm:ss.fff`` as the reference writes the ``duration`` property."""
    whole = int(ms)
    millis, whole = whole % 1000, whole // 1000
    seconds, whole = whole % 60, whole // 60
    minutes, whole = whole % 60, whole // 60
    hours, days = whole % 24, whole // 24
    text = f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"
    return f"{days}.{text}" if days else text


def format_start_time(epoch_seconds: float) -> str:
    """ISO 8601 in UTC with a ``Z``, as the reference writes ``start_time``."""
    moment = datetime.datetime.fromtimestamp(epoch_seconds, datetime.timezone.utc).replace(tzinfo=None)
    return moment.isoformat() + "Z"


def request_url(environ: dict[str, Any]) -> str:
    """The URL the client asked for (scheme, Host header, path, query), as ``request.url``."""
    host = environ.get("HTTP_HOST") or f"{environ.get('SERVER_NAME', '')}:{environ.get('SERVER_PORT', '')}"
    scheme = environ.get("wsgi.url_scheme", "http")
    url = f"{scheme}://{host}{environ.get('SCRIPT_NAME', '')}{environ.get('PATH_INFO', '')}"
    query = environ.get("QUERY_STRING")
    return f"{url}?{query}" if query else url


def response_value(body: bytes | None) -> str:
    """The ``Response Value`` property: the body as text, or the reference's placeholder for
    a body that is not UTF-8 text (or not available, e.g. streamed)."""
    if body is None:
        return NOT_TEXT_RESPONSE
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return NOT_TEXT_RESPONSE


def request_properties(
    *,
    container_id: str,
    workspace_name: str,
    service_name: str,
    path: str,
    url: str,
    method: str,
    status: int,
    started: float,
    duration_ms: float,
    request_id: str,
    client_request_id: str,
    response: str | None,
) -> dict[str, str | bool]:
    """The attributes of a request span: the reference's names and value formats."""
    properties: dict[str, str | bool] = {
        "Container Id": container_id,
        "Request Id": request_id,
        "Client Request Id": client_request_id,
    }
    if response is not None:
        properties["Response Value"] = response
    properties.update(
        {
            "name": path,
            "url": url,
            "start_time": format_start_time(started),
            "duration": format_duration(duration_ms),
            "resultCode": str(status),
            "success": status < 400,
            "http_method": method,
            "Workspace Name": workspace_name,
            "Service Name": service_name,
        }
    )
    return properties


def dimensions(values: dict[str, Any]) -> dict[str, Any]:
    """Log record attributes: each value as its own custom dimension, and all of them in
    ``custom_dimensions`` written as the reference's records carry it (a Python dict's repr)."""
    flat = {key: value if isinstance(value, (str, bool, int, float)) else str(value) for key, value in values.items()}
    return {"custom_dimensions": str(values), **flat}


def model_ids(model_dir: str) -> tuple[str, ...]:
    """``name:version`` of the models under AZUREML_MODEL_DIR: ``.../<name>/<version>`` for one
    model, else ``<dir>/<name>/<version>/`` for each (folders whose names are numbers)."""
    if not model_dir or not os.path.isdir(model_dir):
        return ()
    model_dir = os.path.normpath(model_dir)
    base = os.path.basename(model_dir)
    if base.isdigit():
        return (f"{os.path.basename(os.path.dirname(model_dir))}:{base}",)
    found = []
    try:
        for name in sorted(os.listdir(model_dir)):
            folder = os.path.join(model_dir, name)
            if os.path.isdir(folder):
                versions = sorted(int(v) for v in os.listdir(folder) if v.isdigit())
                found += [f"{name}:{version}" for version in versions]
    except OSError:
        return tuple(found)
    return tuple(found)


def to_json(value: Any) -> str:
    """``Input``/``Prediction`` as JSON; what JSON cannot carry (numpy, DataFrames) as str()."""
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError, RecursionError):
        return json.dumps(str(value))
