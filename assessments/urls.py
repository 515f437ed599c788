"""The assessments API under /api/v1/: each room of the app brings its own URLs."""

from __future__ import annotations

from django.urls import path

from assessments.capture.urls import urlpatterns as capture_urls
from assessments.fhir.urls import urlpatterns as fhir_urls
from assessments.outcomes import api as cohort_api
from assessments.reminders.urls import urlpatterns as reminder_urls
from assessments.thermograms.urls import urlpatterns as thermogram_urls

cohort_urls = [
    path("cohort/outcomes/", cohort_api.CohortOutcomesApi.as_view(), name="cohort-outcomes"),
    path("cohort/outcomes.csv", cohort_api.CohortOutcomesCsvApi.as_view(), name="cohort-outcomes-csv"),
    path("cohort/outcomes.xlsx", cohort_api.CohortOutcomesXlsxApi.as_view(), name="cohort-outcomes-xlsx"),
    path("cohort/groups.csv", cohort_api.CohortGroupsCsvApi.as_view(), name="cohort-groups-csv"),
    path("cohort/groups.xlsx", cohort_api.CohortGroupsXlsxApi.as_view(), name="cohort-groups-xlsx"),
    path("cohort/case-series.csv", cohort_api.CohortCaseSeriesCsvApi.as_view(), name="cohort-case-series-csv"),
]

urlpatterns = [*capture_urls, *fhir_urls, *reminder_urls, *cohort_urls, *thermogram_urls]
