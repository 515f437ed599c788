"""URLs of the thermogram API (included under /api/v1/ by assessments/urls.py)."""

from __future__ import annotations

from django.urls import path

from assessments.thermograms import api

urlpatterns = [
    path("patients/<int:patient_id>/thermograms/", api.ThermogramCreateApi.as_view(), name="thermogram-create"),
    path(
        "patients/<int:patient_id>/thermograms/<int:thermogram_id>/",
        api.ThermogramDetailApi.as_view(),
        name="thermogram-detail",
    ),
    path(
        "patients/<int:patient_id>/thermograms/<int:thermogram_id>/image.png",
        api.ThermogramImageApi.as_view(),
        name="thermogram-image",
    ),
    path(
        "patients/<int:patient_id>/thermograms/<int:thermogram_id>/rois/",
        api.ThermogramRoisApi.as_view(),
        name="thermogram-rois",
    ),
    path(
        "patients/<int:patient_id>/thermograms/<int:thermogram_id>/matrix/",
        api.ThermogramMatrixApi.as_view(),
        name="thermogram-matrix",
    ),
]
