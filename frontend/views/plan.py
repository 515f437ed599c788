"""The rehab plan page: current plan as two lanes (central, peripheral) over a Mon–Sun week.

One page for both the patient (their own plan) and the care team (any patient the access
helper lets them view); which nav to show is the only difference. Everything shown is
built here from plain data, so the template only lays it out.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.dates import WEEKDAYS, WEEKDAYS_ABBR
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from frontend.forms import hemisphere_relation, limit_titles
from patients.access import PatientNotFound, own_patient_id, patient_get_for
from patients.audit import Actor
from patients.models import Patient
from therapies import selectors
from therapies.adherence import (
    ComponentAdherence,
    PlanAdherence,
    component_window,
    weekly_pattern,
)
from therapies.modalities import MODALITIES, Param, Text
from therapies.modality_names import modality_short_name
from therapies.models import PlanComponent, RehabPlan
from therapies.services import patient_today


def _pick(text: Text, chinese: bool) -> str:
    return text.zh_hans if chinese else text.en


def _value(param: Param, value: Any, chinese: bool, *, derived: bool = False) -> str:
    if param.kind == "boolean":
        return _("Yes") if value else _("No")
    if param.kind == "choice" and value in param.choices:
        index = param.choices.index(value)
        return _pick(param.choice_labels[index], chinese) if index < len(param.choice_labels) else str(value)
    if isinstance(value, float):
        value = f"{value:.3g}" if derived else f"{value:g}"
    return f"{value} {param.unit}".strip()


def _parameters(component: PlanComponent, chinese: bool, affected_side: str = "") -> list[dict[str, str]]:
    modality = MODALITIES[component.modality]
    shown = []
    for param in (*modality.params, *modality.derived_params):
        derived = param not in modality.params
        source = component.derived if derived else component.parameters
        if param.key in source and source[param.key] not in ("", None):
            value = _value(param, source[param.key], chinese, derived=derived)
            if component.modality == "rtms" and param.key == "hemisphere":
                value = " · ".join(filter(None, [value, hemisphere_relation(source[param.key], affected_side)]))
            shown.append({"label": _pick(param.label, chinese), "value": value})
    return shown


def _row(
    component: PlanComponent,
    adherence: ComponentAdherence | None,
    today_index: int,
    chinese: bool,
    affected_side: str = "",
) -> dict[str, Any]:
    modality = MODALITIES[component.modality]
    pattern = weekly_pattern(component.frequency_per_week)
    return {
        "id": component.pk,
        "name": _pick(modality.name, chinese),
        "short_name": modality_short_name(modality.code),
        "frequency_per_week": component.frequency_per_week,
        "duration_weeks": component.duration_weeks,
        "sessions_prescribed": component.sessions_prescribed,
        "days": [
            {"count": count, "name": str(WEEKDAYS[i]), "is_today": i == today_index} for i, count in enumerate(pattern)
        ],
        "parameters": _parameters(component, chinese, affected_side),
        "overridden_limits": limit_titles(component.modality, component.overridden_limits),
        "override_by": component.plan.author.get_username() if component.plan.author else "",
        "override_reason": component.override_reason,
        "notes": component.notes,
        "adherence": adherence,
        "window_end": adherence.window_end if adherence else None,
    }


def plan_context(patient: Patient, plan: RehabPlan | None, adherence: PlanAdherence | None) -> dict[str, Any]:
    chinese = (translation.get_language() or "en").lower().startswith("zh")
    today = patient_today(patient)
    today_index = today.weekday()
    lanes = []
    if plan is not None:
        by_component = adherence.by_component() if adherence else {}
        components = list(plan.components.all())
        for layer, title, hint in (
            ("central", _("Central"), _("Brain: tDCS, rTMS")),
            ("peripheral", _("Peripheral"), _("Body: exercise, manual therapy, stimulation, injections, medication")),
        ):
            rows = [
                _row(c, by_component.get(c.pk), today_index, chinese, patient.affected_side)
                for c in components
                if c.layer == layer
            ]
            lanes.append({"layer": layer, "title": title, "hint": hint, "rows": rows})
        weeks = [c.duration_weeks for c in components]
        end_date = component_window(plan.start_date, max(weeks))[1] if weeks else None
    else:
        end_date = None
    return {
        "patient": patient,
        "plan": plan,
        "lanes": lanes,
        "adherence": adherence,
        "end_date": end_date,
        "today": today,
        "weekdays": [
            {"abbr": str(WEEKDAYS_ABBR[i]), "name": str(WEEKDAYS[i]), "is_today": i == today_index} for i in range(7)
        ],
    }


@login_required
@require_GET
def plan_page(request: HttpRequest, patient_id: int) -> HttpResponse:
    try:
        patient = patient_get_for(Actor.from_request(request), patient_id, audit="view.page", object_type="rehab_plan")
    except PatientNotFound as exc:
        raise Http404 from exc
    shown = selectors.plan_for_patient(patient)
    plan = shown.plan if shown is not None else None
    adherence = selectors.plan_adherence_for(patient, plan) if plan is not None else None
    context = plan_context(patient, plan, adherence)
    context["plan_status"] = shown.status if shown is not None else None
    context["is_own"] = own_patient_id(request.user) == patient.pk
    context["history"] = list(selectors.plan_history(patient)[:20]) if plan is not None else []
    return render(request, "frontend/plan/page.html", context)
