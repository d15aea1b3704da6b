"""In-process unit tests: pure functions and single pieces, no process started, no socket.

``make_app(source, **settings)`` builds one worker's Flask app around a score.py written to
a temporary folder, as ``app.create_app`` does but without its process-wide set-up (print
redirect, debugger, compat shims), and returns it with its request pipeline.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from azmlinfsrv import routes, script
from azmlinfsrv.pipeline import Pipeline
from azmlinfsrv.settings import Settings
from azmlinfsrv.swagger import Swagger

ECHO = """\
def init():
    pass


def run(data):
    return data
"""

AppFactory = Callable[..., tuple[Flask, Pipeline]]


def load_user_script(folder: Path, source: str) -> script.UserScript:
    path = folder / "score.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return script.analyze(script.import_script(str(path), str(folder)))


@pytest.fixture
def make_app(tmp_path: Path) -> Iterator[AppFactory]:
    def make(source: str = ECHO, **settings: Any) -> tuple[Flask, Pipeline]:
        conf = Settings(app_root=str(tmp_path), entry_script=str(tmp_path / "score.py"), **settings)
        user = load_user_script(tmp_path, source)
        user.init()
        app = Flask("azmlinfsrv-unit")
        app.config["MAX_CONTENT_LENGTH"] = conf.max_request_bytes
        pipeline = routes.register(app, conf, user, Swagger(conf, user.run))
        return app, pipeline

    yield make
    sys.modules.pop(script.ENTRY_MODULE_NAME, None)
