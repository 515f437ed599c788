"""Thermogram services and selectors: store an uploaded radiometric image, measure mirrored
regions on it into a ``thermal`` assessment, render it on the patient's shared scale.

The pixel work is in the pure :mod:`assessments.thermograms.imaging`; this module keeps the rows,
the files (Django's storage API), the audit trail and idempotency.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max, Min, QuerySet

from assessments.capture.services import assessment_record
from assessments.models import Assessment, Source, Thermogram, ThermogramReading
from assessments.thermograms import imaging as thermography
from config.errors import ConflictError, InvalidInput
from patients.audit import Actor, audit_event_record
from patients.models import Patient

logger = logging.getLogger(__name__)

# Which side of the patient a camera shows on the image's left, by view: from behind the
# patient's left is on the image's left; facing the patient it is on the right. Plantar
# images are taken from below the soles (the patient's left sole on the image's right as the
# camera faces the soles, as in anterior views); dorsal hand/foot images from above (as posterior).
DEFAULT_IMAGE_LEFT_IS = {
    "posterior": "left",
    "anterior": "right",
    "plantar": "right",
    "dorsal": "left",
    "other": "left",
}


@dataclass(frozen=True)
class StoredThermogram:
    thermogram: Thermogram
    created: bool


def _existing(patient: Patient, client_uuid: uuid.UUID) -> Thermogram | None:
    existing = Thermogram.objects.filter(client_uuid=client_uuid).first()
    if existing is not None and existing.patient_id != patient.pk:
        raise ConflictError({"client_uuid": "This client_uuid is already used by another record."})
    return existing


def thermogram_upload(
    *,
    actor: Actor,
    patient: Patient,
    data: bytes,
    client_uuid: uuid.UUID,
    recorded_at: dt.datetime,
    ambient_c: float,
    acclimatisation_min: int,
    view: str,
    image_left_is: str | None,
    scale: float | None = None,
    offset: float | None = None,
) -> StoredThermogram:
    """Read and store one thermogram, exactly once per client_uuid. A file that cannot be
    read raises :class:`InvalidInput` naming ``image`` and is not stored."""
    existing = _existing(patient, client_uuid)
    if existing is not None:
        return StoredThermogram(existing, created=False)
    try:
        parsed = thermography.read_matrix(data, scale=scale, offset=offset)
    except thermography.ThermogramError as exc:
        raise InvalidInput({"image": str(exc)}) from exc
    low, high = thermography.display_range(parsed.matrix)
    thermogram = Thermogram(
        patient=patient,
        client_uuid=client_uuid,
        kind=parsed.kind,
        scale=scale,
        offset=offset,
        sha256=hashlib.sha256(data).hexdigest(),
        width=parsed.width,
        height=parsed.height,
        min_c=round(float(parsed.matrix.min()), 2),
        max_c=round(float(parsed.matrix.max()), 2),
        display_low_c=round(low, 2),
        display_high_c=round(high, 2),
        recorded_at=recorded_at,
        ambient_c=ambient_c,
        acclimatisation_min=acclimatisation_min,
        view=view,
        image_left_is=image_left_is or DEFAULT_IMAGE_LEFT_IS[view],
        uploaded_by=actor.user if actor.user_id is not None else None,
    )
    return _store_once(actor, thermogram, data, kind=parsed.kind)


def _store_once(actor: Actor, thermogram: Thermogram, data: bytes, *, kind: str) -> StoredThermogram:
    """Save the file and the row with its audit event; a concurrent resend that won the
    race is the answer instead, and this file goes."""
    try:
        with transaction.atomic():
            thermogram.original.save("upload", ContentFile(data), save=False)
            thermogram.save()
            audit_event_record(
                actor=actor,
                action="create",
                object_type="thermogram",
                object_id=thermogram.pk,
                patient=thermogram.patient,
                detail={"client_uuid": str(thermogram.client_uuid), "kind": kind, "bytes": len(data)},
            )
    except IntegrityError:
        thermogram.original.delete(save=False)
        existing = _existing(thermogram.patient, thermogram.client_uuid)
        if existing is None:
            raise
        return StoredThermogram(existing, created=False)
    return StoredThermogram(thermogram, created=True)


def thermogram_get(patient: Patient, thermogram_id: int) -> Thermogram | None:
    thermogram = Thermogram.objects.filter(patient=patient, pk=thermogram_id).first()
    if thermogram is not None:
        thermogram.patient = patient  # already fetched (and authorised) by the caller
    return thermogram


def thermogram_list(patient: Patient) -> QuerySet[Thermogram]:
    """The patient's thermograms, newest first."""
    return Thermogram.objects.filter(patient=patient).order_by("-recorded_at", "-id")


def thermogram_matrix(thermogram: Thermogram) -> thermography.Matrix:
    with thermogram.original.open("rb") as handle:
        data = handle.read()
    return thermography.read_matrix(data, scale=thermogram.scale, offset=thermogram.offset).matrix


def patient_scale(patient: Patient) -> tuple[float, float]:
    """One temperature scale for all the patient's thermograms, so visits compare side by side."""
    bounds = Thermogram.objects.filter(patient=patient).aggregate(low=Min("display_low_c"), high=Max("display_high_c"))
    return float(bounds["low"]), float(bounds["high"])


def thermogram_render(thermogram: Thermogram) -> bytes:
    low, high = patient_scale(thermogram.patient)
    return thermography.render_png(thermogram_matrix(thermogram), low, high)


def thermogram_preview(thermogram: Thermogram) -> thermography.Preview:
    """The temperature matrix in blocks small enough for a browser to measure regions live
    while they are drawn; saved readings are always measured on the full matrix."""
    return thermography.preview(thermogram_matrix(thermogram))


def thermogram_delete(*, actor: Actor, thermogram: Thermogram, allow_measured: bool = False) -> None:
    """Delete a thermogram and its stored file. The file goes once the row's deletion is
    committed (a rolled-back delete keeps both). A thermogram whose regions were measured is
    kept unless ``allow_measured``: its readings link thermal assessments to their pixels
    (the assessments themselves stay either way)."""
    readings = thermogram.readings.count()
    if readings and not allow_measured:
        raise ConflictError(
            {"thermogram": f"Regions of this thermogram were measured into {readings} thermal reading(s); it is kept."}
        )
    storage, name = thermogram.original.storage, thermogram.original.name
    with transaction.atomic():
        audit_event_record(
            actor=actor,
            action="delete",
            object_type="thermogram",
            object_id=thermogram.pk,
            patient=thermogram.patient,
            detail={"client_uuid": str(thermogram.client_uuid), "sha256": thermogram.sha256, "readings": readings},
        )
        thermogram.delete()
        if name:
            transaction.on_commit(lambda: _file_delete(storage, name))


def _file_delete(storage: Any, name: str) -> None:
    try:
        storage.delete(name)
    except OSError:
        logger.exception("thermogram file %s could not be deleted from storage", name)


def thermogram_readings_latest(thermograms: list[Thermogram]) -> dict[int, ThermogramReading]:
    """The newest reading of each thermogram that has one (one query)."""
    latest: dict[int, ThermogramReading] = {}
    for reading in ThermogramReading.objects.filter(thermogram__in=thermograms).order_by("created_at", "id"):
        latest[reading.thermogram_id] = reading
    return latest


def thermal_rows(patient: Patient) -> list[dict[str, Any]]:
    """The patient's thermal readings as the thermal chart reads them, oldest first."""
    rows = (
        Assessment.objects.filter(patient=patient, instrument="thermal")
        .order_by("recorded_at", "id")
        .values("recorded_at", "detail", "flags")
    )
    return [dict(row) for row in rows]


@dataclass(frozen=True)
class RegionInput:
    region: str
    x: int
    y: int
    w: int
    h: int
    upper_normal_c: float | None = None


def _normal_asymmetry(region: RegionInput, delta_c: float) -> dict[str, Any]:
    if region.upper_normal_c is not None:
        site, limit = "given", region.upper_normal_c
    else:
        found = thermography.upper_normal(region.region)
        if found is None:
            return {"upper_normal_c": None, "above_normal_asymmetry": None}
        site, limit = found
    return {
        "upper_normal_c": limit,
        "upper_normal_site": site,
        "above_normal_asymmetry": abs(delta_c) > limit,
    }


def _reading_uuid(
    thermogram: Thermogram, midline_x: float, regions: list[RegionInput], affected_side: str
) -> uuid.UUID:
    """Same regions on the same thermogram sent again → the same assessment."""
    canonical = json.dumps(
        {
            "thermogram": str(thermogram.client_uuid),
            "midline_x": midline_x,
            "affected_side": affected_side,
            "rois": [[r.region, r.x, r.y, r.w, r.h, r.upper_normal_c] for r in regions],
        },
        sort_keys=True,
    )
    return uuid.uuid5(uuid.NAMESPACE_URL, "thermogram-reading:" + canonical)


def _check_geometry(thermogram: Thermogram, midline_x: float, regions: list[RegionInput]) -> None:
    width, height = thermogram.width, thermogram.height
    errors: dict[str, Any] = {}
    if not 0 < midline_x < width:
        errors["midline_x"] = f"must lie inside the image (0 < midline_x < {width})"
    else:
        for index, region in enumerate(regions):
            rect = thermography.Rect(region.x, region.y, region.w, region.h)
            problem = thermography.rect_problem(rect, midline_x, width, height)
            if problem:
                errors[f"rois[{index}]"] = problem
    if errors:
        raise InvalidInput(errors)


def _measured_regions(
    thermogram: Thermogram, midline_x: float, regions: list[RegionInput], affected_side: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the thermal instrument's ROI answers, the per-region pixel detail kept with the reading)."""
    matrix = thermogram_matrix(thermogram)
    measured: list[dict[str, Any]] = []
    rois: list[dict[str, Any]] = []
    for region in regions:
        rect = thermography.Rect(region.x, region.y, region.w, region.h)
        pair = thermography.mirrored_statistics(matrix, rect, midline_x, thermogram.image_left_is)
        left_c, right_c = round(pair.left.mean_c, 2), round(pair.right.mean_c, 2)
        rois.append({"region": region.region, "left_c": left_c, "right_c": right_c})
        delta_c = round(left_c - right_c if affected_side == "left" else right_c - left_c, 2)
        measured.append(
            {
                "region": region.region,
                "delta_c": delta_c,
                **_normal_asymmetry(region, delta_c),
                "drawn": vars(pair.drawn),
                "mirror": vars(pair.mirror),
                "left": {"rect": vars(pair.left_rect), **pair.left.as_dict()},
                "right": {"rect": vars(pair.right_rect), **pair.right.as_dict()},
            }
        )
    return rois, measured


def thermogram_measure(
    *,
    actor: Actor,
    thermogram: Thermogram,
    midline_x: float,
    regions: list[RegionInput],
    affected_side: str,
    client_uuid: uuid.UUID | None = None,
) -> tuple[Assessment, ThermogramReading, bool]:
    """Measure each region and its mirror and record the ``thermal`` assessment through
    :func:`assessment_record` (its flags and alerts), linked to the regions' pixels."""
    _check_geometry(thermogram, midline_x, regions)
    client_uuid = client_uuid or _reading_uuid(thermogram, midline_x, regions, affected_side)
    stored = ThermogramReading.objects.filter(assessment__client_uuid=client_uuid).select_related("assessment").first()
    if stored is not None:
        if stored.thermogram_id != thermogram.pk:
            raise ConflictError({"client_uuid": "This client_uuid is already used by another record."})
        return stored.assessment, stored, False
    rois, measured = _measured_regions(thermogram, midline_x, regions, affected_side)
    answers = {
        "rois": rois,
        "ambient_c": thermogram.ambient_c,
        "acclimatisation_min": thermogram.acclimatisation_min,
        "affected_side": affected_side,
    }
    with transaction.atomic():
        recorded = assessment_record(
            actor=actor,
            patient=thermogram.patient,
            instrument="thermal",
            answers=answers,
            recorded_at=thermogram.recorded_at,
            client_uuid=client_uuid,
            source=Source.CLINICIAN,
        )
        if not recorded.created:
            reading = ThermogramReading.objects.filter(assessment=recorded.assessment).first()
            if reading is None:
                raise ConflictError({"client_uuid": "This client_uuid is already used by another record."})
            return recorded.assessment, reading, False
        reading = ThermogramReading.objects.create(
            thermogram=thermogram, assessment=recorded.assessment, midline_x=midline_x, regions=measured
        )
    return recorded.assessment, reading, True
