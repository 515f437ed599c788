from __future__ import annotations

from django.urls import path

from therapies import api, api_exercises

urlpatterns = [
    path("modalities/", api.ModalityListApi.as_view(), name="modality-list"),
    path("patients/<int:patient_id>/plan/", api.PlanApi.as_view(), name="patient-plan"),
    path("patients/<int:patient_id>/plan/versions/", api.PlanVersionsApi.as_view(), name="patient-plan-versions"),
    path("patients/<int:patient_id>/sessions/", api.SessionListCreateApi.as_view(), name="patient-sessions"),
    path("patients/<int:patient_id>/home-exercise/", api.HomeExerciseApi.as_view(), name="patient-home-exercise"),
    path("patients/<int:patient_id>/drez-referral/", api.DrezReferralApi.as_view(), name="patient-drez-referral"),
    path("exercises/", api_exercises.ExerciseListApi.as_view(), name="exercise-list"),
    path(
        "exercises/<int:exercise_id>/media/<int:media_id>/",
        api_exercises.ExerciseMediaApi.as_view(),
        name="exercise-media",
    ),
    path(
        "patients/<int:patient_id>/exercise-programme/",
        api_exercises.ProgrammeApi.as_view(),
        name="patient-exercise-programme",
    ),
    path(
        "patients/<int:patient_id>/exercise-logs/", api_exercises.ExerciseLogApi.as_view(), name="patient-exercise-logs"
    ),
]
