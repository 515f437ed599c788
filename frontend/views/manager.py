"""Clinic manager pages under /clinic/outcomes/: the cohort outcomes dashboard.

Managers and clinic administrators see their clinic's cohort, therapists their care-team
patients (the one access rule, ``patients.access.visible_patients``); anyone else gets
404. The filter form refreshes only the results through htmx (``#results`` partial), so
the response varies on ``HX-Request``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import numpy as np
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from assessments.outcomes.api import filter_errors_or_filters
from assessments.outcomes.exports import case_series_rows
from assessments.outcomes.services import CohortOutcomes, cohort_outcomes
from frontend import cohort_charts
from patients.access import primary_role, staff_roles
from patients.audit import Actor
from patients.models import Diagnosis
from therapies.modality_names import modality_choices

#: Rows of the case series shown on the page; the CSV has them all.
CASE_SERIES_ON_PAGE = 100


# Instrument abbreviations as printed on the forms (the same in every language).
INSTRUMENT_NAMES = {"nrs": "NRS", "vas": "VAS", "phq9": "PHQ-9", "gad7": "GAD-7", "odi": "ODI", "dn4": "DN4"}


def _chart_labels() -> dict[str, str]:
    return {
        "responders_title": _("Responders by diagnosis"),
        # xgettext:no-python-format
        "responders30": _("≥30 % reduction"),
        # xgettext:no-python-format
        "responders50": _("≥50 % reduction"),
        "share": _("Evaluable patients (%)"),
        "trajectory_title": _("Pain (NRS) by week since plan start"),
        "week": _("Week since plan start"),
        "nrs": _("NRS (0–10)"),
        "median": _("Median"),
        "iqr": _("Interquartile range"),
        # xgettext:no-python-format
        "km_title": _("Time to response (≥30 % reduction)"),
        "weeks": _("Weeks since plan start"),
        "wk": _("wk"),
        "not_responded": _("Not yet responded"),
        "ci": _("95 % CI"),
        "censored": _("Censored"),
        "waterfall_title": _("Change in pain per patient"),
        "patients": _("Patients (sorted)"),
        "patients_grouped": _("Patients (sorted); each bar is the median of a group of neighbours"),
        "patients_short": pgettext("ranks in a chart", "Patients"),
        "pct_change": _("Change from baseline (%)"),
        # xgettext:no-python-format
        "forest_title": _("Responders ≥30 % by diagnosis and by plan modality"),
        # xgettext:no-python-format
        "forest_axis": _("Responders ≥30 % (%, 95 % CI)"),
        "all_patients": _("All patients"),
        "too_few": _("too few to judge"),
    }


def _charts(outcomes: CohortOutcomes) -> dict[str, dict[str, Any]]:
    summary = outcomes.summary
    labels = _chart_labels()
    overall = {
        "label": _("All patients"),
        "responders30": summary["responders"]["30"],
        "responders50": summary["responders"]["50"],
    }
    traj = summary["trajectory"]
    ttr = summary["time_to_response"]
    pain = outcomes.pain
    figures = {
        "responders": cohort_charts.responder_bars([overall, *summary["groups"]["diagnosis"]], labels=labels),
        "trajectory": cohort_charts.trajectory(
            traj["weeks"],
            traj["median"],
            traj["q1"],
            traj["q3"],
            traj["n"],
            labels=labels,
        ),
        "forest": cohort_charts.forest(
            [
                (str(_("Diagnosis")), summary["groups"]["diagnosis"]),
                (str(_("Modality")), summary["groups"]["modality"]),
            ],
            summary["responders"]["30"],
            labels=labels,
        ),
        "km": cohort_charts.km_curve(ttr["points"], censored=ttr["censored_at"], labels=labels),
        "waterfall": cohort_charts.waterfall(
            pain.pct_change[pain.valid & np.isfinite(pain.pct_change)].tolist(),
            labels=labels,
        ),
    }
    return {name: cohort_charts.as_json_data(fig) for name, fig in figures.items()}


@login_required
@require_GET
def outcomes(request: HttpRequest) -> HttpResponse:
    if not staff_roles(request.user):
        raise Http404
    filters, errors = filter_errors_or_filters(request.GET)
    context: dict[str, Any] = {
        "errors": errors,
        "values": {key: request.GET.get(key, "") for key in ("diagnosis", "modality", "since", "until")},
        "diagnosis_choices": Diagnosis.choices,
        "modality_choices": modality_choices(),
        "role": primary_role(request.user),
    }
    if filters is not None:
        result = cohort_outcomes(
            actor=Actor.from_request(request),
            filters=filters,
            case_series=True,
            audit_as="cohort_outcomes.page",
        )
        rows = case_series_rows(result)
        context.update(
            summary=result.summary,
            mcid_rows=[
                (INSTRUMENT_NAMES.get(code, code.upper()), rate) for code, rate in result.summary["mcid"].items()
            ],
            charts=_charts(result),
            case_series=rows[:CASE_SERIES_ON_PAGE],
            case_series_total=len(rows),
            export_query=urlencode({k: v for k, v in filters.as_dict().items() if v}),
        )
    template = "frontend/manager/outcomes.html"
    htmx = request.htmx  # type: ignore[attr-defined]
    if htmx and not htmx.history_restore_request:  # a history restore needs the whole page
        template += "#results"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request",))
    return response
