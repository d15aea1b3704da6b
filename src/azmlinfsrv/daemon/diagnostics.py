"""Turning contract problems and server failures into LSP diagnostics.

Static problems come from ``azmlinfsrv.script.check_source`` (the same rules the server's
loader enforces). Runtime failures come from the server's events: the diagnostic sits at
the deepest frame in the user's own files, so an error inside a library points at the
user's line that called into it; the rest of the traceback is related information.
"""

from __future__ import annotations

import fnmatch
import os
from typing import Any

from lsprotocol import types
from pygls.uris import from_fs_path

from .. import script

SOURCE = "azmlinfsrv"
_LIBRARY_MARKERS = (f"{os.sep}site-packages{os.sep}", f"{os.sep}dist-packages{os.sep}", f"{os.sep}.venv{os.sep}")


def is_scoring_script(path: str, source: str, entry_script: str | None) -> bool:
    """score.py, *score*.py, the configured entry script, or a module defining init and run."""
    name = os.path.basename(path)
    if not name.endswith(".py"):
        return False
    if name == "score.py" or fnmatch.fnmatch(name, "*score*.py"):
        return True
    if entry_script and os.path.abspath(path) == os.path.abspath(entry_script):
        return True
    return script.defines_init_and_run(source)


def static_diagnostics(source: str, path: str) -> list[types.Diagnostic]:
    return [
        types.Diagnostic(
            range=types.Range(
                start=types.Position(line=p.line - 1, character=p.column),
                end=types.Position(line=p.end_line - 1, character=p.end_column),
            ),
            message=p.message,
            severity=types.DiagnosticSeverity.Error,
            source=SOURCE,
            code=p.code,
        )
        for p in script.check_source(source, path)
    ]


def is_user_file(path: str, user_root: str) -> bool:
    path = os.path.abspath(path)
    root = os.path.join(os.path.abspath(user_root), "")
    return path.startswith(root) and not any(marker in path for marker in _LIBRARY_MARKERS)


def deepest_user_frame(frames: list[dict[str, Any]], user_root: str) -> dict[str, Any] | None:
    for frame in reversed(frames):
        if is_user_file(str(frame.get("file", "")), user_root):
            return dict(frame)
    return None


def _line_range(path: str, line: int, column: int | None = None) -> types.Range:
    """The line's text without its indentation (or from ``column`` for syntax errors)."""
    index = max(line - 1, 0)
    text = ""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for number, content in enumerate(f):
                if number == index:
                    text = content.rstrip("\r\n")
                    break
    except OSError:
        pass
    start = len(text) - len(text.lstrip()) if column is None else max(column - 1, 0)
    end = max(len(text), start + 1)
    return types.Range(start=types.Position(line=index, character=start), end=types.Position(line=index, character=end))


def runtime_diagnostic(
    exception: dict[str, Any], user_root: str, code: str, prefix: str = ""
) -> tuple[str, types.Diagnostic] | None:
    """(file, diagnostic) for a failure described by an event's ``exception``."""
    frames: list[dict[str, Any]] = list(exception.get("frames") or [])
    chosen = [i for i, f in enumerate(frames) if is_user_file(str(f.get("file", "")), user_root)]
    if not chosen:
        return None
    frame = frames[chosen[-1]]
    path = str(frame["file"])
    # The traceback's other frames in the user's files (callers of the failing line).
    related = [
        types.DiagnosticRelatedInformation(
            location=types.Location(
                uri=from_fs_path(str(frames[i]["file"])) or "",
                range=_line_range(str(frames[i]["file"]), int(frames[i]["line"])),
            ),
            message=f"in {frames[i].get('function', '?')}",
        )
        for i in chosen[:-1]
    ]
    message = f"{prefix}{exception.get('type', 'Error')}: {exception.get('message', '')}"
    diagnostic = types.Diagnostic(
        range=_line_range(path, int(frame["line"]), frame.get("column")),
        message=message,
        severity=types.DiagnosticSeverity.Error,
        source=SOURCE,
        code=code,
        related_information=related or None,
    )
    return path, diagnostic
