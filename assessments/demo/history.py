"""Demo cohort data: realistic pain, mood, disability, DN4 and thermal trajectories.

Demo data only (called by ``manage.py seed_demo``, which refuses outside the embedded install).
Every entry goes through :func:`assessments.capture.services.assessment_record`, so scores, flags,
alerts and audit events are exactly what real use would produce; client_uuids are derived
from (patient, instrument, day), so running the seed twice adds nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from assessments.capture.content_packs import content_pack_load
from assessments.capture.services import assessment_record
from assessments.models import ContentPack
from patients.audit import Actor
from patients.models import Clinic, Patient

DEMO_NAMESPACE = uuid.UUID("6b1f5a8e-3c59-4c2e-9d0e-8f7a3b2c1d00")
DEFAULT_WEEKS = 16

# Per patient name: (baseline NRS, final NRS) — responders, partial and non-responders.
TRAJECTORIES = {
    "Demo Patient": (7.0, 3.0),
    "Li Wei": (8.0, 6.5),
    "Zhang Min": (7.5, 2.5),
    "Wang Fang": (6.5, 6.0),
    "Chen Jie": (7.0, 3.5),
    "Maria Keller": (8.0, 4.5),
    "John Smith": (6.0, 6.5),
    "Liu Yang": (6.5, 2.0),
}


def _uuid(patient: Patient, instrument: str, day: int) -> uuid.UUID:
    return uuid.uuid5(DEMO_NAMESPACE, f"{patient.pk}:{instrument}:{day}")


def _start_date(patient: Patient, today: dt.date) -> dt.date:
    plan = getattr(patient, "plans", None)
    if plan is not None:
        first = plan.order_by("version").values_list("start_date", flat=True).first()
        if first:
            return first  # type: ignore[no-any-return]
    return today - dt.timedelta(weeks=DEFAULT_WEEKS)


PLACEHOLDER_PACKS = tuple(Path(__file__).with_name("packs").glob("*.placeholder.*.json"))


def seed_placeholder_packs(actor: Actor) -> None:
    """The demo offers the ODI with placeholder statements that say the clinic must load the
    licensed text; a clinic's own pack (any pack already loaded) is never replaced."""
    for path in sorted(PLACEHOLDER_PACKS):
        data = json.loads(path.read_text(encoding="utf-8"))
        if not ContentPack.objects.filter(instrument=data["instrument"], language=data["language"]).exists():
            content_pack_load(actor=actor, data=data)


def seed(clinic: Clinic) -> None:
    actor = Actor.system("seed_demo")
    now = timezone.now()
    seed_placeholder_packs(actor)
    for patient in Patient.objects.filter(clinic=clinic).order_by("id"):
        _seed_patient(actor, patient, now)


def _scale(
    rng: random.Random, items: int, mean: float, top: int, *, spread: float = 0.5, prefix: str = "item"
) -> dict[str, int | None]:
    """Answers to a questionnaire's items around ``mean``, clipped to 0..top."""
    return {f"{prefix}{i}": min(top, max(0, round(rng.gauss(mean, spread)))) for i in range(1, items + 1)}


_DN4_INTERVIEW = ("burning", "painful_cold", "electric_shocks", "tingling", "pins_and_needles", "numbness", "itching")


def _thermal_answers(rng: random.Random, progress: float, improving: bool, affected_side: str) -> dict[str, Any]:
    """A colder affected foot and calf that warm up as the patient improves."""
    delta = 1.8 * (1 - progress) if improving else 1.6
    affected = affected_side if affected_side in ("left", "right") else "left"
    base = 30.5 + rng.gauss(0, 0.3)
    rois = []
    for region in ("dorsum of foot", "lateral calf"):
        d = round(-(delta + rng.gauss(0, 0.2)), 1)
        left, right = (base + d, base) if affected == "left" else (base, base + d)
        rois.append({"region": region, "left_c": round(left, 1), "right_c": round(right, 1)})
    return {"rois": rois, "ambient_c": 23.0, "acclimatisation_min": 15, "affected_side": affected}


def _seed_patient(actor: Actor, patient: Patient, now: dt.datetime) -> None:
    rng = random.Random(f"{patient.display_name}")  # noqa: S311 - demo data, not security
    zone = ZoneInfo(patient.time_zone)
    today = now.astimezone(zone).date()
    start = _start_date(patient, today)
    days = (today - start).days
    baseline, final = TRAJECTORIES.get(patient.display_name, (6.5, 4.0))
    improving = final < baseline - 2
    neuropathic = patient.is_neuropathic
    radicular = "lumbar_radiculopathy" in patient.diagnoses

    def record(
        instrument: str, day: int, answers: Mapping[str, object], hour: int = 20, source: str = "patient"
    ) -> None:
        local = dt.datetime.combine(start + dt.timedelta(days=day), dt.time(hour, rng.randint(0, 59)), tzinfo=zone)
        when = min(local, now - dt.timedelta(minutes=1))
        assessment_record(
            actor=actor,
            patient=patient,
            instrument=instrument,
            answers=answers,
            recorded_at=when,
            client_uuid=_uuid(patient, instrument, day),
            source=source,
            now=min(when + dt.timedelta(minutes=2), now),
        )

    for day in range(days + 1):
        progress = min(day / max(days, 1), 1.0)
        expected = baseline + (final - baseline) * (1 - (1 - progress) ** 2)
        if rng.random() < 0.12:  # a missed diary day
            continue
        score = max(0, min(10, round(expected + rng.gauss(0, 0.8))))
        record("nrs", day, {"score": score, "recall": "average_24h"})
        if day % 14 == 0:
            mood = max(0.0, 1 - progress * (0.7 if improving else 0.1))
            record("phq9", day, _scale(rng, 8, 1.6 * mood, 3) | {"item9": 0})
            record("gad7", day, _scale(rng, 7, 1.4 * mood, 3))
            if not neuropathic or radicular:
                level = 2.6 * (1 - 0.55 * progress) if improving else 2.4
                record(
                    "odi", day, _scale(rng, 10, level, 5, spread=0.7, prefix="section") | {"section8": None}
                )  # often skipped
        if neuropathic and day % 28 == 0:
            record("dn4", day, {key: rng.random() < 0.75 - 0.4 * progress for key in _DN4_INTERVIEW})
        if (neuropathic or radicular) and day % 28 == 3:
            thermal = _thermal_answers(rng, progress, improving, patient.affected_side)
            record("thermal", day, thermal, hour=10, source="clinician")
    if patient.display_name == "Li Wei" and days >= 2:
        # One open safety alert for the console demo: PHQ-9 item 9 answered "several days".
        phq = {f"item{i}": 2 for i in range(1, 9)} | {"item9": 1}
        record("phq9", days - 1, phq, hour=21)
