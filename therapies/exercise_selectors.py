"""Reads of home exercise programmes: the library, a patient's programme, logs, adherence."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet

from assessments.models import Assessment
from patients.access import staff_roles
from patients.models import Patient
from therapies.adherence import plan_end
from therapies.exercise_adherence import (
    BASELINE_DAYS,
    WINDOW_DAYS,
    ExerciseAdherence,
    LogPoint,
    Prescribed,
    programme_adherence,
)
from therapies.models import Exercise, ExerciseLog, ExerciseMedia, PlanComponent, ProgrammeItem, RehabPlan
from therapies.selectors import PatientPlan, plan_for_patient
from therapies.services import patient_today


def staff_clinic_ids(user: Any) -> list[int]:
    return sorted(staff_roles(user))


def library_list(clinic_ids: list[int], *, include_retired: bool = False) -> QuerySet[Exercise]:
    qs = Exercise.objects.filter(clinic_id__in=clinic_ids).prefetch_related(
        Prefetch("media", queryset=ExerciseMedia.objects.order_by("order", "id"))
    )
    if not include_retired:
        qs = qs.filter(is_active=True)
    return qs.order_by("clinic_id", "type", "name_en", "id")


def exercise_for_staff(user: Any, exercise_id: int) -> Exercise | None:
    return library_list(staff_clinic_ids(user), include_retired=True).filter(pk=exercise_id).first()


@dataclass(frozen=True)
class Programme:
    """The programme of the plan version a patient follows today (see plan_for_patient)."""

    shown: PatientPlan | None
    component: PlanComponent | None
    items: list[ProgrammeItem]


def programme_items(plan: RehabPlan) -> QuerySet[ProgrammeItem]:
    return (
        ProgrammeItem.objects.filter(component__plan=plan)
        .select_related("exercise", "component")
        .prefetch_related(Prefetch("exercise__media", queryset=ExerciseMedia.objects.order_by("order", "id")))
        .order_by("order", "id")
    )


def programme_for(patient: Patient, *, today: dt.date | None = None) -> Programme:
    shown = plan_for_patient(patient, today=today)
    if shown is None:
        return Programme(None, None, [])
    items = list(programme_items(shown.plan))
    return Programme(shown, items[0].component if items else None, items)


def exercise_logs_list(
    patient: Patient, *, since: dt.date | None = None, until: dt.date | None = None
) -> QuerySet[ExerciseLog]:
    qs = ExerciseLog.objects.filter(patient=patient).select_related("exercise")
    if since is not None:
        qs = qs.filter(date__gte=since)
    if until is not None:
        qs = qs.filter(date__lte=until)
    return qs.order_by("-date", "-logged_at", "-id")


def _spans(patient: Patient) -> tuple[list[Prescribed], dict[int, Exercise]]:
    """Every exercise's prescription periods over the plan's versions."""
    plans = list(
        RehabPlan.objects.filter(patient=patient)
        .prefetch_related("components__programme_items__exercise")
        .order_by("version")
    )
    spans: list[Prescribed] = []
    exercises: dict[int, Exercise] = {}
    for index, plan in enumerate(plans):
        components = list(plan.components.all())
        end = plan_end(plan.start_date, (c.duration_weeks for c in components))
        if index + 1 < len(plans):
            handover = plans[index + 1].start_date - dt.timedelta(days=1)
            end = handover if end is None else min(end, handover)
        for component in components:
            for item in component.programme_items.all():
                exercises[item.exercise_id] = item.exercise
                spans.append(Prescribed(item.exercise_id, plan.start_date, end, item.sessions_per_week))
    return spans, exercises


def _pain_points(patient: Patient, since: dt.date) -> list[tuple[dt.date, float]]:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(patient.time_zone)
    since_at = dt.datetime.combine(since, dt.time(), tzinfo=tz)
    rows = Assessment.objects.filter(
        patient=patient, instrument__in=("nrs", "vas"), total__isnull=False, recorded_at__gte=since_at
    ).values_list("instrument", "recorded_at", "total")
    return [
        (at.astimezone(tz).date(), float(total) / (10 if code == "vas" else 1))
        for code, at, total in rows
        if total is not None
    ]


def adherence_for(
    patient: Patient, *, today: dt.date | None = None
) -> tuple[list[ExerciseAdherence], dict[int, Exercise]]:
    """Per-exercise adherence over the last four weeks, and the exercises by id."""
    today = today or patient_today(patient)
    since = today - dt.timedelta(days=WINDOW_DAYS + BASELINE_DAYS)
    spans, exercises = _spans(patient)
    logs = [
        LogPoint(exercise_id, date, sets_done, pain_after, difficulty)
        for exercise_id, date, sets_done, pain_after, difficulty in ExerciseLog.objects.filter(
            patient=patient, date__gte=since, date__lte=today
        ).values_list("exercise_id", "date", "sets_done", "pain_after", "difficulty")
    ]
    results = programme_adherence(prescribed=spans, logs=logs, pain=_pain_points(patient, since), today=today)
    return results, exercises
