"""The synthetic demo clinic: real-sized, varied, marked as synthetic, scored like real capture."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from assessments.demo.synthetic import seed_synthetic
from assessments.instruments import get_instrument
from assessments.models import Alert, Assessment, NrsDiary
from assessments.outcomes.selectors import CohortFilters
from assessments.outcomes.services import cohort_outcomes
from patients.audit import Actor
from patients.models import Patient
from tests.factories import make_staff
from therapies.models import HomeExerciseLog, PlanComponent, RehabPlan, TherapySession

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def synthetic(clinic: Any) -> dict[str, Any]:
    therapist = make_staff(clinic, "therapist")
    made = seed_synthetic(clinic, therapist, n_patients=40, months=18, now=NOW)
    return {"made": made, "therapist": therapist, "patients": list(Patient.objects.filter(is_synthetic=True))}


def test_patients_are_marked_and_varied(synthetic):
    patients = synthetic["patients"]
    assert synthetic["made"] == len(patients) == 40
    assert all(p.display_name.startswith("Synthetic patient ") for p in patients)
    assert len({d for p in patients for d in p.diagnoses}) >= 5
    modalities = set(PlanComponent.objects.filter(plan__patient__in=patients).values_list("modality", flat=True))
    assert {"exercise", "tdcs", "hydrodissection"} <= modalities
    starts = sorted(RehabPlan.objects.filter(patient__in=patients).values_list("start_date", flat=True))
    assert (starts[-1] - starts[0]).days > 300  # spread over the 18 months
    assert TherapySession.objects.filter(patient__in=patients).exists()
    assert HomeExerciseLog.objects.filter(patient__in=patients, done=False).exists()


def test_entries_are_scored_like_real_capture_and_raise_no_alert(synthetic):
    rows = Assessment.objects.filter(patient__is_synthetic=True)
    assert rows.count() > 40 * 30
    for row in rows.exclude(instrument="nrs")[:60]:
        result = get_instrument(row.instrument).score(row.answers)
        assert (row.total, row.band or None, row.flags) == (result.total, result.band, list(result.flags))
    assert not Alert.objects.exists()
    # The weekly NRS sums were rebuilt for the bulk-loaded diary.
    assert NrsDiary.objects.filter(patient__is_synthetic=True).count() == 40


def test_cohort_has_responders_non_responders_and_drop_outs(synthetic, clinic):
    manager = make_staff(clinic, "manager")
    summary = cohort_outcomes(actor=Actor(user=manager), filters=CohortFilters(), today=NOW.date()).summary
    assert summary["n_synthetic"] == summary["n_patients"] == 40
    rate = summary["responders"]["30"]
    assert 0 < rate["count"] < rate["n"]
    last = {
        p: max(Assessment.objects.filter(patient=p, instrument="nrs").values_list("recorded_at", flat=True))
        for p in synthetic["patients"]
    }
    assert any(NOW - when > dt.timedelta(days=30) for when in last.values())  # stopped logging


def test_seeding_twice_adds_nothing(synthetic, clinic):
    before = Assessment.objects.count()
    assert seed_synthetic(clinic, synthetic["therapist"], n_patients=40, now=timezone.now()) == 0
    assert Assessment.objects.count() == before


def test_patient_csv_says_which_rows_are_synthetic(synthetic, clinic):
    from django.test import Client

    client = Client()
    client.force_login(make_staff(clinic, "manager"))
    lines = client.get("/api/v1/cohort/outcomes.csv").content.decode("utf-8-sig").splitlines()
    assert lines[0].endswith(",synthetic")
    assert all(line.endswith(",1") for line in lines[1:])


def test_finished_courses_are_discharged_and_leave_the_worklist(synthetic, clinic):
    from assessments.worklist import WorklistFilters, worklist_rows

    patients = synthetic["patients"]
    discharged = [p for p in patients if not p.is_active]
    active = [p for p in patients if p.is_active]
    assert discharged
    assert active
    listed = {row.pk for row in worklist_rows(synthetic["therapist"], WorklistFilters(), now=NOW)}
    assert listed == {p.pk for p in active}
    for patient in discharged:  # nothing logged in the last three weeks
        last = Assessment.objects.filter(patient=patient, instrument="nrs").latest("recorded_at").recorded_at
        assert NOW - last > dt.timedelta(days=20)
