"""Going beyond a tDCS limit in the plan editor, in headless Chromium at 1366 px, in English
and Simplified Chinese: typing 5 mA shows the limits exceeded (current and current density)
with their source before anything is saved; saving with an empty version reason still shows
them; saving needs each limit ticked and a reason of at least 20 characters; the plan card
then names the limits in words and who confirmed them.
Screenshots: tests/e2e/screenshots/tdcs-override-*.png.
"""

from __future__ import annotations

import pytest

from patients.audit import Actor
from tests.e2e.test_console_e2e import _desktop, _sign_in, _wait
from tests.e2e.test_rtms_plan_e2e import _element_shot
from tests.factories import make_clinic, make_patient, make_staff
from tests.therapies.params import BASE
from therapies.models import PlanComponent
from therapies.services import plan_version_create

pytestmark = pytest.mark.e2e

TDCS = BASE["tdcs"]
REASON = "Tolerated 4 mA for six weeks without skin redness; consultant agreed"


@pytest.fixture
def tdcs_patient(transactional_db):
    clinic = make_clinic("E2E tDCS")
    therapist = make_staff(clinic, "therapist", "e2e-tdcs-therapist")
    patient = make_patient(clinic, therapists=(therapist,), display_name="Wang Fang")
    plan_version_create(
        actor=Actor(user=therapist),
        patient=patient,
        expected_version=0,
        reason="Baseline plan",
        components=[{"modality": "tdcs", "parameters": TDCS, "frequency_per_week": 5, "duration_weeks": 2}],
    )
    return patient


TEXTS = {
    "en": {
        "panel": "Current: 5 mA entered; the limit is 4 mA.",
        "density": "Current density",
        "confirm": "Confirm each limit you are going beyond",
        "short": "at least 20 characters",
        "card": "Limit overridden: Current ≤ 4 mA; Current density ≤ 0.1 mA/cm²",
        "by": "confirmed by e2e-tdcs-therapist",
    },
    "zh-hans": {
        "panel": "输入值 5 mA；限值为 4 mA。",
        "density": "电流密度",
        "confirm": "保存前请逐项确认要超出的限值",
        "short": "至少 20 个字符",
        "card": "已超限：",
        "by": "由 e2e-tdcs-therapist 确认",
    },
}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_tdcs_override_takes_two_deliberate_steps(browser, live_server, tdcs_patient, language):
    from selenium.webdriver.common.by import By

    texts = TEXTS[language]
    suffix = "" if language == "en" else "-zh"
    patient = tdcs_patient
    _desktop(browser)
    _sign_in(browser, live_server, "e2e-tdcs-therapist")
    browser.add_cookie({"name": "django_language", "value": language, "path": "/"})
    browser.get(f"{live_server.url}/clinic/patients/{patient.pk}/")
    card = _wait(browser, lambda d: d.find_element(By.ID, "plan-card"))
    card.find_element(By.CSS_SELECTOR, "table button.link").click()
    current = _wait(browser, lambda d: d.find_element(By.NAME, "plan-p_current_ma"))

    # Typing is enough: the panel shows the limits, their values and source.
    current.clear()
    current.send_keys("5")
    panel = _wait(browser, lambda d: texts["panel"] in d.find_element(By.ID, "limit-panel-plan").text)
    panel = browser.find_element(By.ID, "limit-panel-plan").text
    assert texts["density"] in panel
    assert "Bikson et al. 2016" in panel
    _element_shot(browser, "#plan-card", f"tdcs-override-typed{suffix}")

    # Save with nothing else: the version reason is missing, and the limits stay in view.
    browser.find_element(By.CSS_SELECTOR, "#plan-form button.primary").click()
    _wait(browser, lambda d: texts["short"] in d.find_element(By.ID, "plan-form").text)
    form = browser.find_element(By.ID, "plan-form").text
    assert texts["panel"] in form
    assert texts["confirm"] in form
    for key in ("current_ma", "override_reason", "current_density_ma_cm2"):
        assert key not in form
    _element_shot(browser, "#plan-card", f"tdcs-override-refused{suffix}")
    assert PlanComponent.objects.filter(plan__patient=patient).count() == 1

    # Second step: tick each limit by name, give the reasons, save.
    browser.find_element(By.NAME, "plan-reason").send_keys("Raise the dose after six weeks")
    browser.find_element(By.NAME, "plan-override_reason").send_keys(REASON)
    browser.execute_script("document.activeElement.blur();")  # the reason's change is checked now
    _wait(browser, lambda d: d.execute_script("return !document.querySelector('.htmx-request');"))
    # Each change is checked live and the panel redrawn (ticks kept): tick until all stay ticked.
    tick = (
        "var boxes = document.querySelectorAll(\"input[name='plan-confirm_limits']\");"
        "boxes.forEach(function (b) { if (!b.checked) b.click(); });"
        "return boxes.length === 2 && Array.from(boxes).every(function (b) { return b.checked; });"
    )
    _wait(browser, lambda d: d.execute_script(tick) and d.execute_script(tick))
    _wait(browser, lambda d: d.execute_script("return !document.querySelector('.htmx-request');"))
    browser.find_element(By.CSS_SELECTOR, "#plan-form button.primary").click()
    _wait(browser, lambda d: texts["by"] in d.find_element(By.ID, "plan-card").text)
    assert texts["card"] in browser.find_element(By.ID, "plan-card").text
    stored = PlanComponent.objects.get(plan__patient=patient, plan__version=2)
    assert sorted(stored.overridden_limits) == ["current", "current_density"]
    _element_shot(browser, "#plan-card", f"tdcs-override-saved{suffix}")
