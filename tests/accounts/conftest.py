from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_throttle_cache() -> Any:
    """The API rate throttle counts in the cache, which outlives the test database."""
    cache.clear()
    yield
    cache.clear()
