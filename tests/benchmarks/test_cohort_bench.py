"""Cohort summary at clinic scale vs a naive per-patient ORM loop.

PostgreSQL only (skips elsewhere). 5,000 patients with a plan each and 365 daily NRS
entries (1,825,000 rows, loaded with COPY, then the weekly NRS sums recounted as after
any bulk load), then:

- the summary (``assessments.cohort.cohort_outcomes``: windows, responders, MCID,
  trajectories, Kaplan-Meier, groups, audit), one warm-up run, then the median of three;
- the naive per-patient ORM loop, computing the summary's NRS outputs (responders, the
  26 weekly means, time to response) from each patient's plan and NRS series in Python
  (``ratio``), and a leaner loop computing responders only from four window queries a
  patient (``ratio_windows``, a lower bound); both timed on a sample
  (``BENCH_COHORT_NAIVE_SAMPLE``, default 500) and scaled to the cohort.

Prints ``BENCH cohort_summary patients=5000 entries=1825000 summary_s=X naive_s=Y
ratio=Z naive_windows_s=.. ratio_windows=..`` and a detail line; asserts only that the
loops and the engine computed the same responders, weekly means and times to response.
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import statistics
import time
import zoneinfo
from typing import Any

import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assessments.models import Assessment, NrsSeries
from assessments.outcomes.nrs_weeks import nrs_weeks_rebuild
from assessments.outcomes.selectors import HORIZON_WEEKS, CohortFilters
from assessments.outcomes.services import cohort_outcomes
from patients.access import Actor
from patients.models import CareTeamMember, Clinic, Membership, Patient
from therapies.models import PlanComponent, RehabPlan

pytestmark = [pytest.mark.bench, pytest.mark.django_db(transaction=True)]

PATIENTS = int(os.environ.get("BENCH_COHORT_PATIENTS", "5000"))
DAYS = 365
NAIVE_SAMPLE = int(os.environ.get("BENCH_COHORT_NAIVE_SAMPLE", "500"))
TZ_NAME = "Asia/Shanghai"
TZ = zoneinfo.ZoneInfo(TZ_NAME)
DIAGNOSES = ("clbp", "lumbar_radiculopathy", "phn", "dpn", "crps")
MODALITIES = ("tdcs", "exercise", "acupuncture", "tens", "rtms")
COPY_COLUMNS = "patient_id, instrument, answers, total, band, flags, detail, recorded_at, received_at, is_late, client_uuid, source"


def _populate(rng: np.random.Generator) -> tuple[Any, list[int], float]:
    """Clinic, manager, therapists, patients with a plan each: ORM bulk_create; NRS: COPY."""
    User = get_user_model()
    clinic = Clinic.objects.create(name="Bench clinic", slug="bench-cohort", time_zone=TZ_NAME)
    manager = User.objects.create(username="bench-manager")
    therapists = User.objects.bulk_create([User(username=f"bench-therapist-{i}") for i in range(20)])
    Membership.objects.bulk_create(
        [Membership(user=manager, clinic=clinic, role="manager")]
        + [Membership(user=t, clinic=clinic, role="therapist") for t in therapists]
    )
    today = dt.datetime.now(TZ).date()
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
            for i in range(PATIENTS)
        ],
        batch_size=1000,
    )
    CareTeamMember.objects.bulk_create(
        [
            CareTeamMember(patient=p, user=therapists[i % len(therapists)], is_primary=True)
            for i, p in enumerate(patients)
        ],
        batch_size=1000,
    )
    # Plans started 366-730 days ago, so that a year of daily entries lies in the past.
    offsets = rng.integers(366, 731, PATIENTS)
    starts = [today - dt.timedelta(days=int(o)) for o in offsets]
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
            for i, plan in enumerate(plans)
        ],
        batch_size=1000,
    )
    _copy_nrs(rng, [p.pk for p in patients], starts)
    # A bulk load bypasses the capture service, so it recounts the weekly sums, as an
    # import would (timed: the cost of that step at this size).
    t0 = time.perf_counter()
    nrs_weeks_rebuild(p.pk for p in patients)
    rebuild_s = time.perf_counter() - t0
    with connection.cursor() as cursor:
        # What autovacuum does to a live database after a bulk load (visibility map,
        # statistics), for the tables the summary reads.
        for model in (Assessment, NrsSeries):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
        cursor.execute("ANALYZE")
    return manager, [p.pk for p in patients], rebuild_s


def _copy_nrs(rng: np.random.Generator, patient_ids: list[int], starts: list[dt.date]) -> None:
    """One entry a day at 20:00 local for a year from plan start: pain falls from a
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
    serial = 0
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {Assessment._meta.db_table} ({COPY_COLUMNS}) FROM STDIN") as copy,
    ):
        for pid, start in zip(patient_ids, starts, strict=True):
            baseline, floor, rate = (
                rng.uniform(5, 9),
                rng.uniform(0.2, 1.0),
                rng.uniform(0.01, 0.1),
            )
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


def _naive_day0(patient: Patient) -> dt.datetime | None:
    """The naive loops' day 0: one query for the earliest plan, its start at local midnight."""
    plan = RehabPlan.objects.filter(patient=patient).order_by("start_date").first()
    if plan is None:
        return None
    return dt.datetime.combine(plan.start_date, dt.time(), tzinfo=zoneinfo.ZoneInfo(patient.time_zone))


def _naive_responders(
    patient_ids: list[int],
) -> tuple[dict[int, tuple[bool, bool]], float]:
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
            nrs.filter(
                recorded_at__gt=last - window,
                recorded_at__lte=last,
                recorded_at__gte=t0,
            ).values_list("total", flat=True)
        )
        valid = len(baseline) >= 3 and len(current) >= 3 and last - t0 >= 2 * window
        if not valid:
            out[patient.pk] = (False, False)
            continue
        b, c = sum(baseline) / len(baseline), sum(current) / len(current)
        pct = (c - b) / b * 100 if b > 0 else float("nan")
        out[patient.pk] = (pct <= -30 + 1e-9, pct <= -50 + 1e-9)
    return out, time.perf_counter() - t_start


def _naive_summary(
    patient_ids: list[int],
) -> tuple[dict[int, tuple[bool, bool, tuple[float, ...], float | None, bool]], float]:
    """The same NRS outputs as the summary, written per patient without the engine: the
    plan, then the patient's NRS series, then Python. Per patient: responders 30 / 50 %,
    the 26 weekly means (nan: no entry), and time to response (weeks, event) as the
    summary defines it (first plan week >= 1 whose mean, of >= 3 entries, is at most
    70 % of week 0's; censored at the last week with >= 3 entries)."""
    window, week = dt.timedelta(days=7), dt.timedelta(weeks=1)
    out: dict[int, tuple[bool, bool, tuple[float, ...], float | None, bool]] = {}
    t_start = time.perf_counter()
    for patient in Patient.objects.filter(pk__in=patient_ids).order_by("pk"):
        t0 = _naive_day0(patient)
        if t0 is None:
            continue
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
            continue
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
        out[patient.pk] = (r30, r50, means, weeks, event)
    return out, time.perf_counter() - t_start


def test_cohort_summary_vs_naive_loop() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("benchmark runs against PostgreSQL")
    rng = np.random.default_rng(2026)
    t_setup = time.perf_counter()
    manager, patient_ids, rebuild_s = _populate(rng)
    setup_s = time.perf_counter() - t_setup
    entries = Assessment.objects.filter(instrument="nrs").count()

    actor = Actor(user=manager)
    cohort_outcomes(actor=actor, filters=CohortFilters())  # warm-up: plans, caches
    # As in the web process (config/wsgi.py): what is loaded by now stays for the process's
    # life and is frozen out of the garbage collector's full scans.
    gc.freeze()
    runs = []
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries:
            t0 = time.perf_counter()
            outcomes = cohort_outcomes(actor=actor, filters=CohortFilters())
            runs.append(time.perf_counter() - t0)
    summary_s = statistics.median(runs)
    sql_s = sum(float(q["time"]) for q in queries.captured_queries)
    weekly_s = max(float(q["time"]) for q in queries.captured_queries)
    t0 = time.perf_counter()
    cohort_outcomes(actor=actor, filters=CohortFilters(), horizon_weeks=12)
    horizon12_s = time.perf_counter() - t0
    gc.unfreeze()

    sample = sorted(rng.choice(patient_ids, size=min(NAIVE_SAMPLE, len(patient_ids)), replace=False).tolist())
    naive, naive_sample_s = _naive_responders(sample)
    naive_s = naive_sample_s * len(patient_ids) / len(sample)
    full, full_sample_s = _naive_summary(sample)
    full_s = full_sample_s * len(patient_ids) / len(sample)

    position = {int(pk): i for i, pk in enumerate(outcomes.arrays.patient_ids.tolist())}
    engine = {
        pk: (
            bool(outcomes.pain.responder30[position[pk]]),
            bool(outcomes.pain.responder50[position[pk]]),
        )
        for pk in sample
    }
    weekly = outcomes.arrays.nrs_weekly
    engine_means = np.full((outcomes.arrays.n, HORIZON_WEEKS), np.nan)
    engine_means[weekly.idx, weekly.week] = weekly.mean
    ttr = outcomes.time_to_response
    print(
        f"\nBENCH cohort_summary patients={len(patient_ids)} entries={entries} summary_s={summary_s:.3f} "
        f"naive_s={full_s:.3f} ratio={full_s / summary_s:.1f} "
        f"naive_windows_s={naive_s:.3f} ratio_windows={naive_s / summary_s:.1f}"
    )
    print(
        f"BENCH cohort_summary_detail runs_s={','.join(f'{r:.3f}' for r in runs)} queries={len(queries)} "
        f"sql_s={sql_s:.3f} largest_query_s={weekly_s:.3f} horizon12_s={horizon12_s:.3f} "
        f"naive_sample={len(sample)} naive_sample_s={full_sample_s:.3f} naive_windows_sample_s={naive_sample_s:.3f} "
        f"setup_s={setup_s:.1f} weeks_rebuild_s={rebuild_s:.1f} (target summary_s<=0.3, ratio>=70)"
    )
    assert entries == PATIENTS * DAYS
    assert outcomes.summary["n_patients"] == len(patient_ids)
    naive_counts = (
        sum(r30 for r30, _ in naive.values()),
        sum(r50 for _, r50 in naive.values()),
    )
    engine_counts = (
        sum(r30 for r30, _ in engine.values()),
        sum(r50 for _, r50 in engine.values()),
    )
    assert naive_counts == engine_counts
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
    if len(sample) == len(patient_ids):
        assert naive_counts == (
            outcomes.summary["responders"]["30"]["count"],
            outcomes.summary["responders"]["50"]["count"],
        )
