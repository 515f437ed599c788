"""Visual analogue scale (VAS) for pain intensity, 0-100 mm.

Answers: ``{"score_mm": <number 0..100>}``; the total is the mark's distance
in millimetres from the "no pain" end.  The phone renders the line without a
preselected mark so the patient is not anchored.

Sources:
- Hawker GA, Mian S, Kendzerska T, French M. Measures of adult pain.
  Arthritis Care Res 2011;63(S11):S240-52 - reports the VAS cut points
  no pain 0-4 mm, mild 5-44, moderate 45-74, severe 75-100.
- Jensen MP, Chen C, Brugger AM. Interpretation of visual analog scale
  ratings and change scores. J Pain 2003;4(7):407-14 - origin of those
  cut points.
- Ostelo RW, Deyo RA, Stratford P, et al. Interpreting change scores for pain
  and functional status in low back pain. Spine 2008;33(1):90-4 - minimal
  important change 15 mm (or 30 % from baseline) for back pain.
- Dworkin RH, Turk DC, Wyrwich KW, et al. IMMPACT recommendations.
  J Pain 2008;9(2):105-21 - >=30 % moderately, >=50 % substantially important.
- Boonstra AM, et al. Pain 2014;155(12):2545-50 - other VAS cut points are
  published for chronic musculoskeletal pain; the bands are descriptive only.

No LOINC code is used: LOINC's 0-10 pain codes do not describe a 100 mm line.
"""

# zh-hans strings use full-width punctuation, which RUF001 mistakes for look-alikes.

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._fields import check_keys, take_number
from .base import AnswerError, Band, Instrument, Item, Result, Text, band_in

MINIMUM = 0.0
MAXIMUM = 100.0

BANDS = (
    Band("none", 0, 4, Text("No pain", "无痛")),
    Band("mild", 5, 44, Text("Mild pain", "轻度疼痛")),
    Band("moderate", 45, 74, Text("Moderate pain", "中度疼痛")),
    Band("severe", 75, 100, Text("Severe pain", "重度疼痛")),
)

ITEMS = (
    Item(
        key="score_mm",
        label=Text(
            "Mark on the line how strong your pain is (0 mm = no pain, 100 mm = worst pain imaginable).",
            "请在线上标出您的疼痛程度（0 毫米 = 无痛，100 毫米 = 能想象到的最剧烈疼痛）。",
        ),
        kind="number",
        minimum=MINIMUM,
        maximum=MAXIMUM,
    ),
)


def score(answers: Mapping[str, Any]) -> Result:
    errors: dict[str, str] = {}
    check_keys(answers, ("score_mm",), errors)
    score_mm = take_number(answers, "score_mm", MINIMUM, MAXIMUM, errors, unit="mm")
    if errors or score_mm is None:
        raise AnswerError(errors)
    band = band_in(BANDS, score_mm, MINIMUM, MAXIMUM)
    return Result(
        total=score_mm,
        band=band.code if band else None,
        flags=(),
        answers={"score_mm": score_mm},
        detail={},
    )


VAS = Instrument(
    code="vas",
    name=Text("Visual analogue scale for pain (0-100 mm)", "疼痛视觉模拟评分（0-100 毫米）"),
    items=ITEMS,
    minimum=MINIMUM,
    maximum=MAXIMUM,
    unit="mm",
    bands=BANDS,
    cutoff=None,
    cutoff_note=None,
    mcid=15.0,
    mcid_note=Text(
        "A fall of about 15 mm, or of at least 30 % from baseline, is the minimal important change in chronic "
        "low back pain (Ostelo 2008; IMMPACT, Dworkin 2008). A 50 % fall is a substantial improvement.",
        "慢性下腰痛的最小临床重要变化约为下降 15 毫米，或较基线下降至少 30%（Ostelo 2008；IMMPACT，Dworkin 2008）。"
        "下降 50% 为显著改善。",
    ),
    loinc_panel=None,
    loinc_total=None,
    higher_is_worse=True,
    sources=(
        "Hawker GA, et al. Measures of adult pain. Arthritis Care Res 2011;63(S11):S240-52.",
        "Jensen MP, Chen C, Brugger AM. Interpretation of visual analog scale ratings and change scores. "
        "J Pain 2003;4(7):407-14.",
        "Ostelo RW, et al. Interpreting change scores for pain and functional status in low back pain. "
        "Spine 2008;33(1):90-4.",
        "Dworkin RH, et al. Interpreting the clinical importance of treatment outcomes in chronic pain clinical "
        "trials: IMMPACT recommendations. J Pain 2008;9(2):105-21.",
    ),
    scorer=score,
    instructions=Text(
        "Move the marker along the line to show how strong your pain is. There is no right or wrong answer.",
        "请沿直线移动标记，表示您的疼痛程度。答案没有对错之分。",
    ),
)
