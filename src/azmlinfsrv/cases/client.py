"""Sending a case's request to a running server with the standard library (the server's
production install has no HTTP client package), timing it, and fetching /swagger.json."""

from __future__ import annotations

import http.client
import time
import uuid

from .model import Answer, CaseRequest
from .schema import SwaggerDocument

DEFAULT_TIMEOUT_SECONDS = 60.0


class NoAnswer(Exception):
    """The request got no HTTP answer (connection refused or closed, or a timeout)."""


def send(host: str, port: int, request: CaseRequest, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> Answer:
    """One request on a fresh connection; adds an ``x-request-id`` (unless the case sets
    one) so that a ``run_failed`` event of the server can be matched to the case."""
    headers = dict(request.headers)
    request_id = next((v for k, v in headers.items() if k.lower() == "x-request-id"), "")
    if not request_id:
        request_id = headers["x-request-id"] = str(uuid.uuid4())
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    started = time.perf_counter()
    try:
        connection.request(request.method, request.path, body=request.body, headers=headers)
        response = connection.getresponse()
        body = response.read()
        elapsed_ms = (time.perf_counter() - started) * 1000
    except TimeoutError:
        raise NoAnswer(f"no answer within {timeout:g} s") from None
    except (http.client.HTTPException, OSError) as ex:
        raise NoAnswer(f"the server closed the connection without an answer ({type(ex).__name__}: {ex})") from None
    finally:
        connection.close()
    return Answer(response.status, response.getheaders(), body, elapsed_ms, request_id)


def fetch_swagger(host: str, port: int, timeout: float = DEFAULT_TIMEOUT_SECONDS) -> SwaggerDocument:
    """The server's /swagger.json (version 2, else 3.1, else 3)."""
    reasons = []
    for version in ("2", "3.1", "3"):
        try:
            answer = send(host, port, CaseRequest("GET", f"/swagger.json?version={version}"), timeout)
        except NoAnswer as ex:
            return SwaggerDocument(None, str(ex))
        if answer.status == 200:
            try:
                document = answer.json()
            except ValueError:
                return SwaggerDocument(None, "/swagger.json is not JSON")
            if isinstance(document, dict):
                return SwaggerDocument(document)
            return SwaggerDocument(None, "/swagger.json is not a JSON object")
        reasons.append(f"version {version}: {answer.status}")
    return SwaggerDocument(None, "GET /swagger.json answered " + ", ".join(reasons))
