"""Reads of assessments and alerts; views never chain ORM calls themselves."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from assessments.models import Alert, Assessment
from patients.models import Patient


def assessment_series(
    patient: Patient,
    *,
    instrument: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[Assessment]:
    """A patient's assessments in time order (uses the (patient, instrument, recorded_at) index),
    without the entries a later one completes (a PHQ-9 safety signal, a DN4 interview): the
    completing entry stands for both."""
    qs = Assessment.objects.filter(patient=patient, superseded_by__isnull=True)
    if instrument:
        qs = qs.filter(instrument=instrument)
    if since is not None:
        qs = qs.filter(recorded_at__gte=since)
    if until is not None:
        qs = qs.filter(recorded_at__lte=until)
    return qs.order_by("recorded_at", "id")


def open_alerts(patient: Patient) -> QuerySet[Alert]:
    return Alert.objects.filter(patient=patient, acknowledged_at__isnull=True).order_by("-created_at")


def assessments_for_export(patient: Patient, *, since: dt.datetime | None = None) -> QuerySet[Assessment]:
    """Every assessment of the patient, superseded ones included, with the entries it
    supersedes and is superseded by; ``since`` keeps those received at or after it, and those
    linked at or after it to an entry that arrived then (either order of arrival)."""
    qs = Assessment.objects.filter(patient=patient).select_related("supersedes", "superseded_by")
    if since is not None:
        qs = qs.filter(
            Q(received_at__gte=since) | Q(superseded_by__received_at__gte=since) | Q(supersedes__received_at__gte=since)
        )
    return qs.order_by("recorded_at", "id")
