"""How run() receives its input: undecorated, @rawhttp, @input_schema, request_headers."""

from __future__ import annotations

import json

import pytest

ECHO_INPUT = """\
def init():
    pass


def run(data):
    return {"type": type(data).__name__, "data": data}
"""


def test_undecorated_post_passes_body_as_string(server):
    srv = server.start(ECHO_INPUT)
    assert "run() is not decorated. Server will invoke it with the input in JSON string." in srv.logs()
    cases = [
        ('{"a": [1, 2]}', "application/json"),
        ("plain text body", "text/plain"),
        # Not application/x-www-form-urlencoded or multipart/form-data: the reference passes ""
        # for those (Flask parses the form and request.data is empty).
        ("a=1&b=2", "text/csv"),
        ("bytes but valid utf-8 \u00e9\u4e2d", "application/octet-stream"),
        ("no content type", None),
    ]
    for body, ctype in cases:
        headers = {"Content-Type": ctype} if ctype else {}
        r = srv.score(body.encode("utf-8"), headers=headers)
        assert r.status_code == 200, (ctype, r.text)
        assert r.json() == {"type": "str", "data": body}, ctype
    r = srv.score(b"")
    assert r.json() == {"type": "str", "data": ""}


@pytest.mark.ours
def test_undecorated_post_passes_form_bodies_as_string_too(server):
    # The contract: the body as a string whatever the content type (the reference passes "").
    srv = server.start(ECHO_INPUT)
    r = srv.score(b"a=1&b=2", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.json() == {"type": "str", "data": "a=1&b=2"}
    multipart = b'--XX\r\nContent-Disposition: form-data; name="f"\r\n\r\nv\r\n--XX--\r\n'
    r = srv.score(multipart, headers={"Content-Type": "multipart/form-data; boundary=XX"})
    assert r.json() == {"type": "str", "data": multipart.decode()}


def test_undecorated_post_invalid_utf8_is_400(server):
    srv = server.start(ECHO_INPUT)
    r = srv.score(b"\xff\xfe\xfd", headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 400
    assert r.headers["Content-Type"] == "application/json"
    message = r.json()["message"]
    assert message.startswith("Input cannot be decoded as UTF-8: "), message
    try:
        b"\xff\xfe\xfd".decode("utf-8")
    except UnicodeDecodeError as ex:
        assert message == f"Input cannot be decoded as UTF-8: {ex}"


def test_undecorated_get_passes_json_dumps_of_query(server):
    srv = server.start(ECHO_INPUT)
    r = srv.get('/score?a=1&b=[1,2]&c=hello&d=null&e=1&e=two&f=true&g={"k":1}')
    assert r.status_code == 200, r.text
    expected = {"a": 1, "b": [1, 2], "c": "hello", "d": None, "e": [1, "two"], "f": True, "g": {"k": 1}}
    body = r.json()
    assert body["type"] == "str"
    assert body["data"] == json.dumps(expected)
    # No query at all.
    assert srv.get("/score").json() == {"type": "str", "data": "{}"}


RAW_SCRIPT = """\
import json

from azureml.contrib.services.aml_request import rawhttp
from azureml.contrib.services.aml_response import AMLResponse


def init():
    pass


@rawhttp
def run(request):
    info = {
        "method": request.method,
        "args": request.args.to_dict(flat=False),
        "body": request.get_data(as_text=True),
        "content_type": request.headers.get("Content-Type"),
        "path": request.path,
    }
    if request.method == "OPTIONS":
        return AMLResponse("", 204, {"Allow": "GET, POST, OPTIONS"})
    return info
"""


def test_rawhttp_receives_the_request_for_any_method(server):
    srv = server.start(RAW_SCRIPT)
    assert "run() is decorated with @rawhttp. Server will invoke it with the flask request object." in srv.logs()
    r = srv.score(b"\x00binary?", headers={"Content-Type": "application/x-custom"})
    assert r.status_code == 200
    assert r.json() == {
        "method": "POST",
        "args": {},
        "body": "\x00binary?",
        "content_type": "application/x-custom",
        "path": "/score",
    }
    r = srv.get("/score?x=1&x=2&y=z")
    assert r.json()["method"] == "GET"
    assert r.json()["args"] == {"x": ["1", "2"], "y": ["z"]}
    r = srv.request("OPTIONS", "/score")
    assert r.status_code == 204  # run() decides, not the server
    assert r.headers["Allow"] == "GET, POST, OPTIONS"
    # Methods that the /score route does not accept never reach run().
    assert srv.request("PUT", "/score").status_code == 405


SCHEMA_SCRIPT = """\
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema, output_schema


def init():
    pass


@input_schema("x", StandardPythonParameterType(1))
@input_schema("y", StandardPythonParameterType(2))
@output_schema(StandardPythonParameterType({"x": 1, "y": 2}))
def run(x, y=10):
    return {"x": x, "y": y}
"""


def test_input_schema_parameters_and_errors(server):
    srv = server.start(SCHEMA_SCRIPT)
    assert (
        "run() is decorated with @input_schema. Server will invoke it with the following arguments: x, y." in srv.logs()
    )

    r = srv.score(json={"x": 3})
    assert r.status_code == 200, r.text
    assert r.json() == {"x": 3, "y": 10}  # the default of y
    assert srv.score(json={"x": 3, "y": 4, "ignored": 0}).json() == {"x": 3, "y": 4}
    r = srv.score(b'{"x": 5}', headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.json() == {"x": 5, "y": 10}

    # GET takes the parameters from the query.
    assert srv.get("/score?x=7").json() == {"x": 7, "y": 10}
    assert srv.get("/score?x=7&y=8").json() == {"x": 7, "y": 8}

    def error(resp, status):
        assert resp.status_code == status, resp.text
        assert resp.headers["Content-Type"] == "application/json"
        return resp.json()["message"]

    assert (
        error(srv.score(b'{"x": 1}', headers={"Content-Type": "text/plain"}), 415)
        == "Expects Content-Type to be application/json"
    )
    assert error(srv.score(b'{"x": 1}'), 415) == "Expects Content-Type to be application/json"
    assert (
        error(srv.score(b"", headers={"Content-Type": "application/json"}), 400)
        == "POST body is empty. Expecting a JSON dictionary."
    )
    try:
        json.loads("{not json")
    except json.JSONDecodeError as ex:
        decode_error = str(ex)
    assert (
        error(srv.score(b"{not json", headers={"Content-Type": "application/json"}), 400)
        == f"POST body could not be decoded as JSON: {decode_error}"
    )
    for not_an_object in (b"[1, 2]", b"3", b'"s"', b"null"):
        assert (
            error(srv.score(not_an_object, headers={"Content-Type": "application/json"}), 400)
            == "POST body should be a JSON dictionary."
        )
    assert error(srv.score(json={"y": 1}), 400) == "A value is not provided for the 'x' parameter."
    assert error(srv.get("/score?y=1"), 400) == "A value is not provided for the 'x' parameter."


HEADERS_SCRIPT = """\
def init():
    pass


def run(data, request_headers):
    return {"data": data, "headers": request_headers, "type": type(request_headers).__name__}
"""


@pytest.mark.parametrize("method", ["POST", "GET"])
def test_request_headers_parameter(server, method):
    srv = server.start(HEADERS_SCRIPT)
    if method == "POST":
        r = srv.score("body", headers={"x-custom-thing": "v1", "content-type": "text/plain"})
        assert r.json()["data"] == "body"
    else:
        r = srv.get("/score?q=1", headers={"x-custom-thing": "v1"})
        assert r.json()["data"] == '{"q": 1}'
    body = r.json()
    assert body["type"] == "dict"
    headers = body["headers"]
    assert headers["X-Custom-Thing"] == "v1"  # Title-Case keys
    assert headers["Host"] == f"127.0.0.1:{srv.port}"
    if method == "POST":
        assert headers["Content-Type"] == "text/plain"


def test_request_headers_with_input_schema(server):
    srv = server.start("""\
        from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
        from inference_schema.schema_decorators import input_schema


        def init():
            pass


        @input_schema("x", StandardPythonParameterType(1))
        def run(x, request_headers):
            return {"x": x, "h": request_headers.get("X-Marker")}
        """)
    assert "Server will invoke it with the following arguments: x." in srv.logs()
    assert srv.score(json={"x": 2}, headers={"X-Marker": "m"}).json() == {"x": 2, "h": "m"}
