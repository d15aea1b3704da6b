"""``sendRequest``: one HTTP request to the running server, answered as JSON-friendly data."""

from __future__ import annotations

import base64
import binascii
import http.client
import socket
import threading
import time
from typing import Any
from urllib.parse import urlsplit

from .arguments import ArgumentError, SendRequestArgs

DEFAULT_TIMEOUT_SECONDS = 600.0  # long: run() may sit at a breakpoint
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "+json", "+xml")


class RequestFailed(Exception):
    """The request got no HTTP answer."""


class RequestCancelled(RequestFailed):
    """The client cancelled the request (``cancelRequest``) before its answer came."""


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


class Exchange:
    """One request/answer with the server that another thread may abort (``cancelRequest``).

    Aborting shuts the socket down, so the blocked read in the sending thread returns at once
    instead of waiting for run() to answer (or for the timeout).
    """

    def __init__(self, base_url: str, args: SendRequestArgs) -> None:
        self.args = args
        url = urlsplit(base_url)
        self.timeout = (args.timeout_ms or DEFAULT_TIMEOUT_SECONDS * 1000) / 1000
        self.connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80, timeout=self.timeout)
        self.aborted = False
        self._lock = threading.Lock()

    def abort(self) -> None:
        """Ends the exchange from any thread; the sender raises ``RequestCancelled``."""
        with self._lock:
            self.aborted = True
            sock = self.connection.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed

    def send(self) -> dict[str, Any]:
        """Sends the request and reads the whole answer (blocking: call it in a thread)."""
        args = self.args
        path = args.path or "/score"
        started = time.perf_counter()
        try:
            with self._lock:
                if self.aborted:
                    raise RequestCancelled("The request was cancelled.")
                self.connection.connect()
            self.connection.request(
                (args.method or "POST").upper(),
                path if path.startswith("/") else "/" + path,
                body=_body(args),
                headers=dict(args.headers or {}),
            )
            response = self.connection.getresponse()
            data = response.read()
        except (http.client.HTTPException, OSError) as ex:
            raise self._failure(ex) from None
        finally:
            self.connection.close()
        if self.aborted:
            raise RequestCancelled("The request was cancelled.")
        return _answer(response, data, (time.perf_counter() - started) * 1000)

    def _failure(self, ex: Exception) -> Exception:
        if self.aborted:
            return RequestCancelled("The request was cancelled.")
        if isinstance(ex, TimeoutError):
            return RequestFailed(f"No answer from the scoring server within {self.timeout:.0f} s.")
        return RequestFailed(
            f"The scoring server closed the connection without an answer ({type(ex).__name__}); "
            "the worker may have crashed: see the server log."
        )


def _answer(response: http.client.HTTPResponse, data: bytes, elapsed_ms: float) -> dict[str, Any]:
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


def send(base_url: str, args: SendRequestArgs) -> dict[str, Any]:
    """One request, not cancellable."""
    return Exchange(base_url, args).send()
