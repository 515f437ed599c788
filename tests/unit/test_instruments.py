"""Worked examples for the pure instrument scorers (no database, no Django)."""

from __future__ import annotations

import ast
import json
import math
import sys
from pathlib import Path

import pytest

from assessments.instruments import (
    FLAG_MEASUREMENT_CONDITIONS,
    FLAG_NEUROPATHIC_LIKELY,
    FLAG_SUICIDAL_IDEATION,
    FLAG_THERMAL_ASYMMETRY,
    INSTRUMENTS,
    AnswerError,
    Band,
    Instrument,
    Result,
    Text,
    get_instrument,
)

INSTRUMENTS_DIR = Path(__file__).resolve().parents[2] / "assessments" / "instruments"

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


def score(code, answers) -> Result:
    return get_instrument(code).score(answers)


def errors_for(code, answers) -> dict[str, str]:
    with pytest.raises(AnswerError) as excinfo:
        get_instrument(code).score(answers)
    return excinfo.value.errors


def items(prefix, values, **extra):
    answers = {f"{prefix}{number}": value for number, value in enumerate(values, start=1)}
    answers.update(extra)
    return answers


def phq9_with_total(total, item9=0, **extra):
    """PHQ-9 answers reaching ``total`` with the given item 9."""
    rest = total - item9
    values = []
    for _ in range(8):
        value = min(3, rest)
        values.append(value)
        rest -= value
    assert rest == 0, "total not reachable"
    return items("item", [*values, item9], **extra)


def gad7_with_total(total):
    values = []
    rest = total
    for _ in range(7):
        value = min(3, rest)
        values.append(value)
        rest -= value
    assert rest == 0
    return items("item", values)


def dn4(interview_yes=0, exam=None):
    """Interview answers with the first ``interview_yes`` items true; exam as given."""
    answers = {key: index < interview_yes for index, key in enumerate(DN4_INTERVIEW)}
    if exam is not None:
        answers.update(exam)
    return answers


def odi_sections(values):
    """ODI answers from a list of 10 values; ``...`` means "leave the key out"."""
    return {f"section{number}": value for number, value in enumerate(values, start=1) if value is not ...}


def thermal(rois=None, ambient_c=22.0, acclimatisation_min=20, affected_side="left", **extra):
    answers = {
        "rois": rois if rois is not None else [{"region": "L5 dermatome", "left_c": 31.0, "right_c": 31.2}],
        "ambient_c": ambient_c,
        "acclimatisation_min": acclimatisation_min,
        "affected_side": affected_side,
    }
    answers.update(extra)
    return answers


# --- registry and shared behaviour -------------------------------------------------------


def test_registry_lists_instruments_in_api_order():
    assert list(INSTRUMENTS) == ["vas", "nrs", "dn4", "phq9", "gad7", "odi", "thermal"]
    for code, instrument in INSTRUMENTS.items():
        assert instrument.code == code
        assert get_instrument(code) is instrument


def test_get_instrument_unknown_code_raises_key_error():
    with pytest.raises(KeyError, match="nope"):
        get_instrument("nope")


def test_flag_codes_are_the_public_strings():
    assert FLAG_SUICIDAL_IDEATION == "suicidal_ideation"
    assert FLAG_NEUROPATHIC_LIKELY == "neuropathic_likely"
    assert FLAG_THERMAL_ASYMMETRY == "thermal_asymmetry"
    assert FLAG_MEASUREMENT_CONDITIONS == "measurement_conditions"


def test_package_imports_only_stdlib_and_numpy():
    # Read the sources rather than sys.modules: the test process may already have
    # Django loaded, and an import hidden inside a function must count too.
    allowed = set(sys.stdlib_module_names) | {"numpy"}
    paths = sorted(INSTRUMENTS_DIR.glob("*.py"))
    assert len(paths) >= 9  # base, registry and the seven instruments
    found = set()
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    assert "django" not in found
    assert found <= allowed, found - allowed


@pytest.mark.parametrize("code", list(INSTRUMENTS))
def test_as_dict_is_json_and_complete(code):
    description = get_instrument(code).as_dict()
    json.dumps(description, ensure_ascii=False)  # must not raise
    assert description["code"] == code
    assert set(description["name"]) == {"en", "zh-hans"}
    assert all(description["name"].values())
    assert description["range"]["min"] < description["range"]["max"]
    assert description["bands"]
    assert set(description["loinc"]) == {"panel", "total"}
    assert description["sources"]
    for band in description["bands"]:
        assert set(band) == {"code", "low", "high", "label"}
    for item in description["items"]:
        assert set(item) >= {
            "key",
            "label",
            "kind",
            "options",
            "minimum",
            "maximum",
            "required",
            "nullable",
            "group",
        }
        assert item["label"]["en"]
        assert item["label"]["zh-hans"]
        for option in item["options"]:
            assert set(option) == {"value", "label", "score"}


def test_public_answer_keys():
    keys = {code: [item["key"] for item in instrument.as_dict()["items"]] for code, instrument in INSTRUMENTS.items()}
    assert keys["vas"] == ["score_mm"]
    assert keys["nrs"] == ["score", "recall"]
    assert keys["dn4"] == [*DN4_INTERVIEW, *DN4_EXAM]
    assert keys["phq9"] == [f"item{n}" for n in range(1, 10)] + ["difficulty"]
    assert keys["gad7"] == [f"item{n}" for n in range(1, 8)] + ["difficulty"]
    assert keys["odi"] == [f"section{n}" for n in range(1, 11)]
    assert keys["thermal"] == [
        "rois",
        "ambient_c",
        "acclimatisation_min",
        "affected_side",
    ]


def test_dn4_items_are_grouped_interview_and_examination():
    groups = {item.key: item.group for item in get_instrument("dn4").items}
    assert all(groups[key] == "interview" for key in DN4_INTERVIEW)
    assert all(groups[key] == "examination" for key in DN4_EXAM)


@pytest.mark.parametrize("code", list(INSTRUMENTS))
@pytest.mark.parametrize("answers", [None, [], "score", 3, True])
def test_answers_that_are_not_an_object_are_rejected(code, answers):
    assert set(errors_for(code, answers)) == {"__all__"}


def test_answer_error_keeps_errors_and_reads_well():
    error = AnswerError({"item9": "must be an integer from 0 to 3"})
    assert isinstance(error, ValueError)
    assert error.errors == {"item9": "must be an integer from 0 to 3"}
    assert "item9: must be an integer from 0 to 3" in str(error)


def test_instrument_rejects_overlapping_bands():
    with pytest.raises(ValueError, match="out of order"):
        Instrument(
            code="bad",
            name=Text("Bad", "坏"),
            items=(),
            minimum=0,
            maximum=10,
            unit="points",
            bands=(Band("a", 0, 5, Text("A", "A")), Band("b", 5, 10, Text("B", "B"))),
            cutoff=None,
            cutoff_note=None,
            mcid=None,
            mcid_note=None,
            loinc_panel=None,
            loinc_total=None,
            higher_is_worse=True,
            sources=(),
            scorer=lambda answers: Result(None, None, (), {}, {}),
        )


@pytest.mark.parametrize("total", [-0.1, 100.1, math.nan, math.inf])
def test_band_for_outside_range_is_none(total):
    assert get_instrument("vas").band_for(total) is None


# --- VAS ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score_mm", "band"),
    [
        (0, "none"),
        (4, "none"),
        (5, "mild"),
        (44, "mild"),
        (45, "moderate"),
        (74, "moderate"),
        (75, "severe"),
        (100, "severe"),
        (62.5, "moderate"),
        (4.5, "mild"),  # between published bands: goes to the higher one
    ],
)
def test_vas_bands(score_mm, band):
    result = score("vas", {"score_mm": score_mm})
    assert result.total == score_mm
    assert result.band == band
    assert result.flags == ()
    assert result.answers == {"score_mm": score_mm}


def test_vas_metadata():
    vas = get_instrument("vas")
    assert (vas.minimum, vas.maximum, vas.unit) == (0, 100, "mm")
    assert vas.mcid == 15
    assert vas.higher_is_worse is True


@pytest.mark.parametrize(
    "bad",
    [
        True,
        False,
        None,
        "50",
        math.nan,
        math.inf,
        -math.inf,
        -0.1,
        100.5,
        [50],
        {"mm": 5},
    ],
)
def test_vas_rejects_bad_values(bad):
    errors = errors_for("vas", {"score_mm": bad})
    assert list(errors) == ["score_mm"]
    assert "must be a number from 0 to 100" in errors["score_mm"]


def test_vas_missing_and_unknown_keys():
    assert "required" in errors_for("vas", {})["score_mm"]
    errors = errors_for("vas", {"score_mm": 10, "score": 10})
    assert list(errors) == ["score"]
    assert "unknown answer key" in errors["score"]
    assert "score_mm" in errors["score"]


# --- NRS ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "band"),
    [
        (0, "none"),
        (1, "mild"),
        (3, "mild"),
        (4, "moderate"),
        (6, "moderate"),
        (7, "severe"),
        (10, "severe"),
    ],
)
def test_nrs_bands(value, band):
    result = score("nrs", {"score": value})
    assert result.total == value
    assert result.band == band


def test_nrs_recall_defaults_to_now():
    assert score("nrs", {"score": 5}).answers == {"score": 5, "recall": "now"}
    assert score("nrs", {"score": 5, "recall": "worst_24h"}).answers == {
        "score": 5,
        "recall": "worst_24h",
    }
    assert score("nrs", {"score": 5, "recall": "average_24h"}).answers["recall"] == "average_24h"


@pytest.mark.parametrize("bad", [3.5, 3.0, True, "3", None, -1, 11])
def test_nrs_score_must_be_an_integer(bad):
    errors = errors_for("nrs", {"score": bad})
    assert list(errors) == ["score"]
    assert "must be an integer from 0 to 10" in errors["score"]


@pytest.mark.parametrize("bad", ["yesterday", "NOW", None, 1])
def test_nrs_recall_must_be_a_known_choice(bad):
    errors = errors_for("nrs", {"score": 2, "recall": bad})
    assert list(errors) == ["recall"]
    assert "now, average_24h, worst_24h" in errors["recall"]


def test_nrs_metadata():
    nrs = get_instrument("nrs")
    assert nrs.mcid == 2
    assert nrs.loinc_total == "72514-3"
    assert [option.value for option in nrs.item("score").options] == list(range(11))


# --- DN4 ----------------------------------------------------------------------------------


def test_dn4_interview_all_no():
    result = score("dn4", dn4(0))
    assert result.total == 0
    assert result.band == "neuropathic_unlikely"
    assert result.flags == ()
    assert result.detail == {
        "variant": "interview",
        "interview": 0,
        "examination": None,
        "max": 7,
        "cutoff": 3,
    }
    assert result.answers == dict.fromkeys(DN4_INTERVIEW, False)


def test_dn4_interview_three_of_seven_flags():
    result = score("dn4", dn4(3))
    assert result.total == 3
    assert result.band == "neuropathic_likely"
    assert result.flags == (FLAG_NEUROPATHIC_LIKELY,)


def test_dn4_interview_two_of_seven_does_not_flag():
    result = score("dn4", dn4(2))
    assert result.total == 2
    assert result.band == "neuropathic_unlikely"
    assert result.flags == ()


def test_dn4_interview_all_yes():
    result = score("dn4", dn4(7))
    assert result.total == 7
    assert result.detail["max"] == 7
    assert result.flags == (FLAG_NEUROPATHIC_LIKELY,)


def test_dn4_full_four_of_ten_flags():
    result = score(
        "dn4",
        dn4(
            2,
            {
                "touch_hypoesthesia": True,
                "pinprick_hypoesthesia": False,
                "brushing": True,
            },
        ),
    )
    assert result.total == 4
    assert result.band == "neuropathic_likely"
    assert result.flags == (FLAG_NEUROPATHIC_LIKELY,)
    assert result.detail == {
        "variant": "full",
        "interview": 2,
        "examination": 2,
        "max": 10,
        "cutoff": 4,
    }
    assert len(result.answers) == 10


def test_dn4_full_three_of_ten_does_not_flag():
    # The same three interview "yes" answers flag the DN4-interview (3/7) but not the full DN4 (3/10).
    result = score("dn4", dn4(3, dict.fromkeys(DN4_EXAM, False)))
    assert result.total == 3
    assert result.band == "neuropathic_unlikely"
    assert result.flags == ()
    assert result.detail["variant"] == "full"


def test_dn4_full_all_yes():
    result = score("dn4", dn4(7, dict.fromkeys(DN4_EXAM, True)))
    assert result.total == 10
    assert result.detail["examination"] == 3


def test_dn4_null_examination_items_mean_not_examined():
    result = score("dn4", dn4(3, dict.fromkeys(DN4_EXAM)))
    assert result.detail["variant"] == "interview"
    assert result.total == 3
    assert set(result.answers) == set(DN4_INTERVIEW)


def test_dn4_partial_examination_names_missing_items():
    errors = errors_for("dn4", dn4(4, {"brushing": True}))
    assert set(errors) == {"touch_hypoesthesia", "pinprick_hypoesthesia"}
    assert "brushing" in errors["touch_hypoesthesia"]

    errors = errors_for(
        "dn4",
        dn4(
            4,
            {
                "brushing": False,
                "touch_hypoesthesia": True,
                "pinprick_hypoesthesia": None,
            },
        ),
    )
    assert set(errors) == {"pinprick_hypoesthesia"}


def test_dn4_missing_interview_items_are_each_named():
    answers = dn4(2)
    del answers["tingling"]
    del answers["itching"]
    errors = errors_for("dn4", answers)
    assert set(errors) == {"tingling", "itching"}
    assert "required" in errors["tingling"]


@pytest.mark.parametrize("bad", [1, 0, "yes", "true", None, 1.0])
def test_dn4_accepts_json_booleans_only(bad):
    errors = errors_for("dn4", {**dn4(1), "numbness": bad})
    assert list(errors) == ["numbness"]
    assert "must be true or false" in errors["numbness"]


def test_dn4_examination_item_must_be_boolean_too():
    errors = errors_for(
        "dn4",
        dn4(
            1,
            {"touch_hypoesthesia": 1, "pinprick_hypoesthesia": True, "brushing": True},
        ),
    )
    assert list(errors) == ["touch_hypoesthesia"]


def test_dn4_unknown_key():
    errors = errors_for("dn4", {**dn4(1), "allodynia": True})
    assert list(errors) == ["allodynia"]
    assert "unknown answer key" in errors["allodynia"]


def test_dn4_metadata():
    instrument = get_instrument("dn4")
    assert instrument.cutoff == 4
    assert instrument.band_for(3).code == "neuropathic_unlikely"
    assert instrument.band_for(4).code == "neuropathic_likely"


# --- PHQ-9 --------------------------------------------------------------------------------


def test_phq9_all_zero():
    result = score("phq9", items("item", [0] * 9))
    assert result.total == 0
    assert result.band == "minimal"
    assert result.flags == ()
    assert result.answers == {**items("item", [0] * 9), "difficulty": None}


def test_phq9_maximum():
    result = score("phq9", items("item", [3] * 9))
    assert result.total == 27
    assert result.band == "severe"
    assert result.flags == (FLAG_SUICIDAL_IDEATION,)


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (24, "severe"),
    ],
)
def test_phq9_band_boundaries(total, band):
    result = score("phq9", phq9_with_total(total))
    assert result.total == total
    assert result.band == band
    assert result.flags == ()


def test_phq9_item9_flags_even_with_total_one():
    result = score("phq9", phq9_with_total(1, item9=1))
    assert result.total == 1
    assert result.band == "minimal"
    assert result.flags == (FLAG_SUICIDAL_IDEATION,)


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_phq9_any_positive_item9_flags(item9):
    assert FLAG_SUICIDAL_IDEATION in score("phq9", phq9_with_total(item9 + 5, item9=item9)).flags


def test_phq9_high_total_without_item9_does_not_flag():
    assert score("phq9", phq9_with_total(24, item9=0)).flags == ()


def test_phq9_difficulty_is_optional_and_not_scored():
    with_difficulty = score("phq9", phq9_with_total(6, difficulty=3))
    assert with_difficulty.total == 6
    assert with_difficulty.answers["difficulty"] == 3
    assert score("phq9", phq9_with_total(6, difficulty=None)).answers["difficulty"] is None
    assert score("phq9", phq9_with_total(6)).answers["difficulty"] is None


@pytest.mark.parametrize("bad", [True, False, 1.0, 2.5, "2", -1, 4])
def test_phq9_items_must_be_integers_0_to_3(bad):
    errors = errors_for("phq9", {**phq9_with_total(0), "item9": bad})
    assert list(errors) == ["item9"]
    assert "must be an integer from 0 to 3" in errors["item9"]


@pytest.mark.parametrize("bad", [4, True, "1", 1.5])
def test_phq9_difficulty_must_be_0_to_3(bad):
    errors = errors_for("phq9", phq9_with_total(3, difficulty=bad))
    assert list(errors) == ["difficulty"]


def test_phq9_reports_every_problem_at_once():
    answers = phq9_with_total(0)
    answers["item5"] = 7
    answers["item2"] = "1"
    answers["item10"] = 0
    errors = errors_for("phq9", answers)
    assert set(errors) == {"item5", "item2", "item10"}
    assert "from 0 to 3" in errors["item5"]
    assert "unknown answer key" in errors["item10"]


def test_phq9_metadata():
    phq9 = get_instrument("phq9")
    assert (phq9.minimum, phq9.maximum) == (0, 27)
    assert phq9.cutoff == 10
    assert phq9.mcid == 5
    assert (phq9.loinc_panel, phq9.loinc_total) == ("44249-1", "44261-6")
    assert [option.label.en for option in phq9.item("item1").options] == [
        "Not at all",
        "Several days",
        "More than half the days",
        "Nearly every day",
    ]
    assert phq9.item("item9").label.en.startswith("Thoughts that you would be better off dead")


# --- GAD-7 --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_band_boundaries(total, band):
    result = score("gad7", gad7_with_total(total))
    assert result.total == total
    assert result.band == band
    assert result.flags == ()


@pytest.mark.parametrize("bad", [True, 1.0, "3", None, 4, -1])
def test_gad7_items_must_be_integers_0_to_3(bad):
    errors = errors_for("gad7", {**gad7_with_total(0), "item3": bad})
    assert list(errors) == ["item3"]
    assert "must be an integer from 0 to 3" in errors["item3"]


def test_gad7_missing_and_unknown():
    answers = gad7_with_total(0)
    del answers["item7"]
    answers["item8"] = 1
    errors = errors_for("gad7", answers)
    assert set(errors) == {"item7", "item8"}


def test_gad7_difficulty_is_optional_and_not_scored():
    with_difficulty = score("gad7", {**gad7_with_total(6), "difficulty": 2})
    assert with_difficulty.total == 6
    assert with_difficulty.band == "mild"
    assert with_difficulty.answers["difficulty"] == 2
    assert score("gad7", {**gad7_with_total(6), "difficulty": None}).answers["difficulty"] is None
    assert score("gad7", gad7_with_total(6)).answers["difficulty"] is None
    # The follow-up never moves the total, whatever is answered.
    for value in range(4):
        assert score("gad7", {**gad7_with_total(21), "difficulty": value}).total == 21


def test_gad7_difficulty_item_follows_the_items():
    gad7 = get_instrument("gad7")
    difficulty = gad7.items[-1]
    assert difficulty.key == "difficulty"
    assert (difficulty.required, difficulty.nullable) == (False, True)
    assert [option.value for option in difficulty.options] == [0, 1, 2, 3]
    assert all(option.score == 0 for option in difficulty.options)
    assert difficulty.label.en.startswith("If you checked off any problems")
    assert difficulty.label.zh_hans


@pytest.mark.parametrize("bad", [4, -1, "2", True, 1.5])
def test_gad7_difficulty_must_be_0_to_3(bad):
    errors = errors_for("gad7", {**gad7_with_total(3), "difficulty": bad})
    assert list(errors) == ["difficulty"]


def test_gad7_metadata():
    gad7 = get_instrument("gad7")
    assert (gad7.minimum, gad7.maximum) == (0, 21)
    assert gad7.cutoff == 10
    assert gad7.mcid == 4
    assert (gad7.loinc_panel, gad7.loinc_total) == ("69737-5", "70274-6")


# --- ODI ----------------------------------------------------------------------------------


def test_odi_all_zero_and_maximum():
    zero = score("odi", odi_sections([0] * 10))
    assert (zero.total, zero.band) == (0.0, "minimal")
    assert zero.detail == {"raw": 0, "answered": 10, "percent": 0.0, "skipped": []}
    top = score("odi", odi_sections([5] * 10))
    assert (top.total, top.band) == (100.0, "bed_bound")


@pytest.mark.parametrize(
    ("raw", "percent", "band"),
    [
        (10, 20.0, "minimal"),
        (11, 22.0, "moderate"),
        (20, 40.0, "moderate"),
        (21, 42.0, "severe"),
        (30, 60.0, "severe"),
        (31, 62.0, "crippled"),
        (40, 80.0, "crippled"),
        (41, 82.0, "bed_bound"),
    ],
)
def test_odi_band_boundaries_all_answered(raw, percent, band):
    values = [min(5, max(0, raw - 5 * index)) for index in range(10)]
    assert sum(values) == raw
    result = score("odi", odi_sections(values))
    assert result.total == percent
    assert result.band == band
    assert result.detail["raw"] == raw


def test_odi_one_skipped_section_reduces_the_denominator():
    result = score("odi", odi_sections([1, 1, 1, 1, 1, 1, 1, None, 1, 1]))
    assert result.total == 20.0  # 9 / 45
    assert result.band == "minimal"
    assert result.detail == {
        "raw": 9,
        "answered": 9,
        "percent": 20.0,
        "skipped": ["section8"],
    }
    assert result.answers["section8"] is None

    ten_of_45 = score("odi", odi_sections([1, 1, 1, 1, 1, 1, 1, None, 1, 2]))
    assert ten_of_45.total == 22.2
    one_of_45 = score("odi", odi_sections([1, 0, 0, 0, 0, 0, 0, None, 0, 0]))
    assert one_of_45.total == 2.2


@pytest.mark.parametrize(
    "values",
    [
        [2, 2, 2, 2, 2, 2, 2, None, 2, ...],
        [2, 2, 2, 2, 2, 2, 2, None, 2, None],
        [None, None, None, 1, 1, 1, 1, 1, 1, 1],
        [..., ..., ..., 1, 1, 1, 1, 1, 1, 1],
        [1, None, 1, ..., 1, 1, 1, None, 1, 1],
        [3, ..., ..., ..., ..., ..., ..., ..., ..., ...],
    ],
)
def test_odi_more_than_one_skipped_is_stored_incomplete(values):
    # The published scoring note covers one missing section (score / 45); with more the
    # answers are kept but no percentage is made up from them.
    result = score("odi", odi_sections(values))
    answered = [v for v in values if v is not None and v is not ...]
    assert result.total is None
    assert result.band is None
    assert result.flags == ()
    assert result.detail["incomplete"] is True
    assert result.detail["answered"] == len(answered)
    assert result.detail["raw"] == sum(answered)
    assert len(result.detail["skipped"]) == 10 - len(answered)
    assert len(result.answers) == 10
    assert all(result.answers[key] is None for key in result.detail["skipped"])


def test_odi_one_skipped_is_scored_not_incomplete():
    result = score("odi", odi_sections([2, 2, 2, 2, 2, 2, 2, 2, 2, ...]))
    assert result.total == 40.0  # 18 / 45
    assert "incomplete" not in result.detail


@pytest.mark.parametrize("values", [[None] * 10, [...] * 10, [None, ...] * 5])
def test_odi_nothing_answered_is_rejected(values):
    errors = errors_for("odi", odi_sections(values))
    assert list(errors) == ["__all__"]
    assert "no section was answered" in errors["__all__"]


@pytest.mark.parametrize("bad", [True, 2.0, "3", 6, -1, [1]])
def test_odi_sections_must_be_integers_0_to_5_or_null(bad):
    errors = errors_for("odi", odi_sections([1] * 9 + [bad]))
    assert list(errors) == ["section10"]
    assert "must be an integer from 0 to 5" in errors["section10"]


def test_odi_unknown_key():
    errors = errors_for("odi", {**odi_sections([1] * 10), "section11": 1})
    assert list(errors) == ["section11"]


def test_odi_metadata():
    odi = get_instrument("odi")
    assert (odi.minimum, odi.maximum, odi.unit) == (0, 100, "%")
    assert odi.mcid == 10
    assert odi.higher_is_worse is True
    assert [band.code for band in odi.bands] == [
        "minimal",
        "moderate",
        "severe",
        "crippled",
        "bed_bound",
    ]
    assert odi.band_for(20.5).code == "moderate"  # ">20-40"


# --- thermal ------------------------------------------------------------------------------


def roi(region, left_c, right_c):
    return {"region": region, "left_c": left_c, "right_c": right_c}


def test_thermal_symmetric_reading():
    result = score("thermal", thermal())
    assert result.total == 0.2
    assert result.band == "symmetric"
    assert result.flags == ()
    assert result.detail == {
        "rois": [{"region": "L5 dermatome", "left_c": 31.0, "right_c": 31.2, "delta_c": -0.2}],
        "max_abs_delta_c": 0.2,
        "measurement_issues": [],
    }


def test_thermal_delta_exactly_one_degree_flags():
    result = score("thermal", thermal([roi("foot", 33.1, 32.1)]))
    assert result.detail["rois"][0]["delta_c"] == 1.0
    assert result.total == 1.0
    assert result.band == "asymmetric"
    assert result.flags == (FLAG_THERMAL_ASYMMETRY,)


def test_thermal_delta_one_degree_flags_despite_binary_float_error():
    # 32.3 - 31.3 == 0.9999999999999964 in binary floating point.
    result = score("thermal", thermal([roi("calf", 32.3, 31.3)]))
    assert result.total == 1.0
    assert result.flags == (FLAG_THERMAL_ASYMMETRY,)


def test_thermal_delta_0_99_does_not_flag():
    result = score("thermal", thermal([roi("foot", 33.09, 32.1)]))
    assert result.total == 0.99
    assert result.band == "symmetric"
    assert result.flags == ()


def test_thermal_delta_is_affected_minus_contralateral():
    cooler_right = score("thermal", thermal([roi("thigh", 32.0, 31.0)], affected_side="right"))
    assert cooler_right.detail["rois"][0]["delta_c"] == -1.0
    assert cooler_right.total == 1.0
    assert cooler_right.flags == (FLAG_THERMAL_ASYMMETRY,)

    near = score("thermal", thermal([roi("thigh", 32.0, 31.01)], affected_side="right"))
    assert near.detail["rois"][0]["delta_c"] == -0.99
    assert near.flags == ()


def test_thermal_delta_rounds_half_up_to_hundredths():
    assert score("thermal", thermal([roi("toe", 30.005, 30.0)])).total == 0.01


def test_thermal_total_is_largest_absolute_delta():
    result = score(
        "thermal",
        thermal([roi("back", 33.0, 33.4), roi("thigh", 31.0, 32.5), roi("foot", 29.0, 28.2)]),
    )
    assert [entry["delta_c"] for entry in result.detail["rois"]] == [-0.4, -1.5, 0.8]
    assert result.total == 1.5
    assert result.detail["max_abs_delta_c"] == 1.5
    assert result.flags == (FLAG_THERMAL_ASYMMETRY,)


@pytest.mark.parametrize(
    ("ambient_c", "acclimatisation_min", "issues"),
    [
        (17.9, 15, ["ambient_out_of_range"]),
        (18.0, 15, []),
        (25.0, 15, []),
        (25.1, 15, ["ambient_out_of_range"]),
        (22.0, 14, ["acclimatisation_too_short"]),
        (22.0, 0, ["acclimatisation_too_short"]),
        (30, 5, ["ambient_out_of_range", "acclimatisation_too_short"]),
    ],
)
def test_thermal_measurement_conditions(ambient_c, acclimatisation_min, issues):
    result = score("thermal", thermal(ambient_c=ambient_c, acclimatisation_min=acclimatisation_min))
    assert result.detail["measurement_issues"] == issues
    assert (FLAG_MEASUREMENT_CONDITIONS in result.flags) is bool(issues)


def test_thermal_both_flags():
    result = score("thermal", thermal([roi("foot", 34.0, 32.0)], ambient_c=26.0))
    assert result.flags == (FLAG_THERMAL_ASYMMETRY, FLAG_MEASUREMENT_CONDITIONS)


def test_thermal_normalises_region_names():
    result = score("thermal", thermal([roi("  L5 dermatome ", 31.0, 31.0)]))
    assert result.answers["rois"] == [{"region": "L5 dermatome", "left_c": 31.0, "right_c": 31.0}]


@pytest.mark.parametrize(
    ("answers", "path"),
    [
        (thermal([roi("foot", 14.9, 30.0)]), "rois[0].left_c"),
        (
            thermal([roi("foot", 30.0, 30.0), roi("calf", 30.0, 45.1)]),
            "rois[1].right_c",
        ),
        (thermal([roi("foot", True, 30.0)]), "rois[0].left_c"),
        (thermal([roi("foot", "31.0", 30.0)]), "rois[0].left_c"),
        (thermal([roi("foot", math.nan, 30.0)]), "rois[0].left_c"),
        (thermal([roi("foot", 30.0, None)]), "rois[0].right_c"),
        (thermal([{"region": "foot", "left_c": 30.0}]), "rois[0].right_c"),
        (thermal([roi("", 30.0, 30.0)]), "rois[0].region"),
        (thermal([roi("   ", 30.0, 30.0)]), "rois[0].region"),
        (thermal([roi("x" * 65, 30.0, 30.0)]), "rois[0].region"),
        (thermal([roi(7, 30.0, 30.0)]), "rois[0].region"),
        (
            thermal([roi("Foot", 30.0, 30.0), roi("foot ", 31.0, 31.0)]),
            "rois[1].region",
        ),
        (thermal([{**roi("foot", 30.0, 30.0), "mean_c": 30.0}]), "rois[0].mean_c"),
        (thermal(["foot"]), "rois[0]"),
        (thermal([]), "rois"),
        (thermal([roi(f"r{n}", 30.0, 30.0) for n in range(51)]), "rois"),
        (thermal({"region": "foot"}), "rois"),
        (thermal(ambient_c=45.1), "ambient_c"),
        (thermal(ambient_c=-1), "ambient_c"),
        (thermal(ambient_c="22"), "ambient_c"),
        (thermal(acclimatisation_min=15.0), "acclimatisation_min"),
        (thermal(acclimatisation_min=241), "acclimatisation_min"),
        (thermal(acclimatisation_min=True), "acclimatisation_min"),
        (thermal(affected_side="both"), "affected_side"),
        (thermal(affected_side="Left"), "affected_side"),
        (thermal(camera="FLIR"), "camera"),
    ],
)
def test_thermal_rejects_bad_answers_with_field_path(answers, path):
    assert list(errors_for("thermal", answers)) == [path]


def test_thermal_missing_keys_are_each_named():
    errors = errors_for("thermal", {})
    assert set(errors) == {"rois", "ambient_c", "acclimatisation_min", "affected_side"}


def test_thermal_accepts_fifty_rois_and_integer_temperatures():
    result = score("thermal", thermal([roi(f"r{n}", 30, 30) for n in range(50)]))
    assert len(result.detail["rois"]) == 50
    assert result.total == 0


def test_thermal_temperature_error_names_the_range():
    errors = errors_for("thermal", thermal([roi("foot", 50.0, 30.0)]))
    assert "from 15 to 45" in errors["rois[0].left_c"]


def test_thermal_metadata():
    instrument = get_instrument("thermal")
    assert instrument.unit == "Cel"
    assert instrument.loinc_panel is None
    assert [band.code for band in instrument.bands] == ["symmetric", "asymmetric"]
    assert instrument.band_for(0.99).code == "symmetric"
    assert instrument.band_for(1.0).code == "asymmetric"
