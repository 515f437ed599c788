"""The patient app's details on real phone sizes (390 × 844 and 360 wide), in English and
Chinese: the ODI offered only with its licensed text loaded and then answered statement by
statement; NRS 0-10 in one row; the crisis panel kept to the PHQ-9; toasts clear of buttons;
hover styles only for hovering pointers; 44 px header logo and e-mail row; signing out
with the network off. Screenshots land in tests/e2e/screenshots/."""

from __future__ import annotations

import pytest

from assessments.models import Assessment
from tests.content_packs import odi_pack
from tests.e2e.test_patient_pwa import (
    PHONE_390,
    answer_option,
    click,
    go,
    js,
    q_count,
    queue_states,
    run_async,
    set_offline,
    switch_language,
    text_of,
    until_controlled,
    visible,
    wait_for,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]

PHONE_360 = {"width": 360, "height": 740, "deviceScaleFactor": 2, "mobile": True}


def phone(browser, size):
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", size)


def load_pack(language="en"):
    from assessments.capture.content_packs import content_pack_load
    from patients.audit import Actor

    content_pack_load(actor=Actor.system("e2e"), data=odi_pack(language))


def rect(browser, selector):
    return js(
        browser,
        "var r = document.querySelector(arguments[0]).getBoundingClientRect();"
        "return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width, height: r.height};",
        selector,
    )


def test_odi_is_not_offered_until_its_text_is_loaded(browser, live_server, pwa_patient, sign_in, screenshot):
    phone(browser, PHONE_390)
    sign_in("e2e-patient")
    click(browser, "details.more summary")
    assert not js(browser, "return !!document.querySelector('#other-list [data-instrument=odi]');")
    assert visible(browser, "#other-list [data-instrument=phq9]")
    go(browser, "#q/odi")  # an old bookmark
    wait_for(lambda: "not available in the app yet" in (text_of(browser, "#q-title") or ""), message="not offered")
    assert not visible(browser, "#q-options .option")
    screenshot("40-odi-not-loaded-en")


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_odi_with_a_pack_shows_statements_counter_and_review(
    browser, live_server, pwa_patient, sign_in, screenshot, lang
):
    load_pack("en")
    load_pack("zh-hans")
    phone(browser, PHONE_390)
    sign_in("e2e-patient")
    if lang != "en":
        switch_language(browser, lang)
    go(browser, "#q/odi")
    wait_for(lambda: q_count(browser) == "1 / 10", message="ODI 1 / 10")
    zh = lang == "zh-hans"
    assert text_of(browser, "#q-title") == ("测试部分 1" if zh else "Test section 1")
    options = js(browser, "return Array.from(document.querySelectorAll('#q-options .option')).map(b => b.innerText);")
    assert options == [(f"测试描述 1.{v}（{v} 分）" if zh else f"Test statement 1.{v} (scores {v})") for v in range(6)]
    assert visible(browser, "#q-pack-note")
    assert ("测试内容" if zh else "Test content") in text_of(browser, "#q-pack-note")
    assert text_of(browser, "#q-skip") == ("不适用于我" if zh else "Does not apply to me")
    screenshot(f"41-odi-statement-{lang}")
    for index in range(10):
        wait_for(lambda index=index: q_count(browser) == f"{index + 1} / 10", message=f"section {index + 1}")
        if index == 7:
            click(browser, "#q-skip")
        else:
            answer_option(browser, index % 6)
    wait_for(lambda: visible(browser, "#q-save"), message="review")
    assert text_of(browser, "#q-title") == ("可以保存了" if zh else "Ready to save")  # one section left out
    review = text_of(browser, "#q-review-text")
    assert ("已回答 9 / 10 题" if zh else "9 of 10 answered") in review, review
    screenshot(f"42-odi-review-{lang}")
    click(browser, "#q-save")
    odi = wait_for(lambda: Assessment.objects.filter(instrument="odi").first(), message="ODI stored")
    assert odi.answers["section8"] is None
    assert odi.detail["answered"] == 9


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_nrs_is_one_row_on_a_360_px_phone_with_anchors_under_its_ends(
    browser, live_server, pwa_patient, sign_in, screenshot, lang
):
    phone(browser, PHONE_360)
    sign_in("e2e-patient")
    if lang != "en":
        switch_language(browser, lang)
    go(browser, "#log/nrs")
    wait_for(lambda: visible(browser, ".nrs-10"), message="NRS")
    wait_for(lambda: text_of(browser, "#nrs-high"), message="anchors")
    buttons = [rect(browser, f".nrs-{n}") for n in range(11)]
    assert len({round(b["top"]) for b in buttons}) == 1, buttons
    assert js(browser, "return document.documentElement.scrollWidth;") <= 360
    assert all(b["width"] >= 24 and b["height"] >= 44 for b in buttons)
    low, high = rect(browser, "#nrs-low"), rect(browser, "#nrs-high")
    assert abs(low["left"] - buttons[0]["left"]) <= 2
    assert abs(high["right"] - buttons[10]["right"]) <= 2
    assert low["top"] >= buttons[0]["bottom"]
    screenshot(f"43-nrs-360-{lang}")


def test_crisis_panel_stays_with_the_phq9(browser, live_server, pwa_patient, sign_in, screenshot):
    phone(browser, PHONE_390)
    sign_in("e2e-patient")
    go(browser, "#q/phq9")
    for index in range(8):
        wait_for(lambda index=index: q_count(browser) == f"{index + 1} / 9", message=f"item {index + 1}")
        answer_option(browser, 0)
    wait_for(lambda: q_count(browser) == "9 / 9", message="item 9")
    answer_option(browser, 2)
    wait_for(lambda: visible(browser, "#crisis"), timeout=2, message="crisis resources")
    click(browser, "#q-options .next")
    wait_for(lambda: visible(browser, "#q-skip"), message="difficulty question")
    assert visible(browser, "#crisis")
    click(browser, "#q-skip")
    wait_for(lambda: visible(browser, "#q-save"), message="review")
    assert visible(browser, "#crisis")  # on the review too
    go(browser, "#q/gad7")
    wait_for(lambda: q_count(browser) == "1 / 7", message="GAD-7")
    assert not visible(browser, "#crisis")  # not on top of the next questionnaire
    screenshot("44-gad7-after-phq9-crisis")
    go(browser, "#q/phq9")
    wait_for(lambda: visible(browser, "#crisis"), message="back on the PHQ-9")


def test_toast_never_covers_buttons_and_hover_styles_need_a_hovering_pointer(
    browser, live_server, pwa_patient, sign_in, screenshot
):
    phone(browser, PHONE_390)
    sign_in("e2e-patient")
    go(browser, "#log/nrs")
    wait_for(lambda: visible(browser, ".nrs-5"), message="NRS")
    click(browser, ".nrs-5")
    click(browser, "#nrs-save")
    wait_for(lambda: visible(browser, "#toast"), message="toast")
    for scroll in (0, 10_000):
        js(browser, "window.scrollTo(0, arguments[0]);", scroll)
        covered = js(
            browser,
            """
            var t = document.getElementById('toast').getBoundingClientRect(), out = [];
            document.querySelectorAll('button, a, select, input').forEach(function (n) {
              if (n.closest('[hidden]') || n.offsetParent === null) return;
              var r = n.getBoundingClientRect();
              if (r.width && r.height && r.left < t.right && r.right > t.left && r.top < t.bottom && r.bottom > t.top)
                out.push(n.id || n.className || n.tagName);
            });
            return out;
            """,
        )
        assert covered == [], covered
    screenshot("45-toast-clear-of-buttons")
    loose = js(
        browser,
        """
        var out = [];
        function walk(rules, inHover) {
          Array.from(rules).forEach(function (rule) {
            if (rule.media) { walk(rule.cssRules, inHover || /hover:\\s*hover/.test(rule.conditionText || rule.media.mediaText)); return; }
            if (rule.selectorText && rule.selectorText.indexOf(':hover') !== -1 && !inHover) out.push(rule.selectorText);
          });
        }
        Array.from(document.styleSheets).forEach(function (sheet) {
          try { walk(sheet.cssRules, false); } catch (e) { out.push('unreadable ' + sheet.href); }
        });
        return out;
        """,
    )
    assert loose == [], loose


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_header_logo_and_email_row_are_44_px_targets(browser, live_server, pwa_patient, sign_in, screenshot, lang):
    phone(browser, PHONE_390)
    sign_in("e2e-patient")
    if lang != "en":
        switch_language(browser, lang)
    brand = rect(browser, ".brand")
    assert brand["height"] >= 44
    assert brand["width"] >= 44
    go(browser, "#settings")
    wait_for(lambda: visible(browser, "#email-opt"), message="settings")
    row = rect(browser, "label.check-row")
    box = rect(browser, "#email-opt")
    assert row["height"] >= 44
    assert row["left"] <= box["left"]
    assert row["right"] >= box["right"]
    # A tap anywhere on the row, also beside the box, lands on the label that works the box.
    js(browser, "document.querySelector('label.check-row').scrollIntoView({block: 'center'});")
    row = rect(browser, "label.check-row")
    box = rect(browser, "#email-opt")
    for x, y in ((box["left"] - 6, row["top"] + 2), (box["right"] + 4, row["bottom"] - 2)):
        hit = js(
            browser,
            "var n = document.elementFromPoint(arguments[0], arguments[1]);"
            "return !!n && (n.id === 'email-opt' || !!n.closest('label.check-row'));",
            x,
            y,
        )
        assert hit, (x, y)
    js(browser, "document.querySelector('label.check-row').scrollIntoView({block: 'center'});")
    screenshot(f"46-settings-email-row-{lang}")


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_signing_out_offline_keeps_the_queue_for_the_next_sign_in(
    browser, network, live_server, pwa_patient, sign_in, screenshot, lang
):
    phone(browser, PHONE_390)
    sign_in("e2e-patient")
    if lang != "en":
        switch_language(browser, lang)
    until_controlled(browser)
    set_offline(browser, network, True)
    go(browser, "#log/nrs")
    wait_for(lambda: visible(browser, ".nrs-4"), message="NRS")
    click(browser, ".nrs-4")
    click(browser, "#nrs-save")
    wait_for(lambda: queue_states(browser) == ["queued"], message="queued offline")
    run_async(browser, f"RehabQueue.setMeta('recent:{pwa_patient.pk}', [{{x: 1}}])")
    click(browser, "form[action$='/logout/'] button")
    wait_for(lambda: visible(browser, "#signed-out"), message="signed out on the phone")
    text = text_of(browser, "#signed-out")
    assert ("已退出登录" if lang == "zh-hans" else "You are signed out") in text
    assert ("1 条记录" if lang == "zh-hans" else "1 entries not yet sent") in text
    assert not visible(browser, "#today-title")
    screenshot(f"47-signed-out-offline-{lang}")
    # Local copies gone, the queue kept.
    assert run_async(browser, f"RehabQueue.getMeta('recent:{pwa_patient.pk}')") is None
    assert run_async(browser, "caches.match('/app/').then(function (r) { return !!r; })") is False
    rows = run_async(browser, f"RehabQueue.list({pwa_patient.pk})")
    assert [r["state"] for r in rows] == ["queued"]
    assert Assessment.objects.count() == 0
    # Back online: the server's sign-out follows, and the sign-in page shows.
    set_offline(browser, network, False)
    wait_for(lambda: "/login/" in browser.current_url, timeout=20, message="server sign-out")
    browser.get(f"{live_server.url}/app/")
    wait_for(lambda: "/login/" in browser.current_url, message="session really ended")
    # The same patient signs in again: the kept entry is sent.
    sign_in("e2e-patient")
    stored = wait_for(lambda: Assessment.objects.filter(instrument="nrs").first(), timeout=20, message="sent")
    assert stored.total == 4
