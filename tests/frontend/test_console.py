"""Therapist console: access by role, the worklist's need rules and query budget, clinic
entry forms (thermal, DN4, sessions, plan), alert acknowledgement, audit."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessments.capture.services import assessment_record
from assessments.models import Alert, Assessment, DueItem, DueStatus, Source
from assessments.outcomes.worsening import worsening_evaluate
from patients.audit import Actor
from patients.models import AuditEvent
from tests.factories import make_patient, make_staff
from tests.factories import page_client as client_for
from tests.therapies.params import BASE

NOW = timezone.now()


def add(patient: Any, instrument: str, when: dt.datetime, total: float | None, **fields: Any) -> Assessment:
    """A stored assessment without the service (fast bulk set-up for read tests)."""
    return Assessment.objects.create(
        patient=patient,
        instrument=instrument,
        answers=fields.pop("answers", {}),
        total=total,
        recorded_at=when,
        client_uuid=uuid.uuid4(),
        **fields,
    )


def record(
    patient: Any,
    instrument: str,
    answers: dict[str, Any],
    *,
    when: dt.datetime | None = None,
    source: str = Source.PATIENT,
    user: Any = None,
) -> Assessment:
    return assessment_record(
        actor=Actor(user=user),
        patient=patient,
        instrument=instrument,
        answers=answers,
        recorded_at=when or timezone.now() - dt.timedelta(minutes=1),
        client_uuid=uuid.uuid4(),
        source=source,
    ).assessment


def nrs_days(patient: Any, scores_by_days_ago: dict[int, float]) -> None:
    for days_ago, score in scores_by_days_ago.items():
        add(
            patient,
            "nrs",
            NOW - dt.timedelta(days=days_ago, hours=1),
            score,
            answers={"score": score},
        )


def thermal_post(prefix: str = "th", **overrides: Any) -> dict[str, Any]:
    data = {
        "client_uuid": str(uuid.uuid4()),
        "recorded_at": "",
        "ambient_c": "22.5",
        "acclimatisation_min": "15",
        "affected_side": "left",
        "rows": "3",
        "region_0": "L5 dorsum of foot",
        "left_0": "30.1",
        "right_0": "31.6",
        "region_1": "",
        "left_1": "",
        "right_1": "",
        "region_2": "",
        "left_2": "",
        "right_2": "",
    }
    data.update(overrides)
    return {f"{prefix}-{key}": value for key, value in data.items()}


def worklist_ids(response: Any) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-patient="(\d+)"', response.content.decode())]


def needs_by_id(response: Any) -> dict[int, str]:
    return {
        int(pk): need
        for need, pk in re.findall(r'<tr class="row-(\w+)" data-patient="(\d+)"', response.content.decode())
    }


def figure(response: Any, name: str) -> dict[str, Any]:
    match = re.search(
        rf'<script type="application/json" id="fig-{name}">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    assert match, f"no figure {name}"
    return json.loads(match.group(1))


# -----------------------------------------------------------------------------
# Access by role
# -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_patient_page_for_each_role(therapist, manager, patient, other_clinic):
    url = f"/clinic/patients/{patient.pk}/"
    own = client_for(therapist).get(url)
    assert own.status_code == 200
    assert b'id="thermal-form"' in own.content
    assert b'id="dn4-form"' in own.content

    not_on_team = make_staff(patient.clinic, "therapist")
    assert client_for(not_on_team).get(url).status_code == 404
    assert client_for(make_staff(other_clinic, "therapist")).get(url).status_code == 404
    assert client_for(make_staff(other_clinic, "manager")).get(url).status_code == 404
    assert client_for(patient.user).get(url).status_code == 404

    read_only = client_for(manager).get(url)
    assert read_only.status_code == 200
    assert b'id="thermal-form"' not in read_only.content
    assert b"Read-only view" in read_only.content

    anonymous = Client().get(url)
    assert anonymous.status_code == 302
    assert "/login/" in anonymous["Location"]


@pytest.mark.django_db
def test_missing_patient_is_a_404_and_leaves_a_denied_audit_event(therapist):
    assert client_for(therapist).get("/clinic/patients/999999/").status_code == 404
    assert AuditEvent.objects.filter(action="denied", object_id="999999", actor_id=therapist.pk).exists()


@pytest.mark.django_db
def test_forms_are_refused_for_managers_and_strangers(therapist, manager, patient, other_clinic):
    url = f"/clinic/patients/{patient.pk}/thermal/"
    assert client_for(manager).post(url, thermal_post()).status_code == 403
    assert client_for(make_staff(patient.clinic, "therapist")).post(url, thermal_post()).status_code == 404
    assert client_for(make_staff(other_clinic, "therapist")).post(url, thermal_post()).status_code == 404
    assert client_for(patient.user).post(url, thermal_post()).status_code == 404
    assert client_for(manager).post(f"/clinic/patients/{patient.pk}/dn4/", {}).status_code == 403
    assert (
        client_for(manager).post(f"/clinic/patients/{patient.pk}/validate/thermal/", thermal_post()).status_code == 403
    )
    assert not Assessment.objects.filter(patient=patient).exists()
    # the same form from the care team goes through
    assert client_for(therapist).post(url, thermal_post()).status_code == 302
    assert Assessment.objects.filter(patient=patient, instrument="thermal").count() == 1


@pytest.mark.django_db
def test_worklist_for_each_role(therapist, manager, patient, other_patient, foreign_patient):
    mine = client_for(therapist).get("/clinic/")
    assert mine.status_code == 200
    assert worklist_ids(mine) == [patient.pk]
    cohort = client_for(manager).get("/clinic/")
    assert cohort.status_code == 200
    assert sorted(worklist_ids(cohort)) == sorted([patient.pk, other_patient.pk])
    assert client_for(patient.user).get("/clinic/").status_code == 404


@pytest.mark.django_db
def test_pages_leave_audit_events(therapist, patient):
    client = client_for(therapist)
    client.get("/clinic/")
    listed = AuditEvent.objects.get(action="list", object_type="worklist", actor_id=therapist.pk)
    assert listed.detail["patient_ids"] == [patient.pk]
    client.get(f"/clinic/patients/{patient.pk}/")
    assert AuditEvent.objects.filter(action="view.console", patient_id=patient.pk, actor_id=therapist.pk).exists()
    client.post(f"/clinic/patients/{patient.pk}/thermal/", thermal_post())
    assert AuditEvent.objects.filter(
        action="create",
        object_type="assessment",
        patient_id=patient.pk,
        actor_id=therapist.pk,
    ).exists()


# -----------------------------------------------------------------------------
# Worklist: need rules, order, filters
# -----------------------------------------------------------------------------


@pytest.fixture
def cohort(clinic, therapist):
    """One patient per need, created in the reverse of the expected order."""
    p: dict[str, Any] = {}
    p["none"] = make_patient(clinic, therapists=(therapist,), display_name="A None", diagnoses=["clbp"])
    nrs_days(p["none"], {1: 5, 2: 5})
    p["due"] = make_patient(
        clinic,
        therapists=(therapist,),
        display_name="B Due",
        diagnoses=["lumbar_radiculopathy"],
    )
    nrs_days(p["due"], {1: 5})
    add(p["due"], "thermal", NOW - dt.timedelta(days=29), 1.2)
    p["missed"] = make_patient(clinic, therapists=(therapist,), display_name="C Missed", diagnoses=["clbp"])
    nrs_days(p["missed"], {4: 5})
    p["worse"] = make_patient(clinic, therapists=(therapist,), display_name="D Worse", diagnoses=["clbp"])
    nrs_days(
        p["worse"],
        dict.fromkeys(range(30, 23, -1), 3) | dict.fromkeys(range(6, 0, -1), 5),
    )
    p["safety"] = make_patient(clinic, therapists=(therapist,), display_name="E Safety", diagnoses=["clbp"])
    nrs_days(p["safety"], {1: 2})
    record(p["safety"], "phq9", {f"item{i}": 1 for i in range(1, 10)})
    # The entries above bypass the capture service; the periodic evaluation catches them up.
    worsening_evaluate([patient.pk for patient in p.values()])
    return p


@pytest.mark.django_db
def test_worklist_is_ordered_by_need(therapist, cohort):
    response = client_for(therapist).get("/clinic/")
    order = ["safety", "worse", "missed", "due", "none"]
    assert worklist_ids(response) == [cohort[k].pk for k in order]
    html = response.content.decode()
    assert "Open safety alerts" in html
    assert "E Safety" in html
    assert 'class="row-worsening"' in html


@pytest.mark.django_db
def test_worsening_is_two_points_above_the_first_week_after_plan_start(therapist, clinic):
    from therapies.models import RehabPlan

    def patient(name: str, recent: float, plan_days_ago: int | None = None):
        p = make_patient(clinic, therapists=(therapist,), display_name=name)
        # before the plan: high pain; first week of the plan: 4; the last week: `recent`
        nrs_days(
            p,
            {60: 9, 59: 9} | dict.fromkeys(range(40, 33, -1), 4) | dict.fromkeys(range(6, 0, -1), recent),
        )
        if plan_days_ago is not None:
            RehabPlan.objects.create(
                patient=p,
                version=1,
                reason="start",
                start_date=(NOW - dt.timedelta(days=plan_days_ago)).date(),
            )
        return p

    exactly_two = patient("At two", 6, plan_days_ago=41)
    below_two = patient("Below two", 5.9, plan_days_ago=41)
    # no plan: baseline is the first week of entries (9), so 6 is no worsening
    no_plan = patient("No plan", 6)
    worsening_evaluate([exactly_two.pk, below_two.pk, no_plan.pk])
    by_id = needs_by_id(client_for(therapist).get("/clinic/"))
    assert by_id[exactly_two.pk] == "worsening"
    assert by_id[below_two.pk] == "none"
    assert by_id[no_plan.pk] == "none"


@pytest.mark.django_db
def test_missed_logs_rules(therapist, clinic):
    due_missed = make_patient(clinic, therapists=(therapist,), display_name="Due missed")
    nrs_days(due_missed, {1: 4})
    DueItem.objects.create(
        patient=due_missed,
        instrument="phq9",
        due_at=NOW - dt.timedelta(days=2),
        closes_at=NOW - dt.timedelta(days=1),
        local_date=NOW.date(),
        status=DueStatus.MISSED,
    )
    old_miss = make_patient(clinic, therapists=(therapist,), display_name="Old miss")
    nrs_days(old_miss, {1: 4})
    DueItem.objects.create(
        patient=old_miss,
        instrument="phq9",
        due_at=NOW - dt.timedelta(days=9),
        closes_at=NOW - dt.timedelta(days=8),
        local_date=NOW.date(),
        status=DueStatus.MISSED,
    )
    silent = make_patient(clinic, therapists=(therapist,), display_name="Silent")
    nrs_days(silent, {3: 4})  # 3 days + 1 hour ago
    never = make_patient(
        clinic, therapists=(therapist,), display_name="Never logged"
    )  # no diary at all: nothing missed
    needs = needs_by_id(client_for(therapist).get("/clinic/"))
    assert needs[due_missed.pk] == "missed"
    assert needs[old_miss.pk] == "none"
    assert needs[silent.pk] == "missed"
    assert needs[never.pk] == "none"


@pytest.mark.django_db
def test_clinic_measurement_due_rules(therapist, clinic):
    fresh = make_patient(clinic, therapists=(therapist,), display_name="Fresh thermal", diagnoses=["phn"])
    nrs_days(fresh, {1: 4})
    add(fresh, "thermal", NOW - dt.timedelta(days=27), 0.4)
    clbp = make_patient(clinic, therapists=(therapist,), display_name="CLBP only", diagnoses=["clbp"])
    nrs_days(clbp, {1: 4})
    pending_exam = make_patient(
        clinic,
        therapists=(therapist,),
        display_name="DN4 waiting",
        diagnoses=["carpal_tunnel"],
    )
    nrs_days(pending_exam, {1: 4})
    add(pending_exam, "thermal", NOW - dt.timedelta(days=3), 0.4)
    record(
        pending_exam,
        "dn4",
        {
            "burning": True,
            "painful_cold": False,
            "electric_shocks": True,
            "tingling": True,
            "pins_and_needles": False,
            "numbness": False,
            "itching": False,
        },
    )
    response = client_for(therapist).get("/clinic/")
    needs = needs_by_id(response)
    assert needs == {fresh.pk: "none", clbp.pk: "none", pending_exam.pk: "due"}
    assert "DN4 exam pending" in response.content.decode()


@pytest.mark.django_db
def test_worklist_search_and_filters_answer_htmx_with_the_rows_partial(therapist, cohort, clinic):
    phn = make_patient(
        clinic,
        therapists=(therapist,),
        display_name="F Shingles",
        diagnoses=["clbp", "phn"],
    )
    client = client_for(therapist)
    partial = client.get("/clinic/", {"diagnosis": "phn"}, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert "HX-Request" in partial["Vary"]
    assert b"<html" not in partial.content
    assert b"<table" in partial.content
    assert worklist_ids(partial) == [phn.pk]
    full = client.get("/clinic/", {"diagnosis": "phn"})
    assert b"<html" in full.content
    assert "HX-Request" in full["Vary"]
    assert worklist_ids(client.get("/clinic/", {"need": "missed"}, HTTP_HX_REQUEST="true")) == [cohort["missed"].pk]
    assert worklist_ids(client.get("/clinic/", {"q": "worse"}, HTTP_HX_REQUEST="true")) == [cohort["worse"].pk]
    # unknown filter values are ignored rather than failing
    assert len(worklist_ids(client.get("/clinic/", {"need": "bogus", "diagnosis": "x"}))) == 6


# -----------------------------------------------------------------------------
# Query budgets
# -----------------------------------------------------------------------------

WORKLIST_QUERIES = 8  # session, user, memberships, own patient, the worklist, pain windows, audit, alerts panel
PATIENT_PAGE_QUERIES = (
    15  # + access fetch, audit, facts, pain windows, series, alerts, care team, plan (2), versions, sessions
)


def _worklist_cohort(clinic: Any, therapist: Any, n: int) -> None:
    for i in range(n):
        p = make_patient(
            clinic,
            therapists=(therapist,),
            display_name=f"Bulk {i}",
            diagnoses=["phn"] if i % 2 else ["clbp"],
        )
        nrs_days(p, {1: 4, 2: 5, 20: 3})
        add(p, "thermal", NOW - dt.timedelta(days=3), 0.5)
        if i % 3 == 0:
            Alert.objects.create(
                patient=p,
                kind="suicidal_ideation",
                severity="critical",
                message="x",
                dedupe_key=f"bulk-{p.pk}",
            )


def _count_worklist(client: Client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/clinic/").status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_worklist_query_count_does_not_grow_with_patients(therapist, clinic, django_assert_max_num_queries):
    client = client_for(therapist)
    _worklist_cohort(clinic, therapist, 3)
    with django_assert_max_num_queries(WORKLIST_QUERIES):
        response = client.get("/clinic/")
    assert len(worklist_ids(response)) == 3
    small = _count_worklist(client)
    _worklist_cohort(clinic, therapist, 27)
    with django_assert_max_num_queries(WORKLIST_QUERIES):
        response = client.get("/clinic/")
    assert len(worklist_ids(response)) == 30
    assert _count_worklist(client) == small


def _rich_history(patient: Any, therapist: Any, days: int) -> None:
    from therapies.services import plan_version_create, session_record

    actor = Actor(user=therapist)
    tdcs = {
        "anode_site": "M1",
        "cathode_site": "contralateral_supraorbital",
        "current_ma": 2,
        "duration_min": 20,
        "electrode_cm2": 35,
    }
    plan = plan_version_create(
        actor=actor,
        patient=patient,
        expected_version=0,
        reason="start",
        components=[
            {
                "modality": "tdcs",
                "parameters": tdcs,
                "frequency_per_week": 5,
                "duration_weeks": 2,
            }
        ],
    )
    plan_version_create(
        actor=actor,
        patient=patient,
        expected_version=plan.version,
        reason="more",
        components=[
            {
                "modality": "tdcs",
                "parameters": tdcs,
                "frequency_per_week": 3,
                "duration_weeks": 4,
            }
        ],
    )
    nrs_days(patient, {d: d % 10 for d in range(days, 0, -1)})
    for d in range(0, days, 7):
        add(patient, "phq9", NOW - dt.timedelta(days=d), 8, band="mild")
        add(patient, "gad7", NOW - dt.timedelta(days=d), 6, band="mild")
        add(patient, "odi", NOW - dt.timedelta(days=d), 30, band="moderate")
        add(patient, "dn4", NOW - dt.timedelta(days=d), 5, detail={"variant": "full"})
        add(
            patient,
            "thermal",
            NOW - dt.timedelta(days=d),
            1.1,
            detail={
                "rois": [
                    {"region": "L5", "delta_c": -1.1},
                    {"region": "S1", "delta_c": 0.3},
                ]
            },
            flags=["thermal_asymmetry"],
        )
    for d in range(min(days, 40)):
        session_record(
            actor=actor,
            patient=patient,
            delivered_at=NOW - dt.timedelta(days=d, hours=2),
            client_uuid=uuid.uuid4(),
            modality="tdcs",
            parameters=tdcs,
        )
    Alert.objects.create(
        patient=patient,
        kind="worsening_pain",
        severity="warning",
        message="x",
        dedupe_key=f"rich-{patient.pk}",
    )


def _count_page(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_patient_page_query_count_is_fixed(therapist, clinic, django_assert_max_num_queries):
    client = client_for(therapist)
    small = make_patient(clinic, therapists=(therapist,), diagnoses=["phn"])
    _rich_history(small, therapist, days=3)
    big = make_patient(clinic, therapists=(therapist,), diagnoses=["phn"])
    _rich_history(big, therapist, days=200)
    with django_assert_max_num_queries(PATIENT_PAGE_QUERIES):
        response = client.get(f"/clinic/patients/{big.pk}/")
    assert len([y for y in figure(response, "nrs")["data"][0]["y"] if y is not None]) == 200
    assert _count_page(client, f"/clinic/patients/{small.pk}/") == _count_page(client, f"/clinic/patients/{big.pk}/")


# -----------------------------------------------------------------------------
# Patient page content
# -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_patient_page_charts_carry_the_patients_series(therapist, patient):
    _rich_history(patient, therapist, days=20)
    response = client_for(therapist).get(f"/clinic/patients/{patient.pk}/")
    nrs = figure(response, "nrs")
    assert len([y for y in nrs["data"][0]["y"] if y is not None]) == 20
    assert any(t.get("name") == "tDCS" for t in nrs["data"])  # session markers
    assert sum(1 for a in nrs["layout"]["annotations"] if a["text"] in ("v1", "v2")) == 2  # plan versions
    thermal = figure(response, "thermal")
    assert {t["name"] for t in thermal["data"]} == {"L5", "S1", "Mean |ΔT| over regions"}
    phq9 = figure(response, "phq9")
    assert len([s for s in phq9["layout"]["shapes"] if s["type"] == "rect"]) == 5
    for name in ("gad7", "dn4", "odi"):
        assert figure(response, name)["data"], name


# -----------------------------------------------------------------------------
# Thermal form
# -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_thermal_htmx_post_records_and_updates_the_chart_out_of_band(therapist, patient):
    client = client_for(therapist)
    key = uuid.uuid4()
    response = client.post(
        f"/clinic/patients/{patient.pk}/thermal/",
        thermal_post(
            client_uuid=str(key),
            region_1="S1 lateral foot",
            left_1="29.5",
            right_1="29.9",
        ),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    stored = Assessment.objects.get(patient=patient, instrument="thermal")
    assert stored.client_uuid == key
    assert stored.source == Source.CLINICIAN
    assert stored.entered_by == therapist
    assert stored.answers["affected_side"] == "left"
    assert [roi["region"] for roi in stored.answers["rois"]] == [
        "L5 dorsum of foot",
        "S1 lateral foot",
    ]
    assert stored.detail["rois"][0]["delta_c"] == -1.5
    assert "thermal_asymmetry" in stored.flags
    html = response.content.decode()
    assert 'id="thermal-form"' in html
    assert "Thermal reading saved." in html
    assert 'id="card-thermal" hx-swap-oob="true"' in html
    traces = {t["name"]: t["y"] for t in figure(response, "thermal")["data"]}
    assert traces == {"L5 dorsum of foot": [-1.5], "S1 lateral foot": [-0.4], "Mean |ΔT| over regions": [0.95]}
    # the fresh form repeats the regions and has a new idempotency key
    assert 'value="L5 dorsum of foot"' in html
    assert str(key) not in html
    # a double submit of the same form stores nothing new
    client.post(
        f"/clinic/patients/{patient.pk}/thermal/",
        thermal_post(client_uuid=str(key)),
        HTTP_HX_REQUEST="true",
    )
    assert Assessment.objects.filter(patient=patient, instrument="thermal").count() == 1


@pytest.mark.django_db
def test_thermal_affected_side_defaults_from_the_patient(therapist, clinic):
    right = make_patient(clinic, therapists=(therapist,), affected_side="right")
    html = client_for(therapist).get(f"/clinic/patients/{right.pk}/").content.decode()
    assert re.search(r'<option value="right" selected>', html)
    bilateral = make_patient(clinic, therapists=(therapist,), affected_side="bilateral")
    html = client_for(therapist).get(f"/clinic/patients/{bilateral.pk}/").content.decode()
    assert not re.search(r'name="th-affected_side"[^>]*>\s*<option value="\w+" selected', html)


@pytest.mark.django_db
def test_thermal_errors_are_shown_next_to_the_field_and_nothing_is_saved(therapist, patient):
    response = client_for(therapist).post(
        f"/clinic/patients/{patient.pk}/thermal/",
        thermal_post(left_0="50", region_1="Calf", ambient_c=""),
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert re.search(
        r'id="fb-th-left_0"[^>]*><span class="error">Ensure this value is less than or equal to 45',
        html,
    )
    assert re.search(r'id="fb-th-ambient_c"[^>]*><span class="error">This field is required', html)
    assert re.search(
        r'id="fb-th-left_1"[^>]*><span class="error">Fill in the region and both temperatures',
        html,
    )
    assert not Assessment.objects.filter(patient=patient).exists()


@pytest.mark.django_db
def test_thermal_duplicate_regions_are_refused(therapist, patient):
    response = client_for(therapist).post(
        f"/clinic/patients/{patient.pk}/thermal/",
        thermal_post(region_1="l5 DORSUM of foot", left_1="30", right_1="30"),
        HTTP_HX_REQUEST="true",
    )
    assert re.search(
        r'id="fb-th-region_1"[^>]*><span class="error">This region is listed twice',
        response.content.decode(),
    )
    assert not Assessment.objects.exists()


@pytest.mark.django_db
def test_inline_validation_answers_for_the_changed_field_only(therapist, patient):
    client = client_for(therapist)
    url = f"/clinic/patients/{patient.pk}/validate/thermal/"
    bad = client.post(
        url,
        thermal_post(right_0="99"),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TRIGGER_NAME="th-right_0",
    )
    assert bad.status_code == 200
    assert "less than or equal to 45" in bad.content.decode()
    warm_room = client.post(
        url,
        thermal_post(ambient_c="27"),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TRIGGER_NAME="th-ambient_c",
    )
    assert 'class="warning"' in warm_room.content.decode()
    assert "18–25" in warm_room.content.decode()
    fine = client.post(url, thermal_post(), HTTP_HX_REQUEST="true", HTTP_HX_TRIGGER_NAME="th-ambient_c")
    assert fine.content.decode().strip() == ""
    assert not Assessment.objects.exists()
    assert client.post(f"/clinic/patients/{patient.pk}/validate/nope/", {}, HTTP_HX_REQUEST="true").status_code == 404


@pytest.mark.django_db
def test_thermal_time_is_read_in_the_patients_time_zone(therapist, patient):
    client_for(therapist).post(
        f"/clinic/patients/{patient.pk}/thermal/",
        thermal_post(recorded_at="2025-03-01T09:30"),
    )
    stored = Assessment.objects.get(patient=patient)
    assert stored.recorded_at == dt.datetime(2025, 3, 1, 1, 30, tzinfo=dt.UTC)  # Asia/Shanghai is UTC+8


# -----------------------------------------------------------------------------
# DN4 examination
# -----------------------------------------------------------------------------

INTERVIEW = {
    "burning": True,
    "painful_cold": False,
    "electric_shocks": True,
    "tingling": False,
    "pins_and_needles": False,
    "numbness": False,
    "itching": False,
}


@pytest.mark.django_db
def test_dn4_exam_completes_the_patients_interview(therapist, patient):
    interview = record(patient, "dn4", INTERVIEW, user=patient.user)
    client = client_for(therapist)
    page = client.get(f"/clinic/patients/{patient.pk}/").content.decode()
    assert "The patient answered the DN4 interview" in page
    assert 'name="dn4-burning"' not in page  # only the examination is asked
    response = client.post(
        f"/clinic/patients/{patient.pk}/dn4/",
        {
            "dn4-client_uuid": str(uuid.uuid4()),
            "dn4-touch_hypoesthesia": "yes",
            "dn4-pinprick_hypoesthesia": "yes",
            "dn4-brushing": "no",
        },
        HTTP_HX_REQUEST="true",
    )
    assert "DN4 examination saved." in response.content.decode()
    full = Assessment.objects.get(patient=patient, instrument="dn4", source=Source.CLINICIAN)
    assert full.supersedes == interview
    assert full.total == 4
    assert full.detail["variant"] == "full"
    assert "neuropathic_likely" in full.flags


@pytest.mark.django_db
def test_dn4_without_an_interview_asks_all_ten_items(therapist, patient):
    client = client_for(therapist)
    response = client.post(
        f"/clinic/patients/{patient.pk}/dn4/",
        {
            "dn4-client_uuid": str(uuid.uuid4()),
            "dn4-touch_hypoesthesia": "yes",
            "dn4-pinprick_hypoesthesia": "no",
            "dn4-brushing": "no",
        },
        HTTP_HX_REQUEST="true",
    )
    assert re.search(
        r'id="fb-dn4-burning"[^>]*><span class="error">This field is required',
        response.content.decode(),
    )
    assert not Assessment.objects.exists()
    answers = {f"dn4-{k}": "yes" if v else "no" for k, v in INTERVIEW.items()}
    client.post(
        f"/clinic/patients/{patient.pk}/dn4/",
        {
            "dn4-client_uuid": str(uuid.uuid4()),
            **answers,
            "dn4-touch_hypoesthesia": "yes",
            "dn4-pinprick_hypoesthesia": "no",
            "dn4-brushing": "no",
        },
    )
    stored = Assessment.objects.get(patient=patient)
    assert stored.total == 3
    assert stored.detail["variant"] == "full"
    assert stored.supersedes is None


# -----------------------------------------------------------------------------
# Alerts
# -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_alert_acknowledgement_is_for_the_care_team_only(therapist, manager, patient):
    record(patient, "phq9", {f"item{i}": 1 for i in range(1, 10)}, user=patient.user)
    alert = Alert.objects.get(patient=patient)
    url = f"/clinic/alerts/{alert.pk}/acknowledge/"
    assert client_for(manager).post(url).status_code == 403
    assert client_for(make_staff(patient.clinic, "therapist")).post(url).status_code == 404
    assert client_for(patient.user).post(url).status_code == 404
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    response = client_for(therapist).post(url, {f"ack{alert.pk}-action": "contacted_patient"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Acknowledged by therapist" in response.content.decode()
    alert.refresh_from_db()
    assert alert.acknowledged_by == therapist
    assert AuditEvent.objects.filter(action="alert.acknowledge", object_id=str(alert.pk)).exists()
    assert client_for(therapist).post("/clinic/alerts/999999/acknowledge/").status_code == 404


@pytest.mark.django_db
def test_open_alerts_are_listed_with_an_acknowledge_button_for_the_team(therapist, manager, patient):
    record(patient, "phq9", {f"item{i}": 1 for i in range(1, 10)}, user=patient.user)
    alert = Alert.objects.get(patient=patient)
    ack = f'hx-post="/clinic/alerts/{alert.pk}/acknowledge/"'
    assert ack in client_for(therapist).get(f"/clinic/patients/{patient.pk}/").content.decode()
    assert ack in client_for(therapist).get("/clinic/").content.decode()
    manager_view = client_for(manager).get(f"/clinic/patients/{patient.pk}/").content.decode()
    assert "PHQ-9 item 9" in manager_view
    assert ack not in manager_view


# -----------------------------------------------------------------------------
# Sessions and plan edits (therapies services)
# -----------------------------------------------------------------------------

TDCS = {key: str(value) for key, value in BASE["tdcs"].items()}  # as the form posts them


def session_post(**overrides: Any) -> dict[str, Any]:
    data = {
        "client_uuid": str(uuid.uuid4()),
        "component": "",
        "modality": "tdcs",
        "delivered_at": "",
        "adverse_event": "none",
        "adverse_event_note": "",
        "tolerance": "well",
        "override_reason": "",
    }
    data.update({f"p_{k}": v for k, v in TDCS.items()})
    data.update(overrides)
    return {f"ses-{k}": v for k, v in data.items()}


@pytest.mark.django_db
def test_session_beyond_a_safety_limit_needs_an_override_reason(therapist, patient):
    from therapies.models import TherapySession

    client = client_for(therapist)
    url = f"/clinic/patients/{patient.pk}/sessions/new/"
    refused = client.post(url, session_post(p_current_ma="5"), HTTP_HX_REQUEST="true").content.decode()
    assert re.search(r'id="fb-ses-p_current_ma"[^>]*><span class="error">[^<]*4 mA', refused)
    assert re.search(
        r'id="fb-ses-override_reason"[^>]*><span class="error">Outside the safety limit',
        refused,
    )
    assert not TherapySession.objects.exists()
    # inline feedback names the limit before saving
    hint = client.post(
        f"/clinic/patients/{patient.pk}/validate/session/",
        session_post(p_current_ma="5"),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TRIGGER_NAME="ses-p_current_ma",
    )
    assert "4 mA" in hint.content.decode()
    saved = client.post(
        url,
        session_post(
            p_current_ma="5",
            override_reason="Tolerated 4 mA for 6 weeks; protocol 5 mA",
        ),
        HTTP_HX_REQUEST="true",
    )
    assert "Session recorded." in saved.content.decode()
    session = TherapySession.objects.get(patient=patient)
    # 5 mA is above the 4 mA current limit, and over 35 cm² above the 0.1 mA/cm² density cap
    assert sorted(session.overridden_limits) == ["current", "current_density"]
    assert session.parameters["current_ma"] == 5
    assert session.override_reason.startswith("Tolerated")
    assert re.search(
        r'<section [^>]*id="sessions-card"[^>]*hx-swap-oob="true"',
        saved.content.decode(),
    )


@pytest.mark.django_db
def test_session_from_a_plan_component_uses_the_prescription(therapist, patient):
    from therapies.models import TherapySession
    from therapies.services import plan_version_create

    plan = plan_version_create(
        actor=Actor(user=therapist),
        patient=patient,
        expected_version=0,
        reason="start",
        components=[
            {
                "modality": "tdcs",
                "parameters": {k: float(v) if k.endswith(("ma", "min", "cm2")) else v for k, v in TDCS.items()},
                "frequency_per_week": 5,
                "duration_weeks": 2,
            }
        ],
    )
    component = plan.components.get()
    client = client_for(therapist)
    form = client.get(
        f"/clinic/patients/{patient.pk}/sessions/new/",
        {"ses-component": component.pk},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert re.search(r'name="ses-p_current_ma" value="2\.0"', form)
    post = session_post(component=str(component.pk), modality="")
    client.post(f"/clinic/patients/{patient.pk}/sessions/new/", post)
    session = TherapySession.objects.get(patient=patient)
    assert session.component == component
    assert session.modality == "tdcs"


@pytest.mark.django_db
def test_plan_edit_creates_a_new_version_and_reports_conflicts(therapist, patient):
    from therapies.models import RehabPlan
    from therapies.services import plan_version_create

    tdcs = {
        "anode_site": "M1",
        "cathode_site": "contralateral_supraorbital",
        "current_ma": 2,
        "duration_min": 20,
        "electrode_cm2": 35,
    }
    plan = plan_version_create(
        actor=Actor(user=therapist),
        patient=patient,
        expected_version=0,
        reason="start",
        components=[
            {
                "modality": "tdcs",
                "parameters": tdcs,
                "frequency_per_week": 5,
                "duration_weeks": 2,
            },
            {
                "modality": "physical_agents",
                "parameters": {"agent": "heat", "minutes": 20},
                "frequency_per_week": 2,
                "duration_weeks": 4,
            },
        ],
    )
    tdcs_row = plan.components.get(modality="tdcs")
    client = client_for(therapist)
    form = client.get(
        f"/clinic/patients/{patient.pk}/plan-component/",
        {"component": tdcs_row.pk},
        HTTP_HX_REQUEST="true",
    )
    assert 'id="plan-form"' in form.content.decode()

    def post(version: int, **changes: Any) -> Any:
        data = {
            "plan-client_uuid": str(uuid.uuid4()),
            "plan-component_id": str(tdcs_row.pk),
            "plan-expected_version": str(version),
            "plan-reason": "Raise the dose",
            "plan-frequency_per_week": "5",
            "plan-duration_weeks": "3",
            "plan-notes": "",
            "plan-override_reason": "",
        }
        data.update({f"plan-p_{k}": str(v) for k, v in tdcs.items()})
        data.update({f"plan-{k}": v for k, v in changes.items()})
        return client.post(
            f"/clinic/patients/{patient.pk}/plan-component/",
            data,
            HTTP_HX_REQUEST="true",
        )

    limited = post(1, p_duration_min="45").content.decode()
    assert "Duration: 45 min entered; the limit is 40 min." in limited
    assert RehabPlan.objects.filter(patient=patient).count() == 1
    saved = post(1)
    assert saved["HX-Retarget"] == "#plan-card"
    latest = RehabPlan.objects.get(patient=patient, version=2)
    assert {c.modality: c.duration_weeks for c in latest.components.all()} == {
        "tdcs": 3,
        "physical_agents": 4,
    }
    stale = post(1).content.decode()
    assert "changed by someone else" in stale
    assert RehabPlan.objects.filter(patient=patient).count() == 2


# -----------------------------------------------------------------------------
# Language
# -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_console_speaks_simplified_chinese(therapist, patient):
    client = client_for(therapist)
    client.cookies["django_language"] = "zh-hans"
    html = client.get(f"/clinic/patients/{patient.pk}/").content.decode()
    assert "保存热成像记录" in html  # "Save thermal reading"
    assert "室温" in html  # room temperature
    assert "工作列表" in client.get("/clinic/").content.decode()  # "Worklist"


@pytest.mark.django_db
@pytest.mark.parametrize("htmx", [True, False])
def test_a_session_post_reads_the_patient_page_once(therapist, patient, monkeypatch, htmx):
    """The form is built from a light read; the full page is read once: after the write
    (htmx) or to show the refused form in the page (plain POST)."""
    import frontend.views.therapist as views

    reads = []
    real = views.patient_page

    def counted(*args: Any, **kwargs: Any) -> Any:
        reads.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(views, "patient_page", counted)
    client = client_for(therapist)
    url = f"/clinic/patients/{patient.pk}/sessions/new/"
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    refused = client.post(url, session_post(p_current_ma="5"), **headers)
    assert refused.status_code == (200 if htmx else 400)
    assert len(reads) == (0 if htmx else 1)
    reads.clear()
    saved = client.post(url, session_post(), **headers)
    assert saved.status_code == (200 if htmx else 302)
    assert len(reads) == (1 if htmx else 0)
