"""Transcutaneous electrical nerve stimulation (TENS), a peripheral component of the plan.

Modes per the review of peripheral nerve stimulation for peripheral neuropathic pain in
``shared/reference``. The intensity cap is clinic policy; device output limits are set
by IEC 60601-2-10.
"""

from __future__ import annotations

from .base import FREQUENCY, MINUTES, PULSE_WIDTH, Limit, Modality, Param, Text, choice

TENS = Modality(
    code="tens",
    layer="peripheral",
    name=Text("Transcutaneous electrical nerve stimulation (TENS)", "经皮神经电刺激(TENS)"),
    short_name="TENS",
    short_name_zh="TENS",
    params=(
        choice(
            "mode",
            Text("Mode", "模式"),
            (
                ("conventional", Text("Conventional (high frequency, low intensity)", "常规型(高频低强度)")),
                ("acupuncture_like", Text("Acupuncture-like (low frequency, high intensity)", "针刺样(低频高强度)")),
                ("brief_intense", Text("Brief-intense (high frequency, high intensity)", "短暂强刺激型(高频高强度)")),
            ),
        ),
        Param("frequency_hz", FREQUENCY, "number", unit="Hz", minimum=1, maximum=250),
        Param("pulse_width_us", PULSE_WIDTH, "number", unit="µs", minimum=10, maximum=500),
        Param("intensity_ma", Text("Intensity", "强度"), "number", unit="mA", minimum=0, maximum=80),
        Param("minutes", MINUTES, "number", unit="min", minimum=1, maximum=120),
    ),
    limits=(
        Limit(
            code="intensity",
            param="intensity_ma",
            maximum=60,
            unit="mA",
            scope="per session",
            description=Text(
                "Clinic cap at the upper end of the 30-60 mA used for acupuncture-like and brief-intense TENS; device output limits are set by IEC 60601-2-10",
                "本机构上限, 取针刺样和短暂强刺激型TENS常用30-60 mA的上端; 设备输出上限由IEC 60601-2-10规定",
            ),
            source="Clinic policy; modes per the peripheral nerve stimulation review",
        ),
    ),
    evidence=Text(
        "TENS modes (conventional: low intensity, high frequency; acupuncture-like: high intensity, low frequency; brief-intense: high intensity, high frequency) follow the review of peripheral nerve stimulation for peripheral neuropathic pain. "
        "The 60 mA intensity cap is a clinic policy, not a published threshold.",
        "TENS模式(常规型: 低强度高频; 针刺样: 高强度低频; 短暂强刺激型: 高强度高频)依据周围神经刺激治疗周围神经病理性疼痛的综述。"
        "60 mA强度上限为本机构规定, 非已发表阈值。",
    ),
    derive=None,
)
