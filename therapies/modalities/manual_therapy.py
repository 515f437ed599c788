"""Manual therapy, a peripheral component of the plan.

Spinal manipulation, mobilisation and myofascial trigger-point pressure per the review
of central mechanisms in chronic low back pain in ``shared/reference``. No dose limit is
published, so only validity bounds apply.
"""

from __future__ import annotations

from .base import MINUTES, OTHER, Modality, Param, Text, choice

MANUAL_THERAPY = Modality(
    code="manual_therapy",
    layer="peripheral",
    name=Text("Manual therapy", "手法治疗"),
    short_name="manual therapy",
    short_name_zh="手法治疗",
    params=(
        choice(
            "technique",
            Text("Technique", "手法"),
            (
                ("spinal_manipulation", Text("Spinal manipulation", "脊柱推拿整复")),
                ("mobilisation", Text("Mobilisation", "关节松动")),
                ("myofascial_trigger_point_pressure", Text("Myofascial trigger-point pressure", "肌筋膜触发点按压")),
                ("other", OTHER),
            ),
        ),
        Param("region", Text("Region", "治疗部位"), "text"),
        Param("minutes", MINUTES, "number", unit="min", minimum=0, maximum=120, exclusive_minimum=True),
    ),
    limits=(),
    evidence=Text(
        "Spinal manipulation, mobilisation and myofascial trigger-point pressure are peripheral components for chronic low back pain (central-mechanisms review). "
        "No dose limit is published; only validity bounds apply.",
        "脊柱推拿、关节松动和肌筋膜触发点按压是慢性腰痛的外周治疗组成(中枢机制综述)。"
        "无已发表的剂量上限, 仅做有效性校验。",
    ),
    derive=None,
)
