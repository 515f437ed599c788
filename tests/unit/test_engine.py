"""Unit tests for assessments.outcomes.engine on small hand-computed cohorts (no database).

Each expected value is worked out in the comment next to the data, then the
vectorised engine is checked against plain per-patient loops on a random cohort.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from assessments.outcomes.engine import (
    MCID,
    adherence,
    early_response,
    group_summary,
    kaplan_meier,
    km_median,
    median_ci,
    median_dict,
    pain_outcomes,
    pain_outcomes_from_windows,
    rates,
    score_change,
    thermal_recovery,
    time_to_response,
    time_to_response_weekly,
    weekly_trajectory,
    weekly_trajectory_of_means,
    wilson_interval,
)
from tests.stats import rate_json

NAN = np.nan


def cohort(rows):
    """rows: [(patient, day, value), ...] -> three arrays."""
    if not rows:
        return np.array([], dtype=int), np.array([]), np.array([])
    p, d, v = zip(*rows, strict=True)
    return np.array(p), np.array(d, dtype=float), np.array(v, dtype=float)


# --- pain outcomes -------------------------------------------------------------------

PAIN_ROWS = [
    # p0: baseline days 0,1,1(tie),2 -> 8,6,8,6 = 7.0; day 7.0 is outside [0,7).
    # last day 22 -> current window (15,22]: 3,4,3,4 = 3.5 (day 15 itself is out).
    # change -3.5, -50 %: responder30, responder50, MCID.
    (0, 0, 8), (0, 1, 6), (0, 1, 8), (0, 2, 6), (0, 7.0, 10), (0, 10, 9),
    (0, 15, 10), (0, 20, 3), (0, 21, 4), (0, 21, 3), (0, 22, 4),
    # p1: only 2 baseline entries -> invalid although -66.7 %.
    (1, 0, 6), (1, 3, 6), (1, 20, 2), (1, 21, 2), (1, 22, 2),
    # p2: baseline 0 -> pct nan, valid, never a responder.
    (2, 0, 0), (2, 1, 0), (2, 2, 0), (2, 15, 0), (2, 16, 0), (2, 17, 1),
    # p3: followed only 9 days (< 14): the windows would overlap -> invalid.
    *[(3, d, 5) for d in range(10)],
    # p4: 10 -> 7: exactly -30 % and -3 points: responder30, not 50, MCID.
    (4, 0, 10), (4, 2, 10), (4, 4, 10), (4, 6, 10), (4, 27, 7), (4, 28, 7), (4, 28, 7),
    # p5: 5 -> 3 over (7.9, 14.9]: exactly -2 points (MCID), -40 %.
    (5, 0, 5), (5, 1, 5), (5, 2, 5), (5, 14, 3), (5, 14.5, 3), (5, 14.9, 3),
    # p6: no entries at all.
    # p7: day -3 (before plan start) ignored; 4 -> 13/3: worse by 1/3 point (+8.33 %).
    (7, -3, 10), (7, 0, 4), (7, 1, 4), (7, 2, 4), (7, 14, 4), (7, 15, 4), (7, 16, 5),
]  # fmt: skip
N_PAIN = 8


@pytest.fixture
def pain():
    return pain_outcomes(*cohort(PAIN_ROWS), N_PAIN)


def test_pain_outcomes_hand_computed(pain):
    assert_allclose(pain.baseline, [7, 6, 0, 5, 10, 5, NAN, 4])
    assert_allclose(pain.current, [3.5, 2, 1 / 3, 5, 7, 3, NAN, 13 / 3])
    assert_allclose(pain.change, [-3.5, -4, 1 / 3, 0, -3, -2, NAN, 1 / 3])
    assert_allclose(pain.pct_change, [-50, -400 / 6, NAN, 0, -30, -40, NAN, 100 / 12])
    assert_array_equal(pain.n_baseline, [4, 2, 3, 7, 4, 3, 0, 3])
    assert_array_equal(pain.n_current, [4, 3, 3, 7, 3, 3, 0, 3])
    assert_allclose(pain.last_day, [22, 22, 17, 9, 28, 14.9, NAN, 16])


def test_pain_validity_rule(pain):
    # p1 too few baseline entries, p3 windows overlap (last day 9 < 14), p6 no data
    assert_array_equal(pain.valid, [1, 0, 1, 0, 1, 1, 0, 1])


def test_responders_and_mcid_only_among_valid(pain):
    assert_array_equal(pain.responder30, [1, 0, 0, 0, 1, 1, 0, 0])
    assert_array_equal(pain.responder50, [1, 0, 0, 0, 0, 0, 0, 0])
    assert_array_equal(pain.mcid, [1, 0, 0, 0, 1, 1, 0, 0])


def test_pain_rates_exclude_invalid(pain):
    assert rates(pain.responder30, pain.valid)[:3] == (3, 5, 60.0)
    assert rates(pain.responder50, pain.valid)[:3] == (1, 5, 20.0)
    assert rates(pain.mcid, pain.valid)[:3] == (3, 5, 60.0)
    count, n, pct, *_ = rates(pain.responder30, np.zeros(N_PAIN, bool))
    assert (count, n) == (0, 0)
    assert math.isnan(pct)


def test_exact_thresholds_survive_float_rounding():
    rows = [
        # 6.0 -> 21 / 5 = 4.2 is exactly -30 %, but float gives -29.999999999999996
        (0, 0, 6), (0, 1, 6), (0, 2, 6),
        (0, 20, 4), (0, 21, 4), (0, 22, 4), (0, 23, 4), (0, 24, 5),
        # 4 / 3 -> 2 / 3 is exactly -50 %, but float gives -49.99999999999999
        (1, 0, 1), (1, 1, 1), (1, 2, 2), (1, 20, 1), (1, 21, 1), (1, 22, 0),
    ]  # fmt: skip
    out = pain_outcomes(*cohort(rows), 2)
    assert_array_equal(out.valid, [True, True])
    assert_array_equal(out.responder30, [True, True])
    assert_array_equal(out.responder50, [False, True])


def test_pain_boundary_when_last_day_is_exactly_two_windows():
    rows = [(0, d, 6) for d in (0, 1, 2)] + [(0, d, 3) for d in (12, 13, 14)]
    out = pain_outcomes(*cohort(rows), 1)
    assert out.valid[0]  # last day 14: windows [0,7) and (7,14] do not overlap
    rows = [(0, d, 6) for d in (0, 1, 2)] + [(0, d, 3) for d in (12, 13, 13.9)]
    assert not pain_outcomes(*cohort(rows), 1).valid[0]


def test_pain_custom_parameters():
    rows = [(0, 0, 6), (0, 1, 6), (0, 10, 4.5), (0, 11, 4.5)]
    out = pain_outcomes(*cohort(rows), 1, mcid=1.5, window_days=5.0, min_entries=2)
    assert out.valid[0]
    assert out.mcid[0]
    assert not out.responder30[0]  # -25 %
    assert not pain_outcomes(*cohort(rows), 1, mcid=1.6, window_days=5.0, min_entries=2).mcid[0]


def test_pain_ignores_non_finite_rows():
    rows = [(0, 0, 6), (0, 1, 6), (0, 2, 6), (0, 3, NAN), (0, NAN, 0)]
    out = pain_outcomes(*cohort(rows), 1)
    assert out.baseline[0] == 6
    assert out.n_baseline[0] == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([0, 1], [0.0, 1.0], [1.0, 2.0], 1), "n_patients"),
        (([-1], [0.0], [1.0], 1), "n_patients"),
        (([0, 0], [0.0], [1.0, 2.0], 1), "same length"),
        (([0.5], [0.0], [1.0], 1), "integers"),
        (([[0]], [[0.0]], [[1.0]], 1), "1-D"),
    ],
)
def test_pain_rejects_bad_arrays(args, message):
    with pytest.raises(ValueError, match=message):
        pain_outcomes(*args)


def test_pain_from_window_sums_hand_computed():
    """The selector's form: sums and counts per window (PAIN_ROWS p0, p1 and p4)."""
    out = pain_outcomes_from_windows([28.0, 12.0, 40.0], [4, 2, 4], [14.0, 6.0, 21.0], [4, 3, 3], [22.0, 22.0, 28.0])
    assert_allclose(out.baseline, [7.0, 6.0, 10.0])
    assert_allclose(out.current, [3.5, 2.0, 7.0])
    assert_array_equal(out.valid, [True, False, True])
    assert_array_equal(out.responder30, [True, False, True])
    assert_array_equal(out.responder50, [True, False, False])
    assert_array_equal(out.mcid, [True, False, True])


def test_pain_from_window_sums_rejects_ragged_arrays():
    with pytest.raises(ValueError, match="same length"):
        pain_outcomes_from_windows([1.0], [1], [1.0, 2.0], [1], [1.0])
    with pytest.raises(ValueError, match="1-D"):
        pain_outcomes_from_windows([[1.0]], [[1]], [[1.0]], [[1]], [[1.0]])


def test_empty_cohort():
    out = pain_outcomes(*cohort([]), 0)
    assert out.baseline.shape == (0,)
    assert rates(out.responder30, out.valid).n == 0
    assert group_summary(np.array([], int), out, ["a"])[0]["responders30"] == rate_json(0, 0, None)


# --- questionnaire change ------------------------------------------------------------


def test_phq9_score_change():
    rows = [
        (0, 0, 15), (0, 14, 12), (0, 28, 8),  # improvement 7 >= 5
        (1, 0, 12),  # one score: not valid
        (2, 3, 20), (2, 3, 10),  # two scores, same day: not valid
        (3, 0, 10), (3, 14, 9), (3, 14, 4),  # tie on the last day: last row given = 4
        (4, -2, 5), (4, 14, 11),  # screening score before plan start counts; +6 worse
        (5, 28, 9), (5, 0, 13),  # unsorted input; improvement 4 < 5
    ]  # fmt: skip
    out = score_change(*cohort(rows), 7, mcid=MCID["phq9"])
    assert_allclose(out.first, [15, 12, 20, 10, 5, 13, NAN])
    assert_allclose(out.last, [8, 12, 10, 4, 11, 9, NAN])
    assert_allclose(out.change, [-7, 0, -10, -6, 6, -4, NAN])
    assert_allclose(out.improvement, [7, 0, 10, 6, -6, 4, NAN])
    assert_allclose(out.first_day, [0, 0, 3, 0, -2, 0, NAN])
    assert_array_equal(out.n, [3, 1, 2, 3, 2, 2, 0])
    assert_array_equal(out.valid, [1, 0, 0, 1, 1, 1, 0])
    assert_array_equal(out.mcid_reached, [1, 0, 0, 1, 0, 0, 0])
    assert_array_equal(out.deteriorated, [0, 0, 0, 0, 1, 0, 0])


def test_score_change_mcid_boundaries_and_direction():
    rows = [(0, 0, 14), (0, 28, 10), (1, 0, 14), (1, 28, 10.5)]
    gad7 = score_change(*cohort(rows), 2, mcid=MCID["gad7"])
    assert_array_equal(gad7.mcid_reached, [True, False])  # exactly 4 counts
    odi = score_change(*cohort([(0, 0, 42), (0, 30, 32), (1, 0, 42), (1, 30, 33)]), 2, mcid=10)
    assert_array_equal(odi.mcid_reached, [True, False])
    # higher-is-better scale: a rise is the improvement
    better = score_change(*cohort([(0, 0, 40), (0, 30, 50)]), 1, mcid=10, higher_is_worse=False)
    assert better.improvement[0] == 10
    assert better.mcid_reached[0]
    assert not better.deteriorated[0]
    with pytest.raises(ValueError, match="mcid"):
        score_change(*cohort(rows), 2, mcid=0)


# --- thermal -------------------------------------------------------------------------


def test_thermal_recovery():
    rows = [
        (0, 0, 1.5), (0, 28, 0.4),  # asymmetric -> symmetric: recovered
        (1, 0, 0.6), (1, 28, 0.3),  # symmetric from the start
        (2, 0, 2.0), (2, 28, 1.2),  # still asymmetric
        (3, 0, 1.8),  # no follow-up
        (4, 0, 1.0), (4, 14, 0.99),  # threshold is inclusive for asymmetry
        (5, 0, -1.4), (5, 30, 0.2),  # sign ignored
        (6, 0, 1.6), (6, 0, 0.1),  # "follow-up" on the same day does not count
    ]  # fmt: skip
    out = thermal_recovery(*cohort(rows), 8)
    assert_array_equal(out.baseline_asymmetric, [1, 0, 1, 1, 1, 1, 1, 0])
    assert_array_equal(out.last_symmetric, [1, 1, 0, 0, 1, 1, 0, 0])
    assert_array_equal(out.recovered, [1, 0, 0, 0, 1, 1, 0, 0])
    assert_allclose(out.first_delta, [1.5, 0.6, 2.0, 1.8, 1.0, 1.4, 1.6, NAN])
    assert_allclose(out.last_delta, [0.4, 0.3, 1.2, 1.8, 0.99, 0.2, 0.1, NAN])
    stricter = thermal_recovery(*cohort(rows), 8, threshold=1.6)
    assert_array_equal(stricter.recovered, [0, 0, 1, 0, 0, 0, 0, 0])


# --- adherence -----------------------------------------------------------------------


def test_adherence_arithmetic():
    got = adherence(np.array([3, 5, 0, 2, 4, 1]), np.array([4, 5, 0, 0, 2, 3]))
    assert_allclose(got, [75, 100, NAN, NAN, 100, 100 / 3])
    assert_allclose(adherence([0, 6], 12), [0, 50])  # broadcasting
    with pytest.raises(ValueError, match=">= 0"):
        adherence([1], [-1])


# --- time to response ----------------------------------------------------------------

TTR_ROWS = [
    # p0: baseline 8, target 0.7 * 8 = 5.6. Trailing means: day 7 (0,7] = 8,8,6 -> 7.33;
    # day 8 (1,8] = 8,6,5 -> 6.33; day 9 (2,9] = 6,5,5 -> 5.33 <= 5.6: event at 9.
    # (Wrongly keeping day 2 in the day-9 window gives 6.0 and an event only at 10.)
    (0, 0, 8), (0, 1, 8), (0, 2, 8), (0, 7, 6), (0, 8, 5), (0, 9, 5), (0, 10, 4),
    # p1: baseline 6, target 4.2, stays at 5: censored at the last entry, day 20.
    (1, 0, 6), (1, 1, 6), (1, 2, 6), *[(1, d, 5) for d in range(7, 21)],
    # p2: only two baseline entries: not eligible.
    (2, 0, 6), (2, 1, 6), (2, 8, 1), (2, 9, 1), (2, 10, 1),
    # p3: baseline 0: not eligible.
    (3, 0, 0), (3, 1, 0), (3, 2, 0), (3, 8, 0), (3, 9, 0), (3, 10, 0),
    # p4: three entries on day 8 (ties): (1,8] = 10,2,2,2 -> 4 <= 7: event at 8.
    (4, 0, 10), (4, 1, 10), (4, 2, 10), (4, 8, 2), (4, 8, 2), (4, 8, 2),
    # p5: low pain early in the baseline week (trailing mean 1 on day 2) must not count:
    # baseline 39/7, later stays at 9: censored at day 12.
    (5, 0, 1), (5, 1, 1), (5, 2, 1), (5, 3, 9), (5, 4, 9), (5, 5, 9), (5, 6, 9),
    (5, 10, 9), (5, 11, 9), (5, 12, 9),
    # p6: no entries.
    # p7: baseline 10; day 20 alone is 1 but its window holds 2 entries (< 3): no event;
    # day 21 (14,21] = 6,1,1 -> 2.67 <= 7: event at 21.
    (7, 0, 10), (7, 1, 10), (7, 2, 10), (7, 9, 9), (7, 15, 6), (7, 20, 1), (7, 21, 1),
]  # fmt: skip


def test_time_to_response_hand_computed():
    durations, event = time_to_response(*cohort(TTR_ROWS), 8)
    assert_allclose(durations, [9, 20, NAN, NAN, 8, 12, NAN, 21])
    assert_array_equal(event, [1, 0, 0, 0, 1, 0, 0, 1])


def test_time_to_response_threshold_50():
    durations, event = time_to_response(*cohort(TTR_ROWS), 8, threshold_pct=50.0)
    # p0: target 4: trailing means 7.33, 6.33, 5.33, (3,10] = 6,5,5,4 -> 5: none
    # p4: day 8 mean 4 <= 5: event; p7: day 21 mean 2.67 <= 5: event
    assert_allclose(durations, [10, 20, NAN, NAN, 8, 12, NAN, 21])
    assert_array_equal(event, [0, 0, 0, 0, 1, 0, 0, 1])
    with pytest.raises(ValueError, match="threshold_pct"):
        time_to_response(*cohort(TTR_ROWS), 8, threshold_pct=0)


# --- Kaplan-Meier --------------------------------------------------------------------


def test_kaplan_meier_product_limit_by_hand():
    km = kaplan_meier(np.array([2, 3, 3, 5, 8]), np.array([1, 1, 0, 1, 0]))
    # t=2: 5 at risk, 1 event -> 0.8; t=3: 4 at risk (the censored 3 still at risk),
    # 1 event -> 0.6; t=5: 2 at risk, 1 event -> 0.3; t=8: censored -> 0.3
    assert_allclose(km.times, [2, 3, 5, 8])
    assert_allclose(km.survival, [0.8, 0.6, 0.3, 0.3])
    # log-log interval at t=2 from Greenwood: var sum 1/(5*4); se of log(-log S)
    se = math.sqrt(1 / 20) / abs(math.log(0.8))
    z = 1.959963984540054
    assert km.ci_low[0] == pytest.approx(0.8 ** math.exp(z * se))
    assert km.ci_high[0] == pytest.approx(0.8 ** math.exp(-z * se))
    assert np.all(km.ci_low <= km.survival)
    assert np.all(km.survival <= km.ci_high)


def test_kaplan_meier_linear_interval():
    km = kaplan_meier([2, 3, 3, 5, 8], [True, True, False, True, False], ci_method="linear")
    se = 0.8 * math.sqrt(1 / 20)
    assert km.ci_low[0] == pytest.approx(0.8 - 1.959963984540054 * se)
    assert km.ci_high[0] == pytest.approx(min(1.0, 0.8 + 1.959963984540054 * se))


def test_kaplan_meier_edge_cases():
    empty = kaplan_meier(np.array([]), np.array([], bool))
    assert all(a.shape == (0,) for a in empty)
    censored = kaplan_meier([4, 9, 9], [False, False, False])
    assert_allclose(censored.times, [4, 9])
    assert_allclose(censored.survival, [1, 1])
    assert_allclose(censored.ci_low, [1, 1])
    assert_allclose(censored.ci_high, [1, 1])
    # not-eligible patients (nan) are dropped, not treated as time 0
    with_nan = kaplan_meier([NAN, 2, 3, 3, 5, 8, NAN], [0, 1, 1, 0, 1, 0, 0])
    assert_allclose(with_nan.survival, [0.8, 0.6, 0.3, 0.3])
    everyone = kaplan_meier([1, 2], [True, True])
    assert_allclose(everyone.survival, [0.5, 0.0])
    assert math.isnan(everyone.ci_low[1])  # undefined at S = 0
    with pytest.raises(ValueError, match=">= 0"):
        kaplan_meier([-1, 2], [True, True])
    with pytest.raises(ValueError, match="booleans"):
        kaplan_meier([1, 2], [2, 1])


def test_time_to_response_feeds_kaplan_meier():
    km = kaplan_meier(*time_to_response(*cohort(TTR_ROWS), 8))
    # eligible: p0 event 9, p1 censored 20, p4 event 8, p5 censored 12, p7 event 21
    # t=8: 5 at risk -> 0.8; t=9: 4 -> 0.6; t=12 censored; t=20 censored; t=21: 1 -> 0
    assert_allclose(km.times, [8, 9, 12, 20, 21])
    assert_allclose(km.survival, [0.8, 0.6, 0.6, 0.6, 0.0])


# --- trajectory ----------------------------------------------------------------------


def test_weekly_trajectory_median_iqr_by_hand():
    rows = [
        (0, 0, 2), (0, 3, 4), (0, 8, 6),  # week 0 mean 3, week 1: 6
        (1, 0, 10), (1, 1, 10), (1, 2, 10), (1, 3, 10), (1, 4, 10),  # logs a lot: 10
        (2, 6.9, 5), (2, 7, 2), (2, 13.5, 4),  # week 0: 5, week 1: mean 3
        (3, 2, 1), (3, -1, 9),  # week 0: 1 (day -1 is before plan start)
        (0, 21, 7),  # week 3 > max_week: ignored
    ]  # fmt: skip
    traj = weekly_trajectory(*cohort(rows), 4, max_week=2)
    assert_array_equal(traj.weeks, [0, 1, 2])
    assert_array_equal(traj.n, [4, 2, 0])
    # week 0 patient means 1, 3, 5, 10: median 4; linear quartiles at positions
    # 0.75 -> 1 + 0.75 * 2 = 2.5 and 2.25 -> 5 + 0.25 * 5 = 6.25
    # week 1 means 3, 6: median 4.5, q1 3.75, q3 5.25; week 2 empty
    assert_allclose(traj.median, [4, 4.5, NAN])
    assert_allclose(traj.q1, [2.5, 3.75, NAN])
    assert_allclose(traj.q3, [6.25, 5.25, NAN])


def test_weekly_trajectory_of_means_hand_computed():
    # The same cells as above, already reduced: week 0 means 1, 3, 5, 10; week 1: 3, 6;
    # week 3 beyond max_week, week -1 and a nan are ignored.
    traj = weekly_trajectory_of_means([0, 0, 0, 0, 1, 1, 3, -1, 1], [3, 10, 5, 1, 6, 3, 7, 9, NAN], max_week=2)
    assert_array_equal(traj.n, [4, 2, 0])
    assert_allclose(traj.median, [4, 4.5, NAN])
    assert_allclose(traj.q1, [2.5, 3.75, NAN])
    assert_allclose(traj.q3, [6.25, 5.25, NAN])


def test_time_to_response_weekly_hand_computed():
    # p0: baseline 10, week 1: 8, week 2: 7 (exactly 70 %) -> event at week 2 (day 20).
    # p1: baseline 10, 9, 8 -> censored at week 2 (day 20). p2: no week 0 -> nan.
    # p3: baseline 0 -> nan. p4: week 3 = 2 of baseline 4 (50 %): event at day 27.
    durations, event = time_to_response_weekly(
        [0, 0, 0, 1, 1, 1, 2, 3, 3, 4, 4],
        [0, 1, 2, 0, 1, 2, 1, 0, 1, 0, 3],
        [10, 8, 7, 10, 9, 8, 1, 0, 0, 4, 2],
        5,
    )
    assert_allclose(durations, [20, 20, NAN, NAN, 27])
    assert_array_equal(event, [1, 0, 0, 0, 1])


def test_weekly_forms_agree_with_the_entry_forms_on_random_cohorts():
    """The weekly reductions give what the entry-based engine gives on one row per week
    (placed on the week's last day, so a 7-day trailing window holds just that week)."""
    rng = np.random.default_rng(11)
    for _ in range(50):
        n = int(rng.integers(1, 30))
        cells = {(int(p), int(w)) for p, w in zip(rng.integers(0, n, 200), rng.integers(0, 12, 200), strict=True)}
        idx = np.array([p for p, _w in sorted(cells)], dtype=np.intp)
        week = np.array([w for _p, w in sorted(cells)])
        mean = rng.integers(0, 11, idx.size) / rng.choice([1.0, 3.0], idx.size)
        for pct in (30.0, 50.0):
            weekly = time_to_response_weekly(idx, week, mean, n, threshold_pct=pct)
            entries = time_to_response(
                idx, week * 7.0 + 6.0, mean, n, threshold_pct=pct, window_days=7.0, min_entries=1
            )
            assert_allclose(weekly.durations, entries.durations, equal_nan=True)
            assert_array_equal(weekly.event, entries.event)
        by_means = weekly_trajectory_of_means(week, mean, max_week=9)
        by_entries = weekly_trajectory(idx, week * 7.0, mean, n, max_week=9)
        for a, b in zip(by_means, by_entries, strict=True):
            assert_allclose(a, b, equal_nan=True)


def test_weekly_trajectory_empty():
    traj = weekly_trajectory(*cohort([]), 3, max_week=0)
    assert_array_equal(traj.n, [0])
    assert np.isnan(traj.median[0])


# --- group summary -------------------------------------------------------------------


def test_group_summary(pain):
    groups = np.array([0, 1, 0, 1, 0, 1, -1, 0])
    rows = group_summary(groups, pain, ["clbp", "neuropathic"])
    clbp, neuro = rows
    # clbp: p0, p2, p4, p7 all valid; responders30 p0, p4; responders50 p0
    assert clbp["label"] == "clbp"
    assert (clbp["n"], clbp["n_valid"]) == (4, 4)
    assert clbp["responders30"] == rate_json(2, 4, 50.0)
    assert clbp["responders50"] == rate_json(1, 4, 25.0)
    assert clbp["mcid"] == rate_json(2, 4, 50.0)
    # pct changes -50, nan (baseline 0), -30, +8.33 -> median -30
    assert clbp["median_pct_change"]["value"] == pytest.approx(-30)
    # changes -3.5, 1/3, -3, 1/3 -> median (-3 + 1/3) / 2
    assert clbp["median_change"]["value"] == pytest.approx((-3 + 1 / 3) / 2, abs=0.005)  # 2 decimals
    # neuropathic: p1, p3 invalid, p5 valid (-40 %, -2 points)
    assert (neuro["n"], neuro["n_valid"]) == (3, 1)
    assert neuro["responders30"] == rate_json(1, 1, 100.0)
    assert neuro["responders50"] == rate_json(0, 1, 0.0)
    assert neuro["median_pct_change"]["value"] == pytest.approx(-40)


def test_group_summary_membership_matrix_and_empty_group(pain):
    member = np.zeros((N_PAIN, 3), bool)
    member[[0, 4, 5], 0] = True  # tDCS
    member[[0, 1, 7], 1] = True  # exercise (p0 in both)
    tdcs, exercise, nobody = group_summary(member, pain, ["tdcs", "exercise", "tens"])
    assert tdcs["responders30"] == rate_json(3, 3, 100.0)
    assert tdcs["responders50"] == rate_json(1, 3, 33.3)
    assert (exercise["n"], exercise["n_valid"]) == (3, 2)
    assert exercise["responders30"] == rate_json(1, 2, 50.0)
    assert nobody["n"] == 0
    assert nobody["median_pct_change"]["value"] is None
    assert nobody["mcid"]["pct"] is None
    with pytest.raises(ValueError, match="group indices"):
        group_summary(np.full(N_PAIN, 3), pain, ["a"])


# --- vectorised engine vs. straightforward loops -------------------------------------


def random_cohort(seed=20260308, n_patients=200):
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_patients):
        if rng.random() < 0.05:
            continue  # some patients never log
        n = int(rng.integers(1, 70))
        days = rng.integers(-2, 60, n) + rng.choice([0.0, 0.0, 0.25, 0.5], n)
        values = rng.integers(0, 11, n).astype(float)
        values[rng.random(n) < 0.02] = NAN
        rows.extend(zip([p] * n, days, values, strict=True))
    rng.shuffle(rows)
    return cohort(rows), n_patients


def loop_pain(idx, day, value, n, mcid=2.0, w=7.0, k=3):
    out = {f: np.full(n, NAN) for f in ("baseline", "current", "change", "pct_change")}
    valid = np.zeros(n, bool)
    r30 = np.zeros(n, bool)
    r50 = np.zeros(n, bool)
    reached = np.zeros(n, bool)
    for p in range(n):
        sel = (idx == p) & np.isfinite(day) & np.isfinite(value) & (day >= 0)
        d, v = day[sel], value[sel]
        if d.size == 0:
            continue
        last = d.max()
        b, c = v[d < w], v[d > last - w]
        base = b.mean() if b.size else NAN
        cur = c.mean() if c.size else NAN
        change = cur - base
        pct = change / base * 100 if base > 0 else NAN
        out["baseline"][p], out["current"][p] = base, cur
        out["change"][p], out["pct_change"][p] = change, pct
        valid[p] = b.size >= k and c.size >= k and last >= 2 * w
        r30[p] = valid[p] and pct <= -30 + 1e-9
        r50[p] = valid[p] and pct <= -50 + 1e-9
        reached[p] = valid[p] and change <= -mcid + 1e-9
    return out, valid, r30, r50, reached


def loop_ttr(idx, day, value, n, thr=30.0, w=7.0, k=3):
    durations = np.full(n, NAN)
    event = np.zeros(n, bool)
    for p in range(n):
        sel = (idx == p) & np.isfinite(day) & np.isfinite(value) & (day >= 0)
        d, v = day[sel], value[sel]
        b = v[d < w]
        if b.size < k or b.mean() <= 0:
            continue
        target = (1 - thr / 100) * b.mean()
        durations[p] = d.max()
        for t in np.sort(d):
            win = v[(d > t - w) & (d <= t)]
            if t >= w and win.size >= k and win.mean() <= target + 1e-9:
                durations[p], event[p] = t, True
                break
    return durations, event


def loop_first_last(idx, day, value, n):
    first = np.full(n, NAN)
    last = np.full(n, NAN)
    for p in range(n):
        rows = [
            (day[i], i, value[i])
            for i in range(idx.size)
            if idx[i] == p and np.isfinite(day[i]) and np.isfinite(value[i])
        ]
        if rows:
            rows.sort()
            first[p], last[p] = rows[0][2], rows[-1][2]
    return first, last


def loop_trajectory(idx, day, value, n, max_week):
    med, q1, q3, cnt = [], [], [], []
    for wk in range(max_week + 1):
        means = []
        for p in range(n):
            sel = (idx == p) & (np.floor(day / 7) == wk) & np.isfinite(value) & (day >= 0)
            if sel.any():
                means.append(value[sel].mean())
        cnt.append(len(means))
        if means:
            a, m, b = np.percentile(means, [25, 50, 75])
        else:
            a = m = b = NAN
        med.append(m)
        q1.append(a)
        q3.append(b)
    return np.array(med), np.array(q1), np.array(q3), np.array(cnt)


def test_vectorised_matches_loops_on_random_cohort():
    (idx, day, value), n = random_cohort()
    got = pain_outcomes(idx, day, value, n)
    ref, valid, r30, r50, reached = loop_pain(idx, day, value, n)
    for name, expected in ref.items():
        assert_allclose(getattr(got, name), expected, err_msg=name)
    assert_array_equal(got.valid, valid)
    assert_array_equal(got.responder30, r30)
    assert_array_equal(got.responder50, r50)
    assert_array_equal(got.mcid, reached)
    assert 20 < valid.sum() < n  # the cohort exercises both branches

    durations, event = time_to_response(idx, day, value, n)
    ref_durations, ref_event = loop_ttr(idx, day, value, n)
    assert_allclose(durations, ref_durations)
    assert_array_equal(event, ref_event)
    assert 0 < event.sum() < np.isfinite(durations).sum()

    first, last = loop_first_last(idx, day, value, n)
    change = score_change(idx, day, value, n, mcid=5)
    assert_allclose(change.first, first)
    assert_allclose(change.last, last)

    med, q1, q3, cnt = loop_trajectory(idx, day, value, n, max_week=9)
    traj = weekly_trajectory(idx, day, value, n, max_week=9)
    assert_allclose(traj.median, med)
    assert_allclose(traj.q1, q1)
    assert_allclose(traj.q3, q3)
    assert_array_equal(traj.n, cnt)


def test_kaplan_meier_matches_product_limit_loop():
    rng = np.random.default_rng(7)
    durations = rng.integers(1, 30, 200).astype(float)
    events = rng.random(200) < 0.6
    km = kaplan_meier(durations, events)
    s = 1.0
    expected = []
    for t in np.unique(durations):
        at_risk = np.sum(durations >= t)
        died = np.sum((durations == t) & events)
        s *= 1 - died / at_risk
        expected.append(s)
    assert_allclose(km.times, np.unique(durations))
    assert_allclose(km.survival, expected)


# --- uncertainty -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hits", "n", "low", "high"),
    [
        # Newcombe RG. Two-sided confidence intervals for the single proportion: comparison
        # of seven methods. Stat Med 1998;17:857-872, Table II, method 3 (Wilson score).
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0000, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_interval_matches_newcombe_worked_examples(hits, n, low, high):
    interval = wilson_interval(hits, n)
    assert interval.low == pytest.approx(low, abs=5e-5)
    assert interval.high == pytest.approx(high, abs=5e-5)


def test_wilson_interval_edges():
    assert all(math.isnan(v) for v in wilson_interval(0, 0))
    assert wilson_interval(29, 29).high == 1.0
    assert 0.0 < wilson_interval(29, 29).low < 1.0
    with pytest.raises(ValueError):
        wilson_interval(3, 2)


def test_rates_carry_the_wilson_interval_in_percent():
    rate = rates([True, True, False, False], [True] * 4)
    assert (rate.low, rate.high) == pytest.approx((15.0, 85.0), abs=0.05)  # 2/4: 0.150-0.850


@pytest.mark.parametrize("n", [2, 7, 8, 31])
def test_median_ci_equals_a_resampling_bootstrap(n):
    """The exact order-statistic draw has the distribution of medians of resampled
    arrays: with many replicates both give the same percentile interval."""
    rng = np.random.default_rng(n)
    x = rng.normal(5.0, 2.0, size=n)
    exact = median_ci(x, replicates=200_000)
    resampled = np.median(x[rng.integers(0, n, size=(200_000, n))], axis=1)
    low, high = np.quantile(resampled, (0.025, 0.975))
    spread = x.max() - x.min()
    assert exact.low == pytest.approx(low, abs=0.02 * spread)
    assert exact.high == pytest.approx(high, abs=0.02 * spread)


def test_median_ci_is_fixed_by_its_seed_and_contains_the_median():
    x = np.arange(1.0, 101.0)
    assert median_ci(x) == median_ci(x)
    assert median_ci(x).low < np.median(x) < median_ci(x).high
    assert median_ci([np.nan, 4.0]) == (4.0, 4.0)
    assert all(math.isnan(v) for v in median_ci([]))


def test_median_dict_marks_too_few():
    assert median_dict(np.arange(9.0))["too_few"] is True
    few = median_dict(np.arange(10.0))
    assert few["too_few"] is False
    assert few["value"] == 4.5
    assert few["n"] == 10


def test_km_median_and_its_interval():
    # 10 patients, all respond at weeks 1..10: S crosses 0.5 at week 5.
    km = kaplan_meier(np.arange(1.0, 11.0), np.ones(10, bool))
    median, interval = km_median(km)
    assert median == 5.0
    # Brookmeyer-Crowley: first times the lower and the upper band reach 0.5.
    assert interval.low == km.times[np.flatnonzero(km.ci_low <= 0.5)[0]]
    assert interval.high == km.times[np.flatnonzero(km.ci_high <= 0.5)[0]]
    assert interval.low <= median <= interval.high
    never = kaplan_meier([1.0, 2.0, 3.0], [False, False, False])
    assert all(math.isnan(v) for v in (km_median(never)[0], *km_median(never)[1]))


def test_early_response_table_on_a_hand_built_cohort():
    # (patient, week, mean). Baseline 8 for everyone.
    #   p0: week 3 = 6.4 (-20 %), week 12 = 4 (-50 %)  -> early >=15, responder
    #   p1: week 3 = 6.8 (-15 %), week 12 = 7 (-12.5 %) -> early >=15, not responder
    #   p2: week 3 = 7.6 (-5 %),  week 12 = 5.6 (-30 %) -> not early, responder
    #   p3: week 3 = 8.0 (0 %),   week 12 = 8 (0 %)     -> not early, not responder
    #   p4: week 3 = 5.6 (-30 %), week 12 = 2 (-75 %)   -> early >=15 and >=30, responder
    #   p5: no week 12 -> left out;  p6: baseline 0 -> left out
    rows = [
        *((p, 0, 8.0) for p in range(6)),
        (0, 3, 6.4), (0, 12, 4.0),
        (1, 3, 6.8), (1, 12, 7.0),
        (2, 3, 7.6), (2, 12, 5.6),
        (3, 3, 8.0), (3, 12, 8.0),
        (4, 3, 5.6), (4, 12, 2.0),
        (5, 3, 4.0),
        (6, 0, 0.0), (6, 3, 0.0), (6, 12, 0.0),
    ]  # fmt: skip
    idx, week, mean = (np.array(c, dtype=float) for c in zip(*rows, strict=True))
    fifteen, thirty = early_response(idx.astype(int), week, mean, 7)
    assert fifteen["early_pct"] == 15.0
    assert (fifteen["early_respond"], fifteen["early_not_respond"]) == (2, 1)
    assert (fifteen["not_early_respond"], fifteen["not_early_not_respond"]) == (1, 1)
    assert fifteen["early"] == rate_json(2, 3, 66.7)
    assert fifteen["not_early"] == rate_json(1, 2, 50.0)
    assert (thirty["early_respond"], thirty["early_not_respond"]) == (1, 0)
    assert (thirty["not_early_respond"], thirty["not_early_not_respond"]) == (2, 2)


def test_kaplan_meier_greenwood_matches_the_6mp_worked_example():
    """The 6-MP arm of Freireich et al. (Blood 1963;21:699-716), 21 patients, times to
    relapse in weeks (censored marked False): the textbook worked example of the
    product-limit estimate with Greenwood standard errors (Klein & Moeschberger, Survival
    Analysis, 2nd ed. 2003, ch. 4): S = 0.857, 0.807, 0.753, 0.690, 0.627, 0.538, 0.448 at
    weeks 6, 7, 10, 13, 16, 22, 23, with standard errors 0.076, 0.087, 0.096, 0.107, 0.114,
    0.128, 0.135."""
    relapse = [6, 6, 6, 7, 10, 13, 16, 22, 23]
    censored = [6, 9, 10, 11, 17, 19, 20, 25, 32, 32, 34, 35]
    durations = np.array(relapse + censored, dtype=float)
    events = np.array([True] * len(relapse) + [False] * len(censored))
    expected_s = {6: 0.857, 7: 0.807, 10: 0.753, 13: 0.690, 16: 0.627, 22: 0.538, 23: 0.448}
    expected_se = {6: 0.076, 7: 0.087, 10: 0.096, 13: 0.107, 16: 0.114, 22: 0.128, 23: 0.135}
    z = 1.959963984540054
    km = kaplan_meier(durations, events, ci_method="linear")
    for week, s in expected_s.items():
        i = int(np.flatnonzero(km.times == week)[0])
        assert km.survival[i] == pytest.approx(s, abs=5e-4)
        # The lower bound: the linear interval is clipped at 1 above.
        assert (km.survival[i] - km.ci_low[i]) / z == pytest.approx(expected_se[week], abs=5e-4)
    # The default log-log band from the same Greenwood variance (Kalbfleisch & Prentice 1980).
    log_log = kaplan_meier(durations, events)
    i = int(np.flatnonzero(log_log.times == 6)[0])
    s, se = expected_s[6], expected_se[6]
    half = z * se / (s * abs(math.log(s)))
    assert (log_log.ci_low[i], log_log.ci_high[i]) == pytest.approx(
        (s ** math.exp(half), s ** math.exp(-half)), abs=2e-3
    )
