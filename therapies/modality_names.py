"""Modality names in the active language, for pages, charts, filters and pickers.

The catalogue (``therapies.modalities``) is pure and bilingual; this is where the
active Django language picks one of its two texts.
"""

from __future__ import annotations

from django.utils.translation import get_language

from therapies.modalities import MODALITIES


def modality_short_name(code: str) -> str:
    """The modality's short name in the active language; the code itself for an unknown one."""
    modality = MODALITIES.get(code)
    return modality.short_name_in(get_language()) if modality is not None else code


def modality_name(code: str) -> str:
    """The modality's full name in the active language; the code itself for an unknown one."""
    modality = MODALITIES.get(code)
    return modality.name.in_language(get_language()) if modality is not None else code


def modality_choices() -> list[tuple[str, str]]:
    """(code, name in the active language) for every modality, for filters and pickers."""
    language = get_language()
    return [(code, modality.name.in_language(language)) for code, modality in MODALITIES.items()]
