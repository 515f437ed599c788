"""Numeric rating scale (NRS-11) for pain intensity, integer 0-10.

Answers: ``{"score": <integer 0..10>, "recall": "now"|"average_24h"|"worst_24h"}``;
``recall`` is optional and defaults to ``"now"`` in the normalised answers, so
stored series can be split by recall period (current, average and worst pain
are not interchangeable in trend analysis).

Sources:
- Farrar JT, Young JP Jr, LaMoreaux L, Werth JL, Poole RM. Clinical importance
  of changes in chronic pain intensity measured on an 11-point numerical pain
  rating scale. Pain 2001;94(2):149-58 - a fall of about 2 points or 30 %.
- Dworkin RH, et al. IMMPACT recommendations. J Pain 2008;9(2):105-21 -
  >=30 % moderately, >=50 % substantially important.
- Hawker GA, et al. Measures of adult pain. Arthritis Care Res
  2011;63(S11):S240-52 - NRS administration and anchors.
- Bands 0 / 1-3 / 4-6 / 7-10 are the conventional clinical cut points.  Published
  optimal cut points vary (Woo A, et al. Ann Palliat Med 2015;4(4):176-83;
  Boonstra AM, et al. Front Psychol 2016;7:1466 found <=5 / 6-7 / >=8 in chronic
  musculoskeletal pain), so bands are descriptive and change is judged by MCID.
- LOINC 72514-3 "Pain severity - 0-10 verbal numeric rating [Score] - Reported"
  (used for this scale by the HL7 Belgium patient-monitoring IG and the
  French ANS "mesures de sante" IG).
"""

# zh-hans strings use full-width punctuation, which RUF001 mistakes for look-alikes.

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._fields import check_keys, take_integer, take_text_choice
from .base import AnswerError, Band, Instrument, Item, Option, Result, Text, band_in

MINIMUM = 0
MAXIMUM = 10
RECALL_CHOICES = ("now", "average_24h", "worst_24h")
DEFAULT_RECALL = "now"

BANDS = (
    Band("none", 0, 0, Text("No pain", "无痛")),
    Band("mild", 1, 3, Text("Mild pain", "轻度疼痛")),
    Band("moderate", 4, 6, Text("Moderate pain", "中度疼痛")),
    Band("severe", 7, 10, Text("Severe pain", "重度疼痛")),
)


def _score_label(value: int) -> Text:
    if value == MINIMUM:
        return Text("0 - no pain", "0 - 无痛")
    if value == MAXIMUM:
        return Text("10 - worst pain imaginable", "10 - 能想象到的最剧烈疼痛")
    return Text(str(value), str(value))


ITEMS = (
    Item(
        key="score",
        label=Text(
            "How strong is your pain on a scale from 0 (no pain) to 10 (worst pain imaginable)?",
            "请用 0（无痛）到 10（能想象到的最剧烈疼痛）之间的数字评价您的疼痛程度。",
        ),
        kind="choice",
        options=tuple(Option(value, _score_label(value), float(value)) for value in range(MINIMUM, MAXIMUM + 1)),
        minimum=MINIMUM,
        maximum=MAXIMUM,
    ),
    Item(
        key="recall",
        label=Text("Which pain are you rating?", "您评价的是哪种疼痛？"),
        kind="choice_text",
        options=(
            Option("now", Text("Pain right now", "现在的疼痛"), 0.0),
            Option(
                "average_24h",
                Text("Average pain over the last 24 hours", "过去 24 小时的平均疼痛"),
                0.0,
            ),
            Option(
                "worst_24h",
                Text("Worst pain over the last 24 hours", "过去 24 小时最剧烈的疼痛"),
                0.0,
            ),
        ),
        required=False,
    ),
)


def score(answers: Mapping[str, Any]) -> Result:
    errors: dict[str, str] = {}
    check_keys(answers, ("score", "recall"), errors)
    value = take_integer(answers, "score", MINIMUM, MAXIMUM, errors)
    recall = take_text_choice(
        answers,
        "recall",
        RECALL_CHOICES,
        errors,
        required=False,
        default=DEFAULT_RECALL,
    )
    if errors or value is None:
        raise AnswerError(errors)
    band = band_in(BANDS, value, MINIMUM, MAXIMUM)
    return Result(
        total=value,
        band=band.code if band else None,
        flags=(),
        answers={"score": value, "recall": recall},
        detail={},
    )


NRS = Instrument(
    code="nrs",
    name=Text("Numeric rating scale for pain (0-10)", "疼痛数字评分法（0-10）"),
    items=ITEMS,
    minimum=MINIMUM,
    maximum=MAXIMUM,
    unit="points",
    bands=BANDS,
    cutoff=None,
    cutoff_note=None,
    mcid=2.0,
    mcid_note=Text(
        "A fall of about 2 points, or of at least 30 % from baseline, is clinically important in chronic pain "
        "(Farrar 2001; IMMPACT, Dworkin 2008). A 50 % fall is a substantial improvement.",
        "慢性疼痛下降约 2 分，或较基线下降至少 30%，具有临床意义（Farrar 2001；IMMPACT，Dworkin 2008）。下降 50% 为显著改善。",
    ),
    loinc_panel=None,
    loinc_total="72514-3",
    higher_is_worse=True,
    sources=(
        "Farrar JT, et al. Clinical importance of changes in chronic pain intensity measured on an 11-point "
        "numerical pain rating scale. Pain 2001;94(2):149-58.",
        "Dworkin RH, et al. Interpreting the clinical importance of treatment outcomes in chronic pain clinical "
        "trials: IMMPACT recommendations. J Pain 2008;9(2):105-21.",
        "Hawker GA, et al. Measures of adult pain. Arthritis Care Res 2011;63(S11):S240-52.",
        "Boonstra AM, et al. Cut-off points for mild, moderate, and severe pain on the numeric rating scale for "
        "pain in patients with chronic musculoskeletal pain. Front Psychol 2016;7:1466.",
        "LOINC 72514-3 Pain severity - 0-10 verbal numeric rating [Score] - Reported.",
    ),
    scorer=score,
    instructions=Text(
        "Choose the number that best describes your pain.",
        "请选择最能描述您疼痛程度的数字。",
    ),
)
