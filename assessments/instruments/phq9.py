"""PHQ-9 (Patient Health Questionnaire, 9 items) depression severity.

Answers: ``item1`` .. ``item9`` integers 0-3 and optional ``difficulty`` 0-3
(the functional-impairment question, not part of the total).  Total 0-27;
bands 0-4 minimal, 5-9 mild, 10-14 moderate, 15-19 moderately severe,
20-27 severe.  >= 10 is the usual screening cut-off for major depression
(sensitivity and specificity 88 %).

Missing items (key absent or ``null``) follow Arrieta et al. 2017: with at
most 2 of the 9 items missing the total is prorated, ``round(sum * 9 /
answered)`` rounded half up, and ``detail`` says ``prorated`` and which items
are ``missing``; with more missing the entry is kept but not scored (``total``
and ``band`` ``None``, ``detail.incomplete``).  At least one item must be
answered.

Safety rule: any answer above 0 on item 9 (thoughts of being better off dead
or of self-harm) raises ``suicidal_ideation`` whatever the total, and whether
or not the other items were answered, because neither a low total nor an
unfinished questionnaire makes that answer any less urgent.  An entry
holding item 9 alone is the app's safety signal, sent the moment the answer
is given.

Sources:
- Kroenke K, Spitzer RL, Williams JB. The PHQ-9: validity of a brief
  depression severity measure. J Gen Intern Med 2001;16(9):606-13.
- Löwe B, Unützer J, Callahan CM, Perkins AJ, Kroenke K. Monitoring
  depression treatment outcomes with the Patient Health Questionnaire-9.
  Med Care 2004;42(12):1194-201 - minimal clinically important change 5 points.
- Arrieta J, Aguerrebere M, Raviola G, et al. Validity and utility of the
  Patient Health Questionnaire (PHQ)-2 and PHQ-9 for screening and diagnosis
  of depression in rural Chiapas, Mexico: a cross-sectional study. J Clin
  Psychol 2017;73(9):1076-90. doi:10.1002/jclp.22390 - prorating up to 2
  missing items.
- Wang W, Bian Q, Zhao Y, et al. Reliability and validity of the Chinese
  version of the PHQ-9 in the general population. Gen Hosp Psychiatry
  2014;36(5):539-44 - Chinese wording of the items.
- LOINC 44249-1 "PHQ-9 quick depression assessment panel" and 44261-6
  "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"
  (as used by HL7 US Core and QI-Core examples).
The PHQ-9 was developed with an educational grant from Pfizer; no permission
is required to reproduce, translate, display or distribute it.
"""

# zh-hans strings use full-width punctuation, which RUF001 mistakes for look-alikes.

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._fields import check_keys, take_integer
from .base import (
    ALL_FIELDS,
    FLAG_SUICIDAL_IDEATION,
    AnswerError,
    Band,
    Instrument,
    Item,
    Option,
    Result,
    Text,
    band_in,
)

# The same 0-3 frequency scale is used by the GAD-7 (same PHQ family).
FREQUENCY_OPTIONS = (
    Option(0, Text("Not at all", "完全不会"), 0.0),
    Option(1, Text("Several days", "好几天"), 1.0),
    Option(2, Text("More than half the days", "一半以上的天数"), 2.0),
    Option(3, Text("Nearly every day", "几乎每天"), 3.0),
)

DIFFICULTY_OPTIONS = (
    Option(0, Text("Not difficult at all", "毫无困难"), 0.0),
    Option(1, Text("Somewhat difficult", "有点困难"), 0.0),
    Option(2, Text("Very difficult", "非常困难"), 0.0),
    Option(3, Text("Extremely difficult", "极其困难"), 0.0),
)

QUESTIONS = (
    Text("Little interest or pleasure in doing things", "做事时提不起劲或没有兴趣"),
    Text("Feeling down, depressed, or hopeless", "感到心情低落、沮丧或绝望"),
    Text(
        "Trouble falling or staying asleep, or sleeping too much",
        "入睡困难、睡不安稳或睡眠过多",
    ),
    Text("Feeling tired or having little energy", "感觉疲倦或没有活力"),
    Text("Poor appetite or overeating", "食欲不振或吃太多"),
    Text(
        "Feeling bad about yourself - or that you are a failure or have let yourself or your family down",
        "觉得自己很糟——或觉得自己很失败，或让自己或家人失望",
    ),
    Text(
        "Trouble concentrating on things, such as reading the newspaper or watching television",
        "对事物专注有困难，例如阅读报纸或看电视时",
    ),
    Text(
        "Moving or speaking so slowly that other people could have noticed? Or the opposite - being so fidgety "
        "or restless that you have been moving around a lot more than usual",
        "动作或说话速度缓慢到别人已经察觉？或正好相反——烦躁或坐立不安、动来动去的情况更胜于平常",
    ),
    Text(
        "Thoughts that you would be better off dead or of hurting yourself in some way",
        "有不如死掉或用某种方式伤害自己的念头",
    ),
)

ITEM_KEYS = tuple(f"item{number}" for number in range(1, len(QUESTIONS) + 1))
SUICIDE_ITEM = "item9"
MINIMUM = 0
MAXIMUM = 3 * len(QUESTIONS)

BANDS = (
    Band("minimal", 0, 4, Text("Minimal depression", "无或极轻微抑郁")),
    Band("mild", 5, 9, Text("Mild depression", "轻度抑郁")),
    Band("moderate", 10, 14, Text("Moderate depression", "中度抑郁")),
    Band("moderately_severe", 15, 19, Text("Moderately severe depression", "中重度抑郁")),
    Band("severe", 20, 27, Text("Severe depression", "重度抑郁")),
)

# The follow-up question of the PHQ family (PHQ-9 and GAD-7 forms alike): asked when a
# problem was checked, never part of the total.
DIFFICULTY_ITEM = Item(
    "difficulty",
    Text(
        "If you checked off any problems, how difficult have these problems made it for you to do your work, "
        "take care of things at home, or get along with other people?",
        "如果您被上述任何问题困扰，这些问题对您的工作、处理家务或与他人相处造成了多大的困难？",
    ),
    "choice",
    options=DIFFICULTY_OPTIONS,
    minimum=0,
    maximum=3,
    required=False,
    nullable=True,
)

ITEMS = (
    *(
        Item(key, question, "choice", options=FREQUENCY_OPTIONS, minimum=0, maximum=3)
        for key, question in zip(ITEM_KEYS, QUESTIONS, strict=True)
    ),
    DIFFICULTY_ITEM,
)


# Arrieta et al. 2017: a total is prorated from up to this many missing items, not more.
MAX_PRORATED_MISSING = 2


def prorated_total(item_sum: int, answered: int) -> int:
    """``sum * 9 / answered`` rounded half up, in integers (no float ties)."""
    scaled = item_sum * len(ITEM_KEYS)
    return (2 * scaled + answered) // (2 * answered)


def score(answers: Mapping[str, Any]) -> Result:
    errors: dict[str, str] = {}
    check_keys(answers, (*ITEM_KEYS, "difficulty"), errors)
    values = {key: take_integer(answers, key, 0, 3, errors, required=False, nullable=True) for key in ITEM_KEYS}
    difficulty = take_integer(answers, "difficulty", 0, 3, errors, required=False, nullable=True)
    missing = [key for key in ITEM_KEYS if key not in errors and values[key] is None]
    if not errors and len(missing) == len(ITEM_KEYS):
        errors[ALL_FIELDS] = f"answer at least one of {', '.join(ITEM_KEYS)} (integers from 0 to 3)"
    if errors:
        raise AnswerError(errors)

    given = {key: value for key, value in values.items() if value is not None}
    item9 = given.get(SUICIDE_ITEM)
    flags = (FLAG_SUICIDAL_IDEATION,) if item9 is not None and item9 > 0 else ()
    detail: dict[str, Any] = {}
    total: int | None
    if not missing:
        total = sum(given.values())
    elif len(missing) <= MAX_PRORATED_MISSING:
        total = prorated_total(sum(given.values()), len(given))
        detail = {"prorated": True, "missing": missing}
    else:
        total = None
        detail = {"incomplete": True, "missing": missing}
    band = band_in(BANDS, total, MINIMUM, MAXIMUM) if total is not None else None
    return Result(
        total=total,
        band=band.code if band else None,
        flags=flags,
        answers={**values, "difficulty": difficulty},
        detail=detail,
    )


PHQ9 = Instrument(
    code="phq9",
    name=Text("Patient Health Questionnaire-9 (PHQ-9)", "患者健康问卷抑郁量表（PHQ-9）"),
    items=ITEMS,
    minimum=MINIMUM,
    maximum=MAXIMUM,
    unit="points",
    bands=BANDS,
    cutoff=10.0,
    cutoff_note=Text(
        "A total of 10 or more suggests major depression (Kroenke 2001). Any answer above 0 on item 9 needs a "
        "safety response whatever the total.",
        "总分 ≥ 10 提示可能存在重度抑郁（Kroenke 2001）。无论总分多少，第 9 题只要大于 0 即需进行安全评估与处理。",
    ),
    mcid=5.0,
    mcid_note=Text(
        "A change of 5 points is the minimal clinically important change (Löwe 2004).",
        "变化 5 分为最小临床重要变化（Löwe 2004）。",
    ),
    loinc_panel="44249-1",
    loinc_total="44261-6",
    skippable=ITEM_KEYS,
    max_skipped=MAX_PRORATED_MISSING,
    higher_is_worse=True,
    sources=(
        "Kroenke K, Spitzer RL, Williams JB. The PHQ-9: validity of a brief depression severity measure. "
        "J Gen Intern Med 2001;16(9):606-13.",
        "Löwe B, et al. Monitoring depression treatment outcomes with the Patient Health Questionnaire-9. "
        "Med Care 2004;42(12):1194-201.",
        "Wang W, et al. Reliability and validity of the Chinese version of the Patient Health Questionnaire "
        "(PHQ-9) in the general population. Gen Hosp Psychiatry 2014;36(5):539-44.",
        "Arrieta J, et al. Validity and utility of the PHQ-2 and PHQ-9 for screening and diagnosis of depression "
        "in rural Chiapas, Mexico. J Clin Psychol 2017;73(9):1076-90. doi:10.1002/jclp.22390 (prorating up to 2 "
        "missing items).",
        "LOINC 44249-1 PHQ-9 quick depression assessment panel; 44261-6 PHQ-9 total score [Reported].",
    ),
    scorer=score,
    instructions=Text(
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?",
        "在过去两周里，您有多少时间受到以下任何问题的困扰？",
    ),
)
