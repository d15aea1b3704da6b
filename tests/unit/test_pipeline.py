"""pipeline.py: the steps every request goes through, on the direct /score path and the
Flask path alike, and the observers that see each request begin and end."""

from __future__ import annotations

import logging
from typing import Any

from azmlinfsrv.pipeline import RequestObserver, RequestRecord
from azmlinfsrv.request_ids import REQUEST_ID_TOO_LONG

USES_FLASK = """\
import flask


def init():
    pass


def run(data):
    return data
"""


class Recorder(RequestObserver):
    def __init__(self) -> None:
        self.started: list[RequestRecord] = []
        self.finished: list[tuple[RequestRecord, dict[str, str]]] = []

    def request_started(self, record: RequestRecord) -> None:
        self.started.append(record)

    def request_finished(self, record: RequestRecord, headers: list[tuple[str, str]]) -> None:
        self.finished.append((record, dict(headers)))


def counting_flask_calls(pipeline: Any) -> list[str]:
    """Paths that went through the Flask app (not the direct path)."""
    calls: list[str] = []
    flask_app = pipeline.flask_app

    def counted(environ: dict[str, Any], start_response: Any) -> Any:
        calls.append(environ["PATH_INFO"])
        return flask_app(environ, start_response)

    pipeline.flask_app = counted
    return calls


def test_score_skips_flask_and_observers_see_the_whole_request(make_app):
    app, pipeline = make_app()
    recorder = Recorder()
    pipeline.add_observer(recorder)
    flask_calls = counting_flask_calls(pipeline)
    response = app.test_client().post(
        "/score", data=b'{"a": 1}', headers={"x-request-id": "r-1", "x-ms-client-request-id": "c-1"}
    )
    assert response.status_code == 200
    assert flask_calls == []
    [record] = recorder.started
    [(finished, headers)] = recorder.finished
    assert finished is record
    assert (record.route, record.method, record.status) == ("/score", "POST", 200)
    assert (record.request_id, record.client_request_id) == ("r-1", "c-1")
    assert record.duration_ms > 0
    assert headers["x-request-id"] == "r-1"
    assert headers["x-ms-client-request-id"] == "c-1"


def test_other_routes_go_through_flask_with_the_same_record(make_app):
    app, pipeline = make_app()
    recorder = Recorder()
    pipeline.add_observer(recorder)
    flask_calls = counting_flask_calls(pipeline)
    client = app.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/nowhere").status_code == 404
    assert client.put("/score").status_code == 405
    assert flask_calls == ["/", "/nowhere", "/score"]
    assert [(r.route, r.method, r.status) for r, _ in recorder.finished] == [
        ("/", "GET", 200),
        (None, "GET", 404),
        (None, "PUT", 405),
    ]
    assert all(r.request_id and headers["x-request-id"] == r.request_id for r, headers in recorder.finished)


def test_score_uses_flask_when_the_script_does(make_app):
    app, pipeline = make_app(USES_FLASK)
    assert pipeline.direct_score is None
    flask_calls = counting_flask_calls(pipeline)
    assert app.test_client().post("/score", data=b"{}").status_code == 200
    assert flask_calls == ["/score"]


def test_score_uses_flask_when_cors_is_on(make_app):
    _, pipeline = make_app(cors_origins="https://example.com")
    assert pipeline.direct_score is None


def test_rejections_are_answered_through_flask_before_routing(make_app):
    app, pipeline = make_app(max_request_bytes=10)
    recorder = Recorder()
    pipeline.add_observer(recorder)
    client = app.test_client()
    response = client.post("/score", headers={"x-request-id": "x" * 101}, data=b"{}")
    assert (response.status_code, response.json) == (431, {"message": REQUEST_ID_TOO_LONG})
    assert "x-request-id" not in response.headers
    response = client.post("/nowhere", data=b"x" * 11)
    assert response.status_code == 413
    assert response.json == {"message": "Request body exceeds the limit of 10 bytes."}
    assert [r.status for r, _ in recorder.finished] == [431, 413]


def test_only_logged_views_write_the_request_log_line(make_app, caplog):
    app, _ = make_app()
    client = app.test_client()
    with caplog.at_level(logging.INFO, logger="azmlinfsrv"):
        client.get("/")
        client.get("/nowhere")
        client.get("/score?a=1")
        client.get("/swagger.json")
    lines = [m for m in caplog.messages if m.startswith("GET ")]
    assert [line.split()[:3] for line in lines] == [["GET", "/score?a=1", "200"], ["GET", "/swagger.json", "200"]]
    assert lines[0].split()[3].endswith("ms")


def test_trace_id_is_echoed(make_app):
    app, _ = make_app()
    response = app.test_client().get("/score", headers={"TraceId": "t-1"})
    assert response.headers["TraceId"] == "t-1"


def test_server_version_header(make_app):
    app, _ = make_app(server_version_header="azmlinfsrv/9")
    assert app.test_client().get("/").headers["x-ms-server-version"] == "azmlinfsrv/9"
