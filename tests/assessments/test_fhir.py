"""FHIR R4 export and Questionnaires, checked with the fhir.resources R4B models and against
LOINC tables written out here from their published sources (not imported from the app)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.provenance import Provenance
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from rest_framework.test import APIClient

from assessments.instruments import INSTRUMENTS
from assessments.models import Assessment
from tests.conftest import client_for
from tests.factories import make_demo_cohort, make_staff

LOINC = "http://loinc.org"
ORDINAL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"

# HL7 US Core, "Questionnaire PHQ-9 Example" (github.com/HL7/US-Core,
# input/examples/Questionnaire-phq-9-example.json; https://hl7.org/fhir/us/core/STU7/Questionnaire-phq-9-example.html).
PHQ9_ITEM_CODES = {
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
FREQUENCY_ANSWERS = {
    0: ("LA6568-5", "Not at all"),
    1: ("LA6569-3", "Several days"),
    2: ("LA6570-1", "More than half the days"),
    3: ("LA6571-9", "Nearly every day"),
}
DIFFICULTY_ANSWERS = {
    0: ("LA6572-7", "Not difficult at all"),
    1: ("LA6573-5", "Somewhat difficult"),
    2: ("LA6575-0", "Very difficult"),
    3: ("LA6574-3", "Extremely difficult"),
}
# HL7 PCO IG, input/resources/questionnaire/Questionnaire-GAD7.json (github.com/HL7/pco-ig): item 2
# (68509-9) answers "More days than not" LA18938-3 in the third place.
GAD7_ITEM_CODES = {
    "item1": "69725-0",
    "item2": "68509-9",
    "item3": "69733-4",
    "item4": "69734-2",
    "item5": "69735-9",
    "item6": "69689-8",
    "item7": "69736-7",
}
GAD7_ITEM2_ANSWERS = {**FREQUENCY_ANSWERS, 2: ("LA18938-3", "More days than not")}
# LOINC displays: US Core Observation PHQ9-item-example-44261-6; MII PRO IG ObservationDefinition
# mii-obsdef-pro-score-gad-7; HL7 Belgium patient-monitoring ValueSet pain-scale.
LOINC_DISPLAYS = {
    "44261-6": "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
    "70274-6": "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]",
    "72514-3": "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
}


def expected_answer(instrument: str, key: str, value: int) -> tuple[str, str]:
    if instrument == "phq9" and key == "difficulty":
        return DIFFICULTY_ANSWERS[value]
    if instrument == "gad7" and key == "item2":
        return GAD7_ITEM2_ANSWERS[value]
    return FREQUENCY_ANSWERS[value]


def url(patient: Any) -> str:
    return f"/api/v1/patients/{patient.pk}/assessments/"


def body(instrument: str, answers: dict[str, Any], when: str = "2026-01-05T09:00:00+08:00") -> dict[str, Any]:
    return {"instrument": instrument, "answers": answers, "recorded_at": when, "client_uuid": str(uuid.uuid4())}


def get_bundle(client: APIClient, patient: Any, query: str = "") -> dict[str, Any]:
    response = client.get(f"/api/v1/patients/{patient.pk}/fhir/{query}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/fhir+json"
    return response.json()


def parse(bundle: dict[str, Any]) -> Bundle:
    """Validate the whole bundle and every resource in it with the R4B models."""
    parsed = Bundle.model_validate(bundle)
    assert parsed.type == "searchset"
    for entry in parsed.entry or []:
        resource = entry.resource
        assert type(resource).model_validate(resource.model_dump(mode="json", by_alias=True, exclude_none=True))
        assert entry.fullUrl.endswith(f"/{resource.get_resource_type()}/{resource.id}")
    return parsed


def resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def ordinal_of(coding: dict[str, Any]) -> Decimal:
    (extension,) = [e for e in coding["extension"] if e["url"] == ORDINAL]
    return Decimal(str(extension["valueDecimal"]))


def make_row(patient: Any, instrument: str, answers: dict[str, Any], **fields: Any) -> Assessment:
    fields.setdefault("recorded_at", dt.datetime(2026, 1, 5, 1, 0, tzinfo=dt.UTC))
    fields.setdefault("total", None)
    return Assessment.objects.create(patient=patient, instrument=instrument, answers=answers, **fields)


# --- Questionnaire responses: LOINC item codes and answers ----------------------------------


def test_phq9_and_gad7_items_and_answers_carry_their_loinc_codes(
    patient_client: APIClient, therapist_client: APIClient, patient: Any
) -> None:
    phq = {f"item{i}": (i - 1) % 4 for i in range(1, 10)} | {"difficulty": 2}
    gad = {f"item{i}": (i + 1) % 4 for i in range(1, 8)}
    assert patient_client.post(url(patient), body("phq9", phq), format="json").status_code == 201
    assert patient_client.post(url(patient), body("gad7", gad), format="json").status_code == 201
    bundle = get_bundle(therapist_client, patient)
    parse(bundle)
    by_questionnaire = {r["questionnaire"].rsplit("/", 1)[-1]: r for r in resources(bundle, "QuestionnaireResponse")}
    for instrument, answers, codes in (("phq9", phq, PHQ9_ITEM_CODES), ("gad7", gad, GAD7_ITEM_CODES)):
        response = by_questionnaire[instrument]
        assert response["status"] == "completed"
        assert response["questionnaire"].endswith(f"/api/v1/fhir/Questionnaire/{instrument}")
        items = {item["linkId"]: item for item in response["item"]}
        assert set(items) == {codes[key] for key in answers}
        for key, value in answers.items():
            (answer,) = items[codes[key]]["answer"]
            coding = answer["valueCoding"]
            assert (coding["system"], coding["code"], coding["display"]) == (
                LOINC,
                *expected_answer(instrument, key, value),
            )
            assert ordinal_of(coding) == value


def test_item9_is_findable_by_44260_8(patient_client: APIClient, therapist_client: APIClient, patient: Any) -> None:
    phq = {f"item{i}": 0 for i in range(1, 9)} | {"item9": 2}
    assert patient_client.post(url(patient), body("phq9", phq), format="json").status_code == 201
    bundle = get_bundle(therapist_client, patient)
    (response,) = resources(bundle, "QuestionnaireResponse")
    parsed = QuestionnaireResponse.model_validate(response)
    (item9,) = [item for item in parsed.item if item.linkId == "44260-8"]
    coding = item9.answer[0].valueCoding
    assert (coding.system, coding.code) == (LOINC, "LA6570-1")
    assert coding.extension[0].url == ORDINAL
    assert coding.extension[0].valueDecimal == 2
    (total,) = [o for o in resources(bundle, "Observation") if o["code"]["coding"][0]["code"] == "44261-6"]
    assert "suicidal_ideation" in total["note"][0]["text"]


def test_dn4_and_odi_use_the_app_questionnaire_and_answer_keys(
    patient_client: APIClient, therapist_client: APIClient, patient: Any
) -> None:
    interview = dict.fromkeys(("burning", "painful_cold", "electric_shocks", "tingling"), True) | dict.fromkeys(
        ("pins_and_needles", "numbness", "itching"), False
    )
    odi = {f"section{i}": i % 6 for i in range(1, 11)} | {"section8": None}
    assert patient_client.post(url(patient), body("dn4", interview), format="json").status_code == 201
    assert patient_client.post(url(patient), body("odi", odi), format="json").status_code == 201
    bundle = get_bundle(therapist_client, patient)
    parse(bundle)
    responses = {r["questionnaire"].rsplit("/", 1)[-1]: r for r in resources(bundle, "QuestionnaireResponse")}
    dn4_items = {i["linkId"]: i["answer"][0] for i in responses["dn4"]["item"]}
    assert dn4_items == {key: {"valueBoolean": value} for key, value in interview.items()}
    odi_items = {i["linkId"]: i["answer"][0] for i in responses["odi"]["item"]}
    assert odi_items == {key: {"valueInteger": value} for key, value in odi.items() if value is not None}
    assert responses["odi"]["status"] == "completed"  # a skipped ODI section is allowed, not missing
    observations = resources(bundle, "Observation")
    assert all(c["system"] != LOINC for o in observations for c in o["code"]["coding"])  # no invented LOINC codes


# --- Observations: exact LOINC displays and the NRS recall ----------------------------------


def test_observation_displays_are_loincs_own(
    patient_client: APIClient, therapist_client: APIClient, patient: Any
) -> None:
    patient_client.post(url(patient), body("phq9", {f"item{i}": 1 for i in range(1, 10)}), format="json")
    patient_client.post(url(patient), body("gad7", {f"item{i}": 1 for i in range(1, 8)}), format="json")
    patient_client.post(url(patient), body("nrs", {"score": 4}), format="json")
    bundle = get_bundle(therapist_client, patient)
    parse(bundle)
    seen = {}
    for observation in resources(bundle, "Observation"):
        for coding in observation["code"]["coding"]:
            if coding["system"] == LOINC and coding["code"] != "44260-8":
                seen[coding["code"]] = coding["display"]
    assert seen == LOINC_DISPLAYS


def test_nrs_recall_periods_stay_distinguishable(
    patient_client: APIClient, therapist_client: APIClient, patient: Any
) -> None:
    for recall, score in (("now", 3), ("average_24h", 5), ("worst_24h", 8)):
        answers = {"score": score, "recall": recall}
        assert patient_client.post(url(patient), body("nrs", answers), format="json").status_code == 201
    bundle = get_bundle(therapist_client, patient)
    parse(bundle)
    by_recall = {}
    for raw in resources(bundle, "Observation"):
        observation = Observation.model_validate(raw)
        assert observation.code.coding[0].code == "72514-3"
        (method,) = observation.method.coding
        by_recall[method.code] = observation
    assert {k: int(v.valueQuantity.value) for k, v in by_recall.items()} == {
        "now": 3,
        "average_24h": 5,
        "worst_24h": 8,
    }
    assert by_recall["now"].effectiveDateTime is not None
    for recall in ("average_24h", "worst_24h"):
        period = by_recall[recall].effectivePeriod
        assert period.end - period.start == dt.timedelta(hours=24)
    assert len({o.method.coding[0].system for o in by_recall.values()}) == 1
    assert len({o.method.text for o in by_recall.values()}) == 3


# --- Partial and superseded questionnaires ---------------------------------------------------


def test_partial_phq9_exports_answered_items_and_no_total(therapist_client: APIClient, patient: Any) -> None:
    safety_signal = make_row(
        patient, "phq9", {"item9": 2}, flags=["suicidal_ideation"], detail={"incomplete": True}, band=""
    )
    prorated = make_row(
        patient,
        "phq9",
        {f"item{i}": 1 for i in range(1, 9)},
        total=9.0,
        band="mild",
        detail={"prorated": True, "missing": ["item9"]},
        recorded_at=dt.datetime(2026, 1, 6, 1, 0, tzinfo=dt.UTC),
    )
    bundle = get_bundle(therapist_client, patient)
    parse(bundle)
    responses = {r["id"]: r for r in resources(bundle, "QuestionnaireResponse")}
    signal = responses[f"qr-{safety_signal.pk}"]
    assert signal["status"] == "in-progress"
    assert [i["linkId"] for i in signal["item"]] == ["44260-8"]
    assert signal["item"][0]["answer"][0]["valueCoding"]["code"] == "LA6570-1"
    assert responses[f"qr-{prorated.pk}"]["status"] == "in-progress"
    assert "44260-8" not in {i["linkId"] for i in responses[f"qr-{prorated.pk}"]["item"]}
    observations = {o["id"]: o for o in resources(bundle, "Observation")}
    assert f"obs-{safety_signal.pk}" not in observations
    # The safety answer stays findable by code among the Observations, flagged, with no total.
    item9 = Observation.model_validate(observations[f"obs-{safety_signal.pk}-44260-8"])
    assert item9.code.coding[0].code == "44260-8"
    assert item9.valueCodeableConcept.coding[0].code == "LA6570-1"
    assert "suicidal_ideation" in item9.note[0].text
    assert item9.derivedFrom[0].reference == f"QuestionnaireResponse/qr-{safety_signal.pk}"
    total = observations[f"obs-{prorated.pk}"]
    assert total["valueQuantity"]["value"] == 9
    assert any("prorated" in note["text"] for note in total["note"])


def test_a_completing_entry_amends_the_earlier_one(therapist_client: APIClient, patient: Any) -> None:
    earlier = make_row(patient, "phq9", {"item9": 1}, flags=["suicidal_ideation"], detail={"incomplete": True})
    later = make_row(
        patient,
        "phq9",
        {f"item{i}": 1 for i in range(1, 10)},
        total=9.0,
        band="mild",
        flags=["suicidal_ideation"],
        supersedes=earlier,
        recorded_at=dt.datetime(2026, 1, 5, 1, 5, tzinfo=dt.UTC),
        received_at=dt.datetime(2026, 1, 5, 1, 6, tzinfo=dt.UTC),
    )
    bundle = get_bundle(therapist_client, patient)
    parse(bundle)
    responses = {r["id"]: r for r in resources(bundle, "QuestionnaireResponse")}
    assert responses[f"qr-{earlier.pk}"]["status"] == "amended"
    assert responses[f"qr-{later.pk}"]["status"] == "completed"
    (provenance,) = [Provenance.model_validate(p) for p in resources(bundle, "Provenance")]
    assert provenance.target[0].reference == f"QuestionnaireResponse/qr-{later.pk}"
    assert provenance.entity[0].role == "revision"
    assert provenance.entity[0].what.reference == f"QuestionnaireResponse/qr-{earlier.pk}"
    assert {o["id"] for o in resources(bundle, "Observation")} == {f"obs-{later.pk}", f"obs-{later.pk}-44260-8"}


def test_dn4_examination_amends_the_interview(
    patient_client: APIClient, therapist_client: APIClient, patient: Any
) -> None:
    interview = dict.fromkeys(("burning", "painful_cold", "electric_shocks", "tingling"), True) | dict.fromkeys(
        ("pins_and_needles", "numbness", "itching"), False
    )
    assert patient_client.post(url(patient), body("dn4", interview), format="json").status_code == 201
    exam = {"touch_hypoesthesia": True, "pinprick_hypoesthesia": False, "brushing": False}
    response = therapist_client.post(url(patient), body("dn4", exam, "2026-01-05T10:00:00+08:00"), format="json")
    assert response.status_code == 201, response.content
    bundle = get_bundle(therapist_client, patient)
    parse(bundle)
    statuses = sorted(r["status"] for r in resources(bundle, "QuestionnaireResponse"))
    assert statuses == ["amended", "completed"]
    assert len(resources(bundle, "Provenance")) == 1
    (observation,) = resources(bundle, "Observation")
    assert observation["valueQuantity"]["value"] == response.json()["total"]
    assert observation["method"]["coding"][0]["code"] == "full"  # scored 0-10, not the 0-7 interview


def test_dn4_interview_and_full_dn4_stay_distinguishable(
    patient_client: APIClient, therapist_client: APIClient, patient: Any
) -> None:
    interview = dict.fromkeys(("burning", "painful_cold", "electric_shocks"), True) | dict.fromkeys(
        ("tingling", "pins_and_needles", "numbness", "itching"), False
    )
    assert patient_client.post(url(patient), body("dn4", interview), format="json").status_code == 201
    (observation,) = resources(get_bundle(therapist_client, patient), "Observation")
    assert observation["valueQuantity"]["value"] == 3
    assert observation["method"]["coding"][0]["code"] == "interview"
    assert "0-7" in observation["method"]["text"]


# --- Round trip --------------------------------------------------------------------------------


def recover(bundle: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Rebuild every score from a parsed bundle alone: per response, the app's answers; per
    Observation, the total, the NRS recall and the thermal readings."""
    codes = {("phq9", code): key for key, code in PHQ9_ITEM_CODES.items()} | {
        ("gad7", code): key for key, code in GAD7_ITEM_CODES.items()
    }
    parsed = parse(bundle)
    found: dict[str, dict[str, Any]] = {}
    for entry in parsed.entry:
        resource = entry.resource
        kind = resource.get_resource_type()
        if kind == "QuestionnaireResponse":
            instrument = resource.questionnaire.rsplit("/", 1)[-1]
            answers = {}
            for item in resource.item or []:
                answer = item.answer[0]
                key = codes.get((instrument, item.linkId), item.linkId)
                if answer.valueCoding is not None:
                    answers[key] = int(answer.valueCoding.extension[0].valueDecimal)
                elif answer.valueBoolean is not None:
                    answers[key] = answer.valueBoolean
                else:
                    answers[key] = answer.valueInteger
            found.setdefault(resource.id.removeprefix("qr-"), {})["answers"] = answers
        elif kind == "Observation" and resource.valueCodeableConcept is not None:
            pk, code = resource.id.removeprefix("obs-").split("-", 1)
            coding = resource.valueCodeableConcept.coding[0]
            assert code == resource.code.coding[0].code
            found.setdefault(pk, {}).setdefault("items", {})[code] = int(coding.extension[0].valueDecimal)
        elif kind == "Observation":
            row = found.setdefault(resource.id.removeprefix("obs-"), {})
            row["total"] = float(resource.valueQuantity.value) if resource.valueQuantity else None
            if resource.method is not None:
                row["recall"] = resource.method.coding[0].code
            if resource.component:
                row["rois"] = [float(c.valueQuantity.value) for c in resource.component]
    return found


def test_round_trip_recovers_every_score(patient_client: APIClient, therapist_client: APIClient, patient: Any) -> None:
    posted = [
        ("phq9", {f"item{i}": i % 4 for i in range(1, 10)} | {"difficulty": 3}, patient_client),
        ("gad7", {f"item{i}": (i * 2) % 4 for i in range(1, 8)}, patient_client),
        ("nrs", {"score": 6, "recall": "worst_24h"}, patient_client),
        ("vas", {"score_mm": 42.5}, patient_client),
        ("odi", {f"section{i}": (i * 3) % 6 for i in range(1, 11)}, patient_client),
        (
            "thermal",
            {
                "rois": [{"region": "dorsum of foot", "left_c": 29.6, "right_c": 31.1}],
                "ambient_c": 22.5,
                "acclimatisation_min": 15,
                "affected_side": "left",
            },
            therapist_client,
        ),
    ]
    for instrument, answers, client in posted:
        assert client.post(url(patient), body(instrument, answers), format="json").status_code == 201
    recovered = recover(get_bundle(therapist_client, patient))
    rows = Assessment.objects.filter(patient=patient)
    assert len(rows) == len(posted)
    for row in rows:
        got = recovered[str(row.pk)]
        assert got["total"] == pytest.approx(row.total), row.instrument
        if row.instrument in ("phq9", "gad7", "odi"):
            assert got["answers"] == {k: v for k, v in row.answers.items() if v is not None}
        if row.instrument == "phq9":
            assert got["items"] == {"44260-8": row.answers["item9"]}
        if row.instrument == "nrs":
            assert got["recall"] == row.answers["recall"] == "worst_24h"
        if row.instrument == "thermal":
            roi = row.detail["rois"][0]
            assert got["rois"] == pytest.approx([roi["left_c"], roi["right_c"], roi["delta_c"]])


# --- Every demo patient ----------------------------------------------------------------------


@pytest.mark.django_db
def test_every_demo_patients_bundle_validates(clinic: Any) -> None:
    from assessments.demo import history as demo

    therapist = make_staff(clinic, "therapist")
    patients = make_demo_cohort(clinic, therapist)
    demo.seed(clinic)
    client = client_for(therapist)
    kinds: set[str] = set()
    for patient in patients:
        bundle = get_bundle(client, patient)
        parsed = parse(bundle)
        kinds |= {e.resource.get_resource_type() for e in parsed.entry}
        rows = Assessment.objects.filter(patient=patient)
        assert len(recover(bundle)) == rows.count()
        for response in resources(bundle, "QuestionnaireResponse"):
            instrument = response["questionnaire"].rsplit("/", 1)[-1]
            codes = {"phq9": PHQ9_ITEM_CODES, "gad7": GAD7_ITEM_CODES}.get(instrument)
            if codes is None:
                continue
            keys = {code: key for key, code in codes.items()}
            for item in response["item"]:
                coding = item["answer"][0]["valueCoding"]
                value = int(ordinal_of(coding))
                assert (coding["code"], coding["display"]) == expected_answer(instrument, keys[item["linkId"]], value)
        for observation in resources(bundle, "Observation"):
            for coding in observation["code"]["coding"]:
                if coding["system"] == LOINC and coding["code"] != "44260-8":
                    assert coding["display"] == LOINC_DISPLAYS[coding["code"]]
    assert {"Patient", "QuestionnaireResponse", "Observation"} <= kinds


# --- _since --------------------------------------------------------------------------------------


def test_since_keeps_what_changed(patient: Any, therapist_client: APIClient) -> None:
    old = make_row(
        patient, "nrs", {"score": 2, "recall": "now"}, total=2.0, received_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    new = make_row(
        patient, "nrs", {"score": 5, "recall": "now"}, total=5.0, received_at=dt.datetime(2026, 1, 3, tzinfo=dt.UTC)
    )
    bundle = get_bundle(therapist_client, patient, "?_since=2026-01-02T00:00:00%2B00:00")
    parse(bundle)
    ids = {e["resource"]["id"] for e in bundle["entry"]}
    assert f"obs-{new.pk}" in ids
    assert f"obs-{old.pk}" not in ids
    assert f"patient-{patient.pk}" in ids
    # A bare "+" in a query string arrives as a space; it is read as the offset it was meant to be.
    assert len(get_bundle(therapist_client, patient, "?_since=2026-01-02T00:00:00+00:00")["entry"]) == 2


def test_since_includes_an_entry_superseded_after_it(patient: Any, therapist_client: APIClient) -> None:
    earlier = make_row(
        patient, "phq9", {"item9": 1}, detail={"incomplete": True}, received_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    )
    make_row(
        patient,
        "phq9",
        {f"item{i}": 0 for i in range(1, 9)} | {"item9": 1},
        total=1.0,
        band="minimal",
        supersedes=earlier,
        received_at=dt.datetime(2026, 1, 3, tzinfo=dt.UTC),
    )
    bundle = get_bundle(therapist_client, patient, "?_since=2026-01-02T00:00:00Z")
    statuses = {r["id"]: r["status"] for r in resources(bundle, "QuestionnaireResponse")}
    assert statuses[f"qr-{earlier.pk}"] == "amended"
    assert resources(bundle, "QuestionnaireResponse")[0]["meta"]["lastUpdated"].startswith("2026-01-03")


def test_since_includes_a_link_made_when_the_earlier_entry_arrived_late(
    patient: Any, therapist_client: APIClient
) -> None:
    # The completed form reached the server first; the safety-signal entry it names came later.
    earlier = make_row(
        patient, "phq9", {"item9": 1}, detail={"incomplete": True}, received_at=dt.datetime(2026, 1, 3, tzinfo=dt.UTC)
    )
    later = make_row(
        patient,
        "phq9",
        {f"item{i}": 0 for i in range(1, 9)} | {"item9": 1},
        total=1.0,
        band="minimal",
        supersedes=earlier,
        received_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )
    bundle = get_bundle(therapist_client, patient, "?_since=2026-01-02T00:00:00Z")
    parse(bundle)
    (provenance,) = resources(bundle, "Provenance")
    assert provenance["target"][0]["reference"] == f"QuestionnaireResponse/qr-{later.pk}"
    assert provenance["recorded"].startswith("2026-01-03")
    statuses = {r["id"]: r["status"] for r in resources(bundle, "QuestionnaireResponse")}
    assert statuses == {f"qr-{earlier.pk}": "amended", f"qr-{later.pk}": "completed"}


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2026-01-02T00:00:00",
        "2026-13-02T00:00:00Z",
        "2026-01-02T00:00:00+99:00",
        "9999-12-31T23:59:59-23:59",
        "0001-01-01T00:00:00+14:00",
        "x" * 5000,
    ],
)
def test_bad_since_is_a_400_naming_the_parameter(therapist_client: APIClient, patient: Any, value: str) -> None:
    response = therapist_client.get(f"/api/v1/patients/{patient.pk}/fhir/", {"_since": value})
    assert response.status_code == 400
    assert "_since" in response.json()


def test_bundle_query_count_is_flat(
    therapist_client: APIClient, patient: Any, django_assert_max_num_queries: Any
) -> None:
    for day in range(30):
        make_row(
            patient,
            "nrs",
            {"score": day % 11, "recall": "now"},
            total=float(day % 11),
            recorded_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(days=day),
        )
    with django_assert_max_num_queries(12):
        bundle = get_bundle(therapist_client, patient)
    assert len(resources(bundle, "Observation")) == 30


def test_bundle_access(
    patient_client: APIClient, patient: Any, other_patient: Any, api_client_for: Any, manager: Any
) -> None:
    assert patient_client.get(f"/api/v1/patients/{patient.pk}/fhir/").status_code == 200
    assert patient_client.get(f"/api/v1/patients/{other_patient.pk}/fhir/").status_code == 404
    assert APIClient().get(f"/api/v1/patients/{patient.pk}/fhir/").status_code in (401, 403)


@pytest.mark.parametrize("accept", ["application/fhir+json", "application/json", "*/*", "text/html"])
def test_any_accept_gets_fhir_json_and_errors_stay_json(therapist_client: APIClient, patient: Any, accept: str) -> None:
    for path in (f"/api/v1/patients/{patient.pk}/fhir/", "/api/v1/fhir/Questionnaire/phq9"):
        response = therapist_client.get(path, HTTP_ACCEPT=accept)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/fhir+json"
    for path in (
        "/api/v1/patients/999999/fhir/",
        "/api/v1/fhir/Questionnaire/nope",
        f"/api/v1/patients/{patient.pk}/fhir/?_since=x",
    ):
        response = therapist_client.get(path, HTTP_ACCEPT=accept)
        assert response.status_code in (400, 404)
        assert response["Content-Type"] == "application/json"
        assert response.json()
    unauthenticated = APIClient().get("/api/v1/fhir/Questionnaire/phq9", HTTP_ACCEPT=accept)
    assert unauthenticated["Content-Type"] == "application/json"


def test_format_override_is_ignored(therapist_client: APIClient) -> None:
    response = therapist_client.get("/api/v1/fhir/Questionnaire/phq9?format=xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"


# --- Questionnaire endpoint ------------------------------------------------------------------


@pytest.mark.parametrize("code", list(INSTRUMENTS))
def test_every_instrument_is_served_as_a_valid_questionnaire(patient_client: APIClient, code: str) -> None:
    response = patient_client.get(f"/api/v1/fhir/Questionnaire/{code}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    questionnaire = Questionnaire.model_validate(response.json())
    assert questionnaire.id == code
    assert questionnaire.url == f"http://testserver/api/v1/fhir/Questionnaire/{code}"
    assert questionnaire.status == "active"
    translations = [
        ext.extension[1].valueString
        for ext in (questionnaire.title__ext.extension if questionnaire.title__ext else [])
        if ext.extension[0].valueCode == "zh-Hans"
    ]
    assert translations == [INSTRUMENTS[code].name.zh_hans]
    if code in ("dn4", "odi", "vas", "thermal"):
        assert questionnaire.code is None
        assert all(c.system != LOINC for item in questionnaire.item for c in item.code or [])


def test_questionnaire_links_match_the_responses(patient_client: APIClient, patient: Any) -> None:
    phq = {f"item{i}": 1 for i in range(1, 10)} | {"difficulty": 0}
    patient_client.post(url(patient), body("phq9", phq), format="json")
    bundle = get_bundle(patient_client, patient)
    (response,) = resources(bundle, "QuestionnaireResponse")
    served = patient_client.get(response["questionnaire"].removeprefix("http://testserver")).json()
    questionnaire = Questionnaire.model_validate(served)
    assert [c.code for c in questionnaire.code] == ["44249-1"]
    items = {item.linkId: item for item in questionnaire.item if item.type != "display"}
    assert {key: items[code].code[0].code for key, code in PHQ9_ITEM_CODES.items()} == PHQ9_ITEM_CODES
    for key, code in PHQ9_ITEM_CODES.items():
        options = [(o.valueCoding.code, o.valueCoding.display) for o in items[code].answerOption]
        expected = DIFFICULTY_ANSWERS if key == "difficulty" else FREQUENCY_ANSWERS
        assert options == [expected[v] for v in range(4)]
        assert [o.extension[0].valueDecimal for o in items[code].answerOption] == [0, 1, 2, 3]
    assert {i["linkId"] for i in response["item"]} <= set(items)


def test_gad7_questionnaire_follows_the_loinc_form(patient_client: APIClient) -> None:
    questionnaire = Questionnaire.model_validate(patient_client.get("/api/v1/fhir/Questionnaire/gad7").json())
    assert [c.code for c in questionnaire.code] == ["69737-5"]
    items = {item.linkId: item for item in questionnaire.item if item.type != "display"}
    # The follow-up difficulty question has no sourced LOINC code on the GAD-7 form, so it
    # keeps the app's own linkId and carries no code.
    assert list(items) == [*GAD7_ITEM_CODES.values(), "difficulty"]
    assert not items["difficulty"].code
    assert items["difficulty"].required is False
    for key, code in GAD7_ITEM_CODES.items():
        expected = GAD7_ITEM2_ANSWERS if key == "item2" else FREQUENCY_ANSWERS
        assert [(o.valueCoding.code, o.valueCoding.display) for o in items[code].answerOption] == [
            expected[v] for v in range(4)
        ]


def test_odi_questionnaire_leaves_the_licensed_statements_out(patient_client: APIClient) -> None:
    questionnaire = Questionnaire.model_validate(patient_client.get("/api/v1/fhir/Questionnaire/odi").json())
    sections = [item for item in questionnaire.item if item.linkId.startswith("section")]
    assert len(sections) == 10
    for item in sections:
        assert [o.valueInteger for o in item.answerOption] == [0, 1, 2, 3, 4, 5]
        assert item.required is False
    assert "Mapi Research Trust" in questionnaire.copyright


def test_nrs_questionnaire_offers_the_recall_codes_the_export_uses(patient_client: APIClient, patient: Any) -> None:
    questionnaire = Questionnaire.model_validate(patient_client.get("/api/v1/fhir/Questionnaire/nrs").json())
    (recall,) = [item for item in questionnaire.item if item.linkId == "recall"]
    offered = {(o.valueCoding.system, o.valueCoding.code) for o in recall.answerOption}
    patient_client.post(url(patient), body("nrs", {"score": 4, "recall": "average_24h"}), format="json")
    (observation,) = resources(get_bundle(patient_client, patient), "Observation")
    method = observation["method"]["coding"][0]
    assert (method["system"], method["code"]) in offered


def test_unknown_questionnaire_is_a_json_404(patient_client: APIClient) -> None:
    response = patient_client.get("/api/v1/fhir/Questionnaire/bdi")
    assert response.status_code == 404
    assert "bdi" in response.json()["detail"]


def test_questionnaire_needs_a_signed_in_user(therapist_client: APIClient) -> None:
    assert APIClient().get("/api/v1/fhir/Questionnaire/phq9").status_code in (401, 403)
    assert therapist_client.get("/api/v1/fhir/Questionnaire/phq9").status_code == 200


def test_canonical_base_setting(patient_client: APIClient, patient: Any, settings: Any) -> None:
    settings.FHIR_CANONICAL_BASE = "https://rehab.example.org/api/v1/fhir/"
    served = patient_client.get("/api/v1/fhir/Questionnaire/dn4").json()
    assert served["url"] == "https://rehab.example.org/api/v1/fhir/Questionnaire/dn4"
    patient_client.post(url(patient), body("gad7", {f"item{i}": 0 for i in range(1, 8)}), format="json")
    bundle = get_bundle(patient_client, patient)
    (response,) = resources(bundle, "QuestionnaireResponse")
    assert response["questionnaire"] == "https://rehab.example.org/api/v1/fhir/Questionnaire/gad7"
    assert all(e["fullUrl"].startswith("https://rehab.example.org/api/v1/fhir/") for e in bundle["entry"])


def test_openapi_documents_the_fhir_endpoints(tmp_path: Any) -> None:
    from django.core.management import call_command

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "/api/v1/fhir/Questionnaire/{code}:" in text
    assert "application/fhir+json" in text
    assert "_since" in text
    assert "name: format" not in text.split("/api/v1/fhir/Questionnaire/{code}:")[1].split("\n  /")[0]


def test_a_status_outside_its_required_binding_is_refused(patient: Any, monkeypatch: Any) -> None:
    # fhir.resources checks structure and datatypes, not code values; the export checks those itself.
    from django.utils import timezone

    from assessments.fhir import export as fhir

    make_row(patient, "gad7", {f"item{i}": 0 for i in range(1, 8)}, total=0.0, band="minimal")
    monkeypatch.setattr(fhir, "_response_status", lambda a: "finished")
    with pytest.raises(fhir.ExportError, match=r"QuestionnaireResponse\.status"):
        fhir.patient_bundle(
            patient, list(Assessment.objects.all()), fhir_base="http://x/fhir", self_url="http://x", now=timezone.now()
        )
