"""A lateralised rTMS target in headless Chromium, in English and Simplified Chinese.

The therapist opens the plan editor for a patient with left-sided neuropathic pain, picks rTMS
and sees the right hemisphere proposed with the reason; choosing the left (same) side shows the
override warning inline. The plan page then shows the stored target's hemisphere.
Screenshots: tests/e2e/screenshots/rtms-*.png.
"""

from __future__ import annotations

import pytest

from patients.audit import Actor
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_console_e2e import _desktop, _full_page, _sign_in, _wait
from tests.factories import make_clinic, make_patient, make_staff
from therapies.services import plan_version_create

pytestmark = pytest.mark.e2e

RTMS = {
    "site": "M1",
    "hemisphere": "right",
    "frequency_hz": 10,
    "intensity_pct_rmt": 80,
    "pulses": 1500,
    "contraindication_screen_done": True,
}


@pytest.fixture
def rtms_patient(transactional_db):
    clinic = make_clinic("E2E rTMS")
    therapist = make_staff(clinic, "therapist", "e2e-rtms-therapist")
    patient = make_patient(
        clinic,
        therapists=(therapist,),
        display_name="Chen Jie",
        diagnoses=["phn"],
        affected_side="left",
    )
    plan_version_create(
        actor=Actor(user=therapist),
        patient=patient,
        expected_version=0,
        reason="Left thoracic post-herpetic neuralgia: HF-rTMS of the right M1 with pregabalin",
        components=[
            {"modality": "rtms", "parameters": RTMS, "frequency_per_week": 5, "duration_weeks": 2},
            {
                "modality": "medication",
                "parameters": {"drug": "pregabalin", "daily_dose_mg": 300},
                "frequency_per_week": 7,
                "duration_weeks": 8,
            },
        ],
    )
    return patient


def _element_shot(browser, selector: str, name: str) -> None:
    from selenium.webdriver.common.by import By

    element = browser.find_element(By.CSS_SELECTOR, selector)
    height = browser.execute_script("return Math.ceil(arguments[0].getBoundingClientRect().height)", element)
    _desktop(browser, min(int(height) + 40, 4000))  # the whole element inside the viewport
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'})", element)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    element.screenshot(str(SCREENSHOTS / f"{name}.png"))
    _desktop(browser)


def _hemisphere(browser) -> str:
    return browser.execute_script(
        "const s = document.querySelector('select[name=\"plan-p_hemisphere\"]'); return s ? s.value : null;"
    )


@pytest.mark.parametrize(
    ("language", "texts"),
    [
        (
            "en",
            {
                "proposed": "Proposed: the right hemisphere, opposite the patient's left-sided pain",
                "warning": "Not opposite the pain",
                "page": "Right hemisphere",
            },
        ),
        ("zh-hans", {"proposed": "建议: 右侧半球", "warning": "非疼痛对侧", "page": "右侧半球"}),
    ],
)
def test_plan_editor_and_plan_page_with_a_lateralised_rtms_target(browser, live_server, rtms_patient, language, texts):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    suffix = "" if language == "en" else "-zh"
    patient = rtms_patient
    _desktop(browser)
    _sign_in(browser, live_server, "e2e-rtms-therapist")
    browser.add_cookie({"name": "django_language", "value": language, "path": "/"})
    browser.get(f"{live_server.url}/clinic/patients/{patient.pk}/")
    card = _wait(browser, lambda d: d.find_element(By.ID, "plan-card"))
    assert texts["page"] in card.text  # the stored target shows its side

    # Add a component: choosing rTMS redraws the form with the proposed hemisphere.
    card.find_element(By.CSS_SELECTOR, "button.secondary").click()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#plan-form select[name='plan-modality']"))
    Select(browser.find_element(By.NAME, "plan-modality")).select_by_value("rtms")
    _wait(browser, lambda d: _hemisphere(d) is not None)
    assert _hemisphere(browser) == "right"
    form = browser.find_element(By.ID, "plan-form")
    assert texts["proposed"] in form.text
    _element_shot(browser, "#plan-card", f"rtms-plan-editor-proposed{suffix}")

    # The same side as the pain: the inline warning asks for an override reason.
    Select(browser.find_element(By.NAME, "plan-p_hemisphere")).select_by_value("left")
    _wait(browser, lambda d: texts["warning"] in d.find_element(By.ID, "fb-plan-p_hemisphere").text)
    _element_shot(browser, "#plan-card", f"rtms-plan-editor-same-side{suffix}")

    browser.get(f"{live_server.url}/patients/{patient.pk}/plan/")
    row = _wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, ".lane-central .week-row[id^='component-']"))
    row.find_element(By.CSS_SELECTOR, "details summary").click()
    assert texts["page"] in row.text
    _full_page(
        browser, lambda name: browser.save_screenshot(str(SCREENSHOTS / f"{name}.png")), f"rtms-plan-page{suffix}"
    )
