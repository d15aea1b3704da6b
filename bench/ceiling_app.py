"""The ceiling of the benchmark: a bare gunicorn sync worker serving a minimal WSGI callable
that calls the same score.py (``BENCH_SCORE_PY``) as the servers under test.

It does what a scoring server cannot do without: read the body, call run(), JSON-encode
the result. No request ids, no logging, no routing beyond ``/``.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Callable, Iterable
from typing import Any

_spec = importlib.util.spec_from_file_location("score", os.environ["BENCH_SCORE_PY"])
assert _spec is not None and _spec.loader is not None
_score = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_score)
_score.init()
_run = _score.run


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ["PATH_INFO"] == "/":
        body, content_type = b"Healthy", "text/html; charset=utf-8"
    else:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        data = environ["wsgi.input"].read(length).decode("utf-8")
        body, content_type = json.dumps(_run(data)).encode(), "application/json"
    start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]
