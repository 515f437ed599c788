from __future__ import annotations

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
    assert b"<script" not in page.content.split(b"<main", 1)[1]  # the strict CSP: no inline script
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


def test_read_only_staff_cannot_upload(manager: Any, patient: Any) -> None:
    client = _client(manager)
    assert client.get(_page(patient)).status_code == 200
    assert _upload(client, patient, csv_bytes(body())).status_code == 403
    assert not Thermogram.objects.exists()
