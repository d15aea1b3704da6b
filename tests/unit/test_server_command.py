"""Which command lines findServers takes for a scoring server (daemon/processes.py)."""

from __future__ import annotations

import pytest

pytest.importorskip("psutil")  # the daemon's extra

from azmlinfsrv.daemon.processes import is_server_command  # noqa: E402


@pytest.mark.parametrize(
    "cmdline",
    [
        ["/venv/bin/python", "/venv/bin/azmlinfsrv", "--entry_script", "score.py"],
        ["/venv/bin/python", "-m", "azmlinfsrv", "--port", "5001"],
        ["python", "-m", "azureml_inference_server_http"],
        [
            "/usr/bin/python3",
            "/home/u/.vscode/extensions/azmlinfsrv/bundled/tool/launch.py",
            "server",
            "--port",
            "5001",
        ],
    ],
)
def test_scoring_servers(cmdline: list[str]) -> None:
    assert is_server_command(cmdline)


@pytest.mark.parametrize(
    "cmdline",
    [
        ["/venv/bin/python", "-m", "azmlinfsrv.daemon"],
        ["/usr/bin/python3", "/ext/bundled/tool/launch.py", "daemon"],
        ["/usr/bin/python3", "/ext/bundled/tool/launch.py", "adapter"],
        ["python", "other/launch.py", "server"],
        [],
    ],
)
def test_not_scoring_servers(cmdline: list[str]) -> None:
    assert not is_server_command(cmdline)
