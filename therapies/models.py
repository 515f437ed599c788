"""Rehab plans (versioned), their components, delivered sessions, home exercise, DREZ referrals.

A plan is never edited in place: every change is a new ``RehabPlan`` row with the next
version number and a reason, so the history of what was prescribed, by whom and why, is
kept. The current plan is the highest version. ``unique(patient, version)`` is what makes
two therapists saving at the same moment end in one new version and one conflict.

Parameters are stored as normalised by ``therapies.modalities.check_parameters`` (the pure
catalogue), together with the derived dose metrics and the limits a therapist overrode.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from patients.models import Patient
from therapies.modalities import MODALITIES

MODALITY_CHOICES = [(code, modality.name.en) for code, modality in MODALITIES.items()]


class Layer(models.TextChoices):
    CENTRAL = "central", _("Central")
    PERIPHERAL = "peripheral", _("Peripheral")


class RehabPlan(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="plans")
    version = models.PositiveIntegerField()
    reason = models.TextField(_("reason for this version"))
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    start_date = models.DateField(_("start date"), help_text="Day 1 of the plan, in the patient's time zone.")

    class Meta:
        ordering = ("patient", "-version")
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["patient", "version"], name="rehab_plan_patient_version_unique"),
            models.CheckConstraint(condition=Q(version__gte=1), name="rehab_plan_version_positive"),
            models.CheckConstraint(condition=~Q(reason=""), name="rehab_plan_reason_required"),
        ]

    def __str__(self) -> str:
        return f"plan v{self.version} for patient {self.patient_id}"


class PlanComponent(models.Model):
    plan = models.ForeignKey(RehabPlan, on_delete=models.CASCADE, related_name="components")
    order = models.PositiveSmallIntegerField(default=0)
    modality = models.CharField(max_length=32, choices=MODALITY_CHOICES)
    layer = models.CharField(max_length=10, choices=Layer.choices)
    parameters = models.JSONField(default=dict)
    derived = models.JSONField(default=dict, blank=True)
    frequency_per_week = models.PositiveSmallIntegerField()
    duration_weeks = models.PositiveSmallIntegerField()
    sessions_prescribed = models.PositiveIntegerField()
    override_reason = models.TextField(blank=True)
    overridden_limits = models.JSONField(default=list, blank=True, help_text="Codes of the safety limits overridden.")
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ("plan", "order", "id")
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["plan", "order"], name="plan_component_order_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.modality} x{self.frequency_per_week}/wk for {self.duration_weeks} wk"


class AdverseEvent(models.TextChoices):
    NONE = "none", _("None")
    MILD = "mild", _("Mild")
    MODERATE = "moderate", _("Moderate")
    SEVERE = "severe", _("Severe")


class Tolerance(models.TextChoices):
    WELL = "well", _("Tolerated well")
    FAIR = "fair", _("Tolerated fairly")
    POOR = "poor", _("Tolerated poorly")


class TherapySession(models.Model):
    """One delivered session, as delivered (which may differ from the prescription)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="therapy_sessions")
    component = models.ForeignKey(
        PlanComponent, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    modality = models.CharField(max_length=32, choices=MODALITY_CHOICES)
    delivered_at = models.DateTimeField(help_text="When the session was delivered (UTC).")
    delivered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    parameters = models.JSONField(default=dict)
    derived = models.JSONField(default=dict, blank=True)
    adverse_event = models.CharField(max_length=10, choices=AdverseEvent.choices, default=AdverseEvent.NONE)
    adverse_event_note = models.TextField(blank=True)
    tolerance = models.CharField(max_length=6, choices=Tolerance.choices, blank=True)
    override_reason = models.TextField(blank=True)
    overridden_limits = models.JSONField(default=list, blank=True)
    client_uuid = models.UUIDField(unique=True, default=uuid.uuid4)
    recorded_at = models.DateTimeField(default=timezone.now, help_text="When the server stored it (UTC).")

    class Meta:
        ordering = ("-delivered_at", "-id")
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["patient", "delivered_at"], name="therapy_session_series_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.modality} for patient {self.patient_id} at {self.delivered_at:%Y-%m-%d %H:%M}"


class HomeExerciseLog(models.Model):
    """The patient's own record of one home session of a plan component (append-only)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="home_exercise_logs")
    component = models.ForeignKey(PlanComponent, on_delete=models.CASCADE, related_name="home_logs")
    date = models.DateField(help_text="The day of the exercise in the patient's time zone.")
    done = models.BooleanField()
    minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    note = models.TextField(blank=True)
    client_uuid = models.UUIDField(unique=True, default=uuid.uuid4)
    logged_at = models.DateTimeField(default=timezone.now)
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ("-date", "-logged_at", "-id")
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["patient", "date"], name="home_log_series_idx"),
        ]

    def __str__(self) -> str:
        return f"home {self.component_id} on {self.date}: {'done' if self.done else 'not done'}"


class DrezDecision(models.TextChoices):
    REFER = "refer", _("Refer for DREZ surgery")
    NOT_CANDIDATE = "not_candidate", _("Not a candidate")
    DEFER = "defer", _("Defer: reassess later")


class DrezReferral(models.Model):
    """A DREZ-surgery candidacy assessment and decision, with the follow-up record.

    ``inputs`` are the candidacy facts as assessed; ``checks`` the criteria as evaluated by
    ``therapies.modalities.drez_candidacy`` at the time (kept, not recomputed).
    """

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="drez_referrals")
    inputs = models.JSONField()
    checks = models.JSONField()
    candidacy_met = models.BooleanField()
    decision = models.CharField(max_length=16, choices=DrezDecision.choices)
    decision_note = models.TextField(blank=True)
    follow_ups = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"DREZ {self.decision} for patient {self.patient_id}"


# -----------------------------------------------------------------------------
# Home exercise programmes: a clinic's exercise library and the exercises prescribed
# from it as part of a plan version's exercise component.
# -----------------------------------------------------------------------------


class ExerciseType(models.TextChoices):
    CORE_STABILISATION = "core_stabilisation", _("Core stabilisation")
    MOTOR_CONTROL = "motor_control", _("Motor control")
    BREATHING = "breathing", _("Breathing")
    AEROBIC = "aerobic", _("Aerobic")
    STRETCHING = "stretching", _("Stretching")
    NERVE_GLIDING = "nerve_gliding", _("Nerve gliding")
    OTHER = "other", _("Other")


class BodyRegion(models.TextChoices):
    LUMBAR = "lumbar", _("Low back and pelvis")
    THORACIC = "thoracic", _("Upper back and chest")
    CERVICAL = "cervical", _("Neck")
    HIP = "hip", _("Hip")
    LOWER_LIMB = "lower_limb", _("Leg")
    UPPER_LIMB = "upper_limb", _("Arm")
    WHOLE_BODY = "whole_body", _("Whole body")


class Exercise(models.Model):
    """One exercise of a clinic's library, in English and Simplified Chinese.

    Steps are kept as text, one step per line. ``pictogram`` names a drawing shipped with
    the app (static ``frontend/exercises/<name>.svg``); uploaded pictures and videos are
    ``ExerciseMedia``. An exercise is retired (``is_active`` off), never deleted, because
    programmes and logs keep pointing at it.
    """

    clinic = models.ForeignKey("patients.Clinic", on_delete=models.CASCADE, related_name="exercises")
    slug = models.SlugField(max_length=64, help_text="Stable key within the clinic (the starter library's code).")
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_zh = models.CharField(_("name (Chinese)"), max_length=120)
    steps_en = models.TextField(_("steps (English), one per line"))
    steps_zh = models.TextField(_("steps (Chinese), one per line"))
    body_region = models.CharField(_("body region"), max_length=16, choices=BodyRegion.choices)
    type = models.CharField(_("type"), max_length=24, choices=ExerciseType.choices)
    sets = models.PositiveSmallIntegerField(_("sets"), default=1)
    reps = models.PositiveSmallIntegerField(_("repetitions"), default=10)
    hold_seconds = models.PositiveSmallIntegerField(_("hold (seconds)"), default=0)
    rest_seconds = models.PositiveSmallIntegerField(_("rest (seconds)"), default=0)
    sessions_per_week = models.PositiveSmallIntegerField(_("sessions per week"), default=7)
    precautions_en = models.TextField(_("precautions (English)"), blank=True)
    precautions_zh = models.TextField(_("precautions (Chinese)"), blank=True)
    contraindications_en = models.TextField(_("contraindications (English)"), blank=True)
    contraindications_zh = models.TextField(_("contraindications (Chinese)"), blank=True)
    pictogram = models.CharField(max_length=40, blank=True)
    is_active = models.BooleanField(_("in use"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("clinic", "type", "name_en", "id")
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["clinic", "slug"], name="exercise_clinic_slug_unique"),
        ]

    def __str__(self) -> str:
        return self.name_en


class MediaKind(models.TextChoices):
    IMAGE = "image", _("Picture")
    VIDEO = "video", _("Video")


def _exercise_media_path(instance: ExerciseMedia, filename: str) -> str:
    # The stored name is ours, never the uploaded one.
    return f"exercises/{instance.exercise.clinic_id}/{instance.exercise_id}/{instance.key}{instance.extension}"


class ExerciseMedia(models.Model):
    """A picture or short video of an exercise, kept through Django's storage API and
    served only through the access-checked API (never as public media)."""

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="media")
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=8, choices=MediaKind.choices)
    file = models.FileField(upload_to=_exercise_media_path, max_length=200)
    extension = models.CharField(max_length=8)
    content_type = models.CharField(max_length=40)
    size_bytes = models.PositiveIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    caption = models.CharField(max_length=200, blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("exercise", "order", "id")

    def __str__(self) -> str:
        return f"{self.kind} of exercise {self.exercise_id}"


class ProgrammeItem(models.Model):
    """One exercise of a patient's home programme, with its dose, in one plan version.

    Items belong to the exercise ``PlanComponent`` of a plan version, so a programme is
    versioned with the plan: changing it makes a new version with a reason, and the items
    of earlier versions stay as they were prescribed.
    """

    component = models.ForeignKey(PlanComponent, on_delete=models.CASCADE, related_name="programme_items")
    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="programme_items")
    order = models.PositiveSmallIntegerField(default=0)
    sets = models.PositiveSmallIntegerField()
    reps = models.PositiveSmallIntegerField()
    hold_seconds = models.PositiveSmallIntegerField()
    rest_seconds = models.PositiveSmallIntegerField()
    sessions_per_week = models.PositiveSmallIntegerField()
    progression_note = models.TextField(blank=True)

    class Meta:
        ordering = ("component", "order", "id")
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["component", "order"], name="programme_item_order_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.exercise_id} in component {self.component_id}"


class Difficulty(models.TextChoices):
    TOO_EASY = "too_easy", _("Too easy")
    RIGHT = "right", _("About right")
    TOO_HARD = "too_hard", _("Too hard")


class ExerciseLog(models.Model):
    """The patient's record of doing one programme exercise on one day (append-only)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="exercise_logs")
    item = models.ForeignKey(ProgrammeItem, on_delete=models.CASCADE, related_name="logs")
    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="logs")
    date = models.DateField(help_text="The day of the exercise in the patient's time zone.")
    sets_done = models.PositiveSmallIntegerField()
    pain_after = models.PositiveSmallIntegerField(null=True, blank=True, help_text="NRS 0-10 after the exercise.")
    difficulty = models.CharField(max_length=10, choices=Difficulty.choices, blank=True)
    note = models.TextField(blank=True)
    client_uuid = models.UUIDField(unique=True, default=uuid.uuid4)
    logged_at = models.DateTimeField(default=timezone.now)
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ("-date", "-logged_at", "-id")
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["patient", "date"], name="exercise_log_series_idx"),
        ]
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(condition=Q(pain_after__lte=10), name="exercise_log_pain_0_10"),
        ]

    def __str__(self) -> str:
        return f"exercise {self.exercise_id} on {self.date}: {self.sets_done} sets"
