"""Infrared thermography: left-right skin temperature asymmetry per region.

Answers::

    {"rois": [{"region": "L5 dermatome, dorsum of foot", "left_c": 30.4, "right_c": 31.6}, ...],
     "ambient_c": 22.5, "acclimatisation_min": 15, "affected_side": "left"}

For each region of interest (ROI), delta_c = affected side minus the
contralateral side, rounded half-up to 0.01 degC; a negative delta means the
affected side is cooler (typical of lumbosacral radiculopathy).  The total is
the largest |delta_c|, so a falling total tracks recovery of symmetry, which
the thermography review in shared/reference uses as an objective sign of
treatment effect.

Flags:
- ``thermal_asymmetry`` when any |delta_c| >= 1.0 degC, the temperature
  asymmetry sign used for CRPS (Budapest criteria, Harden 2010, word it
  as "> 1 degC"; this project's rule, from the reference README, flags at
  exactly 1.0).  Rounded deltas are compared with Decimal so that a reading
  of 33.1 vs 32.1 degC is exactly 1.00 and flags, whatever binary floats do.
- ``measurement_conditions`` when the room was outside 18-25 degC (inclusive
  range is acceptable) or the patient acclimatised for under 15 minutes:
  skin temperature follows room temperature and undressing, so such a
  reading is kept but must not be trusted for trend analysis
  (Ring EF, Ammer K. Infrared thermal imaging in medicine. Physiol Meas
  2012;33(3):R33-46 - standardised room and acclimatisation).

Temperatures outside 15-45 degC are rejected as implausible for skin (they
are almost always a mis-keyed value or a unit error such as degF).

Sources:
- Harden RN, Bruehl S, Perez RS, et al. Validation of proposed diagnostic
  criteria (the "Budapest Criteria") for Complex Regional Pain Syndrome.
  Pain 2010;150(2):268-74.
- Ring EF, Ammer K. Infrared thermal imaging in medicine. Physiol Meas
  2012;33(3):R33-46.
- LOINC 39106-0 "Temperature of Skin" suits the per-ROI left/right readings
  (exported as Observation components); there is no LOINC code for an
  asymmetry total, so ``loinc_total`` is ``None``.
"""

# zh-hans strings use full-width punctuation, which RUF001 mistakes for look-alikes.

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ._fields import (
    check_keys,
    describe,
    fmt,
    take_integer,
    take_number,
    take_text_choice,
)
from .base import (
    FLAG_MEASUREMENT_CONDITIONS,
    FLAG_THERMAL_ASYMMETRY,
    AnswerError,
    Band,
    Instrument,
    Item,
    Option,
    Result,
    Text,
    band_in,
)

LOINC_SKIN_TEMPERATURE = "39106-0"

SKIN_MIN_C = 15.0
SKIN_MAX_C = 45.0
AMBIENT_MIN_C = 0.0
AMBIENT_MAX_C = 45.0
ACCLIMATISATION_MAX_MIN = 240
MIN_ROIS = 1
MAX_ROIS = 50
REGION_MAX_LENGTH = 64

# Accepted measurement conditions; outside them the reading is flagged, not rejected.
AMBIENT_OK_LOW_C = 18.0
AMBIENT_OK_HIGH_C = 25.0
ACCLIMATISATION_OK_MIN = 15

ASYMMETRY_C = Decimal("1.00")
_HUNDREDTH = Decimal("0.01")

SIDES = ("left", "right")
TOP_KEYS = ("rois", "ambient_c", "acclimatisation_min", "affected_side")
ROI_KEYS = ("region", "left_c", "right_c")

MINIMUM = 0.0
# The largest |delta| possible within the accepted skin range.
MAXIMUM = SKIN_MAX_C - SKIN_MIN_C

BANDS = (
    Band(
        "symmetric",
        0.0,
        0.99,
        Text("Symmetric (|delta T| < 1.0 degC)", "左右对称（|ΔT| < 1.0 °C）"),
    ),
    Band(
        "asymmetric",
        1.0,
        MAXIMUM,
        Text("Asymmetric (|delta T| >= 1.0 degC)", "左右不对称（|ΔT| ≥ 1.0 °C）"),
    ),
)

ITEMS = (
    Item(
        "rois",
        Text(
            f"Regions of interest: name (at most {REGION_MAX_LENGTH} characters, unique) with left and right skin "
            f"temperature in degC ({fmt(SKIN_MIN_C)}-{fmt(SKIN_MAX_C)}); {MIN_ROIS} to {MAX_ROIS} regions.",
            f"感兴趣区：名称（最多 {REGION_MAX_LENGTH} 个字符，不可重复）及左、右侧皮肤温度（°C，"
            f"{fmt(SKIN_MIN_C)}-{fmt(SKIN_MAX_C)}）；{MIN_ROIS} 至 {MAX_ROIS} 个区域。",
        ),
        "rois",
        minimum=SKIN_MIN_C,
        maximum=SKIN_MAX_C,
    ),
    Item(
        "ambient_c",
        Text("Room temperature (degC)", "室温（°C）"),
        "number",
        minimum=AMBIENT_MIN_C,
        maximum=AMBIENT_MAX_C,
    ),
    Item(
        "acclimatisation_min",
        Text("Acclimatisation time before imaging (minutes)", "成像前适应时间（分钟）"),
        "integer",
        minimum=0,
        maximum=ACCLIMATISATION_MAX_MIN,
    ),
    Item(
        "affected_side",
        Text("Affected side", "患侧"),
        "choice_text",
        options=(
            Option("left", Text("Left", "左侧"), 0.0),
            Option("right", Text("Right", "右侧"), 0.0),
        ),
    ),
)


def _delta(affected: float, contralateral: float) -> Decimal:
    # repr() gives the shortest decimal that round-trips, i.e. what the
    # clinician typed, so 33.1 - 32.1 is exactly 1.00 rather than 1.0000000000000036.
    difference = Decimal(repr(affected)) - Decimal(repr(contralateral))
    return difference.quantize(_HUNDREDTH, rounding=ROUND_HALF_UP)


def _take_rois(answers: Mapping[str, Any], errors: dict[str, str]) -> list[tuple[str, float, float]]:
    if "rois" not in answers:
        errors["rois"] = f"is required and must be a list of {MIN_ROIS} to {MAX_ROIS} regions"
        return []
    rois = answers["rois"]
    if not isinstance(rois, list | tuple) or not MIN_ROIS <= len(rois) <= MAX_ROIS:
        errors["rois"] = f"must be a list of {MIN_ROIS} to {MAX_ROIS} regions (got {describe(rois)})"
        return []

    readings: list[tuple[str, float, float]] = []
    seen: dict[str, int] = {}
    for index, roi in enumerate(rois):
        prefix = f"rois[{index}]"
        if not isinstance(roi, Mapping):
            errors[prefix] = f"must be an object with {', '.join(ROI_KEYS)} (got {describe(roi)})"
            continue
        check_keys(roi, ROI_KEYS, errors, prefix=f"{prefix}.")
        region = _take_region(roi, prefix, seen, index, errors)
        left = take_number(
            roi,
            "left_c",
            SKIN_MIN_C,
            SKIN_MAX_C,
            errors,
            path=f"{prefix}.left_c",
            unit="degC",
        )
        right = take_number(
            roi,
            "right_c",
            SKIN_MIN_C,
            SKIN_MAX_C,
            errors,
            path=f"{prefix}.right_c",
            unit="degC",
        )
        if region is not None and left is not None and right is not None:
            readings.append((region, left, right))
    return readings


def _take_region(
    roi: Mapping[str, Any],
    prefix: str,
    seen: dict[str, int],
    index: int,
    errors: dict[str, str],
) -> str | None:
    path = f"{prefix}.region"
    expected = f"must be a non-empty name of at most {REGION_MAX_LENGTH} characters"
    if "region" not in roi:
        errors[path] = f"is required and {expected}"
        return None
    raw = roi["region"]
    region = raw.strip() if isinstance(raw, str) else None
    if not region or len(region) > REGION_MAX_LENGTH:
        errors[path] = f"{expected} (got {describe(raw)})"
        return None
    # "L5 Dermatome" and "l5 dermatome " are the same place on the body.
    identity = region.casefold()
    if identity in seen:
        errors[path] = f"duplicate region {region!r}; it is already given in rois[{seen[identity]}]"
        return None
    seen[identity] = index
    return region


def score(answers: Mapping[str, Any]) -> Result:
    errors: dict[str, str] = {}
    check_keys(answers, TOP_KEYS, errors)
    readings = _take_rois(answers, errors)
    ambient = take_number(answers, "ambient_c", AMBIENT_MIN_C, AMBIENT_MAX_C, errors, unit="degC")
    acclimatisation = take_integer(answers, "acclimatisation_min", 0, ACCLIMATISATION_MAX_MIN, errors)
    side = take_text_choice(answers, "affected_side", SIDES, errors)
    if errors or ambient is None or acclimatisation is None or side is None or not readings:
        raise AnswerError(errors)

    rois: list[dict[str, Any]] = []
    largest = Decimal(0)
    for region, left, right in readings:
        delta = _delta(left, right) if side == "left" else _delta(right, left)
        largest = max(largest, abs(delta))
        rois.append(
            {
                "region": region,
                "left_c": left,
                "right_c": right,
                "delta_c": float(delta),
            }
        )
    total = float(largest)

    issues = []
    if not AMBIENT_OK_LOW_C <= ambient <= AMBIENT_OK_HIGH_C:
        issues.append("ambient_out_of_range")
    if acclimatisation < ACCLIMATISATION_OK_MIN:
        issues.append("acclimatisation_too_short")

    flags = []
    if largest >= ASYMMETRY_C:
        flags.append(FLAG_THERMAL_ASYMMETRY)
    if issues:
        flags.append(FLAG_MEASUREMENT_CONDITIONS)

    band = band_in(BANDS, total, MINIMUM, MAXIMUM)
    return Result(
        total=total,
        band=band.code if band else None,
        flags=tuple(flags),
        answers={
            "rois": [{"region": region, "left_c": left, "right_c": right} for region, left, right in readings],
            "ambient_c": ambient,
            "acclimatisation_min": acclimatisation,
            "affected_side": side,
        },
        detail={"rois": rois, "max_abs_delta_c": total, "measurement_issues": issues},
    )


THERMAL = Instrument(
    code="thermal",
    name=Text(
        "Infrared thermography: left-right skin temperature difference",
        "红外热成像：左右皮肤温差",
    ),
    items=ITEMS,
    minimum=MINIMUM,
    maximum=MAXIMUM,
    unit="Cel",
    bands=BANDS,
    cutoff=float(ASYMMETRY_C),
    cutoff_note=Text(
        "A left-right difference of 1.0 degC or more in any region is flagged (temperature asymmetry sign used "
        "in the CRPS Budapest criteria). Readings taken with the room outside 18-25 degC or after less than "
        "15 minutes of acclimatisation are flagged for measurement conditions.",
        "任一区域左右温差 ≥ 1.0 °C 即标记为不对称（CRPS 布达佩斯诊断标准中的温度不对称体征）。"
        "室温不在 18-25 °C 或适应时间不足 15 分钟的测量将标记为测量条件不合格。",
    ),
    mcid=None,
    mcid_note=None,
    loinc_panel=None,
    loinc_total=None,
    higher_is_worse=True,
    sources=(
        "Harden RN, et al. Validation of proposed diagnostic criteria (the 'Budapest Criteria') for Complex "
        "Regional Pain Syndrome. Pain 2010;150(2):268-74.",
        "Ring EF, Ammer K. Infrared thermal imaging in medicine. Physiol Meas 2012;33(3):R33-46.",
        "LOINC 39106-0 Temperature of Skin (per-region readings).",
    ),
    scorer=score,
    instructions=Text(
        "Record the mean skin temperature of each region on both sides, the room temperature and how long "
        "the patient acclimatised, undressed, before imaging.",
        "记录每个区域左右两侧的平均皮肤温度、室温，以及患者脱衣后在成像前的适应时间。",
    ),
)
