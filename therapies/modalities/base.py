"""Shapes of the modality catalogue: bilingual text, parameters, safety limits, modalities.

Pure module: standard library only, no Django.

Two kinds of bound, kept apart on purpose:

* `Param.minimum` / `Param.maximum` are *hard validity*: a value outside is malformed
  input (a typo, a unit mix-up) and is always refused.
* `Limit` is a *safety limit* from the literature or a named clinic policy. A value
  above it is a violation: refused unless a therapist overrides it with a recorded
  reason. A value equal to the limit is accepted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Layer = Literal["central", "peripheral"]
ParamKind = Literal["number", "integer", "choice", "text", "boolean"]

__all__ = [
    "FREQUENCY",
    "MINUTES",
    "NERVE",
    "OTHER",
    "PULSE_WIDTH",
    "Layer",
    "Limit",
    "Modality",
    "Param",
    "ParamKind",
    "Text",
    "choice",
    "opposite_side",
]


@dataclass(frozen=True)
class Text:
    """A bilingual label: English and Simplified Chinese."""

    en: str
    zh_hans: str

    def as_dict(self) -> dict[str, str]:
        return {"en": self.en, "zh-hans": self.zh_hans}

    def in_language(self, language: str | None) -> str:
        """The text in ``language`` (a Django language code): Simplified Chinese for any zh one."""
        return self.zh_hans if (language or "en").lower().startswith("zh") else self.en


@dataclass(frozen=True)
class Param:
    """One parameter of a modality.

    `minimum` / `maximum` are hard validity bounds (inclusive, unless
    `exclusive_minimum`): outside them the input is malformed and always refused.
    `choice_labels`, when given, are aligned with `choices`. `max_length` applies to
    text.
    """

    key: str
    label: Text
    kind: ParamKind
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    required: bool = True
    exclusive_minimum: bool = False
    choice_labels: tuple[Text, ...] = ()
    max_length: int = 200

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label.as_dict(),
            "kind": self.kind,
            "unit": self.unit,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "exclusive_minimum": self.exclusive_minimum,
            "choices": [
                {"value": value, "label": self._choice_label(i).as_dict()} for i, value in enumerate(self.choices)
            ],
            "required": self.required,
        }

    def _choice_label(self, index: int) -> Text:
        if index < len(self.choice_labels):
            return self.choice_labels[index]
        value = self.choices[index]
        return Text(value, value)


@dataclass(frozen=True)
class Limit:
    """A safety limit: exceeding it is refused unless a therapist overrides it.

    `param` is the field the limit reads; it may be a derived one (tDCS ``charge_c``).
    `scope` completes the message ("per session", "per day"). `when` = (param, value)
    restricts the limit to one choice, e.g. a per-drug dose cap. `allowed`, when set,
    makes this a categorical rule on a choice param (the value must be one of
    `allowed`); `maximum` is then 0 and unused, and a breach is reported with
    ``limit=0`` and ``value=1``. `opposite_to`, when set, names a context key (the
    patient's ``affected_side``): the choice param must then name the side opposite
    the one the context gives (left <-> right), reported like `allowed`; with no
    one-sided context (bilateral, not lateralised, unknown) the rule does not apply.
    """

    code: str
    param: str
    maximum: float
    unit: str
    description: Text
    source: str
    scope: str = ""
    when: tuple[str, str] | None = None
    allowed: tuple[str, ...] = ()
    opposite_to: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "param": self.param,
            "maximum": None if self.allowed or self.opposite_to else self.maximum,
            "unit": self.unit,
            "scope": self.scope,
            "description": self.description.as_dict(),
            "source": self.source,
            "when": None if self.when is None else {"param": self.when[0], "equals": self.when[1]},
            "allowed": list(self.allowed),
            "opposite_to": self.opposite_to or None,
        }


@dataclass(frozen=True)
class Modality:
    """A plan component type: its parameters, safety limits and evidence.

    `derive` computes dose metrics from the normalised parameters (e.g. tDCS charge);
    it runs only when every parameter is valid. `validate` adds cross-field errors
    (never overridable). `derived_params` describe the derived fields for the UI.
    `short_name` is the English short name for charts, lists and headings;
    `short_name_zh` its Simplified Chinese counterpart.
    """

    code: str
    layer: Layer
    name: Text
    params: tuple[Param, ...]
    limits: tuple[Limit, ...]
    evidence: Text
    derive: Callable[[dict[str, Any]], dict[str, float]] | None
    short_name: str = ""
    validate: Callable[[dict[str, Any]], dict[str, str]] | None = None
    derived_params: tuple[Param, ...] = ()
    short_name_zh: str = ""

    def param(self, key: str) -> Param:
        for param in self.params:
            if param.key == key:
                return param
        raise KeyError(key)

    @property
    def label(self) -> str:
        return self.short_name or self.code

    def short_name_in(self, language: str | None) -> str:
        """The short name in ``language`` (a Django language code)."""
        if (language or "en").lower().startswith("zh"):
            return self.short_name_zh or self.name.zh_hans
        return self.label

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "layer": self.layer,
            "name": self.name.as_dict(),
            "short_name": self.label,
            "params": [param.as_dict() for param in self.params],
            "derived": [param.as_dict() for param in self.derived_params],
            "limits": [limit.as_dict() for limit in self.limits],
            "evidence": self.evidence.as_dict(),
        }


# Shared vocabulary ------------------------------------------------------------

OTHER = Text("Other", "其他")
MINUTES = Text("Minutes", "时长")
FREQUENCY = Text("Frequency", "频率")
PULSE_WIDTH = Text("Pulse width", "脉宽")
NERVE = Text("Nerve", "神经")

_OPPOSITE_SIDE = {"left": "right", "right": "left"}


def opposite_side(side: str) -> str | None:
    """The hemisphere contralateral to one-sided pain; None for bilateral or midline pain."""
    return _OPPOSITE_SIDE.get(side)


def choice(
    key: str,
    label: Text,
    options: Sequence[tuple[str, Text]],
    *,
    required: bool = True,
) -> Param:
    """A choice parameter from (value, label) pairs."""
    return Param(
        key=key,
        label=label,
        kind="choice",
        choices=tuple(value for value, _ in options),
        choice_labels=tuple(text for _, text in options),
        required=required,
    )
