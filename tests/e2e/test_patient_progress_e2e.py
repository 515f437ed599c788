"""The patient's "My progress" on a 390 × 844 phone, in English and Chinese: the sentence
comparing pain with the start, the pain chart's titled axes, and PHQ-9 / GAD-7 on their
severity bands. Screenshots: tests/e2e/screenshots/progress-{en,zh}.png.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from assessments.models import Assessment
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_patient_pwa import go, js, wait_for

pytestmark = pytest.mark.e2e

PHONE_390 = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}


def _entries(patient) -> None:
    now = timezone.now()

    def add(instrument: str, total: float, days: float, answers: dict) -> None:
        Assessment.objects.create(
            patient=patient,
            instrument=instrument,
            answers=answers,
            total=total,
            recorded_at=now - dt.timedelta(days=days),
            client_uuid=uuid.uuid4(),
        )

    for days in range(24, 17, -1):
        add("nrs", 8, days, {"score": 8})
    for days in (12, 10, 8):
        add("nrs", 6, days, {"score": 6})
    for days in range(6, 0, -1):
        add("nrs", 5, days - 0.5, {"score": 5})
    add("vas", 74.0, 20, {"score_mm": 74.0})
    add("vas", 50.0, 2, {"score_mm": 50.0})
    for days, phq, gad in ((22, 15, 12), (12, 11, 9), (2, 8, 6)):
        add("phq9", phq, days, {})
        add("gad7", gad, days, {})


@pytest.mark.parametrize(
    ("language", "sentence", "axis"),
    [
        ("en", "Your pain is 38 % lower than when you started.", "Pain (0–10)"),
        ("zh-hans", "您的疼痛比开始时减轻了 38 %。", "疼痛（0–10）"),
    ],
)
def test_my_progress_on_a_phone(browser, live_server, pwa_patient, sign_in, language, sentence, axis):
    _entries(pwa_patient)
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE_390)
    browser.get(f"{live_server.url}/login/")
    browser.add_cookie({"name": "django_language", "value": language, "path": "/"})
    sign_in("e2e-patient")
    assert js(browser, "return document.documentElement.lang;") == language
    go(browser, "#progress")
    wait_for(
        lambda: js(browser, "return document.querySelectorAll('#progress-scores .main-svg').length;") >= 2,
        message="score charts",
    )
    wait_for(lambda: js(browser, "return !!document.querySelector('#progress-chart .main-svg');"), message="pain chart")
    # Baseline week mean 8, last 7 days mean 5: 38 % lower.
    assert js(browser, "return document.getElementById('progress-summary').textContent;") == sentence
    titles = js(
        browser,
        "return Array.from(document.querySelectorAll('#progress-chart .g-ytitle, #progress-chart .g-y2title')).map(t => t.textContent);",
    )
    assert axis in titles
    assert len([t for t in titles if t]) == 2  # both axes titled
    captions = js(
        browser, "return Array.from(document.querySelectorAll('#progress-scores figcaption')).map(c => c.textContent);"
    )
    assert len(captions) == 2  # PHQ-9 and GAD-7; no ODI answered, so no empty ODI chart
    # Severity bands drawn behind each score line.
    assert js(browser, "return document.querySelectorAll('#progress-scores .shapelayer path').length;") >= 8
    js(browser, "document.getElementById('progress-title').scrollIntoView()")
    height = js(browser, "return Math.ceil(document.documentElement.scrollHeight);")
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**PHONE_390, "height": min(int(height), 3000)})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"progress-{'zh' if language == 'zh-hans' else 'en'}.png"))
