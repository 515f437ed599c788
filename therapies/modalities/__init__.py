"""The modality catalogue of the central-peripheral rehab plan, and its parameter checks.

This package owns what a plan component may prescribe: for every modality (one module
each, citing its sources) its parameters with their hard validity bounds, its safety
limits with the published source or named clinic policy behind each, and its evidence
summary; plus the pure engine (``engine.py``) that tells malformed input (always
refused) from a safety limit exceeded (refused unless a therapist overrides it with a
recorded reason). ``MODALITIES`` maps the public modality code to its `Modality`, in
the order the API lists them; ``check_parameters`` is what services, serializers and
forms call. Standard library only: no Django here (names in the active language are in
``therapies.modality_names``). Typical use::

    from therapies.modalities import check_parameters

    check = check_parameters("tdcs", {"current_ma": 2, ...}, context={"affected_side": "left"})
    if check.errors: ...  # refuse, naming each field
    if check.violations: ...  # refuse unless overridden with a reason
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .acupuncture import ACUPUNCTURE
from .base import Layer, Limit, Modality, Param, ParamKind, Text, opposite_side
from .drez import (
    DREZ_CONTRAINDICATIONS,
    DREZ_FOLLOW_UP_ITEMS,
    DREZ_REFERRAL,
    CandidacyCheck,
    drez_candidacy,
)
from .engine import Check, Violation, check_modality, invalid_check
from .exercise import EXERCISE
from .hydrodissection import HYDRODISSECTION
from .manual_therapy import MANUAL_THERAPY
from .medication import FIRST_LINE_DRUGS, MEDICATION
from .physical_agents import PHYSICAL_AGENTS
from .pns import PNS
from .rtms import HEMISPHERES, RTMS
from .tdcs import TDCS
from .tens import TENS

MODALITIES: dict[str, Modality] = {
    modality.code: modality
    for modality in (
        TDCS,
        RTMS,
        EXERCISE,
        MANUAL_THERAPY,
        ACUPUNCTURE,
        TENS,
        PNS,
        HYDRODISSECTION,
        PHYSICAL_AGENTS,
        MEDICATION,
        DREZ_REFERRAL,
    )
}


def get_modality(code: str) -> Modality:
    """Return the modality with this public code; KeyError if there is none."""
    return MODALITIES[code]


def check_parameters(code: str, params: object, *, context: Mapping[str, Any] | None = None) -> Check:
    """Validate `params` for modality `code` and check them against its safety limits.

    Never raises for bad input: an unknown modality -> errors["modality"]; everything
    else as `engine.check_modality` says. `context` holds facts about the patient that
    limits may read (``affected_side``: left, right, bilateral, none).
    """
    modality = MODALITIES.get(code) if isinstance(code, str) else None
    if modality is None:
        return invalid_check("modality", f"unknown modality {code!r}; expected one of: {', '.join(MODALITIES)}")
    return check_modality(modality, params, context=context)


__all__ = [
    "DREZ_CONTRAINDICATIONS",
    "DREZ_FOLLOW_UP_ITEMS",
    "FIRST_LINE_DRUGS",
    "HEMISPHERES",
    "MODALITIES",
    "CandidacyCheck",
    "Check",
    "Layer",
    "Limit",
    "Modality",
    "Param",
    "ParamKind",
    "Text",
    "Violation",
    "check_parameters",
    "drez_candidacy",
    "get_modality",
    "opposite_side",
]
