# Two commands on a fresh machine: `make run` serves an example, `make test` runs every suite.
# Each installs what it needs first (.venv, pip, npm ci, Debian packages when missing).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
E2E_SETUP ?= ../shared/vscode-e2e/setup-code-server.sh
PORT ?= 5001
EXAMPLE ?= examples/hello
PYTEST := $(PY) -m pytest -q -p no:cacheprovider

.PHONY: run install test lint test-unit test-server test-daemon test-reliability soak bench \
        extension lint-extension test-extension test-webview vsix test-e2e clean

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
	$(VENV)/bin/ruff check src tests examples bench
	$(VENV)/bin/ruff format --check src tests examples bench
	$(VENV)/bin/mypy

# In-process tests of pure functions and single pieces: seconds, no process started.
test-unit: $(STAMP)
	$(PYTEST) tests/unit

test-server: $(STAMP)
	$(PYTEST) tests/server

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

vsix: $(NODE_STAMP)
	npm run package

test-e2e: $(STAMP) vsix
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
	bash $(E2E_SETUP)
	PYTHON=$(abspath $(PY)) npm run test:e2e

test: lint test-unit test-server test-daemon test-reliability lint-extension test-extension test-webview test-e2e

clean:
	rm -rf $(VENV) build *.egg-info node_modules dist out azmlinfsrv.vsix
