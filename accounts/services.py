"""Writes for sign-in: issuing and revoking API tokens, lifting a lockout. Each is audited."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from axes.utils import reset as axes_reset
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import DeviceToken, password_fingerprint
from patients.access import own_patient_id, staff_roles
from patients.audit import Actor, audit_event_record


def token_lifetime(user: Any) -> timedelta:
    """Patients' phones keep a token for ``AUTH_TOKEN_PATIENT_DAYS``; anyone with clinic
    roles (whose token opens many patients' records) or admin rights, or with no role at all,
    for ``AUTH_TOKEN_STAFF_HOURS``."""
    if user.is_staff or user.is_superuser or staff_roles(user) or own_patient_id(user) is None:
        return timedelta(hours=settings.AUTH_TOKEN_STAFF_HOURS)
    return timedelta(days=settings.AUTH_TOKEN_PATIENT_DAYS)


def _as_user(actor: Actor, user: Any) -> Actor:
    """At sign-in the request is anonymous (or carries someone else's session): the audit
    names the user signing in."""
    return dataclasses.replace(actor, user=user)


@transaction.atomic
def token_issue(*, actor: Actor, user: Any, device: str = "") -> tuple[DeviceToken, str]:
    """A new token for a new sign-in; returns the row and the key, which is never stored.

    Expired tokens of the user and those issued under an earlier password are deleted, and
    the oldest live ones beyond ``AUTH_TOKEN_MAX_PER_USER`` make room for this one.
    """
    now = timezone.now()
    fingerprint = password_fingerprint(user)
    mine = DeviceToken.objects.filter(user_id=user.pk)
    mine.filter(Q(expiry__lte=now) | ~Q(password_fingerprint=fingerprint)).delete()
    keep = settings.AUTH_TOKEN_MAX_PER_USER - 1
    surplus = list(mine.order_by("-created").values_list("digest", flat=True)[keep:])
    if surplus:
        DeviceToken.objects.filter(digest__in=surplus).delete()
    label = (device.strip() or actor.user_agent)[:120]
    token, key = DeviceToken.objects.issue(
        user=user, lifetime=token_lifetime(user), device=label, ip=actor.ip, password_fingerprint=fingerprint
    )
    audit_event_record(
        actor=_as_user(actor, user),
        action="auth.token_issue",
        object_type="auth_token",
        object_id=str(token.public_id),
        detail={
            "device": label,
            "expiry": token.expiry.isoformat(),
            "replaced": len(surplus),
        },
    )
    return token, key


@transaction.atomic
def token_revoke(*, actor: Actor, token: DeviceToken) -> None:
    public_id = str(token.public_id)
    token.delete()
    audit_event_record(actor=actor, action="auth.token_revoke", object_type="auth_token", object_id=public_id)


@transaction.atomic
def lockout_reset(*, actor: Actor, user: Any, clinic_id: int | None = None) -> int:
    """Lift a password-guessing lockout of one username (all its recorded failures, from any
    address); returns how many attempt records were removed."""
    removed = axes_reset(username=user.get_username())
    audit_event_record(
        actor=actor,
        action="auth.unlock",
        object_type="user",
        object_id=user.pk,
        clinic_id=clinic_id,
        detail={"username": user.get_username(), "attempts_removed": removed},
    )
    return int(removed)
