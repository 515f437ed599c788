"""GAD-7 difficulty follow-up over the API: optional, 0-3, stored beside the items, not summed."""

from __future__ import annotations

import datetime as dt
import uuid

from django.utils import timezone


def test_gad7_difficulty_over_the_api(patient_client, patient):
    answers = {f"item{n}": 1 for n in range(1, 8)}
    response = patient_client.post(
        f"/api/v1/patients/{patient.pk}/assessments/",
        {
            "instrument": "gad7",
            "answers": {**answers, "difficulty": 3},
            "recorded_at": (timezone.now() - dt.timedelta(minutes=5)).isoformat(),
            "client_uuid": str(uuid.uuid4()),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert (response.json()["total"], response.json()["band"]) == (7.0, "mild")  # difficulty not summed
    assert response.json()["answers"]["difficulty"] == 3
    bad = patient_client.post(
        f"/api/v1/patients/{patient.pk}/assessments/",
        {
            "instrument": "gad7",
            "answers": {**answers, "difficulty": 4},
            "recorded_at": (timezone.now() - dt.timedelta(minutes=5)).isoformat(),
            "client_uuid": str(uuid.uuid4()),
        },
        format="json",
    )
    assert bad.status_code == 400
    assert list(bad.json()["answers"]) == ["difficulty"]
    [gad7] = [i for i in patient_client.get("/api/v1/instruments/").json() if i["code"] == "gad7"]
    assert gad7["items"][-1]["key"] == "difficulty"
    assert gad7["items"][-1]["required"] is False
