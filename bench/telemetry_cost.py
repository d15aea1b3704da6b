"""Per-request cost of telemetry in process (bench/micro.py's app) against local receivers:

.venv/bin/python bench/telemetry_cost.py off|appinsights|otlp|metrics
"""

from __future__ import annotations

import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY = "11111111-2222-3333-4444-555555555555"


def configure(mode: str) -> None:
    from tests.telemetry.receivers import IngestionStub, OtlpReceiver

    os.environ["TMPDIR"] = tempfile.mkdtemp()  # the exporter's offline storage
    if mode == "appinsights":
        stub = IngestionStub().start()
        os.environ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = f"InstrumentationKey={KEY};IngestionEndpoint={stub.url}"
        os.environ["APPLICATIONINSIGHTS_STATSBEAT_DISABLED_ALL"] = "true"
    elif mode == "otlp":
        os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = OtlpReceiver().start().url
    elif mode == "metrics":
        from azmlinfsrv.telemetry import metrics

        os.environ["AZMLINFSRV_METRICS"] = "true"
        metrics.prepare_directory()


def main() -> None:
    sys.path[:0] = [ROOT, os.path.join(ROOT, "bench")]
    mode = sys.argv[1] if len(sys.argv) > 1 else "off"
    configure(mode)
    import micro

    app = micro.our_app()

    def once() -> None:
        b"".join(app(micro.environ(), lambda status, headers, exc_info=None: None))

    for _ in range(500):
        once()
    count = 5000
    begin = time.perf_counter()
    for _ in range(count):
        once()
    sys.stdout.write(f"{mode}: {(time.perf_counter() - begin) / count * 1e6:.1f} us per request\n")
    os._exit(0)  # the exporters' threads are not waited for


if __name__ == "__main__":
    main()
