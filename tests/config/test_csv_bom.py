"""Every CSV download starts with a UTF-8 byte-order mark, so Excel (also with Chinese regional
settings, which otherwise assume GBK) opens Chinese text correctly. The CSV routes are found
from the URL configuration, so a new export is covered without being listed here."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

BOM = b"\xef\xbb\xbf"


def _csv_routes(patterns: Any = None, prefix: str = "") -> list[str]:
    routes: list[str] = []
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            routes += _csv_routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and route.rstrip("$").endswith(".csv"):
            routes.append(route.lstrip("^").rstrip("$"))
    return routes


def test_the_csv_routes_are_found():
    routes = _csv_routes()
    assert any("patient_id" in r for r in routes)  # the patient's assessments
    assert len(routes) >= 3  # and the cohort exports


@pytest.mark.django_db
def test_every_csv_download_starts_with_a_bom(therapist_client, manager_client, patient, patient_client):
    patient_client.post(
        f"/api/v1/patients/{patient.pk}/assessments/",
        {"instrument": "nrs", "answers": {"score": 4}, "client_uuid": "6f1c2a3e-1a2b-4c3d-8e9f-0a1b2c3d4e5f"},
        format="json",
    )
    for route in _csv_routes():
        url = "/" + re.sub(r"<int:patient_id>", str(patient.pk), route)
        assert "<" not in url, f"fill in the parameters of {route}"
        responses = [client.get(url) for client in (therapist_client, manager_client)]
        ok = [r for r in responses if r.status_code == 200]
        assert ok, (url, [r.status_code for r in responses])
        for response in ok:
            assert response["Content-Type"].startswith("text/csv"), url
            assert response.content.startswith(BOM), url
            assert not response.content.startswith(BOM * 2), url
