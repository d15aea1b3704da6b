#!/usr/bin/env bash
# `make bench`: prepare what the benchmark needs, then run bench/bench.py (see its docstring).
# Needs the project's .venv (`make install`). Loopback only; every server is stopped by its
# process group. Options through the environment: BENCH_SECONDS, BENCH_ROUNDS, BENCH_SPAWNS;
# arguments are passed on to bench.py (e.g. --quick).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
REF_VENV=bench/.ref-venv
TOOLS_VENV=bench/.tools-venv
OUT=bench/out

if [ ! -x .venv/bin/azmlinfsrv ]; then
    echo "bench: .venv/bin/azmlinfsrv is missing; run 'make install' first" >&2
    exit 1
fi

pip_install() {  # venv, packages...
    local venv=$1
    shift
    test -x "$venv/bin/python" || "$PYTHON" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
}

# The reference lives in its own environment and is never imported from the project.
if [ ! -f "$REF_VENV/.installed" ]; then
    echo "bench: installing the reference server into $REF_VENV"
    pip_install "$REF_VENV" azureml-inference-server-http==1.5.1 scikit-learn joblib
    touch "$REF_VENV/.installed"
fi
if [ ! -f "$TOOLS_VENV/.installed" ]; then
    echo "bench: installing psutil and matplotlib into $TOOLS_VENV"
    pip_install "$TOOLS_VENV" psutil matplotlib
    touch "$TOOLS_VENV/.installed"
fi
if ! command -v wrk >/dev/null; then
    echo "bench: installing wrk (Debian package)"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null
fi

# Each environment loads a model pickled by its own scikit-learn.
mkdir -p "$OUT"
for pair in "ours:.venv" "ref:$REF_VENV"; do
    name=${pair%%:*}
    venv=${pair#*:}
    if [ ! -f "$OUT/model-$name/model.joblib" ]; then
        "$venv/bin/python" examples/sklearn/train.py "$OUT/model-$name" >/dev/null
    fi
done

"$TOOLS_VENV/bin/python" bench/bench.py --sklearn-ours "$OUT/model-ours" --sklearn-ref "$OUT/model-ref" "$@"
# The editor loop (the daemon over LSP): its section of docs/benchmarks.md.
.venv/bin/python bench/editor.py --runs "${BENCH_EDITOR_RUNS:-5}"
