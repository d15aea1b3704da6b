"""runtime_diagnostic in-process: the failure at the deepest user frame, the traceback's other
user frames as related information, library frames left out."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types
from pygls.uris import from_fs_path

from azmlinfsrv.daemon.diagnostics import runtime_diagnostic


def test_the_other_user_frames_are_related_information(tmp_path: Path) -> None:
    score = tmp_path / "score.py"
    score.write_text("import helpers\n\ndef init():\n    helpers.load()\n")
    helpers = tmp_path / "helpers.py"
    helpers.write_text("import json\n\ndef load():\n    return parse()\n\ndef parse():\n    return json.loads('{x')\n")
    library = tmp_path / ".venv" / "lib" / "site-packages" / "json" / "decoder.py"
    exception = {
        "type": "JSONDecodeError",
        "message": "Expecting property name",
        "frames": [
            {"file": str(score), "line": 4, "function": "init"},
            {"file": str(helpers), "line": 4, "function": "load"},
            {"file": str(helpers), "line": 7, "function": "parse"},
            {"file": str(library), "line": 353, "function": "raw_decode"},
        ],
    }
    found = runtime_diagnostic(exception, str(tmp_path), "init-failed", prefix="init() failed: ")
    assert found is not None
    path, diagnostic = found
    assert path == str(helpers) and diagnostic.range.start == types.Position(line=6, character=4)
    assert diagnostic.message == "init() failed: JSONDecodeError: Expecting property name"
    related = [(r.location.uri, r.location.range.start.line, r.message) for r in diagnostic.related_information or []]
    assert related == [(from_fs_path(str(score)), 3, "in init"), (from_fs_path(str(helpers)), 3, "in load")]


def test_one_user_frame_has_no_related_information(tmp_path: Path) -> None:
    score = tmp_path / "score.py"
    score.write_text("def run(data):\n    raise ValueError(data)\n")
    exception = {"type": "ValueError", "message": "x", "frames": [{"file": str(score), "line": 2, "function": "run"}]}
    found = runtime_diagnostic(exception, str(tmp_path), "run-failed", prefix="run() failed: ")
    assert found is not None and found[1].related_information is None
    elsewhere = {"type": "E", "frames": [{"file": "/elsewhere/x.py", "line": 1}]}
    assert runtime_diagnostic(elsewhere, str(tmp_path), "c") is None  # no user frame: no diagnostic
