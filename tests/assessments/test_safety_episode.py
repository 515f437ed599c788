"""A positive PHQ-9 item 9 is never lost: partial PHQ-9s, the safety-signal entry, one alert
per episode whichever entry arrives first, and the alert for rejected submissions."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from assessments.models import Alert, Assessment, DueItem, DueStatus
from patients.models import AuditEvent
from tests.assessments.test_assessment_api import body, url
from tests.conftest import client_for

SYNC = "/api/v1/sync/"


def full(item9: int = 2, **changes: Any) -> dict[str, Any]:
    return {f"item{i}": 1 for i in range(1, 9)} | {"item9": item9} | changes


def phq9(
    answers: dict[str, Any], *, uid: str | None = None, supersedes: str | None = None, **kw: Any
) -> dict[str, Any]:
    payload = body("phq9", answers, uid=uid, **kw)
    if supersedes is not None:
        payload["supersedes"] = supersedes
    return payload


def entry(patient: Any, payload: dict[str, Any]) -> dict[str, Any]:
    return {**payload, "patient": patient.pk}


def test_prorated_phq9_is_stored_with_its_marker(patient_client: APIClient, patient: Any) -> None:
    answers = full(item9=0)
    del answers["item3"]
    response = patient_client.post(url(patient), phq9(answers), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["total"] == 8  # 7 * 9 / 8 = 7.875
    assert data["band"] == "mild"
    assert data["detail"] == {"prorated": True, "missing": ["item3"]}
    assert data["answers"]["item3"] is None
    assert Alert.objects.count() == 0


def test_incomplete_phq9_is_stored_unscored(patient_client: APIClient, patient: Any) -> None:
    response = patient_client.post(url(patient), phq9({"item1": 2, "item2": 1, "item5": None}), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["total"] is None
    assert data["band"] is None
    assert data["detail"]["incomplete"] is True
    assert data["flags"] == []


def test_safety_signal_entry_raises_the_alert_and_does_not_answer_the_due_questionnaire(
    patient_client: APIClient, patient: Any, django_capture_on_commit_callbacks: Any
) -> None:
    now = timezone.now()
    due = DueItem.objects.create(
        patient=patient,
        instrument="phq9",
        due_at=now - dt.timedelta(hours=1),
        closes_at=now + dt.timedelta(hours=23),
        local_date=now.astimezone(dt.timezone(dt.timedelta(hours=8))).date(),
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = patient_client.post(url(patient), phq9({"item9": 2}), format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["total"] is None
    assert data["flags"] == ["suicidal_ideation"]
    alert = Alert.objects.get()
    assert alert.kind == "suicidal_ideation"
    assert alert.severity == "critical"
    assert alert.source_assessment_id == data["id"]
    assert "not scored" in alert.message
    assert len(callbacks) == 1
    due.refresh_from_db()
    assert due.status == DueStatus.PENDING
    finished = patient_client.post(url(patient), phq9(full(), supersedes=data["client_uuid"]), format="json")
    assert finished.status_code == 201, finished.content
    due.refresh_from_db()
    assert due.status == DueStatus.COMPLETED


def _series(client: APIClient, patient: Any) -> list[dict[str, Any]]:
    return client.get(url(patient), {"instrument": "phq9"}).json()["results"]


def test_completion_after_signal_supersedes_it_with_one_alert(patient_client: APIClient, patient: Any) -> None:
    signal = patient_client.post(url(patient), phq9({"item9": 2}), format="json").json()
    done = patient_client.post(url(patient), phq9(full(), supersedes=signal["client_uuid"]), format="json")
    assert done.status_code == 201, done.content
    data = done.json()
    assert data["completes"] == signal["id"]
    assert data["supersedes"] == signal["client_uuid"]
    assert data["total"] == 10
    assert Alert.objects.count() == 1
    assert Assessment.objects.get(pk=signal["id"]).superseded_by.pk == data["id"]
    assert [row["id"] for row in _series(patient_client, patient)] == [data["id"]]
    create = AuditEvent.objects.get(action="create", object_type="assessment", object_id=str(data["id"]))
    assert create.detail["alert"] == Alert.objects.get().pk
    assert create.detail["supersedes"] == signal["client_uuid"]


def test_completion_before_signal_is_linked_when_the_signal_arrives(patient_client: APIClient, patient: Any) -> None:
    signal_uuid = str(uuid.uuid4())
    early = timezone.now() - dt.timedelta(minutes=10)
    done = patient_client.post(url(patient), phq9(full(), supersedes=signal_uuid), format="json").json()
    assert Alert.objects.count() == 1
    signal = patient_client.post(url(patient), phq9({"item9": 2}, uid=signal_uuid, when=early), format="json")
    assert signal.status_code == 201, signal.content
    assert Alert.objects.count() == 1
    stored = Assessment.objects.get(pk=done["id"])
    assert stored.supersedes_id == signal.json()["id"]
    assert [row["id"] for row in _series(patient_client, patient)] == [done["id"]]


def test_signal_arriving_late_raises_the_alert_if_the_completion_had_none(
    patient_client: APIClient, patient: Any
) -> None:
    """The finished questionnaire said 0, the tap said 2: the tap is still a safety signal."""
    signal_uuid = str(uuid.uuid4())
    patient_client.post(url(patient), phq9(full(item9=0), supersedes=signal_uuid), format="json")
    assert Alert.objects.count() == 0
    patient_client.post(url(patient), phq9({"item9": 2}, uid=signal_uuid), format="json")
    assert Alert.objects.count() == 1


@pytest.mark.parametrize("signal_first", [True, False])
@pytest.mark.parametrize("one_batch", [True, False])
def test_sync_episode_has_one_alert_in_either_order(
    patient_client: APIClient, patient: Any, signal_first: bool, one_batch: bool
) -> None:
    signal = entry(patient, phq9({"item9": 3}))
    done = entry(patient, phq9(full(item9=3), supersedes=signal["client_uuid"]))
    ordered = [signal, done] if signal_first else [done, signal]
    batches = [ordered] if one_batch else [[e] for e in ordered]
    results = []
    for batch in batches:
        response = patient_client.post(SYNC, {"entries": batch}, format="json")
        assert response.status_code == 200, response.content
        results += response.json()["results"]
    assert [r["status"] for r in results] == ["created", "created"]
    assert Alert.objects.filter(kind="suicidal_ideation").count() == 1
    stored_done = Assessment.objects.get(client_uuid=done["client_uuid"])
    assert stored_done.supersedes == Assessment.objects.get(client_uuid=signal["client_uuid"])
    # Resending both changes nothing.
    again = patient_client.post(SYNC, {"entries": ordered}, format="json").json()["results"]
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    assert Alert.objects.count() == 1
    assert Assessment.objects.count() == 2


def test_sync_safety_only_and_prorated_entries(patient_client: APIClient, patient: Any) -> None:
    prorated = full(item9=0)
    del prorated["item8"]
    entries = [entry(patient, phq9({"item9": 1})), entry(patient, phq9(prorated))]
    results = patient_client.post(SYNC, {"entries": entries}, format="json").json()["results"]
    assert [r["status"] for r in results] == ["created", "created"]
    assert results[0]["assessment"]["detail"]["incomplete"] is True
    assert results[1]["assessment"]["detail"] == {"prorated": True, "missing": ["item8"]}
    assert results[1]["assessment"]["total"] == 8
    assert Alert.objects.count() == 1


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        (full(item3="x"), "item3"),
        (full(item10=1), "item10"),
        (full(item4=7), "item4"),
    ],
)
def test_rejected_phq9_with_item9_still_raises_the_alert(
    patient_client: APIClient, patient: Any, answers: dict[str, Any], field: str
) -> None:
    payload = phq9(answers)
    response = patient_client.post(url(patient), payload, format="json")
    assert response.status_code == 400
    data = response.json()
    assert field in data["answers"]
    assert data["safety_alert"] == "raised"
    assert Assessment.objects.count() == 0
    alert = Alert.objects.get()
    assert alert.kind == "suicidal_ideation"
    assert alert.source_type == "rejected_submission"
    assert alert.source_id == payload["client_uuid"]
    audit = AuditEvent.objects.get(action="alert.raise")
    assert audit.object_id == str(alert.pk)
    assert f"answers.{field}" in audit.detail["errors"]
    # The same entry again: still one alert. Corrected under the same client_uuid: stored, same alert.
    assert patient_client.post(url(patient), payload, format="json").json()["safety_alert"] == "raised"
    assert Alert.objects.count() == 1
    fixed = patient_client.post(url(patient), {**payload, "answers": full()}, format="json")
    assert fixed.status_code == 201, fixed.content
    assert Alert.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"recorded_at": "yesterday"}, "recorded_at"),
        ({"recorded_at": (timezone.now() + dt.timedelta(days=2)).isoformat()}, "recorded_at"),
        ({"recorded_at": "1990-01-01T00:00:00+00:00"}, "recorded_at"),
        ({"client_uuid": "not-a-uuid"}, "client_uuid"),
        ({"supersedes": "not-a-uuid"}, "supersedes"),
    ],
)
def test_rejected_envelope_with_item9_still_raises_the_alert(
    patient_client: APIClient, patient: Any, change: dict[str, Any], field: str
) -> None:
    payload = {**phq9(full()), **change}
    first = patient_client.post(url(patient), payload, format="json")
    assert first.status_code == 400
    assert field in first.json()
    assert first.json()["safety_alert"] == "raised"
    assert patient_client.post(url(patient), payload, format="json").json()["safety_alert"] == "raised"
    assert Alert.objects.count() == 1
    assert Assessment.objects.count() == 0


def test_rejected_without_item9_says_nothing_about_safety(patient_client: APIClient, patient: Any) -> None:
    for answers in (full(item9=0, item1="x"), full(item9="2", item1="x"), full(item9=True)):
        response = patient_client.post(url(patient), phq9(answers), format="json")
        assert response.status_code == 400
        assert "safety_alert" not in response.json()
    assert Alert.objects.count() == 0


def test_no_alert_for_a_patient_the_caller_cannot_see(
    patient_client: APIClient, other_patient: Any, manager_client: APIClient, patient: Any
) -> None:
    assert patient_client.post(url(other_patient), phq9(full(item1="x")), format="json").status_code == 404
    assert manager_client.post(url(patient), phq9(full(item1="x")), format="json").status_code == 404
    result = patient_client.post(SYNC, {"entries": [entry(other_patient, phq9(full(item1="x")))]}, format="json")
    assert "safety_alert" not in result.json()["results"][0]
    assert Alert.objects.count() == 0


def test_sync_rejected_entry_with_item9_raises_and_says_so(patient_client: APIClient, patient: Any) -> None:
    bad = entry(patient, phq9(full(item2=9)))
    bad_envelope = {**entry(patient, phq9({"item9": 1})), "recorded_at": "1900-01-01T00:00:00Z"}
    fine = entry(patient, body("nrs", {"score": 3}))
    response = patient_client.post(SYNC, {"entries": [bad, bad_envelope, fine]}, format="json")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "created"]
    assert results[0]["safety_alert"] == "raised"
    assert "item2" in results[0]["errors"]["answers"]
    assert results[0]["reason"].startswith("answers.item2")
    assert results[1]["safety_alert"] == "raised"
    assert "recorded_at" in results[1]["errors"]
    assert "safety_alert" not in results[2]
    assert Alert.objects.count() == 2  # two entries, two episodes


def test_conflicting_client_uuid_with_item9_still_raises(
    therapist_client: APIClient, patient: Any, therapist: Any, clinic: Any
) -> None:
    from tests.factories import make_patient

    second = make_patient(clinic, therapists=(therapist,))
    uid = str(uuid.uuid4())
    assert therapist_client.post(url(second), body("nrs", {"score": 2}, uid=uid), format="json").status_code == 201
    clash = therapist_client.post(url(patient), phq9(full(), uid=uid), format="json")
    assert clash.status_code == 409
    assert clash.json()["safety_alert"] == "raised"
    assert Alert.objects.get().patient_id == patient.pk


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda signal, other: phq9(full(), uid=(same := str(uuid.uuid4())), supersedes=same), "itself"),
        (
            lambda signal, other: {
                **body("gad7", {f"item{i}": 0 for i in range(1, 8)}),
                "supersedes": signal["client_uuid"],
            },
            "PHQ-9",
        ),
        (lambda signal, other: phq9(full(), supersedes=other["client_uuid"]), "same patient"),
    ],
)
def test_supersedes_must_name_an_entry_of_the_same_patient_and_instrument(
    patient_client: APIClient, therapist_client: APIClient, patient: Any, make: Any, message: str
) -> None:
    signal = patient_client.post(url(patient), phq9({"item9": 1}), format="json").json()
    other = patient_client.post(url(patient), body("nrs", {"score": 1}), format="json").json()
    response = patient_client.post(url(patient), make(signal, other), format="json")
    assert response.status_code == 400, response.content
    assert message in response.json()["supersedes"][0]
    # A refused PHQ-9 that says item 9 = 2 still reaches the care team.
    assert response.json().get("safety_alert") == (None if message == "PHQ-9" else "raised")
    assert Assessment.objects.get(pk=signal["id"]).supersedes_uuid is None


def test_an_entry_completed_once_cannot_be_completed_again(patient_client: APIClient, patient: Any) -> None:
    signal = patient_client.post(url(patient), phq9({"item9": 1}), format="json").json()
    assert (
        patient_client.post(url(patient), phq9(full(), supersedes=signal["client_uuid"]), format="json").status_code
        == 201
    )
    again = patient_client.post(url(patient), phq9(full(), supersedes=signal["client_uuid"]), format="json")
    assert again.status_code == 400
    assert "already completed" in again.json()["supersedes"][0]


def test_partial_phq9_in_every_read(
    patient_client: APIClient, therapist_client: APIClient, manager_client: APIClient, patient: Any, therapist: Any
) -> None:
    """Prorated, incomplete and superseded PHQ-9s: charts, cohort, FHIR and CSV all answer."""
    prorated = full(item9=0)
    del prorated["item1"]
    sent = [
        phq9(prorated, when=timezone.now() - dt.timedelta(days=3)),
        signal := phq9({"item9": 2}),
        phq9({"item1": 1}),
        phq9(full(), supersedes=signal["client_uuid"]),
    ]
    for payload in [*sent, body("nrs", {"score": 5})]:
        assert patient_client.post(url(patient), payload, format="json").status_code == 201

    fhir = therapist_client.get(f"/api/v1/patients/{patient.pk}/fhir/")
    assert fhir.status_code == 200
    exported = {
        e["resource"]["identifier"]["value"].removeprefix("urn:uuid:")
        for e in fhir.json()["entry"]
        if e["resource"]["resourceType"] == "QuestionnaireResponse"
    }
    assert {p["client_uuid"] for p in sent if p is not signal} <= exported
    csv = therapist_client.get(f"/api/v1/patients/{patient.pk}/assessments.csv")
    assert csv.status_code == 200
    lines = csv.content.decode().strip().splitlines()
    assert len(lines) == 1 + 4
    assert sum(",phq9," in line for line in lines) == 3
    assert manager_client.get("/api/v1/cohort/outcomes/").status_code == 200
    assert manager_client.get("/api/v1/cohort/case-series.csv").status_code == 200
    therapist_client.force_login(therapist)
    page = therapist_client.get(f"/clinic/patients/{patient.pk}/")
    assert page.status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_episode_entries_arriving_at_once_link_with_one_alert(clinic: Any, patient: Any, round_: int) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("real concurrency needs PostgreSQL")
    signal = phq9({"item9": 2})
    done = phq9(full(), supersedes=signal["client_uuid"])
    statuses: list[int] = []
    barrier = threading.Barrier(2)

    def send(payload: dict[str, Any]) -> None:
        client = client_for(patient.user)
        barrier.wait()
        statuses.append(client.post(url(patient), payload, format="json").status_code)
        connection.close()

    threads = [threading.Thread(target=send, args=(payload,)) for payload in (signal, done)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [201, 201]
    assert Alert.objects.count() == 1
    stored = Assessment.objects.get(client_uuid=done["client_uuid"])
    assert stored.supersedes == Assessment.objects.get(client_uuid=signal["client_uuid"])
