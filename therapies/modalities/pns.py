"""Peripheral nerve stimulation (PNS), a peripheral component of the plan.

Short-term (trial) and long-term (implanted) PNS per the review of peripheral nerve
stimulation for peripheral neuropathic pain in ``shared/reference``. Programming is
device-specific, so only validity bounds apply.
"""

from __future__ import annotations

from .base import FREQUENCY, NERVE, PULSE_WIDTH, Modality, Param, Text, choice

PNS = Modality(
    code="pns",
    layer="peripheral",
    name=Text("Peripheral nerve stimulation (PNS)", "周围神经刺激(PNS)"),
    short_name="PNS",
    short_name_zh="PNS",
    params=(
        choice(
            "term",
            Text("Term", "疗程类型"),
            (
                ("short_term", Text("Short-term (trial, days to weeks)", "短时程(测试期, 数天至数周)")),
                ("long_term", Text("Long-term (implanted)", "长时程(植入式)")),
            ),
        ),
        choice(
            "target",
            Text("Target", "刺激靶点"),
            (
                ("peripheral_nerve", Text("Peripheral nerve", "周围神经")),
                ("spinal_nerve_root", Text("Spinal nerve root", "脊神经根")),
                ("dorsal_root_ganglion", Text("Dorsal root ganglion", "背根神经节")),
                ("peripheral_nerve_field", Text("Peripheral nerve field", "周围神经区域")),
            ),
        ),
        Param("nerve", NERVE, "text"),
        Param("frequency_hz", FREQUENCY, "number", unit="Hz", minimum=1, maximum=200),
        Param("pulse_width_us", PULSE_WIDTH, "number", unit="µs", minimum=10, maximum=1000),
        Param("amplitude_ma", Text("Amplitude", "幅度"), "number", unit="mA", minimum=0, maximum=30),
    ),
    limits=(),
    evidence=Text(
        "Short-term (trial) and long-term (implanted) PNS, including spinal nerve root, dorsal root ganglion and peripheral nerve field stimulation, per the review of PNS for peripheral neuropathic pain. "
        "Programming is device-specific; only validity bounds apply here. "
        "Record adverse events (lead migration, infection, discomfort) per session.",
        "短时程(测试)与长时程(植入)周围神经刺激, 包括脊神经根、背根神经节和周围神经区域刺激, 依据PNS治疗周围神经病理性疼痛的综述。"
        "参数设置因设备而异, 此处仅做有效性校验。"
        "每次治疗记录不良事件(电极移位、感染、不适)。",
    ),
    derive=None,
)
