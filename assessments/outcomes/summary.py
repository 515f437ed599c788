"""The cohort summary: the engine's results (``services.CohortOutcomes``) as the
JSON-ready document the API serves and the outcomes page draws. Every rate carries its
Wilson 95 % interval and every median its bootstrap interval (``engine``), with
``too_few`` below ``engine.MIN_N_TO_JUDGE`` patients; the same figures by diagnosis,
plan modality, primary therapist and plan-start quarter."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from django.utils.translation import gettext as _

from assessments.outcomes import engine
from assessments.outcomes.selectors import (
    MIN_ENTRIES,
    QUESTIONNAIRE_MCID,
    RESPONSE_PCT,
    THERMAL_THRESHOLD_C,
    UNASSIGNED,
    WINDOW_DAYS,
)
from patients.models import Diagnosis
from therapies.modality_names import modality_name

if TYPE_CHECKING:
    from assessments.outcomes.services import CohortOutcomes

__all__ = ["EARLY_WEEK", "OUTCOME_WEEK", "cohort_summary", "thermal_followed_up"]

BoolArray = npt.NDArray[np.bool_]

#: The early-response table: improvement at plan week 3 against response at week 12.
EARLY_WEEK = 3
OUTCOME_WEEK = 12


def _num(value: float | np.floating[Any] | None, digits: int = 2) -> float | None:
    if value is None or not math.isfinite(float(value)):
        return None
    return round(float(value), digits)


def _rate(mask: BoolArray, valid: BoolArray) -> engine.RateDict:
    return engine.rate_dict(engine.rates(mask, valid))


def thermal_followed_up(thermal: engine.ThermalRecovery) -> BoolArray:
    """Asymmetric at the first reading and measured again later: recovery can be judged."""
    with np.errstate(invalid="ignore"):
        later = (thermal.n >= 2) & (thermal.last_day > thermal.first_day)
    return thermal.baseline_asymmetric & later


def _censoring_marks(ttr: engine.TimeToResponse, km: engine.KaplanMeier) -> list[dict[str, Any]]:
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


def _km_median(km: engine.KaplanMeier, n: int) -> dict[str, Any]:
    median, interval = engine.km_median(km)
    return {
        "value": _num(median),
        "n": n,
        "ci95": engine.interval_dict(interval),
        "too_few": n < engine.MIN_N_TO_JUDGE,
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
        interval = engine.median_ci(mean_sorted[start:stop])
        low.append(_num(interval.low))
        high.append(_num(interval.high))
    return {"low": low, "high": high}


def _group_rows(
    outcomes: CohortOutcomes, membership: BoolArray, keys: Sequence[str], labels: Sequence[str]
) -> list[dict[str, Any]]:
    """One row per group (a column of ``membership``): the engine's group summary and the
    group's median adherence."""
    adherence = outcomes.arrays.adherence
    out: list[dict[str, Any]] = []
    for k, row in enumerate(engine.group_summary(membership, outcomes.pain, labels)):
        out.append({"key": keys[k], **row, "median_adherence": engine.median_dict(adherence[membership[:, k]], 1)})
    return out


def _by_diagnosis(outcomes: CohortOutcomes) -> list[dict[str, Any]]:
    a = outcomes.arrays
    present = set().union(*a.diagnoses)
    keys = [code for code in Diagnosis.values if code in present]
    membership = np.array([[code in d for code in keys] for d in a.diagnoses], dtype=np.bool_).reshape(a.n, len(keys))
    return _group_rows(outcomes, membership, keys, [str(Diagnosis(code).label) for code in keys])


def _by_modality(outcomes: CohortOutcomes) -> list[dict[str, Any]]:
    a = outcomes.arrays
    keys = sorted({m for ms in a.modalities for m in ms})
    membership = np.array([[m in ms for m in keys] for ms in a.modalities], dtype=np.bool_).reshape(a.n, len(keys))
    return _group_rows(outcomes, membership, keys, [modality_name(m) for m in keys])


def _by_therapist(outcomes: CohortOutcomes) -> list[dict[str, Any]]:
    a = outcomes.arrays
    keys = sorted(
        {int(t) for t in a.therapist.tolist()},
        key=lambda t: (t == UNASSIGNED, a.therapist_labels.get(t, "")),
    )
    membership = a.therapist[:, None] == np.array(keys, dtype=np.int64)[None, :]
    return _group_rows(
        outcomes,
        membership.astype(np.bool_),
        [str(t) if t != UNASSIGNED else "unassigned" for t in keys],
        [a.therapist_labels.get(t, _("No primary therapist")) for t in keys],
    )


def _by_period(outcomes: CohortOutcomes) -> list[dict[str, Any]]:
    """By plan-start quarter."""
    a = outcomes.arrays
    periods = [f"{d.year}-Q{(d.month - 1) // 3 + 1}" if d else "" for d in a.day0_date]
    keys = sorted({p for p in periods if p})
    membership = (
        np.array(periods, dtype=object)[:, None] == np.array(keys, dtype=object)[None, :]
        if a.n
        else np.zeros((0, len(keys)), dtype=np.bool_)
    )
    return _group_rows(outcomes, np.asarray(membership, dtype=np.bool_).reshape(a.n, len(keys)), keys, keys)


def _groups(outcomes: CohortOutcomes) -> dict[str, list[dict[str, Any]]]:
    return {
        "diagnosis": _by_diagnosis(outcomes),
        "modality": _by_modality(outcomes),
        "therapist": _by_therapist(outcomes),
        "period": _by_period(outcomes),
    }


def _early_response(outcomes: CohortOutcomes) -> dict[str, Any]:
    weekly = outcomes.arrays.nrs_weekly
    enough = weekly.n >= MIN_ENTRIES
    rows = engine.early_response(
        weekly.idx[enough],
        weekly.week[enough],
        weekly.mean[enough],
        outcomes.arrays.n,
        early_week=EARLY_WEEK,
        outcome_week=OUTCOME_WEEK,
        responder_pct=RESPONSE_PCT,
    )
    return {"early_week": EARLY_WEEK, "outcome_week": OUTCOME_WEEK, "responder_pct": RESPONSE_PCT, "rows": rows}


def _definitions(outcomes: CohortOutcomes) -> dict[str, Any]:
    return {
        "day0": "plan start (earliest version's start date, patient's time zone); first NRS entry without a plan",
        "days": "calendar days on the patient's wall clock (a week across a daylight-saving change is 7 local days)",
        "window_days": WINDOW_DAYS,
        "min_entries": MIN_ENTRIES,
        "min_follow_up_days": 2 * WINDOW_DAYS,
        "responder_thresholds_pct": [30, 50],
        "time_to_response": f"first plan week (>= {MIN_ENTRIES} entries) with mean NRS <= {100 - RESPONSE_PCT:g} % of the baseline week",
        "horizon_weeks": outcomes.arrays.horizon_weeks,
        "thermal_threshold_c": THERMAL_THRESHOLD_C,
    }


def _pain(outcomes: CohortOutcomes) -> dict[str, Any]:
    pain = outcomes.pain
    valid = pain.valid
    mcid: dict[str, Any] = {"nrs": {**_rate(pain.mcid, valid), "points": engine.MCID["nrs"]}}
    for code, change in outcomes.questionnaires.items():
        mcid[code] = {**_rate(change.mcid_reached, change.valid), "points": QUESTIONNAIRE_MCID[code]}
    return {
        "n_valid": int(np.count_nonzero(valid)),
        "responders": {"30": _rate(pain.responder30, valid), "50": _rate(pain.responder50, valid)},
        "mcid": mcid,
        "baseline_median": engine.median_dict(pain.baseline[valid]),
        "current_median": engine.median_dict(pain.current[valid]),
        "median_change": engine.median_dict(pain.change[valid]),
        "median_pct_change": engine.median_dict(pain.pct_change[valid], 1),
    }


def _thermal(outcomes: CohortOutcomes) -> dict[str, Any]:
    thermal = outcomes.thermal
    return {
        "n_measured": int(np.count_nonzero(thermal.n > 0)),
        "asymmetric_at_baseline": int(np.count_nonzero(thermal.baseline_asymmetric)),
        "followed_up": int(np.count_nonzero(thermal_followed_up(thermal))),
        "recovered": _rate(thermal.recovered, thermal_followed_up(thermal)),
    }


def _adherence(outcomes: CohortOutcomes) -> dict[str, Any]:
    adherence = outcomes.arrays.adherence[np.isfinite(outcomes.arrays.adherence)]
    return {
        "n": int(adherence.size),
        "median_pct": engine.median_dict(adherence, 1),
        "at_least_80_pct": _rate(adherence >= 80.0, np.ones(adherence.size, dtype=np.bool_)),
    }


def _time_to_response(outcomes: CohortOutcomes) -> dict[str, Any]:
    ttr, km = outcomes.time_to_response, outcomes.km
    eligible = np.isfinite(ttr.durations)
    return {
        "unit": "weeks",
        "n": int(np.count_nonzero(eligible)),
        "events": int(np.count_nonzero(ttr.event)),
        "censored": int(np.count_nonzero(eligible & ~ttr.event)),
        "median_weeks": _km_median(km, int(np.count_nonzero(eligible))),
        "censored_at": _censoring_marks(ttr, km),
        "points": [
            {"weeks": _num(t), "survival": _num(s, 4), "ci95": {"low": _num(lo, 4), "high": _num(hi, 4)}}
            for t, s, lo, hi in zip(km.times, km.survival, km.ci_low, km.ci_high, strict=True)
        ],
    }


def _trajectory(outcomes: CohortOutcomes) -> dict[str, Any]:
    traj = outcomes.trajectory
    return {
        "unit": "weeks since plan start",
        "weeks": traj.weeks.tolist(),
        "median": [_num(v) for v in traj.median],
        "q1": [_num(v) for v in traj.q1],
        "q3": [_num(v) for v in traj.q3],
        "ci95": _trajectory_ci(outcomes),
        "n": traj.n.tolist(),
    }


def cohort_summary(outcomes: CohortOutcomes) -> dict[str, Any]:
    """The JSON-ready summary of the cohort outcomes (the API's and the page's)."""
    pain = _pain(outcomes)
    return {
        "filters": outcomes.filters.as_dict(),
        "definitions": _definitions(outcomes),
        "n_patients": outcomes.arrays.n,
        "n_synthetic": int(np.count_nonzero(outcomes.arrays.synthetic)),
        "n_valid": pain.pop("n_valid"),
        **pain,
        "thermal": _thermal(outcomes),
        "adherence": _adherence(outcomes),
        "time_to_response": _time_to_response(outcomes),
        "trajectory": _trajectory(outcomes),
        "groups": _groups(outcomes),
        "early_response": _early_response(outcomes),
    }
