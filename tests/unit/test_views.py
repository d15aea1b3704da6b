"""views.py: each view and error handler called alone, with a werkzeug request, no app."""

from __future__ import annotations

import json

from flask import Request
from werkzeug.exceptions import NotFound, RequestEntityTooLarge
from werkzeug.test import EnvironBuilder

from azmlinfsrv import events
from azmlinfsrv.responses import INTERNAL_ERROR_MESSAGE, RUN_FAILED_MESSAGE
from azmlinfsrv.views import ErrorHandlers, ScoreView, health

from .conftest import load_user_script

FLAKY = """\
def init():
    pass


def run(data):
    if data == "fail":
        raise ValueError("asked to fail")
    if data == "set":
        return {1, 2}
    return {"got": data}
"""


def request(method: str = "POST", data: bytes | None = None, **kw) -> Request:
    return Request(EnvironBuilder(path="/score", method=method, data=data, **kw).get_environ())


def score_view(tmp_path, source: str = FLAKY) -> ScoreView:
    return ScoreView(load_user_script(tmp_path, source), 5000, ErrorHandlers(100))


def test_health():
    assert health() == "Healthy"


def test_score_calls_run_with_the_body(tmp_path):
    response = score_view(tmp_path).respond(request(data=b"hello"), "r-1")
    assert response.status_code == 200
    assert response.get_json() == {"got": "hello"}
    assert response.headers["x-ms-run-function-failed"] == "False"
    assert float(response.headers["x-ms-run-fn-exec-ms"]) >= 0


def test_score_get_passes_the_query_as_json(tmp_path):
    response = score_view(tmp_path).respond(request("GET", query_string="a=1"), "r-1")
    assert json.loads(response.get_json()["got"]) == {"a": 1}


def test_options_and_other_methods(tmp_path):
    view = score_view(tmp_path)
    options = view.respond(request("OPTIONS"), "r-1")
    assert (options.status_code, options.get_data()) == (200, b"")
    delete = view.respond(request("DELETE"), "r-1")
    assert (delete.status_code, delete.get_json()) == (405, {"message": "Method not allowed"})


def test_a_failing_run_is_a_500_then_the_next_success_a_recovery(tmp_path, monkeypatch):
    emitted: list[tuple[str, dict]] = []
    monkeypatch.setattr(events, "emit", lambda event, **fields: emitted.append((event, fields)))
    monkeypatch.setattr(events, "enabled", lambda: True)
    view = score_view(tmp_path)
    failed = view.respond(request(data=b"fail"), "r-1")
    assert (failed.status_code, failed.get_json()) == (500, {"message": RUN_FAILED_MESSAGE})
    assert failed.headers["x-ms-run-function-failed"] == "True"
    assert view.respond(request(data=b"ok"), "r-2").status_code == 200
    assert view.respond(request(data=b"ok"), "r-3").status_code == 200
    assert [(event, fields["requestId"]) for event, fields in emitted] == [
        ("run_failed", "r-1"),
        ("run_recovered", "r-2"),
    ]
    assert emitted[0][1]["exception"]["type"] == "ValueError"


def test_output_that_is_not_json_is_a_500_and_no_recovery(tmp_path):
    view = score_view(tmp_path)
    response = view.respond(request(data=b"set"), "r-1")
    assert (response.status_code, response.get_json()) == (500, {"message": RUN_FAILED_MESSAGE})


def test_a_scoring_timeout(tmp_path):
    slow = "import time\n\ndef init():\n    pass\n\ndef run(data):\n    time.sleep(5)\n"
    view = ScoreView(load_user_script(tmp_path, slow), 50, ErrorHandlers(100))
    response = view.respond(request(data=b"x"), "r-1")
    assert response.status_code == 500
    assert response.get_json() == {"message": "Scoring timeout after 50 ms"}


def test_error_handlers():
    errors = ErrorHandlers(100)
    not_found = errors.http_error(NotFound())
    assert not_found.status_code == 404
    assert "not found" in not_found.get_json()["message"]
    too_large = errors.http_error(RequestEntityTooLarge())
    assert too_large.get_json() == {"message": "Request body exceeds the limit of 100 bytes."}
    try:
        raise RuntimeError("a bug of ours")
    except RuntimeError as ex:
        unexpected = errors.unexpected_error(ex)
    assert (unexpected.status_code, unexpected.get_json()) == (500, {"message": INTERNAL_ERROR_MESSAGE})
    assert b"a bug of ours" not in unexpected.get_data()


def test_outside_flask_the_view_handles_what_flask_would(tmp_path):
    view = score_view(tmp_path)

    def broken_parser(req: Request) -> dict:
        raise KeyError("a bug in a parser")

    view.parse = broken_parser
    response = view.respond_outside_flask(request(data=b"x"), "r-1")
    assert (response.status_code, response.get_json()) == (500, {"message": INTERNAL_ERROR_MESSAGE})

    def not_found(req: Request) -> dict:
        raise NotFound()

    view.parse = not_found
    assert view.respond_outside_flask(request(data=b"x"), "r-1").status_code == 404
