"""Token authentication for the phone app, shaped for the access rule that follows it."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from patients.access import own_patient_preloaded


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's ``Authorization: Token <key>``, loading the user's own patient row in the same query.

    Nearly every phone request is a patient acting on their own record: the access rule
    (patients/access.py) needs that row, and joining it here saves two round trips per
    request. Answers and errors are DRF's own.
    """

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        try:
            token = Token.objects.select_related("user__patient__clinic").get(key=key)
        except Token.DoesNotExist as exc:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from exc
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        # The join found the row or cached its absence: no query either way.
        own_patient_preloaded(token.user, getattr(token.user, "patient", None))
        return token.user, token
