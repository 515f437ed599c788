"""The Django admin leaves the same audit trail as the API: reads and writes of patient data,
each event naming the patient. Denied fetches name the patient that was asked for."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.utils import timezone

from assessments.models import Assessment, Delivery, Reminder
from patients.admin_audit import PatientDataAdminMixin
from patients.models import AuditEvent, CareTeamMember, Patient
from tests.factories import make_staff, make_user


@pytest.fixture
def admin_client_(clinic: Any) -> Client:
    user = make_user("site-admin", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


def _events(**filters: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(**filters).order_by("id"))


def _patient_form(patient: Patient, **changes: Any) -> dict[str, Any]:
    data = {
        "clinic": patient.clinic_id,
        "user": patient.user_id or "",
        "display_name": patient.display_name,
        "sex": patient.sex,
        "birth_year": patient.birth_year or "",
        "diagnoses": json.dumps(patient.diagnoses),
        "affected_side": patient.affected_side,
        "pain_onset": patient.pain_onset or "",
        "time_zone": patient.time_zone,
        "language": patient.language,
        "is_active": "on" if patient.is_active else "",
        "updated_at_0": timezone.localdate().isoformat(),
        "updated_at_1": "10:00:00",
        "care_team-TOTAL_FORMS": "0",
        "care_team-INITIAL_FORMS": "0",
        "care_team-MIN_NUM_FORMS": "0",
        "care_team-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def test_every_admin_of_patient_data_is_audited() -> None:
    """A model with a patient (or the patient itself) never gets an unaudited admin."""
    for model, model_admin in admin.site._registry.items():
        fields = {f.name for f in model._meta.get_fields()}
        holds_patient_data = model is Patient or "patient" in fields or model is Delivery
        if holds_patient_data:
            assert isinstance(model_admin, PatientDataAdminMixin), f"{model.__name__} admin is not audited"


def test_patient_changelist_records_which_patients_were_shown(admin_client_: Client, patient: Any) -> None:
    response = admin_client_.get("/admin/patients/patient/", {"q": "Own"})
    assert response.status_code == 200
    (event,) = _events(action="list", object_type="patient")
    assert event.detail["via"] == "admin"
    assert event.detail["patient_ids"] == [patient.pk]
    assert event.detail["query"] == "Own"
    assert event.actor_username == "site-admin"


def test_patient_change_view_records_a_read(admin_client_: Client, patient: Any) -> None:
    response = admin_client_.get(f"/admin/patients/patient/{patient.pk}/change/")
    assert response.status_code == 200
    (event,) = _events(action="view", object_type="patient")
    assert event.patient_id == patient.pk
    assert event.clinic_id == patient.clinic_id
    assert event.detail == {"via": "admin"}
    assert event.path.startswith("/admin/")


def test_history_page_is_a_read_too(admin_client_: Client, patient: Any) -> None:
    assert admin_client_.get(f"/admin/patients/patient/{patient.pk}/history/").status_code == 200
    assert _events(action="view", patient_id=patient.pk)


def test_patient_change_records_the_changed_fields(admin_client_: Client, patient: Any) -> None:
    response = admin_client_.post(
        f"/admin/patients/patient/{patient.pk}/change/", _patient_form(patient, display_name="Renamed")
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    patient.refresh_from_db()
    assert patient.display_name == "Renamed"
    (event,) = _events(action="update", object_type="patient")
    assert event.patient_id == patient.pk
    assert "display_name" in event.detail["fields"]
    assert event.detail["via"] == "admin"


def test_patient_created_in_the_admin_is_audited(admin_client_: Client, clinic: Any) -> None:
    template = Patient(clinic=clinic, display_name="Admin Made")
    response = admin_client_.post("/admin/patients/patient/add/", _patient_form(template, user=""))
    assert response.status_code == 302
    created = Patient.objects.get(display_name="Admin Made")
    (event,) = _events(action="create", object_type="patient")
    assert event.patient_id == created.pk


def test_care_team_inline_rows_are_audited(admin_client_: Client, clinic: Any, patient: Any) -> None:
    colleague = make_staff(clinic, "therapist", "colleague")
    existing = list(CareTeamMember.objects.filter(patient=patient))
    data = _patient_form(patient)
    data.update({"care_team-TOTAL_FORMS": str(len(existing) + 1), "care_team-INITIAL_FORMS": str(len(existing))})
    for index, member in enumerate(existing):
        data.update(
            {
                f"care_team-{index}-id": member.pk,
                f"care_team-{index}-patient": patient.pk,
                f"care_team-{index}-user": member.user_id,
                f"care_team-{index}-is_primary": "on" if member.is_primary else "",
            }
        )
    new = len(existing)
    data.update({f"care_team-{new}-patient": patient.pk, f"care_team-{new}-user": colleague.pk})
    response = admin_client_.post(f"/admin/patients/patient/{patient.pk}/change/", data)
    assert response.status_code == 302
    (event,) = _events(action="create.careteammember")
    assert event.patient_id == patient.pk
    assert event.detail["inline"] == "careteammember"


def test_patient_deleted_in_the_admin_is_audited(admin_client_: Client, clinic: Any) -> None:
    doomed = Patient.objects.create(clinic=clinic, display_name="Doomed")
    response = admin_client_.post(f"/admin/patients/patient/{doomed.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Patient.objects.filter(pk=doomed.pk).exists()
    (event,) = _events(action="delete", object_type="patient")
    assert event.patient_id == doomed.pk


def test_assessment_admin_reads_name_the_patient(admin_client_: Client, patient: Any) -> None:
    assessment = Assessment.objects.create(
        patient=patient, instrument="nrs", answers={"score": 4}, total=4, recorded_at=timezone.now()
    )
    assert admin_client_.get("/admin/assessments/assessment/").status_code == 200
    (listed,) = _events(action="list", object_type="assessment")
    assert listed.detail["patient_ids"] == [patient.pk]
    assert admin_client_.get(f"/admin/assessments/assessment/{assessment.pk}/change/").status_code == 200
    (viewed,) = _events(action="view", object_type="assessment")
    assert viewed.patient_id == patient.pk
    assert viewed.object_id == str(assessment.pk)


def test_delivery_admin_finds_the_patient_through_the_reminder(admin_client_: Client, patient: Any) -> None:
    now = timezone.now()
    reminder = Reminder.objects.create(
        patient=patient, kind="due", channel="email", send_at=now, expires_at=now, dedupe_key="admin-audit-test"
    )
    Delivery.objects.create(reminder=reminder, attempt=1, outcome="sent")
    assert admin_client_.get("/admin/assessments/delivery/").status_code == 200
    (listed,) = _events(action="list", object_type="delivery")
    assert listed.detail["patient_ids"] == [patient.pk]


def test_denied_api_fetch_names_the_patient(therapist_client: Any, foreign_patient: Any) -> None:
    response = therapist_client.get(f"/api/v1/patients/{foreign_patient.pk}/")
    assert response.status_code == 404
    (event,) = _events(action="denied")
    assert event.patient_id == foreign_patient.pk
    assert event.object_id == str(foreign_patient.pk)


def test_denied_page_fetch_names_the_patient(therapist: Any, other_patient: Any) -> None:
    client = Client()
    client.force_login(therapist)
    assert client.get(f"/clinic/patients/{other_patient.pk}/").status_code == 404
    (event,) = _events(action="denied")
    assert event.patient_id == other_patient.pk


def test_a_patients_login_in_the_user_admin_is_audited(admin_client_: Client, patient: Any) -> None:
    response = admin_client_.get(f"/admin/auth/user/{patient.user_id}/change/")
    assert response.status_code == 200
    (event,) = _events(action="view", object_type="user")
    assert event.patient_id == patient.pk
