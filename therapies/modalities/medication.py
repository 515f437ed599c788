"""Neuropathic pain medication, a peripheral component of the plan.

First-line drugs per the DREZ expert consensus in ``shared/reference``. Daily caps are
adult label or guideline maxima (product labels; Dworkin et al. 2007, Pain 132:237;
Vinik et al. 2007, Pain 128:169) for normal renal and hepatic function.
"""

from __future__ import annotations

from typing import Any

from .base import OTHER, Limit, Modality, Param, Text, choice

FIRST_LINE_DRUGS: tuple[str, ...] = (
    "gabapentin",
    "pregabalin",
    "carbamazepine",
    "oxcarbazepine",
    "amitriptyline",
)
"""First-line neuropathic pain drugs named by the DREZ expert consensus (reference).

Duloxetine and lamotrigine are "possibly effective"; topical lidocaine and
high-concentration capsaicin are listed separately as topical options.
"""

DRUG_NAMES: dict[str, Text] = {
    "gabapentin": Text("Gabapentin", "加巴喷丁"),
    "pregabalin": Text("Pregabalin", "普瑞巴林"),
    "carbamazepine": Text("Carbamazepine", "卡马西平"),
    "oxcarbazepine": Text("Oxcarbazepine", "奥卡西平"),
    "amitriptyline": Text("Amitriptyline", "阿米替林"),
    "duloxetine": Text("Duloxetine", "度洛西汀"),
    "lamotrigine": Text("Lamotrigine", "拉莫三嗪"),
    "lidocaine_topical": Text("Topical lidocaine (5% plaster)", "利多卡因外用(5%贴剂)"),
    "capsaicin_8pct": Text("Capsaicin 8% patch", "8%辣椒素贴剂"),
    "other": OTHER,
}
_ORAL_DRUGS = (*FIRST_LINE_DRUGS, "duloxetine", "lamotrigine")

# (drug, maximum mg per day, source): adult maxima, normal renal and hepatic function.
_DAILY_DOSE_CAPS: tuple[tuple[str, float, str], ...] = (
    ("gabapentin", 3600, "Neurontin label; Dworkin et al. 2007, Pain 132:237"),
    ("pregabalin", 600, "Lyrica label; Dworkin et al. 2007, Pain 132:237"),
    ("carbamazepine", 1200, "Tegretol label: trigeminal neuralgia, do not exceed 1200 mg daily"),
    ("oxcarbazepine", 2400, "Trileptal label"),
    ("amitriptyline", 150, "Dworkin et al. 2007, Pain 132:237, tricyclics for neuropathic pain"),
    ("duloxetine", 120, "Cymbalta label; Dworkin et al. 2007, Pain 132:237"),
    ("lamotrigine", 400, "Vinik et al. 2007, Pain 128:169, highest dose tested in neuropathic pain"),
)

# (drug, maximum patches per application, source, description).
_PATCH_CAPS: tuple[tuple[str, float, str, Text], ...] = (
    (
        "lidocaine_topical",
        3,
        "Lidocaine 5% medicated plaster label: up to 3 at once, 12 h in 24 h",
        Text("Up to 3 lidocaine 5% plasters at the same time", "利多卡因5%贴剂同时最多3贴"),
    ),
    (
        "capsaicin_8pct",
        4,
        "Capsaicin 179 mg cutaneous patch label: up to 4 patches per treatment",
        Text("Up to 4 capsaicin 8% patches per treatment", "8%辣椒素贴剂每次治疗最多4贴"),
    ),
)


def _validate(params: dict[str, Any]) -> dict[str, str]:
    """An oral drug needs its daily dose: the per-drug safety cap reads it."""
    drug = params.get("drug")
    if drug in _ORAL_DRUGS and "daily_dose_mg" not in params:
        return {"daily_dose_mg": f"daily_dose_mg is required for {drug}"}
    return {}


def _derive(params: dict[str, Any]) -> dict[str, float]:
    return {"first_line": 1.0 if params["drug"] in FIRST_LINE_DRUGS else 0.0}


def _daily_dose_limit(drug: str, cap: float, source: str) -> Limit:
    return Limit(
        code=f"daily_dose_{drug}",
        param="daily_dose_mg",
        maximum=cap,
        unit="mg",
        scope="per day",
        when=("drug", drug),
        description=Text(
            f"Maximum adult daily dose of {DRUG_NAMES[drug].en.lower()}; lower in renal or hepatic impairment",
            f"{DRUG_NAMES[drug].zh_hans}成人最大日剂量; 肝肾功能不全者更低",
        ),
        source=source,
    )


def _patch_limit(drug: str, cap: float, source: str, description: Text) -> Limit:
    return Limit(
        code=f"patches_{drug}",
        param="patches",
        maximum=cap,
        unit="patches",
        scope="per application",
        when=("drug", drug),
        description=description,
        source=source,
    )


MEDICATION = Modality(
    code="medication",
    layer="peripheral",
    name=Text("Neuropathic pain medication", "神经病理性疼痛药物"),
    short_name="medication",
    short_name_zh="药物",
    params=(
        choice("drug", Text("Drug", "药物"), tuple(DRUG_NAMES.items())),
        Param(
            "daily_dose_mg",
            Text("Daily dose", "日剂量"),
            "number",
            unit="mg",
            minimum=0,
            maximum=100000,
            required=False,
        ),
        Param(
            "patches",
            Text("Patches per application", "每次贴片数"),
            "integer",
            unit="patches",
            minimum=0,
            maximum=10,
            required=False,
        ),
        choice(
            "response",
            Text("Response", "疗效"),
            (
                ("none", Text("None", "无效")),
                ("partial", Text("Partial", "部分有效")),
                ("good", Text("Good", "有效")),
                ("intolerable", Text("Intolerable side effects", "不能耐受")),
            ),
            required=False,
        ),
    ),
    derived_params=(Param("first_line", Text("First-line drug", "一线药物"), "number"),),
    limits=(
        *(_daily_dose_limit(drug, cap, source) for drug, cap, source in _DAILY_DOSE_CAPS),
        *(_patch_limit(drug, cap, source, description) for drug, cap, source, description in _PATCH_CAPS),
    ),
    evidence=Text(
        "First-line drugs per the DREZ expert consensus: gabapentin, pregabalin, carbamazepine, oxcarbazepine, amitriptyline; duloxetine and lamotrigine possibly effective; topical lidocaine or high-concentration capsaicin. "
        "Daily caps are adult label or guideline maxima (Dworkin et al. 2007, Pain 132:237; Vinik et al. 2007, Pain 128:169); renal and hepatic dose reduction is not modelled and stays the prescriber's responsibility.",
        "DREZ专家共识的一线药物: 加巴喷丁、普瑞巴林、卡马西平、奥卡西平、阿米替林; 度洛西汀和拉莫三嗪可能有效; 外用利多卡因或高浓度辣椒素。"
        "日剂量上限取说明书或指南的成人最大剂量(Dworkin等 2007, Pain 132:237; Vinik等 2007, Pain 128:169); 肝肾功能不全的减量未建模, 由处方医师负责。",
    ),
    derive=_derive,
    validate=_validate,
)
