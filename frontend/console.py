"""The therapist console's patient page as the templates show it.

From a :class:`frontend.selectors.PatientPage` (plain reads): the figure JSON of every
chart (built by the pure ``frontend.charts``), the plan card's rows and status in the
reader's language, and the clinic entry forms with their htmx wiring (inline validation
on change, redraw on a component or modality choice). No writes, no access decisions:
the views do those.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.urls import reverse
from django.utils.translation import gettext as _

from assessments.instruments import GAD7, ODI, PHQ9
from frontend import charts
from frontend.forms import (
    PARAM_PREFIX,
    ClinicForm,
    DN4Form,
    ODIForm,
    PlanComponentForm,
    SessionForm,
    ThermalForm,
    bilingual,
    hemisphere_relation,
    limit_titles,
)
from frontend.selectors import PatientPage, local_day, plan_component_of, thermal_readings
from patients.models import Patient
from therapies.modalities import MODALITIES
from therapies.modality_names import modality_short_name
from therapies.selectors import plan_end_date, plan_status
from therapies.services import patient_today

# -----------------------------------------------------------------------------
# Charts
# -----------------------------------------------------------------------------


def chart_labels() -> dict[str, str]:
    return {
        "nrs_daily": _("Daily NRS"),
        "nrs_mean": _("7-day mean"),
        "baseline": _("Baseline"),
        "reduction_30": _("−30 %"),
        "reduction_50": _("−50 %"),
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


def _scored(rows: Sequence[Mapping[str, Any]], tz: str) -> list[tuple[dt.date, float]]:
    """(local day, total) of the scored entries that no later entry replaced."""
    return [
        (local_day(row["recorded_at"], tz), row["total"])
        for row in rows
        if row["total"] is not None and row["superseded_by"] is None
    ]


def _dn4_points(rows: Sequence[Mapping[str, Any]], tz: str) -> list[tuple[dt.date, float, str]]:
    return [
        (local_day(row["recorded_at"], tz), row["total"], row["detail"].get("variant", "full"))
        for row in rows
        if row["total"] is not None and row["superseded_by"] is None
    ]


def _nrs_chart(page: PatientPage, labels: Mapping[str, str]) -> dict[str, Any]:
    """The diary with its baseline (``assessments.outcomes``, via the page's need facts),
    the plan versions' starts and the delivered sessions."""
    tz = page.patient.time_zone
    return charts.nrs_figure(
        [(local_day(row["recorded_at"], tz), row["total"]) for row in page.series["nrs"] if row["total"] is not None],
        baseline=page.need.get("pain_baseline"),
        plan_versions=[(row["start_date"], f"v{row['version']}") for row in page.plan_versions],
        sessions=[(local_day(s.delivered_at, tz), modality_short_name(s.modality)) for s in page.sessions],
        labels=labels,
    )


def _questionnaire_charts(page: PatientPage, labels: Mapping[str, str]) -> dict[str, tuple[str, dict[str, Any]]]:
    tz = page.patient.time_zone
    series = page.series
    return {
        "phq9": (
            "PHQ-9",
            charts.banded_figure(
                _scored(series["phq9"], tz),
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
                _scored(series["gad7"], tz),
                bands=_bands(GAD7),
                name="GAD-7",
                cutoff=GAD7.cutoff,
                cutoff_label="≥ 10",
                labels=labels,
            ),
        ),
        "dn4": ("DN4", charts.dn4_figure(_dn4_points(series["dn4"], tz), labels=labels)),
        "odi": (
            _("ODI disability index (0–100)"),
            charts.banded_figure(_scored(series["odi"], tz), bands=_bands(ODI), name="ODI %", labels=labels),
        ),
    }


def patient_figures(page: PatientPage) -> dict[str, dict[str, str]]:
    """Figure JSON for every chart of the page, from the page's plain series."""
    labels = chart_labels()
    thermal = [
        charts.ThermalReading(day, deltas, poor)
        for day, deltas, poor in thermal_readings(page.series["thermal"], page.patient.time_zone)
    ]
    questionnaires = _questionnaire_charts(page, labels)
    figures = {
        "nrs": (_("Pain (NRS 0–10)"), _nrs_chart(page, labels)),
        "thermal": (_("Thermal asymmetry per region"), charts.thermal_figure(thermal, labels=labels)),
        **{code: questionnaires[code] for code in ("phq9", "gad7", "dn4", "odi")},
    }
    return {
        name: {"id": name, "title": title, "json": charts.figure_json(fig)} for name, (title, fig) in figures.items()
    }


# -----------------------------------------------------------------------------
# Plan card
# -----------------------------------------------------------------------------


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


def _component_params(component: Any, modality: Any, affected_side: str) -> list[str]:
    """A component's parameters in words, in the catalogue's order (a JSON column does not
    keep the order keys were written in); rTMS says how its hemisphere stands to the pain."""
    order = {p.key: index for index, p in enumerate(modality.params)} if modality else {}
    params = []
    for key, value in sorted(component.parameters.items(), key=lambda item: order.get(item[0], len(order))):
        param = next((p for p in modality.params if p.key == key), None) if modality else None
        text = _param_text(param, key, value)
        if component.modality == "rtms" and key == "hemisphere":
            relation = hemisphere_relation(value, affected_side)
            text = f"{text} ({relation})" if relation else text
        params.append(text)
    if component.modality == "rtms" and "hemisphere" not in component.parameters:
        params.append(str(_("Hemisphere not recorded")))
    return params


def plan_rows(page: PatientPage) -> list[dict[str, Any]]:
    """The current plan's components, labelled in the active language."""
    if page.plan is None:
        return []
    rows = []
    for component in page.plan.components.all():
        modality = MODALITIES.get(component.modality)
        rows.append(
            {
                "id": component.pk,
                "layer": component.get_layer_display(),
                "name": bilingual(modality.name) if modality else component.modality,
                "params": " · ".join(_component_params(component, modality, page.patient.affected_side)),
                "frequency": component.frequency_per_week,
                "weeks": component.duration_weeks,
                "overridden": limit_titles(component.modality, component.overridden_limits),
                "override_reason": component.override_reason,
                "override_by": page.plan.author.get_username() if page.plan.author else "",
            }
        )
    return rows


def plan_state(page: PatientPage) -> dict[str, Any]:
    """The latest version's own status for the plan card: running, ended or not started."""
    if page.plan is None:
        return {}
    return {
        "plan_status": plan_status(page.plan, patient_today(page.patient)),
        "plan_end": plan_end_date(page.plan),
    }


# -----------------------------------------------------------------------------
# Clinic entry forms
# -----------------------------------------------------------------------------

FORM_PREFIXES = {"thermal": "th", "dn4": "dn4", "odi": "odi", "session": "ses", "plan": "plan"}
FORM_CLASSES: dict[str, type[ClinicForm]] = {
    "thermal": ThermalForm,
    "dn4": DN4Form,
    "odi": ODIForm,
    "session": SessionForm,
    "plan": PlanComponentForm,
}


def _edited_component(page: PatientPage, component_id: Any) -> Any:
    """The plan component the plan form edits (None: a new one)."""
    if not component_id:
        return None
    if page.plan is not None:
        for component in page.plan.components.all():
            if str(component.pk) == str(component_id):
                return component
    # A component of an older version: the editor's page is stale. Build the form anyway
    # so the service's version check can say so.
    return plan_component_of(page.patient, component_id)


def _form_kwargs(kind: str, page: PatientPage, component_id: Any) -> dict[str, Any]:
    patient = page.patient
    kwargs: dict[str, Any] = {"tz": patient.time_zone, "prefix": FORM_PREFIXES[kind]}
    if kind == "thermal":
        kwargs.update(affected_side=patient.affected_side, regions=page.thermal_regions)
    elif kind == "dn4":
        kwargs.update(interview=page.dn4_interview)
    elif kind == "session":
        kwargs.update(
            components=list(page.plan.components.all()) if page.plan else [],
            plan_end=plan_end_date(page.plan) if page.plan else None,
            affected_side=patient.affected_side,
        )
    elif kind == "plan":
        component = _edited_component(page, component_id)
        kwargs.update(plan=page.plan, component=component, affected_side=patient.affected_side)
    return kwargs


def build_form(
    kind: str,
    page: PatientPage,
    *,
    data: Any = None,
    initial: Mapping[str, Any] | None = None,
    component_id: Any = None,
) -> ClinicForm:
    """The entry form of ``kind`` for the page's patient, wired for htmx; the plan form
    edits the component ``component_id`` (None: adds one)."""
    form = FORM_CLASSES[kind](data, initial=dict(initial or {}), **_form_kwargs(kind, page, component_id))
    _wire_inline_validation(form, kind, page.patient)
    return form


def _wire_inline_validation(form: ClinicForm, kind: str, patient: Patient) -> None:
    """Every visible field posts the whole form to the validate view on change and shows
    the answer in its own feedback slot (errors and non-blocking warnings)."""
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
        _redraw_on_choice(form, ("component", "modality"), "frontend:clinic-session", "#session-form", patient)
    if kind == "plan":
        for name, field in form.fields.items():
            if name.startswith(PARAM_PREFIX) and isinstance(field, forms.FloatField | forms.IntegerField):
                field.widget.attrs["hx-trigger"] = "change, keyup changed delay:400ms"
        if "modality" in form.fields:
            _redraw_on_choice(form, ("modality",), "frontend:clinic-plan-edit", "#plan-form", patient)


def _redraw_on_choice(form: ClinicForm, names: Sequence[str], view: str, target: str, patient: Patient) -> None:
    """A choice that changes the form's fields redraws the whole form instead of validating."""
    swap = {
        "hx-get": reverse(view, args=[patient.pk]),
        "hx-target": target,
        "hx-swap": "outerHTML",
        "hx-include": "closest form",
    }
    for name in names:
        attrs = form.fields[name].widget.attrs
        attrs.pop("hx-post", None)
        attrs.update(swap)
