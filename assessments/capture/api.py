"""REST API for instruments, assessments, offline sync and exports."""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterator
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assessments.capture.content_packs import current_packs, instrument_text
from assessments.capture.selectors import assessment_series
from assessments.capture.services import assessment_record, safety_signal_for_rejected
from assessments.instruments import INSTRUMENTS
from assessments.models import Assessment, Source
from config.api import AwareDateTimeField, LimitOffsetPagination, as_lists, created_response
from config.errors import ConflictError, InvalidInput
from config.parsers import text_errors
from config.tables import XLSX_TYPE, csv_response, xlsx_response
from patients.access import Action, PatientNotFound, own_patient_id, patient_get_for
from patients.api import get_patient
from patients.audit import Actor
from patients.models import Patient

MAX_SYNC_ENTRIES = 200


class InstrumentListApi(APIView):
    """Every instrument with bilingual labels, items, options, range, bands, cutoff, MCID."""

    permission_classes = (AllowAny,)  # public reference data, needed by the PWA's app shell

    @extend_schema(
        responses=inline_serializer(
            "Instrument",
            {
                "code": serializers.CharField(),
                "name": serializers.DictField(),
                "text_available": serializers.BooleanField(
                    help_text="False for a licensed instrument (ODI) until the clinic loads its wording as a "
                    "content pack: the patient app does not offer it then."
                ),
                "content_pack": serializers.DictField(
                    allow_null=True,
                    help_text="Loaded wording per language ({language: {version, kind, title, sections: {item "
                    "key: {title, statements}}}}); kind is licensed, placeholder or test. null when the "
                    "instrument needs none or none is loaded.",
                ),
            },
            many=True,
        )
    )
    def get(self, request: Request) -> Response:
        packs = current_packs()
        return Response(
            [{**instrument.as_dict(), **instrument_text(code, packs)} for code, instrument in INSTRUMENTS.items()]
        )


class AssessmentOutputSerializer(serializers.Serializer[Assessment]):
    id = serializers.IntegerField()
    patient = serializers.IntegerField(source="patient_id")
    instrument = serializers.CharField()
    answers = serializers.JSONField()
    total = serializers.FloatField(allow_null=True)
    band = serializers.SerializerMethodField(help_text="null when the entry is not scored (total null).")
    flags = serializers.ListField(child=serializers.CharField())
    detail = serializers.JSONField()
    recorded_at = serializers.DateTimeField()
    received_at = serializers.DateTimeField()
    is_late = serializers.BooleanField()
    client_uuid = serializers.UUIDField()
    source = serializers.CharField()  # type: ignore[assignment]  # a declared field, popped by the metaclass; stubs see Field.source
    completes = serializers.IntegerField(source="supersedes_id", allow_null=True)
    supersedes = serializers.UUIDField(source="supersedes_uuid", allow_null=True)

    def get_band(self, obj: Assessment) -> str | None:
        return obj.band or None


class AssessmentInputSerializer(serializers.Serializer[Any]):
    """One assessment body (single POST or sync entry). Its view receives text that could
    break a record marked, not refused (``text_checked_by_view``), so that a PHQ-9 with
    such text elsewhere still raises its item-9 alert; it is refused here, field named."""

    instrument = serializers.ChoiceField(choices=list(INSTRUMENTS))
    answers = serializers.JSONField()
    recorded_at = AwareDateTimeField()
    client_uuid = serializers.UUIDField()
    supersedes = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="client_uuid of an earlier entry of the same patient and instrument that this one completes "
        "(the finished PHQ-9 names its safety-signal entry).",
    )

    def to_internal_value(self, data: Any) -> Any:
        bad_text = text_errors(data)
        if bad_text:
            raise serializers.ValidationError(bad_text)
        return super().to_internal_value(data)


def _source_for(request: Request, patient: Patient) -> str:
    return Source.PATIENT if own_patient_id(request.user) == patient.pk else Source.CLINICIAN


def _record(request: Request, patient: Patient, data: dict[str, Any]) -> Any:
    return assessment_record(
        actor=Actor.from_request(request),
        patient=patient,
        instrument=data["instrument"],
        answers=data["answers"],
        recorded_at=data["recorded_at"],
        client_uuid=data["client_uuid"],
        source=_source_for(request, patient),
        supersedes=data.get("supersedes"),
    )


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    if not isinstance(value, str):
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _safety_for_invalid_body(request: Request, patient: Patient, body: Any, errors: Any) -> dict[str, str]:
    """A body refused before it reached the service: a valid PHQ-9 item 9 > 0 in it still
    raises the safety alert, deduped on its client_uuid (or, without a readable one, on the
    body itself so that resends find the same alert)."""
    if not isinstance(body, dict):
        return {}
    client_uuid = _uuid_or_none(body.get("client_uuid")) or uuid.uuid5(
        uuid.NAMESPACE_URL, "rejected-entry:" + json.dumps(body, sort_keys=True, default=str)
    )
    raised = safety_signal_for_rejected(
        actor=Actor.from_request(request),
        patient=patient,
        instrument=body.get("instrument"),
        answers=body.get("answers"),
        client_uuid=client_uuid,
        supersedes=_uuid_or_none(body.get("supersedes")),
        reason=errors,
    )
    return {"safety_alert": "raised"} if raised else {}


class AssessmentListCreateApi(APIView):
    text_checked_by_view = True  # see AssessmentInputSerializer
    pagination_class = LimitOffsetPagination

    class FilterSerializer(serializers.Serializer[Any]):
        instrument = serializers.ChoiceField(choices=list(INSTRUMENTS), required=False)
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if "since" in attrs and "until" in attrs and attrs["since"] > attrs["until"]:
                raise serializers.ValidationError({"until": "until is before since."})
            return attrs

    @extend_schema(
        parameters=[
            OpenApiParameter("instrument", str, enum=list(INSTRUMENTS)),
            OpenApiParameter("since", str, description="ISO 8601 date-time"),
            OpenApiParameter("until", str, description="ISO 8601 date-time"),
        ],
        responses=AssessmentOutputSerializer(many=True),
    )
    def get(self, request: Request, patient_id: int) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        patient = get_patient(request, patient_id, audit="list", object_type="assessment")
        qs = assessment_series(patient, **filters.validated_data)
        paginator = LimitOffsetPagination()
        paginator.default_limit = 1000
        paginator.max_limit = 5000
        page = paginator.paginate_queryset(qs, request, view=self) or []
        return paginator.get_paginated_response(AssessmentOutputSerializer(page, many=True).data)  # type: ignore[arg-type]  # stubs do not model many=True (typeddjango/djangorestframework-stubs#260)

    @extend_schema(
        request=AssessmentInputSerializer, responses={201: AssessmentOutputSerializer, 200: AssessmentOutputSerializer}
    )
    def post(self, request: Request, patient_id: int) -> Response:
        patient = get_patient(request, patient_id, Action.REPORT, log_access=False)
        if _source_for(request, patient) == Source.CLINICIAN:
            # Anything a clinician enters needs the clinical right (care team, therapist).
            patient = get_patient(request, patient_id, Action.CLINICAL, log_access=False)
        serializer = AssessmentInputSerializer(data=request.data)
        if not serializer.is_valid():
            raise InvalidInput(
                dict(serializer.errors),
                extra=_safety_for_invalid_body(request, patient, request.data, serializer.errors),
            )
        data = serializer.validated_data
        recorded = _record(request, patient, data)
        body = AssessmentOutputSerializer(recorded.assessment).data
        return created_response(body, recorded.created)


class SyncApi(APIView):
    """Offline queue upload: each entry is handled on its own, so one bad entry does not
    reject the others; the answer lists a result per entry, in order. A rejected entry
    whose PHQ-9 item 9 is a valid answer above 0 still raises the safety alert, and its
    result says ``"safety_alert": "raised"``."""

    text_checked_by_view = True  # an entry with bad text is rejected alone (EntrySerializer)

    class EntrySerializer(AssessmentInputSerializer):
        patient = serializers.IntegerField()

    @extend_schema(
        request=inline_serializer("SyncRequest", {"entries": serializers.ListField(child=serializers.DictField())}),
        responses=inline_serializer("SyncResponse", {"results": serializers.ListField(child=serializers.DictField())}),
    )
    def post(self, request: Request) -> Response:
        if isinstance(request.data, dict):
            # Entries are checked one by one (EntrySerializer); anything else in the body here.
            bad_text = text_errors({key: value for key, value in request.data.items() if key != "entries"})
            if bad_text:
                raise serializers.ValidationError(bad_text)
        entries = request.data.get("entries") if isinstance(request.data, dict) else None
        if not isinstance(entries, list):
            raise serializers.ValidationError({"entries": ["A list of assessment entries is required."]})
        if len(entries) > MAX_SYNC_ENTRIES:
            raise serializers.ValidationError({"entries": [f"At most {MAX_SYNC_ENTRIES} entries per request."]})
        results = [self._one(request, index, entry) for index, entry in enumerate(entries)]
        return Response({"results": results})

    def _one(self, request: Request, index: int, entry: Any) -> dict[str, Any]:
        client_uuid = entry.get("client_uuid") if isinstance(entry, dict) else None
        head: dict[str, Any] = {"index": index, "client_uuid": client_uuid}
        if not isinstance(entry, dict):
            return _rejected(head, {"entry": ["Each entry must be a JSON object."]})
        serializer = self.EntrySerializer(data=entry)
        if not serializer.is_valid():
            return {
                **_rejected(head, serializer.errors),
                **self._safety_for_invalid(request, entry, serializer.errors),
            }
        data = serializer.validated_data
        actor = Actor.from_request(request)
        try:
            patient = patient_get_for(
                actor, data["patient"], action=self._action(request, data["patient"]), log_access=False
            )
            recorded = _record(request, patient, data)
        except PatientNotFound:
            return _rejected(head, {"patient": ["No such patient."]})
        except (InvalidInput, ConflictError) as exc:
            return {**_rejected(head, as_lists(exc.errors)), **exc.extra}
        return {
            **head,
            "status": "created" if recorded.created else "duplicate",
            "id": recorded.assessment.pk,
            "assessment": AssessmentOutputSerializer(recorded.assessment).data,
        }

    @staticmethod
    def _action(request: Request, patient_id: int) -> Action:
        return Action.REPORT if own_patient_id(request.user) == patient_id else Action.CLINICAL

    def _safety_for_invalid(self, request: Request, entry: dict[str, Any], errors: Any) -> dict[str, str]:
        patient_id = entry.get("patient")
        if isinstance(patient_id, bool) or not isinstance(patient_id, int):
            return {}
        try:
            patient = patient_get_for(
                Actor.from_request(request), patient_id, action=self._action(request, patient_id), log_access=False
            )
        except PatientNotFound:
            return {}
        return _safety_for_invalid_body(request, patient, entry, errors)


def _rejected(head: dict[str, Any], errors: Any) -> dict[str, Any]:
    """A rejected entry: the field errors, and one readable reason for the app to show."""
    return {**head, "status": "rejected", "reason": _first_reason(errors), "errors": errors}


def _first_reason(errors: Any, path: str = "") -> str:
    if isinstance(errors, dict):
        for key, value in errors.items():
            return _first_reason(value, f"{path}.{key}" if path else str(key))
    if isinstance(errors, list | tuple) and errors:
        return _first_reason(errors[0], path)
    return f"{path}: {errors}" if path else str(errors)


CSV_COLUMNS = ("patient_id", "instrument", "recorded_at", "total", "band", "flags", "is_late", "source", "client_uuid")


def assessment_rows(rows: Any) -> Iterator[list[Any]]:
    """One export row per assessment, in CSV_COLUMNS order."""
    for a in rows:
        yield [
            a.patient_id,
            a.instrument,
            a.recorded_at.isoformat(),
            a.total,
            a.band,
            " ".join(a.flags),
            int(a.is_late),
            a.source,
            str(a.client_uuid),
        ]


class AssessmentCsvApi(APIView):
    @extend_schema(responses={(200, "text/csv"): str})
    def get(self, request: Request, patient_id: int) -> HttpResponse:
        patient = get_patient(request, patient_id, audit="export.csv", object_type="assessment")
        response = csv_response(f"patient-{patient.pk}-assessments.csv")
        writer = csv.writer(response)
        writer.writerow(CSV_COLUMNS)
        for row in assessment_rows(assessment_series(patient).iterator()):
            total = row[3]
            writer.writerow([*row[:3], "" if total is None else f"{total:g}", *row[4:]])
        return response


class AssessmentXlsxApi(APIView):
    @extend_schema(responses={(200, XLSX_TYPE): OpenApiTypes.BINARY})
    def get(self, request: Request, patient_id: int) -> HttpResponse:
        patient = get_patient(request, patient_id, audit="export.xlsx", object_type="assessment")
        rows = assessment_rows(assessment_series(patient).iterator())
        return xlsx_response(f"patient-{patient.pk}-assessments.xlsx", CSV_COLUMNS, rows, sheet="assessments")


class AssessmentDetailApi(APIView):
    @extend_schema(responses=AssessmentOutputSerializer)
    def get(self, request: Request, patient_id: int, assessment_id: int) -> Response:
        patient = get_patient(request, patient_id, audit="view", object_type="assessment")
        assessment = Assessment.objects.filter(patient=patient, pk=assessment_id).first()
        if assessment is None:
            raise NotFound("No such assessment.")
        return Response(AssessmentOutputSerializer(assessment).data)
