"""Cohort selectors: the patients a user may see, as arrays for the numpy engine
(``assessments.outcomes.engine``).

Day 0 of a patient is the start date of their rehab plan (the earliest ``start_date``
over all plan versions, at 00:00 in the patient's time zone). A patient without a plan
falls back to their first NRS entry. Day 0, the baseline week and the current window are
those of ``assessments.outcomes.windows`` (the one definition; days are counted on the
patient's wall clock). Everything pain-related is counted from day 0:

- baseline = mean NRS over ``[day 0, day 0 + 7 d)``; current = mean NRS over the 7 days
  up to the last entry; both need >= 3 entries and the last entry must be >= 14 days
  after day 0 (``engine.pain_outcomes``: IMMPACT responders at >= 30 % and >= 50 %,
  MCID 2 NRS points);
- trajectories: the patients' weekly means by plan week (week k = days [7k, 7k + 7)),
  median and IQR per week, for the first ``HORIZON_WEEKS`` weeks;
- time to response: the first plan week k >= 1 whose mean (>= 3 entries) is at most
  70 % of the baseline week's mean, at weekly resolution, censored at the last week with
  enough entries or at the horizon; Kaplan-Meier with log-log Greenwood intervals.

PHQ-9, GAD-7 and ODI are first-to-last score changes against their MCIDs (5, 4 and 10
points); thermal symmetry recovery is a first reading with max |ΔT| >= 1.0 °C and a
later one under it (the ``thermal`` total is the largest |ΔT| over the ROIs).
Adherence is the plan adherence of ``therapies.adherence`` as of today.

Loading is a fixed number of queries whatever the cohort's size, the same on PostgreSQL
and SQLite. The NRS diary never reaches Python whole: the weekly sums and the current
window come from the rows every capture keeps (``assessments.outcomes.nrs_weeks``), a
patient's stored entries only where those rows are stale.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db.models import Exists, Min, OuterRef, QuerySet, Subquery, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from assessments.models import Assessment
from assessments.outcomes import engine
from assessments.outcomes.day0 import nrs_q
from assessments.outcomes.engine import positions
from assessments.outcomes.nrs_weeks import Basis, NrsWindows, WeeklyNrs, cohort_nrs
from assessments.outcomes.windows import US_PER_DAY, day0_from, epoch_us
from patients.access import visible_patients
from patients.models import CareTeamMember, Patient
from therapies.adherence import ComponentSpec, Done, plan_adherence, prescribed_to_date
from therapies.models import HomeExerciseLog, PlanComponent, RehabPlan, TherapySession

__all__ = [
    "HORIZON_WEEKS",
    "QUESTIONNAIRE_MCID",
    "UNASSIGNED",
    "CohortArrays",
    "CohortFilters",
    "Entries",
    "NrsWindows",
    "WeeklyNrs",
    "cohort_arrays",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

WINDOW_DAYS = engine.DEFAULT_WINDOW_DAYS
MIN_ENTRIES = engine.DEFAULT_MIN_ENTRIES
#: Trajectories and time to response cover the first 26 plan weeks (six months, the
#: usual chronic-pain follow-up); a response later than that is censored at 26 weeks.
HORIZON_WEEKS = 26
RESPONSE_PCT = 30.0
THERMAL_THRESHOLD_C = 1.0
#: First-to-last questionnaire changes (points) counted as clinically important.
QUESTIONNAIRE_MCID: dict[str, float] = {code: engine.MCID[code] for code in ("phq9", "gad7", "odi")}
UNASSIGNED = -1


@dataclass(frozen=True)
class CohortFilters:
    """``since`` / ``until`` select patients by day 0 (plan start), inclusive."""

    diagnosis: str | None = None
    modality: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "diagnosis": self.diagnosis,
            "modality": self.modality,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }

    def admits(self, day0_date: dt.date | None) -> bool:
        """Whether a patient with this day 0 (local date) is in the since / until range."""
        if self.since is not None and (day0_date is None or day0_date < self.since):
            return False
        return self.until is None or (day0_date is not None and day0_date <= self.until)


@dataclass(frozen=True, eq=False)
class Entries:
    """Rows for the engine: position of the patient, day (float), value."""

    idx: IntArray
    day: FloatArray
    value: FloatArray

    @classmethod
    def empty(cls) -> Entries:
        return cls(np.empty(0, dtype=np.int64), np.empty(0), np.empty(0))


@dataclass(frozen=True, eq=False)
class CohortArrays:
    """Everything the engine and the exports need, one position per patient (sorted by id)."""

    patient_ids: IntArray
    clinic_ids: IntArray
    sex: list[str]
    synthetic: BoolArray
    pain_trigger: list[str]
    birth_year: list[int | None]
    diagnoses: list[list[str]]
    pain_onset: list[dt.date | None]
    day0_date: list[dt.date | None]
    has_plan: BoolArray
    therapist: IntArray
    therapist_labels: dict[int, str]
    modalities: list[tuple[str, ...]]
    adherence: FloatArray
    sessions: IntArray
    nrs_windows: NrsWindows
    nrs_weekly: WeeklyNrs
    thermal: Entries
    questionnaires: dict[str, Entries]
    dn4_total: FloatArray
    dn4_max: FloatArray
    horizon_weeks: int

    @property
    def n(self) -> int:
        return int(self.patient_ids.size)


# --- the cohort --------------------------------------------------------------------------


def _cohort_queryset(user: Any, filters: CohortFilters) -> QuerySet[Patient]:
    """Visible patients (the one access rule) narrowed by diagnosis and modality."""
    qs = visible_patients(user)
    if filters.diagnosis:
        # diagnoses is a JSON list of codes; the quotes keep "tos" from matching "tos_x".
        qs = qs.filter(diagnoses__icontains=f'"{filters.diagnosis}"')
    if filters.modality:
        current_version = (
            RehabPlan.objects.filter(patient=OuterRef(OuterRef("pk"))).order_by("-version").values("version")[:1]
        )
        in_current_plan = PlanComponent.objects.filter(
            plan__patient=OuterRef("pk"),
            plan__version=Subquery(current_version),
            modality=filters.modality,
        )
        qs = qs.filter(Exists(in_current_plan))
    return qs.order_by()


@dataclass(frozen=True)
class _Patients:
    """The cohort's patients by id, one list per column (cheaper than an object each)."""

    ids: list[int]
    clinic_ids: list[int]
    sex: list[str]
    birth_year: list[int | None]
    diagnoses: list[list[str]]
    pain_onset: list[dt.date | None]
    zones: list[zoneinfo.ZoneInfo]
    synthetic: list[bool]
    pain_trigger: list[str]

    def take(self, kept: list[int]) -> _Patients:
        """The patients at these positions."""
        return _Patients(*([getattr(self, f.name)[i] for i in kept] for f in fields(self)))


def _patient_rows(qs: QuerySet[Patient]) -> _Patients:
    """The cohort's patients, by id: one query."""
    rows = list(
        qs.annotate(diagnoses_json=Cast("diagnoses", TextField()))
        .values_list(
            "id",
            "clinic_id",
            "sex",
            "birth_year",
            "diagnoses_json",
            "pain_onset",
            "time_zone",
            "is_synthetic",
            "pain_trigger",
        )
        .order_by("id")
    )
    if not rows:
        return _Patients([], [], [], [], [], [], [], [], [])
    ids, clinic_ids, sex, birth_year, diagnoses_json, pain_onset, zone_names, synthetic, trigger = map(
        list, zip(*rows, strict=True)
    )
    # The diagnosis lists as one JSON document: one parse instead of one per patient.
    diagnoses = [list(d or []) for d in json.loads("[" + ",".join(d or "[]" for d in diagnoses_json) + "]")]
    zones = {name: zoneinfo.ZoneInfo(name) for name in set(zone_names)}
    return _Patients(
        ids, clinic_ids, sex, birth_year, diagnoses, pain_onset, [zones[n] for n in zone_names], synthetic, trigger
    )


@dataclass(frozen=True)
class _Plans:
    """Day 0 is the earliest start date over the versions; the current plan is the
    highest version (its components give the modalities and the adherence)."""

    start: dict[int, dt.date]
    current: dict[int, tuple[int, int, dt.date]]  # patient -> (version, plan id, start)
    components: dict[int, list[ComponentSpec]]
    modalities: dict[int, tuple[str, ...]]  # of the current plan, each once, in plan order


def _plans(qs: QuerySet[Patient]) -> _Plans:
    """Plans and the current plans' components: two queries."""
    start: dict[int, dt.date] = {}
    current: dict[int, tuple[int, int, dt.date]] = {}
    for patient_id, plan_id, version, start_date in (
        RehabPlan.objects.filter(patient__in=qs).values_list("patient_id", "id", "version", "start_date").order_by()
    ):
        if patient_id not in start or start_date < start[patient_id]:
            start[patient_id] = start_date
        if patient_id not in current or version > current[patient_id][0]:
            current[patient_id] = (version, plan_id, start_date)
    current_ids = {plan_id for _v, plan_id, _s in current.values()}
    components: dict[int, list[ComponentSpec]] = defaultdict(list)
    for plan_id, patient_id, component_id, modality, frequency, duration in (
        PlanComponent.objects.filter(plan__patient__in=qs)
        .values_list("plan_id", "plan__patient_id", "id", "modality", "frequency_per_week", "duration_weeks")
        .order_by("plan_id", "order", "id")
    ):
        if plan_id in current_ids:
            components[patient_id].append(ComponentSpec(component_id, modality, frequency, duration))
    modalities = {pk: tuple(dict.fromkeys(c.modality for c in specs)) for pk, specs in components.items()}
    return _Plans(start, current, components, modalities)


def _first_nrs(qs: QuerySet[Patient]) -> dict[int, dt.datetime]:
    """The first NRS entry of each patient without a plan (their day 0): one query."""
    return dict(
        Assessment.objects.filter(
            nrs_q(), patient__in=qs.exclude(Exists(RehabPlan.objects.filter(patient=OuterRef("pk"))))
        )
        .order_by()
        .values("patient_id")
        .annotate(first=Min("recorded_at"))
        .values_list("patient_id", "first")
    )


@dataclass(frozen=True)
class _Day0s:
    """The patients the since / until filters keep, with day 0 and its local date."""

    patients: _Patients
    day0: list[dt.datetime | None]
    day0_date: list[dt.date | None]


def _day0s(patients: _Patients, plans: _Plans, first_nrs: dict[int, dt.datetime], filters: CohortFilters) -> _Day0s:
    day0: list[dt.datetime | None] = []
    day0_date: list[dt.date | None] = []
    midnights: dict[tuple[dt.date, zoneinfo.ZoneInfo], dt.datetime | None] = {}  # plans share start dates
    for pk, tz in zip(patients.ids, patients.zones, strict=True):
        start = plans.start.get(pk)
        if start is not None:
            key = (start, tz)
            t = midnights[key] if key in midnights else midnights.setdefault(key, day0_from(tz, start, None))
        else:
            t = day0_from(tz, None, first_nrs.get(pk))
        day0.append(t)
        day0_date.append(start or (t.astimezone(tz).date() if t else None))
    if filters.since is None and filters.until is None:
        return _Day0s(patients, day0, day0_date)
    kept = [i for i, local in enumerate(day0_date) if filters.admits(local)]
    return _Day0s(patients.take(kept), [day0[i] for i in kept], [day0_date[i] for i in kept])


def _primary_therapists(qs: QuerySet[Patient], patient_ids: IntArray) -> tuple[IntArray, dict[int, str]]:
    """Each patient's primary therapist (``UNASSIGNED``: none) and their names: one query."""
    therapist = np.full(patient_ids.size, UNASSIGNED, dtype=np.int64)
    labels: dict[int, str] = {}
    primary: dict[int, int] = {}
    for patient_id, user_id, first_name, last_name, username in (
        CareTeamMember.objects.filter(patient__in=qs, is_primary=True)
        .order_by("-added_at", "-id")  # the latest primary wins when there are two
        .values_list("patient_id", "user_id", "user__first_name", "user__last_name", "user__username")
    ):
        primary.setdefault(patient_id, user_id)
        labels[user_id] = f"{first_name} {last_name}".strip() or username
    if primary:
        pos, known = positions(patient_ids, list(primary))
        therapist[pos[known]] = np.array(list(primary.values()), dtype=np.int64)[known]
    return therapist, labels


def _scores(qs: QuerySet[Patient], patient_ids: IntArray, instruments: Sequence[str]) -> dict[str, Entries]:
    """Scores of these instruments with days since 1970 (the first-to-last rules need
    order and spacing only), in (time, id) order so that ties keep entry order. One query
    over the sparse-instrument index (everything but NRS); an entry a later one completes
    is left out (the completing entry stands for both)."""
    rows = list(
        Assessment.objects.filter(
            patient__in=qs, instrument__in=instruments, total__isnull=False, superseded_by__isnull=True
        )
        .order_by("recorded_at", "id")
        .values_list("instrument", "patient_id", "recorded_at", "total")
    )
    out = dict.fromkeys(instruments, Entries.empty())
    if not rows:
        return out
    codes = np.array([r[0] for r in rows])
    pos, known = positions(patient_ids, [r[1] for r in rows])
    day = np.array([epoch_us(r[2]) for r in rows], dtype=np.float64) / US_PER_DAY
    value = np.array([r[3] for r in rows], dtype=np.float64)
    for code in instruments:
        mine = known & (codes == code)
        out[code] = Entries(pos[mine], day[mine], value[mine])
    return out


def _done(qs: QuerySet[Patient], tz_of: dict[int, zoneinfo.ZoneInfo]) -> tuple[dict[int, list[Done]], dict[int, int]]:
    """What each patient did: delivered sessions (on their local date) and home exercise
    logged as done, and the number of sessions: two queries."""
    done: dict[int, list[Done]] = defaultdict(list)
    sessions: dict[int, int] = defaultdict(int)
    for patient_id, component_id, modality, delivered_at in (
        TherapySession.objects.filter(patient__in=qs)
        .order_by()
        .values_list("patient_id", "component_id", "modality", "delivered_at")
    ):
        tz = tz_of.get(patient_id)
        if tz is not None:
            done[patient_id].append(
                Done(on=delivered_at.astimezone(tz).date(), modality=modality, component_id=component_id)
            )
            sessions[patient_id] += 1
    for patient_id, component_id, modality, on in (
        HomeExerciseLog.objects.filter(patient__in=qs, done=True)
        .order_by()
        .values_list("patient_id", "component_id", "component__modality", "date")
    ):
        if patient_id in tz_of:
            done[patient_id].append(Done(on=on, modality=modality, component_id=component_id))
    return done, sessions


def _adherence(
    qs: QuerySet[Patient],
    patient_ids: IntArray,
    plans: _Plans,
    tz_of: dict[int, zoneinfo.ZoneInfo],
    today: dt.date | None,
) -> tuple[FloatArray, IntArray]:
    """Plan adherence (``therapies.adherence``, the figure the therapist sees) and the
    number of delivered sessions, from two queries for the whole cohort."""
    done, sessions_of = _done(qs, tz_of)
    sessions = np.array([sessions_of.get(pk, 0) for pk in patient_ids.tolist()], dtype=np.int64)
    pct = np.full(patient_ids.size, np.nan)
    now = timezone.now()
    todays: dict[zoneinfo.ZoneInfo, dt.date] = {}
    for i, pk in enumerate(patient_ids.tolist()):
        specs = plans.components.get(pk)
        if not specs:
            continue
        tz = tz_of[pk]
        local_today = today or todays.get(tz) or todays.setdefault(tz, now.astimezone(tz).date())
        percent = _percent(specs, done.get(pk), plans.current[pk][2], local_today)
        if percent is not None:
            pct[i] = percent
    return pct, sessions


def _percent(specs: list[ComponentSpec], done: list[Done] | None, start: dt.date, today: dt.date) -> float | None:
    if done:
        return plan_adherence(specs, done, start=start, today=today).percent
    # Nothing done: 0 % once anything is prescribed (what plan_adherence gives, without
    # building the per-component result for every idle patient).
    due = any(prescribed_to_date(c.frequency_per_week, c.duration_weeks, start, today) for c in specs)
    return 0.0 if due else None


def _dn4_first(qs: QuerySet[Patient], patient_ids: IntArray) -> tuple[FloatArray, FloatArray]:
    """The first DN4 per patient, total and maximum (a clinician-completed record
    replaces the interview it completes, so superseded interviews are skipped)."""
    total = np.full(patient_ids.size, np.nan)
    maximum = np.full(patient_ids.size, np.nan)
    rows = (
        Assessment.objects.filter(patient__in=qs, instrument="dn4", total__isnull=False, superseded_by__isnull=True)
        .order_by("patient_id", "recorded_at", "id")
        .values_list("patient_id", "total", "detail")
    )
    first: dict[int, tuple[float | None, float]] = {}
    for patient_id, score, detail in rows:
        if patient_id not in first:
            first[patient_id] = (score, float((detail or {}).get("max") or 10))
    if first:
        pos, known = positions(patient_ids, list(first))
        values = np.array(list(first.values()), dtype=np.float64)
        total[pos[known]] = values[known, 0]
        maximum[pos[known]] = values[known, 1]
    return total, maximum


def cohort_arrays(
    user: Any,
    filters: CohortFilters,
    *,
    horizon_weeks: int = HORIZON_WEEKS,
    case_series: bool = False,
    today: dt.date | None = None,
) -> CohortArrays:
    """Load the cohort the user may see, as arrays for the engine.

    A fixed number of queries: patients, plans, current plan components, primary
    therapists, first NRS of patients without a plan, the kept NRS windows and weekly
    sums (and the stored entries of stale patients, :func:`nrs_weeks.cohort_nrs`), thermal
    readings, questionnaires, delivered sessions and home-exercise logs (adherence), and
    with ``case_series`` the DN4 scores.
    """
    if horizon_weeks < 1:
        raise ValueError("horizon_weeks must be >= 1")
    qs = _cohort_queryset(user, filters)
    plans = _plans(qs)
    kept = _day0s(_patient_rows(qs), plans, _first_nrs(qs), filters)
    p = kept.patients
    patient_ids = np.array(p.ids, dtype=np.int64)
    tz_of = dict(zip(p.ids, p.zones, strict=True))
    therapist, labels = _primary_therapists(qs, patient_ids)
    basis = Basis(kept.day0, p.zones)
    windows, weekly = cohort_nrs(qs, patient_ids, basis, horizon_weeks=horizon_weeks)
    scores = _scores(qs, patient_ids, ("thermal", *QUESTIONNAIRE_MCID))
    adherence_pct, sessions = _adherence(qs, patient_ids, plans, tz_of, today)
    no_dn4 = (np.full(patient_ids.size, np.nan), np.full(patient_ids.size, np.nan))
    dn4_total, dn4_max = _dn4_first(qs, patient_ids) if case_series else no_dn4
    return CohortArrays(
        patient_ids=patient_ids,
        clinic_ids=np.array(p.clinic_ids, dtype=np.int64),
        sex=p.sex,
        synthetic=np.array(p.synthetic, dtype=np.bool_),
        pain_trigger=p.pain_trigger,
        birth_year=p.birth_year,
        diagnoses=p.diagnoses,
        pain_onset=p.pain_onset,
        day0_date=kept.day0_date,
        has_plan=np.array([pk in plans.start for pk in p.ids], dtype=np.bool_),
        therapist=therapist,
        therapist_labels=labels,
        modalities=[plans.modalities.get(pk, ()) for pk in p.ids],
        adherence=adherence_pct,
        sessions=sessions,
        nrs_windows=windows,
        nrs_weekly=weekly,
        thermal=scores["thermal"],
        questionnaires={code: scores[code] for code in QUESTIONNAIRE_MCID},
        dn4_total=dn4_total,
        dn4_max=dn4_max,
        horizon_weeks=horizon_weeks,
    )
