"""Writes for assessments.

``assessment_record`` is the one way an assessment enters the system (API, offline sync,
htmx forms, demo seed): it scores with the pure instrument, stores exactly once per
``client_uuid`` (also under concurrent resends), raises safety alerts in the same
transaction, and leaves an audit event.

Safety episode (PHQ-9 item 9). The app sends a nonzero item-9 answer at once as its own
entry (item 9 alone, a "safety signal"); the finished questionnaire names that entry in
``supersedes``. The earlier entry is then superseded (it leaves the score series) and the
suicidal-ideation alert is one per episode: its dedupe key is the episode's first
client_uuid, so the two entries share it whichever arrives first. A submission rejected for
any other reason that still holds a valid item 9 > 0 raises the same alert
(:func:`safety_signal_for_rejected`).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import IntegrityError, transaction
from django.utils import timezone

from assessments.alerts import text as alert_text
from assessments.alerts.services import alert_raise
from assessments.instruments import (
    FLAG_SUICIDAL_IDEATION,
    INSTRUMENTS,
    AnswerError,
    get_instrument,
)
from assessments.models import Alert, AlertKind, Assessment, Severity, Source
from assessments.outcomes.nrs_weeks import nrs_week_add
from assessments.outcomes.worsening import worsening_after_record
from assessments.reminders.due import due_item_complete_for
from assessments.reminders.schedules import is_late
from config.errors import ConflictError, InvalidInput
from config.timeutil import is_too_far_in_future
from patients.audit import Actor, audit_event_record
from patients.models import Patient

logger = logging.getLogger(__name__)

# Instruments a patient may submit about themself; the rest are clinic measurements.
SELF_REPORT = frozenset({"vas", "nrs", "dn4", "phq9", "gad7", "odi"})
DN4_INTERVIEW = ("burning", "painful_cold", "electric_shocks", "tingling", "pins_and_needles", "numbness", "itching")
DN4_EXAMINATION = ("touch_hypoesthesia", "pinprick_hypoesthesia", "brushing")
# How old a patient's DN4 interview may be for the clinician's examination to complete it.
DN4_MERGE_WINDOW = dt.timedelta(days=30)
# Older entries are typing errors (a wrong year), not back-filled diaries.
MAX_PAST = dt.timedelta(days=3653)
# Instruments whose entries may name an earlier entry they complete (``supersedes``).
SUPERSEDABLE = frozenset({"phq9"})
SUICIDE_ITEM = "item9"
# A chain of completions longer than this is not followed (one is the norm).
MAX_EPISODE_LINKS = 10


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
    supersedes: uuid.UUID | None = None,
    now: dt.datetime | None = None,
) -> Recorded:
    """Score and store one assessment, exactly once per client_uuid.

    A new entry is the common case, so it is inserted without looking for a stored one
    first. A resend either fails the unique client_uuid (also when a concurrent resend wins
    the race) or fails validation that no longer holds (a DN4 examination whose interview
    it already completed): either way the stored row, if there is one, is the answer.
    A rejected PHQ-9 whose item 9 is a valid answer above 0 still raises the safety alert;
    the error then carries ``extra["safety_alert"] = "raised"``.
    """
    now = now or timezone.now()
    try:
        _check(patient, instrument, answers, recorded_at, source, now)
        # One transaction, no savepoint on the common path: a resend fails at the insert,
        # before any alert, audit event or due item, and is answered from the stored row.
        with transaction.atomic():
            assessment = _store(actor, patient, instrument, answers, recorded_at, client_uuid, source, now, supersedes)
    except (InvalidInput, IntegrityError) as exc:
        existing = Assessment.objects.filter(client_uuid=client_uuid).first()
        if existing is None:
            if isinstance(exc, InvalidInput):
                _flag_rejected(exc, actor, patient, instrument, answers, client_uuid, supersedes)
            raise
        try:
            return _replay(existing, patient, instrument)
        except ConflictError as conflict:
            _flag_rejected(conflict, actor, patient, instrument, answers, client_uuid, supersedes)
            raise
    return Recorded(assessment, created=True)


def _flag_rejected(
    exc: InvalidInput | ConflictError,
    actor: Actor,
    patient: Patient,
    instrument: str,
    answers: Any,
    client_uuid: uuid.UUID,
    supersedes: uuid.UUID | None,
) -> None:
    if safety_signal_for_rejected(
        actor=actor,
        patient=patient,
        instrument=instrument,
        answers=answers,
        client_uuid=client_uuid,
        supersedes=supersedes,
        reason=exc.errors,
    ):
        exc.extra["safety_alert"] = "raised"


def safety_item_answer(instrument: Any, answers: Any) -> int | None:
    """PHQ-9 item 9 when it is a valid answer above 0 (an integer 1-3), else ``None``."""
    if instrument != "phq9" or not isinstance(answers, dict):
        return None
    value = answers.get(SUICIDE_ITEM)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 3:
        return None
    return value


def safety_signal_for_rejected(
    *,
    actor: Actor,
    patient: Patient,
    instrument: Any,
    answers: Any,
    client_uuid: uuid.UUID,
    supersedes: uuid.UUID | None = None,
    reason: Any = None,
) -> bool:
    """Raise the suicidal-ideation alert for a submission that is not stored (rejected for
    another reason) but holds a valid item 9 > 0: the answer was given, and the care team
    must hear of it. One alert per episode (a resend of the same entry, or its corrected
    version, finds it); returns whether the patient has that alert now."""
    item9 = safety_item_answer(instrument, answers)
    if item9 is None:
        return False
    with transaction.atomic():
        alert, created = alert_raise(
            patient=patient,
            kind=AlertKind.SUICIDAL_IDEATION,
            severity=Severity.CRITICAL,
            message_code=alert_text.SAFETY_REJECTED,
            message_args={"item9": item9},
            dedupe_key=_safety_key(patient, _episode_uuid(client_uuid, supersedes)),
            source_type="rejected_submission",
            source_id=str(client_uuid),
        )
        if created:
            audit_event_record(
                actor=actor,
                action="alert.raise",
                object_type="alert",
                object_id=alert.pk,
                patient=patient,
                detail={
                    "kind": AlertKind.SUICIDAL_IDEATION,
                    "from": "rejected_submission",
                    "client_uuid": str(client_uuid),
                    "errors": _error_fields(reason),
                },
            )
    return True


def _error_fields(errors: Any, prefix: str = "") -> list[str]:
    """The field paths of an error mapping (what was wrong, without the client's values)."""
    if not isinstance(errors, dict):
        return [prefix] if prefix else []
    fields: list[str] = []
    for key, value in errors.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        fields.extend(_error_fields(value, path) if isinstance(value, dict) else [path])
    return fields


def _episode_uuid(client_uuid: uuid.UUID, supersedes: uuid.UUID | None) -> uuid.UUID:
    """The first client_uuid of the entry's safety episode: the entry itself, or the
    earliest entry reached through ``supersedes`` links that have arrived."""
    episode = supersedes or client_uuid
    for _ in range(MAX_EPISODE_LINKS):
        earlier = Assessment.objects.filter(client_uuid=episode).values_list("supersedes_uuid", flat=True).first()
        if earlier is None:
            break
        episode = earlier
    return episode


def _safety_key(patient: Patient, episode: uuid.UUID) -> str:
    return f"suicidal_ideation:{patient.pk}:{episode}"


def _check(
    patient: Patient, instrument: str, answers: Any, recorded_at: dt.datetime, source: str, now: dt.datetime
) -> None:
    if instrument not in INSTRUMENTS:
        raise InvalidInput({"instrument": f"Unknown instrument {instrument!r}; one of: {', '.join(INSTRUMENTS)}."})
    if source == Source.PATIENT and instrument not in SELF_REPORT:
        raise InvalidInput({"instrument": f"{instrument!r} is recorded by a clinician, not by the patient."})
    if recorded_at.tzinfo is None:
        raise InvalidInput({"recorded_at": "Give a time zone offset (ISO 8601, e.g. 2026-03-01T09:00:00+08:00)."})
    if is_too_far_in_future(recorded_at, now):
        raise InvalidInput({"recorded_at": "recorded_at is more than 5 minutes in the future."})
    if recorded_at < now - MAX_PAST:
        raise InvalidInput({"recorded_at": "recorded_at is more than 10 years in the past."})
    if patient.birth_year and _local_year(recorded_at, patient) < patient.birth_year:
        raise InvalidInput({"recorded_at": f"recorded_at is before the patient's birth year ({patient.birth_year})."})
    if not isinstance(answers, dict):
        raise InvalidInput({"answers": {"__all__": "answers must be a JSON object."}})


def _local_year(moment: dt.datetime, patient: Patient) -> int:
    try:
        return moment.astimezone(ZoneInfo(patient.time_zone)).year
    except (ZoneInfoNotFoundError, ValueError, OverflowError):
        return moment.astimezone(dt.UTC).year


def _earlier_entry(
    patient: Patient, instrument: str, client_uuid: uuid.UUID, supersedes: uuid.UUID | None
) -> Assessment | None:
    """The stored entry this one completes (locked), or ``None`` when it has not arrived yet
    (it is linked on arrival)."""
    if supersedes is None:
        return None
    if instrument not in SUPERSEDABLE:
        raise InvalidInput(
            {"supersedes": "Only a PHQ-9 entry may complete an earlier one (the safety-signal entry it finishes)."}
        )
    if supersedes == client_uuid:
        raise InvalidInput({"supersedes": "An entry cannot complete itself."})
    earlier = Assessment.objects.select_for_update(of=("self",)).filter(client_uuid=supersedes).first()
    if earlier is None:
        return None
    if earlier.patient_id != patient.pk or earlier.instrument != instrument:
        raise InvalidInput({"supersedes": f"Name an earlier {instrument} entry of the same patient."})
    if Assessment.objects.filter(supersedes=earlier).exists():
        raise InvalidInput({"supersedes": "That entry is already completed by another entry."})
    return earlier


def _link_later_entry(assessment: Assessment) -> None:
    """An entry that arrives after the one completing it: the later one now supersedes it."""
    later = (
        Assessment.objects.select_for_update(of=("self",))
        .filter(
            patient_id=assessment.patient_id,
            instrument=assessment.instrument,
            supersedes_uuid=assessment.client_uuid,
            supersedes__isnull=True,
        )
        .exclude(pk=assessment.pk)
        .order_by("recorded_at", "id")
        .first()
    )
    if later is not None:
        later.supersedes = assessment
        later.save(update_fields=["supersedes"])


def _safety_message(assessment: Assessment) -> tuple[str, dict[str, Any]]:
    item9 = assessment.answers.get(SUICIDE_ITEM)
    if assessment.total is None:
        return alert_text.SAFETY_UNSCORED, {"item9": item9, "missing": len(assessment.detail.get("missing", ()))}
    code = alert_text.SAFETY_PRORATED if assessment.detail.get("prorated") else alert_text.SAFETY_SCORED
    return code, {"item9": item9, "total": f"{assessment.total:g}"}


def _dn4_answers(
    patient: Patient, answers: dict[str, Any], recorded_at: dt.datetime, source: str, supersedes: Assessment | None
) -> tuple[dict[str, Any], Assessment | None]:
    """A clinician's DN4 examination completes the patient's recent interview; a patient
    may answer the interview items only."""
    if source == Source.CLINICIAN:
        return _dn4_exam_completion(patient, answers, recorded_at)
    if source == Source.PATIENT and set(answers) - set(DN4_INTERVIEW):
        exam_items = sorted(set(answers) - set(DN4_INTERVIEW))
        raise InvalidInput({"answers": dict.fromkeys(exam_items, "Examination items are recorded by the clinician.")})
    return answers, supersedes


def _insert(
    actor: Actor,
    patient: Patient,
    instrument: str,
    answers: dict[str, Any],
    *,
    recorded_at: dt.datetime,
    client_uuid: uuid.UUID,
    source: str,
    now: dt.datetime,
    supersedes: Assessment | None,
    supersedes_uuid: uuid.UUID | None,
) -> Assessment:
    """Score with the pure instrument and insert the row."""
    try:
        result = get_instrument(instrument).score(answers)
    except AnswerError as exc:
        raise InvalidInput({"answers": exc.errors}) from exc
    detail = dict(result.detail)
    if supersedes is not None:
        detail["completes"] = supersedes.pk
    return Assessment.objects.create(
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
        supersedes_uuid=supersedes_uuid,
    )


def _suicidal_ideation_alert(assessment: Assessment, supersedes_uuid: uuid.UUID | None) -> Alert:
    """One alert per episode: the entries of one episode share the key, whichever came first."""
    code, args = _safety_message(assessment)
    alert, _created = alert_raise(
        patient=assessment.patient,
        kind=AlertKind.SUICIDAL_IDEATION,
        severity=Severity.CRITICAL,
        message_code=code,
        message_args=args,
        dedupe_key=_safety_key(assessment.patient, _episode_uuid(assessment.client_uuid, supersedes_uuid)),
        source_assessment=assessment,
    )
    return alert


def _store(
    actor: Actor,
    patient: Patient,
    instrument: str,
    answers: dict[str, Any],
    recorded_at: dt.datetime,
    client_uuid: uuid.UUID,
    source: str,
    now: dt.datetime,
    supersedes_uuid: uuid.UUID | None = None,
) -> Assessment:
    """Score, insert, raise alerts, audit, count the NRS week and complete the due item:
    one transaction."""
    if instrument in SUPERSEDABLE:
        # Entries of one episode may arrive at once (two devices, a retried sync): taking the
        # patient's row first makes the second wait and then see the first, so they link.
        Patient.objects.select_for_update().filter(pk=patient.pk).values_list("pk", flat=True).first()
    supersedes = _earlier_entry(patient, instrument, client_uuid, supersedes_uuid)
    if instrument == "dn4":
        answers, supersedes = _dn4_answers(patient, answers, recorded_at, source, supersedes)
    assessment = _insert(
        actor,
        patient,
        instrument,
        answers,
        recorded_at=recorded_at,
        client_uuid=client_uuid,
        source=source,
        now=now,
        supersedes=supersedes,
        supersedes_uuid=supersedes_uuid,
    )
    audit_detail: dict[str, Any] = {
        "instrument": instrument,
        "client_uuid": str(client_uuid),
        "late": assessment.is_late,
    }
    if instrument in SUPERSEDABLE:
        _link_later_entry(assessment)
        if supersedes_uuid is not None:
            audit_detail["supersedes"] = str(supersedes_uuid)
    if FLAG_SUICIDAL_IDEATION in assessment.flags:
        audit_detail["alert"] = _suicidal_ideation_alert(assessment, supersedes_uuid).pk
    audit_event_record(
        actor=actor,
        action="create",
        object_type="assessment",
        object_id=assessment.pk,
        patient=patient,
        detail=audit_detail,
    )
    nrs_week_add(assessment)
    worsening_after_record(assessment, now=now)
    if not assessment.detail.get("incomplete"):
        # An unfinished questionnaire (a safety signal) does not answer the due one.
        _after_record(assessment)
    return assessment


def _after_record(assessment: Assessment) -> None:
    """Complete a matching due item, if the scheduling app has one (same transaction)."""
    due_item_complete_for(assessment)
