"""Property-based checks that hold for every instrument and every valid answer set."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assessments.instruments import (
    FLAG_MEASUREMENT_CONDITIONS,
    FLAG_NEUROPATHIC_LIKELY,
    FLAG_SUICIDAL_IDEATION,
    FLAG_THERMAL_ASYMMETRY,
    INSTRUMENTS,
    AnswerError,
    get_instrument,
)

DN4_INTERVIEW = (
    "burning",
    "painful_cold",
    "electric_shocks",
    "tingling",
    "pins_and_needles",
    "numbness",
    "itching",
)
DN4_EXAM = ("touch_hypoesthesia", "pinprick_hypoesthesia", "brushing")


def _fixed(keys, values):
    return st.fixed_dictionaries(dict.fromkeys(keys, values))


vas_answers = st.fixed_dictionaries(
    {"score_mm": st.integers(0, 100) | st.floats(0, 100, allow_nan=False, allow_infinity=False)}
)
nrs_answers = st.fixed_dictionaries(
    {"score": st.integers(0, 10)},
    optional={"recall": st.sampled_from(["now", "average_24h", "worst_24h"])},
)
dn4_answers = st.one_of(
    _fixed(DN4_INTERVIEW, st.booleans()),
    _fixed(DN4_INTERVIEW + DN4_EXAM, st.booleans()),
)
phq9_answers = st.fixed_dictionaries(
    {f"item{n}": st.integers(0, 3) for n in range(1, 10)},
    optional={"difficulty": st.none() | st.integers(0, 3)},
)
gad7_answers = st.fixed_dictionaries(
    {f"item{n}": st.integers(0, 3) for n in range(1, 8)},
    optional={"difficulty": st.none() | st.integers(0, 3)},
)


@st.composite
def odi_answers(draw, max_skipped=1):
    """ODI answers with up to ``max_skipped`` sections skipped (more than one: stored incomplete)."""
    values = draw(st.lists(st.integers(0, 5), min_size=10, max_size=10))
    skipped = draw(st.sets(st.integers(0, 9), max_size=max_skipped))
    answers = {}
    for index, value in enumerate(values):
        if index not in skipped:
            answers[f"section{index + 1}"] = value
        elif draw(st.booleans()):
            # Skipped explicitly with null rather than by leaving the key out.
            answers[f"section{index + 1}"] = None
    return answers


skin = st.floats(15.0, 45.0, allow_nan=False) | st.integers(15, 45)
thermal_answers = st.fixed_dictionaries(
    {
        "rois": st.lists(
            st.fixed_dictionaries(
                {
                    "region": st.from_regex(r"[A-Za-z0-9 ]{1,64}", fullmatch=True),
                    "left_c": skin,
                    "right_c": skin,
                }
            ),
            min_size=1,
            max_size=8,
            unique_by=lambda roi: roi["region"].strip().casefold(),
        ).filter(lambda rois: all(roi["region"].strip() for roi in rois)),
        "ambient_c": st.floats(0.0, 45.0, allow_nan=False),
        "acclimatisation_min": st.integers(0, 240),
        "affected_side": st.sampled_from(["left", "right"]),
    }
)

VALID_ANSWERS = {
    "vas": vas_answers,
    "nrs": nrs_answers,
    "dn4": dn4_answers,
    "phq9": phq9_answers,
    "gad7": gad7_answers,
    "odi": odi_answers(),
    "thermal": thermal_answers,
}


def test_every_instrument_has_a_strategy():
    assert set(VALID_ANSWERS) == set(INSTRUMENTS)


@pytest.mark.parametrize("code", list(INSTRUMENTS))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_valid_answers_score_within_range_and_band(code, data):
    instrument = get_instrument(code)
    answers = data.draw(VALID_ANSWERS[code])
    result = instrument.score(answers)

    assert result.total is not None
    assert instrument.minimum <= result.total <= instrument.maximum
    assert result.band in {band.code for band in instrument.bands}
    # The DN4-interview is banded with its own 3/7 cut-off; every other result
    # carries exactly the band that band_for gives its total.
    if not (code == "dn4" and result.detail["variant"] == "interview"):
        assert result.band == instrument.band_for(result.total).code
    json.dumps(result.as_dict(), ensure_ascii=False)  # stored as JSON: must not raise

    # Normalised answers score the same again (they are what gets stored).
    assert instrument.score(result.answers) == result


@pytest.mark.parametrize("code", list(INSTRUMENTS))
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_band_is_monotone_in_total(code, data):
    instrument = get_instrument(code)
    totals = st.floats(instrument.minimum, instrument.maximum, allow_nan=False)
    low, high = sorted((data.draw(totals), data.draw(totals)))
    order = [band.code for band in instrument.bands]
    low_band, high_band = instrument.band_for(low), instrument.band_for(high)
    assert low_band is not None
    assert high_band is not None
    assert order.index(low_band.code) <= order.index(high_band.code)


@pytest.mark.parametrize("code", list(INSTRUMENTS))
def test_band_for_covers_every_integer_total(code):
    instrument = get_instrument(code)
    for total in range(math.ceil(instrument.minimum), math.floor(instrument.maximum) + 1):
        band = instrument.band_for(total)
        assert band is not None, f"{code}: no band for {total}"
        assert band.low <= total <= band.high, f"{code}: {total} outside its band {band.code}"


@settings(max_examples=300, deadline=None)
@given(phq9_answers)
def test_phq9_flag_iff_item9_positive(answers):
    result = get_instrument("phq9").score(answers)
    assert result.total == sum(answers[f"item{n}"] for n in range(1, 10))
    assert (FLAG_SUICIDAL_IDEATION in result.flags) is (answers["item9"] > 0)


@settings(max_examples=300, deadline=None)
@given(dn4_answers)
def test_dn4_flag_follows_variant_cutoff(answers):
    result = get_instrument("dn4").score(answers)
    yes = sum(answers.values())
    full = len(answers) == 10
    assert result.total == yes
    assert result.detail["variant"] == ("full" if full else "interview")
    assert (FLAG_NEUROPATHIC_LIKELY in result.flags) is (yes >= (4 if full else 3))
    assert (result.band == "neuropathic_likely") is (FLAG_NEUROPATHIC_LIKELY in result.flags)


@settings(max_examples=300, deadline=None)
@given(odi_answers(max_skipped=9))
def test_odi_percent_matches_formula(answers):
    result = get_instrument("odi").score(answers)
    answered = [value for value in answers.values() if value is not None]
    assert result.detail["answered"] == len(answered)
    if len(answered) >= 9:
        assert math.isclose(result.total, round(sum(answered) / (5 * len(answered)) * 100, 1))
        assert "incomplete" not in result.detail
    else:
        assert (result.total, result.band, result.detail["incomplete"]) == (None, None, True)


@settings(max_examples=300, deadline=None)
@given(thermal_answers)
def test_thermal_flags_follow_rounded_deltas_and_conditions(answers):
    result = get_instrument("thermal").score(answers)
    deltas = [entry["delta_c"] for entry in result.detail["rois"]]
    sign = 1 if answers["affected_side"] == "left" else -1
    for roi, delta in zip(answers["rois"], deltas, strict=True):
        assert math.isclose(delta, sign * (roi["left_c"] - roi["right_c"]), abs_tol=0.005 + 1e-9)
        assert round(delta, 2) == delta
    assert result.total == max(abs(delta) for delta in deltas)
    assert (FLAG_THERMAL_ASYMMETRY in result.flags) is (result.total >= 1.0)
    bad_conditions = not 18.0 <= answers["ambient_c"] <= 25.0 or answers["acclimatisation_min"] < 15
    assert (FLAG_MEASUREMENT_CONDITIONS in result.flags) is bad_conditions


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 300) | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@pytest.mark.parametrize("code", list(INSTRUMENTS))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_arbitrary_json_scores_or_raises_answer_error_only(code, data):
    """Whatever a client sends, the API gets a Result or an AnswerError (a 400), never a crash."""
    instrument = get_instrument(code)
    keys = st.sampled_from([item.key for item in instrument.items]) | st.text(max_size=6)
    answers = data.draw(st.dictionaries(keys, json_values, max_size=12) | json_values)
    try:
        result = instrument.score(answers)
    except AnswerError as error:
        errors, result = error.errors, None
    else:
        errors = None
    if result is None:
        assert errors
        assert all(isinstance(path, str) and message for path, message in errors.items())
    else:
        assert instrument.minimum <= result.total <= instrument.maximum
