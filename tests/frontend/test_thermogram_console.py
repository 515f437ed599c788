from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from assessments.models import Assessment, Thermogram
from tests.thermo_images import body, csv_bytes


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _no_inline_script(html: bytes) -> None:
    """The strict CSP: scripts come from files; inline <script> elements only carry JSON data."""
    for tag in re.findall(rb"<script[^>]*>", html):
        assert b" src=" in tag or b'type="application/json"' in tag, tag


def _config(response: Any) -> dict[str, Any]:
    found = re.search(rb'<script id="thermo-config" type="application/json">(.*?)</script>', response.content, re.S)
    assert found, "no page data for the script"
    return json.loads(found.group(1))


def _page(patient: Any) -> str:
    return f"/clinic/patients/{patient.pk}/thermograms/"


def _upload(client: Client, patient: Any, data: bytes) -> Any:
    return client.post(
        _page(patient),
        {
            "image": SimpleUploadedFile("export.csv", data),
            "recorded_at": "2026-03-01T09:00",
            "ambient_c": "22",
            "acclimatisation_min": "20",
            "view": "posterior",
            "image_left_is": "",
            "client_uuid": str(uuid.uuid4()),
        },
    )


def test_upload_measure_and_see_the_delta(therapist: Any, patient: Any) -> None:
    client = _client(therapist)
    page = client.get(_page(patient))
    assert page.status_code == 200
    assert b'enctype="multipart/form-data"' in page.content
    _no_inline_script(page.content)
    assert client.get(f"/clinic/patients/{patient.pk}/").content.count(_page(patient).encode()) == 1

    response = _upload(client, patient, csv_bytes(body()))
    assert response.status_code == 302
    thermogram = Thermogram.objects.get()
    # The time typed is the patient's local time (Asia/Shanghai, UTC+8).
    assert thermogram.recorded_at.isoformat() == "2026-03-01T01:00:00+00:00"
    page = client.get(_page(patient))
    assert f"/api/v1/patients/{patient.pk}/thermograms/{thermogram.pk}/image.png".encode() in page.content
    assert client.get(f"/api/v1/patients/{patient.pk}/thermograms/{thermogram.pk}/image.png").status_code == 200

    prefix = f"t{thermogram.pk}"
    measured = client.post(
        f"/clinic/patients/{patient.pk}/thermograms/{thermogram.pk}/rois/",
        {
            f"{prefix}-midline_x": "32",
            f"{prefix}-affected_side": "left",
            f"{prefix}-region_0": "L5 dermatome",
            f"{prefix}-x_0": "8",
            f"{prefix}-y_0": "10",
            f"{prefix}-w_0": "8",
            f"{prefix}-h_0": "20",
        },
        follow=True,
    )
    assert measured.status_code == 200
    assert "L5 dermatome: -1.50 °C" in measured.content.decode()
    assessment = Assessment.objects.get()
    assert assessment.flags == ["thermal_asymmetry"]
    assert assessment.thermogram_reading.thermogram == thermogram


def test_bad_file_and_bad_region_are_shown_not_stored(therapist: Any, patient: Any) -> None:
    client = _client(therapist)
    response = _upload(client, patient, b"GIF89a\x00\x01")
    assert response.status_code == 400
    assert "Unknown file type" in response.content.decode()
    assert not Thermogram.objects.exists()
    _upload(client, patient, csv_bytes(body()))
    thermogram = Thermogram.objects.get()
    prefix = f"t{thermogram.pk}"
    response = client.post(
        f"/clinic/patients/{patient.pk}/thermograms/{thermogram.pk}/rois/",
        {
            f"{prefix}-midline_x": "32",
            f"{prefix}-affected_side": "left",
            f"{prefix}-region_0": "L5",
            f"{prefix}-x_0": "28",
            f"{prefix}-y_0": "0",
            f"{prefix}-w_0": "8",
            f"{prefix}-h_0": "4",
        },
    )
    assert response.status_code == 400
    assert "crosses the midline" in response.content.decode()
    assert not Assessment.objects.exists()


def test_read_only_staff_cannot_upload(manager: Any, therapist: Any, patient: Any) -> None:
    _thermogram(patient, therapist, days_ago=1)
    client = _client(manager)
    page = client.get(_page(patient))
    assert page.status_code == 200
    assert b"Read-only view" in page.content
    assert b'id="thermogram-upload"' not in page.content
    assert b'id="roi-save"' not in page.content
    assert _upload(client, patient, csv_bytes(body())).status_code == 403
    assert Thermogram.objects.count() == 1


def _thermogram(patient: Any, therapist: Any, *, days_ago: int, left_c: float = 31.0) -> Any:
    import datetime as dt

    from django.utils import timezone

    from assessments.thermograms.services import thermogram_upload
    from patients.audit import Actor

    return thermogram_upload(
        actor=Actor(user=therapist),
        patient=patient,
        data=csv_bytes(body(left_c=left_c)),
        client_uuid=uuid.uuid4(),
        recorded_at=timezone.now() - dt.timedelta(days=days_ago),
        ambient_c=22.0,
        acclimatisation_min=15,
        view="posterior",
        image_left_is=None,
    ).thermogram


def _measured(thermogram: Any, therapist: Any, regions: tuple[tuple[str, int, int], ...]) -> Any:
    from assessments.thermograms.services import RegionInput, thermogram_measure
    from patients.audit import Actor

    return thermogram_measure(
        actor=Actor(user=therapist),
        thermogram=thermogram,
        midline_x=32,
        regions=[RegionInput(name, x, y, 8, 10) for name, x, y in regions],
        affected_side="left",
    )[0]


def test_page_data_for_the_script(therapist: Any, patient: Any, django_assert_max_num_queries: Any) -> None:
    earlier = _thermogram(patient, therapist, days_ago=28, left_c=30.0)
    _measured(earlier, therapist, (("L5 dermatome", 8, 10), ("S1 dermatome", 8, 20)))
    latest = _thermogram(patient, therapist, days_ago=1)
    client = _client(therapist)
    with django_assert_max_num_queries(10):  # not per thermogram nor per reading
        response = client.get(_page(patient))
    assert response.status_code == 200
    _no_inline_script(response.content)
    config = _config(response)
    # The newest visit is edited, the one before it shown beside it.
    assert (config["current"], config["compare"]) == (latest.pk, earlier.pk)
    by_id = {t["id"]: t for t in config["thermograms"]}
    assert by_id[latest.pk]["matrix_url"] == f"/api/v1/patients/{patient.pk}/thermograms/{latest.pk}/matrix/"
    assert by_id[latest.pk]["rois_url"] == f"/api/v1/patients/{patient.pk}/thermograms/{latest.pk}/rois/"
    assert (by_id[latest.pk]["png_width"], by_id[latest.pk]["png_height"]) == (64 + 70, 136)
    assert by_id[latest.pk]["reading"] is None
    reading = by_id[earlier.pk]["reading"]
    assert reading["midline_x"] == 32
    assert [(r["region"], r["delta_c"]) for r in reading["rois"]] == [("L5 dermatome", -2.5), ("S1 dermatome", -2.5)]
    assert reading["rois"][0]["mirror"] == {"x": 48, "y": 10, "w": 8, "h": 10}
    assert config["affected_side"] == "left"
    templates = {t["key"]: t for t in config["templates"]}
    assert [r["name"] for r in templates["dermatomes"]["regions"]] == ["L4 dermatome", "L5 dermatome", "S1 dermatome"]
    assert [r["name"] for r in templates["plantar"]["regions"]] == [
        "hallux",
        "1st metatarsal head",
        "5th metatarsal head",
        "heel",
    ]
    assert templates["hand"]["view"] == "dorsal"
    assert ["leg", ["leg", "thigh", "calf", "knee", "shin", "l3", "l4", "l5", "s1", "s2", "dermatome"], 0.67] in config[
        "upper_normal"
    ]
    # ?t= and ?compare= pick other visits; an unknown id falls back to the default.
    config = _config(client.get(_page(patient), {"t": earlier.pk, "compare": 999999}))
    assert (config["current"], config["compare"]) == (earlier.pk, latest.pk)


def test_template_regions_lie_on_one_side_inside_the_image() -> None:
    from frontend.views.thermograms import REGION_TEMPLATES

    for template in REGION_TEMPLATES:
        for region in template.regions:
            assert 0 <= region.x < region.x + region.w < 0.5, region  # left of a centred midline
            assert 0 <= region.y < region.y + region.h <= 1, region
            assert len(region.name) <= 64


def test_templates_match_the_normal_asymmetry_of_their_site() -> None:
    from assessments.thermograms.imaging import upper_normal
    from frontend.views.thermograms import REGION_TEMPLATES

    sites = {t.key: {upper_normal(r.name) for r in t.regions} for t in REGION_TEMPLATES}
    assert sites["dermatomes"] == {("leg", 0.67)}
    assert sites["plantar"] == {("foot", 1.0)}
    assert sites["hand"] == {None}  # no published normal for the hand in the table


def test_chart_partial_plots_delta_per_region_and_mean_asymmetry(therapist: Any, patient: Any) -> None:
    earlier = _thermogram(patient, therapist, days_ago=28, left_c=30.0)
    _measured(earlier, therapist, (("L5 dermatome", 8, 10), ("S1 dermatome", 8, 20)))
    response = _client(therapist).get(f"/clinic/patients/{patient.pk}/thermograms/chart/")
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<figure class="card chart-card wide" id="card-thermal">')
    found = re.search(
        r'<script type="application/json" id="fig-thermal">(.*?)</script>', response.content.decode(), re.S
    )
    assert found
    traces = {t["name"]: t["y"] for t in json.loads(found.group(1))["data"]}
    assert traces == {"L5 dermatome": [-2.5], "S1 dermatome": [-2.5], "Mean |ΔT| over regions": [2.5]}


def test_delete_an_unmeasured_thermogram_and_its_file(
    therapist: Any, manager: Any, patient: Any, django_capture_on_commit_callbacks: Any
) -> None:
    wrong = _thermogram(patient, therapist, days_ago=1)
    measured = _thermogram(patient, therapist, days_ago=2)
    _measured(measured, therapist, (("L5 dermatome", 8, 10),))
    url = f"/clinic/patients/{patient.pk}/thermograms/{{}}/delete/"
    assert _client(manager).post(url.format(wrong.pk)).status_code == 403
    client = _client(therapist)
    assert client.get(url.format(wrong.pk)).status_code == 302  # a reload goes back to the page
    assert client.get(url.format(999999)).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url.format(wrong.pk), follow=True)
    assert "Thermogram deleted." in response.content.decode()
    assert not wrong.original.storage.exists(wrong.original.name)
    response = client.post(url.format(measured.pk), follow=True)
    assert "so it is kept" in response.content.decode()
    assert Thermogram.objects.filter(pk=measured.pk).exists()
    assert measured.original.storage.exists(measured.original.name)
    assert b"Delete this thermogram" not in client.get(_page(patient)).content  # nothing to offer


def test_page_in_chinese(therapist: Any, patient: Any) -> None:
    _thermogram(patient, therapist, days_ago=1)
    client = _client(therapist)
    client.cookies["django_language"] = "zh-hans"
    response = client.get(_page(patient))
    text = response.content.decode()
    assert "从模板开始" in text
    assert "腰腿皮节 L4、L5、S1" in text
    config = _config(response)
    assert config["strings"]["midline"] == "中线"
    assert config["templates"][0]["regions"][0]["name"] == "L4 dermatome"  # stored the same in every language
    assert config["templates"][0]["regions"][0]["label"] == "L4 皮节（小腿内侧）"
    assert "Room temperature" not in text  # the form labels too
