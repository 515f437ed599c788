"""Demo home programmes: the starter library in the demo clinic, a programme for the
hand-made demo patients and three weeks of exercise logs.

Called by ``therapies.demo.seed`` (development only). Idempotent: the library install
adds only what is missing, a patient whose plan already carries a programme is left
alone, and each log's client_uuid is derived from what it is. The logs show what the
console must point out: one exercise mostly skipped, one that flared pain once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from patients.audit import Actor
from patients.models import CareTeamMember, Clinic, Patient
from therapies.adherence import weekly_pattern
from therapies.exercises import exercise_library_install, exercise_log_record, programme_set
from therapies.models import Exercise, ProgrammeItem, RehabPlan
from therapies.services import patient_today

NAMESPACE = uuid.UUID("2b0f5a57-0d43-4c1c-9a0e-0b7b7f3c9e11")
PROGRAMME_AGE_DAYS = 21
COHORT_SIZE = 8  # the seed's hand-made patients come first; synthetic ones get no programme

# Most specific diagnosis → (slug, sessions per week) of the exercises prescribed.
PROGRAMMES: dict[str, list[tuple[str, int]]] = {
    "clbp": [
        ("abdominal-bracing", 7),
        ("bird-dog", 5),
        ("bridge", 5),
        ("cat-camel", 7),
        ("diaphragmatic-breathing", 7),
        ("brisk-walking", 5),
    ],
    "lumbar_radiculopathy": [("abdominal-bracing", 7), ("sciatic-slider-seated", 7), ("brisk-walking", 5)],
    "dpn": [("brisk-walking", 5), ("tibial-slider", 7), ("paced-breathing", 7)],
    "peroneal_entrapment": [("sciatic-slider-supine", 7), ("brisk-walking", 3)],
    "carpal_tunnel": [("median-slider", 7), ("paced-breathing", 7)],
    "crps": [("paced-breathing", 7), ("stationary-cycling", 3)],
}


def _uid(*parts: object) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts))


def _items(patient: Patient, library: dict[str, Exercise]) -> list[dict[str, Any]]:
    specific = next((code for code in patient.diagnoses if code != "clbp" and code in PROGRAMMES), "clbp")
    items = []
    for slug, per_week in PROGRAMMES.get(specific, []):
        exercise = library[slug]
        items.append(
            {
                "exercise": exercise.pk,
                "sets": exercise.sets,
                "reps": exercise.reps,
                "hold_seconds": exercise.hold_seconds,
                "rest_seconds": exercise.rest_seconds,
                "sessions_per_week": per_week,
                "progression_note": "Add 2 repetitions a week while pain stays settled." if per_week >= 5 else "",
            }
        )
    return items


def _logs(actor: Actor, patient: Patient, plan: RehabPlan, today: dt.date) -> None:
    items = list(ProgrammeItem.objects.filter(component__plan=plan).select_related("exercise").order_by("order"))
    day = plan.start_date
    while day < today:
        for index, item in enumerate(items):
            flare = index == 1 and (today - day).days == 3  # the second exercise flared pain once
            skipped = index == len(items) - 1 and (day.toordinal() % 4) != 0  # the last one mostly skipped
            planned = weekly_pattern(item.sessions_per_week)[day.weekday()]
            if not flare and (not planned or skipped or (patient.pk + day.toordinal() + index) % 7 == 0):
                continue
            exercise_log_record(
                actor=actor,
                patient=patient,
                item_id=item.pk,
                date=day,
                sets_done=item.sets,
                pain_after=9 if flare else 3 + (day.toordinal() + index) % 2,
                difficulty="too_hard" if flare else ("right" if day.toordinal() % 5 else "too_easy"),
                client_uuid=_uid("log", patient.pk, item.pk, day),
            )
        day += dt.timedelta(days=1)


def seed(clinic: Clinic) -> None:
    exercise_library_install(actor=Actor.system("seed_demo"), clinic=clinic)
    library = {e.slug: e for e in Exercise.objects.filter(clinic=clinic, is_active=True)}
    for patient in Patient.objects.filter(clinic=clinic, is_active=True).order_by("id")[:COHORT_SIZE]:
        current = RehabPlan.objects.filter(patient=patient).order_by("-version").first()
        if current is None or ProgrammeItem.objects.filter(component__plan__patient=patient).exists():
            continue
        items = _items(patient, library)
        if not items:
            continue
        member = CareTeamMember.objects.filter(patient=patient).select_related("user").order_by("-is_primary").first()
        actor = Actor(user=member.user, path="seed_demo") if member else Actor.system("seed_demo")
        today = patient_today(patient)
        start = today - dt.timedelta(days=PROGRAMME_AGE_DAYS)
        plan = programme_set(
            actor=actor,
            patient=patient,
            expected_version=current.version,
            reason="Home exercise programme from the clinic library, reviewed with the patient.",
            items=items,
            now=dt.datetime.combine(start, dt.time(9), tzinfo=dt.UTC),
        )
        _logs(Actor(user=patient.user, path="seed_demo") if patient.user else actor, patient, plan, today)
