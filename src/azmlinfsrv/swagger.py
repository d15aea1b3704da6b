"""``/swagger.json``: the user's own swagger files, or a spec generated from inference-schema.

Built once per worker at start-up; a request only picks a prepared document.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from typing import Any

from .settings import Settings

logger = logging.getLogger("azmlinfsrv.swagger")

# Version → accepted spellings of ?version=, and the user files that override it.
VERSIONS: dict[str, tuple[set[str], tuple[str, ...]]] = {
    "2": ({"2", "2.0"}, ("swagger.json", "swagger2.json")),
    "3": ({"3", "3.0"}, ("swagger3.json",)),
    "3.1": ({"3.1"}, ("swagger3.1.json",)),
}
_CANONICAL = {alias: version for version, (aliases, _) in VERSIONS.items() for alias in aliases}
_INSPEC_VERSION = {"2": "2.0", "3": "3.0", "3.1": "3.1"}

_EMPTY_SCHEMA: dict[str, Any] = {"type": "object", "example": {}}
_ERROR_SCHEMA: dict[str, Any] = {"type": "object", "properties": {"message": {"type": "string"}}}
_HEALTH_DESCRIPTION = "If service is up and running, this response will be returned with the content 'Healthy'"
_FAILED_DESCRIPTION = "The service failed to execute due to an error."
_SCORE_DESCRIPTION = "The service processed the input correctly and provided a result prediction, if applicable."
_PAYLOAD_DESCRIPTION = "The input payload for executing the real-time machine learning service."


class SwaggerNotFound(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _info(settings: Settings) -> dict[str, str]:
    name = settings.service_name
    return {
        "title": name,
        "description": f"API specification for the Azure Machine Learning service {name}",
        "version": settings.service_version,
    }


def _prefix(settings: Settings) -> str:
    prefix = settings.service_path_prefix.strip("/")
    return f"/{prefix}" if prefix else ""


def _paths(
    settings: Settings,
    failed: dict[str, Any],
    health_ok: dict[str, Any],
    score_input: tuple[str, Any],
    score_ok: dict[str, Any],
    version_parameter: dict[str, Any],
    swagger_ok: dict[str, Any],
) -> dict[str, Any]:
    """The three documented routes; the version-specific pieces (how a schema or body is
    described in Swagger 2 and OpenAPI 3) come from the caller."""
    prefix = _prefix(settings)
    return {
        f"{prefix}/": {
            "get": {
                "operationId": "ServiceHealthCheck",
                "description": "Simple health check endpoint to ensure the service is up at any given point.",
                "responses": {"200": {"description": _HEALTH_DESCRIPTION, **health_ok}, "default": failed},
            }
        },
        f"{prefix}/score": {
            "post": {
                "operationId": "RunMLService",
                "description": "Run web service's model and get the prediction output",
                "security": [{"Bearer": []}],
                score_input[0]: score_input[1],
                "responses": {"200": {"description": _SCORE_DESCRIPTION, **score_ok}, "default": failed},
            }
        },
        f"{prefix}/swagger.json": {
            "get": {
                "operationId": "GetSwaggerSpec",
                "description": "Get the Swagger specification.",
                "parameters": [{"name": "version", "in": "query", "required": False, **version_parameter}],
                "responses": {"200": {"description": "The Swagger specification.", **swagger_ok}, "default": failed},
            }
        },
    }


_BEARER = {"type": "apiKey", "name": "Authorization", "in": "header", "description": "For example: Bearer abc123"}
_VERSIONS_ENUM = {"type": "integer", "enum": [2, 3]}


def _swagger2(settings: Settings, input_schema: Any, output_schema: Any) -> dict[str, Any]:
    def ref(name: str) -> dict[str, Any]:
        return {"schema": {"$ref": f"#/definitions/{name}"}}

    body = {"name": "serviceInputPayload", "in": "body", "description": _PAYLOAD_DESCRIPTION, **ref("ServiceInput")}
    return {
        "swagger": "2.0",
        "info": _info(settings),
        "schemes": ["https"],
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "securityDefinitions": {"Bearer": _BEARER},
        "paths": _paths(
            settings,
            failed={"description": _FAILED_DESCRIPTION, **ref("ErrorResponse")},
            health_ok={"schema": {"type": "string"}, "examples": {"application/json": "Healthy"}},
            score_input=("parameters", [body]),
            score_ok=ref("ServiceOutput"),
            version_parameter=_VERSIONS_ENUM,
            swagger_ok={"schema": {"type": "string"}},
        ),
        "definitions": {"ServiceInput": input_schema, "ServiceOutput": output_schema, "ErrorResponse": _ERROR_SCHEMA},
    }


def _openapi3(settings: Settings, input_schema: Any, output_schema: Any, version: str) -> dict[str, Any]:
    def content(media: str, schema: dict[str, Any]) -> dict[str, Any]:
        return {"content": {media: {"schema": schema}}}

    def ref(name: str) -> dict[str, Any]:
        return content("application/json", {"$ref": f"#/components/schemas/{name}"})

    return {
        "openapi": version,
        "info": _info(settings),
        "security": [{"Bearer": []}],
        "paths": _paths(
            settings,
            failed={"description": _FAILED_DESCRIPTION, **ref("ErrorResponse")},
            health_ok=content("text/plain", {"type": "string", "example": "Healthy"}),
            score_input=("requestBody", {"description": _PAYLOAD_DESCRIPTION, **ref("ServiceInput")}),
            score_ok=ref("ServiceOutput"),
            version_parameter={"schema": _VERSIONS_ENUM},
            swagger_ok=content("text/plain", {"type": "string"}),
        ),
        "components": {
            "schemas": {"ServiceInput": input_schema, "ServiceOutput": output_schema, "ErrorResponse": _ERROR_SCHEMA},
            "securitySchemes": {"Bearer": _BEARER},
        },
    }


def _schema_functions() -> tuple[Callable[..., Any], ...] | None:
    try:
        from inference_schema.schema_util import (
            get_input_schema,
            get_output_schema,
            get_supported_versions,
            is_schema_decorated,
        )
    except ImportError:
        return None
    return is_schema_decorated, get_supported_versions, get_input_schema, get_output_schema


class Swagger:
    """The prepared swagger documents of one script, by canonical version."""

    def __init__(self, settings: Settings, run: Callable[..., Any]) -> None:
        self.documents: dict[str, bytes] = {}
        skipped: list[str] = []
        for version, (_, files) in VERSIONS.items():
            document = self._user_document(settings.app_root, version, files)
            if document is None:
                document = self._generate(settings, run, version)
            if document is None:
                skipped.append(version)
            else:
                self.documents[version] = json.dumps(document).encode("utf-8")
        self.supported = sorted(self.documents)
        if self.supported and skipped:
            logger.info(
                f"Swaggers are prepared for versions [{', '.join(self.supported)}] "
                f"and skipped for versions [{', '.join(sorted(skipped))}]."
            )
        elif self.supported:
            logger.info(f"Swaggers are prepared for the following versions: [{', '.join(self.supported)}].")
        else:
            logger.info("No swagger is prepared.")

    @staticmethod
    def _user_document(app_root: str, version: str, files: tuple[str, ...]) -> Any:
        # Only fixed file names directly in the app root: a request never names a path.
        for name in files:
            path = os.path.join(app_root, name)
            try:
                with open(path, encoding="utf-8") as f:
                    document = json.load(f)
            except FileNotFoundError:
                continue
            logger.info(f"Loaded user's swagger file for version [{version}] from {path}")
            return document
        return None

    @staticmethod
    def _generate(settings: Settings, run: Callable[..., Any], version: str) -> dict[str, Any] | None:
        functions = _schema_functions()
        input_schema: Any = _EMPTY_SCHEMA
        output_schema: Any = _EMPTY_SCHEMA
        if functions is not None:
            is_decorated, supported_versions, get_input, get_output = functions
            aliases = VERSIONS[version][0]
            if not aliases & set(supported_versions(run)):
                return None
            if is_decorated(run):
                input_schema, output_schema = get_input(run), get_output(run)
        if version == "2":
            return _swagger2(settings, input_schema, output_schema)
        return _openapi3(settings, input_schema, output_schema, "3.0.3" if version == "3" else "3.1.0")

    def get(self, requested: str) -> bytes:
        version = _CANONICAL.get(requested)
        supported = ", ".join(self.supported)
        if version is None:
            raise SwaggerNotFound(f"Swagger version [{requested}] is not valid. Supported versions: [{supported}].")
        document = self.documents.get(version)
        if document is None:
            raise SwaggerNotFound(
                f"Swagger version [{requested}] is not supported for the scoring script. "
                f"Supported swagger versions: [{supported}]."
            )
        return document
