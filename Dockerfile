# The azmlinfsrv serving image: score.py + a model folder -> HTTP on port 5001, as Azure ML's
# inference images do. Build it with `make image` (it builds the wheels first, on the host);
# the build itself needs no network: everything is installed from build/image-wheels/.
#
#   make image                                    # FROM python:3.11-slim
#   make image BASE_IMAGE=my-env:1 IMAGE_PYTHON=3.12
#
# BASE_IMAGE: any image with python3 and its venv module (Debian's python3-venv). The server
# goes into a venv that also sees the base's own packages (--system-site-packages), so a base
# image that already holds a model's libraries (numpy, torch...) serves that model as is.
# Every stage starts FROM the same base, so the venv's interpreter path is valid in the last.
# Written for podman 4.3 / buildah as well as docker: no COPY --link, no heredocs.

ARG BASE_IMAGE=python:3.11-slim

FROM ${BASE_IMAGE} AS build
# Names this stage's cached image (podman/buildah keep one per build) so it can be pruned.
LABEL io.github.azmlinfsrv.stage=build
COPY build/image-wheels/ /tmp/wheels/
RUN python3 -m venv --system-site-packages /opt/azmlinfsrv \
    && /opt/azmlinfsrv/bin/python -m pip install --no-index --find-links /tmp/wheels --no-cache-dir \
        --disable-pip-version-check --no-warn-script-location azmlinfsrv \
    && /opt/azmlinfsrv/bin/azmlinfsrv --version

FROM ${BASE_IMAGE}
ARG APP_UID=1000
# HOME is /tmp: the root file system may be read-only (Kubernetes readOnlyRootFilesystem,
# podman --read-only) with only /tmp writable, and libraries write caches under HOME.
RUN groupadd --gid "${APP_UID}" azureml \
    && useradd --uid "${APP_UID}" --gid "${APP_UID}" --home-dir /tmp --no-create-home \
        --shell /usr/sbin/nologin azureml \
    && mkdir -p /var/azureml-app/azureml-models
COPY --from=build /opt/azmlinfsrv /opt/azmlinfsrv
COPY deploy/image/healthcheck.py /opt/azmlinfsrv/healthcheck.py

# Azure ML's layout: the app (score.py) under /var/azureml-app, models under
# /var/azureml-app/azureml-models/<name>/<version>; a deployment sets both variables.
# AZMLINFSRV_ATTACH=off: no debugger attach channel in production (docs/attach.md).
ENV PATH=/opt/azmlinfsrv/bin:${PATH} \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    AZMLINFSRV_ATTACH=off \
    AML_APP_ROOT=/var/azureml-app \
    AZUREML_ENTRY_SCRIPT=score.py \
    AZUREML_MODEL_DIR=/var/azureml-app/azureml-models \
    WORKER_COUNT=1
WORKDIR /var/azureml-app
USER ${APP_UID}:${APP_UID}
EXPOSE 5001

# GET / (liveness) answered within 2 s; podman keeps HEALTHCHECK in docker-format images only.
HEALTHCHECK --interval=10s --timeout=2s --start-period=30s --retries=3 \
    CMD ["/opt/azmlinfsrv/bin/python", "/opt/azmlinfsrv/healthcheck.py"]

# PID 1 is the server itself (`exec` replaces the shell, which is only here to expand the
# variables): gunicorn's arbiter handles SIGTERM (stop accepting, let in-flight requests
# finish, exit 0), SIGINT/SIGQUIT, and reaps every child, adopted orphans included.
STOPSIGNAL SIGTERM
CMD exec azmlinfsrv --entry_script "${AZUREML_ENTRY_SCRIPT}" --model_dir "${AZUREML_MODEL_DIR}" --port 5001
