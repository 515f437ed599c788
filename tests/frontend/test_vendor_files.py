"""Vendored front-end files are exactly the npm files VERSIONS.txt names, and the plotly
Chinese locale is loaded on Chinese chart pages only."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from django.test import Client

VENDOR = Path(__file__).resolve().parents[2] / "frontend/static/frontend/vendor"


def _recorded() -> dict[str, tuple[str, int]]:
    text = (VENDOR / "VERSIONS.txt").read_text(encoding="utf-8")
    out = {}
    for block in re.split(r"\n(?=\S)", text):
        name = block.split("\n", 1)[0].strip()
        sha = re.search(r"sha256:\s+([0-9a-f]{64})", block)
        size = re.search(r"size:\s+(\d+) bytes", block)
        if sha and size:
            out[name] = (sha.group(1), int(size.group(1)))
    return out


def test_every_vendored_file_is_recorded_with_its_checksum() -> None:
    recorded = _recorded()
    files = sorted(p.name for p in VENDOR.iterdir() if p.suffix == ".js")
    assert "plotly-locale-zh-cn.js" in files
    assert sorted(recorded) == files
    for name, (sha, size) in recorded.items():
        data = (VENDOR / name).read_bytes()
        assert len(data) == size, name
        assert hashlib.sha256(data).hexdigest() == sha, name


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "loaded"), [("en", False), ("zh-hans", True)])
def test_plotly_locale_only_on_chinese_chart_pages(therapist, manager, patient, language, loaded):
    for user, url in ((therapist, f"/clinic/patients/{patient.pk}/"), (manager, "/clinic/outcomes/")):
        client = Client()
        client.force_login(user)
        client.cookies["django_language"] = language
        html = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert ("vendor/plotly-locale-zh-cn.js" in html) is loaded, url
        if loaded:  # after plotly itself, so it registers with the loaded library
            assert html.index("vendor/plotly.min.js") < html.index("vendor/plotly-locale-zh-cn.js")


@pytest.mark.django_db
def test_chart_pages_fetch_plotly_after_the_page_not_with_it(therapist, manager, patient):
    """No <script src=plotly> in the page: the page's script loads it once the page is parsed,
    so text and forms work (DOMContentLoaded) without waiting for the largest file."""
    for user, url, script in (
        (therapist, f"/clinic/patients/{patient.pk}/", "console"),
        (manager, "/clinic/outcomes/", "outcomes"),
    ):
        client = Client()
        client.force_login(user)
        html = client.get(url).content.decode()
        assert not re.search(r'<script[^>]+src="[^"]*plotly\.min', html), url
        # The shared loader names plotly; the page's own chart script runs after it.
        loader = re.search(r'<script[^>]+src="[^"]*plotly-loader\.js"[^>]+data-plotly="[^"]*plotly\.min\.js"', html)
        own = re.search(rf'<script[^>]+src="[^"]*{script}\.js"', html)
        assert loader, url
        assert own, url
        assert loader.start() < own.start(), url
