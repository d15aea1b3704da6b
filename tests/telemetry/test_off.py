"""With all telemetry off, none of its libraries is imported by a worker (start-up or requests)."""

from __future__ import annotations

import json
import subprocess
import sys

from ..server._support import REPO_ROOT, clean_env

PROBE = """
import io, json, os, sys
sys.path.insert(0, {bench!r})
import micro
app = micro.our_app()
status = []
for _ in range(3):
    body = b"".join(app(micro.environ(), lambda s, h, e=None: status.append(s)))
prefixes = ("opentelemetry", "prometheus_client", "azure.monitor", "azure.core")
loaded = sorted({{m for m in sys.modules if m.startswith(prefixes)}})
ours = sorted(m for m in sys.modules if m.startswith("azmlinfsrv.telemetry."))
sys.stdout.write(json.dumps({{"status": status, "loaded": loaded, "ours": ours}}) + chr(10))  # print() is redirected
"""


def test_nothing_of_telemetry_is_imported_when_off():
    env = clean_env()
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(bench=str(REPO_ROOT / "bench"))],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO_ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["status"] == ["200 OK"] * 3
    assert result["loaded"] == []
    # Only the configuration is read; the exporters and metrics modules stay unloaded.
    assert set(result["ours"]) <= {"azmlinfsrv.telemetry.config", "azmlinfsrv.telemetry.records"}
