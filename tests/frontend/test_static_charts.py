"""The therapist patient page carries every chart as static SVG (visible before plotly loads)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from tests.factories import page_client as client_for
from tests.frontend.test_console import _rich_history, figure, thermal_post

NS = {"svg": "http://www.w3.org/2000/svg"}
CHARTS = ("nrs", "thermal", "dn4", "phq9", "gad7", "odi")


def _static(html: str, name: str) -> ET.Element:
    """The SVG inside chart ``name``'s container, parsed as XML."""
    match = re.search(
        rf'<div class="chart" id="chart-{name}" data-figure="fig-{name}" data-static-drawn>(<svg .*?</svg>)</div>',
        html,
        re.S,
    )
    assert match, f"no static chart {name}"
    return ET.fromstring(match.group(1))  # noqa: S314  (our own page)


@pytest.mark.django_db
def test_patient_page_has_a_static_svg_in_every_chart_container(therapist, patient):
    _rich_history(patient, therapist, days=20)
    response = client_for(therapist).get(f"/clinic/patients/{patient.pk}/")
    html = response.content.decode()
    for name in CHARTS:
        svg = _static(html, name)
        assert svg.get("role") == "img"
        assert svg.get("aria-labelledby") == f"static-{name}-title static-{name}-desc"
        assert svg.find("svg:title", NS).text
        assert svg.find("svg:desc", NS).text
        assert svg.get("viewBox").endswith(" " + str(figure(response, name)["layout"]["height"]))
    nrs = _static(html, "nrs")
    assert nrs.find("svg:title", NS).text == "Pain (NRS 0–10)"
    assert "Daily NRS: 20 values from" in nrs.find("svg:desc", NS).text
    assert nrs.get("viewBox").startswith("0 0 1240 ")  # the wide card
    assert _static(html, "dn4").get("viewBox").startswith("0 0 600 ")
    # The interactive figure is still there for plotly.
    assert figure(response, "nrs")["data"]


@pytest.mark.django_db
def test_patient_page_static_charts_speak_chinese(therapist, patient):
    _rich_history(patient, therapist, days=40)
    client = client_for(therapist)
    client.cookies["django_language"] = "zh-hans"
    html = client.get(f"/clinic/patients/{patient.pk}/").content.decode()
    nrs = _static(html, "nrs")
    texts = [t.text or "" for t in nrs.iterfind(".//svg:text", NS)]
    assert any(re.fullmatch(r"\d{1,2}月 \d{1,2}", t) for t in texts), texts
    assert not any(re.match(r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\b", t) for t in texts)
    assert nrs.find("svg:title", NS).text == "疼痛（NRS 0–10）"


@pytest.mark.django_db
def test_out_of_band_chart_update_carries_the_new_static_chart(therapist, patient):
    response = client_for(therapist).post(
        f"/clinic/patients/{patient.pk}/thermal/", thermal_post(), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    svg = _static(response.content.decode(), "thermal")
    assert "L5 dorsum of foot: " in svg.find("svg:desc", NS).text
