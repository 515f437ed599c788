"""Weekly NRS sums kept at write time (assessments.nrs_weeks) against a recount.

Every test compares the stored weeks with an independent recount from the stored entries
(day 0 = earliest plan start at local midnight, else the first entry; week = whole weeks
since day 0), after captures through the one capture service, late entries, plans that
move day 0, a new time zone, and, on PostgreSQL, captures racing a plan change.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import threading
import uuid
import zoneinfo
from typing import Any

import numpy as np
import pytest
from django.core.management import call_command
from django.db import close_old_connections, connection

from assessments.capture.services import assessment_record
from assessments.cohort import CohortFilters, cohort_arrays
from assessments.models import Assessment, NrsSeries
from assessments.nrs_weeks import (
    epoch_us,
    nrs_weeks_refresh,
    nrs_weeks_sync,
    recent_decode,
    weeks_decode,
)
from assessments.tasks import nrs_weeks_refresh as nrs_weeks_refresh_task
from patients.audit import Actor
from patients.services import patient_update
from tests.factories import make_patient
from tests.therapies.params import component
from therapies.models import RehabPlan
from therapies.services import plan_version_create

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")
WEEK = dt.timedelta(weeks=1)


def capture(patient: Any, at: dt.datetime, score: int, instrument: str = "nrs") -> None:
    answers: dict[str, Any] = {"score": score} if instrument == "nrs" else {"score_mm": score * 10.0}
    assessment_record(
        actor=ACTOR,
        patient=patient,
        instrument=instrument,
        answers=answers,
        recorded_at=at,
        client_uuid=uuid.uuid4(),
        source="patient",
    )


def plan(patient: Any, start: dt.date) -> RehabPlan:
    current = RehabPlan.objects.filter(patient=patient).count()
    return plan_version_create(
        actor=ACTOR,
        patient=patient,
        expected_version=current,
        reason=f"v{current + 1}",
        components=[component("exercise")],
        start_date=start,
    )


def recount(patient: Any) -> tuple[dt.datetime | None, dict[int, tuple[float, int]]]:
    """Day 0 and {week: (sum, count)} from the stored entries, the slow obvious way."""
    patient.refresh_from_db()
    tz = zoneinfo.ZoneInfo(patient.time_zone)
    entries = list(Assessment.objects.filter(patient=patient, instrument="nrs").values_list("recorded_at", "total"))
    starts = list(RehabPlan.objects.filter(patient=patient).values_list("start_date", flat=True))
    if starts:
        day0: dt.datetime | None = dt.datetime.combine(min(starts), dt.time(), tzinfo=tz)
    else:
        day0 = min((at for at, _v in entries), default=None)
    weeks: dict[int, tuple[float, int]] = {}
    for at, value in entries:
        if day0 is not None and at >= day0:
            total, n = weeks.get((at - day0) // WEEK, (0.0, 0))
            weeks[(at - day0) // WEEK] = (total + value, n + 1)
    return day0, weeks


def stored(patient: Any) -> tuple[dt.datetime | None, dict[int, tuple[float, int]]]:
    state = NrsSeries.objects.get(patient=patient)
    cells = weeks_decode(state.weeks)
    return state.day0, {int(w): (float(cells[w]["total"]), int(cells[w]["n"])) for w in np.flatnonzero(cells["n"])}


def assert_weeks_match(patient: Any) -> None:
    assert stored(patient) == recount(patient)
    latest = Assessment.objects.filter(patient=patient, instrument="nrs").order_by("-recorded_at").first()
    state = NrsSeries.objects.get(patient=patient)
    assert state.last_at == (latest.recorded_at if latest else None)
    # The kept current window: every entry of the 7 days up to the latest, nothing else.
    kept = sorted((int(c["at_us"]), float(c["value"])) for c in recent_decode(state.recent))
    window = (
        []
        if latest is None
        else sorted(
            (epoch_us(at), total)
            for at, total in Assessment.objects.filter(
                patient=patient, instrument="nrs", recorded_at__gt=latest.recorded_at - dt.timedelta(days=7)
            ).values_list("recorded_at", "total")
        )
    )
    assert kept == window


@pytest.fixture
def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def test_captures_count_in_their_plan_week_late_and_early_entries_included(clinic: Any, now: dt.datetime) -> None:
    patient = make_patient(clinic)
    tz = zoneinfo.ZoneInfo(patient.time_zone)
    start = (now - dt.timedelta(days=60)).astimezone(tz).date()
    plan(patient, start)
    day0 = dt.datetime.combine(start, dt.time(), tzinfo=tz)
    assert NrsSeries.objects.get(patient=patient).day0 == day0  # the plan made day 0
    rng = random.Random(3)
    moments = [day0 + dt.timedelta(seconds=rng.randint(-3 * 86_400, 59 * 86_400)) for _ in range(60)]
    # Week edges: the last microsecond of week 0, the first of week 1, and day 0 itself.
    moments += [day0 + WEEK - dt.timedelta(microseconds=1), day0 + WEEK, day0]
    for at in moments:  # random order: late diary entries arrive after later ones
        capture(patient, at, rng.randint(0, 10))
    capture(patient, now, 4, instrument="vas")  # other instruments are not counted
    assert_weeks_match(patient)
    weeks = stored(patient)[1]
    assert weeks[0][1] >= 2
    assert weeks[1][1] >= 1
    assert sum(n for _t, n in weeks.values()) == sum(1 for at in moments if at >= day0)


def test_without_a_plan_day0_is_the_first_entry_and_an_earlier_one_moves_it(clinic: Any, now: dt.datetime) -> None:
    patient = make_patient(clinic)
    first = now - dt.timedelta(days=20)
    for k in range(10):
        capture(patient, first + dt.timedelta(days=k), 6)
    assert stored(patient)[0] == first
    assert stored(patient)[1] == {0: (42.0, 7), 1: (18.0, 3)}
    capture(patient, first - dt.timedelta(days=3, hours=1), 9)  # a late entry from before
    assert stored(patient)[0] == first - dt.timedelta(days=3, hours=1)
    assert_weeks_match(patient)


def test_plans_move_day0_and_the_weeks_follow(clinic: Any, now: dt.datetime) -> None:
    patient = make_patient(clinic)
    nrs_weeks_sync([patient.pk])
    assert NrsSeries.objects.get(patient=patient).day0 is None  # no plan, no entry yet
    for k in range(40):
        capture(patient, now - dt.timedelta(days=40 - k, hours=3), k % 11)
    assert_weeks_match(patient)
    tz = zoneinfo.ZoneInfo(patient.time_zone)
    today = now.astimezone(tz).date()
    plan(patient, today - dt.timedelta(days=30))  # a first plan: day 0 moves to its start
    assert stored(patient)[0] == dt.datetime.combine(today - dt.timedelta(days=30), dt.time(), tzinfo=tz)
    assert_weeks_match(patient)
    rebuilt_at = NrsSeries.objects.get(patient=patient).rebuilt_at
    plan(patient, today - dt.timedelta(days=10))  # a later version: day 0 stays
    assert NrsSeries.objects.get(patient=patient).rebuilt_at == rebuilt_at
    plan(patient, today - dt.timedelta(days=35))  # an earlier one: day 0 moves again
    assert stored(patient)[0] == dt.datetime.combine(today - dt.timedelta(days=35), dt.time(), tzinfo=tz)
    assert_weeks_match(patient)


def test_a_new_time_zone_is_stale_until_the_refresh_and_the_summary_is_right_meanwhile(
    clinic: Any, manager: Any, now: dt.datetime
) -> None:
    patient = make_patient(clinic, time_zone="Asia/Shanghai")
    tz = zoneinfo.ZoneInfo("Asia/Shanghai")
    plan(patient, (now - dt.timedelta(days=50)).astimezone(tz).date())
    for k in range(49):
        capture(patient, now - dt.timedelta(days=49 - k, hours=15), 3 + k % 5)

    def weekly() -> list[tuple[int, float, int]]:
        w = cohort_arrays(manager, CohortFilters()).nrs_weekly
        return sorted(zip(w.week.tolist(), w.total.tolist(), w.n.tolist(), strict=True))

    patient_update(actor=ACTOR, patient=patient, data={"time_zone": "America/New_York"})
    day0, weeks = recount(patient)  # day 0 is now midnight in New York: 12-13 h later
    assert stored(patient)[0] != day0
    assert weekly() == sorted((w, t, n) for w, (t, n) in weeks.items() if w < 26)  # raw fallback
    assert nrs_weeks_refresh() == 1
    assert_weeks_match(patient)
    assert weekly() == sorted((w, t, n) for w, (t, n) in weeks.items() if w < 26)
    nrs_weeks_refresh_task.run()  # the beat task: nothing left to do
    assert nrs_weeks_refresh() == 0


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_captures_racing_plan_changes_are_each_counted_once(clinic: Any, now: dt.datetime) -> None:
    patient = make_patient(clinic)
    tz = zoneinfo.ZoneInfo(patient.time_zone)
    today = now.astimezone(tz).date()
    errors: list[Exception] = []
    barrier = threading.Barrier(4)

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            barrier.wait()
            for _ in range(25):
                capture(patient, now - dt.timedelta(seconds=rng.randint(0, 90 * 86_400)), rng.randint(0, 10))
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            close_old_connections()

    def planner() -> None:
        try:
            barrier.wait()
            for back in (20, 40, 60, 80):  # each version starts earlier: day 0 moves each time
                plan(patient, today - dt.timedelta(days=back))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(3)]
    threads.append(threading.Thread(target=planner))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Assessment.objects.filter(patient=patient).count() == 75
    assert_weeks_match(patient)


def test_the_command_recounts_after_a_load_that_bypassed_captures(clinic: Any, now: dt.datetime) -> None:
    patient = make_patient(clinic)
    capture(patient, now - dt.timedelta(days=9), 7)
    Assessment.objects.bulk_create(  # e.g. an SQL load: the weeks do not see these
        Assessment(
            patient=patient, instrument="nrs", answers={"score": 3}, total=3, recorded_at=now - dt.timedelta(days=k)
        )
        for k in range(1, 9)
    )
    assert stored(patient) != recount(patient)
    out = io.StringIO()
    call_command("nrs_weeks_rebuild", str(patient.pk), stdout=out)
    assert "1 patients" in out.getvalue()
    assert_weeks_match(patient)
    call_command("nrs_weeks_rebuild", stdout=io.StringIO())  # every patient
    assert_weeks_match(patient)
    call_command("nrs_weeks_rebuild", str(patient.pk + 1000), stdout=io.StringIO())  # no such patient: nothing to do
    assert not NrsSeries.objects.filter(patient_id=patient.pk + 1000).exists()


def test_weeks_are_counted_on_the_wall_clock_across_a_clock_change(clinic: Any) -> None:
    from assessments.outcomes import week_index

    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    patient = make_patient(clinic, time_zone="Europe/Berlin")
    plan(patient, dt.date(2026, 10, 20))  # clocks go back on Sunday 25 October
    day0 = dt.datetime.combine(dt.date(2026, 10, 20), dt.time(), tzinfo=berlin)
    last_minutes = dt.datetime(2026, 10, 26, 23, 30, tzinfo=berlin)  # 168.5 h after day 0
    moments = [day0, dt.datetime(2026, 10, 25, 2, 30, tzinfo=berlin), last_minutes]
    moments += [dt.datetime(2026, 10, 27, 0, 30, tzinfo=berlin), dt.datetime(2026, 11, 2, 23, 59, tzinfo=berlin)]
    for at in moments:
        capture(patient, at, 4)
    assert (last_minutes - day0.astimezone(dt.UTC)) // WEEK == 1  # elapsed time would say week 1
    state_day0, weeks = stored(patient)
    assert state_day0 == day0
    assert weeks == {0: (12.0, 3), 1: (8.0, 2)}
    assert [week_index(at, day0, berlin) for at in moments] == [0, 0, 0, 1, 1]
    # A rebuild counts the same.
    NrsSeries.objects.filter(patient=patient).update(day0=None, weeks=b"")
    assert nrs_weeks_sync([patient.pk]) == 1
    assert stored(patient) == (day0, {0: (12.0, 3), 1: (8.0, 2)})
