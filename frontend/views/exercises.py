"""Therapist console: the clinic's exercise library, a patient's home programme with its
adherence, and the printable programme.

Plain HTML forms (no script, so the strict CSP holds); the services in
``therapies.exercises`` do the work, the same ones the API calls. The library belongs to a
clinic: its therapists and administrators edit it, managers read it. The print view is
for the patient too (their own record), in the patient's language.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.errors import ConflictError, InvalidInput
from frontend.views.therapist import _patient
from patients.access import Action, PatientNotFound, patient_get_for
from patients.audit import Actor
from patients.models import Clinic, Patient
from therapies import exercise_selectors as selectors
from therapies.api_exercises import media_url, pictogram_url
from therapies.exercises import (
    PICTOGRAMS,
    can_edit_library,
    exercise_create,
    exercise_media_add,
    exercise_media_delete,
    exercise_update,
    media_limits,
    programme_set,
    steps_of,
)
from therapies.models import BodyRegion, Exercise, ExerciseType, ProgrammeItem
from therapies.services import MAX_TEXT

LIBRARY_TEMPLATE = "frontend/exercises/library.html"
EXERCISE_TEMPLATE = "frontend/exercises/exercise.html"
PROGRAMME_TEMPLATE = "frontend/exercises/programme.html"
PRINT_TEMPLATE = "frontend/exercises/print.html"
DOSE_FIELDS = ("sets", "reps", "hold_seconds", "rest_seconds", "sessions_per_week")


class ExerciseForm(forms.Form):
    name_en = forms.CharField(label=gettext_lazy("Name (English)"), max_length=120)
    name_zh = forms.CharField(label=gettext_lazy("Name (Chinese)"), max_length=120)
    type = forms.ChoiceField(label=gettext_lazy("Type"), choices=ExerciseType.choices)
    body_region = forms.ChoiceField(label=gettext_lazy("Body region"), choices=BodyRegion.choices)
    steps_en = forms.CharField(
        label=gettext_lazy("Steps (English), one per line"), widget=forms.Textarea(attrs={"rows": 5})
    )
    steps_zh = forms.CharField(
        label=gettext_lazy("Steps (Chinese), one per line"), widget=forms.Textarea(attrs={"rows": 5})
    )
    sets = forms.IntegerField(label=gettext_lazy("Sets"), min_value=1, max_value=20, initial=1)
    reps = forms.IntegerField(label=gettext_lazy("Repetitions"), min_value=1, max_value=100, initial=10)
    hold_seconds = forms.IntegerField(label=gettext_lazy("Hold (seconds)"), min_value=0, max_value=3600, initial=0)
    rest_seconds = forms.IntegerField(label=gettext_lazy("Rest (seconds)"), min_value=0, max_value=600, initial=0)
    sessions_per_week = forms.IntegerField(
        label=gettext_lazy("Sessions per week"), min_value=1, max_value=14, initial=7
    )
    precautions_en = forms.CharField(
        label=gettext_lazy("Precautions (English)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    precautions_zh = forms.CharField(
        label=gettext_lazy("Precautions (Chinese)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    contraindications_en = forms.CharField(
        label=gettext_lazy("Contraindications (English)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    contraindications_zh = forms.CharField(
        label=gettext_lazy("Contraindications (Chinese)"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    pictogram = forms.ChoiceField(
        label=gettext_lazy("Pictogram"), required=False, choices=[("", "—"), *((p, p) for p in sorted(PICTOGRAMS))]
    )
    is_active = forms.BooleanField(label=gettext_lazy("In use"), required=False, initial=True)


class MediaForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Picture (PNG, JPEG, WebP, GIF) or short video (MP4, WebM)"))
    caption = forms.CharField(label=gettext_lazy("Caption"), max_length=200, required=False)


def _form_errors(form: forms.Form, errors: dict[str, Any]) -> None:
    for field, message in errors.items():
        text = message if isinstance(message, str) else "; ".join(str(m) for m in message)
        form.add_error(field if field in form.fields else None, text if field in form.fields else f"{field}: {text}")


# -----------------------------------------------------------------------------
# Library
# -----------------------------------------------------------------------------


def _clinic(request: HttpRequest) -> Clinic:
    """The clinic whose library the staff user works on (their first clinic)."""
    clinic_ids = selectors.staff_clinic_ids(request.user)
    if not clinic_ids:
        raise Http404
    clinic = Clinic.objects.filter(pk=clinic_ids[0]).first()
    if clinic is None:
        raise Http404
    return clinic


@login_required
@require_http_methods(["GET", "POST"])
def library(request: HttpRequest) -> HttpResponse:
    clinic = _clinic(request)
    editable = can_edit_library(request.user, clinic.pk)
    form = ExerciseForm()
    if request.method == "POST":
        if not editable:
            raise PermissionDenied(_("Only therapists and administrators edit the exercise library."))
        form = ExerciseForm(request.POST)
        if form.is_valid():
            try:
                exercise = exercise_create(actor=Actor.from_request(request), clinic=clinic, fields=form.cleaned_data)
            except InvalidInput as exc:
                _form_errors(form, exc.errors)
            else:
                messages.success(request, _("Exercise added to the library."))
                return redirect("frontend:clinic-exercise", exercise.pk)
    exercises = list(selectors.library_list([clinic.pk], include_retired=True))
    context = {"clinic": clinic, "exercises": exercises, "form": form, "editable": editable}
    return render(request, LIBRARY_TEMPLATE, context, status=400 if form.errors else 200)


def _exercise(request: HttpRequest, exercise_id: int, *, write: bool) -> Exercise:
    exercise = selectors.exercise_for_staff(request.user, exercise_id)
    if exercise is None:
        raise Http404
    if write and not can_edit_library(request.user, exercise.clinic_id):
        raise PermissionDenied(_("Only therapists and administrators edit the exercise library."))
    return exercise


def _exercise_context(exercise: Exercise, form: ExerciseForm, media_form: MediaForm, editable: bool) -> dict[str, Any]:
    image_max, video_max = media_limits()
    return {
        "exercise": exercise,
        "form": form,
        "media_form": media_form,
        "media": [(m, media_url(m)) for m in exercise.media.all()],
        "pictogram_url": pictogram_url(exercise),
        "editable": editable,
        "image_max": image_max,
        "video_max": video_max,
    }


@login_required
@require_http_methods(["GET", "POST"])
def exercise_edit(request: HttpRequest, exercise_id: int) -> HttpResponse:
    exercise = _exercise(request, exercise_id, write=request.method == "POST")
    editable = can_edit_library(request.user, exercise.clinic_id)
    initial = {name: getattr(exercise, name) for name in ExerciseForm.base_fields}
    form = ExerciseForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        is_active = data.pop("is_active")
        try:
            exercise_update(actor=Actor.from_request(request), exercise=exercise, fields=data, is_active=is_active)
        except InvalidInput as exc:
            _form_errors(form, exc.errors)
        else:
            messages.success(request, _("Exercise saved."))
            return redirect("frontend:clinic-exercise", exercise.pk)
    context = _exercise_context(exercise, form, MediaForm(), editable)
    return render(request, EXERCISE_TEMPLATE, context, status=400 if form.errors else 200)


@login_required
@require_POST
def exercise_media_upload(request: HttpRequest, exercise_id: int) -> HttpResponse:
    exercise = _exercise(request, exercise_id, write=True)
    media_form = MediaForm(request.POST, request.FILES)
    if media_form.is_valid():
        try:
            exercise_media_add(
                actor=Actor.from_request(request),
                exercise=exercise,
                upload=media_form.cleaned_data["file"],
                caption=media_form.cleaned_data["caption"],
            )
        except InvalidInput as exc:
            _form_errors(media_form, exc.errors)
        else:
            messages.success(request, _("Picture or video added."))
            return redirect("frontend:clinic-exercise", exercise.pk)
    initial = {name: getattr(exercise, name) for name in ExerciseForm.base_fields}
    context = _exercise_context(exercise, ExerciseForm(initial=initial), media_form, True)
    return render(request, EXERCISE_TEMPLATE, context, status=400)


@login_required
@require_POST
def exercise_media_remove(request: HttpRequest, exercise_id: int, media_id: int) -> HttpResponse:
    exercise = _exercise(request, exercise_id, write=True)
    media = exercise.media.filter(pk=media_id).first()
    if media is None:
        raise Http404
    exercise_media_delete(actor=Actor.from_request(request), media=media)
    messages.success(request, _("Picture or video removed."))
    return redirect("frontend:clinic-exercise", exercise.pk)


# -----------------------------------------------------------------------------
# Programme
# -----------------------------------------------------------------------------


def _programme_rows(patient: Patient, current: list[ProgrammeItem], data: Any = None) -> list[dict[str, Any]]:
    """One editor row per active library exercise: chosen or not, with its dose fields."""
    chosen = {item.exercise_id: item for item in current}
    rows = []
    for exercise in selectors.library_list([patient.clinic_id]):
        item = chosen.get(exercise.pk)
        source: Any = item if item is not None else exercise
        values = {name: getattr(source, name) for name in DOSE_FIELDS}
        values["progression_note"] = item.progression_note if item is not None else ""
        picked = item is not None
        if data is not None:
            picked = data.get(f"pick_{exercise.pk}") == "on"
            values = {name: data.get(f"{name}_{exercise.pk}", values[name]) for name in values}
        rows.append({"exercise": exercise, "picked": picked, "values": values, "order": item.order if item else 999})
    rows.sort(key=_row_key)
    return rows


def _row_key(row: dict[str, Any]) -> tuple[bool, int, str, str]:
    exercise: Exercise = row["exercise"]
    return (not row["picked"], int(row["order"]), exercise.type, exercise.name_en)


def _posted_items(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    items: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    for row in rows:
        if not row["picked"]:
            continue
        values: dict[str, Any] = {"exercise": row["exercise"].pk}
        for name in DOSE_FIELDS:
            try:
                values[name] = int(str(row["values"][name]).strip())
            except ValueError:
                errors[row["exercise"].name_en] = _("%(field)s must be a whole number.") % {"field": name}
        values["progression_note"] = str(row["values"]["progression_note"])[:MAX_TEXT]
        items.append(values)
    return items, errors


def _programme_context(patient: Patient, rows: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    programme = selectors.programme_for(patient)
    results, exercises = selectors.adherence_for(patient)
    return {
        "patient": patient,
        "programme": programme,
        "rows": rows,
        "version": programme.shown.latest_version if programme.shown else 0,
        "adherence": [(r, exercises[r.exercise_id]) for r in results],
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def programme_edit(request: HttpRequest, patient_id: int) -> HttpResponse:
    if request.method == "GET":
        patient = _patient(request, patient_id, audit="view.exercise_programme")
        rows = _programme_rows(patient, selectors.programme_for(patient).items)
        return render(request, PROGRAMME_TEMPLATE, _programme_context(patient, rows))
    patient = _patient(request, patient_id, action=Action.CLINICAL, audit="")
    rows = _programme_rows(patient, selectors.programme_for(patient).items, request.POST)
    items, errors = _posted_items(rows)
    reason = request.POST.get("reason", "")
    try:
        version = int(request.POST.get("version", "0") or 0)
    except ValueError:
        version = -1
    if not errors:
        try:
            programme_set(
                actor=Actor.from_request(request), patient=patient, expected_version=version, reason=reason, items=items
            )
        except (InvalidInput, ConflictError) as exc:
            errors = _readable(exc.errors, items)
        else:
            messages.success(request, _("Programme saved as a new plan version."))
            return redirect("frontend:clinic-exercise-programme", patient.pk)
    context = _programme_context(patient, rows, errors=errors, reason=reason)
    return render(request, PROGRAMME_TEMPLATE, context, status=409 if "version" in errors else 400)


def _readable(errors: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, str]:
    """Service errors keyed by what the therapist sees (exercise names, not list indexes)."""
    names = dict(Exercise.objects.filter(pk__in=[i["exercise"] for i in items]).values_list("pk", "name_en"))
    shown: dict[str, str] = {}
    for key, value in errors.items():
        if key == "items" and isinstance(value, dict):
            for index, problems in value.items():
                name = names.get(items[int(index)]["exercise"], index) if index.isdigit() else index
                shown[str(name)] = "; ".join(f"{k}: {v}" for k, v in problems.items())
        elif key != "current_version":
            shown[key] = str(value)
    return shown


@login_required
@require_GET
def programme_adherence(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The adherence table alone, for the patient page (loaded by htmx)."""
    patient = _patient(request, patient_id, audit="view.exercise_adherence")
    results, exercises = selectors.adherence_for(patient)
    context = {"patient": patient, "adherence": [(r, exercises[r.exercise_id]) for r in results], "compact": True}
    return render(request, PROGRAMME_TEMPLATE + "#adherence", context)


# -----------------------------------------------------------------------------
# Print
# -----------------------------------------------------------------------------


@login_required
@require_GET
def programme_print(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The programme on paper, in the patient's language, a few exercises per page."""
    try:
        patient = patient_get_for(Actor.from_request(request), patient_id, audit="view.exercise_print")
    except PatientNotFound as exc:
        raise Http404 from exc
    programme = selectors.programme_for(patient)
    chinese = patient.language.lower().startswith("zh")
    items = [
        {
            "item": item,
            "name": item.exercise.name_zh if chinese else item.exercise.name_en,
            "steps": steps_of(item.exercise.steps_zh if chinese else item.exercise.steps_en),
            "precautions": item.exercise.precautions_zh if chinese else item.exercise.precautions_en,
            # A timed exercise (walking 20 min) reads in minutes, as on the phone.
            "minutes": round(item.hold_seconds / 60) if item.reps == 1 and item.hold_seconds >= 120 else None,
            "picture": next((media_url(m) for m in item.exercise.media.all() if m.kind == "image"), None)
            or pictogram_url(item.exercise),
        }
        for item in programme.items
    ]
    with translation.override(patient.language):
        response = render(
            request,
            PRINT_TEMPLATE,
            {"patient": patient, "programme": programme, "items": items, "lang": patient.language},
        )
    response["Cache-Control"] = "private, no-store"
    return response
