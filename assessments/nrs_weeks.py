"""Weekly NRS sums per patient, kept at write time for the cohort summary.

The cohort summary needs, per patient, the mean NRS of each plan week (week ``w`` is
``[day 0 + 7w days, day 0 + 7w + 7 days)`` on the patient's wall clock). Reading a year of daily
entries for thousands of patients to form them is what made the summary slow, so every
capture adds its entry to its week here, in the capture's transaction
(:func:`nrs_week_add`), and the summary reads one packed row per patient: the weeks are a
small bytea on the patient's ``NrsSeries`` row (16 bytes a week, ``WEEK_CELL``), which
PostgreSQL hands over whole instead of as one row per week.

Day 0, the plan weeks and the current window are the ones of ``assessments.outcomes``
(the one definition, also used by the cohort, the worklist and the worsening alert): the
earliest plan start at 00:00 in the patient's time zone, else the first NRS entry, and
weeks counted on the patient's wall clock. The weeks are stored with the day 0
they count from (``NrsSeries``). When day 0 moves (a first plan, a plan version starting
earlier, an earlier entry of a patient without a plan, a new time zone) the patient's
weeks are rebuilt from the stored entries: at once for plans and entries
(:func:`nrs_weeks_sync` from ``therapies.services``), and by the periodic
:func:`nrs_weeks_refresh` for anything else. Until then the summary sees that the stored
day 0 is not the patient's and reduces that patient's raw entries instead, so a stale
row is slower, never wrong.

Concurrency: whoever changes a patient's weeks holds the lock of the patient's
``NrsSeries`` row (``SELECT ... FOR UPDATE``; SQLite serialises writers anyway). A
capture locks it after inserting its entry; a rebuild locks it before reading the entries, and under READ COMMITTED its reads start after the lock is granted, so an
entry is counted exactly once whichever comes first.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from assessments.models import Assessment, NrsSeries
from assessments.outcomes import current_window, day0_from, week_index
from patients.models import Patient
from therapies.models import RehabPlan

__all__ = [
    "RECENT_CELL",
    "WEEK_CELL",
    "epoch_us",
    "nrs_week_add",
    "nrs_weeks_rebuild",
    "nrs_weeks_refresh",
    "nrs_weeks_sync",
    "recent_decode",
    "weeks_decode",
]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_ONE_US = dt.timedelta(microseconds=1)
CHUNK = 1000  # patients per rebuild transaction (and per IN list)

#: One plan week in ``NrsSeries.weeks``: sum and count of its NRS entries.
WEEK_CELL = np.dtype([("total", ">f8"), ("n", ">f8")])


#: One kept recent entry in ``NrsSeries.recent``.
RECENT_CELL = np.dtype([("at_us", ">i8"), ("value", ">f8")])


def recent_decode(blob: bytes | memoryview | None) -> npt.NDArray[np.void]:
    """``NrsSeries.recent`` as an array of ``RECENT_CELL``."""
    return np.frombuffer(bytes(blob or b""), dtype=RECENT_CELL)


def epoch_us(value: dt.datetime) -> int:
    """Exact microseconds since 1970 (what ``recent`` stores)."""
    return (value - _EPOCH) // _ONE_US


def _recent_add(blob: bytes | memoryview, at: dt.datetime, value: float, last: dt.datetime, tz: ZoneInfo) -> bytes:
    """Add an entry and drop what is no longer in the current window up to ``last``."""
    kept = recent_decode(blob)
    cells = np.zeros(kept.size + 1, dtype=RECENT_CELL)
    cells[:-1] = kept
    cells[-1] = (epoch_us(at), value)
    return cells[cells["at_us"] > epoch_us(current_window(last, tz).start)].tobytes()


def weeks_decode(blob: bytes | memoryview | None) -> npt.NDArray[np.void]:
    """``NrsSeries.weeks`` as an array of ``WEEK_CELL`` (index = plan week)."""
    return np.frombuffer(bytes(blob or b""), dtype=WEEK_CELL)


def _weeks_add(blob: bytes | memoryview, week: int, total: float) -> bytes:
    kept = weeks_decode(blob)
    cells = np.zeros(max(kept.size, week + 1), dtype=WEEK_CELL)  # (concatenate would go native-endian)
    cells[: kept.size] = kept
    cells[week]["total"] += total
    cells[week]["n"] += 1
    return cells.tobytes()


def nrs_week_add(assessment: Assessment) -> None:
    """Count a just-stored NRS entry in its plan week (call inside its transaction)."""
    if assessment.instrument != "nrs" or assessment.total is None:
        return
    at, patient_id = assessment.recorded_at, assessment.patient_id
    # Lock the patient's row (see the module doc), then read it.
    state = (
        NrsSeries.objects.select_for_update()
        .filter(patient_id=patient_id)
        .values_list("day0", "day0_from_plan", "last_at", "weeks", "recent")
        .first()
    )
    day0 = state[0] if state is not None else None
    if state is None or day0 is None or (not state[1] and at < day0):
        # No weeks yet, or an entry earlier than the first one moves day 0: recount.
        _rebuild([patient_id])
        return
    _day0, _from_plan, last_at, weeks, recent = state
    tz = ZoneInfo(assessment.patient.time_zone)
    changes: dict[str, object] = {}
    last = at if last_at is None or at > last_at else last_at
    if last != last_at:
        changes["last_at"] = last
    if at in current_window(last, tz):  # a late entry may be, too
        changes["recent"] = _recent_add(recent, at, assessment.total, last, tz)
    if at >= day0:  # before plan start: in no plan week
        changes["weeks"] = _weeks_add(weeks, week_index(at, day0, tz), assessment.total)
    if changes:
        NrsSeries.objects.filter(patient_id=patient_id).update(**changes)


def nrs_weeks_sync(patient_ids: Iterable[int]) -> int:
    """Rebuild the patients whose stored day 0 is missing or no longer their day 0;
    returns how many were rebuilt."""
    stale: list[int] = []
    for chunk in _chunks(patient_ids):
        day0s = _day0s(chunk)
        stored = dict(NrsSeries.objects.filter(patient_id__in=chunk).values_list("patient_id", "day0"))
        stale += [pk for pk in chunk if pk not in stored or stored[pk] != day0s.get(pk, (None, False))[0]]
    nrs_weeks_rebuild(stale)
    return len(stale)


def nrs_weeks_refresh() -> int:
    """:func:`nrs_weeks_sync` over every patient (the periodic catch-up)."""
    return nrs_weeks_sync(Patient.objects.order_by("pk").values_list("pk", flat=True).iterator())


def nrs_weeks_rebuild(patient_ids: Iterable[int]) -> None:
    """Recount the weeks of these patients from their stored entries, a chunk of
    patients per transaction (bulk loads, repairs)."""
    for chunk in _chunks(patient_ids):
        _rebuild(chunk)


def _chunks(patient_ids: Iterable[int]) -> Iterator[list[int]]:
    ids = sorted(set(patient_ids))
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _day0s(patient_ids: Iterable[int]) -> dict[int, tuple[dt.datetime | None, bool]]:
    """Day 0 and whether it comes from a plan, for existing patients, in 2-3 queries."""
    return {pk: (day0, from_plan) for pk, (day0, from_plan, _tz) in _day0s_and_zones(patient_ids).items()}


def _day0s_and_zones(patient_ids: Iterable[int]) -> dict[int, tuple[dt.datetime | None, bool, ZoneInfo]]:
    """Day 0, whether it comes from a plan, and the time zone, in 2-3 queries."""
    ids = list(patient_ids)
    zones: dict[str, ZoneInfo] = {}
    tz_of = {
        pk: zones.get(name) or zones.setdefault(name, ZoneInfo(name))
        for pk, name in Patient.objects.filter(pk__in=ids).values_list("pk", "time_zone")
    }
    starts: dict[int, dt.date] = dict(
        RehabPlan.objects.filter(patient_id__in=ids)
        .order_by()
        .values("patient_id")
        .annotate(start=Min("start_date"))
        .values_list("patient_id", "start")
    )
    planless = [pk for pk in tz_of if pk not in starts]
    first: dict[int, dt.datetime] = {}
    if planless:
        first = dict(
            Assessment.objects.filter(patient_id__in=planless, instrument="nrs", total__isnull=False)
            .order_by()
            .values("patient_id")
            .annotate(first=Min("recorded_at"))
            .values_list("patient_id", "first")
        )
    return {pk: (day0_from(tz, starts.get(pk), first.get(pk)), pk in starts, tz) for pk, tz in tz_of.items()}


@transaction.atomic
def _rebuild(patient_ids: list[int]) -> None:
    patient_ids = list(Patient.objects.filter(pk__in=patient_ids).order_by("pk").values_list("pk", flat=True))
    NrsSeries.objects.bulk_create([NrsSeries(patient_id=pk) for pk in patient_ids], ignore_conflicts=True)
    # Lock in id order (no deadlock between two rebuilds), then read: see the module doc.
    locked = list(NrsSeries.objects.select_for_update().filter(patient_id__in=patient_ids).order_by("patient_id"))
    day0s = _day0s_and_zones(patient_ids)
    cells: dict[int, dict[int, list[float]]] = defaultdict(dict)
    rows = (
        Assessment.objects.filter(patient_id__in=patient_ids, instrument="nrs", total__isnull=False)
        .order_by()
        .values_list("patient_id", "recorded_at", "total")
    )
    last: dict[int, dt.datetime] = {}
    entries: dict[int, list[tuple[dt.datetime, float]]] = defaultdict(list)
    for patient_id, recorded_at, total in rows.iterator(chunk_size=20_000):
        if patient_id not in last or recorded_at > last[patient_id]:
            last[patient_id] = recorded_at
        if total is not None:
            entries[patient_id].append((recorded_at, total))
        day0, _from_plan, tz = day0s[patient_id]
        if day0 is None or total is None or recorded_at < day0:
            continue
        cell = cells[patient_id].setdefault(week_index(recorded_at, day0, tz), [0.0, 0.0])
        cell[0] += total
        cell[1] += 1
    now = timezone.now()
    for state in locked:
        state.day0, state.day0_from_plan, tz = day0s.get(state.patient_id, (None, False, ZoneInfo("UTC")))
        state.last_at = last.get(state.patient_id)
        state.weeks = _weeks_pack(cells.get(state.patient_id, {}))
        state.recent = _recent_pack(entries.get(state.patient_id, []), state.last_at, tz)
        state.rebuilt_at = now
    NrsSeries.objects.bulk_update(
        locked, ["day0", "day0_from_plan", "last_at", "weeks", "recent", "rebuilt_at"], batch_size=CHUNK
    )


def _recent_pack(entries: list[tuple[dt.datetime, float]], last: dt.datetime | None, tz: ZoneInfo) -> bytes:
    if last is None:
        return b""
    window = current_window(last, tz)
    return np.array([(epoch_us(at), value) for at, value in entries if at in window], dtype=RECENT_CELL).tobytes()


def _weeks_pack(cells: dict[int, list[float]]) -> bytes:
    packed = np.zeros(max(cells, default=-1) + 1, dtype=WEEK_CELL)
    for week, (total, n) in cells.items():
        packed[week] = (total, n)
    return packed.tobytes()
