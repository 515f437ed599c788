"""Reads for the therapist console: the worklist and the patient page.

The worklist is one SQL statement whatever the number of patients: every per-patient fact
(open alerts, pain baseline and recent mean, missed diary entries, last clinic
measurement) is a correlated subquery annotated on the access-filtered patient queryset,
and the "need" rank that orders the list is a CASE over those annotations. The patient
page reads each series once (values lists, no model instances per point) and hands plain
tuples to the pure figure builders in ``frontend.charts``.

Clinical rules of the worklist:
- safety: an open (unacknowledged) safety alert (PHQ-9 item 9, severe adverse event);
- worsening pain: an open worsening-pain episode (``assessments.outcomes.worsening``): the 7-day
  mean NRS reached baseline + 2 points (the NRS MCID) and has not fallen back below it.
  The pain figures shown (baseline week, 7-day mean, change) are those of
  ``assessments.outcomes.windows``, the definition the cohort summary and the alert use, read for
  the listed rows in one more query;
- missed logs: a due questionnaire missed in the last 7 days, or no NRS for 3 days from a
  patient who keeps a diary (has logged before or has an active protocol);
- due clinic measurement: neuropathic / radiculopathy patients without a thermal reading
  for 28 days, or with a DN4 interview from the last 30 days still waiting for the
  clinician's examination items.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessments.models import (
    SAFETY_KINDS,
    Alert,
    Assessment,
    DueItem,
    DueStatus,
    PatientProtocol,
    WorseningEpisode,
)
from assessments.outcomes.windows import PainStatus, slow_start
from assessments.outcomes.worsening import DayZeroInputs, pain_statuses_of
from assessments.services import DN4_MERGE_WINDOW
from patients.access import Action, visible_patients
from patients.models import CareTeamMember, Diagnosis, Patient

WORKLIST_LIMIT = 200
WINDOW = dt.timedelta(days=7)
NO_DIARY_AFTER = dt.timedelta(days=3)
THERMAL_EVERY = dt.timedelta(days=28)
CHART_HISTORY = dt.timedelta(days=2 * 366)
# Alerts listed in a patient's history (every open alert is always among them).
ALERT_HISTORY_LIMIT = 100

NEED_SAFETY = "safety"
NEED_WORSENING = "worsening"
NEED_MISSED = "missed"
NEED_DUE = "due"
NEED_NONE = "none"
# (code, rank, label): the worklist is ordered by rank.
NEEDS: tuple[tuple[str, int, Any], ...] = (
    (NEED_SAFETY, 0, _("Open safety alert")),
    (NEED_WORSENING, 1, _("Worsening pain")),
    (NEED_MISSED, 2, _("Missed logs")),
    (NEED_DUE, 3, _("Clinic measurement due")),
    (NEED_NONE, 4, _("No action needed")),
)
NEED_RANK = {code: rank for code, rank, _label in NEEDS}
NEED_CODE = {rank: code for code, rank, _label in NEEDS}


def _count(qs: QuerySet[Any]) -> Coalesce:
    return Coalesce(
        Subquery(
            qs.order_by().values("patient_id").annotate(n=Count("pk")).values("n")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def need_annotations(now: dt.datetime) -> dict[str, Any]:
    """Per-patient annotations behind the worklist; each is one correlated subquery."""
    from therapies.models import RehabPlan

    nrs = Assessment.objects.filter(patient_id=OuterRef("pk"), instrument="nrs", total__isnull=False)
    open_alerts = Alert.objects.filter(patient_id=OuterRef("pk"), acknowledged_at__isnull=True)
    open_episode = WorseningEpisode.objects.filter(patient_id=OuterRef("pk"), ended_at__isnull=True)
    return {
        "safety_open": _count(open_alerts.filter(kind__in=SAFETY_KINDS)),
        "alerts_open": _count(open_alerts),
        "plan_start": Subquery(
            RehabPlan.objects.filter(patient_id=OuterRef("pk")).order_by("start_date").values("start_date")[:1]
        ),
        "first_nrs_at": Subquery(nrs.order_by("recorded_at").values("recorded_at")[:1]),
        "worsening_open": Exists(open_episode),
        "worsening_excess": Subquery(
            open_episode.annotate(above=F("last_mean") - F("baseline")).values("above")[:1],
            output_field=FloatField(),
        ),
        "last_nrs_at": Subquery(nrs.order_by("-recorded_at").values("recorded_at")[:1]),
        "last_nrs": Subquery(
            nrs.order_by("-recorded_at", "-id").values("total")[:1],
            output_field=FloatField(),
        ),
        "missed_due": _count(
            DueItem.objects.filter(
                patient_id=OuterRef("pk"),
                status=DueStatus.MISSED,
                due_at__gte=now - WINDOW,
                due_at__lt=now,
            )
        ),
        "keeps_diary": ExpressionWrapper(
            Q(Exists(nrs)) | Q(Exists(PatientProtocol.objects.filter(patient_id=OuterRef("pk"), is_active=True))),
            output_field=BooleanField(),
        ),
        "last_thermal_at": Subquery(
            Assessment.objects.filter(patient_id=OuterRef("pk"), instrument="thermal")
            .order_by("-recorded_at")
            .values("recorded_at")[:1]
        ),
        "dn4_exam_pending": _count(
            Assessment.objects.filter(
                patient_id=OuterRef("pk"),
                instrument="dn4",
                detail__variant="interview",
                superseded_by__isnull=True,
                recorded_at__gte=now - DN4_MERGE_WINDOW,
            )
        ),
        # Every diagnosis but CLBP is neuropathic (patients.models.NEUROPATHIC_DIAGNOSES);
        # exact JSON comparison works on SQLite and PostgreSQL alike.
        "neuropathic": ExpressionWrapper(
            ~Q(diagnoses=[]) & ~Q(diagnoses=[Diagnosis.CLBP.value]),
            output_field=BooleanField(),
        ),
    }


def _need_rank(now: dt.datetime) -> Case:
    return Case(
        When(safety_open__gt=0, then=Value(NEED_RANK[NEED_SAFETY])),
        When(worsening_open=True, then=Value(NEED_RANK[NEED_WORSENING])),
        When(missed_due__gt=0, then=Value(NEED_RANK[NEED_MISSED])),
        When(
            Q(keeps_diary=True) & (Q(last_nrs_at__isnull=True) | Q(last_nrs_at__lt=now - NO_DIARY_AFTER)),
            then=Value(NEED_RANK[NEED_MISSED]),
        ),
        When(
            Q(neuropathic=True)
            & (
                Q(last_thermal_at__isnull=True) | Q(last_thermal_at__lt=now - THERMAL_EVERY) | Q(dn4_exam_pending__gt=0)
            ),
            then=Value(NEED_RANK[NEED_DUE]),
        ),
        default=Value(NEED_RANK[NEED_NONE]),
        output_field=IntegerField(),
    )


def annotated_patients(user: Any, *, now: dt.datetime, action: Action = Action.VIEW) -> QuerySet[Patient]:
    return visible_patients(user, action).annotate(**need_annotations(now)).annotate(need_rank=_need_rank(now))


@dataclass(frozen=True)
class WorklistFilters:
    q: str = ""
    diagnosis: str = ""
    need: str = ""

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> WorklistFilters:
        diagnosis = params.get("diagnosis", "")
        need = params.get("need", "")
        return cls(
            q=params.get("q", "").strip()[:120],
            diagnosis=diagnosis if diagnosis in Diagnosis.values else "",
            need=need if need in NEED_RANK else "",
        )


def worklist_rows(
    user: Any,
    filters: WorklistFilters,
    *,
    now: dt.datetime | None = None,
    limit: int = WORKLIST_LIMIT,
) -> list[Patient]:
    """The patients the user may see, most in need first: one query."""
    now = now or timezone.now()
    # Discharged (inactive) patients leave the worklist; their records stay readable.
    qs = annotated_patients(user, now=now).filter(is_active=True).select_related("clinic")
    if filters.q:
        qs = qs.filter(display_name__icontains=filters.q)
    if filters.diagnosis:
        # diagnoses is a JSON list of codes; no code is a substring of another quoted code.
        qs = qs.filter(diagnoses__icontains=f'"{filters.diagnosis}"')
    if filters.need:
        qs = qs.filter(Q(need_rank=NEED_RANK[filters.need]))
    rows = list(
        qs.order_by(
            F("need_rank").asc(),
            F("worsening_excess").desc(nulls_last=True),
            "display_name",
            "id",
        )[:limit]
    )
    statuses = pain_statuses_of(
        [_day0_inputs(row, getattr(row, "plan_start", None), getattr(row, "first_nrs_at", None)) for row in rows],
        now=now,
    )
    for row in rows:
        row.need = NEED_CODE[row.need_rank]  # type: ignore[attr-defined]
        for key, value in _pain_facts(statuses[row.pk], row.time_zone).items():
            setattr(row, key, value)
    return rows


def _day0_inputs(patient: Patient, plan_start: dt.date | None, first_nrs_at: dt.datetime | None) -> DayZeroInputs:
    return DayZeroInputs(patient.pk, patient.time_zone, plan_start, first_nrs_at)


def _pain_facts(status: PainStatus, tz: str) -> dict[str, Any]:
    """The pain figures the worklist and the patient page show (``assessments.outcomes.windows``)."""
    return {
        "pain_status": status,
        "pain_baseline": status.baseline_mean,
        "pain_recent": status.current_mean,
        "pain_delta": status.delta,
        "slow_start": slow_start(status, zoneinfo.ZoneInfo(tz)),
    }


def worklist_safety_alerts(patient_ids: Iterable[int]) -> list[Alert]:
    """Open safety alerts of the listed patients, oldest first (they wait longest)."""
    return list(
        Alert.objects.filter(
            patient_id__in=list(patient_ids),
            acknowledged_at__isnull=True,
            kind__in=SAFETY_KINDS,
        )
        .select_related("patient")
        .order_by("created_at", "id")
    )


# -----------------------------------------------------------------------------
# Patient page
# -----------------------------------------------------------------------------


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


# The patient header's facts (the "need" annotations it shows).
HEADER_FACTS = (
    "safety_open",
    "alerts_open",
    "plan_start",
    "first_nrs_at",
    "worsening_open",
    "last_nrs_at",
    "last_nrs",
    "need_rank",
)


def patient_page(user: Any, patient: Patient, *, now: dt.datetime | None = None) -> PatientPage:
    """Reads for /clinic/patients/<id>/ (the caller fetched ``patient`` via patient_get_for)."""
    from therapies.selectors import plan_current, sessions_list

    now = now or timezone.now()
    found = (
        annotated_patients(user, now=now)
        .filter(pk=patient.pk)
        .annotate(can_edit=Exists(visible_patients(user, Action.CLINICAL).filter(pk=OuterRef("pk"))))
        .values(*HEADER_FACTS, "missed_due", "last_thermal_at", "dn4_exam_pending", "can_edit")
        .first()
    )
    facts: dict[str, Any] = dict(found) if found else {}
    if found:
        inputs = _day0_inputs(patient, facts["plan_start"], facts["first_nrs_at"])
        facts.update(_pain_facts(pain_statuses_of([inputs], now=now)[patient.pk], patient.time_zone))
    rows = (
        Assessment.objects.filter(
            patient=patient,
            instrument__in=CHART_INSTRUMENTS,
            recorded_at__gte=now - CHART_HISTORY,
        )
        .order_by("recorded_at", "id")
        .values(
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
    )
    series: dict[str, list[dict[str, Any]]] = {code: [] for code in CHART_INSTRUMENTS}
    for row in rows:
        series[row["instrument"]].append(dict(row))
    interview = None
    for row in reversed(series["dn4"]):
        if (
            row["detail"].get("variant") == "interview"
            and row["superseded_by"] is None
            and row["recorded_at"] >= now - DN4_MERGE_WINDOW
        ):
            interview = row
            break
    sessions_since = now - CHART_HISTORY
    history = alert_history(patient)
    return PatientPage(
        patient=patient,
        need={
            **facts,
            "need": NEED_CODE.get(facts.get("need_rank", NEED_RANK[NEED_NONE]), NEED_NONE),
        },
        can_edit=bool(facts.get("can_edit")),
        series=series,
        alerts=[alert for alert in history if alert.is_open],
        alert_history=history,
        care_team=list(
            CareTeamMember.objects.filter(patient=patient).select_related("user").order_by("-is_primary", "id")
        ),
        plan=plan_current(patient),
        plan_versions=[dict(row) for row in plan_versions_of(patient)],
        sessions=list(sessions_list(patient, since=sessions_since)),
        dn4_interview=interview,
    )


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


def patient_need(user: Any, patient: Patient, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The header facts of the patient page (need status, pain figures): two queries, the
    need annotations and the pain windows (``assessments.outcomes.windows``)."""
    now = now or timezone.now()
    found = annotated_patients(user, now=now).filter(pk=patient.pk).values(*HEADER_FACTS).first()
    facts: dict[str, Any] = dict(found) if found else {}
    if found:
        inputs = _day0_inputs(patient, facts["plan_start"], facts["first_nrs_at"])
        facts.update(_pain_facts(pain_statuses_of([inputs], now=now)[patient.pk], patient.time_zone))
    return {**facts, "need": NEED_CODE.get(facts.get("need_rank", NEED_RANK[NEED_NONE]), NEED_NONE)}


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
    from therapies.models import PlanComponent

    try:
        pk = int(component_id)
    except (TypeError, ValueError):
        return None
    return PlanComponent.objects.filter(pk=pk, plan__patient=patient).first()


def plan_versions_of(patient: Patient) -> QuerySet[Any, Any]:
    """Every plan version's number, start and reason, oldest first (for the chart markers)."""
    from therapies.models import RehabPlan

    return (
        RehabPlan.objects.filter(patient=patient)
        .order_by("version")
        .values("version", "start_date", "reason", "created_at")
    )
