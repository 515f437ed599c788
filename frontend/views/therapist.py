"""Therapist console under /clinic/: worklist, patient page, clinic entry forms, alerts.

Views are thin: fetch through the access helper (patients.access, which audits), read
through the selectors (``assessments.worklist``, ``frontend.selectors``), write through
the services, and render a full page or, for htmx, a partial (``template#name``;
responses vary on HX-Request). What the page shows is shaped by ``frontend.console``;
the forms show the services' errors themselves (``ClinicForm.apply_errors``). Forms post
with htmx and fall back to plain POST + redirect without JavaScript.

Who may do what: therapists on the care team see and enter data (Action.CLINICAL);
managers and clinic administrators read (Action.VIEW) and get 403 on every form; anyone
else gets 404, whether the patient exists or not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessments.alerts.services import alert_acknowledge
from assessments.capture.services import assessment_record
from assessments.models import Alert, Source
from assessments.worklist import NEEDS, WorklistFilters, patient_need, worklist_rows, worklist_safety_alerts
from config.errors import ConflictError, InvalidInput
from frontend.console import (
    FORM_CLASSES,
    FORM_PREFIXES,
    build_form,
    patient_figures,
    plan_rows,
    plan_state,
)
from frontend.forms import (
    PARAM_PREFIX,
    AlertAcknowledgeForm,
    ClinicForm,
    DN4Form,
    ODIForm,
    PlanComponentForm,
    SessionForm,
    ThermalForm,
)
from frontend.selectors import PatientPage, alert_history, entry_page, patient_page
from patients.access import Action, PatientNotFound, patient_get_for, primary_role, visible_patients
from patients.audit import Actor, audit_list_record
from patients.models import Diagnosis, Patient, Role
from therapies.services import plan_version_create, session_record

PATIENT_TEMPLATE = "frontend/therapist/patient.html"
WORKLIST_TEMPLATE = "frontend/therapist/worklist.html"


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _require_staff(request: HttpRequest) -> None:
    """The console is for clinic staff (``patients.access.primary_role``); anyone else gets 404."""
    if primary_role(request.user) not in Role.values:
        raise Http404


def _patient(
    request: HttpRequest,
    patient_id: int,
    *,
    action: Action = Action.VIEW,
    audit: str | None = None,
    log_access: bool = True,
) -> Patient:
    """The access helper, as HTTP: 404 for strangers, 403 for read-only staff on a write."""
    _require_staff(request)
    try:
        return patient_get_for(
            Actor.from_request(request), patient_id, action=action, audit=audit, log_access=log_access
        )
    except PatientNotFound as exc:
        if action != Action.VIEW and visible_patients(request.user).filter(pk=patient_id).exists():
            raise PermissionDenied(_("Only therapists on the care team can record clinical data.")) from exc
        raise Http404 from exc


def _vary(response: HttpResponse) -> HttpResponse:
    patch_vary_headers(response, ["HX-Request"])
    return response


def _diagnosis_labels(codes: list[str]) -> list[str]:
    labels = dict(Diagnosis.choices)
    return [str(labels.get(code, code)) for code in codes]


# -----------------------------------------------------------------------------
# Worklist
# -----------------------------------------------------------------------------


@login_required
@require_GET
def worklist(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    filters = WorklistFilters.from_query(request.GET)
    rows = worklist_rows(request.user, filters)
    ids = [row.pk for row in rows]
    for row in rows:
        row.diagnosis_labels = _diagnosis_labels(row.diagnoses)  # type: ignore[attr-defined]
    audit_list_record(
        actor=Actor.from_request(request),
        object_type="worklist",
        patient_ids=ids,
        detail={"filters": {k: v for k, v in vars(filters).items() if v}},
    )
    context: dict[str, Any] = {
        "rows": rows,
        "filters": filters,
        "needs": NEEDS,
        "diagnoses": Diagnosis.choices,
    }
    if _is_htmx(request):
        return _vary(render(request, WORKLIST_TEMPLATE + "#rows", context))
    context["is_therapist"] = primary_role(request.user) == Role.THERAPIST
    context["safety_alerts"] = _with_ack_forms(worklist_safety_alerts(ids), can_ack=context["is_therapist"])
    return _vary(render(request, WORKLIST_TEMPLATE, context))


# -----------------------------------------------------------------------------
# Patient page
# -----------------------------------------------------------------------------


def _component_id(request: HttpRequest) -> str | None:
    """The plan component a plan form edits: ``?component=`` on a redraw, the form's own
    hidden field on a post."""
    return request.GET.get("component") or request.POST.get("plan-component_id")


def _form(request: HttpRequest, kind: str, page: PatientPage, **kwargs: Any) -> ClinicForm:
    return build_form(kind, page, component_id=_component_id(request), **kwargs)


def _page_context(request: HttpRequest, page: PatientPage, **forms: ClinicForm) -> dict[str, Any]:
    context: dict[str, Any] = {
        "page": page,
        "patient": page.patient,
        "need": page.need,
        "figures": patient_figures(page),
        "needs": {c: label for c, _r, label in NEEDS},
        "plan_rows": plan_rows(page),
        "alert_history": page.alert_history,
        **plan_state(page),
        "diagnosis_labels": _diagnosis_labels(page.patient.diagnoses),
    }
    _with_ack_forms(page.alerts, can_ack=page.can_edit)
    if page.can_edit:
        for kind in ("thermal", "dn4", "odi", "session"):
            context[f"{kind}_form"] = forms.get(kind) or _form(request, kind, page)
        if "plan" in forms:
            context["plan_form"] = forms["plan"]
    return context


@login_required
@require_GET
def patient_detail(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = _patient(request, patient_id, audit="view.console")
    page = patient_page(request.user, patient)
    return render(request, PATIENT_TEMPLATE, _page_context(request, page))


# -----------------------------------------------------------------------------
# Clinic entry
# -----------------------------------------------------------------------------


def _entry_page(patient: Patient, kind: str) -> PatientPage:
    """What the entry form of ``kind`` needs of the page (no chart reads)."""
    return entry_page(patient, with_plan=kind in ("session", "plan"), with_dn4=kind == "dn4")


@login_required
@require_POST
def form_validate(request: HttpRequest, patient_id: int, kind: str) -> HttpResponse:
    """Inline validation: the feedback slot of the field that changed (nothing is saved).

    Not audited as a read: it echoes the clinician's own input back.
    """
    if kind not in FORM_CLASSES:
        raise Http404
    patient = _patient(request, patient_id, action=Action.CLINICAL, log_access=False)
    page = entry_page(patient, with_plan=kind in ("session", "plan"))
    form = _form(request, kind, page, data=request.POST)
    form.is_valid()
    trigger = getattr(getattr(request, "htmx", None), "trigger_name", None) or ""
    name = trigger.removeprefix(f"{form.prefix}-")
    if name not in form.fields:
        return HttpResponse("")
    response = render(
        request,
        PATIENT_TEMPLATE + "#feedback",
        {"errors": form.errors.get(name, []), "warning": form.warnings().get(name)},
    )
    if kind == "plan":
        # The limits panel follows the parameters as they are typed (current, density, charge).
        panel = render(request, PATIENT_TEMPLATE + "#limit_panel", {"form": form, "oob": True, "live": True})
        response.content = response.content + panel.content
    return response


def _saved(request: HttpRequest, patient: Patient, kind: str, message: str) -> HttpResponse:
    """After a write: htmx gets a fresh form plus out-of-band updates (the page read once,
    after the write); plain POST a redirect."""
    if not _is_htmx(request):
        return redirect("frontend:patient-detail", patient.pk)
    page = patient_page(request.user, patient)
    context = _page_context(request, page)
    context.update({"saved_kind": kind, "saved_message": message, "oob": True})
    response = render(request, PATIENT_TEMPLATE + "#saved", context)
    if kind == "plan":
        # The plan card holds the form that was posted: replace the card, not the form.
        response["HX-Retarget"] = "#plan-card"
        response["HX-Reswap"] = "outerHTML"
    return response


def _invalid(
    request: HttpRequest,
    patient: Patient,
    kind: str,
    form: ClinicForm,
    page: PatientPage | None = None,
) -> HttpResponse:
    """The form again with its errors: htmx gets the form alone, plain POST the whole page
    (read here, once) with a 400."""
    if _is_htmx(request):
        return render(
            request,
            PATIENT_TEMPLATE + f"#{kind}_form",
            {"page": page or entry_page(patient), "patient": patient, f"{kind}_form": form},
        )
    full = patient_page(request.user, patient)
    return render(request, PATIENT_TEMPLATE, _page_context(request, full, **{kind: form}), status=400)


def _clinician_entry(request: HttpRequest, patient_id: int, kind: str, saved: str) -> HttpResponse:
    """Record a clinic measurement (thermal reading, DN4 examination, ODI scores) from its
    form: the one capture service, its errors shown on the fields they name."""
    patient = _patient(request, patient_id, action=Action.CLINICAL, log_access=False)
    page = _entry_page(patient, kind)
    form = cast(ThermalForm | DN4Form | ODIForm, _form(request, kind, page, data=request.POST))
    if form.is_valid():
        try:
            assessment_record(
                actor=Actor.from_request(request),
                patient=patient,
                instrument=kind,
                answers=form.answers(),
                recorded_at=form.when(),
                client_uuid=form.cleaned_data["client_uuid"],
                source=Source.CLINICIAN,
            )
        except (InvalidInput, ConflictError) as exc:
            form.apply_errors(exc.errors)
        else:
            return _saved(request, patient, kind, saved)
    return _invalid(request, patient, kind, form, page)


@login_required
@require_POST
def thermal_record(request: HttpRequest, patient_id: int) -> HttpResponse:
    return _clinician_entry(request, patient_id, "thermal", _("Thermal reading saved."))


@login_required
@require_POST
def dn4_record(request: HttpRequest, patient_id: int) -> HttpResponse:
    return _clinician_entry(request, patient_id, "dn4", _("DN4 examination saved."))


@login_required
@require_POST
def odi_record(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The ODI's section scores from the paper form (no licensed wording needed on screen)."""
    return _clinician_entry(request, patient_id, "odi", _("ODI scores saved."))


def _redraw_initial(query: Mapping[str, str], kind: str) -> dict[str, str]:
    """The form's own fields from the query string (htmx hx-include); modality parameter
    fields and the client_uuid are left out, to be rebuilt fresh for the new choice."""
    prefix = f"{FORM_PREFIXES[kind]}-"
    initial = {}
    for key, value in query.items():
        name = key.removeprefix(prefix)
        if key.startswith(prefix) and not name.startswith(PARAM_PREFIX) and name != "client_uuid":
            initial[name] = value
    return initial


def _redraw_form(request: HttpRequest, patient_id: int, kind: str) -> HttpResponse:
    """GET on a form endpoint: redraw the form for the chosen component / modality."""
    patient = _patient(request, patient_id, action=Action.CLINICAL, audit="view.form")
    page = _entry_page(patient, kind)
    form = _form(request, kind, page, initial=_redraw_initial(request.GET, kind))
    return _vary(
        render(request, f"{PATIENT_TEMPLATE}#{kind}_form", {"page": page, "patient": patient, f"{kind}_form": form})
    )


@login_required
@require_http_methods(["GET", "POST"])
def session_record_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """GET redraws the form for the chosen component / modality; POST records the session."""
    if request.method == "GET":
        return _redraw_form(request, patient_id, "session")
    patient = _patient(request, patient_id, action=Action.CLINICAL, log_access=False)
    page = _entry_page(patient, "session")
    form = cast(SessionForm, _form(request, "session", page, data=request.POST))
    if form.is_valid():
        data = form.cleaned_data
        component = form.component_obj
        try:
            session_record(
                actor=Actor.from_request(request),
                patient=patient,
                delivered_at=form.when("delivered_at"),
                client_uuid=data["client_uuid"],
                modality=None if component is not None else data.get("modality") or None,
                component_id=component.pk if component is not None else None,
                parameters=form.parameters() if form.modality_obj is not None else None,
                adverse_event=data["adverse_event"],
                adverse_event_note=data.get("adverse_event_note", ""),
                tolerance=data.get("tolerance", ""),
                override_reason=data.get("override_reason", ""),
            )
        except (InvalidInput, ConflictError) as exc:
            form.apply_errors(exc.errors)
        else:
            return _saved(request, patient, "session", _("Session recorded."))
    return _invalid(request, patient, "session", form, page)


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Edit, add or remove one plan component; saving creates the next plan version."""
    if request.method == "GET":
        return _redraw_form(request, patient_id, "plan")
    patient = _patient(request, patient_id, action=Action.CLINICAL, log_access=False)
    page = _entry_page(patient, "plan")
    form = cast(PlanComponentForm, _form(request, "plan", page, data=request.POST))
    if form.is_valid():
        try:
            plan_version_create(
                actor=Actor.from_request(request),
                patient=patient,
                expected_version=form.cleaned_data["expected_version"],
                reason=form.cleaned_data["reason"],
                components=form.components(),
            )
        except (InvalidInput, ConflictError) as exc:
            form.apply_errors(exc.errors)
        else:
            return _saved(request, patient, "plan", _("Plan saved as a new version."))
    return _invalid(request, patient, "plan", form, page)


# -----------------------------------------------------------------------------
# Alerts
# -----------------------------------------------------------------------------


def _with_ack_forms(alerts: list[Alert], *, can_ack: bool) -> list[Alert]:
    """Give each open alert the form that acknowledges it (shown to the care team only)."""
    if can_ack:
        for alert in alerts:
            if alert.is_open and not hasattr(alert, "ack_form"):
                alert.ack_form = AlertAcknowledgeForm(alert=alert)  # type: ignore[attr-defined]
    return alerts


def _acknowledged(request: HttpRequest, alert: Alert, context: dict[str, Any]) -> HttpResponse:
    if not _is_htmx(request):
        if request.POST.get("next") == "worklist":
            return redirect("frontend:worklist")
        return redirect("frontend:patient-detail", alert.patient_id)
    response = render(request, PATIENT_TEMPLATE + "#alert", {**context, "alert": alert})
    response["HX-Trigger"] = "alertAcknowledged"
    return response


@login_required
@require_POST
def alert_ack(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Acknowledge an alert with what was done: therapists on the patient's care team only.

    htmx gets the alert's list item back (with the form and its errors when refused) and
    an ``alertAcknowledged`` event, on which the worklist rows, the patient header's
    status and the alert history re-read themselves.
    """
    _require_staff(request)
    found = Alert.objects.filter(pk=alert_id).select_related("patient").first()
    if found is None:
        raise Http404
    patient = _patient(request, found.patient_id, action=Action.CLINICAL, log_access=False)
    form = AlertAcknowledgeForm(request.POST, alert=found)
    context = {"can_ack": True, "show_patient": request.POST.get("show_patient") == "1"}
    if form.is_valid():
        try:
            alert = alert_acknowledge(
                actor=Actor.from_request(request),
                alert_id=alert_id,
                action=form.cleaned_data["action"],
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            )
        except InvalidInput as exc:
            form.apply_errors(exc.errors)
        else:
            return _acknowledged(request, alert, context)
    found.ack_form = form  # type: ignore[attr-defined]
    if _is_htmx(request):
        return render(request, PATIENT_TEMPLATE + "#alert", {**context, "alert": found, "ack_open": True})
    page = patient_page(request.user, patient)
    for alert in page.alerts:
        if alert.pk == found.pk:
            alert.ack_form = form  # type: ignore[attr-defined]
    return render(request, PATIENT_TEMPLATE, _page_context(request, page), status=400)


@login_required
@require_GET
def patient_status(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The patient header's status (need badge, pain figures): the fragment htmx re-reads
    on a timer and after an acknowledgement. Audited like any read of the record."""
    patient = _patient(request, patient_id, audit="view.status")
    context = {
        "patient": patient,
        "need": patient_need(request.user, patient),
        "needs": {c: label for c, _r, label in NEEDS},
    }
    return _vary(render(request, PATIENT_TEMPLATE + "#need", context))


@login_required
@require_GET
def patient_alerts(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The patient's alert history card: the fragment htmx re-reads after an acknowledgement."""
    patient = _patient(request, patient_id, audit="view.alerts")
    context = {"patient": patient, "alert_history": alert_history(patient)}
    return _vary(render(request, PATIENT_TEMPLATE + "#alert_history", context))
