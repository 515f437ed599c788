"""The cohort outcomes dashboard at /clinic/outcomes/."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from assessments.outcomes.exports import patient_code
from patients.models import AuditEvent
from tests.assessments import test_cohort
from tests.factories import make_staff, make_user

# The hand-computed cohort of the selector tests, reused as fixtures here.
world = test_cohort.world
start = test_cohort.start
_cohort_of = test_cohort._cohort_of

pytestmark = pytest.mark.django_db
URL = "/clinic/outcomes/"
CHARTS = ("chart-responders", "chart-trajectory", "chart-forest", "chart-km", "chart-waterfall")


def browser(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def chart(html: str, chart_id: str) -> dict[str, Any]:
    match = re.search(rf'<script id="{chart_id}" type="application/json">(.*?)</script>', html, re.S)
    assert match, chart_id
    return json.loads(match.group(1))


def test_manager_sees_the_dashboard(world, manager):
    response = browser(manager).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html
    assert "vendor/plotly.min.js" in html
    assert "HX-Request" in response["Vary"]
    for chart_id in CHARTS:
        figure = chart(html, chart_id)
        assert figure["data"], chart_id
    bars = {trace["name"]: trace for trace in chart(html, "chart-responders")["data"]}
    assert {trace["type"] for trace in bars.values()} == {"bar"}
    assert bars["≥30 % reduction"]["y"][0] == "All patients"
    assert bars["≥30 % reduction"]["text"][0] == "2/4"
    # 2 of 4: 50 % with its Wilson interval 15.0-85.0, drawn as error bars and written out.
    assert bars["≥30 % reduction"]["error_x"]["arrayminus"][0] == pytest.approx(35.0)
    assert '50.0 %<span class="ci"> [15.0, 85.0]</span>' in html
    assert "too few to judge" in html  # 4 patients with data
    forest = chart(html, "chart-forest")["data"][0]
    assert any(label.startswith("Diagnosis: ") for label in forest["y"])
    assert any(label.startswith("Modality: ") for label in forest["y"])
    assert all("too few to judge" in label for label in forest["y"])
    assert "not evidence of cause" in html
    assert bars["≥50 % reduction"]["text"][0] == "1/4"
    km = chart(html, "chart-km")["data"]
    assert all(trace["type"] == "scatter" for trace in km)
    assert km[2]["line"]["shape"] == "hv"
    assert km[2]["x"][:2] == [0.0, 1.0]
    waterfall = chart(html, "chart-waterfall")["data"][0]
    assert waterfall["y"] == sorted(waterfall["y"], reverse=True)
    assert len(waterfall["y"]) == 4
    a = world["patients"]["A"]
    assert patient_code(a.clinic_id, a.pk) in html  # case series row
    assert a.display_name not in html
    assert "/api/v1/cohort/case-series.csv" in html
    assert "/api/v1/cohort/outcomes.csv" in html
    event = AuditEvent.objects.filter(object_type="cohort_outcomes.page").latest("id")
    assert sorted(event.detail["patient_ids"]) == sorted(p.pk for p in world["patients"].values())


def test_htmx_filter_returns_the_partial(world, manager):
    response = browser(manager).get(
        URL,
        {"diagnosis": "clbp", "modality": "", "since": "", "until": ""},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "cohort-filters" not in html  # only the results region
    assert "HX-Request" in response["Vary"]
    for chart_id in CHARTS:
        chart(html, chart_id)
    assert "diagnosis=clbp" in html  # the export links keep the filters
    assert AuditEvent.objects.filter(object_type="cohort_outcomes.page").latest("id").detail["count"] == 3


def test_htmx_history_restore_gets_the_whole_page(world, manager):
    response = browser(manager).get(
        URL,
        {"diagnosis": "clbp"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )
    assert "<html" in response.content.decode()


def test_bad_filters_are_shown_not_computed(world, manager):
    before = AuditEvent.objects.count()
    response = browser(manager).get(URL, {"since": "2025-02-30"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Check the filters" in html
    assert "since" in html
    assert "chart-km" not in html
    assert AuditEvent.objects.count() == before


@pytest.mark.parametrize("who", ["patient", "nobody"])
def test_404_for_patients_and_users_without_a_role(who, patient):
    user = patient.user if who == "patient" else make_user("no-role")
    assert browser(user).get(URL).status_code == 404


def test_anonymous_is_sent_to_login(db):
    response = browser(None).get(URL)
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_therapist_sees_their_care_team_and_admin_the_clinic(world, therapist, clinic):
    html = browser(therapist).get(URL).content.decode()
    codes = {patient_code(p.clinic_id, p.pk) for p in world["patients"].values()}
    shown = {code for code in codes if code in html}
    p = world["patients"]
    assert shown == {patient_code(p[k].clinic_id, p[k].pk) for k in "ABC"}
    admin = make_staff(clinic, "admin", "clinic-admin")
    html = browser(admin).get(URL).content.decode()
    assert {code for code in codes if code in html} == codes


def test_a_manager_of_another_clinic_sees_nothing_of_this_one(world, other_clinic):
    other_manager = make_staff(other_clinic, "manager", "other-manager")
    html = browser(other_manager).get(URL).content.decode()
    for patient in world["patients"].values():
        assert patient_code(patient.clinic_id, patient.pk) not in html
    foreign = world["foreign"]
    assert patient_code(foreign.clinic_id, foreign.pk) in html


def test_page_query_count_is_constant(clinic, manager, therapist, start, django_assert_max_num_queries):
    client = browser(manager)
    _cohort_of(clinic, therapist, 5, start)
    with CaptureQueriesContext(connection) as five:
        assert client.get(URL).status_code == 200
    _cohort_of(clinic, therapist, 45, start)
    with django_assert_max_num_queries(len(five)):
        assert client.get(URL).status_code == 200


def test_every_chart_is_on_the_page_as_static_svg_before_plotly(world, manager):
    import xml.etree.ElementTree as ET

    html = browser(manager).get(URL).content.decode()
    titles = {}
    for chart_id in CHARTS:
        match = re.search(rf'data-chart="{chart_id}"[^>]*data-static-drawn>(<svg .*?</svg>)</div>', html, re.S)
        assert match, chart_id
        svg = ET.fromstring(match.group(1))  # noqa: S314  (our own page)
        assert svg.get("role") == "img"
        titles[chart_id] = svg.find("{http://www.w3.org/2000/svg}title").text
    assert titles["chart-responders"] == "Responders by diagnosis"
    assert titles["chart-km"] == "Time to response (≥30 % reduction)"
    assert world["patients"]["A"].display_name not in html
