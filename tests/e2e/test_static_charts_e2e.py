"""Static charts on the therapist patient page, in headless Chromium at 1366×900.

With plotly blocked (CDP Network.setBlockedURLs) every chart is still there, as the
server's SVG; once plotly loads, console.js swaps each for the interactive chart. Both
states are screenshotted in English and Chinese (tests/e2e/screenshots/static-charts-*.png)
and the static page passes the same axe-core check as the rest of the console.
"""

from __future__ import annotations

import pytest

from tests.e2e.test_chinese_console_e2e import _charts_drawn, axe_findings, clinic_zh  # noqa: F401  (fixture)
from tests.e2e.test_console_e2e import _sign_in, _wait

pytestmark = pytest.mark.e2e

SCREEN = {"width": 1366, "height": 900, "deviceScaleFactor": 1, "mobile": False}


def _static_charts(browser) -> list[dict]:
    return browser.execute_script(
        """
        return Array.from(document.querySelectorAll('[data-figure]')).map(el => {
            const svg = el.querySelector('svg.chart-static');
            const box = svg ? svg.getBoundingClientRect() : null;
            return {id: el.id, marked: el.hasAttribute('data-static-drawn'), drawn: el.hasAttribute('data-drawn'),
                    width: box ? box.width : 0, height: box ? box.height : 0,
                    label: svg ? svg.getAttribute('aria-labelledby') : null,
                    ticks: svg ? Array.from(svg.querySelectorAll('text')).map(t => t.textContent) : []};
        });
        """
    )


def _shot(browser, name: str) -> None:
    from tests.e2e.conftest import SCREENSHOTS

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.execute_script("document.querySelector('section.charts').scrollIntoView({block: 'start'})")
    browser.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_charts_show_before_plotly_and_give_way_to_it(browser, live_server, clinic_zh, language):  # noqa: F811
    suffix = "zh" if language == "zh-hans" else "en"
    patient = clinic_zh["patient"]
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", SCREEN)
    _sign_in(browser, live_server, "e2e-zh-therapist")
    browser.add_cookie({"name": "django_language", "value": language, "path": "/"})

    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*plotly*"]})
    browser.get(f"{live_server.url}/clinic/patients/{patient.pk}/")
    _wait(browser, lambda d: d.execute_script("return document.readyState") == "complete")
    charts = _static_charts(browser)
    assert len(charts) == 6
    for chart in charts:
        assert chart["marked"], chart
        assert not chart["drawn"], chart
        assert chart["width"] > 400, chart
        assert chart["height"] >= 170, chart
    assert not browser.execute_script("return !!window.Plotly")
    nrs = next(c for c in charts if c["id"] == "chart-nrs")
    if suffix == "zh":
        assert any("月" in t for t in nrs["ticks"]), nrs["ticks"]
    else:
        assert any(t[:3] in ("Oct", "Nov", "Dec") for t in nrs["ticks"]), nrs["ticks"]
    assert not axe_findings(browser)
    _shot(browser, f"static-charts-{suffix}-before-plotly")

    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    browser.get(f"{live_server.url}/clinic/patients/{patient.pk}/")
    _wait(browser, lambda d: _charts_drawn(d, 6))
    after = _static_charts(browser)
    assert all(c["drawn"] and not c["marked"] and not c["ticks"] for c in after), after  # the SVG gave way
    assert browser.execute_script("return document.querySelectorAll('.chart .main-svg').length") >= 6
    _shot(browser, f"static-charts-{suffix}-after-plotly")


def test_outcomes_charts_show_before_plotly(browser, live_server, clinic_zh):  # noqa: F811
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", SCREEN)
    _sign_in(browser, live_server, "e2e-zh-manager")
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*plotly*"]})
    browser.get(f"{live_server.url}/clinic/outcomes/")
    _wait(browser, lambda d: d.execute_script("return document.readyState") == "complete")
    boxes = browser.execute_script(
        """return Array.from(document.querySelectorAll('[data-chart]')).map(el => {
            const svg = el.querySelector('svg.chart-static');
            return svg ? svg.getBoundingClientRect().height : 0;
        });"""
    )
    assert len(boxes) == 5
    assert all(height >= 300 for height in boxes), boxes
    assert not axe_findings(browser)
    from tests.e2e.conftest import SCREENSHOTS

    browser.execute_script("document.querySelector('section.charts').scrollIntoView({block: 'start'})")
    browser.save_screenshot(str(SCREENSHOTS / "static-charts-outcomes-before-plotly.png"))
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    browser.get(f"{live_server.url}/clinic/outcomes/")
    _wait(browser, lambda d: _charts_drawn(d, 5))
    assert not browser.execute_script(
        "return document.querySelectorAll('svg.chart-static, [data-static-drawn]').length"
    )
    browser.execute_script("document.querySelector('section.charts').scrollIntoView({block: 'start'})")
    browser.save_screenshot(str(SCREENSHOTS / "static-charts-outcomes-after-plotly.png"))
