"""Adherence to a home exercise programme, per exercise, and the responses that stand out.

Pure: dates and numbers in, dataclasses out. Rules, over the last ``WINDOW_DAYS`` days in
the patient's time zone:

- expected sessions: for every day the exercise was prescribed (in any plan version),
  sessions_per_week / 7; a day counts as done when a log with at least one set exists;
- **skipped**: at least 2 sessions were expected and fewer than half were done, or the
  exercise was prescribed at least twice a week through the last 7 days and not done once
  in them;
- **flare**: a log whose pain after the exercise is at least ``FLARE_POINTS`` (2) above the
  patient's recent level: the median of their pain entries (NRS 0-10, VAS mm / 10) in the
  ``BASELINE_DAYS`` (14) days up to that day; without such entries, the median of their
  other exercises' "pain after" answers in those days (at least two needed, else no
  judgement is made);
- **too hard**: the last two answers about the exercise were both "too hard".
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

WINDOW_DAYS = 28
RECENT_DAYS = 7
BASELINE_DAYS = 14
FLARE_POINTS = 2
SHOWN_RESPONSES = 8


@dataclass(frozen=True)
class Prescribed:
    """An exercise prescribed at ``per_week`` sessions from ``start`` to ``end`` (inclusive)."""

    exercise_id: int
    start: dt.date
    end: dt.date | None
    per_week: int


@dataclass(frozen=True)
class LogPoint:
    exercise_id: int
    date: dt.date
    sets_done: int
    pain_after: int | None
    difficulty: str


@dataclass(frozen=True)
class ExerciseAdherence:
    exercise_id: int
    expected: float
    done_days: int
    percent: float | None
    last_done: dt.date | None
    skipped: bool
    too_hard: bool
    flares: list[LogPoint] = field(default_factory=list)
    responses: list[LogPoint] = field(default_factory=list)  # newest first

    @property
    def stands_out(self) -> bool:
        return self.skipped or self.too_hard or bool(self.flares)


def _expected(spans: Sequence[Prescribed], first: dt.date, last: dt.date) -> float:
    """Expected sessions between two days (inclusive); overlapping versions count once a day."""
    per_day: dict[dt.date, int] = {}
    for span in spans:
        start = max(span.start, first)
        end = min(span.end or last, last)
        day = start
        while day <= end:
            per_day[day] = span.per_week  # a later version's dose replaces an earlier one
            day += dt.timedelta(days=1)
    return sum(per_day.values()) / 7


def pain_baseline(
    day: dt.date, pain: Sequence[tuple[dt.date, float]], logs: Sequence[LogPoint], exercise_id: int
) -> float | None:
    """The patient's recent pain level before ``day`` (see the module's flare rule)."""
    since = day - dt.timedelta(days=BASELINE_DAYS)
    entries = [value for when, value in pain if since <= when <= day]
    if entries:
        return float(statistics.median(entries))
    others = [
        log.pain_after
        for log in logs
        if log.pain_after is not None and log.exercise_id != exercise_id and since <= log.date <= day
    ]
    return float(statistics.median(others)) if len(others) >= 2 else None


def _one(
    exercise_id: int,
    spans: Sequence[Prescribed],
    logs: Sequence[LogPoint],
    everything: Sequence[LogPoint],
    pain: Sequence[tuple[dt.date, float]],
    today: dt.date,
) -> ExerciseAdherence:
    first = today - dt.timedelta(days=WINDOW_DAYS - 1)
    in_window = sorted((log for log in logs if first <= log.date <= today), key=lambda log: log.date, reverse=True)
    done = {log.date for log in in_window if log.sets_done > 0}
    expected = _expected(spans, first, today)
    recent_first = today - dt.timedelta(days=RECENT_DAYS - 1)
    recent_expected = _expected(spans, recent_first, today)
    gone_quiet = recent_expected >= 2 and not any(day >= recent_first for day in done)
    skipped = (expected >= 2 and len(done) < expected / 2) or gone_quiet
    flares = []
    for log in in_window:
        if log.pain_after is None:
            continue
        baseline = pain_baseline(log.date, pain, everything, exercise_id)
        if baseline is not None and log.pain_after >= baseline + FLARE_POINTS:
            flares.append(log)
    answers = [log.difficulty for log in in_window if log.difficulty]
    return ExerciseAdherence(
        exercise_id=exercise_id,
        expected=round(expected, 1),
        done_days=len(done),
        percent=round(min(100.0, 100 * len(done) / expected), 0) if expected >= 1 else None,
        last_done=max(done) if done else None,
        skipped=skipped,
        too_hard=answers[:2] == ["too_hard", "too_hard"],
        flares=flares,
        responses=in_window[:SHOWN_RESPONSES],
    )


def programme_adherence(
    *,
    prescribed: Iterable[Prescribed],
    logs: Iterable[LogPoint],
    pain: Iterable[tuple[dt.date, float]],
    today: dt.date,
) -> list[ExerciseAdherence]:
    """One result per exercise ever prescribed, in order of first prescription."""
    spans: dict[int, list[Prescribed]] = {}
    for span in sorted(prescribed, key=lambda s: s.start):
        spans.setdefault(span.exercise_id, []).append(span)
    all_logs = list(logs)
    by_exercise: dict[int, list[LogPoint]] = {}
    for log in all_logs:
        by_exercise.setdefault(log.exercise_id, []).append(log)
    pain_points = sorted(pain)
    return [
        _one(exercise_id, exercise_spans, by_exercise.get(exercise_id, []), all_logs, pain_points, today)
        for exercise_id, exercise_spans in spans.items()
    ]
