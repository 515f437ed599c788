"""Page weight and chart time in headless Chromium, served the way production serves them.

Static files are collected into a temporary STATIC_ROOT with the production storage
(hashed names, gzip — and brotli when the ``brotli`` package is installed) and served by
WhiteNoise inside the Django app (not by the test server's uncompressed static handler).
Every byte the server sends is counted at the WSGI layer, so the service worker's
precache downloads count too.

1. First patient visit (fresh browser profile): the sign-in page, signing in, the app
   page and everything the page and its service worker fetch until the network is quiet.
   Measured twice: with compression (as served) and with compression refused (the
   uncompressed figure). Target: <= 500 KB transferred.
2. Therapist patient page on slow 3G (CDP: 400 ms latency, 400 kbit/s down and up) with
   a 4x CPU throttle, fresh profile (cold) and again from the browser cache (warm): time
   from navigation start to first contentful paint; until every chart is visible as the
   server's static SVG (each chart container holds its ``svg.chart-static``, and a frame
   has been painted since); and until every chart is drawn interactively by plotly
   (console.js marks each with data-drawn). Target: charts visible <= 5 s.

Prints ``BENCH page_weight ...`` and ``BENCH therapist_charts ...`` lines; asserts only
that the pages worked (charts drawn, app started), never a timing or a size.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django.test.testcases import LiveServerThread

from tests.e2e.conftest import CHROMEDRIVER, CHROMIUM, start_chromium, stop_chromium
from tests.factories import PASSWORD, make_clinic, make_patient, make_staff, make_user
from tests.i18n.zh_data import populate

pytestmark = [pytest.mark.bench, pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="needs chromium")]

SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8}
CPU_SLOWDOWN = 4


class ByteCounter:
    """WSGI wrapper: counts status line, headers and body bytes of every response."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.total = 0
        self.requests: list[tuple[str, int, str]] = []
        self.refuse_compression = False

    def reset(self) -> None:
        with self.lock:
            self.total = 0
            self.requests = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        if self.refuse_compression:
            environ["HTTP_ACCEPT_ENCODING"] = "identity"
        path = environ.get("PATH_INFO", "")
        head: dict[str, Any] = {}

        def counting_start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            head["bytes"] = len(status) + 11 + sum(len(k) + len(v) + 4 for k, v in headers) + 2
            head["encoding"] = {k.lower(): v for k, v in headers}.get("content-encoding", "")
            return start_response(status, headers, exc_info)

        body = 0
        result = self.app(environ, counting_start)
        try:
            for chunk in result:
                body += len(chunk)
                yield chunk
        finally:
            if hasattr(result, "close"):
                result.close()
            with self.lock:
                self.total += body + head.get("bytes", 0)
                self.requests.append((path, body, head.get("encoding", "")))


@pytest.fixture
def production_server(transactional_db: Any, settings: Any) -> Iterator[tuple[str, ByteCounter]]:
    root = Path(tempfile.mkdtemp(prefix="rehab-static-"))
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["localhost", "127.0.0.1"]
    settings.STATIC_ROOT = root
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    counter: dict[str, ByteCounter] = {}

    def wrap(app: Any) -> ByteCounter:
        counter["app"] = ByteCounter(app)
        return counter["app"]

    conns = {alias: connections[alias] for alias in connections if connections[alias].vendor == "sqlite"}
    for conn in conns.values():
        conn.inc_thread_sharing()
    thread = LiveServerThread("localhost", wrap, connections_override=conns or None, port=0)
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    try:
        yield f"http://localhost:{thread.port}", counter["app"]
    finally:
        thread.terminate()
        for conn in conns.values():
            conn.dec_thread_sharing()
        shutil.rmtree(root, ignore_errors=True)


def _chromium(width: int, height: int, mobile: bool) -> Any:
    return start_chromium(
        metrics={"width": width, "height": height, "deviceScaleFactor": 2 if mobile else 1, "mobile": mobile},
        window=(width, height),
        page_load_timeout=120,
        profile_prefix="rehab-bench-",
    )


def _wait(predicate: Any, timeout: float, message: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {message}")


def _quiet(counter: ByteCounter, seconds: float = 2.0, timeout: float = 60.0) -> None:
    """Wait until the server has sent nothing for `seconds`."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        if counter.total != last:
            last, since = counter.total, time.monotonic()
        elif time.monotonic() - since >= seconds:
            return
        time.sleep(0.2)


def _first_visit(url: str, counter: ByteCounter, *, compressed: bool) -> tuple[int, list[tuple[str, int, str]]]:
    from selenium.webdriver.common.by import By

    counter.refuse_compression = not compressed
    driver = _chromium(390, 844, mobile=True)
    try:
        counter.reset()
        driver.get(f"{url}/login/?next=/app/")
        driver.find_element(By.ID, "id_username").send_keys("bench-patient")
        driver.find_element(By.ID, "id_password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "form button[type=submit].primary").click()
        _wait(lambda: driver.execute_script("return !!window.RehabApp"), 60, "the patient app")
        _wait(
            lambda: (
                driver.execute_script("return !!(navigator.serviceWorker && navigator.serviceWorker.controller)")
                or driver.execute_script("return document.readyState === 'complete'")
            ),
            60,
            "page load",
        )
        _quiet(counter)
        return counter.total, list(counter.requests)
    finally:
        stop_chromium(driver)
        counter.refuse_compression = False


def test_first_patient_visit_bytes(production_server: tuple[str, ByteCounter]) -> None:
    url, counter = production_server
    clinic = make_clinic("Bench")
    therapist = make_staff(clinic, "therapist", "bench-therapist")
    patient = make_patient(clinic, user=make_user("bench-patient"), therapists=(therapist,), display_name="Li Hua")
    populate(therapist, patient)

    compressed, requests = _first_visit(url, counter, compressed=True)
    uncompressed, _plain = _first_visit(url, counter, compressed=False)
    assert any(path == "/app/" for path, _size, _enc in requests)
    largest = sorted(requests, key=lambda r: -r[1])[:6]
    print(
        f"\nBENCH page_weight first_patient_visit_bytes={compressed} ({compressed / 1000:.0f} kB) "
        f"uncompressed_bytes={uncompressed} ({uncompressed / 1000:.0f} kB) requests={len(requests)} target_kB=500"
    )
    print("BENCH page_weight largest: " + ", ".join(f"{p} {s / 1000:.0f} kB {e or 'identity'}" for p, s, e in largest))


# Injected before any page script (CDP, so the page's CSP does not apply): notes when every
# one of the page's chart containers holds its static SVG, then when the next frame has run.
STATIC_WATCH = """
(() => {
  const expected = %d;
  const ready = () => {
    const charts = document.querySelectorAll('[data-figure]');
    return charts.length >= expected &&
      Array.from(charts).every(c => c.querySelector('svg.chart-static') || c.hasAttribute('data-drawn'));
  };
  const seen = () => {
    if (window.__staticSeen !== undefined || !ready()) return;
    window.__staticSeen = performance.now();
    requestAnimationFrame(() => setTimeout(() => { window.__staticPainted = performance.now(); }, 0));
    observer.disconnect();
  };
  const observer = new MutationObserver(seen);
  observer.observe(document, {childList: true, subtree: true});
  document.addEventListener('DOMContentLoaded', seen);
})();
"""


def test_therapist_patient_page_chart_time(production_server: tuple[str, ByteCounter]) -> None:
    url, _counter = production_server
    clinic = make_clinic("Bench")
    therapist = make_staff(clinic, "therapist", "bench-therapist")
    patient = make_patient(clinic, therapists=(therapist,), display_name="Wang Lei", diagnoses=["lumbar_radiculopathy"])
    populate(therapist, patient)
    client = Client()
    client.force_login(therapist)
    session = client.cookies["sessionid"].value
    page = client.get(f"/clinic/patients/{patient.pk}/", HTTP_HOST="localhost")
    assert page.status_code == 200
    expected = page.content.decode().count("data-figure=")

    driver = _chromium(1366, 900, mobile=False)
    measured = {}
    try:
        driver.get(f"{url}/healthz")
        driver.add_cookie({"name": "sessionid", "value": session, "path": "/"})
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", SLOW_3G)
        driver.execute_cdp_cmd("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": STATIC_WATCH % expected})
        # Cold: a fresh profile. Warm: the same page again, hashed static files from the browser cache.
        for visit in ("cold", "warm"):
            driver.get(f"{url}/clinic/patients/{patient.pk}/")
            charts = driver.execute_script("return document.querySelectorAll('[data-figure]').length")
            assert charts == expected >= 4
            _wait(
                lambda charts=charts: (
                    driver.execute_script("return document.querySelectorAll('[data-drawn]').length") >= charts
                ),
                120,
                "every chart drawn",
            )
            measured[visit] = driver.execute_script(
                """
                const drawn = Array.from(document.querySelectorAll('[data-drawn]')).map(e => +e.dataset.drawn);
                const fcp = performance.getEntriesByName('first-contentful-paint')[0];
                const nav = performance.getEntriesByType('navigation')[0];
                const bytes = performance.getEntriesByType('resource').reduce((s, r) => s + r.transferSize, nav.transferSize);
                const painted = window.__staticPainted;
                return {charts_ms: Math.max(...drawn) - performance.timeOrigin, fcp_ms: fcp ? fcp.startTime : 0,
                        static_ms: painted === undefined ? null : Math.max(painted, fcp ? fcp.startTime : 0),
                        dcl_ms: nav.domContentLoadedEventEnd, bytes: bytes, html_bytes: nav.transferSize,
                        html_decoded_bytes: nav.decodedBodySize};
                """
            )
    finally:
        driver.execute_cdp_cmd("Emulation.setCPUThrottlingRate", {"rate": 1})
        stop_chromium(driver)
    for visit, timing in measured.items():
        assert timing["static_ms"] is not None, "a static chart never showed"
        print(
            f"\nBENCH therapist_charts slow3g_cpu4x visit={visit} "
            f"first_contentful_paint_s={timing['fcp_ms'] / 1000:.2f} "
            f"static_charts_visible_s={timing['static_ms'] / 1000:.2f} "
            f"interactive_charts_drawn_s={timing['charts_ms'] / 1000:.2f} "
            f"dom_content_loaded_s={timing['dcl_ms'] / 1000:.2f} transferred_bytes={timing['bytes']} "
            f"html_bytes={timing['html_bytes']} html_decoded_bytes={timing['html_decoded_bytes']} "
            f"charts={charts} target_visible_s=5"
        )


def test_static_files_are_hashed_compressed_and_cached_for_a_year(production_server: tuple[str, ByteCounter]) -> None:
    import urllib.request

    from django.contrib.staticfiles.storage import staticfiles_storage

    url, _counter = production_server
    hashed = staticfiles_storage.url("frontend/vendor/plotly.min.js")
    assert hashed != "/static/frontend/vendor/plotly.min.js"  # a content hash in the name
    request = urllib.request.Request(url + hashed, headers={"Accept-Encoding": "br, gzip"})  # noqa: S310
    with urllib.request.urlopen(request) as response:  # noqa: S310
        body = response.read()
        cache_control = response.headers["Cache-Control"]
        encoding = response.headers.get("Content-Encoding", "identity")
    assert "immutable" in cache_control
    assert encoding in {"br", "gzip"}
    print(f"\nBENCH static {hashed} encoding={encoding} bytes={len(body)} cache_control={cache_control!r}")
