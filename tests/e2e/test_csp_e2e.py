"""The pages work under the Content-Security-Policy: headless Chromium loads the patient app,
the therapist console with its plotly charts, the manager's outcomes and the API docs, and
the browser reports no CSP violation and no script error on any of them.

Violations are collected by a listener that DevTools installs before any page script runs
(scripts added through CDP are not subject to the page's policy). Screenshots land in
tests/e2e/screenshots/csp-*.png.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from assessments.capture.services import assessment_record
from assessments.models import Source
from patients.audit import Actor
from tests.factories import PASSWORD, make_clinic, make_patient, make_staff, make_user

pytestmark = pytest.mark.e2e

WAIT = 30
DESKTOP = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}

COLLECTOR = """
window.__csp = [];
window.__errors = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' +
                    e.sourceFile + ':' + e.lineNumber);
});
window.addEventListener('error', function (e) {
  if (e.message) window.__errors.push(e.message + ' at ' + e.filename + ':' + e.lineno);
});
"""


def _wait(browser, condition, timeout: float = WAIT):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout, ignored_exceptions=(StaleElementReferenceException,)).until(condition)


def _problems(browser) -> list[str]:
    return browser.execute_script("return (window.__csp || []).concat(window.__errors || [])")


def _header(live_server, path: str) -> str:
    import urllib.request

    with urllib.request.urlopen(f"{live_server.url}{path}", timeout=20) as response:  # noqa: S310 - local live server
        return response.headers["Content-Security-Policy"] or ""


def _sign_in(browser, live_server, username: str, landing: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{live_server.url}/login/?next={landing}")
    browser.find_element(By.ID, "id_username").send_keys(username)
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    # The login URL names the landing page too (?next=): wait until the login page is left.
    _wait(browser, lambda d: "/login/" not in d.current_url and landing in d.current_url)


@pytest.fixture
def cspbrowser(browser):
    browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": COLLECTOR})
    return browser


@pytest.fixture
def clinic_data(transactional_db):
    clinic = make_clinic("E2E CSP")
    therapist = make_staff(clinic, "therapist", "csp-therapist")
    make_staff(clinic, "manager", "csp-manager")
    make_user("csp-admin", is_staff=True, is_superuser=True)
    patient = make_patient(
        clinic,
        user=make_user("csp-patient"),
        therapists=(therapist,),
        display_name="Sun Qing",
        diagnoses=["clbp"],
        language="en",
    )
    actor = Actor(user=therapist)
    now = timezone.now()
    for days_ago in range(21, 0, -1):
        assessment_record(
            actor=actor,
            patient=patient,
            instrument="nrs",
            answers={"score": 7 if days_ago > 14 else 4},
            recorded_at=now - dt.timedelta(days=days_ago, hours=3),
            client_uuid=uuid.uuid4(),
            source=Source.PATIENT,
        )
    return {"patient": patient}


def test_pages_work_under_the_csp_without_violations(cspbrowser, live_server, screenshot, clinic_data):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser = cspbrowser
    policy = _header(live_server, "/login/")
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]

    # Patient app (phone): the app starts, the progress chart is drawn by plotly.
    _sign_in(browser, live_server, "csp-patient", "/app/")
    _wait(browser, lambda d: d.execute_script("return !!window.RehabApp"))
    browser.find_element(By.CSS_SELECTOR, "a[data-tab=progress]").click()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#progress-chart .main-svg"))
    screenshot("csp-patient-app")
    assert _problems(browser) == []
    browser.delete_all_cookies()

    # Therapist console: the patient page's plotly charts are drawn.
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", DESKTOP)
    patient = clinic_data["patient"]
    _sign_in(browser, live_server, "csp-therapist", "/clinic/")
    browser.get(f"{live_server.url}/clinic/patients/{patient.pk}/")
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-figure][data-drawn]"))
    drawn = browser.execute_script("return document.querySelectorAll('[data-figure] .main-svg').length")
    assert drawn > 0
    screenshot("csp-therapist-patient")
    assert _problems(browser) == []

    # The language switch submits itself from a static script (no inline handler).
    Select(browser.find_element(By.ID, "lang-select")).select_by_value("zh-hans")
    _wait(browser, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-hans")
    Select(browser.find_element(By.ID, "lang-select")).select_by_value("en")
    _wait(browser, lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    assert _problems(browser) == []
    browser.delete_all_cookies()

    # Manager outcomes: the cohort charts are drawn.
    _sign_in(browser, live_server, "csp-manager", "/clinic/")
    browser.get(f"{live_server.url}/clinic/outcomes/")
    charts = len(browser.find_elements(By.CSS_SELECTOR, "[data-chart]"))
    assert charts >= 4
    _wait(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, "[data-chart][data-drawn]")) == charts)
    browser.execute_script("document.querySelector('[data-chart]').scrollIntoView()")
    screenshot("csp-manager-outcomes")
    assert _problems(browser) == []

    # Django admin: the change list and a patient's change form (inlines, widgets) run too.
    browser.get(f"{live_server.url}/admin/login/?next=/admin/patients/patient/")
    browser.find_element(By.ID, "id_username").send_keys("csp-admin")
    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#result_list"))
    assert _problems(browser) == []
    browser.get(f"{live_server.url}/admin/patients/patient/{patient.pk}/change/")
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#care_team-group .add-row a"))
    browser.find_element(By.CSS_SELECTOR, "#care_team-group .add-row a").click()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#care_team-group tr.dynamic-care_team"))
    screenshot("csp-admin-patient")
    assert _problems(browser) == []
    browser.delete_all_cookies()

    # API docs: Swagger UI renders the schema from its self-hosted bundle.
    browser.get(f"{live_server.url}/api/docs/")
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".swagger-ui .opblock"))
    screenshot("csp-api-docs")
    assert _problems(browser) == []


def test_an_inline_script_is_blocked(cspbrowser, live_server, clinic_data):
    """The policy is really enforced: a script injected as inline markup does not run."""
    browser = cspbrowser
    browser.get(f"{live_server.url}/login/")
    browser.execute_script(
        "var s = document.createElement('script'); s.textContent = 'window.__ran = true;';document.body.appendChild(s);"
    )
    _wait(browser, lambda d: d.execute_script("return window.__csp.length") > 0, timeout=10)
    assert browser.execute_script("return window.__ran === true") is False
