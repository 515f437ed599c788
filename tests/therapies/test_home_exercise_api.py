"""Home-exercise logs by the patient: idempotent, own components only, home modalities only."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

import pytest

from patients.models import AuditEvent
from tests.therapies.params import component, plan_body
from therapies.models import HomeExerciseLog


@pytest.fixture
def plan(therapist_client, patient) -> dict[str, Any]:
    body = plan_body(component("tdcs"), component("exercise"), component("tens"))
    return therapist_client.post(f"/api/v1/patients/{patient.pk}/plan/", body, format="json").json()


def url(patient: Any) -> str:
    return f"/api/v1/patients/{patient.pk}/home-exercise/"


def ids(plan: dict[str, Any]) -> dict[str, int]:
    return {c["modality"]: c["id"] for c in plan["components"]}


def log(component_id: int, **extra: Any) -> dict[str, Any]:
    return {"component": component_id, "done": True, "minutes": 25, "client_uuid": str(uuid.uuid4()), **extra}


def test_patient_logs_and_resends(patient_client, patient, plan):
    body = log(ids(plan)["exercise"])
    first = patient_client.post(url(patient), body, format="json")
    assert first.status_code == 201, first.content
    data = first.json()
    local_today = dt.datetime.now(zoneinfo.ZoneInfo(patient.time_zone)).date()
    assert data["date"] == local_today.isoformat()
    assert data["modality"] == "exercise"
    assert data["done"] is True
    assert data["minutes"] == 25
    again = patient_client.post(url(patient), {**body, "done": False}, format="json")
    assert again.status_code == 200
    assert again.json() == data
    assert HomeExerciseLog.objects.count() == 1
    assert AuditEvent.objects.filter(action="home_exercise.create", actor_id=patient.user.pk).count() == 1


def test_therapist_may_log_for_the_patient(therapist_client, patient, plan):
    assert therapist_client.post(url(patient), log(ids(plan)["tens"]), format="json").status_code == 201


def test_clinic_modality_is_not_logged_at_home(patient_client, patient, plan):
    response = patient_client.post(url(patient), log(ids(plan)["tdcs"]), format="json")
    assert response.status_code == 400
    assert "component" in response.json()
    assert not HomeExerciseLog.objects.exists()


def test_future_date_in_the_patients_zone_is_refused(patient_client, patient, plan):
    local_today = dt.datetime.now(zoneinfo.ZoneInfo(patient.time_zone)).date()
    ok = patient_client.post(url(patient), log(ids(plan)["exercise"], date=local_today.isoformat()), format="json")
    assert ok.status_code == 201
    tomorrow = (local_today + dt.timedelta(days=1)).isoformat()
    response = patient_client.post(url(patient), log(ids(plan)["exercise"], date=tomorrow), format="json")
    assert response.status_code == 400
    assert "date" in response.json()


def test_someone_elses_component_is_refused(api_client_for, other_patient, patient, plan):
    response = api_client_for(other_patient.user).post(url(other_patient), log(ids(plan)["exercise"]), format="json")
    assert response.status_code == 400
    assert "component" in response.json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"done": "yes"}, "done"),
        ({"done": 1}, "done"),
        ({"done": None}, "done"),
        ({"minutes": True}, "minutes"),
        ({"minutes": "20"}, "minutes"),
        ({"minutes": 601}, "minutes"),
        ({"date": "2026-02-30"}, "date"),
        ({"component": "exercise"}, "component"),
        ({"component": None}, "component"),
        ({"note": ["x"]}, "note"),
        ({"client_uuid": "abc"}, "client_uuid"),
    ],
)
def test_bad_input_is_400_naming_the_field(patient_client, patient, plan, change, field):
    response = patient_client.post(url(patient), {**log(ids(plan)["exercise"]), **change}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not HomeExerciseLog.objects.exists()


def test_who_may_log_and_read(api_client_for, patient, other_patient, manager, plan):
    body = log(ids(plan)["exercise"])
    assert api_client_for(manager).post(url(patient), body, format="json").status_code == 404
    assert api_client_for(other_patient.user).post(url(patient), body, format="json").status_code == 404
    assert not HomeExerciseLog.objects.exists()
    api_client_for(patient.user).post(url(patient), body, format="json")
    assert api_client_for(manager).get(url(patient)).json()["count"] == 1
    assert api_client_for(other_patient.user).get(url(patient)).status_code == 404


def test_list_filters_by_date(patient_client, patient, plan):
    today = dt.datetime.now(zoneinfo.ZoneInfo(patient.time_zone)).date()
    for back in (0, 3, 10):
        patient_client.post(
            url(patient), log(ids(plan)["exercise"], date=(today - dt.timedelta(days=back)).isoformat()), format="json"
        )
    since = (today - dt.timedelta(days=5)).isoformat()
    data = patient_client.get(url(patient), {"since": since}).json()
    assert [row["date"] for row in data["results"]] == [today.isoformat(), (today - dt.timedelta(days=3)).isoformat()]
    assert patient_client.get(url(patient), {"since": "last week"}).status_code == 400
