"""Microseconds our app spends per request, in process, without HTTP: for profiling the
request path (``--profile`` prints the top of cProfile). Run with the project's venv:

    .venv/bin/python bench/micro.py [--profile] [--requests N]

It builds the app as a worker does (echo score.py, default settings), then calls the WSGI
app with a POST /score environ like gunicorn's. Compare with bare Flask (``--flask``).
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BODY = b'{"data": [[1, 2, 3], [4, 5, 6]]}'


def environ() -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/score",
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "5001",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(BODY)),
        "HTTP_HOST": "127.0.0.1:5001",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.input": io.BytesIO(BODY),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }


def our_app() -> Callable[..., Any]:
    os.environ["AZUREML_ENTRY_SCRIPT"] = str(Path(__file__).resolve().parent / "echo" / "score.py")
    from azmlinfsrv import app, logs, settings

    logs.setup_default()
    for handler in logging.getLogger("azmlinfsrv").handlers:
        handler.setStream(open(os.devnull, "w"))  # type: ignore[attr-defined]  # noqa: SIM115
    return app.create_app(settings.load(dict(os.environ)))


def flask_app() -> Callable[..., Any]:
    from flask import Flask, Response, request

    app = Flask("bare")

    @app.route("/score", methods=["POST"])
    def score() -> Response:
        return Response(request.get_data(), mimetype="application/json")

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--flask", action="store_true", help="bare Flask instead of ours, for comparison")
    args = parser.parse_args()
    app = flask_app() if args.flask else our_app()

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        pass

    def one() -> None:
        body = app(environ(), start_response)
        b"".join(body)
        if hasattr(body, "close"):
            body.close()

    for _ in range(2000):
        one()
    started = time.perf_counter()
    for _ in range(args.requests):
        one()
    elapsed = time.perf_counter() - started
    sys.stderr.write(f"{elapsed / args.requests * 1e6:.1f} us per request\n")
    if args.profile:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.runcall(lambda: [one() for _ in range(args.requests)])
        pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
