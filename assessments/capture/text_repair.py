"""Find and repair stored text that breaks every read of its row.

The API refuses NUL and lone UTF-16 surrogates at the edge (``config.parsers``), but rows
stored before that, or loaded by other means, may hold them: on SQLite a lone surrogate in a
JSON column is stored as its ``\\ud800`` escape and every page or export that renders the row
fails. PostgreSQL refuses both characters in text and jsonb columns, so there a scan finds
nothing unless data was loaded around the database's checks.

:func:`stored_text_scan` walks every text and JSON column of every model; with ``fix`` each
bad character becomes U+FFFD (the Unicode replacement character) and every repaired row gets
an audit event. The audit trail itself is append-only (a PostgreSQL trigger refuses
updates): its rows are reported, never changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import DatabaseError, models, transaction

from config.parsers import repaired_text, text_problem
from patients.audit import Actor, audit_event_record
from patients.models import AuditEvent, Patient

TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)
CHUNK = 2000


@dataclass
class Finding:
    """One row with bad text: ``problems`` maps ``field`` or ``field.path`` to what is wrong."""

    model: str
    pk: Any
    problems: dict[str, str]
    repaired: dict[str, Any] = field(default_factory=dict)
    fixed: bool = False
    note: str = ""

    def describe(self) -> str:
        where = "; ".join(f"{path}: {problem}" for path, problem in self.problems.items())
        status = " - repaired" if self.fixed else (f" - {self.note}" if self.note else "")
        return f"{self.model} pk={self.pk}: {where}{status}"


@dataclass
class ScanReport:
    findings: list[Finding] = field(default_factory=list)
    rows_scanned: int = 0
    unreadable: list[str] = field(default_factory=list)


def _path(parent: str, key: Any) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{repaired_text(str(key))}"


def _json_repair(value: Any, path: str, problems: dict[str, str]) -> Any:
    """``value`` with bad strings (values and keys) repaired; ``problems`` records where."""
    if isinstance(value, str):
        problem = text_problem(value)
        if problem is None:
            return value
        problems[path] = problem
        return repaired_text(value)
    if isinstance(value, list):
        return [_json_repair(item, _path(path, index), problems) for index, item in enumerate(value)]
    if isinstance(value, dict):
        repaired: dict[str, Any] = {}
        for key, item in value.items():
            new_key = key
            if isinstance(key, str) and (problem := text_problem(key)) is not None:
                problems[f"{path} (key)"] = problem
                new_key = repaired_text(key)
            repaired[new_key] = _json_repair(item, _path(path, new_key), problems)
        return repaired
    return value


def _text_models() -> Iterator[tuple[type[models.Model], list[models.Field[Any, Any]]]]:
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        fields: list[models.Field[Any, Any]] = [
            f for f in meta.concrete_fields if isinstance(f, TEXT_FIELDS) and not f.primary_key
        ]
        if fields:
            yield model, fields


def _patient_id(instance_values: dict[str, Any], model: type[models.Model], pk: Any) -> int | None:
    if model is Patient:
        return int(pk)
    value = instance_values.get("patient_id")
    return int(value) if isinstance(value, int) else None


def stored_text_scan(*, fix: bool = False, actor: Actor | None = None) -> ScanReport:
    """Every row holding NUL or a lone surrogate in a text or JSON column; ``fix`` repairs
    them (one transaction and one audit event per row)."""
    actor = actor or Actor.system("manage.py repair_text")
    report = ScanReport()
    for model, fields in _text_models():
        names = [f.attname for f in fields]
        has_patient = any(f.attname == "patient_id" for f in model._meta.concrete_fields)
        extra = ["patient_id"] if has_patient else []
        label = model._meta.label
        rows = model._base_manager.order_by("pk").values_list("pk", *extra, *names)
        try:
            for row in rows.iterator(chunk_size=CHUNK):
                report.rows_scanned += 1
                pk, rest = row[0], row[1:]
                values = dict(zip(extra + names, rest, strict=True))
                problems: dict[str, str] = {}
                repaired: dict[str, Any] = {}
                for f in fields:
                    value = values[f.attname]
                    found: dict[str, str] = {}
                    new_value = _json_repair(value, f.name, found)
                    if found:
                        problems.update(found)
                        repaired[f.attname] = new_value
                if not problems:
                    continue
                finding = Finding(label, pk, problems, repaired)
                report.findings.append(finding)
                if fix:
                    _fix(model, finding, actor, _patient_id(values, model, pk))
        except (DatabaseError, UnicodeDecodeError) as exc:
            # A row the driver cannot even decode: reported, left to a database administrator.
            report.unreadable.append(f"{label}: {type(exc).__name__}: {repaired_text(str(exc))[:200]}")
    return report


def _fix(model: type[models.Model], finding: Finding, actor: Actor, patient_id: int | None) -> None:
    if model is AuditEvent:
        finding.note = "the audit trail is append-only: left as is"
        return
    with transaction.atomic():
        model._base_manager.filter(pk=finding.pk).update(**finding.repaired)
        audit_event_record(
            actor=actor,
            action="text.repair",
            object_type=finding.model[:60],
            object_id=str(finding.pk),
            patient_id=patient_id,
            detail={"fields": sorted(finding.problems), "replacement": "U+FFFD"},
        )
    finding.fixed = True
