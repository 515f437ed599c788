from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from frontend.views import auth, manager, patient, system, therapist

app_name = "frontend"

urlpatterns = [
    path("", auth.home, name="home"),
    path("healthz", system.healthz, name="healthz"),
    path("sw.js", system.service_worker, name="service-worker"),
    path("manifest.webmanifest", system.manifest, name="manifest"),
    path("login/", auth_views.LoginView.as_view(template_name="frontend/registration/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("app/", patient.patient_home, name="patient-home"),
    path("clinic/", therapist.worklist, name="worklist"),
    path("clinic/patients/<int:patient_id>/", therapist.patient_detail, name="patient-detail"),
    path("clinic/outcomes/", manager.outcomes, name="outcomes"),
]
