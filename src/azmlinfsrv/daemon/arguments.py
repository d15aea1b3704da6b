"""The commands' arguments as typed classes, converted by pygls from the handlers' annotations.

pygls structures each ``workspace/executeCommand`` argument with the server's cattrs
converter (lsprotocol's, which maps ``entryScript`` to ``entry_script``). The classes here
are structured by a second, strict converter (no ``"2"`` for an int, no unknown keys), and
every failure becomes one plain sentence that pygls answers as an InvalidParams error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override
from lsprotocol.converters import get_converter

T = TypeVar("T")


class ArgumentError(ValueError):
    """A command argument that is not what the command takes; its text goes to the client."""


def camel(name: str) -> str:
    """``entry_script`` -> ``entryScript``: the JSON spelling of a field."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# -- validators (attrs) -----------------------------------------------------------------------
def _is_file(_: Any, attribute: attrs.Attribute[str], value: str) -> None:
    if not value:
        raise ArgumentError(f"{camel(attribute.name)} is empty: give the path of score.py")
    if not os.path.isfile(value):
        raise ArgumentError(f"{camel(attribute.name)} {value!r} is not a file")


def _tcp_port(_: Any, attribute: attrs.Attribute[int | None], value: int | None) -> None:
    if value is not None and not 1 <= value <= 65535:
        raise ArgumentError(f"{camel(attribute.name)} {value} is not a TCP port (1-65535)")


def _positive(_: Any, attribute: attrs.Attribute[int | None], value: int | None) -> None:
    if value is not None and value < 1:
        raise ArgumentError(f"{camel(attribute.name)} must be at least 1, not {value}")


# -- the commands' arguments ------------------------------------------------------------------
@attrs.frozen
class StartServerArgs:
    """``startServer``: what to serve and how (see docs/daemon.md)."""

    entry_script: str = attrs.field(validator=_is_file)
    model_dir: str | None = None
    port: int | None = attrs.field(default=None, validator=_tcp_port)
    worker_count: int | None = attrs.field(default=None, validator=_positive)
    env: dict[str, str] | None = None
    debug: bool | None = None


@attrs.frozen
class DebugConfigurationsArgs:
    """``debugConfigurations``: the daemon's own workers, or the server that ``pid`` belongs to."""

    pid: int | None = attrs.field(default=None, validator=_positive)


@attrs.frozen
class SendRequestArgs:
    """``sendRequest``: one HTTP request to the running server."""

    method: str = "POST"
    path: str = "/score"
    headers: dict[str, str] | None = None
    body: str | None = None
    body_base64: str | None = None
    timeout_ms: float | None = attrs.field(default=None, validator=_positive)
    # Names the request for ``cancelRequest``.
    request_id: str | None = None


@attrs.frozen
class CancelRequestArgs:
    """``cancelRequest``: aborts the pending ``sendRequest`` that has this ``requestId``."""

    request_id: str


def _cases_path(instance: Any, attribute: attrs.Attribute[str | None], value: str | None) -> None:
    """``cases`` is a folder or file, relative to the entry script's folder unless absolute."""
    if value is not None and not os.path.exists(os.path.join(os.path.dirname(instance.entry_script), value)):
        raise ArgumentError(f"{camel(attribute.name)} {value!r} does not exist")


@attrs.frozen
class ListCasesArgs:
    """``listCases``: the sample-request cases of a scoring script (docs/validation.md)."""

    entry_script: str = attrs.field(validator=_is_file)
    cases: str | None = attrs.field(default=None, validator=_cases_path)


@attrs.frozen
class RunCasesArgs:
    """``runCases``: run some (``ids``) or all cases; the rest is for a server started for the run."""

    entry_script: str = attrs.field(validator=_is_file)
    ids: list[str] | None = None
    cases: str | None = attrs.field(default=None, validator=_cases_path)
    model_dir: str | None = None
    worker_count: int | None = attrs.field(default=None, validator=_positive)
    env: dict[str, str] | None = None
    timeout_ms: float | None = attrs.field(default=None, validator=_positive)


@attrs.frozen
class NoArgs:
    """``stopServer``, ``status``, ``findServers``: an empty object."""


# The arguments of a command called with no arguments at all (``arguments`` left out).
NO_ARGS = NoArgs()
OWN_WORKERS = DebugConfigurationsArgs()
DEFAULT_REQUEST = SendRequestArgs()

COMMAND_ARGUMENTS: tuple[type, ...] = (
    StartServerArgs,
    DebugConfigurationsArgs,
    SendRequestArgs,
    NoArgs,
    CancelRequestArgs,
    ListCasesArgs,
    RunCasesArgs,
)


# -- conversion -------------------------------------------------------------------------------
def _strict(kind: type[T], name: str) -> Callable[[Any, type], T]:
    def structure(value: Any, _: type) -> T:
        # bool is an int to Python, never to a JSON client.
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise ArgumentError(f"expected {name}, got {value!r}")
        return value

    return structure


def _strings(value: Any, _: type) -> list[str]:
    # cattrs would take any iterable: a string "ab" would become ["a", "b"].
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ArgumentError(f"expected a list of strings, got {value!r}")
    return value


def _number(value: Any, _: type) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ArgumentError(f"expected a number, got {value!r}")
    return float(value)


def _strict_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(str, _strict(str, "a string"))
    converter.register_structure_hook(int, _strict(int, "an integer"))
    converter.register_structure_hook(bool, _strict(bool, "true or false"))
    converter.register_structure_hook(float, _number)
    converter.register_structure_hook_func(lambda t: t == list[str], _strings)
    for cls in COMMAND_ARGUMENTS:
        renames = {a.name: override(rename=camel(a.name)) for a in attrs.fields(cls)}
        converter.register_structure_hook(cls, make_dict_structure_fn(cls, converter, **renames))  # type: ignore[arg-type]
    return converter


def _field_list(cls: type) -> str:
    return ", ".join(camel(a.name) for a in attrs.fields(cls)) or "no fields"


def _field_first(match: re.Match[str]) -> str:
    message, path = match[1], match[2]
    return f"{camel(path)}: {message}" if path else message


def _sentence(error: Exception, cls: type) -> str:
    """One plain sentence for everything wrong with one argument object."""
    if isinstance(error, ArgumentError):
        return str(error)

    def describe(exc: BaseException, kind: type | None) -> str:
        if isinstance(exc, cattrs.ForbiddenExtraKeysError):
            return f"unknown field {', '.join(sorted(exc.extra_fields))} (it takes {_field_list(cls)})"
        return str(exc) if isinstance(exc, ArgumentError) else cattrs.v.format_exception(exc, kind)

    if isinstance(error, cattrs.BaseValidationError):
        problems = cattrs.transform_error(error, path="", format_exception=describe)
        # "message @ .field_name" -> "fieldName: message"; the object's own problems bare.
        return "; ".join(re.sub(r"^(.*) @ \.?(.*)$", _field_first, problem) for problem in problems)
    return str(error)


def structure_arguments(converter: cattrs.Converter, value: Any, cls: type[T]) -> T:
    """Structure one command argument, raising an ArgumentError that says what is wrong."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise ArgumentError(f"the argument must be a JSON object, got {value!r}")
    try:
        return converter.structure(value, cls)
    except (cattrs.BaseValidationError, ArgumentError, ValueError, TypeError) as ex:
        raise ArgumentError(_sentence(ex, cls)) from None


def make_converter() -> cattrs.Converter:
    """lsprotocol's converter for LSP messages, plus strict hooks for the command arguments."""
    converter = get_converter()
    strict = _strict_converter()
    for cls in COMMAND_ARGUMENTS:
        converter.register_structure_hook(cls, lambda value, kind: structure_arguments(strict, value, kind))
    return converter
