"""Transcranial direct current stimulation (tDCS), the central layer's first modality.

Anodal M1 tDCS, 2 mA for 20 min, is grade A for chronic low back pain in the review of
central mechanisms in ``shared/reference``. The safety envelope is Bikson et al. 2016,
Brain Stimul 9:641: <= 40 min, <= 4 mA and <= 7.2 C per session, with no serious
adverse effect in > 33,200 sessions. The current-density cap is clinic policy after
Bikson, Datta & Elwassif 2009, Clin Neurophysiol 120:1033.
"""

from __future__ import annotations

from typing import Any

from .base import OTHER, Limit, Modality, Param, Text, choice

BIKSON_2016 = "Bikson et al. 2016, Brain Stimul 9:641"


def _derive(params: dict[str, Any]) -> dict[str, float]:
    """Dose metrics of Bikson et al. 2016: current density and charge per session.

    Density is taken at the smaller electrode, where it is highest. Charge (C) =
    current (mA) / 1000 x duration (min) x 60, multiplied before dividing so that
    3 mA for 40 min gives exactly 7.2 C.
    """
    current_ma = float(params["current_ma"])
    minutes = float(params["duration_min"])
    area_cm2 = float(params["electrode_cm2"])
    return {
        "current_density_ma_cm2": current_ma / area_cm2,
        "charge_c": current_ma * minutes * 60.0 / 1000.0,
    }


TDCS = Modality(
    code="tdcs",
    layer="central",
    name=Text("Transcranial direct current stimulation (tDCS)", "经颅直流电刺激(tDCS)"),
    short_name="tDCS",
    short_name_zh="tDCS",
    params=(
        choice(
            "anode_site",
            Text("Anode site", "阳极位置"),
            (
                ("M1", Text("Primary motor cortex (M1)", "初级运动皮层(M1)")),
                ("left_DLPFC", Text("Left dorsolateral prefrontal cortex", "左侧背外侧前额叶皮层")),
                ("right_DLPFC", Text("Right dorsolateral prefrontal cortex", "右侧背外侧前额叶皮层")),
                ("other", OTHER),
            ),
        ),
        choice(
            "cathode_site",
            Text("Cathode site", "阴极位置"),
            (
                ("contralateral_supraorbital", Text("Contralateral supraorbital", "对侧眶上区")),
                ("contralateral_M1", Text("Contralateral M1", "对侧M1")),
                ("extracephalic", Text("Extracephalic", "头外")),
                ("other", OTHER),
            ),
        ),
        Param(
            "current_ma",
            Text("Current", "电流强度"),
            "number",
            unit="mA",
            minimum=0,
            maximum=10,
            exclusive_minimum=True,
        ),
        Param(
            "duration_min",
            Text("Duration", "刺激时长"),
            "number",
            unit="min",
            minimum=0,
            maximum=120,
            exclusive_minimum=True,
        ),
        Param(
            "electrode_cm2",
            Text("Electrode area (smaller electrode)", "电极面积(较小电极)"),
            "number",
            unit="cm²",
            minimum=0,
            maximum=100,
            exclusive_minimum=True,
        ),
    ),
    derived_params=(
        Param("current_density_ma_cm2", Text("Current density", "电流密度"), "number", unit="mA/cm²"),
        Param("charge_c", Text("Total charge", "总电荷量"), "number", unit="C"),
    ),
    limits=(
        Limit(
            code="current",
            param="current_ma",
            maximum=4,
            unit="mA",
            scope="per session",
            description=Text(
                "Highest current in conventional tDCS with no serious adverse effect reported",
                "常规tDCS中未见严重不良反应报告的最高电流",
            ),
            source=BIKSON_2016,
        ),
        Limit(
            code="duration",
            param="duration_min",
            maximum=40,
            unit="min",
            scope="per session",
            description=Text(
                "Longest session in conventional tDCS with no serious adverse effect reported",
                "常规tDCS中未见严重不良反应报告的最长单次时长",
            ),
            source=BIKSON_2016,
        ),
        Limit(
            code="charge",
            param="charge_c",
            maximum=7.2,
            unit="C",
            scope="per session",
            description=Text(
                "Largest charge per session (mA x min x 60 / 1000) in conventional tDCS with no serious adverse effect reported",
                "常规tDCS中未见严重不良反应报告的最大单次电荷量(mA x 分钟 x 60 / 1000)",
            ),
            source=BIKSON_2016,
        ),
        Limit(
            code="current_density",
            param="current_density_ma_cm2",
            maximum=0.1,
            unit="mA/cm²",
            scope="at the smaller electrode",
            description=Text(
                "Clinic skin-protection cap; conventional 1-2 mA over 25-35 cm² sponges gives 0.029-0.08 mA/cm². "
                "Not a published injury threshold: brain injury in animals needs densities orders of magnitude higher",
                "本机构皮肤保护上限; 常规1-2 mA、25-35 cm²海绵电极对应0.029-0.08 mA/cm²。"
                "并非已发表的损伤阈值, 动物脑损伤所需电流密度高出数个数量级",
            ),
            source=f"Clinic policy after Bikson, Datta & Elwassif 2009, Clin Neurophysiol 120:1033; {BIKSON_2016}",
        ),
    ),
    evidence=Text(
        "Anodal tDCS over M1, typically 2 mA for 20 min, for chronic low back pain (grade A in the Latin-American consensus cited by the central-mechanisms review). "
        "Conventional protocols up to 40 min, 4 mA and 7.2 C per session produced no serious adverse effect in over 33,200 sessions (Bikson et al. 2016, Brain Stimul 9:641). "
        "The 0.1 mA/cm² current-density cap is a clinic skin-protection policy above the 0.029-0.08 mA/cm² of conventional sponge protocols (Bikson, Datta & Elwassif 2009, Clin Neurophysiol 120:1033); larger currents need larger electrodes or an override.",
        "M1区阳极tDCS, 通常2 mA、20分钟, 用于慢性腰痛(中枢机制综述所引拉美共识A级推荐)。"
        "常规方案每次不超过40分钟、4 mA、7.2 C, 在超过33,200次治疗中未见严重不良反应(Bikson等 2016, Brain Stimul 9:641)。"
        "电流密度上限0.1 mA/cm²为本机构皮肤保护规定, 高于常规海绵电极方案的0.029-0.08 mA/cm²(Bikson, Datta & Elwassif 2009); 更大电流需更大电极或经治疗师书面说明后越限。",
    ),
    derive=_derive,
)
