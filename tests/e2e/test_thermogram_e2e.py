"""A therapist works a thermogram in headless Chromium: drops the camera's file on the page,
moves the midline with the keyboard, draws two regions with the mouse (each mirrored across
the midline), reads their ΔT live, has a region over the cold floor refused by the server
with its reason, saves, and finds the ΔT per region and the mean |ΔT| in the thermal chart,
beside the earlier visit on the same temperature scale. Then the same page in Chinese.

Screenshots (1366 x 900) land in tests/e2e/screenshots/thermogram-*.png.
"""

from __future__ import annotations

import base64
import datetime as dt
import uuid
import zoneinfo

import pytest
from django.utils import timezone

from assessments.models import Assessment
from assessments.thermograms.services import RegionInput, thermogram_measure, thermogram_upload
from patients.audit import Actor
from tests.e2e.test_chinese_console_e2e import axe_findings
from tests.e2e.test_console_e2e import _sign_in, _thermal_trace, _wait
from tests.factories import make_clinic, make_patient, make_staff
from tests.thermo_images import LEGS_COOL_PATCH, LEGS_INNER, LEGS_MIDLINE, csv_bytes, legs

pytestmark = pytest.mark.e2e

SCREEN = {"width": 1366, "height": 900, "deviceScaleFactor": 1, "mobile": False}
MINUS = "\u2212"


def _region(name: str, patch: tuple[int, int, int, int]) -> RegionInput:
    """A region well inside a uniform patch of the image."""
    x, y, w, h = patch
    return RegionInput(region=name, x=x + 4, y=y + 10, w=w - 8, h=h - 20)


@pytest.fixture
def thermo_patient(transactional_db, settings, tmp_path):
    """A patient whose earlier visit (four weeks ago) was measured with a larger asymmetry."""
    settings.MEDIA_ROOT = tmp_path / "media"
    clinic = make_clinic("E2E thermograms")
    therapist = make_staff(clinic, "therapist", "e2e-thermo-therapist")
    patient = make_patient(
        clinic, therapists=(therapist,), display_name="Li Na", affected_side="left", time_zone="Asia/Shanghai"
    )
    earlier = thermogram_upload(
        actor=Actor(user=therapist),
        patient=patient,
        data=csv_bytes(legs(left_c=30.4, cool_c=29.0)),
        client_uuid=uuid.uuid4(),
        recorded_at=timezone.now() - dt.timedelta(days=28),
        ambient_c=22.0,
        acclimatisation_min=15,
        view="posterior",
        image_left_is=None,
    ).thermogram
    thermogram_measure(
        actor=Actor(user=therapist),
        thermogram=earlier,
        midline_x=LEGS_MIDLINE,
        regions=[_region("L5 dermatome", LEGS_COOL_PATCH), _region("L4 dermatome", LEGS_INNER)],
        affected_side="left",
    )
    return patient


def _screen(browser, height: int = SCREEN["height"]) -> None:
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {**SCREEN, "height": height})


def _full_page(browser, shot, name: str) -> None:
    height = browser.execute_script("return Math.ceil(document.documentElement.scrollHeight)")
    _screen(browser, min(int(height), 4000))
    browser.execute_script("window.scrollTo(0, 0)")
    shot(name)
    _screen(browser)


def _drop_file(browser, name: str, data: bytes) -> None:
    """What a drag from the file manager delivers: a drop event holding one File."""
    browser.execute_script(
        """
        const bytes = Uint8Array.from(atob(arguments[1]), c => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], arguments[0], {type: "text/csv"}));
        const zone = document.getElementById("thermo-drop");
        zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: transfer, bubbles: true, cancelable: true}));
        zone.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
        """,
        name,
        base64.b64encode(data).decode(),
    )


def _viewport_point(browser, x: float, y: float) -> tuple[int, int]:
    """Image pixel (x, y) of the editor's overlay in viewport CSS pixels."""
    return tuple(
        browser.execute_script(
            """
            const svg = document.querySelector("#stage-current svg.thermo-overlay");
            const box = svg.getBoundingClientRect();
            const t = window.RehabThermogram;
            return [Math.round(box.left + arguments[0] / t.W * box.width), Math.round(box.top + arguments[1] / t.H * box.height)];
            """,
            x,
            y,
        )
    )


def _draw(browser, start: tuple[float, float], end: tuple[float, float]) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.actions.action_builder import ActionBuilder

    actions = ActionChains(browser)
    builder = ActionBuilder(browser)
    x0, y0 = _viewport_point(browser, *start)
    x1, y1 = _viewport_point(browser, *end)
    builder.pointer_action.move_to_location(x0, y0).pointer_down()
    for step in range(1, 6):
        builder.pointer_action.move_to_location(x0 + (x1 - x0) * step // 5, y0 + (y1 - y0) * step // 5)
    builder.pointer_action.pointer_up()
    builder.perform()
    actions.reset_actions()


def _live_deltas(browser) -> list[str]:
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#roi-rows [data-cell=delta]')).map(td => td.textContent)"
    )


def _name_region(browser, name: str) -> None:
    from selenium.webdriver.common.keys import Keys

    active = browser.switch_to.active_element
    assert active.get_attribute("data-field") == "name"
    active.send_keys(Keys.CONTROL, "a")
    active.send_keys(name)


def _upload_by_drop(browser, live_server, patient, taken: str) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{live_server.url}/clinic/patients/{patient.pk}/")
    link = f'a[href="/clinic/patients/{patient.pk}/thermograms/"]'
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, link))[0].click()
    _wait(browser, lambda d: d.find_elements(By.ID, "thermogram-upload"))
    browser.execute_script("document.getElementById('id_recorded_at').value = arguments[0];", taken)
    browser.find_element(By.ID, "id_ambient_c").send_keys("22")
    browser.find_element(By.ID, "id_view").send_keys("Posterior")
    _drop_file(browser, "IR_0042.csv", csv_bytes(legs(), separator=";", decimal=",", header=("FLIR Tools export",)))
    _wait(browser, lambda d: "Thermogram uploaded" in d.find_element(By.CSS_SELECTOR, "ul.messages").text)
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#stage-current[data-preview=ready]"))


def test_drop_draw_live_delta_save_and_chart(browser, live_server, screenshot, thermo_patient):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    patient = thermo_patient
    _screen(browser)
    _sign_in(browser, live_server, "e2e-thermo-therapist")
    taken = timezone.localtime(timezone.now() - dt.timedelta(hours=1), zoneinfo.ZoneInfo(patient.time_zone))
    _upload_by_drop(browser, live_server, patient, taken.strftime("%Y-%m-%dT%H:%M"))
    assert browser.find_element(By.ID, "drop-status").text

    # The midline moves with the arrow keys, half a pixel a press.
    midline = browser.find_element(By.CSS_SELECTOR, "#stage-current g.midline")
    browser.execute_script("arguments[0].focus()", midline)
    ActionChains(browser).send_keys(Keys.ARROW_RIGHT).send_keys(Keys.ARROW_RIGHT).perform()
    assert midline.get_attribute("aria-valuenow") == "161"
    ActionChains(browser).send_keys(Keys.ARROW_LEFT, Keys.ARROW_LEFT).perform()
    assert browser.find_element(By.CSS_SELECTOR, "input[name$='-midline_x']").get_attribute("value") == "160"

    browser.execute_script("document.getElementById('editor').scrollIntoView({block: 'start'})")
    _draw(browser, (52, 142), (84, 206))
    _name_region(browser, "L5 dermatome")
    _draw(browser, (108, 142), (136, 206))
    _name_region(browser, "L4 dermatome")
    _draw(browser, (60, 233), (100, 239))  # the floor: colder than skin
    _wait(browser, lambda d: len(_live_deltas(d)) == 3)
    live = _live_deltas(browser)
    assert live[0].startswith(f"{MINUS}2.20"), live
    assert live[1].startswith(f"{MINUS}1.20"), live
    mirrored = browser.execute_script("return document.querySelectorAll('#stage-current rect.mirror').length")
    assert mirrored == 3
    browser.execute_script("document.getElementById('editor').scrollIntoView({block: 'start'})")
    screenshot("thermogram-drawn-en")

    browser.find_element(By.ID, "roi-save").click()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#roi-status.error"))
    text = browser.find_element(By.ID, "roi-status").text
    assert "Region “Region 3” (Left): must be a number from 15 to 45" in text, text
    assert "Region “Region 3” (Right): must be a number from 15 to 45" in text, text
    assert Assessment.objects.filter(patient=patient).count() == 1  # the earlier visit's only
    browser.execute_script("document.getElementById('roi-status').scrollIntoView({block: 'end'})")
    screenshot("thermogram-refused-en")

    browser.find_element(By.CSS_SELECTOR, "#roi-rows tr[data-i='2'] button").click()
    browser.find_element(By.ID, "roi-save").click()
    _wait(browser, lambda d: "L5 dermatome" in d.find_element(By.CSS_SELECTOR, "#roi-status.success").text)
    saved = Assessment.objects.filter(patient=patient, instrument="thermal").latest("recorded_at")
    deltas = {roi["region"]: roi["delta_c"] for roi in saved.detail["rois"]}
    assert deltas == {"L5 dermatome": -2.2, "L4 dermatome": -1.2}

    trace = _wait(browser, lambda d: (t := _thermal_trace(d)) and len(t.get("L5 dermatome", [])) == 2 and t)
    assert trace["L5 dermatome"][-1] == -2.2
    assert trace["L4 dermatome"][-1] == -1.2
    assert trace["Mean |ΔT| over regions"] == [2.5, 1.7]  # symmetry recovering toward 0
    compare = browser.find_element(By.ID, "compare-summary").text
    assert f"L5 dermatome ΔT {MINUS}3.20" in compare, compare
    assert not axe_findings(browser)
    _full_page(browser, screenshot, "thermogram-console-en")

    browser.add_cookie({"name": "django_language", "value": "zh-hans", "path": "/"})
    browser.refresh()
    _wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, "#stage-current[data-preview=ready]"))
    _wait(browser, lambda d: d.execute_script("return !!document.querySelector('#chart-thermal[data-drawn]')"))
    page = browser.find_element(By.TAG_NAME, "main").text
    assert "热成像" in page, page[:400]
    assert "Start from a template" not in page
    assert _live_deltas(browser)[0].startswith(f"{MINUS}2.20")  # the saved regions, measured live again
    assert not axe_findings(browser)
    browser.execute_script("document.getElementById('editor').scrollIntoView({block: 'start'})")
    screenshot("thermogram-editor-zh-hans")
    _full_page(browser, screenshot, "thermogram-console-zh-hans")
