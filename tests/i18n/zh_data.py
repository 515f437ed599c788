"""A patient with something on every console screen, for the Chinese screen checks."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.utils import timezone

from assessments.capture.services import assessment_record
from assessments.models import Source
from patients.audit import Actor
from tests.therapies.params import BASE
from therapies.services import plan_version_create

DN4 = {
    "burning": True,
    "painful_cold": False,
    "electric_shocks": True,
    "tingling": True,
    "pins_and_needles": False,
    "numbness": True,
    "itching": False,
    "touch_hypoesthesia": True,
    "pinprick_hypoesthesia": False,
    "brushing": False,
}
TDCS = BASE["tdcs"]


def populate(therapist: Any, patient: Any) -> None:
    """NRS diary, PHQ-9 with item 9 (a safety alert), GAD-7, one DN4 and one thermal reading, a plan."""
    actor = Actor(user=therapist)
    now = timezone.now()

    def record(instrument: str, answers: dict[str, Any], days_ago: float, source: str = Source.PATIENT) -> None:
        assessment_record(
            actor=actor,
            patient=patient,
            instrument=instrument,
            answers=answers,
            recorded_at=now - dt.timedelta(days=days_ago),
            client_uuid=uuid.uuid4(),
            source=source,
        )

    for days_ago in range(40, 0, -1):
        record("nrs", {"score": 7 if days_ago > 25 else 4}, days_ago + 0.1)
    for days_ago, answer in ((35, 2), (10, 1)):
        record("phq9", {f"item{i}": answer for i in range(1, 10)}, days_ago)
        record("gad7", {f"item{i}": answer for i in range(1, 8)}, days_ago)
    record("dn4", DN4, 5, Source.CLINICIAN)
    record(
        "thermal",
        {
            "rois": [{"region": "L5 dorsum of foot", "left_c": 29.0, "right_c": 31.0}],
            "ambient_c": 22.0,
            "acclimatisation_min": 15,
            "affected_side": "left",
        },
        4,
        Source.CLINICIAN,
    )
    plan_version_create(
        actor=actor,
        patient=patient,
        expected_version=0,
        reason="开始治疗",
        start_date=(now - dt.timedelta(days=20)).date(),
        components=[
            {"modality": "tdcs", "parameters": TDCS, "frequency_per_week": 5, "duration_weeks": 4},
            {
                "modality": "medication",
                "parameters": {"drug": "pregabalin", "daily_dose_mg": 300},
                "frequency_per_week": 7,
                "duration_weeks": 8,
            },
        ],
    )
