"""The project's URLs plus the plan page, until frontend/urls.py routes it (same path)."""

from __future__ import annotations

from django.urls import path

from config.urls import urlpatterns as project_urlpatterns
from frontend.views.plan import plan_page

urlpatterns = [
    path("patients/<int:patient_id>/plan/", plan_page, name="plan-page"),
    *project_urlpatterns,
]
