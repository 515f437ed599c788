"""Answer-field checks shared by the instrument scorers.

Each ``take_*`` function reads one key, records at most one message in
``errors`` under the field's path and returns the normalised value (or
``None``).  Scorers call all of them before raising, so a client sees every
problem with a submission in one ``400`` rather than one per round trip.

Type rules follow JSON, not Python: ``true`` is not the integer 1, ``3.0`` is
not an integer answer, and NaN/Infinity (which some JSON encoders emit) are
never valid numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any


def describe(value: object) -> str:
    """Render a received value the way the client wrote it, kept short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f'"{shown}"'
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return type(value).__name__


def fmt(number: float) -> str:
    """Format a bound without a trailing ``.0`` for whole numbers."""
    return f"{number:g}"


def check_keys(
    answers: Mapping[Any, Any],
    allowed: Sequence[str],
    errors: dict[str, str],
    prefix: str = "",
) -> None:
    """Reject keys the instrument does not define (typos must not be ignored)."""
    for key in answers:
        if key not in allowed:
            errors[f"{prefix}{key}"] = f"unknown answer key; allowed keys are: {', '.join(allowed)}"


def take_integer(
    answers: Mapping[str, Any],
    key: str,
    low: int,
    high: int,
    errors: dict[str, str],
    *,
    path: str | None = None,
    required: bool = True,
    nullable: bool = False,
) -> int | None:
    path = path or key
    expected = f"must be an integer from {low} to {high}"
    if key not in answers:
        if required:
            errors[path] = f"is required and {expected}"
        return None
    value = answers[key]
    if value is None and nullable:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[path] = f"{expected} (got {describe(value)})"
        return None
    return int(value)


def take_number(
    answers: Mapping[str, Any],
    key: str,
    low: float,
    high: float,
    errors: dict[str, str],
    *,
    path: str | None = None,
    unit: str = "",
) -> float | int | None:
    """A required finite number in ``[low, high]``; ints are kept as ints."""
    path = path or key
    suffix = f" {unit}" if unit else ""
    expected = f"must be a number from {fmt(low)} to {fmt(high)}{suffix}"
    if key not in answers:
        errors[path] = f"is required and {expected}"
        return None
    value = answers[key]
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or (isinstance(value, float) and not math.isfinite(value))
        or not low <= value <= high
    ):
        errors[path] = f"{expected} (got {describe(value)})"
        return None
    return int(value) if isinstance(value, int) else float(value)


def take_boolean(
    answers: Mapping[str, Any],
    key: str,
    errors: dict[str, str],
    *,
    required: bool = True,
    nullable: bool = False,
    missing_message: str | None = None,
) -> bool | None:
    if key not in answers:
        if required:
            errors[key] = missing_message or "is required and must be true or false"
        return None
    value = answers[key]
    if value is None and nullable:
        return None
    if not isinstance(value, bool):
        errors[key] = f"must be true or false (got {describe(value)})"
        return None
    return value


def take_text_choice(
    answers: Mapping[str, Any],
    key: str,
    choices: Sequence[str],
    errors: dict[str, str],
    *,
    required: bool = True,
    default: str | None = None,
) -> str | None:
    expected = f"must be one of: {', '.join(choices)}"
    if key not in answers:
        if required:
            errors[key] = f"is required and {expected}"
        return default
    value = answers[key]
    if not isinstance(value, str) or value not in choices:
        errors[key] = f"{expected} (got {describe(value)})"
        return None
    return value
