"""DN4 (Douleur Neuropathique en 4 questions) neuropathic pain screen.

Ten yes/no items: seven answered by the patient (interview) and three found
on examination by a clinician.  Each "yes" scores 1.

- All ten answered: DN4, total 0-10; >= 4 suggests neuropathic pain
  (Bouhassira 2005: sensitivity 82.9 %, specificity 89.9 %).
- Only the seven interview items: DN4-interview, total 0-7; >= 3 suggests
  neuropathic pain (Bouhassira 2005).  This is what a patient can complete
  at home on the phone; the examination items are added in clinic.
- One or two of the three examination items: rejected, because a partial
  examination fits neither validated cut-off.  An examination item sent as
  ``null`` counts as "not examined", so a console form that always posts all
  ten keys still yields the DN4-interview.

Answers must be JSON booleans: 0/1 or "yes" are rejected so a client bug
cannot silently turn into a score.

Sources:
- Bouhassira D, Attal N, Alchaar H, et al. Comparison of pain syndromes
  associated with nervous or somatic lesions and development of a new
  neuropathic pain diagnostic questionnaire (DN4). Pain 2005;114(1-2):29-36.
- Perez C, Galvez R, Huelbes S, et al. Validity and reliability of the Spanish
  version of the DN4. Health Qual Life Outcomes 2007;5:66 - confirms >= 4.
- No LOINC code for DN4 is known to us, so none is declared.
"""

# zh-hans strings use full-width punctuation, which RUF001 mistakes for look-alikes.

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._fields import check_keys, take_boolean
from .base import (
    FLAG_NEUROPATHIC_LIKELY,
    AnswerError,
    Band,
    Instrument,
    Item,
    Option,
    Result,
    Text,
)

INTERVIEW = "interview"
EXAMINATION = "examination"

INTERVIEW_ITEMS = (
    ("burning", Text("Burning", "烧灼痛")),
    ("painful_cold", Text("Painful cold", "冷痛")),
    ("electric_shocks", Text("Electric shocks", "电击样痛")),
    ("tingling", Text("Tingling", "刺痛")),
    ("pins_and_needles", Text("Pins and needles", "针刺感")),
    ("numbness", Text("Numbness", "麻木")),
    ("itching", Text("Itching", "瘙痒")),
)
EXAMINATION_ITEMS = (
    ("touch_hypoesthesia", Text("Hypoesthesia to touch", "触觉减退")),
    ("pinprick_hypoesthesia", Text("Hypoesthesia to pinprick", "针刺觉减退")),
    ("brushing", Text("Pain caused or increased by brushing", "轻刷可诱发或加重疼痛")),
)
INTERVIEW_KEYS = tuple(key for key, _ in INTERVIEW_ITEMS)
EXAMINATION_KEYS = tuple(key for key, _ in EXAMINATION_ITEMS)
ALL_KEYS = INTERVIEW_KEYS + EXAMINATION_KEYS

FULL_MAXIMUM = 10
INTERVIEW_MAXIMUM = 7
FULL_CUTOFF = 4
INTERVIEW_CUTOFF = 3

LIKELY = "neuropathic_likely"
UNLIKELY = "neuropathic_unlikely"

# Instrument.bands describe the 10-item DN4.  The DN4-interview is banded by
# the scorer with its own cut-off (3/7), reported in Result.detail.
BANDS = (
    Band(
        UNLIKELY,
        0,
        FULL_CUTOFF - 1,
        Text("Neuropathic pain unlikely", "神经病理性疼痛可能性小"),
    ),
    Band(
        LIKELY,
        FULL_CUTOFF,
        FULL_MAXIMUM,
        Text("Neuropathic pain likely", "可能为神经病理性疼痛"),
    ),
)

_YES_NO = (
    Option(True, Text("Yes", "是"), 1.0),
    Option(False, Text("No", "否"), 0.0),
)

ITEMS = tuple(Item(key, label, "boolean", options=_YES_NO, group=INTERVIEW) for key, label in INTERVIEW_ITEMS) + tuple(
    Item(
        key,
        label,
        "boolean",
        options=_YES_NO,
        required=False,
        nullable=True,
        group=EXAMINATION,
    )
    for key, label in EXAMINATION_ITEMS
)


def score(answers: Mapping[str, Any]) -> Result:
    errors: dict[str, str] = {}
    check_keys(answers, ALL_KEYS, errors)
    interview = {
        key: take_boolean(
            answers,
            key,
            errors,
            missing_message="is required: every DN4 interview item must be answered true or false",
        )
        for key in INTERVIEW_KEYS
    }
    examination = {key: take_boolean(answers, key, errors, required=False, nullable=True) for key in EXAMINATION_KEYS}

    # Only judge completeness of the examination when the given values are valid.
    if not any(key in errors for key in EXAMINATION_KEYS):
        examined = [key for key, value in examination.items() if value is not None]
        if 0 < len(examined) < len(EXAMINATION_KEYS):
            for key in EXAMINATION_KEYS:
                if examination[key] is None:
                    errors[key] = (
                        "is required once any examination item is given: answer all of "
                        f"{', '.join(EXAMINATION_KEYS)} with true or false, or none of them for the DN4-interview"
                    )
    if errors:
        raise AnswerError(errors)

    interview_yes = sum(1 for value in interview.values() if value)
    normalised: dict[str, Any] = dict(interview)
    if all(value is None for value in examination.values()):
        variant, total, examination_yes = INTERVIEW, interview_yes, None
        maximum, cutoff = INTERVIEW_MAXIMUM, INTERVIEW_CUTOFF
    else:
        examination_yes = sum(1 for value in examination.values() if value)
        variant, total = "full", interview_yes + examination_yes
        maximum, cutoff = FULL_MAXIMUM, FULL_CUTOFF
        normalised.update(examination)

    likely = total >= cutoff
    return Result(
        total=total,
        band=LIKELY if likely else UNLIKELY,
        flags=(FLAG_NEUROPATHIC_LIKELY,) if likely else (),
        answers=normalised,
        detail={
            "variant": variant,
            "interview": interview_yes,
            "examination": examination_yes,
            "max": maximum,
            "cutoff": cutoff,
        },
    )


DN4 = Instrument(
    code="dn4",
    name=Text("DN4 neuropathic pain questionnaire", "DN4 神经病理性疼痛诊断问卷"),
    items=ITEMS,
    minimum=0,
    maximum=FULL_MAXIMUM,
    unit="points",
    bands=BANDS,
    cutoff=float(FULL_CUTOFF),
    cutoff_note=Text(
        "DN4 (10 items) >= 4/10 suggests neuropathic pain; the patient-completed DN4-interview (7 items) "
        "uses >= 3/7 (Bouhassira 2005).",
        "DN4（10 项）≥ 4/10 提示神经病理性疼痛；患者自评的 DN4 问诊部分（7 项）以 ≥ 3/7 为界（Bouhassira 2005）。",
    ),
    mcid=None,
    mcid_note=None,
    loinc_panel=None,
    loinc_total=None,
    higher_is_worse=True,
    sources=(
        "Bouhassira D, et al. Comparison of pain syndromes associated with nervous or somatic lesions and "
        "development of a new neuropathic pain diagnostic questionnaire (DN4). Pain 2005;114(1-2):29-36.",
        "Perez C, et al. Validity and reliability of the Spanish version of the DN4 (Douleur Neuropathique "
        "4 questions) questionnaire. Health Qual Life Outcomes 2007;5:66.",
    ),
    scorer=score,
    instructions=Text(
        "Interview: does the pain have any of these characteristics (burning, painful cold, electric shocks), "
        "and is it associated in the same area with tingling, pins and needles, numbness or itching? "
        "Examination (clinician): in the painful area, is there hypoesthesia to touch or to pinprick, and is "
        "the pain caused or increased by brushing?",
        "问诊：疼痛是否具有以下特点（烧灼痛、冷痛、电击样痛）？同一部位是否伴有刺痛、针刺感、麻木或瘙痒？"
        "检查（由医务人员完成）：疼痛部位是否有触觉减退或针刺觉减退？轻刷是否可诱发或加重疼痛？",
    ),
)
