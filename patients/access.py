"""The one place that decides who may see and change which patient.

Rules (DESIGN "Access"):
- a patient user sees only their own record and may record their own self-reports;
- a therapist sees and changes patients on whose care team they are, in a clinic where
  they hold a therapist membership;
- a manager sees the whole cohort of their own clinic, read-only;
- a clinic administrator sees the clinic's patients and manages registration and care teams;
- nobody sees another clinic's patients (superusers included: they use the Django admin).

Every API view and page fetches patients through :func:`visible_patients` or
:func:`patient_get_for`. The latter also writes the audit event for the access, so a view
cannot read a patient's data without leaving a trail. Missing and forbidden patients answer
the same "not found", so ids of other clinics' patients cannot be probed.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet

from patients.audit import Actor, audit_event_record
from patients.models import CareTeamMember, Membership, Patient, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    AnyUser = AbstractBaseUser | AnonymousUser


# Ids outside the database's bigint range name no row; the audit trail keeps them as text only.
_BIGINT_MIN, _BIGINT_MAX = -(2**63), 2**63 - 1


class Action(enum.StrEnum):
    VIEW = "view"  # read the record and its clinical data
    REPORT = "report"  # patient self-report (diary, questionnaires, home exercise)
    CLINICAL = "clinical"  # clinician entries: measurements, sessions, plan, alerts
    MANAGE = "manage"  # demographics, login, care team


class PatientNotFound(Exception):
    """Raised for patients that do not exist *or* that the actor may not act on."""


def staff_roles(user: Any) -> dict[int, str]:
    """clinic id -> role for a staff user (cached on the user object for the request)."""
    if user is None or not user.is_authenticated:
        return {}
    cached: dict[int, str] | None = getattr(user, "_clinic_roles", None)
    if cached is None:
        cached = dict(Membership.objects.filter(user_id=user.pk).values_list("clinic_id", "role"))
        user._clinic_roles = cached
    return cached


def own_patient_id(user: Any) -> int | None:
    """The id of the active patient record a user owns (cached on the user for the request)."""
    if user is None or not user.is_authenticated:
        return None
    cached = getattr(user, "_own_patient_id", False)
    if cached is False:
        cached = Patient.objects.filter(user_id=user.pk, is_active=True).values_list("id", flat=True).first()
        user._own_patient_id = cached
    return cached


def own_patient_preloaded(user: Any, patient: Patient | None) -> None:
    """Remember the user's own patient row, loaded with the user (token authentication joins
    it and its clinic): :func:`own_patient_id` and :func:`patient_get_for` then need no
    query for a patient acting on their own record. The row is as fresh as the request."""
    own = patient if patient is not None and patient.is_active else None
    user._own_patient_id = own.pk if own is not None else None
    user._own_patient = own


def _own_record_grants(user: Any, action: Action, pk: int | None) -> bool:
    """The rule's first clause alone decides: a user's own (active) record, to view or report."""
    return pk is not None and action in (Action.VIEW, Action.REPORT) and own_patient_id(user) == pk


def _clinics_with(user: Any, *roles: str) -> list[int]:
    return [clinic_id for clinic_id, role in staff_roles(user).items() if role in roles]


def _access_filter(user: Any, action: Action, *, for_pk: int | None = None) -> Q:
    """The rule, as one Q over Patient. An empty Q matching nothing is ``Q(pk__in=[])``.

    ``for_pk`` names the one patient the caller fetches, if any: when the user's own record
    grants it, the staff clauses cannot add to the answer and their lookup is skipped.
    """
    nothing = Q(pk__in=[])
    if user is None or not user.is_authenticated or not user.is_active:
        return nothing
    rule = nothing
    patient_id = own_patient_id(user)
    if patient_id is not None and action in (Action.VIEW, Action.REPORT):
        rule |= Q(pk=patient_id)
        if _own_record_grants(user, action, for_pk):
            return rule
    therapist_clinics = _clinics_with(user, Role.THERAPIST)
    if therapist_clinics and action in (Action.VIEW, Action.REPORT, Action.CLINICAL, Action.MANAGE):
        on_team = CareTeamMember.objects.filter(patient_id=OuterRef("pk"), user_id=user.pk)
        rule |= Q(Exists(on_team), clinic_id__in=therapist_clinics)
    if action == Action.VIEW:
        viewer_clinics = _clinics_with(user, Role.MANAGER, Role.ADMIN)
        if viewer_clinics:
            rule |= Q(clinic_id__in=viewer_clinics)
    if action == Action.MANAGE:
        admin_clinics = _clinics_with(user, Role.ADMIN)
        if admin_clinics:
            rule |= Q(clinic_id__in=admin_clinics)
    return rule


def visible_patients(user: AnyUser | Any, action: Action = Action.VIEW) -> QuerySet[Patient]:
    """Patients the user may act on; the base of every patient list and fetch."""
    return _visible(user, action)


def _visible(user: Any, action: Action, *, for_pk: int | None = None) -> QuerySet[Patient]:
    qs = Patient.objects.filter(_access_filter(user, action, for_pk=for_pk))
    if action in (Action.REPORT, Action.CLINICAL):
        # A discharged (inactive) patient's record stays readable — and counts in cohort
        # outcomes — and can be reactivated, but takes no new entries.
        qs = qs.filter(is_active=True)
    return qs


def patient_get_for(
    actor: Actor,
    patient_id: int | str,
    *,
    action: Action = Action.VIEW,
    audit: str | None = None,
    log_access: bool = True,
    object_type: str = "patient",
) -> Patient:
    """Fetch one patient the actor may act on, and record the access in the audit log.

    ``audit`` names the audited action (default: "<action>"). ``log_access=False`` only when
    the caller records a more specific event itself in the same request; a denial is always
    recorded.
    """
    try:
        pk = int(patient_id)
    except (TypeError, ValueError) as exc:
        raise PatientNotFound(str(patient_id)) from exc
    # A patient acting on their own record, with the row loaded by token authentication
    # (own_patient_preloaded): the rule's first clause decides, no second query.
    preloaded: Patient | None = getattr(actor.user, "_own_patient", None)
    if preloaded is not None and actor.user.is_active and _own_record_grants(actor.user, action, pk):
        patient: Patient | None = preloaded
    else:
        patient = _visible(actor.user, action, for_pk=pk).select_related("clinic").filter(pk=pk).first()
    if patient is None:
        audit_event_record(
            actor=actor,
            action="denied",
            object_type=object_type,
            object_id=str(pk),
            patient_id=pk if _BIGINT_MIN <= pk <= _BIGINT_MAX else None,
            detail={"wanted": str(action)},
        )
        raise PatientNotFound(str(pk))
    if log_access:
        audit_event_record(actor=actor, action=audit or str(action), object_type=object_type, patient=patient)
    return patient


def is_staff_of(user: Any, clinic_id: int, *roles: str) -> bool:
    role = staff_roles(user).get(clinic_id)
    return role is not None and (not roles or role in roles)


def primary_role(user: Any) -> str | None:
    """The role a page should greet the user as: patient, therapist, manager or admin."""
    if own_patient_id(user) is not None:
        return "patient"
    roles = set(staff_roles(user).values())
    for role in (Role.THERAPIST, Role.MANAGER, Role.ADMIN):
        if role in roles:
            return str(role)
    return None
