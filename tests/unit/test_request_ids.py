"""request_ids.py: which ids a request gets and which headers echo them."""

from __future__ import annotations

import logging
import uuid

import pytest

from azmlinfsrv.request_ids import (
    CLIENT_ID_TOO_LONG,
    HEADER_LIMIT,
    LEGACY_ID_WARNING,
    NO_IDS,
    REQUEST_ID_TOO_LONG,
    RequestIdTooLong,
    add_response_headers,
    read_request_ids,
)


def test_a_request_without_ids_gets_a_new_uuid_echoed_as_x_ms_request_id():
    request_id, legacy, client = read_request_ids({})
    assert uuid.UUID(request_id).version == 4
    assert legacy == request_id
    assert client == ""


def test_the_clients_ids_are_kept():
    ids = read_request_ids({"HTTP_X_REQUEST_ID": "r-1", "HTTP_X_MS_CLIENT_REQUEST_ID": "c-1"})
    assert ids == ("r-1", "c-1", "c-1")


def test_the_legacy_id_doubles_as_client_id_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="azmlinfsrv"):
        ids = read_request_ids({"HTTP_X_REQUEST_ID": "r-1", "HTTP_X_MS_REQUEST_ID": "legacy"})
    assert ids == ("r-1", "legacy", "legacy")
    assert caplog.messages == [LEGACY_ID_WARNING]


def test_an_empty_x_request_id_gets_a_new_one():
    assert uuid.UUID(read_request_ids({"HTTP_X_REQUEST_ID": ""})[0])


def test_ids_at_the_limit_are_accepted():
    at_limit = "a" * HEADER_LIMIT
    assert read_request_ids({"HTTP_X_REQUEST_ID": at_limit, "HTTP_X_MS_CLIENT_REQUEST_ID": at_limit})[0] == at_limit


def test_a_long_request_id_is_rejected_with_no_id_to_echo():
    with pytest.raises(RequestIdTooLong) as caught:
        read_request_ids({"HTTP_X_REQUEST_ID": "a" * (HEADER_LIMIT + 1)})
    assert caught.value.message == REQUEST_ID_TOO_LONG
    assert caught.value.ids == NO_IDS


@pytest.mark.parametrize("header", ["HTTP_X_MS_REQUEST_ID", "HTTP_X_MS_CLIENT_REQUEST_ID"])
def test_a_long_client_id_is_rejected_keeping_the_request_id(header):
    with pytest.raises(RequestIdTooLong) as caught:
        read_request_ids({"HTTP_X_REQUEST_ID": "r-1", header: "c" * (HEADER_LIMIT + 1)})
    assert caught.value.message == CLIENT_ID_TOO_LONG
    assert caught.value.ids == ("r-1", "", "")


def test_response_headers_echo_the_ids_and_the_server_version():
    headers = [("Content-Type", "application/json")]
    add_response_headers(headers, ("r-1", "c-1", "c-1"), "azmlinfsrv/1")
    assert headers == [
        ("Content-Type", "application/json"),
        ("x-ms-server-version", "azmlinfsrv/1"),
        ("x-request-id", "r-1"),
        ("x-ms-request-id", "c-1"),
        ("x-ms-client-request-id", "c-1"),
    ]


def test_empty_ids_and_version_add_nothing():
    headers: list[tuple[str, str]] = []
    add_response_headers(headers, NO_IDS, "")
    assert headers == []


def test_ours_replace_an_id_header_the_app_set():
    headers = [("X-Request-Id", "users"), ("x-ms-server-version", "users"), ("Other", "kept")]
    add_response_headers(headers, ("r-1", "r-1", ""), "v")
    assert headers == [
        ("Other", "kept"),
        ("x-ms-server-version", "v"),
        ("x-request-id", "r-1"),
        ("x-ms-request-id", "r-1"),
    ]
