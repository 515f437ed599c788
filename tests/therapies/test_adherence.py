"""Adherence arithmetic: the pure engine, then end to end through the API."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

import pytest

from tests.therapies.params import component, plan_body, session_body
from therapies.adherence import (
    ComponentSpec,
    Done,
    plan_adherence,
    prescribed_to_date,
    weekly_pattern,
)

MON = dt.date(2026, 3, 2)  # a Monday


@pytest.mark.parametrize(
    ("frequency", "pattern"),
    [
        (0, (0, 0, 0, 0, 0, 0, 0)),
        (1, (1, 0, 0, 0, 0, 0, 0)),
        (2, (1, 0, 0, 1, 0, 0, 0)),
        (3, (1, 0, 1, 0, 1, 0, 0)),
        (5, (1, 1, 1, 1, 1, 0, 0)),
        (7, (1, 1, 1, 1, 1, 1, 1)),
        (10, (2, 1, 2, 1, 2, 1, 1)),
        (12, (2, 2, 2, 2, 2, 1, 1)),
        (14, (2, 2, 2, 2, 2, 2, 2)),
    ],
)
def test_weekly_pattern(frequency, pattern):
    assert weekly_pattern(frequency) == pattern


@pytest.mark.parametrize("frequency", range(15))
def test_weekly_pattern_sums_to_the_frequency(frequency):
    assert sum(weekly_pattern(frequency)) == frequency


def test_weekly_pattern_refuses_negative():
    with pytest.raises(ValueError, match="negative"):
        weekly_pattern(-1)


@pytest.mark.parametrize(
    ("frequency", "weeks", "today", "expected"),
    [
        (5, 2, MON - dt.timedelta(days=1), 0),  # before the start
        (5, 2, MON, 0),  # day 1: 5/7 of a session
        (5, 2, MON + dt.timedelta(days=1), 1),  # day 2: 10/7
        (5, 2, MON + dt.timedelta(days=6), 5),  # one whole week
        (5, 2, MON + dt.timedelta(days=7), 5),  # day 8: 40/7
        (5, 2, MON + dt.timedelta(days=13), 10),  # the last day
        (5, 2, MON + dt.timedelta(days=100), 10),  # capped at the duration
        (7, 1, MON, 1),
        (3, 4, MON + dt.timedelta(days=20), 9),
        (0, 4, MON + dt.timedelta(days=20), 0),
    ],
)
def test_prescribed_to_date(frequency, weeks, today, expected):
    assert prescribed_to_date(frequency, weeks, MON, today) == expected


def test_adherence_per_component_and_overall():
    specs = [ComponentSpec(1, "tdcs", 5, 2), ComponentSpec(2, "exercise", 3, 4)]
    today = MON + dt.timedelta(days=13)  # tdcs: 10 prescribed; exercise: floor(3 x 14 / 7) = 6
    done = [Done(MON + dt.timedelta(days=i), "tdcs", 1) for i in range(7)]
    done += [Done(MON + dt.timedelta(days=i), "exercise", 2) for i in (0, 2, 4, 7)]
    result = plan_adherence(specs, done, start=MON, today=today)
    tdcs, exercise = result.components
    assert (tdcs.done, tdcs.prescribed_to_date, tdcs.percent) == (7, 10, 70.0)
    assert (exercise.done, exercise.prescribed_to_date, exercise.percent) == (4, 6, 66.7)
    assert tdcs.prescribed_total == 10
    assert exercise.prescribed_total == 12
    assert result.done == 11
    assert result.prescribed_to_date == 16
    assert result.percent == 68.8  # 11 / 16


def test_done_outside_the_window_does_not_count():
    specs = [ComponentSpec(1, "tdcs", 5, 1)]
    done = [
        Done(MON - dt.timedelta(days=1), "tdcs", 1),  # before the start
        Done(MON, "tdcs", 1),
        Done(MON + dt.timedelta(days=7), "tdcs", 1),  # after the one-week course
        Done(MON + dt.timedelta(days=9), "tdcs", 1),  # "today", still after the course
    ]
    result = plan_adherence(specs, done, start=MON, today=MON + dt.timedelta(days=9))
    assert result.components[0].done == 1
    assert result.components[0].prescribed_to_date == 5
    assert result.components[0].window_end == MON + dt.timedelta(days=6)


def test_future_done_is_not_counted():
    result = plan_adherence(
        [ComponentSpec(1, "tdcs", 7, 2)],
        [Done(MON + dt.timedelta(days=3), "tdcs", 1)],
        start=MON,
        today=MON + dt.timedelta(days=1),
    )
    assert result.components[0].done == 0


def test_unlinked_and_old_version_sessions_count_by_modality():
    specs = [ComponentSpec(10, "exercise", 7, 1), ComponentSpec(11, "exercise", 7, 1), ComponentSpec(12, "tdcs", 7, 1)]
    done = [
        Done(MON, "exercise", None),  # no component: first exercise component
        Done(MON, "exercise", 3),  # component of an earlier version: same
        Done(MON, "exercise", 11),  # named component wins
        Done(MON, "rtms", None),  # not in the plan: ignored
    ]
    by_id = plan_adherence(specs, done, start=MON, today=MON + dt.timedelta(days=6)).by_component()
    assert (by_id[10].done, by_id[11].done, by_id[12].done) == (2, 1, 0)


def test_percent_is_capped_and_none_without_prescription():
    specs = [ComponentSpec(1, "tdcs", 1, 4), ComponentSpec(2, "tens", 0, 4), ComponentSpec(3, "exercise", 7, 1)]
    done = [Done(MON + dt.timedelta(days=i), "tdcs", 1) for i in range(5)] + [Done(MON, "tens", 2)]
    result = plan_adherence(specs, done, start=MON, today=MON + dt.timedelta(days=6))
    tdcs, tens, exercise = result.components
    assert (tdcs.done, tdcs.prescribed_to_date, tdcs.percent) == (5, 1, 100.0)
    assert tens.percent is None
    assert tens.done == 1
    assert exercise.percent == 0.0
    # Extra tDCS cannot make up for missed exercise: (1 + 0) / (1 + 7).
    assert result.percent == 12.5


def test_empty_plan_has_no_percent():
    result = plan_adherence([], [], start=MON, today=MON)
    assert result.percent is None
    assert result.as_dict()["components"] == {}


# -----------------------------------------------------------------------------
# Through the API: sessions by the therapist, home logs by the patient, patient-local days
# -----------------------------------------------------------------------------


def _local_today(patient: Any) -> dt.date:
    return dt.datetime.now(zoneinfo.ZoneInfo(patient.time_zone)).date()


def test_adherence_in_the_plan_response(therapist_client, patient_client, patient):
    tz = zoneinfo.ZoneInfo(patient.time_zone)  # Asia/Shanghai, UTC+8
    start = _local_today(patient) - dt.timedelta(days=13)
    body = plan_body(
        component("tdcs", frequency_per_week=5, duration_weeks=2),
        component("exercise", frequency_per_week=3, duration_weeks=4),
    )
    body["start_date"] = start.isoformat()
    plan = therapist_client.post(f"/api/v1/patients/{patient.pk}/plan/", body, format="json").json()
    tdcs_id, exercise_id = (c["id"] for c in plan["components"])

    def session(local: dt.datetime, **extra: Any) -> None:
        response = therapist_client.post(
            f"/api/v1/patients/{patient.pk}/sessions/",
            session_body(delivered_at=local.isoformat(), **extra),
            format="json",
        )
        assert response.status_code == 201, response.content

    # 00:30 local on day 1 is the previous day in UTC: still day 1 for the patient.
    session(dt.datetime.combine(start, dt.time(0, 30), tzinfo=tz), component=tdcs_id)
    for day in range(1, 6):
        session(dt.datetime.combine(start + dt.timedelta(days=day), dt.time(10), tzinfo=tz), component=tdcs_id)
    session(dt.datetime.combine(start + dt.timedelta(days=8), dt.time(10), tzinfo=tz))  # no component: by modality
    session(
        dt.datetime.combine(start - dt.timedelta(days=1), dt.time(23, 30), tzinfo=tz)
    )  # the day before: not counted
    for day, done in ((0, True), (2, True), (4, True), (7, True), (9, False), (11, False)):
        response = patient_client.post(
            f"/api/v1/patients/{patient.pk}/home-exercise/",
            {
                "component": exercise_id,
                "date": (start + dt.timedelta(days=day)).isoformat(),
                "done": done,
                "minutes": 30,
                "client_uuid": str(uuid.uuid4()),
            },
            format="json",
        )
        assert response.status_code == 201, response.content

    adherence = therapist_client.get(f"/api/v1/patients/{patient.pk}/plan/").json()["adherence"]
    tdcs = adherence["components"][str(tdcs_id)]
    exercise = adherence["components"][str(exercise_id)]
    assert (tdcs["done"], tdcs["prescribed_to_date"], tdcs["percent"]) == (7, 10, 70.0)
    assert (exercise["done"], exercise["prescribed_to_date"], exercise["percent"]) == (4, 6, 66.7)
    assert adherence["percent"] == 68.8
    assert adherence["as_of"] == _local_today(patient).isoformat()
