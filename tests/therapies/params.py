"""Valid, within-limit parameters for every modality, and request-body builders."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

# One valid parameter set per modality, every value inside its safety limits.
BASE: dict[str, dict[str, Any]] = {
    "tdcs": {
        "anode_site": "M1",
        "cathode_site": "contralateral_supraorbital",
        "current_ma": 2,
        "duration_min": 20,
        "electrode_cm2": 35,
    },
    "rtms": {
        "site": "left_DLPFC",
        "hemisphere": "left",
        "frequency_hz": 10,
        "intensity_pct_rmt": 80,
        "pulses": 1500,
        "contraindication_screen_done": True,
    },
    "exercise": {"type": "core_stabilisation", "sets": 3, "reps": 10, "minutes": 30, "rpe": 13, "sessions_per_week": 3},
    "manual_therapy": {"technique": "mobilisation", "region": "L4-L5", "minutes": 20},
    "acupuncture": {"style": "wrist_ankle", "points": "lower 5, lower 6", "needles": 4, "minutes": 30},
    "tens": {"mode": "conventional", "frequency_hz": 100, "pulse_width_us": 100, "intensity_ma": 20, "minutes": 30},
    "pns": {
        "term": "short_term",
        "target": "peripheral_nerve",
        "nerve": "common peroneal",
        "frequency_hz": 50,
        "pulse_width_us": 100,
        "amplitude_ma": 2,
    },
    "hydrodissection": {
        "nerve": "common peroneal",
        "guidance": "ultrasound",
        "injectate": "dextrose_5pct",
        "volume_ml": 5,
        "injection_number": 1,
    },
    "physical_agents": {"agent": "heat", "minutes": 20},
    "medication": {"drug": "pregabalin", "daily_dose_mg": 150, "response": "partial"},
    "drez_referral": {
        "course_months": 12,
        "vas_mm": 70,
        "age_years": 45,
        "first_line_drugs_tried": True,
        "phq9_assessed": True,
        "gad7_assessed": True,
        "contraindications": "",
    },
}

# Derived limits need hand-computed doses: (at the limit, just above it).
DERIVED_CASES: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]] = {
    # 3 mA x 40 min x 60 / 1000 = 7.2 C; 3.01 mA -> 7.224 C.
    ("tdcs", "charge"): ({"current_ma": 3, "duration_min": 40}, {"current_ma": 3.01, "duration_min": 40}),
    # 2 mA / 20 cm2 = 0.1 mA/cm2; 2 mA / 19.9 cm2 = 0.1005 mA/cm2.
    ("tdcs", "current_density"): ({"electrode_cm2": 20}, {"electrode_cm2": 19.9}),
}


def component(modality: str = "tdcs", **overrides: Any) -> dict[str, Any]:
    body = {
        "modality": modality,
        "parameters": dict(BASE[modality]),
        "frequency_per_week": 5,
        "duration_weeks": 2,
        "override_reason": "",
        "notes": "",
    }
    body.update(overrides)
    return body


def plan_body(
    *components: dict[str, Any], version: int | None = None, reason: str = "Initial plan", **extra: Any
) -> dict[str, Any]:
    return {"version": version, "reason": reason, "components": list(components) or [component()], **extra}


def session_body(modality: str = "tdcs", **overrides: Any) -> dict[str, Any]:
    body = {
        "modality": modality,
        "delivered_at": (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(),
        "parameters": dict(BASE[modality]),
        "adverse_event": "none",
        "tolerance": "well",
        "client_uuid": str(uuid.uuid4()),
    }
    body.update(overrides)
    return body
