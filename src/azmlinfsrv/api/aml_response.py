"""``AMLResponse``: what run() returns to control status, headers and body."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Response


class AMLResponse(Response):
    """A Flask response built the way the reference builds it.

    ``json_str=True`` JSON-encodes ``message``; otherwise it is the body as is (str,
    bytes, or an iterable that is streamed). ``None`` becomes ``{}``. A header value with
    commas becomes one header per value.
    """

    def __init__(
        self,
        message: Any,
        status_code: int,
        response_headers: Mapping[str, str] | None = None,
        json_str: bool = False,
        run_function_failed: bool = False,
    ) -> None:
        headers = dict(response_headers or {})
        if message is None:
            super().__init__("{}", status=status_code, mimetype="application/json")
        elif json_str:
            super().__init__(json.dumps(message), status=status_code, mimetype="application/json")
        else:
            super().__init__(message, status=status_code)
            if "Content-Type" in headers:
                self.headers.remove("Content-Type")
        self.headers["x-ms-run-function-failed"] = str(bool(run_function_failed))
        for name, value in headers.items():
            for part in str(value).split(","):
                self.headers.add_header(name, part.strip())
