"""REST API of home exercise programmes: the clinic's library, a patient's programme, the
patient's exercise logs and the exercise pictures and videos.

Who sees what: the library list is for the clinic's staff; a patient reads their own
programme (with its pictures) and logs against it; the care team reads and sets it. Every
patient is fetched through ``patients.api.get_patient`` (the access helper + audit).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import FileResponse
from django.templatetags.static import static
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import LimitOffsetPagination, StrictCharField, StrictIntegerField, StrictUUIDField, created_response
from patients.access import Action, own_patient_id
from patients.api import get_patient
from patients.audit import Actor
from patients.models import Patient
from therapies import exercise_selectors as selectors
from therapies.api import _paginated, _text_field
from therapies.exercises import DOSE_BOUNDS, MAX_PROGRAMME_ITEMS, exercise_log_record, programme_set, steps_of
from therapies.media_checks import IMAGE_FORMATS
from therapies.models import BodyRegion, Difficulty, Exercise, ExerciseMedia, ExerciseType, ProgrammeItem
from therapies.services import MAX_DURATION_WEEKS, MAX_TEXT, patient_today

MEDIA_TYPES = [content_type for content_type, _ext in IMAGE_FORMATS.values()] + ["video/mp4", "video/webm"]


def media_url(media: ExerciseMedia) -> str:
    return f"/api/v1/exercises/{media.exercise_id}/media/{media.pk}/"


def pictogram_url(exercise: Exercise) -> str | None:
    return static(f"frontend/exercises/{exercise.pictogram}.svg") if exercise.pictogram else None


class MediaOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=["image", "video"])
    content_type = serializers.CharField()
    size_bytes = serializers.IntegerField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    caption = serializers.CharField()
    url = serializers.SerializerMethodField()

    def get_url(self, obj: ExerciseMedia) -> str:
        return media_url(obj)


class DoseSerializer(serializers.Serializer[Any]):
    sets = serializers.IntegerField()
    reps = serializers.IntegerField()
    hold_seconds = serializers.IntegerField()
    rest_seconds = serializers.IntegerField()
    sessions_per_week = serializers.IntegerField()


class ExerciseOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    slug = serializers.CharField()
    name = serializers.SerializerMethodField(help_text='{"en": ..., "zh-hans": ...}')
    steps = serializers.SerializerMethodField(help_text='{"en": [step, ...], "zh-hans": [step, ...]}')
    type = serializers.ChoiceField(choices=ExerciseType.choices)
    body_region = serializers.ChoiceField(choices=BodyRegion.choices)
    default_dose = serializers.SerializerMethodField()
    precautions = serializers.SerializerMethodField()
    contraindications = serializers.SerializerMethodField()
    pictogram_url = serializers.SerializerMethodField()
    media = MediaOutputSerializer(many=True, source="media.all")
    is_active = serializers.BooleanField()

    def get_name(self, obj: Exercise) -> dict[str, str]:
        return {"en": obj.name_en, "zh-hans": obj.name_zh}

    def get_steps(self, obj: Exercise) -> dict[str, list[str]]:
        return {"en": steps_of(obj.steps_en), "zh-hans": steps_of(obj.steps_zh)}

    def get_default_dose(self, obj: Exercise) -> dict[str, int]:
        return {field: getattr(obj, field) for field, _lo, _hi in DOSE_BOUNDS}

    def get_precautions(self, obj: Exercise) -> dict[str, str]:
        return {"en": obj.precautions_en, "zh-hans": obj.precautions_zh}

    def get_contraindications(self, obj: Exercise) -> dict[str, str]:
        return {"en": obj.contraindications_en, "zh-hans": obj.contraindications_zh}

    def get_pictogram_url(self, obj: Exercise) -> str | None:
        return pictogram_url(obj)


class ExerciseListApi(APIView):
    """The exercise library of the clinics where the caller is staff (therapist, manager,
    administrator). Patients read the exercises of their own programme instead
    (``/patients/{id}/exercise-programme/``) and get 403 here."""

    pagination_class = LimitOffsetPagination

    class FilterSerializer(serializers.Serializer[Any]):
        type = serializers.ChoiceField(choices=ExerciseType.choices, required=False)
        body_region = serializers.ChoiceField(choices=BodyRegion.choices, required=False)

    @extend_schema(parameters=[FilterSerializer], responses=ExerciseOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        clinics = selectors.staff_clinic_ids(request.user)
        if not clinics:
            raise PermissionDenied("The exercise library is for clinic staff; patients see their programme.")
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.library_list(clinics).filter(**filters.validated_data)
        return _paginated(request, self, qs, ExerciseOutputSerializer)


class ExerciseMediaApi(APIView):
    """One picture or video of a library exercise: for the clinic's staff, and for a patient
    whose programme (any version) includes the exercise. Anyone else: 404."""

    @extend_schema(responses={(200, content_type): OpenApiTypes.BINARY for content_type in MEDIA_TYPES})
    def get(self, request: Request, exercise_id: int, media_id: int) -> FileResponse:
        media = ExerciseMedia.objects.select_related("exercise").filter(pk=media_id, exercise_id=exercise_id).first()
        if media is None or not _may_see(request, media.exercise):
            raise NotFound("No such picture or video.")
        response = FileResponse(media.file.open("rb"), content_type=media.content_type)
        response["Content-Length"] = str(media.size_bytes)
        response["Cache-Control"] = "private, max-age=86400"
        return response


def _may_see(request: Request, exercise: Exercise) -> bool:
    if exercise.clinic_id in selectors.staff_clinic_ids(request.user):
        return True
    own = own_patient_id(request.user)
    return (
        own is not None
        and ProgrammeItem.objects.filter(component__plan__patient_id=own, exercise_id=exercise.pk).exists()
    )


# -----------------------------------------------------------------------------
# Programme
# -----------------------------------------------------------------------------


class ProgrammeItemOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    order = serializers.IntegerField()
    exercise = ExerciseOutputSerializer()
    sets = serializers.IntegerField()
    reps = serializers.IntegerField()
    hold_seconds = serializers.IntegerField()
    rest_seconds = serializers.IntegerField()
    sessions_per_week = serializers.IntegerField()
    progression_note = serializers.CharField()


class ProgrammeOutputSerializer(serializers.Serializer[Any]):
    plan = serializers.DictField(
        allow_null=True, help_text="{id, version, status, start_date, end_date}; null: no plan"
    )
    latest_version = serializers.IntegerField(help_text="What a POST names as the version it replaces.")
    component = serializers.IntegerField(allow_null=True, help_text="The plan component holding the programme.")
    items = ProgrammeItemOutputSerializer(many=True)
    media_bytes = serializers.IntegerField(help_text="Total size of the programme's pictures and videos.")


def programme_body(patient: Patient) -> dict[str, Any]:
    programme = selectors.programme_for(patient)
    shown = programme.shown
    plan = None
    if shown is not None:
        plan = {
            "id": shown.plan.pk,
            "version": shown.plan.version,
            "status": shown.status,
            "start_date": shown.plan.start_date.isoformat(),
            "end_date": shown.end_date.isoformat() if shown.end_date else None,
        }
    media = {m.pk: m.size_bytes for item in programme.items for m in item.exercise.media.all()}
    return ProgrammeOutputSerializer(
        {
            "plan": plan,
            "latest_version": shown.latest_version if shown is not None else 0,
            "component": programme.component.pk if programme.component is not None else None,
            "items": programme.items,
            "media_bytes": sum(media.values()),
        }
    ).data


class ProgrammeItemInputSerializer(serializers.Serializer[Any]):
    exercise = StrictIntegerField(min_value=1, help_text="An exercise of the patient's clinic library.")
    sets = StrictIntegerField(min_value=1, max_value=20)
    reps = StrictIntegerField(min_value=1, max_value=100)
    hold_seconds = StrictIntegerField(min_value=0, max_value=3600)
    rest_seconds = StrictIntegerField(min_value=0, max_value=600)
    sessions_per_week = StrictIntegerField(min_value=1, max_value=14)
    progression_note = _text_field()


class ProgrammeApi(APIView):
    class InputSerializer(serializers.Serializer[Any]):
        version = StrictIntegerField(
            min_value=0, allow_null=True, required=False, default=None, help_text="The plan version this replaces."
        )
        reason = StrictCharField(max_length=MAX_TEXT)
        items = serializers.ListField(
            child=ProgrammeItemInputSerializer(), max_length=MAX_PROGRAMME_ITEMS, allow_empty=True
        )
        duration_weeks = StrictIntegerField(
            min_value=1,
            max_value=MAX_DURATION_WEEKS,
            required=False,
            allow_null=True,
            default=None,
            help_text="Weeks of the exercise component (default: kept; 8 for a new one).",
        )

    @extend_schema(
        responses=ProgrammeOutputSerializer,
        description="The home exercise programme of the plan version the patient follows today, with doses, "
        "steps and media URLs (empty items, and plan null, when there is none).",
    )
    def get(self, request: Request, patient_id: int) -> Response:
        patient = get_patient(request, patient_id, object_type="exercise_programme")
        return Response(programme_body(patient))

    @extend_schema(
        request=InputSerializer,
        responses={201: ProgrammeOutputSerializer},
        description="Save the programme as the next plan version (compare-and-set on version: 409 when stale).",
    )
    def post(self, request: Request, patient_id: int) -> Response:
        patient = get_patient(request, patient_id, Action.CLINICAL, audit="")
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        programme_set(
            actor=Actor.from_request(request),
            patient=patient,
            expected_version=data["version"],
            reason=data["reason"],
            items=data["items"],
            duration_weeks=data["duration_weeks"],
        )
        return Response(programme_body(patient), status=status.HTTP_201_CREATED)


# -----------------------------------------------------------------------------
# Logs
# -----------------------------------------------------------------------------


class ExerciseLogOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    patient = serializers.IntegerField(source="patient_id")
    item = serializers.IntegerField(source="item_id")
    exercise = serializers.IntegerField(source="exercise_id")
    date = serializers.DateField()
    sets_done = serializers.IntegerField()
    pain_after = serializers.IntegerField(allow_null=True)
    difficulty = serializers.CharField()
    note = serializers.CharField()
    client_uuid = serializers.UUIDField()
    logged_at = serializers.DateTimeField()


class ExerciseLogApi(APIView):
    """The patient's exercise logs. POST is idempotent on client_uuid (201 new, 200 the
    stored log again): the phone's offline queue sends each log until it gets an answer."""

    pagination_class = LimitOffsetPagination

    class InputSerializer(serializers.Serializer[Any]):
        item = StrictIntegerField(min_value=1, help_text="A programme item id (any plan version's).")
        date = serializers.DateField(required=False, default=None, allow_null=True, help_text="Local date; today.")
        sets_done = StrictIntegerField(min_value=0, max_value=20)
        pain_after = StrictIntegerField(min_value=0, max_value=10, required=False, allow_null=True, default=None)
        difficulty = serializers.ChoiceField(choices=Difficulty.choices, required=False, allow_blank=True, default="")
        note = _text_field()
        client_uuid = StrictUUIDField(required=False, default=None, allow_null=True)

    class FilterSerializer(serializers.Serializer[Any]):
        since = serializers.DateField(required=False)
        until = serializers.DateField(required=False)

    @extend_schema(parameters=[FilterSerializer], responses=ExerciseLogOutputSerializer(many=True))
    def get(self, request: Request, patient_id: int) -> Response:
        patient = get_patient(request, patient_id, object_type="exercise_log")
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        qs = selectors.exercise_logs_list(patient, **filters.validated_data)
        return _paginated(request, self, qs, ExerciseLogOutputSerializer)

    @extend_schema(
        request=InputSerializer, responses={201: ExerciseLogOutputSerializer, 200: ExerciseLogOutputSerializer}
    )
    def post(self, request: Request, patient_id: int) -> Response:
        patient = get_patient(request, patient_id, Action.REPORT, audit="")
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        recorded = exercise_log_record(
            actor=Actor.from_request(request),
            patient=patient,
            item_id=data["item"],
            date=data["date"] or patient_today(patient),
            sets_done=data["sets_done"],
            pain_after=data["pain_after"],
            difficulty=data["difficulty"],
            note=data["note"],
            client_uuid=data["client_uuid"] or uuid.uuid4(),
        )
        return created_response(ExerciseLogOutputSerializer(recorded.obj).data, recorded.created)
