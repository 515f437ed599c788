"""Demo data for the therapies app: a plan per demo patient, three weeks of sessions and logs.

Called by ``seed_demo`` (development only). Idempotent: a patient who already has a plan
is left alone, and every session and log carries a client_uuid derived from what it is,
so a rerun can never add a second copy. Everything goes through the services, so the
demo data obeys the same safety limits and audit rules as real data.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

from patients.audit import Actor
from patients.models import CareTeamMember, Clinic, Patient
from therapies import exercise_demo
from therapies.adherence import weekly_pattern
from therapies.modalities import opposite_side
from therapies.models import DrezReferral, RehabPlan
from therapies.services import (
    HOME_MODALITIES,
    drez_referral_create,
    home_exercise_log,
    patient_today,
    plan_version_create,
    session_record,
)

NAMESPACE = uuid.UUID("6f1c1f0e-8c1b-4bb8-9a57-3c1f1b0de2a1")
PLAN_AGE_DAYS = 84  # twelve weeks of follow-up: enough for responders to show


def _c(modality: str, parameters: dict[str, Any], frequency: int, weeks: int, **extra: Any) -> dict[str, Any]:
    return {
        "modality": modality,
        "parameters": parameters,
        "frequency_per_week": frequency,
        "duration_weeks": weeks,
        **extra,
    }


TDCS_M1 = {
    "anode_site": "M1",
    "cathode_site": "contralateral_supraorbital",
    "current_ma": 2,
    "duration_min": 20,
    "electrode_cm2": 35,
}
CORE = {"type": "core_stabilisation", "sets": 3, "reps": 10, "minutes": 30, "rpe": 12}

# Most specific diagnosis → the central–peripheral components a therapist would typically start with.
PLANS: dict[str, list[dict[str, Any]]] = {
    "clbp": [
        _c("tdcs", TDCS_M1, 5, 2, notes="Anodal M1 with postural training (grade A)."),
        _c("exercise", CORE, 5, 8),
        _c("manual_therapy", {"technique": "mobilisation", "region": "L4-S1", "minutes": 20}, 2, 4),
    ],
    "phn": [
        _c(
            "rtms",
            {
                "site": "M1",
                # Filled in per patient: the hemisphere opposite the painful side.
                "hemisphere": None,
                "frequency_hz": 10,
                "intensity_pct_rmt": 80,
                "pulses": 1500,
                "contraindication_screen_done": True,
            },
            5,
            2,
        ),
        _c("medication", {"drug": "pregabalin", "daily_dose_mg": 300}, 7, 8),
        _c(
            "tens",
            {"mode": "conventional", "frequency_hz": 100, "pulse_width_us": 100, "intensity_ma": 15, "minutes": 30},
            7,
            4,
        ),
    ],
    "dpn": [
        _c("medication", {"drug": "duloxetine", "daily_dose_mg": 60}, 7, 12),
        _c("exercise", {"type": "aerobic", "minutes": 30, "rpe": 12}, 3, 8),
        _c("acupuncture", {"style": "body", "points": "ST36, SP6", "needles": 8, "minutes": 30}, 2, 4),
    ],
    "peroneal_entrapment": [
        _c(
            "hydrodissection",
            {
                "nerve": "common peroneal",
                "guidance": "ultrasound",
                "injectate": "dextrose_5pct",
                "volume_ml": 5,
                "injection_number": 1,
            },
            1,
            1,
        ),
        _c("exercise", {"type": "other", "minutes": 20}, 5, 6, notes="Ankle dorsiflexion strengthening."),
    ],
    "crps": [
        _c("tdcs", TDCS_M1, 5, 2),
        _c("exercise", {"type": "postural_training", "minutes": 20, "rpe": 11}, 5, 6),
        _c("physical_agents", {"agent": "heat", "minutes": 15}, 3, 4),
    ],
    "carpal_tunnel": [
        _c(
            "hydrodissection",
            {
                "nerve": "median",
                "guidance": "ultrasound",
                "injectate": "dextrose_5pct",
                "volume_ml": 5,
                "injection_number": 1,
            },
            1,
            1,
        ),
        _c("acupuncture", {"style": "wrist_ankle", "points": "upper 1, upper 2", "needles": 4, "minutes": 30}, 2, 4),
    ],
}
PLANS["lumbar_radiculopathy"] = [
    *PLANS["clbp"],
    _c(
        "tens",
        {"mode": "conventional", "frequency_hz": 80, "pulse_width_us": 150, "intensity_ma": 20, "minutes": 30},
        7,
        4,
    ),
]
# One override on show: a long supervised circuit, above the 90 min clinic cap.
OVERRIDE_EXAMPLE = _c(
    "exercise",
    {"type": "aerobic", "minutes": 100, "rpe": 13},
    2,
    6,
    override_reason="Supervised circuit incl. 15 min warm-up and cool-down; tolerated in the previous course.",
)


def _local_at(patient: Patient, day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=zoneinfo.ZoneInfo(patient.time_zone))


def _uid(*parts: object) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts))


def components_for(patient: Patient) -> list[dict[str, Any]]:
    """The demo plan for this patient's diagnosis, rTMS aimed opposite the painful side."""
    specific = next((code for code in patient.diagnoses if code != "clbp" and code in PLANS), "clbp")
    components = [dict(c) for c in PLANS[specific]]
    for component in components:
        if component["modality"] == "rtms" and component["parameters"].get("hemisphere") is None:
            side = opposite_side(patient.affected_side) or "midline"
            component["parameters"] = {**component["parameters"], "hemisphere": side}
    if patient.display_name == "John Smith":
        components.append(dict(OVERRIDE_EXAMPLE))
    return components


def _seed_history(actor: Actor, patient: Patient, plan: RehabPlan, today: dt.date) -> None:
    """Sessions for clinic modalities and home logs for home ones, on the plan's week days."""
    for component in plan.components.all():
        pattern = weekly_pattern(component.frequency_per_week)
        last = min(today - dt.timedelta(days=1), plan.start_date + dt.timedelta(days=7 * component.duration_weeks - 1))
        day = plan.start_date
        while day <= last:
            if pattern[day.weekday()]:
                # A missed day now and then, so adherence is not a flat 100 %.
                missed = (patient.pk * 7 + day.toordinal()) % 6 == 0
                if component.modality in HOME_MODALITIES:
                    home_exercise_log(
                        actor=actor,
                        patient=patient,
                        component_id=component.pk,
                        date=day,
                        done=not missed,
                        minutes=None if missed else int(component.parameters.get("minutes", 20)),
                        client_uuid=_uid("home", patient.pk, plan.version, component.order, day),
                    )
                elif not missed:
                    mild = (patient.pk + day.toordinal()) % 11 == 0
                    session_record(
                        actor=actor,
                        patient=patient,
                        component_id=component.pk,
                        delivered_at=_local_at(patient, day, 10),
                        adverse_event="mild" if mild else "none",
                        adverse_event_note="Transient tingling under the electrode." if mild else "",
                        tolerance="fair" if mild else "well",
                        client_uuid=_uid("session", patient.pk, plan.version, component.order, day),
                    )
            day += dt.timedelta(days=1)


def seed(clinic: Clinic) -> None:
    """Give every demo patient without a plan a plan and three weeks of history."""
    for patient in Patient.objects.filter(clinic=clinic, is_active=True).order_by("id"):
        if RehabPlan.objects.filter(patient=patient).exists():
            continue
        member = (
            CareTeamMember.objects.filter(patient=patient).select_related("user").order_by("-is_primary", "id").first()
        )
        actor = Actor(user=member.user, path="seed_demo") if member else Actor.system("seed_demo")
        today = patient_today(patient)
        start = today - dt.timedelta(days=PLAN_AGE_DAYS)
        plan = plan_version_create(
            actor=actor,
            patient=patient,
            expected_version=0,
            reason="Initial central–peripheral plan after the baseline assessment.",
            components=components_for(patient),
            start_date=start,
            now=_local_at(patient, start, 9),
        )
        if patient.display_name == "Li Wei":
            # A second version two weeks in, to show the history and its reason.
            components = [
                {**c, "frequency_per_week": 3} if c["modality"] == "tdcs" else c for c in components_for(patient)
            ]
            plan = plan_version_create(
                actor=actor,
                patient=patient,
                expected_version=1,
                reason="Week-2 review: leg pain eased; tDCS down to 3 a week, home TENS continues.",
                components=components,
                start_date=start + dt.timedelta(days=14),
                now=_local_at(patient, start + dt.timedelta(days=14), 9),
            )
        _seed_history(actor, patient, plan, today)
        if "phn" in patient.diagnoses and not DrezReferral.objects.filter(patient=patient).exists():
            drez_referral_create(
                actor=actor,
                patient=patient,
                decision="defer",
                decision_note="Reassess after 8 weeks of pregabalin and rTMS.",
                inputs={
                    "course_months": 5,
                    "vas_mm": 65,
                    "first_line_drugs_tried": False,
                    "phq9_assessed": True,
                    "gad7_assessed": True,
                },
            )

    exercise_demo.seed(clinic)
