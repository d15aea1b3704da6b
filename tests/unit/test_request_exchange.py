"""The daemon's cancellable request (sendRequest/cancelRequest) against a socket that never answers."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from azmlinfsrv.daemon.arguments import SendRequestArgs
from azmlinfsrv.daemon.requests import Exchange, RequestCancelled, RequestFailed


def test_abort_before_sending_sends_nothing() -> None:
    exchange = Exchange("http://127.0.0.1:9", SendRequestArgs())
    exchange.abort()
    with pytest.raises(RequestCancelled):
        exchange.send()


def test_abort_ends_a_request_waiting_for_its_answer() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]
        exchange = Exchange(f"http://127.0.0.1:{port}", SendRequestArgs(body="{}", timeout_ms=30_000))
        outcome: list[BaseException] = []

        def sender() -> None:
            try:
                exchange.send()
            except RequestFailed as ex:
                outcome.append(ex)

        thread = threading.Thread(target=sender)
        thread.start()
        accepted, _ = listener.accept()  # connected and sent; no answer ever comes
        with accepted:
            started = time.monotonic()
            exchange.abort()
            thread.join(10)
        assert not thread.is_alive()
        assert time.monotonic() - started < 5
        assert [type(ex) for ex in outcome] == [RequestCancelled]
