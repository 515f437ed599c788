"""Therapist console under /clinic/: worklist, patient page, clinic entry forms, alerts.

Views are thin: fetch through the access helper (patients.access, which audits), read
through frontend.selectors, write through the services, render a full page or, for htmx,
a partial (``template#name``; responses vary on HX-Request). Forms post with htmx and
fall back to plain POST + redirect without JavaScript.

Who may do what: therapists on the care team see and enter data (Action.CLINICAL);
managers and clinic administrators read (Action.VIEW) and get 403 on every form; anyone
else gets 404, whether the patient exists or not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assessments.alerts.services import alert_acknowledge
from assessments.capture.services import assessment_record
from assessments.instruments import GAD7, ODI, PHQ9
from assessments.models import Alert, Source
from config.errors import ConflictError, InvalidInput
from frontend import charts
from frontend.forms import (
    PARAM_PREFIX,
    AlertAcknowledgeForm,
    ClinicForm,
    DN4Form,
    ODIForm,
    PlanComponentForm,
    SessionForm,
    ThermalForm,
    apply_service_errors,
    bilingual,
    hemisphere_relation,
    limit_titles,
)
from frontend.selectors import (
    NEEDS,
    PatientPage,
    WorklistFilters,
    alert_history,
    local_day,
    patient_need,
    patient_page,
    plan_component_of,
    thermal_readings,
    worklist_rows,
    worklist_safety_alerts,
)
from patients.access import Action, PatientNotFound, patient_get_for, primary_role, visible_patients
from patients.audit import Actor, audit_list_record
from patients.models import Diagnosis, Patient

PATIENT_TEMPLATE = "frontend/therapist/patient.html"
WORKLIST_TEMPLATE = "frontend/therapist/worklist.html"
STAFF_ROLES = ("therapist", "manager", "admin")
FORM_PREFIXES = {"thermal": "th", "dn4": "dn4", "odi": "odi", "session": "ses", "plan": "plan"}


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def _staff_only(request: HttpRequest) -> None:
    if primary_role(request.user) not in STAFF_ROLES:
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
    _staff_only(request)
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


# -----------------------------------------------------------------------------
# Worklist
# -----------------------------------------------------------------------------


@login_required
@require_GET
def worklist(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    filters = WorklistFilters.from_query(request.GET)
    rows = worklist_rows(request.user, filters)
    ids = [row.pk for row in rows]
    labels = dict(Diagnosis.choices)
    for row in rows:
        row.diagnosis_labels = [labels.get(code, code) for code in row.diagnoses]  # type: ignore[attr-defined]
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
    context["is_therapist"] = primary_role(request.user) == "therapist"
    context["safety_alerts"] = _with_ack_forms(worklist_safety_alerts(ids), can_ack=context["is_therapist"])
    return _vary(render(request, WORKLIST_TEMPLATE, context))


# -----------------------------------------------------------------------------
# Patient page
# -----------------------------------------------------------------------------


def _chart_labels() -> dict[str, str]:
    return {
        "nrs_daily": _("Daily NRS"),
        "nrs_mean": _("7-day mean"),
        "baseline": _("Baseline"),
        "reduction_30": _("−30 %"),
        "reduction_50": _("−50 %"),
        "session": _("Session"),
        "sessions_week": _("Sessions / week"),
        "dn4_full": _("DN4 (/10)"),
        "dn4_interview": _("DN4 interview (/7)"),
        "dn4_cutoff": _("≥ 4/10 neuropathic likely"),
        "dn4_interview_cutoff": _("≥ 3/7"),
        "delta_t": _("ΔT (°C)"),
        "poor_conditions": _("outside measurement conditions"),
        "symmetry": _("Mean |ΔT| over regions"),
        "no_data": _("No data yet"),
    }


def _bands(instrument: Any) -> list[charts.Band]:
    return [charts.Band(band.low, band.high, bilingual(band.label)) for band in instrument.bands]


def _figures(page: PatientPage) -> dict[str, dict[str, str]]:
    """Figure JSON for every chart of the page, from the page's plain series."""
    from therapies.modality_names import modality_short_name

    tz = page.patient.time_zone
    labels = _chart_labels()
    series = page.series
    nrs = [(local_day(row["recorded_at"], tz), row["total"]) for row in series["nrs"] if row["total"] is not None]
    versions = [(row["start_date"], f"v{row['version']}") for row in page.plan_versions]
    sessions = [
        (
            local_day(s.delivered_at, tz),
            modality_short_name(s.modality),
        )
        for s in page.sessions
    ]

    def points(code: str) -> list[tuple[Any, float]]:
        return [
            (local_day(row["recorded_at"], tz), row["total"])
            for row in series[code]
            if row["total"] is not None and row["superseded_by"] is None
        ]

    dn4 = [
        (
            local_day(row["recorded_at"], tz),
            row["total"],
            row["detail"].get("variant", "full"),
        )
        for row in series["dn4"]
        if row["total"] is not None and row["superseded_by"] is None
    ]
    thermal = [
        charts.ThermalReading(day, deltas, poor) for day, deltas, poor in thermal_readings(series["thermal"], tz)
    ]
    figures = {
        "nrs": (
            _("Pain (NRS 0–10)"),
            charts.nrs_figure(
                nrs,
                baseline=page.need.get("pain_baseline"),
                plan_versions=versions,
                sessions=sessions,
                labels=labels,
            ),
        ),
        "thermal": (
            _("Thermal asymmetry per region"),
            charts.thermal_figure(thermal, labels=labels),
        ),
        "phq9": (
            "PHQ-9",
            charts.banded_figure(
                points("phq9"),
                bands=_bands(PHQ9),
                name="PHQ-9",
                cutoff=PHQ9.cutoff,
                cutoff_label="≥ 10",
                labels=labels,
            ),
        ),
        "gad7": (
            "GAD-7",
            charts.banded_figure(
                points("gad7"),
                bands=_bands(GAD7),
                name="GAD-7",
                cutoff=GAD7.cutoff,
                cutoff_label="≥ 10",
                labels=labels,
            ),
        ),
        "dn4": ("DN4", charts.dn4_figure(dn4, labels=labels)),
        "odi": (
            _("ODI disability index (0–100)"),
            charts.banded_figure(points("odi"), bands=_bands(ODI), name="ODI %", labels=labels),
        ),
    }
    return {
        name: {"id": name, "title": title, "json": charts.figure_json(fig)} for name, (title, fig) in figures.items()
    }


def _form_kwargs(kind: str, page: PatientPage, request: HttpRequest) -> dict[str, Any]:
    patient = page.patient
    kwargs: dict[str, Any] = {"tz": patient.time_zone, "prefix": FORM_PREFIXES[kind]}
    if kind == "thermal":
        kwargs.update(affected_side=patient.affected_side, regions=page.thermal_regions)
    elif kind == "dn4":
        kwargs.update(interview=page.dn4_interview)
    elif kind == "session":
        from therapies.selectors import plan_end_date

        kwargs.update(
            components=list(page.plan.components.all()) if page.plan else [],
            plan_end=plan_end_date(page.plan) if page.plan else None,
            affected_side=patient.affected_side,
        )
    elif kind == "plan":
        component_id = request.GET.get("component") or request.POST.get("plan-component_id")
        component = None
        if page.plan is not None and component_id:
            component = next(
                (c for c in page.plan.components.all() if str(c.pk) == str(component_id)),
                None,
            )
        if component is None and component_id:
            # A component of an older version: the editor's page is stale. Build the form
            # anyway so the service's version check can say so.
            component = plan_component_of(patient, component_id)
        kwargs.update(plan=page.plan, component=component, affected_side=patient.affected_side)
    return kwargs


FORM_CLASSES: dict[str, type[ClinicForm]] = {
    "thermal": ThermalForm,
    "dn4": DN4Form,
    "odi": ODIForm,
    "session": SessionForm,
    "plan": PlanComponentForm,
}


def _build_form(
    kind: str,
    page: PatientPage,
    request: HttpRequest,
    *,
    data: Any = None,
    initial: Mapping[str, Any] | None = None,
) -> ClinicForm:
    form = FORM_CLASSES[kind](data, initial=dict(initial or {}), **_form_kwargs(kind, page, request))
    _wire_inline_validation(form, kind, page.patient)
    return form


def _wire_inline_validation(form: ClinicForm, kind: str, patient: Patient) -> None:
    """Every visible field posts the whole form to the validate view on change and shows
    the answer in its own feedback slot (errors and non-blocking warnings)."""
    from django.urls import reverse

    url = reverse("frontend:clinic-form-validate", args=[patient.pk, kind])
    for name, field in form.fields.items():
        if field.widget.is_hidden:
            continue
        target = f"#fb-{form.prefix}-{name}"
        field.widget.attrs.update(
            {
                "hx-post": url,
                "hx-trigger": "change",
                "hx-target": target,
                "hx-swap": "innerHTML",
                "aria-describedby": target[1:],
                # Saving the form wins: a check still under way (a change fired by the click on
                # Save) is aborted, so its answer never redraws the saved form's feedback.
                "hx-sync": "closest form:abort",
            }
        )
    if kind == "session":
        # Picking a component or modality redraws the form with its parameters.
        swap = {
            "hx-get": reverse("frontend:clinic-session", args=[patient.pk]),
            "hx-target": "#session-form",
            "hx-swap": "outerHTML",
            "hx-include": "closest form",
        }
        for name in ("component", "modality"):
            attrs = form.fields[name].widget.attrs
            attrs.pop("hx-post", None)
            attrs.update(swap)
    if kind == "plan":
        for name, field in form.fields.items():
            if name.startswith(PARAM_PREFIX) and isinstance(field, forms.FloatField | forms.IntegerField):
                field.widget.attrs["hx-trigger"] = "change, keyup changed delay:400ms"
    if kind == "plan" and "modality" in form.fields:
        attrs = form.fields["modality"].widget.attrs
        attrs.pop("hx-post", None)
        attrs.update(
            {
                "hx-get": reverse("frontend:clinic-plan-edit", args=[patient.pk]),
                "hx-target": "#plan-form",
                "hx-swap": "outerHTML",
                "hx-include": "closest form",
            }
        )


def _param_text(param: Any, key: str, value: Any) -> str:
    """ "Current 2 mA", "Anode site Primary motor cortex (M1)": a parameter as a clinician reads it."""
    if param is None:
        return f"{key} {value}"
    if param.kind == "boolean":
        shown = _("Yes") if value else _("No")
    elif param.kind == "choice" and value in param.choices and param.choices.index(value) < len(param.choice_labels):
        shown = bilingual(param.choice_labels[param.choices.index(value)])
    elif isinstance(value, float) and value.is_integer():
        shown = str(int(value))
    else:
        shown = str(value)
    unit = f" {param.unit}" if param.unit else ""
    return f"{bilingual(param.label)} {shown}{unit}"


def _plan_rows(page: PatientPage) -> list[dict[str, Any]]:
    """The current plan's components, labelled in the active language."""
    from therapies.modalities import MODALITIES

    if page.plan is None:
        return []
    rows = []
    for component in page.plan.components.all():
        modality = MODALITIES.get(component.modality)
        params = []
        # In the catalogue's order (a JSON column does not keep the order keys were written in).
        order = {p.key: index for index, p in enumerate(modality.params)} if modality else {}
        for key, value in sorted(component.parameters.items(), key=lambda item: order.get(item[0], len(order))):
            param = next((p for p in modality.params if p.key == key), None) if modality else None
            text = _param_text(param, key, value)
            if component.modality == "rtms" and key == "hemisphere":
                relation = hemisphere_relation(value, page.patient.affected_side)
                text = f"{text} ({relation})" if relation else text
            params.append(text)
        if component.modality == "rtms" and "hemisphere" not in component.parameters:
            params.append(str(_("Hemisphere not recorded")))
        rows.append(
            {
                "id": component.pk,
                "layer": component.get_layer_display(),
                "name": bilingual(modality.name) if modality else component.modality,
                "params": " · ".join(params),
                "frequency": component.frequency_per_week,
                "weeks": component.duration_weeks,
                "overridden": limit_titles(component.modality, component.overridden_limits),
                "override_reason": component.override_reason,
                "override_by": page.plan.author.get_username() if page.plan.author else "",
            }
        )
    return rows


def _plan_state(page: PatientPage) -> dict[str, Any]:
    """The latest version's own status for the plan card: running, ended or not started."""
    from therapies.selectors import plan_end_date, plan_status
    from therapies.services import patient_today

    if page.plan is None:
        return {}
    return {
        "plan_status": plan_status(page.plan, patient_today(page.patient)),
        "plan_end": plan_end_date(page.plan),
    }


def _page_context(request: HttpRequest, page: PatientPage, **forms: ClinicForm) -> dict[str, Any]:
    labels = dict(Diagnosis.choices)
    context: dict[str, Any] = {
        "page": page,
        "patient": page.patient,
        "need": page.need,
        "figures": _figures(page),
        "needs": {c: label for c, _r, label in NEEDS},
        "plan_rows": _plan_rows(page),
        "alert_history": page.alert_history,
        **_plan_state(page),
        "diagnosis_labels": [labels.get(code, code) for code in page.patient.diagnoses],
    }
    _with_ack_forms(page.alerts, can_ack=page.can_edit)
    if page.can_edit:
        for kind in ("thermal", "dn4", "odi", "session"):
            context[f"{kind}_form"] = forms.get(kind) or _build_form(kind, page, request)
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


@login_required
@require_POST
def form_validate(request: HttpRequest, patient_id: int, kind: str) -> HttpResponse:
    """Inline validation: the feedback slot of the field that changed (nothing is saved).

    Not audited as a read: it echoes the clinician's own input back.
    """
    if kind not in FORM_CLASSES:
        raise Http404
    patient = _patient(request, patient_id, action=Action.CLINICAL, log_access=False)
    page = _light_page(request, patient, with_plan=kind in ("session", "plan"))
    form = _build_form(kind, page, request, data=request.POST)
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


def _light_page(request: HttpRequest, patient: Patient, *, with_plan: bool = False) -> PatientPage:
    """A page without the chart reads, for forms that need the patient (and the plan) only."""
    from therapies.selectors import plan_current

    plan = plan_current(patient) if with_plan else None
    return PatientPage(
        patient=patient,
        need={},
        can_edit=True,
        series={},
        alerts=[],
        care_team=[],
        plan=plan,
    )


def _saved(request: HttpRequest, patient: Patient, kind: str, message: str) -> HttpResponse:
    """After a write: htmx gets a fresh form plus out-of-band updates; plain POST a redirect."""
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
    if _is_htmx(request):
        page = page or _light_page(request, patient)
        return render(
            request,
            PATIENT_TEMPLATE + f"#{kind}_form",
            {"page": page, "patient": patient, f"{kind}_form": form},
        )
    page = patient_page(request.user, patient)
    return render(
        request,
        PATIENT_TEMPLATE,
        _page_context(request, page, **{kind: form}),
        status=400,
    )


def _clinician_entry(
    request: HttpRequest,
    patient: Patient,
    kind: str,
    form: ThermalForm | DN4Form | ODIForm,
    saved: str,
    page: PatientPage | None = None,
) -> HttpResponse:
    """Record a clinic measurement (thermal reading, DN4 examination) from its form: the
    one capture service, its errors shown on the fields they name."""
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
            apply_service_errors(form, exc.errors, field_map=_answer_fields(form, exc.errors))
        else:
            return _saved(request, patient, kind, saved)
    return _invalid(request, patient, kind, form, page)


def _answer_fields(form: ThermalForm | DN4Form | ODIForm, errors: dict[str, Any]) -> dict[str, str]:
    """Form fields for the service's per-answer error paths (thermal ROI rows)."""
    answers = errors.get("answers")
    if not isinstance(answers, dict) or not isinstance(form, ThermalForm):
        return {}
    return {path: field for path in answers if (field := form.field_for_path(path))}


@login_required
@require_POST
def thermal_record(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = _patient(request, patient_id, action=Action.CLINICAL, log_access=False)
    form = _build_form("thermal", _light_page(request, patient), request, data=request.POST)
    return _clinician_entry(request, patient, "thermal", cast(ThermalForm, form), _("Thermal reading saved."))


@login_required
@require_POST
def dn4_record(request: HttpRequest, patient_id: int) -> HttpResponse:
    patient = _patient(request, patient_id, action=Action.CLINICAL, log_access=False)
    page = patient_page(request.user, patient)
    form = _build_form("dn4", page, request, data=request.POST)
    return _clinician_entry(request, patient, "dn4", cast(DN4Form, form), _("DN4 examination saved."), page)


@login_required
@require_POST
def odi_record(request: HttpRequest, patient_id: int) -> HttpResponse:
    """The ODI's section scores from the paper form (no licensed wording needed on screen)."""
    patient = _patient(request, patient_id, action=Action.CLINICAL, log_access=False)
    form = _build_form("odi", _light_page(request, patient), request, data=request.POST)
    return _clinician_entry(request, patient, "odi", cast(ODIForm, form), _("ODI scores saved."))


def _redraw_form(request: HttpRequest, patient_id: int, kind: str) -> HttpResponse:
    """GET on a form endpoint: redraw the form for the chosen component / modality.

    The form's own fields come back from the query string (htmx hx-include); modality
    parameter fields and the client_uuid are rebuilt fresh for the new choice.
    """
    patient = _patient(request, patient_id, action=Action.CLINICAL, audit="view.form")
    page = patient_page(request.user, patient)
    prefix = f"{FORM_PREFIXES[kind]}-"
    initial = {
        key.removeprefix(prefix): value
        for key, value in request.GET.items()
        if key.startswith(prefix)
        and not key.removeprefix(prefix).startswith(PARAM_PREFIX)
        and key.removeprefix(prefix) != "client_uuid"
    }
    form = _build_form(kind, page, request, initial=initial)
    return _vary(
        render(
            request,
            f"{PATIENT_TEMPLATE}#{kind}_form",
            {"page": page, "patient": patient, f"{kind}_form": form},
        )
    )


@login_required
@require_http_methods(["GET", "POST"])
def session_record_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    """GET redraws the form for the chosen component / modality; POST records the session."""
    from therapies.services import session_record

    if request.method == "GET":
        return _redraw_form(request, patient_id, "session")
    patient = _patient(request, patient_id, action=Action.CLINICAL, log_access=False)
    page = patient_page(request.user, patient)
    form = _build_form("session", page, request, data=request.POST)
    form = cast(SessionForm, form)
    if form.is_valid():
        data = form.cleaned_data
        try:
            session_record(
                actor=Actor.from_request(request),
                patient=patient,
                delivered_at=form.when("delivered_at"),
                client_uuid=data["client_uuid"],
                modality=None if form.component_obj is not None else data.get("modality") or None,
                component_id=form.component_obj.pk if form.component_obj is not None else None,
                parameters=form.parameters() if form.modality_obj is not None else None,
                adverse_event=data["adverse_event"],
                adverse_event_note=data.get("adverse_event_note", ""),
                tolerance=data.get("tolerance", ""),
                override_reason=data.get("override_reason", ""),
            )
        except (InvalidInput, ConflictError) as exc:
            apply_service_errors(form, exc.errors, field_map={"component": "component"})
        else:
            return _saved(request, patient, "session", _("Session recorded."))
    return _invalid(request, patient, "session", form, page)


def _component_name(form: PlanComponentForm, index: Any) -> str:
    from therapies.modalities import MODALITIES

    components = form.components() if hasattr(form, "cleaned_data") else []
    try:
        modality = MODALITIES.get(str(components[int(index)]["modality"]))
    except (IndexError, KeyError, ValueError, TypeError):
        modality = None
    return bilingual(modality.name) if modality is not None else str(_("component %(n)s") % {"n": index})


def _screen_errors(form: PlanComponentForm, errors: Mapping[str, Any]) -> dict[str, Any]:
    """The service's errors in the reader's words: limit breaches are shown by the limits
    panel, the override reason gets a translated message, parameter keys become labels."""
    out = dict(errors)
    if "override_reason" in out:
        from therapies.services import OVERRIDE_REASON_MIN_CHARS

        out["override_reason"] = str(
            _(
                "Going beyond a safety limit needs a reason of at least %(n)d characters: why it is right "
                "for this patient."
            )
            % {"n": OVERRIDE_REASON_MIN_CHARS}
        )
    parameters = out.get("parameters")
    modality = form.modality_obj
    if isinstance(parameters, Mapping) and modality is not None:
        breached = {row["code"] for row in form.breaches()}
        labels = {p.key: bilingual(p.label) for p in (*modality.params, *modality.derived_params)}
        kept: dict[str, Any] = {}
        for key, message in parameters.items():
            texts = list(message) if isinstance(message, list | tuple) else [message]
            if breached and all(" limit" in str(text) for text in texts):
                continue
            kept[key] = [_label_keys(str(text), labels) for text in texts]
        if kept:
            out["parameters"] = kept
        else:
            out.pop("parameters")
    return out


def _label_keys(text: str, labels: Mapping[str, str]) -> str:
    for key in sorted(labels, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(key)}\b", labels[key], text)
    return text


@login_required
@require_http_methods(["GET", "POST"])
def plan_edit(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Edit, add or remove one plan component; saving creates the next plan version."""
    from therapies.services import plan_version_create

    if request.method == "GET":
        return _redraw_form(request, patient_id, "plan")
    patient = _patient(request, patient_id, action=Action.CLINICAL, log_access=False)
    page = patient_page(request.user, patient)
    form = _build_form("plan", page, request, data=request.POST)
    form = cast(PlanComponentForm, form)
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
            errors = dict(exc.errors)
            mine = (errors.pop("components", None) or {}).get(str(form.component_index()), {})
            others = (
                {k: v for k, v in (exc.errors.get("components") or {}).items() if k != str(form.component_index())}
                if isinstance(exc.errors.get("components"), dict)
                else {}
            )
            if others:
                names = ", ".join(_component_name(form, index) for index in sorted(others, key=str))
                errors["__all__"] = [_("Another component of the plan is invalid: %(e)s") % {"e": names}]
            errors.pop("current_version", None)
            if "version" in errors:
                errors["__all__"] = [*errors.get("__all__", []), errors.pop("version")]
            apply_service_errors(form, _screen_errors(form, {**errors, **mine}))
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


@login_required
@require_POST
def alert_ack(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Acknowledge an alert with what was done: therapists on the patient's care team only.

    htmx gets the alert's list item back (with the form and its errors when refused) and
    an ``alertAcknowledged`` event, on which the worklist rows, the patient header's
    status and the alert history re-read themselves.
    """
    _staff_only(request)
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
            if not _is_htmx(request):
                if request.POST.get("next") == "worklist":
                    return redirect("frontend:worklist")
                return redirect("frontend:patient-detail", patient.pk)
            response = render(request, PATIENT_TEMPLATE + "#alert", {**context, "alert": alert})
            response["HX-Trigger"] = "alertAcknowledged"
            return response
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
