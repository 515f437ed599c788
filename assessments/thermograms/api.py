"""REST API for thermograms: upload a radiometric image, measure mirrored regions on it,
fetch it rendered as a PNG."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from assessments.capture.api import AssessmentOutputSerializer
from assessments.instruments.thermal import ACCLIMATISATION_MAX_MIN, AMBIENT_MAX_C, AMBIENT_MIN_C, MAX_ROIS
from assessments.models import ImageSide, Thermogram, ThermogramView
from assessments.thermograms import imaging as thermography
from assessments.thermograms.services import (
    RegionInput,
    thermogram_get,
    thermogram_list,
    thermogram_measure,
    thermogram_preview,
    thermogram_render,
    thermogram_upload,
)
from config.api import AwareDateTimeField, LimitOffsetPagination, created_response
from patients.access import Action
from patients.api import get_patient
from patients.audit import Actor


class PayloadTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


def _image_url(thermogram: Thermogram) -> str:
    return reverse("thermogram-image", args=[thermogram.patient_id, thermogram.pk])


class ThermogramOutputSerializer(serializers.Serializer[Thermogram]):
    id = serializers.IntegerField()
    patient = serializers.IntegerField(source="patient_id")
    client_uuid = serializers.UUIDField()
    kind = serializers.CharField(help_text='"flir" (FLIR radiometric JPEG), "csv" or "tiff"')
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    min_c = serializers.FloatField()
    max_c = serializers.FloatField()
    recorded_at = serializers.DateTimeField()
    ambient_c = serializers.FloatField()
    acclimatisation_min = serializers.IntegerField()
    view = serializers.CharField()
    image_left_is = serializers.CharField()
    sha256 = serializers.CharField()
    image_url = serializers.SerializerMethodField(help_text="The rendered PNG (same access rules as this record).")

    def get_image_url(self, obj: Thermogram) -> str:
        return _image_url(obj)


class ThermogramCreateApi(APIView):
    """GET: the patient's thermograms, newest first (paged). POST: upload a radiometric
    thermogram (multipart).

    ``image``: a FLIR radiometric JPEG (converted with the camera's recorded calibration), a
    temperature matrix as CSV (degC per pixel; comma, semicolon or tab separated; decimal
    point, or decimal comma with semicolon/tab separators; header lines are skipped), a
    16-bit radiometric TIFF in centi-kelvin (or ``scale``/``offset``: degC = raw * scale +
    offset), or a 32-bit float TIFF in degC. Unknown or damaged files: 400 naming the problem
    under ``image``. Limits: ``THERMOGRAM_MAX_BYTES`` (default 32 MiB, else 413),
    8 x 8 to 4,000,000 pixels, every value a number between -40 and 150 degC.
    """

    parser_classes = (MultiPartParser,)

    class InputSerializer(serializers.Serializer[Any]):
        image = serializers.FileField(allow_empty_file=False, use_url=False)
        recorded_at = AwareDateTimeField()
        client_uuid = serializers.UUIDField()
        ambient_c = serializers.FloatField(min_value=AMBIENT_MIN_C, max_value=AMBIENT_MAX_C)
        acclimatisation_min = serializers.IntegerField(min_value=0, max_value=ACCLIMATISATION_MAX_MIN)
        view = serializers.ChoiceField(choices=ThermogramView.choices)
        image_left_is = serializers.ChoiceField(
            choices=ImageSide.choices,
            required=False,
            help_text="Which side of the patient appears on the image's left. Default by view: posterior and "
            "dorsal left; anterior and plantar right; other left.",
        )
        scale = serializers.FloatField(
            required=False, min_value=1e-6, max_value=1000.0, help_text="Integer TIFF only: degC per raw unit."
        )
        offset = serializers.FloatField(
            required=False, min_value=-100000.0, max_value=100000.0, help_text="Integer TIFF only: degC at raw 0."
        )

        def validate_recorded_at(self, value: Any) -> Any:
            if value > timezone.now() + dt.timedelta(minutes=10):
                raise serializers.ValidationError("Must not be in the future.")
            return value

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if ("scale" in attrs) != ("offset" in attrs):
                raise serializers.ValidationError({"scale": "Give scale and offset together."})
            return attrs

    pagination_class = LimitOffsetPagination

    @extend_schema(responses=ThermogramOutputSerializer(many=True))
    def get(self, request: Request, patient_id: int) -> Response:
        patient = get_patient(request, patient_id, audit="list", object_type="thermogram")
        paginator = LimitOffsetPagination()
        page = paginator.paginate_queryset(thermogram_list(patient), request, view=self) or []
        return paginator.get_paginated_response(ThermogramOutputSerializer(page, many=True).data)  # type: ignore[arg-type]  # stubs do not model many=True

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        responses={
            201: ThermogramOutputSerializer,
            200: ThermogramOutputSerializer,
            409: OpenApiResponse(OpenApiTypes.OBJECT, description="The client_uuid is used by another record."),
            413: OpenApiResponse(OpenApiTypes.OBJECT, description="The file is larger than THERMOGRAM_MAX_BYTES."),
        },
    )
    def post(self, request: Request, patient_id: int) -> Response:
        patient = get_patient(request, patient_id, Action.CLINICAL, log_access=False)
        upload = request.FILES.get("image")
        if upload is not None and upload.size is not None and upload.size > settings.THERMOGRAM_MAX_BYTES:
            raise PayloadTooLarge(
                {"image": [f"The file is larger than the {settings.THERMOGRAM_MAX_BYTES} bytes accepted."]}
            )
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        stored = thermogram_upload(
            actor=Actor.from_request(request),
            patient=patient,
            data=data["image"].read(),
            client_uuid=data["client_uuid"],
            recorded_at=data["recorded_at"],
            ambient_c=data["ambient_c"],
            acclimatisation_min=data["acclimatisation_min"],
            view=data["view"],
            image_left_is=data.get("image_left_is"),
            scale=data.get("scale"),
            offset=data.get("offset"),
        )
        return created_response(ThermogramOutputSerializer(stored.thermogram).data, stored.created)


def _thermogram_or_404(request: Request, patient_id: int, thermogram_id: int, action: Action, audit: str) -> Thermogram:
    patient = get_patient(request, patient_id, action, audit=audit, object_type="thermogram")
    thermogram = thermogram_get(patient, thermogram_id)
    if thermogram is None:
        raise NotFound("No such thermogram.")
    return thermogram


class ThermogramDetailApi(APIView):
    @extend_schema(responses=ThermogramOutputSerializer)
    def get(self, request: Request, patient_id: int, thermogram_id: int) -> Response:
        thermogram = _thermogram_or_404(request, patient_id, thermogram_id, Action.VIEW, "view")
        return Response(ThermogramOutputSerializer(thermogram).data)


class ThermogramImageApi(APIView):
    """The thermogram rendered in a perceptual palette (inferno) with a scale bar, on one
    temperature scale shared by all the patient's thermograms."""

    @extend_schema(responses={(200, "image/png"): OpenApiTypes.BINARY})
    def get(self, request: Request, patient_id: int, thermogram_id: int) -> HttpResponse:
        thermogram = _thermogram_or_404(request, patient_id, thermogram_id, Action.VIEW, "view.png")
        response = HttpResponse(thermogram_render(thermogram), content_type="image/png")
        response["Content-Disposition"] = f'inline; filename="thermogram-{thermogram.pk}.png"'
        return response


class ThermogramMatrixApi(APIView):
    """The temperature matrix in blocks of at most 160 x 120 cells, for drawing regions with a
    live ΔT: ``values`` is base64 of little-endian signed 16-bit hundredths of a degree C, row by
    row from the image's top left; each cell is the mean of ``block`` x ``block`` pixels of the
    ``source_width`` x ``source_height`` matrix (fewer at the right and bottom edges). A preview
    only: readings are measured on the full matrix by the ``rois`` operation."""

    class OutputSerializer(serializers.Serializer[Any]):
        width = serializers.IntegerField(help_text="Cells per row.")
        height = serializers.IntegerField(help_text="Rows of cells.")
        block = serializers.IntegerField(help_text="Pixels per cell side.")
        source_width = serializers.IntegerField()
        source_height = serializers.IntegerField()
        encoding = serializers.ChoiceField(choices=["int16le-centi-celsius-base64"])
        values = serializers.CharField()

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: Request, patient_id: int, thermogram_id: int) -> Response:
        thermogram = _thermogram_or_404(request, patient_id, thermogram_id, Action.VIEW, "view.matrix")
        preview = thermogram_preview(thermogram)
        rows, columns = preview.cells.shape
        body = {
            "width": columns,
            "height": rows,
            "block": preview.block,
            "source_width": thermogram.width,
            "source_height": thermogram.height,
            "encoding": "int16le-centi-celsius-base64",
            "values": base64.b64encode(thermography.centi_celsius_int16(preview.cells)).decode("ascii"),
        }
        return Response(self.OutputSerializer(body).data)


class ThermogramRoisApi(APIView):
    """Measure regions drawn on one side of the thermogram and their mirror images across the
    vertical midline (pixel-edge coordinates: x = 0 is the image's left edge), and record the
    result as a ``thermal`` assessment (its flags and alerts as for a typed reading). Sides are
    mapped to the patient's left and right by the thermogram's ``image_left_is``. The same
    regions sent again answer 200 with the stored assessment."""

    class RoiSerializer(serializers.Serializer[Any]):
        region = serializers.CharField(max_length=64)
        x = serializers.IntegerField(min_value=0, max_value=100000)
        y = serializers.IntegerField(min_value=0, max_value=100000)
        w = serializers.IntegerField(min_value=1, max_value=100000)
        h = serializers.IntegerField(min_value=1, max_value=100000)
        upper_normal_c = serializers.FloatField(
            required=False,
            min_value=0.0,
            max_value=5.0,
            help_text="Upper normal |delta T| for this region (degC). Default from the region's name: forehead 0.54, "
            "leg 0.67, foot 1.00 (Uematsu 1988, mean + 2 SD); above it the region is marked above_normal_asymmetry.",
        )

    class InputSerializer(serializers.Serializer[Any]):
        midline_x = serializers.FloatField(min_value=0, max_value=100000)
        rois = serializers.ListField(child=serializers.DictField(), min_length=1, max_length=MAX_ROIS)
        affected_side = serializers.ChoiceField(
            choices=ImageSide.choices,
            required=False,
            help_text="The patient's affected side; by default the one on the patient's record (400 if it has none).",
        )
        client_uuid = serializers.UUIDField(
            required=False, help_text="Optional; by default derived from the thermogram and the regions."
        )

        def validate_rois(self, value: list[Any]) -> list[Any]:
            errors: dict[str, Any] = {}
            cleaned = []
            for index, raw in enumerate(value):
                roi = ThermogramRoisApi.RoiSerializer(data=raw)
                if roi.is_valid():
                    cleaned.append(roi.validated_data)
                else:
                    errors[f"rois[{index}]"] = roi.errors
            if errors:
                raise serializers.ValidationError(errors)
            return cleaned

    class OutputSerializer(AssessmentOutputSerializer):
        thermogram = serializers.SerializerMethodField()

        def get_thermogram(self, obj: Any) -> dict[str, Any]:
            reading = obj.thermogram_reading
            return {"id": reading.thermogram_id, "midline_x": reading.midline_x, "rois": reading.regions}

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer, 200: OutputSerializer})
    def post(self, request: Request, patient_id: int, thermogram_id: int) -> Response:
        thermogram = _thermogram_or_404(request, patient_id, thermogram_id, Action.CLINICAL, "")
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        affected_side = data.get("affected_side") or thermogram.patient.affected_side
        if affected_side not in ImageSide.values:
            raise serializers.ValidationError(
                {"affected_side": ["The patient's record names no affected side: give left or right."]}
            )
        assessment, _reading, created = thermogram_measure(
            actor=Actor.from_request(request),
            thermogram=thermogram,
            midline_x=data["midline_x"],
            regions=[RegionInput(**roi) for roi in data["rois"]],
            affected_side=affected_side,
            client_uuid=data.get("client_uuid"),
        )
        return created_response(self.OutputSerializer(assessment).data, created)
