"""FHIR R4 export of one patient's record (pure: rows in, JSON dict out).

Bundle type "collection" with Patient, a QuestionnaireResponse per questionnaire answered,
and an Observation per score (LOINC where a code exists: NRS 72514-3, PHQ-9 total 44261-6,
GAD-7 total 70274-6; otherwise a local code system), thermal readings as Observations with
one component per side and ROI in UCUM "Cel". Resource ids are stable (derived from our
ids), so a re-export updates rather than duplicates in a receiving server.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from assessments.instruments import INSTRUMENTS
from assessments.instruments.thermal import LOINC_SKIN_TEMPERATURE
from assessments.models import Assessment
from patients.models import Patient

LOCAL_SYSTEM = "urn:rehab-outcomes:instrument"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
QUESTIONNAIRES = frozenset({"phq9", "gad7", "odi", "dn4"})
UNIT_UCUM = {"points": "{score}", "mm": "mm", "%": "%", "Cel": "Cel"}
FHIR_GENDER = {"female": "female", "male": "male", "other": "other", "unknown": "unknown"}


def _iso(value: dt.datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _patient_resource(patient: Patient) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": f"patient-{patient.pk}",
        "active": patient.is_active,
        "name": [{"text": patient.display_name}],
        "gender": FHIR_GENDER.get(patient.sex, "unknown"),
        "communication": [
            {
                "language": {
                    "coding": [
                        {"system": "urn:ietf:bcp:47", "code": "zh-Hans" if patient.language == "zh-hans" else "en"}
                    ]
                },
                "preferred": True,
            }
        ],
        "managingOrganization": {"display": patient.clinic.name},
    }
    if patient.birth_year:
        resource["birthDate"] = str(patient.birth_year)
    return resource


def _answer_value(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    if isinstance(value, float):
        return {"valueDecimal": value}
    return {"valueString": str(value)}


def _questionnaire_response(a: Assessment, subject: dict[str, str]) -> dict[str, Any]:
    instrument = INSTRUMENTS[a.instrument]
    items = []
    for item in instrument.items:
        value = _answer_value(a.answers.get(item.key))
        entry: dict[str, Any] = {"linkId": item.key, "text": item.label.en}
        if value is not None:
            entry["answer"] = [value]
        items.append(entry)
    questionnaire = (
        f"{LOINC}/q/{instrument.loinc_panel}" if instrument.loinc_panel else f"{LOCAL_SYSTEM}/{a.instrument}"
    )
    return {
        "resourceType": "QuestionnaireResponse",
        "id": f"qr-{a.pk}",
        "identifier": {"system": "urn:ietf:rfc:4122", "value": f"urn:uuid:{a.client_uuid}"},
        "questionnaire": questionnaire,
        "status": "completed",
        "subject": subject,
        "authored": _iso(a.recorded_at),
        "item": items,
    }


def _code(a: Assessment) -> dict[str, Any]:
    instrument = INSTRUMENTS[a.instrument]
    coding = []
    if instrument.loinc_total:
        coding.append({"system": LOINC, "code": instrument.loinc_total, "display": f"{instrument.name.en} total score"})
    coding.append({"system": LOCAL_SYSTEM, "code": a.instrument, "display": instrument.name.en})
    return {"coding": coding, "text": instrument.name.en}


def _score_observation(a: Assessment, subject: dict[str, str], qr_id: str | None) -> dict[str, Any]:
    instrument = INSTRUMENTS[a.instrument]
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"obs-{a.pk}",
        "status": "final",
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}]}
        ],
        "code": _code(a),
        "subject": subject,
        "effectiveDateTime": _iso(a.recorded_at),
        "issued": _iso(a.received_at),
    }
    if a.total is not None:
        obs["valueQuantity"] = {
            "value": a.total,
            "unit": instrument.unit,
            "system": UCUM,
            "code": UNIT_UCUM.get(instrument.unit, "1"),
        }
    if a.band:
        obs["interpretation"] = [{"coding": [{"system": f"{LOCAL_SYSTEM}/{a.instrument}/band", "code": a.band}]}]
    if a.flags:
        obs["note"] = [{"text": "flags: " + ", ".join(a.flags)}]
    if qr_id:
        obs["derivedFrom"] = [{"reference": f"QuestionnaireResponse/{qr_id}"}]
    return obs


def _thermal_observation(a: Assessment, subject: dict[str, str]) -> dict[str, Any]:
    obs = _score_observation(a, subject, None)
    obs["category"] = [
        {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "exam"}]}
    ]
    obs["valueQuantity"] = {"value": a.total, "unit": "Cel", "system": UCUM, "code": "Cel"}
    components = []
    for roi in a.detail.get("rois", []):
        for side in ("left", "right"):
            components.append(
                {
                    "code": {
                        "coding": [{"system": LOINC, "code": LOINC_SKIN_TEMPERATURE, "display": "Temperature of Skin"}],
                        "text": f"{roi['region']} {side}",
                    },
                    "valueQuantity": {"value": roi[f"{side}_c"], "unit": "Cel", "system": UCUM, "code": "Cel"},
                }
            )
        components.append(
            {
                "code": {
                    "coding": [{"system": LOCAL_SYSTEM, "code": "thermal_delta"}],
                    "text": f"{roi['region']} ΔT affected − contralateral",
                },
                "valueQuantity": {"value": roi["delta_c"], "unit": "Cel", "system": UCUM, "code": "Cel"},
            }
        )
    obs["component"] = components
    return obs


def patient_bundle(patient: Patient, assessments: list[Assessment], *, base_url: str) -> dict[str, Any]:
    subject = {"reference": f"Patient/patient-{patient.pk}"}
    resources: list[dict[str, Any]] = [_patient_resource(patient)]
    for a in assessments:
        if a.instrument not in INSTRUMENTS:
            continue
        if a.instrument == "thermal":
            resources.append(_thermal_observation(a, subject))
            continue
        qr_id = None
        if a.instrument in QUESTIONNAIRES:
            qr = _questionnaire_response(a, subject)
            qr_id = qr["id"]
            resources.append(qr)
        resources.append(_score_observation(a, subject, qr_id))
    base = base_url.rstrip("/")
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": _iso(dt.datetime.now(dt.UTC)),
        "total": len(resources),
        "entry": [{"fullUrl": f"{base}/fhir/{r['resourceType']}/{r['id']}", "resource": r} for r in resources],
    }
