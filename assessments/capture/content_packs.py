"""Licensed instrument text as content packs the clinic loads.

Some instruments may only be shown with a licence (the ODI's statements are copyright
and licensed through Mapi Research Trust). The product ships their structure and scoring,
never their wording: a clinic holding the licence loads the wording as a content pack,
a JSON file per language::

    {
      "instrument": "odi",
      "language": "en",                    # or "zh-hans"
      "kind": "licensed",                  # or "placeholder" / "test"
      "title": "ODI v2.1a, licence 1234",
      "sections": {
        "section1": {"title": "Pain intensity", "statements": ["...", "...", "...", "...", "...", "..."]},
        ...
      }
    }

A pack is checked against the instrument: one entry per item, each with a title and
exactly one statement per answer option, in the options' order (statement 1 = score 0).
Until a pack is loaded for an instrument listed in ``NEEDS_PACK``, the patient app does
not offer it (``GET /api/v1/instruments/`` says ``text_available: false``); clinicians can
still enter its section scores from the paper form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Max

from assessments.instruments import INSTRUMENTS
from assessments.models import ContentPack, ContentPackKind
from config.errors import InvalidInput
from patients.audit import Actor, audit_event_record

NEEDS_PACK = frozenset({"odi"})
LANGUAGES = ("en", "zh-hans")
MAX_TITLE = 200
MAX_STATEMENT = 500


def pack_errors(data: Any) -> dict[str, str]:
    """Pure check of a pack against its instrument: field path -> message; {} if valid."""
    if not isinstance(data, Mapping):
        return {"__all__": "A content pack is a JSON object."}
    errors: dict[str, str] = {}
    unknown = sorted(set(data) - {"instrument", "language", "kind", "title", "sections"})
    if unknown:
        errors["__all__"] = f"Unknown keys: {', '.join(map(str, unknown))}."
    code = data.get("instrument")
    if not isinstance(code, str) or code not in NEEDS_PACK:
        errors["instrument"] = f"instrument must be one of: {', '.join(sorted(NEEDS_PACK))}."
    if data.get("language") not in LANGUAGES:
        errors["language"] = f"language must be one of: {', '.join(LANGUAGES)}."
    if data.get("kind") not in ContentPackKind.values:
        errors["kind"] = f"kind must be one of: {', '.join(ContentPackKind.values)}."
    title = data.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE:
        errors["title"] = f"title must be text of 1 to {MAX_TITLE} characters (edition and licence)."
    sections = data.get("sections")
    if not isinstance(sections, Mapping):
        errors["sections"] = "sections must be an object keyed by the instrument's items."
        return errors
    if not isinstance(code, str) or code not in NEEDS_PACK:
        return errors
    items = [item for item in INSTRUMENTS[code].items if item.options]
    keys = [item.key for item in items]
    for key in sorted(set(sections) - set(keys)):
        errors[f"sections.{key}"] = f"{key} is not an item of {code}; expected {', '.join(keys)}."
    for item in items:
        path = f"sections.{item.key}"
        section = sections.get(item.key)
        if not isinstance(section, Mapping):
            errors[path] = "missing: every item needs its title and statements."
            continue
        section_title = section.get("title")
        if not isinstance(section_title, str) or not section_title.strip() or len(section_title) > MAX_TITLE:
            errors[f"{path}.title"] = f"title must be text of 1 to {MAX_TITLE} characters."
        statements = section.get("statements")
        wanted = len(item.options)
        if not isinstance(statements, list) or len(statements) != wanted:
            errors[f"{path}.statements"] = f"statements must be a list of exactly {wanted} texts, one per answer."
            continue
        for index, statement in enumerate(statements):
            if not isinstance(statement, str) or not statement.strip() or len(statement) > MAX_STATEMENT:
                errors[f"{path}.statements[{index}]"] = (
                    f"each statement must be text of 1 to {MAX_STATEMENT} characters."
                )
    return errors


def _clean_sections(code: str, sections: Mapping[str, Any]) -> dict[str, Any]:
    return {
        item.key: {
            "title": str(sections[item.key]["title"]).strip(),
            "statements": [str(s).strip() for s in sections[item.key]["statements"]],
        }
        for item in INSTRUMENTS[code].items
        if item.options
    }


@transaction.atomic
def content_pack_load(*, actor: Actor, data: Any) -> ContentPack:
    """Store a valid pack as the next version of its instrument and language (audited)."""
    errors = pack_errors(data)
    if errors:
        raise InvalidInput(errors)
    code, language = data["instrument"], data["language"]
    # Lock the instrument's existing packs so two loads cannot take the same version.
    list(ContentPack.objects.select_for_update().filter(instrument=code, language=language).values_list("pk"))
    latest = ContentPack.objects.filter(instrument=code, language=language).aggregate(v=Max("version"))["v"] or 0
    user = actor.user if actor.user is not None and actor.user.is_authenticated else None
    pack = ContentPack.objects.create(
        instrument=code,
        language=language,
        version=latest + 1,
        kind=data["kind"],
        title=data["title"].strip(),
        sections=_clean_sections(code, data["sections"]),
        loaded_by=user,
    )
    audit_event_record(
        actor=actor,
        action="content_pack.load",
        object_type="content_pack",
        object_id=pack.pk,
        detail={"instrument": code, "language": language, "version": pack.version, "kind": pack.kind},
    )
    return pack


def text_available(code: str) -> bool:
    """Whether the patient app may offer the instrument (its wording is loaded, or it needs none)."""
    return code not in NEEDS_PACK or ContentPack.objects.filter(instrument=code).exists()


def current_packs() -> dict[str, dict[str, ContentPack]]:
    """The newest pack of each instrument and language: {instrument: {language: pack}}."""
    out: dict[str, dict[str, ContentPack]] = {}
    for pack in ContentPack.objects.order_by("instrument", "language", "-version"):
        out.setdefault(pack.instrument, {}).setdefault(pack.language, pack)
    return out


def instrument_text(code: str, packs: Mapping[str, Mapping[str, ContentPack]]) -> dict[str, Any]:
    """What ``GET /api/v1/instruments/`` adds to one instrument: whether its text may be
    shown to patients, and the loaded wording per language."""
    if code not in NEEDS_PACK:
        return {"text_available": True, "content_pack": None}
    loaded = packs.get(code) or {}
    if not loaded:
        return {"text_available": False, "content_pack": None}
    return {
        "text_available": True,
        "content_pack": {
            language: {"version": pack.version, "kind": pack.kind, "title": pack.title, "sections": pack.sections}
            for language, pack in loaded.items()
        },
    }
