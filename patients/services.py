"""Writes for clinics, patients, care teams, consent and the audit log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import DeviceToken
from patients.access import is_staff_of, staff_roles
from patients.audit import Actor, audit_event_record, jsonable
from patients.models import (
    CareTeamMember,
    Clinic,
    Consent,
    Membership,
    Patient,
    Role,
)

User = get_user_model()


def membership_grant(*, user: Any, clinic: Clinic, role: str) -> Membership:
    membership, _created = Membership.objects.update_or_create(user=user, clinic=clinic, defaults={"role": role})
    user.__dict__.pop("_clinic_roles", None)
    return membership


def _check_login(username: str, password: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if User.objects.filter(username__iexact=username).exists():
        errors["login.username"] = _("This username is taken.")
    try:
        validate_password(password)
    except ValidationError as exc:
        errors["login.password"] = " ".join(exc.messages)
    return errors


def _creator_clinic(actor: Actor, clinic_id: int | None) -> Clinic:
    """The clinic a new patient belongs to: the given one, or the creator's only clinic."""
    allowed = [cid for cid, role in staff_roles(actor.user).items() if role in (Role.THERAPIST, Role.ADMIN)]
    if clinic_id is None:
        if len(allowed) != 1:
            raise ValidationError({"clinic": _("Name the clinic: you work in %(n)s clinics.") % {"n": len(allowed)}})
        clinic_id = allowed[0]
    if clinic_id not in allowed:
        raise ValidationError({"clinic": _("You cannot register patients in this clinic.")})
    return Clinic.objects.get(pk=clinic_id)


@transaction.atomic
def patient_create(
    *,
    actor: Actor,
    display_name: str,
    clinic_id: int | None = None,
    sex: str = "unknown",
    birth_year: int | None = None,
    diagnoses: Sequence[str] = (),
    affected_side: str = "none",
    pain_onset: dt.date | None = None,
    pain_trigger: str = "",
    time_zone: str | None = None,
    language: str = "en",
    login_username: str | None = None,
    login_password: str | None = None,
    login_email: str = "",
) -> Patient:
    """Register a patient in the creator's clinic; a therapist creator joins the care team."""
    clinic = _creator_clinic(actor, clinic_id)
    patient = Patient(
        clinic=clinic,
        display_name=display_name,
        sex=sex,
        birth_year=birth_year,
        diagnoses=list(diagnoses),
        affected_side=affected_side,
        pain_onset=pain_onset,
        pain_trigger=pain_trigger,
        time_zone=time_zone or clinic.time_zone,
        language=language,
    )
    patient.full_clean(exclude=["user"])
    if login_username:
        errors = _check_login(login_username, login_password or "")
        if errors:
            raise ValidationError(errors)
        patient.user = User.objects.create_user(username=login_username, password=login_password, email=login_email)
    patient.save()
    if is_staff_of(actor.user, clinic.pk, Role.THERAPIST):
        CareTeamMember.objects.create(patient=patient, user=actor.user, is_primary=True)
    audit_event_record(
        actor=actor, action="create", object_type="patient", patient=patient, detail={"login": bool(login_username)}
    )
    return patient


PATIENT_EDITABLE = (
    "display_name",
    "sex",
    "birth_year",
    "diagnoses",
    "affected_side",
    "pain_onset",
    "pain_trigger",
    "time_zone",
    "language",
    "is_active",
)


@transaction.atomic
def patient_update(*, actor: Actor, patient: Patient, data: dict[str, Any]) -> Patient:
    """Change the given fields only (update_fields), recording old and new values."""
    unknown = set(data) - set(PATIENT_EDITABLE)
    if unknown:
        raise ValidationError({key: _("This field cannot be changed.") for key in sorted(unknown)})
    changes: dict[str, list[Any]] = {}
    for key, value in data.items():
        old = getattr(patient, key)
        if old != value:
            changes[key] = [jsonable(old), jsonable(value)]
            setattr(patient, key, value)
    if not changes:
        return patient
    patient.updated_at = timezone.now()
    patient.full_clean(exclude=["user"])
    patient.save(update_fields=[*changes, "updated_at"])
    audit_event_record(
        actor=actor, action="update", object_type="patient", patient=patient, detail={"changes": changes}
    )
    if "is_active" in changes and not patient.is_active and patient.user_id is not None:
        # A discharged patient's phone keeps no way in.
        user_tokens_revoke_all(actor=actor, user_id=patient.user_id, reason="patient_deactivated")
    return patient


@transaction.atomic
def care_team_add(*, actor: Actor, patient: Patient, user_id: int, is_primary: bool = False) -> CareTeamMember:
    if not Membership.objects.filter(user_id=user_id, clinic_id=patient.clinic_id, role=Role.THERAPIST).exists():
        raise ValidationError({"user": _("Only therapists of the patient's clinic can join the care team.")})
    member, created = CareTeamMember.objects.get_or_create(
        patient=patient, user_id=user_id, defaults={"is_primary": is_primary}
    )
    if created:
        audit_event_record(
            actor=actor,
            action="care_team.add",
            object_type="care_team",
            object_id=member.pk,
            patient=patient,
            detail={"user_id": user_id},
        )
    return member


@transaction.atomic
def care_team_remove(*, actor: Actor, patient: Patient, user_id: int) -> None:
    deleted, _rows = CareTeamMember.objects.filter(patient=patient, user_id=user_id).delete()
    if deleted:
        audit_event_record(
            actor=actor,
            action="care_team.remove",
            object_type="care_team",
            patient=patient,
            detail={"user_id": user_id},
        )


@transaction.atomic
def consent_record(
    *, actor: Actor, patient: Patient, kind: str, granted: bool, document_version: str = "1", note: str = ""
) -> Consent:
    """Append a consent decision; history is kept, the newest per kind is in force."""
    consent = Consent(
        patient=patient,
        kind=kind,
        granted=granted,
        document_version=document_version,
        note=note,
        recorded_by=actor.user if actor.user is not None and actor.user.is_authenticated else None,
    )
    consent.full_clean()
    consent.save()
    audit_event_record(
        actor=actor,
        action="consent.record",
        object_type="consent",
        object_id=consent.pk,
        patient=patient,
        detail={"kind": kind, "granted": granted},
    )
    return consent


def consents_in_force(patient: Patient) -> dict[str, bool]:
    latest: dict[str, bool] = {}
    for kind, granted in patient.consents.order_by("kind", "-recorded_at", "-id").values_list("kind", "granted"):
        latest.setdefault(kind, granted)
    return latest


@transaction.atomic
def user_tokens_revoke_all(*, actor: Actor, user_id: int, reason: str) -> int:
    """Sign the user out of every device (account or patient record deactivated). A password
    change needs no call: tokens are bound to the password they were issued under."""
    count, _ = DeviceToken.objects.filter(user_id=user_id).delete()
    if count:
        audit_event_record(
            actor=actor,
            action="auth.token_revoke_all",
            object_type="user",
            object_id=user_id,
            detail={"reason": reason, "tokens": count},
        )
    return count
