"""DREZ surgery referral: candidacy criteria, contraindications and follow-up items.

Criteria, contraindications and follow-up per the DREZ expert consensus in
``shared/reference``. The record is a plan component whose derived ``candidacy_met``
says whether every criterion is met; the referral itself is recorded by
``therapies.services.drez_referral_create`` with the checks of `drez_candidacy`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .base import Modality, Param, Text

DREZ_CONTRAINDICATIONS: dict[str, Text] = {
    "marked_cognitive_impairment": Text("Marked cognitive impairment", "明显认知障碍"),
    "severe_psychiatric_disease": Text("Severe psychiatric disease not due to pain", "非疼痛所致的严重精神疾病"),
    "severe_cardiopulmonary_disease": Text("Severe cardiopulmonary disease", "严重心肺疾病"),
    "coagulation_disorder": Text("Coagulation disorder", "凝血功能障碍"),
}
"""Contraindications to DREZ surgery per the DREZ expert consensus (reference)."""

DREZ_FOLLOW_UP_ITEMS: dict[str, Text] = {
    "pain_relief": Text("Pain relief", "疼痛缓解"),
    "new_adjacent_pain": Text("New pain in adjacent segments", "相邻节段新发疼痛"),
    "spinal_stability": Text("Spinal stability", "脊柱稳定性"),
    "limb_function": Text("Limb function", "肢体功能"),
    "bladder_bowel_function": Text("Bladder and bowel function", "膀胱和直肠(大小便)功能"),
}
"""What to follow up after DREZ surgery per the DREZ expert consensus (reference)."""

DREZ_MIN_COURSE_MONTHS = 3.0
DREZ_MIN_VAS_MM = 50.0
DREZ_MIN_AGE_YEARS = 18


@dataclass(frozen=True)
class CandidacyCheck:
    """One DREZ candidacy criterion and whether the patient meets it."""

    code: str
    passed: bool
    message: Text

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "passed": self.passed,
            "message": self.message.as_dict(),
        }


# One function per criterion, in the order the checks are reported.


def _course(course_months: float) -> CandidacyCheck:
    ok = course_months >= DREZ_MIN_COURSE_MONTHS
    return CandidacyCheck(
        "course",
        ok,
        Text(
            f"Pain course {course_months:g} months " + ("meets" if ok else "is below") + " the 3-month minimum",
            f"病程{course_months:g}个月" + ("满足" if ok else "未达到") + "至少3个月的要求",
        ),
    )


def _first_line_drugs(tried: bool) -> CandidacyCheck:
    if tried:
        message = Text("First-line drugs tried without adequate control", "一线药物治疗后疼痛仍控制不佳")
    else:
        message = Text(
            "First-line drugs (gabapentin, pregabalin, carbamazepine, oxcarbazepine, amitriptyline) not yet tried",
            "尚未尝试一线药物(加巴喷丁、普瑞巴林、卡马西平、奥卡西平、阿米替林)",
        )
    return CandidacyCheck("first_line_drugs", tried, message)


def _pain_intensity(vas_mm: float) -> CandidacyCheck:
    ok = vas_mm >= DREZ_MIN_VAS_MM
    return CandidacyCheck(
        "pain_intensity",
        ok,
        Text(
            f"VAS {vas_mm:g} mm " + ("meets" if ok else "is below") + " the 50 mm (5/10) minimum",
            f"VAS {vas_mm:g} mm" + ("满足" if ok else "未达到") + "至少50 mm(5/10)的要求",
        ),
    )


def _age(age_years: int) -> CandidacyCheck:
    ok = age_years >= DREZ_MIN_AGE_YEARS
    return CandidacyCheck(
        "age",
        ok,
        Text(
            f"Age {age_years} years " + ("meets" if ok else "is below") + " the usual 18-year minimum",
            f"年龄{age_years}岁" + ("满足" if ok else "未达到") + "通常至少18岁的要求",
        ),
    )


def _mood_assessed(phq9_assessed: bool, gad7_assessed: bool) -> CandidacyCheck:
    if phq9_assessed and gad7_assessed:
        return CandidacyCheck(
            "mood_assessed", True, Text("Mood assessed with PHQ-9 and GAD-7", "已用PHQ-9和GAD-7评估情绪")
        )
    missing = ", ".join(name for name, done in (("PHQ-9", phq9_assessed), ("GAD-7", gad7_assessed)) if not done)
    return CandidacyCheck(
        "mood_assessed",
        False,
        Text(f"Mood assessment missing: {missing}", f"缺少情绪评估: {missing}"),
    )


def _contraindications(present: Sequence[str]) -> CandidacyCheck:
    if not present:
        return CandidacyCheck("contraindications", True, Text("No listed contraindication", "无所列禁忌证"))
    return CandidacyCheck(
        "contraindications",
        False,
        Text(
            "Contraindicated: " + ", ".join(DREZ_CONTRAINDICATIONS[code].en for code in present),
            "存在禁忌证: " + "、".join(DREZ_CONTRAINDICATIONS[code].zh_hans for code in present),
        ),
    )


def drez_candidacy(
    course_months: float,
    vas_mm: float,
    age_years: int,
    first_line_drugs_tried: bool,
    phq9_assessed: bool,
    gad7_assessed: bool,
    contraindications: Sequence[str],
) -> list[CandidacyCheck]:
    """Check DREZ surgery candidacy against the DREZ expert consensus (reference).

    Criteria: pain course >= 3 months (the consensus names 3-6 months not controlled
    by drugs or less invasive care); first-line drugs tried without control; pain
    intensity VAS >= 5 on the 0-10 cm line, taken here as >= 50 mm on the 0-100 mm
    scale the app records; usually age >= 18; mood assessed with both PHQ-9 and GAD-7;
    none of the listed contraindications. Whether the pain area matches the spinal
    segment is a surgeon's judgement and is not checked here.

    Raises ValueError for a contraindication code outside `DREZ_CONTRAINDICATIONS`.
    """
    unknown = [code for code in contraindications if code not in DREZ_CONTRAINDICATIONS]
    if unknown:
        raise ValueError(f"unknown DREZ contraindication code(s): {', '.join(unknown)}")
    present = [code for code in DREZ_CONTRAINDICATIONS if code in contraindications]
    return [
        _course(course_months),
        _first_line_drugs(first_line_drugs_tried),
        _pain_intensity(vas_mm),
        _age(age_years),
        _mood_assessed(phq9_assessed, gad7_assessed),
        _contraindications(present),
    ]


def _parse_contraindications(text: str) -> tuple[list[str], list[str]]:
    """Split "a, b" into (known codes, unknown tokens)."""
    tokens = [token.strip() for token in text.split(",") if token.strip()]
    known = [token for token in tokens if token in DREZ_CONTRAINDICATIONS]
    unknown = [token for token in tokens if token not in DREZ_CONTRAINDICATIONS]
    return known, unknown


def _validate(params: dict[str, Any]) -> dict[str, str]:
    text = params.get("contraindications")
    if isinstance(text, str):
        _, unknown = _parse_contraindications(text)
        if unknown:
            return {
                "contraindications": (
                    f"contraindications has unknown code(s) {', '.join(unknown)}; "
                    f"expected a comma-separated list of: {', '.join(DREZ_CONTRAINDICATIONS)}"
                )
            }
    return {}


def _derive(params: dict[str, Any]) -> dict[str, float]:
    known, _ = _parse_contraindications(str(params.get("contraindications", "")))
    checks = drez_candidacy(
        course_months=float(params["course_months"]),
        vas_mm=float(params["vas_mm"]),
        age_years=int(params["age_years"]),
        first_line_drugs_tried=bool(params["first_line_drugs_tried"]),
        phq9_assessed=bool(params["phq9_assessed"]),
        gad7_assessed=bool(params["gad7_assessed"]),
        contraindications=known,
    )
    return {"candidacy_met": 1.0 if all(check.passed for check in checks) else 0.0}


DREZ_REFERRAL = Modality(
    # Layer: the plan's "central" layer is cortical neuromodulation (tDCS, rTMS).
    # DREZ lesioning targets the segmental dorsal-root input matching the pain area
    # and is referred from the peripheral pathway once drugs and less invasive care
    # fail, so it sits under "peripheral" (Layer keeps its two public values).
    code="drez_referral",
    layer="peripheral",
    name=Text("DREZ surgery referral", "脊髓背根入髓区(DREZ)毁损术转诊"),
    short_name="DREZ referral",
    short_name_zh="DREZ 转诊",
    params=(
        Param("course_months", Text("Pain duration", "病程"), "number", unit="months", minimum=0, maximum=1200),
        Param("vas_mm", Text("Pain intensity (VAS)", "疼痛强度(VAS)"), "number", unit="mm", minimum=0, maximum=100),
        Param("age_years", Text("Age", "年龄"), "integer", unit="years", minimum=0, maximum=130),
        Param(
            "first_line_drugs_tried",
            Text("First-line drugs tried without adequate control", "一线药物治疗后仍控制不佳"),
            "boolean",
        ),
        Param("phq9_assessed", Text("PHQ-9 assessed", "已完成PHQ-9评估"), "boolean"),
        Param("gad7_assessed", Text("GAD-7 assessed", "已完成GAD-7评估"), "boolean"),
        Param(
            "contraindications",
            Text("Contraindications (comma-separated codes)", "禁忌证(以逗号分隔的代码)"),
            "text",
            required=False,
        ),
    ),
    derived_params=(Param("candidacy_met", Text("All candidacy criteria met", "满足全部手术适应条件"), "number"),),
    limits=(),
    evidence=Text(
        "DREZ expert consensus: candidates have neuropathic pain for 3-6 months or more not controlled by drugs or less invasive care, VAS >= 5, are usually adults, and have pain matching the spinal segment; contraindications are marked cognitive impairment, severe psychiatric disease not due to pain, and severe cardiopulmonary or coagulation disease. "
        "Screen with DN4 (or LANSS, painDETECT, NPQ, ID Pain), pain by VAS/NRS, mood by PHQ-9 and GAD-7. "
        "Follow up pain relief, new adjacent-segment pain, spinal stability, limb and bladder/bowel function. "
        "Evidence graded by GRADE.",
        "DREZ专家共识: 适应证为神经病理性疼痛病程3-6个月以上、药物或微创治疗控制不佳、VAS >= 5、通常为成人、疼痛范围与脊髓节段相符; 禁忌证为明显认知障碍、非疼痛所致的严重精神疾病、严重心肺疾病或凝血功能障碍。"
        "用DN4(或LANSS、painDETECT、NPQ、ID Pain)筛查, VAS/NRS评估疼痛, PHQ-9和GAD-7评估情绪。"
        "随访疼痛缓解、相邻节段新发疼痛、脊柱稳定性、肢体及大小便功能。"
        "证据按GRADE分级。",
    ),
    derive=_derive,
    validate=_validate,
)
