"""The published OpenAPI schema matches what the API does: paginated lists are documented
as pages, the FHIR export's media type and the error answers are listed, and query
parameters the API cannot use are refused instead of ignored."""

from __future__ import annotations

from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

PAGINATED = [
    "/api/v1/patients/",
    "/api/v1/notifications/",
    "/api/v1/patients/{patient_id}/alerts/",
    "/api/v1/patients/{patient_id}/assessments/",
    "/api/v1/patients/{patient_id}/plan/versions/",
    "/api/v1/patients/{patient_id}/sessions/",
    "/api/v1/patients/{patient_id}/home-exercise/",
    "/api/v1/patients/{patient_id}/drez-referral/",
]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


@pytest.mark.parametrize("path", PAGINATED)
def test_paginated_lists_are_documented_as_pages(schema: dict[str, Any], path: str) -> None:
    operation = schema["paths"][path]["get"]
    body = _resolve(schema, operation["responses"]["200"]["content"]["application/json"]["schema"])
    assert body["type"] == "object"
    assert {"count", "next", "previous", "results"} <= set(body["properties"])
    assert body["properties"]["results"]["type"] == "array"
    params = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    assert {"limit", "offset"} <= params
    assert "400" in operation["responses"]


def test_fhir_export_documents_its_media_type(schema: dict[str, Any]) -> None:
    content = schema["paths"]["/api/v1/patients/{patient_id}/fhir/"]["get"]["responses"]["200"]["content"]
    assert "application/fhir+json" in content


def test_error_answers_are_documented(schema: dict[str, Any]) -> None:
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert "503" in codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
            if method in ("post", "put", "patch"):
                assert {"400", "413"} <= codes, (method, path)
            if {} not in operation.get("security", []):  # not open to anonymous callers
                assert {"401", "403"} <= codes, (method, path)
    assert "409" in schema["paths"]["/api/v1/patients/{patient_id}/plan/"]["post"]["responses"]
    assert "409" in schema["paths"]["/api/v1/patients/{patient_id}/assessments/"]["post"]["responses"]


@pytest.mark.parametrize("value", ["null", "Null", "maybe", "2"])
def test_unread_filter_refuses_what_is_not_a_boolean(therapist_client: Any, value: str) -> None:
    response = therapist_client.get("/api/v1/notifications/", {"unread": value})
    assert response.status_code == 400
    assert "unread" in response.json()


def test_open_filter_refuses_null(therapist_client: Any, patient: Any) -> None:
    response = therapist_client.get(f"/api/v1/patients/{patient.pk}/alerts/", {"open": "null"})
    assert response.status_code == 400
    assert "open" in response.json()


def test_boolean_filters_still_work(therapist_client: Any, patient: Any) -> None:
    assert therapist_client.get("/api/v1/notifications/", {"unread": "true"}).status_code == 200
    assert therapist_client.get("/api/v1/notifications/").status_code == 200
    assert therapist_client.get(f"/api/v1/patients/{patient.pk}/alerts/", {"open": "false"}).status_code == 200


@pytest.mark.parametrize(
    ("params", "field"),
    [({"limit": "abc"}, "limit"), ({"limit": "0"}, "limit"), ({"limit": "-3"}, "limit"), ({"offset": "-1"}, "offset")],
)
def test_bad_paging_parameters_are_refused(therapist_client: Any, patient: Any, params: dict, field: str) -> None:
    for url in ("/api/v1/patients/", f"/api/v1/patients/{patient.pk}/assessments/"):
        response = therapist_client.get(url, params)
        assert response.status_code == 400, url
        assert field in response.json()


def test_paging_still_pages(therapist_client: Any, patient: Any, other_patient: Any) -> None:
    body = therapist_client.get("/api/v1/patients/", {"limit": "1", "offset": "0"}).json()
    assert body["count"] >= 1
    assert len(body["results"]) == 1
    huge = therapist_client.get("/api/v1/patients/", {"limit": "100000"})
    assert huge.status_code == 200
