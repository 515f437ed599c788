from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from assessments.models import (
    Alert,
    Assessment,
    ContentPack,
    Delivery,
    DueItem,
    Notification,
    PatientProtocol,
    Reminder,
    Thermogram,
    WorseningEpisode,
)
from assessments.outcomes.nrs_weeks import nrs_weeks_rebuild
from assessments.thermograms.services import thermogram_delete
from patients.admin_audit import PatientDataAdminMixin, _admin_actor


@admin.register(Assessment)
class AssessmentAdmin(PatientDataAdminMixin, admin.ModelAdmin[Assessment]):
    """Records are evidence: visible here, but changed only through the API's services."""

    list_display = ("recorded_at", "patient", "instrument", "total", "band", "is_late", "source")
    list_filter = ("instrument", "source", "is_late")
    list_select_related = ("patient",)
    search_fields = ("patient__display_name", "client_uuid")
    date_hierarchy = "recorded_at"

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: object) -> bool:
        return False

    # A deleted NRS entry leaves the weekly sums the cohort summary reads: recount them.
    @transaction.atomic
    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        if obj.instrument == "nrs":
            nrs_weeks_rebuild([obj.patient_id])

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        patient_ids = set(queryset.filter(instrument="nrs").values_list("patient_id", flat=True))
        super().delete_queryset(request, queryset)
        nrs_weeks_rebuild(patient_ids)


@admin.register(Alert)
class AlertAdmin(PatientDataAdminMixin, admin.ModelAdmin[Alert]):
    list_display = ("created_at", "patient", "kind", "severity", "acknowledged_at", "escalated_at")
    list_filter = ("kind", "severity")
    list_select_related = ("patient",)
    readonly_fields = ("patient", "kind", "severity", "message", "source_assessment", "dedupe_key", "created_at")


@admin.register(PatientProtocol)
class PatientProtocolAdmin(PatientDataAdminMixin, admin.ModelAdmin[PatientProtocol]):
    list_display = ("patient", "protocol_code", "start_date", "is_active")
    list_select_related = ("patient",)


@admin.register(DueItem)
class DueItemAdmin(PatientDataAdminMixin, admin.ModelAdmin[DueItem]):
    list_display = ("due_at", "patient", "instrument", "status")
    list_filter = ("status", "instrument")
    list_select_related = ("patient",)


@admin.register(Reminder)
class ReminderAdmin(PatientDataAdminMixin, admin.ModelAdmin[Reminder]):
    list_display = ("send_at", "patient", "kind", "channel", "status", "attempts")
    list_filter = ("status", "channel", "kind")
    list_select_related = ("patient",)


@admin.register(Delivery)
class DeliveryAdmin(PatientDataAdminMixin, admin.ModelAdmin[Delivery]):
    patient_lookup = "reminder__patient_id"
    list_display = ("at", "reminder", "attempt", "outcome")
    list_filter = ("outcome",)


@admin.register(Notification)
class NotificationAdmin(PatientDataAdminMixin, admin.ModelAdmin[Notification]):
    list_display = ("created_at", "user", "patient", "title", "read_at")
    list_select_related = ("user", "patient")


@admin.register(WorseningEpisode)
class WorseningEpisodeAdmin(PatientDataAdminMixin, admin.ModelAdmin[WorseningEpisode]):
    """Kept by the worsening-pain evaluation (``assessments.outcomes.worsening``); read-only here."""

    list_display = ("patient", "started_at", "ended_at", "baseline", "mean_at_start", "last_mean")
    list_select_related = ("patient",)
    readonly_fields = ("patient", "alert", "started_at", "ended_at", "day0", "baseline", "mean_at_start", "last_mean")

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(ContentPack)
class ContentPackAdmin(admin.ModelAdmin[ContentPack]):
    """Loaded instrument wording, by version. Loaded with ``manage.py content_pack_load``
    (checked against the instrument); a version is never edited, a new load supersedes it."""

    list_display = ("instrument", "language", "version", "kind", "title", "loaded_at", "loaded_by")
    list_filter = ("instrument", "language", "kind")
    readonly_fields = ("instrument", "language", "version", "kind", "title", "sections", "loaded_at", "loaded_by")

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(Thermogram)
class ThermogramAdmin(PatientDataAdminMixin, admin.ModelAdmin[Thermogram]):
    """Uploaded radiometric images, read-only. Deleting one deletes its stored file too
    (``thermogram_delete``, once the deletion is committed); its readings go with it, the
    thermal assessments measured on it stay."""

    list_display = ("recorded_at", "patient", "view", "kind", "width", "height")
    list_filter = ("view", "kind")
    list_select_related = ("patient",)
    readonly_fields = (
        "patient",
        "client_uuid",
        "original",
        "kind",
        "sha256",
        "width",
        "height",
        "recorded_at",
        "ambient_c",
        "acclimatisation_min",
        "view",
        "image_left_is",
        "uploaded_by",
        "created_at",
    )

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_add_permission(self, request: object) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Thermogram) -> None:
        thermogram_delete(actor=_admin_actor(request), thermogram=obj, allow_measured=True)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Thermogram]) -> None:
        for thermogram in queryset:
            thermogram_delete(actor=_admin_actor(request), thermogram=thermogram, allow_measured=True)
