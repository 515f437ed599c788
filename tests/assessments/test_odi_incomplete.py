"""An ODI with more than one section missing is stored as incomplete (total and band null,
``detail.incomplete``): the API returns it, and the series, charts, cohort and CSV exports skip
it rather than trip over it or read it as a score."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from assessments.models import Assessment
from assessments.outcomes.exports import patient_code
from assessments.outcomes.selectors import CohortFilters
from assessments.outcomes.services import cohort_outcomes
from patients.audit import Actor
from tests.assessments.test_cohort import local, make_plan

INCOMPLETE = {"section1": 3, "section2": 2, "section3": None, "section5": 4, "section6": 1}


def _odi(client: APIClient, patient: Any, answers: dict[str, Any], when: dt.datetime | None = None) -> Any:
    return client.post(
        f"/api/v1/patients/{patient.pk}/assessments/",
        {
            "instrument": "odi",
            "answers": answers,
            "recorded_at": (when or timezone.now() - dt.timedelta(minutes=5)).isoformat(),
            "client_uuid": str(uuid.uuid4()),
        },
        format="json",
    )


def _sections(*values: int | None) -> dict[str, int | None]:
    return {f"section{n}": value for n, value in enumerate(values, start=1)}


def test_api_stores_and_returns_an_incomplete_odi(patient_client, patient):
    response = _odi(patient_client, patient, INCOMPLETE)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["total"], body["band"]) == (None, None)
    assert body["detail"]["incomplete"] is True
    assert body["detail"]["answered"] == 4
    assert body["detail"]["raw"] == 10
    stored = Assessment.objects.get(pk=body["id"])
    assert (stored.total, stored.band) == (None, "")  # no band stored; the API shows null
    assert stored.answers["section5"] == 4
    assert stored.answers["section10"] is None

    series = patient_client.get(f"/api/v1/patients/{patient.pk}/assessments/?instrument=odi")
    assert series.status_code == 200
    [row] = series.json()["results"] if "results" in series.json() else series.json()
    assert (row["total"], row["band"]) == (None, None)


def test_one_missing_section_is_scored_out_of_45(patient_client, patient):
    response = _odi(patient_client, patient, _sections(2, 2, 2, 2, 2, 2, 2, None, 2, 2))
    assert response.status_code == 201, response.content
    assert response.json()["total"] == 40.0  # 18 / 45
    assert response.json()["band"] == "moderate"
    assert "incomplete" not in response.json()["detail"]


def test_nothing_answered_is_400_and_not_stored(patient_client, patient):
    response = _odi(patient_client, patient, {})
    assert response.status_code == 400
    assert "no section was answered" in str(response.json())
    assert not Assessment.objects.filter(patient=patient).exists()


def test_csv_export_leaves_total_and_band_blank(therapist_client, patient_client, patient):
    _odi(patient_client, patient, INCOMPLETE)
    response = therapist_client.get(f"/api/v1/patients/{patient.pk}/assessments.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    [row] = rows
    assert (row["instrument"], row["total"], row["band"]) == ("odi", "", "")


def test_console_and_patient_pages_render_with_an_incomplete_odi(therapist, patient, patient_client):
    _odi(patient_client, patient, _sections(*[3] * 10), timezone.now() - dt.timedelta(days=3))
    _odi(patient_client, patient, INCOMPLETE)
    console = Client()
    console.force_login(therapist)
    page = console.get(f"/clinic/patients/{patient.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "ODI %" in html
    mine = Client()
    mine.force_login(patient.user)
    assert mine.get("/app/progress/").status_code == 200


def test_console_odi_chart_plots_scored_entries_only(therapist, patient, patient_client):
    from frontend.console import patient_figures
    from frontend.selectors import patient_page

    _odi(patient_client, patient, _sections(*[3] * 10), timezone.now() - dt.timedelta(days=3))
    _odi(patient_client, patient, INCOMPLETE)
    figure = patient_figures(patient_page(therapist, patient))["odi"]["json"]
    assert '"y":[60]' in figure.replace(" ", "")


@pytest.mark.django_db
def test_cohort_ignores_the_incomplete_odi(clinic, manager, therapist, patient, patient_client):
    start = timezone.now().date() - dt.timedelta(days=60)
    make_plan(patient, start, "exercise")
    for days, answers in (
        (0, _sections(*[4] * 10)),  # 80 %
        (30, _sections(*[3] * 10)),  # 60 %: the last scored entry
        (45, INCOMPLETE),  # incomplete: no score to compare
    ):
        response = _odi(patient_client, patient, answers, local(start) + dt.timedelta(days=days))
        assert response.status_code == 201, response.content
    summary = cohort_outcomes(actor=Actor(user=manager), filters=CohortFilters()).summary
    assert summary["mcid"]["odi"]["n"] == 1
    assert summary["mcid"]["odi"]["count"] == 1  # 80 -> 60: the incomplete entry is not read as a score

    client = APIClient()
    client.force_login(manager)
    response = client.get("/api/v1/cohort/outcomes.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    [row] = [r for r in rows if r[next(iter(r))] == patient_code(patient.clinic_id, patient.pk)]
    assert row["mcid_odi"] == "1"


def test_fhir_export_has_no_total_for_the_incomplete_odi(patient_client, patient):
    """An unscored ODI goes out as an in-progress response with no total Observation."""
    created = _odi(patient_client, patient, INCOMPLETE).json()
    bundle = patient_client.get(f"/api/v1/patients/{patient.pk}/fhir/")
    assert bundle.status_code == 200
    resources = [entry["resource"] for entry in bundle.json()["entry"]]
    ids = {r["id"] for r in resources}
    assert f"obs-{created['id']}" not in ids
    [response] = [r for r in resources if r["id"] == f"qr-{created['id']}"]
    assert response["status"] == "in-progress"
