"""Reads for sign-in: a user's devices, the accounts locked out by password guessing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Max, Q, QuerySet, Sum
from django.utils import timezone

from accounts.models import DeviceToken, password_fingerprint


def tokens_of(user: Any) -> QuerySet[DeviceToken]:
    """The user's usable tokens, newest first: not expired, issued under the current password."""
    return DeviceToken.objects.filter(
        user_id=user.pk, expiry__gt=timezone.now(), password_fingerprint=password_fingerprint(user)
    ).order_by("-created")


@dataclass(frozen=True)
class LockedAccount:
    user_id: int
    username: str
    failures: int
    last_attempt: datetime
    locked_until: datetime


def locked_accounts(clinic_ids: list[int]) -> list[LockedAccount]:
    """Users of these clinics (staff or patients) whose username is locked right now."""
    if not clinic_ids:
        return []
    cool_off = settings.AXES_COOLOFF_TIME
    rows = {
        row["username"]: row
        for row in AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - cool_off, username__isnull=False)
        .values("username")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
    }
    if not rows:
        return []
    users = (
        get_user_model()
        .objects.filter(username__in=list(rows))
        .filter(Q(memberships__clinic_id__in=clinic_ids) | Q(patient__clinic_id__in=clinic_ids))
        .distinct()
        .order_by("username")
        .values_list("pk", "username")
    )
    return [
        LockedAccount(
            user_id=pk,
            username=username,
            failures=rows[username]["failures"],
            last_attempt=rows[username]["last"],
            locked_until=rows[username]["last"] + cool_off,
        )
        for pk, username in users
    ]
