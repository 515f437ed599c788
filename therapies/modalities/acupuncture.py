"""Acupuncture, a peripheral component of the plan.

Body, wrist-ankle and electroacupuncture per the review of central mechanisms in
chronic low back pain in ``shared/reference``. No dose limit is published, so only
validity bounds apply.
"""

from __future__ import annotations

from .base import OTHER, Modality, Param, Text, choice

ACUPUNCTURE = Modality(
    code="acupuncture",
    layer="peripheral",
    name=Text("Acupuncture", "针刺治疗"),
    short_name="acupuncture",
    short_name_zh="针刺",
    params=(
        choice(
            "style",
            Text("Style", "针刺方式"),
            (
                ("body", Text("Body acupuncture", "体针")),
                ("wrist_ankle", Text("Wrist-ankle acupuncture", "腕踝针")),
                ("electro", Text("Electroacupuncture", "电针")),
                ("other", OTHER),
            ),
        ),
        Param("points", Text("Points", "穴位"), "text"),
        Param("needles", Text("Needles", "针数"), "integer", minimum=1, maximum=40),
        Param("minutes", Text("Needle retention", "留针时间"), "number", unit="min", minimum=1, maximum=60),
    ),
    limits=(),
    evidence=Text(
        "Acupuncture, including wrist-ankle acupuncture, is a peripheral component for chronic low back pain (central-mechanisms review). "
        "No dose limit is published; only validity bounds apply.",
        "针刺(包括腕踝针)是慢性腰痛的外周治疗组成(中枢机制综述)。无已发表的剂量上限, 仅做有效性校验。",
    ),
    derive=None,
)
