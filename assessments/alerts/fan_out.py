"""Alerts reach the care team: fan-out when raised, escalation when nobody acknowledges.

Safety alerts reach the care team at once (:func:`alert_fan_out`: in-app notification in
the fan-out transaction, e-mail / push reminder rows claimed and enqueued on commit) and
are escalated to the clinic's managers when nobody acknowledges them in time
(:func:`alerts_escalate`). Both are safe to run twice: ``notified_at`` and ``escalated_at``
are set once, and the reminder rows carry unique dedupe keys.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from assessments.alerts.outbox import Enqueue, language_of, reminders_claim
from assessments.alerts.text import ALERT_KIND_LABELS
from assessments.models import SAFETY_KINDS, Alert, Channel, Notification, PushSubscription, Reminder, ReminderStatus
from patients.models import CareTeamMember, Membership, Patient, Role

logger = logging.getLogger(__name__)

ALERT_MESSAGE_TTL = dt.timedelta(hours=24)
#: An alert not fanned out this long after it was raised (its task was lost) is caught up.
FAN_OUT_GRACE = dt.timedelta(minutes=1)


def _staff_reminders(
    alert: Alert, user_ids: Sequence[int], *, kind: str, channels: Sequence[str], now: dt.datetime
) -> list[Reminder]:
    """One reminder per (user, channel) the user can be reached on."""
    with_email = set(get_user_model().objects.filter(pk__in=user_ids).exclude(email="").values_list("pk", flat=True))
    with_push = set(PushSubscription.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True))
    reachable: dict[str, set[int]] = {Channel.EMAIL: with_email, Channel.PUSH: with_push, Channel.IN_APP: set(user_ids)}
    return [
        Reminder(
            kind=kind,
            patient_id=alert.patient_id,
            alert=alert,
            recipient_id=user_id,
            channel=channel,
            send_at=now,
            expires_at=now + ALERT_MESSAGE_TTL,
            dedupe_key=f"{kind}:{alert.pk}:{user_id}:{channel}",
        )
        for user_id in user_ids
        for channel in channels
        if user_id in reachable[channel]
    ]


def _managers(clinic_id: int) -> list[int]:
    for role in (Role.MANAGER, Role.ADMIN):
        ids = list(
            Membership.objects.filter(clinic_id=clinic_id, role=role, user__is_active=True)
            .order_by("user_id")
            .values_list("user_id", flat=True)
        )
        if ids:
            return ids
    return []


def alert_fan_out(alert_id: int, *, now: dt.datetime | None = None, enqueue: Enqueue) -> int:
    """Tell every care-team member about a new alert; returns how many were told.

    In-app notifications are written in this transaction (the console shows them as soon
    as it commits); for safety alerts, e-mail and push reminders are created already due,
    claimed and enqueued on commit, so they go out within seconds, not at the next
    dispatcher tick. ``notified_at`` makes a second run a no-op.
    """
    now = now or timezone.now()
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(pk=alert_id).first()
        if alert is None:
            logger.warning("alert %s vanished before delivery", alert_id)
            return 0
        if alert.notified_at is not None:
            return 0
        patient = Patient.objects.select_related("clinic").get(pk=alert.patient_id)
        members = list(
            CareTeamMember.objects.filter(patient_id=patient.pk, user__is_active=True)
            .order_by("-is_primary", "user_id")
            .values_list("user_id", flat=True)
        )
        if not members:
            members = _managers(patient.clinic_id)
            logger.error("alert %s: patient %s has no care team; telling the clinic's managers", alert_id, patient.pk)
        language = language_of(patient)
        kind_en, kind_zh = ALERT_KIND_LABELS.get(alert.kind, (alert.kind, alert.kind))
        title = f"{kind_zh if language == 'zh-hans' else kind_en}: {patient.display_name}"
        Notification.objects.bulk_create(
            [
                Notification(
                    user_id=user_id,
                    patient=patient,
                    title=title[:200],
                    body=alert.message,
                    url=f"/clinic/patients/{patient.pk}/",
                    created_at=now,
                )
                for user_id in members
            ]
        )
        if alert.kind in SAFETY_KINDS:
            Reminder.objects.bulk_create(
                _staff_reminders(
                    alert, members, kind=Reminder.Kind.ALERT, channels=(Channel.EMAIL, Channel.PUSH), now=now
                ),
                ignore_conflicts=True,
            )
            reminders_claim(
                Q(alert_id=alert.pk, kind=Reminder.Kind.ALERT, status=ReminderStatus.PENDING),
                now=now,
                limit=1000,
                enqueue=enqueue,
            )
        alert.notified_at = now
        alert.save(update_fields=["notified_at"])
    return len(members)


@dataclass
class EscalateResult:
    escalated: int = 0
    caught_up: int = 0


def alerts_escalate(*, now: dt.datetime | None = None, enqueue: Enqueue) -> EscalateResult:
    """Safety alerts nobody acknowledged within SAFETY_ALERT_ESCALATE_MINUTES go to the
    clinic's managers (in-app, e-mail, push), once: ``escalated_at`` is set by a
    conditional update. Also fans out alerts whose notify task was lost."""
    now = now or timezone.now()
    result = EscalateResult()
    lost = Alert.objects.filter(notified_at__isnull=True, created_at__lte=now - FAN_OUT_GRACE).values_list(
        "id", flat=True
    )[:200]
    for alert_id in list(lost):
        logger.warning("alert %s was not fanned out in time; doing it now", alert_id)
        alert_fan_out(alert_id, now=now, enqueue=enqueue)
        result.caught_up += 1
    cutoff = now - dt.timedelta(minutes=settings.SAFETY_ALERT_ESCALATE_MINUTES)
    overdue = Alert.objects.filter(
        kind__in=SAFETY_KINDS, acknowledged_at__isnull=True, escalated_at__isnull=True, created_at__lte=cutoff
    )
    for alert_id in list(overdue.order_by("created_at").values_list("id", flat=True)[:200]):
        with transaction.atomic():
            if not Alert.objects.filter(pk=alert_id, acknowledged_at__isnull=True, escalated_at__isnull=True).update(
                escalated_at=now
            ):
                continue  # acknowledged meanwhile, or another run escalated it
            alert = Alert.objects.select_related("patient").get(pk=alert_id)
            managers = _managers(alert.patient.clinic_id)
            if not managers:
                logger.error(
                    "alert %s: clinic %s has no manager or admin to escalate to", alert_id, alert.patient.clinic_id
                )
            Reminder.objects.bulk_create(
                _staff_reminders(
                    alert,
                    managers,
                    kind=Reminder.Kind.ESCALATION,
                    channels=(Channel.IN_APP, Channel.EMAIL, Channel.PUSH),
                    now=now,
                ),
                ignore_conflicts=True,
            )
            reminders_claim(
                Q(alert_id=alert_id, kind=Reminder.Kind.ESCALATION, status=ReminderStatus.PENDING),
                now=now,
                limit=1000,
                enqueue=enqueue,
            )
            result.escalated += 1
    return result
