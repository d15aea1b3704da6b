# Two commands on a fresh machine: `make run` serves an example, `make test` runs every suite.
# Each installs what it needs first (.venv, pip, npm ci, Debian packages when missing).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
PORT ?= 5001
EXAMPLE ?= examples/hello
PYTEST := $(PY) -m pytest -q -p no:cacheprovider

.PHONY: run install test lint test-unit test-server test-gate test-daemon test-telemetry test-reliability soak bench \
        extension lint-extension test-extension test-webview vsix test-e2e clean \
        image-wheels image test-image

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[daemon,dev]'
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

run: $(STAMP)
	$(VENV)/bin/azmlinfsrv --entry_script $(EXAMPLE)/score.py --model_dir $(EXAMPLE)/model --port $(PORT) --host 127.0.0.1

# --- Python: server, daemon, reliability ------------------------------------------------
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests examples bench bundled
	$(VENV)/bin/ruff format --check src tests examples bench bundled
	$(VENV)/bin/mypy

# In-process tests of pure functions and single pieces: seconds, no process started.
test-unit: $(STAMP)
	$(PYTEST) tests/unit

test-server: $(STAMP)
	$(PYTEST) tests/server

# `azmlinfsrv test` (the validation gate) and the azmlinfsrv.cases module.
test-telemetry: $(STAMP)
	$(PYTEST) tests/telemetry

test-gate: $(STAMP)
	$(PYTEST) tests/gate

test-daemon: $(STAMP)
	$(PYTEST) tests/daemon

test-reliability: $(STAMP)
	$(PYTEST) tests/reliability

# Performance against the reference and a bare-gunicorn ceiling: writes docs/benchmarks.md.
bench: $(STAMP)
	bash bench/run.sh

# A longer soak than the 10 s one in test-reliability (loopback only, stops by itself).
soak: $(STAMP)
	$(PY) tests/reliability/soak.py --duration $(or $(SOAK_SECONDS),60) --connections 8

# --- The serving image and deploy/ ----------------------------------------------------------
# `make image` builds the wheels here (pip, with this machine's index and cache), then an image
# whose build needs no network. IMAGE_PYTHON must be BASE_IMAGE's Python (it picks the wheels).
IMAGE ?= localhost/azmlinfsrv:latest
BASE_IMAGE ?= python:3.11-slim
IMAGE_PYTHON ?= 3.11
IMAGE_ARCH ?= $(shell uname -m)
IMAGE_WHEELS := build/image-wheels
CONTAINER_TOOL ?= podman
# podman settings that this repository's machines need (deploy/containers.conf says why);
# `make image PODMAN_CONF=` uses your podman's own configuration.
PODMAN_CONF ?= $(CURDIR)/deploy/containers.conf
IMAGE_BUILD_FLAGS ?=
DEPLOY_VENV := .venv-deploy
DEPLOY_STAMP := $(DEPLOY_VENV)/.installed

image-wheels: $(STAMP)
	rm -rf $(IMAGE_WHEELS)
	# Same sources, same wheel bytes (SOURCE_DATE_EPOCH): an unchanged tree reuses the build cache.
	SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct 2>/dev/null || echo 315532800) \
	    $(PY) -m pip wheel --quiet --no-deps --wheel-dir $(IMAGE_WHEELS) .
	$(PY) -m pip download --quiet --dest $(IMAGE_WHEELS) --only-binary=:all: --implementation cp \
	    --python-version $(IMAGE_PYTHON) --platform manylinux_2_28_$(IMAGE_ARCH) --platform linux_$(IMAGE_ARCH) \
	    $(IMAGE_WHEELS)/azmlinfsrv-*.whl

image: image-wheels
	$(if $(PODMAN_CONF),CONTAINERS_CONF=$(PODMAN_CONF)) $(CONTAINER_TOOL) build --format docker $(IMAGE_BUILD_FLAGS) \
	    --build-arg BASE_IMAGE=$(BASE_IMAGE) -t $(IMAGE) .

# The image tests need podman, runc and debootstrap (Debian packages), and validate deploy/
# offline with the packages of the `deploy` extra, in a venv of their own: azure-ai-ml pins
# OpenTelemetry below what the dev venv's exporters need, and pip would downgrade them there.
$(DEPLOY_STAMP): pyproject.toml
	test -x $(DEPLOY_VENV)/bin/python || $(PYTHON) -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(DEPLOY_VENV)/bin/python -m pip install --quiet -e '.[deploy]' 'pytest>=8,<10' pytest-asyncio 'requests>=2.31,<3'
	touch $(DEPLOY_STAMP)

test-image: $(DEPLOY_STAMP)
	command -v podman >/dev/null && command -v runc >/dev/null && command -v debootstrap >/dev/null || \
	    (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y podman runc debootstrap)
	$(DEPLOY_VENV)/bin/python -m pytest -q -p no:cacheprovider -rs tests/image

# --- The VS Code extension ----------------------------------------------------------------
extension: $(NODE_STAMP)
	npm run build

lint-extension: $(NODE_STAMP)
	npm run lint

test-extension: $(NODE_STAMP)
	npm run test:unit

test-webview: $(NODE_STAMP)
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
	npm run test:webview

# The platform-specific .vsix of this machine: bundled/build.py unpacks the pinned wheels
# (pip's cache and build/bundle/wheels keep rebuilds offline), then vsce packages.
vsix: $(STAMP) $(NODE_STAMP)
	PYTHON=$(abspath $(PY)) npm run package

# code-server (a real VS Code) comes from the npm registry + Debian packages, into ~/.cache.
test-e2e: $(STAMP) vsix
	bash tests/e2e/setup-code-server.sh
	PYTHON=$(abspath $(PY)) npm run test:e2e

test: lint test-unit test-server test-gate test-daemon test-telemetry test-reliability test-image lint-extension test-extension test-webview test-e2e

clean:
	rm -rf $(VENV) $(DEPLOY_VENV) build *.egg-info node_modules dist out azmlinfsrv*.vsix bundled/app bundled/libs bundled/target.txt
