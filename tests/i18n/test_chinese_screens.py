"""Chinese staff and patient screens carry no English words beyond abbreviations and patient data.

Each page is rendered in zh-hans for a patient with something on every card (alerts built by
services, plan components, charts); the visible text and the chart figures' titles, names and
hover templates are searched for English words.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.test import Client

from tests.i18n.zh_data import populate

# Abbreviations and units used as such in Chinese clinical text, and the language switcher's
# own-language option ("English").
ALLOWED = {
    "NRS", "VAS", "PHQ", "GAD", "ODI", "DN4", "MCID", "tDCS", "rTMS", "TENS", "PNS", "DREZ", "CSV", "UTC",
    "min", "cm", "mA", "Hz", "RMT", "Wilson", "bootstrap", "English", "extra", "br", "customdata",
}  # fmt: skip
WORD = re.compile(r"(?<![#\w])[A-Za-z][A-Za-z0-9]{2,}")


def _english(text: str, ignore: tuple[str, ...]) -> set[str]:
    for value in ignore:
        text = text.replace(value, " ")
    # Tokens with digits are codes, hashes and ids (DN4, M1, a CSRF token), not English words.
    return {word for word in WORD.findall(text) if word not in ALLOWED and not any(c.isdigit() for c in word)}


def _visible_text(html: str) -> str:
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", "\n", text)
    return text


def _figure_texts(html: str) -> str:
    """Titles, trace names, annotations and hover templates of every figure in the page."""
    out: list[str] = []

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, k)
        elif isinstance(node, list):
            for v in node:
                walk(v, key)
        elif isinstance(node, str) and key in {"text", "name", "hovertemplate", "title"}:
            out.append(re.sub(r"%\{[^}]*\}", " ", node))

    for body in re.findall(r'<script[^>]*type="application/json"[^>]*>(.*?)</script>', html, re.S):
        try:
            walk(json.loads(body))
        except json.JSONDecodeError:
            continue
    return "\n".join(out)


@pytest.mark.django_db
def test_chinese_screens_have_no_english(therapist, manager, patient):
    populate(therapist, patient)
    ignore = (
        patient.display_name,
        therapist.get_username(),
        manager.get_username(),
        patient.time_zone,
        "L5 dorsum of foot",  # the therapist's own region name
    )
    pages = [
        (therapist, "/clinic/"),
        (therapist, f"/clinic/patients/{patient.pk}/"),
        (therapist, f"/patients/{patient.pk}/plan/"),
        (manager, "/clinic/outcomes/"),
        (patient.user, "/app/"),
    ]
    found = {}
    for user, url in pages:
        client = Client()
        client.force_login(user)
        client.cookies["django_language"] = "zh-hans"
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 200, url
        html = response.content.decode()
        assert '<html lang="zh-hans"' in html, url
        words = _english(_visible_text(html), ignore) | _english(_figure_texts(html), ignore)
        if words:
            found[url] = sorted(words)
    assert not found, f"English on Chinese screens: {found}"


@pytest.mark.django_db
def test_the_check_sees_english(therapist, patient):
    """The same check on the English page finds English (it is not vacuous)."""
    populate(therapist, patient)
    client = Client()
    client.force_login(therapist)
    html = client.get(f"/clinic/patients/{patient.pk}/").content.decode()
    assert {"Worsening", "Pain"} & _english(_visible_text(html) + _figure_texts(html), ())
