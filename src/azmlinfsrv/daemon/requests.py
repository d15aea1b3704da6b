"""``sendRequest``: one HTTP request to the running server, answered as JSON-friendly data."""

from __future__ import annotations

import base64
import binascii
import http.client
import time
from typing import Any
from urllib.parse import urlsplit

from .arguments import ArgumentError, SendRequestArgs

DEFAULT_TIMEOUT_SECONDS = 600.0  # long: run() may sit at a breakpoint
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "+json", "+xml")


class RequestFailed(Exception):
    """The request got no HTTP answer."""


def _is_text(content_type: str, body: bytes) -> bool:
    if any(marker in content_type for marker in _TEXT_TYPES) or not content_type:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True
    return False


def _body(args: SendRequestArgs) -> bytes | None:
    if args.body_base64 is not None:
        try:
            return base64.b64decode(args.body_base64, validate=True)
        except binascii.Error:
            raise ArgumentError("bodyBase64 is not valid base64") from None
    return args.body.encode("utf-8") if args.body is not None else None


def send(base_url: str, args: SendRequestArgs) -> dict[str, Any]:
    method = (args.method or "POST").upper()
    path = args.path or "/score"
    if not path.startswith("/"):
        path = "/" + path
    headers = dict(args.headers or {})
    body = _body(args)
    timeout = (args.timeout_ms or DEFAULT_TIMEOUT_SECONDS * 1000) / 1000
    url = urlsplit(base_url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80, timeout=timeout)
    started = time.perf_counter()
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read()
    except (http.client.HTTPException, ConnectionError) as ex:
        raise RequestFailed(
            f"The scoring server closed the connection without an answer ({type(ex).__name__}); "
            "the worker may have crashed: see the server log."
        ) from None
    except TimeoutError:
        raise RequestFailed(f"No answer from the scoring server within {timeout:.0f} s.") from None
    finally:
        connection.close()
    elapsed_ms = (time.perf_counter() - started) * 1000
    response_headers: dict[str, str] = {}
    for name, value in response.getheaders():
        response_headers[name] = f"{response_headers[name]}, {value}" if name in response_headers else value
    content_type = response.getheader("Content-Type", "") or ""
    text = _is_text(content_type.lower(), data)
    return {
        "status": response.status,
        "headers": response_headers,
        "body": data.decode("utf-8") if text else base64.b64encode(data).decode("ascii"),
        "isBase64": not text,
        "elapsedMs": round(elapsed_ms, 3),
    }
