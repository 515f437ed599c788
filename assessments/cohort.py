"""Cohort outcomes for clinic managers: the one selector that feeds the numpy engine
(``assessments.analytics``) and the service that turns its results into the summary.

Day 0 of a patient is the start date of their rehab plan (the earliest ``start_date``
over all plan versions, at 00:00 in the patient's time zone). A patient without a plan
falls back to their first NRS entry. Day 0, the baseline week and the current window are
those of ``assessments.outcomes`` (the one definition; days are counted on the patient's
wall clock). Everything pain-related is counted from day 0:

- baseline = mean NRS over ``[day 0, day 0 + 7 d)``; current = mean NRS over the 7 days
  up to the last entry; both need >= 3 entries and the last entry must be >= 14 days
  after day 0 (``analytics.pain_outcomes``: IMMPACT responders at >= 30 % and >= 50 %,
  MCID 2 NRS points);
- trajectories: the patients' weekly means by plan week (week k = days [7k, 7k + 7)),
  median and IQR per week, for the first ``HORIZON_WEEKS`` weeks;
- time to response: the first plan week k >= 1 whose mean (>= 3 entries) is at most
  70 % of the baseline week's mean, at weekly resolution (the engine's trailing-window
  rule applied to weekly means), censored at the last week with enough entries or at
  the horizon; Kaplan-Meier with log-log Greenwood intervals.

PHQ-9, GAD-7 and ODI are first-to-last score changes against their MCIDs (5, 4 and 10
points); thermal symmetry recovery is a first reading with max |ΔT| >= 1.0 °C and a
later one under it (the ``thermal`` total is the largest |ΔT| over the ROIs).
Adherence is the plan adherence of ``therapies.adherence`` as of today.

Loading is a fixed number of queries whatever the cohort's size. On PostgreSQL the NRS
series never reach Python whole: the baseline is plan week 0, the current window is one
index range scan per patient up to the latest entry (kept at write time), and the weekly
sums and counts are the ones every capture keeps (``assessments.nrs_weeks``), one packed
value a patient instead of a year of entries; all of it comes back in one packed row per
patient. A patient whose kept day 0 is stale is reduced from the raw entries instead. Elsewhere (SQLite, the embedded default) the cohort's NRS rows are loaded
with one ``values_list`` and reduced in numpy with the same rules and exact integer
microsecond arithmetic, so both paths hand the engine the same arrays.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import math
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import psycopg
from django.conf import settings
from django.db import connection
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import Exists, Min, OuterRef, QuerySet, Subquery, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments import analytics
from assessments.models import Assessment, NrsSeries
from assessments.nrs_weeks import RECENT_CELL, WEEK_CELL
from assessments.outcomes import day0_from, wall_clock
from patients.access import visible_patients
from patients.audit import Actor, audit_list_record
from patients.models import CareTeamMember, Diagnosis, Patient, Sex
from therapies.adherence import ComponentSpec, Done, plan_adherence, prescribed_to_date
from therapies.modality_names import modality_name
from therapies.models import HomeExerciseLog, PlanComponent, RehabPlan, TherapySession

__all__ = [
    "HORIZON_WEEKS",
    "QUESTIONNAIRE_MCID",
    "CohortArrays",
    "CohortFilters",
    "CohortOutcomes",
    "case_series_rows",
    "cohort_arrays",
    "cohort_outcomes",
    "patient_code",
    "patient_rows",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

WINDOW_DAYS = analytics.DEFAULT_WINDOW_DAYS
MIN_ENTRIES = analytics.DEFAULT_MIN_ENTRIES
#: Trajectories and time to response cover the first 26 plan weeks (six months, the
#: usual chronic-pain follow-up); a response later than that is censored at 26 weeks.
HORIZON_WEEKS = 26
RESPONSE_PCT = 30.0
THERMAL_THRESHOLD_C = 1.0
#: First-to-last questionnaire changes (points) counted as clinically important.
QUESTIONNAIRE_MCID: dict[str, float] = {code: analytics.MCID[code] for code in ("phq9", "gad7", "odi")}

_US_PER_S = 1_000_000
_WINDOW_US = int(WINDOW_DAYS * 86_400 * _US_PER_S)
_WEEK_US = 7 * 86_400 * _US_PER_S
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_NAIVE_EPOCH = dt.datetime(1970, 1, 1)  # noqa: DTZ001 - the origin of wall-clock times
_ONE_US = dt.timedelta(microseconds=1)
UNASSIGNED = -1


# --- filters -----------------------------------------------------------------------------


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


# --- the selector ------------------------------------------------------------------------


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
class WeeklyNrs:
    """Per patient and plan week (0 .. horizon - 1): sum and number of NRS entries."""

    idx: IntArray
    week: IntArray
    total: FloatArray
    n: IntArray

    @classmethod
    def empty(cls) -> WeeklyNrs:
        return cls(
            np.empty(0, dtype=np.int64),
            np.empty(0, dtype=np.int64),
            np.empty(0),
            np.empty(0, dtype=np.int64),
        )

    @property
    def mean(self) -> FloatArray:
        return self.total / np.maximum(self.n, 1)


@dataclass(frozen=True, eq=False)
class NrsWindows:
    """Per patient (cohort position): NRS sum and count of the baseline window
    ``[day 0, day 0 + 7 d)`` and of the current window ``(last - 7 d, last]`` (entries
    from day 0 on), and the day of the last entry since day 0 (``nan``: none)."""

    baseline_total: FloatArray
    n_baseline: IntArray
    current_total: FloatArray
    n_current: IntArray
    last_day: FloatArray

    @classmethod
    def from_parts(
        cls,
        n: int,
        weekly: WeeklyNrs,
        pos: IntArray,
        last_day: FloatArray,
        current_total: FloatArray,
        n_current: IntArray,
    ) -> NrsWindows:
        """The baseline is plan week 0; the current window comes per patient position."""
        windows = cls(
            np.zeros(n),
            np.zeros(n, dtype=np.int64),
            np.zeros(n),
            np.zeros(n, dtype=np.int64),
            np.full(n, np.nan),
        )
        week0 = weekly.week == 0
        windows.baseline_total[weekly.idx[week0]] = weekly.total[week0]
        windows.n_baseline[weekly.idx[week0]] = weekly.n[week0]
        windows.current_total[pos] = current_total
        windows.n_current[pos] = n_current
        windows.last_day[pos] = last_day
        return windows


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


def _epoch_us(value: dt.datetime) -> int:
    return (value - _EPOCH) // _ONE_US


def _wall_us(value: dt.datetime, tz: zoneinfo.ZoneInfo) -> int:
    """Microseconds since 1970 on the patient's wall clock (``outcomes.wall_clock``): the
    windows and weeks are differences of these, so a local day is a day across DST."""
    return (wall_clock(value, tz) - _NAIVE_EPOCH) // _ONE_US


def _positions(patient_ids: IntArray, raw_ids: npt.ArrayLike) -> tuple[IntArray, BoolArray]:
    """Cohort positions of raw patient ids, and which of them are in the cohort."""
    raw = np.asarray(raw_ids, dtype=np.int64)
    if patient_ids.size == 0 or raw.size == 0:
        return np.zeros(raw.size, dtype=np.int64), np.zeros(raw.size, dtype=np.bool_)
    pos = np.searchsorted(patient_ids, raw)
    pos_clipped = np.minimum(pos, patient_ids.size - 1)
    known = patient_ids[pos_clipped] == raw
    return pos_clipped.astype(np.int64), known


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
    therapists, first NRS of patients without a plan, the NRS windows and weekly sums
    (one query each on PostgreSQL, one together elsewhere), thermal readings,
    questionnaires, delivered sessions and home-exercise logs (adherence), and with
    ``case_series`` the DN4 scores.
    """
    if horizon_weeks < 1:
        raise ValueError("horizon_weeks must be >= 1")
    qs = _cohort_queryset(user, filters)
    now = timezone.now()

    patient_rows = list(
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
    # The diagnosis lists as one JSON document: one parse instead of one per patient.
    diagnoses_of = json.loads("[" + ",".join(row[4] or "[]" for row in patient_rows) + "]")
    zones: dict[str, zoneinfo.ZoneInfo] = {}
    tz_of: dict[int, zoneinfo.ZoneInfo] = {}
    for row in patient_rows:
        tz_of[row[0]] = zones.get(row[6]) or zones.setdefault(row[6], zoneinfo.ZoneInfo(row[6]))

    # Plans: day 0 is the earliest start date over the versions; the current plan is the
    # highest version (its components give the modalities and the adherence).
    plan_start: dict[int, dt.date] = {}
    current_plan: dict[int, tuple[int, int, dt.date]] = {}  # patient -> (version, plan id, start)
    for patient_id, plan_id, version, start in (
        RehabPlan.objects.filter(patient__in=qs).values_list("patient_id", "id", "version", "start_date").order_by()
    ):
        if patient_id not in plan_start or start < plan_start[patient_id]:
            plan_start[patient_id] = start
        if patient_id not in current_plan or version > current_plan[patient_id][0]:
            current_plan[patient_id] = (version, plan_id, start)
    current_plan_ids = {plan_id for _v, plan_id, _s in current_plan.values()}
    components: dict[int, list[ComponentSpec]] = defaultdict(list)
    for plan_id, patient_id, component_id, modality, frequency, duration in (
        PlanComponent.objects.filter(plan__patient__in=qs)
        .values_list(
            "plan_id",
            "plan__patient_id",
            "id",
            "modality",
            "frequency_per_week",
            "duration_weeks",
        )
        .order_by("plan_id", "order", "id")
    ):
        if plan_id in current_plan_ids:
            components[patient_id].append(ComponentSpec(component_id, modality, frequency, duration))

    first_nrs = dict(
        Assessment.objects.filter(
            patient__in=qs.exclude(Exists(RehabPlan.objects.filter(patient=OuterRef("pk")))),
            instrument="nrs",
            total__isnull=False,
        )
        .order_by()
        .values("patient_id")
        .annotate(first=Min("recorded_at"))
        .values_list("patient_id", "first")
    )

    # Day 0 per patient and the since / until selection on its local date.
    kept: list[tuple[Any, ...]] = []
    diagnoses: list[list[str]] = []
    t0: list[dt.datetime | None] = []
    day0_date: list[dt.date | None] = []
    for row, patient_diagnoses in zip(patient_rows, diagnoses_of, strict=True):
        pk = row[0]
        t = day0_from(tz_of[pk], plan_start.get(pk), first_nrs.get(pk))
        local = plan_start.get(pk) or (t.astimezone(tz_of[pk]).date() if t else None)
        outside = (filters.since is not None and (local is None or local < filters.since)) or (
            filters.until is not None and (local is None or local > filters.until)
        )
        if outside:
            continue
        kept.append(row)
        diagnoses.append(list(patient_diagnoses or []))
        t0.append(t)
        day0_date.append(local)

    n = len(kept)
    patient_ids = np.array([row[0] for row in kept], dtype=np.int64)
    t0_us = np.array([_epoch_us(t) if t is not None else 0 for t in t0], dtype=np.int64)
    has_t0 = np.array([t is not None for t in t0], dtype=np.bool_)
    zone_names = [row[6] for row in kept]

    therapist = np.full(n, UNASSIGNED, dtype=np.int64)
    labels: dict[int, str] = {}
    primary: dict[int, int] = {}
    for patient_id, user_id, first_name, last_name, username in (
        CareTeamMember.objects.filter(patient__in=qs, is_primary=True)
        .order_by("-added_at", "-id")  # the latest primary wins when there are two
        .values_list(
            "patient_id",
            "user_id",
            "user__first_name",
            "user__last_name",
            "user__username",
        )
    ):
        primary.setdefault(patient_id, user_id)
        labels[user_id] = f"{first_name} {last_name}".strip() or username
    if primary:
        pos, known = _positions(patient_ids, list(primary))
        therapist[pos[known]] = np.array(list(primary.values()), dtype=np.int64)[known]

    if connection.vendor == "postgresql":
        windows, weekly = _nrs_postgresql(
            patient_ids[has_t0],
            t0_us[has_t0],
            [name for name, known in zip(zone_names, has_t0.tolist(), strict=True) if known],
            patient_ids,
            horizon_weeks,
        )
    else:
        t0_wall = np.array(
            [_wall_us(t, tz_of[pk]) if t is not None else 0 for pk, t in zip(patient_ids.tolist(), t0, strict=True)],
            dtype=np.int64,
        )
        windows, weekly = _nrs_portable(qs, patient_ids, t0_wall, has_t0, tz_of, horizon_weeks)

    scores = _scores(qs, patient_ids, ("thermal", *QUESTIONNAIRE_MCID))

    adherence_pct, sessions = _adherence(
        qs,
        patient_ids,
        components,
        current_plan,
        {pk: tz_of[pk] for pk in patient_ids.tolist()},
        now,
        today,
    )
    dn4_total = np.full(n, np.nan)
    dn4_max = np.full(n, np.nan)
    if case_series:
        _dn4_first(qs, patient_ids, dn4_total, dn4_max)

    return CohortArrays(
        patient_ids=patient_ids,
        clinic_ids=np.array([row[1] for row in kept], dtype=np.int64),
        sex=[row[2] for row in kept],
        synthetic=np.array([row[7] for row in kept], dtype=np.bool_),
        pain_trigger=[row[8] for row in kept],
        birth_year=[row[3] for row in kept],
        diagnoses=diagnoses,
        pain_onset=[row[5] for row in kept],
        day0_date=day0_date,
        has_plan=np.array([row[0] in plan_start for row in kept], dtype=np.bool_),
        therapist=therapist,
        therapist_labels=labels,
        modalities=[tuple(dict.fromkeys(c.modality for c in components.get(row[0], ()))) for row in kept],
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


def _nrs_postgresql(
    ids: IntArray, t0: IntArray, zones: list[str], patient_ids: IntArray, horizon_weeks: int
) -> tuple[NrsWindows, WeeklyNrs]:
    """Both NRS reductions in PostgreSQL, from what captures keep (``NrsSeries``).

    One packed row per patient: the latest entry, the entries of the 7 days up to it
    (the current window ``(last - 7 d, last]``, counted from t0 on), and the weeks
    ``< horizon`` when their day 0 is ``t0``; the baseline ``[t0, t0 + 7 d)`` is plan week
    0. Patients without an ``NrsSeries`` row have their window looked up over the series
    index, and those without current weeks have their weeks summed from the raw entries
    over ``[t0, t0 + horizon)``. Days and weeks are counted on the patient's wall clock
    (``AT TIME ZONE``, ``assessments.outcomes``), a day wider range on the UTC timestamps
    keeping the index usable.
    """
    n = patient_ids.size
    if ids.size == 0:
        return NrsWindows.from_parts(n, WeeklyNrs.empty(), *_no_current()), WeeklyNrs.empty()
    table = connection.ops.quote_name(Assessment._meta.db_table)
    series = connection.ops.quote_name(NrsSeries._meta.db_table)
    tail = horizon_weeks * WEEK_CELL.itemsize
    # Day 0 as integer microseconds since 1970: exact, and cheap to send for 10^4 patients.
    # OFFSET 0 keeps the subquery from being inlined, so t0 is computed once per patient.
    cohort = (
        "(SELECT u.pid, timestamptz 'epoch' + u.t0 * interval '1 microsecond' AS t0, u.tz"
        " FROM unnest(%(ids)s::bigint[], %(t0)s::bigint[], %(tz)s::text[]) AS u(pid, t0, tz) OFFSET 0)"
    )
    kept_sql = f"""
        SELECT float8send(w.pid::float8)
               || float8send(coalesce(date_part('epoch', (s.last_at AT TIME ZONE w.tz)
                                                          - (w.t0 AT TIME ZONE w.tz)), 'NaN')::float8)
               || float8send((s.day0 IS NOT DISTINCT FROM w.t0)::int::float8)
               || float8send((length(s.recent) / {RECENT_CELL.itemsize})::float8)
               || substring(s.weeks || %(pad)s::bytea from 1 for %(tail)s) AS head,
               s.recent, w.pid
        FROM {cohort} w JOIN {series} s ON s.patient_id = w.pid
    """  # noqa: S608 - the table name is ours, every value is a parameter
    # For patients without an NrsSeries row: the latest entry and the current window.
    lookup_sql = f"""
        SELECT w.pid::float8, date_part('epoch', (l.last AT TIME ZONE w.tz) - (w.t0 AT TIME ZONE w.tz))::float8,
               c.total::float8, c.n::float8
        FROM {cohort} w
        CROSS JOIN LATERAL (
            SELECT max(x.recorded_at) AS last FROM {table} x
            WHERE x.patient_id = w.pid AND x.instrument = 'nrs' AND x.total IS NOT NULL
        ) l
        CROSS JOIN LATERAL (
            SELECT coalesce(sum(a.total), 0) AS total, count(*) AS n FROM {table} a
            WHERE a.patient_id = w.pid AND a.instrument = 'nrs' AND a.total IS NOT NULL
              AND a.recorded_at > l.last - (%(window)s + 1) * interval '1 day'
              AND (a.recorded_at AT TIME ZONE w.tz) > (l.last AT TIME ZONE w.tz) - %(window)s * interval '1 day'
              AND a.recorded_at <= l.last AND a.recorded_at >= w.t0
        ) c
        WHERE l.last >= w.t0
    """  # noqa: S608
    # Weeks from the raw entries, for patients without current kept weeks.
    raw_sql = f"""
        SELECT w.pid::float8, g.week::float8, g.total::float8, g.n::float8
        FROM {cohort} w CROSS JOIN LATERAL (
            SELECT floor(date_part('epoch', (a.recorded_at AT TIME ZONE w.tz)
                                            - (w.t0 AT TIME ZONE w.tz)) / 604800)::int AS week,
                   sum(a.total) AS total, count(*) AS n
            FROM {table} a
            WHERE a.patient_id = w.pid AND a.instrument = 'nrs' AND a.total IS NOT NULL
              AND a.recorded_at >= w.t0 AND a.recorded_at < w.t0 + (%(horizon)s + 86400) * interval '1 second'
              AND (a.recorded_at AT TIME ZONE w.tz) < (w.t0 AT TIME ZONE w.tz) + %(horizon)s * interval '1 second'
            GROUP BY 1
        ) g
    """  # noqa: S608
    params = {
        "ids": _pg_array(ids),
        "t0": _pg_array(t0),
        "tz": _pg_text_array(zones),
        "window": WINDOW_DAYS,
        "horizon": horizon_weeks * 7 * 86_400,
        "pad": bytes(tail),
        "tail": tail,
    }

    heads, recent = _fetch_kept(kept_sql, params)
    row = np.dtype([("head", ">f8", (4,)), ("weeks", WEEK_CELL, (horizon_weeks,))])
    kept = np.frombuffer(heads, dtype=row)
    head = kept["head"].astype(np.float64).reshape(-1, 4)
    kept_ids = head[:, 0].astype(np.int64)
    kept_pos, _known = _positions(patient_ids, kept_ids)
    # The current window from the kept recent entries, from day 0 on.
    row_t0 = t0[np.searchsorted(ids, kept_ids)]
    entries = np.frombuffer(recent, dtype=RECENT_CELL)
    entry_row = np.repeat(np.arange(kept.size), head[:, 3].astype(np.int64))
    from_day0 = entries["at_us"] >= row_t0[entry_row]
    has_window = head[:, 1] >= 0  # the latest entry is on or after day 0
    current_total = np.bincount(
        entry_row[from_day0], weights=entries["value"][from_day0].astype(np.float64), minlength=kept.size
    )
    n_current = np.bincount(entry_row[from_day0], minlength=kept.size).astype(np.int64)
    window_parts: list[tuple[IntArray, FloatArray, FloatArray, IntArray]] = [
        (
            kept_pos[has_window],
            head[has_window, 1] / 86_400.0,
            current_total[has_window].astype(np.float64),
            n_current[has_window],
        )
    ]
    # Weeks kept from this day 0.
    fresh = head[:, 2] == 1
    cells = kept["weeks"][fresh]
    cell_row, cell_week = np.nonzero(cells["n"] > 0)
    week_parts: list[tuple[IntArray, IntArray, FloatArray, IntArray]] = [
        (
            kept_pos[fresh][cell_row],
            cell_week.astype(np.int64),
            cells["total"][cell_row, cell_week].astype(np.float64),
            cells["n"][cell_row, cell_week].astype(np.int64),
        )
    ]
    unknown = ~np.isin(ids, kept_ids)
    if unknown.any():
        found = _fetch_matrix(lookup_sql, _subset(params, ids, t0, zones, unknown), 4)
        found_pos, _known = _positions(patient_ids, found[:, 0].astype(np.int64))
        window_parts.append((found_pos, found[:, 1] / 86_400.0, found[:, 2], found[:, 3].astype(np.int64)))
    raw_ids = np.isin(ids, kept_ids[~fresh]) | unknown
    if raw_ids.any():
        raw = _fetch_matrix(raw_sql, _subset(params, ids, t0, zones, raw_ids), 4)
        raw_pos, _known = _positions(patient_ids, raw[:, 0].astype(np.int64))
        week_parts.append((raw_pos, raw[:, 1].astype(np.int64), raw[:, 2], raw[:, 3].astype(np.int64)))
    weekly = WeeklyNrs(*(np.concatenate([p[k] for p in week_parts]) for k in range(4)))
    windows = NrsWindows.from_parts(n, weekly, *(np.concatenate([p[k] for p in window_parts]) for k in range(4)))
    return windows, weekly


def _fetch_kept(sql: str, params: dict[str, Any]) -> tuple[bytes, bytes]:
    """The packed heads and the recent entries of ``sql``'s rows (columns head, recent,
    pid), each concatenated in pid order: see :func:`_fetch_packed` for why."""
    with _binary_cursor() as cursor:
        cursor.execute(
            "SELECT string_agg(r.head, ''::bytea ORDER BY r.pid),"  # noqa: S608
            f" string_agg(r.recent, ''::bytea ORDER BY r.pid) FROM ({sql}) AS r",
            params,
        )
        heads, recent = cursor.fetchone() or (None, None)
    return bytes(heads or b""), bytes(recent or b"")


def _binary_cursor() -> CursorWrapper:
    """A cursor with server-side parameter binding and binary results (bytea as is, not
    hex text), wrapped like Django's own (query logging, execute wrappers)."""
    connection.ensure_connection()
    raw = psycopg.Cursor(connection.connection)
    raw.format = psycopg.pq.Format.BINARY
    wrapper = CursorDebugWrapper if connection.queries_logged else CursorWrapper
    return wrapper(raw, connection)


def _pg_array(values: IntArray) -> str:
    """An integer array as a PostgreSQL array literal (far cheaper to send than a list
    adapted element by element)."""
    return "{" + ",".join(map(str, values.tolist())) + "}"


def _pg_text_array(values: Sequence[str]) -> str:
    """Time zone names as a PostgreSQL array literal (each element quoted)."""
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def _subset(params: dict[str, Any], ids: IntArray, t0: IntArray, zones: list[str], mask: BoolArray) -> dict[str, Any]:
    return {
        **params,
        "ids": _pg_array(ids[mask]),
        "t0": _pg_array(t0[mask]),
        "tz": _pg_text_array([z for z, keep in zip(zones, mask.tolist(), strict=True) if keep]),
    }


def _fetch_matrix(sql: str, params: dict[str, Any], width: int) -> FloatArray:
    """The rows of ``sql`` (``width`` float8 columns, never null) as one matrix."""
    return _fetch_packed(sql, params, width)[0]


def _fetch_packed(sql: str, params: dict[str, Any], width: int, tail_bytes: int = 0) -> tuple[FloatArray, bytes]:
    """The rows of ``sql``: ``width`` float8 columns (never null) as one matrix, and with
    ``tail_bytes`` a last bytea column of exactly that many bytes a row, concatenated.

    PostgreSQL packs the rows into a single bytea (big-endian float8s, then the tail) and
    numpy reads it as is: tens of thousands of values without a Python tuple and float
    each, which took longer than the queries themselves. The bytea comes back in binary
    (not hex text), so this one query uses server-side parameter binding, with Django's
    cursor wrapper kept around it (query logging, execute wrappers).
    """
    columns = [f"c{i}" for i in range(width)] + (["tail"] if tail_bytes else [])
    packed = [f"float8send(r.c{i})" for i in range(width)] + (["r.tail"] if tail_bytes else [])
    with _binary_cursor() as cursor:
        cursor.execute(
            f"SELECT string_agg({' || '.join(packed)}, ''::bytea)"  # noqa: S608
            f" FROM ({sql}) AS r({', '.join(columns)})",
            params,
        )
        (blob,) = cursor.fetchone() or (None,)
    row = np.dtype([("head", ">f8", (width,)), ("tail", f"V{max(tail_bytes, 1)}")][: 2 if tail_bytes else 1])
    rows = np.frombuffer(bytes(blob or b""), dtype=row)
    head = rows["head"].astype(np.float64).reshape(-1, width)
    return head, rows["tail"].tobytes() if tail_bytes else b""


def _nrs_portable(
    qs: QuerySet[Patient],
    patient_ids: IntArray,
    t0_us: IntArray,
    has_t0: BoolArray,
    tz_of: dict[int, zoneinfo.ZoneInfo],
    horizon_weeks: int,
) -> tuple[NrsWindows, WeeklyNrs]:
    """The same reductions as :func:`_nrs_postgresql`, in numpy over every NRS row
    (``t0_us``: day 0 on the patient's wall clock, :func:`_wall_us`)."""
    n = patient_ids.size
    if n == 0:  # filters left nobody: nothing to read
        return NrsWindows.from_parts(0, WeeklyNrs.empty(), *_no_current()), WeeklyNrs.empty()
    rows = list(
        Assessment.objects.filter(patient__in=qs, instrument="nrs", total__isnull=False)
        .order_by()
        .values_list("patient_id", "recorded_at", "total")
    )
    raw_ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    at_us = np.fromiter((_wall_us(r[1], tz_of[r[0]]) for r in rows), dtype=np.int64, count=len(rows))
    value = np.fromiter((r[2] for r in rows), dtype=np.float64, count=len(rows))
    pos, known = _positions(patient_ids, raw_ids)
    keep = known & has_t0[pos] if pos.size else known
    pos, rel, value = pos[keep], at_us[keep] - t0_us[pos[keep]], value[keep]
    # Only entries from day 0 on count, in either window and in the weeks.
    pos, rel, value = pos[rel >= 0], rel[rel >= 0], value[rel >= 0]
    last = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last, pos, rel)
    in_current = rel > last[pos] - _WINDOW_US
    current_total = np.bincount(pos[in_current], weights=value[in_current], minlength=n)
    n_current = np.bincount(pos[in_current], minlength=n).astype(np.int64)
    in_horizon = rel < horizon_weeks * _WEEK_US
    weekly = WeeklyNrs.empty()
    if in_horizon.any():
        cells, inverse = np.unique(
            pos[in_horizon] * horizon_weeks + rel[in_horizon] // _WEEK_US,
            return_inverse=True,
        )
        weekly = WeeklyNrs(
            cells // horizon_weeks,
            cells % horizon_weeks,
            np.bincount(inverse, weights=value[in_horizon]).astype(np.float64),
            np.bincount(inverse).astype(np.int64),
        )
    who = np.flatnonzero(last >= 0).astype(np.int64)
    windows = NrsWindows.from_parts(
        n,
        weekly,
        who,
        last[who] / (86_400 * _US_PER_S),
        current_total[who].astype(np.float64),
        n_current[who],
    )
    return windows, weekly


def _no_current() -> tuple[IntArray, FloatArray, FloatArray, IntArray]:
    return (
        np.empty(0, dtype=np.int64),
        np.empty(0),
        np.empty(0),
        np.empty(0, dtype=np.int64),
    )


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
    pos, known = _positions(patient_ids, [r[1] for r in rows])
    day = np.array([_epoch_us(r[2]) for r in rows], dtype=np.float64) / (86_400 * _US_PER_S)
    value = np.array([r[3] for r in rows], dtype=np.float64)
    for code in instruments:
        mine = known & (codes == code)
        out[code] = Entries(pos[mine], day[mine], value[mine])
    return out


def _adherence(
    qs: QuerySet[Patient],
    patient_ids: IntArray,
    components: dict[int, list[ComponentSpec]],
    current_plan: dict[int, tuple[int, int, dt.date]],
    tz_of: dict[int, zoneinfo.ZoneInfo],
    now: dt.datetime,
    today: dt.date | None,
) -> tuple[FloatArray, IntArray]:
    """Plan adherence (``therapies.adherence``, the figure the therapist sees) and the
    number of delivered sessions, from two queries for the whole cohort."""
    n = patient_ids.size
    done: dict[int, list[Done]] = defaultdict(list)
    sessions = np.zeros(n, dtype=np.int64)
    for patient_id, component_id, modality, delivered_at in (
        TherapySession.objects.filter(patient__in=qs)
        .order_by()
        .values_list("patient_id", "component_id", "modality", "delivered_at")
    ):
        tz = tz_of.get(patient_id)
        if tz is None:
            continue
        done[patient_id].append(
            Done(
                on=delivered_at.astimezone(tz).date(),
                modality=modality,
                component_id=component_id,
            )
        )
    if done:
        pos, known = _positions(patient_ids, list(done))
        np.add.at(
            sessions,
            pos[known],
            np.array([len(v) for v in done.values()], dtype=np.int64)[known],
        )
    for patient_id, component_id, modality, on in (
        HomeExerciseLog.objects.filter(patient__in=qs, done=True)
        .order_by()
        .values_list("patient_id", "component_id", "component__modality", "date")
    ):
        if patient_id in tz_of:
            done[patient_id].append(Done(on=on, modality=modality, component_id=component_id))
    pct = np.full(n, np.nan)
    todays: dict[zoneinfo.ZoneInfo, dt.date] = {}
    for i, pk in enumerate(patient_ids.tolist()):
        specs = components.get(pk)
        if not specs:
            continue
        tz = tz_of[pk]
        local_today = today or todays.get(tz) or todays.setdefault(tz, now.astimezone(tz).date())
        start = current_plan[pk][2]
        if pk in done:
            percent = plan_adherence(specs, done[pk], start=start, today=local_today).percent
        else:
            # Nothing done: 0 % once anything is prescribed (what plan_adherence gives,
            # without building the per-component result for every idle patient).
            due = sum(prescribed_to_date(c.frequency_per_week, c.duration_weeks, start, local_today) for c in specs)
            percent = 0.0 if due else None
        if percent is not None:
            pct[i] = percent
    return pct, sessions


def _dn4_first(qs: QuerySet[Patient], patient_ids: IntArray, total: FloatArray, maximum: FloatArray) -> None:
    """The first DN4 per patient (a clinician-completed record replaces the interview it
    completes, so superseded interviews are skipped)."""
    rows = (
        Assessment.objects.filter(
            patient__in=qs,
            instrument="dn4",
            total__isnull=False,
            superseded_by__isnull=True,
        )
        .order_by("patient_id", "recorded_at", "id")
        .values_list("patient_id", "total", "detail")
    )
    first: dict[int, tuple[float | None, float]] = {}
    for patient_id, score, detail in rows:
        if patient_id not in first:
            first[patient_id] = (score, float((detail or {}).get("max") or 10))
    if first:
        pos, known = _positions(patient_ids, list(first))
        values = np.array(list(first.values()), dtype=np.float64)
        total[pos[known]] = values[known, 0]
        maximum[pos[known]] = values[known, 1]


# --- the service -------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CohortOutcomes:
    """Engine results for one cohort, plus the JSON-ready ``summary``."""

    arrays: CohortArrays
    filters: CohortFilters
    pain: analytics.PainOutcomes
    trajectory: analytics.Trajectory
    time_to_response: analytics.TimeToResponse
    km: analytics.KaplanMeier
    thermal: analytics.ThermalRecovery
    questionnaires: dict[str, analytics.ScoreChange]
    summary: dict[str, Any] = field(default_factory=dict)


def cohort_outcomes(
    *,
    actor: Actor,
    filters: CohortFilters,
    horizon_weeks: int = HORIZON_WEEKS,
    case_series: bool = False,
    audit_as: str = "cohort_outcomes",
    today: dt.date | None = None,
) -> CohortOutcomes:
    """Load, compute and audit the cohort outcomes the actor may see."""
    arrays = cohort_arrays(
        actor.user,
        filters,
        horizon_weeks=horizon_weeks,
        case_series=case_series,
        today=today,
    )
    n = arrays.n
    w = arrays.nrs_windows
    pain = analytics.pain_outcomes_from_windows(
        w.baseline_total,
        w.n_baseline,
        w.current_total,
        w.n_current,
        w.last_day,
        window_days=WINDOW_DAYS,
        min_entries=MIN_ENTRIES,
    )

    weekly = arrays.nrs_weekly
    trajectory = analytics.weekly_trajectory_of_means(weekly.week, weekly.mean, max_week=horizon_weeks - 1)
    # Time to response at weekly resolution, over the weeks with enough entries.
    enough = weekly.n >= MIN_ENTRIES
    ttr = analytics.time_to_response_weekly(
        weekly.idx[enough],
        weekly.week[enough],
        weekly.mean[enough],
        n,
        threshold_pct=RESPONSE_PCT,
    )
    weeks_to_response = (ttr.durations + 1.0) / 7.0  # completed plan weeks (see _censoring_marks)
    km = analytics.kaplan_meier(weeks_to_response, ttr.event)

    t = arrays.thermal
    thermal = analytics.thermal_recovery(t.idx, t.day, t.value, n, threshold=THERMAL_THRESHOLD_C)
    questionnaires = {
        code: analytics.score_change(e.idx, e.day, e.value, n, mcid=QUESTIONNAIRE_MCID[code])
        for code, e in arrays.questionnaires.items()
    }
    outcomes = CohortOutcomes(
        arrays=arrays,
        filters=filters,
        pain=pain,
        trajectory=trajectory,
        time_to_response=ttr,
        km=km,
        thermal=thermal,
        questionnaires=questionnaires,
    )
    outcomes.summary.update(_summary(outcomes))
    audit_list_record(
        actor=actor,
        object_type=audit_as,
        patient_ids=arrays.patient_ids.tolist(),
        detail={"filters": filters.as_dict()},
    )
    return outcomes


def _num(value: float | np.floating[Any] | None, digits: int = 2) -> float | None:
    if value is None or not math.isfinite(float(value)):
        return None
    return round(float(value), digits)


def _rate(mask: BoolArray, valid: BoolArray) -> analytics.RateDict:
    return analytics.rate_dict(analytics.rates(mask, valid))


def _thermal_followed_up(thermal: analytics.ThermalRecovery) -> BoolArray:
    """Asymmetric at the first reading and measured again later: recovery can be judged."""
    with np.errstate(invalid="ignore"):
        later = (thermal.n >= 2) & (thermal.last_day > thermal.first_day)
    return thermal.baseline_asymmetric & later


def _censoring_marks(ttr: analytics.TimeToResponse, km: analytics.KaplanMeier) -> list[dict[str, Any]]:
    """Where patients were censored: each time (weeks), how many, and the curve's value
    there (every observed time is a step of the curve)."""
    weeks = (ttr.durations + 1.0) / 7.0
    censored = np.isfinite(weeks) & ~ttr.event
    times, counts = np.unique(weeks[censored], return_counts=True)
    at = np.searchsorted(km.times, times)
    return [
        {"weeks": _num(t), "count": int(c), "survival": _num(km.survival[i], 4)}
        for t, c, i in zip(times, counts, at, strict=True)
        if i < km.times.size
    ]


def _km_median(km: analytics.KaplanMeier, n: int) -> dict[str, Any]:
    median, interval = analytics.km_median(km)
    return {
        "value": _num(median),
        "n": n,
        "ci95": analytics.interval_dict(interval),
        "too_few": n < analytics.MIN_N_TO_JUDGE,
    }


def _trajectory_ci(outcomes: CohortOutcomes) -> dict[str, list[float | None]]:
    """Bootstrap interval of each week's median (the weekly means of that week)."""
    weekly = outcomes.arrays.nrs_weekly
    order = np.argsort(weekly.week, kind="stable")
    week_sorted, mean_sorted = weekly.week[order], weekly.mean[order]
    low: list[float | None] = []
    high: list[float | None] = []
    for week in outcomes.trajectory.weeks.tolist():  # loop over weeks, not patients
        start, stop = np.searchsorted(week_sorted, (week, week + 1))
        interval = analytics.median_ci(mean_sorted[start:stop])
        low.append(_num(interval.low))
        high.append(_num(interval.high))
    return {"low": low, "high": high}


def _groups(outcomes: CohortOutcomes) -> dict[str, list[dict[str, Any]]]:
    a = outcomes.arrays
    pain = outcomes.pain
    n = a.n

    def rows(membership: BoolArray, keys: Sequence[str], labels: Sequence[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for k, row in enumerate(analytics.group_summary(membership, pain, labels)):
            member = membership[:, k]
            out.append(
                {
                    "key": keys[k],
                    **row,
                    "median_adherence": analytics.median_dict(a.adherence[member], 1),
                }
            )
        return out

    diagnosis_keys = [code for code in Diagnosis.values if any(code in d for d in a.diagnoses)]
    by_diagnosis = np.array([[code in d for code in diagnosis_keys] for d in a.diagnoses], dtype=np.bool_).reshape(
        n, len(diagnosis_keys)
    )

    modality_keys = sorted({m for ms in a.modalities for m in ms})
    by_modality = np.array([[m in ms for m in modality_keys] for ms in a.modalities], dtype=np.bool_).reshape(
        n, len(modality_keys)
    )

    therapist_keys = sorted(
        {int(t) for t in a.therapist.tolist()},
        key=lambda t: (t == UNASSIGNED, a.therapist_labels.get(t, "")),
    )
    by_therapist = a.therapist[:, None] == np.array(therapist_keys, dtype=np.int64)[None, :]

    periods = [f"{d.year}-Q{(d.month - 1) // 3 + 1}" if d else "" for d in a.day0_date]
    period_keys = sorted({p for p in periods if p})
    period_arr = np.array(periods, dtype=object)
    by_period = (
        period_arr[:, None] == np.array(period_keys, dtype=object)[None, :]
        if n
        else np.zeros((0, len(period_keys)), dtype=np.bool_)
    )

    return {
        "diagnosis": rows(
            by_diagnosis,
            diagnosis_keys,
            [str(Diagnosis(code).label) for code in diagnosis_keys],
        ),
        "modality": rows(
            by_modality,
            modality_keys,
            [modality_name(m) for m in modality_keys],
        ),
        "therapist": rows(
            by_therapist.astype(np.bool_),
            [str(t) if t != UNASSIGNED else "unassigned" for t in therapist_keys],
            [a.therapist_labels.get(t, _("No primary therapist")) for t in therapist_keys],
        ),
        "period": rows(
            np.asarray(by_period, dtype=np.bool_).reshape(n, len(period_keys)),
            period_keys,
            period_keys,
        ),
    }


EARLY_WEEK = 3
OUTCOME_WEEK = 12


def _early_response(outcomes: CohortOutcomes) -> dict[str, Any]:
    weekly = outcomes.arrays.nrs_weekly
    enough = weekly.n >= MIN_ENTRIES
    rows = analytics.early_response(
        weekly.idx[enough],
        weekly.week[enough],
        weekly.mean[enough],
        outcomes.arrays.n,
        early_week=EARLY_WEEK,
        outcome_week=OUTCOME_WEEK,
        responder_pct=RESPONSE_PCT,
    )
    return {"early_week": EARLY_WEEK, "outcome_week": OUTCOME_WEEK, "responder_pct": RESPONSE_PCT, "rows": rows}


def _summary(outcomes: CohortOutcomes) -> dict[str, Any]:
    a = outcomes.arrays
    pain = outcomes.pain
    valid = pain.valid
    mcid: dict[str, Any] = {"nrs": {**_rate(pain.mcid, valid), "points": analytics.MCID["nrs"]}}
    for code, change in outcomes.questionnaires.items():
        mcid[code] = {
            **_rate(change.mcid_reached, change.valid),
            "points": QUESTIONNAIRE_MCID[code],
        }
    thermal = outcomes.thermal
    ttr = outcomes.time_to_response
    eligible = np.isfinite(ttr.durations)
    km = outcomes.km
    traj = outcomes.trajectory
    adherence = a.adherence[np.isfinite(a.adherence)]
    return {
        "filters": outcomes.filters.as_dict(),
        "definitions": {
            "day0": "plan start (earliest version's start date, patient's time zone); first NRS entry without a plan",
            "days": "calendar days on the patient's wall clock (a week across a daylight-saving change is 7 local days)",
            "window_days": WINDOW_DAYS,
            "min_entries": MIN_ENTRIES,
            "min_follow_up_days": 2 * WINDOW_DAYS,
            "responder_thresholds_pct": [30, 50],
            "time_to_response": f"first plan week (>= {MIN_ENTRIES} entries) with mean NRS <= {100 - RESPONSE_PCT:g} % of the baseline week",
            "horizon_weeks": a.horizon_weeks,
            "thermal_threshold_c": THERMAL_THRESHOLD_C,
        },
        "n_patients": a.n,
        "n_synthetic": int(np.count_nonzero(a.synthetic)),
        "n_valid": int(np.count_nonzero(valid)),
        "responders": {
            "30": _rate(pain.responder30, valid),
            "50": _rate(pain.responder50, valid),
        },
        "mcid": mcid,
        "baseline_median": analytics.median_dict(pain.baseline[valid]),
        "current_median": analytics.median_dict(pain.current[valid]),
        "median_change": analytics.median_dict(pain.change[valid]),
        "median_pct_change": analytics.median_dict(pain.pct_change[valid], 1),
        "thermal": {
            "n_measured": int(np.count_nonzero(thermal.n > 0)),
            "asymmetric_at_baseline": int(np.count_nonzero(thermal.baseline_asymmetric)),
            "followed_up": int(np.count_nonzero(_thermal_followed_up(thermal))),
            "recovered": _rate(thermal.recovered, _thermal_followed_up(thermal)),
        },
        "adherence": {
            "n": int(adherence.size),
            "median_pct": analytics.median_dict(adherence, 1),
            "at_least_80_pct": _rate(adherence >= 80.0, np.ones(adherence.size, dtype=np.bool_)),
        },
        "time_to_response": {
            "unit": "weeks",
            "n": int(np.count_nonzero(eligible)),
            "events": int(np.count_nonzero(ttr.event)),
            "censored": int(np.count_nonzero(eligible & ~ttr.event)),
            "median_weeks": _km_median(km, int(np.count_nonzero(eligible))),
            "censored_at": _censoring_marks(ttr, km),
            "points": [
                {
                    "weeks": _num(t),
                    "survival": _num(s, 4),
                    "ci95": {"low": _num(lo, 4), "high": _num(hi, 4)},
                }
                for t, s, lo, hi in zip(km.times, km.survival, km.ci_low, km.ci_high, strict=True)
            ],
        },
        "trajectory": {
            "unit": "weeks since plan start",
            "weeks": traj.weeks.tolist(),
            "median": [_num(v) for v in traj.median],
            "q1": [_num(v) for v in traj.q1],
            "q3": [_num(v) for v in traj.q3],
            "ci95": _trajectory_ci(outcomes),
            "n": traj.n.tolist(),
        },
        "groups": _groups(outcomes),
        "early_response": _early_response(outcomes),
    }


# --- per-patient rows (CSV export and the case series) --------------------------------


def patient_code(clinic_id: int, patient_id: int) -> str:
    """A stable pseudonym: keyed hash of clinic and patient (not reversible without the
    server's secret, the same in every export so rows can be followed over time)."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(),
        f"cohort:{clinic_id}:{patient_id}".encode(),
        hashlib.sha256,
    ).hexdigest()
    return f"P-{digest[:10].upper()}"


def _flag(value: bool, known: bool) -> str:
    return ("1" if value else "0") if known else ""


def _fmt(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}" if math.isfinite(value) else ""


def _age(birth_year: int | None, on: dt.date | None) -> int | None:
    if birth_year is None:
        return None
    return (on or timezone.localdate()).year - birth_year


GROUP_CSV_COLUMNS = (
    "grouping",
    "group",
    "label",
    "patients",
    "with_data",
    *(
        f"{measure}_{part}"
        for measure in ("responders30", "responders50", "mcid_nrs")
        for part in ("count", "n", "pct", "ci95_low", "ci95_high", "too_few")
    ),
    *(
        f"{measure}_{part}"
        for measure in ("median_change", "median_pct_change", "median_adherence")
        for part in ("value", "n", "ci95_low", "ci95_high", "too_few")
    ),
)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def group_rows(outcomes: CohortOutcomes) -> Iterable[list[str]]:
    """The summary's groupings (diagnosis, plan modality, primary therapist, plan-start
    quarter) side by side, one row per group, each rate and median with its 95 %
    interval and the "too few to judge" mark: see GROUP_CSV_COLUMNS."""
    for grouping, rows in outcomes.summary["groups"].items():
        for row in rows:
            cells: list[Any] = [grouping, row["key"], row["label"], row["n"], row["n_valid"]]
            for key in ("responders30", "responders50", "mcid"):
                rate = row[key]
                cells += [
                    rate["count"],
                    rate["n"],
                    rate["pct"],
                    rate["ci95"]["low"],
                    rate["ci95"]["high"],
                    rate["too_few"],
                ]
            for key in ("median_change", "median_pct_change", "median_adherence"):
                median = row[key]
                cells += [
                    median["value"],
                    median["n"],
                    median["ci95"]["low"],
                    median["ci95"]["high"],
                    median["too_few"],
                ]
            yield [_cell(value) for value in cells]


PATIENT_CSV_COLUMNS = (
    "patient_code",
    "diagnoses",
    "sex",
    "age",
    "baseline_nrs",
    "current_nrs",
    "change",
    "pct_change",
    "responder30",
    "responder50",
    "mcid_nrs",
    "mcid_phq9",
    "mcid_gad7",
    "mcid_odi",
    "thermal_recovered",
    "adherence_pct",
    "synthetic",
)


def patient_rows(outcomes: CohortOutcomes) -> Iterable[list[str]]:
    """De-identified per-patient outcome rows (no names, no dates): see PATIENT_CSV_COLUMNS.
    Flags are 1 / 0, blank where the patient has too little data to tell."""
    a, pain, thermal = outcomes.arrays, outcomes.pain, outcomes.thermal
    thermal_known = _thermal_followed_up(thermal)
    for i in range(a.n):
        valid = bool(pain.valid[i])
        row = [
            patient_code(int(a.clinic_ids[i]), int(a.patient_ids[i])),
            " ".join(a.diagnoses[i]),
            a.sex[i],
            str(_age(a.birth_year[i], a.day0_date[i]) or ""),
            _fmt(pain.baseline[i]),
            _fmt(pain.current[i]),
            _fmt(pain.change[i]) if valid else "",
            _fmt(pain.pct_change[i]) if valid else "",
            _flag(bool(pain.responder30[i]), valid),
            _flag(bool(pain.responder50[i]), valid),
            _flag(bool(pain.mcid[i]), valid),
        ]
        for code in QUESTIONNAIRE_MCID:
            change = outcomes.questionnaires[code]
            row.append(_flag(bool(change.mcid_reached[i]), bool(change.valid[i])))
        row.append(_flag(bool(thermal.recovered[i]), bool(thermal_known[i])))
        row.append(_fmt(a.adherence[i]))
        row.append("1" if a.synthetic[i] else "0")
        yield row


CASE_SERIES_COLUMNS = (
    "patient_code",
    "date",
    "sex",
    "age",
    "trigger",
    "course_months",
    "diagnosis_basis",
    "sessions",
    "pain_outcome",
)


#: Column headings of the case series as published (the seed's Table 1), translatable.
CASE_SERIES_LABELS = {
    "patient_code": gettext_lazy("Patient"),
    "date": gettext_lazy("Date"),
    "sex": gettext_lazy("Sex"),
    "age": gettext_lazy("Age (years)"),
    "trigger": gettext_lazy("Trigger"),
    "course_months": gettext_lazy("Course (months)"),
    "diagnosis_basis": gettext_lazy("Diagnosis basis"),
    "sessions": gettext_lazy("Sessions"),
    "pain_outcome": gettext_lazy("Pain outcome (NRS)"),
}


def case_series_rows(outcomes: CohortOutcomes) -> list[dict[str, str]]:
    """One row per patient in the layout of a published case series (date, sex, age,
    trigger, course, diagnosis basis, treatment count, outcome), ordered by plan start.
    Course is months from pain onset to plan start; "—" where nothing is recorded."""
    a, pain, thermal = outcomes.arrays, outcomes.pain, outcomes.thermal
    sex_labels = dict(Sex.choices)
    rows: list[tuple[dt.date, int, dict[str, str]]] = []
    for i in range(a.n):
        start = a.day0_date[i]
        onset = a.pain_onset[i]
        course = f"{(start - onset).days / 30.4375:.1f}" if start and onset and onset <= start else "—"
        basis = [", ".join(str(Diagnosis(c).label) if c in Diagnosis.values else c for c in a.diagnoses[i]) or "—"]
        if math.isfinite(a.dn4_total[i]):
            basis.append(f"DN4 {a.dn4_total[i]:g}/{a.dn4_max[i]:g}")
        if math.isfinite(thermal.first_delta[i]):
            basis.append(f"ΔT {thermal.first_delta[i]:.1f} °C")
        if pain.valid[i]:
            label = (
                # xgettext:no-python-format
                _("≥50 % responder")
                if pain.responder50[i]
                # xgettext:no-python-format
                else _("≥30 % responder")
                if pain.responder30[i]
                else _("non-responder")
            )
            pct = _fmt(pain.pct_change[i])
            outcome = (
                f"{pain.baseline[i]:.1f} → {pain.current[i]:.1f} ({pct} %), {label}"
                if pct
                else f"{pain.baseline[i]:.1f} → {pain.current[i]:.1f}, {label}"
            )
        else:
            outcome = _("insufficient data")
        age = _age(a.birth_year[i], start)
        rows.append(
            (
                start or dt.date.max,
                int(a.patient_ids[i]),
                {
                    "patient_code": patient_code(int(a.clinic_ids[i]), int(a.patient_ids[i])),
                    "date": start.isoformat() if start else "—",
                    "sex": str(sex_labels.get(a.sex[i], a.sex[i])),
                    "age": str(age) if age is not None else "—",
                    "trigger": a.pain_trigger[i] or "—",
                    "course_months": course,
                    "diagnosis_basis": "; ".join(basis),
                    "sessions": str(int(a.sessions[i])),
                    "pain_outcome": outcome,
                },
            )
        )
    rows.sort(key=lambda r: (r[0], r[1]))
    return [r[2] for r in rows]
