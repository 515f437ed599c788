"""Admin: API tokens (read and revoke), users whose deactivation signs them out everywhere.

Lockouts are lifted in django-axes' own "Access attempts" admin (delete the attempts), or
by clinic managers on the console page ``/clinic/lockouts/``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.http import HttpRequest

from accounts.models import DeviceToken
from patients.admin import PatientLoginAdmin
from patients.audit import Actor
from patients.services import user_tokens_revoke_all

User = get_user_model()


@admin.register(DeviceToken)
class DeviceTokenAdmin(admin.ModelAdmin[DeviceToken]):
    """Only digests are stored: a token can be looked at and revoked (deleted), never shown."""

    list_display = ("user", "device", "ip", "created", "expiry")
    list_select_related = ("user",)
    search_fields = ("user__username", "device")
    readonly_fields = ("public_id", "user", "device", "ip", "created", "expiry")
    exclude = ("digest", "token_key", "password_fingerprint")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TokenRevokingPasswordChangeForm(AdminPasswordChangeForm):  # type: ignore[type-arg]
    """Tokens issued under the old password already stop working; this also removes them
    from the user's device list at once."""

    def save(self, commit: bool = True) -> Any:
        user = super().save(commit=commit)
        if commit:
            DeviceToken.objects.filter(user_id=user.pk).delete()
        return user


class AccountUserAdmin(PatientLoginAdmin):
    """The user admin: audited like patient data (a patient's login), and a password change
    or a deactivation here ends the user's API tokens."""

    change_password_form = TokenRevokingPasswordChangeForm

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            user_tokens_revoke_all(actor=Actor.from_request(request), user_id=obj.pk, reason="user_deactivated")


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, AccountUserAdmin)
