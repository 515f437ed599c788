"""A synthetic demo clinic of real size: made-up patients whose figures look like a clinic's.

Development only (called by ``manage.py seed_demo``, which refuses to run outside the
embedded demo). The cohort dashboard means little on eight hand-made patients, so the seed
adds ``n_patients`` synthetic ones over ``months`` of plan starts, across the diagnoses and
plan modalities, with responders, non-responders, drop-outs, missed diary days,
questionnaires on their schedule, thermal visits, clinic sessions and home exercise.

Every synthetic patient is flagged ``is_synthetic`` and named "Synthetic patient NNN", so
the mark travels wherever the patient appears (worklist, charts, exports, FHIR).

The plans go through :func:`therapies.services.plan_version_create`, so they obey the
modality limits. The diary is bulk-inserted for speed: each entry is scored by the same
pure instrument as real capture, and the weekly NRS sums are rebuilt afterwards. No
synthetic answer trips a safety alert (PHQ-9 item 9 is always 0).

Effect sizes are loosely modelled on the seeds' sources: about a third of chronic low back
pain patients reach a 30 % reduction, nerve entrapments treated by hydrodissection do
better (6 of 9 improved in the case series), central stimulation adds a little.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from assessments.instruments import get_instrument
from assessments.models import Assessment, Source
from assessments.outcomes.nrs_weeks import nrs_weeks_rebuild
from patients.audit import Actor, audit_event_record
from patients.models import CareTeamMember, Clinic, Consent, Patient
from therapies import demo as therapies_demo
from therapies.models import HomeExerciseLog, PlanComponent, TherapySession
from therapies.services import HOME_MODALITIES, plan_version_create

NAMESPACE = uuid.UUID("0c6e1a52-7d1b-4f4e-a7a8-5b9f3e1d2c00")
DEFAULT_PATIENTS = 200
DEFAULT_MONTHS = 18
MAX_FOLLOW_UP_DAYS = 26 * 7
# A synthetic patient whose diary ended longer ago than this is discharged.
DISCHARGE_AFTER = dt.timedelta(days=21)

# Diagnosis mix of a pain rehabilitation clinic, and each diagnosis's mean share of pain
# relief by week 12 without central stimulation (the patient's own effect varies around it).
DIAGNOSES: dict[str, tuple[float, float]] = {
    "clbp": (0.30, 0.25),
    "lumbar_radiculopathy": (0.18, 0.30),
    "phn": (0.10, 0.28),
    "dpn": (0.12, 0.18),
    "crps": (0.08, 0.22),
    "peroneal_entrapment": (0.10, 0.45),
    "carpal_tunnel": (0.12, 0.42),
}
CENTRAL_BONUS = 0.08
# What started the pain, per diagnosis, in the patient's language: (en, zh-hans).
TRIGGERS: dict[str, tuple[tuple[str, str], ...]] = {
    "clbp": (
        ("lifting", "搬重物"),
        ("no clear trigger", "无明确诱因"),
        ("fall", "跌倒"),
        ("prolonged sitting", "久坐"),
    ),
    "lumbar_radiculopathy": (("lifting", "搬重物"), ("disc herniation", "椎间盘突出")),
    "phn": (("herpes zoster", "带状疱疹"),),
    "dpn": (("type 2 diabetes", "2 型糖尿病"),),
    "crps": (("wrist fracture", "腕部骨折"), ("ankle sprain", "踝扭伤"), ("surgery", "手术")),
    "peroneal_entrapment": (
        ("prolonged squatting", "长时间蹲姿"),
        ("knee surgery", "膝关节手术"),
        ("ankle sprain", "踝扭伤"),
    ),
    "carpal_tunnel": (("repetitive hand work", "重复性手部劳动"), ("pregnancy", "妊娠")),
}
ZONES = (("Asia/Shanghai", "zh-hans", 0.7), ("Europe/Berlin", "en", 0.15), ("America/New_York", "en", 0.15))
DN4_INTERVIEW = ("burning", "painful_cold", "electric_shocks", "tingling", "pins_and_needles", "numbness", "itching")


def _uid(*parts: object) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts))


def seed_synthetic(
    clinic: Clinic,
    therapist: AbstractBaseUser,
    *,
    n_patients: int = DEFAULT_PATIENTS,
    months: int = DEFAULT_MONTHS,
    now: dt.datetime | None = None,
    seed: int = 7,
) -> int:
    """Add the synthetic cohort to ``clinic`` once; returns how many patients were made."""
    if Patient.objects.filter(clinic=clinic, is_synthetic=True).exists():
        return 0
    now = now or timezone.now()
    rng = np.random.default_rng(seed)
    actor = Actor.system("seed_demo")
    with transaction.atomic():
        patients = _patients(clinic, therapist, n_patients, rng, now)
        assessments: list[Assessment] = []
        sessions: list[TherapySession] = []
        logs: list[HomeExerciseLog] = []
        span_days = months * 30
        discharged: list[int] = []
        for patient in patients:
            start = (now - dt.timedelta(days=14 + int(rng.integers(0, span_days)))).astimezone(
                ZoneInfo(patient.time_zone)
            )
            story = _Story(patient, start.date(), now, rng)
            components = _plan(actor, patient, story, rng)
            assessments += story.diary()
            sessions += story.sessions(components)
            logs += story.home_logs(components)
            if story.last_day < now.astimezone(story.zone).date() - DISCHARGE_AFTER:
                discharged.append(patient.pk)
        Assessment.objects.bulk_create(assessments, batch_size=2000)
        TherapySession.objects.bulk_create(sessions, batch_size=2000)
        HomeExerciseLog.objects.bulk_create(logs, batch_size=2000)
        # Courses that ended (or were abandoned) weeks ago are discharged, as a clinic would:
        # their records stay in the outcomes, and the worklist shows the patients in care.
        Patient.objects.filter(pk__in=discharged).update(is_active=False, updated_at=now)
        for patient_id in discharged:
            audit_event_record(
                actor=actor,
                action="update",
                object_type="patient",
                patient_id=patient_id,
                clinic_id=clinic.pk,
                detail={"changes": {"is_active": [True, False]}, "synthetic": True},
            )
    nrs_weeks_rebuild([p.pk for p in patients])
    return len(patients)


def _patients(
    clinic: Clinic, therapist: AbstractBaseUser, n: int, rng: np.random.Generator, now: dt.datetime
) -> list[Patient]:
    codes = list(DIAGNOSES)
    weights = np.array([share for share, _effect in DIAGNOSES.values()])
    zone_weights = np.array([w for _z, _l, w in ZONES])
    rows = []
    for number in range(1, n + 1):
        diagnosis = codes[int(rng.choice(len(codes), p=weights / weights.sum()))]
        diagnoses = ["clbp", diagnosis] if diagnosis == "lumbar_radiculopathy" else [diagnosis]
        zone, language, _w = ZONES[int(rng.choice(len(ZONES), p=zone_weights / zone_weights.sum()))]
        side = (
            "bilateral"
            if diagnosis == "dpn"
            else ("none" if diagnosis == "clbp" else str(rng.choice(["left", "right"])))
        )
        en, zh = TRIGGERS[diagnosis][int(rng.integers(0, len(TRIGGERS[diagnosis])))]
        rows.append(
            Patient(
                clinic=clinic,
                display_name=f"Synthetic patient {number:03d}",
                is_synthetic=True,
                sex=str(rng.choice(["female", "male"])),
                birth_year=int(now.year - rng.integers(25, 80)),
                diagnoses=diagnoses,
                affected_side=side,
                pain_onset=(now - dt.timedelta(days=int(rng.integers(120, 2000)))).date(),
                pain_trigger=zh if language == "zh-hans" else en,
                time_zone=zone,
                language=language,
            )
        )
    patients = Patient.objects.bulk_create(rows)
    if not all(p.pk for p in patients):  # backends that return no keys from bulk_create
        patients = list(Patient.objects.filter(clinic=clinic, is_synthetic=True).order_by("id"))
    CareTeamMember.objects.bulk_create(
        [CareTeamMember(patient=p, user=therapist, is_primary=True) for p in patients]  # type: ignore[misc]
    )
    Consent.objects.bulk_create(
        [
            Consent(patient=p, kind=kind, granted=True, document_version="1", note="synthetic")
            for p in patients
            for kind in ("treatment", "data_processing", "reminders")
        ]
    )
    actor = Actor.system("seed_demo")
    for patient in patients:
        audit_event_record(
            actor=actor, action="create", object_type="patient", patient=patient, detail={"synthetic": True}
        )
    return patients


def _plan(actor: Actor, patient: Patient, story: _Story, rng: np.random.Generator) -> list[PlanComponent]:
    """The diagnosis's demo plan, with the central component left out for about a third
    of the patients so that the modality comparison has two arms."""
    components = therapies_demo.components_for(patient)
    central = {"tdcs", "rtms"}
    if any(c["modality"] in central for c in components) and rng.random() < 0.35:
        components = [c for c in components if c["modality"] not in central]
    story.central = any(c["modality"] in central for c in components)
    plan = plan_version_create(
        actor=actor,
        patient=patient,
        expected_version=None,
        reason="Synthetic demo plan",
        components=components,
        start_date=story.start,
        now=dt.datetime.combine(story.start, dt.time(9), tzinfo=ZoneInfo(patient.time_zone)),
    )
    return list(plan.components.all())


class _Story:
    """One synthetic patient's course: how much relief, how diligent, when they stop."""

    def __init__(self, patient: Patient, start: dt.date, now: dt.datetime, rng: np.random.Generator) -> None:
        self.patient = patient
        self.start = start
        self.now = now
        self.rng = rng
        self.zone = ZoneInfo(patient.time_zone)
        self.central = False
        today = now.astimezone(self.zone).date()
        self.days = min((today - start).days, MAX_FOLLOW_UP_DAYS)
        if rng.random() < 0.15:  # drop-out between week 2 and week 10
            self.days = min(self.days, int(rng.integers(14, 70)))
        self.diligence = float(rng.beta(8, 2))
        self.baseline = float(np.clip(rng.normal(7.0, 1.1), 4.0, 10.0))
        self.tau_weeks = float(rng.uniform(2.0, 5.0))
        self._relief: float | None = None

    @property
    def last_day(self) -> dt.date:
        return self.start + dt.timedelta(days=self.days)

    @property
    def relief(self) -> float:
        if self._relief is None:
            specific = next((code for code in self.patient.diagnoses if code != "clbp"), "clbp")
            mean = DIAGNOSES[specific][1] + (CENTRAL_BONUS if self.central else 0.0)
            self._relief = float(np.clip(self.rng.normal(mean, 0.2), -0.2, 0.85))
        return self._relief

    def expected_nrs(self, day: int) -> float:
        return self.baseline * (1.0 - self.relief * (1.0 - math.exp(-day / 7.0 / self.tau_weeks)))

    def at(self, day: int, hour: int) -> dt.datetime:
        minute = int(self.rng.integers(0, 60))
        local = dt.datetime.combine(self.start + dt.timedelta(days=day), dt.time(hour, minute), tzinfo=self.zone)
        return min(local, self.now - dt.timedelta(minutes=1))

    def _entry(self, instrument: str, day: int, answers: dict[str, Any], hour: int, source: str) -> Assessment:
        result = get_instrument(instrument).score(answers)
        when = self.at(day, hour)
        return Assessment(
            patient=self.patient,
            instrument=instrument,
            answers=result.answers,
            total=result.total,
            band=result.band or "",
            flags=list(result.flags),
            detail={**result.detail, "synthetic": True},
            recorded_at=when,
            received_at=when + dt.timedelta(minutes=2),
            client_uuid=_uid(self.patient.pk, instrument, day),
            source=source,
        )

    def diary(self) -> list[Assessment]:
        rng = self.rng
        out: list[Assessment] = []
        neuropathic = self.patient.is_neuropathic
        lumbar = "clbp" in self.patient.diagnoses
        for day in range(self.days + 1):
            progress = 1.0 - math.exp(-day / 7.0 / self.tau_weeks)
            if rng.random() < self.diligence:
                score = int(np.clip(round(self.expected_nrs(day) + rng.normal(0, 0.8)), 0, 10))
                out.append(self._entry("nrs", day, {"score": score, "recall": "average_24h"}, 20, Source.PATIENT))
            if day % 14 == 0:
                mood = max(0.0, 1.0 - progress * max(self.relief, 0.0) * 1.5)
                phq: dict[str, Any] = {
                    f"item{i}": int(np.clip(round(rng.normal(1.4 * mood, 0.5)), 0, 3)) for i in range(1, 9)
                }
                phq["item9"] = 0
                out.append(self._entry("phq9", day, phq, 19, Source.PATIENT))
                gad = {f"item{i}": int(np.clip(round(rng.normal(1.2 * mood, 0.5)), 0, 3)) for i in range(1, 8)}
                out.append(self._entry("gad7", day, gad, 19, Source.PATIENT))
            if lumbar and day % 28 == 0:
                level = 2.6 * (1.0 - 0.6 * progress * max(self.relief, 0.0))
                odi = {f"section{i}": int(np.clip(round(rng.normal(level, 0.7)), 0, 5)) for i in range(1, 11)}
                out.append(self._entry("odi", day, odi, 19, Source.PATIENT))
            if neuropathic and day % 28 == 0:
                chance = 0.75 - 0.4 * progress * max(self.relief, 0.0)
                dn4 = {key: bool(rng.random() < chance) for key in DN4_INTERVIEW}
                out.append(self._entry("dn4", day, dn4, 18, Source.PATIENT))
            if neuropathic and day % 28 == 3:
                out.append(self._entry("thermal", day, self._thermal(progress), 10, Source.CLINICIAN))
        return out

    def _thermal(self, progress: float) -> dict[str, Any]:
        rng = self.rng
        side = self.patient.affected_side if self.patient.affected_side in ("left", "right") else "left"
        delta = 1.7 * (1.0 - progress * max(self.relief, 0.0) * 1.6)
        base = 30.5 + rng.normal(0, 0.3)
        rois = []
        for region in ("dorsum of foot", "lateral calf"):
            d = round(-max(0.0, delta + rng.normal(0, 0.2)), 1)
            left, right = (base + d, base) if side == "left" else (base, base + d)
            rois.append({"region": region, "left_c": round(left, 1), "right_c": round(right, 1)})
        return {"rois": rois, "ambient_c": 23.0, "acclimatisation_min": 15, "affected_side": side}

    def _days_of(self, component: PlanComponent) -> Sequence[int]:
        """The component's session days: its weekly frequency spread over each week."""
        per_week = max(1, min(7, component.frequency_per_week))
        last = min(self.days, component.duration_weeks * 7 - 1)
        return [d for d in range(last + 1) if (d % 7) * per_week // 7 != ((d % 7) + 1) * per_week // 7]

    def sessions(self, components: Sequence[PlanComponent]) -> list[TherapySession]:
        out: list[TherapySession] = []
        for component in components:
            if component.modality in HOME_MODALITIES:
                continue
            for day in self._days_of(component):
                if self.rng.random() > min(1.0, self.diligence + 0.1):
                    continue
                when = self.at(day, 10)
                out.append(
                    TherapySession(
                        patient=self.patient,
                        component=component,
                        modality=component.modality,
                        delivered_at=when,
                        parameters=component.parameters,
                        derived=component.derived,
                        tolerance="good",
                        client_uuid=_uid(self.patient.pk, "session", component.pk, day),
                        recorded_at=when + dt.timedelta(minutes=30),
                    )
                )
        return out

    def home_logs(self, components: Sequence[PlanComponent]) -> list[HomeExerciseLog]:
        out: list[HomeExerciseLog] = []
        for component in components:
            if component.modality not in HOME_MODALITIES:
                continue
            for day in self._days_of(component):
                done = bool(self.rng.random() < self.diligence)
                out.append(
                    HomeExerciseLog(
                        patient=self.patient,
                        component=component,
                        date=self.start + dt.timedelta(days=day),
                        done=done,
                        minutes=int(component.parameters.get("minutes") or 0) or None if done else None,
                        client_uuid=_uid(self.patient.pk, "home", component.pk, day),
                        logged_at=self.at(day, 21),
                    )
                )
        return out
