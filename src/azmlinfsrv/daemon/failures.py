"""Why a server process ended, in words, from its last lines of output.

The event channel says why a *load* failed (import_failed, init_failed: see docs/events.md);
a server that ends before any worker loads (a port taken, a setting refused, an import of
the server itself failing) only says so on stderr. This turns those lines into one sentence,
so a status never says only "exited with code 1".
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

_OWN_ERROR = "azmlinfsrv: error: "  # cli.fail's prefix: already a sentence for a user
_IN_USE = re.compile(r"address already in use|\[errno (98|48)\]|winerror 10048|only one usage of each socket", re.I)
_DENIED = re.compile(r"permission denied|\[errno 13\]|winerror 10013", re.I)
_EXCEPTION = re.compile(r"^(?:[\w.]+\.)?(\w*(?:Error|Exception|Exit|Interrupt))(?::\s*(.*))?$")
_FRAME = re.compile(r'^\s*File "([^"]+)", line (\d+)')


@dataclass(frozen=True)
class ExitReason:
    text: str
    port_in_use: bool = False  # worth another port: someone took it between our check and the bind


def _traceback(lines: list[str]) -> str | None:
    """``ModuleNotFoundError: No module named 'flask' (cli.py:12)`` from a traceback's end."""
    for index in range(len(lines) - 1, -1, -1):
        match = _EXCEPTION.match(lines[index].strip())
        if not match:
            continue
        frames = [f for f in map(_FRAME.match, lines[:index]) if f]
        where = f" ({os.path.basename(frames[-1][1])}:{frames[-1][2]})" if frames else ""
        return f"{lines[index].strip()}{where}"
    return None


def exit_reason(stderr: list[str], code: int | None, port: int | None) -> ExitReason:
    """One sentence for a server that ended by itself; ``stderr`` are its last lines."""
    lines = [line.rstrip() for line in stderr if line.strip()]
    for line in reversed(lines):
        if _OWN_ERROR in line:
            text = line.split(_OWN_ERROR, 1)[1]
            return ExitReason(text, port_in_use="already in use" in text)
    if any(_IN_USE.search(line) for line in lines):
        return ExitReason(f"port {port} is already in use", port_in_use=True)
    denied = next((line for line in reversed(lines) if _DENIED.search(line)), None)
    if denied:
        return ExitReason(f"permission denied: {denied.strip()}")
    found = _traceback(lines)
    if found:
        return ExitReason(found)
    how = f"was stopped by signal {-code}" if code is not None and code < 0 else f"exited with code {code}"
    return ExitReason(f"azmlinfsrv {how}" + (f": {lines[-1].strip()}" if lines else " and printed nothing"))
