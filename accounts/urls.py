from __future__ import annotations

from django.urls import path

from accounts import api

urlpatterns = [
    path("auth/token/", api.TokenApi.as_view(), name="auth-token"),
    path("auth/tokens/", api.TokenListApi.as_view(), name="auth-token-list"),
    path("auth/tokens/<uuid:token_id>/", api.TokenDetailApi.as_view(), name="auth-token-detail"),
]
