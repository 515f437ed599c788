"""Delivered sessions: idempotent resends, severe adverse event alert, time rules, access."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from assessments.models import Alert
from patients.models import AuditEvent
from tests.therapies.params import BASE, component, plan_body, session_body
from therapies.models import TherapySession


def url(patient: Any) -> str:
    return f"/api/v1/patients/{patient.pk}/sessions/"


def post(client: Any, patient: Any, **overrides: Any) -> Any:
    return client.post(url(patient), session_body(**overrides), format="json")


def test_record_session(therapist_client, therapist, patient):
    body = session_body(tolerance="fair", adverse_event="mild", adverse_event_note="tingling")
    response = therapist_client.post(url(patient), body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["modality"] == "tdcs"
    assert data["delivered_by"] == therapist.pk
    assert data["client_uuid"] == body["client_uuid"]
    assert data["derived"]["charge_c"] == 2.4
    assert data["adverse_event"] == "mild"
    assert data["tolerance"] == "fair"
    session = TherapySession.objects.get()
    assert session.delivered_at.utcoffset() == dt.timedelta(0)
    assert AuditEvent.objects.filter(action="session.create", patient_id=patient.pk).count() == 1
    assert not Alert.objects.exists()


def test_delivered_at_offset_is_kept_as_the_same_instant(therapist_client, patient):
    now_local = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))) - dt.timedelta(hours=2)
    response = post(therapist_client, patient, delivered_at=now_local.isoformat())
    assert response.status_code == 201
    assert TherapySession.objects.get().delivered_at == now_local


def test_resend_with_same_uuid_returns_the_stored_session(therapist_client, patient):
    body = session_body()
    first = therapist_client.post(url(patient), body, format="json")
    assert first.status_code == 201
    changed = {**body, "parameters": {**BASE["tdcs"], "current_ma": 1}, "adverse_event": "severe"}
    again = therapist_client.post(url(patient), changed, format="json")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert TherapySession.objects.count() == 1
    assert not Alert.objects.exists()
    assert AuditEvent.objects.filter(action="session.create").count() == 1


def test_uuid_of_another_patients_session_is_a_conflict(therapist_client, therapist, patient, clinic):
    from tests.factories import make_patient

    second = make_patient(clinic, therapists=(therapist,))
    body = session_body()
    assert therapist_client.post(url(patient), body, format="json").status_code == 201
    response = therapist_client.post(url(second), body, format="json")
    assert response.status_code == 409
    assert "client_uuid" in response.json()
    assert TherapySession.objects.filter(patient=second).count() == 0


def test_severe_adverse_event_raises_exactly_one_critical_alert(
    therapist_client, patient, django_capture_on_commit_callbacks
):
    body = session_body(adverse_event="severe", adverse_event_note="Syncope after stimulation")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = therapist_client.post(url(patient), body, format="json")
    assert response.status_code == 201
    session_id = response.json()["id"]
    alert = Alert.objects.get()
    assert alert.patient_id == patient.pk
    assert alert.kind == "severe_adverse_event"
    assert alert.severity == "critical"
    assert alert.dedupe_key == f"session:{session_id}:severe"
    assert alert.source_type == "session"
    assert alert.source_id == str(session_id)
    assert "Syncope" in alert.message
    assert alert.is_open
    assert len(callbacks) == 1  # the care team's notification, queued after commit
    assert therapist_client.post(url(patient), body, format="json").status_code == 200
    assert Alert.objects.count() == 1


@pytest.mark.parametrize("level", ["none", "mild", "moderate"])
def test_less_than_severe_raises_no_alert(therapist_client, patient, level):
    assert post(therapist_client, patient, adverse_event=level).status_code == 201
    assert not Alert.objects.exists()


def test_severe_event_refused_for_bad_input_raises_nothing(therapist_client, patient):
    response = post(therapist_client, patient, adverse_event="severe", parameters={**BASE["tdcs"], "current_ma": 9})
    assert response.status_code == 400
    assert not Alert.objects.exists()
    assert not TherapySession.objects.exists()


def test_future_delivered_at(therapist_client, patient):
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=4)
    assert post(therapist_client, patient, delivered_at=soon.isoformat()).status_code == 201
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=6)
    response = post(therapist_client, patient, delivered_at=later.isoformat())
    assert response.status_code == 400
    assert "delivered_at" in response.json()


def test_session_for_a_plan_component_takes_its_prescription(therapist_client, patient):
    plan = therapist_client.post(
        f"/api/v1/patients/{patient.pk}/plan/", plan_body(component("tens")), format="json"
    ).json()
    component_id = plan["components"][0]["id"]
    body = session_body(component=component_id)
    del body["modality"], body["parameters"]
    response = therapist_client.post(url(patient), body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["component"] == component_id
    assert data["modality"] == "tens"
    assert data["parameters"] == plan["components"][0]["parameters"]


def test_component_must_match_patient_and_modality(therapist_client, therapist, patient, clinic):
    from tests.factories import make_patient

    second = make_patient(clinic, therapists=(therapist,))
    theirs = therapist_client.post(
        f"/api/v1/patients/{second.pk}/plan/", plan_body(component("tens")), format="json"
    ).json()
    response = post(
        therapist_client, patient, modality="tens", parameters=BASE["tens"], component=theirs["components"][0]["id"]
    )
    assert response.status_code == 400
    assert "component" in response.json()
    mine = therapist_client.post(
        f"/api/v1/patients/{patient.pk}/plan/", plan_body(component("tens")), format="json"
    ).json()
    response = post(therapist_client, patient, modality="tdcs", component=mine["components"][0]["id"])
    assert response.status_code == 400
    assert "modality" in response.json()
    assert not TherapySession.objects.exists()


BAD = [
    ({"modality": "ect"}, "modality"),
    ({"modality": None}, "modality"),
    ({"delivered_at": "2026-03-02T10:00:00"}, "delivered_at"),
    ({"delivered_at": "yesterday"}, "delivered_at"),
    ({"delivered_at": 1772416800}, "delivered_at"),
    ({"parameters": {**BASE["tdcs"], "current_ma": "2"}}, "parameters"),
    ({"parameters": {**BASE["tdcs"], "duration_min": False}}, "parameters"),
    ({"parameters": "2 mA"}, "parameters"),
    ({"adverse_event": "fatal"}, "adverse_event"),
    ({"adverse_event": True}, "adverse_event"),
    ({"tolerance": 7}, "tolerance"),
    ({"adverse_event_note": 3}, "adverse_event_note"),
    ({"component": "x"}, "component"),
    ({"component": True}, "component"),
    ({"component": 999999}, "component"),
    ({"client_uuid": 12}, "client_uuid"),
]


@pytest.mark.parametrize(("change", "field"), BAD, ids=[f for _c, f in BAD])
def test_bad_input_is_400_naming_the_field(therapist_client, patient, change, field):
    response = therapist_client.post(url(patient), {**session_body(), **change}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not TherapySession.objects.exists()


def test_only_the_care_team_records_sessions(api_client_for, patient, manager, clinic):
    from tests.factories import make_staff

    for user in (patient.user, manager, make_staff(clinic, "therapist")):
        assert api_client_for(user).post(url(patient), session_body(), format="json").status_code == 404
    assert not TherapySession.objects.exists()


def test_list_and_filter(therapist_client, api_client_for, patient, other_patient):
    post(therapist_client, patient, modality="tdcs")
    post(therapist_client, patient, modality="tens", parameters=BASE["tens"])
    own = api_client_for(patient.user).get(url(patient)).json()
    assert own["count"] == 2
    only_tens = therapist_client.get(url(patient), {"modality": "tens"}).json()
    assert [s["modality"] for s in only_tens["results"]] == ["tens"]
    since = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)).isoformat()
    assert therapist_client.get(url(patient), {"since": since}).json()["count"] == 0
    assert therapist_client.get(url(patient), {"modality": "ect"}).status_code == 400
    assert therapist_client.get(url(patient), {"since": "2026-01-01T00:00:00"}).status_code == 400
    assert api_client_for(other_patient.user).get(url(patient)).status_code == 404


def test_missing_client_uuid_gets_one(therapist_client, patient):
    body = session_body()
    del body["client_uuid"]
    response = therapist_client.post(url(patient), body, format="json")
    assert response.status_code == 201
    assert uuid.UUID(response.json()["client_uuid"])


def test_list_query_count_does_not_grow(therapist_client, patient, django_assert_max_num_queries):
    for _ in range(6):
        post(therapist_client, patient)
    # five for access and audit, the count, the page.
    with django_assert_max_num_queries(7):
        assert therapist_client.get(url(patient)).json()["count"] == 6


def test_session_inherits_the_prescriptions_override_but_no_more(therapist_client, patient):
    over = {**BASE["tdcs"], "current_ma": 4.0, "electrode_cm2": 35}  # density 0.114 > 0.1
    body = plan_body(component("tdcs", parameters=over, override_reason="Large-head montage, skin checked"))
    plan = therapist_client.post(f"/api/v1/patients/{patient.pk}/plan/", body, format="json").json()
    component_id = plan["components"][0]["id"]
    assert plan["components"][0]["overridden_limits"] == ["current_density"]
    as_prescribed = session_body(component=component_id)
    del as_prescribed["parameters"]
    response = therapist_client.post(url(patient), as_prescribed, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["overridden_limits"] == ["current_density"]
    assert "Large-head montage" in response.json()["override_reason"]
    # Beyond what the plan overrode (4.5 mA also breaks the current limit): a new reason is needed.
    beyond = session_body(component=component_id, parameters={**over, "current_ma": 4.5})
    refused = therapist_client.post(url(patient), beyond, format="json")
    assert refused.status_code == 400
    assert "current_ma" in refused.json()["parameters"]
    # Without naming the component, the plan's override does not apply.
    unlinked = session_body(parameters=over)
    assert therapist_client.post(url(patient), unlinked, format="json").status_code == 400
