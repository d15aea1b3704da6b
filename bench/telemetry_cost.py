"""Per-request cost of telemetry in process (bench/micro.py's app) against local receivers:
``.venv/bin/python bench/telemetry_cost.py off|appinsights|otlp|metrics``."""

import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))
from tests.telemetry.receivers import IngestionStub, OtlpReceiver

mode = sys.argv[1]
stub = IngestionStub().start()
otlp = OtlpReceiver().start()
import tempfile

os.environ["TMPDIR"] = tempfile.mkdtemp()
if mode == "appinsights":
    os.environ.update(
        {
            "APPLICATIONINSIGHTS_CONNECTION_STRING": f"InstrumentationKey=11111111-2222-3333-4444-555555555555;IngestionEndpoint={stub.url}",
            "APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL": "true",
        }
    )
elif mode == "otlp":
    os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp.url
elif mode == "metrics":
    os.environ["AZMLINFSRV_METRICS"] = "true"
    from azmlinfsrv.telemetry import metrics

    metrics.prepare_directory()
import micro

app = micro.our_app()


def once():
    b"".join(app(micro.environ(), lambda s, h, e=None: None))


for _ in range(500):
    once()
n = 5000
t = time.perf_counter()
for _ in range(n):
    once()
sys.stdout.write(f"{mode}: {(time.perf_counter() - t) / n * 1e6:.1f} us per request\n")
os._exit(0)
