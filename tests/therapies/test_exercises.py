"""Home exercise programmes: library, programme versioned with the plan, logs, access, media."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from PIL import Image

from config.errors import ConflictError, InvalidInput
from patients.audit import Actor
from patients.models import AuditEvent
from tests.conftest import client_for
from tests.factories import make_patient, make_staff
from tests.therapies.params import component, plan_body
from therapies.exercise_library import STARTER_LIBRARY
from therapies.exercises import (
    exercise_create,
    exercise_library_install,
    exercise_log_record,
    exercise_media_add,
    exercise_update,
    programme_set,
)
from therapies.models import Exercise, ExerciseLog, ExerciseMedia, PlanComponent, ProgrammeItem, RehabPlan
from therapies.services import patient_today, plan_version_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(clinic: Any, therapist: Any) -> dict[str, Exercise]:
    exercise_library_install(actor=Actor(user=therapist), clinic=clinic)
    return {e.slug: e for e in Exercise.objects.filter(clinic=clinic)}


def item(exercise: Exercise, **dose: Any) -> dict[str, Any]:
    return {
        "exercise": exercise.pk,
        "sets": 2,
        "reps": 10,
        "hold_seconds": 5,
        "rest_seconds": 30,
        "sessions_per_week": 5,
        "progression_note": "",
        **dose,
    }


def set_programme(therapist: Any, patient: Any, *items: dict[str, Any], version: int | None = None) -> RehabPlan:
    return programme_set(
        actor=Actor(user=therapist),
        patient=patient,
        expected_version=version if version is not None else _latest(patient),
        reason="Home programme for core control",
        items=list(items),
    )


def _latest(patient: Any) -> int:
    return RehabPlan.objects.filter(patient=patient).order_by("-version").values_list("version", flat=True).first() or 0


def png_bytes(size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


# -----------------------------------------------------------------------------
# Library
# -----------------------------------------------------------------------------


def test_starter_library_is_bilingual_and_covers_every_type(library):
    assert len(STARTER_LIBRARY) >= 20
    assert len(library) == len(STARTER_LIBRARY)
    types = {e.type for e in library.values()}
    assert {"core_stabilisation", "motor_control", "breathing", "aerobic", "stretching", "nerve_gliding"} <= types
    for slug in ("sciatic-slider-seated", "femoral-slider", "median-slider", "ulnar-slider", "tibial-slider"):
        assert library[slug].type == "nerve_gliding"
    for exercise in library.values():
        assert exercise.name_zh
        assert exercise.steps_zh
        assert exercise.name_en
        assert exercise.steps_en
        assert all("\u4e00" <= ch <= "\u9fff" for ch in exercise.name_zh[:1]), exercise.slug


def test_library_install_is_idempotent_and_keeps_edits(clinic, therapist, library):
    bridge = library["bridge"]
    exercise_update(
        actor=Actor(user=therapist),
        exercise=bridge,
        fields={**_fields(bridge), "name_en": "Bridge (our version)"},
    )
    call_command("load_exercise_library", clinic.slug)
    assert Exercise.objects.filter(clinic=clinic).count() == len(STARTER_LIBRARY)
    assert Exercise.objects.get(pk=bridge.pk).name_en == "Bridge (our version)"


def _fields(exercise: Exercise) -> dict[str, Any]:
    names = [
        "name_en",
        "name_zh",
        "steps_en",
        "steps_zh",
        "precautions_en",
        "precautions_zh",
        "contraindications_en",
        "contraindications_zh",
        "type",
        "body_region",
        "pictogram",
        "sets",
        "reps",
        "hold_seconds",
        "rest_seconds",
        "sessions_per_week",
    ]
    return {name: getattr(exercise, name) for name in names}


def test_exercise_create_names_the_bad_fields(clinic, therapist):
    with pytest.raises(InvalidInput) as caught:
        exercise_create(
            actor=Actor(user=therapist),
            clinic=clinic,
            fields={"name_en": "", "name_zh": "x", "steps_en": "a", "steps_zh": "b", "type": "yoga", "sets": 0},
        )
    assert {"name_en", "type", "body_region", "sets", "reps"} <= set(caught.value.errors)
    assert not Exercise.objects.exists()


def test_staff_list_only_their_clinics_library(clinic, other_clinic, therapist, manager, patient, library):
    exercise_library_install(actor=Actor(user=None), clinic=other_clinic)
    for user in (therapist, manager):
        response = client_for(user).get("/api/v1/exercises/?limit=100")
        assert response.status_code == 200
        ids = {row["id"] for row in response.json()["results"]}
        assert ids == {e.pk for e in library.values()}
    first = client_for(therapist).get("/api/v1/exercises/?type=nerve_gliding").json()["results"][0]
    assert first["name"]["zh-hans"]
    assert first["steps"]["en"]
    assert first["pictogram_url"].endswith(".svg")
    foreign = client_for(make_staff(other_clinic, "therapist")).get("/api/v1/exercises/?limit=100").json()
    assert not ({row["id"] for row in foreign["results"]} & ids)
    refused = client_for(patient.user).get("/api/v1/exercises/")
    assert refused.status_code == 403
    assert refused["Content-Type"].startswith("application/json")


# -----------------------------------------------------------------------------
# Programme
# -----------------------------------------------------------------------------


def test_programme_is_a_new_plan_version_with_a_reason(therapist, patient, library, therapist_client):
    plan_version_create(
        actor=Actor(user=therapist),
        patient=patient,
        expected_version=0,
        reason="Start",
        components=plan_body(component("tdcs"), component("tens"))["components"],
    )
    plan = set_programme(therapist, patient, item(library["bridge"]), item(library["median-slider"], sets=1))
    assert plan.version == 2
    assert plan.reason == "Home programme for core control"
    modalities = list(plan.components.values_list("modality", flat=True))
    assert modalities == ["tdcs", "tens", "exercise"]
    exercise_component = plan.components.get(modality="exercise")
    assert exercise_component.frequency_per_week == 5
    assert list(exercise_component.programme_items.values_list("exercise__slug", flat=True)) == [
        "bridge",
        "median-slider",
    ]
    body = therapist_client.get(f"/api/v1/patients/{patient.pk}/exercise-programme/").json()
    assert body["plan"]["version"] == 2
    assert body["component"] == exercise_component.pk
    assert [i["exercise"]["slug"] for i in body["items"]] == ["bridge", "median-slider"]
    assert body["items"][1]["sets"] == 1
    assert AuditEvent.objects.filter(action="programme.set").count() == 1


def test_stale_programme_edit_is_a_conflict(therapist, patient, library):
    set_programme(therapist, patient, item(library["bridge"]))
    with pytest.raises(ConflictError) as caught:
        set_programme(therapist, patient, item(library["bird-dog"]), version=0)
    assert "version" in caught.value.errors
    assert RehabPlan.objects.filter(patient=patient).count() == 1


def test_another_plan_edit_keeps_the_programme(therapist, patient, library):
    plan = set_programme(therapist, patient, item(library["bridge"]), item(library["bird-dog"]))
    components = [
        {
            "modality": c.modality,
            "parameters": c.parameters,
            "frequency_per_week": c.frequency_per_week,
            "duration_weeks": c.duration_weeks,
        }
        for c in plan.components.all()
    ] + [plan_body(component("tens"))["components"][0]]
    newer = plan_version_create(
        actor=Actor(user=therapist), patient=patient, expected_version=1, reason="Add TENS", components=components
    )
    carried = ProgrammeItem.objects.filter(component__plan=newer)
    assert list(carried.values_list("exercise__slug", flat=True)) == ["bridge", "bird-dog"]
    assert ProgrammeItem.objects.filter(component__plan=plan).count() == 2  # the earlier version is kept


def test_programme_refuses_other_clinics_and_retired_exercises(therapist, patient, other_clinic, library):
    exercise_library_install(actor=Actor(user=None), clinic=other_clinic)
    foreign = Exercise.objects.filter(clinic=other_clinic).first()
    retired = library["cat-camel"]
    retired.is_active = False
    retired.save(update_fields=["is_active"])
    with pytest.raises(InvalidInput) as caught:
        set_programme(therapist, patient, item(foreign), item(retired), item(library["bridge"], reps=0))
    errors = caught.value.errors["items"]
    assert set(errors) == {"0", "1", "2"}
    assert "reps" in errors["2"]
    assert not RehabPlan.objects.exists()


def test_patient_and_manager_cannot_set_a_programme(patient, manager, library):
    body = {"version": None, "reason": "x", "items": [item(library["bridge"])]}
    for user in (patient.user, manager):
        response = client_for(user).post(f"/api/v1/patients/{patient.pk}/exercise-programme/", body, format="json")
        assert response.status_code in (403, 404)
    assert not RehabPlan.objects.exists()


def test_programme_api_post(therapist_client, patient, library):
    body = {"version": None, "reason": "First programme", "items": [item(library["brisk-walking"], hold_seconds=1200)]}
    response = therapist_client.post(f"/api/v1/patients/{patient.pk}/exercise-programme/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["items"][0]["hold_seconds"] == 1200
    again = therapist_client.post(f"/api/v1/patients/{patient.pk}/exercise-programme/", body, format="json")
    assert again.status_code == 409
    bad = therapist_client.post(
        f"/api/v1/patients/{patient.pk}/exercise-programme/",
        {**body, "version": 1, "items": [{**item(library["bridge"]), "sets": "3"}]},
        format="json",
    )
    assert bad.status_code == 400
    assert "items" in bad.json()


def test_patient_sees_only_their_own_programme(patient, other_patient, therapist, library):
    set_programme(therapist, patient, item(library["bridge"]))
    own = client_for(patient.user).get(f"/api/v1/patients/{patient.pk}/exercise-programme/")
    assert own.status_code == 200
    assert own.json()["items"]
    other = client_for(other_patient.user).get(f"/api/v1/patients/{patient.pk}/exercise-programme/")
    assert other.status_code == 404
    empty = client_for(other_patient.user).get(f"/api/v1/patients/{other_patient.pk}/exercise-programme/")
    assert empty.status_code == 200
    assert empty.json() == {
        "plan": None,
        "latest_version": 0,
        "component": None,
        "items": [],
        "media_bytes": 0,
    }


# -----------------------------------------------------------------------------
# Logs
# -----------------------------------------------------------------------------


def log_body(item_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "item": item_id,
        "sets_done": 2,
        "pain_after": 3,
        "difficulty": "right",
        "client_uuid": str(uuid.uuid4()),
        **extra,
    }


def test_log_is_idempotent(patient_client, patient, therapist, library):
    set_programme(therapist, patient, item(library["bridge"]))
    item_id = ProgrammeItem.objects.get().pk
    body = log_body(item_id)
    url = f"/api/v1/patients/{patient.pk}/exercise-logs/"
    first = patient_client.post(url, body, format="json")
    assert first.status_code == 201, first.content
    again = patient_client.post(url, {**body, "sets_done": 0}, format="json")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert ExerciseLog.objects.count() == 1
    assert first.json()["date"] == patient_today(patient).isoformat()
    listed = patient_client.get(url).json()["results"]
    assert [row["client_uuid"] for row in listed] == [body["client_uuid"]]


def test_log_refusals_name_the_field(patient_client, patient, other_patient, therapist, library):
    set_programme(therapist, patient, item(library["bridge"]))
    set_programme(therapist, other_patient_on_team(other_patient, therapist), item(library["bird-dog"]))
    own_item = ProgrammeItem.objects.get(component__plan__patient=patient).pk
    foreign_item = ProgrammeItem.objects.get(component__plan__patient=other_patient).pk
    url = f"/api/v1/patients/{patient.pk}/exercise-logs/"
    tomorrow = (patient_today(patient) + dt.timedelta(days=1)).isoformat()
    cases = [
        (log_body(foreign_item), "item"),
        (log_body(own_item, pain_after=11), "pain_after"),
        (log_body(own_item, difficulty="meh"), "difficulty"),
        (log_body(own_item, date=tomorrow), "date"),
        (log_body(own_item, sets_done=True), "sets_done"),
    ]
    for body, field in cases:
        response = patient_client.post(url, body, format="json")
        assert response.status_code == 400, (field, response.content)
        assert field in response.json(), (field, response.json())
    assert not ExerciseLog.objects.exists()


def other_patient_on_team(other_patient: Any, therapist: Any) -> Any:
    from patients.models import CareTeamMember

    CareTeamMember.objects.create(patient=other_patient, user=therapist)
    return other_patient


def test_log_of_an_earlier_version_item_is_kept(patient, therapist, library):
    set_programme(therapist, patient, item(library["bridge"]))
    old_item = ProgrammeItem.objects.get()
    set_programme(therapist, patient, item(library["bird-dog"]))
    recorded = exercise_log_record(
        actor=Actor(user=patient.user),
        patient=patient,
        item_id=old_item.pk,
        date=patient_today(patient),
        sets_done=2,
        client_uuid=uuid.uuid4(),
    )
    assert recorded.created
    assert recorded.obj.exercise_id == library["bridge"].pk


# -----------------------------------------------------------------------------
# Media
# -----------------------------------------------------------------------------


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EXERCISE_IMAGE_MAX_BYTES = 50_000
    settings.EXERCISE_VIDEO_MAX_BYTES = 80_000
    return settings.MEDIA_ROOT


def upload(data: bytes, name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 100
WEBM = b"\x1a\x45\xdf\xa3" + b"\x00" * 100


def test_media_accepts_pictures_and_videos_by_content(media_root, therapist, library):
    actor = Actor(user=therapist)
    bridge = library["bridge"]
    picture = exercise_media_add(actor=actor, exercise=bridge, upload=upload(png_bytes(), "x.mp4"))
    assert (picture.kind, picture.content_type, picture.width) == ("image", "image/png", 40)
    video = exercise_media_add(actor=actor, exercise=bridge, upload=upload(MP4, "clip.png"))
    webm = exercise_media_add(actor=actor, exercise=bridge, upload=upload(WEBM, "clip"))
    assert (video.content_type, webm.content_type) == ("video/mp4", "video/webm")
    assert picture.file.name.endswith(".png")
    assert "x.mp4" not in picture.file.name


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.4 not a picture", "damaged or not a picture"),
        (png_bytes()[:60], "damaged"),
        (b"", "empty"),
        (b"\x1a\x45\xdf\xa3" + b"\x00" * 90_000, "video"),
        (png_bytes((400, 400)) + b"\x00" * 60_000, "bytes"),
    ],
)
def test_media_refuses_wrong_type_damage_and_size(media_root, therapist, library, data, message):
    with pytest.raises(InvalidInput) as caught:
        exercise_media_add(actor=Actor(user=therapist), exercise=library["bridge"], upload=upload(data))
    assert message in caught.value.errors["file"]
    assert not ExerciseMedia.objects.exists()


def test_media_is_served_to_staff_and_to_patients_with_the_exercise(
    media_root, therapist, patient, other_patient, other_clinic, library
):
    media = exercise_media_add(actor=Actor(user=therapist), exercise=library["bridge"], upload=upload(png_bytes()))
    url = f"/api/v1/exercises/{library['bridge'].pk}/media/{media.pk}/"
    assert client_for(patient.user).get(url).status_code == 404  # not in their programme yet
    set_programme(therapist, patient, item(library["bridge"]))
    response = client_for(patient.user).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == media.file.open("rb").read()
    assert client_for(therapist).get(url).status_code == 200
    assert client_for(other_patient.user).get(url).status_code == 404
    assert client_for(make_staff(other_clinic, "therapist")).get(url).status_code == 404
    programme = client_for(patient.user).get(f"/api/v1/patients/{patient.pk}/exercise-programme/").json()
    assert programme["items"][0]["exercise"]["media"][0]["url"] == url
    assert programme["media_bytes"] == media.size_bytes


def test_list_and_programme_query_counts(django_assert_max_num_queries, therapist, patient, library):
    set_programme(therapist, patient, *(item(e) for e in list(library.values())[:8]))
    client = client_for(therapist)
    client.get("/api/v1/exercises/")  # warm the token's user cache path
    with django_assert_max_num_queries(12):
        assert client.get("/api/v1/exercises/?limit=100").status_code == 200
    with django_assert_max_num_queries(16):
        assert client.get(f"/api/v1/patients/{patient.pk}/exercise-programme/").status_code == 200


def test_foreign_clinic_patient_on_programme_is_refused(other_clinic, library, therapist):
    foreign = make_patient(other_clinic, therapists=(make_staff(other_clinic, "therapist"),))
    with pytest.raises(InvalidInput):
        set_programme(therapist, foreign, item(library["bridge"]))
    assert not PlanComponent.objects.exists()


def test_demo_seed_loads_the_library_and_programmes(clinic, therapist):
    from tests.factories import make_demo_cohort
    from therapies import demo
    from therapies.exercise_selectors import adherence_for

    cohort = make_demo_cohort(clinic, therapist)
    demo.seed(clinic)
    assert Exercise.objects.filter(clinic=clinic).count() == len(STARTER_LIBRARY)
    first = cohort[0]
    assert ProgrammeItem.objects.filter(component__plan__patient=first).exists()
    results, _exercises = adherence_for(first)
    assert any(r.skipped for r in results)
    assert any(r.flares for r in results)
    counts = ExerciseLog.objects.count()
    demo.seed(clinic)
    assert ExerciseLog.objects.count() == counts
