"""inputs.py: one parser per input mode, turning a request into run()'s keyword arguments."""

from __future__ import annotations

import inspect
import json

import pytest
from flask import Request
from werkzeug.test import EnvironBuilder

from azmlinfsrv.inputs import (
    BadInput,
    UnsupportedInput,
    UnsupportedMethod,
    _plain,
    _raw,
    _schema,
    query_parameters,
)


def request(method: str = "POST", data: bytes | None = None, **kw) -> Request:
    return Request(EnvironBuilder(path="/score", method=method, data=data, **kw).get_environ())


def params(*names: str, default: object = inspect.Parameter.empty) -> list[inspect.Parameter]:
    return [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default) for n in names]


def test_query_parameters_are_json_where_they_parse_and_lists_when_repeated():
    req = request("GET", query_string="a=1&b=x&b=%5B2%5D&c=%7B%22k%22%3A+true%7D")
    assert query_parameters(req) == {"a": 1, "b": ["x", [2]], "c": {"k": True}}


def test_plain_post_passes_the_body_as_text():
    assert _plain("data")(request(data=b'{"x": 1}')) == {"data": '{"x": 1}'}


def test_plain_post_that_is_not_utf8_is_a_400():
    with pytest.raises(BadInput, match="Input cannot be decoded as UTF-8"):
        _plain("data")(request(data=b"\xff"))


def test_plain_get_passes_the_query_as_json_text():
    kwargs = _plain("data")(request("GET", query_string="a=1"))
    assert json.loads(kwargs["data"]) == {"a": 1}


@pytest.mark.parametrize("method", ["PUT", "DELETE", "OPTIONS"])
def test_other_methods_are_a_405(method):
    with pytest.raises(UnsupportedMethod) as caught:
        _plain("data")(request(method))
    assert (caught.value.status, caught.value.method, caught.value.message) == (405, method, "Method not allowed")


def test_schema_post_picks_the_parameters_from_the_json_object():
    parse = _schema(params("a") + params("b", default=7))
    body = json.dumps({"a": [1], "extra": 0}).encode()
    assert parse(request(data=body, content_type="application/json")) == {"a": [1], "b": 7}


@pytest.mark.parametrize(
    ("body", "content_type", "error", "message"),
    [
        (b"{}", "text/plain", UnsupportedInput, "Expects Content-Type to be application/json"),
        (b"", "application/json", BadInput, "POST body is empty. Expecting a JSON dictionary."),
        (b"{", "application/json", BadInput, "POST body could not be decoded as JSON: "),
        (b"[1]", "application/json", BadInput, "POST body should be a JSON dictionary."),
        (b"[" * 100000, "application/json", BadInput, "POST body could not be decoded as JSON"),
        (b"{}", "application/json", BadInput, "A value is not provided for the 'a' parameter."),
    ],
)
def test_schema_post_errors(body, content_type, error, message):
    with pytest.raises(error) as caught:
        _schema(params("a"))(request(data=body, content_type=content_type))
    assert caught.value.message.startswith(message)
    assert caught.value.status == (415 if error is UnsupportedInput else 400)


def test_schema_get_uses_the_query():
    assert _schema(params("a"))(request("GET", query_string="a=3")) == {"a": 3}


def test_raw_passes_the_request_itself():
    req = request(data=b"anything")
    assert _raw("req")(req) == {"req": req}
