"""Request ids: reading ``x-request-id``, ``x-ms-request-id`` and ``x-ms-client-request-id``
from a request's WSGI environ, and echoing them on its response.

The contract (CONTRACT.md): ``x-request-id`` is the client's or a new UUID; the legacy
``x-ms-request-id`` (deprecated, warned about) doubles as the client id; without it,
``x-ms-request-id`` echoes the client id, else the request id. An id longer than
``HEADER_LIMIT`` is a 431. Working on the environ (not on werkzeug headers) keeps this off
the cost of a request.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

logger = logging.getLogger("azmlinfsrv")

HEADER_LIMIT = 100
REQUEST_ID_TOO_LONG = f"x-request-id must not exceed {HEADER_LIMIT} characters"
CLIENT_ID_TOO_LONG = f"x-ms-request-id and x-ms-client-request-id must not exceed {HEADER_LIMIT} characters"
LEGACY_ID_WARNING = (
    "x-ms-request-id header has been deprecated and will be removed from future versions of the "
    "server. Please use x-ms-client-request-id."
)

# The response headers these ids (and the server version) set; a user's Response that sets
# one of them gets ours instead.
ECHOED_HEADERS = frozenset({"x-request-id", "x-ms-request-id", "x-ms-client-request-id"})


# (x-request-id, what x-ms-request-id answers, x-ms-client-request-id or ""): a plain tuple,
# a tenth of a NamedTuple's cost to make.
RequestIds = tuple[str, str, str]
NO_IDS: RequestIds = ("", "", "")


class RequestIdTooLong(Exception):
    """An id header exceeds HEADER_LIMIT: answered with 431 and ``message``. ``ids`` holds
    those that were valid (a valid x-request-id is still echoed on the 431)."""

    def __init__(self, message: str, ids: RequestIds = NO_IDS) -> None:
        super().__init__(message)
        self.message = message
        self.ids = ids


def read_request_ids(environ: dict[str, Any]) -> RequestIds:
    """The ids of the request in ``environ``; raises RequestIdTooLong."""
    request_id = environ.get("HTTP_X_REQUEST_ID") or str(uuid.uuid4())
    if len(request_id) > HEADER_LIMIT:
        raise RequestIdTooLong(REQUEST_ID_TOO_LONG)
    legacy = environ.get("HTTP_X_MS_REQUEST_ID", "")
    client = environ.get("HTTP_X_MS_CLIENT_REQUEST_ID", "")
    if legacy:
        logger.warning(LEGACY_ID_WARNING)
        client = client or legacy
    else:
        legacy = client or request_id
    if len(legacy) > HEADER_LIMIT or len(client) > HEADER_LIMIT:
        raise RequestIdTooLong(CLIENT_ID_TOO_LONG, (request_id, "", ""))
    return request_id, legacy, client


def add_response_headers(headers: list[tuple[str, str]], ids: RequestIds, server_version: str) -> None:
    """Append the echoed ids (those not empty) and ``x-ms-server-version`` (when set) to
    ``headers``, in place. If the app's response already set an id header, every header of
    ours replaces the app's of the same name."""
    request_id, legacy_request_id, client_request_id = ids
    ours: list[tuple[str, str]] = []
    if server_version:
        ours.append(("x-ms-server-version", server_version))
    if request_id:
        ours.append(("x-request-id", request_id))
    if legacy_request_id:
        ours.append(("x-ms-request-id", legacy_request_id))
    if client_request_id:
        ours.append(("x-ms-client-request-id", client_request_id))
    if any(name.lower() in ECHOED_HEADERS for name, _ in headers):
        replaced = {name for name, _ in ours}
        headers[:] = [(name, value) for name, value in headers if name.lower() not in replaced]
    headers += ours
