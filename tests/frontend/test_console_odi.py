"""The ODI from the paper form in the console: clinicians enter the ten section scores
(no licensed wording on screen, so no content pack is needed), stored as a clinician entry."""

from __future__ import annotations

import re
import uuid

import pytest

from assessments.models import Assessment, ContentPack
from tests.factories import page_client as client_for


def odi_post(**sections: str) -> dict[str, str]:
    data = {"odi-client_uuid": str(uuid.uuid4()), "odi-recorded_at": "2026-11-30T10:00"}
    data.update({f"odi-section{n}": "" for n in range(1, 11)})
    data.update({f"odi-{key}": value for key, value in sections.items()})
    return data


@pytest.mark.django_db
def test_clinician_enters_section_scores_without_a_content_pack(therapist, patient):
    assert not ContentPack.objects.exists()
    client = client_for(therapist)
    page = client.get(f"/clinic/patients/{patient.pk}/").content.decode()
    assert 'id="odi-form"' in page
    assert "Pain intensity" in page
    scores = {f"section{n}": str(n % 6) for n in range(1, 11) if n != 8}
    response = client.post(f"/clinic/patients/{patient.pk}/odi/", odi_post(**scores), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "ODI scores saved." in response.content.decode()
    odi = Assessment.objects.get(patient=patient, instrument="odi")
    assert odi.source == "clinician"
    assert odi.answers["section8"] is None
    assert odi.answers["section3"] == 3
    assert odi.detail["answered"] == 9
    assert odi.total == round(sum(n % 6 for n in range(1, 11) if n != 8) * 20 / 9, 1)


@pytest.mark.django_db
def test_nothing_answered_is_refused_and_nothing_stored(therapist, patient):
    response = client_for(therapist).post(f"/clinic/patients/{patient.pk}/odi/", odi_post(), HTTP_HX_REQUEST="true")
    assert re.search(r'class="form-errors"', response.content.decode())
    assert not Assessment.objects.filter(instrument="odi").exists()


@pytest.mark.django_db
def test_a_score_outside_0_to_5_is_an_error_on_its_section(therapist, patient):
    response = client_for(therapist).post(
        f"/clinic/patients/{patient.pk}/odi/", odi_post(section1="7"), HTTP_HX_REQUEST="true"
    )
    assert re.search(r'id="fb-odi-section1"[^>]*><span class="error">', response.content.decode())
    assert not Assessment.objects.filter(instrument="odi").exists()


@pytest.mark.django_db
def test_the_odi_form_speaks_chinese(therapist, patient):
    page = client_for(therapist, "zh-hans").get(f"/clinic/patients/{patient.pk}/").content.decode()
    assert "疼痛程度" in page
    assert "ODI from the paper form" not in page
