"""Due items meet assessments: completing, missing and escalating due questionnaires.

- :func:`due_item_complete_for` runs inside ``assessment_record``'s transaction: an entry
  completes the item it answers, and that item's pending reminders are skipped at once, so
  a patient who answers early (same local day) gets no reminder. The sender re-checks the
  item's status as well, for reminders already claimed when the entry arrived.
- :func:`due_items_close` marks items whose window has closed as missed, and raises one
  ``missed_logs`` alert per run of 3 consecutive missed daily diaries.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Q

from assessments.alerts import text as alert_text
from assessments.alerts.services import alert_raise
from assessments.models import (
    AlertKind,
    Assessment,
    DueItem,
    DueStatus,
    PatientProtocol,
    Reminder,
    ReminderStatus,
    Severity,
)
from assessments.reminders.schedules import consecutive_misses
from patients.models import Patient

logger = logging.getLogger(__name__)

#: Consecutive missed daily diaries that make the care team look (one alert per run).
MISSED_RUN_ALERT = 3
CLOSE_BATCH = 1000


def _skip_pending_reminders(due_item_ids: Iterable[int], reason: str) -> int:
    """Pending reminders of items that no longer need one: skipped, never sent."""
    return Reminder.objects.filter(due_item_id__in=list(due_item_ids), status=ReminderStatus.PENDING).update(
        status=ReminderStatus.SKIPPED, last_error=reason[:200]
    )


def due_item_complete_for(assessment: Assessment) -> int:
    """Mark the due item this entry answers as completed; returns how many (0 or 1).

    The item answered is, in order of preference:

    1. the pending item of the same instrument on the entry's local day (patient's time
       zone) whose window has not closed: answering ahead of time completes it, so the
       patient gets no reminder for it;
    2. otherwise the latest pending or missed item whose window ``[due_at, closes_at)``
       contains ``recorded_at``: a diary entry made on time but synced late (offline)
       still counts, and turns a "missed" back into "completed".
    """
    recorded_at = assessment.recorded_at
    local_date = recorded_at.astimezone(ZoneInfo(assessment.patient.time_zone)).date()
    # One plain query for both kinds of candidate (items are planned at most 48 h ahead, so
    # few rows); which kind each is, and the preference, are decided here. Every entry runs
    # this and most find nothing, so the query is kept cheap to build.
    candidates = list(
        DueItem.objects.filter(
            patient_id=assessment.patient_id,
            instrument=assessment.instrument,
            status__in=(DueStatus.PENDING, DueStatus.MISSED),
            closes_at__gt=recorded_at,
        ).values_list("id", "status", "local_date", "due_at")
    )
    same_day = sorted(
        (due_at, pk) for pk, status, day, due_at in candidates if status == DueStatus.PENDING and day == local_date
    )
    covering = sorted(((due_at, pk) for pk, _status, _day, due_at in candidates if due_at <= recorded_at), reverse=True)
    item_id = same_day[0][1] if same_day else (covering[0][1] if covering else None)
    if item_id is None:
        return 0
    done = DueItem.objects.filter(pk=item_id, status__in=(DueStatus.PENDING, DueStatus.MISSED)).update(
        status=DueStatus.COMPLETED, completed_by=assessment
    )
    if done:
        _skip_pending_reminders([item_id], "completed")
    return done


def due_items_match_recorded(items: Sequence[DueItem], tz: str) -> list[int]:
    """Complete freshly planned items that an entry recorded earlier already answers.

    Covers a protocol applied (or re-planned) after the patient logged today: same rule
    as :func:`due_item_complete_for`, each entry completing at most one item. Returns the
    ids of the items completed.
    """
    pending = [item for item in items if item.status == DueStatus.PENDING]
    if not pending:
        return []
    zone = ZoneInfo(tz)
    patient_id = pending[0].patient_id
    earliest = min(item.due_at for item in pending) - dt.timedelta(days=1)
    latest = max(item.closes_at for item in pending)
    used = DueItem.objects.filter(patient_id=patient_id, completed_by__isnull=False).values("completed_by")
    entries = list(
        Assessment.objects.filter(
            patient_id=patient_id,
            instrument__in={item.instrument for item in pending},
            recorded_at__gte=earliest,
            recorded_at__lt=latest,
        )
        .exclude(pk__in=used)
        .order_by("recorded_at")
        .values_list("pk", "instrument", "recorded_at")
    )
    completed: list[int] = []
    taken: set[int] = set()
    for item in sorted(pending, key=lambda i: i.due_at):
        for pk, instrument, recorded_at in entries:
            if pk in taken or instrument != item.instrument or recorded_at >= item.closes_at:
                continue
            same_day = recorded_at.astimezone(zone).date() == item.local_date
            if same_day or recorded_at >= item.due_at:
                if DueItem.objects.filter(pk=item.pk, status=DueStatus.PENDING).update(
                    status=DueStatus.COMPLETED, completed_by_id=pk
                ):
                    item.status = DueStatus.COMPLETED
                    completed.append(item.pk)
                taken.add(pk)
                break
    if completed:
        _skip_pending_reminders(completed, "completed")
    return completed


@dataclass(frozen=True)
class CloseResult:
    missed: int = 0
    alerts: int = 0


def _close_batch(now: dt.datetime, limit: int) -> list[tuple[int, int]]:
    with transaction.atomic():
        qs = DueItem.objects.filter(status=DueStatus.PENDING, closes_at__lte=now).order_by("closes_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        rows = list(qs.values_list("id", "patient_id")[:limit])
        if not rows:
            return []
        ids = [pk for pk, _patient in rows]
        DueItem.objects.filter(pk__in=ids, status=DueStatus.PENDING).update(status=DueStatus.MISSED)
        Reminder.objects.filter(due_item_id__in=ids, status=ReminderStatus.PENDING).update(
            status=ReminderStatus.EXPIRED
        )
    return rows


def due_items_close(*, now: dt.datetime, batch_size: int = CLOSE_BATCH) -> CloseResult:
    """Windows that closed unanswered → missed; then look for runs of missed diaries."""
    missed = 0
    patients: set[int] = set()
    while rows := _close_batch(now, batch_size):
        missed += len(rows)
        patients.update(patient_id for _pk, patient_id in rows)
    alerts = sum(missed_logs_check(patient_id, now=now) for patient_id in sorted(patients))
    return CloseResult(missed=missed, alerts=alerts)


def _daily_instruments(patient_id: int) -> list[str]:
    items = PatientProtocol.objects.filter(patient_id=patient_id).values_list("items", flat=True).first() or []
    return [item["instrument"] for item in items if isinstance(item, dict) and item.get("every_days") == 1]


def missed_logs_check(patient_id: int, *, now: dt.datetime) -> int:
    """Raise a ``missed_logs`` alert when the daily diary was missed 3 times in a row.

    The run of misses is the one after the last completed diary; its first missed item
    names the alert's dedupe key, so one run raises one alert however long it grows, and
    a new run (after an entry) may raise a new one. Returns alerts raised (0 or more).
    """

    raised = 0
    for instrument in _daily_instruments(patient_id):
        items = DueItem.objects.filter(patient_id=patient_id, instrument=instrument, due_at__lte=now).exclude(
            status=DueStatus.CANCELLED
        )
        last_done = (
            items.filter(status=DueStatus.COMPLETED).order_by("-due_at").values_list("due_at", flat=True).first()
        )
        run = items.filter(due_at__gt=last_done) if last_done is not None else items
        rows = list(run.order_by("due_at", "id").values_list("id", "status", "local_date"))
        misses = consecutive_misses([status for _pk, status, _day in rows])
        if misses < MISSED_RUN_ALERT:
            continue
        first_id, _status, first_day = next(row for row in rows if row[1] == DueStatus.MISSED)
        patient = Patient.objects.get(pk=patient_id)
        _alert, created = alert_raise(
            patient=patient,
            kind=AlertKind.MISSED_LOGS,
            severity=Severity.WARNING,
            message_code=alert_text.MISSED_LOGS,
            message_args={"misses": misses, "instrument": instrument, "since": first_day.isoformat()},
            dedupe_key=f"missed_logs:{patient_id}:{instrument}:{first_id}",
            source_type="due_item",
            source_id=first_id,
        )
        raised += int(created)
    return raised


def due_items_cancel(item_ids: Sequence[int]) -> int:
    """Cancel pending items (protocol changed); their unsent reminders are dropped."""
    if not item_ids:
        return 0
    cancelled = DueItem.objects.filter(pk__in=list(item_ids), status=DueStatus.PENDING).update(
        status=DueStatus.CANCELLED
    )
    # Deleted rather than skipped: a slot revived later gets fresh reminders (dedupe keys).
    Reminder.objects.filter(due_item_id__in=list(item_ids), status=ReminderStatus.PENDING).delete()
    return cancelled


def open_or_today(patient_id: int, *, today: dt.date, now: dt.datetime) -> Q:
    """Filter for the patient app's "due today" list: today's items and any still open."""
    return Q(patient_id=patient_id) & (
        Q(local_date=today) | Q(status=DueStatus.PENDING, due_at__lte=now, closes_at__gt=now)
    )
