"""Clinic entry forms show the services' errors where the clinician can act on them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.utils import translation

from frontend.forms import PlanComponentForm, ThermalForm
from patients.audit import Actor
from therapies.services import plan_version_create

TDCS = {
    "anode_site": "M1",
    "cathode_site": "contralateral_supraorbital",
    "current_ma": 2,
    "duration_min": 20,
    "electrode_cm2": 35,
}


def _plan(therapist: Any, patient: Any) -> Any:
    return plan_version_create(
        actor=Actor(user=therapist),
        patient=patient,
        expected_version=0,
        reason="start",
        components=[
            {"modality": "tdcs", "parameters": TDCS, "frequency_per_week": 5, "duration_weeks": 2},
            {
                "modality": "physical_agents",
                "parameters": {"agent": "heat", "minutes": 20},
                "frequency_per_week": 2,
                "duration_weeks": 4,
            },
        ],
    )


def _tdcs_form(plan: Any) -> PlanComponentForm:
    component = plan.components.get(modality="tdcs")
    data = {
        "plan-client_uuid": str(uuid.uuid4()),
        "plan-expected_version": str(plan.version),
        "plan-reason": "Raise the dose",
        "plan-frequency_per_week": "5",
        "plan-duration_weeks": "3",
        **{f"plan-p_{key}": str(value) for key, value in TDCS.items()},
    }
    form = PlanComponentForm(data, prefix="plan", plan=plan, component=component)
    assert form.is_valid(), form.errors
    return form


@pytest.mark.django_db
def test_plan_errors_land_on_the_edited_component_and_name_the_others(therapist, patient):
    plan = _plan(therapist, patient)
    form = _tdcs_form(plan)
    index = str(form.component_index())
    other = "1" if index == "0" else "0"
    with translation.override("en"):
        form.apply_errors(
            {
                "components": {index: {"notes": ["Too long."]}, other: {"minutes": ["Out of range."]}},
                "version": "The plan was changed by someone else.",
                "current_version": 2,
            }
        )
        assert form.errors["notes"] == ["Too long."]
        assert form.non_field_errors() == [
            "Another component of the plan is invalid: Physical agents",
            "The plan was changed by someone else.",
        ]
    assert "current_version" not in form.errors


@pytest.mark.django_db
def test_a_short_override_reason_from_the_service_is_explained(therapist, patient):
    form = _tdcs_form(_plan(therapist, patient))
    with translation.override("en"):
        form.apply_errors({"override_reason": "too short"})
        (message,) = form.errors["override_reason"]
    assert "needs a reason of at least 20 characters" in message


def test_thermal_answer_paths_map_to_the_roi_rows():
    form = ThermalForm(
        {
            "th-client_uuid": str(uuid.uuid4()),
            "th-ambient_c": "23",
            "th-acclimatisation_min": "15",
            "th-affected_side": "left",
            "th-region_0": "",
            "th-region_1": "Foot",
            "th-left_1": "30.1",
            "th-right_1": "31.0",
        },
        prefix="th",
    )
    assert form.is_valid(), form.errors
    form.apply_errors({"answers": {"rois[0].right_c": ["Out of range."]}})
    assert form.errors["right_1"] == ["Out of range."]
