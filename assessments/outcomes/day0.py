"""Day 0 of patients as the database knows it: the inputs of ``windows.day0_from``.

Day 0 is the earliest plan start at local midnight, else the first NRS entry
(``assessments.outcomes.windows``). Its inputs are read here in one query for any number
of patients, for the worsening-pain alert and the weekly NRS sums kept at capture.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import OuterRef, Q, Subquery

from assessments.models import Assessment
from assessments.outcomes.windows import day0_from
from patients.models import Patient
from therapies.models import RehabPlan

__all__ = ["DayZeroInputs", "day0_inputs", "day0_subqueries", "nrs_q"]


def nrs_q() -> Q:
    """The NRS entries that count: scored ones."""
    return Q(instrument="nrs", total__isnull=False)


@dataclass(frozen=True)
class DayZeroInputs:
    """What day 0 is made of, per patient: time zone name, earliest plan start, first NRS."""

    patient_id: int
    time_zone: str
    plan_start: dt.date | None
    first_nrs_at: dt.datetime | None

    def day0(self, tz: ZoneInfo | None = None) -> dt.datetime | None:
        return day0_from(tz or ZoneInfo(self.time_zone), self.plan_start, self.first_nrs_at)


def day0_subqueries(patient: str = "pk") -> tuple[Subquery, Subquery]:
    """The earliest plan start and the first NRS entry of the patient whose id is
    ``OuterRef(patient)``: annotations (``plan_start``, ``first_nrs_at``) for any query
    that has the patient's id."""
    first_plan = RehabPlan.objects.filter(patient_id=OuterRef(patient)).order_by("start_date").values("start_date")[:1]
    first_nrs = (
        Assessment.objects.filter(nrs_q(), patient_id=OuterRef(patient))
        .order_by("recorded_at")
        .values("recorded_at")[:1]
    )
    return Subquery(first_plan), Subquery(first_nrs)


def day0_inputs(patient_ids: Iterable[int]) -> list[DayZeroInputs]:
    """One query: every listed (existing) patient's day-0 inputs, by id."""
    plan_start, first_nrs_at = day0_subqueries()
    rows = (
        Patient.objects.filter(pk__in=list(patient_ids))
        .annotate(plan_start=plan_start, first_nrs_at=first_nrs_at)
        .order_by("pk")
        .values_list("pk", "time_zone", "plan_start", "first_nrs_at")
    )
    return [DayZeroInputs(*row) for row in rows]
