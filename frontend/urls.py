from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.urls import path

from frontend.views import auth, exercises, manager, patient, plan, system, therapist, thermograms

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
    path("app/progress/", patient.patient_progress, name="patient-progress"),
    path("patients/<int:patient_id>/plan/", plan.plan_page, name="plan"),
]
# --- therapist console ---
urlpatterns += [
    path("clinic/patients/<int:patient_id>/thermal/", therapist.thermal_record, name="clinic-thermal"),
    path("clinic/patients/<int:patient_id>/dn4/", therapist.dn4_record, name="clinic-dn4"),
    path("clinic/patients/<int:patient_id>/odi/", therapist.odi_record, name="clinic-odi"),
    path("clinic/patients/<int:patient_id>/sessions/new/", therapist.session_record_view, name="clinic-session"),
    path("clinic/patients/<int:patient_id>/plan-component/", therapist.plan_edit, name="clinic-plan-edit"),
    path("clinic/patients/<int:patient_id>/validate/<str:kind>/", therapist.form_validate, name="clinic-form-validate"),
    path("clinic/alerts/<int:alert_id>/acknowledge/", therapist.alert_ack, name="clinic-alert-ack"),
    path("clinic/patients/<int:patient_id>/status/", therapist.patient_status, name="clinic-patient-status"),
    path("clinic/patients/<int:patient_id>/alerts/", therapist.patient_alerts, name="clinic-patient-alerts"),
    path("clinic/patients/<int:patient_id>/thermograms/", thermograms.thermogram_page, name="clinic-thermograms"),
    path(
        "clinic/patients/<int:patient_id>/thermograms/<int:thermogram_id>/rois/",
        thermograms.thermogram_rois,
        name="clinic-thermogram-rois",
    ),
    path(
        "clinic/patients/<int:patient_id>/thermograms/chart/",
        thermograms.thermogram_chart,
        name="clinic-thermogram-chart",
    ),
    path(
        "clinic/patients/<int:patient_id>/thermograms/<int:thermogram_id>/delete/",
        thermograms.thermogram_delete_view,
        name="clinic-thermogram-delete",
    ),
]
# --- home exercise programmes ---
urlpatterns += [
    path("clinic/exercises/", exercises.library, name="clinic-exercises"),
    path("clinic/exercises/<int:exercise_id>/", exercises.exercise_edit, name="clinic-exercise"),
    path("clinic/exercises/<int:exercise_id>/media/", exercises.exercise_media_upload, name="clinic-exercise-media"),
    path(
        "clinic/exercises/<int:exercise_id>/media/<int:media_id>/delete/",
        exercises.exercise_media_remove,
        name="clinic-exercise-media-remove",
    ),
    path("clinic/patients/<int:patient_id>/exercises/", exercises.programme_edit, name="clinic-exercise-programme"),
    path(
        "clinic/patients/<int:patient_id>/exercises/adherence/",
        exercises.programme_adherence,
        name="clinic-exercise-adherence",
    ),
    path("patients/<int:patient_id>/exercise-programme/print/", exercises.programme_print, name="exercise-print"),
]
