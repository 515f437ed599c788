"""Cohort summary at clinic scale, against the plain SQL aggregate and a naive loop.

PostgreSQL only (skips elsewhere). One clinic grows through the sizes of
``BENCH_COHORT_SIZES`` (default 1,000, 5,000 and 20,000 patients), each patient with a
plan and ``BENCH_COHORT_DAYS`` (default 365) daily NRS entries, loaded with COPY and then
the kept weekly rows recounted as after any bulk load. At each size:

- the summary (``assessments.outcomes.services.cohort_outcomes``: windows, responders,
  MCID, trajectories, Kaplan-Meier, groups, audit), one warm-up run, then the median of
  ``BENCH_COHORT_RUNS`` (default 5; the fastest is printed too, the better estimate on a
  machine shared with other work);
- the same summary with the NRS reduction done by a plain SQL aggregate over the entries
  (``GROUP BY`` patient and plan week, wall-clock weeks with ``AT TIME ZONE``, over the
  covering index; the current window by a lookup per patient) instead of the kept rows
  (``ratio_plain``), which must hand the engine the same arrays;
- the naive per-patient ORM loop, computing the summary's NRS outputs (responders, the
  26 weekly means, time to response) from each patient's plan and NRS series in Python
  (``ratio``), and a leaner loop computing responders only from four window queries a
  patient (``ratio_windows``, a lower bound); both timed on a sample
  (``BENCH_COHORT_NAIVE_SAMPLE``, default 500) and scaled to the cohort.

Prints one ``BENCH cohort_summary patients=.. entries=.. summary_s=.. plain_s=..
ratio_plain=.. naive_s=.. ratio=..`` line and a detail line per size, and a
``BENCH cohort_linearity`` line (seconds per 1,000 patients at each size); asserts that
the loops, the plain aggregate and the engine computed the same responders, weekly means
and times to response.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import statistics
import time
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.models import Assessment, NrsDiary, NrsWeek
from assessments.outcomes import selectors
from assessments.outcomes.nrs_weeks import Basis, NrsWindows, WeeklyNrs, nrs_weeks_rebuild
from assessments.outcomes.selectors import HORIZON_WEEKS, CohortFilters
from assessments.outcomes.services import CohortOutcomes, cohort_outcomes
from assessments.outcomes.windows import WINDOW_DAYS
from patients.audit import Actor
from patients.models import CareTeamMember, Clinic, Membership, Patient
from therapies.models import PlanComponent, RehabPlan

pytestmark = [pytest.mark.bench, pytest.mark.django_db(transaction=True)]

SIZES = [int(s) for s in os.environ.get("BENCH_COHORT_SIZES", "1000,5000,20000").split(",")]
DAYS = int(os.environ.get("BENCH_COHORT_DAYS", "365"))
NAIVE_SAMPLE = int(os.environ.get("BENCH_COHORT_NAIVE_SAMPLE", "500"))
RUNS = int(os.environ.get("BENCH_COHORT_RUNS", "5"))
TZ_NAME = "Asia/Shanghai"
TZ = zoneinfo.ZoneInfo(TZ_NAME)
DIAGNOSES = ("clbp", "lumbar_radiculopathy", "phn", "dpn", "crps")
MODALITIES = ("tdcs", "exercise", "acupuncture", "tens", "rtms")
COPY_COLUMNS = "patient_id, instrument, answers, total, band, flags, detail, recorded_at, received_at, is_late, client_uuid, source"
BATCH = 5000  # patients per bulk insert


# --- the cohort ---------------------------------------------------------------------------


def _clinic() -> tuple[Clinic, Any, list[Any]]:
    """The clinic, its manager and 20 therapists."""
    User = get_user_model()
    clinic = Clinic.objects.create(name="Bench clinic", slug="bench-cohort", time_zone=TZ_NAME)
    manager = User.objects.create(username="bench-manager")
    therapists = User.objects.bulk_create([User(username=f"bench-therapist-{i}") for i in range(20)])
    Membership.objects.bulk_create(
        [Membership(user=manager, clinic=clinic, role="manager")]
        + [Membership(user=t, clinic=clinic, role="therapist") for t in therapists]
    )
    return clinic, manager, therapists


def _bulk_patients(
    rng: np.random.Generator, clinic: Clinic, therapists: list[Any], batch: range, today: dt.date
) -> tuple[list[int], list[dt.date]]:
    """Patients ``batch`` with a primary therapist and a plan each (ORM bulk_create)."""
    patients = Patient.objects.bulk_create(
        [
            Patient(
                clinic=clinic,
                display_name=f"Bench {i:05d}",
                sex=("female", "male")[i % 2],
                birth_year=1940 + i % 60,
                diagnoses=[DIAGNOSES[i % len(DIAGNOSES)]],
                pain_onset=today - dt.timedelta(days=900 + i % 365),
                time_zone=TZ_NAME,
            )
            for i in batch
        ],
        batch_size=1000,
    )
    CareTeamMember.objects.bulk_create(
        [
            CareTeamMember(patient=p, user=therapists[i % len(therapists)], is_primary=True)
            for i, p in zip(batch, patients, strict=True)
        ],
        batch_size=1000,
    )
    # Plans started 366-730 days ago, so that a year of daily entries lies in the past.
    starts = [today - dt.timedelta(days=int(o)) for o in rng.integers(366, 731, len(patients))]
    plans = RehabPlan.objects.bulk_create(
        [
            RehabPlan(patient=p, version=1, reason="Initial plan", start_date=s)
            for p, s in zip(patients, starts, strict=True)
        ],
        batch_size=1000,
    )
    PlanComponent.objects.bulk_create(
        [
            PlanComponent(
                plan=plan,
                order=0,
                modality=MODALITIES[i % len(MODALITIES)],
                layer="central" if MODALITIES[i % len(MODALITIES)] in ("tdcs", "rtms") else "peripheral",
                frequency_per_week=3,
                duration_weeks=8,
                sessions_prescribed=24,
            )
            for i, plan in zip(batch, plans, strict=True)
        ],
        batch_size=1000,
    )
    return [p.pk for p in patients], starts


def _add_patients(
    rng: np.random.Generator, clinic: Clinic, therapists: list[Any], first: int, count: int
) -> tuple[list[int], float, float]:
    """Patients ``first .. first + count - 1`` with a plan each, their diaries (COPY), then
    the kept weekly rows recounted as after any bulk load. Returns their ids, the COPY
    time and the recount time."""
    today = dt.datetime.now(TZ).date()
    ids: list[int] = []
    starts: list[dt.date] = []
    for lo in range(first, first + count, BATCH):
        batch_ids, batch_starts = _bulk_patients(
            rng, clinic, therapists, range(lo, min(lo + BATCH, first + count)), today
        )
        ids += batch_ids
        starts += batch_starts
    t0 = time.perf_counter()
    _copy_nrs(rng, ids, starts, first)
    copy_s = time.perf_counter() - t0
    # A bulk load bypasses the capture service, so it recounts the kept rows, as an import
    # would (timed: the cost of that step at this size).
    t0 = time.perf_counter()
    nrs_weeks_rebuild(ids)
    rebuild_s = time.perf_counter() - t0
    with connection.cursor() as cursor:
        # What autovacuum does to a live database after a bulk load (visibility map,
        # statistics), for the tables the summary reads.
        for model in (Assessment, NrsDiary, NrsWeek):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
        cursor.execute("ANALYZE")
    return ids, copy_s, rebuild_s


def _copy_nrs(rng: np.random.Generator, patient_ids: list[int], starts: list[dt.date], serial0: int) -> None:
    """One entry a day at 20:00 local for ``DAYS`` days from plan start: pain falls from a
    baseline of 5-9 towards 20-100 % of it at a patient-specific rate, with noise."""
    first = min(starts)
    # Every entry is at 20:00 Shanghai time (12:00 UTC): one timestamp string per day.
    stamps = [
        dt.datetime.combine(first + dt.timedelta(days=k), dt.time(20), tzinfo=TZ)
        .astimezone(dt.UTC)
        .strftime("%Y-%m-%d %H:%M:%S+00")
        for k in range((max(starts) - first).days + DAYS + 1)
    ]
    answers = [f'{{"score": {v}}}' for v in range(11)]
    days = np.arange(DAYS)
    serial = serial0 * DAYS
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {Assessment._meta.db_table} ({COPY_COLUMNS}) FROM STDIN") as copy,
    ):
        for pid, start in zip(patient_ids, starts, strict=True):
            baseline, floor, rate = rng.uniform(5, 9), rng.uniform(0.2, 1.0), rng.uniform(0.01, 0.1)
            mean = baseline * (floor + (1 - floor) * np.exp(-rate * days))
            values = np.clip(np.rint(mean + rng.normal(0, 1, DAYS)), 0, 10).astype(int).tolist()
            offset = (start - first).days
            lines = []
            for k, v in enumerate(values):
                ts = stamps[offset + k]
                serial += 1
                # Sequential uuids keep the unique index append-only during the load.
                lines.append(
                    f"{pid}\tnrs\t{answers[v]}\t{v}\t\t[]\t{{}}\t{ts}\t{ts}\tf\t00000000-0000-4000-8000-{serial:012x}\tpatient\n"
                )
            copy.write("".join(lines))


# --- the plain SQL aggregate ----------------------------------------------------------------


def _plain_nrs(patients: Any, patient_ids: Any, basis: Basis, *, horizon_weeks: int) -> tuple[NrsWindows, WeeklyNrs]:
    """What the kept rows give, as a plain aggregate over the stored entries (PostgreSQL):
    weeks by ``GROUP BY`` patient and wall-clock plan week, the current window by a lookup
    per patient, both over the covering index ``assessment_nrs_series_cover``."""
    table = connection.ops.quote_name(Assessment._meta.db_table)
    known = [i for i, t in enumerate(basis.day0) if t is not None]
    cohort = "unnest(%(ids)s::bigint[], %(t0)s::timestamptz[], %(tz)s::text[]) AS w(pid, t0, tz)"
    # Grouped per patient (a small sort each) rather than over the whole cohort at once,
    # which sorts 10^6 rows on disk: the faster of the two plain forms.
    weeks_sql = f"""
        SELECT w.pid, g.week, g.total, g.n FROM {cohort} CROSS JOIN LATERAL (
            SELECT floor(date_part('epoch', (a.recorded_at AT TIME ZONE w.tz) - (w.t0 AT TIME ZONE w.tz)) / 604800)::int
                       AS week,
                   sum(a.total) AS total, count(*) AS n
            FROM {table} a
            WHERE a.patient_id = w.pid AND a.instrument = 'nrs' AND a.total IS NOT NULL
              AND a.recorded_at >= w.t0 AND a.recorded_at < w.t0 + (%(horizon)s + 1) * interval '1 day'
              AND (a.recorded_at AT TIME ZONE w.tz) < (w.t0 AT TIME ZONE w.tz) + %(horizon)s * interval '1 day'
            GROUP BY 1
        ) g
    """  # noqa: S608 - the table name is ours, every value is a parameter
    windows_sql = f"""
        SELECT w.pid, date_part('epoch', (l.last AT TIME ZONE w.tz) - (w.t0 AT TIME ZONE w.tz)) / 86400, c.total, c.n
        FROM {cohort}
        CROSS JOIN LATERAL (
            SELECT max(x.recorded_at) AS last FROM {table} x
            WHERE x.patient_id = w.pid AND x.instrument = 'nrs' AND x.total IS NOT NULL
        ) l
        CROSS JOIN LATERAL (
            SELECT coalesce(sum(a.total), 0) AS total, count(*) AS n FROM {table} a
            WHERE a.patient_id = w.pid AND a.instrument = 'nrs' AND a.total IS NOT NULL
              AND a.recorded_at > ((l.last AT TIME ZONE w.tz) - %(window)s * interval '1 day') AT TIME ZONE w.tz
              AND a.recorded_at <= l.last AND a.recorded_at >= w.t0
        ) c
        WHERE l.last >= w.t0
    """  # noqa: S608
    params = {
        "ids": [int(patient_ids[i]) for i in known],
        "t0": [basis.day0[i] for i in known],
        "tz": [basis.zones[i].key for i in known],
        "horizon": horizon_weeks * 7,
        "window": WINDOW_DAYS,
    }
    with connection.cursor() as cursor:
        cursor.execute(weeks_sql, params)
        weeks = np.array(cursor.fetchall(), dtype=np.float64).reshape(-1, 4)
        cursor.execute(windows_sql, params)
        found = np.array(cursor.fetchall(), dtype=np.float64).reshape(-1, 4)
    pos = np.searchsorted(patient_ids, weeks[:, 0].astype(np.int64))
    weekly = WeeklyNrs(pos, weeks[:, 1].astype(np.int64), weeks[:, 2].copy(), weeks[:, 3].astype(np.int64))
    windows = NrsWindows.blank(patient_ids.size)
    at = np.searchsorted(patient_ids, found[:, 0].astype(np.int64))
    windows.last_day[at], windows.current_total[at] = found[:, 1], found[:, 2]
    windows.n_current[at] = found[:, 3].astype(np.int64)
    windows.fill_baseline(weekly)
    return windows, weekly


@contextmanager
def _plain_aggregate() -> Iterator[None]:
    """The cohort selector with the plain aggregate in place of the kept rows."""
    kept = selectors.cohort_nrs
    selectors.cohort_nrs = _plain_nrs  # type: ignore[assignment]
    try:
        yield
    finally:
        selectors.cohort_nrs = kept


# --- the naive loops ---------------------------------------------------------------------


def _naive_day0(patient: Patient) -> dt.datetime | None:
    """The naive loops' day 0: one query for the earliest plan, its start at local midnight."""
    plan = RehabPlan.objects.filter(patient=patient).order_by("start_date").first()
    if plan is None:
        return None
    return dt.datetime.combine(plan.start_date, dt.time(), tzinfo=zoneinfo.ZoneInfo(patient.time_zone))


def _naive_responders(patient_ids: list[int]) -> tuple[dict[int, tuple[bool, bool]], float]:
    """What one would write without the engine: per patient, the ORM, four queries."""
    window = dt.timedelta(days=7)
    out: dict[int, tuple[bool, bool]] = {}
    t_start = time.perf_counter()
    for patient in Patient.objects.filter(pk__in=patient_ids).order_by("pk"):
        t0 = _naive_day0(patient)
        if t0 is None:
            continue
        nrs = Assessment.objects.filter(patient=patient, instrument="nrs", total__isnull=False)
        baseline = list(nrs.filter(recorded_at__gte=t0, recorded_at__lt=t0 + window).values_list("total", flat=True))
        last = nrs.order_by("-recorded_at").values_list("recorded_at", flat=True).first()
        if last is None:
            continue
        current = list(
            nrs.filter(recorded_at__gt=last - window, recorded_at__lte=last, recorded_at__gte=t0).values_list(
                "total", flat=True
            )
        )
        valid = len(baseline) >= 3 and len(current) >= 3 and last - t0 >= 2 * window
        if not valid:
            out[patient.pk] = (False, False)
            continue
        b, c = sum(baseline) / len(baseline), sum(current) / len(current)
        pct = (c - b) / b * 100 if b > 0 else float("nan")
        out[patient.pk] = (pct <= -30 + 1e-9, pct <= -50 + 1e-9)
    return out, time.perf_counter() - t_start


def _naive_patient(patient: Patient) -> tuple[bool, bool, tuple[float, ...], float | None, bool] | None:
    window, week = dt.timedelta(days=7), dt.timedelta(weeks=1)
    t0 = _naive_day0(patient)
    if t0 is None:
        return None
    series = [
        (at, total)
        for at, total in Assessment.objects.filter(
            patient=patient, instrument="nrs", total__isnull=False, recorded_at__gte=t0
        )
        .order_by("recorded_at")
        .values_list("recorded_at", "total")
        if total is not None
    ]
    if not series:
        return None
    last = series[-1][0]
    baseline = [v for at, v in series if at < t0 + window]
    current = [v for at, v in series if at > last - window]
    valid = len(baseline) >= 3 and len(current) >= 3 and last - t0 >= 2 * window
    r30 = r50 = False
    if valid:
        b, c = sum(baseline) / len(baseline), sum(current) / len(current)
        pct = (c - b) / b * 100 if b > 0 else float("nan")
        r30, r50 = pct <= -30 + 1e-9, pct <= -50 + 1e-9
    cells: dict[int, list[float]] = {}
    for at, v in series:
        k = (at - t0) // week
        if k < HORIZON_WEEKS:
            cells.setdefault(k, []).append(v)
    means = tuple(sum(cells[k]) / len(cells[k]) if k in cells else float("nan") for k in range(HORIZON_WEEKS))
    enough = [k for k in sorted(cells) if len(cells[k]) >= 3]
    weeks: float | None = None
    event = False
    if enough and enough[0] == 0 and means[0] > 0:
        hit = [k for k in enough if k >= 1 and means[k] <= 0.7 * means[0] + 1e-9]
        event = bool(hit)
        weeks = float((hit[0] if hit else enough[-1]) + 1)
    return r30, r50, means, weeks, event


def _naive_summary(
    patient_ids: list[int],
) -> tuple[dict[int, tuple[bool, bool, tuple[float, ...], float | None, bool]], float]:
    """The same NRS outputs as the summary, written per patient without the engine: the
    plan, then the patient's NRS series, then Python. Per patient: responders 30 / 50 %,
    the 26 weekly means (nan: no entry), and time to response (weeks, event) as the
    summary defines it (first plan week >= 1 whose mean, of >= 3 entries, is at most
    70 % of week 0's; censored at the last week with >= 3 entries)."""
    out: dict[int, tuple[bool, bool, tuple[float, ...], float | None, bool]] = {}
    t_start = time.perf_counter()
    for patient in Patient.objects.filter(pk__in=patient_ids).order_by("pk"):
        result = _naive_patient(patient)
        if result is not None:
            out[patient.pk] = result
    return out, time.perf_counter() - t_start


# --- measuring ---------------------------------------------------------------------------


def _timed_summary(actor: Actor) -> tuple[CohortOutcomes, list[float], Any]:
    """One warm-up run, then three timed ones, as in the web process (config/wsgi.py):
    what is loaded by then is frozen out of the garbage collector's full scans."""
    cohort_outcomes(actor=actor, filters=CohortFilters())
    gc.freeze()
    runs = []
    try:
        for _ in range(RUNS):
            with CaptureQueriesContext(connection) as queries:
                t0 = time.perf_counter()
                outcomes = cohort_outcomes(actor=actor, filters=CohortFilters())
                runs.append(time.perf_counter() - t0)
    finally:
        gc.unfreeze()
    return outcomes, runs, queries


def _assert_same_nrs(kept: CohortOutcomes, plain: CohortOutcomes) -> None:
    a, b = kept.arrays, plain.arrays
    for name in ("baseline_total", "n_baseline", "current_total", "n_current"):
        np.testing.assert_array_equal(getattr(a.nrs_windows, name), getattr(b.nrs_windows, name), err_msg=name)
    np.testing.assert_allclose(a.nrs_windows.last_day, b.nrs_windows.last_day, atol=1e-9, equal_nan=True)

    def cells(weekly: WeeklyNrs) -> list[tuple[int, int, float, int]]:
        return sorted(
            zip(weekly.idx.tolist(), weekly.week.tolist(), weekly.total.tolist(), weekly.n.tolist(), strict=True)
        )

    assert cells(a.nrs_weekly) == cells(b.nrs_weekly)
    assert kept.summary == plain.summary


def _assert_same_as_naive(outcomes: CohortOutcomes, sample: list[int]) -> tuple[float, float]:
    """The loops computed what the engine did; returns their scaled times (full, windows)."""
    naive, naive_sample_s = _naive_responders(sample)
    full, full_sample_s = _naive_summary(sample)
    position = {int(pk): i for i, pk in enumerate(outcomes.arrays.patient_ids.tolist())}
    engine = {
        pk: (bool(outcomes.pain.responder30[position[pk]]), bool(outcomes.pain.responder50[position[pk]]))
        for pk in sample
    }
    weekly = outcomes.arrays.nrs_weekly
    engine_means = np.full((outcomes.arrays.n, HORIZON_WEEKS), np.nan)
    engine_means[weekly.idx, weekly.week] = weekly.mean
    ttr = outcomes.time_to_response
    assert naive == engine
    assert {pk: v[:2] for pk, v in full.items()} == engine
    for pk, (_r30, _r50, means, weeks, event) in full.items():
        i = position[pk]
        np.testing.assert_allclose(engine_means[i], means, rtol=1e-12, equal_nan=True)
        if weeks is None:
            assert np.isnan(ttr.durations[i])
        else:
            assert (ttr.durations[i] + 1.0) / 7.0 == weeks
            assert bool(ttr.event[i]) == event
    scale = outcomes.arrays.n / len(sample)
    return full_sample_s * scale, naive_sample_s * scale


def _measure(actor: Actor, patient_ids: list[int], rng: np.random.Generator, setup: str) -> float:
    outcomes, runs, queries = _timed_summary(actor)
    summary_s = statistics.median(runs)
    with _plain_aggregate():
        plain, plain_runs, plain_queries = _timed_summary(actor)
    plain_s = statistics.median(plain_runs)
    _assert_same_nrs(outcomes, plain)
    sample = sorted(rng.choice(patient_ids, size=min(NAIVE_SAMPLE, len(patient_ids)), replace=False).tolist())
    naive_s, windows_s = _assert_same_as_naive(outcomes, sample)
    entries = Assessment.objects.filter(instrument="nrs").count()
    assert entries == len(patient_ids) * DAYS
    assert outcomes.summary["n_patients"] == len(patient_ids)
    print(
        f"\nBENCH cohort_summary patients={len(patient_ids)} entries={entries} summary_s={summary_s:.3f} "
        f"summary_min_s={min(runs):.3f} plain_s={plain_s:.3f} ratio_plain={plain_s / summary_s:.2f} "
        f"naive_s={naive_s:.3f} ratio={naive_s / summary_s:.1f} naive_windows_s={windows_s:.3f} "
        f"ratio_windows={windows_s / summary_s:.1f}"
    )
    sql_s = sum(float(q["time"]) for q in queries.captured_queries)
    plain_sql_s = sum(float(q["time"]) for q in plain_queries.captured_queries)
    print(
        f"BENCH cohort_summary_detail patients={len(patient_ids)} runs_s={','.join(f'{r:.3f}' for r in runs)} "
        f"plain_runs_s={','.join(f'{r:.3f}' for r in plain_runs)} queries={len(queries)} sql_s={sql_s:.3f} "
        f"plain_sql_s={plain_sql_s:.3f} naive_sample={len(sample)} {setup} (target summary_s<=0.3 at 5000, ratio>=70)"
    )
    return summary_s


def test_cohort_summary_vs_plain_aggregate_and_naive_loop() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("benchmark runs against PostgreSQL")
    rng = np.random.default_rng(2026)
    clinic, manager, therapists = _clinic()
    actor = Actor(user=manager)
    patient_ids: list[int] = []
    per_thousand: list[str] = []
    for size in sorted(SIZES):
        t0 = time.perf_counter()
        added, copy_s, rebuild_s = _add_patients(rng, clinic, therapists, len(patient_ids), size - len(patient_ids))
        patient_ids += added
        setup = (
            f"setup_s={time.perf_counter() - t0:.1f} copy_s={copy_s:.1f} weeks_rebuild_s={rebuild_s:.1f} days={DAYS}"
        )
        summary_s = _measure(actor, patient_ids, rng, setup)
        per_thousand.append(f"{size}:{summary_s / size * 1000:.4f}")
    print(f"BENCH cohort_linearity days={DAYS} summary_s_per_1000_patients={' '.join(per_thousand)}")
