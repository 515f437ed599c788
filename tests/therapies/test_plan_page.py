"""The rendered plan page: two lanes over a Mon–Sun week, for the patient and the care team."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from patients.models import AuditEvent
from tests.factories import make_staff
from tests.therapies.params import component, plan_body

# frontend/urls.py gets the same path; until then the project URLs plus this one.
pytestmark = pytest.mark.urls("tests.therapies.urls")


def page(patient: Any) -> str:
    return f"/patients/{patient.pk}/plan/"


def browser(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def plan(therapist_client, patient) -> dict[str, Any]:
    body = plan_body(
        component("tdcs", frequency_per_week=5, duration_weeks=2),
        component("exercise", frequency_per_week=3, duration_weeks=8),
        component(
            "tens",
            parameters={
                "mode": "conventional",
                "frequency_hz": 100,
                "pulse_width_us": 100,
                "intensity_ma": 65,
                "minutes": 30,
            },
            frequency_per_week=14,
            duration_weeks=4,
            override_reason="Tolerates 65 mA; device log reviewed",
        ),
        reason="Baseline plan after assessment",
    )
    response = therapist_client.post(f"/api/v1/patients/{patient.pk}/plan/", body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _lane(html: str, layer: str) -> str:
    match = re.search(rf'<section class="lane lane-{layer}".*?</section>', html, re.S)
    assert match, layer
    return match.group(0)


def _row_cells(html: str, component_id: int) -> list[str]:
    match = re.search(rf'id="component-{component_id}">(.*?)<details', html, re.S)
    assert match, component_id
    return re.findall(r'<span class="week-cell[^"]*"', match.group(1))


def test_therapist_sees_two_lanes_on_a_week(therapist, patient, plan):
    response = browser(therapist).get(page(patient), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    central, peripheral = _lane(html, "central"), _lane(html, "peripheral")
    assert "Transcranial direct current stimulation" in central
    assert "Therapeutic exercise" not in central
    assert "Therapeutic exercise" in peripheral
    assert "TENS" in peripheral
    assert "tDCS" not in peripheral
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"):
        assert f">{day}</abbr>" in central
    tdcs, exercise, tens = (c["id"] for c in plan["components"])
    tdcs_cells = _row_cells(html, tdcs)
    assert len(tdcs_cells) == 7
    assert ["has-session" in c for c in tdcs_cells] == [True] * 5 + [False] * 2
    assert ["has-session" in c for c in _row_cells(html, exercise)] == [True, False, True, False, True, False, False]
    assert all("has-session" in c for c in _row_cells(html, tens))
    assert "×2" in html  # 14 a week: twice a day
    assert "Limit overridden" in html
    assert "intensity" in html
    assert "Version 1" in html
    assert "Baseline plan after assessment" in html
    assert "frontend/plan.css" in html


def test_patient_sees_their_own_plan(patient, plan):
    response = browser(patient.user).get(page(patient), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert "My rehab plan" in html
    assert "/app/" in html  # nav back to the patient's home, not the clinic worklist
    assert "/clinic/" not in html


def test_chinese_page(patient, plan):
    html = browser(patient.user).get(page(patient), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'lang="zh-hans"' in html
    assert "经颅直流电刺激" in html
    assert "运动治疗" in html
    assert "星期一" in html
    assert "Transcranial direct current stimulation" not in html


def test_no_plan_yet(therapist, patient):
    response = browser(therapist).get(page(patient), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "No rehab plan has been made yet" in response.content.decode()


def test_access(patient, other_patient, foreign_patient, manager, clinic, plan):
    assert browser(manager).get(page(patient)).status_code == 200
    for user in (other_patient.user, make_staff(clinic, "therapist")):
        response = browser(user).get(page(patient))
        assert response.status_code == 404
        assert patient.display_name not in response.content.decode()
    assert browser(patient.user).get(page(foreign_patient)).status_code == 404
    anonymous = browser(None).get(page(patient))
    assert anonymous.status_code == 302
    assert "/login/" in anonymous["Location"]


def test_page_view_is_audited(patient, plan):
    browser(patient.user).get(page(patient))
    assert AuditEvent.objects.filter(action="view.page", object_type="rehab_plan", patient_id=patient.pk).count() == 1


def test_history_is_listed_after_a_second_version(therapist, therapist_client, patient, plan):
    therapist_client.post(
        f"/api/v1/patients/{patient.pk}/plan/",
        plan_body(component("rtms"), version=1, reason="Switch to rTMS"),
        format="json",
    )
    html = browser(therapist).get(page(patient), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Earlier versions" in html
    assert "Switch to rTMS" in html
    assert "Baseline plan after assessment" in html


def test_page_query_count(therapist, patient, plan, django_assert_max_num_queries):
    client = browser(therapist)
    # session, user, own patient, memberships, patient, audit, plan, components, sessions,
    # home logs, version history.
    with django_assert_max_num_queries(11):
        assert client.get(page(patient)).status_code == 200
