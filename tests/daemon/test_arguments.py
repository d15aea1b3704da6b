"""Command arguments: converted by pygls from the handlers' annotations; a bad one is a
JSON-RPC InvalidParams error whose message says what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytest_lsp import LanguageClient

from azmlinfsrv.daemon.arguments import ArgumentError, StartServerArgs, make_converter

from .conftest import _plain, execute


def structure(value: Any) -> StartServerArgs:
    return make_converter().structure(value, StartServerArgs)  # type: ignore[no-any-return]


def test_camel_case_fields_become_the_class(tmp_path: Path) -> None:
    score = tmp_path / "score.py"
    score.write_text("")
    args = structure({"entryScript": str(score), "workerCount": 2, "port": 5002, "env": {"A": "1"}, "debug": True})
    assert args == StartServerArgs(entry_script=str(score), worker_count=2, port=5002, env={"A": "1"}, debug=True)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({}, "entryScript: required field missing"),
        ({"entryScript": "/nowhere/score.py"}, "entryScript '/nowhere/score.py' is not a file"),
        ({"entryScript": 5}, "entryScript: expected a string, got 5"),
        ({"entryScript": "{score}", "workerCount": "2"}, "workerCount: expected an integer, got '2'"),
        ({"entryScript": "{score}", "workerCount": 0}, "workerCount must be at least 1, not 0"),
        ({"entryScript": "{score}", "port": 70000}, "port 70000 is not a TCP port (1-65535)"),
        ({"entryScript": "{score}", "debug": "yes"}, "debug: expected true or false, got 'yes'"),
        ({"entryScript": "{score}", "env": {"A": 1}}, "env['A']: expected a string, got 1"),
        ({"entryScript": "{score}", "entryscript": "x"}, "unknown field entryscript (it takes entryScript, "),
        (["score.py"], "the argument must be a JSON object, got ['score.py']"),
    ],
)
def test_bad_arguments_say_what_is_wrong(tmp_path: Path, value: Any, message: str) -> None:
    score = tmp_path / "score.py"
    score.write_text("")
    if isinstance(value, dict) and value.get("entryScript") == "{score}":
        value = {**value, "entryScript": str(score)}
    with pytest.raises(ArgumentError) as raised:
        structure(value)
    assert str(raised.value).startswith(message)


async def test_a_bad_argument_is_an_invalid_params_error(client: LanguageClient) -> None:
    with pytest.raises(Exception) as raised:
        await execute(client, "azmlinfsrv.daemon.startServer", {"entryScript": "/nowhere/score.py", "workerCount": 1})
    assert "entryScript '/nowhere/score.py' is not a file" in str(raised.value)
    assert getattr(raised.value, "code", None) == -32602  # InvalidParams
    with pytest.raises(Exception) as raised:
        await execute(client, "azmlinfsrv.daemon.sendRequest", {"method": "GET", "timeoutMs": "soon"})
    assert "timeoutMs: expected a number, got 'soon'" in str(raised.value)


async def test_commands_without_arguments_still_answer(client: LanguageClient) -> None:
    from lsprotocol import types

    params = types.ExecuteCommandParams(command="azmlinfsrv.daemon.status")  # no arguments at all
    status = await client.workspace_execute_command_async(params)
    assert _plain(status)["state"] == "stopped"
