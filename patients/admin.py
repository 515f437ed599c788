from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from patients.admin_audit import PatientDataAdminMixin
from patients.models import (
    AuditEvent,
    CareTeamMember,
    Clinic,
    Consent,
    Membership,
    Patient,
)


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin[Clinic]):
    list_display = ("name", "slug", "time_zone")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin[Membership]):
    list_display = ("user", "clinic", "role")
    list_filter = ("role", "clinic")
    list_select_related = ("user", "clinic")


class CareTeamInline(admin.TabularInline[CareTeamMember, Patient]):
    model = CareTeamMember
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Patient)
class PatientAdmin(PatientDataAdminMixin, admin.ModelAdmin[Patient]):
    patient_lookup = "pk"
    list_display = ("display_name", "clinic", "sex", "birth_year", "time_zone", "language", "is_active")
    list_filter = ("clinic", "sex", "language", "is_active")
    search_fields = ("display_name",)
    list_select_related = ("clinic",)
    raw_id_fields = ("user",)
    inlines = (CareTeamInline,)


@admin.register(Consent)
class ConsentAdmin(PatientDataAdminMixin, admin.ModelAdmin[Consent]):
    list_display = ("patient", "kind", "granted", "document_version", "recorded_at")
    list_filter = ("kind", "granted")
    list_select_related = ("patient",)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin[AuditEvent]):
    """Read-only: the trail can be searched, never edited."""

    list_display = ("at", "actor_username", "action", "object_type", "object_id", "patient_id", "ip")
    list_filter = ("action", "object_type")
    search_fields = ("actor_username", "object_id")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


User = get_user_model()


class PatientLoginAdmin(PatientDataAdminMixin, UserAdmin):  # type: ignore[type-arg]
    """Logins: a patient's account (name, e-mail) is patient data, audited like the record.
    Registered for the user model by ``accounts.admin``, which adds token revocation."""

    patient_lookup = "patient__id"
