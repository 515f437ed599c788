from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from rest_framework.test import APIClient

from patients.models import AuditEvent, CareTeamMember, Patient
from tests.conftest import client_for
from tests.factories import PASSWORD


def test_token_login_and_me(patient: Any) -> None:
    client = APIClient()
    response = client.post("/api/v1/auth/token/", {"username": "patient-user", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/me/").json()
    assert me["role"] == "patient"
    assert me["patient_id"] == patient.pk


def test_token_bad_credentials_names_the_problem(db: Any) -> None:
    response = APIClient().post("/api/v1/auth/token/", {"username": "nobody"}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()


def test_anonymous_is_refused(db: Any) -> None:
    assert APIClient().get("/api/v1/patients/").status_code == 401


def test_therapist_creates_patient_and_joins_care_team(
    therapist_client: APIClient, therapist: Any, clinic: Any
) -> None:
    body = {
        "display_name": "New Person",
        "sex": "male",
        "birth_year": 1970,
        "diagnoses": ["clbp", "lumbar_radiculopathy"],
        "affected_side": "right",
        "pain_onset": "2025-01-10",
        "time_zone": "Europe/Berlin",
        "language": "zh-hans",
        "login": {"username": "new-person", "password": "a-long-enough-passphrase"},
    }
    response = therapist_client.post("/api/v1/patients/", body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["clinic"] == clinic.pk
    assert data["has_login"] is True
    assert data["care_team"] == [{"user": therapist.pk, "username": "therapist", "is_primary": True}]
    patient = Patient.objects.get(pk=data["id"])
    assert CareTeamMember.objects.filter(patient=patient, user=therapist).exists()
    assert AuditEvent.objects.filter(patient_id=patient.pk, action="create").count() == 1
    login = APIClient().post(
        "/api/v1/auth/token/", {"username": "new-person", "password": "a-long-enough-passphrase"}, format="json"
    )
    assert login.status_code == 200


@pytest.mark.parametrize(
    ("patch", "field"),
    [
        ({"diagnoses": ["flu"]}, "diagnoses"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"birth_year": "old"}, "birth_year"),
        ({"sex": "x"}, "sex"),
        ({"pain_onset": "2099-01-01"}, "pain_onset"),
        ({"display_name": ""}, "display_name"),
        ({"clinic": 1}, "clinic"),
    ],
)
def test_bad_patch_names_field_and_changes_nothing(
    therapist_client: APIClient, patient: Any, patch: dict[str, Any], field: str
) -> None:
    before = Patient.objects.filter(pk=patient.pk).values().get()
    response = therapist_client.patch(f"/api/v1/patients/{patient.pk}/", patch, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Patient.objects.filter(pk=patient.pk).values().get() == before


def test_patch_updates_and_audits(therapist_client: APIClient, patient: Any) -> None:
    response = therapist_client.patch(f"/api/v1/patients/{patient.pk}/", {"time_zone": "Europe/Berlin"}, format="json")
    assert response.status_code == 200
    assert response.json()["time_zone"] == "Europe/Berlin"
    event = AuditEvent.objects.filter(patient_id=patient.pk, action="update").get()
    assert event.detail["changes"]["time_zone"] == ["Asia/Shanghai", "Europe/Berlin"]


def test_create_bad_input(therapist_client: APIClient) -> None:
    response = therapist_client.post(
        "/api/v1/patients/", {"diagnoses": "clbp", "login": {"username": "x", "password": "1"}}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert {"display_name", "diagnoses", "login"} <= set(body)
    assert Patient.objects.count() == 0


def test_malformed_json_is_400(therapist_client: APIClient) -> None:
    response = therapist_client.generic("POST", "/api/v1/patients/", "{not json", content_type="application/json")
    assert response.status_code == 400


def test_patient_cannot_create_patients(patient_client: APIClient) -> None:
    response = patient_client.post("/api/v1/patients/", {"display_name": "Sneaky"}, format="json")
    assert response.status_code == 400
    assert "clinic" in response.json()


def test_list_reads_are_audited_and_query_count_is_flat(
    therapist_client: APIClient, therapist: Any, clinic: Any, django_assert_max_num_queries: Any
) -> None:
    from tests.factories import make_patient

    for _ in range(15):
        make_patient(clinic, therapists=(therapist,))
    with django_assert_max_num_queries(9):
        response = therapist_client.get("/api/v1/patients/")
    assert response.json()["count"] == 15
    event = AuditEvent.objects.filter(action="list", object_type="patient").latest("id")
    assert event.detail["count"] == 15


def test_consent_history(patient_client: APIClient, patient: Any) -> None:
    assert (
        patient_client.post(
            f"/api/v1/patients/{patient.pk}/consents/", {"kind": "research", "granted": True}, format="json"
        ).status_code
        == 201
    )
    assert (
        patient_client.post(
            f"/api/v1/patients/{patient.pk}/consents/", {"kind": "research", "granted": False}, format="json"
        ).status_code
        == 201
    )
    state = patient_client.get(f"/api/v1/patients/{patient.pk}/consents/").json()
    assert state["in_force"]["research"] is False
    assert len(state["history"]) == 2
    bad = patient_client.post(f"/api/v1/patients/{patient.pk}/consents/", {"kind": "everything"}, format="json")
    assert bad.status_code == 400
    assert {"kind", "granted"} <= set(bad.json())


def test_audit_events_are_append_only(patient: Any) -> None:
    from django.core.exceptions import ValidationError

    event = AuditEvent.objects.create(action="x", object_type="y")
    event.action = "changed"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()


@pytest.mark.django_db
def test_audit_update_refused_by_database_on_postgresql() -> None:
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("the trigger exists on PostgreSQL only")
    AuditEvent.objects.create(action="x", object_type="y")
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        AuditEvent.objects.update(action="tampered")


def test_openapi_schema_and_docs(therapist_client: APIClient) -> None:
    schema = therapist_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert b"/api/v1/patients/" in schema.content
    docs = therapist_client.get("/api/docs/")
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()


def test_healthz(db: Any, client: Any) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_check_deploy_passes_with_production_env(tmp_path: Any) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_DEBUG": "false",
        "SECRET_KEY": "x7!kq9#production-like-secret-key-with-enough-entropy-0123456789",
        "ALLOWED_HOSTS": "rehab.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "VAR_DIR": str(tmp_path),
        "STATIC_ROOT": str(tmp_path / "static"),
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_demo_seed_refuses_without_debug(tmp_path: Any) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_DEBUG": "false",
        "SECRET_KEY": "x7!kq9#production-like-secret-key-with-enough-entropy-0123456789",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "VAR_DIR": str(tmp_path),
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_demo"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "Refusing" in result.stderr


def test_openapi_schema_validates_without_warnings(tmp_path: Any) -> None:
    from django.core.management import call_command

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in (
        "/api/v1/patients/{patient_id}/assessments/",
        "/api/v1/sync/",
        "/api/v1/patients/{patient_id}/plan/",
        "/api/v1/cohort/outcomes/",
        "/api/v1/patients/{patient_id}/fhir/",
    ):
        assert path in text, path


def test_discharge_keeps_the_record_readable_and_reactivatable(
    therapist_client: APIClient, patient: Any, patient_client: APIClient
) -> None:
    url = f"/api/v1/patients/{patient.pk}/"
    response = therapist_client.patch(url, {"is_active": False}, format="json")
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert therapist_client.get(url).status_code == 200
    entry = {
        "instrument": "nrs",
        "answers": {"score": 3},
        "recorded_at": "2026-01-01T09:00:00+08:00",
        "client_uuid": "0b8a5f6e-1c2d-4e3f-9a0b-1c2d3e4f5a6b",
    }
    assert therapist_client.post(f"{url}assessments/", entry, format="json").status_code == 404
    # Discharge signs the patient's phone out; signed in again, they no longer own a record.
    assert patient_client.post(f"{url}assessments/", entry, format="json").status_code == 401
    signed_in_again = client_for(patient.user)
    assert signed_in_again.post(f"{url}assessments/", entry, format="json").status_code == 404
    assert signed_in_again.get("/api/v1/me/").json()["patient_id"] is None
    assert therapist_client.patch(url, {"is_active": True}, format="json").json()["is_active"] is True
    assert therapist_client.post(f"{url}assessments/", entry, format="json").status_code == 201
