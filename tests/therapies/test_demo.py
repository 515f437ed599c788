"""The demo seed: plans, sessions and logs for the demo cohort, idempotent, inside the limits."""

from __future__ import annotations

from typing import Any

import pytest

from patients.models import CareTeamMember
from tests.factories import make_demo_cohort, make_patient, make_staff
from therapies import demo
from therapies.modalities import check_parameters
from therapies.models import (
    DrezReferral,
    HomeExerciseLog,
    PlanComponent,
    RehabPlan,
    TherapySession,
)


@pytest.fixture
def cohort(clinic: Any) -> list[Any]:
    return make_demo_cohort(clinic, make_staff(clinic, "therapist"))


def _counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (RehabPlan, PlanComponent, TherapySession, HomeExerciseLog, DrezReferral))


def test_seed_gives_every_patient_a_plan_and_history(clinic, cohort):
    demo.seed(clinic)
    for patient in cohort:
        assert RehabPlan.objects.filter(patient=patient).exists(), patient.display_name
    _plans, _components, sessions, logs, referrals = _counts()
    assert sessions > 20
    assert logs > 20
    assert referrals == 1
    li_wei = next(p for p in cohort if p.display_name == "Li Wei")
    # Version 3: the home exercise programme (therapies.exercise_demo), three weeks ago.
    assert list(RehabPlan.objects.filter(patient=li_wei).order_by("version").values_list("version", flat=True)) == [
        1,
        2,
        3,
    ]
    assert PlanComponent.objects.exclude(overridden_limits=[]).filter(plan__patient__display_name="John Smith").exists()
    for session in TherapySession.objects.all():
        check = check_parameters(session.modality, session.parameters)
        assert not check.errors
        assert {v.code for v in check.violations} <= set(session.overridden_limits)
    assert all(
        CareTeamMember.objects.filter(patient_id=s.patient_id, user_id=s.delivered_by_id).exists()
        for s in TherapySession.objects.all()
    )


def test_seed_is_idempotent(clinic, cohort):
    demo.seed(clinic)
    first = _counts()
    demo.seed(clinic)
    assert _counts() == first


def test_seed_fills_in_a_patient_added_later(clinic, cohort, therapist):
    demo.seed(clinic)
    before = RehabPlan.objects.count()
    make_patient(clinic, therapists=(therapist,), diagnoses=["dpn"])
    demo.seed(clinic)
    assert RehabPlan.objects.count() == before + 1
