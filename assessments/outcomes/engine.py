"""Cohort outcome engine over plain numpy arrays (pure: no Django, no ORM).

Selectors feed these functions with ``values_list`` columns, one row per entry:

- ``patient_idx``: int, the patient's position ``0 .. n_patients - 1`` in the cohort
  (the selector maps primary keys to positions; every result is indexed the same);
- ``day``: float, days since the patient's plan start (fractions allowed);
- ``value``: float, the score (NRS 0-10 for pain; instrument totals for questionnaires).

Every per-patient result has length ``n_patients``; patients without data get ``nan``
(floats) or ``False`` (flags). Work is vectorised (``bincount``, ``lexsort``,
``searchsorted``, ``ufunc.at``); only loops over weeks or groups remain, never over
patients. Rows with a non-finite day or value are ignored.

Clinical rules (cited where applied):

- Pain responders: >= 30 % reduction is moderately important, >= 50 % substantial;
  about 2 NRS points is the minimal clinically important difference (IMMPACT: Dworkin
  et al., J Pain 2008;9:105-121; Farrar et al., Pain 2001;94:149-158; for back pain
  Ostelo et al., Spine 2008;33:90-94).
- Questionnaire MCIDs: PHQ-9 5 points (Löwe et al., Med Care 2004;42:1194-1201),
  GAD-7 4 points (Toussaint et al., J Affect Disord 2020;265:395-401), ODI 10 points
  (Ostelo et al. 2008).
- Thermal asymmetry: a left-right difference >= 1.0 °C is abnormal (a CRPS criterion;
  Harden et al., Pain 2010;150:268-274); recovery of symmetry is used as an objective
  sign of treatment effect.
- Survival curves: Kaplan-Meier product-limit estimate (Kaplan & Meier, J Am Stat Assoc
  1958;53:457-481) with Greenwood variance; the median time's interval is where the
  pointwise band crosses 0.5 (Brookmeyer & Crowley, Biometrics 1982;38:29-41).
- Uncertainty: every proportion carries a Wilson score interval (Wilson, J Am Stat Assoc
  1927;22:209-212; Newcombe, Stat Med 1998;17:857-872), every median a percentile
  bootstrap interval with a fixed seed (Efron & Tibshirani, An Introduction to the
  Bootstrap, 1993, ch. 13); fewer than ``MIN_N_TO_JUDGE`` patients is "too few to judge".
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple, Protocol, TypedDict, cast

import numpy as np
import numpy.typing as npt
from scipy import stats

__all__ = [
    "DEFAULT_MIN_ENTRIES",
    "DEFAULT_WINDOW_DAYS",
    "MCID",
    "MIN_N_TO_JUDGE",
    "EarlyResponseRow",
    "GroupRow",
    "Interval",
    "IntervalDict",
    "KaplanMeier",
    "MedianDict",
    "PainOutcomes",
    "Rate",
    "RateDict",
    "ScoreChange",
    "ThermalRecovery",
    "TimeToResponse",
    "Trajectory",
    "adherence",
    "early_response",
    "group_summary",
    "interval_dict",
    "kaplan_meier",
    "km_median",
    "median_ci",
    "median_dict",
    "pain_outcomes",
    "pain_outcomes_from_windows",
    "positions",
    "rate_dict",
    "rates",
    "score_change",
    "thermal_recovery",
    "time_to_response",
    "time_to_response_weekly",
    "weekly_trajectory",
    "weekly_trajectory_of_means",
    "wilson_interval",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

#: Minimal clinically important differences (points), sources in the module docstring.
MCID: dict[str, float] = {
    "nrs": 2.0,
    "vas": 15.0,
    "phq9": 5.0,
    "gad7": 4.0,
    "odi": 10.0,
}

DEFAULT_WINDOW_DAYS = 7.0
DEFAULT_MIN_ENTRIES = 3

#: Below this many patients a rate or median is shown but marked "too few to judge".
MIN_N_TO_JUDGE = 10
#: Bootstrap replicates (Efron & Tibshirani 1993 advise at least 1000 for percentile intervals)
#: and seed: fixed, so the same cohort always shows the same interval.
BOOTSTRAP_REPLICATES = 2000
BOOTSTRAP_SEED = 20_260_101

# Thresholds such as "-30 %" are compared with this slack so that a change of exactly
# 30 % still counts when floating-point division lands a hair above it.
_EPS = 1e-9


# --- input handling ------------------------------------------------------------------


def positions(patient_ids: npt.NDArray[np.int64], raw_ids: npt.ArrayLike) -> tuple[npt.NDArray[np.int64], BoolArray]:
    """Cohort positions of raw patient ids (``patient_ids`` sorted), and which of them
    are in the cohort: how selectors turn primary keys into ``patient_idx``."""
    raw = np.asarray(raw_ids, dtype=np.int64)
    if patient_ids.size == 0 or raw.size == 0:
        return np.zeros(raw.size, dtype=np.int64), np.zeros(raw.size, dtype=np.bool_)
    pos = np.minimum(np.searchsorted(patient_ids, raw), patient_ids.size - 1).astype(np.int64)
    return pos, patient_ids[pos] == raw


def _entries(
    patient_idx: npt.ArrayLike,
    day: npt.ArrayLike,
    value: npt.ArrayLike,
    n_patients: int,
    *,
    from_plan_start: bool,
) -> tuple[IntArray, FloatArray, FloatArray]:
    """Validated, aligned 1-D arrays; drops non-finite rows (and, when
    ``from_plan_start``, rows before plan start, day < 0)."""
    if n_patients < 0:
        raise ValueError("n_patients must be >= 0")
    raw_idx = np.asarray(patient_idx)
    days = np.asarray(day, dtype=np.float64)
    values = np.asarray(value, dtype=np.float64)
    if raw_idx.ndim != 1 or days.ndim != 1 or values.ndim != 1:
        raise ValueError("patient_idx, day and value must be 1-D arrays")
    if not raw_idx.shape == days.shape == values.shape:
        raise ValueError("patient_idx, day and value must have the same length")
    if raw_idx.size and not np.issubdtype(raw_idx.dtype, np.integer):
        raise ValueError("patient_idx must hold integers")
    idx = raw_idx.astype(np.intp, copy=False)
    if idx.size and (idx.min() < 0 or idx.max() >= n_patients):
        raise ValueError("patient_idx must lie in [0, n_patients)")
    keep = np.isfinite(days) & np.isfinite(values)
    if from_plan_start:
        keep &= days >= 0
    return idx[keep], days[keep], values[keep]


def _check_window(window_days: float, min_entries: int) -> None:
    if not window_days > 0:
        raise ValueError("window_days must be > 0")
    if min_entries < 1:
        raise ValueError("min_entries must be >= 1")


def _mean(sums: FloatArray, counts: IntArray) -> FloatArray:
    out = np.full(sums.shape, np.nan)
    np.divide(sums, counts, out=out, where=counts > 0)
    return out


def _window_mean(idx: IntArray, value: FloatArray, mask: BoolArray, n_patients: int) -> tuple[FloatArray, IntArray]:
    counts = np.bincount(idx[mask], minlength=n_patients).astype(np.intp)
    sums = np.bincount(idx[mask], weights=value[mask], minlength=n_patients)
    return _mean(sums.astype(np.float64), counts), counts


def _last_day(idx: IntArray, day: FloatArray, n_patients: int) -> FloatArray:
    out = np.full(n_patients, -np.inf)
    np.maximum.at(out, idx, day)
    out[np.isneginf(out)] = np.nan
    return out


@dataclass(frozen=True, eq=False)
class _FirstLast:
    first: FloatArray
    last: FloatArray
    first_day: FloatArray
    last_day: FloatArray
    n: IntArray


def _first_last(idx: IntArray, day: FloatArray, value: FloatArray, n_patients: int) -> _FirstLast:
    """Earliest and latest value per patient; equal days keep input order (the first
    of a tie is the first row given, the last the last row given)."""
    first = np.full(n_patients, np.nan)
    last = np.full(n_patients, np.nan)
    first_day = np.full(n_patients, np.nan)
    last_day = np.full(n_patients, np.nan)
    n = np.bincount(idx, minlength=n_patients).astype(np.intp)
    if idx.size:
        order = np.lexsort((np.arange(idx.size), day, idx))
        sorted_idx = idx[order]
        starts = np.flatnonzero(np.r_[True, sorted_idx[1:] != sorted_idx[:-1]])
        ends = np.r_[starts[1:], sorted_idx.size] - 1
        who = sorted_idx[starts]
        first[who] = value[order[starts]]
        last[who] = value[order[ends]]
        first_day[who] = day[order[starts]]
        last_day[who] = day[order[ends]]
    return _FirstLast(first, last, first_day, last_day, n)


# --- pain outcomes -------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PainOutcomes:
    """Per-patient pain outcome, every array of length ``n_patients``.

    - ``baseline``: mean of entries with day in ``[0, window)``;
    - ``current``: mean of entries with day in ``(last_day - window, last_day]``;
    - ``change = current - baseline``; ``pct_change = change / baseline * 100``
      (``nan`` when the baseline is 0 or missing);
    - ``valid``: at least ``min_entries`` entries in each window **and**
      ``last_day >= 2 * window`` so the two windows do not overlap (with a 7-day
      window: someone followed for at least 14 days);
    - ``responder30`` / ``responder50`` / ``mcid``: valid and ``pct_change <= -30``,
      ``<= -50``, ``change <= -mcid`` respectively (always False when not valid).

    Every entry weighs the same, so two entries on one day both count.
    """

    baseline: FloatArray
    current: FloatArray
    change: FloatArray
    pct_change: FloatArray
    responder30: BoolArray
    responder50: BoolArray
    mcid: BoolArray
    valid: BoolArray
    n_baseline: IntArray
    n_current: IntArray
    last_day: FloatArray


def pain_outcomes(
    patient_idx: npt.ArrayLike,
    day: npt.ArrayLike,
    value: npt.ArrayLike,
    n_patients: int,
    *,
    mcid: float = MCID["nrs"],
    window_days: float = DEFAULT_WINDOW_DAYS,
    min_entries: int = DEFAULT_MIN_ENTRIES,
) -> PainOutcomes:
    """Baseline-to-current pain change per patient (IMMPACT responder definitions).

    Entries before plan start (day < 0) are outside both windows and ignored.
    """
    _check_window(window_days, min_entries)
    idx, days, values = _entries(patient_idx, day, value, n_patients, from_plan_start=True)
    last_day = _last_day(idx, days, n_patients)
    in_baseline = days < window_days
    in_current = days > last_day[idx] - window_days
    return pain_outcomes_from_windows(
        np.bincount(idx[in_baseline], weights=values[in_baseline], minlength=n_patients),
        np.bincount(idx[in_baseline], minlength=n_patients),
        np.bincount(idx[in_current], weights=values[in_current], minlength=n_patients),
        np.bincount(idx[in_current], minlength=n_patients),
        last_day,
        mcid=mcid,
        window_days=window_days,
        min_entries=min_entries,
    )


def pain_outcomes_from_windows(
    baseline_total: npt.ArrayLike,
    n_baseline: npt.ArrayLike,
    current_total: npt.ArrayLike,
    n_current: npt.ArrayLike,
    last_day: npt.ArrayLike,
    *,
    mcid: float = MCID["nrs"],
    window_days: float = DEFAULT_WINDOW_DAYS,
    min_entries: int = DEFAULT_MIN_ENTRIES,
) -> PainOutcomes:
    """:func:`pain_outcomes` from per-patient window sums and counts: the sum and number
    of entries with day in ``[0, window)`` and in ``(last_day - window, last_day]`` (day
    >= 0), and ``last_day`` (``nan`` without entries), for a selector that reduced the
    windows before they reached Python."""
    _check_window(window_days, min_entries)
    b_total = np.asarray(baseline_total, dtype=np.float64)
    c_total = np.asarray(current_total, dtype=np.float64)
    last = np.asarray(last_day, dtype=np.float64)
    b_n = np.asarray(n_baseline).astype(np.intp)
    c_n = np.asarray(n_current).astype(np.intp)
    if not b_total.ndim == c_total.ndim == last.ndim == b_n.ndim == c_n.ndim == 1:
        raise ValueError("window sums, counts and last_day must be 1-D arrays")
    if not b_total.shape == c_total.shape == last.shape == b_n.shape == c_n.shape:
        raise ValueError("window sums, counts and last_day must have the same length")
    baseline = _mean(b_total, b_n)
    current = _mean(c_total, c_n)
    change = current - baseline
    pct_change = np.full(b_total.shape, np.nan)
    np.divide(change * 100.0, baseline, out=pct_change, where=baseline > 0)
    with np.errstate(invalid="ignore"):
        valid = (b_n >= min_entries) & (c_n >= min_entries) & (last >= 2 * window_days)
        responder30 = valid & (pct_change <= -30.0 + _EPS)
        responder50 = valid & (pct_change <= -50.0 + _EPS)
        reached = valid & (change <= -mcid + _EPS)
    return PainOutcomes(
        baseline=baseline,
        current=current,
        change=change,
        pct_change=pct_change,
        responder30=responder30,
        responder50=responder50,
        mcid=reached,
        valid=valid,
        n_baseline=b_n,
        n_current=c_n,
        last_day=last,
    )


# --- questionnaire score change ------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ScoreChange:
    """First and last score per patient (PHQ-9, GAD-7, ODI, ...).

    ``change = last - first``; ``improvement`` is the change in the good direction
    (``-change`` when higher is worse). ``valid``: at least two scores on different
    days. ``mcid_reached`` / ``deteriorated``: valid and an improvement / worsening of
    at least ``mcid`` points. Scores before plan start count (a screening score is a
    baseline); ties on the first or last day keep input order.
    """

    first: FloatArray
    last: FloatArray
    first_day: FloatArray
    last_day: FloatArray
    n: IntArray
    change: FloatArray
    improvement: FloatArray
    valid: BoolArray
    mcid_reached: BoolArray
    deteriorated: BoolArray


def score_change(
    patient_idx: npt.ArrayLike,
    day: npt.ArrayLike,
    value: npt.ArrayLike,
    n_patients: int,
    *,
    mcid: float,
    higher_is_worse: bool = True,
) -> ScoreChange:
    """First-to-last change and MCID attainment (see :data:`MCID` for the points)."""
    if not mcid > 0:
        raise ValueError("mcid must be > 0")
    idx, days, values = _entries(patient_idx, day, value, n_patients, from_plan_start=False)
    fl = _first_last(idx, days, values, n_patients)
    change = fl.last - fl.first
    improvement = -change if higher_is_worse else change
    with np.errstate(invalid="ignore"):
        valid = (fl.n >= 2) & (fl.last_day > fl.first_day)
        reached = valid & (improvement >= mcid - _EPS)
        worse = valid & (-improvement >= mcid - _EPS)
    return ScoreChange(
        first=fl.first,
        last=fl.last,
        first_day=fl.first_day,
        last_day=fl.last_day,
        n=fl.n,
        change=change,
        improvement=improvement,
        valid=valid,
        mcid_reached=reached,
        deteriorated=worse,
    )


# --- thermal symmetry ----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ThermalRecovery:
    """Recovery of left-right skin-temperature symmetry per patient.

    ``first_delta`` / ``last_delta``: the largest |ΔT| over ROIs at the first and last
    session. ``baseline_asymmetric``: first |ΔT| >= threshold. ``last_symmetric``:
    followed up (a later session on another day) and last |ΔT| < threshold.
    ``recovered``: both.
    """

    first_delta: FloatArray
    last_delta: FloatArray
    first_day: FloatArray
    last_day: FloatArray
    n: IntArray
    baseline_asymmetric: BoolArray
    last_symmetric: BoolArray
    recovered: BoolArray


def thermal_recovery(
    patient_idx: npt.ArrayLike,
    day: npt.ArrayLike,
    max_abs_delta: npt.ArrayLike,
    n_patients: int,
    threshold: float = 1.0,
) -> ThermalRecovery:
    """Asymmetric at baseline -> symmetric at the last reading (|ΔT| in °C; the sign
    of a delta is ignored)."""
    if not threshold > 0:
        raise ValueError("threshold must be > 0")
    idx, days, deltas = _entries(patient_idx, day, max_abs_delta, n_patients, from_plan_start=False)
    fl = _first_last(idx, days, np.abs(deltas), n_patients)
    with np.errstate(invalid="ignore"):
        asymmetric = fl.first >= threshold - _EPS
        followed_up = (fl.n >= 2) & (fl.last_day > fl.first_day)
        symmetric = followed_up & (fl.last < threshold - _EPS)
    return ThermalRecovery(
        first_delta=fl.first,
        last_delta=fl.last,
        first_day=fl.first_day,
        last_day=fl.last_day,
        n=fl.n,
        baseline_asymmetric=asymmetric,
        last_symmetric=symmetric,
        recovered=asymmetric & symmetric,
    )


# --- adherence -----------------------------------------------------------------------


def adherence(done: npt.ArrayLike, prescribed: npt.ArrayLike) -> FloatArray:
    """Percentage of prescribed sessions done, element-wise (arrays broadcast).

    ``nan`` where nothing was prescribed; capped at 100 (extra sessions do not make up
    for missed ones elsewhere). Negative counts raise ``ValueError``.
    """
    done_a = np.asarray(done, dtype=np.float64)
    prescribed_a = np.asarray(prescribed, dtype=np.float64)
    if np.any(done_a < 0) or np.any(prescribed_a < 0):
        raise ValueError("session counts must be >= 0")
    done_b, prescribed_b = np.broadcast_arrays(done_a, prescribed_a)
    out = np.full(done_b.shape, np.nan)
    np.divide(done_b * 100.0, prescribed_b, out=out, where=prescribed_b > 0)
    np.minimum(out, 100.0, out=out)
    return out


# --- time to response and survival --------------------------------------------------


class TimeToResponse(NamedTuple):
    """``durations`` in days since plan start (``nan`` = not eligible); ``event``
    True where a response was observed, False where censored."""

    durations: FloatArray
    event: BoolArray


def time_to_response(
    patient_idx: npt.ArrayLike,
    day: npt.ArrayLike,
    value: npt.ArrayLike,
    n_patients: int,
    *,
    threshold_pct: float = 30.0,
    window_days: float = DEFAULT_WINDOW_DAYS,
    min_entries: int = DEFAULT_MIN_ENTRIES,
) -> TimeToResponse:
    """Day of the first entry at which the trailing mean over ``(d - window, d]`` is at
    most ``(1 - threshold_pct / 100) * baseline``.

    Evaluated only at entries on or after ``window_days`` (once the baseline window has
    closed) whose trailing window holds ``min_entries`` entries. Without a response
    the patient is censored at the last entry. Patients need a baseline as in
    :func:`pain_outcomes` (``min_entries`` entries in ``[0, window)``) that is above 0,
    otherwise ``durations`` is ``nan`` and ``event`` False. Trailing sums use
    cumulative sums, exact for integer scores (NRS, VAS mm).
    """
    _check_window(window_days, min_entries)
    if not 0 < threshold_pct <= 100:
        raise ValueError("threshold_pct must lie in (0, 100]")
    idx, days, values = _entries(patient_idx, day, value, n_patients, from_plan_start=True)
    baseline, n_baseline = _window_mean(idx, values, days < window_days, n_patients)
    eligible = (n_baseline >= min_entries) & (np.nan_to_num(baseline) > 0)
    last_day = _last_day(idx, days, n_patients)
    event = np.zeros(n_patients, dtype=np.bool_)
    event_day = np.full(n_patients, np.nan)
    if idx.size:
        order = np.lexsort((days, idx))
        s_idx, s_day, s_val = idx[order], days[order], values[order]
        lo, hi = _trailing_bounds(s_idx, s_day, window_days)
        sums = np.r_[0.0, np.cumsum(s_val)]
        count = hi - lo
        trailing = (sums[hi] - sums[lo]) / count
        target = (1.0 - threshold_pct / 100.0) * baseline[s_idx]
        with np.errstate(invalid="ignore"):
            hit = eligible[s_idx] & (s_day >= window_days) & (count >= min_entries) & (trailing <= target + _EPS)
        # Sorted by (patient, day): the first hit of each patient is the response day.
        who, first_hit = np.unique(s_idx[hit], return_index=True)
        event[who] = True
        event_day[who] = s_day[hit][first_hit]
    durations = np.where(event, event_day, last_day)
    durations[~eligible] = np.nan
    return TimeToResponse(durations, event & eligible)


def time_to_response_weekly(
    patient_idx: npt.ArrayLike,
    week: npt.ArrayLike,
    mean: npt.ArrayLike,
    n_patients: int,
    *,
    threshold_pct: float = 30.0,
) -> TimeToResponse:
    """:func:`time_to_response` at weekly resolution, from one mean per patient and plan
    week for the weeks that hold enough entries (the caller's rule).

    Week 0 is the baseline; the response is the first week >= 1 whose mean is at most
    ``(1 - threshold_pct / 100)`` of it. ``durations`` are in days at the last day of the
    week (``7 w + 6``), so they read like :func:`time_to_response` over daily entries with
    a 7-day window; without a response the patient is censored at the last week given.
    Patients without a week 0 above 0 get ``nan`` and no event.
    """
    if not 0 < threshold_pct <= 100:
        raise ValueError("threshold_pct must lie in (0, 100]")
    idx, weeks_f, means = _entries(patient_idx, week, mean, n_patients, from_plan_start=True)
    weeks = weeks_f.astype(np.int64)
    baseline = np.full(n_patients, np.nan)
    baseline[idx[weeks == 0]] = means[weeks == 0]
    eligible = np.nan_to_num(baseline) > 0
    last_week = np.full(n_patients, -1, dtype=np.int64)
    np.maximum.at(last_week, idx, weeks)
    with np.errstate(invalid="ignore"):
        hit = (weeks >= 1) & eligible[idx] & (means <= (1.0 - threshold_pct / 100.0) * baseline[idx] + _EPS)
    never = np.iinfo(np.int64).max
    first = np.full(n_patients, never, dtype=np.int64)
    np.minimum.at(first, idx[hit], weeks[hit])
    event = first < never
    durations = np.where(event, first, last_week) * 7.0 + 6.0
    durations[~eligible] = np.nan
    return TimeToResponse(durations, event & eligible)


def _trailing_bounds(s_idx: IntArray, s_day: FloatArray, window_days: float) -> tuple[IntArray, IntArray]:
    """For rows sorted by (patient, day): [lo, hi) of the same patient's rows with day
    in (day - window, day]. Days are replaced by exact integer ranks so that a single
    ``searchsorted`` over (patient, rank) keys is exact (no float offsets)."""
    m = s_day.size
    lower = s_day - window_days
    uniq, inverse = np.unique(np.r_[s_day, lower], return_inverse=True)
    n_ranks = np.int64(uniq.size)
    if (int(s_idx.max()) + 1) * int(n_ranks) >= np.iinfo(np.int64).max:
        raise OverflowError("cohort too large for composite keys")
    base = s_idx.astype(np.int64) * n_ranks
    key_day = base + inverse[:m]
    key_lower = base + inverse[m:]
    lo = np.searchsorted(key_day, key_lower, side="right").astype(np.intp)
    hi = np.searchsorted(key_day, key_day, side="right").astype(np.intp)
    return lo, hi


class _StepFunction(Protocol):
    """What we read of scipy's ``EmpiricalDistributionFunction`` (the stubs type the
    interval bounds loosely)."""

    probabilities: FloatArray


class KaplanMeier(NamedTuple):
    """Step points of the survival curve ("not yet responded") at each distinct
    observed time (events and censorings). Before the first time S = 1. The
    interval is ``nan`` where undefined (S = 0) and [1, 1] where S is still 1."""

    times: FloatArray
    survival: FloatArray
    ci_low: FloatArray
    ci_high: FloatArray


def kaplan_meier(
    durations: npt.ArrayLike,
    events: npt.ArrayLike,
    *,
    confidence_level: float = 0.95,
    ci_method: Literal["log-log", "linear"] = "log-log",
) -> KaplanMeier:
    """Kaplan-Meier estimate via ``scipy.stats.ecdf`` on right-censored data.

    Non-finite durations (patients :func:`time_to_response` marks as not eligible) are
    dropped. The default log-log (exponential Greenwood) interval stays inside [0, 1];
    ``"linear"`` is the plain Greenwood interval, clipped.
    """
    d = np.asarray(durations, dtype=np.float64)
    e = np.asarray(events)
    if d.ndim != 1 or d.shape != e.shape:
        raise ValueError("durations and events must be 1-D arrays of the same length")
    if e.size and not (e.dtype == np.bool_ or np.isin(e, (0, 1)).all()):
        raise ValueError("events must be booleans (True = event observed)")
    e = e.astype(np.bool_)
    keep = np.isfinite(d)
    d, e = d[keep], e[keep]
    if np.any(d < 0):
        raise ValueError("durations must be >= 0")
    if d.size == 0:
        empty = np.empty(0, dtype=np.float64)
        return KaplanMeier(empty, empty.copy(), empty.copy(), empty.copy())
    sf = stats.ecdf(stats.CensoredData(uncensored=d[e], right=d[~e])).sf
    times = np.asarray(sf.quantiles, dtype=np.float64)
    survival = np.asarray(sf.probabilities, dtype=np.float64)
    with warnings.catch_warnings():
        # scipy warns where the interval is undefined (S = 0 or 1); handled below.
        warnings.simplefilter("ignore", RuntimeWarning)
        ci = sf.confidence_interval(confidence_level=confidence_level, method=ci_method)
    low = np.array(cast("_StepFunction", ci.low).probabilities, dtype=np.float64)
    high = np.array(cast("_StepFunction", ci.high).probabilities, dtype=np.float64)
    untouched = survival >= 1.0
    low[untouched] = 1.0
    high[untouched] = 1.0
    return KaplanMeier(times, survival, low, high)


class Interval(NamedTuple):
    """A 95 % (by default) interval; ``nan`` bounds where it cannot be estimated."""

    low: float
    high: float


_NO_INTERVAL = Interval(float("nan"), float("nan"))


def km_median(km: KaplanMeier) -> tuple[float, Interval]:
    """Median time to response and its interval (Brookmeyer & Crowley 1982): the first
    time the curve, its lower band and its upper band reach 0.5. ``nan`` where a curve
    never gets there (the upper bound then stays open: "not reached")."""

    def first_at_half(curve: FloatArray) -> float:
        reached = np.flatnonzero(curve <= 0.5)
        return float(km.times[reached[0]]) if reached.size else float("nan")

    return first_at_half(km.survival), Interval(first_at_half(km.ci_low), first_at_half(km.ci_high))


# --- uncertainty of rates and medians ------------------------------------------------


def wilson_interval(hits: int, n: int, *, confidence: float = 0.95) -> Interval:
    """Wilson score interval of the proportion ``hits / n`` as fractions in [0, 1].

    Unlike the Wald interval it keeps its coverage for small ``n`` and for
    proportions near 0 or 1, which is what clinic cohorts and subgroups are
    (Newcombe 1998, method 3; Brown, Cai & DasGupta, Stat Sci 2001;16:101-133).
    """
    if n <= 0:
        return _NO_INTERVAL
    if not 0 <= hits <= n:
        raise ValueError("hits must lie in 0..n")
    z = float(stats.norm.ppf(0.5 + confidence / 2.0))
    p = hits / n
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z * np.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n)) / (1.0 + z2n)
    return Interval(max(0.0, float(centre - half)), min(1.0, float(centre + half)))


def median_ci(
    values: npt.ArrayLike,
    *,
    confidence: float = 0.95,
    replicates: int = BOOTSTRAP_REPLICATES,
    seed: int = BOOTSTRAP_SEED,
) -> Interval:
    """Percentile bootstrap interval of the median of the finite ``values``.

    Drawn exactly, without building resampled arrays. A resample draws ``n`` indices
    ``floor(n U)`` of the sorted values, U uniform on (0, 1), and ``floor`` keeps
    order, so its median is the sorted value at the index of the median uniform. The
    k-th smallest of ``n`` uniforms is Beta(k, n + 1 - k); the next one lies a further
    Beta(1, n - k) share of the remaining distance above it (David & Nagaraja, Order
    Statistics, 3rd ed. 2003, ch. 2). Each replicate is then O(1) whatever ``n``, and
    the replicates have the same distribution as medians of resampled arrays.
    """
    x = np.asarray(values, dtype=np.float64)
    x = np.sort(x[np.isfinite(x)])
    n = x.size
    if n == 0:
        return _NO_INTERVAL
    if n == 1:
        return Interval(float(x[0]), float(x[0]))
    rng = np.random.default_rng(seed)
    k = (n + 1) // 2  # 1-based rank of the (lower) middle order statistic
    u_k = rng.beta(k, n + 1 - k, size=replicates)
    lower = x[np.minimum((u_k * n).astype(np.intp), n - 1)]
    if n % 2:
        medians = lower
    else:
        u_next = u_k + (1.0 - u_k) * rng.beta(1, n - k, size=replicates)
        medians = (lower + x[np.minimum((u_next * n).astype(np.intp), n - 1)]) / 2.0
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(medians, (tail, 1.0 - tail))
    return Interval(float(low), float(high))


# --- early response -------------------------------------------------------------------


class EarlyResponseRow(TypedDict):
    early_pct: float
    early: RateDict
    not_early: RateDict
    early_respond: int
    early_not_respond: int
    not_early_respond: int
    not_early_not_respond: int


def early_response(
    patient_idx: npt.ArrayLike,
    week: npt.ArrayLike,
    mean: npt.ArrayLike,
    n_patients: int,
    *,
    early_week: int = 3,
    outcome_week: int = 12,
    early_thresholds_pct: Sequence[float] = (15.0, 30.0),
    responder_pct: float = 30.0,
) -> list[EarlyResponseRow]:
    """Does an early improvement foretell a later response, in this clinic's own data?

    From one mean NRS per patient and plan week (weeks with enough entries: the
    caller's rule), for each early threshold a 2 x 2 table: patients whose week
    ``early_week`` mean had fallen by at least that share of the baseline (week 0)
    against those whose had not, crossed with whether the week ``outcome_week`` mean
    is a responder (>= ``responder_pct`` % below baseline). Only patients with a
    baseline above 0 and both weeks count. Each row gives the response rate in both
    groups with its Wilson interval. Early improvement as a predictor of later
    response in chronic pain: Farrar et al., Pain 2001;94:149-158 (2 points / 30 %);
    its use here is descriptive, as information for the therapist.
    """
    idx, weeks_f, means = _entries(patient_idx, week, mean, n_patients, from_plan_start=True)
    weeks = weeks_f.astype(np.int64)

    def at(w: int) -> FloatArray:
        out = np.full(n_patients, np.nan)
        out[idx[weeks == w]] = means[weeks == w]
        return out

    baseline, early, outcome = at(0), at(early_week), at(outcome_week)
    with np.errstate(invalid="ignore", divide="ignore"):
        usable = (np.nan_to_num(baseline) > 0) & np.isfinite(early) & np.isfinite(outcome)
        early_drop = 100.0 * (baseline - early) / baseline
        responder = usable & (100.0 * (baseline - outcome) / baseline >= responder_pct - _EPS)
    rows: list[EarlyResponseRow] = []
    for threshold in early_thresholds_pct:  # loop over thresholds, not patients
        improved = usable & (early_drop >= threshold - _EPS)
        not_improved = usable & ~improved
        rows.append(
            {
                "early_pct": float(threshold),
                "early": rate_dict(rates(responder, improved)),
                "not_early": rate_dict(rates(responder, not_improved)),
                "early_respond": int(np.count_nonzero(improved & responder)),
                "early_not_respond": int(np.count_nonzero(improved & ~responder)),
                "not_early_respond": int(np.count_nonzero(not_improved & responder)),
                "not_early_not_respond": int(np.count_nonzero(not_improved & ~responder)),
            }
        )
    return rows


# --- rates, trajectories, groups -----------------------------------------------------


class Rate(NamedTuple):
    """``hits`` of ``n`` (the valid patients), the percentage and its Wilson 95 %
    interval in percent (all ``nan`` if n = 0)."""

    hits: int
    n: int
    pct: float
    low: float = float("nan")
    high: float = float("nan")


def rates(mask: npt.ArrayLike, valid: npt.ArrayLike) -> Rate:
    """Share of valid patients for whom ``mask`` holds (e.g. responder rate)."""
    m = np.asarray(mask, dtype=np.bool_)
    v = np.asarray(valid, dtype=np.bool_)
    if m.shape != v.shape:
        raise ValueError("mask and valid must have the same shape")
    n = int(np.count_nonzero(v))
    count = int(np.count_nonzero(m & v))
    interval = wilson_interval(count, n)
    return Rate(count, n, 100.0 * count / n if n else float("nan"), 100.0 * interval.low, 100.0 * interval.high)


class Trajectory(NamedTuple):
    """Per week ``0 .. max_week``: cohort median and quartiles (``nan`` for a week
    without data) of the patients' weekly means, and how many patients had data."""

    weeks: IntArray
    median: FloatArray
    q1: FloatArray
    q3: FloatArray
    n: IntArray


def weekly_trajectory(
    patient_idx: npt.ArrayLike,
    day: npt.ArrayLike,
    value: npt.ArrayLike,
    n_patients: int,
    *,
    max_week: int,
) -> Trajectory:
    """Median (IQR) trajectory by plan week; week k covers days ``[7k, 7k + 7)``.

    Each patient contributes one value per week (the mean of their entries that
    week), so a patient who logs more often does not weigh more. Quartiles use
    numpy's default linear interpolation. Entries before day 0 or after ``max_week``
    are ignored.
    """
    if max_week < 0:
        raise ValueError("max_week must be >= 0")
    idx, days, values = _entries(patient_idx, day, value, n_patients, from_plan_start=True)
    n_weeks = max_week + 1
    week = np.floor(days / 7.0).astype(np.int64)
    keep = week <= max_week
    idx, week, values = idx[keep], week[keep], values[keep]
    if not idx.size:
        return weekly_trajectory_of_means(week, values, max_week=max_week)
    cell, inverse = np.unique(idx.astype(np.int64) * n_weeks + week, return_inverse=True)
    means = np.bincount(inverse, weights=values) / np.bincount(inverse)
    return weekly_trajectory_of_means(cell % n_weeks, means, max_week=max_week)


def weekly_trajectory_of_means(week: npt.ArrayLike, mean: npt.ArrayLike, *, max_week: int) -> Trajectory:
    """:func:`weekly_trajectory` from one mean per patient and week (a selector that
    reduced the weeks before they reached Python): rows with ``week`` outside
    ``0 .. max_week`` or a non-finite mean are ignored."""
    if max_week < 0:
        raise ValueError("max_week must be >= 0")
    weeks = np.asarray(week)
    means = np.asarray(mean, dtype=np.float64)
    if weeks.ndim != 1 or means.shape != weeks.shape:
        raise ValueError("week and mean must be 1-D arrays of the same length")
    n_weeks = max_week + 1
    keep = (weeks >= 0) & (weeks <= max_week) & np.isfinite(means)
    weeks, means = weeks[keep].astype(np.int64), means[keep]
    median = np.full(n_weeks, np.nan)
    q1 = np.full(n_weeks, np.nan)
    q3 = np.full(n_weeks, np.nan)
    n = np.bincount(weeks, minlength=n_weeks).astype(np.intp)
    if weeks.size:
        order = np.argsort(weeks, kind="stable")
        sorted_means = means[order]
        bounds = np.r_[0, np.cumsum(n)]
        for w in np.flatnonzero(n):  # loop over weeks, not patients
            q1[w], median[w], q3[w] = np.percentile(sorted_means[bounds[w] : bounds[w + 1]], (25.0, 50.0, 75.0))
    return Trajectory(np.arange(n_weeks, dtype=np.intp), median, q1, q3, n)


class IntervalDict(TypedDict):
    low: float | None
    high: float | None


class RateDict(TypedDict):
    count: int
    n: int
    pct: float | None
    ci95: IntervalDict
    too_few: bool


class MedianDict(TypedDict):
    value: float | None
    n: int
    ci95: IntervalDict
    too_few: bool


class GroupRow(TypedDict):
    label: str
    n: int
    n_valid: int
    responders30: RateDict
    responders50: RateDict
    mcid: RateDict
    median_change: MedianDict
    median_pct_change: MedianDict


def _round(value: float, digits: int) -> float | None:
    return round(float(value), digits) if np.isfinite(value) else None


def interval_dict(interval: Interval, digits: int = 2) -> IntervalDict:
    return {"low": _round(interval.low, digits), "high": _round(interval.high, digits)}


def rate_dict(rate: Rate) -> RateDict:
    """A rate, JSON-ready: percentages to one decimal, ``None`` for nan."""
    return {
        "count": rate.hits,
        "n": rate.n,
        "pct": _round(rate.pct, 1),
        "ci95": interval_dict(Interval(rate.low, rate.high), 1),
        "too_few": rate.n < MIN_N_TO_JUDGE,
    }


def median_dict(values: npt.ArrayLike, digits: int = 2) -> MedianDict:
    """Median of the finite ``values`` with its bootstrap interval, JSON-ready."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    return {
        "value": _round(float(np.median(x)), digits) if x.size else None,
        "n": int(x.size),
        "ci95": interval_dict(median_ci(x), digits),
        "too_few": x.size < MIN_N_TO_JUDGE,
    }


def group_summary(groups: npt.ArrayLike, outcomes: PainOutcomes, labels: Sequence[str]) -> list[GroupRow]:
    """Responder rates and median change per group, JSON-ready (``None``, not nan).

    ``groups`` is either 1-D, one group index per patient (``-1`` = in no group), or a
    2-D boolean membership matrix ``(n_patients, len(labels))`` for groupings where a
    patient can be in several groups (plan components). Rates count valid patients
    only (see :class:`PainOutcomes`); medians are over valid patients. Percentages are
    rounded to one decimal; every rate and median carries its 95 % interval.
    """
    g = np.asarray(groups)
    n_patients = outcomes.valid.shape[0]
    n_groups = len(labels)
    if g.ndim == 1:
        if g.shape[0] != n_patients:
            raise ValueError("groups must have one entry per patient")
        if g.size and (g.min() < -1 or g.max() >= n_groups):
            raise ValueError("group indices must lie in [-1, len(labels))")
        membership = g[:, None] == np.arange(n_groups)[None, :]
    elif g.ndim == 2 and g.shape == (n_patients, n_groups):
        membership = g.astype(np.bool_)
    else:
        raise ValueError("groups must be 1-D indices or a (patients, labels) matrix")
    rows: list[GroupRow] = []
    for k, label in enumerate(labels):  # loop over groups, not patients
        member = membership[:, k]
        valid = member & outcomes.valid
        rows.append(
            {
                "label": label,
                "n": int(np.count_nonzero(member)),
                "n_valid": int(np.count_nonzero(valid)),
                "responders30": rate_dict(rates(outcomes.responder30, valid)),
                "responders50": rate_dict(rates(outcomes.responder50, valid)),
                "mcid": rate_dict(rates(outcomes.mcid, valid)),
                "median_change": median_dict(outcomes.change[valid]),
                "median_pct_change": median_dict(outcomes.pct_change[valid], 1),
            }
        )
    return rows
