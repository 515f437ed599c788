"""Going beyond a tDCS safety limit in the plan editor is a deliberate act: the editor shows
each limit exceeded (quantity, value, limit, source) even when other fields are missing,
saving needs every limit confirmed by name plus a reason of meaningful length, the
service refuses a short reason from any client, and nothing on screen is a field key."""

from __future__ import annotations

import html as html_lib
import re
import uuid
from typing import Any

import pytest
from django.test import Client

from tests.factories import page_client as client_for
from tests.therapies.params import BASE
from therapies.models import PlanComponent, RehabPlan

TDCS = {key: str(value) for key, value in BASE["tdcs"].items()}  # as the form posts them
REASON = "Tolerated 4 mA for six weeks without skin redness; consultant agreed"
INTERNAL = ("current_ma", "current_density_ma_cm2", "charge_c", "override_reason", "duration_min", "electrode_cm2")


def plan_post(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "client_uuid": str(uuid.uuid4()),
        "modality": "tdcs",
        "expected_version": "0",
        "reason": "Add tDCS for central sensitisation",
        "frequency_per_week": "5",
        "duration_weeks": "2",
        "notes": "",
        "override_reason": "",
        **{f"p_{key}": value for key, value in TDCS.items()},
    }
    data.update(changes)
    return {f"plan-{key}": value for key, value in data.items()}


def visible_text(page: str) -> str:
    """What a reader sees: tags (and their attributes) removed."""
    return html_lib.unescape(re.sub(r"<[^>]+>", " ", page))


def post(client: Client, patient: Any, **changes: Any) -> str:
    response = client.post(
        f"/clinic/patients/{patient.pk}/plan-component/", plan_post(**changes), HTTP_HX_REQUEST="true"
    )
    return response.content.decode()


@pytest.mark.django_db
def test_an_empty_version_reason_does_not_hide_the_limits(therapist, patient):
    page = post(client_for(therapist), patient, p_current_ma="5", reason="")
    text = visible_text(page)
    assert "This field is required." in text
    assert "Beyond a safety limit" in text
    assert "Current: 5 mA entered; the limit is 4 mA." in text
    assert "Bikson et al. 2016" in text
    assert "the limit is 0.1 mA/cm²" in text  # 5 mA over 35 cm² is also above the density cap
    assert not RehabPlan.objects.filter(patient=patient).exists()


@pytest.mark.django_db
def test_saving_beyond_a_limit_needs_each_limit_confirmed_and_a_real_reason(therapist, patient):
    client = client_for(therapist)
    over = {"p_current_ma": "5"}

    anything = visible_text(post(client, patient, **over, override_reason="ok"))
    assert "needs a reason of at least 20 characters" in anything
    assert "Confirm each limit you are going beyond before saving: Current ≤ 4 mA" in anything
    assert not RehabPlan.objects.filter(patient=patient).exists()

    one_of_two = visible_text(post(client, patient, **over, override_reason=REASON, confirm_limits="current"))
    assert "Confirm each limit you are going beyond before saving: Current density ≤ 0.1 mA/cm²." in one_of_two
    assert not RehabPlan.objects.filter(patient=patient).exists()

    response = client.post(
        f"/clinic/patients/{patient.pk}/plan-component/",
        plan_post(**over, override_reason=REASON, confirm_limits=["current", "current_density"]),
        HTTP_HX_REQUEST="true",
    )
    assert response["HX-Retarget"] == "#plan-card"
    stored = PlanComponent.objects.get(plan__patient=patient)
    assert stored.parameters["current_ma"] == 5
    assert sorted(stored.overridden_limits) == ["current", "current_density"]
    assert stored.override_reason == REASON
    assert stored.plan.author == therapist
    card = visible_text(response.content.decode())
    assert "Limit overridden: Current ≤ 4 mA; Current density ≤ 0.1 mA/cm²" in card
    assert f"confirmed by {therapist.get_username()}" in card

    plan_page = visible_text(client.get(f"/patients/{patient.pk}/plan/").content.decode())
    assert REASON in plan_page
    assert f"confirmed by {therapist.get_username()}" in plan_page
    assert "Current ≤ 4 mA" in plan_page


@pytest.mark.django_db
def test_confirmations_for_a_limit_no_longer_exceeded_are_not_needed(therapist, patient):
    client = client_for(therapist)
    response = client.post(
        f"/clinic/patients/{patient.pk}/plan-component/",
        plan_post(confirm_limits="current", override_reason="leftover"),
        HTTP_HX_REQUEST="true",
    )
    assert response["HX-Retarget"] == "#plan-card"
    stored = PlanComponent.objects.get(plan__patient=patient)
    assert (stored.overridden_limits, stored.override_reason) == ([], "")


@pytest.mark.django_db
def test_density_and_charge_are_checked_as_the_therapist_types(therapist, patient):
    response = client_for(therapist).post(
        f"/clinic/patients/{patient.pk}/validate/plan/",
        plan_post(p_current_ma="3", p_duration_min="40", p_electrode_cm2="25"),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TRIGGER_NAME="plan-p_current_ma",
    )
    page = response.content.decode()
    assert 'id="limit-panel-plan"' in page
    assert 'hx-swap-oob="true"' in page
    text = visible_text(page)
    # 3 mA x 40 min = 7.2 C (at the limit, fine); 3 mA / 25 cm² = 0.12 mA/cm² (above 0.1).
    assert "Current density: 0.12 mA/cm² entered; the limit is 0.1 mA/cm²." in text
    assert "Charge" not in text
    assert 'value="current_density"' in page
    assert "Confirm each limit" not in text  # nothing was saved yet: no error while typing


@pytest.mark.django_db
def test_the_editor_updates_on_keystrokes_for_numbers(therapist, patient):
    page = client_for(therapist).get(
        f"/clinic/patients/{patient.pk}/plan-component/", {"plan-modality": "tdcs"}, HTTP_HX_REQUEST="true"
    )
    field = re.search(r'<input[^>]*name="plan-p_current_ma"[^>]*>', page.content.decode())
    assert field
    assert 'hx-trigger="change, keyup changed delay:400ms"' in field.group(0)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_no_field_key_reaches_the_screen(therapist, patient, language):
    client = client_for(therapist, language)
    for changes in (
        {"p_current_ma": "5", "reason": ""},
        {"p_current_ma": "5", "override_reason": "short"},
        {"p_current_ma": "5", "override_reason": REASON},
    ):
        text = visible_text(post(client, patient, **changes))
        for key in INTERNAL:
            assert key not in text, (key, changes)


@pytest.mark.django_db
def test_the_limits_panel_speaks_chinese(therapist, patient):
    text = visible_text(post(client_for(therapist, "zh-hans"), patient, p_current_ma="5", override_reason="太短"))
    assert "超出安全限值" in text
    assert "输入值 5 mA；限值为 4 mA。" in text
    assert "超出安全限值需要至少 20 个字符的理由" in text
    assert "保存前请逐项确认要超出的限值" in text
    assert "Beyond a safety limit" not in text
    assert "entered; the limit is" not in text


@pytest.mark.django_db
def test_an_empty_override_reason_is_asked_for_with_the_limits(therapist, patient):
    text = visible_text(post(client_for(therapist), patient, p_current_ma="5", reason=""))
    assert "needs a reason of at least 20 characters" in text
    assert "Confirm each limit you are going beyond" in text
