"""Small builders for test data (plain functions; no factory library needed)."""

from __future__ import annotations

import itertools
from typing import Any

from django.contrib.auth import get_user_model

from patients.models import CareTeamMember, Clinic, Membership, Patient

_seq = itertools.count(1)
PASSWORD = "correct-horse-battery-staple"


def make_user(username: str | None = None, **fields: Any) -> Any:
    username = username or f"user{next(_seq)}"
    return get_user_model().objects.create_user(username=username, password=PASSWORD, **fields)


def make_clinic(name: str = "Clinic", **fields: Any) -> Clinic:
    n = next(_seq)
    fields.setdefault("time_zone", "Asia/Shanghai")
    return Clinic.objects.create(name=f"{name} {n}", slug=f"clinic-{n}", **fields)


def make_staff(clinic: Clinic, role: str, username: str | None = None) -> Any:
    user = make_user(username)
    Membership.objects.create(user=user, clinic=clinic, role=role)
    return user


def make_patient(clinic: Clinic, *, user: Any = None, therapists: tuple[Any, ...] = (), **fields: Any) -> Patient:
    fields.setdefault("display_name", f"Patient {next(_seq)}")
    fields.setdefault("diagnoses", ["clbp"])
    fields.setdefault("time_zone", "Asia/Shanghai")
    fields.setdefault("affected_side", "left")
    patient = Patient.objects.create(clinic=clinic, user=user, **fields)
    for index, therapist in enumerate(therapists):
        CareTeamMember.objects.create(patient=patient, user=therapist, is_primary=index == 0)
    return patient
