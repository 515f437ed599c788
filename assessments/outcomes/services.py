"""The cohort outcomes service: load the cohort a user may see (``selectors``), compute
its outcomes with the numpy engine (``engine``), summarise them (``summary``) and audit
the read with the patient ids it covered."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from assessments.outcomes import engine
from assessments.outcomes.selectors import (
    HORIZON_WEEKS,
    MIN_ENTRIES,
    QUESTIONNAIRE_MCID,
    RESPONSE_PCT,
    THERMAL_THRESHOLD_C,
    WINDOW_DAYS,
    CohortArrays,
    CohortFilters,
    cohort_arrays,
)
from assessments.outcomes.summary import cohort_summary
from patients.audit import Actor, audit_list_record

__all__ = ["CohortOutcomes", "cohort_outcomes"]


@dataclass(frozen=True, eq=False)
class CohortOutcomes:
    """Engine results for one cohort, plus the JSON-ready ``summary``."""

    arrays: CohortArrays
    filters: CohortFilters
    pain: engine.PainOutcomes
    trajectory: engine.Trajectory
    time_to_response: engine.TimeToResponse
    km: engine.KaplanMeier
    thermal: engine.ThermalRecovery
    questionnaires: dict[str, engine.ScoreChange]
    summary: dict[str, Any] = field(default_factory=dict)


def cohort_outcomes(
    *,
    actor: Actor,
    filters: CohortFilters,
    horizon_weeks: int = HORIZON_WEEKS,
    case_series: bool = False,
    audit_as: str = "cohort_outcomes",
    today: dt.date | None = None,
) -> CohortOutcomes:
    """Load, compute and audit the cohort outcomes the actor may see."""
    arrays = cohort_arrays(actor.user, filters, horizon_weeks=horizon_weeks, case_series=case_series, today=today)
    outcomes = _compute(arrays, filters)
    outcomes.summary.update(cohort_summary(outcomes))
    audit_list_record(
        actor=actor,
        object_type=audit_as,
        patient_ids=arrays.patient_ids.tolist(),
        detail={"filters": filters.as_dict()},
    )
    return outcomes


def _compute(arrays: CohortArrays, filters: CohortFilters) -> CohortOutcomes:
    n = arrays.n
    w = arrays.nrs_windows
    pain = engine.pain_outcomes_from_windows(
        w.baseline_total,
        w.n_baseline,
        w.current_total,
        w.n_current,
        w.last_day,
        window_days=WINDOW_DAYS,
        min_entries=MIN_ENTRIES,
    )
    weekly = arrays.nrs_weekly
    trajectory = engine.weekly_trajectory_of_means(weekly.week, weekly.mean, max_week=arrays.horizon_weeks - 1)
    # Time to response at weekly resolution, over the weeks with enough entries.
    enough = weekly.n >= MIN_ENTRIES
    ttr = engine.time_to_response_weekly(
        weekly.idx[enough], weekly.week[enough], weekly.mean[enough], n, threshold_pct=RESPONSE_PCT
    )
    weeks_to_response = (ttr.durations + 1.0) / 7.0  # completed plan weeks (see summary's censoring marks)
    t = arrays.thermal
    return CohortOutcomes(
        arrays=arrays,
        filters=filters,
        pain=pain,
        trajectory=trajectory,
        time_to_response=ttr,
        km=engine.kaplan_meier(weeks_to_response, ttr.event),
        thermal=engine.thermal_recovery(t.idx, t.day, t.value, n, threshold=THERMAL_THRESHOLD_C),
        questionnaires={
            code: engine.score_change(e.idx, e.day, e.value, n, mcid=QUESTIONNAIRE_MCID[code])
            for code, e in arrays.questionnaires.items()
        },
    )
