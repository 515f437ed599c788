"""Modality catalogue of the central-peripheral rehab plan: parameters, safety limits.

Pure module: standard library only, no Django. Views, serializers, services and the
admin ask `check_parameters()` whether a therapist's parameters are well formed and
inside the modality's safety limits, and render `Modality.as_dict()` for the API and
the therapist console.

Two kinds of bound, kept apart on purpose:

* `Param.minimum` / `Param.maximum` are *hard validity*: a value outside is malformed
  input (a typo, a unit mix-up) and lands in `Check.errors`. Always refused.
* `Limit` is a *safety limit* from the literature or a named clinic policy. A value
  above it is a `Violation`: refused unless a therapist overrides it with a recorded
  reason. A value equal to the limit is accepted.

Sources (each limit names its own in `Limit.source`):

* Central layer and peripheral components: the review of central mechanisms in
  chronic low back pain in ``shared/reference`` (anodal M1 tDCS 2 mA 20 min, grade A;
  core stabilisation, manual therapy, acupuncture, physical agents).
* tDCS envelope: Bikson et al. 2016, Brain Stimul 9:641 (<= 40 min, <= 4 mA,
  <= 7.2 C per session; no serious adverse effect in > 33,200 sessions).
* rTMS: Lefaucheur et al. 2020, Clin Neurophysiol 131:474 (evidence-based
  guidelines: Level A for high-frequency rTMS of M1 contralateral to the painful
  side in neuropathic pain); Rossi et al. 2021, Clin Neurophysiol 132:269
  (screening questionnaire). Its numeric caps are clinic policy.
* TENS / PNS modes: the review of peripheral nerve stimulation in
  ``shared/reference``.
* Hydrodissection: the common-peroneal case series in ``shared/reference``; Lin et al.
  2020, Front Pharmacol 11:625830; Chao et al. 2022, J Clin Med 11:3705.
* Medication and DREZ candidacy: the DREZ expert consensus in ``shared/reference``;
  product labels; Dworkin et al. 2007, Pain 132:237; Vinik et al. 2007, Pain 128:169.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Layer = Literal["central", "peripheral"]
ParamKind = Literal["number", "integer", "choice", "text", "boolean"]

__all__ = [
    "DREZ_CONTRAINDICATIONS",
    "DREZ_FOLLOW_UP_ITEMS",
    "FIRST_LINE_DRUGS",
    "HEMISPHERES",
    "MODALITIES",
    "CandidacyCheck",
    "Check",
    "Layer",
    "Limit",
    "Modality",
    "Param",
    "ParamKind",
    "Text",
    "Violation",
    "check_parameters",
    "drez_candidacy",
    "get_modality",
    "opposite_side",
]


# -----------------------------------------------------------------------------
# Data shapes
# -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A bilingual label: English and Simplified Chinese."""

    en: str
    zh_hans: str

    def as_dict(self) -> dict[str, str]:
        return {"en": self.en, "zh-hans": self.zh_hans}

    def active(self) -> str:
        """The text in the active language (Simplified Chinese for any zh locale)."""
        from django.utils.translation import get_language

        return self.zh_hans if (get_language() or "en").lower().startswith("zh") else self.en


@dataclass(frozen=True)
class Param:
    """One parameter of a modality.

    `minimum` / `maximum` are hard validity bounds (inclusive, unless
    `exclusive_minimum`): outside them the input is malformed and always refused.
    `choice_labels`, when given, are aligned with `choices`. `max_length` applies to
    text.
    """

    key: str
    label: Text
    kind: ParamKind
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    required: bool = True
    exclusive_minimum: bool = False
    choice_labels: tuple[Text, ...] = ()
    max_length: int = 200

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label.as_dict(),
            "kind": self.kind,
            "unit": self.unit,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "exclusive_minimum": self.exclusive_minimum,
            "choices": [
                {"value": value, "label": self._choice_label(i).as_dict()} for i, value in enumerate(self.choices)
            ],
            "required": self.required,
        }

    def _choice_label(self, index: int) -> Text:
        if index < len(self.choice_labels):
            return self.choice_labels[index]
        value = self.choices[index]
        return Text(value, value)


@dataclass(frozen=True)
class Limit:
    """A safety limit: exceeding it is refused unless a therapist overrides it.

    `param` is the field the limit reads; it may be a derived one (tDCS ``charge_c``).
    `scope` completes the message ("per session", "per day"). `when` = (param, value)
    restricts the limit to one choice, e.g. a per-drug dose cap. `allowed`, when set,
    makes this a categorical rule on a choice param (the value must be one of
    `allowed`); `maximum` is then 0 and unused, and a breach is reported with
    ``limit=0`` and ``value=1``. `opposite_to`, when set, names a context key (the
    patient's ``affected_side``): the choice param must then name the side opposite
    the one the context gives (left <-> right), reported like `allowed`; with no
    one-sided context (bilateral, not lateralised, unknown) the rule does not apply.
    """

    code: str
    param: str
    maximum: float
    unit: str
    description: Text
    source: str
    scope: str = ""
    when: tuple[str, str] | None = None
    allowed: tuple[str, ...] = ()
    opposite_to: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "param": self.param,
            "maximum": None if self.allowed or self.opposite_to else self.maximum,
            "unit": self.unit,
            "scope": self.scope,
            "description": self.description.as_dict(),
            "source": self.source,
            "when": None if self.when is None else {"param": self.when[0], "equals": self.when[1]},
            "allowed": list(self.allowed),
            "opposite_to": self.opposite_to or None,
        }


@dataclass(frozen=True)
class Modality:
    """A plan component type: its parameters, safety limits and evidence.

    `derive` computes dose metrics from the normalised parameters (e.g. tDCS charge);
    it runs only when every parameter is valid. `validate` adds cross-field errors
    (never overridable). `derived_params` describe the derived fields for the UI.
    """

    code: str
    layer: Layer
    name: Text
    params: tuple[Param, ...]
    limits: tuple[Limit, ...]
    evidence: Text
    derive: Callable[[dict[str, Any]], dict[str, float]] | None
    short_name: str = ""
    validate: Callable[[dict[str, Any]], dict[str, str]] | None = None
    derived_params: tuple[Param, ...] = ()

    def param(self, key: str) -> Param:
        for param in self.params:
            if param.key == key:
                return param
        raise KeyError(key)

    @property
    def label(self) -> str:
        return self.short_name or self.code

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "layer": self.layer,
            "name": self.name.as_dict(),
            "short_name": self.label,
            "params": [param.as_dict() for param in self.params],
            "derived": [param.as_dict() for param in self.derived_params],
            "limits": [limit.as_dict() for limit in self.limits],
            "evidence": self.evidence.as_dict(),
        }


@dataclass(frozen=True)
class Violation:
    """A safety limit exceeded; `message` names the limit and its source."""

    field: str
    code: str
    limit: float
    unit: str
    value: float
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "field": self.field,
            "code": self.code,
            "limit": self.limit,
            "unit": self.unit,
            "value": self.value,
            "message": self.message,
        }


@dataclass(frozen=True)
class Check:
    """Outcome of `check_parameters`.

    `errors` (field -> message) are malformed, missing or unknown inputs: never
    overridable. `violations` are safety limits exceeded: overridable with a recorded
    reason.
    """

    params: dict[str, Any]
    derived: dict[str, float]
    errors: dict[str, str]
    violations: tuple[Violation, ...]

    @property
    def ok(self) -> bool:
        return not self.errors and not self.violations

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "params": dict(self.params),
            "derived": dict(self.derived),
            "errors": dict(self.errors),
            "violations": [violation.as_dict() for violation in self.violations],
        }


@dataclass(frozen=True)
class CandidacyCheck:
    """One DREZ candidacy criterion and whether the patient meets it."""

    code: str
    passed: bool
    message: Text

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "passed": self.passed,
            "message": self.message.as_dict(),
        }


# -----------------------------------------------------------------------------
# Shared vocabulary
# -----------------------------------------------------------------------------

_OTHER = Text("Other", "其他")
_MINUTES = Text("Minutes", "时长")
_FREQUENCY = Text("Frequency", "频率")
_PULSE_WIDTH = Text("Pulse width", "脉宽")
_NERVE = Text("Nerve", "神经")

_BIKSON_2016 = "Bikson et al. 2016, Brain Stimul 9:641"
_ROSSI = "Rossi et al. 2009, Clin Neurophysiol 120:2008; Rossi et al. 2021, Clin Neurophysiol 132:269"
_LEFAUCHEUR_2020 = "Lefaucheur et al. 2020, Clin Neurophysiol 131:474"


def _choice(
    key: str,
    label: Text,
    options: Sequence[tuple[str, Text]],
    *,
    required: bool = True,
) -> Param:
    return Param(
        key=key,
        label=label,
        kind="choice",
        choices=tuple(value for value, _ in options),
        choice_labels=tuple(text for _, text in options),
        required=required,
    )


# -----------------------------------------------------------------------------
# Central layer
# -----------------------------------------------------------------------------


def _tdcs_derive(params: dict[str, Any]) -> dict[str, float]:
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


_TDCS = Modality(
    code="tdcs",
    layer="central",
    name=Text("Transcranial direct current stimulation (tDCS)", "经颅直流电刺激(tDCS)"),
    short_name="tDCS",
    params=(
        _choice(
            "anode_site",
            Text("Anode site", "阳极位置"),
            (
                ("M1", Text("Primary motor cortex (M1)", "初级运动皮层(M1)")),
                (
                    "left_DLPFC",
                    Text("Left dorsolateral prefrontal cortex", "左侧背外侧前额叶皮层"),
                ),
                (
                    "right_DLPFC",
                    Text("Right dorsolateral prefrontal cortex", "右侧背外侧前额叶皮层"),
                ),
                ("other", _OTHER),
            ),
        ),
        _choice(
            "cathode_site",
            Text("Cathode site", "阴极位置"),
            (
                (
                    "contralateral_supraorbital",
                    Text("Contralateral supraorbital", "对侧眶上区"),
                ),
                ("contralateral_M1", Text("Contralateral M1", "对侧M1")),
                ("extracephalic", Text("Extracephalic", "头外")),
                ("other", _OTHER),
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
        Param(
            "current_density_ma_cm2",
            Text("Current density", "电流密度"),
            "number",
            unit="mA/cm²",
        ),
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
            source=_BIKSON_2016,
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
            source=_BIKSON_2016,
        ),
        Limit(
            code="charge",
            param="charge_c",
            maximum=7.2,
            unit="C",
            scope="per session",
            description=Text(
                "Largest charge per session (mA x min x 60 / 1000) in conventional "
                "tDCS with no "
                "serious adverse effect reported",
                "常规tDCS中未见严重不良反应报告的最大单次电荷量(mA x 分钟 x 60 / 1000)",
            ),
            source=_BIKSON_2016,
        ),
        Limit(
            code="current_density",
            param="current_density_ma_cm2",
            maximum=0.1,
            unit="mA/cm²",
            scope="at the smaller electrode",
            description=Text(
                "Clinic skin-protection cap; conventional 1-2 mA over 25-35 cm² "
                "sponges gives "
                "0.029-0.08 mA/cm². Not a published injury threshold: brain injury in "
                "animals "
                "needs densities orders of magnitude higher",
                "本机构皮肤保护上限; 常规1-2 mA、25-35 cm²海绵电极对应0.029-0.08 "
                "mA/cm²。"
                "并非已发表的损伤阈值, 动物脑损伤所需电流密度高出数个数量级",
            ),
            source=("Clinic policy after Bikson, Datta & Elwassif 2009, Clin Neurophysiol 120:1033; " + _BIKSON_2016),
        ),
    ),
    evidence=Text(
        "Anodal tDCS over M1, typically 2 mA for 20 min, for chronic low back pain "
        "(grade A in the "
        "Latin-American consensus cited by the central-mechanisms review). "
        "Conventional protocols "
        "up to 40 min, 4 mA and 7.2 C per session produced no serious adverse effect "
        "in over "
        "33,200 sessions (Bikson et al. 2016, Brain Stimul 9:641). The 0.1 mA/cm² "
        "current-density "
        "cap is a clinic skin-protection policy above the 0.029-0.08 mA/cm² of "
        "conventional "
        "sponge protocols (Bikson, Datta & Elwassif 2009, Clin Neurophysiol 120:1033); "
        "larger "
        "currents need larger electrodes or an override.",
        "M1区阳极tDCS, 通常2 mA、20分钟, 用于慢性腰痛(中枢机制综述所引拉美共识A级推荐)"
        "。"
        "常规方案每次不超过40分钟、4 mA、7.2 C, 在超过33,200次治疗中未见严重不良反应"
        "(Bikson等 2016, Brain Stimul 9:641)。电流密度上限0.1 "
        "mA/cm²为本机构皮肤保护规定, "
        "高于常规海绵电极方案的0.029-0.08 mA/cm²(Bikson, Datta & Elwassif 2009); "
        "更大电流需更大电极或经治疗师书面说明后越限。",
    ),
    derive=_tdcs_derive,
)


HEMISPHERES: tuple[str, ...] = ("left", "right", "bilateral", "midline")
"""Where an rTMS target sits: one hemisphere, both (one coil per side or in turn), or the
midline (vertex: the leg and trunk representation of M1)."""

_OPPOSITE_SIDE = {"left": "right", "right": "left"}


def opposite_side(side: str) -> str | None:
    """The hemisphere contralateral to one-sided pain; None for bilateral or midline pain."""
    return _OPPOSITE_SIDE.get(side)


def _rtms_validate(params: dict[str, Any]) -> dict[str, str]:
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


_RTMS_CAP_SOURCE = f"Clinic policy: no published cap found; consult the TMS safety guidelines ({_ROSSI})"

_RTMS = Modality(
    code="rtms",
    layer="central",
    name=Text("Repetitive transcranial magnetic stimulation (rTMS)", "重复经颅磁刺激(rTMS)"),
    short_name="rTMS",
    params=(
        _choice(
            "site",
            Text("Target site", "刺激靶点"),
            (
                ("M1", Text("Primary motor cortex (M1)", "初级运动皮层(M1)")),
                (
                    "left_DLPFC",
                    Text("Left dorsolateral prefrontal cortex", "左侧背外侧前额叶皮层"),
                ),
                ("other", _OTHER),
            ),
        ),
        _choice(
            "hemisphere",
            Text("Hemisphere", "刺激半球"),
            (
                ("left", Text("Left hemisphere", "左侧半球")),
                ("right", Text("Right hemisphere", "右侧半球")),
                ("bilateral", Text("Both hemispheres", "双侧半球")),
                ("midline", Text("Midline (vertex)", "中线(头顶)")),
            ),
        ),
        Param(
            "frequency_hz",
            _FREQUENCY,
            "number",
            unit="Hz",
            minimum=0,
            maximum=50,
            exclusive_minimum=True,
        ),
        Param(
            "intensity_pct_rmt",
            Text("Intensity (% of resting motor threshold)", "强度(静息运动阈值百分比)"),
            "number",
            unit="% RMT",
            minimum=1,
            maximum=150,
        ),
        Param(
            "pulses",
            Text("Pulses per session", "每次脉冲数"),
            "integer",
            minimum=1,
            maximum=10000,
        ),
        Param(
            "contraindication_screen_done",
            Text("Contraindication screening done", "已完成禁忌证筛查"),
            "boolean",
        ),
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
                "For one-sided pain the M1 target is the hemisphere opposite the pain (Level A for "
                "neuropathic pain); bilateral or midline pain has no opposite side",
                "单侧疼痛时M1靶点取疼痛对侧半球(神经病理性疼痛A级证据); 双侧或中线疼痛无对侧之分",
            ),
            source=f"{_LEFAUCHEUR_2020}, Level A",
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
            source=_RTMS_CAP_SOURCE,
        ),
        Limit(
            code="intensity",
            param="intensity_pct_rmt",
            maximum=120,
            unit="% RMT",
            scope="per session",
            description=Text(
                "Clinic cap on intensity; not a published threshold",
                "本机构刺激强度上限; 非已发表阈值",
            ),
            source=_RTMS_CAP_SOURCE,
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
            source=_RTMS_CAP_SOURCE,
        ),
    ),
    evidence=Text(
        "Lefaucheur et al. 2020 (Clin Neurophysiol 131:474), evidence-based guidelines, abstract: Level A "
        "(definite efficacy) for high-frequency rTMS of the primary motor cortex (M1) contralateral to the "
        "painful side for neuropathic pain; Level B (probable efficacy) for high-frequency rTMS of the left M1 "
        "or the left DLPFC for improving quality of life or pain, respectively, in fibromyalgia; Level A/B is "
        "not reached in any other condition, so no guideline level supports the left DLPFC for low back pain. "
        "The target records its hemisphere: for one-sided pain the M1 target is the hemisphere opposite the "
        "pain, and another side needs an override reason; bilateral or midline pain (e.g. axial low back pain) "
        "has no opposite side, so the hemisphere chosen is recorded as the therapist's choice. The caps of "
        "20 Hz, 120 % RMT and 3000 pulses per session are clinic policy, not published thresholds; train "
        "duration and inter-train interval (not modelled here) follow the TMS safety guidelines (Rossi et al. "
        "2009, Clin Neurophysiol 120:2008; 2021, Clin Neurophysiol 132:269). Contraindication screening is "
        "mandatory and cannot be overridden.",
        "Lefaucheur等 2020(Clin Neurophysiol 131:474)循证指南摘要: 高频rTMS刺激疼痛对侧初级运动皮层(M1)"
        "治疗神经病理性疼痛为A级证据(肯定有效); 高频rTMS刺激左侧M1或左侧DLPFC分别改善纤维肌痛的生活质量"
        "或疼痛为B级证据(很可能有效); 其他疾病均未达到A/B级, 因此左侧DLPFC用于腰痛没有指南证据等级支持。"
        "靶点须记录刺激半球: 单侧疼痛时M1靶点取疼痛对侧半球, 选择其他半球须填写越限理由; 双侧或中线疼痛"
        "(如轴性腰痛)无对侧之分, 所选半球作为治疗师的选择记录在案。每次20 Hz、120% RMT、3000个脉冲的上限"
        "为本机构规定, 非已发表阈值; 刺激串时长和串间间隔(此处未建模)遵循TMS安全指南(Rossi等 2009, "
        "Clin Neurophysiol 120:2008; 2021, Clin Neurophysiol 132:269)。禁忌证筛查为必须项, 不可越限。",
    ),
    derive=None,
    validate=_rtms_validate,
)


# -----------------------------------------------------------------------------
# Peripheral layer
# -----------------------------------------------------------------------------

_EXERCISE = Modality(
    code="exercise",
    layer="peripheral",
    name=Text("Therapeutic exercise", "运动治疗"),
    short_name="exercise",
    params=(
        _choice(
            "type",
            Text("Exercise type", "运动类型"),
            (
                ("core_stabilisation", Text("Core stabilisation", "核心稳定训练")),
                ("aerobic", Text("Aerobic", "有氧运动")),
                ("breathing_training", Text("Breathing training", "呼吸训练")),
                ("postural_training", Text("Postural training", "姿势训练")),
                ("other", _OTHER),
            ),
        ),
        Param(
            "sets",
            Text("Sets", "组数"),
            "integer",
            minimum=0,
            maximum=20,
            required=False,
        ),
        Param(
            "reps",
            Text("Repetitions per set", "每组次数"),
            "integer",
            minimum=0,
            maximum=100,
            required=False,
        ),
        Param(
            "minutes",
            Text("Minutes per session", "每次时长"),
            "number",
            unit="min",
            minimum=0,
            maximum=180,
        ),
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
            source=("Clinic policy; ACSM's Guidelines for Exercise Testing and Prescription, 11th ed."),
        ),
        Limit(
            code="exertion",
            param="rpe",
            maximum=17,
            unit="Borg RPE",
            scope="per session",
            description=Text(
                "Top of the vigorous band (RPE 14-17); near-maximal effort (>= 18) is "
                "not "
                "prescribed in chronic pain without review",
                "高强度区间上限(RPE 14-17); 慢性疼痛患者未经评估不处方接近最大用力(>= 18)",
            ),
            source="ACSM's Guidelines for Exercise Testing and Prescription, 11th ed.",
        ),
    ),
    evidence=Text(
        "Core stabilisation, postural and breathing training and aerobic exercise "
        "(BDNF-mediated "
        "central effects) are the exercise components of central-peripheral "
        "rehabilitation for "
        "chronic low back pain (central-mechanisms review). Exertion is capped at the "
        "top of the "
        "ACSM vigorous band (Borg 17); session length at a 90 min clinic cap.",
        "核心稳定训练、姿势训练、呼吸训练和有氧运动(经BDNF的中枢效应)是慢性腰痛中枢-外"
        "周康复的"
        "运动组成部分(中枢机制综述)。用力程度上限为ACSM高强度区间上限(Borg 17), "
        "单次时长上限为本机构规定的90分钟。",
    ),
    derive=None,
)

_MANUAL_THERAPY = Modality(
    code="manual_therapy",
    layer="peripheral",
    name=Text("Manual therapy", "手法治疗"),
    short_name="manual therapy",
    params=(
        _choice(
            "technique",
            Text("Technique", "手法"),
            (
                ("spinal_manipulation", Text("Spinal manipulation", "脊柱推拿整复")),
                ("mobilisation", Text("Mobilisation", "关节松动")),
                (
                    "myofascial_trigger_point_pressure",
                    Text("Myofascial trigger-point pressure", "肌筋膜触发点按压"),
                ),
                ("other", _OTHER),
            ),
        ),
        Param("region", Text("Region", "治疗部位"), "text"),
        Param(
            "minutes",
            _MINUTES,
            "number",
            unit="min",
            minimum=0,
            maximum=120,
            exclusive_minimum=True,
        ),
    ),
    limits=(),
    evidence=Text(
        "Spinal manipulation, mobilisation and myofascial trigger-point pressure are "
        "peripheral "
        "components for chronic low back pain (central-mechanisms review). No dose "
        "limit is "
        "published; only validity bounds apply.",
        "脊柱推拿、关节松动和肌筋膜触发点按压是慢性腰痛的外周治疗组成(中枢机制综述)。"
        "无已发表的剂量上限, 仅做有效性校验。",
    ),
    derive=None,
)

_ACUPUNCTURE = Modality(
    code="acupuncture",
    layer="peripheral",
    name=Text("Acupuncture", "针刺治疗"),
    short_name="acupuncture",
    params=(
        _choice(
            "style",
            Text("Style", "针刺方式"),
            (
                ("body", Text("Body acupuncture", "体针")),
                ("wrist_ankle", Text("Wrist-ankle acupuncture", "腕踝针")),
                ("electro", Text("Electroacupuncture", "电针")),
                ("other", _OTHER),
            ),
        ),
        Param("points", Text("Points", "穴位"), "text"),
        Param("needles", Text("Needles", "针数"), "integer", minimum=1, maximum=40),
        Param(
            "minutes",
            Text("Needle retention", "留针时间"),
            "number",
            unit="min",
            minimum=1,
            maximum=60,
        ),
    ),
    limits=(),
    evidence=Text(
        "Acupuncture, including wrist-ankle acupuncture, is a peripheral component for "
        "chronic "
        "low back pain (central-mechanisms review). No dose limit is published; only "
        "validity "
        "bounds apply.",
        "针刺(包括腕踝针)是慢性腰痛的外周治疗组成(中枢机制综述)。无已发表的剂量上限, 仅做有效性校验。",
    ),
    derive=None,
)

_TENS = Modality(
    code="tens",
    layer="peripheral",
    name=Text("Transcutaneous electrical nerve stimulation (TENS)", "经皮神经电刺激(TENS)"),
    short_name="TENS",
    params=(
        _choice(
            "mode",
            Text("Mode", "模式"),
            (
                (
                    "conventional",
                    Text(
                        "Conventional (high frequency, low intensity)",
                        "常规型(高频低强度)",
                    ),
                ),
                (
                    "acupuncture_like",
                    Text(
                        "Acupuncture-like (low frequency, high intensity)",
                        "针刺样(低频高强度)",
                    ),
                ),
                (
                    "brief_intense",
                    Text(
                        "Brief-intense (high frequency, high intensity)",
                        "短暂强刺激型(高频高强度)",
                    ),
                ),
            ),
        ),
        Param("frequency_hz", _FREQUENCY, "number", unit="Hz", minimum=1, maximum=250),
        Param("pulse_width_us", _PULSE_WIDTH, "number", unit="µs", minimum=10, maximum=500),
        Param(
            "intensity_ma",
            Text("Intensity", "强度"),
            "number",
            unit="mA",
            minimum=0,
            maximum=80,
        ),
        Param("minutes", _MINUTES, "number", unit="min", minimum=1, maximum=120),
    ),
    limits=(
        Limit(
            code="intensity",
            param="intensity_ma",
            maximum=60,
            unit="mA",
            scope="per session",
            description=Text(
                "Clinic cap at the upper end of the 30-60 mA used for acupuncture-like "
                "and "
                "brief-intense TENS; device output limits are set by IEC 60601-2-10",
                "本机构上限, 取针刺样和短暂强刺激型TENS常用30-60 mA的上端; 设备输出上限由IEC 60601-2-10规定",
            ),
            source="Clinic policy; modes per the peripheral nerve stimulation review",
        ),
    ),
    evidence=Text(
        "TENS modes (conventional: low intensity, high frequency; acupuncture-like: "
        "high "
        "intensity, low frequency; brief-intense: high intensity, high frequency) "
        "follow the "
        "review of peripheral nerve stimulation for peripheral neuropathic pain. The "
        "60 mA "
        "intensity cap is a clinic policy, not a published threshold.",
        "TENS模式(常规型: 低强度高频; 针刺样: 高强度低频; 短暂强刺激型: "
        "高强度高频)依据周围神经刺激"
        "治疗周围神经病理性疼痛的综述。60 mA强度上限为本机构规定, 非已发表阈值。",
    ),
    derive=None,
)

_PNS = Modality(
    code="pns",
    layer="peripheral",
    name=Text("Peripheral nerve stimulation (PNS)", "周围神经刺激(PNS)"),
    short_name="PNS",
    params=(
        _choice(
            "term",
            Text("Term", "疗程类型"),
            (
                (
                    "short_term",
                    Text(
                        "Short-term (trial, days to weeks)",
                        "短时程(测试期, 数天至数周)",
                    ),
                ),
                ("long_term", Text("Long-term (implanted)", "长时程(植入式)")),
            ),
        ),
        _choice(
            "target",
            Text("Target", "刺激靶点"),
            (
                ("peripheral_nerve", Text("Peripheral nerve", "周围神经")),
                ("spinal_nerve_root", Text("Spinal nerve root", "脊神经根")),
                ("dorsal_root_ganglion", Text("Dorsal root ganglion", "背根神经节")),
                (
                    "peripheral_nerve_field",
                    Text("Peripheral nerve field", "周围神经区域"),
                ),
            ),
        ),
        Param("nerve", _NERVE, "text"),
        Param("frequency_hz", _FREQUENCY, "number", unit="Hz", minimum=1, maximum=200),
        Param(
            "pulse_width_us",
            _PULSE_WIDTH,
            "number",
            unit="µs",
            minimum=10,
            maximum=1000,
        ),
        Param(
            "amplitude_ma",
            Text("Amplitude", "幅度"),
            "number",
            unit="mA",
            minimum=0,
            maximum=30,
        ),
    ),
    limits=(),
    evidence=Text(
        "Short-term (trial) and long-term (implanted) PNS, including spinal nerve "
        "root, dorsal "
        "root ganglion and peripheral nerve field stimulation, per the review of PNS "
        "for "
        "peripheral neuropathic pain. Programming is device-specific; only validity "
        "bounds "
        "apply here. Record adverse events (lead migration, infection, discomfort) "
        "per session.",
        "短时程(测试)与长时程(植入)周围神经刺激, "
        "包括脊神经根、背根神经节和周围神经区域刺激, "
        "依据PNS治疗周围神经病理性疼痛的综述。参数设置因设备而异, 此处仅做有效性校验。"
        "每次治疗记录不良事件(电极移位、感染、不适)。",
    ),
    derive=None,
)

_HYDRODISSECTION = Modality(
    code="hydrodissection",
    layer="peripheral",
    name=Text("Ultrasound-guided nerve hydrodissection", "超声引导下神经水分离"),
    short_name="hydrodissection",
    params=(
        Param("nerve", _NERVE, "text"),
        _choice(
            "guidance",
            Text("Guidance", "引导方式"),
            (
                ("ultrasound", Text("Ultrasound", "超声")),
                ("landmark", Text("Anatomical landmark", "体表解剖标志")),
            ),
        ),
        _choice(
            "injectate",
            Text("Injectate", "注射液"),
            (
                ("dextrose_5pct", Text("5% dextrose", "5%葡萄糖")),
                ("saline", Text("Normal saline", "生理盐水")),
                ("other", _OTHER),
            ),
        ),
        Param(
            "volume_ml",
            Text("Volume", "注射容量"),
            "number",
            unit="ml",
            minimum=0,
            maximum=30,
            exclusive_minimum=True,
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
                "Largest volume in the cited 5% dextrose hydrodissection studies (case "
                "series about "
                "5 ml; 1-4 ml; 10 ml for the median nerve)",
                "所引5%葡萄糖神经水分离研究中的最大容量(病例系列约5 ml; 1-4 ml; 正中神经10 ml)",
            ),
            source=(
                "Common-peroneal case series, shared reference; Lin et al. 2020, "
                "Front Pharmacol "
                "11:625830; Chao et al. 2022, J Clin Med 11:3705"
            ),
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
            source=("Common-peroneal case series, shared reference; Lin et al. 2020; Chao et al. 2022"),
        ),
    ),
    evidence=Text(
        "Ultrasound-guided hydrodissection with 5% dextrose, about 5 ml, 1-3 "
        "injections about "
        "2 weeks apart, follow-up at 1 and 2 weeks, 4 weeks and 2 months; a course "
        "over 3 months "
        "responded worse (common-peroneal entrapment case series). The 10 ml cap is "
        "the largest "
        "volume in the cited studies (Chao et al. 2022, J Clin Med 11:3705); landmark "
        "guidance "
        "needs an override.",
        "超声引导下5%葡萄糖神经水分离, 约5 ml, 1-3次, 间隔约2周; "
        "随访1周、2周、4周和2个月; "
        "病程超过3个月者疗效较差(腓总神经卡压病例系列)。10 ml上限为所引研究中的最大容量"
        "(Chao等 2022, J Clin Med 11:3705); 体表标志引导须书面说明后越限。",
    ),
    derive=None,
)

_PHYSICAL_AGENTS = Modality(
    code="physical_agents",
    layer="peripheral",
    name=Text("Physical agents", "物理因子治疗"),
    short_name="physical agents",
    params=(
        _choice(
            "agent",
            Text("Agent", "物理因子"),
            (
                ("heat", Text("Heat", "热疗")),
                ("cold", Text("Cold", "冷疗")),
                ("ultrasound", Text("Therapeutic ultrasound", "治疗性超声")),
                ("laser", Text("Laser", "激光")),
                ("shockwave", Text("Shockwave", "冲击波")),
                ("other", _OTHER),
            ),
        ),
        Param(
            "minutes",
            _MINUTES,
            "number",
            unit="min",
            minimum=0,
            maximum=120,
            exclusive_minimum=True,
        ),
    ),
    limits=(),
    evidence=Text(
        "Physical agents are a peripheral component for chronic low back pain "
        "(central-mechanisms "
        "review). Dosing is agent- and device-specific; only validity bounds apply "
        "here.",
        "物理因子治疗是慢性腰痛的外周治疗组成(中枢机制综述)。剂量因物理因子和设备而异, 此处仅做有效性校验。",
    ),
    derive=None,
)


# Medication ------------------------------------------------------------------

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

_DRUG_NAMES: dict[str, Text] = {
    "gabapentin": Text("Gabapentin", "加巴喷丁"),
    "pregabalin": Text("Pregabalin", "普瑞巴林"),
    "carbamazepine": Text("Carbamazepine", "卡马西平"),
    "oxcarbazepine": Text("Oxcarbazepine", "奥卡西平"),
    "amitriptyline": Text("Amitriptyline", "阿米替林"),
    "duloxetine": Text("Duloxetine", "度洛西汀"),
    "lamotrigine": Text("Lamotrigine", "拉莫三嗪"),
    "lidocaine_topical": Text("Topical lidocaine (5% plaster)", "利多卡因外用(5%贴剂)"),
    "capsaicin_8pct": Text("Capsaicin 8% patch", "8%辣椒素贴剂"),
    "other": _OTHER,
}
_ORAL_DRUGS = (*FIRST_LINE_DRUGS, "duloxetine", "lamotrigine")

# (drug, maximum mg per day, source): adult maxima, normal renal and hepatic function.
_DAILY_DOSE_CAPS: tuple[tuple[str, float, str], ...] = (
    ("gabapentin", 3600, "Neurontin label; Dworkin et al. 2007, Pain 132:237"),
    ("pregabalin", 600, "Lyrica label; Dworkin et al. 2007, Pain 132:237"),
    (
        "carbamazepine",
        1200,
        "Tegretol label: trigeminal neuralgia, do not exceed 1200 mg daily",
    ),
    ("oxcarbazepine", 2400, "Trileptal label"),
    (
        "amitriptyline",
        150,
        "Dworkin et al. 2007, Pain 132:237, tricyclics for neuropathic pain",
    ),
    ("duloxetine", 120, "Cymbalta label; Dworkin et al. 2007, Pain 132:237"),
    (
        "lamotrigine",
        400,
        "Vinik et al. 2007, Pain 128:169, highest dose tested in neuropathic pain",
    ),
)

_PATCH_CAPS: tuple[tuple[str, float, str, Text], ...] = (
    (
        "lidocaine_topical",
        3,
        "Lidocaine 5% medicated plaster label: up to 3 at once, 12 h in 24 h",
        Text(
            "Up to 3 lidocaine 5% plasters at the same time",
            "利多卡因5%贴剂同时最多3贴",
        ),
    ),
    (
        "capsaicin_8pct",
        4,
        "Capsaicin 179 mg cutaneous patch label: up to 4 patches per treatment",
        Text("Up to 4 capsaicin 8% patches per treatment", "8%辣椒素贴剂每次治疗最多4贴"),
    ),
)


def _medication_validate(params: dict[str, Any]) -> dict[str, str]:
    """An oral drug needs its daily dose: the per-drug safety cap reads it."""
    drug = params.get("drug")
    if drug in _ORAL_DRUGS and "daily_dose_mg" not in params:
        return {"daily_dose_mg": f"daily_dose_mg is required for {drug}"}
    return {}


def _medication_derive(params: dict[str, Any]) -> dict[str, float]:
    return {"first_line": 1.0 if params["drug"] in FIRST_LINE_DRUGS else 0.0}


_MEDICATION = Modality(
    code="medication",
    layer="peripheral",
    name=Text("Neuropathic pain medication", "神经病理性疼痛药物"),
    short_name="medication",
    params=(
        _choice(
            "drug",
            Text("Drug", "药物"),
            tuple(_DRUG_NAMES.items()),
        ),
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
        _choice(
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
        *(
            Limit(
                code=f"daily_dose_{drug}",
                param="daily_dose_mg",
                maximum=cap,
                unit="mg",
                scope="per day",
                when=("drug", drug),
                description=Text(
                    f"Maximum adult daily dose of {_DRUG_NAMES[drug].en.lower()}; lower in renal or hepatic impairment",
                    f"{_DRUG_NAMES[drug].zh_hans}成人最大日剂量; 肝肾功能不全者更低",
                ),
                source=source,
            )
            for drug, cap, source in _DAILY_DOSE_CAPS
        ),
        *(
            Limit(
                code=f"patches_{drug}",
                param="patches",
                maximum=cap,
                unit="patches",
                scope="per application",
                when=("drug", drug),
                description=description,
                source=source,
            )
            for drug, cap, source, description in _PATCH_CAPS
        ),
    ),
    evidence=Text(
        "First-line drugs per the DREZ expert consensus: gabapentin, pregabalin, "
        "carbamazepine, "
        "oxcarbazepine, amitriptyline; duloxetine and lamotrigine possibly effective; "
        "topical "
        "lidocaine or high-concentration capsaicin. Daily caps are adult label or "
        "guideline "
        "maxima (Dworkin et al. 2007, Pain 132:237; Vinik et al. 2007, Pain 128:169); "
        "renal and "
        "hepatic dose reduction is not modelled and stays the prescriber's "
        "responsibility.",
        "DREZ专家共识的一线药物: 加巴喷丁、普瑞巴林、卡马西平、奥卡西平、阿米替林; "
        "度洛西汀和拉莫三嗪可能有效; 外用利多卡因或高浓度辣椒素。日剂量上限取说明书或指"
        "南的成人最大剂量"
        "(Dworkin等 2007, Pain 132:237; Vinik等 2007, Pain 128:169); "
        "肝肾功能不全的减量未建模, 由处方医师负责。",
    ),
    derive=_medication_derive,
    validate=_medication_validate,
)


# DREZ referral ---------------------------------------------------------------

DREZ_CONTRAINDICATIONS: dict[str, Text] = {
    "marked_cognitive_impairment": Text("Marked cognitive impairment", "明显认知障碍"),
    "severe_psychiatric_disease": Text("Severe psychiatric disease not due to pain", "非疼痛所致的严重精神疾病"),
    "severe_cardiopulmonary_disease": Text("Severe cardiopulmonary disease", "严重心肺疾病"),
    "coagulation_disorder": Text("Coagulation disorder", "凝血功能障碍"),
}
"""Contraindications to DREZ surgery per the DREZ expert consensus (reference)."""

DREZ_FOLLOW_UP_ITEMS: dict[str, Text] = {
    "pain_relief": Text("Pain relief", "疼痛缓解"),
    "new_adjacent_pain": Text("New pain in adjacent segments", "相邻节段新发疼痛"),
    "spinal_stability": Text("Spinal stability", "脊柱稳定性"),
    "limb_function": Text("Limb function", "肢体功能"),
    "bladder_bowel_function": Text("Bladder and bowel function", "膀胱和直肠(大小便)功能"),
}
"""What to follow up after DREZ surgery per the DREZ expert consensus (reference)."""

DREZ_MIN_COURSE_MONTHS = 3.0
DREZ_MIN_VAS_MM = 50.0
DREZ_MIN_AGE_YEARS = 18


def _parse_contraindications(text: str) -> tuple[list[str], list[str]]:
    """Split "a, b" into (known codes, unknown tokens)."""
    tokens = [token.strip() for token in text.split(",") if token.strip()]
    known = [token for token in tokens if token in DREZ_CONTRAINDICATIONS]
    unknown = [token for token in tokens if token not in DREZ_CONTRAINDICATIONS]
    return known, unknown


def drez_candidacy(
    course_months: float,
    vas_mm: float,
    age_years: int,
    first_line_drugs_tried: bool,
    phq9_assessed: bool,
    gad7_assessed: bool,
    contraindications: Sequence[str],
) -> list[CandidacyCheck]:
    """Check DREZ surgery candidacy against the DREZ expert consensus (reference).

    Criteria: pain course >= 3 months (the consensus names 3-6 months not controlled
    by drugs or less invasive care); first-line drugs tried without control; pain
    intensity VAS >= 5 on the 0-10 cm line, taken here as >= 50 mm on the 0-100 mm
    scale the app records; usually age >= 18; mood assessed with both PHQ-9 and GAD-7;
    none of the listed contraindications. Whether the pain area matches the spinal
    segment is a surgeon's judgement and is not checked here.

    Raises ValueError for a contraindication code outside `DREZ_CONTRAINDICATIONS`.
    """
    unknown = [code for code in contraindications if code not in DREZ_CONTRAINDICATIONS]
    if unknown:
        raise ValueError(f"unknown DREZ contraindication code(s): {', '.join(unknown)}")
    present = [code for code in DREZ_CONTRAINDICATIONS if code in contraindications]

    course_ok = course_months >= DREZ_MIN_COURSE_MONTHS
    vas_ok = vas_mm >= DREZ_MIN_VAS_MM
    age_ok = age_years >= DREZ_MIN_AGE_YEARS
    mood_ok = phq9_assessed and gad7_assessed
    missing_mood = [name for name, done in (("PHQ-9", phq9_assessed), ("GAD-7", gad7_assessed)) if not done]

    return [
        CandidacyCheck(
            "course",
            course_ok,
            Text(
                f"Pain course {course_months:g} months "
                + ("meets" if course_ok else "is below")
                + " the 3-month minimum",
                f"病程{course_months:g}个月" + ("满足" if course_ok else "未达到") + "至少3个月的要求",
            ),
        ),
        CandidacyCheck(
            "first_line_drugs",
            first_line_drugs_tried,
            Text(
                "First-line drugs tried without adequate control"
                if first_line_drugs_tried
                else "First-line drugs (gabapentin, pregabalin, carbamazepine, "
                "oxcarbazepine, amitriptyline) not yet tried",
                "一线药物治疗后疼痛仍控制不佳"
                if first_line_drugs_tried
                else "尚未尝试一线药物(加巴喷丁、普瑞巴林、卡马西平、奥卡西平、阿米替林)",
            ),
        ),
        CandidacyCheck(
            "pain_intensity",
            vas_ok,
            Text(
                f"VAS {vas_mm:g} mm " + ("meets" if vas_ok else "is below") + " the 50 mm (5/10) minimum",
                f"VAS {vas_mm:g} mm" + ("满足" if vas_ok else "未达到") + "至少50 mm(5/10)的要求",
            ),
        ),
        CandidacyCheck(
            "age",
            age_ok,
            Text(
                f"Age {age_years} years " + ("meets" if age_ok else "is below") + " the usual 18-year minimum",
                f"年龄{age_years}岁" + ("满足" if age_ok else "未达到") + "通常至少18岁的要求",
            ),
        ),
        CandidacyCheck(
            "mood_assessed",
            mood_ok,
            Text(
                "Mood assessed with PHQ-9 and GAD-7"
                if mood_ok
                else f"Mood assessment missing: {', '.join(missing_mood)}",
                "已用PHQ-9和GAD-7评估情绪" if mood_ok else f"缺少情绪评估: {', '.join(missing_mood)}",
            ),
        ),
        CandidacyCheck(
            "contraindications",
            not present,
            Text(
                "No listed contraindication"
                if not present
                else "Contraindicated: " + ", ".join(DREZ_CONTRAINDICATIONS[code].en for code in present),
                "无所列禁忌证"
                if not present
                else "存在禁忌证: " + "、".join(DREZ_CONTRAINDICATIONS[code].zh_hans for code in present),
            ),
        ),
    ]


def _drez_validate(params: dict[str, Any]) -> dict[str, str]:
    text = params.get("contraindications")
    if isinstance(text, str):
        _, unknown = _parse_contraindications(text)
        if unknown:
            return {
                "contraindications": (
                    f"contraindications has unknown code(s) {', '.join(unknown)}; "
                    "expected a comma-separated list of: "
                    f"{', '.join(DREZ_CONTRAINDICATIONS)}"
                )
            }
    return {}


def _drez_derive(params: dict[str, Any]) -> dict[str, float]:
    known, _ = _parse_contraindications(str(params.get("contraindications", "")))
    checks = drez_candidacy(
        course_months=float(params["course_months"]),
        vas_mm=float(params["vas_mm"]),
        age_years=int(params["age_years"]),
        first_line_drugs_tried=bool(params["first_line_drugs_tried"]),
        phq9_assessed=bool(params["phq9_assessed"]),
        gad7_assessed=bool(params["gad7_assessed"]),
        contraindications=known,
    )
    return {"candidacy_met": 1.0 if all(check.passed for check in checks) else 0.0}


_DREZ_REFERRAL = Modality(
    # Layer: the plan's "central" layer is cortical neuromodulation (tDCS, rTMS).
    # DREZ lesioning targets the segmental dorsal-root input matching the pain area
    # and is referred from the peripheral pathway once drugs and less invasive care
    # fail, so it sits under "peripheral" (Layer keeps its two public values).
    code="drez_referral",
    layer="peripheral",
    name=Text("DREZ surgery referral", "脊髓背根入髓区(DREZ)毁损术转诊"),
    short_name="DREZ referral",
    params=(
        Param(
            "course_months",
            Text("Pain duration", "病程"),
            "number",
            unit="months",
            minimum=0,
            maximum=1200,
        ),
        Param(
            "vas_mm",
            Text("Pain intensity (VAS)", "疼痛强度(VAS)"),
            "number",
            unit="mm",
            minimum=0,
            maximum=100,
        ),
        Param(
            "age_years",
            Text("Age", "年龄"),
            "integer",
            unit="years",
            minimum=0,
            maximum=130,
        ),
        Param(
            "first_line_drugs_tried",
            Text(
                "First-line drugs tried without adequate control",
                "一线药物治疗后仍控制不佳",
            ),
            "boolean",
        ),
        Param("phq9_assessed", Text("PHQ-9 assessed", "已完成PHQ-9评估"), "boolean"),
        Param("gad7_assessed", Text("GAD-7 assessed", "已完成GAD-7评估"), "boolean"),
        Param(
            "contraindications",
            Text("Contraindications (comma-separated codes)", "禁忌证(以逗号分隔的代码)"),
            "text",
            required=False,
        ),
    ),
    derived_params=(
        Param(
            "candidacy_met",
            Text("All candidacy criteria met", "满足全部手术适应条件"),
            "number",
        ),
    ),
    limits=(),
    evidence=Text(
        "DREZ expert consensus: candidates have neuropathic pain for 3-6 months or "
        "more not "
        "controlled by drugs or less invasive care, VAS >= 5, are usually adults, and "
        "have pain "
        "matching the spinal segment; contraindications are marked cognitive "
        "impairment, severe "
        "psychiatric disease not due to pain, and severe cardiopulmonary or "
        "coagulation disease. "
        "Screen with DN4 (or LANSS, painDETECT, NPQ, ID Pain), pain by VAS/NRS, mood "
        "by PHQ-9 and "
        "GAD-7. Follow up pain relief, new adjacent-segment pain, spinal stability, "
        "limb and "
        "bladder/bowel function. Evidence graded by GRADE.",
        "DREZ专家共识: 适应证为神经病理性疼痛病程3-6个月以上、药物或微创治疗控制不佳、"
        "VAS >= 5、"
        "通常为成人、疼痛范围与脊髓节段相符; 禁忌证为明显认知障碍、非疼痛所致的严重精神"
        "疾病、"
        "严重心肺疾病或凝血功能障碍。用DN4(或LANSS、painDETECT、NPQ、ID Pain)筛查, "
        "VAS/NRS评估疼痛, PHQ-9和GAD-7评估情绪。随访疼痛缓解、相邻节段新发疼痛、脊柱稳"
        "定性、"
        "肢体及大小便功能。证据按GRADE分级。",
    ),
    derive=_drez_derive,
    validate=_drez_validate,
)


MODALITIES: dict[str, Modality] = {
    modality.code: modality
    for modality in (
        _TDCS,
        _RTMS,
        _EXERCISE,
        _MANUAL_THERAPY,
        _ACUPUNCTURE,
        _TENS,
        _PNS,
        _HYDRODISSECTION,
        _PHYSICAL_AGENTS,
        _MEDICATION,
        _DREZ_REFERRAL,
    )
}


# Short names for charts, lists and headings in Simplified Chinese (`Modality.short_name` is English).
_SHORT_NAMES_ZH: dict[str, str] = {
    "tdcs": "tDCS",
    "rtms": "rTMS",
    "exercise": "运动治疗",
    "manual_therapy": "手法治疗",
    "acupuncture": "针刺",
    "tens": "TENS",
    "pns": "PNS",
    "hydrodissection": "神经水分离",
    "physical_agents": "物理因子",
    "medication": "药物",
    "drez_referral": "DREZ 转诊",
}


def modality_short_name(code: str) -> str:
    """The modality's short name in the active language; the code itself for an unknown one."""
    modality = MODALITIES.get(code)
    if modality is None:
        return code
    from django.utils.translation import get_language

    if (get_language() or "en").lower().startswith("zh"):
        return _SHORT_NAMES_ZH.get(code, modality.name.zh_hans)
    return modality.label


def modality_name(code: str) -> str:
    """The modality's full name in the active language; the code itself for an unknown one."""
    modality = MODALITIES.get(code)
    return modality.name.active() if modality is not None else code


def modality_choices() -> list[tuple[str, str]]:
    """(code, name in the active language) for every modality, for filters and pickers."""
    return [(code, modality.name.active()) for code, modality in MODALITIES.items()]


def get_modality(code: str) -> Modality:
    """Return the modality with this public code; KeyError if there is none."""
    return MODALITIES[code]


# -----------------------------------------------------------------------------
# Checking
# -----------------------------------------------------------------------------

# Derived values are rounded so that floating-point noise (7.199999... for 7.2 C)
# never turns a value exactly at a limit into a violation.
_DERIVED_DECIMALS = 9


def _fmt(value: float) -> str:
    return f"{value:g}"


def _with_unit(value: float, unit: str) -> str:
    return f"{_fmt(value)} {unit}".rstrip()


def _describe_bound(param: Param, bound: float) -> str:
    return _with_unit(bound, param.unit)


def _coerce(param: Param, raw: object) -> tuple[Any, str | None]:
    """Normalise one raw value: (value, None), or (None, a message naming the field)."""
    key = param.key
    if param.kind == "boolean":
        if isinstance(raw, bool):
            return raw, None
        return None, f"{key} must be true or false"
    if param.kind == "choice":
        if isinstance(raw, str) and raw in param.choices:
            return raw, None
        return None, f"{key} must be one of: {', '.join(param.choices)}"
    if param.kind == "text":
        if not isinstance(raw, str):
            return None, f"{key} must be text"
        text = raw.strip()
        if param.required and not text:
            return None, f"{key} is required"
        if len(text) > param.max_length:
            return None, f"{key} must be at most {param.max_length} characters"
        return text, None

    # number / integer: a bool is an int in Python but never a valid measurement.
    if isinstance(raw, bool):
        return None, f"{key} must be a number, not true/false"
    if not isinstance(raw, int | float):
        return None, f"{key} must be a number"
    if isinstance(raw, float) and not math.isfinite(raw):
        return None, f"{key} must be a finite number"
    value: int | float
    try:
        if param.kind == "integer":
            if isinstance(raw, float) and not raw.is_integer():
                return None, f"{key} must be a whole number"
            value = int(raw)
            float(value)  # an int too large for a float cannot be a measurement
        else:
            value = float(raw)
    except OverflowError:
        return None, f"{key} is out of range"

    if param.minimum is not None:
        if param.exclusive_minimum and value <= param.minimum:
            return (
                None,
                f"{key} must be greater than {_describe_bound(param, param.minimum)}",
            )
        if value < param.minimum:
            return (
                None,
                f"{key} must be at least {_describe_bound(param, param.minimum)}",
            )
    if param.maximum is not None and value > param.maximum:
        return (
            None,
            f"{key} must be at most {_describe_bound(param, param.maximum)}",
        )
    return value, None


def _side_violation(modality: Modality, limit: Limit, value: Any, context: Mapping[str, Any]) -> Violation | None:
    side = context.get(limit.opposite_to)
    expected = opposite_side(side) if isinstance(side, str) else None
    if expected is None or value == expected:
        return None
    label = limit.when[1] if limit.when is not None else modality.label
    return Violation(
        field=limit.param,
        code=limit.code,
        limit=0.0,
        unit=limit.unit,
        value=1.0,
        message=(
            f"{limit.param} {value!r} is outside the {label} limit: the pain is {side}-sided, so "
            f"{limit.param} must be {expected!r}, contralateral to the pain ({limit.source})"
        ),
    )


def _violation(modality: Modality, limit: Limit, value: Any) -> Violation | None:
    label = limit.when[1] if limit.when is not None else modality.label
    if limit.allowed:
        if value in limit.allowed:
            return None
        return Violation(
            field=limit.param,
            code=limit.code,
            limit=0.0,
            unit=limit.unit,
            value=1.0,
            message=(
                f"{limit.param} {value!r} is outside the {label} limit: "
                f"{limit.param} must be {' or '.join(limit.allowed)} ({limit.source})"
            ),
        )
    number = float(value)
    if number <= limit.maximum:
        return None
    shown = _fmt(number)
    if shown == _fmt(limit.maximum):
        shown = repr(number)
    scope = f" {limit.scope}" if limit.scope else ""
    return Violation(
        field=limit.param,
        code=limit.code,
        limit=float(limit.maximum),
        unit=limit.unit,
        value=number,
        message=(
            f"{limit.param} {shown} {limit.unit} exceeds the {label} limit of "
            f"{_with_unit(limit.maximum, limit.unit)}{scope} ({limit.source})"
        ),
    )


def check_parameters(code: str, params: object, *, context: Mapping[str, Any] | None = None) -> Check:
    """Validate `params` for modality `code` and check them against its safety limits.

    Never raises for bad input: unknown modality -> errors["modality"]; params not a
    JSON object -> errors["parameters"]; unknown keys, missing required values, wrong
    types and values outside the hard validity range -> errors[<field>]. Safety
    limits are checked on every valid field (a value equal to the limit is accepted);
    derived limits only when all fields are valid. `context` holds facts about the
    patient that limits may read (``affected_side``: left, right, bilateral, none).
    """
    modality = MODALITIES.get(code) if isinstance(code, str) else None
    if modality is None:
        return Check(
            params={},
            derived={},
            errors={"modality": f"unknown modality {code!r}; expected one of: {', '.join(MODALITIES)}"},
            violations=(),
        )
    if not isinstance(params, dict):
        return Check(
            params={},
            derived={},
            errors={"parameters": "parameters must be an object mapping names to values"},
            violations=(),
        )

    errors: dict[str, str] = {}
    normalised: dict[str, Any] = {}
    known = {param.key for param in modality.params}
    for key in params:
        if not isinstance(key, str):
            errors["parameters"] = "parameter names must be strings"
        elif key not in known:
            errors[key] = f"unknown parameter {key!r} for {modality.code}; expected one of: {', '.join(sorted(known))}"

    for param in modality.params:
        raw = params.get(param.key)
        if raw is None:
            if param.required:
                errors[param.key] = f"{param.key} is required"
            continue
        value, error = _coerce(param, raw)
        if error is not None:
            errors[param.key] = error
        else:
            normalised[param.key] = value

    if modality.validate is not None:
        for key, message in modality.validate(normalised).items():
            errors.setdefault(key, message)

    derived: dict[str, float] = {}
    if not errors and modality.derive is not None:
        derived = {key: round(float(value), _DERIVED_DECIMALS) for key, value in modality.derive(normalised).items()}

    violations: list[Violation] = []
    for limit in modality.limits:
        if limit.when is not None and normalised.get(limit.when[0]) != limit.when[1]:
            continue
        if limit.param in errors:
            continue
        value = normalised[limit.param] if limit.param in normalised else derived.get(limit.param)
        if value is None:
            continue
        if limit.opposite_to:
            violation = _side_violation(modality, limit, value, context or {})
        else:
            violation = _violation(modality, limit, value)
        if violation is not None:
            violations.append(violation)

    return Check(params=normalised, derived=derived, errors=errors, violations=tuple(violations))
