"""The audit trail: who did what to which patient's data, from where.

Every read of a patient's record and every write leaves an :class:`~patients.models.AuditEvent`
(the table is append-only). :class:`Actor` is what an event is made of; services take one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from config.client_ip import client_ip
from patients.models import AuditEvent, Patient

if TYPE_CHECKING:
    from django.http import HttpRequest


@dataclass(frozen=True)
class Actor:
    """Who is acting and from where; what audit events are made of."""

    user: Any
    ip: str | None = None
    user_agent: str = ""
    method: str = ""
    path: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def user_id(self) -> int | None:
        return self.user.pk if self.user is not None and self.user.is_authenticated else None

    @classmethod
    def from_request(cls, request: HttpRequest) -> Actor:
        return cls(
            user=request.user,
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
            method=request.method or "",
            path=request.get_full_path()[:500],
        )

    @classmethod
    def system(cls, what: str) -> Actor:
        """An actor for Celery tasks and management commands (no request, no user)."""
        return cls(user=None, path=what[:500])


def audit_event_record(
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | int = "",
    patient: Patient | None = None,
    patient_id: int | None = None,
    clinic_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event. Called by the access helper on every patient fetch and by
    services on every write; never raises for a missing user (system actors)."""
    user = actor.user if actor.user is not None and actor.user.is_authenticated else None
    if patient is not None:
        patient_id = patient.pk
        clinic_id = patient.clinic_id
    return AuditEvent.objects.create(
        actor_id=user.pk if user else None,
        actor_username=user.get_username() if user else "",
        action=action[:40],
        object_type=object_type[:60],
        object_id=str(object_id if object_id != "" else (patient_id or ""))[:64],
        patient_id=patient_id,
        clinic_id=clinic_id,
        method=actor.method,
        path=actor.path,
        ip=actor.ip,
        user_agent=actor.user_agent,
        detail={**actor.extra, **(detail or {})},
    )


def jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def audit_list_record(
    *, actor: Actor, object_type: str, patient_ids: Iterable[int], detail: dict[str, Any] | None = None
) -> None:
    """One event for a list read: which patients' rows were shown."""
    ids = list(patient_ids)
    audit_event_record(
        actor=actor,
        action="list",
        object_type=object_type,
        detail={"patient_ids": ids[:500], "count": len(ids), **(detail or {})},
    )
