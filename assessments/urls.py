from __future__ import annotations

from django.urls import path

from assessments import api, api_fhir

urlpatterns = [
    path("instruments/", api.InstrumentListApi.as_view(), name="instrument-list"),
    path("patients/<int:patient_id>/assessments/", api.AssessmentListCreateApi.as_view(), name="assessment-list"),
    path(
        "patients/<int:patient_id>/assessments/<int:assessment_id>/",
        api.AssessmentDetailApi.as_view(),
        name="assessment-detail",
    ),
    path("patients/<int:patient_id>/assessments.csv", api.AssessmentCsvApi.as_view(), name="assessment-csv"),
    path("patients/<int:patient_id>/fhir/", api_fhir.FhirBundleApi.as_view(), name="patient-fhir"),
    path("fhir/Questionnaire/<str:code>", api_fhir.FhirQuestionnaireApi.as_view(), name="fhir-questionnaire"),
    path("sync/", api.SyncApi.as_view(), name="sync"),
]

# --- Issue #5: protocols, due items, push, notifications, alerts (assessments/urls_reminders.py) ---
from assessments.urls_reminders import urlpatterns as _reminder_urlpatterns  # noqa: E402

urlpatterns += _reminder_urlpatterns

# --- cohort outcomes for clinic staff (assessments/outcomes/api.py) ---
from assessments.outcomes import api as cohort_api  # noqa: E402

urlpatterns += [
    path("cohort/outcomes/", cohort_api.CohortOutcomesApi.as_view(), name="cohort-outcomes"),
    path("cohort/outcomes.csv", cohort_api.CohortOutcomesCsvApi.as_view(), name="cohort-outcomes-csv"),
    path("cohort/groups.csv", cohort_api.CohortGroupsCsvApi.as_view(), name="cohort-groups-csv"),
    path("cohort/case-series.csv", cohort_api.CohortCaseSeriesCsvApi.as_view(), name="cohort-case-series-csv"),
]

from assessments import api_thermograms  # noqa: E402

urlpatterns += [
    path(
        "patients/<int:patient_id>/thermograms/",
        api_thermograms.ThermogramCreateApi.as_view(),
        name="thermogram-create",
    ),
    path(
        "patients/<int:patient_id>/thermograms/<int:thermogram_id>/",
        api_thermograms.ThermogramDetailApi.as_view(),
        name="thermogram-detail",
    ),
    path(
        "patients/<int:patient_id>/thermograms/<int:thermogram_id>/image.png",
        api_thermograms.ThermogramImageApi.as_view(),
        name="thermogram-image",
    ),
    path(
        "patients/<int:patient_id>/thermograms/<int:thermogram_id>/rois/",
        api_thermograms.ThermogramRoisApi.as_view(),
        name="thermogram-rois",
    ),
]
