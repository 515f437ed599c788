"""Cohort outcomes through the selector, on the database, against a hand-computed cohort.

The cohort (plan start = day 0 = local midnight, entries at 09:00 local unless noted):

- A (clbp; tDCS): day -3 = 10 (before plan start, ignored); baseline days 0, 1, 1 (same
  moment, a tie), 2 = 8, 6, 8, 6 -> 7.0. Week 1: 5, 5, 4 -> 4.67 <= 4.9 (70 % of 7):
  response in plan week 1 = 2 weeks. Day 23 at 09:00 = 10 is exactly 7 days before the
  last entry (day 30, 09:00), outside the current window (last - 7 d, last]; days 27-30
  = 3, 4, 3, 4 -> 3.5: change -3.5 (-50 %): responder30, responder50, MCID.
- B (clbp + radiculopathy; v1 tDCS from day 0, v2 exercise only): only two baseline
  entries -> not valid, not in the Kaplan-Meier; in the tDCS filter it is not (the
  current plan has no tDCS).
- C (phn; tDCS + exercise): baseline 10, 10, 10; day 7 at 00:00 exactly = 8 belongs to
  week 1, not to the baseline (had it counted, -30 % would fail). Week 1: 8, 9, 9 -> no
  response; week 2: 7, 7, 7 = exactly 70 %: response in plan week 2 = 3 weeks. Current
  (days 26-28) 7.0: -30 % exactly (responder30, not 50), -3 points (MCID).
- D (clbp; no plan): day 0 = first NRS at START + 5 d 09:30:15.5 local; 6, 6, 6, then
  exactly 7 d later 0 (week 1, not baseline); days 20-22: 5, 5, 5: -1 (-16.7 %), valid,
  no responder. Only week 0 has >= 3 entries: censored at 1 week.
- E (dpn; TENS, home): 4 everywhere for 6 weeks (3 a week): 0 %, censored at 6 weeks.
  Thermal 1.5 -> 0.6 °C (recovered); PHQ-9 15 -> 9 (MCID 5: yes), GAD-7 10 -> 7 (MCID
  4: no), ODI 40 -> 30 (MCID 10: yes). 14 home-exercise logs done of 14 prescribed.
- F (crps; acupuncture): no NRS; thermal 1.2 -> 1.1 °C (not recovered).
- Not in the cohort: a patient of another clinic. (A discharged patient is in it:
  leaving them out would bias outcomes towards those still in care.)

Expected: 6 patients, 4 valid (A, C, D, E); responders30 2/4, responders50 1/4; MCID NRS
2/4; median change -2.0 (of -3.5, -3, -1, 0); KM (A event 2, C event 3, D censored 1,
E censored 6): S = 1, 2/3, 1/3, 1/3 at 1, 2, 3, 6 weeks; median 3 weeks.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import uuid
import zipfile
import zoneinfo
from typing import Any
from xml.etree import ElementTree

import numpy as np
import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from numpy.testing import assert_allclose

from assessments.models import Assessment, NrsDiary, NrsWeek
from assessments.outcomes import exports, selectors
from assessments.outcomes.exports import case_series_rows, patient_code, patient_rows
from assessments.outcomes.nrs_weeks import nrs_weeks_rebuild
from assessments.outcomes.selectors import CohortFilters, cohort_arrays
from assessments.outcomes.services import cohort_outcomes
from assessments.outcomes.windows import current_window, wall_us, week_index
from patients.audit import Actor
from patients.models import AuditEvent
from tests.factories import make_patient, make_staff
from tests.stats import rate_json
from therapies.models import HomeExerciseLog, PlanComponent, RehabPlan, TherapySession

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")  # the factories' patient time zone

pytestmark = pytest.mark.django_db


# --- builders (shared with tests/frontend/test_outcomes_page.py) -----------------------------


def local(day: dt.date, hour: int = 9, minute: int = 0, second: float = 0.0) -> dt.datetime:
    whole = int(second)
    return dt.datetime.combine(day, dt.time(hour, minute, whole, round((second - whole) * 1e6)), tzinfo=TZ)


def make_plan(
    patient: Any,
    start: dt.date,
    *modalities: str,
    version: int = 1,
    frequency: int = 3,
    weeks: int = 8,
) -> RehabPlan:
    plan = RehabPlan.objects.create(patient=patient, version=version, reason=f"v{version}", start_date=start)
    for order, modality in enumerate(modalities):
        PlanComponent.objects.create(
            plan=plan,
            order=order,
            modality=modality,
            layer="central" if modality in ("tdcs", "rtms") else "peripheral",
            frequency_per_week=frequency,
            duration_weeks=weeks,
            sessions_prescribed=frequency * weeks,
        )
    return plan


def add_scores(patient: Any, instrument: str, rows: list[tuple[dt.datetime, float]]) -> None:
    Assessment.objects.bulk_create(
        [
            Assessment(
                patient=patient,
                instrument=instrument,
                answers={"score": value} if instrument == "nrs" else {},
                total=value,
                recorded_at=at,
                client_uuid=uuid.uuid4(),
            )
            for at, value in rows
        ]
    )
    if instrument == "nrs":
        nrs_weeks_rebuild([patient.pk])  # a bulk load recounts the weekly sums


def add_nrs(patient: Any, start: dt.date, days_values: list[tuple[float, float]], hour: int = 9) -> None:
    """(day, score) pairs; day may be fractional (hours after ``hour``:00 of that day)."""
    add_scores(
        patient,
        "nrs",
        [(local(start, hour) + dt.timedelta(days=day), value) for day, value in days_values],
    )


def today_local() -> dt.date:
    return timezone.now().astimezone(TZ).date()


@pytest.fixture
def start() -> dt.date:
    return today_local() - dt.timedelta(days=100)


@pytest.fixture
def world(clinic: Any, other_clinic: Any, therapist: Any, manager: Any, start: dt.date) -> dict[str, Any]:
    second = make_staff(clinic, "therapist", "second-therapist")
    p: dict[str, Any] = {}

    p["A"] = make_patient(
        clinic,
        therapists=(therapist,),
        diagnoses=["clbp"],
        sex="female",
        birth_year=1970,
        pain_onset=start - dt.timedelta(days=365),
    )
    tdcs = make_plan(p["A"], start, "tdcs", frequency=5, weeks=4)
    add_nrs(
        p["A"],
        start,
        [
            (-3, 10),
            (0, 8),
            (1, 6),
            (1, 8),
            (2, 6),
            (8, 5),
            (9, 5),
            (10, 4),
            (23, 10),
            (27, 3),
            (28, 4),
            (29, 3),
            (30, 4),
        ],
    )
    component = tdcs.components.get()
    TherapySession.objects.bulk_create(
        [
            TherapySession(
                patient=p["A"],
                component=component,
                modality="tdcs",
                delivered_at=local(start + dt.timedelta(days=d), 10),
            )
            for d in range(10)
        ]
    )

    p["B"] = make_patient(
        clinic,
        therapists=(therapist,),
        diagnoses=["clbp", "lumbar_radiculopathy"],
        sex="male",
        birth_year=1980,
    )
    make_plan(p["B"], start, "tdcs", version=1)
    make_plan(p["B"], start + dt.timedelta(days=20), "exercise", version=2)
    add_nrs(p["B"], start, [(0, 6), (1, 6), (20, 2), (21, 2), (22, 2)])

    p["C"] = make_patient(
        clinic,
        therapists=(therapist,),
        diagnoses=["phn"],
        sex="female",
        birth_year=1950,
        pain_onset=start - dt.timedelta(days=61),
    )
    make_plan(p["C"], start, "tdcs", "exercise")
    add_nrs(
        p["C"],
        start,
        [
            (0, 10),
            (1, 10),
            (2, 10),
            (8, 9),
            (9, 9),
            (14, 7),
            (15, 7),
            (16, 7),
            (26, 7),
            (27, 7),
            (28, 7),
        ],
    )
    add_scores(p["C"], "nrs", [(local(start + dt.timedelta(days=7), 0), 8)])  # day 7.0 exactly

    p["D"] = make_patient(clinic, diagnoses=["clbp"], sex="male", birth_year=1990)
    first = local(start + dt.timedelta(days=5), 9, 30, 15.5)
    add_scores(
        p["D"],
        "nrs",
        [(first + dt.timedelta(days=d), v) for d, v in ((0, 6), (1, 6), (2, 6), (7, 0), (20, 5), (21, 5), (22, 5))],
    )

    p["E"] = make_patient(clinic, therapists=(second,), diagnoses=["dpn"], sex="female", birth_year=1960)
    tens_plan = make_plan(p["E"], start, "tens", frequency=7, weeks=2)
    add_nrs(p["E"], start, [(7 * w + d, 4) for w in range(6) for d in (0, 2, 4)])
    tens = tens_plan.components.get()
    HomeExerciseLog.objects.bulk_create(
        [
            HomeExerciseLog(
                patient=p["E"],
                component=tens,
                date=start + dt.timedelta(days=d),
                done=True,
            )
            for d in range(14)
        ]
    )
    add_scores(
        p["E"],
        "thermal",
        [(local(start), 1.5), (local(start + dt.timedelta(days=42)), 0.6)],
    )
    add_scores(
        p["E"],
        "phq9",
        [
            (local(start - dt.timedelta(days=2)), 15),
            (local(start + dt.timedelta(days=40)), 9),
        ],
    )
    add_scores(p["E"], "gad7", [(local(start), 10), (local(start + dt.timedelta(days=40)), 7)])
    add_scores(p["E"], "odi", [(local(start), 40), (local(start + dt.timedelta(days=40)), 30)])
    add_scores(p["E"], "dn4", [(local(start), 5)])

    p["F"] = make_patient(clinic, therapists=(second,), diagnoses=["crps"], sex="female", birth_year=1975)
    make_plan(p["F"], start, "acupuncture")
    add_scores(
        p["F"],
        "thermal",
        [(local(start), 1.2), (local(start + dt.timedelta(days=30)), 1.1)],
    )

    foreign = make_patient(other_clinic, diagnoses=["clbp"])
    make_plan(foreign, start, "tdcs")
    add_nrs(foreign, start, [(d, 5) for d in range(30)])
    return {"patients": p, "second": second, "foreign": foreign}


def _outcomes(user: Any, **filters: Any) -> Any:
    return cohort_outcomes(actor=Actor(user=user), filters=CohortFilters(**filters))


def _by_pk(out: Any, patient: Any) -> int:
    return int(np.flatnonzero(out.arrays.patient_ids == patient.pk)[0])


# --- engine through the selector ----------------------------------------------------------


def test_pain_outcomes_per_patient(world, manager):
    out = _outcomes(manager)
    p = world["patients"]
    assert sorted(out.arrays.patient_ids.tolist()) == sorted(x.pk for x in p.values())
    pain = out.pain
    expect = {  # baseline, current, valid, r30, r50, mcid
        "A": (7.0, 3.5, True, True, True, True),
        "B": (6.0, 2.0, False, False, False, False),
        "C": (10.0, 7.0, True, True, False, True),
        "D": (6.0, 5.0, True, False, False, False),
        "E": (4.0, 4.0, True, False, False, False),
    }
    for key, (baseline, current, valid, r30, r50, mcid) in expect.items():
        i = _by_pk(out, p[key])
        assert pain.baseline[i] == pytest.approx(baseline), key
        assert pain.current[i] == pytest.approx(current), key
        assert (
            bool(pain.valid[i]),
            bool(pain.responder30[i]),
            bool(pain.responder50[i]),
            bool(pain.mcid[i]),
        ) == (valid, r30, r50, mcid), key
    assert np.isnan(pain.baseline[_by_pk(out, p["F"])])
    assert pain.pct_change[_by_pk(out, p["D"])] == pytest.approx(-100 / 6)


def test_summary_rates_and_medians(world, manager):
    summary = _outcomes(manager).summary
    assert summary["n_patients"] == 6
    assert summary["n_valid"] == 4
    assert summary["responders"]["30"] == rate_json(2, 4, 50.0)
    assert summary["responders"]["50"] == rate_json(1, 4, 25.0)
    assert summary["mcid"]["nrs"] == {**rate_json(2, 4, 50.0), "points": 2.0}
    assert summary["mcid"]["phq9"] == {**rate_json(1, 1, 100.0), "points": 5.0}
    assert summary["mcid"]["gad7"] == {**rate_json(0, 1, 0.0), "points": 4.0}
    assert summary["mcid"]["odi"] == {**rate_json(1, 1, 100.0), "points": 10.0}
    assert summary["median_change"]["value"] == -2.0
    assert summary["median_pct_change"]["value"] == -23.3  # (-30 - 16.67) / 2, one decimal
    assert summary["thermal"] == {
        "n_measured": 2,
        "asymmetric_at_baseline": 2,
        "followed_up": 2,
        "recovered": rate_json(1, 2, 50.0),
    }


def test_time_to_response_kaplan_meier_with_censoring(world, manager):
    out = _outcomes(manager)
    p = world["patients"]
    weeks = (out.time_to_response.durations + 1) / 7
    events = out.time_to_response.event
    for key, (w, event) in {
        "A": (2, True),
        "C": (3, True),
        "D": (1, False),
        "E": (6, False),
    }.items():
        i = _by_pk(out, p[key])
        assert (weeks[i], bool(events[i])) == (pytest.approx(w), event), key
    for key in ("B", "F"):  # no baseline week with >= 3 entries
        assert np.isnan(weeks[_by_pk(out, p[key])])
    ttr = out.summary["time_to_response"]
    assert (ttr["n"], ttr["events"], ttr["censored"], ttr["median_weeks"]["value"]) == (
        4,
        2,
        2,
        3.0,
    )
    assert [(pt["weeks"], pt["survival"]) for pt in ttr["points"]] == [
        (1.0, 1.0),
        (2.0, 0.6667),
        (3.0, 0.3333),
        (6.0, 0.3333),
    ]
    assert ttr["censored_at"] == [
        {"weeks": 1.0, "count": 1, "survival": 1.0},
        {"weeks": 6.0, "count": 1, "survival": 0.3333},
    ]
    assert all(pt["ci95"]["low"] <= pt["survival"] <= pt["ci95"]["high"] for pt in ttr["points"])


def test_weekly_trajectory_uses_one_mean_per_patient_and_week(world, manager):
    traj = _outcomes(manager).summary["trajectory"]
    assert traj["weeks"][:2] == [0, 1]
    # week 0: A 7, B 6, C 10, D 6, E 4 -> median 6, quartiles 6 and 7
    assert (traj["median"][0], traj["q1"][0], traj["q3"][0], traj["n"][0]) == (
        6.0,
        6.0,
        7.0,
        5,
    )
    # week 1: A 14/3, C (8 + 9 + 9)/3, D 0 (one entry), E 4 -> 4.33 (median of 0, 4, 4.67, 8.67)
    assert traj["n"][1] == 4
    assert traj["median"][1] == pytest.approx((4 + 14 / 3) / 2, abs=0.01)
    assert len(traj["weeks"]) == selectors.HORIZON_WEEKS


def test_adherence_and_sessions_from_therapies(world, manager):
    out = _outcomes(manager)
    p = world["patients"]
    adherence = {key: out.arrays.adherence[_by_pk(out, p[key])] for key in p}
    assert adherence["A"] == 50.0  # 10 of 20 tDCS sessions (5 a week for 4 weeks, finished)
    assert adherence["E"] == 100.0  # 14 home sessions of 14
    assert adherence["B"] == 0.0
    assert adherence["C"] == 0.0
    assert adherence["F"] == 0.0
    assert np.isnan(adherence["D"])  # no plan
    adherence = out.summary["adherence"]
    assert adherence["n"] == 5
    assert adherence["median_pct"]["value"] == 0.0
    assert adherence["at_least_80_pct"] == rate_json(1, 5, 20.0)
    assert out.arrays.sessions[_by_pk(out, p["A"])] == 10


def test_groups(world, manager, therapist):
    groups = _outcomes(manager).summary["groups"]
    diagnosis = {row["key"]: row for row in groups["diagnosis"]}
    assert set(diagnosis) == {"clbp", "lumbar_radiculopathy", "phn", "dpn", "crps"}
    assert (
        diagnosis["clbp"]["n"],
        diagnosis["clbp"]["n_valid"],
        diagnosis["clbp"]["responders30"]["count"],
    ) == (3, 2, 1)
    assert diagnosis["phn"]["responders50"] == rate_json(0, 1, 0.0)
    assert diagnosis["clbp"]["median_change"]["value"] == pytest.approx(-2.25)
    modality = {row["key"]: (row["n"], row["n_valid"]) for row in groups["modality"]}
    # B's current plan (v2) is exercise only; D has no plan.
    assert modality == {
        "tdcs": (2, 2),
        "exercise": (2, 1),
        "tens": (1, 1),
        "acupuncture": (1, 0),
    }
    therapists = {row["key"]: row["n"] for row in groups["therapist"]}
    assert therapists == {
        str(therapist.pk): 3,
        str(world["second"].pk): 2,
        "unassigned": 1,
    }
    quarters = {row["key"]: row["n"] for row in groups["period"]}
    start = RehabPlan.objects.get(patient=world["patients"]["A"]).start_date
    d_day0 = start + dt.timedelta(days=5)
    q = lambda d: f"{d.year}-Q{(d.month - 1) // 3 + 1}"  # noqa: E731
    expected: dict[str, int] = {}
    for day in [start] * 5 + [d_day0]:
        expected[q(day)] = expected.get(q(day), 0) + 1
    assert quarters == expected


def test_filters(world, manager, start):
    p = world["patients"]

    def ids(**filters: Any) -> set[int]:
        return set(cohort_arrays(manager, CohortFilters(**filters)).patient_ids.tolist())

    assert ids(diagnosis="clbp") == {p["A"].pk, p["B"].pk, p["D"].pk}
    assert ids(diagnosis="lumbar_radiculopathy") == {p["B"].pk}
    assert ids(modality="tdcs") == {
        p["A"].pk,
        p["C"].pk,
    }  # B's current plan dropped tDCS
    assert ids(modality="exercise") == {p["B"].pk, p["C"].pk}
    assert ids(since=start + dt.timedelta(days=1)) == {p["D"].pk}  # D's day 0 is its first NRS
    assert ids(until=start) == {p[k].pk for k in "ABCEF"}
    assert ids(since=start, until=start + dt.timedelta(days=5)) == {p[k].pk for k in "ABCDEF"}
    assert ids(diagnosis="clbp", modality="tdcs", until=start) == {p["A"].pk}


def test_access_rule_and_other_clinics(world, therapist, other_clinic, clinic):
    p = world["patients"]
    assert set(cohort_arrays(therapist, CohortFilters()).patient_ids.tolist()) == {
        p["A"].pk,
        p["B"].pk,
        p["C"].pk,
    }
    other_manager = make_staff(other_clinic, "manager", "other-manager")
    assert set(cohort_arrays(other_manager, CohortFilters()).patient_ids.tolist()) == {world["foreign"].pk}
    admin = make_staff(clinic, "admin", "clinic-admin")
    assert len(cohort_arrays(admin, CohortFilters()).patient_ids) == 6


def test_every_read_is_audited_with_the_patient_ids(world, manager):
    out = cohort_outcomes(
        actor=Actor(user=manager, path="/x"),
        filters=CohortFilters(diagnosis="clbp"),
        audit_as="cohort_outcomes",
    )
    event = AuditEvent.objects.filter(action="list", object_type="cohort_outcomes").latest("id")
    assert event.actor_id == manager.pk
    assert sorted(event.detail["patient_ids"]) == sorted(out.arrays.patient_ids.tolist())
    assert event.detail["count"] == 3
    assert event.detail["filters"]["diagnosis"] == "clbp"


def test_empty_cohort(db, manager):
    summary = _outcomes(manager).summary
    assert (summary["n_patients"], summary["n_valid"]) == (0, 0)
    assert summary["responders"]["30"] == rate_json(0, 0, None)
    assert summary["time_to_response"]["points"] == []
    assert summary["groups"]["diagnosis"] == []


def test_patients_without_any_nrs(clinic, manager, start):
    """Plans but no diary yet: no windows, no weeks, nothing valid; no error either."""
    for _ in range(3):
        make_plan(make_patient(clinic), start, "tdcs")
    out = _outcomes(manager)
    assert (out.summary["n_patients"], out.summary["n_valid"]) == (3, 0)
    assert out.arrays.nrs_weekly.idx.size == 0
    assert np.isnan(out.arrays.nrs_windows.last_day).all()


def test_patient_rows_are_deidentified(world, manager, start):
    out = _outcomes(manager)
    rows = {row[0]: row for row in patient_rows(out)}
    a = world["patients"]["A"]
    row = rows[patient_code(a.clinic_id, a.pk)]
    assert row[1:8] == [
        "clbp",
        "female",
        str(start.year - 1970),
        "7.0",
        "3.5",
        "-3.5",
        "-50.0",
    ]
    assert row[8:16] == ["1", "1", "1", "", "", "", "", "50.0"]
    b = world["patients"]["B"]
    assert rows[patient_code(b.clinic_id, b.pk)][6:11] == [
        "",
        "",
        "",
        "",
        "",
    ]  # too little data: blank flags
    e = world["patients"]["E"]
    assert rows[patient_code(e.clinic_id, e.pk)][11:16] == ["1", "0", "1", "1", "100.0"]
    flat = " ".join(" ".join(r) for r in rows.values())
    for patient in world["patients"].values():
        assert patient.display_name not in flat


def test_case_series_rows(world, manager, start):
    out = cohort_outcomes(actor=Actor(user=manager), filters=CohortFilters(), case_series=True)
    rows = {row["patient_code"]: row for row in case_series_rows(out)}
    p = world["patients"]
    a = rows[patient_code(p["A"].clinic_id, p["A"].pk)]
    assert a["date"] == start.isoformat()
    assert a["sex"] == "Female"
    assert a["age"] == str(start.year - 1970)
    assert a["trigger"] == "—"
    assert a["course_months"] == "12.0"
    assert a["sessions"] == "10"
    assert a["pain_outcome"] == "7.0 → 3.5 (-50.0 %), ≥50 % responder"
    c = rows[patient_code(p["C"].clinic_id, p["C"].pk)]
    assert c["course_months"] == "2.0"
    assert c["pain_outcome"].endswith("≥30 % responder")
    e = rows[patient_code(p["E"].clinic_id, p["E"].pk)]
    assert e["diagnosis_basis"] == "Diabetic peripheral neuropathy; DN4 5/10; ΔT 1.5 °C"
    assert rows[patient_code(p["B"].clinic_id, p["B"].pk)]["pain_outcome"] == "insufficient data"
    d = rows[patient_code(p["D"].clinic_id, p["D"].pk)]
    assert d["date"] == (start + dt.timedelta(days=5)).isoformat()
    assert list(rows.values())[-1] is d  # ordered by plan start


# --- query budget -----------------------------------------------------------------------------


def _cohort_of(clinic: Any, therapist: Any, n: int, start: dt.date) -> None:
    for k in range(n):
        patient = make_patient(
            clinic,
            therapists=(therapist,),
            diagnoses=["clbp" if k % 2 else "phn"],
            birth_year=1960 + k % 30,
            pain_onset=start - dt.timedelta(days=200),
        )
        plan = make_plan(patient, start, "tdcs" if k % 3 else "exercise")
        add_nrs(patient, start, [(d, 7 - (d // 7) % 5) for d in range(0, 28)])
        add_scores(
            patient,
            "thermal",
            [(local(start), 1.4), (local(start + dt.timedelta(days=21)), 0.8)],
        )
        add_scores(
            patient,
            "phq9",
            [(local(start), 12), (local(start + dt.timedelta(days=21)), 6)],
        )
        add_scores(patient, "dn4", [(local(start), 4)])
        TherapySession.objects.create(
            patient=patient,
            component=plan.components.get(),
            modality=plan.components.get().modality,
            delivered_at=local(start + dt.timedelta(days=1)),
        )


def test_query_count_does_not_grow_with_the_cohort(clinic, manager, therapist, start, django_assert_max_num_queries):
    _cohort_of(clinic, therapist, 5, start)
    with CaptureQueriesContext(connection) as five:
        out = cohort_outcomes(actor=Actor(user=manager), filters=CohortFilters(), case_series=True)
    assert out.summary["n_patients"] == 5
    _cohort_of(clinic, therapist, 45, start)
    with django_assert_max_num_queries(len(five)):
        out = cohort_outcomes(actor=Actor(user=manager), filters=CohortFilters(), case_series=True)
    assert out.summary["n_patients"] == 50
    assert out.summary["n_valid"] == 50


# --- the kept weekly rows, the stored entries and a recount agree -------------------------


def _recount_nrs(patient: Any, tz: zoneinfo.ZoneInfo, horizon: int) -> tuple[dict[int, tuple[float, int]], Any]:
    """Plan weeks and the current window of one patient, entry by entry with the pure
    rules (``assessments.outcomes.windows``): {week: (sum, n)}, (sum, n, last day)."""
    entries = list(Assessment.objects.filter(patient=patient, instrument="nrs").values_list("recorded_at", "total"))
    starts = list(RehabPlan.objects.filter(patient=patient).values_list("start_date", flat=True))
    day0 = dt.datetime.combine(min(starts), dt.time(), tzinfo=tz) if starts else min(at for at, _v in entries)
    since = [(at, v) for at, v in entries if at >= day0]
    weeks: dict[int, tuple[float, int]] = {}
    for at, v in since:
        week = week_index(at, day0, tz)
        if week < horizon:
            total, n = weeks.get(week, (0.0, 0))
            weeks[week] = (total + v, n + 1)
    if not since:
        return weeks, (0.0, 0, float("nan"))
    last = max(at for at, _v in since)
    window = [v for at, v in since if at in current_window(last, tz)]
    return weeks, (sum(window), len(window), (wall_us(last, tz) - wall_us(day0, tz)) / 86_400e6)


def test_kept_rows_the_stored_entries_and_a_recount_agree(clinic, manager, start):
    rng = random.Random(8)
    zones = {}
    for k in range(12):
        # A third of them where clocks change: days and weeks are counted on the wall clock.
        zone = "Europe/Berlin" if k % 3 == 0 else "Asia/Shanghai"
        patient = make_patient(clinic, diagnoses=["clbp"], time_zone=zone)
        zones[patient.pk] = (patient, zoneinfo.ZoneInfo(zone))
        if k % 4:
            make_plan(patient, start + dt.timedelta(days=k))
        rows = []
        for _ in range(rng.randint(0, 300)):
            at = local(start, 0) + dt.timedelta(
                seconds=rng.randint(-5 * 86_400, 120 * 86_400),
                microseconds=rng.choice([0, 0, 1, 999_999, 123_456]),
            )
            rows.append((at, float(rng.randint(0, 10))))
        rows += [
            (local(start + dt.timedelta(days=k), 0) + dt.timedelta(days=7 * w), 5.0) for w in (1, 2, 26)
        ]  # week edges
        add_scores(patient, "nrs", rows)

    def weekly_of(weekly: Any) -> list[tuple[int, int, float, int]]:
        return sorted(
            zip(weekly.idx.tolist(), weekly.week.tolist(), weekly.total.tolist(), weekly.n.tolist(), strict=True)
        )

    def assert_recounted(arrays: Any, horizon: int = 26) -> None:
        expected_weeks = []
        for i, pk in enumerate(arrays.patient_ids.tolist()):
            patient, tz = zones[pk]
            weeks, (total, n, last_day) = _recount_nrs(patient, tz, horizon)
            expected_weeks += [(i, w, t, c) for w, (t, c) in weeks.items()]
            w = arrays.nrs_windows
            assert (w.current_total[i], w.n_current[i]) == (total, n)
            assert (w.baseline_total[i], w.n_baseline[i]) == weeks.get(0, (0.0, 0))
            assert_allclose(w.last_day[i], last_day, atol=1e-9, equal_nan=True)
        assert weekly_of(arrays.nrs_weekly) == sorted(expected_weeks)

    kept = cohort_arrays(manager, CohortFilters(), horizon_weeks=26)
    assert NrsDiary.objects.filter(day0_us__isnull=False).count() == 12
    assert kept.nrs_windows.n_baseline.sum() > 10
    assert kept.nrs_windows.n_current.sum() > 10
    assert len(kept.nrs_weekly.idx) > 100
    assert_recounted(kept)
    # The same when no kept day 0 is current (every patient reduced from the stored entries) ...
    NrsDiary.objects.update(day0_us=F("day0_us") - 1)
    assert_recounted(cohort_arrays(manager, CohortFilters(), horizon_weeks=26))
    # ... and when no diary is kept at all (the weeks left behind are not used).
    NrsDiary.objects.all().delete()
    assert NrsWeek.objects.exists()
    assert_recounted(cohort_arrays(manager, CohortFilters(), horizon_weeks=26))
    nrs_weeks_rebuild(pk for pk in zones)
    assert_recounted(cohort_arrays(manager, CohortFilters(), horizon_weeks=26))
    # Beyond the kept weeks everything comes from the stored entries.
    assert_recounted(cohort_arrays(manager, CohortFilters(), horizon_weeks=30), horizon=30)


# --- API -------------------------------------------------------------------------------------

URL = "/api/v1/cohort/outcomes/"


def _estimates(node, path=""):
    """Every rate (a dict with "pct") and every median (a dict with "value" and "n") in
    the summary JSON, with where it sits."""
    if isinstance(node, dict):
        if "pct" in node or {"value", "n"} <= set(node):
            yield path, node
        for key, child in node.items():
            yield from _estimates(child, f"{path}.{key}")
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from _estimates(child, f"{path}[{i}]")


def test_every_rate_and_median_carries_its_interval(world, manager_client):
    body = manager_client.get(URL).json()
    found = dict(_estimates(body))
    assert len(found) > 40  # overall, MCID per instrument, four groupings
    for path, estimate in found.items():
        assert set(estimate["ci95"]) == {"low", "high"}, path
        assert isinstance(estimate["too_few"], bool), path
        value = estimate.get("pct", estimate.get("value"))
        low, high = estimate["ci95"]["low"], estimate["ci95"]["high"]
        if value is not None and low is not None and high is not None:
            assert low <= value <= high, path
    assert body["median_change"]["ci95"]["low"] <= -2.0 <= body["median_change"]["ci95"]["high"]
    assert body["time_to_response"]["median_weeks"]["ci95"]["low"] is not None
    assert len(body["trajectory"]["ci95"]["low"]) == len(body["trajectory"]["weeks"])


def test_api_summary_for_manager(world, manager_client):
    response = manager_client.get(URL)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["n_patients"], body["n_valid"]) == (6, 4)
    assert body["responders"]["30"] == rate_json(2, 4, 50.0)
    assert set(body["mcid"]) == {"nrs", "phq9", "gad7", "odi"}
    assert body["median_change"]["value"] == -2.0
    assert body["time_to_response"]["points"][1] == {
        "weeks": 2.0,
        "survival": 0.6667,
        "ci95": body["time_to_response"]["points"][1]["ci95"],
    }
    assert len(body["trajectory"]["median"]) == selectors.HORIZON_WEEKS
    assert set(body["groups"]) == {"diagnosis", "modality", "therapist", "period"}
    assert response["Cache-Control"] == "private, no-store"


def test_api_filters(world, manager_client, start):
    def n(query: str) -> int:
        response = manager_client.get(URL + "?" + query)
        assert response.status_code == 200, response.content
        return response.json()["n_patients"]

    assert n("diagnosis=&modality=&since=&until=") == 6  # the contract's empty filters
    assert n("diagnosis=clbp") == 3
    assert n("modality=tdcs") == 2
    assert n(f"since={start + dt.timedelta(days=1)}") == 1
    assert n(f"until={start}&diagnosis=crps") == 1
    assert manager_client.get(URL + "?diagnosis=clbp").json()["filters"]["diagnosis"] == "clbp"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("diagnosis=migraine", "diagnosis"),
        ("modality=laser", "modality"),
        ("since=2025-13-01", "since"),
        ("until=yesterday", "until"),
        ("since=2025-06-01&until=2025-01-01", "until"),
        ("diagnoses=clbp", "diagnoses"),
    ],
)
def test_api_bad_filters_are_400_naming_the_field(manager_client, query, field):
    response = manager_client.get(URL + "?" + query)
    assert response.status_code == 400
    assert field in response.json()


def test_api_access(world, patient_client, api_client_for, therapist, other_clinic):
    assert patient_client.get(URL).status_code == 403
    assert api_client_for(None).get(URL).status_code == 401
    body = api_client_for(therapist).get(URL).json()
    # the therapist's care team: A, B, C and the patient fixture
    assert body["n_patients"] == 4
    other_manager = make_staff(other_clinic, "manager", "other-clinic-manager")
    body = api_client_for(other_manager).get(URL).json()
    assert body["n_patients"] == 1  # their own clinic's patient only


def test_api_read_is_audited(world, manager_client):
    manager_client.get(URL + "?diagnosis=phn")
    event = AuditEvent.objects.filter(object_type="cohort_outcomes").latest("id")
    assert event.detail["patient_ids"] == [world["patients"]["C"].pk]
    assert event.path.startswith(URL)


def test_api_query_count_is_constant(clinic, manager_client, therapist, start, django_assert_max_num_queries):
    _cohort_of(clinic, therapist, 5, start)
    with CaptureQueriesContext(connection) as five:
        assert manager_client.get(URL).json()["n_patients"] == 5
    _cohort_of(clinic, therapist, 45, start)
    with django_assert_max_num_queries(len(five)):
        assert manager_client.get(URL).json()["n_patients"] == 50


def test_outcomes_csv(world, manager_client):
    response = manager_client.get("/api/v1/cohort/outcomes.csv?diagnosis=clbp")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())  # spreadsheets read it as UTF-8
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0].split(",") == list(exports.PATIENT_CSV_COLUMNS)
    assert len(lines) == 4
    a = world["patients"]["A"]
    row = next(line for line in lines if line.startswith(patient_code(a.clinic_id, a.pk)))
    assert ",7.0,3.5,-3.5,-50.0,1,1,1," in row
    assert AuditEvent.objects.filter(object_type="cohort_outcomes.csv").latest("id").detail["count"] == 3
    assert manager_client.get("/api/v1/cohort/outcomes.csv?since=nope").status_code == 400


def test_case_series_csv(world, manager_client, patient_client, start):
    response = manager_client.get("/api/v1/cohort/case-series.csv")
    assert response.status_code == 200
    lines = response.content.decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join(exports.CASE_SERIES_COLUMNS)
    assert len(lines) == 8  # header, the six patients of the world, the patient fixture
    assert lines[1].split(",")[1] == start.isoformat()
    assert patient_client.get("/api/v1/cohort/case-series.csv").status_code == 403


@pytest.mark.parametrize(
    ("lang", "heading", "outcome_word"),
    [("en", "Date", "responder"), ("zh-hans", "日期", None)],
)
def test_case_series_csv_in_both_languages(world, manager_client, lang, heading, outcome_word):
    import csv

    world["patients"]["A"].pain_trigger = "lifting"
    world["patients"]["A"].save(update_fields=["pain_trigger"])
    response = manager_client.get(f"/api/v1/cohort/case-series.csv?lang={lang}")
    assert response.status_code == 200
    rows = list(csv.reader(response.content.decode("utf-8-sig").splitlines()))
    assert rows[0][1] == heading
    assert len(rows[0]) == len(exports.CASE_SERIES_COLUMNS)
    assert any(row[4] == "lifting" for row in rows[1:])
    if outcome_word:
        assert any(outcome_word in row[8] for row in rows[1:])
    assert manager_client.get("/api/v1/cohort/case-series.csv?lang=fr").status_code == 400


def test_groups_csv_carries_the_intervals(world, manager_client, patient_client):
    import csv

    response = manager_client.get("/api/v1/cohort/groups.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(response.content.decode("utf-8-sig").splitlines()))
    assert set(rows[0]) == set(exports.GROUP_CSV_COLUMNS)
    summary = manager_client.get(URL).json()
    clbp = next(r for r in rows if (r["grouping"], r["group"]) == ("diagnosis", "clbp"))
    expected = next(g for g in summary["groups"]["diagnosis"] if g["key"] == "clbp")["responders30"]
    assert (clbp["responders30_count"], clbp["responders30_n"]) == (str(expected["count"]), str(expected["n"]))
    assert (clbp["responders30_ci95_low"], clbp["responders30_ci95_high"]) == (
        str(expected["ci95"]["low"]),
        str(expected["ci95"]["high"]),
    )
    assert clbp["responders30_too_few"] == "1"
    assert {r["grouping"] for r in rows} >= {"diagnosis", "modality"}
    assert AuditEvent.objects.filter(object_type="cohort_groups.csv").exists()
    assert patient_client.get("/api/v1/cohort/groups.csv").status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/cohort/outcomes/",
        "/api/v1/cohort/outcomes.csv",
        "/api/v1/cohort/case-series.csv",
        "/api/v1/cohort/groups.csv",
    ],
)
def test_filters_that_leave_nobody_answer_an_empty_cohort(manager_client: Any, patient: Any, path: str) -> None:
    from assessments.capture.services import assessment_record
    from patients.audit import Actor

    assessment_record(
        actor=Actor.system("t"),
        patient=patient,
        instrument="nrs",
        answers={"score": 5},
        recorded_at=timezone.now() - dt.timedelta(hours=1),
        client_uuid=uuid.uuid4(),
        source="patient",
    )
    response = manager_client.get(path, {"since": "8005-01-01"})
    assert response.status_code == 200
    if path.endswith("/"):
        assert response.json()["n_patients"] == 0


def test_discharged_patients_stay_in_the_cohort(manager, clinic):
    start = dt.date(2026, 1, 5)
    discharged = make_patient(clinic, diagnoses=["clbp"], is_active=False)
    make_plan(discharged, start, "tdcs")
    add_nrs(discharged, start, [(d, 8) for d in range(7)] + [(d, 3) for d in range(21, 28)])
    out = _outcomes(manager)
    i = _by_pk(out, discharged)
    assert bool(out.pain.responder50[i])


def test_outcomes_and_groups_as_workbooks(world, manager_client, patient_client):
    """The .xlsx forms hold the CSV's rows, numbers as number cells; same audit and access."""
    from tests.config.test_xlsx import NS as SHEET_NS
    from tests.config.test_xlsx import _sheet_rows

    NS = SHEET_NS["m"]

    response = manager_client.get("/api/v1/cohort/outcomes.xlsx?diagnosis=clbp")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    header, *rows = _sheet_rows(response.content)
    assert header == list(exports.PATIENT_CSV_COLUMNS)
    a = world["patients"]["A"]
    code = patient_code(a.clinic_id, a.pk)
    csv_lines = manager_client.get("/api/v1/cohort/outcomes.csv?diagnosis=clbp").content.decode("utf-8-sig")
    csv_row = next(line for line in csv_lines.splitlines() if line.startswith(code)).split(",")
    xlsx_row = next(row for row in rows if row[0] == code)
    assert len(rows) == len(csv_lines.splitlines()) - 1  # the same patients as the CSV
    baseline = header.index("baseline_nrs")
    assert float(xlsx_row[baseline]) == float(csv_row[baseline]) == 7.0
    assert xlsx_row[0] == csv_row[0]
    with zipfile.ZipFile(io.BytesIO(response.content)) as book:
        sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))  # noqa: S314 - our own output
    cells = [row.findall(f"{{{NS}}}c") for row in sheet.iter(f"{{{NS}}}row")]
    row_of_a = cells[1 + rows.index(xlsx_row)]
    assert row_of_a[baseline].get("t") is None  # a number cell, not text
    assert row_of_a[0].get("t") is not None  # the code stays text
    assert AuditEvent.objects.filter(object_type="cohort_outcomes.xlsx").latest("id").detail["count"] == len(rows)
    groups = manager_client.get("/api/v1/cohort/groups.xlsx")
    assert groups.status_code == 200
    assert _sheet_rows(groups.content)[0] == list(exports.GROUP_CSV_COLUMNS)
    assert patient_client.get("/api/v1/cohort/groups.xlsx").status_code == 403
    assert patient_client.get("/api/v1/cohort/outcomes.xlsx").status_code == 403
