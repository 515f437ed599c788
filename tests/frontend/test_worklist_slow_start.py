"""The worklist's slow-start mark: plan week 3-4 with too little improvement, shown as
information with what it is based on."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from assessments.worklist import WorklistFilters, worklist_rows
from tests.assessments.test_worsening import bulk_nrs
from tests.factories import make_patient
from therapies.models import RehabPlan

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def _patient(clinic: Any, therapist: Any, name: str, *, days_in: int, recent: float) -> Any:
    """Baseline week at 8, then three entries at ``recent`` in the last three days."""
    patient = make_patient(clinic, therapists=(therapist,), display_name=name, time_zone="Asia/Shanghai")
    start = timezone.now().astimezone(SHANGHAI).date() - dt.timedelta(days=days_in)
    RehabPlan.objects.create(patient=patient, version=1, reason="start", start_date=start)
    day0 = dt.datetime.combine(start, dt.time(9), tzinfo=SHANGHAI)
    now = timezone.now()
    bulk_nrs(
        patient,
        [(day0 + dt.timedelta(days=d), 8.0) for d in (0, 2, 4)]
        + [(now - dt.timedelta(days=d, hours=1), recent) for d in (0, 1, 2)],
    )
    return patient


def test_slow_starters_in_week_three_are_marked_and_improvers_are_not(clinic, therapist):
    slow = _patient(clinic, therapist, "Slow", days_in=23, recent=7.5)
    improving = _patient(clinic, therapist, "Improving", days_in=23, recent=5.0)
    too_early = _patient(clinic, therapist, "Early", days_in=12, recent=7.5)
    marks = {row.pk: row.slow_start for row in worklist_rows(therapist, WorklistFilters())}
    assert marks == {slow.pk: True, improving.pk: False, too_early.pk: False}

    client = Client()
    client.force_login(therapist)
    html = client.get("/clinic/").content.decode()
    assert html.count(">Slow start</span>") == 1
    assert "less than 15 % below their baseline week" in html
    assert 'href="/clinic/outcomes/"' in html
