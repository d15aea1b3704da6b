"""Watching the user's code for ``--reload``.

A polling watcher (stat of the ``*.py`` files under the entry script's folder and the
source directory): no native dependency, the same on every OS, and cheap for the few
hundred files a scoring project has.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable

from .settings import Settings

logger = logging.getLogger("azmlinfsrv")

SKIPPED_DIRS = {
    "__pycache__",
    "node_modules",
    "site-packages",
    ".venv",
    "venv",
    ".git",
    ".tox",
    ".mypy_cache",
}
MAX_FILES = 5000
WATCHED_SUFFIXES = (".py",)

Snapshot = dict[str, tuple[int, int]]


def snapshot(roots: Iterable[str]) -> Snapshot:
    """mtime and size of each watched file under ``roots``."""
    seen: Snapshot = {}
    for root in roots:
        for directory, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.startswith(".")]
            for name in files:
                if not name.endswith(WATCHED_SUFFIXES):
                    continue
                path = os.path.join(directory, name)
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                seen[path] = (st.st_mtime_ns, st.st_size)
                if len(seen) >= MAX_FILES:
                    return seen
    return seen


def changed_files(before: Snapshot, after: Snapshot) -> list[str]:
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


class Watcher(threading.Thread):
    """Calls ``on_change(paths)`` from a daemon thread whenever watched files change."""

    def __init__(self, roots: list[str], on_change: Callable[[list[str]], None], interval: float = 0.3) -> None:
        super().__init__(name="azmlinfsrv-reload", daemon=True)
        self.roots = [r for r in dict.fromkeys(os.path.abspath(r) for r in roots) if os.path.isdir(r)]
        self.on_change = on_change
        self.interval = interval
        self._stopping = threading.Event()
        self._state = snapshot(self.roots)

    def run(self) -> None:
        while not self._stopping.wait(self.interval):
            current = snapshot(self.roots)
            changed = changed_files(self._state, current)
            if changed:
                self._state = current
                try:
                    self.on_change(changed)
                except Exception:
                    logger.exception("Reload failed")

    def stop(self) -> None:
        self._stopping.set()


def watch_roots(settings: Settings) -> list[str]:
    """The entry script's folder (the app root without one) and the source directory."""
    entry = settings.entry_script
    roots = [os.path.dirname(os.path.join(settings.app_root, entry)) if entry else settings.app_root]
    if settings.source_path:
        roots.append(settings.source_path)
    return roots
