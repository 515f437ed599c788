"""Expected values for the cohort's uncertainty figures, computed independently of the
engine (closed-form Wilson score interval, written out from Wilson 1927)."""

from __future__ import annotations

import math
from typing import Any

Z95 = 1.959963984540054


def wilson_pct(hits: int, n: int) -> tuple[float, float] | tuple[None, None]:
    if n == 0:
        return None, None
    p = hits / n
    centre = p + Z95**2 / (2 * n)
    spread = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n))
    denominator = 1 + Z95**2 / n
    return (
        round(100 * max(0.0, (centre - spread) / denominator), 1),
        round(100 * min(1.0, (centre + spread) / denominator), 1),
    )


def rate_json(count: int, n: int, pct: float | None) -> dict[str, Any]:
    """A rate as the cohort JSON gives it: count, n, percentage, Wilson 95 % interval."""
    low, high = wilson_pct(count, n)
    return {"count": count, "n": n, "pct": pct, "ci95": {"low": low, "high": high}, "too_few": n < 10}
