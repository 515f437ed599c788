"""GAD-7 (Generalized Anxiety Disorder, 7 items) anxiety severity.

Answers: ``item1`` .. ``item7`` integers 0-3, all required, and optional
``difficulty`` 0-3: the form's follow-up question on how difficult the problems
made work, home and getting along with people, asked only when a problem was
checked and not part of the total (as on the PHQ-9).  Total 0-21;
bands 0-4 minimal, 5-9 mild, 10-14 moderate, 15-21 severe; >= 10 is the
screening cut-off for generalised anxiety disorder (sensitivity 89 %,
specificity 82 %).

Sources:
- Spitzer RL, Kroenke K, Williams JB, Löwe B. A brief measure for assessing
  generalized anxiety disorder: the GAD-7. Arch Intern Med
  2006;166(10):1092-7.  The form's difficulty follow-up ("Not difficult at
  all" .. "Extremely difficult", coded 0-3) as reproduced with the GAD-7 items:
  https://docest.com/doc/420232/the-7-item-gad-asked-patients-how-often-during-the-past-2-weeks-they-had-felt-bothered-by
- Toussaint A, Hüsing P, Gumz A, et al. Sensitivity to change and minimal
  clinically important difference of the 7-item Generalized Anxiety Disorder
  Questionnaire (GAD-7). J Affect Disord 2020;265:395-401 - MCID 4 points.
- He XY, Li CB, Qian J, Cui HS, Wu WY. Reliability and validity of a
  generalized anxiety disorder scale in general hospital outpatients.
  Shanghai Arch Psychiatry 2010;22(4):200-3 - Chinese wording.
- LOINC 69737-5 "Generalized anxiety disorder 7 item (GAD-7)" panel and
  70274-6 "Generalized anxiety disorder 7 item (GAD-7) total score
  [Reported.PHQ]" (as used by the HL7 PCO IG and the German MII PRO IG).
"""

# zh-hans strings use full-width punctuation, which RUF001 mistakes for look-alikes.

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._fields import check_keys, take_integer
from .base import AnswerError, Band, Instrument, Item, Result, Text, band_in
from .phq9 import DIFFICULTY_ITEM, FREQUENCY_OPTIONS

QUESTIONS = (
    Text("Feeling nervous, anxious, or on edge", "感觉紧张、焦虑或急切"),
    Text("Not being able to stop or control worrying", "不能够停止或控制担忧"),
    Text("Worrying too much about different things", "对各种各样的事情担忧过多"),
    Text("Trouble relaxing", "很难放松下来"),
    Text("Being so restless that it is hard to sit still", "由于不安而无法静坐"),
    Text("Becoming easily annoyed or irritable", "变得容易烦恼或急躁"),
    Text(
        "Feeling afraid, as if something awful might happen",
        "感到似乎将有可怕的事情发生而害怕",
    ),
)

ITEM_KEYS = tuple(f"item{number}" for number in range(1, len(QUESTIONS) + 1))
MINIMUM = 0
MAXIMUM = 3 * len(QUESTIONS)

BANDS = (
    Band("minimal", 0, 4, Text("Minimal anxiety", "无或极轻微焦虑")),
    Band("mild", 5, 9, Text("Mild anxiety", "轻度焦虑")),
    Band("moderate", 10, 14, Text("Moderate anxiety", "中度焦虑")),
    Band("severe", 15, 21, Text("Severe anxiety", "重度焦虑")),
)

DIFFICULTY_KEY = DIFFICULTY_ITEM.key

ITEMS = (
    *(
        Item(key, question, "choice", options=FREQUENCY_OPTIONS, minimum=0, maximum=3)
        for key, question in zip(ITEM_KEYS, QUESTIONS, strict=True)
    ),
    DIFFICULTY_ITEM,
)


def score(answers: Mapping[str, Any]) -> Result:
    errors: dict[str, str] = {}
    check_keys(answers, (*ITEM_KEYS, DIFFICULTY_KEY), errors)
    values = {key: take_integer(answers, key, 0, 3, errors) for key in ITEM_KEYS}
    difficulty = take_integer(answers, DIFFICULTY_KEY, 0, 3, errors, required=False, nullable=True)
    if errors:
        raise AnswerError(errors)

    item_scores = {key: value or 0 for key, value in values.items()}
    total = sum(item_scores.values())
    band = band_in(BANDS, total, MINIMUM, MAXIMUM)
    return Result(
        total=total,
        band=band.code if band else None,
        flags=(),
        answers={**item_scores, DIFFICULTY_KEY: difficulty},
        detail={},
    )


GAD7 = Instrument(
    code="gad7",
    name=Text("Generalized Anxiety Disorder-7 (GAD-7)", "广泛性焦虑障碍量表（GAD-7）"),
    items=ITEMS,
    minimum=MINIMUM,
    maximum=MAXIMUM,
    unit="points",
    bands=BANDS,
    cutoff=10.0,
    cutoff_note=Text(
        "A total of 10 or more suggests generalised anxiety disorder (Spitzer 2006).",
        "总分 ≥ 10 提示可能存在广泛性焦虑障碍（Spitzer 2006）。",
    ),
    mcid=4.0,
    mcid_note=Text(
        "A change of 4 points is the minimal clinically important difference (Toussaint 2020).",
        "变化 4 分为最小临床重要差异（Toussaint 2020）。",
    ),
    loinc_panel="69737-5",
    loinc_total="70274-6",
    higher_is_worse=True,
    sources=(
        "Spitzer RL, Kroenke K, Williams JB, Löwe B. A brief measure for assessing generalized anxiety disorder: "
        "the GAD-7. Arch Intern Med 2006;166(10):1092-7.",
        "Toussaint A, et al. Sensitivity to change and minimal clinically important difference of the 7-item "
        "Generalized Anxiety Disorder Questionnaire (GAD-7). J Affect Disord 2020;265:395-401.",
        "He XY, et al. Reliability and validity of a generalized anxiety disorder scale in general hospital "
        "outpatients. Shanghai Arch Psychiatry 2010;22(4):200-3.",
        "LOINC 69737-5 GAD-7 panel; 70274-6 GAD-7 total score [Reported.PHQ].",
    ),
    scorer=score,
    instructions=Text(
        "Over the last 2 weeks, how often have you been bothered by the following problems?",
        "在过去两周里，您有多少时间受到以下问题的困扰？",
    ),
)
