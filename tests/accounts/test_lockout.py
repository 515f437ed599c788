"""Password guessing: django-axes locks a username and an address on every sign-in path."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from accounts.api import AuthRateThrottle
from patients.models import AuditEvent
from tests.factories import PASSWORD, make_clinic, make_staff, make_user

TOKEN_URL = "/api/v1/auth/token/"
_forged = itertools.count(1)


def forged_xff() -> str:
    n = next(_forged)
    return f"198.51.{n // 250}.{n % 250 + 1}"


def api_login(username: str, password: str, remote: str = "127.0.0.1", **extra: Any) -> Any:
    return APIClient().post(
        TOKEN_URL,
        {"username": username, "password": password},
        format="json",
        REMOTE_ADDR=remote,
        HTTP_X_FORWARDED_FOR=forged_xff(),
        **extra,
    )


def test_measured_defaults() -> None:
    assert settings.AXES_FAILURE_LIMIT == 10
    assert dt.timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address"]


def test_api_locks_a_username_guessed_from_many_addresses(patient: Any) -> None:
    """Every guess from another address and with a fresh forged X-Forwarded-For: the username
    is still locked at the tenth failure, and the right password is refused while it lasts."""
    for n in range(1, 10):
        response = api_login("patient-user", "wrong", remote=f"10.1.0.{n}")
        assert response.status_code == 400, (n, response.content)
    locked = api_login("patient-user", "wrong", remote="10.1.0.10")
    assert locked.status_code == 429
    body = locked.json()
    assert body["code"] == "locked_out"
    assert body["retry_after"] == 15 * 60
    assert "15 minutes" in body["detail"]
    assert locked["Retry-After"] == "900"
    right_password = api_login("patient-user", PASSWORD, remote="10.1.0.11")
    assert right_password.status_code == 429
    assert "token" not in right_password.json()
    # Another user from any of those addresses is not affected by this username's lock.
    make_user("bystander")
    assert api_login("bystander", PASSWORD, remote="10.1.0.3").status_code == 200


def test_api_locks_an_address_that_rotates_forged_forwarded_for_and_usernames(patient: Any) -> None:
    for n in range(9):
        assert api_login(f"guess{n}", "wrong", remote="203.0.113.50").status_code == 400
    assert api_login("guess9", "wrong", remote="203.0.113.50").status_code == 429
    # The right password of a real account from that address waits too; elsewhere it works.
    assert api_login("patient-user", PASSWORD, remote="203.0.113.50").status_code == 429
    assert api_login("patient-user", PASSWORD, remote="203.0.113.51").status_code == 200


def test_behind_a_trusted_proxy_the_proxy_written_address_counts(settings: Any, patient: Any) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    client = APIClient()

    def attempt(username: str, password: str, client_address: str) -> Any:
        # The client forges a left-hand entry; the proxy (REMOTE_ADDR 10.0.0.2) appends the real one.
        xff = f"{forged_xff()}, {client_address}"
        return client.post(
            TOKEN_URL,
            {"username": username, "password": password},
            format="json",
            REMOTE_ADDR="10.0.0.2",
            HTTP_X_FORWARDED_FOR=xff,
        )

    for n in range(9):
        assert attempt(f"guess{n}", "wrong", "198.18.0.1").status_code == 400
    assert attempt("guess9", "wrong", "198.18.0.1").status_code == 429
    # Behind the same proxy, another client is its own address.
    assert attempt("patient-user", PASSWORD, "198.18.0.2").status_code == 200
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"198.18.0.1"}


def test_cool_off_ends_the_lock(patient: Any) -> None:
    for _ in range(10):
        api_login("patient-user", "wrong")
    assert api_login("patient-user", PASSWORD).status_code == 429
    # Every attempt during the lock restarts the cool-off: shift the last one past it.
    past = AccessAttempt.objects.order_by("-attempt_time").first()
    assert past is not None
    AccessAttempt.objects.update(attempt_time=past.attempt_time - dt.timedelta(minutes=15, seconds=1))
    assert api_login("patient-user", PASSWORD).status_code == 200


def _html_login(client: Client, username: str, password: str, **extra: Any) -> Any:
    return client.post(
        "/login/", {"username": username, "password": password}, HTTP_X_FORWARDED_FOR=forged_xff(), **extra
    )


def test_html_login_locks_with_a_clear_message(patient: Any) -> None:
    client = Client()
    for _ in range(9):
        response = _html_login(client, "patient-user", "wrong")
        assert response.status_code == 200
        assert b"Please try again." in response.content
    locked = _html_login(client, "patient-user", "wrong")
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts. Signing in is locked for 15 minutes" in locked.content.decode()
    again = _html_login(client, "patient-user", PASSWORD)
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session


def test_html_lock_message_in_chinese(patient: Any) -> None:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    for _ in range(10):
        locked = _html_login(client, "patient-user", "wrong")
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.content.decode()
    api = api_login("patient-user", "wrong", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert api["Content-Type"] == "application/json"
    assert api.status_code == 429
    assert "登录失败次数过多" in api.json()["detail"]


def test_failures_on_one_path_count_on_the_other(patient: Any) -> None:
    client = Client()
    for _ in range(5):
        _html_login(client, "patient-user", "wrong")
    for _ in range(4):
        assert api_login("patient-user", "wrong").status_code == 400
    assert api_login("patient-user", "wrong").status_code == 429
    assert _html_login(client, "patient-user", PASSWORD).status_code == 429
    # The admin's sign-in form is guarded the same way.
    assert client.post("/admin/login/", {"username": "patient-user", "password": PASSWORD}).status_code == 429


def test_rate_throttle_counts_the_real_address(monkeypatch: Any, patient: Any) -> None:
    monkeypatch.setattr(AuthRateThrottle, "THROTTLE_RATES", {"auth": "3/min"})
    for _ in range(3):
        assert api_login("patient-user", PASSWORD).status_code == 200
    throttled = api_login("patient-user", PASSWORD)
    assert throttled.status_code == 429
    assert "throttled" in throttled.json()["detail"].lower() or "request was throttled" in throttled.json()["detail"]
    assert api_login("patient-user", PASSWORD, remote="10.9.9.9").status_code == 200


def _lock(username: str) -> None:
    for _ in range(10):
        api_login(username, "wrong", remote="10.2.0.1")
    assert api_login(username, PASSWORD, remote="10.2.0.2").status_code == 429
    AccessAttempt.objects.filter(ip_address="10.2.0.1").exclude(username=username).delete()


def test_manager_unlocks_a_clinic_account_from_the_console(clinic: Any, manager: Any, patient: Any) -> None:
    _lock("patient-user")
    console = Client()
    console.force_login(manager)
    assert 'href="/clinic/lockouts/"' in console.get("/clinic/outcomes/").content.decode()
    page = console.get("/clinic/lockouts/")
    assert page.status_code == 200
    assert "patient-user" in page.content.decode()
    response = console.post(f"/clinic/lockouts/{patient.user.pk}/unlock/", follow=True)
    assert response.status_code == 200
    assert "patient-user can sign in again." in response.content.decode()
    assert "patient-user" not in console.get("/clinic/lockouts/").content.decode()
    event = AuditEvent.objects.get(action="auth.unlock")
    assert event.actor_id == manager.pk
    assert event.object_id == str(patient.user.pk)
    assert event.clinic_id == clinic.pk
    assert api_login("patient-user", PASSWORD, remote="10.2.0.3").status_code == 200


def test_console_unlock_is_for_managers_of_that_clinic_only(
    clinic: Any, therapist: Any, manager: Any, patient: Any
) -> None:
    _lock("patient-user")
    therapist_client = Client()
    therapist_client.force_login(therapist)
    assert therapist_client.get("/clinic/lockouts/").status_code == 404
    assert therapist_client.post(f"/clinic/lockouts/{patient.user.pk}/unlock/").status_code == 404
    elsewhere = Client()
    elsewhere.force_login(make_staff(make_clinic("Elsewhere"), "manager"))
    assert "patient-user" not in elsewhere.get("/clinic/lockouts/").content.decode()
    elsewhere.post(f"/clinic/lockouts/{patient.user.pk}/unlock/")
    assert not AuditEvent.objects.filter(action="auth.unlock").exists()
    assert api_login("patient-user", PASSWORD, remote="10.2.0.4").status_code == 429
    assert elsewhere.get(f"/clinic/lockouts/{patient.user.pk}/unlock/").status_code == 405


def test_admin_unlocks_in_the_axes_admin(db: Any, patient: Any) -> None:
    _lock("patient-user")
    admin = make_user("root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    listing = client.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert "patient-user" in listing.content.decode()
    ids = [str(pk) for pk in AccessAttempt.objects.filter(username="patient-user").values_list("pk", flat=True)]
    response = client.post(
        "/admin/axes/accessattempt/", {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
    )
    assert response.status_code == 302
    assert api_login("patient-user", PASSWORD, remote="10.2.0.5").status_code == 200


@pytest.mark.parametrize(
    ("proxies", "remote", "xff", "recorded"),
    [
        (0, "192.0.2.10", "6.6.6.6", "192.0.2.10"),
        (1, "10.0.0.2", "6.6.6.6, 192.0.2.11", "192.0.2.11"),
        (1, "10.0.0.2", "garbage", "10.0.0.2"),
    ],
)
def test_audit_log_records_the_same_address(
    settings: Any, patient: Any, therapist_client: APIClient, proxies: int, remote: str, xff: str, recorded: str
) -> None:
    settings.TRUSTED_PROXY_COUNT = proxies
    response = therapist_client.get(f"/api/v1/patients/{patient.pk}/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=xff)
    assert response.status_code == 200
    assert AuditEvent.objects.filter(patient_id=patient.pk).latest("at").ip == recorded


def test_console_page_in_chinese(clinic: Any, manager: Any, patient: Any) -> None:
    _lock("patient-user")
    console = Client()
    console.force_login(manager)
    console.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = console.get("/clinic/lockouts/").content.decode()
    assert "已锁定的账户" in page
    assert "解锁" in page
