"""Local stand-ins for the places telemetry goes: an Application Insights ingestion endpoint
(what ``IngestionEndpoint=http://127.0.0.1:PORT`` in a connection string points the real
Azure Monitor exporter at) and an OTLP/HTTP collector (``/v1/traces``, ``/v1/logs``).

Both run in a thread of the test process on a free port and keep what they receive. The
ingestion stub can also answer 500 or never answer, to show that a broken collector costs
the server's clients nothing. ``python -m tests.telemetry.receivers PORT OUT.jsonl`` runs the
stub alone, to record what another server (e.g. the reference) sends.
"""

from __future__ import annotations

import gzip
import json
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Receiver:
    """A threaded HTTP server on 127.0.0.1 that hands each POST body to ``self.take``."""

    mode = "ok"  # "ok", "error" (answer 500) or "hang" (never answer)

    def __init__(self, port: int = 0) -> None:
        self._lock = threading.Lock()
        self._released = threading.Event()
        self.requests = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if self.headers.get("Content-Encoding", "").lower() == "gzip":
                    body = gzip.decompress(body)
                with receiver._lock:
                    receiver.requests += 1
                if receiver.mode == "hang":
                    receiver._released.wait(120)
                    return
                if receiver.mode == "error":
                    self._answer(500, b'{"error": "stub answers 500"}', "application/json")
                    return
                status, payload, kind = receiver.take(self.path, self.headers.get("Content-Type", ""), body)
                self._answer(status, payload, kind)

            def _answer(self, status: int, payload: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="receiver", daemon=True)

    def take(self, path: str, content_type: str, body: bytes) -> tuple[int, bytes, str]:
        raise NotImplementedError

    def start(self) -> _Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def wait_for(self, find: Callable[[], Any], timeout: float, what: str) -> Any:
        """Poll ``find`` until it returns something truthy, at most ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = find()
            if found:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; received:\n{self.describe()}")
            time.sleep(0.1)

    def describe(self) -> str:
        return ""


class IngestionStub(_Receiver):
    """Answers ``POST /v2.1/track`` (and ``/v2/track``) as Application Insights does; keeps
    every envelope (a JSON array, or JSON lines)."""

    def __init__(self, port: int = 0) -> None:
        super().__init__(port)
        self.envelopes: list[dict[str, Any]] = []
        self.bodies: list[bytes] = []

    def take(self, path: str, content_type: str, body: bytes) -> tuple[int, bytes, str]:
        if not path.rstrip("/").endswith("/track"):
            return 404, b"{}", "application/json"
        text = body.decode("utf-8")
        try:
            items = json.loads(text)
        except ValueError:
            items = [json.loads(line) for line in text.splitlines() if line.strip()]
        if isinstance(items, dict):
            items = [items]
        with self._lock:
            self.bodies.append(body)
            self.envelopes.extend(items)
        answer = {"itemsReceived": len(items), "itemsAccepted": len(items), "errors": []}
        return 200, json.dumps(answer).encode(), "application/json"

    # -- views --------------------------------------------------------------------------------
    def of_type(self, base_type: str) -> list[dict[str, Any]]:
        """Envelopes whose data is of ``base_type`` (RequestData, MessageData, ExceptionData)."""
        return [e for e in self.envelopes if e.get("data", {}).get("baseType") == base_type]

    def requests_named(self, name: str) -> list[dict[str, Any]]:
        return [e["data"]["baseData"] for e in self.of_type("RequestData") if e["data"]["baseData"]["name"] == name]

    def messages(self) -> list[dict[str, Any]]:
        return [e["data"]["baseData"] for e in self.of_type("MessageData")]

    def exceptions(self) -> list[dict[str, Any]]:
        return [e["data"]["baseData"] for e in self.of_type("ExceptionData")]

    def wait_for_request(self, name: str, count: int = 1, timeout: float = 30.0) -> list[dict[str, Any]]:
        return self.wait_for(
            lambda: len(self.requests_named(name)) >= count and self.requests_named(name),
            timeout,
            f"{count} Request {name}",
        )  # type: ignore[no-any-return]  # noqa: E501

    def wait_for_message(self, needle: str, timeout: float = 30.0) -> dict[str, Any]:
        def find() -> dict[str, Any] | None:
            return next((m for m in self.messages() if needle in m.get("message", "")), None)

        return self.wait_for(find, timeout, f"a Message with {needle!r}")  # type: ignore[no-any-return]

    def describe(self) -> str:
        return "\n".join(json.dumps(e)[:600] for e in self.envelopes[-30:])


class OtlpReceiver(_Receiver):
    """An OTLP/HTTP collector: protobuf (or JSON) ExportTraceServiceRequest on ``/v1/traces``,
    ExportLogsServiceRequest on ``/v1/logs``; keeps spans and log records as dicts."""

    def __init__(self) -> None:
        super().__init__()
        self.spans: list[dict[str, Any]] = []
        self.logs: list[dict[str, Any]] = []
        self.paths: list[str] = []

    def take(self, path: str, content_type: str, body: bytes) -> tuple[int, bytes, str]:
        from google.protobuf.json_format import MessageToDict, Parse
        from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

        kinds = {
            "/v1/traces": (trace_service_pb2.ExportTraceServiceRequest, trace_service_pb2.ExportTraceServiceResponse),
            "/v1/logs": (logs_service_pb2.ExportLogsServiceRequest, logs_service_pb2.ExportLogsServiceResponse),
        }
        if path not in kinds:
            return 404, b"", "application/x-protobuf"
        request_type, response_type = kinds[path]
        message = request_type()
        if "json" in content_type:
            Parse(body.decode(), message)
        else:
            message.ParseFromString(body)
        data = MessageToDict(message, preserving_proto_field_name=True)
        with self._lock:
            self.paths.append(path)
            if path == "/v1/traces":
                for resource in data.get("resource_spans", []):
                    for scope in resource.get("scope_spans", []):
                        for span in scope.get("spans", []):
                            span["resource"] = _attributes(resource.get("resource", {}).get("attributes", []))
                            self.spans.append(span)
            else:
                for resource in data.get("resource_logs", []):
                    for scope in resource.get("scope_logs", []):
                        self.logs.extend(scope.get("log_records", []))
        return 200, response_type().SerializeToString(), "application/x-protobuf"

    def describe(self) -> str:
        return "\n".join(json.dumps(s)[:600] for s in (self.spans + self.logs)[-30:])


def _attributes(items: list[dict[str, Any]]) -> dict[str, Any]:
    """OTLP's ``[{"key": k, "value": {"string_value": v}}]`` as ``{k: v}``."""
    return {item["key"]: next(iter(item.get("value", {}).values()), None) for item in items}


def attributes(span_or_log: dict[str, Any]) -> dict[str, Any]:
    return _attributes(span_or_log.get("attributes", []))


def trace_id_hex(span_or_log: dict[str, Any]) -> str:
    """The trace id as 32 hex digits (MessageToDict gives bytes fields in base64)."""
    import base64

    return base64.b64decode(span_or_log["trace_id"]).hex()


if __name__ == "__main__":  # pragma: no cover - a tool for recording another server's traffic
    stub = IngestionStub(int(sys.argv[1]))
    stub.start()
    print(f"listening on {stub._server.server_address}", flush=True)
    seen = 0
    with open(sys.argv[2], "a", encoding="utf-8") as out:
        while True:
            time.sleep(0.5)
            with stub._lock:
                new, seen = stub.envelopes[seen:], len(stub.envelopes)
            for envelope in new:
                out.write(json.dumps(envelope) + "\n")
            out.flush()
