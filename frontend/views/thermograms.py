"""Therapist console: thermograms of one patient (upload, picture, mirrored regions).

Plain HTML forms (no script, so the strict CSP holds); the services do the work, the same
ones the API calls."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from assessments.instruments.thermal import ACCLIMATISATION_MAX_MIN, AMBIENT_MAX_C, AMBIENT_MIN_C
from assessments.models import ImageSide, ThermogramView
from assessments.thermograms.services import (
    RegionInput,
    thermogram_get,
    thermogram_list,
    thermogram_measure,
    thermogram_upload,
)
from config.errors import ConflictError, InvalidInput
from frontend.views.therapist import _patient
from patients.access import Action
from patients.audit import Actor
from patients.models import Patient

ROI_ROWS = 6
TEMPLATE = "frontend/therapist/thermograms.html"


class UploadForm(forms.Form):
    image = forms.FileField(label=_("Radiometric image (FLIR JPEG, temperature CSV or 16-bit TIFF)"))
    recorded_at = forms.DateTimeField(label=_("Taken at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ambient_c = forms.FloatField(label=_("Room temperature (°C)"), min_value=AMBIENT_MIN_C, max_value=AMBIENT_MAX_C)
    acclimatisation_min = forms.IntegerField(
        label=_("Acclimatisation (minutes)"), min_value=0, max_value=ACCLIMATISATION_MAX_MIN
    )
    view = forms.ChoiceField(label=_("View"), choices=ThermogramView.choices)
    image_left_is = forms.ChoiceField(
        label=_("Patient side on the image's left"),
        choices=[("", _("Default for the view")), *ImageSide.choices],
        required=False,
    )
    client_uuid = forms.UUIDField(widget=forms.HiddenInput)


class RoiForm(forms.Form):
    midline_x = forms.FloatField(label=_("Midline x (pixels)"), min_value=0)
    affected_side = forms.ChoiceField(label=_("Affected side"), choices=ImageSide.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for row in range(ROI_ROWS):
            self.fields[f"region_{row}"] = forms.CharField(label=_("Region"), max_length=64, required=False)
            for name in ("x", "y", "w", "h"):
                self.fields[f"{name}_{row}"] = forms.IntegerField(label=name, min_value=0, required=False)

    def rows(self) -> list[list[forms.BoundField]]:
        return [[self[f"{name}_{row}"] for name in ("region", "x", "y", "w", "h")] for row in range(ROI_ROWS)]

    def regions(self) -> list[RegionInput]:
        found: list[RegionInput] = []
        for row in range(ROI_ROWS):
            values = [self.cleaned_data.get(f"{name}_{row}") for name in ("region", "x", "y", "w", "h")]
            if not values[0]:
                continue
            if any(value is None for value in values[1:]):
                raise InvalidInput({f"region_{row}": _("Give x, y, w and h for this region.")})
            region, x, y, w, h = values
            found.append(RegionInput(region=str(region), x=int(x), y=int(y), w=int(w), h=int(h)))  # type: ignore[arg-type]
        if not found:
            raise InvalidInput({"region_0": _("Draw at least one region.")})
        return found


def _context(
    patient: Patient, upload: UploadForm | None = None, rois: dict[int, RoiForm] | None = None
) -> dict[str, Any]:
    thermograms = list(thermogram_list(patient)[:12])
    side = patient.affected_side if patient.affected_side in ImageSide.values else None
    forms_by_id = rois or {}
    items = [
        {
            "thermogram": t,
            "image_url": reverse("thermogram-image", args=[patient.pk, t.pk]),
            "form": forms_by_id.get(t.pk)
            or RoiForm(initial={"midline_x": t.width / 2, "affected_side": side}, prefix=f"t{t.pk}"),
        }
        for t in thermograms
    ]
    return {
        "patient": patient,
        "items": items,
        "upload_form": upload or UploadForm(initial={"client_uuid": uuid.uuid4(), "acclimatisation_min": 15}),
        "max_bytes": settings.THERMOGRAM_MAX_BYTES,
    }


def _form_errors(form: forms.Form, errors: dict[str, Any]) -> None:
    for field, message in errors.items():
        if field in form.fields:
            form.add_error(field, str(message))
        else:
            form.add_error(None, f"{field}: {message}")


@login_required
@require_http_methods(["GET", "POST"])
def thermogram_page(request: HttpRequest, patient_id: int) -> HttpResponse:
    if request.method == "GET":
        patient = _patient(request, patient_id, audit="view.thermograms")
        return render(request, TEMPLATE, _context(patient))
    patient = _patient(request, patient_id, action=Action.CLINICAL, log_access=False)
    form = UploadForm(request.POST, request.FILES)
    with timezone.override(patient.time_zone):  # the time typed is the patient's local time
        valid = form.is_valid()
    if valid:
        data = form.cleaned_data
        if data["image"].size > settings.THERMOGRAM_MAX_BYTES:
            form.add_error(
                "image", _("The file is larger than the %(n)s bytes accepted.") % {"n": settings.THERMOGRAM_MAX_BYTES}
            )
        else:
            try:
                thermogram_upload(
                    actor=Actor.from_request(request),
                    patient=patient,
                    data=data["image"].read(),
                    client_uuid=data["client_uuid"],
                    recorded_at=data["recorded_at"],
                    ambient_c=data["ambient_c"],
                    acclimatisation_min=data["acclimatisation_min"],
                    view=data["view"],
                    image_left_is=data["image_left_is"] or None,
                )
            except (InvalidInput, ConflictError) as exc:
                _form_errors(form, exc.errors)
            else:
                messages.success(request, _("Thermogram uploaded."))
                return redirect("frontend:clinic-thermograms", patient.pk)
    return render(request, TEMPLATE, _context(patient, upload=form), status=400)


@login_required
@require_http_methods(["GET", "POST"])
def thermogram_rois(request: HttpRequest, patient_id: int, thermogram_id: int) -> HttpResponse:
    """POST measures the regions; GET (a reload after a refused form) goes back to the page."""
    if request.method == "GET":
        patient = _patient(request, patient_id, log_access=False)
        if thermogram_get(patient, thermogram_id) is None:
            raise Http404
        return redirect(reverse("frontend:clinic-thermograms", args=[patient.pk]) + f"#thermogram-{thermogram_id}")
    patient = _patient(request, patient_id, action=Action.CLINICAL, log_access=False)
    thermogram = thermogram_get(patient, thermogram_id)
    if thermogram is None:
        raise Http404
    form = RoiForm(request.POST, prefix=f"t{thermogram.pk}")
    if form.is_valid():
        try:
            assessment, _reading, _created = thermogram_measure(
                actor=Actor.from_request(request),
                thermogram=thermogram,
                midline_x=form.cleaned_data["midline_x"],
                regions=form.regions(),
                affected_side=form.cleaned_data["affected_side"],
            )
        except (InvalidInput, ConflictError) as exc:
            _form_errors(form, exc.errors)
        else:
            deltas = ", ".join(f"{roi['region']}: {roi['delta_c']:+.2f} °C" for roi in assessment.detail["rois"])
            messages.success(request, _("Thermal reading saved (ΔT %(deltas)s).") % {"deltas": deltas})
            return redirect("frontend:clinic-thermograms", patient.pk)
    return render(request, TEMPLATE, _context(patient, rois={thermogram.pk: form}), status=400)
