"""Weight of the cohort outcomes dashboard (/clinic/outcomes/) as the cohort grows.

PostgreSQL only. For each size (``BENCH_DASHBOARD_SIZES``, default 1000,5000,20000
patients) the cohort bench's population (a plan each, daily NRS loaded with COPY) is
built with four weeks of entries a patient (``BENCH_DASHBOARD_DAYS``), enough for every
patient to have a baseline, a current window and a change; then a manager loads the
page (a warm-up, then the median time of three loads: the summary and the rendering, in
process). Prints ``BENCH dashboard_weight patients=... page_kB=... gzip_kB=... page_s=...``
with the size of each chart's JSON; asserts only that the page and its charts are there.
Target: the page <= 100 kB at any cohort size.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import statistics
import time
from typing import Any

import numpy as np
import pytest
from django.db import connection
from django.test import Client

from tests.benchmarks import test_cohort_bench

pytestmark = [pytest.mark.bench, pytest.mark.django_db(transaction=True)]

SIZES = [int(n) for n in os.environ.get("BENCH_DASHBOARD_SIZES", "1000,5000,20000").split(",")]
DAYS = int(os.environ.get("BENCH_DASHBOARD_DAYS", "28"))
CHARTS = ("chart-responders", "chart-trajectory", "chart-forest", "chart-km", "chart-waterfall")


@pytest.mark.parametrize("patients", SIZES)
def test_dashboard_weight(patients: int, monkeypatch: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("benchmark runs against PostgreSQL")
    monkeypatch.setattr(test_cohort_bench, "PATIENTS", patients)
    monkeypatch.setattr(test_cohort_bench, "DAYS", DAYS)
    manager, _patient_ids, _rebuild_s = test_cohort_bench._populate(np.random.default_rng(2026))

    client = Client()
    client.force_login(manager)
    client.get("/clinic/outcomes/")  # warm-up: imports, plans, caches
    seconds = []
    for _ in range(3):
        started = time.perf_counter()
        response = client.get("/clinic/outcomes/")
        seconds.append(time.perf_counter() - started)
    assert response.status_code == 200
    body = response.content
    html = body.decode()
    charts: dict[str, int] = {}
    figures: dict[str, Any] = {}
    for chart_id in CHARTS:
        match = re.search(rf'<script id="{chart_id}" type="application/json">(.*?)</script>', html, re.S)
        assert match, chart_id
        name = chart_id.removeprefix("chart-")
        figures[name] = json.loads(match.group(1))
        assert figures[name]["data"], chart_id
        charts[name] = len(match.group(1).encode())
    print(
        f"\nBENCH dashboard_weight patients={patients} page_kB={len(body) / 1000:.1f} "
        f"gzip_kB={len(gzip.compress(body)) / 1000:.1f} page_s={statistics.median(seconds):.2f} "
        f"load1={os.getloadavg()[0]:.1f} waterfall_bars={len(figures['waterfall']['data'][0]['y'])} "
        + " ".join(f"{name}_kB={size / 1000:.1f}" for name, size in charts.items())
        + " (target: page <= 100 kB)"
    )
