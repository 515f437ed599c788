"""The one definition of day 0, baseline and current window, and the worsening rule (no DB)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from assessments.outcomes.windows import (
    Episode,
    WindowMean,
    baseline_window,
    current_window,
    day0_from,
    episode_step,
    is_worsening,
    pain_status,
    slow_start,
    week_index,
    window_mean,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
UTC = dt.UTC


def at(tz: ZoneInfo, *parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=tz)  # type: ignore[misc]


# --- day 0 and the windows -----------------------------------------------------------------------


def test_day0_is_plan_start_at_local_midnight_else_first_entry_else_none():
    first = at(UTC, 2026, 3, 2, 7)
    assert day0_from(SHANGHAI, dt.date(2026, 3, 1), first) == at(SHANGHAI, 2026, 3, 1)
    assert day0_from(SHANGHAI, dt.date(2026, 3, 1), None) == at(UTC, 2026, 2, 28, 16)
    assert day0_from(SHANGHAI, None, first) == first
    assert day0_from(SHANGHAI, None, None) is None


def test_baseline_is_seven_local_days_around_midnight_in_the_patients_zone():
    window = baseline_window(day0_from(SHANGHAI, dt.date(2026, 3, 1), None), SHANGHAI)
    assert (window.start, window.end) == (at(UTC, 2026, 2, 28, 16), at(UTC, 2026, 3, 7, 16))
    assert at(SHANGHAI, 2026, 3, 1, 0, 0) in window  # 16:00 UTC the day before
    assert at(SHANGHAI, 2026, 2, 28, 23, 59) not in window  # the plan's eve, local time
    assert at(SHANGHAI, 2026, 3, 7, 23, 59) in window
    assert at(SHANGHAI, 2026, 3, 8, 0, 0) not in window


def test_a_week_over_the_spring_change_is_seven_local_days_not_168_hours():
    day0 = day0_from(BERLIN, dt.date(2026, 3, 25), None)  # clocks go forward on 29 March
    window = baseline_window(day0, BERLIN)
    assert window.end == at(BERLIN, 2026, 4, 1)
    assert window.end - window.start == dt.timedelta(hours=167)
    late = at(BERLIN, 2026, 4, 1, 0, 30)  # 168 h after day 0 would still count it
    assert late not in window
    assert week_index(late, day0, BERLIN) == 1
    assert week_index(at(BERLIN, 2026, 3, 31, 23, 59), day0, BERLIN) == 0
    assert week_index(at(BERLIN, 2026, 3, 24, 23, 59), day0, BERLIN) == -1


def test_a_week_over_the_autumn_change_is_169_hours():
    day0 = day0_from(BERLIN, dt.date(2026, 10, 22), None)  # clocks go back on 25 October
    window = baseline_window(day0, BERLIN)
    assert window.end - window.start == dt.timedelta(hours=169)
    assert at(BERLIN, 2026, 10, 28, 23, 30) in window


def test_current_window_is_the_seven_days_up_to_the_anchor_inclusive():
    anchor = at(SHANGHAI, 2026, 3, 20, 9)
    window = current_window(anchor, SHANGHAI)
    assert anchor in window
    assert at(SHANGHAI, 2026, 3, 13, 9) not in window
    assert at(SHANGHAI, 2026, 3, 13, 9, 0) + dt.timedelta(microseconds=1) in window
    assert anchor + dt.timedelta(microseconds=1) not in window
    # over a DST change the window still starts at the same local time
    berlin = current_window(at(BERLIN, 2026, 3, 31, 9), BERLIN)
    assert berlin.start == at(BERLIN, 2026, 3, 24, 9)


def test_week_index_matches_the_baseline_window():
    day0 = day0_from(SHANGHAI, dt.date(2026, 3, 1), None)
    window = baseline_window(day0, SHANGHAI)
    for moment in (window.start, window.end - dt.timedelta(microseconds=1), window.end):
        assert (week_index(moment, day0, SHANGHAI) == 0) == (moment in window)


def test_aware_datetimes_only():
    with pytest.raises(ValueError, match="aware"):
        week_index(dt.datetime(2026, 3, 1), at(UTC, 2026, 3, 1), UTC)


# --- the worsening rule --------------------------------------------------------------------------


def mean(*values: float) -> WindowMean:
    return WindowMean(float(sum(values)), len(values))


@pytest.mark.parametrize(
    ("baseline", "current", "worse"),
    [
        (mean(4, 4, 4), mean(6, 6, 6), True),  # exactly the MCID
        (mean(4, 4, 4), mean(6, 6, 5.9), False),  # a hair below
        (mean(3, 4, 5), mean(9, 9, 9), True),
        (mean(4, 4, 4), mean(9, 9), False),  # two entries are not a 7-day mean
        (mean(4, 4), mean(9, 9, 9), False),  # nor is a two-entry baseline
        (mean(0.1, 0.2, 0.3), mean(2.2, 2.2, 2.2), True),  # float sums at the edge
        (mean(8, 8, 8), mean(10, 10, 10, 10), True),
        (mean(9, 9, 9), mean(10, 10, 10), False),  # a ceiling effect is no worsening
    ],
)
def test_worsening_rule(baseline, current, worse):
    assert is_worsening(baseline, current) is worse


def test_window_mean_counts_only_entries_inside():
    day0 = at(UTC, 2026, 3, 1)
    window = baseline_window(day0, UTC)
    entries = [
        (day0 - dt.timedelta(seconds=1), 9.0),
        (day0, 2.0),
        (day0 + dt.timedelta(days=6), 4.0),
        (window.end, 9.0),
    ]
    result = window_mean(entries, window)
    assert (result.n, result.mean) == (2, 3.0)


def diary(day0: dt.datetime, values_by_day: dict[int, float], hour: int = 9) -> list[tuple[dt.datetime, float]]:
    return [(day0 + dt.timedelta(days=d, hours=hour), v) for d, v in values_by_day.items()]


def test_pain_status_needs_a_complete_baseline_week():
    day0 = at(SHANGHAI, 2026, 3, 1)
    entries = diary(day0, {0: 2, 1: 2, 2: 2, 3: 8, 4: 8, 5: 8})
    during = pain_status(entries, tz=SHANGHAI, day0=day0, anchor=day0 + dt.timedelta(days=5, hours=12))
    assert during.baseline_mean == 5.0
    assert not during.baseline_complete
    assert not during.worsening


def test_pain_status_worsening_and_recovery():
    day0 = at(SHANGHAI, 2026, 3, 1)
    baseline = dict.fromkeys(range(7), 4.0)
    worse = pain_status(
        diary(day0, baseline | {20: 6, 21: 7, 22: 6}),
        tz=SHANGHAI,
        day0=day0,
        anchor=day0 + dt.timedelta(days=22, hours=12),
    )
    assert (worse.baseline_mean, worse.current_mean, worse.delta) == (4.0, 19 / 3, 19 / 3 - 4)
    assert worse.worsening
    assert not worse.recovered
    # entries before day 0 are in neither window
    early = pain_status(
        [(day0 - dt.timedelta(hours=1), 10.0), *diary(day0, baseline)], tz=SHANGHAI, day0=day0, anchor=day0
    )
    assert early.baseline_mean == 4.0
    # no day 0 (no plan, no entry): nothing to say
    none = pain_status([], tz=SHANGHAI, day0=None, anchor=day0)
    assert none.baseline_mean is None
    assert not none.worsening
    assert not none.recovered


def test_episode_steps():
    day0 = at(UTC, 2026, 3, 1)
    anchor = day0 + dt.timedelta(days=30)
    baseline = dict.fromkeys(range(7), 3.0)

    def status(recent: dict[int, float]):
        return pain_status(diary(day0, baseline | recent, hour=0), tz=UTC, day0=day0, anchor=anchor)

    high = status({27: 6, 28: 6, 29: 5})
    low = status({27: 4, 28: 4, 29: 4})
    sparse = status({29: 3})  # one entry: the mean is unknown
    assert episode_step(high, open_episode=False) is Episode.START
    assert episode_step(high, open_episode=True) is Episode.NONE  # at most once per episode
    assert episode_step(low, open_episode=True) is Episode.END
    assert episode_step(low, open_episode=False) is Episode.NONE
    assert episode_step(sparse, open_episode=True) is Episode.NONE  # not logging keeps it open
    assert episode_step(sparse, open_episode=False) is Episode.NONE


# --- the slow-start mark -----------------------------------------------------------------------


def _course(week3_scores: list[float], *, anchor_day: int, baseline: float = 8.0) -> tuple[bool, float]:
    """Baseline week at ``baseline`` (3 entries), then the given scores on the 3 days before
    the anchor day; returns (slow_start, current mean)."""
    day0 = at(SHANGHAI, 2026, 3, 1)
    entries = [(day0 + dt.timedelta(days=d, hours=20), baseline) for d in (0, 2, 4)]
    entries += [
        (day0 + dt.timedelta(days=anchor_day - k, hours=8), score) for k, score in enumerate(week3_scores, start=1)
    ]
    status = pain_status(entries, tz=SHANGHAI, day0=day0, anchor=day0 + dt.timedelta(days=anchor_day, hours=12))
    return slow_start(status, SHANGHAI), status.current_mean or 0.0


@pytest.mark.parametrize(
    ("scores", "anchor_day", "expected"),
    [
        ([7.0, 7.0, 7.0], 24, True),  # week 3, -12.5 %
        ([7.0, 7.0, 6.4], 24, False),  # week 3, -15.8 %: improving enough
        ([6.8, 6.8, 6.8], 24, False),  # exactly -15 % is not slow
        ([8.0, 8.0, 9.0], 31, True),  # week 4, worse than baseline
        ([7.0, 7.0, 7.0], 17, False),  # week 2: too early to tell
        ([7.0, 7.0, 7.0], 38, False),  # week 5: past the mark's weeks
        ([7.0, 7.0], 24, False),  # two entries decide nothing
    ],
)
def test_slow_start_mark(scores, anchor_day, expected):
    assert _course(scores, anchor_day=anchor_day)[0] is expected


def test_pain_change_pct_needs_both_windows_and_a_baseline_above_zero():
    from assessments.outcomes.windows import PainStatus, WindowMean, pain_change_pct

    at = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)

    def status(baseline: WindowMean, current: WindowMean) -> PainStatus:
        return PainStatus(day0=at, baseline=baseline, current=current, anchor=at, baseline_complete=True)

    assert pain_change_pct(status(WindowMean(21.0, 3), WindowMean(12.0, 3))) == pytest.approx(-100 * 3 / 7)
    assert pain_change_pct(status(WindowMean(12.0, 3), WindowMean(15.0, 3))) == pytest.approx(25.0)
    assert pain_change_pct(status(WindowMean(14.0, 2), WindowMean(12.0, 3))) is None  # too few at the start
    assert pain_change_pct(status(WindowMean(21.0, 3), WindowMean(8.0, 2))) is None  # too few lately
    assert pain_change_pct(status(WindowMean(0.0, 3), WindowMean(0.0, 3))) is None  # nothing to be lower than
