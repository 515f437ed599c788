"""``manage.py repair_text``: rows stored with NUL or lone surrogates before the API refused
them are found, reported and (with --fix) repaired with U+FFFD and audited.

SQLite stores such text (the case the command exists for); PostgreSQL refuses it, so there
the command must scan every table cleanly and find nothing."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DataError, connection, transaction
from django.utils import timezone

from assessments.capture.text_repair import _json_repair, stored_text_scan
from assessments.models import Assessment
from patients.models import AuditEvent, Patient

on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="only SQLite stores such text")
on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL refuses such text")


def _thermal(patient: Any, region: str) -> Assessment:
    return Assessment.objects.create(
        patient=patient,
        instrument="thermal",
        answers={
            "rois": [{"region": region, "left_c": 30.0, "right_c": 30.5}],
            "ambient_c": 22,
            "acclimatisation_min": 15,
            "affected_side": "left",
        },
        total=0.5,
        recorded_at=timezone.now() - dt.timedelta(hours=1),
        client_uuid=uuid.uuid4(),
        source="clinician",
    )


def _run(*args: str) -> tuple[str, str | None]:
    out = io.StringIO()
    try:
        call_command("repair_text", *args, stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        return out.getvalue(), str(exc)
    return out.getvalue(), None


def test_json_repair_replaces_values_and_keys() -> None:
    problems: dict[str, str] = {}
    repaired = _json_repair(
        {"rois": [{"region": "heel\ud800"}], "k\x00": "fine", "ok": ["\udfff", 1, None]}, "answers", problems
    )
    assert repaired == {"rois": [{"region": "heel\ufffd"}], "k\ufffd": "fine", "ok": ["\ufffd", 1, None]}
    assert set(problems) == {"answers.rois[0].region", "answers (key)", "answers.ok[0]"}
    clean: dict[str, str] = {}
    assert _json_repair({"a": ["b", 1.5, True]}, "x", clean) == {"a": ["b", 1.5, True]}
    assert clean == {}


@on_sqlite
def test_repair_on_sqlite_reports_then_fixes_and_audits(
    therapist_client: Any, therapist: Any, patient: Any, other_patient: Any
) -> None:
    broken = _thermal(patient, "heel\ud800")
    fine = _thermal(other_patient, "heel")
    Patient.objects.filter(pk=other_patient.pk).update(display_name="Other\x00Patient")

    out, error = _run()
    assert error is not None
    assert "--fix" in error
    assert f"assessments.Assessment pk={broken.pk}: answers.rois[0].region" in out
    assert f"patients.Patient pk={other_patient.pk}: display_name" in out
    assert "2 with invalid text" in out
    broken.refresh_from_db()
    assert broken.answers["rois"][0]["region"] == "heel\ud800"  # report only

    out, error = _run("--fix")
    assert error is None
    assert "2 repaired" in out
    broken.refresh_from_db()
    assert broken.answers["rois"][0]["region"] == "heel\ufffd"
    other_patient.refresh_from_db()
    assert other_patient.display_name == "Other\ufffdPatient"
    fine.refresh_from_db()
    assert fine.answers["rois"][0]["region"] == "heel"
    audits = AuditEvent.objects.filter(action="text.repair").order_by("object_type")
    assert [(a.object_type, a.object_id, a.patient_id) for a in audits] == [
        ("assessments.Assessment", str(broken.pk), patient.pk),
        ("patients.Patient", str(other_patient.pk), other_patient.pk),
    ]
    assert audits[0].detail["fields"] == ["answers.rois[0].region"]

    out, error = _run()
    assert error is None
    assert "0 with invalid text" in out
    # The repaired record reads again everywhere.
    assert therapist_client.get(f"/api/v1/patients/{patient.pk}/assessments/").status_code == 200
    assert therapist_client.get(f"/api/v1/patients/{patient.pk}/fhir/").status_code == 200
    therapist_client.force_login(therapist)
    assert therapist_client.get(f"/clinic/patients/{patient.pk}/").status_code == 200


@on_sqlite
def test_audit_events_are_reported_but_never_changed(patient: Any) -> None:
    event = AuditEvent.objects.create(action="view", object_type="x", detail={"q": "a\ud800"})
    report = stored_text_scan(fix=True)
    [finding] = report.findings
    assert finding.model == "patients.AuditEvent"
    assert not finding.fixed
    assert "append-only" in finding.describe()
    event.refresh_from_db()
    assert event.detail == {"q": "a\ud800"}


@on_postgresql
def test_postgresql_refuses_such_text_and_the_scan_is_clean(patient: Any) -> None:
    _thermal(patient, "heel")
    for bad in ("heel\x00", "heel\ud800"):
        with pytest.raises((DataError, ValueError, UnicodeEncodeError)), transaction.atomic():
            _thermal(patient, bad)
    out, error = _run("--fix")
    assert error is None
    assert "0 with invalid text" in out
    report = stored_text_scan()
    assert report.rows_scanned > 0
    assert report.unreadable == []
    assert not AuditEvent.objects.filter(action="text.repair").exists()
