"""The completeness rule GET /api/v1/instruments/ serves ("completion") is the scorer's rule.

The patient app applies it before Save (blocks a questionnaire skipped beyond it, asks the
patient to finish one left unanswered), so the served rule must say exactly what the scorer
does: with the skippable items of ``completion`` left out up to ``max_skipped`` of them the
entry is scored; with one more it gets no total (stored as incomplete, or refused); where an
instrument serves no rule, every required item must be answered.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessments.instruments import INSTRUMENTS, AnswerError

# What the patient answers in the app (the DN4 examination items are the clinician's).
SELF_REPORT = ("nrs", "vas", "dn4", "phq9", "gad7", "odi")


def _patient_items(code: str) -> list[dict[str, Any]]:
    items = INSTRUMENTS[code].as_dict()["items"]
    if code == "dn4":
        return [item for item in items if item["group"] == "interview"]
    return items


def _valid(item: dict[str, Any], pick: int = 0) -> Any:
    if item["options"]:
        return item["options"][pick % len(item["options"])]["value"]
    return item["minimum"]


def _full_answers(code: str) -> dict[str, Any]:
    return {item["key"]: _valid(item) for item in _patient_items(code) if item["required"] or item["nullable"]}


@pytest.mark.parametrize("code", SELF_REPORT)
def test_served_rule_names_items_and_a_possible_maximum(code):
    described = INSTRUMENTS[code].as_dict()
    rule = described["completion"]
    if rule is None:
        return
    keys = {item["key"] for item in described["items"]}
    assert rule["items"], code
    assert set(rule["items"]) <= keys
    assert 0 <= rule["max_skipped"] <= len(rule["items"])


def test_odi_and_phq9_serve_their_skip_rules():
    odi = INSTRUMENTS["odi"].as_dict()["completion"]
    assert odi["items"] == [f"section{n}" for n in range(1, 11)]
    assert odi["max_skipped"] == 1  # the questionnaire's own scoring note covers one missing section
    phq9 = INSTRUMENTS["phq9"].as_dict()["completion"]
    assert phq9["items"] == [f"item{n}" for n in range(1, 10)]
    assert phq9["max_skipped"] == 2  # prorated up to 2 missing (Arrieta 2017)


@pytest.mark.parametrize("code", [c for c in SELF_REPORT if INSTRUMENTS[c].as_dict()["completion"] is None])
def test_without_a_rule_every_required_item_is_needed(code):
    instrument = INSTRUMENTS[code]
    instrument.score(_full_answers(code))
    for item in _patient_items(code):
        if not item["required"]:
            continue
        answers = _full_answers(code)
        del answers[item["key"]]
        with pytest.raises(AnswerError):
            instrument.score(answers)


@pytest.mark.parametrize("code", [c for c in SELF_REPORT if INSTRUMENTS[c].as_dict()["completion"] is not None])
@settings(max_examples=60, deadline=None, derandomize=True)
@given(data=st.data())
def test_the_scorer_scores_exactly_what_the_rule_allows(code, data):
    instrument = INSTRUMENTS[code]
    rule = instrument.as_dict()["completion"]
    items = {item["key"]: item for item in _patient_items(code)}
    answers = {
        key: _valid(item, data.draw(st.integers(0, 5), label=key))
        for key, item in items.items()
        if item["required"] or item["nullable"]
    }
    skipped = data.draw(st.lists(st.sampled_from(rule["items"]), unique=True), label="skipped")
    as_null = data.draw(st.booleans(), label="skipped as null")
    for key in skipped:
        if as_null:
            answers[key] = None
        else:
            answers.pop(key, None)
    if len(skipped) <= rule["max_skipped"]:
        assert instrument.score(answers).total is not None
    else:
        try:
            result = instrument.score(answers)
        except AnswerError:
            return
        assert result.total is None
        assert result.band is None
