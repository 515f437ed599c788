"""Reads for the therapist console's pages, shaped for the templates.

The worklist's rules and the patient's need facts are the domain's
(``assessments.worklist``); this module reads the patient page: each series once (values
lists, no model instances per point) for the pure figure builders in ``frontend.charts``,
the alert history, the plan and its versions, and the light page a clinic entry form needs.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Case, Exists, OuterRef, QuerySet, Value, When
from django.utils import timezone

from assessments.capture.services import DN4_MERGE_WINDOW
from assessments.models import Alert, Assessment
from assessments.worklist import patient_need
from patients.access import Action, visible_patients
from patients.models import CareTeamMember, Patient
from therapies.models import PlanComponent, RehabPlan
from therapies.selectors import plan_current, sessions_list

CHART_HISTORY = dt.timedelta(days=2 * 366)
# Alerts listed in a patient's history (every open alert is always among them).
ALERT_HISTORY_LIMIT = 100


@dataclass
class PatientPage:
    """Everything the patient page shows, read in a fixed number of queries."""

    patient: Patient
    need: dict[str, Any]
    can_edit: bool
    series: dict[str, list[dict[str, Any]]]
    alerts: list[Alert]
    care_team: list[CareTeamMember]
    plan: Any = None
    plan_versions: list[dict[str, Any]] = field(default_factory=list)
    sessions: list[Any] = field(default_factory=list)
    dn4_interview: dict[str, Any] | None = None
    alert_history: list[Alert] = field(default_factory=list)

    @property
    def thermal_regions(self) -> list[str]:
        """Region names of the latest thermal reading (new readings repeat them)."""
        readings = self.series.get("thermal") or []
        if not readings:
            return []
        return [roi["region"] for roi in readings[-1]["answers"].get("rois", [])]


CHART_INSTRUMENTS = ("nrs", "phq9", "gad7", "odi", "dn4", "thermal")
CHART_FIELDS = (
    "id",
    "instrument",
    "total",
    "band",
    "flags",
    "detail",
    "answers",
    "recorded_at",
    "source",
    "superseded_by",
)


def patient_page(user: Any, patient: Patient, *, now: dt.datetime | None = None) -> PatientPage:
    """Reads for /clinic/patients/<id>/ (the caller fetched ``patient`` via patient_get_for)."""
    now = now or timezone.now()
    may_edit = Exists(visible_patients(user, Action.CLINICAL).filter(pk=OuterRef("pk")))
    need = patient_need(user, patient, now=now, extra={"can_edit": may_edit})
    series = _chart_series(patient, now)
    history = alert_history(patient)
    return PatientPage(
        patient=patient,
        need=need,
        can_edit=bool(need.get("can_edit")),
        series=series,
        alerts=[alert for alert in history if alert.is_open],
        alert_history=history,
        care_team=list(
            CareTeamMember.objects.filter(patient=patient).select_related("user").order_by("-is_primary", "id")
        ),
        plan=plan_current(patient),
        plan_versions=[dict(row) for row in plan_versions_of(patient)],
        sessions=list(sessions_list(patient, since=now - CHART_HISTORY)),
        dn4_interview=_waiting_interview(series["dn4"], now),
    )


def entry_page(patient: Patient, *, with_plan: bool = False, with_dn4: bool = False) -> PatientPage:
    """A page without the chart reads, for a clinic entry form: the patient, and the current
    plan (session and plan forms) or the DN4 interview waiting for its examination (DN4
    form). Only for a user already allowed to record clinical data for the patient."""
    interview = None
    if with_dn4:
        now = timezone.now()
        recent = _assessments(patient, ("dn4",), since=now - DN4_MERGE_WINDOW)
        interview = _waiting_interview([dict(row) for row in recent], now)
    return PatientPage(
        patient=patient,
        need={},
        can_edit=True,
        series={},
        alerts=[],
        care_team=[],
        plan=plan_current(patient) if with_plan else None,
        dn4_interview=interview,
    )


def _assessments(
    patient: Patient, instruments: Sequence[str], *, since: dt.datetime
) -> QuerySet[Assessment, dict[str, Any]]:
    rows: QuerySet[Assessment, dict[str, Any]] = (
        Assessment.objects.filter(patient=patient, instrument__in=instruments, recorded_at__gte=since)
        .order_by("recorded_at", "id")
        .values(*CHART_FIELDS)
    )
    return rows


def _chart_series(patient: Patient, now: dt.datetime) -> dict[str, list[dict[str, Any]]]:
    """Every charted instrument's entries of the last two years, oldest first: one query."""
    series: dict[str, list[dict[str, Any]]] = {code: [] for code in CHART_INSTRUMENTS}
    for row in _assessments(patient, CHART_INSTRUMENTS, since=now - CHART_HISTORY):
        series[row["instrument"]].append(dict(row))
    return series


def _waiting_interview(dn4_rows: Sequence[dict[str, Any]], now: dt.datetime) -> dict[str, Any] | None:
    """The latest DN4 interview the clinician's examination would complete
    (``assessments.capture.services.DN4_MERGE_WINDOW``), from the DN4 rows oldest first."""
    row: dict[str, Any]
    for row in reversed(dn4_rows):
        if (
            row["detail"].get("variant") == "interview"
            and row["superseded_by"] is None
            and row["recorded_at"] >= now - DN4_MERGE_WINDOW
        ):
            return row
    return None


def alert_history(patient: Patient, *, limit: int = ALERT_HISTORY_LIMIT) -> list[Alert]:
    """The patient's alerts, newest first, with who acknowledged them: one query.

    Open alerts are read first, so none is cut off by the limit however long the history.
    """
    rows = list(
        Alert.objects.filter(patient=patient)
        .select_related("patient", "acknowledged_by")
        .order_by(
            Case(When(acknowledged_at__isnull=True, then=Value(0)), default=Value(1)),
            "-created_at",
            "-id",
        )[:limit]
    )
    return sorted(rows, key=lambda alert: (alert.created_at, alert.pk), reverse=True)


def local_day(value: dt.datetime, tz: str) -> dt.date:
    return value.astimezone(zoneinfo.ZoneInfo(tz)).date()


def thermal_readings(rows: Sequence[Mapping[str, Any]], tz: str) -> list[tuple[dt.date, list[tuple[str, float]], bool]]:
    """(local day, [(region, ΔT)], taken outside the measurement conditions) per reading."""
    out = []
    for row in rows:
        deltas = [(roi["region"], float(roi["delta_c"])) for roi in row["detail"].get("rois", [])]
        out.append(
            (
                local_day(row["recorded_at"], tz),
                deltas,
                "measurement_conditions" in (row["flags"] or []),
            )
        )
    return out


def plan_component_of(patient: Patient, component_id: Any) -> Any:
    """A component of any version of the patient's plan, or None."""
    try:
        pk = int(component_id)
    except (TypeError, ValueError):
        return None
    return PlanComponent.objects.filter(pk=pk, plan__patient=patient).first()


def plan_versions_of(patient: Patient) -> QuerySet[Any, Any]:
    """Every plan version's number, start and reason, oldest first (for the chart markers)."""
    return (
        RehabPlan.objects.filter(patient=patient)
        .order_by("version")
        .values("version", "start_date", "reason", "created_at")
    )
