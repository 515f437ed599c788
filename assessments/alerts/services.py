"""Alerts: raised once per dedupe key, acknowledged with what was done about them.

Capture (PHQ-9 item 9), therapy sessions (severe adverse events), missed diaries and
worsening pain all raise alerts here, in the writer's transaction; the care team is told
after commit (:mod:`assessments.alerts.fan_out`, task ``assessments.alert_notify``).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from assessments.alerts.tasks import alert_notify
from assessments.alerts.text import alert_message_english
from assessments.models import Alert, AlertAction, Assessment
from config.errors import InvalidInput
from patients.audit import Actor, audit_event_record
from patients.models import Patient


def alert_raise(
    *,
    patient: Patient,
    kind: str,
    severity: str,
    dedupe_key: str,
    message: str = "",
    message_code: str = "",
    message_args: dict[str, Any] | None = None,
    source_assessment: Assessment | None = None,
    source_type: str = "",
    source_id: str | int = "",
) -> tuple[Alert, bool]:
    """Create an alert once per dedupe key; delivery to the care team is queued on commit.

    With `message_code` the stored English message is built from the template and the
    console shows it in the reader's language; `message` is for free text only.
    """
    args = dict(message_args or {})
    if message_code:
        message = alert_message_english(message_code, args)
    alert, created = Alert.objects.get_or_create(
        dedupe_key=dedupe_key,
        defaults={
            "patient": patient,
            "kind": kind,
            "severity": severity,
            "message": message,
            "message_code": message_code,
            "message_args": args,
            "source_assessment": source_assessment,
            "source_type": source_type or ("assessment" if source_assessment else ""),
            "source_id": str(source_id or (source_assessment.pk if source_assessment else "")),
        },
    )
    if created:
        alert_id = alert.pk
        transaction.on_commit(lambda: alert_notify.delay(alert_id))
    return alert, created


# Longest acknowledgement reason or note kept (the API refuses longer ones by name).
ACK_TEXT_MAX = 2000


def _ack_text(value: str, field: str, errors: dict[str, Any]) -> str:
    if not isinstance(value, str):
        errors[field] = "Text is required."
        return ""
    value = value.strip()
    if len(value) > ACK_TEXT_MAX:
        errors[field] = f"At most {ACK_TEXT_MAX} characters."
    return value


@transaction.atomic
def alert_acknowledge(*, actor: Actor, alert_id: int, action: str = "", reason: str = "", note: str = "") -> Alert:
    """Close an alert, recording what was done about it.

    A safety alert (PHQ-9 item 9, severe adverse event) is closed only with an action:
    the patient was contacted, referred as an emergency, their safety plan was reviewed,
    or no action was needed, which needs a reason. Other alerts may name an action. The
    action, reason and optional note go into the alert and the audit event. A second
    acknowledgement keeps the first one's who, when and action.
    """
    alert = Alert.objects.select_for_update().select_related("patient").get(pk=alert_id)
    errors: dict[str, Any] = {}
    if action not in ("", *AlertAction.values):
        errors["action"] = f"action must be one of: {', '.join(AlertAction.values)}."
    elif not action and alert.is_safety:
        errors["action"] = (
            "A safety alert needs the action taken: " + ", ".join(AlertAction.values) + " (with a reason)."
        )
    reason = _ack_text(reason, "reason", errors)
    note = _ack_text(note, "note", errors)
    if action == AlertAction.NO_ACTION_NEEDED and not reason and "reason" not in errors:
        errors["reason"] = "Give the reason why no action is needed."
    if errors:
        raise InvalidInput(errors)
    if alert.acknowledged_at is None:
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = actor.user
        alert.acknowledgement_action = action
        alert.acknowledgement_reason = reason
        alert.acknowledgement_note = note
        alert.save(
            update_fields=[
                "acknowledged_at",
                "acknowledged_by",
                "acknowledgement_action",
                "acknowledgement_reason",
                "acknowledgement_note",
            ]
        )
        audit_event_record(
            actor=actor,
            action="alert.acknowledge",
            object_type="alert",
            object_id=alert.pk,
            patient=alert.patient,
            detail={
                "kind": alert.kind,
                "action": action,
                "reason": reason,
                "note": note,
            },
        )
    return alert
