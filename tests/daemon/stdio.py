"""Driving the daemon over raw stdio JSON-RPC, for tests that must SIGKILL it or need no
event loop (pytest-lsp's client would own the process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import IO, Any

from ..server._support import clean_env


def _frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _read_message(stream: IO[bytes]) -> dict[str, Any]:
    length = 0
    while True:
        line = stream.readline()
        if not line:
            raise EOFError("the daemon closed its stdout")
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return dict(json.loads(stream.read(length)))


class StdioDaemon:
    """``python -m azmlinfsrv.daemon`` in its own session, initialized; stop() kills it."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "azmlinfsrv.daemon"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=clean_env(),
            start_new_session=True,
        )
        self._seq = 0
        self.call("initialize", {"capabilities": {}, "processId": os.getpid()})
        self._send({"jsonrpc": "2.0", "method": "initialized", "params": {}})

    def _send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(_frame(message))
        self.process.stdin.flush()

    def call(self, method: str, params: dict[str, Any]) -> Any:
        """A blocking JSON-RPC call; notifications in between are skipped."""
        assert self.process.stdout is not None
        self._seq += 1
        self._send({"jsonrpc": "2.0", "id": self._seq, "method": method, "params": params})
        while True:
            message = _read_message(self.process.stdout)
            if message.get("id") == self._seq:
                if "error" in message:
                    raise RuntimeError(message["error"])
                return message.get("result")

    def command(self, name: str, args: dict[str, Any] | None = None) -> Any:
        return self.call("workspace/executeCommand", {"command": name, "arguments": [args or {}]})

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
