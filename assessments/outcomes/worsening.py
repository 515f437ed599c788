"""Pain against the baseline, and the worsening-pain alert.

Reads: :func:`pain_statuses` gives each patient's baseline week and current 7-day window
(``assessments.outcomes.windows``, the one definition) in a fixed number of queries, for the
worklist, the patient page and the alert.

Writes: :func:`worsening_evaluate` applies the rule and keeps one open
``WorseningEpisode`` per patient at most (a partial unique index): the episode's start
raises one WORSENING_PAIN alert (severity warning; delivered like every alert, in-app to
the care team, and never escalated: only safety kinds are), its end is recorded when the
mean falls back below the threshold. It runs when an NRS entry is recorded (same
transaction, :func:`worsening_after_record`) and periodically over every patient who logged
in the last week or has an open episode (``assessments.worsening_evaluate_all``), so the
window sliding past old entries is seen without a new entry. Running it twice changes
nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from assessments.alerts import text as alert_text
from assessments.alerts.services import alert_raise
from assessments.models import AlertKind, Assessment, Severity, WorseningEpisode
from assessments.outcomes.day0 import DayZeroInputs, day0_inputs, day0_subqueries, nrs_q
from assessments.outcomes.windows import (
    WINDOW_DAYS,
    WORSENING_POINTS,
    Episode,
    PainStatus,
    baseline_window,
    current_window,
    day0_from,
    episode_step,
    pain_status,
)
from patients.models import Patient

logger = logging.getLogger(__name__)
_ONE_US = dt.timedelta(microseconds=1)

__all__ = [
    "DayZeroInputs",
    "EvaluateResult",
    "pain_statuses",
    "pain_statuses_of",
    "patients_to_evaluate",
    "worsening_after_record",
    "worsening_evaluate",
]


def _day0_rows(patient_ids: Iterable[int]) -> QuerySet[Patient, Any]:
    """The patients with their day-0 inputs and their open episode's id, as values."""
    plan_start, first_nrs_at = day0_subqueries()
    open_episode = WorseningEpisode.objects.filter(patient_id=OuterRef("pk"), ended_at__isnull=True).values("pk")[:1]
    return (
        Patient.objects.filter(pk__in=list(patient_ids))
        .annotate(plan_start=plan_start, first_nrs_at=first_nrs_at, open_episode_id=Subquery(open_episode))
        .order_by("pk")
        .values("pk", "time_zone", "plan_start", "first_nrs_at", "open_episode_id")
    )


def _inputs(row: dict[str, Any]) -> DayZeroInputs:
    return DayZeroInputs(row["pk"], row["time_zone"], row["plan_start"], row["first_nrs_at"])


def pain_statuses_of(inputs: Sequence[DayZeroInputs], *, now: dt.datetime) -> dict[int, PainStatus]:
    """Baseline and current window per patient, from their day-0 inputs: one query for the
    NRS entries of both windows (none without patients)."""
    if not inputs:
        return {}
    zones: dict[str, ZoneInfo] = {}
    tz_of = {row.patient_id: zones.setdefault(row.time_zone, ZoneInfo(row.time_zone)) for row in inputs}
    day0s = {row.patient_id: day0_from(tz_of[row.patient_id], row.plan_start, row.first_nrs_at) for row in inputs}
    # The current windows of every zone start within hours of each other: one range for all
    # (the pure rules drop what a range holds beyond the patient's own window).
    earliest = min(current_window(now, tz).start for tz in zones.values())
    ranges = [(pk, earliest, now + _ONE_US) for pk in tz_of]
    for pk, day0 in day0s.items():
        if day0 is not None:
            window = baseline_window(day0, tz_of[pk])
            ranges.append((pk, window.start, window.end))
    entries: dict[int, list[tuple[dt.datetime, float]]] = {pk: [] for pk in tz_of}
    for pk, at, total in _nrs_in_ranges(ranges):
        entries[pk].append((at, total))
    return {pk: pain_status(entries[pk], tz=tz_of[pk], day0=day0s[pk], anchor=now) for pk in tz_of}


def _nrs_in_ranges(ranges: Sequence[tuple[int, dt.datetime, dt.datetime]]) -> list[tuple[int, dt.datetime, float]]:
    """NRS entries ``(patient, recorded_at, score)`` with ``start <= recorded_at < end`` for
    any ``(patient, start, end)``, each entry once: one query.

    PostgreSQL joins the ranges as arrays (one index range scan each, planned once);
    elsewhere they are OR-ed filters, each naming patient and instrument so that it is a
    range scan of the series index.
    """
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Assessment._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT DISTINCT a.id, a.patient_id, a.recorded_at, a.total
                FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS w(pid, s, e)
                JOIN {table} a ON a.patient_id = w.pid AND a.instrument = 'nrs' AND a.total IS NOT NULL
                    AND a.recorded_at >= w.s AND a.recorded_at < w.e
                """,  # noqa: S608 - the table name is ours, every value is a parameter
                [[r[0] for r in ranges], [r[1] for r in ranges], [r[2] for r in ranges]],
            )
            return [(pk, at, total) for _id, pk, at, total in cursor.fetchall()]
    arms = [
        Q(patient_id=pk, instrument="nrs", recorded_at__gte=start, recorded_at__lt=end) for pk, start, end in ranges
    ]
    rows: Iterable[tuple[int, int, dt.datetime, float | None]] = (
        Assessment.objects.filter(nrs_q())
        .filter(reduce(or_, arms))
        .order_by()
        .values_list("id", "patient_id", "recorded_at", "total")
        .distinct()
    )
    return [(pk, at, total) for _id, pk, at, total in rows if total is not None]


def pain_statuses(patient_ids: Iterable[int], *, now: dt.datetime | None = None) -> dict[int, PainStatus]:
    """Baseline and current window of these patients at ``now``: two queries."""
    return pain_statuses_of(day0_inputs(patient_ids), now=now or timezone.now())


@dataclass
class EvaluateResult:
    evaluated: int = 0
    started: int = 0
    ended: int = 0


def worsening_evaluate(patient_ids: Iterable[int], *, now: dt.datetime | None = None) -> EvaluateResult:
    """Apply the worsening rule to these patients: start an episode (and raise its alert)
    or end the open one; a run that finds nothing to change writes only the open
    episodes' latest mean."""
    now = now or timezone.now()
    ids = sorted(set(patient_ids))
    result = EvaluateResult()
    if not ids:
        return result
    rows = list(_day0_rows(ids))
    open_episodes = {row["pk"]: row["open_episode_id"] for row in rows if row["open_episode_id"] is not None}
    statuses = pain_statuses_of([_inputs(row) for row in rows], now=now)
    for pk, status in statuses.items():
        result.evaluated += 1
        episode_id = open_episodes.get(pk)
        step = episode_step(status, open_episode=episode_id is not None)
        if step is Episode.START:
            result.started += _episode_start(pk, status, now)
        elif episode_id is not None:
            changes: dict[str, object] = {"last_mean": status.current_mean, "last_evaluated_at": now}
            if step is Episode.END:
                changes["ended_at"] = now
            # Conditional on the episode still being open: a concurrent run may have ended it.
            updated = WorseningEpisode.objects.filter(pk=episode_id, ended_at__isnull=True).update(**changes)
            result.ended += updated if step is Episode.END else 0
    return result


def _episode_start(patient_id: int, status: PainStatus, now: dt.datetime) -> int:
    """Open an episode and raise its alert; 0 when another run opened one first."""

    if status.day0 is None or status.baseline_mean is None or status.current_mean is None:
        return 0  # not reached: the rule holds only with both means
    try:
        with transaction.atomic():
            episode = WorseningEpisode.objects.create(
                patient_id=patient_id,
                started_at=now,
                day0=status.day0,
                baseline=status.baseline_mean,
                mean_at_start=status.current_mean,
                last_mean=status.current_mean,
                last_evaluated_at=now,
            )
    except IntegrityError:
        return 0
    patient = Patient.objects.get(pk=patient_id)
    alert, _created = alert_raise(
        patient=patient,
        kind=AlertKind.WORSENING_PAIN,
        severity=Severity.WARNING,
        message_code=alert_text.WORSENING_PAIN,
        message_args={
            "days": WINDOW_DAYS,
            "current": f"{status.current_mean:.1f}",
            "current_n": status.current.n,
            "rise": f"{status.current_mean - status.baseline_mean:.1f}",
            "baseline": f"{status.baseline_mean:.1f}",
            "baseline_n": status.baseline.n,
            "threshold": f"{WORSENING_POINTS:g}",
        },
        dedupe_key=f"worsening_pain:episode:{episode.pk}",
        source_type="worsening_episode",
        source_id=episode.pk,
    )
    episode.alert = alert
    episode.save(update_fields=["alert"])
    logger.info("worsening pain: episode %s opened for patient %s (alert %s)", episode.pk, patient_id, alert.pk)
    return 1


def worsening_after_record(assessment: Assessment, *, now: dt.datetime) -> None:
    """Re-evaluate the patient after an NRS entry is stored (call inside its transaction).

    In a savepoint, and a failure is logged, not raised: the entry must be stored whatever
    happens to this non-urgent alert, and the hourly run evaluates the patient again.
    """
    if assessment.instrument != "nrs" or assessment.total is None:
        return
    try:
        with transaction.atomic():
            # A phone whose clock runs a little ahead may send an entry minutes "in the future".
            worsening_evaluate([assessment.patient_id], now=max(now, assessment.recorded_at))
    except Exception:
        logger.exception("worsening pain: evaluation failed for patient %s", assessment.patient_id)


def patients_to_evaluate(now: dt.datetime) -> list[int]:
    """Patients whose episode state can change at ``now``: an NRS entry in the last
    8 days (a current window can hold it) or an open episode."""
    recent = Assessment.objects.filter(nrs_q(), recorded_at__gt=now - dt.timedelta(days=WINDOW_DAYS + 1)).values(
        "patient_id"
    )
    open_episodes = WorseningEpisode.objects.filter(ended_at__isnull=True).values("patient_id")
    return list(
        Patient.objects.filter(Q(pk__in=recent) | Q(pk__in=open_episodes), is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
