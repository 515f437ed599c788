"""FHIR R4 definitions of the instruments: code tables, canonical URLs and Questionnaire resources.

Pure (no ORM, no request): everything is derived from ``assessments.instruments`` plus the
LOINC tables below, and every resource is built with the ``fhir.resources`` R4B models
(R4B shares R4's Questionnaire, QuestionnaireResponse, Observation and Bundle), so a shape
that R4 does not allow fails here, at build time, instead of in a receiving system.

LOINC codes, each from a published HL7 artefact (nothing here is filled in from memory):

- PHQ-9 panel 44249-1 "PHQ-9 quick depression assessment panel [Reported.PHQ]"; items 1-9
  44250-9, 44255-8, 44259-0, 44254-1, 44251-7, 44258-2, 44252-5, 44253-3, 44260-8
  (item 9: thoughts that you would be better off dead, or of hurting yourself); the
  difficulty question 69722-7; frequency answers LA6568-5 "Not at all", LA6569-3 "Several
  days", LA6570-1 "More than half the days", LA6571-9 "Nearly every day" (ordinal 0-3);
  difficulty answers LA6572-7 "Not difficult at all", LA6573-5 "Somewhat difficult",
  LA6575-0 "Very difficult", LA6574-3 "Extremely difficult".
  Source: HL7 US Core, "Questionnaire PHQ-9 Example" (input/examples/Questionnaire-phq-9-
  example.json in github.com/HL7/US-Core; https://hl7.org/fhir/us/core/STU7/Questionnaire-
  phq-9-example.html) and its Observation example PHQ9-item-example-69722-7 (LA6573-5).
- GAD-7 panel 69737-5 "Generalized anxiety disorder 7 item (GAD-7)"; items 1-7 69725-0,
  68509-9, 69733-4, 69734-2, 69735-9, 69689-8, 69736-7 with the same frequency answers,
  except that LOINC's GAD-7 form answers item 2 (68509-9, a question LOINC shares with
  other forms) with LA18938-3 "More days than not" in the third place.
  Source: HL7 Patient-Centered Outcomes (PCO) IG, input/resources/questionnaire/
  Questionnaire-GAD7.json in github.com/HL7/pco-ig (copyright text quoted below from there).
- Totals: 44261-6 "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"
  (US Core Observation PHQ9-item-example-44261-6); 70274-6 "Generalized anxiety disorder 7
  item (GAD-7) total score [Reported.PHQ]" (MII PRO IG ObservationDefinition
  mii-obsdef-pro-score-gad-7); 72514-3 "Pain severity - 0-10 verbal numeric rating [Score] -
  Reported" (HL7 Belgium patient-monitoring IG ValueSet pain-scale).
- DN4, ODI, VAS and the thermal reading have no LOINC form or total code that we could
  source, so their Questionnaires carry no ``code`` and answers use the app's answer keys.

Link ids: a LOINC-coded item's linkId is its bare LOINC code ("44260-8"), so a receiver finds
item 9 by its code; other items keep the app's public answer key ("burning", "section3").
QuestionnaireResponses declare the app's own Questionnaire (served at
``/api/v1/fhir/Questionnaire/{code}``), whose linkIds are exactly these, rather than an
external form whose linkIds the app does not control.

Scores: each coded answer carries its integer score in the ``ordinalValue`` extension (the
same extension US Core puts on the Questionnaire's answer options), so item scores survive
without the Questionnaire; totals, which the app computes (prorated or withheld for partial
forms), live in Observations derived from the response.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.extension import Extension
from fhir.resources.R4B.fhirprimitiveextension import FHIRPrimitiveExtension
from fhir.resources.R4B.questionnaire import Questionnaire, QuestionnaireItem, QuestionnaireItemAnswerOption
from fhir.resources.R4B.resource import Resource

from assessments.instruments import INSTRUMENTS, Instrument, Item, Text
from assessments.instruments.thermal import REGION_MAX_LENGTH

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
# The app's own code systems: a URN needs no server to stay unique and stable.
LOCAL_SYSTEM = "urn:rehab-outcomes:instrument"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"
ZH_HANS = "zh-Hans"
QUESTIONNAIRE_VERSION = "1"

LOINC_COPYRIGHT = (
    "This content from LOINC® is copyright © 1995 Regenstrief Institute, Inc. and the LOINC Committee, and "
    "available at no cost under the license at https://loinc.org/license/"
)
PHQ_COPYRIGHT = (
    "Copyright © Pfizer Inc. All rights reserved. Developed by Drs. Robert L. Spitzer, Janet B.W. Williams, "
    "Kurt Kroenke and colleagues, with an educational grant from Pfizer Inc. No permission required to "
    "reproduce, translate, display or distribute."
)
ODI_COPYRIGHT = (
    "The statements of each ODI section are copyright (ODI v2.1a, licensed through Mapi Research Trust) and are "
    "not part of this Questionnaire: sections are answered 0 (first statement, least limitation) to 5 (last "
    "statement, greatest limitation) on the licensed form."
)


@dataclass(frozen=True)
class LoincAnswer:
    code: str
    display: str


@dataclass(frozen=True)
class LoincForm:
    """A LOINC-defined form: the panel code, the item code per answer key and the answer codes
    per answer key and app value (the app's 0-3 value is the LOINC answer's ordinal)."""

    panel: str
    panel_display: str
    items: Mapping[str, str]
    answers: Mapping[str, Mapping[int, LoincAnswer]]
    copyright: str


FREQUENCY = {
    0: LoincAnswer("LA6568-5", "Not at all"),
    1: LoincAnswer("LA6569-3", "Several days"),
    2: LoincAnswer("LA6570-1", "More than half the days"),
    3: LoincAnswer("LA6571-9", "Nearly every day"),
}
DIFFICULTY = {
    0: LoincAnswer("LA6572-7", "Not difficult at all"),
    1: LoincAnswer("LA6573-5", "Somewhat difficult"),
    2: LoincAnswer("LA6575-0", "Very difficult"),
    3: LoincAnswer("LA6574-3", "Extremely difficult"),
}
GAD7_ITEM2 = {**FREQUENCY, 2: LoincAnswer("LA18938-3", "More days than not")}

PHQ9_ITEMS = {
    "item1": "44250-9",
    "item2": "44255-8",
    "item3": "44259-0",
    "item4": "44254-1",
    "item5": "44251-7",
    "item6": "44258-2",
    "item7": "44252-5",
    "item8": "44253-3",
    "item9": "44260-8",
    "difficulty": "69722-7",
}
GAD7_ITEMS = {
    "item1": "69725-0",
    "item2": "68509-9",
    "item3": "69733-4",
    "item4": "69734-2",
    "item5": "69735-9",
    "item6": "69689-8",
    "item7": "69736-7",
}

LOINC_FORMS: dict[str, LoincForm] = {
    "phq9": LoincForm(
        panel="44249-1",
        panel_display="PHQ-9 quick depression assessment panel [Reported.PHQ]",
        items=PHQ9_ITEMS,
        answers={key: (DIFFICULTY if key == "difficulty" else FREQUENCY) for key in PHQ9_ITEMS},
        copyright=f"{LOINC_COPYRIGHT}\n{PHQ_COPYRIGHT}",
    ),
    "gad7": LoincForm(
        panel="69737-5",
        panel_display="Generalized anxiety disorder 7 item (GAD-7)",
        items=GAD7_ITEMS,
        answers={key: (GAD7_ITEM2 if key == "item2" else FREQUENCY) for key in GAD7_ITEMS},
        copyright=f"{LOINC_COPYRIGHT}\n{PHQ_COPYRIGHT}",
    ),
}

# LOINC's own displays of the score codes the instruments declare (sources in the module docstring).
LOINC_TOTAL_DISPLAYS = {
    "44261-6": "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
    "70274-6": "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]",
    "72514-3": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
}

# Instruments answered as a questionnaire (a QuestionnaireResponse in the export). NRS and VAS
# are single readings and thermal is a clinic measurement: Observations only.
QUESTIONNAIRES = frozenset({"phq9", "gad7", "odi", "dn4"})

COPYRIGHTS = {"odi": ODI_COPYRIGHT}

# A single-reading scale whose one question is itself the LOINC-coded observation.
SINGLE_READING_ITEMS = {("nrs", "score"): "72514-3"}


class UnknownQuestionnaire(KeyError):
    """No instrument is registered under the requested code."""


def as_json(resource: Resource) -> dict[str, Any]:
    """A validated resource as plain JSON data (what ``fhir.resources`` would write)."""
    return json.loads(resource.model_dump_json())  # type: ignore[no-any-return]


def questionnaire_url(code: str, fhir_base: str) -> str:
    """The canonical URL of an instrument's Questionnaire (served by this app at that address)."""
    return f"{fhir_base.rstrip('/')}/Questionnaire/{code}"


def answer_system(instrument: str, key: str) -> str:
    """The app's code system for a text-coded answer (e.g. the NRS recall period)."""
    return f"{LOCAL_SYSTEM}/{instrument}/{key}"


def link_id(instrument: str, key: str) -> str:
    form = LOINC_FORMS.get(instrument)
    if form is not None and key in form.items:
        return form.items[key]
    return key


def translation(text: Text) -> FHIRPrimitiveExtension | None:
    """The zh-Hans rendering of a string, as the FHIR ``translation`` extension on its primitive."""
    if not text.zh_hans or text.zh_hans == text.en:
        return None
    return FHIRPrimitiveExtension(
        extension=[
            Extension(
                url=TRANSLATION,
                extension=[
                    Extension(url="lang", valueCode=ZH_HANS),
                    Extension(url="content", valueString=text.zh_hans),
                ],
            )
        ]
    )


def ordinal(value: int) -> Extension:
    return Extension(url=ORDINAL_VALUE, valueDecimal=Decimal(value))


def loinc_answer(instrument: str, key: str, value: int) -> LoincAnswer | None:
    form = LOINC_FORMS.get(instrument)
    if form is None or key not in form.answers:
        return None
    return form.answers[key].get(value)


def answer_coding(instrument: Instrument, item: Item, value: Any) -> Coding | None:
    """The coded answer for an app answer value, with its score as ``ordinalValue``; None when
    the item's answers are not coded (integers, decimals, booleans, free text)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        coded = loinc_answer(instrument.code, item.key, value)
        if coded is None:
            return None
        return Coding(system=LOINC, code=coded.code, display=coded.display, extension=[ordinal(value)])
    if isinstance(value, str) and item.kind == "choice_text":
        option = next((o for o in item.options if o.value == value), None)
        if option is None:
            return None
        return Coding(system=answer_system(instrument.code, item.key), code=value, display=option.label.en)
    return None


def _computable_name(instrument: Instrument) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", instrument.code.upper())


def _item_type(item: Item) -> str:
    if item.kind == "boolean":
        return "boolean"
    if item.kind == "integer":
        return "integer"
    if item.kind == "number":
        return "decimal"
    if item.kind == "rois":
        return "group"
    return "choice"


def _answer_options(instrument: Instrument, item: Item) -> list[QuestionnaireItemAnswerOption] | None:
    if item.kind not in ("choice", "choice_text"):
        return None
    options = []
    for option in item.options:
        value = option.value
        if item.kind == "choice_text":
            coding = Coding(
                system=answer_system(instrument.code, item.key),
                code=str(value),
                display=option.label.en,
                _display=translation(option.label),
            )
            options.append(QuestionnaireItemAnswerOption(valueCoding=coding))
            continue
        coded = loinc_answer(instrument.code, item.key, int(value)) if isinstance(value, int) else None
        if coded is not None:
            coding = Coding(
                system=LOINC,
                code=coded.code,
                display=coded.display,
                _display=translation(Text(coded.display, option.label.zh_hans)),
            )
            options.append(QuestionnaireItemAnswerOption(valueCoding=coding, extension=[ordinal(int(value))]))
        else:
            options.append(QuestionnaireItemAnswerOption(valueInteger=int(value)))
    return options


def _range_extensions(item: Item) -> list[Extension] | None:
    if item.kind not in ("integer", "number"):
        return None
    extensions = []
    for url, bound in ((MIN_VALUE, item.minimum), (MAX_VALUE, item.maximum)):
        if bound is None:
            continue
        extensions.append(
            Extension(url=url, valueInteger=int(bound))
            if item.kind == "integer"
            else Extension(url=url, valueDecimal=Decimal(str(bound)))
        )
    return extensions or None


def _thermal_roi_children(item: Item) -> list[QuestionnaireItem]:
    def bounded(key: str, label: Text) -> QuestionnaireItem:
        return QuestionnaireItem(
            linkId=f"{item.key}.{key}",
            text=label.en,
            _text=translation(label),
            type="decimal",
            required=True,
            extension=[
                Extension(url=MIN_VALUE, valueDecimal=Decimal(str(item.minimum))),
                Extension(url=MAX_VALUE, valueDecimal=Decimal(str(item.maximum))),
            ],
        )

    return [
        QuestionnaireItem(
            linkId=f"{item.key}.region",
            text="Region",
            _text=translation(Text("Region", "区域")),
            type="string",
            required=True,
            maxLength=REGION_MAX_LENGTH,
        ),
        bounded("left_c", Text("Left skin temperature (degC)", "左侧皮肤温度（°C）")),
        bounded("right_c", Text("Right skin temperature (degC)", "右侧皮肤温度（°C）")),
    ]


def _item_code(instrument: Instrument, item: Item) -> list[Coding] | None:
    form = LOINC_FORMS.get(instrument.code)
    if form is not None and item.key in form.items:
        return [Coding(system=LOINC, code=form.items[item.key])]
    loinc = SINGLE_READING_ITEMS.get((instrument.code, item.key))
    if loinc is not None:
        return [Coding(system=LOINC, code=loinc, display=LOINC_TOTAL_DISPLAYS[loinc])]
    return None


def _questionnaire_item(instrument: Instrument, item: Item) -> QuestionnaireItem:
    is_group = item.kind == "rois"
    return QuestionnaireItem(
        linkId=link_id(instrument.code, item.key),
        code=_item_code(instrument, item),
        text=item.label.en,
        _text=translation(item.label),
        type=_item_type(item),
        required=item.required,
        repeats=True if is_group else None,
        answerOption=_answer_options(instrument, item),
        extension=_range_extensions(item),
        item=_thermal_roi_children(item) if is_group else None,
    )


def questionnaire_resource(code: str, *, fhir_base: str) -> Questionnaire:
    """The instrument as a FHIR Questionnaire, English text with zh-Hans translations."""
    instrument = INSTRUMENTS.get(code)
    if instrument is None:
        raise UnknownQuestionnaire(code)
    form = LOINC_FORMS.get(code)
    items = [_questionnaire_item(instrument, item) for item in instrument.items]
    if instrument.instructions is not None:
        items.insert(
            0,
            QuestionnaireItem(
                linkId="instructions",
                text=instrument.instructions.en,
                _text=translation(instrument.instructions),
                type="display",
            ),
        )
    copyright_text = form.copyright if form else COPYRIGHTS.get(code)
    return Questionnaire(
        id=code,
        url=questionnaire_url(code, fhir_base),
        version=QUESTIONNAIRE_VERSION,
        name=_computable_name(instrument),
        title=instrument.name.en,
        _title=translation(instrument.name),
        status="active",
        language="en",
        subjectType=["Patient"],
        code=[Coding(system=LOINC, code=form.panel, display=form.panel_display)] if form else None,
        description="Sources: " + " | ".join(instrument.sources),
        copyright=copyright_text,
        item=items,
    )


def score_code(instrument: Instrument) -> CodeableConcept:
    """Observation.code of an instrument's score: LOINC with LOINC's own display where a code
    exists, always the app's instrument code as well."""
    coding = []
    if instrument.loinc_total:
        coding.append(
            Coding(system=LOINC, code=instrument.loinc_total, display=LOINC_TOTAL_DISPLAYS.get(instrument.loinc_total))
        )
    coding.append(Coding(system=LOCAL_SYSTEM, code=instrument.code, display=instrument.name.en))
    return CodeableConcept(coding=coding, text=instrument.name.en)
