"""The plan editor (htmx) with an rTMS target: the hemisphere opposite the patient's affected side
is proposed, a same-side choice needs an override reason, bilateral or midline pain leaves the
side to the therapist, and the plan card and plan page show the side."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.test import Client

from patients.audit import Actor
from tests.factories import make_patient
from tests.factories import page_client as client_for
from therapies.models import PlanComponent, RehabPlan

M1 = {
    "site": "M1",
    "frequency_hz": "10",
    "intensity_pct_rmt": "80",
    "pulses": "1500",
    "contraindication_screen_done": "yes",
}


def editor(client: Client, patient: Any, **query: str) -> str:
    response = client.get(
        f"/clinic/patients/{patient.pk}/plan-component/",
        {"plan-modality": "rtms", **query},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    return response.content.decode()


def hemisphere_select(html: str) -> str:
    match = re.search(r'<select name="plan-p_hemisphere".*?</select>', html, re.S)
    assert match, html
    return match.group(0)


def selected(select: str) -> list[str]:
    return re.findall(r'<option value="([^"]*)"[^>]*selected', select)


def plan_post(hemisphere: str, **changes: str) -> dict[str, str]:
    data = {
        "client_uuid": str(uuid.uuid4()),
        "modality": "rtms",
        "expected_version": "0",
        "reason": "Neuropathic leg pain: add rTMS",
        "frequency_per_week": "5",
        "duration_weeks": "2",
        "notes": "",
        "override_reason": "",
        "p_hemisphere": hemisphere,
        **{f"p_{key}": value for key, value in M1.items()},
    }
    data.update(changes)
    return {f"plan-{key}": value for key, value in data.items()}


@pytest.mark.django_db
@pytest.mark.parametrize(("side", "proposed"), [("left", "right"), ("right", "left")])
def test_editor_proposes_the_hemisphere_opposite_the_affected_side(therapist, clinic, side, proposed):
    patient = make_patient(clinic, therapists=(therapist,), affected_side=side)
    html = editor(client_for(therapist), patient)
    select = hemisphere_select(html)
    assert selected(select) == [proposed]
    assert '<option value="">' in select  # never a silent first option
    assert f"Proposed: the {proposed} hemisphere, opposite the patient&#x27;s {side}-sided pain" in html
    assert "Lefaucheur 2020" in html


@pytest.mark.django_db
@pytest.mark.parametrize(("side", "text"), [("bilateral", "pain is bilateral"), ("none", "not lateralised")])
def test_without_one_sided_pain_nothing_is_proposed(therapist, clinic, side, text):
    patient = make_patient(clinic, therapists=(therapist,), affected_side=side)
    html = editor(client_for(therapist), patient)
    select = hemisphere_select(html)
    assert selected(select) in ([], [""])
    assert text in html
    assert "recorded with the plan as your choice" in html


@pytest.mark.django_db
def test_editor_speaks_chinese(therapist, patient):
    html = editor(client_for(therapist, "zh-hans"), patient)
    assert "刺激半球" in html  # "Hemisphere"
    assert "右侧半球" in html  # "Right hemisphere"
    assert "建议: 右侧半球" in html
    assert selected(hemisphere_select(html)) == ["right"]


@pytest.mark.django_db
def test_same_side_is_refused_without_a_reason_then_saved_with_one(therapist, patient):
    client = client_for(therapist)
    url = f"/clinic/patients/{patient.pk}/plan-component/"
    hint = client.post(
        f"/clinic/patients/{patient.pk}/validate/plan/",
        plan_post("left"),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TRIGGER_NAME="plan-p_hemisphere",
    ).content.decode()
    assert 'class="warning"' in hint
    assert "Not opposite the pain" in hint
    assert "right hemisphere" in hint

    refused = client.post(url, plan_post("left"), HTTP_HX_REQUEST="true").content.decode()
    assert "Hemisphere: Left hemisphere; the limit allows right (opposite the pain)." in refused
    assert re.search(r'id="fb-plan-override_reason"[^>]*><span class="error">[^<]*at least 20 characters', refused)
    assert "m1_contralateral" not in refused.replace('value="m1_contralateral"', "")
    assert not RehabPlan.objects.filter(patient=patient).exists()

    reason = "Right M1 stimulation gave seizures-free but no relief last course; ipsilateral trial agreed"
    unconfirmed = client.post(url, plan_post("left", override_reason=reason), HTTP_HX_REQUEST="true")
    assert "Confirm each limit you are going beyond" in unconfirmed.content.decode()
    assert not RehabPlan.objects.filter(patient=patient).exists()
    saved = client.post(
        url, plan_post("left", override_reason=reason, confirm_limits="m1_contralateral"), HTTP_HX_REQUEST="true"
    )
    assert saved["HX-Retarget"] == "#plan-card"
    stored = PlanComponent.objects.get(plan__patient=patient)
    assert stored.parameters["hemisphere"] == "left"
    assert stored.overridden_limits == ["m1_contralateral"]
    assert stored.override_reason == reason
    card = saved.content.decode()
    assert "Hemisphere Left hemisphere (not opposite the left-sided pain)" in card
    assert "Limit overridden: Hemisphere" in card
    assert f"confirmed by {therapist.get_username()}" in card
    assert "m1_contralateral" not in card


@pytest.mark.django_db
def test_opposite_side_saves_without_a_reason(therapist, patient):
    client = client_for(therapist)
    fine = client.post(
        f"/clinic/patients/{patient.pk}/validate/plan/",
        plan_post("right"),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TRIGGER_NAME="plan-p_hemisphere",
    )
    assert "error" not in fine.content.decode()
    assert "Beyond a safety limit" not in fine.content.decode()
    saved = client.post(f"/clinic/patients/{patient.pk}/plan-component/", plan_post("right"), HTTP_HX_REQUEST="true")
    assert saved["HX-Retarget"] == "#plan-card"
    stored = PlanComponent.objects.get(plan__patient=patient)
    assert (stored.parameters["hemisphere"], stored.overridden_limits) == ("right", [])


@pytest.mark.django_db
def test_empty_side_is_an_error_on_the_field(therapist, clinic):
    axial = make_patient(clinic, therapists=(therapist,), affected_side="none")
    client = client_for(therapist)
    refused = client.post(f"/clinic/patients/{axial.pk}/plan-component/", plan_post(""), HTTP_HX_REQUEST="true")
    assert re.search(r'id="fb-plan-p_hemisphere"[^>]*><span class="error">', refused.content.decode())
    assert not RehabPlan.objects.filter(patient=axial).exists()
    saved = client.post(f"/clinic/patients/{axial.pk}/plan-component/", plan_post("midline"), HTTP_HX_REQUEST="true")
    assert saved["HX-Retarget"] == "#plan-card"
    assert PlanComponent.objects.get(plan__patient=axial).parameters["hemisphere"] == "midline"


def _plan_with(therapist: Any, patient: Any, parameters: dict[str, Any], **extra: Any) -> Any:
    from therapies.services import plan_version_create

    return plan_version_create(
        actor=Actor(user=therapist),
        patient=patient,
        expected_version=0,
        reason="start",
        components=[
            {"modality": "rtms", "parameters": parameters, "frequency_per_week": 5, "duration_weeks": 2, **extra}
        ],
    )


RTMS = {
    "site": "M1",
    "frequency_hz": 10,
    "intensity_pct_rmt": 80,
    "pulses": 1500,
    "contraindication_screen_done": True,
}


@pytest.mark.django_db
def test_editing_keeps_the_prescribed_side(therapist, patient):
    plan = _plan_with(therapist, patient, {**RTMS, "hemisphere": "left"}, override_reason="Agreed ipsilateral trial")
    component = plan.components.get()
    html = editor(client_for(therapist), patient, component=str(component.pk))
    assert selected(hemisphere_select(html)) == ["left"]


@pytest.mark.django_db
def test_plan_card_and_plan_page_show_the_side(therapist, patient):
    _plan_with(therapist, patient, {**RTMS, "hemisphere": "right"})
    client = client_for(therapist)
    console = client.get(f"/clinic/patients/{patient.pk}/").content.decode()
    assert "Hemisphere Right hemisphere (opposite the left-sided pain)" in console
    page = client.get(f"/patients/{patient.pk}/plan/").content.decode()
    assert "<dt>Hemisphere</dt><dd>Right hemisphere · opposite the left-sided pain</dd>" in page
    zh = client_for(therapist, "zh-hans").get(f"/patients/{patient.pk}/plan/").content.decode()
    assert "<dt>刺激半球</dt><dd>右侧半球 · 左侧疼痛的对侧</dd>" in zh


@pytest.mark.django_db
def test_no_side_relation_without_one_sided_pain(therapist, clinic):
    axial = make_patient(clinic, therapists=(therapist,), affected_side="none")
    _plan_with(therapist, axial, {**RTMS, "hemisphere": "midline"})
    page = client_for(therapist).get(f"/patients/{axial.pk}/plan/").content.decode()
    assert "<dt>Hemisphere</dt><dd>Midline (vertex)</dd>" in page
    assert "sided pain" not in page


@pytest.mark.django_db
def test_plan_card_flags_a_component_stored_without_a_side(therapist, patient):
    plan = _plan_with(therapist, patient, {**RTMS, "hemisphere": "right"})
    legacy = plan.components.get()
    legacy.parameters = RTMS
    legacy.save(update_fields=["parameters"])
    console = client_for(therapist).get(f"/clinic/patients/{patient.pk}/").content.decode()
    assert "Hemisphere not recorded" in console
    # Editing it proposes the side opposite the pain.
    html = editor(client_for(therapist), patient, component=str(legacy.pk))
    assert selected(hemisphere_select(html)) == ["right"]
