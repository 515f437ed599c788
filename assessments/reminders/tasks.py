"""Celery tasks of the reminders room: closing missed windows and planning due items."""

from __future__ import annotations

import logging
from typing import Any

from assessments.reminders import due, protocols
from config.celery import task, task_now

logger = logging.getLogger(__name__)

PLAN_CHUNK = 200


@task(name="assessments.due_items_close")
def due_items_close(now: str | None = None) -> None:
    """Every 5 minutes: closed windows become missed; 3 missed diaries alert the team."""
    result = due.due_items_close(now=task_now(now))
    if result.missed:
        logger.info("due items: %s", result)


@task(name="assessments.due_items_plan")
def due_items_plan(now: str | None = None) -> None:
    """Hourly: fan the planning of the next 48 h out over workers, in chunks of patients."""
    when = task_now(now)
    patient_ids = protocols.patients_to_plan(when)
    for start in range(0, len(patient_ids), PLAN_CHUNK):
        plan_batch: Any = due_items_plan_batch
        plan_batch.delay(patient_ids[start : start + PLAN_CHUNK], when.isoformat())


@task(name="assessments.due_items_plan_batch", idempotent=True)
def due_items_plan_batch(patient_ids: list[int], now: str | None = None) -> None:
    """Plan a chunk of patients; one patient's bad data does not stop the others."""
    when = task_now(now)
    for patient_id in patient_ids:
        try:
            protocols.due_items_plan(patient_id, when)
        except Exception:
            logger.exception("planning due items failed for patient %s", patient_id)
