from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import DeviceToken, password_fingerprint
from accounts.services import token_lifetime
from tests.factories import make_clinic, make_patient, make_staff, make_user


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """Fixtures create several users per test; full-strength PBKDF2 would dominate the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def clinic(db: Any) -> Any:
    return make_clinic("Home")


@pytest.fixture
def other_clinic(db: Any) -> Any:
    return make_clinic("Elsewhere")


@pytest.fixture
def therapist(clinic: Any) -> Any:
    return make_staff(clinic, "therapist", "therapist")


@pytest.fixture
def manager(clinic: Any) -> Any:
    return make_staff(clinic, "manager", "manager")


@pytest.fixture
def patient_user(db: Any) -> Any:
    return make_user("patient-user")


@pytest.fixture
def patient(clinic: Any, therapist: Any, patient_user: Any) -> Any:
    return make_patient(clinic, user=patient_user, therapists=(therapist,), display_name="Own Patient")


@pytest.fixture
def other_patient(clinic: Any) -> Any:
    """Same clinic, not on the therapist's care team, own login."""
    return make_patient(clinic, user=make_user("other-patient-user"), display_name="Other Patient")


@pytest.fixture
def foreign_patient(other_clinic: Any) -> Any:
    return make_patient(
        other_clinic, therapists=(make_staff(other_clinic, "therapist"),), display_name="Foreign Patient"
    )


def client_for(user: Any) -> APIClient:
    client = APIClient()
    if user is not None:
        _token, key = DeviceToken.objects.issue(
            user=user, lifetime=token_lifetime(user), password_fingerprint=password_fingerprint(user)
        )
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def api_client_for() -> Any:
    return client_for


@pytest.fixture
def therapist_client(therapist: Any) -> APIClient:
    return client_for(therapist)


@pytest.fixture
def patient_client(patient: Any) -> APIClient:
    return client_for(patient.user)


@pytest.fixture
def manager_client(manager: Any) -> APIClient:
    return client_for(manager)
