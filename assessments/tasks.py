"""Celery tasks of the assessments app: thin wrappers that take ids and call services."""

from __future__ import annotations

import logging

from config.celery import task

logger = logging.getLogger(__name__)


@task(name="assessments.alert_notify", idempotent=True)
def alert_notify(alert_id: int) -> None:
    """Queue the care team's messages for a new alert (safe to run twice)."""
    from assessments.reminders import alert_fan_out

    alert_fan_out(alert_id)
