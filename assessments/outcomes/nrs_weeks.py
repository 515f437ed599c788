"""Weekly NRS sums per patient, kept at write time for the cohort summary.

The cohort summary needs, per patient, the sum and number of NRS entries in each plan
week (week ``w`` is ``[day 0 + 7w days, day 0 + 7w + 7 days)`` on the patient's wall
clock), of the baseline week (week 0) and of the current window (the 7 days up to the
latest entry), all from day 0 on. Day 0, the weeks and the windows are those of
``assessments.outcomes.windows`` (the one definition).

Reducing a year of daily entries for thousands of patients on every read is what makes
a summary slow, so they are kept in plain rows: one ``NrsWeek`` per patient and plan
week of the summary's horizon (``KEPT_WEEKS``), and one ``NrsDiary`` per patient with
the day 0 and time zone the weeks count from, the latest entry (and its day since day 0)
and the current window's sum and count. The rows check themselves: the
summary uses a patient's rows only while the diary's day 0 and time zone are still the
patient's (:func:`cohort_nrs`); a patient whose day 0 moved (a first or earlier plan, an
earlier first entry, a new time zone) or who has no diary is reduced from the stored
entries instead, with the same arithmetic (:func:`entries_reduce`). A stale row is
slower, never wrong, so nothing outside this module has to keep it in step.

Writes: every capture counts its entry (:func:`nrs_week_add`, in the capture's
transaction) and recounts the patient first when day 0 moved. Whatever removes entries
(the admin's delete) recounts the patients it touched (:func:`nrs_weeks_rebuild`), as
must a load that bypasses the capture service (the ``nrs_weeks_rebuild`` command).

Concurrency: whoever changes a patient's rows holds the lock of the patient's diary row
(``SELECT ... FOR UPDATE``; SQLite serialises writers anyway). A capture locks it after
inserting its entry; a recount locks it before reading the entries, and under READ
COMMITTED its reads start after the lock is granted, so an entry is counted exactly
once whichever comes first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction
from django.db.models import Count, F, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from assessments.models import Assessment, NrsDiary, NrsWeek
from assessments.outcomes.day0 import day0_inputs, day0_subqueries, nrs_q
from assessments.outcomes.engine import positions
from assessments.outcomes.windows import (
    US_PER_DAY,
    US_PER_WEEK,
    current_window,
    day0_from,
    epoch_us,
    wall_us,
    week_index,
)
from patients.models import Patient

__all__ = [
    "KEPT_WEEKS",
    "NrsWindows",
    "WeeklyNrs",
    "cohort_nrs",
    "entries_reduce",
    "nrs_week_add",
    "nrs_weeks_rebuild",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Plan weeks kept per patient: the summary's horizon (``selectors.HORIZON_WEEKS``, the
#: first six months). A longer horizon is read from the stored entries.
KEPT_WEEKS = 26
CHUNK = 1000  # patients per recount transaction
#: Up to this many stale patients their entries are read by id; beyond, the cohort's.
STALE_BY_ID = 2000
_NEVER = np.iinfo(np.int64).max


# --- what the engine reads ---------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class WeeklyNrs:
    """Per patient (cohort position) and plan week: sum and number of NRS entries."""

    idx: IntArray
    week: IntArray
    total: FloatArray
    n: IntArray

    @classmethod
    def empty(cls) -> WeeklyNrs:
        return cls.concat([])

    @classmethod
    def concat(cls, parts: Sequence[WeeklyNrs]) -> WeeklyNrs:
        def joined(name: str, dtype: type) -> Any:
            return np.concatenate([np.empty(0, dtype=dtype), *(getattr(p, name) for p in parts)]).astype(dtype)

        return cls(
            joined("idx", np.int64), joined("week", np.int64), joined("total", np.float64), joined("n", np.int64)
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
    def blank(cls, n: int) -> NrsWindows:
        return cls(
            np.zeros(n), np.zeros(n, dtype=np.int64), np.zeros(n), np.zeros(n, dtype=np.int64), np.full(n, np.nan)
        )

    def fill_baseline(self, weekly: WeeklyNrs) -> None:
        """The baseline window is plan week 0."""
        week0 = weekly.week == 0
        self.baseline_total[weekly.idx[week0]] = weekly.total[week0]
        self.n_baseline[weekly.idx[week0]] = weekly.n[week0]


@dataclass(frozen=True, eq=False)
class Reduced:
    """Entries reduced per patient position: the plan weeks, and the latest entry since
    day 0 (epoch microseconds, -1: none) with its day since day 0 and current window."""

    weekly: WeeklyNrs
    last_us: IntArray
    last_day: FloatArray
    current_total: FloatArray
    current_n: IntArray


@dataclass(frozen=True)
class Basis:
    """Day 0 and time zone of each patient position (day 0 None: no plan, no entry)."""

    day0: Sequence[dt.datetime | None]
    zones: Sequence[ZoneInfo]

    def day0_epoch(self) -> IntArray:
        """Day 0 in microseconds since 1970 (``_NEVER`` without one)."""
        return np.array([epoch_us(t) if t is not None else _NEVER for t in self.day0], dtype=np.int64)

    def day0_wall(self) -> IntArray:
        """Day 0 in wall-clock microseconds (``windows.wall_us``; 0 without one)."""
        pairs = zip(self.day0, self.zones, strict=True)
        return np.array([wall_us(t, tz) if t is not None else 0 for t, tz in pairs], dtype=np.int64)


# --- the one reduction of stored entries -------------------------------------------------


def entries_reduce(rows: Sequence[tuple[int, dt.datetime, float]], basis: Basis, *, horizon_weeks: int) -> Reduced:
    """Reduce NRS entries ``(position, recorded_at, score)`` to plan weeks (those below
    ``horizon_weeks``) and current windows, by the rules of
    ``assessments.outcomes.windows``: entries from day 0 on count, a week is whole weeks
    of wall-clock time since day 0, the current window is ``current_window`` of the latest
    entry. Exact integer microseconds throughout."""
    n = len(basis.day0)
    t0_epoch, t0_wall = basis.day0_epoch(), basis.day0_wall()
    pos = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    at = np.fromiter((epoch_us(r[1]) for r in rows), dtype=np.int64, count=len(rows))
    since = np.flatnonzero(at >= t0_epoch[pos])
    pos, at = pos[since], at[since]
    value = np.fromiter((rows[i][2] for i in since.tolist()), dtype=np.float64, count=since.size)
    wall = np.fromiter(
        (wall_us(rows[i][1], basis.zones[rows[i][0]]) for i in since.tolist()), dtype=np.int64, count=since.size
    )
    week = (wall - t0_wall[pos]) // US_PER_WEEK
    weekly = _weeks(pos, week, value, horizon_weeks)
    last_us = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last_us, pos, at)
    last_day, start_us = _last_and_window_start(last_us, basis, t0_wall)
    current = at > start_us[pos]
    current_total = np.bincount(pos[current], weights=value[current], minlength=n).astype(np.float64)
    current_n = np.bincount(pos[current], minlength=n).astype(np.int64)
    return Reduced(weekly, last_us, last_day, current_total, current_n)


def _weeks(pos: IntArray, week: IntArray, value: FloatArray, horizon_weeks: int) -> WeeklyNrs:
    keep = (week >= 0) & (week < horizon_weeks)
    if not keep.any():
        return WeeklyNrs.empty()
    width = int(week[keep].max()) + 1
    cells, inverse = np.unique(pos[keep] * width + week[keep], return_inverse=True)
    return WeeklyNrs(
        cells // width,
        cells % width,
        np.bincount(inverse, weights=value[keep]).astype(np.float64),
        np.bincount(inverse).astype(np.int64),
    )


def _last_and_window_start(last_us: IntArray, basis: Basis, t0_wall: IntArray) -> tuple[FloatArray, IntArray]:
    """Per position: the latest entry's day since day 0 (wall clock), and where its
    current window starts (epoch microseconds; entries after it are in the window)."""
    last_day = np.full(last_us.size, np.nan)
    start_us = np.full(last_us.size, _NEVER, dtype=np.int64)
    for i in np.flatnonzero(last_us >= 0).tolist():
        last = _from_epoch_us(int(last_us[i]))
        tz = basis.zones[i]
        last_day[i] = (wall_us(last, tz) - int(t0_wall[i])) / US_PER_DAY
        start_us[i] = epoch_us(current_window(last, tz).start)
    return last_day, start_us


def _from_epoch_us(value: int) -> dt.datetime:
    return dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=value)


# --- the cohort's read --------------------------------------------------------------------


def cohort_nrs(
    patients: QuerySet[Patient], patient_ids: IntArray, basis: Basis, *, horizon_weeks: int
) -> tuple[NrsWindows, WeeklyNrs]:
    """The NRS windows and plan weeks (< ``horizon_weeks``) of the cohort's patients
    (``patient_ids``, sorted, with their ``basis``; ``patients`` selects at least them):
    the kept rows of every patient whose diary still holds their day 0 and time zone, the
    stored entries reduced (:func:`entries_reduce`) for the others. Two queries, and one
    more when any patient with a day 0 is stale (every patient beyond ``KEPT_WEEKS``)."""
    n = patient_ids.size
    windows = NrsWindows.blank(n)
    if n == 0:
        return windows, WeeklyNrs.empty()
    fresh = _kept_windows(patients, patient_ids, basis, windows)
    if horizon_weeks > KEPT_WEEKS:
        fresh[:] = False
        windows = NrsWindows.blank(n)
    weekly = _kept_weeks(patients, patient_ids, fresh, horizon_weeks) if fresh.any() else WeeklyNrs.empty()
    has_day0 = np.array([t is not None for t in basis.day0], dtype=np.bool_)
    stale = np.flatnonzero(has_day0 & ~fresh)
    if stale.size:
        reduced = entries_reduce(_stale_entries(patients, patient_ids, stale), basis, horizon_weeks=horizon_weeks)
        weekly = WeeklyNrs.concat([weekly, reduced.weekly])
        windows.last_day[stale] = reduced.last_day[stale]
        windows.current_total[stale] = reduced.current_total[stale]
        windows.n_current[stale] = reduced.current_n[stale]
    windows.fill_baseline(weekly)
    return windows, weekly


def _kept_windows(patients: QuerySet[Patient], patient_ids: IntArray, basis: Basis, windows: NrsWindows) -> BoolArray:
    """Fill the current windows from the diaries that hold the patient's day 0 and time
    zone; returns which positions those are."""
    fresh = np.zeros(patient_ids.size, dtype=np.bool_)
    rows = _fetch(
        NrsDiary.objects.filter(patient__in=patients, day0_us__isnull=False)
        .order_by()
        .values_list("patient_id", "day0_us", "time_zone", "last_day", "current_total", "current_n")
    )
    if not rows:
        return fresh
    ids, day0_us, zones, last_day, current_total, current_n = zip(*rows, strict=True)
    pos, known = positions(patient_ids, ids)
    same_zone = np.array([zone == basis.zones[i].key for zone, i in zip(zones, pos.tolist(), strict=True)])
    ok = known & same_zone & (np.array(day0_us, dtype=np.int64) == basis.day0_epoch()[pos])
    fresh[pos[ok]] = True
    seen = ok & np.array([d is not None for d in last_day], dtype=np.bool_)
    at = pos[seen]
    windows.last_day[at] = np.array(last_day, dtype=np.float64)[seen]
    windows.current_total[at] = np.array(current_total, dtype=np.float64)[seen]
    windows.n_current[at] = np.array(current_n, dtype=np.int64)[seen]
    return fresh


def _fetch(rows: QuerySet[Any, Any]) -> list[tuple[Any, ...]]:
    """The rows of a ``values_list`` query of numbers and text, fetched at once (iterating
    the query set fetches 100 rows a round trip, which the weeks of a large cohort feel)."""
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        fetched: list[tuple[Any, ...]] = cursor.fetchall()
    return fetched


def _kept_weeks(patients: QuerySet[Patient], patient_ids: IntArray, fresh: BoolArray, horizon_weeks: int) -> WeeklyNrs:
    """The kept weeks below the horizon of the fresh positions. Patient and week come as
    one number, ``patient * horizon + week``: a quarter fewer values to fetch."""
    rows = _fetch(
        NrsWeek.objects.filter(patient__in=patients, week__lt=horizon_weeks)
        .order_by()
        .annotate(cell=F("patient_id") * horizon_weeks + F("week"))
        .values_list("cell", "total", "n")
    )
    cells = np.fromiter(chain.from_iterable(rows), dtype=np.float64, count=3 * len(rows)).reshape(len(rows), 3)
    cell = cells[:, 0].astype(np.int64)
    pos, known = positions(patient_ids, cell // horizon_weeks)
    keep = known & fresh[pos]
    return WeeklyNrs(pos[keep], cell[keep] % horizon_weeks, cells[keep, 1].copy(), cells[keep, 2].astype(np.int64))


def _stale_entries(
    patients: QuerySet[Patient], patient_ids: IntArray, stale: IntArray
) -> list[tuple[int, dt.datetime, float]]:
    """The NRS entries ``(position, recorded_at, score)`` of the stale positions: one query."""
    entries = Assessment.objects.filter(nrs_q(), patient__in=patients)
    if stale.size <= STALE_BY_ID:
        entries = entries.filter(patient_id__in=patient_ids[stale].tolist())
    rows = list(entries.order_by().values_list("patient_id", "recorded_at", "total"))
    pos, known = positions(patient_ids, [r[0] for r in rows])
    wanted = np.zeros(patient_ids.size, dtype=np.bool_)
    wanted[stale] = True
    keep = known & wanted[pos]
    return [
        (p, rows[k][1], float(rows[k][2] or 0.0))
        for k, p in zip(np.flatnonzero(keep).tolist(), pos[keep].tolist(), strict=True)
    ]


# --- writes ------------------------------------------------------------------------------


def nrs_week_add(assessment: Assessment) -> None:
    """Count a just-stored NRS entry in its plan week and the current window (call inside
    its transaction); recount the patient instead when their day 0 or time zone moved."""
    if assessment.instrument != "nrs" or assessment.total is None:
        return
    patient_id = assessment.patient_id
    state = _locked_state(patient_id)
    if state is None:
        _recount([patient_id])
        return
    day0_us, zone, last_at, tz_now, plan_start, first_nrs_at = state
    tz = ZoneInfo(tz_now)
    day0 = day0_from(tz, plan_start, first_nrs_at)
    if day0 is None or day0_us != epoch_us(day0) or zone != tz_now:
        _recount([patient_id])
        return
    at, value = assessment.recorded_at, float(assessment.total)
    if at < day0:
        return  # before plan start: in no plan week and in no window
    week = week_index(at, day0, tz)
    if 0 <= week < KEPT_WEEKS:
        _week_add(patient_id, week, value)
    diary = NrsDiary.objects.filter(patient_id=patient_id)
    if last_at is None or at > last_at:
        # A new latest entry: its window is recounted in the same statement.
        window = current_window(at, tz)
        entries = (
            Assessment.objects.filter(nrs_q(), patient_id=patient_id, recorded_at__gt=window.start)
            .filter(recorded_at__gte=day0, recorded_at__lte=at)
            .order_by()
            .values("patient_id")
        )
        diary.update(
            last_at=at,
            last_day=(wall_us(at, tz) - wall_us(day0, tz)) / US_PER_DAY,
            current_total=Coalesce(Subquery(entries.annotate(v=Sum("total")).values("v")), 0.0),
            current_n=Coalesce(Subquery(entries.annotate(v=Count("pk")).values("v")), 0),
        )
    elif at in current_window(last_at, tz):
        diary.update(current_total=F("current_total") + value, current_n=F("current_n") + 1)


def _locked_state(patient_id: int) -> tuple[Any, ...] | None:
    """The patient's diary row, locked, with what day 0 is now made of: one statement."""
    plan_start, first_nrs_at = day0_subqueries("patient_id")
    return (
        NrsDiary.objects.select_for_update(of=("self",))
        .filter(patient_id=patient_id)
        .annotate(tz_now=F("patient__time_zone"), plan_start=plan_start, first_nrs_at=first_nrs_at)
        .values_list("day0_us", "time_zone", "last_at", "tz_now", "plan_start", "first_nrs_at")
        .first()
    )


def _week_add(patient_id: int, week: int, value: float) -> None:
    updated = NrsWeek.objects.filter(patient_id=patient_id, week=week).update(total=F("total") + value, n=F("n") + 1)
    if not updated:  # the diary's lock makes this insert the only one
        NrsWeek.objects.create(patient_id=patient_id, week=week, total=value, n=1)


def nrs_weeks_rebuild(patient_ids: Iterable[int]) -> None:
    """Recount the weeks and windows of these patients from their stored entries, a
    chunk of patients per transaction (after deleting entries, after a bulk load)."""
    for chunk in _chunks(patient_ids):
        _recount(chunk)


def _chunks(patient_ids: Iterable[int]) -> Iterator[list[int]]:
    ids = sorted(set(patient_ids))
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


@transaction.atomic
def _recount(patient_ids: list[int]) -> None:
    ids = list(Patient.objects.filter(pk__in=patient_ids).order_by("pk").values_list("pk", flat=True))
    NrsDiary.objects.bulk_create([NrsDiary(patient_id=pk) for pk in ids], ignore_conflicts=True)
    # Lock in id order (no deadlock between two recounts), then read: see the module doc.
    list(NrsDiary.objects.select_for_update().filter(patient_id__in=ids).order_by("patient_id").values_list("pk"))
    inputs = day0_inputs(ids)
    zones = _zones([row.time_zone for row in inputs])
    basis = Basis([row.day0(tz) for row, tz in zip(inputs, zones, strict=True)], zones)
    position = {pk: i for i, pk in enumerate(ids)}
    entries = Assessment.objects.filter(nrs_q(), patient_id__in=ids).order_by()
    rows = [
        (position[pk], recorded_at, float(total or 0.0))
        for pk, recorded_at, total in entries.values_list("patient_id", "recorded_at", "total").iterator(20_000)
    ]
    reduced = entries_reduce(rows, basis, horizon_weeks=KEPT_WEEKS)
    NrsWeek.objects.filter(patient_id__in=ids).delete()
    w = reduced.weekly
    NrsWeek.objects.bulk_create(
        [
            NrsWeek(patient_id=ids[i], week=k, total=total, n=count)
            for i, k, total, count in zip(w.idx.tolist(), w.week.tolist(), w.total.tolist(), w.n.tolist(), strict=True)
        ],
        batch_size=5000,
    )
    NrsDiary.objects.bulk_update(
        [_diary(pk, i, basis, reduced) for i, pk in enumerate(ids)],
        ["day0_us", "time_zone", "last_at", "last_day", "current_total", "current_n"],
        batch_size=CHUNK,
    )


def _diary(patient_id: int, i: int, basis: Basis, reduced: Reduced) -> NrsDiary:
    last = int(reduced.last_us[i])
    day0 = basis.day0[i]
    return NrsDiary(
        patient_id=patient_id,
        day0_us=epoch_us(day0) if day0 is not None else None,
        time_zone=basis.zones[i].key,
        last_at=_from_epoch_us(last) if last >= 0 else None,
        last_day=float(reduced.last_day[i]) if last >= 0 else None,
        current_total=float(reduced.current_total[i]),
        current_n=int(reduced.current_n[i]),
    )


def _zones(names: Iterable[str]) -> list[ZoneInfo]:
    cache: dict[str, ZoneInfo] = {}
    return [cache.get(name) or cache.setdefault(name, ZoneInfo(name)) for name in names]
