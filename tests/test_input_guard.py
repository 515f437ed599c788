"""No input can break a record: NUL, lone surrogates and deep nesting are refused at the edge
by every API with a 400 naming the field, and recorded_at outside the plausible range is
refused. Bodies are sent as raw JSON text, the way a client's encoder writes ``"\\ud800"``."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from assessments.models import Alert, Assessment
from patients.models import Patient
from tests.therapies.params import component, plan_body, session_body
from therapies.models import RehabPlan, TherapySession

SURROGATE = "\ud800"
NUL = "\x00"
BAD = [SURROGATE, NUL, "ok" + "\udfff", "\ude00x"]


def raw(client: APIClient, method: str, path: str, payload: Any) -> Any:
    """Send ``payload`` as JSON with ASCII escapes, so a lone surrogate travels as ``\\ud800``."""
    return getattr(client, method)(path, json.dumps(payload), content_type="application/json")


def thermal(region: str) -> dict[str, Any]:
    return {
        "rois": [{"region": "foot", "left_c": 30.0, "right_c": 30.4}, {"region": region, "left_c": 30, "right_c": 31}],
        "ambient_c": 22,
        "acclimatisation_min": 15,
        "affected_side": "left",
    }


def assessment(instrument: str, answers: Any, **extra: Any) -> dict[str, Any]:
    return {
        "instrument": instrument,
        "answers": answers,
        "recorded_at": (timezone.now() - dt.timedelta(minutes=1)).isoformat(),
        "client_uuid": str(uuid.uuid4()),
        **extra,
    }


def url(patient: Any) -> str:
    return f"/api/v1/patients/{patient.pk}/assessments/"


def _message(data: dict[str, Any], *path: str) -> str:
    for key in path:
        data = data[key]
    assert isinstance(data, list)
    return str(data[0])


@pytest.mark.parametrize("bad", BAD)
def test_thermal_region_with_bad_text_is_refused_and_the_record_stays_readable(
    therapist_client: APIClient, therapist: Any, patient: Any, bad: str
) -> None:
    assert raw(therapist_client, "post", url(patient), assessment("thermal", thermal("heel"))).status_code == 201
    response = raw(therapist_client, "post", url(patient), assessment("thermal", thermal("heel" + bad)))
    assert response.status_code == 400, response.content
    message = _message(response.json(), "answers", "rois[1].region")
    assert "NUL" in message or "surrogate" in message
    assert Assessment.objects.count() == 1
    assert therapist_client.get(url(patient)).status_code == 200
    assert therapist_client.get(f"/api/v1/patients/{patient.pk}/fhir/").status_code == 200
    therapist_client.force_login(therapist)
    assert therapist_client.get(f"/clinic/patients/{patient.pk}/").status_code == 200


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        (assessment("nrs", {"score": 3, "note" + SURROGATE: 1}), ("answers", "note\ufffd")),
        (assessment("nrs", {"score": SURROGATE}), ("answers", "score")),
        (assessment("nrs", {"score": 3}, client_uuid=str(uuid.uuid4()) + NUL), ("client_uuid",)),
        (assessment("nrs", {"score": 3}, recorded_at="2026-01-01T00:00:00Z" + NUL), ("recorded_at",)),
        (assessment("nrs" + NUL, {"score": 3}), ("instrument",)),
    ],
)
def test_bad_text_anywhere_in_an_assessment_names_the_field(
    patient_client: APIClient, patient: Any, payload: dict[str, Any], path: tuple[str, ...]
) -> None:
    response = raw(patient_client, "post", url(patient), payload)
    assert response.status_code == 400, response.content
    assert _message(response.json(), *path)
    assert Assessment.objects.count() == 0


def test_bad_text_in_a_phq9_still_raises_the_item9_alert(patient_client: APIClient, patient: Any) -> None:
    answers = {f"item{i}": 0 for i in range(1, 9)} | {"item9": 2, "comment" + NUL: "x"}
    response = raw(patient_client, "post", url(patient), assessment("phq9", answers))
    assert response.status_code == 400
    assert response.json()["safety_alert"] == "raised"
    assert Alert.objects.count() == 1


def test_sync_rejects_only_the_entry_with_bad_text(therapist_client: APIClient, patient: Any) -> None:
    good = {**assessment("nrs", {"score": 4}), "patient": patient.pk}
    bad = {**assessment("thermal", thermal(SURROGATE)), "patient": patient.pk}
    bad_uuid = {**assessment("nrs", {"score": 4}), "patient": patient.pk, "client_uuid": "x" + SURROGATE}
    response = raw(therapist_client, "post", "/api/v1/sync/", {"entries": [bad, good, bad_uuid]})
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["rejected", "created", "rejected"]
    assert "rois[1].region" in results[0]["errors"]["answers"]
    assert results[0]["reason"].startswith("answers.rois[1].region")
    assert "client_uuid" in results[2]["errors"]
    assert results[2]["client_uuid"] == "x\ufffd"  # echoed repaired, never as sent
    assert Assessment.objects.count() == 1


def test_bad_text_outside_the_entries_refuses_the_batch(patient_client: APIClient, patient: Any) -> None:
    response = raw(patient_client, "post", "/api/v1/sync/", {"entries": [], "device" + SURROGATE: 1})
    assert response.status_code == 400
    assert "object key" in _message(response.json(), "device\ufffd")


@pytest.mark.parametrize("bad", [SURROGATE, NUL])
def test_patient_display_name_with_bad_text_is_refused(
    therapist_client: APIClient, patient: Any, clinic: Any, bad: str
) -> None:
    created = raw(
        therapist_client,
        "post",
        "/api/v1/patients/",
        {"display_name": "New " + bad, "sex": "female", "birth_year": 1980, "time_zone": "UTC", "diagnoses": ["clbp"]},
    )
    assert created.status_code == 400, created.content
    assert _message(created.json(), "display_name")
    changed = raw(therapist_client, "patch", f"/api/v1/patients/{patient.pk}/", {"display_name": "Own " + bad})
    assert changed.status_code == 400, changed.content
    assert _message(changed.json(), "display_name")
    assert Patient.objects.count() == 1
    patient.refresh_from_db()
    assert patient.display_name == "Own Patient"


@pytest.mark.parametrize("bad", [SURROGATE, NUL])
def test_plan_and_session_text_with_bad_characters_is_refused(
    therapist_client: APIClient, patient: Any, bad: str
) -> None:
    plan = plan_body(component("acupuncture"))
    plan["reason"] = "Start " + bad
    response = raw(therapist_client, "post", f"/api/v1/patients/{patient.pk}/plan/", plan)
    assert response.status_code == 400, response.content
    assert _message(response.json(), "reason")
    acupuncture = component("acupuncture")
    acupuncture["parameters"]["points"] = "lower 5" + bad
    plan = plan_body(acupuncture)
    response = raw(therapist_client, "post", f"/api/v1/patients/{patient.pk}/plan/", plan)
    assert response.status_code == 400, response.content
    assert "[0].parameters.points" in response.json()["components"]
    assert RehabPlan.objects.count() == 0
    session = session_body(adverse_event_note="dizzy" + bad)
    response = raw(therapist_client, "post", f"/api/v1/patients/{patient.pk}/sessions/", session)
    assert response.status_code == 400, response.content
    assert _message(response.json(), "adverse_event_note")
    assert TherapySession.objects.count() == 0


@pytest.mark.parametrize("depth", [17, 40, 100_000])
@pytest.mark.parametrize("where", ["assessment", "sync", "patient"])
def test_deep_nesting_is_a_400(therapist_client: APIClient, patient: Any, depth: int, where: str) -> None:
    nested = "[" * depth + "]" * depth
    if where == "assessment":
        path, text = url(patient), '{"instrument": "nrs", "answers": {"score": ' + nested + "}}"
    elif where == "sync":
        path, text = "/api/v1/sync/", '{"entries": ' + nested + "}"
    else:
        path, text = f"/api/v1/patients/{patient.pk}/", '{"display_name": ' + nested + "}"
    method = therapist_client.patch if where == "patient" else therapist_client.post
    response = method(path, text, content_type="application/json")
    assert response.status_code == 400, response.content[:200]
    assert "nested deeper than 16" in response.json()["detail"]


def test_nesting_within_the_limit_reaches_validation(therapist_client: APIClient, patient: Any) -> None:
    nested: Any = 1
    for _ in range(14):
        nested = [nested]
    response = raw(therapist_client, "post", url(patient), assessment("nrs", {"score": nested}))
    assert response.status_code == 400
    assert "score" in response.json()["answers"]


def test_nul_in_a_query_string_is_a_400(therapist_client: APIClient, therapist: Any, patient: Any) -> None:
    response = therapist_client.get("/api/v1/patients/?q=a%00b")
    assert response.status_code == 400
    assert "NUL" in _message(response.json(), "q")
    therapist_client.force_login(therapist)
    page = therapist_client.get("/clinic/?q=%00")
    assert page.status_code == 400
    assert "q" in page.content.decode()


def test_nul_in_a_form_field_is_a_400_and_nothing_changes(
    therapist_client: APIClient, therapist: Any, patient: Any
) -> None:
    from assessments.alerts.services import alert_raise

    alert, _created = alert_raise(
        patient=patient, kind="suicidal_ideation", severity="critical", message="m", dedupe_key="k"
    )
    browser = Client()
    browser.force_login(therapist)
    response = browser.post(f"/clinic/alerts/{alert.pk}/acknowledge/", {"note": "called\x00"})
    assert response.status_code == 400
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    thermal_form = browser.post(f"/clinic/patients/{patient.pk}/thermal/", {"thermal-region_0": "heel\x00"})
    assert thermal_form.status_code == 400
    assert Assessment.objects.count() == 0


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("0001-01-01T00:00:00+08:00", ""),
        ("0001-01-01T00:00:00-08:00", "10 years"),
        ("1900-01-01T00:00:00Z", "10 years"),
        (lambda now: now - dt.timedelta(days=3660), "10 years"),
        (lambda now: now + dt.timedelta(minutes=6), "5 minutes"),
        (lambda now: now + dt.timedelta(days=31), "5 minutes"),
        ("9999-12-31T23:59:59+14:00", ""),
    ],
)
def test_recorded_at_outside_the_plausible_range_names_the_field(
    patient_client: APIClient, patient: Any, when: Any, message: str
) -> None:
    value = when(timezone.now()).isoformat() if callable(when) else when
    for instrument, answers in (("nrs", {"score": 2}), ("phq9", {"item1": 1})):
        response = patient_client.post(url(patient), assessment(instrument, answers, recorded_at=value), format="json")
        assert response.status_code == 400, response.content
        assert message in _message(response.json(), "recorded_at")
    assert Assessment.objects.count() == 0


def test_recorded_at_before_the_birth_year(patient_client: APIClient, patient: Any) -> None:
    now = timezone.now()
    patient.birth_year = now.year
    patient.save(update_fields=["birth_year"])
    last_year = now.replace(year=now.year - 1, month=6, day=1)
    response = patient_client.post(
        url(patient), assessment("nrs", {"score": 2}, recorded_at=last_year.isoformat()), format="json"
    )
    assert response.status_code == 400
    assert f"birth year ({now.year})" in _message(response.json(), "recorded_at")
    nine_years = now - dt.timedelta(days=9 * 365)
    patient.birth_year = 1950
    patient.save(update_fields=["birth_year"])
    ok = patient_client.post(
        url(patient), assessment("nrs", {"score": 2}, recorded_at=nine_years.isoformat()), format="json"
    )
    assert ok.status_code == 201, ok.content
    assert ok.json()["is_late"] is True
