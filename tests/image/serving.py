"""The serving numbers of the image: one source for the image tests and the deploy/ checks.

The image tests run the container with these (port, routes, the grace period given to
``podman stop``, the model's mount path); test_deploy.py asserts that every manifest under
deploy/ says the same, so a probe or grace period that drifts from what was tested fails.
"""

from __future__ import annotations

from dataclasses import dataclass

from azmlinfsrv.runners import DRAIN_SECONDS as DRAIN_SECONDS  # the server's drain bound

PORT = 5001  # the image's EXPOSE and its default command's --port
LIVENESS_PATH = "/"  # the reference's liveness route: 200 "Healthy"
READINESS_PATH = "/readyz"  # 200 once every worker finished init(), 503 before and during drain
SCORING_PATH = "/score"

# SIGTERM -> in-flight requests finish, then exit: the server's bound, DRAIN_SECONDS (imported).
# Kubernetes keeps sending requests for a moment after it marks a pod terminating (endpoint
# removal propagates to every node's proxy and to ingresses): the preStop pause covers that.
PRE_STOP_SECONDS = 5
# The pod's terminationGracePeriodSeconds counts the preStop pause too; 5 s of margin.
TERMINATION_GRACE_SECONDS = PRE_STOP_SECONDS + DRAIN_SECONDS + 5

WORKER_COUNT = 2  # per pod; requests in flight per replica (sync workers: one each)

# Azure ML's layout: a registered model "hello" version 1, score.py inside the model folder.
MODEL_MOUNT_PATH = "/var/azureml-app/azureml-models/hello/1"
ENTRY_SCRIPT = f"{MODEL_MOUNT_PATH}/score.py"
MODEL_DIR = f"{MODEL_MOUNT_PATH}/model"


@dataclass(frozen=True)
class Probe:
    path: str
    period_seconds: int
    timeout_seconds: int
    failure_threshold: int
    initial_delay_seconds: int = 0
    success_threshold: int = 1


# Sync workers answer probes between requests, so a long run() on every worker delays them:
# liveness tolerates 5 minutes of that (Azure ML's default thresholds), readiness reacts fast
# (a busy or draining pod gets no new requests), the startup probe covers a slow init().
STARTUP = Probe(LIVENESS_PATH, period_seconds=10, timeout_seconds=2, failure_threshold=30)
LIVENESS = Probe(LIVENESS_PATH, period_seconds=10, timeout_seconds=2, failure_threshold=30)
READINESS = Probe(READINESS_PATH, period_seconds=10, timeout_seconds=2, failure_threshold=3)
# Azure ML has no startup probe: the first liveness probe waits initial_delay instead.
AZUREML_LIVENESS = Probe(LIVENESS_PATH, 10, 2, 30, initial_delay_seconds=10)
AZUREML_READINESS = Probe(READINESS_PATH, 10, 2, 3, initial_delay_seconds=10)
