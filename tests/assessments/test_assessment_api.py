from __future__ import annotations

import datetime as dt
import threading
import uuid
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from assessments.models import Alert, Assessment
from patients.models import AuditEvent
from tests.conftest import client_for


def body(
    instrument: str, answers: dict[str, Any], *, when: dt.datetime | None = None, uid: str | None = None
) -> dict[str, Any]:
    when = when or timezone.now() - dt.timedelta(minutes=1)
    return {
        "instrument": instrument,
        "answers": answers,
        "recorded_at": when.isoformat(),
        "client_uuid": uid or str(uuid.uuid4()),
    }


def url(patient: Any) -> str:
    return f"/api/v1/patients/{patient.pk}/assessments/"


def test_instruments_list_is_complete(db: Any) -> None:
    data = APIClient().get("/api/v1/instruments/").json()
    codes = [i["code"] for i in data]
    assert codes == ["vas", "nrs", "dn4", "phq9", "gad7", "odi", "thermal"]
    phq9 = data[codes.index("phq9")]
    assert phq9["name"]["zh-hans"]
    assert phq9["name"]["en"]
    assert (phq9["range"]["min"], phq9["range"]["max"]) == (0, 27)
    assert phq9["mcid"] == 5
    assert phq9["loinc"]["total"] == "44261-6"
    assert phq9["items"][0]["options"][3]["score"] == 3


def test_create_then_resend_is_idempotent(patient_client: APIClient, patient: Any) -> None:
    payload = body("nrs", {"score": 6})
    first = patient_client.post(url(patient), payload, format="json")
    assert first.status_code == 201, first.content
    data = first.json()
    assert {"id", "instrument", "total", "band", "flags", "recorded_at", "client_uuid"} <= set(data)
    assert data["total"] == 6
    assert data["band"] == "moderate"
    again = patient_client.post(url(patient), payload, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == data["id"]
    assert Assessment.objects.count() == 1
    assert AuditEvent.objects.filter(object_type="assessment", action="create").count() == 1


def test_reused_uuid_for_other_patient_conflicts(
    therapist_client: APIClient, patient: Any, therapist: Any, clinic: Any
) -> None:
    from tests.factories import make_patient

    second = make_patient(clinic, therapists=(therapist,))
    payload = body("nrs", {"score": 2})
    assert therapist_client.post(url(patient), payload, format="json").status_code == 201
    clash = therapist_client.post(url(second), payload, format="json")
    assert clash.status_code == 409
    assert "client_uuid" in clash.json()
    assert Assessment.objects.count() == 1


@pytest.mark.parametrize(
    ("instrument", "answers", "field"),
    [
        ("nrs", {"score": 11}, "score"),
        ("nrs", {"score": True}, "score"),
        ("nrs", {"score": "5"}, "score"),
        ("nrs", {}, "score"),
        ("vas", {"score_mm": -1}, "score_mm"),
        ("phq9", {"difficulty": 1}, "__all__"),
        ("phq9", {f"item{i}": 1 for i in range(1, 9)} | {"item9": None, "item1": "1"}, "item1"),
        ("phq9", {**{f"item{i}": 1 for i in range(1, 10)}, "item4": 4}, "item4"),
        ("gad7", {**{f"item{i}": 0 for i in range(1, 8)}, "extra": 1}, "extra"),
        ("odi", {f"section{i}": None for i in range(1, 11)}, "__all__"),
    ],
)
def test_invalid_answers_name_the_field(
    patient_client: APIClient, patient: Any, instrument: str, answers: dict[str, Any], field: str
) -> None:
    response = patient_client.post(url(patient), body(instrument, answers), format="json")
    assert response.status_code == 400
    assert field in response.json()["answers"]
    assert Assessment.objects.count() == 0


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda b: b.update(instrument="bogus"), "instrument"),
        (lambda b: b.pop("client_uuid"), "client_uuid"),
        (lambda b: b.update(client_uuid="not-a-uuid"), "client_uuid"),
        (lambda b: b.update(recorded_at="yesterday"), "recorded_at"),
        (lambda b: b.update(recorded_at="2026-01-01T09:00:00"), "recorded_at"),
        (lambda b: b.update(recorded_at=(timezone.now() + dt.timedelta(minutes=6)).isoformat()), "recorded_at"),
        (lambda b: b.update(answers=[1, 2]), "answers"),
    ],
)
def test_invalid_envelope_names_the_field(patient_client: APIClient, patient: Any, mutate: Any, field: str) -> None:
    payload = body("nrs", {"score": 3})
    mutate(payload)
    response = patient_client.post(url(patient), payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert Assessment.objects.count() == 0


def test_slightly_future_is_accepted_and_late_entries_are_marked(patient_client: APIClient, patient: Any) -> None:
    soon = patient_client.post(
        url(patient), body("nrs", {"score": 1}, when=timezone.now() + dt.timedelta(minutes=4)), format="json"
    )
    assert soon.status_code == 201
    assert soon.json()["is_late"] is False
    old = patient_client.post(
        url(patient), body("nrs", {"score": 4}, when=timezone.now() - dt.timedelta(days=3)), format="json"
    )
    assert old.status_code == 201
    assert old.json()["is_late"] is True


def test_patient_cannot_record_clinic_measurements(patient_client: APIClient, patient: Any) -> None:
    thermal = {
        "rois": [{"region": "L4 dermatome", "left_c": 31.0, "right_c": 32.5}],
        "ambient_c": 22,
        "acclimatisation_min": 15,
        "affected_side": "left",
    }
    response = patient_client.post(url(patient), body("thermal", thermal), format="json")
    assert response.status_code == 400
    assert "instrument" in response.json()


def test_therapist_records_thermal_with_flags(therapist_client: APIClient, patient: Any) -> None:
    thermal = {
        "rois": [{"region": "L5 dermatome", "left_c": 30.9, "right_c": 32.0}],
        "ambient_c": 17.5,
        "acclimatisation_min": 20,
        "affected_side": "left",
    }
    response = therapist_client.post(url(patient), body("thermal", thermal), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert set(data["flags"]) == {"thermal_asymmetry", "measurement_conditions"}
    assert data["total"] == pytest.approx(1.1)
    assert data["source"] == "clinician"


def test_manager_cannot_record(manager_client: APIClient, patient: Any) -> None:
    assert manager_client.post(url(patient), body("nrs", {"score": 3}), format="json").status_code == 404
    assert Assessment.objects.count() == 0


def test_phq9_item9_raises_one_alert_in_the_same_transaction(
    patient_client: APIClient, patient: Any, django_capture_on_commit_callbacks: Any
) -> None:
    answers = {f"item{i}": 0 for i in range(1, 10)} | {"item9": 1}
    payload = body("phq9", answers)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = patient_client.post(url(patient), payload, format="json")
    assert response.status_code == 201
    data = response.json()
    assert data["total"] == 1
    assert data["band"] == "minimal"
    assert "suicidal_ideation" in data["flags"]
    alert = Alert.objects.get()
    assert alert.kind == "suicidal_ideation"
    assert alert.severity == "critical"
    assert alert.source_assessment_id == data["id"]
    assert len(callbacks) == 1  # delivery queued only after commit
    patient_client.post(url(patient), payload, format="json")
    assert Alert.objects.count() == 1


def test_dn4_interview_then_clinician_exam_merges(
    patient_client: APIClient, therapist_client: APIClient, patient: Any
) -> None:
    interview = dict.fromkeys(
        ("burning", "painful_cold", "electric_shocks", "tingling", "pins_and_needles", "numbness", "itching"), False
    )
    interview.update(burning=True, tingling=True, numbness=True)
    first = patient_client.post(url(patient), body("dn4", interview), format="json")
    assert first.status_code == 201
    assert first.json()["total"] == 3
    assert "neuropathic_likely" in first.json()["flags"]
    exam = {"touch_hypoesthesia": True, "pinprick_hypoesthesia": False, "brushing": False}
    assert patient_client.post(url(patient), body("dn4", exam), format="json").status_code == 400
    merged = therapist_client.post(url(patient), body("dn4", exam), format="json")
    assert merged.status_code == 201, merged.content
    data = merged.json()
    assert data["total"] == 4
    assert data["detail"]["variant"] == "full"
    assert data["completes"] == first.json()["id"]
    assert "neuropathic_likely" in data["flags"]


def test_resent_dn4_exam_answers_with_the_completed_record(
    patient_client: APIClient, therapist_client: APIClient, patient: Any
) -> None:
    """The interview is no longer open once completed: the resend must still get its record."""
    interview = dict.fromkeys(
        ("burning", "painful_cold", "electric_shocks", "tingling", "pins_and_needles", "numbness", "itching"), True
    )
    assert patient_client.post(url(patient), body("dn4", interview), format="json").status_code == 201
    exam = body("dn4", {"touch_hypoesthesia": True, "pinprick_hypoesthesia": False, "brushing": False})
    merged = therapist_client.post(url(patient), exam, format="json")
    assert merged.status_code == 201, merged.content
    again = therapist_client.post(url(patient), exam, format="json")
    assert again.status_code == 200, again.content
    assert again.json() == merged.json()
    assert Assessment.objects.count() == 2


def test_resend_with_changed_answers_gets_the_stored_record(patient_client: APIClient, patient: Any) -> None:
    first = patient_client.post(url(patient), body("nrs", {"score": 4}, uid=(uid := str(uuid.uuid4()))), format="json")
    assert first.status_code == 201
    for answers in ({"score": 9}, {"score": 99}):
        again = patient_client.post(url(patient), body("nrs", answers, uid=uid), format="json")
        assert again.status_code == 200, again.content
        assert again.json()["total"] == 4
    assert Assessment.objects.count() == 1
    assert AuditEvent.objects.filter(object_type="assessment", action="create").count() == 1


def test_capture_statement_budget(patient_client: APIClient, patient: Any, django_assert_num_queries: Any) -> None:
    """A patient's own NRS entry: the token (joined with the patient's own record), then one
    transaction with the row, its audit event, its plan week (the NrsDiary row lock with what
    day 0 is now made of, the week's row, the diary's current window), the worsening-pain
    evaluation in its savepoint (day 0 and open episode, the two windows' entries) and the due
    item lookup (the test's savepoint adds two statements)."""
    patient_client.post(url(patient), body("nrs", {"score": 1}), format="json")
    with django_assert_num_queries(13):
        response = patient_client.post(url(patient), body("nrs", {"score": 2}), format="json")
    assert response.status_code == 201


def test_dn4_exam_without_interview_is_400(therapist_client: APIClient, patient: Any) -> None:
    exam = {"touch_hypoesthesia": True, "pinprick_hypoesthesia": False, "brushing": False}
    response = therapist_client.post(url(patient), body("dn4", exam), format="json")
    assert response.status_code == 400
    assert "answers" in response.json()


def test_series_filters(patient_client: APIClient, patient: Any) -> None:
    now = timezone.now()
    for days, score in ((10, 7), (5, 6), (1, 4)):
        patient_client.post(
            url(patient), body("nrs", {"score": score}, when=now - dt.timedelta(days=days)), format="json"
        )
    patient_client.post(url(patient), body("gad7", {f"item{i}": 1 for i in range(1, 8)}), format="json")
    nrs = patient_client.get(url(patient), {"instrument": "nrs"}).json()["results"]
    assert [a["total"] for a in nrs] == [7, 6, 4]
    recent = patient_client.get(
        url(patient), {"instrument": "nrs", "since": (now - dt.timedelta(days=6)).isoformat()}
    ).json()["results"]
    assert [a["total"] for a in recent] == [6, 4]
    bad = patient_client.get(url(patient), {"since": "soon"})
    assert bad.status_code == 400
    assert "since" in bad.json()


def test_sync_batch_per_entry_results(patient_client: APIClient, patient: Any, other_patient: Any) -> None:
    good = body("nrs", {"score": 5}) | {"patient": patient.pk}
    entries = [
        good,
        good,  # resent in the same batch
        body("nrs", {"score": 50}) | {"patient": patient.pk},
        body("nrs", {"score": 2}) | {"patient": other_patient.pk},
        "garbage",
        body("vas", {"score_mm": 35}) | {"patient": patient.pk},
    ]
    response = patient_client.post("/api/v1/sync/", {"entries": entries}, format="json")
    assert response.status_code == 200
    statuses = [r["status"] for r in response.json()["results"]]
    assert statuses == ["created", "duplicate", "rejected", "rejected", "rejected", "created"]
    results = response.json()["results"]
    assert "score" in results[2]["errors"]["answers"]
    assert results[2]["reason"].startswith("answers.score: ")
    assert "patient" in results[3]["errors"]
    assert Assessment.objects.count() == 2
    assert patient_client.post("/api/v1/sync/", {"entries": "x"}, format="json").status_code == 400


def test_fhir_bundle(patient_client: APIClient, therapist_client: APIClient, patient: Any) -> None:
    patient_client.post(url(patient), body("phq9", {f"item{i}": 2 for i in range(1, 10)}), format="json")
    patient_client.post(url(patient), body("nrs", {"score": 5}), format="json")
    thermal = {
        "rois": [{"region": "foot", "left_c": 30.0, "right_c": 30.4}],
        "ambient_c": 22,
        "acclimatisation_min": 15,
        "affected_side": "left",
    }
    therapist_client.post(url(patient), body("thermal", thermal), format="json")
    response = therapist_client.get(f"/api/v1/patients/{patient.pk}/fhir/")
    assert response.status_code == 200
    bundle = response.json()
    assert bundle["resourceType"] == "Bundle"
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds.count("Patient") == 1
    assert kinds.count("QuestionnaireResponse") == 1
    observations = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"]
    codes = {c["code"] for o in observations for c in o["code"]["coding"]}
    assert {"44261-6", "72514-3"} <= codes
    phq = next(o for o in observations if any(c["code"] == "44261-6" for c in o["code"]["coding"]))
    assert phq["valueQuantity"]["value"] == 18
    thermal_obs = next(o for o in observations if o["id"].startswith("obs-") and "component" in o)
    assert thermal_obs["component"][0]["valueQuantity"]["code"] == "Cel"
    assert AuditEvent.objects.filter(action="export.fhir", patient_id=patient.pk).exists()


def test_csv_export(therapist_client: APIClient, patient: Any, patient_client: APIClient) -> None:
    patient_client.post(url(patient), body("nrs", {"score": 5}), format="json")
    response = therapist_client.get(f"/api/v1/patients/{patient.pk}/assessments.csv")
    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM, for Excel
    lines = response.content.decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("patient_id,instrument,recorded_at,total")
    assert lines[1].split(",")[1:2] == ["nrs"]


def test_list_query_count_is_flat(patient_client: APIClient, patient: Any, django_assert_max_num_queries: Any) -> None:
    for score in range(10):
        patient_client.post(url(patient), body("nrs", {"score": score}), format="json")
    with django_assert_max_num_queries(8):
        response = patient_client.get(url(patient))
    assert response.json()["count"] == 10


@pytest.mark.django_db(transaction=True)
def test_concurrent_resends_store_one_row(clinic: Any, therapist: Any, patient: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL")
    payload = body("nrs", {"score": 5})
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def send() -> None:
        client = client_for(patient.user)
        barrier.wait()
        statuses.append(client.post(url(patient), payload, format="json").status_code)
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses).count(201) == 1
    assert all(s in (200, 201) for s in statuses)
    assert Assessment.objects.count() == 1
