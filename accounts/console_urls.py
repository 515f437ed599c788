from __future__ import annotations

from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.lockouts, name="lockouts"),
    path("<int:user_id>/unlock/", views.lockout_unlock, name="lockout-unlock"),
]
