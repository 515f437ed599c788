"""The patient PWA at /app/: access, the installable-app files, translations, no CDN."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils import timezone

from assessments.models import Assessment
from frontend.charts import patient_progress_figure
from patients.models import AuditEvent

FRONTEND = Path(settings.BASE_DIR) / "frontend"
PWA_FILES = [
    *sorted((FRONTEND / "templates" / "frontend" / "patient").glob("*.html")),
    FRONTEND / "templates" / "frontend" / "base.html",
    FRONTEND / "static" / "frontend" / "sw.js",
    FRONTEND / "static" / "frontend" / "manifest.webmanifest",
    FRONTEND / "static" / "frontend" / "app.css",
    *sorted((FRONTEND / "static" / "frontend" / "pwa").glob("*")),
]
# An absolute URL to anywhere but this site (an XML namespace is a name, not a fetch).
EXTERNAL_URL = re.compile(r"https?://(?!localhost[:/]|127\.0\.0\.1[:/]|www\.w3\.org/)[^\s\"'<>)]+")


def _client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _config(html: str) -> dict:
    match = re.search(r'<script id="app-config" type="application/json">(.*?)</script>', html, re.S)
    assert match, "app config missing"
    return json.loads(match.group(1))


@pytest.mark.django_db
def test_app_renders_for_the_patient(patient):
    response = _client_for(patient.user).get("/app/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Own Patient" in html
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert response["Cache-Control"] == "private, no-store"
    config = _config(html)
    assert config["patient"] == patient.pk
    assert config["urls"]["sync"] == "/api/v1/sync/"
    assert config["urls"]["instruments"] == "/api/v1/instruments/"
    assert config["urls"]["due"] == f"/api/v1/patients/{patient.pk}/due/"
    assert config["urls"]["sw"] == "/sw.js"
    # NRS 0-10 as eleven buttons, the VAS line starts with no mark.
    assert len(re.findall(r'class="nrs-btn nrs-\d+"', html)) == 11
    assert re.search(r'<div class="vas-thumb" id="vas-thumb" hidden>', html)
    assert "aria-valuenow" not in html.split('id="vas-track"')[1].split(">")[0]
    # Crisis resources are bundled in the page, so they show offline.
    assert "010-82951332" in html
    assert "400-161-9995" in html
    assert 'href="tel:120"' in html
    assert AuditEvent.objects.filter(patient_id=patient.pk, action="view.app").count() == 1


@pytest.mark.django_db
def test_app_page_query_budget(patient, django_assert_num_queries):
    client = _client_for(patient.user)
    # session, user, own patient id, patient + clinic, audit insert, NRS, VAS, the baseline's
    # day 0 and its week's entries, the PHQ-9/GAD-7/ODI totals, whether the ODI's licensed text
    # is loaded (the patient's own record needs no staff-membership lookup)
    with django_assert_num_queries(11):
        assert client.get("/app/").status_code == 200


@pytest.mark.django_db
def test_staff_get_404_and_anonymous_is_sent_to_sign_in(therapist, manager, patient):
    assert _client_for(therapist).get("/app/").status_code == 404
    assert _client_for(manager).get("/app/").status_code == 404
    assert _client_for(therapist).get("/app/progress/").status_code == 404
    anonymous = Client().get("/app/")
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/login/?next=/app/")
    assert Client().get("/app/progress/").status_code == 302


@pytest.mark.django_db
def test_progress_is_the_patients_own_pain_series(patient, other_patient):
    now = timezone.now()
    for days, score in ((3, 7), (2, 6), (1, 4)):
        Assessment.objects.create(
            patient=patient,
            instrument="nrs",
            answers={"score": score},
            total=score,
            recorded_at=now - dt.timedelta(days=days),
            client_uuid=uuid.uuid4(),
        )
    Assessment.objects.create(
        patient=patient,
        instrument="vas",
        answers={"score_mm": 55.0},
        total=55.0,
        recorded_at=now,
        client_uuid=uuid.uuid4(),
    )
    Assessment.objects.create(
        patient=other_patient,
        instrument="nrs",
        answers={"score": 9},
        total=9,
        recorded_at=now,
        client_uuid=uuid.uuid4(),
    )

    response = _client_for(patient.user).get("/app/progress/")
    assert response.status_code == 200
    figure = response.json()
    nrs, goal, vas = figure["data"]
    assert nrs["y"] == [7, 6, 4]  # time order, and not the other patient's 9
    assert goal["y"] == [4.0, 4.0]  # 30 % below the baseline week's mean (7 + 6 + 4) / 3
    assert vas["y"] == [55.0]
    assert vas["yaxis"] == "y2"
    # Shown in the patient's time zone (Asia/Shanghai in the factories).
    local = (now - dt.timedelta(days=3)).astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")
    assert nrs["x"][0] == local
    assert figure["layout"]["template"] == {}


def test_progress_figure_is_small_and_pure():
    empty = patient_progress_figure(nrs=[], vas=[], labels={})
    assert empty["data"] == []
    assert "yaxis2" not in empty["layout"]
    figure = patient_progress_figure(nrs=[("2026-01-01 09:00", 0.0)], vas=[], labels={"nrs": "Pain"}, baseline=0.0)
    assert [trace["name"] for trace in figure["data"]] == ["Pain"]  # no goal line below a zero baseline
    assert len(json.dumps(figure)) < 2000


@pytest.mark.django_db
def test_manifest_is_served_with_install_fields():
    response = Client().get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(b"".join(response.streaming_content))
    assert manifest["name"]
    assert manifest["short_name"]
    assert manifest["start_url"] == "/app/"
    assert manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == manifest["background_color"] == "#0f766e"
    icons = {(icon["sizes"], icon.get("purpose", "any")): icon["src"] for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= set(icons)
    for src in icons.values():
        assert src.startswith(settings.STATIC_URL)
        assert finders.find(src.removeprefix(settings.STATIC_URL)), src


@pytest.mark.django_db
def test_service_worker_is_served_from_the_root():
    response = Client().get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript"
    assert response["Service-Worker-Allowed"] == "/"
    source = b"".join(response.streaming_content).decode()
    assert re.search(r'var VERSION = "v\d+"', source)
    assert 'addEventListener("sync"' in source
    # No static file by its unhashed name: the page sends the (hashed) URLs it uses, so the
    # worker never downloads a second copy of a file the page already has.
    block = re.search(r"var SHELL_URLS = \[(.*?)\];", source, re.S)
    assert block is not None
    assert re.findall(r'"(/static/[^"]+)"', block.group(1)) == []
    assert '"/api/v1/instruments/"' in source
    assert 'var APP_URL = "/app/"' in source


@pytest.mark.django_db
def test_app_in_chinese(patient):
    client = _client_for(patient.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    html = client.get("/app/").content.decode()
    assert '<html lang="zh-hans">' in html
    for text in ("今天", "我的进展", "居家锻炼", "北京心理危机研究与干预中心", "您不必独自面对"):
        assert text in html, text
    config = _config(html)
    assert config["lang"] == "zh-hans"
    assert config["strings"]["saved_queued"] == "已保存在这部手机上，联网后会自动发送。"
    english = _config(_client_for(patient.user).get("/app/").content.decode())
    assert english["lang"] == "en"
    assert english["strings"]["saved_queued"].startswith("Saved on this phone")


def test_no_external_urls_in_pwa_files():
    offenders = []
    for path in PWA_FILES:
        for match in EXTERNAL_URL.finditer(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(settings.BASE_DIR)}: {match.group(0)}")
    assert offenders == []
    assert len(PWA_FILES) >= 8


@pytest.mark.django_db
def test_rendered_app_loads_nothing_from_other_hosts(patient):
    html = _client_for(patient.user).get("/app/").content.decode()
    for attr in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert attr.startswith(("/", "#", "tel:")), attr


@pytest.mark.django_db
def test_every_app_string_has_a_chinese_translation(patient):
    client = _client_for(patient.user)
    english = _config(client.get("/app/").content.decode())["strings"]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    chinese = _config(client.get("/app/").content.decode())["strings"]
    assert set(chinese) == set(english)
    same = sorted(key for key in english if chinese[key] == english[key])
    assert same == ["progress_of"], same  # "%(current)s / %(total)s" reads the same
    # A refused entry "needs correction", in the patient's language, never "will be sent".
    assert english["state_rejected"] == "Needs correction"
    assert chinese["state_rejected"] == "需要更正"
    assert "online" not in english["saved_rejected"]
    for key in ("reason_answer", "draft_meta", "too_many_skipped", "sync_rejected"):
        placeholders = sorted(re.findall(r"%\(\w+\)s", english[key]))
        assert sorted(re.findall(r"%\(\w+\)s", chinese[key])) == placeholders, key


@pytest.mark.django_db
def test_my_entries_and_done_today_are_read_from_the_server(patient, other_patient):
    """The app's "My entries" reads the patient's own assessment list and "Done today" the
    due items, completed ones included; both only the patient's own."""
    from assessments.capture.services import assessment_record
    from assessments.models import DueItem, DueStatus
    from patients.audit import Actor

    now = timezone.now()
    DueItem.objects.create(
        patient=patient,
        instrument="gad7",
        due_at=now - dt.timedelta(hours=1),
        closes_at=now + dt.timedelta(hours=12),
        local_date=now.astimezone(dt.timezone(dt.timedelta(hours=8))).date(),
    )
    entry = uuid.uuid4()
    assessment_record(
        actor=Actor(user=patient.user),
        patient=patient,
        instrument="gad7",
        answers={f"item{n}": 1 for n in range(1, 8)},
        recorded_at=now,
        client_uuid=entry,
        source="patient",
    )
    client = _client_for(patient.user)
    config = _config(client.get("/app/").content.decode())
    url = config["urls"]["assessments"]
    assert url == f"/api/v1/patients/{patient.pk}/assessments/"
    since = (now - dt.timedelta(days=14)).isoformat()
    listed = client.get(url, {"since": since})
    assert listed.status_code == 200
    (row,) = listed.json()["results"]
    assert row["client_uuid"] == str(entry)
    assert {"instrument", "answers", "total", "recorded_at", "completes"} <= set(row)
    due = client.get(config["urls"]["due"]).json()
    assert [(item["instrument"], item["status"]) for item in due["items"]] == [("gad7", DueStatus.COMPLETED)]
    # Another patient's list is not reachable from this login.
    assert client.get(f"/api/v1/patients/{other_patient.pk}/assessments/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "sentence", "band", "axis"),
    [
        ("en", "Your pain is 43 % lower than when you started.", "Moderate", "Pain (0–10)"),
        ("zh-hans", "您的疼痛比开始时减轻了 43 %。", "中度", "疼痛（0–10）"),
    ],
)
def test_progress_tells_the_pain_change_and_shows_the_questionnaires(patient, language, sentence, band, axis):
    """Baseline = plan week 0 mean, current = last 7 days (assessments.outcomes.windows): 7 -> 4 is 43 % lower."""
    now = timezone.now()
    for days in range(20, 13, -1):
        Assessment.objects.create(
            patient=patient, instrument="nrs", answers={"score": 7}, total=7,
            recorded_at=now - dt.timedelta(days=days), client_uuid=uuid.uuid4(),
        )  # fmt: skip
    for days in range(6, 0, -1):
        Assessment.objects.create(
            patient=patient, instrument="nrs", answers={"score": 4}, total=4,
            recorded_at=now - dt.timedelta(days=days), client_uuid=uuid.uuid4(),
        )  # fmt: skip
    for days, total in ((15, 16), (2, 12)):
        Assessment.objects.create(
            patient=patient, instrument="phq9", answers={}, total=total,
            recorded_at=now - dt.timedelta(days=days), client_uuid=uuid.uuid4(),
        )  # fmt: skip
    client = _client_for(patient.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    figure = client.get("/app/progress/", HTTP_ACCEPT_LANGUAGE=language).json()
    assert figure["summary"] == sentence
    assert figure["layout"]["yaxis"]["title"]["text"] == axis
    (phq9,) = figure["scores"]  # no GAD-7 or ODI answered: no empty charts
    assert phq9["code"] == "phq9"
    assert band in phq9["latest"]  # 12 is moderate depression
    assert phq9["figure"]["data"][0]["y"] == [16, 12]
    assert len(phq9["figure"]["layout"]["shapes"]) >= 5  # the severity bands
    page = client.get("/app/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert sentence in page  # readable before any script runs


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (None, "After a week of pain entries"),
        (-35.2, "Your pain is 35 % lower than when you started."),
        (12.6, "Your pain is 13 % higher than when you started."),
        (0.3, "Your pain is about the same as when you started."),
    ],
)
def test_pain_sentence(change, expected):
    from django.utils import translation

    from frontend.views.patient import pain_sentence

    with translation.override("en"):
        assert pain_sentence(change).startswith(expected)


@pytest.mark.django_db
def test_the_odi_is_offered_only_once_its_licensed_text_is_loaded(patient):
    from assessments.capture.content_packs import content_pack_load
    from patients.audit import Actor
    from tests.content_packs import odi_pack

    client = _client_for(patient.user)
    assert 'href="#q/odi"' not in client.get("/app/").content.decode()
    content_pack_load(actor=Actor.system("test"), data=odi_pack())
    assert 'href="#q/odi"' in client.get("/app/").content.decode()
