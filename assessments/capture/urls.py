"""URLs of the capture API (included under /api/v1/ by assessments/urls.py)."""

from __future__ import annotations

from django.urls import path

from assessments.capture import api

urlpatterns = [
    path("instruments/", api.InstrumentListApi.as_view(), name="instrument-list"),
    path("patients/<int:patient_id>/assessments/", api.AssessmentListCreateApi.as_view(), name="assessment-list"),
    path(
        "patients/<int:patient_id>/assessments/<int:assessment_id>/",
        api.AssessmentDetailApi.as_view(),
        name="assessment-detail",
    ),
    path("patients/<int:patient_id>/assessments.csv", api.AssessmentCsvApi.as_view(), name="assessment-csv"),
    path("patients/<int:patient_id>/assessments.xlsx", api.AssessmentXlsxApi.as_view(), name="assessment-xlsx"),
    path("sync/", api.SyncApi.as_view(), name="sync"),
]
