"""Repetitive transcranial magnetic stimulation (rTMS), the central layer's second modality.

Lefaucheur et al. 2020, Clin Neurophysiol 131:474 (evidence-based guidelines): Level A
for high-frequency rTMS of M1 contralateral to the painful side in neuropathic pain.
Contraindication screening follows Rossi et al. 2021, Clin Neurophysiol 132:269. The
numeric caps are clinic policy; train timing follows the TMS safety guidelines (Rossi
et al. 2009, Clin Neurophysiol 120:2008).
"""

from __future__ import annotations

from typing import Any

from .base import FREQUENCY, OTHER, Limit, Modality, Param, Text, choice

ROSSI = "Rossi et al. 2009, Clin Neurophysiol 120:2008; Rossi et al. 2021, Clin Neurophysiol 132:269"
LEFAUCHEUR_2020 = "Lefaucheur et al. 2020, Clin Neurophysiol 131:474"
_CAP_SOURCE = f"Clinic policy: no published cap found; consult the TMS safety guidelines ({ROSSI})"

HEMISPHERES: tuple[str, ...] = ("left", "right", "bilateral", "midline")
"""Where an rTMS target sits: one hemisphere, both (one coil per side or in turn), or the
midline (vertex: the leg and trunk representation of M1)."""


def _validate(params: dict[str, Any]) -> dict[str, str]:
    """TMS contraindication screening is mandatory (Rossi et al. 2021 questionnaire);
    a left-DLPFC target is in the left hemisphere by name."""
    errors: dict[str, str] = {}
    if params.get("contraindication_screen_done") is False:
        errors["contraindication_screen_done"] = (
            "contraindication_screen_done must be true: complete the TMS safety screening "
            "questionnaire (Rossi et al. 2021) before rTMS; this cannot be overridden"
        )
    hemisphere = params.get("hemisphere")
    if params.get("site") == "left_DLPFC" and hemisphere is not None and hemisphere != "left":
        errors["hemisphere"] = (
            f"hemisphere must be left for the left DLPFC, not {hemisphere}; choose the site "
            "'other' for another prefrontal target"
        )
    return errors


RTMS = Modality(
    code="rtms",
    layer="central",
    name=Text("Repetitive transcranial magnetic stimulation (rTMS)", "重复经颅磁刺激(rTMS)"),
    short_name="rTMS",
    short_name_zh="rTMS",
    params=(
        choice(
            "site",
            Text("Target site", "刺激靶点"),
            (
                ("M1", Text("Primary motor cortex (M1)", "初级运动皮层(M1)")),
                ("left_DLPFC", Text("Left dorsolateral prefrontal cortex", "左侧背外侧前额叶皮层")),
                ("other", OTHER),
            ),
        ),
        choice(
            "hemisphere",
            Text("Hemisphere", "刺激半球"),
            (
                ("left", Text("Left hemisphere", "左侧半球")),
                ("right", Text("Right hemisphere", "右侧半球")),
                ("bilateral", Text("Both hemispheres", "双侧半球")),
                ("midline", Text("Midline (vertex)", "中线(头顶)")),
            ),
        ),
        Param("frequency_hz", FREQUENCY, "number", unit="Hz", minimum=0, maximum=50, exclusive_minimum=True),
        Param(
            "intensity_pct_rmt",
            Text("Intensity (% of resting motor threshold)", "强度(静息运动阈值百分比)"),
            "number",
            unit="% RMT",
            minimum=1,
            maximum=150,
        ),
        Param("pulses", Text("Pulses per session", "每次脉冲数"), "integer", minimum=1, maximum=10000),
        Param("contraindication_screen_done", Text("Contraindication screening done", "已完成禁忌证筛查"), "boolean"),
    ),
    limits=(
        Limit(
            code="m1_contralateral",
            param="hemisphere",
            maximum=0,
            unit="",
            when=("site", "M1"),
            opposite_to="affected_side",
            description=Text(
                "For one-sided pain the M1 target is the hemisphere opposite the pain (Level A for neuropathic pain); bilateral or midline pain has no opposite side",
                "单侧疼痛时M1靶点取疼痛对侧半球(神经病理性疼痛A级证据); 双侧或中线疼痛无对侧之分",
            ),
            source=f"{LEFAUCHEUR_2020}, Level A",
        ),
        Limit(
            code="frequency",
            param="frequency_hz",
            maximum=20,
            unit="Hz",
            scope="per train",
            description=Text(
                "Clinic cap on stimulation frequency; not a published threshold",
                "本机构刺激频率上限; 非已发表阈值",
            ),
            source=_CAP_SOURCE,
        ),
        Limit(
            code="intensity",
            param="intensity_pct_rmt",
            maximum=120,
            unit="% RMT",
            scope="per session",
            description=Text("Clinic cap on intensity; not a published threshold", "本机构刺激强度上限; 非已发表阈值"),
            source=_CAP_SOURCE,
        ),
        Limit(
            code="pulses",
            param="pulses",
            maximum=3000,
            unit="pulses",
            scope="per session",
            description=Text(
                "Clinic cap on pulses per session; not a published threshold",
                "本机构单次脉冲数上限; 非已发表阈值",
            ),
            source=_CAP_SOURCE,
        ),
    ),
    evidence=Text(
        "Lefaucheur et al. 2020 (Clin Neurophysiol 131:474), evidence-based guidelines, abstract: Level A (definite efficacy) for high-frequency rTMS of the primary motor cortex (M1) contralateral to the painful side for neuropathic pain; Level B (probable efficacy) for high-frequency rTMS of the left M1 or the left DLPFC for improving quality of life or pain, respectively, in fibromyalgia; Level A/B is not reached in any other condition, so no guideline level supports the left DLPFC for low back pain. "
        "The target records its hemisphere: for one-sided pain the M1 target is the hemisphere opposite the pain, and another side needs an override reason; bilateral or midline pain (e.g. axial low back pain) has no opposite side, so the hemisphere chosen is recorded as the therapist's choice. "
        "The caps of 20 Hz, 120 % RMT and 3000 pulses per session are clinic policy, not published thresholds; train duration and inter-train interval (not modelled here) follow the TMS safety guidelines (Rossi et al. 2009, Clin Neurophysiol 120:2008; 2021, Clin Neurophysiol 132:269). "
        "Contraindication screening is mandatory and cannot be overridden.",
        "Lefaucheur等 2020(Clin Neurophysiol 131:474)循证指南摘要: 高频rTMS刺激疼痛对侧初级运动皮层(M1)治疗神经病理性疼痛为A级证据(肯定有效); 高频rTMS刺激左侧M1或左侧DLPFC分别改善纤维肌痛的生活质量或疼痛为B级证据(很可能有效); 其他疾病均未达到A/B级, 因此左侧DLPFC用于腰痛没有指南证据等级支持。"
        "靶点须记录刺激半球: 单侧疼痛时M1靶点取疼痛对侧半球, 选择其他半球须填写越限理由; 双侧或中线疼痛(如轴性腰痛)无对侧之分, 所选半球作为治疗师的选择记录在案。"
        "每次20 Hz、120% RMT、3000个脉冲的上限为本机构规定, 非已发表阈值; 刺激串时长和串间间隔(此处未建模)遵循TMS安全指南(Rossi等 2009, Clin Neurophysiol 120:2008; 2021, Clin Neurophysiol 132:269)。"
        "禁忌证筛查为必须项, 不可越限。",
    ),
    derive=None,
    validate=_validate,
)
