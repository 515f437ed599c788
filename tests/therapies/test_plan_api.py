"""Plans over the API: contract shape, versioning (compare-and-set), bad input, access, queries."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from patients.models import AuditEvent
from tests.factories import make_staff
from tests.therapies.params import BASE, component, plan_body, session_body
from therapies.models import PlanComponent, RehabPlan


def _patient_today(patient: Any) -> dt.date:
    return dt.datetime.now(zoneinfo.ZoneInfo(patient.time_zone)).date()


def url(patient: Any, suffix: str = "plan/") -> str:
    return f"/api/v1/patients/{patient.pk}/{suffix}"


def create(client: Any, patient: Any, *components: dict[str, Any], version: int | None = None, **extra: Any) -> Any:
    response = client.post(url(patient), plan_body(*components, version=version, **extra), format="json")
    assert response.status_code == 201, response.content
    return response


def test_no_plan_yet_is_404_with_a_clear_message(therapist_client, patient):
    response = therapist_client.get(url(patient))
    assert response.status_code == 404
    assert "no rehab plan yet" in response.json()["detail"]
    assert response.json()["code"] == "no_plan"


def test_first_version_contract(therapist_client, therapist, patient):
    body = plan_body(
        component("tdcs", notes="anodal M1"),
        component("exercise", frequency_per_week=3, duration_weeks=8),
        reason="Baseline: CLBP, NRS 7",
        start_date=(_patient_today(patient) - dt.timedelta(days=3)).isoformat(),
    )
    response = therapist_client.post(url(patient), body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert set(data) >= {
        "id",
        "version",
        "reason",
        "author",
        "created_at",
        "start_date",
        "components",
        "central",
        "peripheral",
        "adherence",
    }
    assert data["version"] == 1
    assert data["reason"] == "Baseline: CLBP, NRS 7"
    assert data["author"] == therapist.pk
    assert data["start_date"] == body["start_date"]
    assert [c["modality"] for c in data["components"]] == ["tdcs", "exercise"]
    assert [c["modality"] for c in data["central"]] == ["tdcs"]
    assert [c["modality"] for c in data["peripheral"]] == ["exercise"]
    tdcs, exercise = data["components"]
    assert tdcs["layer"] == "central"
    assert exercise["layer"] == "peripheral"
    assert tdcs["name"]["zh-hans"].startswith("经颅直流电刺激")
    assert tdcs["parameters"]["current_ma"] == 2.0
    assert tdcs["derived"] == {"current_density_ma_cm2": pytest.approx(2 / 35), "charge_c": 2.4}
    assert tdcs["sessions_prescribed"] == 10
    assert exercise["sessions_prescribed"] == 24
    assert tdcs["week_pattern"] == [1, 1, 1, 1, 1, 0, 0]
    assert exercise["week_pattern"] == [1, 0, 1, 0, 1, 0, 0]
    assert tdcs["notes"] == "anodal M1"
    assert tdcs["overridden_limits"] == []
    assert tdcs["override_reason"] == ""
    assert set(data["adherence"]["components"]) == {str(tdcs["id"]), str(exercise["id"])}
    event = AuditEvent.objects.get(action="plan.create")
    assert event.patient_id == patient.pk
    assert event.detail["version"] == 1
    assert therapist_client.get(url(patient)).json() == data


def test_start_date_defaults_to_the_patients_today(therapist_client, patient):
    data = create(therapist_client, patient).json()
    assert data["start_date"] == _patient_today(patient).isoformat()
    assert data["start_date"] == RehabPlan.objects.get().start_date.isoformat()


@pytest.mark.parametrize("first", [None, 0])
def test_first_version_accepts_null_or_zero(therapist_client, patient, first):
    assert create(therapist_client, patient, version=first).json()["version"] == 1


def test_new_version_keeps_history(therapist_client, patient):
    create(therapist_client, patient, component("tdcs"))
    v2 = create(
        therapist_client, patient, component("rtms"), component("exercise"), version=1, reason="rTMS instead of tDCS"
    ).json()
    assert v2["version"] == 2
    current = therapist_client.get(url(patient)).json()
    assert current["version"] == 2
    assert [c["modality"] for c in current["components"]] == ["rtms", "exercise"]
    history = therapist_client.get(url(patient, "plan/versions/")).json()
    assert [p["version"] for p in history["results"]] == [2, 1]
    assert [c["modality"] for c in history["results"][1]["components"]] == ["tdcs"]
    assert history["results"][0]["reason"] == "rTMS instead of tDCS"


@pytest.mark.parametrize("stale", [None, 0, 1, 3])
def test_stale_or_wrong_version_is_409_and_nothing_is_lost(therapist_client, patient, stale):
    create(therapist_client, patient, component("tdcs"))
    create(therapist_client, patient, component("exercise"), version=1)
    before = list(PlanComponent.objects.values_list("plan__version", "modality", "parameters"))
    events = AuditEvent.objects.filter(action="plan.create").count()
    response = therapist_client.post(url(patient), plan_body(component("rtms"), version=stale), format="json")
    assert response.status_code == 409
    body = response.json()
    assert "version" in body
    assert "version 2" in body["version"][0]
    assert body["current_version"] == ["2"]
    assert list(PlanComponent.objects.values_list("plan__version", "modality", "parameters")) == before
    assert RehabPlan.objects.filter(patient=patient).count() == 2
    assert AuditEvent.objects.filter(action="plan.create").count() == events
    assert therapist_client.get(url(patient)).json()["components"][0]["modality"] == "exercise"


def test_versions_are_per_patient(therapist_client, therapist, patient, clinic):
    from tests.factories import make_patient

    second = make_patient(clinic, therapists=(therapist,))
    create(therapist_client, patient)
    assert create(therapist_client, second).json()["version"] == 1


def test_an_empty_plan_is_a_valid_version(therapist_client, patient):
    create(therapist_client, patient)
    response = therapist_client.post(
        url(patient), {"version": 1, "reason": "All therapy paused: surgery", "components": []}, format="json"
    )
    assert response.status_code == 201
    data = response.json()
    assert data["components"] == []
    assert data["central"] == []
    assert data["peripheral"] == []
    assert data["adherence"]["percent"] is None


def _tdcs(**params: Any) -> dict[str, Any]:
    return component("tdcs", parameters={**BASE["tdcs"], **params})


BAD = [
    ({"reason": None}, ["reason"]),
    ({"reason": "   "}, ["reason"]),
    ({"reason": 5}, ["reason"]),
    ({"components": "tdcs"}, ["components"]),
    ({"components": ["tdcs"]}, ["components", "0", "non_field_errors"]),
    ({"components": [{**component("tdcs"), "modality": "ect"}]}, ["components", "0", "modality"]),
    ({"components": [{**component("tdcs"), "modality": None}]}, ["components", "0", "modality"]),
    ({"components": [component("tdcs", parameters=[2, 20])]}, ["components", "0", "parameters"]),
    ({"components": [component("tdcs", parameters="2 mA")]}, ["components", "0", "parameters"]),
    ({"components": [_tdcs(current_ma="2")]}, ["components", "0", "parameters", "current_ma"]),
    ({"components": [_tdcs(current_ma=True)]}, ["components", "0", "parameters", "current_ma"]),
    ({"components": [_tdcs(current_ma=0)]}, ["components", "0", "parameters", "current_ma"]),
    ({"components": [_tdcs(current_ma=11)]}, ["components", "0", "parameters", "current_ma"]),
    ({"components": [_tdcs(anode_site="cerebellum")]}, ["components", "0", "parameters", "anode_site"]),
    ({"components": [_tdcs(ampere=2)]}, ["components", "0", "parameters", "ampere"]),
    (
        {"components": [component("tdcs", parameters={"current_ma": 2})]},
        ["components", "0", "parameters", "anode_site"],
    ),
    ({"components": [component(frequency_per_week=True)]}, ["components", "0", "frequency_per_week"]),
    ({"components": [component(frequency_per_week="5")]}, ["components", "0", "frequency_per_week"]),
    ({"components": [component(frequency_per_week=2.5)]}, ["components", "0", "frequency_per_week"]),
    ({"components": [component(frequency_per_week=15)]}, ["components", "0", "frequency_per_week"]),
    ({"components": [component(frequency_per_week=-1)]}, ["components", "0", "frequency_per_week"]),
    ({"components": [component(duration_weeks=0)]}, ["components", "0", "duration_weeks"]),
    ({"components": [component(duration_weeks=None)]}, ["components", "0", "duration_weeks"]),
    ({"components": [component(override_reason=["x"])]}, ["components", "0", "override_reason"]),
    ({"components": [component("exercise"), _tdcs(current_ma="x")]}, ["components", "1", "parameters", "current_ma"]),
    (
        {
            "components": [
                component(
                    "rtms", parameters={**BASE["rtms"], "contraindication_screen_done": False}, override_reason="urgent"
                )
            ]
        },
        ["components", "0", "parameters", "contraindication_screen_done"],
    ),
    ({"version": "0"}, ["version"]),
    ({"version": True}, ["version"]),
    ({"version": -1}, ["version"]),
    ({"start_date": "2026-13-01"}, ["start_date"]),
    ({"start_date": "2099-01-01"}, ["start_date"]),
    ({"start_date": 20260301}, ["start_date"]),
]


@pytest.mark.parametrize(("change", "path"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_input_is_400_naming_the_field(therapist_client, patient, change, path):
    body = {**plan_body(), **change}
    response = therapist_client.post(url(patient), body, format="json")
    assert response.status_code == 400, response.content
    node: Any = response.json()
    for key in path:
        assert key in node, (path, response.json())
        node = node[key]
    assert node
    assert not RehabPlan.objects.exists()


@pytest.mark.parametrize("payload", [[], "plan", 7, None])
def test_body_not_an_object_is_400(therapist_client, patient, payload):
    response = therapist_client.post(url(patient), payload, format="json")
    assert response.status_code == 400
    assert not RehabPlan.objects.exists()


def test_only_the_care_team_therapist_writes_plans(api_client_for, patient, clinic, manager, other_patient):
    body = plan_body()
    for user in (
        patient.user,
        manager,
        make_staff(clinic, "therapist"),
        other_patient.user,
        make_staff(clinic, "admin"),
    ):
        response = api_client_for(user).post(url(patient), body, format="json")
        assert response.status_code == 404, user
    assert not RehabPlan.objects.exists()


def test_who_reads_the_plan(api_client_for, therapist_client, patient, manager, other_patient, foreign_patient, clinic):
    create(therapist_client, patient)
    assert api_client_for(patient.user).get(url(patient)).status_code == 200
    assert api_client_for(manager).get(url(patient)).status_code == 200
    assert api_client_for(other_patient.user).get(url(patient)).status_code == 404
    assert api_client_for(make_staff(clinic, "therapist")).get(url(patient)).status_code == 404
    assert therapist_client.get(url(foreign_patient)).status_code == 404
    assert api_client_for(None).get(url(patient)).status_code == 401


def test_reading_the_plan_is_audited(api_client_for, therapist_client, patient):
    create(therapist_client, patient)
    api_client_for(patient.user).get(url(patient))
    event = AuditEvent.objects.filter(object_type="rehab_plan", actor_id=patient.user.pk).get()
    assert event.action == "view"
    assert event.patient_id == patient.pk


def _plan_with(client: Any, patient: Any, n: int) -> None:
    modalities = ["tdcs", "rtms", "exercise", "tens", "manual_therapy", "physical_agents"][:n]
    data = create(client, patient, *(component(m) for m in modalities)).json()
    for c in data["components"][:2]:
        client.post(url(patient, "sessions/"), session_body(c["modality"], component=c["id"]), format="json")


def test_plan_get_query_count_is_pinned(therapist_client, patient, django_assert_max_num_queries):
    _plan_with(therapist_client, patient, 6)
    # token+user, own patient, memberships, patient (access), audit insert, plan (+author),
    # components, sessions, home logs.
    with django_assert_max_num_queries(9):
        response = therapist_client.get(url(patient))
    assert response.status_code == 200
    assert len(response.json()["components"]) == 6


def test_plan_get_queries_do_not_grow_with_components(therapist_client, therapist, clinic, patient):
    from tests.factories import make_patient

    big = make_patient(clinic, therapists=(therapist,))
    _plan_with(therapist_client, patient, 1)
    _plan_with(therapist_client, big, 6)
    counts = []
    for who in (patient, big):
        with CaptureQueriesContext(connection) as ctx:
            assert therapist_client.get(url(who)).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_versions_query_count_does_not_grow(therapist_client, patient, django_assert_max_num_queries):
    for version in range(5):
        create(therapist_client, patient, component("tdcs"), component("exercise"), version=version)
    # the five access/audit queries, count, plans (+author), components.
    with django_assert_max_num_queries(8):
        response = therapist_client.get(url(patient, "plan/versions/"))
    assert response.json()["count"] == 5


def test_modalities_catalogue(therapist_client, patient_client):
    for client in (therapist_client, patient_client):
        data = client.get("/api/v1/modalities/").json()
        codes = [m["code"] for m in data]
        assert "tdcs" in codes
        assert "drez_referral" in codes
        tdcs = next(m for m in data if m["code"] == "tdcs")
        assert tdcs["layer"] == "central"
        assert tdcs["name"]["zh-hans"]
        assert tdcs["name"]["en"]
        assert {lim["code"] for lim in tdcs["limits"]} == {"current", "duration", "charge", "current_density"}
        assert next(m for m in data if m["code"] == "exercise")["home_loggable"] is True


def test_modalities_need_login(api_client_for, db):
    assert api_client_for(None).get("/api/v1/modalities/").status_code == 401


def test_schema_includes_the_therapy_endpoints(therapist_client):
    response = therapist_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    text = response.content.decode()
    for path in (
        "/api/v1/patients/{patient_id}/plan/",
        "/api/v1/patients/{patient_id}/sessions/",
        "/api/v1/modalities/",
    ):
        assert path in text


def test_uuid_field_never_500(therapist_client, patient):
    create(therapist_client, patient)
    body = session_body(client_uuid="not-a-uuid")
    response = therapist_client.post(url(patient, "sessions/"), body, format="json")
    assert response.status_code == 400
    assert "client_uuid" in response.json()
    body = session_body(client_uuid=str(uuid.uuid4()), component="1")
    assert therapist_client.post(url(patient, "sessions/"), body, format="json").status_code == 400
