"""Assessment records and safety alerts.

Scoring lives in ``assessments/instruments`` (pure); a record stores the answers as given,
the score as computed then, and the instrument's flags, so a later change of a scoring
module never silently rewrites history.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from patients.models import Patient


class Source(models.TextChoices):
    PATIENT = "patient", _("Patient self-report")
    CLINICIAN = "clinician", _("Clinician")
    IMPORT = "import", _("Import")


class Assessment(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="assessments")
    instrument = models.CharField(max_length=16)
    answers = models.JSONField()
    total = models.FloatField(null=True)
    band = models.CharField(max_length=32, blank=True)
    flags = models.JSONField(default=list, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    recorded_at = models.DateTimeField(help_text="When the patient experienced / the clinician measured it (UTC).")
    received_at = models.DateTimeField(default=timezone.now, help_text="When the server stored it (UTC).")
    is_late = models.BooleanField(default=False, help_text="Diary entry received long after the moment it describes.")
    client_uuid = models.UUIDField(unique=True, default=uuid.uuid4)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.PATIENT)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    supersedes = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="superseded_by",
        help_text=(
            "The earlier entry this one completes (a DN4 interview completed by the clinician's examination "
            "items, a PHQ-9 safety signal completed by the finished questionnaire); that entry leaves the series."
        ),
    )
    supersedes_uuid = models.UUIDField(
        null=True,
        blank=True,
        help_text="client_uuid of the entry this one completes, as sent: linked when that entry arrives later.",
    )

    class Meta:
        ordering = ("recorded_at", "id")
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["patient", "instrument", "recorded_at"], name="assessment_series_idx"),
            # Everything but the daily NRS diary is sparse: cohort reads of questionnaires and
            # thermal readings scan these few rows instead of probing every patient's series.
            models.Index(
                fields=["instrument", "recorded_at"],
                condition=~models.Q(instrument="nrs"),
                name="assessment_sparse_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.total} for patient {self.patient_id} at {self.recorded_at:%Y-%m-%d %H:%M}"


class NrsDiary(models.Model):
    """What a patient's weekly NRS sums (``NrsWeek``) were counted for, and the current
    window: kept by every capture in the capture's transaction
    (``assessments.outcomes.nrs_weeks``). The cohort summary trusts the weeks only while
    ``day0_us`` and ``time_zone`` are still the patient's; otherwise it reduces the
    patient's stored entries, so a stale row is slower, never wrong."""

    patient = models.OneToOneField(Patient, primary_key=True, on_delete=models.CASCADE, related_name="+")
    day0_us = models.BigIntegerField(
        null=True,
        help_text="Day 0 the weeks count from (plan start at local midnight, else the first NRS entry), "
        "as microseconds since 1970 UTC; null: neither yet.",
    )
    time_zone = models.CharField(max_length=64, help_text="The patient's time zone the weeks were counted in.")
    last_at = models.DateTimeField(
        null=True, help_text="The latest NRS entry since day 0 (the end of the current 7-day window)."
    )
    last_day = models.FloatField(null=True, help_text="Days from day 0 to last_at on the patient's wall clock.")
    current_total = models.FloatField(default=0.0, help_text="Sum of the NRS entries of the 7 days up to last_at.")
    current_n = models.PositiveIntegerField(default=0, help_text="Number of those entries (from day 0 on).")

    def __str__(self) -> str:
        return f"NRS diary of patient {self.patient_id} up to {self.last_at}"


class NrsWeek(models.Model):
    """Sum and number of a patient's NRS entries in one plan week (days [7w, 7w + 7) after
    the day 0 of the patient's ``NrsDiary``, on the patient's wall clock), for the weeks of
    the cohort summary's horizon (``nrs_weeks.KEPT_WEEKS``)."""

    # The unique (patient, week) index serves every lookup by patient.
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+", db_index=False)
    week = models.PositiveIntegerField()
    total = models.FloatField()
    n = models.PositiveIntegerField()

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["patient", "week"], name="nrs_week_one_per_week"),
        ]

    def __str__(self) -> str:
        return f"NRS week {self.week} of patient {self.patient_id}: {self.total:g} / {self.n}"


class AlertKind(models.TextChoices):
    SUICIDAL_IDEATION = "suicidal_ideation", _("PHQ-9 item 9: thoughts of self-harm")
    SEVERE_ADVERSE_EVENT = "severe_adverse_event", _("Severe adverse event after a session")
    MISSED_LOGS = "missed_logs", _("Three consecutive missed entries")
    WORSENING_PAIN = "worsening_pain", _("Worsening pain")


class Severity(models.TextChoices):
    CRITICAL = "critical", _("Critical")
    WARNING = "warning", _("Warning")
    INFO = "info", _("Information")


SAFETY_KINDS = frozenset({AlertKind.SUICIDAL_IDEATION, AlertKind.SEVERE_ADVERSE_EVENT})


class AlertAction(models.TextChoices):
    """What the acknowledging therapist did about an alert (required for safety kinds)."""

    CONTACTED_PATIENT = "contacted_patient", _("Contacted the patient")
    EMERGENCY_REFERRAL = "emergency_referral", _("Emergency referral")
    SAFETY_PLAN_REVIEWED = "safety_plan_reviewed", _("Safety plan reviewed")
    NO_ACTION_NEEDED = "no_action_needed", _("No action needed")


class Alert(models.Model):
    """Stays open until a therapist acknowledges it; safety kinds escalate when ignored."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=32, choices=AlertKind.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    message = models.TextField()
    message_code = models.CharField(max_length=40, blank=True, help_text="Template of the message, for translation.")
    message_args = models.JSONField(default=dict, blank=True, help_text="Arguments of the message template.")
    source_assessment = models.ForeignKey(
        Assessment, null=True, blank=True, on_delete=models.SET_NULL, related_name="alerts"
    )
    source_type = models.CharField(max_length=40, blank=True)
    source_id = models.CharField(max_length=64, blank=True)
    dedupe_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledgement_action = models.CharField(max_length=32, choices=AlertAction.choices, blank=True)
    acknowledgement_reason = models.TextField(blank=True, help_text="Why no action was needed.")
    acknowledgement_note = models.TextField(blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["patient", "acknowledged_at"], name="alert_open_idx"),
        ]
        constraints: ClassVar[list[Any]] = [
            models.CheckConstraint(
                condition=models.Q(acknowledgement_action__in=["", *AlertAction.values]),
                name="alert_ack_action_known",
            ),
            models.CheckConstraint(
                condition=~models.Q(acknowledgement_action=AlertAction.NO_ACTION_NEEDED)
                | ~models.Q(acknowledgement_reason=""),
                name="alert_no_action_needs_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} ({self.severity}) for patient {self.patient_id}"

    @property
    def is_open(self) -> bool:
        return self.acknowledged_at is None

    @property
    def is_safety(self) -> bool:
        return self.kind in SAFETY_KINDS


class PatientProtocol(models.Model):
    """Which questionnaires a patient is asked for, and when (editable per patient)."""

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="protocol")
    protocol_code = models.CharField(max_length=32)
    items = models.JSONField(default=list, help_text="Per-patient copy of the template's items (editable).")
    start_date = models.DateField()
    quiet_start = models.TimeField(null=True, blank=True)
    quiet_end = models.TimeField(null=True, blank=True)
    channels = models.JSONField(default=list, blank=True, help_text="Reminder channels the patient opted into.")
    sms_number = models.CharField(
        max_length=32, blank=True, help_text="E.164 number for SMS reminders (reaches phones where Web Push does not)."
    )
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.protocol_code} for patient {self.patient_id}"


class DueStatus(models.TextChoices):
    PENDING = "pending", _("Due")
    COMPLETED = "completed", _("Completed")
    MISSED = "missed", _("Missed")
    CANCELLED = "cancelled", _("Cancelled")


class DueItem(models.Model):
    """One questionnaire the patient is due to answer in [due_at, closes_at)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="due_items")
    instrument = models.CharField(max_length=16)
    due_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    local_date = models.DateField()
    status = models.CharField(max_length=10, choices=DueStatus.choices, default=DueStatus.PENDING)
    completed_by = models.ForeignKey(Assessment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("due_at", "id")
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["patient", "instrument", "due_at"], name="due_item_unique_slot"),
        ]
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["status", "closes_at"], name="due_item_open_idx"),
            models.Index(fields=["patient", "instrument", "due_at"], name="due_item_patient_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} due {self.due_at:%Y-%m-%d %H:%M} ({self.status})"


class Channel(models.TextChoices):
    PUSH = "push", _("Web Push")
    EMAIL = "email", _("E-mail")
    IN_APP = "in_app", _("In the app")
    SMS = "sms", _("SMS")


class ReminderStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")
    SKIPPED = "skipped", _("Skipped")


class Reminder(models.Model):
    """One message to one recipient on one channel; claimed with a conditional update."""

    class Kind(models.TextChoices):
        DUE_ITEM = "due_item", _("Questionnaire due")
        ALERT = "alert", _("Safety alert to the care team")
        ESCALATION = "escalation", _("Escalation to the clinic manager")
        MISSED = "missed", _("Missed entries to the care team")

    kind = models.CharField(max_length=12, choices=Kind.choices)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="reminders")
    due_item = models.ForeignKey(DueItem, null=True, blank=True, on_delete=models.CASCADE, related_name="reminders")
    alert = models.ForeignKey(Alert, null=True, blank=True, on_delete=models.CASCADE, related_name="reminders")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    send_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=ReminderStatus.choices, default=ReminderStatus.PENDING)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    dedupe_key = models.CharField(max_length=160, unique=True)

    class Meta:
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["status", "send_at"], name="reminder_due_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.kind}/{self.channel} for patient {self.patient_id} at {self.send_at:%Y-%m-%d %H:%M} ({self.status})"
        )


class Delivery(models.Model):
    """The send ledger: one row per attempt, so a re-run can see what already went out."""

    reminder = models.ForeignKey(Reminder, on_delete=models.CASCADE, related_name="deliveries")
    attempt = models.PositiveSmallIntegerField()
    at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=20)  # sent / transient_error / permanent_error / skipped
    provider_ref = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["reminder", "attempt"], name="delivery_attempt_unique"),
            # The exactly-once guarantee, enforced by the database as well as by the sender.
            models.UniqueConstraint(fields=["reminder"], condition=models.Q(outcome="sent"), name="delivery_sent_once"),
        ]

    def __str__(self) -> str:
        return f"reminder {self.reminder_id} attempt {self.attempt}: {self.outcome}"


class Notification(models.Model):
    """The in-app channel: what a user sees in the app or console inbox."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes: ClassVar[list[Any]] = [models.Index(fields=["user", "read_at"], name="notification_unread_idx")]

    def __str__(self) -> str:
        return self.title


class PushSubscription(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions")
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.endpoint[:60]


class WorseningEpisode(models.Model):
    """One stretch of worsening pain (``assessments.outcomes.windows``): it starts when the 7-day
    mean NRS first reaches baseline + 2 points, raises one WORSENING_PAIN alert, and ends
    when the mean falls back below that. At most one open episode per patient."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="worsening_episodes")
    alert = models.OneToOneField(Alert, null=True, blank=True, on_delete=models.SET_NULL, related_name="episode")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    day0 = models.DateTimeField(help_text="Day 0 the baseline was counted from.")
    baseline = models.FloatField(help_text="Mean NRS of the baseline week.")
    mean_at_start = models.FloatField(help_text="7-day mean NRS when the episode started.")
    last_mean = models.FloatField(null=True, blank=True, help_text="7-day mean NRS at the latest evaluation.")
    last_evaluated_at = models.DateTimeField()

    class Meta:
        ordering = ("-started_at", "-id")
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(
                fields=["patient"], condition=models.Q(ended_at__isnull=True), name="worsening_episode_one_open"
            ),
        ]

    def __str__(self) -> str:
        state = "open" if self.ended_at is None else f"ended {self.ended_at:%Y-%m-%d}"
        return f"worsening pain of patient {self.patient_id} from {self.started_at:%Y-%m-%d} ({state})"


class ThermogramView(models.TextChoices):
    POSTERIOR = "posterior", _("Posterior")
    ANTERIOR = "anterior", _("Anterior")
    PLANTAR = "plantar", _("Plantar")
    DORSAL = "dorsal", _("Dorsal")
    OTHER = "other", _("Other")


class ImageSide(models.TextChoices):
    LEFT = "left", _("Left")
    RIGHT = "right", _("Right")


def _thermogram_path(instance: Thermogram, filename: str) -> str:
    # The stored name carries no part of the uploaded name (it may hold the patient's name).
    suffix = {"tiff": ".tiff", "flir": ".jpg"}.get(instance.kind, ".csv")
    return f"thermograms/{instance.patient_id}/{instance.client_uuid}{suffix}"


class Thermogram(models.Model):
    """A radiometric image as uploaded (kept through the storage API) with its conditions;
    the temperature matrix is read again from the original when regions are measured."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="thermograms")
    client_uuid = models.UUIDField(unique=True)
    original = models.FileField(upload_to=_thermogram_path, max_length=200)
    kind = models.CharField(max_length=8, help_text='"csv", "tiff" or "flir" (FLIR radiometric JPEG).')
    scale = models.FloatField(null=True, blank=True, help_text="TIFF only: degC = raw * scale + offset.")
    offset = models.FloatField(null=True, blank=True)
    sha256 = models.CharField(max_length=64)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    min_c = models.FloatField()
    max_c = models.FloatField()
    display_low_c = models.FloatField(help_text="1st percentile of the matrix.")
    display_high_c = models.FloatField(help_text="99th percentile of the matrix.")
    recorded_at = models.DateTimeField()
    ambient_c = models.FloatField()
    acclimatisation_min = models.PositiveSmallIntegerField()
    view = models.CharField(max_length=10, choices=ThermogramView.choices)
    image_left_is = models.CharField(max_length=5, choices=ImageSide.choices)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("recorded_at", "id")
        indexes: ClassVar[list[Any]] = [models.Index(fields=["patient", "recorded_at"], name="thermogram_patient_idx")]

    def __str__(self) -> str:
        return f"thermogram {self.width}x{self.height} of patient {self.patient_id} at {self.recorded_at:%Y-%m-%d}"


class ThermogramReading(models.Model):
    """The regions measured on a thermogram and the thermal assessment they produced, so a
    reading can be traced to its pixels."""

    thermogram = models.ForeignKey(Thermogram, on_delete=models.CASCADE, related_name="readings")
    assessment = models.OneToOneField(Assessment, on_delete=models.CASCADE, related_name="thermogram_reading")
    midline_x = models.FloatField()
    regions = models.JSONField(help_text="Per region: name, drawn and mirrored rectangles, statistics per side.")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"reading of thermogram {self.thermogram_id} -> assessment {self.assessment_id}"


class ContentPackKind(models.TextChoices):
    LICENSED = "licensed", _("Licensed instrument text")
    PLACEHOLDER = "placeholder", _("Placeholder (the clinic must load the licensed text)")
    TEST = "test", _("Test content")


class ContentPack(models.Model):
    """The wording of a licensed instrument (e.g. the ODI's section titles and six statements
    per section) in one language, as the clinic loaded it. Each load is a new version; the
    highest version of an instrument and language is the one patients see. Loaded through
    ``assessments.capture.content_packs.content_pack_load`` (the ``content_pack_load`` command), never
    edited in place, so an answer can always be traced to the wording it was given against."""

    instrument = models.CharField(max_length=16)
    language = models.CharField(max_length=16, help_text="en or zh-hans.")
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=12, choices=ContentPackKind.choices)
    title = models.CharField(max_length=200, help_text="Edition and licence, e.g. 'ODI v2.1a, licence 1234'.")
    sections = models.JSONField(help_text="{item key: {title, statements: [one per answer option]}}.")
    loaded_at = models.DateTimeField(default=timezone.now)
    loaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ("instrument", "language", "-version")
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["instrument", "language", "version"], name="content_pack_one_version"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.language} v{self.version} ({self.kind})"
