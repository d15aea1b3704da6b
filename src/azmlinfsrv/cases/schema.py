"""JSON Schema checks: a schema from the case, or the response schema the server itself
publishes in ``/swagger.json`` (inference-schema's ``ServiceOutput``, or a user swagger).

Needs the ``jsonschema`` package (``pip install 'azmlinfsrv[validation]'``); it is only
imported when a case asks for a schema check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .compare import child_path
from .model import Difference

MAX_SCHEMA_ERRORS = 20
INSTALL_HINT = "schema checks need the jsonschema package: pip install 'azmlinfsrv[validation]'"


class SchemaUnavailable(Exception):
    """A schema cannot be checked: jsonschema is missing, or the schema itself is invalid."""


@dataclass(frozen=True)
class SwaggerDocument:
    """The server's ``/swagger.json`` as fetched once per run, or why it could not be."""

    document: dict[str, Any] | None
    error: str = ""


def validate(value: Any, schema: dict[str, Any] | bool, dialect: str | None = None) -> list[Difference]:
    """Where ``value`` breaks ``schema`` (empty when it conforms).

    ``dialect``: "draft4" for Swagger 2 / OpenAPI 3.0 schemas, "draft2020-12" for
    OpenAPI 3.1; None lets ``$schema`` decide (default 2020-12).
    """
    try:
        import jsonschema
        from jsonschema import validators
    except ImportError:
        raise SchemaUnavailable(INSTALL_HINT) from None
    default: Any = jsonschema.Draft202012Validator
    if dialect == "draft4":
        cls: Any = jsonschema.Draft4Validator
    else:
        cls = validators.validator_for(schema, default=default) if isinstance(schema, dict) else default
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as ex:
        raise SchemaUnavailable(f"the schema is not valid: {ex.message}") from None
    errors = sorted(cls(schema).iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path])
    out = []
    for error in errors[:MAX_SCHEMA_ERRORS]:
        path = "$"
        for part in error.absolute_path:
            path = child_path(path, part)
        out.append(Difference(path, error.message))
    return out


def response_schema(document: dict[str, Any], method: str, path: str, status: int) -> tuple[dict[str, Any], str]:
    """The schema a swagger document gives for answering ``method path`` with ``status``,
    with the document's definitions beside it so that ``$ref``s resolve; and its dialect.

    Raises LookupError saying what is missing.
    """
    route = path.split("?", 1)[0]
    paths = document.get("paths") or {}
    key = next((k for k in paths if k == route), None) or next((k for k in paths if k.endswith(route)), None)
    if key is None:
        raise LookupError(f"/swagger.json describes no path {route}")
    operation = (paths[key] or {}).get(method.lower())
    if not isinstance(operation, dict):
        raise LookupError(f"/swagger.json describes no {method.upper()} {key}")
    responses = operation.get("responses") or {}
    response = responses.get(str(status)) or responses.get("default")
    if not isinstance(response, dict):
        raise LookupError(f"/swagger.json describes no {status} answer for {method.upper()} {key}")
    openapi = str(document.get("openapi", ""))
    if openapi:
        media = (response.get("content") or {}).get("application/json") or {}
        schema = media.get("schema")
        extra = {"components": document.get("components") or {}}
    else:
        schema = response.get("schema")
        extra = {"definitions": document.get("definitions") or {}}
    if not isinstance(schema, dict):
        raise LookupError(f"/swagger.json gives no JSON schema for the {status} answer of {method.upper()} {key}")
    dialect = "draft2020-12" if openapi.startswith("3.1") else "draft4"
    return {**extra, **schema}, dialect
