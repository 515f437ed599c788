"""The therapist console in headless Chromium: sign in, find the patient on the worklist,
record a thermal reading through the htmx form (with inline validation) and see the
thermal chart redraw with the new reading; acknowledge a safety alert.

Uses the ``browser`` and ``screenshot`` fixtures of tests/e2e/conftest.py; screenshots
land in tests/e2e/screenshots/console-*.png.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from assessments.capture.services import assessment_record
from assessments.models import Alert, Assessment, Source
from patients.audit import Actor
from tests.factories import PASSWORD, make_clinic, make_patient, make_staff

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}
WAIT = 20


def _wait(browser, condition, timeout: float = WAIT):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # htmx swaps replace elements between a find and a read: look again, don't fail.
    return WebDriverWait(browser, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(condition)


def _desktop(browser, height: int = DESKTOP["height"]) -> None:
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**DESKTOP, "height": height})


def _full_page(browser, screenshot, name: str) -> None:
    """Screenshot the whole page: grow the viewport to the document's height first."""
    height = browser.execute_script("return Math.ceil(document.documentElement.scrollHeight)")
    _desktop(browser, min(int(height), 4000))
    browser.execute_script("window.scrollTo(0, 0)")
    screenshot(name)
    _desktop(browser)


def _sign_in(browser, live_server, username: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{live_server.url}/login/?next=/clinic/")
    browser.find_element(By.ID, "id_username").send_keys(username)
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    _wait(browser, lambda d: d.current_url.rstrip("/").endswith("/clinic"))


def _thermal_trace(browser) -> dict[str, list[float]]:
    """The thermal chart as plotly holds it in the page: region name -> ΔT values."""
    return browser.execute_script(
        """
        const el = document.getElementById('chart-thermal');
        if (!el || !el.data) return null;
        const out = {};
        el.data.forEach(t => { out[t.name] = Array.from(t.y); });
        return out;
        """
    )


@pytest.fixture
def console(transactional_db):
    clinic = make_clinic("E2E console")
    therapist = make_staff(clinic, "therapist", "e2e-console-therapist")
    patient = make_patient(
        clinic,
        therapists=(therapist,),
        display_name="Wang Lei",
        diagnoses=["lumbar_radiculopathy"],
        affected_side="left",
    )
    make_patient(clinic, therapists=(therapist,), display_name="Zhao Min", diagnoses=["clbp"])
    actor = Actor(user=therapist)
    now = timezone.now()
    for days_ago in range(30, 0, -1):
        assessment_record(
            actor=actor,
            patient=patient,
            instrument="nrs",
            answers={"score": 7 if days_ago > 20 else 5},
            recorded_at=now - dt.timedelta(days=days_ago, hours=2),
            client_uuid=uuid.uuid4(),
            source=Source.PATIENT,
        )
    assessment_record(
        actor=actor,
        patient=patient,
        instrument="thermal",
        answers={
            "rois": [{"region": "L5 dorsum of foot", "left_c": 29.0, "right_c": 31.0}],
            "ambient_c": 22.0,
            "acclimatisation_min": 15,
            "affected_side": "left",
        },
        recorded_at=now - dt.timedelta(days=35),
        client_uuid=uuid.uuid4(),
        source=Source.CLINICIAN,
    )
    return {"therapist": therapist, "patient": patient}


def test_therapist_records_a_thermal_reading_and_the_chart_updates(browser, live_server, screenshot, console):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    patient = console["patient"]
    _desktop(browser)
    _sign_in(browser, live_server, "e2e-console-therapist")

    # Worklist: the radiculopathy patient without a thermal reading for 35 days is "measurement due".
    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-patient="{patient.pk}"]')
    assert "row-due" in row.get_attribute("class")
    # htmx search narrows the rows without a page load
    browser.find_element(By.ID, "q").send_keys("zhao")
    _wait(
        browser,
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "tr[data-patient]")) == 1,
    )
    assert "Zhao Min" in browser.find_element(By.ID, "worklist").text
    assert "q=zhao" in browser.current_url  # hx-push-url keeps the filter in the address
    browser.find_element(By.ID, "q").send_keys(Keys.BACKSPACE * 4)
    _wait(
        browser,
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "tr[data-patient]")) == 2,
    )
    _full_page(browser, screenshot, "console-worklist")

    browser.find_element(By.LINK_TEXT, "Wang Lei").click()
    _wait(browser, lambda d: _thermal_trace(d) is not None)
    assert _thermal_trace(browser) == {"L5 dorsum of foot": [-2]}
    nrs_points = browser.execute_script(
        "return document.getElementById('chart-nrs').data[0].y.filter(v => v !== null).length"
    )
    assert nrs_points == 30

    form = browser.find_element(By.ID, "thermal-form")
    assert (
        form.find_element(By.NAME, "th-region_0").get_attribute("value") == "L5 dorsum of foot"
    )  # repeated from the last reading
    assert (
        form.find_element(By.CSS_SELECTOR, 'select[name="th-affected_side"] option[selected]').get_attribute("value")
        == "left"
    )

    # Inline validation: a mistyped temperature is flagged next to the field on change.
    left = form.find_element(By.NAME, "th-left_0")
    left.send_keys("55")
    form.find_element(By.NAME, "th-right_0").click()
    _wait(
        browser,
        lambda d: "less than or equal to 45" in d.find_element(By.ID, "fb-th-left_0").text,
    )
    ambient = form.find_element(By.NAME, "th-ambient_c")
    ambient.send_keys("26.5")
    form.find_element(By.NAME, "th-acclimatisation_min").click()
    _wait(browser, lambda d: "flagged" in d.find_element(By.ID, "fb-th-ambient_c").text)
    browser.execute_script("document.getElementById('thermal-form').scrollIntoView({block: 'center'})")
    screenshot("console-thermal-inline-validation")

    left.clear()
    left.send_keys("30.1")
    ambient.clear()
    ambient.send_keys("22.5")
    form.find_element(By.NAME, "th-right_0").send_keys("31.6")
    form.find_element(By.NAME, "th-acclimatisation_min").send_keys("15")
    form.find_element(By.NAME, "th-region_1").send_keys("S1 lateral foot")
    form.find_element(By.NAME, "th-left_1").send_keys("29.5")
    form.find_element(By.NAME, "th-right_1").send_keys("29.9")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    _wait(
        browser,
        lambda d: "Thermal reading saved." in d.find_element(By.ID, "thermal-form").text,
    )
    # The chart card was swapped out of band and redrawn from the new figure.
    _wait(
        browser,
        lambda d: (_thermal_trace(d) or {}).get("L5 dorsum of foot") == [-2, -1.5],
    )
    assert _thermal_trace(browser)["S1 lateral foot"] == [-0.4]
    assert _thermal_trace(browser)["Mean |ΔT| over regions"][-1] == 0.95  # two regions, one line of their mean
    assert (
        browser.execute_script(
            "return document.getElementById('chart-thermal').querySelectorAll('.scatterlayer .trace').length"
        )
        == 3
    )
    # the form is ready for the next reading: temperatures cleared, regions kept
    fresh = browser.find_element(By.ID, "thermal-form")
    assert fresh.find_element(By.NAME, "th-left_0").get_attribute("value") == ""
    assert fresh.find_element(By.NAME, "th-region_1").get_attribute("value") == "S1 lateral foot"
    _full_page(browser, screenshot, "console-patient-after-thermal")

    stored = Assessment.objects.filter(patient=patient, instrument="thermal").order_by("recorded_at")
    assert stored.count() == 2
    assert stored.last().detail["rois"][0]["delta_c"] == -1.5


def test_therapist_acknowledges_a_safety_alert_from_the_worklist(browser, live_server, screenshot, console):
    from selenium.webdriver.common.by import By

    patient = console["patient"]
    assessment_record(
        actor=Actor(user=patient.user),
        patient=patient,
        instrument="phq9",
        answers={f"item{i}": 1 for i in range(1, 10)},
        recorded_at=timezone.now() - dt.timedelta(minutes=5),
        client_uuid=uuid.uuid4(),
        source=Source.PATIENT,
    )
    alert = Alert.objects.get(patient=patient)
    _desktop(browser)
    _sign_in(browser, live_server, "e2e-console-therapist")
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "tr[data-patient]"))
    first = browser.find_elements(By.CSS_SELECTOR, "tr[data-patient]")[0]
    assert first.get_attribute("data-patient") == str(patient.pk)
    assert "row-safety" in first.get_attribute("class")
    item = browser.find_element(By.ID, f"alert-{alert.pk}")
    item.find_element(By.CSS_SELECTOR, "details.ack > summary").click()
    item.find_element(By.CSS_SELECTOR, "input[value=contacted_patient]").click()
    item.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _wait(
        browser,
        lambda d: "Acknowledged by e2e-console-therapist" in d.find_element(By.ID, f"alert-{alert.pk}").text,
    )
    # the worklist re-reads its rows: the patient no longer leads for a safety alert
    row_class = f"const r = document.querySelector('tr[data-patient=\"{patient.pk}\"]'); return r ? r.className : null;"
    _wait(browser, lambda d: d.execute_script(row_class) == "row-due")  # read in the page: the rows are being swapped
    screenshot("console-alert-acknowledged")
    alert.refresh_from_db()
    assert alert.acknowledged_by_id == console["therapist"].pk
    assert alert.acknowledgement_action == "contacted_patient"


WIDE = {"width": 1366, "height": 900, "deviceScaleFactor": 1, "mobile": False}


def test_safety_alert_acknowledged_with_an_action_on_the_patient_page(browser, live_server, screenshot, console):
    """The acknowledgement form refuses a safety alert without an action, then records
    "no action needed" with its reason; the header status and the alert history follow
    without a reload."""
    from selenium.webdriver.common.by import By

    from assessments.alerts.services import alert_acknowledge
    from assessments.models import AlertAction

    patient, therapist = console["patient"], console["therapist"]
    # An earlier episode, closed with an emergency referral, for the history.
    assessment_record(
        actor=Actor(user=patient.user),
        patient=patient,
        instrument="phq9",
        answers={f"item{i}": 2 for i in range(1, 10)},
        recorded_at=timezone.now() - dt.timedelta(days=9),
        client_uuid=uuid.uuid4(),
        source=Source.PATIENT,
    )
    earlier = Alert.objects.get(patient=patient)
    alert_acknowledge(
        actor=Actor(user=therapist),
        alert_id=earlier.pk,
        action=AlertAction.EMERGENCY_REFERRAL,
        note="Referred to the psychiatric emergency service; seen the same day.",
    )
    assessment_record(
        actor=Actor(user=patient.user),
        patient=patient,
        instrument="phq9",
        answers={f"item{i}": 1 for i in range(1, 10)},
        recorded_at=timezone.now() - dt.timedelta(minutes=20),
        client_uuid=uuid.uuid4(),
        source=Source.PATIENT,
    )
    alert = Alert.objects.get(patient=patient, acknowledged_at__isnull=True)

    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", WIDE)
    _sign_in(browser, live_server, "e2e-console-therapist")
    browser.get(f"{live_server.url}/clinic/patients/{patient.pk}/")
    badge = "return document.querySelector('#need-facts .need-badge').className"
    assert "need-safety" in browser.execute_script(badge)
    item = browser.find_element(By.ID, f"alert-{alert.pk}")
    item.find_element(By.CSS_SELECTOR, "details.ack > summary").click()
    # Without an action: the browser asks first (required radios); sent anyway, the server refuses.
    browser.execute_script("document.querySelectorAll('.ack-form input[type=radio]').forEach(r => r.required = false)")
    item.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _wait(browser, lambda d: "Choose what was done" in d.find_element(By.ID, f"alert-{alert.pk}").text)
    item = browser.find_element(By.ID, f"alert-{alert.pk}")
    item.find_element(By.CSS_SELECTOR, "input[value=no_action_needed]").click()
    item.find_element(By.NAME, f"ack{alert.pk}-reason").send_keys("Answered by mistake; confirmed by phone, no risk")
    item.find_element(By.NAME, f"ack{alert.pk}-note").send_keys("Phoned 14:05, patient safe at home.")
    browser.execute_script("document.getElementById(arguments[0]).scrollIntoView({block: 'start'})", "alerts-card")
    screenshot("console-alert-acknowledge-form")
    item.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    _wait(browser, lambda d: "Acknowledged by e2e-console-therapist" in d.find_element(By.ID, f"alert-{alert.pk}").text)
    # the header status and the history re-read themselves (alertAcknowledged), no reload
    _wait(browser, lambda d: "need-safety" not in d.execute_script(badge))
    row = f"const r = document.getElementById('history-{alert.pk}'); return r ? r.textContent : '';"
    _wait(browser, lambda d: "No action needed" in d.execute_script(row))
    assert "Answered by mistake" in browser.execute_script(row)
    assert "Emergency referral" in browser.find_element(By.ID, f"history-{earlier.pk}").text
    browser.execute_script("window.scrollTo(0, 0)")
    screenshot("console-alert-history")
    alert.refresh_from_db()
    assert (alert.acknowledgement_action, alert.acknowledgement_reason) == (
        "no_action_needed",
        "Answered by mistake; confirmed by phone, no risk",
    )
