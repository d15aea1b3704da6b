"""A small Debug Adapter Protocol client over TCP (asyncio), enough to drive debugpy like
an editor does: initialize, attach, breakpoints, configurationDone, stopped, continue."""

from __future__ import annotations

import asyncio
import json
from typing import Any


class DapClient:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.seq = 0
        self.pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.events: list[dict[str, Any]] = []
        self._event_added = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, host: str, port: int) -> DapClient:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def _read(self) -> None:
        while True:
            headers: dict[str, str] = {}
            while True:
                line = await self.reader.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await self.reader.readexactly(int(headers["content-length"]))
            message = json.loads(body)
            if message["type"] == "response":
                future = self.pending.pop(message["request_seq"], None)
                if future and not future.done():
                    future.set_result(message)
            elif message["type"] == "event":
                self.events.append(message)
                self._event_added.set()

    def send(self, command: str, arguments: dict[str, Any] | None = None) -> asyncio.Future[dict[str, Any]]:
        self.seq += 1
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.pending[self.seq] = future
        payload = json.dumps({"seq": self.seq, "type": "request", "command": command, "arguments": arguments or {}})
        data = payload.encode()
        self.writer.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
        return future

    async def request(self, command: str, arguments: dict[str, Any] | None = None, timeout: float = 30) -> Any:
        response = await asyncio.wait_for(self.send(command, arguments), timeout)
        if not response.get("success"):
            raise AssertionError(f"DAP {command} failed: {response.get('message')}")
        return response.get("body")

    async def wait_event(self, name: str, timeout: float = 30, after: int = 0) -> dict[str, Any]:
        """The first event called ``name`` at or after index ``after`` of ``events``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for event in self.events[after:]:
                if event["event"] == name:
                    return event
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no {name!r} event within {timeout}s; got {[e['event'] for e in self.events]}")
            self._event_added.clear()
            try:
                await asyncio.wait_for(self._event_added.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def attach_with_breakpoints(self, configuration: dict[str, Any], breakpoints: dict[str, list[int]]) -> None:
        """The editor's attach sequence; returns once the debuggee runs with the breakpoints set."""
        await self.request(
            "initialize",
            {
                "clientID": "tests",
                "adapterID": "debugpy",
                "linesStartAt1": True,
                "columnsStartAt1": True,
                "pathFormat": "path",
            },
        )
        attached = self.send("attach", configuration)
        await self.wait_event("initialized")
        for path, lines in breakpoints.items():
            body = await self.request(
                "setBreakpoints", {"source": {"path": path}, "breakpoints": [{"line": n} for n in lines]}
            )
            assert all(b["verified"] for b in body["breakpoints"]), body
        await self.request("configurationDone")
        response = await asyncio.wait_for(attached, 30)
        assert response["success"], response

    async def close(self) -> None:
        try:
            await asyncio.wait_for(self.send("disconnect", {"terminateDebuggee": False}), 10)
        except (asyncio.TimeoutError, ConnectionError):
            pass
        self._task.cancel()
        self.writer.close()
