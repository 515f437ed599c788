"""REST API of the therapies app: modality catalogue, plans, sessions, home exercise, DREZ.

One APIView per resource, nested Input/Output serializers that only shape data; rules
live in ``therapies.services`` and the pure ``therapies.modalities`` catalogue. Every patient
is fetched through ``patients.api.get_patient`` (the access helper + audit).
"""

from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import (
    AwareDateTimeField,
    LimitOffsetPagination,
    StrictBooleanField,
    StrictCharField,
    StrictFloatField,
    StrictIntegerField,
    StrictUUIDField,
    created_response,
)
from patients.access import Action
from patients.api import get_patient
from patients.audit import Actor
from patients.models import Patient
from therapies import selectors
from therapies.adherence import ACTIVE, ENDED, SCHEDULED, PlanAdherence, component_window, weekly_pattern
from therapies.modalities import DREZ_CONTRAINDICATIONS, DREZ_FOLLOW_UP_ITEMS, MODALITIES
from therapies.models import (
    AdverseEvent,
    DrezDecision,
    PlanComponent,
    RehabPlan,
    Tolerance,
)
from therapies.services import (
    HOME_MODALITIES,
    MAX_DURATION_WEEKS,
    MAX_FREQUENCY_PER_WEEK,
    MAX_TEXT,
    drez_referral_create,
    home_exercise_log,
    patient_today,
    plan_version_create,
    session_record,
)

MAX_COMPONENTS = 30


def _text_field(**kwargs: Any) -> serializers.CharField:
    kwargs.setdefault("required", False)
    kwargs.setdefault("default", "")
    return StrictCharField(allow_blank=True, max_length=MAX_TEXT, trim_whitespace=True, **kwargs)


def _paginated(request: Request, view: APIView, qs: Any, serializer: type[serializers.Serializer[Any]]) -> Response:
    paginator = LimitOffsetPagination()
    page: list[Any] = paginator.paginate_queryset(qs, request, view=view) or []
    return paginator.get_paginated_response(serializer(page, many=True).data)


# -----------------------------------------------------------------------------
# Catalogue
# -----------------------------------------------------------------------------


class ModalityListApi(APIView):
    """The modality catalogue: parameters, safety limits with sources, evidence (en, zh-hans)."""

    class OutputSerializer(serializers.Serializer[Any]):
        code = serializers.CharField()
        layer = serializers.ChoiceField(choices=["central", "peripheral"])
        name = serializers.DictField(child=serializers.CharField(), help_text='{"en": ..., "zh-hans": ...}')
        short_name = serializers.CharField()
        params = serializers.ListField(child=serializers.DictField())
        derived = serializers.ListField(child=serializers.DictField())
        limits = serializers.ListField(child=serializers.DictField())
        evidence = serializers.DictField(child=serializers.CharField())
        home_loggable = serializers.BooleanField()

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(
            [{**modality.as_dict(), "home_loggable": code in HOME_MODALITIES} for code, modality in MODALITIES.items()]
        )


# -----------------------------------------------------------------------------
# Plans
# -----------------------------------------------------------------------------


class ComponentOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    order = serializers.IntegerField()
    modality = serializers.CharField()
    layer = serializers.CharField()
    name = serializers.SerializerMethodField()
    parameters = serializers.DictField()
    derived = serializers.DictField()
    frequency_per_week = serializers.IntegerField()
    duration_weeks = serializers.IntegerField()
    sessions_prescribed = serializers.IntegerField()
    week_pattern = serializers.SerializerMethodField(help_text="Sessions on Mon..Sun.")
    override_reason = serializers.CharField()
    overridden_limits = serializers.ListField(child=serializers.CharField())
    notes = serializers.CharField()

    def get_name(self, obj: PlanComponent) -> dict[str, str]:
        return MODALITIES[obj.modality].name.as_dict()

    def get_week_pattern(self, obj: PlanComponent) -> list[int]:
        return list(weekly_pattern(obj.frequency_per_week))


class PlanOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    reason = serializers.CharField()
    author = serializers.IntegerField(source="author_id", allow_null=True)
    author_username = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    start_date = serializers.DateField()
    end_date = serializers.SerializerMethodField()
    components = serializers.SerializerMethodField()
    central = serializers.SerializerMethodField()
    peripheral = serializers.SerializerMethodField()

    def _components(self, obj: RehabPlan, layer: str | None = None) -> list[dict[str, Any]]:
        rows = [c for c in obj.components.all() if layer is None or c.layer == layer]
        return ComponentOutputSerializer(rows, many=True).data  # type: ignore[return-value]

    def get_author_username(self, obj: RehabPlan) -> str:
        return obj.author.get_username() if obj.author is not None else ""

    def get_end_date(self, obj: RehabPlan) -> str | None:
        weeks = [c.duration_weeks for c in obj.components.all()]
        return component_window(obj.start_date, max(weeks))[1].isoformat() if weeks else None

    def get_components(self, obj: RehabPlan) -> list[dict[str, Any]]:
        return self._components(obj)

    def get_central(self, obj: RehabPlan) -> list[dict[str, Any]]:
        return self._components(obj, "central")

    def get_peripheral(self, obj: RehabPlan) -> list[dict[str, Any]]:
        return self._components(obj, "peripheral")


class CurrentPlanOutputSerializer(PlanOutputSerializer):
    status = serializers.SerializerMethodField(
        help_text=(
            "active: the version the patient follows today (their time zone). "
            "ended: its last day has passed and no later version is set to start; nothing is left to mark done. "
            "scheduled: no version is running today and this one starts on start_date."
        )
    )
    latest_version = serializers.SerializerMethodField(
        help_text="The highest version number: what a POST names as the version it replaces."
    )
    adherence = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ChoiceField(choices=[ACTIVE, ENDED, SCHEDULED]))
    def get_status(self, obj: RehabPlan) -> str:
        return str(self.context["status"])

    def get_latest_version(self, obj: RehabPlan) -> int:
        return int(self.context["latest_version"])

    def get_adherence(self, obj: RehabPlan) -> dict[str, Any]:
        adherence: PlanAdherence = self.context["adherence"]
        return adherence.as_dict()


def _no_plan() -> NotFound:
    # "code" tells a client this apart from an unknown (or forbidden) patient.
    return NotFound(
        {
            "detail": "This patient has no rehab plan yet; a therapist creates version 1 with POST (version null).",
            "code": "no_plan",
        }
    )


def _plan_response(patient: Patient, plan: RehabPlan, status_: str, latest: int, *, code: int) -> Response:
    adherence = selectors.plan_adherence_for(patient, plan)
    context = {"adherence": adherence, "status": status_, "latest_version": latest}
    return Response(CurrentPlanOutputSerializer(plan, context=context).data, status=code)


class PlanComponentInputSerializer(serializers.Serializer[Any]):
    modality = serializers.ChoiceField(choices=list(MODALITIES))
    parameters = serializers.JSONField(help_text="Keyed by the modality's param keys; see /api/v1/modalities/.")
    frequency_per_week = StrictIntegerField(min_value=0, max_value=MAX_FREQUENCY_PER_WEEK)
    duration_weeks = StrictIntegerField(min_value=1, max_value=MAX_DURATION_WEEKS)
    override_reason = _text_field(
        help_text=(
            "Required to go beyond a safety limit, and then at least 20 characters (shorter: 400 naming "
            "override_reason); recorded with the limits overridden. Ignored when no limit is exceeded."
        )
    )
    notes = _text_field()


class PlanApi(APIView):
    class InputSerializer(serializers.Serializer[Any]):
        version = StrictIntegerField(
            min_value=0,
            allow_null=True,
            required=False,
            default=None,
            help_text="The version this edit replaces (null or 0 for the first plan).",
        )
        reason = StrictCharField(max_length=MAX_TEXT)
        start_date = serializers.DateField(required=False, default=None, allow_null=True)
        # A ListField (not many=True) so that errors come keyed by index: {"components": {"1": {...}}}.
        components = serializers.ListField(
            child=PlanComponentInputSerializer(), max_length=MAX_COMPONENTS, allow_empty=True
        )

    @extend_schema(
        responses=CurrentPlanOutputSerializer,
        description=(
            "The version the patient follows today, with its status. An ended version stays readable "
            "(status ended) until a later one starts; a version set to start later is returned as scheduled "
            "when none is running. 404 with code no_plan when no version exists."
        ),
    )
    def get(self, request: Request, patient_id: int) -> Response:
        patient = get_patient(request, patient_id, object_type="rehab_plan")
        shown = selectors.plan_for_patient(patient)
        if shown is None:
            raise _no_plan()
        return _plan_response(patient, shown.plan, shown.status, shown.latest_version, code=status.HTTP_200_OK)

    @extend_schema(request=InputSerializer, responses={201: CurrentPlanOutputSerializer})
    def post(self, request: Request, patient_id: int) -> Response:
        patient = get_patient(request, patient_id, Action.CLINICAL, log_access=False)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        created = plan_version_create(
            actor=Actor.from_request(request),
            patient=patient,
            expected_version=data["version"],
            reason=data["reason"],
            components=data["components"],
            start_date=data["start_date"],
        )
        plan = selectors.plan_versions(patient).get(pk=created.pk)
        state = selectors.plan_status(plan, patient_today(patient))
        return _plan_response(patient, plan, state, plan.version, code=status.HTTP_201_CREATED)


class PlanVersionsApi(APIView):
    pagination_class = LimitOffsetPagination

    @extend_schema(responses=PlanOutputSerializer(many=True))
    def get(self, request: Request, patient_id: int) -> Response:
        patient = get_patient(request, patient_id, object_type="rehab_plan")
        return _paginated(request, self, selectors.plan_versions(patient), PlanOutputSerializer)


# -----------------------------------------------------------------------------
# Delivered sessions
# -----------------------------------------------------------------------------


class SessionOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    patient = serializers.IntegerField(source="patient_id")
    component = serializers.IntegerField(source="component_id", allow_null=True)
    modality = serializers.CharField()
    delivered_at = serializers.DateTimeField()
    delivered_by = serializers.IntegerField(source="delivered_by_id", allow_null=True)
    parameters = serializers.DictField()
    derived = serializers.DictField()
    adverse_event = serializers.CharField()
    adverse_event_note = serializers.CharField()
    tolerance = serializers.CharField()
    override_reason = serializers.CharField()
    overridden_limits = serializers.ListField(child=serializers.CharField())
    client_uuid = serializers.UUIDField()
    recorded_at = serializers.DateTimeField()


class SessionListCreateApi(APIView):
    pagination_class = LimitOffsetPagination

    class InputSerializer(serializers.Serializer[Any]):
        modality = serializers.ChoiceField(choices=list(MODALITIES), required=False, allow_null=True, default=None)
        component = StrictIntegerField(required=False, allow_null=True, default=None, min_value=1)
        delivered_at = AwareDateTimeField()
        parameters = serializers.JSONField(
            required=False, default=None, help_text="As delivered; omitted = the component's prescription."
        )
        adverse_event = serializers.ChoiceField(choices=AdverseEvent.choices, default=AdverseEvent.NONE)
        adverse_event_note = _text_field()
        tolerance = serializers.ChoiceField(choices=Tolerance.choices, required=False, allow_blank=True, default="")
        override_reason = _text_field(
            help_text=(
                "Required to go beyond a safety limit, and then at least 20 characters (shorter: 400 naming "
                "override_reason). Omitted for a prescribed override: the plan's reason is repeated."
            )
        )
        client_uuid = StrictUUIDField(required=False, default=None, allow_null=True)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if attrs.get("modality") is None and attrs.get("component") is None:
                raise serializers.ValidationError({"modality": "Give the modality, or the plan component delivered."})
            return attrs

    class FilterSerializer(serializers.Serializer[Any]):
        modality = serializers.ChoiceField(choices=list(MODALITIES), required=False)
        since = AwareDateTimeField(required=False)
        until = AwareDateTimeField(required=False)

    @extend_schema(parameters=[FilterSerializer], responses=SessionOutputSerializer(many=True))
    def get(self, request: Request, patient_id: int) -> Response:
        patient = get_patient(request, patient_id, object_type="therapy_session")
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.sessions_list(patient, **filters.validated_data)
        return _paginated(request, self, qs, SessionOutputSerializer)

    @extend_schema(request=InputSerializer, responses={201: SessionOutputSerializer, 200: SessionOutputSerializer})
    def post(self, request: Request, patient_id: int) -> Response:
        patient = get_patient(request, patient_id, Action.CLINICAL, log_access=False)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        recorded = session_record(
            actor=Actor.from_request(request),
            patient=patient,
            modality=data["modality"],
            component_id=data["component"],
            delivered_at=data["delivered_at"],
            parameters=data["parameters"],
            adverse_event=data["adverse_event"],
            adverse_event_note=data["adverse_event_note"],
            tolerance=data["tolerance"],
            override_reason=data["override_reason"],
            client_uuid=data["client_uuid"] or uuid.uuid4(),
        )
        return created_response(SessionOutputSerializer(recorded.obj).data, recorded.created)


# -----------------------------------------------------------------------------
# Home exercise
# -----------------------------------------------------------------------------


class HomeLogOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    patient = serializers.IntegerField(source="patient_id")
    component = serializers.IntegerField(source="component_id")
    modality = serializers.CharField(source="component.modality")
    date = serializers.DateField()
    done = serializers.BooleanField()
    minutes = serializers.IntegerField(allow_null=True)
    note = serializers.CharField()
    client_uuid = serializers.UUIDField()
    logged_at = serializers.DateTimeField()


class HomeExerciseApi(APIView):
    pagination_class = LimitOffsetPagination

    class InputSerializer(serializers.Serializer[Any]):
        component = StrictIntegerField(min_value=1)
        date = serializers.DateField(
            required=False, default=None, allow_null=True, help_text="Your local date; default today."
        )
        done = StrictBooleanField()
        minutes = StrictIntegerField(required=False, allow_null=True, default=None, min_value=0, max_value=600)
        note = _text_field()
        client_uuid = StrictUUIDField(required=False, default=None, allow_null=True)

    class FilterSerializer(serializers.Serializer[Any]):
        since = serializers.DateField(required=False)
        until = serializers.DateField(required=False)

    @extend_schema(parameters=[FilterSerializer], responses=HomeLogOutputSerializer(many=True))
    def get(self, request: Request, patient_id: int) -> Response:
        patient = get_patient(request, patient_id, object_type="home_exercise_log")
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.home_logs_list(patient, **filters.validated_data)
        return _paginated(request, self, qs, HomeLogOutputSerializer)

    @extend_schema(request=InputSerializer, responses={201: HomeLogOutputSerializer, 200: HomeLogOutputSerializer})
    def post(self, request: Request, patient_id: int) -> Response:
        patient = get_patient(request, patient_id, Action.REPORT, log_access=False)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        recorded = home_exercise_log(
            actor=Actor.from_request(request),
            patient=patient,
            component_id=data["component"],
            date=data["date"] or patient_today(patient),
            done=data["done"],
            minutes=data["minutes"],
            note=data["note"],
            client_uuid=data["client_uuid"] or uuid.uuid4(),
        )
        return created_response(HomeLogOutputSerializer(recorded.obj).data, recorded.created)


# -----------------------------------------------------------------------------
# DREZ referral
# -----------------------------------------------------------------------------


class DrezReferralApi(APIView):
    pagination_class = LimitOffsetPagination

    class InputSerializer(serializers.Serializer[Any]):
        decision = serializers.ChoiceField(choices=DrezDecision.choices)
        decision_note = _text_field(help_text="Required when referring a patient who does not meet every criterion.")
        course_months = StrictFloatField(required=False, min_value=0, help_text="Default: from the pain onset.")
        vas_mm = StrictFloatField(
            required=False, min_value=0, max_value=100, help_text="Default: latest VAS (or NRS x 10)."
        )
        age_years = StrictIntegerField(
            required=False, min_value=0, max_value=130, help_text="Default: from the birth year."
        )
        first_line_drugs_tried = StrictBooleanField()
        phq9_assessed = StrictBooleanField(required=False, help_text="Default: a PHQ-9 is on record.")
        gad7_assessed = StrictBooleanField(required=False, help_text="Default: a GAD-7 is on record.")
        contraindications = serializers.ListField(
            child=serializers.ChoiceField(choices=list(DREZ_CONTRAINDICATIONS)), required=False, default=list
        )
        follow_ups = serializers.DictField(
            child=StrictCharField(max_length=MAX_TEXT, allow_blank=True),
            required=False,
            default=dict,
            help_text=f"Keyed by: {', '.join(DREZ_FOLLOW_UP_ITEMS)}.",
        )

    class OutputSerializer(serializers.Serializer[Any]):
        id = serializers.IntegerField()
        patient = serializers.IntegerField(source="patient_id")
        inputs = serializers.DictField()
        checks = serializers.ListField(child=serializers.DictField())
        candidacy_met = serializers.BooleanField()
        decision = serializers.CharField()
        decision_note = serializers.CharField()
        follow_ups = serializers.DictField()
        created_by = serializers.IntegerField(source="created_by_id", allow_null=True)
        created_at = serializers.DateTimeField()

    @extend_schema(responses=OutputSerializer(many=True))
    def get(self, request: Request, patient_id: int) -> Response:
        patient = get_patient(request, patient_id, object_type="drez_referral")
        return _paginated(request, self, selectors.drez_referrals_list(patient), self.OutputSerializer)

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: Request, patient_id: int) -> Response:
        patient = get_patient(request, patient_id, Action.CLINICAL, log_access=False)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        referral = drez_referral_create(
            actor=Actor.from_request(request),
            patient=patient,
            decision=data.pop("decision"),
            decision_note=data.pop("decision_note"),
            contraindications=data.pop("contraindications"),
            follow_ups=data.pop("follow_ups"),
            inputs=data,
        )
        return Response(self.OutputSerializer(referral).data, status=status.HTTP_201_CREATED)
