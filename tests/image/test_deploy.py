"""deploy/ checked offline: schemas, and the numbers the image tests ran the image with.

Schemas (no network):
- Kubernetes manifests: kubernetes-validate's JSON schemas of Kubernetes 1.30, strict (an
  unknown field fails).
- Azure ML endpoint and deployment YAML: the azure-ai-ml SDK's own loaders, the schemas the
  ``az ml`` CLI v2 applies (``load_online_endpoint``/``load_online_deployment``).
- KServe InferenceService: tests/image/schemas/kserve-inferenceservice-v1beta1.schema.json,
  ours, written from KServe's v1beta1 API types, for the envelope and the predictor's KServe
  fields; the predictor's inline PodSpec goes through Kubernetes' PodSpec schema.
Each validator is also shown to reject a misspelt field, so a check that passes everything
would fail here.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from . import serving
from .podman import REPO_ROOT

yaml = pytest.importorskip("yaml", reason="the deploy extra is not installed (make test-image installs it)")
jsonschema = pytest.importorskip("jsonschema", reason="the deploy extra is not installed (make test-image)")
kubernetes_validate = pytest.importorskip(
    "kubernetes_validate", reason="the deploy extra is not installed (make test-image installs it)"
)

# azure-ai-ml on marshmallow 3.x warns of marshmallow 4 on every load: not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:The `context` parameter is deprecated")

DEPLOY = REPO_ROOT / "deploy"
KUBERNETES_VERSION = "1.30.0"
KSERVE_SCHEMA = Path(__file__).with_name("schemas") / "kserve-inferenceservice-v1beta1.schema.json"
K8S_FILES = sorted((DEPLOY / "kubernetes").glob("*.yaml"))


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def kubernetes_objects() -> dict[str, dict[str, Any]]:
    """deploy/kubernetes/*.yaml by kind."""
    return {doc["kind"]: doc for path in K8S_FILES for doc in documents(path)}


def validate_kubernetes(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def validate_kserve(doc: dict[str, Any]) -> None:
    schema = json.loads(KSERVE_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
    predictor = doc["spec"]["predictor"]
    pod_spec = {k: v for k, v in predictor.items() if k not in schema["x-kserve-extension-fields"]}
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": doc["metadata"]["name"]}, "spec": pod_spec}
    validate_kubernetes(pod)


def load_azureml(kind: str, doc: dict[str, Any], tmp_path: Path) -> Any:
    """Through azure-ai-ml's loader; relative paths (the model folder) as seen from deploy/azureml/."""
    ml = pytest.importorskip("azure.ai.ml", reason="the deploy extra is not installed (make test-image installs it)")
    source = tmp_path / f"{kind}.yml"
    source.write_text(yaml.safe_dump(doc), encoding="utf-8")
    loader = ml.load_online_deployment if kind == "deployment" else ml.load_online_endpoint
    return loader(source=source, relative_origin=str(DEPLOY / "azureml"))


def azureml(name: str) -> dict[str, Any]:
    return documents(DEPLOY / "azureml" / f"{name}.yml")[0]


def kserve() -> dict[str, Any]:
    return documents(DEPLOY / "kserve" / "inferenceservice.yaml")[0]


# -- schemas -------------------------------------------------------------------------------
@pytest.mark.parametrize("path", K8S_FILES, ids=lambda p: p.name)
def test_kubernetes_manifests_validate(path):
    for doc in documents(path):
        validate_kubernetes(doc)


def test_kserve_inferenceservice_validates():
    validate_kserve(kserve())


def test_azureml_endpoint_and_deployment_load(tmp_path):
    endpoint = load_azureml("endpoint", azureml("endpoint"), tmp_path)
    deployment = load_azureml("deployment", azureml("deployment"), tmp_path)
    assert deployment.endpoint_name == endpoint.name


def _misspell(doc: dict[str, Any], path: list[str | int], wrong: str) -> dict[str, Any]:
    bad = copy.deepcopy(doc)
    parent = bad
    for key in path[:-1]:
        parent = parent[key]
    parent[wrong] = parent.pop(path[-1])
    return bad


def test_each_validator_rejects_a_misspelt_field(tmp_path):
    deployment = kubernetes_objects()["Deployment"]
    container = ["spec", "template", "spec", "containers", 0, "readinessProbe"]
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_kubernetes(_misspell(deployment, container, "readynessProbe"))
    with pytest.raises(jsonschema.ValidationError):
        validate_kserve(_misspell(kserve(), ["spec", "predictor"], "predicter"))
    with pytest.raises(kubernetes_validate.ValidationError):  # a KServe field misspelt lands in the PodSpec
        validate_kserve(_misspell(kserve(), ["spec", "predictor", "minReplicas"], "minReplica"))
    with pytest.raises(Exception, match="perod"):
        load_azureml("deployment", _misspell(azureml("deployment"), ["liveness_probe", "period"], "perod"), tmp_path)


# -- the numbers of the image test ---------------------------------------------------------
def _probe(spec: dict[str, Any], ports: dict[str, int]) -> tuple[Any, ...]:
    port = spec["httpGet"]["port"]
    return (
        spec["httpGet"]["path"],
        ports.get(port, port),
        spec.get("periodSeconds", 10),
        spec.get("timeoutSeconds", 1),
        spec.get("failureThreshold", 3),
        spec.get("initialDelaySeconds", 0),
        spec.get("successThreshold", 1),
    )


def _expected(probe: serving.Probe) -> tuple[Any, ...]:
    return (
        probe.path,
        serving.PORT,
        probe.period_seconds,
        probe.timeout_seconds,
        probe.failure_threshold,
        probe.initial_delay_seconds,
        probe.success_threshold,
    )


def assert_serving_pod(pod: dict[str, Any]) -> None:
    """A pod spec (Deployment template or KServe predictor) runs the image as the image test did."""
    assert pod["terminationGracePeriodSeconds"] == serving.TERMINATION_GRACE_SECONDS
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 1000
    (container,) = pod["containers"]
    ports = {p.get("name", str(p["containerPort"])): p["containerPort"] for p in container["ports"]}
    assert list(ports.values()) == [serving.PORT]
    assert _probe(container["startupProbe"], ports) == _expected(serving.STARTUP)
    assert _probe(container["livenessProbe"], ports) == _expected(serving.LIVENESS)
    assert _probe(container["readinessProbe"], ports) == _expected(serving.READINESS)
    assert container["lifecycle"]["preStop"]["sleep"]["seconds"] == serving.PRE_STOP_SECONDS
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["AZUREML_ENTRY_SCRIPT"] == serving.ENTRY_SCRIPT
    assert env["AZUREML_MODEL_DIR"] == serving.MODEL_DIR
    assert env["WORKER_COUNT"] == str(serving.WORKER_COUNT)
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert set(mounts) == {serving.MODEL_MOUNT_PATH, "/tmp"}
    assert mounts[serving.MODEL_MOUNT_PATH]["readOnly"] is True
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]["name"]]


def test_kubernetes_numbers_are_the_image_tests():
    objects = kubernetes_objects()
    deployment = objects["Deployment"]
    assert_serving_pod(deployment["spec"]["template"]["spec"])
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    service = objects["Service"]
    assert service["spec"]["selector"] == labels
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] == deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["name"]
    assert objects["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert objects["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"] == labels
    claim = objects["PersistentVolumeClaim"]["metadata"]["name"]
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    assert claim in [v.get("persistentVolumeClaim", {}).get("claimName") for v in volumes]


def test_kserve_numbers_are_the_image_tests():
    doc = kserve()
    predictor = doc["spec"]["predictor"]
    assert_serving_pod(predictor)
    assert predictor["containerConcurrency"] == serving.WORKER_COUNT
    assert doc["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "RawDeployment"


def test_azureml_numbers_are_the_image_tests():
    doc = azureml("deployment")
    routes = doc["environment"]["inference_config"]
    assert routes == {
        "liveness_route": {"port": serving.PORT, "path": serving.LIVENESS_PATH},
        "readiness_route": {"port": serving.PORT, "path": serving.READINESS_PATH},
        "scoring_route": {"port": serving.PORT, "path": serving.SCORING_PATH},
    }
    for name, probe in (("liveness_probe", serving.AZUREML_LIVENESS), ("readiness_probe", serving.AZUREML_READINESS)):
        keys = ("period", "timeout", "failure_threshold", "initial_delay", "success_threshold")
        assert tuple(doc[name][key] for key in keys) == (
            probe.period_seconds,
            probe.timeout_seconds,
            probe.failure_threshold,
            probe.initial_delay_seconds,
            probe.success_threshold,
        )
    assert doc["model_mount_path"] == serving.MODEL_MOUNT_PATH
    env = doc["environment_variables"]
    assert env["AZUREML_ENTRY_SCRIPT"] == serving.ENTRY_SCRIPT
    assert env["AZUREML_MODEL_DIR"] == serving.MODEL_DIR
    assert env["WORKER_COUNT"] == str(serving.WORKER_COUNT)
    assert doc["request_settings"]["max_concurrent_requests_per_instance"] == serving.WORKER_COUNT


def test_the_image_serves_what_the_manifests_name():
    dockerfile = (REPO_ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert f"EXPOSE {serving.PORT}\n" in dockerfile
    assert f"--port {serving.PORT}" in dockerfile
    assert "AML_APP_ROOT=/var/azureml-app" in dockerfile
