"""Content-Security-Policy, Permissions-Policy and no-store on responses with patient data."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.factories import make_staff

TEMPLATE_DIRS = [Path(__file__).resolve().parents[2] / app / "templates" for app in ("frontend", "patients")]


def _signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _policy(response: Any) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.strip().split()
        directives[name] = values
    return directives


@pytest.fixture
def pages(patient: Any, therapist: Any, manager: Any) -> list[tuple[Any, str]]:
    return [
        (patient.user, "/app/"),
        (therapist, "/clinic/"),
        (therapist, f"/clinic/patients/{patient.pk}/"),
        (therapist, f"/patients/{patient.pk}/plan/"),
        (manager, "/clinic/outcomes/"),
    ]


def test_pages_allow_only_own_scripts_and_nonced_inline(pages: list[tuple[Any, str]]) -> None:
    for user, url in pages:
        response = _signed_in(user).get(url)
        assert response.status_code == 200, url
        policy = _policy(response)
        script_src = policy["script-src"]
        assert "'self'" in script_src
        assert "'unsafe-inline'" not in script_src, url
        assert "'unsafe-eval'" not in script_src, url
        # The nonce appears only in responses that use one (django-csp's lazy nonce).
        assert set(script_src) <= {"'self'"} | {v for v in script_src if v.startswith("'nonce-")}, url
        assert policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        html = response.content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html):
            executable = "src=" in tag or not re.search(r'type="application/(ld\+)?json"', tag)
            if executable and "src=" not in tag:
                pytest.fail(f"{url}: inline script without a nonce: {tag}")
        assert not re.search(r"\son[a-z]+=", html), f"{url}: inline event handler"


def test_templates_have_no_inline_script_or_handlers() -> None:
    """Every template (including partials rendered by htmx) keeps script in static files."""
    for directory in TEMPLATE_DIRS:
        for template in directory.rglob("*.html"):
            text = template.read_text(encoding="utf-8")
            for tag in re.findall(r"<script\b[^>]*>", text):
                if "src=" in tag or "application/json" in tag or "nonce=" in tag:
                    continue
                pytest.fail(f"{template}: inline <script> without a nonce: {tag}")
            handler = re.search(r"\son[a-z]+\s*=", text)
            assert handler is None, f"{template}: inline event handler {handler.group(0) if handler else ''}"


def test_swagger_ui_loads_its_start_up_script_from_a_url(db: Any) -> None:
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "'unsafe-inline'" not in _policy(response)["script-src"]
    assert not re.search(r"<script>\s*\S", html), "Swagger UI start-up script is inline"
    script = Client().get("/api/docs/?script=")
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()


def test_permissions_policy_on_every_response(db: Any, patient: Any) -> None:
    for response in (Client().get("/login/"), _signed_in(patient.user).get("/app/"), Client().get("/api/v1/me/")):
        policy = response["Permissions-Policy"]
        for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
            assert feature in policy


def test_patient_data_is_never_stored_by_browsers_or_proxies(
    patient: Any, therapist: Any, manager: Any, therapist_client: Any, pages: list[tuple[Any, str]]
) -> None:
    for user, url in pages:
        response = _signed_in(user).get(url)
        assert "no-store" in response["Cache-Control"], url
    for url in (f"/api/v1/patients/{patient.pk}/", "/api/v1/patients/", f"/api/v1/patients/{patient.pk}/assessments/"):
        response = therapist_client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response["Cache-Control"], url
    # Errors under the API too: they can echo identifiers.
    assert "no-store" in therapist_client.get("/api/v1/patients/999999/")["Cache-Control"]
    progress = _signed_in(patient.user).get("/app/progress/")
    assert progress["Cache-Control"] == "private, no-store"


def test_admin_pages_are_not_stored(db: Any, clinic: Any) -> None:
    admin = make_staff(clinic, "admin", "site-admin")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    response = _signed_in(admin).get("/admin/patients/patient/")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
