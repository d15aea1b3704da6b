"""Why a server ended, in words, from its last stderr lines (in-process)."""

from __future__ import annotations

import pytest

from azmlinfsrv.daemon.failures import ExitReason, exit_reason

GUNICORN_IN_USE = [
    "2026-12-02 18:00:00,000 E [1] gunicorn.error - Connection in use: ('127.0.0.1', 5001)",
    "2026-12-02 18:00:00,000 E [1] gunicorn.error - connection to ('127.0.0.1', 5001) failed: "
    "[Errno 98] Address already in use",
    "2026-12-02 18:00:05,000 E [1] gunicorn.error - Can't connect to ('127.0.0.1', 5001)",
]
IN_USE = "port 5001 on 127.0.0.1 is already in use. Stop the other server or choose another port with --port."
TRACEBACK = [
    "Traceback (most recent call last):",
    '  File "/venv/lib/python3.11/site-packages/azmlinfsrv/__main__.py", line 3, in <module>',
    "    from .cli import main",
    '  File "/venv/lib/python3.11/site-packages/azmlinfsrv/cli.py", line 12, in <module>',
    "    import flask",
    "ModuleNotFoundError: No module named 'flask'",
]


@pytest.mark.parametrize(
    ("lines", "code", "reason"),
    [
        (
            ["azmlinfsrv: error: " + IN_USE],
            1,
            ExitReason(IN_USE, port_in_use=True),
        ),
        (
            ["azmlinfsrv: error: cannot listen on 127.0.0.1:80: Permission denied"],
            1,
            ExitReason("cannot listen on 127.0.0.1:80: Permission denied"),
        ),
        (GUNICORN_IN_USE, 1, ExitReason("port 5001 is already in use", port_in_use=True)),
        (
            ["OSError: [Errno 13] Permission denied: '/app/model'"],
            1,
            ExitReason("permission denied: OSError: [Errno 13] Permission denied: '/app/model'"),
        ),
        (TRACEBACK, 1, ExitReason("ModuleNotFoundError: No module named 'flask' (cli.py:12)")),
        (["some last words", ""], 2, ExitReason("azmlinfsrv exited with code 2: some last words")),
        ([], -9, ExitReason("azmlinfsrv was stopped by signal 9 and printed nothing")),
    ],
)
def test_exit_reasons(lines: list[str], code: int, reason: ExitReason) -> None:
    assert exit_reason(lines, code, 5001) == reason


def test_the_last_own_error_wins_over_earlier_noise() -> None:
    lines = [*TRACEBACK, "azmlinfsrv: error: WORKER_COUNT and WORKER_TIMEOUT must be integers"]
    assert exit_reason(lines, 1, 5001).text == "WORKER_COUNT and WORKER_TIMEOUT must be integers"
