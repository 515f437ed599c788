"""Console pages of the exercise library and a patient's programme; the printable programme."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from patients.audit import Actor
from tests.factories import make_staff, page_client
from tests.therapies.test_exercises import item, png_bytes, set_programme
from therapies.exercises import exercise_library_install, exercise_log_record
from therapies.models import Exercise, ExerciseMedia, ProgrammeItem, RehabPlan
from therapies.services import patient_today

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(clinic: Any) -> dict[str, Exercise]:
    exercise_library_install(actor=Actor(user=None), clinic=clinic)
    return {e.slug: e for e in Exercise.objects.filter(clinic=clinic)}


def test_library_page_lists_and_adds(clinic, therapist, library):
    client = page_client(therapist)
    page = client.get("/clinic/exercises/")
    assert page.status_code == 200
    assert "Sciatic nerve glide, sitting" in page.content.decode()
    fields = {
        "name_en": "Heel slides",
        "name_zh": "足跟滑动",
        "type": "motor_control",
        "body_region": "lumbar",
        "steps_en": "Lie down.\nSlide one heel.",
        "steps_zh": "仰卧。\n滑动脚跟。",
        "sets": 1,
        "reps": 10,
        "hold_seconds": 0,
        "rest_seconds": 0,
        "sessions_per_week": 7,
        "is_active": "on",
    }
    response = client.post("/clinic/exercises/", fields)
    assert response.status_code == 302
    created = Exercise.objects.get(name_en="Heel slides")
    assert created.clinic_id == clinic.pk
    bad = client.post("/clinic/exercises/", {**fields, "type": "yoga"})
    assert bad.status_code == 400


def test_manager_reads_but_does_not_edit_the_library(clinic, manager, library):
    client = page_client(manager)
    assert client.get("/clinic/exercises/").status_code == 200
    bridge = library["bridge"]
    assert client.get(f"/clinic/exercises/{bridge.pk}/").status_code == 200
    assert client.post(f"/clinic/exercises/{bridge.pk}/", {"name_en": "x"}).status_code == 403
    assert client.post("/clinic/exercises/", {"name_en": "x"}).status_code == 403


def test_other_clinic_cannot_open_the_exercise(other_clinic, library):
    client = page_client(make_staff(other_clinic, "therapist"))
    assert client.get(f"/clinic/exercises/{library['bridge'].pk}/").status_code == 404


def test_media_upload_page_checks_the_file(settings, tmp_path, therapist, library):
    settings.MEDIA_ROOT = tmp_path / "media"
    client = page_client(therapist)
    url = f"/clinic/exercises/{library['bridge'].pk}/media/"
    refused = client.post(url, {"file": SimpleUploadedFile("a.png", b"not a picture"), "caption": ""})
    assert refused.status_code == 400
    assert "not a picture" in refused.content.decode()
    ok = client.post(url, {"file": SimpleUploadedFile("a.png", png_bytes()), "caption": "start position"})
    assert ok.status_code == 302
    media = ExerciseMedia.objects.get()
    removed = client.post(f"/clinic/exercises/{library['bridge'].pk}/media/{media.pk}/delete/")
    assert removed.status_code == 302
    assert not ExerciseMedia.objects.exists()


def test_programme_editor_saves_a_new_version(therapist, patient, library):
    client = page_client(therapist)
    page = client.get(f"/clinic/patients/{patient.pk}/exercises/")
    assert page.status_code == 200
    bridge, glide = library["bridge"], library["median-slider"]
    form = {
        "version": "0",
        "reason": "Start home exercise",
        f"pick_{bridge.pk}": "on",
        f"sets_{bridge.pk}": "2",
        f"reps_{bridge.pk}": "12",
        f"hold_seconds_{bridge.pk}": "5",
        f"rest_seconds_{bridge.pk}": "30",
        f"sessions_per_week_{bridge.pk}": "4",
        f"progression_note_{bridge.pk}": "Single-leg bridge from week 3",
        f"pick_{glide.pk}": "on",
        f"sets_{glide.pk}": "1",
        f"reps_{glide.pk}": "10",
        f"hold_seconds_{glide.pk}": "0",
        f"rest_seconds_{glide.pk}": "0",
        f"sessions_per_week_{glide.pk}": "7",
    }
    saved = client.post(f"/clinic/patients/{patient.pk}/exercises/", form)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    items = list(ProgrammeItem.objects.order_by("order").values_list("exercise__slug", "reps", "progression_note"))
    assert items == [("bridge", 12, "Single-leg bridge from week 3"), ("median-slider", 10, "")]
    stale = client.post(f"/clinic/patients/{patient.pk}/exercises/", form)
    assert stale.status_code == 409
    assert RehabPlan.objects.count() == 1
    bad = client.post(f"/clinic/patients/{patient.pk}/exercises/", {**form, "version": "1", f"reps_{bridge.pk}": "0"})
    assert bad.status_code == 400
    assert "Bridge" in bad.content.decode()


def test_adherence_marks_skipped_and_flares(therapist, patient, library):
    set_programme(therapist, patient, item(library["bridge"], sessions_per_week=7), item(library["bird-dog"]))
    bridge_item = ProgrammeItem.objects.get(exercise=library["bridge"])
    dog_item = ProgrammeItem.objects.get(exercise=library["bird-dog"])
    today = patient_today(patient)
    actor = Actor(user=patient.user)
    for pain in (3, 3):
        exercise_log_record(
            actor=actor,
            patient=patient,
            item_id=dog_item.pk,
            date=today,
            sets_done=2,
            pain_after=pain,
            client_uuid=uuid.uuid4(),
        )
    exercise_log_record(
        actor=actor,
        patient=patient,
        item_id=bridge_item.pk,
        date=today,
        sets_done=2,
        pain_after=7,
        difficulty="too_hard",
        client_uuid=uuid.uuid4(),
    )
    page = page_client(therapist).get(f"/clinic/patients/{patient.pk}/exercises/adherence/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "flag-flare" in html
    assert 'data-exercise="bridge"' in html


def test_print_view_in_the_patients_language(patient, therapist, library):
    patient.language = "zh-hans"
    patient.save(update_fields=["language"])
    set_programme(therapist, patient, item(library["sciatic-slider-seated"]))
    for user in (patient.user, therapist):
        page = page_client(user).get(f"/patients/{patient.pk}/exercise-programme/print/")
        assert page.status_code == 200
        html = page.content.decode()
        assert "坐姿坐骨神经滑动" in html
        assert "exercises-print.css" in html
