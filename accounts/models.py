"""API tokens, one per signed-in device."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _
from knox.models import AbstractAuthToken


def password_fingerprint(user: Any) -> str:
    """A digest of the user's stored password hash: it changes with every password change.

    Django rehashes a password when its hasher settings change (more iterations after an
    upgrade); that too retires the user's tokens, as it does their other sessions.
    """
    return hashlib.sha256(str(user.password).encode()).hexdigest()


class DeviceToken(AbstractAuthToken):
    """A knox token (only its SHA-512 digest is stored) with what lets its owner recognise it.

    ``public_id`` names the token in the device list and in revoke requests: the digest and the
    key prefix stay server-side. ``password_fingerprint`` ties the token to the password it was
    issued under, the way Django ties sessions to it: any password change, through whatever
    path, leaves the token unusable.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    device = models.CharField(_("device"), max_length=120, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    password_fingerprint = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ("-created",)

    def __str__(self) -> str:
        return f"{self.user} · {self.device or self.public_id}"
