"""Who needs the therapist's attention, and why: the worklist's clinical rules (selectors).

Each patient gets one "need", the first of these rules that holds; the worklist is ordered
by it (``NEEDS``), then by how far pain is above its threshold, then by name:

1. **safety**: an open (unacknowledged) safety alert (PHQ-9 item 9, severe adverse event;
   ``assessments.models.SAFETY_KINDS``).
2. **worsening pain**: an open worsening-pain episode (``assessments.worsening``): the 7-day
   mean NRS reached baseline + 2 points (the NRS MCID) and has not fallen back below it.
3. **missed logs**: a due questionnaire missed in the last 7 days (``WINDOW``), or no NRS for
   3 days (``NO_DIARY_AFTER``) from a patient who keeps a diary (has logged before or has an
   active protocol).
4. **clinic measurement due**: a neuropathic / radiculopathy patient (every diagnosis but
   CLBP) without a thermal reading for 28 days (``THERMAL_EVERY``), or with a DN4 interview
   from the last 30 days still waiting for the clinician's examination items
   (``assessments.capture.services.DN4_MERGE_WINDOW``).
5. **none**: no action needed.

Every per-patient fact behind the rules is a correlated subquery annotated on the
access-filtered patient queryset, and the need is a CASE over them, so the worklist is one
SQL statement whatever the number of patients. The pain figures shown beside the need
(baseline week, 7-day mean, change, the slow-start mark) are those of
``assessments.outcomes``, the one definition of day 0 and the baseline the cohort summary
and the worsening alert use, read for the listed rows in one more query.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
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

from assessments.capture.services import DN4_MERGE_WINDOW
from assessments.models import (
    SAFETY_KINDS,
    Alert,
    Assessment,
    DueItem,
    DueStatus,
    PatientProtocol,
    WorseningEpisode,
)
from assessments.outcomes.day0 import DayZeroInputs, day0_subqueries
from assessments.outcomes.windows import PainStatus, slow_start
from assessments.outcomes.worsening import pain_statuses_of
from patients.access import Action, visible_patients
from patients.models import Diagnosis, Patient

__all__ = [
    "HEADER_FACTS",
    "NEEDS",
    "NEED_CODE",
    "NEED_RANK",
    "WorklistFilters",
    "annotated_patients",
    "need_annotations",
    "patient_need",
    "worklist_rows",
    "worklist_safety_alerts",
]

WORKLIST_LIMIT = 200
WINDOW = dt.timedelta(days=7)
NO_DIARY_AFTER = dt.timedelta(days=3)
THERMAL_EVERY = dt.timedelta(days=28)

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

# The facts of one patient's header (need status, last NRS, open alerts, day-0 inputs).
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


def _count(qs: QuerySet[Any]) -> Coalesce:
    return Coalesce(
        Subquery(
            qs.order_by().values("patient_id").annotate(n=Count("pk")).values("n")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


def _safety_facts() -> dict[str, Any]:
    open_alerts = Alert.objects.filter(patient_id=OuterRef("pk"), acknowledged_at__isnull=True)
    return {
        "safety_open": _count(open_alerts.filter(kind__in=SAFETY_KINDS)),
        "alerts_open": _count(open_alerts),
    }


def _pain_facts_sql() -> dict[str, Any]:
    nrs = Assessment.objects.filter(patient_id=OuterRef("pk"), instrument="nrs", total__isnull=False)
    open_episode = WorseningEpisode.objects.filter(patient_id=OuterRef("pk"), ended_at__isnull=True)
    plan_start, first_nrs_at = day0_subqueries()
    return {
        "plan_start": plan_start,
        "first_nrs_at": first_nrs_at,
        "worsening_open": Exists(open_episode),
        "worsening_excess": Subquery(
            open_episode.annotate(above=F("last_mean") - F("baseline")).values("above")[:1],
            output_field=FloatField(),
        ),
        "last_nrs_at": Subquery(nrs.order_by("-recorded_at").values("recorded_at")[:1]),
        "last_nrs": Subquery(nrs.order_by("-recorded_at", "-id").values("total")[:1], output_field=FloatField()),
        "keeps_diary": ExpressionWrapper(
            Q(Exists(nrs)) | Q(Exists(PatientProtocol.objects.filter(patient_id=OuterRef("pk"), is_active=True))),
            output_field=BooleanField(),
        ),
    }


def _missed_facts(now: dt.datetime) -> dict[str, Any]:
    missed = DueItem.objects.filter(
        patient_id=OuterRef("pk"), status=DueStatus.MISSED, due_at__gte=now - WINDOW, due_at__lt=now
    )
    return {"missed_due": _count(missed)}


def _clinic_facts(now: dt.datetime) -> dict[str, Any]:
    interview_waiting = Assessment.objects.filter(
        patient_id=OuterRef("pk"),
        instrument="dn4",
        detail__variant="interview",
        superseded_by__isnull=True,
        recorded_at__gte=now - DN4_MERGE_WINDOW,
    )
    return {
        "last_thermal_at": Subquery(
            Assessment.objects.filter(patient_id=OuterRef("pk"), instrument="thermal")
            .order_by("-recorded_at")
            .values("recorded_at")[:1]
        ),
        "dn4_exam_pending": _count(interview_waiting),
        # Every diagnosis but CLBP is neuropathic (patients.models.NEUROPATHIC_DIAGNOSES);
        # exact JSON comparison works on SQLite and PostgreSQL alike.
        "neuropathic": ExpressionWrapper(
            ~Q(diagnoses=[]) & ~Q(diagnoses=[Diagnosis.CLBP.value]),
            output_field=BooleanField(),
        ),
    }


def need_annotations(now: dt.datetime) -> dict[str, Any]:
    """Per-patient facts behind the rules; each is one correlated subquery."""
    return {**_safety_facts(), **_pain_facts_sql(), **_missed_facts(now), **_clinic_facts(now)}


def _need_rank(now: dt.datetime) -> Case:
    """The rules of the module docstring, in order, over :func:`need_annotations`."""
    no_recent_nrs = Q(last_nrs_at__isnull=True) | Q(last_nrs_at__lt=now - NO_DIARY_AFTER)
    thermal_due = Q(last_thermal_at__isnull=True) | Q(last_thermal_at__lt=now - THERMAL_EVERY)
    return Case(
        When(safety_open__gt=0, then=Value(NEED_RANK[NEED_SAFETY])),
        When(worsening_open=True, then=Value(NEED_RANK[NEED_WORSENING])),
        When(missed_due__gt=0, then=Value(NEED_RANK[NEED_MISSED])),
        When(Q(keeps_diary=True) & no_recent_nrs, then=Value(NEED_RANK[NEED_MISSED])),
        When(Q(neuropathic=True) & (thermal_due | Q(dn4_exam_pending__gt=0)), then=Value(NEED_RANK[NEED_DUE])),
        default=Value(NEED_RANK[NEED_NONE]),
        output_field=IntegerField(),
    )


def annotated_patients(user: Any, *, now: dt.datetime, action: Action = Action.VIEW) -> QuerySet[Patient]:
    """The patients ``user`` may see, each with its facts and ``need_rank``."""
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


def _filtered(qs: QuerySet[Patient], filters: WorklistFilters) -> QuerySet[Patient]:
    if filters.q:
        qs = qs.filter(display_name__icontains=filters.q)
    if filters.diagnosis:
        # diagnoses is a JSON list of codes; no code is a substring of another quoted code.
        qs = qs.filter(diagnoses__icontains=f'"{filters.diagnosis}"')
    if filters.need:
        qs = qs.filter(Q(need_rank=NEED_RANK[filters.need]))
    return qs


def worklist_rows(
    user: Any,
    filters: WorklistFilters,
    *,
    now: dt.datetime | None = None,
    limit: int = WORKLIST_LIMIT,
) -> list[Patient]:
    """The patients the user may see, most in need first: one query, and one more for the
    pain figures. Each row carries its facts, ``need`` (a code of ``NEEDS``) and the pain
    figures of :func:`_pain_figures`."""
    now = now or timezone.now()
    # Discharged (inactive) patients leave the worklist; their records stay readable.
    qs = _filtered(annotated_patients(user, now=now).filter(is_active=True).select_related("clinic"), filters)
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
        for key, value in _pain_figures(statuses[row.pk], row.time_zone).items():
            setattr(row, key, value)
    return rows


def _day0_inputs(patient: Patient, plan_start: dt.date | None, first_nrs_at: dt.datetime | None) -> DayZeroInputs:
    return DayZeroInputs(patient.pk, patient.time_zone, plan_start, first_nrs_at)


def _pain_figures(status: PainStatus, tz: str) -> dict[str, Any]:
    """The pain figures the worklist and the patient page show (``assessments.outcomes``)."""
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


def patient_need(
    user: Any,
    patient: Patient,
    *,
    now: dt.datetime | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One patient's header facts (``HEADER_FACTS``), ``need`` and pain figures: two
    queries, the facts and the pain windows (``assessments.outcomes``).

    ``extra`` annotations (name -> expression over the patient row) are read in the same
    query and returned beside the facts. Empty facts (need "none") when ``user`` may not
    see the patient.
    """
    now = now or timezone.now()
    more = dict(extra or {})
    found = (
        annotated_patients(user, now=now).filter(pk=patient.pk).annotate(**more).values(*HEADER_FACTS, *more).first()
    )
    facts: dict[str, Any] = dict(found) if found else {}
    if found:
        inputs = _day0_inputs(patient, facts["plan_start"], facts["first_nrs_at"])
        facts.update(_pain_figures(pain_statuses_of([inputs], now=now)[patient.pk], patient.time_zone))
    return {**facts, "need": NEED_CODE.get(facts.get("need_rank", NEED_RANK[NEED_NONE]), NEED_NONE)}
