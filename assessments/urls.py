"""The assessments API under /api/v1/: each room of the app brings its own URLs."""

from __future__ import annotations

from django.urls import path

from assessments import api_cohort
from assessments.capture.urls import urlpatterns as capture_urls
from assessments.fhir.urls import urlpatterns as fhir_urls
from assessments.reminders.urls import urlpatterns as reminder_urls
from assessments.thermograms.urls import urlpatterns as thermogram_urls

cohort_urls = [
    path("cohort/outcomes/", api_cohort.CohortOutcomesApi.as_view(), name="cohort-outcomes"),
    path("cohort/outcomes.csv", api_cohort.CohortOutcomesCsvApi.as_view(), name="cohort-outcomes-csv"),
    path("cohort/groups.csv", api_cohort.CohortGroupsCsvApi.as_view(), name="cohort-groups-csv"),
    path("cohort/case-series.csv", api_cohort.CohortCaseSeriesCsvApi.as_view(), name="cohort-case-series-csv"),
]

urlpatterns = [*capture_urls, *fhir_urls, *reminder_urls, *cohort_urls, *thermogram_urls]
