"""Admin: read-only views of plans, sessions, home logs and DREZ referrals.

Writes go through ``therapies.services`` only (the API and the console), so the safety
limits, the version compare-and-set, the severe-adverse-event alert and the audit trail
cannot be bypassed from the admin.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from patients.admin_audit import PatientDataAdminMixin
from therapies.models import (
    DrezReferral,
    HomeExerciseLog,
    PlanComponent,
    RehabPlan,
    TherapySession,
)


class ReadOnlyAdminMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PlanComponentInline(ReadOnlyAdminMixin, admin.TabularInline[PlanComponent, RehabPlan]):
    model = PlanComponent
    extra = 0
    fields = (
        "order",
        "modality",
        "layer",
        "parameters",
        "frequency_per_week",
        "duration_weeks",
        "sessions_prescribed",
        "overridden_limits",
        "override_reason",
    )
    readonly_fields = fields


@admin.register(RehabPlan)
class RehabPlanAdmin(PatientDataAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin[RehabPlan]):
    list_display = ("patient", "version", "start_date", "author", "created_at")
    list_select_related = ("patient", "author")
    search_fields = ("patient__display_name",)
    inlines = (PlanComponentInline,)


@admin.register(TherapySession)
class TherapySessionAdmin(PatientDataAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin[TherapySession]):
    list_display = ("patient", "modality", "delivered_at", "delivered_by", "adverse_event", "tolerance")
    list_filter = ("modality", "adverse_event")
    list_select_related = ("patient", "delivered_by")
    search_fields = ("patient__display_name", "client_uuid")


@admin.register(HomeExerciseLog)
class HomeExerciseLogAdmin(PatientDataAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin[HomeExerciseLog]):
    list_display = ("patient", "component", "date", "done", "minutes", "logged_at")
    list_filter = ("done",)
    list_select_related = ("patient", "component")


@admin.register(DrezReferral)
class DrezReferralAdmin(PatientDataAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin[DrezReferral]):
    list_display = ("patient", "decision", "candidacy_met", "created_by", "created_at")
    list_filter = ("decision", "candidacy_met")
    list_select_related = ("patient", "created_by")
