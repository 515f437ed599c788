"""The check engine: is a parameter set well formed, and inside its modality's safety limits?

Pure module: standard library only, no Django. `check_modality` takes one `Modality` of
the catalogue and the raw parameters (JSON-decoded) and returns a `Check`; it never
raises for bad input. The registry's ``check_parameters`` finds the modality by code and
calls it.

`Check.errors` (field -> message) are malformed, missing or unknown inputs and are never
overridable; `Check.violations` are safety limits exceeded, overridable by a therapist
with a recorded reason. A value equal to a limit is accepted.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .base import Limit, Modality, Param, opposite_side

__all__ = ["Check", "Violation", "check_modality", "invalid_check"]

# Derived values are rounded so that floating-point noise (7.199999... for 7.2 C)
# never turns a value exactly at a limit into a violation.
_DERIVED_DECIMALS = 9


@dataclass(frozen=True)
class Violation:
    """A safety limit exceeded; `message` names the limit and its source."""

    field: str
    code: str
    limit: float
    unit: str
    value: float
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "code": self.code,
            "limit": self.limit,
            "unit": self.unit,
            "value": self.value,
            "message": self.message,
        }


@dataclass(frozen=True)
class Check:
    """Outcome of a parameter check.

    `errors` (field -> message) are malformed, missing or unknown inputs: never
    overridable. `violations` are safety limits exceeded: overridable with a recorded
    reason.
    """

    params: dict[str, Any]
    derived: dict[str, float]
    errors: dict[str, str]
    violations: tuple[Violation, ...]

    @property
    def ok(self) -> bool:
        return not self.errors and not self.violations

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "params": dict(self.params),
            "derived": dict(self.derived),
            "errors": dict(self.errors),
            "violations": [violation.as_dict() for violation in self.violations],
        }


def invalid_check(field: str, message: str) -> Check:
    """A check that stopped before reading any parameter: one error, nothing normalised."""
    return Check(params={}, derived={}, errors={field: message}, violations=())


# -----------------------------------------------------------------------------
# One value
# -----------------------------------------------------------------------------


def _fmt(value: float) -> str:
    return f"{value:g}"


def _with_unit(value: float, unit: str) -> str:
    return f"{_fmt(value)} {unit}".rstrip()


def _coerce(param: Param, raw: object) -> tuple[Any, str | None]:
    """Normalise one raw value: (value, None), or (None, a message naming the field)."""
    key = param.key
    if param.kind == "boolean":
        if isinstance(raw, bool):
            return raw, None
        return None, f"{key} must be true or false"
    if param.kind == "choice":
        if isinstance(raw, str) and raw in param.choices:
            return raw, None
        return None, f"{key} must be one of: {', '.join(param.choices)}"
    if param.kind == "text":
        return _coerce_text(param, raw)
    return _coerce_number(param, raw)


def _coerce_text(param: Param, raw: object) -> tuple[Any, str | None]:
    key = param.key
    if not isinstance(raw, str):
        return None, f"{key} must be text"
    text = raw.strip()
    if param.required and not text:
        return None, f"{key} is required"
    if len(text) > param.max_length:
        return None, f"{key} must be at most {param.max_length} characters"
    return text, None


def _coerce_number(param: Param, raw: object) -> tuple[Any, str | None]:
    """A number or integer: a bool is an int in Python but never a valid measurement."""
    key = param.key
    if isinstance(raw, bool):
        return None, f"{key} must be a number, not true/false"
    if not isinstance(raw, int | float):
        return None, f"{key} must be a number"
    if isinstance(raw, float) and not math.isfinite(raw):
        return None, f"{key} must be a finite number"
    value: int | float
    try:
        if param.kind == "integer":
            if isinstance(raw, float) and not raw.is_integer():
                return None, f"{key} must be a whole number"
            value = int(raw)
            float(value)  # an int too large for a float cannot be a measurement
        else:
            value = float(raw)
    except OverflowError:
        return None, f"{key} is out of range"
    error = _bounds_error(param, value)
    return (None, error) if error is not None else (value, None)


def _bounds_error(param: Param, value: float) -> str | None:
    """The hard validity bounds: outside them the value is malformed, never overridable."""
    key = param.key
    if param.minimum is not None:
        if param.exclusive_minimum and value <= param.minimum:
            return f"{key} must be greater than {_with_unit(param.minimum, param.unit)}"
        if value < param.minimum:
            return f"{key} must be at least {_with_unit(param.minimum, param.unit)}"
    if param.maximum is not None and value > param.maximum:
        return f"{key} must be at most {_with_unit(param.maximum, param.unit)}"
    return None


# -----------------------------------------------------------------------------
# One limit
# -----------------------------------------------------------------------------


def _side_violation(modality: Modality, limit: Limit, value: Any, context: Mapping[str, Any]) -> Violation | None:
    side = context.get(limit.opposite_to)
    expected = opposite_side(side) if isinstance(side, str) else None
    if expected is None or value == expected:
        return None
    label = limit.when[1] if limit.when is not None else modality.label
    return Violation(
        field=limit.param,
        code=limit.code,
        limit=0.0,
        unit=limit.unit,
        value=1.0,
        message=(
            f"{limit.param} {value!r} is outside the {label} limit: the pain is {side}-sided, so "
            f"{limit.param} must be {expected!r}, contralateral to the pain ({limit.source})"
        ),
    )


def _violation(modality: Modality, limit: Limit, value: Any) -> Violation | None:
    label = limit.when[1] if limit.when is not None else modality.label
    if limit.allowed:
        if value in limit.allowed:
            return None
        return Violation(
            field=limit.param,
            code=limit.code,
            limit=0.0,
            unit=limit.unit,
            value=1.0,
            message=(
                f"{limit.param} {value!r} is outside the {label} limit: "
                f"{limit.param} must be {' or '.join(limit.allowed)} ({limit.source})"
            ),
        )
    number = float(value)
    if number <= limit.maximum:
        return None
    shown = _fmt(number)
    if shown == _fmt(limit.maximum):
        shown = repr(number)
    scope = f" {limit.scope}" if limit.scope else ""
    return Violation(
        field=limit.param,
        code=limit.code,
        limit=float(limit.maximum),
        unit=limit.unit,
        value=number,
        message=(
            f"{limit.param} {shown} {limit.unit} exceeds the {label} limit of "
            f"{_with_unit(limit.maximum, limit.unit)}{scope} ({limit.source})"
        ),
    )


# -----------------------------------------------------------------------------
# One parameter set
# -----------------------------------------------------------------------------


def _unknown_key_errors(modality: Modality, params: Mapping[Any, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    known = {param.key for param in modality.params}
    for key in params:
        if not isinstance(key, str):
            errors["parameters"] = "parameter names must be strings"
        elif key not in known:
            errors[key] = f"unknown parameter {key!r} for {modality.code}; expected one of: {', '.join(sorted(known))}"
    return errors


def _normalise(modality: Modality, params: Mapping[Any, Any], errors: dict[str, str]) -> dict[str, Any]:
    """Each declared parameter coerced; missing required ones and bad values go to `errors`."""
    normalised: dict[str, Any] = {}
    for param in modality.params:
        raw = params.get(param.key)
        if raw is None:
            if param.required:
                errors[param.key] = f"{param.key} is required"
            continue
        value, error = _coerce(param, raw)
        if error is not None:
            errors[param.key] = error
        else:
            normalised[param.key] = value
    return normalised


def _violations(
    modality: Modality,
    normalised: Mapping[str, Any],
    derived: Mapping[str, float],
    errors: Mapping[str, str],
    context: Mapping[str, Any],
) -> tuple[Violation, ...]:
    """Every limit that applies (its `when` matches) to a valid or derived value, checked."""
    violations: list[Violation] = []
    for limit in modality.limits:
        if limit.when is not None and normalised.get(limit.when[0]) != limit.when[1]:
            continue
        if limit.param in errors:
            continue
        value = normalised[limit.param] if limit.param in normalised else derived.get(limit.param)
        if value is None:
            continue
        if limit.opposite_to:
            violation = _side_violation(modality, limit, value, context)
        else:
            violation = _violation(modality, limit, value)
        if violation is not None:
            violations.append(violation)
    return tuple(violations)


def check_modality(modality: Modality, params: object, *, context: Mapping[str, Any] | None = None) -> Check:
    """Validate `params` for `modality` and check them against its safety limits.

    Never raises for bad input: params not a JSON object -> errors["parameters"];
    unknown keys, missing required values, wrong types and values outside the hard
    validity range -> errors[<field>]. Safety limits are checked on every valid field
    (a value equal to the limit is accepted); derived limits only when all fields are
    valid. `context` holds facts about the patient that limits may read
    (``affected_side``: left, right, bilateral, none).
    """
    if not isinstance(params, dict):
        return invalid_check("parameters", "parameters must be an object mapping names to values")
    errors = _unknown_key_errors(modality, params)
    normalised = _normalise(modality, params, errors)
    if modality.validate is not None:
        for key, message in modality.validate(normalised).items():
            errors.setdefault(key, message)
    derived: dict[str, float] = {}
    if not errors and modality.derive is not None:
        derived = {key: round(float(value), _DERIVED_DECIMALS) for key, value in modality.derive(normalised).items()}
    violations = _violations(modality, normalised, derived, errors, context or {})
    return Check(params=normalised, derived=derived, errors=errors, violations=violations)
