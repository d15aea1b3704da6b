# Two commands on a fresh machine: `make run` serves an example, `make test` runs every suite.
# Each installs what it needs into .venv first.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 5001
EXAMPLE ?= examples/hello

.PHONY: run test lint test-server test-daemon install clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "Python 3.10 or newer is needed")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[daemon,dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(VENV)/bin/azmlinfsrv --entry_script $(EXAMPLE)/score.py --model_dir $(EXAMPLE)/model --port $(PORT) --host 127.0.0.1

lint: $(STAMP)
	$(VENV)/bin/ruff check server tests examples
	$(VENV)/bin/ruff format --check server tests examples
	$(VENV)/bin/mypy

test-server: $(STAMP)
	$(PY) -m pytest tests/server -q -p no:cacheprovider

test-daemon: $(STAMP)
	$(PY) -m pytest tests/daemon -q -p no:cacheprovider

test: lint test-server test-daemon

clean:
	rm -rf $(VENV) build *.egg-info
