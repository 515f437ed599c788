"""REST API: me, patients, care team, consent. One APIView per operation."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import LimitOffsetPagination
from patients.access import (
    Action,
    PatientNotFound,
    own_patient_id,
    patient_get_for,
    primary_role,
    staff_roles,
    visible_patients,
)
from patients.audit import Actor, audit_list_record
from patients.models import (
    CareTeamMember,
    Clinic,
    Consent,
    ConsentKind,
    Diagnosis,
    Language,
    Patient,
    Sex,
    Side,
    validate_time_zone,
)
from patients.services import (
    care_team_add,
    care_team_remove,
    consent_record,
    consents_in_force,
    patient_create,
    patient_update,
)


def get_patient(
    request: Request,
    patient_id: int,
    action: Action = Action.VIEW,
    *,
    audit: str | None = None,
    log_access: bool = True,
    object_type: str = "patient",
) -> Patient:
    """The API's wrapper of the access helper: forbidden and missing are both 404."""
    try:
        return patient_get_for(
            Actor.from_request(request),
            patient_id,
            action=action,
            audit=audit,
            log_access=log_access,
            object_type=object_type,
        )
    except PatientNotFound as exc:
        raise NotFound("No such patient.") from exc


class MeApi(APIView):
    class OutputSerializer(serializers.Serializer[dict[str, Any]]):
        id = serializers.IntegerField()
        username = serializers.CharField()
        role = serializers.CharField(allow_null=True)
        patient_id = serializers.IntegerField(allow_null=True)
        clinics = serializers.ListField(child=serializers.DictField())
        language = serializers.CharField()

    @extend_schema(responses=OutputSerializer)
    def get(self, request: Request) -> Response:

        user = request.user
        roles = staff_roles(user)
        clinics = [
            {"id": c.pk, "name": c.name, "time_zone": c.time_zone, "role": roles[c.pk]}
            for c in Clinic.objects.filter(pk__in=roles).order_by("name")
        ]
        patient_id = own_patient_id(user)
        language = request.LANGUAGE_CODE if hasattr(request, "LANGUAGE_CODE") else "en"
        if patient_id is not None:
            language = Patient.objects.filter(pk=patient_id).values_list("language", flat=True).first() or language
        data = {
            "id": user.pk,
            "username": user.get_username(),
            "role": primary_role(user),
            "patient_id": patient_id,
            "clinics": clinics,
            "language": language,
        }
        return Response(self.OutputSerializer(data).data)


class PatientOutputSerializer(serializers.Serializer[Patient]):
    id = serializers.IntegerField()
    clinic = serializers.IntegerField(source="clinic_id")
    display_name = serializers.CharField()
    sex = serializers.CharField()
    birth_year = serializers.IntegerField(allow_null=True)
    diagnoses = serializers.ListField(child=serializers.CharField())
    affected_side = serializers.CharField()
    pain_onset = serializers.DateField(allow_null=True)
    pain_trigger = serializers.CharField()
    time_zone = serializers.CharField()
    language = serializers.CharField()
    is_active = serializers.BooleanField()
    is_synthetic = serializers.BooleanField(help_text="Made-up demo data, not a real person.")
    has_login = serializers.SerializerMethodField()
    care_team = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_has_login(self, obj: Patient) -> bool:
        return obj.user_id is not None

    def get_care_team(self, obj: Patient) -> list[dict[str, Any]]:
        return [
            {"user": m.user_id, "username": m.user.get_username(), "is_primary": m.is_primary}
            for m in obj.care_team.all()
        ]


def _time_zone_field(**kwargs: Any) -> serializers.CharField:
    def check(value: str) -> None:
        try:
            validate_time_zone(value)
        except Exception as exc:
            raise serializers.ValidationError(f"{value!r} is not an IANA time zone name (e.g. Asia/Shanghai).") from exc

    return serializers.CharField(max_length=64, validators=[check], **kwargs)


class PatientFieldsSerializer(serializers.Serializer[Any]):
    display_name = serializers.CharField(max_length=120)
    sex = serializers.ChoiceField(choices=Sex.choices, required=False)
    birth_year = serializers.IntegerField(required=False, allow_null=True, min_value=1900, max_value=2100)
    diagnoses = serializers.ListField(
        child=serializers.ChoiceField(choices=Diagnosis.choices), required=False, max_length=len(Diagnosis.values)
    )
    affected_side = serializers.ChoiceField(choices=Side.choices, required=False)
    pain_onset = serializers.DateField(required=False, allow_null=True)
    pain_trigger = serializers.CharField(required=False, allow_blank=True, max_length=120)
    time_zone = _time_zone_field(required=False)
    language = serializers.ChoiceField(choices=Language.choices, required=False)


class LoginSerializer(serializers.Serializer[Any]):
    username = serializers.RegexField(r"^[\w.@+-]{3,150}$", help_text="3–150 letters, digits or @.+-_")
    password = serializers.CharField(min_length=8, max_length=128, write_only=True)
    email = serializers.EmailField(required=False, allow_blank=True)


def _patients_page_qs(user: Any) -> QuerySet[Patient]:
    return (
        visible_patients(user)
        .select_related("clinic")
        .prefetch_related(Prefetch("care_team", queryset=CareTeamMember.objects.select_related("user")))
        .order_by("display_name", "id")
    )


class PatientListCreateApi(APIView):
    pagination_class = LimitOffsetPagination

    class InputSerializer(PatientFieldsSerializer):
        clinic = serializers.IntegerField(required=False)
        login = LoginSerializer(required=False)

    class FilterSerializer(serializers.Serializer[Any]):
        diagnosis = serializers.ChoiceField(choices=Diagnosis.choices, required=False)
        q = serializers.CharField(required=False, max_length=120)

    @extend_schema(parameters=[FilterSerializer], responses=PatientOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = _patients_page_qs(request.user)
        if code := filters.validated_data.get("diagnosis"):
            qs = qs.filter(diagnoses__icontains=f'"{code}"')
        if q := filters.validated_data.get("q"):
            qs = qs.filter(display_name__icontains=q)
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(qs, request, view=self) or []
        audit_list_record(actor=Actor.from_request(request), object_type="patient", patient_ids=[p.pk for p in page])
        return paginator.get_paginated_response(PatientOutputSerializer(page, many=True).data)  # type: ignore[arg-type]  # stubs do not model many=True (typeddjango/djangorestframework-stubs#260)

    @extend_schema(request=InputSerializer, responses={201: PatientOutputSerializer})
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        login = data.pop("login", None) or {}
        patient = patient_create(
            actor=Actor.from_request(request),
            clinic_id=data.pop("clinic", None),
            login_username=login.get("username"),
            login_password=login.get("password"),
            login_email=login.get("email", ""),
            **data,
        )
        patient = _patients_page_qs(request.user).get(pk=patient.pk)
        return Response(PatientOutputSerializer(patient).data, status=status.HTTP_201_CREATED)


class PatientDetailApi(APIView):
    class InputSerializer(PatientFieldsSerializer):
        display_name = serializers.CharField(max_length=120, required=False)
        is_active = serializers.BooleanField(required=False)

    @extend_schema(responses=PatientOutputSerializer)
    def get(self, request: Request, patient_id: int) -> Response:
        get_patient(request, patient_id)
        patient = _patients_page_qs(request.user).get(pk=patient_id)
        return Response(PatientOutputSerializer(patient).data)

    @extend_schema(request=InputSerializer, responses=PatientOutputSerializer)
    def patch(self, request: Request, patient_id: int) -> Response:
        patient = get_patient(request, patient_id, Action.MANAGE, log_access=False)
        serializer = self.InputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        unknown = set(request.data) - set(serializer.fields) if isinstance(request.data, dict) else set()
        if unknown:
            raise serializers.ValidationError({key: ["Unknown or read-only field."] for key in sorted(unknown)})
        patient_update(actor=Actor.from_request(request), patient=patient, data=dict(serializer.validated_data))
        patient = _patients_page_qs(request.user).get(pk=patient_id)
        return Response(PatientOutputSerializer(patient).data)


class CareTeamApi(APIView):
    class InputSerializer(serializers.Serializer[Any]):
        user = serializers.IntegerField()
        is_primary = serializers.BooleanField(default=False)

    @extend_schema(request=InputSerializer, responses={201: PatientOutputSerializer})
    def post(self, request: Request, patient_id: int) -> Response:
        patient = get_patient(request, patient_id, Action.MANAGE, log_access=False)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        care_team_add(
            actor=Actor.from_request(request),
            patient=patient,
            user_id=serializer.validated_data["user"],
            is_primary=serializer.validated_data["is_primary"],
        )
        patient = _patients_page_qs(request.user).get(pk=patient_id)
        return Response(PatientOutputSerializer(patient).data, status=status.HTTP_201_CREATED)


class CareTeamMemberApi(APIView):
    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, patient_id: int, user_id: int) -> Response:
        patient = get_patient(request, patient_id, Action.MANAGE, log_access=False)
        care_team_remove(actor=Actor.from_request(request), patient=patient, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConsentApi(APIView):
    class InputSerializer(serializers.Serializer[Any]):
        kind = serializers.ChoiceField(choices=ConsentKind.choices)
        granted = serializers.BooleanField()
        document_version = serializers.CharField(max_length=40, default="1")
        note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")

    class OutputSerializer(serializers.Serializer[Consent]):
        id = serializers.IntegerField()
        kind = serializers.CharField()
        granted = serializers.BooleanField()
        document_version = serializers.CharField()
        recorded_at = serializers.DateTimeField()
        recorded_by = serializers.IntegerField(source="recorded_by_id", allow_null=True)
        note = serializers.CharField()

    @extend_schema(
        responses=inline_serializer(
            "ConsentState",
            {
                "in_force": serializers.DictField(child=serializers.BooleanField()),
                "history": OutputSerializer(many=True),
            },
        )
    )
    def get(self, request: Request, patient_id: int) -> Response:
        patient = get_patient(request, patient_id, object_type="consent")
        history = list(patient.consents.all()[:200])
        # The stubs do not model many=True (typeddjango/djangorestframework-stubs#260).
        rows = self.OutputSerializer(history, many=True).data  # type: ignore[arg-type]
        return Response({"in_force": consents_in_force(patient), "history": rows})

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: Request, patient_id: int) -> Response:
        # Patients record their own consent; clinicians on the care team record it for them.
        patient = get_patient(request, patient_id, Action.REPORT, log_access=False)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        consent = consent_record(actor=Actor.from_request(request), patient=patient, **serializer.validated_data)
        return Response(self.OutputSerializer(consent).data, status=status.HTTP_201_CREATED)
