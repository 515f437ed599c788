"""rTMS target side over the API: the plan carries the hemisphere, M1 goes opposite one-sided
pain (Lefaucheur 2020, Level A), another side needs an override reason, bilateral or midline
pain leaves the side to the therapist, and every error names the field."""

from __future__ import annotations

import importlib
from typing import Any

import pytest

from tests.factories import make_patient
from tests.therapies.params import BASE, component, plan_body, session_body
from therapies.models import PlanComponent, RehabPlan, TherapySession

M1 = {**BASE["rtms"], "site": "M1"}
REASON = "Ipsilateral M1 responded in the previous course (NRS 7 -> 3); patient prefers it"


def _rtms(hemisphere: str | None, **overrides: Any) -> dict[str, Any]:
    params = {**M1, "hemisphere": hemisphere}
    if hemisphere is None:
        del params["hemisphere"]
    return component("rtms", parameters=params, **overrides)


def _prescribed_session(component_id: int) -> dict[str, Any]:
    """A session of a plan component, parameters left out: delivered as prescribed."""
    body = session_body("rtms", component=component_id)
    del body["parameters"], body["modality"]
    return body


def _post_plan(client: Any, patient: Any, *components: dict[str, Any], version: int | None = None) -> Any:
    return client.post(f"/api/v1/patients/{patient.pk}/plan/", plan_body(*components, version=version), format="json")


def test_plan_carries_the_hemisphere_both_ways(therapist_client, patient):
    assert patient.affected_side == "left"
    created = _post_plan(therapist_client, patient, _rtms("right"))
    assert created.status_code == 201, created.content
    [posted] = created.json()["central"]
    assert posted["parameters"]["hemisphere"] == "right"
    assert posted["overridden_limits"] == []
    fetched = therapist_client.get(f"/api/v1/patients/{patient.pk}/plan/").json()
    assert fetched["components"][0]["parameters"] == {
        "site": "M1",
        "hemisphere": "right",
        "frequency_hz": 10.0,
        "intensity_pct_rmt": 80.0,
        "pulses": 1500,
        "contraindication_screen_done": True,
    }
    assert PlanComponent.objects.get(plan__patient=patient).parameters["hemisphere"] == "right"


def test_missing_hemisphere_is_400_naming_the_field(therapist_client, patient):
    response = _post_plan(therapist_client, patient, component("exercise"), _rtms(None))
    assert response.status_code == 400
    assert response.json() == {"components": {"1": {"parameters": {"hemisphere": ["hemisphere is required"]}}}}
    assert not RehabPlan.objects.filter(patient=patient).exists()


@pytest.mark.parametrize("bad", ["Left", "both", "", 1, True, ["left"]])
def test_bad_hemisphere_is_400_naming_the_field(therapist_client, patient, bad):
    params = {**M1, "hemisphere": bad}
    response = _post_plan(therapist_client, patient, component("rtms", parameters=params))
    assert response.status_code == 400
    errors = response.json()["components"]["0"]["parameters"]
    assert list(errors) == ["hemisphere"]
    assert "left, right, bilateral, midline" in errors["hemisphere"][0]
    assert not RehabPlan.objects.filter(patient=patient).exists()


def test_same_side_needs_a_reason_and_names_the_field_and_source(therapist_client, patient):
    refused = _post_plan(therapist_client, patient, _rtms("left"))
    assert refused.status_code == 400
    errors = refused.json()["components"]["0"]
    [message] = errors["parameters"]["hemisphere"]
    assert "left-sided" in message
    assert "must be 'right'" in message
    assert "Lefaucheur et al. 2020" in message
    assert "m1_contralateral" in errors["override_reason"][0]
    assert not RehabPlan.objects.filter(patient=patient).exists()

    accepted = _post_plan(therapist_client, patient, _rtms("left", override_reason=REASON))
    assert accepted.status_code == 201, accepted.content
    [row] = accepted.json()["central"]
    assert row["overridden_limits"] == ["m1_contralateral"]
    assert row["override_reason"] == REASON
    stored = PlanComponent.objects.get(plan__patient=patient)
    assert (stored.parameters["hemisphere"], stored.overridden_limits) == ("left", ["m1_contralateral"])


@pytest.mark.parametrize("hemisphere", ["bilateral", "midline"])
def test_bilateral_or_midline_target_for_one_sided_pain_needs_a_reason(therapist_client, patient, hemisphere):
    response = _post_plan(therapist_client, patient, _rtms(hemisphere))
    assert response.status_code == 400
    assert "hemisphere" in response.json()["components"]["0"]["parameters"]


@pytest.mark.parametrize("side", ["bilateral", "none"])
@pytest.mark.parametrize("hemisphere", ["left", "right", "bilateral", "midline"])
def test_without_one_sided_pain_the_side_is_a_documented_choice(therapist_client, therapist, clinic, side, hemisphere):
    axial = make_patient(clinic, therapists=(therapist,), affected_side=side)
    response = _post_plan(therapist_client, axial, _rtms(hemisphere))
    assert response.status_code == 201, response.content
    [row] = response.json()["central"]
    assert row["parameters"]["hemisphere"] == hemisphere  # recorded as chosen
    assert row["overridden_limits"] == []
    assert row["override_reason"] == ""


def test_right_sided_pain_goes_left(therapist_client, therapist, clinic):
    right = make_patient(clinic, therapists=(therapist,), affected_side="right")
    assert _post_plan(therapist_client, right, _rtms("left")).status_code == 201
    refused = _post_plan(therapist_client, right, _rtms("right"), version=1)
    assert refused.status_code == 400
    assert "must be 'left'" in refused.json()["components"]["0"]["parameters"]["hemisphere"][0]


def test_left_dlpfc_must_be_left_and_cannot_be_overridden(therapist_client, patient):
    params = {**BASE["rtms"], "hemisphere": "right"}
    response = _post_plan(therapist_client, patient, component("rtms", parameters=params, override_reason=REASON))
    assert response.status_code == 400
    assert "left DLPFC" in response.json()["components"]["0"]["parameters"]["hemisphere"][0]
    # The contralateral rule is for M1 only: the left DLPFC stays left with left-sided pain.
    ok = _post_plan(therapist_client, patient, component("rtms", parameters={**BASE["rtms"], "hemisphere": "left"}))
    assert ok.status_code == 201, ok.content


def test_session_same_side_needs_a_reason_or_the_plans_override(therapist_client, patient):
    url = f"/api/v1/patients/{patient.pk}/sessions/"
    refused = therapist_client.post(url, session_body("rtms", parameters={**M1, "hemisphere": "left"}), format="json")
    assert refused.status_code == 400
    assert "hemisphere" in refused.json()["parameters"]
    opposite = therapist_client.post(url, session_body("rtms", parameters={**M1, "hemisphere": "right"}), format="json")
    assert opposite.status_code == 201, opposite.content

    plan = _post_plan(therapist_client, patient, _rtms("left", override_reason=REASON))
    component_id = plan.json()["central"][0]["id"]
    inherited = therapist_client.post(url, _prescribed_session(component_id), format="json")
    assert inherited.status_code == 201, inherited.content
    session = TherapySession.objects.get(pk=inherited.json()["id"])
    assert session.parameters["hemisphere"] == "left"
    assert session.overridden_limits == ["m1_contralateral"]
    assert session.override_reason.endswith(REASON)


def test_legacy_m1_component_without_a_side_asks_for_it(therapist_client, therapist, patient):
    """A component stored before the side was recorded: sessions and the next version ask for it."""
    from patients.audit import Actor
    from therapies.services import plan_version_create

    plan = plan_version_create(
        actor=Actor(user=therapist),
        patient=patient,
        expected_version=0,
        reason="start",
        components=[component("rtms", parameters={**M1, "hemisphere": "right"})],
    )
    legacy = plan.components.get()
    legacy.parameters = {k: v for k, v in legacy.parameters.items() if k != "hemisphere"}
    legacy.save(update_fields=["parameters"])
    url = f"/api/v1/patients/{patient.pk}/sessions/"
    response = therapist_client.post(url, _prescribed_session(legacy.pk), format="json")
    assert response.status_code == 400
    assert response.json()["parameters"] == {"hemisphere": ["hemisphere is required"]}
    again = _post_plan(
        therapist_client,
        patient,
        {**component("rtms", parameters=legacy.parameters)},
        component("exercise"),
        version=1,
    )
    assert again.status_code == 400
    assert "hemisphere" in again.json()["components"]["0"]["parameters"]


def test_catalogue_lists_the_side_rule(therapist_client):
    [rtms] = [m for m in therapist_client.get("/api/v1/modalities/").json() if m["code"] == "rtms"]
    [hemisphere] = [p for p in rtms["params"] if p["key"] == "hemisphere"]
    assert [c["value"] for c in hemisphere["choices"]] == ["left", "right", "bilateral", "midline"]
    assert hemisphere["required"] is True
    [rule] = [limit for limit in rtms["limits"] if limit["code"] == "m1_contralateral"]
    assert rule["opposite_to"] == "affected_side"
    assert "Level A" in rule["source"]
    caps = [limit for limit in rtms["limits"] if limit["code"] in ("frequency", "intensity", "pulses")]
    assert all(limit["source"].startswith("Clinic policy") for limit in caps)
    assert "fibromyalgia" in rtms["evidence"]["en"]


@pytest.mark.django_db
def test_migration_records_the_left_dlpfc_side_only(patient):
    migration = importlib.import_module("therapies.migrations.0002_rtms_target_hemisphere")
    plan = RehabPlan.objects.create(patient=patient, version=1, reason="legacy", start_date="2026-01-05")
    rows = [
        PlanComponent.objects.create(
            plan=plan,
            order=index,
            modality="rtms",
            layer="central",
            parameters={"site": site, "frequency_hz": 10.0},
            frequency_per_week=5,
            duration_weeks=2,
            sessions_prescribed=10,
        )
        for index, site in enumerate(("left_DLPFC", "M1", "other"))
    ]

    class Apps:
        @staticmethod
        def get_model(app: str, name: str) -> Any:
            return importlib.import_module(f"{app}.models").__dict__[name]

    migration.record_left_dlpfc_hemisphere(Apps(), None)
    dlpfc, m1, other = (PlanComponent.objects.get(pk=row.pk).parameters for row in rows)
    assert dlpfc == {"site": "left_DLPFC", "hemisphere": "left", "frequency_hz": 10.0}
    assert list(dlpfc) == ["site", "hemisphere", "frequency_hz"]
    assert "hemisphere" not in m1  # which side was stimulated cannot be known: not invented
    assert "hemisphere" not in other
