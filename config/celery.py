"""The Celery app and the one beat schedule of the project."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from celery import Celery, Task
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("rehab")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # Every minute: claim due reminders and hand each to a send task.
    "dispatch-due-reminders": {
        "task": "assessments.reminders_dispatch",
        "schedule": crontab(minute="*"),
        "options": {"expires": 55},  # a run that waited a minute is superseded by the next
    },
    # Every 5 minutes: close expired windows (missed), escalate 3 consecutive misses.
    "close-missed-windows": {
        "task": "assessments.due_items_close",
        "schedule": crontab(minute="*/5"),
    },
    # Every minute: escalate safety alerts nobody acknowledged in time.
    "escalate-unacknowledged-alerts": {
        "task": "assessments.alerts_escalate",
        "schedule": crontab(minute="*"),
        "options": {"expires": 55},
    },
    # Hourly: materialise the next 48 h of due items for every active patient.
    "plan-due-items": {
        "task": "assessments.due_items_plan",
        "schedule": crontab(minute=7),
    },
    # Hourly: re-evaluate worsening pain, so a 7-day window that slides past old entries
    # (a patient who stopped logging, or low days leaving it) starts or ends an episode.
    "evaluate-worsening-pain": {
        "task": "assessments.worsening_evaluate_all",
        "schedule": crontab(minute=23),
    },
}

P = ParamSpec("P")
R = TypeVar("R")


def task(*, name: str, idempotent: bool = False, **options: Any) -> Callable[[Callable[P, R]], Task[P, R]]:
    """The project's one task decorator: explicit name, JSON, no results, time limits.

    ``idempotent=True`` turns on acks_late + reject_on_worker_lost, which re-delivers a task
    whose worker died mid-run; only tasks that are safe twice (claim-then-ledger) may ask.
    """
    defaults: dict[str, Any] = {
        "name": name,
        "serializer": "json",
        "ignore_result": True,
        "soft_time_limit": 60,
        "time_limit": 90,
        "acks_late": idempotent,
        "reject_on_worker_lost": idempotent,
    }
    defaults.update(options)
    return app.task(**defaults)  # type: ignore[no-any-return]


def task_now(value: str | None) -> dt.datetime:
    """The instant a periodic task runs for: ``now`` as beat sends it (none), or an
    operator's ISO 8601 replay instant, which must carry a UTC offset."""
    from django.utils import timezone

    if not value:
        return timezone.now()
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"now must carry a UTC offset: {value!r}")
    return parsed
