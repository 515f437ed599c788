"""Domain errors raised by services and mapped to HTTP by the API exception handler.

Services stay free of DRF: they raise these, views and the API decide the status code.
"""

from __future__ import annotations

from typing import Any


class InvalidInput(Exception):
    """Input that breaks a domain rule. ``errors`` maps field (nested dicts allowed) to messages;
    ``extra`` holds top-level keys the error body carries beside them (``safety_alert``)."""

    def __init__(self, errors: dict[str, Any], *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(errors)
        self.errors = errors
        self.extra = dict(extra or {})


class ConflictError(Exception):
    """The request conflicts with the stored state (stale version, reused client_uuid)."""

    def __init__(self, errors: dict[str, Any], *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(errors)
        self.errors = errors
        self.extra = dict(extra or {})
