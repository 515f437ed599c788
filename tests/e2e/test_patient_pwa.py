"""The patient PWA in headless Chromium on a 375 × 667 phone viewport.

What these prove, in a real browser with the real service worker and IndexedDB:
1. install criteria: manifest linked and valid, icons fetchable, the service worker
   registered and controlling the page after a reload, the app shell cached;
2. offline first: three entries logged with the network off are kept on the phone (none
   reach the server), survive a reload served from the service worker's cache, and arrive
   exactly once each when the network comes back;
3. a whole PHQ-9 answered one item per screen with "n / 9" progress and Back;
4. PHQ-9 item 9 > 0 shows the crisis resources at once, with the network off, and is
   queued at once as its own entry, which the finished questionnaire supersedes;
5. an abandoned PHQ-9 after item 9 still reaches the therapist's worklist as a safety
   alert, and resumes where the patient left off;
6. entries the server refuses stay on the phone as "needs correction", with the reason in
   the patient's language, and are corrected and re-sent, or discarded on purpose.
Screenshots land in tests/e2e/screenshots/.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from django.db import OperationalError
from django.utils import timezone

from assessments.models import Alert, Assessment

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def wait_for(predicate, timeout=15.0, interval=0.25, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except OperationalError:
            # SQLite's shared in-memory test database: the live server is writing right now.
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}")


def db(read):
    """Read the database while the live server may be writing (SQLite table locks)."""
    return wait_for(lambda: (read(),), timeout=5, message="database read")[0]


def js(browser, script, *args):
    return browser.execute_script(script, *args)


def run_async(browser, body):
    """Run `body` (an expression yielding a promise) and return its resolved value."""
    return browser.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        f"Promise.resolve({body}).then(done, function (e) {{ done({{error: String(e)}}); }});"
    )


def visible(browser, selector):
    return js(
        browser,
        "var n = document.querySelector(arguments[0]); return !!n && !n.closest('[hidden]') && n.offsetParent !== null;",
        selector,
    )


def click(browser, selector):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    # Lists the app redraws after a sync can replace the element between finding and clicking it.
    for _attempt in range(5):
        try:
            element = browser.find_element(By.CSS_SELECTOR, selector)
            js(browser, "arguments[0].scrollIntoView({block: 'center'});", element)
            element.click()
            return element
        except StaleElementReferenceException:
            time.sleep(0.2)
    raise AssertionError(f"{selector} kept being replaced")


def go(browser, hash_):
    js(browser, "location.hash = arguments[0];", hash_)


def until_controlled(browser):
    """Wait for the service worker, reload, and check it now controls the page."""

    def state():
        return run_async(
            browser, "navigator.serviceWorker.ready.then(function (r) { return r.active && r.active.state; })"
        )

    wait_for(lambda: state() == "activated", message="service worker activated")
    browser.refresh()
    wait_for(lambda: js(browser, "return !!window.RehabApp"), message="app after reload")
    wait_for(lambda: js(browser, "return !!navigator.serviceWorker.controller"), message="service worker control")
    # The shell is in the versioned cache (precached at install).
    wait_for(
        lambda: run_async(browser, "caches.match('/api/v1/instruments/').then(function (r) { return !!r; })"),
        message="instruments cached",
    )
    wait_for(
        lambda: run_async(browser, "caches.match('/app/').then(function (r) { return !!r; })"),
        message="app page cached",
    )


def set_offline(browser, network, offline):
    network.set(offline=offline)
    wait_for(
        lambda: js(browser, "return navigator.onLine;") is (not offline), message=f"navigator.onLine == {not offline}"
    )


def queue_states(browser):
    return run_async(
        browser, "window.RehabApp.list().then(function (rows) { return rows.map(function (r) { return r.state; }); })"
    )


def answer_option(browser, index):
    buttons = wait_for(
        lambda: js(browser, "var b = document.querySelectorAll('#q-options .option'); return b.length ? b.length : 0;"),
        message="options",
    )
    assert index < buttons
    js(browser, "document.querySelectorAll('#q-options .option')[arguments[0]].click();", index)


def q_count(browser):
    return js(browser, "return document.getElementById('q-count').textContent;")


def small_targets(browser):
    """Visible buttons, links, inputs and selects smaller than 44 × 44 CSS px."""
    return js(
        browser,
        """
        var out = [];
        document.querySelectorAll('main button, main a, main select, main input, nav.tabbar a').forEach(function (n) {
          if (n.closest('[hidden]') || n.offsetParent === null || n.type === 'hidden') return;
          var r = n.getBoundingClientRect();
          if (n.type === 'checkbox') { r = n.parentNode.getBoundingClientRect(); }
          if (n.closest('.crisis-list') && n.tagName === 'A') { /* phone links in running text: 44 px tall */ }
          if (r.height < 44 || r.width < 44) out.push((n.id || n.className || n.tagName) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height) + ' ' + n.textContent.trim().slice(0, 30));
        });
        return out;
        """,
    )


def test_install_criteria(browser, live_server, pwa_patient, sign_in, screenshot):
    sign_in("e2e-patient")
    href = js(browser, "var l = document.querySelector('link[rel=manifest]'); return l && l.getAttribute('href');")
    assert href == "/manifest.webmanifest"
    manifest = run_async(browser, "fetch('/manifest.webmanifest').then(function (r) { return r.json(); })")
    assert manifest["start_url"] == "/app/"
    assert manifest["display"] == "standalone"
    assert manifest["scope"] == "/"
    assert {icon["sizes"] for icon in manifest["icons"]} >= {"192x192", "512x512"}
    assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])
    for icon in manifest["icons"]:
        status = run_async(
            browser,
            f"fetch('{icon['src']}').then(function (r) {{ return r.status + ' ' + r.headers.get('content-type'); }})",
        )
        assert status == "200 image/png", (icon["src"], status)

    until_controlled(browser)
    scope = run_async(browser, "navigator.serviceWorker.getRegistration().then(function (r) { return r.scope; })")
    assert scope == f"{live_server.url}/"
    assert js(browser, "return navigator.serviceWorker.controller.scriptURL;") == f"{live_server.url}/sw.js"
    caches = run_async(browser, "caches.keys()")
    assert any(name.startswith("rehab-shell-v") for name in caches), caches
    for url in (
        "/static/frontend/vendor/htmx.min.js",
        "/static/frontend/vendor/plotly.min.js",
        "/static/frontend/pwa/app.js",
    ):
        assert run_async(browser, f"caches.match('{url}').then(function (r) {{ return !!r; }})"), url
    assert small_targets(browser) == []
    screenshot("01-today")


def test_three_entries_offline_then_synced_once(browser, network, live_server, pwa_patient, sign_in, screenshot):
    sign_in("e2e-patient")
    until_controlled(browser)
    set_offline(browser, network, True)
    assert visible(browser, "#net-status")

    # 1. NRS 6
    go(browser, "#log/nrs")
    wait_for(lambda: visible(browser, "#nrs-grid"), message="NRS screen")
    click(browser, ".nrs-btn[data-value='6']")
    screenshot("02-nrs-offline")
    click(browser, "#nrs-save")
    wait_for(lambda: len(queue_states(browser)) == 1, message="first entry queued")

    # 2. VAS: no mark until touched, then about 3/4 of the line
    go(browser, "#log/vas")
    wait_for(lambda: visible(browser, "#vas-track"), message="VAS screen")
    assert js(browser, "return document.getElementById('vas-thumb').hidden;") is True
    assert js(browser, "return document.getElementById('vas-save').disabled;") is True
    assert js(browser, "return document.getElementById('vas-track').getAttribute('aria-valuenow');") is None
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    line = browser.find_element(By.CSS_SELECTOR, ".vas-line")
    width = line.size["width"]
    ActionChains(browser).move_to_element_with_offset(line, int(width * 0.25), 0).click().perform()
    mm = int(js(browser, "return document.getElementById('vas-track').getAttribute('aria-valuenow');"))
    assert 70 <= mm <= 80, mm
    assert js(browser, "return document.getElementById('vas-thumb').hidden;") is False
    screenshot("03-vas-marked")
    click(browser, "#vas-save")
    wait_for(lambda: len(queue_states(browser)) == 2, message="second entry queued")

    # 3. DN4 interview: seven yes/no items, one per screen
    go(browser, "#q/dn4")
    wait_for(lambda: q_count(browser) == "1 / 7", message="DN4 1 / 7")
    for index in range(7):
        wait_for(lambda index=index: q_count(browser) == f"{index + 1} / 7", message=f"DN4 item {index + 1}")
        answer_option(browser, 0 if index in (0, 3, 5) else 1)  # burning, tingling, numbness: yes
    wait_for(lambda: visible(browser, "#q-save"), message="DN4 review")
    click(browser, "#q-save")
    wait_for(lambda: len(queue_states(browser)) == 3, message="third entry queued")

    go(browser, "#today")
    wait_for(
        lambda: (
            len(js(browser, "return document.querySelectorAll('#queue-list .queue-item[data-state=queued]');")) == 3
        ),
        message="three queued rows shown",
    )
    assert queue_states(browser) == ["queued", "queued", "queued"]
    js(browser, "document.getElementById('queue-list').scrollIntoView();")
    screenshot("04-offline-queued")
    time.sleep(1.0)  # give any (wrong) background send a chance to happen
    assert Assessment.objects.count() == 0

    # Reload while offline: the service worker serves the cached shell, IndexedDB keeps the queue.
    browser.refresh()
    wait_for(lambda: js(browser, "return !!window.RehabApp"), message="app from cache")
    assert js(browser, "return navigator.onLine;") is False
    assert queue_states(browser) == ["queued", "queued", "queued"]
    assert Assessment.objects.count() == 0

    set_offline(browser, network, False)
    wait_for(lambda: queue_states(browser) == ["synced", "synced", "synced"], timeout=20, message="all three synced")
    wait_for(lambda: Assessment.objects.count() == 3, message="three rows on the server")
    uuids = set(
        run_async(
            browser,
            "window.RehabApp.list().then(function (rows) { return rows.map(function (r) { return r.client_uuid; }); })",
        )
    )
    rows = db(lambda: list(Assessment.objects.order_by("recorded_at", "id")))
    assert {str(a.client_uuid) for a in rows} == uuids
    assert [a.instrument for a in rows] == ["nrs", "vas", "dn4"]
    assert rows[0].answers["score"] == 6
    assert 70 <= rows[1].total <= 80
    assert rows[2].total == 3
    assert "neuropathic_likely" in rows[2].flags
    assert all(a.patient_id == pwa_patient.pk for a in rows)

    # Sending again (a second tab, a retried Background Sync) adds nothing.
    run_async(browser, "window.RehabApp.sync('again')")
    assert db(Assessment.objects.count) == 3
    go(browser, "#today")
    js(browser, "document.getElementById('queue-list').scrollIntoView();")
    screenshot("05-online-synced")


def test_phq9_on_a_phone(browser, live_server, pwa_patient, sign_in, screenshot):
    sign_in("e2e-patient")
    assert js(browser, "return [window.innerWidth, window.innerHeight];") == [375, 667]
    go(browser, "#q/phq9")
    wait_for(lambda: q_count(browser) == "1 / 9", message="PHQ-9 1 / 9")
    assert js(browser, "return document.getElementById('q-title').textContent;").startswith("Little interest")
    answers = [1, 2, 0, 1, 3, 0, 1, 0, 0]
    for index, value in enumerate(answers[:3]):
        wait_for(lambda index=index: q_count(browser) == f"{index + 1} / 9", message=f"item {index + 1}")
        if index == 2:
            screenshot("06-phq9-item3")
            assert small_targets(browser) == []
        answer_option(browser, value)
    # Back to item 3: the answer is kept and "Next" moves on without changing it.
    wait_for(lambda: q_count(browser) == "4 / 9", message="item 4")
    click(browser, "#q-back")
    wait_for(lambda: q_count(browser) == "3 / 9", message="back to item 3")
    assert js(browser, "return document.querySelector('#q-options .option[aria-pressed=true]').dataset.value;") == "0"
    click(browser, "#q-options .next")
    for index in range(3, 9):
        wait_for(lambda index=index: q_count(browser) == f"{index + 1} / 9", message=f"item {index + 1}")
        answer_option(browser, answers[index])
    # Problems were checked, so the optional difficulty question follows (not counted in n / 9).
    wait_for(
        lambda: js(browser, "return document.getElementById('q-title').textContent;").startswith("If you checked off"),
        message="difficulty",
    )
    assert q_count(browser) == ""
    answer_option(browser, 1)
    wait_for(lambda: visible(browser, "#q-save"), message="review")
    assert q_count(browser) == "9 / 9"
    assert not visible(browser, "#crisis")
    screenshot("07-phq9-review")
    click(browser, "#q-save")
    wait_for(lambda: Assessment.objects.filter(instrument="phq9").count() == 1, message="PHQ-9 stored")
    phq9 = db(lambda: Assessment.objects.get(instrument="phq9"))
    assert phq9.total == sum(answers)
    assert phq9.answers["difficulty"] == 1
    assert phq9.flags == []
    wait_for(lambda: js(browser, "return location.hash;") == "#today", message="back to today")
    wait_for(lambda: queue_states(browser) == ["synced"], message="shown as sent")
    screenshot("08-today-after-phq9")


def test_item9_shows_crisis_resources_offline(browser, network, live_server, pwa_patient, sign_in, screenshot):
    sign_in("e2e-patient")
    until_controlled(browser)
    set_offline(browser, network, True)
    browser.refresh()  # the whole app now comes from the service worker's cache
    wait_for(lambda: js(browser, "return !!window.RehabApp"), message="app from cache")
    go(browser, "#q/phq9")
    for index in range(8):
        wait_for(lambda index=index: q_count(browser) == f"{index + 1} / 9", message=f"item {index + 1}")
        answer_option(browser, 0)
    wait_for(lambda: q_count(browser) == "9 / 9", message="item 9")
    assert not visible(browser, "#crisis")
    answer_option(browser, 1)  # "Several days"
    wait_for(lambda: visible(browser, "#crisis"), timeout=2, message="crisis resources at once")
    text = js(browser, "return document.getElementById('crisis').innerText;")
    assert "010-82951332" in text
    assert "400-161-9995" in text
    assert "120" in text
    assert "110" in text
    assert js(browser, "return document.activeElement.id;") == "crisis-title"
    assert js(browser, "return navigator.onLine;") is False
    screenshot("09-phq9-crisis-offline")
    # The patient can still finish; the answer waits on the phone and raises the flag on arrival.
    # The answer itself is queued at once, as its own entry.
    wait_for(lambda: queue_states(browser) == ["queued"], message="item-9 signal queued")
    signal = run_async(browser, "window.RehabApp.list().then(function (rows) { return rows[0]; })")
    assert signal["body"]["answers"] == {"item9": 1}
    assert signal["role"] == "safety"
    click(browser, "#q-options .next")
    # Item 9 counts as a problem checked off, so the optional difficulty question follows; skip it.
    wait_for(lambda: visible(browser, "#q-skip"), message="difficulty question")
    click(browser, "#q-skip")
    wait_for(lambda: visible(browser, "#q-save"), message="review")
    click(browser, "#q-save")
    wait_for(lambda: queue_states(browser) == ["queued", "queued"], message="queued offline")
    final = run_async(browser, "window.RehabApp.list().then(function (rows) { return rows[0]; })")
    assert final["body"]["supersedes"] == signal["client_uuid"]
    assert visible(browser, "#crisis")  # stays until the patient closes it
    assert Assessment.objects.count() == 0
    set_offline(browser, network, False)
    wait_for(lambda: queue_states(browser) == ["synced", "synced"], timeout=20, message="both synced")
    rows = db(lambda: list(Assessment.objects.filter(instrument="phq9").order_by("recorded_at", "id")))
    assert [str(a.client_uuid) for a in rows] == [signal["client_uuid"], final["client_uuid"]]
    phq9 = rows[1]
    assert phq9.flags == ["suicidal_ideation"]
    assert phq9.total == 1
    assert phq9.answers["difficulty"] is None
    assert phq9.supersedes_id == rows[0].pk  # one episode ...
    assert db(Alert.objects.filter(patient=pwa_patient, kind="suicidal_ideation").count) == 1  # ... one alert


def test_progress_plan_settings_and_chinese(browser, live_server, pwa_patient, sign_in, screenshot):
    now = timezone.now()
    for days, score in ((20, 7), (16, 7), (12, 6), (8, 5), (4, 5), (1, 4)):
        Assessment.objects.create(
            patient=pwa_patient,
            instrument="nrs",
            answers={"score": score, "recall": "now"},
            total=score,
            band="moderate",
            recorded_at=now - dt.timedelta(days=days),
            client_uuid=uuid.uuid4(),
        )
    for days, mm in ((18, 68.0), (9, 52.0), (2, 41.0)):
        Assessment.objects.create(
            patient=pwa_patient,
            instrument="vas",
            answers={"score_mm": mm},
            total=mm,
            band="moderate",
            recorded_at=now - dt.timedelta(days=days),
            client_uuid=uuid.uuid4(),
        )
    _make_plan(pwa_patient)
    from assessments.models import DueItem

    DueItem.objects.create(
        patient=pwa_patient,
        instrument="phq9",
        due_at=now - dt.timedelta(hours=1),
        closes_at=now + dt.timedelta(hours=12),
        local_date=timezone.localdate(),
    )
    sign_in("e2e-patient")

    # Today lists the due questionnaire from GET /api/v1/patients/{id}/due/ and the home exercise.
    wait_for(
        lambda: js(browser, "return !!document.querySelector('#due-list [data-due=phq9]');"), message="PHQ-9 due today"
    )
    assert js(browser, "return document.getElementById('nothing-due').hidden;") is True
    assert "Due today" in js(browser, "return document.querySelector('#due-list [data-due=phq9]').innerText;")
    wait_for(
        lambda: js(browser, "return document.querySelectorAll('#exercise-list .exercise-btn').length;") == 1,
        message="home exercise listed",
    )
    screenshot("00-today-due")

    go(browser, "#progress")
    wait_for(
        lambda: js(browser, "return !!document.querySelector('#progress-chart .main-svg');"), message="plotly chart"
    )
    # NRS and VAS; no goal line yet: the plan starts today, so its baseline week has no entries.
    assert js(browser, "return document.querySelectorAll('#progress-chart .scatterlayer .trace').length;") == 2
    screenshot("10-progress")

    go(browser, "#plan")
    wait_for(
        lambda: js(browser, "return document.querySelectorAll('#plan-lanes .lane').length;") == 2, message="plan lanes"
    )
    screenshot("11-plan")
    # The full two-lane plan page (therapies front end) opens from the app, and back again.
    click(browser, "#plan-page-link")
    wait_for(lambda: f"/patients/{pwa_patient.pk}/plan/" in browser.current_url, message="plan page")
    screenshot("11b-plan-page")
    browser.back()
    wait_for(lambda: js(browser, "return !!window.RehabApp"), message="back in the app")

    go(browser, "#today")
    wait_for(
        lambda: js(browser, "return document.querySelectorAll('#exercise-list .exercise-btn').length;") >= 1,
        message="home exercise",
    )
    click(browser, "#exercise-list .exercise-btn")
    wait_for(lambda: queue_states(browser) == ["synced"], message="exercise sent")
    from therapies.models import HomeExerciseLog

    assert db(HomeExerciseLog.objects.filter(patient=pwa_patient, done=True).count) == 1

    go(browser, "#settings")
    wait_for(
        lambda: js(
            browser,
            "return document.getElementById('push-status').textContent.length > 0 || !document.getElementById('push-on').disabled;",
        ),
        message="settings",
    )
    assert small_targets(browser) == []
    screenshot("12-settings")

    # Switch language with Django's set_language form, from the settings screen.
    click(browser, ".lang-big button[value='zh-hans']")
    wait_for(lambda: js(browser, "return document.documentElement.lang;") == "zh-hans", message="Chinese page")
    wait_for(lambda: js(browser, "return !!window.RehabApp"), message="app in Chinese")
    go(browser, "#today")
    assert "今天" in js(browser, "return document.body.innerText;")
    go(browser, "#q/phq9")
    wait_for(
        lambda: js(browser, "return document.getElementById('q-title').textContent;") == "做事时提不起劲或没有兴趣",
        message="Chinese PHQ-9 item from the instruments API",
    )
    screenshot("13-phq9-zh")
    go(browser, "#today")
    screenshot("14-today-zh")


def _make_plan(patient):
    """A current plan with a central and two peripheral components (one done at home)."""
    try:
        from therapies.models import PlanComponent, RehabPlan
    except ImportError:  # pragma: no cover - therapies not installed
        pytest.skip("therapies app not available")
    plan = RehabPlan.objects.create(patient=patient, version=1, reason="Initial plan", start_date=timezone.localdate())
    PlanComponent.objects.create(
        plan=plan,
        order=0,
        modality="tdcs",
        layer="central",
        parameters={"current_ma": 2.0, "duration_min": 20},
        frequency_per_week=3,
        duration_weeks=4,
        sessions_prescribed=12,
    )
    PlanComponent.objects.create(
        plan=plan,
        order=1,
        modality="exercise",
        layer="peripheral",
        parameters={},
        frequency_per_week=5,
        duration_weeks=8,
        sessions_prescribed=40,
        notes="Core stabilisation, 20 minutes",
    )
    PlanComponent.objects.create(
        plan=plan,
        order=2,
        modality="manual_therapy",
        layer="peripheral",
        parameters={},
        frequency_per_week=1,
        duration_weeks=6,
        sessions_prescribed=6,
    )
    return plan


def test_rejected_entry_keeps_its_reason_and_a_lost_answer_is_not_stored_twice(
    browser, network, live_server, pwa_patient, sign_in, screenshot
):
    sign_in("e2e-patient")
    until_controlled(browser)
    set_offline(browser, network, True)
    pk = pwa_patient.pk
    # A score the server refuses (as a buggy or tampered client would send) ...
    run_async(
        browser,
        f"RehabQueue.enqueue({pk}, 'assessment', {{instrument: 'nrs', answers: {{score: 11}}}}, {{label: 'NRS 11'}})",
    )
    # ... and an entry the server already stored although the phone never heard back.
    row = run_async(
        browser,
        f"RehabQueue.enqueue({pk}, 'assessment', {{instrument: 'nrs', answers: {{score: 3}}}}, {{label: 'NRS 3'}})",
    )
    Assessment.objects.create(
        patient=pwa_patient,
        instrument="nrs",
        answers={"score": 3, "recall": "now"},
        total=3,
        recorded_at=timezone.now(),
        client_uuid=uuid.UUID(row["client_uuid"]),
    )
    set_offline(browser, network, False)
    wait_for(lambda: sorted(queue_states(browser)) == ["rejected", "synced"], timeout=20, message="answers for both")
    assert db(Assessment.objects.count) == 1  # the duplicate was folded, the bad entry refused
    go(browser, "#today")
    reason = wait_for(
        lambda: js(
            browser,
            "var n = document.querySelector('.queue-item[data-state=rejected] .queue-reason'); return n && n.textContent;",
        ),
        message="reason shown",
    )
    assert reason.startswith("The answer to"), reason
    assert reason.endswith("was not accepted."), reason
    js(browser, "document.getElementById('queue-list').scrollIntoView();")
    screenshot("15-rejected-entry")
    # Only the patient removes a rejected entry, after confirming; it is never re-sent.
    click(browser, ".queue-item[data-state=rejected] button.discard")
    wait_for(lambda: visible(browser, ".queue-item[data-state=rejected] .discard-yes"), message="confirm")
    click(browser, ".queue-item[data-state=rejected] .discard-yes")
    wait_for(lambda: queue_states(browser) == ["synced"], message="rejected entry removed")


PHONE_390 = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}


def phone_390(browser):
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE_390)


def switch_language(browser, lang):
    browser.add_cookie({"name": "django_language", "value": lang, "path": "/"})
    browser.refresh()
    wait_for(lambda: js(browser, "return document.documentElement.lang;") == lang, message=f"page in {lang}")
    wait_for(lambda: js(browser, "return !!window.RehabApp"), message="app after language switch")


def text_of(browser, selector):
    return js(browser, "var n = document.querySelector(arguments[0]); return n ? n.innerText : null;", selector)


def phq9_draft(browser, patient_pk):
    return js(browser, f"return JSON.parse(localStorage.getItem('rehab-draft:{patient_pk}:phq9') || 'null');")


def test_abandoned_item9_reaches_the_worklist_and_resumes(browser, live_server, pwa_patient, sign_in, screenshot):
    phone_390(browser)
    sign_in("e2e-patient")
    go(browser, "#q/phq9")
    first_eight = [1, 0, 2, 1, 0, 1, 1, 0]
    for index, value in enumerate(first_eight):
        wait_for(lambda index=index: q_count(browser) == f"{index + 1} / 9", message=f"item {index + 1}")
        answer_option(browser, value)
    wait_for(lambda: q_count(browser) == "9 / 9", message="item 9")
    answer_option(browser, 2)  # "More than half the days"
    wait_for(lambda: visible(browser, "#crisis"), timeout=2, message="crisis resources")
    screenshot("20-item9-crisis")

    # The patient leaves the questionnaire unfinished: taps "Today".
    click(browser, "nav.tabbar a[data-tab=today]")
    wait_for(lambda: js(browser, "return location.hash;") == "#today", message="today")
    # The item-9 answer reaches the clinic on its own, and raises the alert there.
    signal = wait_for(lambda: Assessment.objects.filter(instrument="phq9").first(), message="item-9 signal stored")
    assert {key for key, value in signal.answers.items() if value is not None} == {"item9"}
    assert signal.answers["item9"] == 2
    assert signal.flags == ["suicidal_ideation"]
    assert signal.total is None
    alert = wait_for(
        lambda: Alert.objects.filter(patient=pwa_patient, kind="suicidal_ideation").first(), message="alert raised"
    )
    assert alert.acknowledged_at is None
    wait_for(lambda: queue_states(browser) == ["synced"], message="signal shown as sent")
    # The answers stay on the phone; Today says the PHQ-9 is started, not done.
    draft = phq9_draft(browser, pwa_patient.pk)
    assert draft["answers"] == {f"item{i + 1}": v for i, v in enumerate([*first_eight, 2])}
    assert draft["safety"]["uuid"] == str(signal.client_uuid)
    js(browser, "document.querySelector('details.more').open = true;")
    meta = wait_for(
        lambda: text_of(browser, "#other-list [data-instrument=phq9] .task-meta"), message="PHQ-9 marked started"
    )
    assert "9 of 9 answered" in meta, meta
    js(
        browser,
        "document.getElementById('crisis-close').click(); document.querySelector('details.more').scrollIntoView();",
    )
    screenshot("21-today-phq9-started")

    # Reopening offers to carry on, and carries on at the next item (the difficulty question).
    go(browser, "#q/phq9")
    wait_for(lambda: visible(browser, "#q-resume .resume"), message="resume offered")
    assert "9 of 9 answered" in text_of(browser, "#q-resume")
    screenshot("22-phq9-resume")
    # The same offer in Chinese (the answers are kept across the page reload).
    switch_language(browser, "zh-hans")
    go(browser, "#q/phq9")
    wait_for(lambda: visible(browser, "#q-resume .resume"), message="resume offered in Chinese")
    assert "已回答 9 / 9 题" in text_of(browser, "#q-resume")
    screenshot("22b-phq9-resume-zh")
    switch_language(browser, "en")
    go(browser, "#q/phq9")
    wait_for(lambda: visible(browser, "#q-resume .resume"), message="resume offered again")
    click(browser, "#q-resume .resume")
    wait_for(
        lambda: js(browser, "return document.getElementById('q-title').textContent;").startswith("If you checked off"),
        message="resumed at the difficulty question",
    )
    answer_option(browser, 2)
    wait_for(lambda: visible(browser, "#q-save"), message="review")
    assert q_count(browser) == "9 / 9"
    click(browser, "#q-save")
    wait_for(lambda: Assessment.objects.filter(instrument="phq9").count() == 2, message="finished PHQ-9 stored")
    final = db(lambda: Assessment.objects.filter(instrument="phq9").exclude(pk=signal.pk).get())
    assert final.total == sum(first_eight) + 2
    assert final.answers["difficulty"] == 2
    assert final.supersedes_id == signal.pk
    # One episode, one alert; the draft is gone.
    assert db(Alert.objects.filter(patient=pwa_patient, kind="suicidal_ideation").count) == 1
    assert phq9_draft(browser, pwa_patient.pk) is None
    wait_for(lambda: queue_states(browser) == ["synced", "synced"], message="both sent")

    # The therapist on the care team sees the alert on the worklist.
    from selenium.webdriver.common.by import By

    browser.delete_all_cookies()
    browser.get(f"{live_server.url}/login/?next=/clinic/")
    browser.find_element(By.ID, "id_username").send_keys("e2e-therapist")
    from tests.factories import PASSWORD

    browser.find_element(By.ID, "id_password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form button[type=submit].primary").click()
    wait_for(lambda: "/clinic/" in browser.current_url, message="worklist")
    panel = wait_for(lambda: text_of(browser, ".alert-panel"), message="safety alert panel")
    assert "Li Hua" in panel
    screenshot("23-worklist-safety-alert")


def test_refused_entries_need_correction_then_fixed_or_discarded(
    browser, network, live_server, pwa_patient, sign_in, screenshot
):
    phone_390(browser)
    sign_in("e2e-patient")
    until_controlled(browser)
    set_offline(browser, network, True)
    pk = pwa_patient.pk
    # Queued on the phone while offline, as a faulty client or a phone clock gone wrong would:
    # a PHQ-9 with an answer no option has, an NRS dated 25 years ago, an NRS of 11.
    bad_phq9 = run_async(
        browser,
        f"RehabQueue.enqueue({pk}, 'assessment', {{instrument: 'phq9', answers: {{item1: 1, item2: 1, item3: 7, "
        "item4: 0, item5: 0, item6: 0, item7: 0, item8: 0, item9: 0}}, {label: 'Mood (PHQ-9)'})",
    )
    old_nrs = run_async(
        browser,
        f"RehabQueue.enqueue({pk}, 'assessment', {{instrument: 'nrs', answers: {{score: 4, recall: 'now'}}}}, "
        "{label: 'Pain 0-10: 4'}).then(function (row) { row.body.recorded_at = '2001-05-01T09:00:00.000+08:00'; "
        "return RehabQueue.put([row]).then(function () { return row; }); })",
    )
    nrs_11 = run_async(
        browser,
        f"RehabQueue.enqueue({pk}, 'assessment', {{instrument: 'nrs', answers: {{score: 11}}}}, {{label: 'NRS 11'}})",
    )
    set_offline(browser, network, False)
    wait_for(lambda: queue_states(browser) == ["rejected"] * 3, timeout=20, message="three refused")
    assert db(Assessment.objects.count) == 0
    go(browser, "#today")
    # The toast speaks of correction, never of "will be sent when online".
    toast = wait_for(lambda: text_of(browser, "#toast"), message="toast")
    assert "need correction" in toast, toast
    assert "online" not in toast, toast

    def row(uuid_, part=""):
        return f".queue-item[data-uuid='{uuid_}'] {part}".strip()

    wait_for(lambda: visible(browser, row(bad_phq9["client_uuid"], ".queue-reason")), message="reasons shown")
    assert text_of(browser, row(bad_phq9["client_uuid"], ".badge")) == "Needs correction"
    assert text_of(browser, row(bad_phq9["client_uuid"], ".queue-reason")) == (
        "The answer to “Trouble falling or staying asleep, or sleeping too much” was not accepted."
    )
    assert text_of(browser, row(old_nrs["client_uuid"], ".queue-reason")).startswith(
        "The date or time of this entry was not accepted."
    )
    assert small_targets(browser) == []
    js(browser, "document.getElementById('queue-list').scrollIntoView();")
    screenshot("24-needs-correction")

    # The same list in Chinese: the reasons are the patient's language too.
    switch_language(browser, "zh-hans")
    wait_for(lambda: visible(browser, row(bad_phq9["client_uuid"], ".queue-reason")), message="reasons in Chinese")
    assert text_of(browser, row(bad_phq9["client_uuid"], ".badge")) == "需要更正"
    assert "未被接受" in text_of(browser, row(bad_phq9["client_uuid"], ".queue-reason"))
    assert "日期或时间" in text_of(browser, row(old_nrs["client_uuid"], ".queue-reason"))
    js(browser, "document.getElementById('queue-list').scrollIntoView();")
    screenshot("25-needs-correction-zh")

    # Correct the PHQ-9: the form opens prefilled, at the refused answer.
    click(browser, row(bad_phq9["client_uuid"], "a.fix"))
    wait_for(lambda: q_count(browser) == "3 / 9", message="the refused item")
    assert visible(browser, "[data-screen=questionnaire] .fixing-note")
    screenshot("26-fix-phq9-zh")
    answer_option(browser, 1)
    # Everything else was kept: straight on to the difficulty question, then the review.
    wait_for(lambda: q_count(browser) == "", message="difficulty question")
    click(browser, "#q-skip")
    wait_for(lambda: visible(browser, "#q-save"), message="review")
    click(browser, "#q-save")
    wait_for(lambda: Assessment.objects.filter(instrument="phq9").count() == 1, message="corrected PHQ-9 stored")
    phq9 = db(lambda: Assessment.objects.get(instrument="phq9"))
    assert phq9.answers["item3"] == 1
    assert phq9.total == 3
    assert str(phq9.client_uuid) != bad_phq9["client_uuid"]

    # Correct the NRS: prefilled with its score, recorded as of now.
    go(browser, "#today")
    wait_for(lambda: visible(browser, row(old_nrs["client_uuid"], "a.fix")), message="NRS fix link")
    click(browser, row(old_nrs["client_uuid"], "a.fix"))
    wait_for(lambda: visible(browser, "#nrs-grid"), message="NRS form")
    assert js(browser, "return document.querySelector('.nrs-btn[aria-pressed=true]').dataset.value;") == "4"
    assert visible(browser, "[data-screen=nrs] .fixing-note")
    click(browser, "#nrs-save")
    wait_for(lambda: Assessment.objects.filter(instrument="nrs").count() == 1, message="corrected NRS stored")
    nrs = db(lambda: Assessment.objects.get(instrument="nrs"))
    assert nrs.total == 4
    assert abs((timezone.now() - nrs.recorded_at).total_seconds()) < 120

    # Discard the NRS of 11, on purpose: a confirmation first, "keep" keeps it.
    go(browser, "#today")
    wait_for(lambda: visible(browser, row(nrs_11["client_uuid"], "button.discard")), message="discard button")
    click(browser, row(nrs_11["client_uuid"], "button.discard"))
    wait_for(lambda: visible(browser, row(nrs_11["client_uuid"], ".discard-no")), message="confirmation")
    click(browser, row(nrs_11["client_uuid"], ".discard-no"))
    wait_for(lambda: visible(browser, row(nrs_11["client_uuid"], "button.discard")), message="kept")
    click(browser, row(nrs_11["client_uuid"], "button.discard"))
    wait_for(lambda: visible(browser, row(nrs_11["client_uuid"], ".discard-yes")), message="confirmation again")
    js(browser, "document.querySelector(arguments[0]).scrollIntoView({block: 'center'});", row(nrs_11["client_uuid"]))
    screenshot("27-discard-confirm-zh")
    click(browser, row(nrs_11["client_uuid"], ".discard-yes"))
    wait_for(lambda: "rejected" not in queue_states(browser), message="nothing left to correct")
    assert sorted(queue_states(browser)) == ["synced", "synced"]
    assert db(Assessment.objects.count) == 2
    # "My entries" lists what the clinic holds, from the server.
    wait_for(
        lambda: (
            js(browser, "return document.querySelectorAll('#queue-list .queue-item[data-state=synced]').length;") == 2
        ),
        message="two sent entries listed",
    )
    # That list is kept for offline reading, and forgotten at sign-out.
    recent = run_async(browser, f"RehabQueue.getMeta('recent:{pk}')")
    assert sorted(entry["body"]["instrument"] for entry in recent) == ["nrs", "phq9"]
    run_async(browser, "RehabQueue.forgetRecent()")
    assert run_async(browser, f"RehabQueue.getMeta('recent:{pk}')") is None


def test_odi_with_too_many_skipped_sections_is_blocked_with_the_reason(
    browser, live_server, pwa_patient, sign_in, screenshot
):
    from assessments.capture.content_packs import content_pack_load
    from patients.audit import Actor
    from tests.content_packs import odi_pack

    content_pack_load(actor=Actor.system("e2e"), data=odi_pack())
    phone_390(browser)
    sign_in("e2e-patient")
    go(browser, "#q/odi")
    wait_for(lambda: q_count(browser) == "1 / 10", message="ODI 1 / 10")
    for index in range(10):
        wait_for(lambda index=index: q_count(browser) == f"{index + 1} / 10", message=f"section {index + 1}")
        if index < 3:
            click(browser, "#q-skip")
        else:
            answer_option(browser, 1)
    wait_for(lambda: visible(browser, "#q-problem"), message="the reason Save is blocked")
    problem = text_of(browser, "#q-problem")
    assert problem.startswith("3 questions are skipped; at most"), problem
    assert not visible(browser, "#q-save")
    screenshot("28-odi-blocked")
    # "Answer them" goes to a skipped section; once enough are answered, Save comes back.
    for _round in range(3):
        if not visible(browser, "#q-problem"):
            break
        click(browser, "#q-goto")
        wait_for(lambda: visible(browser, "#q-options .option"), message="a skipped section")
        answer_option(browser, 2)
        wait_for(lambda: visible(browser, "#q-review"), message="back to the review")
    assert not visible(browser, "#q-problem")
    click(browser, "#q-save")
    odi = wait_for(lambda: Assessment.objects.filter(instrument="odi").first(), message="ODI stored")
    assert 1 <= len(odi.detail["skipped"]) <= 2
    assert Alert.objects.count() == 0


def test_changing_item9_queues_another_signal_only_from_zero(browser, network, live_server, pwa_patient, sign_in):
    sign_in("e2e-patient")
    go(browser, "#q/phq9")
    wait_for(lambda: q_count(browser) == "1 / 9", message="PHQ-9 loaded")
    set_offline(browser, network, True)  # nothing reaches the server: the queue is what is checked
    for index in range(8):
        wait_for(lambda index=index: q_count(browser) == f"{index + 1} / 9", message=f"item {index + 1}")
        answer_option(browser, 0)
    wait_for(lambda: q_count(browser) == "9 / 9", message="item 9")

    def signals():
        return run_async(
            browser,
            "window.RehabApp.list().then(function (rows) { return rows.filter(function (r) { return r.role === 'safety'; })"
            ".map(function (r) { return [r.client_uuid, r.body.answers.item9]; }); })",
        )

    answer_option(browser, 1)
    wait_for(lambda: len(signals()) == 1, message="first signal")
    answer_option(browser, 3)  # 1 -> 3: the same episode, nothing more to send
    time.sleep(0.5)
    assert [value for _uuid, value in signals()] == [1]
    answer_option(browser, 0)  # 3 -> 0: moves on (no problem checked off, so straight to the review)
    wait_for(lambda: visible(browser, "#q-save"), message="review")
    click(browser, "#q-back")
    wait_for(lambda: q_count(browser) == "9 / 9", message="back at item 9")
    answer_option(browser, 2)  # 0 -> 2: a new answer above 0, sent again
    wait_for(lambda: len(signals()) == 2, message="second signal")
    latest = sorted(signals(), key=lambda pair: pair[1])[-1]
    assert latest[1] == 2
    click(browser, "#q-options .next")
    wait_for(lambda: visible(browser, "#q-skip"), message="difficulty question")
    click(browser, "#q-skip")
    wait_for(lambda: visible(browser, "#q-save"), message="review")
    click(browser, "#q-save")
    wait_for(lambda: len(queue_states(browser)) == 3, message="finished entry queued")
    final = run_async(
        browser,
        "window.RehabApp.list().then(function (rows) { return rows.filter(function (r) { return !r.role; })[0]; })",
    )
    assert final["body"]["answers"]["item9"] == 2
    assert final["body"]["supersedes"] == latest[0]


def test_entries_and_done_today_come_from_the_clinic(browser, live_server, pwa_patient, sign_in, screenshot):
    """Entries this phone never held (another phone, the clinic) are listed and count as done."""
    from assessments.models import DueItem, DueStatus

    now = timezone.now()
    gad7 = Assessment.objects.create(
        patient=pwa_patient,
        instrument="gad7",
        answers={f"item{n}": 1 for n in range(1, 8)},
        total=7,
        band="mild",
        recorded_at=now - dt.timedelta(minutes=30),
        client_uuid=uuid.uuid4(),
    )
    DueItem.objects.create(
        patient=pwa_patient,
        instrument="gad7",
        due_at=now - dt.timedelta(hours=2),
        closes_at=now + dt.timedelta(hours=10),
        local_date=timezone.localdate(now, timezone=dt.timezone(dt.timedelta(hours=8))),
        status=DueStatus.COMPLETED,
        completed_by=gad7,
    )
    Assessment.objects.create(
        patient=pwa_patient,
        instrument="nrs",
        answers={"score": 5, "recall": "now"},
        total=5,
        band="moderate",
        recorded_at=now - dt.timedelta(minutes=10),
        client_uuid=uuid.uuid4(),
    )
    phone_390(browser)
    sign_in("e2e-patient")
    wait_for(
        lambda: js(browser, "return document.querySelectorAll('#queue-list [data-source=server]').length;") == 2,
        message="the clinic's entries listed",
    )
    assert queue_states(browser) == []  # none of them came from this phone
    labels = js(
        browser,
        "return Array.prototype.map.call(document.querySelectorAll('#queue-list .queue-label'), "
        "function (n) { return n.textContent; });",
    )
    assert labels == ["Pain 0-10: 5", "Worry and anxiety (GAD-7): 7"]
    wait_for(
        lambda: text_of(browser, "#due-list [data-instrument=gad7] .task-meta") == "Done today", message="GAD-7 done"
    )
    assert text_of(browser, "#due-list [data-instrument=nrs] .task-meta") == "Done today"
    screenshot("29-today-from-the-clinic")
