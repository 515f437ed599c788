"""The home exercise programme on a 390 × 844 phone, in headless Chromium.

1. "Today's exercises" shows the programme with steps, pictures and the hold/rest timer;
   the service worker keeps the programme's picture offline (media cache).
2. Two exercises marked done with the network off stay on the phone (none reach the
   server), survive a reload from the service worker's cache (pictures included), and
   arrive exactly once each when the network comes back; sending again adds nothing.
3. Screenshots of the phone screen in English and Chinese and of the printable programme
   in both languages (print media) land in tests/e2e/screenshots/.
"""

from __future__ import annotations

import pytest

from patients.audit import Actor
from tests.e2e.test_patient_pwa import click, db, go, js, run_async, set_offline, until_controlled, wait_for
from tests.therapies.test_exercises import item, png_bytes
from therapies.exercises import exercise_library_install, exercise_media_add, programme_set
from therapies.models import Exercise, ExerciseLog

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]
PHONE_390 = {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True}


@pytest.fixture
def programme(pwa_patient, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path / "media"
    from patients.models import CareTeamMember

    actor = Actor(user=CareTeamMember.objects.filter(patient=pwa_patient).first().user)
    exercise_library_install(actor=actor, clinic=pwa_patient.clinic)
    library = {e.slug: e for e in Exercise.objects.filter(clinic=pwa_patient.clinic)}
    exercise_media_add(
        actor=actor, exercise=library["bridge"], upload=SimpleUploadedFile("b.png", png_bytes((160, 120)))
    )
    programme_set(
        actor=actor,
        patient=pwa_patient,
        expected_version=0,
        reason="Home programme",
        items=[
            item(library["bridge"], sets=2, reps=8, hold_seconds=5, rest_seconds=30),
            item(library["sciatic-slider-seated"], sets=2, reps=10, hold_seconds=0, rest_seconds=30),
            item(
                library["brisk-walking"],
                sets=1,
                reps=1,
                hold_seconds=1200,
                rest_seconds=0,
                progression_note="+2 min a week",
            ),
        ],
    )
    return library


def phone(browser):
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE_390)


def cards(browser):
    return js(browser, "return document.querySelectorAll('#ex-list .ex-card').length;")


def open_exercises(browser):
    go(browser, "#exercises")
    wait_for(lambda: cards(browser) == 3, message="three exercise cards")


def mark_done(browser, index, pain, difficulty):
    selector = f"#ex-list .ex-card:nth-child({index})"
    if js(browser, f"return document.querySelector('{selector} .ex-body').hidden;"):
        click(browser, f"{selector} .ex-open")
    wait_for(lambda: js(browser, f"return !!document.querySelector('{selector} .ex-save');"), message="done form")
    click(browser, f"{selector} .ex-pain button[data-value='{pain}']")
    click(browser, f"{selector} .ex-difficulty button[data-value='{difficulty}']")
    click(browser, f"{selector} .ex-save")


def queued_logs(browser):
    return run_async(
        browser,
        "window.RehabApp.list().then(function (rows) { return rows.filter(function (r) { return r.kind === 'exercise_log'; })"
        ".map(function (r) { return r.state; }); })",
    )


def test_programme_offline_logging_and_screens(
    browser, network, live_server, pwa_patient, sign_in, screenshot, programme
):
    phone(browser)
    sign_in("e2e-patient")
    until_controlled(browser)
    open_exercises(browser)
    # The service worker keeps the uploaded picture and the pictograms of the programme.
    wait_for(
        lambda: (
            run_async(
                browser,
                "caches.open('rehab-media').then(function (c) { return c.keys(); }).then(function (k) { return k.length; })",
            )
            >= 3
        ),
        timeout=20,
        message="programme media cached",
    )
    click(browser, "#ex-list .ex-card:nth-child(1) .ex-open")
    wait_for(
        lambda: js(browser, "return !!document.querySelector('#ex-list .ex-card:nth-child(1) .ex-timer');"),
        message="timer",
    )
    assert (
        js(browser, "return document.querySelector('#ex-list .ex-card:nth-child(1) .ex-clock').textContent;") == "0:05"
    )
    assert js(browser, "return document.querySelectorAll('#ex-list .ex-card:nth-child(1) .ex-steps li').length;") == 4
    click(browser, "#ex-list .ex-card:nth-child(1) .ex-timer-start")
    wait_for(
        lambda: (
            js(browser, "return document.querySelector('#ex-list .ex-card:nth-child(1) .ex-clock').textContent;")
            in ("0:04", "0:03")
        ),
        message="timer counting down",
    )
    click(browser, "#ex-list .ex-card:nth-child(1) .ex-timer-reset")
    js(browser, "window.scrollTo(0, 0);")
    screenshot("exercise-programme-phone-en")

    # Offline: two exercises marked done stay queued on the phone.
    set_offline(browser, network, True)
    mark_done(browser, 1, 3, "right")
    wait_for(lambda: queued_logs(browser) == ["queued"], message="first log queued")
    open_exercises(browser)
    mark_done(browser, 2, 6, "too_hard")
    wait_for(lambda: queued_logs(browser) == ["queued", "queued"], message="second log queued")
    assert db(ExerciseLog.objects.count) == 0

    # Reload offline: the shell, the programme and its picture come from the service worker.
    browser.refresh()
    wait_for(lambda: js(browser, "return !!window.RehabApp"), message="app from cache")
    open_exercises(browser)
    wait_for(
        lambda: js(
            browser,
            "var i = document.querySelector('#ex-list .ex-card:nth-child(1) img'); return !!i && i.complete && i.naturalWidth > 0;",
        ),
        message="picture shown offline",
    )
    assert js(browser, "return document.querySelectorAll('#ex-list .ex-card.done').length;") == 2
    assert db(ExerciseLog.objects.count) == 0

    set_offline(browser, network, False)
    wait_for(lambda: queued_logs(browser) == ["synced", "synced"], timeout=30, message="logs synced")
    wait_for(lambda: db(ExerciseLog.objects.count) == 2, message="two rows on the server")
    run_async(browser, "window.RehabApp.sync('again')")
    rows = db(lambda: list(ExerciseLog.objects.order_by("logged_at")))
    assert len(rows) == 2
    assert [(r.pain_after, r.difficulty, r.sets_done) for r in rows] == [(3, "right", 2), (6, "too_hard", 2)]
    uuids = run_async(
        browser,
        "window.RehabApp.list().then(function (rows) { return rows.map(function (r) { return r.client_uuid; }); })",
    )
    assert {str(r.client_uuid) for r in rows} == set(uuids)

    # The same screen in Chinese.
    browser.add_cookie({"name": "django_language", "value": "zh-hans", "path": "/"})
    browser.refresh()
    wait_for(lambda: js(browser, "return document.documentElement.lang;") == "zh-hans", message="Chinese page")
    open_exercises(browser)
    assert "臀桥" in js(browser, "return document.getElementById('ex-list').textContent;")
    click(browser, "#ex-list .ex-card:nth-child(3) .ex-open")
    js(browser, "window.scrollTo(0, 0);")
    screenshot("exercise-programme-phone-zh-hans")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_printable_programme(browser, live_server, pwa_patient, sign_in, screenshot, programme, language):
    pwa_patient.language = language
    pwa_patient.save(update_fields=["language"])
    sign_in("e2e-patient")
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 794, "height": 1123, "deviceScaleFactor": 1, "mobile": False}
    )
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    browser.get(f"{live_server.url}/patients/{pwa_patient.pk}/exercise-programme/print/")
    wait_for(
        lambda: js(browser, "return document.querySelectorAll('.print-exercise').length;") == 3, message="print page"
    )
    assert js(browser, "return document.documentElement.lang;") == language
    text = js(browser, "return document.body.textContent;")
    assert ("坐姿坐骨神经滑动" if language == "zh-hans" else "Sciatic nerve glide, sitting") in text
    screenshot(f"exercise-programme-print-{language}")
