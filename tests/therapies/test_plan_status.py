"""An ended plan is not shown as current: the pure rule, the selector in the patient's time
zone, and every reader (API, plan page, PWA strings, home-exercise logging) agreeing."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from unittest import mock

import pytest

from tests.therapies.params import BASE
from therapies.adherence import ACTIVE, ENDED, SCHEDULED, PlanDates, plan_in_effect
from therapies.models import HomeExerciseLog, PlanComponent, RehabPlan
from therapies.selectors import plan_for_patient
from therapies.services import patient_today

D = dt.date


def v(version: int, start: dt.date, end: dt.date | None) -> PlanDates:
    return PlanDates(version, start, end)


# -----------------------------------------------------------------------------
# The pure rule
# -----------------------------------------------------------------------------


def test_a_running_version_is_active_through_its_last_day():
    one = v(1, D(2026, 3, 2), D(2026, 3, 15))
    assert plan_in_effect([one], D(2026, 3, 2)) == (one, ACTIVE)
    assert plan_in_effect([one], D(2026, 3, 15)) == (one, ACTIVE)
    assert plan_in_effect([one], D(2026, 3, 16)) == (one, ENDED)


def test_after_the_end_the_next_version_is_shown_as_scheduled():
    one = v(1, D(2026, 3, 2), D(2026, 3, 15))
    two = v(2, D(2026, 3, 20), D(2026, 4, 30))
    assert plan_in_effect([one, two], D(2026, 3, 10)) == (one, ACTIVE)
    assert plan_in_effect([one, two], D(2026, 3, 16)) == (two, SCHEDULED)
    assert plan_in_effect([one, two], D(2026, 3, 20)) == (two, ACTIVE)
    assert plan_in_effect([one, two], D(2026, 5, 1)) == (two, ENDED)


def test_a_higher_version_governs_from_its_start_and_overrides_a_lower_one_set_later():
    one = v(1, D(2026, 3, 2), D(2026, 6, 1))
    two = v(2, D(2026, 3, 10), D(2026, 3, 12))
    # version 2 replaced version 1 from 10 March and ended on the 12th: nothing runs after it
    assert plan_in_effect([one, two], D(2026, 3, 13)) == (two, ENDED)
    # a version 2 set to start later than a version 3 never takes over
    late_two = v(2, D(2026, 4, 1), D(2026, 5, 1))
    three = v(3, D(2026, 3, 1), D(2026, 3, 5))
    assert plan_in_effect([one, late_two, three], D(2026, 3, 6)) == (three, ENDED)


def test_nothing_started_yet_is_scheduled_and_a_version_without_components_has_no_end():
    one = v(1, D(2026, 3, 20), D(2026, 4, 2))
    assert plan_in_effect([one], D(2026, 3, 1)) == (one, SCHEDULED)
    empty = v(1, D(2026, 3, 1), None)
    assert plan_in_effect([empty], D(2030, 1, 1)) == (empty, ACTIVE)
    assert plan_in_effect([], D(2026, 3, 1)) == (None, ENDED)


# -----------------------------------------------------------------------------
# The selector, in the patient's time zone
# -----------------------------------------------------------------------------


def make_plan(patient: Any, version: int, start: dt.date, *, weeks: int = 2, modality: str = "exercise") -> RehabPlan:
    plan = RehabPlan.objects.create(patient=patient, version=version, reason=f"v{version}", start_date=start)
    PlanComponent.objects.create(
        plan=plan,
        modality=modality,
        layer="peripheral",
        parameters=BASE[modality],
        frequency_per_week=3,
        duration_weeks=weeks,
        sessions_prescribed=3 * weeks,
    )
    return plan


def ending_on(patient: Any, last_day: dt.date, version: int = 1) -> RehabPlan:
    """A two-week plan whose last day is ``last_day``."""
    return make_plan(patient, version, last_day - dt.timedelta(days=13))


# 00:30 on 16 March in Shanghai is still 15 March in UTC (the server's zone).
SHANGHAI_AFTER_MIDNIGHT = dt.datetime(2026, 3, 15, 16, 30, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_ended_yesterday_in_the_patients_zone_while_still_today_in_utc(patient):
    assert patient.time_zone == "Asia/Shanghai"
    ending_on(patient, D(2026, 3, 15))
    today = patient_today(patient, SHANGHAI_AFTER_MIDNIGHT)
    assert today == D(2026, 3, 16)
    shown = plan_for_patient(patient, today=today)
    assert shown is not None
    assert (shown.status, shown.end_date) == (ENDED, D(2026, 3, 15))
    # read in the server's zone it would still be running: the patient's zone decides
    assert plan_for_patient(patient, today=SHANGHAI_AFTER_MIDNIGHT.date()).status == ACTIVE


@pytest.mark.django_db
def test_next_version_scheduled_after_an_ended_one(patient):
    today = patient_today(patient)
    ending_on(patient, today - dt.timedelta(days=1))
    later = make_plan(patient, 2, today + dt.timedelta(days=3))
    shown = plan_for_patient(patient)
    assert (shown.plan.pk, shown.status, shown.latest_version) == (later.pk, SCHEDULED, 2)


@pytest.mark.django_db
def test_selector_reads_two_queries_whatever_the_number_of_versions(patient, django_assert_num_queries):
    today = patient_today(patient)
    for version in range(1, 6):
        make_plan(patient, version, today - dt.timedelta(days=60 - version))
    with django_assert_num_queries(2):
        shown = plan_for_patient(patient)
    assert shown.plan.version == 5


# -----------------------------------------------------------------------------
# Every reader agrees
# -----------------------------------------------------------------------------


def plan_url(patient: Any) -> str:
    return f"/api/v1/patients/{patient.pk}/plan/"


@pytest.mark.django_db
def test_api_answers_200_with_the_version_and_its_status(patient, patient_client):
    with mock.patch("django.utils.timezone.now", return_value=SHANGHAI_AFTER_MIDNIGHT):
        ending_on(patient, D(2026, 3, 15))
        body = patient_client.get(plan_url(patient)).json()
    assert (body["version"], body["status"], body["end_date"], body["latest_version"]) == (1, "ended", "2026-03-15", 1)
    with mock.patch("django.utils.timezone.now", return_value=SHANGHAI_AFTER_MIDNIGHT - dt.timedelta(hours=1)):
        assert patient_client.get(plan_url(patient)).json()["status"] == "active"  # 23:30 on the last day


@pytest.mark.django_db
def test_api_shows_the_scheduled_next_version_and_post_reports_a_future_start(patient, therapist_client):
    today = patient_today(patient)
    ending_on(patient, today - dt.timedelta(days=1))
    start = (today + dt.timedelta(days=5)).isoformat()
    created = therapist_client.post(
        plan_url(patient),
        {
            "version": 1,
            "reason": "second block",
            "start_date": start,
            "components": [
                {"modality": "exercise", "parameters": BASE["exercise"], "frequency_per_week": 3, "duration_weeks": 4}
            ],
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    assert (created.json()["version"], created.json()["status"]) == (2, "scheduled")
    body = therapist_client.get(plan_url(patient)).json()
    assert (body["version"], body["status"], body["start_date"]) == (2, "scheduled", start)


@pytest.mark.django_db
def test_openapi_schema_documents_the_status(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    component = next(
        body for name, body in schema["components"]["schemas"].items() if "latest_version" in body.get("properties", {})
    )
    status = component["properties"]["status"]
    refs = [part["$ref"] for part in status.get("allOf", []) if "$ref" in part]
    enum = schema["components"]["schemas"][refs[0].rsplit("/", 1)[1]]["enum"] if refs else status["enum"]
    assert enum == ["active", "ended", "scheduled"]
    assert "ended: its last day has passed" in status["description"]


@pytest.mark.django_db
def test_plan_page_says_no_active_plan(patient):
    from django.test import Client

    today = patient_today(patient)
    ending_on(patient, today - dt.timedelta(days=1))
    client = Client()
    client.force_login(patient.user)
    page = client.get(f"/patients/{patient.pk}/plan/").content.decode()
    assert "No active plan." in page
    assert f"This plan ended on {(today - dt.timedelta(days=1)).isoformat()}" in page
    make_plan(patient, 2, today + dt.timedelta(days=2))
    page = client.get(f"/patients/{patient.pk}/plan/").content.decode()
    assert "No active plan today." in page
    assert "Version 2" in page


@pytest.mark.django_db
def test_pwa_has_the_ended_and_scheduled_wording(patient):
    from django.test import Client

    client = Client()
    client.force_login(patient.user)
    page = client.get("/app/").content.decode()
    assert "No active plan: your plan ended on %(date)s." in page
    assert "No active plan today: your next plan starts on %(date)s." in page


@pytest.mark.django_db
def test_home_exercise_after_the_plans_end_is_refused_and_the_last_day_kept(patient, patient_client):
    today = patient_today(patient)
    plan = ending_on(patient, today - dt.timedelta(days=1))
    component = plan.components.get()
    url = f"/api/v1/patients/{patient.pk}/home-exercise/"

    def log(day: dt.date) -> Any:
        body = {"component": component.pk, "done": True, "date": day.isoformat(), "client_uuid": str(uuid.uuid4())}
        return patient_client.post(url, body, format="json")

    refused = log(today)
    assert refused.status_code == 400
    assert "ended on" in str(refused.json()["date"])
    assert log(today - dt.timedelta(days=1)).status_code == 201  # sent late from the last day: kept
    assert HomeExerciseLog.objects.filter(patient=patient).count() == 1
