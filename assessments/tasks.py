"""Celery entry point of the assessments app (found by ``autodiscover_tasks``).

Each room defines its own tasks (``alerts/tasks.py``, ``reminders/tasks.py``); importing
them here registers them with the worker. The outcome tasks below take ids and call services.
"""

from __future__ import annotations

import logging
from typing import Any

from assessments.alerts.tasks import (
    alert_notify,
    alerts_escalate,
    reminder_send,
    reminders_dispatch,
    reminders_send,
)
from assessments.outcomes import worsening
from assessments.reminders.tasks import PLAN_CHUNK, due_items_close, due_items_plan, due_items_plan_batch
from config.celery import task, task_now

__all__ = [
    "alert_notify",
    "alerts_escalate",
    "due_items_close",
    "due_items_plan",
    "due_items_plan_batch",
    "reminder_send",
    "reminders_dispatch",
    "reminders_send",
]

logger = logging.getLogger(__name__)


@task(name="assessments.worsening_evaluate_all")
def worsening_evaluate_all(now: str | None = None) -> None:
    """Hourly: fan the worsening-pain evaluation out over workers, in chunks of patients
    (those who logged in the last week or have an open episode)."""
    when = task_now(now)
    patient_ids = worsening.patients_to_evaluate(when)
    for start in range(0, len(patient_ids), PLAN_CHUNK):
        batch: Any = worsening_evaluate_batch
        batch.delay(patient_ids[start : start + PLAN_CHUNK], when.isoformat())


@task(name="assessments.worsening_evaluate_batch", idempotent=True)
def worsening_evaluate_batch(patient_ids: list[int], now: str | None = None) -> None:
    """Evaluate a chunk of patients (safe twice: one open episode per patient, one alert
    per episode)."""
    result = worsening.worsening_evaluate(patient_ids, now=task_now(now))
    if result.started or result.ended:
        logger.info("worsening pain: %s", result)
