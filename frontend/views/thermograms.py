"""Therapist console: thermograms of one patient (upload, picture, mirrored regions).

The page works as plain HTML forms (upload, regions typed as pixel rectangles); with its
script (frontend/static/frontend/thermograms.js, no inline code under the strict CSP) a file
can be dropped on the page, the midline is dragged, regions are drawn with the mouse, pen or
finger, mirrored live, and their ΔT shown as they are drawn from a small copy of the matrix
(the API's ``matrix`` operation). Saving posts to the API's ``rois`` operation, which measures
the full matrix. The services do the work, the same ones the API calls."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from assessments.instruments.thermal import ACCLIMATISATION_MAX_MIN, AMBIENT_MAX_C, AMBIENT_MIN_C, MAX_ROIS
from assessments.models import ImageSide, Thermogram, ThermogramReading, ThermogramView
from assessments.thermograms import imaging as thermography
from assessments.thermograms.services import (
    RegionInput,
    thermal_rows,
    thermogram_delete,
    thermogram_get,
    thermogram_list,
    thermogram_measure,
    thermogram_readings_latest,
    thermogram_upload,
)
from config.errors import ConflictError, InvalidInput
from frontend import charts
from frontend.console import chart_labels
from frontend.selectors import thermal_readings
from frontend.views.therapist import _patient
from patients.access import Action, visible_patients
from patients.audit import Actor
from patients.models import Patient

ROI_ROWS = 6
VISITS_SHOWN = 24
TEMPLATE = "frontend/therapist/thermograms.html"


@dataclass(frozen=True)
class TemplateRegion:
    """A rectangle to start from, in fractions of the image's width and height, on the
    image's left half with the midline at the middle (moved with the midline). ``name`` is
    what the reading stores (the same in every language, so visits line up in the chart and
    the normal asymmetry is matched on it); ``label`` is what the therapist reads."""

    name: str
    label: Promise
    x: float
    y: float
    w: float
    h: float


@dataclass(frozen=True)
class RegionTemplate:
    key: str
    label: Promise
    view: str  # the thermogram view it is drawn for
    regions: tuple[TemplateRegion, ...]


# Where the regions lie on a typically framed image (the body centred, the midline at the
# middle): a posterior view from the waist to the ankles with the legs slightly apart; both
# soles from below, toes up; both hands from above, fingers up. Dermatomes after the ASIA
# key sensory points (International Standards for Neurological Classification of Spinal Cord
# Injury, 2019): L4 medial lower leg, L5 lateral lower leg, S1 the heel's lateral side.
REGION_TEMPLATES: tuple[RegionTemplate, ...] = (
    RegionTemplate(
        "dermatomes",
        gettext_lazy("Lumbar and leg dermatomes L4, L5, S1"),
        ThermogramView.POSTERIOR,
        (
            TemplateRegion("L4 dermatome", gettext_lazy("L4 dermatome (medial lower leg)"), 0.36, 0.62, 0.09, 0.2),
            TemplateRegion("L5 dermatome", gettext_lazy("L5 dermatome (lateral lower leg)"), 0.2, 0.62, 0.09, 0.2),
            TemplateRegion("S1 dermatome", gettext_lazy("S1 dermatome (heel, lateral side)"), 0.29, 0.84, 0.07, 0.11),
        ),
    ),
    RegionTemplate(
        "plantar",
        gettext_lazy("Plantar foot"),
        ThermogramView.PLANTAR,
        (
            TemplateRegion("hallux", gettext_lazy("Hallux"), 0.36, 0.06, 0.08, 0.14),
            TemplateRegion("1st metatarsal head", gettext_lazy("1st metatarsal head"), 0.34, 0.26, 0.09, 0.1),
            TemplateRegion("5th metatarsal head", gettext_lazy("5th metatarsal head"), 0.17, 0.32, 0.08, 0.1),
            TemplateRegion("heel", gettext_lazy("Heel"), 0.22, 0.76, 0.14, 0.16),
        ),
    ),
    RegionTemplate(
        "hand",
        gettext_lazy("Dorsal hand"),
        ThermogramView.DORSAL,
        (
            TemplateRegion("dorsal hand", gettext_lazy("Back of the hand"), 0.2, 0.5, 0.16, 0.18),
            TemplateRegion("thumb", gettext_lazy("Thumb"), 0.38, 0.4, 0.06, 0.14),
            TemplateRegion("index finger", gettext_lazy("Index finger"), 0.31, 0.14, 0.05, 0.22),
            TemplateRegion("little finger", gettext_lazy("Little finger"), 0.15, 0.24, 0.05, 0.18),
        ),
    ),
)


class UploadForm(forms.Form):
    image = forms.FileField(label=gettext_lazy("Radiometric image (FLIR JPEG, temperature CSV or 16-bit TIFF)"))
    recorded_at = forms.DateTimeField(
        label=gettext_lazy("Taken at"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    ambient_c = forms.FloatField(
        label=gettext_lazy("Room temperature (°C)"), min_value=AMBIENT_MIN_C, max_value=AMBIENT_MAX_C
    )
    acclimatisation_min = forms.IntegerField(
        label=gettext_lazy("Acclimatisation (minutes)"), min_value=0, max_value=ACCLIMATISATION_MAX_MIN
    )
    view = forms.ChoiceField(label=gettext_lazy("View"), choices=ThermogramView.choices)
    image_left_is = forms.ChoiceField(
        label=gettext_lazy("Patient side on the image's left"),
        choices=[("", gettext_lazy("Default for the view")), *ImageSide.choices],
        required=False,
    )
    client_uuid = forms.UUIDField(widget=forms.HiddenInput)


class RoiForm(forms.Form):
    midline_x = forms.FloatField(label=gettext_lazy("Midline x (pixels)"), min_value=0)
    affected_side = forms.ChoiceField(label=gettext_lazy("Affected side"), choices=ImageSide.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for row in range(ROI_ROWS):
            self.fields[f"region_{row}"] = forms.CharField(label=gettext_lazy("Region"), max_length=64, required=False)
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


def _js_strings() -> dict[str, str]:
    """Everything thermograms.js shows, translated here."""
    return {
        "drop_here": _("Drop the camera's file here or choose it"),
        "dropped": _("%(name)s (%(size)s kB) is ready: fill in the conditions and upload."),
        "one_file": _("Drop one file at a time."),
        "uploading": _("Uploading %(name)s…"),
        "loading_matrix": _("Loading the temperatures for the live ΔT…"),
        "matrix_failed": _("The temperatures for the live ΔT could not be loaded; saving still measures the regions."),
        "preview_note": _(
            "Live values from a %(w)s × %(h)s copy of the image (%(block)s × %(block)s pixels a cell); the saved values are measured on the full image."
        ),
        "preview_exact": _("Live values from the full image."),
        "region_default": _("Region %(n)s"),
        "remove": _("Remove"),
        "region_name": _("Name of region %(n)s"),
        "midline": _("Midline"),
        "midline_help": _("Drag the midline or use the arrow keys (Shift for 10 pixels)."),
        "left": _("Left"),
        "right": _("Right"),
        "upper_normal": _("above normal for the site (%(limit)s °C)"),
        "asymmetry": _("|ΔT| ≥ %(limit)s °C"),
        "problem_size": _("Draw it at least 1 × 1 pixel."),
        "problem_outside": _("It lies outside the image."),
        "problem_midline": _("It crosses the midline: draw it on one side."),
        "problem_mirror": _("Its mirror image falls outside the image: move the midline or the region."),
        "no_regions": _("Draw a region on the image or start from a template."),
        "too_many": _("At most %(n)s regions."),
        "fix_first": _("Correct the regions marked in red first."),
        "no_side": _("Choose the affected side."),
        "saving": _("Measuring on the full image and saving…"),
        "saved": _("Saved: %(deltas)s."),
        "saved_again": _("These regions were already saved on this thermogram: %(deltas)s."),
        "refused": _("Not saved. The server refused it: %(reason)s"),
        "refused_region": _("Region “%(name)s”: %(reason)s"),
        "refused_region_side": _("Region “%(name)s” (%(side)s): %(reason)s"),
        "failed": _("Not saved: the server could not be reached (%(status)s). Try again."),
        "copied": _("Regions and midline copied from the visit of %(date)s."),
        "nothing_to_copy": _("No regions were measured on that visit."),
        "replace_confirm": _("Replace the regions drawn so far?"),
    }


def _local(value: dt.datetime, patient: Patient) -> str:
    return timezone.localtime(value, zoneinfo.ZoneInfo(patient.time_zone)).strftime("%Y-%m-%d %H:%M")


def _reading_json(reading: ThermogramReading | None) -> dict[str, Any] | None:
    if reading is None:
        return None
    return {
        "midline_x": reading.midline_x,
        "rois": [
            {"region": roi["region"], "drawn": roi["drawn"], "mirror": roi["mirror"], "delta_c": roi["delta_c"]}
            for roi in reading.regions
        ],
    }


def _thermogram_json(t: Thermogram, patient: Patient, reading: ThermogramReading | None) -> dict[str, Any]:
    png_width, png_height = thermography.rendered_size(t.width, t.height)
    args = [patient.pk, t.pk]
    return {
        "id": t.pk,
        "label": f"{_local(t.recorded_at, patient)} · {t.get_view_display()}",
        "date": _local(t.recorded_at, patient)[:10],
        "view": t.view,
        "image_left_is": t.image_left_is,
        "width": t.width,
        "height": t.height,
        "png_width": png_width,
        "png_height": png_height,
        "image_url": reverse("thermogram-image", args=args),
        "matrix_url": reverse("thermogram-matrix", args=args),
        "rois_url": reverse("thermogram-rois", args=args),
        "reading": _reading_json(reading),
    }


def _templates_json() -> list[dict[str, Any]]:
    return [
        {
            "key": template.key,
            "label": str(template.label),
            "view": template.view,
            "regions": [
                {"name": r.name, "label": str(r.label), "x": r.x, "y": r.y, "w": r.w, "h": r.h}
                for r in template.regions
            ],
        }
        for template in REGION_TEMPLATES
    ]


def _pick(thermograms: list[Thermogram], wanted: str | None, default: Thermogram | None) -> Thermogram | None:
    return next((t for t in thermograms if str(t.pk) == wanted), default)


def thermal_chart(patient: Patient) -> dict[str, str]:
    """The thermal chart of the patient page: ΔT per region over visits and the mean |ΔT|."""
    readings = [
        charts.ThermalReading(day, deltas, poor)
        for day, deltas, poor in thermal_readings(thermal_rows(patient), patient.time_zone)
    ]
    figure = charts.thermal_figure(readings, labels=chart_labels())
    return {"id": "thermal", "title": _("Thermal asymmetry per region"), "json": charts.figure_json(figure)}


def _context(
    request: HttpRequest,
    patient: Patient,
    upload: UploadForm | None = None,
    rois: dict[int, RoiForm] | None = None,
) -> dict[str, Any]:
    thermograms = list(thermogram_list(patient)[:VISITS_SHOWN])
    latest = thermogram_readings_latest(thermograms)
    current = _pick(thermograms, request.GET.get("t"), thermograms[0] if thermograms else None)
    if rois:
        current = _pick(thermograms, str(next(iter(rois))), current)
    earlier = [t for t in thermograms if current is not None and t.pk != current.pk]
    older = [t for t in earlier if (t.recorded_at, t.pk) < (current.recorded_at, current.pk)] if current else []
    compare = _pick(earlier, request.GET.get("compare"), older[0] if older else (earlier[0] if earlier else None))
    side = patient.affected_side if patient.affected_side in ImageSide.values else ""
    form = None
    if current is not None:
        form = (rois or {}).get(current.pk) or RoiForm(
            initial={"midline_x": current.width / 2, "affected_side": side}, prefix=f"t{current.pk}"
        )
    config = {
        "strings": _js_strings(),
        "affected_side": side,
        "asymmetry_c": charts.ASYMMETRY_C,
        "max_rois": MAX_ROIS,
        "upper_normal": [[site, list(words), limit] for site, words, limit in thermography.UPPER_NORMAL_C],
        "templates": _templates_json(),
        "thermograms": [_thermogram_json(t, patient, latest.get(t.pk)) for t in thermograms],
        "current": current.pk if current else None,
        "compare": compare.pk if compare else None,
        "chart_url": reverse("frontend:clinic-thermogram-chart", args=[patient.pk]),
    }
    return {
        "patient": patient,
        "can_edit": visible_patients(request.user, Action.CLINICAL).filter(pk=patient.pk).exists(),
        "visits": [{"thermogram": t, "reading": latest.get(t.pk)} for t in thermograms],
        "current": current,
        "current_png": thermography.rendered_size(current.width, current.height) if current else None,
        "compare": compare,
        "earlier": earlier,
        "form": form,
        "measured": current is not None and current.pk in latest,
        "templates": REGION_TEMPLATES,
        "upload_form": upload or UploadForm(initial={"client_uuid": uuid.uuid4(), "acclimatisation_min": 15}),
        "max_bytes": settings.THERMOGRAM_MAX_BYTES,
        "config": config,
        "chart": thermal_chart(patient),
    }


def _form_errors(form: forms.Form, errors: dict[str, Any]) -> None:
    for field, message in errors.items():
        if field in form.fields:
            form.add_error(field, str(message))
        else:
            form.add_error(None, f"{field}: {message}")


def _page_url(patient: Patient, thermogram_id: int | None = None) -> str:
    url = reverse("frontend:clinic-thermograms", args=[patient.pk])
    return f"{url}?t={thermogram_id}#editor" if thermogram_id else url


@login_required
@require_http_methods(["GET", "POST"])
def thermogram_page(request: HttpRequest, patient_id: int) -> HttpResponse:
    if request.method == "GET":
        patient = _patient(request, patient_id, audit="view.thermograms")
        return render(request, TEMPLATE, _context(request, patient))
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
                stored = thermogram_upload(
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
                return redirect(_page_url(patient, stored.thermogram.pk))
    return render(request, TEMPLATE, _context(request, patient, upload=form), status=400)


@login_required
@require_GET
def thermogram_chart(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The thermal chart alone, redrawn after a reading is saved."""
    patient = _patient(request, patient_id, audit="view.thermal_chart")
    return render(request, TEMPLATE + "#thermal_chart", {"chart": thermal_chart(patient)})


def _thermogram_or_404(request: HttpRequest, patient_id: int, thermogram_id: int) -> tuple[Patient, Thermogram]:
    """The thermogram for a write; a GET (a reload after a refused form) goes back to the page."""
    write = request.method == "POST"
    patient = _patient(request, patient_id, action=Action.CLINICAL if write else Action.VIEW, log_access=False)
    thermogram = thermogram_get(patient, thermogram_id)
    if thermogram is None:
        raise Http404
    return patient, thermogram


@login_required
@require_http_methods(["GET", "POST"])
def thermogram_rois(request: HttpRequest, patient_id: int, thermogram_id: int) -> HttpResponse:
    """POST measures the regions typed in the form (the page without its script)."""
    patient, thermogram = _thermogram_or_404(request, patient_id, thermogram_id)
    if request.method == "GET":
        return redirect(_page_url(patient, thermogram.pk))
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
            return redirect(_page_url(patient, thermogram.pk))
    return render(request, TEMPLATE, _context(request, patient, rois={thermogram.pk: form}), status=400)


@login_required
@require_http_methods(["GET", "POST"])
def thermogram_delete_view(request: HttpRequest, patient_id: int, thermogram_id: int) -> HttpResponse:
    """POST deletes a thermogram no region was measured on (a wrong file, the wrong patient)."""
    patient, thermogram = _thermogram_or_404(request, patient_id, thermogram_id)
    if request.method == "GET":
        return redirect(_page_url(patient, thermogram.pk))
    try:
        thermogram_delete(actor=Actor.from_request(request), thermogram=thermogram)
    except ConflictError:
        messages.error(request, _("Regions of this thermogram were measured into a thermal reading, so it is kept."))
        return redirect(_page_url(patient, thermogram.pk))
    messages.success(request, _("Thermogram deleted."))
    return redirect(_page_url(patient))
