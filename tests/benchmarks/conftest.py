"""Benchmarks run only under `make bench` (pytest -m bench); plain `make test` skips them."""

from __future__ import annotations

from typing import Any

import pytest


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    if "bench" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="benchmark: run with `make bench`")
    for item in items:
        if item.get_closest_marker("bench"):
            item.add_marker(skip)
