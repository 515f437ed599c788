"""Writes of home exercise programmes: the clinic's library, its media, a patient's
programme (versioned with the plan) and the patient's exercise logs.

Callers decide who may act: library writes need a therapist or administrator of the
exercise's clinic (``can_edit_library``); programmes are fetched through
``patients.access.patient_get_for`` with CLINICAL, logs with REPORT. Every write leaves
an audit event. Bad input raises ``InvalidInput`` naming the field; nothing is stored.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from config.errors import ConflictError, InvalidInput
from patients.access import staff_roles
from patients.audit import Actor, audit_event_record
from patients.models import Clinic, Patient, Role
from therapies.adherence import plan_end
from therapies.exercise_library import STARTER_LIBRARY, StarterExercise
from therapies.media_checks import MediaRejected, check_media
from therapies.models import (
    BodyRegion,
    Difficulty,
    Exercise,
    ExerciseLog,
    ExerciseMedia,
    ExerciseType,
    PlanComponent,
    ProgrammeItem,
    RehabPlan,
)
from therapies.programme import EXERCISE, programme_component
from therapies.services import (
    MAX_DURATION_WEEKS,
    MAX_FREQUENCY_PER_WEEK,
    MAX_TEXT,
    Recorded,
    patient_today,
    plan_version_create,
)

MAX_NAME = 120
MAX_STEPS = 20
MAX_MEDIA_PER_EXERCISE = 6
MAX_PROGRAMME_ITEMS = 20
DEFAULT_DURATION_WEEKS = 8
PICTOGRAMS = frozenset(x.pictogram for x in STARTER_LIBRARY)
LIBRARY_EDITORS = (Role.THERAPIST, Role.ADMIN)

# (field, lowest, highest): the dose of a library exercise and of a programme item.
DOSE_BOUNDS = (
    ("sets", 1, 20),
    ("reps", 1, 100),
    ("hold_seconds", 0, 3600),
    ("rest_seconds", 0, 600),
    ("sessions_per_week", 1, MAX_FREQUENCY_PER_WEEK),
)
_TEXT_FIELDS = (
    ("name_en", MAX_NAME, True),
    ("name_zh", MAX_NAME, True),
    ("steps_en", MAX_TEXT, True),
    ("steps_zh", MAX_TEXT, True),
    ("precautions_en", MAX_TEXT, False),
    ("precautions_zh", MAX_TEXT, False),
    ("contraindications_en", MAX_TEXT, False),
    ("contraindications_zh", MAX_TEXT, False),
)


def can_edit_library(user: Any, clinic_id: int) -> bool:
    return staff_roles(user).get(clinic_id) in LIBRARY_EDITORS


def steps_of(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


# -----------------------------------------------------------------------------
# Field checks
# -----------------------------------------------------------------------------


def _whole(raw: Mapping[str, Any], field: str, lo: int, hi: int, errors: dict[str, Any]) -> int:
    value = raw.get(field)
    if isinstance(value, bool) or not isinstance(value, int):
        errors[field] = f"{field} must be a whole number from {lo} to {hi}."
        return lo
    if not lo <= value <= hi:
        errors[field] = f"{field} must be from {lo} to {hi}."
    return value


def _text(raw: Mapping[str, Any], field: str, limit: int, required: bool, errors: dict[str, Any]) -> str:
    value = raw.get(field, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[field] = f"{field} must be text."
        return ""
    text = value.strip()
    if required and not text:
        errors[field] = f"{field} is required."
    elif len(text) > limit:
        errors[field] = f"{field} must be at most {limit} characters."
    elif "\x00" in text:
        errors[field] = f"{field} must not contain NUL characters."
    return text


def _dose(raw: Mapping[str, Any], errors: dict[str, Any]) -> dict[str, int]:
    return {field: _whole(raw, field, lo, hi, errors) for field, lo, hi in DOSE_BOUNDS}


def _exercise_values(raw: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    values: dict[str, Any] = {
        field: _text(raw, field, limit, required, errors) for field, limit, required in _TEXT_FIELDS
    }
    for field in ("steps_en", "steps_zh"):
        if field not in errors and len(steps_of(values[field])) > MAX_STEPS:
            errors[field] = f"{field} may have at most {MAX_STEPS} steps (one per line)."
    if raw.get("type") not in ExerciseType.values:
        errors["type"] = f"type must be one of: {', '.join(ExerciseType.values)}."
    if raw.get("body_region") not in BodyRegion.values:
        errors["body_region"] = f"body_region must be one of: {', '.join(BodyRegion.values)}."
    pictogram = raw.get("pictogram") or ""
    if pictogram and pictogram not in PICTOGRAMS:
        errors["pictogram"] = f"pictogram must be empty or one of: {', '.join(sorted(PICTOGRAMS))}."
    values.update(_dose(raw, errors), type=raw.get("type"), body_region=raw.get("body_region"), pictogram=pictogram)
    if errors:
        raise InvalidInput(errors)
    return values


# -----------------------------------------------------------------------------
# Library
# -----------------------------------------------------------------------------


@transaction.atomic
def exercise_create(*, actor: Actor, clinic: Clinic, fields: Mapping[str, Any], slug: str = "") -> Exercise:
    values = _exercise_values(fields)
    slug = slug or f"custom-{uuid.uuid4().hex[:12]}"
    if Exercise.objects.filter(clinic=clinic, slug=slug).exists():
        raise InvalidInput({"slug": f"The clinic already has an exercise {slug!r}."})
    exercise = Exercise.objects.create(clinic=clinic, slug=slug, **values)
    audit_event_record(
        actor=actor,
        action="exercise.create",
        object_type="exercise",
        object_id=exercise.pk,
        clinic_id=clinic.pk,
        detail={"slug": slug},
    )
    return exercise


@transaction.atomic
def exercise_update(
    *, actor: Actor, exercise: Exercise, fields: Mapping[str, Any], is_active: bool | None = None
) -> Exercise:
    """Change a library exercise. Programmes show the current wording and pictures; the
    dose of a prescribed exercise is the programme item's own and does not change here."""
    values = _exercise_values(fields)
    changed = [name for name, value in values.items() if getattr(exercise, name) != value]
    for name, value in values.items():
        setattr(exercise, name, value)
    if is_active is not None and is_active != exercise.is_active:
        exercise.is_active = is_active
        changed.append("is_active")
    exercise.updated_at = timezone.now()
    exercise.save(update_fields=[*values, "is_active", "updated_at"])
    audit_event_record(
        actor=actor,
        action="exercise.update",
        object_type="exercise",
        object_id=exercise.pk,
        clinic_id=exercise.clinic_id,
        detail={"changed": changed},
    )
    return exercise


class Upload(Protocol):
    """What Django's UploadedFile offers and the media service reads."""

    size: int | None

    def read(self, size: int = ...) -> bytes: ...


def media_limits() -> tuple[int, int]:
    return int(settings.EXERCISE_IMAGE_MAX_BYTES), int(settings.EXERCISE_VIDEO_MAX_BYTES)


@transaction.atomic
def exercise_media_add(*, actor: Actor, exercise: Exercise, upload: Upload, caption: str = "") -> ExerciseMedia:
    """Store a picture or short video of the exercise after checking what it really is.

    The size is checked before anything is read (a too-large upload is never loaded into
    memory), then the content (``therapies.media_checks``), whatever the file is called.
    """
    image_max, video_max = media_limits()
    errors: dict[str, Any] = {}
    caption = _text({"caption": caption}, "caption", 200, False, errors)
    if errors:
        raise InvalidInput(errors)
    if upload.size is not None and upload.size > max(image_max, video_max):
        raise InvalidInput(
            {
                "file": f"The file is {upload.size} bytes; pictures may have at most {image_max} bytes, "
                f"MP4 or WebM videos {video_max}."
            }
        )
    data = upload.read(max(image_max, video_max) + 1)
    try:
        verdict = check_media(data, image_max_bytes=image_max, video_max_bytes=video_max)
    except MediaRejected as exc:
        raise InvalidInput({"file": str(exc)}) from exc
    existing = Exercise.objects.select_for_update().filter(pk=exercise.pk).first()
    if existing is None or exercise.media.count() >= MAX_MEDIA_PER_EXERCISE:
        raise InvalidInput({"file": f"An exercise has at most {MAX_MEDIA_PER_EXERCISE} pictures and videos."})
    order = (exercise.media.aggregate(m=Max("order"))["m"] or 0) + 1
    media = ExerciseMedia(
        exercise=exercise,
        kind=verdict.kind,
        extension=verdict.extension,
        content_type=verdict.content_type,
        size_bytes=len(data),
        width=verdict.width,
        height=verdict.height,
        caption=caption,
        order=order,
        uploaded_by=actor.user if actor.user_id is not None else None,
    )
    media.file.save("upload", ContentFile(data), save=False)
    media.save()
    audit_event_record(
        actor=actor,
        action="exercise_media.create",
        object_type="exercise_media",
        object_id=media.pk,
        clinic_id=exercise.clinic_id,
        detail={"exercise": exercise.pk, "kind": verdict.kind, "bytes": len(data)},
    )
    return media


@transaction.atomic
def exercise_media_delete(*, actor: Actor, media: ExerciseMedia) -> None:
    exercise = media.exercise
    name = media.file.name or ""
    media.delete()
    if name:
        transaction.on_commit(lambda: media.file.storage.delete(name))
    audit_event_record(
        actor=actor,
        action="exercise_media.delete",
        object_type="exercise_media",
        object_id=str(media.key),
        clinic_id=exercise.clinic_id,
        detail={"exercise": exercise.pk},
    )


def _starter_fields(starter: StarterExercise) -> dict[str, Any]:
    sets, reps, hold, rest, per_week = starter.dose
    return {
        "name_en": starter.name[0],
        "name_zh": starter.name[1],
        "steps_en": starter.steps[0],
        "steps_zh": starter.steps[1],
        "precautions_en": starter.precautions[0],
        "precautions_zh": starter.precautions[1],
        "contraindications_en": starter.contraindications[0],
        "contraindications_zh": starter.contraindications[1],
        "type": starter.type,
        "body_region": starter.body_region,
        "pictogram": starter.pictogram,
        "sets": sets,
        "reps": reps,
        "hold_seconds": hold,
        "rest_seconds": rest,
        "sessions_per_week": per_week,
    }


def exercise_library_install(*, actor: Actor, clinic: Clinic) -> int:
    """Add the starter library's exercises the clinic does not have yet; returns how many."""
    have = set(Exercise.objects.filter(clinic=clinic).values_list("slug", flat=True))
    created = 0
    for starter in STARTER_LIBRARY:
        if starter.slug in have:
            continue
        exercise_create(actor=actor, clinic=clinic, fields=_starter_fields(starter), slug=starter.slug)
        created += 1
    return created


# -----------------------------------------------------------------------------
# Programme
# -----------------------------------------------------------------------------

# Library types → the exercise modality's own "type" parameter (therapies.limits).
_MODALITY_TYPE = {
    "core_stabilisation": "core_stabilisation",
    "motor_control": "postural_training",
    "breathing": "breathing_training",
    "aerobic": "aerobic",
}


def _programme_items(
    patient: Patient, items: Sequence[Mapping[str, Any]]
) -> tuple[list[ProgrammeItem], dict[str, Any]]:
    errors: dict[str, Any] = {}
    if not isinstance(items, Sequence) or isinstance(items, str | bytes):
        return [], {"items": "items must be a list."}
    if len(items) > MAX_PROGRAMME_ITEMS:
        return [], {"items": f"A programme has at most {MAX_PROGRAMME_ITEMS} exercises."}
    ids = [raw.get("exercise") for raw in items if isinstance(raw, Mapping)]
    library = Exercise.objects.in_bulk([i for i in ids if isinstance(i, int) and not isinstance(i, bool)])
    rows: list[ProgrammeItem] = []
    for index, raw in enumerate(items):
        mine: dict[str, Any] = {}
        if not isinstance(raw, Mapping):
            errors[str(index)] = {"non_field_errors": "Each item must be an object."}
            continue
        exercise = library.get(raw.get("exercise"))
        if exercise is None or exercise.clinic_id != patient.clinic_id:
            mine["exercise"] = "No such exercise in the clinic's library."
        elif not exercise.is_active:
            mine["exercise"] = f"{exercise.name_en} is retired from the library."
        dose = _dose(raw, mine)
        note = _text(raw, "progression_note", MAX_TEXT, False, mine)
        if mine or exercise is None:
            errors[str(index)] = mine
            continue
        rows.append(ProgrammeItem(exercise=exercise, order=index, progression_note=note, **dose))
    seen = Counter(row.exercise_id for row in rows)
    twice = [str(i) for i, row in enumerate(rows) if seen[row.exercise_id] > 1]
    if twice and not errors:
        errors[twice[-1]] = {"exercise": "This exercise is already in the programme."}
    return rows, ({"items": errors} if errors else {})


def _component_body(component: PlanComponent) -> dict[str, Any]:
    return {
        "modality": component.modality,
        "parameters": dict(component.parameters),
        "frequency_per_week": component.frequency_per_week,
        "duration_weeks": component.duration_weeks,
        "override_reason": component.override_reason,
        "notes": component.notes,
    }


def _new_exercise_component(rows: list[ProgrammeItem], duration_weeks: int) -> dict[str, Any]:
    """An exercise component for a plan that had none, described from its programme."""
    types = Counter(_MODALITY_TYPE.get(row.exercise.type, "other") for row in rows)
    seconds = sum(row.sets * (row.reps * max(row.hold_seconds, 4) + row.rest_seconds) for row in rows)
    return {
        "modality": EXERCISE,
        "parameters": {
            "type": types.most_common(1)[0][0] if types else "other",
            "minutes": min(90, max(5, round(seconds / 60))),
        },
        "frequency_per_week": max((row.sessions_per_week for row in rows), default=1),
        "duration_weeks": duration_weeks,
        "notes": "",
    }


def _planned_components(
    patient: Patient, rows: list[ProgrammeItem], duration_weeks: int | None
) -> tuple[list[dict[str, Any]], int]:
    """The current version's components as a new version's body, and the programme's index."""
    current = RehabPlan.objects.filter(patient=patient).order_by("-version").first()
    components = list(current.components.all()) if current is not None else []
    holding = ProgrammeItem.objects.filter(component__in=components).values_list("component__order", flat=True)
    target = programme_component(components, next(iter(holding), None))
    bodies = [_component_body(c) for c in components]
    if target is None:
        bodies.append(_new_exercise_component(rows, duration_weeks or DEFAULT_DURATION_WEEKS))
        return bodies, len(bodies) - 1
    index = components.index(target)
    if rows:
        bodies[index]["frequency_per_week"] = max(row.sessions_per_week for row in rows)
    if duration_weeks:
        bodies[index]["duration_weeks"] = duration_weeks
    return bodies, index


def programme_set(
    *,
    actor: Actor,
    patient: Patient,
    expected_version: int | None,
    reason: str,
    items: Sequence[Mapping[str, Any]],
    duration_weeks: int | None = None,
    now: dt.datetime | None = None,
) -> RehabPlan:
    """Save the patient's home programme as the next plan version (reason required).

    The other components are carried over as they are; the exercise component that holds
    the programme (one is added when the plan has none) takes the programme's highest
    sessions per week as its frequency. Compare-and-set on ``expected_version`` exactly
    as ``plan_version_create``: a stale editor gets a ConflictError naming "version".
    """
    rows, errors = _programme_items(patient, items)
    if duration_weeks is not None and not 1 <= duration_weeks <= MAX_DURATION_WEEKS:
        errors["duration_weeks"] = f"duration_weeks must be from 1 to {MAX_DURATION_WEEKS}."
    if errors:
        raise InvalidInput(errors)
    with transaction.atomic():
        bodies, index = _planned_components(patient, rows, duration_weeks)
        plan = plan_version_create(
            actor=actor, patient=patient, expected_version=expected_version, reason=reason, components=bodies, now=now
        )
        target = plan.components.get(order=index)
        ProgrammeItem.objects.filter(component__plan=plan).delete()  # what plan_version_create carried over
        for row in rows:
            row.component = target
        ProgrammeItem.objects.bulk_create(rows)
        audit_event_record(
            actor=actor,
            action="programme.set",
            object_type="rehab_plan",
            object_id=plan.pk,
            patient=patient,
            detail={"version": plan.version, "exercises": [row.exercise_id for row in rows]},
        )
    return plan


# -----------------------------------------------------------------------------
# Logs
# -----------------------------------------------------------------------------


def _log_errors(
    patient: Patient, item: ProgrammeItem | None, date: dt.date, values: Mapping[str, Any], now: dt.datetime
) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    if item is None:
        errors["item"] = "No such exercise in this patient's programme."
    elif date > patient_today(patient, now):
        errors["date"] = "date is in the future (in your time zone)."
    else:
        plan = item.component.plan
        last = plan_end(plan.start_date, plan.components.values_list("duration_weeks", flat=True))
        if last is not None and date > last:
            errors["date"] = f"Plan version {plan.version} ended on {last.isoformat()}; nothing to log after it."
    sets_done = values.get("sets_done")
    if isinstance(sets_done, bool) or not isinstance(sets_done, int) or not 0 <= sets_done <= 20:
        errors["sets_done"] = "sets_done must be a whole number from 0 to 20."
    pain = values.get("pain_after")
    if pain is not None and (isinstance(pain, bool) or not isinstance(pain, int) or not 0 <= pain <= 10):
        errors["pain_after"] = "pain_after must be a whole number from 0 to 10, or null."
    if values.get("difficulty", "") not in ("", *Difficulty.values):
        errors["difficulty"] = f"difficulty must be one of: {', '.join(Difficulty.values)}."
    return errors


def exercise_log_record(
    *,
    actor: Actor,
    patient: Patient,
    item_id: int,
    date: dt.date,
    sets_done: int,
    client_uuid: uuid.UUID,
    pain_after: int | None = None,
    difficulty: str = "",
    note: str = "",
    now: dt.datetime | None = None,
) -> Recorded:
    """The patient's record of one programme exercise on one day, once per client_uuid.

    An item of an earlier plan version is still accepted (a log made offline before the
    programme changed arrives later), for days before that version's plan ended.
    """
    now = now or timezone.now()
    existing = ExerciseLog.objects.filter(client_uuid=client_uuid).first()
    if existing is not None:
        return _replayed(existing, patient)
    item = (
        ProgrammeItem.objects.select_related("component__plan", "exercise")
        .filter(pk=item_id, component__plan__patient=patient)
        .first()
    )
    values = {"sets_done": sets_done, "pain_after": pain_after, "difficulty": difficulty}
    errors = _log_errors(patient, item, date, values, now)
    note = _text({"note": note}, "note", MAX_TEXT, False, errors)
    if errors or item is None:
        raise InvalidInput(errors)
    with transaction.atomic():
        try:
            with transaction.atomic():  # savepoint: a concurrent resend may win the insert
                log = ExerciseLog.objects.create(
                    patient=patient,
                    item=item,
                    exercise=item.exercise,
                    date=date,
                    client_uuid=client_uuid,
                    logged_at=now,
                    logged_by=actor.user if actor.user_id is not None else None,
                    note=note,
                    **values,
                )
        except IntegrityError:
            existing = ExerciseLog.objects.filter(client_uuid=client_uuid).first()
            if existing is None:
                raise
            return _replayed(existing, patient)
        audit_event_record(
            actor=actor,
            action="exercise_log.create",
            object_type="exercise_log",
            object_id=log.pk,
            patient=patient,
            detail={"item": item.pk, "date": date.isoformat(), "client_uuid": str(client_uuid)},
        )
    return Recorded(log, created=True)


def _replayed(existing: ExerciseLog, patient: Patient) -> Recorded:
    if existing.patient_id != patient.pk:
        raise ConflictError({"client_uuid": "This client_uuid is already used by another log."})
    return Recorded(existing, created=False)
