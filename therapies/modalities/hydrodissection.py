"""Ultrasound-guided nerve hydrodissection, a peripheral component of the plan.

Dose and schedule from the common-peroneal entrapment case series in
``shared/reference``; volume cap from Lin et al. 2020, Front Pharmacol 11:625830 and
Chao et al. 2022, J Clin Med 11:3705.
"""

from __future__ import annotations

from .base import NERVE, OTHER, Limit, Modality, Param, Text, choice

HYDRODISSECTION = Modality(
    code="hydrodissection",
    layer="peripheral",
    name=Text("Ultrasound-guided nerve hydrodissection", "超声引导下神经水分离"),
    short_name="hydrodissection",
    short_name_zh="神经水分离",
    params=(
        Param("nerve", NERVE, "text"),
        choice(
            "guidance",
            Text("Guidance", "引导方式"),
            (
                ("ultrasound", Text("Ultrasound", "超声")),
                ("landmark", Text("Anatomical landmark", "体表解剖标志")),
            ),
        ),
        choice(
            "injectate",
            Text("Injectate", "注射液"),
            (
                ("dextrose_5pct", Text("5% dextrose", "5%葡萄糖")),
                ("saline", Text("Normal saline", "生理盐水")),
                ("other", OTHER),
            ),
        ),
        Param(
            "volume_ml", Text("Volume", "注射容量"), "number", unit="ml", minimum=0, maximum=30, exclusive_minimum=True
        ),
        Param(
            "injection_number",
            Text("Injection number in the series", "本疗程第几次注射"),
            "integer",
            minimum=1,
            maximum=10,
        ),
        Param(
            "repeat_interval_days",
            Text("Days since the previous injection", "距上次注射天数"),
            "integer",
            unit="days",
            minimum=0,
            maximum=90,
            required=False,
        ),
    ),
    limits=(
        Limit(
            code="volume",
            param="volume_ml",
            maximum=10,
            unit="ml",
            scope="per nerve per session",
            description=Text(
                "Largest volume in the cited 5% dextrose hydrodissection studies (case series about 5 ml; 1-4 ml; 10 ml for the median nerve)",
                "所引5%葡萄糖神经水分离研究中的最大容量(病例系列约5 ml; 1-4 ml; 正中神经10 ml)",
            ),
            source="Common-peroneal case series, shared reference; Lin et al. 2020, Front Pharmacol 11:625830; Chao et al. 2022, J Clin Med 11:3705",
        ),
        Limit(
            code="guidance",
            param="guidance",
            maximum=0,
            unit="",
            allowed=("ultrasound",),
            description=Text(
                "Hydrodissection is performed under ultrasound guidance in every cited study",
                "所引研究均在超声引导下进行神经水分离",
            ),
            source="Common-peroneal case series, shared reference; Lin et al. 2020; Chao et al. 2022",
        ),
    ),
    evidence=Text(
        "Ultrasound-guided hydrodissection with 5% dextrose, about 5 ml, 1-3 injections about 2 weeks apart, follow-up at 1 and 2 weeks, 4 weeks and 2 months; a course over 3 months responded worse (common-peroneal entrapment case series). "
        "The 10 ml cap is the largest volume in the cited studies (Chao et al. 2022, J Clin Med 11:3705); landmark guidance needs an override.",
        "超声引导下5%葡萄糖神经水分离, 约5 ml, 1-3次, 间隔约2周; 随访1周、2周、4周和2个月; 病程超过3个月者疗效较差(腓总神经卡压病例系列)。"
        "10 ml上限为所引研究中的最大容量(Chao等 2022, J Clin Med 11:3705); 体表标志引导须书面说明后越限。",
    ),
    derive=None,
)
