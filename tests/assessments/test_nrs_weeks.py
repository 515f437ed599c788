"""Weekly NRS sums kept at write time (assessments.outcomes.nrs_weeks) against a recount.

Every test compares the kept rows (``NrsDiary``, ``NrsWeek``) and what the cohort summary
reads with an independent recount from the stored entries (day 0 = earliest plan start at
local midnight, else the first entry; week = whole weeks since day 0 on the wall clock;
current window = the 7 days up to the latest entry), after captures through the one
capture service, late entries, plans that move day 0, a new time zone, entries deleted in
the admin, and, on PostgreSQL, captures racing each other and plan changes.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import threading
import uuid
import zoneinfo
from typing import Any

import pytest
from django.core.management import call_command
from django.db import close_old_connections, connection
from django.test import Client

from assessments.capture.services import assessment_record
from assessments.models import Assessment, NrsDiary, NrsWeek
from assessments.outcomes.nrs_weeks import KEPT_WEEKS
from assessments.outcomes.selectors import HORIZON_WEEKS, CohortFilters, cohort_arrays
from assessments.outcomes.services import cohort_outcomes
from assessments.outcomes.windows import current_window, wall_us, week_index
from patients.audit import Actor
from patients.services import patient_update
from tests.factories import make_patient, make_user
from tests.therapies.params import component
from therapies.models import RehabPlan
from therapies.services import plan_version_create

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")
HORIZON = 26
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


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


def recount(patient: Any) -> dict[str, Any]:
    """Day 0, {week: (sum, count)}, the latest entry since day 0 and its window's (sum,
    count), from the stored entries, the slow obvious way."""
    patient.refresh_from_db()
    tz = zoneinfo.ZoneInfo(patient.time_zone)
    entries = list(Assessment.objects.filter(patient=patient, instrument="nrs").values_list("recorded_at", "total"))
    starts = list(RehabPlan.objects.filter(patient=patient).values_list("start_date", flat=True))
    if starts:
        day0: dt.datetime | None = dt.datetime.combine(min(starts), dt.time(), tzinfo=tz)
    else:
        day0 = min((at for at, _v in entries), default=None)
    since = [(at, v) for at, v in entries if day0 is not None and at >= day0]
    weeks: dict[int, tuple[float, int]] = {}
    for at, value in since:
        week = (wall_us(at, tz) - wall_us(day0, tz)) // (7 * 86_400_000_000)  # type: ignore[arg-type]
        if week < KEPT_WEEKS:
            total, n = weeks.get(week, (0.0, 0))
            weeks[week] = (total + value, n + 1)
    last = max((at for at, _v in since), default=None)
    window = [v for at, v in since if last is not None and at in current_window(last, tz)]
    last_day = None if last is None else (wall_us(last, tz) - wall_us(day0, tz)) / 86_400_000_000  # type: ignore[arg-type]
    return {
        "day0": day0,
        "weeks": weeks,
        "last_at": last,
        "last_day": last_day,
        "current": (float(sum(window)), len(window)),
    }


def stored(patient: Any) -> dict[str, Any]:
    diary = NrsDiary.objects.get(patient=patient)
    weeks = {w: (t, n) for w, t, n in NrsWeek.objects.filter(patient=patient).values_list("week", "total", "n")}
    day0 = None if diary.day0_us is None else EPOCH + dt.timedelta(microseconds=diary.day0_us)
    return {
        "day0": day0,
        "weeks": weeks,
        "last_at": diary.last_at,
        "last_day": diary.last_day,
        "current": (diary.current_total, diary.current_n),
    }


def assert_weeks_match(patient: Any) -> None:
    assert stored(patient) == recount(patient)
    assert NrsDiary.objects.get(patient=patient).time_zone == patient.time_zone


def read(manager: Any, patient: Any) -> dict[str, Any]:
    """What the cohort selector hands the engine for this patient."""
    arrays = cohort_arrays(manager, CohortFilters(), horizon_weeks=HORIZON)
    i = arrays.patient_ids.tolist().index(patient.pk)
    w, weekly = arrays.nrs_windows, arrays.nrs_weekly
    mine = weekly.idx == i
    return {
        "weeks": dict(
            zip(
                weekly.week[mine].tolist(),
                zip(weekly.total[mine].tolist(), weekly.n[mine].tolist(), strict=True),
                strict=True,
            )
        ),
        "baseline": (float(w.baseline_total[i]), int(w.n_baseline[i])),
        "current": (float(w.current_total[i]), int(w.n_current[i])),
    }


def assert_read_matches_recount(manager: Any, patient: Any) -> None:
    expected = recount(patient)
    got = read(manager, patient)
    assert got["weeks"] == {w: c for w, c in expected["weeks"].items() if w < HORIZON}
    assert got["baseline"] == expected["weeks"].get(0, (0.0, 0))
    assert got["current"] == expected["current"]


def summary_without_kept_rows(manager: Any) -> dict[str, Any]:
    """The summary recomputed from the stored entries alone (no kept rows to trust)."""
    diaries = list(NrsDiary.objects.all())
    NrsDiary.objects.all().delete()
    try:
        return cohort_outcomes(actor=Actor(user=manager), filters=CohortFilters()).summary
    finally:
        NrsDiary.objects.bulk_create(diaries)


def assert_summary_matches_recount(manager: Any, patient: Any) -> None:
    assert_read_matches_recount(manager, patient)
    summary = cohort_outcomes(actor=Actor(user=manager), filters=CohortFilters()).summary
    assert summary == summary_without_kept_rows(manager)


@pytest.fixture
def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def test_captures_count_in_their_plan_week_late_and_early_entries_included(clinic: Any, now: dt.datetime) -> None:
    patient = make_patient(clinic)
    tz = zoneinfo.ZoneInfo(patient.time_zone)
    start = (now - dt.timedelta(days=60)).astimezone(tz).date()
    plan(patient, start)
    day0 = dt.datetime.combine(start, dt.time(), tzinfo=tz)
    rng = random.Random(3)
    moments = [day0 + dt.timedelta(seconds=rng.randint(-3 * 86_400, 59 * 86_400)) for _ in range(60)]
    # Week edges: the last microsecond of week 0, the first of week 1, and day 0 itself.
    moments += [day0 + dt.timedelta(weeks=1, microseconds=-1), day0 + dt.timedelta(weeks=1), day0]
    for at in moments:  # random order: late diary entries arrive after later ones
        capture(patient, at, rng.randint(0, 10))
    capture(patient, now, 4, instrument="vas")  # other instruments are not counted
    assert_weeks_match(patient)
    weeks = stored(patient)["weeks"]
    assert stored(patient)["day0"] == day0
    assert weeks[0][1] >= 2
    assert weeks[1][1] >= 1
    assert sum(n for _t, n in weeks.values()) == sum(1 for at in moments if at >= day0)


def test_the_current_window_follows_the_latest_entry(clinic: Any, manager: Any, now: dt.datetime) -> None:
    patient = make_patient(clinic)
    first = now - dt.timedelta(days=30)
    for k in range(20):
        capture(patient, first + dt.timedelta(days=k), 6)
    assert stored(patient)["current"] == (42.0, 7)
    capture(patient, first + dt.timedelta(days=25), 2)  # a new latest entry: of the others only day 19 stays
    assert stored(patient)["current"] == (8.0, 2)
    capture(patient, first + dt.timedelta(days=21), 9)  # late, inside the window
    capture(patient, first + dt.timedelta(days=18), 9)  # late, exactly 7 days before the latest: outside
    assert stored(patient)["current"] == (17.0, 3)
    assert_weeks_match(patient)
    assert_read_matches_recount(manager, patient)


def test_without_a_plan_day0_is_the_first_entry_and_an_earlier_one_moves_it(clinic: Any, now: dt.datetime) -> None:
    patient = make_patient(clinic)
    first = now - dt.timedelta(days=20)
    for k in range(10):
        capture(patient, first + dt.timedelta(days=k), 6)
    assert stored(patient)["day0"] == first
    assert stored(patient)["weeks"] == {0: (42.0, 7), 1: (18.0, 3)}
    capture(patient, first - dt.timedelta(days=3, hours=1), 9)  # a late entry from before
    assert stored(patient)["day0"] == first - dt.timedelta(days=3, hours=1)
    assert_weeks_match(patient)


def test_plans_move_day0_the_summary_is_right_at_once_and_the_rows_follow(
    clinic: Any, manager: Any, now: dt.datetime
) -> None:
    patient = make_patient(clinic)
    for k in range(40):
        capture(patient, now - dt.timedelta(days=40 - k, hours=3), k % 11)
    assert_weeks_match(patient)
    tz = zoneinfo.ZoneInfo(patient.time_zone)
    today = now.astimezone(tz).date()
    plan(patient, today - dt.timedelta(days=30))  # a first plan: day 0 moves to its start
    assert stored(patient)["day0"] != recount(patient)["day0"]  # nothing told the rows ...
    assert_summary_matches_recount(manager, patient)  # ... and the summary is right anyway
    capture(patient, now - dt.timedelta(hours=1), 3)  # the next capture brings them in step
    assert stored(patient)["day0"] == dt.datetime.combine(today - dt.timedelta(days=30), dt.time(), tzinfo=tz)
    assert_weeks_match(patient)
    plan(patient, today - dt.timedelta(days=10))  # a later version: day 0 stays
    assert_weeks_match(patient)
    plan(patient, today - dt.timedelta(days=35))  # an earlier one: day 0 moves again
    assert_summary_matches_recount(manager, patient)
    # An edit of the start date that bypasses the plan service (a data correction).
    RehabPlan.objects.filter(patient=patient, version=1).update(start_date=today - dt.timedelta(days=37))
    assert_summary_matches_recount(manager, patient)
    capture(patient, now - dt.timedelta(minutes=30), 5)
    assert stored(patient)["day0"] == dt.datetime.combine(today - dt.timedelta(days=37), dt.time(), tzinfo=tz)
    assert_weeks_match(patient)
    assert_summary_matches_recount(manager, patient)


def test_a_new_time_zone_is_read_from_the_entries_until_the_next_capture(
    clinic: Any, manager: Any, now: dt.datetime
) -> None:
    patient = make_patient(clinic, time_zone="Asia/Shanghai")
    tz = zoneinfo.ZoneInfo("Asia/Shanghai")
    plan(patient, (now - dt.timedelta(days=50)).astimezone(tz).date())
    for k in range(49):
        capture(patient, now - dt.timedelta(days=49 - k, hours=15), 3 + k % 5)
    assert_weeks_match(patient)
    patient_update(actor=ACTOR, patient=patient, data={"time_zone": "America/New_York"})
    assert stored(patient)["day0"] != recount(patient)["day0"]  # midnight in New York: 12-13 h later
    assert_summary_matches_recount(manager, patient)
    capture(patient, now - dt.timedelta(hours=2), 4)
    assert_weeks_match(patient)
    assert_summary_matches_recount(manager, patient)


@pytest.fixture
def superuser_client(db: Any) -> Client:
    client = Client()
    client.force_login(make_user("site-admin", is_staff=True, is_superuser=True))
    return client


def test_entries_deleted_in_the_admin_leave_the_summary_right(
    clinic: Any, manager: Any, superuser_client: Client, now: dt.datetime
) -> None:
    patient = make_patient(clinic)
    other = make_patient(clinic)
    tz = zoneinfo.ZoneInfo(patient.time_zone)
    for who in (patient, other):
        plan(who, (now - dt.timedelta(days=40)).astimezone(tz).date())
        for k in range(38):
            capture(who, now - dt.timedelta(days=38 - k, hours=2), 2 + k % 7)
    capture(patient, now - dt.timedelta(days=1), 5, instrument="vas")
    assert_summary_matches_recount(manager, patient)
    # The change list's "delete selected" action: a baseline entry, the latest entry and a VAS.
    nrs = Assessment.objects.filter(patient=patient, instrument="nrs").order_by("recorded_at")
    chosen = [nrs[1].pk, nrs.last().pk, Assessment.objects.get(patient=patient, instrument="vas").pk]  # type: ignore[union-attr]
    response = superuser_client.post(
        "/admin/assessments/assessment/",
        {"action": "delete_selected", "_selected_action": [str(pk) for pk in chosen], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Assessment.objects.filter(pk__in=chosen).exists()
    assert_weeks_match(patient)
    assert_weeks_match(other)
    assert_summary_matches_recount(manager, patient)
    # The delete view of one entry: the other patient's first week.
    first = Assessment.objects.filter(patient=other, instrument="nrs").order_by("recorded_at").first()
    assert first is not None
    response = superuser_client.post(f"/admin/assessments/assessment/{first.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Assessment.objects.filter(pk=first.pk).exists()
    assert_weeks_match(other)
    assert_summary_matches_recount(manager, other)


def test_capturing_into_an_empty_store_and_deleting_everything(clinic: Any, manager: Any, now: dt.datetime) -> None:
    patient = make_patient(clinic)
    assert not NrsDiary.objects.filter(patient=patient).exists()
    capture(patient, now - dt.timedelta(days=2), 7)  # the first entry makes the diary
    assert_weeks_match(patient)
    client = Client()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    ids = [str(pk) for pk in Assessment.objects.filter(patient=patient).values_list("pk", flat=True)]
    client.post("/admin/assessments/assessment/", {"action": "delete_selected", "_selected_action": ids, "post": "yes"})
    assert stored(patient) == {"day0": None, "weeks": {}, "last_at": None, "last_day": None, "current": (0.0, 0)}
    capture(patient, now - dt.timedelta(days=1), 3)
    assert_weeks_match(patient)


def _race(targets: list[Any]) -> list[Exception]:
    errors: list[Exception] = []
    barrier = threading.Barrier(len(targets))

    def run(target: Any) -> None:
        try:
            barrier.wait()
            target()
        except Exception as exc:  # noqa: BLE001 - reported by the caller's assertion
            errors.append(exc)
        finally:
            close_old_connections()

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_racing_captures_are_each_counted_once(clinic: Any, now: dt.datetime) -> None:
    patient = make_patient(clinic)
    plan(patient, (now - dt.timedelta(days=90)).date())

    def writer(seed: int) -> Any:
        def write() -> None:
            rng = random.Random(seed)
            for _ in range(25):
                capture(patient, now - dt.timedelta(seconds=rng.randint(0, 90 * 86_400)), rng.randint(0, 10))

        return write

    assert _race([writer(seed) for seed in range(4)]) == []
    assert Assessment.objects.filter(patient=patient).count() == 100
    assert_weeks_match(patient)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_captures_racing_plan_changes_leave_the_summary_right(clinic: Any, manager: Any, now: dt.datetime) -> None:
    patient = make_patient(clinic)
    tz = zoneinfo.ZoneInfo(patient.time_zone)
    today = now.astimezone(tz).date()

    def writer(seed: int) -> Any:
        def write() -> None:
            rng = random.Random(seed)
            for _ in range(25):
                capture(patient, now - dt.timedelta(seconds=rng.randint(0, 90 * 86_400)), rng.randint(0, 10))

        return write

    def planner() -> None:
        for back in (20, 40, 60, 80):  # each version starts earlier: day 0 moves each time
            plan(patient, today - dt.timedelta(days=back))

    assert _race([writer(0), writer(1), writer(2), planner]) == []
    assert Assessment.objects.filter(patient=patient).count() == 75
    assert_read_matches_recount(manager, patient)
    capture(patient, now - dt.timedelta(minutes=1), 5)
    assert_weeks_match(patient)


def test_the_summary_horizon_is_kept_and_a_longer_one_reads_the_entries(
    clinic: Any, manager: Any, now: dt.datetime
) -> None:
    assert KEPT_WEEKS >= HORIZON_WEEKS
    patient = make_patient(clinic)
    tz = zoneinfo.ZoneInfo(patient.time_zone)
    start = (now - dt.timedelta(days=200)).astimezone(tz).date()
    plan(patient, start)
    day0 = dt.datetime.combine(start, dt.time(12), tzinfo=tz)
    for days, score in ((0, 8), (1, 8), (100, 5), (189, 3), (190, 2)):  # weeks 0, 0, 14, 27, 27
        capture(patient, day0 + dt.timedelta(days=days), score)
    assert stored(patient)["weeks"] == {0: (16.0, 2), 14: (5.0, 1)}
    assert_weeks_match(patient)
    arrays = cohort_arrays(manager, CohortFilters(), horizon_weeks=30)
    i = arrays.patient_ids.tolist().index(patient.pk)
    weekly = arrays.nrs_weekly
    mine = weekly.idx == i
    assert sorted(zip(weekly.week[mine].tolist(), weekly.total[mine].tolist(), strict=True)) == [
        (0, 16.0),
        (14, 5.0),
        (27, 5.0),
    ]
    assert (arrays.nrs_windows.current_total[i], arrays.nrs_windows.n_current[i]) == (5.0, 2)


def test_the_command_recounts_after_a_load_that_bypassed_captures(clinic: Any, now: dt.datetime) -> None:
    patient = make_patient(clinic)
    capture(patient, now - dt.timedelta(days=9), 7)
    Assessment.objects.bulk_create(  # e.g. an SQL load: the kept rows do not see these
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
    assert not NrsDiary.objects.filter(patient_id=patient.pk + 1000).exists()


def test_weeks_are_counted_on_the_wall_clock_across_a_clock_change(clinic: Any) -> None:
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    patient = make_patient(clinic, time_zone="Europe/Berlin")
    plan(patient, dt.date(2026, 10, 20))  # clocks go back on Sunday 25 October
    day0 = dt.datetime.combine(dt.date(2026, 10, 20), dt.time(), tzinfo=berlin)
    last_minutes = dt.datetime(2026, 10, 26, 23, 30, tzinfo=berlin)  # 168.5 h after day 0
    moments = [day0, dt.datetime(2026, 10, 25, 2, 30, tzinfo=berlin), last_minutes]
    moments += [dt.datetime(2026, 10, 27, 0, 30, tzinfo=berlin), dt.datetime(2026, 11, 2, 23, 59, tzinfo=berlin)]
    for at in moments:
        capture(patient, at, 4)
    assert (last_minutes - day0.astimezone(dt.UTC)) // dt.timedelta(weeks=1) == 1  # elapsed time would say week 1
    assert stored(patient)["day0"] == day0
    assert stored(patient)["weeks"] == {0: (12.0, 3), 1: (8.0, 2)}
    assert [week_index(at, day0, berlin) for at in moments] == [0, 0, 0, 1, 1]
    # A recount counts the same.
    NrsWeek.objects.filter(patient=patient).delete()
    NrsDiary.objects.filter(patient=patient).update(day0_us=None)
    call_command("nrs_weeks_rebuild", str(patient.pk), stdout=io.StringIO())
    assert stored(patient)["weeks"] == {0: (12.0, 3), 1: (8.0, 2)}
    assert_weeks_match(patient)
