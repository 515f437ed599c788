"""GAD-7 on the patient's phone: the difficulty follow-up is asked only when a problem was
checked off, is not counted in "n / 7", and is stored beside the items, outside the total."""

from __future__ import annotations

import pytest

from assessments.models import Assessment
from tests.e2e.test_patient_pwa import answer_option, click, db, go, js, q_count, queue_states, visible, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def _title(browser) -> str:
    return js(browser, "return document.getElementById('q-title').textContent;")


def _answer_gad7(browser, answers):
    go(browser, "#q/gad7")
    for index, value in enumerate(answers):
        wait_for(lambda index=index: q_count(browser) == f"{index + 1} / 7", message=f"item {index + 1}")
        answer_option(browser, value)


def test_gad7_difficulty_only_after_a_problem(browser, live_server, pwa_patient, sign_in, screenshot):
    sign_in("e2e-patient")

    # No problem checked: straight to the review, no difficulty question.
    _answer_gad7(browser, [0] * 7)
    wait_for(lambda: visible(browser, "#q-save"), message="review without the follow-up")
    assert q_count(browser) == "7 / 7"
    click(browser, "#q-save")
    wait_for(lambda: Assessment.objects.filter(instrument="gad7").count() == 1, message="first GAD-7 stored")
    wait_for(lambda: js(browser, "return location.hash;") == "#today", message="back to today")
    first = db(lambda: Assessment.objects.get(instrument="gad7"))
    assert first.total == 0
    assert first.answers["difficulty"] is None

    # Problems checked: the follow-up comes after item 7 and is not counted.
    answers = [1, 2, 0, 1, 0, 3, 1]
    _answer_gad7(browser, answers)
    wait_for(lambda: _title(browser).startswith("If you checked off"), message="difficulty question")
    assert q_count(browser) == ""
    wait_for(lambda: js(browser, "return document.getElementById('toast').hidden;"), timeout=10, message="toast gone")
    screenshot("16-gad7-difficulty")
    answer_option(browser, 2)
    wait_for(lambda: visible(browser, "#q-save"), message="review")
    click(browser, "#q-save")
    wait_for(lambda: Assessment.objects.filter(instrument="gad7").count() == 2, message="second GAD-7 stored")
    second = db(lambda: Assessment.objects.filter(instrument="gad7").latest("id"))
    assert second.total == sum(answers)
    assert second.answers["difficulty"] == 2
    wait_for(lambda: queue_states(browser) == ["synced", "synced"], message="both shown as sent")
