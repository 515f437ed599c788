"""Seed the demo clinic, its three logins, a small hand-made cohort and a synthetic one of
real size (marked as synthetic). Development only.

Safe to run again: existing demo rows are kept (nothing is duplicated), missing ones made.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from assessments.demo import history as assessments_demo
from assessments.demo.synthetic import seed_synthetic
from patients.audit import Actor, audit_event_record
from patients.models import CareTeamMember, Clinic, Patient, Role
from patients.services import consent_record, membership_grant
from therapies import demo as therapies_demo

DEFAULT_PATIENTS = 200

DEMO_PASSWORD = "demo"  # noqa: S105 - demo only; the command refuses outside the embedded install

# (name, sex, birth year, diagnoses, affected side, onset, time zone, language)
COHORT: list[tuple[str, str, int, list[str], str, dt.date, str, str]] = [
    ("Demo Patient", "female", 1978, ["clbp"], "left", dt.date(2025, 3, 1), "Asia/Shanghai", "zh-hans"),
    (
        "Li Wei",
        "male",
        1969,
        ["clbp", "lumbar_radiculopathy"],
        "right",
        dt.date(2024, 11, 12),
        "Asia/Shanghai",
        "zh-hans",
    ),
    ("Zhang Min", "female", 1955, ["phn"], "left", dt.date(2025, 6, 20), "Asia/Shanghai", "zh-hans"),
    ("Wang Fang", "female", 1962, ["dpn"], "bilateral", dt.date(2023, 9, 1), "Asia/Shanghai", "zh-hans"),
    ("Chen Jie", "male", 1984, ["peroneal_entrapment"], "right", dt.date(2025, 8, 2), "Asia/Shanghai", "zh-hans"),
    ("Maria Keller", "female", 1974, ["crps"], "right", dt.date(2025, 1, 15), "Europe/Berlin", "en"),
    ("John Smith", "male", 1958, ["clbp"], "none", dt.date(2022, 5, 10), "America/New_York", "en"),
    ("Liu Yang", "male", 1990, ["carpal_tunnel"], "right", dt.date(2025, 4, 4), "Asia/Shanghai", "zh-hans"),
]


# What started each demo patient's pain (the case series' "trigger" column).
TRIGGERS = {
    "Demo Patient": "搬重物",
    "Li Wei": "椎间盘突出",
    "Zhang Min": "带状疱疹",
    "Wang Fang": "2 型糖尿病",
    "Chen Jie": "踝扭伤",
    "Maria Keller": "wrist fracture",
    "John Smith": "lifting",
    "Liu Yang": "重复性手部劳动",
}


class Command(BaseCommand):
    help = "Create the demo clinic with demo-patient, demo-therapist and demo-manager (password 'demo')."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--synthetic",
            type=int,
            default=DEFAULT_PATIENTS,
            help=f"Synthetic patients to add to the demo clinic once (default {DEFAULT_PATIENTS}; 0 for none).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_SEED_ALLOWED:
            raise CommandError(
                "Refusing to seed demo logins: demo passwords are public. The seed runs only on the "
                "embedded install (SQLite under VAR_DIR) or with DEMO_SEED_ALLOWED=true."
            )
        with transaction.atomic():
            created = self._seed()
        synthetic = self._seed_synthetic(options["synthetic"]) if options["synthetic"] > 0 else 0
        self.stdout.write(
            self.style.SUCCESS(f"demo seed ready ({created} new patients, {synthetic} new synthetic patients)")
        )

    def _seed_synthetic(self, n_patients: int) -> int:
        clinic = Clinic.objects.get(slug="demo")
        therapist = get_user_model().objects.get(username="demo-therapist")
        return seed_synthetic(clinic, therapist, n_patients=n_patients)

    def _user(self, username: str, **fields: Any) -> Any:
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(username=username, defaults=fields)
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user

    def _seed(self) -> int:
        clinic, _c = Clinic.objects.get_or_create(
            slug="demo", defaults={"name": "Demo Rehab Clinic", "time_zone": "Asia/Shanghai"}
        )
        therapist = self._user(
            "demo-therapist", first_name="Demo", last_name="Therapist", email="therapist@example.org"
        )
        manager = self._user("demo-manager", first_name="Demo", last_name="Manager", email="manager@example.org")
        membership_grant(user=therapist, clinic=clinic, role=Role.THERAPIST)
        membership_grant(user=manager, clinic=clinic, role=Role.MANAGER)
        patient_user = self._user("demo-patient", first_name="Demo", last_name="Patient", email="patient@example.org")
        actor = Actor.system("seed_demo")
        new = 0
        for index, (name, sex, birth_year, diagnoses, side, onset, tz, language) in enumerate(COHORT):
            patient, created = Patient.objects.get_or_create(
                clinic=clinic,
                display_name=name,
                defaults={
                    "sex": sex,
                    "birth_year": birth_year,
                    "diagnoses": diagnoses,
                    "affected_side": side,
                    "pain_onset": onset,
                    "pain_trigger": TRIGGERS.get(name, ""),
                    "time_zone": tz,
                    "language": language,
                    "user": patient_user if index == 0 else None,
                },
            )
            if not created:
                continue
            new += 1
            CareTeamMember.objects.get_or_create(patient=patient, user=therapist, defaults={"is_primary": True})
            audit_event_record(
                actor=actor, action="create", object_type="patient", patient=patient, detail={"seed": True}
            )
            for kind in ("treatment", "data_processing", "reminders"):
                consent_record(actor=actor, patient=patient, kind=kind, granted=True)
        self._seed_clinical(clinic)
        return new

    def _seed_clinical(self, clinic: Clinic) -> None:
        """Plans first: the diary series start at each patient's plan start."""

        therapies_demo.seed(clinic)
        assessments_demo.seed(clinic)
