"""PHQ-9 with items missing: proration (Arrieta et al. 2017), incomplete entries, and the
item-9 flag whatever else is missing. Property tests over every shape of partial answers."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from assessments.instruments import FLAG_SUICIDAL_IDEATION, AnswerError, get_instrument
from assessments.instruments.phq9 import BANDS, ITEM_KEYS, prorated_total

PHQ9 = get_instrument("phq9")
ABSENT = object()

# Each item: left out, sent as null, or answered 0-3; difficulty the same.
item_answer = st.one_of(st.just(ABSENT), st.none(), st.integers(0, 3))


@st.composite
def partial_answers(draw: Any) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for key in (*ITEM_KEYS, "difficulty"):
        value = draw(item_answer)
        if value is not ABSENT:
            answers[key] = value
    return answers


def half_up(value: Fraction) -> int:
    return int((value + Fraction(1, 2)).__floor__())


def band_of(total: int) -> str:
    return next(band.code for band in BANDS if band.low <= total <= band.high)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(partial_answers())
@example({"item9": 2})
@example({"item9": 0})
@example({"difficulty": 3})
@example({f"item{i}": 3 for i in range(1, 8)})
@example({f"item{i}": 1 for i in range(1, 8)} | {"item8": 2})
def test_partial_phq9_is_prorated_incomplete_or_refused(answers: dict[str, Any]) -> None:
    given_items = {key: answers[key] for key in ITEM_KEYS if answers.get(key) is not None}
    missing = [key for key in ITEM_KEYS if key not in given_items]
    if not given_items:
        with pytest.raises(AnswerError) as excinfo:
            PHQ9.score(answers)
        assert list(excinfo.value.errors) == ["__all__"]
        return

    result = PHQ9.score(answers)
    item_sum = sum(given_items.values())
    if not missing:
        assert result.total == item_sum
        assert result.detail == {}
    elif len(missing) <= 2:
        assert result.total == half_up(Fraction(item_sum * 9, len(given_items)))
        assert result.detail == {"prorated": True, "missing": missing}
    else:
        assert result.total is None
        assert result.band is None
        assert result.detail == {"incomplete": True, "missing": missing}
    if result.total is not None:
        assert 0 <= result.total <= 27
        assert isinstance(result.total, int)
        assert result.band == band_of(result.total)
    # Item 9 is checked in every case: the flag is there exactly when item 9 was answered > 0.
    assert (FLAG_SUICIDAL_IDEATION in result.flags) == (given_items.get("item9", 0) > 0)
    # The stored copy keeps every key, unanswered ones as null.
    assert set(result.answers) == {*ITEM_KEYS, "difficulty"}
    assert all(result.answers[key] is None for key in missing)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(partial_answers(), st.sampled_from(ITEM_KEYS), st.sampled_from(["2", 4, -1, 1.5, True, [1]]))
def test_a_bad_item_is_refused_whatever_is_missing(answers: dict[str, Any], key: str, bad: Any) -> None:
    """Missing items are allowed, wrong ones never: the error names the item."""
    with pytest.raises(AnswerError) as excinfo:
        PHQ9.score({**answers, key: bad})
    assert key in excinfo.value.errors


@settings(derandomize=True)
@given(st.integers(0, 27), st.integers(7, 9))
def test_prorated_total_matches_the_exact_rule(item_sum: int, answered: int) -> None:
    if item_sum > 3 * answered:
        return
    assert prorated_total(item_sum, answered) == half_up(Fraction(item_sum * 9, answered))
    if answered == 9:
        assert prorated_total(item_sum, answered) == item_sum


def test_worked_examples() -> None:
    # 8 items answered summing 4: 4 * 9 / 8 = 4.5, rounded half up to 5 (mild, not minimal).
    eight = {f"item{i}": 0 for i in range(1, 9)} | {"item1": 2, "item2": 2}
    result = PHQ9.score(eight)
    assert (result.total, result.band) == (5, "mild")
    assert result.detail == {"prorated": True, "missing": ["item9"]}
    assert result.flags == ()
    # 7 items, sum 10: 90 / 7 = 12.86 -> 13.
    seven = {f"item{i}": 1 for i in range(1, 8)} | {"item1": 3, "item2": 2}
    assert PHQ9.score(seven).total == 13
    # The safety-signal entry: item 9 alone.
    signal = PHQ9.score({"item9": 2})
    assert signal.total is None
    assert signal.flags == (FLAG_SUICIDAL_IDEATION,)
    assert signal.detail["incomplete"] is True
    assert signal.detail["missing"] == [f"item{i}" for i in range(1, 9)]
