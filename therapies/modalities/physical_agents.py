"""Physical agents (heat, cold, therapeutic ultrasound, laser, shockwave), a peripheral component.

Per the review of central mechanisms in chronic low back pain in ``shared/reference``.
Dosing is agent- and device-specific, so only validity bounds apply.
"""

from __future__ import annotations

from .base import MINUTES, OTHER, Modality, Param, Text, choice

PHYSICAL_AGENTS = Modality(
    code="physical_agents",
    layer="peripheral",
    name=Text("Physical agents", "物理因子治疗"),
    short_name="physical agents",
    short_name_zh="物理因子",
    params=(
        choice(
            "agent",
            Text("Agent", "物理因子"),
            (
                ("heat", Text("Heat", "热疗")),
                ("cold", Text("Cold", "冷疗")),
                ("ultrasound", Text("Therapeutic ultrasound", "治疗性超声")),
                ("laser", Text("Laser", "激光")),
                ("shockwave", Text("Shockwave", "冲击波")),
                ("other", OTHER),
            ),
        ),
        Param("minutes", MINUTES, "number", unit="min", minimum=0, maximum=120, exclusive_minimum=True),
    ),
    limits=(),
    evidence=Text(
        "Physical agents are a peripheral component for chronic low back pain (central-mechanisms review). "
        "Dosing is agent- and device-specific; only validity bounds apply here.",
        "物理因子治疗是慢性腰痛的外周治疗组成(中枢机制综述)。剂量因物理因子和设备而异, 此处仅做有效性校验。",
    ),
    derive=None,
)
