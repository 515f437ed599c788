"""Celery tasks of the assessments app: thin wrappers that take ids and call services.

Periodic tasks (the beat schedule is in config/celery.py) accept an optional ISO 8601
``now`` so that an operator can replay a run for a given instant; beat sends none.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.utils import timezone

from assessments import due, protocols, reminders
from assessments.channels import TransientChannelError
from assessments.outcomes import worsening
from config.celery import task

logger = logging.getLogger(__name__)

PLAN_CHUNK = 200
SEND_MAX_RETRIES = 5


def _now(value: str | None) -> dt.datetime:
    if not value:
        return timezone.now()
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"now must carry a UTC offset: {value!r}")
    return parsed


@task(name="assessments.alert_notify", idempotent=True)
def alert_notify(alert_id: int) -> None:
    """Tell the care team about a new alert (safe to run twice: ``notified_at``)."""
    reminders.alert_fan_out(alert_id)


@task(name="assessments.reminders_dispatch")
def reminders_dispatch(now: str | None = None) -> None:
    """Every minute: claim due reminders and enqueue one send task per claimed row."""
    result = reminders.reminders_dispatch(now=_now(now))
    if result.claimed or result.requeued or result.expired:
        logger.info("reminders: %s", result)


@task(
    name="assessments.reminder_send",
    idempotent=True,
    bind=True,
    autoretry_for=(TransientChannelError,),
    retry_backoff=30,
    retry_backoff_max=300,  # below the 10 min after which a "sending" row counts as lost
    retry_jitter=True,
    max_retries=SEND_MAX_RETRIES,
)
def reminder_send(self: Any, reminder_id: int) -> None:
    """Send one claimed reminder; only transient channel errors are retried."""
    final = self.request.retries >= SEND_MAX_RETRIES
    outcome = reminders.reminder_deliver(reminder_id, final_attempt=final)
    if outcome is reminders.Outcome.RETRY:
        raise TransientChannelError(f"reminder {reminder_id}: transient failure, will retry")


@task(name="assessments.due_items_close")
def due_items_close(now: str | None = None) -> None:
    """Every 5 minutes: closed windows become missed; 3 missed diaries alert the team."""
    result = due.due_items_close(now=_now(now))
    if result.missed:
        logger.info("due items: %s", result)


@task(name="assessments.alerts_escalate")
def alerts_escalate(now: str | None = None) -> None:
    """Every minute: unacknowledged safety alerts go to the clinic's managers."""
    result = reminders.alerts_escalate(now=_now(now))
    if result.escalated or result.caught_up:
        logger.warning("alerts: %s", result)


@task(name="assessments.due_items_plan")
def due_items_plan(now: str | None = None) -> None:
    """Hourly: fan the planning of the next 48 h out over workers, in chunks of patients."""
    when = _now(now)
    patient_ids = protocols.patients_to_plan(when)
    for start in range(0, len(patient_ids), PLAN_CHUNK):
        plan_batch: Any = due_items_plan_batch
        plan_batch.delay(patient_ids[start : start + PLAN_CHUNK], when.isoformat())


@task(name="assessments.due_items_plan_batch", idempotent=True)
def due_items_plan_batch(patient_ids: list[int], now: str | None = None) -> None:
    """Plan a chunk of patients; one patient's bad data does not stop the others."""
    when = _now(now)
    for patient_id in patient_ids:
        try:
            protocols.due_items_plan(patient_id, when)
        except Exception:
            logger.exception("planning due items failed for patient %s", patient_id)


@task(name="assessments.worsening_evaluate_all")
def worsening_evaluate_all(now: str | None = None) -> None:
    """Hourly: fan the worsening-pain evaluation out over workers, in chunks of patients
    (those who logged in the last week or have an open episode)."""
    when = _now(now)
    patient_ids = worsening.patients_to_evaluate(when)
    for start in range(0, len(patient_ids), PLAN_CHUNK):
        batch: Any = worsening_evaluate_batch
        batch.delay(patient_ids[start : start + PLAN_CHUNK], when.isoformat())


@task(name="assessments.worsening_evaluate_batch", idempotent=True)
def worsening_evaluate_batch(patient_ids: list[int], now: str | None = None) -> None:
    """Evaluate a chunk of patients (safe twice: one open episode per patient, one alert
    per episode)."""
    result = worsening.worsening_evaluate(patient_ids, now=_now(now))
    if result.started or result.ended:
        logger.info("worsening pain: %s", result)
