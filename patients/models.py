"""Clinics, staff memberships, patients, care teams, consent and the audit log."""

from __future__ import annotations

import zoneinfo
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not an IANA time zone name (e.g. Asia/Shanghai)."), params={"value": value}
        )


class Clinic(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(unique=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC", validators=[validate_time_zone])
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    THERAPIST = "therapist", _("Therapist")
    MANAGER = "manager", _("Clinic manager")
    ADMIN = "admin", _("Clinic administrator")


class Membership(models.Model):
    """A staff user's role in one clinic. Patients are not members: they own a Patient row."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["user", "clinic"], name="membership_user_clinic_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.role} @ {self.clinic}"


class Diagnosis(models.TextChoices):
    CLBP = "clbp", _("Chronic low back pain")
    LUMBAR_RADICULOPATHY = "lumbar_radiculopathy", _("Lumbosacral radiculopathy")
    PHN = "phn", _("Postherpetic neuralgia")
    TRIGEMINAL_NEURALGIA = "trigeminal_neuralgia", _("Trigeminal neuralgia")
    DPN = "dpn", _("Diabetic peripheral neuropathy")
    CRPS = "crps", _("Complex regional pain syndrome")
    CARPAL_TUNNEL = "carpal_tunnel", _("Carpal tunnel syndrome")
    ULNAR_NEUROPATHY = "ulnar_neuropathy", _("Ulnar neuropathy")
    TOS = "tos", _("Thoracic outlet syndrome")
    PERONEAL_ENTRAPMENT = "peroneal_entrapment", _("Common peroneal nerve entrapment")
    SCI_PAIN = "sci_pain", _("Spinal cord injury pain")
    BRACHIAL_PLEXUS_AVULSION = "brachial_plexus_avulsion", _("Brachial plexus avulsion")
    OTHER_NEUROPATHIC = "other_neuropathic", _("Other neuropathic pain")


NEUROPATHIC_DIAGNOSES = frozenset(Diagnosis.values) - {Diagnosis.CLBP}


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Not recorded")


class Side(models.TextChoices):
    LEFT = "left", _("Left")
    RIGHT = "right", _("Right")
    BILATERAL = "bilateral", _("Bilateral")
    NONE = "none", _("Not lateralised")


class Language(models.TextChoices):
    EN = "en", "English"
    ZH_HANS = "zh-hans", "简体中文"


class Patient(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="patient"
    )
    display_name = models.CharField(_("display name"), max_length=120)
    sex = models.CharField(_("sex"), max_length=8, choices=Sex.choices, default=Sex.UNKNOWN)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    diagnoses = models.JSONField(_("diagnoses"), default=list, blank=True)
    affected_side = models.CharField(_("affected side"), max_length=10, choices=Side.choices, default=Side.NONE)
    pain_onset = models.DateField(_("pain onset"), null=True, blank=True)
    pain_trigger = models.CharField(
        _("pain trigger"), max_length=120, blank=True, help_text="What started the pain (e.g. lifting, herpes zoster)."
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC", validators=[validate_time_zone])
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, default=Language.EN)
    is_active = models.BooleanField(default=True)
    is_synthetic = models.BooleanField(
        _("synthetic"),
        default=False,
        help_text="Made-up demo data, not a real person; marked as such wherever it is shown.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("display_name", "id")
        indexes: ClassVar[list[Any]] = [models.Index(fields=["clinic", "display_name"])]

    def __str__(self) -> str:
        return self.display_name

    def clean(self) -> None:
        errors: dict[str, StrOrPromise] = {}
        if not isinstance(self.diagnoses, list) or any(code not in Diagnosis.values for code in self.diagnoses):
            errors["diagnoses"] = _("Each diagnosis must be one of: %(codes)s.") % {
                "codes": ", ".join(Diagnosis.values)
            }
        elif len(set(self.diagnoses)) != len(self.diagnoses):
            errors["diagnoses"] = _("A diagnosis is listed twice.")
        this_year = timezone.now().year
        if self.birth_year is not None and not (this_year - 120 <= self.birth_year <= this_year):
            errors["birth_year"] = _("Birth year must be between %(lo)s and %(hi)s.") % {
                "lo": this_year - 120,
                "hi": this_year,
            }
        if self.pain_onset is not None and self.pain_onset > timezone.now().date():
            errors["pain_onset"] = _("Pain onset cannot be in the future.")
        if errors:
            raise ValidationError(errors)

    @property
    def is_neuropathic(self) -> bool:
        return any(code in NEUROPATHIC_DIAGNOSES for code in self.diagnoses)


class CareTeamMember(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="care_team")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="care_assignments")
    is_primary = models.BooleanField(default=False)
    added_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints: ClassVar[list[Any]] = [
            models.UniqueConstraint(fields=["patient", "user"], name="care_team_patient_user_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.patient}"


class ConsentKind(models.TextChoices):
    TREATMENT = "treatment", _("Treatment and outcome tracking")
    DATA_PROCESSING = "data_processing", _("Processing of health data")
    REMINDERS = "reminders", _("Reminders by push, e-mail or SMS")
    RESEARCH = "research", _("Use of de-identified data for research")


class Consent(models.Model):
    """Append-only consent history: the latest row per kind is the one in force."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="consents")
    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    granted = models.BooleanField()
    document_version = models.CharField(max_length=40, default="1")
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ("-recorded_at", "-id")
        indexes: ClassVar[list[Any]] = [models.Index(fields=["patient", "kind", "-recorded_at"])]

    def __str__(self) -> str:
        return f"{self.kind}={'yes' if self.granted else 'no'} for {self.patient_id}"


class AuditEvent(models.Model):
    """Who did what to which patient's data, when, from where. Never updated, never deleted.

    Actor and patient are kept as plain ids (not foreign keys) so the trail outlives the rows
    it talks about; on PostgreSQL a trigger refuses UPDATE and DELETE as well.
    """

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor_id = models.BigIntegerField(null=True)
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=64, blank=True)
    patient_id = models.BigIntegerField(null=True)
    clinic_id = models.BigIntegerField(null=True)
    method = models.CharField(max_length=10, blank=True)
    path = models.CharField(max_length=500, blank=True)
    ip = models.GenericIPAddressField(null=True)
    user_agent = models.CharField(max_length=300, blank=True)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ("-at", "-id")
        indexes: ClassVar[list[Any]] = [
            models.Index(fields=["patient_id", "-at"]),
            models.Index(fields=["actor_id", "-at"]),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise ValidationError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValidationError("Audit events are append-only.")
