"""Parsing a 640 x 480 thermogram and measuring mirrored regions on it (pure engine).

Prints ``BENCH thermogram ...`` with the median of several runs for a CSV with decimal
commas, a 16-bit TIFF and a FLIR radiometric JPEG, each followed by ten mirrored regions,
and holds each median to the 100 ms budget (measured here: CSV ~25 ms, TIFF ~2 ms, FLIR
JPEG ~5 ms on one core of the development machine).
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import pytest

from assessments.thermograms import imaging as t
from tests.thermo_images import csv_bytes, flir_jpeg_bytes, tiff_bytes

pytestmark = pytest.mark.bench

BUDGET_MS = 100.0


def _matrix() -> np.ndarray:
    rng = np.random.default_rng(7)
    return 24.0 + 10.0 * rng.random((480, 640))


def _run(data: bytes) -> float:
    started = time.perf_counter()
    matrix = t.read_matrix(data).matrix
    for index in range(10):
        t.mirrored_statistics(matrix, t.Rect(40 + 20 * index, 100, 16, 200), 320, "left")
    return (time.perf_counter() - started) * 1000


@pytest.mark.parametrize("kind", ["csv", "tiff", "flir"])
def test_parse_and_measure_640x480(kind: str) -> None:
    matrix = _matrix()
    data = {
        "csv": lambda: csv_bytes(matrix, separator=";", decimal=",", header=("FLIR Tools",)),
        "tiff": lambda: tiff_bytes(matrix),
        "flir": lambda: flir_jpeg_bytes(matrix),
    }[kind]()
    timings = [_run(data) for _ in range(7)]
    median = statistics.median(timings)
    print(f"BENCH thermogram {kind} 640x480 bytes={len(data)} median_ms={median:.1f} min_ms={min(timings):.1f}")
    assert median <= BUDGET_MS
