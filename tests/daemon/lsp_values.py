"""Plain helpers for driving the daemon from Python (the tests' pytest-lsp client and
bench/editor.py's pygls client): no pytest here, so the benchmark can import it."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any


def plain(value: Any) -> Any:
    """pygls hands custom notification params over as attribute objects: back to dicts."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "_asdict"):  # pygls' named-tuple objects
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return {k: plain(v) for k, v in vars(value).items()}


async def wait_for(predicate: Any, timeout: float = 30.0, what: str = "condition", every: float = 0.05) -> Any:
    """Poll ``predicate`` (sync, or a coroutine function) on the event loop until truthy, at
    most ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(every)
