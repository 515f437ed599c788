from __future__ import annotations

from django.urls import path

from patients import api

urlpatterns = [
    path("me/", api.MeApi.as_view(), name="me"),
    path("patients/", api.PatientListCreateApi.as_view(), name="patient-list"),
    path("patients/<int:patient_id>/", api.PatientDetailApi.as_view(), name="patient-detail"),
    path("patients/<int:patient_id>/care-team/", api.CareTeamApi.as_view(), name="patient-care-team"),
    path(
        "patients/<int:patient_id>/care-team/<int:user_id>/",
        api.CareTeamMemberApi.as_view(),
        name="patient-care-team-member",
    ),
    path("patients/<int:patient_id>/consents/", api.ConsentApi.as_view(), name="patient-consents"),
]
