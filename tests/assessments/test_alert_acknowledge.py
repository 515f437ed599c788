"""Acknowledging an alert records what was done: the service's rules, the row and the audit."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction

from assessments.alerts.services import alert_acknowledge, alert_raise
from assessments.models import Alert, AlertAction, AlertKind, Severity
from config.errors import InvalidInput
from patients.audit import Actor
from patients.models import AuditEvent


@pytest.fixture
def no_broker(monkeypatch: Any) -> None:
    from assessments import tasks

    monkeypatch.setattr(tasks.alert_notify, "delay", lambda *_a, **_k: None)


def raise_alert(patient: Any, kind: str = AlertKind.SUICIDAL_IDEATION) -> Alert:
    alert, _created = alert_raise(
        patient=patient,
        kind=kind,
        severity=Severity.CRITICAL if kind != AlertKind.MISSED_LOGS else Severity.WARNING,
        message="x",
        dedupe_key=f"test:{kind}:{patient.pk}",
    )
    return alert


def ack(therapist: Any, alert: Alert, **fields: Any) -> Alert:
    return alert_acknowledge(actor=Actor(user=therapist), alert_id=alert.pk, **fields)


def refused(therapist: Any, alert: Alert, **fields: Any) -> dict[str, Any]:
    with pytest.raises(InvalidInput) as caught:
        ack(therapist, alert, **fields)
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    assert not AuditEvent.objects.filter(action="alert.acknowledge").exists()
    return caught.value.errors


@pytest.mark.django_db
@pytest.mark.parametrize("kind", [AlertKind.SUICIDAL_IDEATION, AlertKind.SEVERE_ADVERSE_EVENT])
def test_a_safety_alert_needs_an_action(patient, therapist, no_broker, kind):
    alert = raise_alert(patient, kind)
    assert set(refused(therapist, alert)) == {"action"}
    assert set(refused(therapist, alert, note="seen")) == {"action"}


@pytest.mark.django_db
def test_no_action_needed_needs_a_reason(patient, therapist, no_broker):
    alert = raise_alert(patient)
    assert set(refused(therapist, alert, action=AlertAction.NO_ACTION_NEEDED)) == {"reason"}
    assert set(refused(therapist, alert, action=AlertAction.NO_ACTION_NEEDED, reason="   ")) == {"reason"}
    done = ack(therapist, alert, action=AlertAction.NO_ACTION_NEEDED, reason="Item 9 tapped by mistake; confirmed")
    assert done.acknowledgement_reason == "Item 9 tapped by mistake; confirmed"


@pytest.mark.django_db
def test_unknown_action_and_overlong_text_are_refused_by_field(patient, therapist, no_broker):
    alert = raise_alert(patient)
    assert set(refused(therapist, alert, action="phoned")) == {"action"}
    errors = refused(therapist, alert, action=AlertAction.CONTACTED_PATIENT, note="x" * 2001, reason="y" * 2001)
    assert set(errors) == {"note", "reason"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "action", [AlertAction.CONTACTED_PATIENT, AlertAction.EMERGENCY_REFERRAL, AlertAction.SAFETY_PLAN_REVIEWED]
)
def test_action_and_note_go_into_the_alert_and_the_audit_log(patient, therapist, no_broker, action):
    alert = raise_alert(patient)
    done = ack(therapist, alert, action=action, note=" Called at 14:05, safe at home. ")
    stored = Alert.objects.get(pk=alert.pk)
    assert (stored.acknowledgement_action, stored.acknowledgement_note) == (action, "Called at 14:05, safe at home.")
    assert stored.acknowledged_by == therapist
    assert stored.acknowledged_at is not None
    assert done.acknowledgement_action == action
    event = AuditEvent.objects.get(action="alert.acknowledge", object_id=str(alert.pk))
    assert event.patient_id == patient.pk
    assert event.actor_id == therapist.pk
    assert event.detail["kind"] == "suicidal_ideation"
    assert event.detail["action"] == action
    assert event.detail["note"] == "Called at 14:05, safe at home."


@pytest.mark.django_db
def test_other_alerts_may_be_acknowledged_with_or_without_an_action(patient, therapist, no_broker):
    plain = raise_alert(patient, AlertKind.MISSED_LOGS)
    assert ack(therapist, plain).acknowledgement_action == ""
    worse = raise_alert(patient, AlertKind.WORSENING_PAIN)
    assert ack(therapist, worse, action=AlertAction.CONTACTED_PATIENT).acknowledgement_action == "contacted_patient"


@pytest.mark.django_db
def test_a_second_acknowledgement_keeps_the_first(patient, therapist, no_broker):
    from tests.factories import make_staff

    alert = raise_alert(patient)
    ack(therapist, alert, action=AlertAction.CONTACTED_PATIENT, note="first")
    again = ack(make_staff(patient.clinic, "therapist"), alert, action=AlertAction.EMERGENCY_REFERRAL, note="second")
    assert (again.acknowledged_by, again.acknowledgement_action, again.acknowledgement_note) == (
        therapist,
        "contacted_patient",
        "first",
    )
    assert AuditEvent.objects.filter(action="alert.acknowledge").count() == 1


@pytest.mark.django_db
def test_the_database_refuses_no_action_without_a_reason_and_unknown_actions(patient, no_broker):
    alert = raise_alert(patient)
    for action, reason in ((AlertAction.NO_ACTION_NEEDED, ""), ("phoned", "")):
        with pytest.raises(IntegrityError), transaction.atomic():
            Alert.objects.filter(pk=alert.pk).update(acknowledgement_action=action, acknowledgement_reason=reason)
