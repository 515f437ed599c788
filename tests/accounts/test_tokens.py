"""API tokens: hashed per-device knox tokens with role lifetimes, revocation, device list."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import DeviceToken
from patients.models import AuditEvent
from tests.conftest import client_for
from tests.factories import PASSWORD, make_staff, make_user

TOKEN_URL = "/api/v1/auth/token/"


def sign_in(username: str, password: str = PASSWORD, **extra: Any) -> Any:
    return APIClient().post(TOKEN_URL, {"username": username, "password": password, **extra}, format="json")


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_each_sign_in_gets_a_new_token_stored_only_as_a_digest(patient: Any) -> None:
    first = sign_in("patient-user")
    second = sign_in("patient-user")
    assert first.status_code == second.status_code == 200
    key1, key2 = first.json()["token"], second.json()["token"]
    assert key1 != key2
    for key in (key1, key2):
        assert with_token(key).get("/api/v1/me/").json()["patient_id"] == patient.pk
    rows = list(DeviceToken.objects.filter(user=patient.user).values())
    assert len(rows) == 2
    for row in rows:
        for value in row.values():
            assert key1 not in str(value)
            assert key2 not in str(value)
    assert AuditEvent.objects.filter(action="auth.token_issue", actor_id=patient.user.pk).count() == 2


def test_lifetimes_by_role(patient: Any, therapist: Any) -> None:
    before = timezone.now()
    patient_expiry = dt.datetime.fromisoformat(sign_in("patient-user").json()["expiry"])
    staff_expiry = dt.datetime.fromisoformat(sign_in("therapist").json()["expiry"])
    assert dt.timedelta(days=30) <= patient_expiry - before < dt.timedelta(days=30, minutes=1)
    assert dt.timedelta(hours=12) <= staff_expiry - before < dt.timedelta(hours=12, minutes=1)


def test_lifetimes_are_configurable(settings: Any, patient: Any) -> None:
    settings.AUTH_TOKEN_PATIENT_DAYS = 7
    before = timezone.now()
    expiry = dt.datetime.fromisoformat(sign_in("patient-user").json()["expiry"])
    assert dt.timedelta(days=7) <= expiry - before < dt.timedelta(days=7, minutes=1)


def test_expired_token_is_refused(patient: Any) -> None:
    key = sign_in("patient-user").json()["token"]
    DeviceToken.objects.filter(user=patient.user).update(expiry=timezone.now() - dt.timedelta(seconds=1))
    response = with_token(key).get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid token."
    assert response["WWW-Authenticate"] == "Token"


def test_delete_revokes_only_the_token_presented(patient: Any) -> None:
    phone = with_token(sign_in("patient-user").json()["token"])
    tablet = with_token(sign_in("patient-user").json()["token"])
    response = phone.delete(TOKEN_URL)
    assert response.status_code == 204
    assert phone.get("/api/v1/me/").status_code == 401
    assert tablet.get("/api/v1/me/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.token_revoke", actor_id=patient.user.pk).count() == 1


def test_delete_without_a_token_names_the_header(patient: Any) -> None:
    assert APIClient().delete(TOKEN_URL).status_code == 401
    browser = APIClient()
    browser.force_login(patient.user)
    response = browser.delete(TOKEN_URL)
    assert response.status_code == 400
    assert "authorization" in response.json()


def test_a_stale_token_header_does_not_block_signing_in(patient: Any) -> None:
    client = with_token("0" * 64)
    response = client.post(TOKEN_URL, {"username": "patient-user", "password": PASSWORD}, format="json")
    assert response.status_code == 200


def test_form_encoded_sign_in_still_works(patient: Any) -> None:
    """DRF's token view took form posts too; outside clients may send them."""
    response = APIClient().post(TOKEN_URL, {"username": "patient-user", "password": PASSWORD}, format="multipart")
    assert response.status_code == 200
    encoded = Client().post(
        TOKEN_URL, "username=patient-user&password=" + PASSWORD, "application/x-www-form-urlencoded"
    )
    assert encoded.status_code == 200
    assert with_token(encoded.json()["token"]).get("/api/v1/me/").status_code == 200


def test_sign_in_input_errors_name_the_field(db: Any) -> None:
    response = APIClient().post(TOKEN_URL, {"username": "x", "device": "d" * 121}, format="json")
    assert response.status_code == 400
    assert {"password", "device"} <= set(response.json())


def test_device_list_and_revoke_one(patient: Any, other_patient: Any) -> None:
    phone_key = sign_in("patient-user", device="Pixel 8").json()["token"]
    laptop = APIClient(HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
    laptop_key = laptop.post(TOKEN_URL, {"username": "patient-user", "password": PASSWORD}, format="json").json()[
        "token"
    ]
    sign_in("other-patient-user", device="Not mine")
    phone = with_token(phone_key)
    listing = phone.get("/api/v1/auth/tokens/")
    assert listing.status_code == 200
    body = listing.json()
    assert body["count"] == 2
    devices = {item["device"]: item for item in body["results"]}
    assert set(devices) == {"Pixel 8", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}
    assert devices["Pixel 8"]["current"] is True
    assert devices["Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"]["current"] is False
    assert set(devices["Pixel 8"]) == {"id", "device", "ip", "created", "expiry", "current"}
    laptop_id = devices["Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"]["id"]
    # Someone else's token id is not found; mine is revoked.
    others = DeviceToken.objects.get(device="Not mine").public_id
    assert phone.delete(f"/api/v1/auth/tokens/{others}/").status_code == 404
    assert phone.delete(f"/api/v1/auth/tokens/{laptop_id}/").status_code == 204
    assert with_token(laptop_key).get("/api/v1/me/").status_code == 401
    assert phone.get("/api/v1/auth/tokens/").json()["count"] == 1
    assert phone.delete(f"/api/v1/auth/tokens/{laptop_id}/").status_code == 404
    assert phone.delete("/api/v1/auth/tokens/not-a-uuid/").status_code == 404


def test_token_count_per_user_is_capped(settings: Any, patient: Any) -> None:
    settings.AUTH_TOKEN_MAX_PER_USER = 3
    keys = [sign_in("patient-user", device=f"device {n}").json()["token"] for n in range(4)]
    assert DeviceToken.objects.filter(user=patient.user).count() == 3
    assert with_token(keys[0]).get("/api/v1/me/").status_code == 401
    assert all(with_token(key).get("/api/v1/me/").status_code == 200 for key in keys[1:])


def test_password_change_revokes_every_token(patient: Any) -> None:
    client = with_token(sign_in("patient-user").json()["token"])
    fixture_client = client_for(patient.user)
    patient.user.set_password("a-new-long-password-42")
    patient.user.save(update_fields=["password"])
    assert client.get("/api/v1/me/").status_code == 401
    assert fixture_client.get("/api/v1/me/").status_code == 401
    fresh = sign_in("patient-user", password="a-new-long-password-42")
    assert with_token(fresh.json()["token"]).get("/api/v1/auth/tokens/").json()["count"] == 1
    # Signing in swept the tokens of the old password.
    assert DeviceToken.objects.filter(user=patient.user).count() == 1


@pytest.fixture
def admin_browser(db: Any) -> Client:
    client = Client()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


def test_admin_password_change_revokes_tokens(admin_browser: Client, patient: Any) -> None:
    client = with_token(sign_in("patient-user").json()["token"])
    response = admin_browser.post(
        f"/admin/auth/user/{patient.user.pk}/password/",
        {"password1": "another-long-password-77", "password2": "another-long-password-77", "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert client.get("/api/v1/me/").status_code == 401
    assert not DeviceToken.objects.filter(user=patient.user).exists()


def test_admin_deactivation_revokes_tokens(admin_browser: Client, patient: Any) -> None:
    client = with_token(sign_in("patient-user").json()["token"])
    user = patient.user
    form = {
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "email": "",
        "is_active": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "00:00:00",
    }
    response = admin_browser.post(f"/admin/auth/user/{user.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert client.get("/api/v1/me/").status_code == 401
    assert not DeviceToken.objects.filter(user=user).exists()
    event = AuditEvent.objects.get(action="auth.token_revoke_all")
    assert event.detail["reason"] == "user_deactivated"


def test_discharge_revokes_the_patients_tokens(therapist_client: APIClient, patient: Any) -> None:
    client = with_token(sign_in("patient-user").json()["token"])
    assert (
        therapist_client.patch(f"/api/v1/patients/{patient.pk}/", {"is_active": False}, format="json").status_code
        == 200
    )
    assert client.get("/api/v1/me/").status_code == 401
    assert not DeviceToken.objects.filter(user=patient.user).exists()
    assert AuditEvent.objects.get(action="auth.token_revoke_all").detail["reason"] == "patient_deactivated"


def test_signing_out_of_the_web_app_ends_its_session(patient: Any) -> None:
    """The PWA signs in with a session, not a token: POST /logout/ deletes that session
    server-side, so its cookie opens neither the pages nor the API afterwards."""
    browser = Client()
    assert browser.post("/login/", {"username": "patient-user", "password": PASSWORD}).status_code == 302
    assert browser.get("/api/v1/me/").status_code == 200
    cookie = browser.cookies["sessionid"].value
    assert browser.post("/logout/").status_code == 302
    replay = Client()
    replay.cookies["sessionid"] = cookie
    assert replay.get("/api/v1/me/").status_code in (401, 403)


def test_drf_tokens_are_carried_over_hashed(patient: Any) -> None:
    """The migration from DRF's authtoken table: the client's key keeps working, the clear
    text is deleted."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("accounts.migrations.0002_import_drf_tokens")
    key = "a" * 40
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamp with time zone, user_id bigint)"
            if connection.vendor == "postgresql"
            else "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created datetime, user_id bigint)"
        )
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, %s)", [key, timezone.now(), patient.user.pk])
    # The migration only reads the editor's connection (SQLite refuses a real editor inside
    # the test's transaction).
    migration.import_drf_tokens(apps, SimpleNamespace(connection=connection))
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
        cursor.execute("DROP TABLE authtoken_token")
    token = DeviceToken.objects.get(user=patient.user)
    assert dt.timedelta(days=29) < token.expiry - timezone.now() <= dt.timedelta(days=30)
    assert with_token(key).get("/api/v1/me/").json()["patient_id"] == patient.pk


def test_own_password_change_in_the_admin_revokes_tokens(clinic: Any) -> None:
    staff = make_staff(clinic, "admin", "clinic-admin")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    api = with_token(sign_in("clinic-admin").json()["token"])
    browser = Client()
    browser.force_login(staff)
    response = browser.post(
        "/admin/password_change/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-fresh-long-password-9",
            "new_password2": "a-fresh-long-password-9",
        },
    )
    assert response.status_code == 302
    assert api.get("/api/v1/me/").status_code == 401
