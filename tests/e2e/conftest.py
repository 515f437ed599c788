"""Headless Chromium driven by Selenium against pytest-django's live_server.

Uses Debian's /usr/bin/chromium and /usr/bin/chromedriver (no browser downloads); the tests
skip cleanly where either is missing. Each test gets a fresh browser profile, so service
worker registrations, caches and IndexedDB never leak between tests. The live server
listens on http://localhost:<port>, which browsers treat as a secure context, so service
workers, Background Sync and the Cache API work without TLS.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.factories import PASSWORD, make_clinic, make_patient, make_staff, make_user

SCREENSHOTS = Path(__file__).parent / "screenshots"
PHONE = {"width": 375, "height": 667, "deviceScaleFactor": 2, "mobile": True}


def _binary(name: str, default: str) -> str | None:
    path = os.environ.get(f"{name.upper()}_PATH", default)
    if os.path.exists(path):
        return path
    return shutil.which(name)


CHROMIUM = _binary("chromium", "/usr/bin/chromium")
CHROMEDRIVER = _binary("chromedriver", "/usr/bin/chromedriver")


def pytest_collection_modifyitems(config, items):
    if CHROMIUM and CHROMEDRIVER:
        return
    skip = pytest.mark.skip(reason="chromium and chromedriver are needed for browser tests")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


def start_chromium(
    *,
    metrics: dict[str, Any],
    window: tuple[int, int],
    page_load_timeout: float = 30,
    extra_flags: tuple[str, ...] = (),
    profile_prefix: str = "rehab-e2e-",
) -> Any:
    """Debian's headless Chromium with a fresh profile (kept on ``driver.profile_dir``),
    the given device metrics and the network domain enabled; end it with ``stop_chromium``."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix=profile_prefix)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        f"--window-size={window[0]},{window[1]}",
        *extra_flags,
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.profile_dir = profile
    driver.set_page_load_timeout(page_load_timeout)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    driver.execute_cdp_cmd("Network.enable", {})
    return driver


def stop_chromium(driver: Any) -> None:
    driver.quit()
    shutil.rmtree(driver.profile_dir, ignore_errors=True)


@pytest.fixture
def browser():
    driver = start_chromium(metrics=PHONE, window=(375, 667), extra_flags=("--lang=en-US",))
    try:
        yield driver
    finally:
        stop_chromium(driver)


@pytest.fixture
def pwa_patient(transactional_db):
    """A patient with a login, on a therapist's care team (what the seeded demo has)."""
    clinic = make_clinic("E2E")
    therapist = make_staff(clinic, "therapist", "e2e-therapist")
    return make_patient(clinic, user=make_user("e2e-patient"), therapists=(therapist,), display_name="Li Hua")


@pytest.fixture
def screenshot(browser):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        browser.save_screenshot(str(path))
        return path

    return take


@pytest.fixture
def sign_in(browser, live_server):
    """Sign in through the real /login/ form and land on the app."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    def login(username: str, password: str = PASSWORD) -> None:
        browser.get(f"{live_server.url}/login/?next=/app/")
        browser.find_element(By.ID, "id_username").send_keys(username)
        browser.find_element(By.ID, "id_password").send_keys(password)
        browser.find_element(By.CSS_SELECTOR, "form button[type=submit].primary").click()
        WebDriverWait(browser, 15).until(ec.url_contains("/app/"))
        WebDriverWait(browser, 15).until(lambda d: d.execute_script("return !!window.RehabApp"))

    return login


class Network:
    """Switch the emulated network off and on for the page *and* its service worker.

    Network.emulateNetworkConditions sent to the page does not reach fetches made by the
    service worker (a separate DevTools target): without this, Background Sync would
    happily send the "offline" queue. The worker's target is attached in the (deprecated
    but still supported) non-flat mode, so Selenium's plain execute_cdp_cmd can drive it.
    """

    CONDITIONS = {"latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}

    def __init__(self, driver):
        self.driver = driver
        self.sessions: dict[str, str] = {}
        self.ids = 0

    def _worker_sessions(self):
        infos = self.driver.execute_cdp_cmd("Target.getTargets", {})["targetInfos"]
        for info in infos:
            if info["type"] == "service_worker" and info["targetId"] not in self.sessions:
                attached = self.driver.execute_cdp_cmd(
                    "Target.attachToTarget", {"targetId": info["targetId"], "flatten": False}
                )
                self.sessions[info["targetId"]] = attached["sessionId"]
                self._send(attached["sessionId"], "Network.enable", {})
        live = {info["targetId"] for info in infos}
        return [session for target, session in self.sessions.items() if target in live]

    def _send(self, session, method, params):
        import json

        self.ids += 1
        message = json.dumps({"id": self.ids, "method": method, "params": params})
        self.driver.execute_cdp_cmd("Target.sendMessageToTarget", {"sessionId": session, "message": message})

    def set(self, *, offline: bool) -> None:
        conditions = {"offline": offline, **self.CONDITIONS}
        for session in self._worker_sessions():
            self._send(session, "Network.emulateNetworkConditions", conditions)
        self.driver.execute_cdp_cmd("Network.emulateNetworkConditions", conditions)


@pytest.fixture
def network(browser):
    return Network(browser)
