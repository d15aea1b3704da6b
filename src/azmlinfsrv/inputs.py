"""Turning an HTTP request into run()'s keyword arguments, one parser per input mode."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

from flask import Request

from .script import UserScript

Parser = Callable[[Request], dict[str, Any]]


class InputError(Exception):
    """The client sent something run() cannot be called with: answered with ``status``."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadInput(InputError):
    status = 400


class UnsupportedInput(InputError):
    status = 415


class UnsupportedMethod(InputError):
    status = 405

    def __init__(self, method: str) -> None:
        super().__init__("Method not allowed")
        self.method = method


def _json_or_text(value: str) -> Any:
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return value


def query_parameters(request: Request) -> dict[str, Any]:
    """Query parameters as a JSON object: values JSON-parsed where possible, repeated keys as lists."""
    parsed: dict[str, Any] = {}
    for key, values in request.args.lists():
        parsed[key] = _json_or_text(values[0]) if len(values) == 1 else [_json_or_text(v) for v in values]
    return parsed


def _plain(name: str) -> Parser:
    def parse(request: Request) -> dict[str, Any]:
        method = request.method
        if method == "POST":
            try:
                return {name: request.get_data().decode("utf-8")}
            except UnicodeDecodeError as ex:
                raise BadInput(f"Input cannot be decoded as UTF-8: {ex}") from None
        if method == "GET":
            return {name: json.dumps(query_parameters(request))}
        raise UnsupportedMethod(method)

    return parse


def _schema(params: list[inspect.Parameter]) -> Parser:
    def extract(body: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for param in params:
            value = body.get(param.name, param.default)
            if value is inspect.Parameter.empty:
                raise BadInput(f"A value is not provided for the {param.name!r} parameter.")
            values[param.name] = value
        return values

    def parse(request: Request) -> dict[str, Any]:
        method = request.method
        if method == "POST":
            if not request.is_json:
                raise UnsupportedInput("Expects Content-Type to be application/json")
            data = request.get_data()
            try:
                body = json.loads(data)
            except ValueError as ex:
                if data:
                    raise BadInput(f"POST body could not be decoded as JSON: {ex}") from None
                raise BadInput("POST body is empty. Expecting a JSON dictionary.") from None
            except RecursionError:
                raise BadInput("POST body could not be decoded as JSON: it is nested too deeply") from None
            if not isinstance(body, dict):
                raise BadInput("POST body should be a JSON dictionary.")
            return extract(body)
        if method == "GET":
            return extract(query_parameters(request))
        raise UnsupportedMethod(method)

    return parse


def _raw(name: str) -> Parser:
    def parse(request: Request) -> dict[str, Any]:
        return {name: request}

    return parse


def parser_for(script: UserScript) -> Parser:
    if script.mode == "raw":
        return _raw(script.input_name)
    if script.mode == "schema":
        return _schema(script.inputs)
    return _plain(script.input_name)
