"""Unit tests for therapies.modalities: the modality catalogue and its safety limits.

Every Limit in the catalogue is tested automatically: a value exactly at the limit is
accepted, and the smallest representable step above it (and a clinically small step)
is refused with a Violation naming the limit. Derived limits (tDCS charge and current
density) are checked on hand-computed doses.
"""

from __future__ import annotations

import json
import math

import pytest

from therapies.modalities import (
    DREZ_CONTRAINDICATIONS,
    DREZ_FOLLOW_UP_ITEMS,
    FIRST_LINE_DRUGS,
    HEMISPHERES,
    MODALITIES,
    CandidacyCheck,
    Check,
    Limit,
    Modality,
    Text,
    check_parameters,
    drez_candidacy,
    get_modality,
    opposite_side,
)

# A valid, within-limits parameter set for every modality.
BASE: dict[str, dict[str, object]] = {
    "tdcs": {
        "anode_site": "M1",
        "cathode_site": "contralateral_supraorbital",
        "current_ma": 2,
        "duration_min": 20,
        "electrode_cm2": 35,
    },
    "rtms": {
        "site": "left_DLPFC",
        "hemisphere": "left",
        "frequency_hz": 10,
        "intensity_pct_rmt": 80,
        "pulses": 1500,
        "contraindication_screen_done": True,
    },
    "exercise": {
        "type": "core_stabilisation",
        "sets": 3,
        "reps": 10,
        "minutes": 30,
        "rpe": 13,
        "sessions_per_week": 3,
    },
    "manual_therapy": {"technique": "mobilisation", "region": "L4-L5", "minutes": 20},
    "acupuncture": {
        "style": "wrist_ankle",
        "points": "lower 5, lower 6",
        "needles": 4,
        "minutes": 30,
    },
    "tens": {
        "mode": "conventional",
        "frequency_hz": 100,
        "pulse_width_us": 100,
        "intensity_ma": 20,
        "minutes": 30,
    },
    "pns": {
        "term": "short_term",
        "target": "peripheral_nerve",
        "nerve": "common peroneal",
        "frequency_hz": 50,
        "pulse_width_us": 100,
        "amplitude_ma": 2,
    },
    "hydrodissection": {
        "nerve": "common peroneal",
        "guidance": "ultrasound",
        "injectate": "dextrose_5pct",
        "volume_ml": 5,
        "injection_number": 1,
    },
    "physical_agents": {"agent": "heat", "minutes": 20},
    "medication": {"drug": "pregabalin", "daily_dose_mg": 150, "response": "partial"},
    "drez_referral": {
        "course_months": 12,
        "vas_mm": 70,
        "age_years": 45,
        "first_line_drugs_tried": True,
        "phq9_assessed": True,
        "gad7_assessed": True,
        "contraindications": "",
    },
}

# Hand-computed doses for limits on derived fields: (at the limit, just above it).
DERIVED_CASES: dict[tuple[str, str], tuple[dict[str, object], dict[str, object]]] = {
    # 3 mA x 40 min x 60 s / 1000 = 7.2 C; 3.01 mA x 40 min = 7.224 C.
    ("tdcs", "charge"): (
        {"current_ma": 3, "duration_min": 40, "electrode_cm2": 35},
        {"current_ma": 3.01, "duration_min": 40, "electrode_cm2": 35},
    ),
    # 2 mA / 20 cm2 = 0.1 mA/cm2; 2 mA / 19.9 cm2 = 0.1005 mA/cm2.
    ("tdcs", "current_density"): (
        {"current_ma": 2, "duration_min": 20, "electrode_cm2": 20},
        {"current_ma": 2, "duration_min": 20, "electrode_cm2": 19.9},
    ),
}

PUBLIC_CODES = {
    "tdcs",
    "rtms",
    "exercise",
    "manual_therapy",
    "acupuncture",
    "tens",
    "pns",
    "hydrodissection",
    "physical_agents",
    "medication",
    "drez_referral",
}


def _all_limits() -> list[tuple[Modality, Limit]]:
    return [(m, limit) for m in MODALITIES.values() for limit in m.limits]


def _direct_numeric() -> list[tuple[Modality, Limit]]:
    return [
        (m, limit)
        for m, limit in _all_limits()
        if not limit.allowed and not limit.opposite_to and limit.param in {p.key for p in m.params}
    ]


def _derived() -> list[tuple[Modality, Limit]]:
    return [(m, limit) for m, limit in _all_limits() if limit.param not in {p.key for p in m.params}]


def _categorical() -> list[tuple[Modality, Limit]]:
    return [(m, limit) for m, limit in _all_limits() if limit.allowed]


def _ids(pairs: list[tuple[Modality, Limit]]) -> list[str]:
    return [f"{m.code}.{limit.code}" for m, limit in pairs]


def _params_for(modality: Modality, limit: Limit, value: object) -> dict[str, object]:
    params = dict(BASE[modality.code])
    if limit.when is not None:
        params[limit.when[0]] = limit.when[1]
    params[limit.param] = value
    return params


def _codes(check: Check) -> set[str]:
    return {v.code for v in check.violations}


def _assert_violation_names_limit(check: Check, limit: Limit, value: float) -> None:
    assert check.errors == {}
    matching = [v for v in check.violations if v.code == limit.code]
    assert len(matching) == 1, check.violations
    violation = matching[0]
    assert violation.field == limit.param
    assert violation.limit == limit.maximum
    assert violation.unit == limit.unit
    assert violation.value == pytest.approx(value)
    assert f"{limit.maximum:g} {limit.unit}" in violation.message
    assert limit.param in violation.message
    assert limit.source in violation.message
    assert not check.ok


# ---------------------------------------------------------------------------
# Catalogue shape
# ---------------------------------------------------------------------------


def test_public_codes_and_layers():
    assert set(MODALITIES) == PUBLIC_CODES
    assert {c for c, m in MODALITIES.items() if m.layer == "central"} == {
        "tdcs",
        "rtms",
    }
    for code, modality in MODALITIES.items():
        assert modality.code == code
        assert get_modality(code) is modality


def test_get_modality_unknown_raises_key_error():
    with pytest.raises(KeyError):
        get_modality("ect")


def test_base_fixture_covers_every_modality_and_passes():
    assert set(BASE) == set(MODALITIES)
    for code, params in BASE.items():
        check = check_parameters(code, params)
        assert check.ok, (code, check)


@pytest.mark.parametrize("code", sorted(PUBLIC_CODES))
def test_as_dict_is_json_and_bilingual(code):
    data = MODALITIES[code].as_dict()
    round_tripped = json.loads(json.dumps(data, ensure_ascii=False))
    assert round_tripped["code"] == code
    assert set(round_tripped) >= {
        "code",
        "layer",
        "name",
        "params",
        "limits",
        "evidence",
    }
    assert set(round_tripped["name"]) == {"en", "zh-hans"}
    assert round_tripped["evidence"]["en"]
    assert round_tripped["evidence"]["zh-hans"]
    for param in round_tripped["params"]:
        assert param["label"]["en"]
        assert param["label"]["zh-hans"]
        for choice in param["choices"]:
            assert choice["label"]["zh-hans"]
    for limit in round_tripped["limits"]:
        assert limit["source"]
        assert limit["description"]["zh-hans"]


def test_text_as_dict_uses_hyphenated_language_code():
    assert Text("Pain", "疼痛").as_dict() == {"en": "Pain", "zh-hans": "疼痛"}


@pytest.mark.parametrize(("modality", "limit"), _all_limits(), ids=_ids(_all_limits()))
def test_every_limit_is_consistent_with_its_schema(modality, limit):
    keys = {p.key for p in modality.params}
    derived_keys = {p.key for p in modality.derived_params}
    assert limit.param in keys | derived_keys
    assert limit.source
    assert limit.description.en
    assert limit.description.zh_hans
    if limit.when is not None:
        assert limit.when[1] in modality.param(limit.when[0]).choices
    if limit.allowed:
        assert set(limit.allowed) <= set(modality.param(limit.param).choices)
    elif limit.opposite_to:
        assert {"left", "right"} <= set(modality.param(limit.param).choices)
    elif limit.param in keys:
        param = modality.param(limit.param)
        # A safety limit must sit strictly inside the hard validity range,
        # otherwise exceeding it would be an error, not an overridable violation.
        assert param.maximum is None or limit.maximum < param.maximum
        assert param.minimum is None or limit.maximum > param.minimum


def test_limit_codes_are_unique_within_a_modality():
    for modality in MODALITIES.values():
        codes = [limit.code for limit in modality.limits]
        assert len(codes) == len(set(codes)), modality.code


def test_every_derived_limit_has_a_hand_computed_case():
    assert {(m.code, limit.code) for m, limit in _derived()} == set(DERIVED_CASES)


# ---------------------------------------------------------------------------
# Every limit: at the limit accepted, just above refused
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(("modality", "limit"), _direct_numeric(), ids=_ids(_direct_numeric()))
def test_value_at_limit_is_accepted(modality, limit):
    param = modality.param(limit.param)
    at = int(limit.maximum) if param.kind == "integer" else limit.maximum
    check = check_parameters(modality.code, _params_for(modality, limit, at))
    assert check.errors == {}
    assert limit.code not in _codes(check)


@pytest.mark.parametrize(("modality", "limit"), _direct_numeric(), ids=_ids(_direct_numeric()))
def test_value_just_above_limit_is_refused(modality, limit):
    param = modality.param(limit.param)
    if param.kind == "integer":
        steps = [int(limit.maximum) + 1]
    else:
        # The next representable float above the limit, and a clinically small step.
        steps = [math.nextafter(limit.maximum, math.inf), limit.maximum + 0.01]
    for over in steps:
        check = check_parameters(modality.code, _params_for(modality, limit, over))
        _assert_violation_names_limit(check, limit, over)


@pytest.mark.parametrize(("modality", "limit"), _derived(), ids=_ids(_derived()))
def test_derived_limit_at_and_above(modality, limit):
    at, over = DERIVED_CASES[(modality.code, limit.code)]
    accepted = check_parameters(modality.code, {**BASE[modality.code], **at})
    assert accepted.errors == {}
    assert accepted.derived[limit.param] == pytest.approx(limit.maximum)
    assert limit.code not in _codes(accepted)

    refused = check_parameters(modality.code, {**BASE[modality.code], **over})
    _assert_violation_names_limit(refused, limit, refused.derived[limit.param])


@pytest.mark.parametrize(("modality", "limit"), _categorical(), ids=_ids(_categorical()))
def test_categorical_rule(modality, limit):
    for choice in modality.param(limit.param).choices:
        check = check_parameters(modality.code, _params_for(modality, limit, choice))
        assert check.errors == {}
        if choice in limit.allowed:
            assert limit.code not in _codes(check)
        else:
            [violation] = [v for v in check.violations if v.code == limit.code]
            assert violation.field == limit.param
            assert choice in violation.message
            assert limit.source in violation.message


@pytest.mark.parametrize(
    ("modality", "limit"),
    [(m, limit) for m, limit in _direct_numeric() if limit.when is not None],
    ids=_ids([(m, limit) for m, limit in _direct_numeric() if limit.when is not None]),
)
def test_conditional_limit_does_not_apply_to_other_choices(modality, limit):
    other = next(c for c in modality.param(limit.when[0]).choices if c != limit.when[1])
    params = _params_for(modality, limit, limit.maximum * 2)
    params[limit.when[0]] = other
    assert limit.code not in _codes(check_parameters(modality.code, params))


# ---------------------------------------------------------------------------
# Hand-computed tDCS cases and message wording
# ---------------------------------------------------------------------------


def test_tdcs_charge_hand_computed():
    ok = check_parameters("tdcs", {**BASE["tdcs"], "current_ma": 3, "duration_min": 40})
    assert ok.derived["charge_c"] == 7.2
    assert ok.ok

    over = check_parameters("tdcs", {**BASE["tdcs"], "current_ma": 3.01, "duration_min": 40})
    assert over.derived["charge_c"] == pytest.approx(7.224)
    assert _codes(over) == {"charge"}
    [violation] = over.violations
    assert violation.field == "charge_c"
    assert "7.224 C exceeds the tDCS limit of 7.2 C" in violation.message


def test_tdcs_typical_clbp_protocol_is_within_limits():
    # Anodal M1, 2 mA for 20 min over 35 cm2 sponges (central-mechanisms review).
    check = check_parameters("tdcs", BASE["tdcs"])
    assert check.ok
    assert check.derived["charge_c"] == 2.4
    assert check.derived["current_density_ma_cm2"] == pytest.approx(2 / 35)


def test_tdcs_current_message_names_limit_and_source():
    check = check_parameters("tdcs", {**BASE["tdcs"], "current_ma": 4.5})
    current = next(v for v in check.violations if v.code == "current")
    assert current.message.startswith(
        "current_ma 4.5 mA exceeds the tDCS limit of 4 mA per session (Bikson et al. 2016"
    )


def test_medication_cap_is_per_drug():
    gaba = check_parameters("medication", {"drug": "gabapentin", "daily_dose_mg": 3600})
    assert gaba.ok
    pregabalin = check_parameters("medication", {"drug": "pregabalin", "daily_dose_mg": 3600})
    [violation] = pregabalin.violations
    assert violation.code == "daily_dose_pregabalin"
    assert "pregabalin limit of 600 mg per day" in violation.message


def test_medication_first_line_is_derived():
    assert set(FIRST_LINE_DRUGS) == {
        "gabapentin",
        "pregabalin",
        "carbamazepine",
        "oxcarbazepine",
        "amitriptyline",
    }
    first = check_parameters("medication", {"drug": "amitriptyline", "daily_dose_mg": 25})
    assert first.derived == {"first_line": 1.0}
    other = check_parameters("medication", {"drug": "duloxetine", "daily_dose_mg": 60})
    assert other.derived == {"first_line": 0.0}


def test_topical_medication_needs_no_daily_dose():
    check = check_parameters("medication", {"drug": "lidocaine_topical", "patches": 3})
    assert check.ok


# ---------------------------------------------------------------------------
# Malformed input: errors naming the field, never an exception
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "field", "value"),
    [
        ("tdcs", "current_ma", True),
        ("tdcs", "current_ma", False),
        ("tdcs", "current_ma", "2"),
        ("tdcs", "current_ma", -1),
        ("tdcs", "current_ma", 0),
        ("tdcs", "current_ma", 10.5),
        ("tdcs", "current_ma", math.nan),
        ("tdcs", "current_ma", math.inf),
        ("tdcs", "current_ma", [2]),
        ("tdcs", "electrode_cm2", 0),
        ("tdcs", "anode_site", "m1"),
        ("tdcs", "anode_site", 1),
        ("rtms", "pulses", 1500.5),
        ("rtms", "pulses", True),
        ("rtms", "contraindication_screen_done", "yes"),
        ("rtms", "contraindication_screen_done", 1),
        ("exercise", "rpe", 5),
        ("exercise", "rpe", 21),
        ("exercise", "sets", -1),
        ("acupuncture", "needles", 41),
        ("acupuncture", "points", "   "),
        ("acupuncture", "points", 7),
        ("manual_therapy", "region", "x" * 201),
        ("hydrodissection", "volume_ml", 0),
        ("hydrodissection", "volume_ml", 31),
        ("medication", "daily_dose_mg", -50),
        ("drez_referral", "vas_mm", 101),
        ("drez_referral", "age_years", 30.5),
        ("drez_referral", "phq9_assessed", "true"),
    ],
)
def test_malformed_value_is_an_error_naming_the_field(code, field, value):
    check = check_parameters(code, {**BASE[code], field: value})
    assert set(check.errors) == {field}
    assert field in check.errors[field]
    assert field not in check.params
    assert not check.ok


@pytest.mark.parametrize("code", sorted(PUBLIC_CODES))
def test_missing_required_parameters_are_errors(code):
    modality = MODALITIES[code]
    required = {p.key for p in modality.params if p.required}
    check = check_parameters(code, {})
    assert set(check.errors) == required
    for key in required:
        assert key in check.errors[key]


@pytest.mark.parametrize("code", sorted(PUBLIC_CODES))
def test_none_for_required_parameter_is_missing(code):
    modality = MODALITIES[code]
    key = next(p.key for p in modality.params if p.required)
    check = check_parameters(code, {**BASE[code], key: None})
    assert set(check.errors) == {key}


def test_optional_parameter_may_be_omitted():
    params = {k: v for k, v in BASE["exercise"].items() if k not in {"sets", "reps", "rpe"}}
    check = check_parameters("exercise", params)
    assert check.ok
    assert "rpe" not in check.params


def test_unknown_key_is_an_error_naming_it():
    check = check_parameters("tdcs", {**BASE["tdcs"], "voltage_v": 9})
    assert set(check.errors) == {"voltage_v"}
    assert "voltage_v" in check.errors["voltage_v"]


def test_unknown_modality():
    check = check_parameters("ect", BASE["tdcs"])
    assert set(check.errors) == {"modality"}
    assert "ect" in check.errors["modality"]
    assert not check.ok


@pytest.mark.parametrize("params", [None, [], "current_ma=2", 2, ("a", 1)])
def test_parameters_not_an_object(params):
    check = check_parameters("tdcs", params)
    assert set(check.errors) == {"parameters"}


def test_non_string_key_is_an_error():
    check = check_parameters("tdcs", {**BASE["tdcs"], 1: 2})
    assert "parameters" in check.errors


def test_bad_field_does_not_hide_other_limits():
    check = check_parameters("tdcs", {**BASE["tdcs"], "anode_site": "nose", "current_ma": 5})
    assert set(check.errors) == {"anode_site"}
    assert "current" in _codes(check)
    assert check.derived == {}


def test_rtms_screening_false_is_an_error_not_a_violation():
    check = check_parameters("rtms", {**BASE["rtms"], "contraindication_screen_done": False})
    assert set(check.errors) == {"contraindication_screen_done"}
    assert check.violations == ()


def test_oral_drug_without_daily_dose_is_an_error():
    check = check_parameters("medication", {"drug": "carbamazepine"})
    assert set(check.errors) == {"daily_dose_mg"}


def test_normalisation():
    check = check_parameters("rtms", {**BASE["rtms"], "pulses": 1500.0, "frequency_hz": 10})
    assert check.params["pulses"] == 1500
    assert isinstance(check.params["pulses"], int)
    assert isinstance(check.params["frequency_hz"], float)
    text = check_parameters("manual_therapy", {**BASE["manual_therapy"], "region": " L5 "})
    assert text.params["region"] == "L5"


def test_check_as_dict_is_json():
    check = check_parameters("tdcs", {**BASE["tdcs"], "current_ma": 5})
    data = json.loads(json.dumps(check.as_dict(), ensure_ascii=False))
    assert data["ok"] is False
    assert {v["code"] for v in data["violations"]} >= {"current"}


# ---------------------------------------------------------------------------
# DREZ candidacy
# ---------------------------------------------------------------------------

CANDIDATE = {
    "course_months": 6,
    "vas_mm": 70,
    "age_years": 45,
    "first_line_drugs_tried": True,
    "phq9_assessed": True,
    "gad7_assessed": True,
    "contraindications": (),
}


def _failed(**changes: object) -> set[str]:
    checks = drez_candidacy(**{**CANDIDATE, **changes})
    return {c.code for c in checks if not c.passed}


def test_drez_candidate_passes_every_criterion():
    checks = drez_candidacy(**CANDIDATE)
    assert all(isinstance(c, CandidacyCheck) for c in checks)
    assert {c.code for c in checks} == {
        "course",
        "first_line_drugs",
        "pain_intensity",
        "age",
        "mood_assessed",
        "contraindications",
    }
    assert all(c.passed for c in checks)
    for c in checks:
        assert c.message.en
        assert c.message.zh_hans


@pytest.mark.parametrize(
    ("changes", "failed"),
    [
        ({"course_months": 3}, set()),
        ({"course_months": 2.9}, {"course"}),
        ({"vas_mm": 50}, set()),
        ({"vas_mm": 49.5}, {"pain_intensity"}),
        ({"age_years": 18}, set()),
        ({"age_years": 17}, {"age"}),
        ({"first_line_drugs_tried": False}, {"first_line_drugs"}),
        ({"phq9_assessed": False}, {"mood_assessed"}),
        ({"gad7_assessed": False}, {"mood_assessed"}),
        ({"contraindications": ["coagulation_disorder"]}, {"contraindications"}),
        (
            {
                "course_months": 1,
                "vas_mm": 30,
                "contraindications": list(DREZ_CONTRAINDICATIONS),
            },
            {"course", "pain_intensity", "contraindications"},
        ),
    ],
)
def test_drez_candidacy_criteria(changes, failed):
    assert _failed(**changes) == failed


def test_drez_contraindication_message_names_it_in_both_languages():
    checks = drez_candidacy(**{**CANDIDATE, "contraindications": ["severe_psychiatric_disease"]})
    [contra] = [c for c in checks if c.code == "contraindications"]
    assert "psychiatric" in contra.message.en
    assert DREZ_CONTRAINDICATIONS["severe_psychiatric_disease"].zh_hans in contra.message.zh_hans


def test_drez_unknown_contraindication_raises():
    with pytest.raises(ValueError, match="pregnancy"):
        drez_candidacy(**{**CANDIDATE, "contraindications": ["pregnancy"]})


def test_drez_lists():
    assert set(DREZ_CONTRAINDICATIONS) == {
        "marked_cognitive_impairment",
        "severe_psychiatric_disease",
        "severe_cardiopulmonary_disease",
        "coagulation_disorder",
    }
    assert list(DREZ_FOLLOW_UP_ITEMS) == [
        "pain_relief",
        "new_adjacent_pain",
        "spinal_stability",
        "limb_function",
        "bladder_bowel_function",
    ]
    for label in DREZ_FOLLOW_UP_ITEMS.values():
        assert label.en
        assert label.zh_hans


def test_drez_referral_parameters_derive_candidacy():
    ok = check_parameters("drez_referral", BASE["drez_referral"])
    assert ok.derived == {"candidacy_met": 1.0}
    contra = check_parameters(
        "drez_referral",
        {
            **BASE["drez_referral"],
            "contraindications": "coagulation_disorder, marked_cognitive_impairment",
        },
    )
    assert contra.ok
    assert contra.derived == {"candidacy_met": 0.0}


def test_drez_referral_unknown_contraindication_is_an_error():
    check = check_parameters("drez_referral", {**BASE["drez_referral"], "contraindications": "pregnancy"})
    assert set(check.errors) == {"contraindications"}
    assert "pregnancy" in check.errors["contraindications"]


# --- rTMS target side ---------------------------------------------------------------------

RTMS_M1 = {**BASE["rtms"], "site": "M1"}


@pytest.mark.parametrize(("pain", "expected"), [("left", "right"), ("right", "left")])
def test_rtms_m1_opposite_the_pain_is_accepted(pain, expected):
    check = check_parameters("rtms", {**RTMS_M1, "hemisphere": expected}, context={"affected_side": pain})
    assert check.ok
    assert check.params["hemisphere"] == expected


@pytest.mark.parametrize(
    ("pain", "hemisphere"),
    [
        ("left", "left"),
        ("left", "bilateral"),
        ("left", "midline"),
        ("right", "right"),
        ("right", "bilateral"),
        ("right", "midline"),
    ],
)
def test_rtms_m1_other_than_opposite_the_pain_is_an_overridable_violation(pain, hemisphere):
    check = check_parameters("rtms", {**RTMS_M1, "hemisphere": hemisphere}, context={"affected_side": pain})
    assert check.errors == {}
    [violation] = check.violations
    assert (violation.field, violation.code) == ("hemisphere", "m1_contralateral")
    assert f"must be '{opposite_side(pain)}'" in violation.message
    assert f"{pain}-sided" in violation.message
    assert "Lefaucheur et al. 2020" in violation.message
    assert "Level A" in violation.message


@pytest.mark.parametrize("pain", ["bilateral", "none", None])
@pytest.mark.parametrize("hemisphere", ["left", "right", "bilateral", "midline"])
def test_rtms_side_is_a_free_documented_choice_without_one_sided_pain(pain, hemisphere):
    context = None if pain is None else {"affected_side": pain}
    check = check_parameters("rtms", {**RTMS_M1, "hemisphere": hemisphere}, context=context)
    assert check.ok
    assert check.params["hemisphere"] == hemisphere  # recorded as chosen


def test_rtms_side_rule_is_for_m1_only():
    check = check_parameters(
        "rtms", {**RTMS_M1, "site": "other", "hemisphere": "left"}, context={"affected_side": "left"}
    )
    assert check.ok


def test_rtms_left_dlpfc_is_left_whatever_the_pain():
    ok = check_parameters("rtms", {**BASE["rtms"], "hemisphere": "left"}, context={"affected_side": "left"})
    assert ok.ok
    for hemisphere in ("right", "bilateral", "midline"):
        check = check_parameters("rtms", {**BASE["rtms"], "hemisphere": hemisphere})
        assert set(check.errors) == {"hemisphere"}
        assert "left DLPFC" in check.errors["hemisphere"]
        assert check.violations == ()


@pytest.mark.parametrize("bad", [None, "", "Left", "both", 1, True])
def test_rtms_hemisphere_is_required_and_named(bad):
    params = {**RTMS_M1, "hemisphere": bad}
    if bad is None:
        del params["hemisphere"]
    check = check_parameters("rtms", params, context={"affected_side": "left"})
    assert set(check.errors) == {"hemisphere"}
    assert check.errors["hemisphere"].startswith("hemisphere ")


def test_opposite_side():
    assert opposite_side("left") == "right"
    assert opposite_side("right") == "left"
    assert opposite_side("bilateral") is None
    assert opposite_side("none") is None
    assert HEMISPHERES == ("left", "right", "bilateral", "midline")
    assert get_modality("rtms").param("hemisphere").choices == HEMISPHERES


def test_rtms_side_limit_in_the_catalogue():
    [limit] = [item for item in get_modality("rtms").as_dict()["limits"] if item["code"] == "m1_contralateral"]
    assert limit["param"] == "hemisphere"
    assert limit["opposite_to"] == "affected_side"
    assert limit["when"] == {"param": "site", "equals": "M1"}
    assert limit["maximum"] is None
    assert "Lefaucheur et al. 2020" in limit["source"]
    assert all(item["opposite_to"] is None for item in get_modality("tdcs").as_dict()["limits"])


def test_rtms_evidence_follows_the_guideline():
    evidence = get_modality("rtms").evidence
    assert "contralateral to the painful side for neuropathic pain" in evidence.en
    assert "Level A" in evidence.en
    assert "fibromyalgia" in evidence.en
    assert "no guideline level supports the left DLPFC for low back pain" in evidence.en
    assert "clinic policy" in evidence.en
    assert "纤维肌痛" in evidence.zh_hans
    assert "本机构规定" in evidence.zh_hans


@pytest.mark.parametrize("code", ["frequency", "intensity", "pulses"])
def test_rtms_numeric_caps_are_marked_clinic_policy(code):
    [limit] = [item for item in get_modality("rtms").limits if item.code == code]
    assert limit.source.startswith("Clinic policy")
    assert "Clinic" in limit.description.en
