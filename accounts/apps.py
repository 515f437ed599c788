from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Sign-in: API tokens per device (django-rest-knox), password-guessing lockout
    (django-axes), the client address rule."""

    name = "accounts"
    verbose_name = "Accounts"
