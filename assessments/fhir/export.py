"""FHIR R4 export of one patient's record: a ``$everything``-style searchset Bundle.

Rows in, validated JSON out. Every resource is built with the ``fhir.resources`` R4B models
(see ``assessments.fhir.definitions`` for the LOINC tables and their sources), and the
required status bindings the models leave open are checked here, so the bundle is valid R4
when it leaves the app.

- Patient, with ``meta.lastUpdated``; always present, as the subject of everything else.
- QuestionnaireResponse per questionnaire answered (PHQ-9, GAD-7, ODI, DN4), declaring the
  app's own Questionnaire (``/api/v1/fhir/Questionnaire/{code}``). PHQ-9 and GAD-7 items use
  the LOINC item codes as linkIds and LOINC answer codes, each carrying its score in the
  ``ordinalValue`` extension; unanswered items are left out. Status, as FHIR defines it:
  ``completed``; ``in-progress`` when a required item is missing (a partial PHQ-9, e.g. the
  phone's safety-signal entry that only holds item 9, which a later entry may complete);
  ``amended`` once a later entry has completed it (that entry names it in a Provenance with
  role ``revision``).
- Observation per score: LOINC codes with LOINC's exact displays where a code exists (PHQ-9
  44261-6, GAD-7 70274-6, NRS 72514-3), else the app's instrument code; ``derivedFrom`` the
  response. No total Observation when the total is null (a PHQ-9 with more than two items
  missing) or when a later entry superseded the row (it left the score series). A prorated
  total says so in a note. PHQ-9 item 9 is also exported as its own Observation (LOINC
  44260-8, value the LOINC answer), flagged, so the answer that needs a safety response is
  findable by code even on a partial form without a total.
- NRS recall period: 72514-3 is one generic 0-10 pain-severity code, so the recall ("now",
  "average over 24 h", "worst over 24 h") is carried as ``Observation.method`` (FHIR R4:
  "the mechanism used to perform the observation"), coded in the app's recall code system
  (the same codes the NRS Questionnaire's recall item offers), and 24-hour recalls get an
  ``effectivePeriod`` covering those 24 hours (FHIR R4 ``effective[x]``: "the time or
  time-period the observed value is asserted as being true").
- DN4: the 7-item interview (0-7) and the full 10-item DN4 (0-10) share one app code, so
  the variant is carried as ``Observation.method`` in the same way.
- Thermal readings: Observation (category exam) with one component per ROI side (LOINC
  39106-0 skin temperature, UCUM Cel) and one per ROI delta.

Resource ids derive from the app's ids, so a re-export updates rather than duplicates in a
receiving server; ``since`` keeps only what changed at or after that instant (``_since``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import ObjectDoesNotExist
from fhir.resources.R4B.annotation import Annotation
from fhir.resources.R4B.bundle import Bundle, BundleEntry, BundleEntrySearch, BundleLink
from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.coding import Coding
from fhir.resources.R4B.domainresource import DomainResource
from fhir.resources.R4B.humanname import HumanName
from fhir.resources.R4B.identifier import Identifier
from fhir.resources.R4B.meta import Meta
from fhir.resources.R4B.observation import Observation, ObservationComponent
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.patient import PatientCommunication
from fhir.resources.R4B.period import Period
from fhir.resources.R4B.provenance import Provenance, ProvenanceAgent, ProvenanceEntity
from fhir.resources.R4B.quantity import Quantity
from fhir.resources.R4B.questionnaireresponse import (
    QuestionnaireResponse,
    QuestionnaireResponseItem,
    QuestionnaireResponseItemAnswer,
)
from fhir.resources.R4B.reference import Reference
from fhir.resources.R4B.resource import Resource

from assessments.fhir.definitions import (
    LOCAL_SYSTEM,
    LOINC,
    QUESTIONNAIRES,
    UCUM,
    answer_coding,
    answer_system,
    as_json,
    link_id,
    questionnaire_url,
    score_code,
)
from assessments.instruments import FLAG_SUICIDAL_IDEATION as SAFETY_FLAG
from assessments.instruments import INSTRUMENTS, Instrument, Item
from assessments.instruments.phq9 import SUICIDE_ITEM as SAFETY_ITEM
from assessments.instruments.thermal import LOINC_SKIN_TEMPERATURE
from assessments.models import Assessment, Source
from patients.models import Patient

OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
PROVENANCE_ROLE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
UNIT_UCUM = {"points": "{score}", "mm": "mm", "%": "%", "Cel": "Cel"}
FHIR_GENDER = {"female": "female", "male": "male", "other": "other", "unknown": "unknown"}
DN4_VARIANT_SYSTEM = f"{LOCAL_SYSTEM}/dn4/variant"
DN4_VARIANTS = {
    "interview": "DN4-interview: the 7 patient-reported items, total 0-7",
    "full": "DN4: 7 interview and 3 examination items, total 0-10",
}
RECALL_PERIODS = {"average_24h": dt.timedelta(hours=24), "worst_24h": dt.timedelta(hours=24)}

# Required bindings that the models do not enforce (fhir.resources checks structure and
# datatypes, not code values): a wrong value here is a bug in this module.
REQUIRED_CODES: dict[tuple[str, str], frozenset[str]] = {
    ("Bundle", "type"): frozenset({"searchset", "collection"}),
    ("QuestionnaireResponse", "status"): frozenset({"in-progress", "completed", "amended", "stopped"}),
    ("Observation", "status"): frozenset({"final", "amended"}),
    ("Patient", "gender"): frozenset({"male", "female", "other", "unknown"}),
}


class ExportError(ValueError):
    """A resource broke a FHIR rule that the models do not check."""


def _check_codes(resource: Resource) -> None:
    kind = resource.get_resource_type()
    for (owner, field), allowed in REQUIRED_CODES.items():
        value = getattr(resource, field, None) if owner == kind else None
        if value is not None and value not in allowed:
            raise ExportError(f"{kind}.{field} = {value!r} is not one of {sorted(allowed)}")


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


def _decimal(value: float) -> Decimal:
    # Through str: the shortest repr, so 30.4 stays 30.4 rather than 30.39999...
    return Decimal(str(value))


def _number(value: float) -> Decimal:
    return Decimal(int(value)) if float(value).is_integer() else _decimal(value)


def _superseder(a: Assessment) -> Assessment | None:
    try:
        return a.superseded_by
    except ObjectDoesNotExist:
        return None


def _last_updated(a: Assessment) -> dt.datetime:
    later = _superseder(a)
    return max(a.received_at, later.received_at) if later is not None else a.received_at


def _patient_ref(patient: Patient) -> Reference:
    return Reference(reference=f"Patient/patient-{patient.pk}", display=patient.display_name)


def _patient_resource(patient: Patient) -> FhirPatient:
    return FhirPatient(
        id=f"patient-{patient.pk}",
        meta=Meta(lastUpdated=_utc(patient.updated_at)),
        active=patient.is_active,
        name=[HumanName(text=patient.display_name)],
        gender=FHIR_GENDER.get(patient.sex, "unknown"),
        # FHIR allows a partial date; the app records the birth year only.
        birthDate=cast("dt.date", str(patient.birth_year)) if patient.birth_year else None,
        communication=[
            PatientCommunication(
                language=CodeableConcept(
                    coding=[Coding(system="urn:ietf:bcp:47", code="zh-Hans" if patient.language == "zh-hans" else "en")]
                ),
                preferred=True,
            )
        ],
        managingOrganization=Reference(display=patient.clinic.name),
    )


def _answer(instrument: Instrument, item: Item, value: Any) -> QuestionnaireResponseItemAnswer | None:
    if value is None:
        return None
    coding = answer_coding(instrument, item, value)
    if coding is not None:
        return QuestionnaireResponseItemAnswer(valueCoding=coding)
    if isinstance(value, bool):
        return QuestionnaireResponseItemAnswer(valueBoolean=value)
    if isinstance(value, int):
        return QuestionnaireResponseItemAnswer(valueInteger=value)
    if isinstance(value, float):
        return QuestionnaireResponseItemAnswer(valueDecimal=Decimal(str(value)))
    return QuestionnaireResponseItemAnswer(valueString=str(value))


def is_partial(a: Assessment) -> bool:
    """A required item unanswered, or the scorer reported the form incomplete or prorated."""
    instrument = INSTRUMENTS[a.instrument]
    detail = a.detail if isinstance(a.detail, dict) else {}
    if detail.get("incomplete") or detail.get("prorated"):
        return True
    return any(item.required and a.answers.get(item.key) is None for item in instrument.items)


def _response_status(a: Assessment) -> str:
    if _superseder(a) is not None:
        return "amended"
    return "in-progress" if is_partial(a) else "completed"


def _questionnaire_response(a: Assessment, patient: Patient, fhir_base: str) -> QuestionnaireResponse:
    instrument = INSTRUMENTS[a.instrument]
    items = []
    for item in instrument.items:
        answer = _answer(instrument, item, a.answers.get(item.key))
        if answer is None:
            continue  # unanswered items are absent, not empty (FHIR: an item has answers or children)
        items.append(
            QuestionnaireResponseItem(linkId=link_id(a.instrument, item.key), text=item.label.en, answer=[answer])
        )
    subject = _patient_ref(patient)
    return QuestionnaireResponse(
        id=f"qr-{a.pk}",
        meta=Meta(lastUpdated=_utc(_last_updated(a))),
        identifier=Identifier(system="urn:ietf:rfc:3986", value=f"urn:uuid:{a.client_uuid}"),
        questionnaire=questionnaire_url(a.instrument, fhir_base),
        status=_response_status(a),
        subject=subject,
        authored=_utc(a.recorded_at),
        source=subject if a.source == Source.PATIENT else None,
        item=items or None,
    )


def _category(code: str) -> list[CodeableConcept]:
    display = {"survey": "Survey", "exam": "Exam"}[code]
    return [CodeableConcept(coding=[Coding(system=OBSERVATION_CATEGORY, code=code, display=display)])]


def _interpretation(a: Assessment, instrument: Instrument) -> list[CodeableConcept] | None:
    if not a.band:
        return None
    band = next((b for b in instrument.bands if b.code == a.band), None)
    coding = Coding(system=f"{LOCAL_SYSTEM}/{a.instrument}/band", code=a.band, display=band.label.en if band else None)
    return [CodeableConcept(coding=[coding], text=band.label.en if band else None)]


def _notes(a: Assessment) -> list[Annotation] | None:
    notes = []
    detail = a.detail if isinstance(a.detail, dict) else {}
    if detail.get("prorated"):
        missing = detail.get("missing") or []
        notes.append(Annotation(text="Total prorated for unanswered items: " + ", ".join(map(str, missing))))
    if a.flags:
        notes.append(Annotation(text="flags: " + ", ".join(a.flags)))
    return notes or None


def _recall(a: Assessment) -> str | None:
    recall = a.answers.get("recall") if a.instrument == "nrs" else None
    return recall if isinstance(recall, str) else None


def _method(a: Assessment, instrument: Instrument) -> CodeableConcept | None:
    """How the score was obtained, where one code covers scores that must not be mixed: the
    NRS recall period, and the DN4 variant (the 7-item interview, 0-7, or all 10 items, 0-10)."""
    variant = a.detail.get("variant") if a.instrument == "dn4" and isinstance(a.detail, dict) else None
    if variant in DN4_VARIANTS:
        display = DN4_VARIANTS[variant]
        return CodeableConcept(coding=[Coding(system=DN4_VARIANT_SYSTEM, code=variant, display=display)], text=display)
    recall = _recall(a)
    if recall is None:
        return None
    item = instrument.item("recall")
    option = next((o for o in item.options if o.value == recall), None)
    display = option.label.en if option else recall
    return CodeableConcept(
        coding=[Coding(system=answer_system("nrs", "recall"), code=recall, display=display)], text=display
    )


def _effective(a: Assessment) -> dict[str, Any]:
    recall = _recall(a)
    period = RECALL_PERIODS.get(recall) if recall else None
    if period is not None:
        return {"effectivePeriod": Period(start=_utc(a.recorded_at - period), end=_utc(a.recorded_at))}
    return {"effectiveDateTime": _utc(a.recorded_at)}


def _score_observation(a: Assessment, total: float, patient: Patient, qr_id: str | None) -> Observation:
    instrument = INSTRUMENTS[a.instrument]
    return Observation(
        id=f"obs-{a.pk}",
        meta=Meta(lastUpdated=_utc(_last_updated(a))),
        status="final",
        category=_category("survey"),
        code=score_code(instrument),
        subject=_patient_ref(patient),
        **_effective(a),
        issued=_utc(a.received_at),
        valueQuantity=Quantity(
            value=_number(total),
            unit=instrument.unit,
            system=UCUM,
            code=UNIT_UCUM.get(instrument.unit, "1"),
        ),
        interpretation=_interpretation(a, instrument),
        method=_method(a, instrument),
        note=_notes(a),
        derivedFrom=[Reference(reference=f"QuestionnaireResponse/{qr_id}")] if qr_id else None,
    )


def _safety_item_observation(a: Assessment, patient: Patient, qr_id: str | None) -> Observation | None:
    """PHQ-9 item 9 also as its own Observation (LOINC 44260-8, as US Core's PHQ-9 item
    Observations do), so a receiver that reads Observations only still finds the answer
    that needs a safety response, also on a partial form that has no total."""
    if a.instrument != "phq9":
        return None
    instrument = INSTRUMENTS[a.instrument]
    item = instrument.item(SAFETY_ITEM)
    coding = answer_coding(instrument, item, a.answers.get(SAFETY_ITEM))
    if coding is None:
        return None
    code = link_id(a.instrument, SAFETY_ITEM)
    return Observation(
        id=f"obs-{a.pk}-{code}",
        meta=Meta(lastUpdated=_utc(_last_updated(a))),
        status="final",
        category=_category("survey"),
        code=CodeableConcept(coding=[Coding(system=LOINC, code=code)], text=item.label.en),
        subject=_patient_ref(patient),
        **_effective(a),
        issued=_utc(a.received_at),
        valueCodeableConcept=CodeableConcept(coding=[coding], text=coding.display),
        note=[Annotation(text="flags: " + ", ".join(a.flags))] if SAFETY_FLAG in a.flags else None,
        derivedFrom=[Reference(reference=f"QuestionnaireResponse/{qr_id}")] if qr_id else None,
    )


def _celsius(value: float) -> Quantity:
    return Quantity(value=_decimal(value), unit="Cel", system=UCUM, code="Cel")


def _thermal_observation(a: Assessment, patient: Patient) -> Observation:
    instrument = INSTRUMENTS[a.instrument]
    components = []
    for roi in a.detail.get("rois", []):
        for side in ("left", "right"):
            components.append(
                ObservationComponent(
                    code=CodeableConcept(
                        coding=[Coding(system=LOINC, code=LOINC_SKIN_TEMPERATURE, display="Temperature of Skin")],
                        text=f"{roi['region']} {side}",
                    ),
                    valueQuantity=_celsius(roi[f"{side}_c"]),
                )
            )
        components.append(
            ObservationComponent(
                code=CodeableConcept(
                    coding=[Coding(system=LOCAL_SYSTEM, code="thermal_delta")],
                    text=f"{roi['region']} ΔT affected − contralateral",
                ),
                valueQuantity=_celsius(roi["delta_c"]),
            )
        )
    return Observation(
        id=f"obs-{a.pk}",
        meta=Meta(lastUpdated=_utc(_last_updated(a))),
        status="final",
        category=_category("exam"),
        code=score_code(instrument),
        subject=_patient_ref(patient),
        effectiveDateTime=_utc(a.recorded_at),
        issued=_utc(a.received_at),
        valueQuantity=_celsius(a.total) if a.total is not None else None,
        interpretation=_interpretation(a, instrument),
        note=_notes(a),
        component=components or None,
    )


def _provenance(a: Assessment, patient: Patient) -> Provenance:
    """The later entry is a revision of the earlier one it completes."""
    who = _patient_ref(patient) if a.source == Source.PATIENT else Reference(display=patient.clinic.name)
    role = "author" if a.source == Source.PATIENT else "enterer"
    # The link exists once both entries are stored, whichever arrived last.
    linked = max(a.received_at, a.supersedes.received_at) if a.supersedes is not None else a.received_at
    return Provenance(
        id=f"prov-{a.pk}",
        meta=Meta(lastUpdated=_utc(linked)),
        target=[Reference(reference=f"QuestionnaireResponse/qr-{a.pk}")],
        recorded=_utc(linked),
        agent=[
            ProvenanceAgent(
                type=CodeableConcept(coding=[Coding(system=PROVENANCE_ROLE, code=role)]),
                who=who,
            )
        ],
        entity=[
            ProvenanceEntity(role="revision", what=Reference(reference=f"QuestionnaireResponse/qr-{a.supersedes_id}"))
        ],
    )


def assessment_resources(a: Assessment, patient: Patient, fhir_base: str) -> list[DomainResource]:
    """The resources one assessment contributes to the export."""
    if a.instrument not in INSTRUMENTS:
        return []
    if a.instrument == "thermal":
        return [_thermal_observation(a, patient)]
    resources: list[DomainResource] = []
    qr_id = None
    if a.instrument in QUESTIONNAIRES:
        qr = _questionnaire_response(a, patient, fhir_base)
        qr_id = qr.id
        resources.append(qr)
        if a.supersedes_id is not None:
            resources.append(_provenance(a, patient))
    if _superseder(a) is not None:
        return resources  # the completing entry carries the scores now
    if a.total is not None:
        resources.append(_score_observation(a, a.total, patient, qr_id))
    safety = _safety_item_observation(a, patient, qr_id)
    if safety is not None:
        resources.append(safety)
    return resources


def patient_bundle(
    patient: Patient,
    assessments: Iterable[Assessment],
    *,
    fhir_base: str,
    self_url: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """The patient's record as a validated FHIR R4 searchset Bundle (JSON-ready dict)."""
    base = fhir_base.rstrip("/")
    resources: list[DomainResource] = [_patient_resource(patient)]
    for a in assessments:
        resources.extend(assessment_resources(a, patient, base))
    for resource in resources:
        _check_codes(resource)
    bundle = Bundle(
        type="searchset",
        timestamp=_utc(now),
        total=len(resources),
        link=[BundleLink(relation="self", url=self_url)],
        entry=[
            BundleEntry(
                fullUrl=f"{base}/{r.get_resource_type()}/{r.id}",
                resource=r,
                search=BundleEntrySearch(mode="match"),
            )
            for r in resources
        ],
    )
    _check_codes(bundle)
    return as_json(bundle)
