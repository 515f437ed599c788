"""Token authentication: DRF's answers, with the patient's own record loaded in the same query."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from tests.conftest import client_for


def test_bad_and_inactive_tokens_are_refused(patient: Any) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid token."
    client = client_for(patient.user)
    patient.user.is_active = False
    patient.user.save(update_fields=["is_active"])
    response = client.get(f"/api/v1/patients/{patient.pk}/")
    assert response.status_code == 401
    assert response.json()["detail"] == "User inactive or deleted."


def test_staff_tokens_still_go_through_the_rule(therapist: Any, patient: Any, other_patient: Any) -> None:
    client = client_for(therapist)
    assert client.get(f"/api/v1/patients/{patient.pk}/").status_code == 200
    assert client.get(f"/api/v1/patients/{other_patient.pk}/").status_code == 404
    assert client_for(patient.user).get(f"/api/v1/patients/{other_patient.pk}/").status_code == 404
