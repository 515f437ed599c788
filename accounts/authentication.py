"""Token authentication for the phone app, shaped for the access rule that follows it."""

from __future__ import annotations

import binascii
from hmac import compare_digest
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.crypto import hash_token
from knox.settings import CONSTANTS
from rest_framework import authentication, exceptions

from accounts.models import DeviceToken, password_fingerprint
from patients.access import own_patient_preloaded


class TokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>`` against django-rest-knox's hashed tokens
    (accounts.DeviceToken), in one query that also loads the user's own patient row.

    Nearly every phone request is a patient acting on their own record: the access rule
    (patients/access.py) needs that row, and joining it here saves two round trips per
    request. The lookup is knox's (key prefix, then a constant-time digest comparison); unlike
    knox's own class it leaves expired tokens out in that one query instead of loading and
    sweeping all the user's tokens on every request. They are swept when the user next signs
    in (accounts.services.token_issue). A token issued under an earlier password is refused
    like an unknown one. Answers and errors are DRF's own.
    """

    def authenticate_credentials(self, key: str) -> tuple[Any, DeviceToken]:
        invalid = _("Invalid token.")
        try:
            digest = hash_token(key)
        except (TypeError, binascii.Error, UnicodeError) as exc:
            raise exceptions.AuthenticationFailed(invalid) from exc
        candidates = DeviceToken.objects.select_related("user__patient__clinic").filter(
            token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH], expiry__gt=timezone.now()
        )
        for auth_token in candidates:
            if compare_digest(digest, auth_token.digest):
                user = auth_token.user
                if not user.is_active:
                    raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
                if not compare_digest(auth_token.password_fingerprint, password_fingerprint(user)):
                    break
                # The join found the row or cached its absence: no query either way.
                own_patient_preloaded(user, getattr(user, "patient", None))
                return user, auth_token
        raise exceptions.AuthenticationFailed(invalid)
