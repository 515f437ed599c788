"""Writes for assessments and alerts.

``assessment_record`` is the one way an assessment enters the system (API, offline sync,
htmx forms, demo seed): it scores with the pure instrument, stores exactly once per
``client_uuid`` (also under concurrent resends), raises safety alerts in the same
transaction, and leaves an audit event.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from assessments.instruments import (
    FLAG_SUICIDAL_IDEATION,
    INSTRUMENTS,
    AnswerError,
    get_instrument,
)
from assessments.models import Alert, AlertAction, AlertKind, Assessment, Severity, Source
from assessments.nrs_weeks import nrs_week_add
from assessments.schedules import is_late, is_too_far_in_future
from config.errors import ConflictError, InvalidInput
from patients.access import Actor
from patients.models import Patient
from patients.services import audit_event_record

logger = logging.getLogger(__name__)

# Instruments a patient may submit about themself; the rest are clinic measurements.
SELF_REPORT = frozenset({"vas", "nrs", "dn4", "phq9", "gad7", "odi"})
DN4_INTERVIEW = ("burning", "painful_cold", "electric_shocks", "tingling", "pins_and_needles", "numbness", "itching")
DN4_EXAMINATION = ("touch_hypoesthesia", "pinprick_hypoesthesia", "brushing")
# How old a patient's DN4 interview may be for the clinician's examination to complete it.
DN4_MERGE_WINDOW = dt.timedelta(days=30)


@dataclass(frozen=True)
class Recorded:
    assessment: Assessment
    created: bool


def _replay(existing: Assessment, patient: Patient, instrument: str) -> Recorded:
    """A resend of a stored entry: same patient and instrument → the stored record."""
    if existing.patient_id != patient.pk or existing.instrument != instrument:
        raise ConflictError({"client_uuid": "This client_uuid is already used by another entry."})
    return Recorded(existing, created=False)


def _dn4_exam_completion(
    patient: Patient, answers: dict[str, Any], recorded_at: dt.datetime
) -> tuple[dict[str, Any], Assessment | None]:
    """The clinician's 3 examination items complete the patient's latest DN4 interview."""
    if set(answers) != set(DN4_EXAMINATION):
        return answers, None
    interview = (
        Assessment.objects.select_for_update(of=("self",))
        .filter(
            patient=patient,
            instrument="dn4",
            detail__variant="interview",
            superseded_by__isnull=True,
            recorded_at__gte=recorded_at - DN4_MERGE_WINDOW,
            recorded_at__lte=recorded_at + dt.timedelta(minutes=5),
        )
        .order_by("-recorded_at", "-id")
        .first()
    )
    if interview is None:
        raise InvalidInput(
            {
                "answers": {
                    "__all__": "No DN4 interview (7 items) from the last 30 days to complete; send all 10 items instead."
                }
            }
        )
    merged = {key: interview.answers[key] for key in DN4_INTERVIEW}
    merged.update(answers)
    return merged, interview


def assessment_record(
    *,
    actor: Actor,
    patient: Patient,
    instrument: str,
    answers: Any,
    recorded_at: dt.datetime,
    client_uuid: uuid.UUID,
    source: str,
    now: dt.datetime | None = None,
) -> Recorded:
    """Score and store one assessment, exactly once per client_uuid.

    A new entry is the common case, so it is inserted without looking for a stored one
    first. A resend either fails the unique client_uuid (also when a concurrent resend wins
    the race) or fails validation that no longer holds (a DN4 examination whose interview
    it already completed): either way the stored row, if there is one, is the answer.
    """
    now = now or timezone.now()
    try:
        _check(instrument, answers, recorded_at, source, now)
        # One transaction, no savepoint on the common path: a resend fails at the insert,
        # before any alert, audit event or due item, and is answered from the stored row.
        with transaction.atomic():
            assessment = _store(actor, patient, instrument, answers, recorded_at, client_uuid, source, now)
    except (InvalidInput, IntegrityError):
        existing = Assessment.objects.filter(client_uuid=client_uuid).first()
        if existing is None:
            raise
        return _replay(existing, patient, instrument)
    return Recorded(assessment, created=True)


def _check(instrument: str, answers: Any, recorded_at: dt.datetime, source: str, now: dt.datetime) -> None:
    if instrument not in INSTRUMENTS:
        raise InvalidInput({"instrument": f"Unknown instrument {instrument!r}; one of: {', '.join(INSTRUMENTS)}."})
    if source == Source.PATIENT and instrument not in SELF_REPORT:
        raise InvalidInput({"instrument": f"{instrument!r} is recorded by a clinician, not by the patient."})
    if recorded_at.tzinfo is None:
        raise InvalidInput({"recorded_at": "Give a time zone offset (ISO 8601, e.g. 2026-03-01T09:00:00+08:00)."})
    if is_too_far_in_future(recorded_at, now):
        raise InvalidInput({"recorded_at": "recorded_at is more than 5 minutes in the future."})
    if not isinstance(answers, dict):
        raise InvalidInput({"answers": {"__all__": "answers must be a JSON object."}})


def _store(
    actor: Actor,
    patient: Patient,
    instrument: str,
    answers: dict[str, Any],
    recorded_at: dt.datetime,
    client_uuid: uuid.UUID,
    source: str,
    now: dt.datetime,
) -> Assessment:
    """Score, insert, raise alerts, audit, count the NRS week and complete the due item:
    one transaction."""
    supersedes: Assessment | None = None
    if instrument == "dn4" and source == Source.CLINICIAN:
        answers, supersedes = _dn4_exam_completion(patient, answers, recorded_at)
    elif instrument == "dn4" and source == Source.PATIENT and set(answers) - set(DN4_INTERVIEW):
        raise InvalidInput(
            {
                "answers": dict.fromkeys(
                    sorted(set(answers) - set(DN4_INTERVIEW)), "Examination items are recorded by the clinician."
                )
            }
        )
    try:
        result = get_instrument(instrument).score(answers)
    except AnswerError as exc:
        raise InvalidInput({"answers": exc.errors}) from exc
    detail = dict(result.detail)
    if supersedes is not None:
        detail["completes"] = supersedes.pk
    assessment = Assessment.objects.create(
        patient=patient,
        instrument=instrument,
        answers=result.answers,
        total=result.total,
        band=result.band or "",
        flags=list(result.flags),
        detail=detail,
        recorded_at=recorded_at,
        received_at=now,
        is_late=is_late(recorded_at, now),
        client_uuid=client_uuid,
        source=source,
        entered_by=actor.user if actor.user_id is not None else None,
        supersedes=supersedes,
    )
    if FLAG_SUICIDAL_IDEATION in assessment.flags:
        alert_raise(
            patient=patient,
            kind=AlertKind.SUICIDAL_IDEATION,
            severity=Severity.CRITICAL,
            message=f"PHQ-9 item 9 answered {assessment.answers.get('item9')} (total {assessment.total:g}).",
            dedupe_key=f"assessment:{assessment.pk}:suicidal_ideation",
            source_assessment=assessment,
        )
    audit_event_record(
        actor=actor,
        action="create",
        object_type="assessment",
        object_id=assessment.pk,
        patient=patient,
        detail={"instrument": instrument, "client_uuid": str(client_uuid), "late": assessment.is_late},
    )
    nrs_week_add(assessment)
    _after_record(assessment)
    return assessment


def _after_record(assessment: Assessment) -> None:
    """Complete a matching due item, if the scheduling app has one (same transaction)."""
    from assessments.due import due_item_complete_for

    due_item_complete_for(assessment)


def alert_raise(
    *,
    patient: Patient,
    kind: str,
    severity: str,
    message: str,
    dedupe_key: str,
    source_assessment: Assessment | None = None,
    source_type: str = "",
    source_id: str | int = "",
) -> tuple[Alert, bool]:
    """Create an alert once per dedupe key; delivery to the care team is queued on commit."""
    alert, created = Alert.objects.get_or_create(
        dedupe_key=dedupe_key,
        defaults={
            "patient": patient,
            "kind": kind,
            "severity": severity,
            "message": message,
            "source_assessment": source_assessment,
            "source_type": source_type or ("assessment" if source_assessment else ""),
            "source_id": str(source_id or (source_assessment.pk if source_assessment else "")),
        },
    )
    if created:
        from assessments.tasks import alert_notify

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
