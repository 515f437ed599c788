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


def page_client(user: Any, language: str | None = None) -> Any:
    """A browser-like Django test client signed in as ``user`` (anonymous for None), in
    ``language`` when given (the language cookie, as the switcher sets it)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    if user is not None:
        client.force_login(user)
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def make_demo_cohort(clinic: Any, therapist: Any) -> list[Any]:
    """The seed's hand-made demo patients (``seed_demo.COHORT``) on ``therapist``'s care team."""
    from assessments.management.commands.seed_demo import COHORT

    return [
        make_patient(
            clinic,
            therapists=(therapist,),
            display_name=name,
            sex=sex,
            birth_year=birth_year,
            diagnoses=diagnoses,
            affected_side=side,
            pain_onset=onset,
            time_zone=tz,
            language=language,
        )
        for name, sex, birth_year, diagnoses, side, onset, tz, language in COHORT
    ]
