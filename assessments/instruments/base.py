"""Data types shared by every instrument: pure Python, no Django.

An :class:`Instrument` is a frozen description of a questionnaire or clinical
measurement (items, range, bands, cut-off, MCID, LOINC codes, sources) plus a
pure ``scorer`` function.  ``Instrument.score`` is the only entry point callers
need: it takes the decoded JSON ``answers`` object and returns a
:class:`Result`, or raises :class:`AnswerError` whose ``errors`` map each
offending field path (``"item9"``, ``"rois[1].right_c"``, ``"__all__"``) to an
English message that names the allowed values.  The API turns that mapping
into a ``400`` body unchanged, so messages are written for a client developer.

Band convention (used by :func:`band_in`): bands are listed in ascending
order with their *published* bounds (e.g. ODI "21-40").  A total belongs to
the first band whose ``high`` is >= the total, so a continuous total that
falls in a published gap (ODI 20.5, VAS 4.5 mm) goes to the higher band,
matching the ">20-40" reading of the ODI table (Fairbank & Pynsent 2000).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

Lang = Literal["en", "zh-hans"]
ItemKind = Literal["choice", "boolean", "integer", "number", "rois", "choice_text"]

# Flag codes are public API (stored on assessments, shown in the console,
# used to raise safety alerts), so they live here as constants, not literals.
FLAG_SUICIDAL_IDEATION = "suicidal_ideation"
FLAG_NEUROPATHIC_LIKELY = "neuropathic_likely"
FLAG_THERMAL_ASYMMETRY = "thermal_asymmetry"
FLAG_MEASUREMENT_CONDITIONS = "measurement_conditions"

ALL_FIELDS = "__all__"


@dataclass(frozen=True)
class Text:
    """A user-facing string in every supported language."""

    en: str
    zh_hans: str

    def get(self, lang: Lang) -> str:
        return self.zh_hans if lang == "zh-hans" else self.en

    def as_dict(self) -> dict[str, str]:
        return {"en": self.en, "zh-hans": self.zh_hans}


@dataclass(frozen=True)
class Option:
    """One allowed answer value and the points it contributes."""

    value: int | bool | str
    label: Text
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "label": self.label.as_dict(), "score": self.score}


@dataclass(frozen=True)
class Item:
    """One answer key.  ``key`` is public API: clients send it verbatim."""

    key: str
    label: Text
    kind: ItemKind
    options: tuple[Option, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    required: bool = True
    nullable: bool = False
    group: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label.as_dict(),
            "kind": self.kind,
            "options": [option.as_dict() for option in self.options],
            "minimum": self.minimum,
            "maximum": self.maximum,
            "required": self.required,
            "nullable": self.nullable,
            "group": self.group,
        }


@dataclass(frozen=True)
class Band:
    """A severity band with its published, inclusive bounds."""

    code: str
    low: float
    high: float
    label: Text

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "low": self.low,
            "high": self.high,
            "label": self.label.as_dict(),
        }


@dataclass(frozen=True)
class Result:
    """The outcome of scoring one set of answers.

    ``answers`` is the normalised copy that was scored (defaults filled in,
    skipped sections as ``None``); store it rather than the raw request body.
    ``detail`` holds JSON-able, instrument-specific extras.
    """

    total: float | None
    band: str | None
    flags: tuple[str, ...]
    answers: dict[str, Any]
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "band": self.band,
            "flags": list(self.flags),
            "answers": self.answers,
            "detail": self.detail,
        }


class AnswerError(ValueError):
    """Answers that cannot be scored; ``errors`` maps field path -> message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        # An empty mapping would give the API a 400 with nothing to show.
        self.errors: dict[str, str] = dict(errors) or {ALL_FIELDS: "the answers could not be scored"}
        super().__init__("; ".join(f"{path}: {message}" for path, message in self.errors.items()))


def band_in(bands: tuple[Band, ...], total: float, minimum: float, maximum: float) -> Band | None:
    """Return the band holding ``total`` (see the module docstring), or ``None``.

    ``None`` means the total is outside ``[minimum, maximum]`` or not a number;
    a scorer never produces such a total, so callers treat it as "no band".
    """
    if isinstance(total, bool) or not isinstance(total, int | float):
        return None
    if math.isnan(total) or total < minimum or total > maximum:
        return None
    for band in bands:
        if total <= band.high:
            return band
    return None


Scorer = Callable[[Mapping[str, Any]], Result]


@dataclass(frozen=True)
class Instrument:
    """A scored instrument: its public description plus its pure scorer."""

    code: str
    name: Text
    items: tuple[Item, ...]
    minimum: float
    maximum: float
    unit: str
    bands: tuple[Band, ...]
    cutoff: float | None
    cutoff_note: Text | None
    mcid: float | None
    mcid_note: Text | None
    loinc_panel: str | None
    loinc_total: str | None
    higher_is_worse: bool
    sources: tuple[str, ...]
    scorer: Scorer
    instructions: Text | None = None
    # Items that may be left unanswered (skipped or null), up to ``max_skipped`` of them, and
    # the entry is still scored; beyond that it is stored unscored (``total`` None) or refused.
    # Empty: every ``required`` item must be answered. Served so that a client applies the
    # scorer's completeness rule before it sends an entry.
    skippable: tuple[str, ...] = ()
    max_skipped: int = 0

    def __post_init__(self) -> None:
        # Fail at import time rather than mis-banding a patient at run time.
        keys = [item.key for item in self.items]
        if len(keys) != len(set(keys)):
            raise ValueError(f"{self.code}: duplicate item keys")
        if not self.bands:
            raise ValueError(f"{self.code}: at least one band is required")
        if self.bands[0].low != self.minimum or self.bands[-1].high != self.maximum:
            raise ValueError(f"{self.code}: bands must span {self.minimum}..{self.maximum}")
        for lower, upper in zip(self.bands, self.bands[1:], strict=False):
            if not (lower.low <= lower.high < upper.low <= upper.high):
                raise ValueError(f"{self.code}: bands {lower.code!r} and {upper.code!r} are out of order")
        if not set(self.skippable) <= set(keys) or not 0 <= self.max_skipped <= len(self.skippable):
            raise ValueError(f"{self.code}: skippable items must be item keys, max_skipped at most their number")

    def score(self, answers: object) -> Result:
        """Validate and score decoded JSON ``answers``; raise :class:`AnswerError`."""
        if not isinstance(answers, Mapping):
            raise AnswerError({ALL_FIELDS: f"answers must be a JSON object with the {self.code} answer keys"})
        return self.scorer(answers)

    def band_for(self, total: float) -> Band | None:
        return band_in(self.bands, total, self.minimum, self.maximum)

    def item(self, key: str) -> Item:
        """Return the item with ``key``; raise ``KeyError`` if there is none."""
        for item in self.items:
            if item.key == key:
                return item
        raise KeyError(key)

    def as_dict(self) -> dict[str, Any]:
        """JSON description served by ``GET /api/v1/instruments/``."""
        return {
            "code": self.code,
            "name": self.name.as_dict(),
            "instructions": self.instructions.as_dict() if self.instructions else None,
            "items": [item.as_dict() for item in self.items],
            "range": {"min": self.minimum, "max": self.maximum},
            "unit": self.unit,
            "bands": [band.as_dict() for band in self.bands],
            "cutoff": self.cutoff,
            "cutoff_note": self.cutoff_note.as_dict() if self.cutoff_note else None,
            "mcid": self.mcid,
            "mcid_note": self.mcid_note.as_dict() if self.mcid_note else None,
            "loinc": {"panel": self.loinc_panel, "total": self.loinc_total},
            "higher_is_worse": self.higher_is_worse,
            "sources": list(self.sources),
            "completion": {"items": list(self.skippable), "max_skipped": self.max_skipped} if self.skippable else None,
        }
