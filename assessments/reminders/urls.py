"""URLs of the reminders API (included under /api/v1/ by assessments/urls.py)."""

from __future__ import annotations

from django.urls import path

from assessments.reminders import api

urlpatterns = [
    path("patients/<int:patient_id>/protocol/", api.ProtocolApi.as_view(), name="patient-protocol"),
    path("patients/<int:patient_id>/due/", api.PatientDueApi.as_view(), name="patient-due"),
    path("patients/<int:patient_id>/alerts/", api.PatientAlertListApi.as_view(), name="patient-alerts"),
    path("alerts/<int:alert_id>/acknowledge/", api.AlertAcknowledgeApi.as_view(), name="alert-acknowledge"),
    path("push-subscriptions/", api.PushSubscriptionApi.as_view(), name="push-subscriptions"),
    path("push/vapid-key/", api.VapidKeyApi.as_view(), name="push-vapid-key"),
    path("notifications/", api.NotificationListApi.as_view(), name="notifications"),
    path("notifications/<int:notification_id>/read/", api.NotificationReadApi.as_view(), name="notification-read"),
]
