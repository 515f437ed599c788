"""Cohort outcomes API for clinic staff: the summary (JSON) and two CSV exports.

``GET /api/v1/cohort/outcomes/?diagnosis=&modality=&since=&until=`` (DESIGN contract),
``GET /api/v1/cohort/outcomes.csv`` (de-identified per-patient rows) and
``GET /api/v1/cohort/case-series.csv`` (the published case-series layout). Managers and
clinic administrators get their clinic's cohort, therapists their care-team patients
(``patients.access.visible_patients``); every read is audited with the patient ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.http import HttpResponse, QueryDict
from django.utils import translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assessments.outcomes.exports import (
    CASE_SERIES_COLUMNS,
    CASE_SERIES_LABELS,
    GROUP_CSV_COLUMNS,
    PATIENT_CSV_COLUMNS,
    case_series_rows,
    group_rows,
    patient_rows,
    write_csv,
)
from assessments.outcomes.selectors import CohortFilters
from assessments.outcomes.services import CohortOutcomes, cohort_outcomes
from config.tables import XLSX_TYPE, numbers_typed, xlsx_response
from patients.access import staff_roles
from patients.audit import Actor
from patients.models import Diagnosis
from therapies.models import MODALITY_CHOICES

FILTER_NAMES = ("diagnosis", "modality", "since", "until")
_IGNORED = frozenset({"format", "lang"})  # DRF's renderer override; the case series' language


class CohortFilterSerializer(serializers.Serializer[dict[str, Any]]):
    """The four filters; an empty value is the same as leaving the filter out."""

    diagnosis = serializers.ChoiceField(choices=Diagnosis.choices, required=False)
    modality = serializers.ChoiceField(choices=MODALITY_CHOICES, required=False)
    since = serializers.DateField(required=False, help_text="Plan start on or after this date (YYYY-MM-DD).")
    until = serializers.DateField(required=False, help_text="Plan start on or before this date (YYYY-MM-DD).")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("since") and attrs.get("until") and attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"until": ["until is before since."]})
        return attrs


def filter_errors_or_filters(
    query: QueryDict | dict[str, Any],
) -> tuple[CohortFilters | None, dict[str, Any]]:
    """Parse query parameters: (filters, {}) or (None, errors naming each bad field).

    Unknown parameters are refused too, so that a typo (``diagnoses=``) cannot silently
    widen the cohort a summary is about.
    """
    data = {key: query.get(key) for key in query if query.get(key) not in (None, "")}
    unknown = sorted(set(data) - set(FILTER_NAMES) - _IGNORED)
    serializer = CohortFilterSerializer(data={k: v for k, v in data.items() if k in FILTER_NAMES})
    valid = serializer.is_valid()
    errors: dict[str, Any] = dict(serializer.errors) if not valid else {}
    for key in unknown:
        errors[key] = [f"Unknown filter; use {', '.join(FILTER_NAMES)}."]
    if errors:
        return None, errors
    return CohortFilters(**serializer.validated_data), {}


def _filters(request: Request) -> CohortFilters:
    if not staff_roles(request.user):
        raise PermissionDenied("Cohort outcomes are for clinic staff.")
    filters, errors = filter_errors_or_filters(request.query_params)
    if filters is None:
        raise serializers.ValidationError(errors)
    return filters


_FILTER_PARAMETERS = [
    OpenApiParameter(
        "diagnosis",
        str,
        enum=Diagnosis.values,
        description="Patients with this diagnosis code.",
    ),
    OpenApiParameter(
        "modality",
        str,
        enum=[code for code, _label in MODALITY_CHOICES],
        description="Patients whose current plan has this modality.",
    ),
    OpenApiParameter("since", str, description="Plan start (day 0) on or after, YYYY-MM-DD."),
    OpenApiParameter("until", str, description="Plan start (day 0) on or before, YYYY-MM-DD."),
]

_CI95 = inline_serializer(
    "Interval95",
    {"low": serializers.FloatField(allow_null=True), "high": serializers.FloatField(allow_null=True)},
)
_RATE = inline_serializer(
    "CohortRate",
    {
        "count": serializers.IntegerField(),
        "n": serializers.IntegerField(),
        "pct": serializers.FloatField(allow_null=True),
        "ci95": _CI95,
        "too_few": serializers.BooleanField(help_text="Fewer than 10 patients: too few to judge."),
    },
)
_MEDIAN = inline_serializer(
    "CohortMedian",
    {
        "value": serializers.FloatField(allow_null=True),
        "n": serializers.IntegerField(),
        "ci95": _CI95,
        "too_few": serializers.BooleanField(help_text="Fewer than 10 patients: too few to judge."),
    },
)


class CohortOutcomesApi(APIView):
    """The cohort summary: responders (>= 30 %, >= 50 % NRS reduction), MCID attainment
    per instrument, median change, thermal-symmetry recovery, adherence, time to response
    (Kaplan-Meier points), weekly median (IQR) trajectories, and the same by diagnosis,
    plan modality, primary therapist and plan-start quarter.

    Every rate and median carries its 95 % interval as ``ci95`` (Wilson for rates,
    fixed-seed bootstrap for medians, Greenwood log-log for the Kaplan-Meier curve) and
    ``too_few`` when it rests on fewer than 10 patients."""

    @extend_schema(
        parameters=_FILTER_PARAMETERS,
        responses=inline_serializer(
            "CohortOutcomes",
            {
                "filters": serializers.DictField(),
                "definitions": serializers.DictField(),
                "n_patients": serializers.IntegerField(),
                "n_synthetic": serializers.IntegerField(help_text="Synthetic (made-up demo) patients among them."),
                "n_valid": serializers.IntegerField(),
                "responders": serializers.DictField(child=_RATE),
                "mcid": serializers.DictField(child=serializers.DictField()),
                "baseline_median": _MEDIAN,
                "current_median": _MEDIAN,
                "median_change": _MEDIAN,
                "median_pct_change": _MEDIAN,
                "thermal": serializers.DictField(),
                "adherence": serializers.DictField(),
                "time_to_response": serializers.DictField(),
                "trajectory": serializers.DictField(),
                "groups": serializers.DictField(child=serializers.ListField(child=serializers.DictField())),
                "early_response": serializers.DictField(
                    help_text="2 x 2 tables: NRS improvement at plan week 3 (>= 15 %, >= 30 %) against "
                    "being a responder at week 12, with each group's response rate and its 95 % interval."
                ),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        filters = _filters(request)
        outcomes = cohort_outcomes(actor=Actor.from_request(request), filters=filters)
        response = Response(outcomes.summary)
        response["Cache-Control"] = "private, no-store"
        return response


def _csv_export(
    request: Request,
    filename: str,
    header: Sequence[str],
    rows: Callable[[CohortOutcomes], Iterable[Sequence[Any]]],
    *,
    audit_as: str,
    case_series: bool = False,
    workbook: bool = False,
) -> HttpResponse:
    """The cohort the caller may see, under the request's filters, as a CSV download
    (audited as ``audit_as``, never cached; ``exports.write_csv``), or as an Excel workbook
    whose numeric columns are numbers."""
    outcomes = cohort_outcomes(
        actor=Actor.from_request(request),
        filters=_filters(request),
        case_series=case_series,
        audit_as=audit_as.replace(".csv", ".xlsx") if workbook else audit_as,
    )
    if workbook:
        stem = filename.removesuffix(".csv")
        response = xlsx_response(f"{stem}.xlsx", header, (numbers_typed(row) for row in rows(outcomes)))
    else:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        write_csv(response, header, rows(outcomes))
    response["Cache-Control"] = "private, no-store"
    return response


class CohortOutcomesCsvApi(APIView):
    """One de-identified row per patient: pseudonymous code (stable keyed hash), diagnoses,
    sex, age at plan start, baseline and current NRS, change, % change, responder and MCID
    flags (1 / 0, blank where there is too little data), thermal recovery, adherence %."""

    @extend_schema(parameters=_FILTER_PARAMETERS, responses={(200, "text/csv"): str})
    def get(self, request: Request) -> HttpResponse:
        return _csv_export(
            request, "cohort-outcomes.csv", PATIENT_CSV_COLUMNS, patient_rows, audit_as="cohort_outcomes.csv"
        )


class CohortOutcomesXlsxApi(APIView):
    """The per-patient outcomes (as ``cohort/outcomes.csv``) as an Excel workbook."""

    @extend_schema(parameters=_FILTER_PARAMETERS, responses={(200, XLSX_TYPE): OpenApiTypes.BINARY})
    def get(self, request: Request) -> HttpResponse:
        return _csv_export(
            request,
            "cohort-outcomes.csv",
            PATIENT_CSV_COLUMNS,
            patient_rows,
            audit_as="cohort_outcomes.csv",
            workbook=True,
        )


class CohortGroupsCsvApi(APIView):
    """Outcomes by diagnosis, plan modality, primary therapist and plan-start quarter, side
    by side: responders (>= 30 %, >= 50 %) and NRS MCID with Wilson 95 % intervals, median
    change with bootstrap 95 % intervals, and "too few to judge" (< 10 patients). A
    comparison of groups, not evidence that a diagnosis or modality caused a difference."""

    @extend_schema(parameters=_FILTER_PARAMETERS, responses={(200, "text/csv"): str})
    def get(self, request: Request) -> HttpResponse:
        return _csv_export(request, "cohort-groups.csv", GROUP_CSV_COLUMNS, group_rows, audit_as="cohort_groups.csv")


class CohortGroupsXlsxApi(APIView):
    """The outcomes by group (as ``cohort/groups.csv``) as an Excel workbook."""

    @extend_schema(parameters=_FILTER_PARAMETERS, responses={(200, XLSX_TYPE): OpenApiTypes.BINARY})
    def get(self, request: Request) -> HttpResponse:
        return _csv_export(
            request, "cohort-groups.csv", GROUP_CSV_COLUMNS, group_rows, audit_as="cohort_groups.csv", workbook=True
        )


class CohortCaseSeriesCsvApi(APIView):
    """The case series as clinicians publish it: date (plan start), sex, age, trigger,
    course (months from pain onset to plan start), diagnosis basis (diagnoses, DN4,
    thermal ΔT), sessions delivered, pain outcome (baseline → current, % change).

    Without ``lang`` the header row holds the column codes (for programs); with
    ``lang=en`` or ``lang=zh-hans`` headings and values are written in that language,
    ready for a publication's table."""

    @extend_schema(
        parameters=[
            *_FILTER_PARAMETERS,
            OpenApiParameter("lang", str, enum=["en", "zh-hans"], description="Headings and values in this language."),
        ],
        responses={(200, "text/csv"): str, 400: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> HttpResponse:
        lang = request.query_params.get("lang")
        if lang is not None and lang not in _CASE_SERIES_LANGUAGES:
            raise serializers.ValidationError({"lang": [f"Use one of: {', '.join(_CASE_SERIES_LANGUAGES)}."]})

        def export() -> HttpResponse:
            header = [str(CASE_SERIES_LABELS[c]) for c in CASE_SERIES_COLUMNS] if lang else CASE_SERIES_COLUMNS
            return _csv_export(
                request,
                f"cohort-case-series-{lang}.csv" if lang else "cohort-case-series.csv",
                header,
                lambda outcomes: ([row[c] for c in CASE_SERIES_COLUMNS] for row in case_series_rows(outcomes)),
                audit_as="cohort_case_series.csv",
                case_series=True,
            )

        if lang is None:
            return export()
        with translation.override(lang):
            return export()


_CASE_SERIES_LANGUAGES = ("en", "zh-hans")
