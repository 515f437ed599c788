"""Every response under /api/ is JSON: unknown URLs, wrong methods, oversized bodies, server
errors and a database that cannot be reached (503 with Retry-After)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client


def _json(response: Any) -> dict[str, Any]:
    assert response["Content-Type"].startswith("application/json"), (response.status_code, response["Content-Type"])
    return json.loads(response.content)


@pytest.fixture
def raw_client() -> Client:
    # Exceptions become responses, as for a real client, instead of being re-raised in the test.
    return Client(raise_request_exception=False)


def test_unknown_api_url_is_json_404(db: Any, raw_client: Client) -> None:
    response = raw_client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert _json(response) == {"detail": "Not found."}


def test_unknown_api_url_for_a_signed_in_client_is_json_404(therapist_client: Any) -> None:
    response = therapist_client.get("/api/v2/patients/")
    assert response.status_code == 404
    assert "detail" in _json(response)


def test_pages_outside_the_api_keep_html_404(db: Any, raw_client: Client) -> None:
    response = raw_client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_wrong_method_is_json_405(therapist_client: Any) -> None:
    response = therapist_client.put("/api/v1/me/", {})
    assert response.status_code == 405
    assert "detail" in _json(response)
    assert "GET" in response["Allow"]


def test_wrong_method_on_the_docs_page_is_json_405(db: Any, raw_client: Client) -> None:
    response = raw_client.post("/api/docs/", {})
    assert response.status_code in (403, 405)
    assert "detail" in _json(response)


def test_body_over_the_upload_limit_is_json_413(settings: Any, patient: Any, patient_client: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    body = json.dumps({"entries": [{"client_uuid": "x", "padding": "a" * 5_000}]})
    response = patient_client.generic("POST", "/api/v1/sync/", body, content_type="application/json")
    assert response.status_code == 413
    assert "2000 bytes" in _json(response)["detail"]


def test_body_over_the_upload_limit_on_a_page_is_413_not_400(settings: Any, db: Any, raw_client: Client) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_000
    response = raw_client.post("/login/", {"username": "x", "password": "a" * 5_000})
    assert response.status_code == 413


def test_server_error_is_json_500(monkeypatch: Any, therapist: Any, raw_client: Client) -> None:
    from patients import api

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("unexpected")

    monkeypatch.setattr(api, "staff_roles", boom)
    raw_client.force_login(therapist)
    response = raw_client.get("/api/v1/me/")
    assert response.status_code == 500
    assert _json(response) == {"detail": "Server error."}


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_database_down_in_a_view_is_json_503_with_retry_after(
    monkeypatch: Any, error: type[Exception], therapist: Any, raw_client: Client
) -> None:
    from patients import api

    def down(*args: Any, **kwargs: Any) -> Any:
        raise error("could not connect to server: Connection refused")

    monkeypatch.setattr(api, "staff_roles", down)
    raw_client.force_login(therapist)
    response = raw_client.get("/api/v1/me/")
    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    assert "unavailable" in _json(response)["detail"]


def test_database_down_before_the_view_is_json_503(monkeypatch: Any, therapist: Any, raw_client: Client) -> None:
    """The failure hits the session middleware, before any API code runs."""
    from django.contrib.sessions.backends.db import SessionStore

    raw_client.force_login(therapist)

    def down(self: Any) -> Any:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(SessionStore, "load", down)
    response = raw_client.get("/api/v1/me/")
    assert response.status_code == 503
    assert response["Retry-After"].isdigit()
    assert "unavailable" in _json(response)["detail"]
    page = raw_client.get("/clinic/")
    assert page.status_code == 503
    assert page["Retry-After"].isdigit()


def test_database_down_behind_token_authentication_is_json_503(monkeypatch: Any, therapist_client: Any) -> None:
    from accounts import authentication

    def down(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(authentication.TokenAuthentication, "authenticate_credentials", down)
    therapist_client.raise_request_exception = False
    response = therapist_client.get("/api/v1/patients/")
    assert response.status_code == 503
    assert "unavailable" in _json(response)["detail"]


def test_the_schema_is_json_by_default_and_yaml_on_request(db: Any, raw_client: Client) -> None:
    response = raw_client.get("/api/schema/")
    assert response.status_code == 200
    assert "json" in response["Content-Type"]
    assert json.loads(response.content)["openapi"].startswith("3.")
    yaml = raw_client.get("/api/schema/", {"format": "yaml"})
    assert yaml["Content-Type"].startswith("application/vnd.oai.openapi;")
    assert yaml.content.startswith(b"openapi: 3.")
