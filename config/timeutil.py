"""Time rules shared by every app that records a moment a client reports (pure: no Django).

A phone's clock drifts, so a reported time may be a little ahead of the server's; more
than :data:`FUTURE_TOLERANCE` ahead is implausible and refused (diary entries, delivered
therapy sessions). All datetimes taken are timezone-aware; naive input raises ``ValueError``.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["FUTURE_TOLERANCE", "is_too_far_in_future"]

#: A reported time may be at most this far ahead of the server clock (phone clocks
#: drift); anything later is rejected as implausible.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


def _require_aware(value: dt.datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def is_too_far_in_future(recorded_at: dt.datetime, now: dt.datetime) -> bool:
    """True if ``recorded_at`` is more than :data:`FUTURE_TOLERANCE` after ``now``."""
    _require_aware(recorded_at, "recorded_at")
    _require_aware(now, "now")
    return recorded_at - now > FUTURE_TOLERANCE
