"""The console in Chinese, in headless Chromium: worklist, patient page, plan editor and outcomes.

Each screen is screenshotted (tests/e2e/screenshots/zh-*.png) and checked with axe-core
(tests/e2e/vendor/axe.min.js, test-only) for serious and critical findings; the charts'
date axes carry Chinese month names (plotly's zh-CN locale), and the English pages pass the
same accessibility check.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_console_e2e import _desktop, _full_page, _sign_in, _wait
from tests.factories import make_clinic, make_patient, make_staff
from tests.i18n.zh_data import populate

pytestmark = pytest.mark.e2e

AXE = Path(__file__).parent / "vendor" / "axe.min.js"


def axe_findings(browser, impacts=("serious", "critical")) -> list[str]:
    """Run axe-core on the current page; one line per violating node of the given impacts."""
    if not browser.execute_script("return !!window.axe"):
        browser.execute_script(AXE.read_text(encoding="utf-8"))
    result = browser.execute_async_script(
        """
        const done = arguments[arguments.length - 1];
        axe.run(document, {resultTypes: ["violations"]}).then(r => done(r.violations.map(v => ({
            id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(" ")).slice(0, 5)
        })))).catch(e => done([{id: "axe-error", impact: "critical", nodes: [String(e)]}]));
        """
    )
    return [f"{v['impact']} {v['id']}: {node}" for v in result if v["impact"] in impacts for node in v["nodes"]]


@pytest.fixture
def clinic_zh(transactional_db):
    clinic = make_clinic("E2E 中文")
    therapist = make_staff(clinic, "therapist", "e2e-zh-therapist")
    manager = make_staff(clinic, "manager", "e2e-zh-manager")
    patient = make_patient(
        clinic,
        therapists=(therapist,),
        display_name="王磊",
        diagnoses=["lumbar_radiculopathy"],
        affected_side="left",
        time_zone="Asia/Shanghai",
    )
    populate(therapist, patient)
    return {"therapist": therapist, "manager": manager, "patient": patient}


def _charts_drawn(browser, count: int) -> bool:
    return browser.execute_script("return document.querySelectorAll('[data-drawn]').length") >= count


def _tick_texts(browser, chart_id: str) -> list[str]:
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#' + arguments[0] + ' .xtick text')).map(t => t.textContent)",
        chart_id,
    )


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_console_screens_in_chinese_and_english(browser, live_server, clinic_zh, language):
    from selenium.webdriver.common.by import By

    from tests.e2e.conftest import SCREENSHOTS

    suffix = "zh" if language == "zh-hans" else "en"
    patient = clinic_zh["patient"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shot(name: str) -> None:
        browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))

    _desktop(browser)
    _sign_in(browser, live_server, "e2e-zh-therapist")
    browser.add_cookie({"name": "django_language", "value": language, "path": "/"})
    findings: dict[str, list[str]] = {}

    browser.get(f"{live_server.url}/clinic/")
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f'tr[data-patient="{patient.pk}"]'))
    _full_page(browser, shot, f"{suffix}-console-worklist")
    findings["worklist"] = axe_findings(browser)

    browser.get(f"{live_server.url}/clinic/patients/{patient.pk}/")
    _wait(browser, lambda d: _charts_drawn(d, 4))
    if language == "zh-hans":
        ticks = _tick_texts(browser, "chart-nrs")
        assert ticks
        assert any("月" in t for t in ticks), ticks
    # A single DN4 date gets a readable range of days, not milliseconds around midnight.
    dn4_ticks = _tick_texts(browser, "chart-dn4")
    assert dn4_ticks
    assert not any(":" in t for t in dn4_ticks), dn4_ticks
    _full_page(browser, shot, f"{suffix}-console-patient")
    findings["patient page"] = axe_findings(browser)

    card = browser.find_element(By.ID, "plan-card")
    card.find_element(By.CSS_SELECTOR, "button.secondary").click()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#plan-form select[name='plan-modality']"))
    browser.execute_script("document.getElementById('plan-card').scrollIntoView({block: 'start'})")
    shot(f"{suffix}-console-plan-editor")
    findings["plan editor"] = axe_findings(browser)

    browser.get(f"{live_server.url}/patients/{patient.pk}/plan/")
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".week-row"))
    _full_page(browser, shot, f"{suffix}-plan-page")
    findings["plan page"] = axe_findings(browser)

    browser.delete_all_cookies()
    _sign_in(browser, live_server, "e2e-zh-manager")
    browser.add_cookie({"name": "django_language", "value": language, "path": "/"})
    browser.get(f"{live_server.url}/clinic/outcomes/")
    _wait(browser, lambda d: _charts_drawn(d, 1))
    _full_page(browser, shot, f"{suffix}-console-outcomes")
    findings["outcomes"] = axe_findings(browser)

    assert not {page: found for page, found in findings.items() if found}
