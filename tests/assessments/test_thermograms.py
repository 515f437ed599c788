from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from assessments.models import Assessment, Thermogram, ThermogramReading
from patients.models import AuditEvent
from tests.thermo_images import MIDLINE, body, csv_bytes, flir_jpeg_bytes, tiff_bytes


@pytest.fixture(autouse=True)
def _media_in_tmp(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def _url(patient: Any, suffix: str = "") -> str:
    return f"/api/v1/patients/{patient.pk}/thermograms/{suffix}"


def _form(data: bytes, name: str = "matrix.csv", **fields: Any) -> dict[str, Any]:
    form = {
        "image": SimpleUploadedFile(name, data, content_type="application/octet-stream"),
        "recorded_at": "2026-03-01T09:00:00+08:00",
        "client_uuid": str(uuid.uuid4()),
        "ambient_c": "22.5",
        "acclimatisation_min": "15",
        "view": "posterior",
    }
    form.update(fields)
    return form


def _upload(client: Any, patient: Any, data: bytes, **fields: Any) -> Any:
    return client.post(_url(patient), _form(data, **fields), format="multipart")


def test_csv_upload_then_resend(therapist_client: Any, patient: Any) -> None:
    form = _form(csv_bytes(body(), separator=";", decimal=",", header=("FLIR Tools export",)))
    response = therapist_client.post(_url(patient), form, format="multipart")
    assert response.status_code == 201, response.json()
    body_ = response.json()
    assert (body_["width"], body_["height"]) == (64, 48)
    assert (body_["min_c"], body_["max_c"]) == (24.0, 32.5)
    assert body_["image_left_is"] == "left"  # posterior view
    assert body_["image_url"] == f"/api/v1/patients/{patient.pk}/thermograms/{body_['id']}/image.png"
    stored = Thermogram.objects.get()
    assert stored.original.name.startswith(f"thermograms/{patient.pk}/")
    with stored.original.open("rb") as handle:
        assert handle.read().startswith(b"FLIR Tools export")
    assert AuditEvent.objects.filter(action="create", object_type="thermogram", patient_id=patient.pk).count() == 1

    form["image"] = SimpleUploadedFile("again.csv", csv_bytes(body()))
    again = therapist_client.post(_url(patient), form, format="multipart")
    assert again.status_code == 200
    assert again.json()["id"] == body_["id"]
    assert Thermogram.objects.count() == 1


def test_tiff_upload_and_default_side_for_anterior_view(therapist_client: Any, patient: Any) -> None:
    response = _upload(therapist_client, patient, tiff_bytes(body()), name="IR.tiff", view="anterior")
    assert response.status_code == 201, response.json()
    assert response.json()["image_left_is"] == "right"
    assert response.json()["kind"] == "tiff"
    assert response.json()["max_c"] == 32.5


@pytest.mark.parametrize(
    ("data", "fields", "field", "message"),
    [
        (b"\xff\xd8\xff\xe0JFIF" + b"\x00" * 64, {}, "image", "holds no FLIR radiometric data"),
        (flir_jpeg_bytes(body())[:2500], {}, "image", "The FLIR JPEG is truncated"),
        (flir_jpeg_bytes(body()), {"scale": "0.01", "offset": "0"}, "image", "carries its own calibration"),
        (b"GIF89a\x00\x00", {}, "image", "Unknown file type"),
        (csv_bytes(body()).replace(b"24.00", b"nan", 1), {}, "image", "NaN"),
        (csv_bytes(body() + 273.15), {}, "image", "not plausible"),
        (tiff_bytes(body())[:300], {}, "image", "truncated or corrupt"),
        (csv_bytes(body()), {"view": "sideways"}, "view", ""),
        (csv_bytes(body()), {"recorded_at": "2026-03-01T09:00:00"}, "recorded_at", "time zone"),
        (csv_bytes(body()), {"ambient_c": "80"}, "ambient_c", ""),
        (csv_bytes(body()), {"client_uuid": "nope"}, "client_uuid", ""),
        (csv_bytes(body()), {"scale": "0.01"}, "scale", "together"),
    ],
)
def test_bad_uploads_are_400_naming_the_field_and_not_stored(
    therapist_client: Any, patient: Any, data: bytes, fields: dict[str, Any], field: str, message: str
) -> None:
    response = _upload(therapist_client, patient, data, **fields)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert field in response.json()
    assert message in str(response.json()[field])
    assert not Thermogram.objects.exists()


def test_missing_image_is_400(therapist_client: Any, patient: Any) -> None:
    form = _form(b"")
    del form["image"]
    response = therapist_client.post(_url(patient), form, format="multipart")
    assert response.status_code == 400
    assert "image" in response.json()


def test_oversized_file_is_413(therapist_client: Any, patient: Any, settings: Any) -> None:
    settings.THERMOGRAM_MAX_BYTES = 1000
    response = _upload(therapist_client, patient, csv_bytes(body()))
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert not Thermogram.objects.exists()


def test_access(
    api_client_for: Any,
    patient: Any,
    other_patient: Any,
    foreign_patient: Any,
    therapist: Any,
    manager: Any,
    patient_client: Any,
    therapist_client: Any,
) -> None:
    # A therapist not on the care team, a foreign one, the manager and the patient may not upload.
    for target in (other_patient, foreign_patient):
        assert _upload(therapist_client, target, csv_bytes(body())).status_code == 404
    assert _upload(api_client_for(manager), patient, csv_bytes(body())).status_code == 404
    assert _upload(patient_client, patient, csv_bytes(body())).status_code in (403, 404)
    assert not Thermogram.objects.exists()
    created = _upload(therapist_client, patient, csv_bytes(body())).json()
    # The manager views, the patient sees their own picture; nobody measures but the care team.
    assert api_client_for(manager).get(_url(patient, f"{created['id']}/")).status_code == 200
    assert patient_client.get(_url(patient, f"{created['id']}/image.png")).status_code == 200
    rois = {"midline_x": MIDLINE, "rois": [{"region": "L5", "x": 8, "y": 10, "w": 8, "h": 20}]}
    assert api_client_for(manager).post(_url(patient, f"{created['id']}/rois/"), rois, format="json").status_code == 404
    # Another patient's id with this thermogram's id: not found.
    assert therapist_client.get(_url(other_patient, f"{created['id']}/")).status_code == 404
    assert therapist_client.get(_url(patient, "999999/")).status_code == 404


def test_png_is_rendered_on_the_patients_shared_scale(therapist_client: Any, patient: Any) -> None:
    from PIL import Image

    first = _upload(therapist_client, patient, csv_bytes(body())).json()
    png_alone = therapist_client.get(first["image_url"])
    assert png_alone.status_code == 200
    assert png_alone["Content-Type"] == "image/png"
    assert AuditEvent.objects.filter(action="view.png", object_type="thermogram").count() == 1
    # A warmer later visit widens the shared scale: the first picture gets darker.
    _upload(therapist_client, patient, csv_bytes(body(left_c=36.0, right_c=37.0)))
    png_shared = therapist_client.get(first["image_url"])
    before = Image.open(io.BytesIO(png_alone.content)).convert("RGB").getpixel((50, 15))
    after = Image.open(io.BytesIO(png_shared.content)).convert("RGB").getpixel((50, 15))
    assert sum(after) < sum(before)


def _measure(client: Any, patient: Any, thermogram_id: int, **body_: Any) -> Any:
    payload = {"midline_x": MIDLINE, "rois": [{"region": "L5 dermatome", "x": 8, "y": 10, "w": 8, "h": 20}]}
    payload.update(body_)
    return client.post(_url(patient, f"{thermogram_id}/rois/"), payload, format="json")


@pytest.mark.parametrize(("view", "left_c", "right_c"), [("posterior", 31.0, 32.5), ("anterior", 32.5, 31.0)])
def test_rois_make_a_thermal_assessment_with_asymmetry(
    therapist_client: Any, patient: Any, view: str, left_c: float, right_c: float
) -> None:
    thermogram = _upload(therapist_client, patient, csv_bytes(body()), view=view).json()
    response = _measure(therapist_client, patient, thermogram["id"], affected_side="left")
    assert response.status_code == 201, response.json()
    result = response.json()
    assert result["instrument"] == "thermal"
    assert result["answers"]["rois"] == [{"region": "L5 dermatome", "left_c": left_c, "right_c": right_c}]
    assert result["total"] == 1.5
    assert result["flags"] == ["thermal_asymmetry"]
    assert result["detail"]["rois"][0]["delta_c"] == left_c - right_c
    region = result["thermogram"]["rois"][0]
    assert region["drawn"] == {"x": 8, "y": 10, "w": 8, "h": 20}
    assert region["mirror"] == {"x": 48, "y": 10, "w": 8, "h": 20}
    assert region["left"]["mean_c"] == left_c
    assert region["left"]["pixels"] == 160
    assert result["recorded_at"].startswith("2026-03-01T01:00:00")
    # The same regions again: the stored assessment, not a second one.
    again = _measure(therapist_client, patient, thermogram["id"], affected_side="left")
    assert again.status_code == 200
    assert again.json()["id"] == result["id"]
    assert Assessment.objects.count() == ThermogramReading.objects.count() == 1


def test_rois_symmetric_with_poor_conditions(therapist_client: Any, patient: Any) -> None:
    thermogram = _upload(
        therapist_client, patient, csv_bytes(body(31.0, 31.4)), ambient_c="27", acclimatisation_min="5"
    ).json()
    result = _measure(therapist_client, patient, thermogram["id"]).json()  # affected side from the record
    assert result["answers"]["affected_side"] == "left"
    assert result["total"] == pytest.approx(0.4)
    assert result["flags"] == ["measurement_conditions"]


@pytest.mark.parametrize(
    ("body_", "field"),
    [
        ({"midline_x": 70}, "midline_x"),
        ({"rois": [{"region": "L5", "x": 28, "y": 0, "w": 8, "h": 4}]}, "rois[0]"),
        ({"rois": [{"region": "L5", "x": 60, "y": 0, "w": 8, "h": 4}]}, "rois[0]"),
        ({"rois": [{"region": "L5", "x": 8, "y": 0, "w": 0, "h": 4}]}, "rois"),
        ({"rois": []}, "rois"),
        ({"affected_side": "both"}, "affected_side"),
    ],
)
def test_bad_rois_are_400(therapist_client: Any, patient: Any, body_: dict[str, Any], field: str) -> None:
    thermogram = _upload(therapist_client, patient, csv_bytes(body())).json()
    response = _measure(therapist_client, patient, thermogram["id"], **body_)
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Assessment.objects.exists()


def test_region_colder_than_skin_is_400(therapist_client: Any, patient: Any) -> None:
    thermogram = _upload(therapist_client, patient, csv_bytes(body(left_c=10.0))).json()
    response = _measure(therapist_client, patient, thermogram["id"])
    assert response.status_code == 400
    assert "rois[0].left_c" in str(response.json()["answers"])
    assert not Assessment.objects.exists()


def test_client_uuid_of_another_patients_thermogram_conflicts(
    api_client_for: Any, therapist_client: Any, patient: Any, clinic: Any, therapist: Any
) -> None:
    from tests.factories import make_patient

    second = make_patient(clinic, therapists=(therapist,))
    first = _upload(therapist_client, patient, csv_bytes(body())).json()
    response = _upload(therapist_client, second, csv_bytes(body()), client_uuid=first["client_uuid"])
    assert response.status_code == 409
    assert "client_uuid" in response.json()
    assert Thermogram.objects.count() == 1


def test_upload_larger_than_the_json_body_limit(therapist_client: Any, patient: Any, settings: Any) -> None:
    import numpy as np

    matrix = np.full((600, 800), 30.25)
    data = csv_bytes(matrix, separator=";", decimal=",")
    assert len(data) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = _upload(therapist_client, patient, data)
    assert response.status_code == 201, response.content[:300]
    assert (response.json()["width"], response.json()["height"]) == (800, 600)


def test_flir_jpeg_end_to_end(therapist_client: Any, patient: Any) -> None:
    uploaded = _upload(therapist_client, patient, flir_jpeg_bytes(body(), png=True), name="FLIR0042.jpg")
    assert uploaded.status_code == 201, uploaded.json()
    assert uploaded.json()["kind"] == "flir"
    assert Thermogram.objects.get().original.name.endswith(".jpg")
    result = _measure(therapist_client, patient, uploaded.json()["id"], affected_side="right").json()
    assert result["answers"]["rois"] == [{"region": "L5 dermatome", "left_c": 31.0, "right_c": 32.5}]
    assert result["detail"]["rois"][0]["delta_c"] == 1.5
    assert result["flags"] == ["thermal_asymmetry"]


def test_above_normal_asymmetry_is_marked_without_the_crps_flag(therapist_client: Any, patient: Any) -> None:
    thermogram = _upload(therapist_client, patient, csv_bytes(body(31.0, 31.8))).json()
    payload = {
        "midline_x": MIDLINE,
        "affected_side": "left",
        "rois": [
            {"region": "L5 dermatome, calf", "x": 8, "y": 10, "w": 8, "h": 10},
            {"region": "Heel", "x": 8, "y": 20, "w": 8, "h": 10},
            {"region": "Thenar", "x": 9, "y": 12, "w": 4, "h": 4, "upper_normal_c": 0.5},
            {"region": "Hypothenar", "x": 9, "y": 16, "w": 4, "h": 4},
        ],
    }
    result = therapist_client.post(_url(patient, f"{thermogram['id']}/rois/"), payload, format="json").json()
    assert result["flags"] == []
    rois = {roi["region"]: roi for roi in result["thermogram"]["rois"]}
    assert rois["L5 dermatome, calf"]["delta_c"] == -0.8
    assert (rois["L5 dermatome, calf"]["upper_normal_site"], rois["L5 dermatome, calf"]["above_normal_asymmetry"]) == (
        "leg",
        True,
    )
    assert (rois["Heel"]["upper_normal_c"], rois["Heel"]["above_normal_asymmetry"]) == (1.0, False)
    assert (rois["Thenar"]["upper_normal_site"], rois["Thenar"]["above_normal_asymmetry"]) == ("given", True)
    assert rois["Hypothenar"]["above_normal_asymmetry"] is None


def test_list_is_paged_newest_first_in_few_queries(
    therapist_client: Any, patient: Any, django_assert_max_num_queries: Any
) -> None:
    for day in (1, 3, 2):
        _upload(therapist_client, patient, csv_bytes(body()), recorded_at=f"2026-03-0{day}T09:00:00+08:00")
    with django_assert_max_num_queries(6):  # auth, access, audit, count, page: not per row
        response = therapist_client.get(_url(patient), {"limit": 2})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["recorded_at"][:10] for r in results] == ["2026-03-03", "2026-03-02"]
    assert response.json()["count"] == 3
    assert AuditEvent.objects.filter(action="list", object_type="thermogram").count() == 1


# --- the matrix for drawing with a live ΔT ---------------------------------------------


def _decode(body_: dict[str, Any]) -> Any:
    import base64

    import numpy as np

    assert body_["encoding"] == "int16le-centi-celsius-base64"
    raw = np.frombuffer(base64.b64decode(body_["values"]), dtype="<i2")
    return raw.reshape(body_["height"], body_["width"]) / 100.0


def test_matrix_of_a_small_thermogram_is_the_whole_matrix(
    therapist_client: Any, api_client_for: Any, manager: Any, patient: Any, other_patient: Any
) -> None:
    import numpy as np

    created = _upload(therapist_client, patient, csv_bytes(body())).json()
    response = therapist_client.get(_url(patient, f"{created['id']}/matrix/"))
    assert response.status_code == 200
    data = response.json()
    assert (data["width"], data["height"], data["block"]) == (64, 48, 1)
    assert (data["source_width"], data["source_height"]) == (64, 48)
    np.testing.assert_allclose(_decode(data), body())
    assert AuditEvent.objects.filter(action="view.matrix", object_type="thermogram").count() == 1
    # Who may see the picture may see its temperatures; nobody else.
    assert api_client_for(manager).get(_url(patient, f"{created['id']}/matrix/")).status_code == 200
    assert therapist_client.get(_url(other_patient, f"{created['id']}/matrix/")).status_code == 404
    assert therapist_client.get(_url(patient, "999999/matrix/")).status_code == 404


def test_matrix_of_a_large_thermogram_is_averaged_in_blocks(therapist_client: Any, patient: Any) -> None:
    import numpy as np

    from tests.thermo_images import LEGS_COOL_PATCH, legs

    created = _upload(therapist_client, patient, tiff_bytes(legs()), name="IR.tiff").json()
    data = therapist_client.get(_url(patient, f"{created['id']}/matrix/")).json()
    assert (data["width"], data["height"], data["block"]) == (160, 120, 2)
    cells = _decode(data)
    x, y, w, h = LEGS_COOL_PATCH
    np.testing.assert_allclose(cells[y // 2 : (y + h) // 2, x // 2 : (x + w) // 2], 30.0)
    # The centi-kelvin TIFF is read to 0.01 degC; the cells keep that resolution.
    np.testing.assert_allclose(cells.mean(), legs().mean(), atol=0.01)


# --- deleting a thermogram deletes its file -------------------------------------------


def _stored(thermogram: Thermogram) -> bool:
    return thermogram.original.storage.exists(thermogram.original.name)


def test_delete_removes_the_row_and_then_the_file(
    therapist_client: Any, therapist: Any, patient: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from assessments.thermograms.services import thermogram_delete
    from patients.audit import Actor

    created = _upload(therapist_client, patient, csv_bytes(body())).json()
    thermogram = Thermogram.objects.get(pk=created["id"])
    assert _stored(thermogram)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        thermogram_delete(actor=Actor(user=therapist), thermogram=thermogram)
    assert not Thermogram.objects.exists()
    assert _stored(thermogram)  # until the deletion is committed
    for callback in callbacks:
        callback()
    assert not _stored(thermogram)
    event = AuditEvent.objects.get(action="delete", object_type="thermogram")
    assert event.patient_id == patient.pk
    assert event.detail["sha256"] == thermogram.sha256


def test_a_measured_thermogram_is_kept_unless_allowed(
    therapist_client: Any, therapist: Any, patient: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from assessments.thermograms.services import thermogram_delete
    from config.errors import ConflictError
    from patients.audit import Actor

    created = _upload(therapist_client, patient, csv_bytes(body())).json()
    assert _measure(therapist_client, patient, created["id"]).status_code == 201
    thermogram = Thermogram.objects.get(pk=created["id"])
    with pytest.raises(ConflictError):
        thermogram_delete(actor=Actor(user=therapist), thermogram=thermogram)
    assert Thermogram.objects.exists()
    assert _stored(thermogram)
    with django_capture_on_commit_callbacks(execute=True):
        thermogram_delete(actor=Actor(user=therapist), thermogram=thermogram, allow_measured=True)
    assert not _stored(thermogram)
    assert not ThermogramReading.objects.exists()
    assert Assessment.objects.filter(instrument="thermal").count() == 1  # the reading's numbers stay


def test_admin_delete_deletes_the_file(
    therapist_client: Any, patient: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from django.test import Client

    from tests.factories import make_user

    admin = Client()
    admin.force_login(make_user("site-admin", is_staff=True, is_superuser=True))
    first = Thermogram.objects.get(pk=_upload(therapist_client, patient, csv_bytes(body())).json()["id"])
    second = Thermogram.objects.get(pk=_upload(therapist_client, patient, csv_bytes(body())).json()["id"])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(f"/admin/assessments/thermogram/{first.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not _stored(first)
    assert _stored(second)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            "/admin/assessments/thermogram/",
            {"action": "delete_selected", "_selected_action": [second.pk], "post": "yes"},
        )
    assert response.status_code == 302
    assert not Thermogram.objects.exists()
    assert not _stored(second)
    assert AuditEvent.objects.filter(action="delete", object_type="thermogram").count() == 2
