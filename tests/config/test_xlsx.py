"""The .xlsx downloads: a real workbook with typed cells, and the same access rule as the CSV."""

from __future__ import annotations

import datetime as dt
import io
import uuid
import zipfile
from typing import Any
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from assessments.capture.services import assessment_record
from config.tables import xlsx_response
from patients.audit import Actor

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def _sheet_rows(content: bytes) -> list[list[str]]:
    """Cell values of the first sheet, read with the standard library only (shared strings resolved)."""
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        names = book.namelist()
        shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            root = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))  # noqa: S314 - our own output
            shared = ["".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")) for si in root.findall("m:si", NS)]
        sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))  # noqa: S314 - our own output
    rows = []
    for row in sheet.iter(f"{{{NS['m']}}}row"):
        values = []
        for cell in row.findall("m:c", NS):
            raw = cell.find("m:v", NS)
            inline = cell.find("m:is/m:t", NS)
            if cell.get("t") == "s" and raw is not None:
                values.append(shared[int(raw.text or 0)])
            elif inline is not None:
                values.append(inline.text or "")
            else:
                values.append(raw.text if raw is not None and raw.text is not None else "")
        rows.append(values)
    return rows


@pytest.mark.django_db
def test_patient_downloads_their_entries_as_a_workbook(patient_client: Any, patient: Any) -> None:
    when = timezone.now() - dt.timedelta(hours=1)
    assessment_record(
        actor=Actor.system("test"),
        patient=patient,
        instrument="nrs",
        answers={"score": 7},
        recorded_at=when,
        client_uuid=uuid.uuid4(),
        source="patient",
    )
    response = patient_client.get(f"/api/v1/patients/{patient.pk}/assessments.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert f"patient-{patient.pk}-assessments.xlsx" in response["Content-Disposition"]
    header, row = _sheet_rows(response.content)
    assert header[:4] == ["patient_id", "instrument", "recorded_at", "total"]
    assert row[1] == "nrs"
    assert float(row[3]) == 7.0  # a number cell, not text


@pytest.mark.django_db
def test_another_clinics_patient_is_not_found(therapist_client: Any, foreign_patient: Any) -> None:
    assert therapist_client.get(f"/api/v1/patients/{foreign_patient.pk}/assessments.xlsx").status_code == 404


def test_formula_like_text_stays_text() -> None:
    """A value starting with '=' is stored as a string, never as a formula Excel would run."""
    response = xlsx_response("x.xlsx", ["note"], [['=HYPERLINK("http://evil")']])
    (_header, (cell,)) = _sheet_rows(response.content)
    assert cell == '=HYPERLINK("http://evil")'
    with zipfile.ZipFile(io.BytesIO(response.content)) as book:
        assert b"<f>" not in book.read("xl/worksheets/sheet1.xml")
