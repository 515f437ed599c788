"""A therapist uploads a thermogram in headless Chromium, sees it rendered, measures a region
mirrored across the midline and finds the reading's ΔT in the patient's thermal chart.

Screenshots land in tests/e2e/screenshots/thermogram-*.png.
"""

from __future__ import annotations

import pytest

from assessments.models import Assessment
from tests.e2e.test_console_e2e import _desktop, _full_page, _sign_in, _thermal_trace, _wait
from tests.factories import make_clinic, make_patient, make_staff
from tests.thermo_images import body, csv_bytes

pytestmark = pytest.mark.e2e


@pytest.fixture
def thermo_patient(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    clinic = make_clinic("E2E thermograms")
    therapist = make_staff(clinic, "therapist", "e2e-thermo-therapist")
    return make_patient(clinic, therapists=(therapist,), display_name="Li Na", affected_side="left")


def test_upload_measure_and_see_delta_in_the_chart(browser, live_server, screenshot, thermo_patient, tmp_path):
    from selenium.webdriver.common.by import By

    patient = thermo_patient
    matrix_file = tmp_path / "IR_0042.csv"
    matrix_file.write_bytes(csv_bytes(body(31.0, 32.5), separator=";", decimal=",", header=("FLIR Tools export",)))
    _desktop(browser)
    _sign_in(browser, live_server, "e2e-thermo-therapist")

    browser.get(f"{live_server.url}/clinic/patients/{patient.pk}/")
    link = f'a[href="/clinic/patients/{patient.pk}/thermograms/"]'
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, link))[0].click()
    _wait(browser, lambda d: d.find_elements(By.ID, "thermogram-upload"))
    browser.find_element(By.ID, "id_image").send_keys(str(matrix_file))
    browser.execute_script("document.getElementById('id_recorded_at').value = '2026-03-01T09:00';")
    browser.find_element(By.ID, "id_ambient_c").send_keys("22")
    browser.find_element(By.ID, "id_view").send_keys("Posterior")
    browser.find_element(By.CSS_SELECTOR, "#thermogram-upload button[type=submit]").click()

    image = _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "section.thermogram img"))[0]
    _wait(browser, lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", image))
    assert browser.execute_script("return arguments[0].naturalWidth", image) == 64 + 70
    form = browser.find_element(By.CSS_SELECTOR, "form.roi-form")
    prefix = form.find_element(By.CSS_SELECTOR, "input[name$='-midline_x']").get_attribute("name").split("-")[0]
    assert form.find_element(By.NAME, f"{prefix}-midline_x").get_attribute("value") == "32.0"
    for name, value in (("region_0", "L5 dermatome"), ("x_0", "8"), ("y_0", "10"), ("w_0", "8"), ("h_0", "20")):
        form.find_element(By.NAME, f"{prefix}-{name}").send_keys(value)
    screenshot("thermogram-regions-entered")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    _wait(browser, lambda d: "L5 dermatome: -1.50 °C" in d.find_element(By.CSS_SELECTOR, "ul.messages").text)
    _full_page(browser, screenshot, "thermogram-measured")
    assessment = Assessment.objects.get(patient=patient)
    assert assessment.flags == ["thermal_asymmetry"]

    browser.get(f"{live_server.url}/clinic/patients/{patient.pk}/")
    trace = _wait(browser, lambda d: _thermal_trace(d))
    assert trace["L5 dermatome"] == [-1.5]
    _full_page(browser, screenshot, "thermogram-chart")
