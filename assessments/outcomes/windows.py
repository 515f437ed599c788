"""Day 0, the pain baseline and the current window: the one definition (pure).

Every pain figure in the product counts from these rules: the cohort summary and its
exports (``assessments.outcomes.selectors``), the weekly NRS sums kept for it
(``assessments.outcomes.nrs_weeks``), the therapist's worklist and patient page with its
chart (``frontend.selectors``) and the worsening-pain alert
(``assessments.outcomes.worsening``).

- **Day 0** is the start of the patient's rehab plan: the earliest ``start_date`` over
  the plan versions, at 00:00 in the patient's time zone. A patient without a plan counts
  from their first NRS entry.
- Time is counted on the patient's **wall clock**: "7 days after" a moment is the same
  local time 7 calendar days later, so a week that spans a daylight-saving change is 167
  or 169 hours long and still ends at local midnight. Zones without daylight saving (and
  UTC) give exactly 7 x 24 h.
- **Plan week k** is ``[day 0 + 7k days, day 0 + 7k + 7 days)``; the **baseline** is
  plan week 0.
- The **current window** is the 7 days up to a moment: ``(anchor - 7 days, anchor]``.
  Outcome figures anchor it at the latest entry; the worklist, the patient page and the
  alert anchor it at "now", so a patient who stops logging sees it empty.
- A window mean needs at least ``MIN_ENTRIES`` (3) entries; every entry weighs the same.

The worsening-pain rule: the current 7-day mean is at least ``WORSENING_POINTS`` (2, the
NRS MCID: Farrar et al., Pain 2001;94:149-158; Dworkin et al., J Pain 2008;9:105-121)
above the baseline, with >= 3 entries in each window, once the baseline week is over. An
episode starts when the rule first holds and ends when the current mean (again on >= 3
entries) falls back below the threshold; too few entries decide nothing, so an episode
stays open while the patient is not logging.

The slow-start mark (information for the therapist, not an alert): in plan weeks 3-4 the
current 7-day mean is less than ``SLOW_START_PCT`` (15 %) below the baseline, both on >= 3
entries. In the clinic's own data (the outcomes page's early-response table) such patients
rarely reach a 30 % reduction by week 12; early improvement predicting later response in
chronic pain: Farrar et al. 2001, as above.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from assessments.outcomes.engine import DEFAULT_MIN_ENTRIES, DEFAULT_WINDOW_DAYS, MCID

__all__ = [
    "MIN_ENTRIES",
    "WINDOW_DAYS",
    "WORSENING_POINTS",
    "Episode",
    "PainStatus",
    "Window",
    "WindowMean",
    "baseline_window",
    "current_window",
    "day0_from",
    "episode_step",
    "epoch_us",
    "is_worsening",
    "pain_status",
    "shift_days",
    "slow_start",
    "wall_clock",
    "wall_us",
    "week_index",
    "window_mean",
]

WINDOW_DAYS = int(DEFAULT_WINDOW_DAYS)
MIN_ENTRIES = DEFAULT_MIN_ENTRIES
WORSENING_POINTS = MCID["nrs"]
_WEEK = dt.timedelta(days=7)
_ONE_US = dt.timedelta(microseconds=1)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_NAIVE_EPOCH = dt.datetime(1970, 1, 1)  # noqa: DTZ001 - the origin of wall-clock times
#: Microseconds in a day and in a plan week, for the integer forms below.
US_PER_DAY = 86_400_000_000
US_PER_WEEK = 7 * US_PER_DAY
SLOW_START_WEEKS = (3, 4)
SLOW_START_PCT = 15.0
# Comparisons of means with the threshold keep a hair of slack for float sums.
_EPS = 1e-9


def wall_clock(at: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """The patient's local wall-clock time of an aware moment (naive)."""
    if at.tzinfo is None:
        raise ValueError("aware datetimes only")
    return at.astimezone(tz).replace(tzinfo=None)


def epoch_us(at: dt.datetime) -> int:
    """An aware moment as exact integer microseconds since 1970 (UTC)."""
    return (at - _EPOCH) // _ONE_US


def wall_us(at: dt.datetime, tz: ZoneInfo) -> int:
    """The patient's wall-clock time of an aware moment as integer microseconds since
    1970 on that clock: plan weeks are ``(wall_us(at) - wall_us(day0)) // US_PER_WEEK``,
    exactly :func:`week_index`, in a form numpy can take whole arrays of."""
    return (wall_clock(at, tz) - _NAIVE_EPOCH) // _ONE_US


def _aware(wall: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """A wall-clock time in ``tz`` as an aware moment in UTC; in a gap (clocks going
    forward) or an overlap (clocks going back) the earlier reading (fold 0) is taken, which
    for a midnight is the start of that local day. UTC, because Python compares and
    subtracts two datetimes of the same zone by their wall clocks."""
    return wall.replace(tzinfo=tz).astimezone(dt.UTC)


def shift_days(at: dt.datetime, days: int, tz: ZoneInfo) -> dt.datetime:
    """The same local time ``days`` calendar days later (earlier if negative)."""
    return _aware(wall_clock(at, tz) + dt.timedelta(days=days), tz)


def day0_from(tz: ZoneInfo, plan_start: dt.date | None, first_nrs: dt.datetime | None) -> dt.datetime | None:
    """Day 0: the plan start at local midnight, else the first NRS entry, else None."""
    if plan_start is not None:
        return _aware(dt.datetime.combine(plan_start, dt.time()), tz)
    return first_nrs


@dataclass(frozen=True)
class Window:
    """A time window; ``closed_end`` windows are ``(start, end]``, the others ``[start, end)``."""

    start: dt.datetime
    end: dt.datetime
    closed_end: bool = False

    def __contains__(self, at: object) -> bool:
        if not isinstance(at, dt.datetime):
            return False
        if self.closed_end:
            return self.start < at <= self.end
        return self.start <= at < self.end


def baseline_window(day0: dt.datetime, tz: ZoneInfo) -> Window:
    """Plan week 0: ``[day 0, day 0 + 7 days)`` on the patient's wall clock."""
    return Window(day0, shift_days(day0, WINDOW_DAYS, tz))


def week_index(at: dt.datetime, day0: dt.datetime, tz: ZoneInfo) -> int:
    """The plan week of a moment (negative before day 0)."""
    return (wall_clock(at, tz) - wall_clock(day0, tz)) // _WEEK


def current_window(anchor: dt.datetime, tz: ZoneInfo) -> Window:
    """The 7 days up to ``anchor``: ``(anchor - 7 days, anchor]`` on the wall clock."""
    return Window(shift_days(anchor, -WINDOW_DAYS, tz), anchor, closed_end=True)


@dataclass(frozen=True)
class WindowMean:
    total: float
    n: int

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n else None

    @property
    def enough(self) -> bool:
        return self.n >= MIN_ENTRIES


def window_mean(entries: Iterable[tuple[dt.datetime, float]], window: Window) -> WindowMean:
    """Sum and count of the finite scores recorded inside ``window``."""
    total, n = 0.0, 0
    for at, value in entries:
        if at in window and value is not None and math.isfinite(value):
            total += value
            n += 1
    return WindowMean(total, n)


def is_worsening(baseline: WindowMean, current: WindowMean) -> bool:
    """The worsening-pain rule (module docstring): both means on >= 3 entries and the
    current one >= baseline + 2 points."""
    if not (baseline.enough and current.enough) or baseline.mean is None or current.mean is None:
        return False
    return current.mean >= baseline.mean + WORSENING_POINTS - _EPS


@dataclass(frozen=True)
class PainStatus:
    """A patient's pain against the baseline at ``anchor`` (see the module docstring)."""

    day0: dt.datetime | None
    baseline: WindowMean
    current: WindowMean
    anchor: dt.datetime
    baseline_complete: bool

    @property
    def baseline_mean(self) -> float | None:
        return self.baseline.mean

    @property
    def current_mean(self) -> float | None:
        return self.current.mean

    @property
    def delta(self) -> float | None:
        if self.baseline.mean is None or self.current.mean is None:
            return None
        return self.current.mean - self.baseline.mean

    @property
    def worsening(self) -> bool:
        return self.baseline_complete and is_worsening(self.baseline, self.current)

    @property
    def recovered(self) -> bool:
        """The current mean is known (>= 3 entries) and below the worsening threshold."""
        if not self.baseline.enough or not self.current.enough:
            return False
        return not is_worsening(self.baseline, self.current)


def pain_change_pct(status: PainStatus) -> float | None:
    """Change of the current 7-day mean from the baseline, in percent of the baseline
    (negative: less pain). None unless both windows hold >= 3 entries and the baseline is
    above 0, the same conditions as the responder and slow-start rules."""
    baseline, current = status.baseline.mean, status.current.mean
    if not (status.baseline.enough and status.current.enough) or baseline is None or current is None:
        return None
    if baseline <= 0:
        return None
    return 100.0 * (current - baseline) / baseline


def slow_start(status: PainStatus, tz: ZoneInfo) -> bool:
    """The slow-start mark (module docstring): plan week 3 or 4 at the anchor, and the
    current mean less than 15 % below a baseline above 0, both on >= 3 entries."""
    if status.day0 is None or not (status.baseline.enough and status.current.enough):
        return False
    if week_index(status.anchor, status.day0, tz) not in SLOW_START_WEEKS:
        return False
    baseline, current = status.baseline.mean, status.current.mean
    if baseline is None or current is None or baseline <= 0:
        return False
    return 100.0 * (baseline - current) / baseline < SLOW_START_PCT - _EPS


def pain_status(
    entries: Iterable[tuple[dt.datetime, float]],
    *,
    tz: ZoneInfo,
    day0: dt.datetime | None,
    anchor: dt.datetime,
) -> PainStatus:
    """Baseline and current window of one patient's NRS entries ``(recorded_at, score)``
    (at least those of the two windows); entries before day 0 count in neither."""
    empty = WindowMean(0.0, 0)
    if day0 is None:
        return PainStatus(None, empty, empty, anchor, baseline_complete=False)
    baseline = baseline_window(day0, tz)
    current = current_window(anchor, tz)
    since_day0 = [(at, value) for at, value in entries if at >= day0]
    return PainStatus(
        day0=day0,
        baseline=window_mean(since_day0, baseline),
        current=window_mean(since_day0, current),
        anchor=anchor,
        baseline_complete=anchor >= baseline.end,
    )


class Episode(enum.Enum):
    """What an evaluation does to the patient's worsening episode."""

    START = "start"  # the rule holds and no episode is open: raise the alert
    END = "end"  # an episode is open and the mean is back below the threshold
    NONE = "none"  # nothing changes


def episode_step(status: PainStatus, *, open_episode: bool) -> Episode:
    """Start at most one episode while the rule holds; end it only on a known mean below
    the threshold (too few entries keep it open)."""
    if not open_episode:
        return Episode.START if status.worsening else Episode.NONE
    return Episode.END if status.recovered else Episode.NONE
