"""Adherence and the weekly pattern of a rehab plan (pure: standard library only).

Adherence of one plan component = sessions done / sessions prescribed to date, where

* prescribed to date = floor(frequency_per_week x days elapsed / 7), days counted from
  the plan's start date up to and including "today" in the patient's time zone, and
  capped at the component's duration (so a finished component stays at its total);
* done = home-exercise logs marked done + therapy sessions delivered, each dated in the
  patient's time zone, inside the same window [start date, min(today, last day)].

A session or log is attributed to the component it names when that component belongs to
the plan; otherwise (no component given, or a component of an earlier plan version) to
the first component of the plan with the same modality. Done counts above the
prescription are reported as they are, but the percentage is capped at 100 so that extra
sessions of one component cannot hide missed sessions of another in the overall figure.
A component with nothing prescribed yet (day 1 of a 5-per-week plan, or frequency 0)
has no percentage (``None``) rather than a misleading 0 % or 100 %.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "WEEKDAYS",
    "ComponentAdherence",
    "ComponentSpec",
    "Done",
    "PlanAdherence",
    "PlanDates",
    "component_window",
    "plan_adherence",
    "plan_end",
    "plan_in_effect",
    "prescribed_to_date",
    "weekly_pattern",
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Where n sessions a week fall, Monday = 0. Up to five a week stay on working days
# (clinic sessions), spread so that there is rest between them; six and seven add the
# weekend. Above seven, sessions are spread over every day (see weekly_pattern).
_PATTERNS: dict[int, tuple[int, ...]] = {
    0: (),
    1: (0,),
    2: (0, 3),
    3: (0, 2, 4),
    4: (0, 1, 3, 4),
    5: (0, 1, 2, 3, 4),
    6: (0, 1, 2, 3, 4, 5),
    7: (0, 1, 2, 3, 4, 5, 6),
}


def weekly_pattern(frequency_per_week: int) -> tuple[int, ...]:
    """Sessions on each weekday, Monday first: ``weekly_pattern(3) == (1, 0, 1, 0, 1, 0, 0)``.

    Twelve a week gives two sessions on Monday to Friday and one at the weekend.
    """
    if frequency_per_week < 0:
        raise ValueError("frequency_per_week must not be negative")
    base, extra = divmod(frequency_per_week, 7)
    counts = [base] * 7
    for day in _PATTERNS[extra]:
        counts[day] += 1
    return tuple(counts)


@dataclass(frozen=True)
class ComponentSpec:
    """What adherence needs to know about one plan component."""

    id: int
    modality: str
    frequency_per_week: int
    duration_weeks: int


@dataclass(frozen=True)
class Done:
    """One delivered session or home-exercise log marked done, on a patient-local date."""

    on: dt.date
    modality: str
    component_id: int | None = None


@dataclass(frozen=True)
class ComponentAdherence:
    component_id: int
    prescribed_total: int
    prescribed_to_date: int
    done: int
    percent: float | None
    window_start: dt.date
    window_end: dt.date

    def as_dict(self) -> dict[str, object]:
        return {
            "component": self.component_id,
            "prescribed_total": self.prescribed_total,
            "prescribed_to_date": self.prescribed_to_date,
            "done": self.done,
            "percent": self.percent,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
        }


@dataclass(frozen=True)
class PlanAdherence:
    as_of: dt.date
    components: tuple[ComponentAdherence, ...] = field(default_factory=tuple)

    @property
    def prescribed_to_date(self) -> int:
        return sum(c.prescribed_to_date for c in self.components)

    @property
    def done(self) -> int:
        return sum(c.done for c in self.components)

    @property
    def percent(self) -> float | None:
        """Overall: capped done over prescribed, summed over components."""
        prescribed = self.prescribed_to_date
        if prescribed == 0:
            return None
        counted = sum(min(c.done, c.prescribed_to_date) for c in self.components)
        return _percent(counted, prescribed)

    def by_component(self) -> dict[int, ComponentAdherence]:
        return {c.component_id: c for c in self.components}

    def as_dict(self) -> dict[str, object]:
        return {
            "as_of": self.as_of.isoformat(),
            "percent": self.percent,
            "done": self.done,
            "prescribed_to_date": self.prescribed_to_date,
            "components": {str(c.component_id): c.as_dict() for c in self.components},
        }


def _percent(done: int, prescribed: int) -> float:
    return round(100.0 * min(done, prescribed) / prescribed, 1)


def component_window(start: dt.date, duration_weeks: int) -> tuple[dt.date, dt.date]:
    """First and last day of a component: ``duration_weeks`` whole weeks from ``start``."""
    return start, start + dt.timedelta(days=7 * duration_weeks - 1)


def prescribed_to_date(frequency_per_week: int, duration_weeks: int, start: dt.date, today: dt.date) -> int:
    """Sessions prescribed from ``start`` up to and including ``today``, capped at the total.

    >>> prescribed_to_date(5, 2, dt.date(2026, 3, 2), dt.date(2026, 3, 8))   # one full week
    5
    >>> prescribed_to_date(5, 2, dt.date(2026, 3, 2), dt.date(2026, 3, 2))   # day 1: 5/7
    0
    >>> prescribed_to_date(5, 2, dt.date(2026, 3, 2), dt.date(2026, 6, 1))   # after the end
    10
    """
    if frequency_per_week < 0 or duration_weeks < 0:
        raise ValueError("frequency and duration must not be negative")
    days = (today - start).days + 1
    if days <= 0:
        return 0
    days = min(days, 7 * duration_weeks)
    # Integer arithmetic: floor(f x d / 7) without float rounding at week boundaries.
    return (frequency_per_week * days) // 7


def _attribute(components: Sequence[ComponentSpec], done: Iterable[Done]) -> dict[int, list[dt.date]]:
    ids = {c.id for c in components}
    first_of_modality: dict[str, int] = {}
    for component in components:
        first_of_modality.setdefault(component.modality, component.id)
    dates: dict[int, list[dt.date]] = {c.id: [] for c in components}
    for item in done:
        if item.component_id is not None and item.component_id in ids:
            target: int | None = item.component_id
        else:
            target = first_of_modality.get(item.modality)
        if target is not None:
            dates[target].append(item.on)
    return dates


def plan_adherence(
    components: Sequence[ComponentSpec], done: Iterable[Done], *, start: dt.date, today: dt.date
) -> PlanAdherence:
    """Adherence of every component of a plan that started on ``start``, as of ``today``."""
    dates = _attribute(components, done)
    results = []
    for component in components:
        first, last = component_window(start, component.duration_weeks)
        until = min(today, last)
        count = sum(1 for on in dates[component.id] if first <= on <= until)
        prescribed = prescribed_to_date(component.frequency_per_week, component.duration_weeks, start, today)
        results.append(
            ComponentAdherence(
                component_id=component.id,
                prescribed_total=component.frequency_per_week * component.duration_weeks,
                prescribed_to_date=prescribed,
                done=count,
                percent=_percent(count, prescribed) if prescribed else None,
                window_start=first,
                window_end=last,
            )
        )
    return PlanAdherence(as_of=today, components=tuple(results))


# -----------------------------------------------------------------------------
# Which plan version a patient follows on a given day
# -----------------------------------------------------------------------------

ACTIVE = "active"
ENDED = "ended"
SCHEDULED = "scheduled"


@dataclass(frozen=True)
class PlanDates:
    """One plan version's days: ``end`` is None for a version without components."""

    version: int
    start: dt.date
    end: dt.date | None


def plan_end(start: dt.date, durations_weeks: Iterable[int]) -> dt.date | None:
    """Last day of a plan: the last day of its longest component (None without components)."""
    weeks = list(durations_weeks)
    return component_window(start, max(weeks))[1] if weeks else None


def plan_in_effect(versions: Sequence[PlanDates], today: dt.date) -> tuple[PlanDates | None, str]:
    """The version to show the patient on ``today`` (their local date) and its status.

    A version governs from its start date until a higher version starts. When the
    governing version is running, it is ``active``. When it is over (its last day is
    before today) or none has started yet, the next version to start is shown as
    ``scheduled``; with nothing to come, the ended version is shown as ``ended``, so
    a patient is never offered a finished plan to mark done.

    >>> v1 = PlanDates(1, dt.date(2026, 3, 2), dt.date(2026, 3, 15))
    >>> plan_in_effect([v1], dt.date(2026, 3, 15))[1], plan_in_effect([v1], dt.date(2026, 3, 16))[1]
    ('active', 'ended')
    >>> v2 = PlanDates(2, dt.date(2026, 3, 20), dt.date(2026, 4, 2))
    >>> plan_in_effect([v1, v2], dt.date(2026, 3, 16))
    (PlanDates(version=2, start=datetime.date(2026, 3, 20), end=datetime.date(2026, 4, 2)), 'scheduled')
    """

    def governing(day: dt.date) -> PlanDates | None:
        started = [v for v in versions if v.start <= day]
        return max(started, key=lambda v: v.version) if started else None

    current = governing(today)
    if current is not None and (current.end is None or current.end >= today):
        return current, ACTIVE
    # A later version that a higher one overrides from the start never governs.
    upcoming = [v for v in versions if v.start > today and governing(v.start) == v]
    if upcoming:
        return min(upcoming, key=lambda v: v.start), SCHEDULED
    return current, ENDED
