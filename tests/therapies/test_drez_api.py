"""DREZ-surgery referral: candidacy per the DREZ consensus, inputs from the record, decision rules."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.utils import timezone

from assessments.models import Assessment
from patients.models import AuditEvent
from therapies.modalities import DREZ_FOLLOW_UP_ITEMS
from therapies.models import DrezReferral

FULL = {
    "decision": "refer",
    "course_months": 8,
    "vas_mm": 72,
    "age_years": 51,
    "first_line_drugs_tried": True,
    "phq9_assessed": True,
    "gad7_assessed": True,
    "contraindications": [],
}


def url(patient: Any) -> str:
    return f"/api/v1/patients/{patient.pk}/drez-referral/"


def test_candidate_referred(therapist_client, therapist, patient):
    response = therapist_client.post(url(patient), FULL, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["candidacy_met"] is True
    assert data["decision"] == "refer"
    assert [c["code"] for c in data["checks"]] == [
        "course",
        "first_line_drugs",
        "pain_intensity",
        "age",
        "mood_assessed",
        "contraindications",
    ]
    assert all(c["passed"] for c in data["checks"])
    assert data["checks"][0]["message"]["zh-hans"]
    assert data["inputs"]["vas_mm"] == 72
    assert data["created_by"] == therapist.pk
    assert AuditEvent.objects.filter(action="drez_referral.create", patient_id=patient.pk).exists()


def test_referral_against_criteria_needs_a_note(therapist_client, patient):
    body = {**FULL, "vas_mm": 40, "contraindications": ["coagulation_disorder"]}
    refused = therapist_client.post(url(patient), body, format="json")
    assert refused.status_code == 400
    message = refused.json()["decision_note"][0]
    assert "pain_intensity" in message
    assert "contraindications" in message
    assert not DrezReferral.objects.exists()
    accepted = therapist_client.post(
        url(patient), {**body, "decision_note": "Haematology cleared after review"}, format="json"
    )
    assert accepted.status_code == 201
    assert accepted.json()["candidacy_met"] is False
    not_candidate = therapist_client.post(url(patient), {**body, "decision": "not_candidate"}, format="json")
    assert not_candidate.status_code == 201


def test_inputs_come_from_the_record_when_not_given(therapist_client, patient):
    patient.birth_year = timezone.now().year - 60
    patient.pain_onset = timezone.now().date() - dt.timedelta(days=365)
    patient.save(update_fields=["birth_year", "pain_onset"])
    now = timezone.now()
    for instrument, total, minutes in (("vas", 80, 60), ("nrs", 6, 30), ("phq9", 8, 20)):
        Assessment.objects.create(
            patient=patient,
            instrument=instrument,
            answers={},
            total=total,
            recorded_at=now - dt.timedelta(minutes=minutes),
            client_uuid=uuid.uuid4(),
        )
    response = therapist_client.post(url(patient), {"decision": "defer", "first_line_drugs_tried": True}, format="json")
    assert response.status_code == 201, response.content
    inputs = response.json()["inputs"]
    assert inputs["age_years"] == 60
    assert inputs["course_months"] == pytest.approx(12, abs=0.1)
    assert inputs["vas_mm"] == 60  # latest pain entry: NRS 6 x 10
    assert inputs["phq9_assessed"] is True
    assert inputs["gad7_assessed"] is False
    mood = next(c for c in response.json()["checks"] if c["code"] == "mood_assessed")
    assert mood["passed"] is False
    assert "GAD-7" in mood["message"]["en"]


def test_missing_inputs_the_record_cannot_give(therapist_client, patient):
    patient.birth_year = None
    patient.save(update_fields=["birth_year"])
    response = therapist_client.post(
        url(patient), {"decision": "defer", "first_line_drugs_tried": False}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert {"age_years", "course_months", "vas_mm"} <= set(body)
    assert "record" in body["vas_mm"][0]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"decision": "operate"}, "decision"),
        ({"vas_mm": 150}, "vas_mm"),
        ({"vas_mm": True}, "vas_mm"),
        ({"vas_mm": "70"}, "vas_mm"),
        ({"age_years": 40.5}, "age_years"),
        ({"course_months": -1}, "course_months"),
        ({"first_line_drugs_tried": "yes"}, "first_line_drugs_tried"),
        ({"contraindications": ["vertigo"]}, "contraindications"),
        ({"contraindications": "coagulation_disorder"}, "contraindications"),
        ({"follow_ups": {"mood": "fine"}}, "follow_ups"),
        ({"follow_ups": {"pain_relief": 70}}, "follow_ups"),
        ({"follow_ups": ["pain_relief"]}, "follow_ups"),
    ],
)
def test_bad_input_is_400_naming_the_field(therapist_client, patient, change, field):
    response = therapist_client.post(url(patient), {**FULL, **change}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not DrezReferral.objects.exists()


def test_follow_ups_keyed_by_the_consensus_items(therapist_client, patient):
    follow_ups = dict.fromkeys(DREZ_FOLLOW_UP_ITEMS, "ok")
    response = therapist_client.post(url(patient), {**FULL, "follow_ups": follow_ups}, format="json")
    assert response.status_code == 201
    assert response.json()["follow_ups"] == follow_ups


def test_access(api_client_for, therapist_client, patient, manager, other_patient):
    for user in (patient.user, manager):
        assert api_client_for(user).post(url(patient), FULL, format="json").status_code == 404
    therapist_client.post(url(patient), FULL, format="json")
    assert api_client_for(manager).get(url(patient)).json()["count"] == 1
    assert api_client_for(patient.user).get(url(patient)).json()["count"] == 1
    assert api_client_for(other_patient.user).get(url(patient)).status_code == 404
