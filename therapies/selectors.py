"""Reads of the therapies app. Querysets decide their own select_related / prefetch here."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from patients.models import Patient
from therapies.adherence import (
    ACTIVE,
    ENDED,
    SCHEDULED,
    ComponentSpec,
    Done,
    PlanAdherence,
    PlanDates,
    component_window,
    plan_adherence,
    plan_end,
    plan_in_effect,
)
from therapies.models import (
    DrezReferral,
    HomeExerciseLog,
    PlanComponent,
    RehabPlan,
    TherapySession,
)
from therapies.services import patient_today


def _plans(patient: Patient) -> QuerySet[RehabPlan]:
    return (
        RehabPlan.objects.filter(patient=patient)
        .select_related("author")
        .prefetch_related(Prefetch("components", queryset=PlanComponent.objects.order_by("order", "id")))
    )


def plan_current(patient: Patient) -> RehabPlan | None:
    """The patient's current plan (highest version) with author and ordered components."""
    return _plans(patient).order_by("-version").first()


@dataclass(frozen=True)
class PatientPlan:
    """The plan version a patient follows today, with its status and last day."""

    plan: RehabPlan
    status: str  # therapies.adherence ACTIVE / ENDED / SCHEDULED
    end_date: dt.date | None
    today: dt.date
    latest_version: int


def plan_end_date(plan: RehabPlan) -> dt.date | None:
    """Last day of a version (uses the prefetched components)."""
    return plan_end(plan.start_date, (c.duration_weeks for c in plan.components.all()))


def plan_status(plan: RehabPlan, today: dt.date) -> str:
    """A version's own status on ``today``: scheduled before its start, ended after its last day."""
    end = plan_end_date(plan)
    if plan.start_date > today:
        return SCHEDULED
    return ENDED if end is not None and end < today else ACTIVE


def plan_for_patient(patient: Patient, *, today: dt.date | None = None) -> PatientPlan | None:
    """What the patient is following: the one rule for the PWA, the plan page, the API and
    home-exercise logging. An ended version is never "active"; a later one that has not
    started yet is shown as "scheduled" (see ``therapies.adherence.plan_in_effect``).

    Two queries (versions, their components) whatever the number of versions.
    """
    today = today or patient_today(patient)
    plans = list(_plans(patient).order_by("-version"))
    if not plans:
        return None
    by_version = {plan.version: plan for plan in plans}
    chosen, status = plan_in_effect([PlanDates(p.version, p.start_date, plan_end_date(p)) for p in plans], today)
    if chosen is None:
        return None
    return PatientPlan(
        plan=by_version[chosen.version],
        status=status,
        end_date=chosen.end,
        today=today,
        latest_version=plans[0].version,
    )


def plan_versions(patient: Patient) -> QuerySet[RehabPlan]:
    """Every version, newest first."""
    return _plans(patient).order_by("-version")


def plan_history(patient: Patient) -> QuerySet[RehabPlan]:
    """Version headers only (no components), newest first: for history lists on pages."""
    return RehabPlan.objects.filter(patient=patient).select_related("author").order_by("-version")


def sessions_list(
    patient: Patient, *, modality: str | None = None, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> QuerySet[TherapySession]:
    qs = TherapySession.objects.filter(patient=patient)
    if modality:
        qs = qs.filter(modality=modality)
    if since is not None:
        qs = qs.filter(delivered_at__gte=since)
    if until is not None:
        qs = qs.filter(delivered_at__lt=until)
    return qs.order_by("-delivered_at", "-id")


def home_logs_list(
    patient: Patient, *, since: dt.date | None = None, until: dt.date | None = None
) -> QuerySet[HomeExerciseLog]:
    qs = HomeExerciseLog.objects.filter(patient=patient).select_related("component")
    if since is not None:
        qs = qs.filter(date__gte=since)
    if until is not None:
        qs = qs.filter(date__lte=until)
    return qs.order_by("-date", "-logged_at", "-id")


def drez_referrals_list(patient: Patient) -> QuerySet[DrezReferral]:
    return DrezReferral.objects.filter(patient=patient).select_related("created_by").order_by("-created_at", "-id")


def plan_adherence_for(patient: Patient, plan: RehabPlan, *, today: dt.date | None = None) -> PlanAdherence:
    """Feed the pure adherence engine with the plan's done sessions and home logs.

    Two queries whatever the plan's size; uses ``plan.components.all()`` (prefetched by
    ``plan_current``). Sessions are dated in the patient's time zone.
    """
    today = today or patient_today(patient)
    components = list(plan.components.all())
    specs = [ComponentSpec(c.pk, c.modality, c.frequency_per_week, c.duration_weeks) for c in components]
    if not specs:
        return PlanAdherence(as_of=today)
    last = max(component_window(plan.start_date, spec.duration_weeks)[1] for spec in specs)
    until = min(today, last)
    tz = zoneinfo.ZoneInfo(patient.time_zone)
    # A day's window in UTC, one day's margin each side; the exact local date is taken below.
    since_utc = dt.datetime.combine(plan.start_date - dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    until_utc = dt.datetime.combine(until + dt.timedelta(days=2), dt.time(), tzinfo=dt.UTC)
    done: list[Done] = []
    sessions = TherapySession.objects.filter(
        patient=patient, delivered_at__gte=since_utc, delivered_at__lt=until_utc
    ).values_list("component_id", "modality", "delivered_at")
    for component_id, modality, delivered_at in sessions:
        done.append(Done(on=delivered_at.astimezone(tz).date(), modality=modality, component_id=component_id))
    logs = HomeExerciseLog.objects.filter(
        patient=patient, done=True, date__gte=plan.start_date, date__lte=until
    ).values_list("component_id", "component__modality", "date")
    for component_id, modality, on in logs:
        done.append(Done(on=on, modality=modality, component_id=component_id))
    return plan_adherence(specs, done, start=plan.start_date, today=today)
