"""FHIR R4 endpoints: a patient's record as a Bundle and each instrument as a Questionnaire.

Both answer ``application/fhir+json``. Errors keep the API's JSON error shape (a field name
mapped to messages, or ``detail``), like every other endpoint under ``/api/``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assessments.capture.selectors import assessments_for_export
from assessments.fhir import export as fhir
from assessments.fhir.definitions import UnknownQuestionnaire, as_json, questionnaire_resource
from assessments.instruments import INSTRUMENTS
from patients.api import get_patient

FHIR_JSON = "application/fhir+json"
FHIR_PATH = "/api/v1/fhir"


class FhirJsonRenderer(JSONRenderer):
    """JSON under FHIR's media type."""

    media_type = FHIR_JSON
    format = "fhir"


class FhirNegotiation(BaseContentNegotiation):
    """Always FHIR JSON, whatever the Accept header or ``?format=`` says: a client asking for
    ``application/json`` or ``application/fhir+json`` gets the same bytes, never a 406."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))
        return renderer, renderer.media_type


class FhirApiView(APIView):
    """Resources as ``application/fhir+json``; errors keep the API's ``application/json`` error shape."""

    renderer_classes = (FhirJsonRenderer,)
    content_negotiation_class = FhirNegotiation

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Response:
        if response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)


def fhir_base(request: Request) -> str:
    """The base of the app's canonical FHIR URLs: ``FHIR_CANONICAL_BASE`` when set (a stable
    public address), else this server's own ``/api/v1/fhir`` as the request reached it."""
    configured = str(getattr(settings, "FHIR_CANONICAL_BASE", "") or "")
    return configured.rstrip("/") if configured else request.build_absolute_uri(FHIR_PATH)


def parse_since(raw: str | None) -> dt.datetime | None:
    """FHIR ``_since``: an instant with a time zone; a bare ``+`` in a query string arrives as a space."""
    if raw is None or raw == "":
        return None
    value = raw.strip().replace(" ", "+")
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationError({"_since": ["Give an ISO 8601 instant, e.g. 2026-03-01T09:00:00+08:00."]})
    if timezone.is_naive(parsed):
        raise ValidationError({"_since": ["Give a time zone offset (ISO 8601, e.g. 2026-03-01T09:00:00+08:00)."]})
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:
        raise ValidationError({"_since": ["The instant is outside the years 1-9999 in UTC."]}) from None


FHIR_BUNDLE = inline_serializer(
    "FhirBundle",
    {
        "resourceType": serializers.CharField(),
        "type": serializers.CharField(),
        "timestamp": serializers.DateTimeField(),
        "total": serializers.IntegerField(),
        "entry": serializers.ListField(child=serializers.DictField()),
    },
)
FHIR_QUESTIONNAIRE = inline_serializer(
    "FhirQuestionnaire",
    {
        "resourceType": serializers.CharField(),
        "id": serializers.CharField(),
        "url": serializers.URLField(),
        "version": serializers.CharField(),
        "status": serializers.CharField(),
        "title": serializers.CharField(),
        "code": serializers.ListField(child=serializers.DictField(), required=False),
        "item": serializers.ListField(child=serializers.DictField()),
    },
)


class FhirBundleApi(FhirApiView):
    """The patient's record as a FHIR R4 ``$everything``-style searchset Bundle."""

    @extend_schema(
        operation_id="patient_fhir_everything",
        description=(
            "FHIR R4 searchset Bundle: Patient, QuestionnaireResponses (PHQ-9 and GAD-7 with LOINC item codes as "
            "linkIds and LOINC answer codes), Observations (LOINC codes and displays where they exist), "
            "Provenance for entries that complete an earlier one. `_since` keeps only resources changed at or "
            "after that instant (the Patient is always included)."
        ),
        parameters=[
            OpenApiParameter("_since", str, description="ISO 8601 instant with offset, e.g. 2026-03-01T09:00:00+08:00")
        ],
        responses={
            (200, FHIR_JSON): OpenApiResponse(FHIR_BUNDLE, description="FHIR R4 Bundle (type searchset)"),
            (400, "application/json"): OpenApiResponse(description="Invalid `_since`"),
            (404, "application/json"): OpenApiResponse(description="No such patient (or not visible to you)"),
        },
    )
    def get(self, request: Request, patient_id: int) -> Response:
        since = parse_since(request.query_params.get("_since"))
        patient = get_patient(request, patient_id, audit="export.fhir", object_type="fhir_bundle")
        bundle = fhir.patient_bundle(
            patient,
            assessments_for_export(patient, since=since),
            fhir_base=fhir_base(request),
            self_url=request.build_absolute_uri(),
            now=timezone.now(),
        )
        return Response(bundle)


class FhirQuestionnaireApi(FhirApiView):
    """An instrument's definition as a FHIR R4 Questionnaire (not patient data: any signed-in user)."""

    @extend_schema(
        operation_id="fhir_questionnaire_read",
        description=(
            "The instrument as a FHIR R4 Questionnaire, English text with zh-Hans translations (translation "
            "extension). PHQ-9 and GAD-7 carry their LOINC panel and item codes; linkIds are what the app's "
            "QuestionnaireResponses use. Licensed text (ODI statements) is absent. Codes: "
            + ", ".join(INSTRUMENTS)
            + "."
        ),
        parameters=[OpenApiParameter("code", str, OpenApiParameter.PATH, enum=list(INSTRUMENTS))],
        responses={
            (200, FHIR_JSON): OpenApiResponse(FHIR_QUESTIONNAIRE, description="FHIR R4 Questionnaire"),
            (404, "application/json"): OpenApiResponse(description="No instrument has this code"),
        },
    )
    def get(self, request: Request, code: str) -> Response:
        try:
            questionnaire = questionnaire_resource(code, fhir_base=fhir_base(request))
        except UnknownQuestionnaire as exc:
            raise NotFound(f"No questionnaire {code!r}; known: {', '.join(INSTRUMENTS)}.") from exc
        return Response(as_json(questionnaire))
