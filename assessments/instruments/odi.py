"""Oswestry Disability Index (ODI) for low back pain, 0-100 %.

Answers: ``section1`` .. ``section10``, each an integer 0-5 or ``null``; an
absent key also counts as skipped (patients may skip e.g. "sex life").
Score = sum / (5 x answered sections) x 100, rounded to one decimal.  The
denominator shrinks by 5 per skipped section, as Fairbank & Pynsent describe.

Missing sections: the published scoring note covers one - "If one section is
missed or not applicable the score is calculated: 16 (total scored) / 45 (total
possible score) x 100 = 35.5%" (the questionnaire's scoring instructions, as
reproduced e.g. at https://riunitedformarriage.org/how-do-you-score-modified-oswestry-for-lower-back-pain/),
and awell-score (awell-health/awell-score, oswestry README) scores no ODI with
more than one response missing.  So with 9 or 10 sections answered the entry is
scored; with 1 to 8 it is stored as incomplete (``total`` and ``band`` null,
``detail.incomplete`` true) so the answers are kept but never trended; with none
answered there is nothing to store and it is refused.

Bands (Fairbank & Pynsent 2000): 0-20 minimal disability, >20-40 moderate,
>40-60 severe, >60-80 crippled, >80-100 bed-bound or exaggerating symptoms.

Sources:
- Fairbank JC, Pynsent PB. The Oswestry Disability Index. Spine
  2000;25(22):2940-52.
- Ostelo RW, Deyo RA, Stratford P, et al. Interpreting change scores for pain
  and functional status in low back pain. Spine 2008;33(1):90-4 - minimal
  important change 10 points (or 30 % from baseline).
- Liu H, Tao H, Luo Z. Validation of the simplified Chinese version of the
  Oswestry Disability Index. Spine 2009;34(11):1211-6 - section titles.
The six statements of each section are copyright (ODI v2.1a, licensed through
Mapi Research Trust), so the options here carry neutral 0-5 labels; a clinic
holding a licence can load the statements into the patient form.
No LOINC code for the ODI total is declared.
"""

# zh-hans strings use full-width punctuation, which RUF001 mistakes for look-alikes.

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._fields import check_keys, take_integer
from .base import (
    ALL_FIELDS,
    AnswerError,
    Band,
    Instrument,
    Item,
    Option,
    Result,
    Text,
    band_in,
)

SECTIONS = (
    Text("Pain intensity", "疼痛程度"),
    Text("Personal care (washing, dressing, etc.)", "个人生活料理（洗漱、穿衣等）"),
    Text("Lifting", "提物"),
    Text("Walking", "行走"),
    Text("Sitting", "坐"),
    Text("Standing", "站立"),
    Text("Sleeping", "睡眠"),
    Text("Sex life (if applicable)", "性生活（如适用）"),
    Text("Social life", "社会生活"),
    Text("Travelling", "旅行"),
)
SECTION_KEYS = tuple(f"section{number}" for number in range(1, len(SECTIONS) + 1))
SECTION_MAXIMUM = 5
MAX_MISSING = 1

MINIMUM = 0.0
MAXIMUM = 100.0

BANDS = (
    Band("minimal", 0, 20, Text("Minimal disability", "轻度功能障碍")),
    Band("moderate", 21, 40, Text("Moderate disability", "中度功能障碍")),
    Band("severe", 41, 60, Text("Severe disability", "重度功能障碍")),
    Band("crippled", 61, 80, Text("Crippled (very severe disability)", "极重度功能障碍")),
    Band(
        "bed_bound",
        81,
        100,
        Text("Bed-bound or exaggerating symptoms", "卧床或症状夸大"),
    ),
)


def _option_label(value: int) -> Text:
    if value == 0:
        return Text("0 - least limitation (first statement)", "0 - 受限最轻（第一项描述）")
    if value == SECTION_MAXIMUM:
        return Text("5 - greatest limitation (last statement)", "5 - 受限最重（最后一项描述）")
    return Text(str(value), str(value))


OPTIONS = tuple(Option(value, _option_label(value), float(value)) for value in range(SECTION_MAXIMUM + 1))

ITEMS = tuple(
    Item(
        key,
        title,
        "choice",
        options=OPTIONS,
        minimum=0,
        maximum=SECTION_MAXIMUM,
        required=False,
        nullable=True,
    )
    for key, title in zip(SECTION_KEYS, SECTIONS, strict=True)
)


def score(answers: Mapping[str, Any]) -> Result:
    errors: dict[str, str] = {}
    check_keys(answers, SECTION_KEYS, errors)
    values = {
        key: take_integer(answers, key, 0, SECTION_MAXIMUM, errors, required=False, nullable=True)
        for key in SECTION_KEYS
    }
    # Sections with a type error are reported on their own path, not as skipped.
    skipped = [key for key, value in values.items() if value is None and key not in errors]
    answered = [value for value in values.values() if value is not None]
    if not errors and not answered:
        errors[ALL_FIELDS] = (
            f"no section was answered; answer at least one of {', '.join(SECTION_KEYS)} with an integer from 0 "
            f"to {SECTION_MAXIMUM} (with more than {MAX_MISSING} skipped the entry is stored as incomplete)"
        )
    if errors:
        raise AnswerError(errors)

    raw = sum(answered)
    if len(skipped) > MAX_MISSING:
        return Result(
            total=None,
            band=None,
            flags=(),
            answers=values,
            detail={"raw": raw, "answered": len(answered), "skipped": skipped, "incomplete": True},
        )
    # raw / (5 n) * 100 written as raw * 20 / n keeps e.g. 9/45 at exactly 20.0.
    percent = round(raw * (100 // SECTION_MAXIMUM) / len(answered), 1)
    band = band_in(BANDS, percent, MINIMUM, MAXIMUM)
    return Result(
        total=percent,
        band=band.code if band else None,
        flags=(),
        answers=values,
        detail={
            "raw": raw,
            "answered": len(answered),
            "percent": percent,
            "skipped": skipped,
        },
    )


ODI = Instrument(
    code="odi",
    name=Text("Oswestry Disability Index (ODI)", "Oswestry 功能障碍指数（ODI）"),
    items=ITEMS,
    minimum=MINIMUM,
    maximum=MAXIMUM,
    unit="%",
    bands=BANDS,
    cutoff=None,
    cutoff_note=None,
    mcid=10.0,
    mcid_note=Text(
        "A fall of 10 points, or of at least 30 % from baseline, is the minimal important change in low back "
        "pain (Ostelo 2008).",
        "下腰痛的最小重要变化为下降 10 分，或较基线下降至少 30%（Ostelo 2008）。",
    ),
    loinc_panel=None,
    loinc_total=None,
    skippable=SECTION_KEYS,
    max_skipped=MAX_MISSING,
    higher_is_worse=True,
    sources=(
        "Fairbank JC, Pynsent PB. The Oswestry Disability Index. Spine 2000;25(22):2940-52.",
        "Ostelo RW, et al. Interpreting change scores for pain and functional status in low back pain. "
        "Spine 2008;33(1):90-4.",
        "Liu H, Tao H, Luo Z. Validation of the simplified Chinese version of the Oswestry Disability Index. "
        "Spine 2009;34(11):1211-6.",
    ),
    scorer=score,
    instructions=Text(
        "For each section choose the one statement that best describes your situation today. "
        "Skip a section only if it does not apply to you.",
        "每一部分请选择最符合您今天情况的一项描述。仅在某部分不适用于您时才可跳过。",
    ),
)
