"""Reminder and alert delivery services (claimed, ledgered, safe to run twice)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from assessments.models import Alert, Notification
from patients.models import CareTeamMember

logger = logging.getLogger(__name__)


@transaction.atomic
def alert_fan_out(alert_id: int) -> int:
    """Tell every care-team member about an alert in the console inbox; returns how many."""
    alert = Alert.objects.select_for_update().select_related("patient").filter(pk=alert_id).first()
    if alert is None:
        logger.warning("alert %s vanished before delivery", alert_id)
        return 0
    if alert.notified_at is not None:
        return 0
    members = list(CareTeamMember.objects.filter(patient_id=alert.patient_id).values_list("user_id", flat=True))
    Notification.objects.bulk_create(
        [
            Notification(user_id=user_id, patient=alert.patient, title=alert.get_kind_display(), body=alert.message, url=f"/clinic/patients/{alert.patient_id}/")
            for user_id in members
        ]
    )
    alert.notified_at = timezone.now()
    alert.save(update_fields=["notified_at"])
    return len(members)
