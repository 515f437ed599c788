"""Therapeutic exercise, a peripheral component of the plan.

Core stabilisation, postural, breathing and aerobic training per the review of central
mechanisms in chronic low back pain in ``shared/reference``; exertion and session caps
after ACSM's Guidelines for Exercise Testing and Prescription, 11th ed.
"""

from __future__ import annotations

from .base import OTHER, Limit, Modality, Param, Text, choice

ACSM = "ACSM's Guidelines for Exercise Testing and Prescription, 11th ed."

EXERCISE = Modality(
    code="exercise",
    layer="peripheral",
    name=Text("Therapeutic exercise", "运动治疗"),
    short_name="exercise",
    short_name_zh="运动治疗",
    params=(
        choice(
            "type",
            Text("Exercise type", "运动类型"),
            (
                ("core_stabilisation", Text("Core stabilisation", "核心稳定训练")),
                ("aerobic", Text("Aerobic", "有氧运动")),
                ("breathing_training", Text("Breathing training", "呼吸训练")),
                ("postural_training", Text("Postural training", "姿势训练")),
                ("other", OTHER),
            ),
        ),
        Param("sets", Text("Sets", "组数"), "integer", minimum=0, maximum=20, required=False),
        Param("reps", Text("Repetitions per set", "每组次数"), "integer", minimum=0, maximum=100, required=False),
        Param("minutes", Text("Minutes per session", "每次时长"), "number", unit="min", minimum=0, maximum=180),
        Param(
            "rpe",
            Text("Perceived exertion (Borg 6-20)", "自觉疲劳程度(Borg 6-20)"),
            "number",
            minimum=6,
            maximum=20,
            required=False,
        ),
        Param(
            "sessions_per_week",
            Text("Sessions per week", "每周次数"),
            "integer",
            minimum=1,
            maximum=14,
            required=False,
        ),
    ),
    limits=(
        Limit(
            code="session_minutes",
            param="minutes",
            maximum=90,
            unit="min",
            scope="per session",
            description=Text(
                "Clinic cap on one supervised session; aerobic prescriptions are 20-60 min",
                "本机构单次指导训练上限; 有氧运动处方通常为20-60分钟",
            ),
            source=f"Clinic policy; {ACSM}",
        ),
        Limit(
            code="exertion",
            param="rpe",
            maximum=17,
            unit="Borg RPE",
            scope="per session",
            description=Text(
                "Top of the vigorous band (RPE 14-17); near-maximal effort (>= 18) is not prescribed in chronic pain without review",
                "高强度区间上限(RPE 14-17); 慢性疼痛患者未经评估不处方接近最大用力(>= 18)",
            ),
            source=ACSM,
        ),
    ),
    evidence=Text(
        "Core stabilisation, postural and breathing training and aerobic exercise (BDNF-mediated central effects) are the exercise components of central-peripheral rehabilitation for chronic low back pain (central-mechanisms review). "
        "Exertion is capped at the top of the ACSM vigorous band (Borg 17); session length at a 90 min clinic cap.",
        "核心稳定训练、姿势训练、呼吸训练和有氧运动(经BDNF的中枢效应)是慢性腰痛中枢-外周康复的运动组成部分(中枢机制综述)。"
        "用力程度上限为ACSM高强度区间上限(Borg 17), 单次时长上限为本机构规定的90分钟。",
    ),
    derive=None,
)
