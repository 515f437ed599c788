"""De-identified exports of the cohort outcomes: one row per patient (pseudonymous code,
no names, no dates), the summary's groupings side by side, and the case series in the
layout clinicians publish; and the CSV form they are downloaded in."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.outcomes.selectors import QUESTIONNAIRE_MCID
from assessments.outcomes.summary import thermal_followed_up
from patients.models import Diagnosis, Sex

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

    from assessments.outcomes.services import CohortOutcomes

__all__ = [
    "CASE_SERIES_COLUMNS",
    "CASE_SERIES_LABELS",
    "GROUP_CSV_COLUMNS",
    "PATIENT_CSV_COLUMNS",
    "case_series_rows",
    "group_rows",
    "patient_code",
    "patient_rows",
    "write_csv",
]


def patient_code(clinic_id: int, patient_id: int) -> str:
    """A stable pseudonym: keyed hash of clinic and patient (not reversible without the
    server's secret, the same in every export so rows can be followed over time)."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(),
        f"cohort:{clinic_id}:{patient_id}".encode(),
        hashlib.sha256,
    ).hexdigest()
    return f"P-{digest[:10].upper()}"


def _flag(value: bool, known: bool) -> str:
    return ("1" if value else "0") if known else ""


def _fmt(value: float, digits: int = 1) -> str:
    return f"{value:.{digits}f}" if math.isfinite(value) else ""


def _age(birth_year: int | None, on: dt.date | None) -> int | None:
    if birth_year is None:
        return None
    return (on or timezone.localdate()).year - birth_year


GROUP_CSV_COLUMNS = (
    "grouping",
    "group",
    "label",
    "patients",
    "with_data",
    *(
        f"{measure}_{part}"
        for measure in ("responders30", "responders50", "mcid_nrs")
        for part in ("count", "n", "pct", "ci95_low", "ci95_high", "too_few")
    ),
    *(
        f"{measure}_{part}"
        for measure in ("median_change", "median_pct_change", "median_adherence")
        for part in ("value", "n", "ci95_low", "ci95_high", "too_few")
    ),
)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def group_rows(outcomes: CohortOutcomes) -> Iterable[list[str]]:
    """The summary's groupings (diagnosis, plan modality, primary therapist, plan-start
    quarter) side by side, one row per group, each rate and median with its 95 %
    interval and the "too few to judge" mark: see GROUP_CSV_COLUMNS."""
    for grouping, rows in outcomes.summary["groups"].items():
        for row in rows:
            cells: list[Any] = [grouping, row["key"], row["label"], row["n"], row["n_valid"]]
            for key in ("responders30", "responders50", "mcid"):
                rate = row[key]
                cells += [
                    rate["count"],
                    rate["n"],
                    rate["pct"],
                    rate["ci95"]["low"],
                    rate["ci95"]["high"],
                    rate["too_few"],
                ]
            for key in ("median_change", "median_pct_change", "median_adherence"):
                median = row[key]
                cells += [
                    median["value"],
                    median["n"],
                    median["ci95"]["low"],
                    median["ci95"]["high"],
                    median["too_few"],
                ]
            yield [_cell(value) for value in cells]


PATIENT_CSV_COLUMNS = (
    "patient_code",
    "diagnoses",
    "sex",
    "age",
    "baseline_nrs",
    "current_nrs",
    "change",
    "pct_change",
    "responder30",
    "responder50",
    "mcid_nrs",
    "mcid_phq9",
    "mcid_gad7",
    "mcid_odi",
    "thermal_recovered",
    "adherence_pct",
    "synthetic",
)


def patient_rows(outcomes: CohortOutcomes) -> Iterable[list[str]]:
    """De-identified per-patient outcome rows (no names, no dates): see PATIENT_CSV_COLUMNS.
    Flags are 1 / 0, blank where the patient has too little data to tell."""
    a, pain, thermal = outcomes.arrays, outcomes.pain, outcomes.thermal
    thermal_known = thermal_followed_up(thermal)
    for i in range(a.n):
        valid = bool(pain.valid[i])
        row = [
            patient_code(int(a.clinic_ids[i]), int(a.patient_ids[i])),
            " ".join(a.diagnoses[i]),
            a.sex[i],
            str(_age(a.birth_year[i], a.day0_date[i]) or ""),
            _fmt(pain.baseline[i]),
            _fmt(pain.current[i]),
            _fmt(pain.change[i]) if valid else "",
            _fmt(pain.pct_change[i]) if valid else "",
            _flag(bool(pain.responder30[i]), valid),
            _flag(bool(pain.responder50[i]), valid),
            _flag(bool(pain.mcid[i]), valid),
        ]
        for code in QUESTIONNAIRE_MCID:
            change = outcomes.questionnaires[code]
            row.append(_flag(bool(change.mcid_reached[i]), bool(change.valid[i])))
        row.append(_flag(bool(thermal.recovered[i]), bool(thermal_known[i])))
        row.append(_fmt(a.adherence[i]))
        row.append("1" if a.synthetic[i] else "0")
        yield row


CASE_SERIES_COLUMNS = (
    "patient_code",
    "date",
    "sex",
    "age",
    "trigger",
    "course_months",
    "diagnosis_basis",
    "sessions",
    "pain_outcome",
)


#: Column headings of the case series as published (the seed's Table 1), translatable.
CASE_SERIES_LABELS = {
    "patient_code": gettext_lazy("Patient"),
    "date": gettext_lazy("Date"),
    "sex": gettext_lazy("Sex"),
    "age": gettext_lazy("Age (years)"),
    "trigger": gettext_lazy("Trigger"),
    "course_months": gettext_lazy("Course (months)"),
    "diagnosis_basis": gettext_lazy("Diagnosis basis"),
    "sessions": gettext_lazy("Sessions"),
    "pain_outcome": gettext_lazy("Pain outcome (NRS)"),
}


def _pain_outcome(outcomes: CohortOutcomes, i: int) -> str:
    """The case series' pain outcome: baseline → current (% change), responder class."""
    pain = outcomes.pain
    if not pain.valid[i]:
        return _("insufficient data")
    label = (
        # xgettext:no-python-format
        _("≥50 % responder")
        if pain.responder50[i]
        # xgettext:no-python-format
        else _("≥30 % responder")
        if pain.responder30[i]
        else _("non-responder")
    )
    pct = _fmt(pain.pct_change[i])
    if pct:
        return f"{pain.baseline[i]:.1f} → {pain.current[i]:.1f} ({pct} %), {label}"
    return f"{pain.baseline[i]:.1f} → {pain.current[i]:.1f}, {label}"


def _diagnosis_basis(outcomes: CohortOutcomes, i: int) -> str:
    """Diagnoses, the first DN4 and the first thermal asymmetry."""
    a, thermal = outcomes.arrays, outcomes.thermal
    basis = [", ".join(str(Diagnosis(c).label) if c in Diagnosis.values else c for c in a.diagnoses[i]) or "—"]
    if math.isfinite(a.dn4_total[i]):
        basis.append(f"DN4 {a.dn4_total[i]:g}/{a.dn4_max[i]:g}")
    if math.isfinite(thermal.first_delta[i]):
        basis.append(f"ΔT {thermal.first_delta[i]:.1f} °C")
    return "; ".join(basis)


def _case_row(outcomes: CohortOutcomes, i: int, sex_labels: dict[str, Any]) -> dict[str, str]:
    a = outcomes.arrays
    start = a.day0_date[i]
    onset = a.pain_onset[i]
    course = f"{(start - onset).days / 30.4375:.1f}" if start and onset and onset <= start else "—"
    age = _age(a.birth_year[i], start)
    return {
        "patient_code": patient_code(int(a.clinic_ids[i]), int(a.patient_ids[i])),
        "date": start.isoformat() if start else "—",
        "sex": str(sex_labels.get(a.sex[i], a.sex[i])),
        "age": str(age) if age is not None else "—",
        "trigger": a.pain_trigger[i] or "—",
        "course_months": course,
        "diagnosis_basis": _diagnosis_basis(outcomes, i),
        "sessions": str(int(a.sessions[i])),
        "pain_outcome": _pain_outcome(outcomes, i),
    }


def case_series_rows(outcomes: CohortOutcomes) -> list[dict[str, str]]:
    """One row per patient in the layout of a published case series (date, sex, age,
    trigger, course, diagnosis basis, treatment count, outcome), ordered by plan start.
    Course is months from pain onset to plan start; "—" where nothing is recorded."""
    a = outcomes.arrays
    sex_labels = dict(Sex.choices)
    order = sorted(range(a.n), key=lambda i: (a.day0_date[i] or dt.date.max, int(a.patient_ids[i])))
    return [_case_row(outcomes, i, sex_labels) for i in order]


def write_csv(out: SupportsWrite[str], header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A CSV export: UTF-8 with a byte-order mark (the caller's encoding), so that
    spreadsheet programs read Chinese text and symbols such as "≥" correctly."""
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
