"""Load: a short soak (about 10 s, 8 connections) of a real server in the normal test run.

The long one is ``python tests/reliability/soak.py --duration 60 --connections 8``
(``make soak``); ``SOAK_SECONDS`` changes this one's length.
"""

from __future__ import annotations

import os

from .soak import run_soak


def test_short_soak_drops_nothing_answers_well_and_keeps_its_memory(tmp_path) -> None:  # type: ignore[no-untyped-def]
    report = run_soak(duration=float(os.environ.get("SOAK_SECONDS", "10")), connections=8, workdir=tmp_path)
    print("\n".join(report.lines()))
    assert report.requests > 1000, report.lines()
    assert report.dropped == 0 and report.malformed == 0, "\n".join(report.lines())
    assert report.rss_growth_mib <= report.rss_growth_limit_mib, "\n".join(report.lines())
    assert report.ok, "\n".join(report.lines())
