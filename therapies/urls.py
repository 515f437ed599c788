from __future__ import annotations

from django.urls import path

from therapies import api

urlpatterns = [
    path("modalities/", api.ModalityListApi.as_view(), name="modality-list"),
    path("patients/<int:patient_id>/plan/", api.PlanApi.as_view(), name="patient-plan"),
    path("patients/<int:patient_id>/plan/versions/", api.PlanVersionsApi.as_view(), name="patient-plan-versions"),
    path("patients/<int:patient_id>/sessions/", api.SessionListCreateApi.as_view(), name="patient-sessions"),
    path("patients/<int:patient_id>/home-exercise/", api.HomeExerciseApi.as_view(), name="patient-home-exercise"),
    path("patients/<int:patient_id>/drez-referral/", api.DrezReferralApi.as_view(), name="patient-drez-referral"),
]
