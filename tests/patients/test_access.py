"""Every endpoint and page that takes a patient id × every role × own/other/foreign patient.

Endpoints are discovered from the URL configuration, so an endpoint added later is walked
too. A forbidden request must answer 404 (or 403/405), change nothing, and leak no name.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from patients.access import Action, visible_patients
from patients.models import AuditEvent, Patient
from tests.conftest import client_for
from tests.factories import make_staff

WRITE_METHODS = ("post", "put", "patch", "delete")


def _walk(patterns: list[Any], prefix: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for entry in patterns:
        if isinstance(entry, URLResolver):
            found += _walk(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            found.append((prefix + str(entry.pattern), entry.callback))
    return found


def patient_routes() -> list[tuple[str, Any]]:
    routes = [(route, cb) for route, cb in _walk(get_resolver().url_patterns) if "<int:patient_id>" in route]
    assert routes, "no patient routes found"
    return routes


def concrete(route: str, patient_id: int) -> str:
    url = route.replace("<int:patient_id>", str(patient_id))
    url = re.sub(r"<int:\w+>", "999999", url)
    url = re.sub(r"<(?:str|slug|uuid):\w+>", "x", url)
    return "/" + url.lstrip("^").rstrip("$")


def methods_of(callback: Any) -> list[str]:
    view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view is None:
        return ["get", "post"]  # function views: try both; unsupported ones answer 405
    return [m for m in ("get", *WRITE_METHODS) if hasattr(view, m)]


@pytest.fixture
def world(
    clinic: Any, other_clinic: Any, therapist: Any, manager: Any, patient: Any, other_patient: Any, foreign_patient: Any
) -> dict[str, Any]:
    return {
        "users": {
            "patient": patient.user,
            "other_patient": other_patient.user,
            "therapist": therapist,
            "therapist_not_on_team": make_staff(clinic, "therapist"),
            "manager": manager,
            "admin": make_staff(clinic, "admin"),
            "foreign_therapist": make_staff(other_clinic, "therapist"),
            "foreign_manager": make_staff(other_clinic, "manager"),
            "anonymous": None,
        },
        "patients": {"own": patient, "other": other_patient, "foreign": foreign_patient},
    }


# Which (role, patient) pairs may *see* the patient. Everything else must be refused.
VIEW_ALLOWED = {
    ("patient", "own"),
    ("other_patient", "other"),
    ("therapist", "own"),
    ("manager", "own"),
    ("manager", "other"),
    ("admin", "own"),
    ("admin", "other"),
    ("foreign_manager", "foreign"),
}


def test_selector_matches_the_policy(world: dict[str, Any]) -> None:
    for role, user in world["users"].items():
        visible = set(visible_patients(user).values_list("pk", flat=True))
        for which, patient in world["patients"].items():
            assert (patient.pk in visible) == ((role, which) in VIEW_ALLOWED), (role, which)


def test_managers_and_patients_cannot_do_clinical_writes(world: dict[str, Any]) -> None:
    own = world["patients"]["own"]
    for role in ("patient", "manager", "foreign_therapist", "therapist_not_on_team"):
        user = world["users"][role]
        assert not visible_patients(user, Action.CLINICAL).filter(pk=own.pk).exists(), role
    assert visible_patients(world["users"]["therapist"], Action.CLINICAL).filter(pk=own.pk).exists()


@pytest.mark.django_db
def test_every_patient_endpoint_by_role(world: dict[str, Any]) -> None:
    routes = patient_routes()
    checked = 0
    for role, user in world["users"].items():
        for which, patient in world["patients"].items():
            allowed = (role, which) in VIEW_ALLOWED
            for route, callback in routes:
                url = concrete(route, patient.pk)
                is_api = url.startswith("/api/")
                if is_api:
                    client: Any = client_for(user)
                else:
                    client = Client()
                    if user is not None:
                        client.force_login(user)
                console_page = url.startswith("/clinic/")
                for method in methods_of(callback):
                    before = (Patient.objects.count(), _row_fingerprint(patient))
                    response = getattr(client, method)(url, data={}, **({"format": "json"} if is_api else {}))
                    checked += 1
                    status = response.status_code
                    if user is None:
                        assert status in (401, 403, 302, 404, 405), (role, which, method, url, status)
                        continue
                    if allowed and console_page and role in ("patient", "other_patient"):
                        # The clinic console is for staff; patients use the app and the API.
                        assert status in (302, 403, 404, 405), (role, which, method, url, status)
                        continue
                    if not allowed:
                        assert status in (403, 404, 405), (role, which, method, url, status)
                        body = response.content.decode(errors="replace")
                        assert patient.display_name not in body, (role, which, method, url)
                        assert (Patient.objects.count(), _row_fingerprint(patient)) == before
                    elif method == "get" and "999999" in url:
                        # A sub-resource id that does not exist: allowed, but not found.
                        assert status == 404, (role, which, method, url, status)
                    elif method == "get" and status == 404 and is_api and response.json().get("code") == "no_plan":
                        # Allowed, and told apart from a missing patient: no plan made yet.
                        pass
                    elif method == "get" and status == 405 and not is_api:
                        pass  # a POST-only page endpoint (htmx form target)
                    elif (
                        method == "get"
                        and role in ("manager", "admin", "foreign_manager")
                        and status == 403
                        and "/patients/" in url
                        and not url.endswith(f"/patients/{patient.pk}/")
                    ):
                        pass  # clinical entry forms: managers and admins read, they do not record
                    elif method == "get":
                        assert status == 200, (role, which, method, url, status, response.content[:300])
                    elif role in ("manager",):
                        # Managers read the cohort; they never write clinical data.
                        assert status in (400, 403, 404, 405), (role, which, method, url, status)
                    else:
                        assert status < 500, (role, which, method, url, status)
    assert checked > 50


def _row_fingerprint(patient: Patient) -> tuple[Any, ...]:
    row = Patient.objects.filter(pk=patient.pk).values().first() or {}
    return tuple(sorted((k, str(v)) for k, v in row.items()))


@pytest.mark.django_db
def test_denied_access_is_audited(world: dict[str, Any]) -> None:
    foreign = world["patients"]["foreign"]
    client = client_for(world["users"]["therapist"])
    response = client.get(f"/api/v1/patients/{foreign.pk}/")
    assert response.status_code == 404
    event = AuditEvent.objects.filter(action="denied", object_id=str(foreign.pk)).get()
    assert event.actor_username == "therapist"
