"""The client's extension/src/protocol.ts and the daemon spell the interface alike: state
values, status fields, command and notification names, command arguments. Parsed from the
TypeScript source, so neither side can drift without this failing."""

from __future__ import annotations

import re
from pathlib import Path

import attrs

from azmlinfsrv.daemon import arguments, cases, lsp_server
from azmlinfsrv.daemon.state import Phase, ServerState, status_fields

PROTOCOL_TS = Path(__file__).resolve().parents[2] / "extension" / "src" / "protocol.ts"


def _source() -> str:
    return PROTOCOL_TS.read_text(encoding="utf-8")


def _interface_fields(name: str) -> list[str]:
    match = re.search(rf"export interface {name} \{{(.*?)\n\}}", _source(), re.S)
    assert match, f"protocol.ts has no interface {name}"
    body = re.sub(r"/\*.*?\*/|//[^\n]*", "", match[1], flags=re.S)
    return re.findall(r"^\s*(\w+)\??\s*:", body, re.M)


def _const_values(name: str) -> set[str]:
    match = re.search(rf"export const {name} = \{{(.*?)\}} as const;", _source(), re.S)
    assert match, f"protocol.ts has no const {name}"
    return set(re.findall(r":\s*'([^']+)'", match[1]))


def test_state_values_are_the_same() -> None:
    match = re.search(r"export type ServerState = ([^;]+);", _source())
    assert match
    assert re.findall(r"'([^']+)'", match[1]) == [s.value for s in ServerState]


def test_phase_values_are_the_same() -> None:
    match = re.search(r"export type ServerPhase = ([^;]+);", _source())
    assert match
    assert re.findall(r"'([^']+)'", match[1]) == [p.value for p in Phase]


def test_status_fields_are_the_same() -> None:
    for name, fields in status_fields().items():
        assert _interface_fields(name) == fields, name


def test_command_and_notification_names_are_the_same() -> None:
    assert _const_values("DaemonCommands") == set(lsp_server.COMMANDS)
    assert _const_values("DaemonNotifications") == {lsp_server.NOTIFY_STATUS, lsp_server.NOTIFY_LOG}


def test_command_arguments_are_the_same() -> None:
    for cls in (arguments.StartServerArgs, arguments.SendRequestArgs, arguments.ListCasesArgs, arguments.RunCasesArgs):
        assert _interface_fields(cls.__name__) == [arguments.camel(a.name) for a in attrs.fields(cls)]


def test_case_results_are_the_same() -> None:
    for name, fields in cases.result_fields().items():
        assert _interface_fields(name) == fields, name
    assert _interface_fields("CaseLocation") == ["file", "line"]
    match = re.search(r"export type CaseVerdict = ([^;]+);", _source())
    assert match and re.findall(r"'([^']+)'", match[1]) == ["passed", "failed", "error"]
