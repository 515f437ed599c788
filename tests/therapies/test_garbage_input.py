"""Whatever a client sends in any field, the answer is a 4xx naming a field, never a 500."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.therapies.params import component, plan_body, session_body

GARBAGE: list[Any] = [
    None,
    True,
    0,
    -1,
    10**400,
    1e308,
    1.5,
    "",
    "x",
    "2026-13-45T99:00:00+08:00",
    "\x00",
    [],
    [1],
    {},
    {"a": 1},
]


def _bodies(plan_component_id: int) -> dict[str, dict[str, Any]]:
    return {
        "plan/": plan_body(component("tdcs")),
        "sessions/": session_body(),
        "home-exercise/": {
            "component": plan_component_id,
            "done": True,
            "minutes": 20,
            "note": "",
            "client_uuid": "6f1c1f0e-8c1b-4bb8-9a57-3c1f1b0de2a1",
        },
        "drez-referral/": {
            "decision": "defer",
            "course_months": 6,
            "vas_mm": 60,
            "age_years": 50,
            "first_line_drugs_tried": True,
            "phq9_assessed": True,
            "gad7_assessed": True,
            "contraindications": [],
            "follow_ups": {},
        },
    }


@pytest.mark.parametrize("suffix", ["plan/", "sessions/", "home-exercise/", "drez-referral/"])
def test_no_field_value_causes_a_500(therapist_client, patient, suffix):
    plan = therapist_client.post(
        f"/api/v1/patients/{patient.pk}/plan/", plan_body(component("exercise")), format="json"
    ).json()
    body = _bodies(plan["components"][0]["id"])[suffix]
    targets: list[tuple[str, ...]] = [(key,) for key in body]
    if suffix == "plan/":
        targets += [("components", key) for key in body["components"][0]]
        targets += [("components", "parameters", key) for key in body["components"][0]["parameters"]]
    elif suffix == "sessions/":
        targets += [("parameters", key) for key in body["parameters"]]
    for target in targets:
        for value in GARBAGE:
            sent = _with(body, target, value)
            response = therapist_client.post(f"/api/v1/patients/{patient.pk}/{suffix}", sent, format="json")
            assert response.status_code < 500, (target, value, response.content[:300])
            if response.status_code == 400:
                assert response.json(), (target, value)


def _with(body: dict[str, Any], target: tuple[str, ...], value: Any) -> dict[str, Any]:
    sent = copy.deepcopy(body)
    if len(target) == 1:
        sent[target[0]] = value
    elif target[0] == "components":
        node = sent["components"][0]
        if len(target) == 3:
            node["parameters"][target[2]] = value
        else:
            node[target[1]] = value
    else:
        sent[target[0]][target[1]] = value
    return sent
