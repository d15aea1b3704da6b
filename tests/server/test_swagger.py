"""GET /swagger.json: generated documents, user-provided files, versions."""

from __future__ import annotations

import json

from ._support import ECHO_SCRIPT

SCHEMA_SCRIPT = """\
from inference_schema.parameter_types.standard_py_parameter_type import StandardPythonParameterType
from inference_schema.schema_decorators import input_schema, output_schema


def init():
    pass


@input_schema("data", StandardPythonParameterType({"a": 1, "b": "text"}))
@output_schema(StandardPythonParameterType({"score": 0.5}))
def run(data):
    return {"score": 0.5}
"""


def test_generated_swagger_for_undecorated_run(server):
    srv = server.start(ECHO_SCRIPT)
    assert "Swaggers are prepared for the following versions: [2, 3, 3.1]." in srv.logs()

    r = srv.get("/swagger.json")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    doc = r.json()
    assert doc["swagger"] == "2.0"
    assert doc["info"]["title"] == "ML service"
    assert doc["info"]["version"] == "1.0"
    assert set(doc["paths"]) == {"/", "/score", "/swagger.json"}
    assert doc["definitions"]["ServiceInput"] == {"type": "object", "example": {}}
    assert doc["definitions"]["ServiceOutput"] == {"type": "object", "example": {}}
    assert "ErrorResponse" in doc["definitions"]
    assert doc["paths"]["/"]["get"]["operationId"] == "ServiceHealthCheck"
    assert doc["paths"]["/score"]["post"]["operationId"] == "RunMLService"
    assert doc["paths"]["/swagger.json"]["get"]["operationId"] == "GetSwaggerSpec"
    for alias in ("2", "2.0"):
        assert srv.get(f"/swagger.json?version={alias}").json() == doc

    v3 = srv.get("/swagger.json?version=3").json()
    assert v3["openapi"].startswith("3.0")
    assert v3["info"]["title"] == "ML service"
    assert v3["components"]["schemas"]["ServiceInput"] == {"type": "object", "example": {}}
    assert srv.get("/swagger.json?version=3.0").json() == v3

    v31 = srv.get("/swagger.json?version=3.1").json()
    assert v31["openapi"] == "3.1.0"
    assert v31["components"]["schemas"]["ServiceOutput"] == {"type": "object", "example": {}}

    r = srv.get("/swagger.json?version=4")
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"message": "Swagger version [4] is not valid. Supported versions: [2, 3, 3.1]."}
    srv.wait_for_log("GET /swagger.json?version=4 404 ")


def test_generated_swagger_from_schema_decorators_and_service_settings(server):
    srv = server.start(
        SCHEMA_SCRIPT,
        env={"SERVICE_NAME": "my-svc", "SERVICE_VERSION": "2.5", "SERVICE_PATH_PREFIX": "/api/v1/"},
    )
    doc = srv.get("/swagger.json").json()
    assert doc["info"]["title"] == "my-svc"
    assert doc["info"]["version"] == "2.5"
    assert "my-svc" in doc["info"]["description"]
    assert set(doc["paths"]) == {"/api/v1/", "/api/v1/score", "/api/v1/swagger.json"}
    service_input = doc["definitions"]["ServiceInput"]
    assert service_input["type"] == "object"
    assert service_input["properties"]["data"]["type"] == "object"
    assert service_input["example"] == {"data": {"a": 1, "b": "text"}}
    assert doc["definitions"]["ServiceOutput"]["example"] == {"score": 0.5}

    v3 = srv.get("/swagger.json?version=3").json()
    assert v3["info"]["title"] == "my-svc"
    assert v3["components"]["schemas"]["ServiceInput"]["example"] == {"data": {"a": 1, "b": "text"}}
    assert "/api/v1/score" in v3["paths"]


def test_user_swagger_files_win(server):
    mine2 = {"swagger": "2.0", "info": {"title": "user v2"}, "paths": {}}
    mine3 = {"openapi": "3.0.0", "info": {"title": "user v3"}, "paths": {}}
    mine31 = {"openapi": "3.1.0", "info": {"title": "user v3.1"}, "paths": {}}
    srv = server.start(
        ECHO_SCRIPT,
        files={
            "swagger.json": json.dumps(mine2),
            "swagger3.json": json.dumps(mine3),
            "swagger3.1.json": json.dumps(mine31),
        },
    )
    assert srv.get("/swagger.json").json() == mine2
    assert srv.get("/swagger.json?version=2.0").json() == mine2
    assert srv.get("/swagger.json?version=3").json() == mine3
    assert srv.get("/swagger.json?version=3.0").json() == mine3
    assert srv.get("/swagger.json?version=3.1").json() == mine31
    assert "Loaded user's swagger file for version [2]" in srv.logs()


def test_user_swagger2_file_and_generated_rest(server):
    mine2 = {"swagger": "2.0", "info": {"title": "from swagger2.json"}, "paths": {}}
    srv = server.start(ECHO_SCRIPT, env={"SERVICE_NAME": "generated-one"}, files={"swagger2.json": json.dumps(mine2)})
    assert srv.get("/swagger.json?version=2").json() == mine2
    assert srv.get("/swagger.json?version=3").json()["info"]["title"] == "generated-one"
