"""URLs of the FHIR export (included under /api/v1/ by assessments/urls.py)."""

from __future__ import annotations

from django.urls import path

from assessments.fhir import api

urlpatterns = [
    path("patients/<int:patient_id>/fhir/", api.FhirBundleApi.as_view(), name="patient-fhir"),
    path("fhir/Questionnaire/<str:code>", api.FhirQuestionnaireApi.as_view(), name="fhir-questionnaire"),
]
