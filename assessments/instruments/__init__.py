"""Pure scoring for every instrument the tracker records (no Django here).

``INSTRUMENTS`` maps the public instrument code to its :class:`Instrument`,
in the order the API lists them.  Typical use::

    from assessments.instruments import AnswerError, get_instrument

    try:
        result = get_instrument(code).score(answers)
    except AnswerError as exc:
        return 400, exc.errors

Each instrument module's docstring cites the published source of its items,
scoring, bands, cut-off, MCID and LOINC codes.
"""

from __future__ import annotations

from .base import (
    ALL_FIELDS,
    FLAG_MEASUREMENT_CONDITIONS,
    FLAG_NEUROPATHIC_LIKELY,
    FLAG_SUICIDAL_IDEATION,
    FLAG_THERMAL_ASYMMETRY,
    AnswerError,
    Band,
    Instrument,
    Item,
    ItemKind,
    Lang,
    Option,
    Result,
    Scorer,
    Text,
    band_in,
)
from .dn4 import DN4
from .gad7 import GAD7
from .nrs import NRS
from .odi import ODI
from .phq9 import PHQ9
from .thermal import THERMAL
from .vas import VAS

INSTRUMENTS: dict[str, Instrument] = {
    instrument.code: instrument for instrument in (VAS, NRS, DN4, PHQ9, GAD7, ODI, THERMAL)
}

FLAGS: tuple[str, ...] = (
    FLAG_SUICIDAL_IDEATION,
    FLAG_NEUROPATHIC_LIKELY,
    FLAG_THERMAL_ASYMMETRY,
    FLAG_MEASUREMENT_CONDITIONS,
)


def get_instrument(code: str) -> Instrument:
    """Return the instrument registered under ``code``; raise ``KeyError`` otherwise."""
    try:
        return INSTRUMENTS[code]
    except KeyError:
        raise KeyError(f"unknown instrument {code!r}; known instruments: {', '.join(INSTRUMENTS)}") from None


__all__ = [
    "ALL_FIELDS",
    "DN4",
    "FLAGS",
    "FLAG_MEASUREMENT_CONDITIONS",
    "FLAG_NEUROPATHIC_LIKELY",
    "FLAG_SUICIDAL_IDEATION",
    "FLAG_THERMAL_ASYMMETRY",
    "GAD7",
    "INSTRUMENTS",
    "NRS",
    "ODI",
    "PHQ9",
    "THERMAL",
    "VAS",
    "AnswerError",
    "Band",
    "Instrument",
    "Item",
    "ItemKind",
    "Lang",
    "Option",
    "Result",
    "Scorer",
    "Text",
    "band_in",
    "get_instrument",
]
