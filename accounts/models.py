"""API tokens, one per signed-in device."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.crypto import create_token_string, hash_token
from knox.settings import CONSTANTS


def password_fingerprint(user: Any) -> str:
    """A digest of the user's stored password hash: it changes with every password change.

    Django rehashes a password when its hasher settings change (more iterations after an
    upgrade); that too retires the user's tokens, as it does their other sessions.
    """
    return hashlib.sha256(str(user.password).encode()).hexdigest()


class DeviceTokenManager(models.Manager["DeviceToken"]):
    def issue(self, *, user: Any, lifetime: timedelta, **fields: Any) -> tuple[DeviceToken, str]:
        """A new row and the key to hand out; only knox's SHA-512 digest of the key is kept."""
        key = str(create_token_string())
        token = self.create(
            digest=hash_token(key),
            token_key=key[: CONSTANTS.TOKEN_KEY_LENGTH],
            user=user,
            expiry=timezone.now() + lifetime,
            **fields,
        )
        return token, key


class DeviceToken(models.Model):
    """A django-rest-knox token (``KNOX_TOKEN_MODEL``) with what lets its owner recognise it.

    The first four fields are knox's token contract (``knox.models.AbstractAuthToken``): the
    key's digest, its first characters for the lookup, owner, creation. Unlike knox's,
    ``expiry`` is required: every token ends. ``public_id`` names the token in the device list
    and in revoke requests, so the digest and key prefix stay server-side.
    ``password_fingerprint`` ties the token to the password it was issued under, the way Django
    ties sessions to it: a password change, by whatever path, leaves the token unusable.
    """

    digest = models.CharField(max_length=CONSTANTS.DIGEST_LENGTH, primary_key=True)
    token_key = models.CharField(
        max_length=CONSTANTS.MAXIMUM_TOKEN_PREFIX_LENGTH + CONSTANTS.TOKEN_KEY_LENGTH, db_index=True
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="auth_token_set")
    created = models.DateTimeField(auto_now_add=True)
    expiry = models.DateTimeField()
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    device = models.CharField(_("device"), max_length=120, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    password_fingerprint = models.CharField(max_length=64, blank=True)

    objects = DeviceTokenManager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ("-created",)

    def __str__(self) -> str:
        return f"{self.user} · {self.device or self.public_id}"
